/* timer: one SimGrid actor per core walks the core's list of the schedule (sim/sched.h) and books where its time
 * went.  An all-to-all identical to one already timed is replayed from the timer's cache; others go to
 * sim/collectives, which times them from their plan where no link is shared, else runs their flows.  The only
 * file that schedules the step's actors. */
#include "sim/timer.h"

#include <math.h>
#include <simgrid/actor.h>
#include <simgrid/barrier.h>
#include <simgrid/engine.h>
#include <simgrid/comm.h>
#include <simgrid/host.h>
#include <simgrid/mailbox.h>
#include <simgrid/semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TIMER_PROGRESS_S 2.0       /* wall seconds between progress lines */
#define TIMER_AR_MEMO 8            /* replayable all-reduces remembered (one per distinct size) */

static const char *const TIMER_PHASE[SCHED_N_PH] = { "fwd", "bwd" };

/* An all-to-all already timed in this run: an identical one (same key, or same matrix hash) takes the same time
 * again on every chip (the chips start it together after a barrier), so it is replayed.  A hash collision would
 * replay the wrong duration: astronomically unlikely, stated. */
typedef struct {
    int keyed;                     /* 1: 'hash' is the schedule's key, 0: the matrix's hash */
    int base;                      /* the chips' block (its first chip: 0 for all chips) */
    uint64_t hash;
    double *dur;                   /* (2 nchips) seconds each chip took, then the part of it across nodes */
} timer_replay;

/* A point-to-point channel timed from its plan: the arrival times of the messages sent on it, first in first
 * out, and a semaphore that counts those not yet received. */
typedef struct {
    sg_sem_t sem;
    double *at;
    size_t head, tail, cap;
} timer_queue;

/* A replayable all-reduce already simulated in this run: with the same bytes, the same groups and a common start
 * (a global barrier), it takes the same time again, so later ones are replayed per chip. */
typedef struct {
    double bytes;                  /* key: bytes per chip */
    long seq;                      /* the replayable all-reduce (per-core sequence number) that simulated it */
    double *dur;                   /* (nchips) seconds each chip's leader took */
} timer_memo;

typedef struct {
    const timer_cfg *cfg;
    const sched *s;
    int cores, cpc, nchips, nlayers;
    coll_world *world;
    sg_bar_t all;                  /* every core */
    sg_bar_t *chipbar;             /* (nchips) cores of one chip */
    int stage_cores;               /* cores of a pipeline stage (sched_stage_cores) */
    sg_bar_t *stagebar;            /* (cores / stage_cores) cores of one stage */
    timer_result *res;
    double *pending;               /* (cores) seconds of ops deferred into one execution (no timeline) */
    long *a2a_calls;               /* (cores) all-to-alls each core has entered */
    long *a2a_chip_calls;          /* (nchips) all-to-alls each chip has entered */
    /* per all-to-all block, at its first chip (0: all chips; a pipeline stage's all-to-alls run on its block
     * while other stages do other work): */
    long *a2a_cur_call;            /* (nchips) the all-to-all the block's chips are in (its first chip looked it up) */
    int *cur_replay, *cur_new;     /* (nchips) its entry in 'replay' (-1: none) and whether it is timed now */
    timer_replay *replay;          /* (nreplay) the all-to-alls timed so far, when reuse is on */
    int nreplay, capreplay;
    int *a2a_known;                /* (nchips) the current one's time is known without flows: a2a_dur */
    double *a2a_dur, *a2a_across;  /* (nchips) its time, and the part of it across nodes (coll_alltoall_across) */
    long *seq;                     /* (cores) replayable all-reduces each core has entered: equal on all cores */
    timer_memo memo[TIMER_AR_MEMO];
    int nmemo;
    struct timer_arg *args;        /* (cores) each actor's timer and core */
    sg_mailbox_t *chan;            /* (cores, SCHED_N_PH) point-to-point channels into each core, when the
                                    * schedule has sends: forward activations, backward gradients */
    int plan;                      /* a switched world set fast: rings, stage blocks' hierarchical all-to-alls and
                                    * point-to-point messages timed from their plans (sim/collswitch.c) */
    int ring_plan;                 /* group rings timed from their plans (coll_world_ring_plan): 'plan', or a
                                    * torus under hw */
    timer_queue *q;                /* (nq = cores x SCHED_N_PH, or 0 without sends) with 'plan': each channel's
                                    * messages' arrival times */
    size_t nq;
    double **ring_dur;             /* (ncolls) with 'ring_plan': each all-reduce's time per chip, once timed */
    double *blk_dur, *blk_across;  /* (nchips) the current all-to-all of each block, per chip, with 'plan' */
    int done;                      /* layer passes core 0 has finished (progress) */
    double wall_last;
    int failed;
    errbuf err;
    int finished;                  /* cores that reached the end of their list (fewer: SimGrid deadlocked) */
} timer;

