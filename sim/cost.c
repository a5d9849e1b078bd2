/* cost: time of every op on one TPU-like core or one GPU, from the shapes and the chip's numbers (cost_chip).
 * Pure arithmetic: no SimGrid, no I/O; the engine charges what these return.  Not a numerics model:
 * the kernels in models/ compute the values, this file only says how long they take. */
#include "sim/cost.h"
#include "sim/cost_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- per-element vector work: assumptions (op counts we chose, no measured figure) ---- */
#define SOFTMAX_FLOPS 5.0        /* max, subtract, exp, sum, divide */
#define SOFTMAX_BWD_FLOPS 4.0    /* dP*P, row sum, subtract, multiply */
#define RELU_FLOPS 1.0
#define GELU_FLOPS 8.0           /* tanh-approximate GELU: cube, 2 mult-adds, tanh, 1+, half, mult */
#define SILU_FLOPS 4.0           /* SiLU x * sigmoid(x): negate, exp, 1+ and divide, mult (SwiGLU's gate) */
#define GELU_BWD_FLOPS 12.0      /* its derivative and the chain rule through the gate product */
#define RMSNORM_FLOPS 4.0        /* square, sum, rsqrt-scale, weight multiply (T5 RMS norm, no mean) */
#define RMSNORM_BWD_FLOPS 8.0
#define TOPK_FLOPS 2.0           /* per choice per (token, expert): compare and select */
#define POSITION_FLOPS 3.0       /* per choice per (token, expert): cumsum add, capacity compare, mask */
#define AUXLOSS_FLOPS 2.0        /* sums of probabilities and of the one-hot mask */
#define LOGSUMEXP_FLOPS 4.0      /* max, subtract, exp, sum */
#define XENT_BWD_FLOPS 3.0       /* subtract, exp, scale: softmax - one-hot */
#define JITTER_FLOPS 3.0         /* per element: draw, scale to [1-eps, 1+eps], multiply */

/* Byte sizes of a matmul's three tensors and its MXU passes. */
typedef struct {
    double a_B, b_B, y_B;   /* bytes per element of A (M,K), B (K,N) and Y (M,N) */
    int fp32;               /* 1: an fp32 matmul, at the chip's matmul_precision */
} mm_prec;

static const mm_prec PREC_BF16 = { COST_BF16_BYTES, COST_BF16_BYTES, COST_BF16_BYTES, 0 };
static const mm_prec PREC_FP32 = { COST_FP32_BYTES, COST_FP32_BYTES, COST_FP32_BYTES, 1 };
static const mm_prec PREC_BF16_OUT_FP32 = { COST_BF16_BYTES, COST_BF16_BYTES, COST_FP32_BYTES, 0 };

/* The program's precision (cost_chip.precision): activations and their matmuls are bf16 except under
 * COST_PRECISION_FP32; the router is fp32 except under COST_PRECISION_BF16 [SOURCES 2.1 Table 2, 3]. */
static const mm_prec *prec_act(const cost_chip *c)
{
    return c->precision == COST_PRECISION_FP32 ? &PREC_FP32 : &PREC_BF16;
}

static const mm_prec *prec_router(const cost_chip *c)
{
    return c->precision == COST_PRECISION_BF16 ? &PREC_BF16 : &PREC_FP32;
}

static const mm_prec *prec_logits(const cost_chip *c)
{
    return c->precision == COST_PRECISION_FP32 ? &PREC_FP32 : &PREC_BF16_OUT_FP32;
}

/* Bytes per activation element in HBM, and per router element (logits, probabilities, masks). */
static double act_B(const cost_chip *c)
{
    return c->precision == COST_PRECISION_FP32 ? COST_FP32_BYTES : COST_BF16_BYTES;
}

static double router_B(const cost_chip *c)
{
    return c->precision == COST_PRECISION_BF16 ? COST_BF16_BYTES : COST_FP32_BYTES;
}

/* One op being built: MXU blocks (TPU) or output tiles (GPU), bytes and useful FLOPs, summed over its
 * matmuls.  The GPU's tensor time needs every matmul's tile contraction, so it is computed from the
 * matmuls' shapes at the end (gpu_tensor_s), not accumulated here. */
typedef struct {
    double blocks;   /* TPU: (8-row, K tile, N tile) blocks, each 8 cycles on one MXU */
    double tiles;    /* GPU: tile_m x tile_n output tiles */
    double bytes;
    double flops;
} mm_op;

const char *cost_dispatch_name(cost_dispatch d)
{
    static const char *const NAME[] = { "padded", "exact", "dropless", "expert-choice" };
    return (int)d >= 0 && (int)d < 4 ? NAME[d] : "?";
}

void cost_work_init(cost_work *w)
{
    memset(w, 0, sizeof *w);
}

/* The defaults live once, in the chip table (topologies/chip.c: the numbers the shipped platforms carry, each
 * with its source there); the cost model takes a preset as it is, as sim/platform.c reads one back. */
