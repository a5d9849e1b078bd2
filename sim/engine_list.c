/* engine_list: the schedule builder of one training step: every core's list of work (sim/sched.h): each op with
 * its cost-model time (sim/cost.c; the torch profile's eager kernels, sim/eager.c), the barriers, and the
 * all-to-alls and all-reduces the engine set up (sim/engine.c), layer by layer, forward then backward, with the
 * gradient collectives and the optimizer; or a pipeline stage's list in 1F1B order. */
#include "sim/engine_int.h"

#include <math.h>
#include <stdlib.h>

#include "sim/eager.h"

/* Dispatches whose buffers are fixed before routing and go on the wire whole: padded (einsum) capacity buffers,
 * and expert choice's (each expert takes C tokens of every group). */
int eng_padded(const engine_config *cfg)
{
    return cfg->dispatch == COST_DISPATCH_EINSUM || cfg->dispatch == COST_DISPATCH_EXPERT_CHOICE;
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
 * - torch (PyTorch eager, sim/eager.h: what analysis/measure/moe_step.py runs): the preset's group (the program
 *   routes its whole batch as one group); padded capacity ceil(cf S k / E) (eng_capacity); no jitter; its
 *   kernels are eager.c's, not the passes above.
 * meshtf's top-2 also runs Mesh TF's default 'random' second-expert policy (the second choice kept with
 * probability min(1, g2/0.2), switch_second_random) on router routing; the other profiles keep both choices
 * (Flaxformer's top-k has no such policy; Lingvo's random routing was not read: assumption). */
const eng_impl ENG_IMPL[MODEL_IMPL_N] = {
    [MODEL_IMPL_FLAXFORMER] = { 0, SWITCH_CAP_ROUND, 0, 0.0, 0.0, 0.0 },
    [MODEL_IMPL_MESHTF] = { 1024, SWITCH_CAP_FLOOR, 1, 1e-2, 2.0, 2.0 },
    [MODEL_IMPL_LINGVO] = { 0, SWITCH_CAP_LINGVO, 0, 0.0, 2.0, 0.0 },
    [MODEL_IMPL_TORCH] = { 0, SWITCH_CAP_FLOOR, 0, 0.0, 0.0, 0.0 },
};

/* ---- the schedule of one core ---- */

/* An op built from zero by a cost _work function, 'times' times back to back; counts its hardware FLOPs (the hfu
 * column). */
static void eng_work(engine *g, int core, sched_cat cat, sched_name_id name, const cost_work *w, double times,
                     int layer, int ph)
{
    g->hw[core] += times * w->hw_flops;
    sched_op(g->s, cat, name, times * w->t_s, layer, ph);
}

/* A collective: every core waits for the others (the wait is idle), then they start it together.  Within a layer of
 * a pipeline the collective is its block's (the all-to-alls of a stage's expert group: model-parallel shards are
 * within a chip there), so the block's cores wait for each other (the schedule's stage barrier, set to a block's
 * cores: eng_alloc), not the other stages' or groups'. */
static void eng_coll(engine *g, int coll, sched_cat cat, sched_name_id name, int layer, int ph)
{
    if (g->p.pipe > 1 && layer >= 0)
        sched_barrier_stage(g->s, layer, ph);
    else
        sched_barrier_all(g->s, layer, ph);
    sched_collective(g->s, coll, cat, name, layer, ph);
}

/* The additions of a ring all-reduce, which the collective itself does not time: every element is read twice,
 * added and written once, at the vector unit's rate or HBM's, whichever is slower. */
static void eng_reduce_math(engine *g, double elements, double elem_bytes, int layer, int ph)
{
    if (elements <= 0.0)
        return;
    sched_op(g->s, SCHED_CAT_ALLREDUCE, SCHED_N_REDUCE, cost_vector_s(&g->chip, elements, 3.0 * elements * elem_bytes),
             layer, ph);
}

/* A gradient all-reduce or reduce-scatter (collective 'coll' of 'bytes' per chip over the groups 'gr'), then its
 * additions. */
