/* sweep: combinations, child processes, appending rows, resume and the job list.  The only
 * process that writes the sweep CSV is this one; children write their own part files. */
#include "analysis/sweep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim/runopt.h"
#include "sim/common/atomicio.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* What the shell may see unquoted in an emitted job line. */
#define SHELL_SAFE "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./:=,+@%"

void sweep_spec_init(sweep_spec *s)
{
    memset(s, 0, sizeof *s);
}

void sweep_spec_fini(sweep_spec *s)
{
    for (int a = 0; a < RUNOPT_MAX; a++) {
        free(s->v[a]);
        free(s->buf[a]);
    }
    memset(s, 0, sizeof *s);
}

int sweep_axis_index(const char *option)
{
    for (int i = 0; i < runopt_count(); i++) {
        const runopt *o = runopt_at(i);
        if (o->axis > 0 && strcmp(runopt_sweep_name(o), option) == 0)
            return i;
    }
    return -1;
}

int sweep_axes(int *order)
{
    int n = 0;
    for (int rank = 1; rank <= runopt_count(); rank++)
        for (int i = 0; i < runopt_count(); i++)
            if (runopt_at(i)->axis == rank)
                order[n++] = i;
    return n;
}

/* One value's identity for the duplicate check: equal keys are the same run (as runopt_same decides). */
typedef struct {
    char key[48];   /* "" for an entry compared by the value as given */
    size_t i;       /* position in the list */
} value_key;

/* k <- the key of good value 'v' of entry 'o', parsed as run parses it. */
static void make_key(value_key *k, const runopt *o, const char *v, size_t i)
{
    runopt_args a;
    memset(&a, 0, sizeof a);
    k->i = i;
    k->key[0] = '\0';
    if (o->type == RUNOPT_TEXT || o->type == RUNOPT_ROUTING || o->type == RUNOPT_FLAG
        || runopt_set(&a, o, NULL, v, NULL) != 0)
        return;
    const unsigned char *f = (const unsigned char *)&a + o->off;
    if (o->type == RUNOPT_REAL) {
        double d;
        memcpy(&d, f, sizeof d);
        snprintf(k->key, sizeof k->key, "%.9g", d);        /* as runrow_dbl_eq compares */
    } else if (o->type == RUNOPT_PLAN) {
        snprintf(k->key, sizeof k->key, "%d,%d,%d,%d,%d", a.cfg.data, a.cfg.model_par, a.cfg.expert_ways, a.cfg.pipe,
                 a.cfg.micro);
    } else {
        size_t n = o->size < 16 ? o->size : 16;            /* the stored bytes, in hex */
        for (size_t b = 0; b < n; b++)
            snprintf(k->key + 2 * b, 3, "%02x", f[b]);
    }
}

static char *const *key_values;                       /* the values, for entries compared as given */

static int key_cmp(const value_key *a, const value_key *b)
{
    return a->key[0] != '\0' || b->key[0] != '\0' ? strcmp(a->key, b->key)
                                                   : strcmp(key_values[a->i], key_values[b->i]);
}

static int key_order(const void *x, const void *y)
{
    const value_key *a = x, *b = y;
    int c = key_cmp(a, b);
    return c != 0 ? c : (a->i > b->i) - (a->i < b->i);
}

/* The position of the first value (in list order) equal to an earlier one, or -1 (-2: out of memory).
 * Sorted by key then position, O(n log n): comparing every pair took over a minute for 15,000 values. */
static long first_duplicate(const runopt *o, char *const *v, size_t n)
{
    value_key *k = malloc((n > 0 ? n : 1) * sizeof *k);
    if (k == NULL)
        return -2;
    for (size_t i = 0; i < n; i++)
        make_key(&k[i], o, v[i], i);
    key_values = v;
    qsort(k, n, sizeof *k, key_order);
    long dup = -1;
    for (size_t i = 1; i < n; i++)
        if (key_cmp(&k[i - 1], &k[i]) == 0 && (dup < 0 || k[i].i < (size_t)dup))
            dup = (long)k[i].i;
    free(k);
    return dup;
}

/* Combinations of 's' with axis 'a' given 'n' values, or SWEEP_COMBOS_MAX + 1 when that is more. */
static long count_with(const sweep_spec *s, int a, long n)
{
    long c = 1;
    for (int x = 0; x < RUNOPT_MAX; x++) {
        long nx = x == a ? n : s->n[x];
        if (nx < 1)
            nx = 1;
        if (c > SWEEP_COMBOS_MAX / nx)
            return SWEEP_COMBOS_MAX + 1;
        c *= nx;
    }
    return c;
}

