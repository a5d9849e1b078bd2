/* collbench: one collective over a range of sizes (the engine's collectives, sim/collectives.c) and its lower
 * bound on the platform's network, for 'switchsim collective'; the driver of such simulations (one actor per chip
 * calling a collective rep after rep), which the collectives' tests, validate rows and bench use too, and the
 * platform writer of those checks. */
#include "sim/collbench.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <simgrid/actor.h>
#include <simgrid/barrier.h>
#include <simgrid/engine.h>
#include <simgrid/host.h>
#include <simgrid/link.h>
#include <xbt/dynar.h>

#include "sim/common/atomicio.h"
#include "sim/simproc.h"
#include "topologies/torus.h"

/* The chip of the checks' platforms (collbench_platform_write): its preset's link bandwidth and per-hop latency
 * (topologies/chip.c). */
#define COLLBENCH_PLATFORM_CHIP "tpuv3"

static const char *const OP_NAMES[] = {
    [COLLBENCH_A2A] = "all-to-all",
    [COLLBENCH_ALLREDUCE] = "all-reduce",
    [COLLBENCH_ALLGATHER] = "all-gather",
    [COLLBENCH_REDUCESCATTER] = "reduce-scatter",
};
#define N_OPS (int)(sizeof OP_NAMES / sizeof OP_NAMES[0])

const char *collbench_op_name(collbench_op op)
{
    return op >= 0 && (int)op < N_OPS ? OP_NAMES[op] : "?";
}

int collbench_op_parse(collbench_op *op, const char *s)
{
    for (int i = 0; i < N_OPS; i++)
        if (strcmp(s, OP_NAMES[i]) == 0) {
            *op = (collbench_op)i;
            return 0;
        }
    return -1;
}

double collbench_bus_factor(collbench_op op, int nranks)
{
    if (nranks < 2)
        return 0.0;
    double f = (double)(nranks - 1) / nranks;
    return op == COLLBENCH_ALLREDUCE ? 2.0 * f : f;
}

const char *collbench_bound_name(collbench_bound_kind k)
{
    return k == COLLBENCH_BOUND_BISECTION ? "bisection" : k == COLLBENCH_BOUND_NODE ? "node-egress"
         : k == COLLBENCH_BOUND_LEAF ? "leaf-uplink" : "injection";
}

/* Bytes that must cross a cut between a part of 'in' chips and one of 'out' chips (n = in + out), towards the
 * larger requirement of the two directions, for chip-level buffer S (a2a: pair bytes p per chip pair). */
static double collbench_cut_bytes(collbench_op op, double in, double out, double n, double S, double p)
{
    switch (op) {
    case COLLBENCH_A2A:
        return in * out * p;                     /* every pair across the cut, no combining */
    case COLLBENCH_ALLREDUCE:
        return S;                                /* each side needs the other's whole contribution */
    default:
        return fmax(in, out) / n * S;            /* each shard of the far side crosses at least once */
    }
}

double collbench_bound(collbench_bound_kind *kind, collbench_op op, const platform_torus *t, int ranks_per_chip,
                       double size)
{
    int n = t->nchips;
    *kind = COLLBENCH_BOUND_INJECTION;
    if (n < 2)
        return 0.0;
    double S = size;                                   /* chip buffer: the ranks of a chip combine for free */
    double p = (double)ranks_per_chip * size / n;      /* all-to-all bytes per chip pair: c^2 size / (n c) */
    int gpu = t->family == COST_FAMILY_GPU;
    /* the smallest outgoing bandwidth of any chip (a line's end chips have one link per dimension) */
    double bout = 0.0;
    if (gpu) {
        bout = (t->gpus_per_node > 1 ? t->link_Bps : 0.0) + (t->nodes > 1 ? t->nic_Bps : 0.0);
    } else {
        for (int d = 0; d < t->ndims; d++)
            if (t->dims[d] >= 2)
                bout += t->link_Bps * (t->wrap[d] && t->dims[d] > 2 ? 2.0 : 1.0);
    }
    double inj_bytes = op == COLLBENCH_A2A ? (n - 1) * p
                     : op == COLLBENCH_ALLREDUCE ? 2.0 * (n - 1) / n * S : (double)(n - 1) / n * S;
    double best = inj_bytes / bout;
    if (gpu) {
        if (t->nodes > 1) {
            double g = t->gpus_per_node;
            double c = collbench_cut_bytes(op, g, n - g, n, S, p) / (g * t->nic_Bps);
            if (c > best) {
                best = c;
                *kind = COLLBENCH_BOUND_NODE;
            }
        }
        if (t->rails > 0 && t->nodes > t->nodes_per_leaf) {
            double g = (double)t->nodes_per_leaf * t->gpus_per_node;   /* a full group against the rest */
            double c = collbench_cut_bytes(op, g, n - g, n, S, p) / t->leaf_up_Bps;
            if (c > best) {
                best = c;
                *kind = COLLBENCH_BOUND_LEAF;
            }
        }
        return best;
    }
    for (int d = 0; d < t->ndims; d++) {
        int L = t->dims[d];
        if (L < 2)
            continue;
        double lo = (double)(L / 2) * (n / L), hi = n - lo;
        double links = (t->wrap[d] && L > 2 ? 2.0 : 1.0) * (n / L);
        double c = collbench_cut_bytes(op, lo, hi, n, S, p) / (links * t->link_Bps);
        if (c > best) {
            best = c;
            *kind = COLLBENCH_BOUND_BISECTION;
        }
    }
    return best;
}

