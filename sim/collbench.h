/* collbench: one collective alone over a range of message sizes, nccl-tests style ('switchsim collective'):
 * the engine's own collectives (sim/collectives.h) timed in one SimGrid run, and the lower bound of each op on
 * the platform's network.  Not a second implementation of any collective. */
#ifndef SWITCHSIM_COLLBENCH_H
#define SWITCHSIM_COLLBENCH_H

#include "sim/collectives.h"
#include "sim/common/errbuf.h"
#include "sim/netmodel.h"
#include "sim/platform.h"

typedef enum { COLLBENCH_A2A, COLLBENCH_ALLREDUCE, COLLBENCH_ALLGATHER, COLLBENCH_REDUCESCATTER } collbench_op;

/* "all-to-all", "all-reduce", "all-gather", "reduce-scatter". */
const char *collbench_op_name(collbench_op op);
/* Parses an op name; -1 if unknown. */
int collbench_op_parse(collbench_op *op, const char *s);

/* nccl-tests' bus bandwidth factor for n ranks: all-reduce 2(n-1)/n, the others (n-1)/n (0 for n = 1). */
double collbench_bus_factor(collbench_op op, int nranks);

/* What binds the lower bound. */
typedef enum {
    COLLBENCH_BOUND_INJECTION, COLLBENCH_BOUND_BISECTION, COLLBENCH_BOUND_NODE, COLLBENCH_BOUND_LEAF
} collbench_bound_kind;
/* "injection", "bisection", "node-egress", "leaf-uplink". */
const char *collbench_bound_name(collbench_bound_kind k);

/* Lower bound (seconds) on the time of 'op' whatever the algorithm, on network t, for 'size' bytes per rank
 * (nccl-tests' convention: all-reduce the buffer, all-gather its output, reduce-scatter its input,
 * all-to-all its send buffer, 1/nranks to each rank), ranks_per_chip ranks per chip (1: a rank per chip;
 * cores per chip: a rank per core, traffic between the ranks of one chip free).  Chip-level bytes, then the
 * largest of: injection (the bytes a chip must send or receive over its links: all-reduce 2(n-1)/n of the
 * buffer, as any all-reduce that reduces in the chips [SOURCES 9.1], all-gather and reduce-scatter (n-1)/n,
 * all-to-all what it sends to other chips), and a cut: on a torus the mid cut of each dimension (bytes that must
 * cross it, once, over its links one way), on GPU nodes one node against the rest (its NICs) and, on a rail fat
 * tree of several leaf groups, a full group against the rest (its spine uplinks, leaf_up_Bps).  Returns the bound
 * and sets *kind to the one that binds (injection on a tie). */
double collbench_bound(collbench_bound_kind *kind, collbench_op op, const platform_torus *t, int ranks_per_chip,
                       double size);

typedef struct {
    const char *platform;        /* platform XML (sim/platform.h) */
    collbench_op op;
    coll_a2a_algo algo;          /* all-to-all: DIRECT, PHASED, PHASED_XY or AUTO (the platform's); others: ignored */
    int ranks_per_core;          /* 1: a rank per core (--ranks cores), 0: a rank per chip */
    const double *sizes;         /* (nsizes) bytes per rank, increasing */
    int nsizes;
    netmodel network;            /* network model (sim/netmodel.h); the platform's link factors apply under hw */
    int a2a_fast;                /* 1: phased all-to-alls timed from their message plan where no two messages can
                                  * share a link (coll_world_set_fast); 0: always as SimGrid flows */
} collbench_cfg;

/* Result header of collbench_run, then COLLBENCH_PER_SIZE numbers per size. */
enum {
    COLLBENCH_NCHIPS, COLLBENCH_NRANKS, COLLBENCH_ALGO, COLLBENCH_GPU, COLLBENCH_WALL_S, COLLBENCH_FAST, COLLBENCH_HEAD
};
enum { COLLBENCH_TIME_S, COLLBENCH_BOUND_S, COLLBENCH_BOUND_KIND, COLLBENCH_PER_SIZE };
#define COLLBENCH_NOUT(nsizes) (COLLBENCH_HEAD + COLLBENCH_PER_SIZE * (nsizes))

/* simproc_run-compatible (arg: const collbench_cfg *; nout = COLLBENCH_NOUT(nsizes)): loads the platform,
 * reads its network (platform_read), runs the op at every size one after the other (a barrier between sizes)
 * and fills out.  out[COLLBENCH_ALGO] is the all-to-all algorithm used (AUTO resolved).  Errors (exact):
 * "--algo phased is the torus all-to-all (neighbour ring steps); FILE is a GPU platform, where it is direct",
 * "--algo direct: 256 chips is 65280 flows per size, beyond what SimGrid simulates in reasonable time ...". */
