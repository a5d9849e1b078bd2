/* plan: data x model x expert layout of a model over the cores, groups and capacity. */
#include "sim/plan.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>


#define PLAN_WAYS_MAX 1000000   /* far beyond any torus; keeps products of ways inside int */
#define PLAN_GIB 1073741824.0   /* bytes in a GiB (the memory messages) */
#define PLAN_GROUPS_MAX 1000000 /* routing groups per core: the routing arrays are groups x experts */

int plan_parse(plan_ways *w, const char *spec, errbuf *err)
{
    static const char *const KEYS[] = { "data", "model", "tensor", "expert", "pipe", "micro" };
    enum { K_DATA, K_MODEL, K_TENSOR, K_EXPERT, K_PIPE, K_MICRO, K_N };
    int v_of[K_N] = { 0 }, seen[K_N] = { 0 };
    char buf[128];
    if (snprintf(buf, sizeof buf, "%s", spec) >= (int)sizeof buf)
        return errbuf_set(err, "--plan must be data=N,model=M, got '%s'", spec);
    size_t len = strlen(buf);
    if (len > 0 && (buf[0] == ',' || buf[len - 1] == ',' || strstr(buf, ",,") != NULL))   /* strtok would skip it */
        return errbuf_set(err, "--plan has an empty item in '%s'", spec);
    char *save = NULL;
    int any = 0;
    for (char *item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        long v;
        if (eq == NULL || errbuf_parse_long(eq + 1, &v) != 0 || v < 1 || v > PLAN_WAYS_MAX)
            return errbuf_set(err, "--plan must be data=N,model=M with integers in [1,%d], got '%s'", PLAN_WAYS_MAX,
                              spec);
        *eq = '\0';
        int k = 0;
        while (k < K_N && strcmp(item, KEYS[k]) != 0)
            k++;
        if (k == K_N)
            return errbuf_set(err, "--plan keys are data, model (or tensor), expert, pipe and micro, got '%s' in "
                              "'%s'", item, spec);
        if (seen[k])
            return errbuf_set(err, "--plan gives '%s' twice in '%s'", item, spec);
        if ((k == K_MODEL && seen[K_TENSOR]) || (k == K_TENSOR && seen[K_MODEL]))
            return errbuf_set(err, "--plan gives both model and tensor (one name for the same ways) in '%s'", spec);
        seen[k] = 1;
        v_of[k] = (int)v;
        any = 1;
    }
    if (!any)
        return errbuf_set(err, "--plan must be data=N,model=M, got '%s'", spec);
    if (seen[K_MICRO] && !seen[K_PIPE])
        return errbuf_set(err, "--plan micro=%d needs pipe=P (micro-batches are the pipeline's) in '%s'",
                          v_of[K_MICRO], spec);
    w->data = v_of[K_DATA];
    w->model = seen[K_MODEL] ? v_of[K_MODEL] : seen[K_TENSOR] ? v_of[K_TENSOR] : 1;
    w->expert = v_of[K_EXPERT];
    w->pipe = seen[K_PIPE] ? v_of[K_PIPE] : 1;
    w->micro = v_of[K_MICRO];
    return 0;
}

static long gcd(long a, long b)
{
    while (b != 0) {
        long r = a % b;
        a = b;
        b = r;
    }
    return a;
}

/* The fewest groups g >= ceil(enc / group_size) that split both 'enc' and 'dec' evenly: the smallest divisor
 * of gcd(enc, dec) not below that bound, found over the divisor pairs (i, G/i) with i <= sqrt(G), so
 * sqrt(G) steps even when G is a large prime (counting g up one by one took minutes there).  -1 if none. */
static long plan_groups(long enc, long dec, long group_size)
{
    long lo = enc / group_size + (enc % group_size != 0);
    long G = gcd(enc, dec), best = -1;
    for (long i = 1; i <= G / i; i++) {
        if (G % i != 0)
            continue;
        if (i >= lo && (best < 0 || i < best))
            best = i;
        long j = G / i;
        if (j >= lo && (best < 0 || j < best))
            best = j;
    }
    return best;
}

/* The token layout of a decoder-only model: sequences of dec_seq tokens, every token in the decoder stack
 * (tokens_enc 0, no encoder groups), groups of at most group_size tokens splitting each shard evenly. */
