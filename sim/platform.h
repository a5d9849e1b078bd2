/* platform: checks a platform XML before SimGrid sees it, and reads the chip's numbers and the torus shape
 * back from the host properties once SimGrid has loaded it.  Not a generator (topologies/torus.h is). */
#ifndef SWITCHSIM_PLATFORM_H
#define SWITCHSIM_PLATFORM_H

#include "sim/cost.h"
#include "sim/errbuf.h"

typedef struct {
    int ndims;           /* 2 or 3 */
    int dims[3];         /* chips per dimension; 1 past ndims */
    int wrap[3];         /* 1 where the dimension has wraparound links */
    int nchips;          /* product of dims = number of hosts "chip0".."chip<n-1>" */
    double link_Bps;     /* per link per direction */
    double link_lat_s;   /* per hop */
} platform_torus;

/* Before simgrid_load_platform(path): SimGrid aborts the process on a bad platform, so this checks what can
 * be checked as text: the file is readable and is a <platform>; every bandwidth, latency, speed and core
 * count attribute is a number > 0 (latency >= 0) with a SimGrid unit; every required host property
 * (topologies/README.md) is present and well formed.  Messages name the file, the line and the field, e.g.
 * "FILE:12: <link> attribute 'bandwidth' must be a bandwidth > 0 such as '100GBps', got '-1GBps'" or
 * "FILE: missing required property 'hbm_Bps_per_core'".  Returns 0, or -1 with err. */
int platform_precheck(const char *path, errbuf *err);

/* After simgrid_load_platform(path): reads chip0's properties into *chip and *torus, and checks that the
 * platform matches them: hosts chip0..chip<n-1> exist and are all there is, every host has the same
 * properties and core count, host speed = bf16_flops_per_core, and the first torus link has link_Bps and
 * link_lat_s.  Messages name the file and the property, e.g.
 * "FILE: property 'hbm_Bps_per_core' must be a number > 0, got 'abc'".
 * Returns 0, or -1 with err leaving *chip and *torus untouched. */
int platform_read(cost_chip *chip, platform_torus *torus, const char *path, errbuf *err);

#endif
