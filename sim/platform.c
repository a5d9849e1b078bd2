/* platform: the text precheck of a platform XML (SimGrid aborts on bad input, so we look first) and the
 * read-back of the chip's numbers from the host properties of a loaded platform, a TPU torus or GPU nodes
 * (property 'family').  Not the generator (topologies/torus.c, topologies/gpu.c). */
#include "sim/platform.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <simgrid/engine.h>
#include <simgrid/host.h>
#include <simgrid/link.h>
#include <xbt/dynar.h>

#include "sim/platxml.h"

#define PLATFORM_DIM_MAX 1024      /* as TORUS_DIM_MAX: the largest torus dimension the generator writes */
#define PLATFORM_FILE_MAX (1L << 30)
#define REL_TOL 1e-9               /* numbers read back through SimGrid's unit parser may differ in the last bit */

typedef enum { P_NAME, P_INT, P_POS, P_NONNEG, P_PASSES, P_DIMS, P_WRAP, P_FAMILY, P_FRAC, P_BWF, P_LATF } prop_kind;

static const char *const PROP_RULES[] = {
    [P_NAME] = "must be a chip name of 1 to 31 letters, digits, '-' or '_'",
    [P_INT] = "must be an integer > 0",
    [P_POS] = "must be a number > 0",
    [P_NONNEG] = "must be a number >= 0",
    [P_PASSES] = "must be a number >= 1",
    [P_DIMS] = "must be 2 or 3 comma-separated integers in [1, 1024] such as '4,4'",
    [P_WRAP] = "must be comma-separated 0 or 1 flags, one per torus dimension, such as '1,1'",
    [P_FAMILY] = "must be tpu or gpu",
    [P_FRAC] = "must be a number in (0, 1]",
    [P_BWF] = "must be a number in [0.5, 1] (the payload's share of the link rate)",
    [P_LATF] = "must be a number in [1, 100] (a flow's start-up in route latencies)",
};

/* Physical ranges of the network factors (sim/netmodel.h): a link protocol whose payload is under half its
 * rate, or a transport whose start-up costs over 100 route latencies (TCP's LV08 fit is 13), is not modelled. */
#define BW_FACTOR_MIN 0.5
#define LAT_FACTOR_MAX 100.0

/* Which chip family requires a property: both, TPU platforms only, GPU platforms only, or none ('family'
 * itself: absent means tpu, so platform files written before GPUs existed still load). */
typedef enum { F_BOTH, F_TPU, F_GPU, F_OPTIONAL } prop_family;

/* The host properties (topologies/README.md): TPU ones in cost_chip order, then the GPU-only ones. */
enum {
    PR_CHIP, PR_MXUS, PR_MXU_DIM, PR_CLOCK, PR_BF16, PR_FP32VEC, PR_HBM_BYTES, PR_HBM_BPS, PR_ONCHIP,
    PR_OVERHEAD, PR_PASSES, PR_TORUS, PR_WRAP, PR_LINK_BPS, PR_LINK_LAT,
    PR_FAMILY, PR_SMS, PR_TILE_M, PR_TILE_N, PR_TILE_K, PR_FP32MM, PR_MM_EFF, PR_HBM_EFF, PR_OPT_BYTES, PR_GPN, PR_NODES,
    PR_NVLINK_BPS, PR_NVLINK_LAT, PR_NIC_BPS, PR_NIC_LAT,
    PR_LINK_BWF, PR_LINK_LATF, PR_NVLINK_BWF, PR_NVLINK_LATF, PR_NIC_BWF, PR_NIC_LATF, N_PROPS
};
static const struct {
    const char *id;
    prop_kind kind;
    prop_family fam;
} PROPS[N_PROPS] = {
    [PR_CHIP] = { "chip", P_NAME, F_BOTH },
    [PR_MXUS] = { "mxus_per_core", P_INT, F_TPU },
    [PR_MXU_DIM] = { "mxu_dim", P_INT, F_TPU },
    [PR_CLOCK] = { "clock_Hz", P_POS, F_BOTH },
    [PR_BF16] = { "bf16_flops_per_core", P_POS, F_BOTH },
    [PR_FP32VEC] = { "fp32_vec_flops_per_core", P_POS, F_BOTH },
    [PR_HBM_BYTES] = { "hbm_bytes_per_core", P_POS, F_BOTH },
    [PR_HBM_BPS] = { "hbm_Bps_per_core", P_POS, F_BOTH },
    [PR_ONCHIP] = { "onchip_bytes_per_core", P_POS, F_BOTH },
    [PR_OVERHEAD] = { "op_overhead_s", P_NONNEG, F_BOTH },
    [PR_PASSES] = { "fp32_matmul_passes", P_PASSES, F_TPU },
    [PR_TORUS] = { "torus", P_DIMS, F_TPU },
    [PR_WRAP] = { "wrap", P_WRAP, F_TPU },
    [PR_LINK_BPS] = { "link_Bps", P_POS, F_TPU },
    [PR_LINK_LAT] = { "link_lat_s", P_NONNEG, F_TPU },
    [PR_FAMILY] = { "family", P_FAMILY, F_OPTIONAL },
    [PR_SMS] = { "sms", P_INT, F_GPU },
    [PR_TILE_M] = { "tile_m", P_INT, F_GPU },
    [PR_TILE_N] = { "tile_n", P_INT, F_GPU },
    [PR_TILE_K] = { "tile_k", P_INT, F_GPU },
    [PR_FP32MM] = { "fp32_matmul_flops", P_POS, F_GPU },
    [PR_MM_EFF] = { "mm_efficiency", P_FRAC, F_GPU },
    [PR_HBM_EFF] = { "hbm_efficiency", P_FRAC, F_GPU },
    [PR_OPT_BYTES] = { "optimizer_bytes_per_param", P_POS, F_GPU },
    [PR_GPN] = { "gpus_per_node", P_INT, F_GPU },
    [PR_NODES] = { "nodes", P_INT, F_GPU },
    [PR_NVLINK_BPS] = { "nvlink_Bps", P_POS, F_GPU },
    [PR_NVLINK_LAT] = { "nvlink_lat_s", P_NONNEG, F_GPU },
    [PR_NIC_BPS] = { "nic_Bps", P_POS, F_GPU },
    [PR_NIC_LAT] = { "nic_lat_s", P_NONNEG, F_GPU },
    [PR_LINK_BWF] = { "link_bw_factor", P_BWF, F_TPU },
    [PR_LINK_LATF] = { "link_lat_factor", P_LATF, F_TPU },
    [PR_NVLINK_BWF] = { "nvlink_bw_factor", P_BWF, F_GPU },
    [PR_NVLINK_LATF] = { "nvlink_lat_factor", P_LATF, F_GPU },
    [PR_NIC_BWF] = { "nic_bw_factor", P_BWF, F_GPU },
    [PR_NIC_LATF] = { "nic_lat_factor", P_LATF, F_GPU },
};

