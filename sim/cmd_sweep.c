/* PLACEHOLDER until its issue lands: 'sweep' is not built yet. */
#include "sim/cmd.h"

#include <stdio.h>

int cmd_sweep(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "switchsim: error: 'sweep' is not built yet\n");
    return 2;
}

int cmd_merge(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "switchsim: error: 'merge' is not built yet\n");
    return 2;
}

int cmd_summarize(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "switchsim: error: 'summarize' is not built yet\n");
    return 2;
}
