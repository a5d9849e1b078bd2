/* 'switchsim collective': one collective alone over a range of message sizes, nccl-tests style (size, time,
 * algorithm and bus bandwidth), with the op's lower bound on the platform.  The simulation is sim/collbench.c
 * in a child process; this file parses, checks and prints. */
#include "sim/cli/cmd.h"
#include "sim/cli/cliopt.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim/collbench.h"
#include "sim/common/atomicio.h"
#include "sim/simproc.h"

/* Sizes from 1 byte to 1 TiB by a factor of at least 2: at most 41 rows. */
#define COLLECTIVE_SIZES_MAX 41
#define COLLECTIVE_BYTES_MAX 1099511627776.0   /* 1 TiB per rank: far beyond any HBM, still exact in a double */
#define GIGA 1e9

static void collective_usage(FILE *fp)
{
    fprintf(fp,
        "usage: switchsim collective --platform FILE --op OP [OPTIONS]\n"
        "Times one collective of the engine alone over a range of sizes, one row per size, with nccl-tests'\n"
        "columns and the op's lower bound on the platform's network.\n\n"
        "  --platform FILE     platform XML (topologies/, or one 'switchsim topology' wrote)\n"
        "  --op OP             all-to-all, all-reduce, all-gather or reduce-scatter\n"
        "  --algo A            all-to-all: phased (neighbour ring steps per dimension, half the bytes x-then-y and\n"
        "                      half y-then-x; default on a torus), phased-xy (all bytes x then y), direct (a flow\n"
        "                      per chip pair; default in one GPU node; at most %d chips), hier (GPU nodes:\n"
        "                      NVLink gather to the destination's rail, then one message per node pair and rail\n"
        "                      over the NICs, timed from its plan; default across GPU nodes, network model hw)\n"
        "                      the others: ring (bidirectional rings per torus dimension; node-aware rings on GPUs)\n"
        "  --min-bytes N       smallest size, bytes per rank; suffix K, M, G = 1024, 1024^2, 1024^3 (default 1K)\n"
        "  --max-bytes N       largest size, bytes per rank (default 1G)\n"
        "  --factor F          size multiplier from one row to the next, an integer >= 2 (default 2)\n"
        "  --ranks R           chips (a rank per chip, default) or cores (a rank per core; traffic between the\n"
        "                      cores of one chip is free)\n"
        "  --network-model M   hw (default), lv08 or cm02, as for 'run'\n"
        "  --a2a-timing T      fast (default) or flows, as for 'run': fast times a phased all-to-all from its\n"
        "                      message plan where no two messages can share a link (wrapped rings of 3+ chips, hw)\n"
        "  --csv FILE          also write the rows as CSV\n"
        "  --help              this text\n\n"
        "Size per rank as nccl-tests counts it: all-reduce the buffer, all-gather the output, reduce-scatter the\n"
        "input, all-to-all the send buffer (1/n of it to each rank).  algbw = size / time (GB/s, 1e9 B/s);\n"
        "busbw = algbw x 2(n-1)/n (all-reduce) or (n-1)/n (the others); bound = the larger of the injection\n"
        "bound (bytes a chip must send or receive over its links) and the cut bound (mid cut of each torus\n"
        "dimension; one GPU node against the rest), true for any algorithm.\n",
        COLLBENCH_DIRECT_CHIPS_MAX);
}

/* Parses a byte count "N" or "N" followed by K, M or G (binary multiples): an integer in [1, 1 TiB]. */
static int collective_parse_bytes(double *out, const char *s)
{
    char num[64];
    size_t len = strlen(s);
    if (len == 0 || len >= sizeof num)
        return -1;
    double mult = 1.0;
    memcpy(num, s, len + 1);
    char last = num[len - 1];
    if (last == 'K' || last == 'M' || last == 'G') {
        mult = last == 'K' ? 1024.0 : last == 'M' ? 1048576.0 : 1073741824.0;
        num[len - 1] = '\0';
    }
    long v;
    if (num[0] < '0' || num[0] > '9' || errbuf_parse_long(num, &v) != 0 || v < 1)
        return -1;
    double b = (double)v * mult;
    if (b > COLLECTIVE_BYTES_MAX)
        return -1;
    *out = b;
    return 0;
}

