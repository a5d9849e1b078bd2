/* eager: the torch implementation profile.  The kernels eager PyTorch launches for one training step of a
 * decoder-only MoE transformer (pre-norm RMSNorm, fused QKV projection, rotary embeddings, flash attention,
 * SwiGLU, an fp32 router, dropless / padded / expert-choice dispatch, untied head, fp32 cross-entropy) under
 * bf16 autocast over fp32 parameters, with the fused AdamW: the program analysis/measure/moe_step.py runs
 * [SOURCES 5.3 PyTorch eager].  Every element-wise op is its own kernel (its own launch, its own pass over HBM:
 * cost_torch_eltwise_work), every matmul a cuBLAS call (cost_matmul_work), the expert matmuls a grouped GEMM
 * (cost_grouped_mm_work) or a batched matmul over capacity buffers.  Backward ops follow autograd's formulas of
 * the forward ops (each written next to its kernel in eager.c).  Pure functions of shapes and chip numbers.
 *
 * Shapes: T tokens this GPU holds (batch x seq), D d_model, H query heads and KV key/value heads of hd each, F a
 * dense FFN's width, Fe an expert's, E experts, k choices per token, V the vocabulary.  The residual stream is
 * fp32 (the embedding's dtype), matmul outputs bf16. */
#ifndef SWITCHSIM_EAGER_H
#define SWITCHSIM_EAGER_H

#include "models/model.h"
#include "sim/cost.h"

/* How a MoE layer's tokens reach its experts (the program's three dispatches). */
typedef enum { EAGER_DROPLESS, EAGER_PADDED, EAGER_EXPERT_CHOICE } eager_dispatch;

/* Kernels of radix-sorting n keys (torch.sort / argsort and index_put_'s accumulate path through CUB: the
 * key and index passes, each reading and writing 16 B per element).  Assumption: the count of CUB's launches
 * at these sizes was not traced. */
#define EAGER_SORT_KERNELS 4

/* The attention sublayer of one layer on 'batch' sequences of 'seq' tokens: RMSNorm, the input's bf16 cast, the
 * fused QKV projection, rotary embeddings on q and k (neg, cat, two products with the fp32 tables and their
 * sum), q and k cast to bf16 for SDPA, flash attention (causal), the output projection and the residual add;
 * backward the same in autograd's order, with the gradient accumulations.  Adds to 'w'. */
void eager_attention_work(cost_work *w, const cost_chip *c, const model_cfg *m, double batch, int seq,
                          int backward);

/* The FFN sublayer's norm and residual: RMSNorm of the residual stream, the add of the FFN's bf16 output into it
 * (backward: its gradient cast to bf16 for the FFN, and the accumulation of the two gradients of the stream). */
void eager_norm_residual_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens, int backward);

/* A SwiGLU FFN of width 'width' (a dense layer's d_ff, or the shared experts' shared_experts x d_ff_expert) on
 * 'tokens' fp32 rows: two bf16 casts of the input (autocast casts a non-leaf tensor at every use), w1 and w3,
 * silu, the product, w2.  Nothing when width <= 0. */
void eager_swiglu_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens, double width,
                       int backward);

/* One MoE layer, its kernels in the places a step schedules them.  rows (E_local): the rows each local expert
 * computes (dropless: its routed choices; padded and expert choice: its capacity C); kept: the choices that
 * reached an expert (padded), the rows gathered. */
typedef struct {
    cost_work router;     /* fp32 router matmul, softmax, top-k and gates (or expert choice's top-C), aux loss */
    cost_work dispatch;   /* the sort / positions, the gather of token rows and their bf16 cast */
    cost_work expert;     /* the expert weights' bf16 casts, the expert SwiGLU */
    cost_work combine;    /* the un-permute, gate weighting and sum back to tokens, the cast to fp32 */
    cost_work shared;     /* the shared experts' SwiGLU and its add */
} eager_moe;
void eager_moe_work(eager_moe *out, const cost_chip *c, const model_cfg *m, eager_dispatch d, double tokens,
                    int experts, int top_k, const double *rows, int experts_local, double kept, int capacity,
                    int backward);

/* The token embedding: forward, a gather of T fp32 rows; backward, embedding_dense_backward: the index sort,
 * a zeroed fp32 [V, D] gradient and the scatter-add of the T rows. */
void eager_embed_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens, int backward);

/* The final RMSNorm, the untied head's bf16 matmul to [T, V] logits, their fp32 copy (logits.float()), log-softmax
 * and the NLL loss; backward their gradients. */
void eager_head_loss_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens, int backward);

/* Parameters and parameter tensors of the program: all of them (the fused AdamW's), and the leaf weights
 * autocast casts to bf16 once per step (the projections, dense and shared FFN matrices and the head; not the
 * norms, embedding, fp32 router or the expert weights, which the program casts itself at every use).
 * A MoE layer holds 'experts_local' of its experts (all of them on one GPU). */
typedef struct {
    double params, tensors;            /* what the optimizer updates */
    double cast_params, cast_tensors;  /* what autocast casts */
} eager_params;
void eager_params_count(eager_params *p, const model_cfg *m, int experts_local);

/* The step's weight casts: forward, autocast's bf16 copies; backward, their gradients back to fp32
 * (cost_autocast_cast_work). */
void eager_casts_work(cost_work *w, const cost_chip *c, const eager_params *p, int backward);

#endif
