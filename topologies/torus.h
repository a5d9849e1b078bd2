/* torus: the X x Y (x Z) torus of TPU chips (presets: topologies/chip.h): coordinates, hop counts,
 * dimension-ordered routes, and the SimGrid platform XML generator.  Pure C (libc + errbuf): no SimGrid here;
 * sim/platform.c reads the generated files back through SimGrid. */
#ifndef SWITCHSIM_TORUS_H
#define SWITCHSIM_TORUS_H

#include <stdio.h>

#include "sim/common/errbuf.h"
#include "topologies/chip.h"

#define TORUS_MAX_DIMS 3
#define TORUS_DIM_MAX 1024          /* largest size of one dimension '--torus' accepts */
#define TORUS_CHIPS_MAX 65536       /* largest chip count (TPUv4 pod: 16x16x16 = 4096 chips, SOURCES 5.1) */
/* A torus that is not wrapped in every dimension is written with one explicit <route> per ordered chip pair
 * (SimGrid has no mesh cluster).  That is N*(N-1) routes: 256 chips give 65280 routes, about 20 MB of XML. */
#define TORUS_EXPLICIT_CHIPS_MAX 256

/* The whole chip's HBM bandwidth, used as the loopback (core-to-core on one chip) bandwidth. */
double torus_chip_loopback_Bps(const chip_spec *c);

typedef struct {
    int ndims;                    /* 2 or 3 */
    int dims[TORUS_MAX_DIMS];     /* X, Y (, Z) in chips; 1 past ndims */
    int wrap[TORUS_MAX_DIMS];     /* 1 where the dimension is a ring (wraparound link), else 0 */
} torus_shape;

typedef enum { TORUS_WRAP_AUTO, TORUS_WRAP_ALL, TORUS_WRAP_NONE } torus_wrap_mode;

/* Parses "XxY" or "XxYxZ" (sep 'x'), or "X,Y" / "X,Y,Z" (sep ','): every size an integer in
 * [1, TORUS_DIM_MAX] and at most TORUS_CHIPS_MAX chips.  A single size "N" is the ring (or line) N x 1.  Sets wrap to 0.  Returns 0, or -1 leaving *t
 * untouched (the caller words the message, since it knows where the text came from). */
int torus_parse(torus_shape *t, const char *s, char sep);
/* Sets t->wrap: AUTO wraps a dimension whose size is a multiple of c->wrap_unit (a complete ring, as on
 * the real machines: SOURCES 5.1 wraparound caveat), ALL wraps every dimension, NONE none.  A dimension
 * of size 1 never wraps (a ring of one chip has no link). */
void torus_set_wrap(torus_shape *t, torus_wrap_mode mode, const chip_spec *c);
int torus_nchips(const torus_shape *t);
/* 1 when every dimension wraps (the platform is a SimGrid TORUS cluster), else 0. */
int torus_fully_wrapped(const torus_shape *t);
/* coord (ndims) <- coordinates of chip 'rank' = x + X*(y + Y*z). */
void torus_coords(int *coord, const torus_shape *t, int rank);
int torus_rank(const torus_shape *t, const int *coord);

/* One directed link: the one leaving 'chip' along dimension 'dim' towards coordinate +1 (dir = +1) or -1. */
typedef struct {
    int chip;
    int dim;
    int dir;
} torus_link;

/* Direction (+1, -1, or 0 when equal) of the next hop from coordinate 'from' to 'to' along 'dim'.
 * Non-wrapped: the sign of to - from.  Wrapped: the shorter way round; a tie (distance exactly size/2) goes
 * the way SimGrid's TORUS cluster routes it (+ except from size/2 to 0), so both platform forms agree. */
int torus_step(const torus_shape *t, int dim, int from, int to);
/* Number of links on the dimension-ordered route from chip src to chip dst (0 when equal). */
int torus_hops(const torus_shape *t, int src, int dst);
/* Longest route in hops: the room torus_route needs. */
int torus_max_hops(const torus_shape *t);
/* links (hops) <- the dimension-ordered route from src to dst: x first, then y, then z, one hop at a time
 * with torus_step.  'links' has room for torus_max_hops(t).  Returns the number of hops. */
int torus_route(torus_link *links, const torus_shape *t, int src, int dst);
/* Directed inter-chip links: 2 per edge, and a dimension of size n has n edges per ring when wrapped,
 * n - 1 otherwise. */
int torus_link_count(const torus_shape *t);
/* 1 when link 'l' exists in the torus (within bounds, and a wraparound only on a wrapped dimension). */
int torus_link_exists(const torus_shape *t, torus_link l);
/* Writes the link's platform name, "chip<r>_<x|y|z><+|->", into buf (size n). */
void torus_link_name(char *buf, size_t n, torus_link l);

/* What the generator writes. */
typedef struct {
    const chip_spec *chip;       /* a TPU chip (chip_preset) */
    torus_shape shape;           /* wrap already decided */
    double link_Bps;             /* per link per direction, > 0 */
    double link_lat_s;           /* per hop, >= 0 */
} torus_platform;

/* Checks that p can be written (numbers in range; a torus that is not fully wrapped has at most
 * TORUS_EXPLICIT_CHIPS_MAX chips).  Returns 0, or -1 with err. */
int torus_platform_check(const torus_platform *p, errbuf *err);
/* Writes the SimGrid platform XML of p to fp (after torus_platform_check).  Fully wrapped: one
 * cluster topology="TORUS", SPLITDUPLEX.  Otherwise: a routing="Full" zone with one link per direction per
 * edge and an explicit dimension-ordered route per ordered pair of chips.  In both forms host "chip<r>" has
 * 'core' = cores per chip, speed = bf16 peak per core, and the TPU properties of the chip table (chip.h) with
 * the platform's shape and link numbers.
 * Returns 0, or -1 with err (check failed or a write error). */
int torus_write_xml(FILE *fp, const torus_platform *p, errbuf *err);
/* Writes "XxY" or "XxYxZ" into buf (size n). */
void torus_format_size(char *buf, size_t n, const torus_shape *t);

#endif
