#!/bin/sh
# CLI contract of run's pipeline and ZeRO-1 ($1 = the switchsim binary): the plan data=D,expert=E,tensor=T,pipe=P
# with micro-batches (its summary lines, the bubble's share, the CSV's pipeline columns), --zero 1, and the bad
# values (exit 1, the message naming the value).  Dense t5-base on 32 TPU v3 cores: a fraction of a second each.
set -e
BIN=$1
. tests/lib_cli.sh
P=topologies/tpuv3-4x4.xml
E="switchsim: error:"

"$BIN" run --help > "$TMPD/help"
for o in "data=D,expert=E,tensor=T,pipe=P" "--zero N" "1F1B"; do
    grep -qF -- "$o" "$TMPD/help" || { echo "run --help lacks $o"; exit 1; }
done

# 4 stages of 8 data shards, 8 micro-batches: the plan line, per-stage memory, a bubble share in the step line
"$BIN" run --platform $P --model t5-base --plan data=8,expert=1,tensor=1,pipe=4,micro=8 --quiet \
    --csv "$TMPD/pipe.csv" > "$TMPD/out"
grep -qF "t5-base on $P: 32 cores (16 chips), plan data=8,model=1,pipe=4,micro=8, dense (no Switch layers)" \
    "$TMPD/out" || { echo "pipeline plan line:"; cat "$TMPD/out"; exit 1; }
grep -q " idle [0-9.]*% bubble [0-9.]*% |" "$TMPD/out" || { echo "no bubble share:"; cat "$TMPD/out"; exit 1; }
head -1 "$TMPD/pipe.csv" | grep -q ",pipe,micro_batches,zero,bubble_s,max_load,a2a_across_s,rsag_s$" || { echo "CSV header"; exit 1; }
sed -n 2p "$TMPD/pipe.csv" | grep -q ",4,8,0,[0-9.e-]*,0,0,0$" || { echo "CSV row:"; sed -n 2p "$TMPD/pipe.csv"; exit 1; }
# the bubble is at least the ideal 1F1B share (P-1)/(m+P-1) = 3/11 of the step (stages are not equal)
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "bubble_s") b = i; if ($i == "step_time_s") s = i }; next }
    NR == 2 { if (!(b && s && $b >= 3.0 / 11.0 * $s)) { print "bubble " $b " < 3/11 of step " $s; exit 1 } }' \
    "$TMPD/pipe.csv"

# GPU nodes under hw: a pipeline's sends, rings and expert groups' all-to-alls timed from their plans give the
# flows' step (tiny-switch on 4 nodes of 8 H200s, 2 stages, dropless, ZeRO-1) to 1e-5; the breakdown splits the
# all-to-all across nodes and the ZeRO-1 collectives (olmoe, 32 experts a group spanning the 4 nodes)
TINY="--models tests/data/models_tiny.csv --model tiny-switch"
for t in fast flows; do
    "$BIN" run --platform topologies/h200-32gpu.xml $TINY --plan data=16,expert=8,tensor=1,pipe=2,micro=4 \
        --tokens-per-batch 65536 --zero 1 --dispatch dropless --a2a-timing $t --quiet --csv "$TMPD/t_$t.csv" > /dev/null
done
paste -d, "$TMPD/t_fast.csv" "$TMPD/t_flows.csv" | awk -F, 'NR == 1 { n = NF / 2; for (i = 1; i <= n; i++) c[$i] = i; next }
    { f = $c["step_time_s"]; g = $(n + c["step_time_s"]); d = f / g - 1
      if ($c["a2a"] != "hier" || $(n + c["a2a"]) != "direct" || d > 1e-5 || d < -1e-5) {
          print "plan vs flows: " $c["a2a"] " " f " s, " $(n + c["a2a"]) " " g " s"; exit 1 } }' ||
    { echo "pipeline timed from plans differs from its flows"; exit 1; }
"$BIN" run --platform topologies/h200-32gpu.xml --model olmoe-1b-7b --tokens-per-batch 131072 --zero 1 \
    --dispatch dropless --quiet --csv "$TMPD/o.csv" > "$TMPD/o.txt"
grep -q " a2a [0-9.]*% (across nodes [0-9.]*%) allreduce [0-9.]*% (reduce-scatter+all-gather [0-9.]*%) " "$TMPD/o.txt" ||
    { echo "no across-nodes / reduce-scatter shares:"; cat "$TMPD/o.txt"; exit 1; }
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { x = $c["a2a_across_s"]; a = $c["a2a_s"]; r = $c["rsag_s"]; ar = $c["allreduce_s"]
      if (!(x > 0 && x < a && r > 0 && r < ar)) { print "across " x " of a2a " a ", rsag " r " of " ar; exit 1 } }' \
    "$TMPD/o.csv" || exit 1

