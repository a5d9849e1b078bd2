/* model: loads the model presets (models/models.csv or a user's file in the same columns) and derives
 * parameter counts and forward FLOPs from a preset alone.  Not the kernels (switch.c), no SimGrid, no printing. */
#include "models/model.h"

#include <csv.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- column table ------------------------------------------------------------------------------ */

typedef enum {
    COL_NAME, COL_INT, COL_LONG, COL_DOUBLE, COL_ACT, COL_EVERY, COL_TOPK, COL_IMPL, COL_NOTES,
    COL_OPT_INT,    /* optional integer: empty is 0, the column's default */
    COL_ARCH, COL_SCORE, COL_RENORM, COL_TIED
} col_kind;

typedef struct {
    const char *name;   /* header name, equal to the model_cfg field name where there is one */
    col_kind kind;
    size_t off;         /* offset of the field in model_cfg (unused for COL_NOTES) */
    long lo, hi;        /* inclusive range of COL_INT / COL_LONG / COL_OPT_INT */
    int required;       /* 0 for the optional columns (a file of the Switch/T5 columns loads as before) */
} model_col;

/* Upper bounds are what a real model can be, with room to spare: each is far above every published model
 * (the largest rows have d_model 7168, d_ff 18432, 2048 experts, 2^22 tokens per batch, vocab 201088) and
 * low enough that every product the layout and cost model form (sequences x dec_seq, layers x experts x
 * D x F in doubles) stays far inside a long, and that walking the layers is instant.  Lower bounds: a width
 * or count of 0 means no model, except where 0 means "none" (a decoder-only model's encoder, no shared
 * experts, no MLA). */
#define MODEL_WIDTH_MAX   65536L        /* d_model, d_kv, q_lora, kv_lora, rope_dim */
#define MODEL_FF_MAX      1048576L      /* d_ff, d_ff_expert: 2^20 */
#define MODEL_HEADS_MAX   4096L
#define MODEL_LAYERS_MAX  1024L         /* per stack */
#define MODEL_EXPERTS_MAX 65536L        /* 32x Switch-C's 2048 */
#define MODEL_VOCAB_MAX   16777216L     /* 2^24 */
#define MODEL_SEQ_MAX     1048576L      /* enc_seq, dec_seq, group_size, min_capacity: 2^20 tokens */
#define MODEL_TOKENS_MAX  1099511627776L   /* tokens_per_batch: 2^40 (the Switch paper uses 2^20) */
static const model_col COLS[] = {
    { "name",             COL_NAME,   offsetof(model_cfg, name),             0, 0,                 1 },
    { "d_model",          COL_INT,    offsetof(model_cfg, d_model),          1, MODEL_WIDTH_MAX,   1 },
    { "d_ff",             COL_INT,    offsetof(model_cfg, d_ff),             1, MODEL_FF_MAX,      1 },
    { "ffn_act",          COL_ACT,    offsetof(model_cfg, act),              0, 0,                 1 },
    { "heads",            COL_INT,    offsetof(model_cfg, heads),            1, MODEL_HEADS_MAX,   1 },
    { "d_kv",             COL_INT,    offsetof(model_cfg, d_kv),             1, MODEL_WIDTH_MAX,   1 },
    { "enc_layers",       COL_INT,    offsetof(model_cfg, enc_layers),       0, MODEL_LAYERS_MAX,  1 },
    { "dec_layers",       COL_INT,    offsetof(model_cfg, dec_layers),       1, MODEL_LAYERS_MAX,  1 },
    { "expert_every",     COL_EVERY,  offsetof(model_cfg, expert_every),     0, MODEL_LAYERS_MAX,  1 },
    { "experts",          COL_INT,    offsetof(model_cfg, experts),          1, MODEL_EXPERTS_MAX, 1 },
    { "vocab",            COL_INT,    offsetof(model_cfg, vocab),            1, MODEL_VOCAB_MAX,   1 },
    { "enc_seq",          COL_INT,    offsetof(model_cfg, enc_seq),          0, MODEL_SEQ_MAX,     1 },
    { "dec_seq",          COL_INT,    offsetof(model_cfg, dec_seq),          1, MODEL_SEQ_MAX,     1 },
    { "tokens_per_batch", COL_LONG,   offsetof(model_cfg, tokens_per_batch), 1, MODEL_TOKENS_MAX,  1 },
    { "capacity_factor",  COL_DOUBLE, offsetof(model_cfg, capacity_factor),  0, 0,                 1 },
    { "group_size",       COL_INT,    offsetof(model_cfg, group_size),       1, MODEL_SEQ_MAX,     1 },
    { "min_capacity",     COL_INT,    offsetof(model_cfg, min_capacity),     0, MODEL_SEQ_MAX,     1 },
    { "top_k",            COL_TOPK,   offsetof(model_cfg, top_k),            1, MODEL_TOPK_MAX,    1 },
    { "impl",             COL_IMPL,   offsetof(model_cfg, impl),             0, 0,                 0 },
    { "arch",             COL_ARCH,   offsetof(model_cfg, arch),             0, 0,                 0 },
    { "kv_heads",         COL_OPT_INT, offsetof(model_cfg, kv_heads),        1, MODEL_HEADS_MAX,   0 },
    { "d_ff_expert",      COL_OPT_INT, offsetof(model_cfg, d_ff_expert),     1, MODEL_FF_MAX,      0 },
    { "shared_experts",   COL_OPT_INT, offsetof(model_cfg, shared_experts),  0, MODEL_EXPERTS_MAX, 0 },
    { "first_dense",      COL_OPT_INT, offsetof(model_cfg, first_dense),     0, MODEL_LAYERS_MAX,  0 },
    { "router_score",     COL_SCORE,  offsetof(model_cfg, score),            0, 0,                 0 },
    { "topk_renorm",      COL_RENORM, offsetof(model_cfg, renorm),           0, 0,                 0 },
    { "tied_embed",       COL_TIED,   offsetof(model_cfg, untied),           0, 0,                 0 },
    { "q_lora",           COL_OPT_INT, offsetof(model_cfg, q_lora),          0, MODEL_WIDTH_MAX,   0 },
    { "kv_lora",          COL_OPT_INT, offsetof(model_cfg, kv_lora),         0, MODEL_WIDTH_MAX,   0 },
    { "rope_dim",         COL_OPT_INT, offsetof(model_cfg, rope_dim),        0, MODEL_WIDTH_MAX,   0 },
    { "notes",            COL_NOTES,  0,                                     0, 0,                 0 },
};
#define N_COLS ((int)(sizeof COLS / sizeof COLS[0]))

