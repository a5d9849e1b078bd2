/* model: the model presets (models/models.csv or a user's file in the same columns): the Switch Transformer / T5
 * encoder-decoders and today's decoder-only MoE language models, and what follows from a preset alone:
 * parameter counts (total and activated) and forward FLOPs.  No SimGrid, no printing. */
#ifndef SWITCHSIM_MODEL_H
#define SWITCHSIM_MODEL_H

#include "sim/common/errbuf.h"

/* FFN activation: relu and gelu have two matrices (W_in, W_out); geglu and swiglu three (W_in, W_gate, W_out:
 * act(x W_in) * (x W_gate), then W_out; act = gelu or silu). */
typedef enum { MODEL_ACT_RELU = 0, MODEL_ACT_GEGLU = 1, MODEL_ACT_GELU = 2, MODEL_ACT_SWIGLU = 3 } model_act;
#define MODEL_ACT_N 4
/* "relu", "geglu", "gelu", "swiglu" */
const char *model_act_name(model_act act);

/* Encoder-decoder (T5, Switch: enc_layers + dec_layers, cross-attention) or decoder-only (one causal stack of
 * dec_layers at dec_seq tokens; enc_layers and enc_seq are 0). */
typedef enum { MODEL_ARCH_ENC_DEC = 0, MODEL_ARCH_DEC_ONLY = 1 } model_arch;
/* "enc-dec", "dec-only" */
const char *model_arch_name(model_arch arch);

/* Router score: softmax over the experts (Switch, Mixtral, Qwen, DBRX, gpt-oss) or an independent sigmoid per
 * expert (DeepSeek-V3). */
typedef enum { MODEL_SCORE_SOFTMAX = 0, MODEL_SCORE_SIGMOID = 1 } model_score;

/* Whether the k chosen gates are divided by their sum.  AUTO is Mesh TF's rule, which the Switch presets use:
 * top-1 keeps the raw probability, top-2 renormalises [SOURCES 4.2]. */
typedef enum { MODEL_RENORM_AUTO = 0, MODEL_RENORM_NO = 1, MODEL_RENORM_YES = 2 } model_renorm;

/* Most experts per token a preset may route to (top_k). */
#define MODEL_TOPK_MAX 8

/* The implementation a preset's published runs used (models/README.md): how groups, capacity, positions and the
 * combine tensor are computed, and what they cost (sim/cost.h).  FLAXFORMER is the default of a file without
 * the optional 'impl' column. */
typedef enum { MODEL_IMPL_FLAXFORMER = 0, MODEL_IMPL_MESHTF = 1, MODEL_IMPL_LINGVO = 2, MODEL_IMPL_TORCH = 3 } model_impl;
#define MODEL_IMPL_N 4
/* "flaxformer", "meshtf", "lingvo", "torch" */
const char *model_impl_name(model_impl impl);

#define MODEL_NAME_MAX 64

typedef struct {
    char name[MODEL_NAME_MAX];  /* e.g. "switch-base" */
    int d_model;                /* D */
    int d_ff;                   /* F, hidden width of one FFN / expert */
    model_act act;              /* relu: W_in, W_out; geglu: W_in, W_gate, W_out */
    int heads;
    int d_kv;                   /* per-head width; heads*d_kv need not equal d_model */
    int enc_layers;             /* per stack, as in T5 */
    int dec_layers;
    int expert_every;           /* 0 dense, 1 every FFN is a Switch layer, 2 every other (the odd ones) */
    int experts;                /* E per Switch layer (1 for dense) */
    int vocab;
    int enc_seq;                /* encoder input tokens per sequence */
    int dec_seq;                /* decoder target tokens per sequence */
    long tokens_per_batch;      /* encoder input tokens per batch (2^20 in the Switch paper) */
    double capacity_factor;     /* default training capacity factor */
    int group_size;             /* max tokens per routing group */
    int min_capacity;           /* floor of the expert capacity */
    int top_k;                  /* 1 Switch, 2 MoE/GShard */
    model_impl impl;            /* optional column 'impl': meshtf | flaxformer | lingvo (empty or absent: flaxformer) */
    /* Optional columns (absent or empty: the value in brackets, which is what a Switch/T5 row means).  A zero
     * field means the same as its default, so a struct built field by field keeps the Switch/T5 behaviour. */
    model_arch arch;            /* 'arch': enc-dec | dec-only [enc-dec] */
    int kv_heads;               /* key/value heads (GQA); divides heads [0: = heads] */
    int d_ff_expert;            /* hidden width of one routed or shared expert [0: = d_ff, the dense FFN's] */
    int shared_experts;         /* always-on experts of width d_ff_expert, run as one fused FFN [0] */
    int first_dense;            /* the first N FFN layers of each stack are dense; expert_every counts after them [0] */
    model_score score;          /* 'router_score': softmax | sigmoid [softmax] */
    model_renorm renorm;        /* 'topk_renorm': 1 | 0 [empty: AUTO] */
    int untied;                 /* 'tied_embed' 0: a separate output matrix [1: one vocab x D matrix, 'untied' 0] */
    int q_lora;                 /* multi-head latent attention: query compression rank [0: plain q projection] */
    int kv_lora;                /* MLA key/value compression rank [0: no MLA] */
    int rope_dim;               /* MLA decoupled rotary key/query width per head [0] */
} model_cfg;

