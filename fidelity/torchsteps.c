/* torchsteps: the measured PyTorch MoE steps: loader, predictions, scoring, calibration. */
#include "fidelity/torchsteps.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/common/csvread.h"
#include "sim/engine.h"
#include "sim/simproc.h"

/* At most a third of the rows may be calibration rows (as the other measured datasets). */
#define TORCHSTEPS_CAL_FRACTION_MAX (1.0 / 3.0)
/* Largest integer a size column may hold (a guard against typos, far above any row). */
#define TORCHSTEPS_INT_MAX 100000000L
/* Nelder-Mead: the simplex step in the fitted coordinates (logit of an efficiency, ln of a time), the simplex
 * size that ends the fit, the most iterations. */
#define FIT_STEP 0.4
#define FIT_SIZE_TOL 1e-4
#define FIT_ITER_MAX 400
/* Where the fit starts, whatever the chip's values (so the result depends on the dataset only): microbenchmark
 * values of the same GPU generation [SOURCES 5.3]: an 8192^3 bf16 matmul through PyTorch at 0.79 of the peak, a
 * streaming copy at 0.8 of the HBM rate, 3.8 us per kernel of a chain of tiny dependent kernels; the grouped GEMM
 * starts at the matmul's value. */
#define FIT_START { 0.79, 0.80, 3.8e-6, 0.79 }

const char *torchsteps_dispatch_name(torchsteps_dispatch d)
{
    static const char *const NAME[] = { "none", "dropless", "padded", "expert-choice" };
    return (int)d >= 0 && (int)d < 4 ? NAME[d] : "?";
}

void torchsteps_free(torchsteps_set *s)
{
    if (s == NULL)
        return;
    free(s->rows);
    free(s);
}

/* ---- loading ---- */

/* The columns, by name; index into col[] below. */
enum {
    C_NAME, C_FAMILY, C_SPLIT, C_DMODEL, C_LAYERS, C_HEADS, C_KV, C_HD, C_VOCAB, C_SEQ, C_BATCH, C_TOKENS,
    C_FFN, C_EXPERTS, C_TOPK, C_FFNE, C_SHARED, C_FIRST, C_EVERY, C_DISPATCH, C_CF, C_ALIGN, C_CAP, C_STEP,
    C_MIN, C_MAX, C_TIMED, C_LOAD, C_DROP, C_PTOT, C_PACT, C_DEVICE, C_N
};
static const char *const COL[C_N] = {
    "name", "family", "split", "d_model", "layers", "heads", "kv_heads", "head_dim", "vocab", "seq", "batch",
    "tokens", "ffn_dense", "experts", "top_k", "ffn_expert", "shared", "first_dense", "moe_every", "dispatch",
    "capacity_factor", "group_align", "capacity", "step_ms", "step_min_ms", "step_max_ms", "timed_steps",
    "max_load", "dropped_frac", "params_total", "params_active", "device",
};

typedef struct {
    const csvtab *t;
    const char *path;
    int col[C_N];
    int row;
    errbuf *err;
} loadctx;

static const char *cell(const loadctx *c, int k)
{
    return csvtab_get(c->t, c->row, c->col[k]);
}

static int bad(const loadctx *c, int k, const char *rule)
{
    return errbuf_set(c->err, "%s:%ld: column '%s' must be %s, got '%s'", c->path, c->t->line[c->row + 1], COL[k],
                      rule, cell(c, k));
}

/* An integer in [lo, hi] from column k. */
static int get_int(int *out, const loadctx *c, int k, long lo, long hi, const char *rule)
{
    long v;
    if (errbuf_parse_long(cell(c, k), &v) != 0 || v < lo || v > hi)
        return bad(c, k, rule);
    *out = (int)v;
    return 0;
}

/* A finite number in [lo, hi] (lo excluded when open_lo) from column k. */
static int get_num(double *out, const loadctx *c, int k, double lo, int open_lo, double hi, const char *rule)
{
    double v;
    if (errbuf_parse_double(cell(c, k), &v) != 0 || !isfinite(v) || v < lo || (open_lo && v == lo) || v > hi)
        return bad(c, k, rule);
    *out = v;
    return 0;
}

