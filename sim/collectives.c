/* collectives: all-to-all and all-reduce algorithms as SimGrid communications between chips.
 *
 * Mailboxes: every channel has exactly one sender, so messages of consecutive collectives can never be
 * matched out of order (SimGrid matches a mailbox's messages first in, first out):
 * - phased all-to-all: one channel per (receiving chip, dimension, direction of travel);
 * - ring all-reduce over all chips: the same, in a separate set;
 * - group all-reduce: one mailbox per (sender, receiver) pair, by name;
 * - direct all-to-all: one mailbox per receiving chip (its callers are separated by the caller's barrier);
 *   the payload is the address of the matrix entry, so the receiver checks it came from this matrix's column.
 * The phased all-to-all is worked out for every chip first (its plan: the bytes of every message, carried
 * per destination coordinate from step to step, with conservation checks), by the first chip to enter a call;
 * then each chip sends its messages as SimGrid flows, the payload being the address of the message in the
 * plan, which the receiver checks.  Where no two of its messages can share a link (coll_world_set_fast), the
 * plan alone times it: one pass over the messages, no flows.
 *
 * Network model: the caller's (sim/netmodel.h); the closed forms of tests/check_collectives.c are LV08's. */
#include "sim/collectives.h"

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

/* The halves of a ring all-reduce: its reduce-scatter and its all-gather. */
#define COLL_PASS_RS 1
#define COLL_PASS_AG 2

/* Relative tolerance of the byte conservation checks (sums of up to N^2 doubles). */
#define COLL_CONS_RTOL 1e-9

typedef struct {
    int algo;
    int n;
    int keyed;              /* 1: hash is the caller's key (coll_alltoall_keyed), 0: the matrix's hash */
    uint64_t hash;
    double *dur_s;          /* (nchips) per-chip durations measured when it was simulated */
} coll_cache_entry;

/* The shape of a planned phased all-to-all: rotations, ring steps per phase, which phases are line flows. */
typedef struct {
    int R;
    int steps[COLL_DIMS_MAX];
    int line[COLL_DIMS_MAX][COLL_DIMS_MAX];   /* [phase][rotation] */
} coll_phased_plan;

struct coll_world {
    int n, ndims;
    int node_size;                /* 0: a torus; > 0: switched (GPU nodes of node_size consecutive ranks) */
    int dims[COLL_DIMS_MAX], wrap[COLL_DIMS_MAX], stride[COLL_DIMS_MAX];
    int maxl;                     /* longest dimension */
    sg_host_t *hosts;             /* (n) */
    sg_mailbox_t *mb_direct;      /* (n) */
    sg_mailbox_t *mb_ring;        /* (n, COLL_DIMS_MAX, 2) phased all-to-all channels */
    sg_mailbox_t *mb_line;        /* (n, COLL_DIMS_MAX rotations, COLL_DIMS_MAX dims) phased line flows */
    sg_mailbox_t *mb_ar;          /* (n, COLL_DIMS_MAX, 2) all-reduce ring channels */
    /* the phased all-to-all of the current call, worked out by its first chip (coll_phased_plan_make) */
    coll_phased_plan plan;
    double *plan_ringmsg;         /* (ndims phases, maxl steps, n, COLL_DIMS_MAX rotations, 2 dirs) bytes, < 0: none */
    double *plan_linemsg;         /* (ndims phases, n, COLL_DIMS_MAX rotations, maxl) bytes to each coordinate */
    double *plan_carry[2];        /* (n, COLL_DIMS_MAX rotations, 2 dirs, maxl) carried per destination, by step */
    double *plan_held;            /* (n, COLL_DIMS_MAX rotations) bytes arrived */
    double *plan_buf;             /* (maxl) */
    /* fast timing (coll_world_set_fast) */
    int fast, cur_fast;
    int cur_failed;               /* the call's plan failed a check: cur_err says which */
    errbuf cur_err;
    long fast_calls;
    double *nb_lat, *nb_bw;       /* (n, COLL_DIMS_MAX, 2) each neighbour route's latency and bandwidth */
    double *fast_dur, *fast_next; /* (n) */
    int fast_ring;                /* the dimension-ring all-reduces too (fast, and no dimension of 2 chips) */
    long fast_ring_calls, ring_cur_call;
    long *ring_calls;             /* (n) dimension-ring all-reduce calls per chip */
    double *ring_dur;             /* (n) */
    double *link_bytes;           /* (n, COLL_DIMS_MAX, 2) bytes sent per neighbour link since reset */
    /* reuse */
    int reuse;
    long reused;
    long *calls;                  /* (n) all-to-all calls per chip */
    long cur_call;                /* the call the chips are in */
    int cur_entry, cur_new;       /* cache index for that call; 1 if it is being simulated now */
    coll_cache_entry *cache;
    int ncache, capcache;
};

static size_t coll_ch(int chip, int d, int dir)
{
    return ((size_t)chip * COLL_DIMS_MAX + (size_t)d) * 2 + (size_t)dir;
}

static void coll_coords(const coll_world *w, int chip, int *c)
{
    for (int d = 0; d < COLL_DIMS_MAX; d++)
        c[d] = d < w->ndims ? (chip / w->stride[d]) % w->dims[d] : 0;
}

/* The chip one step along dimension d in direction dir (0: +, 1: -), wrapping; the caller checks lines. */
static int coll_neighbour(const coll_world *w, int chip, int d, int dir)
{
    int c[COLL_DIMS_MAX];
    coll_coords(w, chip, c);
    int L = w->dims[d];
    int q = (c[d] + (dir == 0 ? 1 : L - 1)) % L;
    return chip + (q - c[d]) * w->stride[d];
}

