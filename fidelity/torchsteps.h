/* torchsteps: the measured decoder-only MoE steps in eager PyTorch on one GPU (data/h100-moe-steps.csv, written by
 * analysis/measure/moe_step.py): each row as a model description and the run it was measured with, the
 * torch profile's prediction of each row (or the reason it cannot be predicted yet), the scoring of the held-out
 * rows, and the fit of the torch profile's parameters on the calibration rows only. */
#ifndef SWITCHSIM_TORCHSTEPS_H
#define SWITCHSIM_TORCHSTEPS_H

#include <stddef.h>
#include <stdio.h>

#include "models/model.h"
#include "sim/common/errbuf.h"
#include "sim/cost.h"
#include "fidelity/validate.h"

/* How a MoE layer sends its tokens to the experts (column 'dispatch'; analysis/measure/README.md):
 *   NONE           a dense model (experts 1)
 *   DROPLESS       every token to its top_k experts: argsort, gather, one grouped GEMM per matrix, unsort
 *   PADDED         each expert a buffer of 'capacity' = ceil(cf T k / E) rows, overflow dropped, batched matmuls
 *   EXPERT_CHOICE  each expert takes its top 'capacity' = min(T, int(T cf / E)) tokens, batched matmuls */
typedef enum {
    TORCHSTEPS_NONE = 0, TORCHSTEPS_DROPLESS = 1, TORCHSTEPS_PADDED = 2, TORCHSTEPS_EXPERT_CHOICE = 3
} torchsteps_dispatch;
/* "none", "dropless", "padded", "expert-choice" */
const char *torchsteps_dispatch_name(torchsteps_dispatch d);

#define TORCHSTEPS_FAMILY_MAX 32
#define TORCHSTEPS_DEVICE_MAX 64

/* One measured configuration. */
typedef struct {
    model_cfg model;                /* decoder-only, SwiGLU, untied, softmax router renormalised over the top_k;
                                     * dec_seq = seq, tokens_per_batch = tokens, group_size = tokens (one routing
                                     * group: the whole batch), capacity_factor, min_capacity 0 */
    char family[TORCHSTEPS_FAMILY_MAX];   /* rows of one family share the dense geometry */
    int calibration;                /* 1: 'split' calibration (the fit may read it), 0: holdout (scored) */
    int batch, seq;                 /* sequences per step and tokens per sequence; tokens = batch x seq */
    torchsteps_dispatch dispatch;
    int group_align;                /* rows each expert's group was padded to (1: none) */
    int capacity;                   /* rows per expert buffer (PADDED, EXPERT_CHOICE), else 0 */
    double step_s, min_s, max_s;    /* median, fastest and slowest of the timed steps, seconds */
    int timed_steps;
    double max_load;                /* the busiest expert's tokens over the mean (0 for a dense model) */
    double dropped_frac;            /* fraction of token-expert assignments dropped */
    double params_total, params_active;   /* as the program counted them */
} torchsteps_row;

typedef struct {
    torchsteps_row *rows;
    int n;
    char device[TORCHSTEPS_DEVICE_MAX];   /* the 'device' column (one device per file) */
} torchsteps_set;

/* Loads a dataset (libcsv through csvtab_read; the columns by name, in any order; other columns ignored).  Every
 * field is checked: integers > 0 where a size is meant, kv_heads dividing heads, tokens = seq x batch, top_k in
 * [1, min(experts, MODEL_TOPK_MAX)], a dense row (experts 1) with dispatch none and ffn_expert 0, an
 * expert-choice row with top_k 1, first_dense <= layers, capacity the dispatch's rule gives, step_min_ms <=
 * step_ms <= step_max_ms, dropped_frac in [0, 1], params_active <= params_total, one device, unique names, at
 * most a third of the rows calibration and at least one held out.  Returns NULL with
 * "FILE:LINE: column 'NAME' must be RULE, got 'VALUE'" (or "FILE: ..." for a whole-file rule). */
torchsteps_set *torchsteps_load(const char *path, errbuf *err);
void torchsteps_free(torchsteps_set *s);   /* NULL is a no-op */

/* The torch profile's parameters that a calibration fits: cost_chip's torch_mm_efficiency, torch_hbm_efficiency,
 * torch_op_overhead_s and grouped_mm_efficiency (get: a field at 0 reads as the value the engine then uses). */
#define TORCHSTEPS_NPARAM 4
typedef struct {
    double mm_efficiency, hbm_efficiency, op_overhead_s, grouped_mm_efficiency;
} torchsteps_params;
void torchsteps_params_get(torchsteps_params *p, const cost_chip *c);
void torchsteps_params_set(cost_chip *c, const torchsteps_params *p);

/* The longest reason a predictor gives, with its NUL. */
#define TORCHSTEPS_WHY_MAX 256

