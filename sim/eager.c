/* eager: the kernels of one eager PyTorch training step, priced with the cost model (see eager.h).  Each kernel is
 * written as the op of the program that launches it; a backward kernel names the autograd formula it comes from.
 * Byte counts are per element: what a kernel reads (all its inputs) and writes, in the dtypes the program has
 * there (fp32 residual stream, bf16 matmul outputs, fp32 router).  A broadcast operand of a row's size (a norm
 * weight, a rotary table row, a per-token scale) is read from cache and not counted. */
#include "sim/eager.h"

#include <math.h>

#define F4 COST_FP32_BYTES
#define B2 COST_BF16_BYTES
#define I8 8.0               /* int64 indices */

/* One element-wise or reduction kernel over n elements, in_B and out_B bytes per element (cost_torch_eltwise_work);
 * flops: fp32 FLOPs per element (1 for an add or product; silu, exp and the softmaxes a few). */
static void ew(cost_work *w, const cost_chip *c, double n, double in_B, double out_B, double flops)
{
    cost_torch_eltwise_work(w, c, n, in_B, out_B, flops);
}

/* A host synchronisation (.item(), bincount's bin count, boolean-mask indexing's nonzero): the GPU drains and the
 * next kernel waits for the host to launch it: one launch gap.  Assumption: the gap is op_overhead_s. */
static void host_sync(cost_work *w, const cost_chip *c)
{
    w->t_s += c->op_overhead_s;
    w->ops += 1.0;
}

/* torch.sort / argsort of n int64 keys with their indices: EAGER_SORT_KERNELS passes. */
static void sort_keys(cost_work *w, const cost_chip *c, double n)
{
    for (int i = 0; i < EAGER_SORT_KERNELS; i++)
        ew(w, c, n, 2.0 * I8, 2.0 * I8, 1.0);
}

static void mm(cost_work *w, const cost_chip *c, double batch, double M, double K, double N, int backward)
{
    cost_matmul_work(w, c, batch, M, K, N, COST_BF16, backward);
}

/* rms_norm(x, w) = (x * rsqrt(mean(x^2) + eps)) * w on n = rows x D fp32 elements. */
static void rmsnorm(cost_work *w, const cost_chip *c, double rows, double D, int backward)
{
    double n = rows * D;
    if (!backward) {
        ew(w, c, n, F4, F4, 1.0);      /* x.pow(2) */
        ew(w, c, n, F4, 0.0, 1.0);     /* .mean(-1): one fp32 per row out */
        ew(w, c, rows, F4, F4, 1.0);   /* + eps */
        ew(w, c, rows, F4, F4, 4.0);   /* rsqrt */
        ew(w, c, n, F4, F4, 1.0);      /* x * r */
        ew(w, c, n, F4, F4, 1.0);      /* * w */
        return;
    }
    ew(w, c, n, F4, F4, 1.0);          /* mul: grad * w */
    ew(w, c, n, 2.0 * F4, F4, 1.0);    /* mul: grad * (x r), the weight's gradient before its sum */
    ew(w, c, n, F4, 0.0, 1.0);         /* sum over the rows into w's gradient */
    ew(w, c, n, F4, F4, 1.0);          /* mul: g * r (the gradient of x) */
    ew(w, c, n, 2.0 * F4, F4, 1.0);    /* mul: g * x (the gradient of r) */
    ew(w, c, n, F4, 0.0, 1.0);         /* its sum over D */
    ew(w, c, rows, 2.0 * F4, F4, 4.0); /* rsqrt backward: -g r^3 / 2 */
    ew(w, c, n, F4, F4, 1.0);          /* mean backward: g expanded / D */
    ew(w, c, n, F4, F4, 1.0);          /* pow backward: 2 x */
    ew(w, c, n, 2.0 * F4, F4, 1.0);    /* ... times the gradient */
    ew(w, c, n, 2.0 * F4, F4, 1.0);    /* the two gradients of x summed */
}

