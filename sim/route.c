/* route: per-group expert counts from the real router kernels, a synthetic distribution or a trace.
 *
 * Exact: when the router FLOPs of every token of the step fit in ROUTE_EXACT_FLOPS_MAX, each group's tokens
 * (synthetic hidden states, N(0,1) per feature) go through the real kernels: fp32 router, top-k, capacity.
 * Sampled: otherwise each Switch layer routes a sample of tokens for real; the hidden states are i.i.d., so a
 * group's choices are i.i.d. draws from the layer's expert distributions, which the sample estimates, one per
 * choice rank (Dirichlet smoothing toward the sample's mean router score, one token's worth per expert); each
 * group then draws its tokens' k choices and capacity is applied exactly to the counts.  Approximation: a token's
 * choice j is drawn from the marginal distribution of choice j and redrawn while it repeats an earlier choice of
 * the token (k choices without replacement), not from the joint distribution of the k choices the router makes.  Synthetic (uniform,
 * zipf, hot) draw from the named distribution the same way.  Runs of more than ROUTE_MULTINOMIAL_CHOICES token
 * choices (thousands of GPUs) draw each group's counts of each rank at once, a multinomial over the rank's
 * distribution: the same counts in distribution for each rank, but a token's k choices are then not kept apart
 * (two ranks may pick one expert for one token), a further approximation that matters little when k << E.  The
 * output says which one ran.  There, where nothing can drop (dropless: capacity = the group), a shard's groups are
 * drawn at once (route_shard): one multinomial per rank over all their tokens, the sum of theirs in distribution. */
#include "sim/route.h"
#include "sim/route_int.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/switch.h"
#include "traces/routing.h"

#define ROUTE_ALPHA 0.01          /* load-balancing loss coefficient alpha [SOURCES 3] */
#define ROUTE_SECOND_TRIES 64     /* rejection draws for a second choice different from the first */
/* Token choices of a run above which drawn routing draws each group's counts per rank as one multinomial: 2^27
 * draws of gsl_ran_discrete take about 15 s here; DeepSeek-V3 on 2048 GPUs would draw 2e9. */
#define ROUTE_MULTINOMIAL_CHOICES 134217728.0
#define ROUTE_DUMP_MAX 50000000L  /* counts kept for --dump-routing, about 400 MB */


static uint64_t splitmix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* One RNG stream per (seed, purpose, a, b, c): results never depend on the order groups are asked in. */
void route_reseed(gsl_rng *rng, unsigned long seed, int purpose, int a, int b, int c)
{
    uint64_t h = splitmix64((uint64_t)seed);
    h = splitmix64(h ^ (uint64_t)purpose);
    h = splitmix64(h ^ (uint64_t)(uint32_t)a);
    h = splitmix64(h ^ (uint64_t)(uint32_t)b);
    h = splitmix64(h ^ (uint64_t)(uint32_t)c);
    gsl_rng_set(rng, (unsigned long)(h ? h : 1));
}

int route_parse(route_spec *spec, const char *s, errbuf *err)
{
    route_spec r;
    memset(&r, 0, sizeof r);
    if (snprintf(r.text, sizeof r.text, "%s", s) >= (int)sizeof r.text)
        return errbuf_set(err, "--routing must be at most %d characters, got %zu", ROUTE_SPEC_MAX - 1, strlen(s));
    if (strcmp(s, "router") == 0) {
        r.kind = ROUTE_ROUTER;
    } else if (strcmp(s, "uniform") == 0) {
        r.kind = ROUTE_UNIFORM;
    } else if (strncmp(s, "zipf:", 5) == 0) {
        r.kind = ROUTE_ZIPF;
        if (errbuf_parse_double(s + 5, &r.param) != 0 || r.param < 0)
            return errbuf_set(err, "--routing zipf:S needs an exponent S >= 0, got '%s'", s + 5);
    } else if (strncmp(s, "hot:", 4) == 0) {
        r.kind = ROUTE_HOT;
        if (errbuf_parse_double(s + 4, &r.param) != 0 || !(r.param > 0 && r.param <= 1))
            return errbuf_set(err, "--routing hot:FRAC needs a fraction in (0,1], got '%s'", s + 4);
    } else if (strncmp(s, "trace:", 6) == 0 && s[6] != '\0') {
        r.kind = ROUTE_TRACE;
        snprintf(r.path, sizeof r.path, "%s", s + 6);
    } else {
        return errbuf_set(err, "--routing must be router, uniform, zipf:S, hot:FRAC or trace:FILE, got '%s'", s);
    }
    *spec = r;
    return 0;
}

