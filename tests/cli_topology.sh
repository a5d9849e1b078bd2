#!/bin/sh
# CLI contract of 'topology' ($1 = the switchsim binary): --help, the generated XML (stdout and --out),
# the shipped platforms are what 'make platforms' writes, bad values exit 1 with exact messages and no file,
# bad usage (and TPU options with a GPU chip, or the reverse) exits 2.  Both forms: TPU tori and GPU nodes.
set -e
BIN=$1
. tests/lib_cli.sh
OUT=$TMPD/p.xml

# --help documents every option and its unit, exit 0
"$BIN" topology --help > "$TMPD/help" || { echo "topology --help failed"; exit 1; }
for o in --chip --torus --link-GBps --link-lat-us --wrap --out --help GB/s microseconds \
         --gpus-per-node --nodes --nvlink-GBps --nic-GBps h100 h200 --rails --nodes-per-leaf --oversub; do
    grep -q -- "$o" "$TMPD/help" || { echo "topology --help lacks $o"; exit 1; }
done

# stdout and --out give the same bytes; --out leaves no temp file behind
"$BIN" topology --chip tpuv3 --torus 4x4 > "$TMPD/stdout.xml" || { echo "topology to stdout failed"; exit 1; }
"$BIN" topology --chip tpuv3 --torus 4x4 --out "$OUT" || { echo "topology --out failed"; exit 1; }
cmp -s "$OUT" "$TMPD/stdout.xml" || { echo "topology: --out and stdout differ"; exit 1; }
[ "$(ls "$TMPD" | grep -c tmp)" -eq 0 ] || { echo "topology: temp file left behind"; ls "$TMPD"; exit 1; }
[ "$(grep -c '<host id="chip' "$OUT")" -eq 16 ] || { echo "topology 4x4: expected 16 hosts"; exit 1; }
[ "$(grep -c '<route ' "$OUT")" -eq 256 ] || { echo "topology 4x4: expected 256 routes"; exit 1; }

# the options reach the file: bandwidth in GB/s, latency in us, wrap
"$BIN" topology --chip tpuv4 --torus 4x4x8 --link-GBps 50 --link-lat-us 0.5 --out "$OUT"
grep -q 'bw="5e+10Bps" lat="5e-07s"' "$OUT" || { echo "topology: --link-GBps/--link-lat-us not applied"; exit 1; }
grep -q 'topo_parameters="4,4,8"' "$OUT" || { echo "topology: tpuv4 4x4x8 is not a TORUS cluster"; exit 1; }
"$BIN" topology --chip tpuv4 --torus 4x4x8 --wrap none --out "$OUT"
grep -q '<prop id="wrap" value="0,0,0"/>' "$OUT" || { echo "topology: --wrap none not applied"; exit 1; }

# the shipped files are exactly what the generator writes now (make platforms)
for spec in tpuv3:2x2 tpuv3:4x4 tpuv3:8x8 tpuv3:16x16 tpuv3:32x32 tpuv2:16x16 tpuv4:4x4x4; do
    chip=${spec%%:*}; size=${spec#*:}
    "$BIN" topology --chip "$chip" --torus "$size" --out "$OUT"
    cmp -s "$OUT" "topologies/$chip-$size.xml" || { echo "topologies/$chip-$size.xml is stale: run make platforms"; exit 1; }
done

# GPU nodes: stdout and --out agree; n hosts of one core, n^2 routes (loopbacks included); an NVLink pair per
# GPU only when a node has peers, a NIC pair per GPU only when there are other nodes
"$BIN" topology --chip h200 --gpus-per-node 8 --nodes 2 > "$TMPD/stdout.xml" || { echo "topology h200 to stdout failed"; exit 1; }
"$BIN" topology --chip h200 --gpus-per-node 8 --nodes 2 --out "$OUT" || { echo "topology h200 --out failed"; exit 1; }
cmp -s "$OUT" "$TMPD/stdout.xml" || { echo "topology h200: --out and stdout differ"; exit 1; }
[ "$(grep -c '<host id="chip[0-9]*" speed="9.894e+14f" core="1">' "$OUT")" -eq 16 ] || { echo "topology h200 2x8: expected 16 one-core hosts"; exit 1; }
[ "$(grep -c '<route ' "$OUT")" -eq 256 ] || { echo "topology h200 2x8: expected 256 routes"; exit 1; }
[ "$(grep -c '<link id="chip[0-9]*_nvlink_up"' "$OUT")" -eq 16 ] && [ "$(grep -c '<link id="chip[0-9]*_nic_down"' "$OUT")" -eq 16 ] ||
    { echo "topology h200 2x8: expected an NVLink and a NIC pair per GPU"; exit 1; }
grep -q '<route src="chip0" dst="chip8" symmetrical="NO"><link_ctn id="chip0_nic_up"/><link_ctn id="chip8_nic_down"/></route>' "$OUT" ||
    { echo "topology h200 2x8: chip0 -> chip8 is not NIC up, NIC down"; exit 1; }
"$BIN" topology --chip h100 --gpus-per-node 4 --out "$OUT"
[ "$(grep -c '_nic_' "$OUT")" -eq 0 ] || { echo "topology h100 1 node: NIC links written"; exit 1; }
grep -q '<prop id="hbm_bytes_per_core" value="8e+10"/>' "$OUT" || { echo "topology h100: HBM is not 80 GB"; exit 1; }
"$BIN" topology --chip h200 --gpus-per-node 1 --nodes 3 --out "$OUT"
[ "$(grep -c '_nvlink_' "$OUT")" -eq 0 ] || { echo "topology h200 1 GPU per node: NVLink links written"; exit 1; }
# the options reach the file: bandwidths in GB/s, as properties and as link bandwidths
"$BIN" topology --chip h200 --gpus-per-node 2 --nodes 2 --nvlink-GBps 300 --nic-GBps 25 --out "$OUT"
grep -q '<prop id="nvlink_Bps" value="3e+11"/>' "$OUT" && grep -q '<prop id="nic_Bps" value="2.5e+10"/>' "$OUT" &&
    grep -q '<link id="chip0_nvlink_up" bandwidth="3e+11Bps"' "$OUT" && grep -q '<link id="chip3_nic_down" bandwidth="2.5e+10Bps"' "$OUT" ||
    { echo "topology: --nvlink-GBps/--nic-GBps not applied"; exit 1; }
for spec in 1:1gpu 8:8gpu; do
    "$BIN" topology --chip h200 --gpus-per-node "${spec%%:*}" --out "$OUT"
    cmp -s "$OUT" "topologies/h200-${spec#*:}.xml" || { echo "topologies/h200-${spec#*:}.xml is stale: run make platforms"; exit 1; }
done
"$BIN" topology --chip h200 --gpus-per-node 8 --nodes 4 --out "$OUT"
cmp -s "$OUT" topologies/h200-32gpu.xml || { echo "topologies/h200-32gpu.xml is stale: run make platforms"; exit 1; }

# GPU bad values: exit 1, exact message, no output file
for bad in 0 9 -1 2.5 eight ''; do
    expect_fail 1 "switchsim: error: --gpus-per-node must be an integer in [1, 8] (GPUs on one NVSwitch), got '$bad'" "$OUT.new" -- \
        "$BIN" topology --chip h200 --gpus-per-node "$bad" --out "$OUT.new"
done
for bad in 0 -2 1.5 many 257; do
    expect_fail 1 "switchsim: error: --nodes must be an integer in [1, 256], got '$bad'" "$OUT.new" -- \
        "$BIN" topology --chip h200 --gpus-per-node 8 --nodes "$bad" --out "$OUT.new"
done
expect_fail 1 "switchsim: error: 33 nodes x 8 GPUs = 264 GPUs, but a GPU platform (explicit routes) may have at most 256 (--rails writes a fat tree of up to 4096)" "$OUT.new" -- \
    "$BIN" topology --chip h200 --gpus-per-node 8 --nodes 33 --out "$OUT.new"
expect_fail 1 "switchsim: error: --nvlink-GBps must be a number in [1e-09, 1e+07] (1 B/s to 1e+16 B/s, what a platform may hold), got '-450'" "$OUT.new" -- \
    "$BIN" topology --chip h200 --gpus-per-node 8 --nvlink-GBps -450 --out "$OUT.new"
expect_fail 1 "switchsim: error: --nic-GBps must be a number in [1e-09, 1e+07] (1 B/s to 1e+16 B/s, what a platform may hold), got '0'" "$OUT.new" -- \
    "$BIN" topology --chip h100 --gpus-per-node 8 --nodes 2 --nic-GBps 0 --out "$OUT.new"
# link numbers outside what the platform loader takes are refused here, not written for 'run' to refuse
for v in 1e20 1e-300; do
    expect_fail 1 "switchsim: error: --link-GBps must be a number in [1e-09, 1e+07] (1 B/s to 1e+16 B/s, what a platform may hold), got '$v'" "$OUT.new" -- \
        "$BIN" topology --chip tpuv3 --torus 2x2 --link-GBps $v --out "$OUT.new"
done
expect_fail 1 "switchsim: error: --link-lat-us must be a number in [0, 1e+06] (0 s to 1 s, what a platform may hold), got '1e300'" "$OUT.new" -- \
    "$BIN" topology --chip tpuv3 --torus 2x2 --link-lat-us 1e300 --out "$OUT.new"
expect_fail 1 "switchsim: error: --nvlink-GBps must be a number in [1e-09, 1e+07] (1 B/s to 1e+16 B/s, what a platform may hold), got '1e8'" "$OUT.new" -- \
    "$BIN" topology --chip h200 --gpus-per-node 8 --nvlink-GBps 1e8 --out "$OUT.new"
# the range's ends are written, and run loads them
"$BIN" topology --chip tpuv3 --torus 2x2 --link-GBps 1e7 --link-lat-us 1e6 --out "$OUT.new"
"$BIN" run --platform "$OUT.new" --models tests/data/models_tiny.csv --model tiny-switch --quiet > /dev/null || {
    echo "run refused a platform topology wrote at the range's ends"; exit 1; }
rm -f "$OUT.new"
expect_fail 1 "switchsim: error: --nic-GBps must be a number in [1e-09, 1e+07] (1 B/s to 1e+16 B/s, what a platform may hold), got '50GB'" "$OUT.new" -- \
    "$BIN" topology --chip h100 --gpus-per-node 8 --nodes 2 --nic-GBps 50GB --out "$OUT.new"
# mixing the forms is a usage error: exit 2, no output file
expect_fail 2 "switchsim: error: --torus is for TPU chips (tpuv2, tpuv3, tpuv4 or tpuv5p); h200 is a GPU chip: use --gpus-per-node N [--nodes M] [--nvlink-GBps B] [--nic-GBps B] [--rails N]" "$OUT.new" -- \
    "$BIN" topology --chip h200 --torus 4x4 --out "$OUT.new"
expect_fail 2 "switchsim: error: --wrap is for TPU chips (tpuv2, tpuv3, tpuv4 or tpuv5p); h100 is a GPU chip: use --gpus-per-node N [--nodes M] [--nvlink-GBps B] [--nic-GBps B] [--rails N]" "$OUT.new" -- \
    "$BIN" topology --chip h100 --gpus-per-node 8 --wrap all --out "$OUT.new"
expect_fail 2 "switchsim: error: --link-GBps is for TPU chips (tpuv2, tpuv3, tpuv4 or tpuv5p); h200 is a GPU chip: use --gpus-per-node N [--nodes M] [--nvlink-GBps B] [--nic-GBps B] [--rails N]" "$OUT.new" -- \
    "$BIN" topology --chip h200 --gpus-per-node 8 --link-GBps 450 --out "$OUT.new"
expect_fail 2 "switchsim: error: --gpus-per-node is for GPU chips (h100 or h200); tpuv3 is a TPU chip: use --torus XxY[xZ] [--link-GBps B] [--link-lat-us L] [--wrap MODE]" "$OUT.new" -- \
    "$BIN" topology --chip tpuv3 --gpus-per-node 8 --out "$OUT.new"
expect_fail 2 "switchsim: error: --nodes is for GPU chips (h100 or h200); tpuv3 is a TPU chip: use --torus XxY[xZ] [--link-GBps B] [--link-lat-us L] [--wrap MODE]" "$OUT.new" -- \
    "$BIN" topology --torus 4x4 --nodes 2 --out "$OUT.new"
expect_fail 2 "switchsim: error: --nic-GBps is for GPU chips (h100 or h200); tpuv4 is a TPU chip: use --torus XxY[xZ] [--link-GBps B] [--link-lat-us L] [--wrap MODE]" "$OUT.new" -- \
    "$BIN" topology --chip tpuv4 --torus 4x4x4 --nic-GBps 50 --out "$OUT.new"
expect_fail 2 "switchsim: error: --gpus-per-node is required for GPU chip h200" "$OUT.new" -- \
    "$BIN" topology --chip h200 --nodes 4 --out "$OUT.new"

# the rail-optimised fat tree: a zone per node, leaf groups under a spine; every option reaches the file
"$BIN" topology --chip h100 --gpus-per-node 2 --nodes 4 --rails 2 --nodes-per-leaf 2 --oversub 2 --out "$OUT"
[ "$(grep -c '<zone id="node' "$OUT")" -eq 4 ] || { echo "topology --rails: expected a zone per node"; exit 1; }
[ "$(grep -c '<zone id="group' "$OUT")" -eq 2 ] || { echo "topology --rails: expected 2 leaf groups"; exit 1; }
# a group's uplinks: 2 nodes x 2 rails x 50 GB/s / 2 = 100 GB/s each way
grep -q '<link id="leaf1_spine_up" bandwidth="1e+11Bps" latency="5e-07s"/>' "$OUT" ||
    { echo "topology --rails --oversub 2: group uplink is not 1e11 B/s"; exit 1; }
grep -q '<prop id="oversub" value="2"/>' "$OUT" || { echo "topology --rails: no oversub property"; exit 1; }
[ "$(grep -c '<route ' "$OUT")" -eq 32 ] || { echo "topology --rails 4x2: expected 8 routes per node"; exit 1; }
"$BIN" run --platform "$OUT" --models tests/data/models_tiny.csv --model tiny-switch --quiet > /dev/null ||
    { echo "run refused a rail platform"; exit 1; }
# 4096 GPUs: the route tables grow as GPUs, not GPUs^2 (about 15 MB, most of it host properties)
"$BIN" topology --chip h200 --gpus-per-node 8 --nodes 512 --rails 8 --out "$OUT"
[ "$(wc -c < "$OUT")" -lt 20000000 ] || { echo "topology --rails 4096 GPUs: more than 20 MB"; exit 1; }
[ "$(grep -c '<zoneRoute src="group' "$OUT")" -eq 240 ] || { echo "topology --rails 4096 GPUs: expected 16x15 spine routes"; exit 1; }
for bad in 4 0 x 8.0; do
    expect_fail 1 "switchsim: error: --rails must be --gpus-per-node (8: GPU i of every node on rail i), got '$bad'" "$OUT.new" -- \
        "$BIN" topology --chip h200 --gpus-per-node 8 --nodes 2 --rails "$bad" --out "$OUT.new"
done
for bad in 0.5 0 65 -1 two; do
    expect_fail 1 "switchsim: error: --oversub must be a number in [1, 64] (leaf downlink over uplink bandwidth), got '$bad'" "$OUT.new" -- \
        "$BIN" topology --chip h100 --gpus-per-node 8 --nodes 4 --rails 8 --oversub "$bad" --out "$OUT.new"
done
for bad in 0 65 1.5; do
    expect_fail 1 "switchsim: error: --nodes-per-leaf must be an integer in [1, 64], got '$bad'" "$OUT.new" -- \
        "$BIN" topology --chip h100 --gpus-per-node 8 --nodes 4 --rails 8 --nodes-per-leaf "$bad" --out "$OUT.new"
done
expect_fail 1 "switchsim: error: --nodes must be an integer in [1, 4096], got '4097'" "$OUT.new" -- \
    "$BIN" topology --chip h100 --gpus-per-node 1 --nodes 4097 --rails 1 --out "$OUT.new"
expect_fail 1 "switchsim: error: --nodes 513 x --gpus-per-node 8 = 4104 GPUs, but a rail-optimised platform may have at most 4096" "$OUT.new" -- \
    "$BIN" topology --chip h100 --gpus-per-node 8 --nodes 513 --rails 8 --out "$OUT.new"
expect_fail 1 "switchsim: error: --nodes 512 in leaf groups of --nodes-per-leaf 2 is 256 groups, at most 128 (the spine routes every pair of groups)" "$OUT.new" -- \
    "$BIN" topology --chip h100 --gpus-per-node 8 --nodes 512 --rails 8 --nodes-per-leaf 2 --out "$OUT.new"
expect_fail 2 "switchsim: error: --oversub is for the rail-optimised fat tree: give --rails N too" "$OUT.new" -- \
    "$BIN" topology --chip h100 --gpus-per-node 8 --nodes 4 --oversub 2 --out "$OUT.new"
expect_fail 2 "switchsim: error: --rails is for GPU chips (h100 or h200); tpuv3 is a TPU chip: use --torus XxY[xZ] [--link-GBps B] [--link-lat-us L] [--wrap MODE]" "$OUT.new" -- \
    "$BIN" topology --chip tpuv3 --torus 4x4 --rails 8 --out "$OUT.new"

# a TPU v5p cube: a wrapped TORUS cluster whose chips run (SOURCES 5.4)
"$BIN" topology --chip tpuv5p --torus 4x4x4 --out "$TMPD/v5p.xml"
grep -q 'topo_parameters="4,4,4"' "$TMPD/v5p.xml" || { echo "topology: tpuv5p 4x4x4 is not a TORUS cluster"; exit 1; }
grep -q '<prop id="bf16_flops_per_core" value="2.29376e+14"/>' "$TMPD/v5p.xml" ||
    { echo "topology: tpuv5p has not 229.376 TFLOP/s per core"; exit 1; }
"$BIN" run --platform "$TMPD/v5p.xml" --models tests/data/models_tiny.csv --model tiny-switch --quiet \
    --csv "$TMPD/v5p.csv" > /dev/null
awk -F, 'NR == 2 { exit !($3 == 128 && $21 > 0) }' "$TMPD/v5p.csv" ||
    { echo "run on tpuv5p 4x4x4: expected 128 cores and a step time"; head -2 "$TMPD/v5p.csv"; exit 1; }

# bad values: exit 1, exact message, no output file
expect_fail 1 "switchsim: error: --chip must be tpuv2, tpuv3, tpuv4, tpuv5p, h100 or h200, got 'tpuv9'" "$OUT.new" -- \
    "$BIN" topology --chip tpuv9 --torus 4x4 --out "$OUT.new"
for bad in 4x 0x4 4x-4 4x4x4x4 4x4.5 abc 2000x2 256x257 ' 4x4'; do
    expect_fail 1 "switchsim: error: --torus must be N, XxY or XxYxZ with each size an integer in [1, 1024] and at most 65536 chips, got '$bad'" "$OUT.new" -- \
        "$BIN" topology --chip tpuv3 --torus "$bad" --out "$OUT.new"
done
expect_fail 1 "switchsim: error: --link-GBps must be a number in [1e-09, 1e+07] (1 B/s to 1e+16 B/s, what a platform may hold), got '-100'" "$OUT.new" -- \
    "$BIN" topology --torus 4x4 --link-GBps -100 --out "$OUT.new"
expect_fail 1 "switchsim: error: --link-GBps must be a number in [1e-09, 1e+07] (1 B/s to 1e+16 B/s, what a platform may hold), got 'fast'" "$OUT.new" -- \
    "$BIN" topology --torus 4x4 --link-GBps fast --out "$OUT.new"
expect_fail 1 "switchsim: error: --link-lat-us must be a number in [0, 1e+06] (0 s to 1 s, what a platform may hold), got '-1'" "$OUT.new" -- \
    "$BIN" topology --torus 4x4 --link-lat-us -1 --out "$OUT.new"
expect_fail 1 "switchsim: error: --wrap must be auto, all or none, got 'some'" "$OUT.new" -- \
    "$BIN" topology --torus 4x4 --wrap some --out "$OUT.new"
expect_fail 1 "switchsim: error: torus 32x16 is not wrapped in every dimension, so it needs explicit routes, which are supported up to 256 chips, got 512" "$OUT.new" -- \
    "$BIN" topology --chip tpuv3 --torus 32x16 --out "$OUT.new"
expect_fail 1 "switchsim: error: $TMPD/nodir/p.xml: cannot create temp file: No such file or directory" - -- \
    "$BIN" topology --torus 4x4 --out "$TMPD/nodir/p.xml"
[ ! -e "$TMPD/nodir" ] || { echo "topology: created a directory"; exit 1; }

# a failed run leaves an existing file untouched
cp topologies/tpuv3-2x2.xml "$OUT"
expect_fail 1 "switchsim: error: --chip must be tpuv2, tpuv3, tpuv4, tpuv5p, h100 or h200, got 'v3'" - -- \
    "$BIN" topology --chip v3 --torus 4x4 --out "$OUT"
cmp -s "$OUT" topologies/tpuv3-2x2.xml || { echo "topology: a failed run changed the existing file"; exit 1; }
expect_fail 1 "switchsim: error: --gpus-per-node must be an integer in [1, 8] (GPUs on one NVSwitch), got '16'" - -- \
    "$BIN" topology --chip h200 --gpus-per-node 16 --out "$OUT"
cmp -s "$OUT" topologies/tpuv3-2x2.xml || { echo "topology: a failed GPU run changed the existing file"; exit 1; }

# bad usage: exit 2
expect_fail 2 "switchsim: error: --torus is required" - -- "$BIN" topology --chip tpuv3
expect_fail 2 "switchsim: error: topology: unknown option '--bogus' (switchsim topology --help lists the options)" - -- "$BIN" topology --torus 4x4 --bogus
expect_fail 2 "switchsim: error: topology: option '--torus' needs a value (switchsim topology --help lists the options)" - -- "$BIN" topology --torus
expect_fail 2 "switchsim: error: topology: option '--gpus-per-node' needs a value (switchsim topology --help lists the options)" - -- "$BIN" topology --chip h200 --gpus-per-node
expect_fail 2 "switchsim: error: unexpected argument 'extra'" - -- "$BIN" topology --torus 4x4 extra
echo "cli_topology: ok"
