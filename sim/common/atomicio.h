/* atomicio: write a file through a temp file and rename, so a failed or interrupted write leaves
 * nothing behind and never a half-written file (as Redis rdbSave). */
#ifndef SWITCHSIM_ATOMICIO_H
#define SWITCHSIM_ATOMICIO_H

#include <stdio.h>

#include "sim/common/errbuf.h"

/* Writes to 'fp'; returns 0, or -1 after filling 'err'. */
typedef int (*atomic_writer)(FILE *fp, const void *arg, errbuf *err);

/* Calls write(fp, arg, err) on a temp file next to 'path', then renames it over 'path'.
 * On any failure the temp file is removed, 'path' is untouched, and -1 is returned with 'err' set.
 * A symbolic link to a regular file is followed: its file is replaced and the link stays.  A target that
 * exists and is not a regular file is refused, never replaced: "PATH: cannot write: is a directory",
 * "PATH: cannot write: not a regular file (a device, FIFO or socket); outputs are only written to regular
 * files" (/dev/null, a FIFO, /dev/stdout), "PATH: cannot write: a symbolic link to nothing (REASON); ...". */
int atomic_file_write(const char *path, atomic_writer write, const void *arg, errbuf *err);

/* Checks before any work that 'path' could be written: it is new or a regular file (as atomic_file_write
 * requires: "OPT: cannot write 'PATH': is a directory", "...: not a regular file (...)") and its directory
 * exists and is writable: "OPT: cannot write 'PATH': directory 'DIR' is missing or not writable". */
int atomic_check_writable(const char *opt, const char *path, errbuf *err);

/* Several files that must appear together (a run's CSV, timeline and routing dump): atomic_batch_write
 * leaves each file as its temp file in the batch, atomic_batch_commit renames them all, atomic_batch_abort
 * removes them all.  The rule: "write all the temp files first, then rename them all". */
#define ATOMIC_BATCH_MAX 8
typedef struct {
    int n;
    char tmp[ATOMIC_BATCH_MAX][4096];
    char path[ATOMIC_BATCH_MAX][4096];
} atomic_batch;

void atomic_batch_begin(atomic_batch *b);
/* As atomic_file_write, but the file appears only at atomic_batch_commit(b).  b NULL: at once, as
 * atomic_file_write. */
int atomic_batch_write(atomic_batch *b, const char *path, atomic_writer write, const void *arg, errbuf *err);
/* -1 if a rename failed: then every target is as before the commit (replaced files put back from a hard
 * link, new ones removed) and the temp files are removed. */
int atomic_batch_commit(atomic_batch *b, errbuf *err);
void atomic_batch_abort(atomic_batch *b);

#endif
