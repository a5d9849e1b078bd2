/* check_torchsteps: the PyTorch MoE step dataset (fidelity/torchsteps.c): the committed file loaded and mapped to
 * model descriptions (checked against the parameter counts the measuring program printed), every bad field
 * refused with its exact message, the scoring of predictions by hand, the calibration's use of calibration rows
 * only, and the validate section while the engine cannot predict these rows. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fidelity/torchsteps.h"
#include "sim/eager.h"
#include "tests/fixtures.h"

#define DATASET "data/h100-moe-steps.csv"

FIXTURE_TMPDIR_SUITE("check_torchsteps")

static torchsteps_set *load_dataset(void)
{
    errbuf err = { "" };
    torchsteps_set *s = torchsteps_load(DATASET, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    return s;
}

static const torchsteps_row *find(const torchsteps_set *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->rows[i].model.name, name) == 0)
            return &s->rows[i];
    ck_abort_msg("row '%s' missing", name);
    return NULL;
}

/* ---- the committed dataset ---- */

START_TEST(test_dataset)
{
    torchsteps_set *s = load_dataset();
    ck_assert_int_eq(s->n, 38);
    int cal = 0;
    for (int i = 0; i < s->n; i++)
        cal += s->rows[i].calibration;
    ck_assert_int_eq(cal, 12);
    ck_assert_str_eq(s->device, "NVIDIA H100 80GB HBM3");

    const torchsteps_row *r = find(s, "a-dense");
    ck_assert_int_eq(r->calibration, 1);
    ck_assert_str_eq(r->family, "a");
    ck_assert_int_eq(r->model.arch, MODEL_ARCH_DEC_ONLY);
    ck_assert_int_eq(r->model.act, MODEL_ACT_SWIGLU);
    ck_assert_int_eq(r->model.d_model, 512);
    ck_assert_int_eq(r->model.dec_layers, 6);
    ck_assert_int_eq(r->model.enc_layers, 0);
    ck_assert_int_eq(r->model.heads, 8);
    ck_assert_int_eq(r->model.kv_heads, 2);
    ck_assert_int_eq(r->model.d_kv, 64);
    ck_assert_int_eq(r->model.d_ff, 2048);
    ck_assert_int_eq(r->model.experts, 1);
    ck_assert_int_eq(r->model.expert_every, 0);
    ck_assert_int_eq(r->model.dec_seq, 1024);
    ck_assert_int_eq(r->model.tokens_per_batch, 16384);
    ck_assert_int_eq(r->batch, 16);
    ck_assert_int_eq(r->dispatch, TORCHSTEPS_NONE);
    ck_assert_double_eq_tol(r->step_s, 32.0178e-3, 1e-15);
    ck_assert_double_eq_tol(r->min_s, 31.8714e-3, 1e-15);
    ck_assert_double_eq_tol(r->max_s, 32.1071e-3, 1e-15);
    ck_assert_int_eq(r->timed_steps, 8);

    r = find(s, "c-e64k6-s2-d1");
    ck_assert_int_eq(r->calibration, 0);
    ck_assert_int_eq(r->model.experts, 64);
    ck_assert_int_eq(r->model.top_k, 6);
    ck_assert_int_eq(r->model.d_ff_expert, 768);
    ck_assert_int_eq(r->model.shared_experts, 2);
    ck_assert_int_eq(r->model.first_dense, 1);
    ck_assert_int_eq(r->model.expert_every, 1);
    ck_assert_int_eq(r->model.renorm, MODEL_RENORM_YES);
    ck_assert_int_eq(r->dispatch, TORCHSTEPS_DROPLESS);
    ck_assert_int_eq(r->capacity, 0);

    r = find(s, "b-e8k2-pad-cf1.5");   /* ceil(1.5 x 16384 x 2 / 8) = 6144 */
    ck_assert_int_eq(r->dispatch, TORCHSTEPS_PADDED);
    ck_assert_double_eq(r->model.capacity_factor, 1.5);
    ck_assert_int_eq(r->capacity, 6144);
    r = find(s, "b-e32-ec-cf1");       /* int(16384 x 1 / 32) = 512 */
    ck_assert_int_eq(r->dispatch, TORCHSTEPS_EXPERT_CHOICE);
    ck_assert_int_eq(r->capacity, 512);
    ck_assert_double_eq(r->dropped_frac, 0.28717);
    r = find(s, "a-e16k2-m2");
    ck_assert_int_eq(r->model.expert_every, 2);

    /* the model description counts the parameters the measuring program counted, in every row: total, and
     * active (top_k routed experts per MoE layer) */
    for (int i = 0; i < s->n; i++) {
        const torchsteps_row *ri = &s->rows[i];
        ck_assert_msg(model_params_total(&ri->model) == ri->params_total, "%s: total %.0f, file %.0f",
                      ri->model.name, model_params_total(&ri->model), ri->params_total);
        ck_assert_msg(model_params_active(&ri->model) == ri->params_active, "%s: active %.0f, file %.0f",
                      ri->model.name, model_params_active(&ri->model), ri->params_active);
    }
    torchsteps_free(s);
    torchsteps_free(NULL);
}
END_TEST

