/* cliopt: what every subcommand says about a command line it cannot parse, in one line: the option, the
 * nearest option that exists ("did you mean --capacity-factor?") and where the help is. */
#ifndef SWITCHSIM_CLIOPT_H
#define SWITCHSIM_CLIOPT_H

#include <getopt.h>
#include <stdio.h>

/* The nearest name in longopts (NULL-terminated, as getopt_long takes them) to option 'arg' ("--capacity-factr",
 * "--capacity-factr=2": the part before '=' counts): the one with the fewest single-character edits (insert,
 * delete, replace, swap two neighbours), when that is at most a third of the longer name (at least 1); ties go
 * to the earlier entry.  Returns its name without the dashes, or NULL when none is that close. */
const char *cliopt_nearest(const struct option *longopts, const char *arg);

/* Prints one line for getopt_long's failure 'c' (':' a missing value, else an unknown option) on fp:
 * "switchsim: error: CMD: unknown option '--capacity-factr'; did you mean --capacity-factor? (switchsim CMD
 * --help lists the options)", or "switchsim: error: CMD: option '--csv' needs a value (switchsim CMD --help
 * lists the options)".  'cmd' is the subcommand; 'opt' the argument getopt_long stopped at (argv[optind - 1]).
 * Returns 2, the usage exit code. */
int cliopt_bad_option(FILE *fp, const char *cmd, const struct option *longopts, int c, const char *opt);

#endif