/* Physical ranges of the numeric properties: far outside every chip and network built (the presets are TPU v2-v4
 * and H100/H200), and inside what keeps the cost model and SimGrid finite.  An out-of-range number (a clock of
 * 1e-300 Hz, an overhead of 1e308 s) would otherwise give a deadlock or a step shorter than its parts. */
static const struct {
    double lo, hi;
} PROP_RANGE[N_PROPS] = {
    [PR_MXUS] = { 1, 64 },            [PR_MXU_DIM] = { 1, 4096 },
    [PR_CLOCK] = { 1e6, 1e11 },       /* 1 MHz .. 100 GHz */
    [PR_BF16] = { 1e6, 1e18 },        [PR_FP32VEC] = { 1e3, 1e18 },   [PR_FP32MM] = { 1e3, 1e18 },   /* flop/s */
    [PR_HBM_BYTES] = { 1e6, 1e15 },   [PR_HBM_BPS] = { 1e6, 1e15 },   [PR_ONCHIP] = { 1, 1e12 },
    [PR_OVERHEAD] = { 0, 1 },         /* s per op */
    [PR_PASSES] = { 1, 64 },
    [PR_LINK_BPS] = { 1, 1e16 },      [PR_NVLINK_BPS] = { 1, 1e16 },  [PR_NIC_BPS] = { 1, 1e16 },    /* B/s */
    [PR_LINK_LAT] = { 0, 1 },         [PR_NVLINK_LAT] = { 0, 1 },     [PR_NIC_LAT] = { 0, 1 },       /* s per hop */
    [PR_SMS] = { 1, 100000 },         [PR_TILE_M] = { 1, 4096 },      [PR_TILE_N] = { 1, 4096 },     [PR_TILE_K] = { 1, 4096 },
    [PR_MM_EFF] = { 0, 1 },           [PR_HBM_EFF] = { 0, 1 },
    [PR_OPT_BYTES] = { 0, 1000 },     [PR_GPN] = { 1, 1024 },         [PR_NODES] = { 1, 100000 },
};

/* 1 when a platform of family 'gpu' (0 tpu, 1 gpu) must have property k. */
static int prop_required(int k, int gpu)
{
    return PROPS[k].fam == F_BOTH || PROPS[k].fam == (gpu ? F_GPU : F_TPU);
}

/* Parses "a,b[,c]" of integers in [lo, hi] into v (room for 3).  Returns the count (2 or 3 for dims,
 * 1..3 for flags), or -1. */
static int parse_int_list(int *v, const char *s, long lo, long hi)
{
    int n = 0;
    const char *p = s;
    for (;;) {
        if (n == 3 || *p < '0' || *p > '9')
            return -1;
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (errno == ERANGE || x < lo || x > hi)
            return -1;
        v[n++] = (int)x;
        if (*end == '\0')
            return n;
        if (*end != ',')
            return -1;
        p = end + 1;
    }
}

/* 0 when 'value' follows the rule of 'kind'; the parsed number goes to *num, the list to list and its length to nlist. */
static int prop_parse(prop_kind kind, const char *value, double *num, int *list, int *nlist)
{
    double x = 0;
    long l = 0;
    int tmp[3], ntmp = 0;
    switch (kind) {
    case P_NAME: {
        size_t n = strlen(value);
        if (n < 1 || n > 31)
            return -1;
        for (size_t i = 0; i < n; i++) {
            char ch = value[i];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                  ch == '_'))
                return -1;
        }
        return 0;
    }
    case P_INT:
        if (errbuf_parse_long(value, &l) != 0 || l < 1 || l > 1000000)
            return -1;
        x = (double)l;
        break;
    case P_POS:
        if (errbuf_parse_double(value, &x) != 0 || !(x > 0))
            return -1;
        break;
    case P_NONNEG:
        if (errbuf_parse_double(value, &x) != 0 || !(x >= 0))
            return -1;
        break;
    case P_PASSES:
        if (errbuf_parse_double(value, &x) != 0 || !(x >= 1))
            return -1;
        break;
    case P_FRAC:
        if (errbuf_parse_double(value, &x) != 0 || !(x > 0) || x > 1)
            return -1;
        break;
    case P_BWF:
        if (errbuf_parse_double(value, &x) != 0 || !(x >= BW_FACTOR_MIN && x <= 1))
            return -1;
        break;
    case P_LATF:
        if (errbuf_parse_double(value, &x) != 0 || !(x >= 1 && x <= LAT_FACTOR_MAX))
            return -1;
        break;
    case P_FAMILY:
        if (strcmp(value, "tpu") == 0)
            x = 0;
        else if (strcmp(value, "gpu") == 0)
            x = 1;
        else
            return -1;
        break;
    case P_DIMS:
        ntmp = parse_int_list(tmp, value, 1, PLATFORM_DIM_MAX);
        if (ntmp < 2)
            return -1;
        break;
    case P_WRAP:
        ntmp = parse_int_list(tmp, value, 0, 1);
        if (ntmp < 1)
            return -1;
        break;
    }
    if (num != NULL)
        *num = x;
    if (list != NULL) {
        for (int i = 0; i < ntmp; i++)
            list[i] = tmp[i];
        *nlist = ntmp;
    }
    return 0;
}

