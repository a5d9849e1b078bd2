/* PLACEHOLDER until its issue lands: 'topology' is not built yet. */
#include "sim/cmd.h"

#include <stdio.h>

int cmd_topology(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "switchsim: error: 'topology' is not built yet\n");
    return 2;
}
