/* check_collbench: sim/collbench ('switchsim collective'): the bounds in closed form, exact times of every op on
 * rings of 2 and 4 chips computed by hand, bus bandwidth of large all-reduces against the links, and no time
 * below its bound on rings, lines, meshes, 2-D and 3-D tori and GPU nodes.  Platforms come from the generators
 * (topologies/), as 'switchsim topology' writes them; every simulation runs in its own child (simproc_run).
 *
 * Expected times use the hw network model (sim/netmodel.h, the default of 'collective'): a flow over a route
 * starts after the sum of its links' latencies (x the latency factor, 1), then moves at its bottleneck's
 * bandwidth x the technology's bandwidth factor (ICI 1, NVLink 0.94, InfiniBand 0.99), shared max-min fairly;
 * no ACK cross-traffic. */
#include "sim/collbench.h"
#include "sim/simproc.h"
#include "topologies/gpu.h"
#include "topologies/torus.h"
#include "tests/fixtures.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RTOL 1e-6
#define BW 1.0e11            /* tpuv3 preset link, B/s one way */
#define LAT 1.0e-6           /* tpuv3 preset latency per hop */

static const double A_HOP = LAT;        /* ICI: latency factor 1 */
static const double B_EFF = BW;         /* ICI: bandwidth factor 1 */
#define NVLINK_BWF 0.94
#define NIC_BWF 0.99

static char tmpdir[64];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/check_collbench_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static int write_torus(FILE *fp, const void *arg, errbuf *err)
{
    return torus_write_xml(fp, arg, err);
}

static int write_gpu(FILE *fp, const void *arg, errbuf *err)
{
    return gpu_write_xml(fp, arg, err);
}

