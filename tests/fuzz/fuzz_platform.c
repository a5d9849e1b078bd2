/* fuzz_platform: the platform precheck (sim/platform.c with sim/platxml.c) on every input; an input it accepts
 * is then loaded by SimGrid and read back (platform_read) in a child process, since SimGrid initialises once
 * per process and aborts on what it cannot parse: a child killed by a signal is a finding (the precheck let
 * through a file SimGrid aborts on). */
#include <string.h>

#include <simgrid/engine.h>

#include "sim/platform.h"
#include "sim/simproc.h"
#include "tests/fuzz/fuzz.h"

static int read_child(void *arg, double *out, int nout, errbuf *err)
{
    (void)out;
    (void)nout;
    const char *path = arg;
    int argc = 1;
    char prog[] = "fuzz_platform";
    char *argv[] = { prog, NULL };
    simproc_simgrid_init(&argc, argv);
    simgrid_load_platform(path);
    cost_chip chip;
    platform_torus torus;
    return platform_read(&chip, &torus, path, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input(data, size);
    errbuf err = { "" };
    int rc = platform_precheck(path, &err);
    fuzz_need_message(rc != 0, &err);
    if (rc == 0 && getenv("SWITCHSIM_FUZZ_NO_SIMGRID") == NULL) {
        errbuf cerr = { "" };
        if (simproc_run(read_child, (void *)path, NULL, 0, &cerr) != 0
            && (strstr(cerr.msg, "killed by signal") != NULL || strstr(cerr.msg, "without an answer") != NULL)) {
            fprintf(stderr, "fuzz: the precheck accepted a file SimGrid could not load: %s\n", cerr.msg);
            abort();
        }
    }
    unlink(path);
    return 0;
}
