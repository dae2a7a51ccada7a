/*
 * A send or receive that found its ring full or empty under its lock and
 * then completes under the next one, white-box.  chan_trysend under
 * CHAN_DROP or CHAN_SLIDE (fast_send gives up on a full ring, and
 * chan__trysend locks again for the policy), chan_send under those
 * policies (transfer_once locks again), and a plain or timed send or
 * receive that polled and locked again (transfer_once) each take the
 * channel's lock a second time; the ring may have changed in between,
 * and the operation then completes where it first did not.  Like a
 * select's locked pass (check_select_window.c), it must then serve the
 * channel: a send into a ring that was drained meanwhile brings an
 * element to a receiver that queued on it, a receive from a ring that
 * was filled meanwhile makes room for a sender that queued.  The other
 * suites reach that second lock with the ring changed only when their
 * threads happen to race into it.  The other tests here stop a call at
 * other points of its path the same way: right after it lets go of a lock
 * (a CHAN_SLIDE send's discard and put, a try receive's answer, a batch
 * that must not look twice, a receive about to serve), right before its
 * first lock (a send's answer), while it waits (a batch handed its first
 * element), at its fence (the waiter's half of the hand-shake), and right
 * before a completer's claim (a waiter that stops waiting there).
 *
 * This program compiles src/chan.c itself, with its chan__lock calls
 * going through relocking() below, which, once armed, runs the test's
 * arrange step on the calling thread before that thread's second lock of
 * the channel's lock for that side (or its first: see
 * send_reads_closed_under_its_lock), its unlocks through unlocking() and
 * unlocking_fence(), which once armed run a step right after the thread
 * lets go of a lock (see slide_discards_and_puts_in_one_step and
 * try_recv_reads_closed_under_its_lock), its chan__wait calls through
 * waiting(), which once armed keeps a waiter spinning until a completer
 * claims it (see batch_handed_first_moves_the_rest) or aborts it as at a
 * deadline, its chan__claim calls through claiming(), which once armed
 * runs a step right before a completer's claim (see
 * claim_comes_before_unlink), and its atomic_thread_fence calls through
 * fencing() (see waiter_fences_between_link_and_second_look).
 * Its channel functions are that copy (libchan.a's chan.o is not linked
 * in); the library has no hook.
 */
#define _GNU_SOURCE 1	/* syscall(2) for testutil.h */

#include "internal.h"

static void	relocking(chan__mutex *);
static void	unlocking(chan__mutex *);
static void	unlocking_fence(chan__mutex *);
static void	fencing(memory_order);
static int	waiting(struct chan__waiter *, const struct timespec *,
		    void (*)(void *), void *);
static int	claiming(struct chan__waiter *);

/*
 * The fence itself, for fencing(): sequentially consistent, as strong as
 * any chan.c issues.  Not inlined: gcc -fsanitize=thread warns of a fence
 * in an inlined copy of a function (-Wtsan), though not of one in place.
 */
static CHAN__NOINLINE void
real_fence(void)
{
	atomic_thread_fence(memory_order_seq_cst);
}

#define chan__lock	relocking
#define chan__unlock	unlocking
#define chan__unlock_fence	unlocking_fence
#define chan__wait	waiting
#define chan__claim	claiming
#undef atomic_thread_fence
#define atomic_thread_fence(order)	fencing(order)
#include "chan.c"
#undef atomic_thread_fence
#undef chan__claim
#undef chan__wait
#undef chan__unlock_fence
#undef chan__unlock
#undef chan__lock

#include "testutil.h"
#include "window.h"

/*
 * Armed: arrange(arrange_arg) runs before the calling thread's lock of
 * armed_mu that follows armed_skip others (1: the one after its first
 * lock).  Thread-local: a partner thread never runs it.
 */
static _Thread_local chan__mutex *armed_mu;
static _Thread_local int armed_skip;
static _Thread_local void (*arrange)(void *);
static _Thread_local void *arrange_arg;

/* For claim_comes_before_unlink, see there. */
static _Thread_local bool aborted_here;
static atomic_bool aborted_locks;

static void
relocking(chan__mutex *mu)
{
	void (*f)(void *) = arrange;

	if (aborted_here)
		atomic_store(&aborted_locks, true);

	if (f != NULL && mu == armed_mu && armed_skip-- == 0) {
		arrange = NULL;
		f(arrange_arg);
	}
	chan__lock(mu);
}

/*
 * Armed: after_unlock(after_unlock_arg) runs right after the calling
 * thread's next unlock of unlock_armed_mu (with or without the fence),
 * with the rest of its call still to come.
 */
static _Thread_local chan__mutex *unlock_armed_mu;
static _Thread_local void (*after_unlock)(void *);
static _Thread_local void *after_unlock_arg;

