/* cmd_run: 'switchsim run', one simulated training step: parse and validate every option, simulate,
 * then print the summary and write the outputs (CSV, timeline, routing dump) atomically. */
#define _XOPEN_SOURCE 700   /* realpath */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/atomicio.h"
#include "analysis/runrow.h"
#include "sim/cmd.h"
#include "sim/engine.h"


static void run_usage(FILE *fp)
{
    fprintf(fp,
        "usage: switchsim run --platform FILE --model NAME [options]\n"
        "\n"
        "Simulates one training step (forward, backward, gradient all-reduce, optimizer) of a Switch\n"
        "Transformer or T5 model on a torus of TPU-like cores or on GPU nodes, and reports where the time goes.\n"
        "\n"
        "  --platform FILE          SimGrid platform XML (topologies/*.xml, or 'switchsim topology')\n"
        "  --model NAME             preset name (switchsim models lists them)\n"
        "  --models FILE            preset CSV (default %s)\n"
        "  --plan data=N,model=M    data-parallel x model-parallel ways, N*M = cores (default: data = cores,\n"
        "                           model = the smallest power of two that fits in HBM)\n"
        "  --top-k K                1 (Switch) or 2 (MoE/GShard) (default: the preset's)\n"
        "  --capacity-factor CF     expert capacity factor > 0 (default: the preset's)\n"
        "  --capacity-round MODE    floor (Mesh TensorFlow, default) or round (Flaxformer)\n"
        "  --routing SPEC           router (default: the real fp32 router), uniform, zipf:S, hot:FRAC, trace:FILE\n"
        "  --seed N                 seed of hidden states, router weights and draws (default 1)\n"
        "  --jitter EPS             router input jitter U(1-EPS,1+EPS) (default 0, as the T5X Switch configs)\n"
        "  --dispatch MODE          padded (TPU einsum: capacity buffers sent whole, default) or exact (gather:\n"
        "                           kept tokens only)\n"
        "  --a2a ALGO               phased (neighbour ring steps per dimension, the default on a torus) or direct\n"
        "                           (one flow per chip pair: accurate, slow beyond ~128 chips; the default and the\n"
        "                           only one on a GPU platform)\n"
        "  --network-model M        lv08 (SimGrid's default: TCP-calibrated factors, latency x13 per flow) or\n"
        "                           cm02 (max-min bandwidth sharing only; closer to a dedicated interconnect)\n"
        "  --act-dtype T            bf16 (default, Switch) or fp32 (GShard's main runs) on the wire\n"
        "  --remat MODE             auto (default: only when activations would not fit in HBM), on, off:\n"
        "                           recompute each layer's forward in backward\n"
        "  --no-reuse               simulate every all-to-all, even one identical to an earlier one\n"
        "  --csv FILE               write the step row (and --per-layer rows) as CSV\n"
        "  --per-layer              add one CSV row per layer and phase (fwd, bwd)\n"
        "  --trace FILE             write a Chrome/Perfetto trace-event JSON timeline (times in us)\n"
        "  --trace-cores LIST       cores in the timeline, e.g. 0-3,8 (default all)\n"
        "  --dump-routing FILE      write the per-layer, per-group expert counts (replay with trace:FILE)\n"
        "  --quiet                  no progress lines on stderr\n"
        "  --help                   this text\n"
        "\n"
        "Output: one summary line (seconds, examples/s, tokens/s, TFLOP/s per chip, shares of step time).\n"
        "Exit codes: 0 success, 1 bad input or I/O failure, 2 usage.\n", cmd_models_default_path());
}

typedef struct {
    const engine_result *res;
} run_csv_arg;

static int run_write_csv(FILE *fp, const void *arg, errbuf *err)
{
    const engine_result *res = ((const run_csv_arg *)arg)->res;
    if (runrow_write_header(fp) != 0 || runrow_write(fp, &res->step) != 0)
        return errbuf_set(err, "write failed");
    for (int i = 0; i < res->nlayers; i++)
        if (runrow_write(fp, &res->layers[i]) != 0)
            return errbuf_set(err, "write failed");
    return 0;
}

