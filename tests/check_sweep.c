/* Check suite for analysis/sweep.c: list parsing (exact messages), combination order, run argv,
 * resume matching, the emitted job list's bytes, and whole sweeps against a stand-in 'run'
 * (tests/data/csv_fake_run.sh) including resume, failed runs and a stop. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/sweep.h"

#define FAKE_RUN "tests/data/csv_fake_run.sh"

/* Each value as run takes it, with run's message (sim/runopt.c); lists add empty and repeated values. */
static const struct { const char *opt, *list, *msg; } BAD[] = {
    { "--capacity-factor", "1,,2", "--capacity-factor: empty value in list '1,,2'" },
    { "--capacity-factor", "1,abc", "--capacity-factor must be a number in (0, 1e6], got 'abc'" },
    { "--capacity-factor", "1,", "--capacity-factor: empty value in list '1,'" },
    { "--capacity-factor", "", "--capacity-factor: empty value in list ''" },
    { "--capacity-factor", "0", "--capacity-factor must be a number in (0, 1e6], got '0'" },
    { "--capacity-factor", "-1.5", "--capacity-factor must be a number in (0, 1e6], got '-1.5'" },
    { "--capacity-factor", "2e6", "--capacity-factor must be a number in (0, 1e6], got '2e6'" },
    { "--capacity-factor", "1.0,1", "--capacity-factor: value '1' is listed twice" },
    { "--capacity-factor", "1 ,2", "--capacity-factor must be a number in (0, 1e6], got '1 '" },
    { "--top-k", "1,9", "--top-k must be an integer in [1, 8], got '9'" },
    { "--top-k", "1,1", "--top-k: value '1' is listed twice" },
    { "--seeds", "1,-2", "--seeds must be an integer >= 0, got '-2'" },
    { "--seeds", "1.5", "--seeds must be an integer >= 0, got '1.5'" },
    { "--dispatch", "padded,gather", "--dispatch must be padded, exact, dropless or expert-choice, got 'gather'" },
    { "--a2a", "ring", "--a2a must be phased, direct or hier, got 'ring'" },
    { "--plan", "data=32,model=1;data=x", "--plan must be data=N,model=M with integers in [1,1000000], got 'data=x'" },
    { "--plan", "experts=4", "--plan keys are data, model (or tensor), expert, pipe and micro, got 'experts' in "
      "'experts=4'" },
    { "--plan", "data=0", "--plan must be data=N,model=M with integers in [1,1000000], got 'data=0'" },
    { "--plan", "data=2,model=1;model=1,data=2", "--plan: value 'model=1,data=2' is listed twice" },
    { "--plan", "data=2;data=2,model=1", "--plan: value 'data=2,model=1' is listed twice" },
    { "--model", "switch-base,,t5-base", "--model: empty value in list 'switch-base,,t5-base'" },
    { "--routing", "uniform,uniform", "--routing: value 'uniform' is listed twice" },
    { "--routing", "uniform,zipf:x", "--routing zipf:S needs an exponent S >= 0, got 'x'" },
    { "--capacity-factor", "0x1p0", "--capacity-factor must be a number in (0, 1e6], got '0x1p0'" },   /* hex float */
    /* a line break would be a second command in the job file (a file named "x\ntouch PWNED #") */
    { "--platform", "a.xml,x\ntouch PWNED #", "--platform: a value must not hold a line break (a job is one line), got 'a.xml,x\\ntouch PWNED #'" },
    { "--routing", "trace:a\r.csv", "--routing: a value must not hold a line break (a job is one line), got 'trace:a\\r.csv'" },
};

/* The duplicate check must not compare every pair: 15,000 capacity factors took over a minute, and must
 * take well under Check's 4 s timeout; a duplicate at the end is still found. */
