# Capacity-factor tradeoff: step time, examples/s and dropped fraction against capacity factor, one line per
# top-k and configuration ('line' column of plots.sh's plot.csv: the columns that differ between the model's
# rows, e.g. "dispatch=exact", or "all"), and the dense T5 baseline as a reference line when the CSV has a row
# of a model whose name starts with "t5" (plots.sh reads it into t5_step_s, t5_eps).
# Only seeds of one configuration are averaged ('smooth unique').
# Variables (gnuplot -e): csv, out, model, platform, plan, term, lines (space-separated line names), and
# optionally t5_step_s, t5_eps.
if (!exists("term")) term = "pngcairo"
if (!exists("lines")) lines = "all"
set terminal term size 1500,520 noenhanced
set output out
set datafile separator comma
set datafile columnheaders
set datafile missing NaN    # filtered-out rows (NaN) must not break the lines
set key top right
set grid
set xlabel "capacity factor"

is_k(k, l) = strcol("model") eq model && strcol("scope") eq "step" && column("top_k") == k && strcol("line") eq l
ktitle(k) = k == 1 ? "top-1 (Switch)" : "top-2 (MoE)"
ltitle(k, l) = l eq "all" ? ktitle(k) : sprintf("top-%d %s", k, l)
nl = words(lines)
# The T5 reference lines, as extra plot clauses (empty when there is no t5 row).
t5_step_line = exists("t5_step_s") ? sprintf(", %.9g with lines dt 2 lw 2 lc rgb 'black' title 'T5 dense (%s)'", 1e3 * t5_step_s, t5_model) : ""
t5_eps_line = exists("t5_eps") ? sprintf(", %.9g with lines dt 2 lw 2 lc rgb 'black' title 'T5 dense (%s)'", t5_eps, t5_model) : ""

set multiplot layout 1,3 title sprintf("%s on %s, plan %s: capacity-factor tradeoff%s", model, platform, plan, nl > 1 ? "\none line per configuration; seeds averaged" : "")
set ylabel "step time (ms)"
set title "step time"
plot for [k=1:2] for [i=1:nl] csv using (is_k(k, word(lines, i)) ? column("capacity_factor") : NaN):(1e3 * column("step_time_s")) \
     smooth unique with linespoints lw 2 title ltitle(k, word(lines, i)) @t5_step_line
set ylabel "examples / s (sequences)"
set title "throughput"
plot for [k=1:2] for [i=1:nl] csv using (is_k(k, word(lines, i)) ? column("capacity_factor") : NaN):(column("examples_per_s")) \
     smooth unique with linespoints lw 2 title ltitle(k, word(lines, i)) @t5_eps_line
set ylabel "dropped token choices (%)"
set title "dropped fraction"
plot for [k=1:2] for [i=1:nl] csv using (is_k(k, word(lines, i)) ? column("capacity_factor") : NaN):(100 * column("dropped_frac")) \
     smooth unique with linespoints lw 2 title ltitle(k, word(lines, i))
unset multiplot