/* Truncated normal N(0, sigma), resampled beyond 2 sigma [SOURCES 3 Init]. */
float route_trunc_normal(gsl_rng *rng, double sigma)
{
    for (;;) {
        double v = gsl_ran_gaussian_ziggurat(rng, 1.0);
        if (fabs(v) <= 2.0)
            return (float)(v * sigma);
    }
}

static void route_draw_weights(float *w, gsl_rng *rng, int D, int E)
{
    double sigma = sqrt(ROUTE_INIT_SCALE / D);
    for (size_t i = 0; i < (size_t)D * E; i++)
        w[i] = route_trunc_normal(rng, sigma);
}

static void route_draw_hidden(float *x, gsl_rng *rng, long n)
{
    for (long i = 0; i < n; i++)
        x[i] = (float)gsl_ran_gaussian_ziggurat(rng, 1.0);
}

/* Fills q (E) for a synthetic spec of Switch layer 'layer': a popularity order permuted per layer. */
static int route_synthetic_q(double *q, const route_ctx *r, int layer)
{
    int E = r->E;
    int *perm = malloc((size_t)E * sizeof *perm);
    if (perm == NULL)
        return -1;
    for (int e = 0; e < E; e++)
        perm[e] = e;
    route_reseed(r->rng, r->seed, 2, layer, 0, 0);
    gsl_ran_shuffle(r->rng, perm, (size_t)E, sizeof *perm);
    double sum = 0.0;
    for (int i = 0; i < E; i++) {
        double v = 1.0;
        if (r->spec.kind == ROUTE_ZIPF)
            v = pow((double)(i + 1), -r->spec.param);
        else if (r->spec.kind == ROUTE_HOT)
            v = E == 1 ? 1.0 : (i == 0 ? r->spec.param : (1.0 - r->spec.param) / (E - 1));
        q[perm[i]] = v;
        sum += v;
    }
    for (int e = 0; e < E; e++)
        q[e] /= sum;
    free(perm);
    return 0;
}

/* Routes 'sample' tokens of layer 'layer' for real and estimates q1, q2, pbar. */
static void route_sample_layer(route_ctx *r, int layer, const float *w)
{
    int D = r->m->d_model, E = r->E, k = r->k;
    int n = (int)r->sample;
    double *q = r->q + (size_t)layer * k * E, *pbar = r->pbar + (size_t)layer * E;
    route_reseed(r->rng, r->seed, 3, layer, 0, 0);
    route_draw_hidden(r->x, r->rng, (long)n * D);
    if (r->jitter > 0)
        switch_jitter_forward(r->x, r->rng, r->jitter, n, D);
    switch_router_score_forward(r->logits, r->probs, r->x, w, n, D, E, r->score);
    switch_topk_gates_forward(r->expert, r->gate, r->probs, n, E, k, r->renorm);
    int discarded = k == 2 ? switch_second_random(r->expert, r->gate, n, r->rng, r->second_threshold) : 0;
    r->keep2[layer] = 1.0 - (double)discarded / n;
    memset(q, 0, (size_t)k * E * sizeof *q);
    memset(pbar, 0, (size_t)E * sizeof *pbar);
    for (int t = 0; t < n; t++) {
        for (int j = 0; j < k; j++)
            if (r->expert[(size_t)t * k + j] >= 0)
                q[(size_t)j * E + r->expert[(size_t)t * k + j]] += 1.0;
        for (int e = 0; e < E; e++)
            pbar[e] += (double)r->probs[(size_t)t * E + e];
    }
    for (int e = 0; e < E; e++)
        pbar[e] /= n;
    /* the prior: the mean score as a distribution (softmax scores already sum to 1; sigmoid ones do not) */
    if (r->score == SWITCH_SCORE_SIGMOID) {   /* also what the load-balancing loss takes as P */
        double psum = 0.0;
        for (int e = 0; e < E; e++)
            psum += pbar[e];
        for (int e = 0; e < E; e++)
            pbar[e] /= psum;
    }
    double lambda = E;   /* prior strength: one token's worth per expert */
    for (int j = 0; j < k; j++)
        for (int e = 0; e < E; e++)
            q[(size_t)j * E + e] = (q[(size_t)j * E + e] + lambda * pbar[e]) / (n + lambda);
}

