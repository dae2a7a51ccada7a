/*
 * cancel: threads cancelled at random moments in every blocking call.
 *
 * Each trial pairs a victim, which loops in one kind of blocking call (send,
 * receive or select; plain, timed or batch) on a buffered (capacity 1) or
 * unbuffered channel, with a partner doing the opposite with plain calls.
 * Sends include chan_bcast_send, to a broadcast whose one subscriber is the
 * channel under test.  The main thread cancels the victim at a random moment (at once, after a
 * random pause, or after the partner has moved a random number of
 * messages), joins it, starts a successor, a new thread which most likely
 * gets the victim's stack and thread-local storage (glibc reuses a joined
 * thread's stack), where a stale entry of the victim's would point, and
 * which makes one plain call on the victim's side, and then checks:
 *
 *  - no stale waiter: on an unbuffered channel, with only the partner left
 *    (who waits on the other side), a try call from the main thread on the
 *    victim's side must fail with EAGAIN, on every channel the victim used;
 *  - a cancelled sender's in-flight elements were delivered exactly once or
 *    not at all, so what arrived is exactly the prefix 0 .. X-1 of its
 *    sequence, with X between what it saw sent and what it had in flight;
 *  - a cancelled receiver lost at most one element, and if so, the one
 *    right after the last it returned;
 *  - nothing is duplicated or reordered, and every element is intact;
 *  - the successor's element, sent or received, took its place in the
 *    sequence: a successor sender's arrived once, after every element of
 *    the victim's, and a successor receiver's is the next in line.
 *
 * Queue trials (see run_queue) cancel waiters that have just been woken to
 * retry, one of several queued, and check that the others still take what
 * is there for them.
 *
 * Quick by default; STRESS_FULL=1 runs many more trials.  Environment:
 * STRESS_FULL, STRESS_SEED, STRESS_TRIALS (per kind of call and capacity),
 * STRESS_QUEUE_TRIALS (per queue), STRESS_ONLY (one configuration, as a
 * failing run names it: 'recvn cap 1', 'queue(send) cap 4'), STRESS_STALL
 * (the watchdog's seconds; a queue that stops with a quarter of them gone
 * is a lost wake-up).
 */
#include "stress.h"

#include <sched.h>

enum op {
	OP_SEND, OP_TIMEDSEND, OP_SENDN, OP_TIMEDSENDN, OP_SELECT_SEND,
	OP_TIMEDSELECT_SEND, OP_BCAST_SEND,
	OP_RECV, OP_TIMEDRECV, OP_RECVN, OP_TIMEDRECVN, OP_SELECT_RECV,
	OP_TIMEDSELECT_RECV,
	NOP
};

static const char *const op_name[] = {
	"send", "timedsend", "sendn", "timedsendn", "select(send)",
	"timedselect(send)", "bcast_send", "recv", "timedrecv", "recvn", "timedrecvn",
	"select(recv)", "timedselect(recv)"
};

#define MAXSEQ	4096		/* messages per trial, at most */
#define BATCH	4

struct trial {
	enum op		 op;
	size_t		 cap;
	chan_t		*ch;		/* the channel under test */
	chan_t		*other;		/* unbuffered, idle: a select's 2nd case */
	chan_bcast_t	*b;		/* OP_BCAST_SEND: ch is its subscriber */
	uint64_t	 seed;
	atomic_ulong	 moved;		/* partner progress, for timing */

	/* A victim sender's view (read after join). */
	volatile unsigned long	 v_sent;	/* sends that returned 0 */
	volatile unsigned long	 v_inflight;	/* v_sent + elements in the call */

	/* A victim receiver's view. */
	volatile unsigned long	 v_nrecv;
	uint32_t		 v_recv[MAXSEQ];

	/* The partner's view. */
	unsigned long	 p_count;		/* sent (receiver victims) */
	unsigned long	 p_nrecv;		/* received (sender victims) */
	uint32_t	 p_recv[MAXSEQ + 1];
	unsigned long	 p_succ;		/* the successor's elements */
	unsigned long	 p_succ_at;		/* p_nrecv when the last came */

	/* The successor's call. */
	int		 s_err;
	struct msg	 s_msg;
};

/* A successor sender's element: from sender 1, unlike the victim's. */
#define SUCCESSOR	1

static unsigned long trials, cancellations, lost_total, delivered_inflight;

static int
is_send(enum op op)
{
	return op <= OP_BCAST_SEND;
}

static struct timespec
victim_deadline(struct rng *g)
{
	return deadline_us(rng_below(g, 2000));
}

/*
 * Makes one call of kind op on ch (sends from, or receives into, m[0 ..
 * n)), a select's idle second case receiving from other, a broadcast's
 * send on b; a timed form waits until *ts.  Stores in *done how many
 * elements moved; the call's error, or EPROTO for a select that completed
 * its idle case.
 */