/* ---- bad input: one field changed in a three-row file ---- */

#define HEAD "name,family,split,d_model,layers,heads,kv_heads,head_dim,vocab,seq,batch,tokens,ffn_dense,experts," \
             "top_k,ffn_expert,shared,first_dense,moe_every,dispatch,capacity_factor,group_align,capacity,step_ms," \
             "step_min_ms,step_max_ms,timed_steps,max_load,dropped_frac,params_total,params_active,peak_mem_gib," \
             "loss,device,torch_version,date\n"
static const char *const GOOD[3] = {
    "a-dense,a,calibration,512,6,8,2,64,32000,1024,16,16384,2048,1,1,0,0,0,1,none,1.0,1,0,32.0178,31.8714,"
    "32.1071,8,0.0000,0.00000,55581184,55581184,9.59,9.7632,NVIDIA H100 80GB HBM3,2.11.0+cu130,2026-12-07",
    "a-e8k1,a,holdout,512,6,8,2,64,32000,1024,16,16384,2048,8,1,2048,0,0,1,dropless,1.0,1,0,39.6425,39.5861,"
    "39.7736,8,1.0322,0.00000,187726336,55605760,11.59,8.1420,NVIDIA H100 80GB HBM3,2.11.0+cu130,2026-12-07",
    "c-e8k2-pad-cf1.25,c,holdout,2048,4,16,4,128,32000,2048,8,16384,6144,8,2,6144,0,0,1,padded,1.25,1,5120,"
    "160.6679,160.2616,161.0841,8,1.0244,0.00000,1381058560,475088896,37.44,1.5905,NVIDIA H100 80GB HBM3,"
    "2.11.0+cu130,2026-12-07",
};

/* The three rows with field 'col' (0-based) of row 'row' replaced by 'value' (no quoting in these rows). */
static const char *three_rows(int row, int col, const char *value)
{
    static char text[4096];
    snprintf(text, sizeof text, "%s", HEAD);
    for (int r = 0; r < 3; r++) {
        const char *p = GOOD[r];
        for (int c = 0; *p != '\0' || c == 0; c++) {
            const char *end = strchr(p, ',');
            size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
            if (c > 0)
                strcat(text, ",");
            if (r == row && c == col)
                strcat(text, value);
            else
                strncat(text, p, len);
            if (end == NULL)
                break;
            p = end + 1;
        }
        strcat(text, "\n");
    }
    return text;
}

