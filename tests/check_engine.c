/* Check suite for sim/engine: whole simulated steps of the tiny presets on the 2x2-chip platform, each in its
 * own process (SimGrid initialises once per process): time shares add up to the step, bytes follow the
 * dispatch rule for top-1 and top-2, determinism, and the rejections that come from the engine. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/engine.h"
#include "sim/simproc.h"
#include "tests/fixture_engine.h"

enum { O_STEP = FX_STEP, O_COMPUTE, O_ROUTER, O_DISPATCH, O_A2A, O_ALLREDUCE, O_IDLE, O_BYTES, O_DROPPED, O_LB, O_NUMERICS,
       O_LAYER_BYTES, O_TFLOPS, O_MFU, O_HFU, O_TOKENS, O_EPS, O_CAP, O_GROUPS, O_IMPL, O_A2A_FAST, O_BUBBLE,
       O_MEM_ACT, N_OUT };
_Static_assert((int)O_BYTES == (int)FX_BYTES, "the first outputs are fixture_step_out's");

typedef struct {
    const char *platform, *model, *routing;
    int top_k, padded, model_par;
    double cf;
    coll_a2a_algo a2a;
    unsigned long seed;
    double op_overhead_s;     /* > 0: replaces the chip's (through engine_config.chip) */
    long tokens_per_batch;        /* 0: the preset's */
    cost_precision precision;
    plan_remat remat;
    switch_cap_mode cap_round;
    int impl;                     /* ENGINE_IMPL_PRESET or a model_impl */
    int a2a_flows;                /* 1: --a2a-timing flows */
    int matmul_precision;         /* -1: the platform's; else --matmul-precision */
    int data, pipe, micro, zero;  /* the plan's ways (0: the defaults) and ZeRO-1 */
} erun;

static erun erun_default(void)
{
    erun r = { "topologies/tpuv3-2x2.xml", "tiny-switch", "router", 1, 1, 0, 1.25, COLL_A2A_PHASED, 3, 0, 0,
               COST_PRECISION_SELECTIVE, PLAN_REMAT_AUTO, SWITCH_CAP_AUTO, ENGINE_IMPL_PRESET, 0, -1, 0, 0, 0, 0 };
    return r;
}

/* Child: one step; out[] as the enum above. */
static int erun_child(void *argp, double *out, int nout, errbuf *err)
{
    const erun *a = argp;
    model_set *ms = model_set_load_csv("tests/data/models_tiny.csv", err);
    if (ms == NULL)
        return -1;
    engine_config cfg = engine_config_default();
    cfg.platform = a->platform;
    cfg.model = model_set_find(ms, a->model);
    cfg.model_par = a->model_par;
    cfg.top_k = a->top_k;
    cfg.capacity_factor = a->cf;
    if (route_parse(&cfg.routing, a->routing, err) != 0) {
        model_set_free(ms);
        return -1;
    }
    cfg.seed = a->seed;
    cfg.dispatch = a->padded ? COST_DISPATCH_EINSUM : COST_DISPATCH_GATHER;
    cfg.a2a = a->a2a;
    cfg.per_layer = 1;
    cost_chip chip;
    if (a->op_overhead_s > 0) {                /* the platform's chip with one number replaced */
        cost_chip_tpuv3(&chip);
        chip.op_overhead_s = a->op_overhead_s;
        cfg.chip = &chip;
    }
    cfg.tokens_per_batch = a->tokens_per_batch;
    cfg.precision = a->precision;
    cfg.remat = a->remat;
    cfg.impl = a->impl;
    cfg.cap_round = a->cap_round;
    cfg.a2a_fast = !a->a2a_flows;
    cfg.matmul_precision = a->matmul_precision;
    cfg.data = a->data;
    cfg.pipe = a->pipe;
    cfg.micro = a->micro;
    cfg.zero = a->zero;
    engine_result res;
    int rc = engine_run(&res, &cfg, err);
    if (rc == 0 && nout >= N_OUT) {
        const engine_times *s = &res.step;
        fixture_step_out(out, s);
        out[O_DROPPED] = s->dropped_frac;
        out[O_LB] = s->lb_loss;
        out[O_NUMERICS] = (double)res.numerics_groups;
        out[O_LAYER_BYTES] = 0.0;
        out[O_TFLOPS] = s->tflops_per_chip;
        out[O_MFU] = s->mfu;
        out[O_HFU] = s->hfu;
        out[O_TOKENS] = (double)res.plan.sequences * cfg.model->enc_seq;
        out[O_EPS] = s->examples_per_s;
        out[O_CAP] = res.plan.capacity_enc;
        out[O_GROUPS] = res.plan.groups;
        out[O_IMPL] = res.impl;
        out[O_A2A_FAST] = (double)res.a2a_fast;
        out[O_BUBBLE] = s->bubble_s;
        out[O_MEM_ACT] = res.mem_activations_B;
        for (int i = 0; i < res.nlayers; i++)
            out[O_LAYER_BYTES] += res.layers[i].a2a_bytes_per_core;
    }
    engine_result_fini(&res);
    model_set_free(ms);
    return rc;
}

