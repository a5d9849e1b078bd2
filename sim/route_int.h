/* route_int: the routing context, shared by sim/route.c (routing) and sim/route_numerics.c (the rest of the
 * Switch layer run on exactly routed groups).  Private to the route module. */
#ifndef SWITCHSIM_ROUTE_INT_H
#define SWITCHSIM_ROUTE_INT_H

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "models/bf16.h"
#include "models/switch.h"
#include "sim/route.h"
#include "traces/routing.h"

#define ROUTE_INIT_SCALE 0.1      /* init scale s: sigma = sqrt(s / fan_in), truncated at 2 sigma [SOURCES 3 Init] */
#define ROUTE_NUMERICS_WEIGHTS_MAX 16000000.0   /* expert weights (all Switch layers) kept for the layer numerics */

struct route_ctx {
    route_spec spec;
    const model_cfg *m;
    plan p;
    unsigned long seed;
    double jitter;
    double second_threshold; /* Mesh TF's random second-expert policy (0: keep every second choice) */
    int multinomial;         /* drawn routing: a group's counts of each rank in one multinomial draw */
    unsigned int *ucnt;      /* (E) that draw's counts */
    switch_score score;      /* router scores: softmax or sigmoid */
    int renorm;              /* 1: the k chosen gates are renormalised */
    double *keep2;           /* (layers) sampled routing: the fraction of second choices the policy keeps */
    int layers;              /* Switch layers */
    int E, k;
    int exact;               /* router on every token */
    long sample;             /* tokens routed per layer when sampling */
    char desc[512];
    float *w;                /* (layers, D, E) router weights, exact mode */
    double *q;               /* (layers, k, E) distribution of each choice rank */
    double *pbar;            /* (layers, E) mean router score */
    gsl_ran_discrete_t **tq; /* (layers, k) alias tables of q */
    routing_trace *trace;    /* replayed trace, or NULL */
    routing_trace *dump;     /* recorded counts, or NULL */
    gsl_rng *rng;
    /* layer numerics (exact mode, small models): dispatch, expert FFN and combine run on every group */
    int numerics;
    bf16 *w_ffn;             /* (layers, E, D, F) x 2 or 3 matrices, bf16 */
    bf16 *xb, *buf;          /* (S,D) hidden states in bf16, (E,C,D) dispatch buffer */
    float *eout, *y, *ffn_scratch;
    long numerics_groups;
    double numerics_abs;     /* sum of |y| over every output element */
    /* scratch for one group, sized for the larger group */
    float *x, *logits, *probs, *gate;
    int *expert, *slot;
    int *cnt;                /* (k, E) the group's choices of each rank per expert, before capacity */
    int ec;                  /* 1: expert choice (route_set_expert_choice) */
    int ec_unknown;          /* expert choice on routing without per-token scores: the tokens left out unknown */
    int *ec_token, *ec_taken, *ec_heap;   /* expert choice scratch: (E C) tokens, (S) takers, (C) heap */
    float *ec_gate;          /* (E C) */
};

/* One RNG stream per (seed, purpose, a, b, c): results never depend on the order groups are asked in. */
void route_reseed(gsl_rng *rng, unsigned long seed, int purpose, int a, int b, int c);
/* A draw of N(0, sigma^2) truncated at 2 sigma, as a float. */
float route_trunc_normal(gsl_rng *rng, double sigma);
/* The layer numerics' expert weights (bf16, truncated normal) and scratch for groups of up to smax tokens, when
 * they are affordable and the model's experts are relu or geglu of width d_ff (else r->numerics stays 0); -1
 * when memory runs out. */
int route_numerics_alloc(route_ctx *r, int smax);
/* The rest of the Switch layer on the group just routed (dispatch, expert FFN, combine), checked; -1 with err on
 * a broken invariant. */
int route_numerics_group(route_ctx *r, int layer, int S, int C, const int *counts, errbuf *err);

#endif
