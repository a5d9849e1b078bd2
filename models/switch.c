/* switch: the Switch-layer kernels (see switch.h for every contract).  Plain loops over shapes, plus CBLAS
 * sgemm for the router and the fast expert FFN.  No I/O, no SimGrid, no allocation. */
#include "models/switch.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#ifdef __SSE2__
#include <emmintrin.h>                        /* SSE2 is part of x86-64: no run-time check needed */
#endif

/* Width of the F tiles the fast FFN converts from bf16 to fp32 before each sgemm.  A (D, TILE_F) fp32 tile
 * is 0.8 MB at D = 768 and 2.1 MB at D = 2080, so it is still in cache when sgemm packs it, and the
 * conversion costs about one bf16 read.  Smaller tiles make sgemm re-pack the tokens more often (once per
 * tile); larger ones fall out of cache.  Measured with tests/bench_kernels.c on the build host: 128 to 1536
 * were within the run-to-run noise (about 5%) of each other; 256 was never worst.  -D overrides it. */
#ifndef SWITCH_FFN_TILE_F
#define SWITCH_FFN_TILE_F 256
#endif

/* gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), the tanh approximation (Hendrycks & Gimpel);
 * the coefficient is part of that formula. */
#define SWITCH_GELU_SQRT_2_OVER_PI 0.7978845608028654f
#define SWITCH_GELU_CUBIC 0.044715f

int switch_capacity(double cf, int N, int E, int min_capacity, switch_cap_mode round_mode)
{
    if (!(cf > 0.0) || !isfinite(cf) || N < 1 || E < 1 || min_capacity < 0)
        return -1;
    if (round_mode != SWITCH_CAP_FLOOR && round_mode != SWITCH_CAP_ROUND && round_mode != SWITCH_CAP_LINGVO)
        return -1;
    double v = (double)N * cf / (double)E;   /* MTF: int(group_size * capacity_factor / num_experts) */
    v = (round_mode == SWITCH_CAP_ROUND) ? nearbyint(v) : floor(v);  /* nearbyint: half to even */
    if (round_mode == SWITCH_CAP_LINGVO && v < (double)N)   /* 4 for 0, then up to a multiple of 4 */
        v = v == 0.0 ? 4.0 : 4.0 * ceil(v / 4.0);
    int c = (v >= (double)N) ? N : (int)v;   /* compared before the cast, so no int overflow */
    if (c < min_capacity)
        c = min_capacity;
    if (c > N)
        c = N;
    return c;
}

void switch_softmax_forward(float *probs, const float *logits, int N, int E)
{
    for (int n = 0; n < N; n++) {
        const float *logits_n = logits + (size_t)n * E;
        float *probs_n = probs + (size_t)n * E;
        float maxval = logits_n[0];           /* subtract the row max so expf cannot overflow */
        for (int e = 1; e < E; e++)
            if (logits_n[e] > maxval)
                maxval = logits_n[e];
        double sum = 0.0;
        for (int e = 0; e < E; e++) {
            probs_n[e] = expf(logits_n[e] - maxval);
            sum += (double)probs_n[e];
        }
        float inv = (float)(1.0 / sum);       /* sum >= 1: the max term is exp(0) */
        for (int e = 0; e < E; e++)
            probs_n[e] *= inv;
    }
}

void switch_router_forward(float *logits, float *probs, const float *x, const float *w, int N, int D, int E)
{
    /* logits (N,E) = x (N,D) @ w (D,E), all fp32 */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, E, D, 1.0f, x, D, w, E, 0.0f, logits, E);
    switch_softmax_forward(probs, logits, N, E);
}

void switch_sigmoid_forward(float *scores, const float *logits, int N, int E)
{
    size_t len = (size_t)N * E;
    for (size_t i = 0; i < len; i++)
        scores[i] = 1.0f / (1.0f + expf(-logits[i]));   /* expf overflows to inf for x < -88: 1/inf = 0 */
}

void switch_router_score_forward(float *logits, float *scores, const float *x, const float *w, int N, int D, int E,
                                 switch_score score)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, E, D, 1.0f, x, D, w, E, 0.0f, logits, E);
    if (score == SWITCH_SCORE_SIGMOID)
        switch_sigmoid_forward(scores, logits, N, E);
    else
        switch_softmax_forward(scores, logits, N, E);
}

