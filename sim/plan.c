/* plan: data x model x expert layout of a model over the cores, groups and capacity. */
#include "sim/plan.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>


#define PLAN_WAYS_MAX 1000000   /* far beyond any torus; keeps products of ways inside int */
#define PLAN_GROUPS_MAX 1000000 /* routing groups per core: the routing arrays are groups x experts */

int plan_parse(int *data, int *model, const char *spec, errbuf *err)
{
    int d = 0, m = 1, seen_d = 0, seen_m = 0;
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
        if (strcmp(item, "data") == 0 && !seen_d) {
            d = (int)v;
            seen_d = 1;
        } else if (strcmp(item, "model") == 0 && !seen_m) {
            m = (int)v;
            seen_m = 1;
        } else if (strcmp(item, "data") == 0 || strcmp(item, "model") == 0) {
            return errbuf_set(err, "--plan gives '%s' twice in '%s'", item, spec);
        } else {
            return errbuf_set(err, "--plan keys are data and model, got '%s' in '%s'", item, spec);
        }
        any = 1;
    }
    if (!any)
        return errbuf_set(err, "--plan must be data=N,model=M, got '%s'", spec);
    *data = d;
    *model = m;
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
    if (q.experts >= data) {
        if (q.experts % data != 0)
            return errbuf_set(err, "plan data=%d must divide the %d experts of %s (or be a multiple of it)",
                              data, q.experts, m->name);
        q.experts_per_core = q.experts / data;
        q.cores_per_expert = 1;
    } else {
        if (data % q.experts != 0)
            return errbuf_set(err, "plan data=%d must be a multiple of the %d experts of %s (or divide them)",
                              data, q.experts, m->name);
        q.experts_per_core = 1;
        q.cores_per_expert = data / q.experts;
    }
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
    *p = q;
    return 0;
}

int plan_expert_owner(const plan *p, int src, int e)
{
    if (p->cores_per_expert > 1)   /* replica group of E consecutive shards, one expert each */
        return (src / p->experts) * p->experts + e;
    return e / p->experts_per_core;
}

/* One candidate: layout with m = mp, then the memory check.  'e' gets why it does not work. */
static int plan_try(plan *p, cost_memory *mem, const plan_request *req, const model_cfg *m, const cost_chip *chip,
                    int mp, int remat, errbuf *e)
{
    int data = req->model_par > 0 ? req->data : 0;
    if (plan_layout(p, m, req->cores, chip->cores_per_chip, data, mp, req->top_k, req->capacity_factor,
                    req->cap_round, e) != 0)
        return -1;
    double params_local = model_params_dense(m) / mp +
        (p->experts > 1 ? model_params_expert(m) / p->experts * p->experts_per_core / mp : 0);
    errbuf me = { "" };
    if (cost_memory_check(mem, chip, m, params_local, (double)(p->tokens_enc + p->tokens_dec), mp, remat, &me) == 0)
        return 0;
    const char *why = strncmp(me.msg, "plan ", 5) == 0 ? me.msg + 5 : me.msg;
    return errbuf_set(e, "plan data=%d,model=%d%s %.400s", p->data, mp, remat ? " with remat" : "", why);
}

int plan_choose(plan *p, cost_memory *mem, int *remat, const plan_request *req, const model_cfg *m,
                const cost_chip *chip, errbuf *err)
{
    int mp_lo = req->model_par > 0 ? req->model_par : 1;
    int mp_hi = req->model_par > 0 ? req->model_par : req->cores;
    int remat_lo = req->remat == PLAN_REMAT_ON, remat_hi = req->remat != PLAN_REMAT_OFF;
    errbuf first = { "" };
    for (int mp = mp_lo; mp <= mp_hi; mp *= 2)
        for (int r = remat_lo; r <= remat_hi; r++) {
            errbuf e = { "" };
            if (plan_try(p, mem, req, m, chip, mp, r, &e) == 0) {
                *remat = r;
                return 0;
            }
            if (first.msg[0] == '\0')
                first = e;
        }
    if (req->model_par == 0)
        return errbuf_set(err, "%.400s (with model=1; no power-of-two model-parallel plan fits either)", first.msg);
    *err = first;
    return -1;
}
