/* validate: the fidelity report that 'switchsim validate' prints.  Every row compares a switchsim number with
 * an independent one and carries one of three labels:
 *   measured     a published or committed measurement (its source cited): PASS when |model/ref - 1| <= tol;
 *                a row whose source cannot be reconciled is 'excluded': shown with the reason in numbers,
 *                neither gated nor counted in the error summary;
 *   bound        an independent lower bound (e.g. the torus bisection): PASS when model >= ref;
 *   calibration  a number a parameter was fitted to: shown, never gated nor counted.
 * Self-checks of the model against its own formulas live in the Check suites, not here.  Modules add rows
 * through vreport_add; nothing here prints except vreport_print and vreport_write_csv. */
#ifndef SWITCHSIM_VALIDATE_H
#define SWITCHSIM_VALIDATE_H

#include <stdio.h>

#include "models/model.h"
#include "sim/common/errbuf.h"

typedef enum { VLABEL_MEASURED = 0, VLABEL_BOUND = 1, VLABEL_CALIBRATION = 2 } vlabel;
#define VLABEL_N 3

typedef struct {
    vlabel label;
    char group[32];     /* rows compared with the same source, e.g. "h200-steps", "gshard-table3" */
    char name[128];     /* what is compared, e.g. "gs-e8 step time" */
    char unit[16];      /* unit of model and ref, e.g. "s", "x", "" */
    double model;       /* the value switchsim computes */
    double ref;         /* the measurement, or the bound */
    double ref_min, ref_max;   /* the measurement's spread (fastest and slowest timed step); ref when one number */
    double tol;         /* measured: the stated tolerance on |model/ref - 1| */
    int excluded;       /* measured: the source cannot be reconciled (the note says why, in numbers) */
    char source[64];    /* SOURCES.md key or dataset, e.g. "SOURCES 6.1 Table 3" */
    char note[320];     /* what the row's reader needs: an assumption, or why it is excluded */
} vcheck;

typedef struct vreport {
    vcheck *v;
    int n, cap;
} vreport;

void vreport_init(vreport *r);
void vreport_fini(vreport *r);
/* Appends a row (ref_min = ref_max = ref, not excluded, no note); returns it so that the caller may set the
 * rest, or NULL if memory runs out.  The pointer stays valid until the next vreport_add. */
vcheck *vreport_add(vreport *r, vlabel label, const char *group, const char *name, const char *unit, double model,
                    double ref, double tol, const char *source);
double vcheck_error(const vcheck *c);      /* model / ref - 1 (NaN when ref is 0) */
/* "PASS" or "FAIL" (measured within tol, bound not violated), "EXCLUDED", or "SHOWN" (calibration). */
const char *vcheck_status(const vcheck *c);
int vreport_failed(const vreport *r);      /* rows that FAIL: the exit status gates on this alone */

/* Per-label summary: rows, scored rows (measured not excluded; bounds; calibration: none), mean and max of
 * |model/ref - 1| over the scored rows, and the row of the max. */
typedef struct {
    int rows, scored, excluded, failed;
    double mean_abs, max_abs;
    int worst;    /* index into r->v, -1 when none is scored */
} vsummary;
void vreport_summary(vsummary *s, const vreport *r, vlabel label, const char *group);   /* group NULL: all */

/* The table, the excluded rows' reasons and one summary line per label (and per measured group). */
void vreport_print(const vreport *r, FILE *fp);
/* The rows as CSV: label,group,name,unit,model,reference,reference_min,reference_max,error,tolerance,status,
 * source,note (the analysis/parity.gp input). */
int vreport_write_csv(FILE *fp, const vreport *r);

/* The model FLOP/s per chip a published step time implies: 3 x forward FLOPs per sequence (model_flops_per_seq)
 * x sequences per batch (tokens_per_batch / enc_seq) / step_s / chips. */
double validate_implied_flops_per_chip(const model_cfg *m, double step_s, int chips);

/* Adds the GShard per-op efficiencies [SOURCES 6.1 Fig. 8] to the report as calibration rows (the MXU
 * efficiency was set against them): fidelity/cost_validate.c.  Returns 0, or -1 with 'err' if memory runs out. */
int cost_validate(vreport *r, errbuf *err);

#endif
