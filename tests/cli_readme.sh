#!/bin/sh
# The README's example outputs, rerun and compared (a doc test, as SimGrid's tesh files): each fenced block
# after a line '<!-- output of: CMD -->' must be what CMD prints now, wall-clock times masked.  A block whose
# first line starts with '$ ' shows the command: that line is kept as written.
# usage: sh tests/cli_readme.sh BIN [--update]     (--update rewrites the blocks: 'make readme')
# CMD is run by sh from the repository root, with a leading 'build/switchsim' replaced by BIN.
set -e
BIN=$1
UPDATE=${2:-}
README=${README:-README.md}
. tests/lib_cli.sh

# Wall-clock parts: "wall 1.11 s (setup 0.99, ...)" and "# wall 0.25 s in SimGrid".
mask() { sed -E 's/wall [0-9.]+ s( \([^)]*\))?/wall (masked) s/g'; }

# The commands, one per line, in README order.
sed -n 's/^<!-- output of: \(.*\) -->$/\1/p' "$README" > "$TMPD/cmds"
[ -s "$TMPD/cmds" ] || { echo "cli_readme: no '<!-- output of: CMD -->' block in $README"; exit 1; }
n=0
while IFS= read -r cmd; do
    n=$((n + 1))
    run=$(printf '%s\n' "$cmd" | sed "s|^build/switchsim|$BIN|")
    sh -c "$run" > "$TMPD/new.$n" 2>/dev/null < /dev/null || { echo "cli_readme: '$cmd' failed"; exit 1; }
    # the block as written: the lines between the fence after the n-th marker and its closing fence
    awk -v n="$n" '/^<!-- output of: / { m++; next } m == n && !open && /^```/ { open = 1; next }
        m == n && open && /^```/ { exit } m == n && open && !(first++ == 0 && /^\$ /) { print }' "$README" \
        > "$TMPD/old.$n"
    mask < "$TMPD/new.$n" > "$TMPD/new.$n.masked"
    if [ -z "$UPDATE" ] && ! mask < "$TMPD/old.$n" | cmp -s - "$TMPD/new.$n.masked"; then
        echo "cli_readme: the output of '$cmd' differs from $README's (wall times masked; 'make readme'"
        echo "rewrites the blocks):"
        mask < "$TMPD/old.$n" | diff - "$TMPD/new.$n.masked" || true
        exit 1
    fi
done < "$TMPD/cmds"
if [ -n "$UPDATE" ]; then
    # every block's body replaced by its new output (a '$ ' first line kept)
    awk -v dir="$TMPD" '
        function body() { f = dir "/new." m; while ((getline l < f) > 0) print l; close(f) }
        /^<!-- output of: / { m++; print; want = 1; next }
        want && !open && /^```/ { print; open = 1; first = 1; next }
        open && /^```/ { if (first) body(); print; open = 0; want = 0; next }
        open && first && /^\$ / { print; body(); first = 0; next }
        open && first { body(); first = 0; next }
        open { next }
        { print }' "$README" > "$TMPD/readme.new"
    cat "$TMPD/readme.new" > "$README"
    echo "cli_readme: $n blocks of $README rewritten" >&2
    exit 0
fi
echo "cli_readme: ok ($n blocks)"