/* Sets err to the one message every allocation failure of routing gives; returns -1. */
static int route_oom(errbuf *err)
{
    return errbuf_set(err, "out of memory preparing routing");
}

/* The largest routing group of the plan (encoder or decoder), in tokens. */
static int route_smax(const plan *p)
{
    return p->group_enc > p->group_dec ? p->group_enc : p->group_dec;
}

/* Routing groups of one Switch layer over all data shards. */
static long route_groups_total(const plan *p)
{
    return (long)p->data * p->groups;
}

/* A dense model routes nothing: refuses a trace or a dump and says so in the description. */
static int route_init_dense(route_ctx *r, int dump, errbuf *err)
{
    if (r->spec.kind == ROUTE_TRACE || dump)
        return errbuf_set(err, "%s: %s has no Switch layers, so there is no routing to %s",
                          dump ? "--dump-routing" : "--routing trace:", r->m->name, dump ? "dump" : "replay");
    snprintf(r->desc, sizeof r->desc, "none (dense model)");
    return 0;
}

/* Loads a routing trace and checks that every group routes this run's tokens per group and top-k. */
static int route_init_trace(route_ctx *r, errbuf *err)
{
    const plan *p = &r->p;
    int E = r->E, L = r->layers;
    long groups_total = route_groups_total(p);
    r->trace = routing_trace_load_csv(r->spec.path, L, (int)groups_total, E, err);
    if (r->trace == NULL)
        return -1;
    int ranks = r->k > 2 ? r->k : 2;
    if (r->trace->ranks != ranks)
        return errbuf_set(err, "%s: the trace has %d choice columns (tokens_first ..), this run's top_k %d needs %d",
                          r->spec.path, r->trace->ranks, r->k, ranks);
    for (int l = 0; l < L; l++) {
        int S = l < model_sparse_layers_enc(r->m) ? p->group_enc : p->group_dec;
        for (long g = 0; g < groups_total; g++) {
            long s1 = 0, s2 = 0, later_ok = 1;
            const int *f = r->trace->first + ((size_t)l * groups_total + g) * E;
            const int *s = r->trace->second + ((size_t)l * groups_total + g) * E;
            for (int e = 0; e < E; e++) {
                s1 += f[e];
                s2 += s[e];
            }
            for (int j = 2; j < r->trace->ranks; j++) {   /* top-k above 2: one choice of each rank per token */
                long sj = 0;
                const int *c = routing_trace_rank(r->trace, j) + ((size_t)l * groups_total + g) * E;
                for (int e = 0; e < E; e++)
                    sj += c[e];
                later_ok &= sj == S;
            }
            /* top-2: at most S second choices (fewer when a second-expert policy discarded some; none at
             * all is a top-1 trace); above 2: S of every rank */
            int second_ok = r->k == 1 ? s2 == 0 : r->k == 2 ? s2 >= 1 && s2 <= S : s2 == S;
            if (s1 != S || !second_ok || !later_ok)
                return errbuf_set(err, "%s: layer %d group %ld routes %ld first and %ld second choices; this run "
                                  "has %d tokens per group and top_k %d", r->spec.path, l, g, s1, s2, S, r->k);
        }
    }
    snprintf(r->desc, sizeof r->desc, "trace %.256s (replayed counts)", r->spec.path);
    return 0;
}

/* Chooses exact routing (every token through the router) or sampling, and the tokens sampled per layer. */
static void route_choose_mode(route_ctx *r)
{
    const plan *p = &r->p;
    int D = r->m->d_model, E = r->E, L = r->layers;
    int Lenc = model_sparse_layers_enc(r->m);
    double exact_flops = 2.0 * D * E * ((double)p->tokens_enc * Lenc + (double)p->tokens_dec * (L - Lenc)) * p->data;
    /* exact whenever it costs no more than sampling every layer would */
    double exact_max = ROUTE_EXACT_FLOPS_MAX > L * ROUTE_SAMPLE_FLOPS ? ROUTE_EXACT_FLOPS_MAX : L * ROUTE_SAMPLE_FLOPS;
    r->exact = r->spec.kind == ROUTE_ROUTER && exact_flops <= exact_max;
    double choices = ((double)p->tokens_enc * Lenc + (double)p->tokens_dec * (L - Lenc)) * p->data * r->k;
    r->multinomial = !r->exact && r->spec.kind != ROUTE_TRACE && r->second_threshold == 0.0 &&
                     choices > ROUTE_MULTINOMIAL_CHOICES;
    long want = (long)(ROUTE_SAMPLE_FLOPS / (2.0 * D * E));
    if (want > (long)(ROUTE_SAMPLE_DRAWS / D))
        want = (long)(ROUTE_SAMPLE_DRAWS / D);
    long layer_tokens = (long)p->data * p->tokens_dec;   /* the smaller stack: no more than a layer routes */
    if (want > layer_tokens)
        want = layer_tokens;
    r->sample = want < 64 ? 64 : want;
}

