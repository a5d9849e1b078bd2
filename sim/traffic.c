/* traffic: routing into all-to-all byte matrices and expert rows (sim/traffic.h). */
#include "sim/traffic.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double traffic_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int traffic_mat(const traffic *t, int sl, int enc)
{
    return t->padded ? (enc ? 0 : 1) : sl;
}

/* dst <- src transposed (n x n), in 64 x 64 tiles: both stay in cache on the 4096-chip matrices. */
static void traffic_transpose(double *dst, const double *src, int n)
{
    enum { TILE = 64 };
    for (int i0 = 0; i0 < n; i0 += TILE)
        for (int j0 = 0; j0 < n; j0 += TILE)
            for (int i = i0; i < i0 + TILE && i < n; i++)
                for (int j = j0; j < j0 + TILE && j < n; j++)
                    dst[(size_t)j * n + i] = src[(size_t)i * n + j];
}

/* Whether the n x n matrix a equals its transpose (value by value; its entries are sums of bytes >= 0, so
 * equal values are equal bits, as memcmp of the transpose saw them), compared in 64 x 64 tiles. */
static int traffic_symmetric(const double *a, int n)
{
    enum { TILE = 64 };
    for (int i0 = 0; i0 < n; i0 += TILE)
        for (int j0 = i0; j0 < n; j0 += TILE)
            for (int i = i0; i < i0 + TILE && i < n; i++)
                for (int j = j0 > i ? j0 : i + 1; j < j0 + TILE && j < n; j++)
                    if (a[(size_t)i * n + j] != a[(size_t)j * n + i])
                        return 0;
    return 1;
}

/* Padded dispatch: every shard sends groups x C slots to every expert, whatever the routing; and how many of
 * a core's destination experts are on other cores.  Then the combine matrices: when every matrix is symmetric
 * (every layout of equal shards so far), m2 is m1 itself, else the transposes in memory of their own (two
 * 6144-chip matrices are 604 MB that a transpose would write and a compare read again). */
static int traffic_padded(traffic *t)
{
    const plan *p = t->p;
    size_t nn = (size_t)p->nchips * p->nchips;
    for (int enc = 1; enc >= 0; enc--) {
        double *mat = t->m1 + (size_t)traffic_mat(t, 0, enc) * nn;
        double slot_bytes = (double)p->groups * (enc ? p->capacity_enc : p->capacity_dec) * t->tok_bytes;
        for (int core = 0; core < p->cores; core++) {
            if (enc)                          /* the same owners in both stacks: counted once */
                t->remote_experts[core] = 0;
            for (int e = 0; e < p->experts; e++) {
                int dst = plan_core(p, plan_expert_owner(p, core / p->model_par, e), core % p->model_par);
                mat[(size_t)plan_chip(p, core) * p->nchips + plan_chip(p, dst)] += slot_bytes;
                if (enc)
                    t->remote_experts[core] += dst != core;
            }
        }
    }
    int all = 1;
    for (int i = 0; i < t->nmat; i++) {  /* a symmetric m1 is its own combine matrix: one key for both */
        t->m2_is_m1[i] = traffic_symmetric(t->m1 + (size_t)i * nn, p->nchips);
        all &= t->m2_is_m1[i];
    }
    if (all) {
        t->m2 = t->m1;
        return 0;
    }
    t->m2 = calloc((size_t)t->nmat * nn, sizeof *t->m2);
    if (t->m2 == NULL)
        return -1;
    for (int i = 0; i < t->nmat; i++)
        traffic_transpose(t->m2 + (size_t)i * nn, t->m1 + (size_t)i * nn, p->nchips);
    return 0;
}

