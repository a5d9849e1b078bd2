/* runrow: one row of the run/sweep CSV (the output contract, README "Output columns").
 * Written by 'run --csv' and 'sweep', read back by 'merge', 'summarize' and --resume. */
#ifndef SWITCHSIM_RUNROW_H
#define SWITCHSIM_RUNROW_H

#include <stdio.h>

#include "sim/common/errbuf.h"

typedef struct {
    /* configuration */
    char model[64];            /* preset name */
    char platform[256];        /* platform file as given */
    int cores;                 /* simulated cores */
    int data;                  /* data-parallel ways n */
    int model_par;             /* model-parallel ways m */
    double experts_per_core;   /* E / n (a fraction when several cores share an expert) */
    int top_k;                 /* 1 or 2 */
    double capacity_factor;
    int expert_capacity;       /* C, tokens per expert per group */
    char routing[128];         /* router | uniform | zipf:S | hot:FRAC | trace:FILE */
    char dispatch[16];         /* padded | exact | dropless | expert-choice */
    char a2a[16];              /* direct | phased | hier */
    long seed;
    long tokens_per_batch;
    /* what the row covers */
    char scope[8];             /* "step" (whole step) or "layer" (--per-layer rows) */
    int layer;                 /* -1 for a step row; else 0-based layer, encoder then decoder */
    char phase[8];             /* "all" for a step row; "fwd" or "bwd" for a layer row */
    /* results */
    double dropped_frac;       /* dropped choices / (tokens x k), over Switch layers */
    double lb_loss;            /* mean load-balancing loss alpha*E*sum f_i P_i over Switch layers */
    double a2a_bytes_per_core; /* bytes sent by one core in all all-to-alls of the scope (mean over cores) */
    double step_time_s;        /* simulated time of the scope, seconds */
    double compute_s;          /* dense + expert compute, mean per core, seconds */
    double router_s;
    double dispatch_combine_s;
    double a2a_s;
    double allreduce_s;
    double idle_s;             /* waiting on other cores */
    double examples_per_s;     /* sequences per second = batch sequences / step time */
    double tflops_per_chip;    /* model FLOPs (fwd+bwd) per chip per second, 1e12 */
    double mfu;                /* model FLOPs utilisation: tflops_per_chip / the chip's bf16 peak (step rows) */
    double hfu;                /* hardware FLOPs utilisation: matmul FLOPs run (padding, one-hot einsums, cumsum
                                * matmuls, recomputation, fp32 passes) per second / the bf16 peak (step rows) */
    char precision[16];        /* selective | bf16 | fp32 */
    char impl[16];             /* meshtf | flaxformer | lingvo | torch */
    double sim_wall_s;         /* wall-clock seconds the simulation took (not deterministic) */
    char matmul_precision[16]; /* default | high | highest: how fp32 matmuls ran (the platform's property or
                                * --matmul-precision); a CSV written before this column existed reads as
                                * highest, what the cost model charged then */
    /* added later (a CSV without them reads as 1, 1, 0, 0) */
    int pipe;                  /* pipeline stages P; cores = data x model_par x pipe */
    int micro_batches;         /* micro-batches per step (1 without a pipeline) */
    int zero;                  /* 1: ZeRO-1 (optimizer state sharded over the data-parallel replicas) */
    double bubble_s;           /* waiting for pipeline neighbours (activations, gradients, the flush), mean per core */
    double max_load;           /* the first Switch layer's busiest expert: its rows over the mean (a layer row: that
                                * layer's); 1 padded or expert choice, 0 dense (a CSV without it reads as 0) */
    double a2a_across_s;       /* of a2a_s, the time across nodes (hierarchical all-to-alls: after the NVLink
                                * messages; 0 where not split, for layer rows, and in a CSV without it) */
    double rsag_s;             /* of allreduce_s, the reduce-scatters and all-gathers (ZeRO-1; 0 for layer rows) */
} runrow;

/* Column names in order, comma-separated, no newline. */
const char *runrow_header(void);
int runrow_ncols(void);
/* Writes the header line / one row (doubles with %.9g so equal runs give equal bytes). */
int runrow_write_header(FILE *fp);
int runrow_write(FILE *fp, const runrow *r);