/* out <- s with each line break written as \n or \r (and cut to fit 'cap'), for a one-line message. */
static void show_breaks(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p && n + 3 < cap; p++) {
        if (*p == '\n' || *p == '\r') {
            out[n++] = '\\';
            out[n++] = *p == '\n' ? 'n' : 'r';
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

/* A job file has one command per line, and a Slurm array or GNU parallel runs line by line: a line break in
 * a value would make a second command of the rest.  Refused wherever a value enters a command. */
static int no_line_break(const char *what, const char *v, errbuf *err)
{
    if (strpbrk(v, "\n\r") == NULL)
        return 0;
    char shown[200];
    show_breaks(shown, sizeof shown, v);
    return errbuf_set(err, "%s: a value must not hold a line break (a job is one line), got '%s'", what, shown);
}

int sweep_spec_set(sweep_spec *s, const char *option, const char *list, errbuf *err)
{
    int a = sweep_axis_index(option);
    if (a < 0)
        return errbuf_set(err, "%s is not a sweep option", option);
    if (no_line_break(option, list, err) != 0)
        return -1;
    const runopt *o = runopt_at(a);
    const char sep = o->type == RUNOPT_PLAN ? ';' : ',';
    char *buf = strdup(list);
    size_t n = 1;
    for (const char *p = list; *p; p++)
        n += *p == sep;
    char **v = malloc(n * sizeof *v);
    if (buf == NULL || v == NULL) {
        errbuf_set(err, "%s: out of memory", option);
        goto fail;
    }
    if (n > (size_t)SWEEP_COMBOS_MAX || count_with(s, a, (long)n) > SWEEP_COMBOS_MAX) {
        errbuf_set(err, "%s: %zu values make the sweep more than %ld combinations", option, n,
                   (long)SWEEP_COMBOS_MAX);
        goto fail;
    }
    char *p = buf;
    for (size_t i = 0; i < n; i++) {
        char *end = strchr(p, sep);
        if (end != NULL)
            *end = '\0';
        v[i] = p;
        if (*p == '\0') {
            errbuf_set(err, "%s: empty value in list '%s'", option, list);
            goto fail;
        }
        runopt_args scratch;
        memset(&scratch, 0, sizeof scratch);
        if (runopt_set(&scratch, o, option, p, err) != 0)
            goto fail;
        p = end ? end + 1 : p + strlen(p);
    }
    long dup = first_duplicate(o, v, n);
    if (dup == -2) {
        errbuf_set(err, "%s: out of memory", option);
        goto fail;
    }
    if (dup >= 0) {
        errbuf_set(err, "%s: value '%s' is listed twice", option, v[dup]);
        goto fail;
    }
    free(s->v[a]);
    free(s->buf[a]);
    s->v[a] = v;
    s->buf[a] = buf;
    s->n[a] = (int)n;
    return 0;
fail:
    free(v);
    free(buf);
    return -1;
}

long sweep_count(const sweep_spec *s)
{
    long c = 1;
    for (int a = 0; a < RUNOPT_MAX; a++)
        c *= s->n[a] > 0 ? s->n[a] : 1;
    return c;
}

/* idx[a] <- the value of axis a in combination k (mixed radix, the last axis fastest; 0 if not given). */
static void combo(int *idx, const sweep_spec *s, long k)
{
    int order[RUNOPT_MAX], naxes = sweep_axes(order);
    for (int j = naxes - 1; j >= 0; j--) {
        int a = order[j];
        long n = s->n[a] > 0 ? s->n[a] : 1;
        idx[a] = (int)(k % n);
        k /= n;
    }
}

int sweep_argv(const char **argv, const sweep_spec *s, long k, const char *bin, const char *csv)
{
    int idx[RUNOPT_MAX], order[RUNOPT_MAX], naxes = sweep_axes(order), c = 0;
    combo(idx, s, k);
    argv[c++] = bin;
    argv[c++] = "run";
    for (int j = 0; j < naxes; j++)
        if (s->n[order[j]] > 0) {
            argv[c++] = runopt_at(order[j])->name;
            argv[c++] = s->v[order[j]][idx[order[j]]];
        }
    for (int i = 0; i < s->nextra; i++)
        argv[c++] = s->extra[i];
    argv[c++] = "--csv";
    argv[c++] = csv;
    argv[c] = NULL;
    return c;
}

int sweep_spec_add_extra(sweep_spec *s, const char *arg, errbuf *err)
{
    if (strcmp(arg, "--csv") == 0 || strncmp(arg, "--csv=", 6) == 0)
        return errbuf_set(err, "--run-arg: the sweep sets each run's --csv itself, got '%s'", arg);
    if (no_line_break("--run-arg", arg, err) != 0)
        return -1;
    if (s->nextra == SWEEP_EXTRA_MAX)
        return errbuf_set(err, "--run-arg: at most %d arguments, got one more: '%s'", SWEEP_EXTRA_MAX, arg);
    s->extra[s->nextra++] = arg;
    return 0;
}

/* 1 if paths a and b name one file (the same device and inode: './x.xml', 'x.xml' and a link to it), or are
 * the same string; else 0. */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (strcmp(a, b) == 0)
        return 1;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* 1 if row 'r' was run with 'value' for run option 'o': its column holds the same value (a plan matches on
 * data, unless the plan leaves it to the run, model_par, pipe and micro-batches; a platform on the file it names).  An option with
 * no column matches every row. */
static int sweep_value_matches(const runopt *o, const char *value, const runrow *r)
{
    if (o->column != NULL && strcmp(o->column, "platform") == 0)
        return same_file(r->platform, value);
    if (o->type == RUNOPT_PLAN) {
        runopt_args a;
        memset(&a, 0, sizeof a);
        if (runopt_set(&a, o, NULL, value, NULL) != 0)
            return 0;
        int pipe = a.cfg.pipe > 1 ? a.cfg.pipe : 1, micro = pipe == 1 ? 1 : a.cfg.micro > 0 ? a.cfg.micro : 4 * pipe;
        return (a.cfg.data == 0 || a.cfg.data == r->data) && a.cfg.model_par == r->model_par && pipe == r->pipe &&
               micro == r->micro_batches;
    }
    if (o->column == NULL)
        return 1;
    char col[512];
    return runrow_col_format(col, sizeof col, r, o->column) == 0 && runopt_same(o, col, value);
}

int sweep_row_matches(const sweep_spec *s, long k, const runrow *r)
{
    int idx[RUNOPT_MAX];
    combo(idx, s, k);
    if (strcmp(r->scope, "step") != 0)
        return 0;
    for (int a = 0; a < RUNOPT_MAX; a++)
        if (s->n[a] > 0 && !sweep_value_matches(runopt_at(a), s->v[a][idx[a]], r))
            return 0;
    return 1;
}

long sweep_mark_done(unsigned char *done, const sweep_spec *s, const runrow *rows, int nrows)
{
    long total = sweep_count(s), n = 0;
    for (long k = 0; k < total; k++) {
        done[k] = 0;
        for (int i = 0; i < nrows && !done[k]; i++)
            done[k] = (unsigned char)sweep_row_matches(s, k, &rows[i]);
        n += done[k];
    }
    return n;
}

int sweep_part_name(char *buf, size_t cap, const sweep_spec *s, long k)
{
    int width = snprintf(NULL, 0, "%ld", sweep_count(s));
    int len = snprintf(buf, cap, "part-%0*ld.csv", width, k + 1);
    return (len < 0 || (size_t)len >= cap) ? -1 : 0;
}

/* Writes 's' for a POSIX shell: as is when every byte is safe, else in single quotes. */
static void put_shell_word(FILE *fp, const char *s)
{
    if (*s != '\0' && strspn(s, SHELL_SAFE) == strlen(s)) {
        fputs(s, fp);
        return;
    }
    fputc('\'', fp);
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            fputs("'\\''", fp);
        else
            fputc(*p, fp);
    }
    fputc('\'', fp);
}

static void put_command(FILE *fp, const char *const *argv)
{
    for (int i = 0; argv[i] != NULL; i++) {
        if (i > 0)
            fputc(' ', fp);
        put_shell_word(fp, argv[i]);
    }
}

typedef struct {
    const sweep_spec *s;
    const char *bin;
    const unsigned char *skip;
} jobs_arg;

static int write_jobs(FILE *fp, const void *arg, errbuf *err)
{
    const jobs_arg *j = arg;
    long total = sweep_count(j->s);
    for (long k = 0; k < total; k++) {
        if (j->skip != NULL && j->skip[k])
            continue;
        char part[64];
        const char *argv[SWEEP_ARGV_MAX];
        if (sweep_part_name(part, sizeof part, j->s, k) != 0)
            return errbuf_set(err, "part name too long");
        sweep_argv(argv, j->s, k, j->bin, part);
        for (int i = 0; argv[i] != NULL; i++)      /* the values were checked when set; the program too */
            if (no_line_break(i == 0 ? "the program's path" : "a job's argument", argv[i], err) != 0)
                return -1;
        put_command(fp, argv);
        fputc('\n', fp);
    }
    return 0;
}

int sweep_write_jobs(const char *path, const sweep_spec *s, const char *bin, const unsigned char *skip,
                     errbuf *err)
{
    jobs_arg j = { s, bin, skip };
    return atomic_file_write(path, write_jobs, &j, err);
}

/* ---- running ---- */

typedef struct {
    pid_t pid;     /* 0 = free slot */
    long k;        /* its combination */
} slot;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int write_header(FILE *fp, const void *arg, errbuf *err)
{
    (void)arg;
    (void)err;
    return runrow_write_header(fp);
}

/* 0 if the file is empty or ends with a newline; -1 if its last line was cut. */
static int ends_with_newline(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return -1;
    int ok = 0;
    if (fseek(fp, -1, SEEK_END) == 0)
        ok = fgetc(fp) == '\n' ? 0 : -1;
    fclose(fp);
    return ok;
}

/* Starts 'argv' with stdout on /dev/null (its rows go to its part file; the sweep's stdout stays
 * clean) and stderr shared (its messages reach the user).  Returns the pid, or -1 with 'err' set
 * when it cannot be executed: the child reports exec's errno through a close-on-exec pipe. */
static pid_t spawn(const char *const *argv, errbuf *err)
{
    int fds[2];
    if (pipe(fds) != 0)
        return errbuf_set(err, "cannot create a pipe: %s", strerror(errno));
    (void)fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return errbuf_set(err, "cannot fork: %s", strerror(e));
    }
    if (pid == 0) {
        close(fds[0]);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, STDOUT_FILENO);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        char *const *av;                       /* execv takes char *const[] but does not write them */
        memcpy(&av, &argv, sizeof av);
        execv(argv[0], av);
        int e = errno;
        if (write(fds[1], &e, sizeof e) < 0)
            _exit(127);
        _exit(127);
    }
    close(fds[1]);
    int e = 0;
    ssize_t got;
    while ((got = read(fds[0], &e, sizeof e)) < 0 && errno == EINTR)
        ;
    close(fds[0]);
    if (got == (ssize_t)sizeof e) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        return errbuf_set(err, "%s: cannot execute: %s", argv[0], strerror(e));
    }
    return pid;
}