#define POS "an integer > 0"

/* The model columns of the current row into r->model and the run columns into r. */
static int load_shape(torchsteps_row *r, const loadctx *c)
{
    model_cfg *m = &r->model;
    int layers, kv, hd, tokens, ffn, ffne, every;
    const char *name = cell(c, C_NAME);
    if (name[0] == '\0' || strlen(name) >= sizeof m->name)
        return bad(c, C_NAME, "a name of 1 to 63 characters");
    snprintf(m->name, sizeof m->name, "%s", name);
    const char *fam = cell(c, C_FAMILY);
    if (fam[0] == '\0' || strlen(fam) >= sizeof r->family)
        return bad(c, C_FAMILY, "a name of 1 to 31 characters");
    snprintf(r->family, sizeof r->family, "%s", fam);
    if (get_int(&m->d_model, c, C_DMODEL, 1, TORCHSTEPS_INT_MAX, POS) != 0 ||
        get_int(&layers, c, C_LAYERS, 1, TORCHSTEPS_INT_MAX, POS) != 0 ||
        get_int(&m->heads, c, C_HEADS, 1, TORCHSTEPS_INT_MAX, POS) != 0 ||
        get_int(&kv, c, C_KV, 1, m->heads, "an integer in [1, heads]") != 0 ||
        get_int(&hd, c, C_HD, 1, TORCHSTEPS_INT_MAX, POS) != 0 ||
        get_int(&m->vocab, c, C_VOCAB, 1, TORCHSTEPS_INT_MAX, POS) != 0 ||
        get_int(&r->seq, c, C_SEQ, 1, TORCHSTEPS_INT_MAX, POS) != 0 ||
        get_int(&r->batch, c, C_BATCH, 1, TORCHSTEPS_INT_MAX, POS) != 0 ||
        get_int(&tokens, c, C_TOKENS, 1, TORCHSTEPS_INT_MAX, POS) != 0 ||
        get_int(&ffn, c, C_FFN, 1, TORCHSTEPS_INT_MAX, POS) != 0 ||
        get_int(&m->experts, c, C_EXPERTS, 1, TORCHSTEPS_INT_MAX, POS) != 0)
        return -1;
    if (m->heads % kv != 0)
        return bad(c, C_KV, "a divisor of heads");
    if ((long)tokens != (long)r->seq * r->batch)
        return bad(c, C_TOKENS, "seq x batch");
    int kmax = m->experts < MODEL_TOPK_MAX ? m->experts : MODEL_TOPK_MAX;
    char rule[64];
    snprintf(rule, sizeof rule, "an integer in [1, %d] (experts, at most %d)", kmax, MODEL_TOPK_MAX);
    if (get_int(&m->top_k, c, C_TOPK, 1, kmax, rule) != 0 ||
        get_int(&ffne, c, C_FFNE, 0, TORCHSTEPS_INT_MAX, "an integer >= 0") != 0 ||
        get_int(&m->shared_experts, c, C_SHARED, 0, TORCHSTEPS_INT_MAX, "an integer >= 0") != 0 ||
        get_int(&m->first_dense, c, C_FIRST, 0, layers, "an integer in [0, layers]") != 0 ||
        get_int(&every, c, C_EVERY, 1, TORCHSTEPS_INT_MAX, POS) != 0)
        return -1;
    int dense = m->experts == 1;
    if (dense ? ffne != 0 : ffne == 0)
        return bad(c, C_FFNE, dense ? "0 in a dense row (experts 1)" : "an integer > 0 in a MoE row");
    if (dense && m->shared_experts != 0)
        return bad(c, C_SHARED, "0 in a dense row (experts 1)");
    m->d_ff = ffn;
    m->act = MODEL_ACT_SWIGLU;
    m->d_kv = hd;
    m->dec_layers = layers;
    m->expert_every = dense ? 0 : every;
    m->dec_seq = r->seq;
    m->tokens_per_batch = tokens;
    m->group_size = tokens;
    m->arch = MODEL_ARCH_DEC_ONLY;
    m->kv_heads = kv;
    m->d_ff_expert = ffne;
    m->score = MODEL_SCORE_SOFTMAX;
    m->renorm = MODEL_RENORM_YES;
    m->untied = 1;
    return 0;
}

