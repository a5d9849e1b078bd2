/* Check suite for the pipeline schedule: the one-forward-one-backward order (sched_1f1b) by hand, and 4 stages of
 * 8 micro-batches timed by the timer on a line of 4 chips, each stage's forward 1 ms and backward 2 ms per
 * micro-batch, the activations and gradients sent point-to-point: the step is (m + P - 1)(f + b) = 33 ms and every
 * stage waits (P - 1)(f + b) = 9 ms of it for its neighbours, the bubble (P - 1) / (m + P - 1) = 3/11.  And the
 * all-to-alls of two stages on their own blocks of chips, at different times (a stage barrier, not a global one).
 * Every simulation runs in its own child (simproc_run). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/collbench.h"
#include "sim/netmodel.h"
#include "sim/platform.h"
#include "sim/sched.h"
#include "sim/simproc.h"
#include "sim/timer.h"
#include "tests/simfix.h"

#define P 4                /* stages, one chip each */
#define M 8                /* micro-batches */
#define F_S 1e-3           /* a stage's forward of one micro-batch */
#define B_S 2e-3           /* its backward */
#define TICK 1e-9          /* surf/precision: the resolution of SimGrid's simulated times */

static char tmpdir[64];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/check_pipe_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* F0 F1 F2 | F3 B0 F4 B1 F5 B2 F6 B3 F7 B4 | B5 B6 B7 on the first of 4 stages; F0 B0 F1 B1 ... on the last;
 * fewer micro-batches than warm-up slots: all forwards, then all backwards. */
START_TEST(test_1f1b_order)
{
    int mb[2 * M], bwd[2 * M];
    const int mb0[2 * M] = { 0, 1, 2, 3, 0, 4, 1, 5, 2, 6, 3, 7, 4, 5, 6, 7 };
    const int bw0[2 * M] = { 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1 };
    ck_assert_int_eq(sched_1f1b(mb, bwd, 0, P, M), 0);
    for (int i = 0; i < 2 * M; i++) {
        ck_assert_int_eq(mb[i], mb0[i]);
        ck_assert_int_eq(bwd[i], bw0[i]);
    }
    ck_assert_int_eq(sched_1f1b(mb, bwd, P - 1, P, M), 0);
    for (int i = 0; i < 2 * M; i++) {
        ck_assert_int_eq(mb[i], i / 2);
        ck_assert_int_eq(bwd[i], i % 2);
    }
    const int mb1[4] = { 0, 1, 0, 1 }, bw1[4] = { 0, 0, 1, 1 };
    ck_assert_int_eq(sched_1f1b(mb, bwd, 0, P, 2), 0);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(mb[i], mb1[i]);
        ck_assert_int_eq(bwd[i], bw1[i]);
    }
    ck_assert_int_eq(sched_1f1b(mb, bwd, P, P, M), -1);
    ck_assert_int_eq(sched_1f1b(mb, bwd, 0, P, 0), -1);
    ck_assert_int_eq(sched_1f1b(mb, bwd, 0, 0, M), -1);
}
END_TEST

typedef struct {
    const char *platform;
    double bytes;              /* per send */
} prun;

enum { O_STEP, O_BUBBLE, O_COMPUTE = O_BUBBLE + P, O_IDLE = O_COMPUTE + P, O_N = O_IDLE + P };

/* Child: the 4 stages' 1F1B lists (one op per pass, a send after it, a receive before it), a flush, the timer. */
static int prun_child(void *argp, double *out, int nout, errbuf *err)
{
    const prun *a = argp;
    cost_chip chip;
    platform_torus t;
    if (simfix_start_hw(a->platform, &chip, &t, err) != 0)
        return -1;
    ck_assert_int_eq(t.nchips, P);
    sched *s = sched_alloc(P, 1, 0);
    for (int st = 0; st < P; st++) {
        int mb[2 * M], bwd[2 * M];
        ck_assert_int_eq(sched_1f1b(mb, bwd, st, P, M), 0);
        sched_begin(s, st);
        for (int i = 0; i < 2 * M; i++) {
            if (!bwd[i]) {
                if (st > 0)
                    sched_recv(s, st - 1, -1, SCHED_FWD);
                sched_op(s, SCHED_CAT_COMPUTE, SCHED_N_FFN, F_S, -1, SCHED_FWD);
                if (st < P - 1)
                    sched_send(s, st + 1, a->bytes, -1, SCHED_FWD);
            } else {
                if (st < P - 1)
                    sched_recv(s, st + 1, -1, SCHED_BWD);
                sched_op(s, SCHED_CAT_COMPUTE, SCHED_N_FFN, B_S, -1, SCHED_BWD);
                if (st > 0)
                    sched_send(s, st - 1, a->bytes, -1, SCHED_BWD);
            }
        }
        sched_flush(s, -1, SCHED_BWD);
        ck_assert_int_eq(sched_end(s, err), 0);
    }
    ck_assert(sched_has_p2p(s));
    timer_cfg tc = { .s = s, .core_flops = chip.bf16_flops, .a2a = COLL_A2A_PHASED, .reuse = 1 };
    simfix_torus(&tc, &t);
    timer_result r;
    int rc = timer_run(&r, &tc, err);
    if (rc == 0 && nout == O_N) {
        out[O_STEP] = r.t_end;
        for (int c = 0; c < P; c++) {
            out[O_BUBBLE + c] = r.acct[(size_t)c * SCHED_N_CAT + SCHED_CAT_BUBBLE];
            out[O_COMPUTE + c] = r.acct[(size_t)c * SCHED_N_CAT + SCHED_CAT_COMPUTE];
            out[O_IDLE + c] = r.acct[(size_t)c * SCHED_N_CAT + SCHED_CAT_IDLE];
        }
    }
    timer_result_fini(&r);
    sched_free(s);
    return rc;
}

