/*
 * Allocation failure: fail each allocation the library makes, in turn.
 *
 * The Makefile links this test with -Wl,--wrap for malloc, calloc,
 * realloc, posix_memalign, aligned_alloc and free (LINK_check_alloc), so
 * every allocation libchan.a makes goes through the __wrap_ functions
 * below.  A thread arms them with "fail the k-th allocation from now" and
 * they count what was allocated while armed and freed since: for k = 1,
 * 2, ... each site fails once, until a call completes without reaching a
 * k-th allocation.  Each failure must be reported (NULL with errno ENOMEM,
 * or -1 with ENOMEM from a select), must leak nothing (everything allocated
 * before it is freed again), and must leave the objects usable by other
 * threads.  The same counting checks the contract that nothing but
 * chan_create, the broadcast constructors and a thread's first select wait
 * allocates at all.  make asan runs this under LeakSanitizer as well.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "chan.h"

#define TIMEOUT		30
#define MAXLIVE		256

void	*__real_malloc(size_t);
void	*__real_calloc(size_t, size_t);
void	*__real_realloc(void *, size_t);
int	 __real_posix_memalign(void **, size_t, size_t);
void	*__real_aligned_alloc(size_t, size_t);
void	 __real_free(void *);
void	*__wrap_malloc(size_t);
void	*__wrap_calloc(size_t, size_t);
void	*__wrap_realloc(void *, size_t);
int	 __wrap_posix_memalign(void **, size_t, size_t);
void	*__wrap_aligned_alloc(size_t, size_t);
void	 __wrap_free(void *);

/*
 * Per thread: armed (count allocations), fail_at (fail the allocation with
 * this number, 1-based; 0 never), seen (how many so far).  live[] holds
 * every block allocated while some thread was armed and not yet freed, by
 * whichever thread frees it (a thread's select scratch is freed at its
 * exit).
 */
static _Thread_local int armed;
static _Thread_local unsigned long fail_at, seen;
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static void *live[MAXLIVE];
static int nlive;
static atomic_ulong injected;

/* Should this allocation fail?  Counts it if the thread is armed. */
static int
inject(void)
{
	if (!armed)
		return 0;
	if (++seen != fail_at)
		return 0;
	atomic_fetch_add(&injected, 1);
	return 1;
}

static void
track(void *p)
{
	if (p == NULL || !armed)
		return;
	pthread_mutex_lock(&live_mu);
	if (nlive < MAXLIVE)
		live[nlive++] = p;
	pthread_mutex_unlock(&live_mu);
}

static void
untrack(void *p)
{
	int i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&live_mu);
	for (i = 0; i < nlive; i++)
		if (live[i] == p) {
			live[i] = live[--nlive];
			break;
		}
	pthread_mutex_unlock(&live_mu);
}

static int
live_count(void)
{
	int n;

	pthread_mutex_lock(&live_mu);
	n = nlive;
	pthread_mutex_unlock(&live_mu);
	return n;
}

void *
__wrap_malloc(size_t size)
{
	void *p;

	if (inject()) {
		errno = ENOMEM;
		return NULL;
	}
	p = __real_malloc(size);
	track(p);
	return p;
}

void *
__wrap_calloc(size_t n, size_t size)
{
	void *p;

	if (inject()) {
		errno = ENOMEM;
		return NULL;
	}
	p = __real_calloc(n, size);
	track(p);
	return p;
}

void *
__wrap_realloc(void *old, size_t size)
{
	void *p;

	if (inject()) {
		errno = ENOMEM;
		return NULL;	/* old is untouched, as realloc(3) says */
	}
	p = __real_realloc(old, size);
	if (p != NULL) {
		untrack(old);
		track(p);
	}
	return p;
}

int
__wrap_posix_memalign(void **pp, size_t align, size_t size)
{
	int err;

	if (inject())
		return ENOMEM;		/* posix_memalign leaves errno alone */
	if ((err = __real_posix_memalign(pp, align, size)) == 0)
		track(*pp);
	return err;
}

