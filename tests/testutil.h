/*
 * Helpers shared by the Check suites: deadlines, a thread that performs one
 * channel operation, a way to know that such a thread is really blocked
 * inside the library without sleeping for it, and one case per test.
 *
 * The including file must define _DEFAULT_SOURCE (for syscall(2)) before
 * its first #include.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "chan.h"

/* Per-case timeout in seconds: generous, since CI runs us under TSan. */
#define TEST_TIMEOUT	30

/*
 * add_own_case adds test to s in a case of its own named name, so that each
 * test has its own timeout (seconds).  ADD(s, t) does so with CASE_TIMEOUT,
 * TEST_TIMEOUT unless the suite defines it.
 */
static inline void
add_own_case(Suite *s, const char *name, const TTest *test, int timeout)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, timeout);
	tcase_add_test(tc, test);
	suite_add_tcase(s, tc);
}

#ifndef CASE_TIMEOUT
#define CASE_TIMEOUT	TEST_TIMEOUT
#endif
#define ADD(s, t)	add_own_case((s), #t, t, CASE_TIMEOUT)

#define NSEC_PER_SEC	1000000000L

/* deadline_in returns the CLOCK_MONOTONIC instant ms milliseconds from now. */
static inline struct timespec
deadline_in(long ms)
{
	struct timespec ts;

	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= NSEC_PER_SEC) {
		ts.tv_sec++;
		ts.tv_nsec -= NSEC_PER_SEC;
	}
	return ts;
}

/*
 * deadline_past returns a CLOCK_MONOTONIC instant one second ago (or the
 * clock's origin, if it has not run that long): the "already past" case.
 */
static inline struct timespec
deadline_past(void)
{
	struct timespec ts;

	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	if (ts.tv_sec >= 1)
		ts.tv_sec -= 1;
	else
		ts.tv_nsec = 0;
	return ts;
}

