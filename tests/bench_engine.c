/* bench_engine: wall time and peak RSS of whole simulated steps (the scale targets of the design: Switch-C on 2048 cores in seconds), measured by running
 * build/switchsim in a child and reading its rusage: Switch-Base on 32 cores (target <= 2 s) and Switch-C on
 * 2048 cores (target <= 60 s and < 4 GiB).  Ratios to the targets are printed; never part of 'make test'. */
#define _DEFAULT_SOURCE   /* wait4 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void)
{
    int bad = 0;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        double t0 = now_s();
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            char *argv[16] = { NULL };
            for (int a = 0; a < 15 && CASES[i].argv[a] != NULL; a++)
                argv[a] = strdup(CASES[i].argv[a]);
            FILE *null = freopen("/dev/null", "w", stdout);   /* the summary lines are not the benchmark */
            (void)null;
            execv(argv[0], argv);
            perror("execv");
            _exit(127);
        }
        int status;
        struct rusage ru;
        if (wait4(pid, &status, 0, &ru) < 0) {
            perror("wait4");
            return 1;
        }
        double wall = now_s() - t0;
        double rss_GiB = (double)ru.ru_maxrss * 1024.0 / 1073741824.0;
        int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        printf("%-70s wall %7.2f s (%.2fx of the %.0f s target)  peak RSS %.2f GiB (%.2fx of %.0f GiB)%s\n",
               CASES[i].what, wall, wall / CASES[i].target_wall_s, CASES[i].target_wall_s, rss_GiB,
               rss_GiB / CASES[i].target_rss_GiB, CASES[i].target_rss_GiB, ok ? "" : "  [run FAILED]");
        bad |= !ok;
    }
    return bad;
}
