/* gpu: H100 / H200 SXM presets, HGX node routes (NVSwitch inside a node, one NIC per GPU between nodes) and
 * the platform XML generator.  Pure C: the generated XML is read back by SimGrid in sim/platform.c, never here.
 * Each number below is marked [datasheet], [measured] (on one H200, SOURCES 5.2 [M]) or
 * [assumption]; topologies/README.md has the same table. */
#include "topologies/gpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "topologies/torus.h"
#include "topologies/zonexml.h"

#define GB 1e9

/* [datasheet, SOURCES 5.2] 132 SMs on H100 SXM5 and on H200 SXM (the same GH100 die). */
#define GPU_SMS 132
/* [datasheet, SOURCES 5.2] boost clock 1.98 GHz.  The dense bf16 peak below works out to 1.83 GHz x 132 SMs
 * x 4096 flop per SM per cycle (the whitepaper's tensor-core clock); the cost model uses the peaks, not this. */
#define GPU_CLOCK_HZ 1.98e9
/* [datasheet, SOURCES 5.2] dense (no sparsity) tensor-core peaks, and plain FP32 on the CUDA cores. */
#define GPU_BF16_FLOPS 989.4e12
#define GPU_TF32_FLOPS 494.7e12
#define GPU_FP32_FLOPS 66.9e12
/* [datasheet, SOURCES 5.2] 50 MB of L2, decimal as cost_chip_h200 in sim/cost.c takes it.  PyTorch reports
 * 60 MB on the H200 measured (the die's full L2); the datasheet figure is used. */
#define GPU_L2_BYTES 50e6
/* [assumption] One CTA computes a 128x128 output tile with a K step of 64 bf16 elements: the common Hopper
 * cuBLAS/CUTLASS bf16 tile (128x256 and 256x128 tiles exist too; no source says which one XLA picks). */
#define GPU_TILE_M 128
#define GPU_TILE_N 128
#define GPU_TILE_K 64
/* [fitted, see GPU_MM_EFFICIENCY] Time from one kernel's end to the next one's start, launch and tail. */
#define GPU_OP_OVERHEAD_S 9.143e-6
/* fp32 matmuls (the router's logits) on the plain FP32 units: what JAX precision HIGHEST asks for.  With
 * TF32 allowed (precision DEFAULT on GPU) it would be GPU_TF32_FLOPS: edit the property to model that. */
#define GPU_FP32_MATMUL_FLOPS GPU_FP32_FLOPS
/* [fitted] mm_efficiency, hbm_efficiency, op_overhead_s and optimizer_bytes_per_param are fitted by
 * 'switchsim calibrate' to the 8 calibration rows of data/h200-switch-steps.csv (JAX 0.11.2 / XLA
 * with cuBLAS gemms on one H200; the 27 held-out rows are never fitted on).  What each absorbs:
 *  - mm_efficiency: fraction of the 989.4 TFLOP/s bf16 peak a full wave of 128x128 tiles sustains in that
 *    program.  For scale: an 8192^3 matmul ran at 769-798 TFLOP/s (0.79) through PyTorch, and cuBLAS under
 *    XLA ran 16384x768x3072 at about 490 TFLOP/s (0.50) once the ~90 us dispatch is taken off
 *    (data/h200-micro.csv).
 *  - hbm_efficiency: fraction of 4.8 TB/s the model's memory-bound ops reach.  A streaming copy reaches about
 *    0.77-0.90 (3.7-4.3 TB/s), so the fitted value, about half of that, says the measured program moves about
 *    twice the bytes the model counts for its element-wise ops (fp32 attention logits and softmax, fp32 to
 *    bf16 weight casts, unfused reductions): a known gap of the model, not a property of HBM.
 *  - op_overhead_s: per kernel; a chain of dependent tiny kernels measured 3.8 us each.
 *  - optimizer_bytes_per_param: Adafactor's HBM traffic per parameter.
 * H100: not measured; the H200's fitted values are assumed. */
#define GPU_MM_EFFICIENCY 0.5725
#define GPU_HBM_EFFICIENCY 0.3912
/* [fitted, see GPU_MM_EFFICIENCY] HBM bytes per parameter per step of the update, beyond the matmuls.  The
 * TPU model's pass count gives 20 B (COST_ADAFACTOR_BYTES_PER_PARAM: the fp32 gradient read three times, the
 * fp32 weight read and written); the fit lands next to it. */
#define GPU_OPT_BYTES_PER_PARAM 20.27
/* [datasheet, SOURCES 5.2] NVLink 4: 18 links, 900 GB/s per GPU counting both directions, so 450 GB/s each
 * way through the NVSwitch (non-blocking among the 8 GPUs of an HGX board). */
