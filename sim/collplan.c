/* collplan: the pure planning of the collectives on a torus of chips (sim/collplan.h): coordinates and rings, the
 * phased all-to-all's plan with its conservation checks, the dimension rings of an all-reduce, and their timing
 * from the plan where every message has its links to itself.  No SimGrid: sim/collectives.c sends the flows. */
#include "sim/collplan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Relative tolerance of the byte conservation checks (sums of up to N^2 doubles). */
#define COLLPLAN_CONS_RTOL 1e-9

collplan *collplan_alloc(int ndims, const int *dims, const int *wrap, errbuf *err)
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
    collplan *pl = calloc(1, sizeof *pl);
    if (pl == NULL) {
        errbuf_set(err, "collectives: out of memory");
        return NULL;
    }
    pl->ndims = ndims;
    pl->n = 1;
    pl->maxl = 1;
    for (int d = 0; d < COLL_DIMS_MAX; d++) {
        pl->dims[d] = d < ndims ? dims[d] : 1;
        pl->wrap[d] = d < ndims ? (wrap[d] != 0) : 0;
        pl->stride[d] = pl->n;
        pl->n *= pl->dims[d];
        if (pl->dims[d] > pl->maxl)
            pl->maxl = pl->dims[d];
    }
    size_t n = (size_t)pl->n, nch = n * COLL_DIMS_MAX * 2, maxl = (size_t)pl->maxl;
    pl->ringmsg = calloc((size_t)pl->ndims * maxl * nch, sizeof *pl->ringmsg);
    pl->linemsg = calloc((size_t)pl->ndims * n * COLL_DIMS_MAX * maxl, sizeof *pl->linemsg);
    for (int i = 0; i < 2; i++)
        pl->carry[i] = calloc(nch * maxl, sizeof *pl->carry[i]);
    pl->held = calloc(n * COLL_DIMS_MAX, sizeof *pl->held);
    pl->buf = calloc(maxl, sizeof *pl->buf);
    pl->link_bytes = calloc(nch, sizeof *pl->link_bytes);
    if (pl->ringmsg == NULL || pl->linemsg == NULL || pl->carry[0] == NULL || pl->carry[1] == NULL
        || pl->held == NULL || pl->buf == NULL || pl->link_bytes == NULL) {
        errbuf_set(err, "collectives: out of memory for %d chips", pl->n);
        collplan_free(pl);
        return NULL;
    }
    return pl;
}

void collplan_free(collplan *pl)
{
    if (pl == NULL)
        return;
    free(pl->ringmsg);
    free(pl->linemsg);
    free(pl->carry[0]);
    free(pl->carry[1]);
    free(pl->held);
    free(pl->buf);
    free(pl->link_bytes);
    free(pl);
}

double collplan_busiest_bytes(const collplan *pl)
{
    double m = 0.0;
    for (size_t i = 0; i < (size_t)pl->n * COLL_DIMS_MAX * 2; i++)
        if (pl->link_bytes[i] > m)
            m = pl->link_bytes[i];
    return m;
}

void collplan_reset_stats(collplan *pl)
{
    memset(pl->link_bytes, 0, (size_t)pl->n * COLL_DIMS_MAX * 2 * sizeof *pl->link_bytes);
}

size_t collplan_ch(int chip, int d, int dir)
{
    return ((size_t)chip * COLL_DIMS_MAX + (size_t)d) * 2 + (size_t)dir;
}

void collplan_coords(const collplan *pl, int chip, int *c)
{
    for (int d = 0; d < COLL_DIMS_MAX; d++)
        c[d] = d < pl->ndims ? (chip / pl->stride[d]) % pl->dims[d] : 0;
}

/* The chip one step along dimension d in direction dir (0: +, 1: -), wrapping; the caller checks lines. */
int collplan_neighbour(const collplan *pl, int chip, int d, int dir)
{
    int c[COLL_DIMS_MAX];
    collplan_coords(pl, chip, c);
    int L = pl->dims[d];
    int q = (c[d] + (dir == 0 ? 1 : L - 1)) % L;
    return chip + (q - c[d]) * pl->stride[d];
}

int collplan_close(double a, double b)
{
    return fabs(a - b) <= COLLPLAN_CONS_RTOL * fmax(1.0, fmax(fabs(a), fabs(b)));
}

