/* check_torus: torus parsing, wraparound, coordinates, hop counts, routes and the XML
 * generator of topologies/torus.c.  No SimGrid here (check_platform loads the generated files). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fixtures.h"
#include "topologies/torus.h"

/* ---- parsing ---- */

static const struct {
    const char *s;
    char sep;
    int ndims, x, y, z;
} PARSE_GOOD[] = {
    { "4x4", 'x', 2, 4, 4, 1 },
    { "32x32", 'x', 2, 32, 32, 1 },
    { "4x4x4", 'x', 3, 4, 4, 4 },
    { "1x7", 'x', 2, 1, 7, 1 },
    { "8", 'x', 2, 8, 1, 1 },
    { "16,16,16", ',', 3, 16, 16, 16 },
    { "1024x64", 'x', 2, 1024, 64, 1 },
};

START_TEST(test_parse_good)
{
    torus_shape t;
    memset(&t, 0x5a, sizeof t);
    ck_assert_int_eq(torus_parse(&t, PARSE_GOOD[_i].s, PARSE_GOOD[_i].sep), 0);
    ck_assert_int_eq(t.ndims, PARSE_GOOD[_i].ndims);
    ck_assert_int_eq(t.dims[0], PARSE_GOOD[_i].x);
    ck_assert_int_eq(t.dims[1], PARSE_GOOD[_i].y);
    ck_assert_int_eq(t.dims[2], PARSE_GOOD[_i].z);
    ck_assert_int_eq(t.wrap[0] + t.wrap[1] + t.wrap[2], 0);
}
END_TEST

static const char *const PARSE_BAD[] = {
    "", "4x", "x4", "4x4x", "4x4x4x4", "0x4", "4x-4", "-4x4", "+4x4", " 4x4", "4x4 ", "4,4", "4x4.0",
    "4X4", "1025x1", "99999999999999999999x2", "256x257", "abc",
};

START_TEST(test_parse_bad)
{
    torus_shape t = { .ndims = 77, .dims = { 5, 6, 7 }, .wrap = { 1, 1, 1 } };
    ck_assert_int_eq(torus_parse(&t, PARSE_BAD[_i], 'x'), -1);
    ck_assert_int_eq(t.ndims, 77);     /* untouched on failure */
    ck_assert_int_eq(t.dims[0], 5);
    ck_assert_int_eq(torus_parse(&t, NULL, 'x'), -1);
}
END_TEST

/* ---- wraparound ---- */

static const struct {
    const char *chip, *size;
    torus_wrap_mode mode;
    int w0, w1, w2, full;
} WRAP[] = {
    { "tpuv3", "32x32", TORUS_WRAP_AUTO, 1, 1, 0, 1 },   /* the full TPUv3 pod */
    { "tpuv3", "16x16", TORUS_WRAP_AUTO, 0, 0, 0, 0 },
    { "tpuv3", "32x16", TORUS_WRAP_AUTO, 1, 0, 0, 0 },
    { "tpuv3", "4x4", TORUS_WRAP_ALL, 1, 1, 0, 1 },
    { "tpuv3", "4x1", TORUS_WRAP_ALL, 1, 0, 0, 0 },       /* a ring of one chip has no link */
    { "tpuv3", "32x32", TORUS_WRAP_NONE, 0, 0, 0, 0 },
    { "tpuv2", "16x16", TORUS_WRAP_AUTO, 1, 1, 0, 1 },
    { "tpuv4", "4x4x4", TORUS_WRAP_AUTO, 1, 1, 1, 1 },
    { "tpuv4", "4x4x2", TORUS_WRAP_AUTO, 1, 1, 0, 0 },
    { "tpuv4", "8x12x6", TORUS_WRAP_AUTO, 1, 1, 0, 0 },
};

START_TEST(test_wrap)
{
    torus_shape t;
    ck_assert_int_eq(torus_parse(&t, WRAP[_i].size, 'x'), 0);
    torus_set_wrap(&t, WRAP[_i].mode, fixture_chip(WRAP[_i].chip));
    ck_assert_int_eq(t.wrap[0], WRAP[_i].w0);
    ck_assert_int_eq(t.wrap[1], WRAP[_i].w1);
    ck_assert_int_eq(t.wrap[2], WRAP[_i].w2);
    ck_assert_int_eq(torus_fully_wrapped(&t), WRAP[_i].full);
}
END_TEST

/* ---- coordinates, hops, routes ---- */