START_TEST(test_set_long_list)
{
    enum { N = 15000 };
    char *list = malloc((size_t)N * 16);
    size_t len = 0;
    for (int i = 1; i <= N; i++)
        len += (size_t)sprintf(list + len, "%s%d.5", i > 1 ? "," : "", i);
    sweep_spec s;
    sweep_spec_init(&s);
    errbuf err = { "" };
    ck_assert_int_eq(sweep_spec_set(&s, "--capacity-factor", list, &err), 0);
    ck_assert_int_eq(sweep_count(&s), N);
    sprintf(list + len, ",7.50");
    ck_assert_int_eq(sweep_spec_set(&s, "--capacity-factor", list, &err), -1);
    ck_assert_str_eq(err.msg, "--capacity-factor: value '7.50' is listed twice");
    sweep_spec_fini(&s);
    free(list);
}
END_TEST

/* The number of combinations is bounded (it used to overflow a long): the list that passes the bound is
 * refused and the axis kept. */
START_TEST(test_set_too_many)
{
    char *seeds = malloc(8 * 1001), *cfs = malloc(8 * 999);
    size_t ls = 0, lc = 0;
    for (int i = 0; i < 1001; i++)
        ls += (size_t)sprintf(seeds + ls, "%s%d", i > 0 ? "," : "", i);
    for (int i = 1; i <= 999; i++)
        lc += (size_t)sprintf(cfs + lc, "%s%d", i > 1 ? "," : "", i);
    sweep_spec s;
    sweep_spec_init(&s);
    errbuf err = { "" };
    ck_assert_int_eq(sweep_spec_set(&s, "--seeds", seeds, &err), 0);
    ck_assert_int_eq(sweep_spec_set(&s, "--capacity-factor", cfs, &err), 0);
    ck_assert_int_eq(sweep_count(&s), 1001L * 999L);
    ck_assert_int_eq(sweep_spec_set(&s, "--top-k", "1,2", &err), -1);
    ck_assert_str_eq(err.msg, "--top-k: 2 values make the sweep more than 1000000 combinations");
    ck_assert_int_eq(s.n[sweep_axis_index("--top-k")], 0);
    sweep_spec_fini(&s);
    free(seeds);
    free(cfs);
}
END_TEST

/* A good value of each axis, set first so a failed set can be seen to keep it. */
static const char *good_value(const char *opt)
{
    return strcmp(opt, "--plan") == 0 ? "data=4" : strcmp(opt, "--dispatch") == 0 ? "exact"
           : strcmp(opt, "--a2a") == 0 ? "direct" : strcmp(opt, "--routing") == 0 ? "router" : "1";
}

START_TEST(test_set_bad)
{
    sweep_spec s;
    sweep_spec_init(&s);
    errbuf err = { "" };
    int a = sweep_axis_index(BAD[_i].opt);
    ck_assert_int_ge(a, 0);
    ck_assert_int_eq(sweep_spec_set(&s, BAD[_i].opt, good_value(BAD[_i].opt), &err), 0);
    const char *before = s.v[a][0];
    ck_assert_int_eq(sweep_spec_set(&s, BAD[_i].opt, BAD[_i].list, &err), -1);
    ck_assert_str_eq(err.msg, BAD[_i].msg);
    ck_assert_int_eq(s.n[a], 1);           /* the axis is as it was */
    ck_assert_ptr_eq(s.v[a][0], before);
    sweep_spec_fini(&s);
}
END_TEST

static void make_spec(sweep_spec *s, const char *cf, const char *seeds)
{
    errbuf err = { "" };
    sweep_spec_init(s);
    ck_assert_int_eq(sweep_spec_set(s, "--platform", "tests/data/csv_platform.xml", &err), 0);
    ck_assert_int_eq(sweep_spec_set(s, "--model", "switch-base", &err), 0);
    ck_assert_int_eq(sweep_spec_set(s, "--top-k", "1,2", &err), 0);
    ck_assert_int_eq(sweep_spec_set(s, "--capacity-factor", cf, &err), 0);
    if (seeds != NULL)
        ck_assert_int_eq(sweep_spec_set(s, "--seeds", seeds, &err), 0);
}

