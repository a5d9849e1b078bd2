/* validate: collects, summarises, prints and writes the fidelity report's rows. */
#include "fidelity/validate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const LABEL[VLABEL_N] = { "measured", "bound", "calibration" };
static const char *const CLASS_NAME[VCLASS_N] = { "one-device steps", "multi-device steps", "collectives",
                                                  "TPU published rows", "bounds" };
static const char *const CLASS_KEY[VCLASS_N] = { "one-device", "multi-device", "collective", "tpu-published",
                                                 "bound" };

void vreport_init(vreport *r)
{
    memset(r, 0, sizeof *r);
    r->v = NULL;
    r->cls = VCLASS_TPU_PUBLISHED;
}

void vreport_set_class(vreport *r, vclass cls)
{
    r->cls = cls;
}

const char *vclass_name(vclass cls)
{
    return (unsigned)cls < VCLASS_N ? CLASS_NAME[cls] : "?";
}

void vreport_fini(vreport *r)
{
    free(r->v);
    vreport_init(r);
}

vcheck *vreport_add(vreport *r, vlabel label, const char *group, const char *name, const char *unit, double model,
                    double ref, double tol, const char *source)
{
    if (r->n == r->cap) {
        int cap = r->cap ? 2 * r->cap : 16;
        vcheck *v = realloc(r->v, (size_t)cap * sizeof *v);
        if (v == NULL)
            return NULL;
        r->v = v;
        r->cap = cap;
    }
    vcheck *c = &r->v[r->n++];
    memset(c, 0, sizeof *c);
    c->label = label;
    c->cls = label == VLABEL_BOUND ? VCLASS_BOUND : r->cls;
    snprintf(c->group, sizeof c->group, "%s", group);
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->unit, sizeof c->unit, "%s", unit);
    snprintf(c->source, sizeof c->source, "%s", source);
    c->model = model;
    c->ref = c->ref_min = c->ref_max = ref;
    c->tol = tol;
    return c;
}

double vcheck_error(const vcheck *c)
{
    return c->ref != 0.0 ? c->model / c->ref - 1.0 : (double)NAN;
}

/* 1 PASS, 0 FAIL, -1 not gated */
static int vcheck_pass(const vcheck *c)
{
    if (c->label == VLABEL_CALIBRATION || (c->label == VLABEL_MEASURED && (c->excluded || c->repeat)))
        return -1;
    if (c->label == VLABEL_BOUND)
        return c->model >= c->ref * (1.0 - 1e-9);   /* NaN fails; 1e-9: SimGrid's clock precision */
    return fabs(vcheck_error(c)) <= c->tol;          /* NaN fails */
}

const char *vcheck_status(const vcheck *c)
{
    int p = vcheck_pass(c);
    if (p < 0)
        return c->label == VLABEL_CALIBRATION ? "SHOWN" : c->excluded ? "EXCLUDED" : "REPEAT";
    return p ? "PASS" : "FAIL";
}

int vreport_failed(const vreport *r)
{
    int n = 0;
    for (int i = 0; i < r->n; i++)
        n += vcheck_pass(&r->v[i]) == 0;
    return n;
}

/* Adds row i to the summary: counted in rows; scored unless it is a calibration row, excluded or a repeat. */
static void summary_add(vsummary *s, double *sum, const vreport *r, int i)
{
    const vcheck *c = &r->v[i];
    s->rows++;
    int p = vcheck_pass(c);
    if (p < 0) {
        s->excluded += c->label == VLABEL_MEASURED && c->excluded;
        s->repeats += c->label == VLABEL_MEASURED && !c->excluded && c->repeat;
        s->calibration += c->label == VLABEL_CALIBRATION;
        return;
    }
    s->failed += p == 0;
    s->scored++;
    double e = fabs(vcheck_error(c));
    *sum += e;
    if (s->worst < 0 || e > s->max_abs || isnan(e)) {
        s->max_abs = e;
        s->worst = i;
    }
}