/* The world's arrays (sizes from its shape); -1 with err when memory runs out. */
static int coll_world_arrays(coll_world *w, errbuf *err)
{
    size_t n = (size_t)w->n, nch = n * COLL_DIMS_MAX * 2, maxl = (size_t)w->maxl;
    w->hosts = calloc(n, sizeof *w->hosts);
    w->mb_direct = calloc(n, sizeof *w->mb_direct);
    w->mb_ring = calloc(nch, sizeof *w->mb_ring);
    w->mb_line = calloc(n * COLL_DIMS_MAX * COLL_DIMS_MAX, sizeof *w->mb_line);
    w->mb_ar = calloc(nch, sizeof *w->mb_ar);
    w->plan_ringmsg = calloc((size_t)w->ndims * maxl * nch, sizeof *w->plan_ringmsg);
    w->plan_linemsg = calloc((size_t)w->ndims * n * COLL_DIMS_MAX * maxl, sizeof *w->plan_linemsg);
    for (int i = 0; i < 2; i++)
        w->plan_carry[i] = calloc(nch * maxl, sizeof *w->plan_carry[i]);
    w->plan_held = calloc(n * COLL_DIMS_MAX, sizeof *w->plan_held);
    w->plan_buf = calloc(maxl, sizeof *w->plan_buf);
    w->nb_lat = calloc(nch, sizeof *w->nb_lat);
    w->nb_bw = calloc(nch, sizeof *w->nb_bw);
    w->fast_dur = calloc(n, sizeof *w->fast_dur);
    w->fast_next = calloc(n, sizeof *w->fast_next);
    w->link_bytes = calloc(nch, sizeof *w->link_bytes);
    w->calls = calloc(n, sizeof *w->calls);
    w->ring_calls = calloc(n, sizeof *w->ring_calls);
    w->ring_dur = calloc(n, sizeof *w->ring_dur);
    if (w->hosts == NULL || w->mb_direct == NULL || w->mb_ring == NULL || w->mb_ar == NULL || w->mb_line == NULL
        || w->plan_ringmsg == NULL || w->plan_linemsg == NULL || w->plan_carry[0] == NULL || w->plan_carry[1] == NULL
        || w->plan_held == NULL || w->plan_buf == NULL || w->nb_lat == NULL || w->nb_bw == NULL
        || w->fast_dur == NULL || w->fast_next == NULL || w->link_bytes == NULL || w->calls == NULL
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
        for (int d = 0; d < w->ndims; d++)
            off += snprintf(shape + off, sizeof shape - (size_t)off, d ? "x%d" : "%d", w->dims[d]);
        return errbuf_set(err, "collectives: platform has no host '%s' (torus %s needs chip0..chip%d)", name, shape,
                          w->n - 1);
    }
    snprintf(name, sizeof name, "coll-d%d", r);
    w->mb_direct[r] = sg_mailbox_by_name(name);
    for (int d = 0; d < w->ndims; d++)
        for (int dir = 0; dir < 2; dir++) {
            snprintf(name, sizeof name, "coll-p%d.%d.%d", r, d, dir);
            w->mb_ring[coll_ch(r, d, dir)] = sg_mailbox_by_name(name);
            snprintf(name, sizeof name, "coll-a%d.%d.%d", r, d, dir);
            w->mb_ar[coll_ch(r, d, dir)] = sg_mailbox_by_name(name);
        }
    for (int rot = 0; rot < COLL_DIMS_MAX; rot++)
        for (int d = 0; d < w->ndims; d++) {
            snprintf(name, sizeof name, "coll-l%d.%d.%d", r, rot, d);
            w->mb_line[((size_t)r * COLL_DIMS_MAX + (size_t)rot) * COLL_DIMS_MAX + (size_t)d] =
                sg_mailbox_by_name(name);
        }
    return 0;
}

coll_world *coll_world_alloc(int ndims, const int *dims, const int *wrap, errbuf *err)
{
    if (ndims < 1 || ndims > COLL_DIMS_MAX) {
        errbuf_set(err, "collectives: ndims must be 1..%d, got %d", COLL_DIMS_MAX, ndims);
        return NULL;
    }
    for (int d = 0; d < ndims; d++)
        if (dims[d] < 1) {
            errbuf_set(err, "collectives: dims[%d] must be >= 1, got %d", d, dims[d]);
            return NULL;
        }
    coll_world *w = calloc(1, sizeof *w);
    if (w == NULL) {
        errbuf_set(err, "collectives: out of memory");
        return NULL;
    }
    w->ndims = ndims;
    w->n = 1;
    w->maxl = 1;
    for (int d = 0; d < COLL_DIMS_MAX; d++) {
        w->dims[d] = d < ndims ? dims[d] : 1;
        w->wrap[d] = d < ndims ? (wrap[d] != 0) : 0;
        w->stride[d] = w->n;
        w->n *= w->dims[d];
        if (w->dims[d] > w->maxl)
            w->maxl = w->dims[d];
    }
    int rc = coll_world_arrays(w, err);
    for (int r = 0; r < w->n && rc == 0; r++)
        rc = coll_world_chip(w, r, err);
    if (rc != 0) {
        coll_world_free(w);
        return NULL;
    }
    w->cur_call = 0;
    w->cur_entry = -1;
    return w;
}

void coll_world_free(coll_world *w)
{
    if (w == NULL)
        return;
    for (int i = 0; i < w->ncache; i++)
        free(w->cache[i].dur_s);
    free(w->cache);
    free(w->hosts);
    free(w->mb_direct);
    free(w->mb_ring);
    free(w->mb_line);
    free(w->mb_ar);
    free(w->plan_ringmsg);
    free(w->plan_linemsg);
    free(w->plan_carry[0]);
    free(w->plan_carry[1]);
    free(w->plan_held);
    free(w->plan_buf);
    free(w->nb_lat);
    free(w->nb_bw);
    free(w->fast_dur);
    free(w->fast_next);
    free(w->link_bytes);
    free(w->calls);
    free(w->ring_calls);
    free(w->ring_dur);
    free(w);
}

int coll_world_nchips(const coll_world *w)
{
    return w->n;
}

int coll_world_set_switched(coll_world *w, int gpus_per_node, errbuf *err)
{
    if (w->ndims != 1)
        return errbuf_set(err, "collectives: a switched network is a line of chips (ndims 1), got ndims %d",
                          w->ndims);
    if (gpus_per_node < 1 || w->n % gpus_per_node != 0)
        return errbuf_set(err, "collectives: %d chips do not split into nodes of %d", w->n, gpus_per_node);
    w->node_size = gpus_per_node;
    return 0;
}