static void chip_of(cost_chip *c, const char *name)
{
    if (chip_preset(c, name) != 0)
        memset(c, 0, sizeof *c);
}

void cost_chip_tpuv3(cost_chip *c)
{
    chip_of(c, "tpuv3");
}

void cost_chip_h100(cost_chip *c)
{
    chip_of(c, "h100");
}

void cost_chip_h200(cost_chip *c)
{
    chip_of(c, "h200");
}

static int is_gpu(const cost_chip *c)
{
    return c->family == COST_FAMILY_GPU;
}

/* Bandwidth a streaming op reaches: hbm_Bps on a TPU (not derated), hbm_Bps x hbm_efficiency on a GPU. */
static double hbm_rate(const cost_chip *c)
{
    return is_gpu(c) ? c->hbm_Bps * c->hbm_efficiency : c->hbm_Bps;
}

static double mm_blocks(const cost_chip *c, double batch, double M, double K, double N)
{
    if (batch <= 0.0 || M <= 0.0 || K <= 0.0 || N <= 0.0)
        return 0.0;
    double dim = (double)c->mxu_dim;
    return batch * ceil(M / COST_MXU_FEED_ROWS) * ceil(K / dim) * ceil(N / dim);
}

double cost_fp32_matmul_passes(const cost_chip *c)
{
    if (is_gpu(c))
        return c->matmul_precision == CHIP_MM_HIGH ? 3.0 : 1.0;
    return chip_tpu_fp32_matmul_passes(c->matmul_precision);
}

double cost_fp32_matmul_flops(const cost_chip *c)
{
    if (c->matmul_precision == CHIP_MM_DEFAULT)
        return c->tf32_flops;
    if (c->matmul_precision == CHIP_MM_HIGH)
        return c->bf16_flops / 3.0;                /* bf16x3: three bf16 products of the split operands */
    return c->fp32_matmul_flops;
}

static double passes_of(const cost_chip *c, int fp32)
{
    return fp32 ? cost_fp32_matmul_passes(c) : 1.0;
}

/* Blocks spread evenly over the MXUs, rounded up; COST_MXU_FEED_ROWS cycles per block and pass. */
static double op_cycles(const cost_chip *c, double blocks, int fp32)
{
    return ceil(blocks / (double)c->mxus_per_core) * COST_MXU_FEED_ROWS * passes_of(c, fp32);
}

/* Which matmul of Y (M,K)@(K,N) an op computes: the forward product, or one of its gradients
 * dA (M,K) = dY (M,N) @ B^T (N,K) and dB (K,N) = A^T (K,M) @ dY (M,N).  All three move the same three
 * tensors (bytes); only the padded shape on the MXU or in tiles differs. */
typedef enum { MM_FWD, MM_DA, MM_DB } mm_which;

/* The product 'which' computes, as output rows x contraction x output columns:
 * MM_FWD (M,K)@(K,N), MM_DA (M,N)@(N,K), MM_DB (K,M)@(M,N). */
typedef struct {
    double rows, inner, cols;
} mm_dims;

static mm_dims dims_of(double M, double K, double N, mm_which which)
{
    if (which == MM_DA)
        return (mm_dims){ M, N, K };
    if (which == MM_DB)
        return (mm_dims){ K, M, N };
    return (mm_dims){ M, K, N };
}

/* GPU: tile_m x tile_n output tiles of 'batch' (rows, cols) outputs; the caller checks every argument > 0. */
static double gpu_tiles(const cost_chip *c, double batch, double rows, double cols)
{
    return batch * ceil(rows / (double)c->tile_m) * ceil(cols / (double)c->tile_n);
}

/* GPU: the contraction padded to a multiple of tile_k (a CTA steps K a whole tile_k at a time). */
static double gpu_kpad(const cost_chip *c, double inner)
{
    return ceil(inner / (double)c->tile_k) * (double)c->tile_k;
}

/* Adds (batch x) one matmul of Y = A (M,K) @ B (K,N) to an op under construction. */
static void op_add(mm_op *op, const cost_chip *c, double batch, double M, double K, double N, const mm_prec *p,
                   mm_which which)
{
    if (batch <= 0.0 || M <= 0.0 || K <= 0.0 || N <= 0.0)
        return;
    mm_dims d = dims_of(M, K, N, which);
    if (is_gpu(c))
        op->tiles += gpu_tiles(c, batch, d.rows, d.cols);
    else
        op->blocks += mm_blocks(c, batch, d.rows, d.inner, d.cols);
    op->bytes += batch * (M * K * p->a_B + K * N * p->b_B + M * N * p->y_B);
    op->flops += 2.0 * batch * M * K * N;
}