/* Allocates the per-group scratch (rows for the larger group or the sample) and the per-layer
 * distributions; every second choice is kept until a sample says otherwise. */
static int route_scratch_alloc(route_ctx *r)
{
    int D = r->m->d_model, E = r->E, L = r->layers;
    long smax = route_smax(&r->p);
    long rows = r->exact ? smax : (r->spec.kind == ROUTE_ROUTER ? r->sample : 0);
    if (rows < smax)
        rows = smax;
    r->x = malloc((size_t)rows * D * sizeof *r->x);
    r->logits = malloc((size_t)rows * E * sizeof *r->logits);
    r->probs = malloc((size_t)rows * E * sizeof *r->probs);
    int kk = r->k > 2 ? r->k : 2;
    r->gate = malloc((size_t)rows * kk * sizeof *r->gate);
    r->expert = malloc((size_t)rows * kk * sizeof *r->expert);
    r->slot = malloc((size_t)rows * kk * sizeof *r->slot);
    r->cnt = malloc((size_t)kk * E * sizeof *r->cnt);
    r->q = calloc((size_t)L * kk * E, sizeof *r->q);
    r->pbar = calloc((size_t)L * E, sizeof *r->pbar);
    r->keep2 = malloc((size_t)L * sizeof *r->keep2);
    if (!r->x || !r->logits || !r->probs || !r->gate || !r->expert || !r->slot || !r->cnt || !r->q || !r->pbar ||
        !r->keep2)
        return -1;
    for (int l = 0; l < L; l++)
        r->keep2[l] = 1.0;
    return 0;
}

/* The router: draws each layer's weights, keeps them (exact) or samples the layer's distributions from
 * them (sampled), and describes which; -1 when out of memory. */
static int route_init_router(route_ctx *r)
{
    int D = r->m->d_model, E = r->E, L = r->layers;
    float *w = malloc((size_t)(r->exact ? L : 1) * D * E * sizeof *w);
    if (w == NULL)
        return -1;
    for (int l = 0; l < L; l++) {
        float *wl = r->exact ? w + (size_t)l * D * E : w;
        route_reseed(r->rng, r->seed, 1, l, 0, 0);
        route_draw_weights(wl, r->rng, D, E);
        if (!r->exact)
            route_sample_layer(r, l, wl);
    }
    if (!r->exact) {
        free(w);
        snprintf(r->desc, sizeof r->desc, "router (sampled: %ld tokens per layer through the fp32 router "
                 "kernel, group choices drawn from that distribution%s)", r->sample,
                 r->k > 2 && !r->multinomial ? "; a token's k choices drawn rank by rank without repeats, an "
                                               "approximation of the router's joint choice" : "");
        return 0;
    }
    r->w = w;
    snprintf(r->desc, sizeof r->desc, "router (every token through the fp32 router kernel)");
    if (route_numerics_alloc(r, route_smax(&r->p)) != 0)
        return -1;
    if (r->numerics)
        snprintf(r->desc, sizeof r->desc, "router (every token through the fp32 router kernel, then "
                 "dispatch, bf16 expert FFN and combine)");
    return 0;
}

/* A synthetic spec (uniform, zipf, hot): every choice rank and the mean router probability follow the named
 * distribution; -1 when out of memory. */
static int route_init_synthetic(route_ctx *r)
{
    int E = r->E;
    int k = r->k;
    for (int l = 0; l < r->layers; l++) {
        double *q = r->q + (size_t)l * k * E;
        if (route_synthetic_q(q, r, l) != 0)
            return -1;
        for (int j = 1; j < k; j++)
            memcpy(q + (size_t)j * E, q, (size_t)E * sizeof *q);
        memcpy(r->pbar + (size_t)l * E, q, (size_t)E * sizeof *r->pbar);
    }
    snprintf(r->desc, sizeof r->desc, "%.256s (synthetic: choices drawn per token, not the router)", r->spec.text);
    return 0;
}

/* Alias tables of each layer's distribution of each choice rank, for drawing groups' choices (top-1 has the
 * second rank's table too: it is never drawn from). */
