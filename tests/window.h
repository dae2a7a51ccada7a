/*
 * For the window tests (check_*_window.c), which include internal.h and
 * testutil.h first: a partner thread that waits in one plain send or
 * receive, and a way to know that it sleeps queued on its channel.
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

static inline void
partner_start(struct partner *p, enum op_kind kind, chan_t *ch, int val)
{
	memset(&p->op, 0, sizeof(p->op));
	p->op.kind = kind;
	p->op.ch = ch;
	p->op.val = val;
	p->op.err = -1;
	atomic_init(&p->op.tid, 0);
	atomic_init(&p->op.entered, 0);
	atomic_init(&p->op.returned, 0);
	atomic_init(&p->w, NULL);
	atomic_init(&p->release, 0);
	ck_assert_int_eq(pthread_create(&p->thr, NULL, partner_main, p), 0);
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

#endif /* WINDOW_H */
