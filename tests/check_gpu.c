/* check_gpu: GPU platforms end to end.  topologies/gpu (presets, routes, the generator's checks), the generated
 * XML through SimGrid (every route link by link: one node = the two GPUs' NVLink links, across nodes = the two
 * GPUs' NIC links and never NVLink), sim/platform on family gpu (read-back equals the preset, bad files with
 * exact messages), the collectives on a switched world (closed-form times) and whole engine steps on 1, 8 and
 * 2x4 GPUs.  Check forks each test: one SimGrid engine per test. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <simgrid/engine.h>
#include <simgrid/host.h>
#include <simgrid/link.h>
#include <xbt/dynar.h>

#include "sim/collbench.h"
#include "sim/collectives.h"
#include "sim/engine.h"
#include "sim/platform.h"
#include "sim/simproc.h"
#include "tests/fixtures.h"
#include "tests/fixture_engine.h"
#include "topologies/gpu.h"

#define D "tests/data/"
#define RTOL 1e-6          /* surf/precision is 1e-6 */

static char tmpdir[64];
static char tmpxml[128];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/check_gpu.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(tmpxml, sizeof tmpxml, "%s/p.xml", tmpdir);
}

static void teardown(void)
{
    unlink(tmpxml);
    rmdir(tmpdir);
}

