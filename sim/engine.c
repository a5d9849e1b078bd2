/* engine: the simulated training step.  One SimGrid actor per core replays the step op by op: compute
 * ops charge cost-model time on the core, the Switch layers route their groups with the real kernels
 * (sim/route.c) and move the resulting bytes over the torus links (sim/collectives.c), where flows contend.
 * This file is the only one that schedules actors; timing comes from sim/cost.c, bytes from routing. */
#include "sim/engine.h"

#include <math.h>
#include <simgrid/actor.h>
#include <simgrid/barrier.h>
#include <simgrid/engine.h>
#include <simgrid/host.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xbt/log.h>

#include "sim/platform.h"
#include "sim/simproc.h"
#include "traces/timeline.h"

XBT_LOG_NEW_DEFAULT_CATEGORY(engine, "switchsim engine");

/* Where a core's time goes (the CSV columns compute_s .. idle_s). */
enum { CAT_COMPUTE, CAT_ROUTER, CAT_DISPATCH, CAT_A2A, CAT_ALLREDUCE, CAT_IDLE, N_CAT };
enum { PH_FWD, PH_BWD, N_PH };
static const char *const PHASE_NAME[N_PH] = { "fwd", "bwd" };

#define ENGINE_GRAD_BYTES 4.0      /* gradients all-reduced in fp32 (the paper keeps float32 weights, SOURCES 3) */
#define ENGINE_PROGRESS_S 2.0      /* wall seconds between progress lines */
#define ENGINE_DIRECT_CHIPS_MAX 128 /* direct all-to-all: 0.9-4 s wall per all-to-all at 128 hosts (SOURCES 8.3) */

/* A model-parallel all-reduce already simulated in this run: with the same bytes, the same groups and a
 * common start (a global barrier), it takes the same time again, so later ones are replayed per chip. */
#define ENGINE_AR_MEMO 8
typedef struct {
    double bytes;                  /* key: bytes per chip */
    long seq;                      /* the collective (per-core sequence number) that simulated it */
    double *dur;                   /* (nchips) seconds each chip's leader took */
} ar_memo;

/* All-reduce groups of chips: a ring per group. */
typedef struct {
    int n;                         /* groups */
    int *gid;                      /* (nchips) group of each chip */
    int *members;                  /* (nchips) members of each group in ring order */
    int *start, *size;             /* (nchips + 1) offsets into members, and sizes */
} eng_groups;

typedef struct {
    const engine_config *cfg;
    const model_cfg *m;
    plan p;
    cost_chip chip;
    platform_torus torus;
    coll_world *world;
    route_ctx *route;
    timeline *tl;
    sg_bar_t all;                  /* every core */
    sg_bar_t *chipbar;             /* (nchips) cores of one chip */
    int nlayers;                   /* encoder + decoder layers */
    int nsparse;
    int *sparse_index;             /* (nlayers) index among Switch layers, or -1 */
    /* all-to-all byte matrices (nchips x nchips): per Switch layer when dispatch is exact (built by the actors
     * from their routing), else two (encoder and decoder capacity buffers, built before the run) */
    double *m1, *m2;
    int nmat;
    int m2_is_m1[2];               /* padded: matrix i (enc, dec) is symmetric */
    double *recv;                  /* (nsparse, cores, experts_per_core) tokens received per local expert (exact) */
    int *remote_experts;           /* (cores) padded: experts a core sends capacity buffers to on other cores */
    long *a2a_calls;               /* (cores) all-to-alls each core has entered */
    long *a2a_chip_calls;          /* (nchips) all-to-alls each chip has entered (coll_alltoall_prepare) */
    int *a2a_known;                /* (nchips) the current one's time is known without flows: a2a_dur */
    double *a2a_dur;               /* (nchips) */
    double *rows;                  /* (cores, experts_per_core) scratch: rows of each local expert */
    void *args;                    /* (cores) core_arg of each actor */
    eng_groups grad;               /* chips holding the same dense-parameter slices */
    eng_groups expert;             /* chips holding the same experts (replicas), when has_expert_groups */
    int has_expert_groups;
    /* accounting */
    double *acct;                  /* (cores, N_CAT) seconds */
    double *lacct;                 /* (nlayers, N_PH, N_CAT) seconds summed over cores */
    double *lt0, *lt1;             /* (nlayers, N_PH) earliest start, latest end */
    double *lbytes;                /* (nlayers) a2a bytes sent summed over cores, per phase (fwd = bwd) */
    long *ldropped, *lchoices;     /* (nlayers) dropped choices and choices routed */
    double *llb;                   /* (nlayers) sum of group load-balancing losses */
    long *llb_n;                   /* (nlayers) groups in that sum */
    long a2a_count;
    long kept_sent;                /* tokens sent in exact dispatch: must equal the tokens experts received */
    double t_end;
    double wall0, wall_last;
    int remat;                     /* recompute each layer's forward before its backward */
    model_impl impl;               /* the implementation profile the step runs (IMPL below) */
    double *pending;               /* (cores) seconds of ops deferred into one execution (no timeline) */
    double *hw;                    /* (cores) hardware matmul FLOPs charged (cost_work.hw_flops) */
    long *seq;                     /* (cores) collectives each core has entered: equal on all cores */
    int *chip_ids;                 /* (nchips) 0, 1, 2, ...: consecutive chip groups are slices of it */
    ar_memo armemo[ENGINE_AR_MEMO];
    int n_armemo;
    long ar_count, ar_reused;      /* model-parallel all-reduces over links, and how many were replayed */
    char a2a_flows_why[160];       /* why the phased all-to-alls run as flows although cfg->a2a_fast asked otherwise */
    long execs;                    /* SimGrid executions started, all cores */
    double wall_route_s;           /* wall seconds inside the routing kernels during the run */
    int failed;
    errbuf err;
    int finished;                  /* core actors that reached the end of the step (fewer: SimGrid deadlocked) */
} engine;

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void eng_fail(engine *g, const errbuf *e)
{
    if (!g->failed) {
        g->failed = 1;
        g->err = *e;
    }
}

/* Books [t0, t1] of core 'core' to category 'cat' (step and layer totals) and to the timeline. */
static void eng_record(engine *g, int core, int cat, timeline_thread th, const char *name, int layer, int ph,
                       double t0, double t1)
{
    g->acct[(size_t)core * N_CAT + cat] += t1 - t0;
    if (layer >= 0)
        g->lacct[((size_t)layer * N_PH + ph) * N_CAT + cat] += t1 - t0;
    if (g->tl != NULL && timeline_add(g->tl, core, th, name, layer, layer >= 0 ? PHASE_NAME[ph] : "step",
                                      t0, t1) != 0) {
        errbuf e;
        errbuf_set(&e, "out of memory recording the timeline");
        eng_fail(g, &e);
    }
}

/* Charges 't_s' seconds of work in category 'cat' on the calling core (layer -1: outside layers). */
static void eng_charge(engine *g, int core, int cat, timeline_thread th, double t_s, const char *name, int layer,
                       int ph)
{
    if (t_s <= 0.0)
        return;
    if (g->tl == NULL) {
        /* Without a timeline, back-to-back ops of a core become one SimGrid execution (flushed before any
         * barrier, communication or layer boundary).  A core's ops never share its core with another actor,
         * so the booked times and the step are the same; SimGrid just has fewer activities to schedule. */
        g->pending[core] += t_s;
        g->acct[(size_t)core * N_CAT + cat] += t_s;
        if (layer >= 0)
            g->lacct[((size_t)layer * N_PH + ph) * N_CAT + cat] += t_s;
        return;
    }
    /* with a timeline, each op is its own execution so that it has its own event; the booked time is the
     * cost model's either way, so a timeline changes no number */
    double t0 = simgrid_get_clock();
    if (th == TL_COMPUTE)
        sg_actor_execute(t_s * g->chip.bf16_flops);   /* host speed = bf16 peak per core (topologies/README.md) */
    else
        sg_actor_sleep_for(t_s);
    g->execs++;
    eng_record(g, core, cat, th, name, layer, ph, t0, t0 + t_s);
}

