/*
 * Broadcast: every message to every subscriber.
 *
 * A broadcast is built only on the public channel API: each subscription is
 * an ordinary channel made by chan_create, and chan_bcast_send is a loop of
 * chan_send calls, one per subscriber.  Nothing here knows how a channel
 * works inside, so a subscription behaves exactly like any other channel
 * (receive, select, len, cap) and its own policy decides what a full buffer
 * does to a send.
 *
 * Ordering.  Senders take turns: one chan_bcast_send delivers to every
 * subscriber before the next one starts delivering.  So when several threads
 * broadcast at once, every subscriber sees their messages in the same order
 * (the order the senders got their turn), which is what a user of a
 * broadcast expects ("all replicas apply updates in one order").  The price
 * is that a sender waiting on a slow CHAN_BLOCK subscriber also holds back
 * the senders behind it; that is what CHAN_BLOCK asks for.
 *
 * Delivery order within one send.  A send first delivers to every CHAN_DROP
 * and CHAN_SLIDE subscriber (those never wait), then to the CHAN_BLOCK ones.
 * So a slow CHAN_BLOCK subscriber never delays a message to a subscriber
 * that chose not to be waited for.
 *
 * Joining and leaving.  chan_bcast_subscribe links the new subscription at
 * the head of the list, and every send that starts later delivers to it.
 * A send already delivering may too: each of its two passes walks the list
 * from the head, so a CHAN_BLOCK subscription that joins while that send
 * still serves the CHAN_DROP and CHAN_SLIDE ones gets its message.  Either
 * way a subscriber receives an unbroken run of messages (under CHAN_BLOCK,
 * nothing missing in between) from its subscription on.
 * chan_bcast_unsubscribe marks the subscription gone (no send starts
 * delivering to it any more), closes it (a send blocked in chan_send on it
 * returns EPIPE, which the sender reads as "that subscriber left", not as
 * an error of the broadcast), waits until no send is inside chan_send on
 * it, and only then unlinks and frees its record.  The caller may then
 * chan_destroy the channel.
 *
 * Lifetime.  chan_bcast_destroy closes the subscriptions still subscribed
 * (so no receiver waits forever on a channel nobody can send to any more)
 * but frees none of them: the caller destroys each channel it got from
 * chan_bcast_subscribe, whether before (after unsubscribing it) or after
 * chan_bcast_destroy.  A subscription must not be destroyed while still
 * subscribed.
 *
 * Lock order: a broadcast's mu, then a channel's locks (inside chan_close).
 * chan_send is never called with mu held: a sender drops mu before it may
 * wait on a subscriber, so close and unsubscribe can always take mu and
 * close the channel the sender waits on.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "chan.h"

/*
 * One subscription.  Its broadcast's mu protects every field but ch and
 * policy, which never change.  inflight counts the sends inside chan_send
 * on ch right now (0 or 1, since senders take turns); while inflight > 0
 * the record stays linked, so a sender may read next after chan_send
 * returns.  gone never returns to false; a gone record is skipped by every
 * send and is unlinked by its unsubscriber once inflight is 0.
 */
struct sub {
	struct sub	*next;
	chan_t		*ch;
	enum chan_policy policy;
	unsigned	 inflight;
	bool		 gone;
};

/*
 * A broadcast.  mu protects every field but elem_size.  closed never
 * returns to false.  busy is true while one chan_bcast_send holds the turn
 * (delivers); turn_cv is signalled when busy becomes false and broadcast on
 * close.  idle_cv is broadcast when a gone subscription's inflight drops to
 * 0.  subs lists every subscription not yet unlinked, newest first; after
 * close every one of them is closed.
 */
struct chan_bcast {
	pthread_mutex_t	 mu;
	pthread_cond_t	 turn_cv;
	pthread_cond_t	 idle_cv;
	struct sub	*subs;
	size_t		 elem_size;
	bool		 busy;
	bool		 closed;
};

/* A failing mutex or condition call is a bug no caller can handle. */
static void
lock(pthread_mutex_t *mu)
{
	if (pthread_mutex_lock(mu) != 0)
		abort();
}

static void
unlock(pthread_mutex_t *mu)
{
	if (pthread_mutex_unlock(mu) != 0)
		abort();
}

static void
cond_wait(pthread_cond_t *cv, pthread_mutex_t *mu)
{
	if (pthread_cond_wait(cv, mu) != 0)
		abort();
}

static void
cond_signal(pthread_cond_t *cv)
{
	if (pthread_cond_signal(cv) != 0)
		abort();
}

static void
cond_broadcast(pthread_cond_t *cv)
{
	if (pthread_cond_broadcast(cv) != 0)
		abort();
}