void switch_router_score_forward_ref(float *logits, float *scores, const float *x, const float *w, int N, int D,
                                     int E, switch_score score)
{
    switch_router_forward_ref(logits, scores, x, w, N, D, E);    /* softmax scores */
    if (score == SWITCH_SCORE_SIGMOID)
        for (size_t i = 0; i < (size_t)N * E; i++)
            scores[i] = 1.0f / (1.0f + expf(-logits[i]));
}

void switch_router_forward_ref(float *logits, float *probs, const float *x, const float *w, int N, int D, int E)
{
    for (int n = 0; n < N; n++) {
        const float *x_n = x + (size_t)n * D;
        float *logits_n = logits + (size_t)n * E;
        for (int e = 0; e < E; e++)
            logits_n[e] = 0.0f;
        for (int d = 0; d < D; d++) {
            const float *w_d = w + (size_t)d * E;
            float xv = x_n[d];
            for (int e = 0; e < E; e++)
                logits_n[e] += xv * w_d[e];
        }
    }
    switch_softmax_forward(probs, logits, N, E);
}

/* out (n) <- in (n), exact: bf16_array_to_f32, 8 at a time with SSE2 where there is SSE2.  GCC 12 at -O2
 * leaves the scalar loop unvectorised, and this conversion is on the fast FFN's and the bf16 router's critical path. */
static void widen_bf16(float *out, const bf16 *in, size_t n)
{
    size_t i = 0;
#ifdef __SSE2__
    const __m128i zero = _mm_setzero_si128();
    for (; i + 8 <= n; i += 8) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(in + i));
        _mm_storeu_ps(out + i, _mm_castsi128_ps(_mm_unpacklo_epi16(zero, v)));    /* bits << 16 */
        _mm_storeu_ps(out + i + 4, _mm_castsi128_ps(_mm_unpackhi_epi16(zero, v)));
    }
#endif
    for (; i < n; i++)
        out[i] = bf16_to_f32(in[i]);
}

void switch_router_forward_bf16(float *logits, float *probs, float *xf, const bf16 *x, const float *w,
                                int N, int D, int E)
{
    widen_bf16(xf, x, (size_t)N * D);
    switch_router_forward(logits, probs, xf, w, N, D, E);
}

void switch_jitter_forward(float *x, const gsl_rng *r, double eps, int N, int D)
{
    if (eps == 0.0)
        return;
    size_t len = (size_t)N * D;
    for (size_t i = 0; i < len; i++) {
        double u = gsl_rng_uniform(r);        /* [0,1) */
        x[i] *= (float)(1.0 - eps + 2.0 * eps * u);
    }
}

/* 1 if (score a, index ia) comes before (score b, index ib) in the order: score down, then index up. */
static inline int rank_before(float a, int ia, float b, int ib)
{
    return a > b || (a == b && ia < ib);
}

/* gate_n (k) <- scores of the chosen experts, renormalised when asked. */
static void topk_gates(float *gate_n, const int *expert_n, const float *scores_n, int k, int renorm)
{
    float sum = 0.0f;
    for (int j = 0; j < k; j++) {
        gate_n[j] = scores_n[expert_n[j]];
        sum += gate_n[j];
    }
    if (!renorm)
        return;
    float denom = sum + SWITCH_TOP2_EPS;
    for (int j = 0; j < k; j++)
        gate_n[j] = gate_n[j] / denom;
}

void switch_topk_gates_forward(int *expert, float *gate, const float *scores, int N, int E, int k, int renorm)
{
    for (int n = 0; n < N; n++) {
        const float *scores_n = scores + (size_t)n * E;
        int *expert_n = expert + (size_t)n * k;
        int len = 0;                          /* expert_n[0..len) sorted: score down, index up */
        for (int e = 0; e < E; e++) {
            float v = scores_n[e];
            /* e comes after every earlier expert of equal score, so it enters only above a strictly lower one */
            if (len == k && !(v > scores_n[expert_n[k - 1]]))
                continue;
            int pos = len < k ? len++ : k - 1;
            while (pos > 0 && v > scores_n[expert_n[pos - 1]]) {
                expert_n[pos] = expert_n[pos - 1];
                pos--;
            }
            expert_n[pos] = e;
        }
        topk_gates(gate + (size_t)n * k, expert_n, scores_n, k, renorm);
    }
}