/* Charges 't_s' seconds of work in category 'cat' on the calling core (layer -1: outside layers). */
static void eng_exec(engine *g, int core, int cat, double t_s, const char *name, int layer, int ph)
{
    eng_charge(g, core, cat, TL_COMPUTE, t_s, name, layer, ph);
}

/* eng_exec of an op built from zero by a cost _work function, 'times' times back to back; counts its hardware
 * FLOPs (the hfu column). */
static void eng_work(engine *g, int core, int cat, const cost_work *w, double times, const char *name, int layer,
                     int ph)
{
    g->hw[core] += times * w->hw_flops;
    eng_exec(g, core, cat, times * w->t_s, name, layer, ph);
}

/* Runs the core's deferred ops (see eng_exec) now. */
static void eng_flush(engine *g, int core)
{
    if (g->pending[core] > 0.0) {
        sg_actor_execute(g->pending[core] * g->chip.bf16_flops);
        g->execs++;
        g->pending[core] = 0.0;
    }
}

/* Global barrier: the wait is idle time. */
static void eng_sync(engine *g, int core, int layer, int ph)
{
    eng_flush(g, core);
    double t0 = simgrid_get_clock();
    sg_barrier_wait(g->all);
    double w = simgrid_get_clock() - t0;
    g->acct[(size_t)core * N_CAT + CAT_IDLE] += w;
    if (layer >= 0)
        g->lacct[((size_t)layer * N_PH + ph) * N_CAT + CAT_IDLE] += w;
}

/* Ends a communication that started at 't0' after the leader's part: the chip's cores wait for each
 * other, and the whole span counts as 'cat' on every core of the chip. */
static void eng_comm_end(engine *g, int core, int cat, double t0, const char *name, int layer, int ph)
{
    sg_barrier_wait(g->chipbar[plan_chip(&g->p, core)]);
    eng_record(g, core, cat, TL_COMM, name, layer, ph, t0, simgrid_get_clock());
}

static int is_leader(const engine *g, int core)
{
    return core % g->p.cores_per_chip == 0;
}

/* One all-to-all over the platform (torus or GPU nodes) with chip byte matrix 'mat'; key: its id when the same
 * matrix comes back (padded dispatch), else -1 (coll_alltoall_keyed).  The chip's first core past the barrier
 * enters the chip into the call.  When the chip's time in it is known without flows (replayed, or timed from its
 * plan), every core of the chip books that time like an op, and SimGrid has no activity to run for it; else the
 * leader runs the chip's flows while the chip's other cores wait for it. */
static void eng_alltoall(engine *g, int core, const double *mat, long key, int layer, int ph)
{
    eng_sync(g, core, layer, ph);
    int chip = plan_chip(&g->p, core);
    long call = ++g->a2a_calls[core];
    if (g->a2a_chip_calls[chip] < call) {
        errbuf e;
        g->a2a_chip_calls[chip] = call;
        g->a2a_known[chip] = coll_alltoall_prepare(g->world, chip, mat, key, g->cfg->a2a, &g->a2a_dur[chip], &e);
        if (g->a2a_known[chip] < 0) {
            eng_fail(g, &e);
            g->a2a_known[chip] = 1;                 /* the run fails; no core waits for flows that never come */
            g->a2a_dur[chip] = 0.0;
        }
    }
    if (core == 0)
        g->a2a_count++;
    if (g->a2a_known[chip]) {
        eng_charge(g, core, CAT_A2A, TL_COMM, g->a2a_dur[chip], "a2a", layer, ph);
        return;
    }
    double t0 = simgrid_get_clock();
    if (is_leader(g, core)) {
        errbuf e;
        if (coll_alltoall_run(g->world, chip, mat, g->cfg->a2a, &e) != 0)
            eng_fail(g, &e);
    }
    eng_comm_end(g, core, CAT_A2A, t0, "a2a", layer, ph);
}

/* The additions of a ring all-reduce, which the collective itself does not time: every element is read
 * twice, added and written once, at the vector unit's rate or HBM's, whichever is slower. */
static void eng_reduce_math(engine *g, int core, double elements, double elem_bytes, int layer, int ph)
{
    if (elements <= 0.0)
        return;
    eng_exec(g, core, CAT_ALLREDUCE, cost_vector_s(&g->chip, elements, 3.0 * elements * elem_bytes), "reduce",
             layer, ph);
}

/* All-reduce of 'bytes' per chip among the chips of the caller's group (group ids per chip). */
static void eng_allreduce(engine *g, int core, double bytes, const eng_groups *gr, const char *name, int layer,
                          int ph)
{
    eng_sync(g, core, layer, ph);
    double t0 = simgrid_get_clock();
    if (is_leader(g, core) && bytes > 0.0) {
        errbuf e;
        int chip = plan_chip(&g->p, core);
        int rc;
        if (gr->n == 1)
            rc = coll_allreduce_all(g->world, chip, bytes, &e);
        else
            rc = coll_allreduce_group(g->world, chip, gr->members + gr->start[gr->gid[chip]], gr->size[gr->gid[chip]],
                                      bytes, &e);
        if (rc != 0)
            eng_fail(g, &e);
    }
    eng_comm_end(g, core, CAT_ALLREDUCE, t0, name, layer, ph);
    /* A group of one single-core chip (one GPU) has nothing to add; a chip of several cores still combines
     * its cores' slices, alone or not. */
    int group_n = gr->n == 1 ? g->p.nchips : gr->size[gr->gid[plan_chip(&g->p, core)]];
    if (group_n == 1 && g->p.cores_per_chip == 1)
        return;
    eng_reduce_math(g, core, bytes / g->p.cores_per_chip / ENGINE_GRAD_BYTES, ENGINE_GRAD_BYTES, layer, ph);
}

/* Model-parallel all-reduce of the [tokens, d_model] activations (Switch paper section 5) among the m cores
 * of a data shard: over the links when they span chips, as an on-chip memory op when they share one. */
static void eng_model_allreduce(engine *g, int core, double tokens, int layer, int ph)
{
    int mp = g->p.model_par;
    if (mp == 1)
        return;
    double bytes = tokens * g->m->d_model * g->cfg->act_bytes;
    if (mp <= g->p.cores_per_chip) {
        /* read the peer's slice, add, write: 3 passes over the tensor, 1 add per element */
        eng_reduce_math(g, core, bytes / g->cfg->act_bytes, g->cfg->act_bytes, layer, ph);
        return;
    }
    int n = mp / g->p.cores_per_chip;                              /* chips of this shard, consecutive */
    const int *members = g->chip_ids + plan_chip(&g->p, plan_core(&g->p, core / mp, 0));
    eng_sync(g, core, layer, ph);
    long seq = ++g->seq[core];
    double t0 = simgrid_get_clock();
    if (core == 0)
        g->ar_count++;
    if (is_leader(g, core)) {
        int chip = plan_chip(&g->p, core);
        double chip_bytes = bytes * g->p.cores_per_chip;
        ar_memo *mm = NULL;
        for (int i = 0; i < g->n_armemo; i++)
            if (g->armemo[i].bytes == chip_bytes)
                mm = &g->armemo[i];
        if (g->cfg->reuse && mm != NULL && mm->seq != seq) {
            sg_actor_sleep_for(mm->dur[chip]);
            if (core == 0)
                g->ar_reused++;
        } else {
            errbuf e;
            if (mm == NULL && g->cfg->reuse && g->n_armemo < ENGINE_AR_MEMO) {
                mm = &g->armemo[g->n_armemo];
                mm->dur = calloc((size_t)g->p.nchips, sizeof *mm->dur);
                if (mm->dur != NULL) {
                    mm->bytes = chip_bytes;
                    mm->seq = seq;
                    g->n_armemo++;
                } else {
                    mm = NULL;
                }
            }
            if (coll_allreduce_group(g->world, chip, members, n, chip_bytes, &e) != 0)
                eng_fail(g, &e);
            if (mm != NULL && mm->seq == seq)
                mm->dur[chip] = simgrid_get_clock() - t0;
        }
    }
    eng_comm_end(g, core, CAT_ALLREDUCE, t0, "allreduce", layer, ph);
    eng_reduce_math(g, core, bytes / g->cfg->act_bytes, g->cfg->act_bytes, layer, ph);
}

