#!/bin/sh
# Run each stress driver in $BUILD/stress/ in its quick mode (a few seconds
# each, also under the sanitizers).  `make stress` runs the long versions.
# A driver prints its seed; STRESS_SEED=<seed> repeats a failing run.
set -e
BUILD=${BUILD:-build}
unset STRESS_FULL
status=0
for t in "$BUILD"/stress/*; do
	[ -x "$t" ] || continue
	echo "== $t (quick)"
	"$t" || { echo "FAIL: $t"; status=1; }
done
exit $status