static int
call_op(enum op op, chan_t *ch, chan_t *other, chan_bcast_t *b,
    struct msg *m, size_t n, size_t *done, const struct timespec *ts)
{
	struct chan_case cs[2];
	struct msg junk;
	int idx;

	*done = 1;
	switch (op) {
	case OP_SEND:
		return chan_send(ch, m);
	case OP_TIMEDSEND:
		return chan_timedsend(ch, m, ts);
	case OP_SENDN:
		return chan_sendn(ch, m, n, done);
	case OP_TIMEDSENDN:
		return chan_timedsendn(ch, m, n, done, ts);
	case OP_BCAST_SEND:
		return chan_bcast_send(b, m);
	case OP_RECV:
		return chan_recv(ch, m);
	case OP_TIMEDRECV:
		return chan_timedrecv(ch, m, ts);
	case OP_RECVN:
		return chan_recvn(ch, m, n, done);
	case OP_TIMEDRECVN:
		return chan_timedrecvn(ch, m, n, done, ts);
	default:
		break;
	}
	cs[0] = (struct chan_case){ ch, is_send(op) ? CHAN_SEND : CHAN_RECV, m,
	    -1 };
	cs[1] = (struct chan_case){ other, CHAN_RECV, &junk, -1 };
	if (op == OP_SELECT_SEND || op == OP_SELECT_RECV)
		idx = chan_select(cs, 2);
	else
		idx = chan_timedselect(cs, 2, ts);
	return idx == 0 ? cs[0].err : idx < 0 ? errno : EPROTO;
}

/* The victim sender: sends 0, 1, 2, ... until it is cancelled. */
static void *
victim_send(void *arg)
{
	struct trial *tr = arg;
	struct rng g;
	struct msg m[BATCH];
	struct timespec ts;
	unsigned long seq = 0;
	size_t n, done, i;
	int err;

	rng_seed(&g, tr->seed ^ 0x5eed);
	for (;;) {
		n = 1;
		if (tr->op == OP_SENDN || tr->op == OP_TIMEDSENDN)
			n = 1 + rng_below(&g, BATCH);
		if (seq + n > MAXSEQ)
			n = seq < MAXSEQ ? MAXSEQ - seq : 1;
		for (i = 0; i < n; i++)
			m[i] = msg_make(0, (uint32_t)(seq + i));
		tr->v_inflight = seq + n;
		ts = victim_deadline(&g);
		err = call_op(tr->op, tr->ch, tr->other, tr->b, m, n, &done,
		    &ts);
		if (err == ETIMEDOUT)
			continue;
		if (err != 0 || done < 1 || done > n) {
			violation("cancel: victim %s: %s (%zu of %zu)",
			    op_name[tr->op], strerror(err), done, n);
			pause_us(1000000000);	/* a cancellation point */
		}
		seq += done;
		tr->v_sent = seq;
		/* Past MAXSEQ the partner stops; wait here to be cancelled. */
		if (seq >= MAXSEQ)
			pause_us(1000000000);
	}
	return NULL;
}

/* The victim receiver: receives until it is cancelled. */
static void *
victim_recv(void *arg)
{
	struct trial *tr = arg;
	struct rng g;
	struct msg m[BATCH];
	struct timespec ts;
	size_t n, done, i;
	int err;

	rng_seed(&g, tr->seed ^ 0xbeef);
	for (;;) {
		/* Leave the partner's last element for the successor. */
		if (tr->v_nrecv + BATCH >= MAXSEQ)
			pause_us(1000000000);
		n = 1;
		if (tr->op == OP_RECVN || tr->op == OP_TIMEDRECVN)
			n = 1 + rng_below(&g, BATCH);
		ts = victim_deadline(&g);
		err = call_op(tr->op, tr->ch, tr->other, NULL, m, n, &done,
		    &ts);
		if (err == ETIMEDOUT)
			continue;
		if (err != 0 || done < 1 || done > n) {
			violation("cancel: victim %s: %s (%zu of %zu)",
			    op_name[tr->op], strerror(err), done, n);
			pause_us(1000000000);
		}
		for (i = 0; i < done && tr->v_nrecv < MAXSEQ; i++) {
			if (!msg_valid(&m[i]))
				violation("cancel: victim got garbage");
			tr->v_recv[tr->v_nrecv] = m[i].seq;
			tr->v_nrecv = tr->v_nrecv + 1;
		}
	}
	return NULL;
}

/* Spin for a random while: varies the partner's pace without sleeping. */
static void
dawdle(struct rng *g)
{
	volatile unsigned i, n = rng_below(g, 4) == 0 ? rng_below(g, 20000) : 0;

	for (i = 0; i < n; i++)
		;
}

