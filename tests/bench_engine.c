/* bench_engine: wall time and peak RSS of whole simulated steps (the scale targets of the design: Switch-C on 2048 cores in seconds), measured by running
 * build/switchsim in a child and reading its rusage: Switch-Base on 32 cores (target <= 2 s) and Switch-C on
 * 2048 cores (target <= 60 s and < 4 GiB), Switch-C with exact dispatch on 2048 TPUv3 cores (every all-to-all
 * different; target <= 30 s), and the wall time's scaling with chips on TPUv4 tori of 256, 1024 and 4096 chips
 * (Switch-Large, which fits on all three).  Then the scale targets of large machines, each marked 'scale target':
 * Switch-C and DeepSeek-V3 on the largest TPU v5p slice, 16x16x24 = 6144 chips (<= 120 s, < 8 GiB), Switch-C on a 4096-chip TPUv4
 * torus 16x16x16 (experts replicated) no slower than before the v5p work (27.8 s at load 1.2-1.7 on this 2-core
 * machine, commit 4f8f5dd), and DeepSeek-V3 in its published layout on 2048 H100s with the preset's whole batch
 * (62.9M tokens, 60 micro-batches) and dropless dispatch (<= 60 s, < 8 GiB).  Ratios to
 * the targets are printed with the machine's load average (other users' builds slow every number down); never
 * part of 'make test'. */
#define _DEFAULT_SOURCE   /* wait4 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>
#include <sys/stat.h>

#include "tests/bench.h"

/* Platforms the bench writes for itself. */
#define BENCH_DIR "/tmp/switchsim-bench"

static const struct {
    const char *what;
    const char *const argv[20];
    double target_wall_s, target_rss_GiB;
} CASES[] = {
    { "switch-base, 32 cores (tpuv3-4x4), top-1, padded, phased",
      { "build/switchsim", "run", "--platform", "topologies/tpuv3-4x4.xml", "--model", "switch-base", "--quiet", NULL },
      2.0, 4.0 },
    { "switch-base, 32 cores, top-2, exact dispatch (every all-to-all simulated)",
      { "build/switchsim", "run", "--platform", "topologies/tpuv3-4x4.xml", "--model", "switch-base", "--top-k", "2",
        "--dispatch", "exact", "--quiet", NULL },
      2.0, 4.0 },
    { "switch-c, 2048 cores (tpuv3-32x32), top-1, padded, phased",
      { "build/switchsim", "run", "--platform", "topologies/tpuv3-32x32.xml", "--model", "switch-c", "--quiet", NULL },
      60.0, 4.0 },
    { "switch-c, 2048 cores (tpuv3-32x32), exact dispatch (every all-to-all simulated)",
      { "build/switchsim", "run", "--platform", "topologies/tpuv3-32x32.xml", "--model", "switch-c", "--dispatch",
        "exact", "--quiet", NULL },
      30.0, 8.0 },
    { "scaling: switch-large, 256 TPUv4 chips (8x8x4)",
      { "build/switchsim", "run", "--platform", BENCH_DIR "/tpuv4-8x8x4.xml", "--model", "switch-large", "--quiet",
        NULL }, 60.0, 8.0 },
    { "scaling: switch-large, 1024 TPUv4 chips (16x8x8)",
      { "build/switchsim", "run", "--platform", BENCH_DIR "/tpuv4-16x8x8.xml", "--model", "switch-large", "--quiet",
        NULL }, 60.0, 8.0 },
    { "scaling: switch-large, 4096 TPUv4 chips (16x16x16)",
      { "build/switchsim", "run", "--platform", BENCH_DIR "/tpuv4-16x16x16.xml", "--model", "switch-large", "--quiet",
        NULL }, 60.0, 8.0 },
    /* Switch-C's 2048 sequences do not split over 12288 cores: one sequence of 512 tokens per chip (3x the
     * preset's batch, data=12288, 6 replicas of each expert) */
    { "scale target: switch-c, 6144 TPU v5p chips (16x16x24), 6144 sequences",
      { "build/switchsim", "run", "--platform", BENCH_DIR "/tpuv5p-16x16x24.xml", "--model", "switch-c",
        "--tokens-per-batch", "3145728", "--quiet", NULL }, 120.0, 8.0 },
    { "scale target: switch-c, 4096 TPUv4 chips (16x16x16), auto plan, vs 4f8f5dd",
      { "build/switchsim", "run", "--platform", BENCH_DIR "/tpuv4-16x16x16.xml", "--model", "switch-c", "--quiet", NULL },
      27.8, 8.0 },
    /* DeepSeek-V3 on the largest v5p slice: 12288 sequences, 4 a data shard (the preset's 15360, 5 a shard, do
     * not fit in HBM), 4-way tensor parallelism, expert groups of 256 cores, ZeRO-1, padded */
    { "scale target: deepseek-v3, 6144 TPU v5p chips (16x16x24), data=3072,model=4,expert=256, ZeRO-1",
      { "build/switchsim", "run", "--platform", BENCH_DIR "/tpuv5p-16x16x24.xml", "--model", "deepseek-v3",
        "--tokens-per-batch", "50331648", "--plan", "data=3072,model=4,expert=256", "--zero", "1", "--quiet", NULL },
      120.0, 8.0 },
    /* the published layout: 16 stages, 64-way expert parallelism across 8 nodes, ZeRO-1 data parallel, the whole
     * batch of 15360 sequences in 60 micro-batches (the default 64 does not divide a shard's 120), dropless */
    { "scale target: deepseek-v3, 2048 H100s (rail fat tree), pipe=16, expert=64, ZeRO-1, dropless",
      { "build/switchsim", "run", "--platform", BENCH_DIR "/h100-256x8-rails.xml", "--model", "deepseek-v3",
        "--plan", "data=128,expert=64,tensor=1,pipe=16,micro=60", "--zero", "1", "--dispatch", "dropless",
        "--quiet", NULL }, 60.0, 8.0 },
};