typedef struct timer_arg {
    timer *t;
    int core;
} timer_arg;

static double timer_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void timer_fail(timer *t, const errbuf *e)
{
    if (!t->failed) {
        t->failed = 1;
        t->err = *e;
    }
}

static int timer_chip(const timer *t, int core)
{
    return core / t->cpc;
}

/* Books 'dt' seconds of core 'core' to category 'cat' (step and layer totals). */
static void timer_book(timer *t, int core, int cat, int layer, int ph, double dt)
{
    t->res->acct[(size_t)core * SCHED_N_CAT + cat] += dt;
    if (layer >= 0)
        t->res->lacct[((size_t)layer * SCHED_N_PH + ph) * SCHED_N_CAT + cat] += dt;
}

/* Books [t0, t1] of core 'core' and adds it to the timeline. */
static void timer_record(timer *t, int core, const sched_item *it, timeline_thread th, double t0, double t1)
{
    timer_book(t, core, it->cat, it->layer, it->phase, t1 - t0);
    if (t->cfg->tl != NULL && timeline_add(t->cfg->tl, core, th, sched_name(it->name), it->layer,
                                           it->layer >= 0 ? TIMER_PHASE[it->phase] : "step", t0, t1) != 0) {
        errbuf e;
        errbuf_set(&e, "out of memory recording the timeline");
        timer_fail(t, &e);
    }
}

/* The calling core works (or waits) t_s seconds; a time that is not finite fails the run instead (SimGrid
 * aborts on it). */
static void timer_sleep(timer *t, int core, double t_s)
{
    if (isfinite(t_s)) {
        sg_actor_sleep_for(t_s);
        return;
    }
    errbuf e;
    errbuf_set(&e, "core %d was to work %g s: a platform or model number out of any physical range?", core, t_s);
    timer_fail(t, &e);
}

/* Charges 't_s' seconds of the item's category on the calling core. */
static void timer_charge(timer *t, int core, const sched_item *it, timeline_thread th, double t_s)
{
    if (t_s <= 0.0)
        return;
    if (t->cfg->tl == NULL) {
        /* Without a timeline, back-to-back ops of a core become one SimGrid activity (flushed before any
         * barrier, communication or layer boundary).  A core's ops never share its core with another actor,
         * so the booked times and the step are the same; SimGrid just has fewer activities to schedule. */
        t->pending[core] += t_s;
        timer_book(t, core, it->cat, it->layer, it->phase, t_s);
        return;
    }
    /* with a timeline, each op is its own activity so that it has its own event; the booked time is the cost
     * model's either way, so a timeline changes no number */
    double t0 = simgrid_get_clock();
    (void)th;
    timer_sleep(t, core, t_s);
    t->res->execs++;
    timer_record(t, core, it, th, t0, t0 + t_s);
}

/* Runs the core's deferred ops (see timer_charge) now: a sleep of their time.  The cost model has timed them and
 * no two actors share a core, so a SimGrid execution (a CPU share solved by its max-min system at every start
 * and end, most of a 12288-core step's wall time) would only take the same time, slower. */
static void timer_flush(timer *t, int core)
{
    if (t->pending[core] > 0.0) {
        timer_sleep(t, core, t->pending[core]);
        t->res->execs++;
        t->pending[core] = 0.0;
    }
}

/* Global barrier, or the core's stage's: the wait is idle time (a pipeline's flush: bubble). */
static void timer_sync(timer *t, int core, const sched_item *it)
{
    timer_flush(t, core);
    double t0 = simgrid_get_clock();
    sg_barrier_wait(it->ref == SCHED_BAR_STAGE ? t->stagebar[core / t->stage_cores] : t->all);
    timer_book(t, core, it->cat, it->layer, it->phase, simgrid_get_clock() - t0);
}

/* A point-to-point send: a detached SimGrid communication from the core's chip to the receiver's over the
 * platform's route (the receiver's channels are eager: the flow starts now), so the sender goes on at once; with
 * 'plan', its arrival time from coll_p2p_time queued on the receiver's channel instead. */
