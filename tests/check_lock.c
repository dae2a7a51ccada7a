/*
 * The channel lock, white-box: src/lock.c and chan__lock/chan__unlock in
 * src/internal.h, on a chan__mutex of the test's own.  By default that is
 * the Linux futex lock (0 free, 1 held, 2 held with sleepers); built with
 * -DCHAN_NO_FUTEX (make portable) it is a pthread mutex, and the same
 * tests hold.  The other suites reach the lock's slow path only when
 * their threads happen to collide; here a thread is made to wait for a
 * lock the test holds, and is watched asleep through /proc, as
 * op_wait_blocked does.
 */
#define _GNU_SOURCE 1	/* syscall(2) for testutil.h */

#include <signal.h>
#include <stdbool.h>

#include "testutil.h"
#include "internal.h"	/* chan__mutex, chan__lock, chan__unlock */

/* A thread that takes m, notes errno, and gives m back. */
struct locker {
	pthread_t	 thread;
	chan__mutex	*m;
	atomic_int	 tid;		/* its kernel id, once known */
	atomic_int	 locked;	/* it got m */
	int		 err;		/* errno as chan__lock left it */
};

static void *
locker_main(void *arg)
{
	struct locker *l = arg;

	atomic_store(&l->tid, (int)syscall(SYS_gettid));
	errno = OP_ERRNO_MARK;
	chan__lock(l->m);
	l->err = errno;
	atomic_store(&l->locked, 1);
	chan__unlock(l->m);
	return NULL;
}

static void
locker_start(struct locker *l, chan__mutex *m)
{
	l->m = m;
	l->err = -1;
	atomic_init(&l->tid, 0);
	atomic_init(&l->locked, 0);
	ck_assert_int_eq(pthread_create(&l->thread, NULL, locker_main, l), 0);
}

/*
 * Returns once l is asleep in the kernel (waiting for m: it sleeps nowhere
 * else) or got m; false if /proc cannot tell (thread_wait_asleep).
 */
static bool
wait_locker(struct locker *l)
{
	return thread_wait_asleep(&l->tid, &l->locked);
}

/*
 * The voluntary context switches of thread tid so far (it went to sleep
 * that many times), from /proc/self/task/tid/status; -1 if unreadable.
 */
static long
sleeps(int tid)
{
	static const char key[] = "\nvoluntary_ctxt_switches:";
	char buf[2048], *p;

	if (!read_task_file(tid, "status", buf, sizeof(buf)) ||
	    (p = strstr(buf, key)) == NULL)
		return -1;
	return strtol(p + sizeof(key) - 1, NULL, 10);
}

/*
 * A thread that finds the lock held waits for it: asleep, not spinning,
 * and without taking it (mutual exclusion); the unlock wakes it and it
 * takes the lock, with errno as it was.
 */
START_TEST(locker_of_held_lock_sleeps_until_unlocked)
{
	chan__mutex m;
	struct locker l;

	chan__mutex_init(&m);
	chan__lock(&m);
	locker_start(&l, &m);
	if (wait_locker(&l)) {
		ck_assert_msg(!atomic_load(&l.locked),
		    "a second thread took a lock that was held");
#ifdef CHAN__FUTEX
		/* Marked, so that the unlock wakes it. */
		ck_assert_uint_eq(atomic_load(&m.word), 2);
#endif
	}
	chan__unlock(&m);
	ck_assert_int_eq(pthread_join(l.thread, NULL), 0);
	ck_assert_int_eq(atomic_load(&l.locked), 1);
	ck_assert_int_eq(l.err, OP_ERRNO_MARK);
	/* Free again, for anyone. */
	chan__lock(&m);
#ifdef CHAN__FUTEX
	ck_assert_uint_eq(atomic_load(&m.word), 1);
#endif
	chan__unlock(&m);
	chan__mutex_destroy(&m);
}
END_TEST

static void
on_signal(int sig)
{
	(void)sig;
}

/*
 * A lock wait interrupted by a signal (the futex wait fails with EINTR:
 * the handler is installed without SA_RESTART) goes on waiting, and the
 * locker's errno does not show the EINTR: calls on a channel never set
 * errno.
 */
START_TEST(lock_wait_interrupted_by_signal_leaves_errno_alone)
{
	struct sigaction sa, old;
	chan__mutex m;
	struct locker l;
	long before;
	int tid;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, &old), 0);
	chan__mutex_init(&m);
	chan__lock(&m);
	locker_start(&l, &m);
	tid = 0;
	before = -1;
	if (wait_locker(&l)) {
		tid = atomic_load(&l.tid);
		before = sleeps(tid);
	}
	if (before >= 0) {
		ck_assert_int_eq(atomic_load(&l.locked), 0);
		ck_assert_int_eq(pthread_kill(l.thread, SIGUSR1), 0);
		/*
		 * Interrupted, it looks again, finds the lock still held and
		 * sleeps again: once more than before.  (The handler itself
		 * says nothing: under TSan it may run only later.)
		 */
		while (sleeps(tid) <= before || thread_sleeping(tid) != 1)
			sched_yield();
		ck_assert_int_eq(atomic_load(&l.locked), 0);
	}
	chan__unlock(&m);
	ck_assert_int_eq(pthread_join(l.thread, NULL), 0);
	ck_assert_int_eq(atomic_load(&l.locked), 1);
	ck_assert_msg(l.err == OP_ERRNO_MARK, "errno %d (%s) after the lock "
	    "wait", l.err, strerror(l.err));
	chan__mutex_destroy(&m);
	ck_assert_int_eq(sigaction(SIGUSR1, &old, NULL), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("lock");
	SRunner *sr;
	int failed;

	ADD(s, locker_of_held_lock_sleeps_until_unlocked);
	ADD(s, lock_wait_interrupted_by_signal_leaves_errno_alone);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
