/* Check suite for analysis/atomicio: temp file + rename writes, and batches of files that appear together. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/atomicio.h"

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
    ck_assert_int_eq(atomic_file_write(a, write_text, "a\n", &err), 0);
    ck_assert_int_eq(atomic_file_write(b, write_text, "b\n", &err), 0);
    ck_assert(!exists(a) && !exists(b));          /* nothing appears before the commit */
    ck_assert_int_eq(atomic_batch_commit(&batch, &err), 0);
    ck_assert(exists(a) && exists(b));
    ck_assert_int_eq(files_in_dir(), 2);

    unlink(a);
    unlink(b);
    atomic_batch_begin(&batch);
    ck_assert_int_eq(atomic_file_write(a, write_text, "a\n", &err), 0);
    ck_assert_int_eq(atomic_file_write(b, write_fail, "b", &err), -1);   /* the second file fails */
    atomic_batch_abort(&batch);
    ck_assert(!exists(a) && !exists(b));          /* so the first does not appear either */
    ck_assert_int_eq(files_in_dir(), 0);

    ck_assert_int_eq(atomic_file_write(a, write_text, "a\n", &err), 0);   /* no batch open: immediate */
    ck_assert(exists(a));
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

static Suite *atomicio_suite(void)
{
    Suite *s = suite_create("atomicio");
    TCase *tc = tcase_create("write");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_write_and_fail);
    tcase_add_test(tc, test_batch_commit_and_abort);
    tcase_add_test(tc, test_missing_dir);
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