/* The dispatch columns (dispatch, capacity_factor, group_align, capacity) of the current row. */
static int load_dispatch(torchsteps_row *r, const loadctx *c)
{
    model_cfg *m = &r->model;
    const char *d = cell(c, C_DISPATCH);
    int k;
    for (k = 0; k < 4; k++)
        if (strcmp(d, torchsteps_dispatch_name((torchsteps_dispatch)k)) == 0)
            break;
    if (k == 4)
        return bad(c, C_DISPATCH, "none, dropless, padded or expert-choice");
    r->dispatch = (torchsteps_dispatch)k;
    if ((m->experts == 1) != (r->dispatch == TORCHSTEPS_NONE))
        return bad(c, C_DISPATCH, m->experts == 1 ? "none in a dense row (experts 1)" : "not none in a MoE row");
    if (r->dispatch == TORCHSTEPS_EXPERT_CHOICE && m->top_k != 1)
        return bad(c, C_TOPK, "1 in an expert-choice row");
    if (get_num(&m->capacity_factor, c, C_CF, 0.0, 1, 1e6, "a number > 0") != 0 ||
        get_int(&r->group_align, c, C_ALIGN, 1, 1 << 20, "an integer in [1, 1048576]") != 0 ||
        get_int(&r->capacity, c, C_CAP, 0, TORCHSTEPS_INT_MAX, "an integer >= 0") != 0)
        return -1;
    double T = m->tokens_per_batch, E = m->experts, cf = m->capacity_factor;
    long want = 0;
    const char *rule = "0 (no capacity)";
    if (r->dispatch == TORCHSTEPS_PADDED) {
        want = (long)ceil(cf * T * m->top_k / E);
        rule = "ceil(capacity_factor x tokens x top_k / experts)";
    } else if (r->dispatch == TORCHSTEPS_EXPERT_CHOICE) {
        want = (long)fmin(T, floor(T * cf / E));
        rule = "min(tokens, int(tokens x capacity_factor / experts))";
    }
    if (r->capacity != want) {
        char full[160];
        snprintf(full, sizeof full, "%s = %ld", rule, want);
        return bad(c, C_CAP, full);
    }
    return 0;
}

/* The measured columns of the current row. */
static int load_measured(torchsteps_row *r, const loadctx *c, int *cal)
{
    const char *split = cell(c, C_SPLIT);
    if (strcmp(split, "calibration") == 0)
        *cal = 1;
    else if (strcmp(split, "holdout") == 0)
        *cal = 0;
    else
        return bad(c, C_SPLIT, "calibration or holdout");
    double ms, lo, hi;
    if (get_num(&ms, c, C_STEP, 0.0, 1, 1e9, "a number > 0") != 0 ||
        get_num(&lo, c, C_MIN, 0.0, 1, 1e9, "a number > 0") != 0 ||
        get_num(&hi, c, C_MAX, 0.0, 1, 1e9, "a number > 0") != 0)
        return -1;
    if (lo > ms || ms > hi)
        return bad(c, C_STEP, "between step_min_ms and step_max_ms");
    r->step_s = ms * 1e-3;
    r->min_s = lo * 1e-3;
    r->max_s = hi * 1e-3;
    if (get_int(&r->timed_steps, c, C_TIMED, 1, TORCHSTEPS_INT_MAX, POS) != 0 ||
        get_num(&r->max_load, c, C_LOAD, 0.0, 0, 1e9, "a number >= 0") != 0 ||
        get_num(&r->dropped_frac, c, C_DROP, 0.0, 0, 1.0, "a number in [0, 1]") != 0 ||
        get_num(&r->params_total, c, C_PTOT, 0.0, 1, 1e15, "a number > 0") != 0 ||
        get_num(&r->params_active, c, C_PACT, 0.0, 1, r->params_total, "a number in (0, params_total]") != 0)
        return -1;
    return 0;
}

