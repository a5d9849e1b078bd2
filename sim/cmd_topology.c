/* 'switchsim topology': writes the SimGrid platform XML of a torus of TPU chips (topologies/torus.h).
 * Checks every option before writing anything; the file is written through a temp file and rename. */
#include "sim/cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "analysis/atomicio.h"
#include "sim/errbuf.h"
#include "topologies/torus.h"

#define GIGA 1e9
#define MICRO 1e-6

static void topology_usage(FILE *fp)
{
    fprintf(fp,
        "usage: switchsim topology --chip NAME --torus XxY[xZ] [OPTIONS]\n"
        "Writes a SimGrid platform XML: one host 'chip<r>' per chip (r = x + X*(y + Y*z)), its cores as the\n"
        "host's cores, the chip's numbers as host properties, dimension-ordered routes over the torus links.\n\n"
        "  --chip NAME          chip preset: tpuv2, tpuv3 or tpuv4 (default tpuv3)\n"
        "  --torus XxY[xZ]      torus size in chips per dimension, each in [1, %d] (required)\n"
        "  --link-GBps B        link bandwidth per direction, GB/s (1e9 bytes/s); default per chip:\n"
        "                       tpuv2 62, tpuv3 100, tpuv4 45\n"
        "  --link-lat-us L      link latency per hop, microseconds (default 1, an assumption)\n"
        "  --wrap auto|all|none wraparound links: auto (default) wraps a dimension only when it is a\n"
        "                       complete ring of the real machine (tpuv2 16, tpuv3 32, tpuv4 a multiple of 4)\n"
        "  --out FILE           output file (default: standard output)\n"
        "  --help               this text\n",
        TORUS_DIM_MAX);
}

static int write_platform(FILE *fp, const void *arg, errbuf *err)
{
    return torus_write_xml(fp, (const torus_platform *)arg, err);
}

static int fail(const char *msg)
{
    fprintf(stderr, "switchsim: error: %s\n", msg);
    return 1;
}

int cmd_topology(int argc, char **argv)
{
    static const struct option OPTS[] = {
        { "chip", required_argument, NULL, 'c' },
        { "torus", required_argument, NULL, 't' },
        { "link-GBps", required_argument, NULL, 'b' },
        { "link-lat-us", required_argument, NULL, 'l' },
        { "wrap", required_argument, NULL, 'w' },
        { "out", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *chip_s = "tpuv3", *torus_s = NULL, *bw_s = NULL, *lat_s = NULL, *wrap_s = "auto", *out = NULL;
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":", OPTS, NULL)) != -1) {
        switch (opt) {
        case 'c': chip_s = optarg; break;
        case 't': torus_s = optarg; break;
        case 'b': bw_s = optarg; break;
        case 'l': lat_s = optarg; break;
        case 'w': wrap_s = optarg; break;
        case 'o': out = optarg; break;
        case 'h': topology_usage(stdout); return 0;
        case ':':
            fprintf(stderr, "switchsim: error: option '%s' needs a value\n", argv[optind - 1]);
            topology_usage(stderr);
            return 2;
        default:
            fprintf(stderr, "switchsim: error: unknown option '%s'\n", argv[optind - 1]);
            topology_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "switchsim: error: unexpected argument '%s'\n", argv[optind]);
        topology_usage(stderr);
        return 2;
    }
    if (torus_s == NULL) {
        fprintf(stderr, "switchsim: error: --torus is required\n");
        topology_usage(stderr);
        return 2;
    }

    char msg[ERRBUF_MSG_MAX];
    torus_platform p;
    p.chip = torus_chip_find(chip_s);
    if (p.chip == NULL) {
        snprintf(msg, sizeof msg, "--chip must be %s, got '%s'", torus_chip_names(), chip_s);
        return fail(msg);
    }
    if (torus_parse(&p.shape, torus_s, 'x') != 0) {
        snprintf(msg, sizeof msg, "--torus must be XxY or XxYxZ with each size an integer in [1, %d] and at most "
                 "%d chips, got '%s'", TORUS_DIM_MAX, TORUS_CHIPS_MAX, torus_s);
        return fail(msg);
    }
    p.link_Bps = p.chip->link_Bps;
    if (bw_s != NULL) {
        double v;
        if (errbuf_parse_double(bw_s, &v) != 0 || !(v > 0)) {
            snprintf(msg, sizeof msg, "--link-GBps must be a number > 0, got '%s'", bw_s);
            return fail(msg);
        }
        p.link_Bps = v * GIGA;
    }
    p.link_lat_s = p.chip->link_lat_s;
    if (lat_s != NULL) {
        double v;
        if (errbuf_parse_double(lat_s, &v) != 0 || !(v >= 0)) {
            snprintf(msg, sizeof msg, "--link-lat-us must be a number >= 0, got '%s'", lat_s);
            return fail(msg);
        }
        p.link_lat_s = v * MICRO;
    }
    torus_wrap_mode mode;
    if (strcmp(wrap_s, "auto") == 0)
        mode = TORUS_WRAP_AUTO;
    else if (strcmp(wrap_s, "all") == 0)
        mode = TORUS_WRAP_ALL;
    else if (strcmp(wrap_s, "none") == 0)
        mode = TORUS_WRAP_NONE;
    else {
        snprintf(msg, sizeof msg, "--wrap must be auto, all or none, got '%s'", wrap_s);
        return fail(msg);
    }
    torus_set_wrap(&p.shape, mode, p.chip);

    errbuf err = { "" };
    if (torus_platform_check(&p, &err) != 0)
        return fail(err.msg);
    if (out == NULL) {
        if (torus_write_xml(stdout, &p, &err) != 0 || fflush(stdout) != 0)
            return fail(err.msg[0] ? err.msg : "standard output: write failed");
        return 0;
    }
    if (atomic_file_write(out, write_platform, &p, &err) != 0)
        return fail(err.msg);
    return 0;
}