/* Appends the rows of a finished run's part file to the sweep CSV with one write().  The part must
 * hold a step row of combination k.  Returns 0, or -1 with 'err' set (nothing appended). */
static int append_part(int out_fd, const char *part, const sweep_spec *s, long k, errbuf *err)
{
    runrow *rows = NULL;
    int n = 0, matched = 0, rc = -1;
    char *buf = NULL;
    size_t len = 0;
    if (runrow_read(part, &rows, &n, err) != 0)
        return -1;
    for (int i = 0; i < n; i++)
        matched |= sweep_row_matches(s, k, &rows[i]);
    if (!matched) {
        errbuf_set(err, "%s: no step row with the options of this run (did run change a value?)", part);
        goto done;
    }
    FILE *fp = open_memstream(&buf, &len);
    if (fp == NULL) {
        errbuf_set(err, "out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++)
        runrow_write(fp, &rows[i]);
    if (fclose(fp) != 0) {
        errbuf_set(err, "out of memory");
        goto done;
    }
    ssize_t w;
    while ((w = write(out_fd, buf, len)) < 0 && errno == EINTR)
        ;
    if (w != (ssize_t)len) {
        errbuf_set(err, "cannot append to the sweep CSV: %s", w < 0 ? strerror(errno) : "short write");
        goto done;
    }
    rc = 0;
done:
    free(buf);
    free(rows);
    return rc;
}

/* Removes the part folder and whatever a killed run left in it (its temp files). */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        char path[PATH_MAX];
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0
                && snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path)
                unlink(path);
        closedir(d);
    }
    rmdir(dir);
}

