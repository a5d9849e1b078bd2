#!/bin/sh
# CLI contract of 'models' ($1 = the switchsim binary): the preset listing, --help, bad files (exit 1,
# the loader's exact message), bad usage (exit 2).  It writes no file, so OUTFILE is '-' throughout.
set -e
BIN=$1
. tests/lib_cli.sh
D=tests/data/models_

# --help documents every option and column, exit 0
"$BIN" models --help > "$TMPD/help" || { echo "models --help failed"; exit 1; }
for o in --models --help params_B active_B expert_params_B fwd_GFLOP_seq experts top_k; do
    grep -q -- "$o" "$TMPD/help" || { echo "models --help lacks $o"; exit 1; }
done

# the shipped presets: a header and one line per model, in file order, with the computed numbers
"$BIN" models > "$TMPD/list" || { echo "models failed"; exit 1; }
cat > "$TMPD/want" <<'END'
name                 params_B   active_B  expert_params_B  fwd_GFLOP_seq  experts  top_k
t5-base                 0.223      0.223            0.000          124.8        1      1
t5-large                0.738      0.738            0.000          433.2        1      1
t5-xxl                 11.004     11.004            0.000         6293.2        1      1
switch-base             7.415      0.224            7.248          125.6      128      1
switch-base-plus        8.684      0.294            8.456          164.8      128      1
moe-base                7.415      0.281            7.248          161.0      128      2
switch-large           26.309      0.741           25.770          435.2      128      1
switch-xxl            394.543     11.016          386.547         6301.1      128      1
switch-c             1571.261      1.680         1570.347          952.3     2048      1
mixtral-8x7b           46.703     12.880           45.097       107760.7        8      2
mixtral-8x22b         140.621     39.152          135.291       329051.4        8      2
deepseek-moe-16b       16.376      2.829           14.948        21659.5       64      6
deepseek-v3           671.026     37.552          653.909       334357.2      256      8
qwen1.5-moe-a2.7b      14.316      2.689           12.457        40455.4       60      4
qwen3-30b-a3b          30.532      3.353           28.991        28965.3      128      8
olmoe-1b-7b             6.919      1.282            6.442         9912.8       64      8
dbrx                  131.597     36.470          126.836      2836997.7       16      4
gpt-oss-120b          116.789      5.710          114.662        42237.5      128      4
gpt-oss-20b            20.908      4.186           19.110        28104.0       32      4
llama4-scout          107.770     17.173           96.637       280439.9       16      1
END
diff "$TMPD/want" "$TMPD/list" || { echo "models: listing differs from the expected one"; exit 1; }

# a user's file in the same columns (other order, notes, CRLF) via --models
"$BIN" models --models ${D}good_user.csv > "$TMPD/user" || { echo "models --models good_user failed"; exit 1; }
[ "$(wc -l < "$TMPD/user")" -eq 3 ] || { echo "models --models good_user: expected 3 lines"; exit 1; }
grep -q '^top2 ' "$TMPD/user" || { echo "models --models good_user: no 'top2' line"; exit 1; }

# bad files: exit 1, the loader's message prefixed, nothing on stdout
expect_fail 1 "switchsim: error: ${D}nope.csv: cannot open: No such file or directory" - -- \
    "$BIN" models --models ${D}nope.csv
[ ! -s "$TMPD/stdout" ] || { echo "models: output on stdout after a failure"; exit 1; }
expect_fail 1 "switchsim: error: ${D}bad_int.csv:3: column 'd_model' must be an integer in [1, 65536], got 'abc'" - -- \
    "$BIN" models --models ${D}bad_int.csv
[ ! -s "$TMPD/stdout" ] || { echo "models: output on stdout after a failure"; exit 1; }
expect_fail 1 "switchsim: error: ${D}missing_col.csv:1: missing column 'top_k'" - -- \
    "$BIN" models --models ${D}missing_col.csv
expect_fail 1 "switchsim: error: ${D}dup_name.csv:4: column 'name' must be unique (first used on line 2), got 'tiny'" - -- \
    "$BIN" models --models ${D}dup_name.csv
expect_fail 1 "switchsim: error: ${D}bad_act.csv:2: column 'ffn_act' must be 'relu', 'gelu', 'geglu' or 'swiglu', got 'silu'" - -- \
    "$BIN" models --models ${D}bad_act.csv
expect_fail 1 "switchsim: error: ${D}topk_gt_e.csv:2: column 'top_k' must be <= experts (1), got '2'" - -- \
    "$BIN" models --models ${D}topk_gt_e.csv
# a Switch layer of one expert is refused (it is a dense FFN that would be charged routing and all-to-alls)
expect_fail 1 "switchsim: error: ${D}one_expert.csv:2: column 'experts' must be >= 2 when expert_every is not 0 (one expert is a dense FFN: set expert_every 0), got '1'" - -- \
    "$BIN" models --models ${D}one_expert.csv
expect_fail 1 "switchsim: error: ${D}one_expert.csv:2: column 'experts' must be >= 2 when expert_every is not 0 (one expert is a dense FFN: set expert_every 0), got '1'" - -- \
    "$BIN" run --models ${D}one_expert.csv --model tiny2 --platform topologies/tpuv3-2x2.xml
# a decoder-only preset runs (one sequence per GPU: the whole default batch does not fit in HBM at once)
"$BIN" run --model mixtral-8x7b --platform topologies/h200-8gpu.xml --tokens-per-batch 32768 --routing uniform \
    > "$TMPD/mixtral" || { echo "run mixtral-8x7b failed"; exit 1; }
grep -q '^mixtral-8x7b on topologies/h200-8gpu.xml: 8 cores (8 chips), plan data=8,model=1, 1 expert/core, top-2, cf 1.25, capacity 640 tokens/expert/group, 1 groups/core$' \
    "$TMPD/mixtral" || { echo "run mixtral-8x7b: unexpected plan line"; exit 1; }
# tokens/s = examples/s x 4096 tokens per sequence
awk '/^step / { for (i = 1; i < NF; i++) { if ($(i+1) == "examples/s") ex = $i; if ($(i+1) == "tokens/s") tk = $i } }
     END { exit !(ex > 0 && tk / ex > 4095 && tk / ex < 4097) }' "$TMPD/mixtral" || { echo "run mixtral-8x7b: tokens/s"; exit 1; }
expect_fail 1 "switchsim: error: ${D}empty.csv:1: empty file, expected a header row naming the columns" - -- \
    "$BIN" models --models ${D}empty.csv

# bad usage: exit 2
expect_fail 2 "switchsim: error: models: unknown option '--bogus' (switchsim models --help lists the options)" - -- "$BIN" models --bogus
expect_fail 2 "switchsim: error: models: option '--models' needs a value (switchsim models --help lists the options)" - -- "$BIN" models --models
expect_fail 2 "switchsim: error: unexpected argument 'switch-c'" - -- "$BIN" models switch-c
echo "cli_models: ok"
