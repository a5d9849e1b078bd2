/* timeline: the events of a simulated step, per core, written as Chrome trace-event JSON that Perfetto
 * (ui.perfetto.dev) and chrome://tracing open.  One process per chip, two threads per core (compute, comm);
 * times are microseconds of simulated time.  Format details: traces/README.md.  No SimGrid here. */
#ifndef SWITCHSIM_TIMELINE_H
#define SWITCHSIM_TIMELINE_H

#include "sim/common/atomicio.h"
#include "sim/common/errbuf.h"

typedef enum { TL_COMPUTE = 0, TL_COMM = 1 } timeline_thread;

typedef struct timeline timeline;

/* An empty timeline for nchips x cores_per_chip cores; global core c lives on chip c / cores_per_chip.
 * core_mask (nchips * cores_per_chip), nonzero = record this core, is copied; NULL records every core.
 * NULL if a count is < 1, the product overflows an int, or out of memory. */
timeline *timeline_alloc(int nchips, int cores_per_chip, const int *core_mask);
void timeline_free(timeline *tl);   /* NULL is a no-op */

/* Records one event of global core 'core' on thread 'th', from t0_s to t1_s seconds of simulated time.
 * 'name' is the op ("router", "dispatch", "a2a", "expert_ffn", "combine", "allreduce", "attention", "idle",
 * ...), 'layer' the model layer (-1 for none), 'phase' e.g. "fwd"/"bwd" or NULL; both strings are copied
 * (interned once each).  An event of a masked-out core is ignored.  An invalid event (core out of range,
 * unknown thread, NULL name, layer < -1, t0_s < 0, t1_s < t0_s, NaN) is not recorded but counted, and makes
 * timeline_write_json fail: it is a bug in the caller, not input.  Returns 0, or -1 on out of memory only
 * (the timeline is unchanged then).  Amortised O(1): an append and two short string hashes. */
int timeline_add(timeline *tl, int core, timeline_thread th, const char *name, int layer, const char *phase,
                 double t0_s, double t1_s);

/* Events recorded so far (masked-out and invalid ones excluded). */
long timeline_count(const timeline *tl);

/* Pairs of consecutive events on one thread (after sorting by start) where the later one starts before the
 * earlier one ends, at the JSON's nanosecond resolution.  0 for a well-formed trace.  -1 on out of memory. */
long timeline_overlaps(const timeline *tl);

/* Writes the JSON through a temp file and rename.  Events are sorted (chip, core, thread, start, end, name,
 * layer, phase) so the same events give the same bytes whatever order they were added in.  Returns 0, or -1
 * with 'err' set and 'path' untouched: "PATH: 2 invalid timeline events, first: core 40 not in [0,32)",
 * "PATH: out of memory", or an I/O error.  With a batch (else NULL), the file appears at its commit. */
int timeline_write_json(atomic_batch *batch, const char *path, const timeline *tl, errbuf *err);

/* Parses a --trace-cores list such as "0-3,8,12-15" (cores or inclusive ranges A-B, comma-separated,
 * duplicates allowed) into mask (ncores): 1 for a listed core, 0 otherwise.  Returns 0, or -1 with 'err' set
 * and 'mask' untouched:
 *   "--trace-cores must list cores like '0-3,8', got ''",
 *   "--trace-cores: empty item in '0,,3'",
 *   "--trace-cores: 'x' is not a core or a range A-B",
 *   "--trace-cores: '32-40' is not within cores [0,32)",
 *   "--trace-cores: range '5-3' is reversed". */
int timeline_parse_cores(int *mask, int ncores, const char *spec, errbuf *err);

#endif
