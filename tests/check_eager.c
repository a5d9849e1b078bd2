/* check_eager: the torch profile's kernel lists (sim/eager.c) against hand counts of the program's kernels and
 * their bytes, and its parameter count against PyTorch's own (the measured dataset's params_total column). */
#include "sim/eager.h"
#include "fidelity/torchsteps.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>

/* A tiny decoder-only SwiGLU model: D 8, 2 query heads over 1 kv head of 4, dense FFN 16, 4 experts of 4, vocab
 * 32, 2 layers. */
static model_cfg tiny(int experts, int top_k, int shared)
{
    model_cfg m = { 0 };
    snprintf(m.name, sizeof m.name, "tiny");
    m.d_model = 8;
    m.d_ff = 16;
    m.act = MODEL_ACT_SWIGLU;
    m.heads = 2;
    m.kv_heads = 1;
    m.d_kv = 4;
    m.dec_layers = 2;
    m.expert_every = experts > 1 ? 1 : 0;
    m.experts = experts;
    m.top_k = top_k;
    m.d_ff_expert = experts > 1 ? 4 : 0;
    m.shared_experts = shared;
    m.vocab = 32;
    m.dec_seq = 4;
    m.tokens_per_batch = 4;
    m.arch = MODEL_ARCH_DEC_ONLY;
    m.untied = 1;
    m.impl = MODEL_IMPL_TORCH;
    return m;
}

/* Each kernel's time is then its bytes (1 B/s) plus 1 s, so t_s = hbm_B + ops: the counts are visible. */
static void unit_chip(cost_chip *c)
{
    cost_chip_h100(c);
    c->hbm_Bps = 1.0;
    c->hbm_efficiency = 1.0;
    c->op_overhead_s = 1.0;
    c->fp32_vec_flops = 1e30;
}

/* The FFN sublayer's norm and residual on T 4 tokens of D 8 (32 fp32 elements):
 * forward: pow 32x(4+4), mean 32x4, + eps 4x8, rsqrt 4x8, x r 32x8, x w 32x8, residual fp32 + bf16 32x(4+2+4):
 *   256 + 128 + 32 + 32 + 256 + 256 + 320 = 1280 B in 7 kernels;
 * backward: the gradient cast to bf16 32x6 = 192; the norm's 11 kernels g w 32x8, g (x r) 32x12, sum 32x4, g r
 *   32x8, g x 32x12, sum 32x4, rsqrt' 4x12, mean' 32x8, pow' 32x8 and 32x12, sum 32x12 = 2864; the residual's
 *   gradients summed 32x12 = 384: 3440 B in 13 kernels. */
START_TEST(test_norm_residual)
{
    cost_chip c;
    unit_chip(&c);
    model_cfg m = tiny(1, 1, 0);
    cost_work w;
    cost_work_init(&w);
    eager_norm_residual_work(&w, &c, &m, 4.0, 0);
    ck_assert_double_eq(w.hbm_B, 1280.0);
    ck_assert_double_eq(w.ops, 7.0);
    ck_assert_double_eq(w.t_s, 1287.0);
    cost_work_init(&w);
    eager_norm_residual_work(&w, &c, &m, 4.0, 1);
    ck_assert_double_eq(w.hbm_B, 3440.0);
    ck_assert_double_eq(w.ops, 13.0);
}
END_TEST

/* The dropless experts of one layer, rows {3, 0, 5, 0} (8 choices), D 8, Fe 4: forward w1 and w3 are 2 x 8 x 8 x 4
 * FLOPs each, w2 2 x 8 x 4 x 8: 1536 matmul FLOPs; backward twice that.  Kernels forward: 3 weight casts, 3
 * grouped GEMMs, silu and the product: 8; backward: 3 casts, 3 x 2 grouped GEMMs, 3 activation gradients, the
 * sum of xs's two gradients: 13.  The casts move 4 x 4 x 8 = 128 weights each at 6 B. */
START_TEST(test_moe_dropless_experts)
{
    cost_chip c;
    unit_chip(&c);
    model_cfg m = tiny(4, 2, 0);
    double rows[4] = { 3, 0, 5, 0 };
    eager_moe em;
    eager_moe_work(&em, &c, &m, EAGER_DROPLESS, 4.0, 4, 2, rows, 4, 8.0, 4, 0);
    ck_assert_double_eq(em.expert.mm_flops, 1536.0);
    ck_assert_double_eq(em.expert.ops, 8.0);
    ck_assert_double_eq(em.shared.ops, 0.0);
    eager_moe_work(&em, &c, &m, EAGER_DROPLESS, 4.0, 4, 2, rows, 4, 8.0, 4, 1);
    ck_assert_double_eq(em.expert.mm_flops, 3072.0);
    ck_assert_double_eq(em.expert.ops, 13.0);
    /* the router: fp32 logits (4, 8) @ (8, 4) forward, two gradient matmuls backward */
    eager_moe_work(&em, &c, &m, EAGER_DROPLESS, 4.0, 4, 2, rows, 4, 8.0, 4, 0);
    ck_assert_double_eq(em.router.mm_flops, 2.0 * 4 * 8 * 4);
    /* matmul, softmax, top-k, gate sum and divide, bincount's max, its host sync, the histogram, counts to
     * float and scaled, probs.mean, f P, its sum, two scalar products: 15 */
    ck_assert_double_eq(em.router.ops, 15.0);
}
END_TEST

/* Padded and expert choice run batched matmuls over E x C rows whatever the routing: E 4, C 3 rows each,
 * forward 3 matmuls of 2 x 12 x 8 x 4 = 768 FLOPs = 2304; expert choice's router has no aux loss and no
 * bincount: matmul, softmax, two select passes and the values written: 5 kernels. */