/* rope(x) = x cos + cat(-x2, x1) sin on n bf16 elements; cos and sin are fp32, so the result is fp32. */
static void rope(cost_work *w, const cost_chip *c, double n, int backward)
{
    if (!backward) {
        ew(w, c, n / 2.0, B2, B2, 1.0);    /* -x2 */
        ew(w, c, n, B2, B2, 0.0);          /* cat */
        ew(w, c, n, B2, F4, 1.0);          /* cat(..) * sin */
        ew(w, c, n, B2, F4, 1.0);          /* x * cos */
        ew(w, c, n, 2.0 * F4, F4, 1.0);    /* their sum */
        return;
    }
    /* mul backward grad * other in fp32, then cast to the bf16 input's dtype, for both products */
    for (int i = 0; i < 2; i++) {
        ew(w, c, n, F4, F4, 1.0);
        ew(w, c, n, F4, B2, 0.0);
    }
    /* cat backward: two slices (views); neg backward; each slice's backward into the full x: zeros, copy */
    ew(w, c, n / 2.0, B2, B2, 1.0);
    for (int i = 0; i < 2; i++) {
        ew(w, c, n, 0.0, B2, 0.0);
        ew(w, c, n / 2.0, B2, B2, 0.0);
    }
    ew(w, c, n, 2.0 * B2, B2, 1.0);        /* the three gradients of x summed: two adds */
    ew(w, c, n, 2.0 * B2, B2, 1.0);
}

void eager_attention_work(cost_work *w, const cost_chip *c, const model_cfg *m, double batch, int seq,
                          int backward)
{
    double T = batch * seq, D = m->d_model, hd = m->d_kv, H = m->heads, KV = model_kv_heads(m);
    double Q = (H + 2.0 * KV) * hd, nq = T * H * hd, nk = T * KV * hd;
    if (!backward) {
        rmsnorm(w, c, T, D, 0);
        ew(w, c, T * D, F4, B2, 0.0);                 /* autocast: the input to bf16 */
        mm(w, c, 1.0, T, D, Q, 0);                    /* fused QKV projection */
        rope(w, c, nq, 0);
        rope(w, c, nk, 0);
        ew(w, c, nq, F4, B2, 0.0);                    /* autocast: SDPA's q and k to bf16 (v is bf16) */
        ew(w, c, nk, F4, B2, 0.0);
        cost_flash_attention_work(w, c, batch, seq, (int)H, (int)KV, (int)hd, 1, 0);
        mm(w, c, 1.0, T, H * hd, D, 0);               /* output projection (flash's output is laid out for it) */
        ew(w, c, T * D, F4 + B2, F4, 1.0);            /* residual: fp32 x + bf16 */
        return;
    }
    ew(w, c, T * D, F4, B2, 0.0);                     /* add backward: the gradient cast to the bf16 operand */
    mm(w, c, 1.0, T, H * hd, D, 1);
    cost_flash_attention_work(w, c, batch, seq, (int)H, (int)KV, (int)hd, 1, 1);
    ew(w, c, nq, B2, F4, 0.0);                        /* the casts' backward: to fp32 */
    ew(w, c, nk, B2, F4, 0.0);
    rope(w, c, nq, 1);
    rope(w, c, nk, 1);
    ew(w, c, T * Q, B2, B2, 0.0);                     /* split backward: q, k, v gradients into one [T, Q] */
    mm(w, c, 1.0, T, D, Q, 1);
    ew(w, c, T * D, B2, F4, 0.0);                     /* the input cast's backward */
    rmsnorm(w, c, T, D, 1);
    ew(w, c, T * D, 2.0 * F4, F4, 1.0);               /* the norm's and the residual's gradients summed */
}

void eager_norm_residual_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens, int backward)
{
    double D = m->d_model;
    if (!backward) {
        rmsnorm(w, c, tokens, D, 0);
        ew(w, c, tokens * D, F4 + B2, F4, 1.0);       /* x + ffn(h) */
        return;
    }
    ew(w, c, tokens * D, F4, B2, 0.0);                /* add backward: the gradient cast to the bf16 operand */
    rmsnorm(w, c, tokens, D, 1);
    ew(w, c, tokens * D, 2.0 * F4, F4, 1.0);          /* the norm's and the residual's gradients summed */
}