/* ---- loader state ------------------------------------------------------------------------------ */

typedef struct {
    const char *path;
    errbuf *err;
    int failed;           /* set by the first error; later callbacks do nothing */
    long line;            /* 1-based line of the byte being fed */
    long row_line;        /* line where the current record began; 0 between records */
    int header_done;
    int ncols;            /* fields in the header */
    int extra_ok;         /* 1: columns of other names are skipped (a measured dataset's extra columns) */
    int col_of[MODEL_CSV_COLS_MAX];   /* header position -> COLS index, -1 for a skipped column */
    int nfield;           /* fields seen in the current record */
    model_cfg cur;        /* the record being parsed */
    model_set *set;
    long *lines;          /* (set->n) line of each row, for duplicate-name messages */
    int cap;
} load_ctx;

static int fail_at(load_ctx *c, long line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail_at(load_ctx *c, long line, const char *fmt, ...)
{
    char what[ERRBUF_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    c->failed = 1;
    return errbuf_set(c->err, "%s:%ld: %s", c->path, line, what);
}

static int bad_field(load_ctx *c, const char *col, const char *rule, const char *value)
{
    c->failed = 1;
    return errbuf_set(c->err, "%s:%ld: column '%s' must be %s, got '%s'", c->path, c->row_line, col, rule,
                      value);
}

/* Valid names are what a CLI argument and a CSV cell can carry without quoting. */
static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= MODEL_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-'
                 || ch == '_' || ch == '.' || ch == '+';
        if (!ok)
            return 0;
    }
    return 1;
}

static void header_field(load_ctx *c, const char *s)
{
    int k = -1;
    for (int i = 0; i < N_COLS; i++)
        if (strcmp(s, COLS[i].name) == 0)
            k = i;
    if (k < 0 && !c->extra_ok) {
        fail_at(c, c->row_line, "unknown column '%s'", s);
        return;
    }
    if (c->ncols >= MODEL_CSV_COLS_MAX) {
        fail_at(c, c->row_line, "more than %d columns", MODEL_CSV_COLS_MAX);
        return;
    }
    for (int j = 0; j < c->ncols && k >= 0; j++)
        if (c->col_of[j] == k) {
            fail_at(c, c->row_line, "column '%s' appears twice", s);
            return;
        }
    c->col_of[c->ncols++] = k;
}

