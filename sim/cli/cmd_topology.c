/* 'switchsim topology': writes the SimGrid platform XML of a torus of TPU chips (topologies/torus.h) or of
 * HGX nodes of GPUs (topologies/gpu.h).  Checks every option before writing anything; the file is written
 * through a temp file and rename. */
#include "sim/cli/cmd.h"
#include "sim/cli/cliopt.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "sim/common/atomicio.h"
#include "sim/common/errbuf.h"
#include "sim/platform.h"
#include "topologies/gpu.h"
#include "topologies/torus.h"

#define GIGA 1e9
#define MICRO 1e-6

static void topology_usage(FILE *fp)
{
    fprintf(fp,
        "usage: switchsim topology --chip NAME --torus N|XxY[xZ] [OPTIONS]                  (TPU chips)\n"
        "       switchsim topology --chip NAME --gpus-per-node N [--nodes M] [OPTIONS]       (GPU chips)\n"
        "       switchsim topology --chip NAME --gpus-per-node N --nodes M --rails N [--oversub R] [OPTIONS]\n"
        "Writes a SimGrid platform XML: one host 'chip<r>' per chip, its cores as the host's cores, the chip's\n"
        "numbers as host properties.  TPU: r = x + X*(y + Y*z), dimension-ordered routes over the torus links.\n"
        "GPU: r = node*N + GPU in node, one core per GPU; in a node every GPU has an NVLink pair into an NVSwitch\n"
        "(a route crosses it once), between nodes every GPU has its own NIC into a non-blocking fat tree, or\n"
        "with --rails into a rail-optimised fat tree (GPU i of every node on rail i, leaf groups under a spine).\n\n"
        "  --chip NAME          chip preset: tpuv2, tpuv3, tpuv4 or tpuv5p, or h100 or h200 (default tpuv3)\n"
        "  --out FILE           output file (default: standard output)\n"
        "  --help               this text\n"
        "TPU chips:\n"
        "  --torus XxY[xZ]      torus size in chips per dimension, each in [1, %d] (required);\n"
        "                       a single size N is N chips in a row (N x 1): a line, or a ring with --wrap all\n"
        "                       (or --wrap auto, when N is the chip's complete ring)\n"
        "  --link-GBps B        link bandwidth per direction, GB/s (1e9 bytes/s); default per chip:\n"
        "                       tpuv2 62, tpuv3 100, tpuv4 45, tpuv5p 100\n"
        "  --link-lat-us L      link latency per hop, microseconds (default 1, an assumption)\n"
        "  --wrap auto|all|none wraparound links: auto (default) wraps a dimension only when it is a\n"
        "                       complete ring of the real machine (tpuv2 16, tpuv3 32, tpuv4 and tpuv5p a\n"
        "                       multiple of 4)\n"
        "GPU chips:\n"
        "  --gpus-per-node N    GPUs on one NVSwitch (an HGX board), in [1, %d] (required)\n"
        "  --nodes M            nodes (default 1); at most %d GPUs in all (%d with --rails)\n"
        "  --nvlink-GBps B      NVLink bandwidth per GPU per direction, GB/s (default 450: NVLink 4, 18 links)\n"
        "  --nic-GBps B         NIC bandwidth per GPU per direction, GB/s (default 50: 400 Gb/s NDR InfiniBand)\n"
        "  --rails N            a rail-optimised fat tree of N rails, N = --gpus-per-node (GPU i of every node on\n"
        "                       rail i); cross-rail traffic stays off the spine inside a leaf group, as NCCL's\n"
        "                       PXN sends it; a zone per node, so routes do not grow as GPUs^2\n"
        "  --nodes-per-leaf K   with --rails: nodes under one leaf switch per rail, a leaf group, in [1, %d]\n"
        "                       (default %d, or --nodes when fewer); at most %d groups\n"
        "  --oversub R          with --rails: a leaf's downlink over uplink bandwidth, in [1, %g] (default 1:\n"
        "                       non-blocking); a group's uplinks carry its nodes x rails x NIC / R each way\n",
        TORUS_DIM_MAX, GPU_NODE_GPUS_MAX, GPU_EXPLICIT_GPUS_MAX, GPU_RAIL_GPUS_MAX, GPU_LEAF_NODES_MAX,
        GPU_LEAF_NODES_DEFAULT, GPU_LEAF_GROUPS_MAX, GPU_OVERSUB_MAX);
}

