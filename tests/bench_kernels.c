/* bench_kernels: speed of the Switch-layer kernels (models/switch.h), run by `make bench`, never by `make test`.
 * Expert FFN GFLOP/s at the Switch-Base and Switch-C expert shapes against plain OpenBLAS sgemm on fp32
 * weights at the same shapes, in the same run; router throughput in tokens/s.  Checks fast against _ref first. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_rng.h>

#include "models/bf16.h"
#include "models/switch.h"
#include "tests/bench.h"

/* Each measurement repeats until it has run this long (and at least BENCH_MIN_REPS times), keeping the best
 * time: the host is shared, and the best run is the one least disturbed by others. */
#define BENCH_MIN_S 0.6
#define BENCH_MIN_REPS 3
#define BENCH_MAX_REPS 20
/* Same tolerance as tests/check_switch.c test_ffn_fast_vs_ref. */
#define BENCH_FFN_TOL 1e-4
/* Tokens in the fast-vs-ref check (the _ref loops are slow at Switch-C shapes). */
#define BENCH_CHECK_ROWS 4

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL) {
        fprintf(stderr, "bench_kernels: out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

static void fill_bf16(bf16 *x, size_t n, gsl_rng *r, double scale)
{
    for (size_t i = 0; i < n; i++)
        x[i] = f32_to_bf16((float)(scale * (2.0 * gsl_rng_uniform(r) - 1.0)));
}

static void fill_f32(float *x, size_t n, gsl_rng *r, double scale)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(scale * (2.0 * gsl_rng_uniform(r) - 1.0));
}

typedef struct {
    switch_act act;
    int C, D, F;
    const bf16 *buf, *w_in, *w_gate, *w_out;        /* (C,D), (D,F), (D,F), (F,D) bf16: one expert */
    const float *xf, *w_in32, *w_gate32, *w_out32;  /* the same in fp32, for the sgemm baseline */
    float *out, *h, *g, *scratch;
} ffn_case;

static void run_ours(ffn_case *c)
{
    if (c->act == SWITCH_ACT_GEGLU)
        switch_ffn_geglu_forward(c->out, c->scratch, c->buf, NULL, c->w_in, c->w_gate, c->w_out, 1, c->C, c->D, c->F);
    else
        switch_ffn_relu_forward(c->out, c->scratch, c->buf, NULL, c->w_in, c->w_out, 1, c->C, c->D, c->F);
}

/* The baseline: the matmuls of the expert, fp32 operands already in memory, nothing else. */
static void run_sgemm(ffn_case *c)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->C, c->F, c->D, 1.0f, c->xf, c->D, c->w_in32, c->F,
                0.0f, c->h, c->F);
    if (c->act == SWITCH_ACT_GEGLU)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->C, c->F, c->D, 1.0f, c->xf, c->D, c->w_gate32,
                    c->F, 0.0f, c->g, c->F);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->C, c->D, c->F, 1.0f, c->h, c->F, c->w_out32, c->D,
                0.0f, c->out, c->D);
}

/* Best times of 'a' and 'b', run alternately so that both see the same load on the host. */
static void time_pair(double *best_a, double *best_b, void (*a)(ffn_case *), void (*b)(ffn_case *), ffn_case *c)
{
    *best_a = *best_b = HUGE_VAL;
    double start = bench_now_s();
    for (int rep = 0; rep < BENCH_MAX_REPS; rep++) {
        double t0 = bench_now_s();
        a(c);
        double t1 = bench_now_s();
        b(c);
        double t2 = bench_now_s();
        if (t1 - t0 < *best_a)
            *best_a = t1 - t0;
        if (t2 - t1 < *best_b)
            *best_b = t2 - t1;
        if (rep + 1 >= BENCH_MIN_REPS && t2 - start >= BENCH_MIN_S)
            break;
    }
}

