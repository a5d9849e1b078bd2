/* chip: the property table (CHIP_PROPS) with every preset's numbers, their rules, ranges and sources, and the
 * code that parses, checks, formats and writes a property by it.  Pure C: the platform files written from it
 * are read back by SimGrid in sim/platform.c, never here.  Each default is marked with its source in
 * SOURCES.md (section 5.1 for the TPUs, 5.2 for the GPUs), or as measured, fitted or an assumption; the
 * assumptions are named constants below with their reasoning.  topologies/README.md has the same table. */
#include "topologies/chip.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GIB 1073741824.0
#define MIB 1048576.0
#define GB 1e9

/* ---- TPU assumptions ---- */

/* The ICI latency per hop is not published: SOURCES 5.1 "ICI latency" gives ~0.5-1 us per hop as an
 * assumption [M/S].  Default: the upper end, 1 us (assumption). */
#define ICI_LAT_S 1e-6

/* How the 'hw' network model (sim/netmodel.h) treats ICI links, written as the platform properties
 * link_bw_factor and link_lat_factor.  Bandwidth: ICI's packet format is not published, and the per-link rates
 * of SOURCES 5.1 are delivered figures (the 100 GB/s of TPUv3 is the published pod bisection over its links),
 * so the payload is the whole rate: 1 (assumption).  Latency: a chip-to-chip link with hardware flow control
 * has no TCP start-up (no slow start, no window): a flow pays the route's hop latencies once: 1 [SOURCES 9.2]. */
#define ICI_BW_FACTOR 1.0
#define ICI_LAT_FACTOR 1.0

/* Per-op fixed cost.  Not in SOURCES.md (assumption).  Reasoning: a TPU core runs a precompiled VLIW
 * stream, so there is no GPU-style kernel launch; what an op pays regardless of size is filling and draining
 * the systolic array (about 2 x 128 cycles = 0.27 us at 940 MHz) plus starting its HBM->VMEM DMAs, whose
 * latency is unpublished.  Rounded up to 1 us; the cost model calibrates its efficiencies on GShard
 * (SOURCES 6.1) with this value fixed. */
#define TPU_OP_OVERHEAD_S 1e-6

/* bf16 MXU passes of an fp32 matmul at each matmul precision: XLA's dot algorithms on a TPU [SOURCES 5.3]:
 * DEFAULT one bf16 pass (fp32 accumulation), HIGH bf16_3x, HIGHEST bf16_6x.  Why 6 for a product accurate to
 * about 2^-24 [D]: an fp32 significand has 24 bits, three bf16 pieces of 8 bits (hi, mid, lo), and the cross
 * terms whose orders add up to at most 2 are six (hi*hi, hi*mid, mid*hi, mid*mid, hi*lo, lo*hi). */
static const double TPU_FP32_MATMUL_PASSES[] = { [CHIP_MM_DEFAULT] = 1, [CHIP_MM_HIGH] = 3, [CHIP_MM_HIGHEST] = 6 };

/* The TPU presets run fp32 matmuls at DEFAULT, one bf16 pass: "By default, TPUs perform matrix multiplication
 * operations with bfloat16 values and accumulations with IEEE float32 values" (Cloud TPU bfloat16 page), which
 * TensorFlow, Mesh TensorFlow and Lingvo kept and JAX kept until September 2021 [SOURCES 5.3]: the Switch and
 * GShard runs' fp32 router paid bytes, not passes. */
#define TPU_MATMUL_PRECISION CHIP_MM_DEFAULT

/* fp32 vector rate per core.  Not in SOURCES.md as a rate (assumption, derived from CACM20 notes in
 * SOURCES 5.1 "Vector unit"): vector registers are 128 lanes x 8 sublanes of 32-bit elements and a VLIW
 * bundle issues 2 vector ALU ops, so 128 * 8 * 2 = 2048 fp32 ops per cycle (an FMA counted as one op).
 * TPUv4 (ISCA23 notes: 128 lanes, 16 ALUs per lane per core) gives the same 2048 per cycle. */
#define VPU_OPS_PER_CYCLE 2048.0

/* [SOURCES 5.1 MXU 128x128] on every TPU generation here. */
#define MXU_DIM 128
/* bf16 peak per core: mxus * dim^2 multiply-adds * 2 flops * clock (SOURCES 5.1 [D] rows; x2 cores is within
 * 1% of the published 46 / 123 / 275 TFLOP/s per chip). */
#define TPU_BF16_FLOPS(mxus, clock) ((double)(mxus) * MXU_DIM * MXU_DIM * 2.0 * (clock))

