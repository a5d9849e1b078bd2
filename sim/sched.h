/* sched: one training step as a list of work per core, in order: compute ops with their cost-model time, barriers,
 * collectives with their byte matrices and chip groups, and marks where a layer's pass begins and ends.  The
 * engine builds the lists (sim/engine.c), the timer times them (sim/timer.c).  Pure data: no SimGrid, no cost
 * model.  Byte matrices and groups are shared by reference (a 4096-chip matrix is 134 MB), and cores whose lists
 * are equal share one copy (padded dispatch: every core's). */
#ifndef SWITCHSIM_SCHED_H
#define SWITCHSIM_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "sim/common/errbuf.h"

typedef enum {
    SCHED_OP,          /* work on the core: t_s seconds in category cat */
    SCHED_BARRIER,     /* every core (or every core of the pipeline stage) waits for the others (ref:
                        * sched_barrier); the wait is idle */
    SCHED_COLL,        /* a collective (ref: index of its sched_coll); its cores start it together, after a
                        * barrier of all cores in the list before it */
    SCHED_MARK,        /* a layer's pass begins (ref SCHED_MARK_BEGIN) or ends (SCHED_MARK_END): its span */
    SCHED_SEND,        /* point-to-point send of t_s bytes to core ref (a pipeline neighbour): a SimGrid flow over
                        * the route between the chips; the sender does not wait for it.  FWD phase: activations
                        * (the receiver's forward channel), BWD: gradients (its backward channel) */
    SCHED_RECV         /* waits for the next message of core ref on the core's channel of the item's phase, in
                        * order; the wait (the transfer's time included) is booked to the item's category */
} sched_kind;

/* Where a core's time goes (the CSV columns compute_s .. idle_s, and bubble_s: waits for pipeline neighbours). */
typedef enum {
    SCHED_CAT_COMPUTE, SCHED_CAT_ROUTER, SCHED_CAT_DISPATCH, SCHED_CAT_A2A, SCHED_CAT_ALLREDUCE, SCHED_CAT_IDLE,
    SCHED_CAT_BUBBLE, SCHED_N_CAT
} sched_cat;

enum { SCHED_FWD, SCHED_BWD, SCHED_N_PH };
enum { SCHED_MARK_BEGIN, SCHED_MARK_END };

/* Barriers: of all cores, or of the cores of one pipeline stage (sched_set_stage_cores).  (A chip's cores and a
 * collective's group wait for each other inside the timer.) */
typedef enum { SCHED_BAR_ALL, SCHED_BAR_STAGE } sched_barrier;

/* An item's name on the timeline (sched_name): one table, so that an item is small. */
typedef enum {
    SCHED_N_EMBED, SCHED_N_ATTENTION, SCHED_N_NORM, SCHED_N_FFN, SCHED_N_GATING, SCHED_N_ROUTER,
    SCHED_N_COMBINE_BUILD, SCHED_N_DISPATCH, SCHED_N_A2A, SCHED_N_EXPERT_FFN, SCHED_N_COMBINE, SCHED_N_VOCAB_LOSS,
    SCHED_N_ALLREDUCE, SCHED_N_REDUCE, SCHED_N_OPTIMIZER, SCHED_N_SEND, SCHED_N_RECV, SCHED_N_REDUCESCATTER,
    SCHED_N_ALLGATHER, SCHED_N_CAST, SCHED_N_NAMES
} sched_name_id;

/* "embed", "attention", ..., "optimizer", "send", "recv", "reducescatter", "allgather"; "?" out of range. */
const char *sched_name(int id);

typedef enum {
    SCHED_A2A,            /* all-to-all of the chip byte matrix 'bytes' among all chips, or among the block of
                           * chips base .. base + n - 1 (a pipeline stage's) */
    SCHED_ALLREDUCE,      /* ring all-reduce of chip_bytes per chip: over all chips (groups NULL: the dimension
                           * rings of a torus, node-aware rings on GPUs), or over the ring of the chip's group */
    SCHED_REDUCESCATTER,  /* the all-reduce's halves, over all chips or the groups' rings: chip_bytes is the
                           * reduce-scatter's input, the */
    SCHED_ALLGATHER       /* all-gather's output.  (Point-to-point sends are items: SCHED_SEND, SCHED_RECV.) */
} sched_coll_kind;

/* Chips grouped for all-reduces: a ring per group, members in ring order. */
typedef struct {
    int n;                        /* groups */
    int *gid;                     /* (nchips) group of each chip */
    int *members;                 /* (nchips) members of each group in ring order */
    int *start, *size;            /* (nchips + 1) offsets into members (start[n]: the end of the last group), and
                                   * sizes */
} sched_groups;

/* Groups chips by a key per chip: chips with equal keys form one group, in chip order.  -1 when memory runs out
 * (gr then holds what was allocated: sched_groups_fini frees it). */
int sched_groups_init(sched_groups *gr, const long *key, int nchips);
void sched_groups_fini(sched_groups *gr);

