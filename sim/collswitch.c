/* collswitch: collectives timed from their plans where the network model times a lone flow as latency + bytes /
 * bandwidth (coll_world_set_fast): on GPU nodes (a switched world) the hierarchical all-to-all of all GPUs or of a
 * block of whole nodes, the node-aware rings of all-reduces and their halves, and point-to-point messages, on the
 * links' numbers read from the platform once (coll_hier_net) and timed by sim/collhier.c (pure); on a torus the
 * rings of chip groups, on SimGrid's routes. */
#include "sim/collectives.h"
#include "sim/coll_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <simgrid/host.h>
#include <simgrid/link.h>
#include <stdint.h>
#include <xbt/dynar.h>

static int coll_rings_routes(coll_world *w, const int *members, const int *start, int ngroups, double bytes,
                             int npass, double *dur, errbuf *err);

static int coll_link_name_cmp(const void *a, const void *b)
{
    return strcmp(sg_link_get_name(*(const sg_link_t *)a), sg_link_get_name(*(const sg_link_t *)b));
}

static int coll_link_key_cmp(const void *key, const void *l)
{
    return strcmp(key, sg_link_get_name(*(const sg_link_t *)l));
}

/* The bandwidth of link "<prefix><i>_<suffix>" (the network model's factors applied), found in 'links' (nl,
 * sorted by name): SimGrid's own lookup throws on a missing name.  -1 with err when there is none. */
static int coll_link_bw(double *bw, sg_link_t *links, size_t nl, const char *prefix, int i, const char *suffix,
                        errbuf *err)
{
    char name[64];
    snprintf(name, sizeof name, "%s%d_%s", prefix, i, suffix);
    const sg_link_t *l = bsearch(name, links, nl, sizeof *links, coll_link_key_cmp);
    if (l == NULL)
        return errbuf_set(err, "collectives: the platform has no link '%s', which the hierarchical all-to-all "
                          "reads (the GPU platforms of 'switchsim topology' have it)", name);
    *bw = sg_link_get_bandwidth(*l);
    return 0;
}

/* The hierarchical all-to-all's network (w->hnet) from the platform, once: the links of gpu_route
 * (topologies/gpu.h) by name, those that exist (NVLink with 2+ GPUs a node, NICs with 2+ nodes, spine links
 * with 2+ leaf groups), and the route latency of a pair of each kind.  -1 with err when a link is missing or
 * memory runs out. */
int coll_hier_net(coll_world *w, errbuf *err)
{
    if (w->hier_work != NULL)
        return 0;
    collhier_net *h = &w->hnet;
    int n = w->n, gpn = w->node_size, nodes = n / gpn;
    const char *npl = sg_host_get_property_value(w->hosts[0], "nodes_per_leaf");
    h->n = n;
    h->gpn = gpn;
    h->npl = npl != NULL && atoi(npl) > 0 ? atoi(npl) : nodes;
    int groups = (nodes + h->npl - 1) / h->npl;
    size_t nl = sg_link_count();
    sg_link_t *links = sg_link_list();
    free(w->hier_bw);
    w->hier_bw = calloc(4 * (size_t)n + 2 * (size_t)groups, sizeof *w->hier_bw);
    if (w->hier_bw == NULL || links == NULL) {
        free(links);
        return errbuf_set(err, "collectives: out of memory for a hierarchical all-to-all on %d chips", n);
    }
    qsort(links, nl, sizeof *links, coll_link_name_cmp);
    double *bw = w->hier_bw;
    h->nv_up = bw, h->nv_down = bw + n, h->nic_up = bw + 2 * n, h->nic_down = bw + 3 * n;
    h->spine_up = bw + 4 * n, h->spine_down = bw + 4 * n + groups;
    int rc = 0;
    for (int r = 0; r < n && rc == 0; r++) {
        if (gpn > 1)
            rc = coll_link_bw(&bw[r], links, nl, "chip", r, "nvlink_up", err) != 0
                 || coll_link_bw(&bw[n + r], links, nl, "chip", r, "nvlink_down", err) != 0 ? -1 : 0;
        if (nodes > 1 && rc == 0)
            rc = coll_link_bw(&bw[2 * n + r], links, nl, "chip", r, "nic_up", err) != 0
                 || coll_link_bw(&bw[3 * n + r], links, nl, "chip", r, "nic_down", err) != 0 ? -1 : 0;
    }
    for (int g = 0; g < groups && groups > 1 && rc == 0; g++)
        rc = coll_link_bw(&bw[4 * n + g], links, nl, "leaf", g, "spine_up", err) != 0
             || coll_link_bw(&bw[4 * n + groups + g], links, nl, "leaf", g, "spine_down", err) != 0 ? -1 : 0;
    free(links);
    if (rc != 0)
        return -1;
    h->lat_node = gpn > 1 ? sg_host_get_route_latency(w->hosts[0], w->hosts[1]) : 0.0;
    h->lat_group = nodes > 1 && h->npl > 1 ? sg_host_get_route_latency(w->hosts[0], w->hosts[gpn]) : 0.0;
    h->lat_spine = groups > 1 ? sg_host_get_route_latency(w->hosts[0], w->hosts[h->npl * gpn]) : 0.0;
    w->hier_work = malloc(collhier_work_len(h) * sizeof *w->hier_work);
    if (w->hier_work == NULL)
        return errbuf_set(err, "collectives: out of memory for a hierarchical all-to-all on %d chips", n);
    return 0;
}

