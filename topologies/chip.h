/* chip: the one table of a chip's properties (CHIP_PROPS), in the manner of Redis's static_configs[]: each
 * entry has its property name, unit, rule and physical range, the families that carry it, the source of its
 * defaults, the chip_spec field it fills, and its default on every chip preset.  The presets, both platform
 * XML writers, the range checks, the read-back from a platform (sim/platform.c) and the cost model's chip
 * (sim/cost.h: cost_chip is a chip_spec) all iterate over it; a new property is one entry and one field.
 * Pure C (libc + errbuf): no SimGrid, no I/O besides writing the <prop> lines to a FILE. */
#ifndef SWITCHSIM_CHIP_H
#define SWITCHSIM_CHIP_H

#include <stddef.h>
#include <stdio.h>

#include "sim/common/errbuf.h"

#define CHIP_NAME_MAX 32          /* a chip name, with its NUL */
#define CHIP_DIMS_MAX 3           /* torus dimensions (as TORUS_MAX_DIMS) */

/* Chip family: a TPU-like chip of TensorCores (MXU blocks, vector unit, ICI torus) or a GPU (tensor-core tiles
 * in waves over SMs, kernel launches, NVLink/NVSwitch and NICs).  Property 'family'; absent means tpu. */
typedef enum { CHIP_FAMILY_TPU = 0, CHIP_FAMILY_GPU = 1 } chip_family;

/* How an fp32 matmul runs (property matmul_precision, run option --matmul-precision), XLA's dot precision
 * [SOURCES 5.3].  TPU: 1, 3 or 6 bf16 MXU passes.  GPU: TF32 tensor cores, three bf16 passes (bf16x3), or
 * true fp32 on the CUDA cores. */
typedef enum { CHIP_MM_DEFAULT = 0, CHIP_MM_HIGH = 1, CHIP_MM_HIGHEST = 2 } chip_matmul_precision;

/* The chip presets, in the order the defaults of a CHIP_PROPS entry are given. */
typedef enum { CHIP_TPUV2, CHIP_TPUV3, CHIP_TPUV4, CHIP_TPUV5P, CHIP_H100, CHIP_H200, CHIP_N_PRESETS } chip_preset_id;

/* One chip, or one TPU TensorCore: every number is per core (a GPU is one core), named as its field in the
 * property table (CHIP_PROPS says which property fills which field, its unit and its source).  The network
 * numbers a platform host carries are here too, since a preset gives their defaults and a platform states
 * them per host.  Fields of the other family stay 0. */