static void eng_allreduce(engine *g, int core, int coll, double bytes, const sched_groups *gr)
{
    int rs = sched_coll_at(g->s, coll)->kind == SCHED_REDUCESCATTER;   /* ZeRO-1's half: the same additions */
    eng_coll(g, coll, SCHED_CAT_ALLREDUCE, rs ? SCHED_N_REDUCESCATTER : SCHED_N_ALLREDUCE, -1, SCHED_BWD);
    /* A group of one single-core chip (one GPU) has nothing to add; a chip of several cores still combines
     * its cores' slices, alone or not. */
    int group_n = gr->n == 1 ? g->p.nchips : gr->size[gr->gid[plan_chip(&g->p, core)]];
    if (group_n == 1 && g->p.cores_per_chip == 1)
        return;
    eng_reduce_math(g, bytes / g->p.cores_per_chip / ENGINE_GRAD_BYTES, ENGINE_GRAD_BYTES, -1, SCHED_BWD);
}

/* Model-parallel all-reduce of the [tokens, d_model] activations (Switch paper section 5) among the m cores
 * of a data shard: over the links when they span chips, as an on-chip memory op when they share one. */
static void eng_model_allreduce(engine *g, int enc, double tokens, int layer, int ph)
{
    if (g->p.model_par == 1)
        return;
    double bytes = tokens * g->m->d_model * g->cfg->act_bytes;
    if (g->ar_coll[enc ? 0 : 1] >= 0)
        eng_coll(g, g->ar_coll[enc ? 0 : 1], SCHED_CAT_ALLREDUCE, SCHED_N_ALLREDUCE, layer, ph);
    /* read the peer's slice, add, write: 3 passes over the tensor, 1 add per element */
    eng_reduce_math(g, bytes / g->cfg->act_bytes, g->cfg->act_bytes, layer, ph);
}

/* The all-to-alls of Switch-layer matrix 'mi' on core 'core''s chips: the step's, or its pipeline block's. */
static void eng_a2a_colls(const engine *g, int core, int mi, int *a2a1, int *a2a2)
{
    int sc = g->p.cores / g->p.pipe, st = core / sc, b = (core % sc) / (sc / g->blocks);
    const int *c = g->a2a_coll + (((size_t)st * g->blocks + (size_t)b) * g->tr->nmat + (size_t)mi) * 2;
    *a2a1 = c[0];
    *a2a2 = c[1];
}

/* rows (experts_per_core) <- the rows core 'core''s experts compute in Switch layer sl for one micro-batch: under a
 * pipeline, the step's routing (of the core's place in its stage) over the micro-batches. */
static void eng_expert_rows(const engine *g, double *rows, int core, int sl, int enc)
{
    int sc = g->p.cores / g->p.pipe;
    traffic_expert_rows(g->tr, rows, core % sc, sl, enc);
    for (int e = 0; g->p.micro > 1 && e < g->p.experts_per_core; e++)
        rows[e] /= g->p.micro;
}

/* A MoE layer under the torch profile: the eager kernels of the dispatch mode (sim/eager.h) in the places the
 * all-to-alls cut them: router and dispatch, the experts, the combine; the shared experts first. */
