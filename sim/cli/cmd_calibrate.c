/* cmd_calibrate: 'switchsim calibrate', the fit of the GPU cost model's named parameters (mm_efficiency,
 * hbm_efficiency, op_overhead_s, optimizer_bytes_per_param) to the calibration rows of a measured dataset.
 * It prints the values; the chip preset (topologies/chip.c) holds them and the platforms carry them. */
#include <getopt.h>
#include <stdio.h>

#include "sim/cli/cmd.h"
#include "sim/cli/cliopt.h"
#include "fidelity/measured.h"

#define CALIBRATE_DATASET "data/h200-switch-steps.csv"
#define CALIBRATE_PLATFORM "topologies/h200-1gpu.xml"

int cmd_calibrate(int argc, char **argv)
{
    static const struct option LONG[] = {
        { "dataset", required_argument, NULL, 'd' }, { "platform", required_argument, NULL, 'p' },
        { "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    char dbuf[4096], pbuf[4096];   /* the default files, found as run finds models/models.csv */
    const char *dataset = cmd_data_path(CALIBRATE_DATASET, dbuf, sizeof dbuf);
    const char *platform = cmd_data_path(CALIBRATE_PLATFORM, pbuf, sizeof pbuf);
    int quiet = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", LONG, NULL)) != -1) {
        if (c == 'd') {
            dataset = optarg;
        } else if (c == 'p') {
            platform = optarg;
        } else if (c == 'q') {
            quiet = 1;
        } else if (c == 'h') {
            printf("usage: switchsim calibrate [--dataset FILE] [--platform FILE] [--quiet]\n\n"
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
                   "Every step of the fit simulates every calibration row: a few hundred evaluations, about\n"
                   "a minute of CPU for the shipped dataset.\n"
                   "Exit codes: 0 success, 1 bad input, 2 usage.\n", CALIBRATE_DATASET, CALIBRATE_PLATFORM);
            return 0;
        } else {
            return cliopt_bad_option(stderr, "calibrate", LONG, c, argv[optind - 1]);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "switchsim: error: calibrate: unexpected argument '%s'\n", argv[optind]);
        return 2;
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
