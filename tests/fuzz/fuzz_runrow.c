/* fuzz_runrow: a run/sweep CSV as merge, summarize and sweep --resume read it (analysis/runrow.c,
 * sim/common/csvread.c), then summarized (analysis/stats.c: grouping, repeats, the table and the CSV that
 * summarize prints), checked for repeats as merge does, matched against a sweep, and written back atomically. */
#include <string.h>

#include "analysis/runrow.h"
#include "analysis/stats.h"
#include "analysis/sweep.h"
#include "sim/common/atomicio.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input(data, size);
    runrow *rows = NULL;
    int n = 0;
    errbuf err = { "" };
    int rc = runrow_read(path, &rows, &n, &err);
    fuzz_need_message(rc != 0, &err);
    if (rc == 0) {
        stats_group *g = NULL;
        int ng = 0;
        errbuf serr = { "" };
        int src = stats_group_rows(&g, &ng, NULL, rows, n, &serr);
        fuzz_need_message(src != 0 && n > 0, &serr);
        if (src == 0) {
            char *text = NULL;
            size_t len = 0;
            FILE *fp = open_memstream(&text, &len);
            if (fp == NULL || stats_write_table(fp, g, ng) != 0 || stats_write_groups(fp, g, ng) != 0) {
                fprintf(stderr, "fuzz: summarize's output failed\n");
                abort();
            }
            fclose(fp);
            free(text);
        }
        free(g);
        unsigned char *keep = malloc((size_t)n + 1);
        int ia = -1, ib = -1;
        long dup = runrow_dedup(keep, &ia, &ib, rows, n);
        if (dup == -2 || (dup == -1 && !(ia >= 0 && ia < ib && ib < n)) || (src == 0) != (dup >= 0)) {
            fprintf(stderr, "fuzz: merge's repeat check (%ld, rows %d and %d) disagrees with summarize's (%d)\n",
                    dup, ia, ib, src);
            abort();
        }
        free(keep);
        sweep_spec s;
        sweep_spec_init(&s);
        errbuf e2 = { "" };
        if (sweep_spec_set(&s, "--capacity-factor", "0.5,1.25", &e2) == 0
            && sweep_spec_set(&s, "--plan", "data=8;model=2", &e2) == 0) {
            unsigned char done[4];
            sweep_mark_done(done, &s, rows, n);
        }
        sweep_spec_fini(&s);
        const char *out = fuzz_output("merged");
        runrow_table a = { rows, n };
        errbuf werr = { "" };
        if (atomic_file_write(out, runrow_write_table, &a, &werr) != 0) {
            fprintf(stderr, "fuzz: writing the rows back failed: %s\n", werr.msg);
            abort();
        }
        runrow *back = NULL;
        int nb = 0;
        if (runrow_read(out, &back, &nb, &werr) != 0 || nb != n) {   /* what was read must read back */
            fprintf(stderr, "fuzz: rows written back do not read back: %s\n", werr.msg);
            abort();
        }
        free(back);
        unlink(out);
    }
    free(rows);
    unlink(path);
    return 0;
}