void *
__wrap_aligned_alloc(size_t align, size_t size)
{
	void *p;

	if (inject()) {
		errno = ENOMEM;
		return NULL;
	}
	p = __real_aligned_alloc(align, size);
	track(p);
	return p;
}

void
__wrap_free(void *p)
{
	untrack(p);
	__real_free(p);
}

/* Arms this thread to fail its k-th allocation from now (0: none). */
static void
arm(unsigned long k)
{
	seen = 0;
	fail_at = k;
	armed = 1;
}

/* Disarms it; returns how many allocations it saw while armed. */
static unsigned long
disarm(void)
{
	armed = 0;
	return seen;
}

/*
 * Runs attempt() with its k-th allocation failing, for k = 1, 2, ... until
 * an attempt makes fewer than k allocations (and so succeeds).  attempt()
 * returns whether it succeeded and checks the rest itself.  Returns the
 * number of allocation sites found.
 */
static unsigned long
each_site(int (*attempt)(unsigned long k, void *arg), void *arg)
{
	unsigned long k, sites = 0;
	int ok;

	for (k = 1;; k++) {
		ok = attempt(k, arg);
		ck_assert_msg(live_count() == 0, "failing allocation %lu: %d "
		    "block(s) leaked", k, live_count());
		if (ok)
			break;
		sites++;
		ck_assert_msg(k < 64, "more than 64 allocations?");
	}
	return sites;
}

struct create_args {
	size_t			elem_size, cap;
	enum chan_policy	policy;
};

static int
try_create(unsigned long k, void *arg)
{
	struct create_args *a = arg;
	unsigned long n;
	chan_t *ch;
	char v[64] = "three", r[64] = "";
	int err;

	errno = 0;
	arm(k);
	ch = chan_create(a->elem_size, a->cap, a->policy);
	err = errno;
	n = disarm();
	if (n < k) {
		/* Every allocation succeeded: so must the call. */
		ck_assert_msg(ch != NULL, "chan_create: %s", strerror(err));
		ck_assert_int_eq(chan_trysend(ch, v), a->cap ? 0 : EAGAIN);
		chan_destroy(ch);
		return 1;
	}
	ck_assert_msg(ch == NULL, "chan_create succeeded though allocation "
	    "%lu failed", k);
	ck_assert_int_eq(err, ENOMEM);
	/* The next one, with nothing failing, works. */
	ch = chan_create(a->elem_size, a->cap, a->policy);
	ck_assert_ptr_nonnull(ch);
	if (a->cap > 0) {
		ck_assert_int_eq(chan_send(ch, v), 0);
		ck_assert_int_eq(chan_recv(ch, r), 0);
		ck_assert(memcmp(r, v, a->elem_size) == 0);
	}
	chan_destroy(ch);
	return 0;
}

static const struct create_args creates[] = {
	{ sizeof(int), 0, CHAN_BLOCK },
	{ sizeof(int), 1, CHAN_BLOCK },
	{ sizeof(char[64]), 4096, CHAN_BLOCK },
	{ sizeof(int), 8, CHAN_DROP },
	{ sizeof(int), 8, CHAN_SLIDE },
	{ 0, 0, CHAN_BLOCK },
	{ 0, 5, CHAN_BLOCK },
};

/* chan_create: every allocation it makes can fail, cleanly. */
START_TEST(chan_create_reports_each_failed_allocation)
{
	unsigned long sites = each_site(try_create, (void *)&creates[_i]);

	ck_assert_msg(sites >= 1, "chan_create allocated nothing");
}
END_TEST

