/* check_steptimes: a step's shares from category totals, and the consistency check. */
#include <check.h>
#include <math.h>
#include <string.h>

#include "sim/sched.h"
#include "sim/steptimes.h"

START_TEST(test_fill_and_check)
{
    double cat[SCHED_N_CAT] = { 0 };
    cat[SCHED_CAT_COMPUTE] = 0.6;
    cat[SCHED_CAT_A2A] = 0.3;
    cat[SCHED_CAT_IDLE] = 0.1;
    engine_times r;
    memset(&r, 0, sizeof r);
    steptimes_fill(&r, cat, 1.0, 32.0, 8e12, 4);   /* 32 sequences, 8 TFLOP over 4 chips in 1 s */
    ck_assert(fabs(r.compute_s - 0.6) < 1e-15 && fabs(r.a2a_s - 0.3) < 1e-15 && fabs(r.idle_s - 0.1) < 1e-15);
    ck_assert(fabs(r.examples_per_s - 32.0) < 1e-12);
    ck_assert(fabs(r.tflops_per_chip - 2.0) < 1e-12);
    errbuf err = { "" };
    ck_assert_int_eq(steptimes_check(&r, 10.0, &err), 0);
    r.idle_s = 0.2;                                  /* shares now sum to 1.1 s for a 1 s step */
    ck_assert_int_eq(steptimes_check(&r, 10.0, &err), -1);
    ck_assert(strstr(err.msg, "its shares sum to 1.1 s, the step is 1 s") != NULL);
    r.idle_s = NAN;
    ck_assert_int_eq(steptimes_check(&r, 10.0, &err), -1);
    ck_assert(strstr(err.msg, "non-finite or negative") != NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("steptimes");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_fill_and_check);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