static void eng_progress(engine *g, int core, int done, int total)
{
    if (!g->cfg->progress || core != 0)
        return;
    double now = wall_now();
    if (now - g->wall_last < ENGINE_PROGRESS_S && (done < total || g->wall_last == g->wall0))
        return;
    g->wall_last = now;
    fprintf(stderr, "switchsim: %d/%d layer passes, simulated %.4f s, wall %.1f s\n", done, total,
            simgrid_get_clock(), now - g->wall0);
}

/* Padded (einsum) dispatch: whole capacity buffers on the wire. */
static int eng_padded(const engine_config *cfg)
{
    return cfg->dispatch == COST_DISPATCH_EINSUM;
}

/* Offset of the byte matrix of Switch layer 'sl'. */
static size_t eng_mat(const engine *g, int sl, int enc)
{
    size_t nn = (size_t)g->p.nchips * g->p.nchips;
    return (eng_padded(g->cfg) ? (enc ? 0 : 1) : (size_t)sl) * nn;
}

/* Routes this core's groups of Switch layer 'sl'.  Exact dispatch: adds the kept tokens to the layer's
 * byte matrix and to the receiving experts' rows.  Padded: the matrix is fixed; routing sets the drops. */
static void eng_route_layer(engine *g, int core, int layer, int sl, int enc)
{
    double w0 = wall_now();
    const plan *p = &g->p;
    int E = p->experts;
    int shard = core / p->model_par, slice = core % p->model_par;
    int C = enc ? p->capacity_enc : p->capacity_dec;
    double tok_bytes = (double)g->m->d_model * g->cfg->act_bytes;
    double *mat = g->m1 + eng_mat(g, sl, enc);
    int src_chip = plan_chip(p, core);
    int *kept = malloc((size_t)E * sizeof *kept);
    double *sum = calloc((size_t)E, sizeof *sum);
    if (kept == NULL || sum == NULL) {
        errbuf e;
        errbuf_set(&e, "out of memory routing");
        eng_fail(g, &e);
        free(kept);
        free(sum);
        return;
    }
    for (int grp = 0; grp < p->groups; grp++) {
        errbuf e;
        double lb;
        int dropped = route_group(g->route, sl, shard, grp, slice == 0, kept, &lb, &e);
        if (dropped < 0) {
            eng_fail(g, &e);
            break;
        }
        for (int e2 = 0; e2 < E; e2++)
            sum[e2] += kept[e2];
        if (slice == 0) {   /* the m slices of a shard share one routing decision: count it once */
            g->ldropped[layer] += dropped;
            g->lchoices[layer] += (long)(enc ? p->group_enc : p->group_dec) * p->top_k;
            g->llb[layer] += lb;
            g->llb_n[layer]++;
        }
    }
    double sent = 0.0;
    if (eng_padded(g->cfg))     /* whole capacity buffers to every expert on another core */
        sent = (double)g->remote_experts[core] * p->groups * C * tok_bytes;
    else
        for (int e = 0; e < E; e++) {
            int dst = plan_core(p, plan_expert_owner(p, shard, e), slice);
            if (dst != core)
                sent += sum[e] * tok_bytes;
            mat[(size_t)src_chip * p->nchips + plan_chip(p, dst)] += sum[e] * tok_bytes;
            g->recv[((size_t)sl * p->cores + dst) * p->experts_per_core + e % p->experts_per_core] += sum[e];
            g->kept_sent += (long)sum[e];
        }
    g->lbytes[layer] += 2.0 * sent;   /* sent in a2a #1; the same total goes out in #2, and again backward */
    free(kept);
    free(sum);
    g->wall_route_s += wall_now() - w0;
}

/* Padded dispatch: every shard sends groups x C slots to every expert, whatever the routing; and how many of
 * a core's destination experts are on other cores. */
static void eng_padded_matrices(engine *g)
{
    const plan *p = &g->p;
    double tok_bytes = (double)g->m->d_model * g->cfg->act_bytes;
    for (int enc = 1; enc >= 0; enc--) {
        double *mat = g->m1 + eng_mat(g, 0, enc);
        double slot_bytes = (double)p->groups * (enc ? p->capacity_enc : p->capacity_dec) * tok_bytes;
        for (int core = 0; core < p->cores; core++) {
            if (enc)                          /* the same owners in both stacks: counted once */
                g->remote_experts[core] = 0;
            for (int e = 0; e < p->experts; e++) {
                int dst = plan_core(p, plan_expert_owner(p, core / p->model_par, e), core % p->model_par);
                mat[(size_t)plan_chip(p, core) * p->nchips + plan_chip(p, dst)] += slot_bytes;
                if (enc)
                    g->remote_experts[core] += dst != core;
            }
        }
    }
}

/* dst <- src transposed (n x n), in 64 x 64 tiles: both stay in cache on the 4096-chip matrices. */
static void eng_transpose(double *dst, const double *src, int n)
{
    enum { TILE = 64 };
    for (int i0 = 0; i0 < n; i0 += TILE)
        for (int j0 = 0; j0 < n; j0 += TILE)
            for (int i = i0; i < i0 + TILE && i < n; i++)
                for (int j = j0; j < j0 + TILE && j < n; j++)
                    dst[(size_t)j * n + i] = src[(size_t)i * n + j];
}

/* Rows each of this core's experts computes in Switch layer 'sl'. */
static void eng_expert_rows(const engine *g, double *rows, int core, int sl, int enc)
{
    const plan *p = &g->p;
    int C = enc ? p->capacity_enc : p->capacity_dec;
    int senders = p->cores_per_expert > 1 ? p->experts : p->data;
    for (int e = 0; e < p->experts_per_core; e++)
        rows[e] = eng_padded(g->cfg) ? (double)senders * p->groups * C
                                 : g->recv[((size_t)sl * p->cores + core) * p->experts_per_core + e];
}

