/* platxml: libexpat parse of a platform file with the element table of SimGrid's platform DTD (version 4.1)
 * for the elements a switchsim platform can hold, name spaces and references.  No SimGrid here. */
#include "sim/platxml.h"

#include <expat.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ATTRS_MAX 20

/* The elements switchsim reads and their attributes, as SimGrid's DTD declares them; 'need' are #REQUIRED. */
typedef struct {
    const char *name;
    const char *attrs[ATTRS_MAX];
    const char *need[8];
} elem_rule;

static const elem_rule ELEMS[] = {
    { "platform", { "version", NULL }, { "version", NULL } },
    { "zone", { "id", "routing", NULL }, { "id", "routing", NULL } },
    { "AS", { "id", "routing", NULL }, { "id", "routing", NULL } },
    { "host", { "id", "speed", "core", "availability_file", "state_file", "pstate", "coordinates", NULL },
      { "id", "speed", NULL } },
    { "router", { "id", "coordinates", NULL }, { "id", NULL } },
    { "prop", { "id", "value", NULL }, { "id", "value", NULL } },
    { "link", { "id", "bandwidth", "latency", "sharing_policy", "bandwidth_file", "latency_file", "state_file",
                NULL }, { "id", "bandwidth", NULL } },
    { "backbone", { "id", "bandwidth", "latency", NULL }, { "id", "bandwidth", "latency", NULL } },
    { "route", { "src", "dst", "gw_src", "gw_dst", "symmetrical", NULL }, { "src", "dst", NULL } },
    { "zoneRoute", { "src", "dst", "gw_src", "gw_dst", "symmetrical", NULL }, { "src", "dst", "gw_src", "gw_dst", NULL } },
    { "ASroute", { "src", "dst", "gw_src", "gw_dst", "symmetrical", NULL }, { "src", "dst", "gw_src", "gw_dst", NULL } },
    { "bypassRoute", { "src", "dst", "gw_src", "gw_dst", NULL }, { "src", "dst", NULL } },
    { "link_ctn", { "id", "direction", NULL }, { "id", NULL } },
    { "host_link", { "id", "up", "down", NULL }, { "id", "up", "down", NULL } },
    { "cluster", { "id", "prefix", "suffix", "radical", "speed", "core", "bw", "lat", "sharing_policy", "topology",
                   "topo_parameters", "bb_bw", "bb_lat", "bb_sharing_policy", "router_id", "limiter_link",
                   "loopback_bw", "loopback_lat", NULL },
      { "id", "prefix", "suffix", "radical", "speed", "bw", "lat", NULL } },
    { "config", { "id", NULL }, { NULL } },
};
#define N_ELEMS ((int)(sizeof ELEMS / sizeof ELEMS[0]))

/* Attributes whose value is one of a list (the DTD's enumerations; SimGrid aborts on another word). */
static const struct {
    const char *elem, *attr, *list;   /* 'list': the words, ", "-separated, as the message shows them */
} ENUMS[] = {
    { "platform", "version", "4, 4.0, 4.1" },   /* SimGrid 3.32 reads these; older and newer files abort */
    { "link", "sharing_policy", "SHARED, SPLITDUPLEX, FATPIPE, WIFI" },
    { "cluster", "sharing_policy", "SHARED, SPLITDUPLEX, FATPIPE" },
    { "cluster", "bb_sharing_policy", "SHARED, FATPIPE" },
    { "cluster", "topology", "FLAT, TORUS" },   /* FAT_TREE and DRAGONFLY parameters are not checked: refused */
    { "zone", "routing", "Full, Floyd, Dijkstra, DijkstraCache, None, Vivaldi, Cluster, ClusterTorus, "
                         "ClusterFatTree, ClusterDragonfly, Wifi, Star" },
    { "AS", "routing", "Full, Floyd, Dijkstra, DijkstraCache, None, Vivaldi, Cluster, ClusterTorus, "
                       "ClusterFatTree, ClusterDragonfly, Wifi, Star" },
    { "route", "symmetrical", "YES, NO, yes, no" },
    { "zoneRoute", "symmetrical", "YES, NO, yes, no" },
    { "ASroute", "symmetrical", "YES, NO, yes, no" },
    { "link_ctn", "direction", "UP, DOWN, NONE" },
};

/* ---- a set of names with the line each was declared on (open addressing, FNV-1a) ---- */

typedef struct {
    char **key;
    long *line;
    size_t cap, n;
} name_set;

