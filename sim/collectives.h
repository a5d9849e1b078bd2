/* collectives: all-to-all (direct and dimension-phased) and ring all-reduces between the chips of a torus, or
 * of GPU nodes (a switched world: coll_world_set_switched), as SimGrid communications over the platform's
 * links, so that flows contend; the messages of the phased all-to-all and the dimension rings are planned by
 * sim/collplan (pure), which also times them where no two can share a link.  Chips are hosts named
 * "chip<r>", r = x + X*(y + Y*z).  A dimension may wrap (ring) or not (line); every algorithm takes the
 * per-dimension wrap flags.  Flows go between chips, never cores: the cores of a chip share its links, and
 * traffic inside a chip never touches a link.
 *
 * Calling rules for every collective: called from inside SimGrid actors, exactly one actor per taking-part chip
 * (the chip's leader), all at the same simulated time (the caller has passed a barrier), every caller with the
 * same arguments (same byte-matrix pointer, same group array).  A call returns when this chip has sent and
 * received everything it must.  Return 0, or -1 with err on a broken invariant (a bug, never input). */
#ifndef SWITCHSIM_COLLECTIVES_H
#define SWITCHSIM_COLLECTIVES_H

#include "sim/collplan.h"
#include "sim/common/errbuf.h"


typedef enum {
    COLL_A2A_DIRECT,      /* one flow per (source, destination) chip pair, SimGrid's own routes */
    COLL_A2A_PHASED,      /* neighbour ring steps, one dimension after the other; the bytes are split into
                           * ndims equal shares that take the dimensions in rotated orders (x-then-y and
                           * y-then-x in 2D) at the same time, so every dimension's links work in every phase */
    COLL_A2A_PHASED_XY,   /* the same ring steps, all bytes x then y (then z): one dimension busy at a time */
    COLL_A2A_AUTO,        /* engine_config only, never a collective's argument: the platform's own algorithm
                           * (PHASED on a torus; on a GPU platform HIER across nodes, DIRECT in one node) */
    COLL_A2A_HIER         /* switched worlds only: GPU nodes' hierarchical all-to-all (sim/collhier.h), NVLink
                           * gather to the destination's rail then one message per (node pair, rail) over the
                           * NICs, always timed from its plan (no flows) */
} coll_a2a_algo;

typedef struct coll_world coll_world;

/* After simgrid_load_platform, before simgrid_run: finds the hosts chip0..chip<n-1> (n = product of dims) and
 * makes the mailboxes.  ndims 1..3, every dims[d] >= 1, wrap[d] 0 (line) or 1 (ring).
 * Errors: "collectives: ndims must be 1..3, got 4", "collectives: dims[1] must be >= 1, got 0",
 * "collectives: platform has no host 'chip15' (torus 4x4 needs chip0..chip15)". */
coll_world *coll_world_alloc(int ndims, const int *dims, const int *wrap, errbuf *err);
void coll_world_free(coll_world *w);
int coll_world_nchips(const coll_world *w);

/* Makes w (ndims 1: chips in rank order) a switched network, as on GPU platforms: nodes of gpus_per_node
 * consecutive ranks behind a crossbar (NVSwitch), nodes joined by a non-blocking fabric (a NIC per GPU), every
 * flow on SimGrid's routes.  Afterwards the phased all-to-alls fail ("collectives: the phased all-to-all is for
 * tori ..."), DIRECT is unchanged, and both all-reduces run node-aware rings (coll_allreduce_group).  HIER
 * then times all-to-alls from their plan, on the links' numbers read from the platform at its first call (a rail
 * fat tree's leaf groups from chip0's property 'nodes_per_leaf'; none: one group).  Call before any collective.  Errors: "collectives: 12 chips do not split into nodes of 8". */
int coll_world_set_switched(coll_world *w, int gpus_per_node, errbuf *err);
/* GPUs per node of a switched world, 0 for a torus. */
int coll_world_switched(const coll_world *w);

