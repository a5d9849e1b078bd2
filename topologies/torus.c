/* torus: torus coordinates and dimension-ordered routes, and the platform XML generator.
 * Pure C: the generated XML is read back by SimGrid in sim/platform.c, never here. */
#include "topologies/torus.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "topologies/zonexml.h"

static const char DIM_NAMES[TORUS_MAX_DIMS] = { 'x', 'y', 'z' };

/* Assumption: a copy between the cores of one chip moves at the chip's HBM bandwidth (no source gives an
 * on-chip core-to-core rate; the engine does not charge such traffic anyway). */
double torus_chip_loopback_Bps(const chip_spec *c)
{
    return c->hbm_Bps * c->cores_per_chip;
}

int torus_parse(torus_shape *t, const char *s, char sep)
{
    if (s == NULL)
        return -1;
    torus_shape r = { .ndims = 0, .dims = { 1, 1, 1 }, .wrap = { 0, 0, 0 } };
    const char *p = s;
    long chips = 1;
    for (;;) {
        if (r.ndims == TORUS_MAX_DIMS || *p < '0' || *p > '9')   /* digits only: no sign, no space */
            return -1;
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno == ERANGE || v < 1 || v > TORUS_DIM_MAX)
            return -1;
        r.dims[r.ndims++] = (int)v;
        chips *= v;
        if (chips > TORUS_CHIPS_MAX)
            return -1;
        p = end;
        if (*p == '\0')
            break;
        if (*p != sep)
            return -1;
        p++;
    }
    if (r.ndims == 1)      /* a ring (or line) of N chips is the torus N x 1 */
        r.ndims = 2;
    *t = r;
    return 0;
}

void torus_set_wrap(torus_shape *t, torus_wrap_mode mode, const chip_spec *c)
{
    for (int d = 0; d < TORUS_MAX_DIMS; d++) {
        int w = 0;
        if (d < t->ndims && t->dims[d] > 1) {
            if (mode == TORUS_WRAP_ALL)
                w = 1;
            else if (mode == TORUS_WRAP_AUTO)
                w = (c != NULL && c->wrap_unit > 0 && t->dims[d] % c->wrap_unit == 0);
        }
        t->wrap[d] = w;
    }
}

int torus_nchips(const torus_shape *t)
{
    int n = 1;
    for (int d = 0; d < t->ndims; d++)
        n *= t->dims[d];
    return n;
}

int torus_fully_wrapped(const torus_shape *t)
{
    for (int d = 0; d < t->ndims; d++)
        if (!t->wrap[d])
            return 0;
    return 1;
}

void torus_coords(int *coord, const torus_shape *t, int rank)
{
    for (int d = 0; d < t->ndims; d++) {
        coord[d] = rank % t->dims[d];
        rank /= t->dims[d];
    }
}

int torus_rank(const torus_shape *t, const int *coord)
{
    int r = 0;
    for (int d = t->ndims - 1; d >= 0; d--)
        r = r * t->dims[d] + coord[d];
    return r;
}

int torus_step(const torus_shape *t, int dim, int from, int to)
{
    if (from == to)
        return 0;
    if (!t->wrap[dim])
        return to > from ? 1 : -1;
    int n = t->dims[dim], h = n / 2;
    /* SimGrid 3.32 TorusZone::get_local_route, verbatim: + when the target is ahead within half a ring, or
     * when going + past the wraparound reaches it within half a ring.  For odd n that is the shorter way;
     * for even n at distance n/2 it picks + except from n/2 to 0 (tests/check_torus.c compares every pair). */
    if ((to > from && to <= from + h) || (from > h && (from + h) % n >= to))
        return 1;
    return -1;
}

int torus_hops(const torus_shape *t, int src, int dst)
{
    int a[TORUS_MAX_DIMS], b[TORUS_MAX_DIMS];
    torus_coords(a, t, src);
    torus_coords(b, t, dst);
    int hops = 0;
    for (int d = 0; d < t->ndims; d++) {
        int n = t->dims[d];
        int fwd = ((b[d] - a[d]) % n + n) % n;     /* steps going + (around the ring when wrapped) */
        int dir = torus_step(t, d, a[d], b[d]);
        if (dir > 0)
            hops += t->wrap[d] ? fwd : b[d] - a[d];
        else if (dir < 0)
            hops += t->wrap[d] ? n - fwd : a[d] - b[d];
    }
    return hops;
}

int torus_max_hops(const torus_shape *t)
{
    int h = 0;
    for (int d = 0; d < t->ndims; d++)
        h += t->wrap[d] ? t->dims[d] / 2 : t->dims[d] - 1;
    return h;
}

