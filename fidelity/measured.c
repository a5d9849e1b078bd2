/* measured: predictions of a measured step-time dataset, the calibration fit, and its validate section. */
#include "fidelity/measured.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/common/csvread.h"
#include "sim/engine.h"
#include "sim/platform.h"
#include "sim/simproc.h"

/* validate: a held-out row passes within 15% of its measured median step (the GPU cost model is a roofline
 * of tiles, waves and HBM bytes with four fitted parameters; 15% is the tolerance it is held to). */
#define MEASURED_ROW_TOL 0.15
/* Calibration rows allowed: at most a third of the dataset. */
#define MEASURED_CAL_FRACTION_MAX (1.0 / 3.0)
/* Nelder-Mead: simplex steps in the fitted coordinates (logit of an efficiency, ln of a time or a byte count),
 * the simplex size that ends the fit, and the most iterations. */
#define FIT_STEP 0.4
#define FIT_SIZE_TOL 2e-3
#define FIT_ITER_MAX 250
/* Restarts of the simplex from the point it converged to, and the relative gain in the objective a restart must
 * bring for another to follow. */
#define FIT_RESTARTS 3
#define FIT_RESTART_GAIN 1e-3
/* Where the fit starts: fixed values, not the platform's, so that what 'calibrate' prints depends on the
 * dataset and the platform's other numbers only, and the preset that carries its output stays a fixed point
 * (tests/cli_calibrate.sh compares them).  Each is the reading of a microbenchmark [SOURCES 5.2,
 * data/h200-micro.csv]: cuBLAS under XLA at about 0.50 of the bf16 peak, a streaming copy at about 0.8 of the
 * HBM rate, 3.8 us per dependent tiny kernel; 20 B per parameter is the TPU model's optimizer pass count. */
#define FIT_START_MM_EFFICIENCY 0.5
#define FIT_START_HBM_EFFICIENCY 0.8
#define FIT_START_OP_OVERHEAD_S 3.8e-6
#define FIT_START_OPT_BYTES_PER_PARAM 20.0

static int parse_pos(double *v, const csvtab *t, int row, int col, const char *path, errbuf *err)
{
    const char *s = csvtab_get(t, row, col);
    if (errbuf_parse_double(s, v) != 0 || !(*v > 0.0))
        return errbuf_set(err, "%s:%ld: column '%s' must be a number > 0, got '%s'", path, t->line[row + 1],
                          csvtab_get(t, -1, col), s);
    return 0;
}

void measured_free(measured_set *s)
{
    if (s == NULL)
        return;
    model_set_free(s->models);
    free(s->calibration);
    free(s->gpus);
    free(s->measured);
    free(s->step_s);
    free(s->min_s);
    free(s->max_s);
    free(s);
}

/* The per-row arrays of a set of n rows; -1 when out of memory. */
static int measured_alloc_rows(measured_set *s, int n)
{
    s->n = n;
    s->calibration = calloc((size_t)s->n, sizeof *s->calibration);
    s->gpus = calloc((size_t)s->n, sizeof *s->gpus);
    s->measured = calloc((size_t)s->n, sizeof *s->measured);
    s->step_s = calloc((size_t)s->n, sizeof *s->step_s);
    s->min_s = calloc((size_t)s->n, sizeof *s->min_s);
    s->max_s = calloc((size_t)s->n, sizeof *s->max_s);
    return !s->calibration || !s->gpus || !s->measured || !s->step_s || !s->min_s || !s->max_s ? -1 : 0;
}

/* Row i's GPU count from column col_gpus (1 when the dataset has no 'gpus' column). */
static int measured_row_gpus(int *gpus, const csvtab *t, int i, int col_gpus, const char *path, errbuf *err)
{
    *gpus = 1;
    if (col_gpus < 0)
        return 0;
    const char *g = csvtab_get(t, i, col_gpus);
    long v;
    if (errbuf_parse_long(g, &v) != 0 || v < 1 || v > MEASURED_GPUS_MAX)
        return errbuf_set(err, "%s:%ld: column 'gpus' must be an integer in [1,%d], got '%s'", path,
                          t->line[i + 1], MEASURED_GPUS_MAX, g);
    *gpus = (int)v;
    return 0;
}

/* Row i's split and step columns (col: split, step_ms, step_min_ms, step_max_ms): a measured row's times in
 * seconds, or NAN for a planned holdout row whose three step columns are empty. */
