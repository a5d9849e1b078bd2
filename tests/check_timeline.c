/* check_timeline: the Chrome trace-event timeline (traces/timeline.h): exact JSON of a small timeline, the
 * output parsed with jq (event count, no overlap on a thread, names escaped, core mask), determinism,
 * invalid events, and the --trace-cores parser's results and messages. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "traces/timeline.h"
#include "tests/fixtures.h"

static char tmpdir[64];
static char out_json[128];

static void setup(void)
{
    strcpy(tmpdir, "/tmp/check_timeline_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(out_json, sizeof out_json, "%s/t.json", tmpdir);
}

static void teardown(void)
{
    unlink(out_json);
    rmdir(tmpdir);              /* fails, harmlessly, if a test left something behind: tests check that */
}

/* Runs jq -r FILTER FILE and returns its output (first 4 KiB, trailing newline removed). */
static char *jq(const char *filter, const char *file)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "jq -r '%s' '%s' 2>&1", filter, file);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    char *buf = calloc(4096, 1);
    ck_assert_ptr_nonnull(buf);
    size_t n = fread(buf, 1, 4095, p);
    ck_assert_int_eq(pclose(p), 0);
    if (n > 0 && buf[n - 1] == '\n')
        buf[n - 1] = '\0';
    return buf;
}

static long jq_long(const char *filter, const char *file)
{
    char *s = jq(filter, file);
    char *end;
    long v = strtol(s, &end, 10);
    ck_assert_msg(end != s && *end == '\0', "jq printed '%s'", s);
    free(s);
    return v;
}

#define JQ_NEVENTS "[.traceEvents[] | select(.ph == \"X\")] | length"
/* pairs of consecutive events on one thread (sorted by ts) where the first ends after the next starts, in ns */
#define JQ_OVERLAPS                                                                                        \
    "[.traceEvents[] | select(.ph == \"X\")] | group_by([.pid, .tid]) | map(sort_by(.ts) | . as $a"       \
    " | [range(1; length) | select((($a[. - 1].ts * 1000 | round) + ($a[. - 1].dur * 1000 | round))"      \
    " > ($a[.].ts * 1000 | round))] | length) | add // 0"

START_TEST(test_alloc)
{
    ck_assert_ptr_null(timeline_alloc(0, 2, NULL));
    ck_assert_ptr_null(timeline_alloc(4, 0, NULL));
    ck_assert_ptr_null(timeline_alloc(1 << 20, 1 << 20, NULL));
    timeline *tl = timeline_alloc(2, 2, NULL);
    ck_assert_ptr_nonnull(tl);
    ck_assert_int_eq(timeline_count(tl), 0);
    ck_assert_int_eq(timeline_overlaps(tl), 0);
    timeline_free(tl);
    timeline_free(NULL);
}
END_TEST

/* The whole file for a small timeline, byte for byte: metadata, sorting (same start: shorter first), ids,
 * ns rounding (2.0004 us -> 2.000, so tiny ends where step starts), escaping. */