torchsteps_set *torchsteps_load(const char *path, errbuf *err)
{
    csvtab *t = csvtab_read(path, err);
    if (t == NULL)
        return NULL;
    torchsteps_set *s = calloc(1, sizeof *s);
    loadctx c = { t, path, { 0 }, 0, err };
    if (s == NULL) {
        errbuf_set(err, "%s: out of memory", path);
        goto fail;
    }
    for (int k = 0; k < C_N; k++)
        if ((c.col[k] = csvtab_col(t, COL[k])) < 0) {
            errbuf_set(err, "%s:%ld: missing column '%s'", path, t->line[0], COL[k]);
            goto fail;
        }
    if (t->nrows == 0) {
        errbuf_set(err, "%s: no data rows", path);
        goto fail;
    }
    if ((s->rows = calloc((size_t)t->nrows, sizeof *s->rows)) == NULL) {
        errbuf_set(err, "%s: out of memory", path);
        goto fail;
    }
    s->n = t->nrows;
    int ncal = 0;
    for (c.row = 0; c.row < s->n; c.row++) {
        torchsteps_row *r = &s->rows[c.row];
        if (load_shape(r, &c) != 0 || load_dispatch(r, &c) != 0 || load_measured(r, &c, &r->calibration) != 0)
            goto fail;
        for (int j = 0; j < c.row; j++)
            if (strcmp(s->rows[j].model.name, r->model.name) == 0) {
                bad(&c, C_NAME, "a name no earlier row has");
                goto fail;
            }
        const char *dev = cell(&c, C_DEVICE);
        if (c.row == 0) {
            if (dev[0] == '\0' || strlen(dev) >= sizeof s->device) {
                bad(&c, C_DEVICE, "a device name of 1 to 63 characters");
                goto fail;
            }
            snprintf(s->device, sizeof s->device, "%s", dev);
        } else if (strcmp(dev, s->device) != 0) {
            char rule[128];
            snprintf(rule, sizeof rule, "'%s' (the first row's: one device per file)", s->device);
            bad(&c, C_DEVICE, rule);
            goto fail;
        }
        ncal += r->calibration;
    }
    if (ncal > TORCHSTEPS_CAL_FRACTION_MAX * s->n || ncal == s->n) {
        errbuf_set(err, "%s: %d of %d rows are calibration rows; at most a third may be", path, ncal, s->n);
        goto fail;
    }
    csvtab_free(t);
    return s;
fail:
    torchsteps_free(s);
    csvtab_free(t);
    return NULL;
}

/* ---- parameters and the engine's predictor ---- */

void torchsteps_params_get(torchsteps_params *p, const cost_chip *c)
{
    p->mm_efficiency = c->torch_mm_efficiency > 0.0 ? c->torch_mm_efficiency : c->mm_efficiency;
    p->hbm_efficiency = c->torch_hbm_efficiency > 0.0 ? c->torch_hbm_efficiency : c->hbm_efficiency;
    p->op_overhead_s = c->torch_op_overhead_s > 0.0 ? c->torch_op_overhead_s : c->op_overhead_s;
    p->grouped_mm_efficiency = c->grouped_mm_efficiency > 0.0 ? c->grouped_mm_efficiency : p->mm_efficiency;
}

void torchsteps_params_set(cost_chip *c, const torchsteps_params *p)
{
    c->torch_mm_efficiency = p->mm_efficiency;
    c->torch_hbm_efficiency = p->hbm_efficiency;
    c->torch_op_overhead_s = p->op_overhead_s;
    c->grouped_mm_efficiency = p->grouped_mm_efficiency;
}

/* One row through the engine, in a child process (one SimGrid engine per process): out[0] the step, out[1] the
 * dropped fraction, out[2] the capacity the engine used (checked against the row's). */
