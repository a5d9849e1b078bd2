/* check_switch: the Switch-layer kernels (models/switch.h).  A hand-computed 8-token, 4-expert case with
 * exact experts, slots, drops and losses; properties on seeded random inputs; fast kernels against their
 * _ref twins; and the whole layer against an independent double-precision reference written here. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "models/bf16.h"
#include "models/switch.h"

/* ---- helpers ---------------------------------------------------------------------------------------- */

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* x (n) <- U(-scale, scale), scaled so values are "high entropy" (never round numbers). */
static void fill_uniform(float *x, size_t n, gsl_rng *r, double scale)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(scale * (2.0 * gsl_rng_uniform(r) - 1.0));
}

static void fill_bf16(bf16 *x, size_t n, gsl_rng *r, double scale)
{
    for (size_t i = 0; i < n; i++)
        x[i] = f32_to_bf16((float)(scale * (2.0 * gsl_rng_uniform(r) - 1.0)));
}

static double max_abs(const float *x, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        if (fabs((double)x[i]) > m)
            m = fabs((double)x[i]);
    return m;
}

/* ---- the hand-computed case: N = 8 tokens, E = 4 experts ---------------------------------------------
 * Token n's logits are ln(A[n][e]), so probs = A[n][e] / sum_e A[n][e] and logsumexp = ln(sum).  Every row
 * sums to 10 except token 6 (sum 20, same probs as 1,1,1,7).  First / second choices (ties to the lower
 * index marked *):
 *   t0 (4 1 2 3): e0 .4, e3 .3     t1 (1 5 2 2): e1 .5, e2 .2*    t2 (6 1 1 2): e0 .6, e3 .2
 *   t3 (3 3 2 2): e0 .3*, e1 .3    t4 (1 2 3 4): e3 .4, e2 .3     t5 (2 1 5 2): e2 .5, e0 .2*
 *   t6 (2 2 2 14): e3 .7, e0 .1*   t7 (2 4 1 3): e1 .4, e3 .3 */
#define HN 8
#define HE 4
static const double HA[HN][HE] = {
    { 4, 1, 2, 3 }, { 1, 5, 2, 2 }, { 6, 1, 1, 2 }, { 3, 3, 2, 2 },
    { 1, 2, 3, 4 }, { 2, 1, 5, 2 }, { 2, 2, 2, 14 }, { 2, 4, 1, 3 },
};
static const int H_FIRST[HN] = { 0, 1, 0, 0, 3, 2, 3, 1 };
static const int H_SECOND[HN] = { 3, 2, 3, 1, 2, 0, 0, 3 };

static void hand_logits(float *logits)
{
    for (int n = 0; n < HN; n++)
        for (int e = 0; e < HE; e++)
            logits[n * HE + e] = (float)log(HA[n][e]);
}

static double hand_prob(int n, int e)
{
    double s = 0.0;
    for (int j = 0; j < HE; j++)
        s += HA[n][j];
    return HA[n][e] / s;
}

START_TEST(test_hand_softmax_topk1)
{
    float logits[HN * HE], probs[HN * HE], gate[HN];
    int expert[HN];
    hand_logits(logits);
    switch_softmax_forward(probs, logits, HN, HE);
    for (int n = 0; n < HN; n++)
        for (int e = 0; e < HE; e++)
            ck_assert_double_eq_tol((double)probs[n * HE + e], hand_prob(n, e), 1e-7);
    switch_topk_forward(expert, gate, probs, HN, HE, 1);
    for (int n = 0; n < HN; n++) {
        ck_assert_int_eq(expert[n], H_FIRST[n]);
        ck_assert_double_eq_tol((double)gate[n], hand_prob(n, H_FIRST[n]), 1e-7);  /* raw probability */
    }
}
END_TEST

START_TEST(test_hand_topk2)
{
    float logits[HN * HE], probs[HN * HE], gate[HN * 2];
    int expert[HN * 2];
    hand_logits(logits);
    switch_softmax_forward(probs, logits, HN, HE);
    switch_topk_forward(expert, gate, probs, HN, HE, 2);
    for (int n = 0; n < HN; n++) {
        double g1 = hand_prob(n, H_FIRST[n]), g2 = hand_prob(n, H_SECOND[n]);
        ck_assert_int_eq(expert[2 * n], H_FIRST[n]);
        ck_assert_int_eq(expert[2 * n + 1], H_SECOND[n]);
        ck_assert_double_eq_tol((double)gate[2 * n], g1 / (g1 + g2), 1e-6);   /* MTF renormalisation */
        ck_assert_double_eq_tol((double)gate[2 * n + 1], g2 / (g1 + g2), 1e-6);
    }
}
END_TEST

/* C = 2, top-1.  e0 gets t0, t2, t3: t3 is third and dropped.  e1: t1, t7.  e2: t5.  e3: t4, t6. */
START_TEST(test_hand_assign_top1)
{
    static const int want_slot[HN] = { 0, 0, 1, -1, 0, 0, 1, 1 };
    static const int want_counts[HE] = { 2, 2, 1, 2 };
    int slot[HN], counts[HE];
    int dropped = switch_assign_forward(slot, counts, H_FIRST, HN, HE, 1, 2);
    ck_assert_int_eq(dropped, 1);
    for (int n = 0; n < HN; n++)
        ck_assert_int_eq(slot[n], want_slot[n]);
    for (int e = 0; e < HE; e++)
        ck_assert_int_eq(counts[e], want_counts[e]);
}
END_TEST

/* Top-2 at C = 2 and C = 3: first choices as top-1; then the second choices in token order continue each
 * expert's count.  C = 2: only t1's second choice (e2, after t5's first) fits: slot 1, although t1 < t5.
 * C = 3: t0->e3 s2, t1->e2 s1, t2->e3 full, t3->e1 s2, t4->e2 s2, t5->e0 full, t6->e0 full, t7->e3 full. */
static const struct {
    int C, dropped;
    int slot[HN * 2];
    int counts[HE];
} HAND2[] = {
    { 2, 8, { 0, -1, 0, 1, 1, -1, -1, -1, 0, -1, 0, -1, 1, -1, 1, -1 }, { 2, 2, 2, 2 } },
    { 3, 4, { 0, 2, 0, 1, 1, -1, 2, 2, 0, 2, 0, -1, 1, -1, 1, -1 }, { 3, 3, 3, 3 } },
};

START_TEST(test_hand_assign_top2)
{
    int expert[HN * 2], slot[HN * 2], counts[HE];
    for (int n = 0; n < HN; n++) {
        expert[2 * n] = H_FIRST[n];
        expert[2 * n + 1] = H_SECOND[n];
    }
    int dropped = switch_assign_forward(slot, counts, expert, HN, HE, 2, HAND2[_i].C);
    ck_assert_int_eq(dropped, HAND2[_i].dropped);
    for (int i = 0; i < HN * 2; i++)
        ck_assert_msg(slot[i] == HAND2[_i].slot[i], "C=%d token %d choice %d: slot %d, expected %d",
                      HAND2[_i].C, i / 2, i % 2, slot[i], HAND2[_i].slot[i]);
    for (int e = 0; e < HE; e++)
        ck_assert_int_eq(counts[e], HAND2[_i].counts[e]);
}
END_TEST

/* f = (3,2,1,2)/8 from first choices; P = column sums of probs / 8 = (2.0, 1.8, 1.7, 2.5)/8.
 * lb = 0.01 * 4 * (3*2.0 + 2*1.8 + 1*1.7 + 2*2.5) / 64 = 0.04 * 16.3 / 64 = 0.0101875.
 * z = mean(lse^2) = (7 ln(10)^2 + ln(20)^2) / 8.  Both are the same for k = 1 and k = 2. */
START_TEST(test_hand_losses)
{
    float logits[HN * HE], probs[HN * HE], gate[HN * 2];
    int expert[HN * 2];
    hand_logits(logits);
    switch_softmax_forward(probs, logits, HN, HE);
    switch_topk_forward(expert, gate, probs, HN, HE, 1);
    ck_assert_double_eq_tol(switch_lb_loss(probs, expert, HN, HE, 1, SWITCH_LB_ALPHA), 0.0101875, 1e-8);
    switch_topk_forward(expert, gate, probs, HN, HE, 2);
    ck_assert_double_eq_tol(switch_lb_loss(probs, expert, HN, HE, 2, SWITCH_LB_ALPHA), 0.0101875, 1e-8);
    double l10 = log(10.0), l20 = log(20.0);
    ck_assert_double_eq_tol(switch_z_loss(logits, HN, HE), (7.0 * l10 * l10 + l20 * l20) / 8.0, 1e-6);
}
END_TEST

