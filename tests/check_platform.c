/* check_platform: platform files through SimGrid.  Generated tori load, their routes are the
 * dimension-ordered routes of topologies/torus.c link by link, their properties read back equal what was
 * written, and bad files fail with exact messages.  Check forks each test: one SimGrid engine per test. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <simgrid/engine.h>
#include <simgrid/host.h>
#include <simgrid/link.h>
#include <xbt/dynar.h>

#include "sim/platform.h"
#include "sim/simproc.h"
#include "topologies/torus.h"
#include "tests/fixtures.h"

static char tmpdir[64];
static char tmpxml[128];

/* Writes p to a fresh temp file (tmpxml) and loads it into a new SimGrid engine. */
static void load_generated(const torus_platform *p)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/check_platform.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(tmpxml, sizeof tmpxml, "%s/p.xml", tmpdir);
    FILE *fp = fopen(tmpxml, "w");
    ck_assert_ptr_nonnull(fp);
    errbuf err = { "" };
    ck_assert_int_eq(torus_write_xml(fp, p, &err), 0);
    ck_assert_int_eq(fclose(fp), 0);
    ck_assert_int_eq(platform_precheck(tmpxml, &err), 0);
    simproc_simgrid_init(NULL, NULL);
    simgrid_load_platform(tmpxml);
}

static void remove_generated(void)
{
    unlink(tmpxml);
    rmdir(tmpdir);
}

static sg_host_t chip_host(int r)
{
    char name[32];
    snprintf(name, sizeof name, "chip%d", r);
    sg_host_t h = sg_host_by_name(name);
    ck_assert_ptr_nonnull(h);
    return h;
}

/* The torus_link a SimGrid link of either platform form stands for.  Cluster form:
 * "torus_link_from_A_to_B_UP" is A's + link, "..._DOWN" is B's - link (the dimension is where A and B
 * differ).  Explicit form: "chip<r>_<x|y|z><+|->".  Returns 0, or -1 for a loopback or unknown name. */
static int link_of(torus_link *l, const torus_shape *t, const char *name)
{
    int a, b, r;
    char dir[8], dim;
    if (sscanf(name, "torus_link_from_%d_to_%d_%7s", &a, &b, dir) == 3) {
        int ca[3], cb[3];
        torus_coords(ca, t, a);
        torus_coords(cb, t, b);
        int d = 0;
        while (d < t->ndims && ca[d] == cb[d])
            d++;
        ck_assert_int_lt(d, t->ndims);
        if (strcmp(dir, "UP") == 0)
            *l = (torus_link){ .chip = a, .dim = d, .dir = 1 };
        else
            *l = (torus_link){ .chip = b, .dim = d, .dir = -1 };
        return 0;
    }
    char sign;
    if (sscanf(name, "chip%d_%c%c", &r, &dim, &sign) == 3 && strchr("xyz", dim) != NULL) {
        *l = (torus_link){ .chip = r, .dim = dim - 'x', .dir = sign == '+' ? 1 : -1 };
        return 0;
    }
    return -1;
}

/* ---- generated tori: links and routes ---- */

static const struct {
    const char *chip, *size;
    torus_wrap_mode mode;
    int links;
} GEN[] = {
    { "tpuv3", "4x4", TORUS_WRAP_ALL, 64 },     /* SimGrid TORUS cluster */
    { "tpuv3", "4x4", TORUS_WRAP_NONE, 48 },    /* explicit routes */
    { "tpuv4", "4x4x4", TORUS_WRAP_AUTO, 384 },
    { "tpuv3", "8x8", TORUS_WRAP_ALL, 256 },
    { "tpuv3", "6x5", TORUS_WRAP_ALL, 120 },     /* odd ring: no ties in y */
    { "tpuv3", "32x4", TORUS_WRAP_AUTO, 2 * (32 * 4 + 3 * 32) },   /* x wraps (complete), y does not */
};

