/* stats: GSL summaries and grouping by configuration for 'summarize'. */
#include "analysis/stats.h"

#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const STATS_METRIC_NAMES[STATS_N_METRICS] = {
    "step_time_s", "examples_per_s", "dropped_frac", "a2a_s", "a2a_bytes_per_core",
};

static double metric(const runrow *r, int m)
{
    switch (m) {
    case 0: return r->step_time_s;
    case 1: return r->examples_per_s;
    case 2: return r->dropped_frac;
    case 3: return r->a2a_s;
    default: return r->a2a_bytes_per_core;
    }
}

int stats_summarize(stats_summary *out, const double *x, size_t n, errbuf *err)
{
    if (n == 0)
        return errbuf_set(err, "no values to summarize");
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return errbuf_set(err, "value %zu is not finite", i + 1);
    stats_summary s = { .n = n };
    s.mean = gsl_stats_mean(x, 1, n);
    s.sd = n > 1 ? gsl_stats_sd_m(x, 1, n, s.mean) : 0.0;   /* GSL divides by n-1: NaN for one value */
    gsl_stats_minmax(&s.min, &s.max, x, 1, n);
    *out = s;
    return 0;
}

/* Summarizes each metric over rows[idx[0..n)] into g->m. */
static int group_metrics(stats_group *g, double *x, const runrow *rows, const int *idx, int n, errbuf *err)
{
    for (int m = 0; m < STATS_N_METRICS; m++) {
        for (int i = 0; i < n; i++)
            x[i] = metric(&rows[idx[i]], m);
        errbuf e;
        if (stats_summarize(&g->m[m], x, (size_t)n, &e) != 0)
            return errbuf_set(err, "%s of %s (top_k %d, capacity_factor %.9g): %s", STATS_METRIC_NAMES[m],
                              g->first.model, g->first.top_k, g->first.capacity_factor, e.msg);
    }
    return 0;
}

int stats_group_rows(stats_group **groups, int *ngroups, int *ndup, const runrow *rows, int nrows, errbuf *err)
{
    size_t cnt = nrows > 0 ? (size_t)nrows : 1;
    stats_group *g = calloc(cnt, sizeof *g);
    int *order = malloc(cnt * sizeof *order);   /* (nrows) rows by configuration, then seed */
    int *idx = malloc(cnt * sizeof *idx);       /* (nrows) the kept rows of one group */
    double *x = malloc(cnt * sizeof *x);        /* (nrows) one metric of one group */
    unsigned char *keep = malloc(cnt);
    int ng = 0, ia = 0, ib = 0;
    long dup = -2;
    if (g == NULL || order == NULL || idx == NULL || x == NULL || keep == NULL
        || (dup = runrow_dedup(keep, &ia, &ib, rows, nrows)) == -2 || runrow_sort(order, rows, nrows) != 0) {
        errbuf_set(err, "out of memory");
        goto fail;
    }
    if (dup == -1) {
        errbuf_set(err, "rows %d and %d are one configuration and seed (%ld) with different results (step_time_s "
                   "%.9g and %.9g): rows of two versions of switchsim?", ia + 1, ib + 1, rows[ia].seed,
                   rows[ia].step_time_s, rows[ib].step_time_s);
        goto fail;
    }
    for (int s = 0; s < nrows;) {               /* one group: a run of equal configurations in 'order' */
        int e = s, n = 0;
        while (e < nrows && runrow_same_config(&rows[order[s]], &rows[order[e]]))
            e++;
        for (int i = s; i < e; i++)
            if (keep[order[i]])
                idx[n++] = order[i];
        g[ng].first = rows[idx[0]];
        g[ng].n = n;
        if (group_metrics(&g[ng], x, rows, idx, n, err) != 0)
            goto fail;
        ng++;
        s = e;
    }
    free(order);
    free(idx);
    free(x);
    free(keep);
    *groups = g;
    *ngroups = ng;
    if (ndup != NULL)
        *ndup = (int)dup;
    return 0;
fail:
    free(g);
    free(order);
    free(idx);
    free(x);
    free(keep);
    return -1;
}

/* Strings in this CSV never need quoting except a platform path with a comma: quote as runrow does. */
static void put_str(FILE *fp, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', fp);
        fputc(*p, fp);
    }
    fputc('"', fp);
}

