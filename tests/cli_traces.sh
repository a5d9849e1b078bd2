#!/bin/sh
# CLI contract of the trace options of 'run' ($1 = the switchsim binary): --trace / --trace-cores timelines
# checked with jq (event count, no overlap on a thread, the core mask), --dump-routing replayed with
# --routing trace:FILE (same step time), and bad traces / core lists (exit 1, exact message, no output).
# The example traces in traces/ are sized for the tiny model tests/data/trace_tiny_model.csv on 8 cores
# (tpuv3-2x2: 4 chips x 2 cores): 2 Switch layers x 8 groups x 8 experts (traces/README.md).
set -e
BIN=$1
. tests/lib_cli.sh

command -v jq >/dev/null || { echo "jq is required (Debian package jq)"; exit 1; }

P=topologies/tpuv3-2x2.xml
TINY="--models tests/data/trace_tiny_model.csv --model switch-tiny --plan data=8,model=1"

# field NAME of data row 1 of a CSV file (quoted fields with commas handled)
csv_field() {
    awk -v want="$2" '
    function split_csv(line, out,    n, i, c, q, f) {
        n = 0; f = ""; q = 0
        for (i = 1; i <= length(line); i++) {
            c = substr(line, i, 1)
            if (q) { if (c == "\"") { if (substr(line, i + 1, 1) == "\"") { f = f c; i++ } else q = 0 } else f = f c }
            else if (c == "\"") q = 1
            else if (c == ",") { out[++n] = f; f = "" }
            else f = f c
        }
        out[++n] = f
        return n
    }
    NR == 1 { n = split_csv($0, h); for (i = 1; i <= n; i++) if (h[i] == want) col = i }
    NR == 2 { split_csv($0, v); if (col) print v[col]; exit }' "$1"
}

OVERLAPS='[.traceEvents[] | select(.ph == "X")] | group_by([.pid, .tid]) | map(sort_by(.ts) | . as $a
    | [range(1; length) | select((($a[. - 1].ts * 1000 | round) + ($a[. - 1].dur * 1000 | round))
    > ($a[.].ts * 1000 | round))] | length) | add // 0'

# 1. a timeline of every core: one process per chip, two named threads per core, events, no overlap
"$BIN" run --platform $P $TINY --top-k 2 --routing trace:traces/skewed.csv --trace "$TMPD/t.json" \
    --csv "$TMPD/skewed.csv" >/dev/null
n=$(jq '[.traceEvents[] | select(.ph == "X")] | length' "$TMPD/t.json")
[ "$n" -gt 0 ] || { echo "timeline has no events"; exit 1; }
[ "$(jq "$OVERLAPS" "$TMPD/t.json")" = 0 ] || { echo "events overlap on a thread"; exit 1; }
[ "$(jq -r '[.traceEvents[] | select(.name == "process_name") | .args.name] | join(";")' "$TMPD/t.json")" \
    = "chip 0;chip 1;chip 2;chip 3" ] || { echo "expected one process per chip"; exit 1; }
[ "$(jq '[.traceEvents[] | select(.name == "thread_name")] | length' "$TMPD/t.json")" = 16 ] \
    || { echo "expected 2 threads per core"; exit 1; }
for op in router a2a; do
    [ "$(jq --arg op $op '[.traceEvents[] | select(.ph == "X" and .args.op == $op)] | length' "$TMPD/t.json")" -gt 0 ] \
        || { echo "no '$op' event in the timeline"; exit 1; }
done
# every thread's events end by the step time (microseconds)
step=$(csv_field "$TMPD/skewed.csv" step_time_s)
jq -e --argjson step "$step" '[.traceEvents[] | select(.ph == "X") | .ts + .dur] | max <= $step * 1e6 * (1 + 1e-8) + 0.001' \
    "$TMPD/t.json" >/dev/null || { echo "an event ends after the step time $step s"; exit 1; }

# 2. --trace-cores: only cores 2 and 3 (chip 1); the same events for those threads as in the full timeline
"$BIN" run --platform $P $TINY --top-k 2 --routing trace:traces/skewed.csv --trace "$TMPD/t23.json" \
    --trace-cores 2-3 >/dev/null
