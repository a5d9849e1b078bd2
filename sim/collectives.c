/* collectives: all-to-all and all-reduce algorithms as SimGrid communications between chips; what each message
 * carries is planned in sim/collplan.c (no SimGrid).
 *
 * Mailboxes: every channel has exactly one sender, so messages of consecutive collectives can never be
 * matched out of order (SimGrid matches a mailbox's messages first in, first out):
 * - phased all-to-all: one channel per (receiving chip, dimension, direction of travel);
 * - ring all-reduce over all chips: the same, in a separate set;
 * - group all-reduce: one mailbox per (sender, receiver) pair, by name;
 * - direct all-to-all: one mailbox per receiving chip (its callers are separated by the caller's barrier);
 *   the payload is the address of the matrix entry, so the receiver checks it came from this matrix's column.
 * The first chip to enter a phased all-to-all plans it for all (collplan_phased); each chip then sends its
 * messages as flows whose payload is the message's address in the plan, which the receiver checks; or, where no
 * two can share a link (coll_world_set_fast), the plan alone times it (collplan_phased_dataflow).
 *
 * Network model: the caller's (sim/netmodel.h); the closed forms of tests/check_collectives.c are LV08's. */
#include "sim/collectives.h"
#include "sim/coll_int.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <simgrid/actor.h>
#include <simgrid/comm.h>
#include <simgrid/engine.h>
#include <simgrid/host.h>
#include <simgrid/mailbox.h>
#include <simgrid/link.h>
#include <xbt/config.h>
#include <xbt/dynar.h>
#include <xbt/log.h>

XBT_LOG_NEW_DEFAULT_CATEGORY(coll, "switchsim collectives");





/* The world's arrays (sizes from its shape); -1 with err when memory runs out. */
static int coll_world_arrays(coll_world *w, errbuf *err)
{
    size_t n = (size_t)w->n, nch = n * COLL_DIMS_MAX * 2;
    w->hosts = calloc(n, sizeof *w->hosts);
    w->mb_direct = calloc(n, sizeof *w->mb_direct);
    w->mb_ring = calloc(nch, sizeof *w->mb_ring);
    w->mb_line = calloc(n * COLL_DIMS_MAX * COLL_DIMS_MAX, sizeof *w->mb_line);
    w->mb_ar = calloc(nch, sizeof *w->mb_ar);
    w->nb_lat = calloc(nch, sizeof *w->nb_lat);
    w->nb_bw = calloc(nch, sizeof *w->nb_bw);
    w->fast_dur = calloc(n, sizeof *w->fast_dur);
    w->fast_next = calloc(n, sizeof *w->fast_next);
    w->fast_nvl = calloc(n, sizeof *w->fast_nvl);
    w->calls = calloc(n, sizeof *w->calls);
    w->ring_calls = calloc(n, sizeof *w->ring_calls);
    w->ring_dur = calloc(n, sizeof *w->ring_dur);
    if (w->hosts == NULL || w->mb_direct == NULL || w->mb_ring == NULL || w->mb_ar == NULL || w->mb_line == NULL
        || w->nb_lat == NULL || w->nb_bw == NULL || w->fast_dur == NULL || w->fast_next == NULL || w->fast_nvl == NULL || w->calls == NULL
        || w->ring_calls == NULL || w->ring_dur == NULL)
        return errbuf_set(err, "collectives: out of memory for %d chips", w->n);
    return 0;
}

/* Chip r's host and the mailboxes of the channels it receives on; -1 with err when the platform lacks the host. */
static int coll_world_chip(coll_world *w, int r, errbuf *err)
{
    char name[64];
    snprintf(name, sizeof name, "chip%d", r);
    w->hosts[r] = sg_host_by_name(name);
    if (w->hosts[r] == NULL) {
        char shape[64];
        int off = 0;
        for (int d = 0; d < w->pl->ndims; d++)
            off += snprintf(shape + off, sizeof shape - (size_t)off, d ? "x%d" : "%d", w->pl->dims[d]);
        return errbuf_set(err, "collectives: platform has no host '%s' (torus %s needs chip0..chip%d)", name, shape,
                          w->n - 1);
    }
    snprintf(name, sizeof name, "coll-d%d", r);
    w->mb_direct[r] = sg_mailbox_by_name(name);
    for (int d = 0; d < w->pl->ndims; d++)
        for (int dir = 0; dir < 2; dir++) {
            snprintf(name, sizeof name, "coll-p%d.%d.%d", r, d, dir);
            w->mb_ring[collplan_ch(r, d, dir)] = sg_mailbox_by_name(name);
            snprintf(name, sizeof name, "coll-a%d.%d.%d", r, d, dir);
            w->mb_ar[collplan_ch(r, d, dir)] = sg_mailbox_by_name(name);
        }
    for (int rot = 0; rot < COLL_DIMS_MAX; rot++)
        for (int d = 0; d < w->pl->ndims; d++) {
            snprintf(name, sizeof name, "coll-l%d.%d.%d", r, rot, d);
            w->mb_line[((size_t)r * COLL_DIMS_MAX + (size_t)rot) * COLL_DIMS_MAX + (size_t)d] =
                sg_mailbox_by_name(name);
        }
    return 0;
}

