#!/bin/sh
# slurm-array.sh: an example Slurm job array that runs a sweep's job list, one 'switchsim run' per
# array task, each writing its own part CSV; merge them afterwards.  Example, not a tested tool.
#
#   build/switchsim sweep --platform topologies/tpuv3-8x8.xml --model switch-base,switch-large \
#       --top-k 1,2 --capacity-factor 0.5,1,1.25,2,4 --seeds 1,2,3 --emit-jobs jobs.txt
#   mkdir -p parts logs && cd parts
#   sbatch --array=1-$(wc -l < ../jobs.txt)%64 ../analysis/slurm-array.sh ../jobs.txt
#   # when every task is done (resubmit the failed task ids, or rerun sweep --resume --emit-jobs):
#   ../build/switchsim merge part-*.csv --csv ../sweep.csv
#
# The lines of jobs.txt name their output part-K.csv relative to the folder sbatch was called from
# (Slurm starts tasks there), and the switchsim binary by its absolute path: a shared file system
# is assumed.  One simulation is one process on one core, so one CPU per task.
#SBATCH --job-name=switchsim-sweep
#SBATCH --cpus-per-task=1
#SBATCH --mem=4G
#SBATCH --time=00:30:00
#SBATCH --output=../logs/switchsim-%A_%a.out
set -eu
JOBS=${1:?usage: sbatch --array=1-N slurm-array.sh JOBS_FILE}
: "${SLURM_ARRAY_TASK_ID:?not running as a Slurm array task}"
line=$(sed -n "${SLURM_ARRAY_TASK_ID}p" "$JOBS")
[ -n "$line" ] || { echo "no line $SLURM_ARRAY_TASK_ID in $JOBS" >&2; exit 1; }
echo "task $SLURM_ARRAY_TASK_ID: $line"
eval "exec $line"      # the line is shell-quoted by 'sweep --emit-jobs'