static int route_alias_tables(route_ctx *r)
{
    int E = r->E, L = r->layers, k = r->k;
    r->tq = calloc((size_t)L * k, sizeof *r->tq);
    if (!r->tq)
        return -1;
    for (size_t i = 0; i < (size_t)L * k; i++)
        if ((r->tq[i] = gsl_ran_discrete_preproc((size_t)E, r->q + i * E)) == NULL)
            return -1;
    return 0;
}

/* The counts --dump-routing records, refused beyond ROUTE_DUMP_MAX. */
static int route_dump_alloc(route_ctx *r, errbuf *err)
{
    int L = r->layers, E = r->E;
    long groups_total = route_groups_total(&r->p);
    if ((double)L * groups_total * E > ROUTE_DUMP_MAX)
        return errbuf_set(err, "--dump-routing: %d layers x %ld groups x %d experts is more than %ld counts",
                          L, groups_total, E, ROUTE_DUMP_MAX);
    r->dump = routing_trace_alloc_ranks(L, (int)groups_total, E, r->k > 2 ? r->k : 2);
    if (r->dump == NULL)
        return route_oom(err);
    return 0;
}

route_ctx *route_ctx_alloc(const route_spec *spec, const model_cfg *m, const plan *p, unsigned long seed,
                           double jitter_eps, double second_threshold, int dump, errbuf *err)
{
    route_ctx *r = calloc(1, sizeof *r);
    if (r == NULL) {
        errbuf_set(err, "out of memory");
        return NULL;
    }
    r->spec = *spec;
    r->m = m;
    r->p = *p;
    r->seed = seed;
    r->jitter = jitter_eps;
    r->second_threshold = p->top_k == 2 && spec->kind == ROUTE_ROUTER ? second_threshold : 0.0;
    r->layers = model_sparse_layers(m);
    r->E = p->experts;
    r->k = p->top_k;
    r->score = m->score == MODEL_SCORE_SIGMOID ? SWITCH_SCORE_SIGMOID : SWITCH_SCORE_SOFTMAX;
    r->renorm = m->renorm == MODEL_RENORM_AUTO ? r->k >= 2 : m->renorm == MODEL_RENORM_YES;
    r->rng = gsl_rng_alloc(gsl_rng_taus2);
    if (r->rng == NULL)
        goto oom;
    if (r->layers == 0) {
        if (route_init_dense(r, dump, err) != 0)
            goto fail;
        return r;
    }
    if (spec->kind == ROUTE_TRACE && route_init_trace(r, err) != 0)
        goto fail;
    route_choose_mode(r);
    if (route_scratch_alloc(r) != 0)
        goto oom;
    if (spec->kind == ROUTE_ROUTER && route_init_router(r) != 0)
        goto oom;
    if (spec->kind != ROUTE_ROUTER && spec->kind != ROUTE_TRACE && route_init_synthetic(r) != 0)
        goto oom;
    if (!r->exact && spec->kind != ROUTE_TRACE && route_alias_tables(r) != 0)
        goto oom;
    if (dump && route_dump_alloc(r, err) != 0)
        goto fail;
    if (r->multinomial) {
        size_t len = strlen(r->desc);
        if ((r->ucnt = malloc((size_t)r->E * sizeof *r->ucnt)) == NULL)
            goto oom;
        snprintf(r->desc + len, sizeof r->desc - len, "; each group's counts of each choice rank drawn as one "
                 "multinomial (over %.0f token choices: a token's k choices not kept apart)%s",
                 ROUTE_MULTINOMIAL_CHOICES, route_shard_ok(r, 0) ? "; nothing drops, so a shard's groups are drawn "
                 "together" : "");
    }
    if (r->second_threshold > 0.0) {
        size_t len = strlen(r->desc);
        snprintf(r->desc + len, sizeof r->desc - len, "; second choices kept with probability min(1, g2/%g) "
                 "(Mesh TF's random policy)", r->second_threshold);
    }
    return r;
oom:
    route_oom(err);
fail:
    route_ctx_free(r);
    return NULL;
}

