#!/bin/sh
# CLI contract of 'topology' ($1 = the switchsim binary): --help, the generated XML (stdout and --out),
# the shipped platforms are what 'make platforms' writes, bad values exit 1 with exact messages and no file,
# bad usage exits 2.
set -e
BIN=$1
. tests/lib_cli.sh
OUT=$TMPD/p.xml

# --help documents every option and its unit, exit 0
"$BIN" topology --help > "$TMPD/help" || { echo "topology --help failed"; exit 1; }
for o in --chip --torus --link-GBps --link-lat-us --wrap --out --help GB/s microseconds; do
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

# bad values: exit 1, exact message, no output file
expect_fail 1 "switchsim: error: --chip must be tpuv2, tpuv3 or tpuv4, got 'tpuv9'" "$OUT.new" -- \
    "$BIN" topology --chip tpuv9 --torus 4x4 --out "$OUT.new"
for bad in 4 4x 0x4 4x-4 4x4x4x4 4x4.5 abc 2000x2 256x257 ' 4x4'; do
    expect_fail 1 "switchsim: error: --torus must be XxY or XxYxZ with each size an integer in [1, 1024] and at most 65536 chips, got '$bad'" "$OUT.new" -- \
        "$BIN" topology --chip tpuv3 --torus "$bad" --out "$OUT.new"
done
expect_fail 1 "switchsim: error: --link-GBps must be a number > 0, got '-100'" "$OUT.new" -- \
    "$BIN" topology --torus 4x4 --link-GBps -100 --out "$OUT.new"
expect_fail 1 "switchsim: error: --link-GBps must be a number > 0, got 'fast'" "$OUT.new" -- \
    "$BIN" topology --torus 4x4 --link-GBps fast --out "$OUT.new"
expect_fail 1 "switchsim: error: --link-lat-us must be a number >= 0, got '-1'" "$OUT.new" -- \
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
expect_fail 1 "switchsim: error: --chip must be tpuv2, tpuv3 or tpuv4, got 'v3'" - -- \
    "$BIN" topology --chip v3 --torus 4x4 --out "$OUT"
cmp -s "$OUT" topologies/tpuv3-2x2.xml || { echo "topology: a failed run changed the existing file"; exit 1; }

# bad usage: exit 2
expect_fail 2 "switchsim: error: --torus is required" - -- "$BIN" topology --chip tpuv3
expect_fail 2 "switchsim: error: unknown option '--bogus'" - -- "$BIN" topology --torus 4x4 --bogus
expect_fail 2 "switchsim: error: option '--torus' needs a value" - -- "$BIN" topology --torus
expect_fail 2 "switchsim: error: unexpected argument 'extra'" - -- "$BIN" topology --torus 4x4 extra
echo "cli_topology: ok"
