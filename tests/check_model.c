/* check_model: the preset loader (models/model.c) on models/models.csv, on a user's file and on every bad
 * fixture tests/data/models_*.csv (exact messages), and the parameter / FLOP counts against Table 9 and the
 * published counts of today's MoE models. */
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
                                   "moe-base", "switch-large", "switch-xxl", "switch-c", "mixtral-8x7b",
                                   "mixtral-8x22b", "deepseek-moe-16b", "deepseek-v3", "qwen1.5-moe-a2.7b",
                                   "qwen3-30b-a3b", "olmoe-1b-7b", "dbrx", "gpt-oss-120b", "gpt-oss-20b",
                                   "llama4-scout" };
    model_set *s = load_presets();
    ck_assert_int_eq(s->n, 20);
    for (int i = 0; i < 20; i++)
        ck_assert_str_eq(s->rows[i].name, NAMES[i]);
    /* the Switch/T5 rows: every new column at the value that means what they meant before it existed */
    for (int i = 0; i < 9; i++) {
        const model_cfg *m = &s->rows[i];
        ck_assert_ptr_null(model_beyond_switch(m));
        ck_assert_int_eq(m->arch, MODEL_ARCH_ENC_DEC);
        ck_assert_int_eq(model_kv_heads(m), m->heads);
        ck_assert_int_eq(model_d_ff_expert(m), m->d_ff);
        ck_assert_int_eq(m->shared_experts + m->first_dense + m->untied + m->q_lora + m->kv_lora + m->rope_dim, 0);
        ck_assert_int_eq(m->score, MODEL_SCORE_SOFTMAX);
        ck_assert_int_eq(m->renorm, MODEL_RENORM_AUTO);
    }
    for (int i = 9; i < 20; i++) {
        ck_assert_int_eq(s->rows[i].arch, MODEL_ARCH_DEC_ONLY);
        ck_assert_str_eq(model_beyond_switch(&s->rows[i]), "decoder-only");
    }

    /* every field of DeepSeek-V3 as in its config [SOURCES 10.1] */
    const model_cfg *v3 = preset(s, "deepseek-v3");
    ck_assert_int_eq(v3->d_model, 7168);
    ck_assert_int_eq(v3->d_ff, 18432);
    ck_assert_int_eq(v3->act, MODEL_ACT_SWIGLU);
    ck_assert_int_eq(v3->heads, 128);
    ck_assert_int_eq(v3->d_kv, 128);
    ck_assert_int_eq(v3->enc_layers, 0);
    ck_assert_int_eq(v3->dec_layers, 61);
    ck_assert_int_eq(v3->expert_every, 1);
    ck_assert_int_eq(v3->experts, 256);
    ck_assert_int_eq(v3->vocab, 129280);
    ck_assert_int_eq(v3->enc_seq, 0);
    ck_assert_int_eq(v3->dec_seq, 4096);
    ck_assert_int_eq(v3->tokens_per_batch, 15360L * 4096);
    ck_assert_int_eq(v3->top_k, 8);
    ck_assert_int_eq(v3->kv_heads, 128);
    ck_assert_int_eq(v3->d_ff_expert, 2048);
    ck_assert_int_eq(v3->shared_experts, 1);
    ck_assert_int_eq(v3->first_dense, 3);
    ck_assert_int_eq(v3->score, MODEL_SCORE_SIGMOID);
    ck_assert_int_eq(v3->renorm, MODEL_RENORM_YES);
    ck_assert_int_eq(v3->untied, 1);
    ck_assert_int_eq(v3->q_lora, 1536);
    ck_assert_int_eq(v3->kv_lora, 512);
    ck_assert_int_eq(v3->rope_dim, 64);
    ck_assert_int_eq(preset(s, "mixtral-8x7b")->kv_heads, 8);
    ck_assert_int_eq(preset(s, "deepseek-moe-16b")->renorm, MODEL_RENORM_NO);

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
    ck_assert_int_eq(a->arch, MODEL_ARCH_ENC_DEC);        /* nor any of the later optional columns */
    ck_assert_int_eq(a->kv_heads + a->d_ff_expert + a->shared_experts + a->first_dense + a->untied, 0);
    ck_assert_int_eq(a->score, MODEL_SCORE_SOFTMAX);
    ck_assert_int_eq(a->renorm, MODEL_RENORM_AUTO);
    ck_assert_ptr_null(model_beyond_switch(a));
    model_set_free(s);
}
END_TEST

