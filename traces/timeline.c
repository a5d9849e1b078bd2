/* timeline: an append-only event array with interned strings, sorted and printed as Chrome trace-event JSON
 * when written.  Times are printed from integer nanoseconds so that ts + dur of an event never passes the ts
 * of the next one on its thread when the simulated times did not overlap (rounding is monotone). */
#include "traces/timeline.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/common/atomicio.h"

#define TL_NONE UINT32_MAX       /* no phase */
#define TL_NS_PER_S 1e9          /* JSON resolution: 1 ns, printed as microseconds with 3 decimals */

typedef struct {
    double t0_s, t1_s;           /* simulated seconds, 0 <= t0_s <= t1_s */
    int tid;                     /* 2 * global core + thread */
    int layer;                   /* -1 for none */
    uint32_t name, phase;        /* interned string ids; phase TL_NONE for none */
} tl_event;

struct timeline {
    int nchips, cores_per_chip, ncores;
    unsigned char *mask;         /* (ncores) 1 = record */
    tl_event *ev;
    size_t n_ev, cap_ev;
    char **str;                  /* interned strings, by id */
    uint32_t n_str, cap_str;
    uint32_t *slot;              /* open-addressing hash of ids + 1 (0 = empty), size cap_slot (power of 2) */
    uint32_t cap_slot;
    long n_invalid;
    char first_invalid[128];
};

timeline *timeline_alloc(int nchips, int cores_per_chip, const int *core_mask)
{
    if (nchips < 1 || cores_per_chip < 1 || nchips > INT_MAX / 2 / cores_per_chip)
        return NULL;
    timeline *tl = calloc(1, sizeof *tl);
    if (tl == NULL)
        return NULL;
    tl->nchips = nchips;
    tl->cores_per_chip = cores_per_chip;
    tl->ncores = nchips * cores_per_chip;
    tl->mask = malloc((size_t)tl->ncores);
    if (tl->mask == NULL) {
        free(tl);
        return NULL;
    }
    for (int c = 0; c < tl->ncores; c++)
        tl->mask[c] = core_mask == NULL || core_mask[c] != 0;
    return tl;
}

void timeline_free(timeline *tl)
{
    if (tl == NULL)
        return;
    for (uint32_t i = 0; i < tl->n_str; i++)
        free(tl->str[i]);
    free(tl->str);
    free(tl->slot);
    free(tl->ev);
    free(tl->mask);
    free(tl);
}

static uint32_t hash_str(const char *s)       /* FNV-1a */
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Doubles the hash table and reinserts every id.  0 or -1 (out of memory, table unchanged). */
static int rehash(timeline *tl)
{
    uint32_t cap = tl->cap_slot ? tl->cap_slot * 2 : 64;
    uint32_t *slot = calloc(cap, sizeof *slot);
    if (slot == NULL)
        return -1;
    for (uint32_t id = 0; id < tl->n_str; id++) {
        uint32_t i = hash_str(tl->str[id]) & (cap - 1);
        while (slot[i] != 0)
            i = (i + 1) & (cap - 1);
        slot[i] = id + 1;
    }
    free(tl->slot);
    tl->slot = slot;
    tl->cap_slot = cap;
    return 0;
}

/* The id of 's', adding it if new.  0 or -1 (out of memory, nothing added). */
static int intern(timeline *tl, const char *s, uint32_t *id)
{
    if (tl->cap_slot == 0 && rehash(tl) != 0)
        return -1;
    uint32_t h = hash_str(s);
    uint32_t i = h & (tl->cap_slot - 1);
    while (tl->slot[i] != 0) {
        if (strcmp(tl->str[tl->slot[i] - 1], s) == 0) {
            *id = tl->slot[i] - 1;
            return 0;
        }
        i = (i + 1) & (tl->cap_slot - 1);
    }
    /* new string: keep the load factor <= 1/2 */
    if (tl->n_str == tl->cap_str) {
        uint32_t c = tl->cap_str ? tl->cap_str * 2 : 16;
        char **q = realloc(tl->str, c * sizeof *q);
        if (q == NULL)
            return -1;
        tl->str = q;
        tl->cap_str = c;
    }
    size_t len = strlen(s);
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, s, len + 1);
    if (2 * (tl->n_str + 1) > tl->cap_slot) {
        if (rehash(tl) != 0) {
            free(copy);
            return -1;
        }
        i = h & (tl->cap_slot - 1);
        while (tl->slot[i] != 0)
            i = (i + 1) & (tl->cap_slot - 1);
    }
    tl->str[tl->n_str] = copy;
    tl->slot[i] = tl->n_str + 1;
    *id = tl->n_str++;
    return 0;
}

