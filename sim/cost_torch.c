/* cost_torch: the torch profile's kernels in the cost model (eager PyTorch on a GPU: element-wise kernels,
 * flash attention, autocast casts, fused AdamW, grouped GEMM), part of the cost module (sim/cost.h declares
 * them).  Pure arithmetic like sim/cost.c, whose op helpers it borrows through sim/cost_int.h. */
#include "sim/cost.h"
#include "sim/cost_int.h"

#include <math.h>

void cost_torch_eltwise_work(cost_work *w, const cost_chip *c, double elems, double in_B, double out_B,
                             double flops_per_elem)
{
    if (elems <= 0.0)
        return;
    cost_vec_work(w, c, elems * flops_per_elem, elems * (in_B + out_B));
}

/* One tensor-core launch of 'flops' FLOPs moving 'bytes': max(tensor time, HBM time) + overhead. */
static void tensor_launch(cost_work *w, const cost_chip *c, double flops, double bytes)
{
    double tensor_s = flops / (c->bf16_flops * c->mm_efficiency);
    w->t_s += fmax(tensor_s, bytes / cost_hbm_rate(c)) + c->op_overhead_s;
    w->mm_flops += flops;
    w->hw_flops += flops;
    w->hbm_B += bytes;
    w->ops += 1.0;
}

void cost_flash_attention_work(cost_work *w, const cost_chip *c, double batch, int seq, int heads, int kv_heads,
                               int head_dim, int causal, int backward)
{
    if (batch <= 0.0 || seq <= 0 || heads <= 0 || kv_heads <= 0 || head_dim <= 0)
        return;
    double S = seq, d = head_dim;
    double pairs = causal ? S * (S + 1.0) / 2.0 : S * S;
    double fwd_flops = 4.0 * batch * heads * pairs * d;
    double q_B = batch * S * heads * d * COST_BF16_BYTES;      /* Q, O, dO, dQ each */
    double kv_B = batch * S * kv_heads * d * COST_BF16_BYTES;  /* K, V, dK, dV each */
    double lse_B = batch * heads * S * COST_FP32_BYTES;        /* log-sum-exp, and rowsum(dO * O) */
    if (!backward) {
        tensor_launch(w, c, fwd_flops, 2.0 * q_B + 2.0 * kv_B + lse_B);
        return;
    }
    cost_vec_work(w, c, 2.0 * batch * S * heads * d, 2.0 * q_B + lse_B);   /* rowsum(dO * O): multiply, add */
    /* reads Q, O, dO, K, V, the log-sum-exp and the row sums; writes dQ, dK, dV */
    tensor_launch(w, c, 2.5 * fwd_flops, 4.0 * q_B + 4.0 * kv_B + 2.0 * lse_B);
}

void cost_autocast_cast_work(cost_work *w, const cost_chip *c, double params, double tensors, int backward)
{
    (void)backward;   /* fp32 -> bf16 forward, bf16 -> fp32 backward: the same bytes */
    if (params <= 0.0 || tensors <= 0.0)
        return;
    double bytes = params * (COST_FP32_BYTES + COST_BF16_BYTES);
    w->t_s += bytes / cost_hbm_rate(c) + tensors * c->op_overhead_s;
    w->hbm_B += bytes;
    w->ops += tensors;
}

void cost_fused_adamw_work(cost_work *w, const cost_chip *c, double params, double tensors)
{
    if (params <= 0.0 || tensors <= 0.0)
        return;
    double launches = fmax(ceil(tensors / COST_ADAMW_TENSORS_PER_LAUNCH),
                           ceil(ceil(params / COST_ADAMW_CHUNK_ELEMS) / COST_ADAMW_BLOCKS_PER_LAUNCH));
    double flops = COST_ADAMW_FLOPS_PER_PARAM * params, bytes = COST_ADAMW_BYTES_PER_PARAM * params;
    w->t_s += fmax(flops / c->fp32_vec_flops, bytes / cost_hbm_rate(c)) + launches * c->op_overhead_s;
    w->vec_flops += flops;
    w->hbm_B += bytes;
    w->ops += launches;
}

void cost_grouped_mm_work(cost_work *w, const cost_chip *c, const double *rows, int E, double K, double N,
                          int backward)
{
    cost_chip g = *c;
    if (c->grouped_mm_efficiency > 0.0)
        g.mm_efficiency = c->grouped_mm_efficiency;
    cost_rows_work(w, &g, 1.0, rows, E, K, N, COST_BF16, backward);
}