static void erun_do(erun *a, double *out)
{
    errbuf err = { "" };
    ck_assert_msg(simproc_run(erun_child, a, out, N_OUT, &err) == 0, "%s", err.msg);
}

/* Every core's time is booked to exactly one category, so the means add up to the step time. */
START_TEST(test_shares_sum_to_step)
{
    static const struct { int top_k, padded; const char *routing; coll_a2a_algo a2a; } CASES[] = {
        { 1, 1, "router", COLL_A2A_PHASED }, { 2, 0, "zipf:1.3", COLL_A2A_PHASED }, { 1, 0, "hot:0.5", COLL_A2A_DIRECT },
    };
    erun a = erun_default();
    a.top_k = CASES[_i].top_k;
    a.padded = CASES[_i].padded;
    a.routing = CASES[_i].routing;
    a.a2a = CASES[_i].a2a;
    double o[N_OUT];
    erun_do(&a, o);
    double sum = o[O_COMPUTE] + o[O_ROUTER] + o[O_DISPATCH] + o[O_A2A] + o[O_ALLREDUCE] + o[O_IDLE];
    ck_assert_double_gt(o[O_STEP], 0.0);
    /* up to SimGrid's time precision (surf/precision 1e-9 s per activity, sim/simproc.c): compute time is
     * booked as the cost model gives it, while the step is SimGrid's clock */
    ck_assert_double_eq_tol(sum, o[O_STEP], 1e-6 * o[O_STEP]);
    ck_assert_double_gt(o[O_A2A], 0.0);
    ck_assert_double_eq_tol(o[O_LAYER_BYTES], o[O_BYTES], 1e-9 * o[O_BYTES]);
}
END_TEST

/* Padded dispatch: the bytes are the capacity buffers, whatever k and the routing (Mesh TF capacity does not grow
 * with k).  2 groups x C per expert x D 64 x 2 bytes, to the 7 other cores' experts, 4 times per Switch layer:
 * encoder C 40, decoder C 10 (tests/data/models_tiny.csv on 8 cores). */
START_TEST(test_padded_bytes_closed_form)
{
    erun a = erun_default();
    double o1[N_OUT], o2[N_OUT];
    erun_do(&a, o1);
    a.top_k = 2;
    a.routing = "hot:0.9";
    erun_do(&a, o2);
    double per_layer_enc = 7.0 * 2 * 40 * 64 * 2, per_layer_dec = 7.0 * 2 * 10 * 64 * 2;
    double want = 4.0 * (2 * per_layer_enc + 2 * per_layer_dec);
    ck_assert_double_eq_tol(o1[O_BYTES], want, 1e-9 * want);
    ck_assert_double_eq_tol(o2[O_BYTES], want, 1e-9 * want);
    ck_assert_double_gt(o2[O_DROPPED], o1[O_DROPPED]);   /* the hot expert overflows */
}
END_TEST

