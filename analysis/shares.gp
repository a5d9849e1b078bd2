# Where the step goes: stacked bars of the shares of step time (compute, router, dispatch/combine,
# all-to-all, all-reduce, idle; mean per core) for each configuration.  'dat' is the whitespace
# table plots.sh extracts from the sweep CSV: label then the six shares in percent.
# Variables (gnuplot -e): dat, out, model, platform, plan, term.
if (!exists("term")) term = "pngcairo"
set terminal term size 1300,520
set output out
set title sprintf("%s on %s, plan %s: share of step time per configuration", model, platform, plan) noenhanced
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.75
set ylabel "share of step time (%)"
set xlabel "configuration (top-k, capacity factor)"
set yrange [0:105]
set xtics rotate by -45 noenhanced
set key outside right
set grid ytics
plot dat using 2:xtic(1) title "compute", '' using 3 title "router", '' using 4 title "dispatch+combine", \
     '' using 5 title "all-to-all", '' using 6 title "all-reduce", '' using 7 title "idle"