/* Uniform probs with perfectly balanced first choices give exactly alpha. */
START_TEST(test_lb_uniform_is_alpha)
{
    float probs[HN * HE];
    int expert[HN];
    for (int i = 0; i < HN * HE; i++)
        probs[i] = 0.25f;
    for (int n = 0; n < HN; n++)
        expert[n] = n % HE;
    ck_assert_double_eq_tol(switch_lb_loss(probs, expert, HN, HE, 1, 0.0137), 0.0137, 1e-12);
}
END_TEST

/* Dispatch then combine on the hand case, top-1, C = 2, D = 3. */
START_TEST(test_hand_dispatch_combine)
{
    enum { D = 3, C = 2 };
    static const int want_slot[HN] = { 0, 0, 1, -1, 0, 0, 1, 1 };
    bf16 x[HN * D], buf[HE * C * D];
    float eout[HE * C * D], y[HN * D], gate[HN];
    for (int n = 0; n < HN; n++) {
        gate[n] = 0.1f * (float)(n + 1) + 0.0371f;
        for (int d = 0; d < D; d++)
            x[n * D + d] = f32_to_bf16(1.5f * (float)n - 0.71875f * (float)d + 0.3125f);
    }
    for (int i = 0; i < HE * C * D; i++)
        eout[i] = 0.5f * (float)i - 3.25f;
    for (int i = 0; i < HE * C * D; i++)
        buf[i] = f32_to_bf16(99.0f);      /* garbage that dispatch must clear */
    switch_dispatch_forward(buf, x, H_FIRST, want_slot, HN, D, HE, 1, C);
    /* (e, slot) -> token: e0 s0 t0, e0 s1 t2, e1 s0 t1, e1 s1 t7, e2 s0 t5, e2 s1 empty, e3 s0 t4, e3 s1 t6 */
    static const int owner[HE * C] = { 0, 2, 1, 7, 5, -1, 4, 6 };
    for (int ec = 0; ec < HE * C; ec++)
        for (int d = 0; d < D; d++) {
            uint16_t want = owner[ec] < 0 ? 0 : x[owner[ec] * D + d].bits;
            ck_assert_uint_eq(buf[ec * D + d].bits, want);
        }
    switch_combine_forward(y, eout, x, gate, H_FIRST, want_slot, HN, D, HE, 1, C);
    for (int n = 0; n < HN; n++)
        for (int d = 0; d < D; d++) {
            double want;
            if (want_slot[n] < 0)
                want = (double)bf16_to_f32(x[n * D + d]);          /* t3 dropped: residual */
            else
                want = (double)gate[n] * (double)eout[(H_FIRST[n] * C + want_slot[n]) * D + d];
            ck_assert_double_eq_tol((double)y[n * D + d], want, 1e-5);
        }
    /* top-2 combine sums both kept choices; a kept second choice after a dropped first is not re-scaled */
    int expert2[2] = { 1, 3 }, slot2[2] = { 1, 0 };
    float gate2[2] = { 0.61f, 0.39f };
    switch_combine_forward(y, eout, x, gate2, expert2, slot2, 1, D, HE, 2, C);
    for (int d = 0; d < D; d++)
        ck_assert_double_eq_tol((double)y[d],
                                0.61 * (double)eout[(1 * C + 1) * D + d] + 0.39 * (double)eout[(3 * C) * D + d], 1e-5);
    slot2[0] = -1;
    switch_combine_forward(y, eout, x, gate2, expert2, slot2, 1, D, HE, 2, C);
    for (int d = 0; d < D; d++)
        ck_assert_double_eq_tol((double)y[d], 0.39 * (double)eout[(3 * C) * D + d], 1e-5);
}
END_TEST

/* Capacity 0 (cf small, no minimum): every choice drops, the buffer stays empty, every token is the residual. */
START_TEST(test_all_dropped)
{
    enum { D = 2 };
    int expert[HN * 2], slot[HN * 2], counts[HE];
    float gate[HN * 2], y[HN * D], eout[1] = { 0.0f };
    bf16 x[HN * D], buf[1] = { { 0x1234 } };
    for (int n = 0; n < HN; n++) {
        expert[2 * n] = H_FIRST[n];
        expert[2 * n + 1] = H_SECOND[n];
        gate[2 * n] = 0.7f;
        gate[2 * n + 1] = 0.3f;
        for (int d = 0; d < D; d++)
            x[n * D + d] = f32_to_bf16(0.3711f * (float)(n * D + d) - 1.9f);
    }
    ck_assert_int_eq(switch_capacity(0.1, HN, HE, 0, SWITCH_CAP_FLOOR), 0);
    ck_assert_int_eq(switch_assign_forward(slot, counts, expert, HN, HE, 2, 0), HN * 2);
    for (int i = 0; i < HN * 2; i++)
        ck_assert_int_eq(slot[i], -1);
    for (int e = 0; e < HE; e++)
        ck_assert_int_eq(counts[e], 0);
    switch_dispatch_forward(buf, x, expert, slot, HN, D, HE, 2, 0);
    ck_assert_uint_eq(buf[0].bits, 0x1234);              /* an (E,0,D) buffer has no element to write */
    switch_combine_forward(y, eout, x, gate, expert, slot, HN, D, HE, 2, 0);
    for (int i = 0; i < HN * D; i++)
        ck_assert_double_eq((double)y[i], (double)bf16_to_f32(x[i]));
}
END_TEST

/* ---- Mesh TF's random second-expert policy --------------------------------------------------------------- */

/* Statistics against the probability min(1, g2/0.2): 20000 tokens with g2 = 0.05 keep about a quarter (a
 * binomial's 5 sigma is 1.5%), with g2 = 0.2 or more all; the draws are one per token in token order (a second
 * generator of the same seed gives the same decisions); a discarded second choice takes no slot and is no drop. */
START_TEST(test_second_random)
{
    enum { N = 20000 };
    int *expert = malloc(2 * N * sizeof *expert), *slot = malloc(2 * N * sizeof *slot), counts[4];
    float *gate = malloc(2 * N * sizeof *gate);
    ck_assert(expert != NULL && slot != NULL && gate != NULL);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937), *ref = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    gsl_rng_set(ref, 7);
    for (int n = 0; n < N; n++) {
        expert[2 * n] = n % 4;
        expert[2 * n + 1] = (n + 1) % 4;
        gate[2 * n] = 0.95f;
        gate[2 * n + 1] = n < N / 2 ? 0.05f : (n % 2 ? 0.2f : 0.5f);
    }
    int discarded = switch_second_random(expert, gate, N, r, SWITCH_SECOND_THRESHOLD);
    int low_kept = 0;
    for (int n = 0; n < N; n++) {
        double u = gsl_rng_uniform(ref);
        int keep = n < N / 2 ? u < (double)0.05f / 0.2 : 1;   /* the float gate, as stored */
        ck_assert_int_eq(expert[2 * n + 1] >= 0, keep);
        ck_assert(keep || gate[2 * n + 1] == 0.0f);
        ck_assert_int_eq(expert[2 * n], n % 4);       /* first choices untouched */
        low_kept += n < N / 2 && keep;
    }
    ck_assert_int_eq(discarded, N / 2 - low_kept);
    ck_assert_msg(fabs((double)low_kept / (N / 2) - 0.25) < 0.015, "kept %d of %d at g2 0.05", low_kept, N / 2);
    /* room for everything: kept = choices left, nothing dropped, no slot for a discarded choice */
    int dropped = switch_assign_forward(slot, counts, expert, N, 4, 2, N);
    ck_assert_int_eq(dropped, 0);
    ck_assert_int_eq(counts[0] + counts[1] + counts[2] + counts[3], 2 * N - discarded);
    for (int n = 0; n < N; n++)
        ck_assert_int_eq(slot[2 * n + 1] < 0, expert[2 * n + 1] < 0);
    /* threshold 0: the policy 'all', nothing discarded and no draw */
    ck_assert_int_eq(switch_second_random(expert, gate, N, r, 0.0), 0);
    gsl_rng_free(r);
    gsl_rng_free(ref);
    free(expert);
    free(slot);
    free(gate);
}
END_TEST