static void timer_send(timer *t, int core, const sched_item *it)
{
    timer_flush(t, core);
    size_t ch = (size_t)it->ref * SCHED_N_PH + it->phase;
    if (!t->plan) {
        sg_comm_detach(sg_mailbox_put_init(t->chan[ch], t, (long)it->t_s), NULL);
        return;
    }
    errbuf e;
    double at;
    timer_queue *q = &t->q[ch];
    if (coll_p2p_time(t->world, timer_chip(t, core), timer_chip(t, it->ref), it->t_s, simgrid_get_clock(), &at, &e)
        != 0) {
        timer_fail(t, &e);
        at = simgrid_get_clock();         /* the run fails; the receiver does not wait for ever */
    }
    if (q->tail == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 16;
        double *more = realloc(q->at, cap * sizeof *more);
        if (more == NULL) {
            errbuf_set(&e, "out of memory for the point-to-point messages");
            timer_fail(t, &e);
            return;                       /* the receiver then deadlocks: reported with the failure */
        }
        q->at = more, q->cap = cap;
    }
    q->at[q->tail++] = at;
    sg_sem_release(q->sem);
}

/* A point-to-point receive: waits for the next message on the core's channel of the item's phase; the wait, the
 * transfer's time included, is booked to the item's category (the bubble). */
static void timer_recv(timer *t, int core, const sched_item *it)
{
    timer_flush(t, core);
    double t0 = simgrid_get_clock();
    size_t ch = (size_t)core * SCHED_N_PH + it->phase;
    if (t->plan) {
        timer_queue *q = &t->q[ch];
        sg_sem_acquire(q->sem);
        double at = q->at[q->head++];
        if (at > simgrid_get_clock())
            timer_sleep(t, core, at - simgrid_get_clock());
    } else {
        (void)sg_mailbox_get(t->chan[ch]);
    }
    double t1 = simgrid_get_clock();
    if (t1 > t0)
        timer_record(t, core, it, TL_COMM, t0, t1);
}

/* Ends a communication that started at 't0' after the leader's part: the chip's cores wait for each other, and
 * the whole span counts as the item's category on every core of the chip. */
static void timer_comm_end(timer *t, int core, const sched_item *it, double t0)
{
    sg_barrier_wait(t->chipbar[timer_chip(t, core)]);
    timer_record(t, core, it, TL_COMM, t0, simgrid_get_clock());
}

static int timer_leader(const timer *t, int core)
{
    return core % t->cpc == 0;
}

static uint64_t timer_hash(const double *bytes, size_t count, int algo)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)algo;
    for (size_t i = 0; i < count; i++) {
        uint64_t v;
        memcpy(&v, &bytes[i], sizeof v);
        h ^= v;
        h *= 1099511628211ull;
        h ^= h >> 29;
    }
    return h;
}

/* The chips an all-to-all spans: the block from *base of *n chips. */
static void timer_a2a_block(const timer *t, const sched_coll *c, int *base, int *n)
{
    *base = c->n > 0 ? c->base : 0;
    *n = c->n > 0 ? c->n : t->nchips;
}

/* The current all-to-all's replay entry in its block (cur_replay, cur_new: found, or new and to be timed now), by
 * the schedule's key when it gives one, else by the matrix's hash, and by the block; -1 with err when memory runs
 * out. */
static int timer_replay_find(timer *t, const sched_coll *c, errbuf *err)
{
    int keyed = c->key >= 0, base, n;
    timer_a2a_block(t, c, &base, &n);
    uint64_t h = keyed ? (uint64_t)c->key : timer_hash(c->bytes, (size_t)n * (size_t)n, t->cfg->a2a);
    t->cur_replay[base] = -1;
    for (int i = 0; i < t->nreplay; i++)
        if (t->replay[i].keyed == keyed && t->replay[i].hash == h && t->replay[i].base == base)
            t->cur_replay[base] = i;
    t->cur_new[base] = t->cur_replay[base] < 0;
    if (!t->cur_new[base]) {
        t->res->a2a_reused++;
        return 0;
    }
    if (t->nreplay == t->capreplay) {
        int cap = t->capreplay ? 2 * t->capreplay : 16;
        timer_replay *more = realloc(t->replay, (size_t)cap * sizeof *more);
        if (more == NULL)
            return errbuf_set(err, "out of memory for the all-to-all replays");
        t->replay = more;
        t->capreplay = cap;
    }
    double *dur = calloc(2 * (size_t)t->nchips, sizeof *dur);
    if (dur == NULL)
        return errbuf_set(err, "out of memory for the all-to-all replays");
    t->replay[t->nreplay] = (timer_replay){ keyed, base, h, dur };
    t->cur_replay[base] = t->nreplay++;
    return 0;
}