/* Starts SimGrid on the checked platform under cfg's network model and reads its chip and network. */
static int collbench_start(const collbench_cfg *cfg, cost_chip *chip, platform_torus *t, errbuf *err)
{
    if (platform_precheck(cfg->platform, err) != 0)
        return -1;
    simproc_simgrid_start(cfg->platform, cfg->network, 1);
    if (platform_read(chip, t, cfg->platform, err) != 0)
        return -1;
    netmodel_apply(cfg->network, t);
    return 0;
}

/* The all-to-all algorithm run (auto: phased on a torus; on GPUs hier across nodes under hw, else direct), refused
 * where it does not belong or would take too long. */
static int collbench_algo(const collbench_cfg *cfg, const platform_torus *t, coll_a2a_algo *algo, errbuf *err)
{
    int gpu = t->family == COST_FAMILY_GPU, n = t->nchips;
    *algo = cfg->algo;
    if (cfg->op != COLLBENCH_A2A)
        return 0;
    if (*algo == COLL_A2A_AUTO)
        *algo = !gpu ? COLL_A2A_PHASED
              : t->nodes > 1 && cfg->network == NETMODEL_HW ? COLL_A2A_HIER : COLL_A2A_DIRECT;
    if (gpu && (*algo == COLL_A2A_PHASED || *algo == COLL_A2A_PHASED_XY))
        return errbuf_set(err, "--algo %s is the torus all-to-all (neighbour ring steps); %s is a GPU platform, "
                          "where it is hier or direct", *algo == COLL_A2A_PHASED ? "phased" : "phased-xy",
                          cfg->platform);
    if (!gpu && *algo == COLL_A2A_HIER)
        return errbuf_set(err, "--algo hier is the GPU nodes' all-to-all (NVLink in a node, NICs between); %s is a "
                          "torus, where it is phased, phased-xy or direct", cfg->platform);
    if (*algo == COLL_A2A_HIER && cfg->network != NETMODEL_HW)
        return errbuf_set(err, "--algo hier is timed from its plan as the hw network model times flows; give "
                          "--network-model hw, or --algo direct for %s", netmodel_name(cfg->network));
    if (*algo == COLL_A2A_DIRECT && n > COLLBENCH_DIRECT_CHIPS_MAX)
        return errbuf_set(err, "--algo direct: %d chips is %ld flows per size, beyond what SimGrid simulates in "
                          "reasonable time (its cost grows about as chips^4.5); direct runs on at most %d chips",
                          n, (long)n * (n - 1), COLLBENCH_DIRECT_CHIPS_MAX);
    return 0;
}

/* The collective simulation of cfg's op at every size on network t (bytes: the all-to-all's, set later). */
static void collbench_sim_cfg(collbench_sim *sc, const collbench_cfg *cfg, const platform_torus *t,
                              coll_a2a_algo algo)
{
    memset(sc, 0, sizeof *sc);
    sc->platform = cfg->platform;
    /* dimensions of one chip dropped (ranks unchanged): a ring N x 1 is the 1-D ring it is, so the phased
     * all-to-all does not split its bytes into a second rotation that has no links to use */
    for (int d = 0; d < COLL_DIMS_MAX; d++)
        sc->dims[d] = 1;
    for (int d = 0; d < t->ndims; d++)
        if (t->dims[d] > 1) {
            sc->dims[sc->ndims] = t->dims[d];
            sc->wrap[sc->ndims] = t->wrap[d];
            sc->ndims++;
        }
    if (sc->ndims == 0)
        sc->ndims = 1;
    sc->algo = algo;
    sc->reps = cfg->nsizes;
    sc->rep_scale = cfg->sizes;
    sc->fast = cfg->a2a_fast;
    sc->gpus_per_node = t->family == COST_FAMILY_GPU ? t->gpus_per_node : 0;
    sc->ar_bytes = 1.0;                  /* scaled to each size */
    static const collbench_sim_op OPS[] = {
        [COLLBENCH_A2A] = COLLBENCH_SIM_A2A, [COLLBENCH_ALLREDUCE] = COLLBENCH_SIM_ALLREDUCE_ALL,
        [COLLBENCH_ALLGATHER] = COLLBENCH_SIM_ALLGATHER_ALL, [COLLBENCH_REDUCESCATTER] = COLLBENCH_SIM_REDUCESCATTER_ALL,
    };
    sc->op = OPS[cfg->op];
}

