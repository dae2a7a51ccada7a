/*
 * For the window tests (check_*_window.c), which include internal.h and
 * testutil.h first: a partner thread that waits in one plain send or
 * receive, a way to know that it sleeps queued on its channel, the step
 * that makes a call's channel ready inside its window, and the checks
 * after the call.
 */
#ifndef WINDOW_H
#define WINDOW_H

/*
 * A partner: one plain send or receive (op) on a thread that stays alive
 * afterwards until the test lets it go, so that the test can read its
 * waiter, which is thread-local, after the call under test returned.
 */
struct partner {
	struct op	 op;
	pthread_t	 thr;
	_Atomic(struct chan__waiter *) w;
	atomic_int	 release;
};

static inline void *
partner_main(void *arg)
{
	struct partner *p = arg;

	atomic_store(&p->w, chan__self());
	op_main(&p->op);
	while (!atomic_load(&p->release))
		sched_yield();
	return NULL;
}

/* A partner making a batch call (OP_SENDN, OP_RECVN) of vals[0..n). */
static inline void
partner_start_n(struct partner *p, enum op_kind kind, chan_t *ch, int val,
    int *vals, size_t n)
{
	memset(&p->op, 0, sizeof(p->op));
	p->op.kind = kind;
	p->op.ch = ch;
	p->op.val = val;
	p->op.vals = vals;
	p->op.n = n;
	p->op.err = -1;
	atomic_init(&p->op.tid, 0);
	atomic_init(&p->op.entered, 0);
	atomic_init(&p->op.returned, 0);
	atomic_init(&p->w, NULL);
	atomic_init(&p->release, 0);
	ck_assert_int_eq(pthread_create(&p->thr, NULL, partner_main, p), 0);
}

static inline void
partner_start(struct partner *p, enum op_kind kind, chan_t *ch, int val)
{
	partner_start_n(p, kind, ch, val, NULL, 0);
}

/*
 * Returns once p's waiter is SLEEPING: queued on its channel and asleep,
 * so that only a completer's wake-up can move it (a waiter still
 * spinning would see a completion without one).  Fails the test if p's
 * call returned instead.  No ck_assert in the loop, which would write to
 * Check's pipe on every turn.
 */
static inline void
partner_wait_asleep(struct partner *p)
{
	struct chan__waiter *w;

	while ((w = atomic_load(&p->w)) == NULL)
		sched_yield();
	while (atomic_load(&w->state) != CHAN__SLEEPING &&
	    !atomic_load(&p->op.returned))
		sched_yield();
	ck_assert_msg(!atomic_load(&p->op.returned),
	    "the partner returned %d instead of waiting", p->op.err);
}

static inline void
partner_join(struct partner *p)
{
	atomic_store(&p->release, 1);
	ck_assert_int_eq(pthread_join(p->thr, NULL), 0);
}

/*
 * What the rings hold before a window test's call, and what its partner
 * sends (a receiving partner's val is overwritten).
 */
#define OLD		100
#define PARTNER_VAL	200

/*
 * A window: a channel, whether the call under test sends, and the partner
 * the arrange step starts.
 */
struct window {
	chan_t		*ch;
	bool		 send;		/* the call under test sends */
	struct partner	 partner;
	bool		 arranged;
};

/*
 * The arrange step, run on the calling thread inside the window: a send
 * finds the ring it saw full now empty (unbuffered: a receiver queued), a
 * receive finds the ring it saw empty now full (unbuffered: a sender
 * queued); either way the partner is queued and asleep on the other side.
 */
static inline void
window_make_ready(void *arg)
{
	struct window *win = arg;
	size_t i, cap = win->ch->cap;

	if (win->send) {
		for (i = 0; i < cap; i++)
			ck_assert_int_eq(take(win->ch), OLD + (int)i);
		partner_start(&win->partner, OP_RECV, win->ch, -1);
	} else {
		for (i = 0; i < cap; i++)
			put(win->ch, OLD + (int)i);
		partner_start(&win->partner, OP_SEND, win->ch, PARTNER_VAL);
	}
	partner_wait_asleep(&win->partner);
	win->arranged = true;
}

/*
 * After the call under test returned and the partner was found done: lets
 * the partner go and checks what moved.  A send's element (sent) reached
 * the receiving partner; a receive got v, the oldest (unbuffered: the
 * partner's), and the ring then holds the rest in order with the
 * partner's element last.  Destroys the channel.
 */
static inline void
window_finish(struct window *win, int v, int sent)
{
	size_t i, cap = win->ch->cap;

	partner_join(&win->partner);
	ck_assert_int_eq(win->partner.op.err, 0);
	if (win->send) {
		ck_assert_int_eq(win->partner.op.val, sent);
	} else if (cap == 0) {
		ck_assert_int_eq(v, PARTNER_VAL);
	} else {
		ck_assert_int_eq(v, OLD);
		for (i = 1; i < cap; i++)
			ck_assert_int_eq(take(win->ch), OLD + (int)i);
		ck_assert_int_eq(take(win->ch), PARTNER_VAL);
	}
	ck_assert_uint_eq(chan_len(win->ch), 0);
	chan_destroy(win->ch);
}

#endif /* WINDOW_H */
