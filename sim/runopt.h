/* runopt: the options of 'switchsim run', one table.  run parses its command line and writes its help from
 * it; sweep takes the entries that name an axis, checks and compares listed values with them and matches
 * CSV rows on their column.  Adding a run option is adding one entry to the table in runopt.c. */
#ifndef SWITCHSIM_RUNOPT_H
#define SWITCHSIM_RUNOPT_H

#include <stddef.h>
#include <stdio.h>

#include "sim/common/errbuf.h"
#include "sim/engine.h"

/* Everything run's options set. */
typedef struct {
    engine_config cfg;          /* engine_config_default(), then the options */
    const char *model;          /* --model NAME */
    const char *models;         /* --models FILE (runopt_args_default's argument) */
    const char *csv;            /* --csv FILE */
} runopt_args;

typedef enum {
    RUNOPT_FLAG,                /* no value: stores values[0] in an int field */
    RUNOPT_TEXT,                /* a string, kept as given (const char * field) */
    RUNOPT_ENUM,                /* one of words[], stores values[i] in an int or enum field */
    RUNOPT_INT,                 /* an integer in [lo, hi] (int, long or unsigned long field) */
    RUNOPT_REAL,                /* a number in lo..hi, each end open or closed (double field) */
    RUNOPT_PLAN,                /* data=N,model=M into cfg.data and cfg.model_par (plan_parse) */
    RUNOPT_ROUTING              /* a routing spec into cfg.routing (route_parse) */
} runopt_type;

#define RUNOPT_WORDS_MAX 4
/* At least the number of entries (checked in runopt.c); sweep sizes its axes with it. */
#define RUNOPT_MAX 32

typedef struct {
    const char *name;           /* "--top-k" */
    const char *arg;            /* the value in the help ("K"); NULL for a flag */
    runopt_type type;
    size_t off, size;           /* the field in runopt_args */
    const char *words[RUNOPT_WORDS_MAX + 1];  /* ENUM: accepted words, NULL after the last */
    int values[RUNOPT_WORDS_MAX];             /* ENUM: stored for each word; FLAG: values[0] */
    double lo, hi;              /* INT, REAL: bounds */
    int lo_open, hi_open;       /* REAL: 1 when that bound itself is refused */
    const char *rule;           /* INT, REAL: what a value must be, for the message ("1 or 2") */
    const char *help;           /* run --help; each '\n' continues on an indented line */
    int axis;                   /* sweep axis rank, 1 outermost (its values change slowest); 0: not an axis */
    const char *sweep_name;     /* the sweep option when it differs from run's ("--seeds"), else NULL */
    const char *sweep_help;     /* the sweep --help text after the option name */
    const char *column;         /* the runrow column that records the value (resume matches on it); NULL */
} runopt;

/* The entries in run's help order. */
int runopt_count(void);
const runopt *runopt_at(int i);
/* The entry of run option 'name' ("--dispatch"), or NULL. */
const runopt *runopt_find(const char *name);
/* The name of the entry as a sweep option ("--seeds" for "--seed"). */
const char *runopt_sweep_name(const runopt *o);

/* run's defaults: engine_config_default(), progress lines on, 'models_default' as the preset file. */
runopt_args runopt_args_default(const char *models_default);

/* Parses 'value' (NULL for a flag) into the entry's field of 'a'.  On bad input returns -1, leaves the field
 * as it was and fills 'err' with "NAME must be RULE, got 'VALUE'" (NAME: 'shown', else the entry's name),
 * e.g. "--dispatch must be padded or exact, got 'fast'", or plan_parse's / route_parse's message. */
int runopt_set(runopt_args *a, const runopt *o, const char *shown, const char *value, errbuf *err);

/* 1 if two good values of the entry set the same run ("1" and "1.0"; "data=2,model=1" and "model=1,data=2"). */
int runopt_same(const runopt *o, const char *x, const char *y);

/* Prints the entries' help lines: run's (sweep 0, all entries; --models says its default 'models_default'), or
 * sweep's axes (sweep 1, in axis order). */
void runopt_print_help(FILE *fp, int sweep, const char *models_default);

#endif
