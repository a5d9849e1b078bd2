/* runopt: run's option table, its parser and its help.  No simulation here. */
#include "sim/runopt.h"

#include <limits.h>
#include <string.h>

#define FIELD(f) offsetof(runopt_args, f), sizeof(((runopt_args *)0)->f)

/* Run's help order.  axis: the sweep's order of axes, outermost first (the seed changes fastest). */
static const runopt OPTS[] = {
    { .name = "--platform", .arg = "FILE", .type = RUNOPT_TEXT, FIELD(cfg.platform),
      .help = "SimGrid platform XML (topologies/*.xml, or 'switchsim topology')",
      .axis = 1, .sweep_help = "platform XML files (topologies/)", .column = "platform" },
    { .name = "--model", .arg = "NAME", .type = RUNOPT_TEXT, FIELD(model),
      .help = "preset name (switchsim models lists them)",
      .axis = 2, .sweep_help = "model presets (models/models.csv)", .column = "model" },
    { .name = "--models", .arg = "FILE", .type = RUNOPT_TEXT, FIELD(models), .help = "preset CSV",
      .axis = 10, .sweep_help = "preset CSV passed to every run (default: run's models/models.csv)" },
    { .name = "--plan", .arg = "data=N,model=M", .type = RUNOPT_PLAN, FIELD(cfg.data),
      .help = "data-parallel x model-parallel ways, N*M = cores (default: data = cores,\n"
              "model = the smallest power of two that fits in HBM; where none fits, the\n"
              "shallowest pipeline of 2, 4, ... stages that does); or\n"
              "data=D,expert=E,tensor=T,pipe=P[,micro=K]: D*T*P = cores, tensor = model,\n"
              "P pipeline stages of consecutive layers (the first layers mod P stages one\n"
              "more; model shards within a chip) over K micro-batches in 1F1B order (default\n"
              "K = 4P); expert ways come from the data axis: groups of E data shards each\n"
              "hold every expert, E dividing D and the experts (default min(D, experts));\n"
              "a stage's Switch layers run their all-to-alls among its expert groups' chips\n"
              "(direct), K dividing the routing groups",
      .axis = 3, .sweep_help = "plans, separated by ';' (quote it for the shell)" },
    { .name = "--tokens-per-batch", .arg = "N", .type = RUNOPT_INT, FIELD(cfg.tokens_per_batch), .lo = 1,
      .hi = 1099511627776.0, .rule = "an integer in [1, 2^40]",
      .help = "encoder tokens per batch, a multiple of the preset's enc_seq (default: the preset's)",
      .axis = 11, .sweep_help = "encoder tokens per batch (multiples of the preset's enc_seq)",
      .column = "tokens_per_batch" },
    { .name = "--top-k", .arg = "K", .type = RUNOPT_INT, FIELD(cfg.top_k), .lo = 1, .hi = 8, .rule = "an integer in [1, 8]",
      .help = "routing choices per token, 1 (Switch), 2 (MoE/GShard) up to 8, at most the experts\n"
              "(default: the preset's)",
      .axis = 7, .sweep_help = "integers in [1, 8] (routing choices per token)", .column = "top_k" },
    { .name = "--capacity-factor", .arg = "CF", .type = RUNOPT_REAL, FIELD(cfg.capacity_factor), .lo = 0,
      .lo_open = 1, .hi = 1e6, .rule = "a number in (0, 1e6]",
      .help = "expert capacity factor > 0 (default: the preset's)",
      .axis = 8, .sweep_help = "capacity factors, numbers > 0 (e.g. 0.5,0.75,1,1.25,1.5,2,3,4)",
      .column = "capacity_factor" },
    { .name = "--impl", .arg = "I", .type = RUNOPT_ENUM, FIELD(cfg.impl),
      .words = { "meshtf", "flaxformer", "lingvo", "torch" },
      .values = { MODEL_IMPL_MESHTF, MODEL_IMPL_FLAXFORMER, MODEL_IMPL_LINGVO, MODEL_IMPL_TORCH },
      .help = "implementation profile: meshtf (Mesh TensorFlow, the Switch paper's runs),\n"
              "flaxformer (T5X), lingvo (GShard): group size, capacity rule, cumsum, jitter\n"
              "and the combine tensor's cost; or torch (eager PyTorch on GPUs: every\n"
              "element-wise op its own kernel, flash attention, bf16 autocast, fused AdamW;\n"
              "decoder-only models) (default: the preset's 'impl')",
      .axis = 13, .sweep_help = "meshtf | flaxformer | lingvo | torch", .column = "impl" },
    { .name = "--capacity-round", .arg = "MODE", .type = RUNOPT_ENUM, FIELD(cfg.cap_round),
      .words = { "floor", "round", "lingvo" }, .values = { SWITCH_CAP_FLOOR, SWITCH_CAP_ROUND, SWITCH_CAP_LINGVO },
      .help = "floor (Mesh TensorFlow), round (Flaxformer) or lingvo (floor, 4 for 0, up to a\n"
              "multiple of 4) (default: the profile's)" },
    { .name = "--routing", .arg = "SPEC", .type = RUNOPT_ROUTING, FIELD(cfg.routing),
      .help = "router (default: the real fp32 router), uniform, zipf:S, hot:FRAC, trace:FILE",
      .axis = 4, .sweep_help = "router | uniform | zipf:S | hot:FRAC | trace:FILE", .column = "routing" },
    { .name = "--seed", .arg = "N", .type = RUNOPT_INT, FIELD(cfg.seed), .lo = 0, .hi = (double)LONG_MAX,
      .rule = "an integer >= 0", .help = "seed of hidden states, router weights and draws (default 1)",
      .axis = 9, .sweep_name = "--seeds", .sweep_help = "seeds, integers >= 0 (one run each)", .column = "seed" },
    { .name = "--jitter", .arg = "EPS", .type = RUNOPT_REAL, FIELD(cfg.jitter), .lo = 0, .hi = 1, .hi_open = 1,
      .rule = "a number in [0,1)", .help = "router input jitter U(1-EPS,1+EPS) (default: the profile's: 1e-2 for meshtf\ntop-1, else 0 as the T5X Switch configs)" },
    { .name = "--dispatch", .arg = "MODE", .type = RUNOPT_ENUM, FIELD(cfg.dispatch),
      .words = { "padded", "exact", "dropless", "expert-choice" },
      .values = { COST_DISPATCH_EINSUM, COST_DISPATCH_GATHER, COST_DISPATCH_DROPLESS, COST_DISPATCH_EXPERT_CHOICE },
      .help = "padded (capacity buffers sent whole, default), exact (gather: kept tokens\n"
              "only), dropless (every choice kept, tokens sorted by expert, a grouped GEMM\n"
              "over each expert's true rows) or expert-choice (each expert takes its top C =\n"
              "group x cf / experts tokens)",
      .axis = 5, .sweep_help = "padded | exact | dropless | expert-choice", .column = "dispatch" },
    { .name = "--a2a", .arg = "ALGO", .type = RUNOPT_ENUM, FIELD(cfg.a2a),
      .words = { "phased", "direct", "hier" }, .values = { COLL_A2A_PHASED, COLL_A2A_DIRECT, COLL_A2A_HIER },
      .help = "phased (neighbour ring steps per dimension, the default on a torus), direct\n"
              "(one flow per chip pair: accurate, slow beyond ~128 chips; the default in one\n"
              "GPU node) or hier (GPU nodes: NVLink gather to the destination's rail, one\n"
              "message per node pair and rail over the NICs, timed from its plan; the\n"
              "default across GPU nodes under --network-model hw)",
      .axis = 6, .sweep_help = "phased | direct | hier", .column = "a2a" },
    { .name = "--network-model", .arg = "M", .type = RUNOPT_ENUM, FIELD(cfg.network),
      .words = { "hw", "lv08", "cm02" }, .values = { NETMODEL_HW, NETMODEL_LV08, NETMODEL_CM02 },
      .help = "hw (default: max-min sharing, each link technology's payload and latency\n"
              "factors from the platform, no TCP effects), lv08 (SimGrid's TCP-calibrated\n"
              "model: bandwidth x0.97, latency x13 per flow) or cm02 (max-min only, raw links)" },
    { .name = "--precision", .arg = "P", .type = RUNOPT_ENUM, FIELD(cfg.precision),
      .words = { "selective", "bf16", "fp32" },
      .values = { COST_PRECISION_SELECTIVE, COST_PRECISION_BF16, COST_PRECISION_FP32 },
      .help = "selective (default: bf16 activations and matmuls, fp32 router), bf16 (router too)\n"
              "or fp32 (everything: 4-byte activations in HBM and on the wire, fp32 matmuls)",
      .axis = 12, .sweep_help = "selective | bf16 | fp32", .column = "precision" },
    { .name = "--matmul-precision", .arg = "M", .type = RUNOPT_ENUM, FIELD(cfg.matmul_precision),
      .words = { "default", "high", "highest" }, .values = { CHIP_MM_DEFAULT, CHIP_MM_HIGH, CHIP_MM_HIGHEST },
      .help = "how an fp32 matmul runs: default (TPU one bf16 pass, GPU TF32), high (3 bf16\n"
              "passes) or highest (TPU 6 bf16 passes, GPU true fp32) (default: the platform's\n"
              "property matmul_precision: default on the TPU presets, highest on the GPU ones)",
      .axis = 14, .sweep_help = "default | high | highest", .column = "matmul_precision" },
    { .name = "--act-dtype", .arg = "T", .type = RUNOPT_ENUM, FIELD(cfg.act_bytes),
      .words = { "bf16", "fp32" }, .values = { 2, 4 },
      .help = "bf16 or fp32 (GShard's main runs) on the wire (default: the precision's,\nfp32 under --precision fp32, else bf16)" },
    { .name = "--remat", .arg = "MODE", .type = RUNOPT_ENUM, FIELD(cfg.remat),
      .words = { "auto", "on", "off" }, .values = { PLAN_REMAT_AUTO, PLAN_REMAT_ON, PLAN_REMAT_OFF },
      .help = "auto (default: only when activations would not fit in HBM), on, off:\n"
              "recompute each layer's forward in backward" },
    { .name = "--zero", .arg = "N", .type = RUNOPT_ENUM, FIELD(cfg.zero), .words = { "0", "1", "auto" },
      .values = { 0, 1, -1 },
      .help = "1: ZeRO-1, the optimizer state sharded over the data-parallel replicas: the\n"
              "gradient all-reduce becomes a reduce-scatter, the optimizer updates 1/replicas,\n"
              "an all-gather of the parameters follows; 0 (default): none; auto: only where\n"
              "the plan does not fit in HBM without it (tried before remat)" },
    { .name = "--same-active", .type = RUNOPT_FLAG, FIELD(cfg.same_active), .values = { 1 },
      .help = "with --top-k K: experts of width d_ff_expert x (the preset's k) / K, so each token\n"
              "activates as many expert parameters as the preset (fine-grained experts: top-8\n"
              "of experts 1/4 as wide as top-2's)" },
    { .name = "--no-reuse", .type = RUNOPT_FLAG, FIELD(cfg.reuse), .values = { 0 },
      .help = "simulate every all-to-all, even one identical to an earlier one" },
    { .name = "--a2a-timing", .arg = "T", .type = RUNOPT_ENUM, FIELD(cfg.a2a_fast),
      .words = { "fast", "flows" }, .values = { 1, 0 },
      .help = "fast (default: where no two messages of the phased all-to-all can share a link,\n"
              "every ring wrapped and of 3 or more chips, under the hw model, each is timed\n"
              "from its message plan in one pass: the flows' times to 1e-6; on GPU nodes under\n"
              "hw the ring all-reduces, pipeline sends and a stage's hier all-to-alls too) or\n"
              "flows (every message a SimGrid flow); --a2a hier is always timed from its plan" },
    { .name = "--csv", .arg = "FILE", .type = RUNOPT_TEXT, FIELD(csv),
      .help = "write the step row (and --per-layer rows) as CSV" },
    { .name = "--per-layer", .type = RUNOPT_FLAG, FIELD(cfg.per_layer), .values = { 1 },
      .help = "add one CSV row per layer and phase (fwd, bwd)" },
    { .name = "--trace", .arg = "FILE", .type = RUNOPT_TEXT, FIELD(cfg.timeline),
      .help = "write a Chrome/Perfetto trace-event JSON timeline (times in us)" },
    { .name = "--trace-cores", .arg = "LIST", .type = RUNOPT_TEXT, FIELD(cfg.trace_cores),
      .help = "cores in the timeline, e.g. 0-3,8 (default all)" },
    { .name = "--dump-routing", .arg = "FILE", .type = RUNOPT_TEXT, FIELD(cfg.dump_routing),
      .help = "write the per-layer, per-group expert counts (replay with trace:FILE)" },
    { .name = "--quiet", .type = RUNOPT_FLAG, FIELD(cfg.progress), .values = { 0 },
      .help = "no progress lines on stderr" },
};
#define N_OPTS ((int)(sizeof OPTS / sizeof OPTS[0]))
_Static_assert(N_OPTS <= RUNOPT_MAX, "RUNOPT_MAX is smaller than the option table");
/* ENUM and FLAG fields are int or an enum of int's size. */
_Static_assert(sizeof(switch_cap_mode) == sizeof(int) && sizeof(cost_dispatch) == sizeof(int) &&
               sizeof(coll_a2a_algo) == sizeof(int) && sizeof(netmodel) == sizeof(int) &&
               sizeof(plan_remat) == sizeof(int) && sizeof(cost_precision) == sizeof(int) &&
               sizeof(switch_cap_mode) == sizeof(int),
               "enum fields must have int's size");