/* GPU tensor-core time of one op made of n matmuls, batch x (rows[e],K)@(K,N) as 'which' computes them
 * (n = 1 and rows = &M for a plain matmul).  Matmul e is t_e output tiles, each of padded contraction
 * k_e; one tile of contraction k keeps one SM busy for 2*tile_m*tile_n*k / (rate/sms) / mm_efficiency
 * seconds, rate = bf16_flops, or cost_fp32_matmul_flops for fp32 operands.
 * Waves: the SMs take 'sms' tiles at a time, a wave lasts as long as its longest tile, and tiles are
 * issued longest first.  So the op lasts the sum, over the wave-start positions 0, sms, 2*sms, ... in
 * the tiles sorted by k descending, of the k found there.  With one k for all tiles (every forward and
 * dA op, and dB of a single matmul) this is exactly ceil(tiles/sms) x the tile time.  With ragged k (the
 * experts' dB = A^T dY, whose contraction is each expert's rows) it lies between the work spread evenly
 * over the SMs and ceil(tiles/sms) x the longest tile, and it never decreases when a tile is added or a k
 * grows (a mean tile time would: adding small tiles would lower it).  Ties in k keep expert order.
 * O(n^2) in the experts, which are few per core. */
static double gpu_tensor_s(const cost_chip *c, double batch, const double *rows, int n, double K, double N,
                           int fp32, mm_which which)
{
    if (batch <= 0.0 || K <= 0.0 || N <= 0.0)
        return 0.0;
    double sms = (double)c->sms;
    double wave_k = 0.0;   /* sum of the contraction at each wave start */
    for (int g = 0; g < n; g++) {
        if (rows[g] <= 0.0)
            continue;
        mm_dims dg = dims_of(rows[g], K, N, which);
        double kg = gpu_kpad(c, dg.inner), tg = gpu_tiles(c, batch, dg.rows, dg.cols);
        double pos = 0.0;   /* tiles issued before matmul g's */
        for (int h = 0; h < n; h++) {
            if (h == g || rows[h] <= 0.0)
                continue;
            mm_dims dh = dims_of(rows[h], K, N, which);
            double kh = gpu_kpad(c, dh.inner);
            if (kh > kg || (kh == kg && h < g))
                pos += gpu_tiles(c, batch, dh.rows, dh.cols);
        }
        /* wave starts i*sms in [pos, pos + tg) */
        wave_k += (ceil((pos + tg) / sms) - ceil(pos / sms)) * kg;
    }
    double rate = fp32 ? cost_fp32_matmul_flops(c) : c->bf16_flops;
    return wave_k * 2.0 * c->tile_m * c->tile_n / (rate / sms) / c->mm_efficiency;
}

/* Charges a finished op: max(tensor time, HBM bytes / hbm_rate) + overhead.  An empty op is free. */
static void op_finish(cost_work *w, const cost_chip *c, const mm_op *op, double tensor_s)
{
    if (op->blocks <= 0.0 && op->tiles <= 0.0)
        return;
    double hbm_s = op->bytes / hbm_rate(c);
    w->t_s += fmax(tensor_s, hbm_s) + c->op_overhead_s;
    w->mm_flops += op->flops;
    w->hbm_B += op->bytes;
    w->ops += 1.0;
}

/* One matmul per expert, batch x (rows[e],K)@(K,N), batched into one op (an einsum over experts), or in
 * backward its two gradient ops dA and dB.  Tensor time: TPU, the op's MXU cycles / clock /
 * COST_MXU_EFFICIENCY; GPU, gpu_tensor_s. */
static void mm_rows(cost_work *w, const cost_chip *c, double batch, const double *rows, int n, double K, double N,
                    const mm_prec *p, int backward)
{
    mm_which first = backward ? MM_DA : MM_FWD, last = backward ? MM_DB : MM_FWD;
    for (mm_which which = first; which <= last; which++) {
        mm_op op = { 0, 0, 0, 0 };
        for (int e = 0; e < n; e++)
            op_add(&op, c, batch, rows[e], K, N, p, which);
        double tensor_s = is_gpu(c) ? gpu_tensor_s(c, batch, rows, n, K, N, p->fp32, which)
                                    : op_cycles(c, op.blocks, p->fp32) / c->clock_Hz / COST_MXU_EFFICIENCY;
        op_finish(w, c, &op, tensor_s);
        w->hw_flops += op.flops * passes_of(c, p->fp32);
    }
}

/* The data gradient alone, dA = dY @ B^T, of batch x (M,K)@(K,N): a matmul whose B carries no gradient (a
 * one-hot dispatch mask [SOURCES 4.2]). */
static void mm_grad_a(cost_work *w, const cost_chip *c, double batch, double M, double K, double N, const mm_prec *p)
{
    mm_op op = { 0, 0, 0, 0 };
    op_add(&op, c, batch, M, K, N, p, MM_DA);
    double tensor_s = is_gpu(c) ? gpu_tensor_s(c, batch, &M, 1, K, N, p->fp32, MM_DA)
                                : op_cycles(c, op.blocks, p->fp32) / c->clock_Hz / COST_MXU_EFFICIENCY;
    op_finish(w, c, &op, tensor_s);
    w->hw_flops += op.flops * passes_of(c, p->fp32);
}

