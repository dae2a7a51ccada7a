#!/bin/sh
# bench/profile.sh: where one contender's time goes on one workload.
#
#   sh bench/profile.sh WORKLOAD CAPACITY [CONTENDER] [perf record options]
#   e.g. sh bench/profile.sh spsc 1024
#        sh bench/profile.sh pingpong 1 libchan --call-graph dwarf,16384
#
# Runs the driver (make bench builds it) under perf record with the
# software cpu-clock event (hardware counters are often missing in virtual
# machines: `perf stat -e instructions true` says), then prints the flat
# profile and the context switches of a second, counted run.  Each run of
# the driver is a child process; perf follows them.  The profile also
# holds the driver's untimed work (sizing runs, checksums), a few percent.
set -eu

BUILD=${BUILD:-build}
bin=$BUILD/bench/bench
if [ $# -lt 2 ]; then
	echo "usage: $0 workload capacity [contender] [perf record options]" >&2
	exit 2
fi
w=$1 cap=$2
who=${3:-libchan}
[ $# -ge 3 ] && shift 3 || shift 2
if ! command -v perf >/dev/null 2>&1; then
	echo "profile.sh: perf is not installed" >&2
	exit 1
fi
[ -x "$bin" ] || { echo "profile.sh: $bin is missing: make bench" >&2; exit 1; }
data=$BUILD/bench/perf-$w-$cap-$who.data
mkdir -p "$BUILD/bench"
perf record -q -e cpu-clock -F 4999 -o "$data" "$@" -- \
    "$bin" -w "$w" -C "$cap" -c "$who" -t 0.4 -r 3
perf report -i "$data" --no-children --sort sym --stdio 2>/dev/null |
    grep -v '^#' | grep -v '^$' | head -n "${TOP:-30}"
perf stat -e context-switches,cpu-migrations,task-clock -- \
    "$bin" -w "$w" -C "$cap" -c "$who" -t 0.4 -r 3 2>&1 |
    grep -E 'context-switches|cpu-migrations|task-clock|M/s|round trip'
echo "profile.sh: perf data in $data (perf report -i $data)"
