/* engine: one training step set up, run and collected.  It starts SimGrid on the platform, chooses the plan and the
 * capacity, routes every Switch layer's groups with the real kernels (sim/traffic.c) into chip byte matrices, sets
 * up the collectives and their groups, has sim/engine_list.c write every core's list of work, lets the timer
 * (sim/timer.c) run the lists in SimGrid, and collects the step's numbers.  It schedules no actor. */
#include "sim/engine_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/platform.h"
#include "sim/sched.h"
#include "sim/simproc.h"
#include "sim/steptimes.h"
#include "sim/timer.h"
#include "sim/traffic.h"
#include "traces/timeline.h"


static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void eng_copy(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void eng_free(engine *g)
{
    route_ctx_free(g->route);
    timeline_free(g->tl);
    sched_free(g->s);
    timer_result_fini(&g->tm);
    free(g->sparse_index);
    traffic_free(g->tr);
    free(g->a2a_coll);
    free(g->mb_mat);
    free(g->rows);
    sched_groups_fini(&g->grad);
    sched_groups_fini(&g->expert);
    sched_groups_fini(&g->mpar);
    free(g->hw);
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
    c.matmul_precision = -1;
    c.remat = PLAN_REMAT_AUTO;
    c.reuse = 1;
    c.a2a_fast = 1;
    return c;
}

/* ---- one step, top to bottom: start SimGrid, choose the plan, allocate, group, run, collect ---- */

/* The all-to-all algorithm for the platform: phased on a torus unless the config says direct; on GPUs the
 * hierarchical one across nodes (under hw, whose flow timing its plan's timing is) and direct in one node, unless
 * the config says which; phased refused on GPUs and hier on a torus.  Refuses a direct all-to-all SimGrid cannot
 * simulate in reasonable time. */
static int eng_resolve_a2a(engine_config *cfg, const platform_torus *t, const model_cfg *m, errbuf *err)
{
    long flows = (long)t->nchips * (t->nchips - 1);
    if (t->family == COST_FAMILY_GPU) {
        /* The phased algorithm forwards data along torus rings; through a crossbar and a fat tree every GPU pair
         * has its own route, so the all-to-all is direct (NCCL's send/recv) or hierarchical (PXN, DeepEP). */
        if (cfg->a2a == COLL_A2A_PHASED || cfg->a2a == COLL_A2A_PHASED_XY)
            return errbuf_set(err, "--a2a phased is the torus algorithm (neighbour ring steps per dimension); %s is "
                              "a GPU platform (NVSwitch nodes, a NIC per GPU), where the all-to-all is hier or "
                              "direct: leave --a2a out or give one of them", cfg->platform);
        if (cfg->a2a == COLL_A2A_HIER && cfg->network != NETMODEL_HW)
            return errbuf_set(err, "--a2a hier is timed from its plan as the hw network model times flows; give "
                              "--network-model hw, or --a2a direct for %s", netmodel_name(cfg->network));
        if (cfg->a2a == COLL_A2A_AUTO)
            cfg->a2a = t->nodes > 1 && cfg->network == NETMODEL_HW ? COLL_A2A_HIER : COLL_A2A_DIRECT;
        if (cfg->a2a == COLL_A2A_DIRECT && m->experts > 1 && t->nchips > ENGINE_DIRECT_CHIPS_MAX &&
            cfg->pipe <= 1)   /* a pipeline: per stage */
            return errbuf_set(err, "--a2a direct on %s: %d GPUs is %ld flows per all-to-all, beyond what SimGrid "
                              "simulates in reasonable time (its cost grows about as chips^4.5): use --a2a hier "
                              "(network model hw), or direct on at most %d GPUs", cfg->platform, t->nchips, flows,
                              ENGINE_DIRECT_CHIPS_MAX);
        return 0;
    }
    if (cfg->a2a == COLL_A2A_HIER)
        return errbuf_set(err, "--a2a hier is the GPU nodes' all-to-all (NVLink in a node, NICs between); %s is a "
                          "torus: leave --a2a out or give phased or direct", cfg->platform);
    if (cfg->a2a == COLL_A2A_AUTO)
        cfg->a2a = COLL_A2A_PHASED;
    if (cfg->a2a == COLL_A2A_DIRECT && t->nchips > ENGINE_DIRECT_CHIPS_MAX)
        return errbuf_set(err, "--a2a direct: %d chips is %ld flows per all-to-all, beyond what SimGrid simulates in "
                          "reasonable time (its cost grows about as chips^4.5: minutes per all-to-all at 256 hosts"
                          "); use --a2a phased, or direct on at most %d chips", t->nchips, flows,
                          ENGINE_DIRECT_CHIPS_MAX);
    return 0;
}

/* All-to-all blocks per pipeline stage: its expert groups (each W consecutive data shards, whose tokens go to the
 * group's own experts), when a group's cores are whole chips; else 1, the stage (its byte matrix then has no bytes
 * between the groups). */
static int eng_a2a_blocks(const plan *p)
{
    int groups = p->cores_per_expert, gcores = p->expert_ways * p->model_par;
    return p->pipe > 1 && groups > 1 && gcores % p->cores_per_chip == 0 ? groups : 1;
}

/* A pipeline with Switch layers: every stage's all-to-alls run among its own chips (each expert group's among the
 * group's: eng_a2a_blocks): on GPU nodes under hier (the platform's algorithm across nodes) as each block's
 * hierarchical all-to-all timed from its plan, when the blocks are whole nodes and plans are on (--a2a-timing
 * fast); else as direct flows (the phased algorithm's rings would run through the other stages' chips), a block
 * then at most ENGINE_DIRECT_CHIPS_MAX chips.  'asked' is the algorithm the run asked for (AUTO: none). */
static int eng_pipe_a2a(engine_config *cfg, coll_a2a_algo asked, const plan *p, const platform_torus *t, errbuf *err)
{
    if (p->pipe == 1 || p->experts == 1)
        return 0;
    if (asked == COLL_A2A_PHASED || asked == COLL_A2A_PHASED_XY)
        return errbuf_set(err, "plan pipe=%d with Switch layers: a stage's all-to-alls run among its own chips as "
                          "direct flows (the phased algorithm's rings would cross the other stages' chips): leave "
                          "--a2a out or give --a2a direct", p->pipe);
    int blocks = eng_a2a_blocks(p), n = p->nchips / p->pipe / blocks;
    if (cfg->a2a == COLL_A2A_HIER) {
        if (n % t->gpus_per_node == 0 && cfg->a2a_fast)
            return 0;
        if (asked == COLL_A2A_HIER)
            return errbuf_set(err, "--a2a hier with plan pipe=%d: an all-to-all block (%s) of %d GPUs is %s; leave "
                              "--a2a out (direct flows) or choose a plan whose blocks are whole nodes of %d GPUs",
                              p->pipe, blocks > 1 ? "an expert group" : "a stage", n,
                              cfg->a2a_fast ? "not whole nodes" : "timed from its plan only under --a2a-timing fast",
                              t->gpus_per_node);
    }
    cfg->a2a = COLL_A2A_DIRECT;
    if (n > ENGINE_DIRECT_CHIPS_MAX && blocks > 1)
        return errbuf_set(err, "plan pipe=%d,expert=%d: an expert group's %d chips is %ld flows per all-to-all, "
                          "beyond what SimGrid simulates in reasonable time (its cost grows about as chips^4.5): "
                          "expert groups of at most %d chips", p->pipe, p->expert_ways, n, (long)n * (n - 1),
                          ENGINE_DIRECT_CHIPS_MAX);
    if (n > ENGINE_DIRECT_CHIPS_MAX)
        return errbuf_set(err, "plan pipe=%d: a stage's %d chips is %ld flows per all-to-all, beyond what SimGrid "
                          "simulates in reasonable time (its cost grows about as chips^4.5): stages of at most %d "
                          "chips", p->pipe, n, (long)n * (n - 1), ENGINE_DIRECT_CHIPS_MAX);
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
    if (g->impl == MODEL_IMPL_TORCH) {
        /* the torch profile's own fitted values, where the platform has them */
        if (g->chip.torch_mm_efficiency > 0.0)
            g->chip.mm_efficiency = g->chip.torch_mm_efficiency;
        if (g->chip.torch_hbm_efficiency > 0.0)
            g->chip.hbm_efficiency = g->chip.torch_hbm_efficiency;
        if (g->chip.torch_op_overhead_s > 0.0)
            g->chip.op_overhead_s = g->chip.torch_op_overhead_s;
    }
    g->chip.precision = cfg->precision;
    if (cfg->matmul_precision >= 0)
        g->chip.matmul_precision = cfg->matmul_precision;
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
    if (cfg->dispatch == COST_DISPATCH_EXPERT_CHOICE) {
        if (cfg->dump_routing != NULL)
            return errbuf_set(err, "--dump-routing records each group's token choices per expert; under "
                              "--dispatch expert-choice experts choose tokens, so there is none to record");
        route_set_expert_choice(g->route);
    }
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

/* What the Switch layers send (the padded matrices, known before routing, are built here) and the schedule. */
static int eng_alloc(engine *g, errbuf *err)
{
    if (eng_alloc_routing(g, err) != 0)
        return -1;
    const plan *p = &g->p;
    g->sp = *p;
    g->stage_chips = p->nchips / p->pipe;
    g->blocks = eng_a2a_blocks(p);
    g->block_chips = g->stage_chips / g->blocks;
    if (p->pipe > 1) {                     /* one stage: the layout plan_layout made before the stages */
        g->sp.cores = p->cores / p->pipe;
        g->sp.nchips = g->stage_chips;
        g->sp.pipe = 1;
        g->sp.micro = 1;
    }
    g->tr = traffic_alloc(&g->sp, g->m, g->sparse_index, g->nlayers, g->nsparse, g->cfg->act_bytes,
                          eng_padded(g->cfg));
    g->a2a_coll = g->tr == NULL ? NULL : calloc((size_t)p->pipe * g->blocks * g->tr->nmat * 2,
                                                sizeof *g->a2a_coll);
    g->rows = calloc((size_t)p->experts_per_core, sizeof *g->rows);
    g->hw = calloc((size_t)p->cores, sizeof *g->hw);
    g->s = sched_alloc(p->cores, p->cores_per_chip, g->nlayers);
    if (!g->tr || !g->a2a_coll || !g->rows || !g->hw || !g->s)
        return errbuf_set(err, "out of memory setting up the simulation");
    if (p->pipe > 1 && sched_set_stage_cores(g->s, g->sp.cores / g->blocks) != 0)   /* a block's barrier */
        return errbuf_set(err, "bug: a pipeline block of %d cores is not whole chips", g->sp.cores / g->blocks);
    return 0;
}

/* The gradient all-reduce groups: dense parameters among the chips whose cores hold the same model slices,
 * expert parameters among the chips whose cores hold the same (expert, slice) pairs (replicas). */
static int eng_build_groups(engine *g, errbuf *err)
{
    const plan *p = &g->p;
    long *key = malloc((size_t)p->nchips * sizeof *key);
    int rc = key == NULL ? -1 : 0;
    int stage_chips = p->nchips / p->pipe;                    /* a pipeline stage's replicas are its own */
    for (int c = 0; rc == 0 && c < p->nchips; c++)
        key[c] = (long)(c / stage_chips) * p->model_par + (c * p->cores_per_chip) % p->model_par;
    if (rc == 0)
        rc = sched_groups_init(&g->grad, key, p->nchips);
    if (rc == 0 && p->cores_per_expert > 1 && g->nsparse > 0) {
        long base = (long)p->expert_ways * p->model_par;   /* a core's place in its expert group */
        for (int c = 0; c < p->nchips; c++) {
            key[c] = 0;
            for (int i = 0; i < p->cores_per_chip; i++) {
                int core = c * p->cores_per_chip + i;
                key[c] = key[c] * base + (long)((core / p->model_par) % p->expert_ways) * p->model_par +
                         core % p->model_par;
            }
            key[c] = key[c] * p->pipe + c / stage_chips;   /* a stage's replicas hold its own layers' experts */
        }
        g->has_expert_groups = 1;
        rc = sched_groups_init(&g->expert, key, p->nchips);
    }
    int n = p->model_par / p->cores_per_chip;                  /* chips of a model-parallel shard, consecutive */
    for (int c = 0; rc == 0 && c < p->nchips; c++)
        key[c] = n > 1 ? c / n : 0;
    if (rc == 0 && n > 1)
        rc = sched_groups_init(&g->mpar, key, p->nchips);
    free(key);
    return rc == 0 ? 0 : errbuf_set(err, "out of memory setting up the simulation");
}

/* A pipeline's all-to-alls: every stage's Switch layers send among the stage's own chips (expert parallelism within a
 * stage, as DeepSeek-V3's PP16 x EP64), each expert group's among its own (eng_a2a_blocks), so each matrix (of one
 * stage's chips: the traffic routes one stage) has a collective per stage and block on the block's chips (the
 * matrix's diagonal block: a group's shards send nothing to another group's), carrying a micro-batch's share: the
 * step's routing over 'micro'.  The micro-batches hold whole routing groups (plan_choose), so each group's capacity
 * and drops are the step's; padded, the bytes are exactly a micro-batch's own (capacity buffers do not depend on
 * the routing); exact, they are the micro-batches' mean (the step's kept tokens, which the micro-batches' own
 * routings sum to, evenly split).  Keys per stage and block, since their chips differ.  -1 when memory runs out. */
static int eng_colls_stages(engine *g)
{
    const plan *p = &g->p;
    int nmat = g->tr->nmat, n = g->stage_chips, B = g->blocks, nb = g->block_chips;
    size_t nn = (size_t)n * n, bb = (size_t)nb * nb;
    g->mb_mat = malloc((size_t)nmat * 2 * B * bb * sizeof *g->mb_mat);
    if (g->mb_mat == NULL)
        return -1;
    for (int i = 0; i < nmat; i++)
        for (int h = 0; h < 2; h++) {
            const double *src = (h == 0 ? g->tr->m1 : g->tr->m2) + (size_t)i * nn;
            for (int b = 0; b < B; b++) {
                double *dst = g->mb_mat + ((2 * (size_t)i + h) * B + b) * bb;
                for (int r = 0; r < nb; r++)
                    for (int c = 0; c < nb; c++)
                        dst[(size_t)r * nb + c] = src[(size_t)(b * nb + r) * n + b * nb + c] / p->micro;
            }
        }
    for (int st = 0; st < p->pipe; st++)
        for (int b = 0; b < B; b++)
            for (int i = 0; i < nmat; i++) {
                long key = g->tr->padded ? 2 * (((long)st * B + b) * nmat + i) : -1;
                long key2 = key < 0 ? -1 : g->tr->m2_is_m1[i] ? key : key + 1;
                sched_coll c1 = { .kind = SCHED_A2A, .bytes = g->mb_mat + (2 * (size_t)i * B + b) * bb, .key = key,
                                  .base = st * n + b * nb, .n = nb };
                sched_coll c2 = c1;
                c2.bytes = g->mb_mat + ((2 * (size_t)i + 1) * B + b) * bb;
                c2.key = key2;
                int *c = g->a2a_coll + (((size_t)st * B + b) * nmat + (size_t)i) * 2;
                c[0] = sched_coll_add(g->s, &c1);
                c[1] = sched_coll_add(g->s, &c2);
                if (c[0] < 0 || c[1] < 0)
                    return -1;
            }
    return 0;
}

/* The schedule's collectives: both all-to-alls of every byte matrix (padded: one key per matrix, m2's that of m1
 * when they are equal; exact: none), the model-parallel all-reduces over links, the gradient all-reduces. */
static int eng_colls(engine *g, errbuf *err)
{
    const plan *p = &g->p;
    int rc = p->pipe > 1 ? eng_colls_stages(g) : 0;
    size_t nn = (size_t)p->nchips * p->nchips;
    for (int i = 0; i < g->tr->nmat && rc == 0 && p->pipe == 1; i++) {
        long key = g->tr->padded ? 2 * i : -1;
        long key2 = key < 0 ? -1 : g->tr->m2_is_m1[i] ? key : key + 1;
        sched_coll c1 = { .kind = SCHED_A2A, .bytes = g->tr->m1 + (size_t)i * nn, .key = key };
        sched_coll c2 = { .kind = SCHED_A2A, .bytes = g->tr->m2 + (size_t)i * nn, .key = key2 };
        g->a2a_coll[2 * i] = sched_coll_add(g->s, &c1);
        g->a2a_coll[2 * i + 1] = sched_coll_add(g->s, &c2);
        rc = g->a2a_coll[2 * i] < 0 || g->a2a_coll[2 * i + 1] < 0 ? -1 : 0;
    }
    for (int enc = 1; enc >= 0; enc--) {
        double tokens = enc ? (double)p->tokens_enc : (double)p->tokens_dec;
        sched_coll c = { .kind = SCHED_ALLREDUCE, .groups = &g->mpar, .replay = 1,
                         .chip_bytes = tokens * g->m->d_model * g->cfg->act_bytes * p->cores_per_chip };
        g->ar_coll[enc ? 0 : 1] = p->model_par > p->cores_per_chip ? sched_coll_add(g->s, &c) : -1;
        if (p->model_par > p->cores_per_chip && g->ar_coll[enc ? 0 : 1] < 0)
            rc = -1;
    }
    double dense_local = eng_stage_params(g, model_params_dense(g->m));
    double expert_local = p->experts > 1 ? eng_stage_params(g, model_params_expert(g->m) / p->experts
                                                               * p->experts_per_core) : 0;
    double slices_per_chip = p->model_par < p->cores_per_chip ? p->model_par : p->cores_per_chip;
    /* ZeRO-1: the all-reduce's two halves, the reduce-scatter now and the all-gather after the optimizer */
    sched_coll grad = { .kind = p->zero ? SCHED_REDUCESCATTER : SCHED_ALLREDUCE,
                        .groups = g->grad.n == 1 ? NULL : &g->grad,
                        .chip_bytes = dense_local * ENGINE_GRAD_BYTES * slices_per_chip };
    g->grad_coll = sched_coll_add(g->s, &grad);
    grad.kind = SCHED_ALLGATHER;
    g->grad_ag = p->zero ? sched_coll_add(g->s, &grad) : -1;
    rc = p->zero && g->grad_ag < 0 ? -1 : rc;
    g->expert_coll = g->expert_ag = -1;
    if (g->has_expert_groups) {
        sched_coll ex = { .kind = p->zero ? SCHED_REDUCESCATTER : SCHED_ALLREDUCE,
                          .groups = g->expert.n == 1 ? NULL : &g->expert,
                          .chip_bytes = expert_local * ENGINE_GRAD_BYTES * p->cores_per_chip };
        g->expert_coll = sched_coll_add(g->s, &ex);
        ex.kind = SCHED_ALLGATHER;
        g->expert_ag = p->zero ? sched_coll_add(g->s, &ex) : -1;
        rc = g->expert_coll < 0 || (p->zero && g->expert_ag < 0) ? -1 : rc;
    }
    return rc != 0 || g->grad_coll < 0 ? errbuf_set(err, "out of memory setting up the simulation") : 0;
}

/* The step: routing, every core's list, then the timer runs the lists in SimGrid. */
static int eng_simulate(engine *g, engine_result *res, errbuf *err)
{
    if (traffic_route(g->tr, g->route, err) != 0 || eng_colls(g, err) != 0)
        return -1;
    for (int core = 0; core < g->p.cores; core++)
        if ((g->p.pipe > 1 ? eng_core_list_pipe(g, core, err) : eng_core_list(g, core, err)) != 0)
            return -1;
    timer_cfg tc = { .s = g->s, .core_flops = g->chip.bf16_flops, .ndims = g->torus.ndims,
                     .gpus_per_node = g->torus.family == COST_FAMILY_GPU ? g->torus.gpus_per_node : 0,
                     .a2a = g->cfg->a2a, .reuse = g->cfg->reuse, .a2a_fast = g->cfg->a2a_fast, .tl = g->tl,
                     .progress = g->cfg->progress, .wall0 = g->wall0 };
    for (int d = 0; d < COLL_DIMS_MAX; d++) {
        tc.dims[d] = g->torus.dims[d];
        tc.wrap[d] = g->torus.wrap[d];
    }
    res->wall_setup_s = wall_now() - g->wall0 - g->tr->wall_route_s;
    return timer_run(&g->tm, &tc, err);
}

/* The per-layer, per-phase rows: each layer's span, its time shares, drops, balance loss and bytes. */
static int eng_collect_layers(engine_result *res, const engine *g)
{
    int cores = g->p.cores;
    res->nlayers = g->nlayers * SCHED_N_PH;
    res->layers = calloc((size_t)res->nlayers, sizeof *res->layers);
    if (res->layers == NULL)
        return -1;
    for (int l = 0; l < g->nlayers; l++)
        for (int ph = 0; ph < SCHED_N_PH; ph++) {
            engine_times *r = &res->layers[l * SCHED_N_PH + ph];
            size_t li = (size_t)l * SCHED_N_PH + ph;
            double lc[SCHED_N_CAT];
            for (int k = 0; k < SCHED_N_CAT; k++)
                lc[k] = g->tm.lacct[li * SCHED_N_CAT + k] / cores;
            const traffic *tr = g->tr;
            r->dropped_frac = tr->lchoices[l] > 0 ? (double)tr->ldropped[l] / (double)tr->lchoices[l] : 0.0;
            r->lb_loss = tr->llb_n[l] > 0 ? tr->llb[l] / (double)tr->llb_n[l] : 0.0;
            r->a2a_bytes_per_core = tr->lbytes[l] / cores;
            r->max_load = g->sparse_index[l] >= 0 ? traffic_max_load(tr, g->sparse_index[l]) : 0.0;
            steptimes_fill(r, lc, g->tm.lt1[li] - g->tm.lt0[li], 0.0, 0.0, g->p.nchips);
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
    double cat[SCHED_N_CAT] = { 0 };
    for (int c = 0; c < cores; c++)
        for (int k = 0; k < SCHED_N_CAT; k++)
            cat[k] += g->tm.acct[(size_t)c * SCHED_N_CAT + k] / cores;
    long lb_n = 0;
    double lb_sum = 0.0, a2a_bytes = 0.0;
    for (int l = 0; l < g->nlayers; l++) {
        res->dropped += g->tr->ldropped[l];
        res->choices += g->tr->lchoices[l];
        lb_sum += g->tr->llb[l];
        lb_n += g->tr->llb_n[l];
        a2a_bytes += SCHED_N_PH * g->tr->lbytes[l];
    }
    res->step.dropped_frac = res->choices > 0 ? (double)res->dropped / (double)res->choices : 0.0;
    if (route_expert_choice_unknown(g->route))   /* expert choice without per-token scores: not known */
        res->step.dropped_frac = (double)NAN;
    res->step.lb_loss = lb_n > 0 ? lb_sum / (double)lb_n : 0.0;
    res->step.a2a_bytes_per_core = a2a_bytes / cores;
    res->step.max_load = g->nsparse > 0 ? traffic_max_load(g->tr, 0) : 0.0;
    double t_end = g->tm.t_end;
    steptimes_fill(&res->step, cat, t_end, (double)p->sequences, flops, p->nchips);
    for (int c = 0; c < cores; c++) {
        res->step.a2a_across_s += g->tm.a2a_across[c] / cores;
        res->step.rsag_s += g->tm.rsag[c] / cores;
    }
    double hw = 0.0, peak = g->chip.bf16_flops * cores;   /* bf16 peak of all cores */
    for (int c = 0; c < cores; c++)
        hw += g->hw[c];
    res->step.mfu = t_end > 0 ? flops / t_end / peak : 0.0;
    res->step.hfu = t_end > 0 ? hw / t_end / peak : 0.0;
    if (steptimes_check(&res->step, (double)g->tm.execs / g->p.cores, err) != 0)
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
    res->a2a_count = g->tm.a2a_count;
    res->a2a_reused = g->tm.a2a_reused;
    res->a2a_fast = g->tm.a2a_fast;
    eng_copy(res->a2a_flows_why, sizeof res->a2a_flows_why, g->tm.a2a_flows_why);
    res->ar_count = g->tm.ar_count;
    res->ar_reused = g->tm.ar_reused;
    res->wall_route_s = g->tr->wall_route_s;
    res->numerics_groups = route_numerics(g->route, &res->numerics_mean_abs);
    res->remat = g->remat;
    res->impl = g->impl;
    eng_copy(res->routing_desc, sizeof res->routing_desc, route_describe(g->route));
    if (g->tr->stats_stride > 1) {   /* padded buffers fix the bytes: routing only for the drops and the loss */
        size_t len = strlen(res->routing_desc);
        long shards = g->sp.cores / g->sp.model_par;   /* the routed plan's (a stage's under a pipeline) */
        snprintf(res->routing_desc + len, sizeof res->routing_desc - len, "; padded buffers fix the bytes, so one "
                 "shard in %d is routed, for the drops and the load-balancing loss (%ld groups a layer)",
                 g->tr->stats_stride, (shards + g->tr->stats_stride - 1) / g->tr->stats_stride * g->sp.groups);
    }
    res->timeline = g->tl;
    g->tl = NULL;
    if (g->cfg->dump_routing != NULL) {
        res->route = g->route;
        g->route = NULL;
    }
    res->wall_s = wall_now() - g->wall0;
    return 0;
}

/* The capacity the dispatch mode and profile give, in place of the plan's (cf S / E by the profile's rounding):
 * dropless, S (a token's k choices are k distinct experts, so no expert gets more than S: nothing drops); the
 * torch profile's padded buffers, ceil(cf S k / E) (the program's rule, capacity for the k choices); expert
 * choice keeps the plan's min(S, floor(cf S / E)).  Then the torch profile's limits: decoder-only, on GPUs, no
 * tensor parallelism, no recomputation (the program it models has none of these). */
static int eng_capacity(engine *g, errbuf *err)
{
    plan *p = &g->p;
    int *cap[2] = { &p->capacity_enc, &p->capacity_dec };
    int S[2] = { p->group_enc, p->group_dec };
    for (int i = 0; i < 2; i++) {
        if (S[i] <= 0 || p->experts <= 1)
            continue;
        if (g->cfg->dispatch == COST_DISPATCH_DROPLESS)
            *cap[i] = S[i];
        else if (g->impl == MODEL_IMPL_TORCH && g->cfg->dispatch != COST_DISPATCH_EXPERT_CHOICE)
            *cap[i] = (int)ceil(p->capacity_factor * S[i] * p->top_k / p->experts);
    }
    if (g->cfg->dispatch == COST_DISPATCH_EXPERT_CHOICE && p->top_k != 1)
        return errbuf_set(err, "--dispatch expert-choice: experts choose their tokens, so a token has no top-k; give "
                          "--top-k 1 (it is %d)", p->top_k);
    if (g->impl != MODEL_IMPL_TORCH)
        return 0;
    if (g->m->arch != MODEL_ARCH_DEC_ONLY || g->chip.family != COST_FAMILY_GPU)
        return errbuf_set(err, "--impl torch models eager PyTorch running a decoder-only model on GPUs; %s is %s "
                          "and %s is a %s platform", g->m->name, model_arch_name(g->m->arch), g->cfg->platform,
                          g->chip.family == COST_FAMILY_GPU ? "GPU" : "TPU");
    if (p->model_par > 1 || g->remat)
        return errbuf_set(err, "--impl torch has no tensor parallelism and no recomputation (the eager program it "
                          "models runs neither): the plan chose model=%d%s; give --plan with model=1 and --remat off",
                          p->model_par, g->remat ? " with recomputation" : "");
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
        int dec_only = mloc.arch == MODEL_ARCH_DEC_ONLY;
        int seq = dec_only ? mloc.dec_seq : mloc.enc_seq;
        if (cfg.tokens_per_batch % seq != 0)
            return errbuf_set(err, "--tokens-per-batch must be a multiple of %s's %s sequence length %d (whole "
                              "sequences), got %ld", mloc.name, dec_only ? "decoder" : "encoder", seq,
                              cfg.tokens_per_batch);
        mloc.tokens_per_batch = cfg.tokens_per_batch;
    }
    g.impl = cfg.impl >= 0 && cfg.impl < MODEL_IMPL_N ? (model_impl)cfg.impl : mloc.impl;
    mloc.impl = g.impl;   /* the profile run, which the memory check reads */
    if (ENG_IMPL[g.impl].group_size > 0)
        mloc.group_size = ENG_IMPL[g.impl].group_size;
    cfg.model = &mloc;
    if (cfg.act_bytes == 0)
        cfg.act_bytes = cfg.precision == COST_PRECISION_FP32 ? 4 : 2;
    g.cfg = &cfg;
    g.m = cfg.model;
    g.wall0 = wall_now();
    if (cfg.top_k == 0)
        cfg.top_k = cfg.model->top_k;
    if (cfg.capacity_factor == 0)
        cfg.capacity_factor = cfg.model->capacity_factor;
    if (cfg.same_active && cfg.top_k != mloc.top_k && mloc.experts > 1) {   /* equal activated parameters */
        long width = (long)model_d_ff_expert(&mloc) * mloc.top_k;
        if (width % cfg.top_k != 0)
            return errbuf_set(err, "--same-active: %s's expert width %d x its top-k %d is not a multiple of --top-k %d",
                              mloc.name, model_d_ff_expert(&mloc), mloc.top_k, cfg.top_k);
        mloc.d_ff_expert = (int)(width / cfg.top_k);
    }
    /* the model as run routes each token to the run's k experts: its FLOPs (TFLOP/s, MFU), the memory check's
     * capacity rows and anything else reading the model count k experts (of the narrower width under
     * --same-active), not the preset's */
    mloc.top_k = cfg.top_k;
    /* and sizes its capacity buffers by the run's capacity factor: the memory check's capacity rows (cf x k per
     * token, sim/cost.c switch_act_B) are the buffers the run allocates, not the preset's (the plan's capacity,
     * C per expert and group, is computed from cfg.capacity_factor in plan_layout, so it does not move) */
    mloc.capacity_factor = cfg.capacity_factor;
    if (cfg.cap_round == SWITCH_CAP_AUTO)
        cfg.cap_round = ENG_IMPL[g.impl].cap;
    if (cfg.jitter < 0.0)
        cfg.jitter = cfg.top_k == 1 ? ENG_IMPL[g.impl].jitter_top1 : 0.0;
    if (eng_start(&g, &cfg, err) != 0)
        return -1;
    plan_request req = { g.torus.nchips * g.chip.cores_per_chip, cfg.data, cfg.model_par, cfg.top_k,
                         cfg.capacity_factor, cfg.cap_round, cfg.remat, cfg.expert_ways, cfg.pipe, cfg.micro,
                         cfg.zero };
    if (plan_choose(&g.p, &mem, &g.remat, &req, g.m, &g.chip, err) != 0
        || eng_pipe_a2a(&cfg, cfg_in->a2a, &g.p, &g.torus, err) != 0)
        return -1;
    int rc = eng_capacity(&g, err);
    if (rc == 0)
        rc = eng_alloc(&g, err);
    if (rc == 0)
        rc = eng_build_groups(&g, err);
    if (rc == 0)
        rc = eng_simulate(&g, res, err);
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