int coll_rings_time(coll_world *w, const int *members, const int *start, int ngroups, double bytes, int passes,
                    double *dur, errbuf *err)
{
    if (!w->fast_switched && !(w->node_size == 0 && w->fast_model))
        return errbuf_set(err, "collectives: rings timed from their plan need a world set fast under a model that "
                          "times a lone flow as latency + bytes / bandwidth (coll_world_set_fast)");
    int all[2] = { 0, w->n }, *ids = NULL;
    if (members == NULL) {                /* all chips in rank order */
        if ((ids = malloc((size_t)w->n * sizeof *ids)) == NULL)
            return errbuf_set(err, "collectives: out of memory for ring all-reduces on %d chips", w->n);
        for (int r = 0; r < w->n; r++)
            ids[r] = r;
        members = ids, start = all, ngroups = 1;
    }
    int npass = ((passes & COLLPLAN_PASS_RS) != 0) + ((passes & COLLPLAN_PASS_AG) != 0), rc = 0;
    if (w->node_size == 0) {              /* a torus: the groups checked here, timed on SimGrid's routes */
        for (int r = 0; r < w->n; r++)
            dur[r] = 0.0;
        for (int i = 0; i < start[ngroups] && rc == 0; i++)
            if (members[i] < 0 || members[i] >= w->n || dur[members[i]] != 0.0)
                rc = errbuf_set(err, "collectives: ring all-reduce member %d is not a chip (0..%d) or is in two "
                                "groups", members[i], w->n - 1);
            else
                dur[members[i]] = 1.0;
        if (rc == 0 && !(bytes >= 0.0 && isfinite(bytes)))
            rc = errbuf_set(err, "collectives: ring all-reduce bytes must be finite and >= 0, got %g", bytes);
        if (rc == 0)
            rc = coll_rings_routes(w, members, start, ngroups, bytes, npass, dur, err);
    } else if ((rc = coll_hier_net(w, err)) == 0) {
        if (w->ring_work == NULL
            && (w->ring_work = malloc(collhier_ring_work_len(&w->hnet) * sizeof *w->ring_work)) == NULL)
            rc = errbuf_set(err, "collectives: out of memory for ring all-reduces on %d chips", w->n);
        if (rc == 0)
            rc = collhier_ring_time(dur, w->ring_work, members, start, ngroups, bytes, npass, &w->hnet, err);
    }
    free(ids);
    if (rc == 0)
        w->fast_ring_calls++;
    return rc;
}

int coll_world_ring_plan(const coll_world *w)
{
    return w->fast_switched || (w->node_size == 0 && w->fast_model);
}

int coll_alltoall_block_time(coll_world *w, int base, int n, const double *bytes, double *dur, double *across,
                             errbuf *err)
{
    int gpn = w->node_size;
    if (!w->fast_switched || base < 0 || n < 1 || base + n > w->n || base % gpn != 0 || n % gpn != 0)
        return errbuf_set(err, "collectives: the all-to-all block of %d chips from chip %d is not whole GPU nodes of "
                          "a switched world set fast (%d chips, nodes of %d)", n, base, w->n, gpn);
    if (coll_hier_net(w, err) != 0)
        return -1;
    collhier_net sub = w->hnet;           /* the block's nodes, inside their leaf groups */
    int node0 = base / gpn, g0 = node0 / sub.npl;
    sub.n = n;
    sub.lead = node0 % sub.npl;
    sub.nv_up += base, sub.nv_down += base, sub.nic_up += base, sub.nic_down += base;
    sub.spine_up += g0, sub.spine_down += g0;
    if (collhier_time_split(dur, across, w->hier_work, bytes, &sub, err) != 0)
        return -1;
    for (int i = 0; across != NULL && i < n; i++)
        across[i] = dur[i] - across[i];
    w->fast_calls++;
    return 0;
}

