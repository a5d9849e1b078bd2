/* gpu: HGX node routes (NVSwitch inside a node, one NIC per GPU between nodes, flat or on a rail-optimised fat
 * tree) and the platform XML generator; the H100 / H200 SXM presets are in topologies/chip.c.  Pure C: the
 * generated XML is read back by SimGrid in sim/platform.c, never here. */
#include "topologies/gpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "topologies/zonexml.h"

static const char *const LINK_SUFFIX[] = {
    [GPU_NVLINK_UP] = "nvlink_up", [GPU_NVLINK_DOWN] = "nvlink_down",
    [GPU_NIC_UP] = "nic_up", [GPU_NIC_DOWN] = "nic_down", [GPU_LEAF] = "fabric", [GPU_SPINE_UP] = "spine_up",
    [GPU_SPINE_DOWN] = "spine_down",
};

void gpu_platform_init(gpu_platform *p, const chip_spec *chip, int gpus_per_node, int nodes)
{
    p->chip = chip;
    p->gpus_per_node = gpus_per_node;
    p->nodes = nodes;
    p->nvlink_Bps = chip != NULL ? chip->nvlink_Bps : 0.0;
    p->nvlink_lat_s = chip != NULL ? chip->nvlink_lat_s : 0.0;
    p->nic_Bps = chip != NULL ? chip->nic_Bps : 0.0;
    p->nic_lat_s = chip != NULL ? chip->nic_lat_s : 0.0;
    p->rails = 0;
    p->nodes_per_leaf = 0;
    p->oversub = 0.0;
    p->spine_lat_s = 0.0;
}

void gpu_platform_set_rails(gpu_platform *p)
{
    p->rails = p->gpus_per_node;
    p->nodes_per_leaf = p->nodes < GPU_LEAF_NODES_DEFAULT ? p->nodes : GPU_LEAF_NODES_DEFAULT;
    p->oversub = 1.0;
    p->spine_lat_s = GPU_SPINE_LAT_S;
}

int gpu_nchips(const gpu_platform *p)
{
    return p->gpus_per_node * p->nodes;
}

int gpu_leaf_groups(const gpu_platform *p)
{
    return (p->nodes + p->nodes_per_leaf - 1) / p->nodes_per_leaf;
}

double gpu_leaf_uplink_Bps(const gpu_platform *p, int g)
{
    int first = g * p->nodes_per_leaf, last = first + p->nodes_per_leaf;
    int nodes = (last < p->nodes ? last : p->nodes) - first;
    return nodes * p->rails * p->nic_Bps / p->oversub;
}

/* The rail form's own checks (after the flat form's numbers). */
static int check_rails(const gpu_platform *p, errbuf *err)
{
    if (p->rails != p->gpus_per_node)
        return errbuf_set(err, "gpu platform: rails must equal GPUs per node (GPU i of every node on rail i), got "
                          "%d rails for %d GPUs per node", p->rails, p->gpus_per_node);
    if (p->nodes_per_leaf < 1 || p->nodes_per_leaf > GPU_LEAF_NODES_MAX)
        return errbuf_set(err, "gpu platform: nodes per leaf must be in [1, %d], got %d", GPU_LEAF_NODES_MAX,
                          p->nodes_per_leaf);
    if (gpu_leaf_groups(p) > GPU_LEAF_GROUPS_MAX)
        return errbuf_set(err, "gpu platform: %d nodes in leaf groups of %d is %d groups, at most %d (the spine "
                          "routes every pair of groups)", p->nodes, p->nodes_per_leaf, gpu_leaf_groups(p),
                          GPU_LEAF_GROUPS_MAX);
    if (!(p->oversub >= 1 && p->oversub <= GPU_OVERSUB_MAX))
        return errbuf_set(err, "gpu platform: oversubscription must be in [1, %g], got %g", GPU_OVERSUB_MAX,
                          p->oversub);
    if (!(p->spine_lat_s >= 0) || !isfinite(p->spine_lat_s))
        return errbuf_set(err, "gpu platform: spine latency must be >= 0 s, got %g", p->spine_lat_s);
    return 0;
}

