/* PLACEHOLDER until its issue lands: 'validate' is not built yet. */
#include "sim/cmd.h"

#include <stdio.h>

int cmd_validate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "switchsim: error: 'validate' is not built yet\n");
    return 2;
}
