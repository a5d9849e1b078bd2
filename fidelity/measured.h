/* measured: a measured step-time dataset (data/h200-switch-steps.csv: the model columns of
 * models/models.csv plus what was measured), switchsim's prediction of each row, the calibration fit of the
 * GPU cost model's named parameters on the rows marked 'calibration', and the 'switchsim validate' section
 * that scores the other rows. */
#ifndef SWITCHSIM_MEASURED_H
#define SWITCHSIM_MEASURED_H

#include <stdio.h>

#include "models/model.h"
#include "sim/common/errbuf.h"
#include "sim/cost.h"
#include "fidelity/validate.h"

typedef struct {
    model_set *models;      /* row i's model columns: models->rows[i] */
    int n;                  /* rows */
    int *calibration;       /* (n) 1: the row may be fitted on; 0: held out, scored */
    int *gpus;              /* (n) GPUs the row ran on (column 'gpus'; 1 when the file has none) */
    int *measured;          /* (n) 0: a planned row with empty step columns: predicted, not scored */
    double *step_s;         /* (n) measured median step time, seconds (NAN when not measured) */
    double *min_s, *max_s;  /* (n) fastest and slowest timed step */
    char device[64];        /* the 'device' column of the first row */
} measured_set;

/* Loads a dataset: the model columns (as models/models.csv, checked the same way), and the columns 'split'
 * (calibration or holdout), 'step_ms', 'step_min_ms', 'step_max_ms' (numbers > 0, min <= median <= max) and
 * 'device'; an optional column 'gpus' (1 to MEASURED_GPUS_MAX; 1 when absent).  A holdout row whose three
 * step columns are all empty is a planned row, not yet measured (multi-GPU machines were not available, say): it is
 * predicted and shown, never scored.  At most a third of the rows may be calibration rows.  Returns NULL with
 * "FILE:LINE: column 'step_ms' must be a number > 0, got 'x'" and the like. */
measured_set *measured_load(const char *path, errbuf *err);
void measured_free(measured_set *s);   /* NULL is a no-op */

/* The largest GPU count a dataset row may give. */
#define MEASURED_GPUS_MAX 4096

/* The platform of a row run on 'gpus' GPUs: 'platform1' itself for one GPU, else the file of the same folder
 * whose name has "<gpus>gpu" where platform1's has "1gpu" (topologies/h200-1gpu.xml -> h200-8gpu.xml, written
 * by 'switchsim topology --chip h200 --gpus-per-node 8').  Returns 0, or -1 when platform1's name has no
 * "1gpu" or the result does not fit in 'n' bytes. */
int measured_platform(char *buf, size_t n, const char *platform1, int gpus, errbuf *err);

/* switchsim's step time for row i on 'platform' (one engine run in a child process): the row's top_k and
 * capacity factor, padded dispatch, the real router ('uniform' != 0: uniform routing, which gives a padded
 * step the same time, faster).  'chip' NULL uses the platform's numbers, else replaces them.  Returns 0 or -1. */
int measured_predict(double *step_s, const measured_set *s, int i, const char *platform, const cost_chip *chip,
                     int uniform, errbuf *err);
/* The same for a row on its own GPU count: the platform is measured_platform(platform1, gpus[i]) and the plan
 * data = gpus[i], model = 1 (experts split over the GPUs, as the measured expert-parallel program runs). */
int measured_predict_row(double *step_s, const measured_set *s, int i, const char *platform1,
                         const cost_chip *chip, int uniform, errbuf *err);

/* The parameters a calibration fits (GPU chip numbers, each a platform property of the same name). */
typedef struct {
    double mm_efficiency, hbm_efficiency, op_overhead_s, opt_bytes_per_param;
    double rms_log_err;     /* sqrt(mean over calibration rows of ln(predicted / measured)^2) */
    int evals;              /* objective evaluations (each runs every calibration row) */
} measured_fit;

/* Fits mm_efficiency, hbm_efficiency (both in (0, 1]), op_overhead_s and opt_bytes_per_param (> 0) to the
 * calibration rows only, minimising the sum of ln(predicted / measured)^2 (GSL Nelder-Mead simplex, started
 * from fixed values, not the platform's, so that the result depends on the dataset and on the platform's other
 * numbers only).  'progress' != 0 prints one line per iteration on stderr.  Returns 0 or -1. */
int measured_calibrate(measured_fit *fit, const measured_set *s, const char *platform, int progress,
                       errbuf *err);

/* The validate section for 'ndata' >= 1 datasets: every row predicted on its platform (measured_predict_row from
 * 'platform1') with the platform's own numbers (no fitting here) and added to 'r' under the dataset's group and
 * source: a held-out row as a measured row (scored within 15%), a calibration row as a calibration row (shown,
 * not scored), each with its fastest and slowest timed steps as the measurement's spread.  A row not measured
 * yet has no reference: its prediction is printed on 'table', not added.  On 'table' too, per dataset, the rank
 * correlation of the held-out rows and the ordering of pairs that differ in one setting (capacity factor, top-k,
 * experts, group size, batch, GPUs), each missed pair named.  Returns 0, or -1 with err when a row cannot run. */
typedef struct {
    const char *path;       /* the dataset's CSV */
    const char *label;      /* what the table calls it, e.g. "H200 expert-parallel" */
    const char *group;      /* the report's group of its rows, e.g. "h200-ep-steps" */
    const char *source;     /* the rows' source, e.g. "SOURCES 5.2 h200-ep-steps" */
} measured_source;
int measured_validate(vreport *r, const measured_source *src, int ndata, const char *platform1, FILE *table,
                      errbuf *err);

#endif