/* The all-to-all's chip byte matrix for one byte per rank: a chip pair carries c^2 / (n c) = c / n, scaled
 * to each size.  NULL when out of memory. */
static double *collbench_a2a_bytes(int n, int c)
{
    double *bytes = malloc((size_t)n * (size_t)n * sizeof *bytes);
    if (bytes == NULL)
        return NULL;
    for (size_t i = 0; i < (size_t)n * (size_t)n; i++)
        bytes[i] = (double)c / n;
    return bytes;
}

/* Writes out[]: the run's chips, ranks, algorithm and wall time, then each size's time and bound. */
static void collbench_fill_out(double *out, const collbench_cfg *cfg, const platform_torus *t, int c,
                               coll_a2a_algo algo, const double *o)
{
    int n = t->nchips;
    out[COLLBENCH_NCHIPS] = n;
    out[COLLBENCH_NRANKS] = (double)n * c;
    out[COLLBENCH_ALGO] = algo;
    out[COLLBENCH_GPU] = t->family == COST_FAMILY_GPU;
    out[COLLBENCH_WALL_S] = o[COLLBENCH_SIM_WALL_S];
    out[COLLBENCH_FAST] = o[COLLBENCH_SIM_FAST];
    for (int i = 0; i < cfg->nsizes; i++) {
        double *r = out + COLLBENCH_HEAD + (size_t)COLLBENCH_PER_SIZE * i;
        collbench_bound_kind kind;
        r[COLLBENCH_TIME_S] = o[COLLBENCH_SIM_T0 + i];
        r[COLLBENCH_BOUND_S] = collbench_bound(&kind, cfg->op, t, c, cfg->sizes[i]);
        r[COLLBENCH_BOUND_KIND] = kind;
    }
}