/* Writes p to tmpxml and checks the text. */
static void write_platform(const gpu_platform *p)
{
    FILE *fp = fopen(tmpxml, "w");
    ck_assert_ptr_nonnull(fp);
    errbuf err = { "" };
    ck_assert_msg(gpu_write_xml(fp, p, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(fclose(fp), 0);
    ck_assert_msg(platform_precheck(tmpxml, &err) == 0, "%s", err.msg);
}

static sg_host_t chip_host(int r)
{
    char name[32];
    snprintf(name, sizeof name, "chip%d", r);
    sg_host_t h = sg_host_by_name(name);
    ck_assert_ptr_nonnull(h);
    return h;
}

/* ---- presets and the pure routes ---- */

START_TEST(test_route_pure)
{
    gpu_platform p;
    gpu_platform_init(&p, fixture_chip("h200"), 8, 4);
    ck_assert_int_eq(gpu_nchips(&p), 32);
    gpu_link l[2];
    char a[48], b[48];
    ck_assert_int_eq(gpu_route(l, &p, 5, 5), 0);
    ck_assert_int_eq(gpu_route(l, &p, 3, 6), 2);          /* node 0 */
    gpu_link_name(a, sizeof a, l[0]);
    gpu_link_name(b, sizeof b, l[1]);
    ck_assert_str_eq(a, "chip3_nvlink_up");
    ck_assert_str_eq(b, "chip6_nvlink_down");
    ck_assert_int_eq(gpu_route(l, &p, 7, 8), 2);          /* node 0 -> node 1 */
    gpu_link_name(a, sizeof a, l[0]);
    gpu_link_name(b, sizeof b, l[1]);
    ck_assert_str_eq(a, "chip7_nic_up");
    ck_assert_str_eq(b, "chip8_nic_down");
}
END_TEST

/* The rail form, 4 nodes of 2 GPUs in leaf groups of 2, by hand: in a node NVLink; within a group NIC up, the
 * source node's leaf link, NIC down; between groups NIC up, the source node's leaf link, group 0's uplink, group
 * 1's downlink, the destination node's leaf link, NIC down.
 * A group's uplinks: 2 nodes x 2 rails x 50 GB/s / oversub 2 = 100 GB/s; the last, partial group's its own. */
START_TEST(test_route_pure_rails)
{
    gpu_platform p;
    gpu_platform_init(&p, fixture_chip("h100"), 2, 5);
    gpu_platform_set_rails(&p);
    ck_assert_int_eq(p.rails, 2);
    ck_assert_int_eq(p.nodes_per_leaf, 5);                 /* fewer nodes than a leaf takes: one group */
    ck_assert_int_eq(gpu_leaf_groups(&p), 1);
    p.nodes_per_leaf = 2;
    p.oversub = 2;
    ck_assert_int_eq(gpu_leaf_groups(&p), 3);
    ck_assert_double_eq(gpu_leaf_uplink_Bps(&p, 0), 1e11);
    ck_assert_double_eq(gpu_leaf_uplink_Bps(&p, 2), 5e10);  /* node 4 alone */
    gpu_link l[GPU_ROUTE_MAX];
    char name[48];
    static const struct { int src, dst, n; const char *links[GPU_ROUTE_MAX]; } R[] = {
        { 0, 1, 2, { "chip0_nvlink_up", "chip1_nvlink_down" } },
        { 1, 2, 3, { "chip1_nic_up", "node0_fabric", "chip2_nic_down" } },
        { 3, 4, 6, { "chip3_nic_up", "node1_fabric", "leaf0_spine_up", "leaf1_spine_down", "node2_fabric",
                     "chip4_nic_down" } },
        { 9, 0, 6, { "chip9_nic_up", "node4_fabric", "leaf2_spine_up", "leaf0_spine_down", "node0_fabric",
                     "chip0_nic_down" } },
        { 7, 7, 0, { NULL } },
    };
    for (size_t i = 0; i < sizeof R / sizeof R[0]; i++) {
        ck_assert_int_eq(gpu_route(l, &p, R[i].src, R[i].dst), R[i].n);
        for (int k = 0; k < R[i].n; k++) {
            gpu_link_name(name, sizeof name, l[k]);
            ck_assert_str_eq(name, R[i].links[k]);
        }
    }
}
END_TEST

static const struct {
    int rails, npl;
    double oversub, spine_lat_s;
    int nodes;
    const char *msg;
} RAILS_BAD[] = {
    { 4, 2, 1, 0, 4, "gpu platform: rails must equal GPUs per node (GPU i of every node on rail i), got 4 rails for 8 "
                     "GPUs per node" },
    { 8, 0, 1, 0, 4, "gpu platform: nodes per leaf must be in [1, 64], got 0" },
    { 8, 1, 1, 0, 129, "gpu platform: 129 nodes in leaf groups of 1 is 129 groups, at most 128 (the spine routes "
                       "every pair of groups)" },
    { 8, 2, 0.9, 0, 4, "gpu platform: oversubscription must be in [1, 64], got 0.9" },
    { 8, 2, NAN, 0, 4, "gpu platform: oversubscription must be in [1, 64], got nan" },
    { 8, 2, 1, -1, 4, "gpu platform: spine latency must be >= 0 s, got -1" },
    { 8, 2, 1, 0, 513, "513 nodes x 8 GPUs = 4104 GPUs, but a rail-optimised GPU platform may have at most 4096" },
};

START_TEST(test_check_bad_rails)
{
    gpu_platform p;
    gpu_platform_init(&p, fixture_chip("h200"), 8, RAILS_BAD[_i].nodes);
    gpu_platform_set_rails(&p);
    p.rails = RAILS_BAD[_i].rails;
    p.nodes_per_leaf = RAILS_BAD[_i].npl;
    p.oversub = RAILS_BAD[_i].oversub;
    p.spine_lat_s = RAILS_BAD[_i].spine_lat_s;
    errbuf err = { "" };
    ck_assert_int_eq(gpu_platform_check(&p, &err), -1);
    ck_assert_str_eq(err.msg, RAILS_BAD[_i].msg);
}
END_TEST

static const struct {
    int gpn, nodes;
    double nvlink_Bps, nic_Bps, nvlink_lat_s, nic_lat_s;
    const char *msg;
} CHECK_BAD[] = {
    { 0, 1, 1, 1, 0, 0, "gpu platform: GPUs per node must be in [1, 8], got 0" },
    { 9, 1, 1, 1, 0, 0, "gpu platform: GPUs per node must be in [1, 8], got 9" },
    { 8, 0, 1, 1, 0, 0, "gpu platform: nodes must be in [1, 256], got 0" },
    { 8, 33, 1, 1, 0, 0, "33 nodes x 8 GPUs = 264 GPUs, but a GPU platform (explicit routes) may have at most 256 "
                           "(--rails writes a fat tree of up to 4096)" },
    { 8, 2, -4.5e11, 1, 0, 0, "gpu platform: NVLink bandwidth must be > 0 B/s, got -4.5e+11" },
    { 8, 2, 1, NAN, 0, 0, "gpu platform: NIC bandwidth must be > 0 B/s, got nan" },
    { 8, 2, 1, 1, -1e-6, 0, "gpu platform: NVLink latency must be >= 0 s, got -1e-06" },
    { 8, 2, 1, 1, 0, INFINITY, "gpu platform: NIC latency must be >= 0 s, got inf" },
};

START_TEST(test_check_bad)
{
    gpu_platform p = { .chip = fixture_chip("h100"), .gpus_per_node = CHECK_BAD[_i].gpn,
                       .nodes = CHECK_BAD[_i].nodes, .nvlink_Bps = CHECK_BAD[_i].nvlink_Bps,
                       .nic_Bps = CHECK_BAD[_i].nic_Bps, .nvlink_lat_s = CHECK_BAD[_i].nvlink_lat_s,
                       .nic_lat_s = CHECK_BAD[_i].nic_lat_s };
    errbuf err = { "" };
    ck_assert_int_eq(gpu_platform_check(&p, &err), -1);
    ck_assert_str_eq(err.msg, CHECK_BAD[_i].msg);
    FILE *fp = fopen("/dev/null", "w");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(gpu_write_xml(fp, &p, &err), -1);    /* the writer checks first and writes nothing */
    fclose(fp);
    p.chip = NULL;
    ck_assert_int_eq(gpu_platform_check(&p, &err), -1);
    ck_assert_str_eq(err.msg, "gpu platform: no chip preset");
}
END_TEST

/* ---- generated platforms through SimGrid ---- */

static const struct {
    const char *chip;
    int gpn, nodes;
    int npl;                /* > 0: the rail form, leaf groups of npl nodes */
    double oversub;
} SHAPES[] = {
    { "h200", 1, 1, 0, 0 }, { "h200", 8, 1, 0, 0 }, { "h100", 4, 3, 0, 0 }, { "h200", 8, 4, 0, 0 },
    { "h100", 1, 5, 0, 0 }, { "h200", 3, 2, 0, 0 },
    { "h100", 2, 2, 32, 1 }, { "h200", 2, 5, 2, 2 }, { "h100", 8, 4, 1, 4 }, { "h200", 1, 3, 2, 1.5 },
    { "h100", 4, 2, 2, 1 },
};

/* p as SHAPES[i] says: the flat form, or the rail form with its groups and oversubscription. */
static void shape_init(gpu_platform *p, int i)
{
    gpu_platform_init(p, fixture_chip(SHAPES[i].chip), SHAPES[i].gpn, SHAPES[i].nodes);
    if (SHAPES[i].npl > 0) {
        gpu_platform_set_rails(p);
        p->nodes_per_leaf = SHAPES[i].npl;
        p->oversub = SHAPES[i].oversub;
    }
}

/* Every ordered pair: SimGrid's route is exactly gpu_route's links (the loopback for a GPU to itself); in
 * one node the two NVLink links (the NVSwitch crossed once), across nodes the two NICs (with, in the rail form,
 * the leaves and, between groups, the spine links) and never NVLink; and each link has the bandwidth and
 * latency of its kind.  The rail form has exactly its links: 5 per GPU (NVLink and NIC pairs, loopback), a leaf
 * per group and, with 2+ groups, 2 spine links per group. */
START_TEST(test_routes_simgrid)
{
    gpu_platform p;
    shape_init(&p, _i);
    p.nvlink_Bps = 3.85e11;                  /* not the defaults: the options must reach the links */
    p.nic_lat_s = 2.385e-6;
    p.spine_lat_s = 0.715e-6;
    write_platform(&p);
    simproc_simgrid_init(NULL, NULL);
    simgrid_load_platform(tmpxml);
    int n = gpu_nchips(&p);
    ck_assert_uint_eq(sg_host_count(), (size_t)n);
    if (p.rails > 0) {
        size_t nlinks = sg_link_count(), ours = 0;
        sg_link_t *all = sg_link_list();
        for (size_t i = 0; i < nlinks; i++)
            ours += strncmp(sg_link_get_name(all[i]), "__", 2) != 0;   /* not SimGrid's own loopback */
        free(all);
        int groups = gpu_leaf_groups(&p);
        /* per GPU 4 links and a loopback, per node its leaf link, per group 2 spine links when there are groups */
        ck_assert_uint_eq(ours, (size_t)(5 * n + p.nodes + groups * (groups > 1 ? 2 : 0)));
    }
    gpu_link want[GPU_ROUTE_MAX];
    char name[48], self[48];
    for (int s = 0; s < n; s++)
        for (int d = 0; d < n; d++) {
            xbt_dynar_t links = xbt_dynar_new(sizeof(sg_link_t), NULL);
            sg_host_get_route(chip_host(s), chip_host(d), links);
            int nl = gpu_route(want, &p, s, d);
            if (s == d) {
                ck_assert_uint_eq(xbt_dynar_length(links), 1);
                snprintf(self, sizeof self, "chip%d_loopback", s);
                ck_assert_str_eq(sg_link_get_name(xbt_dynar_get_as(links, 0, sg_link_t)), self);
                xbt_dynar_free(&links);
                continue;
            }
            ck_assert_uint_eq(xbt_dynar_length(links), (unsigned long)nl);
            int same_node = s / p.gpus_per_node == d / p.gpus_per_node;
            ck_assert_int_eq(nl, same_node || p.rails == 0 ? 2
                                 : s / p.gpus_per_node / p.nodes_per_leaf == d / p.gpus_per_node / p.nodes_per_leaf
                                 ? 3 : 6);
            for (int i = 0; i < nl; i++) {
                sg_link_t l = xbt_dynar_get_as(links, i, sg_link_t);
                gpu_link_name(name, sizeof name, want[i]);
                ck_assert_str_eq(sg_link_get_name(l), name);
                ck_assert_int_eq(strstr(sg_link_get_name(l), "nvlink") != NULL, same_node);
                if (i == 0 || i == nl - 1) {
                    ck_assert_int_eq(strstr(sg_link_get_name(l), "_nic_") != NULL, !same_node);
                    ck_assert_int_eq(atoi(sg_link_get_name(l) + 4), i == 0 ? s : d);   /* src's up, dst's down */
                }
                double bw = same_node ? p.nvlink_Bps : p.nic_Bps, lat = same_node ? p.nvlink_lat_s : p.nic_lat_s;
                if (want[i].kind == GPU_SPINE_UP || want[i].kind == GPU_SPINE_DOWN) {
                    bw = gpu_leaf_uplink_Bps(&p, want[i].gpu);
                    lat = p.spine_lat_s;
                } else if (want[i].kind == GPU_LEAF) {
                    /* FATPIPE, one per node: all its group's NICs */
                    bw = gpu_leaf_uplink_Bps(&p, want[i].gpu / p.nodes_per_leaf) * p.oversub;
                    lat = 0;
                }
                ck_assert_double_eq_tol(sg_link_get_bandwidth(l), bw, 1e-9 * bw);
                ck_assert_double_eq_tol(sg_link_get_latency(l), lat, 1e-15);
            }
            xbt_dynar_free(&links);
        }
}
END_TEST

/* c, read from a platform, equals the cost model's own defaults for its chip (sim/cost.c): the generator and
 * the cost model describe the same GPU. */
static void assert_cost_defaults(const cost_chip *c)
{
    cost_chip d;
    if (strcmp(c->chip, "h100") == 0)
        cost_chip_h100(&d);
    else
        cost_chip_h200(&d);
    ck_assert_str_eq(c->chip, d.chip);
    ck_assert_int_eq(c->family, d.family);
    ck_assert_int_eq(c->cores_per_chip, d.cores_per_chip);
    ck_assert_int_eq(c->sms, d.sms);
    ck_assert_int_eq(c->tile_m, d.tile_m);
    ck_assert_int_eq(c->tile_n, d.tile_n);
    ck_assert_int_eq(c->tile_k, d.tile_k);
    const double got[] = { c->clock_Hz, c->bf16_flops, c->fp32_vec_flops, c->fp32_matmul_flops, c->mm_efficiency,
                           c->hbm_efficiency, c->hbm_bytes, c->hbm_Bps, c->onchip_bytes, c->op_overhead_s };
    const double want[] = { d.clock_Hz, d.bf16_flops, d.fp32_vec_flops, d.fp32_matmul_flops, d.mm_efficiency,
                            d.hbm_efficiency, d.hbm_bytes, d.hbm_Bps, d.onchip_bytes, d.op_overhead_s };
    for (size_t i = 0; i < sizeof got / sizeof got[0]; i++)
        ck_assert_msg(got[i] == want[i], "%s field %zu: platform %.17g, cost defaults %.17g", c->chip, i, got[i],
                      want[i]);
}

/* Every property read back equals the preset; the platform presents itself as a line of n GPUs. */
START_TEST(test_read_back)
{
    const chip_spec *k = fixture_chip(SHAPES[_i].chip);
    gpu_platform p;
    shape_init(&p, _i);
    p.nic_Bps = 2.385e10;
    write_platform(&p);
    simproc_simgrid_init(NULL, NULL);
    simgrid_load_platform(tmpxml);
    cost_chip c;
    platform_torus t;
    errbuf err = { "" };
    ck_assert_msg(platform_read(&c, &t, tmpxml, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(c.chip, k->chip);
    ck_assert_int_eq(c.family, COST_FAMILY_GPU);
    ck_assert_int_eq(c.cores_per_chip, 1);
    ck_assert_int_eq(c.sms, k->sms);
    ck_assert_int_eq(c.tile_m, k->tile_m);
    ck_assert_int_eq(c.tile_n, k->tile_n);
    ck_assert_int_eq(c.tile_k, k->tile_k);
    ck_assert_double_eq(c.clock_Hz, k->clock_Hz);
    ck_assert_double_eq(c.bf16_flops, k->bf16_flops);
    ck_assert_double_eq(c.fp32_vec_flops, k->fp32_vec_flops);
    ck_assert_double_eq(c.fp32_matmul_flops, k->fp32_matmul_flops);
    ck_assert_double_eq(c.mm_efficiency, k->mm_efficiency);
    ck_assert_double_eq(c.hbm_efficiency, k->hbm_efficiency);
    ck_assert_double_eq(c.hbm_bytes, k->hbm_bytes);
    ck_assert_double_eq(c.hbm_Bps, k->hbm_Bps);
    ck_assert_double_eq(c.onchip_bytes, k->onchip_bytes);
    ck_assert_double_eq(c.op_overhead_s, k->op_overhead_s);
    ck_assert_int_eq(c.mxus_per_core, 0);            /* TPU-only fields stay 0 */
    ck_assert_int_eq(c.mxu_dim, 0);
    ck_assert_double_eq(c.tf32_flops, k->tf32_flops);
    ck_assert_int_eq(c.matmul_precision, CHIP_MM_HIGHEST);
    ck_assert_int_eq(t.family, COST_FAMILY_GPU);
    ck_assert_int_eq(t.ndims, 1);
    ck_assert_int_eq(t.dims[0], gpu_nchips(&p));
    ck_assert_int_eq(t.dims[1], 1);
    ck_assert_int_eq(t.wrap[0], 0);
    ck_assert_int_eq(t.nchips, gpu_nchips(&p));
    ck_assert_int_eq(t.gpus_per_node, p.gpus_per_node);
    ck_assert_int_eq(t.nodes, p.nodes);
    ck_assert_double_eq(t.link_Bps, k->nvlink_Bps);
    ck_assert_double_eq(t.link_lat_s, k->nvlink_lat_s);
    ck_assert_double_eq(t.nic_Bps, 2.385e10);
    ck_assert_double_eq(t.nic_lat_s, k->nic_lat_s);
    ck_assert_double_eq(t.link_bw_factor, 0.94);      /* NVLink: 256-byte payload per 272-byte packet */
    ck_assert_double_eq(t.nic_bw_factor, 0.99);       /* InfiniBand: 4096-byte MTU, 26 header bytes */
    ck_assert_double_eq(t.link_lat_factor, 1.0);
    ck_assert_double_eq(t.nic_lat_factor, 1.0);
    ck_assert_double_eq(sg_host_get_speed(chip_host(t.nchips - 1)), k->bf16_flops);
    ck_assert_int_eq(t.rails, p.rails);
    ck_assert_int_eq(t.nodes_per_leaf, p.nodes_per_leaf);
    ck_assert_double_eq(t.oversub, p.oversub);
    ck_assert_double_eq(t.spine_lat_s, p.spine_lat_s);
    ck_assert_double_eq_tol(t.leaf_up_Bps, p.rails > 0 ? p.nodes_per_leaf * p.rails * 2.385e10 / p.oversub : 0.0,
                            1e-6);
    assert_cost_defaults(&c);
}
END_TEST

static const struct {
    const char *file;
    int n;
} SHIPPED[] = {
    { "topologies/h200-1gpu.xml", 1 }, { "topologies/h200-8gpu.xml", 8 }, { "topologies/h200-32gpu.xml", 32 },
};

START_TEST(test_shipped)
{
    errbuf err = { "" };
    ck_assert_msg(platform_precheck(SHIPPED[_i].file, &err) == 0, "%s", err.msg);
    simproc_simgrid_init(NULL, NULL);
    simgrid_load_platform(SHIPPED[_i].file);
    cost_chip c;
    platform_torus t;
    ck_assert_msg(platform_read(&c, &t, SHIPPED[_i].file, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(c.chip, "h200");
    ck_assert_int_eq(t.nchips, SHIPPED[_i].n);
    ck_assert_int_eq(t.gpus_per_node * t.nodes, SHIPPED[_i].n);
    ck_assert_double_eq(c.hbm_bytes, 141e9);
    assert_cost_defaults(&c);
}
END_TEST

/* A TPU platform that says family tpu loads as one that does not say it. */
START_TEST(test_family_tpu)
{
    errbuf err = { "" };
    ck_assert_msg(platform_precheck(D "platform_family_tpu.xml", &err) == 0, "%s", err.msg);
    simproc_simgrid_init(NULL, NULL);
    simgrid_load_platform(D "platform_family_tpu.xml");
    cost_chip c;
    platform_torus t;
    ck_assert_msg(platform_read(&c, &t, D "platform_family_tpu.xml", &err) == 0, "%s", err.msg);
    ck_assert_int_eq(c.family, COST_FAMILY_TPU);
    ck_assert_int_eq(t.family, COST_FAMILY_TPU);
    ck_assert_int_eq(c.mxu_dim, 128);
    ck_assert_int_eq(c.sms, 0);
    ck_assert_int_eq(t.ndims, 2);
}
END_TEST

/* ---- bad GPU files ---- */

static const struct {
    const char *file, *msg;
} PRECHECK_BAD[] = {
    { D "platform_gpu_bad_eff.xml", D "platform_gpu_bad_eff.xml:49: property 'mm_efficiency' must be a number in "
                                    "(0, 1], got '1.3'" },
    { D "platform_gpu_bad_family.xml", D "platform_gpu_bad_family.xml:10: property 'family' must be tpu or gpu, got "
                                       "'cuda'" },
    { D "platform_gpu_mixed_family.xml", D "platform_gpu_mixed_family.xml:68: property 'family' is 'tpu', but an "
                                         "earlier host has 'gpu' (all chips must agree)" },
    { D "platform_gpu_bad_tile.xml", D "platform_gpu_bad_tile.xml:15: property 'tile_k' must be an integer > 0, "
                                     "got '0'" },
    { D "platform_gpu_missing_prop.xml", D "platform_gpu_missing_prop.xml: missing required property 'nic_lat_s' "
                                         "(family gpu)" },
    /* without 'family' a file is a TPU platform, and a GPU file is then missing the TPU properties */
    { D "platform_gpu_no_family.xml", D "platform_gpu_no_family.xml: missing required property 'mxus_per_core'" },
};

START_TEST(test_precheck_bad)
{
    errbuf err = { "" };
    ck_assert_int_eq(platform_precheck(PRECHECK_BAD[_i].file, &err), -1);
    ck_assert_str_eq(err.msg, PRECHECK_BAD[_i].msg);
}
END_TEST

/* Files the precheck passes and SimGrid loads, that platform_read must reject. */
static const struct {
    const char *file, *msg;
} READ_BAD[] = {
    { D "platform_gpu_nodes_mismatch.xml", D "platform_gpu_nodes_mismatch.xml: properties 'gpus_per_node' x "
                                           "'nodes' are 2 x 3 (6 GPUs), but the platform has 4 hosts" },
    { D "platform_gpu_two_cores.xml", D "platform_gpu_two_cores.xml: host 'chip0' has 2 cores, but a GPU is one "
                                      "core (property 'family' is 'gpu')" },
    { D "platform_gpu_nvlink_mismatch.xml", D "platform_gpu_nvlink_mismatch.xml: link 'chip0_nvlink_up' from chip0 "
                                            "to chip1 has 4.5e+11 B/s, but property 'nvlink_Bps' is '4e+11'" },
    { D "platform_gpu_nic_lat_mismatch.xml", D "platform_gpu_nic_lat_mismatch.xml: link 'chip0_nic_up' from chip0 "
                                             "to chip2 has latency 1e-06 s, but property 'nic_lat_s' is '2e-06'" },
    { D "platform_gpu_disagree.xml", D "platform_gpu_disagree.xml: host 'chip3' property 'hbm_bytes_per_core' is "
                                     "'8e+10', chip0 has '1.41e+11' (all chips must agree)" },
};

START_TEST(test_read_bad)
{
    errbuf err = { "" };
    ck_assert_msg(platform_precheck(READ_BAD[_i].file, &err) == 0, "%s", err.msg);
    simproc_simgrid_init(NULL, NULL);
    simgrid_load_platform(READ_BAD[_i].file);
    cost_chip c;
    memset(&c, 0x5a, sizeof c);
    platform_torus t = { .ndims = 77 };
    ck_assert_int_eq(platform_read(&c, &t, READ_BAD[_i].file, &err), -1);
    ck_assert_str_eq(err.msg, READ_BAD[_i].msg);
    ck_assert_int_eq(t.ndims, 77);                 /* outputs untouched on failure */
    ck_assert_int_eq(c.sms, 0x5a5a5a5a);
}
END_TEST

/* ---- collectives on a switched world ----
 * Times under CM02 (no protocol factors, SWITCHSIM_SIMGRID_CFG): a step of flows on disjoint bottlenecks takes
 * the route latency plus bytes over the bottleneck's share; SimGrid's default cross-traffic adds up to 5% where
 * reverse links are busy (check_collectives.c), so bounds get that margin. */
#define CROSS 1.05
#define SLACK 1.001        /* the cross-traffic share is 5% within SimGrid's precision, not exactly */

static void use_cm02(void)
{
    char cfg[512];
    const char *old = getenv("SWITCHSIM_SIMGRID_CFG");
    snprintf(cfg, sizeof cfg, "%s network/model:CM02", old != NULL ? old : "");
    ck_assert_int_eq(setenv("SWITCHSIM_SIMGRID_CFG", cfg, 1), 0);
}

static double coll_time(const gpu_platform *p, collbench_sim_op op, const double *bytes, double ar_bytes,
                        coll_a2a_algo algo, errbuf *err, int *rc)
{
    int n = gpu_nchips(p);
    collbench_sim c = { .platform = tmpxml, .ndims = 1, .dims = { n, 1, 1 }, .bytes = bytes, .algo = algo,
                       .reps = 1, .op = op, .ar_bytes = ar_bytes, .gpus_per_node = p->gpus_per_node };
    double out[COLLBENCH_SIM_NOUT(1)];
    *rc = simproc_run(collbench_sim_run, &c, out, COLLBENCH_SIM_NOUT(1), err);
    return out[COLLBENCH_SIM_T0];
}

/* All-reduce of S bytes per GPU.  One node (C = 1 ring): 2(n-1) steps, each GPU's NVLink up carrying two flows
 * of S/(2n).  Four nodes of 8: 8 rings, each node's traffic leaving through all 8 NICs, each NIC up carrying
 * two flows of S/(2nC) per step: 4x faster than one ring through the NICs, which is the bound it must beat. */
START_TEST(test_allreduce_closed_form)
{
    use_cm02();
    const double S = 1.0e9;
    errbuf err = { "" };
    int rc;
    gpu_platform p;
    gpu_platform_init(&p, fixture_chip("h200"), 8, 1);
    write_platform(&p);
    double t1 = coll_time(&p, COLLBENCH_SIM_ALLREDUCE_ALL, NULL, S, COLL_A2A_DIRECT, &err, &rc);
    ck_assert_msg(rc == 0, "%s", err.msg);
    int n = 8;
    double lat = 2 * (n - 1) * 2 * p.nvlink_lat_s;
    double bw = 2.0 * (n - 1) / n * S / p.nvlink_Bps;
    ck_assert_msg(t1 >= bw + lat - RTOL * t1 && t1 <= SLACK * (CROSS * bw + lat), "1 node: %g s, bound %g", t1,
                  bw + lat);

    gpu_platform_init(&p, fixture_chip("h200"), 8, 4);
    write_platform(&p);
    double t4 = coll_time(&p, COLLBENCH_SIM_ALLREDUCE_ALL, NULL, S, COLL_A2A_DIRECT, &err, &rc);
    ck_assert_msg(rc == 0, "%s", err.msg);
    n = 32;
    int C = 8;
    lat = 2 * (n - 1) * 2 * p.nic_lat_s;
    bw = 2.0 * (n - 1) / n * S / (C * p.nic_Bps);
    ck_assert_msg(t4 >= bw + lat - RTOL * t4 && t4 <= SLACK * (CROSS * bw + lat), "4 nodes: %g s, bound %g", t4,
                  bw + lat);
    double one_ring = 2.0 * (n - 1) / n * S / (2 * p.nic_Bps);
    ck_assert_msg(t4 < 0.3 * one_ring, "4 nodes: %g s, one ring through the NICs would take %g", t4, one_ring);
}
END_TEST

/* Direct all-to-all of S bytes per pair: every GPU's busiest link is its NVLink up (one node: n-1 flows) or its
 * NIC up (n - gpus_per_node flows to other nodes), and the phased algorithm is refused. */
START_TEST(test_alltoall_direct)
{
    use_cm02();
    const double S = 2.385e7;
    errbuf err = { "" };
    int rc;
    for (int nodes = 1; nodes <= 4; nodes += 3) {
        gpu_platform p;
        gpu_platform_init(&p, fixture_chip("h100"), 8, nodes);
        write_platform(&p);
        int n = gpu_nchips(&p);
        double *b = malloc((size_t)n * n * sizeof *b);
        ck_assert_ptr_nonnull(b);
        for (int i = 0; i < n * n; i++)
            b[i] = i % (n + 1) == 0 ? 0.0 : S;
        double t = coll_time(&p, COLLBENCH_SIM_A2A, b, 0, COLL_A2A_DIRECT, &err, &rc);
        ck_assert_msg(rc == 0, "%s", err.msg);
        double bound = nodes == 1 ? (n - 1) * S / p.nvlink_Bps + 2 * p.nvlink_lat_s
                                  : (n - 8) * S / p.nic_Bps + 2 * p.nic_lat_s;
        ck_assert_msg(t >= bound * (1 - RTOL) && t <= SLACK * CROSS * bound, "%d nodes: %g s, bound %g", nodes, t,
                      bound);
        coll_time(&p, COLLBENCH_SIM_A2A, b, 0, COLL_A2A_PHASED, &err, &rc);
        ck_assert_int_eq(rc, -1);
        ck_assert_str_eq(err.msg, "collectives: the phased all-to-all is for tori (neighbour ring steps); a switched "
                                  "network runs the direct or the hierarchical one");
        free(b);
    }
}
END_TEST

/* A cross-node all-to-all on 2 nodes of 2 GPUs on rails, S bytes per pair, by hand (CM02 without cross-traffic:
 * a flow takes its route's latency, then its bytes at its max-min share).  Each GPU sends S to its node peer over
 * NVLink (9x a NIC: never the bottleneck) and S to each GPU of the other node: 2 flows on its NIC up, 2 on every
 * NIC down.  One leaf group (the default, as the flat form): the NICs bind, nic/2 per flow, t = 2S/nic + 2 NIC
 * latencies, the flat form's time.  Leaf groups of one node, non-blocking: a group's uplink is 2 rails x nic for
 * its 4 outgoing flows, nic/2 each: the same bytes time, plus 2 spine latencies.  Oversubscribed 2:1: the uplink
 * is 1 nic for 4 flows, nic/4 each: t = 4S/nic + 2 NIC + 2 spine latencies, twice the bytes time. */
START_TEST(test_alltoall_rails_by_hand)
{
    char cfg[512];
    const char *old = getenv("SWITCHSIM_SIMGRID_CFG");
    snprintf(cfg, sizeof cfg, "%s network/model:CM02 network/crosstraffic:0", old != NULL ? old : "");
    ck_assert_int_eq(setenv("SWITCHSIM_SIMGRID_CFG", cfg, 1), 0);
    const double S = 2.385e8;
    double b[16];
    for (int i = 0; i < 16; i++)
        b[i] = i % 5 == 0 ? 0.0 : S;
    static const struct { int rails, npl; double oversub, bytes_nics, spine_lats; } CASES[] = {
        { 0, 0, 0, 2, 0 }, { 2, 2, 1, 2, 0 }, { 2, 1, 1, 2, 2 }, { 2, 1, 2, 4, 2 }, { 2, 1, 4, 8, 2 },
    };
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        gpu_platform p;
        gpu_platform_init(&p, fixture_chip("h100"), 2, 2);
        if (CASES[c].rails > 0) {
            gpu_platform_set_rails(&p);
            p.nodes_per_leaf = CASES[c].npl;
            p.oversub = CASES[c].oversub;
        }
        write_platform(&p);
        errbuf err = { "" };
        int rc;
        double t = coll_time(&p, COLLBENCH_SIM_A2A, b, 0, COLL_A2A_DIRECT, &err, &rc);
        ck_assert_msg(rc == 0, "%s", err.msg);
        double want = CASES[c].bytes_nics * S / p.nic_Bps + 2 * p.nic_lat_s + CASES[c].spine_lats * GPU_SPINE_LAT_S;
        ck_assert_msg(fabs(t - want) <= RTOL * want, "case %zu: %.9g s, by hand %.9g", c, t, want);
    }
}
END_TEST

/* ---- whole steps ---- */

enum { O_STEP = FX_STEP, O_COMPUTE, O_ROUTER, O_DISPATCH, O_A2A, O_ALLREDUCE, O_IDLE, O_BYTES, O_DIRECT, N_OUT };
_Static_assert((int)O_BYTES == (int)FX_BYTES, "the first outputs are fixture_step_out's");

typedef struct {
    const char *platform, *model;
    coll_a2a_algo a2a;
    int model_par, padded;
} grun;

static int grun_child(void *argp, double *out, int nout, errbuf *err)
{
    const grun *a = argp;
    model_set *ms = model_set_load_csv(D "models_tiny.csv", err);
    if (ms == NULL)
        return -1;
    engine_config cfg = engine_config_default();
    cfg.platform = a->platform;
    cfg.model = model_set_find(ms, a->model);
    cfg.model_par = a->model_par;
    cfg.top_k = 1;
    cfg.capacity_factor = 1.25;
    cfg.seed = 3;
    cfg.dispatch = a->padded ? COST_DISPATCH_EINSUM : COST_DISPATCH_GATHER;
    cfg.a2a = a->a2a;
    engine_result res;
    int rc = engine_run(&res, &cfg, err);
    if (rc == 0 && nout >= N_OUT) {
        const engine_times *s = &res.step;
        fixture_step_out(out, s);
        out[O_DIRECT] = res.a2a == COLL_A2A_DIRECT;
    }
    engine_result_fini(&res);
    model_set_free(ms);
    return rc;
}

/* One GPU: no communication at all, the step is its compute; 8 GPUs and 2 nodes x 4: the all-to-all defaults
 * to direct in one node and to hier across nodes, takes time, and shares add up to the step; on 2 x 4 the step
 * with direct flows differs from hier's by less than 1% (the all-to-alls are 2% of it). */
START_TEST(test_engine_steps)
{
    errbuf err = { "" };
    double out[N_OUT];
    grun one = { "topologies/h200-1gpu.xml", "tiny-switch", COLL_A2A_AUTO, 0, 1 };
    ck_assert_msg(simproc_run(grun_child, &one, out, N_OUT, &err) == 0, "%s", err.msg);
    ck_assert_double_eq(out[O_A2A], 0.0);
    ck_assert_double_eq(out[O_ALLREDUCE], 0.0);
    ck_assert_double_eq(out[O_IDLE], 0.0);
    ck_assert_double_eq(out[O_BYTES], 0.0);
    ck_assert_double_eq_tol(out[O_COMPUTE] + out[O_ROUTER] + out[O_DISPATCH], out[O_STEP], 1e-9);
    ck_assert(out[O_STEP] > 0);

    gpu_platform p;
    gpu_platform_init(&p, fixture_chip("h100"), 4, 2);
    write_platform(&p);
    const char *plats[] = { "topologies/h200-8gpu.xml", tmpxml };
    for (int i = 0; i < 2; i++)
        for (int mp = 1; mp <= 2; mp++) {
            grun g = { plats[i], "tiny-switch", COLL_A2A_AUTO, mp, i };
            ck_assert_msg(simproc_run(grun_child, &g, out, N_OUT, &err) == 0, "%s", err.msg);
            ck_assert_double_eq(out[O_DIRECT], i == 0 ? 1.0 : 0.0);
            ck_assert(out[O_A2A] > 0 && out[O_ALLREDUCE] > 0 && out[O_BYTES] > 0);
            double sum = out[O_COMPUTE] + out[O_ROUTER] + out[O_DISPATCH] + out[O_A2A] + out[O_ALLREDUCE] +
                         out[O_IDLE];
            ck_assert_double_eq_tol(sum, out[O_STEP], 1e-8);
            if (i == 1) {
                double hier = out[O_STEP];
                g.a2a = COLL_A2A_DIRECT;
                ck_assert_msg(simproc_run(grun_child, &g, out, N_OUT, &err) == 0, "%s", err.msg);
                ck_assert_double_eq(out[O_DIRECT], 1.0);
                ck_assert_msg(fabs(hier / out[O_STEP] - 1) < 0.01, "2 x 4, model %d: hier %g s, direct %g s", mp,
                              hier, out[O_STEP]);
            }
        }
    /* The same 2 x 4 GPUs on rails (one leaf group, non-blocking): the same routes but for the leaf, a FATPIPE
     * link of no latency, so the same step to SimGrid's precision, whatever the split. */
    double flat[N_OUT];
    char railxml[160];
    snprintf(railxml, sizeof railxml, "%s/rails.xml", tmpdir);
    gpu_platform_set_rails(&p);
    FILE *fp = fopen(railxml, "w");
    ck_assert_ptr_nonnull(fp);
    ck_assert_msg(gpu_write_xml(fp, &p, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(fclose(fp), 0);
    for (int mp = 1; mp <= 2; mp++) {
        grun g = { tmpxml, "tiny-switch", COLL_A2A_AUTO, mp, 1 };
        ck_assert_msg(simproc_run(grun_child, &g, flat, N_OUT, &err) == 0, "%s", err.msg);
        g.platform = railxml;
        ck_assert_msg(simproc_run(grun_child, &g, out, N_OUT, &err) == 0, "%s", err.msg);
        ck_assert_double_eq_tol(out[O_STEP], flat[O_STEP], 1e-9 * flat[O_STEP]);
        ck_assert_double_eq_tol(out[O_A2A], flat[O_A2A], 1e-9 * flat[O_STEP]);
        ck_assert_double_eq(out[O_BYTES], flat[O_BYTES]);
        ck_assert(out[O_A2A] > 0);
    }
    unlink(railxml);
    grun ph = { "topologies/h200-8gpu.xml", "tiny-switch", COLL_A2A_PHASED, 0, 1 };
    ck_assert_int_eq(simproc_run(grun_child, &ph, out, N_OUT, &err), -1);
    ck_assert_str_eq(err.msg, "--a2a phased is the torus algorithm (neighbour ring steps per dimension); "
                              "topologies/h200-8gpu.xml is a GPU platform (NVSwitch nodes, a NIC per GPU), where the "
                              "all-to-all is hier or direct: leave --a2a out or give one of them");
}
END_TEST

static Suite *gpu_suite(void)
{
    Suite *s = suite_create("gpu");
    TCase *tc = tcase_create("pure");
    tcase_add_test(tc, test_route_pure);
    tcase_add_test(tc, test_route_pure_rails);
    tcase_add_loop_test(tc, test_check_bad_rails, 0, (int)(sizeof RAILS_BAD / sizeof RAILS_BAD[0]));
    tcase_add_loop_test(tc, test_check_bad, 0, (int)(sizeof CHECK_BAD / sizeof CHECK_BAD[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("platform");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_routes_simgrid, 0, (int)(sizeof SHAPES / sizeof SHAPES[0]));
    tcase_add_loop_test(tc, test_read_back, 0, (int)(sizeof SHAPES / sizeof SHAPES[0]));
    tcase_add_loop_test(tc, test_shipped, 0, (int)(sizeof SHIPPED / sizeof SHIPPED[0]));
    tcase_add_test(tc, test_family_tpu);
    tcase_add_loop_test(tc, test_precheck_bad, 0, (int)(sizeof PRECHECK_BAD / sizeof PRECHECK_BAD[0]));
    tcase_add_loop_test(tc, test_read_bad, 0, (int)(sizeof READ_BAD / sizeof READ_BAD[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("sim");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_allreduce_closed_form);
    tcase_add_test(tc, test_alltoall_direct);
    tcase_add_test(tc, test_alltoall_rails_by_hand);
    tcase_add_test(tc, test_engine_steps);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(gpu_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
