/* cost: the cost model of one TPU-like core or one GPU.  Pure functions of shapes and chip numbers: no
 * SimGrid here (sim/platform.c fills cost_chip from the platform's host properties). */
#ifndef SWITCHSIM_COST_H
#define SWITCHSIM_COST_H

#include "models/model.h"
#include "sim/common/errbuf.h"
#include "topologies/chip.h"

#define COST_CHIP_NAME_MAX CHIP_NAME_MAX

/* Chip family (field 'family'): a TPU-like core or a GPU, chip_family (topologies/chip.h) by the cost model's
 * names. */
typedef enum { COST_FAMILY_TPU = CHIP_FAMILY_TPU, COST_FAMILY_GPU = CHIP_FAMILY_GPU } cost_family;

/* The program's numeric precision [SOURCES 2.1 Table 2] (field 'precision').  SELECTIVE (the Switch paper's
 * choice and the default): bf16 activations, matmuls and all-to-all payloads, the router in fp32.  BF16: the
 * router too in bf16.  FP32: fp32 everywhere (4-byte activations in HBM and on the wire, every matmul an fp32
 * one).  What an fp32 matmul costs is the chip's matmul_precision (cost_fp32_matmul_passes,
 * cost_fp32_matmul_flops): on a TPU at the default one bf16 pass, so there fp32 costs bytes, not passes. */
typedef enum { COST_PRECISION_SELECTIVE = 0, COST_PRECISION_BF16 = 1, COST_PRECISION_FP32 = 2 } cost_precision;

/* One TPU-like core or one GPU: the chip table's chip_spec (topologies/chip.h), whose fields the platform's
 * host properties fill (sim/platform.c) or a preset gives (cost_chip_tpuv3 and the like).  On a GPU, one
 * 'core' is the whole GPU (cores_per_chip 1), bf16_flops is the dense bf16 tensor-core peak, fp32_vec_flops the
 * plain FP32 (CUDA core) rate, onchip_bytes the L2, op_overhead_s the time from one kernel's end to the next
 * one's start; fields of the other family stay 0.  'precision' is no platform property: the engine sets it from
 * --precision (the presets and platform_read leave SELECTIVE). */
typedef chip_spec cost_chip;

/* Numeric precision of a matmul's operands.  BF16: bf16 in, fp32 accumulate, bf16 out (one MXU pass).
 * FP32: fp32 in and out, run at the chip's matmul_precision (the router's selective precision). */
typedef enum { COST_BF16, COST_FP32 } cost_prec;

/* How tokens reach the experts: TPU one-hot einsums into capacity buffers sent whole (GShard Alg. 2), a gather of
 * the kept tokens (memory-bound copy), dropless (every choice kept: tokens sorted by expert, each expert's true
 * rows, a grouped GEMM), or expert choice (each expert takes its top C tokens of a group: buffers of C rows). */
typedef enum {
    COST_DISPATCH_EINSUM, COST_DISPATCH_GATHER, COST_DISPATCH_DROPLESS, COST_DISPATCH_EXPERT_CHOICE
} cost_dispatch;
/* "padded", "exact", "dropless", "expert-choice": the --dispatch words and the CSV's 'dispatch' column */
const char *cost_dispatch_name(cost_dispatch d);

/* Rows fed into the MXU per pass: one bf16[8,128] @ bf16[128,128] every 8 cycles [SOURCES 5.1 SB],
 * so M is padded to a multiple of 8 while K and N are padded to 'mxu_dim'. */
#define COST_MXU_FEED_ROWS 8

/* Fraction of the MXU's peak a long matmul sustains (pipeline fill/drain, weight loads between tiles).
 * Assumption, calibrated only against GShard Fig. 8 [SOURCES 6.1]: "dense matmuls >85% of peak FLOPs";
 * 0.90 sits inside that bound and leaves room for padding and the per-op overhead. */
#define COST_MXU_EFFICIENCY 0.90

/* Bytes per element.  Activations, weights fed to the MXU and all-to-all payloads are bf16 (Switch
 * selective precision [SOURCES 3]); the router and the loss work in fp32. */
#define COST_BF16_BYTES 2.0
#define COST_FP32_BYTES 4.0

/* Adafactor-like optimizer update per parameter (fp32 weights, factored second moments, no momentum as in
 * T5's Adafactor): the gradient is read three times (row/column mean squares, the update's RMS clip,
 * the update itself) and the weight read and written once: 5 x 4 B.  FLOPs: square, two reductions,
 * rsqrt-scale, clip, scale, add, about 10 per parameter.  Assumption (the pass count is ours; no
 * measured figure in SOURCES.md). */