/* TPU v5p [SOURCES 5.4]: per chip 2 TensorCores of 4 MXUs each, 459 TFLOP/s bf16, 95 GiB HBM2e at 2765 GB/s,
 * 1200 GB/s of ICI per chip counting both directions, in a 3-D torus (6 links).  Not published, so derived or
 * assumed: the MXUs are 128x128 as on every earlier TPU (assumption); the clock is what makes the peak with them,
 * 459e12 / (2 cores x 4 MXUs x 128^2 x 2) = 1.75 GHz [D]; a link carries 1200 / 6 / 2 = 100 GB/s each way [D];
 * the VMEM is TPUv4's 16 MiB per TensorCore, the vector unit TPUv4's 2048 ops per cycle (assumptions). */
#define V5P_CLOCK_HZ 1.75e9
#define V5P_LINK_BPS (1200e9 / 6 / 2)

/* ---- GPU numbers shared by H100 and H200 SXM (the same GH100 die), each [datasheet], [measured] (on the
 * one H200, SOURCES 5.2 [M]), [fitted] or [assumption] ---- */

/* [datasheet, SOURCES 5.2] boost clock 1.98 GHz.  The dense bf16 peak below works out to 1.83 GHz x 132 SMs
 * x 4096 flop per SM per cycle (the whitepaper's tensor-core clock); the cost model uses the peaks, not this. */
#define GPU_CLOCK_HZ 1.98e9
/* [datasheet, SOURCES 5.2] dense (no sparsity) tensor-core peaks, and plain FP32 on the CUDA cores. */
#define GPU_BF16_FLOPS 989.4e12
#define GPU_TF32_FLOPS 494.7e12
#define GPU_FP32_FLOPS 66.9e12
/* [datasheet, SOURCES 5.2] 50 MB of L2, decimal.  PyTorch reports 60 MB on the H200 measured (the die's full
 * L2); the datasheet figure is used. */
#define GPU_L2_BYTES 50e6
/* [assumption] One CTA computes a 128x128 output tile with a K step of 64 bf16 elements: the common Hopper
 * cuBLAS/CUTLASS bf16 tile (128x256 and 256x128 tiles exist too; no source says which one XLA picks). */
#define GPU_TILE_M 128
#define GPU_TILE_N 128
#define GPU_TILE_K 64
/* [fitted, see GPU_MM_EFFICIENCY] Time from one kernel's end to the next one's start, launch and tail. */
#define GPU_OP_OVERHEAD_S 9.143e-6
/* A true fp32 matmul runs on the plain FP32 units (precision highest); default runs it on TF32 tensor cores,
 * high as three bf16 passes.  The GPU presets run fp32 matmuls at HIGHEST: the measured H200 dataset's JAX
 * program asks for precision=HIGHEST on its router matmul (SOURCES 5.2, 5.3). */
#define GPU_FP32_MATMUL_FLOPS GPU_FP32_FLOPS
#define GPU_MATMUL_PRECISION CHIP_MM_HIGHEST
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
/* [fitted] The torch profile's (PyTorch eager, sim/eager.h) mm_efficiency, hbm_efficiency, op_overhead_s and the
 * grouped GEMM's efficiency, fitted by 'switchsim calibrate --torch' to the 12 calibration rows of
 * data/h100-moe-steps.csv (PyTorch 2.11 eager on one H100 SXM; the 26 held-out rows are never fitted on).  The
 * same hardware as above under another program: eager kernels are unfused and each is a launch, so the
 * values differ from the JAX program's.  H200: not measured under torch; the H100's values are assumed. */
#define TORCH_MM_EFFICIENCY 0.7857
#define TORCH_HBM_EFFICIENCY 0.6826
#define TORCH_OP_OVERHEAD_S 2.621e-19
#define TORCH_GROUPED_MM_EFFICIENCY 0.9972
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

/* A default the same on H100 and H200. */
#define HOPPER(v) [CHIP_H100] = (v), [CHIP_H200] = (v)
/* A default the same on every TPU. */
#define TPUS(v) [CHIP_TPUV2] = (v), [CHIP_TPUV3] = (v), [CHIP_TPUV4] = (v), [CHIP_TPUV5P] = (v)

static const char *const PRESET_NAMES[CHIP_N_PRESETS] = {
    [CHIP_TPUV2] = "tpuv2", [CHIP_TPUV3] = "tpuv3", [CHIP_TPUV4] = "tpuv4", [CHIP_TPUV5P] = "tpuv5p",
    [CHIP_H100] = "h100", [CHIP_H200] = "h200",
};

#define F(field) offsetof(chip_spec, field)