static int
try_bcast_create(unsigned long k, void *arg)
{
	chan_bcast_t *b;
	chan_t *s;
	unsigned long n;
	int v = 9, r = 0, err;

	(void)arg;
	errno = 0;
	arm(k);
	b = chan_bcast_create(sizeof(int));
	err = errno;
	n = disarm();
	if (n >= k) {
		ck_assert_msg(b == NULL, "chan_bcast_create succeeded though "
		    "allocation %lu failed", k);
		ck_assert_int_eq(err, ENOMEM);
		return 0;
	}
	ck_assert_ptr_nonnull(b);
	s = chan_bcast_subscribe(b, 1, CHAN_BLOCK);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(chan_bcast_send(b, &v), 0);
	ck_assert_int_eq(chan_recv(s, &r), 0);
	ck_assert_int_eq(r, 9);
	ck_assert_int_eq(chan_bcast_unsubscribe(b, s), 0);
	chan_destroy(s);
	chan_bcast_destroy(b);
	return 1;
}

/* chan_bcast_create: every allocation it makes can fail, cleanly. */
START_TEST(bcast_create_reports_each_failed_allocation)
{
	ck_assert_uint_ge(each_site(try_bcast_create, NULL), 1);
}
END_TEST

struct sub_args {
	chan_bcast_t	*b;
	chan_t		*old;		/* a subscriber from before */
	size_t		 cap;
	int		 next;
};

static int
try_subscribe(unsigned long k, void *arg)
{
	struct sub_args *a = arg;
	unsigned long n;
	chan_t *s;
	int r = -1, v = a->next++, err;

	errno = 0;
	arm(k);
	s = chan_bcast_subscribe(a->b, a->cap, CHAN_BLOCK);
	err = errno;
	n = disarm();
	if (n >= k) {
		ck_assert_msg(s == NULL, "chan_bcast_subscribe succeeded "
		    "though allocation %lu failed", k);
		ck_assert_int_eq(err, ENOMEM);
	} else
		ck_assert_ptr_nonnull(s);
	/*
	 * The broadcast still works: the old subscriber gets the next
	 * message, and a failed subscription left nothing behind for the
	 * send to deliver to (or wait on).
	 */
	if (s != NULL && a->cap == 0) {
		/* An unbuffered subscriber would make the send wait. */
		ck_assert_int_eq(chan_bcast_unsubscribe(a->b, s), 0);
		chan_destroy(s);
		s = NULL;
	}
	ck_assert_int_eq(chan_bcast_send(a->b, &v), 0);
	ck_assert_int_eq(chan_recv(a->old, &r), 0);
	ck_assert_int_eq(r, v);
	if (s != NULL) {
		ck_assert_int_eq(chan_recv(s, &r), 0);
		ck_assert_int_eq(r, v);
		ck_assert_int_eq(chan_bcast_unsubscribe(a->b, s), 0);
		chan_destroy(s);
		return 1;
	}
	return n < k;
}

/* chan_bcast_subscribe: each allocation can fail; the broadcast goes on. */
START_TEST(bcast_subscribe_reports_each_failed_allocation)
{
	struct sub_args a;
	unsigned long sites;

	memset(&a, 0, sizeof(a));
	a.b = chan_bcast_create(sizeof(int));
	ck_assert_ptr_nonnull(a.b);
	a.old = chan_bcast_subscribe(a.b, 4, CHAN_BLOCK);
	ck_assert_ptr_nonnull(a.old);
	a.cap = (size_t)_i * 3;
	sites = each_site(try_subscribe, &a);
	ck_assert_msg(sites >= 1, "chan_bcast_subscribe allocated nothing");
	ck_assert_int_eq(chan_bcast_close(a.b), 0);
	ck_assert_int_eq(chan_recv(a.old, NULL), EPIPE);
	chan_destroy(a.old);
	chan_bcast_destroy(a.b);
}
END_TEST

/*
 * A thread's first select wait.  A fresh thread (so its waiter is new)
 * arms itself and selects on two channels where nothing is ready, so it
 * must wait; a poller completes the wait with chan_trysend, which succeeds
 * only once the select is really waiting.  If the select fails with ENOMEM
 * the poller's element is still there for the main thread to receive.
 */
