/* check_collectives: sim/collectives (all-to-all, all-reduce), sim/simproc (forked simulations) and the
 * collectives' platform writer, on small platforms written into a temp directory.  Every simulation runs in
 * its own child (simproc_run): SimGrid initialises once per process.
 *
 * Expected times use SimGrid 3.32's default LV08 network model: a flow of S bytes over a route of latency lat
 * takes LV08_LAT * lat to start, then moves at LV08_BW * B (B the route's bottleneck bandwidth), shared fairly
 * with other flows.  The default network/crosstraffic adds 5% of each flow as ACK traffic on the reverse route:
 * where the reverse links are busy with flows of their own, a flow moves at LV08_BW * B / CROSS (measured). */
#include "sim/collbench.h"
#include "sim/collectives.h"
#include "sim/netmodel.h"
#include "sim/simproc.h"

#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LV08_LAT 13.01     /* network/latency-factor, SimGrid 3.32 LV08 default */
#define LV08_BW 0.97       /* network/bandwidth-factor, SimGrid 3.32 LV08 default */
#define CROSS 1.05         /* network/crosstraffic on (default): measured 1.05 S per flow */
#define BW 1.0e11          /* link bandwidth one way, B/s */
#define LAT 1.0e-6         /* link latency, s */
#define RTOL 1e-6          /* surf/precision is 1e-6 */
#define TICK 1e-9          /* surf/precision: the resolution of SimGrid's simulated times */

static char tmpdir[64];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/check_coll_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Writes a platform into tmpdir and returns its path (static buffer). */
static const char *platform(int ndims, const int *dims, const int *wrap)
{
    static char path[128];
    errbuf err = { "" };
    snprintf(path, sizeof path, "%s/p.xml", tmpdir);
    ck_assert_msg(collbench_platform_write(path, ndims, dims, wrap, BW, LAT, &err) == 0, "%s", err.msg);
    return path;
}

static collbench_sim sim_cfg(const char *plat, int ndims, const int *dims, const int *wrap, const double *bytes,
                            coll_a2a_algo algo)
{
    collbench_sim c = { .platform = plat, .ndims = ndims, .bytes = bytes, .algo = algo, .reps = 1 };
    for (int d = 0; d < ndims && d < COLL_DIMS_MAX; d++) {
        c.dims[d] = dims[d];
        c.wrap[d] = wrap[d];
    }
    return c;
}

static void run_ok(collbench_sim *c, double *out)
{
    errbuf err = { "" };
    int rc = simproc_run(collbench_sim_run, c, out, COLLBENCH_SIM_NOUT(c->reps), &err);
    ck_assert_msg(rc == 0, "%s", err.msg);
}

static double *uniform(int n, double s)
{
    double *b = malloc((size_t)n * n * sizeof *b);
    ck_assert_ptr_nonnull(b);
    for (int i = 0; i < n * n; i++)
        b[i] = s;
    return b;
}

/* Deterministic high-entropy matrix: bytes in [0.5, 1.5) x scale, some zeros. */
static double *entropy(int n, double scale)
{
    double *b = malloc((size_t)n * n * sizeof *b);
    ck_assert_ptr_nonnull(b);
    unsigned long x = 2385;
    for (int i = 0; i < n * n; i++) {
        x = x * 6364136223846793005ul + 1442695040888963407ul;
        double u = (double)(x >> 11) / 9007199254740992.0;
        b[i] = u < 0.1 ? 0.0 : (0.5 + u) * scale;
    }
    return b;
}

static const double B_ALONE = LV08_BW * BW;         /* one flow alone, reverse links idle */
static const double B_EFF = LV08_BW * BW / CROSS;   /* one flow per link, reverse links as busy */
static const double A_HOP = LV08_LAT * LAT;         /* start-up of a one-link route */

/* ---------------------------------------------------------------------------------------------------------- */

/* One flow of S bytes over one link: LV08 start-up plus S at the effective bandwidth, for every algorithm
 * (the phased ones on a line of two make the same single flow). */
