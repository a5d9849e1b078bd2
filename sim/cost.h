/* cost: the TPU-like core cost model.  Pure functions of shapes and chip numbers: no SimGrid here
 * (sim/platform.c fills cost_chip from the platform's host properties). */
#ifndef SWITCHSIM_COST_H
#define SWITCHSIM_COST_H

#define COST_CHIP_NAME_MAX 32

/* One TPU-like core.  Every field is per core, read from host properties of the same name
 * (see topologies/README.md); sources are in REFERENCE.md section 5. */
typedef struct {
    char chip[COST_CHIP_NAME_MAX];  /* "tpuv3" */
    int cores_per_chip;             /* TensorCores sharing the chip's links */
    int mxus_per_core;              /* property mxus_per_core */
    int mxu_dim;                    /* property mxu_dim: systolic array side, 128 */
    double clock_Hz;                /* property clock_Hz */
    double bf16_flops;              /* property bf16_flops_per_core: peak = mxus*dim^2*2*clock */
    double fp32_vec_flops;          /* property fp32_vec_flops_per_core: vector unit rate */
    double hbm_bytes;               /* property hbm_bytes_per_core */
    double hbm_Bps;                 /* property hbm_Bps_per_core */
    double onchip_bytes;            /* property onchip_bytes_per_core (VMEM) */
    double op_overhead_s;           /* property op_overhead_s: fixed cost per op launch */
    double fp32_matmul_passes;      /* property fp32_matmul_passes: bf16 passes per fp32 matmul */
} cost_chip;

#endif