/* ---- capacity ----------------------------------------------------------------------------------------- */

static const struct { double cf; int N, E, min_cap, mode, want; const char *why; } CAP[] = {
    { 1.25, 8, 4, 0, SWITCH_CAP_FLOOR, 2, "2.5 floors to 2" },
    { 1.25, 8, 4, 0, SWITCH_CAP_ROUND, 2, "2.5 rounds half to even: 2 (Python round)" },
    { 1.75, 8, 4, 0, SWITCH_CAP_ROUND, 4, "3.5 rounds half to even: 4" },
    { 1.25, 12, 4, 0, SWITCH_CAP_FLOOR, 3, "3.75 floors to 3" },
    { 1.25, 12, 4, 0, SWITCH_CAP_ROUND, 4, "3.75 rounds to 4" },
    { 0.29, 100, 1, 0, SWITCH_CAP_FLOOR, 28, "100*0.29 = 28.999999999999996 in double: 28, as MTF's int()" },
    { 1.25, 8192, 128, 4, SWITCH_CAP_FLOOR, 80, "Switch-Base group 8192, 128 experts [SOURCES 1.2]" },
    { 1.0, 2048, 2048, 2, SWITCH_CAP_FLOOR, 2, "Switch-C: 1 token per expert, min_capacity 2 [SOURCES 1.2]" },
    { 0.5, 1024, 2048, 4, SWITCH_CAP_FLOOR, 4, "0 raised to min_capacity" },
    { 4.0, 8, 1, 0, SWITCH_CAP_FLOOR, 8, "32 capped at N" },
    { 1.0, 8, 4, 10, SWITCH_CAP_FLOOR, 8, "min_capacity above N: still capped at N" },
    { 2.385, 1, 7, 0, SWITCH_CAP_ROUND, 0, "0.34 rounds to 0 with no minimum" },
    { 1e300, 5, 3, 0, SWITCH_CAP_FLOOR, 5, "huge cf: capped at N without int overflow" },
    { 0.0, 8, 4, 0, SWITCH_CAP_FLOOR, -1, "cf 0" },
    { -1.25, 8, 4, 0, SWITCH_CAP_FLOOR, -1, "cf < 0" },
    { NAN, 8, 4, 0, SWITCH_CAP_FLOOR, -1, "cf NaN" },
    { INFINITY, 8, 4, 0, SWITCH_CAP_FLOOR, -1, "cf Inf" },
    { 1.25, 0, 4, 0, SWITCH_CAP_FLOOR, -1, "N 0" },
    { 1.25, 8, 0, 0, SWITCH_CAP_FLOOR, -1, "E 0" },
    { 1.25, 8, 4, -1, SWITCH_CAP_FLOOR, -1, "min_capacity < 0" },
    { 1.25, 8, 4, 0, 3, -1, "unknown round mode" },
    { 1.25, 8, 4, 0, SWITCH_CAP_AUTO, -1, "AUTO is not a rule" },
    { 2.0, 1024, 128, 4, SWITCH_CAP_LINGVO, 16, "Lingvo: 16 is a multiple of 4" },
    { 1.25, 1024, 128, 0, SWITCH_CAP_LINGVO, 12, "Lingvo: 10 up to 12" },
    { 1.0, 1000, 7, 0, SWITCH_CAP_LINGVO, 144, "Lingvo: 142.86 floors to 142, up to 144" },
    { 0.5, 1024, 2048, 0, SWITCH_CAP_LINGVO, 4, "Lingvo: 0 becomes 4" },
    { 2.0, 1024, 2048, 0, SWITCH_CAP_LINGVO, 4, "Lingvo GShard 2048E: 1 up to 4" },
    { 2.0, 6, 1, 0, SWITCH_CAP_LINGVO, 6, "Lingvo: 12 capped at N" },
    { 1.0, 6, 2, 0, SWITCH_CAP_LINGVO, 4, "Lingvo: 3 up to 4" },
};

START_TEST(test_capacity)
{
    int c = switch_capacity(CAP[_i].cf, CAP[_i].N, CAP[_i].E, CAP[_i].min_cap, CAP[_i].mode);
    ck_assert_msg(c == CAP[_i].want, "%s: got %d, expected %d", CAP[_i].why, c, CAP[_i].want);
}
END_TEST

/* ---- properties on seeded random inputs ---------------------------------------------------------------- */

static const struct { int N, D, E, k; double cf; } PROP[] = {
    { 512, 32, 16, 1, 1.0 }, { 512, 32, 16, 2, 1.25 }, { 300, 24, 64, 1, 0.5 },
    { 300, 24, 64, 2, 2.0 }, { 64, 16, 2048, 1, 1.0 }, { 97, 40, 3, 2, 0.75 },
};

START_TEST(test_router_properties)
{
    int N = PROP[_i].N, D = PROP[_i].D, E = PROP[_i].E, k = PROP[_i].k;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 1000u + (unsigned long)_i);
    float *x = xcalloc((size_t)N * D, sizeof *x), *w = xcalloc((size_t)D * E, sizeof *w);
    float *logits = xcalloc((size_t)N * E, sizeof *logits), *probs = xcalloc((size_t)N * E, sizeof *probs);
    float *logits_ref = xcalloc((size_t)N * E, sizeof *logits), *probs_ref = xcalloc((size_t)N * E, sizeof *probs);
    float *gate = xcalloc((size_t)N * k, sizeof *gate);
    int *expert = xcalloc((size_t)N * k, sizeof *expert), *slot = xcalloc((size_t)N * k, sizeof *slot);
    int *slot1 = xcalloc((size_t)N, sizeof *slot1), *first = xcalloc((size_t)N, sizeof *first);
    int *counts = xcalloc((size_t)E, sizeof *counts), *counts1 = xcalloc((size_t)E, sizeof *counts1);
    fill_uniform(x, (size_t)N * D, r, 2.385);
    fill_uniform(w, (size_t)D * E, r, 1.7 / sqrt((double)D));

    switch_router_forward(logits, probs, x, w, N, D, E);
    switch_router_forward_ref(logits_ref, probs_ref, x, w, N, D, E);
    for (int n = 0; n < N; n++) {
        double sum = 0.0;
        for (int e = 0; e < E; e++) {
            size_t i = (size_t)n * E + e;
            sum += (double)probs[i];
            ck_assert(probs[i] >= 0.0f);
            ck_assert_double_eq_tol((double)logits[i], (double)logits_ref[i], 1e-5);  /* sgemm vs loops */
            ck_assert_double_eq_tol((double)probs[i], (double)probs_ref[i], 1e-6);
        }
        ck_assert_double_eq_tol(sum, 1.0, 1e-6);
    }

    switch_topk_forward(expert, gate, probs, N, E, k);
    for (int n = 0; n < N; n++) {
        const float *p = probs + (size_t)n * E;
        int e1 = expert[(size_t)n * k];
        for (int e = 0; e < E; e++)
            ck_assert(p[e] < p[e1] || (p[e] == p[e1] && e >= e1));   /* the max, lowest index on ties */
        if (k == 2) {
            int e2 = expert[(size_t)n * 2 + 1];
            ck_assert_int_ne(e1, e2);
            for (int e = 0; e < E; e++)
                if (e != e1)
                    ck_assert(p[e] < p[e2] || (p[e] == p[e2] && e >= e2));
            ck_assert_double_eq_tol((double)gate[2 * n] + (double)gate[2 * n + 1], 1.0, 1e-6);
            ck_assert((double)gate[2 * n] >= (double)gate[2 * n + 1]);
        } else {
            ck_assert((double)gate[n] == (double)p[e1]);
        }
        first[n] = e1;
    }

    int C = switch_capacity(PROP[_i].cf, N, E, 1, SWITCH_CAP_FLOOR);
    int dropped = switch_assign_forward(slot, counts, expert, N, E, k, C);
    int kept = 0;
    for (int e = 0; e < E; e++) {
        ck_assert_int_le(counts[e], C);
        kept += counts[e];
    }
    ck_assert_int_eq(kept + dropped, N * k);
    /* each expert's slots are exactly 0..counts-1, each once; second choices sit after all first choices */
    int *seen = xcalloc((size_t)E * C, sizeof *seen);
    for (int n = 0; n < N; n++)
        for (int j = 0; j < k; j++) {
            size_t i = (size_t)n * k + j;
            if (slot[i] < 0)
                continue;
            ck_assert_int_lt(slot[i], counts[expert[i]]);
            ck_assert_int_eq(seen[(size_t)expert[i] * C + slot[i]]++, 0);
        }
    /* second choices never displace first choices: the first choices' slots equal a top-1 assignment's */
    int dropped1 = switch_assign_forward(slot1, counts1, first, N, E, 1, C);
    int dropped_first = 0;
    for (int n = 0; n < N; n++) {
        ck_assert_int_eq(slot[(size_t)n * k], slot1[n]);
        dropped_first += slot1[n] < 0;
    }
    ck_assert_int_eq(dropped1, dropped_first);
    if (k == 2)
        for (int n = 0; n < N; n++) {
            int e2 = expert[2 * n + 1], s2 = slot[2 * n + 1];
            if (s2 >= 0)
                ck_assert_int_ge(s2, counts1[e2]);     /* after every kept first choice of that expert */
        }

    double lb = switch_lb_loss(probs, expert, N, E, k, SWITCH_LB_ALPHA);
    ck_assert(lb >= 0.0 && lb <= SWITCH_LB_ALPHA * E);  /* sum f P <= max P <= 1 */
    ck_assert(switch_z_loss(logits, N, E) >= 0.0);

    free(seen);
    free(x); free(w); free(logits); free(probs); free(logits_ref); free(probs_ref); free(gate);
    free(expert); free(slot); free(slot1); free(first); free(counts); free(counts1);
    gsl_rng_free(r);
}
END_TEST