/* topology's command line: each option as given, NULL when absent. */
typedef struct {
    const char *chip, *out;
    const char *torus, *link_GBps, *link_lat_us, *wrap;         /* TPU chips */
    const char *gpus_per_node, *nodes, *nvlink_GBps, *nic_GBps; /* GPU chips */
    const char *rails, *nodes_per_leaf, *oversub;                /* GPU chips, rail-optimised fat tree */
} topology_args;

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

/* Reads the command line into 'a'.  Returns 0, 2 after a usage message (exit 2), or 3 after the help (exit 0). */
static int topology_parse(topology_args *a, int argc, char **argv)
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
        { "rails", required_argument, NULL, 'r' },
        { "nodes-per-leaf", required_argument, NULL, 'k' },
        { "oversub", required_argument, NULL, 'R' },
        { "out", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    memset(a, 0, sizeof *a);
    a->chip = "tpuv3";
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":", OPTS, NULL)) != -1) {
        switch (opt) {
        case 'c': a->chip = optarg; break;
        case 't': a->torus = optarg; break;
        case 'b': a->link_GBps = optarg; break;
        case 'l': a->link_lat_us = optarg; break;
        case 'w': a->wrap = optarg; break;
        case 'g': a->gpus_per_node = optarg; break;
        case 'n': a->nodes = optarg; break;
        case 'v': a->nvlink_GBps = optarg; break;
        case 'i': a->nic_GBps = optarg; break;
        case 'r': a->rails = optarg; break;
        case 'k': a->nodes_per_leaf = optarg; break;
        case 'R': a->oversub = optarg; break;
        case 'o': a->out = optarg; break;
        case 'h': topology_usage(stdout); return 3;
        default:
            return cliopt_bad_option(stderr, "topology", OPTS, opt, argv[optind - 1]);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "switchsim: error: unexpected argument '%s'\n", argv[optind]);
        topology_usage(stderr);
        return 2;
    }
    return 0;
}

/* Each form's options are refused in the other form (a TPU has no NVSwitch node, a GPU node no torus), and
 * each form's required option must be there.  Returns 0, or 2 after a usage message. */
static int topology_check_form(const topology_args *a, const chip_spec *gpu)
{
    char msg[ERRBUF_MSG_MAX], names[128];
    chip_preset_names(names, sizeof names, gpu != NULL ? CHIP_FAMILY_TPU : CHIP_FAMILY_GPU);
    const struct { const char *opt, *s; int gpu_only; } forms[] = {
        { "--torus", a->torus, 0 }, { "--link-GBps", a->link_GBps, 0 }, { "--link-lat-us", a->link_lat_us, 0 },
        { "--wrap", a->wrap, 0 }, { "--gpus-per-node", a->gpus_per_node, 1 }, { "--nodes", a->nodes, 1 },
        { "--nvlink-GBps", a->nvlink_GBps, 1 }, { "--nic-GBps", a->nic_GBps, 1 }, { "--rails", a->rails, 1 },
        { "--nodes-per-leaf", a->nodes_per_leaf, 1 }, { "--oversub", a->oversub, 1 },
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        if (forms[i].s == NULL || forms[i].gpu_only == (gpu != NULL))
            continue;
        if (gpu != NULL)
            snprintf(msg, sizeof msg, "%s is for TPU chips (%s); %s is a GPU chip: use --gpus-per-node N "
                     "[--nodes M] [--nvlink-GBps B] [--nic-GBps B] [--rails N]", forms[i].opt, names, a->chip);
        else
            snprintf(msg, sizeof msg, "%s is for GPU chips (%s); %s is a TPU chip: use --torus XxY[xZ] "
                     "[--link-GBps B] [--link-lat-us L] [--wrap MODE]", forms[i].opt, names, a->chip);
        return usage_fail(msg);
    }
    if (gpu != NULL && a->gpus_per_node == NULL) {
        snprintf(msg, sizeof msg, "--gpus-per-node is required for GPU chip %s", a->chip);
        return usage_fail(msg);
    }
    if (gpu == NULL && a->torus == NULL)
        return usage_fail("--torus is required");
    if (gpu != NULL && a->rails == NULL && (a->nodes_per_leaf != NULL || a->oversub != NULL)) {
        snprintf(msg, sizeof msg, "%s is for the rail-optimised fat tree: give --rails N too",
                 a->nodes_per_leaf != NULL ? "--nodes-per-leaf" : "--oversub");
        return usage_fail(msg);
    }
    return 0;
}

