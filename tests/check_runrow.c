/* Check suite for analysis/runrow.c and sim/common/csvread.c: the header, the writer's exact bytes,
 * the libcsv reader (round trip, CRLF, every rejection with its exact message). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/runrow.h"
#include "sim/common/csvread.h"
#include "tests/fixtures.h"

#define HEADER "model,platform,cores,data,model_par,experts_per_core,top_k,capacity_factor,expert_capacity," \
               "routing,dispatch,a2a,seed,tokens_per_batch,scope,layer,phase,dropped_frac,lb_loss," \
               "a2a_bytes_per_core,step_time_s,compute_s,router_s,dispatch_combine_s,a2a_s,allreduce_s," \
               "idle_s,examples_per_s,tflops_per_chip,mfu,hfu,precision,impl,sim_wall_s,matmul_precision,pipe," \
               "micro_batches,zero,bubble_s,max_load,a2a_across_s,rsag_s"
#define NEW_COLS ",pipe,micro_batches,zero,bubble_s,max_load,a2a_across_s,rsag_s"   /* added after matmul_precision: an
                                                                                  * older CSV lacks them */

static runrow sample_row(void)
{
    runrow r = {
        .model = "switch-base", .platform = "topologies/tpuv3-4x4.xml", .cores = 32, .data = 32,
        .model_par = 1, .experts_per_core = 4, .top_k = 1, .capacity_factor = 1.25, .expert_capacity = 40,
        .routing = "router", .dispatch = "padded", .a2a = "phased", .seed = 1, .tokens_per_batch = 1048576,
        .scope = "step", .layer = -1, .phase = "all", .dropped_frac = 0.00625, .lb_loss = 0.0101,
        .a2a_bytes_per_core = 402653184, .step_time_s = 0.61, .compute_s = 0.43, .router_s = 0.0055,
        .dispatch_combine_s = 0.025, .a2a_s = 0.073, .allreduce_s = 0.049, .idle_s = 0.0225,
        .examples_per_s = 3357.1, .tflops_per_chip = 45.5, .mfu = 0.37, .hfu = 0.52, .precision = "selective", .impl = "flaxformer",
        .sim_wall_s = 1.9, .matmul_precision = "default", .pipe = 1, .micro_batches = 1,
    };
    return r;
}

START_TEST(test_header)
{
    ck_assert_str_eq(runrow_header(), HEADER);
    ck_assert_int_eq(runrow_ncols(), 42);
    ck_assert_str_eq(runrow_col_name(0), "model");
    ck_assert_str_eq(runrow_col_name(33), "sim_wall_s");
    ck_assert_str_eq(runrow_col_name(34), "matmul_precision");
    ck_assert_str_eq(runrow_col_name(38), "bubble_s");
    ck_assert_str_eq(runrow_col_name(39), "max_load");
    ck_assert_str_eq(runrow_col_name(41), "rsag_s");
    ck_assert_ptr_null(runrow_col_name(42));
    ck_assert_ptr_null(runrow_col_name(-1));
}
END_TEST

START_TEST(test_write_bytes)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    runrow r = sample_row();
    ck_assert_int_eq(runrow_write_header(fp), 0);
    ck_assert_int_eq(runrow_write(fp, &r), 0);
    /* quoting: comma and quote inside, doubled quotes; %.9g: 1/3 to 9 digits, 1.5e9 in e-form */
    snprintf(r.platform, sizeof r.platform, "my, \"odd\" platform.xml");
    snprintf(r.routing, sizeof r.routing, " lead");
    r.step_time_s = 1.0 / 3.0;
    r.a2a_bytes_per_core = 1.5e9;
    r.seed = -7;
    r.allreduce_s = NAN;
    ck_assert_int_eq(runrow_write(fp, &r), 0);
    fclose(fp);
    ck_assert_str_eq(buf, HEADER "\n"
        "switch-base,topologies/tpuv3-4x4.xml,32,32,1,4,1,1.25,40,router,padded,phased,1,1048576,step,-1,all,"
        "0.00625,0.0101,402653184,0.61,0.43,0.0055,0.025,0.073,0.049,0.0225,3357.1,45.5,0.37,0.52,selective,flaxformer,1.9,"
        "default,1,1,0,0,0,0,0\n"
        "switch-base,\"my, \"\"odd\"\" platform.xml\",32,32,1,4,1,1.25,40,\" lead\",padded,phased,-7,1048576,"
        "step,-1,all,0.00625,0.0101,1.5e+09,0.333333333,0.43,0.0055,0.025,0.073,nan,0.0225,3357.1,45.5,0.37,0.52,selective,"
        "flaxformer,1.9,default,1,1,0,0,0,0,0\n");
    free(buf);
}
END_TEST

/* A CSV written before the matmul_precision column existed reads with 'highest' there (what the cost model
 * charged an fp32 matmul then: 6 bf16 passes on a TPU, plain FP32 on a GPU), every other column as written. */
