/* check_model: the preset loader (models/model.c) on models/models.csv, on a user's file and on every bad
 * fixture tests/data/models_*.csv (exact messages), and the parameter / FLOP counts against Table 9. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/model.h"

#define PRESETS "models/models.csv"

static model_set *load_presets(void)
{
    errbuf err = { "" };
    model_set *s = model_set_load_csv(PRESETS, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    return s;
}

static const model_cfg *preset(const model_set *s, const char *name)
{
    const model_cfg *m = model_set_find(s, name);
    ck_assert_msg(m != NULL, "preset '%s' missing", name);
    return m;
}

/* ---- loader: the shipped presets -------------------------------------------------------------- */

START_TEST(test_presets_rows)
{
    static const char *NAMES[] = { "t5-base", "t5-large", "t5-xxl", "switch-base", "switch-base-plus",
                                   "moe-base", "switch-large", "switch-xxl", "switch-c" };
    model_set *s = load_presets();
    ck_assert_int_eq(s->n, 9);
    for (int i = 0; i < 9; i++)
        ck_assert_str_eq(s->rows[i].name, NAMES[i]);

    const model_cfg *c = preset(s, "switch-c");   /* every field of one row, as in switch_c.gin */
    ck_assert_int_eq(c->d_model, 2080);
    ck_assert_int_eq(c->d_ff, 6144);
    ck_assert_int_eq(c->act, MODEL_ACT_RELU);
    ck_assert_int_eq(c->heads, 30);
    ck_assert_int_eq(c->d_kv, 64);
    ck_assert_int_eq(c->enc_layers, 15);
    ck_assert_int_eq(c->dec_layers, 15);
    ck_assert_int_eq(c->expert_every, 1);
    ck_assert_int_eq(c->experts, 2048);
    ck_assert_int_eq(c->vocab, 32128);
    ck_assert_int_eq(c->enc_seq, 512);
    ck_assert_int_eq(c->dec_seq, 114);
    ck_assert_int_eq(c->tokens_per_batch, 1048576);
    ck_assert_double_eq(c->capacity_factor, 1.0);
    ck_assert_int_eq(c->group_size, 2048);
    ck_assert_int_eq(c->min_capacity, 2);
    ck_assert_int_eq(c->top_k, 1);

    const model_cfg *x = preset(s, "switch-xxl");
    ck_assert_int_eq(x->act, MODEL_ACT_GEGLU);
    ck_assert_int_eq(x->experts, 128);
    ck_assert_int_eq(preset(s, "moe-base")->top_k, 2);
    /* implementation profiles: the Switch presets ran Mesh TF, the dense ones are Flaxformer's (models/README) */
    ck_assert_int_eq(preset(s, "switch-base")->impl, MODEL_IMPL_MESHTF);
    ck_assert_int_eq(preset(s, "moe-base")->impl, MODEL_IMPL_MESHTF);
    ck_assert_int_eq(preset(s, "t5-base")->impl, MODEL_IMPL_FLAXFORMER);
    ck_assert_str_eq(model_impl_name(MODEL_IMPL_LINGVO), "lingvo");
    ck_assert_str_eq(model_impl_name((model_impl)7), "?");
    ck_assert_int_eq(preset(s, "switch-base-plus")->d_model, 896);
    ck_assert_int_eq(preset(s, "switch-base-plus")->heads, 16);
    ck_assert_int_eq(preset(s, "t5-xxl")->expert_every, 0);
    ck_assert_int_eq(preset(s, "t5-xxl")->experts, 1);
    model_set_free(s);
}
END_TEST

START_TEST(test_find)
{
    model_set *s = load_presets();
    ck_assert_ptr_eq(model_set_find(s, "switch-large"), &s->rows[6]);
    ck_assert_ptr_null(model_set_find(s, "switch-larg"));
    ck_assert_ptr_null(model_set_find(s, "Switch-Large"));
    ck_assert_ptr_null(model_set_find(s, NULL));
    ck_assert_ptr_null(model_set_find(NULL, "switch-c"));
    model_set_free(s);
    model_set_free(NULL);   /* no-op */
}
END_TEST

