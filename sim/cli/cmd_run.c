/* cmd_run: 'switchsim run', one simulated training step: parse and validate every option, simulate,
 * then print the summary and write the outputs (CSV, timeline, routing dump) atomically. */
#define _XOPEN_SOURCE 700   /* realpath */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/runrow.h"
#include "sim/cli/cmd.h"
#include "sim/cli/cliopt.h"
#include "sim/runopt.h"
#include "sim/common/atomicio.h"
#include "sim/engine.h"
#include "traces/timeline.h"


static void run_usage(FILE *fp)
{
    fprintf(fp,
        "usage: switchsim run --platform FILE --model NAME [options]\n"
        "\n"
        "Simulates one training step (forward, backward, gradient all-reduce, optimizer) of a Switch\n"
        "Transformer or T5 model on a torus of TPU-like cores or on GPU nodes, and reports where the time goes.\n"
        "\n");
    runopt_print_help(fp, 0, cmd_models_default_path());
    fprintf(fp,
        "  --help                   this text\n"
        "\n"
        "Output: four summary lines: the model and plan, where the routing came from, memory per core, and the\n"
        "step (seconds, examples/s, tokens/s, TFLOP/s per chip, shares of step time, wall time).\n"
        "Exit codes: 0 success, 1 bad input or I/O failure, 2 usage.\n");
}

/* The CSV row of the step (layer -1) or of one layer's phase: the configuration as run, then the times. */
static void run_fill_row(runrow *r, const engine_config *cfg, const engine_result *res, const engine_times *t,
                         int layer, int ph)
{
    const plan *p = &res->plan;
    memset(r, 0, sizeof *r);
    snprintf(r->model, sizeof r->model, "%s", cfg->model->name);          /* the columns have fixed widths */
    snprintf(r->platform, sizeof r->platform, "%s", cfg->platform);
    r->cores = p->cores;
    r->data = p->data;
    r->model_par = p->model_par;
    r->experts_per_core = p->experts <= 1 ? 0.0   /* dense: no experts; one expert a core: a fraction of it */
                          : p->experts_per_core == 1 ? 1.0 / p->cores_per_expert : (double)p->experts_per_core;
    r->top_k = p->top_k;
    r->capacity_factor = p->capacity_factor;
    r->expert_capacity = p->experts <= 1 ? 0 : p->tokens_enc > 0 ? p->capacity_enc : p->capacity_dec;
    snprintf(r->routing, sizeof r->routing, "%.*s", (int)sizeof r->routing - 1, cfg->routing.text);
    snprintf(r->dispatch, sizeof r->dispatch, "%s", cost_dispatch_name(cfg->dispatch));
    snprintf(r->a2a, sizeof r->a2a, "%s", res->a2a == COLL_A2A_DIRECT ? "direct"
                                           : res->a2a == COLL_A2A_HIER ? "hier" : "phased");
    r->seed = (long)cfg->seed;
    /* the batch as run (--tokens-per-batch): encoder tokens, or a decoder-only model's tokens */
    r->tokens_per_batch = p->sequences * (cfg->model->arch == MODEL_ARCH_DEC_ONLY ? cfg->model->dec_seq
                                                                                   : cfg->model->enc_seq);
    snprintf(r->scope, sizeof r->scope, "%s", layer < 0 ? "step" : "layer");
    r->layer = layer;
    snprintf(r->phase, sizeof r->phase, "%s", layer < 0 ? "all" : ph == 0 ? "fwd" : "bwd");
    r->dropped_frac = t->dropped_frac;
    r->lb_loss = t->lb_loss;
    r->a2a_bytes_per_core = t->a2a_bytes_per_core;
    r->max_load = t->max_load;
    r->a2a_across_s = t->a2a_across_s;
    r->rsag_s = t->rsag_s;
    r->step_time_s = t->step_time_s;
    r->compute_s = t->compute_s;
    r->router_s = t->router_s;
    r->dispatch_combine_s = t->dispatch_combine_s;
    r->a2a_s = t->a2a_s;
    r->allreduce_s = t->allreduce_s;
    r->idle_s = t->idle_s;
    r->examples_per_s = t->examples_per_s;
    r->tflops_per_chip = t->tflops_per_chip;
    r->mfu = t->mfu;
    r->hfu = t->hfu;
    static const char *const PREC[] = { "selective", "bf16", "fp32" };
    snprintf(r->precision, sizeof r->precision, "%s", PREC[cfg->precision]);
    snprintf(r->impl, sizeof r->impl, "%s", model_impl_name(res->impl));
    r->sim_wall_s = layer < 0 ? res->wall_s : 0.0;
    const char *mm = chip_matmul_precision_name(res->chip.matmul_precision);
    snprintf(r->matmul_precision, sizeof r->matmul_precision, "%s", mm != NULL ? mm : "default");
    r->pipe = p->pipe;
    r->micro_batches = p->micro;
    r->zero = p->zero;
    r->bubble_s = t->bubble_s;
}

