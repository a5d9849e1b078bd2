/* platxml: a real XML parse (libexpat) of a platform file before SimGrid sees it: well-formedness and the
 * schema rules whose breach makes SimGrid 3.32 abort the process instead of returning an error.  Pure C and
 * expat, no SimGrid; the property values are platform.c's precheck. */
#ifndef SWITCHSIM_PLATXML_H
#define SWITCHSIM_PLATXML_H

#include <stddef.h>

#include "sim/common/errbuf.h"

/* Longest attribute value accepted (SimGrid's parser keeps 255 characters and aborts on more). */
#define PLATXML_ATTR_MAX 255

/* Checks the 'len' bytes of 'text' (the contents of 'path', for messages).  Returns 0, or -1 with 'err' set to
 * "PATH:LINE: ..." for the first problem:
 *   "malformed XML: REASON" (expat's reason: a closing tag that matches nothing, a truncated file, ...);
 *   "the root element is <X>, not <platform>";
 *   "<X> is not an element of a SimGrid platform file", "<X> has no attribute 'A'",
 *   "<X> needs attribute 'A'", "<X> attribute 'A' is N characters long, more than 255";
 *   "<link> attribute 'sharing_policy' must be one of SHARED, SPLITDUPLEX, FATPIPE, WIFI, got 'V'"
 *   (likewise routing, symmetrical, direction, topology);
 *   "<host> id 'X' is already used on line N" (hosts, routers, zones and clusters share one name space;
 *   links another);
 *   "<route> src 'X' is not a host or router declared before it", "<link_ctn> id 'X' is not a link declared
 *   before it" (unchecked in a file with a <cluster>, whose members' names are generated). */
int platxml_check(const char *path, const char *text, size_t len, errbuf *err);

#endif
