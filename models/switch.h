/* switch: the Switch-layer kernels (router, top-k, capacity and positions, losses, dispatch, expert FFN,
 * combine) as plain loops over shapes, with CBLAS (OpenBLAS) versions of the matmuls.  Pure C: no I/O, no
 * SimGrid, no allocation (scratch is an argument).  Not the cost model: these compute numbers, not time.
 *
 * Shapes: N tokens in a routing group, D d_model, F expert hidden width (d_ff), E experts, C expert capacity,
 * k choices per token (1 Switch, 2 MoE/GShard, up to 8 in today's models).  Row-major throughout; (N,k) arrays hold choice j of token n
 * at [n*k + j].  Semantics follow Mesh TensorFlow moe.py [SOURCES 4.2] unless a comment says otherwise. */
#ifndef SWITCHSIM_SWITCH_H
#define SWITCHSIM_SWITCH_H

#include <stddef.h>
#include <gsl/gsl_rng.h>

#include "models/bf16.h"

/* Capacity rounding: Mesh TF floors, int(S*cf/E); Flaxformer rounds, round(cf*S/E) [SOURCES 3, 7]; Lingvo
 * floors, takes 4 for 0 and rounds up to a multiple of 4 [SOURCES 4.2].  AUTO is not a rule: callers resolve it
 * to the implementation profile's (sim/engine.c). */
typedef enum { SWITCH_CAP_AUTO = -1, SWITCH_CAP_FLOOR = 0, SWITCH_CAP_ROUND = 1, SWITCH_CAP_LINGVO = 2 } switch_cap_mode;

/* Load-balancing loss coefficient alpha [SOURCES 3: "alpha = 10^-2"]. */
#define SWITCH_LB_ALPHA 0.01
/* Added to the sum of the chosen gates when they are renormalised, as MTF does for top-2 [SOURCES 4.2
 * _top_2_gating step 3] (DeepSeek-V3's transformers code adds 1e-20 [SOURCES 10.1]; either is far below a gate). */
#define SWITCH_TOP2_EPS 1e-9f
/* Most choices per token the kernels accept (top-1 Switch, top-2 MoE, top-8 DeepSeek-V3, OLMoE, Qwen3). */
#define SWITCH_K_MAX 8

/* Router score: softmax over the experts of a token, or a sigmoid of each logit (DeepSeek-V3) [SOURCES 10.1]. */
typedef enum { SWITCH_SCORE_SOFTMAX = 0, SWITCH_SCORE_SIGMOID = 1 } switch_score;

/* Expert FFN activation: relu (W_in (D,F), W_out (F,D)) or geglu (gelu(x W_in) * (x W_gate), then W_out)
 * [SOURCES 1.1, 1.2]. */
typedef enum { SWITCH_ACT_RELU = 0, SWITCH_ACT_GEGLU = 1 } switch_act;

/* ---- capacity ------------------------------------------------------------------------------------- */

/* C = max(floor or round(cf*N/E), min_capacity), then capped at N (a group never needs more slots than it
 * has tokens).  cf*N/E is evaluated as N*cf/E in double, the order MTF uses.  SWITCH_CAP_ROUND rounds half
 * to even like Python's round() in Flaxformer.  SWITCH_CAP_LINGVO: floor, 4 when that is 0, then up to a
 * multiple of 4 (Lingvo's Top2GatingOnLogits), then min_capacity and the cap at N as the others.  Note MTF caps at N *before* applying min_capacity; here the
 * cap is last, so C <= N always.  Returns -1 if cf <= 0 or not finite, N < 1, E < 1, min_capacity < 0,
 * round_mode unknown, or the value does not fit an int. */
int switch_capacity(double cf, int N, int E, int min_capacity, switch_cap_mode round_mode);

/* ---- router ---------------------------------------------------------------------------------------- */

/* probs (N,E) <- softmax of logits (N,E) row by row, in fp32 with the row max subtracted first (so expf
 * cannot overflow) and the normaliser summed in double (so rows sum to 1 within 1e-6 even at E = 2048).
 * probs may alias logits. */
void switch_softmax_forward(float *probs, const float *logits, int N, int E);

/* logits (N,E) <- x (N,D) @ w (D,E), fp32 in and fp32 accumulate (selective precision [SOURCES 3]), by
 * cblas_sgemm; probs (N,E) <- softmax rows. */
void switch_router_forward(float *logits, float *probs, const float *x, const float *w, int N, int D, int E);
/* The same with plain loops (fp32 accumulation in d order): the reference for switch_router_forward. */
void switch_router_forward_ref(float *logits, float *probs, const float *x, const float *w, int N, int D, int E);
/* scores (N,E) <- 1 / (1 + exp(-logits)) elementwise in fp32 (saturates to 0 and 1, never NaN for a finite
 * logit).  scores may alias logits. */
void switch_sigmoid_forward(float *scores, const float *logits, int N, int E);