static void run_ok(const char *platform, double bytes, double lat, double *out)
{
    const int dims[3] = { P, 1, 1 }, wrap[3] = { 0, 0, 0 };
    errbuf err = { "" };
    ck_assert_msg(collbench_platform_write(platform, 1, dims, wrap, 1e11, lat, &err) == 0, "%s", err.msg);
    prun a = { platform, bytes };
    ck_assert_msg(simproc_run(prun_child, &a, out, O_N, &err) == 0, "%s", err.msg);
}

/* Free transfers (0 bytes, 1 ps links): step (8 + 3)(1 + 2) ms = 33 ms, each stage 24 ms of compute and 9 ms of
 * bubble, nothing idle; the bubble's share 3/11, within SimGrid's 1 ns per event (2 M + 1 per stage). */
START_TEST(test_bubble)
{
    char path[128];
    snprintf(path, sizeof path, "%s/line.xml", tmpdir);
    double out[O_N];
    run_ok(path, 0.0, 1e-12, out);
    double step = (M + P - 1) * (F_S + B_S), tol = (4 * M + 2) * TICK;
    ck_assert_msg(fabs(out[O_STEP] - step) <= tol, "step %.12g s, expected %.12g s", out[O_STEP], step);
    for (int c = 0; c < P; c++) {
        ck_assert_double_eq_tol(out[O_COMPUTE + c], M * (F_S + B_S), tol);
        ck_assert_msg(fabs(out[O_BUBBLE + c] - (P - 1) * (F_S + B_S)) <= tol, "stage %d bubble %.12g s", c,
                      out[O_BUBBLE + c]);
        ck_assert_double_eq_tol(out[O_IDLE + c], 0.0, tol);
        ck_assert_double_eq_tol(out[O_BUBBLE + c] / out[O_STEP], (double)(P - 1) / (M + P - 1), 1e-6);
    }
}
END_TEST

/* Transfers of 100 MB over 100 GB/s links (1 ms each, plus 1 us latency per hop): each is on the critical path
 * of the warm-up and cool-down, so the step is longer than 33 ms and the bubble more than 9 ms per stage, while
 * the compute stays 24 ms: the transfers' time is bubble, nothing else. */
START_TEST(test_bubble_transfers)
{
    char path[128];
    snprintf(path, sizeof path, "%s/line.xml", tmpdir);
    double out[O_N];
    run_ok(path, 1e8, 1e-6, out);
    double ideal = (M + P - 1) * (F_S + B_S);
    ck_assert_double_gt(out[O_STEP], ideal + 2 * (P - 1) * 1e-3 - 1e-6);
    for (int c = 0; c < P; c++) {
        ck_assert_double_eq_tol(out[O_COMPUTE + c], M * (F_S + B_S), 1e-7);
        ck_assert_double_eq_tol(out[O_BUBBLE + c] + out[O_COMPUTE + c] + out[O_IDLE + c], out[O_STEP], 1e-7);
        ck_assert_double_gt(out[O_BUBBLE + c], (P - 1) * (F_S + B_S));
    }
}
END_TEST

enum { B_STEP, B_A2A, B_COMPUTE = B_A2A + P, B_IDLE = B_COMPUTE + P, B_COUNT = B_IDLE + P, B_REUSED, B_N };

#define BLOCK_BYTES 1e8    /* per chip pair and direction: 1 ms over a 100 GB/s link */
#define BLOCK_WORK_S 5e-3

/* Child: 2 stages of 2 chips on the line of 4; stage 0 works 5 ms, then two all-to-alls of its block (chips 0, 1),
 * each after a barrier of its stage; stage 1 runs two all-to-alls of its block (chips 2, 3) at once, then works. */
