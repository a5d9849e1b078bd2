/* cmd_validate: 'switchsim validate', the built-in checks against closed forms, bounds and published
 * measurements: the cost model's (sim/cost_validate.c), the collectives' (sim/coll_validate.c) and whole
 * simulated steps against GShard Table 3 (SOURCES.md 6.1).  Each simulation runs in its own process. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis/atomicio.h"

#include "sim/cmd.h"
#include "sim/collectives.h"
#include "sim/collmeas.h"
#include "sim/cost.h"
#include "sim/engine.h"
#include "sim/measured.h"
#include "sim/simproc.h"
#include "sim/validate.h"

#define VALIDATE_GSHARD_MODELS "models/gshard.csv"
/* The measured GPU dataset and the platform its rows are predicted on. */
#define VALIDATE_GPU_DATASET "analysis/measure/h200-switch-steps.csv"
#define VALIDATE_GPU_EP_DATASET "analysis/measure/h200-ep-steps.csv"
#define VALIDATE_GPU_COLL_DATASET "analysis/measure/h200-collectives.csv"
#define VALIDATE_GPU_PLATFORM "topologies/h200-1gpu.xml"

/* GShard Table 3 [SOURCES 6.1]: steps/s on TPUv3 cores; step time = 1 / steps/s. */
static const struct {
    const char *model, *platform;
    double steps_per_s;
} GSHARD[] = {
    { "gshard-2048e-36l", "topologies/tpuv3-32x32.xml", 0.72 },
    { "gshard-2048e-12l", "topologies/tpuv3-32x32.xml", 2.15 },
    { "gshard-512e-36l",  "topologies/tpuv3-16x16.xml", 1.05 },
    { "gshard-512e-12l",  "topologies/tpuv3-16x16.xml", 3.28 },
    { "gshard-128e-36l",  "topologies/tpuv3-8x8.xml",   0.67 },
    { "gshard-128e-12l",  "topologies/tpuv3-8x8.xml",   2.16 },
};
#define N_GSHARD (int)(sizeof GSHARD / sizeof GSHARD[0])

/* A prediction within this factor of the measurement passes: the cost model is calibrated on per-op
 * efficiencies (GShard Fig. 8), not on Table 3, and GShard's sequence length is an assumption. */
#define VALIDATE_GSHARD_FACTOR 2.0

typedef struct {
    const char *models_path, *model, *platform;
    int top_k;               /* 0: the preset's */
    cost_dispatch dispatch;
    route_kind routing;
    double cf;               /* 0: the preset's */
} vrun_arg;

/* Child process: one simulated step; out = step time, a2a bytes per core, dropped fraction. */
static int vrun(void *argp, double *out, int nout, errbuf *err)
{
    const vrun_arg *a = argp;
    model_set *ms = model_set_load_csv(a->models_path, err);
    if (ms == NULL)
        return -1;
    engine_config cfg = engine_config_default();
    cfg.platform = a->platform;
    cfg.model = model_set_find(ms, a->model);
    if (cfg.model == NULL) {
        model_set_free(ms);
        return errbuf_set(err, "%s: no model '%s'", a->models_path, a->model);
    }
    cfg.top_k = a->top_k;
    cfg.capacity_factor = a->cf;
    route_parse(&cfg.routing, a->routing == ROUTE_UNIFORM ? "uniform" : "router", err);
    cfg.dispatch = a->dispatch;
    cfg.a2a = COLL_A2A_PHASED;
    cfg.act_bytes = strncmp(a->model, "gshard", 6) == 0 ? 4 : 2;   /* GShard's main runs: fp32 activations */
    engine_result res;
    int rc = engine_run(&res, &cfg, err);
    if (rc == 0 && nout >= 3) {
        out[0] = res.step.step_time_s;
        out[1] = res.step.a2a_bytes_per_core;
        out[2] = res.step.dropped_frac;
    }
    engine_result_fini(&res);
    model_set_free(ms);
    return rc;
}

