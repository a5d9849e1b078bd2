/* platxml: the one XML parse (libexpat) of a platform file before SimGrid sees it: well-formedness and the
 * schema rules whose breach makes SimGrid 3.32 abort the process instead of returning an error, and every
 * element handed to a caller's check (platform.c checks the numbers and the host properties there).  Pure C and
 * expat, no SimGrid. */
#ifndef SWITCHSIM_PLATXML_H
#define SWITCHSIM_PLATXML_H

#include <stddef.h>

#include "sim/common/errbuf.h"

/* Longest attribute value accepted (SimGrid's parser keeps 255 characters and aborts on more). */
#define PLATXML_ATTR_MAX 255

/* A caller's check of one element, called in document order once the element has passed the checks below:
 * 'atts' are its attributes as name, value pairs ending in NULL, 'line' the line of its start tag.  Returns 0,
 * or -1 after setting 'err' to the whole message ("PATH:LINE: ..."), which stops the parse. */
typedef int (*platxml_elem_fn)(void *arg, const char *elem, const char **atts, long line, errbuf *err);

/* Parses the 'len' bytes of 'text' (the contents of 'path', for messages), calling elem(arg, ...) for every
 * element when 'elem' is not NULL.  Returns 0, or -1 with 'err' set to "PATH:LINE: ..." for the first problem
 * (or to elem's message):
 *   "malformed XML: REASON" (expat's reason: a closing tag that matches nothing, a truncated file, an
 *   unterminated comment, tag or attribute value, ...), after "not a SimGrid platform file (no <platform>
 *   element): " when it comes before any element;
 *   "the root element is <X>, not <platform>";
 *   "<X> is not an element of a SimGrid platform file", "<X> has no attribute 'A'",
 *   "<X> needs attribute 'A'", "<X> attribute 'A' is N characters long, more than 255";
 *   "<link> attribute 'sharing_policy' must be one of SHARED, SPLITDUPLEX, FATPIPE, WIFI, got 'V'"
 *   (likewise routing, symmetrical, direction, topology);
 *   "<host> id 'X' is already used on line N" (hosts, routers, zones and clusters share one name space;
 *   links another);
 *   "<route> src 'X' is not a host or router declared before it", "<link_ctn> id 'X' is not a link declared
 *   before it" (unchecked in a file with a <cluster>, whose members' names are generated). */
int platxml_check(const char *path, const char *text, size_t len, platxml_elem_fn elem, void *arg, errbuf *err);

#endif