traffic *traffic_alloc(const plan *p, const model_cfg *m, const int *sparse_index, int nlayers, int nsparse,
                       int act_bytes, int padded)
{
    traffic *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    size_t nn = (size_t)p->nchips * p->nchips, nl = (size_t)nlayers, cores = (size_t)p->cores;
    *t = (traffic){ .p = p, .m = m, .padded = padded, .tok_bytes = (double)m->d_model * act_bytes,
                    .nlayers = nlayers, .sparse_index = sparse_index, .nsparse = nsparse };
    t->nmat = padded ? 2 : (nsparse > 0 ? nsparse : 1);
    t->m1 = calloc((size_t)t->nmat * nn, sizeof *t->m1);
    t->m2 = padded ? NULL : calloc((size_t)t->nmat * nn, sizeof *t->m2);   /* padded: traffic_padded's */
    t->recv = calloc((size_t)(nsparse > 0 ? nsparse : 1) * cores * p->experts_per_core, sizeof *t->recv);
    t->remote_experts = calloc(cores, sizeof *t->remote_experts);
    t->lbytes = calloc(nl + 1, sizeof *t->lbytes);
    t->ldropped = calloc(nl + 1, sizeof *t->ldropped);
    t->lchoices = calloc(nl + 1, sizeof *t->lchoices);
    t->llb = calloc(nl + 1, sizeof *t->llb);
    t->llb_n = calloc(nl + 1, sizeof *t->llb_n);
    t->shard_kept = calloc((size_t)p->experts, sizeof *t->shard_kept);
    t->shard_layer = t->shard_id = -1;
    if (!t->shard_kept || !t->m1 || (!padded && !t->m2) || !t->recv || !t->remote_experts || !t->lbytes || !t->ldropped || !t->lchoices || !t->llb
        || !t->llb_n) {
        traffic_free(t);
        return NULL;
    }
    if (padded && traffic_padded(t) != 0) {
        traffic_free(t);
        return NULL;
    }
    return t;
}

void traffic_free(traffic *t)
{
    if (t == NULL)
        return;
    if (t->m2 != t->m1)
        free(t->m2);
    free(t->m1);
    free(t->recv);
    free(t->remote_experts);
    free(t->shard_kept);
    free(t->lbytes);
    free(t->ldropped);
    free(t->lchoices);
    free(t->llb);
    free(t->llb_n);
    free(t);
}

/* Bytes core 'core' sends in a padded all-to-all: whole capacity buffers to every expert on another core. */
static double traffic_padded_sent(const traffic *t, int core, int enc)
{
    const plan *p = t->p;
    return (double)t->remote_experts[core] * p->groups * (enc ? p->capacity_enc : p->capacity_dec) * t->tok_bytes;
}

/* Routes this core's groups of Switch layer 'sl'.  Exact dispatch: adds the kept tokens to the layer's
 * byte matrix and to the receiving experts' rows.  Padded: the matrix is fixed; routing sets the drops. */
static int traffic_route_core(traffic *t, route_ctx *route, int core, int layer, int sl, int enc, errbuf *err)
{
    const plan *p = t->p;
    int E = p->experts;
    int shard = core / p->model_par, slice = core % p->model_par;
    double *mat = t->m1 + (size_t)traffic_mat(t, sl, enc) * p->nchips * p->nchips;
    int src_chip = plan_chip(p, core);
    int *kept = malloc((size_t)E * sizeof *kept);
    double *sum = calloc((size_t)E, sizeof *sum);
    int rc = kept == NULL || sum == NULL ? errbuf_set(err, "out of memory routing") : 0;
    int at_once = route_shard_ok(route, sl);   /* the shard's groups drawn together */
    int shared = slice > 0 && t->shard_layer == sl && t->shard_id == shard;   /* slice 0 routed the shard */
    if (shared && rc == 0)
        memcpy(sum, t->shard_kept, (size_t)E * sizeof *sum);
    for (int grp = 0; grp < (shared ? 0 : at_once ? 1 : p->groups) && rc == 0; grp++) {
        double lb;
        long dropped = at_once ? route_shard(route, sl, shard, kept, &lb, err)
                               : route_group(route, sl, shard, grp, slice == 0, kept, &lb, err);
        if (dropped < 0) {
            rc = -1;
            break;
        }
        for (int e2 = 0; e2 < E; e2++)
            sum[e2] += kept[e2];
        if (slice == 0) {   /* the m slices of a shard share one routing decision: count it once */
            t->ldropped[layer] += dropped;
            t->lchoices[layer] += (long)(enc ? p->group_enc : p->group_dec) * p->top_k * (at_once ? p->groups : 1);
            t->llb[layer] += lb;
            t->llb_n[layer] += at_once ? p->groups : 1;
        }
    }
    if (rc == 0 && slice == 0 && p->model_par > 1) {   /* the shard's routing, for its other slices */
        memcpy(t->shard_kept, sum, (size_t)E * sizeof *sum);
        t->shard_layer = sl;
        t->shard_id = shard;
    }
    double sent = 0.0;
    if (rc == 0 && t->padded)     /* whole capacity buffers to every expert on another core */
        sent = traffic_padded_sent(t, core, enc);
    else if (rc == 0)
        for (int e = 0; e < E; e++) {
            int dst = plan_core(p, plan_expert_owner(p, shard, e), slice);
            if (dst != core)
                sent += sum[e] * t->tok_bytes;
            mat[(size_t)src_chip * p->nchips + plan_chip(p, dst)] += sum[e] * t->tok_bytes;
            t->recv[((size_t)sl * p->cores + dst) * p->experts_per_core + e % p->experts_per_core] += sum[e];
            t->kept_sent += (long)sum[e];
        }
    t->lbytes[layer] += 2.0 * sent;   /* sent in a2a #1; the same total goes out in #2, and again backward */
    free(kept);
    free(sum);
    return rc;
}

