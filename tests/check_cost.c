/* check_cost: the TPU core cost model (sim/cost.c) against closed forms and hand-counted FLOPs, on the
 * TPUv3 test chip of REFERENCE 5.1 (cost_chip_tpuv3) and variants of it. */
#include "sim/cost.h"
#include "tests/fixtures.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GIB 1073741824.0
#define REL 1e-12

static void assert_rel(double got, double want, double rel)
{
    ck_assert_msg(fabs(got - want) <= rel * fabs(want), "got %.17g, want %.17g", got, want);
}

/* ---- chip ---- */
START_TEST(test_tpuv3_numbers)
{
    cost_chip c;
    cost_chip_tpuv3(&c);
    ck_assert_str_eq(c.chip, "tpuv3");
    ck_assert_int_eq(c.mxus_per_core, 2);
    ck_assert_int_eq(c.mxu_dim, 128);
    ck_assert_double_eq(c.hbm_bytes, 16.0 * GIB);
    ck_assert_double_eq(c.hbm_Bps, 450e9);
    /* the quoted bf16 peak agrees with MXUs x 128^2 MACs x 2 x clock within 0.2 % [REFERENCE 5.1] */
    double derived = c.mxus_per_core * (double)c.mxu_dim * c.mxu_dim * 2.0 * c.clock_Hz;
    ck_assert_double_eq_tol(derived / c.bf16_flops, 1.0, 2e-3);
    ck_assert(c.fp32_matmul_passes > 1.0);
    ck_assert(c.fp32_vec_flops > 0.0 && c.fp32_vec_flops < c.bf16_flops);
}
END_TEST

/* ---- matmul ---- */
START_TEST(test_matmul_128_cycles)
{
    cost_chip c;
    cost_chip_tpuv3(&c);
    /* 128 rows / 8 per block = 16 blocks, one (K,N) tile, over 2 MXUs, 8 cycles each */
    ck_assert_double_eq(cost_matmul_cycles(&c, 1, 128, 128, 128, COST_BF16), 64.0);
    /* with the operands' HBM time out of the way the time is exactly those cycles (+ the 1 us overhead) */
    c.hbm_Bps = 1e30;
    ck_assert_double_eq(cost_matmul_s(&c, 128, 128, 128, COST_BF16),
                        64.0 / c.clock_Hz / COST_MXU_EFFICIENCY + c.op_overhead_s);
    /* on the real TPUv3 numbers a lone 128^3 matmul is HBM-bound: 42.7 FLOP/B < 137 FLOP/B ridge */
    cost_chip_tpuv3(&c);
    double bytes = 3.0 * 128 * 128 * COST_BF16_BYTES;
    assert_rel(cost_matmul_s(&c, 128, 128, 128, COST_BF16), bytes / c.hbm_Bps + c.op_overhead_s, REL);
}
END_TEST

START_TEST(test_matmul_padding_2080)
{
    cost_chip c;
    cost_chip_tpuv3(&c);
    double want = 4096.0 / 8 * 17 * 17 / 2 * 8;   /* 2080 -> 17 tiles of 128 = 2176 */
    ck_assert_double_eq(cost_matmul_cycles(&c, 1, 4096, 2080, 2080, COST_BF16), want);
    ck_assert_double_eq(cost_matmul_cycles(&c, 1, 4096, 2176, 2176, COST_BF16), want);
    ck_assert_double_eq(cost_matmul_cycles(&c, 1, 4096, 2048, 2048, COST_BF16), 4096.0 / 8 * 16 * 16 / 2 * 8);
    /* MXU-bound, so the time is the padded one too */
    ck_assert_double_eq(cost_matmul_s(&c, 4096, 2080, 2080, COST_BF16), cost_matmul_s(&c, 4096, 2176, 2176, COST_BF16));
    /* M pads only to the 8-row feed */
    ck_assert_double_eq(cost_matmul_cycles(&c, 1, 2049, 128, 128, COST_BF16),
                        cost_matmul_cycles(&c, 1, 2056, 128, 128, COST_BF16));
    ck_assert(cost_matmul_cycles(&c, 1, 2049, 128, 128, COST_BF16) < cost_matmul_cycles(&c, 1, 2176, 128, 128, COST_BF16));
}
END_TEST