typedef struct {
    const collbench_cfg *cfg;
    const double *out;
    const char *algo;
    const char *ranks;
} collective_rows;

static void collective_row_values(const collective_rows *r, int i, double *t_us, double *algbw, double *busbw,
                                  double *bound_us, double *ratio, const char **kind)
{
    const double *v = r->out + COLLBENCH_HEAD + (size_t)COLLBENCH_PER_SIZE * i;
    double t = v[COLLBENCH_TIME_S], size = r->cfg->sizes[i];
    *t_us = t * 1e6;
    *algbw = t > 0 ? size / t / GIGA : 0.0;
    *busbw = *algbw * collbench_bus_factor(r->cfg->op, (int)r->out[COLLBENCH_NRANKS]);
    *bound_us = v[COLLBENCH_BOUND_S] * 1e6;
    *ratio = v[COLLBENCH_BOUND_S] > 0 ? t / v[COLLBENCH_BOUND_S] : 0.0;
    *kind = collbench_bound_name((collbench_bound_kind)v[COLLBENCH_BOUND_KIND]);
}

static int collective_write_csv(FILE *fp, const void *arg, errbuf *err)
{
    (void)err;
    const collective_rows *r = arg;
    fprintf(fp, "platform,op,algo,ranks,nranks,size_bytes,time_us,algbw_GBps,busbw_GBps,bound_us,bound,"
                "time_over_bound\n");
    for (int i = 0; i < r->cfg->nsizes; i++) {
        double t_us, algbw, busbw, bound_us, ratio;
        const char *kind;
        collective_row_values(r, i, &t_us, &algbw, &busbw, &bound_us, &ratio, &kind);
        fprintf(fp, "%s,%s,%s,%s,%d,%.0f,%.6g,%.6g,%.6g,%.6g,%s,%.6g\n", r->cfg->platform,
                collbench_op_name(r->cfg->op), r->algo, r->ranks, (int)r->out[COLLBENCH_NRANKS], r->cfg->sizes[i],
                t_us, algbw, busbw, bound_us, kind, ratio);
    }
    return ferror(fp) ? errbuf_set(err, "write failed") : 0;
}

static const char *collective_algo_name(collbench_op op, coll_a2a_algo a)
{
    if (op != COLLBENCH_A2A)
        return "ring";
    return a == COLL_A2A_DIRECT ? "direct" : a == COLL_A2A_PHASED_XY ? "phased-xy"
         : a == COLL_A2A_HIER ? "hier" : "phased";
}

/* collective's command line, and the run it describes. */
typedef struct {
    collbench_cfg cfg;                   /* op, algo, ranks, network, platform; sizes point into 'sizes' */
    const char *op_s, *algo_s, *csv;     /* as given; NULL when absent */
    double min_b, max_b;                 /* --min-bytes, --max-bytes */
    long factor;                         /* --factor */
    double sizes[COLLECTIVE_SIZES_MAX];
} collective_args;

/* Parses the value of a byte count, --factor, --ranks, --network-model or --a2a-timing into 'a'; -1 with 'err'
 * when bad. */