/* reached returns whether CLOCK_MONOTONIC now is at or after *ts. */
static inline int
reached(const struct timespec *ts)
{
	struct timespec now;

	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &now), 0);
	return now.tv_sec > ts->tv_sec ||
	    (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

/* new_chan is chan_create that fails the test instead of returning NULL. */
static inline chan_t *
new_chan(size_t elem_size, size_t capacity, enum chan_policy policy)
{
	chan_t *ch = chan_create(elem_size, capacity, policy);

	ck_assert_msg(ch != NULL, "chan_create(%zu, %zu, %d): %s", elem_size,
	    capacity, (int)policy, strerror(errno));
	return ch;
}

/* put sends v on ch (which must not wait) and fails the test otherwise. */
static inline void
put(chan_t *ch, int v)
{
	ck_assert_int_eq(chan_trysend(ch, &v), 0);
}

/* take receives from ch (which must not wait) and returns the element. */
static inline int
take(chan_t *ch)
{
	int v = -1;

	ck_assert_int_eq(chan_tryrecv(ch, &v), 0);
	return v;
}

/* errno as op_main sets it before the call: no libchan call sets EDOM. */
#define OP_ERRNO_MARK	EDOM

/*
 * An operation run by a thread of its own (op_start), so that the main
 * thread can watch it block and then complete it.  Only the main thread
 * asserts: Check's ck_assert must not run on another thread.
 */
enum op_kind {
	OP_SEND,
	OP_RECV,
	OP_TIMEDSEND,
	OP_TIMEDRECV,
	OP_SENDN,
	OP_RECVN,
	OP_SELECT,
	OP_TIMEDSELECT,
};

struct op {
	enum op_kind	 kind;
	chan_t		*ch;
	int		 val;		/* SEND: sent; RECV: received */
	int		*vals;		/* SENDN, RECVN: the array */
	size_t		 n;		/* SENDN, RECVN: its length */
	size_t		 count;		/* SENDN, RECVN: out, how many */
	struct chan_case *cases;	/* SELECT */
	size_t		 ncases;
	const struct timespec *abstime;	/* TIMED*: the deadline */
	int		 err;		/* out: error number, or select index */
	int		 sel_errno;	/* out: errno when a select failed */
	int		 op_errno;	/* out: errno after any other call */
	pthread_t	 thr;
	atomic_int	 tid;		/* the thread's kernel id, once known */
	atomic_int	 entered;	/* set just before the library call */
	atomic_int	 returned;	/* set just after it */
};

static inline void *
op_main(void *arg)
{
	struct op *op = arg;
	int err = -1;

	atomic_store(&op->tid, (int)syscall(SYS_gettid));
	atomic_store(&op->entered, 1);
	errno = OP_ERRNO_MARK;	/* a channel call must leave it so */
	switch (op->kind) {
	case OP_SEND:
		err = chan_send(op->ch, &op->val);
		break;
	case OP_RECV:
		err = chan_recv(op->ch, &op->val);
		break;
	case OP_TIMEDSEND:
		err = chan_timedsend(op->ch, &op->val, op->abstime);
		break;
	case OP_TIMEDRECV:
		err = chan_timedrecv(op->ch, &op->val, op->abstime);
		break;
	case OP_SENDN:
		err = chan_sendn(op->ch, op->vals, op->n, &op->count);
		break;
	case OP_RECVN:
		err = chan_recvn(op->ch, op->vals, op->n, &op->count);
		break;
	case OP_SELECT:
		errno = 0;
		err = chan_select(op->cases, op->ncases);
		op->sel_errno = errno;
		break;
	case OP_TIMEDSELECT:
		errno = 0;
		err = chan_timedselect(op->cases, op->ncases, op->abstime);
		op->sel_errno = errno;
		break;
	}
	op->err = err;
	op->op_errno = errno;
	atomic_store(&op->returned, 1);
	return NULL;
}

static inline void
op_start(struct op *op)
{
	atomic_init(&op->tid, 0);
	atomic_init(&op->entered, 0);
	atomic_init(&op->returned, 0);
	op->err = -1;
	op->sel_errno = 0;
	ck_assert_int_eq(pthread_create(&op->thr, NULL, op_main, op), 0);
}

static inline void
op_join(struct op *op)
{
	ck_assert_int_eq(pthread_join(op->thr, NULL), 0);
}

/*
 * read_task_file reads /proc/self/task/tid/name into buf, as a string of
 * at most size - 1 bytes; false if it cannot.  It uses open/read, not
 * stdio, so that it takes no lock the watched thread could be waiting for.
 */
static inline bool
read_task_file(int tid, const char *name, char *buf, size_t size)
{
	char path[64];
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/%s", tid, name);
	if ((fd = open(path, O_RDONLY)) == -1)
		return false;
	len = read(fd, buf, size - 1);
	close(fd);
	if (len <= 0)
		return false;
	buf[len] = '\0';
	return true;
}

/*
 * thread_sleeping returns whether the kernel reports thread tid of this
 * process as sleeping (state S in /proc/self/task/tid/stat), or -1.
 */
static inline int
thread_sleeping(int tid)
{
	char buf[512], *p;

	if (!read_task_file(tid, "stat", buf, sizeof(buf)))
		return -1;
	/* The state follows the command name, which may hold ") ". */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return -1;
	return p[2] == 'S';
}

/*
 * thread_wait_asleep returns once the thread with kernel id *tid (0 until
 * that thread stores it) is asleep in the kernel, or has set *done (done
 * may be NULL): true; false if /proc cannot tell.  A thread that spins for
 * ever instead of sleeping keeps it waiting until the test times out.
 */
static inline bool
thread_wait_asleep(atomic_int *tid, atomic_int *done)
{
	int s;

	while (atomic_load(tid) == 0)
		sched_yield();
	while (done == NULL || !atomic_load(done)) {
		if ((s = thread_sleeping(atomic_load(tid))) == 1)
			return true;
		if (s == -1)
			return false;
		sched_yield();
	}
	return true;
}

/*
 * op_wait_blocked returns once op's thread has entered its library call and
 * is asleep in the kernel, which (since the main thread holds none of the
 * library's locks meanwhile) means it waits for a partner: the operation is
 * "already waiting".  Every test stays correct if this returned early (the
 * operation would then find the channel state the main thread set up next);
 * it is what makes the test exercise the wake-up path.  If /proc cannot be
 * read, yielding for a while makes the blocked state likely instead.  The
 * loop ends by the test's timeout at worst.
 */
static inline void
op_wait_blocked(struct op *op)
{
	int i;

	while (!atomic_load(&op->entered))
		sched_yield();
	/* Returned: it did not block, and the test says why. */
	if (thread_wait_asleep(&op->tid, &op->returned))
		return;
	for (i = 0; i < 10000 && !atomic_load(&op->returned); i++)
		sched_yield();
}

/*
 * A case of a select, as a compound literal: CASE(ch, CHAN_RECV, &v).  err
 * starts at a value no call stores, so a test sees whether it was written.
 */
#define CASE(c, o, e)	((struct chan_case){ .ch = (c), .op = (o), \
			    .elem = (e), .err = -7 })

#define NELEMS(a)	(sizeof(a) / sizeof((a)[0]))

#endif /* TESTUTIL_H */
