/* atomicio: write a file through a temp file and rename, so a failed or interrupted write leaves
 * nothing behind and never a half-written file (Redis rdbSave; STYLE.md section 4). */
#ifndef SWITCHSIM_ATOMICIO_H
#define SWITCHSIM_ATOMICIO_H

#include <stdio.h>

#include "sim/errbuf.h"

/* Writes to 'fp'; returns 0, or -1 after filling 'err'. */
typedef int (*atomic_writer)(FILE *fp, const void *arg, errbuf *err);

/* Calls write(fp, arg, err) on a temp file next to 'path', then renames it over 'path'.
 * On any failure the temp file is removed, 'path' is untouched, and -1 is returned with 'err' set. */
int atomic_file_write(const char *path, atomic_writer write, const void *arg, errbuf *err);

#endif
