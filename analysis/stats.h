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
#define STATS_N_METRICS 5
extern const char *const STATS_METRIC_NAMES[STATS_N_METRICS]; /* step_time_s examples_per_s dropped_frac a2a_s
                                                                 a2a_bytes_per_core */

typedef struct {
    runrow first;                        /* the group's first row: its config columns are the group's */
    int n;                               /* runs in the group (distinct seeds) */
    stats_summary m[STATS_N_METRICS];    /* in STATS_METRIC_NAMES order */
} stats_group;

/* Groups rows[0..nrows) by runrow_same_config (all config columns but seed; scope/layer/phase too), sorted by
 * configuration (runrow_sort: O(n log n)), and summarizes each metric over the group's runs.  A row that
 * repeats an earlier one (same configuration, seed and results: runrow_dedup) is counted once; *ndup (may be
 * NULL) gets how many were left out.  On success returns 0 with *groups (free() it) and *ngroups; on failure
 * -1 with 'err' set and outputs untouched: "rows I and J are one configuration and seed (S) with different
 * results (step_time_s A and B): rows of two versions of switchsim?" (I, J counted from 1 after the header), a
 * non-finite metric ("a2a_s of MODEL (top_k K, capacity_factor CF): value 2 is not finite"). */
int stats_group_rows(stats_group **groups, int *ngroups, int *ndup, const runrow *rows, int nrows, errbuf *err);

/* Writes the groups as CSV: every config column but seed (runrow_col_is_config, in the CSV's order), n_seeds,
 * then mean/sd/min/max of each metric (%.9g).  Returns 0 or -1 on a write error. */
int stats_write_groups(FILE *fp, const stats_group *groups, int ngroups);

/* Writes the groups as an aligned table for a reader: a '#' line with the config columns every group shares
 * ("# every group: model=switch-base platform=..."), then one line per group: the config columns that differ
 * between groups (left-aligned), n, and mean and sd of step time (s), all-to-all time (s) and all-to-all MB
 * (1e6 bytes) sent per core (right-aligned, 6 and 3 significant digits).  "(no rows)" for none.  Returns 0 or
 * -1 on a write error. */
int stats_write_table(FILE *fp, const stats_group *groups, int ngroups);

#endif