static void describe_status(char *buf, size_t cap, int status)
{
    if (WIFEXITED(status))
        snprintf(buf, cap, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, cap, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(buf, cap, "wait status %d", status);
}

/* One sweep in progress. */
typedef struct {
    const sweep_spec *s;
    const sweep_opts *o;
    long ncomb, next;              /* combinations; the next one to look at */
    unsigned char *done;           /* (ncomb) 1: in the CSV already (--resume) */
    slot *slots;                   /* (jobs) the runs going on */
    int running, fatal, forwarded, created, out_fd;
    char dir[PATH_MAX];            /* the part files' folder, "" until made */
    double t0;
    sweep_event ev;
} sweep_state;

/* The sweep CSV: resumed (its rows mark combinations done) or new with its header; opened for appending; and
 * the folder of part files beside it. */
static int sweep_open_csv(sweep_state *st, errbuf *err)
{
    const sweep_opts *o = st->o;
    if (access(o->csv, F_OK) == 0) {
        runrow *rows = NULL;
        int nrows = 0;
        if (!o->resume)
            return errbuf_set(err, "%s: exists; use --resume to continue that sweep, or remove it", o->csv);
        if (runrow_read(o->csv, &rows, &nrows, err) != 0)
            return -1;
        if (ends_with_newline(o->csv) != 0) {
            free(rows);
            return errbuf_set(err, "%s: last line is incomplete (an interrupted write?); remove it and rerun",
                              o->csv);
        }
        st->ev.skipped = sweep_mark_done(st->done, st->s, rows, nrows);
        free(rows);
    } else if (atomic_file_write(o->csv, write_header, NULL, err) != 0) {
        return -1;
    } else {
        st->created = 1;
    }
    st->out_fd = open(o->csv, O_WRONLY | O_APPEND);
    if (st->out_fd < 0)
        return errbuf_set(err, "%s: cannot open for appending: %s", o->csv, strerror(errno));
    st->ev.total = st->ncomb - st->ev.skipped;
    if (snprintf(st->dir, sizeof st->dir, "%s.parts-XXXXXX", o->csv) >= (int)sizeof st->dir
        || mkdtemp(st->dir) == NULL) {
        st->dir[0] = '\0';
        return errbuf_set(err, "%s: cannot create a folder for part files: %s", o->csv, strerror(errno));
    }
    return 0;
}

/* Forwards a stop to the runs going on, once. */
static void sweep_forward_stop(sweep_state *st)
{
    if (st->o->stop == NULL || !*st->o->stop || st->forwarded)
        return;
    for (int i = 0; i < st->o->jobs; i++)
        if (st->slots[i].pid != 0)
            kill(st->slots[i].pid, SIGTERM);
    st->forwarded = 1;
}

/* The part file of combination k. */
static void sweep_part_path(char *buf, size_t cap, const sweep_state *st, long k)
{
    char name[64];
    sweep_part_name(name, sizeof name, st->s, k);
    snprintf(buf, cap, "%s/%s", st->dir, name);
}

/* Starts the next combination not done when a slot is free and nothing stops the sweep.  Returns 1 when it
 * started one or could not (then st->fatal is set with 'err'), 0 when there is nothing to start now. */
static int sweep_spawn_next(sweep_state *st, errbuf *err)
{
    int stopping = st->fatal || (st->o->stop != NULL && *st->o->stop);
    while (st->next < st->ncomb && st->done[st->next])
        st->next++;
    if (stopping || st->next >= st->ncomb || st->running >= st->o->jobs)
        return 0;
    char part[PATH_MAX];
    const char *argv[SWEEP_ARGV_MAX];
    sweep_part_path(part, sizeof part, st, st->next);
    sweep_argv(argv, st->s, st->next, st->o->bin, part);
    pid_t pid = spawn(argv, err);
    if (pid < 0) {
        st->fatal = 1;
        return 1;
    }
    int i = 0;
    while (st->slots[i].pid != 0)
        i++;
    st->slots[i] = (slot){ pid, st->next };
    st->running++;
    st->next++;
    return 1;
}

/* Counts a finished run (not one our stop killed) and tells the progress callback, with the command of a
 * failed one. */
static void sweep_finished(sweep_state *st, long k, int ok, const char *why, const char *part)
{
    st->ev.done++;
    st->ev.elapsed_s = now_s() - st->t0;
    st->ev.failed_cmd = st->ev.failed_why = NULL;
    char cmd[2048] = "";
    if (!ok) {
        st->ev.failed++;
        const char *argv[SWEEP_ARGV_MAX];
        sweep_argv(argv, st->s, k, st->o->bin, part);
        char *cbuf = NULL;
        size_t clen = 0;
        FILE *cfp = open_memstream(&cbuf, &clen);
        if (cfp != NULL) {
            put_command(cfp, argv);
            fclose(cfp);
            snprintf(cmd, sizeof cmd, "%s", cbuf);
            free(cbuf);
        }
        st->ev.failed_cmd = cmd;
        st->ev.failed_why = why;
    }
    if (st->o->progress)
        st->o->progress(st->o->ctx, &st->ev);
}

/* Waits for one run to end and appends its rows.  Returns -1 (with 'err', st->fatal set) when waitpid fails. */
static int sweep_reap(sweep_state *st, errbuf *err)
{
    int status;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
        if (errno == EINTR)
            return 0;                                /* a stop: handled at the top of the loop */
        st->fatal = 1;
        return errbuf_set(err, "waitpid: %s", strerror(errno));
    }
    int i = 0;
    while (i < st->o->jobs && st->slots[i].pid != pid)
        i++;
    if (i == st->o->jobs)
        return 0;                                    /* not one of ours */
    long k = st->slots[i].k;
    st->slots[i].pid = 0;
    st->running--;
    char part[PATH_MAX], why[ERRBUF_MSG_MAX];
    sweep_part_path(part, sizeof part, st, k);
    errbuf aerr = { "" };
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (ok && append_part(st->out_fd, part, st->s, k, &aerr) != 0) {
        ok = 0;
        snprintf(why, sizeof why, "%s", aerr.msg);
    } else if (!ok) {
        describe_status(why, sizeof why, status);
    }
    unlink(part);
    if (!ok && st->o->stop != NULL && *st->o->stop)
        return 0;                                    /* killed by our stop: neither done nor failed */
    sweep_finished(st, k, ok, why, part);
    return 0;
}