long collplan_size(double bytes)
{
    return bytes > 0.0 ? (long)llround(bytes) : 0;
}

/* buf (L) <- the bytes (times frac) that chip c holds at the start of phase p of the rotation 'order',
 * per destination coordinate k along dimension order[p].  Sources: coordinates on the dimensions moved
 * before p are free, the others equal c's.  Destinations: coordinates on the moved dimensions equal c's,
 * k on order[p], free on the later ones.  The diagonal (source == destination) is left out. */
static void collplan_phase_buf(double *buf, const collplan *pl, const double *bytes, const int *order, int p,
                           const int *c, double frac)
{
    int slo[COLL_DIMS_MAX], shi[COLL_DIMS_MAX], tlo[COLL_DIMS_MAX], thi[COLL_DIMS_MAX];
    for (int e = 0; e < COLL_DIMS_MAX; e++) {
        slo[e] = c[e], shi[e] = c[e] + 1;
        tlo[e] = c[e], thi[e] = c[e] + 1;
    }
    for (int i = 0; i < pl->ndims; i++) {
        int e = order[i];
        if (i < p)
            slo[e] = 0, shi[e] = pl->dims[e];
        else
            tlo[e] = 0, thi[e] = pl->dims[e];
    }
    int d = order[p];
    for (int k = 0; k < pl->dims[d]; k++)
        buf[k] = 0.0;
    size_t n = (size_t)pl->n;
    for (int s2 = slo[2]; s2 < shi[2]; s2++)
        for (int s1 = slo[1]; s1 < shi[1]; s1++)
            for (int s0 = slo[0]; s0 < shi[0]; s0++) {
                size_t sidx = (size_t)s0 * (size_t)pl->stride[0] + (size_t)s1 * (size_t)pl->stride[1]
                              + (size_t)s2 * (size_t)pl->stride[2];
                const double *row = bytes + sidx * n;
                for (int t2 = tlo[2]; t2 < thi[2]; t2++)
                    for (int t1 = tlo[1]; t1 < thi[1]; t1++)
                        for (int t0 = tlo[0]; t0 < thi[0]; t0++) {
                            size_t tidx = (size_t)t0 * (size_t)pl->stride[0] + (size_t)t1 * (size_t)pl->stride[1]
                                          + (size_t)t2 * (size_t)pl->stride[2];
                            if (tidx == sidx)
                                continue;
                            int k = d == 0 ? t0 : d == 1 ? t1 : t2;
                            buf[k] += row[tidx];
                        }
            }
    for (int k = 0; k < pl->dims[d]; k++)
        buf[k] *= frac;
}

/* Ring steps of one phase along a dimension of length L, for the chip at position q.
 * Ring: both directions run floor(L/2) steps.  Line: data only moves toward its destination, L-1 steps. */
static int collplan_steps(int L, int wrap)
{
    return wrap ? L / 2 : L - 1;
}

/* Whether the chip at q sends (dir 0: to q+1, 1: to q-1) / receives (dir 0: from q-1, 1: from q+1) at step t
 * (1-based).  Step t forwards the data that started t-1 hops back. */
static int collplan_sends(int L, int wrap, int q, int dir, int t)
{
    if (L < 2)
        return 0;
    if (wrap)
        return t <= L / 2;
    return dir == 0 ? (q <= L - 2 && t <= q + 1) : (q >= 1 && t <= L - q);
}

int collplan_recvs(int L, int wrap, int q, int dir, int t)
{
    if (L < 2)
        return 0;
    if (wrap)
        return t <= L / 2;
    return dir == 0 ? (q >= 1 && t <= q) : (q <= L - 2 && t <= L - 1 - q);
}

/* The rotation r's dimension in phase p: rotation r takes the dimensions in the order r, r+1, ... (mod ndims). */
int collplan_order(const collplan *pl, int r, int p)
{
    return (r + p) % pl->ndims;
}

size_t collplan_ring_at(const collplan *pl, int p, int t, int chip, int r, int dir)
{
    return ((((size_t)p * (size_t)pl->maxl + (size_t)(t - 1)) * (size_t)pl->n + (size_t)chip) * COLL_DIMS_MAX
            + (size_t)r) * 2 + (size_t)dir;
}

size_t collplan_line_at(const collplan *pl, int p, int chip, int r, int k)
{
    return (((size_t)p * (size_t)pl->n + (size_t)chip) * COLL_DIMS_MAX + (size_t)r) * (size_t)pl->maxl + (size_t)k;
}