/* Exact dispatch with room for every choice: nothing drops, and top-2 sends twice top-1's tokens. */
START_TEST(test_exact_top2_twice)
{
    erun a = erun_default();
    a.padded = 0;
    a.cf = 8.0;
    a.routing = "uniform";
    double o1[N_OUT], o2[N_OUT];
    erun_do(&a, o1);
    a.top_k = 2;
    erun_do(&a, o2);
    ck_assert_double_eq_tol(o1[O_DROPPED], 0.0, 1e-12);
    ck_assert_double_eq_tol(o2[O_DROPPED], 0.0, 1e-12);
    double r = o2[O_BYTES] / o1[O_BYTES];
    ck_assert_msg(r > 1.9 && r < 2.1, "top-2 / top-1 exact bytes %g", r);
    ck_assert_double_gt(o2[O_A2A], o1[O_A2A]);
}
END_TEST

/* Same seed, same numbers; another seed, other routing. */
START_TEST(test_deterministic)
{
    erun a = erun_default();
    double o1[N_OUT], o2[N_OUT], o3[N_OUT];
    erun_do(&a, o1);
    erun_do(&a, o2);
    ck_assert_int_eq(memcmp(o1, o2, sizeof o1), 0);
    a.seed = 4;
    erun_do(&a, o3);
    ck_assert(o3[O_DROPPED] != o1[O_DROPPED] || o3[O_LB] != o1[O_LB]);
    ck_assert_double_gt(o1[O_NUMERICS], 0.0);   /* tiny + exact router: the layer ran for real */
}
END_TEST

/* A dense model has no all-to-all and no drops; model parallelism on one chip adds on-chip all-reduces. */
START_TEST(test_dense_and_model_parallel)
{
    erun a = erun_default();
    a.model = "tiny-dense";
    double o[N_OUT], om[N_OUT];
    erun_do(&a, o);
    ck_assert_double_eq(o[O_BYTES], 0.0);
    ck_assert_double_eq(o[O_A2A], 0.0);
    ck_assert_double_eq(o[O_DROPPED], 0.0);
    a.model_par = 2;
    erun_do(&a, om);
    ck_assert_double_gt(om[O_ALLREDUCE], o[O_ALLREDUCE]);
}
END_TEST

/* ZeRO-1 on tiny-dense over 8 data-parallel cores: the gradient all-reduce becomes a reduce-scatter and an
 * all-gather of the same bytes (a ring all-reduce is exactly those two passes: the same time), and the optimizer
 * updates 1/8 of the parameters: the step and the compute shrink by opt(N) - opt(N/8), N the dense parameters. */
START_TEST(test_zero1)
{
    erun a = erun_default();
    a.model = "tiny-dense";
    double o[N_OUT], oz[N_OUT];
    erun_do(&a, o);
    a.zero = 1;
    erun_do(&a, oz);
    errbuf err = { "" };
    model_set *ms = model_set_load_csv("tests/data/models_tiny.csv", &err);
    ck_assert_msg(ms != NULL, "%s", err.msg);
    double n = model_params_dense(model_set_find(ms, "tiny-dense"));
    model_set_free(ms);
    cost_chip chip;
    cost_chip_tpuv3(&chip);
    double saved = cost_optimizer_s(&chip, n) - cost_optimizer_s(&chip, n / 8);
    ck_assert_double_gt(saved, 0.0);
    ck_assert_double_eq_tol(o[O_COMPUTE] - oz[O_COMPUTE], saved, 1e-9 * o[O_COMPUTE]);
    ck_assert_double_eq_tol(o[O_STEP] - oz[O_STEP], saved, 1e-6 * o[O_STEP]);
    ck_assert_double_eq_tol(oz[O_ALLREDUCE], o[O_ALLREDUCE], 1e-6 * o[O_ALLREDUCE]);
    ck_assert_double_eq(oz[O_BUBBLE], 0.0);
}
END_TEST