void route_ctx_free(route_ctx *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; r->tq && i < (size_t)r->layers * r->k; i++)
        gsl_ran_discrete_free(r->tq[i]);
    free(r->tq);
    routing_trace_free(r->trace);
    routing_trace_free(r->dump);
    if (r->rng)
        gsl_rng_free(r->rng);
    free(r->w);
    free(r->q);
    free(r->pbar);
    free(r->keep2);
    free(r->x);
    free(r->logits);
    free(r->probs);
    free(r->gate);
    free(r->expert);
    free(r->slot);
    free(r->ec_token);
    free(r->ec_taken);
    free(r->ec_heap);
    free(r->ec_gate);
    free(r->cnt);
    free(r->ucnt);
    free(r->w_ffn);
    free(r->xb);
    free(r->buf);
    free(r->eout);
    free(r->y);
    free(r->ffn_scratch);
    free(r);
}

/* Capacity on counts cnt (k, E): all first choices of the group before any second choice (MTF pos_2 starts at
 * the first-choice count, SOURCES 4.2 step 7), and so on to the kth.  Returns dropped choices. */
static int route_apply_capacity(int *kept, const int *cnt, int E, int k, int C)
{
    int dropped = 0;
    for (int e = 0; e < E; e++) {
        kept[e] = 0;
        for (int j = 0; j < k; j++) {
            int c = cnt[(size_t)j * E + e], room = C - kept[e];
            int kj = c < room ? c : room;
            kept[e] += kj;
            dropped += c - kj;
        }
    }
    return dropped;
}

/* Tokens per group S and expert capacity C of Switch layer 'layer' (encoder or decoder). */
static void route_group_shape(const route_ctx *r, int layer, int *S, int *C)
{
    int enc = layer < model_sparse_layers_enc(r->m);
    *S = enc ? r->p.group_enc : r->p.group_dec;
    *C = enc ? r->p.capacity_enc : r->p.capacity_dec;
}

/* Exact routing of one group: its hidden states through the router, top-k and capacity per token; fills
 * first/second counts and kept, runs the layer numerics when asked.  Returns dropped choices, or -1. */
static int route_group_exact(route_ctx *r, int layer, int shard, int group, int numerics, int *kept, double *lb,
                             errbuf *err)
{
    int E = r->E, k = r->k, D = r->m->d_model;
    int S, C;
    route_group_shape(r, layer, &S, &C);
    route_reseed(r->rng, r->seed, 4, layer, shard, group);
    route_draw_hidden(r->x, r->rng, (long)S * D);
    if (r->jitter > 0)
        switch_jitter_forward(r->x, r->rng, r->jitter, S, D);
    switch_router_score_forward(r->logits, r->probs, r->x, r->w + (size_t)layer * D * E, S, D, E, r->score);
    switch_topk_gates_forward(r->expert, r->gate, r->probs, S, E, k, r->renorm);
    if (k == 2)
        switch_second_random(r->expert, r->gate, S, r->rng, r->second_threshold);
    for (int t = 0; t < S; t++)
        for (int j = 0; j < k; j++)
            if (r->expert[(size_t)t * k + j] >= 0)
                r->cnt[(size_t)j * E + r->expert[(size_t)t * k + j]]++;
    int dropped = switch_assign_forward(r->slot, kept, r->expert, S, E, k, C);
    *lb = switch_lb_loss(r->probs, r->expert, S, E, k, ROUTE_ALPHA);
    if (numerics && r->numerics && route_numerics_group(r, layer, S, C, kept, err) != 0)
        return -1;
    return dropped;
}

/* 1 if e is among chosen[0..n). */
static int route_chosen(const int *chosen, int n, int e)
{
    for (int i = 0; i < n; i++)
        if (chosen[i] == e)
            return 1;
    return 0;
}

/* Draws the k choices of a group's S tokens from the layer's distributions into r->cnt: choice j from rank j's
 * distribution, redrawn (up to ROUTE_SECOND_TRIES times) while it repeats an earlier choice of the token, then
 * the next expert not chosen yet: k choices without replacement, approximated as the file comment says. */