/* What each implementation profile runs [SOURCES 4.2, 4.3]: its largest group, capacity rule, how positions
 * are counted, the training jitter of a top-1 layer, and the element-wise passes that build the [G,S,E,C]
 * combine and dispatch tensors (passes = per_choice x k + fixed).
 * - meshtf (Mesh TensorFlow moe.py, what the Switch paper ran): group_size 1024 (its default; the rule of
 *   _split_into_groups, the smallest G >= tokens/1024 that is a multiple of the data-parallel cores and
 *   divides the tokens, is per core the plan's own rule); C = max(min(S, int(S cf/E)), min_capacity) for k 1
 *   and 2; each cumsum a triangular [S,S] einsum (2 G E S^2 fp32 FLOPs, k of them); input jitter 1e-2 over
 *   [G,S,D] for top-1; combine = gate x one_hot(E) x one_hot(C) per choice (k passes), k-1 adds, 3 casts.
 * - flaxformer (T5X, the presets' gin values): the preset's group size, C rounded; jnp.cumsum as a vector
 *   op; no jitter; no build passes: assumption, XLA fusing the one-hot producers into the einsums (the H200
 *   program, a JAX one, is predicted within a few percent without them).
 * - lingvo (GShard): the preset's group size; C = int(S cf/E), 4 if 0, up to a multiple of 4; tf.cumsum,
 *   sequential (GShard 5.2: negligible at 128 experts); no jitter; k products, k-1 adds and one cast:
 *   assumption (the casts of Lingvo's gating were not read).
 * meshtf's top-2 also runs Mesh TF's default 'random' second-expert policy (the second choice kept with
 * probability min(1, g2/0.2), switch_second_random) on router routing; the other profiles keep both choices
 * (Flaxformer's top-k has no such policy; Lingvo's random routing was not read: assumption). */
typedef struct {
    int group_size;                  /* the largest group, 0: the preset's */
    switch_cap_mode cap;
    int cumsum_einsum;
    double jitter_top1;
    double build_passes_per_choice, build_passes_fixed;
} eng_impl;
static const eng_impl IMPL[MODEL_IMPL_N] = {
    [MODEL_IMPL_FLAXFORMER] = { 0, SWITCH_CAP_ROUND, 0, 0.0, 0.0, 0.0 },
    [MODEL_IMPL_MESHTF] = { 1024, SWITCH_CAP_FLOOR, 1, 1e-2, 2.0, 2.0 },
    [MODEL_IMPL_LINGVO] = { 0, SWITCH_CAP_LINGVO, 0, 0.0, 2.0, 0.0 },
};

static void eng_switch_layer(engine *g, int core, int layer, int ph, double tokens)
{
    const plan *p = &g->p;
    const model_cfg *m = g->m;
    int sl = g->sparse_index[layer];
    int enc = layer < m->enc_layers;
    int S = enc ? p->group_enc : p->group_dec;
    int C = enc ? p->capacity_enc : p->capacity_dec;
    int bwd = ph == PH_BWD;
    cost_dispatch dmode = eng_padded(g->cfg) ? COST_DISPATCH_EINSUM : COST_DISPATCH_GATHER;
    size_t mat_off = eng_mat(g, sl, enc);
    /* padded: one key per matrix, m1 and m2 of enc and dec (m2's is m1's when they are equal); exact: none */
    long key = eng_padded(g->cfg) ? (enc ? 0 : 2) : -1;
    long key2 = key < 0 ? -1 : g->m2_is_m1[enc ? 0 : 1] ? key : key + 1;
    double *rows = g->rows + (size_t)core * p->experts_per_core;   /* per core: execs below may yield */
    int epc = p->experts_per_core;
    const eng_impl *pi = &IMPL[g->impl];
    cost_work router, gating, build, disp, comb, ffn, ffn_fwd;
    cost_work_init(&router);
    cost_work_init(&gating);
    cost_work_init(&build);
    cost_work_init(&disp);
    cost_work_init(&comb);
    cost_work_init(&ffn);
    cost_work_init(&ffn_fwd);
    cost_router_work(&router, &g->chip, m, tokens, p->experts, p->top_k, bwd);
    cost_dispatch_work(&disp, &g->chip, m, dmode, p->groups, S, p->experts, C, bwd ? 2 : 0);
    cost_dispatch_work(&comb, &g->chip, m, dmode, p->groups, S, p->experts, C, bwd ? 1 : 0);
    if (!bwd) {   /* what the profile adds to gating: no gradient flows through it */
        if (g->cfg->jitter > 0.0)
            cost_jitter_work(&gating, &g->chip, m, tokens);
        if (pi->cumsum_einsum)
            cost_cumsum_einsum_work(&gating, &g->chip, p->groups, S, p->experts, p->top_k);
        if (dmode == COST_DISPATCH_EINSUM)
            cost_combine_build_work(&build, &g->chip, p->groups, S, p->experts, C,
                                    pi->build_passes_per_choice * p->top_k + pi->build_passes_fixed);
    }

    if (!bwd) {
        eng_route_layer(g, core, layer, sl, enc);
        eng_work(g, core, CAT_ROUTER, &gating, 1.0, "gating", layer, ph);
        eng_work(g, core, CAT_ROUTER, &router, 1.0, "router", layer, ph);
        eng_work(g, core, CAT_DISPATCH, &build, 1.0, "combine_build", layer, ph);
        eng_work(g, core, CAT_DISPATCH, &disp, 1.0, "dispatch", layer, ph);
        eng_alltoall(g, core, g->m1 + mat_off, key, layer, ph);
        /* every core wrote its row before the all-to-all's barrier, and a2a #2 starts with another one that
         * core 0 reaches only after this: the combine matrix is ready in time */
        if (core == 0 && !eng_padded(g->cfg))
            eng_transpose(g->m2 + mat_off, g->m1 + mat_off, p->nchips);
        eng_expert_rows(g, rows, core, sl, enc);
        cost_expert_ffn_work(&ffn, &g->chip, m, rows, epc, p->model_par, 0);
        eng_work(g, core, CAT_COMPUTE, &ffn, 1.0, "expert_ffn", layer, ph);
        eng_alltoall(g, core, g->m2 + mat_off, key2, layer, ph);
        eng_work(g, core, CAT_DISPATCH, &comb, 1.0, "combine", layer, ph);
    } else {
        /* gradients retrace the forward: combine, a2a toward the experts, expert FFN, a2a back, dispatch, router */
        eng_work(g, core, CAT_DISPATCH, &comb, 1.0, "combine", layer, ph);
        eng_alltoall(g, core, g->m1 + mat_off, key, layer, ph);
        eng_expert_rows(g, rows, core, sl, enc);
        if (g->remat) {
            cost_expert_ffn_work(&ffn_fwd, &g->chip, m, rows, epc, p->model_par, 0);
            eng_work(g, core, CAT_COMPUTE, &ffn_fwd, 1.0, "expert_ffn", layer, ph);
        }
        cost_expert_ffn_work(&ffn, &g->chip, m, rows, epc, p->model_par, 1);
        eng_work(g, core, CAT_COMPUTE, &ffn, 1.0, "expert_ffn", layer, ph);
        eng_alltoall(g, core, g->m2 + mat_off, key2, layer, ph);
        eng_work(g, core, CAT_DISPATCH, &disp, 1.0, "dispatch", layer, ph);
        eng_work(g, core, CAT_ROUTER, &router, 1.0, "router", layer, ph);
    }
}

