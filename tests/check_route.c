/* Check suite for sim/route: routing specs, determinism, capacity invariants, synthetic distributions,
 * sampled router, and replay of a dumped trace. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/route.h"

/* A tiny model whose router runs on every token: 8 cores, 2 groups of 32 (enc) / 8 (dec) tokens, 8 experts. */
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

static plan tiny_plan(const model_cfg *m, int k, double cf)
{
    plan p;
    errbuf err = { "" };
    ck_assert_msg(plan_layout(&p, m, 8, 2, 0, 1, k, cf, SWITCH_CAP_FLOOR, &err) == 0, "%s", err.msg);
    return p;
}

static route_ctx *ctx_for(const char *spec_text, const model_cfg *m, const plan *p, int dump)
{
    route_spec spec;
    errbuf err = { "" };
    ck_assert_msg(route_parse(&spec, spec_text, &err) == 0, "%s", err.msg);
    route_ctx *r = route_ctx_alloc(&spec, m, p, 42, 0.0, 0.0, dump, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    return r;
}

static const struct { const char *spec, *msg; } BAD_SPEC[] = {
    { "random", "--routing must be router, uniform, zipf:S, hot:FRAC or trace:FILE, got 'random'" },
    { "zipf:-1", "--routing zipf:S needs an exponent S >= 0, got '-1'" },
    { "zipf:", "--routing zipf:S needs an exponent S >= 0, got ''" },
    { "hot:0", "--routing hot:FRAC needs a fraction in (0,1], got '0'" },
    { "hot:1.5", "--routing hot:FRAC needs a fraction in (0,1], got '1.5'" },
    { "trace:", "--routing must be router, uniform, zipf:S, hot:FRAC or trace:FILE, got 'trace:'" },
};

START_TEST(test_parse_bad)
{
    route_spec spec;
    errbuf err = { "" };
    ck_assert_int_eq(route_parse(&spec, BAD_SPEC[_i].spec, &err), -1);
    ck_assert_str_eq(err.msg, BAD_SPEC[_i].msg);
}
END_TEST

START_TEST(test_parse_good)
{
    route_spec spec;
    errbuf err = { "" };
    ck_assert_int_eq(route_parse(&spec, "zipf:1.2", &err), 0);
    ck_assert_int_eq(spec.kind, ROUTE_ZIPF);
    ck_assert_double_eq_tol(spec.param, 1.2, 1e-12);
    ck_assert_int_eq(route_parse(&spec, "trace:traces/balanced.csv", &err), 0);
    ck_assert_int_eq(spec.kind, ROUTE_TRACE);
    ck_assert_str_eq(spec.path, "traces/balanced.csv");
}
END_TEST

/* Exact router: kept + dropped = S*k and kept <= C in every group; same answer in any order. */
START_TEST(test_exact_invariants_and_order)
{
    model_cfg m = tiny_cfg();
    int k = 1 + _i;
    plan p = tiny_plan(&m, k, 1.0);
    route_ctx *r = ctx_for("router", &m, &p, 0);
    ck_assert_ptr_nonnull(strstr(route_describe(r), "every token"));
    int kept[8], again[8];
    double lb;
    errbuf err = { "" };
    int first_dropped = route_group(r, 3, 5, 1, 1, kept, &lb, &err);
    ck_assert_int_ge(first_dropped, 0);
    long total_dropped = 0;
    for (int l = 0; l < 4; l++)
        for (int s = 0; s < p.data; s++)
            for (int g = 0; g < p.groups; g++) {
                int S = l < 2 ? p.group_enc : p.group_dec;
                int C = l < 2 ? p.capacity_enc : p.capacity_dec;
                int d = route_group(r, l, s, g, 1, again, &lb, &err);
                ck_assert_int_ge(d, 0);
                int sum = 0;
                for (int e = 0; e < 8; e++) {
                    ck_assert_int_le(again[e], C);
                    sum += again[e];
                }
                ck_assert_int_eq(sum + d, S * k);
                ck_assert(lb > 0.0);
                total_dropped += d;
            }
    ck_assert_int_gt(total_dropped, 0);   /* cf 1 with random routing must drop some tokens */
    ck_assert_int_eq(route_group(r, 3, 5, 1, 1, again, &lb, &err), first_dropped);
    ck_assert_int_eq(memcmp(kept, again, sizeof kept), 0);
    /* every group also ran dispatch, expert FFN and combine, with dropped tokens passing through */
    double mean_abs = 0.0;
    ck_assert_int_eq(route_numerics(r, &mean_abs), 2 + 4L * p.data * p.groups);
    ck_assert(mean_abs > 0.0);
    route_ctx_free(r);
}
END_TEST

/* One hot expert takes every token: it keeps C, the rest drop; alpha*E*f*P = 0.01*8*1*1. */
START_TEST(test_hot_all)
{
    model_cfg m = tiny_cfg();
    plan p = tiny_plan(&m, 1, 1.0);
    route_ctx *r = ctx_for("hot:1", &m, &p, 0);
    int kept[8];
    double lb;
    errbuf err = { "" };
    int d = route_group(r, 0, 0, 0, 1, kept, &lb, &err);
    ck_assert_int_eq(d, p.group_enc - p.capacity_enc);
    int nonzero = 0;
    for (int e = 0; e < 8; e++)
        if (kept[e]) {
            nonzero++;
            ck_assert_int_eq(kept[e], p.capacity_enc);
        }
    ck_assert_int_eq(nonzero, 1);
    ck_assert_double_eq_tol(lb, 0.08, 1e-12);
    route_ctx_free(r);
}
END_TEST

/* Top-2 with one hot expert: first choices fill the hot expert to C, second choices go elsewhere and never
 * take the slots of first choices. */
START_TEST(test_hot_top2)
{
    model_cfg m = tiny_cfg();
    plan p = tiny_plan(&m, 2, 1.0);
    route_ctx *r = ctx_for("hot:1", &m, &p, 0);
    int kept[8];
    double lb;
    errbuf err = { "" };
    int S = p.group_enc, C = p.capacity_enc;
    int d = route_group(r, 0, 0, 0, 1, kept, &lb, &err);
    ck_assert_int_eq(d, 2 * (S - C));
    int full = 0;
    for (int e = 0; e < 8; e++)
        full += kept[e] == C;
    ck_assert_int_eq(full, 2);
    route_ctx_free(r);
}
END_TEST

/* Capacity as large as the group: nothing drops. */
START_TEST(test_no_drops_at_full_capacity)
{
    model_cfg m = tiny_cfg();
    plan p = tiny_plan(&m, 2, 8.0);   /* C = cf x S / E = S */
    ck_assert_int_eq(p.capacity_enc, p.group_enc);
    route_ctx *r = ctx_for("uniform", &m, &p, 0);
    int kept[8];
    double lb;
    errbuf err = { "" };
    for (int g = 0; g < p.groups; g++)
        ck_assert_int_eq(route_group(r, 1, 2, g, 1, kept, &lb, &err), 0);
    route_ctx_free(r);
}
END_TEST

/* A model too large to route every token: the router runs on a sample and says so. */
START_TEST(test_sampled_router)
{
    model_cfg m = tiny_cfg();
    m.d_model = 256;
    m.experts = 64;
    m.tokens_per_batch = 1L << 20;
    m.enc_seq = 512;
    m.dec_seq = 128;
    m.group_size = 4096;
    plan p;
    errbuf err = { "" };
    ck_assert_msg(plan_layout(&p, &m, 64, 2, 0, 1, 1, 1.25, SWITCH_CAP_FLOOR, &err) == 0, "%s", err.msg);
    route_ctx *r = ctx_for("router", &m, &p, 0);
    ck_assert_ptr_nonnull(strstr(route_describe(r), "sampled"));
    ck_assert_int_eq(route_numerics(r, NULL), 0);   /* sampled routing has no per-token hidden states */
    int *kept = malloc(64 * sizeof *kept);
    double lb;
    int d = route_group(r, 0, 7, 0, 1, kept, &lb, &err);
    ck_assert_int_ge(d, 0);
    long sum = 0;
    for (int e = 0; e < 64; e++)
        sum += kept[e];
    ck_assert_int_eq(sum + d, p.group_enc);
    ck_assert(lb > 0.005 && lb < 0.05);   /* near alpha = 0.01 for a near-uniform router at init */
    free(kept);
    route_ctx_free(r);
}
END_TEST

/* Mesh TF's random second-expert policy wired into top-2 router routing: kept + dropped choices lie between S
 * (every first choice stays) and 2 S, the group's invariants hold (a discarded second choice is neither kept nor
 * dropped), and the total is never above the policy-off one (exactly 2 S).  (At the
 * router's near-uniform init the renormalised second gate is near 1/2, over the 0.2 threshold, so few go; the
 * policy's probability itself is checked in check_switch.) */
START_TEST(test_second_policy)
{
    model_cfg m = tiny_cfg();
    m.top_k = 2;
    plan p = tiny_plan(&m, 2, 1.0);
    route_spec spec;
    errbuf err = { "" };
    ck_assert_int_eq(route_parse(&spec, "router", &err), 0);
    route_ctx *on = route_ctx_alloc(&spec, &m, &p, 42, 0.0, 0.2, 0, &err), *off = ctx_for("router", &m, &p, 0);
    ck_assert_msg(on != NULL, "%s", err.msg);
    int kept[8];
    double lb;
    long sum_on = 0, sum_off = 0, groups = 0;
    for (int l = 0; l < 4; l++)
        for (int s = 0; s < p.data; s++)
            for (int g = 0; g < p.groups; g++) {
                int S = l < model_sparse_layers_enc(&m) ? p.group_enc : p.group_dec;
                int d_on = route_group(on, l, s, g, 0, kept, &lb, &err);
                ck_assert_msg(d_on >= 0, "%s", err.msg);
                long k_on = d_on;
                for (int e = 0; e < 8; e++)
                    k_on += kept[e];
                ck_assert(k_on >= S && k_on <= 2L * S);   /* kept + dropped: every first choice, some seconds */
                int d_off = route_group(off, l, s, g, 0, kept, &lb, &err);
                ck_assert_msg(d_off >= 0, "%s", err.msg);
                long k_off = d_off;
                for (int e = 0; e < 8; e++)
                    k_off += kept[e];
                ck_assert_int_eq(k_off, 2L * S);
                sum_on += k_on;
                sum_off += k_off;
                groups++;
            }
    ck_assert(sum_on <= sum_off);
    ck_assert(groups > 0);
    route_ctx_free(on);
    route_ctx_free(off);
}
END_TEST

/* A dumped routing replays to the same kept counts and drops. */
START_TEST(test_dump_replay)
{
    model_cfg m = tiny_cfg();
    plan p = tiny_plan(&m, 2, 1.0);
    route_ctx *r = ctx_for("zipf:1.1", &m, &p, 1);
    int kept[4][8], again[8];
    int drops[4];
    double lb;
    errbuf err = { "" };
    for (int l = 0; l < 4; l++)
        for (int s = 0; s < p.data; s++)
            for (int g = 0; g < p.groups; g++) {
                int d = route_group(r, l, s, g, 1, again, &lb, &err);
                if (s == 3 && g == 1) {
                    memcpy(kept[l], again, sizeof again);
                    drops[l] = d;
                }
            }
    char path[] = "/tmp/check_route_dumpXXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_msg(route_dump_csv(NULL, r, path, &err) == 0, "%s", err.msg);
    route_ctx_free(r);
    char spec[128];
    snprintf(spec, sizeof spec, "trace:%s", path);
    r = ctx_for(spec, &m, &p, 0);
    for (int l = 0; l < 4; l++) {
        ck_assert_int_eq(route_group(r, l, 3, 1, 1, again, &lb, &err), drops[l]);
        ck_assert_int_eq(memcmp(kept[l], again, sizeof again), 0);
    }
    route_ctx_free(r);
    unlink(path);
}
END_TEST

/* A trace for another top-k does not match the run. */
START_TEST(test_trace_mismatch)
{
    model_cfg m = tiny_cfg();
    plan p1 = tiny_plan(&m, 1, 1.0);
    route_ctx *r = ctx_for("uniform", &m, &p1, 1);
    int kept[8];
    double lb;
    errbuf err = { "" };
    for (int l = 0; l < 4; l++)
        for (int s = 0; s < p1.data; s++)
            for (int g = 0; g < p1.groups; g++)
                route_group(r, l, s, g, 1, kept, &lb, &err);
    char path[] = "/tmp/check_route_mmXXXXXX";
    int fd = mkstemp(path);
    close(fd);
    ck_assert(route_dump_csv(NULL, r, path, &err) == 0);
    route_ctx_free(r);
    plan p2 = tiny_plan(&m, 2, 1.0);
    route_spec spec;
    char text[128];
    snprintf(text, sizeof text, "trace:%s", path);
    ck_assert(route_parse(&spec, text, &err) == 0);
    ck_assert_ptr_null(route_ctx_alloc(&spec, &m, &p2, 42, 0.0, 0.0, 0, &err));
    char want[512];
    snprintf(want, sizeof want, "%s: layer 0 group 0 routes 32 first and 0 second choices; this run has 32 tokens "
             "per group and top_k 2", path);
    ck_assert_str_eq(err.msg, want);
    unlink(path);
}
END_TEST

/* Top-k above 2 through every path: exact router (softmax and sigmoid scores), sampled router, synthetic, and a
 * k = 4 dump that replays to the same counts; kept + dropped = S x k in every group, each expert within C. */
static void check_groups(route_ctx *r, const plan *p, int k, int layers, int enc_layers)
{
    int kept[64];
    double lb;
    errbuf err = { "" };
    for (int l = 0; l < layers; l++)
        for (int s = 0; s < p->data; s += 3)
            for (int g = 0; g < p->groups; g++) {
                int S = l < enc_layers ? p->group_enc : p->group_dec;
                int C = l < enc_layers ? p->capacity_enc : p->capacity_dec;
                int d = route_group(r, l, s, g, 1, kept, &lb, &err);
                ck_assert_msg(d >= 0, "%s", err.msg);
                long sum = d;
                for (int e = 0; e < p->experts; e++) {
                    ck_assert_int_le(kept[e], C);
                    sum += kept[e];
                }
                ck_assert_int_eq(sum, (long)S * k);
            }
}

START_TEST(test_topk_above_2)
{
    model_cfg m = tiny_cfg();
    for (int k = 3; k <= 8; k += 5) {
        plan p = tiny_plan(&m, k, 2.0);
        route_ctx *r = ctx_for("router", &m, &p, 0);
        check_groups(r, &p, k, 4, 2);
        route_ctx_free(r);
        r = ctx_for("zipf:1.2", &m, &p, 0);
        check_groups(r, &p, k, 4, 2);
        route_ctx_free(r);
    }
    m.score = MODEL_SCORE_SIGMOID;              /* DeepSeek-V3's router: sigmoid scores, renormalised top-k */
    m.renorm = MODEL_RENORM_YES;
    plan p = tiny_plan(&m, 3, 1.0);
    route_ctx *r = ctx_for("router", &m, &p, 0);
    check_groups(r, &p, 3, 4, 2);
    double mean_abs = 0.0;
    ck_assert(route_numerics(r, &mean_abs) > 0 && mean_abs > 0.0);
    route_ctx_free(r);

    model_cfg dm = tiny_cfg();                   /* decoder-only: 512 tokens, 64 per core in 2 groups of 32 */
    dm.arch = MODEL_ARCH_DEC_ONLY;
    dm.enc_layers = 0;
    dm.enc_seq = 0;
    p = tiny_plan(&dm, 4, 1.0);
    ck_assert_int_eq(p.tokens_enc, 0);
    ck_assert_int_eq(p.tokens_dec, 64);
    ck_assert_int_eq(p.groups, 2);
    ck_assert_int_eq(p.group_dec, 32);
    ck_assert_int_eq(p.capacity_dec, 4);        /* floor(1.0 x 32 / 8) */
    ck_assert_int_eq(p.sequences, 32);
    r = ctx_for("router", &dm, &p, 0);
    check_groups(r, &p, 4, 2, 0);
    route_ctx_free(r);

    errbuf perr = { "" };                       /* more choices than experts */
    ck_assert_int_eq(plan_layout(&p, &m, 8, 2, 0, 1, 9, 1.0, SWITCH_CAP_FLOOR, &perr), -1);
    ck_assert_str_eq(perr.msg, "--top-k 9 is more than the 8 experts of tiny");

    model_cfg big = tiny_cfg();                 /* sampled router with top-6 of 64 experts */
    big.d_model = 256;
    big.experts = 64;
    big.tokens_per_batch = 1L << 20;
    big.enc_seq = 512;
    big.dec_seq = 128;
    big.group_size = 4096;
    errbuf err = { "" };
    ck_assert_msg(plan_layout(&p, &big, 64, 2, 0, 1, 6, 1.25, SWITCH_CAP_FLOOR, &err) == 0, "%s", err.msg);
    r = ctx_for("router", &big, &p, 0);
    ck_assert_ptr_nonnull(strstr(route_describe(r), "sampled"));
    int kept[64];
    double lb;
    int d = route_group(r, 1, 7, 0, 0, kept, &lb, &err);
    ck_assert_msg(d >= 0, "%s", err.msg);
    long sum = d;
    for (int e = 0; e < 64; e++)
        sum += kept[e];
    ck_assert_int_eq(sum, 6L * p.group_enc);
    route_ctx_free(r);
}
END_TEST

/* A top-4 dump has 4 choice columns and replays to the same counts; a top-2 run refuses it. */
START_TEST(test_dump_replay_top4)
{
    model_cfg m = tiny_cfg();
    plan p = tiny_plan(&m, 4, 1.5);
    route_ctx *r = ctx_for("zipf:0.8", &m, &p, 1);
    int kept[4][8], again[8], drops[4];
    double lb;
    errbuf err = { "" };
    for (int l = 0; l < 4; l++)
        for (int s = 0; s < p.data; s++)
            for (int g = 0; g < p.groups; g++) {
                int d = route_group(r, l, s, g, 1, again, &lb, &err);
                if (s == 5 && g == 0) {
                    memcpy(kept[l], again, sizeof again);
                    drops[l] = d;
                }
            }
    char path[] = "/tmp/check_route_dump4XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_msg(route_dump_csv(NULL, r, path, &err) == 0, "%s", err.msg);
    route_ctx_free(r);
    char spec[128];
    snprintf(spec, sizeof spec, "trace:%s", path);
    r = ctx_for(spec, &m, &p, 0);
    for (int l = 0; l < 4; l++) {
        ck_assert_int_eq(route_group(r, l, 5, 0, 1, again, &lb, &err), drops[l]);
        ck_assert_int_eq(memcmp(kept[l], again, sizeof again), 0);
    }
    route_ctx_free(r);
    plan p2 = tiny_plan(&m, 2, 1.5);
    route_spec rs;
    ck_assert(route_parse(&rs, spec, &err) == 0);
    ck_assert_ptr_null(route_ctx_alloc(&rs, &m, &p2, 42, 0.0, 0.0, 0, &err));
    char want[512];
    snprintf(want, sizeof want, "%s: the trace has 4 choice columns (tokens_first ..), this run's top_k 2 needs 2",
             path);
    ck_assert_str_eq(err.msg, want);
    unlink(path);
}
END_TEST

/* Expert choice: every expert keeps C = 4 of a group's 32 tokens (cf 1, 8 experts); the exact router says how
 * many tokens no expert took (between 0 and 32 - 4, since at least C distinct tokens are taken); no balancing
 * loss.  A distribution has no per-token scores: the count is unknown, said by route_expert_choice_unknown. */
START_TEST(test_expert_choice)
{
    model_cfg m = tiny_cfg();
    plan p = tiny_plan(&m, 1, 1.0);
    ck_assert_int_eq(p.capacity_enc, 4);
    route_ctx *r = ctx_for("router", &m, &p, 0);
    route_set_expert_choice(r);
    int kept[8];
    double lb = -1.0;
    errbuf err = { "" };
    int left = route_group(r, 0, 0, 0, 1, kept, &lb, &err);
    for (int e = 0; e < 8; e++)
        ck_assert_int_eq(kept[e], 4);
    ck_assert_int_ge(left, 0);
    ck_assert_int_le(left, 28);
    ck_assert_double_eq(lb, 0.0);
    ck_assert_int_eq(route_expert_choice_unknown(r), 0);
    ck_assert_int_eq(route_group(r, 0, 0, 0, 1, kept, &lb, &err), left);   /* the same draws */
    route_ctx_free(r);
    r = ctx_for("uniform", &m, &p, 0);
    route_set_expert_choice(r);
    ck_assert_int_eq(route_group(r, 0, 0, 0, 1, kept, &lb, &err), 0);
    ck_assert_int_eq(route_expert_choice_unknown(r), 1);
    route_ctx_free(r);
}
END_TEST

/* Above 2^27 token choices, drawn routing takes each group's counts of each rank as one multinomial: 2^25 tokens
 * on 8 cores in groups of 4096, top-2, 4 Switch layers: (4M x 2 + 1M x 2) x 8 x 2 = 160M choices.  Each rank's
 * counts sum to the group, capacity holds, the draws repeat, and the description says so. */
START_TEST(test_multinomial)
{
    model_cfg m = tiny_cfg();
    m.tokens_per_batch = 1L << 25;
    m.group_size = 4096;
    plan p = tiny_plan(&m, 2, 1.0);
    route_ctx *r = ctx_for("zipf:1.1", &m, &p, 0);
    ck_assert_msg(strstr(route_describe(r), "multinomial") != NULL, "%s", route_describe(r));
    int kept[8], again[8];
    double lb;
    errbuf err = { "" };
    int d = route_group(r, 1, 3, 5, 0, kept, &lb, &err);
    ck_assert_msg(d >= 0, "%s", err.msg);
    long sum = d;
    for (int e = 0; e < 8; e++) {
        ck_assert_int_le(kept[e], p.capacity_enc);
        sum += kept[e];
    }
    ck_assert_int_eq(sum, 2L * 4096);
    ck_assert_int_eq(route_group(r, 1, 3, 5, 0, again, &lb, &err), d);
    ck_assert_mem_eq(kept, again, sizeof kept);
    route_ctx_free(r);
    m = tiny_cfg();   /* the tiny run stays below: per-token draws */
    p = tiny_plan(&m, 2, 1.0);
    r = ctx_for("zipf:1.1", &m, &p, 0);
    ck_assert(strstr(route_describe(r), "multinomial") == NULL);
    route_ctx_free(r);
}
END_TEST

static Suite *route_suite(void)
{
    Suite *s = suite_create("route");
    TCase *tc = tcase_create("parse");
    tcase_add_loop_test(tc, test_parse_bad, 0, (int)(sizeof BAD_SPEC / sizeof BAD_SPEC[0]));
    tcase_add_test(tc, test_parse_good);
    suite_add_tcase(s, tc);
    tc = tcase_create("group");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_exact_invariants_and_order, 0, 4);   /* k = 1..4 */
    tcase_add_test(tc, test_hot_all);
    tcase_add_test(tc, test_hot_top2);
    tcase_add_test(tc, test_no_drops_at_full_capacity);
    tcase_add_test(tc, test_sampled_router);
    tcase_add_test(tc, test_second_policy);
    tcase_add_test(tc, test_dump_replay);
    tcase_add_test(tc, test_trace_mismatch);
    tcase_add_test(tc, test_topk_above_2);
    tcase_add_test(tc, test_dump_replay_top4);
    tcase_add_test(tc, test_expert_choice);
    tcase_add_test(tc, test_multinomial);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(route_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
