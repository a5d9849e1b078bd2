/* Check suite for sim/timer: one schedule per torus (phased all-to-alls of five kinds of matrix at three sizes, the
 * dimension-ring all-reduce and its halves, a barrier and begin/end marks around each) timed with the plan's
 * dataflow where it applies and with SimGrid flows everywhere: every item agrees; and the replay of identical
 * all-to-alls (by key and by hash), with the same times.  On GPU platforms (switched worlds), the rings, stage
 * blocks' hierarchical all-to-alls and point-to-point messages timed from their plans against SimGrid flows.  Every
 * simulation runs in its own child (simproc_run). */
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
#include "tests/fixtures.h"
#include "topologies/gpu.h"

#define BW 1.0e11          /* link bandwidth one way, B/s */
#define LAT 1.0e-6         /* link latency, s */
#define RTOL 1e-6          /* surf/precision is 1e-6 */
#define TICK 1e-9          /* surf/precision: the resolution of SimGrid's simulated times */
#define NMAT 5             /* matrix kinds */
#define NSCALE 3           /* sizes of each */
#define NRING 3            /* all-reduce, reduce-scatter, all-gather */
#define NITEM (NMAT * NSCALE + NRING)
enum { O_A2A_FAST = NITEM, O_RING_FAST, O_A2A_COUNT, O_REUSED, O_N };

static char tmpdir[64];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/check_timer_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Deterministic matrix kind k on n chips, x scale: 0 uniform 1 MiB, 1 high-entropy with zeros, 2 one hot destination
 * (10x), 3 sparse (5% of pairs), 4 latency-bound (64 B). */
static double *matrix(int k, int n, double scale)
{
    double *b = malloc((size_t)n * n * sizeof *b);
    ck_assert_ptr_nonnull(b);
    unsigned long x = 2385, y = 77;
    for (int i = 0; i < n * n; i++) {
        x = x * 6364136223846793005ul + 1442695040888963407ul;
        y = y * 6364136223846793005ul + 1442695040888963407ul;
        double u = (double)(x >> 11) / 9007199254740992.0, v = (double)(y >> 11) / 9007199254740992.0;
        b[i] = k == 0 ? 1048576.0 : k == 4 ? 64.0 : u < 0.1 ? 0.0 : (0.5 + u) * 1048576.0;
        if (k == 2 && i % n == 1)
            b[i] *= 10.0;
        if (k == 3 && v >= 0.05)
            b[i] = 0.0;
        b[i] *= scale;
    }
    return b;
}

typedef struct {
    const char *platform;
    int algo, fast, reuse;
    int replay_case;           /* 1: the replay list instead of the agreement list */
} trun;