# ZeRO-1: the optimizer state per core is 1/32 (0.83 GiB -> 0.03 GiB), the plan line says so
"$BIN" run --platform $P --model t5-base --zero 1 --quiet > "$TMPD/zero"
grep -qF "plan data=32,model=1 with zero-1, dense" "$TMPD/zero" || { echo "zero plan line:"; cat "$TMPD/zero"; exit 1; }
grep -qF "(params 0.83, optimizer 0.03, activations" "$TMPD/zero" || { echo "zero memory:"; cat "$TMPD/zero"; exit 1; }

# bad values: exit 1, the message names the value
expect_fail 1 "$E --plan keys are data, model (or tensor), expert, pipe and micro, got 'stage' in 'stage=4'" - -- \
    "$BIN" run --platform $P --model t5-base --plan stage=4
expect_fail 1 "$E --plan must be data=N,model=M with integers in [1,1000000], got 'pipe=0'" - -- \
    "$BIN" run --platform $P --model t5-base --plan pipe=0
expect_fail 1 "$E plan pipe=3 does not divide the platform's 32 cores" - -- \
    "$BIN" run --platform $P --model t5-base --plan pipe=3
expect_fail 1 "$E plan expert=4: t5-base is dense (no experts), so the expert ways are 1" - -- \
    "$BIN" run --platform $P --model t5-base --plan data=8,expert=4,pipe=4
expect_fail 1 "$E plan expert=3 must divide data 8 and the 8 experts of tiny-switch (groups of expert= data shards each hold every expert)" - -- \
    "$BIN" run --platform topologies/h200-8gpu.xml --models tests/data/models_tiny.csv --model tiny-switch --plan data=8,expert=3
expect_fail 1 "$E plan expert=16 must divide data 8 and the 8 experts of tiny-switch (groups of expert= data shards each hold every expert)" - -- \
    "$BIN" run --platform topologies/h200-8gpu.xml --models tests/data/models_tiny.csv --model tiny-switch --plan data=8,expert=16
expect_fail 1 "$E plan pipe=8 is more stages than the 4 layers of tiny-dense (a stage runs at least one layer)" - -- \
    "$BIN" run --platform topologies/h200-8gpu.xml --models tests/data/models_tiny.csv --model tiny-dense --plan data=1,pipe=8
expect_fail 1 "$E plan pipe=4 with Switch layers: a stage's all-to-alls run among its own chips as direct flows (the phased algorithm's rings would cross the other stages' chips): leave --a2a out or give --a2a direct" - -- \
    "$BIN" run --platform $P --model switch-base --plan pipe=4 --a2a phased
expect_fail 1 "$E plan micro=8 must divide the 4 routing groups of each data shard (a micro-batch routes whole groups)" - -- \
    "$BIN" run --platform topologies/h200-8gpu.xml --models tests/data/models_tiny.csv --model tiny-switch --plan data=4,pipe=2,micro=8

# Switch layers in stages (tiny-switch, 2 encoder + 2 decoder layers, 8 experts, on 8 GPUs): data=4,pipe=2 puts
# layers 0-1 on GPUs 0-3 and layers 2-3 on GPUs 4-7, 2 experts a GPU; each stage's all-to-alls run among its own 4
# GPUs, 2 per layer and phase for each of the 2 micro-batches: 16 per GPU, all in its stage's layers, all but
# the first of each stage replayed (padded: one matrix a stack, symmetric).  Bytes, by
# hand (padded: capacity buffers whole; d_model 64 at 2 bytes): a shard's 1024 encoder tokens are 4 groups of 256
# with C = 1.25 x 256 / 8 = 40, so a GPU sends 4 x 40 slots to each of the 2 experts of each of its 3 stage peers,
# 3 x 320 x 128 = 122880 B per encoder all-to-all and step, 61440 per micro-batch; decoder groups of 64 tokens, C
# = 10: 30720 B per step.  Per GPU and step: 4 GPUs x 2 layers x 4 all-to-alls x 122880 + 4 x 2 x 4 x 30720 over 8
# GPUs = 614400 B, the step line's 0.6144 MB/core.
"$BIN" run --platform topologies/h200-8gpu.xml --models tests/data/models_tiny.csv --model tiny-switch \
    --plan data=4,expert=4,pipe=2,micro=2 --quiet --trace "$TMPD/moe.json" > "$TMPD/moe"
grep -qF "plan data=4,model=1,pipe=2,micro=2, 2 experts/core" "$TMPD/moe" || { echo "moe plan:"; cat "$TMPD/moe"; exit 1; }
grep -qF "all-to-all direct (30 of 32 all-to-alls replayed" "$TMPD/moe" || { echo "moe a2a:"; cat "$TMPD/moe"; exit 1; }
grep -q " bubble [0-9.]*% | .* | a2a 0.6144 MB/core |" "$TMPD/moe" || { echo "moe step:"; cat "$TMPD/moe"; exit 1; }
jq -e '[.traceEvents[] | select(.ph == "X" and (.name | startswith("a2a L"))) | {pid, l: (.name[5:] | tonumber)}]
       | (length == 128) and all(.[]; (.pid <= 4) == (.l <= 1))
       and ([group_by(.pid)[] | length] == [16,16,16,16,16,16,16,16])' "$TMPD/moe.json" > /dev/null \
    || { echo "moe all-to-alls not on their stages' GPUs"; exit 1; }
