#!/bin/sh
# CLI contract for hostile input: outputs never replace a device, FIFO, folder or symbolic link; a run's
# outputs appear together or not at all; endless inputs are refused at a cap.  Exact messages, exit 1.
set -e
BIN=$1
. tests/lib_cli.sh
P=topologies/tpuv3-2x2.xml
M=tests/data/models_tiny.csv
RUN="$BIN run --platform $P --models $M --model tiny-switch --quiet"
NR="outputs are only written to regular files"

# A symbolic link to a regular file: the file gets the CSV, the link stays a link.
echo old > "$TMPD/real.csv"
ln -s real.csv "$TMPD/link.csv"
$RUN --csv "$TMPD/link.csv" > /dev/null
[ -L "$TMPD/link.csv" ] || { echo "the symbolic link was replaced by a file"; exit 1; }
head -1 "$TMPD/real.csv" | grep -q '^model,platform,' || { echo "the link's file did not get the CSV"; exit 1; }

# A FIFO is refused before anything runs, and stays a FIFO (a device such as /dev/null is refused the same
# way; it is not tried here, where a broken build run as root could replace it).
mkfifo "$TMPD/fifo"
expect_fail 1 "switchsim: error: --csv: cannot write '$TMPD/fifo': not a regular file (a device, FIFO or socket); $NR" \
    - -- $RUN --csv "$TMPD/fifo"
[ -p "$TMPD/fifo" ] || { echo "the FIFO was replaced"; exit 1; }
for cmd in "topology --chip tpuv3 --torus 2x2 --out" "merge $TMPD/real.csv --csv" \
           "summarize $TMPD/real.csv --csv"; do
    expect_fail 1 "switchsim: error: $TMPD/fifo: cannot write: not a regular file (a device, FIFO or socket); $NR" \
        - -- $BIN $cmd "$TMPD/fifo"
done
expect_fail 1 "switchsim: error: $TMPD/fifo: cannot write: not a regular file (a device, FIFO or socket); $NR" - -- \
    $BIN sweep --platform $P --model tiny-switch --emit-jobs "$TMPD/fifo"
[ -p "$TMPD/fifo" ] || { echo "the FIFO was replaced"; exit 1; }

# A folder as --csv: refused before the simulation, so no timeline is left either.
mkdir "$TMPD/dir"
expect_fail 1 "switchsim: error: --csv: cannot write '$TMPD/dir': is a directory" "$TMPD/t.json" -- \
    $RUN --trace "$TMPD/t.json" --csv "$TMPD/dir"

# merge, summarize and sweep --resume take only rows run could have written.
expect_fail 1 "switchsim: error: tests/data/csv_neg_cores.csv:2: column 'cores' must be an integer >= 1, got '-1'" \
    "$TMPD/m.csv" -- $BIN merge tests/data/csv_neg_cores.csv --csv "$TMPD/m.csv"
cp tests/data/csv_nan_time.csv "$TMPD/resume.csv"
expect_fail 1 "switchsim: error: $TMPD/resume.csv:2: column 'step_time_s' must be a finite number >= 0, got 'nan'" - -- \
    $BIN sweep --platform $P --models $M --model tiny-switch --csv "$TMPD/resume.csv" --resume

# A mistake every run of a sweep would make is one message before any run, and leaves no CSV.
expect_fail 1 "switchsim: error: --run-arg: --top-k must be an integer in [1, 8], got '9'" "$TMPD/s.csv" -- \
    $BIN sweep --platform $P --models $M --model tiny-switch --run-arg=--top-k --run-arg=9 --csv "$TMPD/s.csv"
expect_fail 1 "switchsim: error: --model: no model 'nope' in $M (switchsim models lists them)" "$TMPD/s.csv" -- \
    $BIN sweep --platform $P --models $M --model tiny-switch,nope --csv "$TMPD/s.csv"

# Endless input is refused at a cap, not read into memory.
expect_fail 1 "switchsim: error: /dev/zero:1: line longer than 65536 bytes (not a CSV file?)" - -- \
    $BIN models --models /dev/zero
expect_fail 1 "switchsim: error: /dev/zero:1: line longer than 256 bytes (not a routing trace?)" "$TMPD/o.csv" -- \
    $RUN --routing trace:/dev/zero --csv "$TMPD/o.csv"

echo "cli_badinput: ok"