static int measured_row(measured_set *s, const csvtab *t, int i, const int *col, const char *path, errbuf *err)
{
    const char *split = csvtab_get(t, i, col[0]);
    if (strcmp(split, "calibration") == 0)
        s->calibration[i] = 1;
    else if (strcmp(split, "holdout") != 0)
        return errbuf_set(err, "%s:%ld: column 'split' must be 'calibration' or 'holdout', got '%s'", path,
                          t->line[i + 1], split);
    if (!s->calibration[i] && csvtab_get(t, i, col[1])[0] == '\0' && csvtab_get(t, i, col[2])[0] == '\0' &&
        csvtab_get(t, i, col[3])[0] == '\0') {
        s->step_s[i] = s->min_s[i] = s->max_s[i] = (double)NAN;   /* planned, not measured */
        return 0;
    }
    s->measured[i] = 1;
    double ms, lo, hi;
    if (parse_pos(&ms, t, i, col[1], path, err) != 0 || parse_pos(&lo, t, i, col[2], path, err) != 0 ||
        parse_pos(&hi, t, i, col[3], path, err) != 0)
        return -1;
    if (lo > ms || ms > hi)
        return errbuf_set(err, "%s:%ld: column 'step_ms' must lie between step_min_ms and step_max_ms (%s..%s), "
                          "got '%s'", path, t->line[i + 1], csvtab_get(t, i, col[2]), csvtab_get(t, i, col[3]),
                          csvtab_get(t, i, col[1]));
    s->step_s[i] = ms * 1e-3;
    s->min_s[i] = lo * 1e-3;
    s->max_s[i] = hi * 1e-3;
    return 0;
}

measured_set *measured_load(const char *path, errbuf *err)
{
    csvtab *t = csvtab_read(path, err);
    if (t == NULL)
        return NULL;
    measured_set *s = calloc(1, sizeof *s);
    if (s == NULL) {
        errbuf_set(err, "%s: out of memory", path);
        goto fail;
    }
    static const char *const NEED[] = { "split", "step_ms", "step_min_ms", "step_max_ms", "device" };
    int col[5];
    for (int k = 0; k < 5; k++)
        if ((col[k] = csvtab_col(t, NEED[k])) < 0) {
            errbuf_set(err, "%s:%ld: missing column '%s'", path, t->line[0], NEED[k]);
            goto fail;
        }
    if ((s->models = model_set_load_csv_extra(path, err)) == NULL)
        goto fail;
    if (s->models->n != t->nrows || t->nrows == 0) {
        errbuf_set(err, "%s: %d data rows, expected at least one model per row", path, t->nrows);
        goto fail;
    }
    if (measured_alloc_rows(s, t->nrows) != 0) {
        errbuf_set(err, "%s: out of memory", path);
        goto fail;
    }
    int ncal = 0, col_gpus = csvtab_col(t, "gpus");
    for (int i = 0; i < s->n; i++) {
        if (measured_row_gpus(&s->gpus[i], t, i, col_gpus, path, err) != 0 ||
            measured_row(s, t, i, col, path, err) != 0)
            goto fail;
        ncal += s->calibration[i];
    }
    if (ncal > MEASURED_CAL_FRACTION_MAX * s->n) {
        errbuf_set(err, "%s: %d of %d rows are calibration rows; at most a third may be", path, ncal, s->n);
        goto fail;
    }
    snprintf(s->device, sizeof s->device, "%s", csvtab_get(t, 0, col[4]));
    csvtab_free(t);
    return s;
fail:
    measured_free(s);
    csvtab_free(t);
    return NULL;
}

/* ---- one prediction, in a child process (one SimGrid engine per process) ---- */

typedef struct {
    const measured_set *s;
    int i;
    const char *platform;
    const cost_chip *chip;
    int uniform;
    int data;                       /* plan data ways (0: the engine's default) */
} predict_arg;

static int predict_child(void *argp, double *out, int nout, errbuf *err)
{
    const predict_arg *a = argp;
    const model_cfg *m = &a->s->models->rows[a->i];
    engine_config cfg = engine_config_default();
    cfg.platform = a->platform;
    cfg.model = m;
    cfg.data = a->data;
    cfg.model_par = a->data > 0 ? 1 : 0;   /* 0: the engine chooses, as run does */
    if (route_parse(&cfg.routing, a->uniform ? "uniform" : "router", err) != 0)
        return -1;
    cfg.dispatch = COST_DISPATCH_EINSUM;   /* the measured program dispatches with padded one-hot einsums */
    cfg.cap_round = SWITCH_CAP_FLOOR;      /* and sizes capacity as Mesh TF does (int(S cf/E)) */
    cfg.remat = PLAN_REMAT_OFF;          /* the measured program keeps every activation */
    cfg.chip = a->chip;
    engine_result res;
    int rc = engine_run(&res, &cfg, err);
    if (rc == 0 && nout >= 2) {
        out[0] = res.step.step_time_s;
        out[1] = res.step.dropped_frac;
    }
    engine_result_fini(&res);
    return rc;
}

