/* collhier: the hierarchical all-to-all of GPU nodes planned from its byte matrix and timed from the plan, as
 * link loads (every link's bytes over its bandwidth) along the NVLink gather and the NIC messages per (node pair,
 * rail).  O(n^2) in the matrix, no flows. */
#include "sim/collhier.h"

#include "sim/collplan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The workspace: the plan's message bytes, then each link's load. */
typedef struct {
    double *p1;                    /* (n, gpn) NVLink message of GPU s to its node's GPU j; then its end time */
    double *p2;                    /* (n, nodes) NIC message of GPU c to node B (to c's rail's GPU there); then
                                    * its end time */
    double *u1, *d1, *u2, *d2;     /* (n) bytes over each GPU's NVLink up, down, NIC up, down */
    double *ready;                 /* (n) when the last NVLink byte reached the GPU */
    double *su, *sd;               /* (groups) bytes over each group's spine uplinks and downlinks */
} collhier_ws;

static int collhier_groups(const collhier_net *net)
{
    int nodes = net->n / net->gpn;
    return (net->lead + nodes + net->npl - 1) / net->npl;
}

/* The leaf group of node B. */
static int collhier_group(const collhier_net *net, int B)
{
    return (net->lead + B) / net->npl;
}

size_t collhier_work_len(const collhier_net *net)
{
    size_t n = (size_t)net->n, nodes = n / (size_t)net->gpn;
    return n * (size_t)net->gpn + n * nodes + 5 * n + 2 * (size_t)collhier_groups(net);
}

static void collhier_ws_init(collhier_ws *ws, double *work, const collhier_net *net)
{
    size_t n = (size_t)net->n, nodes = n / (size_t)net->gpn;
    memset(work, 0, collhier_work_len(net) * sizeof *work);
    ws->p1 = work;
    ws->p2 = ws->p1 + n * (size_t)net->gpn;
    ws->u1 = ws->p2 + n * nodes;
    ws->d1 = ws->u1 + n;
    ws->u2 = ws->d1 + n;
    ws->d2 = ws->u2 + n;
    ws->ready = ws->d2 + n;
    ws->su = ws->ready + n;
    ws->sd = ws->su + collhier_groups(net);
}

/* The plan: every matrix entry into its NVLink message and/or its NIC message; -1 with err on a bad entry. */
static int collhier_plan(collhier_ws *ws, const double *bytes, const collhier_net *net, errbuf *err)
{
    int n = net->n, gpn = net->gpn, nodes = n / gpn;
    for (int s = 0; s < n; s++)
        for (int d = 0; d < n; d++) {
            double b = bytes[(size_t)s * n + d];
            if (!(b >= 0.0) || !isfinite(b))
                return errbuf_set(err, "collectives: hierarchical all-to-all bytes from chip %d to chip %d must be "
                                  "finite and >= 0, got %g", s, d, b);
            if (d == s || b == 0.0)
                continue;
            int A = s / gpn, B = d / gpn, j = d % gpn;
            if (j != s % gpn)
                ws->p1[(size_t)s * gpn + j] += b;
            if (B != A)
                ws->p2[((size_t)A * gpn + j) * nodes + B] += b;
        }
    return 0;
}

/* Each link's load from the plan's messages. */
static void collhier_loads(collhier_ws *ws, const collhier_net *net)
{
    int n = net->n, gpn = net->gpn, nodes = n / gpn;
    for (int s = 0; s < n; s++)
        for (int j = 0; j < gpn; j++) {
            double p = ws->p1[(size_t)s * gpn + j];
            ws->u1[s] += p;
            ws->d1[s / gpn * gpn + j] += p;
        }
    for (int c = 0; c < n; c++)
        for (int B = 0; B < nodes; B++) {
            double p = ws->p2[(size_t)c * nodes + B];
            int ga = collhier_group(net, c / gpn), gb = collhier_group(net, B);
            ws->u2[c] += p;
            ws->d2[B * gpn + c % gpn] += p;
            if (ga != gb) {
                ws->su[ga] += p;
                ws->sd[gb] += p;
            }
        }
}

int collhier_time(double *dur, double *work, const double *bytes, const collhier_net *net, errbuf *err)
{
    return collhier_time_split(dur, NULL, work, bytes, net, err);
}

