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
for w in seq spsc mpsc mpmc select_rx select_both pingpong oversub \
    semaphore lock sweep; do
	echo "$out" | grep -q "^$w .* libchan " || fail "no libchan row for $w"
done
echo "$out" | grep -q "^spsc .* libchan-batch " || fail "no batch row"
echo "bench_quick: ok"
