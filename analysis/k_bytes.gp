# All-to-all bytes per GPU and all-to-all time against top-k at equal activated parameters (mixtral-8x7b on 8
# H200s, dropless, experts d_ff_expert x 2 / k wide): every choice of every token crosses the all-to-all, so the
# bytes grow as k.  'dat' has the columns top_k, MB per GPU, all-to-all ms (analysis/plots.sh writes it).
# Variables (gnuplot -e): dat, out, term.
if (!exists("term")) term = "pngcairo"
set terminal term size 760,520
set output out
set logscale xy 2
set xrange [0.8:10]
set xtics (1, 2, 4, 8)
set grid
set key top left
set xlabel "top-k (experts of width F x 2 / k: the activated parameters stay the same)"
set ylabel "all-to-all MB per GPU per step"
set y2label "all-to-all time per step (ms)"
set y2tics
set logscale y2 2
set title "mixtral-8x7b on 8 H200s, dropless: all-to-all against k" noenhanced
plot dat using 1:2 with linespoints pt 7 lw 2 title "MB per GPU (left)", \
     dat using 1:3 axes x1y2 with linespoints pt 6 dt 2 lw 2 title "time, ms (right)"
