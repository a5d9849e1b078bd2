/* fixtures: shared helpers of the Check suites: presets built in code (no dependence on models/models.csv),
 * reading a whole output file, and a temporary folder with small input files written into it. */
#ifndef SWITCHSIM_TEST_FIXTURES_H
#define SWITCHSIM_TEST_FIXTURES_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/model.h"
#include "topologies/chip.h"

/* The chip preset called 'name' (it must exist), in static storage that outlives the test: 8 slots used in
 * turn, so a test may hold up to 8 presets at once. */
static inline const chip_spec *fixture_chip(const char *name)
{
    static chip_spec slots[8];
    static int next;
    chip_spec *c = &slots[next++ % 8];
    ck_assert_int_eq(chip_preset(c, name), 0);
    return c;
}

/* The whole file at 'path', NUL-terminated (the caller frees it); *len (may be NULL) gets its size. */
static inline char *fixture_slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(fread(s, 1, (size_t)n, fp), (size_t)n);
    s[n] = '\0';
    fclose(fp);
    if (len != NULL)
        *len = (size_t)n;
    return s;
}

/* A fresh folder /tmp/TAG.XXXXXX into dir (at least 64 bytes). */
static inline void fixture_tmpdir(char *dir, size_t n, const char *tag)
{
    snprintf(dir, n, "/tmp/%s.XXXXXX", tag);
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Removes the folder and everything in it. */
static inline void fixture_tmpdir_remove(const char *dir)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Writes 'text' to dir/name and returns the path (a static buffer, valid until the next call). */
static inline const char *fixture_write(const char *dir, const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    ck_assert_int_eq(fclose(fp), 0);
    return path;
}

/* Defines, in a suite, 'tmpdir', setup() and teardown() (a fresh /tmp/TAG.XXXXXX per test, removed after it)
 * and write_tmp(name, text) (fixture_write into it). */
#define FIXTURE_TMPDIR_SUITE(tag)                                                                              \
    static char tmpdir[64];                                                                                    \
    static void setup(void) { fixture_tmpdir(tmpdir, sizeof tmpdir, tag); }                                     \
    static void teardown(void) { fixture_tmpdir_remove(tmpdir); }                                              \
    static const char *write_tmp(const char *name, const char *text) { return fixture_write(tmpdir, name, text); }

/* switch-base as in models/models.csv: SOURCES 1.2 switch_base.gin (ReLU 3072, 128 experts every other
 * layer, group 8192, min capacity 4), 512/114 tokens, 2^20 tokens per batch. */
static inline model_cfg fixture_switch_base(void)
{
    model_cfg m;
    memset(&m, 0, sizeof m);
    strcpy(m.name, "switch-base");
    m.d_model = 768;
    m.d_ff = 3072;
    m.act = MODEL_ACT_RELU;
    m.heads = 12;
    m.d_kv = 64;
    m.enc_layers = 12;
    m.dec_layers = 12;
    m.expert_every = 2;
    m.experts = 128;
    m.vocab = 32128;
    m.enc_seq = 512;
    m.dec_seq = 114;
    m.tokens_per_batch = 1048576;
    m.capacity_factor = 1.25;
    m.group_size = 8192;
    m.min_capacity = 4;
    m.top_k = 1;
    return m;
}

#endif