static uint64_t name_hash(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The line 's' was added on, or -1. */
static long name_find(const name_set *t, const char *s)
{
    if (t->cap == 0)
        return -1;
    for (size_t i = name_hash(s) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (t->key[i] == NULL)
            return -1;
        if (strcmp(t->key[i], s) == 0)
            return t->line[i];
    }
}

static int name_add(name_set *t, const char *s, long line);

static int name_grow(name_set *t)
{
    name_set big = { NULL, NULL, t->cap ? 2 * t->cap : 256, 0 };
    big.key = calloc(big.cap, sizeof *big.key);
    big.line = calloc(big.cap, sizeof *big.line);
    if (big.key == NULL || big.line == NULL) {
        free(big.key);
        free(big.line);
        return -1;
    }
    for (size_t i = 0; i < t->cap; i++)
        if (t->key[i] != NULL) {
            size_t j = name_hash(t->key[i]) & (big.cap - 1);
            while (big.key[j] != NULL)
                j = (j + 1) & (big.cap - 1);
            big.key[j] = t->key[i];
            big.line[j] = t->line[i];
            big.n++;
        }
    free(t->key);
    free(t->line);
    *t = big;
    return 0;
}

static int name_add(name_set *t, const char *s, long line)
{
    if (2 * (t->n + 1) > t->cap && name_grow(t) != 0)
        return -1;
    size_t i = name_hash(s) & (t->cap - 1);
    while (t->key[i] != NULL)
        i = (i + 1) & (t->cap - 1);
    if ((t->key[i] = strdup(s)) == NULL)
        return -1;
    t->line[i] = line;
    t->n++;
    return 0;
}

static void name_free(name_set *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->key[i]);
    free(t->key);
    free(t->line);
}

/* ---- the parse ---- */

typedef struct {
    XML_Parser xp;
    const char *path;
    errbuf *err;
    int failed;
    int depth;
    long elements;         /* elements started so far */
    int clusters;          /* <cluster> elements so far: their hosts' names are generated, so not checked */
    int doctype;           /* 1 once the <!DOCTYPE> SimGrid requires was seen */
    name_set points;       /* hosts, routers, zones, clusters */
    name_set links;        /* links, backbones */
    name_set routes;       /* "SRC\nDST" of every route, both ways unless symmetrical="NO" */
    platxml_elem_fn elem;  /* the caller's check of every element, or NULL */
    void *arg;
} ctx;

static void fail(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(ctx *c, const char *fmt, ...)
{
    if (c->failed)
        return;
    char what[ERRBUF_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    errbuf_set(c->err, "%s:%lu: %s", c->path, (unsigned long)XML_GetCurrentLineNumber(c->xp), what);
    c->failed = 1;
    XML_StopParser(c->xp, XML_FALSE);
}

static const char *attr_of(const char **atts, const char *name)
{
    for (int i = 0; atts[i] != NULL; i += 2)
        if (strcmp(atts[i], name) == 0)
            return atts[i + 1];
    return NULL;
}

/* 1 if 'v' is one of the ", "-separated words of 'list'. */
static int in_list(const char *list, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = list; *p;) {
        const char *end = strstr(p, ", ");
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0)
            return 1;
        p += len;
        if (*p)
            p += 2;
    }
    return 0;
}

/* Declares 'id' in 'set'; a second declaration is an error naming the first one's line. */
static void declare(ctx *c, name_set *set, const char *elem, const char *id)
{
    long first = name_find(set, id);
    if (first >= 0) {
        fail(c, "<%s> id '%s' is already used on line %ld", elem, id, first);
        return;
    }
    if (name_add(set, id, (long)XML_GetCurrentLineNumber(c->xp)) != 0)
        fail(c, "out of memory");
}

static void refer(ctx *c, const name_set *set, const char *elem, const char *attr, const char *v, const char *what)
{
    if (v != NULL && !c->clusters && name_find(set, v) < 0)
        fail(c, "<%s> %s '%s' is not a %s declared before it", elem, attr, v, what);
}

/* SimGrid's parser aborts on a file without this declaration, or with another system id than these two. */
static const char *const DTD_IDS[] = { "https://simgrid.org/simgrid.dtd",
                                       "http://simgrid.gforge.inria.fr/simgrid/simgrid.dtd" };
#define DOCTYPE_RULE "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">"

static void XMLCALL on_doctype(void *data, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
                               int has_internal_subset)
{
    ctx *c = data;
    int ok = strcmp(name, "platform") == 0 && sysid != NULL && pubid == NULL && !has_internal_subset;
    ok = ok && (strcmp(sysid, DTD_IDS[0]) == 0 || strcmp(sysid, DTD_IDS[1]) == 0);
    if (!ok)
        fail(c, "the document type must be declared as " DOCTYPE_RULE " (SimGrid requires it), got '%.64s' "
             "SYSTEM '%.80s'%s", name, sysid != NULL ? sysid : "", has_internal_subset ? " with an internal subset" : "");
    c->doctype = 1;
}

