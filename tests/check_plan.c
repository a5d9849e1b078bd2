/* Check suite for sim/plan: plan parsing, layout arithmetic (groups, capacity, expert placement), rejections. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sim/plan.h"
#include "tests/fixtures.h"


START_TEST(test_parse)
{
    int d = -1, m = -1;
    errbuf err = { "" };
    ck_assert_int_eq(plan_parse(&d, &m, "data=32,model=1", &err), 0);
    ck_assert_int_eq(d, 32);
    ck_assert_int_eq(m, 1);
    ck_assert_int_eq(plan_parse(&d, &m, "model=4", &err), 0);
    ck_assert_int_eq(d, 0);
    ck_assert_int_eq(m, 4);
}
END_TEST

static const struct { const char *spec, *msg; } BAD_PLAN[] = {
    { "data=x", "--plan must be data=N,model=M with integers in [1,1000000], got 'data=x'" },
    { "data=0,model=1", "--plan must be data=N,model=M with integers in [1,1000000], got 'data=0,model=1'" },
    { "data=4,data=8", "--plan gives 'data' twice in 'data=4,data=8'" },
    { "pipe=2", "--plan keys are data and model, got 'pipe' in 'pipe=2'" },
    { "", "--plan must be data=N,model=M, got ''" },
    { "data=8,,model=1", "--plan has an empty item in 'data=8,,model=1'" },
    { "data=8,", "--plan has an empty item in 'data=8,'" },
    { ",model=2", "--plan has an empty item in ',model=2'" },
};

START_TEST(test_parse_bad)
{
    int d = 7, m = 7;
    errbuf err = { "" };
    ck_assert_int_eq(plan_parse(&d, &m, BAD_PLAN[_i].spec, &err), -1);
    ck_assert_str_eq(err.msg, BAD_PLAN[_i].msg);
    ck_assert_int_eq(d, 7);   /* outputs untouched on failure */
    ck_assert_int_eq(m, 7);
}
END_TEST

START_TEST(test_layout_switch_base)
{
    model_cfg m = fixture_switch_base();
    plan p;
    errbuf err = { "" };
    ck_assert_int_eq(plan_layout(&p, &m, 32, 2, 0, 1, 1, 1.25, SWITCH_CAP_FLOOR, &err), 0);
    ck_assert_int_eq(p.data, 32);
    ck_assert_int_eq(p.nchips, 16);
    ck_assert_int_eq(p.experts_per_core, 4);
    ck_assert_int_eq(p.cores_per_expert, 1);
    ck_assert_int_eq(p.sequences, 2048);
    ck_assert_int_eq(p.tokens_enc, 32768);
    ck_assert_int_eq(p.tokens_dec, 7296);        /* 2048 x 114 / 32 */
    ck_assert_int_eq(p.groups, 4);               /* 32768 / 8192 */
    ck_assert_int_eq(p.group_enc, 8192);
    ck_assert_int_eq(p.group_dec, 1824);
    ck_assert_int_eq(p.capacity_enc, 80);        /* floor(1.25 x 8192 / 128) */
    ck_assert_int_eq(p.capacity_dec, 17);        /* floor(1.25 x 1824 / 128) = floor(17.8) */
    ck_assert_int_eq(plan_expert_owner(&p, 5, 0), 0);
    ck_assert_int_eq(plan_expert_owner(&p, 5, 127), 31);
    ck_assert_int_eq(plan_expert_owner(&p, 5, 9), 2);
    /* round instead of floor: round(17.8) = 18 */
    ck_assert_int_eq(plan_layout(&p, &m, 32, 2, 0, 1, 1, 1.25, SWITCH_CAP_ROUND, &err), 0);
    ck_assert_int_eq(p.capacity_dec, 18);
}
END_TEST

START_TEST(test_layout_replicated_experts)
{
    model_cfg m = fixture_switch_base();
    m.experts = 8;
    plan p;
    errbuf err = { "" };
    ck_assert_int_eq(plan_layout(&p, &m, 32, 2, 32, 1, 2, 2.0, SWITCH_CAP_FLOOR, &err), 0);
    ck_assert_int_eq(p.experts_per_core, 1);
    ck_assert_int_eq(p.cores_per_expert, 4);
    ck_assert_int_eq(plan_expert_owner(&p, 9, 3), 11);   /* replica group 1 = shards 8..15 */
    ck_assert_int_eq(plan_expert_owner(&p, 31, 7), 31);
}
END_TEST

START_TEST(test_layout_model_parallel)
{
    model_cfg m = fixture_switch_base();
    plan p;
    errbuf err = { "" };
    ck_assert_int_eq(plan_layout(&p, &m, 32, 2, 0, 2, 1, 1.25, SWITCH_CAP_FLOOR, &err), 0);
    ck_assert_int_eq(p.data, 16);
    ck_assert_int_eq(p.model_par, 2);
    ck_assert_int_eq(p.experts_per_core, 8);
    ck_assert_int_eq(p.tokens_enc, 65536);
    ck_assert_int_eq(plan_core(&p, 3, 1), 7);
    ck_assert_int_eq(plan_chip(&p, 7), 3);
}
END_TEST