/* One matmul op (batch x (M,K)@(K,N)), or in backward its two gradient ops dA and dB. */
static void mm(cost_work *w, const cost_chip *c, double batch, double M, double K, double N, const mm_prec *p,
               int backward)
{
    mm_rows(w, c, batch, &M, 1, K, N, p, backward);
}

static void vec(cost_work *w, const cost_chip *c, double flops, double bytes)
{
    if (flops <= 0.0 && bytes <= 0.0)
        return;
    double t = fmax(flops > 0.0 ? flops / c->fp32_vec_flops : 0.0, bytes > 0.0 ? bytes / hbm_rate(c) : 0.0);
    w->t_s += t + c->op_overhead_s;
    w->vec_flops += fmax(flops, 0.0);
    w->hbm_B += fmax(bytes, 0.0);
    w->ops += 1.0;
}

double cost_matmul_cycles(const cost_chip *c, double batch, double M, double K, double N, cost_prec p)
{
    if (is_gpu(c))
        return 0.0;   /* no MXU */
    return op_cycles(c, mm_blocks(c, batch, M, K, N), p == COST_FP32);
}

double cost_gpu_waves(const cost_chip *c, double batch, double M, double N)
{
    if (!is_gpu(c) || c->sms <= 0 || batch <= 0.0 || M <= 0.0 || N <= 0.0)
        return 0.0;
    return ceil(gpu_tiles(c, batch, M, N) / (double)c->sms);
}

double cost_bmatmul_s(const cost_chip *c, double batch, double M, double K, double N, cost_prec p)
{
    cost_work w;
    cost_work_init(&w);
    mm(&w, c, batch, M, K, N, p == COST_FP32 ? &PREC_FP32 : &PREC_BF16, 0);
    return w.t_s;
}

double cost_matmul_s(const cost_chip *c, double M, double K, double N, cost_prec p)
{
    return cost_bmatmul_s(c, 1.0, M, K, N, p);
}

void cost_matmul_work(cost_work *w, const cost_chip *c, double batch, double M, double K, double N, cost_prec p,
                      int backward)
{
    if (batch <= 0.0 || M <= 0.0 || K <= 0.0 || N <= 0.0)
        return;
    mm(w, c, batch, M, K, N, p == COST_FP32 ? &PREC_FP32 : &PREC_BF16, backward);
}

double cost_vector_s(const cost_chip *c, double flops, double bytes)
{
    cost_work w;
    cost_work_init(&w);
    vec(&w, c, flops, bytes);
    return w.t_s;
}

static double ways(int model_par)
{
    return model_par < 1 ? 1.0 : (double)model_par;
}

/* ---- attention ----
 * Per core, nseq = tokens/seq sequences, hl = heads/m local heads of width d_kv, hd = hl*d_kv:
 *   Q = X (tokens,D) @ Wq (D,hd);  K, V = Xkv (nseq*kv_seq, D) @ (D,hd)
 *   S = Q_h (seq,d_kv) @ K_h^T (d_kv,kv_seq)   batched over nseq*hl
 *   P = softmax(S) on the vector unit (bf16 in HBM, fp32 arithmetic)
 *   O_h = P (seq,kv_seq) @ V_h (kv_seq,d_kv)   batched over nseq*hl
 *   Y = O (tokens,hd) @ Wo (hd,D)
 * With grouped-query attention K and V are kv_heads/m heads wide (hkv = kv_heads/m * d_kv).  Multi-head latent
 * attention (kv_lora > 0) runs its matrices instead of Wq, Wk, Wv: X @ (D,q_lora) then (q_lora, hl*(d_kv+rope))
 * (or X @ (D, hl*(d_kv+rope)) without q_lora), Xkv @ (D, kv_lora+rope) then (kv_lora, hl*2*d_kv) for the keys'
 * no-rope part and the values, and the scores are d_kv+rope wide (the compressed down-projections are charged
 * whole on every model-parallel core: an assumption, they are small).
 * T5 does not scale the logits and pre-training uses no attention dropout, so neither is charged. */
