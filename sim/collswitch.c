/* collswitch: a switched world's collectives timed from their plans (coll_world_set_fast on GPU nodes under a
 * network model that times a lone flow as latency + bytes / bandwidth): the hierarchical all-to-all of all GPUs
 * or of a block of whole nodes, the node-aware rings of all-reduces and their halves, and point-to-point
 * messages.  The links' numbers are read from the platform once (coll_hier_net); the timing itself is
 * sim/collhier.c's (pure). */
#include "sim/collectives.h"
#include "sim/coll_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <simgrid/host.h>
#include <simgrid/link.h>

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
    if (!w->fast_switched)
        return errbuf_set(err, "collectives: rings timed from their plan need a switched world set fast "
                          "(coll_world_set_fast)");
    if (coll_hier_net(w, err) != 0)
        return -1;
    if (w->ring_work == NULL && (w->ring_work = malloc(collhier_ring_work_len(&w->hnet) * sizeof *w->ring_work))
                                == NULL)
        return errbuf_set(err, "collectives: out of memory for ring all-reduces on %d chips", w->n);
    int all[2] = { 0, w->n }, *ids = NULL;
    if (members == NULL) {                /* all chips in rank order */
        if ((ids = malloc((size_t)w->n * sizeof *ids)) == NULL)
            return errbuf_set(err, "collectives: out of memory for ring all-reduces on %d chips", w->n);
        for (int r = 0; r < w->n; r++)
            ids[r] = r;
        members = ids, start = all, ngroups = 1;
    }
    int npass = ((passes & COLLPLAN_PASS_RS) != 0) + ((passes & COLLPLAN_PASS_AG) != 0);
    int rc = collhier_ring_time(dur, w->ring_work, members, start, ngroups, bytes, npass, &w->hnet, err);
    free(ids);
    if (rc == 0)
        w->fast_ring_calls++;
    return rc;
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