START_TEST(test_router_bf16_input)
{
    enum { N = 33, D = 20, E = 7 };
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 77);
    bf16 xb[N * D];
    float xf[N * D], xconv[N * D], w[D * E], l1[N * E], p1[N * E], l2[N * E], p2[N * E];
    fill_bf16(xb, N * D, r, 3.1);
    fill_uniform(w, D * E, r, 0.4);
    for (int i = 0; i < N * D; i++)
        xf[i] = -12345.0f;
    switch_router_forward_bf16(l1, p1, xf, xb, w, N, D, E);
    bf16_array_to_f32(xconv, xb, N * D);
    switch_router_forward(l2, p2, xconv, w, N, D, E);
    ck_assert_mem_eq(xf, xconv, sizeof xf);           /* the scratch holds the exact widened input */
    ck_assert_mem_eq(l1, l2, sizeof l1);
    ck_assert_mem_eq(p1, p2, sizeof p1);
    gsl_rng_free(r);
}
END_TEST

START_TEST(test_jitter)
{
    enum { N = 40, D = 25 };
    float x[N * D], x0[N * D], x2[N * D];
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937), *r2 = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 5);
    fill_uniform(x0, N * D, r, 2.385);
    memcpy(x, x0, sizeof x);
    memcpy(x2, x0, sizeof x);
    gsl_rng_set(r, 99);
    gsl_rng_set(r2, 99);
    const double eps = 1e-2;                              /* MTF switch_jitter [SOURCES 3] */
    switch_jitter_forward(x, r, eps, N, D);
    int changed = 0;
    for (int i = 0; i < N * D; i++) {
        double ratio = (double)x[i] / (double)x0[i];
        ck_assert(ratio >= 1.0 - eps - 1e-6 && ratio <= 1.0 + eps + 1e-6);
        changed += x[i] != x0[i];
        /* the draws are one gsl_rng_uniform per element, in order */
        double u = gsl_rng_uniform(r2);
        ck_assert((double)x[i] == (double)(x0[i] * (float)(1.0 - eps + 2.0 * eps * u)));
    }
    ck_assert_int_gt(changed, N * D / 2);
    /* eps 0: untouched, no draw */
    gsl_rng_set(r, 99);
    gsl_rng_set(r2, 99);
    switch_jitter_forward(x2, r, 0.0, N, D);
    ck_assert_mem_eq(x2, x0, sizeof x2);
    ck_assert_uint_eq(gsl_rng_get(r), gsl_rng_get(r2));
    gsl_rng_free(r);
    gsl_rng_free(r2);
}
END_TEST

/* ---- expert FFN ------------------------------------------------------------------------------------------ */

/* E = 1, C = 2, D = 2, F = 3, bf16-exact values.  h0 = (1,-2) W_in = (0, -3, 4.5) -> relu (0, 0, 4.5);
 * out0 = 4.5 * (-0.5, 0.25) = (-2.25, 1.125).  h1 = (0.5, 0.25) W_in = (0.625, -0.25, -0.25) -> (0.625, 0, 0);
 * out1 = 0.625 * (1, 2) = (0.625, 1.25). */
START_TEST(test_ffn_relu_hand)
{
    const float xv[4] = { 1, -2, 0.5f, 0.25f };
    const float win[6] = { 1, -1, 0.5f, 0.5f, 1, -2 };
    const float wout[6] = { 1, 2, 3, -1, -0.5f, 0.25f };
    const float want[4] = { -2.25f, 1.125f, 0.625f, 1.25f };
    bf16 x[4], wi[6], wo[6];
    bf16_array_from_f32(x, xv, 4);
    bf16_array_from_f32(wi, win, 6);
    bf16_array_from_f32(wo, wout, 6);
    size_t len = switch_ffn_scratch_len(SWITCH_ACT_RELU, 2, 2, 3);
    float *scratch = xcalloc(len, sizeof *scratch);
    float out[4];
    const int one[1] = { 1 };
    for (int fast = 0; fast < 2; fast++) {
        (fast ? switch_ffn_relu_forward : switch_ffn_relu_forward_ref)(out, scratch, x, NULL, wi, wo, 1, 2, 2, 3);
        for (int i = 0; i < 4; i++)
            ck_assert_double_eq((double)out[i], (double)want[i]);
        for (int i = 0; i < 4; i++)
            out[i] = 777.0f;
        (fast ? switch_ffn_relu_forward : switch_ffn_relu_forward_ref)(out, scratch, x, one, wi, wo, 1, 2, 2, 3);
        ck_assert_double_eq((double)out[0], -2.25);
        ck_assert_double_eq((double)out[1], 1.125);
        ck_assert_double_eq((double)out[2], 0.0);      /* empty slot: zero, not computed */
        ck_assert_double_eq((double)out[3], 0.0);
    }
    free(scratch);
}
END_TEST

/* gelu_tanh(x) * g for one token, D = 1, F = 2, compared with the formula in double. */
START_TEST(test_ffn_geglu_hand)
{
    const float xv = 1.5f, win[2] = { 0.75f, -1.25f }, wg[2] = { 2.0f, 0.5f }, wout[2] = { 1.0f, 3.0f };
    bf16 x[1], wi[2], wgb[2], wo[2];
    bf16_array_from_f32(x, &xv, 1);
    bf16_array_from_f32(wi, win, 2);
    bf16_array_from_f32(wgb, wg, 2);
    bf16_array_from_f32(wo, wout, 2);
    double want = 0.0;
    for (int f = 0; f < 2; f++) {
        double a = 1.5 * (double)win[f], g = 1.5 * (double)wg[f];
        double gelu = 0.5 * a * (1.0 + tanh(sqrt(2.0 / acos(-1.0)) * (a + 0.044715 * a * a * a)));
        want += (double)bf16_round_f32((float)(gelu * g)) * (double)wout[f];
    }
    float *scratch = xcalloc(switch_ffn_scratch_len(SWITCH_ACT_GEGLU, 1, 1, 2), sizeof *scratch);
    float out;
    switch_ffn_geglu_forward_ref(&out, scratch, x, NULL, wi, wgb, wo, 1, 1, 1, 2);
    ck_assert_double_eq_tol((double)out, want, 1e-5);
    switch_ffn_geglu_forward(&out, scratch, x, NULL, wi, wgb, wo, 1, 1, 1, 2);
    ck_assert_double_eq_tol((double)out, want, 1e-5);
    free(scratch);
}
END_TEST