/* Columns in another order, an extra 'notes' column with a quoted comma and quotes, CRLF line ends,
 * a blank line and no final newline. */
START_TEST(test_user_file)
{
    errbuf err = { "" };
    model_set *s = model_set_load_csv("tests/data/models_good_user.csv", &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_int_eq(s->n, 2);
    const model_cfg *a = &s->rows[0], *b = &s->rows[1];
    ck_assert_str_eq(a->name, "tiny");
    ck_assert_int_eq(a->d_model, 64);
    ck_assert_int_eq(a->d_ff, 256);
    ck_assert_int_eq(a->act, MODEL_ACT_RELU);
    ck_assert_int_eq(a->heads, 4);
    ck_assert_int_eq(a->d_kv, 16);
    ck_assert_int_eq(a->enc_layers, 2);
    ck_assert_int_eq(a->dec_layers, 2);
    ck_assert_int_eq(a->expert_every, 2);
    ck_assert_int_eq(a->experts, 8);
    ck_assert_int_eq(a->vocab, 1000);
    ck_assert_int_eq(a->enc_seq, 32);
    ck_assert_int_eq(a->dec_seq, 8);
    ck_assert_int_eq(a->tokens_per_batch, 1024);
    ck_assert_double_eq(a->capacity_factor, 1.25);
    ck_assert_int_eq(a->group_size, 64);
    ck_assert_int_eq(a->min_capacity, 4);
    ck_assert_int_eq(a->top_k, 1);
    ck_assert_str_eq(b->name, "top2");
    ck_assert_int_eq(b->top_k, 2);
    ck_assert_int_eq(b->expert_every, 1);
    ck_assert_int_eq(b->act, MODEL_ACT_GEGLU);
    ck_assert_int_eq(a->impl, MODEL_IMPL_FLAXFORMER);   /* no 'impl' column: the default */
    model_set_free(s);
}
END_TEST

/* A UTF-8 byte-order mark before the header (as spreadsheet programs write) is not part of the first column. */
START_TEST(test_load_bom)
{
    errbuf err = { "" };
    model_set *s = model_set_load_csv("tests/data/models_bom.csv", &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_ptr_nonnull(model_set_find(s, "tiny-switch"));
    model_set_free(s);
}
END_TEST

/* ---- loader: every rejection, exact message ----------------------------------------------------- */

#define D "tests/data/models_"
static const struct { const char *file, *msg; } BAD[] = {
    { D "nope.csv", D "nope.csv: cannot open: No such file or directory" },
    { D "empty.csv", D "empty.csv:1: empty file, expected a header row naming the columns" },
    { D "header_only.csv", D "header_only.csv: no model rows after the header" },
    { D "unknown_col.csv", D "unknown_col.csv:1: unknown column 'd_modle'" },
    { D "dup_col.csv", D "dup_col.csv:1: column 'd_model' appears twice" },
    { D "missing_col.csv", D "missing_col.csv:1: missing column 'top_k'" },
    { D "short_row.csv", D "short_row.csv:3: expected 18 fields, got 17" },
    { D "long_row.csv", D "long_row.csv:2: expected 18 fields, got 19" },
    { D "bad_int.csv", D "bad_int.csv:3: column 'd_model' must be an integer in [1, 65536], got 'abc'" },
    { D "zero_heads.csv", D "zero_heads.csv:2: column 'heads' must be an integer in [1, 4096], got '0'" },
    { D "overflow.csv", D "overflow.csv:2: column 'd_ff' must be an integer in [1, 1048576], got '3000000000'" },
    { D "empty_field.csv", D "empty_field.csv:2: column 'd_kv' must be an integer in [1, 65536], got ''" },
    { D "neg_min_cap.csv",
      D "neg_min_cap.csv:2: column 'min_capacity' must be an integer in [0, 1048576], got '-1'" },
    { D "big_tokens.csv",
      D "big_tokens.csv:2: column 'tokens_per_batch' must be an integer in [1, 1099511627776], got '99999999999999999999'" },
    /* bounds of a real model: layer counts that made walking the layers take half a minute and overflow */
    { D "huge_layers.csv",
      D "huge_layers.csv:2: column 'enc_layers' must be an integer in [1, 1024], got '2147483647'" },
    { D "huge_tokens.csv",
      D "huge_tokens.csv:2: column 'tokens_per_batch' must be an integer in [1, 1099511627776], got '9223372036854775800'" },
    { "/dev/zero", "/dev/zero:1: line longer than 65536 bytes (not a CSV file?)" },   /* endless input */
    { D "hex_cf.csv", D "hex_cf.csv:2: column 'capacity_factor' must be a finite number > 0, got '0x1.4p0'" },
    { D "bad_act.csv", D "bad_act.csv:2: column 'ffn_act' must be 'relu' or 'geglu', got 'gelu'" },
    { D "bad_every.csv",
      D "bad_every.csv:2: column 'expert_every' must be 0 (dense), 1 (every FFN) or 2 (every other FFN), got '3'" },
    { D "bad_topk.csv", D "bad_topk.csv:2: column 'top_k' must be 1 (Switch) or 2 (MoE top-2), got '3'" },
    { D "bad_impl.csv", D "bad_impl.csv:3: column 'impl' must be 'meshtf', 'flaxformer' or 'lingvo', got 'mtf'" },
    { D "bad_cf.csv", D "bad_cf.csv:2: column 'capacity_factor' must be a finite number > 0, got '1.25x'" },
    { D "neg_cf.csv", D "neg_cf.csv:2: column 'capacity_factor' must be a finite number > 0, got '-0.5'" },
    { D "nan_cf.csv", D "nan_cf.csv:2: column 'capacity_factor' must be a finite number > 0, got 'nan'" },
    { D "bad_name.csv",
      D "bad_name.csv:2: column 'name' must be 1 to 63 characters of [A-Za-z0-9._+-], got 'switch base'" },
    { D "long_name.csv",
      D "long_name.csv:2: column 'name' must be 1 to 63 characters of [A-Za-z0-9._+-], got "
        "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'" },
    { D "dup_name.csv", D "dup_name.csv:4: column 'name' must be unique (first used on line 2), got 'tiny'" },
    { D "dense_experts.csv",
      D "dense_experts.csv:2: column 'experts' must be 1 when expert_every is 0 (dense), got '128'" },
    { D "topk_gt_e.csv", D "topk_gt_e.csv:2: column 'top_k' must be <= experts (1), got '2'" },
    { D "tokens_not_multiple.csv",
      D "tokens_not_multiple.csv:2: column 'tokens_per_batch' must be a multiple of enc_seq (32), got '1000'" },
    { D "bad_quote.csv",
      D "bad_quote.csv:2: malformed CSV: a quote inside an unquoted field, after a closing quote, or never closed" },
    { D "unterminated.csv",
      D "unterminated.csv:2: malformed CSV: a quote inside an unquoted field, after a closing quote, or never closed" },
    /* the quoted notes of line 2 span lines 2-3, so the bad row starts on line 4 */
    { D "multiline_notes.csv", D "multiline_notes.csv:4: column 'vocab' must be an integer in [1, 16777216], got '0'" },
};

START_TEST(test_load_bad)
{
    errbuf err = { "" };
    model_set *s = model_set_load_csv(BAD[_i].file, &err);
    ck_assert_ptr_null(s);
    ck_assert_str_eq(err.msg, BAD[_i].msg);
    ck_assert_ptr_null(model_set_load_csv(BAD[_i].file, NULL));   /* a NULL errbuf is allowed */
}
END_TEST

/* ---- structure ---------------------------------------------------------------------------------- */

START_TEST(test_sparse_layers)
{
    model_cfg m = { .expert_every = 2, .enc_layers = 12, .dec_layers = 12 };
    static const int EVERY2[6] = { 0, 1, 0, 1, 0, 1 };   /* the odd FFN layers, as in the T5X gins */
    for (int l = 0; l < 6; l++)
        ck_assert_int_eq(model_layer_is_sparse(&m, l), EVERY2[l]);
    ck_assert_int_eq(model_layer_is_sparse(&m, -1), 0);
    ck_assert_int_eq(model_sparse_layers(&m), 12);
    m.enc_layers = 3;                     /* odd stack: layer 1 only */
    m.dec_layers = 1;                     /* layer 0 is dense */
    ck_assert_int_eq(model_sparse_layers(&m), 1);
    m.expert_every = 1;
    ck_assert_int_eq(model_layer_is_sparse(&m, 0), 1);
    ck_assert_int_eq(model_sparse_layers(&m), 4);
    m.expert_every = 0;
    ck_assert_int_eq(model_layer_is_sparse(&m, 1), 0);
    ck_assert_int_eq(model_sparse_layers(&m), 0);

    model_set *s = load_presets();
    ck_assert_int_eq(model_sparse_layers(preset(s, "switch-base")), 12);
    ck_assert_int_eq(model_sparse_layers(preset(s, "switch-large")), 24);
    ck_assert_int_eq(model_sparse_layers(preset(s, "switch-xxl")), 24);
    ck_assert_int_eq(model_sparse_layers(preset(s, "switch-c")), 30);
    ck_assert_int_eq(model_sparse_layers(preset(s, "t5-xxl")), 0);
    model_set_free(s);
}
END_TEST

/* ---- parameters --------------------------------------------------------------------------------- */

/* Table 9 totals [SOURCES 1.1]; T5-Base and T5-Large use the more precise 223M / 739M of SW-J 4.1. */
static const struct { const char *name; double params; } TABLE9[] = {
    { "t5-base", 223e6 },       { "t5-large", 739e6 },    { "t5-xxl", 11e9 },        { "switch-base", 7.4e9 },
    { "switch-large", 26e9 },   { "switch-xxl", 395e9 },  { "switch-c", 1571e9 },
};

START_TEST(test_params_table9)
{
    model_set *s = load_presets();
    const model_cfg *m = preset(s, TABLE9[_i].name);
    double p = model_params_total(m);
    ck_assert_msg(fabs(p / TABLE9[_i].params - 1.0) <= 0.02, "%s: %.4g params vs Table 9 %.4g", m->name, p,
                  TABLE9[_i].params);
    ck_assert_double_eq(model_params_dense(m) + model_params_expert(m), p);   /* integers < 2^53: exact */
    model_set_free(s);
}
END_TEST

START_TEST(test_params_exact)
{
    model_set *s = load_presets();
    /* T5-Base by hand: attention 4*768*768 = 2359296 x (12 enc + 2*12 dec blocks) = 84934656;
     * FFN 2*768*3072 = 4718592 x 24 = 113246208; norms (2*12 + 3*12 + 2)*768 = 47616;
     * tied embedding 32128*768 = 24674304.  Sum 222902784. */
    const model_cfg *t5 = preset(s, "t5-base");
    ck_assert_double_eq(model_params_total(t5), 222902784.0);
    ck_assert_double_eq(model_params_expert(t5), 0.0);
    ck_assert_double_eq(model_params_dense(t5), 222902784.0);

    /* Switch-Base: 12 Switch layers x 128 experts x 4718592 = 7247757312 in experts; the dense part is
     * T5-Base less 12 FFNs (56623104) plus 12 routers of 768*128 (1179648): 167459328. */
    const model_cfg *sb = preset(s, "switch-base");
    ck_assert_double_eq(model_params_expert(sb), 7247757312.0);
    ck_assert_double_eq(model_params_dense(sb), 167459328.0);

    /* Switch-C experts: 30 layers x 2048 x (2*2080*6144 = 25559040) = 1570347417600 [SOURCES 1.1: 1.570T]. */
    ck_assert_double_eq(model_params_expert(preset(s, "switch-c")), 1570347417600.0);

    /* top-2 changes FLOPs, not parameters */
    ck_assert_double_eq(model_params_total(preset(s, "moe-base")), model_params_total(sb));

    /* GEGLU has three D x F matrices: Switch-XXL experts 24 x 128 x 3*4096*10240 = 386547056640 */
    ck_assert_double_eq(model_params_expert(preset(s, "switch-xxl")), 386547056640.0);
    model_set_free(s);
}
END_TEST

/* ---- FLOPs -------------------------------------------------------------------------------------- */

START_TEST(test_flops_t5_base_exact)
{
    model_set *s = load_presets();
    /* By hand, enc_seq 512, dec_seq 114, A = 12*64 = 768:
     *   encoder   2*512*12*(2359296 + 4718592)              = 86973087744
     *   decoder   2*114*12*(2*2359296 + 4718592)            = 25820135424
     *   attention 12*(4*512^2*768 + 2*114^2*768 + 4*114*512*768)
     *           = 12*(805306368 + 19961856 + 179306496)      = 12054896640
     *   total 124848119808, 0.68% above Table 9's 124B. */
    ck_assert_double_eq(model_flops_per_seq(preset(s, "t5-base")), 124848119808.0);
    model_set_free(s);
}
END_TEST

/* Table 9 FLOPs/seq [SOURCES 1.1] where this convention reproduces them; the tolerance is the
 * measured error rounded up (T5-Base +0.68%, T5-XXL -0.11%, Switch-XXL +0.02%, Switch-Base +1.3%
 * (its routers), T5-Large +1.9%).  Not asserted: Switch-Large (435.2B vs 425B, +2.4%) and
 * Switch-C (952B vs 890B, +7%: 30 routers of 2080x2048 alone are 80 GFLOP/seq). */
static const struct { const char *name; double flops, tol; } FLOPS9[] = {
    { "t5-base", 124e9, 0.01 },     { "t5-xxl", 6.3e12, 0.01 },     { "switch-xxl", 6.3e12, 0.01 },
    { "switch-base", 124e9, 0.02 }, { "t5-large", 425e9, 0.02 },
};

START_TEST(test_flops_table9)
{
    model_set *s = load_presets();
    double f = model_flops_per_seq(preset(s, FLOPS9[_i].name));
    ck_assert_msg(fabs(f / FLOPS9[_i].flops - 1.0) <= FLOPS9[_i].tol, "%s: %.4g FLOP/seq vs Table 9 %.4g",
                  FLOPS9[_i].name, f, FLOPS9[_i].flops);
    model_set_free(s);
}
END_TEST

START_TEST(test_flops_properties)
{
    model_set *s = load_presets();
    const model_cfg *sb = preset(s, "switch-base"), *t5 = preset(s, "t5-base");
    /* top-2 adds one expert FFN per token on 6 + 6 Switch layers: 2*(512*6 + 114*6)*4718592 */
    double extra = model_flops_per_seq(preset(s, "moe-base")) - model_flops_per_seq(sb);
    ck_assert_double_eq(extra, 2.0 * (512 * 6 + 114 * 6) * 4718592.0);
    /* top-1 Switch-Base = T5-Base + the routers: 2*(512*6 + 114*6)*768*128 */
    ck_assert_double_eq(model_flops_per_seq(sb) - model_flops_per_seq(t5), 2.0 * (512 * 6 + 114 * 6) * 768 * 128.0);
    /* more experts: more parameters, FLOPs only through the router */
    model_cfg wide = *sb;
    wide.experts = 256;
    ck_assert(model_params_total(&wide) > 1.9 * model_params_total(sb));
    ck_assert_double_eq(model_flops_per_seq(&wide) - model_flops_per_seq(sb),
                        2.0 * (512 * 6 + 114 * 6) * 768 * 128.0);
    model_set_free(s);
}
END_TEST

static Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("load");
    tcase_add_test(tc, test_presets_rows);
    tcase_add_test(tc, test_find);
    tcase_add_test(tc, test_user_file);
    tcase_add_test(tc, test_load_bom);
    tcase_add_loop_test(tc, test_load_bad, 0, (int)(sizeof BAD / sizeof BAD[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("structure");
    tcase_add_test(tc, test_sparse_layers);
    suite_add_tcase(s, tc);

    tc = tcase_create("params");
    tcase_add_loop_test(tc, test_params_table9, 0, (int)(sizeof TABLE9 / sizeof TABLE9[0]));
    tcase_add_test(tc, test_params_exact);
    suite_add_tcase(s, tc);

    tc = tcase_create("flops");
    tcase_add_test(tc, test_flops_t5_base_exact);
    tcase_add_loop_test(tc, test_flops_table9, 0, (int)(sizeof FLOPS9 / sizeof FLOPS9[0]));
    tcase_add_test(tc, test_flops_properties);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(model_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
