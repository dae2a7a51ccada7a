# gnuplot script for the mpmc thread sweep: run by bench/run.sh with
# datafile (from bench/report.py) and outfile set on the command line.
set terminal svg size 720,440 dynamic noenhanced font "sans,12"
set output outfile
set title "mpmc sweep: n producers, n consumers, capacity 1024 (median)"
set xlabel "threads (producers + consumers)"
set ylabel "million messages/s"
set logscale x 2
set xtics (2, 4, 6, 8, 12, 16, 24, 32)
set yrange [0:*]
set key outside right
set grid
# A contender that did not finish at some thread count has NaN there: a
# gap in its line (the points it has are still drawn).
stats datafile nooutput
ncols = STATS_columns
# The header line names the contenders: "# threads a b c ...".
header = system("head -n 1 '" . datafile . "'")
plot for [i=2:ncols] datafile using 1:i with linespoints lw 2 pt 7 ps 0.8 \
    title word(header, i + 1)
