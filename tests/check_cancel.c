/*
 * pthread_cancel of threads blocked in a channel call.
 *
 * Blocking calls are cancellation points.  A thread cancelled while blocked
 * must leave the channel consistent: no stale waiter that would take a later
 * element or offer a dead one, nothing duplicated, a cancelled sender's
 * element delivered at most once, and at most one element lost per
 * cancelled receiver (the one handed to it as it was cancelled).
 *
 * A thread is known to be blocked when it has announced the call and the
 * kernel reports it asleep (stress_wait_asleep); nothing here sleeps to
 * synchronise.  The racing tests cancel a receiver (or a sender) at a random
 * moment of a transfer, many times, and count elements.
 */
#define _GNU_SOURCE
#include <check.h>

#include "stresslib.h"

#define PREFILL		1000	/* values buffered before a sender blocks */
#define LONG_WAIT	(30LL * 1000000000LL)	/* timed calls: 30 s */

/* The blocking call a thread is cancelled in. */
enum op {
	OP_SEND,
	OP_RECV,
	OP_TIMEDSEND,
	OP_TIMEDRECV,
	OP_SENDN,
	OP_RECVN,
	OP_SELECT_SEND,		/* chan_select: a send case, a disabled one */
	OP_SELECT_RECV,
	OP_TIMEDSELECT_SEND,
	OP_TIMEDSELECT_RECV,
	OP_SELECT_BOTH,		/* receive on ch, send on ch2 */
	NOPS
};

static const char *const opname[NOPS] = {
	"send", "recv", "timedsend", "timedrecv", "sendn", "recvn",
	"select(send)", "select(recv)", "timedselect(send)",
	"timedselect(recv)", "select(recv ch, send ch2)",
};

static bool
op_sends(enum op op)
{
	return op == OP_SEND || op == OP_TIMEDSEND || op == OP_SENDN ||
	    op == OP_SELECT_SEND || op == OP_TIMEDSELECT_SEND;
}

/* A thread making one blocking call. */
struct blocker {
	chan_t		*ch;
	chan_t		*ch2;		/* OP_SELECT_BOTH's send channel */
	enum op		 op;
	uint64_t	 elem;		/* what it sends; what it received */
	pthread_t	 thr;
	atomic_int	 tid;		/* set just before the call */
	atomic_int	 returned;	/* the call returned (err is valid) */
	int		 err;
	bool		 pending;	/* cancelled before the call: see below */
	bool		 passed;	/* timed calls: a deadline already past */
	pthread_barrier_t *bar;
};

static void *
blocker_main(void *arg)
{
	struct blocker *b = arg;
	struct chan_case cases[2];
	struct timespec ts;
	uint64_t v[4] = { b->elem, b->elem + 1, b->elem + 2, b->elem + 3 };
	size_t n = 0;
	int err = 0, i;

	if (b->pending) {
		/*
		 * The main thread cancels while cancellation is disabled, so
		 * the request is pending when the call starts: the call must
		 * act on it once it would wait.  Enabling is no cancellation
		 * point, and nothing else lies between here and the call.
		 */
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		pthread_barrier_wait(b->bar);
		pthread_barrier_wait(b->bar);
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	}
	ts = stress_deadline(b->passed ? -1 : LONG_WAIT);
	atomic_store(&b->tid, stress_gettid());
	switch (b->op) {
	case OP_SEND:
		err = chan_send(b->ch, &b->elem);
		break;
	case OP_RECV:
		err = chan_recv(b->ch, &b->elem);
		break;
	case OP_TIMEDSEND:
		err = chan_timedsend(b->ch, &b->elem, &ts);
		break;
	case OP_TIMEDRECV:
		err = chan_timedrecv(b->ch, &b->elem, &ts);
		break;
	case OP_SENDN:
		err = chan_sendn(b->ch, v, 4, &n);
		break;
	case OP_RECVN:
		err = chan_recvn(b->ch, v, 4, &n);
		b->elem = v[0];
		break;
	case OP_SELECT_SEND:
	case OP_TIMEDSELECT_SEND:
		cases[0] = (struct chan_case){ NULL, CHAN_RECV, NULL, -1 };
		cases[1] = (struct chan_case){ b->ch, CHAN_SEND, &b->elem, -1 };
		i = b->op == OP_SELECT_SEND ? chan_select(cases, 2) :
		    chan_timedselect(cases, 2, &ts);
		err = i == 1 ? cases[1].err : i < 0 ? errno : EINVAL;
		break;
	case OP_SELECT_RECV:
	case OP_TIMEDSELECT_RECV:
		cases[0] = (struct chan_case){ b->ch, CHAN_RECV, &b->elem, -1 };
		cases[1] = (struct chan_case){ NULL, CHAN_SEND, NULL, -1 };
		i = b->op == OP_SELECT_RECV ? chan_select(cases, 2) :
		    chan_timedselect(cases, 2, &ts);
		err = i == 0 ? cases[0].err : i < 0 ? errno : EINVAL;
		break;
	case OP_SELECT_BOTH:
		cases[0] = (struct chan_case){ b->ch, CHAN_RECV, &v[1], -1 };
		cases[1] = (struct chan_case){ b->ch2, CHAN_SEND, &b->elem, -1 };
		i = chan_select(cases, 2);
		err = i >= 0 ? cases[i].err : errno;
		break;
	default:
		err = EINVAL;
	}
	b->err = err;
	atomic_store(&b->returned, 1);
	return NULL;
}