/* The chip's time in the current all-to-all when it is known without flows (return 1, *dur, and *across its part
 * across nodes): replayed, or timed from its plan (coll_alltoall_prepare); 0 when its flows must run; the run
 * fails (and 1) on a broken invariant.  Called by the chip's first core; the call's first chip looks the call up in
 * the replays. */
static int timer_a2a_known(timer *t, int chip, long call, const sched_coll *c, double *dur, double *across)
{
    errbuf e;
    int known, base, n;
    timer_a2a_block(t, c, &base, &n);
    int blk_plan = c->n > 0 && t->plan && t->cfg->a2a == COLL_A2A_HIER;
    if (call > t->a2a_cur_call[base]) {
        t->a2a_cur_call[base] = call;
        t->cur_replay[base] = -1;
        t->cur_new[base] = 1;
        if (t->cfg->reuse && timer_replay_find(t, c, &e) != 0) {
            timer_fail(t, &e);
            t->cur_new[base] = 1;
        }
        if (t->cur_new[base] && blk_plan && coll_alltoall_block_time(t->world, base, n, c->bytes, t->blk_dur + base,
                                                                     t->blk_across + base, &e) != 0)
            timer_fail(t, &e);            /* the block's times stay what they were: the run fails */
    }
    double *mine = t->cur_replay[base] >= 0 ? &t->replay[t->cur_replay[base]].dur[chip] : NULL;
    *across = 0.0;
    if (!t->cur_new[base]) {
        *dur = mine[0];
        *across = mine[t->nchips];
        return 1;
    }
    if (blk_plan) {                       /* a block's hierarchical all-to-all, timed from its plan */
        *dur = t->blk_dur[chip];
        *across = t->blk_across[chip];
        if (mine != NULL)
            mine[0] = *dur, mine[t->nchips] = *across;
        return 1;
    }
    if (c->n > 0)                         /* a block's all-to-all: its direct flows run (coll_alltoall_block) */
        return 0;
    known = coll_alltoall_prepare(t->world, chip, c->bytes, t->cfg->a2a, dur, &e);
    if (known < 0) {
        timer_fail(t, &e);
        *dur = 0.0;                       /* the run fails; no core waits for flows that never come */
        return 1;
    }
    if (known)
        *across = coll_alltoall_across(t->world, chip);
    if (known && mine != NULL)
        mine[0] = *dur, mine[t->nchips] = *across;
    return known;
}

/* An all-to-all of the chip byte matrix.  The chip's first core enters the chip into the call.  When the chip's
 * time in it is known without flows (replayed, or timed from its plan), every core of the chip books that time
 * like an op, and SimGrid has no activity to run for it; else the leader runs the chip's flows while the chip's
 * other cores wait for it. */
static void timer_alltoall(timer *t, int core, const sched_item *it, const sched_coll *c)
{
    int chip = timer_chip(t, core);
    long call = ++t->a2a_calls[core];
    if (t->a2a_chip_calls[chip] < call) {
        t->a2a_chip_calls[chip] = call;
        t->a2a_known[chip] = timer_a2a_known(t, chip, call, c, &t->a2a_dur[chip], &t->a2a_across[chip]);
    }
    if (core == (c->n > 0 ? c->base : 0) * t->cpc)   /* the block's first core counts its calls */
        t->res->a2a_count++;
    if (t->a2a_known[chip]) {
        timer_charge(t, core, it, TL_COMM, t->a2a_dur[chip]);
        t->res->a2a_across[core] += t->a2a_across[chip];
        return;
    }
    double t0 = simgrid_get_clock();
    if (timer_leader(t, core)) {
        errbuf e;
        int base, n;
        timer_a2a_block(t, c, &base, &n);
        if ((c->n > 0 ? coll_alltoall_block(t->world, chip, base, n, c->bytes, &e)
                      : coll_alltoall_run(t->world, chip, c->bytes, t->cfg->a2a, &e)) != 0)
            timer_fail(t, &e);
        else if (t->cur_replay[base] >= 0)
            t->replay[t->cur_replay[base]].dur[chip] = simgrid_get_clock() - t0;
    }
    timer_comm_end(t, core, it, t0);
}

