/* cmd_validate: 'switchsim validate', the fidelity report (fidelity/validate.h): the cost model's calibration rows
 * (fidelity/cost_validate.c), all-to-alls against the bisection bound and GShard Fig. 9 (sim/coll_validate.c),
 * whole simulated steps against GShard Table 3 (SOURCES 6.1, here) and the measured H200 dataset
 * (fidelity/measured.c, fidelity/collmeas.c).  Each simulation runs in its own process. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim/cli/cmd.h"
#include "sim/cli/cliopt.h"
#include "sim/collectives.h"
#include "sim/common/atomicio.h"
#include "fidelity/collmeas.h"
#include "sim/cost.h"
#include "sim/engine.h"
#include "fidelity/measured.h"
#include "sim/simproc.h"
#include "fidelity/validate.h"

#define VALIDATE_GSHARD_MODELS "models/gshard.csv"
/* The measured GPU dataset and the platform its rows are predicted on. */
#define VALIDATE_GPU_DATASET "data/h200-switch-steps.csv"
#define VALIDATE_GPU_EP_DATASET "data/h200-ep-steps.csv"
#define VALIDATE_GPU_COLL_DATASET "data/h200-collectives.csv"
#define VALIDATE_GPU_PLATFORM "topologies/h200-1gpu.xml"

/* GShard Table 3 [SOURCES 6.1]: steps/s on TPUv3 cores (Table 1); step time = 1 / steps/s. */
static const struct {
    const char *model, *platform;
    int cores;
    double steps_per_s;
} GSHARD[] = {
    { "gshard-2048e-36l", "topologies/tpuv3-32x32.xml", 2048, 0.72 },
    { "gshard-2048e-12l", "topologies/tpuv3-32x32.xml", 2048, 2.15 },
    { "gshard-512e-36l",  "topologies/tpuv3-16x16.xml", 512,  1.05 },
    { "gshard-512e-12l",  "topologies/tpuv3-16x16.xml", 512,  3.28 },
    { "gshard-128e-36l",  "topologies/tpuv3-8x8.xml",   128,  0.67 },
    { "gshard-128e-12l",  "topologies/tpuv3-8x8.xml",   128,  2.16 },
};
#define N_GSHARD (int)(sizeof GSHARD / sizeof GSHARD[0])

/* A prediction within 50% of the measured step passes: the cost model is calibrated on per-op efficiencies
 * (GShard Fig. 8), not on Table 3, and GShard's sequence length and batch accounting are assumptions
 * (models/gshard.csv). */
#define VALIDATE_GSHARD_TOL 0.5
/* Share of cycles spent recomputing the forward pass, GShard Section 5.2: 28% for 36 layers (34% for 60); taken
 * for every row, 12-layer ones included (the smallest share reported). */
#define VALIDATE_GSHARD_REMAT_SHARE 0.28

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

/* GShard Table 3 rows.  Each measured step time implies a rate of model FLOPs per chip under the accounting of
 * models/gshard.csv (batch = source-side tokens, 18 + 18 layers for 36L, target as long as the source); a row
 * whose implied rate, with GShard's recompute share, exceeds the chip's peak cannot be reconciled with that
 * accounting: it is shown, excluded, with the numbers. */