/* Child: the platform under hw, the schedule (one chip = one core), the timer; out[i] = item i's span. */
static int trun_child(void *argp, double *out, int nout, errbuf *err)
{
    const trun *a = argp;
    cost_chip chip;
    platform_torus t;
    if (simfix_start_hw(a->platform, &chip, &t, err) != 0)
        return -1;
    int n = t.nchips, nitem = a->replay_case ? 5 : NITEM;
    sched *s = sched_alloc(n, 1, nitem);
    double *mats[NMAT * NSCALE] = { NULL };
    const double scale[NSCALE] = { 1.0, 1e-3, 7.0 };
    for (int i = 0; i < NMAT * NSCALE; i++)
        mats[i] = matrix(i / NSCALE, n, scale[i % NSCALE]);
    for (int i = 0; i < NMAT * NSCALE; i++) {
        sched_coll c = { .kind = SCHED_A2A, .bytes = mats[i], .key = -1 };
        if (a->replay_case)   /* items 0, 1, 2: the uniform matrix, by hash; 3, 4: the hot one, by key 9 */
            c = (sched_coll){ .kind = SCHED_A2A, .bytes = mats[i < 3 ? 1 : 7], .key = i < 3 ? -1 : 9 };
        if (i < nitem)
            ck_assert_int_eq(sched_coll_add(s, &c), i);
    }
    const sched_coll_kind ring[NRING] = { SCHED_ALLREDUCE, SCHED_REDUCESCATTER, SCHED_ALLGATHER };
    for (int i = 0; i < NRING && !a->replay_case; i++) {
        sched_coll c = { .kind = ring[i], .chip_bytes = 64.0 * 1048576.0 };
        ck_assert_int_eq(sched_coll_add(s, &c), NMAT * NSCALE + i);
    }
    for (int core = 0; core < n; core++) {
        sched_begin(s, core);
        for (int i = 0; i < nitem; i++) {
            sched_barrier_all(s, i, SCHED_FWD);
            sched_mark(s, SCHED_MARK_BEGIN, i, SCHED_FWD);
            sched_collective(s, i, i < NMAT * NSCALE ? SCHED_CAT_A2A : SCHED_CAT_ALLREDUCE, SCHED_N_A2A, i, SCHED_FWD);
            sched_mark(s, SCHED_MARK_END, i, SCHED_FWD);
        }
        ck_assert_int_eq(sched_end(s, err), 0);
    }
    ck_assert_int_eq(sched_nlists(s), 1);
    timer_cfg tc = { .s = s, .core_flops = 1e12, .a2a = (coll_a2a_algo)a->algo, .reuse = a->reuse,
                     .a2a_fast = a->fast };
    simfix_torus(&tc, &t);
    timer_result r;
    int rc = timer_run(&r, &tc, err);
    if (rc == 0 && nout == O_N) {
        for (int i = 0; i < NITEM; i++)
            out[i] = i < nitem ? r.lt1[(size_t)i * SCHED_N_PH + SCHED_FWD] - r.lt0[(size_t)i * SCHED_N_PH + SCHED_FWD]
                               : 0.0;
        out[O_A2A_FAST] = (double)r.a2a_fast;
        out[O_RING_FAST] = (double)r.ring_fast;
        out[O_A2A_COUNT] = (double)r.a2a_count;
        out[O_REUSED] = (double)r.a2a_reused;
    }
    timer_result_fini(&r);
    sched_free(s);
    for (int i = 0; i < NMAT * NSCALE; i++)
        free(mats[i]);
    return rc;
}

static void run_ok(trun *a, double *out)
{
    errbuf err = { "" };
    int rc = simproc_run(trun_child, a, out, O_N, &err);
    ck_assert_msg(rc == 0, "%s", err.msg);
}

static const char *platform(int ndims, const int *dims, const int *wrap)
{
    static char path[128];
    errbuf err = { "" };
    snprintf(path, sizeof path, "%s/p.xml", tmpdir);
    ck_assert_msg(collbench_platform_write(path, ndims, dims, wrap, BW, LAT, &err) == 0, "%s", err.msg);
    return path;
}

/* Tori where no two neighbour messages share a link: rings of 3 and more, lines of 2, in 1, 2 and 3 dims. */
static const struct {
    int ndims, dims[3], wrap[3];
} FAST_TORI[] = {
    { 1, { 3, 1, 1 }, { 1, 0, 0 } },   { 1, { 8, 1, 1 }, { 1, 0, 0 } },   { 2, { 4, 4, 1 }, { 1, 1, 0 } },
    { 2, { 6, 4, 1 }, { 1, 1, 0 } },   { 2, { 5, 3, 1 }, { 1, 1, 0 } },   { 2, { 8, 2, 1 }, { 1, 0, 0 } },
    { 3, { 4, 4, 4 }, { 1, 1, 1 } },   { 3, { 4, 3, 2 }, { 1, 1, 0 } },
};

/* On every such torus, both phased algorithms: one list timed fast (the all-to-alls from their plan; the dimension
 * rings too, except with a dimension of 2 chips, whose ring sends both ways over one link) and as flows; every
 * item agrees within 2% (the contract) and in fact within SimGrid's own precision (1e-6 relative, plus 1 ns per
 * ring step: its events' time resolution). */
