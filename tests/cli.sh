#!/bin/sh
# CLI contract tests: runs every tests/cli_*.sh with the switchsim binary as $1.
# Each script exits non-zero on the first failed expectation and says which.
set -e
BIN=${1:-build/switchsim}
fail=0
for t in tests/cli_*.sh; do
    [ -f "$t" ] || continue
    echo "== $t"
    if ! sh "$t" "$BIN"; then
        echo "FAIL: $t"
        fail=1
    fi
done
exit $fail