/* Counts an invalid event and keeps the description of the first one. */
#define NOTE_INVALID(tl, ...)                                                        \
    do {                                                                             \
        if ((tl)->n_invalid++ == 0)                                                  \
            snprintf((tl)->first_invalid, sizeof (tl)->first_invalid, __VA_ARGS__); \
    } while (0)

int timeline_add(timeline *tl, int core, timeline_thread th, const char *name, int layer, const char *phase,
                 double t0_s, double t1_s)
{
    if (core < 0 || core >= tl->ncores) {
        NOTE_INVALID(tl, "core %d not in [0,%d)", core, tl->ncores);
        return 0;
    }
    if (!tl->mask[core])
        return 0;
    if (th != TL_COMPUTE && th != TL_COMM) {
        NOTE_INVALID(tl, "core %d: thread %d is neither compute (0) nor comm (1)", core, (int)th);
        return 0;
    }
    if (name == NULL) {
        NOTE_INVALID(tl, "core %d: event with no name (layer %d)", core, layer);
        return 0;
    }
    if (layer < -1) {
        NOTE_INVALID(tl, "core %d: layer %d < -1", core, layer);
        return 0;
    }
    if (!(t0_s >= 0.0 && t1_s >= t0_s && isfinite(t1_s))) {   /* also false for NaN */
        NOTE_INVALID(tl, "core %d layer %d: times are not 0 <= t0 <= t1, finite", core, layer);
        return 0;
    }
    if (tl->n_ev == tl->cap_ev) {
        size_t c = tl->cap_ev ? tl->cap_ev * 2 : 1024;
        tl_event *q = realloc(tl->ev, c * sizeof *q);
        if (q == NULL)
            return -1;
        tl->ev = q;
        tl->cap_ev = c;
    }
    uint32_t name_id, phase_id = TL_NONE;
    if (intern(tl, name, &name_id) != 0 || (phase != NULL && intern(tl, phase, &phase_id) != 0))
        return -1;              /* an interned string without an event is harmless */
    tl->ev[tl->n_ev++] = (tl_event){ t0_s, t1_s, 2 * core + (int)th, layer, name_id, phase_id };
    return 0;
}

long timeline_count(const timeline *tl)
{
    return (long)tl->n_ev;
}

/* ---- sorting and writing ---- */

static int cmp_u32(uint32_t a, uint32_t b)
{
    return (a > b) - (a < b);
}

/* Event order.  name/phase ids have been replaced by their alphabetical rank in the sorted copy. */
static int cmp_event(const void *pa, const void *pb)
{
    const tl_event *a = pa, *b = pb;
    if (a->tid != b->tid)
        return (a->tid > b->tid) - (a->tid < b->tid);
    if (a->t0_s != b->t0_s)
        return (a->t0_s > b->t0_s) - (a->t0_s < b->t0_s);
    if (a->t1_s != b->t1_s)
        return (a->t1_s > b->t1_s) - (a->t1_s < b->t1_s);
    if (a->name != b->name)
        return cmp_u32(a->name, b->name);
    if (a->layer != b->layer)
        return (a->layer > b->layer) - (a->layer < b->layer);
    return cmp_u32(a->phase, b->phase);
}

static const char *const *sort_strs;     /* only for cmp_str_id, inside sorted_copy's qsort */

static int cmp_str_id(const void *pa, const void *pb)
{
    return strcmp(sort_strs[*(const uint32_t *)pa], sort_strs[*(const uint32_t *)pb]);
}

/* A copy of the events, sorted, with string ids replaced by alphabetical ranks; *rank_to_id (n_str) maps
 * back.  NULL on out of memory (or when there are no events and no strings: check n_ev first). */