/* Two stages of 4 data shards, 4 micro-batches: the shares (bubble included) sum to the step, and the bubble is at
 * least the equal-stage share (P-1)/(m+P-1) = 1/5 of the step (unequal stages, transfers: more, never less). */
START_TEST(test_pipeline_step)
{
    erun a = erun_default();
    a.model = "tiny-dense";
    a.data = 4;
    a.pipe = 2;
    a.micro = 4;
    double o[N_OUT];
    erun_do(&a, o);
    double sum = o[O_COMPUTE] + o[O_ROUTER] + o[O_DISPATCH] + o[O_A2A] + o[O_ALLREDUCE] + o[O_IDLE] + o[O_BUBBLE];
    ck_assert_double_eq_tol(sum, o[O_STEP], 1e-6 * o[O_STEP]);
    ck_assert_double_ge(o[O_BUBBLE], 0.2 * o[O_STEP] * (1 - 1e-6));
    ck_assert_double_lt(o[O_BUBBLE], 0.5 * o[O_STEP]);
}
END_TEST

static const struct { const char *platform, *model; int model_par; const char *msg; } BAD[] = {
    { "tests/data/none.xml", "tiny-switch", 0, "tests/data/none.xml: cannot open: No such file or directory" },
    { "topologies/tpuv3-2x2.xml", "tiny-switch", 3, "plan model=3 does not divide the platform's 8 cores" },
};

/* A number far outside physics used to end in SimGrid's "Deadlock detected" or a step of 0 s beside a compute
 * time of 1e308 s, with success: the run now fails with the reason. */
START_TEST(test_invariants)
{
    erun a = erun_default();
    a.op_overhead_s = 1e308;
    double o[N_OUT];
    errbuf err = { "" };
    ck_assert_int_eq(simproc_run(erun_child, &a, o, N_OUT, &err), -1);
    ck_assert_msg(strstr(err.msg, "a platform number out of any physical range?") != NULL
                  || strstr(err.msg, "a platform or model number out of any physical range?") != NULL, "%s", err.msg);
}
END_TEST

START_TEST(test_rejections)
{
    erun a = erun_default();
    a.platform = BAD[_i].platform;
    a.model = BAD[_i].model;
    a.model_par = BAD[_i].model_par;
    double o[N_OUT];
    errbuf err = { "" };
    ck_assert_int_eq(simproc_run(erun_child, &a, o, N_OUT, &err), -1);
    ck_assert_str_eq(err.msg, BAD[_i].msg);
}
END_TEST

/* mfu is the model FLOP rate over the chips' bf16 peak; hfu counts what the hardware runs, so on a padded Switch
 * step (capacity padding, one-hot einsums, an fp32 router of 6 passes) it exceeds mfu; recomputation raises the
 * hardware FLOPs per step and leaves the model FLOPs alone. */
START_TEST(test_utilisation)
{
    erun a = erun_default();
    a.remat = PLAN_REMAT_OFF;
    double off[N_OUT], on[N_OUT];
    erun_do(&a, off);
    a.remat = PLAN_REMAT_ON;
    erun_do(&a, on);
    cost_chip c;
    cost_chip_tpuv3(&c);
    double peak_chip = c.bf16_flops * c.cores_per_chip;
    ck_assert_double_eq_tol(off[O_MFU], off[O_TFLOPS] * 1e12 / peak_chip, 1e-9 * off[O_MFU]);
    ck_assert_double_gt(off[O_MFU], 0.0);
    ck_assert_double_gt(off[O_HFU], off[O_MFU]);
    ck_assert_double_lt(off[O_HFU], 1.0);
    /* model FLOPs per step equal, hardware FLOPs per step larger with remat */
    ck_assert_double_eq_tol(on[O_MFU] * on[O_STEP], off[O_MFU] * off[O_STEP], 1e-9 * off[O_MFU] * off[O_STEP]);
    ck_assert_double_gt(on[O_HFU] * on[O_STEP], 1.05 * off[O_HFU] * off[O_STEP]);
}
END_TEST

