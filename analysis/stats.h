/* stats: summary statistics over seeds (GSL gsl_stats_*) and the grouping of run rows by
 * configuration that 'switchsim summarize' prints.  No printing except into a caller's FILE. */
#ifndef SWITCHSIM_STATS_H
#define SWITCHSIM_STATS_H

#include <stddef.h>
#include <stdio.h>

#include "analysis/runrow.h"
#include "sim/common/errbuf.h"

typedef struct {
    size_t n;       /* values summarized, >= 1 */
    double mean;
    double sd;      /* sample standard deviation (divides by n-1); 0 when n == 1 */
    double min, max;
} stats_summary;

/* out <- mean, sd, min, max of x[0..n).  Returns -1 with "no values to summarize" when n == 0,
 * or "value N is not finite" for a NaN/inf input, leaving 'out' untouched. */
int stats_summarize(stats_summary *out, const double *x, size_t n, errbuf *err);

/* The metrics summarize reports, in this order. */
#define STATS_N_METRICS 4
extern const char *const STATS_METRIC_NAMES[STATS_N_METRICS]; /* step_time_s examples_per_s dropped_frac a2a_s */

typedef struct {
    runrow first;                        /* the group's first row: its config columns are the group's */
    int n;                               /* rows in the group (seeds) */
    stats_summary m[STATS_N_METRICS];    /* in STATS_METRIC_NAMES order */
} stats_group;

/* Groups rows[0..nrows) by runrow_same_config (all config columns but seed; scope/layer/phase too),
 * groups in order of first appearance, and summarizes each metric.  On success returns 0 with
 * *groups (free() it) and *ngroups; on failure -1 with 'err' set and outputs untouched. */
int stats_group_rows(stats_group **groups, int *ngroups, const runrow *rows, int nrows, errbuf *err);

/* Writes the groups as CSV: model,platform,plan ... then n_seeds and mean/sd/min/max of each metric
 * (%.9g).  Returns 0 or -1 on a write error. */
int stats_write_groups(FILE *fp, const stats_group *groups, int ngroups);

#endif