/* The partner of a victim sender: receives until the channel is closed. */
static void *
partner_recv(void *arg)
{
	struct trial *tr = arg;
	struct rng g;
	struct msg m;
	int err;

	rng_seed(&g, tr->seed ^ 0xfeed);
	while ((err = chan_recv(tr->ch, &m)) == 0) {
		if (msg_valid(&m) && m.sender == SUCCESSOR && m.seq == 0) {
			tr->p_succ++;
			tr->p_succ_at = tr->p_nrecv;
		} else if (!msg_valid(&m) || m.sender != 0)
			violation("cancel: %s cap %zu: partner got garbage",
			    op_name[tr->op], tr->cap);
		else if (tr->p_nrecv < MAXSEQ + 1)
			tr->p_recv[tr->p_nrecv++] = m.seq;
		atomic_fetch_add(&tr->moved, 1);
		dawdle(&g);
	}
	if (err != EPIPE)
		violation("cancel: partner recv: %s", strerror(err));
	return NULL;
}

/* The partner of a victim receiver: sends until the channel is closed. */
static void *
partner_send(void *arg)
{
	struct trial *tr = arg;
	struct rng g;
	struct msg m;
	int err = 0;

	rng_seed(&g, tr->seed ^ 0xf00d);
	while (tr->p_count < MAXSEQ) {
		m = msg_make(0, (uint32_t)tr->p_count);
		if ((err = chan_send(tr->ch, &m)) != 0)
			break;
		tr->p_count++;
		atomic_fetch_add(&tr->moved, 1);
		dawdle(&g);
	}
	if (err != 0 && err != EPIPE)
		violation("cancel: partner send: %s", strerror(err));
	return NULL;
}

/* The successor: one plain call on the victim's side of the channel. */
static void *
successor(void *arg)
{
	struct trial *tr = arg;

	if (!is_send(tr->op))
		tr->s_err = chan_recv(tr->ch, &tr->s_msg);
	else {
		tr->s_msg = msg_make(SUCCESSOR, 0);
		tr->s_err = tr->op == OP_BCAST_SEND ?
		    chan_bcast_send(tr->b, &tr->s_msg) :
		    chan_send(tr->ch, &tr->s_msg);
	}
	if (tr->s_err != 0)
		violation("cancel: %s cap %zu: the successor's %s: %s",
		    op_name[tr->op], tr->cap, is_send(tr->op) ? "send" :
		    "recv", strerror(tr->s_err));
	return NULL;
}

/* Check that no waiter of the dead victim is left on an unbuffered chan. */
static void
check_stale(struct trial *tr, unsigned long *extra, uint32_t *extra_seq)
{
	struct msg m = msg_make(1, 0);
	int err;

	if (tr->cap == 0 && is_send(tr->op)) {
		/* Only the partner, a receiver, is left: nobody to take from. */
		err = chan_tryrecv(tr->ch, &m);
		if (err != EAGAIN)
			violation("cancel: %s cap 0: stale sender: tryrecv %s",
			    op_name[tr->op], strerror(err));
		if (err == 0 && msg_valid(&m))
			extra_seq[(*extra)++] = m.seq;
	}
	if (tr->cap == 0 && !is_send(tr->op)) {
		/* Only the partner, a sender, is left: nobody to give to. */
		err = chan_trysend(tr->ch, &m);
		if (err != EAGAIN)
			violation("cancel: %s cap 0: stale receiver: trysend "
			    "%s", op_name[tr->op], strerror(err));
	}
	if (tr->op == OP_SELECT_SEND || tr->op == OP_TIMEDSELECT_SEND ||
	    tr->op == OP_SELECT_RECV || tr->op == OP_TIMEDSELECT_RECV) {
		err = chan_trysend(tr->other, &m);
		if (err != EAGAIN)
			violation("cancel: %s: stale select entry on its other "
			    "channel: trysend %s", op_name[tr->op],
			    strerror(err));
	}
}

static void
verify_sender(struct trial *tr, unsigned long nextra, uint32_t *extra)
{
	unsigned long i, x = tr->p_nrecv;

	for (i = 0; i < tr->p_nrecv; i++)
		if (tr->p_recv[i] != i) {
			violation("cancel: %s cap %zu: receiver got seq %u at "
			    "position %lu (duplicate, loss or reorder)",
			    op_name[tr->op], tr->cap, tr->p_recv[i], i);
			return;
		}
	for (i = 0; i < nextra; i++)
		if (extra[i] != x++)
			violation("cancel: %s: a stale waiter's element %u",
			    op_name[tr->op], extra[i]);
	/* Everything sent arrived; in-flight ones at most once, in order. */
	if (x < tr->v_sent)
		violation("cancel: %s cap %zu: sender saw %lu sent, %lu arrived",
		    op_name[tr->op], tr->cap, tr->v_sent, x);
	if (x > tr->v_inflight)
		violation("cancel: %s cap %zu: %lu arrived, only %lu were sent "
		    "or in flight", op_name[tr->op], tr->cap, x,
		    tr->v_inflight);
	if (x > tr->v_sent)
		delivered_inflight += x - tr->v_sent;
	if (tr->p_succ != 1 || tr->p_succ_at != tr->p_nrecv)
		violation("cancel: %s cap %zu: the successor's element arrived "
		    "%lu times, the last after %lu of %lu of the victim's",
		    op_name[tr->op], tr->cap, tr->p_succ, tr->p_succ_at,
		    tr->p_nrecv);
}

