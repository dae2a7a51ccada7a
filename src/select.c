/*
 * chan_select: complete exactly one of several sends and receives.
 *
 * Cases are polled in a uniformly random permutation, so that the first
 * ready case met is uniform among the ready ones (a random start with
 * wrap-around is not: with [never, never, ready, ready] it picks the first
 * ready case three times in four).  The fast path tries each case on its
 * channel alone, taking one side's lock (an unbuffered case with no
 * partner queued is passed over without it).  Two such probes can each find
 * their case empty while at every instant one of them was ready, so only a
 * poll with every channel locked can say "nothing is ready": the slow path
 * locks the distinct channels in address order (both locks of a buffered
 * one, so nothing moves between its poll and its queueing), polls again,
 * and if still nothing is ready queues one entry per case, all pointing at
 * this thread's waiter, before it waits.  Whichever channel claims the
 * waiter first completes its case; the claim is one CAS, so no other case
 * can complete too, and a select can never pair its own send with its own
 * receive: it never polls once its entries are queued.
 */
#include <limits.h>
#include <string.h>

#include "internal.h"

/* Up to this many cases, the fast path needs no scratch memory. */
#define STACK_CASES	64

struct sel_wait {
	struct chan_case	*cases;
	struct chan__entry	*ents;
	size_t			 nents;
	chan_t			*retry_ch;	/* a retry wake-up we hold */
};

static int
fail(int err)
{
	errno = err;
	return -1;
}

static bool
case_valid(const struct chan_case *c)
{
	if (c->ch == NULL)
		return true;	/* disabled: never ready, never checked */
	if (c->op == CHAN_SEND)
		return chan__elem_ok(c->ch, c->elem);
	return c->op == CHAN_RECV;
}

/*
 * A select's scratch (chan__scratch): its n entries, then, for more cases
 * than the stack arrays hold, its n channels and its n-case order.  The
 * entries, or NULL (ENOMEM).  Never sized for fewer than STACK_CASES
 * cases, so that a thread allocates once for all its selects up to that
 * many cases.
 */
static struct chan__entry *
sel_scratch(struct chan__waiter *w, size_t n)
{
	const size_t per = sizeof(struct chan__entry) + sizeof(chan_t *) +
	    sizeof(uint32_t);

	/* With a 32-bit size_t, n <= INT_MAX cases can overflow n * per. */
	if (n > SIZE_MAX / per)
		return NULL;
	return chan__scratch(w, (n > STACK_CASES ? n : STACK_CASES) * per);
}

/* The channels in a scratch of n entries (sel_scratch). */
static chan_t **
sel_chans(struct chan__entry *ents, size_t n)
{
	return (chan_t **)(ents + n);
}

/* The order in a scratch of n entries (sel_scratch). */
static uint32_t *
sel_order(struct chan__entry *ents, size_t n)
{
	return (uint32_t *)(sel_chans(ents, n) + n);
}

/* Reports case c as the one that completed, with err: its index. */
static int
picked(struct chan_case *cases, struct chan_case *c, int err)
{
	c->err = err;
	return (int)(c - cases);
}

static int
cmp_chan(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(chan_t *const *)a;
	uintptr_t y = (uintptr_t)*(chan_t *const *)b;

	return (x > y) - (x < y);
}

/* Passes on a wake-up this select was given to retry and did not use. */
static void
pass_retry(struct sel_wait *sw, chan_t *next)
{
	if (sw->retry_ch != NULL && sw->retry_ch != next)
		chan__serve(sw->retry_ch);
	sw->retry_ch = next;
}

/* Cancelled while waiting: see chan__wait. */
static void
sel_cancelled(void *arg)
{
	struct sel_wait *sw = arg;
	struct chan__waiter *w = sw->ents[0].w;

	chan__unlink_all(sw->ents, sw->nents);
	if (atomic_load_explicit(&w->state, memory_order_acquire) ==
	    CHAN__DONE && w->result == CHAN__RETRY) {
		chan__retried(sw->cases[w->index].ch, sw->cases[w->index].op);
		pass_retry(sw, sw->cases[w->index].ch);
	}
	pass_retry(sw, NULL);
}

/* No enabled case: nothing can ever be ready. */
static int
no_cases(const struct timespec *abstime, bool try)
{
	if (try)
		return fail(EAGAIN);
	if (abstime == NULL)
		return fail(EDEADLK);
	/* Deadlines far in the past confuse some clock_nanosleep(). */
	while (!chan__deadline_passed(abstime) &&
	    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, abstime, NULL) == EINTR)
		continue;
	return fail(ETIMEDOUT);
}

