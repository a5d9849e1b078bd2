#!/bin/sh
# CLI contract of 'switchsim run': bad input exits 1 with an exact message and no output file; a small
# simulation matches its golden CSV; same seed gives the same bytes; a routing dump replays to the same step.
set -e
BIN=$1
. tests/lib_cli.sh
P=topologies/tpuv3-2x2.xml
M=tests/data/models_tiny.csv
RUN="$BIN run --platform $P --models $M --model tiny-switch --quiet"
OUT=$TMPD/out.csv

expect_fail 1 "switchsim: error: --top-k must be an integer in [1, 8], got '9'" $OUT -- $RUN --top-k 9 --csv $OUT
expect_fail 1 "switchsim: error: --capacity-factor must be a number in (0, 1e6], got '0'" $OUT -- $RUN --capacity-factor 0 --csv $OUT
expect_fail 1 "switchsim: error: --capacity-factor must be a number in (0, 1e6], got '1.2x'" $OUT -- $RUN --capacity-factor 1.2x --csv $OUT
expect_fail 1 "switchsim: error: --model: no model 'nope' in $M (switchsim models lists them)" $OUT -- \
    $BIN run --platform $P --models $M --model nope --csv $OUT
expect_fail 1 "switchsim: error: plan data=6,model=1 needs 6 cores, the platform has 8" $OUT -- $RUN --plan data=6 --csv $OUT
expect_fail 1 "switchsim: error: --routing must be router, uniform, zipf:S, hot:FRAC or trace:FILE, got 'magic'" $OUT -- \
    $RUN --routing magic --csv $OUT
expect_fail 1 "switchsim: error: --dispatch must be padded, exact, dropless or expert-choice, got 'fast'" $OUT -- $RUN --dispatch fast --csv $OUT
expect_fail 1 "switchsim: error: --dispatch expert-choice: experts choose their tokens, so a token has no top-k; give --top-k 1 (it is 2)" $OUT -- \
    $RUN --dispatch expert-choice --top-k 2 --csv $OUT
expect_fail 1 "switchsim: error: --dump-routing records each group's token choices per expert; under --dispatch expert-choice experts choose tokens, so there is none to record" $OUT -- \
    $RUN --dispatch expert-choice --dump-routing $OUT
expect_fail 1 "switchsim: error: --impl torch models eager PyTorch running a decoder-only model on GPUs; tiny-switch is enc-dec and $P is a TPU platform" $OUT -- \
    $RUN --impl torch --csv $OUT
expect_fail 1 "switchsim: error: --same-active: tiny-switch's expert width 128 x its top-k 1 is not a multiple of --top-k 3" $OUT -- \
    $RUN --top-k 3 --same-active --csv $OUT
expect_fail 1 "switchsim: error: --csv: cannot write '$TMPD/nodir/out.csv': directory '$TMPD/nodir' is missing or not writable" \
    $TMPD/nodir/out.csv -- $RUN --csv $TMPD/nodir/out.csv
expect_fail 1 "switchsim: error: --trace-cores needs --trace FILE" $OUT -- $RUN --trace-cores 0-3 --csv $OUT
expect_fail 1 "switchsim: error: --csv 'tests/../$M' is the same file as --models '$M'" - -- $RUN --csv tests/../$M
expect_fail 1 "switchsim: error: --trace '$OUT' is the same file as --csv '$OUT'" $OUT -- $RUN --csv $OUT --trace $OUT
expect_fail 1 "switchsim: error: --dump-routing: tiny-dense has no Switch layers, so there is no routing to dump" $OUT -- \
    $BIN run --platform $P --models $M --model tiny-dense --quiet --dump-routing $OUT
