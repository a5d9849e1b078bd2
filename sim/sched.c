/* sched: the per-core lists of one step's work (sim/sched.h): storage, building with sharing of equal lists, and
 * the all-reduce groups.  No SimGrid, no cost model. */
#include "sim/sched.h"

#include <stdlib.h>
#include <string.h>

struct sched {
    int cores, cores_per_chip, nchips, nlayers;
    int stage_cores;              /* cores of a pipeline stage (SCHED_BAR_STAGE) */
    sched_coll *colls;
    int ncolls, capcolls;
    sched_item *items;            /* (nitems) the distinct lists back to back */
    size_t nitems, capitems;
    size_t *start, *len;          /* (cores) each core's list: items[start .. start + len) */
    int nlists;
    int building;                 /* the core being built, -1 none */
    size_t cur;                   /* where its items start */
    int oom;
    int p2p;                      /* a send or receive was added */
};

static const char *const SCHED_NAMES[SCHED_N_NAMES] = {
    [SCHED_N_EMBED] = "embed", [SCHED_N_ATTENTION] = "attention", [SCHED_N_NORM] = "norm", [SCHED_N_FFN] = "ffn",
    [SCHED_N_GATING] = "gating", [SCHED_N_ROUTER] = "router", [SCHED_N_COMBINE_BUILD] = "combine_build",
    [SCHED_N_DISPATCH] = "dispatch", [SCHED_N_A2A] = "a2a", [SCHED_N_EXPERT_FFN] = "expert_ffn",
    [SCHED_N_COMBINE] = "combine", [SCHED_N_VOCAB_LOSS] = "vocab_loss", [SCHED_N_ALLREDUCE] = "allreduce",
    [SCHED_N_REDUCE] = "reduce", [SCHED_N_OPTIMIZER] = "optimizer", [SCHED_N_CAST] = "weight casts", [SCHED_N_SEND] = "send",
    [SCHED_N_RECV] = "recv", [SCHED_N_REDUCESCATTER] = "reducescatter", [SCHED_N_ALLGATHER] = "allgather",
};

const char *sched_name(int id)
{
    return id >= 0 && id < SCHED_N_NAMES ? SCHED_NAMES[id] : "?";
}

int sched_groups_init(sched_groups *gr, const long *key, int nchips)
{
    gr->n = 0;
    gr->gid = malloc((size_t)nchips * sizeof(int));
    gr->members = malloc((size_t)nchips * sizeof(int));
    gr->start = malloc((size_t)(nchips + 1) * sizeof(int));
    gr->size = malloc((size_t)(nchips + 1) * sizeof(int));
    if (!gr->gid || !gr->members || !gr->start || !gr->size)
        return -1;
    int ng = 0;
    for (int c = 0; c < nchips; c++) {
        gr->gid[c] = -1;
        for (int d = 0; d < c; d++)
            if (key[d] == key[c]) {
                gr->gid[c] = gr->gid[d];
                break;
            }
        if (gr->gid[c] < 0)
            gr->gid[c] = ng++;
    }
    int pos = 0;
    for (int k = 0; k < ng; k++) {
        gr->start[k] = pos;
        for (int c = 0; c < nchips; c++)
            if (gr->gid[c] == k)
                gr->members[pos++] = c;
        gr->size[k] = pos - gr->start[k];
    }
    gr->start[ng] = pos;
    gr->n = ng;
    return 0;
}

void sched_groups_fini(sched_groups *gr)
{
    free(gr->gid);
    free(gr->members);
    free(gr->start);
    free(gr->size);
    memset(gr, 0, sizeof *gr);
}

sched *sched_alloc(int cores, int cores_per_chip, int nlayers)
{
    if (cores < 1 || cores_per_chip < 1 || cores % cores_per_chip != 0 || nlayers < 0)
        return NULL;
    sched *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->cores = cores;
    s->cores_per_chip = cores_per_chip;
    s->nchips = cores / cores_per_chip;
    s->nlayers = nlayers;
    s->stage_cores = cores;
    s->building = -1;
    s->start = calloc((size_t)cores, sizeof *s->start);
    s->len = calloc((size_t)cores, sizeof *s->len);
    if (s->start == NULL || s->len == NULL) {
        sched_free(s);
        return NULL;
    }
    return s;
}

void sched_free(sched *s)
{
    if (s == NULL)
        return;
    free(s->colls);
    free(s->items);
    free(s->start);
    free(s->len);
    free(s);
}

int sched_cores(const sched *s)
{
    return s->cores;
}

int sched_cores_per_chip(const sched *s)
{
    return s->cores_per_chip;
}

int sched_nchips(const sched *s)
{
    return s->nchips;
}

int sched_nlayers(const sched *s)
{
    return s->nlayers;
}

int sched_coll_add(sched *s, const sched_coll *c)
{
    if (s->ncolls == s->capcolls) {
        int cap = s->capcolls ? 2 * s->capcolls : 16;
        sched_coll *more = realloc(s->colls, (size_t)cap * sizeof *more);
        if (more == NULL)
            return -1;
        s->colls = more;
        s->capcolls = cap;
    }
    s->colls[s->ncolls] = *c;
    return s->ncolls++;
}

const sched_coll *sched_coll_at(const sched *s, int i)
{
    return &s->colls[i];
}

