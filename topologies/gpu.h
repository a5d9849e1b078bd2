/* gpu: the HGX platform NVIDIA GPUs (presets h100, h200: topologies/chip.h) run on: nodes of GPUs behind
 * an NVSwitch crossbar, one InfiniBand NIC per GPU between nodes, either into a non-blocking fabric folded into
 * the NIC links (the flat form, explicit routes) or into a rail-optimised fat tree of leaf groups under a spine
 * (the rail form, a zone per node); routes and the SimGrid platform XML generator.  Pure C (libc + errbuf): no
 * SimGrid here; sim/platform.c reads the generated files back. */
#ifndef SWITCHSIM_GPU_H
#define SWITCHSIM_GPU_H

#include <stdio.h>

#include "sim/common/errbuf.h"
#include "topologies/chip.h"

/* An HGX H100/H200 board: 8 GPUs on one NVSwitch fabric [SOURCES 5.2]. */
#define GPU_NODE_GPUS_MAX 8
/* The platform has an explicit <route> per ordered GPU pair: N*(N-1) routes (256 GPUs: 65280 routes, about
 * 10 MB of XML; the direct all-to-all the engine runs on GPUs is limited to fewer GPUs anyway). */
#define GPU_EXPLICIT_GPUS_MAX 256
/* The rail form: a zone per node, so its routes grow as GPUs x (GPUs per node + nodes per leaf) and leaf
 * groups^2; 4096 GPUs (512 HGX nodes) is the largest cluster a scale target asks for. */
#define GPU_RAIL_GPUS_MAX 4096
/* Nodes under one rail leaf switch: a 64-port NDR switch at full bisection has 32 ports down, one per node
 * [assumption, SOURCES 5.2 rail-optimised fat tree]; 64 lets an oversubscribed leaf have more. */
#define GPU_LEAF_NODES_MAX 64
#define GPU_LEAF_NODES_DEFAULT 32
/* Leaf groups under the spine: the spine zone has a route per ordered pair of groups. */
#define GPU_LEAF_GROUPS_MAX 128
/* Oversubscription, leaf downlink over uplink bandwidth: 1 (non-blocking) to 64. */
#define GPU_OVERSUB_MAX 64.0
/* [assumption] A leaf-spine link, each way: one more switch and cable than a route inside a group, whose switch
 * is in nic_lat_s; so about 1 us more GPU to GPU between groups (no datasheet gives a switch's latency). */
#define GPU_SPINE_LAT_S 0.5e-6

/* What the generator writes: 'nodes' HGX nodes of 'gpus_per_node' GPUs.  GPU rank r = node * gpus_per_node +
 * local index; its host is "chip<r>" (the engine and the collectives address chips by rank).
 *
 * The rail form (rails > 0): GPU i of every node is on rail i, and every 'nodes_per_leaf' consecutive nodes
 * form a leaf group, under one leaf switch per rail; the leaves go up to a spine.  Cross-rail traffic is routed
 * as NCCL's PXN routes it on the fabric: it never crosses the spine inside a group, so a group's rail leaves
 * act as one non-blocking switch, and only traffic between groups goes up: through the group's uplinks (all
 * rails' together, one link per direction of nodes_per_leaf x rails x nic_Bps / oversub) and down the other
 * group's.  The PXN hop over NVLink to the rail's GPU is not charged: a flow leaves by its own GPU's NIC and
 * enters by the destination GPU's (the bytes every NIC carries are PXN's whenever each node sends every other
 * node the same bytes on every rail, as the all-to-alls and node-aware rings do; NVLink is 9x a NIC). */
typedef struct {
    const chip_spec *chip;          /* a GPU (chip_preset) */
    int gpus_per_node;              /* [1, GPU_NODE_GPUS_MAX] */
    int nodes;                      /* >= 1; gpus_per_node * nodes <= GPU_EXPLICIT_GPUS_MAX (flat) or
                                     * GPU_RAIL_GPUS_MAX (rail form) */
    double nvlink_Bps;              /* per GPU per direction, > 0 */
    double nvlink_lat_s;            /* per hop, >= 0 */
    double nic_Bps;                 /* per NIC per direction, > 0 */
    double nic_lat_s;               /* per NIC link (GPU to its leaf), >= 0 */
    int rails;                      /* 0: the flat form; else the rail form, rails == gpus_per_node */
    int nodes_per_leaf;             /* rail form: nodes of a leaf group, [1, GPU_LEAF_NODES_MAX]; the last group
                                     * may have fewer; at most GPU_LEAF_GROUPS_MAX groups */
    double oversub;                 /* rail form: a leaf's downlink over uplink bandwidth, [1, GPU_OVERSUB_MAX] */
    double spine_lat_s;             /* rail form: per leaf-spine link, >= 0 */
} gpu_platform;