START_TEST(test_routes_agree)
{
    torus_platform p = { .chip = fixture_chip(GEN[_i].chip), .link_Bps = 1e11, .link_lat_s = 1e-6 };
    ck_assert_int_eq(torus_parse(&p.shape, GEN[_i].size, 'x'), 0);
    torus_set_wrap(&p.shape, GEN[_i].mode, p.chip);
    load_generated(&p);
    const torus_shape *t = &p.shape;
    int n = torus_nchips(t);
    ck_assert_int_eq((int)sg_host_count(), n);

    /* Every inter-chip link SimGrid has is one of ours, and there are as many as torus_link_count says. */
    sg_link_t *all = sg_link_list();
    int nlinks = 0;
    for (size_t i = 0; i < sg_link_count(); i++) {
        torus_link l;
        if (link_of(&l, t, sg_link_get_name(all[i])) == 0) {
            ck_assert(torus_link_exists(t, l));
            ck_assert_double_eq(sg_link_get_bandwidth(all[i]), 1e11);
            nlinks++;
        }
    }
    free(all);
    ck_assert_int_eq(nlinks, GEN[_i].links);
    ck_assert_int_eq(torus_link_count(t), GEN[_i].links);

    /* Every route, link by link. */
    torus_link *mine = malloc(sizeof *mine * (size_t)torus_max_hops(t));
    ck_assert_ptr_nonnull(mine);
    xbt_dynar_t route = xbt_dynar_new(sizeof(sg_link_t), NULL);
    for (int s = 0; s < n; s++)
        for (int d = 0; d < n; d++) {
            xbt_dynar_reset(route);
            sg_host_get_route(chip_host(s), chip_host(d), route);
            int nh = torus_route(mine, t, s, d);
            if (s == d) {
                ck_assert_int_eq(nh, 0);
                ck_assert_int_eq((int)xbt_dynar_length(route), 1);     /* the chip's loopback */
                continue;
            }
            ck_assert_int_eq((int)xbt_dynar_length(route), nh);
            ck_assert_int_eq(torus_hops(t, s, d), nh);
            for (int h = 0; h < nh; h++) {
                torus_link l;
                ck_assert_int_eq(link_of(&l, t, sg_link_get_name(xbt_dynar_get_as(route, h, sg_link_t))), 0);
                ck_assert_msg(l.chip == mine[h].chip && l.dim == mine[h].dim && l.dir == mine[h].dir,
                              "route %d->%d hop %d: SimGrid (%d,%d,%+d), torus_route (%d,%d,%+d)", s, d, h, l.chip,
                              l.dim, l.dir, mine[h].chip, mine[h].dim, mine[h].dir);
            }
        }
    xbt_dynar_free(&route);
    free(mine);
    remove_generated();
}
END_TEST

/* ---- read-back ---- */

static const struct {
    const char *chip, *size;
    torus_wrap_mode mode;
    double link_Bps, link_lat_s;
} READ[] = {
    { "tpuv3", "4x4", TORUS_WRAP_AUTO, 70.5e9, 0.75e-6 },
    { "tpuv3", "4x4", TORUS_WRAP_ALL, 100e9, 1e-6 },
    { "tpuv2", "2x3", TORUS_WRAP_NONE, 62e9, 0.0 },
    { "tpuv4", "4x4x4", TORUS_WRAP_AUTO, 45e9, 0.5e-6 },
};

