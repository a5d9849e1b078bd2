#!/bin/sh
# plots.sh: the standard plots of a sweep as PNG (gnuplot).  Runs a small default sweep unless given a CSV.
# usage: sh analysis/plots.sh [BIN [OUTDIR [SWEEP_CSV]]]     (defaults: build/switchsim build/plots)
# Environment: PLOTS_PLATFORM (topologies/tpuv3-4x4.xml), PLOTS_MODEL (switch-base: the model plotted),
# PLOTS_T5 (t5-base), PLOTS_CFS (0.5,0.75,1,1.25,1.5,2,3,4), PLOTS_JOBS (2), PLOTS_A2A_CSV (all-to-all scaling
# data).  The parity plots are analysis/parity.sh ('make parity').
# Configurations that differ in more than top-k, capacity factor and seed (dispatch, platform, plan, precision,
# impl, ...) are drawn as lines of their own, named in the legend; only seeds are averaged.
# Anything missing (gnuplot, the binary, 'run', the platform, scaling data) is said and skipped: exit 0.
set -u
BIN=${1:-build/switchsim}
OUT=${2:-build/plots}
CSV=${3:-}
CSV_GIVEN=$CSV
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
if [ -z "$plan" ]; then
    models=$(awk "$AWK_COLS"' $c["scope"] == "step" && !($c["model"] in m) { m[$c["model"]]; printf "%s%s", n++ ? " " : "", $c["model"] }' "$CSV")
    echo "plots: $CSV has no step row of $MODEL (the model plotted; its models: ${models:-none}): choose one with" >&2
    echo "plots: PLOTS_MODEL=NAME sh analysis/plots.sh $BIN $OUT $CSV" >&2
    exit 1
fi
# One line per configuration: the columns (other than top_k, capacity_factor and seed) whose values differ
# among the model's step rows name each line ("dispatch=exact;a2a=direct"); "all" when none differs.  plot.csv is the CSV
# with that name as a last column 'line'.
LINECOLS="platform cores data model_par routing dispatch a2a tokens_per_batch precision impl"
PLOT=$OUT/plot.csv
{ head -1 "$CSV" | tr -d '\r' | sed 's/$/,line/'
awk -v m="$MODEL" -v cols="$LINECOLS" "$AWK_COLS"'
    { row[NR] = $0 }
    $c["model"] == m && $c["scope"] == "step" { nc = split(cols, cn, " ")
        for (j = 1; j <= nc; j++) { v = $c[cn[j]]; if (cn[j] == "platform") { n = split(v, p, "/"); v = p[n] }
            val[NR, j] = v; if (!((j, v) in seen)) { seen[j, v]; ndist[j]++ } }
        step[NR] = 1 }
    END { nc = split(cols, cn, " ")
        for (i = 2; i <= NR; i++) { l = ""
            if (i in step) { for (j = 1; j <= nc; j++) if (ndist[j] > 1) l = l (l == "" ? "" : ";") cn[j] "=" val[i, j]
                             if (l == "") l = "all" }
            else l = "-"
            print row[i] "," l } }' "$CSV"; } > "$PLOT"
lines=$(awk "$AWK_COLS"' $c["line"] != "-" { l = $c["line"]; if (!(l in s)) { s[l]; printf "%s%s", n++ ? " " : "", l } }' "$PLOT")
differ=$(printf '%s\n' "$lines" | tr ' ;' '\n\n' | sed -n 's/=.*//p' | sort -u | tr '\n' ' ' | sed 's/ $//')
if [ -n "$differ" ]; then
    echo "plots: $MODEL's rows differ in: $differ; one line each: $lines" >&2
    case " $differ " in *" data "*|*" model_par "*) plan="several (see legend)" ;; esac
    case " $differ " in *" platform "*) platform="several platforms (see legend)" ;; esac
fi
t5=$(awk "$AWK_COLS"' $c["model"] ~ /^t5/ && $c["scope"] == "step" {
    s += $c["step_time_s"]; e += $c["examples_per_s"]; n++; m = $c["model"] }
    END { if (n > 0) printf "t5_step_s=%.9g; t5_eps=%.9g; t5_model=\"%s\"", s / n, e / n, m }' "$CSV")

padded=$(awk -v m="$MODEL" "$AWK_COLS"' $c["model"] == m && $c["scope"] == "step" && $c["dispatch"] == "padded" { print "yes"; exit }' "$CSV")
vars="model='$MODEL'; platform='$platform'; plan='$plan'; term='$PNG'; lines='$lines'"
gnuplot -e "csv='$PLOT'; out='$OUT/cf_tradeoff.png'; $vars; $t5" "$GP/cf_tradeoff.gp" || exit 1
gnuplot -e "csv='$PLOT'; out='$OUT/comm.png'; $vars; padded='$padded'" "$GP/comm.gp" || exit 1