/* The table.  Order is the order of the <prop> lines in a platform file (each family writes its own, in this
 * order), so the generated files stay as they were.  Ranges: far outside every chip and network built, and
 * inside what keeps the cost model and SimGrid finite (a clock of 1e-300 Hz or an overhead of 1e308 s would
 * give a deadlock or a step shorter than its parts). */
const chip_prop CHIP_PROPS[] = {
    { "family", CHIP_K_FAMILY, CHIP_OPTIONAL, 0, 0, "", "", F(family),
      { TPUS(CHIP_FAMILY_TPU), HOPPER(CHIP_FAMILY_GPU) } },
    { "chip", CHIP_K_NAME, CHIP_BOTH, 0, 0, "", "", F(chip), { 0 } },
    { "mxus_per_core", CHIP_K_INT, CHIP_TPU, 1, 64, "", "SOURCES 5.1 MXUs per TensorCore", F(mxus_per_core),
      { [CHIP_TPUV2] = 1, [CHIP_TPUV3] = 2, [CHIP_TPUV4] = 4, [CHIP_TPUV5P] = 4 } },   /* [V GCP for v3-v5p] */
    { "mxu_dim", CHIP_K_INT, CHIP_TPU, 1, 4096, "", "SOURCES 5.1 MXU 128x128", F(mxu_dim), { TPUS(MXU_DIM) } },
    { "sms", CHIP_K_INT, CHIP_GPU, 1, 100000, "", "SOURCES 5.2 datasheet", F(sms),
      { HOPPER(132) } },                                             /* 132 SMs on H100 SXM5 and H200 SXM */
    { "tile_m", CHIP_K_INT, CHIP_GPU, 1, 4096, "", "assumption", F(tile_m), { HOPPER(GPU_TILE_M) } },
    { "tile_n", CHIP_K_INT, CHIP_GPU, 1, 4096, "", "assumption", F(tile_n), { HOPPER(GPU_TILE_N) } },
    { "tile_k", CHIP_K_INT, CHIP_GPU, 1, 4096, "", "assumption", F(tile_k), { HOPPER(GPU_TILE_K) } },
    { "clock_Hz", CHIP_K_POS, CHIP_BOTH, 1e6, 1e11, "Hz", "SOURCES 5.1 Clock; SOURCES 5.2 boost clock", F(clock_Hz),
      { [CHIP_TPUV2] = 700e6, [CHIP_TPUV3] = 940e6, [CHIP_TPUV4] = 1050e6,   /* [S CACM20; -; S ISCA23] */
        [CHIP_TPUV5P] = V5P_CLOCK_HZ,                                       /* [D from the peak, 5.4] */
        HOPPER(GPU_CLOCK_HZ) } },
    { "bf16_flops_per_core", CHIP_K_POS, CHIP_BOTH, 1e6, 1e18, "flop/s", "SOURCES 5.1 [D] rows; SOURCES 5.2",
      F(bf16_flops),
      { [CHIP_TPUV2] = TPU_BF16_FLOPS(1, 700e6), [CHIP_TPUV3] = TPU_BF16_FLOPS(2, 940e6),
        [CHIP_TPUV4] = TPU_BF16_FLOPS(4, 1050e6), [CHIP_TPUV5P] = TPU_BF16_FLOPS(4, V5P_CLOCK_HZ),
        HOPPER(GPU_BF16_FLOPS) } },
    { "fp32_vec_flops_per_core", CHIP_K_POS, CHIP_BOTH, 1e3, 1e18, "flop/s",
      "assumption (TPU: VPU_OPS_PER_CYCLE); SOURCES 5.2 plain FP32", F(fp32_vec_flops),
      { [CHIP_TPUV2] = VPU_OPS_PER_CYCLE * 700e6, [CHIP_TPUV3] = VPU_OPS_PER_CYCLE * 940e6,
        [CHIP_TPUV4] = VPU_OPS_PER_CYCLE * 1050e6, [CHIP_TPUV5P] = VPU_OPS_PER_CYCLE * V5P_CLOCK_HZ,
        HOPPER(GPU_FP32_FLOPS) } },
    { "fp32_matmul_flops", CHIP_K_POS, CHIP_GPU, 1e3, 1e18, "flop/s", "SOURCES 5.2 plain FP32 (JAX HIGHEST)",
      F(fp32_matmul_flops), { HOPPER(GPU_FP32_MATMUL_FLOPS) } },
    { "tf32_flops", CHIP_K_POS, CHIP_GPU, 1e3, 1e18, "flop/s", "SOURCES 5.2 dense TF32", F(tf32_flops),
      { HOPPER(GPU_TF32_FLOPS) } },
    { "mm_efficiency", CHIP_K_FRAC, CHIP_GPU, 0, 1, "", "fitted (switchsim calibrate)", F(mm_efficiency),
      { HOPPER(GPU_MM_EFFICIENCY) } },
    { "hbm_efficiency", CHIP_K_FRAC, CHIP_GPU, 0, 1, "", "fitted (switchsim calibrate)", F(hbm_efficiency),
      { HOPPER(GPU_HBM_EFFICIENCY) } },
    { "optimizer_bytes_per_param", CHIP_K_POS, CHIP_GPU, 0, 1000, "B", "fitted (switchsim calibrate)",
      F(opt_bytes_per_param), { HOPPER(GPU_OPT_BYTES_PER_PARAM) } },
    /* the torch profile's own (optional: a GPU platform written before them runs it with the values above) */
    { "torch_mm_efficiency", CHIP_K_FRAC, CHIP_OPTIONAL, 0, 1, "", "fitted (switchsim calibrate --torch)",
      F(torch_mm_efficiency), { HOPPER(TORCH_MM_EFFICIENCY) } },
    { "torch_hbm_efficiency", CHIP_K_FRAC, CHIP_OPTIONAL, 0, 1, "", "fitted (switchsim calibrate --torch)",
      F(torch_hbm_efficiency), { HOPPER(TORCH_HBM_EFFICIENCY) } },
    { "torch_op_overhead_s", CHIP_K_NONNEG, CHIP_OPTIONAL, 0, 1, "s", "fitted (switchsim calibrate --torch)",
      F(torch_op_overhead_s), { HOPPER(TORCH_OP_OVERHEAD_S) } },
    { "grouped_mm_efficiency", CHIP_K_FRAC, CHIP_OPTIONAL, 0, 1, "", "fitted (switchsim calibrate --torch)",
      F(grouped_mm_efficiency), { HOPPER(TORCH_GROUPED_MM_EFFICIENCY) } },
    { "hbm_bytes_per_core", CHIP_K_POS, CHIP_BOTH, 1e6, 1e15, "B", "SOURCES 5.1 HBM per chip / cores; SOURCES 5.2",
      F(hbm_bytes),
      { [CHIP_TPUV2] = 8 * GIB,          /* 16 GiB/chip, 8 GiB/core [D] */
        [CHIP_TPUV3] = 16 * GIB,         /* 32 GiB/chip, separate per core */
        [CHIP_TPUV4] = 32 * GIB / 2,     /* 32 GiB/chip, shared by the megacore: split evenly (assumption) */
        [CHIP_TPUV5P] = 95 * GIB / 2,    /* 95 GiB HBM2e per chip [5.4], split evenly (assumption) */
        [CHIP_H100] = 80 * GB,           /* [datasheet] H100 SXM5 80 GB HBM3 */
        [CHIP_H200] = 141 * GB } },      /* [datasheet] H200 SXM 141 GB HBM3e */
    { "hbm_Bps_per_core", CHIP_K_POS, CHIP_BOTH, 1e6, 1e15, "B/s", "SOURCES 5.1 HBM BW per chip / cores; SOURCES 5.2",
      F(hbm_Bps),
      { [CHIP_TPUV2] = 700e9 / 2,        /* 700 GB/s per chip [S CACM20] */
        [CHIP_TPUV3] = 900e9 / 2,        /* 900 GB/s per chip [V GCP] */
        [CHIP_TPUV4] = 1200e9 / 2,       /* 1200 GB/s per chip [V GCP] */
        [CHIP_TPUV5P] = 2765e9 / 2,      /* 2765 GB/s per chip [5.4] */
        [CHIP_H100] = 3.35e12, [CHIP_H200] = 4.8e12 } },   /* [datasheet] */
    { "onchip_bytes_per_core", CHIP_K_POS, CHIP_BOTH, 1, 1e12, "B", "SOURCES 5.1 VMEM; SOURCES 5.2 L2",
      F(onchip_bytes),
      { [CHIP_TPUV2] = 16 * MIB,         /* 16 MiB Vmem per core */
        [CHIP_TPUV3] = 32 * MIB / 2,     /* 32 MiB VMEM per chip; spMEM left out */
        [CHIP_TPUV4] = 16 * MIB,         /* 16 MiB VMEM per TensorCore; CMEM left out */
        [CHIP_TPUV5P] = 16 * MIB,        /* not published: TPUv4's (assumption) */
        HOPPER(GPU_L2_BYTES) } },
    { "op_overhead_s", CHIP_K_NONNEG, CHIP_BOTH, 0, 1, "s", "assumption (TPU); fitted (GPU)", F(op_overhead_s),
      { TPUS(TPU_OP_OVERHEAD_S), HOPPER(GPU_OP_OVERHEAD_S) } },
    { "matmul_precision", CHIP_K_MMPREC, CHIP_BOTH, 0, 0, "", "SOURCES 5.3", F(matmul_precision),
      { TPUS(TPU_MATMUL_PRECISION), HOPPER(GPU_MATMUL_PRECISION) } },
    { "torus", CHIP_K_DIMS, CHIP_TPU_SHAPE, 0, 0, "", "the platform's shape", F(dims), { 0 } },
    { "wrap", CHIP_K_WRAP, CHIP_TPU_SHAPE, 0, 0, "", "the platform's shape", F(wrap), { 0 } },
    { "link_Bps", CHIP_K_POS, CHIP_TPU, 1, 1e16, "B/s", "SOURCES 5.1 ICI per-link bandwidth conflict", F(link_Bps),
      { [CHIP_TPUV2] = 62e9,             /* 496 Gbit/s = 62 GB/s per link [S CACM20] */
        [CHIP_TPUV3] = 100e9,            /* recommended 100 GB/s one-way (SB, GCP bisection); ISCA23 70 and CACM
                                          * ~84 are options */
        [CHIP_TPUV4] = 45e9,             /* SB 4.5e10 B/s one-way; ISCA23 50 */
        [CHIP_TPUV5P] = V5P_LINK_BPS } },  /* 1200 GB/s bidirectional per chip over 6 links [D, 5.4] */
    { "link_lat_s", CHIP_K_NONNEG, CHIP_TPU, 0, 1, "s", "SOURCES 5.1 ICI latency (assumption)", F(link_lat_s),
      { TPUS(ICI_LAT_S) } },
    { "link_bw_factor", CHIP_K_BWF, CHIP_TPU, 0, 0, "", "SOURCES 9.2", F(link_bw_factor), { TPUS(ICI_BW_FACTOR) } },
    { "link_lat_factor", CHIP_K_LATF, CHIP_TPU, 0, 0, "", "SOURCES 9.2", F(link_lat_factor), { TPUS(ICI_LAT_FACTOR) } },
    { "gpus_per_node", CHIP_K_INT, CHIP_GPU_SHAPE, 1, 1024, "", "the platform's shape", F(gpus_per_node), { 0 } },
    { "nodes", CHIP_K_INT, CHIP_GPU_SHAPE, 1, 100000, "", "the platform's shape", F(nodes), { 0 } },
    { "nvlink_Bps", CHIP_K_POS, CHIP_GPU, 1, 1e16, "B/s", "SOURCES 5.2 NVLink 4", F(nvlink_Bps),
      { HOPPER(GPU_NVLINK_BPS) } },
    { "nvlink_lat_s", CHIP_K_NONNEG, CHIP_GPU, 0, 1, "s", "assumption", F(nvlink_lat_s), { HOPPER(GPU_NVLINK_LAT_S) } },
    { "nic_Bps", CHIP_K_POS, CHIP_GPU, 1, 1e16, "B/s", "SOURCES 5.2 ConnectX-7 NDR", F(nic_Bps), { HOPPER(GPU_NIC_BPS) } },
    { "nic_lat_s", CHIP_K_NONNEG, CHIP_GPU, 0, 1, "s", "assumption", F(nic_lat_s), { HOPPER(GPU_NIC_LAT_S) } },
    { "nvlink_bw_factor", CHIP_K_BWF, CHIP_GPU, 0, 0, "", "SOURCES 9.2", F(nvlink_bw_factor),
      { HOPPER(GPU_NVLINK_BW_FACTOR) } },
    { "nvlink_lat_factor", CHIP_K_LATF, CHIP_GPU, 0, 0, "", "SOURCES 9.2", F(nvlink_lat_factor),
      { HOPPER(GPU_LAT_FACTOR) } },
    { "nic_bw_factor", CHIP_K_BWF, CHIP_GPU, 0, 0, "", "SOURCES 9.2", F(nic_bw_factor), { HOPPER(GPU_NIC_BW_FACTOR) } },
    { "nic_lat_factor", CHIP_K_LATF, CHIP_GPU, 0, 0, "", "SOURCES 9.2", F(nic_lat_factor), { HOPPER(GPU_LAT_FACTOR) } },
    /* the rail-optimised fat tree's shape (topologies/gpu.h): optional, absent (0) on the flat form */
    { "rails", CHIP_K_INT, CHIP_OPTIONAL, 1, 64, "", "the platform's shape", F(rails), { 0 } },
    { "nodes_per_leaf", CHIP_K_INT, CHIP_OPTIONAL, 1, 1024, "", "the platform's shape", F(nodes_per_leaf), { 0 } },
    { "oversub", CHIP_K_POS, CHIP_OPTIONAL, 1, 64, "", "the platform's shape", F(oversub), { 0 } },
    { "spine_lat_s", CHIP_K_NONNEG, CHIP_OPTIONAL, 0, 1, "s", "assumption", F(spine_lat_s), { 0 } },
    /* a preset's numbers that no host property carries */
    { "cores_per_chip", CHIP_K_INT, CHIP_PRESET, 1, 64, "", "SOURCES 5.1 TensorCores/chip", F(cores_per_chip),
      { TPUS(2), HOPPER(1) } },          /* a GPU is one simulated core */
    { "wrap_unit", CHIP_K_INT, CHIP_PRESET, 0, 0, "", "SOURCES 5.1 wraparound caveat", F(wrap_unit),
      { [CHIP_TPUV2] = 16,               /* pod 16x16 */
        [CHIP_TPUV3] = 32,               /* pod 32x32 */
        [CHIP_TPUV4] = 4,                /* wraparound for dimensions that are multiples of 4 */
        [CHIP_TPUV5P] = 4 } },           /* wraparound where a dimension is a whole number of 4-chip cubes [5.4] */
    { "nvlink_links", CHIP_K_INT, CHIP_PRESET, 0, 0, "", "SOURCES 5.2 NVLink 4", F(nvlink_links),
      { HOPPER(GPU_NVLINK_LINKS) } },
};
const int CHIP_N_PROPS = (int)(sizeof CHIP_PROPS / sizeof CHIP_PROPS[0]);
_Static_assert(sizeof CHIP_PROPS / sizeof CHIP_PROPS[0] <= CHIP_PROPS_MAX, "CHIP_PROPS_MAX is too small");

