#!/bin/sh
# example_semaphore: examples/semaphore keeps its limit and its locks.
set -eu

bin=${BUILD:-build}/examples/semaphore

fail() {
	echo "example_semaphore: $*" >&2
	echo "$out" >&2
	exit 1
}

out=$("$bin") || fail "exited $?"
echo "$out" | grep -q '^semaphore: 8 threads ran 320 jobs, at most [123] at once (limit 3), 3 tokens back$' ||
    fail "semaphore line"
echo "$out" | grep -q '^locks: a thread waiting on 3 locks got lock 1, the one released$' ||
    fail "select on locks line"
echo "$out" | grep -q '^locks: 6 threads took 3 locks 180 times:' ||
    fail "locks line"
echo "$out" | grep -q '^semaphore: ok$' || fail "no ok"

# A semaphore of 1 is a mutex: never two at once.
out=$("$bin" 1 4) || fail "exited $?"
echo "$out" | grep -q 'at most 1 at once (limit 1), 1 tokens back$' ||
    fail "limit 1"

out=
rc=0
"$bin" 0 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "limit 0 exited $rc, not 2"
echo "example_semaphore: ok"
