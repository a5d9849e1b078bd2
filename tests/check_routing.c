/* check_routing: routing trace CSV (traces/routing.h): alloc, load of a known file, every rejection with its
 * exact message, write/load round trip of random counts, atomic write failure, the plan's tokens check.
 * Run from the repository root (fixtures in tests/data/trace_*.csv). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "traces/routing.h"
#include "tests/fixtures.h"

#define GOOD "tests/data/trace_good.csv"

/* Fixture tests/data/trace_good.csv: 2 layers, 2 groups, 4 experts, rows shuffled, one CRLF, one blank line.
 * Layer 0 routes 10 tokens per group with top-2, layer 1 routes 6 with top-1. */
static const int GOOD_FIRST[2][2][4] = { { { 4, 3, 2, 1 }, { 1, 2, 3, 4 } }, { { 6, 0, 0, 0 }, { 0, 0, 3, 3 } } };
static const int GOOD_SECOND[2][2][4] = { { { 2, 2, 3, 3 }, { 3, 3, 2, 2 } }, { { 0 } } };

START_TEST(test_alloc)
{
    routing_trace *t = routing_trace_alloc(3, 5, 7);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->layers, 3);
    ck_assert_int_eq(t->groups, 5);
    ck_assert_int_eq(t->experts, 7);
    for (size_t k = 0; k < 3 * 5 * 7; k++) {
        ck_assert_int_eq(t->first[k], 0);
        ck_assert_int_eq(t->second[k], 0);
    }
    ck_assert_uint_eq(routing_trace_index(t, 2, 4, 6), 3 * 5 * 7 - 1);
    ck_assert_uint_eq(routing_trace_index(t, 1, 2, 3), (1 * 5 + 2) * 7 + 3);
    routing_trace_free(t);
    routing_trace_free(NULL);
    ck_assert_ptr_null(routing_trace_alloc(0, 5, 7));
    ck_assert_ptr_null(routing_trace_alloc(3, -1, 7));
    ck_assert_ptr_null(routing_trace_alloc(3, 5, 0));
    ck_assert_ptr_null(routing_trace_alloc(1 << 30, 1 << 30, 1 << 30));   /* size overflows: NULL, no crash */
}
END_TEST

START_TEST(test_load_good)
{
    errbuf err = { "" };
    routing_trace *t = routing_trace_load_csv(GOOD, 2, 2, 4, &err);
    ck_assert_msg(t != NULL, "%s", err.msg);
    for (int l = 0; l < 2; l++)
        for (int g = 0; g < 2; g++)
            for (int e = 0; e < 4; e++) {
                size_t k = routing_trace_index(t, l, g, e);
                ck_assert_int_eq(t->first[k], GOOD_FIRST[l][g][e]);
                ck_assert_int_eq(t->second[k], GOOD_SECOND[l][g][e]);
            }
    ck_assert_int_eq(routing_trace_group_tokens(t, 0), 10);
    ck_assert_int_eq(routing_trace_group_tokens(t, 1), 6);
    routing_trace_free(t);
}
END_TEST

#define D "tests/data/"
#define HDR "'layer,group,expert,tokens_first,tokens_second' (then tokens_3 .. tokens_8 for top-k above 2)"

