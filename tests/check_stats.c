/* Check suite for analysis/stats.c: GSL summaries on known values, grouping by configuration
 * over seeds, the summarize CSV bytes, and the rejections. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/stats.h"

START_TEST(test_summarize_known)
{
    const double x[] = { 2.385, 1.0, 4.5, 3.25 };   /* mean 2.78375, sample sd 1.47237549 (Python statistics) */
    stats_summary s;
    errbuf err = { "" };
    ck_assert_int_eq(stats_summarize(&s, x, 4, &err), 0);
    ck_assert_uint_eq(s.n, 4);
    ck_assert_double_eq_tol(s.mean, 2.78375, 1e-12);
    ck_assert_double_eq_tol(s.sd, 1.4723754899254922, 1e-12);
    ck_assert_double_eq(s.min, 1.0);
    ck_assert_double_eq(s.max, 4.5);
}
END_TEST

START_TEST(test_summarize_one)
{
    const double x[] = { -0.75 };
    stats_summary s;
    ck_assert_int_eq(stats_summarize(&s, x, 1, NULL), 0);
    ck_assert_double_eq(s.mean, -0.75);
    ck_assert_double_eq(s.sd, 0.0);          /* not GSL's NaN for n-1 = 0 */
    ck_assert_double_eq(s.min, -0.75);
    ck_assert_double_eq(s.max, -0.75);
}
END_TEST

static const struct { double x[3]; size_t n; const char *msg; } BAD[] = {
    { { 0, 0, 0 }, 0, "no values to summarize" },
    { { 1.5, NAN, 2 }, 3, "value 2 is not finite" },
    { { 1.5, 2, INFINITY }, 3, "value 3 is not finite" },
};

START_TEST(test_summarize_bad)
{
    stats_summary s = { .n = 77 };
    errbuf err = { "" };
    ck_assert_int_eq(stats_summarize(&s, BAD[_i].x, BAD[_i].n, &err), -1);
    ck_assert_str_eq(err.msg, BAD[_i].msg);
    ck_assert_uint_eq(s.n, 77);
}
END_TEST

/* csv_seeds.csv: k=1 at seeds 1,2,3 (step 0.625/0.75/0.875 s, 1000/2000/3000 examples/s,
 * dropped 0.01/0.02/0.03, a2a 0.1/0.2/0.3 s), then k=2 at seed 1 only. */
START_TEST(test_group_rows)
{
    runrow *rows = NULL;
    int n = 0, ng = 0;
    stats_group *g = NULL;
    errbuf err = { "" };
    ck_assert_msg(runrow_read("tests/data/csv_seeds.csv", &rows, &n, &err) == 0, "%s", err.msg);
    ck_assert_msg(stats_group_rows(&g, &ng, rows, n, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ng, 2);
    ck_assert_int_eq(g[0].n, 3);
    ck_assert_int_eq(g[0].first.top_k, 1);
    ck_assert_double_eq_tol(g[0].m[0].mean, 0.75, 1e-12);
    ck_assert_double_eq_tol(g[0].m[0].sd, 0.125, 1e-12);
    ck_assert_double_eq(g[0].m[0].min, 0.625);
    ck_assert_double_eq(g[0].m[0].max, 0.875);
    ck_assert_double_eq_tol(g[0].m[1].mean, 2000, 1e-9);
    ck_assert_double_eq_tol(g[0].m[1].sd, 1000, 1e-9);
    ck_assert_double_eq_tol(g[0].m[2].mean, 0.02, 1e-12);
    ck_assert_double_eq_tol(g[0].m[3].max, 0.3, 1e-12);
    ck_assert_int_eq(g[1].n, 1);
    ck_assert_int_eq(g[1].first.top_k, 2);
    ck_assert_double_eq(g[1].m[0].sd, 0.0);

    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    ck_assert_int_eq(stats_write_groups(fp, g, ng), 0);
    fclose(fp);
    ck_assert_str_eq(buf,
        "model,platform,cores,data,model_par,top_k,capacity_factor,routing,dispatch,a2a,scope,layer,phase,n_seeds,"
        "step_time_s_mean,step_time_s_sd,step_time_s_min,step_time_s_max,"
        "examples_per_s_mean,examples_per_s_sd,examples_per_s_min,examples_per_s_max,"
        "dropped_frac_mean,dropped_frac_sd,dropped_frac_min,dropped_frac_max,"
        "a2a_s_mean,a2a_s_sd,a2a_s_min,a2a_s_max\n"
        "switch-base,topologies/tpuv3-4x4.xml,32,32,1,1,1.25,router,padded,phased,step,-1,all,3,"
        "0.75,0.125,0.625,0.875,2000,1000,1000,3000,0.02,0.01,0.01,0.03,0.2,0.1,0.1,0.3\n"
        "switch-base,topologies/tpuv3-4x4.xml,32,32,1,2,1.25,router,padded,phased,step,-1,all,1,"
        "0.61,0,0.61,0.61,3357.1,0,3357.1,3357.1,0.00625,0,0.00625,0.00625,0.073,0,0.073,0.073\n");
    free(buf);
    free(g);
    free(rows);
}
END_TEST

START_TEST(test_group_nonfinite)
{
    runrow r[2] = { { .model = "switch-base", .top_k = 2, .capacity_factor = 0.5, .step_time_s = 1 },
                    { .model = "switch-base", .top_k = 2, .capacity_factor = 0.5, .seed = 2 } };
    r[1].a2a_s = NAN;
    stats_group *g = (stats_group *)&r;
    int ng = -3;
    errbuf err = { "" };
    ck_assert_int_eq(stats_group_rows(&g, &ng, r, 2, &err), -1);
    ck_assert_str_eq(err.msg, "a2a_s of switch-base (top_k 2, capacity_factor 0.5): value 2 is not finite");
    ck_assert_ptr_eq(g, (stats_group *)&r);
    ck_assert_int_eq(ng, -3);
}
END_TEST

START_TEST(test_group_empty)
{
    stats_group *g = NULL;
    int ng = -1;
    ck_assert_int_eq(stats_group_rows(&g, &ng, NULL, 0, NULL), 0);
    ck_assert_int_eq(ng, 0);
    free(g);
}
END_TEST

static Suite *stats_suite(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("summarize");
    tcase_add_test(tc, test_summarize_known);
    tcase_add_test(tc, test_summarize_one);
    tcase_add_loop_test(tc, test_summarize_bad, 0, (int)(sizeof BAD / sizeof BAD[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("group_rows");
    tcase_add_test(tc, test_group_rows);
    tcase_add_test(tc, test_group_nonfinite);
    tcase_add_test(tc, test_group_empty);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(stats_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