START_TEST(test_fast_agrees)
{
    const int *dims = FAST_TORI[_i].dims;
    int two = dims[0] == 2 || dims[1] == 2 || dims[2] == 2;
    trun a = { .platform = platform(FAST_TORI[_i].ndims, dims, FAST_TORI[_i].wrap) };
    int steps = 4 * (dims[0] + dims[1] + dims[2]);   /* > the ring steps of any item */
    for (int algo = COLL_A2A_PHASED; algo <= COLL_A2A_PHASED_XY; algo++) {
        double out[2][O_N];
        a.algo = algo;
        for (int fast = 0; fast < 2; fast++) {
            a.fast = fast;
            run_ok(&a, out[fast]);
            ck_assert_double_eq(out[fast][O_A2A_COUNT], NMAT * NSCALE);
            ck_assert_double_eq(out[fast][O_A2A_FAST], fast ? NMAT * NSCALE : 0.0);
            ck_assert_double_eq(out[fast][O_RING_FAST], fast && !two ? NRING : 0.0);
        }
        for (int i = 0; i < NITEM; i++) {
            double full = out[0][i], fast = out[1][i];
            ck_assert_msg(full > 0.0 && fabs(fast - full) <= 0.02 * full, "torus %d algo %d item %d: fast %.9g s, "
                          "flows %.9g s", _i, algo, i, fast, full);
            ck_assert_msg(fabs(fast - full) <= RTOL * full + TICK * steps, "torus %d algo %d item %d: fast %.12g s, "
                          "flows %.12g s", _i, algo, i, fast, full);
        }
    }
}
END_TEST

/* Replay on a 4x4 torus: items 1 and 2 repeat item 0's matrix (found by its hash), item 4 repeats item 3's key:
 * 3 replays with the times of the first ones; without reuse every one is timed again, to the same times.  As
 * flows and fast. */
START_TEST(test_replay)
{
    const int dims[3] = { 4, 4, 1 }, wrap[3] = { 1, 1, 0 };
    trun a = { .platform = platform(2, dims, wrap), .algo = COLL_A2A_PHASED, .replay_case = 1 };
    for (int fast = 0; fast < 2; fast++)
        for (int reuse = 0; reuse < 2; reuse++) {
            double out[O_N];
            a.fast = fast;
            a.reuse = reuse;
            run_ok(&a, out);
            ck_assert_double_eq(out[O_A2A_COUNT], 5.0);
            ck_assert_double_eq(out[O_REUSED], reuse ? 3.0 : 0.0);
            ck_assert_double_eq(out[O_A2A_FAST], fast ? (reuse ? 2.0 : 5.0) : 0.0);
            ck_assert_double_gt(out[0], 0.0);
            ck_assert_double_gt(out[3], out[0]);     /* item 3's matrix has a hot destination */
            ck_assert_double_eq_tol(out[1], out[0], 1e-12 * out[0]);
            ck_assert_double_eq_tol(out[2], out[0], 1e-12 * out[0]);
            ck_assert_double_eq_tol(out[4], out[3], 1e-12 * out[3]);
        }
}
END_TEST

/* ---- a switched world (GPU nodes): rings, blocks' all-to-alls and point-to-point messages from their plans ---- */

enum { SW_AR, SW_RS, SW_AG, SW_AR_RAILS, SW_RS_PAIRS, SW_BLOCKS, SW_P2P, SW_N };
enum { SWO_RING_FAST = SW_N, SWO_A2A_FAST, SWO_N };
static const char *const SW_NAME[SW_N] = { "all-reduce", "reduce-scatter", "all-gather", "all-reduce per rail",
                                           "reduce-scatter per node pair", "blocks' all-to-all", "sends" };

typedef struct {
    const char *platform;
    int gpn, fast;
} swrun;