/* The hidden activation's relu and bf16 rounding on special values, at F position 0 (the fast kernel's
 * 4-wide SSE2 path) and 4 (its scalar tail): x = 1 + 2^-7, W_in = v there and 0 elsewhere, W_out = 1 there and 0
 * elsewhere, so out = bf16(relu(x * v)) exactly.  x * v of two bf16 values is exact in fp32. */
static const struct { float v; double want; const char *why; } SPECIAL[] = {
    { 1.5f, 1.515625, "h = 1.51171875 = 1.5 + 2^-7 + 2^-8: a tie, odd lsb: up to even 1.5 + 2^-6" },
    { 1.0078125f, 1.015625, "h = 1 + 2^-6 + 2^-14: below the tie, down to 1 + 2^-6" },
    { -2.375f, 0.0, "negative: 0" },
    { -0.0f, 0.0, "-0: +0" },
    { NAN, 0.0, "NaN: relu gives 0 ('h > 0' is false)" },
    { INFINITY, INFINITY, "+Inf stays +Inf" },
    { -INFINITY, 0.0, "-Inf: 0" },
};

START_TEST(test_ffn_relu_special)
{
    enum { F = 5 };
    float scratch[64];
    ck_assert_uint_le(switch_ffn_scratch_len(SWITCH_ACT_RELU, 1, 1, F), 64);
    bf16 x[1] = { f32_to_bf16(1.0078125f) };
    for (int pos = 0; pos < F; pos += 4)
        for (int fast = 0; fast < 2; fast++) {
            bf16 wi[F], wo[F];
            for (int f = 0; f < F; f++) {
                wi[f] = f32_to_bf16(f == pos ? SPECIAL[_i].v : 0.0f);
                wo[f] = f32_to_bf16(f == pos ? 1.0f : 0.0f);
            }
            float out = 777.0f;
            (fast ? switch_ffn_relu_forward : switch_ffn_relu_forward_ref)(&out, scratch, x, NULL, wi, wo, 1, 1, 1, F);
            ck_assert_msg((double)out == SPECIAL[_i].want && !signbit(out), "%s (pos %d, %s): got %g",
                          SPECIAL[_i].why, pos, fast ? "fast" : "ref", (double)out);
        }
}
END_TEST

/* Fast (CBLAS, tiled over F) against _ref at shapes whose F is not a multiple of the tile, with an expert
 * that is full, one partly filled and one empty.  Tolerance: max |fast - ref| <= 1e-4 * max |ref|.  The two
 * sum in different orders in fp32 (relative differences ~1e-6), and a hidden value that lands within that
 * of a bf16 rounding boundary rounds the other way (one bf16 ulp = 2^-8 relative, on a few of F terms).
 * Measured: at most 5.4e-6 * max |ref| over these cases, so the bound has a 20x margin. */
static const struct { switch_act act; int E, C, D, F; } FFN[] = {
    { SWITCH_ACT_RELU, 3, 40, 96, 600 },
    { SWITCH_ACT_GEGLU, 3, 40, 96, 600 },
    { SWITCH_ACT_RELU, 2, 5, 31, 256 },
    { SWITCH_ACT_GEGLU, 1, 9, 17, 1030 },
};

START_TEST(test_ffn_fast_vs_ref)
{
    int E = FFN[_i].E, C = FFN[_i].C, D = FFN[_i].D, F = FFN[_i].F;
    int geglu = FFN[_i].act == SWITCH_ACT_GEGLU;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 4242u + (unsigned long)_i);
    size_t nbuf = (size_t)E * C * D, nw = (size_t)E * D * F;
    bf16 *buf = xcalloc(nbuf, sizeof *buf), *wi = xcalloc(nw, sizeof *wi), *wg = xcalloc(nw, sizeof *wg);
    bf16 *wo = xcalloc(nw, sizeof *wo);
    float *out = xcalloc(nbuf, sizeof *out), *ref = xcalloc(nbuf, sizeof *ref);
    size_t len = switch_ffn_scratch_len(FFN[_i].act, C, D, F);
    float *scratch = xcalloc(len, sizeof *scratch);      /* exactly the advertised size: ASan checks it */
    int *counts = xcalloc((size_t)E, sizeof *counts);
    fill_bf16(buf, nbuf, r, 2.385);
    fill_bf16(wi, nw, r, 1.3 / sqrt((double)D));
    fill_bf16(wg, nw, r, 1.1 / sqrt((double)D));
    fill_bf16(wo, nw, r, 0.9 / sqrt((double)F));
    for (int e = 0; e < E; e++)
        counts[e] = (e == 0) ? C : (e == 1 ? C / 2 + 1 : 0);
    for (size_t i = 0; i < nbuf; i++)
        out[i] = ref[i] = 555.0f;
    if (geglu) {
        switch_ffn_geglu_forward_ref(ref, scratch, buf, counts, wi, wg, wo, E, C, D, F);
        switch_ffn_geglu_forward(out, scratch, buf, counts, wi, wg, wo, E, C, D, F);
    } else {
        switch_ffn_relu_forward_ref(ref, scratch, buf, counts, wi, wo, E, C, D, F);
        switch_ffn_relu_forward(out, scratch, buf, counts, wi, wo, E, C, D, F);
    }
    double scale = max_abs(ref, nbuf), maxdiff = 0.0;
    ck_assert(scale > 0.1);                              /* the case computes something */
    for (int e = 0; e < E; e++)
        for (int c = 0; c < C; c++)
            for (int d = 0; d < D; d++) {
                size_t i = ((size_t)e * C + c) * D + d;
                if (c >= counts[e]) {
                    ck_assert_double_eq((double)out[i], 0.0);
                    ck_assert_double_eq((double)ref[i], 0.0);
                }
                double diff = fabs((double)out[i] - (double)ref[i]);
                if (diff > maxdiff)
                    maxdiff = diff;
            }
    ck_assert_msg(maxdiff <= 1e-4 * scale, "max |fast - ref| = %g, scale %g", maxdiff, scale);
    free(buf); free(wi); free(wg); free(wo); free(out); free(ref); free(scratch); free(counts);
    gsl_rng_free(r);
}
END_TEST

START_TEST(test_ffn_scratch_len)
{
    ck_assert_uint_eq(switch_ffn_scratch_len(SWITCH_ACT_RELU, 0, 4, 4), 0);
    ck_assert_uint_eq(switch_ffn_scratch_len(SWITCH_ACT_RELU, 4, 0, 4), 0);
    ck_assert_uint_eq(switch_ffn_scratch_len(SWITCH_ACT_GEGLU, 4, 4, 0), 0);
    /* fast layout at C=128, D=768, F=3072 relu: xf C*D + hidden C*256 + W_in tile D*256 + W_out tile 256*D */
    ck_assert_uint_eq(switch_ffn_scratch_len(SWITCH_ACT_RELU, 128, 768, 3072),
                      (size_t)128 * 768 + 128 * 256 + 768 * 256 + 256 * 768);
    ck_assert_uint_gt(switch_ffn_scratch_len(SWITCH_ACT_GEGLU, 128, 768, 3072),
                      switch_ffn_scratch_len(SWITCH_ACT_RELU, 128, 768, 3072));
}
END_TEST

/* ---- the whole layer against an independent double-precision reference ------------------------------------
 * Reference: logits and softmax in double from the same bf16 x and fp32 W_r; top-k by sorting indices;
 * positions by MTF's formulas (exclusive cumsum of the first-choice mask; second choices start at the kept
 * first-choice count); FFN in double with h rounded to bf16 (the kernels' stated numerics); combine in double. */

typedef struct {
    int N, D, F, E, k;
    double cf;
    switch_act act;
} layer_case;

static const layer_case LAYER[] = {
    { 64, 16, 24, 8, 1, 1.0, SWITCH_ACT_RELU },
    { 64, 16, 24, 8, 2, 1.25, SWITCH_ACT_RELU },
    { 96, 12, 20, 6, 2, 0.5, SWITCH_ACT_GEGLU },
    { 50, 20, 300, 4, 1, 0.75, SWITCH_ACT_GEGLU },
};

