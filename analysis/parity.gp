# Parity plot of 'switchsim validate': switchsim's value against the reference, log-log, with y = x and a +/-10%
# band.  Held-out measured rows filled (one colour per source group, the measurement's spread as an x error bar),
# calibration rows (a choice of the model was made by looking at them) open; repeats and excluded rows not drawn.
# 'csv' has the columns of 'validate --csv' (label,class,group,name,unit,model,reference,reference_min,
# reference_max,error,tolerance,status,source,note); bound rows are not drawn.
# Variables (gnuplot -e): csv, out, term, group (only that group's rows; default every group), title_extra,
# xlab and ylab (the axis labels, with units).
if (!exists("term")) term = "pngcairo"
if (!exists("xlab")) xlab = "reference (measured or published; s, or x for a ratio)"
if (!exists("ylab")) ylab = "switchsim (same unit as the reference)"
if (!exists("title_extra")) title_extra = ""
if (!exists("group")) group = ""
# group may name several groups separated by '|' (e.g. "h200-steps|h200-ep-steps")
set terminal term size 760,700
set output out
set datafile separator comma
set datafile columnheaders
set logscale xy
set grid
set key bottom right
set size ratio -1
set xlabel xlab noenhanced
set ylabel ylab noenhanced
set title sprintf("switchsim vs measurements%s", title_extra) noenhanced
has(g) = group eq "" || strstrt("|" . group . "|", "|" . g . "|") > 0
in_group(g) = strcol("group") eq g && has(g)
is_row(l, g) = strcol("label") eq l && in_group(g) && strcol("status") ne "EXCLUDED" && strcol("status") ne "REPEAT"
t(g, s) = has(g) ? s : ""
x(l, g) = is_row(l, g) ? column("reference") : NaN
# one range for both axes: every drawn row's reference and value, widened by 1.5x each way
drawn(g) = strcol("label") ne "bound" && has(strcol("group"))
stats csv using (drawn(0) ? column("reference") : NaN) nooutput name "R"
stats csv using (drawn(0) ? column("model") : NaN) nooutput name "M"
lo = (R_min < M_min ? R_min : M_min) / 1.5
hi = (R_max > M_max ? R_max : M_max) * 1.5
set xrange [lo:hi]
set yrange [lo:hi]
set format xy "%g"
# Less than two decades (the H200 steps alone) would get one decade tick per axis: 1-2-5 ticks instead.
if (hi / lo < 100) {
    do for [e=-9:6] {
        do for [m in "1 2 5"] {
            v = real(m) * 10.0**e
            if (v >= lo && v <= hi) { set xtics add (sprintf("%g", v) v); set ytics add (sprintf("%g", v) v) }
        }
    }
}
plot x with lines lc rgb "black" lw 1.5 title "y = x", \
     1.1 * x with lines dt 2 lc rgb "gray40" title "+/-10%", \
     0.9 * x with lines dt 2 lc rgb "gray40" notitle, \
     csv using (x("measured", "h200-steps")):"model":"reference_min":"reference_max" \
         with xerrorbars pt 7 ps 1.1 lc rgb "#1f77b4" title t("h200-steps", "H200 steps, held out (measured)"), \
     ''  using (x("calibration", "h200-steps")):"model" \
         with points pt 6 ps 1.4 lw 2 lc rgb "#1f77b4" title t("h200-steps", "H200 steps, calibration (fitted on)"), \
     ''  using (x("measured", "h200-ep-steps")):"model":"reference_min":"reference_max" \
         with xerrorbars pt 5 ps 1.1 lc rgb "#9467bd" title t("h200-ep-steps", "H200 expert-parallel steps (measured)"), \
     ''  using (x("measured", "h100-moe-steps")):"model":"reference_min":"reference_max" \
         with xerrorbars pt 13 ps 1.2 lc rgb "#ff7f0e" title t("h100-moe-steps", "H100 PyTorch MoE steps, held out (measured)"), \
     ''  using (x("calibration", "h100-moe-steps")):"model" \
         with points pt 12 ps 1.4 lw 2 lc rgb "#ff7f0e" title t("h100-moe-steps", "H100 PyTorch MoE steps, calibration (fitted on)"), \
     ''  using (x("calibration", "gshard-table3")):"model" \
         with points pt 4 ps 1.4 lw 2 lc rgb "#d62728" title t("gshard-table3", "GShard Table 3 steps (calibration)"), \
     ''  using (x("measured", "gshard-fig9")):"model" \
         with points pt 9 ps 1.6 lc rgb "#2ca02c" title t("gshard-fig9", "GShard Fig. 9 all-to-all growth (x)")