static int prop_index(const char *id)
{
    for (int i = 0; i < N_PROPS; i++)
        if (strcmp(PROPS[i].id, id) == 0)
            return i;
    return -1;
}

/* ---- precheck: a small scanner over the tags and attributes of the XML text ---- */

typedef enum { U_BANDWIDTH, U_TIME, U_SPEED, U_CORE } unit_kind;

/* Units SimGrid 3.32 accepts (checked by loading each one; "" is accepted with a deprecation warning). */
static const char *const BW_UNITS[] = { "", "Bps", "kBps", "MBps", "GBps", "TBps", "PBps", "EBps", "KiBps", "MiBps",
                                        "GiBps", "TiBps", "PiBps", "EiBps", "bps", "kbps", "Mbps", "Gbps", "Tbps",
                                        "Pbps", "Ebps", "Kibps", "Mibps", "Gibps", "Tibps", "Pibps", "Eibps", NULL };
static const char *const TIME_UNITS[] = { "", "w", "d", "h", "m", "s", "ms", "us", "ns", "ps", NULL };
static const char *const SPEED_UNITS[] = { "", "f", "kf", "Mf", "Gf", "Tf", "Pf", "Ef", "Zf", "Yf", NULL };

static const char *const UNIT_RULES[] = {
    [U_BANDWIDTH] = "must be a bandwidth in [1 B/s, 1e16 B/s] such as '100GBps'",
    [U_TIME] = "must be a time in [0, 1 s] such as '1us'",
    [U_SPEED] = "must be a speed in [1, 1e21] flop/s such as '61.5Tf'",
    [U_CORE] = "must be an integer > 0",
};

/* What each unit multiplies by (same order as the lists above). */
static const double BW_MULT[] = { 1, 1, 1e3, 1e6, 1e9, 1e12, 1e15, 1e18, 0x1p10, 0x1p20, 0x1p30, 0x1p40, 0x1p50, 0x1p60,
                                  0.125, 125, 125e3, 125e6, 125e9, 125e12, 125e15, 0x1p7, 0x1p17, 0x1p27, 0x1p37,
                                  0x1p47, 0x1p57 };
static const double TIME_MULT[] = { 1, 604800, 86400, 3600, 60, 1, 1e-3, 1e-6, 1e-9, 1e-12 };
static const double SPEED_MULT[] = { 1, 1, 1e3, 1e6, 1e9, 1e12, 1e15, 1e18, 1e21, 1e24 };
/* Physical ranges after the unit: bandwidth 1 B/s .. 10 PB/s, latency 0 .. 1 s, speed 1 flop/s .. 1e21. */
#define PLATFORM_BW_MAX 1e16
#define PLATFORM_LAT_MAX 1.0
#define PLATFORM_SPEED_MAX 1e21

/* 0 when s is one number (no sign) followed by one of the units of 'kind', within the kind's range. */
static int unit_value_ok(const char *s, unit_kind kind)
{
    if (kind == U_CORE) {
        long l;
        return errbuf_parse_long(s, &l) == 0 && l >= 1 && l <= 1000000 ? 0 : -1;
    }
    if (!((*s >= '0' && *s <= '9') || *s == '.'))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno == ERANGE || !isfinite(v))
        return -1;
    const char *const *units = kind == U_BANDWIDTH ? BW_UNITS : kind == U_TIME ? TIME_UNITS : SPEED_UNITS;
    const double *mult = kind == U_BANDWIDTH ? BW_MULT : kind == U_TIME ? TIME_MULT : SPEED_MULT;
    int unit = -1;
    for (int i = 0; units[i] != NULL; i++)
        if (strcmp(end, units[i]) == 0)
            unit = i;
    if (unit < 0 || strpbrk(s, "xX") != NULL)
        return -1;
    double x = v * mult[unit];
    if (kind == U_TIME)
        return x >= 0 && x <= PLATFORM_LAT_MAX ? 0 : -1;
    return x >= 1 && x <= (kind == U_BANDWIDTH ? PLATFORM_BW_MAX : PLATFORM_SPEED_MAX) ? 0 : -1;
}