/* One layer of one stack, forward or backward, on one core. */
static void eng_layer(engine *g, int core, int layer, int ph)
{
    const plan *p = &g->p;
    const model_cfg *m = g->m;
    int enc = layer < m->enc_layers;
    int bwd = ph == PH_BWD;
    int mp = p->model_par;
    double T = enc ? (double)p->tokens_enc : (double)p->tokens_dec;
    double t0 = simgrid_get_clock() + g->pending[core];   /* when the core's ops so far end */
    size_t li = (size_t)layer * N_PH + ph;
    if (t0 < g->lt0[li])
        g->lt0[li] = t0;
    int passes = bwd && g->remat ? 2 : 1;   /* remat recomputes the forward before its backward */
    for (int pass = 0; pass < passes; pass++) {
        int b = pass == passes - 1 ? bwd : 0;
        cost_work self, cross, norm, ffn;
        cost_work_init(&self);
        cost_work_init(&cross);
        cost_work_init(&norm);
        cost_work_init(&ffn);
        cost_attention_work(&self, &g->chip, m, T, enc ? m->enc_seq : m->dec_seq, enc ? m->enc_seq : m->dec_seq, mp, b);
        if (!enc)
            cost_attention_work(&cross, &g->chip, m, T, m->dec_seq, m->enc_seq, mp, b);
        g->hw[core] += self.hw_flops + cross.hw_flops;
        eng_exec(g, core, CAT_COMPUTE, enc ? self.t_s : self.t_s + cross.t_s, "attention", layer, ph);
        cost_layernorm_residual_work(&norm, &g->chip, m, T, b);
        eng_work(g, core, CAT_COMPUTE, &norm, enc ? 2 : 3, "norm", layer, ph);
        if (g->sparse_index[layer] < 0) {
            cost_dense_ffn_work(&ffn, &g->chip, m, T, mp, b);
            eng_work(g, core, CAT_COMPUTE, &ffn, 1.0, "ffn", layer, ph);
        }
    }
    eng_model_allreduce(g, core, T, layer, ph);                 /* attention output */
    if (!enc)
        eng_model_allreduce(g, core, T, layer, ph);             /* cross-attention output */
    if (g->sparse_index[layer] >= 0)
        eng_switch_layer(g, core, layer, ph, T);
    eng_model_allreduce(g, core, T, layer, ph);                 /* FFN output */
    double t1 = simgrid_get_clock() + g->pending[core];
    if (t1 > g->lt1[li])
        g->lt1[li] = t1;
}

typedef struct {
    engine *g;
    int core;
} core_arg;

static void core_actor(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const core_arg *arg = sg_actor_self_get_data();
    engine *g = arg->g;
    int core = arg->core;
    const model_cfg *m = g->m;
    const plan *p = &g->p;
    double Tenc = (double)p->tokens_enc, Tdec = (double)p->tokens_dec;
    int done = 0, total = 2 * g->nlayers;

    cost_work w[4];
    for (int i = 0; i < 4; i++)
        cost_work_init(&w[i]);
    cost_embed_work(&w[0], &g->chip, m, Tenc + Tdec, 0);
    cost_vocab_loss_work(&w[1], &g->chip, m, Tdec, p->model_par, 0);
    cost_vocab_loss_work(&w[2], &g->chip, m, Tdec, p->model_par, 1);
    cost_embed_work(&w[3], &g->chip, m, Tenc + Tdec, 1);
    eng_work(g, core, CAT_COMPUTE, &w[0], 1.0, "embed", -1, PH_FWD);
    for (int l = 0; l < g->nlayers; l++) {
        eng_layer(g, core, l, PH_FWD);
        eng_progress(g, core, ++done, total);
    }
    eng_work(g, core, CAT_COMPUTE, &w[1], 1.0, "vocab_loss", -1, PH_FWD);
    eng_work(g, core, CAT_COMPUTE, &w[2], 1.0, "vocab_loss", -1, PH_BWD);
    for (int l = g->nlayers - 1; l >= 0; l--) {
        eng_layer(g, core, l, PH_BWD);
        eng_progress(g, core, ++done, total);
    }
    eng_work(g, core, CAT_COMPUTE, &w[3], 1.0, "embed", -1, PH_BWD);

    /* Gradient all-reduces: dense parameters over the data-parallel replicas, expert parameters over the
     * cores that share an expert.  Per chip, the bytes of the slices its cores hold. */
    double dense_local = model_params_dense(m) / p->model_par;
    double expert_local = p->experts > 1 ? model_params_expert(m) / p->experts * p->experts_per_core / p->model_par : 0;
    double slices_per_chip = p->model_par < p->cores_per_chip ? p->model_par : p->cores_per_chip;
    eng_allreduce(g, core, dense_local * ENGINE_GRAD_BYTES * slices_per_chip, &g->grad, "allreduce", -1, PH_BWD);
    if (g->has_expert_groups)
        eng_allreduce(g, core, expert_local * ENGINE_GRAD_BYTES * p->cores_per_chip, &g->expert, "allreduce", -1,
                      PH_BWD);
    eng_exec(g, core, CAT_COMPUTE, cost_optimizer_s(&g->chip, dense_local + expert_local), "optimizer", -1, PH_BWD);
    eng_sync(g, core, -1, PH_BWD);
    if (core == 0)
        g->t_end = simgrid_get_clock();
    g->finished++;
}

/* Groups chips by a key per chip (chips with equal keys form one all-reduce ring, in chip order). */
static int eng_make_groups(int *gid, int *members, int *start, int *size, const long *key, int nchips)
{
    int ng = 0;
    for (int c = 0; c < nchips; c++) {
        gid[c] = -1;
        for (int d = 0; d < c; d++)
            if (key[d] == key[c]) {
                gid[c] = gid[d];
                break;
            }
        if (gid[c] < 0)
            gid[c] = ng++;
    }
    int pos = 0;
    for (int k = 0; k < ng; k++) {
        start[k] = pos;
        for (int c = 0; c < nchips; c++)
            if (gid[c] == k)
                members[pos++] = c;
        size[k] = pos - start[k];
    }
    return ng;
}

static void eng_free(engine *g)
{
    if (g->chipbar != NULL)
        for (int c = 0; c < g->p.nchips; c++)
            if (g->chipbar[c] != NULL)
                sg_barrier_destroy(g->chipbar[c]);
    free(g->chipbar);
    if (g->all != NULL)
        sg_barrier_destroy(g->all);
    coll_world_free(g->world);
    route_ctx_free(g->route);
    timeline_free(g->tl);
    free(g->sparse_index);
    free(g->m1);
    free(g->m2);
    free(g->remote_experts);
    free(g->a2a_calls);
    free(g->a2a_chip_calls);
    free(g->a2a_known);
    free(g->a2a_dur);
    free(g->recv);
    free(g->rows);
    free(g->args);
    free(g->seq);
    free(g->pending);
    free(g->chip_ids);
    for (int i = 0; i < g->n_armemo; i++)
        free(g->armemo[i].dur);
    eng_groups *sets[] = { &g->grad, &g->expert };
    for (int i = 0; i < 2; i++) {
        free(sets[i]->gid);
        free(sets[i]->members);
        free(sets[i]->start);
        free(sets[i]->size);
    }
    free(g->acct);
    free(g->hw);
    free(g->lacct);
    free(g->lt0);
    free(g->lt1);
    free(g->lbytes);
    free(g->ldropped);
    free(g->lchoices);
    free(g->llb);
    free(g->llb_n);
}