static const struct { double M, K, N; } SKINNY[] = {
    { 8, 8192, 8192 }, { 1, 2080, 6144 }, { 3.5, 768, 3072 }, { 8, 1024, 32128 },
};

START_TEST(test_matmul_skinny_hbm)
{
    cost_chip c;
    cost_chip_tpuv3(&c);
    double M = SKINNY[_i].M, K = SKINNY[_i].K, N = SKINNY[_i].N;
    double bytes = (M * K + K * N + M * N) * COST_BF16_BYTES;
    assert_rel(cost_matmul_s(&c, M, K, N, COST_BF16), bytes / c.hbm_Bps + c.op_overhead_s, REL);
    /* and follows bandwidth: doubling it halves the time less the overhead */
    cost_chip c2 = c;
    c2.hbm_Bps *= 2.0;
    assert_rel(cost_matmul_s(&c2, M, K, N, COST_BF16) - c.op_overhead_s,
               0.5 * (cost_matmul_s(&c, M, K, N, COST_BF16) - c.op_overhead_s), REL);
}
END_TEST

START_TEST(test_matmul_double_mxus)
{
    cost_chip c, c2;
    cost_chip_tpuv3(&c);
    c2 = c;
    c2.mxus_per_core = 4;
    double ov = c.op_overhead_s;
    /* MXU-bound: halves */
    assert_rel(cost_matmul_s(&c2, 4096, 4096, 4096, COST_BF16) - ov,
               0.5 * (cost_matmul_s(&c, 4096, 4096, 4096, COST_BF16) - ov), REL);
    assert_rel(cost_matmul_s(&c2, 8192, 1024, 8192, COST_BF16) - ov,
               0.5 * (cost_matmul_s(&c, 8192, 1024, 8192, COST_BF16) - ov), REL);
    /* HBM-bound: unchanged */
    ck_assert_double_eq(cost_matmul_s(&c2, 8, 8192, 8192, COST_BF16), cost_matmul_s(&c, 8, 8192, 8192, COST_BF16));
}
END_TEST

START_TEST(test_matmul_fp32_factor)
{
    cost_chip c;
    cost_chip_tpuv3(&c);
    double ov = c.op_overhead_s;
    /* MXU-bound in both precisions: exactly fp32_matmul_passes times */
    assert_rel(cost_matmul_s(&c, 4096, 4096, 4096, COST_FP32) - ov,
               c.fp32_matmul_passes * (cost_matmul_s(&c, 4096, 4096, 4096, COST_BF16) - ov), REL);
    ck_assert_double_eq(cost_matmul_cycles(&c, 1, 4096, 768, 128, COST_FP32),
                        c.fp32_matmul_passes * cost_matmul_cycles(&c, 1, 4096, 768, 128, COST_BF16));
    /* the router shape (tokens, D) @ (D, E): fp32 costs more, by at most the pass factor */
    double b = cost_matmul_s(&c, 32768, 768, 128, COST_BF16), f = cost_matmul_s(&c, 32768, 768, 128, COST_FP32);
    ck_assert(f > b);
    ck_assert(f - ov <= c.fp32_matmul_passes * (b - ov) * (1 + REL));
}
END_TEST

START_TEST(test_matmul_batch_and_empty)
{
    cost_chip c;
    cost_chip_tpuv3(&c);
    ck_assert_double_eq(cost_matmul_cycles(&c, 4, 128, 128, 128, COST_BF16), 256.0);
    ck_assert_double_eq(cost_matmul_cycles(&c, 3, 8, 128, 128, COST_BF16), 16.0);   /* 3 blocks over 2 MXUs: 2 rounds */
    ck_assert_double_eq(cost_matmul_s(&c, 0, 128, 128, COST_BF16), 0.0);
    ck_assert_double_eq(cost_matmul_s(&c, 128, 0, 128, COST_BF16), 0.0);
    ck_assert_double_eq(cost_bmatmul_s(&c, 0, 128, 128, 128, COST_BF16), 0.0);
    assert_rel(cost_bmatmul_s(&c, 5, 8, 4096, 4096, COST_BF16),
               5.0 * (8.0 * 4096 * 2 + 4096.0 * 4096) * COST_BF16_BYTES / c.hbm_Bps + c.op_overhead_s, REL);
}
END_TEST