#define COST_ADAFACTOR_BYTES_PER_PARAM 20.0
#define COST_ADAFACTOR_FLOPS_PER_PARAM 10.0

/* What a sequence of ops costs: the modelled time and the work behind it.  Filled by the _work
 * functions below (which add to it: zero it first with cost_work_init); the _s functions return t_s. */
typedef struct {
    double t_s;        /* modelled time, seconds (sum of the ops' times) */
    double mm_flops;   /* useful matmul FLOPs: 2*M*K*N of the unpadded shapes, bf16-pass equivalent not counted */
    double hw_flops;   /* matmul FLOPs the hardware runs: mm_flops, an fp32 matmul on a TPU counted once per bf16
                        * pass (cost_fp32_matmul_passes; so is a GPU's bf16x3); every op the engine charges is in it (one-hot einsums, the
                        * capacity-padded expert buffers, recomputation), MXU tile padding is not */
    double vec_flops;  /* vector-unit FLOPs (fp32) */
    double hbm_B;      /* bytes read from and written to HBM */
    double ops;        /* ops launched; each pays 'op_overhead_s' once */
} cost_work;

void cost_work_init(cost_work *w);

/* bf16 passes of an fp32 matmul at the chip's matmul_precision.  TPU: MXU passes, 1 (default), 3 (high) or 6
 * (highest) [SOURCES 5.3].  GPU: 3 at high (bf16x3), else 1 (one pass of the TF32 or FP32 units). */
double cost_fp32_matmul_passes(const cost_chip *c);
/* GPU: the rate of an fp32 matmul at the chip's matmul_precision: tf32_flops (default), bf16_flops / 3 (high,
 * bf16x3) or fp32_matmul_flops (highest: true fp32 on the CUDA cores) [SOURCES 5.3]. */
double cost_fp32_matmul_flops(const cost_chip *c);

/* Default numbers for one TPUv3 TensorCore: the topologies/chip.c preset, as the shipped platforms carry it
 * (2 MXUs of 128x128 at 940 MHz, so bf16 61.6 TFLOP/s; 16 GiB HBM at 450 GB/s, 16 MiB VMEM; fp32 matmuls at
 * precision default; the fp32 vector rate and the per-op overhead are assumptions named there).  The engine
 * reads the platform instead. */
void cost_chip_tpuv3(cost_chip *c);
/* Default numbers for one H100 SXM / H200 SXM GPU (datasheet, measured, fitted or assumed: each marked in
 * topologies/chip.c):
 * 132 SMs, bf16 989.4 TFLOP/s, TF32 494.7, fp32 matmul (precision highest) and vector 66.9 TFLOP/s, 50 MB L2,
 * 128x128 tiles with K step 64, the fitted mm_efficiency, hbm_efficiency and per-kernel overhead; HBM 80 GB at 3.35 TB/s (H100) or 141 GB at
 * 4.8 TB/s (H200).  The two differ only in 'chip', 'hbm_bytes' and 'hbm_Bps'. */
void cost_chip_h100(cost_chip *c);
void cost_chip_h200(cost_chip *c);

/* TPU: MXU cycles of 'batch' independent (M,K)@(K,N) matmuls: M padded to COST_MXU_FEED_ROWS, K and N to
 * 'mxu_dim'; each MXU takes one (8-row, K tile, N tile) block every 8 cycles, blocks spread evenly over
 * the MXUs (rounded up); FP32 multiplies by cost_fp32_matmul_passes.  0 when any dimension is <= 0.
 * GPU: 0 (there is no MXU; see cost_gpu_waves and cost_bmatmul_s). */
double cost_matmul_cycles(const cost_chip *c, double batch, double M, double K, double N, cost_prec p);

/* GPU: the waves of 'batch' independent (M,N)-output matmuls, ceil(batch * ceil(M/tile_m) *
 * ceil(N/tile_n) / sms): how many rounds of 'sms' output tiles the op takes.  0 on a TPU, or when any
 * argument is <= 0. */
double cost_gpu_waves(const cost_chip *c, double batch, double M, double N);

/* (M,K)@(K,N): time = max(tensor time, HBM bytes / HBM rate) + op_overhead_s.  HBM bytes = unpadded A, B
 * and output, each moved once (on-chip tiling reuse assumed).
 * TPU: tensor time = MXU cycles / clock / COST_MXU_EFFICIENCY, HBM rate = hbm_Bps.
 * GPU: the output is cut into tile_m x tile_n tiles per matmul, K padded to a multiple of tile_k; tiles
 * run in waves of 'sms' (cost_gpu_waves), a tile taking 2*tile_m*tile_n*Kpad / (rate/sms) / mm_efficiency
 * with rate = bf16_flops, or cost_fp32_matmul_flops for COST_FP32; so
 * tensor time = waves x tile time.  HBM rate = hbm_Bps * hbm_efficiency.
 * 0 when any dimension is <= 0 (no op is launched). */