int runopt_count(void)
{
    return N_OPTS;
}

const runopt *runopt_at(int i)
{
    return (i >= 0 && i < N_OPTS) ? &OPTS[i] : NULL;
}

const runopt *runopt_find(const char *name)
{
    for (int i = 0; i < N_OPTS; i++)
        if (strcmp(OPTS[i].name, name) == 0)
            return &OPTS[i];
    return NULL;
}

const char *runopt_sweep_name(const runopt *o)
{
    return o->sweep_name != NULL ? o->sweep_name : o->name;
}

runopt_args runopt_args_default(const char *models_default)
{
    runopt_args a;
    memset(&a, 0, sizeof a);
    a.cfg = engine_config_default();
    a.cfg.progress = 1;
    a.models = models_default;
    return a;
}

/* "a, b or c" of an ENUM's words. */
static void runopt_words(char *buf, size_t cap, const runopt *o)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; o->words[i] != NULL && len < cap; i++) {
        const char *sep = i == 0 ? "" : o->words[i + 1] == NULL ? " or " : ", ";
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", sep, o->words[i]);
    }
}

static int runopt_in_range(const runopt *o, double v)
{
    return (o->lo_open ? v > o->lo : v >= o->lo) && (o->hi_open ? v < o->hi : v <= o->hi);
}

