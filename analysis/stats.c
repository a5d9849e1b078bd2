/* stats: GSL summaries and grouping by configuration for 'summarize'. */
#include "analysis/stats.h"

#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const STATS_METRIC_NAMES[STATS_N_METRICS] = {
    "step_time_s", "examples_per_s", "dropped_frac", "a2a_s",
};

static double metric(const runrow *r, int m)
{
    switch (m) {
    case 0: return r->step_time_s;
    case 1: return r->examples_per_s;
    case 2: return r->dropped_frac;
    default: return r->a2a_s;
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

int stats_group_rows(stats_group **groups, int *ngroups, const runrow *rows, int nrows, errbuf *err)
{
    stats_group *g = NULL;
    int *of = NULL;            /* (nrows) group of each row */
    double *x = NULL;          /* (nrows) one metric of one group */
    int ng = 0;
    size_t cnt = nrows > 0 ? (size_t)nrows : 1;
    g = calloc(cnt, sizeof *g);
    of = malloc(cnt * sizeof *of);
    x = malloc(cnt * sizeof *x);
    if (g == NULL || of == NULL || x == NULL) {
        errbuf_set(err, "out of memory");
        goto fail;
    }
    for (int i = 0; i < nrows; i++) {      /* quadratic in groups: sweeps have hundreds, not millions */
        int k = 0;
        while (k < ng && !runrow_same_config(&g[k].first, &rows[i]))
            k++;
        if (k == ng)
            g[ng++].first = rows[i];
        g[k].n++;
        of[i] = k;
    }
    for (int k = 0; k < ng; k++)
        for (int m = 0; m < STATS_N_METRICS; m++) {
            size_t n = 0;
            for (int i = 0; i < nrows; i++)
                if (of[i] == k)
                    x[n++] = metric(&rows[i], m);
            errbuf e;
            if (stats_summarize(&g[k].m[m], x, n, &e) != 0) {
                errbuf_set(err, "%s of %s (top_k %d, capacity_factor %.9g): %s", STATS_METRIC_NAMES[m],
                           g[k].first.model, g[k].first.top_k, g[k].first.capacity_factor, e.msg);
                goto fail;
            }
        }
    free(of);
    free(x);
    *groups = g;
    *ngroups = ng;
    return 0;
fail:
    free(g);
    free(of);
    free(x);
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
    fputs("model,platform,cores,data,model_par,top_k,capacity_factor,routing,dispatch,a2a,scope,layer,phase,"
          "n_seeds", fp);
    for (int m = 0; m < STATS_N_METRICS; m++)
        fprintf(fp, ",%s_mean,%s_sd,%s_min,%s_max", STATS_METRIC_NAMES[m], STATS_METRIC_NAMES[m],
                STATS_METRIC_NAMES[m], STATS_METRIC_NAMES[m]);
    fputc('\n', fp);
    for (int k = 0; k < ngroups; k++) {
        const runrow *r = &groups[k].first;
        put_str(fp, r->model);
        fputc(',', fp);
        put_str(fp, r->platform);
        fprintf(fp, ",%d,%d,%d,%d,%.9g,", r->cores, r->data, r->model_par, r->top_k, r->capacity_factor);
        put_str(fp, r->routing);
        fputc(',', fp);
        put_str(fp, r->dispatch);
        fputc(',', fp);
        put_str(fp, r->a2a);
        fputc(',', fp);
        put_str(fp, r->scope);
        fprintf(fp, ",%d,", r->layer);
        put_str(fp, r->phase);
        fprintf(fp, ",%d", groups[k].n);
        for (int m = 0; m < STATS_N_METRICS; m++) {
            const stats_summary *s = &groups[k].m[m];
            fprintf(fp, ",%.9g,%.9g,%.9g,%.9g", s->mean, s->sd, s->min, s->max);
        }
        fputc('\n', fp);
    }
    return ferror(fp) ? -1 : 0;
}