static const char *const RULES[] = {
    [CHIP_K_NAME] = "must be a chip name of 1 to 31 letters, digits, '-' or '_'",
    [CHIP_K_FAMILY] = "must be tpu or gpu",
    [CHIP_K_INT] = "must be an integer > 0",
    [CHIP_K_POS] = "must be a number > 0",
    [CHIP_K_NONNEG] = "must be a number >= 0",
    [CHIP_K_MMPREC] = "must be default, high or highest",
    [CHIP_K_FRAC] = "must be a number in (0, 1]",
    [CHIP_K_BWF] = "must be a number in [0.5, 1] (the payload's share of the link rate)",
    [CHIP_K_LATF] = "must be a number in [1, 100] (a flow's start-up in route latencies)",
    [CHIP_K_DIMS] = "must be 2 or 3 comma-separated integers in [1, 1024] such as '4,4'",
    [CHIP_K_WRAP] = "must be comma-separated 0 or 1 flags, one per torus dimension, such as '1,1'",
};

/* Physical ranges of the network factors (sim/netmodel.h): a link protocol whose payload is under half its
 * rate, or a transport whose start-up costs over 100 route latencies (TCP's LV08 fit is 13), is not modelled. */
#define BW_FACTOR_MIN 0.5
#define LAT_FACTOR_MAX 100.0
#define INT_MAX_VALUE 1000000      /* an integer property above this is a typo, whatever its range */
#define DIM_MAX 1024               /* as TORUS_DIM_MAX: the largest torus dimension the generator writes */