int runopt_set(runopt_args *a, const runopt *o, const char *shown, const char *value, errbuf *err)
{
    char *f = (char *)a + o->off;
    const char *name = shown != NULL ? shown : o->name;
    long l;
    double d;
    switch (o->type) {
    case RUNOPT_FLAG:
        *(int *)(void *)f = o->values[0];
        return 0;
    case RUNOPT_TEXT:
        memcpy(f, &value, sizeof value);
        return 0;
    case RUNOPT_ENUM:
        for (int i = 0; o->words[i] != NULL; i++)
            if (strcmp(value, o->words[i]) == 0) {
                *(int *)(void *)f = o->values[i];
                return 0;
            }
        char words[128];
        runopt_words(words, sizeof words, o);
        return errbuf_set(err, "%s must be %s, got '%s'", name, words, value);
    case RUNOPT_INT:
        if (errbuf_parse_long(value, &l) != 0 || !runopt_in_range(o, (double)l))
            return errbuf_set(err, "%s must be %s, got '%s'", name, o->rule, value);
        if (o->size == sizeof(int))
            *(int *)(void *)f = (int)l;
        else
            *(long *)(void *)f = l;
        return 0;
    case RUNOPT_REAL:
        if (errbuf_parse_double(value, &d) != 0 || !runopt_in_range(o, d))
            return errbuf_set(err, "%s must be %s, got '%s'", name, o->rule, value);
        *(double *)(void *)f = d;
        return 0;
    case RUNOPT_PLAN:
    {
        plan_ways w;
        if (plan_parse(&w, value, err) != 0)
            return -1;
        a->cfg.data = w.data;
        a->cfg.model_par = w.model;
        a->cfg.expert_ways = w.expert;
        a->cfg.pipe = w.pipe;
        a->cfg.micro = w.micro;
        return 0;
    }
    case RUNOPT_ROUTING:
        return route_parse(&a->cfg.routing, value, err);
    }
    return errbuf_set(err, "%s: unknown option type", name);
}