int gpu_platform_check(const gpu_platform *p, errbuf *err)
{
    if (p->chip == NULL)
        return errbuf_set(err, "gpu platform: no chip preset");
    if (p->chip->family != CHIP_FAMILY_GPU)
        return errbuf_set(err, "gpu platform: chip %s is not a GPU", p->chip->chip);
    if (p->gpus_per_node < 1 || p->gpus_per_node > GPU_NODE_GPUS_MAX)
        return errbuf_set(err, "gpu platform: GPUs per node must be in [1, %d], got %d", GPU_NODE_GPUS_MAX,
                          p->gpus_per_node);
    int max = p->rails > 0 ? GPU_RAIL_GPUS_MAX : GPU_EXPLICIT_GPUS_MAX;
    if (p->nodes < 1 || p->nodes > max)
        return errbuf_set(err, "gpu platform: nodes must be in [1, %d], got %d", max, p->nodes);
    if (gpu_nchips(p) > max && p->rails > 0)
        return errbuf_set(err, "%d nodes x %d GPUs = %d GPUs, but a rail-optimised GPU platform may have at most %d",
                          p->nodes, p->gpus_per_node, gpu_nchips(p), max);
    if (gpu_nchips(p) > max)
        return errbuf_set(err, "%d nodes x %d GPUs = %d GPUs, but a GPU platform (explicit routes) may have at "
                          "most %d (--rails writes a fat tree of up to %d)", p->nodes, p->gpus_per_node,
                          gpu_nchips(p), max, GPU_RAIL_GPUS_MAX);
    if (!(p->nvlink_Bps > 0) || !isfinite(p->nvlink_Bps))
        return errbuf_set(err, "gpu platform: NVLink bandwidth must be > 0 B/s, got %g", p->nvlink_Bps);
    if (!(p->nic_Bps > 0) || !isfinite(p->nic_Bps))
        return errbuf_set(err, "gpu platform: NIC bandwidth must be > 0 B/s, got %g", p->nic_Bps);
    if (!(p->nvlink_lat_s >= 0) || !isfinite(p->nvlink_lat_s))
        return errbuf_set(err, "gpu platform: NVLink latency must be >= 0 s, got %g", p->nvlink_lat_s);
    if (!(p->nic_lat_s >= 0) || !isfinite(p->nic_lat_s))
        return errbuf_set(err, "gpu platform: NIC latency must be >= 0 s, got %g", p->nic_lat_s);
    return p->rails > 0 ? check_rails(p, err) : 0;
}

int gpu_route(gpu_link *links, const gpu_platform *p, int src, int dst)
{
    if (src == dst)
        return 0;
    int gpn = p->gpus_per_node;
    int same_node = src / gpn == dst / gpn;
    links[0] = (gpu_link){ .gpu = src, .kind = same_node ? GPU_NVLINK_UP : GPU_NIC_UP };
    if (same_node || p->rails == 0) {
        links[1] = (gpu_link){ .gpu = dst, .kind = same_node ? GPU_NVLINK_DOWN : GPU_NIC_DOWN };
        return 2;
    }
    int ks = src / gpn, kd = dst / gpn, gs = ks / p->nodes_per_leaf, gd = kd / p->nodes_per_leaf, n = 1;
    links[n++] = (gpu_link){ .gpu = ks, .kind = GPU_LEAF };
    if (gs != gd) {
        links[n++] = (gpu_link){ .gpu = gs, .kind = GPU_SPINE_UP };
        links[n++] = (gpu_link){ .gpu = gd, .kind = GPU_SPINE_DOWN };
        links[n++] = (gpu_link){ .gpu = kd, .kind = GPU_LEAF };
    }
    links[n++] = (gpu_link){ .gpu = dst, .kind = GPU_NIC_DOWN };
    return n;
}

void gpu_link_name(char *buf, size_t n, gpu_link l)
{
    int spine = l.kind == GPU_SPINE_UP || l.kind == GPU_SPINE_DOWN;
    snprintf(buf, n, "%s%d_%s", l.kind == GPU_LEAF ? "node" : spine ? "leaf" : "chip", l.gpu, LINK_SUFFIX[l.kind]);
}

/* The host properties of GPU platform 'arg', one per line, 6 spaces in: the chip's, with this platform's shape
 * and link numbers. */
static void write_props(FILE *fp, const void *arg)
{
    const gpu_platform *p = arg;
    chip_spec c = *p->chip;
    c.gpus_per_node = p->gpus_per_node;
    c.nodes = p->nodes;
    c.nvlink_Bps = p->nvlink_Bps;
    c.nvlink_lat_s = p->nvlink_lat_s;
    c.nic_Bps = p->nic_Bps;
    c.nic_lat_s = p->nic_lat_s;
    c.rails = p->rails;
    c.nodes_per_leaf = p->rails > 0 ? p->nodes_per_leaf : 0;
    c.oversub = p->rails > 0 ? p->oversub : 0.0;
    c.spine_lat_s = p->rails > 0 ? p->spine_lat_s : 0.0;
    chip_write_props(fp, &c, 6);
}