static const char *const FAMILY_NAMES[] = { [CHIP_FAMILY_TPU] = "tpu", [CHIP_FAMILY_GPU] = "gpu" };

int chip_prop_required(const chip_prop *p, int family)
{
    if (p->carried == CHIP_BOTH)
        return 1;
    if (p->carried == CHIP_TPU || p->carried == CHIP_TPU_SHAPE)
        return family == CHIP_FAMILY_TPU;
    if (p->carried == CHIP_GPU || p->carried == CHIP_GPU_SHAPE)
        return family == CHIP_FAMILY_GPU;
    return 0;
}

const chip_prop *chip_prop_find(const char *id)
{
    for (int i = 0; i < CHIP_N_PROPS; i++)
        if (CHIP_PROPS[i].carried != CHIP_PRESET && strcmp(CHIP_PROPS[i].id, id) == 0)
            return &CHIP_PROPS[i];
    return NULL;
}

const char *chip_prop_rule(const chip_prop *p)
{
    return RULES[p->kind];
}

/* Parses "a,b[,c]" of integers in [lo, hi] into v (room for 3).  Returns the count, or -1. */
static int parse_int_list(int *v, const char *s, long lo, long hi)
{
    int n = 0;
    const char *p = s;
    for (;;) {
        if (n == CHIP_DIMS_MAX || *p < '0' || *p > '9')
            return -1;
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (errno == ERANGE || x < lo || x > hi)
            return -1;
        v[n++] = (int)x;
        if (*end == '\0')
            return n;
        if (*end != ',')
            return -1;
        p = end + 1;
    }
}

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n >= CHIP_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
              ch == '_'))
            return 0;
    }
    return 1;
}