static void header_end(load_ctx *c)
{
    for (int i = 0; i < N_COLS; i++) {
        if (!COLS[i].required)
            continue;
        int found = 0;
        for (int j = 0; j < c->ncols; j++)
            found |= c->col_of[j] == i;
        if (!found) {
            fail_at(c, c->row_line, "missing column '%s'", COLS[i].name);
            return;
        }
    }
    c->header_done = 1;
}

/* A name column: what a CLI argument and a CSV cell carry without quoting. */
static void field_name(load_ctx *c, const model_col *col, const char *s, char *dst)
{
    char rule[128];
    if (!name_ok(s)) {
        snprintf(rule, sizeof rule, "1 to %d characters of [A-Za-z0-9._+-]", MODEL_NAME_MAX - 1);
        bad_field(c, col->name, rule, s);
        return;
    }
    memcpy(dst, s, strlen(s) + 1);
}

/* A number column: an integer in the column's bounds (int or long), or a finite number > 0. */
static void field_number(load_ctx *c, const model_col *col, const char *s, char *dst)
{
    char rule[128];
    long v;
    double d;
    if (col->kind == COL_DOUBLE) {
        if (errbuf_parse_double(s, &d) != 0 || !(d > 0.0)) {
            bad_field(c, col->name, "a finite number > 0", s);
            return;
        }
        memcpy(dst, &d, sizeof d);
        return;
    }
    if (col->kind == COL_OPT_INT && s[0] == '\0') {
        int zero = 0;              /* empty: the column's default */
        memcpy(dst, &zero, sizeof zero);
        return;
    }
    if (errbuf_parse_long(s, &v) != 0 || v < col->lo || v > col->hi) {
        snprintf(rule, sizeof rule, col->kind == COL_OPT_INT ? "empty or an integer in [%ld, %ld]"
                                                               : "an integer in [%ld, %ld]", col->lo, col->hi);
        bad_field(c, col->name, rule, s);
        return;
    }
    if (col->kind != COL_LONG) {
        int iv = (int)v;
        memcpy(dst, &iv, sizeof iv);
    } else {
        memcpy(dst, &v, sizeof v);
    }
}

/* An integer in [lo, hi] whose values each mean something ('rule' says what) into *dst. */
static void field_small_int(load_ctx *c, const model_col *col, const char *s, long lo, long hi, const char *rule,
                            int *dst)
{
    long v;
    if (errbuf_parse_long(s, &v) != 0 || v < lo || v > hi)
        bad_field(c, col->name, rule, s);
    else
        *dst = (int)v;
}