struct sel_args {
	chan_t		*ch, *idle;
	unsigned long	 k;
	size_t		 ncases;
	int		 idx, err, got;
	unsigned long	 seen;
	atomic_int	 stop;
	int		 sent;
};

#define MANY	100		/* more cases than fit on the stack */

static void *
selector_main(void *arg)
{
	struct sel_args *a = arg;
	struct chan_case cs[MANY];
	size_t i;

	for (i = 0; i < a->ncases; i++)
		cs[i] = (struct chan_case){ i == a->ncases / 2 ? a->ch : a->idle,
		    CHAN_RECV, &a->got, -1 };
	a->got = -1;
	errno = 0;
	arm(a->k);
	a->idx = chan_select(cs, a->ncases);
	a->err = errno;
	a->seen = disarm();
	if (a->idx >= 0)
		a->err = cs[a->idx].err;
	return NULL;
}

static void *
poller_main(void *arg)
{
	struct sel_args *a = arg;
	int v = 77;

	while (!atomic_load(&a->stop)) {
		if (chan_trysend(a->ch, &v) == 0) {
			a->sent = 1;
			break;
		}
		sched_yield();
	}
	return NULL;
}

static int
try_select(unsigned long k, void *arg)
{
	struct sel_args *a = arg;
	pthread_t sel, pol;
	int r = -1;

	a->k = k;
	a->sent = 0;
	atomic_store(&a->stop, 0);
	ck_assert_int_eq(pthread_create(&pol, NULL, poller_main, a), 0);
	ck_assert_int_eq(pthread_create(&sel, NULL, selector_main, a), 0);
	ck_assert_int_eq(pthread_join(sel, NULL), 0);
	/* The selector has exited: its waiter must be gone with it. */
	if (a->seen >= k) {
		ck_assert_msg(a->idx == -1 && a->err == ENOMEM,
		    "select with allocation %lu failing: index %d, %s", k,
		    a->idx, strerror(a->err));
		ck_assert_int_eq(a->got, -1);
		/* The channel still works: take the poller's element. */
		ck_assert_int_eq(chan_recv(a->ch, &r), 0);
		ck_assert_int_eq(r, 77);
	} else {
		ck_assert_msg(a->idx == (int)(a->ncases / 2) && a->err == 0,
		    "select: index %d, %s", a->idx, strerror(a->err));
		ck_assert_int_eq(a->got, 77);
	}
	ck_assert_int_eq(pthread_join(pol, NULL), 0);
	ck_assert(a->sent);
	/* No stale entry of the dead selector is left on either channel. */
	ck_assert_int_eq(chan_tryrecv(a->ch, &r), EAGAIN);
	ck_assert_int_eq(chan_trysend(a->ch, &r), EAGAIN);
	if (chan_cap(a->idle) == 0)
		ck_assert_int_eq(chan_trysend(a->idle, &r), EAGAIN);
	return a->seen < k;
}

/*
 * A thread's first select wait may allocate (its waiter's scratch); when
 * that fails the select says ENOMEM and changes nothing, the channel works
 * for other threads, and a thread that selected frees it all at exit.
 */
START_TEST(first_select_wait_reports_failed_allocation)
{
	struct sel_args a;

	memset(&a, 0, sizeof(a));
	a.ch = chan_create(sizeof(int), 0, CHAN_BLOCK);
	a.idle = chan_create(sizeof(int), _i ? 2 : 0, CHAN_BLOCK);
	ck_assert_ptr_nonnull(a.ch);
	ck_assert_ptr_nonnull(a.idle);
	a.ncases = _i ? MANY : 2;
	(void)each_site(try_select, &a);
	chan_destroy(a.ch);
	chan_destroy(a.idle);
}
END_TEST