# Expert groups smaller than the data ways (tiny-switch, 8 experts, on 8 GPUs).  data=8,expert=4: GPUs 0-3 and 4-7
# each hold the 8 experts, 2 a GPU; a GPU's 2 groups of 256 encoder tokens (C = 40) go to the 6 experts on its 3
# group peers only: 6 x 2 x 40 x 128 B = 61440 B per encoder all-to-all, 6 x 2 x 10 x 128 = 15360 per decoder one;
# 2 + 2 layers x 4 all-to-alls: 614400 B a GPU (with expert=8, the 7 other GPUs: 716800 B).
"$BIN" run --platform topologies/h200-8gpu.xml --models tests/data/models_tiny.csv --model tiny-switch \
    --plan data=8,expert=4 --quiet > "$TMPD/eg"
grep -qF "plan data=8,model=1,expert=4, 2 experts/core" "$TMPD/eg" || { echo "groups plan:"; cat "$TMPD/eg"; exit 1; }
grep -q " | a2a 0.6144 MB/core |" "$TMPD/eg" || { echo "groups bytes:"; cat "$TMPD/eg"; exit 1; }
"$BIN" run --platform topologies/h200-8gpu.xml --models tests/data/models_tiny.csv --model tiny-switch \
    --plan data=8,expert=8 --quiet > "$TMPD/eg8"
grep -qF "plan data=8,model=1, 1 expert/core" "$TMPD/eg8" || { echo "expert=8 plan:"; cat "$TMPD/eg8"; exit 1; }
grep -q " | a2a 0.7168 MB/core |" "$TMPD/eg8" || { echo "expert=8 bytes:"; cat "$TMPD/eg8"; exit 1; }
# In a pipeline, data=4,expert=2,pipe=2: each stage's 4 GPUs are 2 expert groups of 2 (GPUs 0-1, 2-3 | 4-5, 6-7),
# 4 experts a GPU, and each group's all-to-alls run on its own 2 GPUs: 4 blocks x 16 = 64 all-to-alls, the first
# of each block simulated (padded, one matrix a stack), 60 replayed.  A GPU sends its 4 groups x 40 slots to the 4
# experts of its one peer: 81920 B per encoder all-to-all and step (20480 decoder), 2/3 of the 122880 B to 3 peers
# x 2 experts of expert=4 above: 409600 B a GPU.
"$BIN" run --platform topologies/h200-8gpu.xml --models tests/data/models_tiny.csv --model tiny-switch \
    --plan data=4,expert=2,pipe=2,micro=2 --quiet > "$TMPD/egp"
grep -qF "plan data=4,model=1,expert=2,pipe=2,micro=2, 4 experts/core" "$TMPD/egp" || { echo "egp:"; cat "$TMPD/egp"; exit 1; }
grep -qF "all-to-all direct (60 of 64 all-to-alls replayed" "$TMPD/egp" || { echo "egp a2a:"; cat "$TMPD/egp"; exit 1; }
grep -q " bubble [0-9.]*% | .* | a2a 0.4096 MB/core |" "$TMPD/egp" || { echo "egp step:"; cat "$TMPD/egp"; exit 1; }
# Uneven stages: tiny-switch with 3 encoder + 2 decoder layers on 2 stages of 4 GPUs: layers 0-2 on GPUs 0-3, 3-4
# on GPUs 4-7 (the first stage one layer more); 2 all-to-alls a layer, phase and micro-batch: 24 and 16 a GPU.
sed 's/^tiny-switch,64,128,relu,2,32,2,2,/tiny-switch5,64,128,relu,2,32,3,2,/' tests/data/models_tiny.csv > "$TMPD/m5.csv"
"$BIN" run --platform topologies/h200-8gpu.xml --models "$TMPD/m5.csv" --model tiny-switch5 \
    --plan data=4,pipe=2,micro=2 --quiet --per-layer --csv "$TMPD/u.csv" --trace "$TMPD/u.json" > "$TMPD/u"
grep -qF "plan data=4,model=1,pipe=2,micro=2, 2 experts/core" "$TMPD/u" || { echo "uneven:"; cat "$TMPD/u"; exit 1; }
jq -e '[.traceEvents[] | select(.ph == "X" and (.name | startswith("a2a L"))) | {pid, l: (.name[5:] | tonumber)}]
       | all(.[]; (.pid <= 4) == (.l <= 2))
       and ([group_by(.pid)[] | length] == [24,24,24,24,16,16,16,16])' "$TMPD/u.json" > /dev/null \
    || { echo "uneven stages: layers 0-2 not on GPUs 0-3, 3-4 not on 4-7"; exit 1; }
expect_fail 1 "$E --zero must be 0, 1 or auto, got '2'" - -- "$BIN" run --platform $P --model t5-base --zero 2
echo "cli_pipe: ok"