static tl_event *sorted_copy(const timeline *tl, uint32_t **rank_to_id)
{
    tl_event *ev = malloc((tl->n_ev ? tl->n_ev : 1) * sizeof *ev);
    uint32_t *order = malloc((tl->n_str ? tl->n_str : 1) * sizeof *order);
    uint32_t *rank = malloc((tl->n_str ? tl->n_str : 1) * sizeof *rank);
    if (ev == NULL || order == NULL || rank == NULL) {
        free(ev);
        free(order);
        free(rank);
        return NULL;
    }
    for (uint32_t i = 0; i < tl->n_str; i++)
        order[i] = i;
    sort_strs = (const char *const *)tl->str;
    qsort(order, tl->n_str, sizeof *order, cmp_str_id);
    sort_strs = NULL;
    for (uint32_t r = 0; r < tl->n_str; r++)
        rank[order[r]] = r;
    for (size_t k = 0; k < tl->n_ev; k++) {
        ev[k] = tl->ev[k];
        ev[k].name = rank[ev[k].name];
        if (ev[k].phase != TL_NONE)
            ev[k].phase = rank[ev[k].phase];
    }
    free(rank);
    qsort(ev, tl->n_ev, sizeof *ev, cmp_event);
    *rank_to_id = order;
    return ev;
}

static long long to_ns(double t_s)
{
    return llround(t_s * TL_NS_PER_S);
}

long timeline_overlaps(const timeline *tl)
{
    uint32_t *rank_to_id;
    tl_event *ev = sorted_copy(tl, &rank_to_id);
    if (ev == NULL)
        return -1;
    long n = 0;
    for (size_t k = 1; k < tl->n_ev; k++)
        if (ev[k].tid == ev[k - 1].tid && to_ns(ev[k].t0_s) < to_ns(ev[k - 1].t1_s))
            n++;
    free(ev);
    free(rank_to_id);
    return n;
}

/* JSON string body: quote, backslash and control characters escaped; other bytes (UTF-8) as they are. */
static void put_json_str(FILE *fp, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(fp, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", fp);
        else if (c == '\t')
            fputs("\\t", fp);
        else if (c < 0x20)
            fprintf(fp, "\\u%04x", c);
        else
            fputc(c, fp);
    }
}

static void put_us(FILE *fp, long long ns)       /* ns >= 0, as microseconds with 3 decimals */
{
    fprintf(fp, "%lld.%03lld", ns / 1000, ns % 1000);
}

typedef struct {
    const timeline *tl;
    const tl_event *ev;
    const uint32_t *rank_to_id;
} json_job;

/* pid = chip + 1 and tid = 2 * core + thread + 1, so no id is 0: some viewers treat pid/tid 0 specially
 * (assumption: not checked against every viewer, kept off 0 to be safe).  The process and thread names carry
 * the real 0-based chip and core numbers. */
static int write_json(FILE *fp, const void *arg, errbuf *err)
{
    (void)err;
    const json_job *job = arg;
    const timeline *tl = job->tl;
    const char *sep = "\n";
    fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"switchsim\","
          "\"time_unit\":\"microseconds of simulated time\"},\"traceEvents\":[", fp);
    for (int chip = 0; chip < tl->nchips; chip++) {
        int any = 0;
        for (int lc = 0; lc < tl->cores_per_chip; lc++)
            any |= tl->mask[chip * tl->cores_per_chip + lc];
        if (!any)
            continue;
        fprintf(fp, "%s{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"tid\":0,\"args\":{\"name\":\"chip %d\"}}",
                sep, chip + 1, chip);
        sep = ",\n";
        fprintf(fp, ",\n{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":%d,\"tid\":0,"
                "\"args\":{\"sort_index\":%d}}", chip + 1, chip);
        for (int lc = 0; lc < tl->cores_per_chip; lc++) {
            int core = chip * tl->cores_per_chip + lc;
            if (!tl->mask[core])
                continue;
            static const char *const THREAD[2] = { "compute", "comm" };
            for (int th = 0; th < 2; th++) {
                int tid = 2 * core + th + 1;
                fprintf(fp, ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d,"
                        "\"args\":{\"name\":\"core %d %s\"}}", chip + 1, tid, core, THREAD[th]);
                fprintf(fp, ",\n{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":%d,\"tid\":%d,"
                        "\"args\":{\"sort_index\":%d}}", chip + 1, tid, tid);
            }
        }
    }
    for (size_t k = 0; k < tl->n_ev; k++) {
        const tl_event *e = &job->ev[k];
        int core = e->tid / 2, th = e->tid % 2;
        const char *name = tl->str[job->rank_to_id[e->name]];
        long long t0 = to_ns(e->t0_s), t1 = to_ns(e->t1_s);
        fprintf(fp, "%s{\"ph\":\"X\",\"name\":\"", sep);
        sep = ",\n";
        put_json_str(fp, name);
        if (e->layer >= 0)
            fprintf(fp, " L%d", e->layer);
        fprintf(fp, "\",\"cat\":\"%s\",\"pid\":%d,\"tid\":%d,\"ts\":", th == TL_COMPUTE ? "compute" : "comm",
                core / tl->cores_per_chip + 1, e->tid + 1);
        put_us(fp, t0);
        fputs(",\"dur\":", fp);
        put_us(fp, t1 - t0);
        fputs(",\"args\":{\"op\":\"", fp);
        put_json_str(fp, name);
        fputc('"', fp);
        if (e->layer >= 0)
            fprintf(fp, ",\"layer\":%d", e->layer);
        if (e->phase != TL_NONE) {
            fputs(",\"phase\":\"", fp);
            put_json_str(fp, tl->str[job->rank_to_id[e->phase]]);
            fputc('"', fp);
        }
        fputs("}}", fp);
    }
    fputs("\n]}\n", fp);
    return 0;
}

