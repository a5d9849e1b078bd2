# Communication, top-1 vs top-2: all-to-all bytes sent per core per step and all-to-all time per
# step, against capacity factor (seeds averaged by 'smooth unique').
# Variables (gnuplot -e): csv, out, model, platform, plan, term.
if (!exists("term")) term = "pngcairo"
set terminal term size 1100,480
set output out
set datafile separator comma
set datafile columnheaders
set datafile missing NaN    # filtered-out rows (NaN) must not break the lines
set key top left
set grid
set xlabel "capacity factor"
is_k(k) = strcol("model") eq model && strcol("scope") eq "step" && column("top_k") == k

set multiplot layout 1,2 title sprintf("%s on %s, plan %s: all-to-all, top-1 vs top-2", model, platform, plan) noenhanced
set ylabel "all-to-all bytes sent per core per step (MB)"
set title "all-to-all volume"
plot csv using (is_k(1) ? column("capacity_factor") : NaN):(1e-6 * column("a2a_bytes_per_core")) smooth unique with linespoints lw 2 title "top-1", \
     ''  using (is_k(2) ? column("capacity_factor") : NaN):(1e-6 * column("a2a_bytes_per_core")) smooth unique with linespoints lw 2 title "top-2"
set ylabel "all-to-all time per step (ms, mean per core)"
set title "all-to-all time"
plot csv using (is_k(1) ? column("capacity_factor") : NaN):(1e3 * column("a2a_s")) smooth unique with linespoints lw 2 title "top-1", \
     ''  using (is_k(2) ? column("capacity_factor") : NaN):(1e3 * column("a2a_s")) smooth unique with linespoints lw 2 title "top-2"
unset multiplot