void vreport_summary(vsummary *s, const vreport *r, vlabel label, const char *group)
{
    memset(s, 0, sizeof *s);
    s->worst = -1;
    double sum = 0.0;
    for (int i = 0; i < r->n; i++)
        if (r->v[i].label == label && (group == NULL || strcmp(group, r->v[i].group) == 0))
            summary_add(s, &sum, r, i);
    s->mean_abs = s->scored ? sum / s->scored : (double)NAN;
}

void vreport_class_summary(vsummary *s, const vreport *r, vclass cls)
{
    memset(s, 0, sizeof *s);
    s->worst = -1;
    double sum = 0.0;
    for (int i = 0; i < r->n; i++)
        if (r->v[i].cls == cls)
            summary_add(s, &sum, r, i);
    s->mean_abs = s->scored ? sum / s->scored : (double)NAN;
}

static void print_criterion(char *buf, size_t n, const vcheck *c)
{
    if (c->label == VLABEL_BOUND)
        snprintf(buf, n, ">= bound");
    else if (c->label == VLABEL_CALIBRATION)
        snprintf(buf, n, "fitted on");
    else
        snprintf(buf, n, "+/-%.0f%%", 100.0 * c->tol);
}

/* The accuracy class by class: the scored rows of each (held-out measured rows, a repeat counted once; bounds),
 * its calibration rows and its rows planned but not measured yet. */
static void vreport_print_classes(const vreport *r, FILE *fp)
{
    fprintf(fp, "accuracy per class (scored: held-out measured rows, each configuration once; bounds):\n");
    for (int k = 0; k < VCLASS_N; k++) {
        vsummary s;
        vreport_class_summary(&s, r, (vclass)k);
        fprintf(fp, "  %-19s %3d scored", CLASS_NAME[k], s.scored);
        if (s.scored && k == VCLASS_BOUND)
            fprintf(fp, ", mean %.1f%% above the bound, max %.1f%% (%s)", 100.0 * s.mean_abs, 100.0 * s.max_abs,
                    r->v[s.worst].name);
        else if (s.scored)
            fprintf(fp, ", mean |error| %.1f%%, max %.1f%% (%s)", 100.0 * s.mean_abs, 100.0 * s.max_abs,
                    r->v[s.worst].name);
        if (s.calibration)
            fprintf(fp, "; %d calibration %s, not counted", s.calibration, s.calibration == 1 ? "row" : "rows");
        if (s.excluded)
            fprintf(fp, "; %d excluded", s.excluded);
        if (s.repeats)
            fprintf(fp, "; %d %s", s.repeats, s.repeats == 1 ? "repeat" : "repeats");
        if (r->planned[k])
            fprintf(fp, "; %d planned, not measured yet", r->planned[k]);
        fprintf(fp, "\n");
    }
}