START_TEST(test_vector)
{
    cost_chip c;
    cost_chip_tpuv3(&c);
    ck_assert_double_eq(cost_vector_s(&c, 0, 0), 0.0);
    assert_rel(cost_vector_s(&c, 1e9, 1e6), 1e9 / c.fp32_vec_flops + c.op_overhead_s, REL);   /* compute-bound */
    assert_rel(cost_vector_s(&c, 1e6, 1e9), 1e9 / c.hbm_Bps + c.op_overhead_s, REL);          /* HBM-bound */
    assert_rel(cost_optimizer_s(&c, 2.385e8),
               2.385e8 * COST_ADAFACTOR_BYTES_PER_PARAM / c.hbm_Bps + c.op_overhead_s, REL);
}
END_TEST

/* ---- attention ---- */
static const struct { double tokens; int seq, kv_seq, mp; } ATTN[] = {
    { 3 * 512, 512, 512, 1 },     /* encoder self-attention */
    { 7 * 114, 114, 114, 1 },     /* decoder self-attention */
    { 7 * 114, 114, 512, 1 },     /* cross-attention: keys are the 512 encoder tokens */
    { 5 * 512, 512, 512, 4 },     /* heads split 4 ways */
};

START_TEST(test_attention_flops)
{
    cost_chip c;
    cost_chip_tpuv3(&c);
    model_cfg m = fixture_switch_base();
    double T = ATTN[_i].tokens, seq = ATTN[_i].seq, kv = ATTN[_i].kv_seq, mp = ATTN[_i].mp;
    double nseq = T / seq, hl = m.heads / mp, hd = hl * m.d_kv, Tkv = nseq * kv;
    /* Q and O on the queries, K and V on the keys, QK^T and PV per head */
    double want = 2 * 2.0 * T * m.d_model * hd + 2 * 2.0 * Tkv * m.d_model * hd + 2 * 2.0 * nseq * hl * seq * kv * m.d_kv;
    cost_work f, b;
    cost_work_init(&f);
    cost_work_init(&b);
    cost_attention_work(&f, &c, &m, T, ATTN[_i].seq, ATTN[_i].kv_seq, ATTN[_i].mp, 0);
    cost_attention_work(&b, &c, &m, T, ATTN[_i].seq, ATTN[_i].kv_seq, ATTN[_i].mp, 1);
    assert_rel(f.mm_flops, want, REL);
    assert_rel(b.mm_flops, 2.0 * want, REL);
    ck_assert_double_eq(f.ops, 7.0);    /* 6 matmuls + softmax */
    ck_assert_double_eq(b.ops, 13.0);   /* 12 gradient matmuls + softmax backward */
    ck_assert_double_eq(f.vec_flops, 5.0 * nseq * hl * seq * kv);
    ck_assert_double_eq(cost_attention_s(&c, &m, T, ATTN[_i].seq, ATTN[_i].kv_seq, ATTN[_i].mp, 0), f.t_s);
    ck_assert(b.t_s > 1.5 * f.t_s && b.t_s < 2.5 * f.t_s);
    /* never faster than the useful FLOPs at peak */
    ck_assert(f.t_s > f.mm_flops / c.bf16_flops);
}
END_TEST

START_TEST(test_attention_dkv_padding)
{
    cost_chip c;
    cost_chip_tpuv3(&c);
    model_cfg m64 = fixture_switch_base(), m128 = fixture_switch_base();
    m128.d_kv = 128;
    m128.heads = 6;   /* same heads * d_kv = 384 */
    cost_work a, b;
    cost_work_init(&a);
    cost_work_init(&b);
    cost_attention_work(&a, &c, &m64, 4096, 512, 512, 1, 0);
    cost_attention_work(&b, &c, &m128, 4096, 512, 512, 1, 0);
    /* same matmul FLOPs, but d_kv = 64 pads to 128 in QK^T (K) and PV (N): the 64-wide heads cost more */
    assert_rel(a.mm_flops, b.mm_flops, REL);
    ck_assert(a.t_s > b.t_s);
}
END_TEST