static const struct {
    int row, col;
    const char *value, *msg;   /* msg follows "PATH:" */
} BAD[] = {
    { 1, 2, "train", "3: column 'split' must be calibration or holdout, got 'train'" },
    { 1, 3, "0", "3: column 'd_model' must be an integer > 0, got '0'" },
    { 1, 3, "512.5", "3: column 'd_model' must be an integer > 0, got '512.5'" },
    { 1, 6, "3", "3: column 'kv_heads' must be a divisor of heads, got '3'" },
    { 1, 6, "9", "3: column 'kv_heads' must be an integer in [1, heads], got '9'" },
    { 1, 11, "16000", "3: column 'tokens' must be seq x batch, got '16000'" },
    { 1, 14, "9", "3: column 'top_k' must be an integer in [1, 8] (experts, at most 8), got '9'" },
    { 1, 15, "0", "3: column 'ffn_expert' must be an integer > 0 in a MoE row, got '0'" },
    { 0, 15, "2048", "2: column 'ffn_expert' must be 0 in a dense row (experts 1), got '2048'" },
    { 1, 17, "7", "3: column 'first_dense' must be an integer in [0, layers], got '7'" },
    { 1, 19, "sorted", "3: column 'dispatch' must be none, dropless, padded or expert-choice, got 'sorted'" },
    { 1, 19, "none", "3: column 'dispatch' must be not none in a MoE row, got 'none'" },
    { 1, 19, "expert-choice", "3: column 'capacity' must be min(tokens, int(tokens x capacity_factor / experts)) "
                              "= 2048, got '0'" },
    { 2, 22, "5119", "4: column 'capacity' must be ceil(capacity_factor x tokens x top_k / experts) = 5120, "
                     "got '5119'" },
    { 2, 20, "-1", "4: column 'capacity_factor' must be a number > 0, got '-1'" },
    { 1, 23, "39.9", "3: column 'step_ms' must be between step_min_ms and step_max_ms, got '39.9'" },
    { 1, 24, "", "3: column 'step_min_ms' must be a number > 0, got ''" },
    { 1, 28, "1.5", "3: column 'dropped_frac' must be a number in [0, 1], got '1.5'" },
    { 1, 30, "187726337", "3: column 'params_active' must be a number in (0, params_total], got '187726337'" },
    { 1, 33, "NVIDIA H200", "3: column 'device' must be 'NVIDIA H100 80GB HBM3' (the first row's: one device "
                            "per file), got 'NVIDIA H200'" },
    { 1, 0, "a-dense", "3: column 'name' must be a name no earlier row has, got 'a-dense'" },
    { 1, 2, "calibration", ": 2 of 3 rows are calibration rows; at most a third may be" },
};

START_TEST(test_bad)
{
    errbuf err = { "" };
    const char *path = write_tmp("bad.csv", three_rows(BAD[_i].row, BAD[_i].col, BAD[_i].value));
    char want[512];
    snprintf(want, sizeof want, "%s:%s", path, BAD[_i].msg);
    if (BAD[_i].msg[0] == ':')
        snprintf(want, sizeof want, "%s%s", path, BAD[_i].msg);
    ck_assert_ptr_null(torchsteps_load(path, &err));
    ck_assert_str_eq(err.msg, want);
}
END_TEST

