/* routing: routing traces, the per-layer, per-group expert counts a router produced, as a CSV that
 * `run --dump-routing` writes and `--routing trace:FILE` replays (format: traces/README.md).
 * Loading checks every field and the shape; what the counts mean for capacity is the engine's business. */
#ifndef SWITCHSIM_ROUTING_H
#define SWITCHSIM_ROUTING_H

#include <stddef.h>

#include "sim/common/atomicio.h"
#include "sim/common/errbuf.h"

/* The exact header line of a routing trace. */
#define ROUTING_TRACE_HEADER "layer,group,expert,tokens_first,tokens_second"

typedef struct {
    int layers;     /* Switch layers of the model, encoder then decoder (0-based index among Switch layers) */
    int groups;     /* routing groups, global 0-based index over all data shards */
    int experts;    /* experts per Switch layer */
    int *first;     /* (layers, groups, experts) row-major: tokens whose first choice is the expert, before capacity */
    int *second;    /* (layers, groups, experts) row-major: tokens whose second choice is the expert (0 for top-1) */
} routing_trace;

/* Offset of (layer, group, expert) in 'first' / 'second'. */
static inline size_t routing_trace_index(const routing_trace *t, int layer, int group, int expert)
{
    return ((size_t)layer * (size_t)t->groups + (size_t)group) * (size_t)t->experts + (size_t)expert;
}

/* A zeroed trace of the given shape (one malloc for both count arrays).  NULL if a dimension is < 1,
 * the size overflows, or out of memory. */
routing_trace *routing_trace_alloc(int layers, int groups, int experts);
void routing_trace_free(routing_trace *t);   /* NULL is a no-op */

/* Reads a routing trace CSV and checks it against the expected shape.  Rows may come in any order, but
 * every (layer, group, expert) must appear exactly once.  Returns NULL with 'err' set to one of
 *   "PATH: cannot open: REASON", "PATH: empty file, expected a header line",
 *   "PATH:LINE: malformed CSV (REASON)", "PATH:LINE: expected 5 fields, got M",
 *   "PATH:LINE: header must be 'layer,group,expert,tokens_first,tokens_second', got 'a,b'",
 *   "PATH:LINE: column 'expert' must be an integer in [0,128), got '200'"   (same for layer, group),
 *   "PATH:LINE: column 'tokens_first' must be an integer in [0,2147483647], got '-1'" (and tokens_second),
 *   "PATH:LINE: layer 0 group 3 expert 5 appears twice",
 *   "PATH: layer 3 group 7 has no row for expert 5",
 *   "PATH: layer 1 group 3 routes 250 tokens (sum of tokens_first), group 0 routes 256",
 *   "PATH: layer 1 group 3 has 300 second choices, more than its 256 tokens",
 *   "PATH: expected shape must be positive, got layers=0 groups=8 experts=8", "PATH: out of memory".
 * Consistency: every group of a layer routes the same number of tokens (sum of tokens_first over experts);
 * a group has at most one second choice per token.  Layers may differ (decoder groups hold fewer tokens). */
routing_trace *routing_trace_load_csv(const char *path, int layers, int groups, int experts, errbuf *err);

/* Tokens per group of 'layer' (sum of tokens_first over the experts of group 0). */
long routing_trace_group_tokens(const routing_trace *t, int layer);

/* Checks that every group of every layer routes 'tokens_per_group[layer]' tokens, as the plan expects.
 * Returns 0, or -1 with "PATH: layer 1 routes 512 tokens per group, the plan routes 256" ('path' names the
 * trace in the message). */
int routing_trace_check_tokens(const routing_trace *t, const long *tokens_per_group, const char *path, errbuf *err);

/* Writes 't' as a routing trace CSV, rows sorted by layer, group, expert, through a temp file and rename.
 * Returns 0, or -1 with 'err' set and 'path' untouched.  With a batch (else NULL), the file appears at its
 * commit. */
int routing_trace_write_csv(atomic_batch *batch, const char *path, const routing_trace *t, errbuf *err);

#endif