static void run_print_summary(FILE *fp, const engine_result *res)
{
    const runrow *r = &res->step;
    const plan *p = &res->plan;
    double t = r->step_time_s > 0 ? r->step_time_s : 1.0;
    if (p->experts > 1)
        fprintf(fp, "%s on %s: %d cores (%d chips), plan data=%d,model=%d, %g experts/core, top-%d, cf %g, "
                    "capacity %d (enc) %d (dec) tokens/expert/group, %d groups/core\n",
                r->model, r->platform, r->cores, p->nchips, r->data, r->model_par, r->experts_per_core, r->top_k,
                r->capacity_factor, p->capacity_enc, p->capacity_dec, p->groups);
    else
        fprintf(fp, "%s on %s: %d cores (%d chips), plan data=%d,model=%d, dense (no Switch layers)\n",
                r->model, r->platform, r->cores, p->nchips, r->data, r->model_par);
    if (p->experts > 1)
        fprintf(fp, "routing: %s; dispatch %s, all-to-all %s", res->routing_desc, r->dispatch, r->a2a);
    else
        fprintf(fp, "no routing");
    if (res->a2a_reused > 0)
        fprintf(fp, " (%ld of %ld all-to-alls replayed from an identical byte matrix simulated earlier)",
                res->a2a_reused, res->a2a_count);
    if (res->ar_reused > 0)
        fprintf(fp, "; %ld of %ld model-parallel all-reduces replayed likewise", res->ar_reused, res->ar_count);
    fprintf(fp, "\n");
    if (res->numerics_groups > 0)
        fprintf(fp, "layer numerics: %ld groups ran dispatch, bf16 expert FFN and combine after routing (mean "
                    "sum|y| per group %.6g; dropped tokens passed through unchanged)\n",
                res->numerics_groups, res->numerics_mean_abs);
    fprintf(fp, "memory per core: %.2f GiB of %.2f GiB HBM (params %.2f, optimizer %.2f, activations %.2f)%s\n",
            res->mem_total_B / 1073741824.0, res->hbm_B / 1073741824.0, res->mem_params_B / 1073741824.0,
            res->mem_optimizer_B / 1073741824.0, res->mem_activations_B / 1073741824.0,
            res->remat ? ", remat on" : ", remat off");
    fprintf(fp, "step %.6g s | %.4g examples/s | %.4g tokens/s | %.4g TFLOP/s/chip | compute %.1f%% router %.1f%% "
                "dispatch+combine %.1f%% a2a %.1f%% allreduce %.1f%% idle %.1f%% | dropped %.3f%% | "
                "a2a %.4g MB/core | lb loss %.4g | wall %.2f s (setup %.2f, routing kernels %.2f, SimGrid and cost "
                "model %.2f)\n",
            r->step_time_s, r->examples_per_s, r->examples_per_s * (double)r->tokens_per_batch / (double)p->sequences,
            r->tflops_per_chip, 100 * r->compute_s / t, 100 * r->router_s / t, 100 * r->dispatch_combine_s / t,
            100 * r->a2a_s / t, 100 * r->allreduce_s / t, 100 * r->idle_s / t, 100 * r->dropped_frac,
            r->a2a_bytes_per_core / 1e6, r->lb_loss, r->sim_wall_s, res->wall_setup_s, res->wall_route_s,
            r->sim_wall_s - res->wall_setup_s - res->wall_route_s);
}

