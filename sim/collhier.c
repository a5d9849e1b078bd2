/* collhier: the hierarchical all-to-all of GPU nodes planned from its byte matrix and timed from the plan, as
 * link loads (every link's bytes over its bandwidth) along the NVLink gather and the NIC messages per (node pair,
 * rail).  O(n^2) in the matrix, no flows. */
#include "sim/collhier.h"

#include <math.h>
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
    return (nodes + net->npl - 1) / net->npl;
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
            int ga = c / gpn / net->npl, gb = B / net->npl;
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
    /* NIC: the same over NIC up, NIC down and, between groups, the two groups' spine links; and no earlier than
     * a route latency after the forwarded bytes arrived */
    for (int c = 0; c < n; c++)
        for (int B = 0; B < nodes; B++) {
            double *p = &ws.p2[(size_t)c * nodes + B];
            if (*p <= 0.0)
                continue;
            int d = B * gpn + c % gpn, ga = c / gpn / net->npl, gb = B / net->npl;
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