/* --tokens-per-batch: half the preset's batch is half the sequences, half the model FLOPs per step; a batch
 * that is not whole sequences is refused with the option's name */
START_TEST(test_tokens_per_batch)
{
    erun a = erun_default();
    double full[N_OUT], half[N_OUT];
    erun_do(&a, full);
    a.tokens_per_batch = 2048;
    erun_do(&a, half);
    ck_assert_double_eq(full[O_TOKENS], 4096.0);
    ck_assert_double_eq(half[O_TOKENS], 2048.0);
    ck_assert_double_eq_tol(half[O_EPS] * half[O_STEP], 32.0, 1e-9);   /* 2048 / enc_seq 64 sequences */
    ck_assert_double_eq_tol(half[O_TFLOPS] * half[O_STEP], 0.5 * full[O_TFLOPS] * full[O_STEP],
                            1e-9 * full[O_TFLOPS] * full[O_STEP]);
    ck_assert_double_lt(half[O_STEP], full[O_STEP]);
    a.tokens_per_batch = 2000;
    double o[N_OUT];
    errbuf err = { "" };
    ck_assert_int_eq(simproc_run(erun_child, &a, o, N_OUT, &err), -1);
    ck_assert_str_eq(err.msg, "--tokens-per-batch must be a multiple of tiny-switch's encoder sequence length 64 "
                              "(whole sequences), got 2000");
}
END_TEST

/* --top-k other than the preset's (tiny-switch: 1): the model as run routes each token to k experts, so its model
 * FLOPs and the memory check count k.  Each further choice adds, per step, 3 x 64 sequences x 2 x (2 encoder
 * layers x 64 tokens + 2 decoder layers x 16) x 2 x 64 x 128 expert weights = 1006632960 FLOPs; and to the
 * activations kept per core, cf 1.25 more capacity rows a token (their combine entries, and the expert's input,
 * hidden tensors and output), the same bytes for each further choice. */
START_TEST(test_topk_model_as_run)
{
    erun a = erun_default();
    a.remat = PLAN_REMAT_OFF;
    double o1[N_OUT], o2[N_OUT], o4[N_OUT];
    erun_do(&a, o1);
    a.top_k = 2;
    erun_do(&a, o2);
    a.top_k = 4;
    erun_do(&a, o4);
    double chips = 4.0, per_k = 1006632960.0;
    double f1 = o1[O_TFLOPS] * 1e12 * o1[O_STEP] * chips;
    double f2 = o2[O_TFLOPS] * 1e12 * o2[O_STEP] * chips, f4 = o4[O_TFLOPS] * 1e12 * o4[O_STEP] * chips;
    ck_assert_double_eq_tol((f2 - f1), per_k, 1e-9 * f1);
    ck_assert_double_eq_tol((f4 - f1), 3.0 * per_k, 1e-9 * f1);
    double mem_k = o2[O_MEM_ACT] - o1[O_MEM_ACT];
    ck_assert_double_gt(mem_k, 0.01 * o1[O_MEM_ACT]);
    ck_assert_double_eq_tol((o4[O_MEM_ACT] - o1[O_MEM_ACT]), 3.0 * mem_k, 1e-9 * o1[O_MEM_ACT]);
}
END_TEST