/* *to <- option 'opt''s value 's', a bandwidth in GB/s (lat 0) or a latency in us (lat 1), in SI units, when
 * it is within what the platform loader accepts (platform_link_range), so that 'run' can load the file written;
 * else -1 with "--link-GBps must be a number in [1e-09, 1e+07] (1 B/s to 1e+16 B/s, what a platform may hold),
 * got '1e20'". */
static int topology_number(double *to, const char *opt, const char *s, int lat, errbuf *err)
{
    double bw_lo, bw_hi, lat_lo, lat_hi, v;
    platform_link_range(&bw_lo, &bw_hi, &lat_lo, &lat_hi);
    double unit = lat ? MICRO : GIGA, lo = lat ? lat_lo : bw_lo, hi = lat ? lat_hi : bw_hi;
    if (errbuf_parse_double(s, &v) != 0 || !(v * unit >= lo && v * unit <= hi))
        return errbuf_set(err, "%s must be a number in [%g, %g] (%g %s to %g %s, what a platform may hold), got '%s'",
                          opt, lo / unit, hi / unit, lo, lat ? "s" : "B/s", hi, lat ? "s" : "B/s", s);
    *to = v * unit;
    return 0;
}

/* The GPU platform the options describe: node size, nodes, NVLink and NIC bandwidths, checked. */
static int topology_gpu_build(gpu_platform *p, const chip_spec *chip, const topology_args *a, errbuf *err)
{
    long gpn, nodes = 1, rails = 0, npl = 0;
    int max = a->rails != NULL ? GPU_RAIL_GPUS_MAX : GPU_EXPLICIT_GPUS_MAX;
    if (errbuf_parse_long(a->gpus_per_node, &gpn) != 0 || gpn < 1 || gpn > GPU_NODE_GPUS_MAX)
        return errbuf_set(err, "--gpus-per-node must be an integer in [1, %d] (GPUs on one NVSwitch), got '%s'",
                          GPU_NODE_GPUS_MAX, a->gpus_per_node);
    if (a->nodes != NULL && (errbuf_parse_long(a->nodes, &nodes) != 0 || nodes < 1 || nodes > max))
        return errbuf_set(err, "--nodes must be an integer in [1, %d], got '%s'", max, a->nodes);
    if (a->rails != NULL && (errbuf_parse_long(a->rails, &rails) != 0 || rails != gpn))
        return errbuf_set(err, "--rails must be --gpus-per-node (%ld: GPU i of every node on rail i), got '%s'", gpn,
                          a->rails);
    if (a->nodes_per_leaf != NULL
        && (errbuf_parse_long(a->nodes_per_leaf, &npl) != 0 || npl < 1 || npl > GPU_LEAF_NODES_MAX))
        return errbuf_set(err, "--nodes-per-leaf must be an integer in [1, %d], got '%s'", GPU_LEAF_NODES_MAX,
                          a->nodes_per_leaf);
    gpu_platform_init(p, chip, (int)gpn, (int)nodes);
    if (rails > 0) {
        gpu_platform_set_rails(p);
        if (npl > 0)
            p->nodes_per_leaf = (int)npl;
        double r;
        if (a->oversub != NULL) {
            if (errbuf_parse_double(a->oversub, &r) != 0 || !(r >= 1 && r <= GPU_OVERSUB_MAX))
                return errbuf_set(err, "--oversub must be a number in [1, %g] (leaf downlink over uplink "
                                  "bandwidth), got '%s'", GPU_OVERSUB_MAX, a->oversub);
            p->oversub = r;
        }
        if (gpu_nchips(p) > GPU_RAIL_GPUS_MAX)
            return errbuf_set(err, "--nodes %ld x --gpus-per-node %ld = %d GPUs, but a rail-optimised platform may "
                              "have at most %d", nodes, gpn, gpu_nchips(p), GPU_RAIL_GPUS_MAX);
        if (gpu_leaf_groups(p) > GPU_LEAF_GROUPS_MAX)
            return errbuf_set(err, "--nodes %ld in leaf groups of --nodes-per-leaf %d is %d groups, at most %d (the "
                              "spine routes every pair of groups)", nodes, p->nodes_per_leaf, gpu_leaf_groups(p),
                              GPU_LEAF_GROUPS_MAX);
    }
    const struct { const char *opt, *s; double *to; } bws[] = {
        { "--nvlink-GBps", a->nvlink_GBps, &p->nvlink_Bps }, { "--nic-GBps", a->nic_GBps, &p->nic_Bps },
    };
    for (size_t i = 0; i < sizeof bws / sizeof bws[0]; i++)
        if (bws[i].s != NULL && topology_number(bws[i].to, bws[i].opt, bws[i].s, 0, err) != 0)
            return -1;
    return gpu_platform_check(p, err);
}