/* All-to-all among all chips, in two halves: prepare enters this chip into the call (once per chip and call, at the
 * call's start) and returns 1 with the chip's duration in *dur_s when no flow needs to run (the phased algorithm
 * timed from its plan: coll_world_set_fast), 0 when the chip must run its flows now with coll_alltoall_run, -1
 * with err on a broken invariant.  bytes (nchips, nchips) row-major, row = source chip; the diagonal stays on chip.
 * DIRECT: one flow per pair with bytes > 0.  PHASED / PHASED_XY: per dimension, bidirectional ring steps
 * between neighbours: at each step every chip sends to each neighbour one flow with all the bytes still
 * travelling that way (forwarded data included) and receives from it; on a ring, data goes the short way
 * (a tie at distance L/2 is split half each way); a line (no wraparound, more than 2 chips) instead gets one
 * flow per destination along it over the platform's route (ring steps there would store and forward); the
 * plan is collplan_phased's, with its conservation checks.  HIER (a switched world): always 1, every chip's
 * time from the plan (collhier_time); a torus refuses it.  Replaying an identical all-to-all is the caller's
 * (sim/timer.c). */
int coll_alltoall_prepare(coll_world *w, int chip, const double *bytes, coll_a2a_algo algo, double *dur_s,
                          errbuf *err);
int coll_alltoall_run(coll_world *w, int chip, const double *bytes, coll_a2a_algo algo, errbuf *err);
/* After coll_alltoall_prepare returned 1 with *dur_s: the chip's part of it across nodes, for a hierarchical
 * all-to-all its time after its NVLink messages ended (collhier_time_split); 0 for the other algorithms (their
 * time is not split). */
double coll_alltoall_across(const coll_world *w, int chip);

/* The direct all-to-all among the block of n chips base .. base + n - 1 alone (a pipeline stage's chips, while the
 * others do other work): bytes (n, n), row = source chip - base; one flow per pair with bytes > 0, as DIRECT.  Only
 * the block's chips call it, each once per call; the block's calls follow each other (its chips pass a barrier
 * before each), and calls of disjoint blocks may overlap in time.  No call state: no replay, no plan.
 * Errors: "collectives: chip 9 is not in the all-to-all block of 4 chips from chip 4 (0..15)". */
int coll_alltoall_block(coll_world *w, int chip, int base, int n, const double *bytes, errbuf *err);

/* Ring all-reduce of 'bytes' per chip over all chips: reduce-scatter along x, then y (then z) on the shrinking
 * shard, then all-gather back in reverse order.  Each ring is bidirectional (half the data each way); on a ring
 * dimension it uses neighbour links only; on a line the ring is 0,2,4,..,5,3,1 (hops of at most two links, no
 * link direction used twice).  The reduction arithmetic itself is not timed here (the engine charges it).  Where
 * the world is set fast (coll_world_set_fast) the first chip of a call times the rings from their plan for every
 * chip (collplan_ring_dataflow on a torus, coll_rings_time on GPU nodes) and each chip sleeps its time. */
int coll_allreduce_all(coll_world *w, int chip, double bytes, errbuf *err);

/* The two halves of coll_allreduce_all on their own, nccl-style: the reduce-scatter of a 'bytes' input buffer per
 * chip (each chip ends with its reduced 1/n shard; the reduction arithmetic is not timed) and the all-gather into
 * a 'bytes' output buffer per chip (each chip starts with its 1/n shard).  Same rings, same switched channels:
 * n-1 steps each where the all-reduce takes 2(n-1). */
int coll_reducescatter_all(coll_world *w, int chip, double bytes, errbuf *err);
int coll_allgather_all(coll_world *w, int chip, double bytes, errbuf *err);

/* Ring all-reduce of 'bytes' per member over 'group' (n distinct chips, in ring order), bidirectional,
 * reduce-scatter then all-gather: 2(n-1) steps of two flows of bytes/(2n).  n == 1 returns at once.
 * Switched world: the group is cut into node segments (consecutive members in one node); within one node it is
 * the ring above; across nodes C rings (C = the longest segment) run at once on 1/C of the data each, channel c
 * rotating every segment by c so that each ring enters and leaves a node through different GPUs' NICs (as NCCL
 * runs a ring per NIC): 2(n-1) steps of 2C flows of bytes/(2nC).  coll_allreduce_all is this over all chips
 * in rank order (node by node), so consecutive ranks, which share a node, are ring neighbours.
 * Errors: "collectives: chip 3 is not in the all-reduce group", "collectives: all-reduce group member 7 is
 * not a chip (0..15)". */
int coll_allreduce_group(coll_world *w, int chip, const int *group, int n, double bytes, errbuf *err);
/* Its two halves over the group on their own (n-1 steps each), as coll_reducescatter_all and coll_allgather_all. */
int coll_reducescatter_group(coll_world *w, int chip, const int *group, int n, double bytes, errbuf *err);
int coll_allgather_group(coll_world *w, int chip, const int *group, int n, double bytes, errbuf *err);