static void
unlocked(chan__mutex *mu)
{
	void (*f)(void *) = after_unlock;

	if (f != NULL && mu == unlock_armed_mu) {
		after_unlock = NULL;
		f(after_unlock_arg);
	}
}

static void
unlocking(chan__mutex *mu)
{
	chan__unlock(mu);
	unlocked(mu);
}

static void
unlocking_fence(chan__mutex *mu)
{
	chan__unlock_fence(mu);
	unlocked(mu);
}

/*
 * Armed: a call about to wait on spin_on spins, never sleeping, until a
 * completer claims it: a completer then hands it an element (or room),
 * where it would wake a sleeper to retry under its own lock instead.  One
 * about to wait on abort_on waits for abort_now, then aborts as if its
 * deadline had passed, unless a completer claimed it first.
 */
static _Atomic(chan_t *) spin_on;
static _Atomic(chan_t *) abort_on;
static atomic_bool abort_now;

static int
waiting(struct chan__waiter *w, const struct timespec *abstime,
    void (*on_cancel)(void *), void *arg)
{
	const struct chan__entry *e = arg;	/* transfer_once's */

	int s = CHAN__WAITING;

	if (e->ch == atomic_load(&spin_on)) {
		while (atomic_load_explicit(&w->state, memory_order_acquire) ==
		    CHAN__WAITING)
			sched_yield();
	}
	if (e->ch == atomic_load(&abort_on)) {
		/* As a wait whose deadline passed: abort, unless claimed. */
		while (!atomic_load(&abort_now))
			sched_yield();
		if (atomic_compare_exchange_strong(&w->state, &s,
		    CHAN__ABORTED)) {
			aborted_here = true;
			return ETIMEDOUT;
		}
	}
	return chan__wait(w, abstime, on_cancel, arg);
}

/*
 * Armed (before_claim): runs before_claim(before_claim_arg) on the calling
 * thread right before its next claim of a waiter.
 */
static void (*_Atomic before_claim)(void *);
static void *before_claim_arg;

static int
claiming(struct chan__waiter *w)
{
	void (*f)(void *) = atomic_exchange(&before_claim, NULL);

	if (f != NULL)
		f(before_claim_arg);
	return chan__claim(w);
}

#define CALL_VAL	300	/* what the call under test sends */

enum call {
	SELECTSEND,		/* chan_tryselect of one send case */
	TRYSEND,
	SEND,
	TIMEDSEND,
	RECV,
	TIMEDRECV,
};

static const char *const call_name[] = {
	"chan_tryselect", "chan_trysend", "chan_send", "chan_timedsend",
	"chan_recv", "chan_timedrecv",
};

/* Makes call on ch, sending *v or receiving into it; dl for the timed. */
static int
make_call(enum call call, chan_t *ch, int *v, const struct timespec *dl)
{
	struct chan_case c = CASE(ch, CHAN_SEND, v);

	switch (call) {
	case SELECTSEND:
		return chan_tryselect(&c, 1) == 0 ? c.err : errno;
	case TRYSEND:
		return chan_trysend(ch, v);
	case SEND:
		return chan_send(ch, v);
	case TIMEDSEND:
		return chan_timedsend(ch, v, dl);
	case RECV:
		return chan_recv(ch, v);
	default:
		return chan_timedrecv(ch, v, dl);
	}
}

/*
 * One call on a new channel of capacity cap and the policy given, which
 * finds the ring full (a send) or empty (a receive) under its first lock
 * and, changed by window_make_ready, ready under its second.  By the time it
 * returns, the partner must be off its queue and woken.
 */
static void
complete_after_relock(size_t cap, enum chan_policy policy, enum call call)
{
	struct window win = { .ch = new_chan(sizeof(int), cap, policy),
	    .send = call <= TIMEDSEND };
	struct timespec dl = deadline_in(60000);
	_Atomic size_t *queued = win.send ? &win.ch->nrecvw : &win.ch->nsendw;
	struct chan__waiter *w;
	int v = win.send ? CALL_VAL : -1, r, state;
	size_t i;

	if (win.send) {
		for (i = 0; i < cap; i++)
			put(win.ch, OLD + (int)i);	/* full */
	}
	armed_mu = win.send ? &win.ch->send_mu : &win.ch->recv_mu;
	armed_skip = 1;
	arrange_arg = &win;
	arrange = window_make_ready;
	r = make_call(call, win.ch, &v, &dl);
	arrange = NULL;
	ck_assert_msg(win.arranged, "capacity %zu, policy %d, %s returned %d "
	    "before its second lock", cap, (int)policy, call_name[call], r);
	ck_assert_int_eq(r, 0);
	w = atomic_load(&win.partner.w);
	state = atomic_load(&w->state);
	ck_assert_msg(state == CHAN__DONE && atomic_load(queued) == 0,
	    "capacity %zu, policy %d, %s returned with the partner still "
	    "waiting (state %d, %zu queued)", cap, (int)policy,
	    call_name[call], state, (size_t)atomic_load(queued));

	window_finish(&win, v, CALL_VAL);
}