static void
verify_receiver(struct trial *tr, unsigned long ndrain, uint32_t *drain)
{
	unsigned long i, expect = 0, lost = 0;

	for (i = 0; i < tr->v_nrecv + ndrain; i++) {
		uint32_t seq = i < tr->v_nrecv ? tr->v_recv[i] :
		    drain[i - tr->v_nrecv];

		/*
		 * One gap is allowed: the element handed to the victim at
		 * the moment it was cancelled, just after its last one.
		 */
		if (seq == expect + 1 && i == tr->v_nrecv && lost == 0) {
			lost = 1;
			expect++;
		}
		if (seq != expect) {
			violation("cancel: %s cap %zu: got seq %u, expected "
			    "%lu (victim had %lu)", op_name[tr->op], tr->cap,
			    seq, expect, tr->v_nrecv);
			return;
		}
		expect++;
	}
	if (expect + 1 == tr->p_count && lost == 0) {
		lost = 1;	/* the gap was the last element sent */
		expect++;
	}
	if (expect != tr->p_count)
		violation("cancel: %s cap %zu: partner sent %lu, %lu accounted "
		    "for (victim %lu, drained %lu)", op_name[tr->op], tr->cap,
		    tr->p_count, expect, tr->v_nrecv, ndrain);
	lost_total += lost;
}

static void
run_trial(enum op op, size_t cap, uint64_t seed)
{
	static struct trial tr;
	static uint32_t extra[MAXSEQ + 2];
	pthread_t victim, partner, succ;
	struct rng g;
	unsigned long nextra = 0, want;
	struct msg m;
	void *ret;
	int err;

	memset(&tr, 0, sizeof(tr));
	tr.op = op;
	tr.cap = cap;
	tr.seed = seed;
	rng_seed(&g, seed);
	if (op == OP_BCAST_SEND) {
		/* The channel under test is the broadcast's one subscriber. */
		if ((tr.b = chan_bcast_create(sizeof(struct msg))) == NULL ||
		    (tr.ch = chan_bcast_subscribe(tr.b, cap, CHAN_BLOCK)) ==
		    NULL) {
			perror("chan_bcast");
			exit(2);
		}
	} else
		tr.ch = chan_create(sizeof(struct msg), cap, CHAN_BLOCK);
	tr.other = chan_create(sizeof(struct msg), 0, CHAN_BLOCK);
	if (tr.ch == NULL || tr.other == NULL) {
		perror("chan_create");
		exit(2);
	}
	set_phase("cancel seed %llu: %s cap %zu", (unsigned long long)seed,
	    op_name[op], cap);
	spawn(&partner, is_send(op) ? partner_recv : partner_send, &tr);
	spawn(&victim, is_send(op) ? victim_send : victim_recv, &tr);

	/* A random moment: at once, after a pause, or after some traffic. */
	switch (rng_below(&g, 4)) {
	case 0:
		break;
	case 1:
		pause_us(rng_below(&g, 300));
		break;
	default:
		want = rng_below(&g, 64);
		while (atomic_load(&tr.moved) < want)
			sched_yield();
		pause_us(rng_below(&g, 50));
		break;
	}
	if ((err = pthread_cancel(victim)) != 0)
		violation("pthread_cancel: %s", strerror(err));
	if ((err = pthread_join(victim, &ret)) != 0 || ret != PTHREAD_CANCELED)
		violation("cancel: %s: victim not cancelled", op_name[op]);
	cancellations++;

	/*
	 * The successor's call completes with the partner's help (a sender's
	 * reaches the receiving partner; a receiver takes the element the
	 * victim left the partner to send), before the main thread looks for
	 * stale waiters: it may be one, at the victim's address.
	 */
	spawn(&succ, successor, &tr);
	join(succ);
	if (!is_send(op) && tr.s_err == 0) {
		if (!msg_valid(&tr.s_msg))
			violation("cancel: the successor got garbage");
		extra[nextra++] = tr.s_msg.seq;
	}
	check_stale(&tr, &nextra, extra);
	if (op == OP_BCAST_SEND) {
		/*
		 * The cancelled sender gave back its turn and its subscriber:
		 * unsubscribing returns (and closes tr.ch, which ends the
		 * partner), and a new send goes through.
		 */
		if ((err = chan_bcast_unsubscribe(tr.b, tr.ch)) != 0)
			violation("cancel: bcast_unsubscribe: %s",
			    strerror(err));
		m = msg_make(2, 0);
		if ((err = chan_bcast_send(tr.b, &m)) != 0)
			violation("cancel: bcast_send after a cancelled one: "
			    "%s", strerror(err));
	} else if ((err = chan_close(tr.ch)) != 0)
		violation("cancel: chan_close: %s", strerror(err));
	join(partner);
	if (!is_send(op)) {
		/* Drain what the partner left in the buffer. */
		while (nextra < MAXSEQ && (err = chan_recv(tr.ch, &m)) == 0) {
			if (!msg_valid(&m))
				violation("cancel: garbage in the buffer");
			extra[nextra++] = m.seq;
		}
		verify_receiver(&tr, nextra, extra);
	} else
		verify_sender(&tr, nextra, extra);
	if (chan_len(tr.ch) != 0)
		violation("cancel: %s cap %zu: chan_len %zu at the end",
		    op_name[op], cap, chan_len(tr.ch));
	chan_destroy(tr.ch);
	chan_destroy(tr.other);
	chan_bcast_destroy(tr.b);
	trials++;
	progress();
}