/* The memo of a replayable all-reduce of 'bytes' per chip already made, or NULL. */
static timer_memo *timer_memo_lookup(timer *t, double bytes)
{
    for (int i = 0; i < t->nmemo; i++)
        if (t->memo[i].bytes == bytes)
            return &t->memo[i];
    return NULL;
}

/* The memo of a replayable all-reduce of 'bytes' per chip: the one that simulated it, a new one for call 'seq',
 * or NULL (reuse off, no room or no memory). */
static timer_memo *timer_memo_find(timer *t, double bytes, long seq)
{
    timer_memo *found = timer_memo_lookup(t, bytes);
    if (found != NULL)
        return found;
    if (!t->cfg->reuse || t->nmemo == TIMER_AR_MEMO)
        return NULL;
    timer_memo *mm = &t->memo[t->nmemo];
    mm->dur = calloc((size_t)t->nchips, sizeof *mm->dur);
    if (mm->dur == NULL)
        return NULL;
    mm->bytes = bytes;
    mm->seq = seq;
    t->nmemo++;
    return mm;
}

/* The leader's part of an all-reduce over all chips, the chip's group, or a half over all chips. */
static int timer_allreduce_flows(timer *t, int chip, const sched_coll *c, errbuf *e)
{
    const sched_groups *gr = c->groups;
    const int *mem = gr == NULL ? NULL : gr->members + gr->start[gr->gid[chip]];
    int n = gr == NULL ? 0 : gr->size[gr->gid[chip]];
    switch (c->kind) {
    case SCHED_REDUCESCATTER:
        return gr == NULL ? coll_reducescatter_all(t->world, chip, c->chip_bytes, e)
                          : coll_reducescatter_group(t->world, chip, mem, n, c->chip_bytes, e);
    case SCHED_ALLGATHER:
        return gr == NULL ? coll_allgather_all(t->world, chip, c->chip_bytes, e)
                          : coll_allgather_group(t->world, chip, mem, n, c->chip_bytes, e);
    default:
        if (gr == NULL)
            return coll_allreduce_all(t->world, chip, c->chip_bytes, e);
        return coll_allreduce_group(t->world, chip, gr->members + gr->start[gr->gid[chip]], gr->size[gr->gid[chip]],
                                    c->chip_bytes, e);
    }
}

/* Ends an all-reduce (or a half) as timer_comm_end does, and books a reduce-scatter's or all-gather's span also
 * as such (res->rsag). */
static void timer_ar_end(timer *t, int core, const sched_item *it, const sched_coll *c, double t0)
{
    timer_comm_end(t, core, it, t0);
    if (c->kind == SCHED_REDUCESCATTER || c->kind == SCHED_ALLGATHER)
        t->res->rsag[core] += simgrid_get_clock() - t0;
}

/* An all-reduce (or a half) whose time on the chip is known: every core books it like an op (its cores started
 * it together, after a barrier, so they all end 'dur' later), no SimGrid activity; and as reduce-scatter or
 * all-gather time for those. */
static void timer_ar_charge(timer *t, int core, const sched_item *it, const sched_coll *c, double dur)
{
    timer_charge(t, core, it, TL_COMM, dur);
    if (dur > 0.0 && (c->kind == SCHED_REDUCESCATTER || c->kind == SCHED_ALLGATHER))
        t->res->rsag[core] += dur;
}

/* With 'plan': the chip's time in all-reduce (or half) 'ref' over a switched world, timed from its plan for every
 * chip at the first chip's call (the same collective takes the same time every time: its chips start it
 * together); -1 on a bad group or memory (the run fails). */
static int timer_ring_plan(timer *t, int chip, int ref, const sched_coll *c, double *dur)
{
    if (t->ring_dur[ref] == NULL) {
        errbuf e;
        const sched_groups *gr = c->groups;
        int passes = c->kind == SCHED_REDUCESCATTER ? COLLPLAN_PASS_RS
                   : c->kind == SCHED_ALLGATHER ? COLLPLAN_PASS_AG : COLLPLAN_PASS_RS | COLLPLAN_PASS_AG;
        double *d = malloc((size_t)t->nchips * sizeof *d);
        if (d == NULL) {
            errbuf_set(&e, "out of memory timing the all-reduces");
            timer_fail(t, &e);
            return -1;
        }
        if (coll_rings_time(t->world, gr == NULL ? NULL : gr->members, gr == NULL ? NULL : gr->start,
                            gr == NULL ? 1 : gr->n, c->chip_bytes, passes, d, &e) != 0) {
            free(d);
            timer_fail(t, &e);
            return -1;
        }
        t->ring_dur[ref] = d;
    }
    *dur = t->ring_dur[ref][chip];
    return 0;
}