int traffic_route(traffic *t, route_ctx *route, errbuf *err)
{
    const plan *p = t->p;
    size_t nn = (size_t)p->nchips * p->nchips;
    double w0 = traffic_wall();
    long groups = (long)(p->cores / p->model_par) * p->groups;   /* a layer's: every shard core routes its own */
    t->stats_stride = t->padded && route_multinomial(route) && groups > TRAFFIC_PADDED_STATS_GROUPS
                    ? (int)(groups / TRAFFIC_PADDED_STATS_GROUPS) : 1;
    for (int l = 0; l < t->nlayers; l++) {
        int sl = t->sparse_index[l], enc = l < t->m->enc_layers;
        if (sl < 0)
            continue;
        for (int core = 0; core < p->cores; core++) {
            if ((core / p->model_par) % t->stats_stride != 0)   /* not routed: its buffers' bytes all the same */
                t->lbytes[l] += 2.0 * traffic_padded_sent(t, core, enc);
            else if (traffic_route_core(t, route, core, l, sl, enc, err) != 0)
                return -1;
        }
        if (!t->padded)   /* the combine sends back what the dispatch brought */
            traffic_transpose(t->m2 + (size_t)traffic_mat(t, sl, enc) * nn,
                              t->m1 + (size_t)traffic_mat(t, sl, enc) * nn, p->nchips);
    }
    t->wall_route_s = traffic_wall() - w0;
    if (t->padded || t->nsparse == 0)
        return 0;
    double recv = 0.0;
    for (size_t i = 0; i < (size_t)t->nsparse * p->cores * p->experts_per_core; i++)
        recv += t->recv[i];
    if ((long)recv != t->kept_sent)
        return errbuf_set(err, "bug: experts received %.0f tokens, cores sent %ld", recv, t->kept_sent);
    return 0;
}

double traffic_max_load(const traffic *t, int sl)
{
    if (t->padded)
        return 1.0;
    size_t n = (size_t)t->p->cores * t->p->experts_per_core;
    const double *r = t->recv + (size_t)sl * n;
    double sum = 0.0, max = 0.0;
    for (size_t i = 0; i < n; i++) {
        sum += r[i];
        max = r[i] > max ? r[i] : max;
    }
    return sum > 0.0 ? max / (sum / (double)n) : 0.0;
}

void traffic_expert_rows(const traffic *t, double *rows, int core, int sl, int enc)
{
    const plan *p = t->p;
    int C = enc ? p->capacity_enc : p->capacity_dec;
    int senders = p->expert_ways;   /* the shards of the core's expert group */
    for (int e = 0; e < p->experts_per_core; e++)
        rows[e] = t->padded ? (double)senders * p->groups * C
                            : t->recv[((size_t)sl * p->cores + core) * p->experts_per_core + e];
}