/* silu(a) * b on n bf16 elements of the hidden width, and w2's input. */
static void swiglu_act(cost_work *w, const cost_chip *c, double n, int backward)
{
    if (!backward) {
        ew(w, c, n, B2, B2, 4.0);                     /* silu */
        ew(w, c, n, 2.0 * B2, B2, 1.0);               /* * */
        return;
    }
    ew(w, c, n, 2.0 * B2, B2, 1.0);                   /* mul backward: grad * b */
    ew(w, c, n, 2.0 * B2, B2, 1.0);                   /* and grad * silu(a) */
    ew(w, c, n, 2.0 * B2, B2, 5.0);                   /* silu_backward */
}

void eager_swiglu_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens, double width,
                       int backward)
{
    double D = m->d_model;
    if (width <= 0.0 || tokens <= 0.0)
        return;
    if (!backward) {
        ew(w, c, tokens * D, F4, B2, 0.0);            /* autocast: h to bf16 for w1 */
        mm(w, c, 1.0, tokens, D, width, 0);
        ew(w, c, tokens * D, F4, B2, 0.0);            /* and again for w3 */
        mm(w, c, 1.0, tokens, D, width, 0);
        swiglu_act(w, c, tokens * width, 0);
        mm(w, c, 1.0, tokens, width, D, 0);
        return;
    }
    mm(w, c, 1.0, tokens, width, D, 1);
    swiglu_act(w, c, tokens * width, 1);
    mm(w, c, 1.0, tokens, D, width, 1);
    mm(w, c, 1.0, tokens, D, width, 1);
    ew(w, c, tokens * D, B2, F4, 0.0);                /* the two casts' backward */
    ew(w, c, tokens * D, B2, F4, 0.0);
    ew(w, c, tokens * D, 2.0 * F4, F4, 1.0);          /* summed into h's gradient */
}

/* ---- the MoE layer ---- */

static void moe_router(cost_work *w, const cost_chip *c, const model_cfg *m, eager_dispatch d, double T, double E,
                       double k, double C, int backward)
{
    double D = m->d_model;
    if (!backward) {
        cost_matmul_work(w, c, 1.0, T, D, E, COST_FP32, 0);   /* autocast off: fp32 logits */
        ew(w, c, T * E, F4, F4, 4.0);                         /* softmax */
        if (d == EAGER_EXPERT_CHOICE) {
            ew(w, c, T * E, F4, 0.0, 2.0);                    /* topk of probs.t() over tokens: radix select */
            ew(w, c, T * E, F4, 0.0, 2.0);
            ew(w, c, E * C, F4, F4 + I8, 1.0);                /* its values and token indices */
            return;
        }
        ew(w, c, T * E, F4, k * (F4 + I8) / E, 2.0);          /* topk over the experts */
        ew(w, c, T * k, F4, F4 / k, 1.0);                     /* gate.sum(-1) */
        ew(w, c, T * k, 2.0 * F4, F4, 1.0);                   /* gate / sum */
        ew(w, c, T * k, I8, 0.0, 1.0);                        /* bincount: the max of the ids first, */
        host_sync(w, c);                                      /* read on the host, */
        ew(w, c, T * k, I8, 0.0, 1.0);                        /* then the histogram */
        ew(w, c, E, I8, F4, 1.0);                             /* counts.float() / (T k) */
        ew(w, c, E, F4, F4, 1.0);
        ew(w, c, T * E, F4, 0.0, 1.0);                        /* probs.mean(0) */
        ew(w, c, E, 2.0 * F4, F4, 1.0);                       /* f * P */
        ew(w, c, E, F4, 0.0, 1.0);                            /* .sum() */
        ew(w, c, 1.0, F4, F4, 1.0);                           /* * E * 0.01 */
        ew(w, c, 1.0, F4, F4, 1.0);
        return;
    }
    if (d == EAGER_EXPERT_CHOICE) {
        ew(w, c, T * E, 0.0, F4, 0.0);                        /* topk backward: zeros, scatter */
        ew(w, c, E * C, F4 + I8, F4, 0.0);
    } else {
        ew(w, c, 1.0, F4, F4, 1.0);                           /* aux loss backward: the scalars, */
        ew(w, c, E, F4, F4, 1.0);                             /* sum and product, */
        ew(w, c, T * E, F4, F4, 1.0);                         /* mean backward */
        ew(w, c, T * k, 2.0 * F4, F4, 1.0);                   /* div backward: both operands */
        ew(w, c, T * k, 2.0 * F4, F4, 1.0);
        ew(w, c, T * k, F4, F4, 0.0);                         /* sum backward */
        ew(w, c, T * k, 2.0 * F4, F4, 1.0);                   /* the gate's two gradients summed */
        ew(w, c, T * E, 0.0, F4, 0.0);                        /* topk backward: zeros, scatter */
        ew(w, c, T * k, F4 + I8, F4, 0.0);
        ew(w, c, T * E, 2.0 * F4, F4, 1.0);                   /* with the aux loss's gradient */
    }
    ew(w, c, T * E, 2.0 * F4, F4, 3.0);                       /* softmax backward */
    cost_matmul_work(w, c, 1.0, T, D, E, COST_FP32, 1);
    ew(w, c, T * D, 2.0 * F4, F4, 1.0);                       /* h's gradient: router's + experts' */
}

