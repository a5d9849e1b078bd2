#!/bin/sh
# CLI contract of 'models' ($1 = the switchsim binary): the preset listing, --help, bad files (exit 1,
# the loader's exact message), bad usage (exit 2).  It writes no file, so OUTFILE is '-' throughout.
set -e
BIN=$1
. tests/lib_cli.sh
D=tests/data/models_

# --help documents every option and column, exit 0
"$BIN" models --help > "$TMPD/help" || { echo "models --help failed"; exit 1; }
for o in --models --help params_B expert_params_B fwd_GFLOP_seq experts top_k; do
    grep -q -- "$o" "$TMPD/help" || { echo "models --help lacks $o"; exit 1; }
done

# the shipped presets: a header and one line per model, in file order, with the computed numbers
"$BIN" models > "$TMPD/list" || { echo "models failed"; exit 1; }
cat > "$TMPD/want" <<'END'
name                params_B  expert_params_B  fwd_GFLOP_seq  experts  top_k
t5-base                0.223            0.000          124.8        1      1
t5-large               0.738            0.000          433.2        1      1
t5-xxl                11.004            0.000         6293.2        1      1
switch-base            7.415            7.248          125.6      128      1
switch-base-plus       8.684            8.456          164.8      128      1
moe-base               7.415            7.248          161.0      128      2
switch-large          26.309           25.770          435.2      128      1
switch-xxl           394.543          386.547         6301.1      128      1
switch-c            1571.261         1570.347          952.3     2048      1
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
expect_fail 1 "switchsim: error: ${D}bad_act.csv:2: column 'ffn_act' must be 'relu' or 'geglu', got 'gelu'" - -- \
    "$BIN" models --models ${D}bad_act.csv
expect_fail 1 "switchsim: error: ${D}topk_gt_e.csv:2: column 'top_k' must be <= experts (1), got '2'" - -- \
    "$BIN" models --models ${D}topk_gt_e.csv
expect_fail 1 "switchsim: error: ${D}empty.csv:1: empty file, expected a header row naming the columns" - -- \
    "$BIN" models --models ${D}empty.csv

# bad usage: exit 2
expect_fail 2 "switchsim: error: unknown option '--bogus'" - -- "$BIN" models --bogus
expect_fail 2 "switchsim: error: option '--models' needs a value" - -- "$BIN" models --models
expect_fail 2 "switchsim: error: unexpected argument 'switch-c'" - -- "$BIN" models switch-c
echo "cli_models: ok"