typedef struct {
    const torchsteps_row *row;
    const cost_chip *chip;
    const char *platform;
    const char *trace;       /* NULL, or the row's routing trace file */
    int record;              /* 1: record the routing there, 0: replay it */
} predict_arg;

static int predict_child(void *argp, double *out, int nout, errbuf *err)
{
    const predict_arg *a = argp;
    const torchsteps_row *row = a->row;
    engine_config cfg = engine_config_default();
    cfg.platform = a->platform;
    cfg.model = &row->model;
    cfg.data = 1;
    cfg.model_par = 1;
    cfg.impl = MODEL_IMPL_TORCH;
    cfg.remat = PLAN_REMAT_OFF;            /* the program keeps every activation */
    cfg.dispatch = row->dispatch == TORCHSTEPS_DROPLESS ? COST_DISPATCH_DROPLESS
                   : row->dispatch == TORCHSTEPS_EXPERT_CHOICE ? COST_DISPATCH_EXPERT_CHOICE : COST_DISPATCH_EINSUM;
    cfg.chip = a->chip;
    char spec[ROUTE_SPEC_MAX];
    snprintf(spec, sizeof spec, "%s%s", a->trace != NULL && !a->record ? "trace:" : "router",
             a->trace != NULL && !a->record ? a->trace : "");
    if (route_parse(&cfg.routing, spec, err) != 0)
        return -1;
    if (a->record)
        cfg.dump_routing = a->trace;
    engine_result res;
    int rc = engine_run(&res, &cfg, err);
    if (rc == 0 && a->record)
        rc = route_dump_csv(NULL, res.route, a->trace, err);
    if (rc == 0 && nout >= 3) {
        out[0] = res.step.step_time_s;
        out[1] = res.step.dropped_frac;
        out[2] = res.plan.experts > 1 ? res.plan.capacity_dec : 0;
    }
    engine_result_fini(&res);
    return rc;
}

int torchsteps_predict_engine(double *step_s, char *why, size_t nwhy, const torchsteps_row *row,
                              const cost_chip *chip, void *arg, errbuf *err)
{
    (void)why;
    (void)nwhy;
    const torchsteps_engine_arg *ea = arg;
    predict_arg a = { row, chip, ea->platform, NULL, 0 };
    char trace[4096];
    /* a dense row routes nothing; expert choice takes C rows an expert whatever the routing (no trace to keep) */
    if (ea->cache_dir != NULL && row->dispatch != TORCHSTEPS_NONE && row->dispatch != TORCHSTEPS_EXPERT_CHOICE) {
        if (snprintf(trace, sizeof trace, "%s/%s.csv", ea->cache_dir, row->model.name) >= (int)sizeof trace)
            return errbuf_set(err, "routing cache path too long: '%s'", ea->cache_dir);
        a.trace = trace;
        a.record = access(trace, F_OK) != 0;
    }
    double out[3];
    if (simproc_run(predict_child, &a, out, 3, err) != 0) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        return errbuf_set(err, "row '%s': %s", row->model.name, msg);
    }
    int want = row->dispatch == TORCHSTEPS_DROPLESS ? (int)row->model.tokens_per_batch : row->capacity;
    if (row->dispatch != TORCHSTEPS_NONE && (int)out[2] != want)
        return errbuf_set(err, "row '%s': bug: the engine's capacity %d is not the program's %d", row->model.name,
                          (int)out[2], want);
    *step_s = out[0];
    return 0;
}

/* ---- scoring ---- */