static int plan_layout_dec_only(plan *p, plan *q, const model_cfg *m, int data, double capacity_factor,
                                switch_cap_mode cap_round, errbuf *err)
{
    if (m->tokens_per_batch % m->dec_seq != 0)
        return errbuf_set(err, "%s: tokens_per_batch %ld is not a multiple of dec_seq %d", m->name,
                          m->tokens_per_batch, m->dec_seq);
    q->sequences = m->tokens_per_batch / m->dec_seq;
    if (m->tokens_per_batch % data != 0)
        return errbuf_set(err, "plan data=%d does not divide the %ld tokens per batch of %s", data,
                          m->tokens_per_batch, m->name);
    q->tokens_enc = 0;
    q->tokens_dec = m->tokens_per_batch / data;
    long g = plan_groups(q->tokens_dec, q->tokens_dec, m->group_size);
    if (g < 0 || g > PLAN_GROUPS_MAX || q->tokens_dec / (g < 1 ? 1 : g) > INT_MAX)
        return errbuf_set(err, "%s: %ld tokens per core split into %ld equal groups, more than %d or none", m->name,
                          q->tokens_dec, g, PLAN_GROUPS_MAX);
    q->groups = (int)g;
    q->group_enc = 0;
    q->group_dec = (int)(q->tokens_dec / g);
    q->capacity_enc = 0;
    q->capacity_dec = switch_capacity(capacity_factor, q->group_dec, q->experts, m->min_capacity, cap_round);
    *p = *q;
    return 0;
}

int plan_layout(plan *p, const model_cfg *m, int cores, int cores_per_chip, int data, int model_par,
                int top_k, double capacity_factor, switch_cap_mode cap_round, errbuf *err)
{
    return plan_layout_ways(p, m, cores, cores_per_chip, data, model_par, 0, top_k, capacity_factor, cap_round, err);
}

/* The experts of q (q->experts over q->data shards) in groups of W consecutive shards (W 0: min(data, experts),
 * which must divide, or be a multiple of, the other). */
static int plan_expert_groups(plan *q, const model_cfg *m, int W, errbuf *err)
{
    int data = q->data;
    if (W > 1 && q->experts == 1)
        return errbuf_set(err, "plan expert=%d: %s is dense (no experts), so the expert ways are 1", W, m->name);
    if (W > 0) {
        if (data % W != 0 || q->experts % W != 0)
            return errbuf_set(err, "plan expert=%d must divide data %d and the %d experts of %s (groups of expert= "
                              "data shards each hold every expert)", W, data, q->experts, m->name);
    } else if (q->experts >= data) {
        if (q->experts % data != 0)
            return errbuf_set(err, "plan data=%d must divide the %d experts of %s (or be a multiple of it)",
                              data, q->experts, m->name);
        W = data;
    } else {
        if (data % q->experts != 0)
            return errbuf_set(err, "plan data=%d must be a multiple of the %d experts of %s (or divide them)",
                              data, q->experts, m->name);
        W = q->experts;
    }
    q->expert_ways = W;
    q->experts_per_core = q->experts / W;
    q->cores_per_expert = data / W;
    return 0;
}