/* Fast timing of the phased all-to-alls, for a world whose neighbour messages never share a link (every
 * dimension a ring of 3 or more chips, or a line of 2; routes checked link by link) under a network model that
 * times a flow alone on its links as latency + bytes / bandwidth (no TCP window, no cross-traffic: netmodel
 * hw): a call is timed from its plan by one pass over its messages (a message starts when both
 * chips have posted it; a chip posts a step when its messages of the step before have arrived), every chip then
 * sleeps for its duration; no flows.  It agrees with the flows' simulation (tests/check_collectives.c).  Call
 * after loading the platform and applying the network model, before any collective.  Returns 1 when on, 0
 * when it does not apply, with why (e.g. "x is a line of 4 chips, whose flows share links").  A switched world
 * (call coll_world_set_switched first) is set fast under such a model alone: its rings, blocks' hierarchical
 * all-to-alls and point-to-point messages may then be timed from their plans (below); its collectives called as
 * flows still run as flows. */
int coll_world_set_fast(coll_world *w, errbuf *why);

/* Where coll_world_ring_plan: dur (n) <- each chip's time in the rings of an all-reduce ('passes'
 * COLLPLAN_PASS_RS | COLLPLAN_PASS_AG) or of one half over 'ngroups' groups at once (group g's members in ring
 * order members[start[g] .. start[g + 1]); members NULL: one group of all chips in rank order), 'bytes' per
 * member, all starting together: the rings of coll_allreduce_group timed from their plan, no flows; on GPU nodes
 * the node-aware rings (collhier_ring_time), on a torus one ring a group over SimGrid's routes between members,
 * each link carrying the step's messages of all groups (the same rule).  A chip in no group gets 0.  Counted in
 * coll_world_fast_ring_calls.  -1 with err on a bad group or bytes. */
int coll_rings_time(coll_world *w, const int *members, const int *start, int ngroups, double bytes, int passes,
                    double *dur, errbuf *err);
/* Whether coll_rings_time applies: after coll_world_set_fast found a model that times a lone flow as latency +
 * bytes / bandwidth (a torus's own routes need not be free of shared links for it). */
int coll_world_ring_plan(const coll_world *w);

/* A switched world set fast: dur (n) <- each chip's time (chip base + i at i) in the hierarchical all-to-all of
 * the block of n chips from chip 'base' alone, bytes (n, n) (coll_alltoall_block's), timed from its plan as
 * COLL_A2A_HIER times all chips' (collhier_time on the block's nodes, links and leaf groups; other blocks' traffic
 * at the same time is not seen: they share no NVLink or NIC, only spine links); across (n, may be NULL) <- each
 * chip's time after its NVLink messages ended (its time across nodes).  The block must be whole nodes.
 * Counted in coll_world_fast_calls.  -1 with err otherwise, or on a bad matrix entry. */
int coll_alltoall_block_time(coll_world *w, int base, int n, const double *bytes, double *dur, double *across,
                             errbuf *err);

/* A switched world set fast: *arrive <- when a point-to-point message of 'bytes' from chip src to chip dst, sent
 * at simulated time 'now', arrives: each link of its route (collhier_route: NVLink, or NICs and spine links)
 * carries its bytes at the link's bandwidth once the route's latency has passed and the link is through with the
 * messages timed before it (first come, first served: the last of several sharing a link ends as under fair
 * sharing, the earlier ones sooner); it arrives when its last link is done (alone: latency + bytes over the
 * slowest link, as the hw model times a flow).  Calls must come in the order of 'now'.  -1 with err on bad
 * chips. */
int coll_p2p_time(coll_world *w, int src, int dst, double bytes, double now, double *arrive, errbuf *err);

/* Phased and hierarchical all-to-alls timed from their plan so far. */
long coll_world_fast_calls(const coll_world *w);
/* The same timing for coll_allreduce_all and its halves (the dimension rings), where also no dimension has 2 chips
 * (its ring would send both ways over one link): calls timed so far. */
long coll_world_fast_ring_calls(const coll_world *w);
/* Bytes sent over the busiest neighbour link by the phased all-to-alls simulated (not replayed) since the last
 * reset, summed over them: the busiest-link lower bound of the phased algorithm's own flows. */
double coll_world_phased_busiest_bytes(const coll_world *w);
void coll_world_reset_stats(coll_world *w);

#endif
