/* collmeas: a measured collective dataset, its predictions by the engine's collectives, its validate section. */
#include "fidelity/collmeas.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/common/csvread.h"
#include "fidelity/measured.h"
#include "sim/simproc.h"

/* The validation's targets: |error| of the bandwidth-bound rows (>= 1 MiB) about 15%; the latency-bound rows,
 * where NCCL's low-latency protocols and per-call costs (not modelled) rule, about 50%.  A measured row passes
 * within twice its target. */
#define COLLMEAS_LARGE_TARGET 0.15
#define COLLMEAS_SMALL_TARGET 0.50
/* Most sizes one (GPU count, op) group may have (1 KiB to 1 GiB by factors of 2 is 21). */
#define COLLMEAS_GROUP_MAX 64

void collmeas_free(collmeas_set *s)
{
    if (s == NULL)
        return;
    free(s->op);
    free(s->gpus);
    free(s->bytes);
    free(s->time_s);
    free(s->measured);
    free(s);
}

collmeas_set *collmeas_load(const char *path, errbuf *err)
{
    csvtab *t = csvtab_read(path, err);
    if (t == NULL)
        return NULL;
    collmeas_set *s = calloc(1, sizeof *s);
    static const char *const NEED[] = { "op", "gpus", "bytes", "time_us", "device" };
    int col[5];
    if (s == NULL) {
        errbuf_set(err, "%s: out of memory", path);
        goto fail;
    }
    for (int k = 0; k < 5; k++)
        if ((col[k] = csvtab_col(t, NEED[k])) < 0) {
            errbuf_set(err, "%s:%ld: missing column '%s'", path, t->line[0], NEED[k]);
            goto fail;
        }
    if (t->nrows == 0) {
        errbuf_set(err, "%s: no data rows", path);
        goto fail;
    }
    s->n = t->nrows;
    s->op = calloc((size_t)s->n, sizeof *s->op);
    s->gpus = calloc((size_t)s->n, sizeof *s->gpus);
    s->bytes = calloc((size_t)s->n, sizeof *s->bytes);
    s->time_s = calloc((size_t)s->n, sizeof *s->time_s);
    s->measured = calloc((size_t)s->n, sizeof *s->measured);
    if (!s->op || !s->gpus || !s->bytes || !s->time_s || !s->measured) {
        errbuf_set(err, "%s: out of memory", path);
        goto fail;
    }
    for (int i = 0; i < s->n; i++) {
        long line = t->line[i + 1], g;
        const char *v = csvtab_get(t, i, col[0]);
        if (collbench_op_parse(&s->op[i], v) != 0) {
            errbuf_set(err, "%s:%ld: column 'op' must be all-to-all, all-reduce, all-gather or reduce-scatter, "
                       "got '%s'", path, line, v);
            goto fail;
        }
        v = csvtab_get(t, i, col[1]);
        if (errbuf_parse_long(v, &g) != 0 || g < 1 || g > MEASURED_GPUS_MAX) {
            errbuf_set(err, "%s:%ld: column 'gpus' must be an integer in [1,%d], got '%s'", path, line,
                       MEASURED_GPUS_MAX, v);
            goto fail;
        }
        s->gpus[i] = (int)g;
        v = csvtab_get(t, i, col[2]);
        if (errbuf_parse_double(v, &s->bytes[i]) != 0 || !(s->bytes[i] > 0.0) || s->bytes[i] > 1e15) {
            errbuf_set(err, "%s:%ld: column 'bytes' must be a number in (0, 1e15], got '%s'", path, line, v);
            goto fail;
        }
        v = csvtab_get(t, i, col[3]);
        double us;
        if (v[0] == '\0') {
            s->time_s[i] = (double)NAN;
        } else if (errbuf_parse_double(v, &us) != 0 || !(us > 0.0) || !isfinite(us)) {
            errbuf_set(err, "%s:%ld: column 'time_us' must be a number > 0 or empty, got '%s'", path, line, v);
            goto fail;
        } else {
            s->time_s[i] = us * 1e-6;
            s->measured[i] = 1;
        }
    }
    snprintf(s->device, sizeof s->device, "%s", csvtab_get(t, 0, col[4]));
    csvtab_free(t);
    return s;
fail:
    collmeas_free(s);
    csvtab_free(t);
    return NULL;
}

static int by_bytes(const void *a, const void *b)
{
    double x = **(const double *const *)a, y = **(const double *const *)b;
    return (x > y) - (x < y);
}