static int predict(double *step_s, predict_arg *a, errbuf *err);

int measured_predict(double *step_s, const measured_set *s, int i, const char *platform, const cost_chip *chip,
                     int uniform, errbuf *err)
{
    predict_arg a = { s, i, platform, chip, uniform, 0 };
    return predict(step_s, &a, err);
}

int measured_platform(char *buf, size_t n, const char *platform1, int gpus, errbuf *err)
{
    const char *base = strrchr(platform1, '/');
    base = base != NULL ? base + 1 : platform1;
    const char *at = strstr(base, "1gpu");
    if (gpus == 1)
        at = NULL;
    else if (at == NULL || (at > base && at[-1] >= '0' && at[-1] <= '9'))
        return errbuf_set(err, "rows on %d GPUs need a platform named like '*-1gpu.xml' to find '*-%dgpu.xml' "
                          "beside it, got '%s'", gpus, gpus, platform1);
    int len = at == NULL ? snprintf(buf, n, "%s", platform1)
                         : snprintf(buf, n, "%.*s%dgpu%s", (int)(at - platform1), platform1, gpus, at + 4);
    if (len < 0 || (size_t)len >= n)
        return errbuf_set(err, "platform path too long: '%s'", platform1);
    return 0;
}

int measured_predict_row(double *step_s, const measured_set *s, int i, const char *platform1,
                         const cost_chip *chip, int uniform, errbuf *err)
{
    char path[4096];
    if (measured_platform(path, sizeof path, platform1, s->gpus[i], err) != 0)
        return -1;
    predict_arg a = { s, i, path, chip, uniform, s->gpus[i] };
    return predict(step_s, &a, err);
}

static int predict(double *step_s, predict_arg *a, errbuf *err)
{
    const measured_set *s = a->s;
    int i = a->i;
    double out[2];
    if (simproc_run(predict_child, a, out, 2, err) != 0) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);   /* err->msg is not both source and destination */
        return errbuf_set(err, "row '%s': %s", s->models->rows[i].name, why);
    }
    *step_s = out[0];
    return 0;
}

/* ---- calibration ---- */

#define CHIP_DOUBLES ((sizeof(cost_chip) + sizeof(double) - 1) / sizeof(double))

/* Child: the platform's chip numbers, bytes of a cost_chip passed back as doubles. */
static int chip_child(void *argp, double *out, int nout, errbuf *err)
{
    const char *platform = *(const char *const *)argp;
    if (platform_precheck(platform, err) != 0)
        return -1;
    simproc_simgrid_start(platform, NETMODEL_LV08, 1);   /* LV08: no --cfg; only the chip is read */
    cost_chip c;
    platform_torus t;
    if (platform_read(&c, &t, platform, err) != 0)
        return -1;
    memset(out, 0, (size_t)nout * sizeof *out);
    memcpy(out, &c, sizeof c);
    return 0;
}

static double logit(double p)
{
    return log(p / (1.0 - p));
}