/* The link ids of the route from GPU src to GPU dst of platform 'arg' (gpu_route). */
static int route_names(char (*names)[ZONEXML_NAME_MAX], const void *arg, int src, int dst)
{
    gpu_link route[GPU_ROUTE_MAX];
    int nl = gpu_route(route, arg, src, dst);
    for (int i = 0; i < nl; i++)
        gpu_link_name(names[i], ZONEXML_NAME_MAX, route[i]);
    return nl;
}

/* The numbers of the links and hosts, formatted as the platform holds them. */
typedef struct {
    char speed[40], nvbw[40], nvlat[40], nicbw[40], niclat[40], lbw[40], spinelat[40];
} gpu_numbers;

static void format_numbers(gpu_numbers *f, const gpu_platform *p)
{
    chip_format_number(f->speed, sizeof f->speed, p->chip->bf16_flops);
    chip_format_number(f->nvbw, sizeof f->nvbw, p->nvlink_Bps);
    chip_format_number(f->nvlat, sizeof f->nvlat, p->nvlink_lat_s);
    chip_format_number(f->nicbw, sizeof f->nicbw, p->nic_Bps);
    chip_format_number(f->niclat, sizeof f->niclat, p->nic_lat_s);
    chip_format_number(f->spinelat, sizeof f->spinelat, p->spine_lat_s);
    /* Assumption, as on the tori: a copy within one GPU moves at its HBM bandwidth (the engine never charges
     * such traffic: there is one core per GPU). */
    chip_format_number(f->lbw, sizeof f->lbw, p->chip->hbm_Bps);
}

/* Rail form: node k's zone: its GPUs' hosts, the router "node<k>_nics" (the far end of every NIC: the rail
 * leaves), and the routes GPU to GPU (NVLink up, NVLink down), GPU to the router (NIC up) and back (NIC down).
 * Its links are the spine zone's (write_rails). */
static void write_node_zone(FILE *fp, const gpu_platform *p, const gpu_numbers *f, int k)
{
    int gpn = p->gpus_per_node, r0 = k * gpn;
    char name[48], other[48];
    fprintf(fp, "      <zone id=\"node%d\" routing=\"Full\">\n", k);
    for (int r = r0; r < r0 + gpn; r++) {
        fprintf(fp, "        <host id=\"chip%d\" speed=\"%sf\" core=\"1\">\n", r, f->speed);
        write_props(fp, p);
        fprintf(fp, "        </host>\n");
    }
    fprintf(fp, "        <router id=\"node%d_nics\"/>\n", k);
    for (int s = r0; s < r0 + gpn; s++) {
        fprintf(fp, "        <route src=\"chip%d\" dst=\"chip%d\"><link_ctn id=\"chip%d_loopback\"/></route>\n", s, s,
                s);
        for (int d = r0; d < r0 + gpn; d++) {
            if (d == s)
                continue;
            gpu_link_name(name, sizeof name, (gpu_link){ .gpu = s, .kind = GPU_NVLINK_UP });
            gpu_link_name(other, sizeof other, (gpu_link){ .gpu = d, .kind = GPU_NVLINK_DOWN });
            fprintf(fp, "        <route src=\"chip%d\" dst=\"chip%d\" symmetrical=\"NO\"><link_ctn id=\"%s\"/>"
                        "<link_ctn id=\"%s\"/></route>\n", s, d, name, other);
        }
        gpu_link_name(name, sizeof name, (gpu_link){ .gpu = s, .kind = GPU_NIC_UP });
        gpu_link_name(other, sizeof other, (gpu_link){ .gpu = s, .kind = GPU_NIC_DOWN });
        fprintf(fp, "        <route src=\"chip%d\" dst=\"node%d_nics\" symmetrical=\"NO\"><link_ctn id=\"%s\"/></route>\n",
                s, k, name);
        fprintf(fp, "        <route src=\"node%d_nics\" dst=\"chip%d\" symmetrical=\"NO\"><link_ctn id=\"%s\"/></route>\n",
                k, s, other);
    }
    fprintf(fp, "      </zone>\n");
}

/* Rail form: the spine zone of leaf-group zones of node zones (gpu_write_xml).  Every link is declared in the
 * spine's first child, a zone "links" of links alone: SimGrid 3.32 finds a route's link by name in a zone's
 * own links, then in each child zone in turn, so links spread over 512 node zones made loading quadratic (4096
 * GPUs: 2.2 s of CPU, against 0.44 s for 2048); and a zone that holds zones must begin with one. */