[ "$(jq -r '[.traceEvents[] | select(.ph == "M" and (.name == "process_name" or .name == "thread_name"))
    | .args.name] | join(";")' "$TMPD/t23.json")" = "chip 1;core 2 compute;core 2 comm;core 3 compute;core 3 comm" ] \
    || { echo "--trace-cores 2-3: wrong processes or threads"; exit 1; }
sel='[.traceEvents[] | select(.ph == "X" and .pid == 2)] | length'
[ "$(jq "$sel" "$TMPD/t23.json")" = "$(jq "$sel" "$TMPD/t.json")" ] && [ "$(jq "$sel" "$TMPD/t23.json")" -gt 0 ] \
    || { echo "--trace-cores 2-3: chip 1's events differ from the full timeline"; exit 1; }
[ "$(jq '[.traceEvents[] | select(.ph == "X" and .pid != 2)] | length' "$TMPD/t23.json")" = 0 ] \
    || { echo "--trace-cores 2-3: events of other chips"; exit 1; }

# 3. the router's counts dumped and replayed give the same step time; the dump loads back as a trace
"$BIN" run --platform $P $TINY --top-k 2 --seed 7 --dump-routing "$TMPD/dump.csv" --csv "$TMPD/r1.csv" >/dev/null
head -1 "$TMPD/dump.csv" | grep -qx 'layer,group,expert,tokens_first,tokens_second' \
    || { echo "dump has the wrong header"; exit 1; }
[ "$(wc -l < "$TMPD/dump.csv")" = $((1 + 2 * 8 * 8)) ] || { echo "dump should have 128 rows"; exit 1; }
"$BIN" run --platform $P $TINY --top-k 2 --seed 7 --routing "trace:$TMPD/dump.csv" --csv "$TMPD/r2.csv" >/dev/null
t1=$(csv_field "$TMPD/r1.csv" step_time_s)
t2=$(csv_field "$TMPD/r2.csv" step_time_s)
[ -n "$t1" ] && [ "$t1" = "$t2" ] || { echo "replayed step time $t2 differs from the recorded run's $t1"; exit 1; }
d1=$(csv_field "$TMPD/r1.csv" dropped_frac)
d2=$(csv_field "$TMPD/r2.csv" dropped_frac)
[ "$d1" = "$d2" ] || { echo "replayed dropped_frac $d2 differs from $d1"; exit 1; }

# 4. skewed routing drops more tokens than balanced at the same capacity factor
"$BIN" run --platform $P $TINY --top-k 2 --routing trace:traces/balanced.csv --csv "$TMPD/balanced.csv" >/dev/null
db=$(csv_field "$TMPD/balanced.csv" dropped_frac)
ds=$(csv_field "$TMPD/skewed.csv" dropped_frac)
awk -v b="$db" -v s="$ds" 'BEGIN { exit !(s > b) }' || { echo "skewed drops $ds, not more than balanced $db"; exit 1; }

# 5. bad traces and core lists: exit 1, the loader's message, no output file
O=$TMPD/out.json
expect_fail 1 "switchsim: error: traces/no-such.csv: cannot open: No such file or directory" "$O" -- \
    "$BIN" run --platform $P $TINY --top-k 2 --routing trace:traces/no-such.csv --trace "$O"
expect_fail 1 "switchsim: error: tests/data/trace_good.csv: layer 0 group 0 has no row for expert 4" "$O" -- \
    "$BIN" run --platform $P $TINY --top-k 2 --routing trace:tests/data/trace_good.csv --trace "$O"
expect_fail 1 "switchsim: error: tests/data/trace_bad_header.csv:1: header must be 'layer,group,expert,tokens_first,tokens_second' (then tokens_3 .. tokens_8 for top-k above 2), got 'layer,group,expert,tokens_first,tokens_2nd'" "$O" -- \
    "$BIN" run --platform $P $TINY --top-k 2 --routing trace:tests/data/trace_bad_header.csv --trace "$O"
expect_fail 1 "switchsim: error: --trace-cores: '6-8' is not within cores [0,8)" "$O" -- \
    "$BIN" run --platform $P $TINY --top-k 2 --trace "$O" --trace-cores 0,6-8
expect_fail 1 "switchsim: error: --trace-cores: empty item in '0,,1'" "$O" -- \
    "$BIN" run --platform $P $TINY --top-k 2 --trace "$O" --trace-cores 0,,1
echo "cli_traces: ok"