/*
 * Queue trials: two to QMAX waiters on one side of a buffered channel,
 * each looping in a call of its own kind, and the main thread on the other
 * side.  Each round, with every waiter asleep (a pause: a waiter still
 * spinning would be handed its element instead), the main thread makes up
 * to cap elements (or free slots) available with calls that never wait.
 * The first makes the channel wake its first sleeper to retry, and the
 * main thread at once cancels the waiter that entered its call first,
 * most likely that one (now and then another, or none).  A thread woken to
 * retry and cancelled before it ran must pass the wake-up on; if it does
 * not, the others sleep beside what they wait for.  So the round must
 * settle, the ring empty again (or full), before a successor takes the
 * victim's place: a new call would find what was left and hide the loss.
 * A round in which nothing moves for strand_s seconds while it has not
 * settled is a lost wake-up: a liveness failure, not a speed limit, since
 * every waiter could go on.  In the end the channel is closed, and each
 * element must have arrived once, in order, as in the other trials.
 */
#define QMAX		5		/* waiters, at most */
#define QROUNDS		16
#define QCAP		4		/* the larger capacity */
#define QINC		(QMAX + QROUNDS)	/* threads in a trial */
#define QSEQ		(QROUNDS * QCAP)	/* main's sends */
#define QMAIN		QINC		/* its sender number */

struct qtrial;

/*
 * One waiter thread of a queue trial, from its start to its end.  A
 * sender's view is that of struct trial's victim; ticket is its call's
 * place in line (0 while it is between calls).
 */
struct qthread {
	struct qtrial		*qt;
	pthread_t		 thr;
	uint32_t		 id;
	enum op			 op;
	int			 cancelled;
	atomic_ulong		 ticket;
	volatile unsigned long	 sent;
	volatile unsigned long	 inflight;
	long			 last;	/* a receiver's last seq */
};

/*
 * A queue trial: slot[0 .. k) are the live waiters, th[0 .. nth) every
 * thread started.  Receivers count in got[] each seq of the main thread's
 * nsent; for senders, next[] holds how many of each the main thread took.
 */
struct qtrial {
	int		 send;		/* the waiters send */
	size_t		 cap;
	chan_t		*ch;
	chan_t		*other;	/* a select's idle 2nd case */
	uint64_t	 seed;
	unsigned	 k, nth;
	struct qthread	*slot[QMAX];
	struct qthread	 th[QINC];
	atomic_ulong	 tickets;
	atomic_ulong	 moved;		/* by the waiters */
	atomic_uchar	 got[QSEQ];
	unsigned long	 nsent;
	unsigned long	 next[QINC];
};

static const enum op qrecv_ops[] = { OP_RECV, OP_TIMEDRECV, OP_RECVN,
    OP_TIMEDRECVN, OP_SELECT_RECV, OP_TIMEDSELECT_RECV };
static const enum op qsend_ops[] = { OP_SEND, OP_TIMEDSEND, OP_SENDN,
    OP_TIMEDSENDN, OP_SELECT_SEND, OP_TIMEDSELECT_SEND };

static unsigned long strand_s, queue_rounds, queue_cancels;
static int stranded;

/*
 * One call of a queue waiter, which must wait until the main thread acts:
 * a timed call's deadline is far away, since one that timed out would look
 * again and find what a lost wake-up left behind.
 */
static int
qcall(struct qthread *t, struct msg *m, size_t n, size_t *done)
{
	struct timespec ts = deadline_us(1000L * 1000000);

	return call_op(t->op, t->qt->ch, t->qt->other, NULL, m, n, done, &ts);
}

