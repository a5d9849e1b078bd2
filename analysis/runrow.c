/* runrow: the run/sweep CSV row.  One table of columns (name, type, place in the struct) drives the
 * header, the writer and the reader, so the three cannot disagree.  No simulation here. */
#include "analysis/runrow.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sim/common/csvread.h"

typedef enum { COL_STR, COL_INT, COL_LONG, COL_DBL } col_type;

typedef struct {
    const char *name;   /* exactly the struct field's name */
    col_type type;
    size_t off;         /* offsetof in runrow */
    size_t size;        /* bytes of a COL_STR field, NUL included */
    int config;         /* 1 if the column describes the configuration (compared by runrow_same_config) */
    const char *dflt;   /* a column added later: what a CSV written before it (without it) reads as; else NULL */
} col_desc;

#define STR(f, cfg) { #f, COL_STR, offsetof(runrow, f), sizeof(((runrow *)0)->f), cfg, NULL }
#define STRD(f, cfg, d) { #f, COL_STR, offsetof(runrow, f), sizeof(((runrow *)0)->f), cfg, d }
#define NUM(f, t, cfg) { #f, t, offsetof(runrow, f), 0, cfg, NULL }
#define NUMD(f, t, cfg, d) { #f, t, offsetof(runrow, f), 0, cfg, d }

/* The order is the README's "Output columns" and the struct's order. */
static const col_desc COLS[] = {
    STR(model, 1), STR(platform, 1), NUM(cores, COL_INT, 1), NUM(data, COL_INT, 1),
    NUM(model_par, COL_INT, 1), NUM(experts_per_core, COL_DBL, 1), NUM(top_k, COL_INT, 1),
    NUM(capacity_factor, COL_DBL, 1), NUM(expert_capacity, COL_INT, 1), STR(routing, 1),
    STR(dispatch, 1), STR(a2a, 1), NUM(seed, COL_LONG, 0), NUM(tokens_per_batch, COL_LONG, 1),
    STR(scope, 1), NUM(layer, COL_INT, 1), STR(phase, 1),
    NUM(dropped_frac, COL_DBL, 0), NUM(lb_loss, COL_DBL, 0), NUM(a2a_bytes_per_core, COL_DBL, 0),
    NUM(step_time_s, COL_DBL, 0), NUM(compute_s, COL_DBL, 0), NUM(router_s, COL_DBL, 0),
    NUM(dispatch_combine_s, COL_DBL, 0), NUM(a2a_s, COL_DBL, 0), NUM(allreduce_s, COL_DBL, 0),
    NUM(idle_s, COL_DBL, 0), NUM(examples_per_s, COL_DBL, 0), NUM(tflops_per_chip, COL_DBL, 0),
    NUM(mfu, COL_DBL, 0), NUM(hfu, COL_DBL, 0), STR(precision, 1), STR(impl, 1),
    NUM(sim_wall_s, COL_DBL, 0),
    /* added later, each with the value of a CSV written before it: matmul_precision "highest" (the cost model
     * charged an fp32 matmul 6 bf16 passes on a TPU and plain FP32 on a GPU then, which is what highest charges
     * now); pipe 1, micro_batches 1, zero 0, bubble_s 0 (no pipeline, no ZeRO-1) */
    STRD(matmul_precision, 1, "highest"),
    NUMD(pipe, COL_INT, 1, "1"), NUMD(micro_batches, COL_INT, 1, "1"), NUMD(zero, COL_INT, 1, "0"),
    NUMD(bubble_s, COL_DBL, 0, "0"),
    /* max_load 0 (not recorded) */
    NUMD(max_load, COL_DBL, 0, "0"),
    /* a2a_across_s 0, rsag_s 0 (not split) */
    NUMD(a2a_across_s, COL_DBL, 0, "0"), NUMD(rsag_s, COL_DBL, 0, "0"),
};
#define N_COLS ((int)(sizeof COLS / sizeof COLS[0]))

/* Long enough for every column name, commas included. */
#define HEADER_MAX 512

const char *runrow_header(void)
{
    static char header[HEADER_MAX];
    if (header[0] == '\0') {
        size_t len = 0;
        for (int c = 0; c < N_COLS; c++)
            len += (size_t)snprintf(header + len, sizeof header - len, "%s%s", c ? "," : "", COLS[c].name);
    }
    return header;
}

int runrow_ncols(void)
{
    return N_COLS;
}