/* Child: a GPU platform under hw; one item of each kind, a global barrier before each, its span into out[i]. */
static int sw_child(void *argp, double *out, int nout, errbuf *err)
{
    const swrun *a = argp;
    cost_chip chip;
    platform_torus t;
    if (simfix_start_hw(a->platform, &chip, &t, err) != 0)
        return -1;
    int n = t.nchips, gpn = a->gpn, blk = 2 * gpn;
    long *rail = malloc((size_t)n * sizeof *rail), *pair = malloc((size_t)n * sizeof *pair);
    double *m = matrix(0, blk, 4.0);       /* 4 MiB a pair (skewed matrices: check_collhier) */
    ck_assert(rail != NULL && pair != NULL);
    for (int c = 0; c < n; c++) {
        rail[c] = c % gpn;
        pair[c] = c / blk;
    }
    sched_groups gr_rail, gr_pair;
    ck_assert_int_eq(sched_groups_init(&gr_rail, rail, n), 0);
    ck_assert_int_eq(sched_groups_init(&gr_pair, pair, n), 0);
    sched *s = sched_alloc(n, 1, SW_N);
    const sched_coll cs[] = {
        { .kind = SCHED_ALLREDUCE, .chip_bytes = 64e6 }, { .kind = SCHED_REDUCESCATTER, .chip_bytes = 64e6 },
        { .kind = SCHED_ALLGATHER, .chip_bytes = 64e6 },
        { .kind = SCHED_ALLREDUCE, .chip_bytes = 32e6, .groups = &gr_rail },
        { .kind = SCHED_REDUCESCATTER, .chip_bytes = 32e6, .groups = &gr_pair },
    };
    for (int i = 0; i < SW_BLOCKS; i++)
        ck_assert_int_eq(sched_coll_add(s, &cs[i]), i);
    for (int b = 0; b < n / blk; b++) {
        sched_coll c = { .kind = SCHED_A2A, .bytes = m, .key = -1, .base = b * blk, .n = blk };
        ck_assert_int_eq(sched_coll_add(s, &c), SW_BLOCKS + b);
    }
    for (int core = 0; core < n; core++) {
        sched_begin(s, core);
        for (int i = 0; i < SW_N; i++) {
            sched_barrier_all(s, i, SCHED_FWD);
            sched_mark(s, SCHED_MARK_BEGIN, i, SCHED_FWD);
            if (i < SW_BLOCKS)
                sched_collective(s, i, SCHED_CAT_ALLREDUCE, SCHED_N_ALLREDUCE, i, SCHED_FWD);
            else if (i == SW_BLOCKS)
                sched_collective(s, SW_BLOCKS + core / blk, SCHED_CAT_A2A, SCHED_N_A2A, i, SCHED_FWD);
            else if (core < n / 2) {       /* the first half sends 32 MB and then 8 MB to the GPU blk ranks on */
                sched_send(s, core + n / 2, 32e6, i, SCHED_FWD);
                sched_send(s, core + n / 2, 8e6, i, SCHED_FWD);
            } else {
                sched_recv(s, core - n / 2, i, SCHED_FWD);
                sched_recv(s, core - n / 2, i, SCHED_FWD);
            }
            sched_mark(s, SCHED_MARK_END, i, SCHED_FWD);
        }
        ck_assert_int_eq(sched_end(s, err), 0);
    }
    timer_cfg tc = { .s = s, .core_flops = 1e12, .ndims = 1, .dims = { n, 1, 1 }, .gpus_per_node = gpn,
                     .a2a = COLL_A2A_HIER, .reuse = 1, .a2a_fast = a->fast };
    timer_result r;
    int rc = timer_run(&r, &tc, err);
    if (rc == 0 && nout == SWO_N) {
        for (int i = 0; i < SW_N; i++)
            out[i] = r.lt1[(size_t)i * SCHED_N_PH + SCHED_FWD] - r.lt0[(size_t)i * SCHED_N_PH + SCHED_FWD];
        out[SWO_RING_FAST] = (double)r.ring_fast;
        out[SWO_A2A_FAST] = (double)r.a2a_fast;
    }
    timer_result_fini(&r);
    sched_free(s);
    sched_groups_fini(&gr_rail);
    sched_groups_fini(&gr_pair);
    free(rail);
    free(pair);
    free(m);
    return rc;
}

/* GPU platforms: nodes x GPUs, flat (npl 0) or rails in leaf groups of npl nodes, the spine oversubscribed. */
static const struct { int nodes, gpn, npl; double oversub; } SW_NETS[] = {
    { 2, 8, 0, 1 }, { 4, 4, 2, 1 }, { 4, 4, 1, 2 }, { 8, 2, 2, 1 },
};

/* Each item timed from its plan and as SimGrid flows: the rings, whose flows are even, agree to SimGrid's
 * precision (1e-6 relative, 1 ns an event), and so do the sends (two after each other from every GPU of the first
 * half, through a 2:1 spine on one platform); a block's hierarchical all-to-all (the plan) against its direct
 * flows (another algorithm: the same bytes per NIC with an even matrix) within 2%. */
