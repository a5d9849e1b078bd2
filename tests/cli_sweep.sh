#!/bin/sh
# CLI contract of 'sweep', 'merge' and 'summarize' ($1 = the switchsim binary).  Runs are done by
# the stand-in tests/data/csv_fake_run.sh (SWITCHSIM_RUN_BIN), so this does not need 'run'.
set -e
BIN=$1
. tests/lib_cli.sh
export SWITCHSIM_RUN_BIN=tests/data/csv_fake_run.sh
P=tests/data/csv_platform.xml
O=$TMPD/out.csv

# --help documents every option, exit 0
for c in sweep merge summarize; do
    "$BIN" $c --help > "$TMPD/help" || { echo "$c --help failed"; exit 1; }
    grep -q -- '--csv' "$TMPD/help" || { echo "$c --help lacks --csv"; exit 1; }
done
for o in --platform --model --plan --routing --dispatch --a2a --top-k --capacity-factor --seeds --jobs --resume --emit-jobs; do
    grep -q -- "$o" "$TMPD/help" 2>/dev/null || "$BIN" sweep --help | grep -q -- "$o" || { echo "sweep --help lacks $o"; exit 1; }
done

# bad lists and options: exit 1 (bad input) or 2 (usage), exact message, no CSV
expect_fail 1 "switchsim: error: --capacity-factor: empty value in list '1,,2'" "$O" -- \
    "$BIN" sweep --platform $P --model switch-base --capacity-factor 1,,2 --csv "$O"
expect_fail 1 "switchsim: error: --capacity-factor must be a number in (0, 1e6], got 'abc'" "$O" -- \
    "$BIN" sweep --platform $P --model switch-base --capacity-factor 1,abc --csv "$O"
expect_fail 1 "switchsim: error: --top-k must be an integer in [1, 8], got '9'" "$O" -- \
    "$BIN" sweep --platform $P --model switch-base --top-k 1,9 --csv "$O"
expect_fail 1 "switchsim: error: --jobs must be an integer in [1,1024], got '0'" "$O" -- \
    "$BIN" sweep --platform $P --model switch-base --jobs 0 --csv "$O"
# each value is checked as run checks it, with run's message
expect_fail 1 "switchsim: error: --dispatch must be padded, exact, dropless or expert-choice, got 'fast'" "$O" -- \
    "$BIN" sweep --platform $P --model switch-base --dispatch padded,fast --csv "$O"
expect_fail 1 "switchsim: error: --routing must be router, uniform, zipf:S, hot:FRAC or trace:FILE, got 'magic'" "$O" -- \
    "$BIN" sweep --platform $P --model switch-base --routing uniform,magic --csv "$O"
expect_fail 1 "switchsim: error: --platform: cannot read 'no/such.xml'" "$O" -- \
    "$BIN" sweep --platform no/such.xml --model switch-base --csv "$O"
expect_fail 2 "switchsim: error: sweep: --model is required (see switchsim sweep --help)" "$O" -- \
    "$BIN" sweep --platform $P --csv "$O"
expect_fail 2 "switchsim: error: sweep: --csv FILE or --emit-jobs FILE is required (see switchsim sweep --help)" - -- \
    "$BIN" sweep --platform $P --model switch-base
expect_fail 2 "switchsim: error: sweep: unknown option '--topk'; did you mean --top-k? (switchsim sweep --help lists the options)" "$O" -- \
    "$BIN" sweep --platform $P --model switch-base --topk 1 --csv "$O"
expect_fail 2 "switchsim: error: sweep: option '--csv' needs a value (switchsim sweep --help lists the options)" - -- \
    "$BIN" sweep --platform $P --model switch-base --csv

# a sweep: 2 k x 3 cf x 2 seeds = 12 rows, progress on stderr
"$BIN" sweep --platform $P --model switch-base --top-k 1,2 --capacity-factor 0.5,1,2 --seeds 1,2 \
    --csv "$O" --jobs 2 2> "$TMPD/progress"
[ "$(wc -l < "$O")" = 13 ] || { echo "expected 13 lines in the sweep CSV"; cat "$O"; exit 1; }
grep -qx 'switchsim: sweep: 12/12 done, .* s elapsed, ~.* s remaining' "$TMPD/progress" || {
    echo "no final progress line"; cat "$TMPD/progress"; exit 1; }
[ -z "$(ls "$TMPD" | grep parts)" ] || { echo "part folder left behind"; exit 1; }
expect_fail 1 "switchsim: error: $O: exists; use --resume to continue that sweep, or remove it" - -- \
    "$BIN" sweep --platform $P --model switch-base --csv "$O"