/* p with the chip's default network numbers, the flat form. */
void gpu_platform_init(gpu_platform *p, const chip_spec *chip, int gpus_per_node, int nodes);
/* Makes p the rail form: a rail per GPU of a node, leaf groups of GPU_LEAF_NODES_DEFAULT nodes (or all of them,
 * when fewer), non-blocking (oversub 1), GPU_SPINE_LAT_S per leaf-spine link. */
void gpu_platform_set_rails(gpu_platform *p);
int gpu_nchips(const gpu_platform *p);
/* Rail form: the leaf groups, and the group of node k (k / nodes_per_leaf). */
int gpu_leaf_groups(const gpu_platform *p);
/* Rail form: one direction of group g's uplinks to the spine, B/s: its nodes x rails x nic_Bps / oversub. */
double gpu_leaf_uplink_Bps(const gpu_platform *p, int g);

/* Checks that p can be written (chip set, sizes and numbers in range).  Returns 0, or -1 with err, e.g.
 * "40 nodes x 8 GPUs = 320 GPUs, but a GPU platform (explicit routes) may have at most 256". */
int gpu_platform_check(const gpu_platform *p, errbuf *err);

/* The links a GPU's traffic can take, each in one direction: its NVLink into the NVSwitch (up) and out of it
 * (down), its NIC into the fabric (up) and out of it (down); in the rail form also a leaf group's rail leaves
 * as one non-blocking switch (a FATPIPE link of no latency: every flow has its own bandwidth, at least a NIC's;
 * one per node, whose 'gpu' is the node) and its uplinks to the spine (up) and back (down), whose 'gpu' is the
 * group. */
typedef enum {
    GPU_NVLINK_UP, GPU_NVLINK_DOWN, GPU_NIC_UP, GPU_NIC_DOWN, GPU_LEAF, GPU_SPINE_UP, GPU_SPINE_DOWN
} gpu_link_kind;
typedef struct {
    int gpu;                        /* the GPU's rank, or the leaf group (GPU_SPINE_*) */
    gpu_link_kind kind;
} gpu_link;

/* Most links on a route. */
#define GPU_ROUTE_MAX 6

/* links (GPU_ROUTE_MAX) <- the route from GPU src to GPU dst, src != dst: in one node src's NVLink up then
 * dst's NVLink down (the NVSwitch crossed once); across nodes src's NIC up then dst's NIC down (flat form: the fat
 * tree between them is non-blocking, so it adds no link of its own; its latency is in nic_lat_s); in the rail
 * form src's NIC up, src's node's leaf link, [src's group's spine uplink, dst's group's spine downlink, dst's
 * node's leaf link, when the groups differ,] dst's NIC down.  Returns the number of links: 2, 3 or 6, or 0 when src == dst
 * (the loopback). */
int gpu_route(gpu_link *links, const gpu_platform *p, int src, int dst);
/* Writes the link's platform name, "chip<r>_nvlink_up" (_nvlink_down, _nic_up, _nic_down), "node<k>_fabric"
 * or "leaf<g>_spine_up" (_spine_down), into buf (size n). */
void gpu_link_name(char *buf, size_t n, gpu_link l);

/* Writes the SimGrid platform XML of p to fp (after gpu_platform_check).  Flat form: one routing="Full" zone with host
 * "chip<r>" per GPU (core 1, speed = dense bf16 peak, the GPU properties of the chip table with the
 * platform's shape and link numbers), per GPU an
 * NVLink up/down pair when a node has more than one GPU and a NIC up/down pair when there is more than one
 * node, a FATPIPE loopback at HBM bandwidth, and an explicit route per ordered pair (gpu_route).  Rail form:
 * zones in zones, so that no route table grows as GPUs^2: a "spine" zone holding a zone per leaf group
 * ("group<g>") holding a zone per node ("node<k>", with its GPUs' hosts, links and routes and a router
 * "node<k>_nics" that a GPU reaches through its NIC up) and a zone of one router "leaf<g>_switch"; a group zone
 * routes node to node over the source node's leaf link and node to that router (both ways) over the node's, the
 * spine zone group to group (router to router) over the two groups' spine links.
 * SimGrid's route of every pair is gpu_route's (tests/check_gpu.c).  The hosts carry the properties 'rails',
 * 'nodes_per_leaf', 'oversub' and 'spine_lat_s' besides the flat form's.
 * Returns 0, or -1 with err (check failed or a write error). */
int gpu_write_xml(FILE *fp, const gpu_platform *p, errbuf *err);

#endif
