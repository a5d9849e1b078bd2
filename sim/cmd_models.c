/* PLACEHOLDER until its issue lands: 'models' is not built yet. */
#include "sim/cmd.h"

#include <stdio.h>

int cmd_models(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "switchsim: error: 'models' is not built yet\n");
    return 2;
}