/* The index arithmetic of the padded dispatch on T k ids: transpose copy, argsort, bincount (a host sync),
 * cumsum and starts, positions through order, the keep mask, slots, token and gate lists, and three
 * boolean-mask selections (each a nonzero and a host sync). */
static void padded_positions(cost_work *w, const cost_chip *c, double Tk, double E)
{
    ew(w, c, Tk, I8, I8, 0.0);           /* idx.t().reshape(-1) */
    sort_keys(w, c, Tk);
    ew(w, c, Tk, I8, 0.0, 1.0);          /* bincount */
    host_sync(w, c);
    ew(w, c, Tk, I8, 0.0, 1.0);
    ew(w, c, E, I8, I8, 1.0);            /* cumsum, - counts */
    ew(w, c, E, 2.0 * I8, I8, 1.0);
    ew(w, c, Tk, 0.0, I8, 0.0);          /* empty_like, arange */
    ew(w, c, Tk, 2.0 * I8, I8, 0.0);     /* flat[order] */
    ew(w, c, Tk, 2.0 * I8, I8, 0.0);     /* starts[..] */
    ew(w, c, Tk, 2.0 * I8, I8, 1.0);     /* arange - starts */
    ew(w, c, Tk, 2.0 * I8, I8, 0.0);     /* pos[order] = */
    ew(w, c, Tk, I8, 1.0, 1.0);          /* keep = pos < C */
    ew(w, c, Tk, I8, I8, 1.0);           /* flat * C */
    ew(w, c, Tk, 2.0 * I8, I8, 1.0);     /* + pos */
    ew(w, c, Tk, 0.0, I8, 0.0);          /* arange(T).repeat(k): arange, repeat */
    ew(w, c, Tk, I8, I8, 0.0);
    ew(w, c, Tk, F4, F4, 0.0);           /* gate.t().reshape(-1) */
    for (int i = 0; i < 3; i++) {        /* slot, tok and gate [keep] */
        ew(w, c, Tk, 1.0, I8, 1.0);      /* nonzero */
        host_sync(w, c);
        ew(w, c, Tk, 1.0 + I8, I8, 0.0);
    }
}