/* 0 when the number x follows the rule of 'kind' (the numeric kinds). */
static int number_ok(chip_kind kind, double x)
{
    switch (kind) {
    case CHIP_K_INT:
    case CHIP_K_POS:
        return x > 0;
    case CHIP_K_NONNEG:
        return x >= 0;
    case CHIP_K_FRAC:
        return x > 0 && x <= 1;
    case CHIP_K_BWF:
        return x >= BW_FACTOR_MIN && x <= 1;
    case CHIP_K_LATF:
        return x >= 1 && x <= LAT_FACTOR_MAX;
    default:
        return 0;
    }
}

static void *field(chip_spec *c, const chip_prop *p)
{
    return (char *)c + p->off;
}

static const void *cfield(const chip_spec *c, const chip_prop *p)
{
    return (const char *)c + p->off;
}

int chip_prop_parse(chip_spec *out, const chip_prop *p, const char *value, int range)
{
    int list[CHIP_DIMS_MAX], n;
    double x = 0;
    long l;
    switch (p->kind) {
    case CHIP_K_NAME:
        if (!name_ok(value))
            return -1;
        snprintf(out->chip, sizeof out->chip, "%s", value);
        return 0;
    case CHIP_K_MMPREC:
        if ((l = chip_matmul_precision_parse(value)) < 0)
            return -1;
        *(int *)field(out, p) = (int)l;
        return 0;
    case CHIP_K_FAMILY:
        for (int f = 0; f < 2; f++)
            if (strcmp(value, FAMILY_NAMES[f]) == 0) {
                *(int *)field(out, p) = f;
                return 0;
            }
        return -1;
    case CHIP_K_DIMS:
        n = parse_int_list(list, value, 1, DIM_MAX);
        if (n < 2)
            return -1;
        out->ndims = n;
        for (int d = 0; d < CHIP_DIMS_MAX; d++)
            out->dims[d] = d < n ? list[d] : 1;
        return 0;
    case CHIP_K_WRAP:
        n = parse_int_list(list, value, 0, 1);
        if (n < 1)
            return -1;
        for (int d = 0; d < CHIP_DIMS_MAX; d++)
            out->wrap[d] = d < n ? list[d] : 0;
        return 0;
    case CHIP_K_INT:
        if (errbuf_parse_long(value, &l) != 0 || l < 1 || l > INT_MAX_VALUE)
            return -1;
        x = (double)l;
        break;
    default:
        if (errbuf_parse_double(value, &x) != 0 || !number_ok(p->kind, x))
            return -1;
        break;
    }
    if (range && (p->lo != 0 || p->hi != 0) && (x < p->lo || x > p->hi))
        return -2;
    if (p->kind == CHIP_K_INT)
        *(int *)field(out, p) = (int)x;
    else
        *(double *)field(out, p) = x;
    return 0;
}

