/* validate: the fidelity report that 'switchsim validate' prints.  Every row compares a switchsim number with
 * an independent one and carries one of three labels:
 *   measured     a published or committed measurement (its source cited), held out: no choice of the model
 *                was made by looking at it.  PASS when |model/ref - 1| <= tol.  A row whose source cannot be
 *                reconciled is 'excluded', and a row that measures again a configuration another row measured
 *                is a 'repeat': both are shown, neither gated nor counted in the error summary;
 *   bound        an independent lower bound (e.g. the torus bisection): PASS when model >= ref;
 *   calibration  a number a choice of the model was made by looking at (a fitted parameter, an accounting, an
 *                efficiency, a profile default): shown, never gated nor counted.
 * Every row also has a class, what it measures: a step on one device, a step on several, a collective, a
 * published TPU number, or a bound; the summary gives the accuracy class by class.
 * Self-checks of the model against its own formulas live in the Check suites, not here.  Modules add rows
 * through vreport_add; nothing here prints except vreport_print and vreport_write_csv. */
#ifndef SWITCHSIM_VALIDATE_H
#define SWITCHSIM_VALIDATE_H

#include <stdio.h>

#include "models/model.h"
#include "sim/common/errbuf.h"

typedef enum { VLABEL_MEASURED = 0, VLABEL_BOUND = 1, VLABEL_CALIBRATION = 2 } vlabel;
#define VLABEL_N 3

/* What a row measures.  A bound row is always VCLASS_BOUND. */
typedef enum {
    VCLASS_ONE_DEVICE = 0,      /* a training step on one GPU or chip: nothing crosses a network */
    VCLASS_MULTI_DEVICE = 1,    /* a training step on several devices */
    VCLASS_COLLECTIVE = 2,      /* one collective across links */
    VCLASS_TPU_PUBLISHED = 3,   /* a number published for TPUs (GShard) */
    VCLASS_BOUND = 4            /* an independent lower bound */
} vclass;
#define VCLASS_N 5

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
    int repeat;         /* measured: the same configuration as an earlier row (the note names it): counted once */
    vclass cls;         /* what the row measures */
    char source[64];    /* SOURCES.md key or dataset, e.g. "SOURCES 6.1 Table 3" */
    char note[320];     /* what the row's reader needs: an assumption, or why it is excluded */
} vcheck;

typedef struct vreport {
    vcheck *v;
    int n, cap;
    vclass cls;                 /* the class of the rows added next (vreport_set_class) */
    int planned[VCLASS_N];      /* rows planned but not measured yet, per class: predicted, not rows here */
} vreport;

void vreport_init(vreport *r);
void vreport_fini(vreport *r);
/* The class of the rows added from now on (a bound row is VCLASS_BOUND whatever this says); the default after
 * vreport_init is VCLASS_TPU_PUBLISHED. */
void vreport_set_class(vreport *r, vclass cls);
/* Appends a row (ref_min = ref_max = ref, not excluded, not a repeat, no note, the report's current class);
 * returns it so that the caller may set the rest, or NULL if memory runs out.  The pointer stays valid until the
 * next vreport_add. */
vcheck *vreport_add(vreport *r, vlabel label, const char *group, const char *name, const char *unit, double model,
                    double ref, double tol, const char *source);
double vcheck_error(const vcheck *c);      /* model / ref - 1 (NaN when ref is 0) */
/* "PASS" or "FAIL" (measured within tol, bound not violated), "EXCLUDED", "REPEAT", or "SHOWN" (calibration). */
const char *vcheck_status(const vcheck *c);
int vreport_failed(const vreport *r);      /* rows that FAIL: the exit status gates on this alone */

/* Per-label summary: rows, scored rows (measured neither excluded nor a repeat; bounds; calibration: none), mean
 * and max of |model/ref - 1| over the scored rows, and the row of the max. */
typedef struct {
    int rows, scored, excluded, repeats, failed;
    int calibration;  /* vreport_class_summary: the class's calibration rows (shown, not counted) */
    double mean_abs, max_abs;
    int worst;    /* index into r->v, -1 when none is scored */
} vsummary;
void vreport_summary(vsummary *s, const vreport *r, vlabel label, const char *group);   /* group NULL: all */
/* The same over the rows of one class, every label: rows counts all of them, scored the measured rows (or bounds)
 * that are scored, calibration the calibration rows. */
void vreport_class_summary(vsummary *s, const vreport *r, vclass cls);
/* "one-device steps", "multi-device steps", "collectives", "TPU published rows", "bounds" */
const char *vclass_name(vclass cls);

/* The table, the excluded rows' reasons, one summary line per label (and per measured group), and the accuracy
 * class by class (with the rows planned in each). */
void vreport_print(const vreport *r, FILE *fp);
/* The rows as CSV: label,class,group,name,unit,model,reference,reference_min,reference_max,error,tolerance,
 * status,source,note (the analysis/parity.gp input; class one of one-device, multi-device, collective,
 * tpu-published, bound). */
int vreport_write_csv(FILE *fp, const vreport *r);

/* The model FLOP/s per chip a published step time implies: 3 x forward FLOPs per sequence (model_flops_per_seq)
 * x sequences per batch (tokens_per_batch / enc_seq) / step_s / chips. */
double validate_implied_flops_per_chip(const model_cfg *m, double step_s, int chips);

/* Adds the GShard per-op efficiencies [SOURCES 6.1 Fig. 8] to the report as calibration rows (the MXU
 * efficiency was set against them): fidelity/cost_validate.c.  Returns 0, or -1 with 'err' if memory runs out. */
int cost_validate(vreport *r, errbuf *err);

/* The collectives' rows (fidelity/coll_validate.c): phased (4x4 to 32x32 chips) and direct (4x4, 8x8) uniform
 * all-to-alls against the bisection bound, and the all-to-all time growth from 32 to 2048 cores against GShard
 * Fig. 9 (a measured row), each simulation in its own child (collbench's driver). */
int coll_validate(vreport *r, errbuf *err);

/* The all-to-all times behind those checks, for 'validate --csv' and the scaling plot. */
#define COLL_SCALING_MAX 8
typedef struct {
    int n;
    int cores[COLL_SCALING_MAX];
    double phased_s[COLL_SCALING_MAX];
    double direct_s[COLL_SCALING_MAX];     /* NaN where direct was not simulated (beyond 8x8 chips) */
    double bisection_s[COLL_SCALING_MAX];  /* the bisection lower bound */
} coll_scaling;
/* coll_validate that also fills 'sc' (may be NULL). */
int coll_validate_scaling(vreport *r, coll_scaling *sc, errbuf *err);

#endif
