/* cmd_sweep: the 'sweep', 'merge' and 'summarize' subcommands.  Option parsing and messages only;
 * the work is in analysis/sweep.c, analysis/runrow.c and analysis/stats.c. */
#include "sim/cli/cmd.h"
#include "sim/cli/cliopt.h"

#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/runrow.h"
#include "analysis/stats.h"
#include "analysis/sweep.h"
#include "models/model.h"
#include "sim/runopt.h"
#include "sim/common/atomicio.h"
#include "sim/common/errbuf.h"
#include "sim/platform.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* Most runs one sweep starts at once: each is a whole simulation process. */
#define SWEEP_JOBS_MAX 1024

static void sweep_usage(FILE *fp)
{
    fputs("usage: switchsim sweep --platform P[,P2] --model M[,M2] [OPTIONS] (--csv FILE | --emit-jobs FILE)\n"
          "Runs 'switchsim run' once per combination of the listed values (child processes) and appends each\n"
          "run's row to one CSV as it finishes.  Lists are comma-separated; a value may appear once.\n"
          "Options left out are left to run's defaults.\n\n", fp);
    runopt_print_help(fp, 1, cmd_models_default_path());
    fputs("  --run-arg ARG            one more argument for every run, repeatable, e.g. --run-arg=--remat\n"
          "                           --run-arg=on --run-arg=--network-model --run-arg=cm02 (not matched by --resume)\n"
          "  --csv FILE               the sweep CSV (run --csv columns); must not exist unless --resume\n"
          "  --jobs N                 runs at once (default 1; each run is one process)\n"
          "  --resume                 skip combinations whose step row is already in --csv\n"
          "  --emit-jobs FILE         write one 'switchsim run ... --csv part-K.csv' command per line instead of\n"
          "                           running (for GNU parallel or a Slurm array; see analysis/README.md);\n"
          "                           with --resume and --csv, combinations already there are left out\n"
          "  --help                   this text\n\n"
          "Progress (done/total, elapsed and estimated remaining seconds) goes to stderr.  Ctrl-C, SIGTERM or\n"
          "SIGHUP stops the sweep: finished rows stay in the CSV, and --resume continues it.  A closed stderr\n"
          "(e.g. '2>&1 | head -1') does not.  SWITCHSIM_RUN_BIN, if set, is the program run instead of this switchsim.\n"
          "exit: 0 every run succeeded, 1 bad input, a failed run or stopped, 2 usage\n", fp);
}

static const char MERGE_HELP[] =
    "usage: switchsim merge FILE... --csv OUT\n"
    "Concatenates CSVs written by 'run --csv' or 'sweep' (e.g. the part files of a Slurm array) into OUT,\n"
    "written atomically.  Every header must be exactly run's; a different one is an error naming the file\n"
    "and the column.  Rows are checked and written back as run writes them.  A row that repeats an earlier\n"
    "one (same configuration, seed and results: the same run, e.g. a file given twice) is written once;\n"
    "two rows of one configuration and seed with different results are an error (nothing written).\n\n"
    "  --csv FILE   output CSV (may be one of the inputs)\n"
    "  --help       this text\n"
    "exit: 0 ok, 1 bad input or I/O failure, 2 usage\n";

static const char SUMMARIZE_HELP[] =
    "usage: switchsim summarize FILE [--csv OUT]\n"
    "Groups the rows of a run/sweep CSV by configuration (every config column except seed; per-layer\n"
    "rows by layer and phase), sorted by configuration, and prints a table: the config columns that differ\n"
    "between groups (those every group shares on a '#' line above), the number of seeds n, and mean and\n"
    "sample standard deviation (0 for one seed) of the step time (s), the all-to-all time (s) and the\n"
    "all-to-all MB (1e6 bytes) sent per core.  A row that repeats an earlier one (same configuration, seed\n"
    "and results, e.g. a file merged twice) is counted once; two rows of one configuration and seed with\n"
    "different results are an error.\n\n"
    "  --csv FILE   write CSV instead (atomically; '-' for stdout): every config column, n_seeds, then mean,\n"
    "               sd, min and max of step_time_s, examples_per_s, dropped_frac, a2a_s, a2a_bytes_per_core\n"
    "  --help       this text\n"
    "exit: 0 ok, 1 bad input or I/O failure, 2 usage\n";

