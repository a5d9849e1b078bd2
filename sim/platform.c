/* platform: the precheck of a platform XML (SimGrid aborts on bad input, so we look first: libexpat parses it in
 * sim/platxml.c, this file checks each element's numbers and properties by the chip table) and the read-back of
 * the chip's numbers from the host properties of a loaded platform, a TPU torus or GPU nodes (property 'family').
 * Not the generator (topologies/torus.c, topologies/gpu.c). */
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

#define PLATFORM_FILE_MAX (1L << 30)
#define REL_TOL 1e-9               /* numbers read back through SimGrid's unit parser may differ in the last bit */

/* The index of property 'id' in CHIP_PROPS (the table names every property this file looks up). */
static int prop_index(const char *id)
{
    const chip_prop *p = chip_prop_find(id);
    return p == NULL ? -1 : (int)(p - CHIP_PROPS);
}

/* ---- precheck: the values of the elements libexpat parses (sim/platxml.c) ---- */

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
static int check_attr(const char *path, long line, const char *elem, const char *attr, const char *value,
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
            return errbuf_set(err, "%s:%ld: <%s> attribute '%s' %s, got '%s'", path, line, elem, attr,
                              UNIT_RULES[NUM_ATTRS[i].kind], value);
    }
    return 0;
}

/* What the precheck gathers over the elements of one file. */
typedef struct {
    const char *path;
    int seen[CHIP_PROPS_MAX];           /* 1 for each property of the table some host carries */
    char family[CHIP_NAME_MAX];         /* the first 'family' value, "" while there is none */
} precheck_state;

/* Checks a <prop> of a known property (its rule, its physical range, one family for all chips) and marks
 * it seen; the state keeps the first 'family' value. */
static int precheck_prop(precheck_state *st, const char *id, const char *value, long line, errbuf *err)
{
    int k = prop_index(id);
    if (k < 0)
        return 0;
    const chip_prop *p = &CHIP_PROPS[k];
    chip_spec scratch;
    int rc = chip_prop_parse(&scratch, p, value, 1);
    if (rc == -1)
        return errbuf_set(err, "%s:%ld: property '%s' %s, got '%s'", st->path, line, id, chip_prop_rule(p), value);
    if (rc == -2)
        return errbuf_set(err, "%s:%ld: property '%s' must be in [%g, %g] (a physical range), got '%s'", st->path,
                          line, id, p->lo, p->hi, value);
    if (p->kind == CHIP_K_FAMILY) {
        if (st->family[0] != '\0' && strcmp(st->family, value) != 0)
            return errbuf_set(err, "%s:%ld: property 'family' is '%s', but an earlier host has '%s' (all "
                              "chips must agree)", st->path, line, value, st->family);
        snprintf(st->family, sizeof st->family, "%s", value);
    }
    st->seen[k] = 1;
    return 0;
}

/* platxml's check of every element: its numeric attributes, and a <prop>'s value. */
static int precheck_elem(void *arg, const char *elem, const char **atts, long line, errbuf *err)
{
    precheck_state *st = arg;
    for (int i = 0; atts[i] != NULL; i += 2)
        if (check_attr(st->path, line, elem, atts[i], atts[i + 1], err) != 0)
            return -1;
    if (strcmp(elem, "prop") == 0) {
        const char *id = NULL, *value = NULL;
        for (int i = 0; atts[i] != NULL; i += 2) {
            if (strcmp(atts[i], "id") == 0)
                id = atts[i + 1];
            else if (strcmp(atts[i], "value") == 0)
                value = atts[i + 1];
        }
        if (id != NULL && value != NULL)           /* platxml requires both */
            return precheck_prop(st, id, value, line, err);
    }
    return 0;
}

