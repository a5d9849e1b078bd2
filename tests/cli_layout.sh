#!/bin/sh
# The invariants of ARCHITECTURE.md, checked on the sources ($1, the binary, is not used): only sim/ includes
# SimGrid; only sim/cli/main.c exits (a forked child ends with _exit, in the two places that fork); the step's
# engine writes no file and includes nothing of fidelity/; fidelity/ includes no SimGrid header and nothing of
# the program.  Each rule prints the lines that break it.
set -e
fail=0
SRC=$(find models topologies traces analysis fidelity sim -name '*.[ch]')

# only sim/ includes SimGrid headers (the tests that check platforms against SimGrid's routes may too)
bad=$(grep -ln '#include *<simgrid' $SRC | grep -v '^sim/' || true)
[ -z "$bad" ] || { echo "cli_layout: a SimGrid header included outside sim/:"; echo "$bad"; fail=1; }

# only main exits; _exit only in the forked children of simproc (simulations) and sweep (runs)
bad=$(grep -n '\bexit *(' $SRC | grep -v '^sim/cli/main\.c:' || true)
[ -z "$bad" ] || { echo "cli_layout: exit() outside sim/cli/main.c:"; echo "$bad"; fail=1; }
bad=$(grep -ln '\b_exit *(' $(echo "$SRC" | grep '\.c$') | grep -v '^sim/simproc\.c$' | grep -v '^analysis/sweep\.c$' || true)
[ -z "$bad" ] || { echo "cli_layout: _exit() outside the forked children:"; echo "$bad"; fail=1; }

# the engine of one step writes no file: no fopen for writing, no atomic write or batch commit (a routing dump is
# added to the caller's batch, which 'run' commits), no temp files or renames
ENGINE="sim/engine.c sim/sched.c sim/timer.c sim/traffic.c sim/collectives.c sim/collplan.c sim/collhier.c sim/cost.c
        sim/plan.c sim/route.c sim/netmodel.c"
for f in $ENGINE; do
    [ -f "$f" ] || continue
    bad=$(grep -n 'fopen *([^)]*"[wa]\|atomic_file_write\|atomic_batch_commit\|mkstemp\|mkdtemp\|rename *(\|remove *(\|unlink *(' "$f" || true)
    [ -z "$bad" ] || { echo "cli_layout: $f writes a file:"; echo "$bad"; fail=1; }
done

# fidelity/ runs the engine through its headers: no SimGrid header, nothing of sim/cli/ or analysis/
bad=$(grep -n '#include *"sim/cli/\|#include *"analysis/' fidelity/*.[ch] || true)
[ -z "$bad" ] || { echo "cli_layout: fidelity/ includes the program or analysis/:"; echo "$bad"; fail=1; }

# the engine (sim/, not its program) includes nothing of fidelity/: scoring sits above simulating
bad=$(grep -ln '#include *"fidelity/' $(ls sim/*.[ch]) || true)
[ -z "$bad" ] || { echo "cli_layout: the engine includes fidelity/:"; echo "$bad"; fail=1; }

# the libraries include nothing of the program: sim/cli/ is included from sim/cli/ only
bad=$(grep -ln '#include *"sim/cli/' $SRC | grep -v '^sim/cli/' || true)
[ -z "$bad" ] || { echo "cli_layout: sim/cli/ included from a library:"; echo "$bad"; fail=1; }

[ $fail = 0 ] && echo "cli_layout: ok"
exit $fail
