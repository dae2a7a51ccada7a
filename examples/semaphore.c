/*
 * semaphore: channels as a counting semaphore and as locks.
 *
 * A buffered channel holding N tokens is a counting semaphore: receiving a
 * token is "acquire" (it waits while none is left), sending it back is
 * "release".  The tokens carry no data, so the channel's elements are 0
 * bytes long and every element pointer is NULL.  A channel of capacity 1
 * holding one token is a lock, and because it is a channel, chan_select can
 * wait on several locks at once and take whichever frees first.
 *
 *	semaphore [limit [threads]]
 *
 * Exits 0 if no more than limit threads ever ran at once and no lock was
 * ever held twice; 1 otherwise.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chan.h"

#define JOBS		40	/* jobs per thread */
#define NLOCKS		3	/* locks in the select part */
#define LOCK_USERS	6	/* threads competing for them */
#define LOCK_ROUNDS	30	/* times each of those takes a lock */

static void
die(const char *what, int error)
{
	fprintf(stderr, "semaphore: %s: %s\n", what, strerror(error));
	exit(1);
}

/* Stand in for real work: long enough that threads overlap. */
static void
work(void)
{
	struct timespec ts = { 0, 200 * 1000 };	/* 0.2 ms */

	nanosleep(&ts, NULL);
}

/* Part 1: a counting semaphore. */

static chan_t *sem;			/* holds the free tokens */
static atomic_int running;		/* threads between acquire and release */
static atomic_int peak;			/* the most ever seen running at once */

static void *
limited_worker(void *arg)
{
	int error, i, now, old;

	(void)arg;
	for (i = 0; i < JOBS; i++) {
		/* Acquire: take a token, waiting while all are out. */
		if ((error = chan_recv(sem, NULL)) != 0)
			die("chan_recv", error);

		now = atomic_fetch_add(&running, 1) + 1;
		old = atomic_load(&peak);
		while (now > old &&
		    !atomic_compare_exchange_weak(&peak, &old, now))
			continue;	/* old now holds the newer peak */
		work();
		atomic_fetch_sub(&running, 1);

		/* Release: give the token back, waking one waiter if any. */
		if ((error = chan_send(sem, NULL)) != 0)
			die("chan_send", error);
	}
	return NULL;
}

static int
run_semaphore(int limit, int nthreads)
{
	pthread_t *tids;
	int error, i;
	bool ok;

	/* Room for exactly limit tokens, so releases never wait. */
	if ((sem = chan_create(0, (size_t)limit, CHAN_BLOCK)) == NULL)
		die("chan_create", errno);
	for (i = 0; i < limit; i++)
		if ((error = chan_send(sem, NULL)) != 0)
			die("chan_send", error);

	if ((tids = calloc((size_t)nthreads, sizeof(*tids))) == NULL)
		die("calloc", errno);
	for (i = 0; i < nthreads; i++)
		if ((error = pthread_create(&tids[i], NULL, limited_worker,
		    NULL)) != 0)
			die("pthread_create", error);
	for (i = 0; i < nthreads; i++)
		if ((error = pthread_join(tids[i], NULL)) != 0)
			die("pthread_join", error);
	free(tids);

	printf("semaphore: %d threads ran %d jobs, at most %d at once "
	    "(limit %d), %zu tokens back\n", nthreads, nthreads * JOBS,
	    atomic_load(&peak), limit, chan_len(sem));
	/* Every token must have come back, and the limit must have held. */
	ok = atomic_load(&peak) <= limit && chan_len(sem) == (size_t)limit;
	if (!ok)
		fprintf(stderr, "semaphore: limit %d broken\n", limit);
	chan_destroy(sem);
	return ok ? 0 : 1;
}

/* Part 2: locks, and waiting for whichever of several frees first. */

static chan_t *locks[NLOCKS];		/* a token inside means "unlocked" */
static atomic_int holders[NLOCKS];	/* threads holding each lock now */
static atomic_int uses[NLOCKS];		/* times each lock was taken */
static atomic_int broken;		/* set if a lock was ever held twice */

/*
 * lock_any takes whichever lock frees first and returns its index.  Each
 * case receives a token; exactly one case completes, so exactly one token
 * is taken.
 */