#define GPU_NVLINK_LINKS 18
#define GPU_NVLINK_BPS (450 * GB)
/* [datasheet, SOURCES 5.2] one ConnectX-7 NDR InfiniBand NIC per GPU at 400 Gb/s = 50 GB/s each way. */
#define GPU_NIC_BPS (400e9 / 8)
/* [assumption] Latencies are not in the datasheets.  NVLink: 0.5 us per hop (GPU to NVSwitch, NVSwitch to
 * GPU), so about 1 us GPU to GPU.  NIC: 1 us per NIC link, fabric switches included, so about 2 us GPU to GPU
 * across nodes (InfiniBand RDMA writes take 1-2 us end to end).  SimGrid's LV08 model multiplies route
 * latency by its own factor (SOURCES 8.3). */
#define GPU_NVLINK_LAT_S 0.5e-6
#define GPU_NIC_LAT_S 1e-6
/* How the 'hw' network model (sim/netmodel.h) treats the links, written as platform properties
 * [SOURCES 9.2].  NVLink: packets of 16-byte flits, a 256-byte write is one header flit and 16 data flits, so
 * the payload is 256/272 = 0.94 of the rate.  InfiniBand NDR: the 400 Gb/s is the data rate after line coding;
 * a 4096-byte MTU packet carries 26 bytes of LRH, BTH, ICRC and VCRC: 4096/4122 = 0.99.  Latency: hardware
 * transports (NVLink, InfiniBand RDMA) have no TCP slow start or window: the route's latency once, 1. */
#define GPU_NVLINK_BW_FACTOR 0.94
#define GPU_NIC_BW_FACTOR 0.99
#define GPU_LAT_FACTOR 1.0

/* What the H100 and H200 SXM share: everything but the name and the HBM. */
#define HOPPER_COMMON                                                                                    \
    .sms = GPU_SMS, .clock_Hz = GPU_CLOCK_HZ, .bf16_flops = GPU_BF16_FLOPS, .tf32_flops = GPU_TF32_FLOPS,   \
    .fp32_flops = GPU_FP32_FLOPS, .l2_bytes = GPU_L2_BYTES,                                               \
    .tile_m = GPU_TILE_M, .tile_n = GPU_TILE_N, .tile_k = GPU_TILE_K,                                     \
    .op_overhead_s = GPU_OP_OVERHEAD_S, .fp32_matmul_flops = GPU_FP32_MATMUL_FLOPS,                       \
    .mm_efficiency = GPU_MM_EFFICIENCY, .hbm_efficiency = GPU_HBM_EFFICIENCY,                             \
    .opt_bytes_per_param = GPU_OPT_BYTES_PER_PARAM,                                                       \
    .nvlink_links = GPU_NVLINK_LINKS, .nvlink_Bps = GPU_NVLINK_BPS, .nvlink_lat_s = GPU_NVLINK_LAT_S,     \
    .nic_Bps = GPU_NIC_BPS, .nic_lat_s = GPU_NIC_LAT_S

static const gpu_chip CHIPS[] = {
    {
        .name = "h100",
        .hbm_bytes = 80 * GB,                  /* [datasheet, SOURCES 5.2] H100 SXM5 80 GB HBM3 */
        .hbm_Bps = 3.35e12,                    /* [datasheet, SOURCES 5.2] 3.35 TB/s */
        HOPPER_COMMON,
    },
    {
        .name = "h200",
        .hbm_bytes = 141 * GB,                 /* [datasheet, SOURCES 5.2] H200 SXM 141 GB HBM3e */
        .hbm_Bps = 4.8e12,                     /* [datasheet, SOURCES 5.2] 4.8 TB/s */
        HOPPER_COMMON,
    },
};
#define N_CHIPS (sizeof CHIPS / sizeof CHIPS[0])

static const char *const LINK_SUFFIX[] = {
    [GPU_NVLINK_UP] = "nvlink_up", [GPU_NVLINK_DOWN] = "nvlink_down",
    [GPU_NIC_UP] = "nic_up", [GPU_NIC_DOWN] = "nic_down",
};

const gpu_chip *gpu_chip_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < N_CHIPS; i++)
        if (strcmp(CHIPS[i].name, name) == 0)
            return &CHIPS[i];
    return NULL;
}

const char *gpu_chip_names(void)
{
    return "h100 or h200";
}

