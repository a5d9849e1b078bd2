/* bench_alltoall: wall time per all-to-all and simulated time / bisection bound, uniform traffic of 8 MiB per
 * core on TPUv3-like tori (100 GB/s per link direction [SOURCES 5.1 TPUv3 ICI], 1 us per hop: assumption):
 * PHASED (and PHASED_XY) at 16x16 and 32x32 chips, DIRECT at 4x4 and 8x8.  Each simulation runs in its own
 * child (simproc_run); wall is simgrid_run's time divided by the all-to-alls simulated.  Keep it under ~60 s. */
#include "sim/collbench.h"
#include "sim/collectives.h"
#include "sim/simproc.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define LINK_BPS 1.0e11
#define LAT_S 1.0e-6
#define CORES_PER_CHIP 2
#define BYTES_PER_CORE (8.0 * 1024 * 1024)

static const char *algo_name(coll_a2a_algo a)
{
    return a == COLL_A2A_DIRECT ? "direct" : a == COLL_A2A_PHASED ? "phased" : "phased-xy";
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
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        rc = 1;
    return rc != 0;
}
