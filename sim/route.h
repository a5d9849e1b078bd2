/* route: what is routed.  For every Switch layer, data shard and routing group, the number of tokens whose
 * first (second, .., kth: top-k up to 8) choice is each expert, before capacity.  Sources: the real router kernels on synthetic
 * hidden states (every token when it is affordable, otherwise a per-layer sample whose expert distribution is
 * then drawn per token), a named synthetic distribution, or a routing trace.  Pure C + GSL, no SimGrid. */
#ifndef SWITCHSIM_ROUTE_H
#define SWITCHSIM_ROUTE_H

#include "models/model.h"
#include "sim/common/atomicio.h"
#include "sim/common/errbuf.h"
#include "sim/plan.h"

typedef enum { ROUTE_ROUTER, ROUTE_UNIFORM, ROUTE_ZIPF, ROUTE_HOT, ROUTE_TRACE } route_kind;

#define ROUTE_SPEC_MAX 256

typedef struct {
    route_kind kind;
    double param;                /* zipf exponent S, or hot fraction FRAC */
    char path[ROUTE_SPEC_MAX];   /* trace file */
    char text[ROUTE_SPEC_MAX];   /* the spec as given, for the CSV */
} route_spec;

/* Parses router | uniform | zipf:S (S >= 0) | hot:FRAC (0 < FRAC <= 1) | trace:FILE.
 * Message: "--routing must be router, uniform, zipf:S, hot:FRAC or trace:FILE, got 'x'". */
int route_parse(route_spec *spec, const char *s, errbuf *err);

/* Router FLOPs the simulator spends for real per run before it switches to sampling (see route.c). */
#define ROUTE_EXACT_FLOPS_MAX 4.0e9
/* Router FLOPs per layer spent on the sample when sampling. */
#define ROUTE_SAMPLE_FLOPS 1.0e9
/* Hidden-state elements drawn per layer for the sample, at most: the FLOP budget alone asks for 1e9/(2E) draws,
 * 62M per layer at 8 experts (seconds of Gaussian draws); a model of 128 or more experts stays below (3.9M). */
#define ROUTE_SAMPLE_DRAWS 4.0e6

typedef struct route_ctx route_ctx;

/* Prepares routing for a run: draws the router weights (truncated normal, s = 0.1, SOURCES 3 Init) per
 * Switch layer, decides exact or sampled routing, routes the per-layer samples, loads a trace (checked against
 * the plan: layers, groups, experts, tokens per group, a choice column per rank).  The router's scores (softmax
 * or sigmoid) and whether the k gates are renormalised come from the model (model_topk_renorm with the plan's
 * top-k).  jitter_eps: multiplicative input jitter (0 = none).
 * second_threshold > 0: Mesh TF's random second-expert policy on top-2 router routing (switch_second_random;
 * sampled routing keeps the sample's share of second choices); 0 keeps every second choice.  dump != 0 keeps
 * every group's counts for route_dump_csv. */
route_ctx *route_ctx_alloc(const route_spec *spec, const model_cfg *m, const plan *p, unsigned long seed,
                           double jitter_eps, double second_threshold, int dump, errbuf *err);
void route_ctx_free(route_ctx *r);

/* One routing group: sparse layer 'layer' (0-based among Switch layers, encoder then decoder), data shard
 * 'shard', group 'group' of that shard.  Fills kept (E) with the tokens kept per expert after capacity (all k
 * choices together, each <= C; every first choice placed before any second, and so on to the kth), and returns
 * the dropped choices; *lb gets the group's
 * load-balancing loss alpha*E*sum f_e P_e (alpha = 0.01, SOURCES 3).  Deterministic in (seed, layer,
 * shard, group), whatever order the groups are asked in.  numerics != 0 also runs the rest of the Switch
 * layer on the group when the context does numerics (once per group: model-parallel slices share it).  Checks its
 * invariants (kept + dropped + second choices a policy discarded = S*k,
 * kept_e <= C); returns -1 with err on a violation (a bug, never input). */
int route_group(route_ctx *r, int layer, int shard, int group, int numerics, int *kept, double *lb, errbuf *err);

/* Expert choice from now on (--dispatch expert-choice): route_group gives every expert C tokens of the group
 * (all S when C >= S) and returns the tokens no expert took, from the real router's scores (exact routing), with
 * no load-balancing loss; with routing that has no per-token scores (sampled, a distribution, a trace) that count
 * is unknown: route_group returns 0 and route_expert_choice_unknown says 1. */
void route_set_expert_choice(route_ctx *r);

/* Whether Switch layer 'layer' may be routed a shard at a time (route_shard): drawn routing whose groups draw each
 * rank's counts as one multinomial, where no expert can drop a choice (capacity >= the group's tokens: dropless),
 * no trace replayed or counts recorded, no expert choice. */
int route_shard_ok(const route_ctx *r, int layer);
/* Whether groups draw each rank's counts as one multinomial (drawn routing above ROUTE_MULTINOMIAL_CHOICES). */
int route_multinomial(const route_ctx *r);
/* All the routing groups of data shard 'shard' in Switch layer 'layer' at once (route_shard_ok): each rank's counts
 * over the groups' tokens drawn as one multinomial, which is the sum of the groups' own draws in distribution.
 * kept (E) <- the tokens each expert keeps summed over the groups; *lb <- the groups' load-balancing losses summed
 * (each is linear in its first-choice counts, so the sum is the summed counts' loss); returns the dropped choices
 * (capacity groups x C per expert: none in practice), or -1 with err on a broken invariant.  Deterministic in
 * (seed, layer, shard). */
long route_shard(route_ctx *r, int layer, int shard, int *kept, double *lb, errbuf *err);
int route_expert_choice_unknown(const route_ctx *r);

/* Groups that also ran the rest of the Switch layer (dispatch, expert FFN, combine) for real: only exact
 * routing of small models.  *mean_abs (may be NULL) gets the mean over groups of sum |y|. */
long route_numerics(const route_ctx *r, double *mean_abs);

/* What the output must say about the routing ("router (exact, every token)", "router (sampled: ...)"). */
const char *route_describe(const route_ctx *r);
/* Writes the recorded per-group counts as a routing trace CSV (traces/routing.h), in 'batch' (or NULL). */
int route_dump_csv(atomic_batch *batch, const route_ctx *r, const char *path, errbuf *err);

#endif