typedef struct {
    char chip[CHIP_NAME_MAX];       /* property chip: "tpuv3", "h200" */
    int family;                     /* property family: a chip_family */
    int cores_per_chip;             /* the host's core count (TensorCores sharing the chip's links; GPU 1) */
    /* the chip */
    int mxus_per_core;              /* TPU: systolic matrix units per core */
    int mxu_dim;                    /* TPU: systolic array side, 128 */
    int sms;                        /* GPU: streaming multiprocessors */
    int tile_m, tile_n, tile_k;     /* GPU: one CTA's output tile and its K step */
    double clock_Hz;
    double bf16_flops;              /* bf16 peak per core, flop/s (TPU: mxus * dim^2 * 2 * clock; GPU: dense) */
    double fp32_vec_flops;          /* fp32 vector rate (TPU vector unit, GPU CUDA cores), flop/s */
    double fp32_matmul_flops;       /* GPU: rate of a true fp32 matmul (precision highest: plain FP32), flop/s */
    double tf32_flops;              /* GPU: dense TF32 tensor-core peak (an fp32 matmul at precision default) */
    double mm_efficiency;           /* GPU: fraction of bf16_flops a full wave of tiles sustains */
    double torch_mm_efficiency;     /* GPU, torch profile: its mm_efficiency (0: the one above) */
    double torch_hbm_efficiency;    /* GPU, torch profile: its hbm_efficiency (0: the one above) */
    double torch_op_overhead_s;     /* GPU, torch profile: its op_overhead_s (0: the one above) */
    double grouped_mm_efficiency;   /* GPU, torch profile: mm_efficiency of a grouped GEMM's tiles (0: its
                                     * mm_efficiency) */
    double hbm_efficiency;          /* GPU: fraction of hbm_Bps a streaming kernel reaches */
    double opt_bytes_per_param;     /* GPU: HBM bytes per parameter per step of the optimizer update */
    double hbm_bytes;
    double hbm_Bps;
    double onchip_bytes;            /* TPU VMEM, GPU L2 */
    double op_overhead_s;           /* fixed cost per op (TPU) or from one kernel's end to the next's start (GPU) */
    int matmul_precision;           /* how an fp32 matmul runs, a chip_matmul_precision: the chip's default,
                                     * which --matmul-precision overrides */
    /* the network a host of a platform states: the preset's defaults, or the platform's */
    int ndims;                      /* TPU: torus dimensions, 2 or 3 (0 in a preset) */
    int dims[CHIP_DIMS_MAX];        /* TPU: chips per dimension; 1 past ndims */
    int wrap[CHIP_DIMS_MAX];        /* TPU: 1 where a dimension has wraparound links */
    int wrap_unit;                  /* TPU '--wrap auto': a dimension wraps when its size is a multiple of this */
    double link_Bps, link_lat_s;    /* TPU: per ICI link per direction, per hop */
    double link_bw_factor, link_lat_factor;   /* TPU: the 'hw' network model's ICI factors (sim/netmodel.h) */
    int gpus_per_node, nodes;       /* GPU: the platform's shape (0 in a preset) */
    double nvlink_Bps, nvlink_lat_s;          /* GPU: per GPU per direction, per hop */
    double nic_Bps, nic_lat_s;                /* GPU: per NIC per direction, per NIC link */
    double nvlink_bw_factor, nvlink_lat_factor, nic_bw_factor, nic_lat_factor;   /* GPU: 'hw' model factors */
    int rails;                      /* GPU rail fat tree: rails (= gpus_per_node); 0 on the flat form */
    int nodes_per_leaf;             /* GPU rail fat tree: nodes of a leaf group (topologies/gpu.h) */
    double oversub;                 /* GPU rail fat tree: leaf downlink over uplink bandwidth, >= 1 */
    double spine_lat_s;             /* GPU rail fat tree: per leaf-spine link */
    int nvlink_links;               /* GPU: NVLink links per GPU (not a property) */
    /* not a property: the program's numeric precision, a cost_precision (sim/cost.h) the engine sets */
    int precision;
} chip_spec;

/* The rule a property's value follows (its message is chip_prop_rule). */
typedef enum {
    CHIP_K_NAME,      /* 1 to 31 letters, digits, '-' or '_' (field: char[CHIP_NAME_MAX]) */
    CHIP_K_FAMILY,    /* tpu or gpu (field: int) */
    CHIP_K_INT,       /* an integer > 0 (field: int) */
    CHIP_K_POS,       /* a number > 0 (field: double) */
    CHIP_K_NONNEG,    /* a number >= 0 */
    CHIP_K_MMPREC,    /* default, high or highest (field: int, a chip_matmul_precision) */
    CHIP_K_FRAC,      /* a number in (0, 1] */
    CHIP_K_BWF,       /* a number in [0.5, 1]: a link's payload share of its rate */
    CHIP_K_LATF,      /* a number in [1, 100]: a flow's start-up in route latencies */
    CHIP_K_DIMS,      /* 2 or 3 comma-separated sizes in [1, 1024] (fields: ndims, dims) */
    CHIP_K_WRAP,      /* comma-separated 0/1 flags (field: wrap) */
} chip_kind;

/* Which platforms carry a property: both families, TPU or GPU platforms only; _SHAPE: the same, but the value is
 * the platform's shape (torus, wrap, gpus_per_node, nodes), which no preset gives; OPTIONAL: may be absent (then
 * 0; written only when not 0: 'family' of a TPU); PRESET: a preset's number that is no host property. */