static const struct { int cores, data, model; int experts; const char *msg; } BAD_LAYOUT[] = {
    { 32, 6, 1, 128, "plan data=6,model=1 needs 6 cores, the platform has 32" },
    { 32, 0, 3, 128, "plan model=3 does not divide the platform's 32 cores" },
    { 48, 16, 3, 128, "plan model=3 must divide, or be a multiple of, the 2 cores per chip (model-parallel groups are "
                      "whole chips or parts of one)" },
    { 48, 48, 1, 128, "plan data=48 must divide the 128 experts of switch-base (or be a multiple of it)" },
    { 32, 32, 1, 12, "plan data=32 must be a multiple of the 12 experts of switch-base (or divide them)" },
};

/* 8 x a prime near 2^37 tokens, one token per sequence: the group search used to count up one by one
 * from 2^31 towards the prime (minutes); it must answer at once, within Check's 4 s timeout. */
START_TEST(test_layout_prime_tokens)
{
    model_cfg m = fixture_switch_base();
    m.tokens_per_batch = 8L * 137438953447L;
    m.enc_seq = 1;
    m.dec_seq = 1;
    m.experts = 8;
    plan p;
    errbuf err = { "" };
    ck_assert_int_eq(plan_layout(&p, &m, 8, 2, 8, 1, 1, 1.25, 0, &err), -1);
    ck_assert_str_eq(err.msg, "switch-base: 137438953447 encoder and 137438953447 decoder tokens per core split "
                              "into 137438953447 equal groups, more than 1000000");
}
END_TEST

/* tokens_per_batch near LONG_MAX: sequences x dec_seq overflowed (undefined behaviour) before it was checked. */
START_TEST(test_layout_overflow)
{
    model_cfg m = fixture_switch_base();
    m.tokens_per_batch = 9223372036854775800L;
    m.enc_seq = 8;
    plan p;
    errbuf err = { "" };
    ck_assert_int_eq(plan_layout(&p, &m, 32, 2, 32, 1, 1, 1.25, 0, &err), -1);
    ck_assert_str_eq(err.msg, "switch-base: 1152921504606846975 sequences of 114 decoder tokens overflow a long");
}
END_TEST

START_TEST(test_layout_bad)
{
    model_cfg m = fixture_switch_base();
    m.experts = BAD_LAYOUT[_i].experts;
    plan p;
    memset(&p, 0x5a, sizeof p);
    plan before = p;
    errbuf err = { "" };
    ck_assert_int_eq(plan_layout(&p, &m, BAD_LAYOUT[_i].cores, 2, BAD_LAYOUT[_i].data, BAD_LAYOUT[_i].model, 1,
                                 1.25, SWITCH_CAP_FLOOR, &err), -1);
    ck_assert_str_eq(err.msg, BAD_LAYOUT[_i].msg);
    ck_assert_int_eq(memcmp(&p, &before, sizeof p), 0);
}
END_TEST

/* The plan search: the smallest power-of-two model split that fits in HBM, rematerialisation only when the
 * activations need it, and the first reason when nothing fits. */
START_TEST(test_choose)
{
    model_cfg m = fixture_switch_base();
    cost_chip chip;
    cost_chip_tpuv3(&chip);
    plan p;
    cost_memory mem;
    int remat = -1;
    errbuf err = { "" };
    plan_request req = { 32, 0, 0, 1, 1.25, SWITCH_CAP_FLOOR, PLAN_REMAT_AUTO };
    ck_assert_msg(plan_choose(&p, &mem, &remat, &req, &m, &chip, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(p.model_par, 1);
    ck_assert_int_eq(p.data, 32);
    ck_assert_int_eq(remat, 1);                      /* activations do not fit without it */
    ck_assert_double_le(mem.total_B, chip.hbm_bytes);
    req.remat = PLAN_REMAT_OFF;                      /* without remat nothing fits: the first reason */
    ck_assert_int_eq(plan_choose(&p, &mem, &remat, &req, &m, &chip, &err), -1);
    ck_assert_msg(strncmp(err.msg, "plan data=32,model=1 needs ", 27) == 0, "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(err.msg, "(with model=1; no power-of-two model-parallel plan fits either)"));
    req.model_par = 2;                               /* a given split: its own reason, nothing added */
    ck_assert_int_eq(plan_choose(&p, &mem, &remat, &req, &m, &chip, &err), -1);
    ck_assert_msg(strncmp(err.msg, "plan data=16,model=2 needs ", 27) == 0, "%s", err.msg);
    ck_assert_ptr_null(strstr(err.msg, "with model=1"));
}
END_TEST

static Suite *plan_suite(void)
{
    Suite *s = suite_create("plan");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_parse);
    tcase_add_loop_test(tc, test_parse_bad, 0, (int)(sizeof BAD_PLAN / sizeof BAD_PLAN[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("layout");
    tcase_add_test(tc, test_layout_switch_base);
    tcase_add_test(tc, test_choose);
    tcase_add_test(tc, test_layout_replicated_experts);
    tcase_add_test(tc, test_layout_model_parallel);
    tcase_add_test(tc, test_layout_prime_tokens);
    tcase_add_test(tc, test_layout_overflow);
    tcase_add_loop_test(tc, test_layout_bad, 0, (int)(sizeof BAD_LAYOUT / sizeof BAD_LAYOUT[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(plan_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