START_TEST(test_read_back)
{
    torus_platform p = { .chip = fixture_chip(READ[_i].chip), .link_Bps = READ[_i].link_Bps,
                         .link_lat_s = READ[_i].link_lat_s };
    ck_assert_int_eq(torus_parse(&p.shape, READ[_i].size, 'x'), 0);
    torus_set_wrap(&p.shape, READ[_i].mode, p.chip);
    load_generated(&p);
    cost_chip c;
    platform_torus t;
    errbuf err = { "" };
    ck_assert_msg(platform_read(&c, &t, tmpxml, &err) == 0, "%s", err.msg);
    const chip_spec *k = p.chip;
    ck_assert_str_eq(c.chip, k->chip);
    ck_assert_int_eq(c.cores_per_chip, k->cores_per_chip);
    ck_assert_int_eq(c.mxus_per_core, k->mxus_per_core);
    ck_assert_int_eq(c.mxu_dim, k->mxu_dim);
    ck_assert_double_eq(c.clock_Hz, k->clock_Hz);
    ck_assert_double_eq(c.bf16_flops, k->bf16_flops);
    ck_assert_double_eq(c.fp32_vec_flops, k->fp32_vec_flops);
    ck_assert_double_eq(c.hbm_bytes, k->hbm_bytes);
    ck_assert_double_eq(c.hbm_Bps, k->hbm_Bps);
    ck_assert_double_eq(c.onchip_bytes, k->onchip_bytes);
    ck_assert_double_eq(c.op_overhead_s, k->op_overhead_s);
    ck_assert_int_eq(c.matmul_precision, k->matmul_precision);
    ck_assert_int_eq(t.ndims, p.shape.ndims);
    for (int d = 0; d < 3; d++) {
        ck_assert_int_eq(t.dims[d], p.shape.dims[d]);
        ck_assert_int_eq(t.wrap[d], p.shape.wrap[d]);
    }
    ck_assert_int_eq(t.nchips, torus_nchips(&p.shape));
    ck_assert_double_eq(t.link_Bps, READ[_i].link_Bps);
    ck_assert_double_eq(t.link_lat_s, READ[_i].link_lat_s);
    ck_assert_double_eq(t.link_bw_factor, 1.0);       /* ICI: the 'hw' network model's factors */
    ck_assert_double_eq(t.link_lat_factor, 1.0);
    /* SimGrid's own view agrees: host speed and core count. */
    ck_assert_double_eq(sg_host_get_speed(chip_host(t.nchips - 1)), c.bf16_flops);
    ck_assert_int_eq(sg_host_core_count(chip_host(0)), k->cores_per_chip);
    remove_generated();
}
END_TEST

/* ---- bad files ---- */