static void
blocker_start(struct blocker *b, chan_t *ch, chan_t *ch2, enum op op,
    uint64_t elem)
{
	b->ch = ch;
	b->ch2 = ch2;
	b->op = op;
	b->elem = elem;
	atomic_store(&b->tid, 0);
	atomic_store(&b->returned, 0);
	ck_assert_int_eq(pthread_create(&b->thr, NULL, blocker_main, b), 0);
}

/* Wait until b sleeps in its call; fail if it returned instead. */
static void
blocker_wait_asleep(struct blocker *b)
{
	while (atomic_load(&b->tid) == 0)
		sched_yield();
	ck_assert_msg(stress_wait_asleep(atomic_load(&b->tid)),
	    "%s never blocked", opname[b->op]);
	ck_assert_msg(!atomic_load(&b->returned), "%s returned %d instead of "
	    "blocking", opname[b->op], b->err);
}

/* Join b, which must have been cancelled in its call. */
static void
blocker_join_cancelled(struct blocker *b)
{
	void *ret;

	ck_assert_int_eq(pthread_join(b->thr, &ret), 0);
	ck_assert_msg(ret == PTHREAD_CANCELED, "%s returned %d instead of "
	    "being cancelled", opname[b->op], b->err);
}

static void
blocker_cancel(struct blocker *b)
{
	ck_assert_int_eq(pthread_cancel(b->thr), 0);
	blocker_join_cancelled(b);
}

/*
 * Starts b in op with a cancel already pending when its call begins (see
 * blocker_main), and checks the call acted on it.
 */
static void
blocker_cancel_pending(struct blocker *b, chan_t *ch, chan_t *ch2,
    enum op op, uint64_t elem)
{
	pthread_barrier_t bar;

	ck_assert_int_eq(pthread_barrier_init(&bar, NULL, 2), 0);
	b->pending = true;
	b->bar = &bar;
	blocker_start(b, ch, ch2, op, elem);
	pthread_barrier_wait(&bar);
	ck_assert_int_eq(pthread_cancel(b->thr), 0);
	pthread_barrier_wait(&bar);
	blocker_join_cancelled(b);
	pthread_barrier_destroy(&bar);
}

/* A channel of uint64_t; a buffered one prefilled when senders must block. */
static chan_t *
make_chan(size_t cap, bool full)
{
	chan_t *ch;
	uint64_t v;

	ck_assert_ptr_nonnull(ch = chan_create(sizeof(uint64_t), cap,
	    CHAN_BLOCK));
	for (v = 0; full && v < cap; v++)
		ck_assert_int_eq(chan_trysend(ch, &(uint64_t){ PREFILL + v }),
		    0);
	return ch;
}

/*
 * After a sender was cancelled while blocked on ch: exactly the prefill is
 * buffered, in order; the dead sender's element does not appear, and no
 * stale sender is offered to a receiver.
 */
static void
check_no_stale_sender(chan_t *ch, size_t cap)
{
	uint64_t v, m;

	for (v = 0; v < cap; v++) {
		ck_assert_int_eq(chan_tryrecv(ch, &m), 0);
		ck_assert_uint_eq(m, PREFILL + v);
	}
	ck_assert_int_eq(chan_tryrecv(ch, &m), EAGAIN);
	ck_assert_uint_eq(chan_len(ch), 0);
}

/*
 * After a receiver was cancelled while blocked on ch: an unbuffered send
 * finds no receiver; a buffered one stays in the buffer for the next
 * receiver instead of going to the dead one.
 */
static void
check_no_stale_receiver(chan_t *ch, size_t cap)
{
	uint64_t m = 77;

	if (cap == 0) {
		ck_assert_int_eq(chan_trysend(ch, &m), EAGAIN);
		return;
	}
	ck_assert_uint_eq(chan_len(ch), 0);
	ck_assert_int_eq(chan_trysend(ch, &m), 0);
	m = 0;
	ck_assert_int_eq(chan_tryrecv(ch, &m), 0);
	ck_assert_uint_eq(m, 77);
	ck_assert_int_eq(chan_tryrecv(ch, &m), EAGAIN);
}

