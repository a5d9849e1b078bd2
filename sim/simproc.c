/* simproc: SimGrid initialisation with switchsim's settings, and one simulation per forked child. */
#include "sim/simproc.h"

#include <simgrid/forward.h>
#include <simgrid/version.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <simgrid/engine.h>

#define SIMPROC_ARGS_MAX 64
#define SIMPROC_ENV_MAX 1024

/* argv handed to SimGrid must outlive simgrid_init (it keeps pointers into it), hence static storage:
 * one initialisation per process. */
static char simproc_env[SIMPROC_ENV_MAX];
static char simproc_items[SIMPROC_ARGS_MAX][SIMPROC_ENV_MAX + 8];
static char *simproc_argv[SIMPROC_ARGS_MAX + 1];

void simproc_simgrid_init(int *argc, char **argv)
{
    static const char *fast[] = {
        "--cfg=network/optim:Lazy",     /* the default, stated: ~3.7x faster than Full (SOURCES 8.3) */
        /* Below the 0.5-1 us link latencies (1e-6 would round them, and SimGrid warns); Switch-C and the
         * 8x8 checks ran as fast and within 0.1% of the 1e-6 times (SOURCES 8 measured 1e-6 as faster). */
        "--cfg=surf/precision:1e-9",
        "--log=xbt_cfg.thresh:warning", /* no "Configuration change" line per simulation on stderr */
    };
    static char name[] = "switchsim";
    int n = 0;
    simproc_argv[n++] = (argc != NULL && *argc > 0 && argv != NULL) ? argv[0] : name;
    for (size_t i = 0; i < sizeof fast / sizeof fast[0]; i++) {
        snprintf(simproc_items[n], sizeof simproc_items[n], "%s", fast[i]);
        simproc_argv[n] = simproc_items[n];
        n++;
    }
    const char *env = getenv("SWITCHSIM_SIMGRID_CFG");
    if (env != NULL) {
        snprintf(simproc_env, sizeof simproc_env, "%s", env);
        char *save = NULL;
        for (char *tok = strtok_r(simproc_env, " \t", &save); tok != NULL && n < SIMPROC_ARGS_MAX / 2;
             tok = strtok_r(NULL, " \t", &save)) {
            snprintf(simproc_items[n], sizeof simproc_items[n], "--cfg=%s", tok);
            simproc_argv[n] = simproc_items[n];
            n++;
        }
    }
    int nuser = (argc != NULL) ? *argc : 0;
    for (int i = 1; i < nuser && n < SIMPROC_ARGS_MAX; i++)
        simproc_argv[n++] = argv[i];
    simproc_argv[n] = NULL;
    int sg_argc = n;
    simgrid_init(&sg_argc, simproc_argv);
    /* give back what SimGrid left (program name and unknown arguments) */
    if (argc != NULL && *argc > 0) {
        int k = 1;
        for (int i = 1; i < sg_argc; i++) {
            int mine = 0;
            for (int j = 1; j < nuser; j++)
                if (simproc_argv[i] == argv[j])
                    mine = 1;
            if (mine)
                argv[k++] = simproc_argv[i];
        }
        argv[k] = NULL;
        *argc = k;
    }
}

void simproc_simgrid_start(const char *platform, netmodel m, int quiet)
{
    /* static, as SimGrid may keep pointers into its argv */
    static char prog[] = "switchsim";
    static char silence[] = "--log=root.thres:critical";
    static char net[NETMODEL_CFG_MAX][NETMODEL_CFG_LEN];
    char *argv[2 + NETMODEL_CFG_MAX + 1] = { prog };
    int argc = 1;
    if (quiet)
        argv[argc++] = silence;
    int nnet = netmodel_cfg(net, m);
    for (int i = 0; i < nnet; i++)
        argv[argc++] = net[i];
    argv[argc] = NULL;
    simproc_simgrid_init(&argc, argv);
    simgrid_load_platform(platform);
}