#define D "tests/data/"
static const struct {
    const char *file, *msg;
} PRECHECK_BAD[] = {
    { D "platform_nope.xml", D "platform_nope.xml: cannot open: No such file or directory" },
    { D "platform_not_xml.xml", D "platform_not_xml.xml:1: not a SimGrid platform file (no <platform> element): "
                                 "malformed XML: syntax error" },
    { D "platform_missing_prop.xml", D "platform_missing_prop.xml: missing required property 'hbm_Bps_per_core'" },
    { D "platform_neg_bw.xml", D "platform_neg_bw.xml:83: <link> attribute 'bandwidth' must be a bandwidth in [1 B/s, 1e16 B/s] "
                               "such as '100GBps', got '-1e+11Bps'" },
    { D "platform_cluster_neg_bw.xml", D "platform_cluster_neg_bw.xml:6: <cluster> attribute 'bw' must be a "
                                       "bandwidth in [1 B/s, 1e16 B/s] such as '100GBps', got '-100GBps'" },
    { D "platform_bad_lat.xml", D "platform_bad_lat.xml:86: <link> attribute 'latency' must be a time in [0, 1 s] such "
                                "as '1us', got 'fast'" },
    { D "platform_nonnum.xml", D "platform_nonnum.xml:15: property 'hbm_Bps_per_core' must be a number > 0, "
                               "got 'abc'" },
    { D "platform_neg_prop.xml", D "platform_neg_prop.xml:21: property 'link_Bps' must be a number > 0, "
                                 "got '-1e+11'" },
    /* what SimGrid's parser aborts on (SIGABRT, often no message): caught first, with the line */
    { D "platform_extra_close.xml", D "platform_extra_close.xml:84: malformed XML: mismatched tag" },
    { D "platform_truncated.xml", D "platform_truncated.xml:70: malformed XML: unclosed token" },
    { D "platform_bad_sharing.xml", D "platform_bad_sharing.xml:85: <link> attribute 'sharing_policy' must be one of "
                                    "SHARED, SPLITDUPLEX, FATPIPE, WIFI, got 'BOGUS'" },
    { D "platform_bad_routing.xml", D "platform_bad_routing.xml:6: <zone> attribute 'routing' must be one of Full, "
                                    "Floyd, Dijkstra, DijkstraCache, None, Vivaldi, Cluster, ClusterTorus, "
                                    "ClusterFatTree, ClusterDragonfly, Wifi, Star, got 'Bogus'" },
    { D "platform_huge_bw.xml", D "platform_huge_bw.xml:83: <link> attribute 'bandwidth' must be a bandwidth in "
                                "[1 B/s, 1e16 B/s] such as '100GBps', got '1e300EBps'" },
    { D "platform_huge_lat.xml", D "platform_huge_lat.xml:83: <link> attribute 'latency' must be a time in [0, 1 s] "
                                 "such as '1us', got '1e300w'" },
    { D "platform_dup_link.xml", D "platform_dup_link.xml:85: <link> id 'chip0_y+' is already used on line 84" },
    { D "platform_dup_host.xml", D "platform_dup_host.xml:26: <host> id 'chip0' is already used on line 7" },
    { D "platform_dup_zone.xml", D "platform_dup_zone.xml:7: <zone> id 'torus' is already used on line 6" },
    { D "platform_long_attr.xml", D "platform_long_attr.xml:8: <prop> attribute 'value' is 300 characters long, "
                                  "more than 255" },
    { D "platform_route_unknown.xml", D "platform_route_unknown.xml:96: <route> dst 'chip9' is not a host or router "
                                      "declared before it" },
    { D "platform_ctn_unknown.xml", D "platform_ctn_unknown.xml:96: <link_ctn> id 'chip0_z+' is not a link declared "
                                    "before it" },
    { D "platform_unknown_attr.xml", D "platform_unknown_attr.xml:7: <host> has no attribute 'color'" },
    /* found by fuzzing: SimGrid aborts without the document type it knows */
    { D "platform_no_doctype.xml", D "platform_no_doctype.xml:4: the file needs <!DOCTYPE platform SYSTEM "
                                   "\"https://simgrid.org/simgrid.dtd\"> before <platform> (SimGrid requires it)" },
    { D "platform_bad_doctype.xml", D "platform_bad_doctype.xml:2: the document type must be declared as <!DOCTYPE "
                                    "platform SYSTEM \"https://simgrid.org/simgrid.dtd\"> (SimGrid requires it), got "
                                    "'platform' SYSTEM 'simgrid.dtd'" },
    { D "platform_text.xml", D "platform_text.xml:95: text '$ ' between elements (a platform file holds only "
                             "elements, attributes and comments)" },
    { D "platform_cluster_radical.xml", D "platform_cluster_radical.xml:6: <cluster> topo_parameters '32,32' make "
                                        "1024 hosts, its radical '0-1022' names 1023" },
    { D "platform_old_version.xml", D "platform_old_version.xml:5: <platform> attribute 'version' must be one of "
                                    "4, 4.0, 4.1, got '3.10'" },
    { D "platform_dup_route.xml", D "platform_dup_route.xml:97: <route> from 'chip0' to 'chip1' is already given on "
                                  "line 96 (a route goes both ways unless symmetrical=\"NO\")" },
    /* physical ranges: numbers that gave a deadlock or a step shorter than its parts, with exit 0 */
    { D "platform_tiny_clock.xml", D "platform_tiny_clock.xml:11: property 'clock_Hz' must be in [1e+06, 1e+11] (a "
                                   "physical range), got '1e-300'" },
};

START_TEST(test_precheck_bad)
{
    errbuf err = { "" };
    ck_assert_int_eq(platform_precheck(PRECHECK_BAD[_i].file, &err), -1);
    ck_assert_str_eq(err.msg, PRECHECK_BAD[_i].msg);
}
END_TEST