/* The platforms the cases above need, written by the generator first; 'optional' ones the generator may not know
 * yet (their cases are then skipped, saying why). */
static const struct {
    const char *out;
    const char *const argv[16];
    int optional;
} PLATFORMS[] = {
    { BENCH_DIR "/tpuv4-16x16x16.xml", { "--chip", "tpuv4", "--torus", "16x16x16", NULL }, 0 },
    { BENCH_DIR "/tpuv4-8x8x4.xml", { "--chip", "tpuv4", "--torus", "8x8x4", NULL }, 0 },
    { BENCH_DIR "/tpuv4-16x8x8.xml", { "--chip", "tpuv4", "--torus", "16x8x8", NULL }, 0 },
    { BENCH_DIR "/tpuv5p-16x16x24.xml", { "--chip", "tpuv5p", "--torus", "16x16x24", NULL }, 0 },
    { BENCH_DIR "/h100-256x8-rails.xml",
      { "--chip", "h100", "--gpus-per-node", "8", "--nodes", "256", "--rails", "8", NULL }, 1 },
};

/* Runs argv (stdout to /dev/null when quiet, stderr too when quiet is 2); returns the exit status, wall seconds and peak RSS. */
static int bench_exec(const char *const *argv, int quiet, double *wall, double *rss_GiB)
{
    double t0 = bench_now_s();
    fflush(stdout);   /* else the child inherits the buffered lines and prints them again when stdout is a pipe */
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (quiet) {
            FILE *null = freopen("/dev/null", "w", stdout);   /* the summary lines are not the benchmark */
            if (quiet > 1)
                null = freopen("/dev/null", "w", stderr);
            (void)null;
        }
        char *args[24] = { NULL };
        for (int a = 0; a < 23 && argv[a] != NULL; a++)
            args[a] = strdup(argv[a]);
        execv(args[0], args);
        perror("execv");
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0)
        return -1;
    *wall = bench_now_s() - t0;
    *rss_GiB = (double)ru.ru_maxrss * 1024.0 / 1073741824.0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* bench_engine [TEXT]: all cases, or those whose description contains TEXT (e.g. 'scale target'). */
int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    char dir[] = BENCH_DIR;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        perror(dir);
        return 1;
    }
    int missing[sizeof PLATFORMS / sizeof PLATFORMS[0]] = { 0 };
    for (size_t i = 0; i < sizeof PLATFORMS / sizeof PLATFORMS[0]; i++) {
        const char *targv[24] = { "build/switchsim", "topology" };
        int a = 2;
        for (int k = 0; PLATFORMS[i].argv[k] != NULL; k++)
            targv[a++] = PLATFORMS[i].argv[k];
        targv[a++] = "--out";
        targv[a++] = PLATFORMS[i].out;
        targv[a] = NULL;
        double w, r;
        if (bench_exec(targv, PLATFORMS[i].optional ? 2 : 1, &w, &r) != 0) {
            missing[i] = 1;
            if (!PLATFORMS[i].optional) {
                fprintf(stderr, "bench_engine: cannot write %s\n", PLATFORMS[i].out);
                return 1;
            }
        }
    }
    int bad = 0;
    printf("(load average %.2f on %ld cores at the start: other processes slow every wall time below)\n",
           bench_load_avg(), sysconf(_SC_NPROCESSORS_ONLN));
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        double wall = 0, rss_GiB = 0;
        const char *skip = NULL;
        if (only != NULL && strstr(CASES[i].what, only) == NULL)
            continue;
        for (size_t k = 0; k < sizeof PLATFORMS / sizeof PLATFORMS[0]; k++)
            if (missing[k] && strcmp(CASES[i].argv[3], PLATFORMS[k].out) == 0)
                skip = PLATFORMS[k].out;
        if (skip != NULL) {
            printf("%-78s skipped: this generator cannot write %s (no rail-optimised fat tree: 'topology "
                   "--rails')\n", CASES[i].what, skip);
            continue;
        }
        int rc = bench_exec(CASES[i].argv, 1, &wall, &rss_GiB);
        printf("%-78s wall %7.2f s (%.2fx of the %.3g s target)  peak RSS %.2f GiB (%.2fx of %.0f GiB)  load %.1f%s\n",
               CASES[i].what, wall, wall / CASES[i].target_wall_s, CASES[i].target_wall_s, rss_GiB,
               rss_GiB / CASES[i].target_rss_GiB, CASES[i].target_rss_GiB, bench_load_avg(),
               rc == 0 ? "" : "  [run FAILED]");
        bad |= rc != 0;
    }
    return bad;
}
