/* Check suite for sim/sched: building per-core lists (items in order, ops of no time left out, equal lists
 * shared), collectives by reference, the all-reduce groups and the names. */
#include <check.h>
#include <stdlib.h>

#include "sim/sched.h"

/* Core 'core' of a 3-layer step: an op, a layer's marks, a barrier and an all-to-all; core 2 has a longer op. */
static void build_core(sched *s, int core, int coll)
{
    sched_begin(s, core);
    sched_op(s, SCHED_CAT_COMPUTE, SCHED_N_EMBED, core == 2 ? 2.385e-6 : 1.25e-6, -1, SCHED_FWD);
    sched_op(s, SCHED_CAT_ROUTER, SCHED_N_ROUTER, 0.0, 0, SCHED_FWD);         /* no time: no item */
    sched_mark(s, SCHED_MARK_BEGIN, 2, SCHED_BWD);
    sched_barrier_all(s, 2, SCHED_BWD);
    sched_collective(s, coll, SCHED_CAT_A2A, SCHED_N_A2A, 2, SCHED_BWD);
    sched_mark(s, SCHED_MARK_END, 2, SCHED_BWD);
}

START_TEST(test_build_share)
{
    sched *s = sched_alloc(4, 2, 3);
    ck_assert_ptr_nonnull(s);
    double m[4] = { 0, 7.5, 3.25, 0 };
    sched_coll c = { .kind = SCHED_A2A, .bytes = m, .key = 5 };
    int coll = sched_coll_add(s, &c);
    ck_assert_int_eq(coll, 0);
    errbuf err = { "" };
    for (int core = 0; core < 4; core++) {
        build_core(s, core, coll);
        ck_assert_int_eq(sched_end(s, &err), 0);
    }
    ck_assert_int_eq(sched_cores(s), 4);
    ck_assert_int_eq(sched_nchips(s), 2);
    ck_assert_int_eq(sched_nlayers(s), 3);
    /* cores 0 and 1 share a list; core 2 has its own; core 3 equals core 0, but only the previous core's list is
     * looked at, so it has its own too */
    ck_assert_int_eq(sched_nlists(s), 3);
    ck_assert_uint_eq(sched_nitems(s), 15);
    size_t n0, n1, n2, n3;
    const sched_item *l0 = sched_list(s, 0, &n0), *l1 = sched_list(s, 1, &n1), *l2 = sched_list(s, 2, &n2),
                     *l3 = sched_list(s, 3, &n3);
    ck_assert_uint_eq(n0, 5);
    ck_assert_uint_eq(n1, 5);
    ck_assert_uint_eq(n2, 5);
    ck_assert_uint_eq(n3, 5);
    ck_assert_ptr_eq(l0, l1);
    ck_assert_ptr_ne(l1, l2);
    ck_assert_ptr_ne(l2, l3);
    ck_assert_double_eq(l2[0].t_s, 2.385e-6);
    ck_assert_int_eq(l0[0].kind, SCHED_OP);
    ck_assert_int_eq(l0[0].layer, -1);
    ck_assert_int_eq(l0[1].kind, SCHED_MARK);
    ck_assert_int_eq(l0[1].ref, SCHED_MARK_BEGIN);
    ck_assert_int_eq(l0[1].phase, SCHED_BWD);
    ck_assert_int_eq(l0[2].kind, SCHED_BARRIER);
    ck_assert_int_eq(l0[2].cat, SCHED_CAT_IDLE);
    ck_assert_int_eq(l0[3].kind, SCHED_COLL);
    ck_assert_int_eq(l0[3].cat, SCHED_CAT_A2A);
    ck_assert_str_eq(sched_name(l0[3].name), "a2a");
    const sched_coll *got = sched_coll_at(s, l0[3].ref);
    ck_assert_ptr_eq(got->bytes, m);                   /* by reference */
    ck_assert_int_eq(got->key, 5);
    ck_assert_int_eq(l3[4].ref, SCHED_MARK_END);
    sched_free(s);
}
END_TEST

START_TEST(test_alloc_bad)
{
    ck_assert_ptr_null(sched_alloc(0, 1, 1));
    ck_assert_ptr_null(sched_alloc(6, 4, 1));          /* cores not a whole number of chips */
    ck_assert_ptr_null(sched_alloc(4, 1, -1));
    sched_free(NULL);
}
END_TEST

START_TEST(test_groups)
{
    const long key[6] = { 7, 3, 7, 9, 3, 7 };
    sched_groups g;
    ck_assert_int_eq(sched_groups_init(&g, key, 6), 0);
    ck_assert_int_eq(g.n, 3);
    const int gid[6] = { 0, 1, 0, 2, 1, 0 }, members[6] = { 0, 2, 5, 1, 4, 3 };
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(g.gid[i], gid[i]);
        ck_assert_int_eq(g.members[i], members[i]);
    }
    ck_assert_int_eq(g.start[1], 3);
    ck_assert_int_eq(g.size[0], 3);
    ck_assert_int_eq(g.size[1], 2);
    ck_assert_int_eq(g.size[2], 1);
    sched_groups_fini(&g);
    ck_assert_ptr_null(g.gid);
    sched_groups_fini(&g);                            /* twice is harmless */
}
END_TEST

START_TEST(test_names)
{
    ck_assert_str_eq(sched_name(SCHED_N_EMBED), "embed");
    ck_assert_str_eq(sched_name(SCHED_N_COMBINE_BUILD), "combine_build");
    ck_assert_str_eq(sched_name(SCHED_N_OPTIMIZER), "optimizer");
    ck_assert_str_eq(sched_name(SCHED_N_NAMES), "?");
    ck_assert_str_eq(sched_name(-1), "?");
    ck_assert_uint_eq(sizeof(sched_item), 24);
}
END_TEST

static Suite *sched_suite(void)
{
    Suite *s = suite_create("sched");
    TCase *tc = tcase_create("build");
    tcase_add_test(tc, test_build_share);
    tcase_add_test(tc, test_alloc_bad);
    tcase_add_test(tc, test_groups);
    tcase_add_test(tc, test_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sched_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