/*
 * Nothing else allocates: with every allocation failing, the plain, try,
 * timed and batch calls, close, and a select in a thread that has already
 * waited once all work and allocate nothing.
 */
START_TEST(only_create_and_first_select_allocate)
{
	chan_t *ch = chan_create(sizeof(int), 4, CHAN_BLOCK);
	chan_t *un = chan_create(sizeof(int), 0, CHAN_BLOCK);
	struct timespec past = { 0, 0 };
	struct chan_case cs[2];
	int v = 1, vs[3] = { 1, 2, 3 }, r, e[16], sel, sel_err;
	size_t n;
	unsigned long allocs;

	ck_assert_ptr_nonnull(ch);
	ck_assert_ptr_nonnull(un);
	/* Check itself allocates in ck_assert: collect, then assert. */
	arm(1);
	e[0] = chan_send(ch, &v);
	e[1] = chan_trysend(ch, &v);
	e[2] = chan_timedsend(ch, &v, &past);
	e[3] = chan_sendn(ch, vs, 3, &n);
	e[4] = chan_recv(ch, &r);
	e[5] = chan_tryrecv(ch, &r);
	e[6] = chan_timedrecv(ch, &r, &past);
	e[7] = chan_recvn(ch, vs, 3, &n);
	e[8] = chan_timedrecv(un, &r, &past);
	e[9] = chan_trysend(un, &v);
	cs[0] = (struct chan_case){ ch, CHAN_RECV, &r, -1 };
	cs[1] = (struct chan_case){ un, CHAN_SEND, &v, -1 };
	sel = chan_tryselect(cs, 2);
	sel_err = errno;
	e[10] = chan_close(un);
	(void)chan_len(ch);
	(void)chan_cap(ch);
	allocs = disarm();
	ck_assert_int_eq(e[0], 0);
	ck_assert_int_eq(e[1], 0);
	ck_assert_int_eq(e[2], 0);
	ck_assert_int_eq(e[3], 0);
	ck_assert_int_eq(e[4], 0);
	ck_assert_int_eq(e[5], 0);
	ck_assert_int_eq(e[6], 0);
	ck_assert_int_eq(e[7], 0);
	ck_assert_int_eq(e[8], ETIMEDOUT);
	ck_assert_int_eq(e[9], EAGAIN);
	ck_assert_msg(sel == -1 && sel_err == EAGAIN, "chan_tryselect: %d, %s",
	    sel, strerror(sel_err));
	ck_assert_int_eq(e[10], 0);
	ck_assert_msg(allocs == 0, "%lu allocation(s) after chan_create",
	    allocs);
	ck_assert_int_eq(chan_close(ch), 0);
	chan_destroy(ch);
	chan_destroy(un);
}
END_TEST

/*
 * Nor do the broadcast's calls but its constructors: with every allocation
 * failing, sends to subscribers of each policy, an unsubscribe, a close,
 * a send after it and the broadcast's destroy all work.
 */
START_TEST(broadcast_calls_allocate_nothing)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *block, *drop, *slide;
	int v = 1, e[6];
	unsigned long allocs;

	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(block = chan_bcast_subscribe(b, 4, CHAN_BLOCK));
	ck_assert_ptr_nonnull(drop = chan_bcast_subscribe(b, 1, CHAN_DROP));
	ck_assert_ptr_nonnull(slide = chan_bcast_subscribe(b, 1, CHAN_SLIDE));
	arm(1);
	e[0] = chan_bcast_send(b, &v);
	e[1] = chan_bcast_send(b, &v);
	e[2] = chan_bcast_unsubscribe(b, drop);
	e[3] = chan_bcast_send(b, &v);
	e[4] = chan_bcast_close(b);
	e[5] = chan_bcast_send(b, &v);
	chan_bcast_destroy(b);
	allocs = disarm();
	ck_assert_int_eq(e[0], 0);
	ck_assert_int_eq(e[1], 0);
	ck_assert_int_eq(e[2], 0);
	ck_assert_int_eq(e[3], 0);
	ck_assert_int_eq(e[4], 0);
	ck_assert_int_eq(e[5], EPIPE);
	ck_assert_msg(allocs == 0, "%lu allocation(s) in the broadcast's "
	    "calls", allocs);
	ck_assert_uint_eq(chan_len(block), 3);
	ck_assert_uint_eq(chan_len(drop), 1);
	ck_assert_uint_eq(chan_len(slide), 1);
	chan_destroy(block);
	chan_destroy(drop);
	chan_destroy(slide);
}
END_TEST