START_TEST(test_single_flow)
{
    const int dims[] = { 2 }, wrap[] = { 0 };
    const char *p = platform(1, dims, wrap);
    const double S = 2.385e6;
    double b[4] = { 0, S, 0, 0 };
    for (int algo = COLL_A2A_DIRECT; algo <= COLL_A2A_PHASED_XY; algo++) {
        collbench_sim c = sim_cfg(p, 1, dims, wrap, b, (coll_a2a_algo)algo);
        double out[COLLBENCH_SIM_NOUT(1)];
        run_ok(&c, out);
        double expect = A_HOP + S / B_ALONE;
        ck_assert_double_eq_tol(out[COLLBENCH_SIM_T0], expect, RTOL * expect);
        ck_assert_double_eq(out[COLLBENCH_SIM_LINK_BPS], BW);
        ck_assert_double_eq(out[COLLBENCH_SIM_LINK_LAT_S], LAT);
    }
}
END_TEST

/* Uniform all-to-all on a 2x2 torus (SimGrid cluster), S per chip pair with S < A_HOP * B_EFF, so that the
 * one-hop flows finish before the two-hop ones start:
 * DIRECT: one-hop flows run alone in [a, a + S/B'], the diagonal (two-hop) ones alone from 2a: 2a + S/B'.
 * PHASED: per phase, each chip's x (or y) share is S (two destinations x half the bytes), a tie on a ring of
 * two: S/2 each way over the one link between them: a + S/B' per phase, 2a + 2S/B'.
 * PHASED_XY: all bytes per phase, 2S per link of that phase's dimension: 2a + 4S/B'.
 * Either way each link carries 2S in all (the phased algorithms' own busiest-link bytes). */
START_TEST(test_uniform_2x2)
{
    const int dims[] = { 2, 2 }, wrap[] = { 1, 1 };
    const char *p = platform(2, dims, wrap);
    const double S = 0.9385e6;
    ck_assert(S < A_HOP * B_EFF);
    double *b = uniform(4, S);
    const double expect[] = { 2 * A_HOP + S / B_EFF, 2 * A_HOP + 2 * S / B_EFF, 2 * A_HOP + 4 * S / B_EFF };
    for (int algo = COLL_A2A_DIRECT; algo <= COLL_A2A_PHASED_XY; algo++) {
        collbench_sim c = sim_cfg(p, 2, dims, wrap, b, (coll_a2a_algo)algo);
        c.route_bound = 1;
        double out[COLLBENCH_SIM_NOUT(1)];
        run_ok(&c, out);
        ck_assert_double_eq_tol(out[COLLBENCH_SIM_T0], expect[algo], RTOL * expect[algo]);
        /* bisection: 2 chips x 2 destinations x S cross each way over 2 links */
        ck_assert_double_eq_tol(out[COLLBENCH_SIM_BISECT_BYTES], 2 * S, 1e-9 * S);
        ck_assert_double_eq_tol(out[COLLBENCH_SIM_ROUTE_BYTES], 2 * S, 1e-9 * S);
        if (algo != COLL_A2A_DIRECT)
            ck_assert_double_eq_tol(out[COLLBENCH_SIM_OWN_BYTES], 2 * S, 1e-9 * S);   /* each link busy in one phase (XY) or S in each (PHASED) */
    }
    free(b);
}
END_TEST

/* Lines and mixed ring/line tori with an uneven matrix: every algorithm conserves bytes (checked inside,
 * a violation would fail the run) and is never faster than its busiest-link bound or the bisection bound. */
START_TEST(test_bounds_uneven)
{
    static const struct { int ndims, dims[3], wrap[3]; } T[] = {
        { 1, { 5 }, { 0 } }, { 2, { 3, 2 }, { 0, 0 } }, { 2, { 3, 4 }, { 1, 0 } }, { 2, { 4, 3 }, { 1, 1 } },
        { 3, { 2, 3, 2 }, { 0, 1, 0 } },
    };
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
        const char *p = platform(T[i].ndims, T[i].dims, T[i].wrap);
        int n = 1;
        for (int d = 0; d < T[i].ndims; d++)
            n *= T[i].dims[d];
        double *b = entropy(n, 3.1e6);
        double t[3];
        for (int algo = COLL_A2A_DIRECT; algo <= COLL_A2A_PHASED_XY; algo++) {
            collbench_sim c = sim_cfg(p, T[i].ndims, T[i].dims, T[i].wrap, b, (coll_a2a_algo)algo);
            c.route_bound = 1;
            double out[COLLBENCH_SIM_NOUT(1)];
            run_ok(&c, out);
            t[algo] = out[COLLBENCH_SIM_T0];
            ck_assert_double_ge(t[algo], out[COLLBENCH_SIM_BISECT_BYTES] / BW);
            ck_assert_double_ge(t[algo], (algo == COLL_A2A_DIRECT ? out[COLLBENCH_SIM_ROUTE_BYTES]
                                                                  : out[COLLBENCH_SIM_OWN_BYTES]) / BW);
            ck_assert_double_gt(out[COLLBENCH_SIM_BISECT_BYTES], 0.0);
        }
        free(b);
    }
}
END_TEST

