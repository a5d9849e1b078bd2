/* steptimes: a step's time shares (engine_times) from the timer's per-category totals, and the consistency
 * check of a simulated step.  Pure: no SimGrid. */
#ifndef SWITCHSIM_STEPTIMES_H
#define SWITCHSIM_STEPTIMES_H

#include "sim/common/errbuf.h"
#include "sim/engine.h"

/* r <- the shares of cat (SCHED_N_CAT seconds, mean per core) over span seconds; examples/s from sequences and
 * TFLOP/s per chip from flops over nchips (0 when span is 0). */
void steptimes_fill(engine_times *r, const double *cat, double span, double sequences, double flops, int nchips);

/* 0, or -1 with err when a time is not finite or negative, the step is not > 0, or the shares do not sum to the
 * step (relative 1e-6 plus 1e-9 s per execution of a core). */
int steptimes_check(const engine_times *r, double execs_per_core, errbuf *err);

#endif