typedef enum {
    CHIP_BOTH, CHIP_TPU, CHIP_GPU, CHIP_TPU_SHAPE, CHIP_GPU_SHAPE, CHIP_OPTIONAL, CHIP_PRESET
} chip_carried;

/* One entry of the table. */
typedef struct {
    const char *id;                 /* property name in the platform XML */
    chip_kind kind;
    chip_carried carried;
    double lo, hi;                  /* physical range of a number (both 0: only the rule) */
    const char *unit;               /* SI unit of a number, "" for counts, names and lists */
    const char *source;             /* where the defaults come from: a SOURCES.md key, or "assumption" */
    size_t off;                     /* the chip_spec field it fills (offsetof) */
    double def[CHIP_N_PRESETS];     /* default on each preset (numbers); 'chip' and 'family' come from the preset */
} chip_prop;

#define CHIP_PROPS_MAX 64         /* room for the table, for arrays indexed like it (chip.c asserts it fits) */
extern const chip_prop CHIP_PROPS[];
extern const int CHIP_N_PROPS;

/* Whether a platform of family 'family' carries property p (OPTIONAL ones: never required). */
int chip_prop_required(const chip_prop *p, int family);
/* The property called 'id', or NULL. */
const chip_prop *chip_prop_find(const char *id);
/* "must be a number > 0" and the like: the rule of p's kind, for messages. */
const char *chip_prop_rule(const chip_prop *p);

/* Parses 'value' by p's rule into p's field of *out (lists into ndims/dims or wrap).  Returns 0; -1 when the
 * value breaks the rule; -2 when it follows the rule but lies outside [p->lo, p->hi] (only checked when
 * 'range' is 1).  On failure *out is untouched. */
int chip_prop_parse(chip_spec *out, const chip_prop *p, const char *value, int range);

/* p's value in c as a number (a NAME or list property: 0). */
double chip_prop_number(const chip_spec *c, const chip_prop *p);
/* Writes p's value in c into buf (size n) as the platform writes it: integers as such, numbers with the
 * fewest digits that read back exactly, lists comma-separated. */
void chip_prop_format(char *buf, size_t n, const chip_spec *c, const chip_prop *p);

/* *out <- the preset called 'name' (tpuv2, tpuv3, tpuv4, tpuv5p, h100, h200), every field from the table's defaults.
 * Returns 0, or -1 leaving *out untouched when there is none. */
int chip_preset(chip_spec *out, const char *name);
/* The preset names of 'family' (-1: all) for messages, "tpuv2, tpuv3 or tpuv4", into buf (size n). */
void chip_preset_names(char *buf, size_t n, int family);

/* Checks every property c's family carries, but the platform's shape, against its rule and range (a preset,
 * or a spec built by hand).
 * Returns 0, or -1 with "chip C: property 'P' must be ..., got 'V'". */
int chip_spec_check(const chip_spec *c, errbuf *err);

/* Writes the <prop> line of every property c's family carries, in table order, 'indent' spaces in. */
void chip_write_props(FILE *fp, const chip_spec *c, int indent);

/* Writes the comma list of v (count entries), "4,4", into buf (size n). */
void chip_format_list(char *buf, size_t n, const int *v, int count);
/* "default", "high" or "highest"; NULL for another value. */
const char *chip_matmul_precision_name(int level);
/* The level called 'name', or -1. */
int chip_matmul_precision_parse(const char *name);
/* bf16 MXU passes of an fp32 matmul on a TPU at 'level': 1 (default), 3 (high, bf16_3x), 6 (highest,
 * bf16_6x) [SOURCES 5.3]. */
double chip_tpu_fp32_matmul_passes(int level);

/* Formats v with the fewest significant digits (up to 17) that strtod reads back as exactly v. */
void chip_format_number(char *buf, size_t n, double v);

#endif
