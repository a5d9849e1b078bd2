/* cmd_models: `switchsim models [--models FILE]` lists the presets with parameter counts and forward FLOPs.
 * Prints to stdout only (no output file); the numbers come from models/model.c. */
#include "models/model.h"
#include "sim/cli/cmd.h"
#include "sim/cli/cliopt.h"

#include <getopt.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>

#define MODELS_DEFAULT_FILE "models/models.csv"
#ifndef SWITCHSIM_DATADIR
#define SWITCHSIM_DATADIR "/usr/local/share/switchsim"   /* the Makefile passes $(PREFIX)/share/switchsim */
#endif

static void models_help(FILE *fp)
{
    fprintf(fp,
            "usage: switchsim models [--models FILE]\n"
            "List the model presets: one line per model.\n\n"
            "options:\n"
            "  --models FILE  preset CSV (columns as in models/models.csv; default %s in the\n"
            "                 current directory, else the installed %s)\n"
            "  --help         print this help and exit\n\n"
            "columns:\n"
            "  name             preset name\n"
            "  params_B         all parameters, billions (embeddings, routers and shared experts included)\n"
            "  active_B         parameters one token uses, billions: all but the routed experts, plus top_k\n"
            "                   routed experts per MoE layer (input and output embeddings included)\n"
            "  expert_params_B  parameters inside experts, billions\n"
            "  fwd_GFLOP_seq    forward FLOPs per sequence (enc_seq input + dec_seq target tokens, or dec_seq\n"
            "                   tokens of a decoder-only model), GFLOP,\n"
            "                   Kaplan et al. style: 2 x active matmul weights x tokens + attention\n"
            "  experts          routed experts per MoE layer (1 for dense)\n"
            "  top_k            routed experts per token (1 Switch, 2 MoE, up to 8)\n",
            MODELS_DEFAULT_FILE, SWITCHSIM_DATADIR "/" MODELS_DEFAULT_FILE);
}

const char *cmd_data_path(const char *rel, char *buf, size_t n)
{
    if (access(rel, R_OK) == 0)
        return rel;
    /* next to the binary: <dir>/../rel (the build tree's build/switchsim), <dir>/../share/switchsim/rel */
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
            if ((size_t)snprintf(buf, n, "%s/../%s", exe, rel) < n && access(buf, R_OK) == 0)
                return buf;
            if ((size_t)snprintf(buf, n, "%s/../share/switchsim/%s", exe, rel) < n && access(buf, R_OK) == 0)
                return buf;
        }
    }
    if ((size_t)snprintf(buf, n, "%s/%s", SWITCHSIM_DATADIR, rel) < n && access(buf, R_OK) == 0)
        return buf;
    return rel;   /* the reader's message names the file that is missing */
}

const char *cmd_models_default_path(void)
{
    static char buf[4096];
    return cmd_data_path(MODELS_DEFAULT_FILE, buf, sizeof buf);
}

int cmd_models(int argc, char **argv)
{
    static const struct option OPTS[] = {
        { "models", required_argument, NULL, 'm' },
        { "help",   no_argument,       NULL, 'h' },
        { NULL,     0,                 NULL, 0 },
    };
    const char *path = cmd_models_default_path();
    int c;

    optind = 1;
    opterr = 0;                        /* our own messages, with the program name */
    while ((c = getopt_long(argc, argv, ":", OPTS, NULL)) != -1) {
        switch (c) {
        case 'm':
            path = optarg;
            break;
        case 'h':
            models_help(stdout);
            return 0;
        default:
            return cliopt_bad_option(stderr, "models", OPTS, c, argv[optind - 1]);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "switchsim: error: unexpected argument '%s'\n", argv[optind]);
        models_help(stderr);
        return 2;
    }

    errbuf err = { "" };
    model_set *s = model_set_load_csv(path, &err);
    if (s == NULL) {
        fprintf(stderr, "switchsim: error: %s\n", err.msg);
        return 1;
    }
    int w = (int)strlen("name");
    for (int i = 0; i < s->n; i++)
        if ((int)strlen(s->rows[i].name) > w)
            w = (int)strlen(s->rows[i].name);

    printf("%-*s  %10s  %9s  %15s  %13s  %7s  %5s\n", w, "name", "params_B", "active_B", "expert_params_B",
           "fwd_GFLOP_seq", "experts", "top_k");
    for (int i = 0; i < s->n; i++) {
        const model_cfg *m = &s->rows[i];
        printf("%-*s  %10.3f  %9.3f  %15.3f  %13.1f  %7d  %5d\n", w, m->name, model_params_total(m) / 1e9,
               model_params_active(m) / 1e9, model_params_expert(m) / 1e9, model_flops_per_seq(m) / 1e9,
               m->experts, m->top_k);
    }
    model_set_free(s);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "switchsim: error: cannot write to standard output\n");
        return 1;
    }
    return 0;
}