START_TEST(test_moe_buffers)
{
    cost_chip c;
    unit_chip(&c);
    model_cfg m = tiny(4, 1, 0);
    double rows[4] = { 3, 3, 3, 3 };
    eager_moe em;
    eager_moe_work(&em, &c, &m, EAGER_EXPERT_CHOICE, 4.0, 4, 1, rows, 4, 12.0, 3, 0);
    ck_assert_double_eq(em.expert.mm_flops, 2304.0);
    ck_assert_double_eq(em.router.ops, 5.0);
    eager_moe_work(&em, &c, &m, EAGER_PADDED, 4.0, 4, 1, rows, 4, 4.0, 3, 0);
    ck_assert_double_eq(em.expert.mm_flops, 2304.0);
    /* padded's index arithmetic: the transpose copy, the sort, bincount (2 kernels and a host sync), 2 offsets,
     * 8 position and slot kernels, 2 for the token list, the gate copy, 3 selections of 2 kernels and a sync
     * each; then the dispatch itself: the buffer zeroed, the gather, its cast, index_copy */
    ck_assert_double_eq(em.dispatch.ops, 1 + EAGER_SORT_KERNELS + 3 + 2 + 8 + 2 + 1 + 9 + 4);
    /* the gathered rows: kept 4 of 4 tokens, D 8: x[tok] 32 x 8 B, its cast 32 x 6 B, index_copy 32 x 4 B */
    eager_moe em2;
    eager_moe_work(&em2, &c, &m, EAGER_PADDED, 4.0, 4, 1, rows, 4, 2.0, 3, 0);
    ck_assert_double_eq(em.dispatch.hbm_B - em2.dispatch.hbm_B, 2.0 * 8 * (8.0 + 6.0 + 4.0));
}
END_TEST

/* Shared experts: one SwiGLU of 2 x 4 = 8 wide on every token: forward 2 x 4 x 8 x 8 x 3 = 1536 FLOPs. */
START_TEST(test_shared)
{
    cost_chip c;
    unit_chip(&c);
    model_cfg m = tiny(4, 2, 2);
    double rows[4] = { 2, 2, 2, 2 };
    eager_moe em;
    eager_moe_work(&em, &c, &m, EAGER_DROPLESS, 4.0, 4, 2, rows, 4, 8.0, 4, 0);
    ck_assert_double_eq(em.shared.mm_flops, 1536.0);
}
END_TEST

/* The head and loss on 4 tokens, vocab 32: the bf16 logits (4, 8) @ (8, 32); logits.float() reads 2 B and
 * writes 4 B of each of the 128 logits, log_softmax reads 8 B and writes 4 B. */
START_TEST(test_head_loss)
{
    cost_chip c;
    unit_chip(&c);
    model_cfg m = tiny(1, 1, 0);
    cost_work w, norm;
    cost_work_init(&w);
    cost_work_init(&norm);
    eager_head_loss_work(&w, &c, &m, 4.0, 0);
    eager_norm_residual_work(&norm, &c, &m, 4.0, 0);
    ck_assert_double_eq(w.mm_flops, 2.0 * 4 * 8 * 32);
    /* the norm's 6 kernels are the sublayer's first 6 (1280 - 320 B); then cast 32 x 6, matmul, float 128 x 6,
     * log_softmax 128 x 12, nll 4 x 16 */
    double matmul_B = (4.0 * 8 + 8.0 * 32 + 4.0 * 32) * 2.0;
    ck_assert_double_eq(w.hbm_B, 960.0 + 192.0 + matmul_B + 768.0 + 1536.0 + 64.0);
    ck_assert_double_eq(w.ops, 11.0);
}
END_TEST

/* Sorting is EAGER_SORT_KERNELS passes: the dropless dispatch's forward is the argsort, order // k, the gather,
 * the cast and the two offset kernels. */
START_TEST(test_dropless_dispatch_kernels)
{
    cost_chip c;
    unit_chip(&c);
    model_cfg m = tiny(4, 2, 0);
    double rows[4] = { 2, 2, 2, 2 };
    eager_moe em;
    eager_moe_work(&em, &c, &m, EAGER_DROPLESS, 4.0, 4, 2, rows, 4, 8.0, 4, 0);
    ck_assert_double_eq(em.dispatch.ops, EAGER_SORT_KERNELS + 5.0);
}
END_TEST

/* The parameters the fused AdamW updates equal the model's count (models/model.c), and the count PyTorch made
 * of each measured configuration (params_total, analysis/measure/moe_step.py count_params). */
START_TEST(test_params_match_torch)
{
    model_cfg m = tiny(4, 2, 1);
    eager_params p;
    eager_params_count(&p, &m, 4);
    ck_assert_double_eq(p.params, model_params_total(&m));
    /* tensors: per layer 2 norms, qkv, o, router, w1 w3 w2, shared w1 w3 w2: 11; embedding, final norm, head */
    ck_assert_double_eq(p.tensors, 2 * 11 + 3);
    errbuf err = { "" };
    torchsteps_set *s = torchsteps_load("data/h100-moe-steps.csv", &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    for (int i = 0; i < s->n; i++) {
        eager_params_count(&p, &s->rows[i].model, s->rows[i].model.experts);
        ck_assert_msg(p.params == s->rows[i].params_total, "%s: %.0f parameters, PyTorch counted %.0f",
                      s->rows[i].model.name, p.params, s->rows[i].params_total);
    }
    torchsteps_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("eager");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_norm_residual);
    tcase_add_test(tc, test_moe_dropless_experts);
    tcase_add_test(tc, test_moe_buffers);
    tcase_add_test(tc, test_shared);
    tcase_add_test(tc, test_head_loss);
    tcase_add_test(tc, test_dropless_dispatch_kernels);
    tcase_add_test(tc, test_params_match_torch);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