int collbench_run(void *arg, double *out, int nout, errbuf *err)
{
    const collbench_cfg *cfg = arg;
    if (cfg->nsizes < 1 || nout != COLLBENCH_NOUT(cfg->nsizes))
        return errbuf_set(err, "collbench: nsizes must be >= 1 and nout %d, got nsizes %d nout %d",
                          COLLBENCH_NOUT(cfg->nsizes), cfg->nsizes, nout);
    cost_chip chip;
    platform_torus t;
    coll_a2a_algo algo;
    if (collbench_start(cfg, &chip, &t, err) != 0 || collbench_algo(cfg, &t, &algo, err) != 0)
        return -1;
    int n = t.nchips;
    int c = cfg->ranks_per_core ? chip.cores_per_chip : 1;
    collbench_sim sc;
    collbench_sim_cfg(&sc, cfg, &t, algo);
    double *bytes = NULL;
    double *o = malloc((size_t)COLLBENCH_SIM_NOUT(cfg->nsizes) * sizeof *o);
    if (o == NULL)
        return errbuf_set(err, "collbench: out of memory for %d sizes", cfg->nsizes);
    if (cfg->op == COLLBENCH_A2A) {
        bytes = collbench_a2a_bytes(n, c);
        if (bytes == NULL) {
            free(o);
            return errbuf_set(err, "collbench: out of memory for a %dx%d byte matrix", n, n);
        }
        sc.bytes = bytes;
    }
    int rc = collbench_sim_loaded(&sc, o, COLLBENCH_SIM_NOUT(cfg->nsizes), err);
    if (rc == 0)
        collbench_fill_out(out, cfg, &t, c, algo, o);
    free(bytes);
    free(o);
    return rc;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* platform writer */

static int collbench_pw_write(FILE *fp, const void *arg, errbuf *err)
{
    return torus_write_xml(fp, arg, err);
}

int collbench_platform_write(const char *path, int ndims, const int *dims, const int *wrap, double bw_Bps,
                        double lat_s, errbuf *err)
{
    if (ndims < 1 || ndims > COLL_DIMS_MAX)
        return errbuf_set(err, "collectives: ndims must be 1..%d, got %d", COLL_DIMS_MAX, ndims);
    chip_spec chip;
    if (chip_preset(&chip, COLLBENCH_PLATFORM_CHIP) != 0)
        return errbuf_set(err, "collectives: no chip preset '%s'", COLLBENCH_PLATFORM_CHIP);
    torus_platform p = { .chip = &chip, .link_Bps = bw_Bps, .link_lat_s = lat_s };
    p.shape.ndims = ndims > 1 ? ndims : 2;   /* a line or ring of L chips is the torus L x 1 */
    for (int d = 0; d < TORUS_MAX_DIMS; d++) {
        p.shape.dims[d] = d < ndims ? dims[d] : 1;
        if (p.shape.dims[d] < 1)
            return errbuf_set(err, "collectives: dims[%d] must be >= 1, got %d", d, dims[d]);
        p.shape.wrap[d] = d < ndims && dims[d] > 1 && wrap[d] != 0;
    }
    return atomic_file_write(path, collbench_pw_write, &p, err);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* one all-to-all simulation */

typedef struct {
    const collbench_sim *cfg;
    coll_world *w;
    sg_bar_t bar;
    double *start_s, *tmax_s;     /* (reps) */
    double *scaled;               /* (n, n) rep_scale[rep] x bytes for an all-to-all with rep_scale, else NULL */
    int scaled_rep;               /* the rep 'scaled' holds, -1 none yet */
    int failed;
    errbuf err;
} collbench_sim_ctx;

typedef struct {
    collbench_sim_ctx *ctx;
    int chip;
} collbench_sim_arg;

/* One chip's all-to-all: slept when its time is known from the plan, else its flows. */
static int collbench_alltoall(coll_world *w, int chip, const double *bytes, coll_a2a_algo algo, errbuf *err)
{
    double dur = 0.0;
    int known = coll_alltoall_prepare(w, chip, bytes, algo, &dur, err);
    if (known < 0)
        return -1;
    if (known) {
        sg_actor_sleep_for(dur);
        return 0;
    }
    return coll_alltoall_run(w, chip, bytes, algo, err);
}

static void collbench_sim_actor(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    collbench_sim_arg *a = sg_actor_self_get_data();
    collbench_sim_ctx *ctx = a->ctx;
    const collbench_sim *cfg = ctx->cfg;
    int member = cfg->op != COLLBENCH_SIM_ALLREDUCE_GROUP;
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
        if (cfg->op == COLLBENCH_SIM_A2A)
            rc = collbench_alltoall(ctx->w, a->chip, bytes, cfg->algo, &e);
        else if (cfg->op == COLLBENCH_SIM_ALLREDUCE_ALL)
            rc = coll_allreduce_all(ctx->w, a->chip, ar, &e);
        else if (cfg->op == COLLBENCH_SIM_REDUCESCATTER_ALL)
            rc = coll_reducescatter_all(ctx->w, a->chip, ar, &e);
        else if (cfg->op == COLLBENCH_SIM_ALLGATHER_ALL)
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
} collbench_link_load;

static double collbench_route_busiest(const coll_world *w, const double *bytes, sg_host_t *hosts, errbuf *err)
{
    int n = coll_world_nchips(w);
    size_t cap = 1024;
    while (cap < (size_t)sg_link_count() * 4)
        cap *= 2;
    collbench_link_load *tab = calloc(cap, sizeof *tab);
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
static double collbench_bisect_bytes(int ndims, const int *dims, const int *wrap, const double *bytes)
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

static double collbench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int collbench_sim_run(void *arg, double *out, int nout, errbuf *err)
{
    const collbench_sim *cfg = arg;
    if (cfg->reps < 1 || nout != COLLBENCH_SIM_NOUT(cfg->reps))
        return errbuf_set(err, "collectives: reps must be >= 1 and nout %d, got reps %d nout %d",
                          COLLBENCH_SIM_NOUT(cfg->reps), cfg->reps, nout);
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
    return collbench_sim_loaded(cfg, out, nout, err);
}

/* What the simulation measures of the network before it runs: the first route's link (chip0 to chip1), and
 * for an all-to-all the busiest mid cut and, when asked, the busiest link of its routes. */
static int collbench_sim_network(const collbench_sim *cfg, const coll_world *w, sg_host_t *hosts, double *out,
                            errbuf *err)
{
    if (coll_world_nchips(w) > 1) {
        xbt_dynar_t links = xbt_dynar_new(sizeof(sg_link_t), NULL);
        sg_host_get_route(hosts[0], hosts[1], links);
        if (xbt_dynar_length(links) > 0) {
            sg_link_t l = xbt_dynar_get_as(links, 0, sg_link_t);
            out[COLLBENCH_SIM_LINK_BPS] = sg_link_get_bandwidth(l);
            out[COLLBENCH_SIM_LINK_LAT_S] = sg_link_get_latency(l);
        }
        xbt_dynar_free(&links);
    }
    if (cfg->op == COLLBENCH_SIM_A2A)
        out[COLLBENCH_SIM_BISECT_BYTES] = collbench_bisect_bytes(cfg->ndims, cfg->dims, cfg->wrap, cfg->bytes);
    if (cfg->route_bound && cfg->op == COLLBENCH_SIM_A2A) {
        double b = collbench_route_busiest(w, cfg->bytes, hosts, err);
        if (b < 0.0)
            return -1;
        out[COLLBENCH_SIM_ROUTE_BYTES] = b;
    }
    return 0;
}

/* Starts one leader actor per chip and runs the simulation; out[COLLBENCH_SIM_WALL_S] <- its wall time. */
static void collbench_sim_run_actors(collbench_sim_ctx *ctx, sg_host_t *hosts, collbench_sim_arg *args, int n, double *out)
{
    char name[64];
    ctx->bar = sg_barrier_init((unsigned)n);
    for (int r = 0; r < n; r++) {
        args[r] = (collbench_sim_arg){ ctx, r };
        snprintf(name, sizeof name, "leader%d", r);
        sg_actor_t a = sg_actor_init(name, hosts[r]);
        sg_actor_set_data(a, &args[r]);
        sg_actor_start(a, collbench_sim_actor, 0, NULL);
    }
    double w0 = collbench_now_s();
    simgrid_run();
    out[COLLBENCH_SIM_WALL_S] = collbench_now_s() - w0;
    sg_barrier_destroy(ctx->bar);
}

/* The results of a finished simulation: the busiest phased link's own bytes, each rep's time. */
static void collbench_sim_results(const collbench_sim_ctx *ctx, double *out)
{
    const collbench_sim *cfg = ctx->cfg;
    out[COLLBENCH_SIM_FAST] = (double)(coll_world_fast_calls(ctx->w) + coll_world_fast_ring_calls(ctx->w));
    out[COLLBENCH_SIM_OWN_BYTES] = coll_world_phased_busiest_bytes(ctx->w) / cfg->reps;
    for (int i = 0; i < cfg->reps; i++)
        out[COLLBENCH_SIM_T0 + i] = ctx->tmax_s[i];
}

int collbench_sim_loaded(const collbench_sim *cfg, double *out, int nout, errbuf *err)
{
    if (cfg->reps < 1 || nout != COLLBENCH_SIM_NOUT(cfg->reps))
        return errbuf_set(err, "collectives: reps must be >= 1 and nout %d, got reps %d nout %d",
                          COLLBENCH_SIM_NOUT(cfg->reps), cfg->reps, nout);
    coll_world *w = coll_world_alloc(cfg->ndims, cfg->dims, cfg->wrap, err);
    if (w == NULL)
        return -1;
    if (cfg->gpus_per_node > 0 && coll_world_set_switched(w, cfg->gpus_per_node, err) != 0) {
        coll_world_free(w);
        return -1;
    }
    int n = coll_world_nchips(w);
    errbuf why;
    if (cfg->fast)
        coll_world_set_fast(w, &why);   /* where it does not apply, every all-to-all is simulated as flows */
    sg_host_t *hosts = calloc((size_t)n, sizeof *hosts);
    collbench_sim_ctx ctx = { .cfg = cfg, .w = w, .scaled_rep = -1 };
    ctx.start_s = calloc((size_t)cfg->reps, sizeof *ctx.start_s);
    ctx.tmax_s = calloc((size_t)cfg->reps, sizeof *ctx.tmax_s);
    int want_scaled = cfg->rep_scale != NULL && cfg->op == COLLBENCH_SIM_A2A;
    if (want_scaled)
        ctx.scaled = malloc((size_t)n * (size_t)n * sizeof *ctx.scaled);
    collbench_sim_arg *args = calloc((size_t)n, sizeof *args);
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
    if (collbench_sim_network(cfg, w, hosts, out, err) != 0)
        goto done;
    collbench_sim_run_actors(&ctx, hosts, args, n, out);
    if (ctx.failed) {
        errbuf_set(err, "%s", ctx.err.msg);
        goto done;
    }
    collbench_sim_results(&ctx, out);
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