static double logistic(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

typedef struct {
    const measured_set *s;
    const char *platform;
    cost_chip base;
    int evals;
    int failed;
    errbuf *err;
} fit_ctx;

static void fit_apply(cost_chip *c, const fit_ctx *f, const gsl_vector *x)
{
    *c = f->base;
    c->mm_efficiency = logistic(gsl_vector_get(x, 0));
    c->hbm_efficiency = logistic(gsl_vector_get(x, 1));
    c->op_overhead_s = exp(gsl_vector_get(x, 2));
    c->opt_bytes_per_param = exp(gsl_vector_get(x, 3));
}

/* Sum over calibration rows of ln(predicted / measured)^2. */
static double fit_objective(const gsl_vector *x, void *params)
{
    fit_ctx *f = params;
    if (f->failed)
        return GSL_POSINF;
    cost_chip c;
    fit_apply(&c, f, x);
    double sum = 0.0;
    for (int i = 0; i < f->s->n; i++) {
        if (!f->s->calibration[i])
            continue;
        double pred = 0.0;
        if (measured_predict_row(&pred, f->s, i, f->platform, &c, 1, f->err) != 0) {
            f->failed = 1;
            return GSL_POSINF;
        }
        double e = log(pred / f->s->step_s[i]);
        sum += e * e;
    }
    f->evals++;
    return sum;
}

int measured_calibrate(measured_fit *fit, const measured_set *s, const char *platform, int progress, errbuf *err)
{
    double raw[CHIP_DOUBLES];
    if (simproc_run(chip_child, &platform, raw, (int)CHIP_DOUBLES, err) != 0)
        return -1;
    fit_ctx f;
    memset(&f, 0, sizeof f);
    f.s = s;
    f.platform = platform;
    memcpy(&f.base, raw, sizeof f.base);
    f.err = err;
    if (f.base.family != COST_FAMILY_GPU)
        return errbuf_set(err, "%s: calibration fits the GPU cost model's parameters; this is a %s platform", platform,
                          f.base.chip);
    int ncal = 0;
    for (int i = 0; i < s->n; i++)
        ncal += s->calibration[i];
    if (ncal < 4)
        return errbuf_set(err, "calibration needs at least 4 calibration rows (4 parameters), the dataset has %d",
                          ncal);

    gsl_vector *x = gsl_vector_alloc(4), *step = gsl_vector_alloc(4);
    gsl_multimin_fminimizer *mz = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, 4);
    if (x == NULL || step == NULL || mz == NULL) {
        gsl_vector_free(x);
        gsl_vector_free(step);
        if (mz != NULL)
            gsl_multimin_fminimizer_free(mz);
        return errbuf_set(err, "out of memory");
    }
    gsl_vector_set(x, 0, logit(FIT_START_MM_EFFICIENCY));
    gsl_vector_set(x, 1, logit(FIT_START_HBM_EFFICIENCY));
    gsl_vector_set(x, 2, log(FIT_START_OP_OVERHEAD_S));
    gsl_vector_set(x, 3, log(FIT_START_OPT_BYTES_PER_PARAM));
    gsl_vector_set_all(step, FIT_STEP);
    gsl_multimin_function fn = { fit_objective, 4, &f };
    /* GSL's default handler aborts on a non-finite objective (a row that cannot run): report it instead */
    gsl_error_handler_t *old_handler = gsl_set_error_handler_off();
    int status = gsl_multimin_fminimizer_set(mz, &fn, x, step) == GSL_SUCCESS ? GSL_CONTINUE : GSL_FAILURE;
    if (status != GSL_CONTINUE && !f.failed) {
        f.failed = 1;
        errbuf_set(err, "calibrate: the fit could not start");
    }
    /* Nelder-Mead can collapse its simplex before the minimum (the parameters trade off against each other):
     * once it has converged, it starts again from where it stopped, until a restart no longer improves the
     * objective by FIT_RESTART_GAIN or FIT_RESTARTS have run. */
    int it = 0, restarts = 0;
    double best = GSL_POSINF;
    while (status == GSL_CONTINUE && it < FIT_ITER_MAX && !f.failed) {
        it++;
        if (gsl_multimin_fminimizer_iterate(mz) != GSL_SUCCESS)
            break;
        double size = gsl_multimin_fminimizer_size(mz);
        status = gsl_multimin_test_size(size, FIT_SIZE_TOL);
        if (progress) {
            cost_chip c;
            fit_apply(&c, &f, mz->x);
            fprintf(stderr, "calibrate: iteration %d: rms ln error %.4f (mm_efficiency %.4f, hbm_efficiency %.4f, "
                    "op_overhead_s %.3g, optimizer_bytes_per_param %.2f)\n", it,
                    sqrt(mz->fval / ncal), c.mm_efficiency, c.hbm_efficiency, c.op_overhead_s,
                    c.opt_bytes_per_param);
        }
        if (status == GSL_SUCCESS && restarts < FIT_RESTARTS && mz->fval < best * (1.0 - FIT_RESTART_GAIN) &&
            !f.failed) {
            best = mz->fval;
            restarts++;
            gsl_vector_memcpy(x, mz->x);
            status = gsl_multimin_fminimizer_set(mz, &fn, x, step) == GSL_SUCCESS ? GSL_CONTINUE : GSL_FAILURE;
        }
    }
    int rc = 0;
    if (f.failed) {
        rc = -1;
    } else {
        cost_chip c;
        fit_apply(&c, &f, mz->x);
        fit->mm_efficiency = c.mm_efficiency;
        fit->hbm_efficiency = c.hbm_efficiency;
        fit->op_overhead_s = c.op_overhead_s;
        fit->opt_bytes_per_param = c.opt_bytes_per_param;
        fit->rms_log_err = sqrt(mz->fval / ncal);
        fit->evals = f.evals;
    }
    gsl_set_error_handler(old_handler);
    gsl_multimin_fminimizer_free(mz);
    gsl_vector_free(x);
    gsl_vector_free(step);
    return rc;
}

