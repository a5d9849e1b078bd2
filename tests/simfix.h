/* simfix: helpers of the Check suites that run the timer on a platform inside a simulation child (simproc_run):
 * SimGrid started on the platform under the hw model, and the platform's torus copied into a timer_cfg. */
#ifndef SWITCHSIM_TEST_SIMFIX_H
#define SWITCHSIM_TEST_SIMFIX_H

#include "sim/netmodel.h"
#include "sim/platform.h"
#include "sim/simproc.h"
#include "sim/timer.h"

/* SimGrid on 'platform' under hw, its chip and network read into *chip and *t, hw's link factors applied.  Once
 * per child process.  0, or -1 with err when the platform cannot be read. */
static inline int simfix_start_hw(const char *platform, cost_chip *chip, platform_torus *t, errbuf *err)
{
    simproc_simgrid_start(platform, NETMODEL_HW, 1);
    if (platform_read(chip, t, platform, err) != 0)
        return -1;
    netmodel_apply(NETMODEL_HW, t);
    return 0;
}

/* tc's torus (ndims, dims, wrap) <- t's. */
static inline void simfix_torus(timer_cfg *tc, const platform_torus *t)
{
    tc->ndims = t->ndims;
    for (int d = 0; d < COLL_DIMS_MAX; d++) {
        tc->dims[d] = t->dims[d];
        tc->wrap[d] = t->wrap[d];
    }
}

#endif
