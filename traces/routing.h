/* routing: routing traces, the per-layer, per-group expert counts a router produced, as a CSV that
 * `run --dump-routing` writes and `--routing trace:FILE` replays (format: traces/README.md).
 * Loading checks every field and the shape; what the counts mean for capacity is the engine's business. */
#ifndef SWITCHSIM_ROUTING_H
#define SWITCHSIM_ROUTING_H

#include <stddef.h>

#include "sim/common/atomicio.h"
#include "sim/common/errbuf.h"

/* The exact header line of a routing trace of top-1 or top-2 routing.  Top-k above 2 appends one column per later
 * choice: ",tokens_3" up to ",tokens_8" (ROUTING_RANKS_MAX choices in all). */
#define ROUTING_TRACE_HEADER "layer,group,expert,tokens_first,tokens_second"
#define ROUTING_RANKS_MAX 8

typedef struct {
    int layers;     /* Switch layers of the model, encoder then decoder (0-based index among Switch layers) */
    int groups;     /* routing groups, global 0-based index over all data shards */
    int experts;    /* experts per Switch layer */
    int ranks;      /* choice columns: 2 (first and second; top-1 has no second choices) up to ROUTING_RANKS_MAX */
    int *first;     /* (ranks, layers, groups, experts) row-major, one allocation: rank 0 is the tokens whose first
                     * choice is the expert, before capacity; rank j those whose choice j is (j = 1: 'second') */
    int *second;    /* first + layers*groups*experts: tokens whose second choice is the expert (0 for top-1) */
} routing_trace;

/* The (layers, groups, experts) counts of choice j (0 = first). */
static inline int *routing_trace_rank(const routing_trace *t, int j)
{
    return t->first + (size_t)j * (size_t)t->layers * (size_t)t->groups * (size_t)t->experts;
}

/* Offset of (layer, group, expert) in 'first' / 'second'. */
static inline size_t routing_trace_index(const routing_trace *t, int layer, int group, int expert)
{
    return ((size_t)layer * (size_t)t->groups + (size_t)group) * (size_t)t->experts + (size_t)expert;
}

/* A zeroed trace of the given shape with 2 choice columns (one malloc for the count arrays).  NULL if a dimension
 * is < 1, the size overflows, or out of memory. */
routing_trace *routing_trace_alloc(int layers, int groups, int experts);
/* The same with 'ranks' choice columns, 2 to ROUTING_RANKS_MAX (NULL otherwise): a trace of top-k = ranks > 2. */
routing_trace *routing_trace_alloc_ranks(int layers, int groups, int experts, int ranks);
void routing_trace_free(routing_trace *t);   /* NULL is a no-op */

/* Reads a routing trace CSV and checks it against the expected shape.  Rows may come in any order, but
 * every (layer, group, expert) must appear exactly once.  Returns NULL with 'err' set to one of
 *   "PATH: cannot open: REASON", "PATH: empty file, expected a header line",
 *   "PATH:LINE: malformed CSV (REASON)", "PATH:LINE: expected 5 fields, got M" (3 + the header's choice columns),
 *   "PATH:LINE: header must be 'layer,group,expert,tokens_first,tokens_second' (then tokens_3 .. tokens_8 for top-k
 *   above 2), got 'a,b'",
 *   "PATH:LINE: column 'expert' must be an integer in [0,128), got '200'"   (same for layer, group),
 *   "PATH:LINE: column 'tokens_first' must be an integer in [0,2147483647], got '-1'" (and tokens_second),
 *   "PATH:LINE: layer 0 group 3 expert 5 appears twice",
 *   "PATH: layer 3 group 7 has no row for expert 5",
 *   "PATH: layer 1 group 3 routes 250 tokens (sum of tokens_first), group 0 routes 256",
 *   "PATH: layer 1 group 3 has 300 second choices, more than its 256 tokens" (and "choices in tokens_3"),
 *   "PATH: expected shape must be positive, got layers=0 groups=8 experts=8", "PATH: out of memory".
 * Consistency: every group of a layer routes the same number of tokens (sum of tokens_first over experts);
 * a group has at most one second (third, ..) choice per token.  The trace's ranks come from its header.  Layers may differ (decoder groups hold fewer tokens). */
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
