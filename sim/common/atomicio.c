/* atomicio: temp file + rename writes. */
#define _XOPEN_SOURCE 700   /* realpath */
#include "sim/common/atomicio.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* dest <- the file a write to 'path' replaces: 'path' itself, or the regular file a symbolic link at 'path'
 * points to (so the link stays a link).  A target that exists and is not a regular file (a directory, a
 * device such as /dev/null, a FIFO, a socket, /dev/stdout) is refused: rename would replace it with a file.
 * Returns 0, or -1 with 'why' set to the reason. */
static int resolve_target(char *dest, size_t cap, const char *path, char *why, size_t why_cap)
{
    struct stat lst, st;
    if (lstat(path, &lst) != 0) {
        if (errno != ENOENT) {
            snprintf(why, why_cap, "%s", strerror(errno));
            return -1;
        }
        if (snprintf(dest, cap, "%s", path) >= (int)cap) {
            snprintf(why, why_cap, "path too long");
            return -1;
        }
        return 0;                                   /* a new file */
    }
    if (stat(path, &st) != 0) {
        snprintf(why, why_cap, "a symbolic link to nothing (%s); outputs are only written to regular files",
                 strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(why, why_cap, "is a directory");
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, why_cap, "not a regular file (a device, FIFO or socket); outputs are only written to "
                 "regular files");
        return -1;
    }
    if (!S_ISLNK(lst.st_mode)) {
        if (snprintf(dest, cap, "%s", path) >= (int)cap) {
            snprintf(why, why_cap, "path too long");
            return -1;
        }
        return 0;
    }
    char *real = realpath(path, NULL);
    if (real == NULL || strlen(real) >= cap) {
        snprintf(why, why_cap, "cannot resolve the symbolic link: %s", real == NULL ? strerror(errno) : "too long");
        free(real);
        return -1;
    }
    strcpy(dest, real);
    free(real);
    return 0;
}

int atomic_check_writable(const char *opt, const char *path, errbuf *err)
{
    if (path == NULL)
        return 0;
    char dir[PATH_MAX], why[256];
    if (resolve_target(dir, sizeof dir, path, why, sizeof why) != 0)
        return errbuf_set(err, "%s: cannot write '%s': %s", opt, path, why);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    if (access(dir, W_OK) != 0)
        return errbuf_set(err, "%s: cannot write '%s': directory '%s' is missing or not writable", opt, path, dir);
    return 0;
}

void atomic_batch_begin(atomic_batch *b)
{
    b->n = 0;
}

void atomic_batch_abort(atomic_batch *b)
{
    for (int i = 0; i < b->n; i++)
        unlink(b->tmp[i]);
    b->n = 0;
}

/* All or nothing: each target that exists keeps a hard link (PATH.bakPID) until every rename succeeded; a
 * failed rename puts the earlier targets back (or removes the ones that were new) and removes the temp
 * files.  Where a hard link cannot be made (a file system without them) that target cannot be put back. */
int atomic_batch_commit(atomic_batch *b, errbuf *err)
{
    int rc = 0, done = 0;
    char bak[ATOMIC_BATCH_MAX][PATH_MAX + 32];
    int has_bak[ATOMIC_BATCH_MAX];
    for (int i = 0; i < b->n; i++) {
        has_bak[i] = 0;
        if (access(b->path[i], F_OK) == 0) {
            snprintf(bak[i], sizeof bak[i], "%s.bak%ld", b->path[i], (long)getpid());
            unlink(bak[i]);
            has_bak[i] = link(b->path[i], bak[i]) == 0;
        }
    }
    for (; done < b->n; done++)
        if (rename(b->tmp[done], b->path[done]) != 0) {
            rc = errbuf_set(err, "%s: cannot rename temp file: %s", b->path[done], strerror(errno));
            break;
        }
    for (int i = 0; i < b->n; i++) {
        if (rc != 0 && i < done) {                  /* undo this one */
            if (has_bak[i])
                rename(bak[i], b->path[i]);
            else
                unlink(b->path[i]);
        }
        if (rc != 0 && i >= done)
            unlink(b->tmp[i]);
        if (has_bak[i])
            unlink(bak[i]);
    }
    b->n = 0;
    return rc;
}

int atomic_file_write(const char *path, atomic_writer write, const void *arg, errbuf *err)
{
    return atomic_batch_write(NULL, path, write, arg, err);
}

int atomic_batch_write(atomic_batch *batch, const char *path, atomic_writer write, const void *arg, errbuf *err)
{
    char tmp[PATH_MAX], dest[PATH_MAX], why[256];
    if (resolve_target(dest, sizeof dest, path, why, sizeof why) != 0)
        return errbuf_set(err, "%s: cannot write: %s", path, why);
    path = dest;                                     /* a symbolic link's file, so the link stays */
    if (snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path) >= (int)sizeof tmp)
        return errbuf_set(err, "%s: path too long", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return errbuf_set(err, "%s: cannot create temp file: %s", path, strerror(errno));
    (void)fchmod(fd, 0644);                          /* mkstemp makes 0600 */
    FILE *fp = fdopen(fd, "w");
    if (fp == NULL) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return errbuf_set(err, "%s: %s", path, strerror(e));
    }
    int rc = write(fp, arg, err);
    if (rc == 0 && ferror(fp))
        rc = errbuf_set(err, "%s: write failed", path);
    if (rc == 0 && (fflush(fp) != 0 || fsync(fileno(fp)) != 0))   /* on disk before the rename makes it visible */
        rc = errbuf_set(err, "%s: write failed: %s", path, strerror(errno));
    if (fclose(fp) != 0 && rc == 0)
        rc = errbuf_set(err, "%s: write failed: %s", path, strerror(errno));
    if (rc == 0 && batch != NULL) {      /* renamed at atomic_batch_commit */
        if (batch->n == ATOMIC_BATCH_MAX)
            rc = errbuf_set(err, "%s: more than %d files in one atomic batch", path, ATOMIC_BATCH_MAX);
        else if (strlen(tmp) >= sizeof batch->tmp[0] || strlen(path) >= sizeof batch->path[0])
            rc = errbuf_set(err, "%s: path too long", path);
        else {
            strcpy(batch->tmp[batch->n], tmp);
            strcpy(batch->path[batch->n], path);
            batch->n++;
            return 0;
        }
    }
    if (rc == 0 && rename(tmp, path) != 0)
        rc = errbuf_set(err, "%s: cannot rename temp file: %s", path, strerror(errno));
    if (rc != 0)
        unlink(tmp);
    return rc;
}