START_TEST(test_good_and_missing)
{
    errbuf err = { "" };
    torchsteps_set *s = torchsteps_load(write_tmp("good.csv", three_rows(-1, -1, "")), &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_int_eq(s->n, 3);
    torchsteps_free(s);
    const char *path = write_tmp("nohead.csv", "name,family\nx,a\n");
    ck_assert_ptr_null(torchsteps_load(path, &err));
    char want[320];
    snprintf(want, sizeof want, "%s:1: missing column 'split'", path);
    ck_assert_str_eq(err.msg, want);
    path = write_tmp("empty.csv", HEAD);
    ck_assert_ptr_null(torchsteps_load(path, &err));
    snprintf(want, sizeof want, "%s: no data rows", path);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

/* ---- scoring ---- */

/* Predictions of the committed rows: measured x (1 + e).  Held-out rows a-e8k1 -5%, a-e8k2 +10%, a-e8k2-pad-cf2
 * +30%, calibration row a-e8k2-pad-cf1 +50% (predicted, not scored), every other row not predicted.
 * mean |e| = (0.05 + 0.10 + 0.30) / 3 = 0.15, max 0.30 at a-e8k2-pad-cf2; predicted 37.66 < 50.26 < 80.07 ms keep
 * the measured order (39.6 < 45.7 < 61.6): Spearman 1.  Pairs of predicted rows that differ in one setting:
 * a-e8k1 / a-e8k2 (top-k), a-e8k2 / a-e8k2-pad-cf1 (dispatch), a-e8k2-pad-cf1 / a-e8k2-pad-cf2 (capacity
 * factor): 3, all ordered right (the calibration row's 78.5 ms lies between 50.26 and 80.07). */
START_TEST(test_score)
{
    torchsteps_set *s = load_dataset();
    double *pred = malloc((size_t)s->n * sizeof *pred);
    int cf2 = -1;
    for (int i = 0; i < s->n; i++) {
        const char *n = s->rows[i].model.name;
        double e = strcmp(n, "a-e8k1") == 0 ? -0.05 : strcmp(n, "a-e8k2") == 0 ? 0.10 :
                   strcmp(n, "a-e8k2-pad-cf2") == 0 ? 0.30 : strcmp(n, "a-e8k2-pad-cf1") == 0 ? 0.50 : (double)NAN;
        pred[i] = s->rows[i].step_s * (1.0 + e);
        if (strcmp(n, "a-e8k2-pad-cf2") == 0)
            cf2 = i;
    }
    torchsteps_score sc;
    errbuf err = { "" };
    ck_assert_int_eq(torchsteps_score_rows(&sc, s, pred, NULL, &err), 0);
    ck_assert_int_eq(sc.holdout, 26);
    ck_assert_int_eq(sc.scored, 3);
    ck_assert_double_eq_tol(sc.mean_abs, 0.15, 1e-12);
    ck_assert_double_eq_tol(sc.max_abs, 0.30, 1e-12);
    ck_assert_int_eq(sc.worst, cf2);
    ck_assert_double_eq_tol(sc.spearman, 1.0, 1e-12);
    ck_assert_int_eq(sc.pairs, 3);
    ck_assert_int_eq(sc.pairs_right, 3);
    /* a-e8k2-pad-cf2 predicted at 30 ms: its capacity-factor pair is missed (named on the table), its ranks
     * (2, 3, 1) against (1, 2, 3): Spearman -0.5 */
    pred[cf2] = 0.030;
    const char *path = write_tmp("missed.txt", "");
    FILE *fp = fopen(path, "w");
    ck_assert_int_eq(torchsteps_score_rows(&sc, s, pred, fp, &err), 0);
    fclose(fp);
    ck_assert_int_eq(sc.pairs, 3);
    ck_assert_int_eq(sc.pairs_right, 2);
    ck_assert_double_eq_tol(sc.spearman, -0.5, 1e-12);
    char *text = fixture_slurp(path, NULL);
    ck_assert_str_eq(text, "  ordering missed (capacity factor): a-e8k2-pad-cf1 52.347 ms < a-e8k2-pad-cf2 61.596 ms "
                           "measured, predicted 78.521 >= 30.000\n");
    free(text);
    /* nothing predicted: NAN summaries, no pairs */
    for (int i = 0; i < s->n; i++)
        pred[i] = (double)NAN;
    ck_assert_int_eq(torchsteps_score_rows(&sc, s, pred, NULL, &err), 0);
    ck_assert_int_eq(sc.scored, 0);
    ck_assert(isnan(sc.mean_abs) && isnan(sc.max_abs) && isnan(sc.spearman));
    ck_assert_int_eq(sc.worst, -1);
    ck_assert_int_eq(sc.pairs, 0);
    free(pred);
    torchsteps_free(s);
}
END_TEST

START_TEST(test_differ_in_one)
{
    torchsteps_set *s = load_dataset();
    ck_assert_str_eq(torchsteps_differ_in_one(find(s, "a-e8k2"), find(s, "a-e8k2-pad-cf1")), "dispatch");
    ck_assert_str_eq(torchsteps_differ_in_one(find(s, "a-e8k2-pad-cf1"), find(s, "a-e8k2-pad-cf2")),
                     "capacity factor");
    ck_assert_str_eq(torchsteps_differ_in_one(find(s, "a-e16k2"), find(s, "a-e16k2-m2")), "MoE every");
    ck_assert_str_eq(torchsteps_differ_in_one(find(s, "a-e8k1"), find(s, "a-e8k2")), "top-k");
    ck_assert_ptr_null(torchsteps_differ_in_one(find(s, "a-e8k1"), find(s, "a-e16k2")));
    ck_assert_ptr_null(torchsteps_differ_in_one(find(s, "a-e8k1"), find(s, "a-e8k1")));
    ck_assert_ptr_null(torchsteps_differ_in_one(find(s, "a-e8k1"), find(s, "b-e8k1")));   /* another family */
    torchsteps_free(s);
}
END_TEST

/* ---- calibration: a predictor of known form ----
 * step = A/mm_efficiency + B/hbm_efficiency + C*op_overhead_s + G/grouped_mm_efficiency with per-row A, B, C, G
 * taken from the row (its parameter count, tokens, layers and experts), so the rows are independent
 * equations.  The calibration rows' measured steps are set from known parameters: the fit finds them again,
 * and the predictor is never called on a held-out row. */
typedef struct {
    int holdout_calls, calls;
} synth_log;

static void synth_terms(double *t, const torchsteps_row *r)
{
    t[0] = r->params_active * 1e-10;
    t[1] = r->params_total * 2e-11;
    t[2] = 40.0 * r->model.dec_layers + r->model.experts;
    t[3] = r->model.experts > 1 ? r->model.d_ff_expert * r->model.top_k * 1e-6 : 0.0;
}

static int synth_predict(double *step_s, char *why, size_t nwhy, const torchsteps_row *row, const cost_chip *chip,
                         void *arg, errbuf *err)
{
    (void)why;
    (void)nwhy;
    (void)err;
    synth_log *log_ = arg;
    log_->calls++;
    log_->holdout_calls += !row->calibration;
    double t[4];
    synth_terms(t, row);
    double g = chip->grouped_mm_efficiency > 0.0 ? chip->grouped_mm_efficiency : chip->torch_mm_efficiency;
    *step_s = t[0] / chip->torch_mm_efficiency + t[1] / chip->torch_hbm_efficiency +
              t[2] * chip->torch_op_overhead_s + t[3] / g;
    return 0;
}

START_TEST(test_calibrate)
{
    torchsteps_set *s = load_dataset();
    cost_chip truth, start;
    cost_chip_h100(&truth);
    truth.torch_mm_efficiency = 0.62;
    truth.torch_hbm_efficiency = 0.81;
    truth.torch_op_overhead_s = 6.5e-6;
    truth.grouped_mm_efficiency = 0.41;
    synth_log lg = { 0, 0 };
    errbuf err = { "" };
    for (int i = 0; i < s->n; i++) {
        torchsteps_row *r = &s->rows[i];
        if (!r->calibration) {
            r->step_s = r->min_s = r->max_s = 1.0;   /* held-out numbers the fit must not see */
            continue;
        }
        ck_assert_int_eq(synth_predict(&r->step_s, NULL, 0, r, &truth, &lg, &err), 0);
    }
    lg.calls = lg.holdout_calls = 0;
    cost_chip_h100(&start);
    torchsteps_fit fit;
    ck_assert_msg(torchsteps_calibrate(&fit, s, &start, synth_predict, &lg, NULL, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(lg.holdout_calls, 0);
    ck_assert_int_eq(lg.calls, 12 * fit.evals);
    ck_assert_int_eq(fit.rows, 12);
    ck_assert_double_eq_tol(fit.p.mm_efficiency, 0.62, 2e-3);
    ck_assert_double_eq_tol(fit.p.hbm_efficiency, 0.81, 2e-3);
    ck_assert_double_eq_tol(fit.p.op_overhead_s, 6.5e-6, 2e-8);
    ck_assert_double_eq_tol(fit.p.grouped_mm_efficiency, 0.41, 2e-3);
    ck_assert(fit.rms_log_err < 1e-3);
    torchsteps_free(s);
}
END_TEST

/* ---- the engine's predictor, and validate's accounting ---- */

/* The engine's torch step of the dense row a-dense (one H100, no collective: the step is the sum of its ops) is
 * the sum of the eager kernel lists (sim/eager.h) over embedding, 6 layers forward and backward, head and loss,
 * the weight casts both ways and the fused AdamW; and the dropless row a-e8k1 costs more than its dense twin. */
START_TEST(test_engine_predicts)
{
    torchsteps_set *s = load_dataset();
    cost_chip c;
    cost_chip_h100(&c);
    errbuf err = { "" };
    torchsteps_engine_arg ea = { "topologies/h100-1gpu.xml", NULL };
    const torchsteps_row *row = find(s, "a-dense");
    const model_cfg *m = &row->model;
    double t, t_moe;
    char why[256] = "";
    ck_assert_msg(torchsteps_predict_engine(&t, why, sizeof why, row, &c, &ea, &err) == 0, "%s", err.msg);
    cost_chip tc = c;   /* the torch profile's values, as the engine runs them */
    tc.mm_efficiency = c.torch_mm_efficiency;
    tc.hbm_efficiency = c.torch_hbm_efficiency;
    tc.op_overhead_s = c.torch_op_overhead_s;
    cost_work w;
    cost_work_init(&w);
    double T = 16384.0;
    for (int bwd = 0; bwd < 2; bwd++) {
        eager_embed_work(&w, &tc, m, T, bwd);
        eager_head_loss_work(&w, &tc, m, T, bwd);
        for (int l = 0; l < m->dec_layers; l++) {
            eager_attention_work(&w, &tc, m, 16.0, 1024, bwd);
            eager_norm_residual_work(&w, &tc, m, T, bwd);
            eager_swiglu_work(&w, &tc, m, T, m->d_ff, bwd);
        }
    }
    eager_params ep;
    eager_params_count(&ep, m, 1);
    eager_casts_work(&w, &tc, &ep, 0);
    eager_casts_work(&w, &tc, &ep, 1);
    cost_fused_adamw_work(&w, &tc, ep.params, ep.tensors);
    ck_assert_double_eq_tol(t / w.t_s, 1.0, 1e-9);
    ck_assert_msg(torchsteps_predict_engine(&t_moe, why, sizeof why, find(s, "a-e8k1"), &c, &ea, &err) == 0, "%s",
                  err.msg);
    ck_assert(t_moe > t);

    vreport r;
    vreport_init(&r);
    const char *path = write_tmp("table.txt", "");
    FILE *fp;
    /* a predictor that predicts: every row added, held-out ones scored within 20% */
    synth_log lg = { 0, 0 };
    fp = fopen(path, "w");
    ck_assert_int_eq(torchsteps_validate(&r, s, &c, synth_predict, &lg, "H100 PyTorch", "h100-moe",
                                         "SOURCES 5.3 h100-moe-steps", fp, &err), 0);
    fclose(fp);
    ck_assert_int_eq(r.n, 38);
    ck_assert_int_eq(lg.calls, 38);
    ck_assert_int_eq(r.v[0].label, VLABEL_CALIBRATION);   /* a-dense */
    ck_assert_int_eq(r.v[3].label, VLABEL_MEASURED);      /* a-e8k1 */
    ck_assert_double_eq(r.v[3].tol, 0.20);
    ck_assert_double_eq_tol(r.v[3].ref, 39.6425e-3, 1e-15);
    ck_assert_double_eq_tol(r.v[3].ref_min, 39.5861e-3, 1e-15);
    ck_assert_str_eq(r.v[3].name, "a-e8k1 step time");
    vreport_fini(&r);
    torchsteps_free(s);
}
END_TEST

static Suite *torchsteps_suite(void)
{
    Suite *s = suite_create("torchsteps");
    TCase *tc = tcase_create("load");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_dataset);
    tcase_add_loop_test(tc, test_bad, 0, (int)(sizeof BAD / sizeof BAD[0]));
    tcase_add_test(tc, test_good_and_missing);
    suite_add_tcase(s, tc);
    tc = tcase_create("score");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_score);
    tcase_add_test(tc, test_differ_in_one);
    tcase_add_test(tc, test_calibrate);
    tcase_add_test(tc, test_engine_predicts);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(torchsteps_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