START_TEST(test_exact_json)
{
    timeline *tl = timeline_alloc(1, 2, NULL);
    ck_assert_ptr_nonnull(tl);
    ck_assert_int_eq(timeline_add(tl, 1, TL_COMM, "a2a", 0, "fwd", 1.5e-6, 2.0e-6), 0);
    ck_assert_int_eq(timeline_add(tl, 0, TL_COMPUTE, "step \"x\"", -1, NULL, 2.0e-6, 3.2385e-3), 0);
    ck_assert_int_eq(timeline_add(tl, 0, TL_COMPUTE, "router", 0, "fwd", 0.0, 1.5e-6), 0);
    ck_assert_int_eq(timeline_add(tl, 0, TL_COMPUTE, "tiny", 3, "bwd", 2.0e-6, 2.0004e-6), 0);
    ck_assert_int_eq(timeline_count(tl), 4);
    errbuf err = { "" };
    ck_assert_int_eq(timeline_write_json(NULL, out_json, tl, &err), 0);
    char *s = fixture_slurp(out_json, NULL);
    ck_assert_str_eq(s,
        "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"switchsim\","
        "\"time_unit\":\"microseconds of simulated time\"},\"traceEvents\":[\n"
        "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"chip 0\"}},\n"
        "{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":1,\"tid\":0,\"args\":{\"sort_index\":0}},\n"
        "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":1,\"args\":{\"name\":\"core 0 compute\"}},\n"
        "{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":1,\"tid\":1,\"args\":{\"sort_index\":1}},\n"
        "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":2,\"args\":{\"name\":\"core 0 comm\"}},\n"
        "{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":1,\"tid\":2,\"args\":{\"sort_index\":2}},\n"
        "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":3,\"args\":{\"name\":\"core 1 compute\"}},\n"
        "{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":1,\"tid\":3,\"args\":{\"sort_index\":3}},\n"
        "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":4,\"args\":{\"name\":\"core 1 comm\"}},\n"
        "{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":1,\"tid\":4,\"args\":{\"sort_index\":4}},\n"
        "{\"ph\":\"X\",\"name\":\"router L0\",\"cat\":\"compute\",\"pid\":1,\"tid\":1,\"ts\":0.000,\"dur\":1.500,"
        "\"args\":{\"op\":\"router\",\"layer\":0,\"phase\":\"fwd\"}},\n"
        "{\"ph\":\"X\",\"name\":\"tiny L3\",\"cat\":\"compute\",\"pid\":1,\"tid\":1,\"ts\":2.000,\"dur\":0.000,"
        "\"args\":{\"op\":\"tiny\",\"layer\":3,\"phase\":\"bwd\"}},\n"
        "{\"ph\":\"X\",\"name\":\"step \\\"x\\\"\",\"cat\":\"compute\",\"pid\":1,\"tid\":1,\"ts\":2.000,"
        "\"dur\":3236.500,\"args\":{\"op\":\"step \\\"x\\\"\"}},\n"
        "{\"ph\":\"X\",\"name\":\"a2a L0\",\"cat\":\"comm\",\"pid\":1,\"tid\":4,\"ts\":1.500,\"dur\":0.500,"
        "\"args\":{\"op\":\"a2a\",\"layer\":0,\"phase\":\"fwd\"}}\n"
        "]}\n");
    free(s);
    timeline_free(tl);
}
END_TEST

/* Names with quotes, backslashes and control characters come back unchanged through a JSON parser. */
START_TEST(test_escape)
{
    static const char NAME[] = "we\"ird\\na\tme\n\x01\x1f end \xc3\xa9";
    timeline *tl = timeline_alloc(1, 1, NULL);
    ck_assert_int_eq(timeline_add(tl, 0, TL_COMM, NAME, 2, "ph\"ase", 0.25, 0.5), 0);
    errbuf err = { "" };
    ck_assert_int_eq(timeline_write_json(NULL, out_json, tl, &err), 0);
    char *op = jq("[.traceEvents[] | select(.ph == \"X\")][0].args.op", out_json);
    ck_assert_str_eq(op, NAME);
    free(op);
    char *ph = jq("[.traceEvents[] | select(.ph == \"X\")][0].args.phase", out_json);
    ck_assert_str_eq(ph, "ph\"ase");
    free(ph);
    ck_assert_int_eq(jq_long("[.traceEvents[] | select(.ph == \"X\")][0].ts", out_json), 250000);
    timeline_free(tl);
}
END_TEST

static unsigned long lcg_state;

static unsigned long lcg(void)
{
    lcg_state = lcg_state * 6364136223846793005ul + 1442695040888963407ul;
    return lcg_state >> 33;
}

static const char *const OPS[] = { "router", "dispatch", "a2a", "expert_ffn", "combine", "allreduce", "attention",
                                   "idle" };

/* nthreads = 2 * ncores threads, each a chain of back-to-back events of random durations (some 0, some
 * shorter than the 1 ns JSON resolution), added in a shuffled thread order. */