/* The index of s among names[0..n), or -1. */
static int choice_index(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

/* A column of a few choices: activation, expert_every, top_k, impl, arch, router score, renormalisation and tied
 * embeddings (empty: the default of the optional ones). */
static void field_choice(load_ctx *c, const model_col *col, const char *s)
{
    static const char *const ACT[MODEL_ACT_N] = { "relu", "geglu", "gelu", "swiglu" };
    static const char *const IMPL[MODEL_IMPL_N] = { "flaxformer", "meshtf", "lingvo", "torch" };
    static const char *const ARCH[] = { "enc-dec", "dec-only" };
    static const char *const SCORE[] = { "softmax", "sigmoid" };
    static const char *const RENORM[] = { "", "0", "1" };      /* model_renorm order */
    static const char *const TIED[] = { "1", "0" };            /* 'untied' 0, 1 */
    char rule[128];
    int i = -1;
    switch (col->kind) {
    case COL_ACT:
        if ((i = choice_index(s, ACT, MODEL_ACT_N)) < 0)
            bad_field(c, col->name, "'relu', 'gelu', 'geglu' or 'swiglu'", s);
        else
            c->cur.act = (model_act)i;
        break;
    case COL_EVERY:
        snprintf(rule, sizeof rule, "an integer in [0, %ld] (0 dense, M: every Mth FFN layer)", col->hi);
        field_small_int(c, col, s, col->lo, col->hi, rule, &c->cur.expert_every);
        break;
    case COL_TOPK:
        snprintf(rule, sizeof rule, "an integer in [%ld, %ld] (experts per token)", col->lo, col->hi);
        field_small_int(c, col, s, col->lo, col->hi, rule, &c->cur.top_k);
        break;
    case COL_IMPL:
        if (s[0] != '\0' && (i = choice_index(s, IMPL, MODEL_IMPL_N)) < 0)
            bad_field(c, col->name, "'meshtf', 'flaxformer', 'lingvo' or 'torch'", s);
        else if (i >= 0)
            c->cur.impl = (model_impl)i;
        break;
    case COL_ARCH:
        if (s[0] != '\0' && (i = choice_index(s, ARCH, 2)) < 0)
            bad_field(c, col->name, "empty, 'enc-dec' or 'dec-only'", s);
        else if (i >= 0)
            c->cur.arch = (model_arch)i;
        break;
    case COL_SCORE:
        if (s[0] != '\0' && (i = choice_index(s, SCORE, 2)) < 0)
            bad_field(c, col->name, "empty, 'softmax' or 'sigmoid'", s);
        else if (i >= 0)
            c->cur.score = (model_score)i;
        break;
    case COL_RENORM:
        if ((i = choice_index(s, RENORM, 3)) < 0)
            bad_field(c, col->name, "empty, '0' or '1'", s);
        else
            c->cur.renorm = (model_renorm)i;
        break;
    case COL_TIED:
        if (s[0] != '\0' && (i = choice_index(s, TIED, 2)) < 0)
            bad_field(c, col->name, "empty, '1' (tied) or '0' (untied)", s);
        else if (i >= 0)
            c->cur.untied = i;
        break;
    default:                       /* not a choice column: data_field does not send it here */
        break;
    }
}

/* One field of a data row, checked by its column's rule into the row being parsed. */
static void data_field(load_ctx *c, const char *s)
{
    int pos = c->nfield;
    if (pos >= c->ncols || c->col_of[pos] < 0)
        return;                    /* surplus (the record end reports it) or a skipped column */
    const model_col *col = &COLS[c->col_of[pos]];
    char *dst = (char *)&c->cur + col->off;
    switch (col->kind) {
    case COL_NAME:
        field_name(c, col, s, dst);
        break;
    case COL_INT:
    case COL_LONG:
    case COL_DOUBLE:
    case COL_OPT_INT:
        field_number(c, col, s, dst);
        break;
    case COL_ACT:
    case COL_EVERY:
    case COL_TOPK:
    case COL_IMPL:
    case COL_ARCH:
    case COL_SCORE:
    case COL_RENORM:
    case COL_TIED:
        field_choice(c, col, s);
        break;
    case COL_NOTES:
        break;                     /* free text, kept only in the file */
    }
}

static int grow(load_ctx *c)
{
    if (c->set->n < c->cap)
        return 0;
    int cap = c->cap ? 2 * c->cap : 16;
    model_cfg *rows = realloc(c->set->rows, (size_t)cap * sizeof *rows);
    if (rows == NULL)
        return -1;
    c->set->rows = rows;
    long *lines = realloc(c->lines, (size_t)cap * sizeof *lines);
    if (lines == NULL)
        return -1;
    c->lines = lines;
    c->cap = cap;
    return 0;
}

/* bad_field with an integer value. */
static int bad_int(load_ctx *c, const char *col, const char *rule, long v)
{
    char val[32];
    snprintf(val, sizeof val, "%ld", v);
    return bad_field(c, col, rule, val);
}

/* Rules across the columns of one row; each message names the later column of the pair.  Returns -1 on the
 * first broken rule. */
static int row_rules(load_ctx *c)
{
    char rule[160];
    const model_cfg *m = &c->cur;
    int dec_only = m->arch == MODEL_ARCH_DEC_ONLY;

    if (dec_only && m->enc_layers != 0)
        return bad_int(c, "enc_layers", "0 for a decoder-only model (arch dec-only)", m->enc_layers);
    if (dec_only && m->enc_seq != 0)
        return bad_int(c, "enc_seq", "0 for a decoder-only model (arch dec-only)", m->enc_seq);
    if (!dec_only && m->enc_layers == 0)
        return bad_int(c, "enc_layers", ">= 1 for an encoder-decoder model (arch enc-dec)", m->enc_layers);
    if (!dec_only && m->enc_seq == 0)
        return bad_int(c, "enc_seq", ">= 1 for an encoder-decoder model (arch enc-dec)", m->enc_seq);
    if (m->expert_every == 0 && m->experts != 1)
        return bad_int(c, "experts", "1 when expert_every is 0 (dense)", m->experts);
    if (m->top_k > m->experts) {
        snprintf(rule, sizeof rule, "<= experts (%d)", m->experts);
        return bad_int(c, "top_k", rule, m->top_k);
    }
    /* one expert behind a router is a dense FFN that also pays for routing and all-to-alls */
    if (m->expert_every > 0 && m->experts < 2)
        return bad_int(c, "experts", ">= 2 when expert_every is not 0 (one expert is a dense FFN: set "
                       "expert_every 0)", m->experts);
    if (m->expert_every == 0 && m->shared_experts != 0)
        return bad_int(c, "shared_experts", "0 when expert_every is 0 (dense)", m->shared_experts);
    if (m->kv_heads > m->heads || (m->kv_heads > 0 && m->heads % m->kv_heads != 0)) {
        snprintf(rule, sizeof rule, "empty or a divisor of heads (%d)", m->heads);
        return bad_int(c, "kv_heads", rule, m->kv_heads);
    }
    if (m->kv_lora == 0 && m->q_lora != 0)
        return bad_int(c, "q_lora", "0 without kv_lora (multi-head latent attention)", m->q_lora);
    if (m->kv_lora == 0 && m->rope_dim != 0)
        return bad_int(c, "rope_dim", "0 without kv_lora (multi-head latent attention)", m->rope_dim);
    if (m->kv_lora > 0 && m->kv_heads > 0 && m->kv_heads != m->heads) {
        snprintf(rule, sizeof rule, "empty or heads (%d) with multi-head latent attention", m->heads);
        return bad_int(c, "kv_heads", rule, m->kv_heads);
    }
    int seq = dec_only ? m->dec_seq : m->enc_seq;
    if (m->tokens_per_batch % seq != 0) {
        snprintf(rule, sizeof rule, "a multiple of %s (%d)", dec_only ? "dec_seq" : "enc_seq", seq);
        return bad_int(c, "tokens_per_batch", rule, m->tokens_per_batch);
    }
    for (int i = 0; i < c->set->n; i++)
        if (strcmp(c->set->rows[i].name, m->name) == 0) {
            snprintf(rule, sizeof rule, "unique (first used on line %ld)", c->lines[i]);
            return bad_field(c, "name", rule, m->name);
        }
    return 0;
}

static void data_end(load_ctx *c)
{
    if (c->nfield != c->ncols) {
        c->failed = 1;
        errbuf_set(c->err, "%s:%ld: expected %d fields, got %d", c->path, c->row_line, c->ncols, c->nfield);
        return;
    }
    if (row_rules(c) != 0)
        return;
    if (grow(c) != 0) {
        fail_at(c, c->row_line, "out of memory");
        return;
    }
    c->lines[c->set->n] = c->row_line;
    c->set->rows[c->set->n++] = c->cur;
}

static void on_field(void *s, size_t len, void *data)
{
    load_ctx *c = data;
    if (c->failed)
        return;
    const char *f = s != NULL ? s : "";
    if (s != NULL && strlen(f) != len) {
        fail_at(c, c->row_line, "field %d contains a NUL byte", c->nfield + 1);
        return;
    }
    if (!c->header_done)
        header_field(c, f);
    else
        data_field(c, f);
    c->nfield++;
}

static void on_row(int term, void *data)
{
    (void)term;
    load_ctx *c = data;
    if (!c->failed) {
        if (!c->header_done)
            header_end(c);
        else
            data_end(c);
    }
    memset(&c->cur, 0, sizeof c->cur);
    c->nfield = 0;
    c->row_line = 0;
}

/* libcsv's own text for CSV_EPARSE ("error parsing data while strict checking enabled") does not say
 * what to fix; in strict mode the only parse error is a misplaced quote. */
static const char *csv_why(struct csv_parser *p)
{
    int e = csv_error(p);
    return e == CSV_EPARSE ? "a quote inside an unquoted field, after a closing quote, or never closed"
                           : csv_strerror(e);
}

/* Feeds fp to libcsv one byte at a time, so each record knows the file line it starts on (a quoted field may
 * span lines, and libcsv skips blank lines); preset files are a few KiB, so the cost is nil.  A UTF-8 byte-order
 * mark before the header is skipped.  Returns 0, or -1 with the error set (here or by a callback). */
static int feed_bytes(load_ctx *c, struct csv_parser *p, FILE *fp)
{
    int ch;
    long total = 0, line_len = 0;
    unsigned char head[3];
    size_t nhead = fread(head, 1, sizeof head, fp), ihead = 0;
    if (nhead == sizeof head && memcmp(head, "\xEF\xBB\xBF", 3) == 0)
        ihead = nhead;
    while ((ch = ihead < nhead ? head[ihead++] : getc(fp)) != EOF) {
        unsigned char b = (unsigned char)ch;
        if (++total > MODEL_CSV_BYTES_MAX)        /* an endless input (/dev/zero) must not take all memory */
            return errbuf_set(c->err, "%s:%ld: file is longer than %ld bytes (a preset file is a few KiB)", c->path,
                              c->line, MODEL_CSV_BYTES_MAX);
        line_len = b == '\n' ? 0 : line_len + 1;
        if (line_len > MODEL_CSV_LINE_MAX)
            return errbuf_set(c->err, "%s:%ld: line longer than %ld bytes (not a CSV file?)", c->path, c->line,
                              MODEL_CSV_LINE_MAX);
        if (c->row_line == 0 && b != '\n' && b != '\r')
            c->row_line = c->line;
        if (csv_parse(p, &b, 1, on_field, on_row, c) != 1)
            return errbuf_set(c->err, "%s:%ld: malformed CSV: %s", c->path, c->line, csv_why(p));
        if (c->failed)
            return -1;
        if (b == '\n')
            c->line++;
    }
    if (ferror(fp))
        return errbuf_set(c->err, "%s: read error: %s", c->path, strerror(errno));
    if (csv_fini(p, on_field, on_row, c) != 0)
        return errbuf_set(c->err, "%s:%ld: malformed CSV: %s", c->path, c->row_line ? c->row_line : c->line,
                          csv_why(p));
    return c->failed ? -1 : 0;
}

static model_set *load_csv(const char *path, int extra_ok, errbuf *err)
{
    load_ctx c;
    memset(&c, 0, sizeof c);
    c.extra_ok = extra_ok;
    c.path = path;
    c.err = err;
    c.line = 1;

    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        errbuf_set(err, "%s: cannot initialise the CSV parser", path);
        return NULL;
    }
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        errbuf_set(err, "%s: cannot open: %s", path, strerror(errno));
        csv_free(&p);
        return NULL;
    }
    c.set = calloc(1, sizeof *c.set);
    int rc = c.set == NULL ? errbuf_set(err, "%s: out of memory", path) : feed_bytes(&c, &p, fp);
    if (rc == 0 && !c.header_done)
        rc = errbuf_set(err, "%s:1: empty file, expected a header row naming the columns", path);
    else if (rc == 0 && c.set->n == 0)
        rc = errbuf_set(err, "%s: no model rows after the header", path);
    free(c.lines);
    csv_free(&p);
    fclose(fp);
    if (rc == 0)
        return c.set;
    model_set_free(c.set);
    return NULL;
}