/* Files SimGrid loads (it does not look at property values) that platform_read must reject. */
static const struct {
    const char *file, *msg;
} READ_BAD[] = {
    { D "platform_missing_prop.xml", D "platform_missing_prop.xml: missing required property 'hbm_Bps_per_core'" },
    { D "platform_nonnum.xml", D "platform_nonnum.xml: property 'hbm_Bps_per_core' must be a number > 0, got 'abc'" },
    { D "platform_neg_prop.xml", D "platform_neg_prop.xml: property 'link_Bps' must be a number > 0, got '-1e+11'" },
    { D "platform_disagree.xml", D "platform_disagree.xml: host 'chip2' property 'clock_Hz' is '9.5e+08', chip0 "
                                 "has '9.4e+08' (all chips must agree)" },
    { D "platform_torus_mismatch.xml", D "platform_torus_mismatch.xml: property 'torus' is '3,2' (6 chips), but "
                                       "the platform has 4 hosts" },
    { D "platform_speed_mismatch.xml", D "platform_speed_mismatch.xml: host 'chip0' speed is 6.15e+13 flop/s, but "
                                       "property 'bf16_flops_per_core' is '6.160384e+13'" },
    { D "platform_link_mismatch.xml", D "platform_link_mismatch.xml: the link from chip0 to chip1 has 1e+11 B/s, "
                                      "but property 'link_Bps' is '7e+10'" },
    { D "platform_bad_wrap.xml", D "platform_bad_wrap.xml: property 'wrap' must have one flag per torus dimension "
                                 "(2), got '1'" },
    { D "platform_no_chip0.xml", D "platform_no_chip0.xml: no host 'chip0' (hosts must be named chip0, chip1, ... "
                                 "by rank)" },
    { D "platform_core_disagree.xml", D "platform_core_disagree.xml: host 'chip3' has 1 cores, chip0 has 2 (all "
                                      "chips must agree)" },
    { D "platform_speed_disagree.xml", D "platform_speed_disagree.xml: host 'chip1' speed is 6.2e+13 flop/s, "
                                       "chip0's is 6.16038e+13 (all chips must agree)" },
    { D "platform_lat_mismatch.xml", D "platform_lat_mismatch.xml: the link from chip0 to chip1 has latency 1e-06 s, "
                                     "but property 'link_lat_s' is '5e-07'" },
    { D "platform_wrap_size1.xml", D "platform_wrap_size1.xml: property 'wrap' wraps a dimension of size 1, "
                                   "got '0,1'" },
    { D "platform_route_2links.xml", D "platform_route_2links.xml: the route from chip0 to its torus neighbour "
                                     "chip1 has 2 links, not 1" },
    { D "platform_missing_host.xml", D "platform_missing_host.xml: property 'torus' is '2,2', but there is no host "
                                     "'chip3'" },
};

START_TEST(test_read_bad)
{
    simproc_simgrid_init(NULL, NULL);
    simgrid_load_platform(READ_BAD[_i].file);
    cost_chip c;
    memset(&c, 0x5a, sizeof c);
    platform_torus t = { .ndims = 77 };
    errbuf err = { "" };
    ck_assert_int_eq(platform_read(&c, &t, READ_BAD[_i].file, &err), -1);
    ck_assert_str_eq(err.msg, READ_BAD[_i].msg);
    ck_assert_int_eq(t.ndims, 77);                 /* outputs untouched on failure */
    ck_assert_int_eq(c.mxu_dim, 0x5a5a5a5a);
}
END_TEST

/* Syntax and value errors the precheck finds in the text: written to a temp file, message after "FILE".  Syntax
 * is libexpat's to judge (its reason after "malformed XML:"); values are ours, checked as expat hands over each
 * element, so a file that breaks both is judged by whichever comes first. */
#define HOST_OPEN "<?xml version='1.0'?><!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n" \
                  "<platform version=\"4.1\">\n"