/* logits (N,E) <- x (N,D) @ w (D,E) in fp32 as switch_router_forward; scores (N,E) <- softmax rows
 * (SWITCH_SCORE_SOFTMAX, the same numbers as switch_router_forward) or elementwise sigmoid (SWITCH_SCORE_SIGMOID).
 * The _ref version is plain loops. */
void switch_router_score_forward(float *logits, float *scores, const float *x, const float *w, int N, int D, int E,
                                 switch_score score);
void switch_router_score_forward_ref(float *logits, float *scores, const float *x, const float *w, int N, int D,
                                     int E, switch_score score);

/* The same from bf16 x (N,D): converted exactly to fp32 into the scratch xf (N,D) first, then as
 * switch_router_forward (MTF casts the router input to float32 [SOURCES 3]).  For jitter on a bf16 input,
 * convert with bf16_array_to_f32, call switch_jitter_forward, then switch_router_forward. */
void switch_router_forward_bf16(float *logits, float *probs, float *xf, const bf16 *x, const float *w,
                                int N, int D, int E);

/* x (N,D) *= U(1-eps, 1+eps) elementwise, drawn from r in row-major order, one gsl_rng_uniform per element:
 * MTF's multiplicative jitter on the fp32 router input [SOURCES 3 Jitter, switch_jitter = 1e-2].
 * eps == 0 leaves x untouched and draws nothing. */
void switch_jitter_forward(float *x, const gsl_rng *r, double eps, int N, int D);

/* expert (N,k), gate (N,k) <- the k highest scores (N,E) per token, 1 <= k <= min(E, SWITCH_K_MAX), in
 * decreasing score order.  Ties go to the lower expert index; choice j is the best expert not among choices
 * 0..j-1 (MTF: top_1(gates*(1-mask_1)) for the second), so no two coincide.  renorm 0: gate = the raw score;
 * renorm 1: gate_j = s_j / (s_0 + .. + s_{k-1} + SWITCH_TOP2_EPS), the sum in fp32 in choice order.  Scores must
 * not be NaN.  The fast version keeps a sorted list of the k best in one pass over E; the _ref makes k passes,
 * each taking the best expert that comes after the previous choice in the order (score down, index up). */
void switch_topk_gates_forward(int *expert, float *gate, const float *scores, int N, int E, int k, int renorm);
void switch_topk_gates_forward_ref(int *expert, float *gate, const float *scores, int N, int E, int k, int renorm);

/* Mesh TF's gates: switch_topk_gates_forward with renorm = (k >= 2): k = 1 keeps the raw probability (Switch),
 * k = 2 renormalises g_j/(g1+g2+1e-9) (MTF _top_2_gating; Flaxformer would keep raw probs [SOURCES 4.3]). */
void switch_topk_forward(int *expert, float *gate, const float *probs, int N, int E, int k);

/* Expert choice (Zhou et al. 2022): token (E,C), gate (E,C) <- for each expert e, the C tokens of the group with
 * the highest scores[n][e] (scores (N,E), softmax rows as the paper), in decreasing score order, ties to the
 * lower token index; gate = that score.  C is the group's capacity, switch_capacity(cf, N, E, ..) = N*cf/E:
 * each expert takes exactly C tokens, none is dropped, and a token may be taken by 0 to E experts.
 * taken (N) <- the experts that took each token (0: the token passes through on its residual).  1 <= C <= N.
 * The fast version keeps a heap of the C best per expert in heap (C) scratch ints, one pass over N; the _ref makes
 * C passes per expert, each taking the best token after the previous one in the order (score down, index up). */
void switch_expert_choice_forward(int *token, float *gate, int *taken, int *heap, const float *scores, int N, int E,
                                  int C);
void switch_expert_choice_forward_ref(int *token, float *gate, int *taken, const float *scores, int N, int E, int C);

/* Mesh TF's 'random' second-expert policy [SOURCES 4.2 _top_2_gating step 5]: the second choice of token n
 * (expert, gate (N,2) from switch_topk_forward with k = 2, gates renormalised) is kept when u_n < g2/threshold,
 * u_n ~ U[0,1) drawn from r in token order, i.e. with probability min(1, g2/threshold) (MTF's threshold 0.2:
 * SWITCH_SECOND_THRESHOLD); a discarded one becomes expert -1, gate 0: no choice, which takes no slot and is
 * not a drop.  Returns the number discarded (0 when threshold <= 0: the policy 'all'). */
#define SWITCH_SECOND_THRESHOLD 0.2
int switch_second_random(int *expert, float *gate, int N, const gsl_rng *r, double threshold);

/* slot (N,k) <- each choice's position in its expert's buffer, or -1 if dropped; counts (E) <- choices kept
 * per expert (each <= C).  Position = exclusive running count per expert within the group, in token order;
 * all first choices of the group are placed before any second choice (MTF pos_2 = cumsum(mask_2) +
 * mask_1_count [SOURCES 4.2]), and so on to the kth, so a later choice never displaces an earlier one; a choice at position
 * >= C is dropped.  expert values must lie in [0,E), or be -1 for no choice (switch_second_random): slot -1,
 * neither kept nor dropped.  Returns the number of dropped choices (kept + dropped + no choice = N*k). */
