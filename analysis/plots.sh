#!/bin/sh
# plots.sh: the standard plots as PNG (gnuplot).  Runs a small default sweep unless given a CSV.
# usage: sh analysis/plots.sh [BIN [OUTDIR [SWEEP_CSV]]]     (defaults: build/switchsim build/plots)
# Environment: PLOTS_PLATFORM (topologies/tpuv3-4x4.xml), PLOTS_MODEL (switch-base), PLOTS_T5 (t5-base),
# PLOTS_CFS (0.5,0.75,1,1.25,1.5,2,3,4), PLOTS_JOBS (2), PLOTS_A2A_CSV (all-to-all scaling data),
# PLOTS_VALIDATE_CSV ('validate --csv' rows for the parity plots).
# Anything missing (gnuplot, the binary, 'run', the platform, scaling data) is said and skipped: exit 0.
set -u
BIN=${1:-build/switchsim}
OUT=${2:-build/plots}
CSV=${3:-}
PLATFORM=${PLOTS_PLATFORM:-topologies/tpuv3-4x4.xml}
MODEL=${PLOTS_MODEL:-switch-base}
T5=${PLOTS_T5:-t5-base}
CFS=${PLOTS_CFS:-0.5,0.75,1,1.25,1.5,2,3,4}
JOBS=${PLOTS_JOBS:-2}
GP=$(dirname "$0")

skip() { echo "plots: skipped: $*" >&2; exit 0; }
mkdir -p "$OUT" || exit 1
command -v gnuplot >/dev/null 2>&1 || skip "gnuplot is not installed (apt-get install gnuplot-nox)"
terms=$(gnuplot -e 'set terminal' 2>&1)
if echo "$terms" | grep -qw pngcairo; then PNG=pngcairo
elif echo "$terms" | grep -qw png; then PNG=png
else skip "this gnuplot has neither the pngcairo nor the png terminal"; fi

if [ -z "$CSV" ]; then
    [ -x "$BIN" ] || skip "$BIN is not built (make $BIN)"
    [ -f "$PLATFORM" ] || skip "platform $PLATFORM is missing (make platforms)"
    rm -f "$OUT/sweep-$MODEL.csv" "$OUT/t5.csv"
    echo "plots: sweep of $MODEL on $PLATFORM, top-k 1,2, capacity factors $CFS" >&2
    "$BIN" sweep --platform "$PLATFORM" --model "$MODEL" --top-k 1,2 --capacity-factor "$CFS" \
        --csv "$OUT/sweep-$MODEL.csv" --jobs "$JOBS" || { echo "plots: the sweep failed" >&2; exit 1; }
    parts="$OUT/sweep-$MODEL.csv"
    if "$BIN" run --platform "$PLATFORM" --model "$T5" --csv "$OUT/t5.csv" >/dev/null; then
        parts="$parts $OUT/t5.csv"
    else
        echo "plots: no T5 reference line ('$BIN run --model $T5' failed)" >&2
    fi
    CSV=$OUT/sweep.csv
    # shellcheck disable=SC2086
    "$BIN" merge $parts --csv "$CSV" || exit 1
fi
[ -f "$CSV" ] || { echo "plots: $CSV: no such file" >&2; exit 1; }

# Columns by name (the CSV's strings are assumed to hold no commas, as presets and paths do).
AWK_COLS='BEGIN { FS = "," } NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }'
plan=$(awk -v m="$MODEL" "$AWK_COLS"' $c["model"] == m && $c["scope"] == "step" {
    print "data=" $c["data"] ",model=" $c["model_par"]; exit }' "$CSV")
platform=$(awk -v m="$MODEL" "$AWK_COLS"' $c["model"] == m && $c["scope"] == "step" {
    n = split($c["platform"], p, "/"); print p[n]; exit }' "$CSV")
[ -n "$plan" ] || { echo "plots: $CSV has no step row of $MODEL" >&2; exit 1; }
t5=$(awk "$AWK_COLS"' $c["model"] ~ /^t5/ && $c["scope"] == "step" {
    s += $c["step_time_s"]; e += $c["examples_per_s"]; n++; m = $c["model"] }
    END { if (n > 0) printf "t5_step_s=%.9g; t5_eps=%.9g; t5_model=\"%s\"", s / n, e / n, m }' "$CSV")

