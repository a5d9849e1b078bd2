/* coll_validate: the collectives' own platform writer, a whole all-to-all simulation (for tests, validate and
 * the bench, run in a child through simproc_run), and the all-to-all checks of 'switchsim validate'. */
#include "sim/collectives.h"
#include "sim/netmodel.h"
#include "sim/simproc.h"
#include "fidelity/validate.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gsl/gsl_fit.h>
#include <simgrid/actor.h>
#include <simgrid/barrier.h>
#include <simgrid/engine.h>
#include <simgrid/host.h>
#include <simgrid/link.h>
#include <xbt/dynar.h>

#include "sim/common/atomicio.h"
#include "topologies/torus.h"

/* The chip of the checks' platforms: its preset's link bandwidth and per-hop latency (topologies/torus.c). */
#define COLL_V_CHIP "tpuv3"
/* Bytes each core sends in one all-to-all: GShard Fig. 9 used 8 MB or 32 MB per partition [SOURCES 6.1]. */
#define COLL_V_BYTES_PER_CORE (8.0 * 1024 * 1024)

/* ---------------------------------------------------------------------------------------------------------- */
/* platform writer */

static int coll_pw_write(FILE *fp, const void *arg, errbuf *err)
{
    return torus_write_xml(fp, arg, err);
}

