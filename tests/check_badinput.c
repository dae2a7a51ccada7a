/*
 * Bad input: every public function with every bad argument.
 *
 * A table of calls, each with the error the contract gives it: NULL
 * pointers, unknown policies and ops, zero and overflowing sizes, tv_nsec
 * out of range, negative tv_sec, deadlines long past, closed channels, and
 * channels destroyed and created again.  Each row runs against a fresh set
 * of fixture channels in known states, and afterwards every fixture must be
 * exactly as it was (same length, same elements in the same order, still
 * open or still closed, subscriptions still subscribed), and any element
 * buffer passed in must be untouched: a call that fails changes nothing.
 * A batch call that fails reports a count of 0, or after EINVAL leaves the
 * count as it was.
 * A few tests outside the table need a second thread (deadlines far in the
 * future must really wait, not fail).
 */
#define _DEFAULT_SOURCE 1	/* MAP_ANONYMOUS */

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/mman.h>

#include <check.h>

#include "chan.h"

#define TIMEOUT		30	/* seconds a case may take, even under TSan */
#define SENTINEL	0x5a5a5a5a

/*
 * chan_create's huge requests must fail with ENOMEM, not kill the test:
 * make the sanitizers' allocators return NULL as malloc(3) would.
 */
const char *__asan_default_options(void);
const char *__tsan_default_options(void);

const char *
__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

const char *
__tsan_default_options(void)
{
	return "allocator_may_return_null=1";
}

/* The largest and smallest time_t (a signed integer type, as POSIX says). */
#define TIME_T_MAX ((time_t)(((uintmax_t)1 << (sizeof(time_t) * CHAR_BIT - 1)) - 1))
#define TIME_T_MIN (-TIME_T_MAX - 1)

static const struct timespec nsec_neg = { 0, -1 };
static const struct timespec nsec_1e9 = { 0, 1000000000L };
static const struct timespec nsec_max = { 0, LONG_MAX };
static const struct timespec nsec_min = { 0, LONG_MIN };
static const struct timespec sec_neg_nsec_bad = { -1, 1000000000L };
static const struct timespec epoch = { 0, 0 };
static const struct timespec sec_neg = { -1, 0 };
static const struct timespec far_past = { TIME_T_MIN, 0 };
static const struct timespec far_past_nsec = { TIME_T_MIN, 999999999L };

/*
 * The fixtures.  ints everywhere; each is rebuilt for every row, and
 * fix_check() proves the row left every one of them as it found it.
 */
struct fix {
	chan_t		*buf;		/* cap 4, holds 11, 22 */
	chan_t		*full;		/* cap 2, holds 1, 2: a send would wait */
	chan_t		*empty;		/* cap 4, empty: a receive would wait */
	chan_t		*unbuf;		/* cap 0, nobody on either side */
	chan_t		*sig;		/* elem_size 0, cap 0 */
	chan_t		*closed;	/* cap 4, closed, still holds 33 */
	chan_t		*drained;	/* cap 4, closed and empty */
	chan_t		*drop;		/* DROP, cap 1, closed */
	chan_t		*re;		/* created after destroying a channel */
	chan_bcast_t	*b;		/* open, subscribed by sub */
	chan_t		*sub;		/* cap 4, empty */
	chan_bcast_t	*bclosed;	/* closed; its subscription csub */
	chan_t		*csub;
};

static struct fix F;
static int out;			/* a receive buffer: must stay SENTINEL */
static int outs[4];

static chan_t *
mk(size_t elem_size, size_t cap, enum chan_policy policy)
{
	chan_t *ch = chan_create(elem_size, cap, policy);

	ck_assert_msg(ch != NULL, "chan_create: %s", strerror(errno));
	return ch;
}

static void
put(chan_t *ch, int v)
{
	ck_assert_int_eq(chan_trysend(ch, &v), 0);
}

static void
fix_setup(void)
{
	chan_t *old;
	int v = 99;

	F.buf = mk(sizeof(int), 4, CHAN_BLOCK);
	put(F.buf, 11);
	put(F.buf, 22);
	F.full = mk(sizeof(int), 2, CHAN_BLOCK);
	put(F.full, 1);
	put(F.full, 2);
	F.empty = mk(sizeof(int), 4, CHAN_BLOCK);
	F.unbuf = mk(sizeof(int), 0, CHAN_BLOCK);
	F.sig = mk(0, 0, CHAN_BLOCK);
	F.closed = mk(sizeof(int), 4, CHAN_BLOCK);
	put(F.closed, 33);
	ck_assert_int_eq(chan_close(F.closed), 0);
	F.drained = mk(sizeof(int), 4, CHAN_BLOCK);
	ck_assert_int_eq(chan_close(F.drained), 0);
	F.drop = mk(sizeof(int), 1, CHAN_DROP);
	ck_assert_int_eq(chan_close(F.drop), 0);

	/* A used, closed channel destroyed; its successor must start fresh. */
	old = mk(sizeof(int), 2, CHAN_BLOCK);
	put(old, 7);
	put(old, 8);
	ck_assert_int_eq(chan_close(old), 0);
	ck_assert_int_eq(chan_recv(old, &v), 0);
	chan_destroy(old);
	F.re = mk(sizeof(int), 2, CHAN_BLOCK);

	F.b = chan_bcast_create(sizeof(int));
	ck_assert_ptr_nonnull(F.b);
	F.sub = chan_bcast_subscribe(F.b, 4, CHAN_BLOCK);
	ck_assert_ptr_nonnull(F.sub);
	F.bclosed = chan_bcast_create(sizeof(int));
	ck_assert_ptr_nonnull(F.bclosed);
	F.csub = chan_bcast_subscribe(F.bclosed, 4, CHAN_BLOCK);
	ck_assert_ptr_nonnull(F.csub);
	ck_assert_int_eq(chan_bcast_close(F.bclosed), 0);

	out = SENTINEL;
	outs[0] = outs[1] = outs[2] = outs[3] = SENTINEL;
}