/*
 * CHAN_DROP and CHAN_SLIDE: a try send that found the ring full locks
 * again for the policy, finds room, sends, and serves the receiver that
 * queued meanwhile (capacity 1, whose senders find room in the slot's
 * word, and 3).
 */
START_TEST(trysend_relocked_for_policy_serves_receiver)
{
	complete_after_relock(1, CHAN_DROP, TRYSEND);
	complete_after_relock(3, CHAN_DROP, TRYSEND);
	complete_after_relock(1, CHAN_SLIDE, TRYSEND);
	complete_after_relock(3, CHAN_SLIDE, TRYSEND);
}
END_TEST

/* The same for a plain send, which locks again in transfer_once. */
START_TEST(send_relocked_for_policy_serves_receiver)
{
	complete_after_relock(1, CHAN_DROP, SEND);
	complete_after_relock(3, CHAN_DROP, SEND);
	complete_after_relock(1, CHAN_SLIDE, SEND);
	complete_after_relock(3, CHAN_SLIDE, SEND);
}
END_TEST

/*
 * CHAN_BLOCK: a send that found the ring full polls and locks again,
 * finds room and sends: it serves the receiver that queued meanwhile.
 */
START_TEST(send_relocked_after_poll_serves_receiver)
{
	complete_after_relock(1, CHAN_BLOCK, SEND);
	complete_after_relock(3, CHAN_BLOCK, SEND);
	complete_after_relock(1, CHAN_BLOCK, TIMEDSEND);
	complete_after_relock(3, CHAN_BLOCK, TIMEDSEND);
}
END_TEST

/*
 * A receive that found the ring empty polls and locks again, finds it
 * full and receives: it serves the sender that queued for room.
 */
START_TEST(recv_relocked_after_poll_serves_sender)
{
	complete_after_relock(1, CHAN_BLOCK, RECV);
	complete_after_relock(3, CHAN_BLOCK, RECV);
	complete_after_relock(1, CHAN_BLOCK, TIMEDRECV);
	complete_after_relock(3, CHAN_BLOCK, TIMEDRECV);
}
END_TEST

/*
 * A CHAN_SLIDE send into a full ring takes the oldest element out and puts
 * its own in as one step for the receivers: a receive made as the send
 * lets go of recv_mu finds the ring full, the send's element last.  The
 * send used to drop recv_mu between the two, and a receive there found
 * the ring one short: at capacity 1, chan_tryrecv failed with EAGAIN on a
 * channel that held an element before the send and after it, which no
 * order of the two calls gives (tests/stress/linearize found it).
 */
struct slide_window {
	chan_t		*ch;
	size_t		 cap, got;
	int		 err, v[3];
	bool		 ran;
};

static void
receive_all(void *arg)
{
	struct slide_window *sw = arg;

	sw->ran = true;
	sw->err = chan_tryrecvn(sw->ch, sw->v, sw->cap, &sw->got);
}

static void
slide_in_one_step(size_t cap, enum call call)
{
	struct slide_window sw = { .ch = new_chan(sizeof(int), cap,
	    CHAN_SLIDE), .cap = cap, .err = -1 };
	struct timespec dl = deadline_in(60000);
	int v = CALL_VAL, r;
	size_t i;

	for (i = 0; i < cap; i++)
		put(sw.ch, OLD + (int)i);	/* full */
	unlock_armed_mu = &sw.ch->recv_mu;
	after_unlock_arg = &sw;
	after_unlock = receive_all;
	r = make_call(call, sw.ch, &v, &dl);
	after_unlock = NULL;
	ck_assert_int_eq(r, 0);
	ck_assert_msg(sw.ran, "capacity %zu: %s never unlocked recv_mu",
	    cap, call_name[call]);
	ck_assert_msg(sw.err == 0 && sw.got == cap, "capacity %zu: a receive "
	    "as %s let go of recv_mu found %zu of %zu elements (%s)", cap,
	    call_name[call], sw.err == 0 ? sw.got : 0, cap,
	    sw.err == 0 ? "0" : strerror(sw.err));
	for (i = 0; i + 1 < cap; i++)
		ck_assert_int_eq(sw.v[i], OLD + 1 + (int)i);
	ck_assert_int_eq(sw.v[cap - 1], CALL_VAL);
	ck_assert_uint_eq(chan_len(sw.ch), 0);
	chan_destroy(sw.ch);
}

START_TEST(slide_discards_and_puts_in_one_step)
{
	slide_in_one_step(1, TRYSEND);
	slide_in_one_step(3, TRYSEND);
	slide_in_one_step(1, SEND);
	slide_in_one_step(3, SEND);
	slide_in_one_step(1, TIMEDSEND);
	slide_in_one_step(3, TIMEDSEND);
}
END_TEST