typedef struct {
    const engine_config *cfg;
    const engine_result *res;
} run_csv_arg;

static int run_write_csv(FILE *fp, const void *arg, errbuf *err)
{
    const run_csv_arg *a = arg;
    runrow r;
    run_fill_row(&r, a->cfg, a->res, &a->res->step, -1, 0);
    if (runrow_write_header(fp) != 0 || runrow_write(fp, &r) != 0)
        return errbuf_set(err, "write failed");
    for (int i = 0; i < a->res->nlayers; i++) {
        run_fill_row(&r, a->cfg, a->res, &a->res->layers[i], i / 2, i % 2);
        if (runrow_write(fp, &r) != 0)
            return errbuf_set(err, "write failed");
    }
    return 0;
}

static void run_print_summary(FILE *fp, const engine_config *cfg, const engine_result *res)
{
    runrow row;
    run_fill_row(&row, cfg, res, &res->step, -1, 0);
    const runrow *r = &row;
    const plan *p = &res->plan;
    double t = r->step_time_s > 0 ? r->step_time_s : 1.0;
    char pz[96] = "";   /* expert groups of fewer shards than min(data, experts), the pipeline and ZeRO-1 */
    if (p->experts > 1 && p->expert_ways < (p->data < p->experts ? p->data : p->experts))
        snprintf(pz, sizeof pz, ",expert=%d", p->expert_ways);
    if (p->pipe > 1)
        snprintf(pz + strlen(pz), sizeof pz - strlen(pz), ",pipe=%d,micro=%d", p->pipe, p->micro);
    if (p->zero)
        snprintf(pz + strlen(pz), sizeof pz - strlen(pz), " with zero-1");
    if (p->experts > 1 && p->tokens_enc == 0)     /* decoder-only */
        fprintf(fp, "%s on %s: %d cores (%d chips), plan data=%d,model=%d%s, %g %s/core, top-%d, cf %g, "
                    "capacity %d tokens/expert/group, %d groups/core\n",
                r->model, r->platform, r->cores, p->nchips, r->data, r->model_par, pz, r->experts_per_core,
                r->experts_per_core == 1 ? "expert" : "experts", r->top_k, r->capacity_factor, p->capacity_dec,
                p->groups);
    else if (p->experts > 1)
        fprintf(fp, "%s on %s: %d cores (%d chips), plan data=%d,model=%d%s, %g %s/core, top-%d, cf %g, "
                    "capacity %d (enc) %d (dec) tokens/expert/group, %d groups/core\n",
                r->model, r->platform, r->cores, p->nchips, r->data, r->model_par, pz, r->experts_per_core,
                r->experts_per_core == 1 ? "expert" : "experts", r->top_k,
                r->capacity_factor, p->capacity_enc, p->capacity_dec, p->groups);
    else
        fprintf(fp, "%s on %s: %d cores (%d chips), plan data=%d,model=%d%s, dense (no Switch layers)\n",
                r->model, r->platform, r->cores, p->nchips, r->data, r->model_par, pz);
    if (p->experts > 1)
        fprintf(fp, "routing: %s; dispatch %s, all-to-all %s", res->routing_desc, r->dispatch, r->a2a);
    else
        fprintf(fp, "no routing");
    if (res->a2a_reused > 0)
        fprintf(fp, " (%ld of %ld all-to-alls replayed from an identical byte matrix simulated earlier)",
                res->a2a_reused, res->a2a_count);
    if (res->a2a_fast > 0 && res->a2a == COLL_A2A_HIER)
        fprintf(fp, "; %ld timed from their message plan (every link's bytes over its bandwidth)", res->a2a_fast);
    else if (res->a2a_fast > 0)
        fprintf(fp, "; %ld timed from their message plan (no two messages share a link)", res->a2a_fast);
    else if (p->experts > 1 && res->a2a_flows_why[0] != '\0')
        fprintf(fp, "; all as SimGrid flows: %s", res->a2a_flows_why);
    if (res->ar_reused > 0)
        fprintf(fp, "; %ld of %ld model-parallel all-reduces replayed likewise", res->ar_reused, res->ar_count);
    fprintf(fp, "\n");
    if (p->top_k > 2 && r->dropped_frac > 0.5 && strcmp(r->dispatch, "dropless") != 0)
        fprintf(fp, "note: %.0f%% of the choices dropped: the capacity %s gives each expert is about cf x group / "
                    "experts whatever k (Mesh TensorFlow's rule), so top-%d offers it about %d times what it holds; "
                    "--dispatch dropless keeps every choice (--impl torch sizes padded buffers for the k choices)\n",
                100.0 * r->dropped_frac, r->impl, p->top_k, p->top_k);
    if (res->numerics_groups > 0)
        fprintf(fp, "layer numerics: %ld groups ran dispatch, bf16 expert FFN and combine after routing (mean "
                    "sum|y| per group %.6g; dropped tokens passed through unchanged)\n",
                res->numerics_groups, res->numerics_mean_abs);
    fprintf(fp, "memory per core: %.2f GiB of %.2f GiB HBM (params %.2f, optimizer %.2f, activations %.2f)%s\n",
            res->mem_total_B / 1073741824.0, res->hbm_B / 1073741824.0, res->mem_params_B / 1073741824.0,
            res->mem_optimizer_B / 1073741824.0, res->mem_activations_B / 1073741824.0,
            res->remat ? ", remat on" : ", remat off");
    char bub[32] = "", across[48] = "", rsag[48] = "";   /* the bubble's share, when the plan pipelines; the
                                                         * all-to-all's across nodes and ZeRO-1's collectives' */
    if (p->pipe > 1)
        snprintf(bub, sizeof bub, " bubble %.1f%%", 100 * r->bubble_s / t);
    if (r->a2a_across_s > 0.0)
        snprintf(across, sizeof across, " (across nodes %.1f%%)", 100 * r->a2a_across_s / t);
    if (r->rsag_s > 0.0)
        snprintf(rsag, sizeof rsag, " (reduce-scatter+all-gather %.1f%%)", 100 * r->rsag_s / t);
    fprintf(fp, "step %.6g s | %.4g examples/s | %.4g tokens/s | %.4g TFLOP/s/chip (MFU %.1f%%, HFU %.1f%%) | compute %.1f%% router %.1f%% "
                "dispatch+combine %.1f%% a2a %.1f%%%s allreduce %.1f%%%s idle %.1f%%%s | dropped %.3f%% | "
                "a2a %.4g MB/core | lb loss %.4g | max load %.3g | wall %.2f s (setup %.2f, routing kernels %.2f, SimGrid and cost "
                "model %.2f)\n",
            r->step_time_s, r->examples_per_s, r->examples_per_s * (double)r->tokens_per_batch / (double)p->sequences,
            r->tflops_per_chip, 100 * r->mfu, 100 * r->hfu, 100 * r->compute_s / t, 100 * r->router_s / t, 100 * r->dispatch_combine_s / t,
            100 * r->a2a_s / t, across, 100 * r->allreduce_s / t, rsag, 100 * r->idle_s / t, bub, 100 * r->dropped_frac,
            r->a2a_bytes_per_core / 1e6, r->lb_loss, r->max_load, r->sim_wall_s, res->wall_setup_s, res->wall_route_s,
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

/* Parses run's command line into 'a' (runopt_args_default() first).  Returns 0, -1 with 'err' on a bad value
 * (exit 1), 2 after a usage message (exit 2), or 3 after the help (exit 0). */
static int run_parse(runopt_args *a, int argc, char **argv, errbuf *err)
{
    enum { O_HELP = 1, O_FIRST = 256 };
    struct option longopts[RUNOPT_MAX + 2];
    int n = runopt_count();
    for (int i = 0; i < n; i++) {
        const runopt *o = runopt_at(i);
        longopts[i] = (struct option){ o->name + 2, o->type == RUNOPT_FLAG ? no_argument : required_argument,
                                       NULL, O_FIRST + i };
    }
    longopts[n] = (struct option){ "help", no_argument, NULL, O_HELP };
    longopts[n + 1] = (struct option){ NULL, 0, NULL, 0 };
    *a = runopt_args_default(cmd_models_default_path());
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (c >= O_FIRST && c < O_FIRST + n) {
            if (runopt_set(a, runopt_at(c - O_FIRST), NULL, optarg, err) != 0)
                return -1;
        } else if (c == O_HELP) {
            run_usage(stdout);
            return 3;
        } else {
            return cliopt_bad_option(stderr, "run", longopts, c, argv[optind - 1]);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "switchsim: error: run: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (a->cfg.platform == NULL || a->model == NULL) {
        fprintf(stderr, "switchsim: error: run needs --platform FILE and --model NAME\n");
        run_usage(stderr);
        return 2;
    }
    return 0;
}

/* Checks what the options name before anything runs: outputs writable, no output that is also an input. */
static int run_check_files(const runopt_args *a, errbuf *err)
{
    const engine_config *cfg = &a->cfg;
    if (atomic_check_writable("--csv", a->csv, err) != 0 || atomic_check_writable("--trace", cfg->timeline, err) != 0 ||
        atomic_check_writable("--dump-routing", cfg->dump_routing, err) != 0)
        return -1;
    const char *opt[] = { "--platform", "--models", "--routing trace:", "--csv", "--trace", "--dump-routing" };
    const char *path[] = { cfg->platform, a->models, cfg->routing.kind == ROUTE_TRACE ? cfg->routing.path : NULL,
                           a->csv, cfg->timeline, cfg->dump_routing };
    if (run_check_collisions(opt, path, 3, 6, err) != 0)
        return -1;
    if (cfg->trace_cores != NULL && cfg->timeline == NULL)
        return errbuf_set(err, "--trace-cores needs --trace FILE");
    return 0;
}

/* Writes the run's files into 'outputs': the CSV, the timeline and the routing dump. */
static int run_write_outputs(atomic_batch *outputs, const runopt_args *a, const engine_result *res, errbuf *err)
{
    const engine_config *cfg = &a->cfg;
    run_csv_arg arg = { cfg, res };
    if (a->csv != NULL && atomic_batch_write(outputs, a->csv, run_write_csv, &arg, err) != 0)
        return -1;
    if (cfg->timeline != NULL && timeline_write_json(outputs, cfg->timeline, res->timeline, err) != 0)
        return -1;
    if (cfg->dump_routing != NULL && route_dump_csv(outputs, res->route, cfg->dump_routing, err) != 0)
        return -1;
    return 0;
}

/* Simulates the step, then writes its files: they appear together or not at all. */
static int run_execute(const runopt_args *a, errbuf *err)
{
    engine_result res;
    if (engine_run(&res, &a->cfg, err) != 0)
        return -1;
    atomic_batch outputs;
    atomic_batch_begin(&outputs);
    int rc = run_write_outputs(&outputs, a, &res, err);
    if (rc != 0)
        atomic_batch_abort(&outputs);
    else
        rc = atomic_batch_commit(&outputs, err);
    if (rc == 0)
        run_print_summary(stdout, &a->cfg, &res);
    engine_result_fini(&res);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    runopt_args a;
    errbuf err = { "" };
    model_set *models = NULL;
    int rc = run_parse(&a, argc, argv, &err);
    if (rc == 2 || rc == 3)
        return rc == 2 ? 2 : 0;
    if (rc == 0) {
        models = model_set_load_csv(a.models, &err);
        rc = models == NULL ? -1 : 0;
    }
    if (rc == 0 && (a.cfg.model = model_set_find(models, a.model)) == NULL)
        rc = errbuf_set(&err, "--model: no model '%s' in %s (switchsim models lists them)", a.model, a.models);
    if (rc == 0 && a.cfg.model->experts <= 1)     /* said, not refused: a sweep over models may list both kinds */
        for (int i = 0; i < 2; i++)
            if (i == 0 ? a.cfg.top_k != 0 : a.cfg.capacity_factor != 0)
                fprintf(stderr, "switchsim: warning: %s has no effect: %s is dense (no Switch layers to route)\n",
                        i == 0 ? "--top-k" : "--capacity-factor", a.model);
    if (rc == 0)
        rc = run_check_files(&a, &err);
    if (rc == 0)
        rc = run_execute(&a, &err);
    if (rc != 0)
        fprintf(stderr, "switchsim: error: %s\n", err.msg);
    model_set_free(models);
    return rc == 0 ? 0 : 1;
}