int coll_p2p_time(coll_world *w, int src, int dst, double bytes, double now, double *arrive, errbuf *err)
{
    if (!w->fast_switched || src < 0 || dst < 0 || src >= w->n || dst >= w->n || src == dst || !(bytes >= 0.0))
        return errbuf_set(err, "collectives: a point-to-point message of %g bytes from chip %d to chip %d (0..%d) "
                          "timed from its plan needs a switched world set fast and two distinct chips", bytes, src,
                          dst, w->n - 1);
    if (coll_hier_net(w, err) != 0)
        return -1;
    if (w->p2p_free == NULL && (w->p2p_free = calloc(collhier_links(&w->hnet), sizeof *w->p2p_free)) == NULL)
        return errbuf_set(err, "collectives: out of memory for point-to-point messages on %d chips", w->n);
    size_t li[COLLHIER_ROUTE_MAX];
    double bw[COLLHIER_ROUTE_MAX], lat;
    int nl = collhier_route(li, bw, &lat, &w->hnet, src, dst);
    *arrive = now + lat;
    for (int l = 0; l < nl; l++) {        /* each link carries the message's bytes once its latency has passed and
                                           * the messages before it are through */
        double *f = &w->p2p_free[li[l]];
        *f = fmax(now + lat, *f) + bytes / bw[l];
        *arrive = fmax(*arrive, *f);
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* group rings on a torus, from SimGrid's routes */

/* A ring message's link on its route: the link, and the message. */
typedef struct {
    sg_link_t link;
    size_t msg;
} coll_hop;

static int coll_hop_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const coll_hop *)a)->link, y = (uintptr_t)((const coll_hop *)b)->link;
    return x < y ? -1 : x > y;
}

/* A ring message: its group, bytes and route latency. */
typedef struct {
    int group;
    double size, lat;
} coll_msg;

/* The rates the groups' flows get, by progressive filling (max-min fairness, as SimGrid shares a link among the
 * flows that cross it, with every flow of a group at the group's rate, since its step waits for its slowest):
 * all unsettled groups' flows rise together until a link is full; the groups on it settle at that rate; and so
 * on.  gstep (ngroups) <- each group's step: its messages' longest route latency plus a message's bytes at its
 * group's rate.  hop is sorted here.  -1 when memory runs out. */
static int coll_rings_fill(double *gstep, const coll_msg *msg, size_t nmsg, coll_hop *hop, size_t nhop, int ngroups)
{
    qsort(hop, nhop, sizeof *hop, coll_hop_cmp);   /* by link, then message: a link's groups in runs */
    size_t nl = 0, ne = 0;
    for (size_t i = 0; i < nhop; i++)
        nl += i == 0 || hop[i].link != hop[i - 1].link;
    double *bw = malloc((nl ? nl : 1) * sizeof *bw), *rate = calloc((size_t)ngroups + 1, sizeof *rate);
    double *used = calloc(nl ? nl : 1, sizeof *used), *free_n = calloc(nl ? nl : 1, sizeof *free_n);
    size_t *lstart = malloc((nl + 1) * sizeof *lstart);
    int *eg = malloc((nhop ? nhop : 1) * sizeof *eg), *settled = calloc((size_t)ngroups + 1, sizeof *settled);
    double *ec = malloc((nhop ? nhop : 1) * sizeof *ec);
    if (!bw || !rate || !used || !free_n || !lstart || !eg || !settled || !ec) {
        free(bw), free(rate), free(used), free(free_n), free(lstart), free(eg), free(settled), free(ec);
        return -1;
    }
    size_t l = 0;
    for (size_t i = 0; i < nhop; i++) {             /* (link, group, flows) entries */
        if (i == 0 || hop[i].link != hop[i - 1].link) {
            lstart[l] = ne;
            bw[l++] = sg_link_get_bandwidth(hop[i].link);
        }
        int g = msg[hop[i].msg].group;
        if (ne > lstart[l - 1] && eg[ne - 1] == g)
            ec[ne - 1] += 1.0;
        else
            eg[ne] = g, ec[ne++] = 1.0;
    }
    lstart[nl] = ne;
    for (;;) {
        double level = HUGE_VAL;                    /* the rate at which the next link fills */
        for (size_t k = 0; k < nl; k++) {
            double fixed = 0.0, n = 0.0;
            for (size_t e = lstart[k]; e < lstart[k + 1]; e++)
                if (settled[eg[e]])
                    fixed += ec[e] * rate[eg[e]];
                else
                    n += ec[e];
            used[k] = fixed, free_n[k] = n;
            if (n > 0.0)
                level = fmin(level, (bw[k] - fixed) / n);
        }
        if (level == HUGE_VAL)
            break;
        for (size_t k = 0; k < nl; k++)             /* the groups on every link now full settle */
            if (free_n[k] > 0.0 && used[k] + free_n[k] * level >= bw[k] * (1.0 - 1e-12))
                for (size_t e = lstart[k]; e < lstart[k + 1]; e++)
                    if (!settled[eg[e]])
                        settled[eg[e]] = 1, rate[eg[e]] = level;
    }
    for (size_t i = 0; i < nmsg; i++) {
        int g = msg[i].group;
        gstep[g] = fmax(gstep[g], msg[i].lat + (rate[g] > 0.0 ? msg[i].size / rate[g] : 0.0));
    }
    free(bw), free(rate), free(used), free(free_n), free(lstart), free(eg), free(settled), free(ec);
    return 0;
}