/* A whole CSV of rows: the header, then rows[0..n-1]. */
typedef struct {
    const runrow *rows;
    int n;
} runrow_table;
/* atomic_file_write callback ('arg' a const runrow_table *): "write failed" in err on an I/O error. */
int runrow_write_table(FILE *fp, const void *arg, errbuf *err);

/* Name of column 'c' (0-based), NULL when out of range. */
const char *runrow_col_name(int c);

/* buf <- the value of column 'name' of r as runrow_write prints it (unquoted).  Returns 0, or -1 when there is
 * no such column or buf is too small. */
int runrow_col_format(char *buf, size_t cap, const runrow *r, const char *name);

/* Checks that names[0..n) are exactly the columns of runrow_header(), or its first columns when every column left
 * out was added later (an older run's CSV: runrow_read gives them their old value).  Returns 0, or -1 with
 * "PATH:1: column C is 'X', expected 'Y' (the header of run --csv)" for the first differing column, or
 * "PATH:1: header has N columns, expected M (the header of run --csv)". */
int runrow_check_header(const char *path, const char *const *names, int n, errbuf *err);

/* Reads a CSV of runrow_header() and rows (libcsv).  On success returns 0 with *rows (free() it) and
 * *nrows (0 allowed).  On failure returns -1, leaves *rows and *nrows untouched, and fills 'err' with
 * the header message above, a csvtab_read message (sim/common/csvread.h), or
 * "PATH:LINE: column 'NAME' must be an integer|a number, got 'VALUE'", or, for a value run never writes,
 * "PATH:LINE: column 'NAME' must be RULE, got 'VALUE'": cores, data, model_par, pipe >= 1 with data x model_par x
 * pipe = cores; micro_batches >= 1 (1 without a pipeline); zero 0 or 1; top_k 1 or 2; capacity_factor finite
 * > 0; dispatch, a2a, scope, layer and phase as run writes them;
 * seed, expert_capacity >= 0; dropped_frac in [0, 1]; every other result finite and >= 0. */
int runrow_read(const char *path, runrow **rows, int *nrows, errbuf *err);

/* 1 if a and b describe the same configuration and scope: every column from model to phase is equal
 * except seed (doubles compared as %.9g prints them); else 0.  This is how summarize groups seeds. */
int runrow_same_config(const runrow *a, const runrow *b);

/* 1 if column c (0-based) is a config column other than seed: what summarize groups by.  Else 0. */
int runrow_col_is_config(int c);

/* A total order of configurations: the config columns but seed, in column order, strings by strcmp, numbers
 * by value (doubles exactly).  0 exactly when runrow_same_config, for rows passed through
 * runrow_round_config (rows read by runrow_read print the same before and after). */
int runrow_config_cmp(const runrow *a, const runrow *b);

/* Rounds r's config doubles (experts_per_core, capacity_factor) to the value their %.9g prints. */
void runrow_round_config(runrow *r);

/* 1 if the result columns of a and b (all but the config columns, seed and sim_wall_s, the one column that
 * differs between two runs of one configuration and seed) print the same with %.9g; else 0. */
int runrow_same_results(const runrow *a, const runrow *b);

/* order <- 0..n-1 sorted by configuration (runrow_config_cmp of rounded copies), then seed, then position:
 * O(n log n).  Returns 0, or -1 when out of memory. */
int runrow_sort(int *order, const runrow *rows, int n);

/* One run read twice ('merge f f', a part file merged again) is one row.  keep[i] <- 0 for a row whose
 * configuration, seed and results (runrow_same_results) are those of an earlier row, else 1.  Returns how
 * many rows are not kept; -1 when two rows of one configuration and seed differ in a result (not the same run,
 * nor two seeds: e.g. rows of two versions of switchsim), with *ia < *ib their positions; -2 out of memory. */
long runrow_dedup(unsigned char *keep, int *ia, int *ib, const runrow *rows, int n);

/* 1 if a and b print the same with %.9g (the CSV's precision), else 0. */
int runrow_dbl_eq(double a, double b);

#endif
