/* published: the rows of 'switchsim validate' that compare whole simulated steps with published measurements
 * (GShard Table 3 on 128 to 2048 TPUv3 cores [SOURCES 6.1]), shown as calibration rows: the accounting they are
 * run with was chosen by looking at them.  Each step runs in its own process. */
#ifndef SWITCHSIM_PUBLISHED_H
#define SWITCHSIM_PUBLISHED_H

#include <stddef.h>

#include "fidelity/validate.h"
#include "sim/common/errbuf.h"

/* Where a shipped data file is: the path of 'rel' ("models/gshard.csv"), in 'buf' (n bytes) or 'rel' itself.
 * The program's cmd_data_path. */
typedef const char *(*published_find)(const char *rel, char *buf, size_t n);

/* Adds GShard Table 3's step times as calibration rows (shown, not scored), each simulated on its torus, each
 * note with the model FLOP rate per chip the published time implies under the accounting of models/gshard.csv
 * (and whether that is over the chip's peak).  'quick' skips the 2048-core rows.  Returns 0, or -1 with 'err'
 * when a step cannot run. */
int published_gshard(vreport *r, published_find find, int quick, errbuf *err);

#endif