int collhier_time_split(double *dur, double *nvl, double *work, const double *bytes, const collhier_net *net,
                        errbuf *err)
{
    int n = net->n, gpn = net->gpn, nodes = n / gpn;
    collhier_ws ws;
    collhier_ws_init(&ws, work, net);
    if (collhier_plan(&ws, bytes, net, err) != 0)
        return -1;
    collhier_loads(&ws, net);
    for (int r = 0; r < n; r++)
        dur[r] = 0.0;
    /* NVLink: a message ends a route latency after the busier of its two links is done */
    for (int s = 0; s < n; s++)
        for (int j = 0; j < gpn; j++) {
            double *p = &ws.p1[(size_t)s * gpn + j];
            if (*p <= 0.0)
                continue;
            int r = s / gpn * gpn + j;
            *p = net->lat_node + fmax(ws.u1[s] / net->nv_up[s], ws.d1[r] / net->nv_down[r]);
            dur[s] = fmax(dur[s], *p);
            dur[r] = fmax(dur[r], *p);
            ws.ready[r] = fmax(ws.ready[r], *p);
        }
    for (int r = 0; nvl != NULL && r < n; r++)
        nvl[r] = dur[r];
    /* NIC: the same over NIC up, NIC down and, between groups, the two groups' spine links; and no earlier than
     * a route latency after the forwarded bytes arrived */
    for (int c = 0; c < n; c++)
        for (int B = 0; B < nodes; B++) {
            double *p = &ws.p2[(size_t)c * nodes + B];
            if (*p <= 0.0)
                continue;
            int d = B * gpn + c % gpn, ga = collhier_group(net, c / gpn), gb = collhier_group(net, B);
            double busy = fmax(ws.ready[c], fmax(ws.u2[c] / net->nic_up[c], ws.d2[d] / net->nic_down[d]));
            if (ga != gb)
                busy = fmax(busy, fmax(ws.su[ga] / net->spine_up[ga], ws.sd[gb] / net->spine_down[gb]));
            *p = (ga != gb ? net->lat_spine : net->lat_group) + busy;
            dur[c] = fmax(dur[c], *p);
            dur[d] = fmax(dur[d], *p);
        }
    /* a source is done when its forwarded bytes have arrived */
    for (int s = 0; s < n; s++)
        for (int d = 0; d < n; d++) {
            int A = s / gpn, B = d / gpn;
            if (B != A && bytes[(size_t)s * n + d] > 0.0)
                dur[s] = fmax(dur[s], ws.p2[((size_t)A * gpn + d % gpn) * nodes + B]);
        }
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* node-aware rings */

size_t collhier_links(const collhier_net *net)
{
    return 4 * (size_t)net->n + 2 * (size_t)collhier_groups(net);
}

size_t collhier_ring_work_len(const collhier_net *net)
{
    return 2 * collhier_links(net);
}

int collhier_route(size_t *at, double *bw, double *lat, const collhier_net *net, int a, int b)
{
    size_t n = (size_t)net->n, G = (size_t)collhier_groups(net);
    int A = a / net->gpn, B = b / net->gpn;
    if (A == B) {
        at[0] = (size_t)a, bw[0] = net->nv_up[a];
        at[1] = n + (size_t)b, bw[1] = net->nv_down[b];
        *lat = net->lat_node;
        return 2;
    }
    at[0] = 2 * n + (size_t)a, bw[0] = net->nic_up[a];
    at[1] = 3 * n + (size_t)b, bw[1] = net->nic_down[b];
    int ga = collhier_group(net, A), gb = collhier_group(net, B);
    if (ga == gb) {
        *lat = net->lat_group;
        return 2;
    }
    at[2] = 4 * n + (size_t)ga, bw[2] = net->spine_up[ga];
    at[3] = 4 * n + G + (size_t)gb, bw[3] = net->spine_down[gb];
    *lat = net->lat_spine;
    return 4;
}

/* A group's node segments: seg (its size + 1) <- the offsets of its runs of members in one node; returns their
 * number, and the rings in *C (the longest segment when there are two or more, else 1). */
static int collhier_ring_segments(int *seg, int *C, const int *mem, int m, int gpn)
{
    int nseg = 0;
    for (int i = 0; i < m; i++)
        if (i == 0 || mem[i] / gpn != mem[i - 1] / gpn)
            seg[nseg++] = i;
    seg[nseg] = m;
    *C = 1;
    for (int j = 0; nseg > 1 && j < nseg; j++)
        if (seg[j + 1] - seg[j] > *C)
            *C = seg[j + 1] - seg[j];
    return nseg;
}

/* Every message of one step of a group's rings: adds its 'size' bytes to its links' loads and lowers their
 * earliest route latency 'lat0' (pass 0), or returns the step's time (pass 1): its slowest message, which ends
 * when the busiest link on its route is done, a link working from the earliest latency of the messages that
 * cross it (flows pay their latency before they take bandwidth), and no earlier than its own latency plus its
 * bytes over its slowest link. */
static double collhier_ring_step(double *load, double *lat0, const int *mem, int m, const int *seg, int nseg, int C,
                                 double size, int pass, const collhier_net *net)
{
    double step = 0.0;
    for (int c = 0; c < C; c++)
        for (int at = 0; at < m; at++) {
            int me = collplan_channel_member(mem, seg, nseg, c, at);
            int nb[2] = { collplan_channel_member(mem, seg, nseg, c, (at + 1) % m),
                          collplan_channel_member(mem, seg, nseg, c, (at + m - 1) % m) };
            for (int k = 0; k < 2; k++) {
                size_t li[COLLHIER_ROUTE_MAX];
                double bw[COLLHIER_ROUTE_MAX], lat, end = 0.0;
                int nl = collhier_route(li, bw, &lat, net, me, nb[k]);
                for (int l = 0; l < nl; l++) {
                    if (pass == 0) {
                        load[li[l]] += size;
                        lat0[li[l]] = fmin(lat0[li[l]], lat);
                    } else {
                        end = fmax(end, fmax(lat0[li[l]] + load[li[l]] / bw[l], lat + size / bw[l]));
                    }
                }
                step = fmax(step, end);
            }
        }
    return step;
}

int collhier_ring_time(double *dur, double *work, const int *members, const int *start, int ngroups, double bytes,
                       int npass, const collhier_net *net, errbuf *err)
{
    int n = net->n, maxm = 0;
    if (!(bytes >= 0.0) || !isfinite(bytes))
        return errbuf_set(err, "collectives: ring all-reduce bytes must be finite and >= 0, got %g", bytes);
    for (int r = 0; r < n; r++)
        dur[r] = 0.0;
    for (int g = 0; g < ngroups; g++) {       /* dur marks the members met so far */
        int m = start[g + 1] - start[g];
        maxm = m > maxm ? m : maxm;
        for (int i = start[g]; i < start[g + 1]; i++) {
            int r = members[i];
            if (r < 0 || r >= n || dur[r] != 0.0)
                return errbuf_set(err, "collectives: ring all-reduce member %d is not a GPU (0..%d) or is in two "
                                  "groups", r, n - 1);
            dur[r] = 1.0;
        }
    }
    int *seg = malloc(((size_t)maxm + 1) * sizeof *seg);
    if (seg == NULL)
        return errbuf_set(err, "collectives: out of memory for a ring all-reduce over %d GPUs", maxm);
    size_t nl = collhier_links(net);
    double *load = work, *lat0 = work + nl;
    for (size_t i = 0; i < nl; i++)
        load[i] = 0.0, lat0[i] = INFINITY;
    for (int pass = 0; pass < 2; pass++)      /* every group's loads first, then every group's step */
        for (int g = 0; g < ngroups; g++) {
            const int *mem = members + start[g];
            int m = start[g + 1] - start[g], C;
            if (m < 2) {
                if (m == 1)
                    dur[mem[0]] = 0.0;
                continue;
            }
            int nseg = collhier_ring_segments(seg, &C, mem, m, net->gpn);
            double step = collhier_ring_step(load, lat0, mem, m, seg, nseg, C, bytes / m / 2.0 / C, pass, net);
            for (int i = 0; pass == 1 && i < m; i++)
                dur[mem[i]] = npass * (m - 1) * step;
        }
    free(seg);
    return 0;
}