void gpu_platform_init(gpu_platform *p, const gpu_chip *chip, int gpus_per_node, int nodes)
{
    p->chip = chip;
    p->gpus_per_node = gpus_per_node;
    p->nodes = nodes;
    p->nvlink_Bps = chip != NULL ? chip->nvlink_Bps : 0.0;
    p->nvlink_lat_s = chip != NULL ? chip->nvlink_lat_s : 0.0;
    p->nic_Bps = chip != NULL ? chip->nic_Bps : 0.0;
    p->nic_lat_s = chip != NULL ? chip->nic_lat_s : 0.0;
}

int gpu_nchips(const gpu_platform *p)
{
    return p->gpus_per_node * p->nodes;
}

int gpu_platform_check(const gpu_platform *p, errbuf *err)
{
    if (p->chip == NULL)
        return errbuf_set(err, "gpu platform: no chip preset");
    if (p->gpus_per_node < 1 || p->gpus_per_node > GPU_NODE_GPUS_MAX)
        return errbuf_set(err, "gpu platform: GPUs per node must be in [1, %d], got %d", GPU_NODE_GPUS_MAX,
                          p->gpus_per_node);
    if (p->nodes < 1 || p->nodes > GPU_EXPLICIT_GPUS_MAX)
        return errbuf_set(err, "gpu platform: nodes must be in [1, %d], got %d", GPU_EXPLICIT_GPUS_MAX, p->nodes);
    if (gpu_nchips(p) > GPU_EXPLICIT_GPUS_MAX)
        return errbuf_set(err, "%d nodes x %d GPUs = %d GPUs, but a GPU platform (explicit routes) may have at "
                          "most %d", p->nodes, p->gpus_per_node, gpu_nchips(p), GPU_EXPLICIT_GPUS_MAX);
    if (!(p->nvlink_Bps > 0) || !isfinite(p->nvlink_Bps))
        return errbuf_set(err, "gpu platform: NVLink bandwidth must be > 0 B/s, got %g", p->nvlink_Bps);
    if (!(p->nic_Bps > 0) || !isfinite(p->nic_Bps))
        return errbuf_set(err, "gpu platform: NIC bandwidth must be > 0 B/s, got %g", p->nic_Bps);
    if (!(p->nvlink_lat_s >= 0) || !isfinite(p->nvlink_lat_s))
        return errbuf_set(err, "gpu platform: NVLink latency must be >= 0 s, got %g", p->nvlink_lat_s);
    if (!(p->nic_lat_s >= 0) || !isfinite(p->nic_lat_s))
        return errbuf_set(err, "gpu platform: NIC latency must be >= 0 s, got %g", p->nic_lat_s);
    return 0;
}

int gpu_route(gpu_link *links, const gpu_platform *p, int src, int dst)
{
    if (src == dst)
        return 0;
    int same_node = src / p->gpus_per_node == dst / p->gpus_per_node;
    links[0] = (gpu_link){ .gpu = src, .kind = same_node ? GPU_NVLINK_UP : GPU_NIC_UP };
    links[1] = (gpu_link){ .gpu = dst, .kind = same_node ? GPU_NVLINK_DOWN : GPU_NIC_DOWN };
    return 2;
}

void gpu_link_name(char *buf, size_t n, gpu_link l)
{
    snprintf(buf, n, "chip%d_%s", l.gpu, LINK_SUFFIX[l.kind]);
}