/* A receiver's elements: the main thread's, each once, in order. */
static void
qreceived(struct qthread *t, const struct msg *m, size_t done)
{
	struct qtrial *qt = t->qt;
	size_t i;

	for (i = 0; i < done; i++) {
		if (!msg_valid(&m[i]) || m[i].sender != QMAIN ||
		    m[i].seq >= QSEQ) {
			violation("cancel: %s in a queue: garbage",
			    op_name[t->op]);
			continue;
		}
		if ((long)m[i].seq <= t->last)
			violation("cancel: %s in a queue: seq %u after %ld",
			    op_name[t->op], m[i].seq, t->last);
		t->last = m[i].seq;
		atomic_fetch_add(&qt->got[m[i].seq], 1);
	}
}

/* A queue waiter: calls until cancelled, or until the channel closes. */
static void *
qwaiter(void *arg)
{
	struct qthread *t = arg;
	struct qtrial *qt = t->qt;
	struct rng g;
	struct msg m[BATCH];
	unsigned long seq = 0;
	size_t n, done, i;
	int err;

	rng_seed(&g, qt->seed ^ t->id);
	for (;;) {
		n = 1;
		if (t->op == OP_SENDN || t->op == OP_TIMEDSENDN ||
		    t->op == OP_RECVN || t->op == OP_TIMEDRECVN)
			n = 1 + rng_below(&g, BATCH);
		for (i = 0; qt->send && i < n; i++)
			m[i] = msg_make(t->id, (uint32_t)(seq + i));
		t->inflight = seq + n;
		atomic_store(&t->ticket, atomic_fetch_add(&qt->tickets, 1) + 1);
		err = qcall(t, m, n, &done);
		atomic_store(&t->ticket, 0);
		if (err == EPIPE)
			break;
		if (err != 0 || done < 1 || done > n) {
			violation("cancel: %s in a queue: %s (%zu of %zu)",
			    op_name[t->op], strerror(err), done, n);
			break;
		}
		if (qt->send) {
			seq += done;
			t->sent = seq;
		} else
			qreceived(t, m, done);
		atomic_fetch_add(&qt->moved, done);
	}
	return NULL;
}

/* Starts a waiter in slot i, a new thread with a random call. */
static void
qstart(struct qtrial *qt, unsigned i, struct rng *g)
{
	struct qthread *t = &qt->th[qt->nth];

	t->qt = qt;
	t->id = qt->nth++;
	t->op = qt->send ? qsend_ops[rng_below(g, 6)] :
	    qrecv_ops[rng_below(g, 6)];
	t->last = -1;
	qt->slot[i] = t;
	spawn(&t->thr, qwaiter, t);
}

/* What the main thread takes from the senders: each one's, in order. */
static void
qtake(struct qtrial *qt, const struct msg *m)
{
	if (!msg_valid(m) || m->sender >= qt->nth)
		violation("cancel: queue(send) cap %zu: garbage", qt->cap);
	else if (m->seq != qt->next[m->sender])
		violation("cancel: queue(send) cap %zu: sender %u's seq %u, "
		    "expected %lu", qt->cap, m->sender, m->seq,
		    qt->next[m->sender]);
	else
		qt->next[m->sender]++;
}

/*
 * Makes j elements (or free slots) available, in one batch or one at a
 * time, with calls that never wait.  The ring was empty (full) when the
 * round began, and only the waiters fill (empty) it: all j must go.
 */
static void
qoffer(struct qtrial *qt, size_t j, int batch)
{
	struct msg m[QCAP];
	size_t i, done = 0;
	int err = 0;

	for (i = 0; !qt->send && i < j; i++)
		m[i] = msg_make(QMAIN, (uint32_t)(qt->nsent + i));
	if (batch)
		err = qt->send ? chan_tryrecvn(qt->ch, m, j, &done) :
		    chan_trysendn(qt->ch, m, j, &done);
	for (; !batch && done < j && err == 0; done += err == 0)
		err = qt->send ? chan_tryrecv(qt->ch, &m[done]) :
		    chan_trysend(qt->ch, &m[done]);
	if (!qt->send)
		qt->nsent += done;
	for (i = 0; qt->send && i < done; i++)
		qtake(qt, &m[i]);
	if (done != j)
		violation("cancel: queue(%s) cap %zu: %s%s moved %zu of %zu: "
		    "%s", qt->send ? "send" : "recv", qt->cap, qt->send ?
		    "tryrecv" : "trysend", batch ? "n" : "", done, j,
		    strerror(err));
}

/* The live waiter that entered its call first (most likely the head). */
static unsigned
qfirst(struct qtrial *qt)
{
	unsigned i, best = 0;
	unsigned long t, min = ~0UL;

	for (i = 0; i < qt->k; i++)
		if ((t = atomic_load(&qt->slot[i]->ticket)) != 0 && t < min) {
			min = t;
			best = i;
		}
	return best;
}

/*
 * Waits until the waiters took what the round offered: receivers emptied
 * the ring, senders filled it.  Returns 0, or -1 after a violation when
 * nothing moved for strand_s seconds.
 */