static void moe_dispatch(cost_work *w, const cost_chip *c, const model_cfg *m, eager_dispatch d, double T, double E,
                         double k, double kept, double C, int backward)
{
    double D = m->d_model, Tk = T * k;
    if (d == EAGER_DROPLESS) {
        if (!backward) {
            sort_keys(w, c, Tk);                        /* argsort(flat, stable) */
            ew(w, c, Tk, I8, I8, 1.0);                  /* order // k */
            ew(w, c, Tk * D, F4, F4, 0.0);              /* x[order // k] */
            ew(w, c, Tk * D, F4, B2, 0.0);              /* .to(bf16) */
            ew(w, c, E, I8, I8, 1.0);                   /* cumsum(counts).to(int32) */
            ew(w, c, E, I8, F4, 0.0);
            return;
        }
        ew(w, c, Tk * D, B2, F4, 0.0);                  /* .to backward */
        ew(w, c, T * D, 0.0, F4, 0.0);                  /* index backward: zeros, index_put_ accumulate */
        sort_keys(w, c, Tk);
        ew(w, c, Tk * D, 2.0 * F4, F4, 1.0);
        return;
    }
    double rows = d == EAGER_PADDED ? kept : E * C;     /* token rows gathered */
    if (!backward) {
        if (d == EAGER_PADDED) {
            padded_positions(w, c, Tk, E);
            ew(w, c, E * C * D, 0.0, B2, 0.0);          /* new_zeros(E C, D) */
        }
        ew(w, c, rows * D, F4, F4, 0.0);                /* x[tok] */
        ew(w, c, rows * D, F4, B2, 0.0);                /* .to(bf16) */
        if (d == EAGER_PADDED)
            ew(w, c, rows * D, B2, B2, 0.0);            /* index_copy into the buffer */
        return;
    }
    if (d == EAGER_PADDED)
        ew(w, c, rows * D, B2, B2, 0.0);                /* index_copy backward: index_select */
    ew(w, c, rows * D, B2, F4, 0.0);                    /* .to backward */
    ew(w, c, T * D, 0.0, F4, 0.0);                      /* x[tok] backward: zeros, index_put_ accumulate */
    sort_keys(w, c, rows);
    ew(w, c, rows * D, 2.0 * F4, F4, 1.0);
}

static void moe_expert(cost_work *w, const cost_chip *c, const model_cfg *m, eager_dispatch d, const double *rows,
                       int El, double C, int backward)
{
    double D = m->d_model, Fe = model_d_ff_expert(m), R = 0.0;
    for (int e = 0; e < El; e++)
        R += rows[e];
    for (int i = 0; i < 3; i++)                         /* w1, w3, w2 .to(bf16) at every use; backward to fp32 */
        ew(w, c, El * Fe * D, backward ? B2 : F4, backward ? F4 : B2, 0.0);
    if (d == EAGER_DROPLESS) {
        if (!backward) {
            cost_grouped_mm_work(w, c, rows, El, D, Fe, 0);
            cost_grouped_mm_work(w, c, rows, El, D, Fe, 0);
            swiglu_act(w, c, R * Fe, 0);
            cost_grouped_mm_work(w, c, rows, El, Fe, D, 0);
            return;
        }
        cost_grouped_mm_work(w, c, rows, El, Fe, D, 1);
        swiglu_act(w, c, R * Fe, 1);
        cost_grouped_mm_work(w, c, rows, El, D, Fe, 1);
        cost_grouped_mm_work(w, c, rows, El, D, Fe, 1);
        ew(w, c, R * D, 2.0 * B2, B2, 1.0);             /* xs's two gradients summed */
        return;
    }
    if (!backward) {                                    /* bmm over the [E, C, D] buffers */
        mm(w, c, El, C, D, Fe, 0);
        mm(w, c, El, C, D, Fe, 0);
        swiglu_act(w, c, El * C * Fe, 0);
        mm(w, c, El, C, Fe, D, 0);
        return;
    }
    mm(w, c, El, C, Fe, D, 1);
    swiglu_act(w, c, El * C * Fe, 1);
    mm(w, c, El, C, D, Fe, 1);
    mm(w, c, El, C, D, Fe, 1);
    ew(w, c, El * C * D, 2.0 * B2, B2, 1.0);
}