static const struct {
    const char *text, *msg;
} PRECHECK_TEXT[] = {
    { HOST_OPEN "<!-- never closed\n", ":3: malformed XML: unclosed token" },
    { HOST_OPEN "<!DOCTYPE x\n", ":3: malformed XML: not well-formed (invalid token)" },
    { HOST_OPEN "< host/>\n", ":3: malformed XML: not well-formed (invalid token)" },
    { HOST_OPEN "<host id=\"a\"", ":3: malformed XML: unclosed token" },
    { HOST_OPEN "<host id>\n", ":3: malformed XML: not well-formed (invalid token)" },
    { HOST_OPEN "<host id=a/>\n", ":3: malformed XML: not well-formed (invalid token)" },
    { HOST_OPEN "<host\n id=\"a>\n", ":3: malformed XML: unclosed token" },
    { HOST_OPEN "<host id=\"a\" speed=\"fast\"/>", ":3: <host> attribute 'speed' must be a speed in [1, 1e21] flop/s such as "
                                                   "'61.5Tf', got 'fast'" },
    { HOST_OPEN "<host id=\"a\" speed=\"1Gf,\"/>", ":3: <host> attribute 'speed' must be a speed in [1, 1e21] flop/s such as "
                                                   "'61.5Tf', got '1Gf,'" },
    { HOST_OPEN "<host id=\"a\" speed=\"-1Gf\"/>", ":3: <host> attribute 'speed' must be a speed in [1, 1e21] flop/s such as "
                                                   "'61.5Tf', got '-1Gf'" },
    { HOST_OPEN "<host id=\"a\" speed=\"1Gflops\"/>", ":3: <host> attribute 'speed' must be a speed in [1, 1e21] flop/s such "
                                                      "as '61.5Tf', got '1Gflops'" },
    { HOST_OPEN "<host id=\"a\" speed=\"1Gf\" core=\"0\"/>", ":3: <host> attribute 'core' must be an integer > 0, "
                                                            "got '0'" },
    { HOST_OPEN "<host id=\"a\" speed=\"1Gf\" core=\"2.5\"/>", ":3: <host> attribute 'core' must be an integer "
                                                              "> 0, got '2.5'" },
    { HOST_OPEN "\n<link id=\"l\" bandwidth=\"1KBps\"/>", ":4: <link> attribute 'bandwidth' must be a bandwidth "
                                                       "in [1 B/s, 1e16 B/s] such as '100GBps', got '1KBps'" },
    { HOST_OPEN "<link id=\"l\" bandwidth=\"0GBps\"/>", ":3: <link> attribute 'bandwidth' must be a bandwidth in [1 B/s, 1e16 B/s] "
                                                      "such as '100GBps', got '0GBps'" },
    { HOST_OPEN "<cluster id=\"c\" prefix=\"c\" suffix=\"\" radical=\"0-1\" speed=\"1Gf\" bw=\"1GBps\"\n lat=\"-1us\"/>", ":3: <cluster> attribute 'lat' must be a time in [0, 1 s] such as "
                                                     "'1us', got '-1us'" },
    { HOST_OPEN "<prop id=\"op_overhead_s\" value=\"1e308\"/>", ":3: property 'op_overhead_s' must be in [0, 1] "
                                                                "(a physical range), got '1e308'" },
    { HOST_OPEN "<prop id=\"tf32_flops\" value=\"1e300\"/>", ":3: property 'tf32_flops' must be in [1000, 1e+18] "
                                                               "(a physical range), got '1e300'" },
    { HOST_OPEN "<prop id=\"hbm_Bps_per_core\" value=\"1e-300\"/>", ":3: property 'hbm_Bps_per_core' must be in "
                                                                    "[1e+06, 1e+15] (a physical range), got '1e-300'" },
    { HOST_OPEN "<host id=\"a\" speed=\"1e-300f\"/>", ":3: <host> attribute 'speed' must be a speed in [1, 1e21] "
                                                      "flop/s such as '61.5Tf', got '1e-300f'" },
    { HOST_OPEN "<prop id=\"clock_Hz\" value=\"0x1p30\"/>", ":3: property 'clock_Hz' must be a number > 0, got "
                                                            "'0x1p30'" },
    { HOST_OPEN "<prop id=\"chip\" value=\"tpu v3\"/>", ":3: property 'chip' must be a chip name of 1 to 31 "
                                                      "letters, digits, '-' or '_', got 'tpu v3'" },
    { HOST_OPEN "<prop id=\"mxu_dim\" value=\"128.5\"/>", ":3: property 'mxu_dim' must be an integer > 0, "
                                                        "got '128.5'" },
    { HOST_OPEN "<prop id=\"op_overhead_s\" value=\"-1e-6\"/>", ":3: property 'op_overhead_s' must be a number "
                                                              ">= 0, got '-1e-6'" },
    { HOST_OPEN "<prop id=\"matmul_precision\" value=\"6\"/>", ":3: property 'matmul_precision' must be default, "
                                                               "high or highest, got '6'" },
    { HOST_OPEN "<prop id=\"torus\" value=\"4x4\"/>", ":3: property 'torus' must be 2 or 3 comma-separated "
                                                    "integers in [1, 1024] such as '4,4', got '4x4'" },
    { HOST_OPEN "<prop id=\"torus\" value=\"4\"/>", ":3: property 'torus' must be 2 or 3 comma-separated "
                                                  "integers in [1, 1024] such as '4,4', got '4'" },
    { HOST_OPEN "<prop id=\"wrap\" value=\"2,0\"/>", ":3: property 'wrap' must be comma-separated 0 or 1 flags, "
                                                   "one per torus dimension, such as '1,1', got '2,0'" },
    { HOST_OPEN "<prop id=\"clock_Hz\"/>", ":3: <prop> needs attribute 'value'" },
    { HOST_OPEN "<prop id=\"link_bw_factor\" value=\"0.3\"/>", ":3: property 'link_bw_factor' must be a number in "
                                                             "[0.5, 1] (the payload's share of the link rate), got '0.3'" },
    { HOST_OPEN "<prop id=\"nic_bw_factor\" value=\"1.01\"/>", ":3: property 'nic_bw_factor' must be a number in "
                                                             "[0.5, 1] (the payload's share of the link rate), got '1.01'" },
    { HOST_OPEN "<prop id=\"nvlink_lat_factor\" value=\"0.5\"/>", ":3: property 'nvlink_lat_factor' must be a number "
                                                                "in [1, 100] (a flow's start-up in route latencies), got '0.5'" },
    { HOST_OPEN "<prop id=\"link_lat_factor\" value=\"101\"/>", ":3: property 'link_lat_factor' must be a number in "
                                                              "[1, 100] (a flow's start-up in route latencies), got '101'" },
    { "<?xml version='1.0'?>\n<zone/>\n", ":2: the root element is <zone>, not <platform>" },
};