static int
qsettle(struct qtrial *qt, const char *what)
{
	char who[QMAX * 32] = "";
	size_t len, last_len = ~(size_t)0, o = 0;
	unsigned long moved, last_moved = ~0UL;
	double since = now_sec();
	unsigned i;

	for (;;) {
		len = chan_len(qt->ch);
		if (qt->send ? len == qt->cap : len == 0)
			return 0;
		moved = atomic_load(&qt->moved);
		if (len != last_len || moved != last_moved) {
			last_len = len;
			last_moved = moved;
			since = now_sec();
			progress();
		} else if (now_sec() - since >= (double)strand_s)
			break;
		pause_us(50);
	}
	for (i = 0; i < qt->k && o < sizeof(who); i++)
		o += (size_t)snprintf(who + o, sizeof(who) - o, "%s%s%s",
		    i > 0 ? ", " : "", op_name[qt->slot[i]->op],
		    qt->slot[i]->cancelled ? " (cancelled)" :
		    atomic_load(&qt->slot[i]->ticket) != 0 ? "" :
		    " (between calls)");
	violation("cancel: queue(%s) cap %zu: %zu of %zu slots full %s, "
	    "nothing moved for %lu s while the waiters (%s) could: a lost "
	    "wake-up", qt->send ? "send" : "recv", qt->cap, len, qt->cap,
	    what, strand_s, who);
	stranded = 1;
	return -1;
}

/*
 * One round: offer, cancel, settle, replace.  The victim is the first in
 * line, cancelled at once (how 1 to 4) or after up to 50 us (5), or anyone
 * (0); in a quarter of the rounds (6, 7) nobody is cancelled.
 */
static int
qround(struct qtrial *qt, struct rng *g)
{
	size_t j = 1 + rng_below(g, (uint32_t)qt->cap);
	unsigned v = qfirst(qt), how = rng_below(g, 8);
	int batch = j > 1 && rng_below(g, 2), err;
	struct qthread *t;
	char what[64];

	if (how == 0)
		v = rng_below(g, qt->k);
	t = qt->slot[v];
	qoffer(qt, batch ? j : 1, batch);
	if (how == 5)
		pause_us(rng_below(g, 50));
	if (how < 6 && (err = pthread_cancel(t->thr)) != 0)
		violation("pthread_cancel: %s", strerror(err));
	if (!batch && j > 1)
		qoffer(qt, j - 1, 0);
	if (how < 6) {
		join(t->thr);
		t->cancelled = 1;
		queue_cancels++;
	}
	snprintf(what, sizeof(what), "after %zu offered%s%s", j,
	    how < 6 ? ", cancelled " : "", how < 6 ? op_name[t->op] : "");
	queue_rounds++;
	if (qsettle(qt, what) != 0)
		return -1;
	if (t->cancelled)
		qstart(qt, v, g);
	/* Time for every waiter to queue and fall asleep again. */
	pause_us(300 + rng_below(g, 700));
	return 0;
}

/*
 * After the close, with every waiter joined and the ring drained: each of
 * the main thread's elements came once; a sender's arrived, as a prefix of
 * its own, from what it saw sent to what it had in flight.
 */
static void
qverify(struct qtrial *qt)
{
	struct qthread *t;
	unsigned long i;
	unsigned n;

	if (!qt->send) {
		for (i = 0; i < qt->nsent; i++)
			if (atomic_load(&qt->got[i]) != 1)
				violation("cancel: queue(recv) cap %zu: seq "
				    "%lu received %u times", qt->cap, i,
				    atomic_load(&qt->got[i]));
		return;
	}
	for (n = 0; n < qt->nth; n++) {
		t = &qt->th[n];
		if (qt->next[n] < t->sent || qt->next[n] > t->inflight)
			violation("cancel: queue(send) cap %zu: %s (%s) saw "
			    "%lu sent, %lu in flight; %lu arrived", qt->cap,
			    op_name[t->op], t->cancelled ? "cancelled" : "live",
			    t->sent, t->inflight, qt->next[n]);
	}
}