/* An all-reduce (or a half), run by the chip's leader while the chip's other cores wait; a replayable one whose
 * size was simulated before in the step is replayed per chip; with 'plan', each is timed from its plan. */
static void timer_allreduce(timer *t, int core, const sched_item *it, const sched_coll *c)
{
    long seq = c->replay ? ++t->seq[core] : 0;
    double t0 = simgrid_get_clock();
    if (c->replay && core == 0)
        t->res->ar_count++;
    int chip = timer_chip(t, core);
    if (t->plan || (t->ring_plan && c->groups != NULL)) {   /* timed from its plan: every core books it */
        double dur = 0.0;
        if (c->chip_bytes > 0.0 && timer_ring_plan(t, chip, it->ref, c, &dur) != 0)
            dur = 0.0;                    /* the run fails */
        timer_ar_charge(t, core, it, c, dur);
        return;
    }
    timer_memo *done = c->replay && t->cfg->reuse ? timer_memo_lookup(t, c->chip_bytes) : NULL;
    if (done != NULL && done->seq != seq) {   /* replayed: every core books it */
        if (core == 0)
            t->res->ar_reused++;
        timer_ar_charge(t, core, it, c, done->dur[chip]);
        return;
    }
    if (timer_leader(t, core) && (c->chip_bytes > 0.0 || c->replay)) {
        timer_memo *mm = c->replay ? timer_memo_find(t, c->chip_bytes, seq) : NULL;
        errbuf e;
        if (timer_allreduce_flows(t, chip, c, &e) != 0)
            timer_fail(t, &e);
        if (mm != NULL && mm->seq == seq)
            mm->dur[chip] = simgrid_get_clock() - t0;
    }
    timer_ar_end(t, core, it, c, t0);
}

/* A layer pass's begin or end mark: its span is from the first core's start to the last core's end. */
static void timer_mark(timer *t, int core, const sched_item *it)
{
    double now = simgrid_get_clock() + t->pending[core];   /* when the core's ops so far end */
    size_t li = (size_t)it->layer * SCHED_N_PH + it->phase;
    if (it->ref == SCHED_MARK_BEGIN) {
        if (now < t->res->lt0[li])
            t->res->lt0[li] = now;
        return;
    }
    if (now > t->res->lt1[li])
        t->res->lt1[li] = now;
    if (!t->cfg->progress || core != 0)
        return;
    int total = 2 * t->nlayers;
    double w = timer_wall();
    ++t->done;
    if (w - t->wall_last < TIMER_PROGRESS_S && (t->done < total || t->wall_last == t->cfg->wall0))
        return;
    t->wall_last = w;
    fprintf(stderr, "switchsim: %d/%d layer passes, simulated %.4f s, wall %.1f s\n", t->done, total,
            simgrid_get_clock(), w - t->cfg->wall0);
}

static void timer_actor(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const timer_arg *arg = sg_actor_self_get_data();
    timer *t = arg->t;
    int core = arg->core;
    size_t n;
    const sched_item *list = sched_list(t->s, core, &n);
    if (t->chan != NULL)
        for (int ph = 0; ph < SCHED_N_PH; ph++)   /* eager: a send's flow starts before the receive is posted */
            sg_mailbox_set_receiver(sg_mailbox_get_name(t->chan[(size_t)core * SCHED_N_PH + ph]));
    for (size_t i = 0; i < n; i++) {
        const sched_item *it = &list[i];
        switch ((sched_kind)it->kind) {
        case SCHED_OP:
            timer_charge(t, core, it, TL_COMPUTE, it->t_s);
            break;
        case SCHED_BARRIER:
            timer_sync(t, core, it);
            break;
        case SCHED_COLL: {
            const sched_coll *c = sched_coll_at(t->s, it->ref);
            timer_flush(t, core);
            if (c->kind == SCHED_A2A)
                timer_alltoall(t, core, it, c);
            else
                timer_allreduce(t, core, it, c);
            break;
        }
        case SCHED_MARK:
            timer_mark(t, core, it);
            break;
        case SCHED_SEND:
            timer_send(t, core, it);
            break;
        case SCHED_RECV:
            timer_recv(t, core, it);
            break;
        }
    }
    timer_flush(t, core);
    if (core == 0)
        t->res->t_end = simgrid_get_clock();
    t->finished++;
}

