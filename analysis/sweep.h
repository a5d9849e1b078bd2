/* sweep: the combinations of a parameter sweep, each one 'switchsim run' in a child process, rows
 * appended to one CSV as runs finish (only this process appends, so rows never interleave), resume
 * by matching config columns, and the job list for GNU parallel / Slurm arrays.  Never prints:
 * progress goes through a callback. */
#ifndef SWITCHSIM_SWEEP_H
#define SWITCHSIM_SWEEP_H

#include <signal.h>
#include <stddef.h>

#include "analysis/runrow.h"
#include "sim/runopt.h"
#include "sim/common/errbuf.h"

#define SWEEP_EXTRA_MAX 16

/* The axes are the entries of run's option table (sim/runopt.h) with an axis rank, indexed as in that table.
 * Outermost first by rank: the last (seed, then the preset file) changes fastest between combinations. */
typedef struct {
    int n[RUNOPT_MAX];       /* values on each axis; 0 = not given: run's default, and any row matches */
    const char *extra[SWEEP_EXTRA_MAX];  /* --run-arg: passed to every run as given (not matched on resume) */
    int nextra;
    char **v[RUNOPT_MAX];    /* (n) the values as given, pointing into buf */
    char *buf[RUNOPT_MAX];   /* a copy of each list */
} sweep_spec;

void sweep_spec_init(sweep_spec *s);
void sweep_spec_fini(sweep_spec *s);   /* frees the lists; the struct may be reused after init */

/* The index of sweep option 'option' ("--platform", ..., "--capacity-factor", "--seeds") in run's option
 * table, or -1 when it is not an axis. */
int sweep_axis_index(const char *option);
/* order <- the indices of the axes, outermost first (RUNOPT_MAX slots); returns how many. */
int sweep_axes(int *order);

/* Parses one sweep option's list (replacing an earlier one).  Lists are comma-separated, except --plan,
 * whose plans (data=N,model=M) are separated by ';'.  Rules: no empty value, no value twice, and each value
 * as run takes it.  On failure returns -1, leaves the axis as it was, and fills 'err', e.g.
 * "--capacity-factor: empty value in list '1,,2'", "--capacity-factor must be a number in (0, 1e6], got
 * 'abc'" (run's message), "--top-k: value '1' is listed twice", or, for a list with a '\n' or '\r' (a job file
 * has one command per line), "--platform: a value must not hold a line break (a job is one line), got
 * 'x\ntouch y'" (the break shown as \n). */
int sweep_spec_set(sweep_spec *s, const char *option, const char *list, errbuf *err);

/* Number of combinations: the product of max(n, 1) over the axes, at most SWEEP_COMBOS_MAX (each is a
 * whole simulation process; sweep_spec_set refuses a list that would pass it:
 * "--seeds: 2000 values make the sweep more than 1000000 combinations"). */
#define SWEEP_COMBOS_MAX 1000000L
long sweep_count(const sweep_spec *s);

/* Adds one argument passed to every run (e.g. "--remat", "on" as two calls).  Refuses --csv, which the
 * sweep sets, a line break, and more than SWEEP_EXTRA_MAX: "--run-arg: ...".  The string must outlive the spec. */
int sweep_spec_add_extra(sweep_spec *s, const char *arg, errbuf *err);

/* argv <- { bin, "run", "--opt", value, ... for every given axis, extra..., "--csv", csv, NULL } for
 * combination k in [0, sweep_count).  'argv' needs SWEEP_ARGV_MAX slots; returns argc. */
#define SWEEP_ARGV_MAX (2 * RUNOPT_MAX + SWEEP_EXTRA_MAX + 5)
int sweep_argv(const char **argv, const sweep_spec *s, long k, const char *bin, const char *csv);

/* 1 if 'r' is the step row of combination k: scope "step" and, for every given axis, the column
 * holds the same value (as runopt_same compares).  Else 0. */
int sweep_row_matches(const sweep_spec *s, long k, const runrow *r);

/* done[k] <- 1 for each combination some row matches, else 0 (done has sweep_count slots).
 * Returns how many are done. */
long sweep_mark_done(unsigned char *done, const sweep_spec *s, const runrow *rows, int nrows);

/* The part file name of combination k: "part-K.csv", K 1-based and zero-padded to the digits of
 * sweep_count, so 'part-*.csv' sorts in combination order.  Returns -1 if 'cap' is too small. */
int sweep_part_name(char *buf, size_t cap, const sweep_spec *s, long k);

/* Writes (atomically) one shell command per combination not marked in 'skip' (NULL: none):
 * "BIN run --platform P ... --csv part-K.csv", values single-quoted where the shell needs it, one line each.
 * Refuses (nothing written) a 'bin' with a line break: "the program's path: a value must not hold a line
 * break ...". */
int sweep_write_jobs(const char *path, const sweep_spec *s, const char *bin, const unsigned char *skip,
                     errbuf *err);

typedef struct {
    long total;             /* runs to do in this invocation (combinations not already in the CSV) */
    long skipped;           /* combinations found in the CSV (--resume) */
    long done;              /* runs finished so far, succeeded or failed */
    long failed;
    double elapsed_s;       /* wall seconds since the first run started */
    const char *failed_cmd; /* set only on the event of a failed run: its command line */
    const char *failed_why; /* and why, e.g. "exit status 1" */
} sweep_event;

typedef void (*sweep_progress_fn)(void *ctx, const sweep_event *ev);

typedef struct {
    const char *bin;                /* executable run as: bin run ... (a switchsim, or a stand-in) */
    const char *csv;                /* the sweep CSV, appended to */
    int jobs;                       /* runs at once, >= 1 */
    int resume;                     /* 1: skip combinations already in csv; 0: csv must not exist */
    volatile sig_atomic_t *stop;    /* when it becomes non-zero: start nothing more, SIGTERM the runs,
                                       keep the rows already appended.  May be NULL. */
    sweep_progress_fn progress;     /* called at the start (done 0) and after each run; may be NULL */
    void *ctx;
} sweep_opts;

/* Runs every combination not yet in o->csv, at most o->jobs at a time, each writing its own part
 * CSV in a temp folder next to o->csv; a finished run's rows are appended to o->csv with one write()
 * each, and its part is removed.  A new o->csv gets the header first (atomically).  Returns 0 when
 * every run succeeded.  Returns -1 with 'err' set when the CSV cannot be used ("PATH: exists; ...",
 * a runrow_read message, "PATH: last line is incomplete ..."), when bin cannot be executed, after
 * failed runs ("N of M runs failed; ...", or "all M runs failed; CSV was not kept": a CSV this sweep
 * created and no run wrote to is removed, so a rerun needs no --resume) or when stopped ("stopped after N of M runs; ...").
 * Rows of finished runs are in o->csv in every case.  *ev (may be NULL) gets the final counts. */
int sweep_run(sweep_event *ev, const sweep_spec *s, const sweep_opts *o, errbuf *err);

#endif
