/* errbuf: error messages filled by library code, plus the strict number parsers every loader uses. */
#include "sim/common/errbuf.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int errbuf_set(errbuf *err, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int errbuf_parse_double(const char *s, double *out)
{
    if (s == NULL || *s == '\0' || *s == ' ' || *s == '\t')
        return -1;
    if (strpbrk(s, "xX") != NULL)   /* strtod reads C99 hex floats ("0x1p3"); a number in a file or option is decimal */
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int errbuf_parse_long(const char *s, long *out)
{
    if (s == NULL || *s == '\0' || *s == ' ' || *s == '\t')
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

long errbuf_read_line(char **buf, size_t *cap, size_t max, FILE *fp)
{
    size_t len = 0;
    int ch;
    while ((ch = getc(fp)) != EOF) {
        if (len == max)
            return ERRBUF_LINE_TOO_LONG;
        if (len + 2 > *cap) {                /* room for this byte and the NUL */
            size_t c = *cap ? 2 * *cap : 256;
            if (c > max + 2)
                c = max + 2;
            char *b = realloc(*buf, c);
            if (b == NULL)
                return -1;
            *buf = b;
            *cap = c;
        }
        (*buf)[len++] = (char)ch;
        if (ch == '\n')
            break;
    }
    if (ferror(fp))
        return -1;
    if (len > 0)
        (*buf)[len] = '\0';
    return (long)len;
}
