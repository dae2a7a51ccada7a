/*
 * A select's locked pass, white-box.  The pass that locks every channel
 * of a select and tries each case again completes a case only when the
 * first pass (each case under its own channel's lock) and the poll found
 * nothing ready, and something became ready before the select held every
 * lock: a window the other suites reach only when their threads happen to
 * race into it.  Whatever completes there must still be passed on once
 * the locks are dropped: an unbuffered partner the pass claimed asleep
 * must be woken (chan__wake), and a buffered channel whose ring the case
 * changed must be served (chan__serve): a receive from a full ring makes
 * room for a sender queued for it, a send into an empty one brings an
 * element to a queued receiver.  Without either, that partner sleeps for
 * ever beside what it waits for.
 *
 * This program compiles src/select.c itself, with the locked pass's
 * chan__lock_all going through locking() below, which runs the test's
 * arrange step once, on the selecting thread, before the first lock: the
 * test makes the case ready then, and only then.  Its chan_select,
 * chan_tryselect and chan_timedselect are that copy (so libchan.a's
 * select.o is not linked in), and the library itself has no hook.
 */
#define _GNU_SOURCE 1	/* syscall(2) for testutil.h */

#include "internal.h"

static void	locking(chan_t *);

#define chan__lock_all	locking
#include "select.c"
#undef chan__lock_all

/* After select.c, whose fail() check.h would define as a macro. */
#include "testutil.h"
#include "window.h"

/*
 * Run by locking() before the selecting thread's next lock of a channel
 * (once), if set.  Thread-local: a partner thread never runs it.
 */
static _Thread_local void (*arrange)(void *);
static _Thread_local void *arrange_arg;

static void
locking(chan_t *ch)
{
	void (*f)(void *) = arrange;

	arrange = NULL;
	if (f != NULL)
		f(arrange_arg);
	chan__lock_all(ch);
}

#define SELECT_VAL	300	/* what the select sends */

/*
 * One select of a single case (op on a new channel of capacity cap; try:
 * chan_tryselect, else chan_select) that finds it not ready until its
 * locked pass, where window_make_ready has made it ready.  By the time the
 * select returns, the partner must be off its queue and woken.
 */
static void
complete_in_locked_pass(size_t cap, enum chan_op op, bool try)
{
	struct window win = { .ch = new_chan(sizeof(int), cap, CHAN_BLOCK),
	    .send = op == CHAN_SEND };
	int v = op == CHAN_SEND ? SELECT_VAL : -1;
	struct chan_case cases[] = { CASE(win.ch, op, &v) };
	_Atomic size_t *queued = op == CHAN_SEND ? &win.ch->nrecvw :
	    &win.ch->nsendw;
	struct chan__waiter *w;
	size_t i;
	int r, state;

	if (op == CHAN_SEND) {
		for (i = 0; i < cap; i++)
			put(win.ch, OLD + (int)i);	/* full: not ready */
	}
	arrange = window_make_ready;
	arrange_arg = &win;
	r = try ? chan_tryselect(cases, 1) : chan_select(cases, 1);
	arrange = NULL;
	ck_assert_msg(win.arranged, "capacity %zu, %s %s: the select returned "
	    "%d before its locked pass", cap, try ? "tryselect" : "select",
	    op == CHAN_SEND ? "send" : "receive", r);
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(cases[0].err, 0);
	w = atomic_load(&win.partner.w);
	state = atomic_load(&w->state);
	ck_assert_msg(state == CHAN__DONE && atomic_load(queued) == 0,
	    "capacity %zu, %s %s: the select returned with its partner "
	    "still waiting (state %d, %zu queued)", cap,
	    try ? "tryselect" : "select", op == CHAN_SEND ? "send" : "receive",
	    state, (size_t)atomic_load(queued));

	window_finish(&win, v, SELECT_VAL);
}

/*
 * A receive that the locked pass completes on a full ring serves the
 * sender queued for room before the select returns (capacity 1, whose
 * senders find room in the slot's word, and 3).
 */
START_TEST(locked_recv_serves_sender_queued_for_room)
{
	complete_in_locked_pass(1, CHAN_RECV, true);
	complete_in_locked_pass(1, CHAN_RECV, false);
	complete_in_locked_pass(3, CHAN_RECV, true);
	complete_in_locked_pass(3, CHAN_RECV, false);
}
END_TEST

/* A send completed there into an empty ring serves the queued receiver. */
START_TEST(locked_send_serves_receiver_queued_for_element)
{
	complete_in_locked_pass(1, CHAN_SEND, true);
	complete_in_locked_pass(1, CHAN_SEND, false);
	complete_in_locked_pass(3, CHAN_SEND, true);
	complete_in_locked_pass(3, CHAN_SEND, false);
}
END_TEST

/*
 * Unbuffered, the locked pass claims a sleeping partner and must wake it
 * once it has dropped the locks.
 */
START_TEST(locked_unbuffered_recv_wakes_sleeping_sender)
{
	complete_in_locked_pass(0, CHAN_RECV, true);
	complete_in_locked_pass(0, CHAN_RECV, false);
}
END_TEST

START_TEST(locked_unbuffered_send_wakes_sleeping_receiver)
{
	complete_in_locked_pass(0, CHAN_SEND, true);
	complete_in_locked_pass(0, CHAN_SEND, false);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("select_window");
	SRunner *sr;
	int failed;

	ADD(s, locked_recv_serves_sender_queued_for_room);
	ADD(s, locked_send_serves_receiver_queued_for_element);
	ADD(s, locked_unbuffered_recv_wakes_sleeping_sender);
	ADD(s, locked_unbuffered_send_wakes_sleeping_receiver);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
