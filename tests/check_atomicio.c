/* Check suite for sim/common/atomicio: temp file + rename writes, and batches of files that appear together. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/common/atomicio.h"

static char dir[] = "/tmp/check_atomicioXXXXXX";

static int write_text(FILE *fp, const void *arg, errbuf *err)
{
    (void)err;
    return fputs(arg, fp) < 0 ? -1 : 0;
}

static int write_fail(FILE *fp, const void *arg, errbuf *err)
{
    fputs(arg, fp);   /* half a file, then a failure */
    return errbuf_set(err, "writer failed");
}

static void path_of(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", dir, name);
}

static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* Nothing but the named files may be left in the directory (no temp files). */
static int files_in_dir(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls -A %s | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p != NULL) {
        if (fscanf(p, "%d", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    strcpy(dir, "/tmp/check_atomicioXXXXXX");
}

START_TEST(test_write_and_fail)
{
    char a[512];
    errbuf err = { "" };
    path_of(a, sizeof a, "a.txt");
    ck_assert_int_eq(atomic_file_write(a, write_text, "2.385\n", &err), 0);
    ck_assert(exists(a));
    ck_assert_int_eq(atomic_file_write(a, write_fail, "half", &err), -1);
    ck_assert_str_eq(err.msg, "writer failed");
    FILE *fp = fopen(a, "r");      /* the old file is untouched */
    char line[32] = "";
    ck_assert_ptr_nonnull(fgets(line, sizeof line, fp));
    fclose(fp);
    ck_assert_str_eq(line, "2.385\n");
    ck_assert_int_eq(files_in_dir(), 1);
}
END_TEST

START_TEST(test_batch_commit_and_abort)
{
    char a[512], b[512];
    errbuf err = { "" };
    path_of(a, sizeof a, "a.csv");
    path_of(b, sizeof b, "b.json");
    atomic_batch batch;
    atomic_batch_begin(&batch);
    ck_assert_int_eq(atomic_batch_write(&batch, a, write_text, "a\n", &err), 0);
    ck_assert_int_eq(atomic_batch_write(&batch, b, write_text, "b\n", &err), 0);
    ck_assert(!exists(a) && !exists(b));          /* nothing appears before the commit */
    ck_assert_int_eq(atomic_batch_commit(&batch, &err), 0);
    ck_assert(exists(a) && exists(b));
    ck_assert_int_eq(files_in_dir(), 2);

    unlink(a);
    unlink(b);
    atomic_batch_begin(&batch);
    ck_assert_int_eq(atomic_batch_write(&batch, a, write_text, "a\n", &err), 0);
    ck_assert_int_eq(atomic_batch_write(&batch, b, write_fail, "b", &err), -1);   /* the second file fails */
    atomic_batch_abort(&batch);
    ck_assert(!exists(a) && !exists(b));          /* so the first does not appear either */
    ck_assert_int_eq(files_in_dir(), 0);

    atomic_batch_begin(&batch);                   /* a batch is explicit: a plain write beside it is immediate */
    ck_assert_int_eq(atomic_file_write(a, write_text, "a\n", &err), 0);
    ck_assert(exists(a));
    ck_assert_int_eq(atomic_batch_write(NULL, b, write_text, "b\n", &err), 0);
    ck_assert(exists(b));
    atomic_batch_abort(&batch);
    ck_assert(exists(a) && exists(b));
}
END_TEST

START_TEST(test_missing_dir)
{
    char a[512];
    errbuf err = { "" };
    path_of(a, sizeof a, "no/such/a.txt");
    ck_assert_int_eq(atomic_file_write(a, write_text, "x", &err), -1);
    char want[600];
    snprintf(want, sizeof want, "%s: cannot create temp file: No such file or directory", a);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

static void read_file(char *buf, size_t n, const char *path)
{
    FILE *fp = fopen(path, "r");
    ck_assert_ptr_nonnull(fp);
    buf[0] = '\0';
    ck_assert_ptr_nonnull(fgets(buf, (int)n, fp));
    fclose(fp);
}

/* A FIFO (as /dev/null or /dev/stdout) is never replaced by a regular file: refused, before and at the write. */
START_TEST(test_not_regular)
{
    char f[512], d[512], want[800];
    errbuf err = { "" };
    path_of(f, sizeof f, "fifo");
    ck_assert_int_eq(mkfifo(f, 0600), 0);
    ck_assert_int_eq(atomic_file_write(f, write_text, "x\n", &err), -1);
    snprintf(want, sizeof want, "%s: cannot write: not a regular file (a device, FIFO or socket); outputs are only "
             "written to regular files", f);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(atomic_check_writable("--csv", f, &err), -1);
    snprintf(want, sizeof want, "--csv: cannot write '%s': not a regular file (a device, FIFO or socket); outputs "
             "are only written to regular files", f);
    ck_assert_str_eq(err.msg, want);
    struct stat st;
    ck_assert_int_eq(lstat(f, &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));                 /* still a FIFO */
    path_of(d, sizeof d, "sub");
    ck_assert_int_eq(mkdir(d, 0700), 0);
    ck_assert_int_eq(atomic_check_writable("--trace", d, &err), -1);
    snprintf(want, sizeof want, "--trace: cannot write '%s': is a directory", d);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(atomic_check_writable("--csv", "/dev/null", &err), -1);   /* checked only: never written */
    ck_assert_int_eq(files_in_dir(), 2);             /* no temp file left */
}
END_TEST

/* A symbolic link to a regular file: the file gets the new bytes, the link stays a link. */
START_TEST(test_symlink)
{
    char real[512], link_[512], dangling[512], buf[64];
    errbuf err = { "" };
    path_of(real, sizeof real, "real.csv");
    path_of(link_, sizeof link_, "link.csv");
    path_of(dangling, sizeof dangling, "dangling.csv");
    ck_assert_int_eq(atomic_file_write(real, write_text, "old\n", &err), 0);
    ck_assert_int_eq(symlink("real.csv", link_), 0);
    ck_assert_int_eq(atomic_check_writable("--csv", link_, &err), 0);
    ck_assert_int_eq(atomic_file_write(link_, write_text, "new\n", &err), 0);
    struct stat st;
    ck_assert_int_eq(lstat(link_, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    read_file(buf, sizeof buf, real);
    ck_assert_str_eq(buf, "new\n");
    ck_assert_int_eq(symlink("nowhere/x.csv", dangling), 0);
    ck_assert_int_eq(atomic_file_write(dangling, write_text, "x\n", &err), -1);
    ck_assert_int_eq(lstat(dangling, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    ck_assert_int_eq(files_in_dir(), 3);
}
END_TEST

/* A rename that fails in the middle of a commit puts back the files renamed before it. */
START_TEST(test_batch_all_or_nothing)
{
    char a[512], b[512], c[512], buf[64];
    errbuf err = { "" };
    path_of(a, sizeof a, "a.csv");
    path_of(b, sizeof b, "b.json");
    path_of(c, sizeof c, "c.csv");
    ck_assert_int_eq(atomic_file_write(a, write_text, "old a\n", &err), 0);
    atomic_batch batch;
    atomic_batch_begin(&batch);
    ck_assert_int_eq(atomic_batch_write(&batch, a, write_text, "new a\n", &err), 0);
    ck_assert_int_eq(atomic_batch_write(&batch, c, write_text, "new c\n", &err), 0);
    ck_assert_int_eq(atomic_batch_write(&batch, b, write_text, "new b\n", &err), 0);
    ck_assert_int_eq(mkdir(b, 0700), 0);             /* b becomes a folder before the commit: its rename fails */
    ck_assert_int_eq(atomic_batch_commit(&batch, &err), -1);
    read_file(buf, sizeof buf, a);
    ck_assert_str_eq(buf, "old a\n");                /* put back */
    ck_assert(!exists(c));                           /* new: removed */
    ck_assert_int_eq(files_in_dir(), 2);             /* a and the folder b: no temp file, no backup */
}
END_TEST

static Suite *atomicio_suite(void)
{
    Suite *s = suite_create("atomicio");
    TCase *tc = tcase_create("write");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_write_and_fail);
    tcase_add_test(tc, test_batch_commit_and_abort);
    tcase_add_test(tc, test_missing_dir);
    tcase_add_test(tc, test_not_regular);
    tcase_add_test(tc, test_symlink);
    tcase_add_test(tc, test_batch_all_or_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(atomicio_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
