/* zonexml: what the torus and GPU platform generators both write into a SimGrid zone with routing="Full":
 * the hosts chip0..chip<n-1>, links, a loopback link per host, and a <route> per ordered pair of hosts.
 * Pure C (libc); each element on its own line, 4 spaces in, as the rest of the generated files. */
#ifndef SWITCHSIM_ZONEXML_H
#define SWITCHSIM_ZONEXML_H

#include <stdio.h>

/* Room for one link id of a route, with its NUL. */
#define ZONEXML_NAME_MAX 48

/* Writes the <prop> lines of one host (6 spaces in). */
typedef void (*zonexml_props_fn)(FILE *fp, const void *arg);

/* Fills names[0..k) with the ids of the links of the route from host chip<src> to host chip<dst> (src != dst),
 * in order, and returns k (at most the max_links given to zonexml_write_routes). */
typedef int (*zonexml_route_fn)(char (*names)[ZONEXML_NAME_MAX], const void *arg, int src, int dst);

/* Writes the hosts chip0..chip<n-1>, each of 'speed' flop/s (a formatted number) and 'cores' cores, with the
 * properties 'props' writes. */
void zonexml_write_hosts(FILE *fp, int n, const char *speed, int cores, zonexml_props_fn props, const void *arg);

/* Writes the link 'id' of bw B/s and lat s per message (formatted numbers). */
void zonexml_write_link(FILE *fp, const char *id, const char *bw, const char *lat);

/* Writes host r's loopback link "chip<r>_loopback": lbw B/s, no latency, FATPIPE (its flows share nothing). */
void zonexml_write_loopback(FILE *fp, int r, const char *lbw);

/* Writes the <route> of every ordered pair of the hosts chip0..chip<n-1>: a host to itself through its
 * loopback, any other pair (symmetrical="NO") through the links 'route' names.  Returns 0, or -1 when out of
 * memory. */
int zonexml_write_routes(FILE *fp, int n, int max_links, zonexml_route_fn route, const void *arg);

#endif
