/* bench_engine: wall time and peak RSS of whole simulated steps (the scale targets of the design: Switch-C on 2048 cores in seconds), measured by running
 * build/switchsim in a child and reading its rusage: Switch-Base on 32 cores (target <= 2 s) and Switch-C on
 * 2048 cores (target <= 60 s and < 4 GiB), Switch-C with exact dispatch on 2048 TPUv3 cores (every all-to-all
 * different; target <= 30 s), Switch-C on a 4096-chip TPUv4 torus 16x16x16 (experts replicated; target <= 60 s,
 * < 8 GiB), and the wall time's scaling with chips on TPUv4 tori of 256, 1024 and 4096 chips (Switch-Large, which
 * fits on all three).  Ratios to the targets are printed with the machine's load average (other users' builds
 * slow every number down); never part of 'make test'. */
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
    const char *const argv[16];
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
    { "switch-c, 4096 TPUv4 chips (16x16x16, wrapped), auto plan, experts replicated",
      { "build/switchsim", "run", "--platform", BENCH_DIR "/tpuv4-16x16x16.xml", "--model", "switch-c", "--quiet", NULL },
      60.0, 8.0 },
    { "scaling: switch-large, 256 TPUv4 chips (8x8x4)",
      { "build/switchsim", "run", "--platform", BENCH_DIR "/tpuv4-8x8x4.xml", "--model", "switch-large", "--quiet",
        NULL }, 60.0, 8.0 },
    { "scaling: switch-large, 1024 TPUv4 chips (16x8x8)",
      { "build/switchsim", "run", "--platform", BENCH_DIR "/tpuv4-16x8x8.xml", "--model", "switch-large", "--quiet",
        NULL }, 60.0, 8.0 },
    { "scaling: switch-large, 4096 TPUv4 chips (16x16x16)",
      { "build/switchsim", "run", "--platform", BENCH_DIR "/tpuv4-16x16x16.xml", "--model", "switch-large", "--quiet",
        NULL }, 60.0, 8.0 },
};

/* The TPUv4 tori the cases above need, written by the generator first. */
static const char *const TORI[] = { "16x16x16", "8x8x4", "16x8x8" };

/* Runs argv (stdout to /dev/null when quiet); returns the exit status, wall seconds and peak RSS. */
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
            (void)null;
        }
        char *args[16] = { NULL };
        for (int a = 0; a < 15 && argv[a] != NULL; a++)
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

int main(void)
{
    char dir[] = BENCH_DIR;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        perror(dir);
        return 1;
    }
    for (size_t i = 0; i < sizeof TORI / sizeof TORI[0]; i++) {
        char out[128];
        snprintf(out, sizeof out, "%s/tpuv4-%s.xml", dir, TORI[i]);
        const char *argv[] = { "build/switchsim", "topology", "--chip", "tpuv4", "--torus", TORI[i], "--out", out,
                               NULL };
        double w, r;
        if (bench_exec(argv, 1, &w, &r) != 0) {
            fprintf(stderr, "bench_engine: cannot write %s\n", out);
            return 1;
        }
    }
    int bad = 0;
    printf("(load average %.2f on %ld cores at the start: other processes slow every wall time below)\n",
           bench_load_avg(), sysconf(_SC_NPROCESSORS_ONLN));
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        double wall = 0, rss_GiB = 0;
        int rc = bench_exec(CASES[i].argv, 1, &wall, &rss_GiB);
        printf("%-78s wall %7.2f s (%.2fx of the %.0f s target)  peak RSS %.2f GiB (%.2fx of %.0f GiB)  load %.1f%s\n",
               CASES[i].what, wall, wall / CASES[i].target_wall_s, CASES[i].target_wall_s, rss_GiB,
               rss_GiB / CASES[i].target_rss_GiB, CASES[i].target_rss_GiB, bench_load_avg(),
               rc == 0 ? "" : "  [run FAILED]");
        bad |= rc != 0;
    }
    return bad;
}