void cost_attention_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens, int seq,
                         int kv_seq, int model_par, int backward)
{
    if (tokens <= 0.0 || seq <= 0 || kv_seq <= 0)
        return;
    double D = m->d_model, dkv = m->d_kv;
    double hl = m->heads / ways(model_par), hd = hl * dkv;
    double hkv = model_kv_heads(m) / ways(model_par) * dkv;
    double nseq = tokens / seq, kv_tokens = nseq * kv_seq;
    double heads_b = nseq * hl;
    double scores = heads_b * seq * (double)kv_seq;
    double dqk = dkv + (m->kv_lora > 0 ? m->rope_dim : 0);

    if (m->kv_lora > 0) {                                           /* multi-head latent attention */
        if (m->q_lora > 0) {
            mm(w, c, 1.0, tokens, D, m->q_lora, prec_act(c), backward);
            mm(w, c, 1.0, tokens, m->q_lora, hl * dqk, prec_act(c), backward);
        } else {
            mm(w, c, 1.0, tokens, D, hl * dqk, prec_act(c), backward);
        }
        mm(w, c, 1.0, kv_tokens, D, (double)m->kv_lora + m->rope_dim, prec_act(c), backward);
        mm(w, c, 1.0, kv_tokens, m->kv_lora, 2.0 * hd, prec_act(c), backward);
    } else {
        mm(w, c, 1.0, tokens, D, hd, prec_act(c), backward);        /* Q */
        mm(w, c, 1.0, kv_tokens, D, hkv, prec_act(c), backward);    /* K */
        mm(w, c, 1.0, kv_tokens, D, hkv, prec_act(c), backward);    /* V */
    }
    mm(w, c, heads_b, seq, dqk, kv_seq, prec_act(c), backward);     /* Q K^T */
    if (!backward)
        vec(w, c, SOFTMAX_FLOPS * scores, 2.0 * act_B(c) * scores);     /* read S, write P */
    else
        vec(w, c, SOFTMAX_BWD_FLOPS * scores, 3.0 * act_B(c) * scores); /* read P, dP; write dS */
    mm(w, c, heads_b, seq, kv_seq, dkv, prec_act(c), backward);     /* P V */
    mm(w, c, 1.0, tokens, hd, D, prec_act(c), backward);            /* output projection */
}

double cost_attention_s(const cost_chip *c, const model_cfg *m, double tokens, int seq, int kv_seq,
                        int model_par, int backward)
{
    cost_work w;
    cost_work_init(&w);
    cost_attention_work(&w, c, m, tokens, seq, kv_seq, model_par, backward);
    return w.t_s;
}

/* ---- FFN: the same ops for a dense FFN and for the experts (batched over experts, one op each) ----
 * relu:  H = X (N,D) @ Win (D,Fl); A = relu(H); Y = A (N,Fl) @ Wout (Fl,D)  (gelu: the same with gelu)
 * geglu: H = X Win, G = X Wgate; A = gelu(H) * G; Y = A Wout  (swiglu: the same with silu; its backward is
 *        charged as geglu's, an assumption)
 * F is d_ff for a dense FFN, d_ff_expert for the experts (and times the count for the fused shared experts).
 * 'rows' (n entries) are the token counts of each expert (n = 1 for a dense FFN). */
static void ffn_work(cost_work *w, const cost_chip *c, const model_cfg *m, double F, const double *rows, int n,
                     int model_par, int backward)
{
    double D = m->d_model, Fl = F / ways(model_par);
    int geglu = model_ffn_matrices(m) == 3;
    double act_flops = m->act == MODEL_ACT_SWIGLU ? SILU_FLOPS : GELU_FLOPS;
    double total_rows = 0.0;
    for (int e = 0; e < n; e++)
        total_rows += rows[e] > 0.0 ? rows[e] : 0.0;
    if (total_rows <= 0.0)
        return;
    double elems = total_rows * Fl;

    /* input matmul(s): one batched op per weight (Win, and Wgate for geglu) */
    for (int g = 0; g < (geglu ? 2 : 1); g++)
        mm_rows(w, c, 1.0, rows, n, D, Fl, prec_act(c), backward);
    /* activation.  relu forward is fused into the input matmul's output (XLA output fusion: assumption),
     * so it costs vector FLOPs but no HBM pass; its backward reads H and dA and writes dH.  geglu needs
     * H and G from two matmuls: read both, write A (and in backward read H, G, dA, write dH, dG). */
    if (!geglu)
        vec(w, c, (m->act == MODEL_ACT_GELU ? GELU_FLOPS : RELU_FLOPS) * elems, backward ? 3.0 * act_B(c) * elems : 0.0);
    else if (!backward)
        vec(w, c, (act_flops + 1.0) * elems, 3.0 * act_B(c) * elems);
    else
        vec(w, c, (GELU_BWD_FLOPS + 2.0) * elems, 5.0 * act_B(c) * elems);   /* read H, G, dA; write dH, dG */
    mm_rows(w, c, 1.0, rows, n, Fl, D, prec_act(c), backward);   /* output matmul */
}

void cost_dense_ffn_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens, int model_par,
                         int backward)
{
    ffn_work(w, c, m, m->d_ff, &tokens, 1, model_par, backward);
}

void cost_shared_ffn_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens, int model_par,
                          int backward)
{
    if (m->shared_experts > 0)
        ffn_work(w, c, m, (double)m->shared_experts * model_d_ff_expert(m), &tokens, 1, model_par, backward);
}

double cost_dense_ffn_s(const cost_chip *c, const model_cfg *m, double tokens, int model_par, int backward)
{
    cost_work w;
    cost_work_init(&w);
    cost_dense_ffn_work(&w, c, m, tokens, model_par, backward);
    return w.t_s;
}