static int block_child(void *argp, double *out, int nout, errbuf *err)
{
    const char *platform = argp;
    cost_chip chip;
    platform_torus t;
    if (simfix_start_hw(platform, &chip, &t, err) != 0)
        return -1;
    static const double M2[4] = { 0, BLOCK_BYTES, BLOCK_BYTES, 0 };   /* (2, 2), the diagonal stays on chip */
    sched *s = sched_alloc(P, 1, 0);
    ck_assert_int_eq(sched_set_stage_cores(s, 2), 0);
    ck_assert_int_eq(sched_set_stage_cores(s, 3), -1);
    int cl[2];
    for (int st = 0; st < 2; st++) {
        sched_coll c = { .kind = SCHED_A2A, .bytes = M2, .key = st, .base = 2 * st, .n = 2 };
        cl[st] = sched_coll_add(s, &c);
    }
    for (int core = 0; core < P; core++) {
        int st = core / 2;
        sched_begin(s, core);
        if (st == 0)
            sched_op(s, SCHED_CAT_COMPUTE, SCHED_N_FFN, BLOCK_WORK_S, -1, SCHED_FWD);
        for (int k = 0; k < 2; k++) {
            sched_barrier_stage(s, -1, SCHED_FWD);
            sched_collective(s, cl[st], SCHED_CAT_A2A, SCHED_N_A2A, -1, SCHED_FWD);
        }
        if (st == 1)
            sched_op(s, SCHED_CAT_COMPUTE, SCHED_N_FFN, BLOCK_WORK_S, -1, SCHED_FWD);
        sched_barrier_all(s, -1, SCHED_BWD);
        ck_assert_int_eq(sched_end(s, err), 0);
    }
    timer_cfg tc = { .s = s, .core_flops = chip.bf16_flops, .a2a = COLL_A2A_DIRECT, .reuse = 1 };
    simfix_torus(&tc, &t);
    timer_result r;
    int rc = timer_run(&r, &tc, err);
    if (rc == 0 && nout == B_N) {
        out[B_STEP] = r.t_end;
        for (int c = 0; c < P; c++) {
            out[B_A2A + c] = r.acct[(size_t)c * SCHED_N_CAT + SCHED_CAT_A2A];
            out[B_COMPUTE + c] = r.acct[(size_t)c * SCHED_N_CAT + SCHED_CAT_COMPUTE];
            out[B_IDLE + c] = r.acct[(size_t)c * SCHED_N_CAT + SCHED_CAT_IDLE];
        }
        out[B_COUNT] = (double)r.a2a_count;
        out[B_REUSED] = (double)r.a2a_reused;
    }
    timer_result_fini(&r);
    sched_free(s);
    return rc;
}

/* Each block's all-to-all is two flows, one each way over the link between its chips: 1 ms + 1 us.  Stage 1 runs
 * its two at once (0 to 2.002 ms) while stage 0 works, then works 5 ms; stage 0 runs its two after its work: both
 * end at 7.002 ms, and nobody waits (a global barrier before each all-to-all would have idled stage 1 5 ms).  The
 * second all-to-all of each block is replayed from its first (per block: the chips differ). */
START_TEST(test_stage_alltoall_blocks)
{
    char path[128];
    snprintf(path, sizeof path, "%s/line.xml", tmpdir);
    const int dims[3] = { P, 1, 1 }, wrap[3] = { 0, 0, 0 };
    errbuf err = { "" };
    ck_assert_msg(collbench_platform_write(path, 1, dims, wrap, 1e11, 1e-6, &err) == 0, "%s", err.msg);
    double out[B_N];
    ck_assert_msg(simproc_run(block_child, path, out, B_N, &err) == 0, "%s", err.msg);
    double a2a = BLOCK_BYTES / 1e11 + 1e-6, tol = 1e-7;
    ck_assert_msg(fabs(out[B_STEP] - (BLOCK_WORK_S + 2 * a2a)) <= tol, "step %.12g s", out[B_STEP]);
    for (int c = 0; c < P; c++) {
        ck_assert_msg(fabs(out[B_A2A + c] - 2 * a2a) <= tol, "core %d a2a %.12g s", c, out[B_A2A + c]);
        ck_assert_double_eq_tol(out[B_COMPUTE + c], BLOCK_WORK_S, tol);
        ck_assert_double_eq_tol(out[B_IDLE + c], 0.0, tol);
    }
    ck_assert_double_eq(out[B_COUNT], 4.0);
    ck_assert_double_eq(out[B_REUSED], 2.0);
}
END_TEST

static Suite *pipe_suite(void)
{
    Suite *s = suite_create("pipe");
    TCase *tc = tcase_create("order");
    tcase_add_test(tc, test_1f1b_order);
    suite_add_tcase(s, tc);
    tc = tcase_create("sim");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_bubble);
    tcase_add_test(tc, test_bubble_transfers);
    tcase_add_test(tc, test_stage_alltoall_blocks);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pipe_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