static torus_shape shape(const char *size, int w0, int w1, int w2)
{
    torus_shape t;
    ck_assert_int_eq(torus_parse(&t, size, 'x'), 0);
    t.wrap[0] = w0;
    t.wrap[1] = w1;
    t.wrap[2] = w2;
    return t;
}

START_TEST(test_coords)
{
    torus_shape t = shape("5x3x4", 0, 0, 0);
    ck_assert_int_eq(torus_nchips(&t), 60);
    int c[3];
    torus_coords(c, &t, 37);           /* 37 = 2 + 5*(1 + 3*2) */
    ck_assert_int_eq(c[0], 2);
    ck_assert_int_eq(c[1], 1);
    ck_assert_int_eq(c[2], 2);
    for (int r = 0; r < 60; r++) {
        torus_coords(c, &t, r);
        ck_assert_int_eq(torus_rank(&t, c), r);
    }
}
END_TEST

/* Ring distance the route must take along one dimension: the shorter way round when wrapped. */
static int ring_dist(int a, int b, int n, int wrap)
{
    int d = abs(a - b);
    return wrap && n - d < d ? n - d : d;
}

static const struct {
    const char *size;
    int w0, w1, w2;
    int links, max_hops;
} SHAPES[] = {
    { "4x4", 1, 1, 0, 64, 4 },        /* 16 chips x 2 dims x 2 directions */
    { "4x4", 0, 0, 0, 48, 6 },        /* 2 dims x 4 rows x 3 edges x 2 directions */
    { "2x2", 0, 0, 0, 8, 2 },
    { "4x4x4", 1, 1, 1, 384, 6 },
    { "6x5", 1, 0, 0, 2 * (5 * 6 + 6 * 4), 3 + 4 },
    { "5x3x2", 1, 1, 0, 2 * (3 * 2 * 5 + 5 * 2 * 3 + 5 * 3 * 1), 2 + 1 + 1 },
    { "8x8", 1, 1, 0, 256, 8 },
};

START_TEST(test_routes)
{
    torus_shape t = shape(SHAPES[_i].size, SHAPES[_i].w0, SHAPES[_i].w1, SHAPES[_i].w2);
    ck_assert_int_eq(torus_link_count(&t), SHAPES[_i].links);
    ck_assert_int_eq(torus_max_hops(&t), SHAPES[_i].max_hops);
    int n = torus_nchips(&t), longest = 0;
    torus_link route[64];
    long used = 0;
    for (int s = 0; s < n; s++)
        for (int d = 0; d < n; d++) {
            int cs[3], cd[3], cur[3];
            torus_coords(cs, &t, s);
            torus_coords(cd, &t, d);
            int expect = 0;
            for (int k = 0; k < t.ndims; k++)
                expect += ring_dist(cs[k], cd[k], t.dims[k], t.wrap[k]);
            int nh = torus_route(route, &t, s, d);
            ck_assert_int_eq(nh, expect);
            ck_assert_int_eq(torus_hops(&t, s, d), expect);
            if (nh > longest)
                longest = nh;
            /* Walk the route: each link leaves the current chip, exists, and dimensions never go back. */
            memcpy(cur, cs, sizeof cur);
            int last_dim = 0;
            for (int h = 0; h < nh; h++) {
                ck_assert_int_eq(route[h].chip, torus_rank(&t, cur));
                ck_assert(torus_link_exists(&t, route[h]));
                ck_assert_int_ge(route[h].dim, last_dim);
                last_dim = route[h].dim;
                int k = route[h].dim;
                cur[k] = (cur[k] + route[h].dir + t.dims[k]) % t.dims[k];
                used++;
            }
            ck_assert_int_eq(torus_rank(&t, cur), d);
        }
    ck_assert_int_eq(longest, SHAPES[_i].max_hops);
    ck_assert_int_gt(used, 0);
}
END_TEST