static int validate_gshard(vreport *r, int quick, errbuf *err)
{
    for (int i = 0; i < N_GSHARD; i++) {
        if (quick && strstr(GSHARD[i].platform, "32x32") != NULL)
            continue;
        vrun_arg a = { VALIDATE_GSHARD_MODELS, GSHARD[i].model, GSHARD[i].platform, 0, COST_DISPATCH_EINSUM,
                      ROUTE_ROUTER, 0.0 };
        double out[3];
        if (simproc_run(vrun, &a, out, 3, err) != 0)
            return -1;
        double ref = 1.0 / GSHARD[i].steps_per_s;
        char name[128];
        const char *plat = strrchr(GSHARD[i].platform, '/');
        snprintf(name, sizeof name, "GShard Table 3 step time %s on %s", GSHARD[i].model,
                 plat != NULL ? plat + 1 : GSHARD[i].platform);
        if (vreport_add(r, name, "s", out[0], ref, ref / VALIDATE_GSHARD_FACTOR, ref * VALIDATE_GSHARD_FACTOR,
                        "SOURCES 6.1 Table 3") != 0)
            return errbuf_set(err, "out of memory");
    }
    return 0;
}

/* k=1 vs k=2 on the same plan and seed: padded dispatch sends equal bytes whatever k (capacity
 * does not grow with k, Mesh TF); exact dispatch with capacity for every choice sends about twice the bytes. */
static int validate_topk(vreport *r, errbuf *err)
{
    double o1[3], o2[3];
    vrun_arg a = { "models/models.csv", "switch-base", "topologies/tpuv3-4x4.xml", 1, COST_DISPATCH_EINSUM,
                  ROUTE_UNIFORM, 0.0 };
    if (simproc_run(vrun, &a, o1, 3, err) != 0)
        return -1;
    a.top_k = 2;
    if (simproc_run(vrun, &a, o2, 3, err) != 0)
        return -1;
    if (vreport_add(r, "padded a2a bytes/core, top-2 / top-1 (switch-base 4x4)", "x", o2[1] / o1[1], 1.0,
                    1.0 - 1e-12, 1.0 + 1e-12, "MTF capacity, SOURCES 4.2") != 0)
        return errbuf_set(err, "out of memory");
    /* exact dispatch with capacity for every choice (cf 4 x uniform routing drops nothing in practice) */
    a.dispatch = COST_DISPATCH_GATHER;
    a.cf = 4.0;
    a.top_k = 1;
    if (simproc_run(vrun, &a, o1, 3, err) != 0)
        return -1;
    a.top_k = 2;
    if (simproc_run(vrun, &a, o2, 3, err) != 0)
        return -1;
    if (vreport_add(r, "exact a2a bytes/core, top-2 / top-1, cf 4 (switch-base 4x4)", "x", o2[1] / o1[1], 2.0,
                    1.9, 2.1, "k choices per token") != 0 ||
        vreport_add(r, "exact dispatch dropped fraction, top-2, cf 4", "", o2[2], 0.0, 0.0, 1e-3,
                    "no drops at cf 4") != 0)
        return errbuf_set(err, "out of memory");
    return 0;
}

/* The all-to-all scaling data (analysis/a2a_scaling.gp): one row per cores and algorithm. */
static int validate_write_scaling(FILE *fp, const void *arg, errbuf *err)
{
    const coll_scaling *sc = arg;
    (void)err;
    fprintf(fp, "cores,algorithm,a2a_s,bisection_s\n");
    for (int i = 0; i < sc->n; i++) {
        fprintf(fp, "%d,phased,%.9g,%.9g\n", sc->cores[i], sc->phased_s[i], sc->bisection_s[i]);
        if (!isnan(sc->direct_s[i]))
            fprintf(fp, "%d,direct,%.9g,%.9g\n", sc->cores[i], sc->direct_s[i], sc->bisection_s[i]);
    }
    return 0;
}

/* The measured GPU datasets: one-GPU steps (with the calibration rows), and expert-parallel steps on 1 to 8
 * GPUs (none fitted on; rows on more GPUs than were lent are predictions until measured). */
static const measured_source GPU_SOURCES[] = {
    { VALIDATE_GPU_DATASET, "H200" },
    { VALIDATE_GPU_EP_DATASET, "H200 expert-parallel" },
};