/* Which attributes of which elements carry numbers SimGrid parses. */
static const struct {
    const char *elem, *attr;
    unit_kind kind;
} NUM_ATTRS[] = {
    { "host", "speed", U_SPEED },          { "host", "core", U_CORE },
    { "cluster", "speed", U_SPEED },       { "cluster", "core", U_CORE },
    { "cluster", "bw", U_BANDWIDTH },      { "cluster", "lat", U_TIME },
    { "cluster", "loopback_bw", U_BANDWIDTH }, { "cluster", "loopback_lat", U_TIME },
    { "cluster", "limiter_link", U_BANDWIDTH }, { "cluster", "bb_bw", U_BANDWIDTH },
    { "cluster", "bb_lat", U_TIME },
    { "link", "bandwidth", U_BANDWIDTH },  { "link", "latency", U_TIME },
    { "backbone", "bandwidth", U_BANDWIDTH }, { "backbone", "latency", U_TIME },
};

/* Checks one attribute of element 'elem' at 'line'.  A speed may be a comma list of power states. */
static int check_attr(const char *path, int line, const char *elem, const char *attr, const char *value,
                      errbuf *err)
{
    for (size_t i = 0; i < sizeof NUM_ATTRS / sizeof NUM_ATTRS[0]; i++) {
        if (strcmp(NUM_ATTRS[i].elem, elem) != 0 || strcmp(NUM_ATTRS[i].attr, attr) != 0)
            continue;
        int ok;
        if (NUM_ATTRS[i].kind == U_SPEED) {
            char buf[128];
            ok = strlen(value) < sizeof buf && value[0] != '\0';
            if (ok) {
                strcpy(buf, value);
                char *save = NULL;
                int parts = 0;
                for (char *tok = strtok_r(buf, ",", &save); tok != NULL && ok; tok = strtok_r(NULL, ",", &save)) {
                    ok = unit_value_ok(tok, U_SPEED) == 0;
                    parts++;
                }
                ok = ok && parts > 0 && value[strlen(value) - 1] != ',';
            }
        } else {
            ok = value[0] != '\0' && unit_value_ok(value, NUM_ATTRS[i].kind) == 0;
        }
        if (!ok)
            return errbuf_set(err, "%s:%d: <%s> attribute '%s' %s, got '%s'", path, line, elem, attr,
                              UNIT_RULES[NUM_ATTRS[i].kind], value);
    }
    return 0;
}

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == ':' || c == '.';
}

/* Advances *pp past whitespace, counting newlines into *line. */
static void skip_space(const char **pp, int *line)
{
    const char *p = *pp;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
        if (*p == '\n')
            (*line)++;
        p++;
    }
    *pp = p;
}

/* Skips to just after 'end' (counting lines); -1 when it never comes.  A plain scan, not strstr: the
 * sanitizers' strstr reads the whole rest of the text on every call, which is quadratic on a 23 MB file. */
static int skip_past(const char **pp, int *line, const char *end)
{
    size_t n = strlen(end);
    for (const char *p = *pp; *p != '\0'; p++) {
        if (*p == '\n')
            (*line)++;
        if (strncmp(p, end, n) == 0) {
            *pp = p + n;
            return 0;
        }
    }
    return -1;
}

#define ATTR_VALUE_MAX 256

/* The scanner's place in the text. */
typedef struct {
    const char *path;
    const char *p;      /* the next character */
    int line;           /* the line *p is on */
} scanner;

/* One element's tag: its name, where it starts, and a <prop>'s id and value. */
typedef struct {
    char elem[32];
    int line;
    char prop_id[ATTR_VALUE_MAX], prop_value[ATTR_VALUE_MAX];
    int has_id, has_value;
} scan_tag;

/* Skips a comment, processing instruction, declaration or closing tag at s->p: 1 when it did, 0 when s->p
 * starts an element, -1 when the markup never ends. */
static int scan_markup(scanner *s, int tag_line, errbuf *err)
{
    if (strncmp(s->p, "<!--", 4) == 0) {
        if (skip_past(&s->p, &s->line, "-->") != 0)
            return errbuf_set(err, "%s:%d: unterminated comment", s->path, tag_line);
        return 1;
    }
    if (strncmp(s->p, "<?", 2) == 0 || strncmp(s->p, "<!", 2) == 0 || strncmp(s->p, "</", 2) == 0) {
        if (skip_past(&s->p, &s->line, ">") != 0)
            return errbuf_set(err, "%s:%d: unterminated tag", s->path, tag_line);
        return 1;
    }
    return 0;
}

/* Reads one name="value" attribute of tag t at s->p, checks its number, and keeps a <prop>'s id and value. */
static int scan_attr(scanner *s, scan_tag *t, errbuf *err)
{
    char attr[32];
    size_t n = 0;
    while (is_name_char(*s->p) && n + 1 < sizeof attr)
        attr[n++] = *s->p++;
    attr[n] = '\0';
    skip_space(&s->p, &s->line);
    if (n == 0 || *s->p != '=')
        return errbuf_set(err, "%s:%d: malformed attribute in <%s>", s->path, s->line, t->elem);
    s->p++;
    skip_space(&s->p, &s->line);
    char quote = *s->p;
    if (quote != '"' && quote != '\'')
        return errbuf_set(err, "%s:%d: malformed attribute in <%s>", s->path, s->line, t->elem);
    const char *v = ++s->p;
    while (*s->p != quote && *s->p != '\0' && *s->p != '<') {
        if (*s->p == '\n')
            s->line++;
        s->p++;
    }
    if (*s->p != quote)
        return errbuf_set(err, "%s:%d: unterminated attribute '%s' in <%s>", s->path, t->line, attr, t->elem);
    char value[ATTR_VALUE_MAX];
    size_t vlen = (size_t)(s->p - v);
    if (vlen >= sizeof value)
        vlen = sizeof value - 1;          /* longer values are never numbers we check */
    memcpy(value, v, vlen);
    value[vlen] = '\0';
    s->p++;
    if (check_attr(s->path, t->line, t->elem, attr, value, err) != 0)
        return -1;
    if (strcmp(t->elem, "prop") == 0 && strcmp(attr, "id") == 0) {
        strcpy(t->prop_id, value);
        t->has_id = 1;
    } else if (strcmp(t->elem, "prop") == 0 && strcmp(attr, "value") == 0) {
        strcpy(t->prop_value, value);
        t->has_value = 1;
    }
    return 0;
}

