/* gpu: NVIDIA GPU chip presets (H100 SXM, H200 SXM) and the HGX platform they run on: nodes of GPUs behind
 * an NVSwitch crossbar, one InfiniBand NIC per GPU between nodes; routes and the SimGrid platform XML
 * generator.  Pure C (libc + errbuf): no SimGrid here; sim/platform.c reads the generated files back. */
#ifndef SWITCHSIM_GPU_H
#define SWITCHSIM_GPU_H

#include <stdio.h>

#include "sim/common/errbuf.h"

/* An HGX H100/H200 board: 8 GPUs on one NVSwitch fabric [SOURCES 5.2]. */
#define GPU_NODE_GPUS_MAX 8
/* The platform has an explicit <route> per ordered GPU pair: N*(N-1) routes (256 GPUs: 65280 routes, about
 * 10 MB of XML; the direct all-to-all the engine runs on GPUs is limited to fewer GPUs anyway). */
#define GPU_EXPLICIT_GPUS_MAX 256

/* One GPU preset.  Every number is for one GPU (one SimGrid host with one core); the source of each is next to
 * the preset in gpu.c and in topologies/README.md: datasheet, measured here, or assumption. */
typedef struct {
    const char *name;               /* "h200" */
    int sms;                        /* streaming multiprocessors */
    double clock_Hz;                /* boost clock */
    double bf16_flops;              /* dense bf16 tensor-core peak, flop/s */
    double tf32_flops;              /* dense TF32 tensor-core peak (not written: the fp32_matmul_flops option) */
    double fp32_flops;              /* plain FP32 (CUDA cores), flop/s */
    double l2_bytes;                /* L2 cache */
    double hbm_bytes;               /* HBM capacity */
    double hbm_Bps;                 /* HBM bandwidth */
    int tile_m, tile_n, tile_k;     /* tensor-core output tile of one CTA and its K step (assumption) */
    double op_overhead_s;           /* one kernel's end to the next one's start (assumption) */
    double fp32_matmul_flops;       /* rate of an fp32 matmul: plain FP32 (JAX precision HIGHEST) */
    double mm_efficiency;           /* fraction of bf16_flops a large matmul sustains (measured) */
    double hbm_efficiency;          /* fraction of hbm_Bps a streaming kernel reaches (measured) */
    double opt_bytes_per_param;     /* HBM bytes per parameter per step of the optimizer update */
    int nvlink_links;               /* NVLink 4 links per GPU */
    double nvlink_Bps;              /* NVLink bandwidth per GPU per direction (all links together) */
    double nvlink_lat_s;            /* per NVLink hop, GPU to NVSwitch or back (assumption) */
    double nic_Bps;                 /* one NIC per GPU, per direction */
    double nic_lat_s;               /* per NIC link, NIC to fabric or back, fabric included (assumption) */
} gpu_chip;

/* The preset called 'name' ("h100", "h200"), or NULL. */
const gpu_chip *gpu_chip_find(const char *name);
/* "h100 or h200": the preset names, for messages. */
const char *gpu_chip_names(void);

/* What the generator writes: 'nodes' HGX nodes of 'gpus_per_node' GPUs.  GPU rank r = node * gpus_per_node +
 * local index; its host is "chip<r>" (the engine and the collectives address chips by rank). */
typedef struct {
    const gpu_chip *chip;
    int gpus_per_node;              /* [1, GPU_NODE_GPUS_MAX] */
    int nodes;                      /* >= 1; gpus_per_node * nodes <= GPU_EXPLICIT_GPUS_MAX */
    double nvlink_Bps;              /* per GPU per direction, > 0 */
    double nvlink_lat_s;            /* per hop, >= 0 */
    double nic_Bps;                 /* per NIC per direction, > 0 */
    double nic_lat_s;               /* per NIC link, >= 0 */
} gpu_platform;

/* p with the chip's default network numbers. */
void gpu_platform_init(gpu_platform *p, const gpu_chip *chip, int gpus_per_node, int nodes);
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
 * "chip<r>" per GPU (core 1, speed = dense bf16 peak, the properties of topologies/README.md), per GPU an
 * NVLink up/down pair when a node has more than one GPU and a NIC up/down pair when there is more than one
 * node, a FATPIPE loopback at HBM bandwidth, and an explicit route per ordered pair (gpu_route).
 * Returns 0, or -1 with err (check failed or a write error). */
int gpu_write_xml(FILE *fp, const gpu_platform *p, errbuf *err);

#endif
