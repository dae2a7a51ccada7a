#!/bin/sh
# bench/run.sh: run the benchmark driver and regenerate bench/RESULTS.md,
# bench/results.csv and (with gnuplot) bench/sweep.svg from that one run.
#
# Environment: BUILD (default build), RUNS (default 5), FULL=1 (more runs,
# a denser sweep: make bench-full), BENCH_ARGS (extra driver options, e.g.
# "-w spsc,mpmc" while developing; RESULTS.md then covers only those).
set -eu

BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
FULL=${FULL:-0}
here=$(dirname "$0")
bin=$BUILD/bench/bench
out=$BUILD/bench
csv=$here/results.csv
meta=$out/meta.txt

if [ ! -x "$bin" ]; then
	echo "run.sh: $bin is missing: run make bench" >&2
	exit 1
fi
mkdir -p "$out"

full_arg=
[ "$FULL" = 1 ] && full_arg=-F
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
start=$(date +%s)
# shellcheck disable=SC2086
"$bin" -r "$RUNS" $full_arg -o "$csv.tmp" -m "$meta" ${BENCH_ARGS:-} |
    tee "$out/bench.log"
# tee hides the driver's status: the CSV's last line says it finished.
if ! tail -n 1 "$out/bench.log" | grep -q "exactly once"; then
	echo "run.sh: the driver failed; RESULTS.md left as it was" >&2
	rm -f "$csv.tmp"
	exit 1
fi
mv "$csv.tmp" "$csv"
end=$(date +%s)

{
	echo "cpu: $(awk -F': *' '/^model name/ { print $2; exit }' \
	    /proc/cpuinfo 2>/dev/null || uname -m)"
	echo "cores: $(getconf _NPROCESSORS_ONLN)"
	echo "kernel: $(uname -sr)"
	echo "libc: $(getconf GNU_LIBC_VERSION 2>/dev/null || echo unknown)"
	echo "libck: $(dpkg-query -W -f '${Version}' libck-dev 2>/dev/null ||
	    echo unknown)"
	dirty=
	git -C "$here/.." diff --quiet HEAD -- src include 2>/dev/null ||
	    dirty=" plus uncommitted changes to src/ or include/"
	echo "commit: $(git -C "$here" rev-parse --short HEAD 2>/dev/null ||
	    echo unknown)$dirty"
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "full: $FULL"
	echo "elapsed_seconds: $((end - start))"
	echo "load_before: $load_before"
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
    --dat "$out/sweep.dat" --out "$here/RESULTS.md"
if [ "$svg" = yes ]; then
	gnuplot -e "datafile='$out/sweep.dat'; outfile='$here/sweep.svg'" \
	    "$here/sweep.gp"
	echo "run.sh: wrote $here/sweep.svg"
fi
echo "run.sh: wrote $here/RESULTS.md and $csv in $((end - start)) s"