static const struct { const char *file; int layers, groups, experts; const char *msg; } BAD[] = {
    { D "trace_nonexistent.csv", 2, 2, 4, D "trace_nonexistent.csv: cannot open: No such file or directory" },
    { D "trace_empty.csv", 2, 2, 4, D "trace_empty.csv: empty file, expected a header line" },
    { D "trace_header_only.csv", 2, 2, 4, D "trace_header_only.csv: layer 0 group 0 has no row for expert 0" },
    { D "trace_bad_header.csv", 2, 2, 4,
      D "trace_bad_header.csv:1: header must be " HDR ", got 'layer,group,expert,tokens_first,tokens_2nd'" },
    { D "trace_short_header.csv", 2, 2, 4,
      D "trace_short_header.csv:1: header must be " HDR ", got 'layer,group,expert,tokens'" },
    { D "trace_fields.csv", 2, 2, 4, D "trace_fields.csv:3: expected 5 fields, got 4" },
    { D "trace_quote.csv", 2, 2, 4,
      D "trace_quote.csv:3: malformed CSV (error parsing data while strict checking enabled)" },
    { D "trace_bad_layer.csv", 2, 2, 4, D "trace_bad_layer.csv:4: column 'layer' must be an integer in [0,2), got 'x'" },
    { D "trace_layer_range.csv", 2, 2, 4,
      D "trace_layer_range.csv:4: column 'layer' must be an integer in [0,2), got '2'" },
    { D "trace_bad_group.csv", 2, 2, 4, D "trace_bad_group.csv:4: column 'group' must be an integer in [0,2), got '-1'" },
    { D "trace_bad_expert.csv", 2, 2, 4,
      D "trace_bad_expert.csv:4: column 'expert' must be an integer in [0,4), got '200'" },
    { D "trace_neg_tokens.csv", 2, 2, 4,
      D "trace_neg_tokens.csv:4: column 'tokens_first' must be an integer in [0,2147483647], got '-1'" },
    { D "trace_frac_tokens.csv", 2, 2, 4,
      D "trace_frac_tokens.csv:4: column 'tokens_first' must be an integer in [0,2147483647], got '2.5'" },
    { D "trace_space_tokens.csv", 2, 2, 4,
      D "trace_space_tokens.csv:4: column 'tokens_first' must be an integer in [0,2147483647], got ' 2'" },
    { D "trace_empty_tokens.csv", 2, 2, 4,
      D "trace_empty_tokens.csv:4: column 'tokens_second' must be an integer in [0,2147483647], got ''" },
    { D "trace_big_tokens.csv", 2, 2, 4,
      D "trace_big_tokens.csv:4: column 'tokens_second' must be an integer in [0,2147483647], got '2147483648'" },
    { D "trace_dup.csv", 2, 2, 4, D "trace_dup.csv:9: layer 0 group 0 expert 1 appears twice" },
    { D "trace_missing_row.csv", 2, 2, 4, D "trace_missing_row.csv: layer 1 group 1 has no row for expert 1" },
    { D "trace_sum.csv", 2, 2, 4,
      D "trace_sum.csv: layer 0 group 1 routes 11 tokens (sum of tokens_first), group 0 routes 10" },
    { D "trace_second.csv", 2, 2, 4, D "trace_second.csv: layer 1 group 1 has 7 second choices, more than its 6 tokens" },
    /* endless or binary input: refused at the caps, not read into memory */
    { "/dev/zero", 2, 2, 4, "/dev/zero:1: line longer than 256 bytes (not a routing trace?)" },
    { D "trace_blank_lines.csv", 1, 1, 1,
      D "trace_blank_lines.csv:468: file is longer than 512 bytes, more than a trace of 1 layers x 1 groups x 1 "
        "experts can need" },
    /* a good file against the wrong expected shape */
    { GOOD, 2, 2, 3, GOOD ":2: column 'expert' must be an integer in [0,3), got '3'" },
    { GOOD, 2, 2, 5, GOOD ": layer 0 group 0 has no row for expert 4" },
    { GOOD, 1, 2, 4, GOOD ":6: column 'layer' must be an integer in [0,1), got '1'" },
    { GOOD, 2, 3, 4, GOOD ": layer 0 group 2 has no row for expert 0" },
    { GOOD, 0, 2, 4, GOOD ": expected shape must be positive, got layers=0 groups=2 experts=4" },
};

/* A UTF-8 byte-order mark before the header is skipped. */
START_TEST(test_load_bom)
{
    errbuf err = { "" };
    routing_trace *t = routing_trace_load_csv("tests/data/trace_bom.csv", 2, 2, 4, &err);
    ck_assert_msg(t != NULL, "%s", err.msg);
    routing_trace_free(t);
}
END_TEST

