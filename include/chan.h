/*
 * libchan: thread-safe multi-producer multi-consumer channels for POSIX
 * threads.  See chan(7) for an overview and one page per function family.
 *
 * Conventions, as in POSIX threads: operations on a channel return 0 or an
 * <errno.h> number and leave errno alone; constructors return NULL and set
 * errno; the selects return an index, or -1 and set errno.  Blocking calls
 * come in a plain form (waits), a try form (never waits: EAGAIN) and a timed
 * form (waits until an absolute CLOCK_MONOTONIC deadline: ETIMEDOUT).
 */
#ifndef CHAN_H
#define CHAN_H

#include <stddef.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * <time.h> declares struct timespec only in C11 and POSIX modes: declared
 * here too, a strict C99 build's timed calls take the same struct as
 * everyone else's.
 */
struct timespec;

/* Built with -fvisibility=hidden, the library exports what is declared here. */
#if defined(__GNUC__) && __GNUC__ >= 4
#pragma GCC visibility push(default)
#endif

#define CHAN_VERSION_MAJOR 1
#define CHAN_VERSION_MINOR 0
#define CHAN_VERSION_PATCH 0

/* chan_t is an opaque channel of fixed-size elements copied by value. */
typedef struct chan chan_t;

/* enum chan_policy says what a send does when the buffer is full. */
enum chan_policy {
	CHAN_BLOCK = 0,		/* wait for room (back-pressure) */
	CHAN_DROP,		/* succeed, discard the element being sent */
	CHAN_SLIDE,		/* succeed, discard the oldest buffered one */
};

/*
 * chan_create returns a channel of elements of elem_size bytes holding up to
 * capacity of them (0: unbuffered, a rendezvous), or NULL with errno EINVAL
 * (CHAN_DROP or CHAN_SLIDE with capacity 0, unknown policy, elem_size *
 * capacity overflows) or ENOMEM.
 */
chan_t *chan_create(size_t elem_size, size_t capacity,
    enum chan_policy policy);

/* chan_destroy frees ch; NULL is a no-op and no thread may still use ch. */
void chan_destroy(chan_t *ch);

/*
 * chan_close makes every later send fail with EPIPE and wakes every waiter;
 * receivers drain what is buffered, then get EPIPE.  It returns 0, EPIPE if
 * ch was already closed, or EINVAL if ch is NULL.
 */
int chan_close(chan_t *ch);

/*
 * chan_send copies *elem into ch, waiting for room (or, unbuffered, for a
 * receiver to take it); 0, EPIPE (closed), EINVAL.
 */
int chan_send(chan_t *ch, const void *elem);

/* chan_trysend is chan_send that never waits: EAGAIN where it would. */
int chan_trysend(chan_t *ch, const void *elem);

/*
 * chan_timedsend is chan_send that waits until abstime (CLOCK_MONOTONIC) at
 * the latest: ETIMEDOUT; a NULL abstime waits forever.
 */
int chan_timedsend(chan_t *ch, const void *elem,
    const struct timespec *abstime);

/*
 * chan_recv moves the oldest element of ch into *elem (discarding it if elem
 * is NULL), waiting for one; 0, EPIPE (closed and drained), EINVAL.
 */
int chan_recv(chan_t *ch, void *elem);

/* chan_tryrecv is chan_recv that never waits: EAGAIN where it would. */
int chan_tryrecv(chan_t *ch, void *elem);

/*
 * chan_timedrecv is chan_recv that waits until abstime (CLOCK_MONOTONIC) at
 * the latest: ETIMEDOUT; a NULL abstime waits forever.
 */
int chan_timedrecv(chan_t *ch, void *elem, const struct timespec *abstime);

/*
 * chan_sendn sends up to n elements from the array elems in one critical
 * section, waiting only until the first can be sent, and stores how many it
 * sent in *nsent (at least 1 on success when n > 0; 0 when n is 0).  Elements
 * go in order; a partial send is a success, like write(2).  On an unbuffered
 * channel it hands the first element to a receiver and the rest only to
 * receivers already waiting.  A call that waits is handed its first element
 * alone; what else goes at once follows in a second critical section.
 */
int chan_sendn(chan_t *ch, const void *elems, size_t n, size_t *nsent);

/* chan_trysendn is chan_sendn that never waits: EAGAIN where it would. */
int chan_trysendn(chan_t *ch, const void *elems, size_t n, size_t *nsent);

/*
 * chan_timedsendn is chan_sendn that waits until abstime (CLOCK_MONOTONIC)
 * at the latest: ETIMEDOUT; a NULL abstime waits forever.
 */
