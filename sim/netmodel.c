/* netmodel: SimGrid network-model settings and the platform's per-technology link factors (sim/netmodel.h). */
#include "sim/netmodel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <simgrid/link.h>

const char *netmodel_name(netmodel m)
{
    return m == NETMODEL_HW ? "hw" : m == NETMODEL_CM02 ? "cm02" : "lv08";
}

int netmodel_cfg(char items[][NETMODEL_CFG_LEN], netmodel m)
{
    int n = 0;
    if (m == NETMODEL_LV08)
        return 0;           /* SimGrid's default: nothing to say, so SWITCHSIM_SIMGRID_CFG may still choose */
    snprintf(items[n++], NETMODEL_CFG_LEN, "--cfg=network/model:CM02");
    if (m == NETMODEL_HW) {
        /* Full-duplex hardware links: each direction has its own lanes, and the link-level credits and acks
         * are inside the bandwidth factor, so no 5% ACK flow on the reverse route [SOURCES 8.3]. */
        snprintf(items[n++], NETMODEL_CFG_LEN, "--cfg=network/crosstraffic:0");
        /* No TCP window: SimGrid's gamma bound (window / (2 x route latency)) does not apply to ICI, NVLink
         * or InfiniBand RDMA; 0 turns it off. */
        snprintf(items[n++], NETMODEL_CFG_LEN, "--cfg=network/TCP-gamma:0");
    }
    return n;
}

long netmodel_apply(netmodel m, const platform_torus *t)
{
    if (m != NETMODEL_HW)
        return 0;
    size_t n = sg_link_count();
    sg_link_t *links = sg_link_list();
    long changed = 0;
    for (size_t i = 0; links != NULL && i < n; i++) {
        const char *name = sg_link_get_name(links[i]);
        if (strstr(name, "loopback") != NULL)
            continue;
        double bwf = t->link_bw_factor, latf = t->link_lat_factor;
        /* InfiniBand: the NICs, and a rail fat tree's leaf-spine links (topologies/gpu.h) */
        if (t->family == COST_FAMILY_GPU && (strstr(name, "_nic_") != NULL || strstr(name, "_spine_") != NULL)) {
            bwf = t->nic_bw_factor;
            latf = t->nic_lat_factor;
        }
        if (bwf == 1.0 && latf == 1.0)
            continue;
        sg_link_set_bandwidth(links[i], sg_link_get_bandwidth(links[i]) * bwf);
        sg_link_set_latency(links[i], sg_link_get_latency(links[i]) * latf);
        changed++;
    }
    free(links);
    return changed;
}