START_TEST(test_argv_order)
{
    sweep_spec s;
    make_spec(&s, "0.5,1.25,4", "7,8");
    errbuf err = { "" };
    ck_assert_int_eq(sweep_spec_set(&s, "--plan", "data=32,model=1;data=16,model=2", &err), 0);
    ck_assert_int_eq(s.n[sweep_axis_index("--plan")], 2);
    ck_assert_int_eq(sweep_count(&s), 2 * 2 * 3 * 2);
    const char *argv[SWEEP_ARGV_MAX];
    /* k = 13: plan 1, top-k 0, cf 0, seed 1 (seed fastest, then cf, then k, then plan) */
    int argc = sweep_argv(argv, &s, 13, "bin", "p.csv");
    const char *want[] = { "bin", "run", "--platform", "tests/data/csv_platform.xml", "--model", "switch-base",
                           "--plan", "data=16,model=2", "--top-k", "1", "--capacity-factor", "0.5",
                           "--seed", "8", "--csv", "p.csv" };
    ck_assert_int_eq(argc, 16);
    for (int i = 0; i < argc; i++)
        ck_assert_str_eq(argv[i], want[i]);
    ck_assert_ptr_null(argv[argc]);
    char name[32];
    ck_assert_int_eq(sweep_part_name(name, sizeof name, &s, 13), 0);
    ck_assert_str_eq(name, "part-14.csv");
    ck_assert_int_eq(sweep_part_name(name, sizeof name, &s, 0), 0);
    ck_assert_str_eq(name, "part-01.csv");
    ck_assert_int_eq(sweep_part_name(name, 8, &s, 0), -1);
    sweep_spec_fini(&s);
}
END_TEST

START_TEST(test_matches)
{
    sweep_spec s;
    make_spec(&s, "0.5,1.25", NULL);
    errbuf err = { "" };
    ck_assert_int_eq(sweep_spec_set(&s, "--plan", "model=1,data=32", &err), 0);
    runrow r = { .model = "switch-base", .platform = "tests/data/csv_platform.xml", .data = 32, .model_par = 1,
                 .top_k = 2, .capacity_factor = 1.25, .seed = 99, .scope = "step", .pipe = 1, .micro_batches = 1 };
    unsigned char done[4];
    ck_assert_int_eq(sweep_row_matches(&s, 3, &r), 1);   /* k=2, cf 1.25; any seed: --seeds not given */
    ck_assert_int_eq(sweep_row_matches(&s, 1, &r), 0);
    ck_assert_int_eq(sweep_mark_done(done, &s, &r, 1), 1);
    ck_assert(done[0] == 0 && done[1] == 0 && done[2] == 0 && done[3] == 1);
    runrow other = r;
    snprintf(other.scope, sizeof other.scope, "layer");     /* per-layer rows never count */
    ck_assert_int_eq(sweep_row_matches(&s, 3, &other), 0);
    other = r;
    other.model_par = 2;
    ck_assert_int_eq(sweep_row_matches(&s, 3, &other), 0);
    other = r;
    other.pipe = 2;                                           /* a pipelined run is another plan */
    other.micro_batches = 8;
    ck_assert_int_eq(sweep_row_matches(&s, 3, &other), 0);
    other = r;
    snprintf(other.platform, sizeof other.platform, "./tests/data/csv_platform.xml");   /* the same file */
    ck_assert_int_eq(sweep_row_matches(&s, 3, &other), 1);
    snprintf(other.platform, sizeof other.platform, "tests/data/csv_good.csv");         /* another file */
    ck_assert_int_eq(sweep_row_matches(&s, 3, &other), 0);
    snprintf(other.platform, sizeof other.platform, "no/such/csv_platform.xml");        /* none */
    ck_assert_int_eq(sweep_row_matches(&s, 3, &other), 0);
    ck_assert_int_eq(sweep_spec_set(&s, "--plan", "data=32", &err), 0);   /* run's plan: model=1 */
    ck_assert_int_eq(sweep_row_matches(&s, 3, &r), 1);
    other = r;
    other.model_par = 2;
    ck_assert_int_eq(sweep_row_matches(&s, 3, &other), 0);
    ck_assert_int_eq(sweep_spec_set(&s, "--seeds", "98,99", &err), 0);
    ck_assert_int_eq(sweep_row_matches(&s, 7, &r), 1);
    ck_assert_int_eq(sweep_row_matches(&s, 6, &r), 0);
    sweep_spec_fini(&s);
}
END_TEST