vars="model='$MODEL'; platform='$platform'; plan='$plan'; term='$PNG'"
gnuplot -e "csv='$CSV'; out='$OUT/cf_tradeoff.png'; $vars; $t5" "$GP/cf_tradeoff.gp" || exit 1
gnuplot -e "csv='$CSV'; out='$OUT/comm.png'; $vars" "$GP/comm.gp" || exit 1

# Step-time shares per (top-k, capacity factor), seeds averaged, in that order.
awk -v m="$MODEL" "$AWK_COLS"' $c["model"] == m && $c["scope"] == "step" && $c["step_time_s"] > 0 {
    key = $c["top_k"] " " $c["capacity_factor"]
    if (!(key in n)) order[++nk] = key
    n[key]++; t = $c["step_time_s"]
    s1[key] += 100 * $c["compute_s"] / t; s2[key] += 100 * $c["router_s"] / t
    s3[key] += 100 * $c["dispatch_combine_s"] / t; s4[key] += 100 * $c["a2a_s"] / t
    s5[key] += 100 * $c["allreduce_s"] / t; s6[key] += 100 * $c["idle_s"] / t }
    END { for (i = 1; i <= nk; i++) { k = order[i]; split(k, kc, " "); q = n[k]
        printf "%s %s \"k=%s cf=%s\" %.6g %.6g %.6g %.6g %.6g %.6g\n", kc[1], kc[2], kc[1], kc[2],
            s1[k] / q, s2[k] / q, s3[k] / q, s4[k] / q, s5[k] / q, s6[k] / q } }' "$CSV" \
    | sort -k1,1n -k2,2g | cut -d' ' -f3- > "$OUT/shares.dat"
gnuplot -e "dat='$OUT/shares.dat'; out='$OUT/shares.png'; $vars" "$GP/shares.gp" || exit 1

# All-to-all scaling: needs cores,algorithm,a2a_s,bisection_s rows ('validate --a2a-csv').
A2A=${PLOTS_A2A_CSV:-$OUT/a2a_scaling.csv}
if [ ! -f "$A2A" ] && [ -x "$BIN" ]; then
    echo "plots: all-to-all scaling: $BIN validate --a2a-only --a2a-csv $A2A" >&2
    "$BIN" validate --a2a-only --a2a-csv "$A2A" >/dev/null 2>&1 || rm -f "$A2A"
fi
if [ ! -f "$A2A" ]; then
    echo "plots: skipped a2a_scaling.png: no all-to-all scaling data ($A2A)" >&2
elif ! head -1 "$A2A" | tr -d '\r' | tr ',' '\n' | grep -qx cores \
    || ! head -1 "$A2A" | tr -d '\r' | tr ',' '\n' | grep -qx algorithm \
    || ! head -1 "$A2A" | tr -d '\r' | tr ',' '\n' | grep -qx a2a_s \
    || ! head -1 "$A2A" | tr -d '\r' | tr ',' '\n' | grep -qx bisection_s; then
    echo "plots: skipped a2a_scaling.png: $A2A lacks one of the columns cores,algorithm,a2a_s,bisection_s" >&2
else
    gnuplot -e "csv='$A2A'; out='$OUT/a2a_scaling.png'; term='$PNG'" "$GP/a2a_scaling.gp" || exit 1
fi
# Parity: every measured row of 'validate --csv' (about a minute: the whole report; the CSV is written whenever
# every row could run, FAILs included, so a failing row is drawn too).  gpu_parity.png: the H200 rows alone.
VAL=${PLOTS_VALIDATE_CSV:-$OUT/validate.csv}
if [ ! -f "$VAL" ] && [ -x "$BIN" ]; then
    echo "plots: parity: $BIN validate --csv $VAL" >&2
    "$BIN" validate --csv "$VAL" >/dev/null 2>&1 || [ -f "$VAL" ] || rm -f "$VAL"
fi
if [ -f "$VAL" ]; then
    gnuplot -e "csv='$VAL'; out='$OUT/parity.png'; term='$PNG'" "$GP/parity.gp" || exit 1
    gnuplot -e "csv='$VAL'; out='$OUT/gpu_parity.png'; term='$PNG'; group='h200-steps|h200-ep-steps'; title_extra=', H200s'" \
        "$GP/parity.gp" || exit 1
else
    echo "plots: skipped parity.png: no validate rows ($VAL)" >&2
fi
ls "$OUT"/*.png | sed 's/^/plots: wrote /' >&2
