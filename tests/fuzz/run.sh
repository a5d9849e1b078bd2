#!/bin/sh
# Runs each libFuzzer harness of tests/fuzz for SECONDS (default 600) on a corpus seeded from the shipped files
# under tests/ (and models/, topologies/, traces/).  Fails on any crash, sanitizer report, leak, hang (one input
# over 10 s), memory over 2 GiB, or a file left in the scratch folder the harnesses write to.
# usage: tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
set -u
B=$1
SECONDS_EACH=$2
shift 2
TARGETS=${*:-models trace runrow platform cli jobs}
fail=0
for t in $TARGETS; do
    corpus=$B/fuzz/corpus/$t
    scratch=$B/fuzz/scratch/$t
    rm -rf "$scratch"
    mkdir -p "$corpus" "$scratch" "$B/fuzz/artifacts"
    case $t in
        models) seeds="tests/data/models_*.csv models/*.csv" ;;
        trace) seeds="tests/data/trace_*.csv traces/*.csv" ;;
        runrow) seeds="tests/data/csv_*.csv tests/golden/*.csv" ;;
        platform) seeds="tests/data/platform_*.xml topologies/*.xml" ;;
        cli) seeds="tests/fuzz/seeds_cli/*" ;;
        jobs) seeds="tests/fuzz/seeds_jobs/*" ;;
        *) echo "fuzz: unknown target $t"; exit 2 ;;
    esac
    for f in $seeds; do     # seeds over 64 KiB (the big tori) slow every mutation down: left out
        [ -f "$f" ] && [ "$(wc -c < "$f")" -le 65536 ] && cp "$f" "$corpus/"
    done
    echo "== fuzz_$t: $SECONDS_EACH s, corpus $(ls "$corpus" | wc -l) files"
    start=$(date +%s)
    SWITCHSIM_FUZZ_DIR=$scratch SWITCHSIM_SIMGRID_CFG="contexts/factory:thread" \
        "$B/fuzz/fuzz_$t" "$corpus" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$B/fuzz/artifacts/$t-" > "$B/fuzz/$t.log" 2>&1
    rc=$?
    end=$(date +%s)
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$B/fuzz/$t.log" | grep -o '[0-9]*$')
    echo "fuzz_$t: exit $rc, $((end - start)) s, ${runs:-?} executions"
    if [ "$rc" != 0 ]; then
        echo "FAIL: fuzz_$t found a problem (log $B/fuzz/$t.log):"
        grep -E 'ERROR|SUMMARY|fuzz:|Test unit written|runtime error' "$B/fuzz/$t.log" | head -20
        fail=1
    fi
    left=$(ls -A "$scratch")
    if [ -n "$left" ]; then
        echo "FAIL: fuzz_$t left files in $scratch: $left"
        fail=1
    fi
done
exit $fail
