/* coll_validate: the all-to-all rows of 'switchsim validate': phased and direct uniform all-to-alls against the
 * bisection bound, and their growth with the cores against GShard Fig. 9, each simulated by the collective
 * benchmark's driver (sim/collbench.h) in a child. */
#include "fidelity/validate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_fit.h>

#include "sim/collbench.h"
#include "sim/collectives.h"
#include "sim/netmodel.h"
#include "sim/simproc.h"
#include "topologies/torus.h"

/* The chip of the checks' platforms: its preset's link bandwidth and per-hop latency (topologies/chip.c). */
#define COLL_V_CHIP "tpuv3"
/* Bytes each core sends in one all-to-all: GShard Fig. 9 used 8 MB or 32 MB per partition [SOURCES 6.1]. */
#define COLL_V_BYTES_PER_CORE (8.0 * 1024 * 1024)

/* ---------------------------------------------------------------------------------------------------------- */
/* validate */

/* The chip preset the validation tori are built of. */
static chip_spec coll_v_chip(void)
{
    chip_spec c;
    if (chip_preset(&c, COLL_V_CHIP) != 0)
        memset(&c, 0, sizeof c);
    return c;
}

/* Uniform chip byte matrix for S bytes per core sent evenly to every core (itself included): a chip pair
 * carries cores^2 * S / P (P = all cores), the diagonal stays on chip. */
static double *coll_v_uniform(int nchips, double S)
{
    double *b = malloc((size_t)nchips * (size_t)nchips * sizeof *b);
    if (b == NULL)
        return NULL;
    double P = (double)nchips * coll_v_chip().cores_per_chip;
    double pair = (double)coll_v_chip().cores_per_chip * coll_v_chip().cores_per_chip * S / P;
    for (size_t i = 0; i < (size_t)nchips * (size_t)nchips; i++)
        b[i] = pair;
    return b;
}

/* One uniform all-to-all on a k x k TPUv3 torus in a child; out as collbench_sim_run's. */
static int coll_v_run(const char *dir, int k, coll_a2a_algo algo, int route_bound, double *out, errbuf *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s/torus%dx%d.xml", dir, k, k);
    const int dims[2] = { k, k }, wrap[2] = { 1, 1 };
    if (access(path, R_OK) != 0 && collbench_platform_write(path, 2, dims, wrap, coll_v_chip().link_Bps,
                                                    coll_v_chip().link_lat_s, err) != 0)
        return -1;
    double *b = coll_v_uniform(k * k, COLL_V_BYTES_PER_CORE);
    if (b == NULL)
        return errbuf_set(err, "collectives: out of memory for a %dx%d byte matrix", k * k, k * k);
    collbench_sim c = { .platform = path, .ndims = 2, .dims = { k, k, 1 }, .wrap = { 1, 1, 0 }, .bytes = b,
                       .algo = algo, .reps = 1, .route_bound = route_bound, .network = NETMODEL_HW };
    int rc = simproc_run(collbench_sim_run, &c, out, COLLBENCH_SIM_NOUT(1), err);
    free(b);
    return rc;
}

/* Adds a row; 'tol' only for measured rows. */
static int coll_v_add(vreport *r, errbuf *err, vlabel label, const char *group, const char *name, const char *unit,
                      double model, double ref, double tol, const char *source, const char *note)
{
    vcheck *c = vreport_add(r, label, group, name, unit, model, ref, tol, source);
    if (c == NULL)
        return errbuf_set(err, "validate: out of memory");
    snprintf(c->note, sizeof c->note, "%s", note);
    return 0;
}

/* GShard Fig. 9's all-to-all time ratio is read from its text; its partitions' bytes (8 or 32 MB) are ours to
 * choose.  A measured row within 50% passes: the latency per hop and LV08's flow factors are assumptions. */
#define COLL_V_FIG9_TOL 0.5

int coll_validate(vreport *r, errbuf *err)
{
    return coll_validate_scaling(r, NULL, err);
}