coll_world *coll_world_alloc(int ndims, const int *dims, const int *wrap, errbuf *err)
{
    collplan *pl = collplan_alloc(ndims, dims, wrap, err);
    if (pl == NULL)
        return NULL;
    coll_world *w = calloc(1, sizeof *w);
    if (w == NULL) {
        collplan_free(pl);
        errbuf_set(err, "collectives: out of memory");
        return NULL;
    }
    w->pl = pl;
    w->n = pl->n;
    int rc = coll_world_arrays(w, err);
    for (int r = 0; r < w->n && rc == 0; r++)
        rc = coll_world_chip(w, r, err);
    if (rc != 0) {
        coll_world_free(w);
        return NULL;
    }
    return w;
}

void coll_world_free(coll_world *w)
{
    if (w == NULL)
        return;
    free(w->hosts);
    free(w->mb_direct);
    free(w->mb_ring);
    free(w->mb_line);
    free(w->mb_ar);
    collplan_free(w->pl);
    free(w->nb_lat);
    free(w->nb_bw);
    free(w->fast_dur);
    free(w->fast_next);
    free(w->fast_nvl);
    free(w->calls);
    free(w->ring_calls);
    free(w->ring_dur);
    free(w->hier_bw);
    free(w->hier_work);
    free(w->ring_work);
    free(w->p2p_free);
    free(w);
}

int coll_world_nchips(const coll_world *w)
{
    return w->n;
}

int coll_world_set_switched(coll_world *w, int gpus_per_node, errbuf *err)
{
    if (w->pl->ndims != 1)
        return errbuf_set(err, "collectives: a switched network is a line of chips (ndims 1), got ndims %d",
                          w->pl->ndims);
    if (gpus_per_node < 1 || w->n % gpus_per_node != 0)
        return errbuf_set(err, "collectives: %d chips do not split into nodes of %d", w->n, gpus_per_node);
    w->node_size = gpus_per_node;
    return 0;
}

int coll_world_switched(const coll_world *w)
{
    return w->node_size;
}

double coll_world_phased_busiest_bytes(const coll_world *w)
{
    return collplan_busiest_bytes(w->pl);
}