/* A predictor of one row's step on 'chip': returns 0 with *step_s, 1 when it cannot predict the row (why: the
 * reason, e.g. "the engine does not simulate decoder-only models yet"), -1 with err on a failure. */
typedef int (*torchsteps_predictor)(double *step_s, char *why, size_t nwhy, const torchsteps_row *row,
                                    const cost_chip *chip, void *arg, errbuf *err);

/* switchsim's predictor: engine_run in a child process with the torch profile (--impl torch), the row's dispatch,
 * the real fp32 router, no recomputation, on the one-GPU platform file with 'chip's numbers in place of the
 * platform's.  'arg' is a torchsteps_engine_arg.  With a cache folder, a row's routing is recorded there the
 * first time (ROW.csv, a routing trace) and replayed after (the same counts per group and rank, so the same
 * step): a fit predicts each row hundreds of times and the router's samples are most of a prediction's time.
 * Predicts every row (never returns 1); fails when the engine's expert capacity differs from the row's. */
typedef struct {
    const char *platform;    /* the one-GPU platform file */
    const char *cache_dir;   /* NULL, or an existing folder for the routing traces */
} torchsteps_engine_arg;
int torchsteps_predict_engine(double *step_s, char *why, size_t nwhy, const torchsteps_row *row,
                              const cost_chip *chip, void *arg, errbuf *err);

/* The scoring of predictions pred_s (n; NAN where a row was not predicted) against the set. */
typedef struct {
    int holdout;             /* held-out rows */
    int scored;              /* held-out rows predicted */
    double mean_abs, max_abs;   /* mean and max |pred/measured - 1| over the scored rows (NAN when none) */
    int worst;               /* the row of max_abs, -1 when none */
    double spearman;         /* rank correlation of predicted and measured steps over the scored rows (NAN
                              * below 3 rows) */
    int pairs, pairs_right;  /* pairs of predicted rows (either split) that differ in one setting and whose
                              * measured spreads do not overlap; those the prediction orders as measured */
} torchsteps_score;
/* Fills 'sc'; a pair ordered wrong is named on 'table' (NULL: not printed).  Returns 0, or -1 out of memory. */
int torchsteps_score_rows(torchsteps_score *sc, const torchsteps_set *s, const double *pred_s, FILE *table,
                          errbuf *err);
/* Which single setting rows a and b differ in ("experts", "top-k", "expert width", "shared experts",
 * "first dense layers", "MoE every", "dispatch", "capacity factor"), or NULL for none, more than one, or rows of
 * two families (another dense geometry). */
const char *torchsteps_differ_in_one(const torchsteps_row *a, const torchsteps_row *b);

/* Validate targets: the mean |error| of the held-out rows and each row's tolerance (the max). */
#define TORCHSTEPS_MEAN_TARGET 0.08
#define TORCHSTEPS_ROW_TOL 0.20

/* The validate section: every row predicted with 'predict' on 'chip' (the platform's numbers); a predicted
 * held-out row added to 'r' as a measured row (tolerance TORCHSTEPS_ROW_TOL), a predicted calibration row as a
 * calibration row, both under 'group' and 'source'; the rows not predicted printed on 'table', not added, one
 * line per reason: "  LABEL: N rows not predicted: WHY: NAME NAME ..."; then one line with the score.  Returns 0,
 * or -1 with err. */
int torchsteps_validate(vreport *r, const torchsteps_set *s, const cost_chip *chip, torchsteps_predictor predict,
                        void *arg, const char *label, const char *group, const char *source, FILE *table,
                        errbuf *err);

/* validate's section for a dataset file: loaded, every row predicted with torchsteps_predict_engine on 'platform'
 * (topologies/h100-1gpu.xml) with the H100 preset's numbers (cost_chip_h100: what that file carries), under
 * group "h100-moe-steps" and source "SOURCES 5.3 h100-moe-steps".  Returns 0, or -1 with err (the file's message when it does not load). */
int torchsteps_validate_file(vreport *r, const char *path, const char *platform, FILE *table, errbuf *err);

/* The fit: the four parameters minimising the sum over the calibration rows (and only those: 'predict' is
 * never called on a held-out row) of ln(predicted / measured)^2, GSL Nelder-Mead from fixed starting values
 * (torchsteps.c FIT_START) with 'chip's other numbers, the
 * efficiencies in (0, 1) through a logit, the overhead > 0 through a log.  Every calibration row must be
 * predicted: one that is not fails the fit with "ROW not predicted: WHY".  'progress' != NULL:
 * one line per iteration there. */
typedef struct {
    torchsteps_params p;
    double rms_log_err;     /* sqrt(mean over the calibration rows of ln(predicted / measured)^2) */
    int rows, evals;        /* calibration rows; objective evaluations */
} torchsteps_fit;
int torchsteps_calibrate(torchsteps_fit *fit, const torchsteps_set *s, const cost_chip *chip,
                         torchsteps_predictor predict, void *arg, FILE *progress, errbuf *err);

#endif