/* Fast against _ref on the first BENCH_CHECK_ROWS tokens; returns 0 when within tolerance. */
static int check_ffn(const ffn_case *c)
{
    int rows[1] = { BENCH_CHECK_ROWS };
    size_t n = (size_t)c->C * c->D;
    float *ref = xmalloc(n * sizeof *ref);
    if (c->act == SWITCH_ACT_GEGLU) {
        switch_ffn_geglu_forward_ref(ref, c->scratch, c->buf, rows, c->w_in, c->w_gate, c->w_out, 1, c->C, c->D,
                                     c->F);
        switch_ffn_geglu_forward(c->out, c->scratch, c->buf, rows, c->w_in, c->w_gate, c->w_out, 1, c->C, c->D,
                                 c->F);
    } else {
        switch_ffn_relu_forward_ref(ref, c->scratch, c->buf, rows, c->w_in, c->w_out, 1, c->C, c->D, c->F);
        switch_ffn_relu_forward(c->out, c->scratch, c->buf, rows, c->w_in, c->w_out, 1, c->C, c->D, c->F);
    }
    double scale = 0.0, maxdiff = 0.0;
    for (size_t i = 0; i < (size_t)BENCH_CHECK_ROWS * c->D; i++) {
        scale = fmax(scale, fabs((double)ref[i]));
        maxdiff = fmax(maxdiff, fabs((double)c->out[i] - (double)ref[i]));
    }
    free(ref);
    printf("check %s D=%d F=%d: max |fast - ref| = %.3g (%.2g of max |ref| %.3g, tolerance %.0e)\n",
           c->act == SWITCH_ACT_GEGLU ? "geglu" : "relu", c->D, c->F, maxdiff, maxdiff / scale, scale, BENCH_FFN_TOL);
    return (scale > 0.0 && maxdiff <= BENCH_FFN_TOL * scale) ? 0 : -1;
}

/* One expert of shape (D,F) at each capacity in cs (ascending). */
static int bench_ffn(const char *name, switch_act act, int D, int F, const int *cs, int ncs, gsl_rng *r)
{
    int Cmax = cs[ncs - 1];
    int geglu = act == SWITCH_ACT_GEGLU;
    size_t nw = (size_t)D * F;
    bf16 *buf = xmalloc((size_t)Cmax * D * sizeof *buf), *w_in = xmalloc(nw * sizeof *w_in);
    bf16 *w_gate = xmalloc(nw * sizeof *w_gate), *w_out = xmalloc(nw * sizeof *w_out);
    float *xf = xmalloc((size_t)Cmax * D * sizeof *xf), *w_in32 = xmalloc(nw * sizeof *w_in32);
    float *w_gate32 = geglu ? xmalloc(nw * sizeof *w_gate32) : NULL;
    float *w_out32 = xmalloc(nw * sizeof *w_out32), *out = xmalloc((size_t)Cmax * D * sizeof *out);
    float *h = xmalloc((size_t)Cmax * F * sizeof *h), *g = xmalloc((size_t)Cmax * F * sizeof *g);
    float *scratch = xmalloc(switch_ffn_scratch_len(act, Cmax, D, F) * sizeof *scratch);
    fill_bf16(buf, (size_t)Cmax * D, r, 2.385);
    fill_bf16(w_in, nw, r, 1.3 / sqrt((double)D));
    fill_bf16(w_gate, nw, r, 1.1 / sqrt((double)D));
    fill_bf16(w_out, nw, r, 0.9 / sqrt((double)F));
    bf16_array_to_f32(xf, buf, (size_t)Cmax * D);
    bf16_array_to_f32(w_in32, w_in, nw);
    if (geglu)
        bf16_array_to_f32(w_gate32, w_gate, nw);
    bf16_array_to_f32(w_out32, w_out, nw);

    ffn_case c = { act, Cmax, D, F, buf, w_in, w_gate, w_out, xf, w_in32, w_gate32, w_out32, out, h, g, scratch };
    int rc = check_ffn(&c);
    if (rc != 0)
        fprintf(stderr, "bench_kernels: %s expert FFN: fast and _ref disagree; not timing it\n", name);
    for (int i = 0; rc == 0 && i < ncs; i++) {
        c.C = cs[i];
        double t_ours, t_blas;
        time_pair(&t_ours, &t_blas, run_ours, run_sgemm, &c);
        double flops = (geglu ? 6.0 : 4.0) * cs[i] * (double)D * (double)F;   /* 2*C*D*F per matmul */
        printf("ffn %-12s %-5s D=%4d F=%5d C=%3d: ours %7.2f GFLOP/s  sgemm %7.2f GFLOP/s  ratio %.3f\n", name,
               geglu ? "geglu" : "relu", D, F, cs[i], flops / t_ours * 1e-9, flops / t_blas * 1e-9, t_blas / t_ours);
    }
    free(buf); free(w_in); free(w_gate); free(w_out); free(xf); free(w_in32); free(w_gate32); free(w_out32);
    free(out); free(h); free(g); free(scratch);
    return rc;
}

