/* check_collmeas: fidelity/collmeas, the measured collective dataset: the loader (the committed file, and rejections
 * with their exact messages), predictions on the GPU platforms of each row's GPU count (one collbench run per
 * group, never below the op's bound, one-GPU rows not predicted), and the validate section's arithmetic on a
 * dataset whose times are switchsim's own scaled by a known factor. */
#include "fidelity/collmeas.h"
#include "fidelity/measured.h"
#include "tests/fixtures.h"
#include "topologies/gpu.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GPU1 "topologies/h200-1gpu.xml"
#define COMMITTED "data/h200-collectives.csv"
#define HEAD "op,gpus,bytes,time_us,device\n"

FIXTURE_TMPDIR_SUITE("check_collmeas")

/* The committed file: 2 ops x 21 sizes (1 KiB .. 1 GiB) on 2, 4 and 8 GPUs, every row planned until measured
 * on a machine of several GPUs. */
START_TEST(test_load_committed)
{
    errbuf err = { "" };
    collmeas_set *s = collmeas_load(COMMITTED, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_int_eq(s->n, 126);
    ck_assert_str_eq(s->device, "NVIDIA H200");
    ck_assert_int_eq(s->op[0], COLLBENCH_A2A);
    ck_assert_int_eq(s->gpus[0], 2);
    ck_assert_double_eq(s->bytes[0], 1024.0);
    ck_assert_double_eq(s->bytes[20], 1073741824.0);
    ck_assert_int_eq(s->op[21], COLLBENCH_ALLREDUCE);
    ck_assert_int_eq(s->gpus[125], 8);
    collmeas_free(s);
}
END_TEST

static const struct {
    const char *text, *msg;   /* msg: what follows the temporary file's path */
} BAD[] = {
    { HEAD "all-to-all,8,1024,30,H200\nbroadcast,8,1024,30,H200\n",
      ":3: column 'op' must be all-to-all, all-reduce, all-gather or reduce-scatter, got 'broadcast'" },
    { HEAD "all-to-all,0,1024,30,H200\n", ":2: column 'gpus' must be an integer in [1,4096], got '0'" },
    { HEAD "all-to-all,8,-1,30,H200\n", ":2: column 'bytes' must be a number in (0, 1e15], got '-1'" },
    { HEAD "all-to-all,8,1024,0,H200\n", ":2: column 'time_us' must be a number > 0 or empty, got '0'" },
    { HEAD "all-to-all,8,1024,inf,H200\n", ":2: column 'time_us' must be a number > 0 or empty, got 'inf'" },
    { "op,gpus,bytes,device\nall-to-all,8,1024,H200\n", ":1: missing column 'time_us'" },
    { HEAD, ": no data rows" },
};

START_TEST(test_load_bad)
{
    errbuf err = { "" };
    const char *path = write_tmp("bad.csv", BAD[_i].text);
    ck_assert_ptr_null(collmeas_load(path, &err));
    char want[256];
    snprintf(want, sizeof want, "%s%s", path, BAD[_i].msg);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

/* Predictions: the engine's collective on the row's n-GPU platform, increasing with size, never below the op's
 * bound on that platform; a one-GPU row crosses no link and gets none. */
START_TEST(test_predict)
{
    errbuf err = { "" };
    const char *path = write_tmp("p.csv", HEAD
        "all-to-all,8,1048576,,H200\nall-to-all,8,1024,,H200\nall-to-all,8,1073741824,,H200\n"
        "all-reduce,2,1073741824,,H200\nall-reduce,1,1024,20,H200\n");
    collmeas_set *s = collmeas_load(path, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_int_eq(s->measured[0], 0);
    ck_assert_int_eq(s->measured[4], 1);
    double pred[5];
    ck_assert_msg(collmeas_predict(pred, s, GPU1, &err) == 0, "%s", err.msg);
    ck_assert(pred[1] > 0.0 && pred[1] < pred[0] && pred[0] < pred[2]);   /* 1 KiB < 1 MiB < 1 GiB */
    ck_assert(pred[3] > 0.0);
    ck_assert(isnan(pred[4]));
    /* 1 GiB all-to-all over 8 GPUs: each sends 7/8 GiB over its NVLink (the preset's one-way bandwidth): the
     * simulated time is at least that, and within the network model's bandwidth factor and a few latencies */
    double inject = 1073741824.0 * 7.0 / 8.0 / fixture_chip("h200")->nvlink_Bps;
    ck_assert_msg(pred[2] >= inject && pred[2] < 1.25 * inject, "1 GiB a2a %g s, injection bound %g s", pred[2],
                  inject);
    ck_assert_int_eq(collmeas_predict(pred, s, "x/tpuv3-2x2.xml", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "need a platform named like '*-1gpu.xml'"));
    collmeas_free(s);
}
END_TEST

/* The section's rows: rows measured 10% slower than switchsim's own prediction give the error 1/1.1 - 1 exactly,
 * tolerances split at 1 MiB; rows of one GPU and planned rows are no rows. */
START_TEST(test_validate_arithmetic)
{
    errbuf err = { "" };
    const char *plan = write_tmp("plan.csv", HEAD "all-to-all,8,4096,,H200\nall-to-all,8,4194304,,H200\n"
                                 "all-reduce,4,65536,,H200\nall-reduce,4,16777216,,H200\n");
    collmeas_set *s = collmeas_load(plan, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    double pred[4];
    ck_assert_msg(collmeas_predict(pred, s, GPU1, &err) == 0, "%s", err.msg);
    char text[1024] = HEAD;
    static const char *const OPS[4] = { "all-to-all,8", "all-to-all,8", "all-reduce,4", "all-reduce,4" };
    for (int i = 0; i < 4; i++) {
        char line[128];
        snprintf(line, sizeof line, "%s,%.0f,%.9g,H200\n", OPS[i], s->bytes[i], pred[i] * 1.1e6);
        strncat(text, line, sizeof text - strlen(text) - 1);
    }
    strncat(text, "all-reduce,1,1024,20,H200\nall-to-all,8,65536,,H200\n", sizeof text - strlen(text) - 1);
    collmeas_free(s);
    const char *meas = write_tmp("meas.csv", text);
    vreport r;
    vreport_init(&r);
    FILE *devnull = fopen("/dev/null", "w");
    ck_assert_ptr_nonnull(devnull);
    ck_assert_msg(collmeas_validate(&r, meas, GPU1, devnull, &err) == 0, "%s", err.msg);
    fclose(devnull);
    ck_assert_int_eq(r.n, 4);   /* the measured rows across links, in file order */
    double want = 1.0 / 1.1 - 1.0;
    for (int k = 0; k < 4; k++) {
        ck_assert_int_eq(r.v[k].label, VLABEL_MEASURED);
        ck_assert_msg(fabs(vcheck_error(&r.v[k]) - want) < 1e-6, "row %d: %g, want %g", k, vcheck_error(&r.v[k]),
                      want);
        ck_assert_double_eq(r.v[k].tol, (k == 1 || k == 3) ? 0.30 : 1.0);   /* 4 MiB and 16 MiB: bandwidth-bound */
    }
    ck_assert_str_eq(r.v[0].name, "all-to-all of 4096 B on 8 H200s (time)");
    ck_assert_int_eq(vreport_failed(&r), 0);
    vreport_fini(&r);
}
END_TEST

static Suite *collmeas_suite(void)
{
    Suite *s = suite_create("collmeas");
    TCase *tc = tcase_create("collmeas");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_load_committed);
    tcase_add_loop_test(tc, test_load_bad, 0, (int)(sizeof BAD / sizeof BAD[0]));
    tcase_add_test(tc, test_predict);
    tcase_add_test(tc, test_validate_arithmetic);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(collmeas_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
