/*
 * Contender "vyukov": Dmitry Vyukov's bounded MPMC array queue, written
 * here from the published algorithm with C11 atomics.
 *
 * Each cell carries a sequence number that says whose turn the cell is.
 * A producer claims position pos by CAS on enqueue_pos when its cell says
 * "free for pos", writes the value, then publishes "full for pos" with a
 * release store; a consumer mirrors it on dequeue_pos and hands the cell to
 * the producer of pos + cap.  The only shared writes are the two position
 * counters (one per side, each on its own line) and the cells themselves.
 *
 * One change from the original: the sequence numbers are doubled (free for
 * pos is 2*pos, full for pos is 2*pos+1, freed for the next lap is
 * 2*(pos+cap)).  The original uses pos and pos+1, which cannot tell "full
 * for pos" from "free for pos+1" when cap is 1; doubling makes every
 * capacity, including 1, exact at no cost, so this queue holds exactly the
 * capacity the other contenders are given.
 *
 * The queue cannot block: a full or empty queue is retried with the
 * spin-then-sched_yield policy of backoff().
 */
#ifndef C_VYUKOV_H
#define C_VYUKOV_H

#include <stdalign.h>
#include <stdatomic.h>

#include "bench.h"

struct vy_cell {
	atomic_size_t	seq;
	uint64_t	val;
};

struct vyukov {
	alignas(CACHELINE) struct vy_cell *cells;	/* read-only after create */
	size_t		mask;
	alignas(CACHELINE) atomic_size_t enqueue_pos;
	alignas(CACHELINE) atomic_size_t dequeue_pos;
	char		pad[CACHELINE - sizeof(atomic_size_t)];
};

static void *
vy_create(size_t cap)
{
	struct vyukov *v;
	size_t i;

	if (cap == 0 || (cap & (cap - 1)) != 0)
		die("vyukov queue: capacity %zu is not a power of 2", cap);
	v = xmalloc_aligned(sizeof(*v));
	v->cells = xmalloc_aligned(cap * sizeof(v->cells[0]));
	v->mask = cap - 1;
	for (i = 0; i < cap; i++)
		atomic_init(&v->cells[i].seq, 2 * i);
	atomic_init(&v->enqueue_pos, 0);
	atomic_init(&v->dequeue_pos, 0);
	return v;
}

static void
vy_destroy(void *q)
{
	struct vyukov *v = q;

	free(v->cells);
	free(v);
}

static size_t
vy_capacity(void *q)
{
	return ((struct vyukov *)q)->mask + 1;
}

static bool
vy_trysend(void *q, uint64_t val)
{
	struct vyukov *v = q;
	struct vy_cell *cell;
	size_t pos, seq;
	intptr_t dif;

	pos = atomic_load_explicit(&v->enqueue_pos, memory_order_relaxed);
	for (;;) {
		cell = &v->cells[pos & v->mask];
		seq = atomic_load_explicit(&cell->seq, memory_order_acquire);
		dif = (intptr_t)seq - (intptr_t)(2 * pos);
		if (dif == 0) {
			/* The cell is free for pos: claim pos. */
			if (atomic_compare_exchange_weak_explicit(
			    &v->enqueue_pos, &pos, pos + 1,
			    memory_order_relaxed, memory_order_relaxed))
				break;
			/* pos was reloaded by the failed CAS. */
		} else if (dif < 0)
			return false;	/* the lap before is still there */
		else
			pos = atomic_load_explicit(&v->enqueue_pos,
			    memory_order_relaxed);
	}
	cell->val = val;
	atomic_store_explicit(&cell->seq, 2 * pos + 1, memory_order_release);
	return true;
}

static bool
vy_tryrecv(void *q, uint64_t *val)
{
	struct vyukov *v = q;
	struct vy_cell *cell;
	size_t pos, seq;
	intptr_t dif;

	pos = atomic_load_explicit(&v->dequeue_pos, memory_order_relaxed);
	for (;;) {
		cell = &v->cells[pos & v->mask];
		seq = atomic_load_explicit(&cell->seq, memory_order_acquire);
		dif = (intptr_t)seq - (intptr_t)(2 * pos + 1);
		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(
			    &v->dequeue_pos, &pos, pos + 1,
			    memory_order_relaxed, memory_order_relaxed))
				break;
		} else if (dif < 0)
			return false;	/* not yet written */
		else
			pos = atomic_load_explicit(&v->dequeue_pos,
			    memory_order_relaxed);
	}
	*val = cell->val;
	atomic_store_explicit(&cell->seq, 2 * (pos + v->mask + 1),
	    memory_order_release);
	return true;
}

static void
vy_send(void *q, uint64_t val)
{
	unsigned spins = 0;

	while (!vy_trysend(q, val))
		backoff(&spins);
}

static uint64_t
vy_recv(void *q)
{
	unsigned spins = 0;
	uint64_t val;

	while (!vy_tryrecv(q, &val))
		backoff(&spins);
	return val;
}

static const struct contender contender_vyukov = {
	.name = "vyukov",
	.flags = C_SPINS,
	.create = vy_create,
	.destroy = vy_destroy,
	.capacity = vy_capacity,
	.send = vy_send,
	.recv = vy_recv,
	.trysend = vy_trysend,
	.tryrecv = vy_tryrecv,
};

#endif /* C_VYUKOV_H */