/* Hosts a cluster's 'radical' names ("0-1023", "0,2,5-7"), or -1 when it is malformed or over a million. */
static long radical_count(const char *s)
{
    long n = 0;
    if (s == NULL)
        return -1;
    for (const char *p = s;;) {
        char *end;
        if (*p < '0' || *p > '9')
            return -1;
        long a = strtol(p, &end, 10), b = a;
        if (*end == '-') {
            p = end + 1;
            if (*p < '0' || *p > '9')
                return -1;
            b = strtol(p, &end, 10);
        }
        if (b < a || b - a >= 1000000 || (n += b - a + 1) > 1000000)
            return -1;
        if (*end == '\0')
            return n;
        if (*end != ',')
            return -1;
        p = end + 1;
    }
}

/* A TORUS cluster: topo_parameters are its dimensions, whose product must be the number of hosts (SimGrid aborts
 * otherwise). */
static void check_cluster(ctx *c, const XML_Char **atts)
{
    long hosts = radical_count(attr_of(atts, "radical"));
    if (hosts < 0) {
        fail(c, "<cluster> attribute 'radical' must be comma-separated integers or ranges such as '0-15', at most "
             "1000000 hosts, got '%s'", attr_of(atts, "radical"));
        return;
    }
    const char *topo = attr_of(atts, "topology"), *par = attr_of(atts, "topo_parameters");
    if (topo == NULL || strcmp(topo, "TORUS") != 0)
        return;
    long prod = 1;
    const char *p = par != NULL ? par : "";
    for (;;) {
        char *end;
        long d = *p >= '1' && *p <= '9' ? strtol(p, &end, 10) : 0;
        if (d < 1 || d > 1000000 || (prod *= d) > 1000000 || (*end != ',' && *end != '\0')) {
            fail(c, "<cluster> attribute 'topo_parameters' must be the torus dimensions such as '4,4', got '%s'",
                 par != NULL ? par : "");
            return;
        }
        if (*end == '\0')
            break;
        p = end + 1;
    }
    if (prod != hosts)
        fail(c, "<cluster> topo_parameters '%s' make %ld hosts, its radical '%s' names %ld", par, prod,
             attr_of(atts, "radical"), hosts);
}

/* A second route between the same two points (a symmetrical route counts both ways) makes SimGrid abort. */
static void add_route(ctx *c, const char *src, const char *dst, const char *sym)
{
    char key[2 * PLATXML_ATTR_MAX + 2];
    int both = sym == NULL || strcmp(sym, "YES") == 0 || strcmp(sym, "yes") == 0;
    for (int way = 0; way < (both && strcmp(src, dst) != 0 ? 2 : 1) && !c->failed; way++) {
        snprintf(key, sizeof key, "%s\n%s", way ? dst : src, way ? src : dst);
        long first = name_find(&c->routes, key);
        if (first >= 0)
            fail(c, "<route> from '%s' to '%s' is already given on line %ld (a route goes both ways unless "
                 "symmetrical=\"NO\")", way ? dst : src, way ? src : dst, first);
        else if (name_add(&c->routes, key, (long)XML_GetCurrentLineNumber(c->xp)) != 0)
            fail(c, "out of memory");
    }
}

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **atts)
{
    ctx *c = data;
    if (c->failed)
        return;
    c->elements++;
    if (++c->depth == 1 && strcmp(name, "platform") != 0) {
        fail(c, "the root element is <%.64s>, not <platform>", name);
        return;
    }
    if (c->depth == 1 && !c->doctype) {
        fail(c, "the file needs " DOCTYPE_RULE " before <platform> (SimGrid requires it)");
        return;
    }
    const elem_rule *r = NULL;
    for (int i = 0; i < N_ELEMS; i++)
        if (strcmp(ELEMS[i].name, name) == 0)
            r = &ELEMS[i];
    if (r == NULL) {
        fail(c, "<%.64s> is not an element of a SimGrid platform file", name);
        return;
    }
    for (int i = 0; atts[i] != NULL; i += 2) {
        int known = 0;
        for (int k = 0; r->attrs[k] != NULL; k++)
            known |= strcmp(r->attrs[k], atts[i]) == 0;
        if (!known) {
            fail(c, "<%s> has no attribute '%.64s'", name, atts[i]);
            return;
        }
        size_t len = strlen(atts[i + 1]);
        if (len > PLATXML_ATTR_MAX) {
            fail(c, "<%s> attribute '%s' is %zu characters long, more than %d", name, atts[i], len, PLATXML_ATTR_MAX);
            return;
        }
        for (size_t e = 0; e < sizeof ENUMS / sizeof ENUMS[0]; e++)
            if (strcmp(ENUMS[e].elem, name) == 0 && strcmp(ENUMS[e].attr, atts[i]) == 0
                && !in_list(ENUMS[e].list, atts[i + 1])) {
                fail(c, "<%s> attribute '%s' must be one of %s, got '%s'", name, atts[i], ENUMS[e].list, atts[i + 1]);
                return;
            }
    }
    for (int k = 0; r->need[k] != NULL; k++)
        if (attr_of(atts, r->need[k]) == NULL) {
            fail(c, "<%s> needs attribute '%s'", name, r->need[k]);
            return;
        }
    const char *id = attr_of(atts, "id");
    if (strcmp(name, "host") == 0 || strcmp(name, "router") == 0 || strcmp(name, "zone") == 0
        || strcmp(name, "AS") == 0 || strcmp(name, "cluster") == 0)
        declare(c, &c->points, name, id);
    else if (strcmp(name, "link") == 0 || strcmp(name, "backbone") == 0)
        declare(c, &c->links, name, id);
    else if (strcmp(name, "route") == 0 || strcmp(name, "bypassRoute") == 0) {
        refer(c, &c->points, name, "src", attr_of(atts, "src"), "host or router");
        refer(c, &c->points, name, "dst", attr_of(atts, "dst"), "host or router");
        if (strcmp(name, "route") == 0)
            add_route(c, attr_of(atts, "src"), attr_of(atts, "dst"), attr_of(atts, "symmetrical"));
    } else if (strcmp(name, "zoneRoute") == 0 || strcmp(name, "ASroute") == 0) {
        const char *const keys[] = { "src", "dst", "gw_src", "gw_dst" };
        for (int k = 0; k < 4; k++)
            refer(c, &c->points, name, keys[k], attr_of(atts, keys[k]), "zone, host or router");
    } else if (strcmp(name, "link_ctn") == 0) {
        refer(c, &c->links, name, "id", id, "link");
    } else if (strcmp(name, "host_link") == 0) {
        refer(c, &c->points, name, "id", id, "host");
        refer(c, &c->links, name, "up", attr_of(atts, "up"), "link");
        refer(c, &c->links, name, "down", attr_of(atts, "down"), "link");
    }
    if (strcmp(name, "cluster") == 0) {
        check_cluster(c, atts);
        c->clusters++;
    }
    if (!c->failed && c->elem != NULL
        && c->elem(c->arg, name, atts, (long)XML_GetCurrentLineNumber(c->xp), c->err) != 0) {
        c->failed = 1;                                 /* the caller's message stands */
        XML_StopParser(c->xp, XML_FALSE);
    }
}