int chan_timedsendn(chan_t *ch, const void *elems, size_t n, size_t *nsent,
    const struct timespec *abstime);

/*
 * chan_recvn receives up to n elements into the array elems (NULL discards
 * them) in one critical section, waiting only until there is one, and stores
 * how many it received in *nrecvd (at least 1 on success when n > 0).  A call
 * that waits is handed its first element alone; what else is there follows
 * in a second critical section.
 */
int chan_recvn(chan_t *ch, void *elems, size_t n, size_t *nrecvd);

/* chan_tryrecvn is chan_recvn that never waits: EAGAIN where it would. */
int chan_tryrecvn(chan_t *ch, void *elems, size_t n, size_t *nrecvd);

/*
 * chan_timedrecvn is chan_recvn that waits until abstime (CLOCK_MONOTONIC)
 * at the latest: ETIMEDOUT; a NULL abstime waits forever.
 */
int chan_timedrecvn(chan_t *ch, void *elems, size_t n, size_t *nrecvd,
    const struct timespec *abstime);

/* chan_len returns how many elements ch buffers now (a snapshot); 0 if NULL. */
size_t chan_len(chan_t *ch);

/* chan_cap returns the capacity ch was created with; 0 if NULL. */
size_t chan_cap(chan_t *ch);

/* enum chan_op is what a select case does on its channel. */
enum chan_op {
	CHAN_SEND = 1,
	CHAN_RECV = 2,
};

/*
 * struct chan_case is one case of a select, like struct pollfd for poll(2),
 * but a select writes err only in the case it completes.  A send case on a
 * closed channel, or a receive case on a closed and empty one, is ready and
 * completes with err EPIPE, for good: a loop sets that case's ch to NULL.
 */
struct chan_case {
	chan_t		*ch;	/* NULL: never ready (a disabled case) */
	enum chan_op	 op;
	void		*elem;	/* SEND: the element; RECV: where to store it */
	int		 err;	/* out: 0, or EPIPE if the channel was closed */
};

/*
 * chan_select completes exactly one ready case, chosen uniformly among the
 * ready ones, waiting for one if none is; it returns the case's index, or -1
 * with errno EINVAL (a bad case), EDEADLK (no enabled case) or ENOMEM (the
 * per-thread scratch a select needs to wait, or to handle more than 64
 * cases, could not be allocated; it is allocated once per thread, for 64
 * cases, and grown only for a select with more cases than any before).
 */
int chan_select(struct chan_case *cases, size_t n);

/* chan_tryselect is chan_select that never waits: -1 with errno EAGAIN. */
int chan_tryselect(struct chan_case *cases, size_t n);

/*
 * chan_timedselect is chan_select that waits until abstime (CLOCK_MONOTONIC)
 * at the latest: -1 with errno ETIMEDOUT.  With no enabled case it sleeps
 * until abstime, or fails with EDEADLK if abstime is NULL.
 */
int chan_timedselect(struct chan_case *cases, size_t n,
    const struct timespec *abstime);

/* chan_bcast_t delivers every message to every subscriber. */
typedef struct chan_bcast chan_bcast_t;

/*
 * chan_bcast_create returns a broadcast of elem_size-byte messages, or NULL
 * with errno ENOMEM.
 */
chan_bcast_t *chan_bcast_create(size_t elem_size);

/*
 * chan_bcast_destroy closes the subscriptions still subscribed and frees b,
 * not them; NULL is a no-op and no thread may still use b.
 */
void chan_bcast_destroy(chan_bcast_t *b);

/*
 * chan_bcast_subscribe returns a new channel that receives every later
 * message, or NULL with errno (EPIPE once b is closed, EINVAL, ENOMEM).
 */
chan_t *chan_bcast_subscribe(chan_bcast_t *b, size_t capacity,
    enum chan_policy policy);

/*
 * chan_bcast_unsubscribe closes sub and returns once no send still delivers
 * to it; the caller destroys sub later.  EINVAL if b or sub is NULL, or sub
 * is not subscribed to b.
 */
int chan_bcast_unsubscribe(chan_bcast_t *b, chan_t *sub);

/*
 * chan_bcast_send delivers *elem to every subscriber under its policy,
 * waiting on full CHAN_BLOCK ones; EPIPE once b is closed, EINVAL if b is
 * NULL, or elem is NULL with messages of a size.
 */
int chan_bcast_send(chan_bcast_t *b, const void *elem);

/*
 * chan_bcast_close closes b and every subscription; EPIPE the second time,
 * EINVAL if b is NULL.
 */
int chan_bcast_close(chan_bcast_t *b);

#if defined(__GNUC__) && __GNUC__ >= 4
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* CHAN_H */