static void fill_random(timeline *tl, int ncores, int per_thread, unsigned long seed)
{
    lcg_state = seed;
    int nthreads = 2 * ncores;
    double *t = calloc((size_t)nthreads, sizeof *t);
    int *left = malloc((size_t)nthreads * sizeof *left);
    ck_assert(t != NULL && left != NULL);
    for (int i = 0; i < nthreads; i++)
        left[i] = per_thread;
    long remaining = (long)nthreads * per_thread;
    while (remaining > 0) {
        int i = (int)(lcg() % (unsigned long)nthreads);
        if (left[i] == 0)
            continue;
        double dur_s;
        switch (lcg() % 4) {
        case 0: dur_s = 0.0; break;
        case 1: dur_s = 3.7e-10 * (double)(lcg() % 3); break;   /* below the 1 ns resolution */
        default: dur_s = 1e-9 * (double)(lcg() % 100000) / 7.0; break;
        }
        int layer = (int)(lcg() % 5) - 1;
        ck_assert_int_eq(timeline_add(tl, i / 2, (timeline_thread)(i % 2), OPS[lcg() % 8], layer,
                                      lcg() % 2 ? "fwd" : "bwd", t[i], t[i] + dur_s), 0);
        t[i] += dur_s;
        if (lcg() % 3 == 0)
            t[i] += 1e-9 * (double)(lcg() % 1000) / 3.0;       /* a gap */
        left[i]--;
        remaining--;
    }
    free(t);
    free(left);
}

START_TEST(test_jq_count_overlap)
{
    timeline *tl = timeline_alloc(4, 2, NULL);
    fill_random(tl, 8, 500, 2385);
    ck_assert_int_eq(timeline_count(tl), 8 * 2 * 500);
    ck_assert_int_eq(timeline_overlaps(tl), 0);
    errbuf err = { "" };
    ck_assert_int_eq(timeline_write_json(NULL, out_json, tl, &err), 0);
    ck_assert_int_eq(jq_long(JQ_NEVENTS, out_json), 8000);
    ck_assert_int_eq(jq_long(JQ_OVERLAPS, out_json), 0);
    ck_assert_int_eq(jq_long("[.traceEvents[] | select(.name == \"process_name\")] | length", out_json), 4);
    ck_assert_int_eq(jq_long("[.traceEvents[] | select(.name == \"thread_name\")] | length", out_json), 16);
    /* the check can fail: one event that starts 1 ns before the previous one on its thread ends */
    ck_assert_int_eq(timeline_add(tl, 5, TL_COMM, "first", 0, NULL, 1.0, 1.0 + 2e-9), 0);
    ck_assert_int_eq(timeline_add(tl, 5, TL_COMM, "overlapping", 0, NULL, 1.0 + 1e-9, 1.0 + 3e-9), 0);
    ck_assert_int_eq(timeline_overlaps(tl), 1);
    ck_assert_int_eq(timeline_write_json(NULL, out_json, tl, &err), 0);
    ck_assert_int_eq(jq_long(JQ_NEVENTS, out_json), 8002);
    ck_assert_int_eq(jq_long(JQ_OVERLAPS, out_json), 1);
    timeline_free(tl);
}
END_TEST

/* The same events added in another order give the same bytes. */
START_TEST(test_deterministic)
{
    timeline *a = timeline_alloc(2, 2, NULL), *b = timeline_alloc(2, 2, NULL);
    fill_random(a, 4, 50, 11);
    /* b: same events (same seed stream) but the strings interned in another order first */
    ck_assert_int_eq(timeline_add(b, 3, TL_COMM, "zz", 1, "fwd", 9.0, 9.5), 0);
    ck_assert_int_eq(timeline_add(b, 3, TL_COMM, "idle", -1, "bwd", 8.0, 9.0), 0);
    fill_random(b, 4, 50, 11);
    ck_assert_int_eq(timeline_add(a, 3, TL_COMM, "idle", -1, "bwd", 8.0, 9.0), 0);
    ck_assert_int_eq(timeline_add(a, 3, TL_COMM, "zz", 1, "fwd", 9.0, 9.5), 0);
    errbuf err = { "" };
    char other[160];
    snprintf(other, sizeof other, "%s/u.json", tmpdir);
    ck_assert_int_eq(timeline_write_json(NULL, out_json, a, &err), 0);
    ck_assert_int_eq(timeline_write_json(NULL, other, b, &err), 0);
    char *sa = fixture_slurp(out_json, NULL), *sb = fixture_slurp(other, NULL);
    ck_assert_str_eq(sa, sb);
    free(sa);
    free(sb);
    unlink(other);
    timeline_free(a);
    timeline_free(b);
}
END_TEST