double cost_matmul_s(const cost_chip *c, double M, double K, double N, cost_prec p);
/* 'batch' independent matmuls in one op (a batched einsum such as the per-head QK^T). */
double cost_bmatmul_s(const cost_chip *c, double batch, double M, double K, double N, cost_prec p);

/* batch x (M,K)@(K,N) as one op, bf16 operands and output (COST_BF16) or fp32 ones at the chip's matmul_precision
 * (COST_FP32), priced as cost_bmatmul_s; backward: its two gradient ops dA = dY B^T and dB = A^T dY instead.
 * Adds to 'w'. */
void cost_matmul_work(cost_work *w, const cost_chip *c, double batch, double M, double K, double N, cost_prec p,
                      int backward);

/* Elementwise / reduction work: max(flops / fp32_vec_flops, bytes / HBM rate) + op_overhead_s (HBM rate
 * as for matmuls: hbm_Bps, times hbm_efficiency on a GPU); 0 when both are <= 0. */
double cost_vector_s(const cost_chip *c, double flops, double bytes);

/* Whole-sublayer helpers for ONE core.  'tokens' = query tokens this core holds (its data shard);
 * 'seq' = query sequence length, 'kv_seq' = key length (seq for self-attention, the encoder length for
 * cross-attention); 'model_par' = m, heads and d_ff (and the vocab) split over m.  backward != 0 returns
 * the backward time instead: for every matmul Y = A@B the two matmuls dA = dY@B^T and dB = A^T@dY
 * (2x the forward FLOPs, same padding rules), and the vector ops' gradients.  The _work twins add the
 * same ops to 'w'. */
double cost_attention_s(const cost_chip *c, const model_cfg *m, double tokens, int seq, int kv_seq,
                        int model_par, int backward);
void cost_attention_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens, int seq,
                         int kv_seq, int model_par, int backward);

/* Dense FFN: relu: (N,D)@(D,F/m), relu, (N,F/m)@(F/m,D); geglu: two input matmuls, gelu * linear. */
double cost_dense_ffn_s(const cost_chip *c, const model_cfg *m, double tokens, int model_par, int backward);
/* The shared experts of a MoE layer (DeepSeek, Qwen-MoE, Llama 4) as one fused FFN of width
 * shared_experts * d_ff_expert on every token; nothing for a model without them. */
void cost_shared_ffn_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens, int model_par,
                          int backward);
void cost_dense_ffn_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens, int model_par,
                         int backward);

/* One RMS layer norm (T5) and one residual add over (tokens, D). */
double cost_layernorm_residual_s(const cost_chip *c, const model_cfg *m, double tokens, int backward);
void cost_layernorm_residual_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens,
                                  int backward);

/* Router: fp32 logits (N,D)@(D,E), softmax, top-k, one-hot + cumsum positions per choice, aux loss. */
double cost_router_s(const cost_chip *c, const model_cfg *m, double tokens, int E, int k, int backward);
void cost_router_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens, int E, int k,
                      int backward);

/* ONE dispatch (or combine: the same forward cost) for 'groups' groups of S tokens into (E,C,D).  EINSUM: the
 * one-hot matmul (E*C,S)@(S,D) per group, 2*S*E*C*D FLOPs at bf16 [SOURCES 7, GShard Alg. 2].  backward 1:
 * the combine's two gradient matmuls (expert outputs and the combine tensor); backward 2: the dispatch's one
 * (its inputs: the mask, cast to bool, has no gradient) [SOURCES 4.2].  GATHER: a memory-bound copy of the
 * E*C buffer rows (read + write); backward (1 or 2) the matching scatter-add. */
double cost_dispatch_s(const cost_chip *c, const model_cfg *m, cost_dispatch mode, double groups, int S, int E,
                       int C, int backward);
void cost_dispatch_work(cost_work *w, const cost_chip *c, const model_cfg *m, cost_dispatch mode, double groups,
                        int S, int E, int C, int backward);

/* Expert FFN of this core's experts: rows[e] tokens for e in [0, experts_local), d_ff split over
 * model_par, relu or geglu per m->act.  All experts form one batched einsum per matmul (one overhead).
 * On a GPU the experts' tiles share the op's waves; in the weight gradient dW = A^T dY each expert's tiles
 * have its own contraction (its rows): a wave lasts as long as its longest tile, longest tiles first
 * (see gpu_tensor_s in cost.c). */