/* Uniform 4x4 torus, direct: within 25% above the busiest-link bound of SimGrid's own routes (SOURCES 8.3
 * measured 1.19x), and the route bound is (K+2)/K = 1.5 times the bisection bound (SOURCES 8.2). */
START_TEST(test_direct_4x4_bound)
{
    const int dims[] = { 4, 4 }, wrap[] = { 1, 1 };
    const char *p = platform(2, dims, wrap);
    double *b = uniform(16, 4.0 * 8 * 1048576 / 32);   /* 8 MiB per core, 2 cores per chip */
    collbench_sim c = sim_cfg(p, 2, dims, wrap, b, COLL_A2A_DIRECT);
    c.route_bound = 1;
    double out[COLLBENCH_SIM_NOUT(1)];
    run_ok(&c, out);
    double ratio = out[COLLBENCH_SIM_T0] * BW / out[COLLBENCH_SIM_ROUTE_BYTES];
    ck_assert_double_ge(ratio, 1.0);
    ck_assert_double_le(ratio, 1.25);
    ck_assert_double_eq_tol(out[COLLBENCH_SIM_ROUTE_BYTES] / out[COLLBENCH_SIM_BISECT_BYTES], 1.5, 1e-12);
    free(b);
}
END_TEST

/* All-reduce of B bytes over a line of two: reduce-scatter then all-gather, each one step of two flows of
 * B/4 (one each way round the ring of two) over the single link: 2 (a + (B/2)/B'). */
START_TEST(test_allreduce_two)
{
    const int dims[] = { 2 }, wrap[] = { 0 };
    const char *p = platform(1, dims, wrap);
    const double AR = 1.5e6;
    const int group[] = { 1, 0 };
    for (int op = COLLBENCH_SIM_ALLREDUCE_ALL; op <= COLLBENCH_SIM_ALLREDUCE_GROUP; op++) {
        collbench_sim c = sim_cfg(p, 1, dims, wrap, NULL, COLL_A2A_DIRECT);
        c.op = (collbench_sim_op)op;
        c.ar_bytes = AR;
        c.group = group;
        c.ngroup = 2;
        double out[COLLBENCH_SIM_NOUT(1)];
        run_ok(&c, out);
        double expect = 2 * (A_HOP + AR / 2 / B_EFF);
        ck_assert_double_eq_tol(out[COLLBENCH_SIM_T0], expect, RTOL * expect);
    }
}
END_TEST

/* All-reduce over a 4x4 torus: never faster than the bandwidth bound of a 2D bidirectional ring,
 * 2 (X-1)/X * B / (2 B_link) for x plus the same on the 1/X shard along y.  Exactly: 12 steps (3 per ring,
 * reduce-scatter x, y, all-gather y, x), each one flow per link of shard/(2L) with busy reverse links.
 * A group ring over one row of 4: 6 steps of AR/8. */
START_TEST(test_allreduce_4x4)
{
    const int dims[] = { 4, 4 }, wrap[] = { 1, 1 };
    const char *p = platform(2, dims, wrap);
    const double AR = 3.3e7;
    collbench_sim c = sim_cfg(p, 2, dims, wrap, NULL, COLL_A2A_DIRECT);
    c.op = COLLBENCH_SIM_ALLREDUCE_ALL;
    c.ar_bytes = AR;
    double out[COLLBENCH_SIM_NOUT(1)];
    run_ok(&c, out);
    double bound = 2.0 * 3 / 4 * AR / (2 * BW) + 2.0 * 3 / 4 * (AR / 4) / (2 * BW);
    ck_assert_double_ge(out[COLLBENCH_SIM_T0], bound);
    double exact = 12 * A_HOP + (6 * AR / 8 + 6 * AR / 32) / B_EFF;
    ck_assert_double_eq_tol(out[COLLBENCH_SIM_T0], exact, RTOL * exact);
    const int row[] = { 0, 1, 2, 3 };
    c.op = COLLBENCH_SIM_ALLREDUCE_GROUP;
    c.group = row;
    c.ngroup = 4;
    double out2[COLLBENCH_SIM_NOUT(1)];
    run_ok(&c, out2);
    double expect = 6 * (A_HOP + AR / 8 / B_EFF);   /* 2(n-1) steps, flows of AR/(2n) alone on their links */
    ck_assert_double_eq_tol(out2[COLLBENCH_SIM_T0], expect, RTOL * expect);
}
END_TEST