/*
 * The selector thread of second_select_wait_allocates_nothing: its first
 * wait has 2 cases, its second 64 (the most a select takes without
 * scratch of its own), the last case the one that completes.
 */
static void *
twice_main(void *arg)
{
	struct sel_args *a = arg;
	struct chan_case cs[64];
	size_t n, k;
	int i;

	for (i = 0; i < 2; i++) {
		/* The first wait may allocate; the second may not. */
		if (i == 1)
			arm(1);
		a->got = -1;
		n = i == 0 ? 2 : 64;
		for (k = 0; k < n - 1; k++)
			cs[k] = (struct chan_case){ a->idle, CHAN_RECV, NULL, -1 };
		cs[n - 1] = (struct chan_case){ a->ch, CHAN_RECV, &a->got, -1 };
		a->idx = chan_select(cs, n);
		a->err = errno;
		if (i == 1)
			a->seen = disarm();
		if (a->idx != (int)n - 1 || a->got != 77)
			return NULL;
	}
	return NULL;
}

/* A thread's second wait allocates nothing, up to 64 cases. */
START_TEST(second_select_wait_allocates_nothing)
{
	struct sel_args a;
	pthread_t sel, pol;
	int i;

	memset(&a, 0, sizeof(a));
	a.ch = chan_create(sizeof(int), 0, CHAN_BLOCK);
	a.idle = chan_create(sizeof(int), 0, CHAN_BLOCK);
	ck_assert_ptr_nonnull(a.ch);
	ck_assert_ptr_nonnull(a.idle);
	ck_assert_int_eq(pthread_create(&sel, NULL, twice_main, &a), 0);
	/* One poller per wait: each trysend succeeds only into a wait. */
	for (i = 0; i < 2; i++) {
		a.sent = 0;
		ck_assert_int_eq(pthread_create(&pol, NULL, poller_main, &a), 0);
		ck_assert_int_eq(pthread_join(pol, NULL), 0);
		ck_assert(a.sent);
	}
	ck_assert_int_eq(pthread_join(sel, NULL), 0);
	ck_assert_int_eq(a.idx, 63);
	ck_assert_int_eq(a.got, 77);
	ck_assert_uint_eq(a.seen, 0);
	ck_assert_int_eq(live_count(), 0);
	chan_destroy(a.ch);
	chan_destroy(a.idle);
}
END_TEST

/*
 * Runs fn(a) on a new thread and joins it, with a zeroed but for a->idle,
 * an unbuffered channel nobody uses: the big selects below need a thread
 * whose select scratch nothing has grown yet.
 */