const char *torchsteps_differ_in_one(const torchsteps_row *a, const torchsteps_row *b)
{
    const model_cfg *x = &a->model, *y = &b->model;
    const char *what = NULL;
    int n = 0;
    if (strcmp(a->family, b->family) != 0 || x->d_model != y->d_model || x->dec_layers != y->dec_layers ||
        x->heads != y->heads || x->kv_heads != y->kv_heads || x->d_kv != y->d_kv || x->vocab != y->vocab ||
        a->seq != b->seq || a->batch != b->batch || x->d_ff != y->d_ff)
        return NULL;   /* another family: its expert width differs too, never one setting */
    if (x->experts != y->experts) { what = "experts"; n++; }
    if (x->top_k != y->top_k) { what = "top-k"; n++; }
    if (x->d_ff_expert != y->d_ff_expert) { what = "expert width"; n++; }
    if (x->shared_experts != y->shared_experts) { what = "shared experts"; n++; }
    if (x->first_dense != y->first_dense) { what = "first dense layers"; n++; }
    if (x->expert_every != y->expert_every) { what = "MoE every"; n++; }
    if (a->dispatch != b->dispatch) { what = "dispatch"; n++; }
    if (x->capacity_factor != y->capacity_factor) { what = "capacity factor"; n++; }
    return n == 1 ? what : NULL;
}

int torchsteps_score_rows(torchsteps_score *sc, const torchsteps_set *s, const double *pred_s, FILE *table,
                          errbuf *err)
{
    memset(sc, 0, sizeof *sc);
    sc->mean_abs = sc->max_abs = sc->spearman = (double)NAN;
    sc->worst = -1;
    int n = s->n;
    double *hp = calloc((size_t)n, sizeof *hp), *hm = calloc((size_t)n, sizeof *hm);
    double *work = calloc(2 * (size_t)n, sizeof *work);
    if (hp == NULL || hm == NULL || work == NULL) {
        free(hp);
        free(hm);
        free(work);
        return errbuf_set(err, "out of memory");
    }
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        const torchsteps_row *r = &s->rows[i];
        if (r->calibration)
            continue;
        sc->holdout++;
        if (isnan(pred_s[i]))
            continue;
        double e = fabs(pred_s[i] / r->step_s - 1.0);
        sum += e;
        if (sc->worst < 0 || e > sc->max_abs) {
            sc->max_abs = e;
            sc->worst = i;
        }
        hp[sc->scored] = pred_s[i];
        hm[sc->scored] = r->step_s;
        sc->scored++;
    }
    if (sc->scored > 0)
        sc->mean_abs = sum / sc->scored;
    if (sc->scored > 2)
        sc->spearman = gsl_stats_spearman(hp, 1, hm, 1, (size_t)sc->scored, work);
    /* pairs whose measured spreads overlap (the faster one's slowest step at or above the slower one's
     * fastest) are ties, not counted */
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++) {
            if (isnan(pred_s[a]) || isnan(pred_s[b]))
                continue;
            const char *what = torchsteps_differ_in_one(&s->rows[a], &s->rows[b]);
            if (what == NULL)
                continue;
            int lo = s->rows[a].step_s < s->rows[b].step_s ? a : b, hi = lo == a ? b : a;
            if (s->rows[lo].max_s >= s->rows[hi].min_s)
                continue;
            sc->pairs++;
            if (pred_s[lo] < pred_s[hi])
                sc->pairs_right++;
            else if (table != NULL)
                fprintf(table, "  ordering missed (%s): %s %.3f ms < %s %.3f ms measured, predicted %.3f >= %.3f\n",
                        what, s->rows[lo].model.name, s->rows[lo].step_s * 1e3, s->rows[hi].model.name,
                        s->rows[hi].step_s * 1e3, pred_s[lo] * 1e3, pred_s[hi] * 1e3);
        }
    free(hp);
    free(hm);
    free(work);
    return 0;
}

/* ---- validate ---- */