/* Bounded copy that always terminates (output columns have fixed widths). */
static void eng_copy(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

engine_config engine_config_default(void)
{
    engine_config c;
    memset(&c, 0, sizeof c);
    route_parse(&c.routing, "router", NULL);
    c.seed = 1;
    c.cap_round = SWITCH_CAP_AUTO;
    c.impl = ENGINE_IMPL_PRESET;
    c.jitter = -1.0;
    c.dispatch = COST_DISPATCH_EINSUM;
    c.a2a = COLL_A2A_AUTO;
    c.network = NETMODEL_HW;
    c.act_bytes = 0;
    c.precision = COST_PRECISION_SELECTIVE;
    c.remat = PLAN_REMAT_AUTO;
    c.reuse = 1;
    c.a2a_fast = 1;
    return c;
}

/* ---- one step, top to bottom: start SimGrid, choose the plan, allocate, group, run, collect ---- */

/* The all-to-all algorithm for the platform: phased on a torus unless the config says direct; direct on GPUs,
 * which refuse phased.  Refuses a direct all-to-all SimGrid cannot simulate in reasonable time. */
static int eng_resolve_a2a(engine_config *cfg, const platform_torus *t, const model_cfg *m, errbuf *err)
{
    long flows = (long)t->nchips * (t->nchips - 1);
    if (t->family == COST_FAMILY_GPU) {
        /* The phased algorithm forwards data along torus rings; through a crossbar and a non-blocking fat tree
         * every GPU pair has its own route, so the all-to-all is direct (as NCCL's send/recv all-to-all). */
        if (cfg->a2a == COLL_A2A_PHASED || cfg->a2a == COLL_A2A_PHASED_XY)
            return errbuf_set(err, "--a2a phased is the torus algorithm (neighbour ring steps per dimension); %s is "
                              "a GPU platform (NVSwitch nodes, a NIC per GPU), where the all-to-all is direct: "
                              "leave --a2a out or give --a2a direct", cfg->platform);
        cfg->a2a = COLL_A2A_DIRECT;
        if (m->experts > 1 && t->nchips > ENGINE_DIRECT_CHIPS_MAX)
            return errbuf_set(err, "%s: %d GPUs is %ld flows per all-to-all, beyond what SimGrid simulates in "
                              "reasonable time (its cost grows about as chips^4.5), and a GPU platform "
                              "has only the direct all-to-all: run Switch models on at most %d GPUs", cfg->platform,
                              t->nchips, flows, ENGINE_DIRECT_CHIPS_MAX);
        return 0;
    }
    if (cfg->a2a == COLL_A2A_AUTO)
        cfg->a2a = COLL_A2A_PHASED;
    if (cfg->a2a == COLL_A2A_DIRECT && t->nchips > ENGINE_DIRECT_CHIPS_MAX)
        return errbuf_set(err, "--a2a direct: %d chips is %ld flows per all-to-all, beyond what SimGrid simulates in "
                          "reasonable time (its cost grows about as chips^4.5: minutes per all-to-all at 256 hosts"
                          "); use --a2a phased, or direct on at most %d chips", t->nchips, flows,
                          ENGINE_DIRECT_CHIPS_MAX);
    return 0;
}

/* SimGrid on the platform with the config's network model; the chip's numbers (the platform's, or the
 * config's in their place); the all-to-all algorithm resolved into *cfg. */
static int eng_start(engine *g, engine_config *cfg, errbuf *err)
{
    if (platform_precheck(cfg->platform, err) != 0)
        return -1;
    simproc_simgrid_start(cfg->platform, cfg->network, 1);
    if (platform_read(&g->chip, &g->torus, cfg->platform, err) != 0)
        return -1;
    netmodel_apply(cfg->network, &g->torus);
    if (cfg->chip != NULL) {
        if (cfg->chip->family != g->chip.family || cfg->chip->cores_per_chip != g->chip.cores_per_chip)
            return errbuf_set(err, "engine: the chip numbers given (%s) are not of the platform's chip family or "
                              "core count (%s)", cfg->chip->chip, g->chip.chip);
        g->chip = *cfg->chip;
    }
    g->chip.precision = cfg->precision;
    return eng_resolve_a2a(cfg, &g->torus, g->m, err);
}

/* The routing of every Switch layer (router samples, a distribution or a trace) and the timeline. */
static int eng_alloc_routing(engine *g, errbuf *err)
{
    const engine_config *cfg = g->cfg;
    const model_cfg *m = g->m;
    g->nlayers = m->enc_layers + m->dec_layers;
    g->sparse_index = malloc((size_t)g->nlayers * sizeof *g->sparse_index);
    if (g->sparse_index == NULL)
        return errbuf_set(err, "out of memory setting up the simulation");
    for (int l = 0; l < g->nlayers; l++) {
        int in_stack = l < m->enc_layers ? l : l - m->enc_layers;
        g->sparse_index[l] = model_layer_is_sparse(m, in_stack) ? g->nsparse++ : -1;
    }
    double second = g->impl == MODEL_IMPL_MESHTF ? SWITCH_SECOND_THRESHOLD : 0.0;   /* MTF's default 'random' */
    g->route = route_ctx_alloc(&cfg->routing, m, &g->p, cfg->seed, cfg->jitter, second, cfg->dump_routing != NULL,
                               err);
    if (g->route == NULL)
        return -1;
    if (cfg->timeline == NULL)
        return 0;
    int *mask = NULL;
    if (cfg->trace_cores != NULL) {
        mask = calloc((size_t)g->p.cores, sizeof *mask);
        if (mask == NULL)
            return errbuf_set(err, "out of memory setting up the simulation");
        if (timeline_parse_cores(mask, g->p.cores, cfg->trace_cores, err) != 0) {
            free(mask);
            return -1;
        }
    }
    g->tl = timeline_alloc(g->p.nchips, g->p.cores_per_chip, mask);
    free(mask);
    return g->tl == NULL ? errbuf_set(err, "out of memory setting up the simulation") : 0;
}

/* The byte matrices, the accounting and the per-core scratch the actors share; the padded matrices, known
 * before the run, are built here. */
static int eng_alloc(engine *g, errbuf *err)
{
    if (eng_alloc_routing(g, err) != 0)
        return -1;
    const plan *p = &g->p;
    size_t nn = (size_t)p->nchips * p->nchips, nl = (size_t)g->nlayers, cores = (size_t)p->cores;
    g->nmat = eng_padded(g->cfg) ? 2 : (g->nsparse > 0 ? g->nsparse : 1);
    g->m1 = calloc((size_t)g->nmat * nn, sizeof *g->m1);
    g->m2 = calloc((size_t)g->nmat * nn, sizeof *g->m2);
    g->recv = calloc((size_t)(g->nsparse > 0 ? g->nsparse : 1) * cores * p->experts_per_core, sizeof *g->recv);
    g->rows = calloc(cores * p->experts_per_core, sizeof *g->rows);
    g->remote_experts = calloc(cores, sizeof *g->remote_experts);
    g->a2a_calls = calloc(cores, sizeof *g->a2a_calls);
    g->a2a_chip_calls = calloc((size_t)p->nchips, sizeof *g->a2a_chip_calls);
    g->a2a_known = calloc((size_t)p->nchips, sizeof *g->a2a_known);
    g->a2a_dur = calloc((size_t)p->nchips, sizeof *g->a2a_dur);
    g->seq = calloc(cores, sizeof *g->seq);
    g->pending = calloc(cores, sizeof *g->pending);
    g->hw = calloc(cores, sizeof *g->hw);
    g->chip_ids = malloc((size_t)p->nchips * sizeof *g->chip_ids);
    g->acct = calloc(cores * N_CAT, sizeof *g->acct);
    g->lacct = calloc(nl * N_PH * N_CAT, sizeof *g->lacct);
    g->lt0 = malloc(nl * N_PH * sizeof *g->lt0);
    g->lt1 = calloc(nl * N_PH, sizeof *g->lt1);
    g->lbytes = calloc(nl, sizeof *g->lbytes);
    g->ldropped = calloc(nl, sizeof *g->ldropped);
    g->lchoices = calloc(nl, sizeof *g->lchoices);
    g->llb = calloc(nl, sizeof *g->llb);
    g->llb_n = calloc(nl, sizeof *g->llb_n);
    if (!g->m1 || !g->m2 || !g->recv || !g->rows || !g->remote_experts || !g->a2a_calls || !g->a2a_chip_calls ||
        !g->a2a_known || !g->a2a_dur || !g->seq || !g->pending || !g->hw || !g->chip_ids || !g->acct || !g->lacct ||
        !g->lt0 || !g->lt1 || !g->lbytes || !g->ldropped || !g->lchoices || !g->llb || !g->llb_n)
        return errbuf_set(err, "out of memory setting up the simulation");
    for (size_t i = 0; i < nl * N_PH; i++)
        g->lt0[i] = INFINITY;
    for (int c = 0; c < p->nchips; c++)
        g->chip_ids[c] = c;
    if (eng_padded(g->cfg)) {
        eng_padded_matrices(g);
        for (int i = 0; i < g->nmat; i++)
            eng_transpose(g->m2 + (size_t)i * nn, g->m1 + (size_t)i * nn, p->nchips);
        for (int i = 0; i < g->nmat; i++)   /* a symmetric m1 is its own combine matrix: one key for both */
            g->m2_is_m1[i] = memcmp(g->m2 + (size_t)i * nn, g->m1 + (size_t)i * nn, nn * sizeof *g->m1) == 0;
    }
    return 0;
}

/* One set of all-reduce groups: chips with equal keys form one ring, in chip order. */
static int eng_groups_alloc(eng_groups *gr, const long *key, int nchips)
{
    gr->gid = malloc((size_t)nchips * sizeof(int));
    gr->members = malloc((size_t)nchips * sizeof(int));
    gr->start = malloc((size_t)(nchips + 1) * sizeof(int));
    gr->size = malloc((size_t)(nchips + 1) * sizeof(int));
    if (!gr->gid || !gr->members || !gr->start || !gr->size)
        return -1;
    gr->n = eng_make_groups(gr->gid, gr->members, gr->start, gr->size, key, nchips);
    return 0;
}

/* The gradient all-reduce groups: dense parameters among the chips whose cores hold the same model slices,
 * expert parameters among the chips whose cores hold the same (expert, slice) pairs (replicas). */
static int eng_build_groups(engine *g, errbuf *err)
{
    const plan *p = &g->p;
    long *key = malloc((size_t)p->nchips * sizeof *key);
    int rc = key == NULL ? -1 : 0;
    for (int c = 0; rc == 0 && c < p->nchips; c++)
        key[c] = (c * p->cores_per_chip) % p->model_par;
    if (rc == 0)
        rc = eng_groups_alloc(&g->grad, key, p->nchips);
    if (rc == 0 && p->cores_per_expert > 1 && g->nsparse > 0) {
        long base = (long)p->experts * p->model_par;
        for (int c = 0; c < p->nchips; c++) {
            key[c] = 0;
            for (int i = 0; i < p->cores_per_chip; i++) {
                int core = c * p->cores_per_chip + i;
                key[c] = key[c] * base + (long)((core / p->model_par) % p->experts) * p->model_par +
                         core % p->model_par;
            }
        }
        g->has_expert_groups = 1;
        rc = eng_groups_alloc(&g->expert, key, p->nchips);
    }
    free(key);
    return rc == 0 ? 0 : errbuf_set(err, "out of memory setting up the simulation");
}

/* The collectives' world, the barriers and one actor per core; then SimGrid runs the step.  Checks after the
 * run that exact dispatch delivered every token it sent. */
static int eng_run_actors(engine *g, errbuf *err)
{
    const plan *p = &g->p;
    g->world = coll_world_alloc(g->torus.ndims, g->torus.dims, g->torus.wrap, err);
    if (g->world == NULL)
        return -1;
    if (g->torus.family == COST_FAMILY_GPU && coll_world_set_switched(g->world, g->torus.gpus_per_node, err) != 0)
        return -1;
    coll_world_set_reuse(g->world, g->cfg->reuse);
    errbuf why = { "" };
    if (g->cfg->a2a_fast && !coll_world_switched(g->world) && !coll_world_set_fast(g->world, &why))
        eng_copy(g->a2a_flows_why, sizeof g->a2a_flows_why, why.msg);
    g->all = sg_barrier_init((unsigned)p->cores);
    g->chipbar = calloc((size_t)p->nchips, sizeof *g->chipbar);
    core_arg *args = calloc((size_t)p->cores, sizeof *args);
    g->args = args;
    if (g->chipbar == NULL || args == NULL)
        return errbuf_set(err, "out of memory setting up the simulation");
    for (int c = 0; c < p->nchips; c++)
        g->chipbar[c] = sg_barrier_init((unsigned)p->cores_per_chip);
    for (int core = 0; core < p->cores; core++) {
        char host[32], name[32];
        args[core].g = g;
        args[core].core = core;
        snprintf(host, sizeof host, "chip%d", plan_chip(p, core));
        snprintf(name, sizeof name, "core%d", core);
        sg_actor_t a = sg_actor_init(name, sg_host_by_name(host));
        sg_actor_set_data(a, &args[core]);
        sg_actor_start(a, core_actor, 0, NULL);
    }
    simgrid_run();
    if (g->failed) {
        *err = g->err;
        return -1;
    }
    if (g->finished != p->cores)
        return errbuf_set(err, "the simulation deadlocked: %d of %d cores finished the step (a platform number out "
                          "of any physical range?)", g->finished, p->cores);
    if (eng_padded(g->cfg) || g->nsparse == 0)
        return 0;
    double recv = 0.0;
    for (size_t i = 0; i < (size_t)g->nsparse * p->cores * p->experts_per_core; i++)
        recv += g->recv[i];
    if ((long)recv != g->kept_sent)
        return errbuf_set(err, "bug: experts received %.0f tokens, cores sent %ld", recv, g->kept_sent);
    return 0;
}

/* What every step must satisfy; a number far outside physics (an op overhead of 1e308 s) breaks it, and then
 * the run fails instead of printing nonsense: every time finite and >= 0, the step > 0, and the per-core
 * shares summing to the step, relative 1e-6, plus 1e-9 s (surf/precision: SimGrid ends an execution within it
 * of its cost-model time, which is what the shares book) per execution of a core. */
static int eng_check_step(const engine_times *r, double execs_per_core, errbuf *err)
{
    const double t[] = { r->step_time_s, r->compute_s, r->router_s, r->dispatch_combine_s, r->a2a_s,
                         r->allreduce_s, r->idle_s };
    double sum = 0.0;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (!isfinite(t[i]) || t[i] < 0)
            return errbuf_set(err, "the simulated step has a non-finite or negative time (step %g s, compute %g s, "
                              "a2a %g s): a platform or model number out of any physical range?", r->step_time_s,
                              r->compute_s, r->a2a_s);
        if (i > 0)
            sum += t[i];
    }
    if (!(r->step_time_s > 0) || fabs(sum - r->step_time_s) > 1e-9 * (1.0 + execs_per_core) + 1e-6 * r->step_time_s)
        return errbuf_set(err, "the simulated step is inconsistent: its shares sum to %.9g s, the step is %.9g s "
                          "(a platform or model number out of any physical range?)", sum, r->step_time_s);
    return 0;
}