/* ---- FFN ---- */
START_TEST(test_ffn_flops)
{
    cost_chip c;
    cost_chip_tpuv3(&c);
    model_cfg m = fixture_switch_base();
    double T = 2.385e4;
    for (int geglu = 0; geglu <= 1; geglu++) {
        m.act = geglu ? MODEL_ACT_GEGLU : MODEL_ACT_RELU;
        for (int mp = 1; mp <= 4; mp *= 2) {
            double Fl = (double)m.d_ff / mp;
            double want = (geglu ? 3.0 : 2.0) * 2.0 * T * m.d_model * Fl;
            cost_work f, b;
            cost_work_init(&f);
            cost_work_init(&b);
            cost_dense_ffn_work(&f, &c, &m, T, mp, 0);
            cost_dense_ffn_work(&b, &c, &m, T, mp, 1);
            assert_rel(f.mm_flops, want, REL);
            assert_rel(b.mm_flops, 2.0 * want, REL);
            ck_assert_double_eq(f.ops, geglu ? 4.0 : 3.0);
            ck_assert_double_eq(b.ops, geglu ? 7.0 : 5.0);
        }
    }
}
END_TEST

START_TEST(test_expert_ffn)
{
    cost_chip c;
    cost_chip_tpuv3(&c);
    model_cfg m = fixture_switch_base();
    double rows[3] = { 1024, 517, 0 };
    cost_work w;
    cost_work_init(&w);
    cost_expert_ffn_work(&w, &c, &m, rows, 3, 1, 0);
    assert_rel(w.mm_flops, 2.0 * 2.0 * (1024 + 517) * m.d_model * m.d_ff, REL);
    ck_assert_double_eq(w.ops, 3.0);   /* one batched op per matmul, the relu, not one per expert */
    /* one expert with all rows costs what a dense FFN of those tokens costs */
    double one = 1541;
    ck_assert_double_eq(cost_expert_ffn_s(&c, &m, &one, 1, 1, 1), cost_dense_ffn_s(&c, &m, 1541, 1, 1));
    /* an expert with no tokens costs nothing */
    double none[2] = { 0, 0 };
    ck_assert_double_eq(cost_expert_ffn_s(&c, &m, none, 2, 1, 0), 0.0);
    ck_assert_double_eq(cost_expert_ffn_s(&c, &m, NULL, 0, 1, 0), 0.0);
}
END_TEST

/* ---- router, dispatch, embeddings, vocab, layer norm ---- */
START_TEST(test_router)
{
    cost_chip c;
    cost_chip_tpuv3(&c);
    model_cfg m = fixture_switch_base();
    double T = 8192;
    cost_work f, b;
    cost_work_init(&f);
    cost_work_init(&b);
    cost_router_work(&f, &c, &m, T, 128, 1, 0);
    cost_router_work(&b, &c, &m, T, 128, 1, 1);
    assert_rel(f.mm_flops, 2.0 * T * m.d_model * 128, REL);
    assert_rel(b.mm_flops, 2.0 * 2.0 * T * m.d_model * 128, REL);
    /* the fp32 logits matmul is part of it, and top-2 costs more than top-1 */
    ck_assert(f.t_s > cost_matmul_s(&c, T, m.d_model, 128, COST_FP32));
    ck_assert(cost_router_s(&c, &m, T, 128, 2, 0) > f.t_s);
    ck_assert(cost_router_s(&c, &m, T, 2048, 1, 0) > f.t_s);
}
END_TEST

START_TEST(test_dispatch)
{
    cost_chip c;
    cost_chip_tpuv3(&c);
    model_cfg m = fixture_switch_base();
    int S = 4096, E = 128, C = 40;
    double G = 3;
    cost_work w;
    cost_work_init(&w);
    cost_dispatch_work(&w, &c, &m, COST_DISPATCH_EINSUM, G, S, E, C, 0);
    assert_rel(w.mm_flops, G * 2.0 * S * E * C * m.d_model, REL);   /* [REFERENCE 7] */
    /* with C = cf*S/E the einsum grows with S^2: twice the group, four times the FLOPs */
    cost_work w2;
    cost_work_init(&w2);
    cost_dispatch_work(&w2, &c, &m, COST_DISPATCH_EINSUM, G / 2, 2 * S, E, 2 * C, 0);
    assert_rel(w2.mm_flops, 2.0 * w.mm_flops, REL);
    /* gather: memory-bound copy of the E*C rows (read + write) */
    double elems = G * E * C * m.d_model;
    assert_rel(cost_dispatch_s(&c, &m, COST_DISPATCH_GATHER, G, S, E, C, 0),
               2.0 * COST_BF16_BYTES * elems / c.hbm_Bps + c.op_overhead_s, REL);
    ck_assert(cost_dispatch_s(&c, &m, COST_DISPATCH_GATHER, G, S, E, C, 0)
              < cost_dispatch_s(&c, &m, COST_DISPATCH_EINSUM, G, S, E, C, 0));
    ck_assert(cost_dispatch_s(&c, &m, COST_DISPATCH_EINSUM, G, S, E, C, 1)
              > cost_dispatch_s(&c, &m, COST_DISPATCH_EINSUM, G, S, E, C, 0));
    ck_assert_double_eq(cost_dispatch_s(&c, &m, COST_DISPATCH_EINSUM, 0, S, E, C, 0), 0.0);
}
END_TEST