typedef struct {
    sched_coll_kind kind;
    const double *bytes;          /* A2A: (nchips, nchips) bytes, row = source chip, the diagonal stays on chip;
                                   * with n > 0, (n, n) among the chips base .. base + n - 1; not owned (the
                                   * builder's) */
    int base, n;                  /* A2A: n 0 all chips, else the block of n chips from chip base (the timer runs
                                   * it as the direct all-to-all: coll_alltoall_block) */
    long key;                     /* A2A: >= 0 promises that every collective of this key has an equal matrix (the
                                   * timer replays it by key instead of hashing it); -1: no promise */
    double chip_bytes;            /* the others: bytes per chip */
    const sched_groups *groups;   /* ALLREDUCE and its halves: NULL all chips, else the ring of the chip's group;
                                   * not owned */
    int replay;                   /* ALLREDUCE over groups: one of the same chip_bytes already timed in the step may
                                   * be replayed (the model-parallel all-reduces, equal groups, common start) */
} sched_coll;

/* 24 bytes: a Switch-C step on 8192 cores is about a thousand items per core. */
typedef struct {
    double t_s;                   /* OP: seconds on the core, > 0; SEND: bytes, >= 0 */
    int32_t ref;                  /* COLL: index of the sched_coll; BARRIER: sched_barrier; MARK: begin or end;
                                   * SEND: the receiving core; RECV: the sending core */
    int16_t layer;                /* layer (0 .. nlayers-1), -1 outside the layers */
    uint8_t kind;                 /* sched_kind */
    uint8_t cat;                  /* sched_cat the item's time is booked to (a barrier: idle, or bubble for a
                                   * pipeline's flush) */
    uint8_t phase;                /* SCHED_FWD or SCHED_BWD */
    uint8_t name;                 /* sched_name_id */
} sched_item;

typedef struct sched sched;

/* An empty schedule for 'cores' cores, cores_per_chip to a chip, 'nlayers' layers; NULL when memory runs out. */
sched *sched_alloc(int cores, int cores_per_chip, int nlayers);
void sched_free(sched *s);

int sched_cores(const sched *s);
int sched_cores_per_chip(const sched *s);
int sched_nchips(const sched *s);
int sched_nlayers(const sched *s);

/* Adds a collective (copied; its matrix and groups are not); returns its index, or -1 when memory runs out. */
int sched_coll_add(sched *s, const sched_coll *c);
const sched_coll *sched_coll_at(const sched *s, int i);
int sched_ncolls(const sched *s);

/* Building: core by core in order 0, 1, ..., sched_begin, then the core's items, then sched_end.  The adders
 * never fail: running out of memory is remembered and reported by sched_end (-1 with err).  A core whose list
 * equals the previous core's shares it. */
void sched_begin(sched *s, int core);
/* An op of t_s seconds (none when t_s <= 0). */
void sched_op(sched *s, sched_cat cat, sched_name_id name, double t_s, int layer, int phase);
void sched_barrier_all(sched *s, int layer, int phase);
/* A barrier of the cores of the building core's pipeline stage: cores [k n, (k + 1) n) for n the stage's cores. */
void sched_barrier_stage(sched *s, int layer, int phase);
/* Cores per pipeline stage (consecutive cores; default: all cores, one stage).  -1 unless n >= 1 divides the
 * cores into whole chips. */
int sched_set_stage_cores(sched *s, int n);
int sched_stage_cores(const sched *s);
/* A barrier of all cores whose wait is booked to the bubble: the end of a pipeline's cool-down. */
void sched_flush(sched *s, int layer, int phase);
/* Point-to-point: 'bytes' to core 'dst' on its channel of 'phase'; a receive from core 'src' (sched_kind). */
void sched_send(sched *s, int dst, double bytes, int layer, int phase);
void sched_recv(sched *s, int src, int layer, int phase);
/* Whether any list has a send or receive (the timer then opens the channels). */
int sched_has_p2p(const sched *s);
/* Collective 'coll' (an index from sched_coll_add), booked to 'cat' on the timeline as 'name'. */
void sched_collective(sched *s, int coll, sched_cat cat, sched_name_id name, int layer, int phase);
void sched_mark(sched *s, int begin_end, int layer, int phase);
int sched_end(sched *s, errbuf *err);

/* Core 'core''s list: *n items. */
const sched_item *sched_list(const sched *s, int core, size_t *n);
/* Distinct lists stored, and items in them (memory: 24 bytes each). */
int sched_nlists(const sched *s);
size_t sched_nitems(const sched *s);

/* The one-forward-one-backward order of stage 'stage' (0 .. stages-1) over 'micro' micro-batches: min(stages -
 * stage - 1, micro) warm-up forwards, then one forward and one backward in turn, then the cool-down backwards.
 * Fills mb[0 .. 2 micro) with the micro-batch and bwd[] with 0 (forward) or 1 (backward); -1 on bad sizes.  With
 * equal stage times f + b per micro-batch and free transfers, the step is (micro + stages - 1)(f + b) and each
 * stage waits (stages - 1)(f + b) of it: the bubble (stages - 1) / (micro + stages - 1). */
int sched_1f1b(int *mb, int *bwd, int stage, int stages, int micro);

#endif
