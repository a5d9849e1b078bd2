/* cost_validate: the cost model's checks for 'switchsim validate': closed-form matmul cases on the
 * TPUv3 test chip, and the per-op efficiencies GShard reports [SOURCES 6.1 Fig. 8].  Step times
 * (GShard Table 3) are checked by the engine's validate, not here. */
#include "sim/cost.h"

#include <stdio.h>
#include <string.h>

#include "sim/validate.h"

#define SRC_MXU "SOURCES 5.1 SB MXU, GCP"
#define SRC_ROOF "closed form, SOURCES 5.1"
#define SRC_FIG8 "SOURCES 6.1 GShard Fig. 8"

/* GShard's model (App. A.2) [SOURCES 6.1]: d_model 1024, hidden 8192, 16 heads of d_kv 128, on 128
 * cores with 1M-token batches: 8192 tokens per core.  Sequence length 512 as the check asks. */
#define GS_D 1024
#define GS_F 8192
#define GS_HEADS 16
#define GS_DKV 128
#define GS_TOKENS 8192.0
#define GS_SEQ 512
/* "Dense matmuls >85% of peak FLOPs", "attention >30%" [SOURCES 6.1 Fig. 8] */
#define GS_DENSE_MIN 0.85
#define GS_ATTN_MIN 0.30

static void gshard_model(model_cfg *m)
{
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", "gshard-a2");
    m->d_model = GS_D;
    m->d_ff = GS_F;
    m->act = MODEL_ACT_RELU;
    m->heads = GS_HEADS;
    m->d_kv = GS_DKV;
    m->enc_seq = m->dec_seq = GS_SEQ;
    m->experts = 1;
    m->vocab = 32000;    /* unused by these checks */
    m->top_k = 2;
}

int cost_validate(vreport *r, errbuf *err)
{
    cost_chip c;
    cost_chip_tpuv3(&c);
    double mx = c.mxus_per_core, feed = COST_MXU_FEED_ROWS;
    int rc = 0;

    /* 128x128x128: 16 blocks of 8 rows over 2 MXUs, 8 cycles each = 64 cycles */
    double ref = 128.0 / feed / mx * feed;
    rc |= vreport_add(r, "matmul 128x128x128 bf16 = its MXU cycles (tpuv3)", "cycles",
                      cost_matmul_cycles(&c, 1, 128, 128, 128, COST_BF16), ref, ref, ref, SRC_MXU);

    /* K = N = 2080 pays for the padded 2176 = 17 x 128 */
    ref = 2048.0 / feed * 17.0 * 17.0 / mx * feed;
    rc |= vreport_add(r, "matmul 2048x2080x2080 pays padded 2176x2176", "cycles",
                      cost_matmul_cycles(&c, 1, 2048, 2080, 2080, COST_BF16), ref, ref, ref, SRC_MXU);

    /* skinny (8,8192)@(8192,8192): HBM-bound, time = bytes / bandwidth + overhead */
    double bytes = (8.0 * 8192 + 8192.0 * 8192 + 8.0 * 8192) * COST_BF16_BYTES;
    ref = bytes / c.hbm_Bps + c.op_overhead_s;
    rc |= vreport_add(r, "matmul 8x8192x8192 bf16 HBM-bound = bytes/BW + overhead", "s",
                      cost_matmul_s(&c, 8, 8192, 8192, COST_BF16), ref, ref * (1 - 1e-12), ref * (1 + 1e-12),
                      SRC_ROOF);

    /* doubling the MXUs halves MXU-bound time and leaves HBM-bound time alone */
    cost_chip c2 = c;
    c2.mxus_per_core *= 2;
    double big1 = cost_matmul_s(&c, 4096, 4096, 4096, COST_BF16) - c.op_overhead_s;
    double big2 = cost_matmul_s(&c2, 4096, 4096, 4096, COST_BF16) - c.op_overhead_s;
    rc |= vreport_add(r, "2x MXUs: MXU-bound 4096^3 time ratio", "x", big2 / big1, 0.5, 0.5 - 1e-12,
                      0.5 + 1e-12, SRC_ROOF);
    double sk1 = cost_matmul_s(&c, 8, 8192, 8192, COST_BF16);
    double sk2 = cost_matmul_s(&c2, 8, 8192, 8192, COST_BF16);
    rc |= vreport_add(r, "2x MXUs: HBM-bound 8x8192x8192 time ratio", "x", sk2 / sk1, 1.0, 1.0, 1.0, SRC_ROOF);

    /* fp32 (router precision) = fp32_matmul_passes bf16 passes on an MXU-bound shape */
    double f32 = cost_matmul_s(&c, 4096, 4096, 4096, COST_FP32) - c.op_overhead_s;
    rc |= vreport_add(r, "fp32/bf16 matmul time, MXU-bound 4096^3", "x", f32 / big1, c.fp32_matmul_passes,
                      c.fp32_matmul_passes * (1 - 1e-12), c.fp32_matmul_passes * (1 + 1e-12),
                      "assumption fp32_matmul_passes");

    /* GShard Fig. 8: fraction of bf16 peak.  (GShard's runs kept fp32 weights/activations; its matmuls
     * ran on the bf16 MXU, which is what the percentage of peak refers to.) */
    double t = cost_matmul_s(&c, GS_TOKENS, GS_D, GS_F, COST_BF16);
    double eff = 2.0 * GS_TOKENS * GS_D * GS_F / t / c.bf16_flops;
    rc |= vreport_add(r, "GShard dense FFN matmul 8192x1024x8192 fraction of peak", "", eff, GS_DENSE_MIN,
                      GS_DENSE_MIN, 1.0, SRC_FIG8);

    model_cfg m;
    gshard_model(&m);
    cost_work w;
    cost_work_init(&w);
    cost_dense_ffn_work(&w, &c, &m, GS_TOKENS, 1, 0);
    rc |= vreport_add(r, "GShard dense FFN sublayer fwd fraction of peak", "", w.mm_flops / w.t_s / c.bf16_flops,
                      GS_DENSE_MIN, GS_DENSE_MIN, 1.0, SRC_FIG8);

    cost_work_init(&w);
    cost_attention_work(&w, &c, &m, GS_TOKENS, GS_SEQ, GS_SEQ, 1, 0);
    rc |= vreport_add(r, "GShard attention seq 512 fwd fraction of peak", "", w.mm_flops / w.t_s / c.bf16_flops,
                      GS_ATTN_MIN, GS_ATTN_MIN, 1.0, SRC_FIG8);

    if (rc != 0)
        return errbuf_set(err, "cost_validate: out of memory adding checks");
    return 0;
}