/*
 * A try receive that finds the ring empty answers for the state it found:
 * EAGAIN if the channel was open then, EPIPE only if it was closed, read
 * under recv_mu like the ring.  Read after letting go of recv_mu, closed
 * may belong to a later state: an element sent and the channel closed in
 * between make the receive fail with EPIPE while the ring still holds the
 * element, a state in which the channel is never both empty and closed.
 * The unlock hook sends and closes right after the call lets go of
 * recv_mu.  (A try select may look again after its first pass and take
 * the element: that is an answer too.)
 */
enum try_recv {
	TRYRECV,
	TRYRECVN,
	TRYSELECT,
};

static const char *const try_recv_name[] = {
	"chan_tryrecv", "chan_tryrecvn", "chan_tryselect",
};

static void
send_and_close(void *arg)
{
	chan_t *ch = arg;
	int v = CALL_VAL;

	ck_assert_int_eq(chan_trysend(ch, &v), 0);
	ck_assert_int_eq(chan_close(ch), 0);
}

static int
make_try_recv(enum try_recv call, chan_t *ch, int *v, size_t n)
{
	struct chan_case c = { .ch = ch, .op = CHAN_RECV, .elem = v };
	size_t got = 0;
	int r;

	switch (call) {
	case TRYRECV:
		return chan_tryrecv(ch, v);
	case TRYRECVN:
		r = chan_tryrecvn(ch, v, n, &got);
		ck_assert_uint_eq(got, 0);
		return r;
	default:
		if (chan_tryselect(&c, 1) == 0)
			return c.err;
		return errno;
	}
}

static void
empty_when_looked(size_t cap, enum try_recv call, size_t n)
{
	chan_t *ch = new_chan(sizeof(int), cap, CHAN_BLOCK);
	int v[3] = { -1, -1, -1 }, r;

	unlock_armed_mu = &ch->recv_mu;
	after_unlock_arg = ch;
	after_unlock = send_and_close;
	r = make_try_recv(call, ch, v, n);
	ck_assert_msg(after_unlock == NULL, "capacity %zu: %s never let go "
	    "of recv_mu", cap, try_recv_name[call]);
	after_unlock = NULL;
	ck_assert_msg(r == EAGAIN || r == 0, "capacity %zu: %s (n %zu) "
	    "found the ring empty and the channel open, and failed with %s "
	    "with an element in the ring", cap, try_recv_name[call], n,
	    strerror(r));
	if (r == EAGAIN) {
		ck_assert_uint_eq(chan_len(ch), 1);
		ck_assert_int_eq(chan_recv(ch, v), 0);
	}
	ck_assert_int_eq(v[0], CALL_VAL);
	ck_assert_int_eq(chan_recv(ch, v), EPIPE);
	chan_destroy(ch);
}

START_TEST(try_recv_reads_closed_under_its_lock)
{
	empty_when_looked(1, TRYRECV, 1);
	empty_when_looked(3, TRYRECV, 1);
	empty_when_looked(1, TRYRECVN, 1);
	empty_when_looked(3, TRYRECVN, 3);
	empty_when_looked(1, TRYSELECT, 1);
	empty_when_looked(3, TRYSELECT, 1);
}
END_TEST

/*
 * A batch that does not wait moves what it moves in one critical section:
 * as many elements as the ring has room for (holds) when it looks, to
 * (from) as many partners as wait when it looks on an unbuffered channel.
 * A batch used to look again when its first look moved a single element,
 * in a second critical section, so that a chan_trysendn of two into a
 * ring with room for one sent both when a receiver made room in between,
 * with other senders' elements free to come between the two.  (Only a
 * batch handed its first element, after it waited, moves the rest in a
 * second critical section.)  The unlock hook changes the channel right
 * after the call lets go of its side's lock for the first time: a second
 * look would find more.
 */
enum batch_call {
	TRYN,
	PLAINN,
	TIMEDN,
};

static const char *const batch_name[][3] = {
	{ "chan_trysendn", "chan_sendn", "chan_timedsendn" },
	{ "chan_tryrecvn", "chan_recvn", "chan_timedrecvn" },
};

static int
make_batch(enum batch_call call, bool send, chan_t *ch, int *v, size_t n,
    size_t *count)
{
	struct timespec dl = deadline_in(60000);

	switch (call) {
	case TRYN:
		return send ? chan_trysendn(ch, v, n, count) :
		    chan_tryrecvn(ch, v, n, count);
	case PLAINN:
		return send ? chan_sendn(ch, v, n, count) :
		    chan_recvn(ch, v, n, count);
	default:
		return send ? chan_timedsendn(ch, v, n, count, &dl) :
		    chan_timedrecvn(ch, v, n, count, &dl);
	}
}

