/* errbuf: the caller-owned error message buffer that library code fills instead of printing or exiting.
 * A libc-only leaf: any module in any folder may include it. */
#ifndef SWITCHSIM_ERRBUF_H
#define SWITCHSIM_ERRBUF_H

#define ERRBUF_MSG_MAX 512

typedef struct {
    char msg[ERRBUF_MSG_MAX];   /* one line, no trailing newline; "" when no error */
} errbuf;

/* Formats the message into 'err' (truncating if needed; 'err' may be NULL) and returns -1,
 * so a failing function can end with 'return errbuf_set(err, ...);'. */
int errbuf_set(errbuf *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Strict number parsing (SimGrid xbt_str_parse_*): the whole string must be one number, no
 * leading/trailing junk, no overflow, decimal only (no hex float; a double must be finite).
 * Return 0 and store into *out, or -1 leaving *out untouched. */
int errbuf_parse_double(const char *s, double *out);
int errbuf_parse_long(const char *s, long *out);

/* Bounded line reading for every loader, so an endless or binary input (/dev/zero, a FIFO) cannot take
 * all memory: reads one line, '\n' included, into *buf (grown as getline does; free() it).  Returns its
 * length, 0 at end of file, -1 on a read error, or ERRBUF_LINE_TOO_LONG when more than 'max' bytes come
 * before a '\n' (the bytes read so far are dropped). */
#include <stdio.h>
#define ERRBUF_LINE_TOO_LONG (-2L)
#define ERRBUF_LINE_MAX (1L << 20)          /* the default cap: 1 MiB, far beyond any line we read */
long errbuf_read_line(char **buf, size_t *cap, size_t max, FILE *fp);

#endif