void switch_topk_gates_forward_ref(int *expert, float *gate, const float *scores, int N, int E, int k, int renorm)
{
    for (int n = 0; n < N; n++) {
        const float *scores_n = scores + (size_t)n * E;
        int *expert_n = expert + (size_t)n * k;
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int e = 0; e < E; e++) {
                if (j > 0 && !rank_before(scores_n[expert_n[j - 1]], expert_n[j - 1], scores_n[e], e))
                    continue;                 /* not after the previous choice */
                if (best < 0 || rank_before(scores_n[e], e, scores_n[best], best))
                    best = e;
            }
            expert_n[j] = best;
        }
        topk_gates(gate + (size_t)n * k, expert_n, scores_n, k, renorm);
    }
}

void switch_topk_forward(int *expert, float *gate, const float *probs, int N, int E, int k)
{
    switch_topk_gates_forward(expert, gate, probs, N, E, k, k >= 2);
}

/* heap[0..len) is a min-heap in the order (score down, index up): the root is the worst token kept.  Moves the
 * entry at i down to its place. */
static void ec_sift_down(int *heap, int len, int i, const float *scores, int E, int e)
{
    for (;;) {
        int worst = i, l = 2 * i + 1, r = l + 1;
        if (l < len && rank_before(scores[(size_t)heap[worst] * E + e], heap[worst], scores[(size_t)heap[l] * E + e],
                                   heap[l]))
            worst = l;
        if (r < len && rank_before(scores[(size_t)heap[worst] * E + e], heap[worst], scores[(size_t)heap[r] * E + e],
                                   heap[r]))
            worst = r;
        if (worst == i)
            return;
        int t = heap[i];
        heap[i] = heap[worst];
        heap[worst] = t;
        i = worst;
    }
}

void switch_expert_choice_forward(int *token, float *gate, int *taken, int *heap, const float *scores, int N, int E,
                                  int C)
{
    for (int n = 0; n < N; n++)
        taken[n] = 0;
    for (int e = 0; e < E; e++) {
        for (int n = 0; n < C; n++)           /* the first C tokens, then heapified */
            heap[n] = n;
        for (int i = C / 2 - 1; i >= 0; i--)
            ec_sift_down(heap, C, i, scores, E, e);
        for (int n = C; n < N; n++) {
            int root = heap[0];
            if (!rank_before(scores[(size_t)n * E + e], n, scores[(size_t)root * E + e], root))
                continue;
            heap[0] = n;
            ec_sift_down(heap, C, 0, scores, E, e);
        }
        int *token_e = token + (size_t)e * C;
        for (int len = C; len > 0; len--) {   /* pop the worst into the last free place: best first */
            token_e[len - 1] = heap[0];
            heap[0] = heap[len - 1];
            ec_sift_down(heap, len - 1, 0, scores, E, e);
        }
        for (int c = 0; c < C; c++) {
            gate[(size_t)e * C + c] = scores[(size_t)token_e[c] * E + e];
            taken[token_e[c]]++;
        }
    }
}

void switch_expert_choice_forward_ref(int *token, float *gate, int *taken, const float *scores, int N, int E, int C)
{
    for (int n = 0; n < N; n++)
        taken[n] = 0;
    for (int e = 0; e < E; e++) {
        int *token_e = token + (size_t)e * C;
        for (int c = 0; c < C; c++) {
            int best = -1;
            for (int n = 0; n < N; n++) {
                float v = scores[(size_t)n * E + e];
                if (c > 0 && !rank_before(scores[(size_t)token_e[c - 1] * E + e], token_e[c - 1], v, n))
                    continue;                 /* not after the previous choice */
                if (best < 0 || rank_before(v, n, scores[(size_t)best * E + e], best))
                    best = n;
            }
            token_e[c] = best;
            gate[(size_t)e * C + c] = scores[(size_t)best * E + e];
            taken[best]++;
        }
    }
}

int switch_second_random(int *expert, float *gate, int N, const gsl_rng *r, double threshold)
{
    if (!(threshold > 0.0))
        return 0;
    int discarded = 0;
    for (int n = 0; n < N; n++) {
        double u = gsl_rng_uniform(r);
        if (u < (double)gate[(size_t)n * 2 + 1] / threshold)
            continue;
        expert[(size_t)n * 2 + 1] = -1;
        gate[(size_t)n * 2 + 1] = 0.0f;
        discarded++;
    }
    return discarded;
}

int switch_assign_forward(int *slot, int *counts, const int *expert, int N, int E, int k, int C)
{
    int dropped = 0;
    for (int e = 0; e < E; e++)
        counts[e] = 0;
    for (int j = 0; j < k; j++) {             /* choice-major: every first choice before any second */
        for (int n = 0; n < N; n++) {
            size_t i = (size_t)n * k + j;
            int e = expert[i];
            if (e < 0) {                      /* no choice (a discarded second choice) */
                slot[i] = -1;
                continue;
            }
            if (counts[e] < C) {
                slot[i] = counts[e]++;
            } else {
                slot[i] = -1;
                dropped++;
            }
        }
    }
    return dropped;
}