static void write_rails(FILE *fp, const gpu_platform *p, const gpu_numbers *f)
{
    int groups = gpu_leaf_groups(p), npl = p->nodes_per_leaf, n = gpu_nchips(p);
    char name[48], other[48], bw[40];
    fprintf(fp, "  <zone id=\"spine\" routing=\"Full\">\n    <zone id=\"links\" routing=\"Full\">\n");
    for (int r = 0; r < n; r++) {
        for (int kind = GPU_NVLINK_UP; kind <= GPU_NIC_DOWN; kind++) {
            int nvlink = kind == GPU_NVLINK_UP || kind == GPU_NVLINK_DOWN;
            gpu_link_name(name, sizeof name, (gpu_link){ .gpu = r, .kind = (gpu_link_kind)kind });
            zonexml_write_link(fp, name, nvlink ? f->nvbw : f->nicbw, nvlink ? f->nvlat : f->niclat);
        }
        zonexml_write_loopback(fp, r, f->lbw);
    }
    for (int k = 0; k < p->nodes; k++) {
        /* The group's rail leaves as one non-blocking switch (PXN keeps cross-rail traffic off the spine): a
         * FATPIPE link (every flow its own bandwidth, never below a NIC's) of no latency, since SimGrid refuses
         * a route without a link; one per node (its traffic into the leaves, and out of them from the spine),
         * not one per group: SimGrid's solver revisits every flow of a link each time one of them starts or
         * ends, and one link for all of a group's flows made the rail platform 9x slower than the flat one. */
        gpu_link_name(name, sizeof name, (gpu_link){ .gpu = k, .kind = GPU_LEAF });
        chip_format_number(bw, sizeof bw, gpu_leaf_uplink_Bps(p, k / npl) * p->oversub);
        fprintf(fp, "    <link id=\"%s\" bandwidth=\"%sBps\" latency=\"0s\" sharing_policy=\"FATPIPE\"/>\n", name, bw);
    }
    for (int g = 0; g < groups; g++) {
        chip_format_number(bw, sizeof bw, gpu_leaf_uplink_Bps(p, g));
        for (int kind = GPU_SPINE_UP; kind <= GPU_SPINE_DOWN && groups > 1; kind++) {
            gpu_link_name(name, sizeof name, (gpu_link){ .gpu = g, .kind = (gpu_link_kind)kind });
            zonexml_write_link(fp, name, bw, f->spinelat);
        }
    }
    fprintf(fp, "    </zone>\n");
    for (int g = 0; g < groups; g++) {
        int k0 = g * npl, k1 = k0 + npl < p->nodes ? k0 + npl : p->nodes;
        fprintf(fp, "    <zone id=\"group%d\" routing=\"Full\">\n", g);
        for (int k = k0; k < k1; k++)
            write_node_zone(fp, p, f, k);
        /* a zone of one router, the group's gateway to the spine */
        fprintf(fp, "      <zone id=\"leaf%d\" routing=\"Full\">\n        <router id=\"leaf%d_switch\"/>\n      </zone>\n",
                g, g);
        for (int a = k0; a < k1; a++) {
            gpu_link_name(name, sizeof name, (gpu_link){ .gpu = a, .kind = GPU_LEAF });
            for (int b = k0; b < k1; b++)
                if (b != a)
                    fprintf(fp, "      <zoneRoute src=\"node%d\" dst=\"node%d\" gw_src=\"node%d_nics\" "
                                "gw_dst=\"node%d_nics\" symmetrical=\"NO\"><link_ctn id=\"%s\"/></zoneRoute>\n",
                            a, b, a, b, name);
            if (groups > 1)
                fprintf(fp, "      <zoneRoute src=\"node%d\" dst=\"leaf%d\" gw_src=\"node%d_nics\" "
                            "gw_dst=\"leaf%d_switch\" symmetrical=\"YES\"><link_ctn id=\"%s\"/></zoneRoute>\n",
                        a, g, a, g, name);
        }
        fprintf(fp, "    </zone>\n");
    }
    for (int g = 0; g < groups && groups > 1; g++)
        for (int h = 0; h < groups; h++) {
            if (g == h)
                continue;
            gpu_link_name(name, sizeof name, (gpu_link){ .gpu = g, .kind = GPU_SPINE_UP });
            gpu_link_name(other, sizeof other, (gpu_link){ .gpu = h, .kind = GPU_SPINE_DOWN });
            fprintf(fp, "    <zoneRoute src=\"group%d\" dst=\"group%d\" gw_src=\"leaf%d_switch\" "
                        "gw_dst=\"leaf%d_switch\" symmetrical=\"NO\"><link_ctn id=\"%s\"/><link_ctn id=\"%s\"/>"
                        "</zoneRoute>\n", g, h, g, h, name, other);
        }
    fprintf(fp, "  </zone>\n");
}