chan_bcast_t *
chan_bcast_create(size_t elem_size)
{
	chan_bcast_t *b;
	int error;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;		/* calloc set errno to ENOMEM */
	b->elem_size = elem_size;
	if ((error = pthread_mutex_init(&b->mu, NULL)) != 0)
		goto fail;
	if ((error = pthread_cond_init(&b->turn_cv, NULL)) != 0)
		goto fail_mu;
	if ((error = pthread_cond_init(&b->idle_cv, NULL)) != 0)
		goto fail_turn;
	return b;

fail_turn:
	pthread_cond_destroy(&b->turn_cv);
fail_mu:
	pthread_mutex_destroy(&b->mu);
fail:
	free(b);
	errno = error;
	return NULL;
}

/*
 * Closes every subscription still subscribed.  The caller holds b->mu.
 * chan_close returns EPIPE for a subscription its owner already closed;
 * that is fine, it is closed either way.
 */
static void
close_subs(chan_bcast_t *b)
{
	struct sub *s;

	for (s = b->subs; s != NULL; s = s->next)
		if (!s->gone)
			(void)chan_close(s->ch);
}

void
chan_bcast_destroy(chan_bcast_t *b)
{
	struct sub *s, *next;

	if (b == NULL)
		return;
	/* No thread uses b any more, so no lock and no send in flight. */
	if (!b->closed)
		close_subs(b);
	for (s = b->subs; s != NULL; s = next) {
		next = s->next;
		free(s);
	}
	pthread_cond_destroy(&b->idle_cv);
	pthread_cond_destroy(&b->turn_cv);
	pthread_mutex_destroy(&b->mu);
	free(b);
}

chan_t *
chan_bcast_subscribe(chan_bcast_t *b, size_t capacity,
    enum chan_policy policy)
{
	struct sub *s;
	chan_t *ch;

	if (b == NULL) {
		errno = EINVAL;
		return NULL;
	}
	/*
	 * Allocate outside the lock; chan_create checks capacity and policy
	 * exactly as for any channel and sets errno (EINVAL, ENOMEM).
	 */
	if ((ch = chan_create(b->elem_size, capacity, policy)) == NULL)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		chan_destroy(ch);
		errno = ENOMEM;
		return NULL;
	}
	s->ch = ch;
	s->policy = policy;
	lock(&b->mu);
	/*
	 * Checked under mu, so a subscription is either linked before close
	 * (and closed by it) or refused: none escapes open after close.
	 */
	if (b->closed) {
		unlock(&b->mu);
		free(s);
		chan_destroy(ch);
		errno = EPIPE;
		return NULL;
	}
	s->next = b->subs;
	b->subs = s;
	unlock(&b->mu);
	return ch;
}

int
chan_bcast_unsubscribe(chan_bcast_t *b, chan_t *sub)
{
	struct sub **pp, *s;
	int oldstate;

	if (b == NULL || sub == NULL)
		return EINVAL;
	/*
	 * The wait below is short (a send inside chan_send on a closed channel
	 * returns at once) and must not be cut off: a cancelled unsubscribe
	 * could not tell its caller whether sub may be destroyed yet.
	 */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &oldstate);
	lock(&b->mu);
	for (pp = &b->subs; (s = *pp) != NULL; pp = &s->next)
		if (s->ch == sub && !s->gone)
			break;
	if (s == NULL) {
		unlock(&b->mu);
		pthread_setcancelstate(oldstate, NULL);
		return EINVAL;
	}
	/*
	 * From here on no send starts delivering to s.  Closing the channel
	 * releases a send blocked on it (chan_send returns EPIPE); a receiver
	 * still drains what is buffered.
	 */
	s->gone = true;
	(void)chan_close(s->ch);
	/*
	 * idle_cv is broadcast whenever a gone subscription's inflight drops
	 * to 0; re-check in a loop because it is shared by every
	 * unsubscriber.
	 */
	while (s->inflight > 0)
		cond_wait(&b->idle_cv, &b->mu);
	/*
	 * s may have moved in the list while mu was released (a subscribe
	 * links at the head, another unsubscribe unlinks), so find it again.
	 */
	for (pp = &b->subs; *pp != s; pp = &(*pp)->next)
		continue;
	*pp = s->next;
	unlock(&b->mu);
	free(s);
	pthread_setcancelstate(oldstate, NULL);
	return 0;
}

/*
 * A send is no longer inside chan_send on s.  The caller holds b->mu.  Every
 * unsubscriber waiting on idle_cv re-checks its own subscription, so a
 * broadcast wakes the one waiting for s whichever it is.
 */