/* The result's arrays and the timer's per-core and per-chip state; -1 when memory runs out. */
static int timer_alloc(timer *t, timer_result *res)
{
    size_t cores = (size_t)t->cores, nl = (size_t)t->nlayers * SCHED_N_PH;
    res->acct = calloc(cores * SCHED_N_CAT, sizeof *res->acct);
    res->lacct = calloc(nl * SCHED_N_CAT + 1, sizeof *res->lacct);
    res->lt0 = malloc((nl + 1) * sizeof *res->lt0);
    res->lt1 = calloc(nl + 1, sizeof *res->lt1);
    t->pending = calloc(cores, sizeof *t->pending);
    t->a2a_calls = calloc(cores, sizeof *t->a2a_calls);
    t->seq = calloc(cores, sizeof *t->seq);
    t->args = calloc(cores, sizeof *t->args);
    t->a2a_chip_calls = calloc((size_t)t->nchips, sizeof *t->a2a_chip_calls);
    t->a2a_known = calloc((size_t)t->nchips, sizeof *t->a2a_known);
    t->a2a_dur = calloc((size_t)t->nchips, sizeof *t->a2a_dur);
    t->a2a_across = calloc((size_t)t->nchips, sizeof *t->a2a_across);
    res->a2a_across = calloc(cores, sizeof *res->a2a_across);
    res->rsag = calloc(cores, sizeof *res->rsag);
    t->chipbar = calloc((size_t)t->nchips, sizeof *t->chipbar);
    t->stagebar = calloc((size_t)(t->cores / t->stage_cores), sizeof *t->stagebar);
    t->a2a_cur_call = calloc((size_t)t->nchips, sizeof *t->a2a_cur_call);
    t->cur_replay = calloc((size_t)t->nchips, sizeof *t->cur_replay);
    t->cur_new = calloc((size_t)t->nchips, sizeof *t->cur_new);
    if (!res->acct || !res->lacct || !res->lt0 || !res->lt1 || !t->pending || !t->a2a_calls || !t->seq || !t->args
        || !t->a2a_chip_calls || !t->a2a_known || !t->a2a_dur || !t->a2a_across || !res->a2a_across || !res->rsag || !t->chipbar || !t->stagebar || !t->a2a_cur_call
        || !t->cur_replay || !t->cur_new)
        return -1;
    for (size_t i = 0; i < nl; i++)
        res->lt0[i] = INFINITY;
    if (!sched_has_p2p(t->s))
        return 0;
    t->chan = calloc(cores * SCHED_N_PH, sizeof *t->chan);
    if (t->chan == NULL)
        return -1;
    for (size_t i = 0; i < cores * SCHED_N_PH; i++) {
        char name[48];
        snprintf(name, sizeof name, "p2p%zu.%s", i / SCHED_N_PH, TIMER_PHASE[i % SCHED_N_PH]);
        t->chan[i] = sg_mailbox_by_name(name);
    }
    return 0;
}

static void timer_free(timer *t)
{
    if (t->chipbar != NULL)
        for (int c = 0; c < t->nchips; c++)
            if (t->chipbar[c] != NULL)
                sg_barrier_destroy(t->chipbar[c]);
    free(t->chipbar);
    if (t->stagebar != NULL)
        for (int st = 0; st < t->cores / t->stage_cores; st++)
            if (t->stagebar[st] != NULL)
                sg_barrier_destroy(t->stagebar[st]);
    free(t->stagebar);
    free(t->a2a_cur_call);
    free(t->cur_replay);
    free(t->cur_new);
    if (t->all != NULL)
        sg_barrier_destroy(t->all);
    for (size_t i = 0; i < t->nq; i++) {
        if (t->q[i].sem != NULL)
            sg_sem_destroy(t->q[i].sem);
        free(t->q[i].at);
    }
    free(t->q);
    if (t->ring_dur != NULL)
        for (int i = 0; i < sched_ncolls(t->s); i++)
            free(t->ring_dur[i]);
    free(t->ring_dur);
    free(t->blk_dur);
    free(t->blk_across);
    coll_world_free(t->world);
    for (int i = 0; i < t->nreplay; i++)
        free(t->replay[i].dur);
    free(t->replay);
    for (int i = 0; i < t->nmemo; i++)
        free(t->memo[i].dur);
    free(t->pending);
    free(t->a2a_calls);
    free(t->seq);
    free(t->args);
    free(t->chan);
    free(t->a2a_chip_calls);
    free(t->a2a_known);
    free(t->a2a_dur);
    free(t->a2a_across);
}

