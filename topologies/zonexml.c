/* zonexml: the hosts, links and routes of a Full-routing zone, shared by the torus and GPU generators. */
#include "topologies/zonexml.h"

#include <stdlib.h>

void zonexml_write_hosts(FILE *fp, int n, const char *speed, int cores, zonexml_props_fn props, const void *arg)
{
    for (int r = 0; r < n; r++) {
        fprintf(fp, "    <host id=\"chip%d\" speed=\"%sf\" core=\"%d\">\n", r, speed, cores);
        props(fp, arg);
        fprintf(fp, "    </host>\n");
    }
}

void zonexml_write_link(FILE *fp, const char *id, const char *bw, const char *lat)
{
    fprintf(fp, "    <link id=\"%s\" bandwidth=\"%sBps\" latency=\"%ss\"/>\n", id, bw, lat);
}

void zonexml_write_loopback(FILE *fp, int r, const char *lbw)
{
    fprintf(fp, "    <link id=\"chip%d_loopback\" bandwidth=\"%sBps\" latency=\"0s\" sharing_policy=\"FATPIPE\"/>\n",
            r, lbw);
}

int zonexml_write_routes(FILE *fp, int n, int max_links, zonexml_route_fn route, const void *arg)
{
    char (*names)[ZONEXML_NAME_MAX] = malloc((size_t)(max_links > 0 ? max_links : 1) * sizeof *names);
    if (names == NULL)
        return -1;
    for (int s = 0; s < n; s++)
        for (int d = 0; d < n; d++) {
            if (s == d) {
                fprintf(fp, "    <route src=\"chip%d\" dst=\"chip%d\"><link_ctn id=\"chip%d_loopback\"/></route>\n",
                        s, s, s);
                continue;
            }
            int k = route(names, arg, s, d);
            fprintf(fp, "    <route src=\"chip%d\" dst=\"chip%d\" symmetrical=\"NO\">", s, d);
            for (int i = 0; i < k; i++)
                fprintf(fp, "<link_ctn id=\"%s\"/>", names[i]);
            fprintf(fp, "</route>\n");
        }
    free(names);
    return 0;
}
