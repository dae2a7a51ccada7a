#!/bin/sh
# bench_quick: the benchmark driver runs every workload on every contender
# with tiny counts (one run each) and its exactly-once checks pass.  No
# timing is judged here: the numbers of a quick run mean nothing.
set -eu

bin=${BUILD:-build}/bench/bench

fail() {
	echo "bench_quick: $*" >&2
	echo "$out" >&2
	exit 1
}

out=$(BENCH_QUICK=1 "$bin" 2>&1) || fail "exited $?"
echo "$out" | grep -q '^bench: every run delivered every message exactly once$' ||
    fail "no closing line"
# Every workload ran, libchan included.
for w in seq spsc mpsc mpmc select_rx select_both pingpong pingpong_onecpu \
    oversub semaphore lock sweep; do
	echo "$out" | grep -q "^$w .* libchan " || fail "no libchan row for $w"
done
echo "$out" | grep -q "^spsc .* libchan-batch " || fail "no batch row"
# Ping-pong holds libchan at capacity 0 against the others at capacity 1,
# so both capacities run as one interleaved cell: a capacity-0 run comes
# again after capacity-1 runs.
csv=$(mktemp)
trap 'rm -f "$csv"' EXIT
out=$("$bin" -w pingpong -c libchan,vyukov -r 2 -t 0.005 -o "$csv" 2>&1) ||
    fail "pingpong exited $?"
caps=$(awk -F, '$1 == "pingpong" { printf "%s", $2 }' "$csv")
case $caps in
*1*0*) ;;
*) fail "pingpong capacities ran one after the other: $caps" ;;
esac
# A lost message fails the run, whether the contender blocks or spins
# (a spinning one used to pass as "did not finish").
for c in libchan vyukov; do
	if out=$(BENCH_LOSE_ONE=1 "$bin" -w mpsc -C 1 -c $c -r 1 -t 0.005 2>&1)
	then
		fail "a lost message on $c passed"
	fi
	echo "$out" | grep -q "lost 1 of " || fail "no loss reported on $c"
done
echo "bench_quick: ok"