/*
 * Moves a uniformly chosen one of order[k], ..., order[m - 1] to order[k]
 * and returns it: one step of a Fisher-Yates shuffle, done lazily.
 */
static inline uint32_t
next_case(struct chan__waiter *w, uint32_t *order, size_t k, size_t m)
{
	size_t j;
	uint32_t t;

	if (m - k == 1)
		return order[k];	/* the last one left */
	j = k + chan__random(w, (uint32_t)(m - k));
	t = order[j];

	order[j] = order[k];
	order[k] = t;
	return t;
}

/*
 * Locks every distinct channel among the enabled cases, in address order;
 * chans gets them (at most n), and the count is returned.
 */
static size_t
lock_channels(struct chan_case *cases, size_t n, chan_t **chans)
{
	size_t i, k, nch = 0;

	for (i = 0; i < n; i++)
		if (cases[i].ch != NULL)
			chans[nch++] = cases[i].ch;
	qsort(chans, nch, sizeof(chan_t *), cmp_chan);
	for (i = 0, k = 0; i < nch; i++)
		if (k == 0 || chans[i] != chans[k - 1])
			chans[k++] = chans[i];
	for (i = 0; i < k; i++)
		chan__lock_all(chans[i]);
	return k;
}

static void
unlock_channels(chan_t **chans, size_t nch)
{
	size_t i;

	for (i = 0; i < nch; i++)
		chan__unlock_all(chans[i]);
}

struct sel_poll {
	struct chan_case	*cases;
	size_t			 n;
};

static bool
any_looks_ready(void *arg)
{
	struct sel_poll *p = arg;
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->cases[i].ch != NULL &&
		    chan__looks_ready(p->cases[i].ch, p->cases[i].op))
			return true;
	return false;
}

/*
 * One pass over the enabled cases (order[0..m), shuffled as it goes), each
 * tried on its own channel: the index of the case that completed, its err
 * set, or -1.
 */
static inline int
first_pass(struct chan_case *cases, struct chan__waiter *w, uint32_t *order,
    size_t m)
{
	struct chan_case *c;
	size_t k;
	int r;

	for (k = 0; k < m; k++) {
		c = &cases[next_case(w, order, k, m)];
		/*
		 * Unbuffered, a case is ready only with a partner queued: its
		 * count says so without the lock.  (The slow path decides with
		 * every lock held.)
		 */
		if (c->ch->cap == 0 && !chan__looks_ready(c->ch, c->op))
			continue;
		r = c->op == CHAN_SEND ? chan__trysend(c->ch, c->elem) :
		    chan__tryrecv(c->ch, c->elem);
		if (r != EAGAIN)
			return picked(cases, c, r);
	}
	return -1;
}

/*
 * The rest of a select whose first pass found nothing ready: poll, then
 * lock every channel and queue, wait, and after a retry wake-up start
 * again with a first pass.  Apart from select_impl so that the common
 * case does not set up what only this needs.
 */
