/* simproc: SimGrid initialisation for every switchsim simulation, and running one simulation in a forked
 * child process.  A SimGrid engine can be initialised once per process, so validate, sweep and the tests run
 * each simulation in its own child and get its numbers back through a pipe. */
#ifndef SWITCHSIM_SIMPROC_H
#define SWITCHSIM_SIMPROC_H

#include "sim/common/errbuf.h"
#include "sim/netmodel.h"

/* The only place that calls simgrid_init.  Adds the fast settings (SOURCES 8: network/optim:Lazy, which is
 * the default and ~3.7x faster than Full; surf/precision:1e-6, same simulated times, ~30% less wall time),
 * then one --cfg=ITEM per space-separated "key:value" item of the environment variable SWITCHSIM_SIMGRID_CFG
 * (e.g. "contexts/factory:thread", set by 'make sanitize'), then the caller's own arguments (argv[1..]), so a
 * --cfg given on the command line wins.  SimGrid consumes the arguments it knows from argc/argv.
 * The network model is the caller's (sim/netmodel.h: its --cfg items go in argv). */
void simproc_simgrid_init(int *argc, char **argv);

/* simproc_simgrid_init with network model m's --cfg items (sim/netmodel.h) and, when quiet, SimGrid's log
 * below critical silenced, then SimGrid loads the platform file.  Check the file first (platform_precheck):
 * SimGrid's parser aborts the process on a bad one.  netmodel_apply is the caller's, after platform_read. */
void simproc_simgrid_start(const char *platform, netmodel m, int quiet);

/* The version of the SimGrid library loaded (sg_version_get), for 'switchsim --version'. */
void simproc_simgrid_version(int *major, int *minor, int *patch);

/* Runs fn(arg, out, nout, err) in a forked child and passes the nout doubles it wrote to out back through a
 * pipe.  Returns 0, or -1 with err: the child's own error message when fn returned -1, or a message naming
 * the signal / exit status when the child crashed or exited without answering, or answered and then did not
 * exit 0 ("... after answering": e.g. valgrind's --error-exitcode for an error or leak in the child).  out is left untouched on
 * failure.  The child ends with _exit() (the one documented exception to "only main exits"). */
int simproc_run(int (*fn)(void *arg, double *out, int nout, errbuf *err), void *arg, double *out, int nout,
                errbuf *err);

#endif