static void route_draw_counts(route_ctx *r, int layer, int shard, int group, int S)
{
    int E = r->E, k = r->k;
    int chosen[SWITCH_K_MAX];
    gsl_ran_discrete_t *const *tq = r->tq + (size_t)layer * k;
    route_reseed(r->rng, r->seed, 5, layer, shard, group);
    if (r->multinomial) {
        for (int j = 0; j < k && j < E; j++) {
            gsl_ran_multinomial(r->rng, (size_t)E, (unsigned int)S, r->q + ((size_t)layer * k + j) * E, r->ucnt);
            for (int e = 0; e < E; e++)
                r->cnt[(size_t)j * E + e] = (int)r->ucnt[e];
        }
        return;
    }
    for (int t = 0; t < S; t++) {
        chosen[0] = (int)gsl_ran_discrete(r->rng, tq[0]);
        r->cnt[chosen[0]]++;
        /* the second-expert policy's share, drawn only when it discards some (else the same draws) */
        if (k == 2 && r->keep2 != NULL && r->keep2[layer] < 1.0 && gsl_rng_uniform(r->rng) >= r->keep2[layer])
            continue;
        for (int j = 1; j < k && j < E; j++) {
            int e = chosen[0], tries = 0;
            while (route_chosen(chosen, j, e) && tries++ < ROUTE_SECOND_TRIES)
                e = (int)gsl_ran_discrete(r->rng, tq[j]);
            if (route_chosen(chosen, j, e)) {   /* a distribution concentrated on chosen experts: the next free one */
                e = (chosen[j - 1] + 1) % E;
                while (route_chosen(chosen, j, e))
                    e = (e + 1) % E;
            }
            chosen[j] = e;
            r->cnt[(size_t)j * E + e]++;
        }
    }
}

/* Counts routing of one group (a trace's counts, or drawn ones), capacity applied to the counts and the
 * load-balancing loss from them.  Returns dropped choices. */
static int route_group_counts(route_ctx *r, int layer, int shard, int group, int *kept, double *lb)
{
    int E = r->E;
    int S, C;
    route_group_shape(r, layer, &S, &C);
    long gidx = (long)shard * r->p.groups + group;
    double lbsum = 0.0;
    if (r->trace != NULL) {
        for (int j = 0; j < r->k; j++)
            memcpy(r->cnt + (size_t)j * E, routing_trace_rank(r->trace, j) + ((size_t)layer * r->trace->groups + gidx) * E,
                   (size_t)E * sizeof(int));
    } else {
        route_draw_counts(r, layer, shard, group, S);
    }
    int dropped = route_apply_capacity(kept, r->cnt, E, r->k, C);
    /* alpha*E*sum f_e P_e with P the mean router probability (sampled, synthetic q); a trace has no
     * probabilities, so P = f there (stated in traces/README.md). */
    const double *P = r->trace ? NULL : r->pbar + (size_t)layer * E;
    for (int e = 0; e < E; e++) {
        double f = (double)r->cnt[e] / S;
        lbsum += f * (P ? P[e] : f);
    }
    *lb = ROUTE_ALPHA * E * lbsum;
    return dropped;
}

/* Checks a routed group's bookkeeping: every expert within capacity, and kept + dropped + discarded
 * choices = tokens x k.  Returns dropped, or -1 (a bug) with err set. */
static int route_group_check(const route_ctx *r, int layer, int shard, int group, const int *kept, int dropped,
                             errbuf *err)
{
    int E = r->E, k = r->k;
    int S, C;
    route_group_shape(r, layer, &S, &C);
    long kept_sum = 0, discarded = 0;   /* later choices a second-expert policy discarded */
    for (int j = 1; j < k; j++) {
        discarded += S;
        for (int e = 0; e < E; e++)
            discarded -= r->cnt[(size_t)j * E + e];
    }
    for (int e = 0; e < E; e++) {
        if (kept[e] < 0 || kept[e] > C)
            return errbuf_set(err, "bug: layer %d shard %d group %d: expert %d keeps %d tokens, capacity %d",
                              layer, shard, group, e, kept[e], C);
        kept_sum += kept[e];
    }
    if (discarded < 0 || kept_sum + dropped + discarded != (long)S * k)
        return errbuf_set(err, "bug: layer %d shard %d group %d: kept %ld + dropped %d + discarded %ld != tokens %d "
                          "x k %d", layer, shard, group, kept_sum, dropped, discarded, S, k);
    return dropped;
}

void route_set_expert_choice(route_ctx *r)
{
    r->ec = 1;
}

int route_multinomial(const route_ctx *r)
{
    return r->multinomial;
}

int route_expert_choice_unknown(const route_ctx *r)
{
    return r->ec_unknown;
}

/* Expert choice on one group: every expert takes C tokens (all of them when C >= S); the tokens no expert took
 * are counted from the real router's scores (switch_expert_choice_forward) when routing is exact, else unknown. */