/* --capacity-factor other than the preset's (tiny-switch: 1.25) sizes the capacity buffers the memory check counts:
 * the model as run carries the run's cf.  Padded dispatch, remat off, 8 cores of 512 encoder and 128 decoder tokens
 * (check_plan's test_memory_enc_dec counts the 4632576 bytes at cf 1.25 term by term).  What grows with cf, per
 * token, are the combine tensor's cf x S bf16 entries and cf capacity rows of the expert's input, relu hidden
 * tensors and output (2 x (2 x 64 + 2 x 128) = 768 B a row): an encoder Switch layer (groups of S = 256) keeps
 * 512 x cf x (2 x 256 + 768) = 655360 cf bytes, a decoder one (128 tokens, less than a group: S = 128)
 * 128 x cf x (2 x 128 + 768) = 131072 cf; 2 of each, 1572864 cf.  From cf 1.25 to 2.5: 1966080 bytes more (the old
 * code kept the preset's 1.25: none).  The plan's capacity follows --capacity-factor as before: C = cf x 256 / 8,
 * 40 and 80. */
START_TEST(test_cf_model_as_run)
{
    erun a = erun_default();
    a.remat = PLAN_REMAT_OFF;
    double o1[N_OUT], o2[N_OUT];
    erun_do(&a, o1);
    a.cf = 2.5;
    erun_do(&a, o2);
    ck_assert_double_eq_tol(o1[O_MEM_ACT], 4632576.0, 1e-6);
    ck_assert_double_eq_tol(o2[O_MEM_ACT] - o1[O_MEM_ACT], 1572864.0 * 1.25, 1e-6);
    ck_assert_double_eq(o1[O_CAP], 40.0);
    ck_assert_double_eq(o2[O_CAP], 80.0);
}
END_TEST

/* --precision: fp32 doubles the padded all-to-all bytes (4-byte activations on the wire) and slows the step;
 * bf16 runs the router on bf16 bytes, so its router time drops; the rest stays.  On the TPU platform an fp32
 * matmul is one bf16 pass (matmul_precision default [SOURCES 5.3]), so fp32 costs bytes; --matmul-precision
 * highest makes every fp32 matmul 6 passes: the fp32 program's compute and the selective router's time grow,
 * bytes on the wire do not. */
START_TEST(test_precision)
{
    erun a = erun_default();
    double sel[N_OUT], b16[N_OUT], f32[N_OUT], f6[N_OUT], s6[N_OUT];
    erun_do(&a, sel);
    a.precision = COST_PRECISION_BF16;
    erun_do(&a, b16);
    a.precision = COST_PRECISION_FP32;
    erun_do(&a, f32);
    ck_assert_double_eq_tol(f32[O_BYTES], 2.0 * sel[O_BYTES], 1e-9 * sel[O_BYTES]);
    ck_assert_double_eq(b16[O_BYTES], sel[O_BYTES]);
    ck_assert_double_gt(f32[O_COMPUTE], sel[O_COMPUTE]);         /* 4-byte tensors */
    ck_assert_double_lt(b16[O_ROUTER], sel[O_ROUTER]);
    ck_assert_double_eq(b16[O_COMPUTE], sel[O_COMPUTE]);
    ck_assert_double_eq(b16[O_DISPATCH], sel[O_DISPATCH]);
    a.matmul_precision = CHIP_MM_HIGHEST;
    erun_do(&a, f6);
    ck_assert_double_gt(f6[O_COMPUTE], 1.3 * f32[O_COMPUTE]);   /* 6-pass matmuls (a tiny model: partly overhead) */
    ck_assert_double_eq(f6[O_BYTES], f32[O_BYTES]);
    ck_assert_double_gt(f6[O_HFU] / f6[O_MFU], 3.0 * f32[O_HFU] / f32[O_MFU]);
    a.precision = COST_PRECISION_SELECTIVE;
    erun_do(&a, s6);
    ck_assert_double_gt(s6[O_ROUTER], sel[O_ROUTER]);
    ck_assert_double_eq(s6[O_COMPUTE], sel[O_COMPUTE]);         /* only the router is fp32 */
    ck_assert_double_eq(s6[O_BYTES], sel[O_BYTES]);
}
END_TEST

