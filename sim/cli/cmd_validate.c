/* cmd_validate: 'switchsim validate', the fidelity report (fidelity/validate.h): the cost model's calibration rows
 * (fidelity/cost_validate.c), all-to-alls against the bisection bound and GShard Fig. 9 (fidelity/coll_validate.c),
 * whole simulated steps against GShard Table 3 (fidelity/published.c) and the measured H200 dataset
 * (fidelity/measured.c, fidelity/collmeas.c).  Each simulation runs in its own process. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fidelity/collmeas.h"
#include "fidelity/measured.h"
#include "fidelity/published.h"
#include "fidelity/torchsteps.h"
#include "fidelity/validate.h"
#include "sim/cli/cmd.h"
#include "sim/cli/cliopt.h"
#include "sim/common/atomicio.h"

/* The measured GPU dataset and the platform its rows are predicted on. */
#define VALIDATE_GPU_DATASET "data/h200-switch-steps.csv"
#define VALIDATE_TORCH_DATASET "data/h100-moe-steps.csv"
#define VALIDATE_GPU_EP_DATASET "data/h200-ep-steps.csv"
#define VALIDATE_GPU_COLL_DATASET "data/h200-collectives.csv"
#define VALIDATE_GPU_PLATFORM "topologies/h200-1gpu.xml"
#define VALIDATE_TORCH_PLATFORM "topologies/h100-1gpu.xml"

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
 * GPUs (none fitted on; rows on more GPUs than were available are predictions until measured, shown without a row). */
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
        "Compares switchsim with measurements, one row each, labelled:\n"
        "  measured     a held-out measurement (source: a SOURCES.md key) that no choice of the model was\n"
        "               made by looking at: the all-to-all growth of GShard Fig. 9, the held-out rows of the\n"
        "               measured H200 datasets (%s and %s,\n"
        "               predicted from %s; a row of n GPUs on its n-GPU twin; rows not\n"
        "               measured yet are printed, not rows), and the measured NCCL collectives across links\n"
        "               (%s), and the held-out rows of the PyTorch MoE steps on one H100 (%s:\n"
        "               within 20%%, mean |error| target 8%%; rows the engine cannot simulate yet are\n"
        "               printed 'not predicted: WHY', not rows).  PASS within the row's stated tolerance.\n"
        "               A row whose source cannot be reconciled is EXCLUDED, and a row that measures a\n"
        "               configuration another row measured is a REPEAT (counted once): both shown, neither\n"
        "               counted\n"
        "  bound        an independent lower bound (the torus bisection for all-to-alls): PASS when not\n"
        "               violated\n"
        "  calibration  a number a choice of the model (a fitted parameter, an accounting, an efficiency,\n"
        "               a profile default) was made by looking at: GShard Fig. 8 efficiencies, GShard\n"
        "               Table 3 step times on 128 to 2048 TPUv3 cores, the H200 calibration rows.  SHOWN,\n"
        "               never counted\n"
        "The summary gives per label the rows and the mean and max |error| (switchsim / reference - 1),\n"
        "then the accuracy class by class: one-device steps, multi-device steps, collectives, TPU\n"
        "published rows, bounds (scored rows, calibration rows, repeats, rows planned but not measured).\n"
        "Self-checks of the model against its own formulas are Check tests, not rows here.  Data files are\n"
        "found as 'run' finds models/models.csv (current directory, next to the binary, installed copy).\n"
        "Each simulation runs in its own process.\n"
        "  --quick         skip the 2048-core GShard runs (the slowest)\n"
        "  --a2a-only      only the all-to-all rows\n"
        "  --gpu-only      only the measured GPU datasets\n"
        "  --csv FILE      write the rows (label,class,group,name,unit,model,reference,reference_min,\n"
        "                  reference_max,error,tolerance,status,source,note) for analysis/parity.gp\n"
        "  --a2a-csv FILE  write the all-to-all scaling data (cores,algorithm,a2a_s,bisection_s; seconds)\n"
        "                  for analysis/a2a_scaling.gp\n"
        "Exit codes: 0 no bound violated and every scored measured row within tolerance, 1 a row failed\n"
        "or could not run, 2 usage.\n",
        VALIDATE_GPU_DATASET, VALIDATE_GPU_EP_DATASET, VALIDATE_GPU_PLATFORM, VALIDATE_GPU_COLL_DATASET,
        VALIDATE_TORCH_DATASET);
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
    const char *gpu_platform, *coll_path, *torch_path, *torch_platform;
    char dbufs[N_GPU_SOURCES][4096], pbuf[4096], cbuf[4096], tbuf[4096], tpbuf[4096];
} validate_data;

static void validate_find_data(validate_data *d)
{
    for (int i = 0; i < N_GPU_SOURCES; i++) {
        d->gpu_src[i] = GPU_SOURCES[i];
        d->gpu_src[i].path = cmd_data_path(GPU_SOURCES[i].path, d->dbufs[i], sizeof d->dbufs[i]);
    }
    d->gpu_platform = cmd_data_path(VALIDATE_GPU_PLATFORM, d->pbuf, sizeof d->pbuf);
    d->coll_path = cmd_data_path(VALIDATE_GPU_COLL_DATASET, d->cbuf, sizeof d->cbuf);
    d->torch_path = cmd_data_path(VALIDATE_TORCH_DATASET, d->tbuf, sizeof d->tbuf);
    d->torch_platform = cmd_data_path(VALIDATE_TORCH_PLATFORM, d->tpbuf, sizeof d->tpbuf);
}

/* Every row the options ask for, in report order: cost model, all-to-alls, GShard steps, measured GPU steps,
 * measured collectives.  The measured datasets print their unscored predictions on the way. */
static int validate_rows(vreport *r, coll_scaling *sc, const validate_args *a, const validate_data *d, errbuf *err)
{
    int all = !a->a2a_only && !a->gpu_only;
    vreport_set_class(r, VCLASS_TPU_PUBLISHED);   /* GShard's figures and table; bounds are their own class */
    if ((all && cost_validate(r, err) != 0) || (!a->gpu_only && coll_validate_scaling(r, sc, err) != 0) ||
        (all && published_gshard(r, cmd_data_path, a->quick, err) != 0))
        return -1;
    if (!a->a2a_only && (measured_validate(r, d->gpu_src, N_GPU_SOURCES, d->gpu_platform, stdout, err) != 0 ||
                         collmeas_validate(r, d->coll_path, d->gpu_platform, stdout, err) != 0 ||
                         torchsteps_validate_file(r, d->torch_path, d->torch_platform, stdout, err) != 0))
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