static void ref_layer(double *y, int *ref_expert, int *ref_slot, const bf16 *x, const float *wr, const bf16 *wi,
                      const bf16 *wg, const bf16 *wo, const layer_case *L, int C)
{
    int N = L->N, D = L->D, F = L->F, E = L->E, k = L->k;
    double *p = calloc((size_t)E, sizeof *p), *h = calloc((size_t)F, sizeof *h);
    double *g = calloc((size_t)N * k, sizeof *g);
    int *mask_count = calloc((size_t)E, sizeof *mask_count), *kept1 = calloc((size_t)E, sizeof *kept1);
    ck_assert(p && h && g && mask_count && kept1);
    for (int n = 0; n < N; n++) {
        double mx = -HUGE_VAL, s = 0.0;
        for (int e = 0; e < E; e++) {
            p[e] = 0.0;
            for (int d = 0; d < D; d++)
                p[e] += (double)bf16_to_f32(x[n * D + d]) * (double)wr[d * E + e];
            if (p[e] > mx)
                mx = p[e];
        }
        for (int e = 0; e < E; e++)
            s += (p[e] = exp(p[e] - mx));
        for (int e = 0; e < E; e++)
            p[e] /= s;
        int b1 = 0, b2 = -1;
        for (int e = 1; e < E; e++)
            if (p[e] > p[b1])
                b1 = e;
        for (int e = 0; e < E; e++)
            if (e != b1 && (b2 < 0 || p[e] > p[b2]))
                b2 = e;
        ref_expert[n * k] = b1;
        if (k == 1) {
            g[n] = p[b1];
        } else {
            ref_expert[n * 2 + 1] = b2;
            g[n * 2] = p[b1] / (p[b1] + p[b2] + 1e-9);
            g[n * 2 + 1] = p[b2] / (p[b1] + p[b2] + 1e-9);
        }
    }
    /* MTF positions: pos_1 = exclusive cumsum of mask_1; kept if < C */
    for (int n = 0; n < N; n++) {
        int e = ref_expert[n * k];
        int pos = mask_count[e]++;
        ref_slot[n * k] = pos < C ? pos : -1;
    }
    for (int e = 0; e < E; e++)
        kept1[e] = mask_count[e] < C ? mask_count[e] : C;
    if (k == 2) {
        memset(mask_count, 0, (size_t)E * sizeof *mask_count);
        for (int n = 0; n < N; n++) {               /* pos_2 = exclusive cumsum of mask_2 + kept first count */
            int e = ref_expert[n * 2 + 1];
            int pos = mask_count[e]++ + kept1[e];
            ref_slot[n * 2 + 1] = pos < C ? pos : -1;
        }
    }
    for (int n = 0; n < N; n++) {
        double *y_n = y + (size_t)n * D;
        int any = 0;
        for (int d = 0; d < D; d++)
            y_n[d] = 0.0;
        for (int j = 0; j < k; j++) {
            if (ref_slot[n * k + j] < 0)
                continue;
            any = 1;
            int e = ref_expert[n * k + j];
            size_t wofs = (size_t)e * D * F;
            for (int f = 0; f < F; f++) {
                double a = 0.0, b = 0.0;
                for (int d = 0; d < D; d++) {
                    double xd = (double)bf16_to_f32(x[n * D + d]);
                    a += xd * (double)bf16_to_f32(wi[wofs + (size_t)d * F + f]);
                    if (L->act == SWITCH_ACT_GEGLU)
                        b += xd * (double)bf16_to_f32(wg[wofs + (size_t)d * F + f]);
                }
                double hv = L->act == SWITCH_ACT_GEGLU
                                ? 0.5 * a * (1.0 + tanh(sqrt(2.0 / acos(-1.0)) * (a + 0.044715 * a * a * a))) * b
                                : (a > 0.0 ? a : 0.0);
                h[f] = (double)bf16_round_f32((float)hv);
            }
            for (int d = 0; d < D; d++) {
                double o = 0.0;
                for (int f = 0; f < F; f++)
                    o += h[f] * (double)bf16_to_f32(wo[wofs + (size_t)f * D + d]);
                y_n[d] += g[n * k + j] * o;
            }
        }
        if (!any)
            for (int d = 0; d < D; d++)
                y_n[d] = (double)bf16_to_f32(x[n * D + d]);
    }
    free(p); free(h); free(g); free(mask_count); free(kept1);
}

START_TEST(test_layer_vs_double_reference)
{
    const layer_case *L = &LAYER[_i];
    int N = L->N, D = L->D, F = L->F, E = L->E, k = L->k;
    int C = switch_capacity(L->cf, N, E, 1, SWITCH_CAP_FLOOR);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 31337u + (unsigned long)_i);
    size_t nw = (size_t)E * D * F;
    bf16 *x = xcalloc((size_t)N * D, sizeof *x), *wi = xcalloc(nw, sizeof *wi), *wg = xcalloc(nw, sizeof *wg);
    bf16 *wo = xcalloc(nw, sizeof *wo), *buf = xcalloc((size_t)E * C * D, sizeof *buf);
    float *wr = xcalloc((size_t)D * E, sizeof *wr), *xf = xcalloc((size_t)N * D, sizeof *xf);
    float *logits = xcalloc((size_t)N * E, sizeof *logits), *probs = xcalloc((size_t)N * E, sizeof *probs);
    float *gate = xcalloc((size_t)N * k, sizeof *gate), *eout = xcalloc((size_t)E * C * D, sizeof *eout);
    float *y = xcalloc((size_t)N * D, sizeof *y);
    float *scratch = xcalloc(switch_ffn_scratch_len(L->act, C, D, F), sizeof *scratch);
    int *expert = xcalloc((size_t)N * k, sizeof *expert), *slot = xcalloc((size_t)N * k, sizeof *slot);
    int *counts = xcalloc((size_t)E, sizeof *counts);
    int *rexpert = xcalloc((size_t)N * k, sizeof *rexpert), *rslot = xcalloc((size_t)N * k, sizeof *rslot);
    double *yref = xcalloc((size_t)N * D, sizeof *yref);
    fill_bf16(x, (size_t)N * D, r, 2.385);
    fill_uniform(wr, (size_t)D * E, r, 2.0 / sqrt((double)D));
    fill_bf16(wi, nw, r, 1.3 / sqrt((double)D));
    fill_bf16(wg, nw, r, 1.1 / sqrt((double)D));
    fill_bf16(wo, nw, r, 0.9 / sqrt((double)F));

    /* the layer, kernel by kernel */
    switch_router_forward_bf16(logits, probs, xf, x, wr, N, D, E);
    switch_topk_forward(expert, gate, probs, N, E, k);
    int dropped = switch_assign_forward(slot, counts, expert, N, E, k, C);
    switch_dispatch_forward(buf, x, expert, slot, N, D, E, k, C);
    if (L->act == SWITCH_ACT_GEGLU)
        switch_ffn_geglu_forward(eout, scratch, buf, counts, wi, wg, wo, E, C, D, F);
    else
        switch_ffn_relu_forward(eout, scratch, buf, counts, wi, wo, E, C, D, F);
    switch_combine_forward(y, eout, x, gate, expert, slot, N, D, E, k, C);

    ref_layer(yref, rexpert, rslot, x, wr, wi, wg, wo, L, C);
    int rdropped = 0;
    for (int i = 0; i < N * k; i++) {
        ck_assert_int_eq(expert[i], rexpert[i]);
        ck_assert_int_eq(slot[i], rslot[i]);
        rdropped += rslot[i] < 0;
    }
    ck_assert_int_eq(dropped, rdropped);
    ck_assert_int_gt(dropped, 0);                        /* every case exercises the residual path */
    /* dropped tokens: the residual, bit for bit; kept tokens: within 1e-4 of the largest kept output (same
     * argument as fast vs _ref: fp32 vs double sums, rare bf16 roundings of h; measured <= 3.8e-7 relative) */
    double scale = 0.0, maxdiff = 0.0;
    for (int n = 0; n < N; n++) {
        int any = 0;
        for (int j = 0; j < k; j++)
            any |= rslot[n * k + j] >= 0;
        for (int d = 0; d < D; d++) {
            size_t i = (size_t)n * D + d;
            if (!any) {
                ck_assert_double_eq((double)y[i], yref[i]);
                continue;
            }
            if (fabs(yref[i]) > scale)
                scale = fabs(yref[i]);
            if (fabs((double)y[i] - yref[i]) > maxdiff)
                maxdiff = fabs((double)y[i] - yref[i]);
        }
    }
    ck_assert(scale > 0.01);
    ck_assert_msg(maxdiff <= 1e-4 * scale, "max |y - yref| = %g, scale %g", maxdiff, scale);

    free(x); free(wi); free(wg); free(wo); free(buf); free(wr); free(xf); free(logits); free(probs);
    free(gate); free(eout); free(y); free(scratch); free(expert); free(slot); free(counts);
    free(rexpert); free(rslot); free(yref);
    gsl_rng_free(r);
}
END_TEST

