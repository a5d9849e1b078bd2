/* engine: one simulated training step.  It routes every Switch layer with the real kernels, builds every core's
 * list of work (sim/sched.h: ops with their cost-model time, barriers, all-to-alls with the real byte matrices,
 * all-reduces) and has the timer (sim/timer.h) run the lists in SimGrid, where flows contend on the torus (or
 * between GPUs).  One engine per process (SimGrid initialises once): cmd_run calls it directly, validate and
 * sweep call it in child processes.  Files are the caller's. */
#ifndef SWITCHSIM_ENGINE_H
#define SWITCHSIM_ENGINE_H

#include "models/model.h"
#include "sim/collectives.h"
#include "sim/cost.h"
#include "sim/common/errbuf.h"
#include "sim/plan.h"
#include "sim/route.h"
#include "traces/timeline.h"
#include "sim/netmodel.h"


#define ENGINE_IMPL_PRESET (-1)

typedef struct {
    const char *platform;        /* platform XML path */
    const model_cfg *model;
    int data, model_par;         /* plan; data 0 = cores / model_par, model_par 0 = smallest that fits */
    int expert_ways;             /* 0, or the expert ways the plan must have (plan_parse) */
    int pipe, micro;             /* pipeline stages (0 or 1: none) and micro-batches (0: 4 x pipe) */
    int zero;                    /* 1: ZeRO-1 (reduce-scatter the gradients, shard the optimizer, all-gather);
                                  * -1: only if the plan does not fit without it */
    long tokens_per_batch;       /* encoder tokens per batch, a multiple of enc_seq; 0 = the preset's */
    cost_precision precision;    /* SELECTIVE (fp32 router, default), BF16 or FP32 [SOURCES 2.1 Table 2] */
    int matmul_precision;        /* how fp32 matmuls run, a chip_matmul_precision [SOURCES 5.3]; -1: the
                                  * platform's (property matmul_precision) */
    int top_k;                   /* 1 or 2; 0 = the preset's */
    double capacity_factor;      /* > 0; 0 = the preset's */
    int impl;                    /* ENGINE_IMPL_PRESET: the preset's implementation profile; else a model_impl */
    switch_cap_mode cap_round;   /* SWITCH_CAP_AUTO: the profile's; FLOOR (Mesh TF), ROUND (Flaxformer), LINGVO */
    route_spec routing;
    unsigned long seed;
    double jitter;               /* router input jitter eps, 0 = none; < 0: the profile's (meshtf top-1: 1e-2) */
    cost_dispatch dispatch;      /* EINSUM: TPU padded dispatch, capacity buffers sent whole; GATHER: kept tokens */
    coll_a2a_algo a2a;           /* COLL_A2A_AUTO: phased on a torus, direct on GPUs (which refuse phased) */
    netmodel network;            /* SimGrid network model (sim/netmodel.h): hw (default), lv08 or cm02 */
    int act_bytes;               /* bytes per activation element on the wire: 2 bf16 (Switch), 4 fp32 (GShard);
                                  * 0 = the precision's (4 under FP32, else 2) */
    plan_remat remat;            /* recompute the forward in backward: on, off, or only if needed to fit */
    int reuse;                   /* reuse the simulation of an identical all-to-all byte matrix */
    int same_active;             /* 1: at a top_k other than the preset's, experts d_ff_expert x preset k / top_k
                                  * wide, so a token activates the preset's expert parameters */
    int a2a_fast;                /* time each phased all-to-all from its plan where no two of its messages can share
                                  * a link (coll_world_set_fast); 0: every message a SimGrid flow */
    int per_layer;               /* also fill per-layer rows */
    const char *timeline;        /* Chrome trace JSON path or NULL */
    const char *trace_cores;     /* "0-3,8" or NULL for all */
    const char *dump_routing;    /* routing trace CSV path or NULL */
    int progress;                /* progress lines on stderr */
    const cost_chip *chip;       /* NULL: the platform's chip numbers; else these replace them (same family and
                                  * cores per chip; the network stays the platform's): calibration fits */
} engine_config;

