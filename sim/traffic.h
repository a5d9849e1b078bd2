/* traffic: what the Switch layers of one step send.  Routes every core's groups of every Switch layer (sim/route.h)
 * and turns the kept tokens into the all-to-all chip byte matrices, the rows each local expert receives, and the
 * per-layer drops, load-balancing loss and bytes.  Pure: no SimGrid, no cost model; the engine schedules it. */
#ifndef SWITCHSIM_TRAFFIC_H
#define SWITCHSIM_TRAFFIC_H

#include "models/model.h"
#include "sim/common/errbuf.h"
#include "sim/plan.h"
#include "sim/route.h"

typedef struct {
    const plan *p;
    const model_cfg *m;
    int padded;                   /* 1: padded (einsum) dispatch, capacity buffers sent whole; 0: exact (gather) */
    double tok_bytes;             /* bytes of one token's row on the wire: d_model x activation bytes */
    int nlayers;                  /* encoder + decoder layers */
    const int *sparse_index;      /* (nlayers) index among Switch layers, or -1 (the caller's) */
    int nsparse;
    /* all-to-all byte matrices (nchips x nchips, row = source chip): dispatch (m1) and combine (m2 = m1
     * transposed), per Switch layer when exact, else two (encoder and decoder capacity buffers); padded, m2 is
     * m1 (the same memory) when both matrices are symmetric */
    int nmat;
    double *m1, *m2;
    int m2_is_m1[2];              /* padded: matrix i (enc, dec) is symmetric (its own combine matrix) */
    double *recv;                 /* (nsparse, cores, experts_per_core) tokens received per local expert (exact) */
    int *remote_experts;          /* (cores) padded: experts a core sends capacity buffers to on other cores */
    double *lbytes;               /* (nlayers) a2a bytes sent summed over cores, per phase (fwd = bwd) */
    long *ldropped, *lchoices;    /* (nlayers) dropped choices and choices routed */
    double *llb;                  /* (nlayers) sum of group load-balancing losses */
    long *llb_n;                  /* (nlayers) groups in that sum */
    long kept_sent;               /* tokens sent in exact dispatch: must equal the tokens experts received */
    double wall_route_s;          /* wall seconds in the routing kernels */
    double *shard_kept;           /* (experts) the tokens each expert keeps from the shard last routed (its groups
                                   * summed), which its other model-parallel slices share */
    int shard_layer, shard_id;    /* that shard and layer (-1: none yet) */
    int stats_stride;             /* padded dispatch under multinomial routing: only every stats_stride-th data
                                   * shard is routed (the bytes are the buffers', so routing sets only the drops
                                   * and the load-balancing loss, estimated from those shards); else 1 */
} traffic;

/* Zeroed accounting and, padded, the two matrices (known before routing).  p, m and sparse_index must outlive it.
 * NULL when memory runs out. */
traffic *traffic_alloc(const plan *p, const model_cfg *m, const int *sparse_index, int nlayers, int nsparse,
                       int act_bytes, int padded);
void traffic_free(traffic *t);

/* Routes every core's groups of every Switch layer, layer by layer and core by core (each group's draws are its
 * own, so the order changes no count); exact: fills each layer's matrices, and checks that every token sent
 * reached an expert ("bug: experts received 10 tokens, cores sent 12").  0, or -1 with err. */
int traffic_route(traffic *t, route_ctx *route, errbuf *err);

/* Routing groups a layer that padded dispatch under multinomial routing routes, at least (traffic_route draws
 * every stats_stride-th shard's): the drop fraction of about 2^25 token choices a layer (top-8, groups of 4096)
 * is known to far better than the printed 0.001%. */
#define TRAFFIC_PADDED_STATS_GROUPS 1024

/* Index of Switch layer sl's matrices (encoder or decoder): m1 + index x nchips^2. */
int traffic_mat(const traffic *t, int sl, int enc);

/* The busiest expert of Switch layer sl: the most rows an (expert, core) pair computes over the mean of all pairs;
 * 1 for padded buffers and expert choice (equal rows by construction), 0 when the layer received nothing. */
double traffic_max_load(const traffic *t, int sl);

/* rows (experts_per_core) <- the rows each of core 'core''s experts computes in Switch layer sl (padded: whole
 * capacity buffers from every sender). */
void traffic_expert_rows(const traffic *t, double *rows, int core, int sl, int enc);

#endif