const char *runrow_col_name(int c)
{
    return (c >= 0 && c < N_COLS) ? COLS[c].name : NULL;
}

int runrow_write_header(FILE *fp)
{
    return fprintf(fp, "%s\n", runrow_header()) < 0 ? -1 : 0;
}

/* CSV rules (RFC 4180): quote a field that holds a comma, a quote, a line break or edge spaces,
 * and double the quotes inside it; otherwise write it as is. */
static int write_str(FILE *fp, const char *s)
{
    size_t n = strlen(s);
    int quote = n > 0 && (s[0] == ' ' || s[n - 1] == ' ' || strpbrk(s, ",\"\r\n") != NULL);
    if (!quote)
        return fputs(s, fp) < 0 ? -1 : 0;
    if (fputc('"', fp) == EOF)
        return -1;
    for (const char *p = s; *p; p++)
        if ((*p == '"' && fputc('"', fp) == EOF) || fputc(*p, fp) == EOF)
            return -1;
    return fputc('"', fp) == EOF ? -1 : 0;
}

int runrow_write(FILE *fp, const runrow *r)
{
    const char *base = (const char *)r;
    for (int c = 0; c < N_COLS; c++) {
        const void *f = base + COLS[c].off;
        int rc = 0;
        if (c > 0 && fputc(',', fp) == EOF)
            return -1;
        switch (COLS[c].type) {
        case COL_STR: rc = write_str(fp, f); break;
        case COL_INT: rc = fprintf(fp, "%d", *(const int *)f) < 0 ? -1 : 0; break;
        case COL_LONG: rc = fprintf(fp, "%ld", *(const long *)f) < 0 ? -1 : 0; break;
        case COL_DBL: rc = fprintf(fp, "%.9g", *(const double *)f) < 0 ? -1 : 0; break;
        }
        if (rc != 0)
            return -1;
    }
    return fputc('\n', fp) == EOF ? -1 : 0;
}

int runrow_col_format(char *buf, size_t cap, const runrow *r, const char *name)
{
    for (int c = 0; c < N_COLS; c++) {
        if (strcmp(COLS[c].name, name) != 0)
            continue;
        const void *f = (const char *)r + COLS[c].off;
        int len = 0;
        switch (COLS[c].type) {
        case COL_STR: len = snprintf(buf, cap, "%s", (const char *)f); break;
        case COL_INT: len = snprintf(buf, cap, "%d", *(const int *)f); break;
        case COL_LONG: len = snprintf(buf, cap, "%ld", *(const long *)f); break;
        case COL_DBL: len = snprintf(buf, cap, "%.9g", *(const double *)f); break;
        }
        return (len < 0 || (size_t)len >= cap) ? -1 : 0;
    }
    return -1;
}

int runrow_check_header(const char *path, const char *const *names, int n, errbuf *err)
{
    for (int c = 0; c < n && c < N_COLS; c++)
        if (strcmp(names[c], COLS[c].name) != 0)
            return errbuf_set(err, "%s:1: column %d is '%s', expected '%s' (the header of run --csv)",
                              path, c + 1, names[c], COLS[c].name);
    int older = n > 0 && n < N_COLS;            /* an older run's header: the columns added since all missing */
    for (int c = n; older && c < N_COLS; c++)
        older = COLS[c].dflt != NULL;
    if (n != N_COLS && !older)
        return errbuf_set(err, "%s:1: header has %d columns, expected %d (the header of run --csv)",
                          path, n, N_COLS);
    return 0;
}

/* Unlike errbuf_parse_double this takes "nan" and "inf": the writer prints them with %.9g, and a
 * row must read back as it was written. */
static int parse_dbl(const char *s, double *out)
{
    if (*s == '\0' || *s == ' ' || *s == '\t')
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || (errno == ERANGE && isfinite(v) && v != 0.0))
        return -1;
    *out = v;
    return 0;
}

