/* plan: how a model is laid out over the cores (Switch paper section 5): data-parallel n x model-parallel m
 * cores, experts spread over the data axis, routing groups and expert capacity; optionally P pipeline stages of
 * n x m cores each (contiguous layer ranges on consecutive cores, micro-batches in a 1F1B order) and the optimizer
 * state sharded over the data-parallel replicas (ZeRO-1).  Pure arithmetic, no SimGrid. */
#ifndef SWITCHSIM_PLAN_H
#define SWITCHSIM_PLAN_H

#include "models/model.h"
#include "models/switch.h"
#include "sim/common/errbuf.h"
#include "sim/cost.h"

typedef struct {
    int cores;              /* n * m simulated cores */
    int cores_per_chip;
    int nchips;
    int data;               /* n: data-parallel ways; each data shard holds tokens_enc tokens */
    int model_par;          /* m: model-parallel ways; d_ff and heads split over m (each slice runs its own
                             * all-to-all with full d_model rows: sim/README.md) */
    int experts;            /* E per Switch layer (1 for a dense model) */
    int expert_ways;        /* W: the data shards of an expert group, which together hold every expert once;
                             * min(n, E) unless --plan expert= says (it must then divide n and E) */
    int experts_per_core;   /* E/W */
    int cores_per_expert;   /* n/W: the replicas of each expert (the expert groups, W consecutive data shards
                             * each; a shard's tokens go to its own group's experts only) */
    int top_k;
    double capacity_factor;
    long sequences;         /* sequences per batch = tokens_per_batch / enc_seq */
    long tokens_enc;        /* encoder tokens per data shard = tokens_per_batch / n */
    long tokens_dec;        /* decoder tokens per data shard = sequences * dec_seq / n */
    int groups;             /* routing groups per data shard, the same for encoder and decoder layers */
    int group_enc;          /* S: tokens per group in encoder layers */
    int group_dec;          /* S: tokens per group in decoder layers */
    int capacity_enc;       /* C for encoder / decoder Switch layers */
    int capacity_dec;
    int pipe;               /* P pipeline stages (1: none); cores = n x m x P, stage s on cores [s n m, (s+1) n m) */
    int micro;              /* micro-batches per step (1 without a pipeline); tokens_enc, tokens_dec are a
                             * step's, a micro-batch has 1/micro of them */
    int zero;               /* 1: ZeRO-1, the optimizer state of the dense parameters (and of replicated experts)
                             * sharded over the data-parallel replicas */
} plan;

/* The ways --plan asks for.  data 0: cores / (model x pipe); expert 0: not given; micro 0: 4 x pipe. */
typedef struct {
    int data, model, expert, pipe, micro;
} plan_ways;

/* Parses "data=N,model=M" (either key may be left out: data defaults to cores/model, model to 1), or the longer
 * "data=D,expert=E,tensor=T,pipe=P[,micro=K]" (tensor is model's other name; any key may be left out).  expert=
 * sets the expert-parallel ways W, taken from the data axis: groups of W consecutive data shards each hold every
 * expert, experts/W a core, data/W replicas of each (plan_layout_ways checks that W divides both; left out, W is
 * min(data, experts)).  Fills *w (data, expert and micro 0 when absent; model and pipe 1). */
int plan_parse(plan_ways *w, const char *spec, errbuf *err);

/* Lays the model out; rejects with the numbers a plan that does not divide:
 * "plan data=6,model=1 needs 6 cores, the platform has 32".  cap_round: SWITCH_CAP_FLOOR (Mesh TF) or
 * SWITCH_CAP_ROUND (Flaxformer). */
int plan_layout(plan *p, const model_cfg *m, int cores, int cores_per_chip, int data, int model_par,
                int top_k, double capacity_factor, switch_cap_mode cap_round, errbuf *err);
/* The same with 'expert_ways' W expert ways (0: min(data, experts), as plan_layout): W must divide the data ways
 * and the experts, "plan expert=3 must divide data 8 and the 8 experts of tiny-switch (groups of expert= data
 * shards each hold every expert)". */
int plan_layout_ways(plan *p, const model_cfg *m, int cores, int cores_per_chip, int data, int model_par,
                     int expert_ways, int top_k, double capacity_factor, switch_cap_mode cap_round, errbuf *err);