int coll_world_switched(const coll_world *w)
{
    return w->node_size;
}

void coll_world_set_reuse(coll_world *w, int on)
{
    w->reuse = on != 0;
}

long coll_world_reused(const coll_world *w)
{
    return w->reused;
}

double coll_world_phased_busiest_bytes(const coll_world *w)
{
    double m = 0.0;
    for (size_t i = 0; i < (size_t)w->n * COLL_DIMS_MAX * 2; i++)
        if (w->link_bytes[i] > m)
            m = w->link_bytes[i];
    return m;
}

void coll_world_reset_stats(coll_world *w)
{
    memset(w->link_bytes, 0, (size_t)w->n * COLL_DIMS_MAX * 2 * sizeof *w->link_bytes);
}

static int coll_close(double a, double b)
{
    return fabs(a - b) <= COLL_CONS_RTOL * fmax(1.0, fmax(fabs(a), fabs(b)));
}

static long coll_size(double bytes)
{
    return bytes > 0.0 ? (long)llround(bytes) : 0;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* direct */

static int coll_a2a_direct(coll_world *w, int chip, const double *bytes, errbuf *err)
{
    int n = w->n;
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
            comms[nc++] = sg_mailbox_get_async(w->mb_direct[chip], &got[g]);
            g++;
        }
    for (int t = 0; t < n; t++)
        if (t != chip && row[t] > 0.0)   /* the payload is the matrix entry's address, read-only */
            comms[nc++] = sg_mailbox_put_async(w->mb_direct[t], (void *)(uintptr_t)&row[t], coll_size(row[t]));
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
                          "column of this byte matrix", chip);
    if (!coll_close(received, expected))
        return errbuf_set(err, "collectives: chip %d received %.17g bytes in a direct all-to-all, expected %.17g",
                          chip, received, expected);
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* phased */

/* buf (L) <- the bytes (times frac) that chip c holds at the start of phase p of the rotation 'order',
 * per destination coordinate k along dimension order[p].  Sources: coordinates on the dimensions moved
 * before p are free, the others equal c's.  Destinations: coordinates on the moved dimensions equal c's,
 * k on order[p], free on the later ones.  The diagonal (source == destination) is left out. */
static void coll_phase_buf(double *buf, const coll_world *w, const double *bytes, const int *order, int p,
                           const int *c, double frac)
{
    int slo[COLL_DIMS_MAX], shi[COLL_DIMS_MAX], tlo[COLL_DIMS_MAX], thi[COLL_DIMS_MAX];
    for (int e = 0; e < COLL_DIMS_MAX; e++) {
        slo[e] = c[e], shi[e] = c[e] + 1;
        tlo[e] = c[e], thi[e] = c[e] + 1;
    }
    for (int i = 0; i < w->ndims; i++) {
        int e = order[i];
        if (i < p)
            slo[e] = 0, shi[e] = w->dims[e];
        else
            tlo[e] = 0, thi[e] = w->dims[e];
    }
    int d = order[p];
    for (int k = 0; k < w->dims[d]; k++)
        buf[k] = 0.0;
    size_t n = (size_t)w->n;
    for (int s2 = slo[2]; s2 < shi[2]; s2++)
        for (int s1 = slo[1]; s1 < shi[1]; s1++)
            for (int s0 = slo[0]; s0 < shi[0]; s0++) {
                size_t sidx = (size_t)s0 * (size_t)w->stride[0] + (size_t)s1 * (size_t)w->stride[1]
                              + (size_t)s2 * (size_t)w->stride[2];
                const double *row = bytes + sidx * n;
                for (int t2 = tlo[2]; t2 < thi[2]; t2++)
                    for (int t1 = tlo[1]; t1 < thi[1]; t1++)
                        for (int t0 = tlo[0]; t0 < thi[0]; t0++) {
                            size_t tidx = (size_t)t0 * (size_t)w->stride[0] + (size_t)t1 * (size_t)w->stride[1]
                                          + (size_t)t2 * (size_t)w->stride[2];
                            if (tidx == sidx)
                                continue;
                            int k = d == 0 ? t0 : d == 1 ? t1 : t2;
                            buf[k] += row[tidx];
                        }
            }
    for (int k = 0; k < w->dims[d]; k++)
        buf[k] *= frac;
}

/* Ring steps of one phase along a dimension of length L, for the chip at position q.
 * Ring: both directions run floor(L/2) steps.  Line: data only moves toward its destination, L-1 steps. */
static int coll_steps(int L, int wrap)
{
    return wrap ? L / 2 : L - 1;
}

/* Whether the chip at q sends (dir 0: to q+1, 1: to q-1) / receives (dir 0: from q-1, 1: from q+1) at step t
 * (1-based).  Step t forwards the data that started t-1 hops back. */
static int coll_sends(int L, int wrap, int q, int dir, int t)
{
    if (L < 2)
        return 0;
    if (wrap)
        return t <= L / 2;
    return dir == 0 ? (q <= L - 2 && t <= q + 1) : (q >= 1 && t <= L - q);
}

static int coll_recvs(int L, int wrap, int q, int dir, int t)
{
    if (L < 2)
        return 0;
    if (wrap)
        return t <= L / 2;
    return dir == 0 ? (q >= 1 && t <= q) : (q <= L - 2 && t <= L - 1 - q);
}

/* The rotation r's dimension in phase p: rotation r takes the dimensions in the order r, r+1, ... (mod ndims). */
static int coll_order(const coll_world *w, int r, int p)
{
    return (r + p) % w->ndims;
}

static size_t coll_ring_at(const coll_world *w, int p, int t, int chip, int r, int dir)
{
    return ((((size_t)p * (size_t)w->maxl + (size_t)(t - 1)) * (size_t)w->n + (size_t)chip) * COLL_DIMS_MAX
            + (size_t)r) * 2 + (size_t)dir;
}

static size_t coll_line_at(const coll_world *w, int p, int chip, int r, int k)
{
    return (((size_t)p * (size_t)w->n + (size_t)chip) * COLL_DIMS_MAX + (size_t)r) * (size_t)w->maxl + (size_t)k;
}

