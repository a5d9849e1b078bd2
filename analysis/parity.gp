# Parity plot of the GPU validation: switchsim's predicted step time against the measured one, log-log,
# with y = x and a +/-10% band; held-out rows filled (one-GPU steps, and expert-parallel steps by GPU count),
# calibration rows (fitted on) open; rows not measured yet have no point.  'csv' has the columns
# name,split,measured_s,measured_min_s,measured_max_s,predicted_s,error,gpus,dataset ('validate --gpu-csv').
# Variables (gnuplot -e): csv, out, term, title_extra.
if (!exists("term")) term = "pngcairo"
if (!exists("title_extra")) title_extra = ""
set terminal term size 760,700
set output out
set datafile separator comma
set datafile columnheaders
set logscale xy
set grid
set key top left
set size ratio -1
set xrange [10:300]
set yrange [10:300]
set xlabel "measured step time on H200s (ms)"
set ylabel "switchsim predicted step time (ms)"
set title sprintf("GPU step time, predicted vs measured%s", title_extra) noenhanced
is_split(s) = strcol("split") eq s
one_gpu(s) = is_split(s) && strcol("dataset") eq "H200"
ep(g) = is_split("holdout") && strcol("dataset") eq "H200 expert-parallel" && column("gpus") == g
plot x with lines lc rgb "black" lw 1.5 title "y = x", \
     1.1 * x with lines dt 2 lc rgb "gray40" title "+/-10%", \
     0.9 * x with lines dt 2 lc rgb "gray40" notitle, \
     csv using (one_gpu("holdout") ? 1e3 * column("measured_s") : NaN):(1e3 * column("predicted_s")):(1e3 * column("measured_min_s")):(1e3 * column("measured_max_s")) \
         with xerrorbars pt 7 ps 1.1 lc rgb "#1f77b4" title "held out, one GPU (scored)", \
     for [g in "1 2 4 8"] '' using (ep(g + 0) ? 1e3 * column("measured_s") : NaN):(1e3 * column("predicted_s")) \
         with points pt 5 ps 1.1 lc (g + 1) title sprintf("held out, expert-parallel on %s GPU(s)", g), \
     ''  using (is_split("calibration") ? 1e3 * column("measured_s") : NaN):(1e3 * column("predicted_s")) \
         with points pt 6 ps 1.4 lw 2 lc rgb "#d62728" title "calibration (fitted on)"