/* Receives exactly the ints want[0..n-1] from ch, then want_end. */
static void
expect_contents(const char *what, chan_t *ch, const int *want, size_t n,
    int want_end)
{
	size_t i;
	int v, err;

	ck_assert_msg(chan_len(ch) == n, "%s: len %zu, want %zu", what,
	    chan_len(ch), n);
	for (i = 0; i < n; i++) {
		v = -1;
		err = chan_tryrecv(ch, &v);
		ck_assert_msg(err == 0 && v == want[i],
		    "%s: element %zu: err %d value %d, want %d", what, i, err,
		    v, want[i]);
	}
	err = chan_tryrecv(ch, &v);
	ck_assert_msg(err == want_end, "%s: after draining: %s, want %s",
	    what, strerror(err), strerror(want_end));
}

/* Is ch still open?  Closing it says (and it is thrown away next). */
static void
expect_open(const char *what, chan_t *ch, int open)
{
	int err = chan_close(ch);

	ck_assert_msg(err == (open ? 0 : EPIPE), "%s: chan_close: %s (the "
	    "channel should be %s)", what, strerror(err),
	    open ? "open" : "closed");
}

/* After a row: every fixture is as fix_setup() left it; then free them. */
static void
fix_check_and_free(void)
{
	static const int buf[] = { 11, 22 }, full[] = { 1, 2 }, closed[] = { 33 };
	int v = 5, err;

	ck_assert_msg(out == SENTINEL, "a failed call stored %d", out);
	ck_assert_msg(outs[0] == SENTINEL && outs[1] == SENTINEL,
	    "a failed call stored into its array");
	ck_assert_uint_eq(chan_cap(F.buf), 4);
	ck_assert_uint_eq(chan_cap(F.unbuf), 0);
	expect_contents("buf", F.buf, buf, 2, EAGAIN);
	expect_contents("full", F.full, full, 2, EAGAIN);
	expect_contents("empty", F.empty, NULL, 0, EAGAIN);
	expect_contents("unbuf", F.unbuf, NULL, 0, EAGAIN);
	ck_assert_int_eq(chan_trysend(F.unbuf, &v), EAGAIN);
	ck_assert_int_eq(chan_trysend(F.sig, NULL), EAGAIN);
	ck_assert_int_eq(chan_tryrecv(F.sig, NULL), EAGAIN);
	expect_contents("closed", F.closed, closed, 1, EPIPE);
	expect_contents("drained", F.drained, NULL, 0, EPIPE);
	expect_contents("drop", F.drop, NULL, 0, EPIPE);
	expect_contents("re", F.re, NULL, 0, EAGAIN);
	ck_assert_uint_eq(chan_cap(F.re), 2);

	/* sub still gets what b sends; csub is closed and drained. */
	ck_assert_int_eq(chan_bcast_send(F.b, &v), 0);
	expect_contents("sub", F.sub, &v, 1, EAGAIN);
	expect_contents("csub", F.csub, NULL, 0, EPIPE);
	err = chan_bcast_close(F.b);
	ck_assert_msg(err == 0, "the broadcast was closed: %s", strerror(err));
	ck_assert_int_eq(chan_bcast_close(F.bclosed), EPIPE);

	expect_open("buf", F.buf, 1);
	expect_open("full", F.full, 1);
	expect_open("empty", F.empty, 1);
	expect_open("unbuf", F.unbuf, 1);
	expect_open("sig", F.sig, 1);
	expect_open("closed", F.closed, 0);
	expect_open("drained", F.drained, 0);
	expect_open("re", F.re, 1);

	chan_destroy(F.buf);
	chan_destroy(F.full);
	chan_destroy(F.empty);
	chan_destroy(F.unbuf);
	chan_destroy(F.sig);
	chan_destroy(F.closed);
	chan_destroy(F.drained);
	chan_destroy(F.drop);
	chan_destroy(F.re);
	chan_bcast_destroy(F.b);
	chan_destroy(F.sub);
	chan_bcast_destroy(F.bclosed);
	chan_destroy(F.csub);
}