int coll_validate_scaling(vreport *r, coll_scaling *sc, errbuf *err)
{
    char dir[] = "/tmp/switchsim-coll-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return errbuf_set(err, "validate: cannot make a temp directory: %s", strerror(errno));
    static const int K[] = { 4, 8, 16, 32 };
    enum { NK = sizeof K / sizeof K[0] };
    double lx[NK], ly[NK];
    int rc = -1;
    char name[128];
    const double S = COLL_V_BYTES_PER_CORE;
    for (int i = 0; i < NK; i++) {
        int k = K[i];
        double dout[COLLBENCH_SIM_NOUT(1)], pout[COLLBENCH_SIM_NOUT(1)];
        if (coll_v_run(dir, k, COLL_A2A_PHASED, 0, pout, err) != 0)
            goto done;
        double B = pout[COLLBENCH_SIM_LINK_BPS];
        double t_p = pout[COLLBENCH_SIM_T0];
        /* bisection bound of a k x k torus, S_chip = cores per chip x S bytes sent per chip: S_chip k / (8 B) */
        double bis = coll_v_chip().cores_per_chip * S * k / (8.0 * B);
        lx[i] = log((double)k * k * coll_v_chip().cores_per_chip);
        ly[i] = log(t_p);
        if (sc != NULL && i < COLL_SCALING_MAX) {
            sc->cores[i] = k * k * coll_v_chip().cores_per_chip;
            sc->phased_s[i] = t_p;
            sc->direct_s[i] = NAN;
            sc->bisection_s[i] = bis;
            sc->n = i + 1;
        }
        snprintf(name, sizeof name, "all-to-all phased %dx%d chips vs the bisection bound", k, k);
        if (coll_v_add(r, err, VLABEL_BOUND, "a2a-bisection", name, "s", t_p, bis, 0.0, "SOURCES 5.1 bisection",
                       i > 0 ? "" : "any algorithm moves k^2 S_chip / 4 bytes each way across the 2k links of a k x k "
                       "torus's bisection (S_chip: bytes each chip sends, 8 MiB per core)") != 0)
            goto done;
        if (k > 8)
            continue;
        if (coll_v_run(dir, k, COLL_A2A_DIRECT, 0, dout, err) != 0)
            goto done;
        double t_d = dout[COLLBENCH_SIM_T0];
        if (sc != NULL && i < COLL_SCALING_MAX)
            sc->direct_s[i] = t_d;
        snprintf(name, sizeof name, "all-to-all direct %dx%d chips vs the bisection bound", k, k);
        if (coll_v_add(r, err, VLABEL_BOUND, "a2a-bisection", name, "s", t_d, bis, 0.0, "SOURCES 5.1 bisection",
                       "") != 0)
            goto done;
    }
    /* GShard Fig. 9: "While D grows by 128 times, the execution time of AllToAll only increases by 9 times"
     * [SOURCES 6.1]: exponent log 9 / log 128 = 0.45; O(sqrt D) in theory. */
    double c0, c1, cov00, cov01, cov11, sumsq;
    gsl_fit_linear(lx, 1, ly, 1, NK, &c0, &c1, &cov00, &cov01, &cov11, &sumsq);
    char note[256];
    snprintf(note, sizeof note, "fitted exponent %.3f over 32..2048 cores (GShard: log 9 / log 128 = %.3f), "
             "extrapolated to 128x the cores", c1, log(9.0) / log(128.0));
    if (coll_v_add(r, err, VLABEL_MEASURED, "gshard-fig9", "all-to-all time x when cores grow 128x", "x",
                   exp(c1 * log(128.0)), 9.0, COLL_V_FIG9_TOL, "SOURCES 6.1 GShard Fig. 9", note) != 0)
        goto done;
    rc = 0;
done:
    for (int i = 0; i < NK; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/torus%dx%d.xml", dir, K[i], K[i]);
        remove(path);
    }
    rmdir(dir);
    return rc;
}