/*
 * check_still_works: a new thread blocks in chan_recv and gets what the
 * main thread sends; then, with the buffer full again, a new thread blocks
 * in chan_send and its element follows the buffered ones.
 */
static void
check_still_works(chan_t *ch, size_t cap)
{
	struct timespec ts;
	struct blocker b = { 0 };
	uint64_t v, m;

	blocker_start(&b, ch, NULL, OP_RECV, 0);
	blocker_wait_asleep(&b);
	ts = stress_deadline(LONG_WAIT);
	ck_assert_int_eq(chan_timedsend(ch, &(uint64_t){ 4242 }, &ts), 0);
	ck_assert_int_eq(pthread_join(b.thr, NULL), 0);
	ck_assert_int_eq(b.err, 0);
	ck_assert_uint_eq(b.elem, 4242);

	for (v = 0; v < cap; v++)
		ck_assert_int_eq(chan_trysend(ch, &(uint64_t){ 2000 + v }), 0);
	blocker_start(&b, ch, NULL, OP_SEND, 5151);
	blocker_wait_asleep(&b);
	for (v = 0; v < cap; v++) {
		ck_assert_int_eq(chan_timedrecv(ch, &m, &ts), 0);
		ck_assert_uint_eq(m, 2000 + v);
	}
	ck_assert_int_eq(chan_timedrecv(ch, &m, &ts), 0);
	ck_assert_uint_eq(m, 5151);
	ck_assert_int_eq(pthread_join(b.thr, NULL), 0);
	ck_assert_int_eq(b.err, 0);
	ck_assert_int_eq(chan_tryrecv(ch, &m), EAGAIN);
	if (cap == 0)
		ck_assert_int_eq(chan_trysend(ch, &m), EAGAIN);
}

static const size_t caps[] = { 0, 1, 4 };
#define NCAPS	((int)(sizeof(caps) / sizeof(caps[0])))

/*
 * Cancel a thread blocked in each call, on an unbuffered channel and on
 * buffered ones (empty for receives, full for sends); the loop index picks
 * the call and the capacity.  With pending, the cancel is requested before
 * the call starts.
 */
static void
cancel_blocked(int i, bool pending)
{
	enum op op = (enum op)(i / NCAPS);
	size_t cap = caps[i % NCAPS];
	struct blocker b = { 0 };
	chan_t *ch, *ch2 = NULL;

	ch = make_chan(cap, op_sends(op));
	if (op == OP_SELECT_BOTH)
		ch2 = make_chan(cap, true);
	if (pending) {
		blocker_cancel_pending(&b, ch, ch2, op, 99);
	} else {
		blocker_start(&b, ch, ch2, op, 99);
		blocker_wait_asleep(&b);
		blocker_cancel(&b);
	}
	if (op_sends(op))
		check_no_stale_sender(ch, cap);
	else
		check_no_stale_receiver(ch, cap);
	check_still_works(ch, cap);
	if (ch2 != NULL) {
		check_no_stale_sender(ch2, cap);
		check_still_works(ch2, cap);
	}
	chan_destroy(ch);
	chan_destroy(ch2);
}

/* A blocked call cancelled: no stale waiter, the channel works on. */
START_TEST(cancel_blocked_call_leaves_no_stale_waiter)
{
	cancel_blocked(_i, false);
}
END_TEST

/* A call that must wait acts on a cancel requested before it started. */
START_TEST(blocking_call_acts_on_pending_cancel)
{
	cancel_blocked(_i, true);
}
END_TEST

/*
 * A call that would not have to wait, since its partner already waits on
 * the unbuffered channel, still acts on a cancel requested before it
 * started, and hands nothing over: the partner gets the main thread's
 * element instead.  (A thread whose partners always answered within its
 * poll or spin never slept, so its cancel could wait for ever.)
 */
START_TEST(call_with_a_waiting_partner_acts_on_pending_cancel)
{
	enum op op = (enum op)_i;
	struct blocker partner = { 0 }, b = { 0 };
	struct timespec ts = stress_deadline(LONG_WAIT);
	uint64_t m = 0;
	chan_t *ch = make_chan(0, false);

	blocker_start(&partner, ch, NULL, op_sends(op) ? OP_RECV : OP_SEND,
	    7);
	blocker_wait_asleep(&partner);
	blocker_cancel_pending(&b, ch, NULL, op, 99);
	ck_assert_msg(!atomic_load(&partner.returned), "the waiting partner "
	    "was served by the cancelled %s", opname[op]);
	if (op_sends(op)) {
		ck_assert_int_eq(chan_timedsend(ch, &(uint64_t){ 4242 }, &ts),
		    0);
	} else {
		ck_assert_int_eq(chan_timedrecv(ch, &m, &ts), 0);
		ck_assert_uint_eq(m, 7);
	}
	ck_assert_int_eq(pthread_join(partner.thr, NULL), 0);
	ck_assert_int_eq(partner.err, 0);
	if (op_sends(op))
		ck_assert_uint_eq(partner.elem, 4242);
	chan_destroy(ch);
}
END_TEST