# summarize: 6 configurations of 2 seeds, a table of what differs (sorted), or CSV with --csv
"$BIN" summarize "$O" > "$TMPD/sum.txt"
[ "$(sed -n 2,3p "$TMPD/sum.txt")" = "top_k  capacity_factor  expert_capacity  n  step_s        sd     a2a_s        sd  a2a_MB/core  sd
1      0.5              128              2  0.5615  0.000707  0.084225  0.000106           50   0" ] || {
    echo "unexpected summary table"; cat "$TMPD/sum.txt"; exit 1; }
"$BIN" summarize "$O" --csv - > "$TMPD/sum.csv"
[ "$(wc -l < "$TMPD/sum.csv")" = 7 ] || { echo "expected 6 groups"; cat "$TMPD/sum.csv"; exit 1; }
grep -q '^switch-base,tests/data/csv_platform.xml,32,32,1,4,1,0.5,128,router,padded,phased,1048576,step,-1,all,selective,flaxformer,highest,1,1,0,2,0.5615,0.000707106781,0.561,0.562,' \
    "$TMPD/sum.csv" || { echo "unexpected summary"; cat "$TMPD/sum.csv"; exit 1; }
"$BIN" summarize "$O" --csv "$TMPD/sum2.csv"
cmp -s "$TMPD/sum.csv" "$TMPD/sum2.csv" || { echo "summarize --csv FILE differs from --csv -"; exit 1; }
# configurations that differ in precision and impl alone are told apart (their columns are shown)
"$BIN" summarize tests/data/csv_repeats.csv > "$TMPD/rep.txt" 2> "$TMPD/rep.err"
[ "$(tail -n +2 "$TMPD/rep.txt")" = "precision  impl    n  step_s  sd  a2a_s  sd  a2a_MB/core  sd
fp32       meshtf  1     0.7   0    0.1   0      402.653   0
selective  lingvo  1     0.8   0    0.1   0      402.653   0
selective  meshtf  1   0.625   0    0.1   0      402.653   0" ] || { echo "precision and impl not shown"; cat "$TMPD/rep.txt"; exit 1; }
grep -qx "switchsim: summarize: 1 row repeats an earlier row (same configuration, seed and results) and is counted once" \
    "$TMPD/rep.err" || { echo "no word of the repeated row"; cat "$TMPD/rep.err"; exit 1; }
# a file merged twice is one set of runs, not twice the seeds with sd 0
"$BIN" merge "$O" "$O" --csv "$TMPD/twice.csv" 2> "$TMPD/twice.err"
grep -qx "switchsim: merge: 12 rows from 2 files -> $TMPD/twice.csv (12 rows repeating an earlier one left out)" \
    "$TMPD/twice.err" || { echo "merge f f kept the repeats"; cat "$TMPD/twice.err"; exit 1; }
cat "$O" > "$TMPD/cat.csv"; tail -n +2 "$O" >> "$TMPD/cat.csv"
"$BIN" summarize "$TMPD/cat.csv" --csv - 2> "$TMPD/cat.err" | cmp -s - "$TMPD/sum.csv" || {
    echo "summarize counted repeated rows as seeds"; exit 1; }
grep -qx "switchsim: summarize: 12 rows repeat an earlier row (same configuration, seed and results) and are counted once" \
    "$TMPD/cat.err" || { echo "summarize did not say it left repeats out"; cat "$TMPD/cat.err"; exit 1; }
head -1 "$O" > "$TMPD/one.csv"; grep ',0.5,.*,1,1048576,' "$O" | head -1 >> "$TMPD/one.csv"
awk -F, 'NR == 1 { print; next } { $21 = $21 + 1; print }' OFS=, "$TMPD/one.csv" > "$TMPD/one2.csv"
"$BIN" merge "$TMPD/one.csv" --csv "$TMPD/m1.csv" 2> "$TMPD/m1.err"
grep -qx "switchsim: merge: 1 row from 1 file -> $TMPD/m1.csv" "$TMPD/m1.err" || { echo "merge: 1 row(s)"; cat "$TMPD/m1.err"; exit 1; }
expect_fail 1 "switchsim: error: $TMPD/one.csv row 1 and $TMPD/one2.csv row 1 are one configuration and seed (1) with different results (step_time_s $(cut -d, -f21 "$TMPD/one.csv" | tail -1) and $(cut -d, -f21 "$TMPD/one2.csv" | tail -1)): rows of two versions of switchsim?" "$TMPD/m12.csv" -- \
    "$BIN" merge "$TMPD/one.csv" "$TMPD/one2.csv" --csv "$TMPD/m12.csv"
expect_fail 1 "switchsim: error: tests/data/csv_bad_num.csv:2: column 'step_time_s' must be a number, got 'fast'" - -- \
    "$BIN" summarize tests/data/csv_bad_num.csv

# stop with SIGTERM, then --resume finishes without repeating rows
S=$TMPD/stop.csv
FAKE_RUN_SLEEP=0.7 "$BIN" sweep --platform $P --model switch-base --top-k 1,2 --capacity-factor 1,2 \
    --csv "$S" 2> "$TMPD/stop.err" &
pid=$!
sleep 1
kill -TERM $pid
set +e; wait $pid; rc=$?; set -e
[ "$rc" = 1 ] || { echo "a stopped sweep must exit 1, got $rc"; cat "$TMPD/stop.err"; exit 1; }
grep -q "^switchsim: error: stopped after [0-9] of 4 runs; their rows are in $S, rerun with --resume to finish\$" \
    "$TMPD/stop.err" || { echo "no stop message"; cat "$TMPD/stop.err"; exit 1; }
FAKE_RUN_SLEEP=0 "$BIN" sweep --platform $P --model switch-base --top-k 1,2 --capacity-factor 1,2 \
    --csv "$S" --resume 2>/dev/null
[ "$(wc -l < "$S")" = 5 ] || { echo "resume must end with 4 rows"; cat "$S"; exit 1; }
[ "$(cut -d, -f7,8 "$S" | sort | uniq -d)" = "" ] || { echo "resume repeated a row"; cat "$S"; exit 1; }
# the platform is matched on the file it names, not on how the path is written
FAKE_RUN_SLEEP=0 "$BIN" sweep --platform ./$P --model switch-base --top-k 1,2 --capacity-factor 1,2 \
    --csv "$S" --resume 2> "$TMPD/resume.err"
grep -qx "switchsim: sweep: 0 runs to do (4 combinations already in $S)" "$TMPD/resume.err" || {
    echo "--resume with ./PLATFORM reran the sweep"; cat "$TMPD/resume.err"; exit 1; }

# SIGHUP (a closed terminal) stops like SIGTERM: finished rows kept, no part folder left
H=$TMPD/hup.csv
FAKE_RUN_SLEEP=0.7 "$BIN" sweep --platform $P --model switch-base --top-k 1,2 --capacity-factor 1,2 \
    --csv "$H" 2> "$TMPD/hup.err" &
pid=$!
sleep 1
kill -HUP $pid
set +e; wait $pid; rc=$?; set -e
[ "$rc" = 1 ] || { echo "a sweep stopped by SIGHUP must exit 1, got $rc"; cat "$TMPD/hup.err"; exit 1; }
grep -q "^switchsim: error: stopped after [0-3] of 4 runs; their rows are in $H, rerun with --resume to finish\$" \
    "$TMPD/hup.err" || { echo "no stop message after SIGHUP"; cat "$TMPD/hup.err"; exit 1; }
done=$(sed -n 's/^switchsim: error: stopped after \([0-3]\) of 4 runs.*/\1/p' "$TMPD/hup.err")
[ "$(wc -l < "$H")" = $((done + 1)) ] || { echo "the finished runs' rows are not in the CSV"; cat "$H"; exit 1; }
[ -z "$(ls "$TMPD" | grep parts)" ] || { echo "part folder left behind after SIGHUP"; exit 1; }
# progress into a closed pipe: the sweep goes on, every row written, no part folder left
C=$TMPD/pipe.csv
FAKE_RUN_SLEEP=0.2 "$BIN" sweep --platform $P --model switch-base --top-k 1,2 --capacity-factor 1,2 \
    --csv "$C" 2>&1 | head -1 > /dev/null
[ "$(wc -l < "$C")" = 5 ] || { echo "rows lost when stderr was a closed pipe"; cat "$C"; exit 1; }
[ -z "$(ls "$TMPD" | grep parts)" ] || { echo "part folder left behind after SIGPIPE"; exit 1; }

# emit-jobs: one command per combination; running them and merging equals the sweep
SWITCHSIM_RUN_BIN=tests/data/csv_fake_run.sh "$BIN" sweep --platform $P --model switch-base --top-k 1,2 \
    --capacity-factor 0.5,1,2 --seeds 1,2 --emit-jobs "$TMPD/jobs.txt" 2>/dev/null
[ "$(wc -l < "$TMPD/jobs.txt")" = 12 ] || { echo "expected 12 jobs"; exit 1; }
[ "$(head -1 "$TMPD/jobs.txt")" = "tests/data/csv_fake_run.sh run --platform $P --model switch-base --top-k 1 --capacity-factor 0.5 --seed 1 --csv part-01.csv" ] || {
    echo "unexpected job line"; head -1 "$TMPD/jobs.txt"; exit 1; }
here=$(pwd)
(cd "$TMPD" && ln -s "$here/tests" tests && sh jobs.txt >/dev/null)
"$BIN" merge "$TMPD"/part-*.csv --csv "$TMPD/merged.csv" 2>/dev/null
[ "$(head -1 "$TMPD/merged.csv")" = "$(head -1 "$O")" ] || { echo "merged header differs"; exit 1; }
sort "$O" > "$TMPD/a"; sort "$TMPD/merged.csv" > "$TMPD/b"     # --jobs 2 appends in finishing order
cmp -s "$TMPD/a" "$TMPD/b" || { echo "merged parts differ from the sweep CSV"; diff "$TMPD/a" "$TMPD/b"; exit 1; }

# a line break in a path or a --run-arg would be a second job line (a command of its own): refused, no job file
NL='
'
cp $P "$TMPD/x${NL}touch PWNED #"
expect_fail 1 "switchsim: error: --platform: a value must not hold a line break (a job is one line), got '$TMPD/x\\ntouch PWNED #'" "$TMPD/j.txt" -- \
    "$BIN" sweep --platform "$TMPD/x${NL}touch PWNED #" --model switch-base --emit-jobs "$TMPD/j.txt"
expect_fail 1 "switchsim: error: --run-arg: a value must not hold a line break (a job is one line), got '--remat\\ron'" "$TMPD/j.txt" -- \
    "$BIN" sweep --platform $P --model switch-base --run-arg="--remat$(printf '\r')on" --emit-jobs "$TMPD/j.txt"
[ ! -e PWNED ] && [ ! -e "$TMPD/PWNED" ] || { echo "a job line ran a command of its own"; exit 1; }

# merge: header mismatch names the file and the column; no output
expect_fail 1 "switchsim: error: tests/data/csv_bad_header.csv:1: column 4 is 'dta', expected 'data' (the header of run --csv)" "$TMPD/m.csv" -- \
    "$BIN" merge tests/data/csv_good.csv tests/data/csv_bad_header.csv --csv "$TMPD/m.csv"
expect_fail 1 "switchsim: error: tests/data/csv_short_header.csv:1: header has 33 columns, expected 42 (the header of run --csv)" "$TMPD/m.csv" -- \
    "$BIN" merge tests/data/csv_good.csv tests/data/csv_short_header.csv --csv "$TMPD/m.csv"
expect_fail 2 "switchsim: error: merge: no input files (see switchsim merge --help)" - -- "$BIN" merge --csv "$TMPD/m.csv"
"$BIN" merge tests/data/csv_good.csv tests/data/csv_header_only.csv tests/data/csv_good.csv --csv "$TMPD/m.csv" 2>/dev/null
[ "$(wc -l < "$TMPD/m.csv")" = 3 ] || { echo "merge of 2+0+2 rows, the last 2 repeating the first"; exit 1; }
# --run-arg reaches every run (the real binary): cm02 and lv08 give different step times; --csv is refused
expect_fail 1 "switchsim: error: --run-arg: the sweep sets each run's --csv itself, got '--csv'" "$TMPD/ra.csv" -- \
    "$BIN" sweep --platform topologies/tpuv3-2x2.xml --model tiny-switch --run-arg=--csv --csv "$TMPD/ra.csv"
for nm in lv08 cm02; do
    env -u SWITCHSIM_RUN_BIN "$BIN" sweep --platform topologies/tpuv3-2x2.xml --models tests/data/models_tiny.csv \
        --model tiny-switch --run-arg=--network-model --run-arg=$nm --csv "$TMPD/ra-$nm.csv" 2>/dev/null
done
a=$(cut -d, -f21 "$TMPD/ra-lv08.csv" | tail -1); b=$(cut -d, -f21 "$TMPD/ra-cm02.csv" | tail -1)
[ -n "$a" ] && [ "$a" != "$b" ] || { echo "--run-arg --network-model did not reach the runs ($a vs $b)"; exit 1; }
echo "cli_sweep: ok"