/* Implementation profiles [SOURCES 4.2, 4.3] on tiny-switch (512 encoder tokens per core, preset groups of
 * 256, 8 experts, cf 1.25; no 'impl' column: flaxformer).  meshtf: one group of 512 (its 1024 cap), C =
 * int(640/8) = 80, and its gating (the cumsum einsum, jitter, the combine build) costs router and dispatch
 * time; lingvo: the preset's groups, C = 40 (a multiple of 4 already); --capacity-round overrides the rule. */
START_TEST(test_impl_profiles)
{
    erun a = erun_default();
    a.routing = "uniform";
    double fx[N_OUT], mt[N_OUT], lv[N_OUT], fl[N_OUT];
    erun_do(&a, fx);
    a.impl = MODEL_IMPL_MESHTF;
    erun_do(&a, mt);
    a.impl = MODEL_IMPL_LINGVO;
    erun_do(&a, lv);
    ck_assert_double_eq(fx[O_IMPL], MODEL_IMPL_FLAXFORMER);
    ck_assert_double_eq(mt[O_IMPL], MODEL_IMPL_MESHTF);
    ck_assert_double_eq(fx[O_GROUPS], 2.0);
    ck_assert_double_eq(fx[O_CAP], 40.0);
    ck_assert_double_eq(mt[O_GROUPS], 1.0);
    ck_assert_double_eq(mt[O_CAP], 80.0);
    ck_assert_double_eq(lv[O_GROUPS], 2.0);
    ck_assert_double_eq(lv[O_CAP], 40.0);
    ck_assert_double_gt(mt[O_ROUTER], fx[O_ROUTER]);       /* cumsum einsum and jitter */
    ck_assert_double_gt(lv[O_DISPATCH], fx[O_DISPATCH]);   /* the combine build passes, same shapes */
    ck_assert_double_eq(lv[O_ROUTER], fx[O_ROUTER]);
    /* an odd capacity: cf 1.3 gives 41.6 per group of 256: flaxformer rounds to 42, lingvo floors to 41 and
     * rounds up to 44, --capacity-round floor gives 41 */
    a.cf = 1.3;
    a.impl = MODEL_IMPL_LINGVO;
    erun_do(&a, lv);
    a.impl = MODEL_IMPL_FLAXFORMER;
    erun_do(&a, fx);
    a.cap_round = SWITCH_CAP_FLOOR;
    erun_do(&a, fl);
    ck_assert_double_eq(lv[O_CAP], 44.0);
    ck_assert_double_eq(fx[O_CAP], 42.0);
    ck_assert_double_eq(fl[O_CAP], 41.0);
}
END_TEST

/* Exact dispatch on a wrapped 4x4x4 torus (every all-to-all matrix different): timing the phased all-to-alls from
 * their message plan gives the step the flows give, to SimGrid's time resolution, and only the fast run uses it. */
START_TEST(test_a2a_fast_step)
{
    erun a = erun_default();
    a.platform = "topologies/tpuv4-4x4x4.xml";
    a.padded = 0;
    double fast[N_OUT], flows[N_OUT];
    erun_do(&a, fast);
    a.a2a_flows = 1;
    erun_do(&a, flows);
    ck_assert_double_gt(fast[O_A2A_FAST], 0.0);
    ck_assert_double_eq(flows[O_A2A_FAST], 0.0);
    ck_assert_double_eq(fast[O_BYTES], flows[O_BYTES]);
    /* 4 Switch layers x 4 all-to-alls x 6 ring steps, each within SimGrid's 1e-9 s resolution */
    ck_assert_msg(fabs(fast[O_STEP] - flows[O_STEP]) <= 1e-6 * flows[O_STEP] + 96 * 1e-9, "step: fast %.12g s, "
                  "flows %.12g s", fast[O_STEP], flows[O_STEP]);
    ck_assert_msg(fabs(fast[O_A2A] - flows[O_A2A]) <= 0.02 * flows[O_A2A], "a2a: fast %.12g s, flows %.12g s",
                  fast[O_A2A], flows[O_A2A]);
}
END_TEST