/*
 * A call on a closed channel (drained, for receives) acts on a cancel
 * requested before it started, whatever the capacity, rather than return
 * EPIPE: it could neither move an element nor wait.
 */
START_TEST(call_on_closed_channel_acts_on_pending_cancel)
{
	enum op op = (enum op)(_i / NCAPS);
	size_t cap = caps[_i % NCAPS];
	struct blocker b = { 0 };
	chan_t *ch, *ch2 = NULL;

	ch = make_chan(cap, op_sends(op));
	chan_close(ch);
	if (op == OP_SELECT_BOTH) {
		ch2 = make_chan(cap, true);
		chan_close(ch2);
	}
	blocker_cancel_pending(&b, ch, ch2, op, 99);
	chan_destroy(ch);
	chan_destroy(ch2);
}
END_TEST

/*
 * A call that need not wait at all, on a buffered channel with room (for
 * sends) or an element (for receives), still acts on a cancel requested
 * before it started, and moves nothing, as sem_wait(3) does in glibc:
 * POSIX says a pending cancel is acted on in a cancellation point whether
 * or not it would block.
 */
START_TEST(call_that_need_not_wait_acts_on_pending_cancel)
{
	enum op op = (enum op)(_i / 2);
	size_t cap = _i % 2 ? 4 : 1;
	bool sends = op_sends(op);
	struct blocker b = { 0 };
	chan_t *ch, *ch2 = NULL;

	ch = make_chan(cap, !sends);	/* ready: room, or an element */
	if (op == OP_SELECT_BOTH)
		ch2 = make_chan(cap, false);
	blocker_cancel_pending(&b, ch, ch2, op, 99);
	ck_assert_uint_eq(chan_len(ch), sends ? 0 : cap);
	if (ch2 != NULL)
		ck_assert_uint_eq(chan_len(ch2), 0);
	chan_destroy(ch);
	chan_destroy(ch2);
}
END_TEST

/*
 * A select with no enabled case (blocker_main's cases on a NULL channel)
 * acts on a cancel pending when it is called, as every other form of a
 * waiting call does, rather than fail with EDEADLK (chan_select) or
 * ETIMEDOUT at once (chan_timedselect, deadline passed): both are
 * cancellation points.  _i: 0 chan_select, 1 a deadline passed, 2 one
 * ahead.
 */
START_TEST(select_with_no_case_acts_on_pending_cancel)
{
	struct blocker b = { .passed = _i == 1 };

	blocker_cancel_pending(&b, NULL, NULL,
	    _i == 0 ? OP_SELECT_RECV : OP_TIMEDSELECT_RECV, 99);
}
END_TEST

/*
 * Three receivers block in different calls; one is cancelled; two sends
 * reach the two others, one each, and nothing is left for a third.
 */
START_TEST(cancel_one_of_three_blocked_receivers_leaves_others_served)
{
	static const enum op ops[3] = { OP_TIMEDRECV, OP_SELECT_RECV, OP_RECV };
	size_t cap = _i < 3 ? 0 : 2;
	int victim = _i % 3, k, served = 0;
	struct blocker b[3] = { 0 };
	struct timespec ts = stress_deadline(LONG_WAIT);
	uint64_t seen = 0;
	chan_t *ch = make_chan(cap, false);

	for (k = 0; k < 3; k++)
		blocker_start(&b[k], ch, NULL, ops[k], 0);
	for (k = 0; k < 3; k++)
		blocker_wait_asleep(&b[k]);
	blocker_cancel(&b[victim]);
	for (k = 1; k <= 2; k++) {
		ck_assert_int_eq(chan_timedsend(ch, &(uint64_t){ k }, &ts), 0);
		/* One at a time, so that one receiver cannot have both. */
		while (served < k) {
			served = 0;
			for (int j = 0; j < 3; j++)
				served += j != victim &&
				    atomic_load(&b[j].returned);
			sched_yield();
		}
	}
	for (k = 0; k < 3; k++) {
		if (k == victim)
			continue;
		ck_assert_int_eq(pthread_join(b[k].thr, NULL), 0);
		ck_assert_int_eq(b[k].err, 0);
		ck_assert(b[k].elem == 1 || b[k].elem == 2);
		ck_assert_msg((seen & (1u << b[k].elem)) == 0, "%llu received "
		    "twice", (unsigned long long)b[k].elem);
		seen |= 1u << b[k].elem;
	}
	check_no_stale_receiver(ch, cap);
	check_still_works(ch, cap);
	chan_destroy(ch);
}
END_TEST

