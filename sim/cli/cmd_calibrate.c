/* cmd_calibrate: 'switchsim calibrate', the fit of the GPU cost model's named parameters (mm_efficiency,
 * hbm_efficiency, op_overhead_s, optimizer_bytes_per_param) to the calibration rows of a measured dataset.
 * It prints the values; the chip preset (topologies/chip.c) holds them and the platforms carry them. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/cli/cmd.h"
#include "sim/cli/cliopt.h"
#include "fidelity/measured.h"
#include "fidelity/torchsteps.h"

#define CALIBRATE_DATASET "data/h200-switch-steps.csv"
#define CALIBRATE_PLATFORM "topologies/h200-1gpu.xml"
#define CALIBRATE_TORCH_DATASET "data/h100-moe-steps.csv"
#define CALIBRATE_TORCH_PLATFORM "topologies/h100-1gpu.xml"
#define TORCHSTEPS_NAME_PATH (MODEL_NAME_MAX + 8)   /* "/NAME.csv" */

/* --torch: the torch profile's parameters fitted to the calibration rows of the PyTorch dataset. */
static int calibrate_torch(const char *dataset, const char *platform, int quiet)
{
    char dir[] = "/tmp/switchsim-torchfit-XXXXXX";   /* the rows' routing, recorded once, replayed after */
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "switchsim: error: calibrate: cannot create a folder in /tmp: %s\n", strerror(errno));
        return 1;
    }
    torchsteps_engine_arg ea = { platform, dir };
    errbuf err = { "" };
    torchsteps_set *s = torchsteps_load(dataset, &err);
    if (s == NULL) {
        fprintf(stderr, "switchsim: error: calibrate: %s\n", err.msg);
        return 1;
    }
    cost_chip chip;
    cost_chip_h100(&chip);
    torchsteps_fit fit;
    int rc = torchsteps_calibrate(&fit, s, &chip, torchsteps_predict_engine, &ea,
                                  quiet ? NULL : stderr, &err);
    for (int i = 0; i < s->n; i++) {
        char path[sizeof dir + TORCHSTEPS_NAME_PATH];
        snprintf(path, sizeof path, "%s/%s.csv", dir, s->rows[i].model.name);
        unlink(path);
    }
    rmdir(dir);
    torchsteps_free(s);
    if (rc != 0) {
        fprintf(stderr, "switchsim: error: calibrate: %s\n", err.msg);
        return 1;
    }
    printf("fitted on the %d calibration rows of %s (%d evaluations), rms ln error %.4f\n", fit.rows, dataset,
           fit.evals, fit.rms_log_err);
    printf("mm_efficiency %.4f\nhbm_efficiency %.4f\nop_overhead_s %.4g\ngrouped_mm_efficiency %.4f\n",
           fit.p.mm_efficiency, fit.p.hbm_efficiency, fit.p.op_overhead_s, fit.p.grouped_mm_efficiency);
    return 0;
}

int cmd_calibrate(int argc, char **argv)
{
    static const struct option LONG[] = {
        { "dataset", required_argument, NULL, 'd' }, { "platform", required_argument, NULL, 'p' },
        { "quiet", no_argument, NULL, 'q' }, { "torch", no_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    char dbuf[4096], pbuf[4096];   /* the default files, found as run finds models/models.csv */
    const char *dataset = cmd_data_path(CALIBRATE_DATASET, dbuf, sizeof dbuf);
    const char *platform = cmd_data_path(CALIBRATE_PLATFORM, pbuf, sizeof pbuf);
    int quiet = 0, torch = 0, dataset_given = 0, platform_given = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", LONG, NULL)) != -1) {
        if (c == 'd') {
            dataset = optarg;
            dataset_given = 1;
        } else if (c == 't') {
            torch = 1;
        } else if (c == 'p') {
            platform = optarg;
            platform_given = 1;
        } else if (c == 'q') {
            quiet = 1;
        } else if (c == 'h') {
            printf("usage: switchsim calibrate [--dataset FILE] [--platform FILE] [--quiet]\n"
                   "       switchsim calibrate --torch [--dataset FILE] [--quiet]\n\n"
                   "Fits the GPU cost model's parameters mm_efficiency, hbm_efficiency (fractions of the\n"
                   "datasheet peaks), op_overhead_s (seconds per kernel) and optimizer_bytes_per_param (HBM\n"
                   "bytes per parameter per step) to the rows of a measured dataset whose 'split' is\n"
                   "'calibration', minimising the squared log error of the step time (GSL Nelder-Mead, from\n"
                   "fixed starting values, so the result depends on the dataset and the platform's other\n"
                   "numbers only).  Held-out rows are never read by the fit: 'switchsim validate' scores\n"
                   "them.  Prints the fitted values; the H200 preset (topologies/chip.c) holds the values it\n"
                   "prints for the shipped dataset and platform, and a test keeps them equal.\n"
                   "  --dataset FILE   measured dataset (default %s)\n"
                   "  --platform FILE  one-GPU platform whose other numbers are kept (default %s)\n"
                   "  --quiet          no progress lines on stderr\n"
                   "  --torch          fit the torch profile (PyTorch eager on one H100: mm_efficiency,\n"
                   "                   hbm_efficiency, op_overhead_s, grouped_mm_efficiency) to the calibration\n"
                   "                   rows of %s, from the H100 preset's values; every\n"
                   "                   calibration row must be predicted (exit 1 naming the first that is not)\n"
                   "Every step of the fit simulates every calibration row: a few hundred evaluations, about\n"
                   "a minute of CPU for the shipped dataset.\n"
                   "Exit codes: 0 success, 1 bad input, 2 usage.\n", CALIBRATE_DATASET, CALIBRATE_PLATFORM,
                   CALIBRATE_TORCH_DATASET);
            return 0;
        } else {
            return cliopt_bad_option(stderr, "calibrate", LONG, c, argv[optind - 1]);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "switchsim: error: calibrate: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (torch && platform_given) {
        fprintf(stderr, "switchsim: error: calibrate: --torch fits on the H100 preset; --platform is not read\n");
        return 2;
    }
    if (torch) {
        char tbuf[4096], tpbuf[4096];
        return calibrate_torch(dataset_given ? dataset : cmd_data_path(CALIBRATE_TORCH_DATASET, tbuf, sizeof tbuf),
                               cmd_data_path(CALIBRATE_TORCH_PLATFORM, tpbuf, sizeof tpbuf), quiet);
    }
    errbuf err = { "" };
    measured_set *s = measured_load(dataset, &err);
    if (s == NULL) {
        fprintf(stderr, "switchsim: error: calibrate: %s\n", err.msg);
        return 1;
    }
    measured_fit fit;
    int rc = measured_calibrate(&fit, s, platform, !quiet, &err);
    measured_free(s);
    if (rc != 0) {
        fprintf(stderr, "switchsim: error: calibrate: %s\n", err.msg);
        return 1;
    }
    printf("fitted on the calibration rows of %s (%d evaluations), rms ln error %.4f\n", dataset, fit.evals,
           fit.rms_log_err);
    printf("mm_efficiency %.4f\nhbm_efficiency %.4f\nop_overhead_s %.4g\noptimizer_bytes_per_param %.2f\n",
           fit.mm_efficiency, fit.hbm_efficiency, fit.op_overhead_s, fit.opt_bytes_per_param);
    return 0;
}