static void moe_combine(cost_work *w, const cost_chip *c, const model_cfg *m, eager_dispatch d, double T, double E,
                        double k, double kept, double C, int backward)
{
    double D = m->d_model, Tk = T * k;
    double rows = d == EAGER_DROPLESS ? Tk : d == EAGER_PADDED ? kept : E * C;
    if (!backward) {
        if (d == EAGER_DROPLESS) {
            ew(w, c, Tk * D, 0.0, B2, 0.0);             /* new_zeros(T k, D) */
            ew(w, c, Tk * D, B2, B2, 0.0);              /* index_copy(order) */
            ew(w, c, Tk, F4, B2, 0.0);                  /* gate.to(bf16) */
            ew(w, c, Tk * D, B2, B2, 1.0);              /* * gate */
            ew(w, c, Tk * D, B2, B2 / k, 1.0);          /* .sum(1) */
        } else {
            if (d == EAGER_PADDED)
                ew(w, c, rows * D, B2, B2, 0.0);        /* out[slot] */
            ew(w, c, rows, F4, B2, 0.0);                /* gate.to(bf16) */
            ew(w, c, rows * D, B2, B2, 1.0);            /* * gate */
            ew(w, c, T * D, 0.0, B2, 0.0);              /* new_zeros(T, D) */
            ew(w, c, rows * D, 2.0 * B2, B2, 1.0);      /* index_add */
            if (d == EAGER_PADDED) {
                ew(w, c, Tk, 1.0, 0.0, 1.0);            /* int(keep.sum()) */
            } else {
                ew(w, c, T, 0.0, 1.0, 0.0);             /* covered: zeros, [tok] = True, counts, sum */
                ew(w, c, rows, I8, 1.0, 0.0);
                ew(w, c, E, 0.0, I8, 0.0);
                ew(w, c, T, 1.0, 0.0, 1.0);
            }
            host_sync(w, c);
        }
        ew(w, c, T * D, B2, F4, 0.0);                   /* y.type_as(x) */
        return;
    }
    ew(w, c, T * D, F4, B2, 0.0);                       /* type_as backward */
    if (d == EAGER_DROPLESS) {
        ew(w, c, Tk * D, B2, B2, 1.0);                  /* mul backward: g * gate (the expand of sum's backward) */
        ew(w, c, Tk * D, 2.0 * B2, B2, 1.0);            /* and g * y for the gate, summed over D */
        ew(w, c, Tk * D, B2, 0.0, 1.0);
        ew(w, c, Tk * D, B2, B2, 0.0);                  /* index_copy backward: index_select(order) */
        return;
    }
    ew(w, c, rows * D, B2, B2, 0.0);                    /* index_add backward: index_select */
    ew(w, c, rows * D, B2, B2, 1.0);                    /* mul backward: g * gate, and g * y summed over D */
    ew(w, c, rows * D, 2.0 * B2, B2, 1.0);
    ew(w, c, rows * D, B2, 0.0, 1.0);
    if (d == EAGER_PADDED) {                            /* out[slot] backward: zeros, index_put_ accumulate */
        ew(w, c, E * C * D, 0.0, B2, 0.0);
        sort_keys(w, c, rows);
        ew(w, c, rows * D, 2.0 * B2, B2, 1.0);
    }
}

void eager_moe_work(eager_moe *out, const cost_chip *c, const model_cfg *m, eager_dispatch d, double tokens,
                    int experts, int top_k, const double *rows, int experts_local, double kept, int capacity,
                    int backward)
{
    double T = tokens, E = experts, k = d == EAGER_EXPERT_CHOICE ? 1.0 : top_k, C = capacity;
    cost_work_init(&out->router);
    cost_work_init(&out->dispatch);
    cost_work_init(&out->expert);
    cost_work_init(&out->combine);
    cost_work_init(&out->shared);
    moe_router(&out->router, c, m, d, T, E, k, C, backward);
    moe_dispatch(&out->dispatch, c, m, d, T, E, k, kept, C, backward);
    moe_expert(&out->expert, c, m, d, rows, experts_local, C, backward);
    moe_combine(&out->combine, c, m, d, T, E, k, kept, C, backward);
    if (m->shared_experts > 0) {
        double width = (double)m->shared_experts * model_d_ff_expert(m);
        eager_swiglu_work(&out->shared, c, m, T, width, backward);
        if (!backward)
            ew(&out->shared, c, T * m->d_model, 2.0 * B2, B2, 1.0);   /* y + shared(x) */
        else
            ew(&out->shared, c, T * m->d_model, 2.0 * F4, F4, 1.0);   /* h's gradient: the shared path's */
    }
}

