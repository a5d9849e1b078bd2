/* collbench: one collective over a range of sizes (the engine's collectives, sim/collectives.c) and its lower
 * bound on the platform's network, for 'switchsim collective'. */
#include "sim/collbench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/simproc.h"

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
    return k == COLLBENCH_BOUND_BISECTION ? "bisection" : k == COLLBENCH_BOUND_NODE ? "node-egress" : "injection";
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

/* The all-to-all algorithm run (auto: direct on GPUs, phased on a torus), refused where it does not
 * belong or would take too long. */
static int collbench_algo(const collbench_cfg *cfg, const platform_torus *t, coll_a2a_algo *algo, errbuf *err)
{
    int gpu = t->family == COST_FAMILY_GPU, n = t->nchips;
    *algo = cfg->algo;
    if (cfg->op != COLLBENCH_A2A)
        return 0;
    if (*algo == COLL_A2A_AUTO)
        *algo = gpu ? COLL_A2A_DIRECT : COLL_A2A_PHASED;
    if (gpu && *algo != COLL_A2A_DIRECT)
        return errbuf_set(err, "--algo %s is the torus all-to-all (neighbour ring steps); %s is a GPU platform, "
                          "where it is direct", *algo == COLL_A2A_PHASED ? "phased" : "phased-xy", cfg->platform);
    if (*algo == COLL_A2A_DIRECT && n > COLLBENCH_DIRECT_CHIPS_MAX)
        return errbuf_set(err, "--algo direct: %d chips is %ld flows per size, beyond what SimGrid simulates in "
                          "reasonable time (its cost grows about as chips^4.5); direct runs on at most %d chips",
                          n, (long)n * (n - 1), COLLBENCH_DIRECT_CHIPS_MAX);
    return 0;
}

/* The collective simulation of cfg's op at every size on network t (bytes: the all-to-all's, set later). */
static void collbench_sim_cfg(coll_a2a_sim *sc, const collbench_cfg *cfg, const platform_torus *t,
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
    static const coll_sim_op OPS[] = {
        [COLLBENCH_A2A] = COLL_SIM_A2A, [COLLBENCH_ALLREDUCE] = COLL_SIM_ALLREDUCE_ALL,
        [COLLBENCH_ALLGATHER] = COLL_SIM_ALLGATHER_ALL, [COLLBENCH_REDUCESCATTER] = COLL_SIM_REDUCESCATTER_ALL,
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
    out[COLLBENCH_WALL_S] = o[COLL_SIM_WALL_S];
    out[COLLBENCH_FAST] = o[COLL_SIM_FAST];
    for (int i = 0; i < cfg->nsizes; i++) {
        double *r = out + COLLBENCH_HEAD + (size_t)COLLBENCH_PER_SIZE * i;
        collbench_bound_kind kind;
        r[COLLBENCH_TIME_S] = o[COLL_SIM_T0 + i];
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
    coll_a2a_sim sc;
    collbench_sim_cfg(&sc, cfg, &t, algo);
    double *bytes = NULL;
    double *o = malloc((size_t)COLL_SIM_NOUT(cfg->nsizes) * sizeof *o);
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
    int rc = coll_sim_loaded(&sc, o, COLL_SIM_NOUT(cfg->nsizes), err);
    if (rc == 0)
        collbench_fill_out(out, cfg, &t, c, algo, o);
    free(bytes);
    free(o);
    return rc;
}