model_set *model_set_load_csv(const char *path, errbuf *err)
{
    return load_csv(path, 0, err);
}

model_set *model_set_load_csv_extra(const char *path, errbuf *err)
{
    return load_csv(path, 1, err);
}

void model_set_free(model_set *s)
{
    if (s == NULL)
        return;
    free(s->rows);
    free(s);
}

const model_cfg *model_set_find(const model_set *s, const char *name)
{
    if (s == NULL || name == NULL)
        return NULL;
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->rows[i].name, name) == 0)
            return &s->rows[i];
    return NULL;
}

/* ---- structure, parameters, FLOPs ---------------------------------------------------------------
 * Parameter convention (one for every row; it reproduces all of Table 9 [SOURCES 1.1] and the published counts
 * of today's models [SOURCES 10.2], see tests/check_model.c):
 *   - attention block: Q (D, heads*d_kv), K and V (D, kv_heads*d_kv) each, O (heads*d_kv, D), no biases
 *     (T5; kv_heads = heads gives T5's 4*D*heads*d_kv).  Multi-head latent attention (kv_lora > 0, DeepSeek
 *     [SOURCES 10.1]): Q either (D, heads*(d_kv + rope_dim)) or, with q_lora, (D, q_lora), a q_lora norm and
 *     (q_lora, heads*(d_kv + rope_dim)); KV (D, kv_lora + rope_dim), a kv_lora norm and (kv_lora,
 *     heads*2*d_kv) for the no-rope keys and the values; O (heads*d_kv, D).  d_kv is both the no-rope query/key
 *     width and the value width, as in every DeepSeek config (128 and 128);
 *   - FFN / one expert: 2*D*F (relu, gelu: W_in, W_out) or 3*D*F (geglu, swiglu: W_in, W_gate, W_out), no
 *     biases; F = d_ff for a dense FFN, d_ff_expert for a routed or shared expert;
 *   - Switch layer: E routed experts, the shared experts (dense: every token uses them), and the router
 *     W_r (D,E), which counts as dense (it is not in an expert);
 *   - layer norms: one scale vector of D per norm (RMS norm, no bias): 2 per encoder layer, 3 per decoder
 *     layer of an encoder-decoder (2 of a decoder-only model), plus one final norm per stack;
 *   - embeddings: ONE vocab x D matrix, shared by the encoder input, the decoder input and the output
 *     softmax (T5 ties them; tied_embed 0 adds a separate output matrix).  Untied embeddings would put T5-Base
 *     at 248M, 11% over the 223M of [SOURCES 1.1 SW-J 4.1], so tying is the reading consistent with every
 *     Switch/T5 row;
 *   - left out: T5's relative position biases (buckets x heads per stack, < 0.001% of any row); the biases of
 *     gpt-oss (attention, experts, router) and Qwen1.5-MoE (q, k, v), attention sinks, QK norms and the
 *     shared-expert gate (each < 0.05% of its model) [SOURCES 10.1]. */

