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
typedef enum { COLLBENCH_BOUND_INJECTION, COLLBENCH_BOUND_BISECTION, COLLBENCH_BOUND_NODE } collbench_bound_kind;
/* "injection", "bisection", "node-egress". */
const char *collbench_bound_name(collbench_bound_kind k);

/* Lower bound (seconds) on the time of 'op' whatever the algorithm, on network t, for 'size' bytes per rank
 * (nccl-tests' convention: all-reduce the buffer, all-gather its output, reduce-scatter its input,
 * all-to-all its send buffer, 1/nranks to each rank), ranks_per_chip ranks per chip (1: a rank per chip;
 * cores per chip: a rank per core, traffic between the ranks of one chip free).  Chip-level bytes, then the
 * largest of: injection (the bytes a chip must send or receive over its links: all-reduce 2(n-1)/n of the
 * buffer, as any all-reduce that reduces in the chips [SOURCES 9.1], all-gather and reduce-scatter (n-1)/n,
 * all-to-all what it sends to other chips), and a cut: on a torus the mid cut of each dimension (bytes that must
 * cross it, once, over its links one way), on GPU nodes one node against the rest (its NICs).  Returns the bound
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

/* Largest chip count the direct all-to-all runs on (SimGrid's cost grows about as chips^4.5, SOURCES 8.3). */
#define COLLBENCH_DIRECT_CHIPS_MAX 128

#endif