static size_t collplan_carry_at(const collplan *pl, int chip, int r, int dir)
{
    return (((size_t)chip * COLL_DIMS_MAX + (size_t)r) * 2 + (size_t)dir) * (size_t)pl->maxl;
}

/* Phase p of the plan, before its ring steps: every chip's bytes per destination coordinate along each
 * rotation's dimension; a line gets its flows, a ring its first carries (data goes the short way, a tie at
 * distance L/2 half each way).  Checks that each chip holds what this phase must carry from it. */
static int collplan_phase_start(collplan *pl, const double *bytes, int p, double frac, errbuf *err)
{
    double *b = pl->buf;
    pl->steps[p] = 0;
    for (int chip = 0; chip < pl->n; chip++) {
        int c[COLL_DIMS_MAX], order[COLL_DIMS_MAX];
        collplan_coords(pl, chip, c);
        for (int r = 0; r < pl->R; r++) {
            for (int i = 0; i < pl->ndims; i++)
                order[i] = collplan_order(pl, r, i);
            int d = order[p], L = pl->dims[d], q = c[d], wrap = pl->wrap[d];
            collplan_phase_buf(b, pl, bytes, order, p, c, frac);
            double total = 0.0;
            for (int k = 0; k < L; k++)
                total += b[k];
            double *held = &pl->held[(size_t)chip * COLL_DIMS_MAX + (size_t)r];
            if (p > 0 && !collplan_close(total, *held))
                return errbuf_set(err, "collectives: chip %d holds %.17g bytes after phase %d of a phased "
                                  "all-to-all, but phase %d must carry %.17g from it", chip, *held, p - 1, p, total);
            *held = b[q];
            pl->line[p][r] = !wrap && L > 2;
            if (pl->line[p][r]) {
                /* A line moves data only toward its destination; neighbour steps would store and forward it, and
                 * each step lasts as long as its busiest link (L(L-1)/2 pair loads on a line of L where the
                 * middle link needs L^2/4): one flow per destination over the platform's route instead. */
                for (int k = 0; k < L; k++) {
                    pl->linemsg[collplan_line_at(pl, p, chip, r, k)] = k == q ? -1.0 : b[k];
                    for (int h = q; h != k; h += k > q ? 1 : -1)    /* the links it crosses */
                        pl->link_bytes[collplan_ch(chip + (h - q) * pl->stride[d], d, k > q ? 0 : 1)] += b[k];
                }
                continue;
            }
            double *plus = pl->carry[0] + collplan_carry_at(pl, chip, r, 0);
            double *minus = pl->carry[0] + collplan_carry_at(pl, chip, r, 1);
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
            if (collplan_steps(L, wrap) > pl->steps[p])
                pl->steps[p] = collplan_steps(L, wrap);
        }
    }
    return 0;
}

/* Ring step t of phase p of the plan: every chip sends each neighbour all it carries that way (a message of
 * negative size: none), then keeps what reached its destination and carries the rest on. */
static void collplan_step(collplan *pl, int p, int t)
{
    const double *cur = pl->carry[(t - 1) & 1];
    double *next = pl->carry[t & 1];
    for (int chip = 0; chip < pl->n; chip++) {
        int c[COLL_DIMS_MAX];
        collplan_coords(pl, chip, c);
        for (int r = 0; r < pl->R; r++) {
            int d = collplan_order(pl, r, p), L = pl->dims[d], q = c[d];
            for (int dir = 0; dir < 2; dir++) {
                double *msg = &pl->ringmsg[collplan_ring_at(pl, p, t, chip, r, dir)];
                *msg = -1.0;
                if (pl->line[p][r] || !collplan_sends(L, pl->wrap[d], q, dir, t))
                    continue;
                const double *carry = cur + collplan_carry_at(pl, chip, r, dir);
                double size = 0.0;
                for (int k = 0; k < L; k++)
                    size += carry[k];
                *msg = size;
                /* a ring of two has one link each way: both directions' flows share it */
                pl->link_bytes[collplan_ch(chip, d, (L == 2 && pl->wrap[d]) ? 0 : dir)] += size;
            }
        }
    }
    for (int chip = 0; chip < pl->n; chip++) {
        int c[COLL_DIMS_MAX];
        collplan_coords(pl, chip, c);
        for (int r = 0; r < pl->R; r++) {
            int d = collplan_order(pl, r, p), L = pl->dims[d], q = c[d];
            if (pl->line[p][r])
                continue;
            for (int dir = 0; dir < 2; dir++) {
                double *carry = next + collplan_carry_at(pl, chip, r, dir);
                if (collplan_recvs(L, pl->wrap[d], q, dir, t)) {
                    int from = collplan_neighbour(pl, chip, d, 1 - dir);     /* + traffic comes from q-1 */
                    memcpy(carry, cur + collplan_carry_at(pl, from, r, dir), (size_t)L * sizeof *carry);
                } else {
                    memset(carry, 0, (size_t)L * sizeof *carry);
                }
                pl->held[(size_t)chip * COLL_DIMS_MAX + (size_t)r] += carry[q];
                carry[q] = 0.0;
            }
        }
    }
}

