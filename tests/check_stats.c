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
    int ndup = -1;
    ck_assert_msg(stats_group_rows(&g, &ng, &ndup, rows, n, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ndup, 0);
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
    ck_assert_str_eq(buf,       /* every config column, so no two groups print alike */
        "model,platform,cores,data,model_par,experts_per_core,top_k,capacity_factor,expert_capacity,routing,"
        "dispatch,a2a,tokens_per_batch,scope,layer,phase,precision,impl,matmul_precision,pipe,micro_batches,zero,"
        "n_seeds,"
        "step_time_s_mean,step_time_s_sd,step_time_s_min,step_time_s_max,"
        "examples_per_s_mean,examples_per_s_sd,examples_per_s_min,examples_per_s_max,"
        "dropped_frac_mean,dropped_frac_sd,dropped_frac_min,dropped_frac_max,"
        "a2a_s_mean,a2a_s_sd,a2a_s_min,a2a_s_max,"
        "a2a_bytes_per_core_mean,a2a_bytes_per_core_sd,a2a_bytes_per_core_min,a2a_bytes_per_core_max\n"
        "switch-base,topologies/tpuv3-4x4.xml,32,32,1,4,1,1.25,40,router,padded,phased,1048576,step,-1,all,"
        "selective,flaxformer,highest,1,1,0,3,0.75,0.125,0.625,0.875,2000,1000,1000,3000,0.02,0.01,0.01,0.03,0.2,0.1,"
        "0.1,0.3,402653184,0,402653184,402653184\n"
        "switch-base,topologies/tpuv3-4x4.xml,32,32,1,4,2,1.25,40,router,padded,phased,1048576,step,-1,all,"
        "selective,flaxformer,highest,1,1,0,1,0.61,0,0.61,0.61,3357.1,0,3357.1,3357.1,0.00625,0,0.00625,0.00625,0.073,0,"
        "0.073,"
        "0.073,402653184,0,402653184,402653184\n");
    free(buf);
    buf = NULL;
    fp = open_memstream(&buf, &len);
    ck_assert_int_eq(stats_write_table(fp, g, ng), 0);
    fclose(fp);
    ck_assert_str_eq(buf,
        "# every group: model=switch-base platform=topologies/tpuv3-4x4.xml cores=32 data=32 model_par=1 "
        "experts_per_core=4 capacity_factor=1.25 expert_capacity=40 routing=router dispatch=padded a2a=phased "
        "tokens_per_batch=1048576 scope=step layer=-1 phase=all precision=selective impl=flaxformer "
        "matmul_precision=highest pipe=1 micro_batches=1 zero=0\n"
        "top_k  n  step_s     sd  a2a_s   sd  a2a_MB/core  sd\n"
        "1      3    0.75  0.125    0.2  0.1      402.653   0\n"
        "2      1    0.61      0  0.073    0      402.653   0\n");
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
    ck_assert_int_eq(stats_group_rows(&g, &ng, NULL, r, 2, &err), -1);
    ck_assert_str_eq(err.msg, "a2a_s of switch-base (top_k 2, capacity_factor 0.5): value 2 is not finite");
    ck_assert_ptr_eq(g, (stats_group *)&r);
    ck_assert_int_eq(ng, -3);
}
END_TEST

