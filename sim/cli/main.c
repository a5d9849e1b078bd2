/* switchsim: predicts the training step time of Switch Transformer models on a TPU-like torus.
 * This file only dispatches subcommands; it is the one place that exits. */
#include "sim/cli/cmd.h"
#include "sim/simproc.h"
#include "version.h"              /* $(BUILD)/version.h: SWITCHSIM_VERSION, SWITCHSIM_GIT_COMMIT (Makefile) */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *what;
} COMMANDS[] = {
    { "run",       cmd_run,       "simulate one training step and report where the time goes" },
    { "sweep",     cmd_sweep,     "run every combination of the listed values, one CSV row each" },
    { "merge",     cmd_merge,     "merge CSV files written by separate runs (headers must match)" },
    { "summarize", cmd_summarize, "mean, stddev, min, max over seeds per configuration of a CSV" },
    { "validate",  cmd_validate,  "run the built-in checks against analytical bounds and published figures" },
    { "calibrate", cmd_calibrate, "fit the GPU cost model's named parameters to a measured dataset's calibration rows" },
    { "models",    cmd_models,    "list the model presets with parameter counts and FLOPs" },
    { "topology",  cmd_topology,  "write a platform XML: a TPU torus or GPU nodes (NVSwitch, NICs)" },
    { "collective", cmd_collective, "time one collective over a range of sizes (nccl-tests columns) against its bound" },
};
#define N_COMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void usage(FILE *fp)
{
    fprintf(fp, "usage: switchsim COMMAND [OPTIONS]    (switchsim COMMAND --help for its options)\n\n"
                "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(fp, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].what);
    fprintf(fp, "\n  --version  the version, the git commit it was built from and the SimGrid library's version\n"
                "\nexit codes: 0 success, 1 bad input or I/O failure, 2 usage\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        int major, minor, patch;
        simproc_simgrid_version(&major, &minor, &patch);
        printf("switchsim %s (git %s), SimGrid %d.%d.%d\n", SWITCHSIM_VERSION, SWITCHSIM_GIT_COMMIT, major, minor,
               patch);
        return 0;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[1], COMMANDS[i].name) == 0)
            exit(COMMANDS[i].fn(argc - 1, argv + 1));
    fprintf(stderr, "switchsim: error: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