static size_t coll_carry_at(const coll_world *w, int chip, int r, int dir)
{
    return (((size_t)chip * COLL_DIMS_MAX + (size_t)r) * 2 + (size_t)dir) * (size_t)w->maxl;
}

/* Phase p of the plan, before its ring steps: every chip's bytes per destination coordinate along each
 * rotation's dimension; a line gets its flows, a ring its first carries (data goes the short way, a tie at
 * distance L/2 half each way).  Checks that each chip holds what this phase must carry from it. */
static int coll_plan_phase_start(coll_world *w, const double *bytes, int p, double frac, errbuf *err)
{
    coll_phased_plan *pl = &w->plan;
    double *b = w->plan_buf;
    pl->steps[p] = 0;
    for (int chip = 0; chip < w->n; chip++) {
        int c[COLL_DIMS_MAX], order[COLL_DIMS_MAX];
        coll_coords(w, chip, c);
        for (int r = 0; r < pl->R; r++) {
            for (int i = 0; i < w->ndims; i++)
                order[i] = coll_order(w, r, i);
            int d = order[p], L = w->dims[d], q = c[d], wrap = w->wrap[d];
            coll_phase_buf(b, w, bytes, order, p, c, frac);
            double total = 0.0;
            for (int k = 0; k < L; k++)
                total += b[k];
            double *held = &w->plan_held[(size_t)chip * COLL_DIMS_MAX + (size_t)r];
            if (p > 0 && !coll_close(total, *held))
                return errbuf_set(err, "collectives: chip %d holds %.17g bytes after phase %d of a phased "
                                  "all-to-all, but phase %d must carry %.17g from it", chip, *held, p - 1, p, total);
            *held = b[q];
            pl->line[p][r] = !wrap && L > 2;
            if (pl->line[p][r]) {
                /* A line moves data only toward its destination; neighbour steps would store and forward it, and
                 * each step lasts as long as its busiest link (L(L-1)/2 pair loads on a line of L where the
                 * middle link needs L^2/4): one flow per destination over the platform's route instead. */
                for (int k = 0; k < L; k++) {
                    w->plan_linemsg[coll_line_at(w, p, chip, r, k)] = k == q ? -1.0 : b[k];
                    for (int h = q; h != k; h += k > q ? 1 : -1)    /* the links it crosses */
                        w->link_bytes[coll_ch(chip + (h - q) * w->stride[d], d, k > q ? 0 : 1)] += b[k];
                }
                continue;
            }
            double *plus = w->plan_carry[0] + coll_carry_at(w, chip, r, 0);
            double *minus = w->plan_carry[0] + coll_carry_at(w, chip, r, 1);
            for (int k = 0; k < L; k++) {
                plus[k] = minus[k] = 0.0;
                if (k == q)
                    continue;
                if (!wrap) {
                    (k > q ? plus : minus)[k] = b[k];
                } else {
                    int dp = (k - q + L) % L;
                    if (2 * dp < L)
                        plus[k] = b[k];
                    else if (2 * dp > L)
                        minus[k] = b[k];
                    else
                        plus[k] = minus[k] = 0.5 * b[k];   /* tie: half each way */
                }
            }
            if (coll_steps(L, wrap) > pl->steps[p])
                pl->steps[p] = coll_steps(L, wrap);
        }
    }
    return 0;
}

/* Ring step t of phase p of the plan: every chip sends each neighbour all it carries that way (a message of
 * negative size: none), then keeps what reached its destination and carries the rest on. */
static void coll_plan_step(coll_world *w, int p, int t)
{
    coll_phased_plan *pl = &w->plan;
    const double *cur = w->plan_carry[(t - 1) & 1];
    double *next = w->plan_carry[t & 1];
    for (int chip = 0; chip < w->n; chip++) {
        int c[COLL_DIMS_MAX];
        coll_coords(w, chip, c);
        for (int r = 0; r < pl->R; r++) {
            int d = coll_order(w, r, p), L = w->dims[d], q = c[d];
            for (int dir = 0; dir < 2; dir++) {
                double *msg = &w->plan_ringmsg[coll_ring_at(w, p, t, chip, r, dir)];
                *msg = -1.0;
                if (pl->line[p][r] || !coll_sends(L, w->wrap[d], q, dir, t))
                    continue;
                const double *carry = cur + coll_carry_at(w, chip, r, dir);
                double size = 0.0;
                for (int k = 0; k < L; k++)
                    size += carry[k];
                *msg = size;
                /* a ring of two has one link each way: both directions' flows share it */
                w->link_bytes[coll_ch(chip, d, (L == 2 && w->wrap[d]) ? 0 : dir)] += size;
            }
        }
    }
    for (int chip = 0; chip < w->n; chip++) {
        int c[COLL_DIMS_MAX];
        coll_coords(w, chip, c);
        for (int r = 0; r < pl->R; r++) {
            int d = coll_order(w, r, p), L = w->dims[d], q = c[d];
            if (pl->line[p][r])
                continue;
            for (int dir = 0; dir < 2; dir++) {
                double *carry = next + coll_carry_at(w, chip, r, dir);
                if (coll_recvs(L, w->wrap[d], q, dir, t)) {
                    int from = coll_neighbour(w, chip, d, 1 - dir);     /* + traffic comes from q-1 */
                    memcpy(carry, cur + coll_carry_at(w, from, r, dir), (size_t)L * sizeof *carry);
                } else {
                    memset(carry, 0, (size_t)L * sizeof *carry);
                }
                w->plan_held[(size_t)chip * COLL_DIMS_MAX + (size_t)r] += carry[q];
                carry[q] = 0.0;
            }
        }
    }
}

/* Works out the phased all-to-all of 'bytes' in R rotations for every chip, before any flow (pure
 * arithmetic, no SimGrid): the size of every ring-step message and line flow (w->plan), and the busiest-link
 * statistics.  Checks after every phase that each chip holds what the next must carry, and at the end that it
 * received its column sum without the diagonal; -1 with err if not (a bug). */