int torus_route(torus_link *links, const torus_shape *t, int src, int dst)
{
    int cur[TORUS_MAX_DIMS], to[TORUS_MAX_DIMS];
    torus_coords(cur, t, src);
    torus_coords(to, t, dst);
    int nh = 0;
    for (int d = 0; d < t->ndims; d++) {
        while (cur[d] != to[d]) {     /* the step is re-decided at every hop, as SimGrid does */
            int dir = torus_step(t, d, cur[d], to[d]);
            links[nh++] = (torus_link){ .chip = torus_rank(t, cur), .dim = d, .dir = dir };
            cur[d] = (cur[d] + dir + t->dims[d]) % t->dims[d];
        }
    }
    return nh;
}

int torus_link_count(const torus_shape *t)
{
    int n = torus_nchips(t), count = 0;
    for (int d = 0; d < t->ndims; d++) {
        int rings = n / t->dims[d];
        int edges = t->wrap[d] ? t->dims[d] : t->dims[d] - 1;
        count += 2 * rings * edges;
    }
    return count;
}

int torus_link_exists(const torus_shape *t, torus_link l)
{
    if (l.dim < 0 || l.dim >= t->ndims || (l.dir != 1 && l.dir != -1) || l.chip < 0 || l.chip >= torus_nchips(t))
        return 0;
    if (t->dims[l.dim] == 1)
        return 0;
    int c[TORUS_MAX_DIMS];
    torus_coords(c, t, l.chip);
    int next = c[l.dim] + l.dir;
    return t->wrap[l.dim] || (next >= 0 && next < t->dims[l.dim]);
}

void torus_link_name(char *buf, size_t n, torus_link l)
{
    snprintf(buf, n, "chip%d_%c%c", l.chip, DIM_NAMES[l.dim], l.dir > 0 ? '+' : '-');
}

void torus_format_size(char *buf, size_t n, const torus_shape *t)
{
    if (t->ndims == 3)
        snprintf(buf, n, "%dx%dx%d", t->dims[0], t->dims[1], t->dims[2]);
    else
        snprintf(buf, n, "%dx%d", t->dims[0], t->dims[1]);
}

int torus_platform_check(const torus_platform *p, errbuf *err)
{
    const torus_shape *t = &p->shape;
    if (p->chip == NULL)
        return errbuf_set(err, "torus platform: no chip preset");
    if (p->chip->family != CHIP_FAMILY_TPU)
        return errbuf_set(err, "torus platform: chip %s is not a TPU", p->chip->chip);
    if (t->ndims < 2 || t->ndims > TORUS_MAX_DIMS)
        return errbuf_set(err, "torus platform: a torus has 2 or 3 dimensions, got %d", t->ndims);
    if (!(p->link_Bps > 0) || !isfinite(p->link_Bps))
        return errbuf_set(err, "torus platform: link bandwidth must be > 0 B/s, got %g", p->link_Bps);
    if (!(p->link_lat_s >= 0) || !isfinite(p->link_lat_s))
        return errbuf_set(err, "torus platform: link latency must be >= 0 s, got %g", p->link_lat_s);
    int n = torus_nchips(t);
    if (!torus_fully_wrapped(t) && n > TORUS_EXPLICIT_CHIPS_MAX) {
        char dims[48];
        torus_format_size(dims, sizeof dims, t);
        return errbuf_set(err, "torus %s is not wrapped in every dimension, so it needs explicit routes, "
                          "which are supported up to %d chips, got %d", dims, TORUS_EXPLICIT_CHIPS_MAX, n);
    }
    return 0;
}

/* The host properties, one per line, with 'indent' spaces before each: the chip's, with this platform's shape
 * and link numbers. */
static void write_props(FILE *fp, const torus_platform *p, int indent)
{
    chip_spec c = *p->chip;
    c.ndims = p->shape.ndims;
    for (int d = 0; d < TORUS_MAX_DIMS; d++) {
        c.dims[d] = p->shape.dims[d];
        c.wrap[d] = p->shape.wrap[d];
    }
    c.link_Bps = p->link_Bps;
    c.link_lat_s = p->link_lat_s;
    chip_write_props(fp, &c, indent);
}