int coll_platform_write(const char *path, int ndims, const int *dims, const int *wrap, double bw_Bps,
                        double lat_s, errbuf *err)
{
    if (ndims < 1 || ndims > COLL_DIMS_MAX)
        return errbuf_set(err, "collectives: ndims must be 1..%d, got %d", COLL_DIMS_MAX, ndims);
    torus_platform p = { .chip = torus_chip_find(COLL_V_CHIP), .link_Bps = bw_Bps, .link_lat_s = lat_s };
    p.shape.ndims = ndims > 1 ? ndims : 2;   /* a line or ring of L chips is the torus L x 1 */
    for (int d = 0; d < TORUS_MAX_DIMS; d++) {
        p.shape.dims[d] = d < ndims ? dims[d] : 1;
        if (p.shape.dims[d] < 1)
            return errbuf_set(err, "collectives: dims[%d] must be >= 1, got %d", d, dims[d]);
        p.shape.wrap[d] = d < ndims && dims[d] > 1 && wrap[d] != 0;
    }
    return atomic_file_write(path, coll_pw_write, &p, err);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* one all-to-all simulation */

typedef struct {
    const coll_a2a_sim *cfg;
    coll_world *w;
    sg_bar_t bar;
    double *start_s, *tmax_s;     /* (reps) */
    double *scaled;               /* (n, n) rep_scale[rep] x bytes for an all-to-all with rep_scale, else NULL */
    int scaled_rep;               /* the rep 'scaled' holds, -1 none yet */
    int failed;
    errbuf err;
} coll_sim_ctx;

typedef struct {
    coll_sim_ctx *ctx;
    int chip;
} coll_sim_actor_arg;

static void coll_sim_actor(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    coll_sim_actor_arg *a = sg_actor_self_get_data();
    coll_sim_ctx *ctx = a->ctx;
    const coll_a2a_sim *cfg = ctx->cfg;
    int member = cfg->op != COLL_SIM_ALLREDUCE_GROUP;
    for (int i = 0; i < cfg->ngroup && !member; i++)
        member = cfg->group[i] == a->chip;
    for (int rep = 0; rep < cfg->reps; rep++) {
        sg_barrier_wait(ctx->bar);
        double t0 = simgrid_get_clock();
        ctx->start_s[rep] = t0;
        errbuf e = { "" };
        int rc = 0;
        double scale = cfg->rep_scale != NULL ? cfg->rep_scale[rep] : 1.0;
        const double *bytes = cfg->bytes;
        if (ctx->scaled != NULL) {
            /* the first chip past the barrier scales the matrix; every chip has finished the previous rep */
            int n = coll_world_nchips(ctx->w);
            if (ctx->scaled_rep != rep) {
                for (size_t i = 0; i < (size_t)n * (size_t)n; i++)
                    ctx->scaled[i] = scale * cfg->bytes[i];
                ctx->scaled_rep = rep;
            }
            bytes = ctx->scaled;
        }
        double ar = scale * cfg->ar_bytes;
        if (cfg->op == COLL_SIM_A2A)
            rc = coll_alltoall(ctx->w, a->chip, bytes, cfg->algo, &e);
        else if (cfg->op == COLL_SIM_ALLREDUCE_ALL)
            rc = coll_allreduce_all(ctx->w, a->chip, ar, &e);
        else if (cfg->op == COLL_SIM_REDUCESCATTER_ALL)
            rc = coll_reducescatter_all(ctx->w, a->chip, ar, &e);
        else if (cfg->op == COLL_SIM_ALLGATHER_ALL)
            rc = coll_allgather_all(ctx->w, a->chip, ar, &e);
        else if (member)
            rc = coll_allreduce_group(ctx->w, a->chip, cfg->group, cfg->ngroup, ar, &e);
        if (rc != 0) {
            if (!ctx->failed)
                ctx->err = e;
            ctx->failed = 1;
            return;
        }
        double dt = simgrid_get_clock() - t0;
        if (dt > ctx->tmax_s[rep])
            ctx->tmax_s[rep] = dt;
    }
}

/* Pointer-keyed open hash of link loads. */
typedef struct {
    const void *key;
    double bytes;
} coll_link_load;

static double coll_route_busiest(const coll_world *w, const double *bytes, sg_host_t *hosts, errbuf *err)
{
    int n = coll_world_nchips(w);
    size_t cap = 1024;
    while (cap < (size_t)sg_link_count() * 4)
        cap *= 2;
    coll_link_load *tab = calloc(cap, sizeof *tab);
    if (tab == NULL)
        return errbuf_set(err, "collectives: out of memory for the link table");
    xbt_dynar_t links = xbt_dynar_new(sizeof(sg_link_t), NULL);
    double best = 0.0;
    for (int s = 0; s < n; s++)
        for (int t = 0; t < n; t++) {
            double b = bytes[(size_t)s * n + t];
            if (s == t || b <= 0.0)
                continue;
            xbt_dynar_reset(links);
            sg_host_get_route(hosts[s], hosts[t], links);
            unsigned long nl = xbt_dynar_length(links);
            for (unsigned long i = 0; i < nl; i++) {
                sg_link_t l = xbt_dynar_get_as(links, i, sg_link_t);
                size_t h = ((uintptr_t)l >> 4) * 11400714819323198485ull & (cap - 1);
                while (tab[h].key != NULL && tab[h].key != l)
                    h = (h + 1) & (cap - 1);
                tab[h].key = l;
                tab[h].bytes += b;
                if (tab[h].bytes > best)
                    best = tab[h].bytes;
            }
        }
    xbt_dynar_free(&links);
    free(tab);
    return best;
}

/* Busiest mid cut: for each dimension of length >= 2, bytes crossing between [0, L/2) and [L/2, L) one way,
 * divided by the cut links one way (2 per ring, 1 per line, times the other dimensions' chips). */
static double coll_bisect_bytes(int ndims, const int *dims, const int *wrap, const double *bytes)
{
    int n = 1, stride[COLL_DIMS_MAX];
    for (int d = 0; d < ndims; d++) {
        stride[d] = n;
        n *= dims[d];
    }
    double best = 0.0;
    for (int d = 0; d < ndims; d++) {
        int L = dims[d];
        if (L < 2)
            continue;
        double up = 0.0, down = 0.0;
        for (int s = 0; s < n; s++) {
            int lows = (s / stride[d]) % L < L / 2;
            for (int t = 0; t < n; t++) {
                int lowt = (t / stride[d]) % L < L / 2;
                if (lows && !lowt)
                    up += bytes[(size_t)s * n + t];
                else if (!lows && lowt)
                    down += bytes[(size_t)s * n + t];
            }
        }
        double links = (wrap[d] && L > 2 ? 2.0 : 1.0) * (n / L);
        double v = fmax(up, down) / links;
        if (v > best)
            best = v;
    }
    return best;
}

static double coll_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int coll_sim_alltoall(void *arg, double *out, int nout, errbuf *err)
{
    const coll_a2a_sim *cfg = arg;
    if (cfg->reps < 1 || nout != COLL_SIM_NOUT(cfg->reps))
        return errbuf_set(err, "collectives: reps must be >= 1 and nout %d, got reps %d nout %d",
                          COLL_SIM_NOUT(cfg->reps), cfg->reps, nout);
    if (access(cfg->platform, R_OK) != 0)
        return errbuf_set(err, "%s: cannot read platform: %s", cfg->platform, strerror(errno));
    simproc_simgrid_start(cfg->platform, (netmodel)cfg->network, 0);
    if (cfg->network == NETMODEL_HW) {       /* the platform's link factors: it must have them */
        cost_chip chip;
        platform_torus t;
        if (platform_read(&chip, &t, cfg->platform, err) != 0)
            return -1;
        netmodel_apply(NETMODEL_HW, &t);
    }
    return coll_sim_loaded(cfg, out, nout, err);
}

/* What the simulation measures of the network before it runs: the first route's link (chip0 to chip1), and
 * for an all-to-all the busiest mid cut and, when asked, the busiest link of its routes. */
static int coll_sim_network(const coll_a2a_sim *cfg, const coll_world *w, sg_host_t *hosts, double *out,
                            errbuf *err)
{
    if (coll_world_nchips(w) > 1) {
        xbt_dynar_t links = xbt_dynar_new(sizeof(sg_link_t), NULL);
        sg_host_get_route(hosts[0], hosts[1], links);
        if (xbt_dynar_length(links) > 0) {
            sg_link_t l = xbt_dynar_get_as(links, 0, sg_link_t);
            out[COLL_SIM_LINK_BPS] = sg_link_get_bandwidth(l);
            out[COLL_SIM_LINK_LAT_S] = sg_link_get_latency(l);
        }
        xbt_dynar_free(&links);
    }
    if (cfg->op == COLL_SIM_A2A)
        out[COLL_SIM_BISECT_BYTES] = coll_bisect_bytes(cfg->ndims, cfg->dims, cfg->wrap, cfg->bytes);
    if (cfg->route_bound && cfg->op == COLL_SIM_A2A) {
        double b = coll_route_busiest(w, cfg->bytes, hosts, err);
        if (b < 0.0)
            return -1;
        out[COLL_SIM_ROUTE_BYTES] = b;
    }
    return 0;
}

/* Starts one leader actor per chip and runs the simulation; out[COLL_SIM_WALL_S] <- its wall time. */
static void coll_sim_run_actors(coll_sim_ctx *ctx, sg_host_t *hosts, coll_sim_actor_arg *args, int n, double *out)
{
    char name[64];
    ctx->bar = sg_barrier_init((unsigned)n);
    for (int r = 0; r < n; r++) {
        args[r] = (coll_sim_actor_arg){ ctx, r };
        snprintf(name, sizeof name, "leader%d", r);
        sg_actor_t a = sg_actor_init(name, hosts[r]);
        sg_actor_set_data(a, &args[r]);
        sg_actor_start(a, coll_sim_actor, 0, NULL);
    }
    double w0 = coll_now_s();
    simgrid_run();
    out[COLL_SIM_WALL_S] = coll_now_s() - w0;
    sg_barrier_destroy(ctx->bar);
}

/* The results of a finished simulation: reps replayed, the busiest phased link's own bytes, each rep's time. */
static void coll_sim_results(const coll_sim_ctx *ctx, double *out)
{
    const coll_a2a_sim *cfg = ctx->cfg;
    out[COLL_SIM_REUSED] = (double)coll_world_reused(ctx->w);
    out[COLL_SIM_FAST] = (double)(coll_world_fast_calls(ctx->w) + coll_world_fast_ring_calls(ctx->w));
    double simulated = cfg->reps - out[COLL_SIM_REUSED];
    out[COLL_SIM_OWN_BYTES] = simulated > 0 ? coll_world_phased_busiest_bytes(ctx->w) / simulated : 0.0;
    for (int i = 0; i < cfg->reps; i++)
        out[COLL_SIM_T0 + i] = ctx->tmax_s[i];
}

int coll_sim_loaded(const coll_a2a_sim *cfg, double *out, int nout, errbuf *err)
{
    if (cfg->reps < 1 || nout != COLL_SIM_NOUT(cfg->reps))
        return errbuf_set(err, "collectives: reps must be >= 1 and nout %d, got reps %d nout %d",
                          COLL_SIM_NOUT(cfg->reps), cfg->reps, nout);
    coll_world *w = coll_world_alloc(cfg->ndims, cfg->dims, cfg->wrap, err);
    if (w == NULL)
        return -1;
    if (cfg->gpus_per_node > 0 && coll_world_set_switched(w, cfg->gpus_per_node, err) != 0) {
        coll_world_free(w);
        return -1;
    }
    int n = coll_world_nchips(w);
    coll_world_set_reuse(w, cfg->reuse);
    errbuf why;
    if (cfg->fast)
        coll_world_set_fast(w, &why);   /* where it does not apply, every all-to-all is simulated as flows */
    sg_host_t *hosts = calloc((size_t)n, sizeof *hosts);
    coll_sim_ctx ctx = { .cfg = cfg, .w = w, .scaled_rep = -1 };
    ctx.start_s = calloc((size_t)cfg->reps, sizeof *ctx.start_s);
    ctx.tmax_s = calloc((size_t)cfg->reps, sizeof *ctx.tmax_s);
    int want_scaled = cfg->rep_scale != NULL && cfg->op == COLL_SIM_A2A;
    if (want_scaled)
        ctx.scaled = malloc((size_t)n * (size_t)n * sizeof *ctx.scaled);
    coll_sim_actor_arg *args = calloc((size_t)n, sizeof *args);
    int rc = -1;
    if (hosts == NULL || ctx.start_s == NULL || ctx.tmax_s == NULL || args == NULL || (want_scaled && !ctx.scaled)) {
        errbuf_set(err, "collectives: out of memory for %d chips", n);
        goto done;
    }
    for (int r = 0; r < n; r++) {
        char name[64];
        snprintf(name, sizeof name, "chip%d", r);
        hosts[r] = sg_host_by_name(name);
    }
    for (int i = 0; i < nout; i++)
        out[i] = 0.0;
    if (coll_sim_network(cfg, w, hosts, out, err) != 0)
        goto done;
    coll_sim_run_actors(&ctx, hosts, args, n, out);
    if (ctx.failed) {
        errbuf_set(err, "%s", ctx.err.msg);
        goto done;
    }
    coll_sim_results(&ctx, out);
    rc = 0;
done:
    free(hosts);
    free(ctx.scaled);
    free(ctx.start_s);
    free(ctx.tmax_s);
    free(args);
    coll_world_free(w);
    return rc;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* validate */

static const torus_chip *coll_v_chip(void)
{
    return torus_chip_find(COLL_V_CHIP);
}

/* Uniform chip byte matrix for S bytes per core sent evenly to every core (itself included): a chip pair
 * carries cores^2 * S / P (P = all cores), the diagonal stays on chip. */
static double *coll_v_uniform(int nchips, double S)
{
    double *b = malloc((size_t)nchips * (size_t)nchips * sizeof *b);
    if (b == NULL)
        return NULL;
    double P = (double)nchips * coll_v_chip()->cores_per_chip;
    double pair = (double)coll_v_chip()->cores_per_chip * coll_v_chip()->cores_per_chip * S / P;
    for (size_t i = 0; i < (size_t)nchips * (size_t)nchips; i++)
        b[i] = pair;
    return b;
}

/* One uniform all-to-all on a k x k TPUv3 torus in a child; out as coll_sim_alltoall's. */
static int coll_v_run(const char *dir, int k, coll_a2a_algo algo, int route_bound, double *out, errbuf *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s/torus%dx%d.xml", dir, k, k);
    const int dims[2] = { k, k }, wrap[2] = { 1, 1 };
    if (access(path, R_OK) != 0 && coll_platform_write(path, 2, dims, wrap, coll_v_chip()->link_Bps,
                                                    coll_v_chip()->link_lat_s, err) != 0)
        return -1;
    double *b = coll_v_uniform(k * k, COLL_V_BYTES_PER_CORE);
    if (b == NULL)
        return errbuf_set(err, "collectives: out of memory for a %dx%d byte matrix", k * k, k * k);
    coll_a2a_sim c = { .platform = path, .ndims = 2, .dims = { k, k, 1 }, .wrap = { 1, 1, 0 }, .bytes = b,
                       .algo = algo, .reps = 1, .route_bound = route_bound, .network = NETMODEL_HW };
    int rc = simproc_run(coll_sim_alltoall, &c, out, COLL_SIM_NOUT(1), err);
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
        double dout[COLL_SIM_NOUT(1)], pout[COLL_SIM_NOUT(1)];
        if (coll_v_run(dir, k, COLL_A2A_PHASED, 0, pout, err) != 0)
            goto done;
        double B = pout[COLL_SIM_LINK_BPS];
        double t_p = pout[COLL_SIM_T0];
        /* bisection bound of a k x k torus, S_chip = cores per chip x S bytes sent per chip: S_chip k / (8 B) */
        double bis = coll_v_chip()->cores_per_chip * S * k / (8.0 * B);
        lx[i] = log((double)k * k * coll_v_chip()->cores_per_chip);
        ly[i] = log(t_p);
        if (sc != NULL && i < COLL_SCALING_MAX) {
            sc->cores[i] = k * k * coll_v_chip()->cores_per_chip;
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
        double t_d = dout[COLL_SIM_T0];
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
