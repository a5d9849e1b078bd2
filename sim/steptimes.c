/* steptimes: a step's (or a layer pass's) time shares from the timer's per-category totals, and the checks every
 * simulated step must pass before it is reported. */
#include "sim/steptimes.h"

#include <math.h>

#include "sim/sched.h"

/* What every step must satisfy; a number far outside physics (an op overhead of 1e308 s) breaks it, and then
 * the run fails instead of printing nonsense: every time finite and >= 0, the step > 0, and the per-core
 * shares summing to the step, relative 1e-6, plus 1e-9 s (surf/precision: SimGrid ends an execution within it
 * of its cost-model time, which is what the shares book) per execution of a core. */
int steptimes_check(const engine_times *r, double execs_per_core, errbuf *err)
{
    const double t[] = { r->step_time_s, r->compute_s, r->router_s, r->dispatch_combine_s, r->a2a_s,
                         r->allreduce_s, r->idle_s, r->bubble_s };
    double sum = 0.0;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (!isfinite(t[i]) || t[i] < 0)
            return errbuf_set(err, "the simulated step has a non-finite or negative time (step %g s, compute %g s, "
                              "a2a %g s): a platform or model number out of any physical range?", r->step_time_s,
                              r->compute_s, r->a2a_s);
        if (i > 0)
            sum += t[i];
    }
    if (!(r->step_time_s > 0) || fabs(sum - r->step_time_s) > 1e-9 * (1.0 + execs_per_core) + 1e-6 * r->step_time_s)
        return errbuf_set(err, "the simulated step is inconsistent: its shares sum to %.9g s, the step is %.9g s "
                          "(a platform or model number out of any physical range?)", sum, r->step_time_s);
    return 0;
}

void steptimes_fill(engine_times *r, const double *cat, double span, double sequences, double flops,
                    int nchips)
{
    r->step_time_s = span;
    r->compute_s = cat[SCHED_CAT_COMPUTE];
    r->router_s = cat[SCHED_CAT_ROUTER];
    r->dispatch_combine_s = cat[SCHED_CAT_DISPATCH];
    r->a2a_s = cat[SCHED_CAT_A2A];
    r->allreduce_s = cat[SCHED_CAT_ALLREDUCE];
    r->idle_s = cat[SCHED_CAT_IDLE];
    r->bubble_s = cat[SCHED_CAT_BUBBLE];
    r->examples_per_s = span > 0 ? sequences / span : 0.0;
    r->tflops_per_chip = span > 0 ? flops / span / nchips / 1e12 : 0.0;
}