int plan_layout_ways(plan *p, const model_cfg *m, int cores, int cores_per_chip, int data, int model_par,
                     int expert_ways, int top_k, double capacity_factor, switch_cap_mode cap_round, errbuf *err)
{
    plan q;
    memset(&q, 0, sizeof q);
    if (data == 0) {
        if (cores % model_par != 0)
            return errbuf_set(err, "plan model=%d does not divide the platform's %d cores", model_par, cores);
        data = cores / model_par;
    }
    if ((long)data * model_par != cores)
        return errbuf_set(err, "plan data=%d,model=%d needs %ld cores, the platform has %d",
                          data, model_par, (long)data * model_par, cores);
    if (cores_per_chip % model_par != 0 && model_par % cores_per_chip != 0)
        return errbuf_set(err, "plan model=%d must divide, or be a multiple of, the %d cores per chip (model-parallel "
                          "groups are whole chips or parts of one)", model_par, cores_per_chip);
    if (m->d_ff % model_par != 0 || m->heads % model_par != 0 || m->d_model % model_par != 0)
        return errbuf_set(err, "plan model=%d must divide d_ff %d, heads %d and d_model %d of %s",
                          model_par, m->d_ff, m->heads, m->d_model, m->name);
    if (model_d_ff_expert(m) % model_par != 0)
        return errbuf_set(err, "plan model=%d must divide d_ff_expert %d of %s", model_par, model_d_ff_expert(m),
                          m->name);
    q.cores = cores;
    q.cores_per_chip = cores_per_chip;
    q.nchips = cores / cores_per_chip;
    q.data = data;
    q.model_par = model_par;
    q.experts = m->expert_every > 0 ? m->experts : 1;
    if (m->expert_every > 0 && top_k > q.experts)
        return errbuf_set(err, "--top-k %d is more than the %d experts of %s", top_k, q.experts, m->name);
    q.top_k = top_k;
    q.capacity_factor = capacity_factor;
    if (plan_expert_groups(&q, m, expert_ways, err) != 0)
        return -1;
    if (m->arch == MODEL_ARCH_DEC_ONLY)
        return plan_layout_dec_only(p, &q, m, data, capacity_factor, cap_round, err);
    if (m->tokens_per_batch % m->enc_seq != 0)
        return errbuf_set(err, "%s: tokens_per_batch %ld is not a multiple of enc_seq %d",
                          m->name, m->tokens_per_batch, m->enc_seq);
    q.sequences = m->tokens_per_batch / m->enc_seq;
    if (q.sequences > LONG_MAX / m->dec_seq)    /* the loader's bounds keep it far below; a caller's struct may not */
        return errbuf_set(err, "%s: %ld sequences of %d decoder tokens overflow a long", m->name, q.sequences,
                          m->dec_seq);
    if (m->tokens_per_batch % data != 0)
        return errbuf_set(err, "plan data=%d does not divide the %ld tokens per batch of %s",
                          data, m->tokens_per_batch, m->name);
    q.tokens_enc = m->tokens_per_batch / data;
    if ((q.sequences * m->dec_seq) % data != 0)
        return errbuf_set(err, "plan data=%d does not divide the %ld decoder tokens per batch of %s",
                          data, q.sequences * m->dec_seq, m->name);
    q.tokens_dec = q.sequences * m->dec_seq / data;
    /* Groups: the fewest groups of at most group_size encoder tokens that split the shard evenly
     * (Flaxformer _num_groups, SOURCES 4.3); decoder layers use as many groups, of fewer tokens,
     * so that every Switch layer has the same groups (one routing-trace shape for the whole model). */
    long g = plan_groups(q.tokens_enc, q.tokens_dec, m->group_size);
    if (g < 0)
        return errbuf_set(err, "%s: cannot split %ld encoder and %ld decoder tokens per core into equal groups",
                          m->name, q.tokens_enc, q.tokens_dec);
    if (g > PLAN_GROUPS_MAX)
        return errbuf_set(err, "%s: %ld encoder and %ld decoder tokens per core split into %ld equal groups, "
                          "more than %d", m->name, q.tokens_enc, q.tokens_dec, g, PLAN_GROUPS_MAX);
    if (q.tokens_dec / g > INT_MAX)
        return errbuf_set(err, "%s: decoder groups of %ld tokens, more than %d", m->name, q.tokens_dec / g, INT_MAX);
    q.groups = (int)g;
    q.group_enc = (int)(q.tokens_enc / g);
    q.group_dec = (int)(q.tokens_dec / g);
    q.capacity_enc = switch_capacity(capacity_factor, q.group_enc, q.experts, m->min_capacity, cap_round);
    q.capacity_dec = switch_capacity(capacity_factor, q.group_dec, q.experts, m->min_capacity, cap_round);
    q.pipe = 1;
    q.micro = 1;
    *p = q;
    return 0;
}

int plan_expert_owner(const plan *p, int src, int e)
{
    /* the expert group of W consecutive shards that holds src, experts_per_core consecutive experts a shard */
    return (src / p->expert_ways) * p->expert_ways + e / p->experts_per_core;
}

void plan_stage_layers(const plan *p, int nlayers, int stage, int *l0, int *l1)
{
    int L = nlayers / p->pipe, extra = nlayers % p->pipe;   /* the first 'extra' stages run L + 1 layers */
    *l0 = stage * L + (stage < extra ? stage : extra);
    *l1 = *l0 + L + (stage < extra);
}

double plan_stage_share(const plan *p, int nlayers)
{
    if (nlayers % p->pipe == 0)
        return 1.0 / p->pipe;
    return (double)(nlayers / p->pipe + 1) / nlayers;
}