static double ffn_params_f(const model_cfg *m, int f)
{
    return (double)model_ffn_matrices(m) * m->d_model * (double)f;
}

static double ffn_params(const model_cfg *m)          /* a dense FFN */
{
    return ffn_params_f(m, m->d_ff);
}

static double expert_params(const model_cfg *m)       /* one routed or shared expert */
{
    return ffn_params_f(m, model_d_ff_expert(m));
}

static double attn_params(const model_cfg *m)
{
    double D = m->d_model, H = m->heads, dkv = m->d_kv, o = H * dkv * D;
    if (m->kv_lora > 0) {
        double qk = dkv + m->rope_dim;
        double q = m->q_lora > 0 ? D * m->q_lora + m->q_lora + m->q_lora * H * qk : D * H * qk;
        double kv = D * ((double)m->kv_lora + m->rope_dim) + m->kv_lora + (double)m->kv_lora * H * 2.0 * dkv;
        return q + kv + o;
    }
    return D * H * dkv + 2.0 * D * model_kv_heads(m) * dkv + o;
}

int model_kv_heads(const model_cfg *m)
{
    return m->kv_heads > 0 ? m->kv_heads : m->heads;
}

int model_d_ff_expert(const model_cfg *m)
{
    return m->d_ff_expert > 0 ? m->d_ff_expert : m->d_ff;
}

