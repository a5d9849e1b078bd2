/* 'switchsim topology': writes the SimGrid platform XML of a torus of TPU chips (topologies/torus.h) or of
 * HGX nodes of GPUs (topologies/gpu.h).  Checks every option before writing anything; the file is written
 * through a temp file and rename. */
#include "sim/cli/cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "sim/common/atomicio.h"
#include "sim/common/errbuf.h"
#include "topologies/gpu.h"
#include "topologies/torus.h"

#define GIGA 1e9
#define MICRO 1e-6

static void topology_usage(FILE *fp)
{
    fprintf(fp,
        "usage: switchsim topology --chip NAME --torus N|XxY[xZ] [OPTIONS]                  (TPU chips)\n"
        "       switchsim topology --chip NAME --gpus-per-node N [--nodes M] [OPTIONS]       (GPU chips)\n"
        "Writes a SimGrid platform XML: one host 'chip<r>' per chip, its cores as the host's cores, the chip's\n"
        "numbers as host properties.  TPU: r = x + X*(y + Y*z), dimension-ordered routes over the torus links.\n"
        "GPU: r = node*N + GPU in node, one core per GPU; in a node every GPU has an NVLink pair into an NVSwitch\n"
        "(a route crosses it once), between nodes every GPU has its own NIC into a non-blocking fat tree.\n\n"
        "  --chip NAME          chip preset: tpuv2, tpuv3 or tpuv4, or h100 or h200 (default tpuv3)\n"
        "  --out FILE           output file (default: standard output)\n"
        "  --help               this text\n"
        "TPU chips:\n"
        "  --torus XxY[xZ]      torus size in chips per dimension, each in [1, %d] (required);\n"
        "                       a single size N is a ring of N chips (N x 1; --wrap all makes it a ring)\n"
        "  --link-GBps B        link bandwidth per direction, GB/s (1e9 bytes/s); default per chip:\n"
        "                       tpuv2 62, tpuv3 100, tpuv4 45\n"
        "  --link-lat-us L      link latency per hop, microseconds (default 1, an assumption)\n"
        "  --wrap auto|all|none wraparound links: auto (default) wraps a dimension only when it is a\n"
        "                       complete ring of the real machine (tpuv2 16, tpuv3 32, tpuv4 a multiple of 4)\n"
        "GPU chips:\n"
        "  --gpus-per-node N    GPUs on one NVSwitch (an HGX board), in [1, %d] (required)\n"
        "  --nodes M            nodes (default 1); at most %d GPUs in all\n"
        "  --nvlink-GBps B      NVLink bandwidth per GPU per direction, GB/s (default 450: NVLink 4, 18 links)\n"
        "  --nic-GBps B         NIC bandwidth per GPU per direction, GB/s (default 50: 400 Gb/s NDR InfiniBand)\n",
        TORUS_DIM_MAX, GPU_NODE_GPUS_MAX, GPU_EXPLICIT_GPUS_MAX);
}

static int write_platform(FILE *fp, const void *arg, errbuf *err)
{
    return torus_write_xml(fp, (const torus_platform *)arg, err);
}

static int write_gpu_platform(FILE *fp, const void *arg, errbuf *err)
{
    return gpu_write_xml(fp, (const gpu_platform *)arg, err);
}

static int fail(const char *msg)
{
    fprintf(stderr, "switchsim: error: %s\n", msg);
    return 1;
}

static int usage_fail(const char *msg)
{
    fprintf(stderr, "switchsim: error: %s\n", msg);
    topology_usage(stderr);
    return 2;
}

/* The GPU form: every option has been parsed; the TPU-only ones are absent. */
static int topology_gpu(const gpu_chip *chip, const char *gpn_s, const char *nodes_s, const char *nvlink_s,
                        const char *nic_s, const char *out)
{
    char msg[ERRBUF_MSG_MAX];
    long gpn, nodes = 1;
    if (errbuf_parse_long(gpn_s, &gpn) != 0 || gpn < 1 || gpn > GPU_NODE_GPUS_MAX) {
        snprintf(msg, sizeof msg, "--gpus-per-node must be an integer in [1, %d] (GPUs on one NVSwitch), got '%s'",
                 GPU_NODE_GPUS_MAX, gpn_s);
        return fail(msg);
    }
    if (nodes_s != NULL && (errbuf_parse_long(nodes_s, &nodes) != 0 || nodes < 1 || nodes > GPU_EXPLICIT_GPUS_MAX)) {
        snprintf(msg, sizeof msg, "--nodes must be an integer in [1, %d], got '%s'", GPU_EXPLICIT_GPUS_MAX, nodes_s);
        return fail(msg);
    }
    gpu_platform p;
    gpu_platform_init(&p, chip, (int)gpn, (int)nodes);
    const struct { const char *opt, *s; double *to; } bws[] = {
        { "--nvlink-GBps", nvlink_s, &p.nvlink_Bps }, { "--nic-GBps", nic_s, &p.nic_Bps },
    };
    for (size_t i = 0; i < sizeof bws / sizeof bws[0]; i++) {
        double v;
        if (bws[i].s == NULL)
            continue;
        if (errbuf_parse_double(bws[i].s, &v) != 0 || !(v > 0) || v > 1e9) {
            snprintf(msg, sizeof msg, "%s must be a number in (0, 1e9], got '%s'", bws[i].opt, bws[i].s);
            return fail(msg);
        }
        *bws[i].to = v * GIGA;
    }
    errbuf err = { "" };
    if (gpu_platform_check(&p, &err) != 0)
        return fail(err.msg);
    if (out == NULL) {
        if (gpu_write_xml(stdout, &p, &err) != 0 || fflush(stdout) != 0)
            return fail(err.msg[0] ? err.msg : "standard output: write failed");
        return 0;
    }
    if (atomic_file_write(out, write_gpu_platform, &p, &err) != 0)
        return fail(err.msg);
    return 0;
}

