/*
 * Contender "ck_ring": Concurrency Kit's ring in its MPMC form
 * (ck_ring_enqueue_mpmc / ck_ring_dequeue_mpmc) from Debian's libck-dev,
 * carrying the uint64_t as its pointer-sized payload.
 *
 * ck_ring keeps one slot empty, so a ring of size s holds s - 1 and s must
 * be a power of 2.  Capacities below 4 get the smallest ring that holds
 * them (1 -> 2, exact; 2 -> 4, holding 3: only the token pool uses 2, and
 * never has more than 2 in it); a power of 2 from 4 up gets a ring of that
 * size (1024 holds 1023, 0.1 % less than the others get, rather than 2047).  Like the Vyukov queue it cannot block: full or
 * empty is retried with backoff().
 */
#ifndef C_CKRING_H
#define C_CKRING_H

#include <ck_ring.h>

#include "bench.h"

/*
 * Where a pointer holds fewer than 64 bits (i386), a pointer-sized payload
 * would drop the producer's number (bit 40 up): the ring then carries the
 * uint64_t itself, through CK's typed interface.
 */
#if UINTPTR_MAX < UINT64_MAX
#define CK_TYPED	1
struct ck_u64 {
	uint64_t	 v;
};
CK_RING_PROTOTYPE(u64, ck_u64)
typedef struct ck_u64 ck_slot_t;
#else
typedef ck_ring_buffer_t ck_slot_t;
#endif

struct ckq {
	ck_ring_t	 ring;		/* CK pads its own hot fields */
	ck_slot_t	*buf;
};

static void *
ck_create(size_t cap)
{
	struct ckq *c;
	size_t size = 2;

	if (cap == 0)
		die("ck_ring: capacity 0 has no meaning");
	while (size < (cap < 4 ? cap + 1 : cap))
		size *= 2;
	if (size > UINT32_MAX / 2)
		die("ck_ring: capacity %zu too large", cap);
	c = xmalloc_aligned(sizeof(*c));
	c->buf = xmalloc_aligned(size * sizeof(c->buf[0]));
	ck_ring_init(&c->ring, (unsigned)size);
	return c;
}

static void
ck_destroy(void *q)
{
	struct ckq *c = q;

	free(c->buf);
	free(c);
}

static size_t
ck_capacity(void *q)
{
	return ck_ring_capacity(&((struct ckq *)q)->ring) - 1;
}

static bool
ck_trysend(void *q, uint64_t v)
{
	struct ckq *c = q;

#ifdef CK_TYPED
	struct ck_u64 x = { v };

	return ck_ring_enqueue_mpmc_u64(&c->ring, c->buf, &x);
#else
	return ck_ring_enqueue_mpmc(&c->ring, c->buf, (void *)(uintptr_t)v);
#endif
}

static bool
ck_tryrecv(void *q, uint64_t *v)
{
	struct ckq *c = q;
#ifdef CK_TYPED
	struct ck_u64 x;

	if (!ck_ring_dequeue_mpmc_u64(&c->ring, c->buf, &x))
		return false;
	*v = x.v;
#else
	void *p;

	if (!ck_ring_dequeue_mpmc(&c->ring, c->buf, &p))
		return false;
	*v = (uint64_t)(uintptr_t)p;
#endif
	return true;
}

static void
ck_send(void *q, uint64_t v)
{
	unsigned spins = 0;

	while (!ck_trysend(q, v))
		backoff(&spins);
}

static uint64_t
ck_recv(void *q)
{
	unsigned spins = 0;
	uint64_t v;

	while (!ck_tryrecv(q, &v))
		backoff(&spins);
	return v;
}

static const struct contender contender_ckring = {
	.name = "ck_ring",
	.flags = C_SPINS,
	.create = ck_create,
	.destroy = ck_destroy,
	.capacity = ck_capacity,
	.send = ck_send,
	.recv = ck_recv,
	.trysend = ck_trysend,
	.tryrecv = ck_tryrecv,
};

#endif /* C_CKRING_H */
