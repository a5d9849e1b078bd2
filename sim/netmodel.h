/* netmodel: the SimGrid network model a simulation runs with.  'hw' (the default of run and collective) is
 * max-min bandwidth sharing (SimGrid's CM02) without TCP's effects, and every link derated by its own
 * technology's factors, which the platform file carries as properties (ICI, NVLink, InfiniBand NICs; see
 * sim/platform.h); 'lv08' and 'cm02' are SimGrid's own models on the raw links, for comparison. */
#ifndef SWITCHSIM_NETMODEL_H
#define SWITCHSIM_NETMODEL_H

#include "sim/platform.h"

typedef enum {
    NETMODEL_LV08 = 0,   /* SimGrid's default: bandwidth x 0.97, latency x 13.01 per flow, TCP window bound and ACK
                          * cross-traffic, calibrated for TCP over Ethernet [SOURCES 8.3, 9.2] */
    NETMODEL_CM02 = 1,   /* max-min sharing only (SimGrid's other factors and TCP settings at their defaults) */
    NETMODEL_HW = 2      /* CM02 sharing, no ACK cross-traffic, no TCP window; links x the platform's factors */
} netmodel;

#define NETMODEL_CFG_MAX 4
#define NETMODEL_CFG_LEN 64

/* "hw", "lv08", "cm02". */
const char *netmodel_name(netmodel m);
/* items <- the "--cfg=..." arguments SimGrid needs for m; returns how many (at most NETMODEL_CFG_MAX). */
int netmodel_cfg(char items[][NETMODEL_CFG_LEN], netmodel m);
/* After simgrid_load_platform and platform_read, before simgrid_run.  hw: every link between chips gets
 * bandwidth x its technology's bandwidth factor and latency x its latency factor (a torus: every link is ICI;
 * GPU nodes: '_nvlink_' links NVLink, '_nic_' links the NICs, '_spine_' links a rail fat tree's leaf uplinks, InfiniBand too); loopbacks (traffic inside a chip) are left as
 * they are.  lv08, cm02: nothing.  Returns the number of links changed. */
long netmodel_apply(netmodel m, const platform_torus *t);

#endif