int torchsteps_validate(vreport *r, const torchsteps_set *s, const cost_chip *chip, torchsteps_predictor predict,
                        void *arg, const char *label, const char *group, const char *source, FILE *table,
                        errbuf *err)
{
    double *pred = calloc((size_t)s->n, sizeof *pred);
    char (*why)[TORCHSTEPS_WHY_MAX] = calloc((size_t)s->n, sizeof *why);
    int rc = -1, npred = 0;
    vreport_set_class(r, VCLASS_ONE_DEVICE);   /* one H100: nothing crosses a network */
    if (pred == NULL || why == NULL) {
        errbuf_set(err, "out of memory");
        goto done;
    }
    for (int i = 0; i < s->n; i++) {
        const torchsteps_row *row = &s->rows[i];
        char name[160];
        int got = predict(&pred[i], why[i], sizeof why[i], row, chip, arg, err);
        if (got < 0)
            goto done;
        if (got > 0) {
            pred[i] = (double)NAN;
            if (why[i][0] == '\0')
                snprintf(why[i], sizeof why[i], "no reason given");
            continue;
        }
        why[i][0] = '\0';
        npred++;
        snprintf(name, sizeof name, "%s step time", row->model.name);
        vcheck *c = vreport_add(r, row->calibration ? VLABEL_CALIBRATION : VLABEL_MEASURED, group, name, "s",
                                pred[i], row->step_s, TORCHSTEPS_ROW_TOL, source);
        if (c == NULL) {
            errbuf_set(err, "out of memory");
            goto done;
        }
        c->ref_min = row->min_s;
        c->ref_max = row->max_s;
    }
    /* the rows not predicted, one line per reason, in the order the reasons first occur */
    for (int i = 0; i < s->n; i++) {
        int first = why[i][0] != '\0', count = 0;
        for (int j = 0; j < i && first; j++)
            first = strcmp(why[j], why[i]) != 0;
        if (!first)
            continue;
        for (int j = i; j < s->n; j++)
            count += strcmp(why[j], why[i]) == 0;
        fprintf(table, "  %s: %d %s not predicted: %s:", label, count, count == 1 ? "row" : "rows", why[i]);
        for (int j = i; j < s->n; j++)
            if (strcmp(why[j], why[i]) == 0)
                fprintf(table, " %s", s->rows[j].model.name);
        fputc('\n', table);
    }
    torchsteps_score sc;
    if (torchsteps_score_rows(&sc, s, pred, table, err) != 0)
        goto done;
    fprintf(table, "%s (%s, %d rows: %d held out): %d rows predicted, %d not; held-out rows scored %d: mean |error| "
            "%.1f%% (target %.0f%%), max %.1f%% (target %.0f%%), Spearman %.3f; %d of %d pairs of rows that differ "
            "in one setting ordered as measured\n", label, s->device, s->n, sc.holdout, npred, s->n - npred,
            sc.scored, sc.mean_abs * 100.0, TORCHSTEPS_MEAN_TARGET * 100.0, sc.max_abs * 100.0,
            TORCHSTEPS_ROW_TOL * 100.0, sc.spearman, sc.pairs_right, sc.pairs);
    rc = 0;
done:
    free(pred);
    free(why);
    return rc;
}

int torchsteps_validate_file(vreport *r, const char *path, const char *platform, FILE *table, errbuf *err)
{
    torchsteps_set *s = torchsteps_load(path, err);
    if (s == NULL)
        return -1;
    cost_chip chip;
    cost_chip_h100(&chip);
    torchsteps_engine_arg ea = { platform, NULL };
    int rc = torchsteps_validate(r, s, &chip, torchsteps_predict_engine, &ea, "H100 PyTorch",
                                 "h100-moe-steps",
                                 "SOURCES 5.3 h100-moe-steps", table, err);
    torchsteps_free(s);
    return rc;
}

/* ---- calibration ---- */

typedef struct {
    const torchsteps_set *s;
    const cost_chip *base;
    torchsteps_predictor predict;
    void *arg;
    errbuf *err;
    int failed, evals;
} fitctx;

static double logit(double p)
{
    return log(p / (1.0 - p));
}

static double sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

static void fit_apply(cost_chip *c, const fitctx *f, const gsl_vector *x)
{
    torchsteps_params p = { sigmoid(gsl_vector_get(x, 0)), sigmoid(gsl_vector_get(x, 1)),
                            exp(gsl_vector_get(x, 2)), sigmoid(gsl_vector_get(x, 3)) };
    *c = *f->base;
    torchsteps_params_set(c, &p);
}