START_TEST(test_group_empty)
{
    stats_group *g = NULL;
    int ng = -1;
    ck_assert_int_eq(stats_group_rows(&g, &ng, NULL, NULL, 0, NULL), 0);
    ck_assert_int_eq(ng, 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    ck_assert_int_eq(stats_write_table(fp, g, ng), 0);
    fclose(fp);
    ck_assert_str_eq(buf, "(no rows)\n");
    free(buf);
    free(g);
}
END_TEST

static runrow base_row(double cf, long seed, double step_s)
{
    runrow r = { .model = "switch-base", .platform = "p.xml", .cores = 2, .data = 2, .model_par = 1, .top_k = 1,
                 .capacity_factor = cf, .routing = "router", .dispatch = "padded", .a2a = "phased", .seed = seed,
                 .scope = "step", .layer = -1, .phase = "all", .step_time_s = step_s, .a2a_s = step_s / 10,
                 .a2a_bytes_per_core = 2e6, .precision = "selective", .impl = "meshtf",
                 .matmul_precision = "default", .pipe = 1, .micro_batches = 1 };
    return r;
}

/* Groups that differ only in precision, impl or tokens per batch are told apart in both outputs (each
 * printed the same keys with different means), sorted by configuration, not by order of appearance. */
START_TEST(test_group_shows_every_difference)
{
    runrow r[6];
    for (int i = 0; i < 6; i++)
        r[i] = base_row(1, 1, 1.0 + i);
    strcpy(r[0].precision, "fp32");
    strcpy(r[1].impl, "lingvo");
    r[2].tokens_per_batch = 2048;
    strcpy(r[3].precision, "fp32");
    strcpy(r[3].impl, "lingvo");
    r[5].seed = 2;                                   /* a second seed of r[4] */
    stats_group *g = NULL;
    int ng = 0;
    errbuf err = { "" };
    ck_assert_msg(stats_group_rows(&g, &ng, NULL, r, 6, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ng, 5);
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    ck_assert_int_eq(stats_write_table(fp, g, ng), 0);
    fclose(fp);
    ck_assert_str_eq(buf,
        "# every group: model=switch-base platform=p.xml cores=2 data=2 model_par=1 experts_per_core=0 top_k=1 "
        "capacity_factor=1 expert_capacity=0 routing=router dispatch=padded a2a=phased scope=step layer=-1 "
        "phase=all matmul_precision=default pipe=1 micro_batches=1 zero=0\n"
        "tokens_per_batch  precision  impl    n  step_s     sd  a2a_s      sd  a2a_MB/core  sd\n"
        "0                 fp32       lingvo  1       4      0    0.4       0            2   0\n"
        "0                 fp32       meshtf  1       1      0    0.1       0            2   0\n"
        "0                 selective  lingvo  1       2      0    0.2       0            2   0\n"
        "0                 selective  meshtf  2     5.5  0.707   0.55  0.0707            2   0\n"
        "2048              selective  meshtf  1       3      0    0.3       0            2   0\n");
    free(buf);
    free(g);
}
END_TEST

/* A run read twice is counted once; the same configuration and seed with other results is an error. */
START_TEST(test_group_repeated_rows)
{
    runrow r[4] = { base_row(1, 1, 1.0), base_row(1, 2, 2.0), base_row(1, 1, 1.0), base_row(1, 2, 2.0) };
    r[2].sim_wall_s = 9;                             /* the wall time is no result of the run */
    stats_group *g = NULL;
    int ng = 0, ndup = 0;
    errbuf err = { "" };
    ck_assert_msg(stats_group_rows(&g, &ng, &ndup, r, 4, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ng, 1);
    ck_assert_int_eq(g[0].n, 2);
    ck_assert_int_eq(ndup, 2);
    ck_assert_double_eq_tol(g[0].m[0].sd, 0.70710678118654757, 1e-15);   /* not sd 0.577 of 4 values */
    free(g);
    g = NULL;
    r[3].step_time_s = 2.5;
    ck_assert_int_eq(stats_group_rows(&g, &ng, &ndup, r, 4, &err), -1);
    ck_assert_str_eq(err.msg, "rows 2 and 4 are one configuration and seed (2) with different results "
                              "(step_time_s 2 and 2.5): rows of two versions of switchsim?");
    ck_assert_ptr_null(g);
}
END_TEST

/* 20,000 distinct configurations group in well under Check's timeout (comparing each row with every group
 * took 6.6 s for 5,000 and over 100 s for 20,000). */
START_TEST(test_group_many)
{
    enum { N = 20000 };
    runrow *r = malloc(N * sizeof *r);
    for (int i = 0; i < N; i++)
        r[i] = base_row(0.5 + (N - i) * 1e-3, 1 + i % 3, 1.0);
    stats_group *g = NULL;
    int ng = 0;
    errbuf err = { "" };
    ck_assert_msg(stats_group_rows(&g, &ng, NULL, r, N, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ng, N);
    ck_assert_double_eq_tol(g[0].first.capacity_factor, 0.501, 1e-12);      /* sorted by configuration */
    ck_assert_double_eq_tol(g[N - 1].first.capacity_factor, 20.5, 1e-12);
    free(g);
    free(r);
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
    tcase_add_test(tc, test_group_shows_every_difference);
    tcase_add_test(tc, test_group_repeated_rows);
    tcase_add_test(tc, test_group_many);
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