/* coll_rings_time on a torus: every member sends bytes / (2 m) to its next and previous member of its group's
 * ring each of the npass (m - 1) steps (coll_allreduce_group's ring), over SimGrid's route between them; the
 * groups' flows share the links max-min with a rate per group (coll_rings_fill), held for the whole collective
 * (a group that would finish early and leave its links to the others is not sped up at the end). */
static int coll_rings_routes(coll_world *w, const int *members, const int *start, int ngroups, double bytes,
                             int npass, double *dur, errbuf *err)
{
    size_t nmsg = 0, nhop = 0, cap = 0;
    for (int g = 0; g < ngroups; g++)
        nmsg += start[g + 1] - start[g] >= 2 ? 2 * (size_t)(start[g + 1] - start[g]) : 0;
    coll_msg *msg = malloc((nmsg ? nmsg : 1) * sizeof *msg);
    coll_hop *hop = NULL;
    double *gstep = calloc((size_t)ngroups + 1, sizeof *gstep);
    xbt_dynar_t route = xbt_dynar_new(sizeof(sg_link_t), NULL);
    int rc = msg == NULL || gstep == NULL ? -1 : 0;
    size_t k = 0;
    for (int g = 0; g < ngroups && rc == 0; g++) {
        int m = start[g + 1] - start[g];
        const int *mem = members + start[g];
        for (int i = 0; m >= 2 && i < m && rc == 0; i++)
            for (int d = 0; d < 2 && rc == 0; d++, k++) {
                int to = mem[(i + (d == 0 ? 1 : m - 1)) % m];
                msg[k] = (coll_msg){ g, bytes / m / 2.0, 0.0 };
                xbt_dynar_reset(route);
                sg_host_get_route(w->hosts[mem[i]], w->hosts[to], route);
                for (unsigned long l = 0; l < xbt_dynar_length(route); l++) {
                    sg_link_t link = xbt_dynar_get_as(route, l, sg_link_t);
                    if (nhop == cap) {
                        cap = cap ? 2 * cap : 4096;
                        coll_hop *more = realloc(hop, cap * sizeof *hop);
                        if (more == NULL) {
                            rc = -1;
                            break;
                        }
                        hop = more;
                    }
                    hop[nhop++] = (coll_hop){ link, k };
                    msg[k].lat += sg_link_get_latency(link);
                }
            }
    }
    xbt_dynar_free(&route);
    if (rc == 0)
        rc = coll_rings_fill(gstep, msg, nmsg, hop, nhop, ngroups);
    for (int g = 0; g < ngroups && rc == 0; g++)
        for (int i = start[g]; i < start[g + 1]; i++)
            dur[members[i]] = npass * (start[g + 1] - start[g] - 1) * gstep[g];
    free(msg);
    free(hop);
    free(gstep);
    return rc == 0 ? 0 : errbuf_set(err, "collectives: out of memory timing ring all-reduces on %d chips", w->n);
}