/* A constructor's result as an error number: errno if NULL, else 0. */
static int
create_err(size_t elem_size, size_t cap, enum chan_policy policy)
{
	chan_t *ch;

	errno = 0;
	if ((ch = chan_create(elem_size, cap, policy)) != NULL) {
		chan_destroy(ch);
		return 0;
	}
	return errno;
}

static int
subscribe_err(chan_bcast_t *b, size_t cap, enum chan_policy policy)
{
	chan_t *ch;

	errno = 0;
	if ((ch = chan_bcast_subscribe(b, cap, policy)) != NULL) {
		chan_bcast_unsubscribe(b, ch);
		chan_destroy(ch);
		return 0;
	}
	return errno;
}


/*
 * A select as an error number: errno if it failed, else the err of the case
 * it returned (which must be case want_idx, or EPROTO).
 */
static int
select_form(struct chan_case *cs, size_t n, int form,
    const struct timespec *ts, int want_idx)
{
	int idx;

	errno = 0;
	if (form == 0)
		idx = chan_select(cs, n);
	else if (form == 1)
		idx = chan_tryselect(cs, n);
	else
		idx = chan_timedselect(cs, n, ts);
	if (idx < 0)
		return errno;
	return idx == want_idx ? cs[idx].err : EPROTO;
}

/* One case: (ch, op, elem). */
static int
sel_one(int form, const struct timespec *ts, chan_t *ch, enum chan_op op,
    void *elem)
{
	struct chan_case cs[1] = { { ch, op, elem, -1 } };

	return select_form(cs, 1, form, ts, 0);
}

/* A ready receive from F.buf, then (ch, op, elem): which is bad. */
static int
sel_ready_plus(int form, const struct timespec *ts, chan_t *ch,
    enum chan_op op, void *elem)
{
	struct chan_case cs[2] = {
		{ F.buf, CHAN_RECV, &out, -1 },
		{ ch, op, elem, -1 },
	};

	return select_form(cs, 2, form, ts, -1);
}

/* n disabled cases (none at all if n is 0). */
static int
sel_none(int form, const struct timespec *ts, size_t n)
{
	struct chan_case cs[3] = {
		{ NULL, CHAN_RECV, &out, -1 },
		{ NULL, CHAN_SEND, &out, -1 },
		{ NULL, CHAN_RECV, NULL, -1 },
	};

	return select_form(cs, n, form, ts, -1);
}

static int
sel_null(int form, const struct timespec *ts, size_t n)
{
	return select_form(NULL, n, form, ts, -1);
}

/*
 * n cases, more than an int index can number, of which only the first
 * page's worth exist, all disabled: the page after them is mapped with no
 * access, so a select that reads past them to check them crashes the row
 * instead of failing it quietly with ENOMEM or EDEADLK.
 */
static int
sel_too_many(int form, const struct timespec *ts, size_t n)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *map;
	struct chan_case *cs;
	int err;

	map = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return EPROTO;
	if (mprotect(map + page, (size_t)page, PROT_NONE) != 0) {
		munmap(map, 2 * (size_t)page);
		return EPROTO;
	}
	cs = (struct chan_case *)(void *)map;	/* zeroes: ch NULL */
	err = select_form(cs, n, form, ts, -1);
	munmap(map, 2 * (size_t)page);
	return err;
}

/* Unsubscribing what was just unsubscribed: the second time, EINVAL. */
static int
unsubscribe_twice(void)
{
	chan_t *s = chan_bcast_subscribe(F.b, 1, CHAN_BLOCK);
	int err;

	if (s == NULL)
		return EPROTO;
	if (chan_bcast_unsubscribe(F.b, s) != 0)
		return EPROTO;
	err = chan_bcast_unsubscribe(F.b, s);
	chan_destroy(s);
	return err;
}

/* A channel used, closed and destroyed; the next one starts fresh. */
static int
create_destroy_create(void)
{
	chan_t *a, *b;
	int v = 1, err;

	if ((a = chan_create(sizeof(int), 1, CHAN_BLOCK)) == NULL)
		return EPROTO;
	(void)chan_send(a, &v);
	(void)chan_close(a);
	chan_destroy(a);
	if ((b = chan_create(sizeof(int), 1, CHAN_BLOCK)) == NULL)
		return EPROTO;
	/* Nothing of a (its element, its closed flag) shows through. */
	err = chan_tryrecv(b, &v);
	if (err == EAGAIN && chan_len(b) == 0)
		err = chan_trysend(b, &v);
	if (err == 0 && (chan_recv(b, &v) != 0 || v != 1))
		err = EPROTO;
	chan_destroy(b);
	return err;
}

/* The destroy functions take NULL as a no-op. */
static int
noop_destroys(void)
{
	chan_destroy(NULL);
	chan_bcast_destroy(NULL);
	return 0;
}

#define N1		((size_t)1 << (sizeof(size_t) * CHAR_BIT / 2))
#define BADPOL(x)	((enum chan_policy)(x))
#define BADOP(x)	((enum chan_op)(x))

/*
 * The table: each row is one call and the error the contract gives it.
 * Inside a row, v is an int, vs an int[2], n a size_t; out and outs are
 * receive buffers that must stay untouched.
 */