/* Dense and expert parameters a core holds (the largest stage's share under a pipeline). */
static void plan_params(double *dense, double *expert, const plan *p, const model_cfg *m)
{
    int mp = p->model_par;
    if (p->pipe > 1 && (m->enc_layers + m->dec_layers) % p->pipe != 0) {   /* uneven stages: the first's layers */
        double share = plan_stage_share(p, m->enc_layers + m->dec_layers);
        *dense = model_params_dense(m) / mp * share;
        *expert = p->experts > 1 ? model_params_expert(m) / p->experts * p->experts_per_core / mp * share : 0;
        return;
    }
    *dense = model_params_dense(m) / mp / p->pipe;
    *expert = p->experts > 1 ? model_params_expert(m) / p->experts * p->experts_per_core / mp / p->pipe : 0;
}

int plan_memory(cost_memory *mem, const plan *p, const model_cfg *m, const cost_chip *chip, int remat, errbuf *err)
{
    double dense, expert;
    plan_params(&dense, &expert, p, m);
    /* cost_memory_check takes an encoder-decoder's encoder tokens and adds its decoder tokens (tokens x dec_seq /
     * enc_seq, the plan's tokens_dec) itself; a decoder-only model's tokens are all decoder tokens.  Passing
     * tokens_enc + tokens_dec counted the decoder's tokens in the encoder stack too, and scaled the decoder's by
     * 1 + dec_seq / enc_seq. */
    double tokens = (double)(m->arch == MODEL_ARCH_DEC_ONLY ? p->tokens_dec : p->tokens_enc);
    if (p->pipe == 1 && !p->zero)
        return cost_memory_check(mem, chip, m, dense + expert, tokens, p->model_par, remat, err);
    cost_chip any = *chip;
    any.hbm_bytes = INFINITY;
    int inflight = p->micro < p->pipe ? p->micro : p->pipe;
    cost_memory mm;
    if (cost_memory_check(&mm, &any, m, dense + expert, tokens / p->micro * inflight, p->model_par, remat, err) != 0)
        return -1;
    int nl = m->enc_layers + m->dec_layers;      /* the stage's layers (the first stage's, the most) */
    if (nl % p->pipe == 0)
        mm.activations_B /= p->pipe;
    else
        mm.activations_B *= plan_stage_share(p, nl);
    if (p->zero)                                 /* each replica keeps 1/replicas of the state */
        mm.optimizer_B *= (dense / p->data + expert / p->cores_per_expert) / (dense + expert);
    mm.total_B = mm.params_B + mm.optimizer_B + mm.activations_B;
    if (mm.total_B > chip->hbm_bytes)
        return errbuf_set(err, "plan needs %.2f GiB per core, HBM has %.2f GiB (%.2f GiB over)",
                          mm.total_B / PLAN_GIB, chip->hbm_bytes / PLAN_GIB, (mm.total_B - chip->hbm_bytes) / PLAN_GIB);
    *mem = mm;
    return 0;
}

/* The pipeline's rules (plan_choose's comment) for plan p with 'micro' micro-batches (0: 4 x pipe). */
static int plan_pipeline(plan *p, const model_cfg *m, int micro, errbuf *e)
{
    int P = p->pipe, nl = m->enc_layers + m->dec_layers;
    p->micro = P == 1 ? 1 : micro > 0 ? micro : 4 * P;
    if (P == 1)
        return 0;
    if (p->model_par > p->cores_per_chip)
        return errbuf_set(e, "plan pipe=%d with model=%d: a pipeline needs the model-parallel shards within a chip "
                          "(%d cores)", P, p->model_par, p->cores_per_chip);
    if (nl < P)
        return errbuf_set(e, "plan pipe=%d is more stages than the %d layers of %s (a stage runs at least one layer)",
                          P, nl, m->name);
    long seqs = p->sequences / p->data;
    if (p->sequences % p->data != 0 || seqs % p->micro != 0)
        return errbuf_set(e, "plan micro=%d must divide the %ld sequences of each data shard (%ld sequences over "
                          "data=%d)", p->micro, seqs, p->sequences, p->data);
    if (p->experts > 1 && p->groups % p->micro != 0)   /* a micro-batch routes whole groups: the step's capacity */
        return errbuf_set(e, "plan micro=%d must divide the %d routing groups of each data shard (a micro-batch routes "
                          "whole groups)", p->micro, p->groups);
    return 0;
}