/* Works out the phased all-to-all of 'bytes' in R rotations for every chip, before any flow (pure
 * arithmetic, no SimGrid): the size of every ring-step message and line flow (pl->plan), and the busiest-link
 * statistics.  Checks after every phase that each chip holds what the next must carry, and at the end that it
 * received its column sum without the diagonal; -1 with err if not (a bug). */
int collplan_phased(collplan *pl, const double *bytes, int R, errbuf *err)
{
    pl->R = R;
    memset(pl->held, 0, (size_t)pl->n * COLL_DIMS_MAX * sizeof *pl->held);
    for (int p = 0; p < pl->ndims; p++) {
        if (collplan_phase_start(pl, bytes, p, 1.0 / R, err) != 0)
            return -1;
        for (int t = 1; t <= pl->steps[p]; t++)
            collplan_step(pl, p, t);
        for (int chip = 0; chip < pl->n; chip++) {              /* line flows arrive */
            int c[COLL_DIMS_MAX];
            collplan_coords(pl, chip, c);
            for (int r = 0; r < R; r++) {
                int d = collplan_order(pl, r, p), L = pl->dims[d], q = c[d];
                if (!pl->line[p][r])
                    continue;
                for (int k = 0; k < L; k++)
                    if (k != q)
                        pl->held[(size_t)(chip + (k - q) * pl->stride[d]) * COLL_DIMS_MAX + (size_t)r] +=
                            pl->linemsg[collplan_line_at(pl, p, chip, r, k)];
            }
        }
    }
    for (int chip = 0; chip < pl->n; chip++) {
        double total = 0.0, expected = 0.0;
        for (int r = 0; r < R; r++)
            total += pl->held[(size_t)chip * COLL_DIMS_MAX + (size_t)r];
        for (int s = 0; s < pl->n; s++)
            if (s != chip)
                expected += bytes[(size_t)s * (size_t)pl->n + (size_t)chip];
        if (!collplan_close(total, expected))
            return errbuf_set(err, "collectives: chip %d received %.17g bytes in a phased all-to-all, expected "
                              "%.17g", chip, total, expected);
    }
    return 0;
}

/* One message of a timed step, from chip to its neighbour along d in direction dir: it starts when both chips
 * are ready (ready: when each posts this step) and lasts the route's latency plus bytes over its bandwidth, alone
 * on its links; next (each chip's end of the step so far) takes its end on both chips. */
static void collplan_dataflow_msg(const collplan *pl, const double *lat, const double *bw, const double *ready,
                                  double *next, int chip, int d, int dir, double bytes)
{
    int to = collplan_neighbour(pl, chip, d, dir);
    size_t ch = collplan_ch(chip, d, dir);
    double end = fmax(ready[chip], ready[to]) + lat[ch] + bytes / bw[ch];
    next[chip] = fmax(next[chip], end);
    next[to] = fmax(next[to], end);
}

/* The planned phased all-to-all's duration on every chip without SimGrid flows, for a world where every
 * neighbour message has its links to itself (the caller checked the routes: coll_world_set_fast): a message starts when
 * both its chips have posted it (each posts step t when all its step t-1 messages have ended), and lasts its
 * route's latency plus its bytes over the route's bandwidth, as SimGrid's CM02 times a flow alone on its links. */
