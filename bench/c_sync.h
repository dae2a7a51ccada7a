/*
 * Contenders for the token workloads only: a POSIX semaphore ("sem_t") and
 * a mutex ("mutex", one token).  They carry no payload, so "send" releases
 * a token and "recv" takes one and returns 0.
 */
#ifndef C_SYNC_H
#define C_SYNC_H

#include <pthread.h>
#include <semaphore.h>

#include "bench.h"

static void *
sem_create(size_t cap)
{
	sem_t *s = xmalloc_aligned(sizeof(*s));

	(void)cap;	/* tokens are posted by the driver, like the others */
	CHECK_ERRNO(sem_init(s, 0, 0));
	return s;
}

static void
sem_destroy_(void *q)
{
	CHECK_ERRNO(sem_destroy(q));
	free(q);
}

static size_t
sem_capacity(void *q)
{
	(void)q;
	return SIZE_MAX;
}

static void
sem_send(void *q, uint64_t v)
{
	(void)v;
	CHECK_ERRNO(sem_post(q));
}

static uint64_t
sem_recv(void *q)
{
	while (sem_wait(q) != 0)
		if (errno != EINTR)
			die("sem_wait: %s", strerror(errno));
	return 0;
}

static bool
sem_trysend(void *q, uint64_t v)
{
	sem_send(q, v);
	return true;
}

static bool
sem_tryrecv(void *q, uint64_t *v)
{
	if (sem_trywait(q) != 0) {
		if (errno == EAGAIN)
			return false;
		die("sem_trywait: %s", strerror(errno));
	}
	*v = 0;
	return true;
}

static const struct contender contender_sem = {
	.name = "sem_t",
	.flags = C_TOKENONLY,
	.create = sem_create,
	.destroy = sem_destroy_,
	.capacity = sem_capacity,
	.send = sem_send,
	.recv = sem_recv,
	.trysend = sem_trysend,
	.tryrecv = sem_tryrecv,
};

/*
 * The mutex is a one-token pool.  It is created locked by the creating
 * thread, which then "sends" the one token (unlocks it) like the driver
 * fills every other pool, so lock and unlock always pair in one thread.
 */
static void *
mutex_create(size_t cap)
{
	pthread_mutex_t *m = xmalloc_aligned(sizeof(*m));

	if (cap != 1)
		die("mutex: a pool of %zu tokens", cap);
	CHECK_RC(pthread_mutex_init(m, NULL));
	CHECK_RC(pthread_mutex_lock(m));
	return m;
}

/*
 * mutex_destroy runs in the creating thread with no other user left, so
 * the mutex is either free or held by this thread (its token not yet
 * handed out): trylock makes it held by us in both cases, then unlock.
 */
static void
mutex_destroy(void *q)
{
	int rc = pthread_mutex_trylock(q);

	if (rc != 0 && rc != EBUSY)
		die("pthread_mutex_trylock: %s", strerror(rc));
	CHECK_RC(pthread_mutex_unlock(q));
	CHECK_RC(pthread_mutex_destroy(q));
	free(q);
}

static size_t
mutex_capacity(void *q)
{
	(void)q;
	return 1;
}

static void
mutex_send(void *q, uint64_t v)
{
	(void)v;
	CHECK_RC(pthread_mutex_unlock(q));
}

static uint64_t
mutex_recv(void *q)
{
	CHECK_RC(pthread_mutex_lock(q));
	return 0;
}

static bool
mutex_trysend(void *q, uint64_t v)
{
	mutex_send(q, v);
	return true;
}

static bool
mutex_tryrecv(void *q, uint64_t *v)
{
	int rc = pthread_mutex_trylock(q);

	if (rc == EBUSY)
		return false;
	CHECK_RC(rc);
	*v = 0;
	return true;
}

static const struct contender contender_mutex = {
	.name = "mutex",
	.flags = C_TOKENONLY,
	.create = mutex_create,
	.destroy = mutex_destroy,
	.capacity = mutex_capacity,
	.send = mutex_send,
	.recv = mutex_recv,
	.trysend = mutex_trysend,
	.tryrecv = mutex_tryrecv,
};

#endif /* C_SYNC_H */