static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "switchsim: error: CMD: MESSAGE (see switchsim CMD --help)" and returns 2 (usage). */
static int usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "switchsim: error: %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see switchsim %s --help)\n", cmd);
    va_end(ap);
    return 2;
}


/* ---- sweep ---- */

static volatile sig_atomic_t sweep_stop;

static void on_stop(int sig)
{
    (void)sig;
    sweep_stop = 1;
}

typedef struct {
    const char *csv;
} progress_ctx;

static void on_progress(void *ctx, const sweep_event *ev)
{
    const char *csv = ((const progress_ctx *)ctx)->csv;
    if (ev->failed_cmd != NULL)
        fprintf(stderr, "switchsim: sweep: run failed (%s): %s\n", ev->failed_why, ev->failed_cmd);
    if (ev->done == 0) {
        fprintf(stderr, "switchsim: sweep: %ld runs to do (%ld combinations already in %s)\n", ev->total,
                ev->skipped, csv);
        return;
    }
    double left = ev->elapsed_s / (double)ev->done * (double)(ev->total - ev->done);
    fprintf(stderr, "switchsim: sweep: %ld/%ld done", ev->done, ev->total);
    if (ev->failed > 0)
        fprintf(stderr, " (%ld failed)", ev->failed);
    fprintf(stderr, ", %.1f s elapsed, ~%.1f s remaining\n", ev->elapsed_s, left);
}

/* What sweep's command line asks for. */
typedef struct {
    sweep_spec spec;
    const char *csv, *emit;
    long jobs;
    int resume;
} sweep_args;

/* Parses sweep's command line into 'a' (spec initialised by the caller).  Returns 0, 1 after an error message
 * (exit 1), 2 after a usage message (exit 2), or 3 after the help (exit 0). */
static int sweep_parse(sweep_args *a, int argc, char **argv)
{
    enum { O_RUNARG = 1, O_CSV, O_JOBS, O_RESUME, O_EMIT, O_HELP, O_AXIS = 256 };
    struct option longopts[RUNOPT_MAX + 7];
    int order[RUNOPT_MAX], naxes = sweep_axes(order), n = 0;
    for (int j = 0; j < naxes; j++)
        longopts[n++] = (struct option){ runopt_sweep_name(runopt_at(order[j])) + 2, required_argument, NULL,
                                         O_AXIS + order[j] };
    longopts[n++] = (struct option){ "run-arg", required_argument, NULL, O_RUNARG };
    longopts[n++] = (struct option){ "csv", required_argument, NULL, O_CSV };
    longopts[n++] = (struct option){ "jobs", required_argument, NULL, O_JOBS };
    longopts[n++] = (struct option){ "resume", no_argument, NULL, O_RESUME };
    longopts[n++] = (struct option){ "emit-jobs", required_argument, NULL, O_EMIT };
    longopts[n++] = (struct option){ "help", no_argument, NULL, O_HELP };
    longopts[n] = (struct option){ NULL, 0, NULL, 0 };
    errbuf err = { "" };
    int c;
    a->jobs = 1;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        int bad = 0;
        if (c >= O_AXIS)
            bad = sweep_spec_set(&a->spec, runopt_sweep_name(runopt_at(c - O_AXIS)), optarg, &err) != 0;
        else if (c == O_RUNARG)
            bad = sweep_spec_add_extra(&a->spec, optarg, &err) != 0;
        else if (c == O_CSV)
            a->csv = optarg;
        else if (c == O_EMIT)
            a->emit = optarg;
        else if (c == O_RESUME)
            a->resume = 1;
        else if (c == O_JOBS) {
            if (errbuf_parse_long(optarg, &a->jobs) != 0 || a->jobs < 1 || a->jobs > SWEEP_JOBS_MAX)
                bad = errbuf_set(&err, "--jobs must be an integer in [1,%d], got '%s'", SWEEP_JOBS_MAX, optarg);
        } else if (c == O_HELP) {
            sweep_usage(stdout);
            return 3;
        } else {
            return cliopt_bad_option(stderr, "sweep", longopts, c, argv[optind - 1]);
        }
        if (bad) {
            fprintf(stderr, "switchsim: error: %s\n", err.msg);
            return 1;
        }
    }
    if (optind < argc)
        return usage_error("sweep", "unexpected argument '%s'", argv[optind]);
    int plat = sweep_axis_index("--platform"), model = sweep_axis_index("--model");
    if (a->spec.n[plat] == 0 || a->spec.n[model] == 0)
        return usage_error("sweep", "%s is required", a->spec.n[plat] == 0 ? "--platform" : "--model");
    if (a->csv == NULL && a->emit == NULL)
        return usage_error("sweep", "%s", "--csv FILE or --emit-jobs FILE is required");
    return 0;
}