START_TEST(test_load_bad)
{
    errbuf err = { "" };
    routing_trace *t = routing_trace_load_csv(BAD[_i].file, BAD[_i].layers, BAD[_i].groups, BAD[_i].experts, &err);
    ck_assert_ptr_null(t);
    ck_assert_str_eq(err.msg, BAD[_i].msg);
}
END_TEST

static unsigned long lcg_state;

static unsigned long lcg(void)                /* Knuth's MMIX LCG, high bits */
{
    lcg_state = lcg_state * 6364136223846793005ul + 1442695040888963407ul;
    return lcg_state >> 33;
}

/* Random counts: per layer T tokens per group, each token's first choice uniform, its second a different
 * expert for odd layers (top-2) and none for even ones. */
static routing_trace *random_trace(int layers, int groups, int experts, unsigned long seed)
{
    lcg_state = seed;
    routing_trace *t = routing_trace_alloc(layers, groups, experts);
    ck_assert_ptr_nonnull(t);
    for (int l = 0; l < layers; l++) {
        int tokens = 37 + 11 * l;
        for (int g = 0; g < groups; g++)
            for (int n = 0; n < tokens; n++) {
                int e1 = (int)(lcg() % (unsigned long)experts);
                t->first[routing_trace_index(t, l, g, e1)]++;
                if (l % 2 == 1) {
                    int e2 = (e1 + 1 + (int)(lcg() % (unsigned long)(experts - 1))) % experts;
                    t->second[routing_trace_index(t, l, g, e2)]++;
                }
            }
    }
    return t;
}

START_TEST(test_round_trip)
{
    char dir[] = "/tmp/check_routing_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char a[256], b[256];
    snprintf(a, sizeof a, "%s/a.csv", dir);
    snprintf(b, sizeof b, "%s/b.csv", dir);
    errbuf err = { "" };
    routing_trace *t = random_trace(3, 5, 7, 2385);
    ck_assert_int_eq(routing_trace_write_csv(NULL, a, t, &err), 0);
    routing_trace *u = routing_trace_load_csv(a, 3, 5, 7, &err);
    ck_assert_msg(u != NULL, "%s", err.msg);
    ck_assert_mem_eq(u->first, t->first, 3 * 5 * 7 * sizeof(int));
    ck_assert_mem_eq(u->second, t->second, 3 * 5 * 7 * sizeof(int));
    for (int l = 0; l < 3; l++)
        ck_assert_int_eq(routing_trace_group_tokens(u, l), 37 + 11 * l);
    /* writing what was loaded gives the same bytes */
    ck_assert_int_eq(routing_trace_write_csv(NULL, b, u, &err), 0);
    char *sa = fixture_slurp(a, NULL), *sb = fixture_slurp(b, NULL);
    ck_assert_str_eq(sa, sb);
    ck_assert(strncmp(sa, ROUTING_TRACE_HEADER "\n0,0,0,", strlen(ROUTING_TRACE_HEADER) + 7) == 0);
    free(sa);
    free(sb);
    /* the good fixture (shuffled, CRLF, blank line) re-written comes out sorted */
    routing_trace *g = routing_trace_load_csv(GOOD, 2, 2, 4, &err);
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(routing_trace_write_csv(NULL, a, g, &err), 0);
    sa = fixture_slurp(a, NULL);
    ck_assert_str_eq(sa, ROUTING_TRACE_HEADER "\n0,0,0,4,2\n0,0,1,3,2\n0,0,2,2,3\n0,0,3,1,3\n0,1,0,1,3\n0,1,1,2,3\n"
                         "0,1,2,3,2\n0,1,3,4,2\n1,0,0,6,0\n1,0,1,0,0\n1,0,2,0,0\n1,0,3,0,0\n1,1,0,0,0\n"
                         "1,1,1,0,0\n1,1,2,3,0\n1,1,3,3,0\n");
    free(sa);
    routing_trace_free(g);
    routing_trace_free(t);
    routing_trace_free(u);
    unlink(a);
    unlink(b);
    ck_assert_int_eq(rmdir(dir), 0);     /* no temp file left behind */
}
END_TEST

