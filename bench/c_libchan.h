/*
 * Contenders "libchan" (one element per call, chan_select for the select
 * workloads) and "libchan-batch" (chan_sendn/chan_recvn), both on a
 * CHAN_BLOCK channel of uint64_t.
 */
#ifndef C_LIBCHAN_H
#define C_LIBCHAN_H

#include <chan.h>

#include "bench.h"

static void *
lc_create(size_t cap)
{
	chan_t *ch;

	if ((ch = chan_create(sizeof(uint64_t), cap, CHAN_BLOCK)) == NULL)
		die("chan_create(8, %zu): %s", cap, strerror(errno));
	return ch;
}

static void
lc_destroy(void *q)
{
	chan_destroy(q);
}

static size_t
lc_capacity(void *q)
{
	return chan_cap(q);
}

static void
lc_send(void *q, uint64_t v)
{
	CHECK_RC(chan_send(q, &v));
}

static uint64_t
lc_recv(void *q)
{
	uint64_t v;

	CHECK_RC(chan_recv(q, &v));
	return v;
}

static bool
lc_trysend(void *q, uint64_t v)
{
	int rc = chan_trysend(q, &v);

	if (rc == EAGAIN)
		return false;
	CHECK_RC(rc);
	return true;
}

static bool
lc_tryrecv(void *q, uint64_t *v)
{
	int rc = chan_tryrecv(q, v);

	if (rc == EAGAIN)
		return false;
	CHECK_RC(rc);
	return true;
}

static size_t
lc_sendn(void *q, const uint64_t *v, size_t n)
{
	size_t done = 0;

	CHECK_RC(chan_sendn(q, v, n, &done));
	if (done == 0 || done > n)
		die("chan_sendn(n=%zu) reported %zu sent", n, done);
	return done;
}

static size_t
lc_recvn(void *q, uint64_t *v, size_t n)
{
	size_t done = 0;

	CHECK_RC(chan_recvn(q, v, n, &done));
	if (done == 0 || done > n)
		die("chan_recvn(n=%zu) reported %zu received", n, done);
	return done;
}

#define LC_MAXCASES 8

static int
lc_select(void **qs, int n, enum chan_op op, uint64_t *v)
{
	struct chan_case cases[LC_MAXCASES];
	int i;

	if (n > LC_MAXCASES)
		die("lc_select: %d cases", n);
	for (i = 0; i < n; i++) {
		cases[i].ch = qs[i];
		cases[i].op = op;
		cases[i].elem = v;	/* exactly one case completes */
		cases[i].err = 0;
	}
	if ((i = chan_select(cases, (size_t)n)) < 0)
		die("chan_select: %s", strerror(errno));
	if (i >= n || cases[i].err != 0)
		die("chan_select returned %d (err %d)", i,
		    i < n ? cases[i].err : -1);
	return i;
}

static int
lc_select_send(void **qs, int n, uint64_t v)
{
	return lc_select(qs, n, CHAN_SEND, &v);
}

static int
lc_select_recv(void **qs, int n, uint64_t *v)
{
	return lc_select(qs, n, CHAN_RECV, v);
}

static const struct contender contender_libchan = {
	.name = "libchan",
	.flags = C_RENDEZVOUS,
	.create = lc_create,
	.destroy = lc_destroy,
	.capacity = lc_capacity,
	.send = lc_send,
	.recv = lc_recv,
	.trysend = lc_trysend,
	.tryrecv = lc_tryrecv,
	.select_send = lc_select_send,
	.select_recv = lc_select_recv,
};

static const struct contender contender_libchan_batch = {
	.name = "libchan-batch",
	.flags = C_RENDEZVOUS,
	.create = lc_create,
	.destroy = lc_destroy,
	.capacity = lc_capacity,
	.send = lc_send,
	.recv = lc_recv,
	.trysend = lc_trysend,
	.tryrecv = lc_tryrecv,
	.sendn = lc_sendn,
	.recvn = lc_recvn,
};

#endif /* C_LIBCHAN_H */