/* The torus platform the options describe: the shape, link numbers (the chip's unless given) and wrap, checked. */
static int topology_torus_build(torus_platform *p, const chip_spec *chip, const topology_args *a, errbuf *err)
{
    p->chip = chip;
    if (torus_parse(&p->shape, a->torus, 'x') != 0)
        return errbuf_set(err, "--torus must be N, XxY or XxYxZ with each size an integer in [1, %d] and at most "
                          "%d chips, got '%s'", TORUS_DIM_MAX, TORUS_CHIPS_MAX, a->torus);
    p->link_Bps = chip->link_Bps;
    if (a->link_GBps != NULL && topology_number(&p->link_Bps, "--link-GBps", a->link_GBps, 0, err) != 0)
        return -1;
    p->link_lat_s = chip->link_lat_s;
    if (a->link_lat_us != NULL && topology_number(&p->link_lat_s, "--link-lat-us", a->link_lat_us, 1, err) != 0)
        return -1;
    const char *wrap = a->wrap != NULL ? a->wrap : "auto";
    torus_wrap_mode mode;
    if (strcmp(wrap, "auto") == 0)
        mode = TORUS_WRAP_AUTO;
    else if (strcmp(wrap, "all") == 0)
        mode = TORUS_WRAP_ALL;
    else if (strcmp(wrap, "none") == 0)
        mode = TORUS_WRAP_NONE;
    else
        return errbuf_set(err, "--wrap must be auto, all or none, got '%s'", wrap);
    torus_set_wrap(&p->shape, mode, chip);
    return torus_platform_check(p, err);
}

static int write_platform(FILE *fp, const void *arg, errbuf *err)
{
    return torus_write_xml(fp, (const torus_platform *)arg, err);
}

static int write_gpu_platform(FILE *fp, const void *arg, errbuf *err)
{
    return gpu_write_xml(fp, (const gpu_platform *)arg, err);
}

/* Writes the XML to 'out' through a temp file and rename, or to standard output when 'out' is NULL. */
static int topology_write(const char *out, atomic_writer writer, const void *platform, errbuf *err)
{
    if (out != NULL)
        return atomic_file_write(out, writer, platform, err);
    if (writer(stdout, platform, err) != 0 || fflush(stdout) != 0) {
        if (err->msg[0] == '\0')
            errbuf_set(err, "standard output: write failed");
        return -1;
    }
    return 0;
}

int cmd_topology(int argc, char **argv)
{
    topology_args a;
    int rc = topology_parse(&a, argc, argv);
    if (rc != 0)
        return rc == 3 ? 0 : rc;
    errbuf err = { "" };
    chip_spec chip;
    if (chip_preset(&chip, a.chip) != 0) {
        char names[128];
        chip_preset_names(names, sizeof names, -1);
        errbuf_set(&err, "--chip must be %s, got '%s'", names, a.chip);
        return fail(err.msg);
    }
    const chip_spec *gpu = chip.family == CHIP_FAMILY_GPU ? &chip : NULL, *tpu = gpu == NULL ? &chip : NULL;
    if ((rc = topology_check_form(&a, gpu)) != 0)
        return rc;
    if (gpu != NULL) {
        gpu_platform p;
        if (topology_gpu_build(&p, gpu, &a, &err) != 0 || topology_write(a.out, write_gpu_platform, &p, &err) != 0)
            return fail(err.msg);
        return 0;
    }
    torus_platform p;
    if (topology_torus_build(&p, tpu, &a, &err) != 0 || topology_write(a.out, write_platform, &p, &err) != 0)
        return fail(err.msg);
    return 0;
}
