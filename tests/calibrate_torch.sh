#!/bin/sh
# The torch profile's preset is calibrate's output ($1 = the switchsim binary): the four numbers 'calibrate --torch'
# prints (fitted on the calibration rows of data/h100-moe-steps.csv, from fixed starting values) equal, at the
# precision it prints them, the torch_* properties of the shipped h100-1gpu.xml and of the platform the generator
# writes now.  Several minutes: 'make calibrate-torch' runs it, 'make test' does not.
set -e
BIN=$1
TMPD=$(mktemp -d)
trap 'rm -rf "$TMPD"' EXIT
"$BIN" calibrate --torch --quiet > $TMPD/cal.txt || { cat $TMPD/cal.txt; echo "calibrate --torch failed"; exit 1; }
grep -v '^fitted on' $TMPD/cal.txt > $TMPD/cal.want
"$BIN" topology --chip h100 --gpus-per-node 1 --out $TMPD/h100-now.xml
for xml in topologies/h100-1gpu.xml $TMPD/h100-now.xml; do
    awk -F'"' '/<prop id="(torch_mm_efficiency|torch_hbm_efficiency|torch_op_overhead_s|grouped_mm_efficiency)"/ { v[$2] = $4 }
        END { printf "mm_efficiency %.4f\nhbm_efficiency %.4f\nop_overhead_s %.4g\ngrouped_mm_efficiency %.4f\n",
                     v["torch_mm_efficiency"], v["torch_hbm_efficiency"], v["torch_op_overhead_s"],
                     v["grouped_mm_efficiency"] }' $xml > $TMPD/cal.got
    diff -u $TMPD/cal.want $TMPD/cal.got ||
        { echo "$xml: the torch preset differs from what 'switchsim calibrate --torch' prints"; exit 1; }
done
echo "calibrate_torch: ok"