static int parse_field(runrow *r, int c, const char *s, const char *path, long line, errbuf *err)
{
    void *f = (char *)r + COLS[c].off;
    long v;
    switch (COLS[c].type) {
    case COL_STR:
        if (strlen(s) >= COLS[c].size)
            return errbuf_set(err, "%s:%ld: column '%s' must be shorter than %zu bytes, got '%.40s...'",
                              path, line, COLS[c].name, COLS[c].size, s);
        strcpy(f, s);
        return 0;
    case COL_INT:
        if (errbuf_parse_long(s, &v) != 0 || v < INT_MIN || v > INT_MAX)
            return errbuf_set(err, "%s:%ld: column '%s' must be an integer, got '%s'", path, line,
                              COLS[c].name, s);
        *(int *)f = (int)v;
        return 0;
    case COL_LONG:
        if (errbuf_parse_long(s, &v) != 0)
            return errbuf_set(err, "%s:%ld: column '%s' must be an integer, got '%s'", path, line,
                              COLS[c].name, s);
        *(long *)f = v;
        return 0;
    case COL_DBL:
        if (parse_dbl(s, f) != 0)
            return errbuf_set(err, "%s:%ld: column '%s' must be a number, got '%s'", path, line,
                              COLS[c].name, s);
        return 0;
    }
    return errbuf_set(err, "%s:%ld: column '%s' has an unknown type", path, line, COLS[c].name);
}

static int col_index(const char *name)
{
    for (int c = 0; c < N_COLS; c++)
        if (strcmp(COLS[c].name, name) == 0)
            return c;
    return -1;
}

/* "PATH:LINE: column 'NAME' must be RULE, got 'CELL'" for data row i of 't'. */
static int bad_cell(const csvtab *t, int i, const char *path, const char *name, const char *rule, errbuf *err)
{
    return errbuf_set(err, "%s:%ld: column '%s' must be %s, got '%.40s'", path, t->line[i + 1], name, rule,
                      csvtab_get(t, i, col_index(name)));
}

/* The values run can write: a row that breaks one was not written by run (or was edited), and would count
 * as done on --resume or reach a summary. */
static int check_row(const runrow *r, const csvtab *t, int i, const char *path, errbuf *err)
{
    static const char *const RESULTS[] = { "lb_loss", "a2a_bytes_per_core", "step_time_s", "compute_s",
        "router_s", "dispatch_combine_s", "a2a_s", "allreduce_s", "idle_s", "examples_per_s", "tflops_per_chip",
        "sim_wall_s", "experts_per_core", "bubble_s", "max_load", "a2a_across_s", "rsag_s" };
    if (r->cores < 1)
        return bad_cell(t, i, path, "cores", "an integer >= 1", err);
    if (r->data < 1 || r->data > r->cores)
        return bad_cell(t, i, path, "data", "an integer in [1, cores]", err);
    if (r->pipe < 1 || r->pipe > r->cores)
        return bad_cell(t, i, path, "pipe", "an integer in [1, cores]", err);
    if (r->model_par < 1 || (long)r->data * r->model_par * r->pipe != r->cores)
        return bad_cell(t, i, path, "model_par", "cores / data / pipe", err);
    if (r->micro_batches < 1 || (r->pipe == 1 && r->micro_batches != 1))
        return bad_cell(t, i, path, "micro_batches", "an integer >= 1 (1 when pipe is 1)", err);
    if (r->zero != 0 && r->zero != 1)
        return bad_cell(t, i, path, "zero", "0 or 1", err);
    if (r->top_k < 1 || r->top_k > 8)   /* models/model.h MODEL_TOPK_MAX */
        return bad_cell(t, i, path, "top_k", "an integer in [1, 8]", err);
    if (!(r->capacity_factor > 0) || !isfinite(r->capacity_factor))
        return bad_cell(t, i, path, "capacity_factor", "a finite number > 0", err);
    if (r->expert_capacity < 0)
        return bad_cell(t, i, path, "expert_capacity", "an integer >= 0", err);
    if (strcmp(r->dispatch, "padded") != 0 && strcmp(r->dispatch, "exact") != 0 &&
        strcmp(r->dispatch, "dropless") != 0 && strcmp(r->dispatch, "expert-choice") != 0)
        return bad_cell(t, i, path, "dispatch", "padded, exact, dropless or expert-choice", err);
    if (strcmp(r->a2a, "phased") != 0 && strcmp(r->a2a, "direct") != 0 && strcmp(r->a2a, "hier") != 0)
        return bad_cell(t, i, path, "a2a", "phased, direct or hier", err);
    if (r->seed < 0)
        return bad_cell(t, i, path, "seed", "an integer >= 0", err);
    if (r->tokens_per_batch < 1)
        return bad_cell(t, i, path, "tokens_per_batch", "an integer >= 1", err);
    int step = strcmp(r->scope, "step") == 0;
    if (!step && strcmp(r->scope, "layer") != 0)
        return bad_cell(t, i, path, "scope", "step or layer", err);
    if (step ? r->layer != -1 : r->layer < 0)
        return bad_cell(t, i, path, "layer", step ? "-1 in a step row" : "an integer >= 0 in a layer row", err);
    if (step ? strcmp(r->phase, "all") != 0 : strcmp(r->phase, "fwd") != 0 && strcmp(r->phase, "bwd") != 0)
        return bad_cell(t, i, path, "phase", step ? "all in a step row" : "fwd or bwd in a layer row", err);
    if (strcmp(r->matmul_precision, "default") != 0 && strcmp(r->matmul_precision, "high") != 0
        && strcmp(r->matmul_precision, "highest") != 0)
        return bad_cell(t, i, path, "matmul_precision", "default, high or highest", err);
    if (!(r->dropped_frac >= 0 && r->dropped_frac <= 1))
        return bad_cell(t, i, path, "dropped_frac", "a fraction in [0, 1]", err);
    for (size_t k = 0; k < sizeof RESULTS / sizeof RESULTS[0]; k++) {
        double v;
        memcpy(&v, (const char *)r + COLS[col_index(RESULTS[k])].off, sizeof v);
        if (!(v >= 0) || !isfinite(v))
            return bad_cell(t, i, path, RESULTS[k], "a finite number >= 0", err);
    }
    return 0;
}

