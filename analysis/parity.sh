#!/bin/sh
# parity.sh: the parity plots of 'switchsim validate' as PNG (gnuplot): parity.png (every measured and
# calibration row, log-log, y = x, +/-10%), gpu_parity.png (the H200 rows alone), torch_parity.png (the H100
# PyTorch rows alone) and k_active.png (their step against top-k at equal activated parameters).
# usage: sh analysis/parity.sh [BIN [OUTDIR]]     (defaults: build/switchsim build/plots; 'make parity')
# PLOTS_VALIDATE_CSV=FILE plots the rows of 'validate --csv FILE' instead of making them.
# The rows come from the whole report (about 2 minutes), so they are kept in OUTDIR/validate.csv with a key
# beside it (validate.key: the checksums of BIN and of the data it reads: data/, models/, topologies/); they are
# reused, and that is said, only while the key is the same, so a rebuilt binary or an edited dataset remakes them.
# Anything missing (gnuplot, the binary) is said and skipped: exit 0.
set -u
BIN=${1:-build/switchsim}
OUT=${2:-build/plots}
GP=$(dirname "$0")
skip() { echo "parity: skipped: $*" >&2; exit 0; }
mkdir -p "$OUT" || exit 1
command -v gnuplot >/dev/null 2>&1 || skip "gnuplot is not installed (apt-get install gnuplot-nox)"
terms=$(gnuplot -e 'set terminal' 2>&1)
if echo "$terms" | grep -qw pngcairo; then PNG=pngcairo
elif echo "$terms" | grep -qw png; then PNG=png
else skip "this gnuplot has neither the pngcairo nor the png terminal"; fi

VAL=${PLOTS_VALIDATE_CSV:-}
if [ -z "$VAL" ]; then
    [ -x "$BIN" ] || skip "$BIN is not built (make $BIN)"
    VAL=$OUT/validate.csv
    key=$(cat "$BIN" data/*.csv models/*.csv topologies/*.xml 2>/dev/null | cksum)
    if [ -f "$VAL" ] && [ "$(cat "$VAL.key" 2>/dev/null)" = "$key" ]; then
        echo "parity: reusing $VAL (made by this same $BIN from the same data/, models/ and topologies/ files)" >&2
    else
        [ -f "$VAL" ] && echo "parity: $VAL is stale (the binary or its data changed): remaking it" >&2
        echo "parity: $BIN validate --csv $VAL (the whole report: about 2 minutes)" >&2
        rm -f "$VAL" "$VAL.key"
        start=$(date +%s)
        # the CSV is written whenever every row could run, FAILs included, so a failing row is drawn too
        "$BIN" validate --csv "$VAL" > "$OUT/validate.txt" 2>&1
        if [ -f "$VAL" ]; then
            echo "$key" > "$VAL.key"
            echo "parity: validate took $(( $(date +%s) - start )) s (its report: $OUT/validate.txt)" >&2
        else
            skip "validate wrote no rows (its report: $OUT/validate.txt)"
        fi
    fi
fi
[ -f "$VAL" ] || { echo "parity: $VAL: no such file" >&2; exit 1; }
gnuplot -e "csv='$VAL'; out='$OUT/parity.png'; term='$PNG'" "$GP/parity.gp" || exit 1
gnuplot -e "csv='$VAL'; out='$OUT/gpu_parity.png'; term='$PNG'; group='h200-steps|h200-ep-steps'; title_extra=', H200s'; xlab='measured step time on one H200 (s)'; ylab='switchsim step time (s)'" \
    "$GP/parity.gp" || exit 1
gnuplot -e "csv='$VAL'; out='$OUT/torch_parity.png'; term='$PNG'; group='h100-moe-steps'; title_extra=', PyTorch on an H100'; xlab='measured step time on one H100 (s)'; ylab='switchsim step time (s)'" \
    "$GP/parity.gp" || exit 1
# the equal-activated-parameter series f-e8k1 .. f-e64k8 of each family: family,k,measured,predicted
awk -F, '$3 == "h100-moe-steps" && $4 ~ /^[abc]-e(8k1|16k2|32k4|64k8) step time$/ {
    split($4, w, " "); n = w[1]; k = substr(n, index(n, "k") + 1)
    print substr(n, 1, 1) "," k "," $7 "," $6 }' "$VAL" | sort -t, -k1,1 -k2,2n > "$OUT/k_active.csv"
gnuplot -e "dat='$OUT/k_active.csv'; out='$OUT/k_active.png'; term='$PNG'" "$GP/k_active.gp" || exit 1
echo "parity: wrote $OUT/parity.png $OUT/gpu_parity.png $OUT/torch_parity.png $OUT/k_active.png" >&2