static int
lock_any(void)
{
	struct chan_case cases[NLOCKS];
	int i;

	for (i = 0; i < NLOCKS; i++) {
		cases[i].ch = locks[i];
		cases[i].op = CHAN_RECV;
		cases[i].elem = NULL;
	}
	if ((i = chan_select(cases, NLOCKS)) == -1)
		die("chan_select", errno);
	if (cases[i].err != 0)
		die("lock channel", cases[i].err);
	return i;
}

static void
unlock(int i)
{
	int error;

	if ((error = chan_send(locks[i], NULL)) != 0)
		die("chan_send", error);
}

static void *
lock_user(void *arg)
{
	int i, round;

	(void)arg;
	for (round = 0; round < LOCK_ROUNDS; round++) {
		i = lock_any();
		if (atomic_fetch_add(&holders[i], 1) != 0)
			atomic_store(&broken, 1);
		atomic_fetch_add(&uses[i], 1);
		work();
		atomic_fetch_sub(&holders[i], 1);
		unlock(i);
	}
	return NULL;
}

static void *
first_free_waiter(void *arg)
{
	int *got = arg;

	*got = lock_any();
	return NULL;
}

static int
run_locks(void)
{
	pthread_t tids[LOCK_USERS], tid;
	int error, got, i, status;

	for (i = 0; i < NLOCKS; i++) {
		if ((locks[i] = chan_create(0, 1, CHAN_BLOCK)) == NULL)
			die("chan_create", errno);
		unlock(i);		/* every lock starts unlocked */
	}

	/*
	 * Hold every lock, then free only lock 1: a thread waiting on all of
	 * them must end up with lock 1, whether it started waiting before the
	 * release or after.
	 */
	for (i = 0; i < NLOCKS; i++)
		if ((error = chan_recv(locks[i], NULL)) != 0)
			die("chan_recv", error);
	if ((error = pthread_create(&tid, NULL, first_free_waiter, &got)) != 0)
		die("pthread_create", error);
	unlock(1);
	if ((error = pthread_join(tid, NULL)) != 0)
		die("pthread_join", error);
	printf("locks: a thread waiting on %d locks got lock %d, the one "
	    "released\n", NLOCKS, got);
	status = got == 1 ? 0 : 1;
	/*
	 * Put each lock's token back.  trysend: should got be wrong, lock 1
	 * still holds its token, and a chan_send would wait forever.
	 */
	for (i = 0; i < NLOCKS; i++)
		if ((error = chan_trysend(locks[i], NULL)) != 0 &&
		    error != EAGAIN)
			die("chan_trysend", error);

	/* Now more threads than locks, each taking whichever is free. */
	for (i = 0; i < LOCK_USERS; i++)
		if ((error = pthread_create(&tids[i], NULL, lock_user,
		    NULL)) != 0)
			die("pthread_create", error);
	for (i = 0; i < LOCK_USERS; i++)
		if ((error = pthread_join(tids[i], NULL)) != 0)
			die("pthread_join", error);

	printf("locks: %d threads took %d locks %d times:", LOCK_USERS,
	    NLOCKS, LOCK_USERS * LOCK_ROUNDS);
	for (i = 0; i < NLOCKS; i++)
		printf(" lock %d %d times%s", i, atomic_load(&uses[i]),
		    i + 1 < NLOCKS ? "," : "\n");
	if (atomic_load(&broken)) {
		fprintf(stderr, "locks: a lock was held by two threads\n");
		status = 1;
	}
	for (i = 0; i < NLOCKS; i++) {
		if (chan_len(locks[i]) != 1) {
			fprintf(stderr, "locks: lock %d not released\n", i);
			status = 1;
		}
		chan_destroy(locks[i]);
	}
	return status;
}

int
main(int argc, char *argv[])
{
	int limit = 3, nthreads = 8;

	if (argc > 1)
		limit = atoi(argv[1]);
	if (argc > 2)
		nthreads = atoi(argv[2]);
	if (argc > 3 || limit < 1 || limit > 1000 || nthreads < 1 ||
	    nthreads > 1000) {
		fprintf(stderr, "usage: semaphore [limit [threads]] "
		    "(1 to 1000 each)\n");
		return 2;
	}
	if (run_semaphore(limit, nthreads) != 0 || run_locks() != 0)
		return 1;
	printf("semaphore: ok\n");
	return 0;
}