double switch_lb_loss(const float *probs, const int *expert, int N, int E, int k, double alpha)
{
    double sum = 0.0;
    for (int e = 0; e < E; e++) {
        double f = 0.0, p = 0.0;
        for (int n = 0; n < N; n++) {
            if (expert[(size_t)n * k] == e)
                f += 1.0;
            p += (double)probs[(size_t)n * E + e];
        }
        sum += (f / N) * (p / N);
    }
    return alpha * E * sum;
}

double switch_z_loss(const float *logits, int N, int E)
{
    double total = 0.0;
    for (int n = 0; n < N; n++) {
        const float *logits_n = logits + (size_t)n * E;
        double maxval = (double)logits_n[0];
        for (int e = 1; e < E; e++)
            if ((double)logits_n[e] > maxval)
                maxval = (double)logits_n[e];
        double s = 0.0;
        for (int e = 0; e < E; e++)
            s += exp((double)logits_n[e] - maxval);
        double lse = maxval + log(s);
        total += lse * lse;
    }
    return total / N;
}

void switch_dispatch_forward(bf16 *buf, const bf16 *x, const int *expert, const int *slot,
                             int N, int D, int E, int k, int C)
{
    memset(buf, 0, (size_t)E * C * D * sizeof *buf);   /* all-zero bits is +0.0 in bf16 */
    for (int n = 0; n < N; n++) {
        for (int j = 0; j < k; j++) {
            size_t i = (size_t)n * k + j;
            if (slot[i] < 0)
                continue;
            bf16 *buf_ek = buf + ((size_t)expert[i] * C + (size_t)slot[i]) * D;
            memcpy(buf_ek, x + (size_t)n * D, (size_t)D * sizeof *buf_ek);
        }
    }
}

/* ---- expert FFN ------------------------------------------------------------------------------------ */

static int ffn_tile(int F)
{
    return F < SWITCH_FFN_TILE_F ? F : SWITCH_FFN_TILE_F;
}

size_t switch_ffn_scratch_len(switch_act act, int C, int D, int F)
{
    if (C < 1 || D < 1 || F < 1)
        return 0;
    size_t nmat = (act == SWITCH_ACT_GEGLU) ? 2 : 1;   /* input-side matrices: W_in (and W_gate) */
    size_t t = (size_t)ffn_tile(F);
    /* fast: xf (C,D) + nmat hidden tiles (C,t) + nmat input tiles (D,t) + one output tile (t,D) */
    size_t fast = (size_t)C * D + nmat * (size_t)C * t + nmat * (size_t)D * t + t * (size_t)D;
    /* ref: one token's x (D) and nmat hidden rows (F) */
    size_t ref = (size_t)D + nmat * (size_t)F;
    return fast > ref ? fast : ref;
}

static int ffn_rows(const int *counts, int e, int C)
{
    if (counts == NULL)
        return C;
    int r = counts[e];
    return r < 0 ? 0 : (r > C ? C : r);
}

static inline float gelu_tanh(float x)
{
    /* 0.5 (1 + tanh(z)) = 1 / (1 + exp(-2z)): the same function with one expf, which is several times
     * cheaper than tanhf in glibc; it is most of the GEGLU cost beyond the matmuls */
    float z = SWITCH_GELU_SQRT_2_OVER_PI * (x + SWITCH_GELU_CUBIC * x * x * x);
    return x / (1.0f + expf(-2.0f * z));
}

/* h (F) <- x (D) @ w (D,F) in fp32, accumulated in d order. */
static void ffn_row_matmul_ref(float *h, const float *x, const bf16 *w, int D, int F)
{
    for (int f = 0; f < F; f++)
        h[f] = 0.0f;
    for (int d = 0; d < D; d++) {
        const bf16 *w_d = w + (size_t)d * F;
        float xv = x[d];
        for (int f = 0; f < F; f++)
            h[f] += xv * bf16_to_f32(w_d[f]);
    }
}

/* out (D) <- h (F) @ w_out (F,D) in fp32, accumulated in f order. */
static void ffn_row_out_ref(float *out, const float *h, const bf16 *w_out, int D, int F)
{
    for (int d = 0; d < D; d++)
        out[d] = 0.0f;
    for (int f = 0; f < F; f++) {
        const bf16 *w_f = w_out + (size_t)f * D;
        float hv = h[f];
        for (int d = 0; d < D; d++)
            out[d] += hv * bf16_to_f32(w_f[d]);
    }
}