static void eng_moe_eager(engine *g, int core, int layer, int ph, double tokens)
{
    const plan *p = &g->p;
    int sl = g->sparse_index[layer], enc = layer < g->m->enc_layers, bwd = ph == SCHED_BWD;
    int a2a1, a2a2;
    eng_a2a_colls(g, core, traffic_mat(g->tr, sl, enc), &a2a1, &a2a2);
    cost_dispatch dm = g->cfg->dispatch;
    eager_dispatch d = dm == COST_DISPATCH_DROPLESS ? EAGER_DROPLESS
                       : dm == COST_DISPATCH_EXPERT_CHOICE ? EAGER_EXPERT_CHOICE : EAGER_PADDED;
    int C = (enc ? p->capacity_enc : p->capacity_dec) * (p->groups / p->micro);   /* a micro-batch's buffer rows */
    double choices = (double)g->tr->lchoices[layer], kept = tokens * p->top_k;
    if (choices > 0.0)
        kept *= 1.0 - (double)g->tr->ldropped[layer] / choices;      /* the layer's share of choices kept */
    eng_expert_rows(g, g->rows, core, sl, enc);
    eager_moe em;
    eager_moe_work(&em, &g->chip, g->m, d, tokens, p->experts, p->top_k, g->rows, p->experts_per_core, kept, C, bwd);
    if (!bwd) {
        eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_FFN, &em.shared, 1.0, layer, ph);
        eng_work(g, core, SCHED_CAT_ROUTER, SCHED_N_ROUTER, &em.router, 1.0, layer, ph);
        eng_work(g, core, SCHED_CAT_DISPATCH, SCHED_N_DISPATCH, &em.dispatch, 1.0, layer, ph);
        eng_coll(g, a2a1, SCHED_CAT_A2A, SCHED_N_A2A, layer, ph);
        eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_EXPERT_FFN, &em.expert, 1.0, layer, ph);
        eng_coll(g, a2a2, SCHED_CAT_A2A, SCHED_N_A2A, layer, ph);
        eng_work(g, core, SCHED_CAT_DISPATCH, SCHED_N_COMBINE, &em.combine, 1.0, layer, ph);
    } else {
        eng_work(g, core, SCHED_CAT_DISPATCH, SCHED_N_COMBINE, &em.combine, 1.0, layer, ph);
        eng_coll(g, a2a1, SCHED_CAT_A2A, SCHED_N_A2A, layer, ph);
        eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_EXPERT_FFN, &em.expert, 1.0, layer, ph);
        eng_coll(g, a2a2, SCHED_CAT_A2A, SCHED_N_A2A, layer, ph);
        eng_work(g, core, SCHED_CAT_DISPATCH, SCHED_N_DISPATCH, &em.dispatch, 1.0, layer, ph);
        eng_work(g, core, SCHED_CAT_ROUTER, SCHED_N_ROUTER, &em.router, 1.0, layer, ph);
        eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_FFN, &em.shared, 1.0, layer, ph);
    }
}