/*
 * Three senders block in different calls; one is cancelled; the receiver
 * gets what was buffered, then the other two elements once each, and never
 * the cancelled sender's.
 */
START_TEST(cancel_one_of_three_blocked_senders_leaves_others_served)
{
	static const enum op ops[3] = { OP_TIMEDSEND, OP_SELECT_SEND, OP_SEND };
	size_t cap = _i < 3 ? 0 : 2;
	int victim = _i % 3, k;
	struct blocker b[3] = { 0 };
	struct timespec ts = stress_deadline(LONG_WAIT);
	uint64_t m, seen = 0;
	chan_t *ch = make_chan(cap, true);

	for (k = 0; k < 3; k++)
		blocker_start(&b[k], ch, NULL, ops[k], 10 + (uint64_t)k);
	for (k = 0; k < 3; k++)
		blocker_wait_asleep(&b[k]);
	blocker_cancel(&b[victim]);
	for (k = 0; k < (int)cap; k++) {
		ck_assert_int_eq(chan_timedrecv(ch, &m, &ts), 0);
		ck_assert_uint_eq(m, PREFILL + (uint64_t)k);
	}
	for (k = 0; k < 2; k++) {
		ck_assert_int_eq(chan_timedrecv(ch, &m, &ts), 0);
		ck_assert_msg(m >= 10 && m < 13 && m != 10 + (uint64_t)victim,
		    "received %llu: the cancelled sender's element is 10 + %d",
		    (unsigned long long)m, victim);
		ck_assert_msg((seen & (1u << (m - 10))) == 0, "%llu received "
		    "twice", (unsigned long long)m);
		seen |= 1u << (m - 10);
	}
	for (k = 0; k < 3; k++) {
		if (k == victim)
			continue;
		ck_assert_int_eq(pthread_join(b[k].thr, NULL), 0);
		ck_assert_int_eq(b[k].err, 0);
	}
	ck_assert_int_eq(chan_tryrecv(ch, &m), EAGAIN);
	check_still_works(ch, cap);
	chan_destroy(ch);
}
END_TEST

/*
 * Two receivers sleep on an empty buffered channel, the first one queued
 * first.  A send wakes that one to retry (a sleeper is not handed the
 * element) and it is cancelled at once.  Whether it took the element before
 * the cancel acted, or died holding the wake-up, the element reaches exactly
 * one of the two: a wake-up dying with its thread would leave the second
 * asleep beside it.
 */
START_TEST(receiver_cancelled_while_woken_passes_the_wakeup_on)
{
	static const enum op ops[] = { OP_RECV, OP_TIMEDRECV, OP_SELECT_RECV,
	    OP_RECVN };
	enum op op = ops[_i % 4];
	size_t cap = _i < 4 ? 1 : 4;
	unsigned long round, rounds = stress_scale(20);
	struct blocker b1, b2;
	void *ret;
	chan_t *ch;

	for (round = 0; round < rounds; round++) {
		ch = make_chan(cap, false);
		memset(&b1, 0, sizeof(b1));
		memset(&b2, 0, sizeof(b2));
		blocker_start(&b1, ch, NULL, op, 0);
		blocker_wait_asleep(&b1);
		blocker_start(&b2, ch, NULL, OP_TIMEDRECV, 0);
		blocker_wait_asleep(&b2);
		ck_assert_int_eq(chan_trysend(ch, &(uint64_t){ 7 }), 0);
		ck_assert_int_eq(pthread_cancel(b1.thr), 0);
		ck_assert_int_eq(pthread_join(b1.thr, &ret), 0);
		if (ret == PTHREAD_CANCELED) {
			ck_assert_int_eq(pthread_join(b2.thr, NULL), 0);
			ck_assert_msg(b2.err == 0 && b2.elem == 7, "%s cancelled "
			    "after its wake-up: the other receiver got %d, "
			    "%llu", opname[op], b2.err,
			    (unsigned long long)b2.elem);
		} else {
			/* It ran before the cancel could act: it has the 7. */
			ck_assert_int_eq(b1.err, 0);
			ck_assert_uint_eq(b1.elem, 7);
			ck_assert(!atomic_load(&b2.returned));
			blocker_cancel(&b2);
		}
		check_no_stale_receiver(ch, cap);
		chan_destroy(ch);
	}
}
END_TEST

/*
 * The same for senders: two sleep on a full buffered channel; a receive
 * wakes the first to retry and it is cancelled at once.  The second sender
 * still gets the free slot if the first did not take it.
 */