struct one_look {
	chan_t		*ch;
	bool		 send;		/* the batch under test sends */
	bool		 ran;
	size_t		 waiting;	/* unbuffered: partners still queued */
};

/* Buffered: a receive makes room for the batch, or sends give it more. */
static void
change_ring(void *arg)
{
	struct one_look *ol = arg;

	ol->ran = true;
	if (ol->send) {
		ck_assert_int_eq(take(ol->ch), OLD);
	} else {
		put(ol->ch, OLD + 1);
		put(ol->ch, OLD + 2);
	}
}

static void
batch_on_ring(enum batch_call call, bool send)
{
	struct one_look ol = { .ch = new_chan(sizeof(int), send ? 2 : 3,
	    CHAN_BLOCK), .send = send };
	int v[3] = { CALL_VAL, CALL_VAL + 1, CALL_VAL + 2 }, r;
	size_t count = 0;

	put(ol.ch, OLD);	/* room for one more; one element to take */
	unlock_armed_mu = send ? &ol.ch->send_mu : &ol.ch->recv_mu;
	after_unlock_arg = &ol;
	after_unlock = change_ring;
	r = make_batch(call, send, ol.ch, v, send ? 2 : 3, &count);
	after_unlock = NULL;
	ck_assert_int_eq(r, 0);
	ck_assert_msg(ol.ran, "%s never let go of its lock",
	    batch_name[!send][call]);
	ck_assert_msg(count == 1, "%s found %s one and moved %zu: it looked "
	    "again after it let go of its lock", batch_name[!send][call],
	    send ? "room for" : "the ring holding", count);
	if (send) {
		ck_assert_int_eq(take(ol.ch), CALL_VAL);
	} else {
		ck_assert_int_eq(v[0], OLD);
		ck_assert_int_eq(take(ol.ch), OLD + 1);
		ck_assert_int_eq(take(ol.ch), OLD + 2);
	}
	ck_assert_uint_eq(chan_len(ol.ch), 0);
	chan_destroy(ol.ch);
}

/* Unbuffered: how many partners are still queued once the lock is let go. */
static void
count_waiting(void *arg)
{
	struct one_look *ol = arg;

	ol->ran = true;
	ol->waiting = atomic_load(ol->send ? &ol->ch->nrecvw :
	    &ol->ch->nsendw);
}

static void
batch_unbuffered(enum batch_call call, bool send)
{
	struct one_look ol = { .ch = new_chan(sizeof(int), 0, CHAN_BLOCK),
	    .send = send, .waiting = 99 };
	struct partner p[2];
	int v[3] = { CALL_VAL, CALL_VAL + 1, CALL_VAL + 2 }, r, i;
	size_t count = 0;

	for (i = 0; i < 2; i++) {
		partner_start(&p[i], send ? OP_RECV : OP_SEND, ol.ch,
		    PARTNER_VAL + i);
		partner_wait_asleep(&p[i]);
	}
	unlock_armed_mu = &ol.ch->send_mu;	/* an unbuffered channel's */
	after_unlock_arg = &ol;
	after_unlock = count_waiting;
	r = make_batch(call, send, ol.ch, v, 3, &count);
	after_unlock = NULL;
	ck_assert_int_eq(r, 0);
	ck_assert_msg(ol.ran, "%s never let go of send_mu",
	    batch_name[!send][call]);
	ck_assert_msg(ol.waiting == 0 && count == 2, "%s with two partners "
	    "waiting left %zu queued when it first let go of send_mu, and "
	    "moved %zu in all", batch_name[!send][call], ol.waiting, count);
	for (i = 0; i < 2; i++) {
		partner_join(&p[i]);
		ck_assert_int_eq(p[i].op.err, 0);
		if (send)
			ck_assert_int_eq(p[i].op.val, CALL_VAL + i);
		else
			ck_assert_int_eq(v[i], PARTNER_VAL + i);
	}
	chan_destroy(ol.ch);
}

/*
 * A batch that waits is handed its first element by the partner that ends
 * its wait, and then moves as many more as go without waiting ("it waits
 * only until the first element can be sent, then sends as many more as
 * the channel takes without waiting"): a chan_sendn (chan_recvn) of three
 * waiting on a full (empty) ring of three, which a batch of the other side
 * then empties (fills), moves all three.  It waits spinning (waiting()):
 * a sleeper is woken to retry instead, and moves all three in one go.
 */