static int coll_phased_plan_make(coll_world *w, const double *bytes, int R, errbuf *err)
{
    coll_phased_plan *pl = &w->plan;
    pl->R = R;
    memset(w->plan_held, 0, (size_t)w->n * COLL_DIMS_MAX * sizeof *w->plan_held);
    for (int p = 0; p < w->ndims; p++) {
        if (coll_plan_phase_start(w, bytes, p, 1.0 / R, err) != 0)
            return -1;
        for (int t = 1; t <= pl->steps[p]; t++)
            coll_plan_step(w, p, t);
        for (int chip = 0; chip < w->n; chip++) {              /* line flows arrive */
            int c[COLL_DIMS_MAX];
            coll_coords(w, chip, c);
            for (int r = 0; r < R; r++) {
                int d = coll_order(w, r, p), L = w->dims[d], q = c[d];
                if (!pl->line[p][r])
                    continue;
                for (int k = 0; k < L; k++)
                    if (k != q)
                        w->plan_held[(size_t)(chip + (k - q) * w->stride[d]) * COLL_DIMS_MAX + (size_t)r] +=
                            w->plan_linemsg[coll_line_at(w, p, chip, r, k)];
            }
        }
    }
    for (int chip = 0; chip < w->n; chip++) {
        double total = 0.0, expected = 0.0;
        for (int r = 0; r < R; r++)
            total += w->plan_held[(size_t)chip * COLL_DIMS_MAX + (size_t)r];
        for (int s = 0; s < w->n; s++)
            if (s != chip)
                expected += bytes[(size_t)s * (size_t)w->n + (size_t)chip];
        if (!coll_close(total, expected))
            return errbuf_set(err, "collectives: chip %d received %.17g bytes in a phased all-to-all, expected "
                              "%.17g", chip, total, expected);
    }
    return 0;
}

/* One chip's part of the planned phased all-to-all as SimGrid flows: per phase, its line flows all at once,
 * and its ring steps one after the other (a step starts when the chip's messages of the previous one have
 * arrived).  A message's payload is the address of its size in the plan, so the receiver checks that what
 * SimGrid delivered on each channel is the message the plan says its neighbour sends at this step. */
static int coll_phased_run(coll_world *w, int chip, errbuf *err)
{
    const coll_phased_plan *pl = &w->plan;
    int c[COLL_DIMS_MAX];
    coll_coords(w, chip, c);
    size_t nline_max = (size_t)pl->R * 2 * (size_t)w->maxl;
    sg_comm_t *lcomms = malloc(nline_max * sizeof *lcomms);
    void **lgot = malloc(nline_max * sizeof *lgot);
    int *lrot = malloc(nline_max * sizeof *lrot);
    int rc = 0;
    if (lcomms == NULL || lgot == NULL || lrot == NULL)
        rc = errbuf_set(err, "collectives: out of memory for a phased all-to-all on %d chips", w->n);
    for (int p = 0; p < w->ndims && rc == 0; p++) {
        int nl = 0;
        for (int r = 0; r < pl->R; r++) {
            int d = coll_order(w, r, p), L = w->dims[d], q = c[d];
            if (!pl->line[p][r])
                continue;
            for (int k = 0; k < L; k++) {
                if (k == q)
                    continue;
                int to = chip + (k - q) * w->stride[d];
                double *msg = &w->plan_linemsg[coll_line_at(w, p, chip, r, k)];
                lrot[nl] = r;
                lgot[nl] = NULL;
                lcomms[nl] = sg_mailbox_get_async(w->mb_line[((size_t)chip * COLL_DIMS_MAX + (size_t)r)
                                                             * COLL_DIMS_MAX + (size_t)d], &lgot[nl]);
                nl++;
                lrot[nl] = -1;
                lgot[nl] = NULL;
                lcomms[nl++] = sg_mailbox_put_async(w->mb_line[((size_t)to * COLL_DIMS_MAX + (size_t)r)
                                                               * COLL_DIMS_MAX + (size_t)d], msg, coll_size(*msg));
            }
        }
        for (int t = 1; t <= pl->steps[p] && rc == 0; t++) {
            sg_comm_t comms[4 * COLL_DIMS_MAX];
            void *got[COLL_DIMS_MAX][2];
            int nc = 0;
            for (int r = 0; r < pl->R; r++) {
                int d = coll_order(w, r, p), L = w->dims[d], q = c[d];
                for (int dir = 0; dir < 2; dir++) {
                    got[r][dir] = NULL;
                    if (!pl->line[p][r] && coll_recvs(L, w->wrap[d], q, dir, t))
                        comms[nc++] = sg_mailbox_get_async(w->mb_ring[coll_ch(chip, d, dir)], &got[r][dir]);
                }
                for (int dir = 0; dir < 2; dir++) {
                    double *msg = &w->plan_ringmsg[coll_ring_at(w, p, t, chip, r, dir)];
                    if (*msg >= 0.0)
                        comms[nc++] = sg_mailbox_put_async(w->mb_ring[coll_ch(coll_neighbour(w, chip, d, dir), d,
                                                                                dir)], msg, coll_size(*msg));
                }
            }
            sg_comm_wait_all(comms, (size_t)nc);
            for (int r = 0; r < pl->R; r++)
                for (int dir = 0; dir < 2; dir++) {
                    int from = coll_neighbour(w, chip, coll_order(w, r, p), 1 - dir);
                    if (got[r][dir] != NULL && got[r][dir] != &w->plan_ringmsg[coll_ring_at(w, p, t, from, r, dir)])
                        rc = errbuf_set(err, "collectives: chip %d received, at step %d of phase %d of a phased "
                                        "all-to-all, a message its neighbour %d did not send then", chip, t, p, from);
                }
        }
        sg_comm_wait_all(lcomms, (size_t)nl);
        for (int i = 0; i < nl && rc == 0; i++) {
            if (lrot[i] < 0)
                continue;                               /* a put */
            ptrdiff_t off = (const double *)lgot[i] - w->plan_linemsg;
            size_t lo = coll_line_at(w, p, 0, 0, 0), hi = coll_line_at(w, p + 1, 0, 0, 0);
            int d = coll_order(w, lrot[i], p);
            if (off < (ptrdiff_t)lo || off >= (ptrdiff_t)hi || (size_t)off % (size_t)w->maxl != (size_t)c[d])
                rc = errbuf_set(err, "collectives: chip %d received a phased line flow that is not one of its "
                                "line's flows to it in phase %d", chip, p);
        }
    }
    free(lcomms);
    free(lgot);
    free(lrot);
    return rc;
}

