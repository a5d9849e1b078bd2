/* cliopt: one-line messages for a command line getopt_long cannot parse, with the nearest option. */
#include "sim/cli/cliopt.h"

#include <string.h>

#define NAME_MAX_LEN 64

/* Edits between a[0..na) and b[0..nb) (optimal string alignment: insert, delete, replace, swap neighbours). */
static int edits(const char *a, size_t na, const char *b, size_t nb)
{
    int d[NAME_MAX_LEN + 1][NAME_MAX_LEN + 1];
    if (na > NAME_MAX_LEN || nb > NAME_MAX_LEN)
        return NAME_MAX_LEN;
    for (size_t i = 0; i <= na; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= nb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= na; i++)
        for (size_t j = 1; j <= nb; j++) {
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[na][nb];
}

const char *cliopt_nearest(const struct option *longopts, const char *arg)
{
    while (*arg == '-')
        arg++;
    size_t na = strcspn(arg, "=");
    const char *best = NULL;
    int best_d = NAME_MAX_LEN + 1;
    for (const struct option *o = longopts; o->name != NULL; o++) {
        size_t nb = strlen(o->name);
        int d = edits(arg, na, o->name, nb), longer = (int)(na > nb ? na : nb);
        int limit = longer / 3 > 1 ? longer / 3 : 1;
        if (d <= limit && d < best_d) {
            best = o->name;
            best_d = d;
        }
    }
    return best;
}

int cliopt_bad_option(FILE *fp, const char *cmd, const struct option *longopts, int c, const char *opt)
{
    if (c == ':') {
        fprintf(fp, "switchsim: error: %s: option '%s' needs a value (switchsim %s --help lists the options)\n", cmd,
                opt, cmd);
        return 2;
    }
    const char *near = strncmp(opt, "--", 2) == 0 ? cliopt_nearest(longopts, opt) : NULL;
    fprintf(fp, "switchsim: error: %s: unknown option '%.*s'", cmd, (int)strcspn(opt, "="), opt);
    if (near != NULL)
        fprintf(fp, "; did you mean --%s?", near);
    fprintf(fp, " (switchsim %s --help lists the options)\n", cmd);
    return 2;
}