void cost_expert_ffn_work(cost_work *w, const cost_chip *c, const model_cfg *m, const double *rows,
                          int experts_local, int model_par, int backward)
{
    if (rows == NULL || experts_local <= 0)
        return;
    ffn_work(w, c, m, model_d_ff_expert(m), rows, experts_local, model_par, backward);
}

double cost_expert_ffn_s(const cost_chip *c, const model_cfg *m, const double *rows, int experts_local,
                         int model_par, int backward)
{
    cost_work w;
    cost_work_init(&w);
    cost_expert_ffn_work(&w, c, m, rows, experts_local, model_par, backward);
    return w.t_s;
}

/* ---- layer norm + residual: y = x + sublayer(rmsnorm(x)); two vector ops over (tokens, D) ---- */
void cost_layernorm_residual_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens,
                                  int backward)
{
    double elems = tokens * m->d_model;
    if (elems <= 0.0)
        return;
    if (!backward) {
        vec(w, c, RMSNORM_FLOPS * elems, 2.0 * act_B(c) * elems);   /* read x, write norm(x) */
        vec(w, c, elems, 3.0 * act_B(c) * elems);                   /* read x, f; write y */
    } else {
        vec(w, c, RMSNORM_BWD_FLOPS * elems, 3.0 * act_B(c) * elems);   /* read x, dy; write dx */
        vec(w, c, elems, 3.0 * act_B(c) * elems);                       /* dx += dresidual */
    }
}

double cost_layernorm_residual_s(const cost_chip *c, const model_cfg *m, double tokens, int backward)
{
    cost_work w;
    cost_work_init(&w);
    cost_layernorm_residual_work(&w, c, m, tokens, backward);
    return w.t_s;
}

/* ---- router (fp32 throughout: selective precision [SOURCES 3]) ----
 * logits (N,E) = X (N,D) @ Wr (D,E) in fp32; probs = softmax; k top-1 passes, each writing a one-hot mask;
 * per choice an exclusive cumsum over the group for the positions, compared with the capacity; the aux
 * loss reads probs and mask once.  Backward: aux-loss and gate gradients into the probs, softmax
 * backward, and the fp32 matmul's two gradients. */
void cost_router_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens, int E, int k,
                      int backward)
{
    double elems = tokens * E;
    if (elems <= 0.0)
        return;
    double kk = k < 1 ? 1.0 : (double)k;
    if (!backward) {
        mm(w, c, 1.0, tokens, m->d_model, E, prec_router(c), 0);
        vec(w, c, SOFTMAX_FLOPS * elems, 2.0 * router_B(c) * elems);
        vec(w, c, kk * TOPK_FLOPS * elems, kk * 2.0 * router_B(c) * elems);       /* read probs, write mask */
        vec(w, c, kk * POSITION_FLOPS * elems, kk * 2.0 * router_B(c) * elems);   /* read mask, write position */
        vec(w, c, AUXLOSS_FLOPS * elems, 2.0 * router_B(c) * elems);              /* read probs, mask */
    } else {
        vec(w, c, AUXLOSS_FLOPS * elems, 2.0 * router_B(c) * elems);              /* read mask, write dprobs */
        vec(w, c, SOFTMAX_BWD_FLOPS * elems, 3.0 * router_B(c) * elems);
        mm(w, c, 1.0, tokens, m->d_model, E, prec_router(c), 1);
    }
}

double cost_router_s(const cost_chip *c, const model_cfg *m, double tokens, int E, int k, int backward)
{
    cost_work w;
    cost_work_init(&w);
    cost_router_work(&w, c, m, tokens, E, k, backward);
    return w.t_s;
}

/* ---- dispatch / combine ----
 * EINSUM (GShard Alg. 2 "GSEC,GSM->EGCM"): per group the one-hot (E*C,S) @ X (S,D) at bf16,
 * 2*S*E*C*D FLOPs [SOURCES 7]; the mask is read from HBM as a bf16 operand.
 * GATHER: E*C buffer rows of D bf16 read and written; backward a scatter-add (read dbuf, read + write dx). */
void cost_dispatch_work(cost_work *w, const cost_chip *c, const model_cfg *m, cost_dispatch mode, double groups,
                        int S, int E, int C, int backward)
{
    double EC = (double)E * C, D = m->d_model;
    if (groups <= 0.0 || S <= 0 || EC <= 0.0)
        return;
    if (mode == COST_DISPATCH_EINSUM) {
        if (backward == 2)   /* dispatch: d inputs only; the mask, cast to bool, has no gradient */
            mm_grad_a(w, c, groups, EC, S, D, prec_act(c));
        else
            mm(w, c, groups, EC, S, D, prec_act(c), backward);
        return;
    }
    double elems = groups * EC * D;
    if (!backward)
        vec(w, c, elems, 2.0 * act_B(c) * elems);     /* the combine's gate multiply: 1 flop/elem */
    else
        vec(w, c, elems, 3.0 * act_B(c) * elems);
}