/* Rejections: exact messages. */
static const struct {
    int ndims, dims[3], wrap[3], pdims[3];   /* world shape; platform shape (pdims[0] 0: no platform file) */
    int op;
    int group[2];
    const char *msg;
} BAD[] = {
    { 4, { 2, 2, 2 }, { 0, 0, 0 }, { 2, 1, 1 }, COLLBENCH_SIM_A2A, { 0, 0 }, "collectives: ndims must be 1..3, got 4" },
    { 2, { 2, 0, 1 }, { 0, 0, 0 }, { 2, 1, 1 }, COLLBENCH_SIM_A2A, { 0, 0 }, "collectives: dims[1] must be >= 1, got 0" },
    { 2, { 4, 4, 1 }, { 1, 1, 0 }, { 2, 2, 1 }, COLLBENCH_SIM_A2A, { 0, 0 },
      "collectives: platform has no host 'chip4' (torus 4x4 needs chip0..chip15)" },
    { 1, { 2, 1, 1 }, { 0, 0, 0 }, { 2, 1, 1 }, COLLBENCH_SIM_ALLREDUCE_GROUP, { 0, 7 },
      "collectives: all-reduce group member 7 is not a chip (0..1)" },
    { 1, { 2, 1, 1 }, { 0, 0, 0 }, { 0, 0, 0 }, COLLBENCH_SIM_A2A, { 0, 0 },
      "/nonexistent/p.xml: cannot read platform: No such file or directory" },
};

START_TEST(test_reject)
{
    const char *p = "/nonexistent/p.xml";
    if (BAD[_i].pdims[0] > 0) {
        int pw[3] = { 0, 0, 0 }, nd = BAD[_i].pdims[2] > 1 ? 3 : BAD[_i].pdims[1] > 1 ? 2 : 1;
        p = platform(nd, BAD[_i].pdims, pw);
    }
    double b[4] = { 0, 1e6, 1e6, 0 };
    collbench_sim c = { .platform = p, .ndims = BAD[_i].ndims, .bytes = b, .reps = 1, .op = (collbench_sim_op)BAD[_i].op,
                       .ar_bytes = 1e6, .group = BAD[_i].group, .ngroup = 2 };
    for (int d = 0; d < COLL_DIMS_MAX; d++) {
        c.dims[d] = BAD[_i].dims[d];
        c.wrap[d] = BAD[_i].wrap[d];
    }
    double out[COLLBENCH_SIM_NOUT(1)];
    errbuf err = { "" };
    ck_assert_int_eq(simproc_run(collbench_sim_run, &c, out, COLLBENCH_SIM_NOUT(1), &err), -1);
    ck_assert_str_eq(err.msg, BAD[_i].msg);
}
END_TEST

/* A matrix whose bytes do not add up (a NaN entry) is caught by the conservation check, direct and phased. */
START_TEST(test_conservation_error)
{
    const int dims[] = { 2 }, wrap[] = { 0 };
    const char *p = platform(1, dims, wrap);
    double b[4] = { 0, NAN, 0, 0 };
    const char *msg[] = { "collectives: chip 1 received 0 bytes in a direct all-to-all, expected nan",
                          "collectives: chip 1 received nan bytes in a phased all-to-all, expected nan" };
    for (int algo = COLL_A2A_DIRECT; algo <= COLL_A2A_PHASED; algo++) {
        collbench_sim c = sim_cfg(p, 1, dims, wrap, b, (coll_a2a_algo)algo);
        double out[COLLBENCH_SIM_NOUT(1)];
        errbuf err = { "" };
        ck_assert_int_eq(simproc_run(collbench_sim_run, &c, out, COLLBENCH_SIM_NOUT(1), &err), -1);
        ck_assert_str_eq(err.msg, msg[algo]);
    }
}
END_TEST