void platform_link_range(double *bw_lo_Bps, double *bw_hi_Bps, double *lat_lo_s, double *lat_hi_s)
{
    static const char *const BW[] = { "link_Bps", "nvlink_Bps", "nic_Bps" },
                      *const LAT[] = { "link_lat_s", "nvlink_lat_s", "nic_lat_s" };
    *bw_lo_Bps = 1;                       /* the XML attribute's range (unit_value_ok) ... */
    *bw_hi_Bps = PLATFORM_BW_MAX;
    *lat_lo_s = 0;
    *lat_hi_s = PLATFORM_LAT_MAX;
    for (int i = 0; i < 3; i++) {         /* ... within every link property's (the chip table's ranges) */
        const chip_prop *bw = chip_prop_find(BW[i]), *lat = chip_prop_find(LAT[i]);
        *bw_lo_Bps = fmax(*bw_lo_Bps, bw->lo);
        *bw_hi_Bps = fmin(*bw_hi_Bps, bw->hi);
        *lat_lo_s = fmax(*lat_lo_s, lat->lo);
        *lat_hi_s = fmin(*lat_hi_s, lat->hi);
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
    precheck_state st = { .path = path, .seen = { 0 }, .family = "" };
    if (platxml_check(path, text, (size_t)size, precheck_elem, &st, err) != 0)
        goto done;
    int gpu = strcmp(st.family, "gpu") == 0;
    for (int k = 0; k < CHIP_N_PROPS; k++)
        if (chip_prop_required(&CHIP_PROPS[k], gpu) && !st.seen[k]) {
            errbuf_set(err, "%s: missing required property '%s'%s", path, CHIP_PROPS[k].id,
                       gpu ? " (family gpu)" : "");
            goto done;
        }
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

/* The properties chip0 carries, read back through SimGrid: their text (by CHIP_PROPS index) and the chip they
 * describe. */
typedef struct {
    const char *val[CHIP_PROPS_MAX];
    chip_spec spec;
    int gpu;
} read_props;

/* The text of property 'id' as chip0 carries it ("(missing)" when it does not). */
static const char *val_of(const read_props *rp, const char *id)
{
    int k = prop_index(id);
    return k < 0 || rp->val[k] == NULL ? "(missing)" : rp->val[k];
}

/* Every host chip1..chip<n-1> has chip0's core count, speed and values of the properties the family needs. */
static int check_hosts_agree(const char *path, int nchips, int cores, double speed, const read_props *rp,
                             errbuf *err)
{
    for (int r = 1; r < nchips; r++) {
        char name[32];
        snprintf(name, sizeof name, "chip%d", r);
        sg_host_t h = sg_host_by_name(name);
        if (h == NULL)
            return errbuf_set(err, "%s: property '%s' is '%s', but there is no host '%s'", path,
                              rp->gpu ? "nodes" : "torus", val_of(rp, rp->gpu ? "nodes" : "torus"), name);
        if (sg_host_core_count(h) != cores)
            return errbuf_set(err, "%s: host '%s' has %d cores, chip0 has %d (all chips must agree)", path, name,
                              sg_host_core_count(h), cores);
        if (differs(sg_host_get_speed(h), speed))
            return errbuf_set(err, "%s: host '%s' speed is %g flop/s, chip0's is %g (all chips must agree)", path,
                              name, sg_host_get_speed(h), speed);
        for (int k = 0; k < CHIP_N_PROPS; k++) {
            const chip_prop *p = &CHIP_PROPS[k];
            if (!chip_prop_required(p, rp->gpu) && p->carried != CHIP_OPTIONAL)
                continue;
            const char *v = sg_host_get_property_value(h, p->id);
            if (p->carried == CHIP_OPTIONAL && v == NULL && rp->val[k] == NULL)
                continue;                       /* an optional property both leave out ('family' of a TPU) */
            if (v == NULL || rp->val[k] == NULL || strcmp(v, rp->val[k]) != 0)
                return errbuf_set(err, "%s: host '%s' property '%s' is '%s', chip0 has '%s' (all chips must agree)",
                                  path, name, p->id, v == NULL ? "(missing)" : v,
                                  rp->val[k] == NULL ? "(missing)" : rp->val[k]);
        }
    }
    return 0;
}

/* The route from host 'from' to host 'to' must be 'want' links, each of the bandwidth of property 'bw_id' and
 * the latency of 'lat_id' ('what' names the route in messages). */
static int check_route(const char *path, int from, int to, unsigned long want, const char *what,
                       const char *bw_id, const char *lat_id, const read_props *rp, errbuf *err)
{
    char a[32], b[32];
    snprintf(a, sizeof a, "chip%d", from);
    snprintf(b, sizeof b, "chip%d", to);
    double bw = chip_prop_number(&rp->spec, chip_prop_find(bw_id));
    double lat = chip_prop_number(&rp->spec, chip_prop_find(lat_id));
    xbt_dynar_t links = xbt_dynar_new(sizeof(sg_link_t), NULL);
    sg_host_get_route(sg_host_by_name(a), sg_host_by_name(b), links);
    unsigned long nlinks = xbt_dynar_length(links);
    int rc = 0;
    if (nlinks != want)
        rc = errbuf_set(err, "%s: the route from %s to %s %s has %lu links, not %lu", path, a, b, what, nlinks, want);
    for (unsigned long i = 0; rc == 0 && i < nlinks; i++) {
        sg_link_t l = xbt_dynar_get_as(links, i, sg_link_t);
        if (differs(sg_link_get_bandwidth(l), bw))
            rc = errbuf_set(err, "%s: link '%s' from %s to %s has %g B/s, but property '%s' is '%s'", path,
                            sg_link_get_name(l), a, b, sg_link_get_bandwidth(l), bw_id, val_of(rp, bw_id));
        else if (differs(sg_link_get_latency(l), lat))
            rc = errbuf_set(err, "%s: link '%s' from %s to %s has latency %g s, but property '%s' is '%s'", path,
                            sg_link_get_name(l), a, b, sg_link_get_latency(l), lat_id, val_of(rp, lat_id));
    }
    xbt_dynar_free(&links);
    return rc;
}

/* TPU: the first torus link (chip0 to its + neighbour along the first dimension longer than 1) is one link with
 * the bandwidth and latency the properties say. */
static int check_torus_link(const char *path, sg_host_t h0, const read_props *rp, errbuf *err)
{
    const chip_spec *c = &rp->spec;
    int stride = 1;
    for (int d = 0; d < c->ndims; d++) {
        if (c->dims[d] > 1) {
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
            if (differs(bw, c->link_Bps))
                return errbuf_set(err, "%s: the link from chip0 to %s has %g B/s, but property 'link_Bps' is "
                                  "'%s'", path, name, bw, val_of(rp, "link_Bps"));
            if (differs(lat, c->link_lat_s))
                return errbuf_set(err, "%s: the link from chip0 to %s has latency %g s, but property "
                                  "'link_lat_s' is '%s'", path, name, lat, val_of(rp, "link_lat_s"));
            break;
        }
        stride *= c->dims[d];
    }
    return 0;
}

/* What the engine and the collectives need of the network, from the chip's network fields.  A GPU platform is
 * a line of GPUs in rank order whose 'link' is NVLink; the GPU-only fields are 0 on a TPU. */
static void props_torus(platform_torus *out, const chip_spec *c, int nchips)
{
    int gpu = c->family == CHIP_FAMILY_GPU;
    platform_torus t;
    memset(&t, 0, sizeof t);
    t.family = c->family;
    t.nchips = nchips;
    t.ndims = gpu ? 1 : c->ndims;
    for (int d = 0; d < 3; d++) {
        t.dims[d] = gpu ? (d == 0 ? nchips : 1) : c->dims[d];
        t.wrap[d] = gpu ? 0 : c->wrap[d];
    }
    t.link_Bps = gpu ? c->nvlink_Bps : c->link_Bps;
    t.link_lat_s = gpu ? c->nvlink_lat_s : c->link_lat_s;
    t.link_bw_factor = gpu ? c->nvlink_bw_factor : c->link_bw_factor;
    t.link_lat_factor = gpu ? c->nvlink_lat_factor : c->link_lat_factor;
    t.gpus_per_node = c->gpus_per_node;
    t.nodes = c->nodes;
    t.nic_Bps = c->nic_Bps;
    t.nic_lat_s = c->nic_lat_s;
    t.nic_bw_factor = c->nic_bw_factor;
    t.nic_lat_factor = c->nic_lat_factor;
    if (gpu && c->rails > 0) {
        t.rails = c->rails;
        t.nodes_per_leaf = c->nodes_per_leaf;
        t.oversub = c->oversub;
        t.leaf_up_Bps = (double)c->nodes_per_leaf * c->rails * c->nic_Bps / c->oversub;
        t.spine_lat_s = c->spine_lat_s;
    }
    *out = t;
}

/* Reads chip0's 'family' and every property the family requires into rp, each parsed by its rule. */
static int read_chip0(read_props *rp, sg_host_t h0, const char *path, errbuf *err)
{
    const chip_prop *fam = chip_prop_find("family");
    int kf = prop_index("family");
    rp->val[kf] = sg_host_get_property_value(h0, fam->id);
    if (rp->val[kf] != NULL) {
        if (chip_prop_parse(&rp->spec, fam, rp->val[kf], 0) != 0)
            return errbuf_set(err, "%s: property 'family' %s, got '%s'", path, chip_prop_rule(fam), rp->val[kf]);
        rp->gpu = rp->spec.family == CHIP_FAMILY_GPU;
    }
    for (int k = 0; k < CHIP_N_PROPS; k++) {
        const chip_prop *p = &CHIP_PROPS[k];
        if (p->carried == CHIP_OPTIONAL && k != kf && rp->gpu) {    /* a rail fat tree's shape, when it is one */
            rp->val[k] = sg_host_get_property_value(h0, p->id);
            if (rp->val[k] != NULL && chip_prop_parse(&rp->spec, p, rp->val[k], 1) != 0)
                return errbuf_set(err, "%s: property '%s' %s in [%g, %g], got '%s'", path, p->id, chip_prop_rule(p),
                                  p->lo, p->hi, rp->val[k]);
            continue;
        }
        if (!chip_prop_required(p, rp->gpu))
            continue;
        rp->val[k] = sg_host_get_property_value(h0, p->id);
        if (rp->val[k] == NULL)
            return errbuf_set(err, "%s: missing required property '%s'%s", path, p->id,
                              rp->gpu ? " (family gpu)" : "");
        if (chip_prop_parse(&rp->spec, p, rp->val[k], 0) != 0)
            return errbuf_set(err, "%s: property '%s' %s, got '%s'", path, p->id, chip_prop_rule(p), rp->val[k]);
    }
    return 0;
}

/* The chips the properties describe (GPUs per node x nodes, or the torus with its wrap flags checked), which
 * must be the platform's host count. */
static int read_nchips(const read_props *rp, const char *path, int *nchips, errbuf *err)
{
    const chip_spec *c = &rp->spec;
    int n;
    if (rp->gpu) {
        long gpus = (long)c->gpus_per_node * (long)c->nodes;
        if (gpus > INT_MAX)
            return errbuf_set(err, "%s: properties 'gpus_per_node' x 'nodes' are %s x %s, too many GPUs", path,
                              val_of(rp, "gpus_per_node"), val_of(rp, "nodes"));
        n = (int)gpus;
    } else {
        const char *wrap = val_of(rp, "wrap");
        int nwrap = 1;
        for (const char *q = wrap; *q != '\0'; q++)
            nwrap += *q == ',';
        if (nwrap != c->ndims)
            return errbuf_set(err, "%s: property 'wrap' must have one flag per torus dimension (%d), got '%s'", path,
                              c->ndims, wrap);
        for (int d = 0; d < c->ndims; d++)
            if (c->wrap[d] && c->dims[d] == 1)
                return errbuf_set(err, "%s: property 'wrap' wraps a dimension of size 1, got '%s'", path, wrap);
        n = c->dims[0] * c->dims[1] * c->dims[2];
    }
    size_t nhosts = sg_host_count();
    if (nhosts != (size_t)n) {
        if (rp->gpu)
            return errbuf_set(err, "%s: properties 'gpus_per_node' x 'nodes' are %s x %s (%d GPUs), but the "
                              "platform has %zu hosts", path, val_of(rp, "gpus_per_node"), val_of(rp, "nodes"), n,
                              nhosts);
        return errbuf_set(err, "%s: property 'torus' is '%s' (%d chips), but the platform has %zu hosts", path,
                          val_of(rp, "torus"), n, nhosts);
    }
    *nchips = n;
    return 0;
}

/* A rail fat tree's route from chip0 to chip<to> must be 'want' links (3: NIC up, the group's leaf, NIC down; 6:
 * NIC up, leaf, spine up, spine down, leaf, NIC down), the NICs of nic_Bps / nic_lat_s and the spine links of
 * bw_up (up) and bw_down (down, the second group's: the last group may have fewer nodes) / spine_lat_s. */
static int check_rail_route(const read_props *rp, const char *path, int to, unsigned long want, double bw_up,
                            double bw_down, errbuf *err)
{
    const chip_spec *c = &rp->spec;
    char b[32];
    snprintf(b, sizeof b, "chip%d", to);
    xbt_dynar_t links = xbt_dynar_new(sizeof(sg_link_t), NULL);
    sg_host_get_route(sg_host_by_name("chip0"), sg_host_by_name(b), links);
    unsigned long nlinks = xbt_dynar_length(links);
    int rc = 0;
    if (nlinks != want)
        rc = errbuf_set(err, "%s: the route from chip0 to %s (%s) has %lu links, not %lu", path, b,
                        want == 3 ? "same leaf group: NIC up, leaf, NIC down"
                                  : "next leaf group: NIC up, leaf, spine up, spine down, leaf, NIC down",
                        nlinks, want);
    for (unsigned long i = 0; rc == 0 && i < nlinks; i++) {
        int nic = i == 0 || i == nlinks - 1, spine = want == 6 && (i == 2 || i == 3);
        if (!nic && !spine)
            continue;                       /* a leaf: FATPIPE, never a bottleneck */
        sg_link_t l = xbt_dynar_get_as(links, i, sg_link_t);
        double bw = spine ? (i == 2 ? bw_up : bw_down) : c->nic_Bps, lat = spine ? c->spine_lat_s : c->nic_lat_s;
        if (differs(sg_link_get_bandwidth(l), bw))
            rc = errbuf_set(err, "%s: link '%s' from chip0 to %s has %g B/s, but the properties say %g (%s)", path,
                            sg_link_get_name(l), b, sg_link_get_bandwidth(l), bw,
                            spine ? "nodes_per_leaf x rails x nic_Bps / oversub" : "nic_Bps");
        else if (differs(sg_link_get_latency(l), lat))
            rc = errbuf_set(err, "%s: link '%s' from chip0 to %s has latency %g s, but property '%s' is '%s'", path,
                            sg_link_get_name(l), b, sg_link_get_latency(l), spine ? "spine_lat_s" : "nic_lat_s",
                            val_of(rp, spine ? "spine_lat_s" : "nic_lat_s"));
    }
    xbt_dynar_free(&links);
    return rc;
}

/* A rail fat tree: its shape properties agree, routes within a node are the flat form's, the route to the next
 * node of chip0's leaf group (when there is one) and to the first GPU of the second group (when there is one)
 * check_rail_route's. */
static int check_rails(const read_props *rp, const char *path, errbuf *err)
{
    const chip_spec *c = &rp->spec;
    int gpn = c->gpus_per_node;
    if (c->rails != gpn)
        return errbuf_set(err, "%s: property 'rails' is '%s', but a rail fat tree has one rail per GPU of a node "
                          "(property 'gpus_per_node' is '%s')", path, val_of(rp, "rails"), val_of(rp, "gpus_per_node"));
    if (c->nodes_per_leaf < 1 || !(c->oversub >= 1))
        return errbuf_set(err, "%s: property 'rails' is '%s', but properties 'nodes_per_leaf' (%s) and 'oversub' (%s) "
                          "are not both there", path, val_of(rp, "rails"), val_of(rp, "nodes_per_leaf"),
                          val_of(rp, "oversub"));
    if (gpn > 1 && check_route(path, 0, 1, 2, "(same node: NVLink up, NVLink down)", "nvlink_Bps", "nvlink_lat_s",
                               rp, err) != 0)
        return -1;
    double up = (double)c->nodes_per_leaf * c->rails * c->nic_Bps / c->oversub;
    int second = c->nodes - c->nodes_per_leaf < c->nodes_per_leaf ? c->nodes - c->nodes_per_leaf : c->nodes_per_leaf;
    double down = (double)second * c->rails * c->nic_Bps / c->oversub;
    if (c->nodes > 1 && c->nodes_per_leaf > 1 && check_rail_route(rp, path, gpn, 3, up, up, err) != 0)
        return -1;
    if (c->nodes > c->nodes_per_leaf
        && check_rail_route(rp, path, c->nodes_per_leaf * gpn, 6, up, down, err) != 0)
        return -1;
    return 0;
}

/* The links the properties describe.  GPU: in a node, chip0's NVLink up and chip1's NVLink down; across
 * nodes, chip0's NIC up and the first GPU of node 1's NIC down.  TPU: the first torus link. */
static int read_check_links(const read_props *rp, sg_host_t h0, const char *path, errbuf *err)
{
    if (!rp->gpu)
        return check_torus_link(path, h0, rp, err);
    int gpn = rp->spec.gpus_per_node;
    if (rp->spec.rails > 0)
        return check_rails(rp, path, err);
    if (gpn > 1 && check_route(path, 0, 1, 2, "(same node: NVLink up, NVLink down)", "nvlink_Bps", "nvlink_lat_s",
                               rp, err) != 0)
        return -1;
    if (rp->spec.nodes > 1 && check_route(path, 0, gpn, 2, "(next node: NIC up, NIC down)", "nic_Bps", "nic_lat_s",
                                          rp, err) != 0)
        return -1;
    return 0;
}

int platform_read(cost_chip *chip, platform_torus *torus, const char *path, errbuf *err)
{
    sg_host_t h0 = sg_host_by_name("chip0");
    if (h0 == NULL)
        return errbuf_set(err, "%s: no host 'chip0' (hosts must be named chip0, chip1, ... by rank)", path);
    read_props rp;
    memset(&rp, 0, sizeof rp);
    rp.spec.dims[0] = rp.spec.dims[1] = rp.spec.dims[2] = 1;
    int nchips = 0;
    if (read_chip0(&rp, h0, path, err) != 0 || read_nchips(&rp, path, &nchips, err) != 0)
        return -1;

    int cores = sg_host_core_count(h0);
    double speed = sg_host_get_speed(h0);
    if (rp.gpu && cores != 1)
        return errbuf_set(err, "%s: host 'chip0' has %d cores, but a GPU is one core (property 'family' is 'gpu')",
                          path, cores);
    if (differs(speed, rp.spec.bf16_flops))
        return errbuf_set(err, "%s: host 'chip0' speed is %g flop/s, but property 'bf16_flops_per_core' is '%s'",
                          path, speed, val_of(&rp, "bf16_flops_per_core"));
    if (check_hosts_agree(path, nchips, cores, speed, &rp, err) != 0)
        return -1;
    if (read_check_links(&rp, h0, path, err) != 0)
        return -1;

    rp.spec.cores_per_chip = cores;
    rp.spec.precision = COST_PRECISION_SELECTIVE;
    props_torus(torus, &rp.spec, nchips);
    *chip = rp.spec;                      /* the cost model's chip is the spec the properties describe */
    return 0;
}