/* ---- validate ---- */

typedef struct {
    const measured_source *src;
    measured_set *s;
    double *pred_s;
} vdata;

/* Which single setting rows a and b differ in (every other model column, and the GPU count, equal), or NULL. */
static const char *differ_in_one(const measured_set *s, int ia, int ib)
{
    const model_cfg *a = &s->models->rows[ia], *b = &s->models->rows[ib];
    if (a->d_model != b->d_model || a->d_ff != b->d_ff || a->act != b->act || a->heads != b->heads ||
        a->d_kv != b->d_kv || a->enc_layers != b->enc_layers || a->dec_layers != b->dec_layers ||
        a->expert_every != b->expert_every || a->vocab != b->vocab || a->enc_seq != b->enc_seq ||
        a->dec_seq != b->dec_seq || a->min_capacity != b->min_capacity)
        return NULL;
    const char *what = NULL;
    int n = 0;
    if (a->capacity_factor != b->capacity_factor) { what = "capacity factor"; n++; }
    if (a->top_k != b->top_k) { what = "top-k"; n++; }
    if (a->experts != b->experts) { what = "experts"; n++; }
    if (a->group_size != b->group_size) { what = "group size"; n++; }
    if (a->tokens_per_batch != b->tokens_per_batch) { what = "batch"; n++; }
    if (s->gpus[ia] != s->gpus[ib]) { what = "GPUs"; n++; }
    return n == 1 ? what : NULL;
}

/* 1 if row ia of a and row ib of b run the same step: every model column but the name equal, the same GPU count;
 * the routing columns (experts, top-k, capacity factor, group size, minimum capacity) are not compared when
 * neither row has a Switch layer, since a dense step has no routing. */
static int same_config(const measured_set *a, int ia, const measured_set *b, int ib)
{
    const model_cfg *x = &a->models->rows[ia], *y = &b->models->rows[ib];
    int dense = (x->expert_every == 0 || x->experts <= 1) && (y->expert_every == 0 || y->experts <= 1);
    if (x->d_model != y->d_model || x->d_ff != y->d_ff || x->act != y->act || x->heads != y->heads ||
        x->d_kv != y->d_kv || x->enc_layers != y->enc_layers || x->dec_layers != y->dec_layers ||
        x->vocab != y->vocab || x->enc_seq != y->enc_seq || x->dec_seq != y->dec_seq ||
        x->tokens_per_batch != y->tokens_per_batch || a->gpus[ia] != b->gpus[ib])
        return 0;
    return dense || (x->expert_every == y->expert_every && x->experts == y->experts && x->top_k == y->top_k &&
                     x->capacity_factor == y->capacity_factor && x->group_size == y->group_size &&
                     x->min_capacity == y->min_capacity);
}

/* Marks c, row i of dataset d[k], a repeat when a measured row before it (an earlier dataset, or earlier in its
 * own) ran the same step, and names that row in c's note. */
static void mark_repeat(vcheck *c, const vdata *d, int k, int i)
{
    for (int j = 0; j <= k; j++)
        for (int m = 0; m < (j < k ? d[j].s->n : i); m++)
            if (d[j].s->measured[m] && same_config(d[j].s, m, d[k].s, i)) {
                c->repeat = 1;
                snprintf(c->note, sizeof c->note, "the step of %s (%s, measured %.3f ms): counted once, there",
                         d[j].s->models->rows[m].name, d[j].src->group, d[j].s->step_s[m] * 1e3);
                return;
            }
}

/* The rows of dataset d[k], whose rows are predicted (d[k].pred_s), and its statistics on 'table'.  Rows of one
 * GPU are one-device steps, others multi-device steps; a held-out row that repeats an earlier one is a repeat. */