/* --emit-jobs: the run commands, less those already in the CSV with --resume. */
static int sweep_emit(const sweep_args *a, const char *env_bin)
{
    char self[PATH_MAX];
    const char *bin = env_bin;
    unsigned char *done = NULL;
    runrow *rows = NULL;
    errbuf err = { "" };
    int rc = 1;
    if (bin == NULL) {                 /* an absolute path, so the jobs run from any folder */
        ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
        if (len > 0) {
            self[len] = '\0';
            bin = self;
        } else {
            bin = "switchsim";
        }
    }
    long ncomb = sweep_count(&a->spec);
    if (a->resume && a->csv != NULL && access(a->csv, F_OK) == 0) {
        int nrows = 0;
        if ((done = calloc((size_t)ncomb, 1)) == NULL) {
            errbuf_set(&err, "out of memory");
            goto out;
        }
        if (runrow_read(a->csv, &rows, &nrows, &err) != 0)
            goto out;
        sweep_mark_done(done, &a->spec, rows, nrows);
    }
    if (sweep_write_jobs(a->emit, &a->spec, bin, done, &err) != 0)
        goto out;
    long n = ncomb;
    for (long k = 0; done != NULL && k < ncomb; k++)
        n -= done[k];
    fprintf(stderr, "switchsim: sweep: wrote %ld run commands to %s\n", n, a->emit);
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "switchsim: error: %s\n", err.msg);
    free(rows);
    free(done);
    return rc;
}

/* What every run would check first, checked once before any starts, so a mistake shared by all runs is one
 * message instead of a failed run per combination: each --run-arg as run parses it, each platform file,
 * each model in each preset file, and the CSV as an output. */
static int sweep_check_runs(const sweep_args *a, errbuf *err)
{
    const sweep_spec *s = &a->spec;
    for (int i = 0; i < s->nextra; i++) {
        const char *arg = s->extra[i], *eq = strchr(arg, '=');
        char name[64];
        size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
        snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), arg);
        const runopt *o = runopt_find(name);
        if (o == NULL)
            return errbuf_set(err, "--run-arg: run has no option '%s'", arg);
        const char *value = NULL;
        if (o->arg != NULL) {                      /* takes a value: "--opt=V" or the next --run-arg */
            if (eq != NULL)
                value = eq + 1;
            else if (i + 1 < s->nextra)
                value = s->extra[++i];
            else
                return errbuf_set(err, "--run-arg: '%s' needs a value (one more --run-arg)", arg);
        }
        runopt_args scratch = runopt_args_default(cmd_models_default_path());
        errbuf e = { "" };
        if (runopt_set(&scratch, o, NULL, value, &e) != 0)
            return errbuf_set(err, "--run-arg: %s", e.msg);
    }
    int plat = sweep_axis_index("--platform"), model = sweep_axis_index("--model");
    int models = sweep_axis_index("--models");
    for (int i = 0; i < s->n[plat]; i++) {
        if (access(s->v[plat][i], R_OK) != 0)
            return errbuf_set(err, "--platform: cannot read '%s'", s->v[plat][i]);
        if (platform_precheck(s->v[plat][i], err) != 0)
            return -1;
    }
    int nfiles = models >= 0 && s->n[models] > 0 ? s->n[models] : 1;
    for (int f = 0; f < nfiles; f++) {
        const char *path = models >= 0 && s->n[models] > 0 ? s->v[models][f] : cmd_models_default_path();
        model_set *set = model_set_load_csv(path, err);
        if (set == NULL)
            return -1;
        for (int i = 0; i < s->n[model]; i++)
            if (model_set_find(set, s->v[model][i]) == NULL) {
                errbuf_set(err, "--model: no model '%s' in %s (switchsim models lists them)", s->v[model][i], path);
                model_set_free(set);
                return -1;
            }
        model_set_free(set);
    }
    return a->resume ? 0 : atomic_check_writable("--csv", a->csv, err);
}

/* Runs the combinations with Ctrl-C, SIGTERM and SIGHUP stopping the sweep (not this process), and SIGPIPE
 * ignored (the runs inherit that: a message to a closed pipe fails instead of killing a run). */