static void eng_switch_layer(engine *g, int core, int layer, int ph, double tokens)
{
    if (g->impl == MODEL_IMPL_TORCH) {
        eng_moe_eager(g, core, layer, ph, tokens);
        return;
    }
    const plan *p = &g->p;
    const model_cfg *m = g->m;
    int sl = g->sparse_index[layer];
    int enc = layer < m->enc_layers;
    int S = enc ? p->group_enc : p->group_dec;
    int C = enc ? p->capacity_enc : p->capacity_dec;
    int bwd = ph == SCHED_BWD;
    cost_dispatch dmode = g->cfg->dispatch == COST_DISPATCH_EINSUM ? COST_DISPATCH_EINSUM : COST_DISPATCH_GATHER;
    int Cd = C;   /* the rows the gather copies, E x Cd: dropless every choice (S k), else the buffers */
    if (g->cfg->dispatch == COST_DISPATCH_DROPLESS)
        Cd = (int)(((long)S * p->top_k + p->experts - 1) / p->experts);
    int G = p->groups / p->micro;   /* a micro-batch's groups (whole groups: plan_choose) */
    int a2a1, a2a2;
    eng_a2a_colls(g, core, traffic_mat(g->tr, sl, enc), &a2a1, &a2a2);
    double *rows = g->rows;
    int epc = p->experts_per_core;
    const eng_impl *pi = &ENG_IMPL[g->impl];
    cost_work router, gating, build, disp, comb, ffn, ffn_fwd;
    cost_work_init(&router);
    cost_work_init(&gating);
    cost_work_init(&build);
    cost_work_init(&disp);
    cost_work_init(&comb);
    cost_work_init(&ffn);
    cost_work_init(&ffn_fwd);
    cost_router_work(&router, &g->chip, m, tokens, p->experts, p->top_k, bwd);
    cost_dispatch_work(&disp, &g->chip, m, dmode, G, S, p->experts, Cd, bwd ? 2 : 0);
    cost_dispatch_work(&comb, &g->chip, m, dmode, G, S, p->experts, Cd, bwd ? 1 : 0);
    if (!bwd) {   /* what the profile adds to gating: no gradient flows through it */
        if (g->cfg->jitter > 0.0)
            cost_jitter_work(&gating, &g->chip, m, tokens);
        if (pi->cumsum_einsum)
            cost_cumsum_einsum_work(&gating, &g->chip, G, S, p->experts, p->top_k);
        if (dmode == COST_DISPATCH_EINSUM)
            cost_combine_build_work(&build, &g->chip, G, S, p->experts, C,
                                    pi->build_passes_per_choice * p->top_k + pi->build_passes_fixed);
    }
    eng_expert_rows(g, rows, core, sl, enc);
    /* shared experts: one fused FFN on every token of the layer (nothing without them); remat recomputes it */
    cost_work shared;
    cost_work_init(&shared);
    for (int pass = 0; pass < (bwd && g->remat ? 2 : 1); pass++)
        cost_shared_ffn_work(&shared, &g->chip, m, tokens, p->model_par, bwd && pass == (g->remat ? 1 : 0));
    eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_FFN, &shared, 1.0, layer, ph);
    if (!bwd) {
        eng_work(g, core, SCHED_CAT_ROUTER, SCHED_N_GATING, &gating, 1.0, layer, ph);
        eng_work(g, core, SCHED_CAT_ROUTER, SCHED_N_ROUTER, &router, 1.0, layer, ph);
        eng_work(g, core, SCHED_CAT_DISPATCH, SCHED_N_COMBINE_BUILD, &build, 1.0, layer, ph);
        eng_work(g, core, SCHED_CAT_DISPATCH, SCHED_N_DISPATCH, &disp, 1.0, layer, ph);
        eng_coll(g, a2a1, SCHED_CAT_A2A, SCHED_N_A2A, layer, ph);
        cost_expert_ffn_work(&ffn, &g->chip, m, rows, epc, p->model_par, 0);
        eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_EXPERT_FFN, &ffn, 1.0, layer, ph);
        eng_coll(g, a2a2, SCHED_CAT_A2A, SCHED_N_A2A, layer, ph);
        eng_work(g, core, SCHED_CAT_DISPATCH, SCHED_N_COMBINE, &comb, 1.0, layer, ph);
    } else {
        /* gradients retrace the forward: combine, a2a toward the experts, expert FFN, a2a back, dispatch, router */
        eng_work(g, core, SCHED_CAT_DISPATCH, SCHED_N_COMBINE, &comb, 1.0, layer, ph);
        eng_coll(g, a2a1, SCHED_CAT_A2A, SCHED_N_A2A, layer, ph);
        if (g->remat) {
            cost_expert_ffn_work(&ffn_fwd, &g->chip, m, rows, epc, p->model_par, 0);
            eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_EXPERT_FFN, &ffn_fwd, 1.0, layer, ph);
        }
        cost_expert_ffn_work(&ffn, &g->chip, m, rows, epc, p->model_par, 1);
        eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_EXPERT_FFN, &ffn, 1.0, layer, ph);
        eng_coll(g, a2a2, SCHED_CAT_A2A, SCHED_N_A2A, layer, ph);
        eng_work(g, core, SCHED_CAT_DISPATCH, SCHED_N_DISPATCH, &disp, 1.0, layer, ph);
        eng_work(g, core, SCHED_CAT_ROUTER, SCHED_N_ROUTER, &router, 1.0, layer, ph);
    }
}

/* A decoder-only layer under the torch profile (sim/eager.h): attention sublayer, the FFN's norm and residual,
 * then the dense SwiGLU or the MoE layer; backward the FFN first. */