#define ROWS(X)								\
	/* chan_create: unknown policies, unbuffered DROP/SLIDE. */	\
	X(EINVAL, create_err(sizeof(int), 4, BADPOL(3)))		\
	X(EINVAL, create_err(sizeof(int), 4, BADPOL(-1)))		\
	X(EINVAL, create_err(sizeof(int), 4, BADPOL(INT_MAX)))		\
	X(EINVAL, create_err(sizeof(int), 0, BADPOL(42)))		\
	X(EINVAL, create_err(sizeof(int), 0, CHAN_DROP))		\
	X(EINVAL, create_err(sizeof(int), 0, CHAN_SLIDE))		\
	X(EINVAL, create_err(0, 0, CHAN_DROP))				\
	/* elem_size * capacity overflows: EINVAL. */			\
	X(EINVAL, create_err(SIZE_MAX, 2, CHAN_BLOCK))			\
	X(EINVAL, create_err(2, SIZE_MAX / 2 + 1, CHAN_BLOCK))		\
	X(EINVAL, create_err(N1, N1, CHAN_BLOCK))			\
	X(EINVAL, create_err(16, SIZE_MAX, CHAN_DROP))			\
	X(EINVAL, create_err(SIZE_MAX, SIZE_MAX, CHAN_SLIDE))		\
	/* No overflow, but too large to allocate: ENOMEM. */		\
	X(ENOMEM, create_err(SIZE_MAX / 2, 1, CHAN_BLOCK))		\
	X(ENOMEM, create_err(1, SIZE_MAX - 8, CHAN_BLOCK))		\
	X(ENOMEM, create_err(SIZE_MAX / 4, 2, CHAN_SLIDE))		\
	X(ENOMEM, create_err(SIZE_MAX, 1, CHAN_DROP))			\
	/* A signal channel's slot still holds its sequence word. */	\
	X(ENOMEM, create_err(0, SIZE_MAX, CHAN_BLOCK))			\
	/* chan_close, chan_destroy, chan_len, chan_cap. */		\
	X(EINVAL, chan_close(NULL))					\
	X(EPIPE, chan_close(F.closed))					\
	X(EPIPE, chan_close(F.drained))					\
	X(0, noop_destroys())						\
	X(0, chan_len(NULL) == 0 ? 0 : EPROTO)				\
	X(0, chan_cap(NULL) == 0 ? 0 : EPROTO)				\
	X(0, create_destroy_create())					\
	/* Sends: NULL channel, NULL element, NULL count. */		\
	X(EINVAL, chan_send(NULL, &v))					\
	X(EINVAL, chan_trysend(NULL, &v))				\
	X(EINVAL, chan_timedsend(NULL, &v, NULL))			\
	X(EINVAL, chan_timedsend(NULL, &v, &epoch))			\
	X(EINVAL, chan_sendn(NULL, vs, 2, &n))				\
	X(EINVAL, chan_trysendn(NULL, vs, 2, &n))			\
	X(EINVAL, chan_timedsendn(NULL, vs, 2, &n, NULL))		\
	X(EINVAL, chan_send(F.buf, NULL))				\
	X(EINVAL, chan_trysend(F.buf, NULL))				\
	X(EINVAL, chan_timedsend(F.buf, NULL, NULL))			\
	X(EINVAL, chan_timedsend(F.buf, NULL, &epoch))			\
	X(EINVAL, chan_send(F.closed, NULL))				\
	X(EINVAL, chan_trysend(F.unbuf, NULL))				\
	X(EINVAL, chan_sendn(F.buf, NULL, 1, &n))			\
	X(EINVAL, chan_trysendn(F.buf, NULL, 2, &n))			\
	X(EINVAL, chan_timedsendn(F.buf, NULL, 2, &n, &epoch))		\
	X(EINVAL, chan_sendn(F.buf, vs, 2, NULL))			\
	X(EINVAL, chan_trysendn(F.buf, vs, 1, NULL))			\
	X(EINVAL, chan_timedsendn(F.buf, vs, 1, NULL, NULL))		\
	X(EINVAL, chan_sendn(F.closed, vs, 1, NULL))			\
	/* Deadlines out of range, on sends that would wait. */		\
	X(EINVAL, chan_timedsend(F.full, &v, &nsec_neg))		\
	X(EINVAL, chan_timedsend(F.full, &v, &nsec_1e9))		\
	X(EINVAL, chan_timedsend(F.full, &v, &nsec_max))		\
	X(EINVAL, chan_timedsend(F.full, &v, &nsec_min))		\
	X(EINVAL, chan_timedsend(F.full, &v, &sec_neg_nsec_bad))	\
	X(EINVAL, chan_timedsend(F.unbuf, &v, &nsec_1e9))		\
	X(EINVAL, chan_timedsend(F.sig, NULL, &nsec_neg))		\
	X(EINVAL, chan_timedsendn(F.full, vs, 2, &n, &nsec_neg))	\
	X(EINVAL, chan_timedsendn(F.unbuf, vs, 2, &n, &nsec_1e9))	\
	/* Deadlines already past, by a little or by a lot. */		\
	X(ETIMEDOUT, chan_timedsend(F.full, &v, &epoch))		\
	X(ETIMEDOUT, chan_timedsend(F.full, &v, &sec_neg))		\
	X(ETIMEDOUT, chan_timedsend(F.full, &v, &far_past))		\
	X(ETIMEDOUT, chan_timedsend(F.full, &v, &far_past_nsec))	\
	X(ETIMEDOUT, chan_timedsend(F.unbuf, &v, &far_past))		\
	X(ETIMEDOUT, chan_timedsend(F.sig, NULL, &sec_neg))		\
	X(ETIMEDOUT, chan_timedsendn(F.full, vs, 2, &n, &far_past))	\
	X(ETIMEDOUT, chan_timedsendn(F.unbuf, vs, 1, &n, &epoch))	\
	/* Try forms that would wait. */				\
	X(EAGAIN, chan_trysend(F.full, &v))				\
	X(EAGAIN, chan_trysend(F.unbuf, &v))				\
	X(EAGAIN, chan_trysend(F.sig, NULL))				\
	X(EAGAIN, chan_trysendn(F.full, vs, 2, &n))			\
	X(EAGAIN, chan_trysendn(F.unbuf, vs, 2, &n))			\
	/* Closed: EPIPE, whatever the form, policy or deadline. */	\
	X(EPIPE, chan_send(F.closed, &v))				\
	X(EPIPE, chan_trysend(F.closed, &v))				\
	X(EPIPE, chan_timedsend(F.closed, &v, NULL))			\
	X(EPIPE, chan_timedsend(F.closed, &v, &far_past))		\
	X(EPIPE, chan_sendn(F.closed, vs, 2, &n))			\
	X(EPIPE, chan_trysendn(F.drained, vs, 1, &n))			\
	X(EPIPE, chan_timedsendn(F.drained, vs, 2, &n, &epoch))	\
	X(EPIPE, chan_send(F.drop, &v))					\
	X(EPIPE, chan_trysend(F.drop, &v))				\
	X(EPIPE, chan_sendn(F.drop, vs, 2, &n))				\
	/* A batch of none sends nothing, and says so. */		\
	X(0, chan_sendn(F.buf, vs, 0, &n) == 0 && n == 0 ? 0 : EPROTO)	\
	X(0, chan_trysendn(F.full, vs, 0, &n) == 0 && n == 0 ? 0 : EPROTO) \
	/* Receives: NULL channel, NULL count. */			\
	X(EINVAL, chan_recv(NULL, &out))				\
	X(EINVAL, chan_tryrecv(NULL, &out))				\
	X(EINVAL, chan_timedrecv(NULL, &out, NULL))			\
	X(EINVAL, chan_timedrecv(NULL, NULL, &epoch))			\
	X(EINVAL, chan_recvn(NULL, outs, 2, &n))			\
	X(EINVAL, chan_tryrecvn(NULL, outs, 2, &n))			\
	X(EINVAL, chan_timedrecvn(NULL, outs, 2, &n, NULL))		\
	X(EINVAL, chan_recvn(F.buf, outs, 2, NULL))			\
	X(EINVAL, chan_tryrecvn(F.buf, NULL, 1, NULL))			\
	X(EINVAL, chan_timedrecvn(F.buf, outs, 2, NULL, &epoch))	\
	/* Deadlines out of range, on receives that would wait. */	\
	X(EINVAL, chan_timedrecv(F.empty, &out, &nsec_neg))		\
	X(EINVAL, chan_timedrecv(F.empty, &out, &nsec_1e9))		\
	X(EINVAL, chan_timedrecv(F.empty, &out, &nsec_max))		\
	X(EINVAL, chan_timedrecv(F.empty, &out, &nsec_min))		\
	X(EINVAL, chan_timedrecv(F.unbuf, &out, &sec_neg_nsec_bad))	\
	X(EINVAL, chan_timedrecv(F.sig, NULL, &nsec_1e9))		\
	X(EINVAL, chan_timedrecvn(F.empty, outs, 2, &n, &nsec_neg))	\
	X(EINVAL, chan_timedrecvn(F.unbuf, outs, 2, &n, &nsec_max))	\
	/* Deadlines already past. */					\
	X(ETIMEDOUT, chan_timedrecv(F.empty, &out, &epoch))		\
	X(ETIMEDOUT, chan_timedrecv(F.empty, &out, &sec_neg))		\
	X(ETIMEDOUT, chan_timedrecv(F.empty, &out, &far_past))		\
	X(ETIMEDOUT, chan_timedrecv(F.unbuf, &out, &far_past_nsec))	\
	X(ETIMEDOUT, chan_timedrecv(F.sig, NULL, &epoch))		\
	X(ETIMEDOUT, chan_timedrecvn(F.empty, outs, 2, &n, &far_past))	\
	X(ETIMEDOUT, chan_timedrecvn(F.unbuf, NULL, 2, &n, &sec_neg))	\
	/* Try forms that would wait. */				\
	X(EAGAIN, chan_tryrecv(F.empty, &out))				\
	X(EAGAIN, chan_tryrecv(F.unbuf, &out))				\
	X(EAGAIN, chan_tryrecv(F.sig, NULL))				\
	X(EAGAIN, chan_tryrecvn(F.empty, outs, 2, &n))			\
	X(EAGAIN, chan_tryrecvn(F.unbuf, outs, 2, &n))			\
	/* Closed and drained: EPIPE, whatever the form or deadline. */	\
	X(EPIPE, chan_recv(F.drained, &out))				\
	X(EPIPE, chan_tryrecv(F.drained, &out))				\
	X(EPIPE, chan_timedrecv(F.drained, &out, NULL))			\
	X(EPIPE, chan_timedrecv(F.drained, &out, &far_past))		\
	X(EPIPE, chan_recvn(F.drained, outs, 2, &n))			\
	X(EPIPE, chan_tryrecvn(F.drop, outs, 2, &n))			\
	X(EPIPE, chan_timedrecvn(F.drop, NULL, 2, &n, &epoch))		\
	/* A batch of none receives nothing. */				\
	X(0, chan_recvn(F.buf, outs, 0, &n) == 0 && n == 0 ? 0 : EPROTO) \
	X(0, chan_tryrecvn(F.empty, outs, 0, &n) == 0 && n == 0 ? 0 : EPROTO) \
	/* Selects: NULL cases. */					\
	X(EINVAL, sel_null(0, NULL, 1))					\
	X(EINVAL, sel_null(1, NULL, 2))					\
	X(EINVAL, sel_null(2, &epoch, 1))				\
	/* No cases at all, NULL or not: nothing enabled. */		\
	X(EDEADLK, sel_null(0, NULL, 0))				\
	X(EAGAIN, sel_null(1, NULL, 0))					\
	X(EDEADLK, sel_null(2, NULL, 0))				\
	X(ETIMEDOUT, sel_null(2, &epoch, 0))				\
	/* More cases than an int index can number. */		\
	X(EINVAL, sel_too_many(0, NULL, (size_t)INT_MAX + 1))		\
	X(EINVAL, sel_too_many(1, NULL, SIZE_MAX))			\
	X(EINVAL, sel_too_many(2, &epoch, (size_t)INT_MAX + 2))	\
	/* Unknown ops and NULL send elements, beside a ready case. */	\
	X(EINVAL, sel_ready_plus(0, NULL, F.empty, BADOP(0), &v))	\
	X(EINVAL, sel_ready_plus(1, NULL, F.empty, BADOP(3), &v))	\
	X(EINVAL, sel_ready_plus(2, NULL, F.empty, BADOP(-1), &v))	\
	X(EINVAL, sel_ready_plus(0, NULL, F.buf, BADOP(INT_MAX), &v))	\
	X(EINVAL, sel_ready_plus(1, NULL, F.closed, BADOP(0), &v))	\
	X(EINVAL, sel_ready_plus(0, NULL, F.empty, CHAN_SEND, NULL))	\
	X(EINVAL, sel_ready_plus(1, NULL, F.unbuf, CHAN_SEND, NULL))	\
	X(EINVAL, sel_ready_plus(2, &epoch, F.closed, CHAN_SEND, NULL))	\
	/* Deadlines out of range, on selects that would wait. */	\
	X(EINVAL, sel_one(2, &nsec_neg, F.empty, CHAN_RECV, &out))	\
	X(EINVAL, sel_one(2, &nsec_1e9, F.full, CHAN_SEND, &v))		\
	X(EINVAL, sel_one(2, &nsec_min, F.unbuf, CHAN_RECV, &out))	\
	X(EINVAL, sel_one(2, &sec_neg_nsec_bad, F.unbuf, CHAN_SEND, &v)) \
	X(EINVAL, sel_none(2, &nsec_1e9, 2))				\
	X(EINVAL, sel_none(2, &nsec_neg, 0))				\
	/* Nothing ready, or nothing enabled. */			\
	X(EAGAIN, sel_one(1, NULL, F.empty, CHAN_RECV, &out))		\
	X(EAGAIN, sel_one(1, NULL, F.unbuf, CHAN_SEND, &v))		\
	X(EAGAIN, sel_one(1, NULL, F.sig, CHAN_SEND, NULL))		\
	X(ETIMEDOUT, sel_one(2, &epoch, F.full, CHAN_SEND, &v))		\
	X(ETIMEDOUT, sel_one(2, &far_past, F.unbuf, CHAN_RECV, &out))	\
	X(ETIMEDOUT, sel_one(2, &sec_neg, F.empty, CHAN_RECV, NULL))	\
	X(EDEADLK, sel_none(0, NULL, 0))				\
	X(EDEADLK, sel_none(0, NULL, 3))				\
	X(EAGAIN, sel_none(1, NULL, 0))					\
	X(EAGAIN, sel_none(1, NULL, 2))					\
	X(EDEADLK, sel_none(2, NULL, 3))				\
	X(ETIMEDOUT, sel_none(2, &epoch, 1))				\
	X(ETIMEDOUT, sel_none(2, &far_past, 0))				\
	/* Closed channels are ready: the case completes with EPIPE. */	\
	X(EPIPE, sel_one(0, NULL, F.closed, CHAN_SEND, &v))		\
	X(EPIPE, sel_one(1, NULL, F.drop, CHAN_SEND, &v))		\
	X(EPIPE, sel_one(2, &far_past, F.drained, CHAN_RECV, &out))	\
	X(EPIPE, sel_one(0, NULL, F.drained, CHAN_RECV, NULL))		\
	/* Broadcast. */						\
	X(EINVAL, subscribe_err(NULL, 4, CHAN_BLOCK))			\
	X(EINVAL, subscribe_err(F.b, 4, BADPOL(3)))			\
	X(EINVAL, subscribe_err(F.b, 4, BADPOL(-1)))			\
	X(EINVAL, subscribe_err(F.b, 0, CHAN_DROP))			\
	X(EINVAL, subscribe_err(F.b, 0, CHAN_SLIDE))			\
	X(EINVAL, subscribe_err(F.b, SIZE_MAX, CHAN_BLOCK))		\
	X(EINVAL, subscribe_err(F.b, SIZE_MAX / 2 + 1, CHAN_SLIDE))	\
	X(ENOMEM, subscribe_err(F.b, SIZE_MAX / 8, CHAN_BLOCK))		\
	X(EPIPE, subscribe_err(F.bclosed, 4, CHAN_BLOCK))		\
	X(EINVAL, subscribe_err(F.bclosed, 4, BADPOL(9)))		\
	X(EINVAL, chan_bcast_unsubscribe(NULL, F.sub))			\
	X(EINVAL, chan_bcast_unsubscribe(F.b, NULL))			\
	X(EINVAL, chan_bcast_unsubscribe(F.b, F.buf))			\
	X(EINVAL, chan_bcast_unsubscribe(F.b, F.csub))			\
	X(EINVAL, chan_bcast_unsubscribe(F.bclosed, F.sub))		\
	X(EINVAL, unsubscribe_twice())					\
	X(EINVAL, chan_bcast_send(NULL, &v))				\
	X(EINVAL, chan_bcast_send(F.b, NULL))				\
	X(EINVAL, chan_bcast_send(F.bclosed, NULL))			\
	X(EPIPE, chan_bcast_send(F.bclosed, &v))			\
	X(EINVAL, chan_bcast_close(NULL))				\
	X(EPIPE, chan_bcast_close(F.bclosed))

