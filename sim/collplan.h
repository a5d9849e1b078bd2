/* collplan: the pure planning of the collectives on a torus of chips: coordinates, neighbours and rings; the phased
 * all-to-all worked out for every chip before any flow (the bytes of every ring-step message and line flow, carried
 * per destination coordinate from step to step, with conservation checks); the dimension rings of an all-reduce;
 * and the dataflow timing of both from their plan where every message has its links to itself.  No SimGrid:
 * sim/collectives.c sends the plan's messages as flows, and decides where the dataflow timing applies.
 *
 * Chips are numbered r = x + X*(y + Y*z).  A dimension may wrap (ring) or not (line).  Channels (chip, dimension,
 * direction: 0 toward +, 1 toward -) index per-link arrays of (n, COLL_DIMS_MAX, 2). */
#ifndef SWITCHSIM_COLLPLAN_H
#define SWITCHSIM_COLLPLAN_H

#include <stddef.h>

#include "sim/common/errbuf.h"

#define COLL_DIMS_MAX 3

/* The halves of a ring all-reduce: its reduce-scatter and its all-gather (collplan_ring_schedule's passes). */
#define COLLPLAN_PASS_RS 1
#define COLLPLAN_PASS_AG 2

typedef struct {
    int n, ndims;
    int dims[COLL_DIMS_MAX], wrap[COLL_DIMS_MAX], stride[COLL_DIMS_MAX];   /* 1 and 0 past ndims */
    int maxl;                     /* longest dimension */
    /* the phased all-to-all planned last (collplan_phased) */
    int R;                        /* rotations: the bytes split into R shares that take the dimensions in rotated
                                   * orders (rotation r: r, r+1, ... mod ndims) */
    int steps[COLL_DIMS_MAX];     /* ring steps of phase p */
    int line[COLL_DIMS_MAX][COLL_DIMS_MAX];   /* [phase][rotation]: the phase's dimension is a line of more than 2
                                               * chips: one flow per destination instead of ring steps */
    double *ringmsg;              /* (ndims phases, maxl steps, n, COLL_DIMS_MAX rotations, 2 dirs) bytes of each
                                   * ring-step message (collplan_ring_at), < 0: none */
    double *linemsg;              /* (ndims phases, n, COLL_DIMS_MAX rotations, maxl) bytes to each coordinate of a
                                   * line phase (collplan_line_at), < 0 to itself */
    double *carry[2];             /* (n, COLL_DIMS_MAX rotations, 2 dirs, maxl) carried per destination, by step */
    double *held;                 /* (n, COLL_DIMS_MAX rotations) bytes arrived */
    double *buf;                  /* (maxl) */
    double *link_bytes;           /* (n, COLL_DIMS_MAX, 2) bytes planned over each neighbour link since the reset */
} collplan;

/* The planner of a torus: ndims 1..3, every dims[d] >= 1, wrap[d] 0 (line) or 1 (ring).  Errors:
 * "collectives: ndims must be 1..3, got 4", "collectives: dims[1] must be >= 1, got 0", or out of memory. */
collplan *collplan_alloc(int ndims, const int *dims, const int *wrap, errbuf *err);
void collplan_free(collplan *pl);

/* Index of channel (chip, d, dir) in a per-link array. */
size_t collplan_ch(int chip, int d, int dir);
/* c (COLL_DIMS_MAX) <- chip's coordinates (0 past ndims). */
void collplan_coords(const collplan *pl, int chip, int *c);
/* The chip one step along dimension d in direction dir (0: +, 1: -), wrapping; the caller checks lines. */
int collplan_neighbour(const collplan *pl, int chip, int d, int dir);
/* Whether a and b agree within the conservation checks' relative tolerance (1e-9). */
int collplan_close(double a, double b);
/* A message's size in whole bytes as SimGrid sends it (0 for none). */
long collplan_size(double bytes);

/* Works out the phased all-to-all of 'bytes' ((n, n), row = source chip; the diagonal stays on chip) in R
 * rotations (R = ndims: every dimension busy in every phase; 1: x then y then z) for every chip: the size of every
 * ring-step message and line flow, and the bytes over each neighbour link (added to link_bytes).  On a ring the
 * data goes the short way (a tie at distance L/2 half each way); a line of more than 2 chips sends one flow per
 * destination along it.  Checks after every phase that each chip holds what the next must carry, and at the end
 * that it received its column sum without the diagonal; -1 with err if not (a bug, or a non-finite matrix):
 * "collectives: chip 1 received nan bytes in a phased all-to-all, expected nan". */
int collplan_phased(collplan *pl, const double *bytes, int R, errbuf *err);
/* Phase p's dimension for rotation r. */
int collplan_order(const collplan *pl, int r, int p);
/* Whether the chip at position q of a dimension of L chips receives (dir 0: from q-1, 1: from q+1) at ring step t
 * (1-based) of a phase. */
int collplan_recvs(int L, int wrap, int q, int dir, int t);
/* Index in ringmsg of the message chip sends in direction dir at step t of phase p, rotation r. */
size_t collplan_ring_at(const collplan *pl, int p, int t, int chip, int r, int dir);
/* Index in linemsg of what chip sends to coordinate k of phase p's line, rotation r. */
size_t collplan_line_at(const collplan *pl, int p, int chip, int r, int k);

/* ready, next (n): the planned phased all-to-all's duration on every chip into 'ready' (next: scratch), for a
 * torus where every neighbour message has its links to itself (the caller checked the routes): a message starts
 * when both its chips have posted it (each posts step t when all its step t-1 messages have ended), and lasts its
 * route's latency plus its bytes over the route's bandwidth (lat, bw: (n, COLL_DIMS_MAX, 2) per channel), as
 * SimGrid's CM02 times a flow alone on its links. */
void collplan_phased_dataflow(double *ready, double *next, const collplan *pl, const double *lat, const double *bw);

/* The dimension rings of an all-reduce over all chips, in order: the reduce-scatter pass (x, y, z on the shrinking
 * shard) and/or the all-gather pass (z, y, x on the growing one) ('passes': COLLPLAN_PASS_RS | _AG); ring i runs
 * along dimension dim[i] (2 COLL_DIMS_MAX at most) with L - 1 steps whose messages carry size[i] bytes each way
 * ('bytes' is the whole buffer per chip: the reduce-scatter's input, the all-gather's output).  Returns the number
 * of rings. */
int collplan_ring_schedule(const collplan *pl, double bytes, int passes, int *dim, double *size);
/* The dimension rings' duration on every chip into 'ready' (next: scratch), timed as collplan_phased_dataflow
 * times a step: each step every chip sends half its shard piece to each ring neighbour. */
void collplan_ring_dataflow(double *ready, double *next, const collplan *pl, const double *lat, const double *bw,
                            double bytes, int passes);
/* A dimension's ring order: on a ring position i is i; on a line the ring is 0,2,4,..,5,3,1 (hops of at most two
 * links, no link direction used twice).  ring_pos: the position at ring index i; ring_index: back (-1 if none). */
int collplan_ring_pos(int L, int wrap, int i);
int collplan_ring_index(int L, int wrap, int q);
/* The member at position 'at' of channel c's ring over GPU nodes: group's node segments (seg_start, nseg + 1
 * offsets) in order, each rotated by c: position q of segment j holds group[seg_start[j] + (q + c) % len_j]. */
int collplan_channel_member(const int *group, const int *seg_start, int nseg, int c, int at);

/* The busiest neighbour link's planned bytes since the last reset, and the reset. */
double collplan_busiest_bytes(const collplan *pl);
void collplan_reset_stats(collplan *pl);

#endif