static void eng_layer_eager(engine *g, int core, int layer, int ph)
{
    const model_cfg *m = g->m;
    const plan *p = &g->p;
    int bwd = ph == SCHED_BWD, sparse = g->sparse_index[layer] >= 0;
    double T = (double)p->tokens_dec / p->micro;
    cost_work attn, norm, ffn;
    cost_work_init(&attn);
    cost_work_init(&norm);
    cost_work_init(&ffn);
    eager_attention_work(&attn, &g->chip, m, T / m->dec_seq, m->dec_seq, bwd);
    eager_norm_residual_work(&norm, &g->chip, m, T, bwd);
    if (!sparse)
        eager_swiglu_work(&ffn, &g->chip, m, T, m->d_ff, bwd);
    sched_mark(g->s, SCHED_MARK_BEGIN, layer, ph);
    if (!bwd) {
        eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_ATTENTION, &attn, 1.0, layer, ph);
        eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_NORM, &norm, 1.0, layer, ph);
    }
    if (sparse)
        eng_switch_layer(g, core, layer, ph, T);
    else
        eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_FFN, &ffn, 1.0, layer, ph);
    if (bwd) {
        eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_NORM, &norm, 1.0, layer, ph);
        eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_ATTENTION, &attn, 1.0, layer, ph);
    }
    sched_mark(g->s, SCHED_MARK_END, layer, ph);
}

/* One layer of one stack, forward or backward, on one core. */
static void eng_layer(engine *g, int core, int layer, int ph)
{
    if (g->impl == MODEL_IMPL_TORCH) {
        eng_layer_eager(g, core, layer, ph);
        return;
    }
    const plan *p = &g->p;
    const model_cfg *m = g->m;
    int enc = layer < m->enc_layers;
    int cross = !enc && m->arch != MODEL_ARCH_DEC_ONLY;     /* decoder of an encoder-decoder */
    int bwd = ph == SCHED_BWD;
    int mp = p->model_par;
    double T = (enc ? (double)p->tokens_enc : (double)p->tokens_dec) / p->micro;   /* a micro-batch's */
    sched_mark(g->s, SCHED_MARK_BEGIN, layer, ph);
    int passes = bwd && g->remat ? 2 : 1;   /* remat recomputes the forward before its backward */
    for (int pass = 0; pass < passes; pass++) {
        int b = pass == passes - 1 ? bwd : 0;
        cost_work self, xattn, norm, ffn;
        cost_work_init(&self);
        cost_work_init(&xattn);
        cost_work_init(&norm);
        cost_work_init(&ffn);
        cost_attention_work(&self, &g->chip, m, T, enc ? m->enc_seq : m->dec_seq, enc ? m->enc_seq : m->dec_seq, mp, b);
        if (cross)
            cost_attention_work(&xattn, &g->chip, m, T, m->dec_seq, m->enc_seq, mp, b);
        g->hw[core] += self.hw_flops + xattn.hw_flops;
        sched_op(g->s, SCHED_CAT_COMPUTE, SCHED_N_ATTENTION, cross ? self.t_s + xattn.t_s : self.t_s, layer, ph);
        cost_layernorm_residual_work(&norm, &g->chip, m, T, b);
        eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_NORM, &norm, cross ? 3 : 2, layer, ph);
        if (g->sparse_index[layer] < 0) {
            cost_dense_ffn_work(&ffn, &g->chip, m, T, mp, b);
            eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_FFN, &ffn, 1.0, layer, ph);
        }
    }
    eng_model_allreduce(g, enc, T, layer, ph);                 /* attention output */
    if (cross)
        eng_model_allreduce(g, enc, T, layer, ph);             /* cross-attention output */
    if (g->sparse_index[layer] >= 0)
        eng_switch_layer(g, core, layer, ph, T);
    eng_model_allreduce(g, enc, T, layer, ph);                 /* FFN output */
    sched_mark(g->s, SCHED_MARK_END, layer, ph);
}

/* 'params' (the parameters a chip of a plain plan holds, before model parallelism) as a core holds them: over the
 * model-parallel ways and the pipeline's stages, the largest stage's share when the stages are uneven (one
 * gradient collective serves every stage's groups: it carries the largest stage's bytes, and every stage's
 * optimizer updates that many; the slowest stage sets the pace). */
double eng_stage_params(const engine *g, double params)
{
    const plan *p = &g->p;
    if (g->nlayers % p->pipe == 0)
        return params / p->model_par / p->pipe;
    return params / p->model_par * plan_stage_share(p, g->nlayers);
}

