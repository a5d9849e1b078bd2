# Shared helpers for tests/cli_*.sh (sourced, not run: its name has no cli_ test of its own to run).
# expect_fail CODE MESSAGE OUTFILE -- CMD...: CMD must exit CODE, print MESSAGE (exact line) on stderr,
# and leave OUTFILE absent (use '-' for no file).
TMPD=$(mktemp -d)
trap 'rm -rf "$TMPD"' EXIT
expect_fail() {
    code=$1; msg=$2; out=$3; shift 4
    set +e
    "$@" >"$TMPD/stdout" 2>"$TMPD/stderr"
    rc=$?
    set -e
    if [ "$rc" != "$code" ]; then
        echo "expected exit $code, got $rc: $*"; cat "$TMPD/stderr"; exit 1
    fi
    if ! grep -qxF -- "$msg" "$TMPD/stderr"; then
        echo "expected message: $msg"; echo "got:"; cat "$TMPD/stderr"; exit 1
    fi
    if [ "$out" != "-" ] && [ -e "$out" ]; then
        echo "output file $out must not exist after a failure: $*"; exit 1
    fi
}