void collplan_phased_dataflow(double *ready, double *next, const collplan *pl, const double *lat, const double *bw)
{
    for (int chip = 0; chip < pl->n; chip++)
        ready[chip] = 0.0;
    for (int p = 0; p < pl->ndims; p++)
        for (int t = 1; t <= pl->steps[p]; t++) {
            memcpy(next, ready, (size_t)pl->n * sizeof *next);
            for (int chip = 0; chip < pl->n; chip++)
                for (int r = 0; r < pl->R; r++) {
                    int d = collplan_order(pl, r, p);
                    for (int dir = 0; dir < 2; dir++) {
                        double size = pl->ringmsg[collplan_ring_at(pl, p, t, chip, r, dir)];
                        if (size < 0.0)
                            continue;
                        collplan_dataflow_msg(pl, lat, bw, ready, next, chip, d, dir, (double)collplan_size(size));
                    }
                }
            memcpy(ready, next, (size_t)pl->n * sizeof *ready);
        }
}

/* Position order of a ring laid on a line of length L: 0,2,4,.. then the odd positions descending. */
static int collplan_line_ring_at(int L, int i)
{
    int ne = (L + 1) / 2, no = L / 2;
    return i < ne ? 2 * i : 2 * (no - 1 - (i - ne)) + 1;
}

/* Coordinates along the ring of dimension d: position q's index in ring order, and back. */
int collplan_ring_pos(int L, int wrap, int i)
{
    if (wrap)
        return i;
    return collplan_line_ring_at(L, i);
}

int collplan_ring_index(int L, int wrap, int q)
{
    if (wrap)
        return q;
    for (int i = 0; i < L; i++)
        if (collplan_line_ring_at(L, i) == q)
            return i;
    return -1;
}

/* The member at position 'at' of channel c's ring: group's node segments (seg_start, nseg + 1 offsets) in
 * order, each rotated by c: position q of segment j holds group[seg_start[j] + (q + c) % len_j]. */
int collplan_channel_member(const int *group, const int *seg_start, int nseg, int c, int at)
{
    int j = 0;
    while (j + 1 < nseg && seg_start[j + 1] <= at)
        j++;
    int len = seg_start[j + 1] - seg_start[j];
    return group[seg_start[j] + (at - seg_start[j] + c) % len];
}

/* The dimension rings of an all-reduce over all chips, in order: the reduce-scatter pass (x, y, z on the shrinking
 * shard) and/or the all-gather pass (z, y, x on the growing one); ring i runs along dimension dim[i] with L - 1
 * steps whose messages carry size[i] bytes each way ('bytes' is the whole buffer per chip: the reduce-scatter's
 * input, the all-gather's output).  Returns the number of rings. */
int collplan_ring_schedule(const collplan *pl, double bytes, int passes, int *dim, double *size)
{
    int n = 0;
    double shard = passes & COLLPLAN_PASS_RS ? bytes : bytes / pl->n;
    for (int pass = 0; pass < 2; pass++) {          /* 0: reduce-scatter x, y, z; 1: all-gather z, y, x */
        if (!(passes & (pass == 0 ? COLLPLAN_PASS_RS : COLLPLAN_PASS_AG)))
            continue;
        for (int j = 0; j < pl->ndims; j++) {
            int d = pass == 0 ? j : pl->ndims - 1 - j, L = pl->dims[d];
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
 * every chip sends half its shard piece to each ring neighbour; timed as collplan_phased_dataflow times a step. */
void collplan_ring_dataflow(double *ready, double *next, const collplan *pl, const double *lat, const double *bw,
                            double bytes, int passes)
{
    for (int chip = 0; chip < pl->n; chip++)
        ready[chip] = 0.0;
    int dim[2 * COLL_DIMS_MAX];
    double sizes[2 * COLL_DIMS_MAX];
    int nrings = collplan_ring_schedule(pl, bytes, passes, dim, sizes);
    for (int i = 0; i < nrings; i++) {
        int d = dim[i];
        double size = (double)collplan_size(sizes[i]);
        for (int t = 0; t < pl->dims[d] - 1; t++) {
            memcpy(next, ready, (size_t)pl->n * sizeof *next);
            for (int chip = 0; chip < pl->n; chip++)
                for (int dir = 0; dir < 2; dir++)
                    collplan_dataflow_msg(pl, lat, bw, ready, next, chip, d, dir, size);
            memcpy(ready, next, (size_t)pl->n * sizeof *ready);
        }
    }
}