/* Reads an element's tag after its '<': the name, then name="value" pairs, then '>' or '/>'. */
static int scan_element(scanner *s, scan_tag *t, errbuf *err)
{
    size_t n = 0;
    while (is_name_char(*s->p) && n + 1 < sizeof t->elem)
        t->elem[n++] = *s->p++;
    t->elem[n] = '\0';
    if (n == 0)
        return errbuf_set(err, "%s:%d: malformed tag", s->path, t->line);
    for (;;) {
        skip_space(&s->p, &s->line);
        if (*s->p == '>' || (s->p[0] == '/' && s->p[1] == '>')) {
            s->p += *s->p == '>' ? 1 : 2;
            return 0;
        }
        if (*s->p == '\0')
            return errbuf_set(err, "%s:%d: unterminated tag <%s", s->path, t->line, t->elem);
        if (scan_attr(s, t, err) != 0)
            return -1;
    }
}

/* Checks a <prop> of a known property (its rule, its physical range, one family for all chips) and marks
 * it seen; family keeps the first 'family' value. */
static int scan_prop(const char *path, const scan_tag *t, int *seen, char *family, errbuf *err)
{
    int k = prop_index(t->prop_id);
    if (k < 0)
        return 0;
    double num = 0;
    if (!t->has_value || prop_parse(PROPS[k].kind, t->prop_value, &num, NULL, NULL) != 0)
        return errbuf_set(err, "%s:%d: property '%s' %s, got '%s'", path, t->line, t->prop_id,
                          PROP_RULES[PROPS[k].kind], t->prop_value);
    if (PROP_RANGE[k].hi > 0 && (num < PROP_RANGE[k].lo || num > PROP_RANGE[k].hi))
        return errbuf_set(err, "%s:%d: property '%s' must be in [%g, %g] (a physical range), got '%s'",
                          path, t->line, t->prop_id, PROP_RANGE[k].lo, PROP_RANGE[k].hi, t->prop_value);
    if (k == PR_FAMILY && seen[k] && strcmp(family, t->prop_value) != 0)
        return errbuf_set(err, "%s:%d: property 'family' is '%s', but an earlier host has '%s' (all "
                          "chips must agree)", path, t->line, t->prop_value, family);
    if (k == PR_FAMILY)
        strcpy(family, t->prop_value);
    seen[k] = 1;
    return 0;
}

/* Scans the text; fills seen[] for the properties it knows, checks every number it knows.  *gpu <- 1 when
 * property 'family' says gpu (every 'family' must say the same), 0 when it says tpu or is absent. */
static int scan_platform(const char *path, const char *text, int *seen, int *gpu, errbuf *err)
{
    char family[ATTR_VALUE_MAX] = "";
    scanner s = { path, text, 1 };
    int have_platform = 0;
    while (*s.p != '\0') {
        if (*s.p == '\n')
            s.line++;
        if (*s.p != '<') {
            s.p++;
            continue;
        }
        int tag_line = s.line;
        int markup = scan_markup(&s, tag_line, err);
        if (markup < 0)
            return -1;
        if (markup)
            continue;
        s.p++;
        scan_tag t = { .line = tag_line };
        if (scan_element(&s, &t, err) != 0)
            return -1;
        if (strcmp(t.elem, "platform") == 0)
            have_platform = 1;
        if (t.has_id && scan_prop(path, &t, seen, family, err) != 0)
            return -1;
    }
    if (!have_platform)
        return errbuf_set(err, "%s: not a SimGrid platform file (no <platform> element)", path);
    *gpu = strcmp(family, "gpu") == 0;
    return 0;
}

void platform_link_range(double *bw_lo_Bps, double *bw_hi_Bps, double *lat_lo_s, double *lat_hi_s)
{
    static const int BW[] = { PR_LINK_BPS, PR_NVLINK_BPS, PR_NIC_BPS }, LAT[] = { PR_LINK_LAT, PR_NVLINK_LAT,
                                                                                 PR_NIC_LAT };
    *bw_lo_Bps = 1;                       /* the XML attribute's range (unit_value_ok) ... */
    *bw_hi_Bps = PLATFORM_BW_MAX;
    *lat_lo_s = 0;
    *lat_hi_s = PLATFORM_LAT_MAX;
    for (int i = 0; i < 3; i++) {         /* ... within every link property's */
        *bw_lo_Bps = fmax(*bw_lo_Bps, PROP_RANGE[BW[i]].lo);
        *bw_hi_Bps = fmin(*bw_hi_Bps, PROP_RANGE[BW[i]].hi);
        *lat_lo_s = fmax(*lat_lo_s, PROP_RANGE[LAT[i]].lo);
        *lat_hi_s = fmin(*lat_hi_s, PROP_RANGE[LAT[i]].hi);
    }
}