struct row {
	const char	*call;
	int		 want;
};

#define ROW_DEF(want, expr)	{ #expr, want },
static const struct row rows[] = { ROWS(ROW_DEF) };
#define NROWS	((int)(sizeof(rows) / sizeof(rows[0])))

#define COUNT_MARK	77	/* a row's n before its call */

/*
 * Runs row i of the table and returns what it returned; *count is what
 * the row's n (a batch call's count) held after it.
 */
static int
row_call(int i, size_t *count)
{
	int v = 5, vs[2] = { 5, 6 }, k = 0, r;
	size_t n = COUNT_MARK;

#define ROW_CALL(want, expr)	if (i == k++) { r = (expr); goto out; }
	ROWS(ROW_CALL)
#undef ROW_CALL
	(void)v;
	(void)vs;
	r = -1;
out:
	*count = n;
	return r;
}

/*
 * A batch call that failed (its row passes n's address) reports a count
 * of 0 (chan_send(3), chan_recv(3)), except after EINVAL, which changes
 * nothing: n keeps its value.
 */
static void
check_failed_count(int i, size_t count)
{
	const char *call = rows[i].call;
	size_t want = rows[i].want == EINVAL ? COUNT_MARK : 0;

	if (rows[i].want == 0 || strstr(call, ", &n") == NULL)
		return;
	ck_assert_msg(count == want, "%s failed with %s and left the count "
	    "%zu, want %zu", call, strerror(rows[i].want), count, want);
}