static int collective_set_value(collective_args *a, int opt, const char *v, errbuf *err)
{
    if (opt == 'm' || opt == 'M') {
        if (collective_parse_bytes(opt == 'm' ? &a->min_b : &a->max_b, v) != 0)
            return errbuf_set(err, "%s must be a byte count in [1, 1T] such as 4096, 1K, 64M or 1G, got '%s'",
                              opt == 'm' ? "--min-bytes" : "--max-bytes", v);
    } else if (opt == 'f') {
        if (errbuf_parse_long(v, &a->factor) != 0 || a->factor < 2 || a->factor > 1024)
            return errbuf_set(err, "--factor must be an integer in [2, 1024], got '%s'", v);
    } else if (opt == 'r') {
        if (strcmp(v, "chips") == 0)
            a->cfg.ranks_per_core = 0;
        else if (strcmp(v, "cores") == 0)
            a->cfg.ranks_per_core = 1;
        else
            return errbuf_set(err, "--ranks must be chips or cores, got '%s'", v);
    } else if (opt == 't') {
        if (strcmp(v, "fast") == 0 || strcmp(v, "flows") == 0)
            a->cfg.a2a_fast = strcmp(v, "fast") == 0;
        else
            return errbuf_set(err, "--a2a-timing must be fast or flows, got '%s'", v);
    } else {   /* 'n': --network-model */
        if (strcmp(v, "hw") == 0)
            a->cfg.network = NETMODEL_HW;
        else if (strcmp(v, "lv08") == 0)
            a->cfg.network = NETMODEL_LV08;
        else if (strcmp(v, "cm02") == 0)
            a->cfg.network = NETMODEL_CM02;
        else
            return errbuf_set(err, "--network-model must be hw, lv08 or cm02, got '%s'", v);
    }
    return 0;
}

/* Reads the command line into 'a', checking each value as it comes.  Returns 0, -1 with 'err' on a bad value
 * (exit 1), 2 after a usage message (exit 2), or 3 after the help (exit 0). */
static int collective_parse(collective_args *a, int argc, char **argv, errbuf *err)
{
    static const struct option LONG[] = {
        { "platform", required_argument, NULL, 'p' }, { "op", required_argument, NULL, 'o' },
        { "algo", required_argument, NULL, 'a' },     { "min-bytes", required_argument, NULL, 'm' },
        { "max-bytes", required_argument, NULL, 'M' }, { "factor", required_argument, NULL, 'f' },
        { "ranks", required_argument, NULL, 'r' },    { "network-model", required_argument, NULL, 'n' },
        { "csv", required_argument, NULL, 'c' },      { "help", no_argument, NULL, 'h' },
        { "a2a-timing", required_argument, NULL, 't' },
        { NULL, 0, NULL, 0 },
    };
    memset(a, 0, sizeof *a);
    a->cfg.algo = COLL_A2A_AUTO;
    a->cfg.network = NETMODEL_HW;
    a->cfg.a2a_fast = 1;
    a->min_b = 1024.0;
    a->max_b = 1073741824.0;
    a->factor = 2;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", LONG, NULL)) != -1) {
        switch (c) {
        case 'p': a->cfg.platform = optarg; break;
        case 'o': a->op_s = optarg; break;
        case 'a': a->algo_s = optarg; break;
        case 'c': a->csv = optarg; break;
        case 'm': case 'M': case 'f': case 'r': case 'n': case 't':
            if (collective_set_value(a, c, optarg, err) != 0)
                return -1;
            break;
        case 'h': collective_usage(stdout); return 3;
        default:
            return cliopt_bad_option(stderr, "collective", LONG, c, argv[optind - 1]);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "switchsim: error: collective: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (a->cfg.platform == NULL || a->op_s == NULL) {
        fprintf(stderr, "switchsim: error: collective needs --platform FILE and --op OP\n");
        collective_usage(stderr);
        return 2;
    }
    return 0;
}