/* path as an absolute name with its directory resolved (the file itself need not exist); "" if it can't be. */
static void run_canonical(char *out, size_t n, const char *path)
{
    char dir[4096], real[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    const char *base = path;
    if (slash == NULL) {
        snprintf(dir, sizeof dir, ".");
    } else {
        base = path + (slash - dir) + 1;
        if (slash == dir)
            dir[1] = '\0';
        else
            *slash = '\0';
    }
    if (realpath(dir, real) == NULL) {
        out[0] = '\0';
        return;
    }
    snprintf(out, n, "%.4000s/%.4000s", strcmp(real, "/") == 0 ? "" : real, base);
}

/* Refuses an output that is also an input or another output ("--csv 'a.csv' is also --models"). */
static int run_check_collisions(const char *const *opt, const char *const *path, int n_in, int n, errbuf *err)
{
    char ci[8192], cj[8192];
    for (int i = n_in; i < n; i++) {
        if (path[i] == NULL)
            continue;
        run_canonical(ci, sizeof ci, path[i]);
        for (int j = 0; j < i; j++) {
            if (path[j] == NULL)
                continue;
            run_canonical(cj, sizeof cj, path[j]);
            if (ci[0] != '\0' && strcmp(ci, cj) == 0)
                return errbuf_set(err, "%s '%s' is the same file as %s '%s'", opt[i], path[i], opt[j], path[j]);
        }
    }
    return 0;
}

int cmd_run(int argc, char **argv)
{
    enum { O_PLATFORM = 256, O_MODEL, O_MODELS, O_PLAN, O_TOPK, O_CF, O_CAPROUND, O_ROUTING, O_SEED, O_JITTER,
           O_DISPATCH, O_A2A, O_NETMODEL, O_ACT, O_REMAT, O_NOREUSE, O_CSV, O_PERLAYER, O_TRACE, O_TRACECORES, O_DUMP,
           O_QUIET, O_HELP };
    static const struct option LONG[] = {
        { "platform", required_argument, NULL, O_PLATFORM }, { "model", required_argument, NULL, O_MODEL },
        { "models", required_argument, NULL, O_MODELS },     { "plan", required_argument, NULL, O_PLAN },
        { "top-k", required_argument, NULL, O_TOPK },        { "capacity-factor", required_argument, NULL, O_CF },
        { "capacity-round", required_argument, NULL, O_CAPROUND },
        { "routing", required_argument, NULL, O_ROUTING },   { "seed", required_argument, NULL, O_SEED },
        { "jitter", required_argument, NULL, O_JITTER },     { "dispatch", required_argument, NULL, O_DISPATCH },
        { "a2a", required_argument, NULL, O_A2A },           { "network-model", required_argument, NULL, O_NETMODEL },           { "act-dtype", required_argument, NULL, O_ACT },
        { "remat", required_argument, NULL, O_REMAT },             { "no-reuse", no_argument, NULL, O_NOREUSE },
        { "csv", required_argument, NULL, O_CSV },           { "per-layer", no_argument, NULL, O_PERLAYER },
        { "trace", required_argument, NULL, O_TRACE },       { "trace-cores", required_argument, NULL, O_TRACECORES },
        { "dump-routing", required_argument, NULL, O_DUMP }, { "quiet", no_argument, NULL, O_QUIET },
        { "help", no_argument, NULL, O_HELP },               { NULL, 0, NULL, 0 },
    };
    const char *platform = NULL, *model_name = NULL, *models_path = cmd_models_default_path(), *plan_spec = NULL;
    const char *csv = NULL, *routing = "router";
    long top_k = 0, seed = 1;
    double cf = 0.0, jitter = 0.0;
    engine_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.padded = 1;
    cfg.a2a = COLL_A2A_AUTO;   /* phased on a torus, direct on GPUs: the engine decides from the platform */
    cfg.act_bytes = 2;
    cfg.reuse = 1;
    cfg.progress = 1;
    cfg.remat = -1;
    errbuf err = { "" };
    int rc = 1;
    model_set *models = NULL;

    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
        switch (c) {
        case O_PLATFORM: platform = optarg; break;
        case O_MODEL: model_name = optarg; break;
        case O_MODELS: models_path = optarg; break;
        case O_PLAN: plan_spec = optarg; break;
        case O_TOPK:
            if (errbuf_parse_long(optarg, &top_k) != 0 || (top_k != 1 && top_k != 2)) {
                errbuf_set(&err, "--top-k must be 1 or 2, got '%s'", optarg);
                goto bad;
            }
            break;
        case O_CF:
            if (errbuf_parse_double(optarg, &cf) != 0 || !(cf > 0) || cf > 1e6) {
                errbuf_set(&err, "--capacity-factor must be a number in (0, 1e6], got '%s'", optarg);
                goto bad;
            }
            break;
        case O_CAPROUND:
            if (strcmp(optarg, "floor") == 0)
                cfg.cap_round = 0;
            else if (strcmp(optarg, "round") == 0)
                cfg.cap_round = 1;
            else {
                errbuf_set(&err, "--capacity-round must be floor or round, got '%s'", optarg);
                goto bad;
            }
            break;
        case O_ROUTING: routing = optarg; break;
        case O_SEED:
            if (errbuf_parse_long(optarg, &seed) != 0 || seed < 0) {
                errbuf_set(&err, "--seed must be an integer >= 0, got '%s'", optarg);
                goto bad;
            }
            break;
        case O_JITTER:
            if (errbuf_parse_double(optarg, &jitter) != 0 || jitter < 0 || jitter >= 1) {
                errbuf_set(&err, "--jitter must be a number in [0,1), got '%s'", optarg);
                goto bad;
            }
            break;
        case O_DISPATCH:
            if (strcmp(optarg, "padded") == 0)
                cfg.padded = 1;
            else if (strcmp(optarg, "exact") == 0)
                cfg.padded = 0;
            else {
                errbuf_set(&err, "--dispatch must be padded or exact, got '%s'", optarg);
                goto bad;
            }
            break;
        case O_A2A:
            if (strcmp(optarg, "phased") == 0)
                cfg.a2a = COLL_A2A_PHASED;
            else if (strcmp(optarg, "direct") == 0)
                cfg.a2a = COLL_A2A_DIRECT;
            else {
                errbuf_set(&err, "--a2a must be phased or direct, got '%s'", optarg);
                goto bad;
            }
            break;
        case O_NETMODEL:
            if (strcmp(optarg, "lv08") == 0)
                cfg.network_cm02 = 0;
            else if (strcmp(optarg, "cm02") == 0)
                cfg.network_cm02 = 1;
            else {
                errbuf_set(&err, "--network-model must be lv08 or cm02, got '%s'", optarg);
                goto bad;
            }
            break;
        case O_ACT:
            if (strcmp(optarg, "bf16") == 0)
                cfg.act_bytes = 2;
            else if (strcmp(optarg, "fp32") == 0)
                cfg.act_bytes = 4;
            else {
                errbuf_set(&err, "--act-dtype must be bf16 or fp32, got '%s'", optarg);
                goto bad;
            }
            break;
        case O_REMAT:
            if (strcmp(optarg, "auto") == 0)
                cfg.remat = -1;
            else if (strcmp(optarg, "on") == 0)
                cfg.remat = 1;
            else if (strcmp(optarg, "off") == 0)
                cfg.remat = 0;
            else {
                errbuf_set(&err, "--remat must be auto, on or off, got '%s'", optarg);
                goto bad;
            }
            break;
        case O_NOREUSE: cfg.reuse = 0; break;
        case O_CSV: csv = optarg; break;
        case O_PERLAYER: cfg.per_layer = 1; break;
        case O_TRACE: cfg.timeline = optarg; break;
        case O_TRACECORES: cfg.trace_cores = optarg; break;
        case O_DUMP: cfg.dump_routing = optarg; break;
        case O_QUIET: cfg.progress = 0; break;
        case O_HELP: run_usage(stdout); return 0;
        default:
            fprintf(stderr, "switchsim: error: run: unknown option or missing value '%s'\n", argv[optind - 1]);
            run_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "switchsim: error: run: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (platform == NULL || model_name == NULL) {
        fprintf(stderr, "switchsim: error: run needs --platform FILE and --model NAME\n");
        run_usage(stderr);
        return 2;
    }
    models = model_set_load_csv(models_path, &err);
    if (models == NULL)
        goto bad;
    cfg.model = model_set_find(models, model_name);
    if (cfg.model == NULL) {
        errbuf_set(&err, "--model: no model '%s' in %s (switchsim models lists them)", model_name, models_path);
        goto bad;
    }
    if (plan_spec != NULL && plan_parse(&cfg.data, &cfg.model_par, plan_spec, &err) != 0)
        goto bad;
    if (route_parse(&cfg.routing, routing, &err) != 0)
        goto bad;
    if (atomic_check_writable("--csv", csv, &err) != 0 || atomic_check_writable("--trace", cfg.timeline, &err) != 0 ||
        atomic_check_writable("--dump-routing", cfg.dump_routing, &err) != 0)
        goto bad;
    {
        const char *opt[] = { "--platform", "--models", "--routing trace:", "--csv", "--trace", "--dump-routing" };
        const char *path[] = { platform, models_path, cfg.routing.kind == ROUTE_TRACE ? cfg.routing.path : NULL,
                               csv, cfg.timeline, cfg.dump_routing };
        if (run_check_collisions(opt, path, 3, 6, &err) != 0)
            goto bad;
    }
    if (cfg.trace_cores != NULL && cfg.timeline == NULL) {
        errbuf_set(&err, "--trace-cores needs --trace FILE");
        goto bad;
    }
    cfg.platform = platform;
    cfg.top_k = top_k ? (int)top_k : cfg.model->top_k;
    cfg.capacity_factor = cf > 0 ? cf : cfg.model->capacity_factor;
    cfg.seed = (unsigned long)seed;
    cfg.jitter = jitter;

    /* the CSV, timeline and routing dump appear together or not at all */
    atomic_batch outputs;
    atomic_batch_begin(&outputs);
    engine_result res;
    if (engine_run(&res, &cfg, &err) != 0) {
        atomic_batch_abort(&outputs);
        goto bad;
    }
    if (csv != NULL) {
        run_csv_arg a = { &res };
        if (atomic_file_write(csv, run_write_csv, &a, &err) != 0) {
            engine_result_fini(&res);
            atomic_batch_abort(&outputs);
            goto bad;
        }
    }
    if (atomic_batch_commit(&outputs, &err) != 0) {
        engine_result_fini(&res);
        goto bad;
    }
    run_print_summary(stdout, &res);
    engine_result_fini(&res);
    rc = 0;
    goto out;
bad:
    fprintf(stderr, "switchsim: error: %s\n", err.msg);
    rc = 1;
out:
    model_set_free(models);
    return rc;
}