void coll_world_reset_stats(coll_world *w)
{
    collplan_reset_stats(w->pl);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* direct */

/* The direct all-to-all of chip 'base + me' among the n chips base .. base + n - 1, bytes (n, n). */
static int coll_a2a_direct(coll_world *w, int base, int n, int me, const double *bytes, errbuf *err)
{
    int chip = me;                /* indices below are within the block; hosts and mailboxes at base + index */
    const double *row = bytes + (size_t)chip * n;
    int nput = 0, nget = 0;
    for (int t = 0; t < n; t++) {
        nput += t != chip && row[t] > 0.0;
        nget += t != chip && bytes[(size_t)t * n + chip] > 0.0;
    }
    sg_comm_t *comms = malloc(((size_t)nput + (size_t)nget + 1) * sizeof *comms);
    void **got = malloc(((size_t)nget + 1) * sizeof *got);
    if (comms == NULL || got == NULL) {
        free(comms);
        free(got);
        return errbuf_set(err, "collectives: out of memory for %d flows", nput + nget);
    }
    int nc = 0;
    for (int s = 0, g = 0; s < n; s++)
        if (s != chip && bytes[(size_t)s * n + chip] > 0.0) {
            got[g] = NULL;
            comms[nc++] = sg_mailbox_get_async(w->mb_direct[base + chip], &got[g]);
            g++;
        }
    for (int t = 0; t < n; t++)
        if (t != chip && row[t] > 0.0)   /* the payload is the matrix entry's address, read-only */
            comms[nc++] = sg_mailbox_put_async(w->mb_direct[base + t], (void *)(uintptr_t)&row[t],
                                               collplan_size(row[t]));
    sg_comm_wait_all(comms, (size_t)nc);
    double received = 0.0, expected = 0.0;
    int bad = -1;
    for (int s = 0; s < n; s++)
        if (s != chip)
            expected += bytes[(size_t)s * n + chip];
    for (int g = 0; g < nget; g++) {
        const double *p = got[g];
        ptrdiff_t off = p - bytes;
        if (p == NULL || off < 0 || off >= (ptrdiff_t)n * n || off % n != chip)
            bad = g;
        else
            received += *p;
    }
    free(comms);
    free(got);
    if (bad >= 0)
        return errbuf_set(err, "collectives: chip %d received a direct all-to-all message that is not from its "
                          "column of this byte matrix", base + chip);
    if (!collplan_close(received, expected))
        return errbuf_set(err, "collectives: chip %d received %.17g bytes in a direct all-to-all, expected %.17g",
                          base + chip, received, expected);
    return 0;
}

int coll_alltoall_block(coll_world *w, int chip, int base, int n, const double *bytes, errbuf *err)
{
    if (n < 1 || base < 0 || base > w->n - n || chip < base || chip >= base + n)
        return errbuf_set(err, "collectives: chip %d is not in the all-to-all block of %d chips from chip %d (0..%d)",
                          chip, n, base, w->n - 1);
    return coll_a2a_direct(w, base, n, chip - base, bytes, err);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* phased */












/* One chip's part of the planned phased all-to-all as SimGrid flows: per phase, its line flows all at once,
 * and its ring steps one after the other (a step starts when the chip's messages of the previous one have
 * arrived).  A message's payload is the address of its size in the plan, so the receiver checks that what
 * SimGrid delivered on each channel is the message the plan says its neighbour sends at this step. */
static int coll_phased_run(coll_world *w, int chip, errbuf *err)
{
    const collplan *pl = w->pl;
    int c[COLL_DIMS_MAX];
    collplan_coords(pl, chip, c);
    size_t nline_max = (size_t)pl->R * 2 * (size_t)pl->maxl;
    sg_comm_t *lcomms = malloc(nline_max * sizeof *lcomms);
    void **lgot = malloc(nline_max * sizeof *lgot);
    int *lrot = malloc(nline_max * sizeof *lrot);
    int rc = 0;
    if (lcomms == NULL || lgot == NULL || lrot == NULL)
        rc = errbuf_set(err, "collectives: out of memory for a phased all-to-all on %d chips", w->n);
    for (int p = 0; p < pl->ndims && rc == 0; p++) {
        int nl = 0;
        for (int r = 0; r < pl->R; r++) {
            int d = collplan_order(pl, r, p), L = pl->dims[d], q = c[d];
            if (!pl->line[p][r])
                continue;
            for (int k = 0; k < L; k++) {
                if (k == q)
                    continue;
                int to = chip + (k - q) * pl->stride[d];
                double *msg = &pl->linemsg[collplan_line_at(pl, p, chip, r, k)];
                lrot[nl] = r;
                lgot[nl] = NULL;
                lcomms[nl] = sg_mailbox_get_async(w->mb_line[((size_t)chip * COLL_DIMS_MAX + (size_t)r)
                                                             * COLL_DIMS_MAX + (size_t)d], &lgot[nl]);
                nl++;
                lrot[nl] = -1;
                lgot[nl] = NULL;
                lcomms[nl++] = sg_mailbox_put_async(w->mb_line[((size_t)to * COLL_DIMS_MAX + (size_t)r)
                                                               * COLL_DIMS_MAX + (size_t)d], msg, collplan_size(*msg));
            }
        }
        for (int t = 1; t <= pl->steps[p] && rc == 0; t++) {
            sg_comm_t comms[4 * COLL_DIMS_MAX];
            void *got[COLL_DIMS_MAX][2];
            int nc = 0;
            for (int r = 0; r < pl->R; r++) {
                int d = collplan_order(pl, r, p), L = pl->dims[d], q = c[d];
                for (int dir = 0; dir < 2; dir++) {
                    got[r][dir] = NULL;
                    if (!pl->line[p][r] && collplan_recvs(L, pl->wrap[d], q, dir, t))
                        comms[nc++] = sg_mailbox_get_async(w->mb_ring[collplan_ch(chip, d, dir)], &got[r][dir]);
                }
                for (int dir = 0; dir < 2; dir++) {
                    double *msg = &pl->ringmsg[collplan_ring_at(pl, p, t, chip, r, dir)];
                    int to = collplan_neighbour(pl, chip, d, dir);
                    if (*msg >= 0.0)
                        comms[nc++] = sg_mailbox_put_async(w->mb_ring[collplan_ch(to, d, dir)], msg,
                                                           collplan_size(*msg));
                }
            }
            sg_comm_wait_all(comms, (size_t)nc);
            for (int r = 0; r < pl->R; r++)
                for (int dir = 0; dir < 2; dir++) {
                    int from = collplan_neighbour(pl, chip, collplan_order(pl, r, p), 1 - dir);
                    const double *sent = &pl->ringmsg[collplan_ring_at(pl, p, t, from, r, dir)];
                    if (got[r][dir] != NULL && got[r][dir] != sent)
                        rc = errbuf_set(err, "collectives: chip %d received, at step %d of phase %d of a phased "
                                        "all-to-all, a message its neighbour %d did not send then", chip, t, p, from);
                }
        }
        sg_comm_wait_all(lcomms, (size_t)nl);
        for (int i = 0; i < nl && rc == 0; i++) {
            if (lrot[i] < 0)
                continue;                               /* a put */
            ptrdiff_t off = (const double *)lgot[i] - pl->linemsg;
            size_t lo = collplan_line_at(pl, p, 0, 0, 0), hi = collplan_line_at(pl, p + 1, 0, 0, 0);
            int d = collplan_order(pl, lrot[i], p);
            if (off < (ptrdiff_t)lo || off >= (ptrdiff_t)hi || (size_t)off % (size_t)pl->maxl != (size_t)c[d])
                rc = errbuf_set(err, "collectives: chip %d received a phased line flow that is not one of its "
                                "line's flows to it in phase %d", chip, p);
        }
    }
    free(lcomms);
    free(lgot);
    free(lrot);
    return rc;
}



/* ---------------------------------------------------------------------------------------------------------- */
/* one call: plan, timing */

/* What the first chip to enter a call works out for all of them (actors run one at a time, so there is no
 * race): for a phased all-to-all its plan and, where fast, every chip's duration. */
static int coll_call_begin(coll_world *w, const double *bytes, coll_a2a_algo algo, errbuf *err)
{
    w->cur_fast = 0;
    w->cur_hier = algo == COLL_A2A_HIER;
    if (algo == COLL_A2A_DIRECT)
        return 0;
    if (algo == COLL_A2A_HIER) {
        if (coll_hier_net(w, err) != 0
            || collhier_time_split(w->fast_dur, w->fast_nvl, w->hier_work, bytes, &w->hnet, err) != 0)
            return -1;
        w->cur_fast = 1;
        w->fast_calls++;
        return 0;
    }
    if (collplan_phased(w->pl, bytes, algo == COLL_A2A_PHASED ? w->pl->ndims : 1, err) != 0)
        return -1;
    if (w->fast) {
        collplan_phased_dataflow(w->fast_dur, w->fast_next, w->pl, w->nb_lat, w->nb_bw);
        w->cur_fast = 1;
        w->fast_calls++;
    }
    return 0;
}

int coll_alltoall_prepare(coll_world *w, int chip, const double *bytes, coll_a2a_algo algo, double *dur_s,
                          errbuf *err)
{
    if (chip < 0 || chip >= w->n)
        return errbuf_set(err, "collectives: chip %d is not a chip (0..%d)", chip, w->n - 1);
    if (algo != COLL_A2A_DIRECT && algo != COLL_A2A_PHASED && algo != COLL_A2A_PHASED_XY && algo != COLL_A2A_HIER)
        return errbuf_set(err, "collectives: unknown all-to-all algorithm %d", (int)algo);
    if ((algo == COLL_A2A_PHASED || algo == COLL_A2A_PHASED_XY) && w->node_size > 0)
        return errbuf_set(err, "collectives: the phased all-to-all is for tori (neighbour ring steps); a "
                          "switched network runs the direct or the hierarchical one");
    if (algo == COLL_A2A_HIER && w->node_size == 0)
        return errbuf_set(err, "collectives: the hierarchical all-to-all is for GPU nodes (a switched world); a "
                          "torus runs the phased or the direct one");
    long call = ++w->calls[chip];
    if (call > w->cur_call) {
        w->cur_call = call;
        w->cur_failed = coll_call_begin(w, bytes, algo, &w->cur_err) != 0;
    } else if (call != w->cur_call) {
        return errbuf_set(err, "collectives: chip %d entered all-to-all call %ld while the others are in call %ld",
                          chip, call, w->cur_call);
    }
    if (w->cur_failed) {             /* every chip of the call reports what broke, none waits for the others */
        *err = w->cur_err;
        return -1;
    }
    if (w->cur_fast) {
        *dur_s = w->fast_dur[chip];
        return 1;
    }
    return 0;
}

double coll_alltoall_across(const coll_world *w, int chip)
{
    return w->cur_hier && chip >= 0 && chip < w->n ? w->fast_dur[chip] - w->fast_nvl[chip] : 0.0;
}

int coll_alltoall_run(coll_world *w, int chip, const double *bytes, coll_a2a_algo algo, errbuf *err)
{
    if (chip < 0 || chip >= w->n || w->calls[chip] != w->cur_call || w->cur_failed || w->cur_fast)
        return errbuf_set(err, "collectives: chip %d runs the flows of an all-to-all it did not prepare, or whose "
                          "time is already known", chip);
    return algo == COLL_A2A_DIRECT ? coll_a2a_direct(w, 0, w->n, chip, bytes, err) : coll_phased_run(w, chip, err);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* fast timing */

static int coll_ptr_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
    return x < y ? -1 : x > y;
}

/* Whether chip sends along dimension d in direction dir in some ring step of a phased all-to-all. */
static int coll_sends_ever(const coll_world *w, int chip, int d, int dir)
{
    const collplan *pl = w->pl;
    int c[COLL_DIMS_MAX];
    collplan_coords(pl, chip, c);
    int L = pl->dims[d];
    return L >= 2 && (pl->wrap[d] || (dir == 0 ? c[d] < L - 1 : c[d] > 0));
}

/* 0 when every phased ring message would have its links to itself under a model that times a lone flow as
 * latency + bytes / bandwidth (the neighbour routes' latencies and bandwidths saved), else -1 with why. */
static int coll_fast_check(coll_world *w, errbuf *why)
{
    const collplan *pl = w->pl;
    if (sg_cfg_get_boolean("network/crosstraffic") || sg_cfg_get_double("network/TCP-gamma") != 0.0)
        return errbuf_set(why, "the network model adds TCP's cross-traffic or window (hw adds neither)");
    if (w->node_size > 0)
        return 0;                     /* the plans of sim/collswitch.c: no route to check */
    for (int d = 0; d < pl->ndims; d++)
        if (!pl->wrap[d] && pl->dims[d] > 2)
            return errbuf_set(why, "%c is a line of %d chips, whose flows share links", "xyz"[d], pl->dims[d]);
    size_t nch = (size_t)w->n * COLL_DIMS_MAX * 2, nlinks = 0, cap = 4 * nch;
    void **links = malloc(cap * sizeof *links);
    xbt_dynar_t route = xbt_dynar_new(sizeof(sg_link_t), NULL);
    int ok = links != NULL;
    for (int chip = 0; chip < w->n && ok; chip++)
        for (int d = 0; d < pl->ndims && ok; d++)
            for (int dir = 0; dir < 2 && ok; dir++) {
                size_t ch = collplan_ch(chip, d, dir);
                if (!coll_sends_ever(w, chip, d, dir))
                    continue;
                sg_host_t to = w->hosts[collplan_neighbour(pl, chip, d, dir)];
                w->nb_lat[ch] = sg_host_get_route_latency(w->hosts[chip], to);
                w->nb_bw[ch] = sg_host_get_route_bandwidth(w->hosts[chip], to);
                xbt_dynar_reset(route);
                sg_host_get_route(w->hosts[chip], to, route);
                for (unsigned long i = 0; i < xbt_dynar_length(route) && ok; i++) {
                    if (nlinks == cap) {
                        void **more = realloc(links, 2 * cap * sizeof *links);
                        ok = more != NULL;
                        if (ok)
                            links = more, cap *= 2;
                    }
                    if (ok)
                        links[nlinks++] = xbt_dynar_get_as(route, i, sg_link_t);
                }
                ok = ok && w->nb_bw[ch] > 0.0;
            }
    xbt_dynar_free(&route);
    if (!ok) {
        free(links);
        return errbuf_set(why, "a neighbour route has no bandwidth, or out of memory reading the routes");
    }
    qsort(links, nlinks, sizeof *links, coll_ptr_cmp);
    for (size_t i = 1; i < nlinks; i++)
        if (links[i] == links[i - 1]) {
            errbuf_set(why, "two neighbour routes share the link '%s'", sg_link_get_name((sg_link_t)links[i]));
            free(links);
            return -1;
        }
    free(links);
    return 0;
}

int coll_world_set_fast(coll_world *w, errbuf *why)
{
    w->fast_model = !sg_cfg_get_boolean("network/crosstraffic") && sg_cfg_get_double("network/TCP-gamma") == 0.0;
    if (w->node_size > 0)
        return w->fast_switched = coll_fast_check(w, why) == 0;
    w->fast = coll_fast_check(w, why) == 0;
    w->fast_ring = w->fast;
    for (int d = 0; d < w->pl->ndims; d++)
        if (w->pl->dims[d] == 2)
            w->fast_ring = 0;
    return w->fast;
}

long coll_world_fast_calls(const coll_world *w)
{
    return w->fast_calls;
}

long coll_world_fast_ring_calls(const coll_world *w)
{
    return w->fast_ring_calls;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* all-reduce */

/* One bidirectional ring exchange step: send 'size' to next and to prev, receive from both. */
static void coll_ring_step(sg_mailbox_t to_next, sg_mailbox_t to_prev, sg_mailbox_t from_prev,
                           sg_mailbox_t from_next, double size)
{
    static double dummy = 0.0;   /* SimGrid refuses a NULL payload */
    void *g0 = NULL, *g1 = NULL;
    sg_comm_t comms[4];
    comms[0] = sg_mailbox_get_async(from_prev, &g0);
    comms[1] = sg_mailbox_get_async(from_next, &g1);
    comms[2] = sg_mailbox_put_async(to_next, &dummy, collplan_size(size));
    comms[3] = sg_mailbox_put_async(to_prev, &dummy, collplan_size(size));
    sg_comm_wait_all(comms, 4);
}





/* Ring all-reduce over a switched network (group NULL: all chips in rank order).  The group is cut into node
 * segments (runs of members in one node).  In one node a single bidirectional ring is enough: every GPU's
 * flows cross the crossbar on its own NVLink pair whatever the order.  Across nodes, one ring would leave the
 * node through one GPU's NIC each way while the others idle, so C rings (channels, C = the longest segment,
 * as NCCL's rings per NIC) run at once, each with 1/C of the data and each segment rotated by its channel
 * number: channel c leaves a node from a different GPU, so all C NICs of a node carry ring traffic.
 * 2(n-1) steps (n-1 for the reduce-scatter or the all-gather alone, 'passes'); each step every member sends
 * bytes/(2nC) to its next and previous member in every channel. */
static int coll_allreduce_switched(coll_world *w, int chip, const int *group, int n, double bytes, int passes,
                                   errbuf *err)
{
    int *ids = NULL, *seg_start = malloc(((size_t)n + 1) * sizeof *seg_start);
    if (group == NULL) {
        ids = malloc((size_t)n * sizeof *ids);
        if (ids != NULL)
            for (int i = 0; i < n; i++)
                ids[i] = i;
        group = ids;
    }
    if (seg_start == NULL || group == NULL) {
        free(seg_start);
        free(ids);
        return errbuf_set(err, "collectives: out of memory for a %d-member all-reduce", n);
    }
    int me = -1, nseg = 0, C = 1;
    for (int i = 0; i < n; i++) {
        if (group[i] == chip)
            me = i;
        if (i == 0 || group[i] / w->node_size != group[i - 1] / w->node_size)
            seg_start[nseg++] = i;
    }
    seg_start[nseg] = n;
    if (nseg > 1)
        for (int j = 0; j < nseg; j++)
            if (seg_start[j + 1] - seg_start[j] > C)
                C = seg_start[j + 1] - seg_start[j];
    int rc = 0;
    sg_mailbox_t *mb = malloc((size_t)C * 4 * sizeof *mb);     /* per channel: to next, to prev, from prev, from next */
    sg_comm_t *comms = malloc((size_t)C * 4 * sizeof *comms);
    void **got = malloc((size_t)C * 2 * sizeof *got);
    if (mb == NULL || comms == NULL || got == NULL) {
        rc = errbuf_set(err, "collectives: out of memory for a %d-member all-reduce", n);
        goto done;
    }
    int j = 0;
    while (seg_start[j + 1] <= me)
        j++;
    int len = seg_start[j + 1] - seg_start[j], i_in = me - seg_start[j];
    for (int c = 0; c < C; c++) {
        int at = seg_start[j] + ((i_in - c) % len + len) % len;     /* my position in channel c's ring */
        int next = collplan_channel_member(group, seg_start, nseg, c, (at + 1) % n);
        int prev = collplan_channel_member(group, seg_start, nseg, c, (at + n - 1) % n);
        const int pair[4][2] = { { chip, next }, { chip, prev }, { prev, chip }, { next, chip } };
        for (int k = 0; k < 4; k++) {
            char name[64];
            snprintf(name, sizeof name, "coll-s%d.%d.%d", pair[k][0], pair[k][1], c);
            mb[4 * c + k] = sg_mailbox_by_name(name);
        }
    }
    static double dummy = 0.0;   /* SimGrid refuses a NULL payload */
    long size = collplan_size(bytes / n / 2.0 / C);
    int steps = (n - 1) * ((passes & COLLPLAN_PASS_RS ? 1 : 0) + (passes & COLLPLAN_PASS_AG ? 1 : 0));
    for (int t = 0; t < steps; t++) {
        int nc = 0;
        for (int c = 0; c < C; c++) {
            got[2 * c] = got[2 * c + 1] = NULL;
            comms[nc++] = sg_mailbox_get_async(mb[4 * c + 2], &got[2 * c]);
            comms[nc++] = sg_mailbox_get_async(mb[4 * c + 3], &got[2 * c + 1]);
        }
        for (int c = 0; c < C; c++) {
            comms[nc++] = sg_mailbox_put_async(mb[4 * c], &dummy, size);
            comms[nc++] = sg_mailbox_put_async(mb[4 * c + 1], &dummy, size);
        }
        sg_comm_wait_all(comms, (size_t)nc);
    }
done:
    free(mb);
    free(comms);
    free(got);
    free(seg_start);
    free(ids);
    return rc;
}



/* The dimension rings over all chips (coll_ring_schedule) on a torus, as flows or, where fast, timed by
 * coll_ring_dataflow; node-aware rings on GPU nodes. */
static int coll_ring_all(coll_world *w, int chip, double bytes, int passes, errbuf *err)
{
    const collplan *pl = w->pl;
    if (chip < 0 || chip >= w->n)
        return errbuf_set(err, "collectives: chip %d is not a chip (0..%d)", chip, w->n - 1);
    if (w->node_size > 0 && (w->n == 1 || !w->fast_switched))
        return w->n == 1 ? 0 : coll_allreduce_switched(w, chip, NULL, w->n, bytes, passes, err);
    if (w->fast_ring || w->fast_switched) {   /* the first chip of a call times it for all; each sleeps its time */
        long call = ++w->ring_calls[chip];
        if (call > w->ring_cur_call) {
            w->ring_cur_call = call;
            if (w->fast_switched && coll_rings_time(w, NULL, NULL, 1, bytes, passes, w->ring_dur, err) != 0)
                return -1;
            if (!w->fast_switched) {
                collplan_ring_dataflow(w->ring_dur, w->fast_next, pl, w->nb_lat, w->nb_bw, bytes, passes);
                w->fast_ring_calls++;
            }
        } else if (call != w->ring_cur_call) {
            return errbuf_set(err, "collectives: chip %d entered all-reduce call %ld while the others are in call "
                              "%ld", chip, call, w->ring_cur_call);
        }
        sg_actor_sleep_for(w->ring_dur[chip]);
        return 0;
    }
    int c[COLL_DIMS_MAX];
    collplan_coords(pl, chip, c);
    int nb[COLL_DIMS_MAX][2];   /* ring next (0) and prev (1) chips per dimension */
    for (int d = 0; d < pl->ndims; d++) {
        int L = pl->dims[d], i = collplan_ring_index(L, pl->wrap[d], c[d]);
        int qn = collplan_ring_pos(L, pl->wrap[d], (i + 1) % L);
        int qp = collplan_ring_pos(L, pl->wrap[d], (i + L - 1) % L);
        nb[d][0] = chip + (qn - c[d]) * pl->stride[d];
        nb[d][1] = chip + (qp - c[d]) * pl->stride[d];
    }
    int dim[2 * COLL_DIMS_MAX];
    double sizes[2 * COLL_DIMS_MAX];
    int nrings = collplan_ring_schedule(pl, bytes, passes, dim, sizes);
    for (int i = 0; i < nrings; i++) {
        int d = dim[i];
        for (int t = 0; t < pl->dims[d] - 1; t++)
            coll_ring_step(w->mb_ar[collplan_ch(nb[d][0], d, 0)], w->mb_ar[collplan_ch(nb[d][1], d, 1)],
                           w->mb_ar[collplan_ch(chip, d, 0)], w->mb_ar[collplan_ch(chip, d, 1)], sizes[i]);
    }
    return 0;
}

int coll_allreduce_all(coll_world *w, int chip, double bytes, errbuf *err)
{
    return coll_ring_all(w, chip, bytes, COLLPLAN_PASS_RS | COLLPLAN_PASS_AG, err);
}

int coll_reducescatter_all(coll_world *w, int chip, double bytes, errbuf *err)
{
    return coll_ring_all(w, chip, bytes, COLLPLAN_PASS_RS, err);
}

int coll_allgather_all(coll_world *w, int chip, double bytes, errbuf *err)
{
    return coll_ring_all(w, chip, bytes, COLLPLAN_PASS_AG, err);
}

/* A ring over 'group': the all-reduce's reduce-scatter and/or all-gather passes (COLLPLAN_PASS_*), n-1 steps each. */
static int coll_ring_group(coll_world *w, int chip, const int *group, int n, double bytes, int passes, errbuf *err)
{
    int me = -1;
    for (int i = 0; i < n; i++) {
        if (group[i] < 0 || group[i] >= w->n)
            return errbuf_set(err, "collectives: all-reduce group member %d is not a chip (0..%d)", group[i],
                              w->n - 1);
        if (group[i] == chip)
            me = i;
    }
    if (me < 0)
        return errbuf_set(err, "collectives: chip %d is not in the all-reduce group", chip);
    if (n == 1)
        return 0;
    if (w->node_size > 0)
        return coll_allreduce_switched(w, chip, group, n, bytes, passes, err);
    int next = group[(me + 1) % n], prev = group[(me + n - 1) % n];
    char name[64];
    snprintf(name, sizeof name, "coll-g%d.%d", chip, next);
    sg_mailbox_t to_next = sg_mailbox_by_name(name);
    snprintf(name, sizeof name, "coll-g%d.%d", chip, prev);
    sg_mailbox_t to_prev = sg_mailbox_by_name(name);
    snprintf(name, sizeof name, "coll-g%d.%d", prev, chip);
    sg_mailbox_t from_prev = sg_mailbox_by_name(name);
    snprintf(name, sizeof name, "coll-g%d.%d", next, chip);
    sg_mailbox_t from_next = sg_mailbox_by_name(name);
    double size = bytes / n / 2.0;
    int npass = ((passes & COLLPLAN_PASS_RS) != 0) + ((passes & COLLPLAN_PASS_AG) != 0);
    for (int t = 0; t < npass * (n - 1); t++)
        coll_ring_step(to_next, to_prev, from_prev, from_next, size);
    return 0;
}

int coll_allreduce_group(coll_world *w, int chip, const int *group, int n, double bytes, errbuf *err)
{
    return coll_ring_group(w, chip, group, n, bytes, COLLPLAN_PASS_RS | COLLPLAN_PASS_AG, err);
}

int coll_reducescatter_group(coll_world *w, int chip, const int *group, int n, double bytes, errbuf *err)
{
    return coll_ring_group(w, chip, group, n, bytes, COLLPLAN_PASS_RS, err);
}

int coll_allgather_group(coll_world *w, int chip, const int *group, int n, double bytes, errbuf *err)
{
    return coll_ring_group(w, chip, group, n, bytes, COLLPLAN_PASS_AG, err);
}
