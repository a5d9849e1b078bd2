/* fuzz_models: the model preset loader (models/model.c), then every accepted row through what follows from a
 * preset: parameter counts, FLOPs and the plan layout over a few core counts (overflow and slow searches). */
#include <string.h>

#include "models/model.h"
#include "sim/plan.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input(data, size);
    errbuf err = { "" };
    model_set *s = model_set_load_csv(path, &err);
    fuzz_need_message(s == NULL, &err);
    for (int i = 0; s != NULL && i < s->n; i++) {
        const model_cfg *m = &s->rows[i];
        volatile double sink = model_params_total(m) + model_flops_per_seq(m) + model_sparse_layers(m);
        (void)sink;
        static const int CORES[] = { 1, 8, 32, 2048 };
        for (size_t c = 0; c < sizeof CORES / sizeof CORES[0]; c++) {
            plan p;
            errbuf perr = { "" };
            int rc = plan_layout(&p, m, CORES[c], 2, 0, 1, m->top_k, m->capacity_factor, 0, &perr);
            fuzz_need_message(rc != 0, &perr);
        }
    }
    model_set_free(s);
    unlink(path);
    return 0;
}