/* One message of a timed step, from chip to its neighbour along d in direction dir: it starts when both chips
 * are ready (ready: when each posts this step) and lasts the route's latency plus bytes over its bandwidth, alone
 * on its links; next (each chip's end of the step so far) takes its end on both chips. */
static void coll_dataflow_msg(const coll_world *w, const double *ready, double *next, int chip, int d, int dir,
                              double bytes)
{
    int to = coll_neighbour(w, chip, d, dir);
    size_t ch = coll_ch(chip, d, dir);
    double end = fmax(ready[chip], ready[to]) + w->nb_lat[ch] + bytes / w->nb_bw[ch];
    next[chip] = fmax(next[chip], end);
    next[to] = fmax(next[to], end);
}

/* The planned phased all-to-all's duration on every chip without SimGrid flows, for a world where every
 * neighbour message has its links to itself (coll_world_set_fast checked the routes): a message starts when
 * both its chips have posted it (each posts step t when all its step t-1 messages have ended), and lasts its
 * route's latency plus its bytes over the route's bandwidth, as SimGrid's CM02 times a flow alone on its links. */
static void coll_phased_dataflow(coll_world *w)
{
    const coll_phased_plan *pl = &w->plan;
    double *ready = w->fast_dur, *next = w->fast_next;
    for (int chip = 0; chip < w->n; chip++)
        ready[chip] = 0.0;
    for (int p = 0; p < w->ndims; p++)
        for (int t = 1; t <= pl->steps[p]; t++) {
            memcpy(next, ready, (size_t)w->n * sizeof *next);
            for (int chip = 0; chip < w->n; chip++)
                for (int r = 0; r < pl->R; r++) {
                    int d = coll_order(w, r, p);
                    for (int dir = 0; dir < 2; dir++) {
                        double size = w->plan_ringmsg[coll_ring_at(w, p, t, chip, r, dir)];
                        if (size < 0.0)
                            continue;
                        coll_dataflow_msg(w, ready, next, chip, d, dir, (double)coll_size(size));
                    }
                }
            memcpy(ready, next, (size_t)w->n * sizeof *ready);
        }
}

/* ---------------------------------------------------------------------------------------------------------- */
/* one call: reuse, plan, timing */

static uint64_t coll_hash(const double *bytes, size_t count, int algo)
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

/* The call's entry in the reuse cache (w->cur_entry, w->cur_new: found or new), by the caller's key when it gives
 * one, else by the matrix's hash. */
static int coll_cache_find(coll_world *w, const double *bytes, long key, int algo, errbuf *err)
{
    int keyed = key >= 0;
    uint64_t h = keyed ? (uint64_t)key : coll_hash(bytes, (size_t)w->n * (size_t)w->n, algo);
    w->cur_entry = -1;
    for (int i = 0; i < w->ncache; i++)
        if (w->cache[i].algo == algo && w->cache[i].n == w->n && w->cache[i].keyed == keyed
            && w->cache[i].hash == h)
            w->cur_entry = i;
    w->cur_new = w->cur_entry < 0;
    if (!w->cur_new) {
        w->reused++;
        return 0;
    }
    if (w->ncache == w->capcache) {
        int cap = w->capcache ? 2 * w->capcache : 16;
        coll_cache_entry *nc = realloc(w->cache, (size_t)cap * sizeof *nc);
        if (nc == NULL)
            return errbuf_set(err, "collectives: out of memory for the reuse cache");
        w->cache = nc;
        w->capcache = cap;
    }
    double *dur = calloc((size_t)w->n, sizeof *dur);
    if (dur == NULL)
        return errbuf_set(err, "collectives: out of memory for the reuse cache");
    w->cache[w->ncache] = (coll_cache_entry){ algo, w->n, keyed, h, dur };
    w->cur_entry = w->ncache++;
    return 0;
}

/* What the first chip to enter a call works out for all of them (actors run one at a time, so there is no
 * race): the reuse entry, and for a phased all-to-all not replayed its plan and, where fast, every chip's
 * duration. */
static int coll_call_begin(coll_world *w, const double *bytes, long key, coll_a2a_algo algo, errbuf *err)
{
    w->cur_entry = -1;
    w->cur_new = 1;
    w->cur_fast = 0;
    if (w->reuse && coll_cache_find(w, bytes, key, (int)algo, err) != 0)
        return -1;
    if (!w->cur_new || algo == COLL_A2A_DIRECT)
        return 0;
    if (coll_phased_plan_make(w, bytes, algo == COLL_A2A_PHASED ? w->ndims : 1, err) != 0)
        return -1;
    if (w->fast) {
        coll_phased_dataflow(w);
        w->cur_fast = 1;
        w->fast_calls++;
    }
    return 0;
}

int coll_alltoall(coll_world *w, int chip, const double *bytes, coll_a2a_algo algo, errbuf *err)
{
    return coll_alltoall_keyed(w, chip, bytes, -1, algo, err);
}

int coll_alltoall_prepare(coll_world *w, int chip, const double *bytes, long key, coll_a2a_algo algo,
                          double *dur_s, errbuf *err)
{
    if (chip < 0 || chip >= w->n)
        return errbuf_set(err, "collectives: chip %d is not a chip (0..%d)", chip, w->n - 1);
    if (algo != COLL_A2A_DIRECT && algo != COLL_A2A_PHASED && algo != COLL_A2A_PHASED_XY)
        return errbuf_set(err, "collectives: unknown all-to-all algorithm %d", (int)algo);
    if (algo != COLL_A2A_DIRECT && w->node_size > 0)
        return errbuf_set(err, "collectives: the phased all-to-all is for tori (neighbour ring steps); a "
                          "switched network runs the direct one");
    long call = ++w->calls[chip];
    if (call > w->cur_call) {
        w->cur_call = call;
        w->cur_failed = coll_call_begin(w, bytes, key, algo, &w->cur_err) != 0;
    } else if (call != w->cur_call) {
        return errbuf_set(err, "collectives: chip %d entered all-to-all call %ld while the others are in call %ld",
                          chip, call, w->cur_call);
    }
    if (w->cur_failed) {             /* every chip of the call reports what broke, none waits for the others */
        *err = w->cur_err;
        return -1;
    }
    double *dur = w->cur_entry >= 0 ? &w->cache[w->cur_entry].dur_s[chip] : NULL;
    if (!w->cur_new) {
        *dur_s = *dur;
        return 1;
    }
    if (w->cur_fast) {
        *dur_s = w->fast_dur[chip];
        if (dur != NULL)
            *dur = w->fast_dur[chip];
        return 1;
    }
    return 0;
}

