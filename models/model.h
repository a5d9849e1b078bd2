/* model: the Switch Transformer / T5 presets (models/models.csv or a user's file in the same columns)
 * and what follows from a preset alone: parameter counts and forward FLOPs.  No SimGrid, no printing. */
#ifndef SWITCHSIM_MODEL_H
#define SWITCHSIM_MODEL_H

#include "sim/common/errbuf.h"

typedef enum { MODEL_ACT_RELU = 0, MODEL_ACT_GEGLU = 1 } model_act;

/* The implementation a preset's published runs used (models/README.md): how groups, capacity, positions and the
 * combine tensor are computed, and what they cost (sim/cost.h).  FLAXFORMER is the default of a file without
 * the optional 'impl' column. */
typedef enum { MODEL_IMPL_FLAXFORMER = 0, MODEL_IMPL_MESHTF = 1, MODEL_IMPL_LINGVO = 2 } model_impl;
#define MODEL_IMPL_N 3
/* "flaxformer", "meshtf", "lingvo" */
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

/* 1 if FFN layer 'layer' of a stack (0-based) is a Switch layer; 'expert_every' 2 makes 1,3,5.. sparse. */
int model_layer_is_sparse(const model_cfg *m, int layer);
int model_sparse_layers(const model_cfg *m);                   /* encoder + decoder Switch layers */
int model_sparse_layers_enc(const model_cfg *m);               /* encoder Switch layers (numbered first) */

double model_params_total(const model_cfg *m);    /* all parameters, experts included */
double model_params_expert(const model_cfg *m);   /* parameters inside experts, all Switch layers */
double model_params_dense(const model_cfg *m);    /* all params outside experts (routers, attention, embeddings..) */
double model_flops_per_seq(const model_cfg *m);   /* forward FLOPs per sequence (Kaplan et al. 2020 style) */

#endif