/* Reads (out 0) or writes (out 1) exactly len bytes, again after EINTR; returns 0, or -1 on EOF/error. */
static int simproc_xfer(int fd, void *buf, size_t len, int out)
{
    char *p = buf;
    while (len > 0) {
        ssize_t r = out ? write(fd, p, len) : read(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

void simproc_simgrid_version(int *major, int *minor, int *patch)
{
    sg_version_get(major, minor, patch);
}

/* Wire format from the child: int status (0 ok, -1 error), then nout doubles (ok) or an errbuf (error). */
int simproc_run(int (*fn)(void *arg, double *out, int nout, errbuf *err), void *arg, double *out, int nout,
                errbuf *err)
{
    if (nout < 0)
        return errbuf_set(err, "simproc: nout must be >= 0, got %d", nout);
    int fds[2];
    if (pipe(fds) != 0)
        return errbuf_set(err, "simproc: pipe: %s", strerror(errno));
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return errbuf_set(err, "simproc: fork: %s", strerror(e));
    }
    if (pid == 0) {
        close(fds[0]);
        errbuf cerr = { "" };
        double *cout = calloc((size_t)nout + 1, sizeof *cout);
        int status = -1;
        if (cout == NULL)
            errbuf_set(&cerr, "simproc: out of memory for %d results", nout);
        else
            status = fn(arg, cout, nout, &cerr);
        if (status != 0 && cerr.msg[0] == '\0')
            errbuf_set(&cerr, "simproc: simulation failed without a message");
        int ok = simproc_xfer(fds[1], &status, sizeof status, 1) == 0
                 && (status == 0 ? simproc_xfer(fds[1], cout, (size_t)nout * sizeof *cout, 1)
                                 : simproc_xfer(fds[1], &cerr, sizeof cerr, 1)) == 0;
        close(fds[1]);
        free(cout);
        fflush(stdout);
        fflush(stderr);
        _exit(ok ? 0 : 3);   /* the documented exception: a forked simulation child ends here */
    }
    close(fds[1]);
    int status = -2;
    int rc = 0;
    errbuf cerr = { "" };
    double *tmp = calloc((size_t)nout + 1, sizeof *tmp);
    if (tmp == NULL) {
        rc = errbuf_set(err, "simproc: out of memory for %d results", nout);
    } else if (simproc_xfer(fds[0], &status, sizeof status, 0) != 0) {
        status = -2;
    } else if (status == 0) {
        if (simproc_xfer(fds[0], tmp, (size_t)nout * sizeof *tmp, 0) != 0)
            status = -2;
    } else if (simproc_xfer(fds[0], &cerr, sizeof cerr, 0) != 0) {
        status = -2;
    }
    close(fds[0]);
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
        ;
    if (rc == 0) {
        if (status != -2 && !(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)) {
            /* It answered, then ended badly: a memory checker's exit code (valgrind --error-exitcode, whose
             * report is on stderr) or a crash on the way out.  Not a result to pass on. */
            if (WIFSIGNALED(wstatus))
                rc = errbuf_set(err, "simproc: simulation child killed by signal %d (%s) after answering",
                                WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
            else
                rc = errbuf_set(err, "simproc: simulation child exited with status %d after answering (a memory "
                                "checker's report?)", WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
        } else if (status == -2) {
            if (WIFSIGNALED(wstatus))
                rc = errbuf_set(err, "simproc: simulation child killed by signal %d (%s)", WTERMSIG(wstatus),
                                strsignal(WTERMSIG(wstatus)));
            else
                rc = errbuf_set(err, "simproc: simulation child exited with status %d without an answer",
                                WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
        } else if (status != 0) {
            cerr.msg[sizeof cerr.msg - 1] = '\0';
            rc = errbuf_set(err, "%s", cerr.msg);
        } else if (nout > 0) {                /* out may be NULL when no numbers are asked for */
            memcpy(out, tmp, (size_t)nout * sizeof *tmp);
        }
    }
    free(tmp);
    return rc;
}