int coll_alltoall_run(coll_world *w, int chip, const double *bytes, coll_a2a_algo algo, errbuf *err)
{
    if (chip < 0 || chip >= w->n || w->calls[chip] != w->cur_call || w->cur_failed || !w->cur_new || w->cur_fast)
        return errbuf_set(err, "collectives: chip %d runs the flows of an all-to-all it did not prepare, or whose "
                          "time is already known", chip);
    double t0 = simgrid_get_clock();
    int rc = algo == COLL_A2A_DIRECT ? coll_a2a_direct(w, chip, bytes, err) : coll_phased_run(w, chip, err);
    if (rc == 0 && w->cur_entry >= 0)
        w->cache[w->cur_entry].dur_s[chip] = simgrid_get_clock() - t0;
    return rc;
}

int coll_alltoall_keyed(coll_world *w, int chip, const double *bytes, long key, coll_a2a_algo algo, errbuf *err)
{
    double dur = 0.0;
    int known = coll_alltoall_prepare(w, chip, bytes, key, algo, &dur, err);
    if (known < 0)
        return -1;
    if (known) {
        sg_actor_sleep_for(dur);
        return 0;
    }
    return coll_alltoall_run(w, chip, bytes, algo, err);
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
    int c[COLL_DIMS_MAX];
    coll_coords(w, chip, c);
    int L = w->dims[d];
    return L >= 2 && (w->wrap[d] || (dir == 0 ? c[d] < L - 1 : c[d] > 0));
}

/* 0 when every phased ring message would have its links to itself under a model that times a lone flow as
 * latency + bytes / bandwidth (the neighbour routes' latencies and bandwidths saved), else -1 with why. */
