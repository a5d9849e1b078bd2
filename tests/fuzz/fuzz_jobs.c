/* fuzz_jobs: the job file of 'sweep --emit-jobs' (analysis/sweep.c).  The input is NUL-separated strings: the
 * first byte picks a sweep axis, the strings become its list, --run-args and the program's path; whatever is
 * accepted is written as a job file, which must hold exactly one line per combination, each line reading back
 * (as a POSIX shell splits it: bare words, single quotes, '\'' for a quote) as that combination's argv. */
#include <string.h>

#include "analysis/sweep.h"
#include "sim/runopt.h"
#include "tests/fuzz/fuzz.h"

/* Splits one job line as sh would for the quoting sweep writes: words[0..n) point into 'line' (rewritten in
 * place).  Returns the word count, or -1 for a line sh would read differently (an unclosed quote, a character
 * outside quotes that the shell treats specially). */
static int split_line(char **words, int max, char *line)
{
    static const char SAFE[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./:=,+@%";
    int n = 0;
    char *r = line;
    while (*r) {
        if (n == max)
            return -1;
        char *w = r, *start = r;
        while (*r && *r != ' ') {
            if (*r == '\'') {
                r++;
                while (*r && *r != '\'')
                    *w++ = *r++;
                if (*r != '\'')
                    return -1;
                r++;
            } else if (*r == '\\' && r[1] == '\'') {
                *w++ = '\'';
                r += 2;
            } else if (strchr(SAFE, *r) != NULL) {
                *w++ = *r++;
            } else {
                return -1;
            }
        }
        if (*r == ' ')
            r++;
        *w = '\0';
        words[n++] = start;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    char *buf = malloc(size + 1);
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    int order[RUNOPT_MAX], naxes = sweep_axes(order);
    const runopt *o = runopt_at(order[data[0] % naxes]);
    sweep_spec s;
    sweep_spec_init(&s);
    errbuf err = { "" };
    const char *bin = "switchsim";
    int nstr = 0;
    for (char *v = buf; v < buf + size - 1; v += strlen(v) + 1, nstr++) {
        if (nstr == 0) {
            bin = v;                          /* the program's path: anything a file name can be */
            continue;
        }
        errbuf e = { "" };
        if (nstr % 2 == 1)
            fuzz_need_message(sweep_spec_set(&s, runopt_sweep_name(o), v, &e) != 0, &e);
        else
            fuzz_need_message(sweep_spec_add_extra(&s, v, &e) != 0, &e);
    }
    if (*bin == '\0')
        bin = "switchsim";
    long n = sweep_count(&s);
    const char *path = fuzz_output("jobs");
    if (n <= 1000 && sweep_write_jobs(path, &s, bin, NULL, &err) == 0) {
        FILE *fp = fopen(path, "r");
        char *line = NULL;
        size_t cap = 0;
        long k = 0;
        ssize_t len;
        while (fp != NULL && (len = getline(&line, &cap, fp)) > 0) {
            if (line[len - 1] != '\n' || k >= n) {
                fprintf(stderr, "fuzz: job line %ld is not a line of its own (%ld combinations)\n", k + 1, n);
                abort();
            }
            line[len - 1] = '\0';
            const char *argv[SWEEP_ARGV_MAX];
            char *words[SWEEP_ARGV_MAX];
            char part[64];
            sweep_part_name(part, sizeof part, &s, k);
            int argc = sweep_argv(argv, &s, k, bin, part);
            int got = split_line(words, SWEEP_ARGV_MAX, line);
            if (got != argc) {
                fprintf(stderr, "fuzz: job line %ld has %d words, its run %d\n", k + 1, got, argc);
                abort();
            }
            for (int i = 0; i < argc; i++)
                if (strcmp(words[i], argv[i]) != 0) {
                    fprintf(stderr, "fuzz: job line %ld word %d reads '%s', not '%s'\n", k + 1, i, words[i], argv[i]);
                    abort();
                }
            k++;
        }
        free(line);
        if (fp != NULL)
            fclose(fp);
        if (k != n) {
            fprintf(stderr, "fuzz: %ld job lines for %ld combinations\n", k, n);
            abort();
        }
        unlink(path);
    } else if (n <= 1000) {
        fuzz_need_message(1, &err);
    }
    sweep_spec_fini(&s);
    free(buf);
    return 0;
}