/* The torus form: the shape, link numbers (the chip's unless given) and wrap, then the XML. */
static int topology_torus(const torus_chip *chip, const char *torus_s, const char *bw_s, const char *lat_s,
                          const char *wrap_s, const char *out)
{
    char msg[ERRBUF_MSG_MAX];
    torus_platform p;
    p.chip = chip;
    if (torus_s == NULL)
        return usage_fail("--torus is required");
    if (wrap_s == NULL)
        wrap_s = "auto";
    if (torus_parse(&p.shape, torus_s, 'x') != 0) {
        snprintf(msg, sizeof msg, "--torus must be N, XxY or XxYxZ with each size an integer in [1, %d] and at most "
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

int cmd_topology(int argc, char **argv)
{
    static const struct option OPTS[] = {
        { "chip", required_argument, NULL, 'c' },
        { "torus", required_argument, NULL, 't' },
        { "link-GBps", required_argument, NULL, 'b' },
        { "link-lat-us", required_argument, NULL, 'l' },
        { "wrap", required_argument, NULL, 'w' },
        { "gpus-per-node", required_argument, NULL, 'g' },
        { "nodes", required_argument, NULL, 'n' },
        { "nvlink-GBps", required_argument, NULL, 'v' },
        { "nic-GBps", required_argument, NULL, 'i' },
        { "out", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *chip_s = "tpuv3", *torus_s = NULL, *bw_s = NULL, *lat_s = NULL, *wrap_s = NULL, *out = NULL;
    const char *gpn_s = NULL, *nodes_s = NULL, *nvlink_s = NULL, *nic_s = NULL;
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
        case 'g': gpn_s = optarg; break;
        case 'n': nodes_s = optarg; break;
        case 'v': nvlink_s = optarg; break;
        case 'i': nic_s = optarg; break;
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

    char msg[ERRBUF_MSG_MAX];
    const gpu_chip *gpu = gpu_chip_find(chip_s);
    torus_platform p;
    p.chip = torus_chip_find(chip_s);
    if (p.chip == NULL && gpu == NULL) {
        snprintf(msg, sizeof msg, "--chip must be tpuv2, tpuv3, tpuv4, h100 or h200, got '%s'", chip_s);
        return fail(msg);
    }
    /* Each form's options are refused in the other form: a TPU has no NVSwitch node, a GPU node no torus. */
    const struct { const char *opt, *s; int gpu_only; } forms[] = {
        { "--torus", torus_s, 0 }, { "--link-GBps", bw_s, 0 }, { "--link-lat-us", lat_s, 0 }, { "--wrap", wrap_s, 0 },
        { "--gpus-per-node", gpn_s, 1 }, { "--nodes", nodes_s, 1 }, { "--nvlink-GBps", nvlink_s, 1 },
        { "--nic-GBps", nic_s, 1 },
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        if (forms[i].s == NULL || forms[i].gpu_only == (gpu != NULL))
            continue;
        if (gpu != NULL)
            snprintf(msg, sizeof msg, "%s is for TPU chips (%s); %s is a GPU chip: use --gpus-per-node N "
                     "[--nodes M] [--nvlink-GBps B] [--nic-GBps B]", forms[i].opt, torus_chip_names(), chip_s);
        else
            snprintf(msg, sizeof msg, "%s is for GPU chips (%s); %s is a TPU chip: use --torus XxY[xZ] "
                     "[--link-GBps B] [--link-lat-us L] [--wrap MODE]", forms[i].opt, gpu_chip_names(), chip_s);
        return usage_fail(msg);
    }
    if (gpu != NULL) {
        if (gpn_s == NULL) {
            snprintf(msg, sizeof msg, "--gpus-per-node is required for GPU chip %s", chip_s);
            return usage_fail(msg);
        }
        return topology_gpu(gpu, gpn_s, nodes_s, nvlink_s, nic_s, out);
    }
    return topology_torus(p.chip, torus_s, bw_s, lat_s, wrap_s, out);
}
