/* Check suite for sim/traffic: the padded matrices in closed form, exact dispatch's matrices, combine transposes,
 * expert rows and per-layer accounting from a real routing of a tiny model on 8 cores (4 chips of 2). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sim/traffic.h"

/* 8 cores of 2 per chip, 8 experts (one per core), d_model 32 (64 bytes a bf16 row), 2 groups per shard of 32
 * (encoder) and 8 (decoder) tokens, capacity factor 1: C = 4 and 1. */
static model_cfg tiny_cfg(void)
{
    model_cfg m;
    memset(&m, 0, sizeof m);
    strcpy(m.name, "tiny");
    m.d_model = 32;
    m.d_ff = 64;
    m.heads = 2;
    m.d_kv = 16;
    m.enc_layers = 2;
    m.dec_layers = 2;
    m.expert_every = 1;
    m.experts = 8;
    m.vocab = 100;
    m.enc_seq = 64;
    m.dec_seq = 16;
    m.tokens_per_batch = 512;
    m.capacity_factor = 1.0;
    m.group_size = 32;
    m.min_capacity = 1;
    m.top_k = 1;
    return m;
}

static const int SPARSE[4] = { 0, 1, 2, 3 };

static plan tiny_plan(const model_cfg *m)
{
    plan p;
    errbuf err = { "" };
    ck_assert_msg(plan_layout(&p, m, 8, 2, 0, 1, 1, 1.0, SWITCH_CAP_FLOOR, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(p.capacity_enc, 4);
    ck_assert_int_eq(p.capacity_dec, 1);
    ck_assert_int_eq(p.groups, 2);
    return p;
}

static route_ctx *ctx_for(const char *spec_text, const model_cfg *m, const plan *p)
{
    route_spec spec;
    errbuf err = { "" };
    ck_assert_msg(route_parse(&spec, spec_text, &err) == 0, "%s", err.msg);
    route_ctx *r = route_ctx_alloc(&spec, m, p, 42, 0.0, 0.0, 0, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    return r;
}

/* Padded: a chip pair carries 2 source cores x 2 destination experts x groups 2 x C x 64 B, whatever the routing:
 * 2048 B (encoder, C 4) and 512 B (decoder, C 1); symmetric, so each is its own combine matrix.  Each core sends
 * to 7 experts on other cores: 7 x 2 x 4 x 64 = 3584 B per encoder all-to-all, twice per pass (dispatch and
 * combine); an expert computes 8 shards x 2 groups x C rows. */
START_TEST(test_padded)
{
    model_cfg m = tiny_cfg();
    plan p = tiny_plan(&m);
    traffic *t = traffic_alloc(&p, &m, SPARSE, 4, 4, 2, 1);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->nmat, 2);
    for (int i = 0; i < 16; i++) {
        ck_assert_double_eq(t->m1[i], 2048.0);
        ck_assert_double_eq(t->m1[16 + i], 512.0);
    }
    ck_assert_int_eq(t->m2_is_m1[0], 1);
    ck_assert_int_eq(t->m2_is_m1[1], 1);
    ck_assert_int_eq(traffic_mat(t, 3, 0), 1);
    ck_assert_int_eq(t->remote_experts[5], 7);
    route_ctx *r = ctx_for("uniform", &m, &p);
    errbuf err = { "" };
    ck_assert_msg(traffic_route(t, r, &err) == 0, "%s", err.msg);
    ck_assert_double_eq(t->lbytes[0], 8 * 2 * 3584.0);
    ck_assert_double_eq(t->lbytes[3], 8 * 2 * 7 * 2 * 1 * 64.0);
    ck_assert_int_eq(t->lchoices[0], 8 * 2 * 32);
    ck_assert_int_eq(t->lchoices[2], 8 * 2 * 8);
    ck_assert_int_eq(t->llb_n[1], 16);
    double rows[1];
    traffic_expert_rows(t, rows, 6, 0, 1);
    ck_assert_double_eq(rows[0], 8 * 2 * 4);
    traffic_expert_rows(t, rows, 6, 2, 0);
    ck_assert_double_eq(rows[0], 8 * 2 * 1);
    route_ctx_free(r);
    traffic_free(t);
}
END_TEST

/* Exact: every layer's matrix carries its kept tokens (choices - drops) x 64 B, the combine is its transpose, the
 * experts' rows add up to the kept tokens, and bytes to other cores are at most the matrix total. */
START_TEST(test_exact)
{
    model_cfg m = tiny_cfg();
    plan p = tiny_plan(&m);
    traffic *t = traffic_alloc(&p, &m, SPARSE, 4, 4, 2, 0);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->nmat, 4);
    route_ctx *r = ctx_for("zipf:1.2", &m, &p);
    errbuf err = { "" };
    ck_assert_msg(traffic_route(t, r, &err) == 0, "%s", err.msg);
    for (int l = 0; l < 4; l++) {
        const double *m1 = t->m1 + 16 * traffic_mat(t, l, l < 2), *m2 = t->m2 + 16 * traffic_mat(t, l, l < 2);
        double total = 0.0, rows_total = 0.0;
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
                total += m1[4 * i + j];
                ck_assert_double_eq(m2[4 * j + i], m1[4 * i + j]);
            }
        long kept = t->lchoices[l] - t->ldropped[l];
        ck_assert_int_gt(t->ldropped[l], 0);               /* Zipf at capacity factor 1 drops */
        ck_assert_double_eq(total, 64.0 * (double)kept);
        for (int core = 0; core < 8; core++) {
            double rows[1];
            traffic_expert_rows(t, rows, core, l, l < 2);
            rows_total += rows[0];
        }
        ck_assert_double_eq(rows_total, (double)kept);
        ck_assert_double_le(t->lbytes[l] / 2.0, total);
    }
    ck_assert_int_eq(t->kept_sent, (t->lchoices[0] - t->ldropped[0]) + (t->lchoices[1] - t->ldropped[1]) +
                                       (t->lchoices[2] - t->ldropped[2]) + (t->lchoices[3] - t->ldropped[3]));
    route_ctx_free(r);
    traffic_free(t);
}
END_TEST