int platform_precheck(const char *path, errbuf *err)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return errbuf_set(err, "%s: cannot open: %s", path, strerror(errno));
    char *text = NULL;
    int rc = -1;
    long size;
    if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        errbuf_set(err, "%s: cannot read: %s", path, strerror(errno));
        goto done;
    }
    if (size > PLATFORM_FILE_MAX) {
        errbuf_set(err, "%s: file is %ld bytes, more than the %ld a platform may have", path, size,
                   PLATFORM_FILE_MAX);
        goto done;
    }
    text = malloc((size_t)size + 1);
    if (text == NULL) {
        errbuf_set(err, "%s: out of memory reading %ld bytes", path, size);
        goto done;
    }
    if (fread(text, 1, (size_t)size, fp) != (size_t)size) {
        errbuf_set(err, "%s: cannot read: %s", path, ferror(fp) ? strerror(errno) : "short read");
        goto done;
    }
    text[size] = '\0';
    if (strlen(text) != (size_t)size) {
        errbuf_set(err, "%s: not a text file (contains a NUL byte)", path);
        goto done;
    }
    int seen[N_PROPS] = { 0 }, gpu = 0;
    if (scan_platform(path, text, seen, &gpu, err) != 0)
        goto done;
    for (int k = 0; k < N_PROPS; k++)
        if (prop_required(k, gpu) && !seen[k]) {
            errbuf_set(err, "%s: missing required property '%s'%s", path, PROPS[k].id,
                       gpu ? " (family gpu)" : "");
            goto done;
        }
    if (platxml_check(path, text, (size_t)size, err) != 0)   /* a real parse: SimGrid aborts on malformed XML */
        goto done;
    rc = 0;
done:
    free(text);
    fclose(fp);
    return rc;
}

/* ---- read-back through SimGrid ---- */

static int differs(double a, double b)
{
    return fabs(a - b) > REL_TOL * fmax(fabs(a), fabs(b));
}

/* Every host chip1..chip<n-1> has chip0's core count, speed and values of the properties the family needs. */
static int check_hosts_agree(const char *path, int nchips, int cores, double speed, const char *const *val,
                             int gpu, errbuf *err)
{
    for (int r = 1; r < nchips; r++) {
        char name[32];
        snprintf(name, sizeof name, "chip%d", r);
        sg_host_t h = sg_host_by_name(name);
        if (h == NULL)
            return errbuf_set(err, "%s: property '%s' is '%s', but there is no host '%s'", path,
                              gpu ? "nodes" : "torus", gpu ? val[PR_NODES] : val[PR_TORUS], name);
        if (sg_host_core_count(h) != cores)
            return errbuf_set(err, "%s: host '%s' has %d cores, chip0 has %d (all chips must agree)", path, name,
                              sg_host_core_count(h), cores);
        if (differs(sg_host_get_speed(h), speed))
            return errbuf_set(err, "%s: host '%s' speed is %g flop/s, chip0's is %g (all chips must agree)", path,
                              name, sg_host_get_speed(h), speed);
        for (int k = 0; k < N_PROPS; k++) {
            if (!prop_required(k, gpu) && k != PR_FAMILY)
                continue;
            const char *v = sg_host_get_property_value(h, PROPS[k].id);
            if (k == PR_FAMILY && v == NULL && val[k] == NULL)
                continue;                       /* TPU files without 'family' */
            if (v == NULL || val[k] == NULL || strcmp(v, val[k]) != 0)
                return errbuf_set(err, "%s: host '%s' property '%s' is '%s', chip0 has '%s' (all chips must agree)",
                                  path, name, PROPS[k].id, v == NULL ? "(missing)" : v,
                                  val[k] == NULL ? "(missing)" : val[k]);
        }
    }
    return 0;
}

/* The route from host 'from' to host 'to' must be 'want' links, each of bandwidth bw_k's value and latency
 * lat_k's ('what' names the route in messages). */
static int check_route(const char *path, int from, int to, unsigned long want, const char *what, int bw_k,
                       int lat_k, const char *const *val, const double *num, errbuf *err)
{
    char a[32], b[32];
    snprintf(a, sizeof a, "chip%d", from);
    snprintf(b, sizeof b, "chip%d", to);
    xbt_dynar_t links = xbt_dynar_new(sizeof(sg_link_t), NULL);
    sg_host_get_route(sg_host_by_name(a), sg_host_by_name(b), links);
    unsigned long nlinks = xbt_dynar_length(links);
    int rc = 0;
    if (nlinks != want)
        rc = errbuf_set(err, "%s: the route from %s to %s %s has %lu links, not %lu", path, a, b, what, nlinks, want);
    for (unsigned long i = 0; rc == 0 && i < nlinks; i++) {
        sg_link_t l = xbt_dynar_get_as(links, i, sg_link_t);
        if (differs(sg_link_get_bandwidth(l), num[bw_k]))
            rc = errbuf_set(err, "%s: link '%s' from %s to %s has %g B/s, but property '%s' is '%s'", path,
                            sg_link_get_name(l), a, b, sg_link_get_bandwidth(l), PROPS[bw_k].id, val[bw_k]);
        else if (differs(sg_link_get_latency(l), num[lat_k]))
            rc = errbuf_set(err, "%s: link '%s' from %s to %s has latency %g s, but property '%s' is '%s'", path,
                            sg_link_get_name(l), a, b, sg_link_get_latency(l), PROPS[lat_k].id, val[lat_k]);
    }
    xbt_dynar_free(&links);
    return rc;
}

/* TPU: the first torus link (chip0 to its + neighbour along the first dimension longer than 1) is one link with
 * the bandwidth and latency the properties say. */