START_TEST(test_switched_plan_agrees)
{
    char path[128];
    snprintf(path, sizeof path, "%s/gpu.xml", tmpdir);
    gpu_platform p;
    gpu_platform_init(&p, fixture_chip("h100"), SW_NETS[_i].gpn, SW_NETS[_i].nodes);
    if (SW_NETS[_i].npl > 0) {
        gpu_platform_set_rails(&p);
        p.nodes_per_leaf = SW_NETS[_i].npl;
        p.oversub = SW_NETS[_i].oversub;
    }
    FILE *fp = fopen(path, "w");
    errbuf err = { "" };
    ck_assert_ptr_nonnull(fp);
    ck_assert_msg(gpu_write_xml(fp, &p, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(fclose(fp), 0);
    double out[2][SWO_N];
    for (int fast = 0; fast < 2; fast++) {
        swrun a = { path, SW_NETS[_i].gpn, fast };
        ck_assert_msg(simproc_run(sw_child, &a, out[fast], SWO_N, &err) == 0, "%s", err.msg);
    }
    ck_assert_double_eq(out[0][SWO_RING_FAST], 0.0);
    ck_assert_double_eq(out[1][SWO_RING_FAST], SW_BLOCKS);
    ck_assert_double_eq(out[1][SWO_A2A_FAST], SW_NETS[_i].nodes / 2);
    int n = SW_NETS[_i].nodes * SW_NETS[_i].gpn;
    for (int i = 0; i < SW_N; i++) {
        double flows = out[0][i], plan = out[1][i];
        printf("switched %d x %d, leaf groups of %d, oversub %g: %s plan %.3f us, flows %.3f us (%+.4f%%)\n",
               SW_NETS[_i].nodes, SW_NETS[_i].gpn, SW_NETS[_i].npl, SW_NETS[_i].oversub, SW_NAME[i], plan * 1e6,
               flows * 1e6, 100 * (plan / flows - 1));
        double tol = i == SW_BLOCKS ? 0.02 * flows : RTOL * flows + TICK * 4 * n;
        ck_assert_msg(flows > 0.0 && fabs(plan - flows) <= tol, "net %d %s: plan %.12g s, flows %.12g s", _i,
                      SW_NAME[i], plan, flows);
    }
}
END_TEST

/* ---- a torus's group rings from SimGrid's routes ---- */

enum { GR_ROWS, GR_COLS, GR_STRIDE5, GR_PAIRS, GR_N };
static const char *const GR_NAME[GR_N] = { "rows", "columns", "every 5th chip", "pairs" };
enum { GRO_RING_FAST = 2 * GR_N, GRO_N };

typedef struct {
    const char *platform;
    int fast;
} grrun;

/* Child: a torus under hw; per grouping an all-reduce and a reduce-scatter of 16 MB over the groups, a global
 * barrier before each; out[2 i] and out[2 i + 1] their spans. */
static int gr_child(void *argp, double *out, int nout, errbuf *err)
{
    const grrun *a = argp;
    cost_chip chip;
    platform_torus t;
    if (simfix_start_hw(a->platform, &chip, &t, err) != 0)
        return -1;
    int n = t.nchips, X = t.dims[0];
    long *key = malloc((size_t)n * sizeof *key);
    sched_groups gr[GR_N];
    ck_assert_ptr_nonnull(key);
    for (int k = 0; k < GR_N; k++) {
        for (int c = 0; c < n; c++)
            key[c] = k == GR_ROWS ? c / X : k == GR_COLS ? c % X : k == GR_STRIDE5 ? c % 5 : c / 2;
        ck_assert_int_eq(sched_groups_init(&gr[k], key, n), 0);
    }
    sched *s = sched_alloc(n, 1, 2 * GR_N);
    for (int i = 0; i < 2 * GR_N; i++) {
        sched_coll c = { .kind = i % 2 ? SCHED_REDUCESCATTER : SCHED_ALLREDUCE, .chip_bytes = 16e6,
                         .groups = &gr[i / 2] };
        ck_assert_int_eq(sched_coll_add(s, &c), i);
    }
    for (int core = 0; core < n; core++) {
        sched_begin(s, core);
        for (int i = 0; i < 2 * GR_N; i++) {
            sched_barrier_all(s, i, SCHED_FWD);
            sched_mark(s, SCHED_MARK_BEGIN, i, SCHED_FWD);
            sched_collective(s, i, SCHED_CAT_ALLREDUCE, SCHED_N_ALLREDUCE, i, SCHED_FWD);
            sched_mark(s, SCHED_MARK_END, i, SCHED_FWD);
        }
        ck_assert_int_eq(sched_end(s, err), 0);
    }
    timer_cfg tc = { .s = s, .core_flops = 1e12, .a2a = COLL_A2A_PHASED, .reuse = 1,
                     .a2a_fast = a->fast };
    simfix_torus(&tc, &t);
    timer_result r;
    int rc = timer_run(&r, &tc, err);
    if (rc == 0 && nout == GRO_N) {
        for (int i = 0; i < 2 * GR_N; i++)
            out[i] = r.lt1[(size_t)i * SCHED_N_PH + SCHED_FWD] - r.lt0[(size_t)i * SCHED_N_PH + SCHED_FWD];
        out[GRO_RING_FAST] = (double)r.ring_fast;
    }
    timer_result_fini(&r);
    sched_free(s);
    for (int k = 0; k < GR_N; k++)
        sched_groups_fini(&gr[k]);
    free(key);
    return rc;
}

/* Tori for the group rings: rings, a mesh dimension of 2, a 3-D torus. */
static const struct {
    int ndims, dims[3], wrap[3];
} GR_TORI[] = {
    { 2, { 4, 4, 1 }, { 1, 1, 0 } }, { 2, { 8, 2, 1 }, { 1, 0, 0 } }, { 3, { 4, 4, 4 }, { 1, 1, 1 } },
    { 2, { 6, 4, 1 }, { 1, 1, 0 } },
};

/* Group rings timed from their routes against their flows.  Rows, columns and pairs: every link carries equal
 * loads, and the plan is the flows' time to SimGrid's precision.  Every 5th chip: rings of far-apart chips whose
 * routes share links unevenly.  The plan shares them max-min with one rate per group, held through the
 * collective; the flows re-share at every flow's end and the groups drift apart in their steps, so the two differ
 * (measured: -19% on 6x4, -4% to +10% elsewhere), within GR_SHARED_TOL. */
#define GR_SHARED_TOL 0.25
START_TEST(test_torus_group_rings)
{
    trun dummy = { .platform = platform(GR_TORI[_i].ndims, GR_TORI[_i].dims, GR_TORI[_i].wrap) };
    double out[2][GRO_N];
    errbuf err = { "" };
    for (int fast = 0; fast < 2; fast++) {
        grrun a = { dummy.platform, fast };
        ck_assert_msg(simproc_run(gr_child, &a, out[fast], GRO_N, &err) == 0, "%s", err.msg);
    }
    ck_assert_double_eq(out[0][GRO_RING_FAST], 0.0);
    ck_assert_double_eq(out[1][GRO_RING_FAST], 2 * GR_N);
    for (int i = 0; i < 2 * GR_N; i++) {
        double flows = out[0][i], plan = out[1][i];
        printf("torus %dx%dx%d, %s %s: plan %.3f us, flows %.3f us (%+.3f%%)\n", GR_TORI[_i].dims[0],
               GR_TORI[_i].dims[1], GR_TORI[_i].dims[2], GR_NAME[i / 2], i % 2 ? "reduce-scatter" : "all-reduce",
               plan * 1e6, flows * 1e6, 100 * (plan / flows - 1));
        double tol = i / 2 == GR_STRIDE5 ? GR_SHARED_TOL * flows : RTOL * flows + TICK * 8 * 64;
        ck_assert_msg(flows > 0.0 && fabs(plan - flows) <= tol, "torus %d %s: plan %.12g s, flows %.12g s", _i,
                      GR_NAME[i / 2], plan, flows);
    }
}
END_TEST

static Suite *timer_suite(void)
{
    Suite *s = suite_create("timer");
    TCase *tc = tcase_create("sim");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_fast_agrees, 0, (int)(sizeof FAST_TORI / sizeof FAST_TORI[0]));
    tcase_add_test(tc, test_replay);
    tcase_add_loop_test(tc, test_switched_plan_agrees, 0, (int)(sizeof SW_NETS / sizeof SW_NETS[0]));
    tcase_add_loop_test(tc, test_torus_group_rings, 0, (int)(sizeof GR_TORI / sizeof GR_TORI[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(timer_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
