/* cmd: the subcommands of the switchsim CLI.  Each takes the arguments after its name
 * (argv[0] is the subcommand name, as for getopt_long) and returns the process exit code:
 * 0 success, 1 bad input or I/O failure, 2 usage.  Only sim/cli/main.c exits. */
#ifndef SWITCHSIM_CMD_H
#define SWITCHSIM_CMD_H

#include <stddef.h>

int cmd_run(int argc, char **argv);        /* sim/cli/cmd_run.c: one simulated training step */
int cmd_sweep(int argc, char **argv);      /* sim/cli/cmd_sweep.c: every combination, one CSV row each */
int cmd_merge(int argc, char **argv);      /* sim/cli/cmd_sweep.c: merge part CSVs with equal headers */
int cmd_summarize(int argc, char **argv);  /* sim/cli/cmd_sweep.c: mean/stddev/min/max over seeds */
int cmd_validate(int argc, char **argv);   /* sim/cli/cmd_validate.c: built-in checks vs bounds and papers */
int cmd_calibrate(int argc, char **argv);  /* sim/cli/cmd_calibrate.c: fit GPU cost parameters to measured rows */
int cmd_models(int argc, char **argv);     /* sim/cli/cmd_models.c: list the model presets */
int cmd_topology(int argc, char **argv);   /* sim/cli/cmd_topology.c: write a torus platform XML */
int cmd_collective(int argc, char **argv); /* sim/cli/cmd_collective.c: one collective over a range of sizes */

/* A data file shipped with switchsim (e.g. "models/gshard.csv"): 'rel' if the current directory has it, else
 * the copy next to the binary (<bindir>/../rel, as build/switchsim in the source tree, or
 * <bindir>/../share/switchsim/rel), else the installed copy (SWITCHSIM_DATADIR/rel); 'rel' when none is
 * readable (its reader then names it).  Returns 'rel' or 'buf' (sim/cli/cmd_models.c). */
const char *cmd_data_path(const char *rel, char *buf, size_t n);
/* cmd_data_path("models/models.csv") in a static buffer. */
const char *cmd_models_default_path(void);

#endif