static CHAN__NOINLINE int
select_wait(struct chan_case *cases, size_t n, const struct timespec *abstime,
    bool try, struct chan__waiter *w, uint32_t *order, size_t m)
{
	chan_t *stack_chans[STACK_CASES], **chans = stack_chans;
	struct sel_wait sw = { .cases = cases };
	struct sel_poll sp = { cases, n };
	struct chan__entry *wake;
	struct chan_case *c;
	size_t nch, i, k;
	bool polled = false, may_poll = false;
	int r;

	/* select_impl took the scratch already: this only finds it. */
	if (n > STACK_CASES)
		chans = sel_chans(sel_scratch(w, n), n);
	/*
	 * Poll before queueing, unless every case sends on an unbuffered
	 * channel.  A rendezvous needs one side queued, and such a sender
	 * queues at once, as a plain send does: when both sides polled for
	 * the other to queue first, each message cost both polls and then a
	 * queueing anyway.  select_both at capacity 0, interleaved rounds,
	 * medians: 0.175 -> 0.255 M/s (eight rounds), 0.27 with the first
	 * pass passing over unready unbuffered cases; both together, six
	 * rounds in each order, 0.165 -> 0.23 and 0.17 -> 0.235 M/s.
	 */
	for (i = 0; i < n && !may_poll; i++)
		may_poll = cases[i].ch != NULL &&
		    (cases[i].op == CHAN_RECV || cases[i].ch->cap > 0);
	for (;;) {
		if (!try && !polled && may_poll &&
		    !chan__deadline_passed(abstime)) {
			/* Locking every channel and queueing is dear: poll. */
			polled = true;
			chan__poll(any_looks_ready, &sp, false);
			if ((r = first_pass(cases, w, order, m)) >= 0)
				goto done;
			continue;
		}

		nch = lock_channels(cases, n, chans);
		wake = NULL;
		for (k = 0, r = EAGAIN; k < m && r == EAGAIN; k++) {
			c = &cases[next_case(w, order, k, m)];
			r = c->op == CHAN_SEND ?
			    chan__send_locked(c->ch, c->elem, &wake) :
			    chan__recv_locked(c->ch, c->elem, &wake);
		}
		if (r != EAGAIN) {
			unlock_channels(chans, nch);
			chan__wake(wake);
			chan__serve(c->ch);	/* the ring changed */
			r = picked(cases, c, r);
			goto done;
		}
		if (try)
			r = EAGAIN;	/* confirmed with every channel locked */
		else if (chan__deadline_passed(abstime))
			r = ETIMEDOUT;
		else if ((sw.ents = sel_scratch(w, n)) == NULL)
			r = ENOMEM;
		if (r != EAGAIN || try) {
			unlock_channels(chans, nch);
			goto out;
		}

		atomic_store_explicit(&w->state, CHAN__WAITING,
		    memory_order_relaxed);
		w->at_head = false;	/* a select does not yield: chan__poll */
		for (i = 0, k = 0; i < n; i++) {
			if (cases[i].ch == NULL)
				continue;
			sw.ents[k] = (struct chan__entry){ .w = w,
			    .ch = cases[i].ch, .elem = cases[i].elem,
			    .index = (int)i, .op = cases[i].op };
			chan__link(cases[i].ch, &sw.ents[k++]);
		}
		sw.nents = k;
		/*
		 * No fence needed here: we hold every lock of every channel,
		 * so a thread that publishes next takes a lock we release,
		 * and then sees our entries and counts.
		 */
		unlock_channels(chans, nch);

		r = chan__wait(w, abstime, sel_cancelled, &sw);
		chan__unlink_all(sw.ents, sw.nents);
		sw.nents = 0;
		if (r == ETIMEDOUT)
			goto out;
		c = &cases[w->index];
		if ((r = w->result) != CHAN__RETRY) {
			r = picked(cases, c, r);
			goto done;
		}
		chan__retried(c->ch, c->op);
		pass_retry(&sw, c->ch);
		if ((r = first_pass(cases, w, order, m)) >= 0)
			goto done;
	}
done:
	pass_retry(&sw, NULL);
	return r;
out:
	pass_retry(&sw, NULL);
	return fail(r);
}

/*
 * Checks the cases, lists the enabled ones, and makes the first pass; only
 * a select that finds nothing ready goes on to select_wait.
 */
static int
select_impl(struct chan_case *cases, size_t n, const struct timespec *abstime,
    bool try)
{
	uint32_t stack_order[STACK_CASES], *order = stack_order;
	struct chan__entry *ents;
	struct chan__waiter *w;
	size_t m = 0, i;
	int r;

	if ((n > 0 && cases == NULL) || n > INT_MAX ||
	    !chan__timespec_valid(abstime))
		return fail(EINVAL);

	/*
	 * Up to STACK_CASES cases, only a wait needs the scratch
	 * (sel_scratch); a thread's first wait allocates it, later ones
	 * reuse it.
	 */
	w = chan__self();
	if (n > STACK_CASES) {
		/* Bad input fails EINVAL before anything is allocated. */
		for (i = 0; i < n; i++)
			if (!case_valid(&cases[i]))
				return fail(EINVAL);
		if ((ents = sel_scratch(w, n)) == NULL)
			return fail(ENOMEM);
		order = sel_order(ents, n);
	}

	/*
	 * One pass checks the cases and lists the enabled ones in order[];
	 * shuffling in place (next_case) leaves it a list of the same cases,
	 * so it serves every later pass as it is.
	 */
	for (i = 0; i < n; i++) {
		if (!case_valid(&cases[i]))
			return fail(EINVAL);
		if (cases[i].ch != NULL)
			order[m++] = (uint32_t)i;
	}
	/* See transfer_once in chan.c; with no case too, as a wait. */
	if (!try)
		pthread_testcancel();
	if (m == 0)
		return no_cases(abstime, try);
	if ((r = first_pass(cases, w, order, m)) >= 0)
		return r;
	return select_wait(cases, n, abstime, try, w, order, m);
}

int
chan_select(struct chan_case *cases, size_t n)
{
	return select_impl(cases, n, NULL, false);
}

int
chan_tryselect(struct chan_case *cases, size_t n)
{
	return select_impl(cases, n, NULL, true);
}

int
chan_timedselect(struct chan_case *cases, size_t n,
    const struct timespec *abstime)
{
	return select_impl(cases, n, abstime, false);
}