int switch_assign_forward(int *slot, int *counts, const int *expert, int N, int E, int k, int C);

/* Load-balancing loss alpha*E*sum_e f_e*P_e [SOURCES 3]: f_e = fraction of tokens whose first choice
 * (expert[n*k], before capacity, as MTF) is e; P_e = mean over tokens of probs[n][e].  1*alpha at uniform
 * routing.  probs (N,E), expert (N,k).  Summed in double. */
double switch_lb_loss(const float *probs, const int *expert, int N, int E, int k, double alpha);
/* Router z-loss mean_n (logsumexp_e logits[n][e])^2 [SOURCES 3, ST-MoE], in double.  logits (N,E). */
double switch_z_loss(const float *logits, int N, int E);

/* ---- dispatch, expert FFN, combine ---------------------------------------------------------------- */

/* buf (E,C,D) bf16 <- x (N,D) bf16 gathered: row (e, slot[n*k+j]) = x[n] for every kept choice j of token n
 * with e = expert[n*k+j]; slots nobody filled are zero (+0.0 bf16).  expert, slot (N,k) from
 * switch_topk_forward / switch_assign_forward. */
void switch_dispatch_forward(bf16 *buf, const bf16 *x, const int *expert, const int *slot,
                             int N, int D, int E, int k, int C);

/* Number of floats of scratch the expert FFN kernels below need (both _ref and fast), for (C,D,F);
 * 0 if a dimension is < 1. */
size_t switch_ffn_scratch_len(switch_act act, int C, int D, int F);

/* out (E,C,D) fp32 <- per expert e, rows c < counts[e]:  relu(buf[e] (C,D) @ w_in[e] (D,F)) @ w_out[e] (F,D).
 * buf, w_in (E,D,F), w_out (E,F,D) are bf16; products are accumulated in fp32, and the hidden activation h is
 * rounded to bf16 before the second matmul, as the MXU takes bf16 operands [SOURCES 5.1 MXU].  Rows
 * c >= counts[e] (empty slots) are set to 0 without being computed; counts == NULL means all C rows.
 * scratch: switch_ffn_scratch_len(SWITCH_ACT_RELU, C, D, F) floats.  The _ref version is plain loops; the
 * fast one widens the expert's tokens to fp32 once, then walks F in tiles of 256: it widens W_in's columns
 * and W_out's rows of the tile into scratch (each weight converted once per call, while it is in cache),
 * runs cblas_sgemm for the tile's h, applies the activation, and accumulates the tile's part of out with a
 * second sgemm.  It matches _ref up to fp32 summation order (and, rarely, a bf16 rounding of h that lands the
 * other way): tests/check_switch.c bounds the difference by 1e-4 of the largest output.  Single-threaded
 * speed is 0.93-1.0x of plain sgemm on fp32 weights at Switch-Base and Switch-C shapes (bench_kernels). */
void switch_ffn_relu_forward_ref(float *out, float *scratch, const bf16 *buf, const int *counts,
                                 const bf16 *w_in, const bf16 *w_out, int E, int C, int D, int F);
void switch_ffn_relu_forward(float *out, float *scratch, const bf16 *buf, const int *counts,
                             const bf16 *w_in, const bf16 *w_out, int E, int C, int D, int F);

/* As the relu version with h = gelu(buf[e] @ w_in[e]) * (buf[e] @ w_gate[e]) (GEGLU, "gelu,linear" in the
 * T5X gins [SOURCES 1.2]); w_gate (E,D,F) bf16.  gelu is the tanh approximation (assumption: the variant
 * is not in SOURCES.md; it is the one Mesh TF and T5 use).  scratch: switch_ffn_scratch_len(
 * SWITCH_ACT_GEGLU, C, D, F) floats. */
void switch_ffn_geglu_forward_ref(float *out, float *scratch, const bf16 *buf, const int *counts,
                                  const bf16 *w_in, const bf16 *w_gate, const bf16 *w_out,
                                  int E, int C, int D, int F);
void switch_ffn_geglu_forward(float *out, float *scratch, const bf16 *buf, const int *counts,
                              const bf16 *w_in, const bf16 *w_gate, const bf16 *w_out,
                              int E, int C, int D, int F);

/* y (N,D) fp32 <- for each token n, sum over its kept choices j (slot[n*k+j] >= 0) of
 * gate[n*k+j] * eout[expert[n*k+j]][slot[n*k+j]] (eout (E,C,D), fp32 from the FFN); a token with no kept
 * choice passes through unchanged: y[n] = x[n] (x (N,D) bf16, the residual [SOURCES 3 Dropped tokens]).
 * A kept second choice does not re-normalise the gates when the first was dropped (as MTF). */
void switch_combine_forward(float *y, const float *eout, const bf16 *x, const float *gate, const int *expert,
                            const int *slot, int N, int D, int E, int k, int C);

#endif