static void
handed_then_rest(bool send)
{
	chan_t *ch = new_chan(sizeof(int), 3, CHAN_BLOCK);
	struct partner p;
	int pv[3] = { PARTNER_VAL, PARTNER_VAL + 1, PARTNER_VAL + 2 };
	int v[3] = { OLD, OLD + 1, OLD + 2 }, i;
	size_t count = 0;

	if (send)
		ck_assert_int_eq(chan_sendn(ch, v, 3, &count), 0);	/* full */
	atomic_store(&spin_on, ch);
	partner_start_n(&p, send ? OP_SENDN : OP_RECVN, ch, 0, pv, 3);
	while (atomic_load(send ? &ch->nsendw : &ch->nrecvw) == 0)
		sched_yield();
	if (send)
		ck_assert_int_eq(chan_recvn(ch, v, 3, &count), 0);
	else
		ck_assert_int_eq(chan_sendn(ch, v, 3, &count), 0);
	ck_assert_uint_eq(count, 3);
	while (!atomic_load(&p.op.returned))
		sched_yield();
	atomic_store(&spin_on, NULL);
	partner_join(&p);
	ck_assert_int_eq(p.op.err, 0);
	ck_assert_msg(p.op.count == 3, "a %s of 3 woken by a partner's "
	    "batch of 3 moved %zu", send ? "chan_sendn" : "chan_recvn",
	    p.op.count);
	for (i = 0; i < 3; i++) {
		if (send)
			ck_assert_int_eq(take(ch), PARTNER_VAL + i);
		else
			ck_assert_int_eq(pv[i], OLD + i);
	}
	ck_assert_uint_eq(chan_len(ch), 0);
	chan_destroy(ch);
}

START_TEST(batch_handed_first_moves_the_rest)
{
	handed_then_rest(true);
	handed_then_rest(false);
}
END_TEST

START_TEST(batch_without_wait_looks_once)
{
	enum batch_call call;

	for (call = TRYN; call <= TIMEDN; call++) {
		batch_on_ring(call, true);
		batch_on_ring(call, false);
		batch_unbuffered(call, true);
		batch_unbuffered(call, false);
	}
}
END_TEST

/*
 * The waiter's half of the hand-shake at the top of src/chan.c: a send or
 * receive about to sleep on a buffered channel links its entry (its side's
 * count goes up), issues a full fence, and only then looks at the ring
 * again; the partner publishes, fences, then reads the count.  Without
 * the waiter's fence both reads may miss (the store-buffer pattern) and
 * the waiter sleeps beside an element or room.  No test on x86 can show
 * that every time by racing a partner: the reordering needs the partner's
 * store, fence and read to fit in the nanoseconds the waiter's store of
 * the count waits to drain (without the fence, check_stress and
 * check_chan each timed out in 2 of 8 runs here).  What can be checked
 * every time is the order the argument rests on.  The copy of chan.c here
 * runs fencing() for each fence; once armed, at the fence of a waiter
 * whose entry is linked (its count reads 1), it holds the waiter there
 * while the test thread publishes an element (takes one) the way a
 * partner that read the count too early does: under its own side's lock,
 * without serving.  The waiter's look after the fence must find it and
 * complete; a waiter that looks before its fence, or issues none, sleeps
 * instead.  (A different but sound hand-shake, a sequentially consistent
 * update of the count instead of the fence, would fail this test too.)
 */
struct fence_window {
	chan_t		*ch;
	_Atomic size_t	*count;		/* the waiter's side's */
	atomic_int	 at_fence;	/* the waiter is held in fencing() */
	atomic_int	 go;		/* the test published: let it go */
};

static _Atomic(struct fence_window *) fence_armed;

static void
fencing(memory_order order)
{
	struct fence_window *fw = atomic_load(&fence_armed);

	(void)order;
	if (fw != NULL && atomic_load(fw->count) == 1 &&
	    atomic_compare_exchange_strong(&fence_armed, &fw, NULL)) {
		atomic_store(&fw->at_fence, 1);
		while (!atomic_load(&fw->go))
			sched_yield();
	}
	real_fence();
}