static int check_torus_link(const char *path, sg_host_t h0, const int *dims, int ndims, const char *const *val,
                            const double *num, errbuf *err)
{
    /* The first torus link: chip0 to its + neighbour along the first dimension longer than 1. */
    int stride = 1;
    for (int d = 0; d < ndims; d++) {
        if (dims[d] > 1) {
            char name[32];
            snprintf(name, sizeof name, "chip%d", stride);
            xbt_dynar_t links = xbt_dynar_new(sizeof(sg_link_t), NULL);
            sg_host_get_route(h0, sg_host_by_name(name), links);
            unsigned long nlinks = xbt_dynar_length(links);
            double bw = 0, lat = 0;
            if (nlinks == 1) {
                sg_link_t l = xbt_dynar_get_as(links, 0, sg_link_t);
                bw = sg_link_get_bandwidth(l);
                lat = sg_link_get_latency(l);
            }
            xbt_dynar_free(&links);
            if (nlinks != 1)
                return errbuf_set(err, "%s: the route from chip0 to its torus neighbour %s has %lu links, not 1",
                                  path, name, nlinks);
            if (differs(bw, num[PR_LINK_BPS]))
                return errbuf_set(err, "%s: the link from chip0 to %s has %g B/s, but property 'link_Bps' is "
                                  "'%s'", path, name, bw, val[PR_LINK_BPS]);
            if (differs(lat, num[PR_LINK_LAT]))
                return errbuf_set(err, "%s: the link from chip0 to %s has latency %g s, but property "
                                  "'link_lat_s' is '%s'", path, name, lat, val[PR_LINK_LAT]);
            break;
        }
        stride *= dims[d];
    }
    return 0;
}

/* The cost model's chip from the properties (family-only fields stay 0 on the other family, cost.h). */
static void props_chip(cost_chip *out, const char *const *val, const double *num, int cores, int gpu)
{
    cost_chip c;
    memset(&c, 0, sizeof c);
    snprintf(c.chip, sizeof c.chip, "%s", val[PR_CHIP]);
    c.family = gpu ? COST_FAMILY_GPU : COST_FAMILY_TPU;
    c.cores_per_chip = cores;
    c.clock_Hz = num[PR_CLOCK];
    c.bf16_flops = num[PR_BF16];
    c.fp32_vec_flops = num[PR_FP32VEC];
    c.hbm_bytes = num[PR_HBM_BYTES];
    c.hbm_Bps = num[PR_HBM_BPS];
    c.onchip_bytes = num[PR_ONCHIP];
    c.op_overhead_s = num[PR_OVERHEAD];
    /* family-only fields stay 0 on the other family (cost.h) */
    c.mxus_per_core = (int)num[PR_MXUS];
    c.mxu_dim = (int)num[PR_MXU_DIM];
    c.fp32_matmul_passes = num[PR_PASSES];
    c.sms = (int)num[PR_SMS];
    c.tile_m = (int)num[PR_TILE_M];
    c.tile_n = (int)num[PR_TILE_N];
    c.tile_k = (int)num[PR_TILE_K];
    c.fp32_matmul_flops = num[PR_FP32MM];
    c.mm_efficiency = num[PR_MM_EFF];
    c.hbm_efficiency = num[PR_HBM_EFF];
    c.opt_bytes_per_param = num[PR_OPT_BYTES];
    *out = c;
}

/* What the engine and the collectives need of the network. */
static void props_torus(platform_torus *out, const double *num, int nchips, int ndims, const int *dims,
                        const int *wrap, int gpu)
{
    platform_torus t;
    memset(&t, 0, sizeof t);
    t.nchips = nchips;
    if (gpu) {
        t.family = COST_FAMILY_GPU;
        t.ndims = 1;                      /* the engine and collectives see a line of GPUs, in rank order */
        t.dims[0] = nchips;
        t.dims[1] = t.dims[2] = 1;
        t.link_Bps = num[PR_NVLINK_BPS];
        t.link_lat_s = num[PR_NVLINK_LAT];
        t.gpus_per_node = (int)num[PR_GPN];
        t.nodes = (int)num[PR_NODES];
        t.nic_Bps = num[PR_NIC_BPS];
        t.nic_lat_s = num[PR_NIC_LAT];
        t.link_bw_factor = num[PR_NVLINK_BWF];
        t.link_lat_factor = num[PR_NVLINK_LATF];
        t.nic_bw_factor = num[PR_NIC_BWF];
        t.nic_lat_factor = num[PR_NIC_LATF];
    } else {
        t.family = COST_FAMILY_TPU;
        t.ndims = ndims;
        for (int d = 0; d < 3; d++) {
            t.dims[d] = dims[d];
            t.wrap[d] = wrap[d];
        }
        t.link_Bps = num[PR_LINK_BPS];
        t.link_lat_s = num[PR_LINK_LAT];
        t.link_bw_factor = num[PR_LINK_BWF];
        t.link_lat_factor = num[PR_LINK_LATF];
    }
    *out = t;
}

/* The properties chip0 carries, read back through SimGrid: their text, numbers, and the torus lists. */
typedef struct {
    const char *val[N_PROPS];
    double num[N_PROPS];
    int gpu;
    int dims[3], wrap[3], ndims, nwrap;
} read_props;

