/*
 * Contender "textbook": the bounded buffer every operating-systems course
 * teaches.  One mutex guards a ring; senders wait on not_full, receivers on
 * not_empty, and each operation signals the other condition.  No spinning,
 * no waiter counts: the yardstick a channel library must beat.
 */
#ifndef C_TEXTBOOK_H
#define C_TEXTBOOK_H

#include <pthread.h>

#include "bench.h"

struct textbook {
	pthread_mutex_t	mu;
	pthread_cond_t	not_full;
	pthread_cond_t	not_empty;
	size_t		cap;
	size_t		head;	/* oldest element */
	size_t		len;	/* 0 <= len <= cap */
	uint64_t	buf[];
};

static void *
tb_create(size_t cap)
{
	struct textbook *t;

	if (cap == 0)
		die("textbook queue: capacity 0 has no meaning");
	t = xmalloc_aligned(sizeof(*t) + cap * sizeof(t->buf[0]));
	CHECK_RC(pthread_mutex_init(&t->mu, NULL));
	CHECK_RC(pthread_cond_init(&t->not_full, NULL));
	CHECK_RC(pthread_cond_init(&t->not_empty, NULL));
	t->cap = cap;
	return t;
}

static void
tb_destroy(void *q)
{
	struct textbook *t = q;

	CHECK_RC(pthread_cond_destroy(&t->not_empty));
	CHECK_RC(pthread_cond_destroy(&t->not_full));
	CHECK_RC(pthread_mutex_destroy(&t->mu));
	free(t);
}

static size_t
tb_capacity(void *q)
{
	return ((struct textbook *)q)->cap;
}

/* tb_put and tb_take expect t->mu held and the ring not full / not empty. */
static void
tb_put(struct textbook *t, uint64_t v)
{
	t->buf[(t->head + t->len) % t->cap] = v;
	t->len++;
	CHECK_RC(pthread_cond_signal(&t->not_empty));
}

static uint64_t
tb_take(struct textbook *t)
{
	uint64_t v = t->buf[t->head];

	t->head = (t->head + 1) % t->cap;
	t->len--;
	CHECK_RC(pthread_cond_signal(&t->not_full));
	return v;
}

static void
tb_send(void *q, uint64_t v)
{
	struct textbook *t = q;

	CHECK_RC(pthread_mutex_lock(&t->mu));
	while (t->len == t->cap)
		CHECK_RC(pthread_cond_wait(&t->not_full, &t->mu));
	tb_put(t, v);
	CHECK_RC(pthread_mutex_unlock(&t->mu));
}

static uint64_t
tb_recv(void *q)
{
	struct textbook *t = q;
	uint64_t v;

	CHECK_RC(pthread_mutex_lock(&t->mu));
	while (t->len == 0)
		CHECK_RC(pthread_cond_wait(&t->not_empty, &t->mu));
	v = tb_take(t);
	CHECK_RC(pthread_mutex_unlock(&t->mu));
	return v;
}

static bool
tb_trysend(void *q, uint64_t v)
{
	struct textbook *t = q;
	bool ok;

	CHECK_RC(pthread_mutex_lock(&t->mu));
	if ((ok = t->len < t->cap))
		tb_put(t, v);
	CHECK_RC(pthread_mutex_unlock(&t->mu));
	return ok;
}

static bool
tb_tryrecv(void *q, uint64_t *v)
{
	struct textbook *t = q;
	bool ok;

	CHECK_RC(pthread_mutex_lock(&t->mu));
	if ((ok = t->len > 0))
		*v = tb_take(t);
	CHECK_RC(pthread_mutex_unlock(&t->mu));
	return ok;
}

static const struct contender contender_textbook = {
	.name = "textbook",
	.create = tb_create,
	.destroy = tb_destroy,
	.capacity = tb_capacity,
	.send = tb_send,
	.recv = tb_recv,
	.trysend = tb_trysend,
	.tryrecv = tb_tryrecv,
};

#endif /* C_TEXTBOOK_H */
