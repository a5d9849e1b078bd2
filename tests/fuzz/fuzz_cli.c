/* fuzz_cli: command-line values as run and sweep parse them: the input is NUL-separated strings; the first
 * byte picks an entry of run's option table (sim/runopt.c), whose parser takes each string, and the strings
 * also go to sweep as that axis's list (analysis/sweep.c) and as --run-arg, with every combination's argv
 * built.  Values that parse must parse the same twice (runopt_same). */
#include <string.h>

#include "analysis/sweep.h"
#include "sim/runopt.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    char *buf = malloc(size + 1);
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    const runopt *o = runopt_at(data[0] % runopt_count());
    sweep_spec s;
    sweep_spec_init(&s);
    for (char *v = buf; v < buf + size - 1; v += strlen(v) + 1) {
        runopt_args a = runopt_args_default("models/models.csv");
        errbuf err = { "" };
        int rc = runopt_set(&a, o, NULL, o->arg != NULL ? v : NULL, &err);
        fuzz_need_message(rc != 0, &err);
        if (rc == 0 && o->arg != NULL && !runopt_same(o, v, v)) {
            fprintf(stderr, "fuzz: '%s' is not the same value as itself for %s\n", v, o->name);
            abort();
        }
        if (o->axis > 0) {
            errbuf serr = { "" };
            int src = sweep_spec_set(&s, runopt_sweep_name(o), v, &serr);
            fuzz_need_message(src != 0, &serr);
        }
        errbuf xerr = { "" };
        if (sweep_spec_add_extra(&s, v, &xerr) != 0)
            fuzz_need_message(1, &xerr);
    }
    long n = sweep_count(&s);
    if (n < 1 || n > SWEEP_COMBOS_MAX)
        abort();
    const char *argv[SWEEP_ARGV_MAX];
    char part[64];
    sweep_argv(argv, &s, 0, "switchsim", "part.csv");
    sweep_argv(argv, &s, n - 1, "switchsim", "part.csv");
    if (sweep_part_name(part, sizeof part, &s, n - 1) != 0)
        abort();
    sweep_spec_fini(&s);
    free(buf);
    return 0;
}