/* ---- embedding, head and loss, weights ---- */

void eager_embed_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens, int backward)
{
    double D = m->d_model;
    if (!backward) {
        ew(w, c, tokens * D, F4 + I8 / D, F4, 0.0);     /* the rows gathered */
        return;
    }
    sort_keys(w, c, tokens);                            /* embedding_dense_backward: the ids sorted, */
    ew(w, c, (double)m->vocab * D, 0.0, F4, 0.0);       /* a zeroed [V, D] gradient, */
    ew(w, c, tokens * D, 2.0 * F4, F4, 1.0);            /* the rows added in */
}

void eager_head_loss_work(cost_work *w, const cost_chip *c, const model_cfg *m, double tokens, int backward)
{
    double D = m->d_model, V = m->vocab, TV = tokens * V;
    if (!backward) {
        rmsnorm(w, c, tokens, D, 0);
        ew(w, c, tokens * D, F4, B2, 0.0);              /* autocast: to bf16 */
        mm(w, c, 1.0, tokens, D, V, 0);                 /* bf16 logits */
        ew(w, c, TV, B2, F4, 0.0);                      /* logits.float() */
        ew(w, c, TV, 2.0 * F4, F4, 4.0);                /* log_softmax: max and sum pass, then the write pass */
        ew(w, c, tokens, F4 + I8, F4, 1.0);             /* nll_loss */
        return;
    }
    ew(w, c, TV, 0.0, F4, 0.0);                         /* nll_loss backward: zeros, scatter of -1/T */
    ew(w, c, tokens, I8, F4, 0.0);
    ew(w, c, TV, 3.0 * F4, F4, 3.0);                    /* log_softmax backward: sum of g, then g - exp(y) sum */
    ew(w, c, TV, F4, B2, 0.0);                          /* .float() backward */
    mm(w, c, 1.0, tokens, D, V, 1);
    ew(w, c, tokens * D, B2, F4, 0.0);                  /* the cast's backward */
    rmsnorm(w, c, tokens, D, 1);
}

void eager_params_count(eager_params *p, const model_cfg *m, int experts_local)
{
    double D = m->d_model, hd = m->d_kv, H = m->heads, KV = model_kv_heads(m);
    double Fe = model_d_ff_expert(m), F = m->d_ff, V = m->vocab;
    double shared = (double)m->shared_experts * Fe;
    int L = m->enc_layers + m->dec_layers;
    p->params = p->tensors = p->cast_params = p->cast_tensors = 0.0;
    for (int l = 0; l < L; l++) {
        double proj = D * (H + 2.0 * KV) * hd + H * hd * D;
        p->params += 2.0 * D + proj;                    /* two norms, QKV and output projections */
        p->tensors += 4.0;
        p->cast_params += proj;
        p->cast_tensors += 2.0;
        int fl = l < m->enc_layers ? l : l - m->enc_layers;
        if (m->experts > 1 && model_layer_is_sparse(m, fl)) {
            p->params += D * m->experts + 3.0 * experts_local * Fe * D;   /* router, w1 w3 w2 */
            p->tensors += 4.0;
            if (shared > 0.0) {
                p->params += 3.0 * D * shared;
                p->tensors += 3.0;
                p->cast_params += 3.0 * D * shared;
                p->cast_tensors += 3.0;
            }
        } else {
            p->params += 3.0 * D * F;
            p->tensors += 3.0;
            p->cast_params += 3.0 * D * F;
            p->cast_tensors += 3.0;
        }
    }
    p->params += 2.0 * V * D + D;                       /* embedding, head, final norm */
    p->tensors += 3.0;
    p->cast_params += V * D;
    p->cast_tensors += 1.0;
}

void eager_casts_work(cost_work *w, const cost_chip *c, const eager_params *p, int backward)
{
    cost_autocast_cast_work(w, c, p->cast_params, p->cast_tensors, backward);
}
