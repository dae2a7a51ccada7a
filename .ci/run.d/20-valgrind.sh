#!/usr/bin/env bash
# Valgrind over the core Check suites, in process (CK_FORK=no): helgrind
# must report no race or lock misuse beyond tests/helgrind.supp (each entry
# there says why it is not a race), and memcheck must find no leak or bad
# access in the allocation suite, nor in threads that used select and
# exited (the select soak).  (check_badinput asks for allocations of
# SIZE_MAX / 2 bytes on purpose, which memcheck reports as "fishy"; ASan
# and LSan run it instead.)  Kept short: CI stays under 15 minutes.
# The tools understand pthread mutexes, not the futex lock of src/lock.c
# (atomics, which helgrind cannot see): they run the portable build, in a
# directory of its own, with -DCHAN_VALGRIND (src/internal.h: the library
# tells helgrind which atomics hand data over; without it, a test reading
# an element a spinning waiter was handed was reported, once in 30 runs).
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${BUILD:-build}/valgrind
make -s test-bin BUILD=$B CFLAGS="-O2 -g -DCHAN_NO_FUTEX -DCHAN_VALGRIND"
export CK_FORK=no
status=0
hg() {
	timeout 300 valgrind --tool=helgrind -q --error-exitcode=3 \
	    --suppressions=tests/helgrind.supp "$@" || status=1
}
# check_chan one test case at a time, and without "sendrecv": under
# helgrind (which runs one thread at a time) that case took 70 s once and
# made no progress in 300 s another time, and the whole suite in one
# process none in ten minutes, at 100% CPU: spinning waiters starve the
# thread they wait for.  Reported to the core's author; TSan covers it.
for tc in $(grep -o 'tcase_create("[a-z_]*")' tests/check_chan.c |
    sed 's/tcase_create("//; s/")//' | grep -vx sendrecv); do
	echo "== helgrind $B/tests/check_chan ($tc)"
	CK_RUN_CASE=$tc hg $B/tests/check_chan
done
# The window suites force the interleavings the others meet by chance (a
# case made ready just before the select's locked pass, a partner racing
# a second lock): under helgrind, the locking and hand-off of exactly
# those paths.  Under a second each.
for t in check_select check_badinput check_select_window check_chan_window; do
	echo "== helgrind $B/tests/$t"
	hg "$B/tests/$t"
done
# The broadcast's cases one at a time, but for those that cancel a thread
# inside a cond wait: glibc takes the mutex back as the wait is cancelled,
# which helgrind does not see, so it reports the cleanup's unlock of that
# mutex as "not locked" and the cond as destroyed while waited upon.
# check_cancel covers cancellation under TSan and ASan.
for tc in $(grep -o '^	ADD(s, [a-z_]*)' tests/check_bcast.c |
    sed 's/.*ADD(s, //; s/)//' | grep -v cancel); do
	echo "== helgrind $B/tests/check_bcast ($tc)"
	CK_RUN_CASE=$tc hg $B/tests/check_bcast
done
# Helgrind runs one thread at a time, so a waiter's spin (10 us) nearly
# always ends before its completer runs, and the waiter sleeps: its mutex
# then orders the hand-off even without -DCHAN_VALGRIND.  Spinning up to
# 200 ms, a waiter sees DONE while it spins, the edge only the annotations
# show: without the one in await_done this run reports 3 races, every time.
echo "== helgrind $B/tests/check_select (waiters spin until completed)"
CHAN_SPIN_NS=200000000 hg "$B/tests/check_select"
for t in check_alloc; do
	echo "== memcheck $B/tests/$t"
	timeout 600 valgrind -q --leak-check=full --errors-for-leak-kinds=all \
	    --error-exitcode=3 "$B/tests/$t" || status=1
done
echo "== memcheck $B/stress/select_soak (short)"
STRESS_SELECTS=20000 STRESS_SECONDS=20 timeout 600 valgrind -q --show-possibly-lost=no \
    --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --error-exitcode=3 $B/stress/select_soak || status=1
exit $status