START_TEST(test_embed_vocab_norm)
{
    cost_chip c;
    cost_chip_tpuv3(&c);
    model_cfg m = fixture_switch_base();
    double T = 7296;
    double elems = T * m.d_model;
    assert_rel(cost_embed_s(&c, &m, T, 0), 2.0 * COST_BF16_BYTES * elems / c.hbm_Bps + c.op_overhead_s, REL);
    ck_assert(cost_embed_s(&c, &m, T, 1) > cost_embed_s(&c, &m, T, 0));
    cost_work f, b;
    cost_work_init(&f);
    cost_work_init(&b);
    cost_vocab_loss_work(&f, &c, &m, T, 2, 0);
    cost_vocab_loss_work(&b, &c, &m, T, 2, 1);
    assert_rel(f.mm_flops, 2.0 * T * m.d_model * m.vocab / 2.0, REL);
    assert_rel(b.mm_flops, 2.0 * f.mm_flops, REL);
    /* layer norm + residual are memory-bound on TPUv3: 2 + 3 bf16 passes over (T, D) */
    assert_rel(cost_layernorm_residual_s(&c, &m, T, 0),
               5.0 * COST_BF16_BYTES * elems / c.hbm_Bps + 2.0 * c.op_overhead_s, REL);
}
END_TEST

/* ---- memory ---- */
START_TEST(test_memory_overflow_message)
{
    cost_chip c;
    cost_chip_tpuv3(&c);
    c.hbm_bytes = 8.0 * GIB;
    model_cfg m = fixture_switch_base();
    m.d_model = 2;   /* optimizer state = 4 B * (1 + 2/2) per parameter: 12 B per parameter in all */
    cost_memory out = { -1, -1, -1, -1 };
    errbuf err = { "" };
    ck_assert_int_eq(cost_memory_check(&out, &c, &m, GIB, 0, 1, 0, &err), -1);
    ck_assert_str_eq(err.msg, "plan needs 12.00 GiB per core, HBM has 8.00 GiB (4.00 GiB over)");
    ck_assert_double_eq(out.total_B, -1);   /* untouched on failure */
    c.hbm_bytes = 12.0 * GIB;
    ck_assert_int_eq(cost_memory_check(&out, &c, &m, GIB, 0, 1, 0, &err), 0);
    ck_assert_double_eq(out.params_B, 4.0 * GIB);
    ck_assert_double_eq(out.optimizer_B, 8.0 * GIB);
    ck_assert_double_eq(out.activations_B, 0.0);
    ck_assert_double_eq(out.total_B, 12.0 * GIB);
}
END_TEST

static const struct { double params, tokens; int mp, enc_seq; const char *msg; } BAD_MEM[] = {
    { 1e6, 4096, 0, 512, "cost_memory_check: model_par must be an integer >= 1, got 0" },
    { 1e6, -1, 1, 512, "cost_memory_check: tokens and params_local must be >= 0, got -1 and 1e+06" },
    { -5, 4096, 1, 512, "cost_memory_check: tokens and params_local must be >= 0, got 4096 and -5" },
    { 1e6, 4096, 1, 0, "cost_memory_check: model 'switch-base' enc_seq must be > 0, got 0" },
};

START_TEST(test_memory_bad)
{
    cost_chip c;
    cost_chip_tpuv3(&c);
    model_cfg m = fixture_switch_base();
    m.enc_seq = BAD_MEM[_i].enc_seq;
    cost_memory out = { -1, -1, -1, -1 };
    errbuf err = { "" };
    ck_assert_int_eq(cost_memory_check(&out, &c, &m, BAD_MEM[_i].params, BAD_MEM[_i].tokens, BAD_MEM[_i].mp, 0, &err),
                     -1);
    ck_assert_str_eq(err.msg, BAD_MEM[_i].msg);
    ck_assert_double_eq(out.params_B, -1);
}
END_TEST

