/* engine_int: what the two halves of the engine share (not for other modules): the engine of one step, the
 * implementation profiles' table, and the schedule builder's entry points.  sim/engine.c sets the step up, runs the
 * timer and collects; sim/engine_list.c writes every core's list of work. */
#ifndef SWITCHSIM_ENGINE_INT_H
#define SWITCHSIM_ENGINE_INT_H

#include "sim/engine.h"
#include "sim/platform.h"
#include "sim/sched.h"
#include "sim/timer.h"
#include "sim/traffic.h"
#include "traces/timeline.h"

#define ENGINE_GRAD_BYTES 4.0      /* gradients all-reduced in fp32 (the paper keeps float32 weights, SOURCES 3) */
#define ENGINE_DIRECT_CHIPS_MAX 128 /* direct all-to-all: 0.9-4 s wall per all-to-all at 128 hosts (SOURCES 8.3) */

typedef struct {
    const engine_config *cfg;
    const model_cfg *m;
    plan p;
    plan sp;                       /* what the traffic routes: p, or under a pipeline one stage of it (its n x m
                                    * cores and chips, pipe 1), every stage routing its own layers alike */
    int stage_chips;               /* chips of a pipeline stage (all chips without one) */
    int blocks;                    /* pipelined Switch layers: all-to-all blocks per stage (eng_a2a_blocks): its
                                    * expert groups, or 1 */
    int block_chips;               /* chips of a block: stage_chips / blocks */
    double *mb_mat;                /* pipelined Switch layers: (tr->nmat, 2, blocks, block_chips^2) m1 and m2 of
                                    * each matrix on each block's chips over 'micro' (a micro-batch's share) */
    cost_chip chip;
    platform_torus torus;
    route_ctx *route;
    timeline *tl;
    sched *s;
    int nlayers;                   /* encoder + decoder layers */
    int nsparse;
    int *sparse_index;             /* (nlayers) index among Switch layers, or -1 */
    traffic *tr;                   /* what the Switch layers send: routing, byte matrices, expert rows */
    int *a2a_coll;                 /* (pipe, blocks, tr->nmat, 2) the schedule's collective of m1 and m2 of each
                                    * matrix (a pipeline: on each block's chips) */
    int ar_coll[2];                /* the model-parallel all-reduce of an encoder, decoder layer (-1: on chip) */
    int grad_coll, expert_coll;    /* the gradient all-reduces (expert: -1 without replicas); under ZeRO-1 their
                                    * reduce-scatters, and grad_ag, expert_ag the parameters' all-gathers */
    int grad_ag, expert_ag;
    double *rows;                  /* (experts_per_core) scratch: rows of each local expert */
    sched_groups grad;             /* chips holding the same dense-parameter slices */
    sched_groups expert;           /* chips holding the same experts (replicas), when has_expert_groups */
    sched_groups mpar;             /* the chips of one model-parallel shard, when it spans chips */
    int has_expert_groups;
    double *hw;                    /* (cores) hardware matmul FLOPs of the ops scheduled (cost_work.hw_flops) */
    double wall0;
    int remat;                     /* recompute each layer's forward before its backward */
    model_impl impl;               /* the implementation profile the step runs (IMPL below) */
    timer_result tm;               /* the timer's bookings */
} engine;

/* An implementation profile's choices (ENG_IMPL's comment in sim/engine_list.c says each profile's). */
typedef struct {
    int group_size;                  /* the largest group, 0: the preset's */
    switch_cap_mode cap;
    int cumsum_einsum;
    double jitter_top1;
    double build_passes_per_choice, build_passes_fixed;
} eng_impl;
extern const eng_impl ENG_IMPL[MODEL_IMPL_N];

/* 1 if the dispatch's buffers are fixed before routing and go on the wire whole (padded, expert choice). */
int eng_padded(const engine_config *cfg);
/* Core 'core''s list of work (sched_begin .. sched_end): the whole step, or its pipeline stage's (plan pipe > 1).
 * 0, or -1 with err. */
int eng_core_list(engine *g, int core, errbuf *err);
int eng_core_list_pipe(engine *g, int core, errbuf *err);
/* 'params' (a chip's share of a plain plan, before model parallelism) as a core of the plan holds them: over the
 * model-parallel ways and the pipeline's stages (the largest stage's share when stages are uneven). */
double eng_stage_params(const engine *g, double params);

#endif