/* Top-4: the header names tokens_3 and tokens_4, every row has 7 fields, and the trace loads back the same;
 * a later rank with more choices than tokens, a row of the wrong width and a column out of order are refused. */
START_TEST(test_ranks)
{
    ck_assert_ptr_null(routing_trace_alloc_ranks(1, 1, 1, 1));
    ck_assert_ptr_null(routing_trace_alloc_ranks(1, 1, 1, ROUTING_RANKS_MAX + 1));
    char dir[] = "/tmp/check_routing_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char a[256];
    snprintf(a, sizeof a, "%s/a.csv", dir);
    errbuf err = { "" };
    routing_trace *t = routing_trace_alloc_ranks(1, 2, 4, 4);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->ranks, 4);
    ck_assert_ptr_eq(routing_trace_rank(t, 1), t->second);
    for (int g = 0; g < 2; g++)               /* 4 tokens per group, each choosing all 4 experts in some order */
        for (int e = 0; e < 4; e++)
            for (int j = 0; j < 4; j++)
                routing_trace_rank(t, j)[routing_trace_index(t, 0, g, e)] = 1;
    routing_trace_rank(t, 3)[routing_trace_index(t, 0, 1, 0)] = 2;   /* the 4th choices of group 1: 2,0,1,1 */
    routing_trace_rank(t, 3)[routing_trace_index(t, 0, 1, 1)] = 0;
    ck_assert_int_eq(routing_trace_write_csv(NULL, a, t, &err), 0);
    char *sa = fixture_slurp(a, NULL);
    ck_assert_str_eq(sa, ROUTING_TRACE_HEADER ",tokens_3,tokens_4\n0,0,0,1,1,1,1\n0,0,1,1,1,1,1\n0,0,2,1,1,1,1\n"
                         "0,0,3,1,1,1,1\n0,1,0,1,1,1,2\n0,1,1,1,1,1,0\n0,1,2,1,1,1,1\n0,1,3,1,1,1,1\n");
    free(sa);
    routing_trace *u = routing_trace_load_csv(a, 1, 2, 4, &err);
    ck_assert_msg(u != NULL, "%s", err.msg);
    ck_assert_int_eq(u->ranks, 4);
    ck_assert_mem_eq(u->first, t->first, 4 * 2 * 4 * sizeof(int));
    routing_trace_free(u);
    static const struct { const char *text, *msg; } BADK[] = {
        { ROUTING_TRACE_HEADER ",tokens_3\n0,0,0,1,1,1\n0,0,1,1,1,2\n0,1,0,1,1,1\n0,1,1,1,1,1\n",
          ": layer 0 group 0 has 3 choices in tokens_3, more than its 2 tokens" },
        { ROUTING_TRACE_HEADER ",tokens_3\n0,0,0,1,1\n", ":2: expected 6 fields, got 5" },
        { ROUTING_TRACE_HEADER ",tokens_4\n", ":1: header must be " HDR ", got "
          "'layer,group,expert,tokens_first,tokens_second,tokens_4'" },
    };
    for (size_t i = 0; i < sizeof BADK / sizeof BADK[0]; i++) {
        FILE *fp = fopen(a, "w");
        ck_assert_ptr_nonnull(fp);
        fputs(BADK[i].text, fp);
        fclose(fp);
        ck_assert_ptr_null(routing_trace_load_csv(a, 1, 2, 2, &err));
        char want[512];
        snprintf(want, sizeof want, "%s%s", a, BADK[i].msg);
        ck_assert_str_eq(err.msg, want);
    }
    routing_trace_free(t);
    unlink(a);
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(test_write_fail)
{
    errbuf err = { "" };
    routing_trace *t = random_trace(1, 2, 3, 7);
    const char *path = "/nonexistent-dir/trace.csv";
    ck_assert_int_eq(routing_trace_write_csv(NULL, path, t, &err), -1);
    ck_assert_str_eq(err.msg, "/nonexistent-dir/trace.csv: cannot create temp file: No such file or directory");
    ck_assert_int_eq(access(path, F_OK), -1);

    /* a negative count cannot be loaded back, so it is not written */
    char dir[] = "/tmp/check_routing_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char out[256];
    snprintf(out, sizeof out, "%s/neg.csv", dir);
    t->second[routing_trace_index(t, 0, 1, 2)] = -4;
    ck_assert_int_eq(routing_trace_write_csv(NULL, out, t, &err), -1);
    char want[400];
    snprintf(want, sizeof want, "%s: layer 0 group 1 expert 2 has a negative count (choice 2: -4)", out);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(access(out, F_OK), -1);
    ck_assert_int_eq(rmdir(dir), 0);
    routing_trace_free(t);
}
END_TEST

