/* Check suite for sim/collplan (pure, no SimGrid): the phased all-to-all's messages on a ring of 4 and a 4x4 torus
 * by hand, its conservation failure, the dataflow timing in closed form, the dimension rings' schedule, and the
 * ring order of a line. */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "sim/collplan.h"

#define S 1.0e6            /* bytes per chip pair */
#define LAT 1.0e-6         /* s per neighbour route */
#define BW 1.0e11          /* B/s per neighbour route */

static collplan *plan_of(int ndims, const int *dims, const int *wrap)
{
    errbuf err = { "" };
    collplan *pl = collplan_alloc(ndims, dims, wrap, &err);
    ck_assert_msg(pl != NULL, "%s", err.msg);
    return pl;
}

static double *uniform(int n, double s)
{
    double *b = malloc((size_t)n * n * sizeof *b);
    ck_assert_ptr_nonnull(b);
    for (int i = 0; i < n * n; i++)
        b[i] = s;
    return b;
}

/* Ring of 4, S to every other chip: step 1 sends S (to q+1) + S/2 (half the tie at q+2) each way, step 2 the other
 * S/2 on; the dataflow takes 2 latencies + 2 S / bandwidth on every chip. */
START_TEST(test_ring4)
{
    const int dims[1] = { 4 }, wrap[1] = { 1 };
    collplan *pl = plan_of(1, dims, wrap);
    double *b = uniform(4, S);
    errbuf err = { "" };
    ck_assert_msg(collplan_phased(pl, b, 1, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(pl->steps[0], 2);
    for (int chip = 0; chip < 4; chip++)
        for (int dir = 0; dir < 2; dir++) {
            ck_assert_double_eq(pl->ringmsg[collplan_ring_at(pl, 0, 1, chip, 0, dir)], 1.5 * S);
            ck_assert_double_eq(pl->ringmsg[collplan_ring_at(pl, 0, 2, chip, 0, dir)], 0.5 * S);
        }
    ck_assert_double_eq(collplan_busiest_bytes(pl), 2.0 * S);
    double lat[4 * COLL_DIMS_MAX * 2], bw[4 * COLL_DIMS_MAX * 2], dur[4], scratch[4];
    for (int i = 0; i < 4 * COLL_DIMS_MAX * 2; i++)
        lat[i] = LAT, bw[i] = BW;
    collplan_phased_dataflow(dur, scratch, pl, lat, bw);
    for (int chip = 0; chip < 4; chip++)
        ck_assert_double_eq_tol(dur[chip], 2 * LAT + 2 * S / BW, 1e-18);
    collplan_reset_stats(pl);
    ck_assert_double_eq(collplan_busiest_bytes(pl), 0.0);
    free(b);
    collplan_free(pl);
}
END_TEST

/* 4x4 torus, both rotations at once (R 2): each rotation carries half; x-first's phase 0 moves, per chip, the
 * bytes of its 4 destination columns... every chip receives its column sum, 15 S, and each phase's step 1 carries
 * 1.5 x (4 S / 2) = 3 S each way (the same ring pattern, 4 chips' worth of bytes per x coordinate, half of them). */
START_TEST(test_torus4x4)
{
    const int dims[2] = { 4, 4 }, wrap[2] = { 1, 1 };
    collplan *pl = plan_of(2, dims, wrap);
    double *b = uniform(16, S);
    errbuf err = { "" };
    ck_assert_msg(collplan_phased(pl, b, 2, &err) == 0, "%s", err.msg);
    double held = 0.0;
    for (int r = 0; r < 2; r++)
        held += pl->held[5 * COLL_DIMS_MAX + r];
    ck_assert_double_eq_tol(held, 15 * S, 1e-3);
    ck_assert_double_eq(pl->ringmsg[collplan_ring_at(pl, 0, 1, 5, 0, 0)], 3.0 * S);
    ck_assert_int_eq(collplan_order(pl, 1, 0), 1);
    int c[COLL_DIMS_MAX];
    collplan_coords(pl, 7, c);
    ck_assert_int_eq(c[0], 3);
    ck_assert_int_eq(c[1], 1);
    ck_assert_int_eq(collplan_neighbour(pl, 7, 0, 0), 4);   /* wraps */
    ck_assert_int_eq(collplan_neighbour(pl, 7, 1, 1), 3);
    free(b);
    collplan_free(pl);
}
END_TEST

START_TEST(test_conservation_nan)
{
    const int dims[1] = { 2 }, wrap[1] = { 0 };
    collplan *pl = plan_of(1, dims, wrap);
    double b[4] = { 0, NAN, 0, 0 };
    errbuf err = { "" };
    ck_assert_int_eq(collplan_phased(pl, b, 1, &err), -1);
    ck_assert_str_eq(err.msg, "collectives: chip 1 received nan bytes in a phased all-to-all, expected nan");
    collplan_free(pl);
}
END_TEST

START_TEST(test_alloc_bad)
{
    const int dims[3] = { 4, 0, 2 }, wrap[3] = { 1, 1, 1 };
    errbuf err = { "" };
    ck_assert_ptr_null(collplan_alloc(4, dims, wrap, &err));
    ck_assert_str_eq(err.msg, "collectives: ndims must be 1..3, got 4");
    ck_assert_ptr_null(collplan_alloc(2, dims, wrap, &err));
    ck_assert_str_eq(err.msg, "collectives: dims[1] must be >= 1, got 0");
    collplan_free(NULL);
}
END_TEST

/* All-reduce of B bytes on 4x2: reduce-scatter x (3 steps of B/4/2 each way), y (1 step of B/4/2/2), all-gather
 * back y then x with the same sizes; the two halves alone are those rings. */
START_TEST(test_ring_schedule)
{
    const int dims[2] = { 4, 2 }, wrap[2] = { 1, 1 };
    collplan *pl = plan_of(2, dims, wrap);
    int dim[2 * COLL_DIMS_MAX];
    double size[2 * COLL_DIMS_MAX];
    const double B = 8.0e6;
    ck_assert_int_eq(collplan_ring_schedule(pl, B, COLLPLAN_PASS_RS | COLLPLAN_PASS_AG, dim, size), 4);
    const int want_dim[4] = { 0, 1, 1, 0 };
    const double want_size[4] = { B / 8, B / 16, B / 16, B / 8 };
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(dim[i], want_dim[i]);
        ck_assert_double_eq(size[i], want_size[i]);
    }
    ck_assert_int_eq(collplan_ring_schedule(pl, B, COLLPLAN_PASS_AG, dim, size), 2);
    ck_assert_int_eq(dim[0], 1);
    ck_assert_double_eq(size[0], B / 16);
    collplan_free(pl);
}
END_TEST

/* A line of 5 as a ring: 0,2,4,3,1. */
START_TEST(test_line_ring)
{
    const int order[5] = { 0, 2, 4, 3, 1 };
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(collplan_ring_pos(5, 0, i), order[i]);
        ck_assert_int_eq(collplan_ring_index(5, 0, order[i]), i);
        ck_assert_int_eq(collplan_ring_pos(5, 1, i), i);
    }
    const int group[5] = { 10, 11, 12, 20, 21 }, seg[3] = { 0, 3, 5 };
    ck_assert_int_eq(collplan_channel_member(group, seg, 2, 1, 0), 11);
    ck_assert_int_eq(collplan_channel_member(group, seg, 2, 1, 2), 10);
    ck_assert_int_eq(collplan_channel_member(group, seg, 2, 1, 3), 21);
    ck_assert_int_eq(collplan_size(2.5), 3);
    ck_assert_int_eq(collplan_size(-1.0), 0);
}
END_TEST

static Suite *collplan_suite(void)
{
    Suite *s = suite_create("collplan");
    TCase *tc = tcase_create("plan");
    tcase_add_test(tc, test_ring4);
    tcase_add_test(tc, test_torus4x4);
    tcase_add_test(tc, test_conservation_nan);
    tcase_add_test(tc, test_alloc_bad);
    tcase_add_test(tc, test_ring_schedule);
    tcase_add_test(tc, test_line_ring);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(collplan_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