int model_ffn_matrices(const model_cfg *m)
{
    return m->act == MODEL_ACT_GEGLU || m->act == MODEL_ACT_SWIGLU ? 3 : 2;
}

int model_topk_renorm(const model_cfg *m)
{
    return m->renorm == MODEL_RENORM_AUTO ? m->top_k >= 2 : m->renorm == MODEL_RENORM_YES;
}

const char *model_beyond_switch(const model_cfg *m)
{
    if (m->arch == MODEL_ARCH_DEC_ONLY)
        return "decoder-only";
    if (m->act != MODEL_ACT_RELU && m->act != MODEL_ACT_GEGLU)
        return "an FFN activation other than relu or geglu";
    if (model_kv_heads(m) != m->heads)
        return "grouped-query attention (kv_heads < heads)";
    if (m->kv_lora > 0)
        return "multi-head latent attention";
    if (model_d_ff_expert(m) != m->d_ff)
        return "an expert width other than d_ff";
    if (m->shared_experts > 0)
        return "shared experts";
    if (m->first_dense > 0)
        return "first_dense layers";
    if (m->score != MODEL_SCORE_SOFTMAX)
        return "a sigmoid router";
    if (model_topk_renorm(m) != (m->top_k >= 2))
        return "a top-k renormalisation other than Mesh TF's";
    return NULL;
}

int model_layer_is_sparse(const model_cfg *m, int layer)
{
    if (m->expert_every <= 0 || layer < m->first_dense || layer < 0)
        return 0;
    return (layer - m->first_dense + 1) % m->expert_every == 0;   /* every 2: layers 1, 3, 5.. as in the T5X gins */
}

static int sparse_in_stack(const model_cfg *m, int layers)
{
    int n = 0;
    for (int l = 0; l < layers; l++)
        n += model_layer_is_sparse(m, l);
    return n;
}

int model_sparse_layers_enc(const model_cfg *m)
{
    return sparse_in_stack(m, m->enc_layers);
}

int model_sparse_layers(const model_cfg *m)
{
    return sparse_in_stack(m, m->enc_layers) + sparse_in_stack(m, m->dec_layers);
}

double model_params_expert(const model_cfg *m)
{
    return (double)model_sparse_layers(m) * m->experts * expert_params(m);
}

