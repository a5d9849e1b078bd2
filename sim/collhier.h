/* collhier: the hierarchical all-to-all of GPU nodes (NVLink inside a node, a NIC per GPU between nodes, as NCCL
 * with PXN and DeepEP run it across nodes), planned from the real byte matrix and timed from its plan: the NVLink
 * gather to the GPU on each destination's rail, then one aggregated message per (source node, rail, destination
 * node) over that GPU's NIC.  Pure C, no SimGrid: sim/collectives.c reads the links' numbers from the platform
 * and runs it as COLL_A2A_HIER.  What the timing assumes is said at collhier_time. */
#ifndef SWITCHSIM_COLLHIER_H
#define SWITCHSIM_COLLHIER_H

#include <stddef.h>

#include "sim/common/errbuf.h"

/* The network the plan is timed on: n GPUs in nodes of gpn consecutive ranks, nodes in leaf groups of npl
 * consecutive nodes (the last may have fewer) under a spine.  Bandwidths are each link's own (B/s, the network
 * model's factors applied), latencies a whole route's (s). */
typedef struct {
    int n, gpn;                    /* GPUs, and GPUs per node: n % gpn == 0 */
    int npl;                       /* nodes per leaf group, >= 1; >= n / gpn: one group, no spine */
    int lead;                      /* nodes of the first leaf group before node 0 (0 .. npl - 1): a block of nodes
                                    * (a pipeline stage's expert group) that starts inside a group; the groups are
                                    * then (lead + nodes) / npl rounded up, node B in group (lead + B) / npl */
    double lat_node;               /* route latency between two GPUs of one node (NVLink up, NVLink down) */
    double lat_group;              /* between GPUs of two nodes of one group (NIC up, leaf, NIC down) */
    double lat_spine;              /* between GPUs of two groups (NIC up, leaf, spine up, spine down, leaf, NIC down) */
    const double *nv_up, *nv_down; /* (n) each GPU's NVLink into and out of its NVSwitch; read only when gpn > 1 */
    const double *nic_up, *nic_down; /* (n) each GPU's NIC into and out of the fabric; read only with 2+ nodes */
    const double *spine_up, *spine_down; /* (groups) each group's uplinks to the spine and back; 2+ groups only */
} collhier_net;

/* Doubles of collhier_time's workspace for net. */
size_t collhier_work_len(const collhier_net *net);

/* dur (n) <- each GPU's time in the hierarchical all-to-all of 'bytes' ((n, n) row-major, row = source GPU; the
 * diagonal stays on the GPU), all GPUs starting together; work: collhier_work_len(net) doubles of scratch.
 *
 * The plan, from the real matrix: GPU s of node A sends over NVLink to each other GPU j of A one message, all its
 * bytes for GPUs of local index j on any node (to j itself, and the PXN gather for j's rail); GPU j of A then
 * sends every other node B one message over its NIC on rail j to GPU j of B: the bytes of all of A's GPUs to it
 * (s's bytes to its own rail skip NVLink).  The message lands on its destination GPU, so no NVLink scatter
 * follows.  So the NIC bytes are summed per (node pair, rail), and each NIC sends what PXN's proxy sends.
 *
 * The timing (no SimGrid flows; approximations):
 * - a link shares its bandwidth perfectly among the messages that cross it: it is busy from the all-to-all's
 *   start until its bytes over its bandwidth, and a message ends one route latency after the busiest link on its
 *   route is done (max-min sharing does exactly this when the loads are even; with a skewed matrix a flow that
 *   some other link holds back can leave its links idle for a while, so SimGrid's direct flows can take longer);
 * - the forwarding GPU relays as the gathered bytes arrive (PXN and DeepEP forward in chunks; here the chunk is
 *   infinitely small): a NIC message ends no earlier than its route latency after the last NVLink byte reached
 *   its GPU;
 * - a GPU is done when every message it sends, receives or has its bytes forwarded in has ended;
 * - a GPU's NVLink message to j carries j's own bytes and j's rail's gather in one, and the NVSwitch, the rail
 *   leaves and the spine above the leaf uplinks are non-blocking, as on the platform.
 * With an even matrix it is the direct all-to-all's busiest-link time plus at most a route latency.
 * Returns 0, or -1 with err when an entry is negative or not finite:
 * "collectives: hierarchical all-to-all bytes from chip 3 to chip 5 must be finite and >= 0, got -1". */
int collhier_time(double *dur, double *work, const double *bytes, const collhier_net *net, errbuf *err);
/* The same, and nvl (n) <- when each GPU's NVLink messages (sent or received) have all ended: the part of its time
 * inside its node; what follows (dur - nvl) is its time across nodes.  nvl may be NULL. */
int collhier_time_split(double *dur, double *nvl, double *work, const double *bytes, const collhier_net *net,
                        errbuf *err);

/* The links of net a message can cross, each in one direction: 4 n + 2 groups, indexed NVLink up of GPU r at r,
 * NVLink down at n + r, NIC up at 2 n + r, NIC down at 3 n + r, then group g's spine uplink at 4 n + g and its
 * downlink at 4 n + groups + g. */
size_t collhier_links(const collhier_net *net);

/* Most links on a route of collhier_route. */
#define COLLHIER_ROUTE_MAX 4

/* The route of a message from GPU a to GPU b != a: at (COLLHIER_ROUTE_MAX) <- its links' indices (collhier_links),
 * bw <- their bandwidths, *lat <- the route's latency; returns the number of links: in a node a's NVLink up and b's
 * NVLink down (2), across nodes a's NIC up and b's NIC down (2), and the two groups' spine links when the groups
 * differ (4). */
int collhier_route(size_t *at, double *bw, double *lat, const collhier_net *net, int a, int b);

/* Doubles of collhier_ring_time's workspace for net. */
size_t collhier_ring_work_len(const collhier_net *net);

/* dur (n) <- each GPU's time in the node-aware rings of an all-reduce, or of its reduce-scatter or all-gather
 * alone ('npass' 2 or 1), over 'ngroups' groups at once: group g's members in ring order are members[start[g] ..
 * start[g + 1]), every member a distinct GPU; a GPU in no group gets 0.  'bytes' is each member's buffer (the
 * all-reduce's, the reduce-scatter's input, the all-gather's output); work: collhier_ring_work_len(net) doubles.
 *
 * The rings are sim/collectives.c's (coll_allreduce_group on a switched world): a group is cut into node segments
 * (runs of members in one node); with one segment a single bidirectional ring, else C rings at once (C = the
 * longest segment), ring c rotating every segment by c (collplan_channel_member); each of the npass x (m - 1)
 * steps of a group of m members, every member sends bytes / (2 m C) to its next and its previous member in every
 * ring.  Timed from that plan: every link of a message's route (NVLink up and down in a node; NIC up and down
 * across nodes, and the two groups' spine links across leaf groups) carries the step's messages of all groups,
 * shared perfectly, busy from the earliest route latency of those messages (a flow pays its latency before it
 * takes bandwidth); a message ends when the busiest link on its route is done, and no earlier than its latency
 * plus its bytes over its slowest link; a group's step is its slowest message, and its steps follow one another
 * (a member waits for its neighbours' messages before the next step, as the flows do).  Approximate where groups
 * of different sizes run together (their steps are taken to coincide) and where a ring's loads are uneven (every
 * member is charged the group's slowest step).  Returns 0, or -1 with err when a member is not a GPU, appears
 * twice, or bytes is not finite and >= 0. */
int collhier_ring_time(double *dur, double *work, const int *members, const int *start, int ngroups, double bytes,
                       int npass, const collhier_net *net, errbuf *err);

#endif