/* SimGrid's DTD gives every element element content: text other than white space makes its parser abort. */
static void XMLCALL on_text(void *data, const XML_Char *s, int len)
{
    ctx *c = data;
    for (int i = 0; i < len && !c->failed; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            fail(c, "text '%.*s' between elements (a platform file holds only elements, attributes and comments)",
                 len - i < 20 ? len - i : 20, s + i);
}

static void XMLCALL on_pi(void *data, const XML_Char *target, const XML_Char *body)
{
    (void)body;
    fail(data, "processing instruction <?%.32s ...?> (a platform file holds only elements, attributes and comments)",
         target);
}

static void XMLCALL on_end(void *data, const XML_Char *name)
{
    (void)name;
    ((ctx *)data)->depth--;
}

int platxml_check(const char *path, const char *text, size_t len, platxml_elem_fn elem, void *arg, errbuf *err)
{
    if (len > (size_t)INT32_MAX)
        return errbuf_set(err, "%s: file is %zu bytes, too long to parse", path, len);
    ctx c;
    memset(&c, 0, sizeof c);
    c.path = path;
    c.err = err;
    c.elem = elem;
    c.arg = arg;
    c.xp = XML_ParserCreate(NULL);
    if (c.xp == NULL)
        return errbuf_set(err, "%s: out of memory", path);
    XML_SetUserData(c.xp, &c);
    XML_SetElementHandler(c.xp, on_start, on_end);
    XML_SetStartDoctypeDeclHandler(c.xp, on_doctype);
    XML_SetCharacterDataHandler(c.xp, on_text);
    XML_SetProcessingInstructionHandler(c.xp, on_pi);
    enum XML_Status st = XML_Parse(c.xp, text, (int)len, 1);
    if (st != XML_STATUS_OK && !c.failed)
        errbuf_set(err, "%s:%lu: %smalformed XML: %s", path, (unsigned long)XML_GetCurrentLineNumber(c.xp),
                   c.elements == 0 ? "not a SimGrid platform file (no <platform> element): " : "",
                   XML_ErrorString(XML_GetErrorCode(c.xp)));
    int rc = st == XML_STATUS_OK && !c.failed ? 0 : -1;
    XML_ParserFree(c.xp);
    name_free(&c.points);
    name_free(&c.links);
    name_free(&c.routes);
    return rc;
}