START_TEST(test_ties)
{
    /* Even rings at distance n/2: + except from n/2 to 0, as SimGrid's TORUS routes them. */
    torus_shape t = shape("4x4", 1, 1, 0);
    ck_assert_int_eq(torus_step(&t, 0, 0, 2), 1);
    ck_assert_int_eq(torus_step(&t, 0, 1, 3), 1);
    ck_assert_int_eq(torus_step(&t, 0, 3, 1), 1);
    ck_assert_int_eq(torus_step(&t, 0, 2, 0), -1);
    ck_assert_int_eq(torus_step(&t, 0, 3, 0), 1);      /* the wraparound */
    ck_assert_int_eq(torus_step(&t, 0, 0, 3), -1);
    ck_assert_int_eq(torus_step(&t, 0, 2, 2), 0);
    torus_shape m = shape("4x4", 0, 0, 0);
    ck_assert_int_eq(torus_step(&m, 0, 3, 0), -1);     /* no wraparound: the long way */
    torus_link l[8];
    ck_assert_int_eq(torus_route(l, &t, 5, 15), 4);  /* (1,1) -> (3,3): x+ x+ y+ y+ */
    ck_assert_int_eq(l[0].chip, 5);
    ck_assert_int_eq(l[1].chip, 6);
    ck_assert_int_eq(l[2].chip, 7);
    ck_assert_int_eq(l[2].dim, 1);
    ck_assert_int_eq(l[3].chip, 11);
    ck_assert_int_eq(l[3].dir, 1);
}
END_TEST

START_TEST(test_link_exists)
{
    torus_shape m = shape("4x3", 0, 0, 0), t = shape("4x3", 1, 1, 0);
    torus_link edge = { .chip = 3, .dim = 0, .dir = 1 };      /* x = 3 going +: only with wraparound */
    ck_assert(!torus_link_exists(&m, edge));
    ck_assert(torus_link_exists(&t, edge));
    torus_link bad_dim = { .chip = 0, .dim = 2, .dir = 1 }, bad_dir = { .chip = 0, .dim = 0, .dir = 0 };
    torus_link bad_chip = { .chip = 12, .dim = 0, .dir = 1 };
    ck_assert(!torus_link_exists(&t, bad_dim));
    ck_assert(!torus_link_exists(&t, bad_dir));
    ck_assert(!torus_link_exists(&t, bad_chip));
    char name[32];
    torus_link_name(name, sizeof name, (torus_link){ .chip = 11, .dim = 1, .dir = -1 });
    ck_assert_str_eq(name, "chip11_y-");
}
END_TEST

/* ---- numbers and XML ---- */

/* The text torus_write_xml produces for p, in a malloc'd string. */
static char *xml_of(const torus_platform *p, int *rc, char *msg, size_t msg_n)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *fp = open_memstream(&buf, &n);
    ck_assert_ptr_nonnull(fp);
    errbuf err = { "" };
    *rc = torus_write_xml(fp, p, &err);
    fclose(fp);
    snprintf(msg, msg_n, "%s", err.msg);
    return buf;
}

static int count(const char *text, const char *what)
{
    int c = 0;
    for (const char *p = strstr(text, what); p != NULL; p = strstr(p + 1, what))
        c++;
    return c;
}

START_TEST(test_xml_explicit)
{
    torus_platform p = { .chip = fixture_chip("tpuv3"), .shape = shape("4x4", 0, 0, 0), .link_Bps = 70.5e9,
                         .link_lat_s = 0.75e-6 };
    int rc;
    char msg[512];
    char *xml = xml_of(&p, &rc, msg, sizeof msg);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(msg, "");
    ck_assert_int_eq(count(xml, "<host id=\"chip"), 16);
    ck_assert_int_eq(count(xml, "<link id="), 48 + 16);          /* 48 directed links + 16 loopbacks */
    ck_assert_int_eq(count(xml, "<route src="), 256);
    ck_assert_int_eq(count(xml, "bandwidth=\"7.05e+10Bps\" latency=\"7.5e-07s\""), 48);
    ck_assert_int_eq(count(xml, "<prop id=\"wrap\" value=\"0,0\"/>"), 16);
    ck_assert_int_eq(count(xml, "<prop id=\"bf16_flops_per_core\" value=\"6.160384e+13\"/>"), 16);
    ck_assert_ptr_nonnull(strstr(xml, "<route src=\"chip5\" dst=\"chip15\" symmetrical=\"NO\"><link_ctn id=\"chip5_x+\"/>"
                                      "<link_ctn id=\"chip6_x+\"/><link_ctn id=\"chip7_y+\"/><link_ctn id=\"chip11_y+\"/>"
                                      "</route>"));
    ck_assert_int_eq(count(xml, "topology=\"TORUS\""), 0);
    free(xml);
}
END_TEST