double cost_dispatch_s(const cost_chip *c, const model_cfg *m, cost_dispatch mode, double groups, int S, int E,
                       int C, int backward)
{
    cost_work w;
    cost_work_init(&w);
    cost_dispatch_work(&w, c, m, mode, groups, S, E, C, backward);
    return w.t_s;
}

/* ---- gating work an implementation adds [SOURCES 4.2] ---- */
void cost_cumsum_einsum_work(cost_work *w, const cost_chip *c, double groups, int S, int E, int k)
{
    if (groups <= 0.0 || S <= 0 || E <= 0 || k <= 0)
        return;
    mm(w, c, groups * k, S, S, E, prec_router(c), 0);   /* tril (S,S) @ mask (S,E) per group and choice */
}

void cost_jitter_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens)
{
    double elems = tokens * m->d_model;
    if (elems <= 0.0)
        return;
    vec(w, c, JITTER_FLOPS * elems, (act_B(c) + router_B(c)) * elems);   /* read x, write the noisy fp32 copy */
}

void cost_combine_build_work(cost_work *w, const cost_chip *c, double groups, int S, int E, int C, double passes)
{
    double elems = groups * S * (double)E * C;
    if (elems <= 0.0 || passes <= 0.0)
        return;
    vec(w, c, passes * elems, passes * 2.0 * COST_FP32_BYTES * elems);
}

/* ---- embeddings: a row gather of (tokens, D) bf16; backward a scatter-add into fp32 gradient rows ---- */
void cost_embed_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens, int backward)
{
    double elems = tokens * m->d_model;
    if (elems <= 0.0)
        return;
    if (!backward)
        vec(w, c, 0.0, 2.0 * act_B(c) * elems);
    else
        vec(w, c, elems, (act_B(c) + 2.0 * COST_FP32_BYTES) * elems);
}

double cost_embed_s(const cost_chip *c, const model_cfg *m, double tokens, int backward)
{
    cost_work w;
    cost_work_init(&w);
    cost_embed_work(&w, c, m, tokens, backward);
    return w.t_s;
}

/* ---- vocab: logits (N,V/m) = X (N,D) @ Wemb^T (D,V/m) with fp32 output; logsumexp and the target's
 * logit read the logits once; backward writes dlogits = softmax - onehot in fp32, then two matmuls ---- */
void cost_vocab_loss_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens, int model_par,
                          int backward)
{
    double Vl = m->vocab / ways(model_par);
    double elems = tokens * Vl;
    if (elems <= 0.0)
        return;
    if (!backward) {
        mm(w, c, 1.0, tokens, m->d_model, Vl, prec_logits(c), 0);
        vec(w, c, LOGSUMEXP_FLOPS * elems, COST_FP32_BYTES * elems);
    } else {
        vec(w, c, XENT_BWD_FLOPS * elems, 2.0 * COST_FP32_BYTES * elems);
        mm(w, c, 1.0, tokens, m->d_model, Vl, prec_logits(c), 1);
    }
}

double cost_vocab_loss_s(const cost_chip *c, const model_cfg *m, double tokens, int model_par, int backward)
{
    cost_work w;
    cost_work_init(&w);
    cost_vocab_loss_work(&w, c, m, tokens, model_par, backward);
    return w.t_s;
}

double cost_optimizer_s(const cost_chip *c, double params)
{
    double bytes = is_gpu(c) ? c->opt_bytes_per_param : COST_ADAFACTOR_BYTES_PER_PARAM;
    return cost_vector_s(c, COST_ADAFACTOR_FLOPS_PER_PARAM * params, bytes * params);
}

/* ---- memory ---- */
#define GIB 1073741824.0

/* Bytes the backward pass keeps for one attention sublayer: the norm's input and output (2D per query),
 * Q and the context (2 hd per query), K and V (2 hd per key token) and the probabilities (hl*kv_seq per
 * query), all bf16.  The torch profile's flash attention keeps no probabilities, only the fp32 log-sum-exp
 * (hl per query). */
static double attn_act_B(double eb, const model_cfg *m, double q_tokens, double kv_tokens, int kv_seq, double mp)
{
    double hl = m->heads / mp, hd = hl * m->d_kv, hkv = model_kv_heads(m) / mp * m->d_kv;
    double probs = m->impl == MODEL_IMPL_TORCH ? hl * COST_FP32_BYTES / eb : hl * kv_seq;
    return eb * (q_tokens * (2.0 * m->d_model + 2.0 * hd + probs) + kv_tokens * 2.0 * hkv);
}

/* FFN rows keep the norm's input and output (2D) and the hidden tensors: relu H and A, geglu H, G and A. */
static double ffn_act_B(double eb, const model_cfg *m, double rows, double mp)
{
    double nf = model_ffn_matrices(m);
    return eb * rows * (2.0 * m->d_model + nf * m->d_ff / mp);
}

/* A Switch layer keeps, per token, the norm's input and output, the fp32 router probabilities and the
 * bf16 combine tensor (E*C = cf*k*S entries per token, S = the group size), and per capacity row
 * (cf*k rows per token, as the capacity buffers are sized) the expert's input, hidden tensors and output. */
