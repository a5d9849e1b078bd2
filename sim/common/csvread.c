/* csvread: libcsv into a table of strings.  Fields are gathered into one growing text buffer as
 * offsets (the buffer moves as it grows) and turned into pointers once the file is read. */
#include "sim/common/csvread.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *text;            /* every field, NUL-terminated, back to back */
    size_t text_len, text_cap;
    size_t *off;           /* offset of each field in 'text' */
    size_t n_off, cap_off;
    long *line;            /* start line of each finished row */
    size_t n_rows, cap_rows;
    int ncols;             /* -1 until the header ends */
    int row_fields;        /* fields of the row being read */
    long cur_line;         /* line being fed to libcsv */
    long row_line;         /* line of the first field of the row being read */
    int failed;            /* 0 ok, 1 out of memory, 2 bad field count */
    int bad_count;         /* the field count of the bad row */
    long bad_line;
} reader;

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (q == NULL)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

static void on_field(void *s, size_t len, void *data)
{
    reader *r = data;
    if (r->failed)
        return;
    if (grow((void **)&r->text, &r->text_cap, r->text_len + len + 1, 1) != 0
        || grow((void **)&r->off, &r->cap_off, r->n_off + 1, sizeof *r->off) != 0) {
        r->failed = 1;
        return;
    }
    if (r->row_fields == 0)
        r->row_line = r->cur_line;
    r->off[r->n_off++] = r->text_len;
    if (s != NULL && len > 0)
        memcpy(r->text + r->text_len, s, len);
    r->text_len += len;
    r->text[r->text_len++] = '\0';
    r->row_fields++;
}

static void on_row(int c, void *data)
{
    (void)c;
    reader *r = data;
    if (r->failed)
        return;
    if (r->ncols < 0)
        r->ncols = r->row_fields;
    else if (r->row_fields != r->ncols) {     /* report the first bad row only */
        r->failed = 2;
        r->bad_count = r->row_fields;
        r->bad_line = r->row_line;
        return;
    }
    if (grow((void **)&r->line, &r->cap_rows, r->n_rows + 1, sizeof *r->line) != 0) {
        r->failed = 1;
        return;
    }
    r->line[r->n_rows++] = r->row_line;
    r->row_fields = 0;
}

void csvtab_free(csvtab *t)
{
    if (t == NULL)
        return;
    free(t->cell);
    free(t->line);
    free(t->text);
    free(t);
}

int csvtab_col(const csvtab *t, const char *name)
{
    for (int j = 0; j < t->ncols; j++)
        if (strcmp(csvtab_get(t, -1, j), name) == 0)
            return j;
    return -1;
}

/* Feeds fp line by line into parser p; 0 when every line is fed, 1 when a callback stopped it, -1 with err. */
static int feed_lines(struct csv_parser *p, FILE *fp, const csvread_feed *f, errbuf *err)
{
    char *buf = NULL;
    size_t bufcap = 0, total = 0;
    long n;
    int rc = 0;
    while (rc == 0 && (n = errbuf_read_line(&buf, &bufcap, f->line_max, fp)) > 0) {
        char *line = buf;
        if (total == 0 && n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {   /* a UTF-8 byte-order mark */
            line += 3;
            n -= 3;
        }
        total += (size_t)n + (size_t)(line - buf);
        if (total > f->bytes_max)
            rc = errbuf_set(err, "%s:%ld: file is longer than %zu bytes%s", f->path, *f->line, f->bytes_max,
                            f->bytes_why);
        else if (csv_parse(p, line, (size_t)n, f->on_field, f->on_row, f->data) != (size_t)n)
            rc = errbuf_set(err, "%s:%ld: malformed CSV (%s)", f->path, *f->line, csv_strerror(csv_error(p)));
        else if (*f->failed)
            rc = 1;
        else if (n > 0 && line[n - 1] == '\n')
            (*f->line)++;
    }
    int saved = errno;
    free(buf);
    errno = saved;
    if (rc != 0)
        return rc;
    if (n == ERRBUF_LINE_TOO_LONG)
        return errbuf_set(err, "%s:%ld: line longer than %zu bytes (not %s?)", f->path, *f->line, f->line_max,
                          f->not_what);
    if (n < 0 || ferror(fp))
        return errbuf_set(err, "%s: read failed: %s", f->path, strerror(errno));
    return 0;
}

int csvread_feed_file(FILE *fp, const csvread_feed *f, errbuf *err)
{
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return errbuf_set(err, "%s: out of memory", f->path);
    int rc = feed_lines(&p, fp, f, err);
    if (rc == 0 && csv_fini(&p, f->on_field, f->on_row, f->data) != 0)
        rc = errbuf_set(err, "%s:%ld: malformed CSV (%s)", f->path, *f->line, csv_strerror(csv_error(&p)));
    csv_free(&p);
    return rc;
}

/* What a reader found wrong with the whole file: memory, a row of another width, no header; -1 with err. */
static int reader_check(const reader *r, const char *path, errbuf *err)
{
    if (r->failed == 1)
        return errbuf_set(err, "%s: out of memory", path);
    if (r->failed == 2)
        return errbuf_set(err, "%s:%ld: expected %d fields, got %d", path, r->bad_line, r->ncols, r->bad_count);
    if (r->n_rows == 0)
        return errbuf_set(err, "%s: empty file, expected a header line", path);
    return 0;
}

/* The table of a reader that read a whole file: cells as pointers into its text, which the table takes. */
static csvtab *reader_table(reader *r)
{
    csvtab *t = calloc(1, sizeof *t);
    if (t == NULL || (t->cell = malloc(r->n_off * sizeof *t->cell)) == NULL) {
        free(t);
        return NULL;
    }
    for (size_t i = 0; i < r->n_off; i++)
        t->cell[i] = r->text + r->off[i];
    t->ncols = r->ncols;
    t->nrows = (int)r->n_rows - 1;
    t->line = r->line;
    t->text = r->text;
    free(r->off);
    return t;
}

csvtab *csvtab_read(const char *path, errbuf *err)
{
    reader r = { .ncols = -1, .cur_line = 1 };
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        errbuf_set(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    const csvread_feed f = { .path = path, .line_max = CSVREAD_LINE_MAX, .bytes_max = CSVREAD_BYTES_MAX,
                             .not_what = "a CSV file", .bytes_why = " (the most a CSV here may have)",
                             .on_field = on_field, .on_row = on_row, .data = &r, .line = &r.cur_line,
                             .failed = &r.failed };
    int fed = csvread_feed_file(fp, &f, err);
    fclose(fp);
    csvtab *t = NULL;
    if (fed >= 0 && reader_check(&r, path, err) == 0 && (t = reader_table(&r)) == NULL)
        errbuf_set(err, "%s: out of memory", path);
    if (t != NULL)
        return t;
    free(r.text);
    free(r.off);
    free(r.line);
    return NULL;
}
