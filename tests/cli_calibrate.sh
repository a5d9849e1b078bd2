#!/bin/sh
# CLI contract of 'calibrate' and 'validate --gpu-only' ($1 = the switchsim binary): --help, bad usage (exit 2),
# bad measured datasets (exit 1, measured_load's exact message naming file, line, column and value), a fit on
# a 12-row tiny dataset (a few seconds), and the labelled rows of the shipped H200 dataset (~20 s).
set -e
BIN=$1
. tests/lib_cli.sh
D=tests/data/measured_
P=topologies/h200-1gpu.xml
E="switchsim: error: calibrate:"

# --help documents every option, exit 0; bad usage exits 2
"$BIN" calibrate --help > "$TMPD/help" || { echo "calibrate --help failed"; exit 1; }
for o in "usage: switchsim calibrate" --dataset --platform --quiet mm_efficiency hbm_efficiency op_overhead_s \
    optimizer_bytes_per_param "Exit codes"; do
    grep -q -- "$o" "$TMPD/help" || { echo "calibrate --help lacks $o"; exit 1; }
done
expect_fail 2 "$E unknown option '--bogus' (switchsim calibrate --help lists the options)" - -- "$BIN" calibrate --bogus
expect_fail 2 "$E option '--dataset' needs a value (switchsim calibrate --help lists the options)" - -- "$BIN" calibrate --dataset
expect_fail 2 "$E unexpected argument 'extra'" - -- "$BIN" calibrate extra
for o in --torch grouped_mm_efficiency data/h100-moe-steps.csv; do
    grep -q -- "$o" "$TMPD/help" || { echo "calibrate --help lacks $o"; exit 1; }
done
expect_fail 2 "$E --torch fits on the H100 preset; --platform is not read" - -- "$BIN" calibrate --torch --platform $P
# --torch: the PyTorch dataset's loader messages (the fit itself runs for minutes: 'make calibrate-torch' checks
# that the presets hold what it prints)
expect_fail 1 "$E $TMPD/none.csv: cannot open: No such file or directory" - -- \
    "$BIN" calibrate --torch --dataset $TMPD/none.csv --quiet
expect_fail 1 "$E ${D}good_tiny.csv:1: missing column 'family'" - -- "$BIN" calibrate --torch --dataset ${D}good_tiny.csv
expect_fail 2 "switchsim: error: validate: --a2a-only and --gpu-only exclude each other" - -- \
    "$BIN" validate --a2a-only --gpu-only

# bad datasets (three rows, one calibration, one fault each; the fault is on the 2nd or 3rd data row)
expect_fail 1 "$E ${D}bad_split.csv:4: column 'split' must be 'calibration' or 'holdout', got 'train'" - -- \
    "$BIN" calibrate --dataset ${D}bad_split.csv --quiet
expect_fail 1 "$E ${D}bad_step.csv:3: column 'step_ms' must be a number > 0, got '4.2ms'" - -- \
    "$BIN" calibrate --dataset ${D}bad_step.csv --quiet
expect_fail 1 "$E ${D}step_range.csv:4: column 'step_ms' must lie between step_min_ms and step_max_ms (4.1..4.3), got '4.4'" - -- \
    "$BIN" calibrate --dataset ${D}step_range.csv --quiet
expect_fail 1 "$E ${D}too_many_cal.csv: 2 of 3 rows are calibration rows; at most a third may be" - -- \
    "$BIN" calibrate --dataset ${D}too_many_cal.csv --quiet
expect_fail 1 "$E ${D}missing_split.csv:1: missing column 'split'" - -- \
    "$BIN" calibrate --dataset ${D}missing_split.csv --quiet
expect_fail 1 "$E ${D}bad_topk.csv:3: column 'top_k' must be an integer in [1, 8] (experts per token), got '9'" - -- \
    "$BIN" calibrate --dataset ${D}bad_topk.csv --quiet
expect_fail 1 "$E $TMPD/none.csv: cannot open: No such file or directory" - -- \
    "$BIN" calibrate --dataset $TMPD/none.csv --quiet
# a good dataset on a bad platform: missing, or not a GPU
expect_fail 1 "$E $TMPD/none.xml: cannot open: No such file or directory" - -- \
    "$BIN" calibrate --dataset ${D}good_tiny.csv --platform $TMPD/none.xml --quiet
expect_fail 1 "$E topologies/tpuv3-2x2.xml: calibration fits the GPU cost model's parameters; this is a tpuv3 platform" - -- \
    "$BIN" calibrate --dataset ${D}good_tiny.csv --platform topologies/tpuv3-2x2.xml --quiet
