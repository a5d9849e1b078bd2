/* coll_int: the collectives' world, shared by sim/collectives.c (flows, torus plans) and sim/collswitch.c (a
 * switched world's collectives timed from their plans).  Private to the collectives module. */
#ifndef SWITCHSIM_COLL_INT_H
#define SWITCHSIM_COLL_INT_H

#include <simgrid/forward.h>

#include "sim/collectives.h"
#include "sim/collhier.h"

struct coll_world {
    int n;                        /* chips */
    int node_size;                /* 0: a torus; > 0: switched (GPU nodes of node_size consecutive ranks) */
    collplan *pl;                 /* the torus's shape, and the phased all-to-all of the current call, worked out by
                                   * its first chip (collplan_phased) */
    sg_host_t *hosts;             /* (n) */
    sg_mailbox_t *mb_direct;      /* (n) */
    sg_mailbox_t *mb_ring;        /* (n, COLL_DIMS_MAX, 2) phased all-to-all channels */
    sg_mailbox_t *mb_line;        /* (n, COLL_DIMS_MAX rotations, COLL_DIMS_MAX dims) phased line flows */
    sg_mailbox_t *mb_ar;          /* (n, COLL_DIMS_MAX, 2) all-reduce ring channels */
    /* fast timing (coll_world_set_fast) */
    int fast, cur_fast;
    int cur_failed;               /* the call's plan failed a check: cur_err says which */
    errbuf cur_err;
    long fast_calls;
    double *nb_lat, *nb_bw;       /* (n, COLL_DIMS_MAX, 2) each neighbour route's latency and bandwidth */
    double *fast_dur, *fast_next; /* (n) */
    double *fast_nvl;             /* (n) a hierarchical call's NVLink part per chip (collhier_time_split) */
    int cur_hier;                 /* the current call is hierarchical (fast_nvl holds its split) */
    int fast_ring;                /* the dimension-ring all-reduces too (fast, and no dimension of 2 chips) */
    long fast_ring_calls, ring_cur_call;
    long *ring_calls;             /* (n) dimension-ring all-reduce calls per chip */
    double *ring_dur;             /* (n) */
    long *calls;                  /* (n) all-to-all calls per chip */
    long cur_call;                /* the call the chips are in */
    /* the hierarchical all-to-all (HIER), read from the platform at its first call */
    collhier_net hnet;
    double *hier_bw;              /* (4 n + 2 groups) hnet's bandwidth arrays */
    double *hier_work;            /* (collhier_work_len) */
    /* a switched world timed from its plans (coll_world_set_fast): rings and point-to-point sends */
    int fast_switched;
    int fast_model;               /* the network model times a lone flow as latency + bytes / bandwidth (hw): a
                                   * torus's group rings may be timed from their routes (coll_rings_time) */
    double *ring_work;            /* (collhier_ring_work_len) */
    double *p2p_free;             /* (collhier_links) when each link is done with the point-to-point messages so
                                   * far */
};


/* The hierarchical all-to-all's network (w->hnet) from the platform's links, once (sim/collswitch.c); -1 with err
 * when a link is missing or memory runs out. */
int coll_hier_net(coll_world *w, errbuf *err);

#endif