void vreport_print(const vreport *r, FILE *fp)
{
    fprintf(fp, "%-11s %-58s %11s %11s %8s %-9s %-8s %s\n", "label", "row", "switchsim", "reference", "error",
            "tolerance", "status", "source");
    for (int i = 0; i < r->n; i++) {
        const vcheck *c = &r->v[i];
        char crit[32], row[160];
        print_criterion(crit, sizeof crit, c);
        snprintf(row, sizeof row, "%s%s%s%s", c->name, c->unit[0] ? " (" : "", c->unit, c->unit[0] ? ")" : "");
        fprintf(fp, "%-11s %-58s %11.4g %11.4g %+7.1f%% %-9s %-8s %s\n", LABEL[c->label], row, c->model, c->ref,
                100.0 * vcheck_error(c), crit, vcheck_status(c), c->source);
        if (c->note[0])
            fprintf(fp, "%11s   %s\n", "", c->note);
    }
    fprintf(fp, "summary (error = switchsim / reference - 1):\n");
    for (int l = 0; l < VLABEL_N; l++) {
        vsummary s;
        vreport_summary(&s, r, (vlabel)l, NULL);
        if (s.rows == 0)
            continue;
        if (l == VLABEL_CALIBRATION) {
            fprintf(fp, "  calibration: %d %s shown, not counted (a choice of the model was made by looking at them)\n",
                    s.rows, s.rows == 1 ? "row" : "rows");
            continue;
        }
        fprintf(fp, "  %s: %d %s", LABEL[l], s.rows, s.rows == 1 ? "row" : "rows");
        if (s.scored && l == VLABEL_BOUND)
            fprintf(fp, ", mean %.1f%% above the bound, max %.1f%% (%s)", 100.0 * s.mean_abs, 100.0 * s.max_abs,
                    r->v[s.worst].name);
        else if (s.scored)
            fprintf(fp, ", scored: mean |error| %.1f%%, max %.1f%% (%s)", 100.0 * s.mean_abs, 100.0 * s.max_abs,
                    r->v[s.worst].name);
        if (s.excluded)
            fprintf(fp, "; %d excluded (source cannot be reconciled: see the row's note)", s.excluded);
        if (s.repeats)
            fprintf(fp, "; %d %s (a configuration measured twice counts once)", s.repeats,
                    s.repeats == 1 ? "repeat" : "repeats");
        fprintf(fp, "; %d %s\n", s.failed, l == VLABEL_BOUND ? "violated" : "outside tolerance");
        if (l != VLABEL_MEASURED)
            continue;
        for (int i = 0; i < r->n; i++) {   /* per group, in order of first appearance */
            const vcheck *c = &r->v[i];
            int seen = 0;
            for (int j = 0; j < i && !seen; j++)
                seen = r->v[j].label == VLABEL_MEASURED && strcmp(r->v[j].group, c->group) == 0;
            if (c->label != VLABEL_MEASURED || seen)
                continue;
            vsummary g;
            vreport_summary(&g, r, VLABEL_MEASURED, c->group);
            fprintf(fp, "    %-16s %2d rows", c->group, g.rows);
            if (g.scored)
                fprintf(fp, ", mean |error| %5.1f%%, max %5.1f%%", 100.0 * g.mean_abs, 100.0 * g.max_abs);
            if (g.excluded)
                fprintf(fp, ", %d excluded", g.excluded);
            if (g.repeats)
                fprintf(fp, ", %d %s", g.repeats, g.repeats == 1 ? "repeat" : "repeats");
            fprintf(fp, "\n");
        }
    }
    vreport_print_classes(r, fp);
    fprintf(fp, "%d rows, %d failed\n", r->n, vreport_failed(r));
}

/* A CSV field: quoted when it holds a comma, a quote or a newline. */
static void csv_field(FILE *fp, const char *s)
{
    if (strpbrk(s, ",\"\n") == NULL) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

int vreport_write_csv(FILE *fp, const vreport *r)
{
    fprintf(fp, "label,class,group,name,unit,model,reference,reference_min,reference_max,error,tolerance,status,"
            "source,note\n");
    for (int i = 0; i < r->n; i++) {
        const vcheck *c = &r->v[i];
        fprintf(fp, "%s,%s,", LABEL[c->label], CLASS_KEY[c->cls]);
        csv_field(fp, c->group);
        fputc(',', fp);
        csv_field(fp, c->name);
        fputc(',', fp);
        csv_field(fp, c->unit);
        fprintf(fp, ",%.9g,%.9g,%.9g,%.9g,%.6f,", c->model, c->ref, c->ref_min, c->ref_max, vcheck_error(c));
        if (c->label == VLABEL_MEASURED)
            fprintf(fp, "%.6g", c->tol);
        fprintf(fp, ",%s,", vcheck_status(c));
        csv_field(fp, c->source);
        fputc(',', fp);
        csv_field(fp, c->note);
        fputc('\n', fp);
    }
    return ferror(fp) ? -1 : 0;
}

double validate_implied_flops_per_chip(const model_cfg *m, double step_s, int chips)
{
    double sequences = (double)m->tokens_per_batch / m->enc_seq;
    return 3.0 * model_flops_per_seq(m) * sequences / step_s / chips;
}