static int coll_fast_check(coll_world *w, errbuf *why)
{
    if (w->node_size > 0)
        return errbuf_set(why, "a switched network runs the direct all-to-all");
    for (int d = 0; d < w->ndims; d++)
        if (!w->wrap[d] && w->dims[d] > 2)
            return errbuf_set(why, "%c is a line of %d chips, whose flows share links", "xyz"[d], w->dims[d]);
    if (sg_cfg_get_boolean("network/crosstraffic") || sg_cfg_get_double("network/TCP-gamma") != 0.0)
        return errbuf_set(why, "the network model adds TCP's cross-traffic or window (hw adds neither)");
    size_t nch = (size_t)w->n * COLL_DIMS_MAX * 2, nlinks = 0, cap = 4 * nch;
    void **links = malloc(cap * sizeof *links);
    xbt_dynar_t route = xbt_dynar_new(sizeof(sg_link_t), NULL);
    int ok = links != NULL;
    for (int chip = 0; chip < w->n && ok; chip++)
        for (int d = 0; d < w->ndims && ok; d++)
            for (int dir = 0; dir < 2 && ok; dir++) {
                size_t ch = coll_ch(chip, d, dir);
                if (!coll_sends_ever(w, chip, d, dir))
                    continue;
                sg_host_t to = w->hosts[coll_neighbour(w, chip, d, dir)];
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
    w->fast = coll_fast_check(w, why) == 0;
    w->fast_ring = w->fast;
    for (int d = 0; d < w->ndims; d++)
        if (w->dims[d] == 2)
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
    comms[2] = sg_mailbox_put_async(to_next, &dummy, coll_size(size));
    comms[3] = sg_mailbox_put_async(to_prev, &dummy, coll_size(size));
    sg_comm_wait_all(comms, 4);
}

/* Position order of a ring laid on a line of length L: 0,2,4,.. then the odd positions descending. */
static int coll_line_ring_at(int L, int i)
{
    int ne = (L + 1) / 2, no = L / 2;
    return i < ne ? 2 * i : 2 * (no - 1 - (i - ne)) + 1;
}

/* Coordinates along the ring of dimension d: position q's index in ring order, and back. */
static int coll_ring_pos(int L, int wrap, int i)
{
    if (wrap)
        return i;
    return coll_line_ring_at(L, i);
}

static int coll_ring_index(int L, int wrap, int q)
{
    if (wrap)
        return q;
    for (int i = 0; i < L; i++)
        if (coll_line_ring_at(L, i) == q)
            return i;
    return -1;
}

/* The member at position 'at' of channel c's ring: group's node segments (seg_start, nseg + 1 offsets) in
 * order, each rotated by c: position q of segment j holds group[seg_start[j] + (q + c) % len_j]. */
static int coll_channel_member(const int *group, const int *seg_start, int nseg, int c, int at)
{
    int j = 0;
    while (j + 1 < nseg && seg_start[j + 1] <= at)
        j++;
    int len = seg_start[j + 1] - seg_start[j];
    return group[seg_start[j] + (at - seg_start[j] + c) % len];
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
        int next = coll_channel_member(group, seg_start, nseg, c, (at + 1) % n);
        int prev = coll_channel_member(group, seg_start, nseg, c, (at + n - 1) % n);
        const int pair[4][2] = { { chip, next }, { chip, prev }, { prev, chip }, { next, chip } };
        for (int k = 0; k < 4; k++) {
            char name[64];
            snprintf(name, sizeof name, "coll-s%d.%d.%d", pair[k][0], pair[k][1], c);
            mb[4 * c + k] = sg_mailbox_by_name(name);
        }
    }
    static double dummy = 0.0;   /* SimGrid refuses a NULL payload */
    long size = coll_size(bytes / n / 2.0 / C);
    int steps = (n - 1) * ((passes & COLL_PASS_RS ? 1 : 0) + (passes & COLL_PASS_AG ? 1 : 0));
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

/* The dimension rings of an all-reduce over all chips, in order: the reduce-scatter pass (x, y, z on the shrinking
 * shard) and/or the all-gather pass (z, y, x on the growing one); ring i runs along dimension dim[i] with L - 1
 * steps whose messages carry size[i] bytes each way ('bytes' is the whole buffer per chip: the reduce-scatter's
 * input, the all-gather's output).  Returns the number of rings. */
static int coll_ring_schedule(const coll_world *w, double bytes, int passes, int *dim, double *size)
{
    int n = 0;
    double shard = passes & COLL_PASS_RS ? bytes : bytes / w->n;
    for (int pass = 0; pass < 2; pass++) {          /* 0: reduce-scatter x, y, z; 1: all-gather z, y, x */
        if (!(passes & (pass == 0 ? COLL_PASS_RS : COLL_PASS_AG)))
            continue;
        for (int j = 0; j < w->ndims; j++) {
            int d = pass == 0 ? j : w->ndims - 1 - j, L = w->dims[d];
            if (L < 2)
                continue;
            if (pass == 1)
                shard *= L;
            dim[n] = d;
            size[n++] = shard / L / 2.0;            /* half each way round the ring */
            if (pass == 0)
                shard /= L;
        }
    }
    return n;
}

/* The dimension rings' duration on every chip without flows, where their messages have their links to themselves
 * (coll_world_set_fast, and no dimension of 2 chips, whose ring would send both ways over one link): each step,
 * every chip sends half its shard piece to each ring neighbour; timed as coll_phased_dataflow times a step. */
static void coll_ring_dataflow(coll_world *w, double bytes, int passes)
{
    double *ready = w->ring_dur, *next = w->fast_next;
    for (int chip = 0; chip < w->n; chip++)
        ready[chip] = 0.0;
    int dim[2 * COLL_DIMS_MAX];
    double sizes[2 * COLL_DIMS_MAX];
    int nrings = coll_ring_schedule(w, bytes, passes, dim, sizes);
    for (int i = 0; i < nrings; i++) {
        int d = dim[i];
        double size = (double)coll_size(sizes[i]);
        for (int t = 0; t < w->dims[d] - 1; t++) {
            memcpy(next, ready, (size_t)w->n * sizeof *next);
            for (int chip = 0; chip < w->n; chip++)
                for (int dir = 0; dir < 2; dir++)
                    coll_dataflow_msg(w, ready, next, chip, d, dir, size);
            memcpy(ready, next, (size_t)w->n * sizeof *ready);
        }
    }
}

/* The dimension rings over all chips (coll_ring_schedule) on a torus, as flows or, where fast, timed by
 * coll_ring_dataflow; node-aware rings on GPU nodes. */
static int coll_ring_all(coll_world *w, int chip, double bytes, int passes, errbuf *err)
{
    if (chip < 0 || chip >= w->n)
        return errbuf_set(err, "collectives: chip %d is not a chip (0..%d)", chip, w->n - 1);
    if (w->node_size > 0)
        return w->n == 1 ? 0 : coll_allreduce_switched(w, chip, NULL, w->n, bytes, passes, err);
    if (w->fast_ring) {              /* the first chip of a call times it for all; each sleeps its time */
        long call = ++w->ring_calls[chip];
        if (call > w->ring_cur_call) {
            w->ring_cur_call = call;
            coll_ring_dataflow(w, bytes, passes);
            w->fast_ring_calls++;
        } else if (call != w->ring_cur_call) {
            return errbuf_set(err, "collectives: chip %d entered all-reduce call %ld while the others are in call "
                              "%ld", chip, call, w->ring_cur_call);
        }
        sg_actor_sleep_for(w->ring_dur[chip]);
        return 0;
    }
    int c[COLL_DIMS_MAX];
    coll_coords(w, chip, c);
    int nb[COLL_DIMS_MAX][2];   /* ring next (0) and prev (1) chips per dimension */
    for (int d = 0; d < w->ndims; d++) {
        int L = w->dims[d], i = coll_ring_index(L, w->wrap[d], c[d]);
        int qn = coll_ring_pos(L, w->wrap[d], (i + 1) % L), qp = coll_ring_pos(L, w->wrap[d], (i + L - 1) % L);
        nb[d][0] = chip + (qn - c[d]) * w->stride[d];
        nb[d][1] = chip + (qp - c[d]) * w->stride[d];
    }
    int dim[2 * COLL_DIMS_MAX];
    double sizes[2 * COLL_DIMS_MAX];
    int nrings = coll_ring_schedule(w, bytes, passes, dim, sizes);
    for (int i = 0; i < nrings; i++) {
        int d = dim[i];
        for (int t = 0; t < w->dims[d] - 1; t++)
            coll_ring_step(w->mb_ar[coll_ch(nb[d][0], d, 0)], w->mb_ar[coll_ch(nb[d][1], d, 1)],
                           w->mb_ar[coll_ch(chip, d, 0)], w->mb_ar[coll_ch(chip, d, 1)], sizes[i]);
    }
    return 0;
}

int coll_allreduce_all(coll_world *w, int chip, double bytes, errbuf *err)
{
    return coll_ring_all(w, chip, bytes, COLL_PASS_RS | COLL_PASS_AG, err);
}

int coll_reducescatter_all(coll_world *w, int chip, double bytes, errbuf *err)
{
    return coll_ring_all(w, chip, bytes, COLL_PASS_RS, err);
}

int coll_allgather_all(coll_world *w, int chip, double bytes, errbuf *err)
{
    return coll_ring_all(w, chip, bytes, COLL_PASS_AG, err);
}

int coll_allreduce_group(coll_world *w, int chip, const int *group, int n, double bytes, errbuf *err)
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
        return coll_allreduce_switched(w, chip, group, n, bytes, COLL_PASS_RS | COLL_PASS_AG, err);
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
    for (int t = 0; t < 2 * (n - 1); t++)
        coll_ring_step(to_next, to_prev, from_prev, from_next, size);
    return 0;
}