/* Where the time of the step, or of one layer's phase, went and what it moved. */
typedef struct {
    double step_time_s;          /* simulated span: the last core's finish (a layer phase: last end - first start) */
    double compute_s, router_s, dispatch_combine_s, a2a_s, allreduce_s, idle_s;   /* mean per core; with bubble_s */
    double bubble_s;             /* they sum to it; bubble: waits for pipeline neighbours (0 without a pipeline) */
    double a2a_across_s;         /* of a2a_s, the time across nodes: a hierarchical all-to-all's after the chip's
                                  * NVLink messages ended (0 for the step only; 0 where not split: direct, phased) */
    double rsag_s;               /* of allreduce_s, the reduce-scatters and all-gathers (ZeRO-1; step only) */
    double dropped_frac;         /* dropped choices / (tokens x k), Switch layers */
    double lb_loss;              /* mean load-balancing loss */
    double max_load;             /* the first Switch layer's (a layer row: its own) busiest expert's rows over the
                                  * mean (traffic_max_load; 1 for padded buffers, 0 without Switch layers) */
    double a2a_bytes_per_core;   /* bytes one core sends in the all-to-alls (mean over cores) */
    double examples_per_s;       /* sequences per second (0 for a layer) */
    double tflops_per_chip;      /* model FLOPs per chip per second, 1e12 (0 for a layer) */
    double mfu;                  /* model FLOPs per second / the cores' bf16 peak (0 for a layer) */
    double hfu;                  /* hardware matmul FLOPs (cost_work.hw_flops of every op charged) per second / the
                                  * cores' bf16 peak (0 for a layer) */
} engine_times;

typedef struct {
    engine_times step;
    engine_times *layers;        /* per_layer: layer l, phase ph (0 fwd, 1 bwd) at [2 l + ph], or NULL */
    int nlayers;                 /* entries in 'layers': (enc + dec layers) x 2 */
    plan plan;                   /* top_k and capacity factor as run (the preset's when the config says 0) */
    coll_a2a_algo a2a;           /* the all-to-all algorithm the step used */
    cost_chip chip;
    double mem_params_B, mem_optimizer_B, mem_activations_B, mem_total_B, hbm_B;   /* per core */
    long a2a_count;              /* all-to-alls in the step */
    long a2a_reused;             /* of which replayed from an identical earlier one */
    long a2a_fast;               /* of which timed from their plan, without flows (coll_world_set_fast) */
    char a2a_flows_why[160];     /* a2a_fast asked for but not possible: why (else "") */
    long ar_count;               /* model-parallel all-reduces over links */
    long ar_reused;              /* of which replayed from an identical earlier one */
    long dropped, choices;       /* over all Switch layers, groups and shards */
    long numerics_groups;        /* groups that ran the whole Switch layer numerically (small models) */
    double numerics_mean_abs;    /* mean over those groups of sum |y| */
    double wall_s;               /* wall seconds of the whole run */
    double wall_setup_s;         /* wall seconds before the actors start (platform, router samples, matrices, the
                                  * schedule), the routing kernels' left out */
    double wall_route_s;         /* wall seconds in the routing kernels (before the actors start) */
    char routing_desc[1024];
    int remat;                   /* 1 if the step recomputed the forward in backward (AUTO: as chosen) */
    model_impl impl;             /* the implementation profile the step ran */
    timeline *timeline;          /* the config asked for a timeline: its events, for timeline_write_json */
    route_ctx *route;            /* the config asked for a routing dump: the counts, for route_dump_csv */
} engine_result;

/* The defaults of 'switchsim run': the preset's top-k and capacity factor, the fp32 router, seed 1, floor
 * capacity, padded dispatch, the platform's all-to-all, the hw network model, selective precision (activations on the wire as the
 * precision says: bf16), remat only if needed, reuse of
 * identical all-to-alls; no platform, model, per-layer rows, outputs or progress lines. */
engine_config engine_config_default(void);

/* Runs one step.  Validates everything first (platform, plan, memory, routing spec/trace) and returns -1 with
 * 'err' on bad input before simulating.  Writes no file: the caller writes the timeline and routing dump from
 * res->timeline and res->route, and frees the result with engine_result_fini. */
int engine_run(engine_result *res, const engine_config *cfg, errbuf *err);
void engine_result_fini(engine_result *res);

#endif
