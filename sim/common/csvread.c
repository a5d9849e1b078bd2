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

csvtab *csvtab_read(const char *path, errbuf *err)
{
    reader r = { .ncols = -1, .cur_line = 1 };
    struct csv_parser p;
    csvtab *t = NULL;
    char *buf = NULL;
    size_t bufcap = 0;
    int parser_ok = 0;

    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        errbuf_set(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        errbuf_set(err, "%s: out of memory", path);
        goto fail;
    }
    parser_ok = 1;
    long n;
    size_t total = 0;
    while ((n = errbuf_read_line(&buf, &bufcap, CSVREAD_LINE_MAX, fp)) > 0) {   /* line by line, so errors know their line */
        char *line = buf;
        if (total == 0 && n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {   /* a UTF-8 byte-order mark */
            line += 3;
            n -= 3;
        }
        total += (size_t)n + (size_t)(line - buf);
        if (total > CSVREAD_BYTES_MAX) {
            errbuf_set(err, "%s:%ld: file is longer than %ld bytes (the most a CSV here may have)", path, r.cur_line,
                       (long)CSVREAD_BYTES_MAX);
            goto fail;
        }
        if (csv_parse(&p, line, (size_t)n, on_field, on_row, &r) != (size_t)n) {
            errbuf_set(err, "%s:%ld: malformed CSV (%s)", path, r.cur_line, csv_strerror(csv_error(&p)));
            goto fail;
        }
        if (r.failed)
            break;
        if (n > 0 && line[n - 1] == '\n')
            r.cur_line++;
    }
    if (n == ERRBUF_LINE_TOO_LONG) {
        errbuf_set(err, "%s:%ld: line longer than %ld bytes (not a CSV file?)", path, r.cur_line,
                   (long)CSVREAD_LINE_MAX);
        goto fail;
    }
    if (n < 0 || ferror(fp)) {
        errbuf_set(err, "%s: read failed: %s", path, strerror(errno));
        goto fail;
    }
    if (!r.failed && csv_fini(&p, on_field, on_row, &r) != 0) {
        errbuf_set(err, "%s:%ld: malformed CSV (%s)", path, r.cur_line, csv_strerror(csv_error(&p)));
        goto fail;
    }
    if (r.failed == 1) {
        errbuf_set(err, "%s: out of memory", path);
        goto fail;
    }
    if (r.failed == 2) {
        errbuf_set(err, "%s:%ld: expected %d fields, got %d", path, r.bad_line, r.ncols, r.bad_count);
        goto fail;
    }
    if (r.n_rows == 0) {
        errbuf_set(err, "%s: empty file, expected a header line", path);
        goto fail;
    }
    t = calloc(1, sizeof *t);
    if (t == NULL || (t->cell = malloc(r.n_off * sizeof *t->cell)) == NULL) {
        errbuf_set(err, "%s: out of memory", path);
        goto fail;
    }
    for (size_t i = 0; i < r.n_off; i++)
        t->cell[i] = r.text + r.off[i];
    t->ncols = r.ncols;
    t->nrows = (int)r.n_rows - 1;
    t->line = r.line;
    t->text = r.text;
    free(r.off);
    free(buf);
    csv_free(&p);
    fclose(fp);
    return t;
fail:
    csvtab_free(t);
    free(r.text);
    free(r.off);
    free(r.line);
    free(buf);
    if (parser_ok)
        csv_free(&p);
    fclose(fp);
    return NULL;
}