int cmd_validate(int argc, char **argv)
{
    static const struct option LONG[] = {
        { "quick", no_argument, NULL, 'q' }, { "a2a-only", no_argument, NULL, 'a' },
        { "gpu-only", no_argument, NULL, 'g' }, { "gpu-csv", required_argument, NULL, 'G' },
        { "csv", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    int quick = 0, a2a_only = 0, gpu_only = 0, c;
    const char *csv = NULL, *gpu_csv = NULL;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", LONG, NULL)) != -1) {
        if (c == 'q') {
            quick = 1;
        } else if (c == 'a') {
            a2a_only = 1;
        } else if (c == 'g') {
            gpu_only = 1;
        } else if (c == 'G') {
            gpu_csv = optarg;
        } else if (c == 'o') {
            csv = optarg;
        } else if (c == 'h') {
            printf("usage: switchsim validate [--quick] [--a2a-only | --gpu-only] [--csv FILE] [--gpu-csv FILE]\n\n"
                   "Runs the built-in checks and prints, for each, the model value, the reference, the error\n"
                   "and PASS/FAIL: closed-form matmul costs and GShard per-op efficiencies (Fig. 8); all-to-all\n"
                   "times against the bisection and busiest-link bounds at 4x4 and 8x8 chips, phased vs direct,\n"
                   "and the all-to-all scaling exponent from 32 to 2048 cores (GShard Fig. 9); top-1 vs top-2\n"
                   "bytes; GShard Table 3 step times; the measured H200 datasets (%s and\n"
                   "%s): every row predicted on %s (rows of n GPUs on its\n"
                   "n-GPU twin), the error on the held-out rows (calibration rows and rows not yet measured are\n"
                   "shown, not scored), and the ordering of rows that differ in one setting.  Each simulation\n"
                   "runs in its own process.\n"
                   "  --quick      skip the 2048-core GShard runs (the slowest)\n"
                   "  --a2a-only   only the all-to-all checks\n"
                   "  --gpu-only   only the measured GPU datasets\n"
                   "  --gpu-csv FILE  write the GPU rows (name,split,measured_s,measured_min_s,measured_max_s,\n"
                   "               predicted_s,error,gpus,dataset; split 'unmeasured' has no measured columns)\n"
                   "               for analysis/parity.gp\n"
                   "  --csv FILE   write the all-to-all scaling data (cores,algorithm,a2a_s,bisection_s; seconds)\n"
                   "               for analysis/a2a_scaling.gp\n"
                   "Exit codes: 0 all PASS, 1 a check failed or could not run, 2 usage.\n",
                   VALIDATE_GPU_DATASET, VALIDATE_GPU_EP_DATASET, VALIDATE_GPU_PLATFORM);
            return 0;
        } else {
            fprintf(stderr, "switchsim: error: validate: unknown option or missing value '%s'\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "switchsim: error: validate: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    errbuf cerr = { "" };
    if (a2a_only && gpu_only) {
        fprintf(stderr, "switchsim: error: validate: --a2a-only and --gpu-only exclude each other\n");
        return 2;
    }
    if (atomic_check_writable("--csv", csv, &cerr) != 0 || atomic_check_writable("--gpu-csv", gpu_csv, &cerr) != 0) {   /* fail before a minute of simulations, not after */
        fprintf(stderr, "switchsim: error: validate: %s\n", cerr.msg);
        return 1;
    }
    vreport r;
    vreport_init(&r);
    errbuf err = { "" };
    coll_scaling sc;
    memset(&sc, 0, sizeof sc);
    int rc = 0;
    int all = !a2a_only && !gpu_only;
    if ((all && cost_validate(&r, &err) != 0) || (!gpu_only && coll_validate_scaling(&r, &sc, &err) != 0) ||
        (all && (validate_topk(&r, &err) != 0 || validate_gshard(&r, quick, &err) != 0)) ||
        (!a2a_only && measured_validate(&r, GPU_SOURCES, 2, VALIDATE_GPU_PLATFORM, stdout, gpu_csv, &err) != 0) ||
        (!a2a_only && collmeas_validate(&r, VALIDATE_GPU_COLL_DATASET, VALIDATE_GPU_PLATFORM, stdout, &err) != 0) ||
        (csv != NULL && !gpu_only && atomic_file_write(csv, validate_write_scaling, &sc, &err) != 0)) {
        vreport_print(&r, stdout);
        fprintf(stderr, "switchsim: error: validate: %s\n", err.msg);
        vreport_fini(&r);
        return 1;
    }
    vreport_print(&r, stdout);
    rc = vreport_failed(&r) ? 1 : 0;
    vreport_fini(&r);
    return rc;
}