double cost_expert_ffn_s(const cost_chip *c, const model_cfg *m, const double *rows, int experts_local,
                         int model_par, int backward);
void cost_expert_ffn_work(cost_work *w, const cost_chip *c, const model_cfg *m, const double *rows,
                          int experts_local, int model_par, int backward);

/* Gating work of an implementation profile [SOURCES 4.2] (the engine charges it to the router):
 * cumsum_einsum: Mesh TensorFlow's exclusive cumsum over a group as an einsum with a 0/1 triangular [S,S]
 *   matrix, per group and choice (S,S)@(S,E) at the router's precision: 2*S*S*E FLOPs each, forward only.
 * jitter: the router input times uniform noise over [tokens, D] (draw, scale, multiply), reading the
 *   activation and writing its fp32 copy.
 * combine_build: 'passes' element-wise passes over the [groups, S, E, C] combine tensor (products of the gate
 *   and the one-hots, the add of top-2's two, casts), each reading and writing 4-byte elements. */
void cost_cumsum_einsum_work(cost_work *w, const cost_chip *c, double groups, int S, int E, int k);
void cost_jitter_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens);
void cost_combine_build_work(cost_work *w, const cost_chip *c, double groups, int S, int E, int C, double passes);

/* Token embedding lookup of (tokens, D) rows; backward the scatter-add into an fp32 gradient. */
double cost_embed_s(const cost_chip *c, const model_cfg *m, double tokens, int backward);
void cost_embed_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens, int backward);

/* Output logits (N,D)@(D,V/m) in fp32 output, log-softmax cross-entropy; backward softmax - onehot and
 * the two matmuls. */
double cost_vocab_loss_s(const cost_chip *c, const model_cfg *m, double tokens, int model_par, int backward);
void cost_vocab_loss_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens, int model_par,
                          int backward);

/* Adafactor-like update of 'params' local parameters (fp32 weights, factored second moments, no
 * momentum): memory-bound, COST_ADAFACTOR_BYTES_PER_PARAM bytes per parameter on a TPU, the chip's
 * opt_bytes_per_param on a GPU. */
double cost_optimizer_s(const cost_chip *c, double params);

/* Per-core memory.  Parameters are fp32 master weights (4 B each, as the paper's float32 weights);
 * optimizer = fp32 gradients (4 B each) + Adafactor factored second moments (<= 2/D floats per
 * parameter); activations = what the backward pass keeps for the encoder and decoder layers, the
 * combine tensors of the Switch layers (m->capacity_factor x m->top_k capacity rows a token: the engine's
 * model as run carries --capacity-factor and --top-k) and the fp32 vocab logits; with remat only each layer's
 * input is kept plus one layer's full activations.  'tokens' = encoder tokens this core holds (not encoder plus
 * decoder: plan_memory passes the plan's tokens_enc); decoder tokens are tokens * dec_seq / enc_seq.  A
 * decoder-only model's 'tokens' are its decoder tokens, the only stack.  Under the torch profile (m->impl):
 * AdamW's gradients and two moments (12 B per parameter), flash attention's log-sum-exp in place of the
 * probabilities, no combine tensor.  Returns 0 and fills 'out', or -1 with "plan needs X GiB per core,
 * HBM has Y GiB (Z GiB over)" leaving 'out' untouched. */
typedef struct {
    double params_B, optimizer_B, activations_B, total_B;   /* bytes per core */
} cost_memory;
int cost_memory_check(cost_memory *out, const cost_chip *c, const model_cfg *m, double params_local,
                      double tokens, int model_par, int remat, errbuf *err);

/* ---- The torch profile: PyTorch eager on one GPU [SOURCES 5.3] ----
 * Eager PyTorch runs every element-wise op as its own kernel: each pays op_overhead_s and one pass over HBM
 * (no fusion).  Attention is flash attention (no [S,S] tensor in HBM), matmuls run under bf16 autocast over
 * fp32 master weights, and the update is the fused AdamW. */

/* Fused AdamW per parameter (fp32 param, grad, exp_avg, exp_avg_sq): reads all four (4 x 4 B) and writes the
 * param, exp_avg and exp_avg_sq (3 x 4 B): 28 B.  FLOPs: the two moment updates (3 each), bias corrections,
 * sqrt, add eps, divide, weight decay and the step (about 12).  Launches: multi_tensor_apply takes at most
 * COST_ADAMW_TENSORS_PER_LAUNCH tensors (its list depth 4) and COST_ADAMW_BLOCKS_PER_LAUNCH chunks of
 * COST_ADAMW_CHUNK_ELEMS elements per launch [SOURCES 5.3]. */
