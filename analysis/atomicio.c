/* atomicio: temp file + rename writes. */
#include "analysis/atomicio.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

int atomic_check_writable(const char *opt, const char *path, errbuf *err)
{
    if (path == NULL)
        return 0;
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return errbuf_set(err, "%s: path too long", opt);
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

static atomic_batch *batch;   /* the open batch, or NULL */

void atomic_batch_begin(atomic_batch *b)
{
    b->n = 0;
    batch = b;
}

void atomic_batch_abort(atomic_batch *b)
{
    for (int i = 0; i < b->n; i++)
        unlink(b->tmp[i]);
    b->n = 0;
    if (batch == b)
        batch = NULL;
}

/* Renames in order; a failed rename removes the temp files not yet renamed, but files renamed before it stay
 * (rename cannot be undone atomically): a batch is all-or-nothing up to its first failed rename. */
int atomic_batch_commit(atomic_batch *b, errbuf *err)
{
    int rc = 0;
    for (int i = 0; i < b->n; i++) {
        if (rc == 0 && rename(b->tmp[i], b->path[i]) != 0)
            rc = errbuf_set(err, "%s: cannot rename temp file: %s", b->path[i], strerror(errno));
        if (rc != 0)
            unlink(b->tmp[i]);
    }
    b->n = 0;
    if (batch == b)
        batch = NULL;
    return rc;
}

int atomic_file_write(const char *path, atomic_writer write, const void *arg, errbuf *err)
{
    char tmp[PATH_MAX];
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
