/* fuzz.h: what every libFuzzer harness shares: the input written to a file (every parser reads a path), in
 * the scratch folder $SWITCHSIM_FUZZ_DIR that tests/fuzz/run.sh checks is left empty, and an abort() when a
 * rejection comes without a message (a failure must always say why). */
#ifndef SWITCHSIM_FUZZ_H
#define SWITCHSIM_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sim/common/errbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes data to DIR/input.PID (DIR: $SWITCHSIM_FUZZ_DIR, else /tmp); the path stays valid until the next call. */
static inline const char *fuzz_input(const uint8_t *data, size_t size)
{
    static char path[4096];
    const char *dir = getenv("SWITCHSIM_FUZZ_DIR");
    snprintf(path, sizeof path, "%s/input.%ld", dir != NULL ? dir : "/tmp", (long)getpid());
    FILE *fp = fopen(path, "wb");
    if (fp == NULL || (size > 0 && fwrite(data, 1, size, fp) != size) || fclose(fp) != 0) {
        perror(path);
        abort();
    }
    return path;
}

/* A path next to the input for an output the harness writes (removed by the harness). */
static inline const char *fuzz_output(const char *name)
{
    static char path[4096];
    const char *dir = getenv("SWITCHSIM_FUZZ_DIR");
    snprintf(path, sizeof path, "%s/%s.%ld", dir != NULL ? dir : "/tmp", name, (long)getpid());
    return path;
}

static inline void fuzz_need_message(int failed, const errbuf *err)
{
    if (failed && err->msg[0] == '\0') {
        fprintf(stderr, "fuzz: a rejection without a message\n");
        abort();
    }
}

#endif