static void
fence_then_look(size_t cap, bool send)
{
	struct fence_window fw = { .ch = new_chan(sizeof(int), cap,
	    CHAN_BLOCK) };
	struct partner p;
	struct chan__waiter *w;
	size_t i;
	/*
	 * The element, in room for the widest copy in copy_elem: inlined
	 * here, gcc cannot tell which one runs, and warns of the others.
	 */
	int v[CHAN__INLINE / sizeof(int)] = { PARTNER_VAL }, state = -1;

	fw.count = send ? &fw.ch->nsendw : &fw.ch->nrecvw;
	atomic_init(&fw.at_fence, 0);
	atomic_init(&fw.go, 0);
	if (send) {
		for (i = 0; i < cap; i++)
			put(fw.ch, OLD + (int)i);	/* full */
	}
	atomic_store(&fence_armed, &fw);
	partner_start(&p, send ? OP_SEND : OP_RECV, fw.ch, CALL_VAL);
	/* At its fence, or asleep or back without one. */
	while ((w = atomic_load(&p.w)) == NULL)
		sched_yield();
	while (!atomic_load(&fw.at_fence) && !atomic_load(&p.op.returned) &&
	    (state = atomic_load(&w->state)) != CHAN__SLEEPING)
		sched_yield();
	atomic_store(&fence_armed, NULL);
	ck_assert_msg(atomic_load(&fw.at_fence), "capacity %zu: a %s with its "
	    "entry linked issued no fence before it %s", cap,
	    send ? "sender" : "receiver",
	    state == CHAN__SLEEPING ? "slept" : "returned");

	/* The partner that missed the count: its own side's lock, no serve. */
	if (send) {
		chan__lock(&fw.ch->recv_mu);
		ring_take(fw.ch, v, 1);
		chan__unlock(&fw.ch->recv_mu);
		ck_assert_int_eq(v[0], OLD);
	} else {
		chan__lock(&fw.ch->send_mu);
		ring_put(fw.ch, v, 1);
		chan__unlock(&fw.ch->send_mu);
	}
	atomic_store(&fw.go, 1);
	while (!atomic_load(&p.op.returned) &&
	    (state = atomic_load(&w->state)) != CHAN__SLEEPING)
		sched_yield();
	ck_assert_msg(atomic_load(&p.op.returned), "capacity %zu: the %s "
	    "slept with %s there since its fence: it looked before", cap,
	    send ? "sender" : "receiver", send ? "room" : "an element");

	partner_join(&p);
	ck_assert_int_eq(p.op.err, 0);
	ck_assert_uint_eq(atomic_load(fw.count), 0);
	if (send) {
		for (i = 1; i < cap; i++)
			ck_assert_int_eq(take(fw.ch), OLD + (int)i);
		ck_assert_int_eq(take(fw.ch), CALL_VAL);
	} else {
		ck_assert_int_eq(p.op.val, PARTNER_VAL);
	}
	ck_assert_uint_eq(chan_len(fw.ch), 0);
	chan_destroy(fw.ch);
}

START_TEST(waiter_fences_between_link_and_second_look)
{
	fence_then_look(1, false);
	fence_then_look(3, false);
	fence_then_look(1, true);
	fence_then_look(3, true);
}
END_TEST

/*
 * chan__serve loops until neither side moved (DESIGN.md, pitfall 2): a
 * sender it completes from sendq puts an element into the ring, and a
 * receiver that queued on the ring while it was empty must then be served
 * too, by the same serve, since that put was the only publish.  A receive
 * takes the one element of a full ring while a sender waits for room; as
 * it lets go of recv_mu, before it serves, a receiver queues on the now
 * empty ring.  Its serve finds no element for the receiver, moves the
 * sender's element into the ring, and must then hand it to the receiver.
 * Both partners spin (waiting()), so that the serve hands them their
 * element and room, where it would wake a sleeper to retry, which then
 * serves on its own way out.  A serve that made one pass over each side
 * returned with the receiver queued beside the element.
 */
struct serve_window {
	chan_t		*ch;
	struct partner	 receiver;
	bool		 ran;
};

static void
receiver_queues(void *arg)
{
	struct serve_window *sv = arg;

	sv->ran = true;
	partner_start(&sv->receiver, OP_RECV, sv->ch, -1);
	while (atomic_load(&sv->ch->nrecvw) == 0)
		sched_yield();
}

static void
serve_again(bool try)
{
	struct serve_window sv = { .ch = new_chan(sizeof(int), 1,
	    CHAN_BLOCK) };
	struct partner sender;
	size_t queued;
	int v = -1, r;

	put(sv.ch, OLD);				/* full */
	atomic_store(&spin_on, sv.ch);
	partner_start(&sender, OP_SEND, sv.ch, PARTNER_VAL);
	while (atomic_load(&sv.ch->nsendw) == 0)
		sched_yield();
	unlock_armed_mu = &sv.ch->recv_mu;
	after_unlock_arg = &sv;
	after_unlock = receiver_queues;
	r = try ? chan_tryrecv(sv.ch, &v) : chan_recv(sv.ch, &v);
	after_unlock = NULL;
	queued = atomic_load(&sv.ch->nrecvw);
	if (queued > 0)
		chan__serve(sv.ch);	/* let the receiver go, to join it */
	while (!atomic_load(&sender.op.returned) ||
	    (sv.ran && !atomic_load(&sv.receiver.op.returned)))
		sched_yield();
	atomic_store(&spin_on, NULL);
	partner_join(&sender);
	if (sv.ran)
		partner_join(&sv.receiver);
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(v, OLD);
	ck_assert_msg(sv.ran, "%s never let go of recv_mu",
	    try ? "chan_tryrecv" : "chan_recv");
	ck_assert_msg(queued == 0, "%s served the sender waiting for room "
	    "and returned with %zu receiver(s) queued beside its element",
	    try ? "chan_tryrecv" : "chan_recv", queued);
	ck_assert_int_eq(sender.op.err, 0);
	ck_assert_int_eq(sv.receiver.op.err, 0);
	ck_assert_int_eq(sv.receiver.op.val, PARTNER_VAL);
	ck_assert_uint_eq(chan_len(sv.ch), 0);
	chan_destroy(sv.ch);
}

