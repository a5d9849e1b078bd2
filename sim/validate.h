/* validate: the report of built-in checks (model value vs reference, error, PASS/FAIL) that
 * 'switchsim validate' prints.  Modules add their checks through vreport_add; nothing here prints
 * except vreport_print. */
#ifndef SWITCHSIM_VALIDATE_H
#define SWITCHSIM_VALIDATE_H

#include <stdio.h>

typedef struct {
    char name[128];    /* what is checked, e.g. "matmul 128x128x128 bf16 = MXU cycles" */
    char unit[16];     /* unit of model and ref, e.g. "s", "x", "" */
    double model;      /* the value switchsim computes */
    double ref;        /* the reference (closed form, bound or published figure) */
    double lo, hi;     /* PASS when lo <= model <= hi */
    char source[64];   /* where ref comes from, e.g. "SOURCES.md 6.1 Table 3" */
} vcheck;

typedef struct vreport {
    vcheck *v;
    int n, cap;
} vreport;

void vreport_init(vreport *r);
void vreport_fini(vreport *r);
/* Appends a check; returns -1 only if memory runs out. */
int vreport_add(vreport *r, const char *name, const char *unit, double model, double ref,
                double lo, double hi, const char *source);
int vreport_failed(const vreport *r);   /* number of FAILs */
void vreport_print(const vreport *r, FILE *fp);

#endif