START_TEST(test_check_tokens)
{
    errbuf err = { "" };
    routing_trace *t = routing_trace_load_csv(GOOD, 2, 2, 4, &err);
    ck_assert_ptr_nonnull(t);
    const long ok[2] = { 10, 6 }, bad1[2] = { 10, 12 }, bad0[2] = { 8, 6 };
    ck_assert_int_eq(routing_trace_check_tokens(t, ok, "x.csv", &err), 0);
    ck_assert_int_eq(routing_trace_check_tokens(t, bad1, "x.csv", &err), -1);
    ck_assert_str_eq(err.msg, "x.csv: layer 1 routes 6 tokens per group, the plan routes 12");
    ck_assert_int_eq(routing_trace_check_tokens(t, bad0, "x.csv", &err), -1);
    ck_assert_str_eq(err.msg, "x.csv: layer 0 routes 10 tokens per group, the plan routes 8");
    /* a group that differs from group 0 (only possible for a trace built in memory) */
    t->first[routing_trace_index(t, 1, 1, 0)] = 1;
    ck_assert_int_eq(routing_trace_check_tokens(t, ok, "x.csv", &err), -1);
    ck_assert_str_eq(err.msg, "x.csv: layer 1 group 1 routes 7 tokens, the plan routes 6");
    routing_trace_free(t);
}
END_TEST

/* The example traces shipped in traces/ load with the shape traces/README.md gives. */
START_TEST(test_examples)
{
    static const char *const FILES[] = { "traces/balanced.csv", "traces/skewed.csv" };
    for (int i = 0; i < 2; i++) {
        errbuf err = { "" };
        routing_trace *t = routing_trace_load_csv(FILES[i], 2, 8, 8, &err);
        ck_assert_msg(t != NULL, "%s", err.msg);
        ck_assert_int_eq(routing_trace_group_tokens(t, 0), 64);
        ck_assert_int_eq(routing_trace_group_tokens(t, 1), 32);
        int max0 = 0;
        for (int e = 0; e < 8; e++)
            if (t->first[routing_trace_index(t, 0, 0, e)] > max0)
                max0 = t->first[routing_trace_index(t, 0, 0, e)];
        if (i == 0)
            ck_assert_int_eq(max0, 8);          /* balanced: 64 tokens / 8 experts each */
        else
            ck_assert_int_gt(max0, 16);         /* skewed: the hot expert gets well over twice its share */
        routing_trace_free(t);
    }
}
END_TEST

static Suite *routing_suite(void)
{
    Suite *s = suite_create("routing");
    TCase *tc = tcase_create("alloc");
    tcase_add_test(tc, test_alloc);
    suite_add_tcase(s, tc);
    tc = tcase_create("load");
    tcase_add_test(tc, test_load_good);
    tcase_add_test(tc, test_load_bom);
    tcase_add_loop_test(tc, test_load_bad, 0, (int)(sizeof BAD / sizeof BAD[0]));
    tcase_add_test(tc, test_examples);
    suite_add_tcase(s, tc);
    tc = tcase_create("write");
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_write_fail);
    tcase_add_test(tc, test_ranks);
    suite_add_tcase(s, tc);
    tc = tcase_create("check_tokens");
    tcase_add_test(tc, test_check_tokens);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(routing_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