START_TEST(serve_moves_sender_then_serves_receivers_again)
{
	serve_again(false);
	serve_again(true);
}
END_TEST

/*
 * A send reads closed under send_mu, where close cannot change it: a send
 * on a buffered channel that is closed just before the send takes its
 * lock (the close done, both locks let go) fails with EPIPE and puts
 * nothing.  Read before the lock, closed may belong to an earlier state:
 * the send then puts its element into a closed ring, and returns 0 after
 * chan_close returned, while receivers queued at the close were told
 * EPIPE with no element there.  The lock hook closes the channel right
 * before the call's first lock of send_mu.
 */
static void
close_now(void *arg)
{
	ck_assert_int_eq(chan_close(arg), 0);
}

static void
closed_before_lock(size_t cap, enum call call)
{
	chan_t *ch = new_chan(sizeof(int), cap, CHAN_BLOCK);
	struct timespec dl = deadline_in(60000);
	int v = CALL_VAL, r;

	armed_mu = &ch->send_mu;
	armed_skip = 0;
	arrange_arg = ch;
	arrange = close_now;
	r = make_call(call, ch, &v, &dl);
	ck_assert_msg(arrange == NULL, "capacity %zu: %s never took send_mu",
	    cap, call_name[call]);
	arrange = NULL;
	ck_assert_msg(r == EPIPE, "capacity %zu: %s on a channel closed "
	    "before it took send_mu returned %d (%s), and put %zu element(s) "
	    "into the closed ring", cap, call_name[call], r,
	    strerror(r), chan_len(ch));
	ck_assert_uint_eq(chan_len(ch), 0);
	ck_assert_int_eq(chan_tryrecv(ch, &v), EPIPE);
	chan_destroy(ch);
}

START_TEST(send_reads_closed_under_its_lock)
{
	enum call call;

	for (call = SELECTSEND; call <= TIMEDSEND; call++) {
		closed_before_lock(1, call);
		closed_before_lock(3, call);
	}
}
END_TEST

/*
 * A completer claims a waiter before it unlinks its entry (claim_first):
 * while the entry is linked its owner, should it stop waiting, must take
 * the queue's lock to unlink it, so it cannot return, and queue again in
 * a next call, before the completer's claim has been tried; a claim tried
 * after the unlink could take that next call's wait.  A receiver queues on
 * an unbuffered channel; a trysend's claim hook makes it abort, as at a
 * deadline, and then waits for it either to take the lock (the entry was
 * still linked) or to return.
 */
static void
abort_then_watch(void *arg)
{
	struct partner *p = arg;

	atomic_store(&abort_now, true);
	while (!atomic_load(&aborted_locks) && !atomic_load(&p->op.returned))
		sched_yield();
}

START_TEST(claim_comes_before_unlink)
{
	chan_t *ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct partner receiver;
	bool early;
	int v = CALL_VAL;

	atomic_store(&abort_on, ch);
	atomic_store(&abort_now, false);
	atomic_store(&aborted_locks, false);
	partner_start(&receiver, OP_RECV, ch, -1);
	while (atomic_load(&ch->nrecvw) == 0)
		sched_yield();
	before_claim_arg = &receiver;
	atomic_store(&before_claim, abort_then_watch);
	ck_assert_int_eq(chan_trysend(ch, &v), EAGAIN);
	early = !atomic_load(&aborted_locks);
	atomic_store(&abort_on, NULL);
	ck_assert_msg(atomic_load(&before_claim) == NULL,
	    "chan_trysend claimed no waiter");
	partner_join(&receiver);
	ck_assert_msg(!early, "the receiver, aborted right before the "
	    "sender's claim, returned %d without taking the queue's lock: "
	    "its entry had been unlinked before the claim", receiver.op.err);
	ck_assert_int_eq(receiver.op.err, ETIMEDOUT);
	ck_assert_uint_eq(atomic_load(&ch->nrecvw), 0);
	chan_destroy(ch);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("chan_window");
	SRunner *sr;
	int failed;

	ADD(s, trysend_relocked_for_policy_serves_receiver);
	ADD(s, send_relocked_for_policy_serves_receiver);
	ADD(s, send_relocked_after_poll_serves_receiver);
	ADD(s, recv_relocked_after_poll_serves_sender);
	ADD(s, slide_discards_and_puts_in_one_step);
	ADD(s, try_recv_reads_closed_under_its_lock);
	ADD(s, send_reads_closed_under_its_lock);
	ADD(s, batch_without_wait_looks_once);
	ADD(s, batch_handed_first_moves_the_rest);
	ADD(s, waiter_fences_between_link_and_second_look);
	ADD(s, serve_moves_sender_then_serves_receivers_again);
	ADD(s, claim_comes_before_unlink);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