static int route_group_ec(route_ctx *r, int layer, int shard, int group, int *kept, double *lb, errbuf *err)
{
    int E = r->E, D = r->m->d_model;
    int S, C;
    route_group_shape(r, layer, &S, &C);
    int c = C < S ? C : S;
    for (int e = 0; e < E; e++)
        kept[e] = c;
    *lb = 0.0;   /* expert choice balances by construction: no auxiliary loss */
    if (!r->exact || c < 1) {
        r->ec_unknown = 1;
        return 0;
    }
    if (r->ec_token == NULL) {
        r->ec_token = malloc((size_t)E * c * sizeof *r->ec_token);
        r->ec_gate = malloc((size_t)E * c * sizeof *r->ec_gate);
        r->ec_taken = malloc((size_t)S * sizeof *r->ec_taken);
        r->ec_heap = malloc((size_t)c * sizeof *r->ec_heap);
        if (!r->ec_token || !r->ec_gate || !r->ec_taken || !r->ec_heap)
            return errbuf_set(err, "out of memory routing");
    }
    route_reseed(r->rng, r->seed, 4, layer, shard, group);
    route_draw_hidden(r->x, r->rng, (long)S * D);
    switch_router_score_forward(r->logits, r->probs, r->x, r->w + (size_t)layer * D * E, S, D, E, r->score);
    switch_expert_choice_forward(r->ec_token, r->ec_gate, r->ec_taken, r->ec_heap, r->probs, S, E, c);
    int left = 0;
    for (int t = 0; t < S; t++)
        left += r->ec_taken[t] == 0;
    return left;
}

int route_group(route_ctx *r, int layer, int shard, int group, int numerics, int *kept, double *lb, errbuf *err)
{
    int E = r->E;
    long gidx = (long)shard * r->p.groups + group;
    int dropped;
    if (r->ec)
        return route_group_ec(r, layer, shard, group, kept, lb, err);
    memset(r->cnt, 0, (size_t)r->k * E * sizeof *r->cnt);
    if (r->exact) {
        dropped = route_group_exact(r, layer, shard, group, numerics, kept, lb, err);
        if (dropped < 0)
            return -1;
    } else {
        dropped = route_group_counts(r, layer, shard, group, kept, lb);
    }
    if (r->dump != NULL)
        for (int j = 0; j < r->k; j++)
            memcpy(routing_trace_rank(r->dump, j) + ((size_t)layer * r->dump->groups + gidx) * E, r->cnt + (size_t)j * E,
                   (size_t)E * sizeof(int));
    return route_group_check(r, layer, shard, group, kept, dropped, err);
}

int route_shard_ok(const route_ctx *r, int layer)
{
    int S, C;
    route_group_shape(r, layer, &S, &C);
    return r->multinomial && r->trace == NULL && r->dump == NULL && !r->ec && C >= S;
}

long route_shard(route_ctx *r, int layer, int shard, int *kept, double *lb, errbuf *err)
{
    int E = r->E, k = r->k, S, C, G = r->p.groups;
    route_group_shape(r, layer, &S, &C);
    if (!route_shard_ok(r, layer))
        return errbuf_set(err, "bug: layer %d shard %d routed at once where groups must be routed one by one", layer,
                          shard);
    route_reseed(r->rng, r->seed, 7, layer, shard, 0);   /* 6: the layer numerics' weights */
    for (int j = 0; j < k && j < E; j++) {
        gsl_ran_multinomial(r->rng, (size_t)E, (unsigned int)((long)S * G), r->q + ((size_t)layer * k + j) * E,
                            r->ucnt);
        for (int e = 0; e < E; e++)
            r->cnt[(size_t)j * E + e] = (int)r->ucnt[e];
    }
    long dropped = route_apply_capacity(kept, r->cnt, E, k, C * G), kept_sum = 0;
    double lbsum = 0.0;
    for (int e = 0; e < E; e++) {
        lbsum += (double)r->cnt[e] / S * r->pbar[(size_t)layer * E + e];
        kept_sum += kept[e];
    }
    *lb = ROUTE_ALPHA * E * lbsum;   /* the groups' losses summed: each is linear in its first-choice counts */
    if (kept_sum + dropped != (long)S * G * k)
        return errbuf_set(err, "bug: layer %d shard %d: kept %ld + dropped %ld != tokens %ld x k %d", layer, shard,
                          kept_sum, dropped, (long)S * G, k);
    return dropped;
}


const char *route_describe(const route_ctx *r)
{
    return r->desc;
}

int route_dump_csv(atomic_batch *batch, const route_ctx *r, const char *path, errbuf *err)
{
    if (r->dump == NULL)
        return errbuf_set(err, "%s: no routing was recorded", path);
    return routing_trace_write_csv(batch, path, r->dump, err);
}
