/* bench_alltoall: wall time per all-to-all and simulated time / bisection bound, uniform traffic of 8 MiB per
 * core on TPUv3-like tori (100 GB/s per link direction [SOURCES 5.1 TPUv3 ICI], 1 us per hop: assumption):
 * PHASED (and PHASED_XY) at 16x16 and 32x32 chips, DIRECT at 4x4 and 8x8; and HIER on H100 rail fat trees of
 * 512, 2048 and 4096 GPUs (all GPUs, and 64-GPU expert-parallel groups of 8 nodes), against DIRECT at 64.  Each
 * simulation runs in its own child (simproc_run); wall is simgrid_run's time divided by the all-to-alls
 * simulated.  Keep it under ~60 s. */
#include "sim/collbench.h"
#include "sim/collectives.h"
#include "sim/netmodel.h"
#include "sim/simproc.h"
#include "tests/bench.h"
#include "topologies/chip.h"
#include "topologies/gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define LINK_BPS 1.0e11
#define LAT_S 1.0e-6
#define CORES_PER_CHIP 2
#define BYTES_PER_CORE (8.0 * 1024 * 1024)

static const char *algo_name(coll_a2a_algo a)
{
    return a == COLL_A2A_DIRECT ? "direct" : a == COLL_A2A_PHASED ? "phased" : a == COLL_A2A_HIER ? "hier"
                                                                                       : "phased-xy";
}

static int bench(const char *dir, int k, coll_a2a_algo algo, int reps)
{
    char path[256];
    snprintf(path, sizeof path, "%s/t%d.xml", dir, k);
    const int dims[2] = { k, k }, wrap[2] = { 1, 1 };
    errbuf err = { "" };
    if (access(path, R_OK) != 0 && collbench_platform_write(path, 2, dims, wrap, LINK_BPS, LAT_S, &err) != 0) {
        fprintf(stderr, "bench_alltoall: %s\n", err.msg);
        return -1;
    }
    int n = k * k;
    double *b = malloc((size_t)n * n * sizeof *b);
    if (b == NULL)
        return -1;
    double P = (double)n * CORES_PER_CHIP;
    for (size_t i = 0; i < (size_t)n * n; i++)
        b[i] = CORES_PER_CHIP * CORES_PER_CHIP * BYTES_PER_CORE / P;
    collbench_sim c = { .platform = path, .ndims = 2, .dims = { k, k, 1 }, .wrap = { 1, 1, 0 }, .bytes = b,
                       .algo = algo, .reps = reps };
    double out[COLLBENCH_SIM_NOUT(8)];
    int rc = simproc_run(collbench_sim_run, &c, out, COLLBENCH_SIM_NOUT(reps), &err);
    free(b);
    if (rc != 0) {
        fprintf(stderr, "bench_alltoall: %s\n", err.msg);
        return -1;
    }
    double bis = CORES_PER_CHIP * BYTES_PER_CORE * k / (8.0 * out[COLLBENCH_SIM_LINK_BPS]);
    printf("%5dx%-3d %5d chips %-9s reps %d  wall %8.4f s per a2a, %8.4f s all reps  sim %10.6f s  "
           "sim/bisection %6.3f\n", k, k, n, algo_name(algo), reps, out[COLLBENCH_SIM_WALL_S] / reps,
           out[COLLBENCH_SIM_WALL_S], out[COLLBENCH_SIM_T0], out[COLLBENCH_SIM_T0] / bis);
    fflush(stdout);
    return 0;
}

/* HIER (or DIRECT) on 'nodes' H100 nodes of 8 on rails (leaf groups of 32), 8 MiB sent per GPU spread evenly
 * over the GPUs of its group of 'ep' GPUs (consecutive ranks; ep = all: the whole machine); the bound is a GPU's
 * NIC: what it sends to other nodes over nic_Bps (the hw model's factor applied, as read back). */
static int bench_gpu(const char *dir, int nodes, int ep, coll_a2a_algo algo)
{
    char path[256];
    snprintf(path, sizeof path, "%s/r%d.xml", dir, nodes);
    errbuf err = { "" };
    gpu_platform p;
    chip_spec h100;
    if (chip_preset(&h100, "h100") != 0)
        return -1;
    gpu_platform_init(&p, &h100, 8, nodes);
    gpu_platform_set_rails(&p);
    int n = gpu_nchips(&p);
    if (access(path, R_OK) != 0) {
        FILE *fp = fopen(path, "w");
        if (fp == NULL || gpu_write_xml(fp, &p, &err) != 0 || fclose(fp) != 0) {
            fprintf(stderr, "bench_alltoall: %s: %s\n", path, err.msg);
            return -1;
        }
    }
    double *b = malloc((size_t)n * n * sizeof *b);
    if (b == NULL)
        return -1;
    double pair = BYTES_PER_CORE / ep;
    for (int s = 0; s < n; s++)
        for (int d = 0; d < n; d++)
            b[(size_t)s * n + d] = s / ep == d / ep ? pair : 0.0;
    collbench_sim c = { .platform = path, .ndims = 1, .dims = { n, 1, 1 }, .wrap = { 0, 0, 0 }, .bytes = b,
                        .algo = algo, .reps = 1, .gpus_per_node = 8, .network = NETMODEL_HW, .fast = 1 };
    double out[COLLBENCH_SIM_NOUT(1)], t0 = bench_now_s();
    int rc = simproc_run(collbench_sim_run, &c, out, COLLBENCH_SIM_NOUT(1), &err);
    double wall = bench_now_s() - t0;
    free(b);
    if (rc != 0) {
        fprintf(stderr, "bench_alltoall: %s\n", err.msg);
        return -1;
    }
    double nic = p.nic_Bps * h100.nic_bw_factor, bound = pair * (ep - (ep < 8 ? ep : 8)) / nic;
    printf("%4d nodes %5d GPUs %-9s groups of %4d  wall %8.4f s in SimGrid, %6.2f s all  sim %10.6f s  "
           "sim/NIC bound %6.3f  load %.2f\n", nodes, n, algo == COLL_A2A_HIER ? "hier" : "direct", ep,
           out[COLLBENCH_SIM_WALL_S], wall, out[COLLBENCH_SIM_T0], out[COLLBENCH_SIM_T0] / bound, bench_load_avg());
    fflush(stdout);
    return 0;
}

int main(void)
{
    char dir[] = "/tmp/bench_alltoall_XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("bench_alltoall: mkdtemp");
        return 1;
    }
    int rc = 0;
    rc |= bench(dir, 4, COLL_A2A_DIRECT, 1);
    rc |= bench(dir, 8, COLL_A2A_DIRECT, 1);
    rc |= bench(dir, 8, COLL_A2A_PHASED, 1);
    rc |= bench(dir, 16, COLL_A2A_PHASED_XY, 2);
    rc |= bench(dir, 16, COLL_A2A_PHASED, 2);
    rc |= bench(dir, 32, COLL_A2A_PHASED_XY, 2);
    rc |= bench(dir, 32, COLL_A2A_PHASED, 2);
    rc |= bench_gpu(dir, 8, 64, COLL_A2A_DIRECT);
    rc |= bench_gpu(dir, 8, 64, COLL_A2A_HIER);
    rc |= bench_gpu(dir, 64, 512, COLL_A2A_HIER);
    rc |= bench_gpu(dir, 256, 2048, COLL_A2A_HIER);
    rc |= bench_gpu(dir, 256, 64, COLL_A2A_HIER);
    rc |= bench_gpu(dir, 512, 4096, COLL_A2A_HIER);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        rc = 1;
    return rc != 0;
}