static void eng_fill_times(engine_times *r, const double *cat, double span, double sequences, double flops,
                           int nchips)
{
    r->step_time_s = span;
    r->compute_s = cat[CAT_COMPUTE];
    r->router_s = cat[CAT_ROUTER];
    r->dispatch_combine_s = cat[CAT_DISPATCH];
    r->a2a_s = cat[CAT_A2A];
    r->allreduce_s = cat[CAT_ALLREDUCE];
    r->idle_s = cat[CAT_IDLE];
    r->examples_per_s = span > 0 ? sequences / span : 0.0;
    r->tflops_per_chip = span > 0 ? flops / span / nchips / 1e12 : 0.0;
}

/* The per-layer, per-phase rows: each layer's span, its time shares, drops, balance loss and bytes. */
static int eng_collect_layers(engine_result *res, const engine *g)
{
    int cores = g->p.cores;
    res->nlayers = g->nlayers * N_PH;
    res->layers = calloc((size_t)res->nlayers, sizeof *res->layers);
    if (res->layers == NULL)
        return -1;
    for (int l = 0; l < g->nlayers; l++)
        for (int ph = 0; ph < N_PH; ph++) {
            engine_times *r = &res->layers[l * N_PH + ph];
            size_t li = (size_t)l * N_PH + ph;
            double lc[N_CAT];
            for (int k = 0; k < N_CAT; k++)
                lc[k] = g->lacct[li * N_CAT + k] / cores;
            r->dropped_frac = g->lchoices[l] > 0 ? (double)g->ldropped[l] / (double)g->lchoices[l] : 0.0;
            r->lb_loss = g->llb_n[l] > 0 ? g->llb[l] / (double)g->llb_n[l] : 0.0;
            r->a2a_bytes_per_core = g->lbytes[l] / cores;
            eng_fill_times(r, lc, g->lt1[li] - g->lt0[li], 0.0, 0.0, g->p.nchips);
        }
    return 0;
}