/* Router of one group: logits and softmax in fp32 from bf16 x, top-1, capacity positions. */
static void bench_router(int N, int D, int E, gsl_rng *r)
{
    bf16 *x = xmalloc((size_t)N * D * sizeof *x);
    float *xf = xmalloc((size_t)N * D * sizeof *xf), *w = xmalloc((size_t)D * E * sizeof *w);
    float *logits = xmalloc((size_t)N * E * sizeof *logits), *probs = xmalloc((size_t)N * E * sizeof *probs);
    float *gate = xmalloc((size_t)N * sizeof *gate);
    int *expert = xmalloc((size_t)N * sizeof *expert), *slot = xmalloc((size_t)N * sizeof *slot);
    int *counts = xmalloc((size_t)E * sizeof *counts);
    fill_bf16(x, (size_t)N * D, r, 2.385);
    fill_f32(w, (size_t)D * E, r, 1.0 / sqrt((double)D));
    int C = switch_capacity(1.25, N, E, 4, SWITCH_CAP_FLOOR);
    double best = HUGE_VAL, best_mm = HUGE_VAL, start = bench_now_s();
    for (int rep = 0; rep < BENCH_MAX_REPS; rep++) {
        double t0 = bench_now_s();
        switch_router_forward_bf16(logits, probs, xf, x, w, N, D, E);
        switch_topk_forward(expert, gate, probs, N, E, 1);
        (void)switch_assign_forward(slot, counts, expert, N, E, 1, C);
        double t1 = bench_now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, E, D, 1.0f, xf, D, w, E, 0.0f, logits, E);
        double t2 = bench_now_s();
        best = fmin(best, t1 - t0);
        best_mm = fmin(best_mm, t2 - t1);
        if (rep + 1 >= BENCH_MIN_REPS && t2 - start >= BENCH_MIN_S)
            break;
    }
    printf("router N=%d D=%4d E=%4d (bf16 x -> fp32 logits, softmax, top-1, positions): %.3g tokens/s, "
           "%.2f GFLOP/s; its sgemm alone %.3g tokens/s\n", N, D, E, N / best, 2.0 * N * D * E / best * 1e-9,
           N / best_mm);
    free(x); free(xf); free(w); free(logits); free(probs); free(gate); free(expert); free(slot); free(counts);
}

int main(void)
{
    /* One thread: the simulator runs one kernel per simulated core, and the build host is shared. */
    openblas_set_num_threads(1);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 20210111);
    printf("bench_kernels: OpenBLAS %s, 1 thread; best of >= %d runs and >= %.1f s per line\n",
           openblas_get_config(), BENCH_MIN_REPS, BENCH_MIN_S);
    double t0 = bench_now_s();
    int rc = 0;
    /* expert shapes as released: Switch-Base relu 768x3072, Switch-C relu 2080x6144 [SOURCES 1.2] */
    static const int CS[] = { 128, 256, 512 }, CS_GEGLU[] = { 256 };
    rc |= bench_ffn("switch-base", SWITCH_ACT_RELU, 768, 3072, CS, 3, r);
    rc |= bench_ffn("switch-c", SWITCH_ACT_RELU, 2080, 6144, CS, 3, r);
    /* Table 9's GEGLU reading of Switch-Base (d_ff 2048) [SOURCES 1.1], one capacity: a check of that path */
    rc |= bench_ffn("switch-base", SWITCH_ACT_GEGLU, 768, 2048, CS_GEGLU, 1, r);
    /* router: Switch-Base 128 experts, Switch-C 2048 experts; group 2048 tokens [SOURCES 1.2 switch_c.gin] */
    bench_router(2048, 768, 128, r);
    bench_router(2048, 2080, 2048, r);
    double load = bench_load_avg();
    printf("bench_kernels: %.1f s; load average %.2f at the end%s\n", bench_now_s() - t0, load,
           load > 1.0 ? " (others were running: the ratios can be off by 10-30% either way; run again when idle)"
                      : "");
    gsl_rng_free(r);
    return rc == 0 ? 0 : 1;
}