/* The collectives' world on the platform's chips: switched on GPU nodes, replay and fast timing as configured. */
static int timer_world(timer *t, timer_result *res, errbuf *err)
{
    const timer_cfg *cfg = t->cfg;
    t->world = coll_world_alloc(cfg->ndims, cfg->dims, cfg->wrap, err);
    if (t->world == NULL)
        return -1;
    if (cfg->gpus_per_node > 0 && coll_world_set_switched(t->world, cfg->gpus_per_node, err) != 0)
        return -1;
    errbuf why = { "" };
    if (cfg->a2a_fast && coll_world_switched(t->world))
        t->plan = coll_world_set_fast(t->world, &why);
    else if (cfg->a2a_fast && !coll_world_set_fast(t->world, &why))
        snprintf(res->a2a_flows_why, sizeof res->a2a_flows_why, "%s", why.msg);
    t->ring_plan = cfg->a2a_fast && coll_world_ring_plan(t->world);
    int nc = sched_ncolls(t->s);
    t->ring_dur = t->ring_plan ? calloc(nc > 0 ? (size_t)nc : 1, sizeof *t->ring_dur) : NULL;
    if (t->ring_plan && t->ring_dur == NULL)
        return errbuf_set(err, "out of memory setting up the simulation");
    if (!t->plan)
        return 0;
    t->blk_dur = calloc((size_t)t->nchips, sizeof *t->blk_dur);
    t->blk_across = calloc((size_t)t->nchips, sizeof *t->blk_across);
    size_t nq = sched_has_p2p(t->s) ? (size_t)t->cores * SCHED_N_PH : 0;
    t->q = calloc(nq > 0 ? nq : 1, sizeof *t->q);
    t->nq = t->q != NULL ? nq : 0;
    if (t->blk_dur == NULL || t->blk_across == NULL || t->q == NULL)
        return errbuf_set(err, "out of memory setting up the simulation");
    for (size_t i = 0; i < nq; i++)
        t->q[i].sem = sg_sem_init(0);
    return 0;
}

int timer_run(timer_result *res, const timer_cfg *cfg, errbuf *err)
{
    timer t;
    memset(&t, 0, sizeof t);
    memset(res, 0, sizeof *res);
    t.cfg = cfg;
    t.s = cfg->s;
    t.res = res;
    t.cores = sched_cores(cfg->s);
    t.cpc = sched_cores_per_chip(cfg->s);
    t.nchips = sched_nchips(cfg->s);
    t.nlayers = sched_nlayers(cfg->s);
    t.stage_cores = sched_stage_cores(cfg->s);
    t.wall_last = cfg->wall0;
    int rc = timer_alloc(&t, res) != 0 ? errbuf_set(err, "out of memory setting up the simulation") : 0;
    if (rc == 0)
        rc = timer_world(&t, res, err);
    if (rc == 0) {
        t.all = sg_barrier_init((unsigned)t.cores);
        for (int c = 0; c < t.nchips; c++)
            t.chipbar[c] = sg_barrier_init((unsigned)t.cpc);
        for (int st = 0; st < t.cores / t.stage_cores; st++)
            t.stagebar[st] = sg_barrier_init((unsigned)t.stage_cores);
        for (int core = 0; core < t.cores; core++) {
            char host[32], name[32];
            t.args[core] = (timer_arg){ &t, core };
            snprintf(host, sizeof host, "chip%d", timer_chip(&t, core));
            snprintf(name, sizeof name, "core%d", core);
            sg_actor_t a = sg_actor_init(name, sg_host_by_name(host));
            sg_actor_set_data(a, &t.args[core]);
            sg_actor_start(a, timer_actor, 0, NULL);
        }
        simgrid_run();
        if (t.failed) {
            *err = t.err;
            rc = -1;
        } else if (t.finished != t.cores) {
            rc = errbuf_set(err, "the simulation deadlocked: %d of %d cores finished the step (a platform number out "
                            "of any physical range?)", t.finished, t.cores);
        }
    }
    if (rc == 0) {
        res->a2a_fast = coll_world_fast_calls(t.world);
        res->ring_fast = coll_world_fast_ring_calls(t.world);
        res->phased_busiest_bytes = coll_world_phased_busiest_bytes(t.world);
    }
    timer_free(&t);
    return rc;
}

void timer_result_fini(timer_result *res)
{
    free(res->acct);
    free(res->lacct);
    free(res->lt0);
    free(res->lt1);
    free(res->a2a_across);
    free(res->rsag);
    memset(res, 0, sizeof *res);
}