START_TEST(sender_cancelled_while_woken_passes_the_wakeup_on)
{
	static const enum op ops[] = { OP_SEND, OP_TIMEDSEND, OP_SELECT_SEND,
	    OP_SENDN };
	enum op op = ops[_i % 4];
	size_t cap = _i < 4 ? 1 : 4;
	unsigned long round, rounds = stress_scale(20);
	struct timespec ts;
	struct blocker b1, b2;
	uint64_t m, v;
	void *ret;
	chan_t *ch;

	for (round = 0; round < rounds; round++) {
		ch = make_chan(cap, true);
		memset(&b1, 0, sizeof(b1));
		memset(&b2, 0, sizeof(b2));
		blocker_start(&b1, ch, NULL, op, 500);
		blocker_wait_asleep(&b1);
		blocker_start(&b2, ch, NULL, OP_TIMEDSEND, 600);
		blocker_wait_asleep(&b2);
		ck_assert_int_eq(chan_tryrecv(ch, &m), 0);
		ck_assert_uint_eq(m, PREFILL);
		ck_assert_int_eq(pthread_cancel(b1.thr), 0);
		ck_assert_int_eq(pthread_join(b1.thr, &ret), 0);
		if (ret != PTHREAD_CANCELED)
			ck_assert_int_eq(b1.err, 0);
		ts = stress_deadline(LONG_WAIT);
		for (v = 1; v < cap; v++) {
			ck_assert_int_eq(chan_timedrecv(ch, &m, &ts), 0);
			ck_assert_uint_eq(m, PREFILL + v);
		}
		if (ret != PTHREAD_CANCELED) {
			/* It ran before the cancel could act: 500 went in. */
			ck_assert_int_eq(chan_timedrecv(ch, &m, &ts), 0);
			ck_assert_uint_eq(m, 500);
		}
		ck_assert_int_eq(chan_timedrecv(ch, &m, &ts), 0);
		ck_assert_msg(m == 600, "%s cancelled after its wake-up: got "
		    "%llu, not the other sender's 600", opname[op],
		    (unsigned long long)m);
		ck_assert_int_eq(pthread_join(b2.thr, NULL), 0);
		ck_assert_int_eq(b2.err, 0);
		ck_assert_int_eq(chan_tryrecv(ch, &m), EAGAIN);
		chan_destroy(ch);
	}
}
END_TEST

/*
 * A racer sends 0, 1, 2, ... or receives them (checking each is the next)
 * until its call fails; count is how many it sent or received, published
 * after each call returns, with no cancellation point in between.
 */
struct racer {
	chan_t		*ch;
	enum op		 op;
	pthread_t	 thr;
	atomic_uint	 count;
	size_t		 inflight;	/* elements of the current send call */
	int		 err;
	uint64_t	 rng;
};

static int
racer_recv(struct racer *r, uint64_t *v, size_t *n)
{
	struct chan_case cases[2];
	struct timespec ts;
	int i;

	*n = 1;
	switch (r->op) {
	case OP_RECV:
		return chan_recv(r->ch, v);
	case OP_TIMEDRECV:
		ts = stress_deadline(LONG_WAIT);
		return chan_timedrecv(r->ch, v, &ts);
	case OP_RECVN:
		return chan_recvn(r->ch, v, 1 + stress_rand(&r->rng) % 4, n);
	default:
		cases[0] = (struct chan_case){ NULL, CHAN_SEND, NULL, -1 };
		cases[1] = (struct chan_case){ r->ch, CHAN_RECV, v, -1 };
		if ((i = chan_select(cases, 2)) != 1)
			return i < 0 ? errno : EINVAL;
		return cases[1].err;
	}
}

static void *
recv_racer_main(void *arg)
{
	struct racer *r = arg;
	uint64_t v[4];
	unsigned c = 0;
	size_t n, i;
	int err;

	while ((err = racer_recv(r, v, &n)) == 0) {
		for (i = 0; i < n; i++, c++)
			if (v[i] != c)
				stress_fail("received %llu, expected %u",
				    (unsigned long long)v[i], c);
		atomic_store(&r->count, c);
	}
	r->err = err;
	return NULL;
}

static int
racer_send(struct racer *r, unsigned c, size_t *n)
{
	struct chan_case cases[2];
	struct timespec ts;
	uint64_t v[4] = { c, c + 1, c + 2, c + 3 };
	int i;

	*n = 1;
	switch (r->op) {
	case OP_SEND:
		return chan_send(r->ch, v);
	case OP_TIMEDSEND:
		ts = stress_deadline(LONG_WAIT);
		return chan_timedsend(r->ch, v, &ts);
	case OP_SENDN:
		r->inflight = 1 + stress_rand(&r->rng) % 4;
		return chan_sendn(r->ch, v, r->inflight, n);
	default:
		cases[0] = (struct chan_case){ r->ch, CHAN_SEND, v, -1 };
		cases[1] = (struct chan_case){ NULL, CHAN_RECV, NULL, -1 };
		if ((i = chan_select(cases, 2)) != 0)
			return i < 0 ? errno : EINVAL;
		return cases[0].err;
	}
}

