/* fixture_engine: the engine suites' common outputs of a step run in a child (check_engine, check_gpu). */
#ifndef SWITCHSIM_TEST_FIXTURE_ENGINE_H
#define SWITCHSIM_TEST_FIXTURE_ENGINE_H

#include "sim/engine.h"

/* The first outputs of every engine suite's child, in this order. */
enum { FX_STEP, FX_COMPUTE, FX_ROUTER, FX_DISPATCH, FX_A2A, FX_ALLREDUCE, FX_IDLE, FX_BYTES, FX_N };

/* out[FX_STEP .. FX_BYTES] <- the step's time, its shares and the all-to-all bytes per core. */
static inline void fixture_step_out(double *out, const engine_times *s)
{
    out[FX_STEP] = s->step_time_s;
    out[FX_COMPUTE] = s->compute_s;
    out[FX_ROUTER] = s->router_s;
    out[FX_DISPATCH] = s->dispatch_combine_s;
    out[FX_A2A] = s->a2a_s;
    out[FX_ALLREDUCE] = s->allreduce_s;
    out[FX_IDLE] = s->idle_s;
    out[FX_BYTES] = s->a2a_bytes_per_core;
}

#endif