static void ffn_forward_ref(float *out, float *scratch, const bf16 *buf, const int *counts, const bf16 *w_in,
                            const bf16 *w_gate, const bf16 *w_out, int E, int C, int D, int F)
{
    float *xf = scratch;                      /* (D) */
    float *h = xf + D;                        /* (F) */
    float *hg = h + F;                        /* (F), geglu only */
    size_t wlen = (size_t)D * F;
    for (int e = 0; e < E; e++) {
        int rows = ffn_rows(counts, e, C);
        for (int c = 0; c < rows; c++) {
            size_t row = (size_t)e * C + c;
            bf16_array_to_f32(xf, buf + row * D, (size_t)D);
            ffn_row_matmul_ref(h, xf, w_in + e * wlen, D, F);
            if (w_gate != NULL) {
                ffn_row_matmul_ref(hg, xf, w_gate + e * wlen, D, F);
                for (int f = 0; f < F; f++)
                    h[f] = bf16_round_f32(gelu_tanh(h[f]) * hg[f]);
            } else {
                for (int f = 0; f < F; f++)
                    h[f] = bf16_round_f32(h[f] > 0.0f ? h[f] : 0.0f);
            }
            ffn_row_out_ref(out + row * D, h, w_out + e * wlen, D, F);
        }
        memset(out + ((size_t)e * C + rows) * D, 0, (size_t)(C - rows) * D * sizeof *out);
    }
}

/* h (n) <- bf16_round_f32(relu(h)), the same values as the scalar expression in ffn_forward_ref: relu maps
 * NaN to 0 ('h > 0' is false), so the rounding never sees a NaN and needs no NaN branch. */
static void ffn_relu_round(float *h, size_t n)
{
    size_t i = 0;
#ifdef __SSE2__
    const __m128 zero = _mm_setzero_ps();
    const __m128i half = _mm_set1_epi32(0x7fff), one = _mm_set1_epi32(1);
    const __m128i hi = _mm_set1_epi32((int)0xffff0000u);
    for (; i + 4 <= n; i += 4) {
        __m128i u = _mm_castps_si128(_mm_max_ps(_mm_loadu_ps(h + i), zero));  /* NaN -> 0, as 'h > 0' */
        __m128i odd = _mm_and_si128(_mm_srli_epi32(u, 16), one);
        u = _mm_add_epi32(u, _mm_add_epi32(half, odd));                         /* ties to even */
        _mm_storeu_ps(h + i, _mm_castsi128_ps(_mm_and_si128(u, hi)));
    }
#endif
    for (; i < n; i++)
        h[i] = bf16_round_f32(h[i] > 0.0f ? h[i] : 0.0f);
}

/* dst (D,t) fp32 <- columns f0..f0+t of src (D,F) bf16.  The source rows are short runs 2F bytes apart, a new
 * page every row at Switch shapes, where the hardware prefetcher stops; so the row SWITCH_FFN_PREFETCH_ROWS
 * ahead is prefetched by hand (measured at D=2080, F=6144, t=256: 3.3 ms -> 1.9 ms per matrix). */
#define SWITCH_FFN_PREFETCH_ROWS 4
#define SWITCH_CACHE_LINE 64
static void ffn_tile_cols(float *dst, const bf16 *src, int D, int F, int f0, int t)
{
    for (int d = 0; d < D; d++) {
#ifdef __SSE2__
        if (d + SWITCH_FFN_PREFETCH_ROWS < D) {
            const char *ahead = (const char *)(const void *)(src + (size_t)(d + SWITCH_FFN_PREFETCH_ROWS) * F + f0);
            for (size_t b = 0; b < (size_t)t * sizeof *src; b += SWITCH_CACHE_LINE)
                _mm_prefetch(ahead + b, _MM_HINT_T0);
        }
#endif
        widen_bf16(dst + (size_t)d * t, src + (size_t)d * F + f0, (size_t)t);
    }
}