/* ---- top-k up to 8, sigmoid scores, expert choice -------------------------------------------------------
 * On the integer scores HA themselves (exact ties): each token's full order, score down and ties to the lower
 * expert (H_ORDER[n][0..1] are H_FIRST and H_SECOND). */
static const int H_ORDER[HN][HE] = {
    { 0, 3, 2, 1 }, { 1, 2, 3, 0 }, { 0, 3, 1, 2 }, { 0, 1, 2, 3 },
    { 3, 2, 1, 0 }, { 2, 0, 3, 1 }, { 3, 0, 1, 2 }, { 1, 3, 0, 2 },
};

/* a == b exactly, for floats (Check's float macros promote to long double, which -Wdouble-promotion flags). */
#define ck_assert_feq(a, b) ck_assert_msg((a) == (b), "%.9g != %.9g", (double)(a), (double)(b))

static void hand_scores(float *scores)
{
    for (int n = 0; n < HN; n++)
        for (int e = 0; e < HE; e++)
            scores[n * HE + e] = (float)HA[n][e];
}

typedef void (*topk_fn)(int *, float *, const float *, int, int, int, int);
static const topk_fn TOPK[2] = { switch_topk_gates_forward, switch_topk_gates_forward_ref };

/* k = 1..4, raw and renormalised, fast and _ref: the order above; raw gates are the scores, renormalised
 * ones score / (sum of the k chosen + 1e-9). */
START_TEST(test_hand_topk_any_k)
{
    float scores[HN * HE], gate[HN * HE];
    int expert[HN * HE];
    hand_scores(scores);
    for (int f = 0; f < 2; f++)
        for (int k = 1; k <= HE; k++)
            for (int renorm = 0; renorm <= 1; renorm++) {
                TOPK[f](expert, gate, scores, HN, HE, k, renorm);
                for (int n = 0; n < HN; n++) {
                    double sum = 0.0;
                    for (int j = 0; j < k; j++)
                        sum += HA[n][H_ORDER[n][j]];
                    for (int j = 0; j < k; j++) {
                        double want = HA[n][H_ORDER[n][j]] / (renorm ? sum : 1.0);
                        ck_assert_msg(expert[n * k + j] == H_ORDER[n][j], "%s k=%d token %d choice %d: %d",
                                      f ? "ref" : "fast", k, n, j, expert[n * k + j]);
                        ck_assert_double_eq_tol((double)gate[n * k + j], want, 1e-6 * want);
                    }
                }
            }
    /* top-2 through switch_topk_forward: Mesh TF's renormalisation, as before */
    switch_topk_forward(expert, gate, scores, HN, HE, 2);
    ck_assert_int_eq(expert[12], 3);          /* t6: 14, then the first of the tied 2s */
    ck_assert_int_eq(expert[13], 0);
    ck_assert_feq(gate[12], 14.0f / (16.0f + SWITCH_TOP2_EPS));
}
END_TEST

/* Sigmoid scores of logits ln(a) are a / (1 + a); the same choices as softmax (both are monotone in the logit),
 * renormalised over the chosen: t6 top-2 = (14/15, 2/3) / (14/15 + 2/3). */
START_TEST(test_hand_sigmoid)
{
    float logits[HN * HE], scores[HN * HE], gate[HN * 2];
    int expert[HN * 2];
    hand_logits(logits);
    switch_sigmoid_forward(scores, logits, HN, HE);
    for (int n = 0; n < HN; n++)
        for (int e = 0; e < HE; e++)
            ck_assert_double_eq_tol((double)scores[n * HE + e], HA[n][e] / (1.0 + HA[n][e]), 1e-7);
    switch_topk_gates_forward(expert, gate, scores, HN, HE, 2, 1);
    for (int n = 0; n < HN; n++) {
        if (n == 1 || n == 6)                 /* ties in fp32 logits of equal a: the lower index, as above */
            continue;
        ck_assert_int_eq(expert[2 * n], H_FIRST[n]);
        ck_assert_int_eq(expert[2 * n + 1], H_SECOND[n]);
    }
    double a = 14.0 / 15.0, b = 2.0 / 3.0;
    ck_assert_int_eq(expert[12], 3);
    ck_assert_double_eq_tol((double)gate[12], a / (a + b), 1e-6);
    ck_assert_double_eq_tol((double)gate[13], b / (a + b), 1e-6);
    /* saturation: no NaN at the ends of the float range */
    float ext[4] = { -1000.0f, -88.0f, 0.0f, 1000.0f }, out[4];
    switch_sigmoid_forward(out, ext, 1, 4);
    ck_assert_feq(out[0], 0.0f);
    ck_assert(out[1] > 0.0f && out[1] < 1e-37f);
    ck_assert_feq(out[2], 0.5f);
    ck_assert_feq(out[3], 1.0f);
}
END_TEST

/* Top-3 at C = 4, choice-major: every first choice, then every second, then every third, each in token order.
 * Firsts: e0 t0 t2 t3, e1 t1 t7, e2 t5, e3 t4 t6.  Seconds: t0->e3 s2, t1->e2 s1, t2->e3 s3, t3->e1 s2, t4->e2 s2,
 * t5->e0 s3, t6->e0 full, t7->e3 full.  Thirds: t0->e2 s3, t2->e1 s3; the other six are full.  8 dropped. */
START_TEST(test_hand_assign_top3)
{
    static const int want_slot[HN * 3] = { 0, 2, 3, 0, 1, -1, 1, 3, 3, 2, 2, -1,
                                           0, 2, -1, 0, 3, -1, 1, -1, -1, 1, -1, -1 };
    int expert[HN * 3], slot[HN * 3], counts[HE];
    for (int n = 0; n < HN; n++)
        for (int j = 0; j < 3; j++)
            expert[n * 3 + j] = H_ORDER[n][j];
    ck_assert_int_eq(switch_assign_forward(slot, counts, expert, HN, HE, 3, 4), 8);
    for (int i = 0; i < HN * 3; i++)
        ck_assert_msg(slot[i] == want_slot[i], "token %d choice %d: slot %d, expected %d", i / 3, i % 3, slot[i],
                      want_slot[i]);
    for (int e = 0; e < HE; e++)
        ck_assert_int_eq(counts[e], 4);
}
END_TEST

/* Expert choice on the integer scores, C = 3 (each expert's column, best first, ties to the lower token):
 * e0 (4 1 6 3 1 2 2 2): t2 t0 t3;  e1 (1 5 1 3 2 1 2 4): t1 t7 t3;  e2 (2 2 1 2 3 5 2 1): t5 t4 t0;
 * e3 (3 2 2 2 4 2 14 3): t6 t4 t0.  Taken: t0 3, t1 1, t2 1, t3 2, t4 2, t5 1, t6 1, t7 1 (12 = E x C). */
START_TEST(test_hand_expert_choice)
{
    static const int want_token[HE * 3] = { 2, 0, 3, 1, 7, 3, 5, 4, 0, 6, 4, 0 };
    static const int want_taken[HN] = { 3, 1, 1, 2, 2, 1, 1, 1 };
    float scores[HN * HE], gate[HE * 3];
    int token[HE * 3], taken[HN], heap[3];
    hand_scores(scores);
    for (int f = 0; f < 2; f++) {
        if (f == 0)
            switch_expert_choice_forward(token, gate, taken, heap, scores, HN, HE, 3);
        else
            switch_expert_choice_forward_ref(token, gate, taken, scores, HN, HE, 3);
        for (int i = 0; i < HE * 3; i++) {
            ck_assert_msg(token[i] == want_token[i], "%s expert %d place %d: token %d, expected %d",
                          f ? "ref" : "fast", i / 3, i % 3, token[i], want_token[i]);
            ck_assert_feq(gate[i], (float)HA[want_token[i]][i / 3]);
        }
        for (int n = 0; n < HN; n++)
            ck_assert_int_eq(taken[n], want_taken[n]);
    }
}
END_TEST