START_TEST(test_old_columns)
{
    runrow *old = NULL, *now = NULL;
    int n_old = -1, n_now = -1;
    errbuf err = { "" };
    ck_assert_msg(runrow_read("tests/data/csv_old_columns.csv", &old, &n_old, &err) == 0, "%s", err.msg);
    ck_assert_msg(runrow_read("tests/data/csv_good.csv", &now, &n_now, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(n_old, 2);
    ck_assert_int_eq(n_now, 2);
    for (int i = 0; i < 2; i++) {
        ck_assert_str_eq(old[i].matmul_precision, "highest");
        ck_assert_str_eq(now[i].matmul_precision, "default");
        ck_assert(!runrow_same_config(&old[i], &now[i]));      /* summarize keeps them apart */
        snprintf(old[i].matmul_precision, sizeof old[i].matmul_precision, "default");
        ck_assert_int_eq(memcmp(&old[i], &now[i], sizeof now[i]), 0);
    }
    free(old);
    free(now);
}
END_TEST

/* Reading a file the writer could have written before the pipeline's columns and writing it back gives the same
 * bytes, with those columns added at their old values (pipe 1, micro_batches 1, zero 0, bubble_s 0, max_load 0,
 * a2a_across_s 0, rsag_s 0). */
START_TEST(test_round_trip)
{
    runrow *rows = NULL;
    int n = -1;
    errbuf err = { "" };
    ck_assert_msg(runrow_read("tests/data/csv_good.csv", &rows, &n, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(rows[1].platform, "my, \"odd\" platform.xml");
    ck_assert_int_eq(rows[1].layer, 3);
    ck_assert(rows[1].examples_per_s == 0.0);
    runrow want = sample_row();
    ck_assert(memcmp(&rows[0], &want, sizeof want) == 0);   /* sample_row's padding is zero too */

    char *buf = NULL;
    size_t len = 0, flen = 0;
    FILE *fp = open_memstream(&buf, &len);
    runrow_write_header(fp);
    for (int i = 0; i < n; i++)
        runrow_write(fp, &rows[i]);
    fclose(fp);
    char *file = fixture_slurp("tests/data/csv_good.csv", &flen);
    char *exp = malloc(flen + 3 * 64), *w = exp;
    for (const char *f = file; *f; f++) {
        if (*f == '\n')
            w += sprintf(w, "%s", w == exp + strcspn(file, "\n") ? NEW_COLS : ",1,1,0,0,0,0,0");
        *w++ = *f;
    }
    *w = '\0';
    ck_assert_str_eq(buf, exp);
    free(buf);
    free(file);
    free(exp);
    free(rows);
}
END_TEST

/* A pipelined run's row reads back with its pipeline columns. */
START_TEST(test_read_pipe)
{
    runrow *rows = NULL;
    int n = -1;
    errbuf err = { "" };
    ck_assert_msg(runrow_read("tests/data/csv_pipe.csv", &rows, &n, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(rows[0].pipe, 4);
    ck_assert_int_eq(rows[0].micro_batches, 8);
    ck_assert_int_eq(rows[0].zero, 1);
    ck_assert(rows[0].bubble_s == 0.125);
    free(rows);
}
END_TEST

START_TEST(test_read_crlf_and_empty_body)
{
    runrow *rows = NULL;
    int n = -1;
    errbuf err = { "" };
    ck_assert_msg(runrow_read("tests/data/csv_crlf.csv", &rows, &n, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(n, 1);
    ck_assert(rows[0].sim_wall_s == 1.9 && strcmp(rows[0].a2a, "phased") == 0);
    free(rows);
    ck_assert_int_eq(runrow_read("tests/data/csv_header_only.csv", &rows, &n, &err), 0);
    ck_assert_int_eq(n, 0);
    free(rows);
}
END_TEST

#define D "tests/data/"
static const struct { const char *file, *msg; } BAD[] = {
    { "tests/data/csv_missing.csv", "tests/data/csv_missing.csv: cannot open: No such file or directory" },
    { "tests/data/csv_empty.csv", "tests/data/csv_empty.csv: empty file, expected a header line" },
    { "tests/data/csv_bad_header.csv",
      "tests/data/csv_bad_header.csv:1: column 4 is 'dta', expected 'data' (the header of run --csv)" },
    { "tests/data/csv_short_header.csv",
      "tests/data/csv_short_header.csv:1: header has 33 columns, expected 42 (the header of run --csv)" },
    { "tests/data/csv_short_row.csv", "tests/data/csv_short_row.csv:3: expected 34 fields, got 33" },
    { "tests/data/csv_torn.csv", "tests/data/csv_torn.csv:2: expected 34 fields, got 12" },
    { "tests/data/csv_bad_int.csv", "tests/data/csv_bad_int.csv:4: column 'seed' must be an integer, got 'x1'" },
    { "tests/data/csv_bad_num.csv",
      "tests/data/csv_bad_num.csv:2: column 'step_time_s' must be a number, got 'fast'" },
    { "tests/data/csv_bad_quote.csv", "tests/data/csv_bad_quote.csv:2: malformed CSV (error parsing data while strict checking enabled)" },
    { "tests/data/csv_long_model.csv",
      "tests/data/csv_long_model.csv:2: column 'model' must be shorter than 64 bytes, got "
      "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'" },
    { "/dev/zero", "/dev/zero:1: line longer than 1048576 bytes (not a CSV file?)" },   /* endless input */
    /* values run never writes: refused, so merge, summarize and --resume never take them */
    { D "csv_neg_cores.csv", D "csv_neg_cores.csv:2: column 'cores' must be an integer >= 1, got '-1'" },
    { D "csv_plan_cores.csv", D "csv_plan_cores.csv:2: column 'model_par' must be cores / data / pipe, got '1'" },
    { D "csv_bad_micro.csv", D "csv_bad_micro.csv:2: column 'micro_batches' must be an integer >= 1 (1 when pipe is 1), "
      "got '2'" },
    { D "csv_neg_dropped.csv", D "csv_neg_dropped.csv:2: column 'dropped_frac' must be a fraction in [0, 1], got '-5'" },
    { D "csv_nan_time.csv", D "csv_nan_time.csv:2: column 'step_time_s' must be a finite number >= 0, got 'nan'" },
    { D "csv_inf_wall.csv", D "csv_inf_wall.csv:2: column 'sim_wall_s' must be a finite number >= 0, got 'inf'" },
    { D "csv_bad_scope.csv", D "csv_bad_scope.csv:2: column 'scope' must be step or layer, got 'steps'" },
};

/* A UTF-8 byte-order mark before the header is skipped. */
START_TEST(test_read_bom)
{
    runrow *rows = NULL;
    int n = 0;
    errbuf err = { "" };
    ck_assert_msg(runrow_read("tests/data/csv_bom.csv", &rows, &n, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(n, 2);
    free(rows);
}
END_TEST

START_TEST(test_read_bad)
{
    runrow *rows = (runrow *)&rows;   /* must stay untouched */
    int n = -5;
    errbuf err = { "" };
    ck_assert_int_eq(runrow_read(BAD[_i].file, &rows, &n, &err), -1);
    ck_assert_str_eq(err.msg, BAD[_i].msg);
    ck_assert_ptr_eq(rows, (runrow *)&rows);
    ck_assert_int_eq(n, -5);
}
END_TEST

START_TEST(test_csvtab_lines)
{
    errbuf err = { "" };
    csvtab *t = csvtab_read("tests/data/csv_bad_int.csv", &err);   /* a blank line before row 2 */
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->ncols, 34);
    ck_assert_int_eq(t->nrows, 2);
    ck_assert_int_eq(t->line[0], 1);
    ck_assert_int_eq(t->line[1], 2);
    ck_assert_int_eq(t->line[2], 4);
    ck_assert_str_eq(csvtab_get(t, -1, 1), "platform");
    ck_assert_str_eq(csvtab_get(t, 1, 12), "x1");
    csvtab_free(t);
    csvtab_free(NULL);
}
END_TEST

START_TEST(test_same_config)
{
    runrow a = sample_row(), b = sample_row();
    b.seed = 99;                     /* seed and results do not count */
    b.step_time_s = 7;
    b.sim_wall_s = 0;
    ck_assert_int_eq(runrow_same_config(&a, &b), 1);
    b.capacity_factor = 1.25 + 1e-12; /* prints the same with %.9g */
    ck_assert_int_eq(runrow_same_config(&a, &b), 1);
    b.capacity_factor = 1.5;
    ck_assert_int_eq(runrow_same_config(&a, &b), 0);
    b = sample_row();
    snprintf(b.phase, sizeof b.phase, "fwd");
    ck_assert_int_eq(runrow_same_config(&a, &b), 0);
    b = sample_row();
    b.top_k = 2;
    ck_assert_int_eq(runrow_same_config(&a, &b), 0);
    b = sample_row();
    b.tokens_per_batch = 1;
    ck_assert_int_eq(runrow_same_config(&a, &b), 0);
}
END_TEST

static Suite *runrow_suite(void)
{
    Suite *s = suite_create("runrow");
    TCase *tc = tcase_create("header");
    tcase_add_test(tc, test_header);
    suite_add_tcase(s, tc);
    tc = tcase_create("write");
    tcase_add_test(tc, test_write_bytes);
    suite_add_tcase(s, tc);
    tc = tcase_create("read");
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_old_columns);
    tcase_add_test(tc, test_read_pipe);
    tcase_add_test(tc, test_read_crlf_and_empty_body);
    tcase_add_test(tc, test_read_bom);
    tcase_add_loop_test(tc, test_read_bad, 0, (int)(sizeof BAD / sizeof BAD[0]));
    tcase_add_test(tc, test_csvtab_lines);
    suite_add_tcase(s, tc);
    tc = tcase_create("same_config");
    tcase_add_test(tc, test_same_config);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(runrow_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