/* The gradient collectives, the optimizer and the step's last barrier.  Gradients: dense parameters over the
 * data-parallel replicas, expert parameters over the cores that share an expert; per chip, the bytes of the slices
 * its cores hold.  ZeRO-1: each all-reduce becomes a reduce-scatter (the additions as before), the optimizer
 * updates 1/replicas of the parameters, and an all-gather of the updated parameters follows (same bytes). */
static void eng_step_end(engine *g, int core)
{
    const model_cfg *m = g->m;
    const plan *p = &g->p;
    double dense_local = eng_stage_params(g, model_params_dense(m));
    double expert_local = p->experts > 1 ? eng_stage_params(g, model_params_expert(m) / p->experts
                                                               * p->experts_per_core) : 0;
    eng_allreduce(g, core, g->grad_coll, sched_coll_at(g->s, g->grad_coll)->chip_bytes, &g->grad);
    if (g->has_expert_groups)
        eng_allreduce(g, core, g->expert_coll, sched_coll_at(g->s, g->expert_coll)->chip_bytes, &g->expert);
    if (p->zero) {
        dense_local /= p->data;
        expert_local /= p->cores_per_expert;
    }
    if (g->impl == MODEL_IMPL_TORCH) {   /* fused AdamW over the core's share; the weight casts' gradients */
        eager_params ep;
        eager_params_count(&ep, m, p->experts_per_core);
        double share = (dense_local + expert_local) / (ep.params > 0.0 ? ep.params : 1.0);
        cost_work opt, casts;
        cost_work_init(&opt);
        cost_work_init(&casts);
        eager_casts_work(&casts, &g->chip, &ep, 1);
        cost_fused_adamw_work(&opt, &g->chip, ep.params * share, ep.tensors);
        eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_CAST, &casts, 1.0, -1, SCHED_BWD);
        eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_OPTIMIZER, &opt, 1.0, -1, SCHED_BWD);
    } else {
        sched_op(g->s, SCHED_CAT_COMPUTE, SCHED_N_OPTIMIZER, cost_optimizer_s(&g->chip, dense_local + expert_local),
                 -1, SCHED_BWD);
    }
    if (p->zero) {
        eng_coll(g, g->grad_ag, SCHED_CAT_ALLREDUCE, SCHED_N_ALLGATHER, -1, SCHED_BWD);
        if (g->has_expert_groups)
            eng_coll(g, g->expert_ag, SCHED_CAT_ALLREDUCE, SCHED_N_ALLGATHER, -1, SCHED_BWD);
    }
    sched_barrier_all(g->s, -1, SCHED_BWD);
}

/* Core 'core''s list: embeddings, the layers forward, the vocab softmax and loss, the layers backward, the
 * gradient all-reduces, the optimizer, a final barrier. */
int eng_core_list(engine *g, int core, errbuf *err)
{
    const model_cfg *m = g->m;
    const plan *p = &g->p;
    double Tenc = (double)p->tokens_enc, Tdec = (double)p->tokens_dec;
    cost_work w[5];
    for (int i = 0; i < 5; i++)
        cost_work_init(&w[i]);
    if (g->impl == MODEL_IMPL_TORCH) {
        eager_params ep;
        eager_params_count(&ep, m, p->experts_per_core);
        eager_embed_work(&w[0], &g->chip, m, Tdec, 0);
        eager_head_loss_work(&w[1], &g->chip, m, Tdec, 0);
        eager_head_loss_work(&w[2], &g->chip, m, Tdec, 1);
        eager_embed_work(&w[3], &g->chip, m, Tdec, 1);
        eager_casts_work(&w[4], &g->chip, &ep, 0);
    } else {
        cost_embed_work(&w[0], &g->chip, m, Tenc + Tdec, 0);
        cost_vocab_loss_work(&w[1], &g->chip, m, Tdec, p->model_par, 0);
        cost_vocab_loss_work(&w[2], &g->chip, m, Tdec, p->model_par, 1);
        cost_embed_work(&w[3], &g->chip, m, Tenc + Tdec, 1);
    }
    sched_begin(g->s, core);
    eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_CAST, &w[4], 1.0, -1, SCHED_FWD);   /* torch: autocast's */
    eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_EMBED, &w[0], 1.0, -1, SCHED_FWD);
    for (int l = 0; l < g->nlayers; l++)
        eng_layer(g, core, l, SCHED_FWD);
    eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_VOCAB_LOSS, &w[1], 1.0, -1, SCHED_FWD);
    eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_VOCAB_LOSS, &w[2], 1.0, -1, SCHED_BWD);
    for (int l = g->nlayers - 1; l >= 0; l--)
        eng_layer(g, core, l, SCHED_BWD);
    eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_EMBED, &w[3], 1.0, -1, SCHED_BWD);
    eng_step_end(g, core);
    return sched_end(g->s, err);
}

