#!/usr/bin/env bash
# Valgrind over the core Check suites, in process (CK_FORK=no): helgrind
# must report no race or lock misuse beyond tests/helgrind.supp (each entry
# there says why it is not a race), and memcheck must find no leak or bad
# access in the allocation suite, nor in threads that used select and
# exited (the select soak).  (check_badinput asks for allocations of
# SIZE_MAX / 2 bytes on purpose, which memcheck reports as "fishy"; ASan
# and LSan run it instead.)  Kept short: CI stays under 15 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s test-bin
export CK_FORK=no
status=0
for t in check_chan check_select check_badinput; do
	echo "== helgrind build/tests/$t"
	timeout 600 valgrind --tool=helgrind -q --error-exitcode=3 \
	    --suppressions=tests/helgrind.supp "build/tests/$t" || status=1
done
for t in check_alloc; do
	echo "== memcheck build/tests/$t"
	timeout 600 valgrind -q --leak-check=full --errors-for-leak-kinds=all \
	    --error-exitcode=3 "build/tests/$t" || status=1
done
echo "== memcheck build/stress/select_soak (short)"
STRESS_SELECTS=20000 STRESS_SECONDS=20 timeout 600 valgrind -q --show-possibly-lost=no \
    --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --error-exitcode=3 build/stress/select_soak || status=1
exit $status
