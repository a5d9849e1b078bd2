# Step time against top-k at equal activated parameters, measured and predicted: the PyTorch rows of 'switchsim
# validate --csv' whose experts shrink as k grows (family f, E = 8k experts of width F/k, dropless: f-e8k1,
# f-e16k2, f-e32k4, f-e64k8), one colour per family: the measurement as points, switchsim as a line.
# 'dat' has the columns family,k,measured_s,predicted_s (analysis/parity.sh writes it from validate.csv).
# Variables (gnuplot -e): dat, out, term.
if (!exists("term")) term = "pngcairo"
set terminal term size 760,560
set output out
set datafile separator comma
set logscale x 2
set xrange [0.8:10]
set xtics (1, 2, 4, 8)
set grid
set key at graph 0.98, 0.56 right
set xlabel "top-k (experts of width F/k: the activated parameters stay the same)"
set ylabel "step time on one H100 (ms)"
set title "PyTorch eager MoE step against k at equal activated parameters" noenhanced
plot for [f in "a b c"] dat using (strcol(1) eq f ? $2 : NaN):($3 * 1e3) with points pt 7 ps 1.3 lc f eq "a" ? 1 : f eq "b" ? 2 : 3 \
         title sprintf("family %s measured", f), \
     for [f in "a b c"] dat using (strcol(1) eq f ? $2 : NaN):($4 * 1e3) with linespoints pt 6 dt 2 lc f eq "a" ? 1 : f eq "b" ? 2 : 3 \
         title sprintf("family %s switchsim", f)