static void
run_on_idle(void *(*fn)(void *), struct sel_args *a)
{
	pthread_t t;

	memset(a, 0, sizeof(*a));
	a->idle = chan_create(sizeof(int), 0, CHAN_BLOCK);
	ck_assert_ptr_nonnull(a->idle);
	ck_assert_int_eq(pthread_create(&t, NULL, fn, a), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
}

/* The thread of big_select_with_bad_case_allocates_nothing. */
static void *
bad_big_main(void *arg)
{
	struct sel_args *a = arg;
	struct chan_case cs[MANY];
	int v = 1;
	size_t i;

	/* A small select first, so that the thread's waiter is set up. */
	cs[0] = (struct chan_case){ a->idle, CHAN_RECV, &a->got, -1 };
	(void)chan_tryselect(cs, 1);
	for (i = 0; i < MANY; i++)
		cs[i] = (struct chan_case){ a->idle, CHAN_SEND, &v, -1 };
	cs[MANY - 1].op = (enum chan_op)42;
	arm(1);
	errno = 0;
	a->idx = chan_tryselect(cs, MANY);
	a->err = errno;
	a->seen = disarm();
	return NULL;
}

/*
 * A select with more cases than fit on the stack, one of them bad, fails
 * EINVAL before it allocates its scratch: bad input never reads ENOMEM.
 */
START_TEST(big_select_with_bad_case_allocates_nothing)
{
	struct sel_args a;

	run_on_idle(bad_big_main, &a);
	ck_assert_msg(a.idx == -1 && a.err == EINVAL, "chan_tryselect: %d, %s",
	    a.idx, strerror(a.err));
	ck_assert_uint_eq(a.seen, 0);
	chan_destroy(a.idle);
}
END_TEST

/*
 * The thread of smaller_big_select_allocates_nothing: a select of MANY
 * cases, none ready, which grows the thread's scratch; then, armed,
 * selects of fewer cases, more than 64 each, which must use it as it is.
 */
static void *
shrink_main(void *arg)
{
	static const size_t fewer[] = { MANY - 1, MANY / 2, 65, MANY };
	struct sel_args *a = arg;
	struct chan_case cs[MANY];
	size_t i;

	for (i = 0; i < MANY; i++)
		cs[i] = (struct chan_case){ a->idle, CHAN_RECV, NULL, -1 };
	(void)chan_tryselect(cs, MANY);
	arm(1);
	for (i = 0; i < sizeof(fewer) / sizeof(fewer[0]); i++) {
		errno = 0;
		a->idx = chan_tryselect(cs, fewer[i]);
		a->err = errno;
		if (a->idx != -1 || a->err != EAGAIN) {
			a->ncases = fewer[i];
			break;
		}
	}
	a->seen = disarm();
	return NULL;
}

/*
 * A thread's select scratch grows only for a select with more cases than
 * any before: after one of MANY cases, selects of 65 to MANY allocate
 * nothing (chan_select(3)).
 */
START_TEST(smaller_big_select_allocates_nothing)
{
	struct sel_args a;

	run_on_idle(shrink_main, &a);
	ck_assert_msg(a.idx == -1 && a.err == EAGAIN, "chan_tryselect of %zu "
	    "cases after one of %d: %d, %s", a.ncases, MANY, a.idx,
	    strerror(a.err));
	ck_assert_msg(a.seen == 0, "%lu allocation(s) in selects of fewer "
	    "cases than one before", a.seen);
	chan_destroy(a.idle);
}
END_TEST

static Suite *
alloc_suite(void)
{
	Suite *s = suite_create("alloc");
	TCase *tc;

	tc = tcase_create("create");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_loop_test(tc, chan_create_reports_each_failed_allocation, 0,
	    (int)(sizeof(creates) / sizeof(creates[0])));
	tcase_add_test(tc, bcast_create_reports_each_failed_allocation);
	tcase_add_loop_test(tc, bcast_subscribe_reports_each_failed_allocation,
	    0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("select");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_loop_test(tc, first_select_wait_reports_failed_allocation,
	    0, 2);
	tcase_add_test(tc, second_select_wait_allocates_nothing);
	tcase_add_test(tc, big_select_with_bad_case_allocates_nothing);
	tcase_add_test(tc, smaller_big_select_allocates_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("steady");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, only_create_and_first_select_allocate);
	tcase_add_test(tc, broadcast_calls_allocate_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(alloc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/* In fork mode the children counted; in CK_FORK=no, this process. */
	if (atomic_load(&injected) > 0)
		printf("check_alloc: %lu allocation failures injected\n",
		    atomic_load(&injected));
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