START_TEST(test_xml_cluster)
{
    torus_platform p = { .chip = fixture_chip("tpuv4"), .shape = shape("4x4x4", 1, 1, 1), .link_Bps = 45e9,
                         .link_lat_s = 1e-6 };
    int rc;
    char msg[512];
    char *xml = xml_of(&p, &rc, msg, sizeof msg);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(count(xml, "topology=\"TORUS\" topo_parameters=\"4,4,4\""), 1);
    ck_assert_int_eq(count(xml, "radical=\"0-63\""), 1);
    ck_assert_int_eq(count(xml, "sharing_policy=\"SPLITDUPLEX\""), 1);
    ck_assert_int_eq(count(xml, "<prop id="), 17);
    ck_assert_int_eq(count(xml, "<prop id=\"torus\" value=\"4,4,4\"/>"), 1);
    ck_assert_int_eq(count(xml, "<prop id=\"link_Bps\" value=\"4.5e+10\"/>"), 1);
    ck_assert_int_eq(count(xml, "<prop id=\"link_bw_factor\" value=\"1\"/>"), 1);
    ck_assert_int_eq(count(xml, "<route"), 0);
    free(xml);
}
END_TEST

static const struct {
    torus_platform p;
    const char *size;
    int w0, w1;
    const char *msg;
} XML_BAD[] = {
    { { .link_Bps = 1e11, .link_lat_s = 1e-6 }, "32x16", 1, 0,
      "torus 32x16 is not wrapped in every dimension, so it needs explicit routes, which are supported up to 256 "
      "chips, got 512" },
    { { .link_Bps = 0, .link_lat_s = 1e-6 }, "4x4", 1, 1, "torus platform: link bandwidth must be > 0 B/s, got 0" },
    { { .link_Bps = 1e11, .link_lat_s = -1e-6 }, "4x4", 1, 1,
      "torus platform: link latency must be >= 0 s, got -1e-06" },
};

START_TEST(test_xml_bad)
{
    torus_platform p = XML_BAD[_i].p;
    p.chip = fixture_chip("tpuv3");
    p.shape = shape(XML_BAD[_i].size, XML_BAD[_i].w0, XML_BAD[_i].w1, 0);
    errbuf err = { "" };
    ck_assert_int_eq(torus_platform_check(&p, &err), -1);
    ck_assert_str_eq(err.msg, XML_BAD[_i].msg);
    int rc;
    char msg[512];
    char *xml = xml_of(&p, &rc, msg, sizeof msg);
    ck_assert_int_eq(rc, -1);
    ck_assert_str_eq(msg, XML_BAD[_i].msg);
    ck_assert(xml == NULL || xml[0] == '\0');     /* nothing written */
    free(xml);
}
END_TEST

START_TEST(test_xml_write_error)
{
    FILE *fp = fopen("/dev/full", "w");
    if (fp == NULL)
        return;                                   /* no /dev/full here: nothing to provoke */
    torus_platform p = { .chip = fixture_chip("tpuv3"), .shape = shape("4x4", 0, 0, 0), .link_Bps = 1e11,
                         .link_lat_s = 1e-6 };
    errbuf err = { "" };
    int rc = torus_write_xml(fp, &p, &err);       /* 4x4 explicit is far larger than a stdio buffer */
    fclose(fp);
    ck_assert_int_eq(rc, -1);
    ck_assert_str_eq(err.msg, "torus platform: write failed");
}
END_TEST

static Suite *torus_suite(void)
{
    Suite *s = suite_create("torus");
    TCase *tc = tcase_create("parse");
    tcase_add_loop_test(tc, test_parse_good, 0, (int)(sizeof PARSE_GOOD / sizeof PARSE_GOOD[0]));
    tcase_add_loop_test(tc, test_parse_bad, 0, (int)(sizeof PARSE_BAD / sizeof PARSE_BAD[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("wrap");
    tcase_add_loop_test(tc, test_wrap, 0, (int)(sizeof WRAP / sizeof WRAP[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("routes");
    tcase_add_test(tc, test_coords);
    tcase_add_loop_test(tc, test_routes, 0, (int)(sizeof SHAPES / sizeof SHAPES[0]));
    tcase_add_test(tc, test_ties);
    tcase_add_test(tc, test_link_exists);
    suite_add_tcase(s, tc);
    tc = tcase_create("xml");
    tcase_add_test(tc, test_xml_explicit);
    tcase_add_test(tc, test_xml_cluster);
    tcase_add_loop_test(tc, test_xml_bad, 0, (int)(sizeof XML_BAD / sizeof XML_BAD[0]));
    tcase_add_test(tc, test_xml_write_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(torus_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