/* The sweep's result once no run is left: 0 when every run succeeded, else why not. */
static int sweep_outcome(sweep_state *st, errbuf *err)
{
    const sweep_event *ev = &st->ev;
    const char *csv = st->o->csv;
    if (st->fatal)
        return -1;                                   /* err already set */
    if (st->created && ev->total > 0 && ev->failed == ev->total) {   /* a header alone would make a rerun need --resume */
        unlink(csv);
        return errbuf_set(err, "all %ld runs failed; %s was not kept", ev->total, csv);
    }
    if (ev->failed > 0)
        return errbuf_set(err, "%ld of %ld runs failed; the rows of the others are in %s", ev->failed, ev->total,
                          csv);
    if (ev->done < ev->total)
        return errbuf_set(err, "stopped after %ld of %ld runs; their rows are in %s, rerun with --resume to finish",
                          ev->done, ev->total, csv);
    return 0;
}

int sweep_run(sweep_event *evout, const sweep_spec *s, const sweep_opts *o, errbuf *err)
{
    sweep_state st;
    memset(&st, 0, sizeof st);
    st.s = s;
    st.o = o;
    st.out_fd = -1;
    st.ncomb = sweep_count(s);
    st.done = calloc((size_t)st.ncomb, 1);
    st.slots = calloc((size_t)(o->jobs > 0 ? o->jobs : 1), sizeof *st.slots);
    int rc = -1;
    if (st.done == NULL || st.slots == NULL)
        errbuf_set(err, "out of memory");
    else if (o->jobs < 1)
        errbuf_set(err, "jobs must be >= 1, got %d", o->jobs);
    else if (sweep_open_csv(&st, err) == 0) {
        st.t0 = now_s();
        if (o->progress)
            o->progress(o->ctx, &st.ev);
        for (;;) {                                   /* spawn while there is room, else reap */
            sweep_forward_stop(&st);
            if (sweep_spawn_next(&st, err))
                continue;
            if (st.running == 0 || sweep_reap(&st, err) != 0)
                break;
        }
        st.ev.failed_cmd = st.ev.failed_why = NULL;
        rc = sweep_outcome(&st, err);
    }
    if (st.dir[0] != '\0')
        remove_dir(st.dir);
    if (st.out_fd >= 0)
        close(st.out_fd);
    if (evout != NULL)
        *evout = st.ev;
    free(st.slots);
    free(st.done);
    return rc;
}