START_TEST(test_emit_jobs)
{
    sweep_spec s;
    errbuf err = { "" };
    sweep_spec_init(&s);
    ck_assert_int_eq(sweep_spec_set(&s, "--platform", "topologies/tpuv3-4x4.xml", &err), 0);
    ck_assert_int_eq(sweep_spec_set(&s, "--model", "switch-base", &err), 0);
    ck_assert_int_eq(sweep_spec_set(&s, "--routing", "trace:my runs/it's.csv", &err), 0);
    ck_assert_int_eq(sweep_spec_set(&s, "--top-k", "1,2", &err), 0);
    ck_assert_int_eq(sweep_spec_set(&s, "--capacity-factor", "1.25", &err), 0);
    char dir[] = "/tmp/check_sweep_XXXXXX", path[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/jobs.txt", dir);
    const unsigned char skip[2] = { 1, 0 };
    ck_assert_int_eq(sweep_write_jobs(path, &s, "switchsim", NULL, &err), 0);
    char buf[1024] = "";
    FILE *fp = fopen(path, "r");
    size_t len = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[len] = '\0';
    ck_assert_str_eq(buf,
        "switchsim run --platform topologies/tpuv3-4x4.xml --model switch-base --routing 'trace:my runs/it'\\''s.csv' "
        "--top-k 1 --capacity-factor 1.25 --csv part-1.csv\n"
        "switchsim run --platform topologies/tpuv3-4x4.xml --model switch-base --routing 'trace:my runs/it'\\''s.csv' "
        "--top-k 2 --capacity-factor 1.25 --csv part-2.csv\n");
    ck_assert_int_eq(sweep_write_jobs(path, &s, "switchsim", skip, &err), 0);   /* resume: part-1 is done */
    fp = fopen(path, "r");
    len = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[len] = '\0';
    ck_assert_str_eq(buf,
        "switchsim run --platform topologies/tpuv3-4x4.xml --model switch-base --routing 'trace:my runs/it'\\''s.csv' "
        "--top-k 2 --capacity-factor 1.25 --csv part-2.csv\n");
    unlink(path);
    snprintf(path, sizeof path, "%s/no/such/dir/jobs.txt", dir);       /* a failed write leaves nothing */
    ck_assert_int_eq(sweep_write_jobs(path, &s, "switchsim", NULL, &err), -1);
    ck_assert_int_eq(access(path, F_OK), -1);
    snprintf(path, sizeof path, "%s/jobs.txt", dir);                  /* nor a program path with a line break */
    ck_assert_int_eq(sweep_write_jobs(path, &s, "/opt/x\ntouch PWNED #/switchsim", NULL, &err), -1);
    ck_assert_str_eq(err.msg, "the program's path: a value must not hold a line break (a job is one line), "
                              "got '/opt/x\\ntouch PWNED #/switchsim'");
    ck_assert_int_eq(access(path, F_OK), -1);
    ck_assert_int_eq(sweep_spec_add_extra(&s, "--remat\non", &err), -1);     /* nor a --run-arg */
    ck_assert_str_eq(err.msg, "--run-arg: a value must not hold a line break (a job is one line), got '--remat\\non'");
    rmdir(dir);
    sweep_spec_fini(&s);
}
END_TEST

/* ---- whole sweeps against the stand-in run ---- */

static char tdir[64], out[96];

static void setup_dir(void)
{
    snprintf(tdir, sizeof tdir, "/tmp/check_sweep_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tdir));
    snprintf(out, sizeof out, "%s/out.csv", tdir);
}

static void cleanup_dir(void)
{
    unlink(out);
    ck_assert_int_eq(rmdir(tdir), 0);      /* nothing else left behind: no part folder, no temp file */
}

static int count_lines(const char *path)
{
    FILE *fp = fopen(path, "r");
    int c, n = 0;
    if (fp == NULL)
        return -1;
    while ((c = fgetc(fp)) != EOF)
        n += c == '\n';
    fclose(fp);
    return n;
}

START_TEST(test_run_and_resume)
{
    setup_dir();
    sweep_spec s;
    make_spec(&s, "0.5,1", "1,2");
    sweep_opts o = { .bin = FAKE_RUN, .csv = out, .jobs = 3 };
    sweep_event ev;
    errbuf err = { "" };
    ck_assert_msg(sweep_run(&ev, &s, &o, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ev.total, 8);
    ck_assert_int_eq(ev.done, 8);
    ck_assert_int_eq(ev.skipped, 0);
    ck_assert_int_eq(count_lines(out), 1 + 8);

    runrow *rows = NULL;
    int n = 0;
    ck_assert_int_eq(runrow_read(out, &rows, &n, &err), 0);
    unsigned char done[8];
    ck_assert_int_eq(sweep_mark_done(done, &s, rows, n), 8);   /* each combination's row is there once */
    free(rows);

    ck_assert_int_eq(sweep_run(&ev, &s, &o, &err), -1);        /* no --resume: the CSV is kept */
    char want[256];
    snprintf(want, sizeof want, "%s: exists; use --resume to continue that sweep, or remove it", out);
    ck_assert_str_eq(err.msg, want);

    sweep_spec_fini(&s);
    make_spec(&s, "0.5,1,2", "1,2");                            /* a wider sweep, resumed */
    o.resume = 1;
    ck_assert_msg(sweep_run(&ev, &s, &o, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ev.skipped, 8);
    ck_assert_int_eq(ev.total, 4);
    ck_assert_int_eq(ev.done, 4);
    ck_assert_int_eq(count_lines(out), 1 + 12);
    ck_assert_int_eq(sweep_run(&ev, &s, &o, &err), 0);         /* nothing left to do */
    ck_assert_int_eq(ev.total, 0);
    ck_assert_int_eq(count_lines(out), 1 + 12);
    sweep_spec_fini(&s);
    cleanup_dir();
}
END_TEST

static int n_events, n_failed_events;
static char failed_cmd[512], failed_why[256];

static void record(void *ctx, const sweep_event *ev)
{
    (void)ctx;
    n_events++;
    if (ev->failed_cmd != NULL) {
        n_failed_events++;
        snprintf(failed_cmd, sizeof failed_cmd, "%s", ev->failed_cmd);
        snprintf(failed_why, sizeof failed_why, "%s", ev->failed_why);
    }
}

START_TEST(test_run_failure)
{
    setup_dir();
    sweep_spec s;
    make_spec(&s, "0.5,3", NULL);
    setenv("FAKE_RUN_FAIL_CF", "3", 1);
    setenv("FAKE_RUN_QUIET", "1", 1);           /* the failure is expected: no message in a passing suite */
    sweep_opts o = { .bin = FAKE_RUN, .csv = out, .jobs = 1, .progress = record };
    sweep_event ev;
    errbuf err = { "" };
    ck_assert_int_eq(sweep_run(&ev, &s, &o, &err), -1);
    char want[256];
    snprintf(want, sizeof want, "2 of 4 runs failed; the rows of the others are in %s", out);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(ev.done, 4);
    ck_assert_int_eq(ev.failed, 2);
    ck_assert_int_eq(n_events, 1 + 4);
    ck_assert_int_eq(n_failed_events, 2);
    ck_assert_str_eq(failed_why, "exit status 1");
    ck_assert(strstr(failed_cmd, "--top-k 2 --capacity-factor 3 --csv ") != NULL);
    ck_assert_int_eq(count_lines(out), 1 + 2);
    unsetenv("FAKE_RUN_FAIL_CF");
    unsetenv("FAKE_RUN_QUIET");
    o.resume = 1;                                                /* resume reruns only the failed ones */
    ck_assert_msg(sweep_run(&ev, &s, &o, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ev.total, 2);
    ck_assert_int_eq(count_lines(out), 1 + 4);
    sweep_spec_fini(&s);
    cleanup_dir();
}
END_TEST

/* Every run fails: no header-only CSV is left, so the same sweep runs again without --resume. */
START_TEST(test_run_all_failed)
{
    setup_dir();
    sweep_spec s;
    make_spec(&s, "3", NULL);
    setenv("FAKE_RUN_FAIL_CF", "3", 1);
    setenv("FAKE_RUN_QUIET", "1", 1);           /* the failure is expected: no message in a passing suite */
    sweep_opts o = { .bin = FAKE_RUN, .csv = out, .jobs = 1 };
    sweep_event ev;
    errbuf err = { "" };
    ck_assert_int_eq(sweep_run(&ev, &s, &o, &err), -1);
    char want[256];
    snprintf(want, sizeof want, "all 2 runs failed; %s was not kept", out);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(access(out, F_OK), -1);
    unsetenv("FAKE_RUN_FAIL_CF");
    unsetenv("FAKE_RUN_QUIET");
    ck_assert_msg(sweep_run(&ev, &s, &o, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(count_lines(out), 1 + 2);
    sweep_spec_fini(&s);
    cleanup_dir();
}
END_TEST

START_TEST(test_run_stopped)
{
    setup_dir();
    sweep_spec s;
    make_spec(&s, "0.5,3", NULL);
    volatile sig_atomic_t stop = 1;                              /* stopped before anything started */
    sweep_opts o = { .bin = FAKE_RUN, .csv = out, .jobs = 2, .stop = &stop };
    sweep_event ev;
    errbuf err = { "" };
    ck_assert_int_eq(sweep_run(&ev, &s, &o, &err), -1);
    char want[256];
    snprintf(want, sizeof want, "stopped after 0 of 4 runs; their rows are in %s, rerun with --resume to finish", out);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(count_lines(out), 1);                       /* the header only */
    sweep_spec_fini(&s);
    cleanup_dir();
}
END_TEST

START_TEST(test_run_bad_bin_and_csv)
{
    setup_dir();
    sweep_spec s;
    make_spec(&s, "1", NULL);
    sweep_opts o = { .bin = "tests/data/no-such-run", .csv = out, .jobs = 1 };
    errbuf err = { "" };
    ck_assert_int_eq(sweep_run(NULL, &s, &o, &err), -1);
    ck_assert_str_eq(err.msg, "tests/data/no-such-run: cannot execute: No such file or directory");
    unlink(out);
    o.bin = FAKE_RUN;
    o.resume = 1;
    o.csv = "tests/data/csv_torn.csv";                          /* a torn last row is not resumed over */
    ck_assert_int_eq(sweep_run(NULL, &s, &o, &err), -1);
    ck_assert_str_eq(err.msg, "tests/data/csv_torn.csv:2: expected 34 fields, got 12");
    o.csv = "tests/data/csv_bad_header.csv";
    ck_assert_int_eq(sweep_run(NULL, &s, &o, &err), -1);
    ck_assert_str_eq(err.msg, "tests/data/csv_bad_header.csv:1: column 4 is 'dta', expected 'data' (the header of run --csv)");
    sweep_spec_fini(&s);
    cleanup_dir();
}
END_TEST

static Suite *sweep_suite(void)
{
    Suite *s = suite_create("sweep");
    TCase *tc = tcase_create("spec");
    tcase_add_loop_test(tc, test_set_bad, 0, (int)(sizeof BAD / sizeof BAD[0]));
    tcase_add_test(tc, test_set_long_list);
    tcase_add_test(tc, test_set_too_many);
    tcase_add_test(tc, test_argv_order);
    tcase_add_test(tc, test_matches);
    suite_add_tcase(s, tc);
    tc = tcase_create("emit_jobs");
    tcase_add_test(tc, test_emit_jobs);
    suite_add_tcase(s, tc);
    tc = tcase_create("run");
    tcase_set_timeout(tc, 20);     /* each combination is a shell process */
    tcase_add_test(tc, test_run_and_resume);
    tcase_add_test(tc, test_run_failure);
    tcase_add_test(tc, test_run_stopped);
    tcase_add_test(tc, test_run_all_failed);
    tcase_add_test(tc, test_run_bad_bin_and_csv);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sweep_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