/* One (GPU count, op) group: the rows of it, their sizes increasing, one collbench run. */
static int predict_group(double *pred_s, const collmeas_set *s, int gpus, collbench_op op, const char *platform1,
                         errbuf *err)
{
    const double *ptr[COLLMEAS_GROUP_MAX];
    int k = 0;
    for (int i = 0; i < s->n; i++)
        if (s->gpus[i] == gpus && s->op[i] == op) {
            if (k == COLLMEAS_GROUP_MAX)
                return errbuf_set(err, "more than %d sizes of %s on %d GPUs", COLLMEAS_GROUP_MAX,
                                  collbench_op_name(op), gpus);
            ptr[k++] = &s->bytes[i];
        }
    qsort(ptr, (size_t)k, sizeof ptr[0], by_bytes);
    double sizes[COLLMEAS_GROUP_MAX];
    int ns = 0;
    for (int j = 0; j < k; j++)
        if (ns == 0 || *ptr[j] > sizes[ns - 1])
            sizes[ns++] = *ptr[j];
    char platform[4096];
    if (measured_platform(platform, sizeof platform, platform1, gpus, err) != 0)
        return -1;
    collbench_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.platform = platform;
    cfg.op = op;
    cfg.algo = COLL_A2A_AUTO;
    cfg.network = NETMODEL_HW;     /* the default of run and collective */
    cfg.sizes = sizes;
    cfg.nsizes = ns;
    double out[COLLBENCH_NOUT(COLLMEAS_GROUP_MAX)];
    if (simproc_run(collbench_run, &cfg, out, COLLBENCH_NOUT(ns), err) != 0)
        return -1;
    for (int i = 0; i < s->n; i++) {
        if (s->gpus[i] != gpus || s->op[i] != op)
            continue;
        for (int j = 0; j < ns; j++)
            if (sizes[j] == s->bytes[i])
                pred_s[i] = out[COLLBENCH_HEAD + COLLBENCH_PER_SIZE * j + COLLBENCH_TIME_S];
    }
    return 0;
}

int collmeas_predict(double *pred_s, const collmeas_set *s, const char *platform1, errbuf *err)
{
    for (int i = 0; i < s->n; i++)
        pred_s[i] = (double)NAN;
    for (int i = 0; i < s->n; i++) {
        if (s->gpus[i] < 2 || !isnan(pred_s[i]))
            continue;
        if (predict_group(pred_s, s, s->gpus[i], s->op[i], platform1, err) != 0)
            return -1;
    }
    return 0;
}

/* The predicted time of 'op' on 'gpus' at 'bytes' among the rows, or NAN. */
static double pred_at(const collmeas_set *s, const double *pred_s, collbench_op op, int gpus, double bytes)
{
    for (int i = 0; i < s->n; i++)
        if (s->op[i] == op && s->gpus[i] == gpus && s->bytes[i] == bytes)
            return pred_s[i];
    return (double)NAN;
}

int collmeas_validate(vreport *r, const char *path, const char *platform1, FILE *table, errbuf *err)
{
    collmeas_set *s = collmeas_load(path, err);
    if (s == NULL)
        return -1;
    double *pred = calloc((size_t)s->n, sizeof *pred);
    int rc = -1;
    if (pred == NULL) {
        errbuf_set(err, "out of memory");
        goto done;
    }
    if (collmeas_predict(pred, s, platform1, err) != 0)
        goto done;
    fprintf(table, "Collectives: %s measured (%s) vs switchsim collective on %s's n-GPU twins\n", path, s->device,
            platform1);
    int n[2] = { 0, 0 }, one = 0, planned = 0;
    for (int i = 0; i < s->n; i++) {
        if (s->gpus[i] < 2) {
            one++;
            continue;
        }
        if (!s->measured[i]) {
            planned++;
            r->planned[VCLASS_COLLECTIVE]++;
            continue;
        }
        int big = s->bytes[i] >= COLLMEAS_LARGE_BYTES;
        char name[128];
        snprintf(name, sizeof name, "%s of %.0f B on %d H200s (time)", collbench_op_name(s->op[i]), s->bytes[i],
                 s->gpus[i]);
        vcheck *c = vreport_add(r, VLABEL_MEASURED, "h200-collectives", name, "s", pred[i], s->time_s[i],
                                2.0 * (big ? COLLMEAS_LARGE_TARGET : COLLMEAS_SMALL_TARGET),
                                "SOURCES 5.2 h200-collectives");
        if (c == NULL) {
            errbuf_set(err, "out of memory");
            goto done;
        }
        c->cls = VCLASS_COLLECTIVE;
        snprintf(c->note, sizeof c->note, "%s", big ? "" : "latency-bound (< 1 MiB): NCCL's low-latency protocols "
                 "and per-call costs are not modelled");
        n[big]++;
    }
    /* rows not measured yet: switchsim's prediction at 1 KiB, 1 MiB and 1 GiB per op and GPU count */
    for (int i = 0; i < s->n; i++) {
        if (s->measured[i] || s->gpus[i] < 2 || (i > 0 && s->op[i - 1] == s->op[i] && s->gpus[i - 1] == s->gpus[i] &&
                                                 !s->measured[i - 1]))
            continue;
        double a = pred_at(s, pred, s->op[i], s->gpus[i], 1024.0);
        double b = pred_at(s, pred, s->op[i], s->gpus[i], 1048576.0);
        double c = pred_at(s, pred, s->op[i], s->gpus[i], 1073741824.0);
        fprintf(table, "  %-11s %4d not measured: predicted %.2f us at 1 KiB, %.2f us at 1 MiB, %.0f us at 1 GiB "
                "(busbw %.1f GB/s)\n", collbench_op_name(s->op[i]), s->gpus[i], a * 1e6, b * 1e6, c * 1e6,
                1073741824.0 / c * collbench_bus_factor(s->op[i], s->gpus[i]) / 1e9);
    }
    fprintf(table, "  %d rows measured across links, %d not measured yet (predicted only), %d on one GPU (no link "
            "crossed: not scored)\n", n[0] + n[1], planned, one);
    rc = 0;
done:
    free(pred);
    collmeas_free(s);
    return rc;
}
