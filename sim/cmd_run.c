/* PLACEHOLDER until its issue lands: 'run' is not built yet. */
#include "sim/cmd.h"

#include <stdio.h>

int cmd_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "switchsim: error: 'run' is not built yet\n");
    return 2;
}