static double fit_objective(const gsl_vector *x, void *argp)
{
    fitctx *f = argp;
    if (f->failed)
        return (double)NAN;
    cost_chip c;
    fit_apply(&c, f, x);
    f->evals++;
    double sum = 0.0;
    for (int i = 0; i < f->s->n; i++) {
        const torchsteps_row *row = &f->s->rows[i];
        if (!row->calibration)
            continue;   /* held-out rows are never predicted here */
        double t;
        char why[256] = "";
        int got = f->predict(&t, why, sizeof why, row, &c, f->arg, f->err);
        if (got != 0 || !(t > 0.0)) {
            f->failed = 1;
            if (got > 0)
                errbuf_set(f->err, "%s not predicted: %s", row->model.name, why);
            else if (got == 0)
                errbuf_set(f->err, "%s predicted a step of %g s", row->model.name, t);
            return (double)NAN;
        }
        double l = log(t / row->step_s);
        sum += l * l;
    }
    return sum;
}

int torchsteps_calibrate(torchsteps_fit *fit, const torchsteps_set *s, const cost_chip *chip,
                         torchsteps_predictor predict, void *arg, FILE *progress, errbuf *err)
{
    int ncal = 0;
    for (int i = 0; i < s->n; i++)
        ncal += s->rows[i].calibration;
    if (ncal < TORCHSTEPS_NPARAM)
        return errbuf_set(err, "%d calibration rows, the fit needs at least %d", ncal, TORCHSTEPS_NPARAM);
    fitctx f = { s, chip, predict, arg, err, 0, 0 };
    const torchsteps_params p0 = FIT_START;
    gsl_vector *x = gsl_vector_alloc(TORCHSTEPS_NPARAM), *step = gsl_vector_alloc(TORCHSTEPS_NPARAM);
    gsl_multimin_fminimizer *mz = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2,
                                                                TORCHSTEPS_NPARAM);
    int rc = -1;
    if (x == NULL || step == NULL || mz == NULL) {
        errbuf_set(err, "out of memory");
        goto done;
    }
    gsl_vector_set(x, 0, logit(fmin(fmax(p0.mm_efficiency, 0.01), 0.99)));
    gsl_vector_set(x, 1, logit(fmin(fmax(p0.hbm_efficiency, 0.01), 0.99)));
    gsl_vector_set(x, 2, log(fmax(p0.op_overhead_s, 1e-7)));
    gsl_vector_set(x, 3, logit(fmin(fmax(p0.grouped_mm_efficiency, 0.01), 0.99)));
    gsl_vector_set_all(step, FIT_STEP);
    gsl_multimin_function fn = { fit_objective, TORCHSTEPS_NPARAM, &f };
    gsl_error_handler_t *old = gsl_set_error_handler_off();   /* a non-finite objective is reported, not aborted */
    int status = gsl_multimin_fminimizer_set(mz, &fn, x, step) == GSL_SUCCESS ? GSL_CONTINUE : GSL_FAILURE;
    if (status != GSL_CONTINUE && !f.failed) {
        f.failed = 1;
        errbuf_set(err, "the fit could not start from its starting values");
    }
    for (int it = 1; status == GSL_CONTINUE && it <= FIT_ITER_MAX && !f.failed; it++) {
        if (gsl_multimin_fminimizer_iterate(mz) != GSL_SUCCESS)
            break;
        status = gsl_multimin_test_size(gsl_multimin_fminimizer_size(mz), FIT_SIZE_TOL);
        if (progress != NULL)
            fprintf(progress, "calibrate: iteration %d: rms ln error %.4f\n", it, sqrt(mz->fval / ncal));
    }
    gsl_set_error_handler(old);
    if (!f.failed) {
        cost_chip c;
        fit_apply(&c, &f, mz->x);
        torchsteps_params_get(&fit->p, &c);
        fit->rms_log_err = sqrt(mz->fval / ncal);
        fit->rows = ncal;
        fit->evals = f.evals;
        rc = 0;
    }
done:
    if (mz != NULL)
        gsl_multimin_fminimizer_free(mz);
    gsl_vector_free(x);
    gsl_vector_free(step);
    return rc;
}