int runrow_read(const char *path, runrow **rows, int *nrows, errbuf *err)
{
    runrow *out = NULL;
    csvtab *t = csvtab_read(path, err);
    if (t == NULL)
        return -1;
    if (runrow_check_header(path, (const char *const *)t->cell, t->ncols, err) != 0)
        goto fail;
    out = calloc(t->nrows > 0 ? (size_t)t->nrows : 1, sizeof *out);
    if (out == NULL) {
        errbuf_set(err, "%s: out of memory", path);
        goto fail;
    }
    for (int i = 0; i < t->nrows; i++) {
        for (int c = 0; c < N_COLS; c++)
            if (parse_field(&out[i], c, c < t->ncols ? csvtab_get(t, i, c) : COLS[c].dflt, path, t->line[i + 1],
                            err) != 0)
                goto fail;
        if (check_row(&out[i], t, i, path, err) != 0)
            goto fail;
    }
    *rows = out;
    *nrows = t->nrows;
    csvtab_free(t);
    return 0;
fail:
    free(out);
    csvtab_free(t);
    return -1;
}

int runrow_same_config(const runrow *a, const runrow *b)
{
    const char *pa = (const char *)a, *pb = (const char *)b;
    for (int c = 0; c < N_COLS; c++) {
        if (!COLS[c].config)
            continue;
        const void *fa = pa + COLS[c].off, *fb = pb + COLS[c].off;
        switch (COLS[c].type) {
        case COL_STR:
            if (strcmp(fa, fb) != 0)
                return 0;
            break;
        case COL_INT:
            if (*(const int *)fa != *(const int *)fb)
                return 0;
            break;
        case COL_LONG:
            if (*(const long *)fa != *(const long *)fb)
                return 0;
            break;
        case COL_DBL:   /* as written: values that print the same with %.9g are the same setting */
            if (runrow_dbl_eq(*(const double *)fa, *(const double *)fb) == 0)
                return 0;
            break;
        }
    }
    return 1;
}

int runrow_col_is_config(int c)
{
    return c >= 0 && c < N_COLS && COLS[c].config && strcmp(COLS[c].name, "seed") != 0;
}

/* -1, 0 or 1 as x <, =, > y (no NaN in a row runrow_read accepts; a NaN sorts first). */
static int cmp_dbl(double x, double y)
{
    return x < y ? -1 : x > y ? 1 : isnan(x) ? (isnan(y) ? 0 : -1) : isnan(y) ? 1 : 0;
}

/* Compares columns 'config' (1: the config columns but seed; 0: the results but sim_wall_s) by value;
 * doubles exactly.  Returns the first nonzero difference. */
static int cmp_cols(const runrow *a, const runrow *b, int config)
{
    const char *pa = (const char *)a, *pb = (const char *)b;
    for (int c = 0; c < N_COLS; c++) {
        int is_cfg = COLS[c].config != 0;
        if (is_cfg != config || strcmp(COLS[c].name, "seed") == 0 || strcmp(COLS[c].name, "sim_wall_s") == 0)
            continue;
        const void *fa = pa + COLS[c].off, *fb = pb + COLS[c].off;
        int d = 0;
        switch (COLS[c].type) {
        case COL_STR: d = strcmp(fa, fb); break;
        case COL_INT: d = (*(const int *)fa > *(const int *)fb) - (*(const int *)fa < *(const int *)fb); break;
        case COL_LONG: d = (*(const long *)fa > *(const long *)fb) - (*(const long *)fa < *(const long *)fb); break;
        case COL_DBL: d = cmp_dbl(*(const double *)fa, *(const double *)fb); break;
        }
        if (d != 0)
            return d;
    }
    return 0;
}