START_TEST(test_precheck_text)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/check_platform.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(tmpxml, sizeof tmpxml, "%s/p.xml", tmpdir);
    FILE *fp = fopen(tmpxml, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(PRECHECK_TEXT[_i].text, fp);
    ck_assert_int_eq(fclose(fp), 0);
    errbuf err = { "" };
    int rc = platform_precheck(tmpxml, &err);
    char want[512];
    snprintf(want, sizeof want, "%s%s", tmpxml, PRECHECK_TEXT[_i].msg);
    remove_generated();
    ck_assert_int_eq(rc, -1);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

START_TEST(test_precheck_nul)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/check_platform.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(tmpxml, sizeof tmpxml, "%s/p.xml", tmpdir);
    FILE *fp = fopen(tmpxml, "w");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq((int)fwrite("<platform>\0</platform>", 1, 22, fp), 22);
    ck_assert_int_eq(fclose(fp), 0);
    errbuf err = { "" };
    int rc = platform_precheck(tmpxml, &err);
    char want[512];
    snprintf(want, sizeof want, "%s: not a text file (contains a NUL byte)", tmpxml);
    remove_generated();
    ck_assert_int_eq(rc, -1);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

START_TEST(test_good_fixture)
{
    errbuf err = { "" };
    ck_assert_int_eq(platform_precheck(D "platform_good_2x2.xml", &err), 0);
    simproc_simgrid_init(NULL, NULL);
    simgrid_load_platform(D "platform_good_2x2.xml");
    cost_chip c;
    platform_torus t;
    ck_assert_msg(platform_read(&c, &t, D "platform_good_2x2.xml", &err) == 0, "%s", err.msg);
    ck_assert_int_eq(t.nchips, 4);
    ck_assert_double_eq(c.hbm_Bps, 450e9);
}
END_TEST

/* ---- the shipped platforms (make platforms) ---- */

static const struct {
    const char *file, *chip;
    int nchips, full;
} SHIPPED[] = {
    { "topologies/tpuv3-2x2.xml", "tpuv3", 4, 0 },
    { "topologies/tpuv3-4x4.xml", "tpuv3", 16, 0 },
    { "topologies/tpuv3-8x8.xml", "tpuv3", 64, 0 },
    { "topologies/tpuv3-16x16.xml", "tpuv3", 256, 0 },
    { "topologies/tpuv3-32x32.xml", "tpuv3", 1024, 1 },
    { "topologies/tpuv2-16x16.xml", "tpuv2", 256, 1 },
    { "topologies/tpuv4-4x4x4.xml", "tpuv4", 64, 1 },
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
    ck_assert_str_eq(c.chip, SHIPPED[_i].chip);
    ck_assert_int_eq(t.nchips, SHIPPED[_i].nchips);
    const chip_spec *k = fixture_chip(SHIPPED[_i].chip);
    ck_assert_double_eq(t.link_Bps, k->link_Bps);
    ck_assert_double_eq(t.link_lat_s, k->link_lat_s);
    int full = 1;
    for (int d = 0; d < t.ndims; d++)
        full = full && t.wrap[d];
    ck_assert_int_eq(full, SHIPPED[_i].full);
    /* The farthest chip is torus_max_hops away, through SimGrid too. */
    torus_shape s = { .ndims = t.ndims };
    for (int d = 0; d < 3; d++) {
        s.dims[d] = t.dims[d];
        s.wrap[d] = t.wrap[d];
    }
    int far[3], dst;
    for (int d = 0; d < s.ndims; d++)
        far[d] = s.wrap[d] ? s.dims[d] / 2 : s.dims[d] - 1;
    dst = torus_rank(&s, far);
    xbt_dynar_t route = xbt_dynar_new(sizeof(sg_link_t), NULL);
    sg_host_get_route(chip_host(0), chip_host(dst), route);
    ck_assert_int_eq((int)xbt_dynar_length(route), torus_max_hops(&s));
    xbt_dynar_free(&route);
}
END_TEST

static Suite *platform_suite(void)
{
    Suite *s = suite_create("platform");
    TCase *tc = tcase_create("generated");
    tcase_set_timeout(tc, 20);
    tcase_add_loop_test(tc, test_routes_agree, 0, (int)(sizeof GEN / sizeof GEN[0]));
    tcase_add_loop_test(tc, test_read_back, 0, (int)(sizeof READ / sizeof READ[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("bad");
    tcase_add_loop_test(tc, test_precheck_bad, 0, (int)(sizeof PRECHECK_BAD / sizeof PRECHECK_BAD[0]));
    tcase_add_loop_test(tc, test_read_bad, 0, (int)(sizeof READ_BAD / sizeof READ_BAD[0]));
    tcase_add_loop_test(tc, test_precheck_text, 0, (int)(sizeof PRECHECK_TEXT / sizeof PRECHECK_TEXT[0]));
    tcase_add_test(tc, test_precheck_nul);
    tcase_add_test(tc, test_good_fixture);
    suite_add_tcase(s, tc);
    tc = tcase_create("shipped");
    tcase_set_timeout(tc, 20);
    tcase_add_loop_test(tc, test_shipped, 0, (int)(sizeof SHIPPED / sizeof SHIPPED[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(platform_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
