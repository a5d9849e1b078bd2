/* Check suite for sim/plan: plan parsing, layout arithmetic (groups, capacity, expert placement), the memory check,
 * rejections. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sim/plan.h"
#include "tests/fixtures.h"


START_TEST(test_parse)
{
    plan_ways w;
    errbuf err = { "" };
    ck_assert_int_eq(plan_parse(&w, "data=32,model=1", &err), 0);
    ck_assert_int_eq(w.data, 32);
    ck_assert_int_eq(w.model, 1);
    ck_assert_int_eq(w.pipe, 1);
    ck_assert_int_eq(w.micro, 0);
    ck_assert_int_eq(w.expert, 0);
    ck_assert_int_eq(plan_parse(&w, "model=4", &err), 0);
    ck_assert_int_eq(w.data, 0);
    ck_assert_int_eq(w.model, 4);
    ck_assert_int_eq(plan_parse(&w, "data=2,expert=2,tensor=2,pipe=4,micro=8", &err), 0);
    ck_assert_int_eq(w.data, 2);
    ck_assert_int_eq(w.expert, 2);
    ck_assert_int_eq(w.model, 2);
    ck_assert_int_eq(w.pipe, 4);
    ck_assert_int_eq(w.micro, 8);
    ck_assert_int_eq(plan_parse(&w, "pipe=2", &err), 0);
    ck_assert_int_eq(w.data, 0);
    ck_assert_int_eq(w.model, 1);
    ck_assert_int_eq(w.pipe, 2);
}
END_TEST

static const struct { const char *spec, *msg; } BAD_PLAN[] = {
    { "data=x", "--plan must be data=N,model=M with integers in [1,1000000], got 'data=x'" },
    { "data=0,model=1", "--plan must be data=N,model=M with integers in [1,1000000], got 'data=0,model=1'" },
    { "data=4,data=8", "--plan gives 'data' twice in 'data=4,data=8'" },
    { "stages=2", "--plan keys are data, model (or tensor), expert, pipe and micro, got 'stages' in 'stages=2'" },
    { "model=2,tensor=2", "--plan gives both model and tensor (one name for the same ways) in 'model=2,tensor=2'" },
    { "data=4,micro=8", "--plan micro=8 needs pipe=P (micro-batches are the pipeline's) in 'data=4,micro=8'" },
    { "pipe=0", "--plan must be data=N,model=M with integers in [1,1000000], got 'pipe=0'" },
    { "", "--plan must be data=N,model=M, got ''" },
    { "data=8,,model=1", "--plan has an empty item in 'data=8,,model=1'" },
    { "data=8,", "--plan has an empty item in 'data=8,'" },
    { ",model=2", "--plan has an empty item in ',model=2'" },
};

START_TEST(test_parse_bad)
{
    plan_ways w = { 7, 7, 7, 7, 7 };
    errbuf err = { "" };
    ck_assert_int_eq(plan_parse(&w, BAD_PLAN[_i].spec, &err), -1);
    ck_assert_str_eq(err.msg, BAD_PLAN[_i].msg);
    ck_assert_int_eq(w.data, 7);   /* outputs untouched on failure */
    ck_assert_int_eq(w.model, 7);
    ck_assert_int_eq(w.pipe, 7);
}
END_TEST

START_TEST(test_layout_switch_base)
{
    model_cfg m = fixture_switch_base();
    plan p;
    errbuf err = { "" };
    ck_assert_int_eq(plan_layout(&p, &m, 32, 2, 0, 1, 1, 1.25, SWITCH_CAP_FLOOR, &err), 0);
    ck_assert_int_eq(p.data, 32);
    ck_assert_int_eq(p.nchips, 16);
    ck_assert_int_eq(p.experts_per_core, 4);
    ck_assert_int_eq(p.cores_per_expert, 1);
    ck_assert_int_eq(p.sequences, 2048);
    ck_assert_int_eq(p.tokens_enc, 32768);
    ck_assert_int_eq(p.tokens_dec, 7296);        /* 2048 x 114 / 32 */
    ck_assert_int_eq(p.groups, 4);               /* 32768 / 8192 */
    ck_assert_int_eq(p.group_enc, 8192);
    ck_assert_int_eq(p.group_dec, 1824);
    ck_assert_int_eq(p.capacity_enc, 80);        /* floor(1.25 x 8192 / 128) */
    ck_assert_int_eq(p.capacity_dec, 17);        /* floor(1.25 x 1824 / 128) = floor(17.8) */
    ck_assert_int_eq(plan_expert_owner(&p, 5, 0), 0);
    ck_assert_int_eq(plan_expert_owner(&p, 5, 127), 31);
    ck_assert_int_eq(plan_expert_owner(&p, 5, 9), 2);
    /* round instead of floor: round(17.8) = 18 */
    ck_assert_int_eq(plan_layout(&p, &m, 32, 2, 0, 1, 1, 1.25, SWITCH_CAP_ROUND, &err), 0);
    ck_assert_int_eq(p.capacity_dec, 18);
}
END_TEST