static double switch_act_B(double eb, double rb, const model_cfg *m, double tokens, double mp)
{
    double rows_per_token = m->capacity_factor * (m->top_k < 1 ? 1 : m->top_k);
    double S = m->group_size > 0 && m->group_size < tokens ? m->group_size : tokens;
    double nf = model_ffn_matrices(m);
    double combine = m->impl == MODEL_IMPL_TORCH ? 0.0 : eb * rows_per_token * S;   /* torch: index vectors only */
    double per_token = eb * 2.0 * m->d_model + rb * m->experts + combine +
                       eb * nf * (double)m->shared_experts * model_d_ff_expert(m) / mp;   /* shared experts' hidden */
    double per_row = eb * (2.0 * m->d_model + nf * model_d_ff_expert(m) / mp);
    return tokens * (per_token + rows_per_token * per_row);
}

int cost_memory_check(cost_memory *out, const cost_chip *c, const model_cfg *m, double params_local,
                      double tokens, int model_par, int remat, errbuf *err)
{
    if (model_par < 1)
        return errbuf_set(err, "cost_memory_check: model_par must be an integer >= 1, got %d", model_par);
    if (!(tokens >= 0.0) || !(params_local >= 0.0))
        return errbuf_set(err, "cost_memory_check: tokens and params_local must be >= 0, got %g and %g", tokens,
                          params_local);
    int dec_only = m->arch == MODEL_ARCH_DEC_ONLY;
    if (!dec_only && m->enc_seq <= 0)
        return errbuf_set(err, "cost_memory_check: model '%s' enc_seq must be > 0, got %d", m->name, m->enc_seq);
    double mp = model_par;
    /* a decoder-only model's tokens are all decoder tokens; an encoder-decoder's split as enc_seq : dec_seq */
    double t_enc = dec_only ? 0.0 : tokens, t_dec = dec_only ? tokens : tokens * m->dec_seq / m->enc_seq;
    double n_enc = dec_only ? 0.0 : t_enc / m->enc_seq;   /* sequences: cross-attention keys are encoder tokens */
    double eb = act_B(c);

    double sum = 0.0, largest = 0.0, inputs = 0.0;
    for (int l = 0; l < m->enc_layers + m->dec_layers; l++) {
        int dec = l >= m->enc_layers;
        int layer = dec ? l - m->enc_layers : l;
        double t = dec ? t_dec : t_enc;
        int seq = dec ? m->dec_seq : m->enc_seq;
        double b = attn_act_B(eb, m, t, t, seq, mp);
        if (dec && !dec_only)
            b += attn_act_B(eb, m, t, n_enc * m->enc_seq, m->enc_seq, mp);
        b += model_layer_is_sparse(m, layer) ? switch_act_B(eb, router_B(c), m, t, mp) : ffn_act_B(eb, m, t, mp);
        sum += b;
        largest = fmax(largest, b);
        inputs += eb * t * m->d_model;
    }
    /* always kept: the encoder output (cross-attention keys) and the fp32 vocab logits of the loss */
    double fixed = eb * t_enc * m->d_model + COST_FP32_BYTES * t_dec * m->vocab / mp;

    cost_memory mem;
    mem.params_B = COST_FP32_BYTES * params_local;
    /* fp32 gradients + factored second moments: an (R,Q) matrix keeps R+Q floats, <= 2/D per parameter
     * when both sides are >= D */
    mem.optimizer_B = COST_FP32_BYTES * params_local * (1.0 + 2.0 / m->d_model);
    if (m->impl == MODEL_IMPL_TORCH)   /* AdamW: fp32 gradients, exp_avg and exp_avg_sq */
        mem.optimizer_B = 3.0 * COST_FP32_BYTES * params_local;
    mem.activations_B = fixed + (remat ? inputs + largest : sum);
    mem.total_B = mem.params_B + mem.optimizer_B + mem.activations_B;
    if (mem.total_B > c->hbm_bytes)
        return errbuf_set(err, "plan needs %.2f GiB per core, HBM has %.2f GiB (%.2f GiB over)", mem.total_B / GIB,
                          c->hbm_bytes / GIB, (mem.total_B - c->hbm_bytes) / GIB);
    *out = mem;
    return 0;
}

/* ---- what sim/cost_torch.c borrows (sim/cost_int.h) ---- */
double cost_hbm_rate(const cost_chip *c)
{
    return hbm_rate(c);
}

void cost_vec_work(cost_work *w, const cost_chip *c, double flops, double bytes)
{
    vec(w, c, flops, bytes);
}

void cost_rows_work(cost_work *w, const cost_chip *c, double batch, const double *rows, int n, double K, double N,
                    cost_prec p, int backward)
{
    mm_rows(w, c, batch, rows, n, K, N, p == COST_FP32 ? &PREC_FP32 : &PREC_BF16, backward);
}
