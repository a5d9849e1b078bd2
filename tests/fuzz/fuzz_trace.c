/* fuzz_trace: the routing-trace loader (traces/routing.c) against two expected shapes. */
#include "tests/fuzz/fuzz.h"
#include "traces/routing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input(data, size);
    static const int SHAPE[][3] = { { 2, 2, 4 }, { 1, 3, 8 } };
    for (int k = 0; k < 2; k++) {
        errbuf err = { "" };
        routing_trace *t = routing_trace_load_csv(path, SHAPE[k][0], SHAPE[k][1], SHAPE[k][2], &err);
        fuzz_need_message(t == NULL, &err);
        if (t != NULL) {
            volatile long sink = routing_trace_group_tokens(t, 0);
            (void)sink;
        }
        routing_trace_free(t);
    }
    unlink(path);
    return 0;
}
