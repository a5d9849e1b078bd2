/* validate: collects and prints the built-in checks. */
#include "sim/validate.h"

#include <stdlib.h>
#include <string.h>

void vreport_init(vreport *r)
{
    r->v = NULL;
    r->n = r->cap = 0;
}

void vreport_fini(vreport *r)
{
    free(r->v);
    vreport_init(r);
}

int vreport_add(vreport *r, const char *name, const char *unit, double model, double ref,
                double lo, double hi, const char *source)
{
    if (r->n == r->cap) {
        int cap = r->cap ? 2 * r->cap : 16;
        vcheck *v = realloc(r->v, (size_t)cap * sizeof *v);
        if (v == NULL)
            return -1;
        r->v = v;
        r->cap = cap;
    }
    vcheck *c = &r->v[r->n++];
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->unit, sizeof c->unit, "%s", unit);
    snprintf(c->source, sizeof c->source, "%s", source);
    c->model = model;
    c->ref = ref;
    c->lo = lo;
    c->hi = hi;
    return 0;
}

static int vcheck_pass(const vcheck *c)
{
    return c->model >= c->lo && c->model <= c->hi;   /* NaN fails */
}

int vreport_failed(const vreport *r)
{
    int n = 0;
    for (int i = 0; i < r->n; i++)
        n += !vcheck_pass(&r->v[i]);
    return n;
}

void vreport_print(const vreport *r, FILE *fp)
{
    fprintf(fp, "%-64s %12s %12s %8s %-6s %-25s %s\n", "check", "model", "reference", "error", "result",
            "pass range", "source");
    for (int i = 0; i < r->n; i++) {
        const vcheck *c = &r->v[i];
        double err = c->ref != 0.0 ? (c->model - c->ref) / c->ref * 100.0 : 0.0;
        char range[64];
        snprintf(range, sizeof range, "[%.4g, %.4g] %s", c->lo, c->hi, c->unit);
        fprintf(fp, "%-64s %12.4g %12.4g %7.1f%% %-6s %-25s %s\n", c->name, c->model, c->ref, err,
                vcheck_pass(c) ? "PASS" : "FAIL", range, c->source);
    }
    fprintf(fp, "%d checks, %d failed\n", r->n, vreport_failed(r));
}