int gpu_write_xml(FILE *fp, const gpu_platform *p, errbuf *err)
{
    if (gpu_platform_check(p, err) != 0)
        return -1;
    if (p->rails > 0) {
        gpu_numbers f;
        format_numbers(&f, p);
        char up[40];
        chip_format_number(up, sizeof up, gpu_leaf_uplink_Bps(p, 0));
        fprintf(fp, "<?xml version='1.0'?>\n"
                    "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
                    "<!-- Generated by 'switchsim topology': chip %s, %d node(s) x %d GPUs = %d GPUs on %d rails.\n"
                    "     In a node, an NVSwitch: NVLink %s B/s per GPU per direction, %s s per hop.\n"
                    "     A NIC per GPU into its rail's leaf: %s B/s per direction, %s s per link.\n"
                    "     Leaf groups of %d node(s) (%d group(s)), each group's rail leaves one switch; between groups a\n"
                    "     spine, oversubscribed %g:1: a full group's uplinks %s B/s per direction, %s s per link.\n"
                    "     Sources of every number: topologies/README.md. -->\n"
                    "<platform version=\"4.1\">\n",
                p->chip->chip, p->nodes, p->gpus_per_node, gpu_nchips(p), p->rails, f.nvbw, f.nvlat, f.nicbw,
                f.niclat, p->nodes_per_leaf, gpu_leaf_groups(p), p->oversub, up, f.spinelat);
        write_rails(fp, p, &f);
        fprintf(fp, "</platform>\n");
        if (ferror(fp))
            return errbuf_set(err, "gpu platform: write failed");
        return 0;
    }
    const chip_spec *c = p->chip;
    int n = gpu_nchips(p);
    char speed[40], nvbw[40], nvlat[40], nicbw[40], niclat[40], lbw[40], name[48];
    chip_format_number(speed, sizeof speed, c->bf16_flops);
    chip_format_number(nvbw, sizeof nvbw, p->nvlink_Bps);
    chip_format_number(nvlat, sizeof nvlat, p->nvlink_lat_s);
    chip_format_number(nicbw, sizeof nicbw, p->nic_Bps);
    chip_format_number(niclat, sizeof niclat, p->nic_lat_s);
    /* Assumption, as on the tori: a copy within one GPU moves at its HBM bandwidth (the engine never charges
     * such traffic: there is one core per GPU). */
    chip_format_number(lbw, sizeof lbw, c->hbm_Bps);

    fprintf(fp, "<?xml version='1.0'?>\n"
                "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
                "<!-- Generated by 'switchsim topology': chip %s, %d node(s) x %d GPUs = %d GPUs.\n"
                "     In a node, an NVSwitch: NVLink %s B/s per GPU per direction, %s s per hop.\n"
                "     Between nodes, a NIC per GPU into a non-blocking fat tree: %s B/s per direction, %s s per link.\n"
                "     Sources of every number: topologies/README.md. -->\n"
                "<platform version=\"4.1\">\n"
                "  <zone id=\"gpus\" routing=\"Full\">\n",
            c->chip, p->nodes, p->gpus_per_node, n, nvbw, nvlat, nicbw, niclat);
    zonexml_write_hosts(fp, n, speed, 1, write_props, p);
    /* One link per direction, so sending and receiving never share bandwidth (full-duplex NVLink and IB). */
    for (int r = 0; r < n; r++) {
        for (int k = GPU_NVLINK_UP; k <= GPU_NIC_DOWN; k++) {
            int nvlink = k == GPU_NVLINK_UP || k == GPU_NVLINK_DOWN;
            if ((nvlink && p->gpus_per_node == 1) || (!nvlink && p->nodes == 1))
                continue;                      /* no NVSwitch peer / no other node: the link would be unused */
            gpu_link_name(name, sizeof name, (gpu_link){ .gpu = r, .kind = (gpu_link_kind)k });
            zonexml_write_link(fp, name, nvlink ? nvbw : nicbw, nvlink ? nvlat : niclat);
        }
        zonexml_write_loopback(fp, r, lbw);
    }
    if (zonexml_write_routes(fp, n, 2, route_names, p) != 0)
        return errbuf_set(err, "gpu platform: out of memory");
    fprintf(fp, "  </zone>\n</platform>\n");
    if (ferror(fp))
        return errbuf_set(err, "gpu platform: write failed");
    return 0;
}