/* 1 if a and b print the same with "%.9g", as the run CSV writes numbers (analysis/runrow.c compares so too). */
static int runopt_dbl_eq(double a, double b)
{
    char sa[32], sb[32];
    snprintf(sa, sizeof sa, "%.9g", a);
    snprintf(sb, sizeof sb, "%.9g", b);
    return strcmp(sa, sb) == 0;
}

int runopt_same(const runopt *o, const char *x, const char *y)
{
    if (o->type == RUNOPT_TEXT || o->type == RUNOPT_ROUTING || o->type == RUNOPT_FLAG)
        return strcmp(x, y) == 0;
    runopt_args ax, ay;
    memset(&ax, 0, sizeof ax);
    memset(&ay, 0, sizeof ay);
    if (runopt_set(&ax, o, NULL, x, NULL) != 0 || runopt_set(&ay, o, NULL, y, NULL) != 0)
        return strcmp(x, y) == 0;
    if (o->type == RUNOPT_REAL)
        return runopt_dbl_eq(*(const double *)(const void *)((const char *)&ax + o->off),
                             *(const double *)(const void *)((const char *)&ay + o->off));
    if (o->type == RUNOPT_PLAN)
        return ax.cfg.data == ay.cfg.data && ax.cfg.model_par == ay.cfg.model_par &&
               ax.cfg.expert_ways == ay.cfg.expert_ways && ax.cfg.pipe == ay.cfg.pipe && ax.cfg.micro == ay.cfg.micro;
    return memcmp((const char *)&ax + o->off, (const char *)&ay + o->off, o->size) == 0;
}

