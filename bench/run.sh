#!/bin/sh
# bench/run.sh: run the benchmark driver and regenerate bench/RESULTS.md,
# bench/results.csv and (with gnuplot) bench/sweep.svg from that one run;
# RESULTS.md also reads the runs committed before it (report.py --history).
#
# Environment: BUILD (default build), RUNS (default 5), FULL=1 (more runs,
# a denser sweep: make bench-full), BENCH_ARGS (extra driver options, e.g.
# "-w spsc,mpmc" while developing; RESULTS.md then covers only those, and
# sweep.svg is left alone without the sweep), BENCH_OUT (where the log,
# meta.txt and sweep.dat go; default $BUILD/bench).
set -eu

BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
FULL=${FULL:-0}
here=$(dirname "$0")
bin=$BUILD/bench/bench
out=${BENCH_OUT:-$BUILD/bench}
csv=$here/results.csv
meta=$out/meta.txt

if [ ! -x "$bin" ]; then
	echo "run.sh: $bin is missing: run make bench" >&2
	exit 1
fi
mkdir -p "$out"
# A run without the sweep (BENCH_ARGS) must not plot an earlier one's.
rm -f "$out/sweep.dat"

full_arg=
[ "$FULL" = 1 ] && full_arg=-F
# The machine's busy CPU time in clock ticks (user, nice, system, irq,
# softirq), then steal: against the driver's own CPU time (times), what
# else ran during the run.  A load average cannot say: it also counts the
# minute before the run, work that had already finished included.
busy_ticks() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $9; exit }' \
	    /proc/stat 2>/dev/null
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
ticks_before=$(busy_ticks)
start=$(date +%s)
# shellcheck disable=SC2086
"$bin" -r "$RUNS" $full_arg -o "$csv.tmp" -m "$meta" ${BENCH_ARGS:-} |
    tee "$out/bench.log"
# tee hides the driver's status: the log's last line says it finished.
if ! tail -n 1 "$out/bench.log" | grep -q "exactly once"; then
	echo "run.sh: the driver failed; RESULTS.md left as it was" >&2
	rm -f "$csv.tmp"
	exit 1
fi
mv "$csv.tmp" "$csv"
end=$(date +%s)
ticks_after=$(busy_ticks)
# The second line of times: the CPU time of this script's children (the
# driver, tee and the few commands above), as "1m2.5s 0m3.25s".  Not in a
# $( ): a subshell has no children of its own yet.
times > "$out/times.txt"
own_cpu=$(awk 'NR == 2 {
	s = 0
	for (i = 1; i <= 2; i++) {
		split($i, t, "m"); sub("s", "", t[2]); s += t[1] * 60 + t[2]
	}
	printf "%.1f", s
}' "$out/times.txt")

{
	echo "cpu: $(awk -F': *' '/^model name/ { print $2; exit }' \
	    /proc/cpuinfo 2>/dev/null || uname -m)"
	echo "cores: $(getconf _NPROCESSORS_ONLN)"
	echo "kernel: $(uname -sr)"
	echo "libc: $(getconf GNU_LIBC_VERSION 2>/dev/null || echo unknown)"
	echo "libck: $(dpkg-query -W -f '${Version}' libck-dev 2>/dev/null ||
	    echo unknown)"
	dirty=
	# What the run measured or computed with; not its own output files.
	git -C "$here/.." diff --quiet HEAD -- src include Makefile \
	    'bench/*.c' 'bench/*.h' bench/report.py bench/run.sh \
	    bench/sweep.gp 2>/dev/null ||
	    dirty=" plus uncommitted changes to the library or the benchmark"
	echo "commit: $(git -C "$here" rev-parse --short HEAD 2>/dev/null ||
	    echo unknown)$dirty"
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "full: $FULL"
	echo "elapsed_seconds: $((end - start))"
	echo "load_before: $load_before"
	if [ -n "$ticks_before" ] && [ -n "$ticks_after" ]; then
		hz=$(getconf CLK_TCK)
		echo "$ticks_before $ticks_after" | awk -v hz="$hz" '{
			printf "machine_cpu_seconds: %.1f\n", ($3 - $1) / hz
			printf "steal_seconds: %.1f\n", ($4 - $2) / hz
		}'
		echo "own_cpu_seconds: $own_cpu"
	fi
	echo "load_after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null ||
	    echo unknown)"
} >> "$meta"

svg=no
if command -v gnuplot >/dev/null 2>&1; then
	svg=yes
else
	echo "run.sh: gnuplot not installed: sweep plot skipped"
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "run.sh: python3 not installed: RESULTS.md not regenerated" \
	    "(the CSV is $csv)" >&2
	exit 1
fi
python3 "$here/report.py" --csv "$csv" --meta "$meta" --svg "$svg" \
    --dat "$out/sweep.dat" --out "$here/RESULTS.md" --history yes
if [ "$svg" = yes ] && [ ! -s "$out/sweep.dat" ]; then
	echo "run.sh: no sweep in this run: $here/sweep.svg left as it was"
elif [ "$svg" = yes ]; then
	gnuplot -e "datafile='$out/sweep.dat'; outfile='$here/sweep.svg'" \
	    "$here/sweep.gp"
	echo "run.sh: wrote $here/sweep.svg"
fi
echo "run.sh: wrote $here/RESULTS.md and $csv in $((end - start)) s"