int sched_ncolls(const sched *s)
{
    return s->ncolls;
}

void sched_begin(sched *s, int core)
{
    s->building = core;
    s->cur = s->nitems;
}

static void sched_push(sched *s, sched_kind kind, int ref, sched_cat cat, int name, double t_s, int layer, int phase)
{
    if (s->oom)
        return;
    if (s->nitems == s->capitems) {
        size_t cap = s->capitems ? 2 * s->capitems : 1024;
        sched_item *more = realloc(s->items, cap * sizeof *more);
        if (more == NULL) {
            s->oom = 1;
            return;
        }
        s->items = more;
        s->capitems = cap;
    }
    sched_item *it = &s->items[s->nitems++];
    memset(it, 0, sizeof *it);        /* padding too: lists are compared field by field, but stay clean */
    it->t_s = t_s;
    it->ref = ref;
    it->layer = (int16_t)layer;
    it->kind = (uint8_t)kind;
    it->cat = (uint8_t)cat;
    it->phase = (uint8_t)phase;
    it->name = (uint8_t)name;
}

void sched_op(sched *s, sched_cat cat, sched_name_id name, double t_s, int layer, int phase)
{
    if (t_s > 0.0)
        sched_push(s, SCHED_OP, 0, cat, name, t_s, layer, phase);
}

void sched_barrier_all(sched *s, int layer, int phase)
{
    sched_push(s, SCHED_BARRIER, SCHED_BAR_ALL, SCHED_CAT_IDLE, 0, 0.0, layer, phase);
}

void sched_barrier_stage(sched *s, int layer, int phase)
{
    sched_push(s, SCHED_BARRIER, SCHED_BAR_STAGE, SCHED_CAT_IDLE, 0, 0.0, layer, phase);
}

int sched_set_stage_cores(sched *s, int n)
{
    if (n < 1 || s->cores % n != 0 || n % s->cores_per_chip != 0)
        return -1;
    s->stage_cores = n;
    return 0;
}

int sched_stage_cores(const sched *s)
{
    return s->stage_cores;
}

void sched_flush(sched *s, int layer, int phase)
{
    sched_push(s, SCHED_BARRIER, SCHED_BAR_ALL, SCHED_CAT_BUBBLE, 0, 0.0, layer, phase);
}

void sched_send(sched *s, int dst, double bytes, int layer, int phase)
{
    s->p2p = 1;
    sched_push(s, SCHED_SEND, dst, SCHED_CAT_BUBBLE, SCHED_N_SEND, bytes > 0.0 ? bytes : 0.0, layer, phase);
}

void sched_recv(sched *s, int src, int layer, int phase)
{
    s->p2p = 1;
    sched_push(s, SCHED_RECV, src, SCHED_CAT_BUBBLE, SCHED_N_RECV, 0.0, layer, phase);
}

int sched_has_p2p(const sched *s)
{
    return s->p2p;
}

void sched_collective(sched *s, int coll, sched_cat cat, sched_name_id name, int layer, int phase)
{
    sched_push(s, SCHED_COLL, coll, cat, name, 0.0, layer, phase);
}

void sched_mark(sched *s, int begin_end, int layer, int phase)
{
    sched_push(s, SCHED_MARK, begin_end, SCHED_CAT_IDLE, 0, 0.0, layer, phase);
}

static int sched_item_eq(const sched_item *a, const sched_item *b)
{
    return a->t_s == b->t_s && a->ref == b->ref && a->layer == b->layer && a->kind == b->kind && a->cat == b->cat
           && a->phase == b->phase && a->name == b->name;
}

int sched_end(sched *s, errbuf *err)
{
    int core = s->building;
    s->building = -1;
    if (s->oom)
        return errbuf_set(err, "out of memory building the schedule of core %d", core);
    size_t n = s->nitems - s->cur;
    if (core > 0 && s->len[core - 1] == n) {
        const sched_item *prev = s->items + s->start[core - 1], *mine = s->items + s->cur;
        size_t i = 0;
        while (i < n && sched_item_eq(&prev[i], &mine[i]))
            i++;
        if (i == n) {                     /* the previous core's list: share it */
            s->nitems = s->cur;
            s->start[core] = s->start[core - 1];
            s->len[core] = n;
            return 0;
        }
    }
    s->start[core] = s->cur;
    s->len[core] = n;
    s->nlists++;
    return 0;
}

const sched_item *sched_list(const sched *s, int core, size_t *n)
{
    *n = s->len[core];
    return s->items + s->start[core];
}

int sched_nlists(const sched *s)
{
    return s->nlists;
}

size_t sched_nitems(const sched *s)
{
    return s->nitems;
}

int sched_1f1b(int *mb, int *bwd, int stage, int stages, int micro)
{
    if (stages < 1 || micro < 1 || stage < 0 || stage >= stages)
        return -1;
    int warm = stages - stage - 1 < micro ? stages - stage - 1 : micro;
    int n = 0, f = 0, b = 0;
    for (; f < warm; f++, n++) {
        mb[n] = f;
        bwd[n] = 0;
    }
    while (f < micro) {
        mb[n] = f++;
        bwd[n++] = 0;
        mb[n] = b++;
        bwd[n++] = 1;
    }
    for (; b < micro; b++, n++) {
        mb[n] = b;
        bwd[n] = 1;
    }
    return 0;
}