/* The optional columns: every value, and empty cells as their defaults. */
START_TEST(test_new_columns)
{
    errbuf err = { "" };
    model_set *s = model_set_load_csv("tests/data/models_good_new.csv", &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_int_eq(s->n, 3);
    const model_cfg *d = &s->rows[0], *l = &s->rows[1], *e = &s->rows[2];
    ck_assert_int_eq(d->arch, MODEL_ARCH_DEC_ONLY);
    ck_assert_int_eq(d->act, MODEL_ACT_SWIGLU);
    ck_assert_int_eq(d->top_k, 3);
    ck_assert_int_eq(d->kv_heads, 2);
    ck_assert_int_eq(d->d_ff_expert, 64);
    ck_assert_int_eq(d->shared_experts, 1);
    ck_assert_int_eq(d->first_dense, 1);
    ck_assert_int_eq(d->score, MODEL_SCORE_SIGMOID);
    ck_assert_int_eq(d->renorm, MODEL_RENORM_YES);
    ck_assert_int_eq(d->untied, 1);
    ck_assert_int_eq(d->q_lora + d->kv_lora + d->rope_dim, 0);   /* empty */
    ck_assert_str_eq(model_beyond_switch(d), "decoder-only");
    ck_assert_int_eq(l->act, MODEL_ACT_GELU);
    ck_assert_int_eq(l->kv_heads, 0);                 /* empty: = heads */
    ck_assert_int_eq(model_kv_heads(l), 4);
    ck_assert_int_eq(model_d_ff_expert(l), 256);
    ck_assert_int_eq(l->untied, 0);                   /* empty: tied */
    ck_assert_int_eq(l->renorm, MODEL_RENORM_NO);
    ck_assert_int_eq(model_topk_renorm(l), 0);
    ck_assert_int_eq(l->q_lora, 16);
    ck_assert_int_eq(l->kv_lora, 32);
    ck_assert_int_eq(l->rope_dim, 8);
    ck_assert_int_eq(e->arch, MODEL_ARCH_ENC_DEC);    /* every optional cell empty: a Switch/T5 row */
    ck_assert_int_eq(e->impl, MODEL_IMPL_MESHTF);
    ck_assert_ptr_null(model_beyond_switch(e));
    ck_assert_str_eq(model_act_name(MODEL_ACT_SWIGLU), "swiglu");
    ck_assert_str_eq(model_act_name((model_act)9), "?");
    ck_assert_str_eq(model_arch_name(MODEL_ARCH_DEC_ONLY), "dec-only");
    ck_assert_str_eq(model_arch_name((model_arch)5), "?");

    /* each feature named by model_beyond_switch, one at a time on the Switch/T5 row */
    model_cfg m = *e;
    ck_assert_int_eq(model_ffn_matrices(&m), 2);
    m.act = MODEL_ACT_SWIGLU;
    ck_assert_int_eq(model_ffn_matrices(&m), 3);
    ck_assert_str_eq(model_beyond_switch(&m), "an FFN activation other than relu or geglu");
    m = *e;
    m.kv_heads = 2;
    ck_assert_str_eq(model_beyond_switch(&m), "grouped-query attention (kv_heads < heads)");
    m = *e;
    m.kv_lora = 32;
    ck_assert_str_eq(model_beyond_switch(&m), "multi-head latent attention");
    m = *e;
    m.d_ff_expert = 128;
    ck_assert_str_eq(model_beyond_switch(&m), "an expert width other than d_ff");
    m = *e;
    m.shared_experts = 1;
    ck_assert_str_eq(model_beyond_switch(&m), "shared experts");
    m = *e;
    m.first_dense = 1;
    ck_assert_str_eq(model_beyond_switch(&m), "first_dense layers");
    m = *e;
    m.score = MODEL_SCORE_SIGMOID;
    ck_assert_str_eq(model_beyond_switch(&m), "a sigmoid router");
    m = *e;
    m.renorm = MODEL_RENORM_YES;                      /* top-1 renormalised: gate 1 */
    ck_assert_str_eq(model_beyond_switch(&m), "a top-k renormalisation other than Mesh TF's");
    m.top_k = 2;                                      /* top-2 renormalised is Mesh TF's rule */
    ck_assert_ptr_null(model_beyond_switch(&m));
    m.top_k = 8;                                      /* top-k up to 8 is simulated */
    ck_assert_ptr_null(model_beyond_switch(&m));
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
    { D "short_row.csv", D "short_row.csv:3: expected 18 fields, got 17" },   /* an old file: 18 columns */
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
      D "huge_layers.csv:2: column 'enc_layers' must be an integer in [0, 1024], got '2147483647'" },
    { D "huge_tokens.csv",
      D "huge_tokens.csv:2: column 'tokens_per_batch' must be an integer in [1, 1099511627776], got '9223372036854775800'" },
    { "/dev/zero", "/dev/zero:1: line longer than 65536 bytes (not a CSV file?)" },   /* endless input */
    { D "hex_cf.csv", D "hex_cf.csv:2: column 'capacity_factor' must be a finite number > 0, got '0x1.4p0'" },
    { D "bad_act.csv", D "bad_act.csv:2: column 'ffn_act' must be 'relu', 'gelu', 'geglu' or 'swiglu', got 'silu'" },
    { D "bad_every.csv",
      D "bad_every.csv:2: column 'expert_every' must be an integer in [0, 1024] (0 dense, M: every Mth FFN layer), "
        "got '2000'" },
    { D "bad_topk.csv", D "bad_topk.csv:2: column 'top_k' must be an integer in [1, 8] (experts per token), got '9'" },
    { D "bad_impl.csv", D "bad_impl.csv:3: column 'impl' must be 'meshtf', 'flaxformer', 'lingvo' or 'torch', got 'mtf'" },
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
    /* a Switch layer of one expert: a dense FFN that the engine charged routing and all-to-alls for */
    { D "one_expert.csv",
      D "one_expert.csv:2: column 'experts' must be >= 2 when expert_every is not 0 (one expert is a dense FFN: set "
        "expert_every 0), got '1'" },
    /* the optional columns */
    { D "dec_enc_layers.csv",
      D "dec_enc_layers.csv:2: column 'enc_layers' must be 0 for a decoder-only model (arch dec-only), got '2'" },
    { D "dec_enc_seq.csv",
      D "dec_enc_seq.csv:2: column 'enc_seq' must be 0 for a decoder-only model (arch dec-only), got '32'" },
    { D "ed_no_enc.csv",
      D "ed_no_enc.csv:2: column 'enc_layers' must be >= 1 for an encoder-decoder model (arch enc-dec), got '0'" },
    { D "bad_arch.csv", D "bad_arch.csv:2: column 'arch' must be empty, 'enc-dec' or 'dec-only', got 'decoder'" },
    { D "bad_kv_heads.csv", D "bad_kv_heads.csv:2: column 'kv_heads' must be empty or a divisor of heads (8), got '3'" },
    { D "bad_score.csv", D "bad_score.csv:2: column 'router_score' must be empty, 'softmax' or 'sigmoid', got 'tanh'" },
    { D "bad_renorm.csv", D "bad_renorm.csv:2: column 'topk_renorm' must be empty, '0' or '1', got 'yes'" },
    { D "bad_tied.csv", D "bad_tied.csv:2: column 'tied_embed' must be empty, '1' (tied) or '0' (untied), got '2'" },
    { D "bad_d_ff_expert.csv",
      D "bad_d_ff_expert.csv:2: column 'd_ff_expert' must be empty or an integer in [1, 1048576], got '0'" },
    { D "dense_shared.csv",
      D "dense_shared.csv:2: column 'shared_experts' must be 0 when expert_every is 0 (dense), got '1'" },
    { D "q_lora_no_kv.csv",
      D "q_lora_no_kv.csv:2: column 'q_lora' must be 0 without kv_lora (multi-head latent attention), got '16'" },
    { D "rope_no_kv.csv",
      D "rope_no_kv.csv:2: column 'rope_dim' must be 0 without kv_lora (multi-head latent attention), got '8'" },
    { D "mla_gqa.csv",
      D "mla_gqa.csv:2: column 'kv_heads' must be empty or heads (8) with multi-head latent attention, got '2'" },
    { D "dec_tokens.csv",
      D "dec_tokens.csv:2: column 'tokens_per_batch' must be a multiple of dec_seq (48), got '1024'" },
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
    ck_assert_int_eq(model_sparse_layers(preset(s, "deepseek-v3")), 58);        /* layers 3-60 */
    ck_assert_int_eq(model_sparse_layers(preset(s, "deepseek-moe-16b")), 27);   /* layers 1-27 */
    ck_assert_int_eq(model_sparse_layers(preset(s, "mixtral-8x7b")), 32);
    ck_assert_int_eq(model_sparse_layers_enc(preset(s, "mixtral-8x7b")), 0);
    model_set_free(s);

    /* first N dense, then every Mth: first_dense 2, expert_every 3 makes layers 4, 7, 10 sparse */
    model_cfg f = { .expert_every = 3, .first_dense = 2, .enc_layers = 0, .dec_layers = 11 };
    static const int FIRST2_EVERY3[11] = { 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1 };
    for (int l = 0; l < 11; l++)
        ck_assert_int_eq(model_layer_is_sparse(&f, l), FIRST2_EVERY3[l]);
    ck_assert_int_eq(model_sparse_layers(&f), 3);
    f.expert_every = 0;
    ck_assert_int_eq(model_sparse_layers(&f), 0);
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

/* Published totals and activated counts (SOURCES.md 10.2), each within 2%.  'no_embed' 1: the publisher's
 * activated count leaves out the input embedding (OpenAI's gpt-oss: 5.13B with our count less the 0.58B input
 * embedding, 5.71B with it), so the check takes vocab x d_model off model_params_active. */
static const struct { const char *name; double total, active; int no_embed; } PUBLISHED[] = {
    { "mixtral-8x7b", 46.7e9, 12.9e9, 0 },       { "mixtral-8x22b", 141e9, 39e9, 0 },
    { "deepseek-moe-16b", 16.4e9, 2.8e9, 0 },    { "deepseek-v3", 671e9, 37e9, 0 },
    { "qwen1.5-moe-a2.7b", 14.3e9, 2.7e9, 0 },   { "qwen3-30b-a3b", 30.5e9, 3.3e9, 0 },
    { "olmoe-1b-7b", 6.9e9, 1.3e9, 0 },          { "dbrx", 132e9, 36e9, 0 },
    { "gpt-oss-120b", 117e9, 5.1e9, 1 },         { "gpt-oss-20b", 21e9, 3.6e9, 1 },
    { "llama4-scout", 109e9, 17e9, 0 },
};

START_TEST(test_params_published)
{
    model_set *s = load_presets();
    const model_cfg *m = preset(s, PUBLISHED[_i].name);
    double total = model_params_total(m);
    double active = model_params_active(m) - (PUBLISHED[_i].no_embed ? (double)m->vocab * m->d_model : 0.0);
    ck_assert_msg(fabs(total / PUBLISHED[_i].total - 1.0) <= 0.02, "%s: %.4g params vs published %.4g", m->name,
                  total, PUBLISHED[_i].total);
    ck_assert_msg(fabs(active / PUBLISHED[_i].active - 1.0) <= 0.02, "%s: %.4g activated vs published %.4g",
                  m->name, active, PUBLISHED[_i].active);
    ck_assert(model_params_active(m) < total);
    model_set_free(s);
}
END_TEST

START_TEST(test_params_exact_today)
{
    model_set *s = load_presets();
    /* Mixtral-8x7B by hand: attention 4096*4096 (q) + 2*4096*1024 (k, v: 8 kv heads of 128) + 4096*4096 (o)
     * = 41943040; expert 3*4096*14336 = 176160768; router 4096*8 = 32768; 2 norms of 4096; per layer
     * 41943040 + 8*176160768 + 32768 + 8192 = 1451270144, x 32 = 46440644608; final norm 4096; untied
     * embeddings 2*32000*4096 = 262144000.  Total 46702792704; activated: 6 of the 8 experts fewer per layer,
     * 46702792704 - 32*6*176160768 = 12879925248. */
    const model_cfg *mx = preset(s, "mixtral-8x7b");
    ck_assert_double_eq(model_params_total(mx), 46702792704.0);
    ck_assert_double_eq(model_params_active(mx), 12879925248.0);
    ck_assert_double_eq(model_params_expert(mx), 32.0 * 8 * 176160768);

    /* DeepSeek-V3: MLA per layer q 7168*1536 + 1536 (norm) + 1536*128*(128+64) = 48760320, kv 7168*(512+64)
     * + 512 (norm) + 512*128*2*128 = 20906496, o 128*128*7168 = 117440512: 187107328; expert 3*7168*2048 =
     * 44040192; dense FFN 3*7168*18432 = 396361728.  61*187107328 + 3*396361728 + 58*(256 + 1 shared)*44040192
     * + 58 routers 7168*256 + (2*61+1)*7168 norms + 2*129280*7168 = 671026404352; activated with 8 + 1 experts
     * per MoE layer: 37552282624. */
    const model_cfg *v3 = preset(s, "deepseek-v3");
    ck_assert_double_eq(model_params_total(v3), 671026404352.0);
    ck_assert_double_eq(model_params_active(v3), 37552282624.0);
    ck_assert_double_eq(model_params_expert(v3), 58.0 * 256 * 44040192);
    /* the Switch presets: activated = dense part + top_k experts per Switch layer */
    const model_cfg *sb = preset(s, "switch-base");
    ck_assert_double_eq(model_params_active(sb), 167459328.0 + 12.0 * 4718592);
    ck_assert_double_eq(model_params_active(preset(s, "t5-base")), 222902784.0);
    /* untied: one more vocab x d_model matrix */
    model_cfg t = *preset(s, "t5-base");
    t.untied = 1;
    ck_assert_double_eq(model_params_total(&t), 222902784.0 + 32128.0 * 768);
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

START_TEST(test_flops_dec_only_exact)
{
    errbuf err = { "" };
    model_set *s = model_set_load_csv("tests/data/models_good_new.csv", &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    /* 'dec': D 64, 4 layers, swiglu, 8 heads of 16 with 2 kv heads, layer 0 dense (F 256), layers 1-3 with 8
     * experts of 64, top-3 and 1 shared; 32 tokens per sequence.  Attention 64*128 + 2*64*32 + 128*64 = 20480
     * per layer; expert 3*64*64 = 12288; dense FFN 3*64*256 = 49152; per token 4*20480 + 49152 +
     * 3*((3 + 1)*12288 + 64*8) = 280064; 2*32*280064 = 17924096, plus causal attention 4*2*32^2*128 = 1048576:
     * 18972672. */
    ck_assert_double_eq(model_flops_per_seq(&s->rows[0]), 18972672.0);
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
    tcase_add_test(tc, test_new_columns);
    tcase_add_loop_test(tc, test_load_bad, 0, (int)(sizeof BAD / sizeof BAD[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("structure");
    tcase_add_test(tc, test_sparse_layers);
    suite_add_tcase(s, tc);

    tc = tcase_create("params");
    tcase_add_loop_test(tc, test_params_table9, 0, (int)(sizeof TABLE9 / sizeof TABLE9[0]));
    tcase_add_test(tc, test_params_exact);
    tcase_add_loop_test(tc, test_params_published, 0, (int)(sizeof PUBLISHED / sizeof PUBLISHED[0]));
    tcase_add_test(tc, test_params_exact_today);
    suite_add_tcase(s, tc);

    tc = tcase_create("flops");
    tcase_add_test(tc, test_flops_t5_base_exact);
    tcase_add_loop_test(tc, test_flops_table9, 0, (int)(sizeof FLOPS9 / sizeof FLOPS9[0]));
    tcase_add_test(tc, test_flops_dec_only_exact);
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
