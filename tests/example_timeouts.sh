#!/bin/sh
# example_timeouts: examples/timeouts exits 0 with each part's line, quickly.
set -eu

bin=${BUILD:-build}/examples/timeouts

fail() {
	echo "example_timeouts: $*" >&2
	echo "$out" >&2
	exit 1
}

out=
out=$("$bin") || fail "exited $?"
echo "$out" | grep -qx 'timed receive: no result within 10 ms' ||
    fail "timed receive line"
echo "$out" | grep -qx 'config: 4 workers use scale 10' || fail "config line"
# 10 * (1 + 2 + ... + 20): every job done once, under the new config.
echo "$out" | grep -qx 'results: 20 jobs, sum 2100' || fail "results line"
echo "$out" | grep -qx 'timed select: nothing more within 10 ms' ||
    fail "timed select line"
echo "$out" | grep -qx 'quit: 4 workers stopped' || fail "quit line"
echo "$out" | grep -qx 'timeouts: ok' || fail "no ok"

rc=0
"$bin" extra 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "a stray argument exited $rc, not 2"
echo "example_timeouts: ok"
