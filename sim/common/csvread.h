/* csvread: a whole CSV file read into a table of strings with libcsv (RFC 4180 quoting, CRLF or LF),
 * with the line each row starts on, for loaders that quote 'file:line' in their messages.
 * It checks only the shape (every row as wide as the header); what the fields mean is the caller's. */
#ifndef SWITCHSIM_CSVREAD_H
#define SWITCHSIM_CSVREAD_H

#include <stddef.h>
#include <stdio.h>

#include "sim/common/errbuf.h"

typedef struct {
    int ncols;     /* fields per row, fixed by the header (row 0) */
    int nrows;     /* data rows, header excluded; 0 is allowed */
    char **cell;   /* (nrows + 1) x ncols NUL-terminated fields, row-major; row 0 is the header */
    long *line;    /* (nrows + 1) 1-based line on which each row's first field ends */
    char *text;    /* one buffer holding every field (the cells point into it) */
} csvtab;

/* Input caps, so an endless or binary file (/dev/zero) is refused instead of taking all memory: a line
 * (quoted line breaks split a field into several lines) and the whole file. */
#define CSVREAD_LINE_MAX ERRBUF_LINE_MAX     /* 1 MiB */
#define CSVREAD_BYTES_MAX (1L << 30)         /* 1 GiB: millions of rows */

/* Reads 'path'.  Blank lines are skipped (libcsv).  Returns NULL with 'err' set to one of
 *   "PATH: cannot open: REASON", "PATH: empty file, expected a header line",
 *   "PATH:LINE: line longer than 1048576 bytes (not a CSV file?)",
 *   "PATH:LINE: file is longer than 1073741824 bytes (the most a CSV here may have)",
 *   "PATH:LINE: malformed CSV (REASON)", "PATH:LINE: expected N fields, got M",
 *   "PATH: out of memory". */
csvtab *csvtab_read(const char *path, errbuf *err);
void csvtab_free(csvtab *t);   /* NULL is a no-op */
/* The index of the header's column 'name', or -1 when there is none. */
int csvtab_col(const csvtab *t, const char *name);

/* How csvread_feed reads a file into libcsv's callbacks (for loaders that keep their own rows). */
typedef struct {
    const char *path;                            /* for messages */
    size_t line_max, bytes_max;                  /* the longest line and the longest file refused beyond */
    const char *not_what;                        /* a line too long: "(not NOT_WHAT?)", e.g. "a CSV file" */
    const char *bytes_why;                       /* a file too long: what follows "file is longer than N bytes" */
    void (*on_field)(void *s, size_t len, void *data);   /* libcsv's callbacks and their state */
    void (*on_row)(int c, void *data);
    void *data;
    long *line;                                  /* in data: the 1-based line being fed, for the callbacks */
    const int *failed;                           /* in data: a callback sets it to stop the feed */
} csvread_feed;

/* Feeds the open file fp to a strict libcsv parser line by line (so that the callbacks know their line; a
 * UTF-8 byte-order mark before the first line is skipped), then ends the parse.  Returns 0 when all was fed
 * (a callback may still have failed at the end), 1 when a callback stopped it, or -1 with 'err' set to
 * "PATH:LINE: line longer than N bytes (not NOT_WHAT?)", "PATH:LINE: file is longer than N bytesBYTES_WHY",
 * "PATH:LINE: malformed CSV (REASON)", "PATH: read failed: REASON" or "PATH: out of memory". */
int csvread_feed_file(FILE *fp, const csvread_feed *f, errbuf *err);

/* Field 'col' of data row 'row' (0-based; row -1 is the header). */
static inline const char *csvtab_get(const csvtab *t, int row, int col)
{
    return t->cell[(size_t)(row + 1) * (size_t)t->ncols + (size_t)col];
}

#endif