/* "  --name ARG   help" with help's lines aligned after the name column. */
static void runopt_print_line(FILE *fp, const char *name, const char *arg, const char *help, const char *tail)
{
    char head[64];
    snprintf(head, sizeof head, "%s%s%s", name, arg != NULL ? " " : "", arg != NULL ? arg : "");
    fprintf(fp, strlen(head) < 25 ? "  %-24s " : "  %s  ", head);
    for (const char *p = help; *p; p++) {
        fputc(*p, fp);
        if (*p == '\n')
            fprintf(fp, "%27s", "");
    }
    fprintf(fp, "%s\n", tail);
}

void runopt_print_help(FILE *fp, int sweep, const char *models_default)
{
    if (!sweep) {
        for (int i = 0; i < N_OPTS; i++) {
            char tail[512] = "";
            if (OPTS[i].off == offsetof(runopt_args, models))
                snprintf(tail, sizeof tail, " (default %s)", models_default);
            runopt_print_line(fp, OPTS[i].name, OPTS[i].arg, OPTS[i].help, tail);
        }
        return;
    }
    for (int rank = 1; rank <= N_OPTS; rank++)
        for (int i = 0; i < N_OPTS; i++)
            if (OPTS[i].axis == rank)
                runopt_print_line(fp, runopt_sweep_name(&OPTS[i]),
                                  OPTS[i].type == RUNOPT_PLAN ? "'data=N,model=M[;data=N2,model=M2]'"
                                  : OPTS[i].off == offsetof(runopt_args, models) ? "FILE" : "LIST",
                                  OPTS[i].sweep_help, "");
}