int runrow_config_cmp(const runrow *a, const runrow *b)
{
    return cmp_cols(a, b, 1);
}

void runrow_round_config(runrow *r)
{
    for (int c = 0; c < N_COLS; c++)
        if (COLS[c].config && COLS[c].type == COL_DBL) {
            double *f = (double *)(void *)((char *)r + COLS[c].off);
            char s[32];
            snprintf(s, sizeof s, "%.9g", *f);
            *f = strtod(s, NULL);
        }
}

int runrow_same_results(const runrow *a, const runrow *b)
{
    const char *pa = (const char *)a, *pb = (const char *)b;
    for (int c = 0; c < N_COLS; c++) {
        if (COLS[c].config || strcmp(COLS[c].name, "seed") == 0 || strcmp(COLS[c].name, "sim_wall_s") == 0)
            continue;
        const void *fa = pa + COLS[c].off, *fb = pb + COLS[c].off;
        int same = 1;
        switch (COLS[c].type) {
        case COL_STR: same = strcmp(fa, fb) == 0; break;
        case COL_INT: same = *(const int *)fa == *(const int *)fb; break;
        case COL_LONG: same = *(const long *)fa == *(const long *)fb; break;
        case COL_DBL: same = runrow_dbl_eq(*(const double *)fa, *(const double *)fb); break;
        }
        if (!same)
            return 0;
    }
    return 1;
}

static const runrow *sort_rows;   /* runrow_sort's rounded copies, for its comparison (qsort has no context) */

static int sort_order(const void *x, const void *y)
{
    int i = *(const int *)x, j = *(const int *)y;
    int d = runrow_config_cmp(&sort_rows[i], &sort_rows[j]);
    if (d == 0)
        d = (sort_rows[i].seed > sort_rows[j].seed) - (sort_rows[i].seed < sort_rows[j].seed);
    return d != 0 ? d : (i > j) - (i < j);
}

int runrow_sort(int *order, const runrow *rows, int n)
{
    runrow *r = malloc((n > 0 ? (size_t)n : 1) * sizeof *r);
    if (r == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        r[i] = rows[i];
        runrow_round_config(&r[i]);
        order[i] = i;
    }
    sort_rows = r;
    qsort(order, (size_t)n, sizeof *order, sort_order);
    sort_rows = NULL;
    free(r);
    return 0;
}

long runrow_dedup(unsigned char *keep, int *ia, int *ib, const runrow *rows, int n)
{
    int *order = malloc((n > 0 ? (size_t)n : 1) * sizeof *order);
    if (order == NULL || runrow_sort(order, rows, n) != 0) {
        free(order);
        return -2;
    }
    long dropped = 0;
    for (int i = 0; i < n; i++)
        keep[i] = 1;
    for (int s = 1; s < n; s++) {           /* the first of a run is the earliest: ties sort by position */
        const runrow *a = &rows[order[s - 1]], *b = &rows[order[s]];
        if (a->seed != b->seed || !runrow_same_config(a, b))
            continue;
        if (!runrow_same_results(a, b)) {
            *ia = order[s - 1];
            *ib = order[s];
            free(order);
            return -1;
        }
        keep[order[s]] = 0;
        order[s] = order[s - 1];            /* later copies compare with the kept one */
        dropped++;
    }
    free(order);
    return dropped;
}

int runrow_dbl_eq(double a, double b)
{
    char sa[32], sb[32];
    snprintf(sa, sizeof sa, "%.9g", a);
    snprintf(sb, sizeof sb, "%.9g", b);
    return strcmp(sa, sb) == 0;
}

int runrow_write_table(FILE *fp, const void *arg, errbuf *err)
{
    const runrow_table *t = arg;
    if (runrow_write_header(fp) != 0)
        return errbuf_set(err, "write failed");
    for (int i = 0; i < t->n; i++)
        if (runrow_write(fp, &t->rows[i]) != 0)
            return errbuf_set(err, "write failed");
    return 0;
}