/* Expert groups (8 cores of 1 per chip, expert=4): shards 0-3 and 4-7 each hold the 8 experts, 2 a core.
 * Padded: a core sends groups 2 x C 4 x 64 B = 512 B to each expert of its group, 2 experts a peer: 1024 B to
 * each of its 3 group peers (and 1024 B it keeps), nothing to the other group; 6 of its destination experts are
 * on other cores; an expert computes its 4 group shards' 2 x 4 rows.  Exact: every byte stays within a group,
 * and the rows each group's experts compute are its shards' kept choices. */
START_TEST(test_expert_groups)
{
    model_cfg m = tiny_cfg();
    plan p;
    errbuf err = { "" };
    ck_assert_msg(plan_layout_ways(&p, &m, 8, 1, 8, 1, 4, 1, 1.0, SWITCH_CAP_FLOOR, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(p.nchips, 8);
    ck_assert_int_eq(p.experts_per_core, 2);
    ck_assert_int_eq(p.capacity_enc, 4);
    traffic *t = traffic_alloc(&p, &m, SPARSE, 4, 4, 2, 1);
    ck_assert_ptr_nonnull(t);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++)
            ck_assert_double_eq(t->m1[8 * i + j], i / 4 == j / 4 ? 1024.0 : 0.0);
    ck_assert_int_eq(t->m2_is_m1[0], 1);
    ck_assert_int_eq(t->remote_experts[5], 6);
    double rows[2];
    traffic_expert_rows(t, rows, 6, 0, 1);
    ck_assert_double_eq(rows[0], 4 * 2 * 4);
    ck_assert_double_eq(rows[1], 4 * 2 * 4);
    traffic_free(t);

    t = traffic_alloc(&p, &m, SPARSE, 4, 4, 2, 0);
    ck_assert_ptr_nonnull(t);
    route_ctx *r = ctx_for("zipf:1.2", &m, &p);
    ck_assert_msg(traffic_route(t, r, &err) == 0, "%s", err.msg);
    for (int l = 0; l < 4; l++) {
        const double *m1 = t->m1 + 64 * traffic_mat(t, l, l < 2);
        double group_rows[2] = { 0.0, 0.0 }, group_sent[2] = { 0.0, 0.0 };
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++) {
                if (i / 4 != j / 4)
                    ck_assert_double_eq(m1[8 * i + j], 0.0);
                group_sent[i / 4] += m1[8 * i + j] / 64.0;
            }
        for (int core = 0; core < 8; core++) {
            traffic_expert_rows(t, rows, core, l, l < 2);
            group_rows[core / 4] += rows[0] + rows[1];
        }
        ck_assert_double_eq(group_rows[0], group_sent[0]);
        ck_assert_double_eq(group_rows[1], group_sent[1]);
        ck_assert_double_eq(group_rows[0] + group_rows[1], (double)(t->lchoices[l] - t->ldropped[l]));
    }
    route_ctx_free(r);
    traffic_free(t);
}
END_TEST

