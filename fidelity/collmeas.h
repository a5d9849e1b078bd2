/* collmeas: a measured collective dataset (data/h200-collectives.csv, nccl-tests columns from
 * collectives.py), switchsim's time for each row ('switchsim collective' on the platform of the row's GPU
 * count), and the 'switchsim validate' section that scores the rows measured across links. */
#ifndef SWITCHSIM_COLLMEAS_H
#define SWITCHSIM_COLLMEAS_H

#include <stdio.h>

#include "sim/collbench.h"
#include "sim/common/errbuf.h"
#include "fidelity/validate.h"

typedef struct {
    int n;                  /* rows */
    collbench_op *op;       /* (n) all-to-all or all-reduce */
    int *gpus;              /* (n) ranks, one GPU each */
    double *bytes;          /* (n) bytes per rank */
    double *time_s;         /* (n) measured time of one collective, seconds; NAN when not measured */
    int *measured;          /* (n) 0: a planned row (empty time_us): predicted, not scored */
    char device[64];        /* the 'device' column of the first row */
} collmeas_set;

/* Sizes at or above this are bandwidth-bound, below it latency-bound: scored separately. */
#define COLLMEAS_LARGE_BYTES 1048576.0

/* Loads the columns 'op' (all-to-all, all-reduce, all-gather or reduce-scatter), 'gpus' (1 to
 * MEASURED_GPUS_MAX), 'bytes' (> 0), 'time_us' (> 0, or empty for a planned row) and 'device'.  Returns NULL
 * with "FILE:LINE: column 'time_us' must be a number > 0 or empty, got 'x'" and the like. */
collmeas_set *collmeas_load(const char *path, errbuf *err);
void collmeas_free(collmeas_set *s);   /* NULL is a no-op */

/* switchsim's time of every row with 2 or more GPUs (rows of one GPU cross no link: NAN): one collbench run
 * per (GPU count, op) over that group's sizes, on measured_platform(platform1, gpus), a rank per GPU, the
 * platform's own all-to-all algorithm, the hw network model (the default of run and collective).  Returns 0 or -1. */
int collmeas_predict(double *pred_s, const collmeas_set *s, const char *platform1, errbuf *err);

/* The validate section: every measured row across links (2 or more GPUs) added to 'r' as a measured row of group
 * "h200-collectives" (tolerance 30% at sizes >= COLLMEAS_LARGE_BYTES, 100% below: latency-bound); on 'table',
 * switchsim's predictions for the rows not measured yet, per op and GPU count, and the counts.  Returns 0, or -1
 * with err. */
int collmeas_validate(vreport *r, const char *path, const char *platform1, FILE *table, errbuf *err);

#endif