/* One candidate: layout with m = mp, then the pipeline's rules, the expert ways and the memory check.  'e' gets
 * why it does not work. */
static int plan_try(plan *p, cost_memory *mem, const plan_request *req, const model_cfg *m, const cost_chip *chip,
                    int mp, int remat, errbuf *e)
{
    int data = req->model_par > 0 ? req->data : 0;
    int P = req->pipe > 1 ? req->pipe : 1;
    char pz[64] = "";
    if (P > 1)
        snprintf(pz, sizeof pz, ",pipe=%d", P);
    if (req->zero)
        snprintf(pz + strlen(pz), sizeof pz - strlen(pz), " with zero-1");
    if (P > 1) {
        if (req->cores % P != 0)
            return errbuf_set(e, "plan pipe=%d does not divide the platform's %d cores", P, req->cores);
        if (data > 0 && (long)data * mp * P != req->cores)
            return errbuf_set(e, "plan data=%d,model=%d,pipe=%d needs %ld cores, the platform has %d", data, mp, P,
                              (long)data * mp * P, req->cores);
    }
    if (plan_layout_ways(p, m, req->cores / P, chip->cores_per_chip, data, mp, req->expert, req->top_k,
                         req->capacity_factor, req->cap_round, e) != 0)
        return -1;
    p->pipe = P;
    p->cores *= P;
    p->nchips *= P;
    p->zero = req->zero ? 1 : 0;
    if (plan_pipeline(p, m, req->micro, e) != 0)
        return -1;
    errbuf me = { "" };
    if (plan_memory(mem, p, m, chip, remat, &me) == 0)
        return 0;
    const char *why = strncmp(me.msg, "plan ", 5) == 0 ? me.msg + 5 : me.msg;
    return errbuf_set(e, "plan data=%d,model=%d%s%s %.400s", p->data, mp, pz, remat ? " with remat" : "", why);
}

/* The search of plan_choose at the request's pipeline depth: 0 with the first plan that fits, else -1 with
 * *first (when empty) the first model-parallel way's last reason. */
static int plan_search(plan *p, cost_memory *mem, int *remat, const plan_request *req, const model_cfg *m,
                       const cost_chip *chip, errbuf *first)
{
    int P = req->pipe > 1 ? req->pipe : 1;
    int mp_lo = req->model_par > 0 ? req->model_par : 1;
    int mp_hi = req->model_par > 0 ? req->model_par : req->cores / P;
    int remat_lo = req->remat == PLAN_REMAT_ON, remat_hi = req->remat != PLAN_REMAT_OFF;
    int zero_lo = req->zero == 1, zero_hi = req->zero != 0;   /* auto: off, then on (it costs no step time) */
    int fill = first->msg[0] == '\0';
    for (int mp = mp_lo; mp <= mp_hi; mp *= 2)
        for (int r = remat_lo; r <= remat_hi; r++)
            for (int z = zero_lo; z <= zero_hi; z++) {
                errbuf e = { "" };
                plan_request rq = *req;
                rq.zero = z;
                if (plan_try(p, mem, &rq, m, chip, mp, r, &e) == 0) {
                    *remat = r;
                    return 0;
                }
                if (fill && mp == mp_lo)   /* the last of the first model's tries: remat and ZeRO-1 where allowed */
                    *first = e;
            }
    return -1;
}

int plan_choose(plan *p, cost_memory *mem, int *remat, const plan_request *req, const model_cfg *m,
                const cost_chip *chip, errbuf *err)
{
    errbuf first = { "" };
    if (plan_search(p, mem, remat, req, m, chip, &first) == 0)
        return 0;
    /* no plan asked for (pipe 0): pipelines of 2, 4, ... stages, the shallowest that fits (the least bubble) */
    int nlayers = m->enc_layers + m->dec_layers;
    for (int P = 2; req->pipe == 0 && req->model_par == 0 && P <= nlayers && req->cores % P == 0; P *= 2) {
        plan_request rq = *req;
        rq.pipe = P;
        if (plan_search(p, mem, remat, &rq, m, chip, &first) == 0)
            return 0;
    }
    if (req->model_par == 0)
        return errbuf_set(err, "%.400s (with model=1; no power-of-two model-parallel plan fits either%s)", first.msg,
                          req->pipe == 0 ? ", nor a pipeline of 2, 4, ... stages" : "");
    *err = first;
    return -1;
}