/* Fast against _ref on random scores with many ties (values on a grid of 8), every k and several E, and the
 * properties the contract states: distinct experts, in order, renormalised gates summing to 1; for expert
 * choice, C distinct tokens per expert and no token left out that beats the last one taken. */
START_TEST(test_topk_ec_fast_vs_ref)
{
    enum { N = 96 };
    static const int ES[] = { 1, 2, 3, 8, 9, 16, 64 };
    gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
    gsl_rng_set(r, 7001);
    for (size_t ie = 0; ie < sizeof ES / sizeof ES[0]; ie++) {
        int E = ES[ie];
        float *scores = xcalloc((size_t)N * E, sizeof *scores);
        for (int i = 0; i < N * E; i++)
            scores[i] = (float)(gsl_rng_uniform_int(r, 8) + 1) / 8.0f;   /* > 0: renormalised gates sum to 1 */
        int kmax = E < SWITCH_K_MAX ? E : SWITCH_K_MAX;
        int ex[N * SWITCH_K_MAX], ex_ref[N * SWITCH_K_MAX];
        float g[N * SWITCH_K_MAX], g_ref[N * SWITCH_K_MAX];
        for (int k = 1; k <= kmax; k++) {
            switch_topk_gates_forward(ex, g, scores, N, E, k, 1);
            switch_topk_gates_forward_ref(ex_ref, g_ref, scores, N, E, k, 1);
            for (int n = 0; n < N; n++) {
                double sum = 0.0;
                for (int j = 0; j < k; j++) {
                    int i = n * k + j;
                    ck_assert_int_eq(ex[i], ex_ref[i]);
                    ck_assert_feq(g[i], g_ref[i]);
                    sum += (double)g[i];
                    for (int jj = 0; jj < j; jj++)
                        ck_assert_int_ne(ex[n * k + jj], ex[i]);
                    if (j > 0)
                        ck_assert(scores[n * E + ex[i - 1]] >= scores[n * E + ex[i]]);
                }
                for (int e = 0; e < E; e++) {     /* nothing left out beats the kth */
                    int in = 0;
                    for (int j = 0; j < k; j++)
                        in |= ex[n * k + j] == e;
                    ck_assert(in || scores[n * E + e] <= scores[n * E + ex[n * k + k - 1]]);
                }
                ck_assert_double_eq_tol(sum, 1.0, 1e-6);
            }
        }
        int *tok = xcalloc((size_t)E * N, sizeof *tok), *tok_ref = xcalloc((size_t)E * N, sizeof *tok_ref);
        float *ge = xcalloc((size_t)E * N, sizeof *ge), *ge_ref = xcalloc((size_t)E * N, sizeof *ge_ref);
        int taken[N], taken_ref[N], heap[N];
        static const int CS[] = { 1, 2, 7, 12, 95, 96 };
        for (size_t ic = 0; ic < sizeof CS / sizeof CS[0]; ic++) {
            int C = CS[ic];
            switch_expert_choice_forward(tok, ge, taken, heap, scores, N, E, C);
            switch_expert_choice_forward_ref(tok_ref, ge_ref, taken_ref, scores, N, E, C);
            long total = 0;
            for (int n = 0; n < N; n++) {
                ck_assert_int_eq(taken[n], taken_ref[n]);
                total += taken[n];
            }
            ck_assert_int_eq(total, (long)E * C);
            for (int e = 0; e < E; e++) {
                const int *te = tok + (size_t)e * C;
                for (int c = 0; c < C; c++) {
                    ck_assert_int_eq(te[c], tok_ref[(size_t)e * C + c]);
                    ck_assert_feq(ge[(size_t)e * C + c], scores[te[c] * E + e]);
                    for (int cc = 0; cc < c; cc++)
                        ck_assert_int_ne(te[cc], te[c]);
                }
                float last = scores[te[C - 1] * E + e];
                for (int n = 0; n < N; n++) {
                    int in = 0;
                    for (int c = 0; c < C; c++)
                        in |= te[c] == n;
                    ck_assert(in || scores[n * E + e] <= last);
                }
            }
        }
        free(tok);
        free(tok_ref);
        free(ge);
        free(ge_ref);
        free(scores);
    }
    gsl_rng_free(r);
}
END_TEST

/* The score router: softmax mode is switch_router_forward bit for bit; sigmoid mode is the sigmoid of the same
 * logits; fast and _ref agree to fp32 summation order. */
START_TEST(test_router_score)
{
    enum { N = 33, D = 40, E = 12 };
    gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
    gsl_rng_set(r, 4242);
    float x[N * D], w[D * E], l1[N * E], p1[N * E], l2[N * E], s2[N * E], l3[N * E], s3[N * E];
    fill_uniform(x, N * D, r, 1.3);
    fill_uniform(w, D * E, r, 0.4);
    switch_router_forward(l1, p1, x, w, N, D, E);
    switch_router_score_forward(l2, s2, x, w, N, D, E, SWITCH_SCORE_SOFTMAX);
    ck_assert_int_eq(memcmp(l1, l2, sizeof l1), 0);
    ck_assert_int_eq(memcmp(p1, s2, sizeof p1), 0);
    switch_router_score_forward(l2, s2, x, w, N, D, E, SWITCH_SCORE_SIGMOID);
    switch_router_score_forward_ref(l3, s3, x, w, N, D, E, SWITCH_SCORE_SIGMOID);
    for (int i = 0; i < N * E; i++) {
        ck_assert_double_eq_tol((double)s2[i], 1.0 / (1.0 + exp(-(double)l2[i])), 1e-6);
        ck_assert_double_eq_tol((double)s3[i], (double)s2[i], 1e-5);
        ck_assert(s2[i] > 0.0f && s2[i] < 1.0f);
    }
    gsl_rng_free(r);
}
END_TEST

static Suite *switch_suite(void)
{
    Suite *s = suite_create("switch");
    TCase *tc = tcase_create("hand_8x4");
    tcase_add_test(tc, test_hand_softmax_topk1);
    tcase_add_test(tc, test_hand_topk2);
    tcase_add_test(tc, test_hand_assign_top1);
    tcase_add_loop_test(tc, test_hand_assign_top2, 0, (int)(sizeof HAND2 / sizeof HAND2[0]));
    tcase_add_test(tc, test_hand_losses);
    tcase_add_test(tc, test_lb_uniform_is_alpha);
    tcase_add_test(tc, test_hand_dispatch_combine);
    tcase_add_test(tc, test_all_dropped);
    tcase_add_test(tc, test_hand_topk_any_k);
    tcase_add_test(tc, test_hand_sigmoid);
    tcase_add_test(tc, test_hand_assign_top3);
    tcase_add_test(tc, test_hand_expert_choice);
    suite_add_tcase(s, tc);

    tc = tcase_create("capacity");
    tcase_add_test(tc, test_second_random);
    tcase_add_loop_test(tc, test_capacity, 0, (int)(sizeof CAP / sizeof CAP[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("router");
    tcase_set_timeout(tc, 60);   /* the 2048-expert case takes ~4 s alone, Check's default limit */
    tcase_add_loop_test(tc, test_router_properties, 0, (int)(sizeof PROP / sizeof PROP[0]));
    tcase_add_test(tc, test_router_bf16_input);
    tcase_add_test(tc, test_jitter);
    tcase_add_test(tc, test_router_score);
    tcase_add_test(tc, test_topk_ec_fast_vs_ref);
    suite_add_tcase(s, tc);

    tc = tcase_create("ffn");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_ffn_relu_hand);
    tcase_add_test(tc, test_ffn_geglu_hand);
    tcase_add_loop_test(tc, test_ffn_relu_special, 0, (int)(sizeof SPECIAL / sizeof SPECIAL[0]));
    tcase_add_loop_test(tc, test_ffn_fast_vs_ref, 0, (int)(sizeof FFN / sizeof FFN[0]));
    tcase_add_test(tc, test_ffn_scratch_len);
    suite_add_tcase(s, tc);

    tc = tcase_create("layer");
    tcase_set_timeout(tc, 20);
    tcase_add_loop_test(tc, test_layer_vs_double_reference, 0, (int)(sizeof LAYER / sizeof LAYER[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(switch_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