/* Row _i of the table: the documented error, and nothing changed. */
START_TEST(bad_input_fails_and_changes_nothing)
{
	size_t count;
	int got;

	fix_setup();
	got = row_call(_i, &count);
	ck_assert_msg(got == rows[_i].want, "%s: got %d (%s), want %s",
	    rows[_i].call, got, strerror(got), strerror(rows[_i].want));
	check_failed_count(_i, count);
	fix_check_and_free();
}
END_TEST

/*
 * Deadlines far in the future: the call must wait (not fail at once with
 * ETIMEDOUT or EINVAL, as an overflowing conversion would) and complete
 * when a partner arrives.  The partner polls the try form of the opposite
 * operation on an unbuffered channel, which succeeds only once the timed
 * call is really waiting.
 */
static const struct timespec far_future[] = {
	{ TIME_T_MAX, 999999999L },
	{ TIME_T_MAX - 1, 0 },
	{ TIME_T_MAX / 1000000000 + 1, 0 },
	{ (time_t)((uintmax_t)TIME_T_MAX >> 23) + 1, 500000000L }, /* 2^40 */
	{ TIME_T_MAX > INT32_MAX ? (time_t)((intmax_t)INT32_MAX + 1) :
	    TIME_T_MAX, 0 },
};
#define NFAR	((int)(sizeof(far_future) / sizeof(far_future[0])))
enum { F_SEND, F_RECV, F_SENDN, F_RECVN, F_SELECT_SEND, F_SELECT_RECV, NF };

