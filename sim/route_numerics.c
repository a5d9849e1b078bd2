/* route_numerics: the rest of the Switch layer (bf16 dispatch, expert FFN, combine) run for real on every group
 * that exact routing routes, for small models: its outputs checked finite and the dropped tokens' residuals
 * passed through unchanged. */
#include <math.h>
#include <stdlib.h>

#include "sim/route.h"
#include "sim/route_int.h"

/* Expert weights per Switch layer: F matrices per expert (2 relu, 3 geglu), paper init (truncated normal,
 * s = 0.1 over the fan-in, SOURCES 3 Init), stored bf16 as the experts keep them.  Only for models small
 * enough (ROUTE_NUMERICS_WEIGHTS_MAX); larger ones keep numerics off and say nothing about them. */
int route_numerics_alloc(route_ctx *r, int smax)
{
    const model_cfg *m = r->m;
    int D = m->d_model, F = m->d_ff, E = r->E, C = smax;
    int mats = m->act == MODEL_ACT_GEGLU ? 3 : 2;
    double nw = (double)r->layers * E * D * F * mats;
    if (nw > ROUTE_NUMERICS_WEIGHTS_MAX)
        return 0;
    if ((m->act != MODEL_ACT_RELU && m->act != MODEL_ACT_GEGLU) || model_d_ff_expert(m) != m->d_ff)
        return 0;                   /* the kernels are relu and geglu experts of width d_ff */
    size_t per_layer = (size_t)E * D * F * (size_t)mats;
    switch_act act = m->act == MODEL_ACT_GEGLU ? SWITCH_ACT_GEGLU : SWITCH_ACT_RELU;
    r->w_ffn = malloc((size_t)r->layers * per_layer * sizeof *r->w_ffn);
    r->xb = malloc((size_t)smax * D * sizeof *r->xb);
    r->buf = malloc((size_t)E * C * D * sizeof *r->buf);
    r->eout = malloc((size_t)E * C * D * sizeof *r->eout);
    r->y = malloc((size_t)smax * D * sizeof *r->y);
    r->ffn_scratch = malloc(switch_ffn_scratch_len(act, C, D, F) * sizeof *r->ffn_scratch);
    if (!r->w_ffn || !r->xb || !r->buf || !r->eout || !r->y || !r->ffn_scratch)
        return -1;
    for (int l = 0; l < r->layers; l++) {
        bf16 *w = r->w_ffn + (size_t)l * per_layer;
        route_reseed(r->rng, r->seed, 6, l, 0, 0);
        for (size_t i = 0; i < per_layer; i++) {
            size_t in_expert = i % ((size_t)D * F * mats);
            int fan_in = in_expert < (size_t)D * F * (mats - 1) ? D : F;   /* W_in (and W_gate): D; W_out: F */
            w[i] = f32_to_bf16(route_trunc_normal(r->rng, sqrt(ROUTE_INIT_SCALE / fan_in)));
        }
    }
    r->numerics = 1;
    return 0;
}

/* The rest of the Switch layer on the group just routed: dispatch (bf16), expert FFN, combine.  Checks that
 * every token with no kept choice passes through unchanged and that every output is finite. */
int route_numerics_group(route_ctx *r, int layer, int S, int C, const int *counts, errbuf *err)
{
    const model_cfg *m = r->m;
    int D = m->d_model, F = m->d_ff, E = r->E, k = r->k;
    int mats = m->act == MODEL_ACT_GEGLU ? 3 : 2;
    const bf16 *w = r->w_ffn + (size_t)layer * E * D * F * mats;
    for (size_t i = 0; i < (size_t)S * D; i++)
        r->xb[i] = f32_to_bf16(r->x[i]);
    switch_dispatch_forward(r->buf, r->xb, r->expert, r->slot, S, D, E, k, C);
    /* weights are (E, mats, ...) per expert in w; the kernels take (E,D,F) arrays, so run expert by expert */
    for (int e = 0; e < E; e++) {
        const bf16 *we = w + (size_t)e * D * F * mats;
        const bf16 *bufe = r->buf + (size_t)e * C * D;
        float *oute = r->eout + (size_t)e * C * D;
        if (mats == 3)
            switch_ffn_geglu_forward(oute, r->ffn_scratch, bufe, counts + e, we, we + (size_t)D * F,
                                     we + (size_t)2 * D * F, 1, C, D, F);
        else
            switch_ffn_relu_forward(oute, r->ffn_scratch, bufe, counts + e, we, we + (size_t)D * F, 1, C, D, F);
    }
    switch_combine_forward(r->y, r->eout, r->xb, r->gate, r->expert, r->slot, S, D, E, k, C);
    for (int t = 0; t < S; t++) {
        int kept = 0;
        for (int j = 0; j < k; j++)
            kept |= r->slot[(size_t)t * k + j] >= 0;
        for (int d = 0; d < D; d++) {
            float v = r->y[(size_t)t * D + d];
            if (!isfinite(v) || (!kept && v != bf16_to_f32(r->xb[(size_t)t * D + d])))
                return errbuf_set(err, "bug: layer %d: token %d output %g is not finite or not its residual %g",
                                  layer, t, (double)v, (double)bf16_to_f32(r->xb[(size_t)t * D + d]));
            r->numerics_abs += fabs((double)v);
        }
    }
    r->numerics_groups++;
    return 0;
}

long route_numerics(const route_ctx *r, double *mean_abs)
{
    if (mean_abs != NULL)
        *mean_abs = r->numerics_groups > 0 ? r->numerics_abs / ((double)r->numerics_groups) : 0.0;
    return r->numerics_groups;
}
