#!/bin/sh
# CLI contract of 'collective' ($1 = the switchsim binary): --help, usage errors exit 2, bad values exit 1 with
# exact messages and no CSV, one row per size in the CSV with nccl-tests' columns, a 1-D ring written by
# 'topology --torus N', the GPU refusal of the phased all-to-all, the fast timing on a wrapped torus.
set -e
BIN=$1
. tests/lib_cli.sh
CSV=$TMPD/c.csv

"$BIN" collective --help > "$TMPD/help" || { echo "collective --help failed"; exit 1; }
for o in --platform --op --algo --min-bytes --max-bytes --factor --ranks --network-model --a2a-timing --csv all-to-all \
         all-reduce all-gather reduce-scatter phased direct ring busbw; do
    grep -q -- "$o" "$TMPD/help" || { echo "collective --help lacks $o"; exit 1; }
done

expect_fail 2 "switchsim: error: collective needs --platform FILE and --op OP" "$CSV" -- \
    "$BIN" collective --op all-reduce --csv "$CSV"
expect_fail 2 "switchsim: error: collective: unknown option '--bogus' (switchsim collective --help lists the options)" "$CSV" -- \
    "$BIN" collective --bogus
P=topologies/tpuv3-2x2.xml
expect_fail 1 "switchsim: error: --op must be all-to-all, all-reduce, all-gather or reduce-scatter, got 'allreduce'" "$CSV" -- \
    "$BIN" collective --platform $P --op allreduce --csv "$CSV"
expect_fail 1 "switchsim: error: --algo for all-to-all must be direct, phased, phased-xy or hier, got 'ring'" "$CSV" -- \
    "$BIN" collective --platform $P --op all-to-all --algo ring --csv "$CSV"
expect_fail 1 "switchsim: error: --algo for all-gather must be ring, got 'direct'" "$CSV" -- \
    "$BIN" collective --platform $P --op all-gather --algo direct --csv "$CSV"
for bad in 0 1.5K -4 K 2T 1KB; do
    expect_fail 1 "switchsim: error: --min-bytes must be a byte count in [1, 1T] such as 4096, 1K, 64M or 1G, got '$bad'" "$CSV" -- \
        "$BIN" collective --platform $P --op all-reduce --min-bytes "$bad" --csv "$CSV"
done
expect_fail 1 "switchsim: error: --factor must be an integer in [2, 1024], got '1'" "$CSV" -- \
    "$BIN" collective --platform $P --op all-reduce --factor 1 --csv "$CSV"
expect_fail 1 "switchsim: error: --ranks must be chips or cores, got 'gpus'" "$CSV" -- \
    "$BIN" collective --platform $P --op all-reduce --ranks gpus --csv "$CSV"
expect_fail 1 "switchsim: error: --a2a-timing must be fast or flows, got 'exact'" "$CSV" -- \
    "$BIN" collective --platform $P --op all-to-all --a2a-timing exact --csv "$CSV"
expect_fail 1 "switchsim: error: --min-bytes (2048) must not exceed --max-bytes (1024)" "$CSV" -- \
    "$BIN" collective --platform $P --op all-reduce --min-bytes 2K --max-bytes 1K --csv "$CSV"
expect_fail 1 "switchsim: error: --algo phased is the torus all-to-all (neighbour ring steps); topologies/h200-8gpu.xml is a GPU platform, where it is hier or direct" "$CSV" -- \
    "$BIN" collective --platform topologies/h200-8gpu.xml --op all-to-all --algo phased --csv "$CSV"
expect_fail 1 "switchsim: error: $TMPD/none.xml: cannot open: No such file or directory" "$CSV" -- \
    "$BIN" collective --platform "$TMPD/none.xml" --op all-reduce --csv "$CSV"

# a ring of 4 chips from 'topology --torus 4': one row per size (1K, 8K, 64K, 512K), nccl-tests columns
"$BIN" topology --chip tpuv3 --torus 4 --wrap all --out "$TMPD/ring4.xml"
"$BIN" collective --platform "$TMPD/ring4.xml" --op all-reduce --min-bytes 1K --max-bytes 512K --factor 8 \
    --csv "$CSV" > "$TMPD/out"
[ "$(head -1 "$CSV")" = "platform,op,algo,ranks,nranks,size_bytes,time_us,algbw_GBps,busbw_GBps,bound_us,bound,time_over_bound" ] ||
    { echo "collective: CSV header"; head -1 "$CSV"; exit 1; }
[ "$(tail -n +2 "$CSV" | cut -d, -f6 | tr '\n' ' ')" = "1024 8192 65536 524288 " ] ||
    { echo "collective: CSV sizes"; cat "$CSV"; exit 1; }
[ "$(tail -n +2 "$CSV" | cut -d, -f2-5 | sort -u)" = "all-reduce,ring,chips,4" ] || { echo "collective: CSV op columns"; cat "$CSV"; exit 1; }
# busbw = algbw x 2(n-1)/n = 1.5 algbw; algbw = size / time; time >= bound
awk -F, 'NR > 1 { a = $6 / ($7 * 1e3); if (a / $8 > 1.0001 || a / $8 < 0.9999 || $9 / $8 > 1.5001 || $9 / $8 < 1.4999 || $12 < 1) exit 1 }' "$CSV" ||
    { echo "collective: algbw/busbw/bound columns inconsistent"; cat "$CSV"; exit 1; }