int timeline_write_json(atomic_batch *batch, const char *path, const timeline *tl, errbuf *err)
{
    if (tl->n_invalid > 0)
        return errbuf_set(err, "%s: %ld invalid timeline event%s, first: %s", path, tl->n_invalid,
                          tl->n_invalid == 1 ? "" : "s", tl->first_invalid);
    uint32_t *rank_to_id;
    tl_event *ev = sorted_copy(tl, &rank_to_id);
    if (ev == NULL)
        return errbuf_set(err, "%s: out of memory", path);
    json_job job = { tl, ev, rank_to_id };
    int rc = atomic_batch_write(batch, path, write_json, &job, err);
    free(ev);
    free(rank_to_id);
    return rc;
}

/* ---- --trace-cores ---- */

/* One item "A" or "A-B" (digits only).  0 with [*lo, *hi], or -1 with err. */
static int parse_item(const char *item, size_t len, int ncores, long *lo, long *hi, errbuf *err)
{
    char buf[64];
    if (len == 0)
        return 1;                                    /* the caller reports empty items with the whole spec */
    if (len >= sizeof buf)
        return errbuf_set(err, "--trace-cores: '%.*s' is not a core or a range A-B", (int)len, item);
    memcpy(buf, item, len);
    buf[len] = '\0';
    char *dash = strchr(buf, '-');
    char *parts[2] = { buf, dash ? dash + 1 : NULL };
    if (dash)
        *dash = '\0';
    long v[2];
    for (int i = 0; i < 2; i++) {
        const char *p = parts[i] ? parts[i] : parts[0];
        if (*p == '\0' || strspn(p, "0123456789") != strlen(p))
            return errbuf_set(err, "--trace-cores: '%.*s' is not a core or a range A-B", (int)len, item);
        if (errbuf_parse_long(p, &v[i]) != 0)
            v[i] = LONG_MAX;                         /* digits that overflow: out of range below */
    }
    if (v[0] >= ncores || v[1] >= ncores)
        return errbuf_set(err, "--trace-cores: '%.*s' is not within cores [0,%d)", (int)len, item, ncores);
    if (v[1] < v[0])
        return errbuf_set(err, "--trace-cores: range '%.*s' is reversed", (int)len, item);
    *lo = v[0];
    *hi = v[1];
    return 0;
}

int timeline_parse_cores(int *mask, int ncores, const char *spec, errbuf *err)
{
    if (spec == NULL || *spec == '\0')
        return errbuf_set(err, "--trace-cores must list cores like '0-3,8', got '%s'", spec ? spec : "");
    /* pass 0 validates everything, pass 1 fills the mask: 'mask' changes only when the whole list is good */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            for (int c = 0; c < ncores; c++)
                mask[c] = 0;
        const char *s = spec;
        for (;;) {
            size_t len = strcspn(s, ",");
            long lo = 0, hi = -1;
            int rc = parse_item(s, len, ncores, &lo, &hi, err);
            if (rc == 1)
                return errbuf_set(err, "--trace-cores: empty item in '%s'", spec);
            if (rc != 0)
                return -1;
            if (pass == 1)
                for (long c = lo; c <= hi; c++)
                    mask[c] = 1;
            if (s[len] == '\0')
                break;
            s += len + 1;
        }
    }
    return 0;
}