static int validate_gshard(vreport *r, int quick, errbuf *err)
{
    char mbuf[4096];
    const char *models = cmd_data_path(VALIDATE_GSHARD_MODELS, mbuf, sizeof mbuf);
    model_set *ms = model_set_load_csv(models, err);
    if (ms == NULL)
        return -1;
    cost_chip chip;
    cost_chip_tpuv3(&chip);
    double peak = chip.bf16_flops * chip.cores_per_chip;   /* per chip */
    int rc = -1;
    for (int i = 0; i < N_GSHARD; i++) {
        if (quick && GSHARD[i].cores > 512)
            continue;
        const model_cfg *m = model_set_find(ms, GSHARD[i].model);
        if (m == NULL) {
            errbuf_set(err, "%s: no model '%s'", models, GSHARD[i].model);
            goto done;
        }
        char pbuf[4096];
        vrun_arg a = { models, GSHARD[i].model, cmd_data_path(GSHARD[i].platform, pbuf, sizeof pbuf), 0,
                       COST_DISPATCH_EINSUM, ROUTE_ROUTER, 0.0 };
        double out[3];
        if (simproc_run(vrun, &a, out, 3, err) != 0)
            goto done;
        double ref = 1.0 / GSHARD[i].steps_per_s;
        int chips = GSHARD[i].cores / chip.cores_per_chip;
        double implied = validate_implied_flops_per_chip(m, ref, chips);
        double hw = implied / (1.0 - VALIDATE_GSHARD_REMAT_SHARE);
        char name[128];
        const char *plat = strrchr(GSHARD[i].platform, '/');
        snprintf(name, sizeof name, "%s step time on %s", GSHARD[i].model, plat != NULL ? plat + 1 : GSHARD[i].platform);
        vcheck *c = vreport_add(r, VLABEL_MEASURED, "gshard-table3", name, "s", out[0], ref, VALIDATE_GSHARD_TOL,
                                "SOURCES 6.1 Table 3");
        if (c == NULL) {
            errbuf_set(err, "out of memory");
            goto done;
        }
        c->excluded = hw > peak;
        snprintf(c->note, sizeof c->note,
                 "%.2f steps/s implies %.1f TFLOP/s of model FLOPs per chip (%.0f%% of the %.0f TFLOP/s peak), "
                 "%.0f%% with %.0f%% of cycles recomputed%s", GSHARD[i].steps_per_s, implied / 1e12,
                 100.0 * implied / peak, peak / 1e12, 100.0 * hw / peak, 100.0 * VALIDATE_GSHARD_REMAT_SHARE,
                 c->excluded ? ": over the peak, so it cannot be reconciled with this accounting (batch = source "
                               "tokens, 18 + 18 layers for 36L, sequence 1024): excluded" : "");
    }
    rc = 0;
done:
    model_set_free(ms);
    return rc;
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
 * GPUs (none fitted on; rows on more GPUs than were lent are predictions until measured, shown without a row). */
#define N_GPU_SOURCES 2
static const measured_source GPU_SOURCES[N_GPU_SOURCES] = {
    { VALIDATE_GPU_DATASET, "H200", "h200-steps", "SOURCES 5.2 h200-switch-steps" },
    { VALIDATE_GPU_EP_DATASET, "H200 expert-parallel", "h200-ep-steps", "SOURCES 5.2 h200-ep-steps" },
};

static int validate_write_rows(FILE *fp, const void *arg, errbuf *err)
{
    (void)err;
    return vreport_write_csv(fp, arg);
}

static void validate_usage(FILE *fp)
{
    fprintf(fp,
        "usage: switchsim validate [--quick] [--a2a-only | --gpu-only] [--csv FILE] [--a2a-csv FILE]\n\n"
        "Compares switchsim with numbers it was not built from, one row each, labelled:\n"
        "  measured     a published or committed measurement (source: a SOURCES.md key): GShard Table 3\n"
        "               step times on 128 to 2048 TPUv3 cores, the all-to-all growth of GShard Fig. 9,\n"
        "               and the held-out rows of the measured H200 datasets (%s and\n"
        "               %s, predicted from %s; a row of n GPUs on its\n"
        "               n-GPU twin; rows not measured yet are printed, not rows), and the measured NCCL\n"
        "               collectives across links (%s).  PASS within the row's stated tolerance.\n"
        "               A row whose source cannot be reconciled is EXCLUDED, with the numbers that say why\n"
        "  bound        an independent lower bound (the torus bisection for all-to-alls): PASS when not\n"
        "               violated\n"
        "  calibration  a number a parameter was fitted to (GShard Fig. 8 efficiencies, the H200\n"
        "               calibration rows): SHOWN, never counted\n"
        "The summary gives per label the rows and the mean and max |error| (switchsim / reference - 1).\n"
        "Self-checks of the model against its own formulas are Check tests, not rows here.  Data files are\n"
        "found as 'run' finds models/models.csv (current directory, next to the binary, installed copy).\n"
        "Each simulation runs in its own process.\n"
        "  --quick         skip the 2048-core GShard runs (the slowest)\n"
        "  --a2a-only      only the all-to-all rows\n"
        "  --gpu-only      only the measured GPU datasets\n"
        "  --csv FILE      write the rows (label,group,name,unit,model,reference,reference_min,\n"
        "                  reference_max,error,tolerance,status,source,note) for analysis/parity.gp\n"
        "  --a2a-csv FILE  write the all-to-all scaling data (cores,algorithm,a2a_s,bisection_s; seconds)\n"
        "                  for analysis/a2a_scaling.gp\n"
        "Exit codes: 0 no bound violated and every scored measured row within tolerance, 1 a row failed\n"
        "or could not run, 2 usage.\n",
        VALIDATE_GPU_DATASET, VALIDATE_GPU_EP_DATASET, VALIDATE_GPU_PLATFORM, VALIDATE_GPU_COLL_DATASET);
}

/* validate's command line. */
typedef struct {
    int quick, a2a_only, gpu_only;
    const char *csv, *a2a_csv;   /* NULL: not written */
} validate_args;

/* Reads the command line into 'a'.  Returns 0, 2 after a usage message (exit 2), or 3 after the help (exit 0). */
static int validate_parse(validate_args *a, int argc, char **argv)
{
    static const struct option LONG[] = {
        { "quick", no_argument, NULL, 'q' }, { "a2a-only", no_argument, NULL, 'a' },
        { "gpu-only", no_argument, NULL, 'g' }, { "a2a-csv", required_argument, NULL, 'A' },
        { "csv", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    memset(a, 0, sizeof *a);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", LONG, NULL)) != -1) {
        switch (c) {
        case 'q': a->quick = 1; break;
        case 'a': a->a2a_only = 1; break;
        case 'g': a->gpu_only = 1; break;
        case 'A': a->a2a_csv = optarg; break;
        case 'o': a->csv = optarg; break;
        case 'h': validate_usage(stdout); return 3;
        default:
            return cliopt_bad_option(stderr, "validate", LONG, c, argv[optind - 1]);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "switchsim: error: validate: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (a->a2a_only && a->gpu_only) {
        fprintf(stderr, "switchsim: error: validate: --a2a-only and --gpu-only exclude each other\n");
        return 2;
    }
    return 0;
}

/* Where the measured datasets and the one-GPU platform are (cmd_data_path), with the buffers that hold them. */
typedef struct {
    measured_source gpu_src[N_GPU_SOURCES];
    const char *gpu_platform, *coll_path;
    char dbufs[N_GPU_SOURCES][4096], pbuf[4096], cbuf[4096];
} validate_data;

static void validate_find_data(validate_data *d)
{
    for (int i = 0; i < N_GPU_SOURCES; i++) {
        d->gpu_src[i] = GPU_SOURCES[i];
        d->gpu_src[i].path = cmd_data_path(GPU_SOURCES[i].path, d->dbufs[i], sizeof d->dbufs[i]);
    }
    d->gpu_platform = cmd_data_path(VALIDATE_GPU_PLATFORM, d->pbuf, sizeof d->pbuf);
    d->coll_path = cmd_data_path(VALIDATE_GPU_COLL_DATASET, d->cbuf, sizeof d->cbuf);
}

/* Every row the options ask for, in report order: cost model, all-to-alls, GShard steps, measured GPU steps,
 * measured collectives.  The measured datasets print their unscored predictions on the way. */
static int validate_rows(vreport *r, coll_scaling *sc, const validate_args *a, const validate_data *d, errbuf *err)
{
    int all = !a->a2a_only && !a->gpu_only;
    if ((all && cost_validate(r, err) != 0) || (!a->gpu_only && coll_validate_scaling(r, sc, err) != 0) ||
        (all && validate_gshard(r, a->quick, err) != 0))
        return -1;
    if (!a->a2a_only && (measured_validate(r, d->gpu_src, N_GPU_SOURCES, d->gpu_platform, stdout, err) != 0 ||
                         collmeas_validate(r, d->coll_path, d->gpu_platform, stdout, err) != 0))
        return -1;
    return 0;
}

/* The CSV files the options name: the rows, and the all-to-all scaling data. */
static int validate_write(const validate_args *a, const vreport *r, const coll_scaling *sc, errbuf *err)
{
    if (a->csv != NULL && atomic_file_write(a->csv, validate_write_rows, r, err) != 0)
        return -1;
    if (a->a2a_csv != NULL && !a->gpu_only && atomic_file_write(a->a2a_csv, validate_write_scaling, sc, err) != 0)
        return -1;
    return 0;
}

int cmd_validate(int argc, char **argv)
{
    validate_args a;
    int rc = validate_parse(&a, argc, argv);
    if (rc != 0)
        return rc == 3 ? 0 : rc;
    errbuf err = { "" };
    /* Outputs are checked before a minute of simulations, not after. */
    if (atomic_check_writable("--csv", a.csv, &err) != 0 || atomic_check_writable("--a2a-csv", a.a2a_csv, &err) != 0) {
        fprintf(stderr, "switchsim: error: validate: %s\n", err.msg);
        return 1;
    }
    validate_data d;
    validate_find_data(&d);
    vreport r;
    vreport_init(&r);
    coll_scaling sc;
    memset(&sc, 0, sizeof sc);
    rc = validate_rows(&r, &sc, &a, &d, &err);
    if (rc == 0)
        rc = validate_write(&a, &r, &sc, &err);
    vreport_print(&r, stdout);
    if (rc != 0)
        fprintf(stderr, "switchsim: error: validate: %s\n", err.msg);
    else
        rc = vreport_failed(&r) ? 1 : 0;
    vreport_fini(&r);
    return rc != 0 ? 1 : 0;
}