static int sweep_execute(const sweep_args *a, const char *env_bin)
{
    errbuf cerr = { "" };
    int plat = sweep_axis_index("--platform");
    for (int i = 0; i < a->spec.n[plat] && env_bin != NULL; i++)   /* a stand-in run: its own checks */
        if (access(a->spec.v[plat][i], R_OK) != 0) {
            fprintf(stderr, "switchsim: error: --platform: cannot read '%s'\n", a->spec.v[plat][i]);
            return 1;
        }
    if (env_bin == NULL && sweep_check_runs(a, &cerr) != 0) {      /* validate before starting anything */
        fprintf(stderr, "switchsim: error: %s\n", cerr.msg);
        return 1;
    }
    struct sigaction sa, ign, old_int, old_term, old_hup, old_pipe;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;       /* no SA_RESTART: waitpid returns so the runs can be stopped */
    sigemptyset(&sa.sa_mask);
    ign = sa;
    ign.sa_handler = SIG_IGN;      /* progress to a closed pipe ('| head -1'): EPIPE, not death with rows lost */
    sweep_stop = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);          /* the terminal closed: stop as for Ctrl-C, keeping the rows */
    sigaction(SIGPIPE, &ign, &old_pipe);
    progress_ctx pc = { a->csv };
    sweep_opts o = {
        .bin = env_bin != NULL ? env_bin : "/proc/self/exe", .csv = a->csv, .jobs = (int)a->jobs,
        .resume = a->resume, .stop = &sweep_stop, .progress = on_progress, .ctx = &pc,
    };
    errbuf err = { "" };
    int r = sweep_run(NULL, &a->spec, &o, &err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    if (r != 0) {
        fprintf(stderr, "switchsim: error: %s\n", err.msg);
        return 1;
    }
    return 0;
}

int cmd_sweep(int argc, char **argv)
{
    sweep_args a;
    memset(&a, 0, sizeof a);
    sweep_spec_init(&a.spec);
    int rc = sweep_parse(&a, argc, argv);
    if (rc == 0) {
        const char *env_bin = getenv("SWITCHSIM_RUN_BIN");
        rc = a.emit != NULL ? sweep_emit(&a, env_bin) : sweep_execute(&a, env_bin);
    } else if (rc == 3) {
        rc = 0;
    }
    sweep_spec_fini(&a.spec);
    return rc;
}

/* The options of merge and summarize: --csv FILE into *out, and --help (prints 'help').  Returns -1 with
 * optind at the first operand, or the exit code: 0 after --help, 2 for a bad option. */