/* Checks what the options say together (the op, its algorithm, the size range, the CSV) and lists the sizes. */
static int collective_check(collective_args *a, errbuf *err)
{
    collbench_cfg *cfg = &a->cfg;
    if (collbench_op_parse(&cfg->op, a->op_s) != 0)
        return errbuf_set(err, "--op must be all-to-all, all-reduce, all-gather or reduce-scatter, got '%s'", a->op_s);
    if (a->algo_s != NULL && cfg->op == COLLBENCH_A2A) {
        if (strcmp(a->algo_s, "direct") == 0)
            cfg->algo = COLL_A2A_DIRECT;
        else if (strcmp(a->algo_s, "phased") == 0)
            cfg->algo = COLL_A2A_PHASED;
        else if (strcmp(a->algo_s, "phased-xy") == 0)
            cfg->algo = COLL_A2A_PHASED_XY;
        else if (strcmp(a->algo_s, "hier") == 0)
            cfg->algo = COLL_A2A_HIER;
        else
            return errbuf_set(err, "--algo for all-to-all must be direct, phased, phased-xy or hier, got '%s'",
                              a->algo_s);
    } else if (a->algo_s != NULL && strcmp(a->algo_s, "ring") != 0) {
        return errbuf_set(err, "--algo for %s must be ring, got '%s'", a->op_s, a->algo_s);
    }
    if (a->min_b > a->max_b)
        return errbuf_set(err, "--min-bytes (%.0f) must not exceed --max-bytes (%.0f)", a->min_b, a->max_b);
    cfg->sizes = a->sizes;
    cfg->nsizes = 0;
    for (double s = a->min_b; s <= a->max_b && cfg->nsizes < COLLECTIVE_SIZES_MAX; s *= (double)a->factor)
        a->sizes[cfg->nsizes++] = s;
    if (atomic_check_writable("--csv", a->csv, err) != 0)
        return -1;
    if (a->csv != NULL && strcmp(a->csv, cfg->platform) == 0)
        return errbuf_set(err, "--csv '%s' is the same file as --platform '%s'", a->csv, cfg->platform);
    return 0;
}

/* The nccl-tests style table on standard output. */
static void collective_print(const collective_rows *rows, const char *op_s)
{
    const collbench_cfg *cfg = rows->cfg;
    const double *out = rows->out;
    printf("# %s, %s, %d ranks (%s, %d chips) on %s; network model %s\n", op_s, rows->algo,
           (int)out[COLLBENCH_NRANKS], rows->ranks, (int)out[COLLBENCH_NCHIPS], cfg->platform,
           netmodel_name(cfg->network));
    printf("# %12s %12s %11s %11s %12s %-11s %10s\n", "size_B", "time_us", "algbw_GB/s", "busbw_GB/s", "bound_us",
           "bound", "time/bound");
    for (int i = 0; i < cfg->nsizes; i++) {
        double t_us, algbw, busbw, bound_us, ratio;
        const char *kind;
        collective_row_values(rows, i, &t_us, &algbw, &busbw, &bound_us, &ratio, &kind);
        printf("  %12.0f %12.3f %11.3f %11.3f %12.3f %-11s %10.3f\n", cfg->sizes[i], t_us, algbw, busbw, bound_us,
               kind, ratio);
    }
    printf("# wall %.2f s in SimGrid%s\n", out[COLLBENCH_WALL_S],
           out[COLLBENCH_FAST] <= 0 ? ""
           : out[COLLBENCH_ALGO] == COLL_A2A_HIER ? "; timed from the message plan (every link's bytes over its bandwidth)"
           : "; timed from the message plan (no two messages share a link)");
}

int cmd_collective(int argc, char **argv)
{
    collective_args a;
    errbuf err = { "" };
    int rc = collective_parse(&a, argc, argv, &err);
    if (rc == 2 || rc == 3)
        return rc == 2 ? 2 : 0;
    if (rc == 0)
        rc = collective_check(&a, &err);
    double out[COLLBENCH_NOUT(COLLECTIVE_SIZES_MAX)];
    if (rc == 0)
        rc = simproc_run(collbench_run, &a.cfg, out, COLLBENCH_NOUT(a.cfg.nsizes), &err);
    collective_rows rows = { &a.cfg, out, NULL, a.cfg.ranks_per_core ? "cores" : "chips" };
    if (rc == 0) {
        rows.algo = collective_algo_name(a.cfg.op, (coll_a2a_algo)out[COLLBENCH_ALGO]);
        if (a.csv != NULL)
            rc = atomic_file_write(a.csv, collective_write_csv, &rows, &err);
    }
    if (rc != 0) {
        fprintf(stderr, "switchsim: error: %s\n", err.msg);
        return 1;
    }
    collective_print(&rows, a.op_s);
    return 0;
}