#define COST_ADAMW_BYTES_PER_PARAM 28.0
#define COST_ADAMW_FLOPS_PER_PARAM 12.0
#define COST_ADAMW_TENSORS_PER_LAUNCH 36
#define COST_ADAMW_BLOCKS_PER_LAUNCH 320
#define COST_ADAMW_CHUNK_ELEMS 65536

/* One eager element-wise (or reduction) kernel over 'elems' elements: reads in_B and writes out_B bytes per
 * element (all inputs together, all outputs together), flops_per_elem fp32 FLOPs each:
 * max(flops / fp32_vec_flops, bytes / HBM rate) + op_overhead_s, as cost_vector_s.  Nothing when elems <= 0. */
void cost_torch_eltwise_work(cost_work *w, const cost_chip *c, double elems, double in_B, double out_B,
                             double flops_per_elem);

/* Flash attention (PyTorch SDPA's flash kernel) of 'batch' sequences of 'seq' tokens, 'heads' query heads
 * sharing 'kv_heads' key/value heads (GQA read in place, not repeated), 'head_dim' wide, bf16.  'causal' != 0:
 * the key/query pairs at or below the diagonal, seq*(seq+1)/2 per head, else seq^2.
 * Forward: QK^T and PV, 4*batch*heads*pairs*head_dim FLOPs; HBM: Q and O (batch*seq*heads*head_dim bf16 each),
 * K and V (batch*seq*kv_heads*head_dim bf16 each) and the fp32 log-sum-exp (batch*heads*seq), one launch.
 * Backward: five products of that size (QK^T recomputed, dP = dO V^T, dV, dQ, dK): 2.5x the forward FLOPs;
 * HBM: Q, K, V, O, dO, the log-sum-exp read, dQ, dK, dV written, and the preprocessing kernel's
 * rowsum(dO * O) (reads dO and O, writes batch*heads*seq fp32, read again by the main kernel): two launches.
 * Each launch: max(FLOPs / (bf16_flops * mm_efficiency), bytes / HBM rate) + op_overhead_s; the FLOPs count as
 * mm_flops and hw_flops.  No [seq, seq] tensor is written. */
void cost_flash_attention_work(cost_work *w, const cost_chip *c, double batch, int seq, int heads, int kv_heads,
                               int head_dim, int causal, int backward);

/* Autocast's casts of 'params' fp32 weights held in 'tensors' tensors: forward, one cast kernel per weight
 * tensor per step, reading 4 B and writing 2 B per parameter (the bf16 copy is reused within the step);
 * backward, the cast's gradient, one kernel per tensor reading the bf16 gradient (2 B) and writing it fp32
 * (4 B).  Time: the bytes at the HBM rate plus tensors x op_overhead_s. */
void cost_autocast_cast_work(cost_work *w, const cost_chip *c, double params, double tensors, int backward);

/* Fused AdamW over 'params' fp32 parameters in 'tensors' tensors: COST_ADAMW_BYTES_PER_PARAM and
 * COST_ADAMW_FLOPS_PER_PARAM per parameter, max(flops / fp32_vec_flops, bytes / HBM rate) for the work plus
 * op_overhead_s per launch; launches = max(ceil(tensors / COST_ADAMW_TENSORS_PER_LAUNCH),
 * ceil(ceil(params / COST_ADAMW_CHUNK_ELEMS) / COST_ADAMW_BLOCKS_PER_LAUNCH)) (the fewer launches the two
 * limits allow; a tensor's last partial chunk is not counted apart). */
void cost_fused_adamw_work(cost_work *w, const cost_chip *c, double params, double tensors);

/* torch's grouped GEMM (grouped_mm, bf16): expert e multiplies its own rows[e] rows, (rows[e],K)@(K,N), all
 * E experts in one launch.  Tiles and waves as cost_expert_ffn_work's (each expert's ceil(rows[e]/tile_m) x
 * ceil(N/tile_n) output tiles, no padding of rows to a capacity), at grouped_mm_efficiency instead of
 * mm_efficiency (mm_efficiency when it is 0).  backward: the two gradient launches dA = dY W^T (tiles over
 * (rows[e], K)) and dW = A^T dY (K x N tiles per expert, contraction rows[e]).  HBM: A, the weights of the
 * experts that have rows and the output once each, bf16.  An expert of 0 rows costs nothing. */
void cost_grouped_mm_work(cost_work *w, const cost_chip *c, const double *rows, int E, double K, double N,
                          int backward);

#endif
