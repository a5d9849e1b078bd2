/* timer: times one step's schedule (sim/sched.h) in SimGrid.  Every core is an actor on its chip's host that
 * walks its list: an op is its time on the core (back-to-back ops one SimGrid sleep when no timeline is kept), a
 * barrier waits for every core; a collective is replayed from the timer's cache when an identical one was timed
 * already, else goes to sim/collectives: timed from its message plan where no two messages share a link, else run
 * as SimGrid flows by the chip's first core while its other cores wait.  On GPU nodes under the hw model (a
 * switched world set fast) the rings, a pipeline stage's hierarchical all-to-alls and the point-to-point messages
 * are all timed from their plans: no flows.  The timer books every core's time per category and layer; it knows
 * nothing of models, routing or the cost model. */
#ifndef SWITCHSIM_TIMER_H
#define SWITCHSIM_TIMER_H

#include "sim/collectives.h"
#include "sim/common/errbuf.h"
#include "sim/sched.h"
#include "traces/timeline.h"

typedef struct {
    const sched *s;
    double core_flops;            /* a core's host speed (FLOP/s, the bf16 peak per core); an op of t seconds is a
                                   * sleep of t (no two actors share a core: an execution would take as long) */
    int ndims, dims[COLL_DIMS_MAX], wrap[COLL_DIMS_MAX];   /* the chips' torus (GPUs: ndims 1, in rank order) */
    int gpus_per_node;            /* > 0: GPU nodes (coll_world_set_switched), 0: a torus */
    coll_a2a_algo a2a;            /* the all-to-all algorithm (resolved: not AUTO) */
    int reuse;                    /* replay an all-to-all identical to one already timed (equal key, or equal
                                   * matrix hash), and a replayable all-reduce of a size already timed */
    int a2a_fast;                 /* time collectives from their message plan where they apply (coll_world_set_fast) */
    timeline *tl;                 /* NULL: no events; else every op its own sleep and event (same times) */
    int progress;                 /* a progress line on stderr at most every 2 wall seconds */
    double wall0;                 /* the wall clock (monotonic seconds) the run started at, for progress lines */
} timer_cfg;

typedef struct {
    double *acct;                 /* (cores, SCHED_N_CAT) seconds each core spent per category */
    double *lacct;                /* (nlayers, SCHED_N_PH, SCHED_N_CAT) seconds per layer pass, summed over cores */
    double *a2a_across;           /* (cores) of each core's all-to-all seconds, those across nodes: a hierarchical
                                   * all-to-all's time after the chip's NVLink messages ended (0 where the
                                   * algorithm's time is not split: direct and phased) */
    double *rsag;                 /* (cores) of each core's all-reduce seconds, those in reduce-scatters and
                                   * all-gathers (ZeRO-1's) */
    double *lt0, *lt1;            /* (nlayers, SCHED_N_PH) a layer pass's earliest start and latest end (its
                                   * begin and end marks over the cores) */
    double t_end;                 /* the simulated time at which core 0 finished its list */
    long execs;                   /* SimGrid sleeps for ops started, all cores (the step check's tolerance) */
    long a2a_count;               /* all-to-alls in the step */
    long a2a_reused;              /* of which replayed from an identical earlier one */
    long a2a_fast;                /* of which timed from their plan, without flows */
    long ring_fast;               /* dimension-ring all-reduces (and halves) timed from their plan */
    double phased_busiest_bytes;  /* the busiest neighbour link's bytes, summed over the phased all-to-alls timed
                                   * (not replayed) */
    char a2a_flows_why[160];      /* a2a_fast asked for but not possible: why (else "") */
    long ar_count;                /* all-reduces that may be replayed (model-parallel, over links) */
    long ar_reused;               /* of which replayed */
} timer_result;

/* Runs every core's list in SimGrid, once SimGrid has started on the platform (simproc_simgrid_start) with chips
 * chip0..chip<n-1>.  One call per process, as simgrid_run.  -1 with err on a broken invariant of a collective, a
 * deadlock or memory; the result is then to be freed all the same (timer_result_fini). */
int timer_run(timer_result *res, const timer_cfg *cfg, errbuf *err);
void timer_result_fini(timer_result *res);

#endif
