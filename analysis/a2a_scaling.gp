# All-to-all scaling: time of one all-to-all against cores, direct vs phased, with the bisection
# bound S*k/(8*B) of a k x k torus, log-log.  'csv' has the columns
# cores,algorithm,a2a_s,bisection_s (one row per size and algorithm; see analysis/README.md).
# Variables (gnuplot -e): csv, out, title_extra, term.
if (!exists("term")) term = "pngcairo"
if (!exists("title_extra")) title_extra = ""
set terminal term size 800,560
set output out
set datafile separator comma
set datafile columnheaders
set datafile missing NaN    # filtered-out rows (NaN) must not break the lines
set logscale xy
set grid
set key top left
set xlabel "cores"
set ylabel "all-to-all time (ms)"
set title sprintf("all-to-all scaling at fixed bytes per core%s", title_extra) noenhanced
is_alg(a) = strcol("algorithm") eq a
plot csv using (is_alg("direct") ? column("cores") : NaN):(1e3 * column("a2a_s")) smooth unique with linespoints lw 2 title "direct", \
     ''  using (is_alg("phased") ? column("cores") : NaN):(1e3 * column("a2a_s")) smooth unique with linespoints lw 2 title "phased", \
     ''  using (column("cores")):(1e3 * column("bisection_s")) smooth unique with lines dt 2 lw 2 lc rgb "black" title "bisection bound"
