# Communication, top-1 vs top-2: all-to-all bytes sent per core per step and all-to-all time per step, against
# capacity factor, one line per top-k and configuration (plots.sh's 'line' column; seeds averaged by 'smooth
# unique').  Under padded dispatch the whole capacity buffers are sent, whatever k: the top-1 and top-2 lines
# coincide there, which the plot says (padded = "yes").
# Variables (gnuplot -e): csv, out, model, platform, plan, term, lines, padded.
if (!exists("term")) term = "pngcairo"
if (!exists("lines")) lines = "all"
if (!exists("padded")) padded = ""
set terminal term size 1100,520 noenhanced
set output out
set datafile separator comma
set datafile columnheaders
set datafile missing NaN    # filtered-out rows (NaN) must not break the lines
set key top left
set grid
set xlabel "capacity factor"
is_k(k, l) = strcol("model") eq model && strcol("scope") eq "step" && column("top_k") == k && strcol("line") eq l
ltitle(k, l) = l eq "all" ? sprintf("top-%d", k) : sprintf("top-%d %s", k, l)
nl = words(lines)
note = padded eq "yes" ? "\npadded dispatch sends whole capacity buffers whatever k: its top-1 and top-2 lines coincide (top-2 drawn dashed)" : ""

set multiplot layout 1,2 title sprintf("%s on %s, plan %s: all-to-all, top-1 vs top-2%s", model, platform, plan, note)
set ylabel "all-to-all bytes sent per core per step (MB)"
set title "all-to-all volume"
plot for [k=1:2] for [i=1:nl] csv using (is_k(k, word(lines, i)) ? column("capacity_factor") : NaN):(1e-6 * column("a2a_bytes_per_core")) \
     smooth unique with linespoints lw (k == 1 ? 4 : 2) dt k pt (k == 1 ? 7 : 6) title ltitle(k, word(lines, i))
set ylabel "all-to-all time per step (ms, mean per core)"
set title "all-to-all time"
plot for [k=1:2] for [i=1:nl] csv using (is_k(k, word(lines, i)) ? column("capacity_factor") : NaN):(1e3 * column("a2a_s")) \
     smooth unique with linespoints lw (k == 1 ? 4 : 2) dt k pt (k == 1 ? 7 : 6) title ltitle(k, word(lines, i))
unset multiplot