double chip_prop_number(const chip_spec *c, const chip_prop *p)
{
    switch (p->kind) {
    case CHIP_K_NAME:
    case CHIP_K_DIMS:
    case CHIP_K_WRAP:
        return 0;
    case CHIP_K_FAMILY:
    case CHIP_K_MMPREC:
    case CHIP_K_INT:
        return *(const int *)cfield(c, p);
    default:
        return *(const double *)cfield(c, p);
    }
}

static const char *const MM_NAMES[] = { [CHIP_MM_DEFAULT] = "default", [CHIP_MM_HIGH] = "high",
                                        [CHIP_MM_HIGHEST] = "highest" };

const char *chip_matmul_precision_name(int level)
{
    return level >= CHIP_MM_DEFAULT && level <= CHIP_MM_HIGHEST ? MM_NAMES[level] : NULL;
}

int chip_matmul_precision_parse(const char *name)
{
    for (int i = CHIP_MM_DEFAULT; i <= CHIP_MM_HIGHEST; i++)
        if (strcmp(MM_NAMES[i], name) == 0)
            return i;
    return -1;
}

double chip_tpu_fp32_matmul_passes(int level)
{
    return level >= CHIP_MM_DEFAULT && level <= CHIP_MM_HIGHEST ? TPU_FP32_MATMUL_PASSES[level] : 0.0;
}