int stats_write_groups(FILE *fp, const stats_group *groups, int ngroups)
{
    for (int c = 0; runrow_col_name(c) != NULL; c++)
        if (runrow_col_is_config(c))
            fprintf(fp, "%s,", runrow_col_name(c));
    fputs("n_seeds", fp);
    for (int m = 0; m < STATS_N_METRICS; m++)
        fprintf(fp, ",%s_mean,%s_sd,%s_min,%s_max", STATS_METRIC_NAMES[m], STATS_METRIC_NAMES[m],
                STATS_METRIC_NAMES[m], STATS_METRIC_NAMES[m]);
    fputc('\n', fp);
    for (int k = 0; k < ngroups; k++) {
        char v[512];
        for (int c = 0; runrow_col_name(c) != NULL; c++)
            if (runrow_col_is_config(c) && runrow_col_format(v, sizeof v, &groups[k].first, runrow_col_name(c)) == 0) {
                put_str(fp, v);
                fputc(',', fp);
            }
        fprintf(fp, "%d", groups[k].n);
        for (int m = 0; m < STATS_N_METRICS; m++) {
            const stats_summary *s = &groups[k].m[m];
            fprintf(fp, ",%.9g,%.9g,%.9g,%.9g", s->mean, s->sd, s->min, s->max);
        }
        fputc('\n', fp);
    }
    return ferror(fp) ? -1 : 0;
}

/* 1 when config column c has more than one value among the groups. */
static int col_differs(const stats_group *g, int ng, int c)
{
    char a[512], b[512];
    if (runrow_col_format(a, sizeof a, &g[0].first, runrow_col_name(c)) != 0)
        return 0;
    for (int k = 1; k < ng; k++)
        if (runrow_col_format(b, sizeof b, &g[k].first, runrow_col_name(c)) == 0 && strcmp(a, b) != 0)
            return 1;
    return 0;
}

int stats_write_table(FILE *fp, const stats_group *g, int ng)
{
    static const char *const STAT_HEAD[] = { "n", "step_s", "sd", "a2a_s", "sd", "a2a_MB/core", "sd" };
    enum { NSTAT = 7 };
    int cols[64], ncfg = 0;
    if (ng == 0) {
        fputs("(no rows)\n", fp);
        return ferror(fp) ? -1 : 0;
    }
    fputs("#", fp);                                   /* what every group shares, on one line */
    int shared = 0;
    for (int c = 0; runrow_col_name(c) != NULL; c++) {
        if (!runrow_col_is_config(c))
            continue;
        if (col_differs(g, ng, c)) {
            if (ncfg < 64)
                cols[ncfg++] = c;
            continue;
        }
        char v[512];
        if (runrow_col_format(v, sizeof v, &g[0].first, runrow_col_name(c)) == 0)
            fprintf(fp, "%s %s=%s", shared++ ? "" : " every group:", runrow_col_name(c), v);
    }
    fputc('\n', fp);
    int nc = ncfg + NSTAT, nr = ng + 1;
    char *buf = malloc((size_t)nr * (size_t)nc * 64);
    int *width = calloc((size_t)nc, sizeof *width);
    if (buf == NULL || width == NULL) {
        free(buf);
        free(width);
        return -1;
    }
#define CELL(r, c) (buf + ((size_t)(r) * (size_t)nc + (size_t)(c)) * 64)
    for (int j = 0; j < nc; j++)
        snprintf(CELL(0, j), 64, "%s", j < ncfg ? runrow_col_name(cols[j]) : STAT_HEAD[j - ncfg]);
    for (int k = 0; k < ng; k++) {
        char v[512];
        for (int j = 0; j < ncfg; j++) {
            if (runrow_col_format(v, sizeof v, &g[k].first, runrow_col_name(cols[j])) != 0)
                v[0] = '\0';
            snprintf(CELL(k + 1, j), 64, "%s", v);
        }
        const stats_summary *m = g[k].m;
        char *c = CELL(k + 1, ncfg);
        snprintf(c, 64, "%d", g[k].n);
        snprintf(c + 64, 64, "%.6g", m[0].mean);
        snprintf(c + 128, 64, "%.3g", m[0].sd);
        snprintf(c + 192, 64, "%.6g", m[3].mean);
        snprintf(c + 256, 64, "%.3g", m[3].sd);
        snprintf(c + 320, 64, "%.6g", m[4].mean / 1e6);
        snprintf(c + 384, 64, "%.3g", m[4].sd / 1e6);
    }
    for (int r = 0; r < nr; r++)
        for (int j = 0; j < nc; j++)
            if ((int)strlen(CELL(r, j)) > width[j])
                width[j] = (int)strlen(CELL(r, j));
    for (int r = 0; r < nr; r++) {
        for (int j = 0; j < nc; j++) {
            const char *sep = j == 0 ? "" : "  ";
            if (j >= ncfg)                            /* the statistics right-aligned, the configuration left */
                fprintf(fp, "%s%*s", sep, width[j], CELL(r, j));
            else
                fprintf(fp, "%s%-*s", sep, width[j], CELL(r, j));
        }
        fputc('\n', fp);
    }
#undef CELL
    free(buf);
    free(width);
    return ferror(fp) ? -1 : 0;
}