static int validate_dataset(vreport *r, const vdata *dall, int k, const char *platform1, FILE *table, errbuf *err)
{
    const vdata *d = &dall[k];
    const measured_set *s = d->s;
    int n = s->n, rc = -1;
    double *hp = calloc((size_t)n, sizeof *hp), *hm = calloc((size_t)n, sizeof *hm);
    double *work = calloc(2 * (size_t)n, sizeof *work);
    if (hp == NULL || hm == NULL || work == NULL) {
        errbuf_set(err, "out of memory");
        goto done;
    }
    int nh = 0, nplanned = 0;
    for (int i = 0; i < n; i++) {
        const char *name = s->models->rows[i].name;
        char path[4096], row[4352];
        if (measured_platform(path, sizeof path, platform1, s->gpus[i], err) != 0)
            goto done;
        const char *plat = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
        vclass cls = s->gpus[i] == 1 ? VCLASS_ONE_DEVICE : VCLASS_MULTI_DEVICE;
        if (!s->measured[i]) {
            fprintf(table, "  %s: %s on %s predicted %.3f ms, not measured yet (no row)\n", d->src->label, name, plat,
                    d->pred_s[i] * 1e3);
            nplanned++;
            r->planned[cls]++;
            continue;
        }
        snprintf(row, sizeof row, "%s step time on %s", name, plat);
        vcheck *c = vreport_add(r, s->calibration[i] ? VLABEL_CALIBRATION : VLABEL_MEASURED, d->src->group, row, "s",
                                d->pred_s[i], s->step_s[i], MEASURED_ROW_TOL, d->src->source);
        if (c == NULL) {
            errbuf_set(err, "out of memory");
            goto done;
        }
        c->ref_min = s->min_s[i];
        c->ref_max = s->max_s[i];
        c->cls = cls;
        if (s->calibration[i])
            continue;
        mark_repeat(c, dall, k, i);
        hp[nh] = d->pred_s[i];
        hm[nh] = s->step_s[i];
        nh++;
    }
    /* Pairs of measured rows that differ in one setting: does the prediction order them as the measurement
     * does?  Pairs whose measured steps overlap (the faster one's slowest step above the slower one's fastest)
     * are ties and not counted. */
    int pairs = 0, right = 0;
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++) {
            const char *what = s->measured[a] && s->measured[b] ? differ_in_one(s, a, b) : NULL;
            if (what == NULL)
                continue;
            int lo = s->step_s[a] < s->step_s[b] ? a : b, hi = lo == a ? b : a;
            if (s->max_s[lo] >= s->min_s[hi])
                continue;
            pairs++;
            if (d->pred_s[lo] < d->pred_s[hi]) {
                right++;
            } else {
                fprintf(table, "  %s: ordering missed (%s): %s %.3f ms < %s %.3f ms measured, predicted %.3f >= "
                        "%.3f\n", d->src->label, what, s->models->rows[lo].name, s->step_s[lo] * 1e3,
                        s->models->rows[hi].name, s->step_s[hi] * 1e3, d->pred_s[lo] * 1e3, d->pred_s[hi] * 1e3);
            }
        }
    double rho = nh > 2 ? gsl_stats_spearman(hp, 1, hm, 1, (size_t)nh, work) : (double)NAN;
    fprintf(table, "%s (%s, %d rows: %d held out, %d calibration, %d not measured yet) predicted from %s: "
            "Spearman rank correlation of the held-out rows %.3f; %d of %d pairs of rows that differ in one setting "
            "ordered as measured\n", d->src->path, s->device, n, nh, n - nh - nplanned, nplanned, platform1, rho,
            right, pairs);
    rc = 0;
done:
    free(hp);
    free(hm);
    free(work);
    return rc;
}

int measured_validate(vreport *r, const measured_source *src, int ndata, const char *platform1, FILE *table,
                      errbuf *err)
{
    vdata *d = calloc((size_t)ndata + 1, sizeof *d);   /* ends with s == NULL */
    int rc = -1;
    if (d == NULL)
        return errbuf_set(err, "out of memory");
    for (int k = 0; k < ndata; k++) {
        d[k].src = &src[k];
        if ((d[k].s = measured_load(src[k].path, err)) == NULL)
            goto done;
        if ((d[k].pred_s = calloc((size_t)d[k].s->n, sizeof *d[k].pred_s)) == NULL) {
            errbuf_set(err, "out of memory");
            goto done;
        }
        for (int i = 0; i < d[k].s->n; i++)
            if (measured_predict_row(&d[k].pred_s[i], d[k].s, i, platform1, NULL, 0, err) != 0)
                goto done;
        if (validate_dataset(r, d, k, platform1, table, err) != 0)
            goto done;
    }
    rc = 0;
done:
    for (int k = 0; k < ndata; k++) {
        measured_free(d[k].s);
        free(d[k].pred_s);
    }
    free(d);
    return rc;
}
