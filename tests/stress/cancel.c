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
 * Quick by default; STRESS_FULL=1 runs many more trials.  Environment:
 * STRESS_FULL, STRESS_SEED, STRESS_TRIALS (per kind of call and capacity).
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

/* The victim sender: sends 0, 1, 2, ... until it is cancelled. */
static void *
victim_send(void *arg)
{
	struct trial *tr = arg;
	struct rng g;
	struct msg m[BATCH], junk;
	struct chan_case cs[2];
	struct timespec ts;
	unsigned long seq = 0;
	size_t n, done, i;
	int err, idx;

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
		done = 0;
		err = 0;
		ts = victim_deadline(&g);
		switch (tr->op) {
		case OP_SEND:
			err = chan_send(tr->ch, &m[0]);
			done = 1;
			break;
		case OP_TIMEDSEND:
			err = chan_timedsend(tr->ch, &m[0], &ts);
			done = 1;
			break;
		case OP_SENDN:
			err = chan_sendn(tr->ch, m, n, &done);
			break;
		case OP_TIMEDSENDN:
			err = chan_timedsendn(tr->ch, m, n, &done, &ts);
			break;
		case OP_BCAST_SEND:
			err = chan_bcast_send(tr->b, &m[0]);
			done = 1;
			break;
		default:
			cs[0] = (struct chan_case){ tr->ch, CHAN_SEND, &m[0], -1 };
			cs[1] = (struct chan_case){ tr->other, CHAN_RECV, &junk,
			    -1 };
			if (tr->op == OP_SELECT_SEND)
				idx = chan_select(cs, 2);
			else
				idx = chan_timedselect(cs, 2, &ts);
			err = idx == 0 ? cs[0].err : idx < 0 ? errno : EPROTO;
			done = 1;
			break;
		}
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
	struct msg m[BATCH], other;
	struct chan_case cs[2];
	struct timespec ts;
	size_t n, done, i;
	int err, idx;

	rng_seed(&g, tr->seed ^ 0xbeef);
	for (;;) {
		/* Leave the partner's last element for the successor. */
		if (tr->v_nrecv + BATCH >= MAXSEQ)
			pause_us(1000000000);
		n = 1;
		done = 0;
		if (tr->op == OP_RECVN || tr->op == OP_TIMEDRECVN)
			n = 1 + rng_below(&g, BATCH);
		ts = victim_deadline(&g);
		switch (tr->op) {
		case OP_RECV:
			err = chan_recv(tr->ch, &m[0]);
			done = 1;
			break;
		case OP_TIMEDRECV:
			err = chan_timedrecv(tr->ch, &m[0], &ts);
			done = 1;
			break;
		case OP_RECVN:
			err = chan_recvn(tr->ch, m, n, &done);
			break;
		case OP_TIMEDRECVN:
			err = chan_timedrecvn(tr->ch, m, n, &done, &ts);
			break;
		default:
			cs[0] = (struct chan_case){ tr->ch, CHAN_RECV, &m[0], -1 };
			cs[1] = (struct chan_case){ tr->other, CHAN_RECV, &other,
			    -1 };
			if (tr->op == OP_SELECT_RECV)
				idx = chan_select(cs, 2);
			else
				idx = chan_timedselect(cs, 2, &ts);
			err = idx == 0 ? cs[0].err : idx < 0 ? errno : EPROTO;
			done = 1;
			break;
		}
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

int
main(void)
{
	int full = stress_full();
	unsigned long n, i;
	uint64_t seed;
	double start = now_sec();
	static const size_t caps[] = { 0, 1 };
	size_t c;
	int op;

	seed = env_ulong("STRESS_SEED", stress_default_seed());
	n = env_ulong("STRESS_TRIALS", full ? 3000 : 12);
	printf("cancel: seed %llu, %lu trials per call and capacity, %s\n",
	    (unsigned long long)seed, n, full ? "full" : "quick");
	fflush(stdout);
	watchdog_start();
	for (i = 0; i < n; i++)
		for (op = 0; op < NOP; op++)
			for (c = 0; c < 2; c++)
				run_trial((enum op)op, caps[c],
				    seed + (i * NOP + (unsigned long)op) * 2 + c);
	printf("cancel: %lu trials, %lu cancellations, %lu received elements "
	    "lost (at most one each is allowed), %lu in-flight sends delivered, "
	    "%.1f s\n", trials, cancellations, lost_total, delivered_inflight,
	    now_sec() - start);
	return stress_exit("cancel");
}