typedef struct {
    model_cfg *rows;
    int n;
} model_set;

/* Loads a preset CSV (libcsv; header row with the named columns, any order).  Returns NULL and
 * fills 'err' with "FILE:LINE: column 'NAME' must be ..., got 'VALUE'" on the first bad field. */
model_set *model_set_load_csv(const char *path, errbuf *err);
/* The same for a file that carries other columns too (a measured dataset: the model columns plus what was
 * measured): columns of other names are skipped, not refused.  At most MODEL_CSV_COLS_MAX columns. */
model_set *model_set_load_csv_extra(const char *path, errbuf *err);
#define MODEL_CSV_COLS_MAX 64
/* Input caps: "FILE:LINE: line longer than 65536 bytes (not a CSV file?)",
 * "FILE:LINE: file is longer than 16777216 bytes (a preset file is a few KiB)". */
#define MODEL_CSV_LINE_MAX 65536L
#define MODEL_CSV_BYTES_MAX (16L << 20)
void model_set_free(model_set *s);                              /* NULL is a no-op */
const model_cfg *model_set_find(const model_set *s, const char *name);  /* NULL if absent */

/* 1 if FFN layer 'layer' of a stack (0-based) is a Switch layer: layers >= first_dense whose count from
 * first_dense, plus 1, is a multiple of expert_every ('expert_every' 2 makes 1,3,5.. sparse, first_dense 3 with
 * expert_every 1 makes 3,4,5..). */
int model_layer_is_sparse(const model_cfg *m, int layer);
int model_sparse_layers(const model_cfg *m);                   /* encoder + decoder Switch layers */
int model_sparse_layers_enc(const model_cfg *m);               /* encoder Switch layers (numbered first) */

/* Resolved optional fields (a zero field is its default). */
int model_kv_heads(const model_cfg *m);           /* kv_heads, or heads */
int model_d_ff_expert(const model_cfg *m);        /* d_ff_expert, or d_ff */
int model_ffn_matrices(const model_cfg *m);       /* 2 (relu, gelu) or 3 (geglu, swiglu) */
int model_topk_renorm(const model_cfg *m);        /* 1 if the chosen gates are renormalised (AUTO: top_k >= 2) */
/* NULL if the preset uses only what the Switch/T5 encoder-decoders use; else the first other feature, e.g.
 * "decoder-only" or "grouped-query attention (kv_heads < heads)" (top-k up to 8 is not such a feature). */
const char *model_beyond_switch(const model_cfg *m);

double model_params_total(const model_cfg *m);    /* all parameters, experts included */
double model_params_expert(const model_cfg *m);   /* parameters inside routed experts, all Switch layers */
double model_params_dense(const model_cfg *m);    /* all params outside routed experts (routers, shared experts,
                                                   * attention, embeddings..) */
/* Parameters one token uses: the dense part (embeddings included, input and output) plus top_k routed experts
 * per Switch layer: the convention of the published "activated" counts (SOURCES.md 8.4). */
double model_params_active(const model_cfg *m);
double model_flops_per_seq(const model_cfg *m);   /* forward FLOPs per sequence (Kaplan et al. 2020 style) */

#endif