/* ---------------------------------------------------------------------------------------------------------- */
/* simproc */

static int fn_values(void *arg, double *out, int nout, errbuf *err)
{
    (void)err;
    double base = *(const double *)arg;
    for (int i = 0; i < nout; i++)
        out[i] = base * (i + 1);
    return 0;
}

static int fn_fails(void *arg, double *out, int nout, errbuf *err)
{
    (void)arg;
    (void)out;
    (void)nout;
    return errbuf_set(err, "child says: bad value '%s'", "x7");
}

static int fn_crashes(void *arg, double *out, int nout, errbuf *err)
{
    (void)arg;
    (void)out;
    (void)nout;
    (void)err;
    raise(SIGKILL);
    return 0;
}

/* Answers, then dies on the way out: its last flush of stdout goes to a pipe nobody reads (SIGPIPE). */
static int fn_dies_after_answer(void *arg, double *out, int nout, errbuf *err)
{
    (void)arg;
    (void)err;
    int p[2];
    if (pipe(p) != 0)
        return errbuf_set(err, "pipe failed");
    fflush(stdout);
    dup2(p[1], STDOUT_FILENO);
    close(p[0]);
    close(p[1]);
    signal(SIGPIPE, SIG_DFL);
    fputs("pending", stdout);                  /* no newline: flushed only at the child's end */
    for (int i = 0; i < nout; i++)
        out[i] = 1;
    return 0;
}

START_TEST(test_simproc)
{
    double base = 2.385, out[3] = { -1, -1, -1 };
    errbuf err = { "" };
    ck_assert_int_eq(simproc_run(fn_values, &base, out, 3, &err), 0);
    ck_assert_double_eq(out[0], 2.385);
    ck_assert_double_eq(out[2], 3 * 2.385);
    out[0] = -1;
    ck_assert_int_eq(simproc_run(fn_fails, &base, out, 3, &err), -1);
    ck_assert_str_eq(err.msg, "child says: bad value 'x7'");
    ck_assert_double_eq(out[0], -1);   /* untouched on failure */
    ck_assert_int_eq(simproc_run(fn_crashes, &base, out, 3, &err), -1);
    ck_assert_str_eq(err.msg, "simproc: simulation child killed by signal 9 (Killed)");
    ck_assert_int_eq(simproc_run(fn_values, &base, out, -1, &err), -1);
    ck_assert_str_eq(err.msg, "simproc: nout must be >= 0, got -1");
    out[0] = -1;                       /* a child that answers but does not exit 0 (valgrind's error exit code) */
    ck_assert_int_eq(simproc_run(fn_dies_after_answer, &base, out, 3, &err), -1);
    ck_assert_str_eq(err.msg, "simproc: simulation child killed by signal 13 (Broken pipe) after answering");
    ck_assert_double_eq(out[0], -1);
}
END_TEST

/* SWITCHSIM_SIMGRID_CFG reaches SimGrid: with CM02 (no latency or bandwidth factor) a single flow takes
 * lat + S / B. */
START_TEST(test_simgrid_cfg_env)
{
    const int dims[] = { 2 }, wrap[] = { 0 };
    const char *p = platform(1, dims, wrap);
    const double S = 2.385e6;
    double b[4] = { 0, S, 0, 0 };
    char cfg[512];   /* keep what the caller set (make sanitize: thread contexts) */
    const char *old = getenv("SWITCHSIM_SIMGRID_CFG");
    snprintf(cfg, sizeof cfg, "%s network/model:CM02", old != NULL ? old : "");
    ck_assert_int_eq(setenv("SWITCHSIM_SIMGRID_CFG", cfg, 1), 0);
    collbench_sim c = sim_cfg(p, 1, dims, wrap, b, COLL_A2A_DIRECT);
    double out[COLLBENCH_SIM_NOUT(1)];
    run_ok(&c, out);
    double expect = LAT + S / BW;
    ck_assert_double_eq_tol(out[COLLBENCH_SIM_T0], expect, RTOL * expect);
}
END_TEST

/* The platform writer leaves no file behind when it cannot write. */
START_TEST(test_platform_write_fail)
{
    const int dims[] = { 2, 2 }, wrap[] = { 0, 0 };
    errbuf err = { "" };
    ck_assert_int_eq(collbench_platform_write("/nonexistent/dir/p.xml", 2, dims, wrap, BW, LAT, &err), -1);
    ck_assert_str_eq(err.msg, "/nonexistent/dir/p.xml: cannot create temp file: No such file or directory");
    ck_assert_int_eq(access("/nonexistent/dir/p.xml", F_OK), -1);
}
END_TEST

