#!/bin/sh
# A sweep's job file runs unchanged under GNU parallel and as a Slurm array (each line one 'switchsim run',
# each writing its own part CSV), and merging the parts gives the rows of the same sweep run directly.
# Only sim_wall_s (the wall-clock column) may differ.
set -e
BIN=${1:-build/switchsim}
. tests/lib_cli.sh
P=topologies/tpuv3-2x2.xml
M="--models tests/data/models_tiny.csv --model tiny-switch"
AXES="--top-k 1,2 --capacity-factor 1,2 --seeds 1,2"
here=$(pwd)
BINABS=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

"$BINABS" sweep --platform $P $M $AXES --csv "$TMPD/direct.csv" 2>/dev/null
"$BINABS" sweep --platform "$here/$P" --models "$here/tests/data/models_tiny.csv" --model tiny-switch $AXES \
    --emit-jobs "$TMPD/jobs.txt" 2>/dev/null
[ "$(wc -l < "$TMPD/jobs.txt")" = 8 ] || { echo "expected 8 job lines"; cat "$TMPD/jobs.txt"; exit 1; }

# the columns of a row but sim_wall_s and the platform path (the job file names it by its absolute path)
rows() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "sim_wall_s") w = i; if ($i == "platform") p = i }; next }
             { $w = ""; $p = ""; print }' OFS=, "$1" | sort
}
rows "$TMPD/direct.csv" > "$TMPD/direct.rows"
[ "$(wc -l < "$TMPD/direct.rows")" = 8 ] || { echo "the direct sweep must have 8 rows"; exit 1; }

# GNU parallel on this machine, two jobs at a time (the same file runs across hosts with --sshlogin)
mkdir "$TMPD/par"
(cd "$TMPD/par" && parallel --will-cite --halt now,fail=1 -j 2 < ../jobs.txt >/dev/null 2>&1)
"$BINABS" merge "$TMPD"/par/part-*.csv --csv "$TMPD/par.csv" 2>/dev/null
rows "$TMPD/par.csv" > "$TMPD/par.rows"
cmp -s "$TMPD/direct.rows" "$TMPD/par.rows" || {
    echo "GNU parallel: merged parts differ from the direct sweep"; diff "$TMPD/direct.rows" "$TMPD/par.rows"; exit 1; }

# analysis/slurm-array.sh as Slurm would start it: one task per line, SLURM_ARRAY_TASK_ID = 1..N
mkdir "$TMPD/slurm"
n=$(wc -l < "$TMPD/jobs.txt")
i=1
while [ "$i" -le "$n" ]; do
    (cd "$TMPD/slurm" && SLURM_ARRAY_TASK_ID=$i sh "$here/analysis/slurm-array.sh" ../jobs.txt >/dev/null 2>&1) || {
        echo "slurm-array.sh task $i failed"; exit 1; }
    i=$((i + 1))
done
"$BINABS" merge "$TMPD"/slurm/part-*.csv --csv "$TMPD/slurm.csv" 2>/dev/null
rows "$TMPD/slurm.csv" > "$TMPD/slurm.rows"
cmp -s "$TMPD/direct.rows" "$TMPD/slurm.rows" || {
    echo "Slurm array: merged parts differ from the direct sweep"; diff "$TMPD/direct.rows" "$TMPD/slurm.rows"; exit 1; }
echo "cli_parallel: 8 runs through GNU parallel and as a Slurm array equal the direct sweep"
