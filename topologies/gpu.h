/* gpu: the HGX platform NVIDIA GPUs (presets h100, h200: topologies/chip.h) run on: nodes of GPUs behind
 * an NVSwitch crossbar, one InfiniBand NIC per GPU between nodes; routes and the SimGrid platform XML
 * generator.  Pure C (libc + errbuf): no SimGrid here; sim/platform.c reads the generated files back. */
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

/* What the generator writes: 'nodes' HGX nodes of 'gpus_per_node' GPUs.  GPU rank r = node * gpus_per_node +
 * local index; its host is "chip<r>" (the engine and the collectives address chips by rank). */
typedef struct {
    const chip_spec *chip;          /* a GPU (chip_preset) */
    int gpus_per_node;              /* [1, GPU_NODE_GPUS_MAX] */
    int nodes;                      /* >= 1; gpus_per_node * nodes <= GPU_EXPLICIT_GPUS_MAX */
    double nvlink_Bps;              /* per GPU per direction, > 0 */
    double nvlink_lat_s;            /* per hop, >= 0 */
    double nic_Bps;                 /* per NIC per direction, > 0 */
    double nic_lat_s;               /* per NIC link, >= 0 */
} gpu_platform;

/* p with the chip's default network numbers. */
void gpu_platform_init(gpu_platform *p, const chip_spec *chip, int gpus_per_node, int nodes);
int gpu_nchips(const gpu_platform *p);

/* Checks that p can be written (chip set, sizes and numbers in range).  Returns 0, or -1 with err, e.g.
 * "40 nodes x 8 GPUs = 320 GPUs, but a GPU platform (explicit routes) may have at most 256". */
int gpu_platform_check(const gpu_platform *p, errbuf *err);

/* The links a GPU's traffic can take, each in one direction: its NVLink into the NVSwitch (up) and out of it
 * (down), its NIC into the fabric (up) and out of it (down). */
typedef enum { GPU_NVLINK_UP, GPU_NVLINK_DOWN, GPU_NIC_UP, GPU_NIC_DOWN } gpu_link_kind;
typedef struct {
    int gpu;
    gpu_link_kind kind;
} gpu_link;

/* links (2) <- the route from GPU src to GPU dst, src != dst: in one node src's NVLink up then dst's NVLink
 * down (the NVSwitch crossed once); across nodes src's NIC up then dst's NIC down (the fat tree between them is
 * non-blocking, so it adds no link of its own; its latency is in nic_lat_s).  Returns the number of links:
 * 2, or 0 when src == dst (the loopback). */
int gpu_route(gpu_link *links, const gpu_platform *p, int src, int dst);
/* Writes the link's platform name, "chip<r>_nvlink_up" (_nvlink_down, _nic_up, _nic_down), into buf (size n). */
void gpu_link_name(char *buf, size_t n, gpu_link l);

/* Writes the SimGrid platform XML of p to fp (after gpu_platform_check): one routing="Full" zone with host
 * "chip<r>" per GPU (core 1, speed = dense bf16 peak, the GPU properties of the chip table with the
 * platform's shape and link numbers), per GPU an
 * NVLink up/down pair when a node has more than one GPU and a NIC up/down pair when there is more than one
 * node, a FATPIPE loopback at HBM bandwidth, and an explicit route per ordered pair (gpu_route).
 * Returns 0, or -1 with err (check failed or a write error). */
int gpu_write_xml(FILE *fp, const gpu_platform *p, errbuf *err);

#endif
