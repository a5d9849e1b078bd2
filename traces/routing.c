/* routing: routing trace CSV load (libcsv, streamed row by row so a Switch-C sized trace never sits in memory
 * as text) and atomic write.  Counts are stored as they are read; -1 marks a cell no row has filled yet. */
#include "traces/routing.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/common/atomicio.h"
#include "sim/common/csvread.h"

#define ROUTING_NCOLS (3 + ROUTING_RANKS_MAX)   /* most columns */
#define ROUTING_ROW_BYTES 256   /* a row is at most 11 integers: 120 bytes, with spaces and CRLF well under this */

static const char *const COLS[ROUTING_NCOLS] = { "layer", "group", "expert", "tokens_first", "tokens_second",
                                                 "tokens_3", "tokens_4", "tokens_5", "tokens_6", "tokens_7",
                                                 "tokens_8" };

routing_trace *routing_trace_alloc(int layers, int groups, int experts)
{
    return routing_trace_alloc_ranks(layers, groups, experts, 2);
}

routing_trace *routing_trace_alloc_ranks(int layers, int groups, int experts, int ranks)
{
    if (layers < 1 || groups < 1 || experts < 1 || ranks < 2 || ranks > ROUTING_RANKS_MAX)
        return NULL;
    size_t n = (size_t)layers * (size_t)groups;
    if (n > SIZE_MAX / (size_t)experts)
        return NULL;
    n *= (size_t)experts;
    if (n > SIZE_MAX / ((size_t)ranks * sizeof(int)))
        return NULL;
    routing_trace *t = malloc(sizeof *t);
    if (t == NULL)
        return NULL;
    t->first = calloc((size_t)ranks * n, sizeof(int));     /* one allocation: first, second, then the later */
    if (t->first == NULL) {
        free(t);
        return NULL;
    }
    t->second = t->first + n;
    t->layers = layers;
    t->groups = groups;
    t->experts = experts;
    t->ranks = ranks;
    return t;
}

void routing_trace_free(routing_trace *t)
{
    if (t == NULL)
        return;
    free(t->first);
    free(t);
}

/* ---- loading ---- */

typedef struct {
    const char *path;
    errbuf *err;
    routing_trace *t;       /* allocated once the header gives the choice columns */
    int layers, groups, experts;
    char *row;              /* fields of the row being read, NUL-separated */
    size_t row_len, row_cap;
    size_t off[ROUTING_NCOLS];
    int nfields;            /* fields of the row being read (may exceed ROUTING_NCOLS) */
    long cur_line;          /* line being fed to libcsv */
    long row_line;          /* line of the first field of the row being read */
    int header_done;
    int failed;             /* 'err' is set; ignore the rest */
} loader;

static void on_field(void *s, size_t len, void *data)
{
    loader *L = data;
    if (L->failed)
        return;
    if (L->nfields == 0) {
        L->row_line = L->cur_line;
        L->row_len = 0;
    }
    if (L->row_len + len + 1 > L->row_cap) {
        size_t c = L->row_cap ? L->row_cap : 128;
        while (c < L->row_len + len + 1)
            c *= 2;
        char *q = realloc(L->row, c);
        if (q == NULL) {
            errbuf_set(L->err, "%s: out of memory", L->path);
            L->failed = 1;
            return;
        }
        L->row = q;
        L->row_cap = c;
    }
    if (L->nfields < ROUTING_NCOLS)
        L->off[L->nfields] = L->row_len;
    if (s != NULL && len > 0)
        memcpy(L->row + L->row_len, s, len);
    L->row_len += len;
    L->row[L->row_len++] = '\0';
    L->nfields++;
}