grep -q "^# all-reduce, ring, 4 ranks (chips, 4 chips) on $TMPD/ring4.xml; network model hw" "$TMPD/out" ||
    { echo "collective: summary line"; cat "$TMPD/out"; exit 1; }
[ "$(grep -c '^  ' "$TMPD/out")" -eq 4 ] || { echo "collective: 4 rows expected on stdout"; cat "$TMPD/out"; exit 1; }

# a rank per core on a 2x2 of 2-core chips, and GPU nodes: the default all-to-all is phased on a torus, direct on GPUs
"$BIN" collective --platform $P --op all-to-all --ranks cores --min-bytes 1M --max-bytes 1M --csv "$CSV" > /dev/null
[ "$(tail -n +2 "$CSV" | cut -d, -f3-5)" = "phased,cores,8" ] || { echo "collective: ranks cores"; cat "$CSV"; exit 1; }
"$BIN" collective --platform topologies/h200-8gpu.xml --op all-to-all --min-bytes 1M --max-bytes 1M --csv "$CSV" > /dev/null
[ "$(tail -n +2 "$CSV" | cut -d, -f3-5)" = "direct,chips,8" ] || { echo "collective: GPU default"; cat "$CSV"; exit 1; }

# Across GPU nodes the default is hier, timed from its plan; an even all-to-all of 64 MB a rank on 2 nodes of 8:
# every NIC sends and receives 8 x 4 MB, 32 MiB at 50 GB/s x the NIC factor, which direct flows take too, so the
# rows agree (the times to the printed precision); 1 KB a rank: hier pays the NVLink hop's latency (1 us) on top
"$BIN" topology --chip h100 --gpus-per-node 8 --nodes 2 --out "$TMPD/g16.xml" > /dev/null
"$BIN" collective --platform "$TMPD/g16.xml" --op all-to-all --min-bytes 64M --max-bytes 64M > "$TMPD/hier"
"$BIN" collective --platform "$TMPD/g16.xml" --op all-to-all --min-bytes 64M --max-bytes 64M --algo direct > "$TMPD/direct"
grep -q '^# all-to-all, hier, 16 ranks' "$TMPD/hier" || { echo "collective: hier not the default on 2 nodes"; cat "$TMPD/hier"; exit 1; }
grep -q "^# wall .*; timed from the message plan (every link's bytes over its bandwidth)$" "$TMPD/hier" ||
    { echo "collective: hier's last line"; cat "$TMPD/hier"; exit 1; }
[ "$(grep '^  ' "$TMPD/hier")" = "$(grep '^  ' "$TMPD/direct")" ] || { echo "collective: hier and direct rows differ";
    cat "$TMPD/hier" "$TMPD/direct"; exit 1; }
rm -f "$CSV"
expect_fail 1 "switchsim: error: --algo for all-to-all must be direct, phased, phased-xy or hier, got 'pxn'" "$CSV" -- \
    "$BIN" collective --platform "$TMPD/g16.xml" --op all-to-all --algo pxn --csv "$CSV"
expect_fail 1 "switchsim: error: --algo hier is the GPU nodes' all-to-all (NVLink in a node, NICs between); $P is a torus, where it is phased, phased-xy or direct" "$CSV" -- \
    "$BIN" collective --platform $P --op all-to-all --algo hier --csv "$CSV"
expect_fail 1 "switchsim: error: --algo hier is timed from its plan as the hw network model times flows; give --network-model hw, or --algo direct for cm02" "$CSV" -- \
    "$BIN" collective --platform "$TMPD/g16.xml" --op all-to-all --algo hier --network-model cm02 --csv "$CSV"

# On a wrapped 8x8 torus the phased all-to-all is timed from its message plan by default: the same rows as its
# flows (to the printed precision), and the last line says so; --a2a-timing flows simulates the flows.
"$BIN" topology --chip tpuv3 --torus 8x8 --wrap all --out "$TMPD/w8.xml" > /dev/null
"$BIN" collective --platform "$TMPD/w8.xml" --op all-to-all --max-bytes 64M --factor 8 > "$TMPD/fast"
"$BIN" collective --platform "$TMPD/w8.xml" --op all-to-all --max-bytes 64M --factor 8 --a2a-timing flows > "$TMPD/flows"
grep -q '^# wall .*; timed from the message plan (no two messages share a link)$' "$TMPD/fast" || {
    echo "collective on a wrapped torus: no fast timing line"; cat "$TMPD/fast"; exit 1; }
if grep -q 'message plan' "$TMPD/flows"; then echo "collective --a2a-timing flows used the plan"; exit 1; fi
grep -v '^# wall' "$TMPD/fast" > "$TMPD/fast.rows"
grep -v '^# wall' "$TMPD/flows" > "$TMPD/flows.rows"
cmp -s "$TMPD/fast.rows" "$TMPD/flows.rows" || { echo "collective: fast and flows rows differ";
    diff "$TMPD/fast.rows" "$TMPD/flows.rows"; exit 1; }
echo "cli_collective: ok"
