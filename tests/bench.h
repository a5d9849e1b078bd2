/* bench: what every benchmark of `make bench` reads besides its own numbers: a monotonic clock and the
 * machine's load average (the host is shared, and other processes slow every wall time). */
#ifndef SWITCHSIM_TESTS_BENCH_H
#define SWITCHSIM_TESTS_BENCH_H

#include <stdio.h>
#include <time.h>

/* Seconds on the monotonic clock. */
static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The 1-minute load average from /proc/loadavg, or -1 where there is none (not Linux). */
static inline double bench_load_avg(void)
{
    double l = -1.0;
    FILE *fp = fopen("/proc/loadavg", "r");
    if (fp != NULL) {
        if (fscanf(fp, "%lf", &l) != 1)
            l = -1.0;
        fclose(fp);
    }
    return l;
}

#endif