static void
run_queue(int send, size_t cap, uint64_t seed)
{
	static struct qtrial qt;
	struct rng g;
	struct msg m;
	unsigned i, r;
	int err;

	memset(&qt, 0, sizeof(qt));
	qt.send = send;
	qt.cap = cap;
	qt.seed = seed;
	rng_seed(&g, seed);
	qt.k = 2 + rng_below(&g, QMAX - 1);
	qt.ch = chan_create(sizeof(struct msg), cap, CHAN_BLOCK);
	qt.other = chan_create(sizeof(struct msg), 0, CHAN_BLOCK);
	if (qt.ch == NULL || qt.other == NULL) {
		perror("chan_create");
		exit(2);
	}
	set_phase("cancel seed %llu: queue(%s) cap %zu, %u waiters",
	    (unsigned long long)seed, send ? "send" : "recv", cap, qt.k);
	for (i = 0; i < qt.k; i++)
		qstart(&qt, i, &g);
	/* Senders fill the ring before they sleep. */
	if (qsettle(&qt, "at the start") == 0) {
		pause_us(1000);
		for (r = 0; r < QROUNDS; r++)
			if (qround(&qt, &g) != 0)
				break;
	}
	/* The close wakes every waiter; receivers take what is left. */
	if ((err = chan_close(qt.ch)) != 0)
		violation("cancel: queue: chan_close: %s", strerror(err));
	for (i = 0; i < qt.k; i++)
		if (!qt.slot[i]->cancelled)
			join(qt.slot[i]->thr);
	while (send && (err = chan_tryrecv(qt.ch, &m)) == 0)
		qtake(&qt, &m);
	qverify(&qt);
	chan_destroy(qt.ch);
	chan_destroy(qt.other);
	trials++;
	progress();
}

/*
 * The configurations, as STRESS_ONLY names them: each call at each
 * capacity, then each queue.  Their trials alternate: the i-th of each.
 */
#define NCFG	(NOP * 2 + 4)

static const char *only;		/* STRESS_ONLY */
static char failed_cfg[64];		/* the first to fail, to repeat it */
static const size_t caps[] = { 0, 1 }, qcaps[] = { 1, QCAP };

static const char *
cfg_name(int cfg)
{
	static char buf[64];

	if (cfg < NOP * 2)
		snprintf(buf, sizeof(buf), "%s cap %zu", op_name[cfg / 2],
		    caps[cfg % 2]);
	else
		snprintf(buf, sizeof(buf), "queue(%s) cap %zu",
		    (cfg - NOP * 2) / 2 ? "send" : "recv",
		    qcaps[(cfg - NOP * 2) % 2]);
	return buf;
}

/* The i-th trial of configuration cfg; its seed comes from its place. */
static void
run_cfg(int cfg, unsigned long i, uint64_t seed)
{
	unsigned long before = atomic_load(&stress_violations);
	int q = cfg - NOP * 2;

	if (cfg < NOP * 2)
		run_trial((enum op)(cfg / 2), caps[cfg % 2],
		    seed + (i * NOP + (unsigned long)cfg / 2) * 2 + cfg % 2);
	else
		run_queue(q / 2, qcaps[q % 2], seed + ((uint64_t)1 << 32) +
		    i * 4 + (unsigned long)q);
	if (atomic_load(&stress_violations) != before &&
	    failed_cfg[0] == '\0')
		snprintf(failed_cfg, sizeof(failed_cfg), "%s", cfg_name(cfg));
}

int
main(void)
{
	int full = stress_full(), cfg, found = 0;
	unsigned long n, nq, i;
	uint64_t seed;
	double start = now_sec();

	seed = stress_run_seed();
	n = env_ulong("STRESS_TRIALS", full ? 3000 : 12);
	nq = env_ulong("STRESS_QUEUE_TRIALS", full ? 200 : 6);
	strand_s = stress_strand_s();
	only = getenv("STRESS_ONLY");
	for (cfg = 0; cfg < NCFG; cfg++)
		found |= only == NULL || strcmp(only, cfg_name(cfg)) == 0;
	if (!found) {
		fprintf(stderr, "STRESS_ONLY: no configuration '%s'\n", only);
		return 2;
	}
	printf("cancel: seed %llu (STRESS_SEED=%llu to repeat), %lu trials per "
	    "call and capacity, %lu per queue, %s\n", (unsigned long long)seed,
	    (unsigned long long)seed, n, nq, full ? "full" : "quick");
	fflush(stdout);
	watchdog_start();
	for (i = 0; i < n || i < nq; i++)
		for (cfg = 0; cfg < NCFG; cfg++) {
			if (i >= (cfg < NOP * 2 ? n : nq) || (only != NULL &&
			    strcmp(only, cfg_name(cfg)) != 0))
				continue;
			/* A lost wake-up would cost each queue strand_s. */
			if (cfg >= NOP * 2 && stranded)
				continue;
			run_cfg(cfg, i, seed);
		}
	printf("cancel: %lu trials, %lu cancellations, %lu received elements "
	    "lost (at most one each is allowed), %lu in-flight sends "
	    "delivered, %lu queue rounds (%lu with a cancellation), %.1f s\n",
	    trials, cancellations + queue_cancels, lost_total,
	    delivered_inflight, queue_rounds, queue_cancels, now_sec() - start);
	if (failed_cfg[0] != '\0')
		fprintf(stderr, "cancel: to repeat: STRESS_SEED=%llu "
		    "STRESS_ONLY='%s'%s\n", (unsigned long long)seed,
		    failed_cfg, full ? " STRESS_FULL=1" : "");
	return stress_exit("cancel");
}