START_TEST(test_memory_activations)
{
    cost_chip c;
    cost_chip_tpuv3(&c);
    model_cfg m = fixture_switch_base();
    /* one dense encoder layer, no decoder: attention + FFN + the kept encoder output, by hand */
    m.enc_layers = 1;
    m.dec_layers = 0;
    m.dec_seq = 0;
    m.expert_every = 0;
    m.experts = 1;
    double T = 3 * 512, D = m.d_model, hd = m.heads * m.d_kv;
    double want = 2.0 * (T * (2 * D + 2 * hd + m.heads * 512.0) + T * 2 * hd)   /* attention */
                  + 2.0 * T * (2 * D + 2.0 * m.d_ff)                             /* relu FFN */
                  + 2.0 * T * D;                                                 /* encoder output */
    cost_memory out;
    errbuf err = { "" };
    ck_assert_int_eq(cost_memory_check(&out, &c, &m, 0, T, 1, 0, &err), 0);
    assert_rel(out.activations_B, want, REL);
    /* Switch-Base on 32 cores (2^20 tokens / 32): remat keeps less, and the parts add up */
    m = fixture_switch_base();
    cost_memory full, remat;
    ck_assert_int_eq(cost_memory_check(&remat, &c, &m, 7.4e9 / 32, 32768, 1, 1, &err), 0);
    c.hbm_bytes = 1e15;
    ck_assert_int_eq(cost_memory_check(&full, &c, &m, 7.4e9 / 32, 32768, 1, 0, &err), 0);
    ck_assert(remat.activations_B < full.activations_B);
    ck_assert_double_eq(remat.params_B, full.params_B);
    assert_rel(full.total_B, full.params_B + full.optimizer_B + full.activations_B, REL);
    /* model parallelism shrinks the activations */
    cost_memory mp4;
    ck_assert_int_eq(cost_memory_check(&mp4, &c, &m, 7.4e9 / 32, 32768, 4, 0, &err), 0);
    ck_assert(mp4.activations_B < full.activations_B);
}
END_TEST

/* ---- validate ---- */
START_TEST(test_validate)
{
    vreport r;
    vreport_init(&r);
    errbuf err = { "" };
    ck_assert_int_eq(cost_validate(&r, &err), 0);
    ck_assert_int_eq(r.n, 9);
    ck_assert_int_eq(vreport_failed(&r), 0);
    vreport_fini(&r);
}
END_TEST

static Suite *cost_suite(void)
{
    Suite *s = suite_create("cost");
    TCase *tc = tcase_create("chip");
    tcase_add_test(tc, test_tpuv3_numbers);
    suite_add_tcase(s, tc);

    tc = tcase_create("matmul");
    tcase_add_test(tc, test_matmul_128_cycles);
    tcase_add_test(tc, test_matmul_padding_2080);
    tcase_add_loop_test(tc, test_matmul_skinny_hbm, 0, (int)(sizeof SKINNY / sizeof SKINNY[0]));
    tcase_add_test(tc, test_matmul_double_mxus);
    tcase_add_test(tc, test_matmul_fp32_factor);
    tcase_add_test(tc, test_matmul_batch_and_empty);
    tcase_add_test(tc, test_vector);
    suite_add_tcase(s, tc);

    tc = tcase_create("sublayers");
    tcase_add_loop_test(tc, test_attention_flops, 0, (int)(sizeof ATTN / sizeof ATTN[0]));
    tcase_add_test(tc, test_attention_dkv_padding);
    tcase_add_test(tc, test_ffn_flops);
    tcase_add_test(tc, test_expert_ffn);
    tcase_add_test(tc, test_router);
    tcase_add_test(tc, test_dispatch);
    tcase_add_test(tc, test_embed_vocab_norm);
    suite_add_tcase(s, tc);

    tc = tcase_create("memory");
    tcase_add_test(tc, test_memory_overflow_message);
    tcase_add_loop_test(tc, test_memory_bad, 0, (int)(sizeof BAD_MEM / sizeof BAD_MEM[0]));
    tcase_add_test(tc, test_memory_activations);
    suite_add_tcase(s, tc);

    tc = tcase_create("validate");
    tcase_add_test(tc, test_validate);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cost_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