/* The host properties of GPU platform 'arg', one per line, 6 spaces in. */
static void write_props(FILE *fp, const void *arg)
{
    const gpu_platform *p = arg;
    const gpu_chip *c = p->chip;
    char num[40];
    fprintf(fp, "      <prop id=\"family\" value=\"gpu\"/>\n");
    fprintf(fp, "      <prop id=\"chip\" value=\"%s\"/>\n", c->name);
    const struct { const char *id; int v; } ints[] = {
        { "sms", c->sms }, { "tile_m", c->tile_m }, { "tile_n", c->tile_n }, { "tile_k", c->tile_k },
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        fprintf(fp, "      <prop id=\"%s\" value=\"%d\"/>\n", ints[i].id, ints[i].v);
    const struct { const char *id; double v; } nums[] = {
        { "clock_Hz", c->clock_Hz },
        { "bf16_flops_per_core", c->bf16_flops },
        { "fp32_vec_flops_per_core", c->fp32_flops },
        { "fp32_matmul_flops", c->fp32_matmul_flops },
        { "mm_efficiency", c->mm_efficiency },
        { "hbm_efficiency", c->hbm_efficiency },
        { "optimizer_bytes_per_param", c->opt_bytes_per_param },
        { "hbm_bytes_per_core", c->hbm_bytes },
        { "hbm_Bps_per_core", c->hbm_Bps },
        { "onchip_bytes_per_core", c->l2_bytes },
        { "op_overhead_s", c->op_overhead_s },
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        torus_format_number(num, sizeof num, nums[i].v);
        fprintf(fp, "      <prop id=\"%s\" value=\"%s\"/>\n", nums[i].id, num);
    }
    fprintf(fp, "      <prop id=\"gpus_per_node\" value=\"%d\"/>\n", p->gpus_per_node);
    fprintf(fp, "      <prop id=\"nodes\" value=\"%d\"/>\n", p->nodes);
    const struct { const char *id; double v; } net[] = {
        { "nvlink_Bps", p->nvlink_Bps }, { "nvlink_lat_s", p->nvlink_lat_s },
        { "nic_Bps", p->nic_Bps }, { "nic_lat_s", p->nic_lat_s },
        { "nvlink_bw_factor", GPU_NVLINK_BW_FACTOR }, { "nvlink_lat_factor", GPU_LAT_FACTOR },
        { "nic_bw_factor", GPU_NIC_BW_FACTOR }, { "nic_lat_factor", GPU_LAT_FACTOR },
    };
    for (size_t i = 0; i < sizeof net / sizeof net[0]; i++) {
        torus_format_number(num, sizeof num, net[i].v);
        fprintf(fp, "      <prop id=\"%s\" value=\"%s\"/>\n", net[i].id, num);
    }
}

/* The link ids of the route from GPU src to GPU dst of platform 'arg' (gpu_route). */
static int route_names(char (*names)[ZONEXML_NAME_MAX], const void *arg, int src, int dst)
{
    gpu_link route[2];
    int nl = gpu_route(route, arg, src, dst);
    for (int i = 0; i < nl; i++)
        gpu_link_name(names[i], ZONEXML_NAME_MAX, route[i]);
    return nl;
}

int gpu_write_xml(FILE *fp, const gpu_platform *p, errbuf *err)
{
    if (gpu_platform_check(p, err) != 0)
        return -1;
    const gpu_chip *c = p->chip;
    int n = gpu_nchips(p);
    char speed[40], nvbw[40], nvlat[40], nicbw[40], niclat[40], lbw[40], name[48];
    torus_format_number(speed, sizeof speed, c->bf16_flops);
    torus_format_number(nvbw, sizeof nvbw, p->nvlink_Bps);
    torus_format_number(nvlat, sizeof nvlat, p->nvlink_lat_s);
    torus_format_number(nicbw, sizeof nicbw, p->nic_Bps);
    torus_format_number(niclat, sizeof niclat, p->nic_lat_s);
    /* Assumption, as on the tori: a copy within one GPU moves at its HBM bandwidth (the engine never charges
     * such traffic: there is one core per GPU). */
    torus_format_number(lbw, sizeof lbw, c->hbm_Bps);

    fprintf(fp, "<?xml version='1.0'?>\n"
                "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
                "<!-- Generated by 'switchsim topology': chip %s, %d node(s) x %d GPUs = %d GPUs.\n"
                "     In a node, an NVSwitch: NVLink %s B/s per GPU per direction, %s s per hop.\n"
                "     Between nodes, a NIC per GPU into a non-blocking fat tree: %s B/s per direction, %s s per link.\n"
                "     Sources of every number: topologies/README.md. -->\n"
                "<platform version=\"4.1\">\n"
                "  <zone id=\"gpus\" routing=\"Full\">\n",
            c->name, p->nodes, p->gpus_per_node, n, nvbw, nvlat, nicbw, niclat);
    zonexml_write_hosts(fp, n, speed, 1, write_props, p);
    /* One link per direction, so sending and receiving never share bandwidth (full-duplex NVLink and IB). */
    for (int r = 0; r < n; r++) {
        for (int k = GPU_NVLINK_UP; k <= GPU_NIC_DOWN; k++) {
            int nvlink = k == GPU_NVLINK_UP || k == GPU_NVLINK_DOWN;
            if ((nvlink && p->gpus_per_node == 1) || (!nvlink && p->nodes == 1))
                continue;                      /* no NVSwitch peer / no other node: the link would be unused */
            gpu_link_name(name, sizeof name, (gpu_link){ .gpu = r, .kind = (gpu_link_kind)k });
            zonexml_write_link(fp, name, nvlink ? nvbw : nicbw, nvlink ? nvlat : niclat);
        }
        zonexml_write_loopback(fp, r, lbw);
    }
    if (zonexml_write_routes(fp, n, 2, route_names, p) != 0)
        return errbuf_set(err, "gpu platform: out of memory");
    fprintf(fp, "  </zone>\n</platform>\n");
    if (ferror(fp))
        return errbuf_set(err, "gpu platform: write failed");
    return 0;
}
