/* platform: checks a platform XML before SimGrid sees it, and reads the chip's numbers and the network shape
 * (a TPU torus, or GPU nodes) back from the host properties once SimGrid has loaded it.  Not a generator
 * (topologies/torus.h and topologies/gpu.h are). */
#ifndef SWITCHSIM_PLATFORM_H
#define SWITCHSIM_PLATFORM_H

#include "sim/common/errbuf.h"
#include "sim/cost.h"

/* The network as the engine and the collectives use it.  A TPU platform is a torus.  A GPU platform
 * (family gpu) presents itself as a line of nchips GPUs in rank order (ndims 1, no wrap) for addressing, plus
 * its node structure: ranks [k*gpus_per_node, (k+1)*gpus_per_node) share node k's NVSwitch, link_Bps /
 * link_lat_s are the NVLink numbers, and the collectives run direct all-to-alls and node-aware rings over
 * SimGrid's routes (sim/collectives.h). */
typedef struct {
    int family;          /* COST_FAMILY_TPU or COST_FAMILY_GPU */
    int ndims;           /* TPU: 2 or 3; GPU: 1 */
    int dims[3];         /* chips per dimension; 1 past ndims */
    int wrap[3];         /* 1 where the dimension has wraparound links (GPU: 0) */
    int nchips;          /* product of dims = number of hosts "chip0".."chip<n-1>" */
    double link_Bps;     /* TPU: per torus link per direction; GPU: NVLink per GPU per direction */
    double link_lat_s;   /* TPU: per hop; GPU: per NVLink hop (GPU to NVSwitch, or back) */
    int gpus_per_node;   /* GPU: GPUs per NVSwitch node; TPU: 0 */
    int nodes;           /* GPU: nodes; TPU: 0 */
    double nic_Bps;      /* GPU: per NIC (one per GPU) per direction; TPU: 0 */
    double nic_lat_s;    /* GPU: per NIC link, fabric included; TPU: 0 */
    /* How the 'hw' network model derates the links (sim/netmodel.h): payload share of the rate in [0.5, 1] and
     * flow start-up in route latencies in [1, 100].  TPU: ICI (properties link_bw_factor, link_lat_factor);
     * GPU: NVLink (nvlink_bw_factor, nvlink_lat_factor) and the NICs (nic_bw_factor, nic_lat_factor; TPU 0). */
    double link_bw_factor, link_lat_factor;
    double nic_bw_factor, nic_lat_factor;
    /* GPU rail-optimised fat tree (topologies/gpu.h); rails 0 on a flat GPU platform and on a TPU: GPU i of every
     * node on rail i, leaf groups of nodes_per_leaf consecutive nodes, whose traffic between groups crosses the
     * spine over the groups' uplinks, leaf_up_Bps each way for a full group (nodes_per_leaf x rails x nic_Bps /
     * oversub), spine_lat_s per leaf-spine link. */
    int rails, nodes_per_leaf;
    double oversub, leaf_up_Bps, spine_lat_s;
} platform_torus;

/* Before simgrid_load_platform(path): SimGrid aborts the process on a bad platform, so this checks it first, in
 * one libexpat parse (sim/platxml.h: well-formed, a <platform> of SimGrid's elements and attributes) that hands
 * every element to the value checks: every bandwidth, latency, speed and core count attribute is a number > 0
 * (latency >= 0) with a SimGrid unit; every host property of the chip table (topologies/chip.h) follows its rule
 * and physical range, and every one the platform's family requires is present (property 'family': tpu or gpu,
 * absent = tpu; topologies/README.md lists each family's).  Messages name the file, the line and the field,
 * e.g. "FILE:12: <link> attribute 'bandwidth' must be a bandwidth in [1 B/s, 1e16 B/s] such as '100GBps', got '-1GBps'",
 * "FILE:30: property 'mm_efficiency' must be a number in (0, 1], got '1.3'" or
 * "FILE: missing required property 'hbm_Bps_per_core'".  Returns 0, or -1 with err. */
int platform_precheck(const char *path, errbuf *err);

/* The link numbers this loader accepts, in every place it reads one (a <link> or <cluster> attribute and the
 * link properties of a torus or GPU platform): bandwidth in [*bw_lo_Bps, *bw_hi_Bps] B/s, latency in
 * [*lat_lo_s, *lat_hi_s] s.  'switchsim topology' checks its options against them, so what it writes loads. */
void platform_link_range(double *bw_lo_Bps, double *bw_hi_Bps, double *lat_lo_s, double *lat_hi_s);

/* After simgrid_load_platform(path): reads chip0's properties into *chip and *torus, and checks that the
 * platform matches them: hosts chip0..chip<n-1> exist and are all there is, every host has the same
 * properties and core count, host speed = bf16_flops_per_core.  TPU: the first torus link has link_Bps and
 * link_lat_s.  GPU: one core per host, n = gpus_per_node x nodes, the route chip0 -> chip1 is two links of
 * nvlink_Bps / nvlink_lat_s (when a node has 2+ GPUs) and chip0 -> chip<gpus_per_node> two of nic_Bps /
 * nic_lat_s (when there are 2+ nodes).  A rail fat tree (property 'rails'): rails = gpus_per_node, the optional
 * properties nodes_per_leaf and oversub present, and the route from chip0 to the first GPU of the second leaf
 * group (when there is one) NIC up, the two spine links (leaf_up_Bps, spine_lat_s), NIC down.  Fills every cost_chip field (the other family's stay 0).
 * Messages name the file and the property, e.g. "FILE: property 'hbm_Bps_per_core' must be a number > 0,
 * got 'abc'".  Returns 0, or -1 with err leaving *chip and *torus untouched. */
int platform_read(cost_chip *chip, platform_torus *torus, const char *path, errbuf *err);

#endif