int collbench_run(void *arg, double *out, int nout, errbuf *err);

/* The driver: a whole collective simulation for 'collective', the tests, validate and the bench (one actor per chip,
 * the collective rep after rep, a barrier between reps): run it inside simproc_run (one SimGrid
 * engine per process).  Writes the platform nowhere: 'platform' must exist. */
typedef enum {
    COLLBENCH_SIM_A2A,                /* every chip: coll_alltoall_prepare(bytes, algo), then sleeps or runs its flows */
    COLLBENCH_SIM_ALLREDUCE_ALL,      /* every chip: coll_allreduce_all(ar_bytes) */
    COLLBENCH_SIM_ALLREDUCE_GROUP,    /* every member of group: coll_allreduce_group(group, ngroup, ar_bytes) */
    COLLBENCH_SIM_REDUCESCATTER_ALL,  /* every chip: coll_reducescatter_all(ar_bytes) */
    COLLBENCH_SIM_ALLGATHER_ALL       /* every chip: coll_allgather_all(ar_bytes) */
} collbench_sim_op;

typedef struct {
    const char *platform;        /* platform XML with hosts chip0..chip<n-1> */
    int ndims, dims[COLL_DIMS_MAX], wrap[COLL_DIMS_MAX];
    const double *bytes;         /* (n, n) chip byte matrix */
    coll_a2a_algo algo;
    int reps;                    /* all-to-alls in a row, a barrier between them; >= 1 */
    int route_bound;             /* compute out[COLLBENCH_SIM_ROUTE_BYTES] from sg_host_get_route (N^2 routes) */
    collbench_sim_op op;              /* default (0): all-to-all */
    double ar_bytes;             /* all-reduce (reduce-scatter input, all-gather output) bytes per chip */
    const int *group;            /* all-reduce group, ring order */
    int ngroup;
    int gpus_per_node;           /* > 0: a GPU platform (ndims 1): coll_world_set_switched; 0: a torus */
    const double *rep_scale;     /* (reps) or NULL: rep i moves rep_scale[i] x bytes (or x ar_bytes), so that one
                                  * simulation times a whole range of sizes, a barrier between them */
    int network;                 /* netmodel (sim/netmodel.h); 0: LV08, SimGrid's default.  hw reads the platform
                                  * (platform_read: a file of the generators) and applies its link factors */
    int fast;                    /* 1: coll_world_set_fast (the phased all-to-alls timed from their plan, where it
                                  * applies; out[COLLBENCH_SIM_FAST] says how many were) */
} collbench_sim;

enum {
    COLLBENCH_SIM_LINK_BPS,           /* bandwidth of the link from chip0 to its x neighbour, read from SimGrid */
    COLLBENCH_SIM_LINK_LAT_S,         /* its latency */
    COLLBENCH_SIM_BISECT_BYTES,       /* bytes crossing the busiest mid cut one way / cut links one way */
    COLLBENCH_SIM_ROUTE_BYTES,        /* busiest link's bytes over SimGrid's routes of every pair (route_bound) */
    COLLBENCH_SIM_OWN_BYTES,          /* busiest neighbour link's bytes of the phased flows of the first rep */
    COLLBENCH_SIM_WALL_S,             /* wall seconds in simgrid_run */
    COLLBENCH_SIM_FAST,               /* collectives timed without flows (fast): all-to-alls and dimension rings */
    COLLBENCH_SIM_T0                  /* out[COLLBENCH_SIM_T0 + i]: simulated seconds of rep i (last chip done) */
};
#define COLLBENCH_SIM_NOUT(reps) (COLLBENCH_SIM_T0 + (reps))

/* simproc_run-compatible: arg is a const collbench_sim *, nout must be COLLBENCH_SIM_NOUT(reps). */
int collbench_sim_run(void *arg, double *out, int nout, errbuf *err);
/* The same once SimGrid is initialised and cfg->platform loaded (cfg->network is then ignored): for a
 * caller that reads the platform first.  One call per process, as simgrid_run. */
int collbench_sim_loaded(const collbench_sim *cfg, double *out, int nout, errbuf *err);

/* Writes the TPUv3 torus platform of the collectives' own checks (topologies/torus.c's generator, so its routes
 * are the shipped platforms'): ndims 1 is a line (or ring) of dims[0] chips, written as the torus dims[0] x 1.
 * Written atomically (temp file + rename). */
int collbench_platform_write(const char *path, int ndims, const int *dims, const int *wrap, double bw_Bps,
                        double lat_s, errbuf *err);

/* Largest chip count the direct all-to-all runs on (SimGrid's cost grows about as chips^4.5, SOURCES 8.3). */
#define COLLBENCH_DIRECT_CHIPS_MAX 128

#endif