/* Rematerialisation: recompute each layer's forward before its backward (less activation memory, more
 * compute), never, or only when the activations would not fit in HBM otherwise. */
typedef enum { PLAN_REMAT_AUTO = -1, PLAN_REMAT_OFF = 0, PLAN_REMAT_ON = 1 } plan_remat;

/* What a run asks of the layout. */
typedef struct {
    int cores;                   /* on the platform */
    int data, model_par;         /* model_par 0: the smallest power of two that fits (data then follows) */
    int top_k;
    double capacity_factor;
    switch_cap_mode cap_round;
    plan_remat remat;
    int expert;                  /* 0, or the expert ways to check (plan_parse) */
    int pipe, micro;             /* 0 or 1: no pipeline; micro 0: 4 x pipe */
    int zero;                    /* 1: ZeRO-1, 0: none, -1: only where the plan does not fit without it */
} plan_request;

/* Chooses the plan, rematerialisation and ZeRO-1: with model_par 0, m = 1, 2, 4, ... up to the cores, the first
 * that lays out and fits in the chip's HBM (Switch paper section 5: raise m only as far as memory needs); with
 * remat AUTO, off before on; for each, with zero -1, ZeRO-1 off before on (it saves memory at no step time, while
 * remat costs compute).  The pipeline's depth is the request's; with pipe 0 (no plan asked) and nothing fitting without a pipeline,
 * pipelines of 2, 4, ... stages (at most the layers) are searched the same way, and the shallowest that fits wins
 * (the least bubble).  With pipe P > 1 each stage has n x m of the cores; the memory per core is the first stage's: its
 * share of the parameters and optimizer state (plan_stage_share: 1/P when P divides the layers, else the first
 * stage's one layer more), and that share of the layers' activations for min(P, micro) micro-batches in flight
 * (the first stage's count under 1F1B).  A pipeline needs model-parallel shards within a chip, at least P layers,
 * micro-batches that divide each data shard's sequences and, with Switch layers (whose experts a
 * stage spreads over its own data axis), its routing groups.  With zero, the optimizer state per
 * core divides by the data-parallel replicas of each parameter.  Fills *p, *mem (per core) and *remat (1 on, 0
 * off).  On failure returns -1 with the reason of the first model-parallel way's last try (remat and ZeRO-1 where
 * the request allows them: the least memory it could need), e.g. "plan data=32,model=1 with remat needs 17.50 GiB
 * per core, HBM has 16.00 GiB (1.50 GiB over) (with model=1; no power-of-two model-parallel plan fits either)".  A decoder-only model has no encoder
 * tokens (tokens_enc, group_enc and capacity_enc 0). */
int plan_choose(plan *p, cost_memory *mem, int *remat, const plan_request *req, const model_cfg *m,
                const cost_chip *chip, errbuf *err);

/* The layers [*l0, *l1) of pipeline stage 'stage' (0 .. pipe-1) of 'nlayers' layers: consecutive ranges of
 * nlayers / pipe layers, the first nlayers mod pipe stages one more (DeepSeek-V3's 61 layers on 16 stages: 4 in
 * stages 0-12, 3 in 13-15; its report gives no split).  Needs nlayers >= pipe (plan_choose). */
void plan_stage_layers(const plan *p, int nlayers, int stage, int *l0, int *l1);
/* The share of the 'nlayers' layers the largest stage runs: 1/pipe when they divide evenly, else
 * (nlayers / pipe + 1) / nlayers, the first stage's (its parameters, optimizer state and activations). */
double plan_stage_share(const plan *p, int nlayers);
/* The data-parallel core that holds expert 'e' for the tokens of data shard 'src': in src's expert group (W
 * consecutive shards from (src / W) W), the shard e / experts_per_core of it. */
int plan_expert_owner(const plan *p, int src, int e);
/* Per-core memory of plan p (plan_choose's check; 'why' gets the message when it does not fit): -1 if over HBM. */
int plan_memory(cost_memory *mem, const plan *p, const model_cfg *m, const cost_chip *chip, int remat, errbuf *err);
/* Core id of (data shard i, model slice j) in the first stage; chip of a core. */
static inline int plan_core(const plan *p, int i, int j) { return i * p->model_par + j; }
static inline int plan_chip(const plan *p, int core) { return core / p->cores_per_chip; }

#endif