/* One core (one H200, tests/data/models_tiny.csv tiny-dense): nothing to communicate, so the step is the sum of
 * the ops in the order a training step runs them, written out here from the model's shapes (one data shard holds
 * the whole batch: 4096 encoder tokens, 64 sequences x 16 decoder tokens) and each op's cost.  The engine's
 * schedule (which ops, how many, forward then backward) is checked against this one, written independently. */
START_TEST(test_one_core_step_by_hand)
{
    errbuf err = { "" };
    model_set *ms = model_set_load_csv("tests/data/models_tiny.csv", &err);
    ck_assert_msg(ms != NULL, "%s", err.msg);
    const model_cfg *m = model_set_find(ms, "tiny-dense");
    ck_assert_ptr_nonnull(m);
    cost_chip c;
    cost_chip_h200(&c);                               /* the chip topologies/h200-1gpu.xml is generated from */
    const double Te = 4096.0, Td = 4096.0 / 64 * 16;  /* tokens_per_batch; sequences x dec_seq */
    double t = cost_embed_s(&c, m, Te + Td, 0);
    for (int b = 0; b <= 1; b++) {                    /* forward, then backward (no remat: it fits) */
        double enc = cost_attention_s(&c, m, Te, 64, 64, 1, b) + 2 * cost_layernorm_residual_s(&c, m, Te, b) +
                     cost_dense_ffn_s(&c, m, Te, 1, b);
        double dec = cost_attention_s(&c, m, Td, 16, 16, 1, b) + cost_attention_s(&c, m, Td, 16, 64, 1, b) +
                     3 * cost_layernorm_residual_s(&c, m, Td, b) + cost_dense_ffn_s(&c, m, Td, 1, b);
        t += 2 * enc + 2 * dec + cost_vocab_loss_s(&c, m, Td, 1, b);   /* 2 encoder and 2 decoder layers */
    }
    t += cost_embed_s(&c, m, Te + Td, 1);
    t += cost_optimizer_s(&c, model_params_dense(m));   /* the all-reduce of one GPU adds nothing */
    model_set_free(ms);

    erun a = erun_default();
    a.platform = "topologies/h200-1gpu.xml";
    a.model = "tiny-dense";
    a.a2a = COLL_A2A_AUTO;
    double o[N_OUT];
    erun_do(&a, o);
    ck_assert_double_gt(t, 0.0);
    ck_assert_double_eq_tol(o[O_STEP], t, 1e-9 * t);
    ck_assert_double_eq_tol(o[O_COMPUTE], t, 1e-9 * t);
    ck_assert_double_eq(o[O_A2A] + o[O_ALLREDUCE] + o[O_ROUTER] + o[O_DISPATCH], 0.0);
}
END_TEST

static Suite *engine_suite(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("step");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_shares_sum_to_step, 0, 3);
    tcase_add_test(tc, test_padded_bytes_closed_form);
    tcase_add_test(tc, test_exact_top2_twice);
    tcase_add_test(tc, test_deterministic);
    tcase_add_test(tc, test_dense_and_model_parallel);
    tcase_add_test(tc, test_zero1);
    tcase_add_test(tc, test_pipeline_step);
    tcase_add_test(tc, test_invariants);
    tcase_add_test(tc, test_one_core_step_by_hand);
    tcase_add_test(tc, test_a2a_fast_step);
    tcase_add_loop_test(tc, test_rejections, 0, (int)(sizeof BAD / sizeof BAD[0]));
    tcase_add_test(tc, test_utilisation);
    tcase_add_test(tc, test_tokens_per_batch);
    tcase_add_test(tc, test_topk_model_as_run);
    tcase_add_test(tc, test_cf_model_as_run);
    tcase_add_test(tc, test_precision);
    tcase_add_test(tc, test_impl_profiles);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(engine_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