static void *
send_racer_main(void *arg)
{
	struct racer *r = arg;
	unsigned c = 0;
	size_t n;
	int err;

	while ((err = racer_send(r, c, &n)) == 0) {
		c += (unsigned)n;
		atomic_store(&r->count, c);
	}
	r->err = err;
	return NULL;
}

/* Spin until *count reaches want or the other racer stopped; bounded. */
static void
wait_count(atomic_uint *count, unsigned want)
{
	struct timespec limit = stress_deadline(LONG_WAIT);
	unsigned long i;

	for (i = 0; atomic_load(count) < want; i++) {
		ck_assert_msg(!atomic_load(&stress_failed), "worker: %s",
		    stress_fail_msg);
		if ((i & 255) == 0)
			ck_assert_msg(!stress_past(&limit), "no progress");
		sched_yield();
	}
}

/* A random pause of up to a few microseconds, no system call. */
static void
random_spin(uint64_t *rng)
{
	for (unsigned k = stress_rand(rng) % 4096; k > 0; k--)
		atomic_signal_fence(memory_order_seq_cst);
}

static const struct race_case {
	enum op		 op;
	size_t		 cap;
} recv_races[] = {
	{ OP_RECV, 0 }, { OP_RECV, 1 }, { OP_TIMEDRECV, 0 },
	{ OP_TIMEDRECV, 1 }, { OP_SELECT_RECV, 0 }, { OP_SELECT_RECV, 1 },
	{ OP_RECVN, 0 }, { OP_RECVN, 4 },
}, send_races[] = {
	{ OP_SEND, 0 }, { OP_SEND, 1 }, { OP_TIMEDSEND, 0 },
	{ OP_TIMEDSEND, 1 }, { OP_SELECT_SEND, 0 }, { OP_SELECT_SEND, 1 },
	{ OP_SENDN, 0 }, { OP_SENDN, 4 },
};
#define NRACES	((int)(sizeof(recv_races) / sizeof(recv_races[0])))

#define RACE_ROUNDS	60

/* Start a sender racer and a receiver racer on a fresh channel. */
static chan_t *
race_start(struct racer *snd, enum op sop, struct racer *rcv, enum op rop,
    size_t cap, uint64_t *rng)
{
	chan_t *ch;

	ck_assert_ptr_nonnull(ch = chan_create(sizeof(uint64_t), cap,
	    CHAN_BLOCK));
	*snd = (struct racer){ .ch = ch, .op = sop, .rng = stress_rand(rng) };
	*rcv = (struct racer){ .ch = ch, .op = rop, .rng = stress_rand(rng) };
	ck_assert_int_eq(pthread_create(&rcv->thr, NULL, recv_racer_main,
	    rcv), 0);
	ck_assert_int_eq(pthread_create(&snd->thr, NULL, send_racer_main,
	    snd), 0);
	return ch;
}

/* Cancel racer r after it moved a few elements and a random pause. */
static void
race_cancel(struct racer *r, uint64_t *rng)
{
	void *ret;

	wait_count(&r->count, 1 + (unsigned)(stress_rand(rng) % 8));
	random_spin(rng);
	ck_assert_int_eq(pthread_cancel(r->thr), 0);
	ck_assert_int_eq(pthread_join(r->thr, &ret), 0);
	ck_assert_msg(ret == PTHREAD_CANCELED, "%s returned %d instead of "
	    "being cancelled", opname[r->op], r->err);
}

/*
 * A sender and a receiver on one channel; the receiver is cancelled at a
 * random moment, the channel closed, the sender joined, the rest drained.
 * What was sent successfully is what was received, what is left in the
 * buffer, and at most the one element handed to the receiver as it was
 * cancelled; what is left is the tail of 0, 1, 2, ... in order.
 */
START_TEST(receiver_cancelled_mid_transfer_loses_at_most_one)
{
	const struct race_case *rc = &recv_races[_i];
	unsigned long round, rounds = stress_scale(RACE_ROUNDS);
	uint64_t rng = stress_seed((unsigned)_i), m, prev = 0;
	struct racer snd, rcv;
	unsigned r, s, nleft;
	chan_t *ch;
	int err;

	stress_reset();
	for (round = 0; round < rounds; round++) {
		ch = race_start(&snd, OP_SEND, &rcv, rc->op, rc->cap, &rng);
		race_cancel(&rcv, &rng);
		/* The sender is blocked or about to be: no stale receiver. */
		if (rc->cap == 0)
			ck_assert_int_eq(chan_trysend(ch, &(uint64_t){ 0 }),
			    EAGAIN);
		ck_assert_int_eq(chan_close(ch), 0);
		ck_assert_int_eq(pthread_join(snd.thr, NULL), 0);
		ck_assert_int_eq(snd.err, EPIPE);
		ck_assert_msg(!atomic_load(&stress_failed), "worker: %s",
		    stress_fail_msg);
		r = atomic_load(&rcv.count);
		s = atomic_load(&snd.count);
		for (nleft = 0; (err = chan_tryrecv(ch, &m)) == 0; nleft++) {
			if (nleft > 0)
				ck_assert_uint_eq(m, prev + 1);
			prev = m;
		}
		ck_assert_int_eq(err, EPIPE);
		ck_assert_msg(r + nleft <= s && s - r - nleft <= 1, "%s, "
		    "capacity %zu: %u sent, %u received, %u left in the buffer",
		    opname[rc->op], rc->cap, s, r, nleft);
		if (nleft > 0)
			ck_assert_msg(prev == s - 1, "left in the buffer: up to "
			    "%llu of %u sent", (unsigned long long)prev, s);
		chan_destroy(ch);
	}
}
END_TEST