double model_params_dense(const model_cfg *m)
{
    int sparse = model_sparse_layers(m);
    int ffn_layers = m->enc_layers + m->dec_layers;
    int dec_only = m->arch == MODEL_ARCH_DEC_ONLY;
    double d = m->d_model;
    double attn = (m->enc_layers + (dec_only ? 1.0 : 2.0) * m->dec_layers) * attn_params(m);  /* enc-dec: cross */
    double ffn = (double)(ffn_layers - sparse) * ffn_params(m);
    double router = (double)sparse * d * m->experts;
    double shared = (double)sparse * m->shared_experts * expert_params(m);
    double norms = dec_only ? (2.0 * m->dec_layers + 1.0) * d : (2.0 * m->enc_layers + 3.0 * m->dec_layers + 2.0) * d;
    double embed = (m->untied ? 2.0 : 1.0) * m->vocab * d;
    return attn + ffn + router + shared + norms + embed;
}

double model_params_total(const model_cfg *m)
{
    return model_params_dense(m) + model_params_expert(m);
}

double model_params_active(const model_cfg *m)
{
    return model_params_dense(m) + (double)model_sparse_layers(m) * m->top_k * expert_params(m);
}

/* Weights one token of a stack multiplies by (matmul weights only, as Kaplan's N has no norms or
 * embeddings): attention blocks, the dense FFNs, and per Switch layer top_k routed experts, the shared experts
 * and the router. */
static double active_per_token(const model_cfg *m, int layers, int attn_blocks)
{
    int sparse = sparse_in_stack(m, layers);
    double per_sparse = (m->top_k + m->shared_experts) * expert_params(m) + (double)m->d_model * m->experts;
    return layers * (attn_blocks * attn_params(m)) + (layers - sparse) * ffn_params(m) + sparse * per_sparse;
}

/* Forward FLOPs per sequence, Kaplan et al. (2020) style as Table 9 says [SOURCES 1.1 footnote 7]:
 *   2 * (active matmul weights per token) * tokens, for the encoder at enc_seq tokens and the decoder
 *   at dec_seq tokens (the decoder's cross-attention K/V projections are charged per decoder token,
 *   as in Kaplan's 2N), plus the attention score and value products per layer, with A = heads*d_kv:
 *   encoder (bidirectional) 4*enc_seq^2*A, decoder self (causal, Kaplan's 2*n_ctx*d_attn per token)
 *   2*dec_seq^2*A, cross 4*dec_seq*enc_seq*A.  A decoder-only model is the decoder without cross-attention;
 *   with multi-head latent attention the scores are heads*(d_kv + rope_dim) wide and the values heads*d_kv.
 *   Every layer is charged full causal attention: gpt-oss's sliding-window layers (window 128) are not
 *   modelled.
 * Left out, as Kaplan leaves out embeddings: the output softmax (2*D*vocab per decoder token, 5.6 GFLOP
 * per sequence for T5-Base); layer norms, activations, softmaxes and dispatch/combine einsums.
 * With enc_seq 512, dec_seq 114 this gives T5-Base 124.9 GFLOP (Table 9: 124B; the derivation is
 * [SOURCES 2.3]). */
double model_flops_per_seq(const model_cfg *m)
{
    double es = m->enc_seq, ds = m->dec_seq;
    double a = (double)m->heads * m->d_kv;
    double a_self = 0.5 * ((double)m->heads * (m->d_kv + m->rope_dim) + a);   /* mean of score and value widths */
    int dec_only = m->arch == MODEL_ARCH_DEC_ONLY;
    double enc = 2.0 * es * active_per_token(m, m->enc_layers, 1);
    double dec = 2.0 * ds * active_per_token(m, m->dec_layers, dec_only ? 1 : 2);
    double att = m->enc_layers * (4.0 * es * es * a) + m->dec_layers * (2.0 * ds * ds * a_self) +
                 (dec_only ? 0.0 : m->dec_layers * 4.0 * ds * es * a);
    return enc + dec + att;
}

const char *model_act_name(model_act act)
{
    static const char *const NAME[MODEL_ACT_N] = { "relu", "geglu", "gelu", "swiglu" };
    return (int)act >= 0 && (int)act < MODEL_ACT_N ? NAME[act] : "?";
}

const char *model_arch_name(model_arch arch)
{
    return arch == MODEL_ARCH_ENC_DEC ? "enc-dec" : arch == MODEL_ARCH_DEC_ONLY ? "dec-only" : "?";
}

const char *model_impl_name(model_impl impl)
{
    static const char *const NAME[MODEL_IMPL_N] = { "flaxformer", "meshtf", "lingvo", "torch" };
    return (int)impl >= 0 && (int)impl < MODEL_IMPL_N ? NAME[impl] : "?";
}
