/* cost_int: what sim/cost.c lends sim/cost_torch.c, the other half of the cost module (not for other modules:
 * nothing outside those two files includes it).  The op helpers every priced kernel goes through. */
#ifndef SWITCHSIM_COST_INT_H
#define SWITCHSIM_COST_INT_H

#include "sim/cost.h"

/* Bandwidth a streaming op reaches: hbm_Bps on a TPU (not derated), hbm_Bps x hbm_efficiency on a GPU. */
double cost_hbm_rate(const cost_chip *c);

/* One vector op of 'flops' fp32 FLOPs moving 'bytes': max(flops / fp32_vec_flops, bytes / cost_hbm_rate) +
 * op_overhead_s, added to 'w' (vec_flops, hbm_B, one op).  Nothing when both are <= 0. */
void cost_vec_work(cost_work *w, const cost_chip *c, double flops, double bytes);

/* One matmul per expert, batch x (rows[e],K)@(K,N) for e < n, batched into one op (an einsum over experts), or
 * with 'backward' its two gradient ops dA and dB; bf16 operands and output (COST_BF16) or fp32 ones at the
 * chip's matmul_precision (COST_FP32).  Tensor time: TPU, the op's MXU cycles; GPU, the tile waves of the
 * experts' matmuls (cost.c's gpu_tensor_s); an expert of 0 rows adds nothing.  Adds to 'w'. */
void cost_rows_work(cost_work *w, const cost_chip *c, double batch, const double *rows, int n, double K, double N,
                    cost_prec p, int backward);

#endif