# Step-time shares per (top-k, capacity factor), seeds averaged, in that order.
awk -v m="$MODEL" "$AWK_COLS"' $c["model"] == m && $c["scope"] == "step" && $c["step_time_s"] > 0 {
    l = $c["line"]; key = $c["top_k"] " " $c["capacity_factor"] " " l
    if (!(key in n)) order[++nk] = key
    n[key]++; t = $c["step_time_s"]
    s1[key] += 100 * $c["compute_s"] / t; s2[key] += 100 * $c["router_s"] / t
    s3[key] += 100 * $c["dispatch_combine_s"] / t; s4[key] += 100 * $c["a2a_s"] / t
    s5[key] += 100 * $c["allreduce_s"] / t; s6[key] += 100 * $c["idle_s"] / t }
    END { for (i = 1; i <= nk; i++) { k = order[i]; split(k, kc, " "); q = n[k]
        printf "%s %s %s \"k=%s cf=%s%s\" %.6g %.6g %.6g %.6g %.6g %.6g\n", kc[3], kc[1], kc[2], kc[1], kc[2],
            kc[3] == "all" ? "" : " " kc[3], s1[k] / q, s2[k] / q, s3[k] / q, s4[k] / q, s5[k] / q, s6[k] / q } }' "$PLOT" \
    | sort -k1,1 -k2,2n -k3,3g | cut -d' ' -f4- > "$OUT/shares.dat"
gnuplot -e "dat='$OUT/shares.dat'; out='$OUT/shares.png'; $vars" "$GP/shares.gp" || exit 1

# All-to-all scaling: needs cores,algorithm,a2a_s,bisection_s rows ('validate --a2a-csv').  Made once per binary:
# the file made is kept with the binary's checksum beside it, and remade when the binary changes.
A2A=${PLOTS_A2A_CSV:-}
if [ -z "$A2A" ] && [ -x "$BIN" ]; then
    A2A=$OUT/a2a_scaling.csv
    key=$(cksum < "$BIN")
    if [ -f "$A2A" ] && [ "$(cat "$A2A.key" 2>/dev/null)" = "$key" ]; then
        echo "plots: all-to-all scaling: reusing $A2A (made by this same $BIN)" >&2
    else
        echo "plots: all-to-all scaling: $BIN validate --a2a-only --a2a-csv $A2A" >&2
        rm -f "$A2A" "$A2A.key"
        "$BIN" validate --a2a-only --a2a-csv "$A2A" >/dev/null 2>&1 && echo "$key" > "$A2A.key" || rm -f "$A2A"
    fi
fi
if [ -z "$A2A" ] || [ ! -f "$A2A" ]; then
    echo "plots: skipped a2a_scaling.png: no all-to-all scaling data (${A2A:-no binary to make it})" >&2
elif ! head -1 "$A2A" | tr -d '\r' | tr ',' '\n' | grep -qx cores \
    || ! head -1 "$A2A" | tr -d '\r' | tr ',' '\n' | grep -qx algorithm \
    || ! head -1 "$A2A" | tr -d '\r' | tr ',' '\n' | grep -qx a2a_s \
    || ! head -1 "$A2A" | tr -d '\r' | tr ',' '\n' | grep -qx bisection_s; then
    echo "plots: skipped a2a_scaling.png: $A2A lacks one of the columns cores,algorithm,a2a_s,bisection_s" >&2
else
    gnuplot -e "csv='$A2A'; out='$OUT/a2a_scaling.png'; term='$PNG'" "$GP/a2a_scaling.gp" || exit 1
fi
# All-to-all bytes and time against top-k at equal activated parameters on 8 GPUs: mixtral-8x7b, dropless,
# experts d_ff_expert x 2 / k wide (--same-active); made by its own small sweep (about 10 s), default run only.
KP=topologies/h200-8gpu.xml
if [ -n "$CSV_GIVEN" ] || [ ! -x "$BIN" ] || [ ! -f "$KP" ]; then
    echo "plots: skipped k_bytes.png (it is made by the default run, with $BIN and $KP)" >&2
elif "$BIN" sweep --platform "$KP" --model mixtral-8x7b --top-k 1,2,4,8 --dispatch dropless --run-arg=--same-active \
        --run-arg=--tokens-per-batch --run-arg=32768 --csv "$OUT/k_bytes.csv" --jobs "$JOBS" >/dev/null 2>&1; then
    awk "$AWK_COLS"' $c["scope"] == "step" { print $c["top_k"], $c["a2a_bytes_per_core"] / 1e6, $c["a2a_s"] * 1e3 }' \
        "$OUT/k_bytes.csv" | sort -n > "$OUT/k_bytes.dat"
    gnuplot -e "dat='$OUT/k_bytes.dat'; out='$OUT/k_bytes.png'; term='$PNG'" "$GP/k_bytes.gp" || exit 1
else
    echo "plots: skipped k_bytes.png: the top-k sweep on $KP failed" >&2
fi
ls "$OUT"/*.png | sed 's/^/plots: wrote /' >&2