START_TEST(test_mask)
{
    int mask[8] = { 0, 0, 0, 1, 0, 0, 0, 0 };
    timeline *tl = timeline_alloc(4, 2, mask);
    mask[3] = 0;                                  /* the timeline keeps its own copy */
    mask[0] = 1;
    fill_random(tl, 8, 20, 5);
    ck_assert_int_eq(timeline_count(tl), 2 * 20); /* only core 3's two threads */
    errbuf err = { "" };
    ck_assert_int_eq(timeline_write_json(NULL, out_json, tl, &err), 0);
    ck_assert_int_eq(jq_long(JQ_NEVENTS, out_json), 40);
    char *s = jq("[.traceEvents[] | select(.ph == \"M\" and (.name == \"process_name\" or .name == \"thread_name\"))"
                 " | .args.name] | join(\";\")", out_json);
    ck_assert_str_eq(s, "chip 1;core 3 compute;core 3 comm");
    free(s);
    s = jq("[.traceEvents[] | select(.ph == \"X\") | \"\\(.pid)/\\(.tid)\"] | unique | join(\";\")", out_json);
    ck_assert_str_eq(s, "2/7;2/8");
    free(s);
    timeline_free(tl);
}
END_TEST

static const struct { int core, th, layer; const char *name; double t0, t1; const char *msg; } INVALID[] = {
    { 8, 0, 0, "a2a", 0.0, 1.0, "core 8 not in [0,8)" },
    { -1, 0, 0, "a2a", 0.0, 1.0, "core -1 not in [0,8)" },
    { 2, 2, 0, "a2a", 0.0, 1.0, "core 2: thread 2 is neither compute (0) nor comm (1)" },
    { 2, 0, 4, NULL, 0.0, 1.0, "core 2: event with no name (layer 4)" },
    { 2, 0, -2, "a2a", 0.0, 1.0, "core 2: layer -2 < -1" },
    { 2, 1, 1, "a2a", 2.0, 1.0, "core 2 layer 1: times are not 0 <= t0 <= t1, finite" },
    { 2, 1, 1, "a2a", -1e-9, 1.0, "core 2 layer 1: times are not 0 <= t0 <= t1, finite" },
    { 2, 1, 1, "a2a", 0.0, INFINITY, "core 2 layer 1: times are not 0 <= t0 <= t1, finite" },
    { 2, 1, 1, "a2a", NAN, 1.0, "core 2 layer 1: times are not 0 <= t0 <= t1, finite" },
};

START_TEST(test_invalid)
{
    timeline *tl = timeline_alloc(4, 2, NULL);
    ck_assert_int_eq(timeline_add(tl, 0, TL_COMPUTE, "ok", 0, NULL, 0.0, 1.0), 0);
    ck_assert_int_eq(timeline_add(tl, INVALID[_i].core, (timeline_thread)INVALID[_i].th, INVALID[_i].name,
                                  INVALID[_i].layer, NULL, INVALID[_i].t0, INVALID[_i].t1), 0);
    ck_assert_int_eq(timeline_add(tl, 9, TL_COMPUTE, "second bad", 0, NULL, 0.0, 1.0), 0);
    ck_assert_int_eq(timeline_count(tl), 1);
    errbuf err = { "" };
    ck_assert_int_eq(timeline_write_json(NULL, out_json, tl, &err), -1);
    char want[300];
    snprintf(want, sizeof want, "%s: 2 invalid timeline events, first: %s", out_json, INVALID[_i].msg);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(access(out_json, F_OK), -1);
    timeline_free(tl);
}
END_TEST