/* A pipeline stage's list (plan p->pipe > 1): stage s = core / (n m) runs its layers (plan_stage_layers: L = layers
 * / P each, the first layers mod P stages L + 1), over p->micro micro-batches in the 1F1B order (sched_1f1b); the first stage embeds, the last adds the vocab
 * softmax and loss.  Between stages the corresponding cores send a micro-batch's activations forward and their
 * gradients back: [tokens, d_model] of the boundary's stack, plus the encoder output when the boundary is in the
 * decoder (its cross-attention keys), at act_bytes each.  The cool-down ends in a flush (its wait is bubble), then
 * the gradient collectives of the stage's replicas. */
int eng_core_list_pipe(engine *g, int core, errbuf *err)
{
    const model_cfg *m = g->m;
    const plan *p = &g->p;
    int sc = p->data * p->model_par, st = core / sc, P = p->pipe, K = p->micro, l0, l1;
    plan_stage_layers(p, g->nlayers, st, &l0, &l1);
    double Tenc = (double)p->tokens_enc / K, Tdec = (double)p->tokens_dec / K;
    double bytes = (l1 - 1 < m->enc_layers ? Tenc : Tenc + Tdec) * m->d_model * g->cfg->act_bytes;
    int *mb = malloc(2 * (size_t)K * sizeof *mb), *bwd = malloc(2 * (size_t)K * sizeof *bwd);
    if (mb == NULL || bwd == NULL || sched_1f1b(mb, bwd, st, P, K) != 0) {
        free(mb);
        free(bwd);
        return errbuf_set(err, "out of memory building the pipeline schedule");
    }
    cost_work w[4];
    for (int i = 0; i < 4; i++)
        cost_work_init(&w[i]);
    cost_embed_work(&w[0], &g->chip, m, Tenc + Tdec, 0);
    cost_vocab_loss_work(&w[1], &g->chip, m, Tdec, p->model_par, 0);
    cost_vocab_loss_work(&w[2], &g->chip, m, Tdec, p->model_par, 1);
    cost_embed_work(&w[3], &g->chip, m, Tenc + Tdec, 1);
    sched_begin(g->s, core);
    for (int i = 0; i < 2 * K; i++) {
        if (!bwd[i]) {
            if (st > 0)
                sched_recv(g->s, core - sc, -1, SCHED_FWD);
            else
                eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_EMBED, &w[0], 1.0, -1, SCHED_FWD);
            for (int l = l0; l < l1; l++)
                eng_layer(g, core, l, SCHED_FWD);
            if (st < P - 1)
                sched_send(g->s, core + sc, bytes, -1, SCHED_FWD);
            else
                eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_VOCAB_LOSS, &w[1], 1.0, -1, SCHED_FWD);
        } else {
            if (st < P - 1)
                sched_recv(g->s, core + sc, -1, SCHED_BWD);
            else
                eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_VOCAB_LOSS, &w[2], 1.0, -1, SCHED_BWD);
            for (int l = l1 - 1; l >= l0; l--)
                eng_layer(g, core, l, SCHED_BWD);
            if (st > 0)
                sched_send(g->s, core - sc, bytes, -1, SCHED_BWD);
            else
                eng_work(g, core, SCHED_CAT_COMPUTE, SCHED_N_EMBED, &w[3], 1.0, -1, SCHED_BWD);
        }
    }
    free(mb);
    free(bwd);
    sched_flush(g->s, -1, SCHED_BWD);
    eng_step_end(g, core);
    return sched_end(g->s, err);
}

/* Bounded copy that always terminates (output columns have fixed widths). */