static void ffn_forward_fast(float *out, float *scratch, const bf16 *buf, const int *counts, const bf16 *w_in,
                             const bf16 *w_gate, const bf16 *w_out, int E, int C, int D, int F)
{
    int T = ffn_tile(F);
    float *xf = scratch;                                  /* (C,D) this expert's tokens */
    float *hb = xf + (size_t)C * D;                       /* (C,T) hidden tile */
    float *hg = hb + (size_t)C * T;                       /* (C,T) gate tile, geglu only */
    float *wt_in = hg + (w_gate != NULL ? (size_t)C * T : 0);   /* (D,T) */
    float *wt_gate = wt_in + (size_t)D * T;               /* (D,T), geglu only */
    float *wt_out = wt_gate + (w_gate != NULL ? (size_t)D * T : 0);  /* (T,D) */
    size_t wlen = (size_t)D * F;
    for (int e = 0; e < E; e++) {
        int rows = ffn_rows(counts, e, C);
        float *out_e = out + (size_t)e * C * D;
        if (rows > 0) {
            widen_bf16(xf, buf + (size_t)e * C * D, (size_t)rows * D);
            for (int f0 = 0; f0 < F; f0 += T) {
                int t = (F - f0 < T) ? F - f0 : T;
                ffn_tile_cols(wt_in, w_in + e * wlen, D, F, f0, t);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, t, D,
                            1.0f, xf, D, wt_in, t, 0.0f, hb, t);
                size_t hlen = (size_t)rows * t;
                if (w_gate != NULL) {
                    ffn_tile_cols(wt_gate, w_gate + e * wlen, D, F, f0, t);
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, t, D,
                                1.0f, xf, D, wt_gate, t, 0.0f, hg, t);
                    for (size_t i = 0; i < hlen; i++)
                        hb[i] = bf16_round_f32(gelu_tanh(hb[i]) * hg[i]);
                } else {
                    ffn_relu_round(hb, hlen);
                }
                /* rows f0..f0+t of W_out are contiguous: one flat conversion */
                widen_bf16(wt_out, w_out + e * wlen + (size_t)f0 * D, (size_t)t * D);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, D, t,
                            1.0f, hb, t, wt_out, D, f0 == 0 ? 0.0f : 1.0f, out_e, D);
            }
        }
        memset(out_e + (size_t)rows * D, 0, (size_t)(C - rows) * D * sizeof *out_e);
    }
}

void switch_ffn_relu_forward_ref(float *out, float *scratch, const bf16 *buf, const int *counts,
                                 const bf16 *w_in, const bf16 *w_out, int E, int C, int D, int F)
{
    ffn_forward_ref(out, scratch, buf, counts, w_in, NULL, w_out, E, C, D, F);
}

void switch_ffn_relu_forward(float *out, float *scratch, const bf16 *buf, const int *counts,
                             const bf16 *w_in, const bf16 *w_out, int E, int C, int D, int F)
{
    ffn_forward_fast(out, scratch, buf, counts, w_in, NULL, w_out, E, C, D, F);
}

void switch_ffn_geglu_forward_ref(float *out, float *scratch, const bf16 *buf, const int *counts,
                                  const bf16 *w_in, const bf16 *w_gate, const bf16 *w_out,
                                  int E, int C, int D, int F)
{
    ffn_forward_ref(out, scratch, buf, counts, w_in, w_gate, w_out, E, C, D, F);
}

void switch_ffn_geglu_forward(float *out, float *scratch, const bf16 *buf, const int *counts,
                              const bf16 *w_in, const bf16 *w_gate, const bf16 *w_out,
                              int E, int C, int D, int F)
{
    ffn_forward_fast(out, scratch, buf, counts, w_in, w_gate, w_out, E, C, D, F);
}

/* ---- combine --------------------------------------------------------------------------------------- */

void switch_combine_forward(float *y, const float *eout, const bf16 *x, const float *gate, const int *expert,
                            const int *slot, int N, int D, int E, int k, int C)
{
    (void)E;                                  /* shape of eout, for the reader; expert[] < E by contract */
    for (int n = 0; n < N; n++) {
        float *y_n = y + (size_t)n * D;
        int kept = 0;
        for (int j = 0; j < k; j++) {
            size_t i = (size_t)n * k + j;
            if (slot[i] < 0)
                continue;
            const float *eout_ek = eout + ((size_t)expert[i] * C + (size_t)slot[i]) * D;
            float g = gate[i];
            if (kept == 0)
                for (int d = 0; d < D; d++)
                    y_n[d] = g * eout_ek[d];
            else
                for (int d = 0; d < D; d++)
                    y_n[d] += g * eout_ek[d];
            kept++;
        }
        if (kept == 0)                        /* dropped everywhere: the residual carries x through */
            bf16_array_to_f32(y_n, x + (size_t)n * D, (size_t)D);
    }
}