static void
sub_release(chan_bcast_t *b, struct sub *s)
{
	if (--s->inflight == 0 && s->gone)
		cond_broadcast(&b->idle_cv);
}

/* What a sender's cleanup handlers need to give back. */
struct send_state {
	chan_bcast_t	*b;
	struct sub	*cur;	/* the subscription inside chan_send, or NULL */
};

/*
 * Ends a send's turn: releases the subscription it was delivering to and
 * passes the turn to one waiting sender.  The caller holds b->mu.  One
 * signal is enough: every sender waiting for the turn waits for the same
 * thing, and whoever gets it signals again when done.
 */
static void
end_turn(struct send_state *st)
{
	chan_bcast_t *b = st->b;
	struct sub *s = st->cur;

	if (s != NULL) {
		sub_release(b, s);
		st->cur = NULL;
	}
	b->busy = false;
	cond_signal(&b->turn_cv);
}

/*
 * Cleanup for a sender cancelled while waiting for its turn: the condition
 * wait has re-taken mu.  POSIX says a cancelled waiter does not consume a
 * signal, but passing it on when the turn is free costs nothing and does
 * not depend on that.
 */
static void
wait_turn_cleanup(void *arg)
{
	chan_bcast_t *b = arg;

	if (!b->busy)
		cond_signal(&b->turn_cv);
	unlock(&b->mu);
}

/* Cleanup for a sender cancelled inside chan_send, where mu is not held. */
static void
deliver_cleanup(void *arg)
{
	struct send_state *st = arg;

	lock(&st->b->mu);
	end_turn(st);
	unlock(&st->b->mu);
}

/* Whether a send's pass (0: DROP and SLIDE, 1: BLOCK) delivers to s. */
static bool
in_pass(const struct sub *s, int pass)
{
	return !s->gone && (s->policy == CHAN_BLOCK) == (pass == 1);
}

/*
 * Delivers elem to every subscription of the current pass.  The caller
 * holds mu and the turn; mu is held again on return.  Returns 0, or EPIPE
 * if b was closed meanwhile.
 */
static int
deliver(struct send_state *st, const void *elem, int pass)
{
	chan_bcast_t *b = st->b;
	struct sub *s, *next;

	for (s = b->subs; s != NULL; s = next) {
		if (!in_pass(s, pass)) {
			next = s->next;
			continue;
		}
		if (b->closed)
			return EPIPE;
		s->inflight++;
		st->cur = s;
		unlock(&b->mu);
		/*
		 * 0: delivered.  EPIPE: s was closed, by close (seen above
		 * on the next round), by unsubscribe (s is gone), or by its
		 * owner; either way that subscriber takes no more messages
		 * and the broadcast goes on.  EINVAL cannot happen: elem was
		 * checked against the same elem_size.
		 */
		(void)chan_send(s->ch, elem);
		lock(&b->mu);
		/* s is still linked (inflight > 0), so s->next is valid. */
		next = s->next;
		st->cur = NULL;
		sub_release(b, s);
	}
	return b->closed ? EPIPE : 0;
}

int
chan_bcast_send(chan_bcast_t *b, const void *elem)
{
	struct send_state st = { b, NULL };
	int error;

	if (b == NULL || (elem == NULL && b->elem_size > 0))
		return EINVAL;
	/* A cancellation point even when it need not wait, as chan_send. */
	pthread_testcancel();
	lock(&b->mu);
	/*
	 * Wait for the turn; close wakes every waiting sender (broadcast) and
	 * each then fails with EPIPE without delivering anything.
	 */
	pthread_cleanup_push(wait_turn_cleanup, b);
	while (b->busy && !b->closed)
		cond_wait(&b->turn_cv, &b->mu);
	pthread_cleanup_pop(0);
	if (b->closed) {
		unlock(&b->mu);
		return EPIPE;
	}
	b->busy = true;
	pthread_cleanup_push(deliver_cleanup, &st);
	if ((error = deliver(&st, elem, 0)) == 0)
		error = deliver(&st, elem, 1);
	pthread_cleanup_pop(0);
	end_turn(&st);
	unlock(&b->mu);
	return error;
}

int
chan_bcast_close(chan_bcast_t *b)
{
	if (b == NULL)
		return EINVAL;
	lock(&b->mu);
	if (b->closed) {
		unlock(&b->mu);
		return EPIPE;
	}
	b->closed = true;
	/*
	 * Closing every subscription releases a sender blocked in chan_send
	 * (EPIPE); it then sees closed and fails.  Senders waiting for the
	 * turn all fail too, hence broadcast.
	 */
	close_subs(b);
	cond_broadcast(&b->turn_cv);
	unlock(&b->mu);
	return 0;
}