START_TEST(test_layout_replicated_experts)
{
    model_cfg m = fixture_switch_base();
    m.experts = 8;
    plan p;
    errbuf err = { "" };
    ck_assert_int_eq(plan_layout(&p, &m, 32, 2, 32, 1, 2, 2.0, SWITCH_CAP_FLOOR, &err), 0);
    ck_assert_int_eq(p.experts_per_core, 1);
    ck_assert_int_eq(p.cores_per_expert, 4);
    ck_assert_int_eq(plan_expert_owner(&p, 9, 3), 11);   /* replica group 1 = shards 8..15 */
    ck_assert_int_eq(plan_expert_owner(&p, 31, 7), 31);
}
END_TEST

/* Expert groups smaller than the data ways (8 shards, expert=4, 8 experts): shards 0-3 and 4-7 are two groups,
 * each holding every expert once, 2 a shard (shard 4 + j holds experts 2j, 2j + 1 for group 1), so 2 replicas of
 * each; a shard's tokens go to its own group's experts only. */
START_TEST(test_layout_expert_groups)
{
    model_cfg m = fixture_switch_base();
    m.experts = 8;
    plan p;
    errbuf err = { "" };
    ck_assert_msg(plan_layout_ways(&p, &m, 8, 1, 8, 1, 4, 1, 1.25, SWITCH_CAP_FLOOR, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(p.expert_ways, 4);
    ck_assert_int_eq(p.experts_per_core, 2);
    ck_assert_int_eq(p.cores_per_expert, 2);
    ck_assert_int_eq(plan_expert_owner(&p, 2, 7), 3);    /* group 0: expert 7 on shard 3 */
    ck_assert_int_eq(plan_expert_owner(&p, 5, 3), 5);    /* group 1 = shards 4..7: expert 3 on shard 4 + 1 */
    ck_assert_int_eq(plan_expert_owner(&p, 7, 0), 4);
    ck_assert_int_eq(plan_expert_owner(&p, 0, 0), 0);
    /* left out, or min(data, experts): the layouts of before */
    plan q;
    ck_assert_int_eq(plan_layout_ways(&q, &m, 8, 1, 8, 1, 8, 1, 1.25, SWITCH_CAP_FLOOR, &err), 0);
    ck_assert_int_eq(q.expert_ways, 8);
    ck_assert_int_eq(q.experts_per_core, 1);
    ck_assert_int_eq(q.cores_per_expert, 1);
    ck_assert_int_eq(plan_layout(&q, &m, 32, 1, 32, 1, 1, 1.25, SWITCH_CAP_FLOOR, &err), 0);
    ck_assert_int_eq(q.expert_ways, 8);
    ck_assert_int_eq(q.cores_per_expert, 4);
    ck_assert_int_eq(plan_expert_owner(&q, 13, 6), 14);
    /* ZeRO-1 with expert=4 on 8 cores: the dense state over 8 replicas, each expert's over its 2 */
    cost_chip chip;
    cost_chip_tpuv3(&chip);
    chip.hbm_bytes *= 64;
    chip.cores_per_chip = 1;
    cost_memory plain, z;
    int remat = -1;
    plan_request req = { 8, 8, 1, 1, 1.25, SWITCH_CAP_FLOOR, PLAN_REMAT_OFF, 4, 0, 0, 0 };
    ck_assert_msg(plan_choose(&p, &plain, &remat, &req, &m, &chip, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(p.experts_per_core, 2);
    double dense = model_params_dense(&m), expert = model_params_expert(&m) / 8 * 2;
    req.zero = 1;
    ck_assert_msg(plan_choose(&p, &z, &remat, &req, &m, &chip, &err) == 0, "%s", err.msg);
    ck_assert_double_eq_tol(z.optimizer_B, plain.optimizer_B * (dense / 8 + expert / 2) / (dense + expert),
                            1e-9 * plain.optimizer_B);
}
END_TEST

static const struct { int data, expert, experts; const char *msg; } BAD_WAYS[] = {
    { 8, 3, 8, "plan expert=3 must divide data 8 and the 8 experts of switch-base (groups of expert= data shards "
               "each hold every expert)" },
    { 8, 16, 16, "plan expert=16 must divide data 8 and the 16 experts of switch-base (groups of expert= data shards "
                 "each hold every expert)" },
    { 8, 4, 6, "plan expert=4 must divide data 8 and the 6 experts of switch-base (groups of expert= data shards "
               "each hold every expert)" },
    { 8, 2, 1, "plan expert=2: switch-base is dense (no experts), so the expert ways are 1" },
};

START_TEST(test_layout_expert_groups_bad)
{
    model_cfg m = fixture_switch_base();
    m.experts = BAD_WAYS[_i].experts;
    if (m.experts == 1)
        m.expert_every = 0;
    plan p;
    memset(&p, 0x5a, sizeof p);
    plan before = p;
    errbuf err = { "" };
    ck_assert_int_eq(plan_layout_ways(&p, &m, 8, 1, BAD_WAYS[_i].data, 1, BAD_WAYS[_i].expert, 1, 1.25,
                                      SWITCH_CAP_FLOOR, &err), -1);
    ck_assert_str_eq(err.msg, BAD_WAYS[_i].msg);
    ck_assert_int_eq(memcmp(&p, &before, sizeof p), 0);
}
END_TEST

/* Uneven stages: 5 layers on 2 stages are layers 0-2 and 3-4; DeepSeek-V3's 61 on 16 are 4 in stages 0-12 (stage
 * 12: 48-51) and 3 in 13-15 (stage 13: 52-54, stage 15: 58-60).  The memory check is the first stage's: 3/5 of
 * the parameters, optimizer state and (per micro-batch in flight) activations, where even stages of 4 layers
 * would hold 1/2. */
START_TEST(test_stage_layers)
{
    plan p;
    memset(&p, 0, sizeof p);
    p.pipe = 2;
    int l0, l1;
    plan_stage_layers(&p, 5, 0, &l0, &l1);
    ck_assert_int_eq(l0, 0);
    ck_assert_int_eq(l1, 3);
    plan_stage_layers(&p, 5, 1, &l0, &l1);
    ck_assert_int_eq(l0, 3);
    ck_assert_int_eq(l1, 5);
    ck_assert_double_eq_tol(plan_stage_share(&p, 5), 0.6, 1e-15);
    ck_assert_double_eq(plan_stage_share(&p, 4), 0.5);
    p.pipe = 16;
    int want[][3] = { { 0, 0, 4 }, { 12, 48, 52 }, { 13, 52, 55 }, { 15, 58, 61 } };
    for (int i = 0; i < 4; i++) {
        plan_stage_layers(&p, 61, want[i][0], &l0, &l1);
        ck_assert_int_eq(l0, want[i][1]);
        ck_assert_int_eq(l1, want[i][2]);
    }

    model_cfg m = fixture_switch_base();
    m.expert_every = 0;
    m.enc_layers = 3;
    m.dec_layers = 2;
    cost_chip chip;
    cost_chip_tpuv3(&chip);
    chip.hbm_bytes *= 16;
    cost_memory plain, pipe;
    int remat = -1;
    errbuf err = { "" };
    plan_request r8 = { 8, 8, 1, 1, 1.25, SWITCH_CAP_FLOOR, PLAN_REMAT_OFF, 0, 0, 0, 0 };
    ck_assert_msg(plan_choose(&p, &plain, &remat, &r8, &m, &chip, &err) == 0, "%s", err.msg);
    plan_request rp = { 16, 8, 1, 1, 1.25, SWITCH_CAP_FLOOR, PLAN_REMAT_OFF, 0, 2, 2, 0 };
    ck_assert_msg(plan_choose(&p, &pipe, &remat, &rp, &m, &chip, &err) == 0, "%s", err.msg);
    ck_assert_double_eq_tol(pipe.params_B, plain.params_B * 3 / 5, 1e-9 * plain.params_B);
    ck_assert_double_eq_tol(pipe.optimizer_B, plain.optimizer_B * 3 / 5, 1e-9 * plain.optimizer_B);
    /* 2 micro-batches in flight of 2: the step's tokens, 3/5 of the layers */
    ck_assert_double_eq_tol(pipe.activations_B, plain.activations_B * 3 / 5, 1e-9 * plain.activations_B);
    rp.pipe = 8;                                      /* 8 stages of 2 cores, 5 layers: a stage would have none */
    rp.data = 2;
    ck_assert_int_eq(plan_choose(&p, &pipe, &remat, &rp, &m, &chip, &err), -1);
    ck_assert_str_eq(err.msg, "plan pipe=8 is more stages than the 5 layers of switch-base (a stage runs at least "
                     "one layer)");
}
END_TEST

START_TEST(test_layout_model_parallel)
{
    model_cfg m = fixture_switch_base();
    plan p;
    errbuf err = { "" };
    ck_assert_int_eq(plan_layout(&p, &m, 32, 2, 0, 2, 1, 1.25, SWITCH_CAP_FLOOR, &err), 0);
    ck_assert_int_eq(p.data, 16);
    ck_assert_int_eq(p.model_par, 2);
    ck_assert_int_eq(p.experts_per_core, 8);
    ck_assert_int_eq(p.tokens_enc, 65536);
    ck_assert_int_eq(plan_core(&p, 3, 1), 7);
    ck_assert_int_eq(plan_chip(&p, 7), 3);
}
END_TEST

static const struct { int cores, data, model; int experts; const char *msg; } BAD_LAYOUT[] = {
    { 32, 6, 1, 128, "plan data=6,model=1 needs 6 cores, the platform has 32" },
    { 32, 0, 3, 128, "plan model=3 does not divide the platform's 32 cores" },
    { 48, 16, 3, 128, "plan model=3 must divide, or be a multiple of, the 2 cores per chip (model-parallel groups are "
                      "whole chips or parts of one)" },
    { 48, 48, 1, 128, "plan data=48 must divide the 128 experts of switch-base (or be a multiple of it)" },
    { 32, 32, 1, 12, "plan data=32 must be a multiple of the 12 experts of switch-base (or divide them)" },
};

/* 8 x a prime near 2^37 tokens, one token per sequence: the group search used to count up one by one
 * from 2^31 towards the prime (minutes); it must answer at once, within Check's 4 s timeout. */
START_TEST(test_layout_prime_tokens)
{
    model_cfg m = fixture_switch_base();
    m.tokens_per_batch = 8L * 137438953447L;
    m.enc_seq = 1;
    m.dec_seq = 1;
    m.experts = 8;
    plan p;
    errbuf err = { "" };
    ck_assert_int_eq(plan_layout(&p, &m, 8, 2, 8, 1, 1, 1.25, 0, &err), -1);
    ck_assert_str_eq(err.msg, "switch-base: 137438953447 encoder and 137438953447 decoder tokens per core split "
                              "into 137438953447 equal groups, more than 1000000");
}
END_TEST

/* tokens_per_batch near LONG_MAX: sequences x dec_seq overflowed (undefined behaviour) before it was checked. */
START_TEST(test_layout_overflow)
{
    model_cfg m = fixture_switch_base();
    m.tokens_per_batch = 9223372036854775800L;
    m.enc_seq = 8;
    plan p;
    errbuf err = { "" };
    ck_assert_int_eq(plan_layout(&p, &m, 32, 2, 32, 1, 1, 1.25, 0, &err), -1);
    ck_assert_str_eq(err.msg, "switch-base: 1152921504606846975 sequences of 114 decoder tokens overflow a long");
}
END_TEST

START_TEST(test_layout_bad)
{
    model_cfg m = fixture_switch_base();
    m.experts = BAD_LAYOUT[_i].experts;
    plan p;
    memset(&p, 0x5a, sizeof p);
    plan before = p;
    errbuf err = { "" };
    ck_assert_int_eq(plan_layout(&p, &m, BAD_LAYOUT[_i].cores, 2, BAD_LAYOUT[_i].data, BAD_LAYOUT[_i].model, 1,
                                 1.25, SWITCH_CAP_FLOOR, &err), -1);
    ck_assert_str_eq(err.msg, BAD_LAYOUT[_i].msg);
    ck_assert_int_eq(memcmp(&p, &before, sizeof p), 0);
}
END_TEST

/* The plan search: the smallest power-of-two model split that fits in HBM, rematerialisation only when the
 * activations need it, with no plan asked the shallowest pipeline that fits when nothing fits without one, and
 * when nothing fits the reason of the first split's last try (the least memory it could need: with remat where
 * the request allows it). */
START_TEST(test_choose)
{
    model_cfg m = fixture_switch_base();
    cost_chip chip;
    cost_chip_tpuv3(&chip);
    plan p;
    cost_memory mem;
    int remat = -1;
    errbuf err = { "" };
    plan_request req = { 32, 0, 0, 1, 1.25, SWITCH_CAP_FLOOR, PLAN_REMAT_AUTO, 0, 0, 0, 0 };
    ck_assert_msg(plan_choose(&p, &mem, &remat, &req, &m, &chip, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(p.model_par, 1);
    ck_assert_int_eq(p.data, 32);
    ck_assert_int_eq(remat, 1);                      /* activations do not fit without it */
    ck_assert_double_le(mem.total_B, chip.hbm_bytes);
    req.remat = PLAN_REMAT_OFF;                      /* without remat a pipeline of 2 stages fits (no plan asked) */
    ck_assert_msg(plan_choose(&p, &mem, &remat, &req, &m, &chip, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(p.pipe, 2);
    ck_assert_int_eq(p.model_par, 1);
    ck_assert_int_eq(remat, 0);
    ck_assert_double_le(mem.total_B, chip.hbm_bytes);
    req.pipe = 1;                                    /* no pipeline: nothing fits, the first reason */
    ck_assert_int_eq(plan_choose(&p, &mem, &remat, &req, &m, &chip, &err), -1);
    ck_assert_msg(strncmp(err.msg, "plan data=32,model=1 needs ", 27) == 0, "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(err.msg, "(with model=1; no power-of-two model-parallel plan fits either)"));
    req.model_par = 2;                               /* a given split: its own reason, nothing added */
    ck_assert_int_eq(plan_choose(&p, &mem, &remat, &req, &m, &chip, &err), -1);
    ck_assert_msg(strncmp(err.msg, "plan data=16,model=2 needs ", 27) == 0, "%s", err.msg);
    ck_assert_ptr_null(strstr(err.msg, "with model=1"));
    req.remat = PLAN_REMAT_AUTO;                     /* 1 GiB of HBM: not even with remat, and it says so */
    chip.hbm_bytes = 1073741824.0;
    ck_assert_int_eq(plan_choose(&p, &mem, &remat, &req, &m, &chip, &err), -1);
    ck_assert_msg(strncmp(err.msg, "plan data=16,model=2 with remat needs ", 38) == 0, "%s", err.msg);
}
END_TEST

/* A dense model (switch-base without its Switch layers: 12 + 12 layers) on 32 TPU v3 cores.  ZeRO-1 over data=32:
 * the optimizer state per core is 1/32 of the plain plan's, parameters and activations as they were.  Four stages
 * of 8 data shards, 8 micro-batches: a stage holds 1/4 of the parameters and optimizer state, and 1/4 of the
 * layers' activations for min(4, 8) = 4 micro-batches of 1/8 of the shard's tokens: 4/8/4 = 1/8 of a plain plan's
 * activations on a shard of 8 data ways (every activation term is linear in the tokens at a fixed sequence
 * length). */
START_TEST(test_choose_zero_pipe)
{
    model_cfg m = fixture_switch_base();
    m.expert_every = 0;
    cost_chip chip;
    cost_chip_tpuv3(&chip);
    plan p;
    cost_memory plain, zero, pipe, shard8;
    chip.hbm_bytes *= 16;   /* the memory is compared, not checked: the whole model on 8 cores needs 96 GiB */
    int remat = -1;
    errbuf err = { "" };
    plan_request req = { 32, 32, 1, 1, 1.25, SWITCH_CAP_FLOOR, PLAN_REMAT_OFF, 0, 0, 0, 0 };
    ck_assert_msg(plan_choose(&p, &plain, &remat, &req, &m, &chip, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(p.pipe, 1);
    ck_assert_int_eq(p.micro, 1);
    ck_assert_int_eq(p.zero, 0);
    req.zero = 1;
    ck_assert_msg(plan_choose(&p, &zero, &remat, &req, &m, &chip, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(p.zero, 1);
    ck_assert_double_eq_tol(zero.optimizer_B, plain.optimizer_B / 32, 1e-9 * plain.optimizer_B);
    ck_assert_double_eq(zero.params_B, plain.params_B);
    ck_assert_double_eq_tol(zero.activations_B, plain.activations_B, 1e-9 * plain.activations_B);
    ck_assert_double_eq_tol(zero.total_B, zero.params_B + zero.optimizer_B + zero.activations_B, 1.0);

    /* a plain plan on 8 cores: the data shard a stage of the pipeline has */
    plan_request r8 = { 8, 8, 1, 1, 1.25, SWITCH_CAP_FLOOR, PLAN_REMAT_OFF, 0, 0, 0, 0 };
    ck_assert_msg(plan_choose(&p, &shard8, &remat, &r8, &m, &chip, &err) == 0, "%s", err.msg);
    plan_request rp = { 32, 8, 1, 1, 1.25, SWITCH_CAP_FLOOR, PLAN_REMAT_OFF, 0, 4, 8, 0 };
    ck_assert_msg(plan_choose(&p, &pipe, &remat, &rp, &m, &chip, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(p.pipe, 4);
    ck_assert_int_eq(p.micro, 8);
    ck_assert_int_eq(p.cores, 32);
    ck_assert_int_eq(p.nchips, 16);
    ck_assert_int_eq(p.data, 8);
    ck_assert_double_eq_tol(pipe.params_B, shard8.params_B / 4, 1e-9 * shard8.params_B);
    ck_assert_double_eq_tol(pipe.optimizer_B, shard8.optimizer_B / 4, 1e-9 * shard8.optimizer_B);
    ck_assert_double_eq_tol(pipe.activations_B, shard8.activations_B / 8, 1e-9 * shard8.activations_B);
    rp.micro = 0;                                   /* default: 4 x pipe micro-batches */
    ck_assert_msg(plan_choose(&p, &pipe, &remat, &rp, &m, &chip, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(p.micro, 16);
}
END_TEST

/* Switch layers in a pipeline (switch-base, 128 experts, 12 + 12 layers, every other FFN a Switch layer, on 32 TPU
 * v3 cores): 4 stages of 8 data shards, 16 experts a core in each stage (expert ways min(8, 128) = 8).  A core
 * holds its stage's 1/4 of the dense parameters and of its 16 experts' parameters (each expert's layers are spread
 * over the stages like the dense ones), so parameters and optimizer state are 1/4 of a plain plan's on 8 cores,
 * and the activations 1/8 as for the dense model (4 in flight of 8 micro-batches, 1/4 of the layers). */
START_TEST(test_choose_moe_pipe)
{
    model_cfg m = fixture_switch_base();
    cost_chip chip;
    cost_chip_tpuv3(&chip);
    chip.hbm_bytes *= 16;
    plan p;
    cost_memory shard8, pipe;
    int remat = -1;
    errbuf err = { "" };
    plan_request r8 = { 8, 8, 1, 1, 1.25, SWITCH_CAP_FLOOR, PLAN_REMAT_OFF, 0, 0, 0, 0 };
    ck_assert_msg(plan_choose(&p, &shard8, &remat, &r8, &m, &chip, &err) == 0, "%s", err.msg);
    plan_request rp = { 32, 8, 1, 1, 1.25, SWITCH_CAP_FLOOR, PLAN_REMAT_OFF, 8, 4, 8, 0 };
    ck_assert_msg(plan_choose(&p, &pipe, &remat, &rp, &m, &chip, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(p.pipe, 4);
    ck_assert_int_eq(p.experts, 128);
    ck_assert_int_eq(p.experts_per_core, 16);
    ck_assert_int_eq(p.groups % p.micro, 0);
    ck_assert_double_eq_tol(pipe.params_B, shard8.params_B / 4, 1e-9 * shard8.params_B);
    ck_assert_double_eq_tol(pipe.optimizer_B, shard8.optimizer_B / 4, 1e-9 * shard8.optimizer_B);
    ck_assert_double_eq_tol(pipe.activations_B, shard8.activations_B / 8, 1e-9 * shard8.activations_B);
    rp.zero = 1;                         /* ZeRO-1: dense state over 8 replicas, each expert's over its 1 */
    cost_memory z;
    ck_assert_msg(plan_choose(&p, &z, &remat, &rp, &m, &chip, &err) == 0, "%s", err.msg);
    double dense = model_params_dense(&m) / 4, expert = model_params_expert(&m) / 128 * 16 / 4;
    ck_assert_double_eq_tol(z.optimizer_B, pipe.optimizer_B * (dense / 8 + expert) / (dense + expert),
                            1e-9 * pipe.optimizer_B);
}
END_TEST

/* --zero auto: where the plain plan is over HBM by less than the optimizer state ZeRO-1 saves, the search takes
 * ZeRO-1 before remat (it costs no step time); where the plain plan fits, it stays plain. */
START_TEST(test_choose_zero_auto)
{
    model_cfg m = fixture_switch_base();
    m.expert_every = 0;
    cost_chip chip;
    cost_chip_tpuv3(&chip);
    chip.hbm_bytes *= 16;
    plan p;
    cost_memory plain, mem;
    int remat = -1;
    errbuf err = { "" };
    plan_request req = { 32, 32, 1, 1, 1.25, SWITCH_CAP_FLOOR, PLAN_REMAT_AUTO, 0, 0, 0, -1 };
    ck_assert_msg(plan_choose(&p, &plain, &remat, &req, &m, &chip, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(p.zero, 0);
    ck_assert_int_eq(remat, 0);
    chip.hbm_bytes = plain.total_B - plain.optimizer_B / 2;   /* over by half the state; 31/32 of it is saved */
    ck_assert_msg(plan_choose(&p, &mem, &remat, &req, &m, &chip, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(p.zero, 1);
    ck_assert_int_eq(remat, 0);
    ck_assert_double_eq_tol(mem.optimizer_B, plain.optimizer_B / 32, 1e-9 * plain.optimizer_B);
    req.zero = 0;                                             /* without it: remat */
    ck_assert_msg(plan_choose(&p, &mem, &remat, &req, &m, &chip, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(p.zero, 0);
    ck_assert_int_eq(remat, 1);
}
END_TEST

/* tests/data/models_tiny.csv's tiny-switch: 2 + 2 layers, every FFN a Switch layer of 8 relu experts, 64/16 tokens
 * a sequence, 4096 tokens a batch, cf 1.25, top-1, groups of at most 256 tokens. */
static model_cfg tiny_switch(void)
{
    model_cfg m = fixture_switch_base();
    strcpy(m.name, "tiny-switch");
    m.d_model = 64;
    m.d_ff = 128;
    m.heads = 2;
    m.d_kv = 32;
    m.enc_layers = 2;
    m.dec_layers = 2;
    m.expert_every = 1;
    m.experts = 8;
    m.vocab = 1000;
    m.enc_seq = 64;
    m.dec_seq = 16;
    m.tokens_per_batch = 4096;
    m.group_size = 256;
    return m;
}

/* The activations of an encoder-decoder count each stack's tokens once: tiny-switch on 8 TPU v3 cores (data=8,
 * bf16 activations, fp32 router, remat off) holds 512 encoder and 128 decoder tokens a core (8 and 8 x 16
 * sequences' worth), by hand (sim/cost.c's terms, bytes):
 *   encoder layer, 512 tokens: self-attention 2 x (512 x (2 x 64 + 2 x 64 + 2 heads x 64 keys) + 512 x 2 x 64)
 *     = 524288; Switch layer (groups of 256: the combine tensor 1.25 x 256 entries a token) 512 x (2 x 2 x 64
 *     + 4 x 8 + 2 x 1.25 x 256 + 1.25 x 2 x (2 x 64 + 2 x 128)) = 512 x 1888 = 966656; so 1490944;
 *   decoder layer, 128 tokens: self-attention 2 x (128 x (128 + 128 + 2 x 16) + 128 x 128) = 106496,
 *     cross-attention to the 8 sequences' 512 encoder tokens 2 x (128 x (128 + 128 + 2 x 64) + 512 x 128)
 *     = 229376, Switch layer (128 tokens, less than a group) 128 x (256 + 32 + 2 x 1.25 x 128 + 960) = 200704;
 *     so 536576;
 *   kept: the encoder output 2 x 512 x 64 = 65536 and the fp32 logits 4 x 128 x 1000 = 512000.
 * 2 x 1490944 + 2 x 536576 + 577536 = 4632576 bytes.  The old count took encoder + decoder tokens (640) for the
 * encoder's and 640 x 16/64 = 160 for the decoder's: 5816320, 1.26x.  With remat: each layer's input (2 x 64 B
 * a token: 2 x 65536 + 2 x 16384) plus the largest layer (an encoder layer) and the kept tensors, 2232320.
 * Decoder-only (the same layers at 64 tokens a sequence, one causal stack of 4 layers, no encoder): 512
 * decoder tokens a core, 4 x 1490944 + 4 x 512 x 1000 = 8011776, as before the fix. */
START_TEST(test_memory_enc_dec)
{
    model_cfg m = tiny_switch();
    cost_chip chip;
    cost_chip_tpuv3(&chip);
    plan p;
    cost_memory mem;
    int remat = -1;
    errbuf err = { "" };
    plan_request req = { 8, 8, 1, 1, 1.25, SWITCH_CAP_ROUND, PLAN_REMAT_OFF, 0, 0, 0, 0 };
    ck_assert_msg(plan_choose(&p, &mem, &remat, &req, &m, &chip, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(p.tokens_enc, 512);
    ck_assert_int_eq(p.tokens_dec, 128);
    ck_assert_int_eq(remat, 0);
    ck_assert_double_eq_tol(mem.activations_B, 4632576.0, 1e-6);
    req.remat = PLAN_REMAT_ON;
    ck_assert_msg(plan_choose(&p, &mem, &remat, &req, &m, &chip, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(remat, 1);
    ck_assert_double_eq_tol(mem.activations_B, 2232320.0, 1e-6);

    m.arch = MODEL_ARCH_DEC_ONLY;
    m.enc_layers = 0;
    m.enc_seq = 0;
    m.dec_layers = 4;
    m.dec_seq = 64;
    req.remat = PLAN_REMAT_OFF;
    ck_assert_msg(plan_choose(&p, &mem, &remat, &req, &m, &chip, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(p.tokens_enc, 0);
    ck_assert_int_eq(p.tokens_dec, 512);
    ck_assert_double_eq_tol(mem.activations_B, 8011776.0, 1e-6);
}
END_TEST

/* What a pipeline refuses, with the numbers. */
START_TEST(test_choose_pipe_bad)
{
    model_cfg m = fixture_switch_base();
    cost_chip chip;
    cost_chip_tpuv3(&chip);
    chip.hbm_bytes *= 16;
    plan p;
    cost_memory mem;
    int remat = -1;
    errbuf err = { "" };
    plan_request req = { 32, 8, 1, 1, 1.25, SWITCH_CAP_FLOOR, PLAN_REMAT_OFF, 0, 4, 8, 0 };
    req.micro = 256;                     /* divides the 256 sequences, not the 16 groups, of a shard */
    ck_assert_int_eq(plan_choose(&p, &mem, &remat, &req, &m, &chip, &err), -1);
    ck_assert_str_eq(err.msg, "plan micro=256 must divide the 16 routing groups of each data shard (a micro-batch "
                     "routes whole groups)");
    req.micro = 8;
    m.expert_every = 0;
    req.pipe = 5;
    ck_assert_int_eq(plan_choose(&p, &mem, &remat, &req, &m, &chip, &err), -1);
    ck_assert_str_eq(err.msg, "plan pipe=5 does not divide the platform's 32 cores");
    req.pipe = 2;
    ck_assert_int_eq(plan_choose(&p, &mem, &remat, &req, &m, &chip, &err), -1);
    ck_assert_str_eq(err.msg, "plan data=8,model=1,pipe=2 needs 16 cores, the platform has 32");
    req.pipe = 32;
    req.data = 1;
    ck_assert_int_eq(plan_choose(&p, &mem, &remat, &req, &m, &chip, &err), -1);
    ck_assert_str_eq(err.msg, "plan pipe=32 is more stages than the 24 layers of switch-base (a stage runs at least "
                     "one layer)");
    req.pipe = 16;                       /* uneven stages now: 24 layers on 16, the first 8 stages 2 layers */
    req.data = 2;
    ck_assert_msg(plan_choose(&p, &mem, &remat, &req, &m, &chip, &err) == 0, "%s", err.msg);
    req.pipe = 4;
    req.data = 8;
    req.micro = 3;
    ck_assert_int_eq(plan_choose(&p, &mem, &remat, &req, &m, &chip, &err), -1);
    ck_assert_msg(strncmp(err.msg, "plan micro=3 must divide the ", 29) == 0, "%s", err.msg);
    req.micro = 8;
    req.expert = 2;
    ck_assert_int_eq(plan_choose(&p, &mem, &remat, &req, &m, &chip, &err), -1);
    ck_assert_str_eq(err.msg, "plan expert=2: switch-base is dense (no experts), so the expert ways are 1");
}
END_TEST

static Suite *plan_suite(void)
{
    Suite *s = suite_create("plan");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_parse);
    tcase_add_loop_test(tc, test_parse_bad, 0, (int)(sizeof BAD_PLAN / sizeof BAD_PLAN[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("layout");
    tcase_add_test(tc, test_layout_switch_base);
    tcase_add_test(tc, test_choose);
    tcase_add_test(tc, test_choose_zero_pipe);
    tcase_add_test(tc, test_choose_moe_pipe);
    tcase_add_test(tc, test_choose_pipe_bad);
    tcase_add_test(tc, test_choose_zero_auto);
    tcase_add_test(tc, test_memory_enc_dec);
    tcase_add_test(tc, test_layout_replicated_experts);
    tcase_add_test(tc, test_layout_model_parallel);
    tcase_add_test(tc, test_layout_expert_groups);
    tcase_add_loop_test(tc, test_layout_expert_groups_bad, 0, (int)(sizeof BAD_WAYS / sizeof BAD_WAYS[0]));
    tcase_add_test(tc, test_stage_layers);
    tcase_add_test(tc, test_layout_prime_tokens);
    tcase_add_test(tc, test_layout_overflow);
    tcase_add_loop_test(tc, test_layout_bad, 0, (int)(sizeof BAD_LAYOUT / sizeof BAD_LAYOUT[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(plan_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