static void write_cluster(FILE *fp, const torus_platform *p, const char *speed, const char *bw,
                          const char *lat, const char *lbw, const char *dims)
{
    fprintf(fp, "  <cluster id=\"torus\" prefix=\"chip\" radical=\"0-%d\" suffix=\"\" speed=\"%sf\" core=\"%d\"\n"
                "           bw=\"%sBps\" lat=\"%ss\" sharing_policy=\"SPLITDUPLEX\"\n"
                "           topology=\"TORUS\" topo_parameters=\"%s\"\n"
                "           loopback_bw=\"%sBps\" loopback_lat=\"0s\">\n",
            torus_nchips(&p->shape) - 1, speed, p->chip->cores_per_chip, bw, lat, dims, lbw);
    write_props(fp, p, 4);
    fprintf(fp, "  </cluster>\n");
}

/* The host properties of torus platform 'arg' inside a zone's <host> (6 spaces in). */
static void write_host_props(FILE *fp, const void *arg)
{
    write_props(fp, arg, 6);
}

/* A torus and room for the hops of its longest route. */
typedef struct {
    const torus_shape *t;
    torus_link *hops;
} hops_arg;

/* The link ids of the dimension-ordered route from chip src to chip dst (torus_route). */
static int route_names(char (*names)[ZONEXML_NAME_MAX], const void *arg, int src, int dst)
{
    const hops_arg *c = arg;
    int nh = torus_route(c->hops, c->t, src, dst);
    for (int h = 0; h < nh; h++)
        torus_link_name(names[h], ZONEXML_NAME_MAX, c->hops[h]);
    return nh;
}

/* A torus that does not wrap in every dimension: a Full zone with a link per direction per edge and an
 * explicit route per ordered chip pair.  -1 when out of memory. */
static int write_explicit(FILE *fp, const torus_platform *p, const char *speed, const char *bw,
                           const char *lat, const char *lbw)
{
    const torus_shape *t = &p->shape;
    int n = torus_nchips(t);
    char name[ZONEXML_NAME_MAX];
    fprintf(fp, "  <zone id=\"torus\" routing=\"Full\">\n");
    zonexml_write_hosts(fp, n, speed, p->chip->cores_per_chip, write_host_props, p);
    /* One link per direction per edge, so the two directions never share bandwidth (as SPLITDUPLEX). */
    for (int r = 0; r < n; r++) {
        for (int d = 0; d < t->ndims; d++)
            for (int dir = 1; dir >= -1; dir -= 2) {
                torus_link l = { .chip = r, .dim = d, .dir = dir };
                if (!torus_link_exists(t, l))
                    continue;
                torus_link_name(name, sizeof name, l);
                zonexml_write_link(fp, name, bw, lat);
            }
        zonexml_write_loopback(fp, r, lbw);     /* the cluster form's loopback is a FATPIPE too */
    }
    int max_hops = torus_max_hops(t);
    hops_arg c = { t, malloc(sizeof *c.hops * (size_t)(max_hops + 1)) };
    if (c.hops == NULL || zonexml_write_routes(fp, n, max_hops + 1, route_names, &c) != 0) {
        free(c.hops);
        return -1;
    }
    free(c.hops);
    fprintf(fp, "  </zone>\n");
    return 0;
}

int torus_write_xml(FILE *fp, const torus_platform *p, errbuf *err)
{
    if (torus_platform_check(p, err) != 0)
        return -1;
    const torus_shape *t = &p->shape;
    char speed[40], bw[40], lat[40], lbw[40], dims[48], wrap[48], size[48];
    chip_format_number(speed, sizeof speed, p->chip->bf16_flops);
    chip_format_number(bw, sizeof bw, p->link_Bps);
    chip_format_number(lat, sizeof lat, p->link_lat_s);
    chip_format_number(lbw, sizeof lbw, torus_chip_loopback_Bps(p->chip));
    chip_format_list(dims, sizeof dims, t->dims, t->ndims);
    chip_format_list(wrap, sizeof wrap, t->wrap, t->ndims);
    torus_format_size(size, sizeof size, t);

    fprintf(fp, "<?xml version='1.0'?>\n"
                "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
                "<!-- Generated by 'switchsim topology': chip %s, torus %s, wrap %s, %d chips of %d cores,\n"
                "     links %s B/s per direction, %s s per hop.  Sources of every number: topologies/README.md. -->\n"
                "<platform version=\"4.1\">\n",
            p->chip->chip, size, wrap, torus_nchips(t), p->chip->cores_per_chip, bw, lat);
    if (torus_fully_wrapped(t))
        write_cluster(fp, p, speed, bw, lat, lbw, dims);
    else if (write_explicit(fp, p, speed, bw, lat, lbw) != 0)
        return errbuf_set(err, "torus platform: out of memory");
    fprintf(fp, "</platform>\n");
    if (ferror(fp))
        return errbuf_set(err, "torus platform: write failed");
    return 0;
}