# from another folder the default dataset is still found (next to the binary), as run finds models/models.csv
ROOT=$(pwd)
case "$BIN" in /*) ABIN=$BIN ;; *) ABIN=$ROOT/$BIN ;; esac
expect_fail 1 "$E $ROOT/topologies/tpuv3-2x2.xml: calibration fits the GPU cost model's parameters; this is a tpuv3 platform" - -- \
    sh -c 'cd "$1" && exec "$2" calibrate --platform "$3" --quiet' sh "$TMPD" "$ABIN" "$ROOT/topologies/tpuv3-2x2.xml"
# 3 calibration rows of 9 (a third, allowed) are too few for 4 parameters
expect_fail 1 "$E calibration needs at least 4 calibration rows (4 parameters), the dataset has 3" - -- \
    "$BIN" calibrate --dataset ${D}three_cal.csv --platform $P --quiet

# a fit: 12 tiny models, 4 calibration rows (exactly a third).  Their step_ms are switchsim's own predictions
# with the shipped h200-1gpu numbers ('run --routing uniform --remat off', rounded to 1 us), so the fit reaches
# an rms ln error near 0 in ~110 evaluations.  --quiet: nothing on stderr; four parameter lines on stdout.
"$BIN" calibrate --dataset ${D}good_tiny.csv --platform $P --quiet > "$TMPD/fit" 2> "$TMPD/fit.err" ||
    { cat "$TMPD/fit" "$TMPD/fit.err"; echo "calibrate on ${D}good_tiny.csv failed"; exit 1; }
[ ! -s "$TMPD/fit.err" ] || { cat "$TMPD/fit.err"; echo "calibrate --quiet wrote on stderr"; exit 1; }
grep -qE "^fitted on the calibration rows of ${D}good_tiny.csv \([0-9]+ evaluations\), rms ln error 0\.00[0-9]{2}$" \
    "$TMPD/fit" || { cat "$TMPD/fit"; echo "calibrate: no summary line, or rms ln error >= 0.01"; exit 1; }
for p in mm_efficiency hbm_efficiency op_overhead_s optimizer_bytes_per_param; do
    grep -qE "^$p [0-9][0-9.e+-]*$" "$TMPD/fit" || { cat "$TMPD/fit"; echo "calibrate: no '$p VALUE' line"; exit 1; }
done
# the efficiencies stay in (0, 1], the time and byte count > 0
awk '$1 ~ /efficiency$/ && !($2 > 0 && $2 <= 1) { print "out of range: " $0; bad = 1 }
    ($1 == "op_overhead_s" || $1 == "optimizer_bytes_per_param") && !($2 > 0) { print "out of range: " $0; bad = 1 }
    END { exit bad }' "$TMPD/fit"
[ "$(wc -l < "$TMPD/fit")" = 5 ] || { cat "$TMPD/fit"; echo "calibrate: expected 5 lines"; exit 1; }

# validate --gpu-only: an unwritable --csv fails before any simulation (nothing on stdout) and leaves no file
expect_fail 1 "switchsim: error: validate: --csv: cannot write '$TMPD/nodir/x.csv': directory '$TMPD/nodir' is missing or not writable" \
    $TMPD/nodir/x.csv -- "$BIN" validate --gpu-only --csv $TMPD/nodir/x.csv
[ ! -s "$TMPD/stdout" ] || { cat "$TMPD/stdout"; echo "validate simulated before refusing --csv"; exit 1; }
# the rows of the shipped datasets, run from another directory (data files found next to the binary): one row per
# measured dataset row, names in order, held-out rows 'measured' and calibration rows 'calibration', each in its
# dataset's group and on its platform (h200-<n>gpu.xml for n GPUs); rows not measured yet are no rows; exit 0
ABS=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
(cd "$TMPD" && "$ABS" validate --gpu-only --csv gpu.csv > gpu.txt) || { cat $TMPD/gpu.txt; echo "validate --gpu-only failed"; exit 1; }
[ "$(head -1 $TMPD/gpu.csv)" = "label,class,group,name,unit,model,reference,reference_min,reference_max,error,tolerance,status,source,note" ] ||
    { head -1 $TMPD/gpu.csv; echo "validate --csv: wrong header"; exit 1; }
for ds in "h200-switch-steps.csv h200-steps" "h200-ep-steps.csv h200-ep-steps"; do
    DS=data/${ds%% *}
    awk -F, 'NR == 1 { for (j = 1; j <= NF; j++) c[$j] = j; next } $c["step_ms"] != "" {
        g = ("gpus" in c) ? $c["gpus"] : 1
        print ($c["split"] == "holdout" ? "measured" : "calibration") "," $1 " step time on h200-" g "gpu.xml" }' $DS > $TMPD/want.txt
    awk -F, -v grp="${ds#* }" 'NR > 1 && $3 == grp { print $1 "," $4 }' $TMPD/gpu.csv > $TMPD/got.txt
    [ -s $TMPD/want.txt ] && diff -u $TMPD/want.txt $TMPD/got.txt || { echo "validate --csv: names or labels differ from $DS"; exit 1; }
done
[ "$(tail -n +2 $TMPD/gpu.csv | wc -l)" = 87 ] || { echo "validate --csv: expected 35 + 14 + 38 measured rows"; exit 1; }
grep -q "not measured yet (no row)$" $TMPD/gpu.txt || { echo "validate: rows not measured yet are not printed"; exit 1; }
grep -q "^  measured: 67 rows, scored: mean |error| [0-9.]*%, max [0-9.]*% (.*); 2 repeats (a configuration measured twice counts once); 0 outside tolerance$" $TMPD/gpu.txt ||
    { cat $TMPD/gpu.txt; echo "validate: no measured summary line"; exit 1; }
# the two expert-parallel rows on one GPU that run the steps of two one-GPU rows count once, as repeats
[ "$(awk -F, '$12 == "REPEAT" { print $4 }' $TMPD/gpu.csv | tr '\n' ' ')" = \
    "epm-dense-x1 step time on h200-1gpu.xml epm-e32-x1 step time on h200-1gpu.xml " ] ||
    { grep REPEAT $TMPD/gpu.csv; echo "validate --csv: expected epm-dense-x1 and epm-e32-x1 as repeats"; exit 1; }
# accuracy class by class: 65 one-device steps scored (27 + 14 - 2 repeats + 26 PyTorch), 8 + 12 calibration;
# multi-device steps and collectives planned, none scored
grep -q "^  one-device steps     65 scored, mean |error| [0-9.]*%, max [0-9.]*% (.*); 20 calibration rows, not counted; 2 repeats$" $TMPD/gpu.txt &&
grep -q "^  multi-device steps    0 scored; 42 planned, not measured yet$" $TMPD/gpu.txt &&
grep -q "^  collectives           0 scored; 126 planned, not measured yet$" $TMPD/gpu.txt ||
    { cat $TMPD/gpu.txt; echo "validate: wrong accuracy per class"; exit 1; }
grep -q "^  calibration: 20 rows shown, not counted" $TMPD/gpu.txt || { echo "validate: no calibration summary line"; exit 1; }
# The shipped H200 preset is calibrate's output: the four fitted numbers calibrate prints at HEAD (on the shipped
# dataset and one-GPU platform; the fit starts from fixed values, not the platform's) equal, at the precision it
# prints them, the properties of the shipped h200-1gpu.xml and of the platform the generator writes now.  When the
# dataset or the cost model changes: put calibrate's numbers in the preset, then 'make platforms'.
"$BIN" calibrate --quiet > $TMPD/cal.txt || { cat $TMPD/cal.txt; echo "calibrate on the shipped dataset failed"; exit 1; }
grep -v '^fitted on' $TMPD/cal.txt > $TMPD/cal.want
"$BIN" topology --chip h200 --gpus-per-node 1 --out $TMPD/h200-now.xml
for xml in topologies/h200-1gpu.xml $TMPD/h200-now.xml; do
    awk -F'"' '/<prop id="(mm_efficiency|hbm_efficiency|op_overhead_s|optimizer_bytes_per_param)"/ { v[$2] = $4 }
        END { printf "mm_efficiency %.4f\nhbm_efficiency %.4f\nop_overhead_s %.4g\noptimizer_bytes_per_param %.2f\n",
                     v["mm_efficiency"], v["hbm_efficiency"], v["op_overhead_s"], v["optimizer_bytes_per_param"] }' \
        $xml > $TMPD/cal.got
    diff -u $TMPD/cal.want $TMPD/cal.got ||
        { echo "$xml: the H200 preset differs from what 'switchsim calibrate' prints (put its numbers in the preset, then make platforms)"; exit 1; }
done
# README.md shows the same output, under its '$ build/switchsim calibrate --quiet' line
awk '/^\$ build\/switchsim calibrate --quiet/ { on = 1; next } on && /^(\$ |```)/ { exit } on { print }' README.md > $TMPD/cal.readme
diff -u $TMPD/cal.txt $TMPD/cal.readme ||
    { echo "README.md: the calibrate output shown differs from what 'switchsim calibrate --quiet' prints"; exit 1; }
# the PyTorch dataset: every row predicted by the torch profile, the held-out rows within the targets
grep -q "^H100 PyTorch (NVIDIA H100 80GB HBM3, 38 rows: 26 held out): 38 rows predicted, 0 not; held-out rows scored 26: mean |error| [0-7]\.[0-9]% (target 8%), max 1\?[0-9]\.[0-9]% (target 20%)" $TMPD/gpu.txt ||
    { grep "PyTorch" $TMPD/gpu.txt; echo "validate: the PyTorch rows miss their targets or are not all predicted"; exit 1; }
echo "cli_calibrate: ok"