static const char *write_file(const char *name, int (*fn)(FILE *, const void *, errbuf *), const void *arg)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    errbuf err = { "" };
    ck_assert_msg(fn(fp, arg, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(fclose(fp), 0);
    return path;
}

/* A tpuv3 torus "2", "4", "3x4", ... with every dimension wrapped (all) or none. */
static const char *tpu_platform(const char *size, int wrap_all)
{
    torus_platform p = { .chip = fixture_chip("tpuv3") };
    ck_assert_int_eq(torus_parse(&p.shape, size, 'x'), 0);
    torus_set_wrap(&p.shape, wrap_all ? TORUS_WRAP_ALL : TORUS_WRAP_NONE, p.chip);
    p.link_Bps = p.chip->link_Bps;
    p.link_lat_s = p.chip->link_lat_s;
    ck_assert_double_eq(p.link_Bps, BW);
    ck_assert_double_eq(p.link_lat_s, LAT);
    return write_file("t.xml", write_torus, &p);
}

static const char *gpu_platform_file(int gpn, int nodes)
{
    gpu_platform p;
    gpu_platform_init(&p, fixture_chip("h200"), gpn, nodes);
    return write_file("g.xml", write_gpu, &p);
}

/* Runs op at sizes[0..n) and returns the out array (static, COLLBENCH_NOUT(8) at most). */
static const double *run(const char *plat, collbench_op op, coll_a2a_algo algo, int per_core, const double *sizes,
                         int n)
{
    static double out[COLLBENCH_NOUT(8)];
    ck_assert_int_le(n, 8);
    collbench_cfg c = { .platform = plat, .op = op, .algo = algo, .ranks_per_core = per_core, .sizes = sizes,
                        .nsizes = n, .network = NETMODEL_HW };
    errbuf err = { "" };
    int rc = simproc_run(collbench_run, &c, out, COLLBENCH_NOUT(n), &err);
    ck_assert_msg(rc == 0, "%s", err.msg);
    return out;
}

static double time_at(const double *out, int i)
{
    return out[COLLBENCH_HEAD + COLLBENCH_PER_SIZE * i + COLLBENCH_TIME_S];
}

static double bound_at(const double *out, int i)
{
    return out[COLLBENCH_HEAD + COLLBENCH_PER_SIZE * i + COLLBENCH_BOUND_S];
}

/* ---------------------------------------------------------------------------------------------------------- */

START_TEST(test_names_and_factors)
{
    collbench_op op;
    ck_assert_int_eq(collbench_op_parse(&op, "reduce-scatter"), 0);
    ck_assert_int_eq(op, COLLBENCH_REDUCESCATTER);
    ck_assert_str_eq(collbench_op_name(op), "reduce-scatter");
    ck_assert_int_eq(collbench_op_parse(&op, "allreduce"), -1);
    ck_assert_double_eq_tol(collbench_bus_factor(COLLBENCH_ALLREDUCE, 8), 1.75, 1e-15);
    ck_assert_double_eq_tol(collbench_bus_factor(COLLBENCH_A2A, 8), 0.875, 1e-15);
    ck_assert_double_eq_tol(collbench_bus_factor(COLLBENCH_ALLGATHER, 2), 0.5, 1e-15);
    ck_assert_double_eq(collbench_bus_factor(COLLBENCH_REDUCESCATTER, 1), 0.0);
}
END_TEST

/* Bounds by hand.  Ring of 4 (two links out per chip), S = 3.7e8:
 * all-reduce injection 2(3/4) S / 2B = 0.75 S/B, cut S / 2B: injection binds;
 * all-to-all pair p = S/4: injection 3p / 2B = 0.375 S/B, mid cut 2 x 2 pairs = S over 2 links: 0.5 S/B (bisection);
 * all-gather: injection (3/4) S / 2B = 0.375 S/B, cut (2/4) S / 2B = 0.25 S/B.
 * 4x4 mesh (no wrap), a rank per core (2): a corner chip has 2 links; all-to-all p = 2S/16, mid cut of x:
 * 8 x 8 pairs over 4 links = 2 S/B.  GPU 2 nodes of 4: node egress 4 NICs; all-reduce S / (4 nic). */
START_TEST(test_bound_closed_form)
{
    const double S = 3.7e8;
    platform_torus ring = { .family = COST_FAMILY_TPU, .ndims = 2, .dims = { 4, 1, 1 }, .wrap = { 1, 0, 0 },
                            .nchips = 4, .link_Bps = BW };
    collbench_bound_kind k;
    ck_assert_double_eq_tol(collbench_bound(&k, COLLBENCH_ALLREDUCE, &ring, 1, S), 0.75 * S / BW, 1e-12);
    ck_assert_int_eq(k, COLLBENCH_BOUND_INJECTION);
    ck_assert_double_eq_tol(collbench_bound(&k, COLLBENCH_A2A, &ring, 1, S), 0.5 * S / BW, 1e-12);
    ck_assert_int_eq(k, COLLBENCH_BOUND_BISECTION);
    ck_assert_double_eq_tol(collbench_bound(&k, COLLBENCH_ALLGATHER, &ring, 1, S), 0.375 * S / BW, 1e-12);
    ck_assert_double_eq_tol(collbench_bound(&k, COLLBENCH_REDUCESCATTER, &ring, 1, S), 0.375 * S / BW, 1e-12);
    ck_assert_int_eq(k, COLLBENCH_BOUND_INJECTION);
    platform_torus two = ring;
    two.dims[0] = 2;
    two.nchips = 2;
    ck_assert_double_eq_tol(collbench_bound(&k, COLLBENCH_ALLREDUCE, &two, 1, S), S / BW, 1e-12);   /* one link */
    platform_torus mesh = { .family = COST_FAMILY_TPU, .ndims = 2, .dims = { 4, 4, 1 }, .nchips = 16,
                            .link_Bps = BW };
    ck_assert_double_eq_tol(collbench_bound(&k, COLLBENCH_A2A, &mesh, 2, S), 2.0 * S / BW, 1e-12);
    ck_assert_int_eq(k, COLLBENCH_BOUND_BISECTION);
    platform_torus gpu = { .family = COST_FAMILY_GPU, .ndims = 1, .dims = { 8, 1, 1 }, .nchips = 8,
                           .link_Bps = 4.5e11, .gpus_per_node = 4, .nodes = 2, .nic_Bps = 5e10 };
    ck_assert_double_eq_tol(collbench_bound(&k, COLLBENCH_ALLREDUCE, &gpu, 1, S), S / (4 * 5e10), 1e-12);
    ck_assert_int_eq(k, COLLBENCH_BOUND_NODE);
    platform_torus one = ring;
    one.dims[0] = 1;
    one.nchips = 1;
    ck_assert_double_eq(collbench_bound(&k, COLLBENCH_ALLREDUCE, &one, 1, S), 0.0);
}
END_TEST

/* Ring of 2 (one link each way), buffer S:
 * all-reduce: reduce-scatter then all-gather, each one step of two flows of S/4 (to next and to previous: the
 * same chip) on the one link: 2 (a + (S/2)/B');  reduce-scatter, all-gather: a + (S/2)/B';
 * all-to-all (pair S/2): phased, a tie at distance 1 split half each way: two flows of S/4, a + (S/2)/B';
 * direct: one flow of S/2 each way, a + (S/2)/B'. */
START_TEST(test_ring2_exact)
{
    const char *p = tpu_platform("2", 1);
    const double sizes[] = { 2.385e6, 4.77e7 };
    for (int i = 0; i < 2; i++) {
        double S = sizes[i], one = A_HOP + S / 2 / B_EFF;
        const struct { collbench_op op; coll_a2a_algo algo; double expect; } R[] = {
            { COLLBENCH_ALLREDUCE, COLL_A2A_AUTO, 2 * one }, { COLLBENCH_REDUCESCATTER, COLL_A2A_AUTO, one },
            { COLLBENCH_ALLGATHER, COLL_A2A_AUTO, one },     { COLLBENCH_A2A, COLL_A2A_PHASED, one },
            { COLLBENCH_A2A, COLL_A2A_DIRECT, one },
        };
        for (size_t j = 0; j < sizeof R / sizeof R[0]; j++) {
            const double *out = run(p, R[j].op, R[j].algo, 0, sizes, 2);
            ck_assert_double_eq(out[COLLBENCH_NCHIPS], 2);
            ck_assert_double_eq(out[COLLBENCH_NRANKS], 2);
            ck_assert_msg(fabs(time_at(out, i) - R[j].expect) <= RTOL * R[j].expect, "%s: %.9g s, expected %.9g s",
                          collbench_op_name(R[j].op), time_at(out, i), R[j].expect);
        }
    }
}
END_TEST

/* Ring of 4, buffer S: every ring step is one flow of S/8 per link direction, with the reverse direction busy.
 * all-reduce 3 + 3 steps: 6 (a + (S/8)/B'); reduce-scatter, all-gather 3 (a + (S/8)/B').
 * all-to-all phased, pair p = S/4: step 1 sends p (distance 1) + p/2 (half of the tie at distance 2) each way,
 * step 2 forwards the p/2: 2a + 2p/B'.  A rank per core (2 per chip) moves the same chip bytes: same times. */
START_TEST(test_ring4_exact)
{
    const char *p = tpu_platform("4", 1);
    const double sizes[] = { 9.54e6 };
    double S = sizes[0], step = A_HOP + S / 8 / B_EFF;
    const struct { collbench_op op; double expect; } R[] = {
        { COLLBENCH_ALLREDUCE, 6 * step }, { COLLBENCH_REDUCESCATTER, 3 * step }, { COLLBENCH_ALLGATHER, 3 * step },
        { COLLBENCH_A2A, 2 * A_HOP + 2 * (S / 4) / B_EFF },
    };
    for (int per_core = 0; per_core <= 1; per_core++)
        for (size_t j = 0; j < sizeof R / sizeof R[0]; j++) {
            double s = R[j].op == COLLBENCH_A2A && per_core ? S / 2 : S;   /* a2a: per-rank buffer, 2 ranks a chip */
            const double *out = run(p, R[j].op, COLL_A2A_AUTO, per_core, &s, 1);
            ck_assert_double_eq(out[COLLBENCH_NRANKS], per_core ? 8 : 4);
            ck_assert_double_eq(out[COLLBENCH_ALGO], R[j].op == COLLBENCH_A2A ? COLL_A2A_PHASED : COLL_A2A_AUTO);
            ck_assert_msg(fabs(time_at(out, 0) - R[j].expect) <= RTOL * R[j].expect, "%s: %.9g s, expected %.9g s",
                          collbench_op_name(R[j].op), time_at(out, 0), R[j].expect);
        }
}
END_TEST

/* Large all-reduces on rings: bus bandwidth approaches what the links give a chip (one link each way on a
 * ring of 2, two on longer rings), within 1% (ring steps pay latencies); a small one is latency-bound. */
START_TEST(test_busbw_ring)
{
    const char *sizes_s[] = { "2", "8" };
    for (int i = 0; i < 2; i++) {
        const char *p = tpu_platform(sizes_s[i], 1);
        int n = atoi(sizes_s[i]);
        const double sizes[] = { 4096.0, 1073741824.0 };
        const double *out = run(p, COLLBENCH_ALLREDUCE, COLL_A2A_AUTO, 0, sizes, 2);
        double links = n == 2 ? 1.0 : 2.0;
        double busbw = sizes[1] / time_at(out, 1) * collbench_bus_factor(COLLBENCH_ALLREDUCE, n);
        ck_assert_double_le(busbw, links * BW);
        ck_assert_double_ge(busbw, 0.99 * links * BW);
        double small = sizes[0] / time_at(out, 0) * collbench_bus_factor(COLLBENCH_ALLREDUCE, n);
        ck_assert_double_lt(small, 0.1 * links * BW);
    }
}
END_TEST

/* No simulated time below its bound: every op, sizes 1 KiB to 64 MiB, on a ring, a line, a 3x4 mesh, a 4x4
 * torus, a 2x2x2 3-D torus (a rank per core), one GPU node and two nodes of four. */
START_TEST(test_never_below_bound)
{
    static const struct { const char *size; int wrap; int gpn, nodes; } P[] = {
        { "4", 1, 0, 0 }, { "5", 0, 0, 0 }, { "3x4", 0, 0, 0 }, { "4x4", 1, 0, 0 }, { "2x2x2", 1, 0, 0 },
        { NULL, 0, 8, 1 }, { NULL, 0, 4, 2 },
    };
    const double sizes[] = { 1024.0, 32768.0, 1048576.0, 67108864.0 };
    for (size_t i = 0; i < sizeof P / sizeof P[0]; i++) {
        const char *p = P[i].size ? tpu_platform(P[i].size, P[i].wrap) : gpu_platform_file(P[i].gpn, P[i].nodes);
        for (int op = COLLBENCH_A2A; op <= COLLBENCH_REDUCESCATTER; op++)
            for (int algo = 0; algo < (op == COLLBENCH_A2A ? 3 : 1); algo++) {
                coll_a2a_algo a = op != COLLBENCH_A2A ? COLL_A2A_AUTO : (coll_a2a_algo)algo;
                if (P[i].size == NULL && op == COLLBENCH_A2A && a != COLL_A2A_DIRECT)
                    continue;   /* GPU platforms: direct only */
                const double *out = run(p, (collbench_op)op, a, P[i].size != NULL && i == 4, sizes, 4);
                for (int s = 0; s < 4; s++) {
                    ck_assert_double_gt(bound_at(out, s), 0.0);
                    ck_assert_msg(time_at(out, s) >= bound_at(out, s), "%s %s algo %d size %g: %g s < bound %g s",
                                  P[i].size ? P[i].size : "gpu", collbench_op_name((collbench_op)op), (int)a,
                                  sizes[s], time_at(out, s), bound_at(out, s));
                }
            }
    }
}
END_TEST

/* GPU links under hw, direct all-to-all of S per rank (pair p = S/n).  One node of 8: each GPU's 7 flows share
 * its NVLink up (and each destination's down), route latency 2 x nvlink_lat: 2 lat + 7p / (0.94 NVLink).
 * Two nodes of 4: a GPU's 4 flows to the other node share its NIC up; the 3 in its node finish earlier on
 * NVLink: 2 nic_lat + 4p / (0.99 NIC).  LV08 on the same files is slower (its 13x latency, 0.97, ACKs). */
START_TEST(test_gpu_factors)
{
    const chip_spec *h = fixture_chip("h200");
    const double sizes[] = { 6.4e7 };
    const double *out = run(gpu_platform_file(8, 1), COLLBENCH_A2A, COLL_A2A_AUTO, 0, sizes, 1);
    double p = sizes[0] / 8, expect = 2 * h->nvlink_lat_s + 7 * p / (NVLINK_BWF * h->nvlink_Bps);
    ck_assert_msg(fabs(time_at(out, 0) - expect) <= RTOL * expect, "8 GPUs: %.9g s, expected %.9g", time_at(out, 0),
                  expect);
    out = run(gpu_platform_file(4, 2), COLLBENCH_A2A, COLL_A2A_AUTO, 0, sizes, 1);
    expect = 2 * h->nic_lat_s + 4 * p / (NIC_BWF * h->nic_Bps);
    ck_assert_msg(fabs(time_at(out, 0) - expect) <= RTOL * expect, "2x4 GPUs: %.9g s, expected %.9g",
                  time_at(out, 0), expect);
    collbench_cfg c = { .platform = gpu_platform_file(4, 2), .op = COLLBENCH_A2A, .sizes = sizes, .nsizes = 1,
                        .network = NETMODEL_LV08 };
    double lv[COLLBENCH_NOUT(1)];
    errbuf err = { "" };
    ck_assert_msg(simproc_run(collbench_run, &c, lv, COLLBENCH_NOUT(1), &err) == 0, "%s", err.msg);
    ck_assert_double_gt(time_at(lv, 0), 1.01 * expect);
}
END_TEST

/* Refusals: exact messages. */
START_TEST(test_refuse)
{
    const char *p = gpu_platform_file(8, 1);
    const double sizes[] = { 1024.0 };
    double out[COLLBENCH_NOUT(1)];
    collbench_cfg c = { .platform = p, .op = COLLBENCH_A2A, .algo = COLL_A2A_PHASED, .sizes = sizes, .nsizes = 1 };
    errbuf err = { "" };
    ck_assert_int_eq(simproc_run(collbench_run, &c, out, COLLBENCH_NOUT(1), &err), -1);
    char want[512];
    snprintf(want, sizeof want, "--algo phased is the torus all-to-all (neighbour ring steps); %s is a GPU platform, "
             "where it is hier or direct", p);
    ck_assert_str_eq(err.msg, want);
    c.platform = "topologies/tpuv3-16x16.xml";
    c.algo = COLL_A2A_DIRECT;
    ck_assert_int_eq(simproc_run(collbench_run, &c, out, COLLBENCH_NOUT(1), &err), -1);
    ck_assert_str_eq(err.msg, "--algo direct: 256 chips is 65280 flows per size, beyond what SimGrid simulates in "
                              "reasonable time (its cost grows about as chips^4.5); direct runs on at most 128 chips");
    ck_assert_int_eq(collbench_run(&c, out, 3, &err), -1);
    ck_assert_str_eq(err.msg, "collbench: nsizes must be >= 1 and nout 9, got nsizes 1 nout 3");
}
END_TEST

static Suite *collbench_suite(void)
{
    Suite *s = suite_create("collbench");
    TCase *tc = tcase_create("collbench");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_names_and_factors);
    tcase_add_test(tc, test_bound_closed_form);
    tcase_add_test(tc, test_ring2_exact);
    tcase_add_test(tc, test_ring4_exact);
    tcase_add_test(tc, test_busbw_ring);
    tcase_add_test(tc, test_never_below_bound);
    tcase_add_test(tc, test_gpu_factors);
    tcase_add_test(tc, test_refuse);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(collbench_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