/* The step's numbers from the accounting; the timeline and the routing counts pass to the result (the caller
 * writes them). */
static int eng_collect(engine_result *res, engine *g, const cost_memory *mem, errbuf *err)
{
    const plan *p = &g->p;
    int cores = p->cores;
    double flops = 3.0 * model_flops_per_seq(g->m) * (double)p->sequences;   /* forward + backward ~ 3x forward */
    double cat[N_CAT] = { 0 };
    for (int c = 0; c < cores; c++)
        for (int k = 0; k < N_CAT; k++)
            cat[k] += g->acct[(size_t)c * N_CAT + k] / cores;
    long lb_n = 0;
    double lb_sum = 0.0, a2a_bytes = 0.0;
    for (int l = 0; l < g->nlayers; l++) {
        res->dropped += g->ldropped[l];
        res->choices += g->lchoices[l];
        lb_sum += g->llb[l];
        lb_n += g->llb_n[l];
        a2a_bytes += N_PH * g->lbytes[l];
    }
    res->step.dropped_frac = res->choices > 0 ? (double)res->dropped / (double)res->choices : 0.0;
    res->step.lb_loss = lb_n > 0 ? lb_sum / (double)lb_n : 0.0;
    res->step.a2a_bytes_per_core = a2a_bytes / cores;
    eng_fill_times(&res->step, cat, g->t_end, (double)p->sequences, flops, p->nchips);
    double hw = 0.0, peak = g->chip.bf16_flops * cores;   /* bf16 peak of all cores */
    for (int c = 0; c < cores; c++)
        hw += g->hw[c];
    res->step.mfu = g->t_end > 0 ? flops / g->t_end / peak : 0.0;
    res->step.hfu = g->t_end > 0 ? hw / g->t_end / peak : 0.0;
    if (eng_check_step(&res->step, (double)g->execs / g->p.cores, err) != 0)
        return -1;
    if (g->cfg->per_layer && eng_collect_layers(res, g) != 0)
        return errbuf_set(err, "out of memory setting up the simulation");
    res->plan = *p;
    res->a2a = g->cfg->a2a;
    res->chip = g->chip;
    res->mem_params_B = mem->params_B;
    res->mem_optimizer_B = mem->optimizer_B;
    res->mem_activations_B = mem->activations_B;
    res->mem_total_B = mem->total_B;
    res->hbm_B = g->chip.hbm_bytes;
    res->a2a_count = g->a2a_count;
    res->a2a_reused = coll_world_reused(g->world);
    res->a2a_fast = coll_world_fast_calls(g->world);
    eng_copy(res->a2a_flows_why, sizeof res->a2a_flows_why, g->a2a_flows_why);
    res->ar_count = g->ar_count;
    res->ar_reused = g->ar_reused;
    res->wall_route_s = g->wall_route_s;
    res->numerics_groups = route_numerics(g->route, &res->numerics_mean_abs);
    res->remat = g->remat;
    res->impl = g->impl;
    eng_copy(res->routing_desc, sizeof res->routing_desc, route_describe(g->route));
    res->timeline = g->tl;
    g->tl = NULL;
    if (g->cfg->dump_routing != NULL) {
        res->route = g->route;
        g->route = NULL;
    }
    res->wall_s = wall_now() - g->wall0;
    return 0;
}

int engine_run(engine_result *res, const engine_config *cfg_in, errbuf *err)
{
    engine_config cfg = *cfg_in;   /* with the preset's top-k and capacity factor, and the platform's all-to-all */
    engine g;
    cost_memory mem;
    memset(&g, 0, sizeof g);
    memset(res, 0, sizeof *res);
    /* the preset with the batch the config asks for */
    model_cfg mloc = *cfg_in->model;
    if (cfg.tokens_per_batch > 0) {
        if (cfg.tokens_per_batch % mloc.enc_seq != 0)
            return errbuf_set(err, "--tokens-per-batch must be a multiple of %s's encoder sequence length %d (whole "
                              "sequences), got %ld", mloc.name, mloc.enc_seq, cfg.tokens_per_batch);
        mloc.tokens_per_batch = cfg.tokens_per_batch;
    }
    g.impl = cfg.impl >= 0 && cfg.impl < MODEL_IMPL_N ? (model_impl)cfg.impl : mloc.impl;
    if (IMPL[g.impl].group_size > 0)
        mloc.group_size = IMPL[g.impl].group_size;
    cfg.model = &mloc;
    if (cfg.act_bytes == 0)
        cfg.act_bytes = cfg.precision == COST_PRECISION_FP32 ? 4 : 2;
    g.cfg = &cfg;
    g.m = cfg.model;
    g.wall0 = g.wall_last = wall_now();
    if (cfg.top_k == 0)
        cfg.top_k = cfg.model->top_k;
    if (cfg.capacity_factor == 0)
        cfg.capacity_factor = cfg.model->capacity_factor;
    if (cfg.cap_round == SWITCH_CAP_AUTO)
        cfg.cap_round = IMPL[g.impl].cap;
    if (cfg.jitter < 0.0)
        cfg.jitter = cfg.top_k == 1 ? IMPL[g.impl].jitter_top1 : 0.0;
    if (eng_start(&g, &cfg, err) != 0)
        return -1;
    plan_request req = { g.torus.nchips * g.chip.cores_per_chip, cfg.data, cfg.model_par, cfg.top_k,
                         cfg.capacity_factor, cfg.cap_round, cfg.remat };
    if (plan_choose(&g.p, &mem, &g.remat, &req, g.m, &g.chip, err) != 0)
        return -1;
    int rc = eng_alloc(&g, err);
    if (rc == 0)
        rc = eng_build_groups(&g, err);
    if (rc == 0) {
        res->wall_setup_s = wall_now() - g.wall0;
        rc = eng_run_actors(&g, err);
    }
    if (rc == 0)
        rc = eng_collect(res, &g, &mem, err);
    eng_free(&g);
    if (rc != 0)
        engine_result_fini(res);
    return rc;
}

void engine_result_fini(engine_result *res)
{
    timeline_free(res->timeline);
    res->timeline = NULL;
    route_ctx_free(res->route);
    res->route = NULL;
    free(res->layers);
    res->layers = NULL;
    res->nlayers = 0;
}