static int csv_options(const char *cmd, const char *help, int argc, char **argv, const char **out)
{
    static const struct option LONG[] = {
        { "csv", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", LONG, NULL)) != -1) {
        if (c == 'o')
            *out = optarg;
        else if (c == 'h') {
            fputs(help, stdout);
            return 0;
        } else
            return cliopt_bad_option(stderr, cmd, LONG, c, argv[optind - 1]);
    }
    return -1;
}

/* ---- merge ---- */

int cmd_merge(int argc, char **argv)
{
    const char *out = NULL;
    int rc = 1, n = 0;
    runrow *all = NULL;
    int *file_of = NULL;                      /* (n) the argv index each row came from */
    unsigned char *keep = NULL;
    errbuf err = { "" };

    int done = csv_options("merge", MERGE_HELP, argc, argv, &out);
    if (done >= 0)
        return done;
    if (out == NULL)
        return usage_error("merge", "%s is required", "--csv OUT");
    if (optind >= argc)
        return usage_error("merge", "%s", "no input files");
    for (int f = optind; f < argc; f++) {     /* read and check everything before writing */
        runrow *rows = NULL;
        int nr = 0;
        if (runrow_read(argv[f], &rows, &nr, &err) != 0) {
            fprintf(stderr, "switchsim: error: %s\n", err.msg);
            goto out;
        }
        runrow *grown = realloc(all, (size_t)(n + nr + 1) * sizeof *all);
        int *fgrown = grown != NULL ? realloc(file_of, (size_t)(n + nr + 1) * sizeof *file_of) : NULL;
        all = grown != NULL ? grown : all;
        file_of = fgrown != NULL ? fgrown : file_of;
        if (grown == NULL || fgrown == NULL) {
            free(rows);
            fprintf(stderr, "switchsim: error: out of memory\n");
            goto out;
        }
        if (nr > 0)
            memcpy(all + n, rows, (size_t)nr * sizeof *rows);
        for (int i = 0; i < nr; i++)
            file_of[n + i] = f;
        n += nr;
        free(rows);
    }
    int ia = 0, ib = 0, kept = 0;
    long dup = (keep = malloc((size_t)n + 1)) == NULL ? -2 : runrow_dedup(keep, &ia, &ib, all, n);
    if (dup == -2) {
        fprintf(stderr, "switchsim: error: out of memory\n");
        goto out;
    }
    if (dup == -1) {                          /* row numbers within each file: count the rows before */
        int ra = 1, rb = 1;
        for (int i = 0; i < ia; i++)
            ra += file_of[i] == file_of[ia];
        for (int i = 0; i < ib; i++)
            rb += file_of[i] == file_of[ib];
        fprintf(stderr, "switchsim: error: %s row %d and %s row %d are one configuration and seed (%ld) with "
                "different results (step_time_s %.9g and %.9g): rows of two versions of switchsim?\n",
                argv[file_of[ia]], ra, argv[file_of[ib]], rb, all[ia].seed, all[ia].step_time_s, all[ib].step_time_s);
        goto out;
    }
    for (int i = 0; i < n; i++)               /* in input order, less the repeats */
        if (keep[i])
            all[kept++] = all[i];
    runrow_table a = { all, kept };
    if (atomic_file_write(out, runrow_write_table, &a, &err) != 0) {
        fprintf(stderr, "switchsim: error: %s\n", err.msg);
        goto out;
    }
    fprintf(stderr, "switchsim: merge: %d %s from %d %s -> %s", kept, kept == 1 ? "row" : "rows", argc - optind,
            argc - optind == 1 ? "file" : "files", out);
    if (dup > 0)
        fprintf(stderr, " (%ld %s an earlier one left out)", dup, dup == 1 ? "row repeating" : "rows repeating");
    fputc('\n', stderr);
    rc = 0;
out:
    free(keep);
    free(file_of);
    free(all);
    return rc;
}

/* ---- summarize ---- */

typedef struct {
    const stats_group *g;
    int n;
} groups_arg;

static int write_groups(FILE *fp, const void *arg, errbuf *err)
{
    const groups_arg *a = arg;
    return stats_write_groups(fp, a->g, a->n) == 0 ? 0 : errbuf_set(err, "write failed");
}

int cmd_summarize(int argc, char **argv)
{
    const char *out = NULL;
    int rc = 1, nrows = 0, ng = 0;
    runrow *rows = NULL;
    stats_group *g = NULL;
    errbuf err = { "" };

    int done = csv_options("summarize", SUMMARIZE_HELP, argc, argv, &out);
    if (done >= 0)
        return done;
    if (argc - optind != 1)
        return usage_error("summarize", "%s", "expected one input CSV");
    int ndup = 0;
    if (runrow_read(argv[optind], &rows, &nrows, &err) != 0) {
        fprintf(stderr, "switchsim: error: %s\n", err.msg);
        goto out;
    }
    if (stats_group_rows(&g, &ng, &ndup, rows, nrows, &err) != 0) {   /* its messages do not name the file */
        fprintf(stderr, "switchsim: error: %s: %s\n", argv[optind], err.msg);
        goto out;
    }
    if (ndup > 0)
        fprintf(stderr, "switchsim: summarize: %d %s an earlier row (same configuration, seed and results) and %s "
                "counted once\n", ndup, ndup == 1 ? "row repeats" : "rows repeat", ndup == 1 ? "is" : "are");
    if (out != NULL && strcmp(out, "-") == 0) {
        if (stats_write_groups(stdout, g, ng) != 0 || fflush(stdout) != 0) {
            fprintf(stderr, "switchsim: error: cannot write to stdout\n");
            goto out;
        }
    } else if (out != NULL) {
        groups_arg a = { g, ng };
        if (atomic_file_write(out, write_groups, &a, &err) != 0) {
            fprintf(stderr, "switchsim: error: %s\n", err.msg);
            goto out;
        }
    } else if (stats_write_table(stdout, g, ng) != 0 || fflush(stdout) != 0) {
        fprintf(stderr, "switchsim: error: cannot write to stdout\n");
        goto out;
    }
    rc = 0;
out:
    free(g);
    free(rows);
    return rc;
}