START_TEST(test_write_fail)
{
    timeline *tl = timeline_alloc(1, 1, NULL);
    errbuf err = { "" };
    ck_assert_int_eq(timeline_write_json(NULL, "/nonexistent-dir/t.json", tl, &err), -1);
    ck_assert_str_eq(err.msg, "/nonexistent-dir/t.json: cannot create temp file: No such file or directory");
    /* an empty timeline is still valid JSON */
    ck_assert_int_eq(timeline_write_json(NULL, out_json, tl, &err), 0);
    ck_assert_int_eq(jq_long(JQ_NEVENTS, out_json), 0);
    timeline_free(tl);
}
END_TEST

static const struct { const char *spec; const char *want; } CORES_OK[] = {   /* want: mask of 16 as digits */
    { "0-3,8,12-15", "1111000010001111" },
    { "5", "0000010000000000" },
    { "15", "0000000000000001" },
    { "0-15", "1111111111111111" },
    { "3-3,2-4,4", "0011100000000000" },
    { "007", "0000000100000000" },
};

START_TEST(test_cores_ok)
{
    int mask[16];
    for (int c = 0; c < 16; c++)
        mask[c] = 7;
    errbuf err = { "" };
    ck_assert_int_eq(timeline_parse_cores(mask, 16, CORES_OK[_i].spec, &err), 0);
    char got[17];
    for (int c = 0; c < 16; c++)
        got[c] = (char)('0' + mask[c]);
    got[16] = '\0';
    ck_assert_str_eq(got, CORES_OK[_i].want);
}
END_TEST

static const struct { const char *spec, *msg; } CORES_BAD[] = {
    { "", "--trace-cores must list cores like '0-3,8', got ''" },
    { "0,,3", "--trace-cores: empty item in '0,,3'" },
    { "0,", "--trace-cores: empty item in '0,'" },
    { ",1", "--trace-cores: empty item in ',1'" },
    { "x", "--trace-cores: 'x' is not a core or a range A-B" },
    { "1,2-x", "--trace-cores: '2-x' is not a core or a range A-B" },
    { "-3", "--trace-cores: '-3' is not a core or a range A-B" },
    { "3-", "--trace-cores: '3-' is not a core or a range A-B" },
    { "1-2-3", "--trace-cores: '1-2-3' is not a core or a range A-B" },
    { " 3", "--trace-cores: ' 3' is not a core or a range A-B" },
    { "+3", "--trace-cores: '+3' is not a core or a range A-B" },
    { "0-3,12-16", "--trace-cores: '12-16' is not within cores [0,16)" },
    { "16", "--trace-cores: '16' is not within cores [0,16)" },
    { "99999999999999999999999", "--trace-cores: '99999999999999999999999' is not within cores [0,16)" },
    { "5-3", "--trace-cores: range '5-3' is reversed" },
};

START_TEST(test_cores_bad)
{
    int mask[16];
    for (int c = 0; c < 16; c++)
        mask[c] = 7;
    errbuf err = { "" };
    ck_assert_int_eq(timeline_parse_cores(mask, 16, CORES_BAD[_i].spec, &err), -1);
    ck_assert_str_eq(err.msg, CORES_BAD[_i].msg);
    for (int c = 0; c < 16; c++)
        ck_assert_int_eq(mask[c], 7);           /* untouched on failure */
}
END_TEST

static Suite *timeline_suite(void)
{
    Suite *s = suite_create("timeline");
    TCase *tc = tcase_create("alloc");
    tcase_add_test(tc, test_alloc);
    suite_add_tcase(s, tc);
    tc = tcase_create("write_json");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);                  /* jq over a few thousand events */
    tcase_add_test(tc, test_exact_json);
    tcase_add_test(tc, test_escape);
    tcase_add_test(tc, test_jq_count_overlap);
    tcase_add_test(tc, test_deterministic);
    tcase_add_test(tc, test_mask);
    tcase_add_loop_test(tc, test_invalid, 0, (int)(sizeof INVALID / sizeof INVALID[0]));
    tcase_add_test(tc, test_write_fail);
    suite_add_tcase(s, tc);
    tc = tcase_create("parse_cores");
    tcase_add_loop_test(tc, test_cores_ok, 0, (int)(sizeof CORES_OK / sizeof CORES_OK[0]));
    tcase_add_loop_test(tc, test_cores_bad, 0, (int)(sizeof CORES_BAD / sizeof CORES_BAD[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(timeline_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