struct poller {
	chan_t		*ch;
	int		 send;		/* poll trysend (else tryrecv) */
	_Atomic int	 stop;
	int		 got;		/* the value received, or -1 */
	int		 ok;		/* the try call succeeded */
};

static void *
poller_main(void *arg)
{
	struct poller *p = arg;
	int v = 42, err;

	p->got = -1;
	while (!p->stop) {
		err = p->send ? chan_trysend(p->ch, &v) : chan_tryrecv(p->ch,
		    &p->got);
		if (err == 0) {
			p->ok = 1;
			break;
		}
		sched_yield();
	}
	return NULL;
}

START_TEST(far_future_deadline_waits_for_a_partner)
{
	const struct timespec *ts = &far_future[_i % NFAR];
	int form = _i / NFAR, v = 7, r = -1, err, idx;
	size_t n = 0;
	struct poller p;
	pthread_t t;
	struct chan_case cs[1];
	chan_t *ch;
	struct timespec now;

	/*
	 * With a 32-bit time_t (i386) some rows are no future at all (2^40
	 * becomes 256, TIME_T_MAX / 10^9 + 1 is 3): nothing to wait for.
	 */
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (ts->tv_sec - now.tv_sec < 86400)
		return;
	ch = mk(sizeof(int), 0, CHAN_BLOCK);
	memset(&p, 0, sizeof(p));
	p.ch = ch;
	p.send = form == F_RECV || form == F_RECVN || form == F_SELECT_RECV;
	ck_assert_int_eq(pthread_create(&t, NULL, poller_main, &p), 0);
	switch (form) {
	case F_SEND:
		err = chan_timedsend(ch, &v, ts);
		break;
	case F_RECV:
		err = chan_timedrecv(ch, &r, ts);
		break;
	case F_SENDN:
		err = chan_timedsendn(ch, &v, 1, &n, ts);
		break;
	case F_RECVN:
		err = chan_timedrecvn(ch, &r, 1, &n, ts);
		break;
	default:
		cs[0] = (struct chan_case){ ch, form == F_SELECT_SEND ?
		    CHAN_SEND : CHAN_RECV, form == F_SELECT_SEND ? (void *)&v :
		    (void *)&r, -1 };
		idx = chan_timedselect(cs, 1, ts);
		err = idx == 0 ? cs[0].err : idx < 0 ? errno : EPROTO;
		break;
	}
	p.stop = 1;
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_msg(err == 0, "form %d, deadline {%jd, %ld}: %s", form,
	    (intmax_t)ts->tv_sec, ts->tv_nsec, strerror(err));
	ck_assert(p.ok);
	if (p.send)
		ck_assert_int_eq(r, 42);
	else
		ck_assert_int_eq(p.got, 7);
	chan_destroy(ch);
}
END_TEST