/*
 * A sender and a receiver on one channel; the sender is cancelled at a
 * random moment, the channel closed and the receiver drains it to EPIPE.
 * The receiver got 0, 1, 2, ... in order (no duplicate): what the sender's
 * calls reported sent, plus possibly the element of the call cancelled (for
 * chan_sendn, up to that call's count).
 */
START_TEST(sender_cancelled_mid_transfer_delivers_at_most_once)
{
	const struct race_case *rc = &send_races[_i];
	unsigned long round, rounds = stress_scale(RACE_ROUNDS);
	uint64_t rng = stress_seed((unsigned)_i), m;
	struct racer snd, rcv;
	unsigned r, s, extra;
	chan_t *ch;

	stress_reset();
	for (round = 0; round < rounds; round++) {
		ch = race_start(&snd, rc->op, &rcv, OP_RECV, rc->cap, &rng);
		race_cancel(&snd, &rng);
		/* The receiver is blocked or about to be: no stale sender. */
		if (rc->cap == 0)
			ck_assert_int_eq(chan_tryrecv(ch, &m), EAGAIN);
		ck_assert_int_eq(chan_close(ch), 0);
		ck_assert_int_eq(pthread_join(rcv.thr, NULL), 0);
		ck_assert_int_eq(rcv.err, EPIPE);
		ck_assert_msg(!atomic_load(&stress_failed), "worker: %s",
		    stress_fail_msg);
		r = atomic_load(&rcv.count);
		s = atomic_load(&snd.count);
		extra = rc->op == OP_SENDN ? (unsigned)snd.inflight : 1;
		ck_assert_msg(s <= r && r - s <= extra, "%s, capacity %zu: %u "
		    "sent, %u received", opname[rc->op], rc->cap, s, r);
		chan_destroy(ch);
	}
}
END_TEST

static Suite *
cancel_suite(void)
{
	Suite *s = suite_create("cancel");
	TCase *tc;

	tc = tcase_create("blocked");
	tcase_set_timeout(tc, STRESS_TIMEOUT);
	tcase_add_checked_fixture(tc, NULL, stress_none_counted_blocked);
	tcase_add_loop_test(tc, cancel_blocked_call_leaves_no_stale_waiter, 0,
	    NOPS * NCAPS);
	tcase_add_loop_test(tc, blocking_call_acts_on_pending_cancel, 0,
	    NOPS * NCAPS);
	tcase_add_loop_test(tc,
	    call_with_a_waiting_partner_acts_on_pending_cancel, 0,
	    OP_SELECT_BOTH);
	tcase_add_loop_test(tc, call_on_closed_channel_acts_on_pending_cancel,
	    0, NOPS * NCAPS);
	tcase_add_loop_test(tc, call_that_need_not_wait_acts_on_pending_cancel,
	    0, NOPS * 2);
	tcase_add_loop_test(tc, select_with_no_case_acts_on_pending_cancel,
	    0, 3);
	tcase_add_loop_test(tc,
	    cancel_one_of_three_blocked_receivers_leaves_others_served, 0, 6);
	tcase_add_loop_test(tc,
	    cancel_one_of_three_blocked_senders_leaves_others_served, 0, 6);
	tcase_add_loop_test(tc,
	    receiver_cancelled_while_woken_passes_the_wakeup_on, 0, 8);
	tcase_add_loop_test(tc,
	    sender_cancelled_while_woken_passes_the_wakeup_on, 0, 8);
	suite_add_tcase(s, tc);

	tc = tcase_create("racing");
	tcase_set_timeout(tc, STRESS_TIMEOUT);
	tcase_add_checked_fixture(tc, NULL, stress_none_counted_blocked);
	tcase_add_loop_test(tc,
	    receiver_cancelled_mid_transfer_loses_at_most_one, 0, NRACES);
	tcase_add_loop_test(tc,
	    sender_cancelled_mid_transfer_delivers_at_most_once, 0, NRACES);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(cancel_suite());
	int failed;

	stress_announce_seed("check_cancel");
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