/* Padded dispatch under multinomial routing (tiny at top-8 with 8M tokens: 168M token choices, above 2^27): the
 * bytes are the buffers', so only one shard in stats_stride is routed (131072 encoder groups a layer: one shard in
 * 128, 1024 groups), yet every core's bytes count; the choices and losses are those of the routed groups. */
START_TEST(test_padded_stats_sample)
{
    model_cfg m = tiny_cfg();
    m.top_k = 8;
    m.tokens_per_batch = 8388608;
    plan p;
    errbuf err = { "" };
    ck_assert_msg(plan_layout(&p, &m, 8, 2, 0, 1, 8, 1.0, SWITCH_CAP_FLOOR, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(p.groups, 32768);
    traffic *t = traffic_alloc(&p, &m, SPARSE, 4, 4, 2, 1);
    ck_assert_ptr_nonnull(t);
    route_ctx *r = ctx_for("uniform", &m, &p);
    ck_assert(route_multinomial(r));
    ck_assert_msg(traffic_route(t, r, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(t->stats_stride, 8 * 32768 / TRAFFIC_PADDED_STATS_GROUPS);
    int routed = (8 + t->stats_stride - 1) / t->stats_stride;   /* shards 0, 128, ...: shard 0 alone */
    for (int l = 0; l < 4; l++) {
        int enc = l < 2, C = enc ? p.capacity_enc : p.capacity_dec, S = enc ? p.group_enc : p.group_dec;
        ck_assert_double_eq(t->lbytes[l], 8 * 2.0 * 7 * p.groups * C * 64.0);
        ck_assert_int_eq(t->lchoices[l], (long)routed * p.groups * S * 8);
        ck_assert_int_eq(t->llb_n[l], (long)routed * p.groups);
        ck_assert(t->ldropped[l] > 0 && t->ldropped[l] < t->lchoices[l]);
    }
    route_ctx_free(r);
    traffic_free(t);
}
END_TEST

/* The busiest expert: rows 1 per (core, expert) pair everywhere but one pair at 5 over 8 pairs: mean 12/8 = 1.5,
 * max 5: 5 / 1.5; padded buffers are equal: 1; a layer that received nothing: 0. */
START_TEST(test_max_load)
{
    model_cfg m = tiny_cfg();
    plan p = tiny_plan(&m);
    traffic *t = traffic_alloc(&p, &m, SPARSE, 4, 4, 2, 0);
    ck_assert_ptr_nonnull(t);
    size_t n = (size_t)p.cores * p.experts_per_core;
    ck_assert_uint_eq(n, 8);
    ck_assert_double_eq(traffic_max_load(t, 1), 0.0);
    for (size_t i = 0; i < n; i++)
        t->recv[n + i] = i == 3 ? 5.0 : 1.0;
    ck_assert_double_eq_tol(traffic_max_load(t, 1), 5.0 / 1.5, 1e-15);
    traffic_free(t);
    t = traffic_alloc(&p, &m, SPARSE, 4, 4, 2, 1);
    ck_assert_double_eq(traffic_max_load(t, 0), 1.0);
    traffic_free(t);
}
END_TEST

static Suite *traffic_suite(void)
{
    Suite *s = suite_create("traffic");
    TCase *tc = tcase_create("route");
    tcase_add_test(tc, test_padded);
    tcase_add_test(tc, test_exact);
    tcase_add_test(tc, test_max_load);
    tcase_add_test(tc, test_padded_stats_sample);
    tcase_add_test(tc, test_expert_groups);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(traffic_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