expect_fail 2 "switchsim: error: run needs --platform FILE and --model NAME" - -- $BIN run --model tiny-switch
# dispatch modes on tiny-switch (512 encoder and 128 decoder tokens per core, groups of 256 and 64, 8 experts,
# cf 1.25): dropless keeps every choice (capacity = the group) and reports the busiest expert over the mean;
# expert choice gives each expert int(256 x 1.25 / 8) = 40 and int(64 x 1.25 / 8) = 10 rows of every group
col() { awk -F, -v c="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next } NR == 2 { print $k }' "$2"; }
$RUN --dispatch dropless --csv $OUT > $TMPD/dl.txt
grep -q "capacity 256 (enc) 64 (dec) tokens/expert/group" $TMPD/dl.txt || { cat $TMPD/dl.txt; echo "dropless capacity"; exit 1; }
[ "$(col dispatch $OUT),$(col dropped_frac $OUT),$(col expert_capacity $OUT)" = "dropless,0,256" ] ||
    { cat $OUT; echo "dropless: dispatch, drops or capacity"; exit 1; }
awk "BEGIN { exit !($(col max_load $OUT) > 1.0 && $(col max_load $OUT) < 8.0) }" || { echo "dropless max_load"; exit 1; }
$RUN --dispatch expert-choice --csv $OUT > $TMPD/ec.txt
grep -q "capacity 40 (enc) 10 (dec) tokens/expert/group" $TMPD/ec.txt || { cat $TMPD/ec.txt; echo "expert-choice capacity"; exit 1; }
[ "$(col dispatch $OUT),$(col max_load $OUT),$(col lb_loss $OUT)" = "expert-choice,1,0" ] ||
    { cat $OUT; echo "expert-choice: dispatch, max_load or lb_loss"; exit 1; }
# at equal activated parameters top-2 of experts half as wide runs, and counts the same model FLOPs per token
$RUN --dispatch dropless --csv $OUT > /dev/null
f1=$(awk "BEGIN { print $(col tflops_per_chip $OUT) * $(col step_time_s $OUT) }")
rm -f $OUT
$RUN --top-k 2 --same-active --dispatch dropless --csv $OUT > /dev/null
f2=$(awk "BEGIN { print $(col tflops_per_chip $OUT) * $(col step_time_s $OUT) }")
awk "BEGIN { exit !($f1 > 0 && ($f2 / $f1 - 1)^2 < 1e-10) }" || { echo "--same-active: model FLOPs $f1 vs $f2"; exit 1; }
rm -f $OUT
# --top-k other than the preset's (tiny-switch: 1): the model FLOPs (tflops_per_chip x step_time_s x 4 chips) count
# k experts per token.  Every layer is a Switch layer (expert_every 1): 2 encoder layers at 64 tokens and 2 decoder
# layers at 16, relu experts of 2 x 64 x 128 = 16384 weights, 4096 / 64 = 64 sequences; so each further choice
# adds 3 (fwd + bwd) x 64 x 2 x (2 x 64 + 2 x 16) x 16384 = 1006632960 FLOPs to the step, at k 2 once, at k 4 thrice
mflops() { awk "BEGIN { printf \"%.12g\", $(col tflops_per_chip "$1") * $(col step_time_s "$1") * 4e12 }"; }
for k in 1 2 4; do $RUN --top-k $k --csv $TMPD/fk$k.csv > /dev/null; done
for k in 2 4; do
    awk -v f1="$(mflops $TMPD/fk1.csv)" -v fk="$(mflops $TMPD/fk$k.csv)" -v k=$k \
        'BEGIN { want = (k - 1) * 1006632960; exit !(((fk - f1) / want - 1)^2 < 1e-12) }' ||
        { echo "--top-k $k: model FLOPs $(mflops $TMPD/fk$k.csv) - $(mflops $TMPD/fk1.csv) at top-1, want $((k - 1)) x 1006632960"; exit 1; }
done
# a mistyped option: one line, the nearest option and where the help is (not 45 lines of help)
expect_fail 2 "switchsim: error: run: unknown option '--capacity-factr'; did you mean --capacity-factor? (switchsim run --help lists the options)" $OUT -- \
    $RUN --capacity-factr 2 --csv $OUT
[ "$(wc -l < "$TMPD/stderr")" = 1 ] || { echo "a mistyped option printed more than one line"; cat "$TMPD/stderr"; exit 1; }
expect_fail 2 "switchsim: error: run: unknown option '--dispach'; did you mean --dispatch? (switchsim run --help lists the options)" $OUT -- \
    $RUN --dispach=exact --csv $OUT
expect_fail 2 "switchsim: error: run: unknown option '--bogus' (switchsim run --help lists the options)" $OUT -- $RUN --bogus --csv $OUT
expect_fail 2 "switchsim: error: run: option '--csv' needs a value (switchsim run --help lists the options)" - -- $RUN --csv
# --top-k or --capacity-factor on a dense model changes nothing: said, not refused (a sweep may list both kinds)
$BIN run --platform $P --models $M --model tiny-dense --quiet --top-k 2 --capacity-factor 2 > /dev/null 2> "$TMPD/dense.err"
[ "$(cat "$TMPD/dense.err")" = "switchsim: warning: --top-k has no effect: tiny-dense is dense (no Switch layers to route)
switchsim: warning: --capacity-factor has no effect: tiny-dense is dense (no Switch layers to route)" ] || {
    echo "no warning for --top-k on a dense model"; cat "$TMPD/dense.err"; exit 1; }
$BIN run --platform $P --models $M --model tiny-dense --quiet > /dev/null 2> "$TMPD/dense.err"
[ ! -s "$TMPD/dense.err" ] || { echo "a warning without --top-k"; cat "$TMPD/dense.err"; exit 1; }
$RUN | head -1 | grep -q ', 1 expert/core, ' || { echo "the summary says '1 experts/core'"; $RUN | head -1; exit 1; }
# run --help says what the summary is
$BIN run --help | grep -q '^Output: four summary lines' || { echo "run --help: the summary is four lines"; exit 1; }
# --version: the version, the commit built and SimGrid's version
"$BIN" --version | grep -qx 'switchsim [0-9.]* (git \([0-9a-f]*\(-dirty\)\{0,1\}\|unknown\)), SimGrid [0-9]*\.[0-9]*\.[0-9]*' || {
    echo "unexpected --version"; "$BIN" --version; exit 1; }
expect_fail 1 "switchsim: error: $TMPD/none.xml: cannot open: No such file or directory" $OUT -- \
    $BIN run --platform $TMPD/none.xml --models $M --model tiny-switch --csv $OUT
expect_fail 1 "switchsim: error: --remat must be auto, on or off, got 'yes'" $OUT -- $RUN --remat yes --csv $OUT
expect_fail 1 "switchsim: error: --network-model must be hw, lv08 or cm02, got 'ns3'" $OUT -- $RUN --network-model ns3 --csv $OUT
expect_fail 1 "switchsim: error: --a2a direct: 1024 chips is 1047552 flows per all-to-all, beyond what SimGrid simulates in reasonable time (its cost grows about as chips^4.5: minutes per all-to-all at 256 hosts); use --a2a phased, or direct on at most 128 chips" $OUT -- \
    $BIN run --platform topologies/tpuv3-32x32.xml --model switch-c --a2a direct --quiet --csv $OUT
expect_fail 1 "switchsim: error: plan data=32,model=1 with remat needs 165.14 GiB per core, HBM has 16.00 GiB (149.14 GiB over)" $OUT -- \
    $BIN run --platform topologies/tpuv3-4x4.xml --model switch-xxl --plan data=32,model=1 --quiet --csv $OUT
expect_fail 1 "switchsim: error: --tokens-per-batch must be an integer in [1, 2^40], got '0'" $OUT -- $RUN --tokens-per-batch 0 --csv $OUT
expect_fail 1 "switchsim: error: --tokens-per-batch must be a multiple of tiny-switch's encoder sequence length 64 (whole sequences), got 100" $OUT -- \
    $RUN --tokens-per-batch 100 --csv $OUT
expect_fail 1 "switchsim: error: --precision must be selective, bf16 or fp32, got 'fp16'" $OUT -- $RUN --precision fp16 --csv $OUT

# --tokens-per-batch and --precision in a sweep of real runs: the CSV says what ran; half the batch halves the
# sequences; fp32 sends 4-byte activations (twice selective's padded bytes); mfu and hfu in (0, 1), hfu > mfu
$BIN sweep --platform $P --models $M --model tiny-switch --tokens-per-batch 2048,4096 --precision selective,fp32 \
    --csv $TMPD/tp.csv --jobs 2 > /dev/null 2>&1 || { echo "sweep --tokens-per-batch --precision failed"; exit 1; }
awk -F, 'NR == 1 { for (j = 1; j <= NF; j++) c[$j] = j; next }
    { n++; key = $c["tokens_per_batch"] "," $c["precision"]; seen[key] = 1
      b[key] = $c["a2a_bytes_per_core"]; e[key] = $c["examples_per_s"] * $c["step_time_s"]
      if (!($c["mfu"] > 0 && $c["hfu"] > $c["mfu"] && $c["hfu"] < 1)) { print "bad mfu/hfu: " $0; bad = 1 } }
    END { if (n != 4 || !seen["2048,selective"] || !seen["4096,fp32"]) { print "rows: " n; bad = 1 }
          if (b["4096,fp32"] != 2 * b["4096,selective"]) { print "fp32 bytes " b["4096,fp32"]; bad = 1 }
          if (e["2048,selective"] < 31.99 || e["2048,selective"] > 32.01) { print "sequences " e["2048,selective"]; bad = 1 }
          exit bad }' $TMPD/tp.csv || { cat $TMPD/tp.csv; echo "sweep --tokens-per-batch --precision: wrong rows"; exit 1; }
expect_fail 1 "switchsim: error: --impl must be meshtf, flaxformer, lingvo or torch, got 'mtf'" $OUT -- $RUN --impl mtf --csv $OUT
# implementation profiles: the CSV names the one run; meshtf groups up to 1024 tokens (one group of 512 per core
# here), so C = int(512 x 1.25 / 8) = 80; the preset has no 'impl' column: flaxformer, C 40
$RUN --impl meshtf --csv $TMPD/im.csv > /dev/null
$RUN --csv $TMPD/if.csv > /dev/null
[ "$(awk -F, 'FNR == 1 { for (j = 1; j <= NF; j++) c[$j] = j; next } { print $c["impl"] "," $c["expert_capacity"] }' \
    $TMPD/im.csv $TMPD/if.csv | tr '\n' ' ')" = "meshtf,80 flaxformer,40 " ] ||
    { cat $TMPD/im.csv $TMPD/if.csv; echo "--impl: wrong impl or capacity columns"; exit 1; }
$RUN --tokens-per-batch 2048 --precision bf16 > $TMPD/tp.txt
grep -q "TFLOP/s/chip (MFU [0-9.]*%, HFU [0-9.]*%)" $TMPD/tp.txt || { cat $TMPD/tp.txt; echo "run: no MFU/HFU in the summary"; exit 1; }

# golden: a 2x2-chip (8-core) run of the tiny preset; every column but sim_wall_s (wall clock) is exact.
# Synthetic Zipf routing (GSL draws) and exact dispatch: the bytes follow the routing, and nothing depends on
# which OpenBLAS kernel this CPU picks (the router's sgemm could round differently elsewhere).
GOLD="--top-k 2 --capacity-factor 1.25 --seed 7 --routing zipf:1.1 --dispatch exact --per-layer"
$RUN $GOLD --csv $OUT > $TMPD/stdout
cut -d, -f1-29 $OUT > $TMPD/got.csv
if ! diff -u tests/golden/run_tiny_2x2.csv $TMPD/got.csv; then
    echo "golden CSV differs (regenerate with: $RUN $GOLD --csv X;"
    echo "  cut -d, -f1-29 X > tests/golden/run_tiny_2x2.csv, after checking why)"; exit 1
fi
# the layer rows' all-to-all bytes add up to the step row's
awk -F, 'NR > 1 && $15 == "step" { step = $20 } NR > 1 && $15 == "layer" { sum += $20 }
    END { if (sum != step) { print "layer a2a bytes " sum " != step " step; exit 1 } }' $OUT

# same seed, same bytes (real router on every token)
$RUN --top-k 2 --seed 7 --per-layer --csv $TMPD/r1.csv > /dev/null
$RUN --top-k 2 --seed 7 --per-layer --csv $TMPD/r2.csv > /dev/null
[ "$(cut -d, -f1-29 $TMPD/r1.csv)" = "$(cut -d, -f1-29 $TMPD/r2.csv)" ] || { echo "same seed gave different CSV"; exit 1; }
[ "$(cut -d, -f18 $TMPD/r1.csv | tail -1)" != 0 ] || { echo "expected drops at cf 1.25 with the router"; exit 1; }

# a routing dump replays to the same step time, drops and bytes (exact dispatch: bytes follow routing)
$RUN --top-k 2 --dispatch exact --seed 3 --dump-routing $TMPD/routing.csv --csv $TMPD/a.csv > /dev/null
$RUN --top-k 2 --dispatch exact --seed 3 --routing trace:$TMPD/routing.csv --csv $TMPD/b.csv > /dev/null
a=$(tail -1 $TMPD/a.csv | cut -d, -f18,20,21); b=$(tail -1 $TMPD/b.csv | cut -d, -f18,20,21)
[ "$a" = "$b" ] || { echo "replay differs: $a vs $b"; exit 1; }

# top-2 with exact dispatch and room for every choice sends about twice the bytes of top-1
$RUN --top-k 1 --dispatch exact --capacity-factor 8 --csv $TMPD/k1.csv > /dev/null
$RUN --top-k 2 --dispatch exact --capacity-factor 8 --csv $TMPD/k2.csv > /dev/null
r=$(awk -F, 'FNR==2 { v[NR>2] = $20 } END { printf "%.3f", v[1] / v[0] }' $TMPD/k1.csv $TMPD/k2.csv)
awk -v r=$r 'BEGIN { exit !(r > 1.9 && r < 2.1) }' || { echo "top-2/top-1 exact bytes ratio $r, expected ~2"; exit 1; }
# top-4 sends about four times the bytes of top-1, and a top-4 dump replays to the same step
$RUN --top-k 4 --dispatch exact --capacity-factor 8 --seed 3 --dump-routing $TMPD/r4.csv --csv $TMPD/k4.csv > /dev/null
r=$(awk -F, 'FNR==2 { v[NR>2] = $20 } END { printf "%.3f", v[1] / v[0] }' $TMPD/k1.csv $TMPD/k4.csv)
awk -v r=$r 'BEGIN { exit !(r > 3.8 && r < 4.2) }' || { echo "top-4/top-1 exact bytes ratio $r, expected ~4"; exit 1; }
head -1 $TMPD/r4.csv | grep -qx 'layer,group,expert,tokens_first,tokens_second,tokens_3,tokens_4' || { echo "top-4 dump header"; exit 1; }
$RUN --top-k 4 --dispatch exact --capacity-factor 8 --seed 3 --routing trace:$TMPD/r4.csv --csv $TMPD/k4b.csv > /dev/null
a=$(tail -1 $TMPD/k4.csv | cut -d, -f18,20,21); b=$(tail -1 $TMPD/k4b.csv | cut -d, -f18,20,21)
[ "$a" = "$b" ] || { echo "top-4 replay differs: $a vs $b"; exit 1; }
# a timeline changes nothing in the simulation (exact dispatch + remat once read another core's rows)
$RUN --dispatch exact --remat on --routing zipf:1.3 --csv $TMPD/nt.csv > /dev/null
$RUN --dispatch exact --remat on --routing zipf:1.3 --csv $TMPD/wt.csv --trace $TMPD/wt.json > /dev/null
[ "$(cut -d, -f1-29 $TMPD/nt.csv)" = "$(cut -d, -f1-29 $TMPD/wt.csv)" ] || { echo "--trace changed the results"; exit 1; }

# validate's all-to-all rows: 6 bounds never violated and GShard Fig. 9 within tolerance; --a2a-csv writes the
# scaling data the plot reads, --csv the labelled rows
$BIN validate --a2a-only --a2a-csv $TMPD/scaling.csv --csv $TMPD/a2a_rows.csv > $TMPD/validate.txt ||
    { cat $TMPD/validate.txt; echo "validate --a2a-only failed"; exit 1; }
grep -q "^7 rows, 0 failed$" $TMPD/validate.txt || { cat $TMPD/validate.txt; exit 1; }
grep -q "^  bound: 6 rows, mean .* above the bound, max .*; 0 violated$" $TMPD/validate.txt ||
    { cat $TMPD/validate.txt; echo "validate: no bound summary line"; exit 1; }
[ "$(head -1 $TMPD/scaling.csv)" = "cores,algorithm,a2a_s,bisection_s" ] && [ "$(wc -l < $TMPD/scaling.csv)" = 7 ] ||
    { echo "validate --a2a-csv: unexpected scaling data"; cat $TMPD/scaling.csv; exit 1; }
[ "$(cut -d, -f1-3 $TMPD/a2a_rows.csv | sort | uniq -c | tr -s ' ' | tr '\n' ';')" = \
    " 6 bound,bound,a2a-bisection; 1 label,class,group; 1 measured,tpu-published,gshard-fig9;" ] ||
    { cat $TMPD/a2a_rows.csv; echo "validate --csv: unexpected rows"; exit 1; }
# GPU platforms: every shipped one runs, with the direct all-to-all by default in one node and hier across nodes;
# one GPU communicates nothing; --a2a phased is refused there with a message and no output file
for g in 1gpu:direct 8gpu:direct 32gpu:hier; do
    a=${g#*:} g=${g%:*}
    $BIN run --platform topologies/h200-$g.xml --models $M --model tiny-switch --quiet --per-layer \
        --csv $TMPD/g.csv --trace $TMPD/g.json > $TMPD/g.txt || { cat $TMPD/g.txt; echo "run on h200-$g failed"; exit 1; }
    grep -q "all-to-all $a" $TMPD/g.txt || { echo "h200-$g: the all-to-all is not $a"; exit 1; }
    [ "$(awk -F, 'NR == 2 { print $12 }' $TMPD/g.csv)" = $a ] || { echo "h200-$g: CSV a2a is not $a"; exit 1; }
done
$BIN run --platform topologies/h200-1gpu.xml --models $M --model tiny-switch --quiet --csv $TMPD/g1.csv > /dev/null
awk -F, 'NR == 2 { exit !($20 == 0 && $25 == 0 && $26 == 0 && $27 == 0) }' $TMPD/g1.csv ||
    { echo "h200-1gpu: a single GPU must not communicate or wait"; head -2 $TMPD/g1.csv; exit 1; }
# golden on one H200: the tiny preset and its dense twin, Zipf-drawn routing (no sgemm rounding in the result), per-layer rows; every column but
# sim_wall_s is exact.  One GPU sends nothing, so these pin the GPU cost model (tiles, waves, HBM, fp32
# router, per-kernel overhead): a change of its defaults moves them, and then they are regenerated.
for m in tiny-switch tiny-dense; do
    GRUN="$BIN run --platform topologies/h200-1gpu.xml --models $M --model $m --quiet --routing zipf:1.2 --seed 1 --per-layer"
    $GRUN --csv $OUT > $TMPD/stdout
    cut -d, -f1-29 $OUT > $TMPD/got.csv
    if ! diff -u tests/golden/run_${m}_h200-1gpu.csv $TMPD/got.csv; then
        echo "golden CSV differs (regenerate with: $GRUN --csv X;"
        echo "  cut -d, -f1-29 X > tests/golden/run_${m}_h200-1gpu.csv, after checking why)"; exit 1
    fi
done
expect_fail 1 "switchsim: error: --a2a phased is the torus algorithm (neighbour ring steps per dimension); topologies/h200-8gpu.xml is a GPU platform (NVSwitch nodes, a NIC per GPU), where the all-to-all is hier or direct: leave --a2a out or give one of them" $TMPD/ph.csv -- \
    $BIN run --platform topologies/h200-8gpu.xml --models $M --model tiny-switch --quiet --a2a phased --csv $TMPD/ph.csv
$BIN topology --chip h100 --gpus-per-node 8 --nodes 17 --out $TMPD/g136.xml
expect_fail 1 "switchsim: error: --a2a direct on $TMPD/g136.xml: 136 GPUs is 18360 flows per all-to-all, beyond what SimGrid simulates in reasonable time (its cost grows about as chips^4.5): use --a2a hier (network model hw), or direct on at most 128 GPUs" $TMPD/ph.csv -- \
    $BIN run --platform $TMPD/g136.xml --models $M --model tiny-switch --quiet --a2a direct --csv $TMPD/ph.csv
# across GPU nodes the all-to-all is hier by default, timed from its plan; it is refused on a torus and under
# another network model than hw; a bad value names the option
$BIN topology --chip h100 --gpus-per-node 8 --nodes 2 --out $TMPD/g16.xml
$BIN run --platform $TMPD/g16.xml --models $M --model tiny-switch --quiet --csv $TMPD/h.csv > $TMPD/h.out
grep -q "all-to-all hier .*timed from their message plan (every link's bytes over its bandwidth)" $TMPD/h.out ||
    { echo "cli_run: hier not the default across GPU nodes"; cat $TMPD/h.out; exit 1; }
[ "$(sed -n 2p $TMPD/h.csv | cut -d, -f12)" = "hier" ] || { echo "cli_run: the CSV's a2a column"; cat $TMPD/h.csv; exit 1; }
$BIN summarize $TMPD/h.csv > /dev/null || { echo "cli_run: summarize refuses a hier row"; exit 1; }
expect_fail 1 "switchsim: error: --a2a must be phased, direct or hier, got 'pxn'" $TMPD/ph.csv -- \
    $BIN run --platform $TMPD/g16.xml --models $M --model tiny-switch --quiet --a2a pxn --csv $TMPD/ph.csv
expect_fail 1 "switchsim: error: --a2a hier is the GPU nodes' all-to-all (NVLink in a node, NICs between); topologies/tpuv3-2x2.xml is a torus: leave --a2a out or give phased or direct" $TMPD/ph.csv -- \
    $BIN run --platform topologies/tpuv3-2x2.xml --models $M --model tiny-switch --quiet --a2a hier --csv $TMPD/ph.csv
expect_fail 1 "switchsim: error: --a2a hier is timed from its plan as the hw network model times flows; give --network-model hw, or --a2a direct for lv08" $TMPD/ph.csv -- \
    $BIN run --platform $TMPD/g16.xml --models $M --model tiny-switch --quiet --a2a hier --network-model lv08 --csv $TMPD/ph.csv
echo "cli_run: ok"