void chip_format_list(char *buf, size_t n, const int *v, int count)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int d = 0; d < count && used < n; d++)
        used += (size_t)snprintf(buf + used, n - used, d ? ",%d" : "%d", v[d]);
}

void chip_format_number(char *buf, size_t n, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

void chip_prop_format(char *buf, size_t n, const chip_spec *c, const chip_prop *p)
{
    switch (p->kind) {
    case CHIP_K_NAME:
        snprintf(buf, n, "%s", c->chip);
        break;
    case CHIP_K_FAMILY:
        snprintf(buf, n, "%s", c->family == CHIP_FAMILY_GPU ? "gpu" : "tpu");
        break;
    case CHIP_K_DIMS:
        chip_format_list(buf, n, c->dims, c->ndims);
        break;
    case CHIP_K_WRAP:
        chip_format_list(buf, n, c->wrap, c->ndims);
        break;
    case CHIP_K_MMPREC: {
        const char *name = chip_matmul_precision_name(*(const int *)cfield(c, p));
        snprintf(buf, n, "%s", name != NULL ? name : "?");
        break;
    }
    case CHIP_K_INT:
        snprintf(buf, n, "%d", *(const int *)cfield(c, p));
        break;
    default:
        chip_format_number(buf, n, *(const double *)cfield(c, p));
        break;
    }
}

int chip_preset(chip_spec *out, const char *name)
{
    int id = -1;
    for (int i = 0; name != NULL && i < CHIP_N_PRESETS; i++)
        if (strcmp(PRESET_NAMES[i], name) == 0)
            id = i;
    if (id < 0)
        return -1;
    chip_spec c;
    memset(&c, 0, sizeof c);
    snprintf(c.chip, sizeof c.chip, "%s", PRESET_NAMES[id]);
    for (int k = 0; k < CHIP_N_PROPS; k++) {
        const chip_prop *p = &CHIP_PROPS[k];
        if (p->kind == CHIP_K_INT || p->kind == CHIP_K_FAMILY || p->kind == CHIP_K_MMPREC)
            *(int *)field(&c, p) = (int)p->def[id];
        else if (p->kind != CHIP_K_NAME && p->kind != CHIP_K_DIMS && p->kind != CHIP_K_WRAP)
            *(double *)field(&c, p) = p->def[id];
    }
    *out = c;
    return 0;
}

void chip_preset_names(char *buf, size_t n, int family)
{
    const char *names[CHIP_N_PRESETS];
    int count = 0;
    for (int i = 0; i < CHIP_N_PRESETS; i++) {
        chip_spec c;
        if (chip_preset(&c, PRESET_NAMES[i]) == 0 && (family < 0 || c.family == family))
            names[count++] = PRESET_NAMES[i];
    }
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < count && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s", i == 0 ? "" : i == count - 1 ? " or " : ", ",
                                 names[i]);
}

int chip_spec_check(const chip_spec *c, errbuf *err)
{
    for (int k = 0; k < CHIP_N_PROPS; k++) {
        const chip_prop *p = &CHIP_PROPS[k];
        if (!chip_prop_required(p, c->family) || p->carried == CHIP_TPU_SHAPE || p->carried == CHIP_GPU_SHAPE)
            continue;
        char value[64];
        chip_prop_format(value, sizeof value, c, p);
        chip_spec scratch = *c;
        int rc = chip_prop_parse(&scratch, p, value, 1);
        if (rc == -1)
            return errbuf_set(err, "chip %s: property '%s' %s, got '%s'", c->chip, p->id, RULES[p->kind], value);
        if (rc == -2)
            return errbuf_set(err, "chip %s: property '%s' must be in [%g, %g] (a physical range), got '%s'",
                              c->chip, p->id, p->lo, p->hi, value);
    }
    return 0;
}

void chip_write_props(FILE *fp, const chip_spec *c, int indent)
{
    char value[64];
    for (int k = 0; k < CHIP_N_PROPS; k++) {
        const chip_prop *p = &CHIP_PROPS[k];
        int write = chip_prop_required(p, c->family) || (p->carried == CHIP_OPTIONAL && chip_prop_number(c, p) != 0);
        if (!write)
            continue;
        chip_prop_format(value, sizeof value, c, p);
        fprintf(fp, "%*s<prop id=\"%s\" value=\"%s\"/>\n", indent, "", p->id, value);
    }
}