/* Reads chip0's 'family' and every property the family requires, each parsed by its rule. */
static int read_chip0(read_props *rp, sg_host_t h0, const char *path, errbuf *err)
{
    rp->val[PR_FAMILY] = sg_host_get_property_value(h0, PROPS[PR_FAMILY].id);
    if (rp->val[PR_FAMILY] != NULL) {
        if (prop_parse(P_FAMILY, rp->val[PR_FAMILY], &rp->num[PR_FAMILY], NULL, NULL) != 0)
            return errbuf_set(err, "%s: property 'family' %s, got '%s'", path, PROP_RULES[P_FAMILY],
                              rp->val[PR_FAMILY]);
        rp->gpu = rp->num[PR_FAMILY] == 1;
    }
    for (int k = 0; k < N_PROPS; k++) {
        if (!prop_required(k, rp->gpu))
            continue;
        rp->val[k] = sg_host_get_property_value(h0, PROPS[k].id);
        if (rp->val[k] == NULL)
            return errbuf_set(err, "%s: missing required property '%s'%s", path, PROPS[k].id,
                              rp->gpu ? " (family gpu)" : "");
        int *list = k == PR_TORUS ? rp->dims : k == PR_WRAP ? rp->wrap : NULL;
        int *nlist = k == PR_TORUS ? &rp->ndims : &rp->nwrap;
        if (prop_parse(PROPS[k].kind, rp->val[k], &rp->num[k], list, nlist) != 0)
            return errbuf_set(err, "%s: property '%s' %s, got '%s'", path, PROPS[k].id, PROP_RULES[PROPS[k].kind],
                              rp->val[k]);
    }
    return 0;
}

/* The chips the properties describe (GPUs per node x nodes, or the torus with its wrap flags checked), which
 * must be the platform's host count. */
static int read_nchips(const read_props *rp, const char *path, int *nchips, errbuf *err)
{
    const char *const *val = rp->val;
    int n;
    if (rp->gpu) {
        long gpus = (long)rp->num[PR_GPN] * (long)rp->num[PR_NODES];
        if (gpus > INT_MAX)
            return errbuf_set(err, "%s: properties 'gpus_per_node' x 'nodes' are %s x %s, too many GPUs", path,
                              val[PR_GPN], val[PR_NODES]);
        n = (int)gpus;
    } else {
        if (rp->nwrap != rp->ndims)
            return errbuf_set(err, "%s: property 'wrap' must have one flag per torus dimension (%d), got '%s'", path,
                              rp->ndims, val[PR_WRAP]);
        for (int d = 0; d < rp->ndims; d++)
            if (rp->wrap[d] && rp->dims[d] == 1)
                return errbuf_set(err, "%s: property 'wrap' wraps a dimension of size 1, got '%s'", path,
                                  val[PR_WRAP]);
        n = rp->dims[0] * rp->dims[1] * rp->dims[2];
    }
    size_t nhosts = sg_host_count();
    if (nhosts != (size_t)n) {
        if (rp->gpu)
            return errbuf_set(err, "%s: properties 'gpus_per_node' x 'nodes' are %s x %s (%d GPUs), but the "
                              "platform has %zu hosts", path, val[PR_GPN], val[PR_NODES], n, nhosts);
        return errbuf_set(err, "%s: property 'torus' is '%s' (%d chips), but the platform has %zu hosts", path,
                          val[PR_TORUS], n, nhosts);
    }
    *nchips = n;
    return 0;
}

/* The links the properties describe.  GPU: in a node, chip0's NVLink up and chip1's NVLink down; across
 * nodes, chip0's NIC up and the first GPU of node 1's NIC down.  TPU: the first torus link. */
static int read_check_links(const read_props *rp, sg_host_t h0, const char *path, errbuf *err)
{
    if (!rp->gpu)
        return check_torus_link(path, h0, rp->dims, rp->ndims, rp->val, rp->num, err);
    int gpn = (int)rp->num[PR_GPN];
    if (gpn > 1 && check_route(path, 0, 1, 2, "(same node: NVLink up, NVLink down)", PR_NVLINK_BPS,
                               PR_NVLINK_LAT, rp->val, rp->num, err) != 0)
        return -1;
    if (rp->num[PR_NODES] > 1 && check_route(path, 0, gpn, 2, "(next node: NIC up, NIC down)", PR_NIC_BPS,
                                              PR_NIC_LAT, rp->val, rp->num, err) != 0)
        return -1;
    return 0;
}

int platform_read(cost_chip *chip, platform_torus *torus, const char *path, errbuf *err)
{
    sg_host_t h0 = sg_host_by_name("chip0");
    if (h0 == NULL)
        return errbuf_set(err, "%s: no host 'chip0' (hosts must be named chip0, chip1, ... by rank)", path);
    read_props rp = { .val = { NULL }, .dims = { 1, 1, 1 } };
    int nchips = 0;
    if (read_chip0(&rp, h0, path, err) != 0 || read_nchips(&rp, path, &nchips, err) != 0)
        return -1;

    int cores = sg_host_core_count(h0);
    double speed = sg_host_get_speed(h0);
    if (rp.gpu && cores != 1)
        return errbuf_set(err, "%s: host 'chip0' has %d cores, but a GPU is one core (property 'family' is 'gpu')",
                          path, cores);
    if (differs(speed, rp.num[PR_BF16]))
        return errbuf_set(err, "%s: host 'chip0' speed is %g flop/s, but property 'bf16_flops_per_core' is '%s'",
                          path, speed, rp.val[PR_BF16]);
    if (check_hosts_agree(path, nchips, cores, speed, rp.val, rp.gpu, err) != 0)
        return -1;
    if (read_check_links(&rp, h0, path, err) != 0)
        return -1;

    props_chip(chip, rp.val, rp.num, cores, rp.gpu);
    props_torus(torus, rp.num, nchips, rp.ndims, rp.dims, rp.wrap, rp.gpu);
    return 0;
}