/*
 * A thread that waited in a select on a channel since destroyed selects
 * on a new channel, likely at the same address: nothing of the old one
 * (its queue entries, the thread's waiter state) may show through.
 */
START_TEST(select_after_destroy_and_recreate)
{
	struct poller p;
	pthread_t t;
	struct chan_case cs[2];
	chan_t *ch, *other;
	int round, r, idx;

	other = mk(sizeof(int), 0, CHAN_BLOCK);
	for (round = 0; round < 4; round++) {
		ch = mk(sizeof(int), round % 2, CHAN_BLOCK);
		memset(&p, 0, sizeof(p));
		p.ch = ch;
		p.send = 1;
		ck_assert_int_eq(pthread_create(&t, NULL, poller_main, &p), 0);
		r = -1;
		cs[0] = (struct chan_case){ other, CHAN_RECV, NULL, -1 };
		cs[1] = (struct chan_case){ ch, CHAN_RECV, &r, -1 };
		idx = chan_select(cs, 2);
		p.stop = 1;
		ck_assert_int_eq(pthread_join(t, NULL), 0);
		ck_assert_int_eq(idx, 1);
		ck_assert_int_eq(cs[1].err, 0);
		ck_assert_int_eq(r, 42);
		/* Nothing is left queued: try calls find no partner. */
		ck_assert_int_eq(chan_tryrecv(ch, &r), EAGAIN);
		ck_assert_int_eq(chan_trysend(other, &r), EAGAIN);
		chan_destroy(ch);
	}
	chan_destroy(other);
}
END_TEST

static Suite *
badinput_suite(void)
{
	Suite *s = suite_create("badinput");
	TCase *tc;

	tc = tcase_create("table");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_loop_test(tc, bad_input_fails_and_changes_nothing, 0, NROWS);
	suite_add_tcase(s, tc);

	tc = tcase_create("deadlines");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_loop_test(tc, far_future_deadline_waits_for_a_partner, 0,
	    NFAR * NF);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifetime");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, select_after_destroy_and_recreate);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(badinput_suite());
	int failed;

	printf("check_badinput: %d bad inputs in the table\n", NROWS);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
