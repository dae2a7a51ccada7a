#!/bin/sh
# example_pipeline: examples/pipeline finds the primes and keeps order.
set -eu

bin=${BUILD:-build}/examples/pipeline

fail() {
	echo "example_pipeline: $*" >&2
	echo "$out" >&2
	exit 1
}

out=$("$bin") || fail "exited $?"
echo "$out" | grep -q '^sieve: 2 3 5 7 11 13 17 19 23 29 31 .* 211 223 227 229$' ||
    fail "first 50 primes"
echo "$out" | grep -q '^sieve: 50 primes from 51 threads, checked$' ||
    fail "sieve check"
echo "$out" | grep -q '^fan: 4 workers, 2000 results in input order (.*), checked$' ||
    fail "fan line"
echo "$out" | grep -q '^pipeline: ok$' || fail "no ok"

# One worker finishes jobs in order: nothing waits to be reordered.
out=$("$bin" 100 1) || fail "exited $?"
echo "$out" | grep -q '^sieve: 2 3 5 .* 521 523 541$' || fail "100 primes"
echo "$out" | grep -q '^fan: 1 workers, 2000 results in input order (0 arrived early and waited), checked$' ||
    fail "one worker"

rc=0
"$bin" 0 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "nprimes 0 exited $rc, not 2"
echo "example_pipeline: ok"