/* The checks' platforms are the generator's: a tie on an even ring with an explicit route goes the way SimGrid's
 * TORUS cluster routes it (+ except from n/2 to 0, topologies/torus.c), the chip is the TPUv3 preset's, and a
 * line of L chips is the torus L x 1. */
START_TEST(test_platform_write_generator)
{
    const int dims[] = { 4, 3 }, wrap[] = { 1, 0 };
    const char *p = platform(2, dims, wrap);
    char buf[1 << 16];
    FILE *fp = fopen(p, "r");
    ck_assert_ptr_nonnull(fp);
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    ck_assert_ptr_nonnull(strstr(buf, "<route src=\"chip2\" dst=\"chip0\" symmetrical=\"NO\"><link_ctn id=\"chip2_x-\"/>"
                                      "<link_ctn id=\"chip1_x-\"/></route>"));
    ck_assert_ptr_nonnull(strstr(buf, "<route src=\"chip0\" dst=\"chip2\" symmetrical=\"NO\"><link_ctn id=\"chip0_x+\"/>"
                                      "<link_ctn id=\"chip1_x+\"/></route>"));
    ck_assert_ptr_nonnull(strstr(buf, "<prop id=\"bf16_flops_per_core\" value=\"6.160384e+13\"/>"));
    const int line[] = { 5 }, nowrap[] = { 0 };
    p = platform(1, line, nowrap);
    fp = fopen(p, "r");
    ck_assert_ptr_nonnull(fp);
    n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    ck_assert_ptr_nonnull(strstr(buf, "<prop id=\"torus\" value=\"5,1\"/>"));
}
END_TEST

/* ---------------------------------------------------------------------------------------------------------- */
/* fast timing (its agreement with the flows: tests/check_timer.c) */

/* Where two neighbour messages could share a link (a ring of two, a line of more than two) or the network model
 * has TCP's effects, the fast timing stays off and every all-to-all is simulated as flows. */
START_TEST(test_fast_refused)
{
    const struct {
        int ndims, dims[3], wrap[3], network;
    } T[] = {
        { 2, { 2, 2, 1 }, { 1, 1, 0 }, NETMODEL_HW },
        { 1, { 4, 1, 1 }, { 0, 0, 0 }, NETMODEL_HW },
        { 2, { 4, 4, 1 }, { 1, 1, 0 }, NETMODEL_LV08 },
        { 2, { 4, 4, 1 }, { 1, 1, 0 }, NETMODEL_CM02 },
    };
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
        const char *p = platform(T[i].ndims, T[i].dims, T[i].wrap);
        int n = T[i].dims[0] * T[i].dims[1] * T[i].dims[2];
        double *b = uniform(n, 4096.0);
        collbench_sim c = sim_cfg(p, T[i].ndims, T[i].dims, T[i].wrap, b, COLL_A2A_PHASED);
        c.network = T[i].network;
        c.fast = 1;
        double out[COLLBENCH_SIM_NOUT(1)];
        run_ok(&c, out);
        ck_assert_double_eq(out[COLLBENCH_SIM_FAST], 0.0);
        ck_assert_double_gt(out[COLLBENCH_SIM_T0], 0.0);
        free(b);
    }
}
END_TEST

static Suite *collectives_suite(void)
{
    Suite *s = suite_create("collectives");
    TCase *tc = tcase_create("sim");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_single_flow);
    tcase_add_test(tc, test_uniform_2x2);
    tcase_add_test(tc, test_bounds_uneven);
    tcase_add_test(tc, test_direct_4x4_bound);
    tcase_add_test(tc, test_allreduce_two);
    tcase_add_test(tc, test_allreduce_4x4);
    tcase_add_loop_test(tc, test_reject, 0, (int)(sizeof BAD / sizeof BAD[0]));
    tcase_add_test(tc, test_conservation_error);
    tcase_add_test(tc, test_simproc);
    tcase_add_test(tc, test_simgrid_cfg_env);
    tcase_add_test(tc, test_platform_write_fail);
    tcase_add_test(tc, test_platform_write_generator);
    tcase_add_test(tc, test_fast_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(collectives_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