/* Strict non-negative decimal integer: digits only (no sign, no blanks), no overflow past 'max'. */
static int parse_count(const char *s, long max, long *out)
{
    if (*s == '\0')
        return -1;
    for (const char *c = s; *c; c++)
        if (*c < '0' || *c > '9')
            return -1;
    long v;
    if (errbuf_parse_long(s, &v) != 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* The header: the five columns, then tokens_3 .. tokens_K; allocates the trace with K - 2 more ranks. */
static void check_header(loader *L, int nfields)
{
    int ok = nfields >= 5 && nfields <= ROUTING_NCOLS;
    for (int i = 0; ok && i < nfields; i++)
        ok = strcmp(L->row + L->off[i], COLS[i]) == 0;
    if (ok) {
        L->t = routing_trace_alloc_ranks(L->layers, L->groups, L->experts, nfields - 3);
        size_t n_cells = (size_t)L->layers * (size_t)L->groups * (size_t)L->experts;
        for (size_t i = 0; L->t != NULL && i < n_cells; i++)
            L->t->first[i] = -1;                             /* no row yet */
        if (L->t == NULL) {
            errbuf_set(L->err, "%s: out of memory", L->path);
            L->failed = 1;
        }
        return;
    }
    /* quote what was found, fields joined by commas (the NULs between them become commas) */
    for (size_t i = 0; i + 1 < L->row_len; i++)
        if (L->row[i] == '\0')
            L->row[i] = ',';
    errbuf_set(L->err, "%s:%ld: header must be '%s' (then tokens_3 .. tokens_%d for top-k above 2), got '%s'",
               L->path, L->row_line, ROUTING_TRACE_HEADER, ROUTING_RANKS_MAX, L->row_len ? L->row : "");
    L->failed = 1;
}

static void on_row(int c, void *data)
{
    (void)c;
    loader *L = data;
    if (L->failed)
        return;
    int nf = L->nfields;
    L->nfields = 0;
    if (!L->header_done) {
        L->header_done = 1;
        check_header(L, nf);
        return;
    }
    routing_trace *t = L->t;
    int ncols = 3 + t->ranks;
    if (nf != ncols) {
        errbuf_set(L->err, "%s:%ld: expected %d fields, got %d", L->path, L->row_line, ncols, nf);
        L->failed = 1;
        return;
    }
    const long bound[3] = { t->layers, t->groups, t->experts };
    long v[ROUTING_NCOLS];
    for (int i = 0; i < ncols; i++) {
        const char *f = L->row + L->off[i];
        if (i < 3) {
            if (parse_count(f, bound[i] - 1, &v[i]) != 0) {
                errbuf_set(L->err, "%s:%ld: column '%s' must be an integer in [0,%ld), got '%s'", L->path,
                           L->row_line, COLS[i], bound[i], f);
                L->failed = 1;
                return;
            }
        } else if (parse_count(f, INT_MAX, &v[i]) != 0) {
            errbuf_set(L->err, "%s:%ld: column '%s' must be an integer in [0,%d], got '%s'", L->path,
                       L->row_line, COLS[i], INT_MAX, f);
            L->failed = 1;
            return;
        }
    }
    size_t k = routing_trace_index(t, (int)v[0], (int)v[1], (int)v[2]);
    if (t->first[k] >= 0) {
        errbuf_set(L->err, "%s:%ld: layer %ld group %ld expert %ld appears twice", L->path, L->row_line,
                   v[0], v[1], v[2]);
        L->failed = 1;
        return;
    }
    for (int j = 0; j < t->ranks; j++)
        routing_trace_rank(t, j)[k] = (int)v[3 + j];
}

/* Every cell filled; group sums consistent within a layer; at most one second (third, ..) choice per token. */
static int check_shape(const routing_trace *t, const char *path, errbuf *err)
{
    for (int l = 0; l < t->layers; l++) {
        long tokens0 = 0;
        for (int g = 0; g < t->groups; g++) {
            long sum1 = 0, sum[ROUTING_RANKS_MAX] = { 0 };
            for (int e = 0; e < t->experts; e++) {
                size_t k = routing_trace_index(t, l, g, e);
                if (t->first[k] < 0)
                    return errbuf_set(err, "%s: layer %d group %d has no row for expert %d", path, l, g, e);
                sum1 += t->first[k];
                for (int j = 1; j < t->ranks; j++)
                    sum[j] += routing_trace_rank(t, j)[k];
            }
            if (g == 0)
                tokens0 = sum1;
            else if (sum1 != tokens0)
                return errbuf_set(err, "%s: layer %d group %d routes %ld tokens (sum of tokens_first), "
                                  "group 0 routes %ld", path, l, g, sum1, tokens0);
            if (sum[1] > sum1)
                return errbuf_set(err, "%s: layer %d group %d has %ld second choices, more than its %ld tokens",
                                  path, l, g, sum[1], sum1);
            for (int j = 2; j < t->ranks; j++)
                if (sum[j] > sum1)
                    return errbuf_set(err, "%s: layer %d group %d has %ld choices in tokens_%d, more than its %ld "
                                      "tokens", path, l, g, sum[j], j + 1, sum1);
        }
    }
    return 0;
}

routing_trace *routing_trace_load_csv(const char *path, int layers, int groups, int experts, errbuf *err)
{
    if (layers < 1 || groups < 1 || experts < 1) {
        errbuf_set(err, "%s: expected shape must be positive, got layers=%d groups=%d experts=%d", path, layers,
                   groups, experts);
        return NULL;
    }
    loader L = { .path = path, .err = err, .cur_line = 1, .layers = layers, .groups = groups, .experts = experts };
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        errbuf_set(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t n_cells = (size_t)layers * (size_t)groups * (size_t)experts;
    /* Caps, so an endless or binary file cannot take all memory: a line, and the bytes a trace of this shape
     * can need (a row per cell, each at most ROUTING_ROW_BYTES, blank lines and all). */
    char why[160];
    snprintf(why, sizeof why, ", more than a trace of %d layers x %d groups x %d experts can need", layers, groups,
             experts);
    const csvread_feed f = { .path = path, .line_max = ROUTING_ROW_BYTES,
                             .bytes_max = (n_cells + 1) * ROUTING_ROW_BYTES, .not_what = "a routing trace",
                             .bytes_why = why, .on_field = on_field, .on_row = on_row, .data = &L,
                             .line = &L.cur_line, .failed = &L.failed };
    int rc = -1;
    if (csvread_feed_file(fp, &f, err) == 0 && !L.failed) {
        if (!L.header_done)
            errbuf_set(err, "%s: empty file, expected a header line", path);
        else
            rc = check_shape(L.t, path, err);
    }
    free(L.row);
    fclose(fp);
    if (rc == 0)
        return L.t;
    routing_trace_free(L.t);
    return NULL;
}

long routing_trace_group_tokens(const routing_trace *t, int layer)
{
    long sum = 0;
    for (int e = 0; e < t->experts; e++)
        sum += t->first[routing_trace_index(t, layer, 0, e)];
    return sum;
}

int routing_trace_check_tokens(const routing_trace *t, const long *tokens_per_group, const char *path, errbuf *err)
{
    for (int l = 0; l < t->layers; l++) {
        for (int g = 0; g < t->groups; g++) {
            long sum = 0;
            for (int e = 0; e < t->experts; e++)
                sum += t->first[routing_trace_index(t, l, g, e)];
            if (sum != tokens_per_group[l]) {
                if (g == 0)
                    return errbuf_set(err, "%s: layer %d routes %ld tokens per group, the plan routes %ld", path,
                                      l, sum, tokens_per_group[l]);
                return errbuf_set(err, "%s: layer %d group %d routes %ld tokens, the plan routes %ld", path, l,
                                  g, sum, tokens_per_group[l]);
            }
        }
    }
    return 0;
}

/* ---- writing ---- */

static int write_rows(FILE *fp, const void *arg, errbuf *err)
{
    (void)err;                     /* atomic_file_write reports stream errors (ferror, fclose) */
    const routing_trace *t = arg;
    fputs(ROUTING_TRACE_HEADER, fp);
    for (int j = 2; j < t->ranks; j++)
        fprintf(fp, ",%s", COLS[3 + j]);
    fputc('\n', fp);
    for (int l = 0; l < t->layers; l++)
        for (int g = 0; g < t->groups; g++)
            for (int e = 0; e < t->experts; e++) {
                size_t k = routing_trace_index(t, l, g, e);
                fprintf(fp, "%d,%d,%d", l, g, e);
                for (int j = 0; j < t->ranks; j++)
                    fprintf(fp, ",%d", routing_trace_rank(t, j)[k]);
                fputc('\n', fp);
            }
    return 0;
}

int routing_trace_write_csv(atomic_batch *batch, const char *path, const routing_trace *t, errbuf *err)
{
    size_t n = (size_t)t->layers * (size_t)t->groups * (size_t)t->experts;
    for (size_t k = 0; k < (size_t)t->ranks * n; k++)   /* a negative count could not be loaded back: refuse it */
        if (t->first[k] < 0) {
            size_t c = k % n;
            int e = (int)(c % (size_t)t->experts);
            int g = (int)(c / (size_t)t->experts % (size_t)t->groups);
            int l = (int)(c / (size_t)t->experts / (size_t)t->groups);
            return errbuf_set(err, "%s: layer %d group %d expert %d has a negative count (choice %d: %d)", path, l,
                              g, e, (int)(k / n) + 1, t->first[k]);
        }
    return atomic_batch_write(batch, path, write_rows, t, err);
}
