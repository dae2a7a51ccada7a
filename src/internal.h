/*
 * Shared inside src/, never installed.  Names shared between files start
 * with chan__; everything else is static.
 */
#ifndef CHAN_INTERNAL_H
#define CHAN_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "chan.h"

#define CHAN__LINE	64	/* bytes in a cache line on the machines we run on */

/* Keeps a slow path out of line, so that its caller's frame stays small. */
#if defined(__GNUC__)
#define CHAN__NOINLINE	__attribute__((noinline))
#else
#define CHAN__NOINLINE
#endif

/* The CPU's hint that this is a spin-wait loop. */
static inline void
chan__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/*
 * The CPU's hint that the line holding p will soon be written: fetch it
 * now, for writing.  GCC's __builtin_prefetch asks x86 for a read unless
 * built for a CPU known to have PREFETCHW.  Call it only where
 * can_prefetch() in chan.c said yes: the instruction is missing from some
 * old x86 CPUs.
 */
static inline void
chan__prefetch_write(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__("prefetchw %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p, 1);
#endif
}

/*
 * Valgrind's helgrind sees pthread calls, not C11 atomics, so it cannot
 * see that an element or a result handed over through a release store and
 * the acquire load that reads it is ordered: it reports the caller's later
 * use of its own variable as a race, whenever the hand-off happened to
 * take no lock on the reader's side (a spinning waiter, a fast path).
 * Built with -DCHAN_VALGRIND (the build .ci/run.d/20-valgrind.sh checks),
 * the edges that carry data tell it: CHAN__SENT(p) right before the
 * release store, CHAN__RECEIVED(p) right after the acquire load that saw
 * it, with p naming the edge (a waiter's state: its outcome; a ring's
 * tail: elements; its head: room; waiter.c's init_once: the globals
 * pthread_once set up, an order helgrind does not see either).
 * CHAN__ATOMIC(p) names an atomic word that threads read and write
 * without a common lock (a waiter count, written under one lock and read
 * without it; a waiter's state, which its owner reads while it spins as a
 * completer stores to it), which helgrind would report as a race: it is
 * told not to check that word.  Otherwise they are nothing.
 */
#ifdef CHAN_VALGRIND
#include <valgrind/helgrind.h>
#define CHAN__SENT(p)		ANNOTATE_HAPPENS_BEFORE(p)
#define CHAN__RECEIVED(p)	ANNOTATE_HAPPENS_AFTER(p)
#define CHAN__ATOMIC(p)		ANNOTATE_BENIGN_RACE_SIZED(p, sizeof(*(p)), "")
#else
#define CHAN__SENT(p)		((void)0)
#define CHAN__RECEIVED(p)	((void)0)
#define CHAN__ATOMIC(p)		((void)0)
#endif

/*
 * A failing mutex call is a library bug no caller can handle: abort.
 * Inline, since a send or receive takes one lock and drops it.  These are
 * for the pthread mutexes (a waiter's, which its condition variable needs).
 */
static inline void
chan__plock(pthread_mutex_t *mu)
{
	if (pthread_mutex_lock(mu) != 0)
		abort();
}

static inline void
chan__punlock(pthread_mutex_t *mu)
{
	if (pthread_mutex_unlock(mu) != 0)
		abort();
}

/*
 * A channel side's lock (send_mu, recv_mu): chan__lock, chan__unlock, and
 * chan__unlock_fence, which unlocks and then orders everything before it
 * against every load after it, as a full fence would (the sides' hand-shake
 * in chan.c needs one right after each unlock that publishes).
 *
 * On Linux it is one futex word (lock.c): 0 free, 1 held, 2 held with
 * sleepers.  Locking is one compare-and-swap; unlocking one exchange,
 * which on x86 is itself a full barrier, so that chan__unlock_fence costs
 * nothing more there, where a pthread mutex and a fence cost two locked
 * instructions.  Elsewhere, or built with -DCHAN_NO_FUTEX (CI builds and
 * tests that way too; valgrind's tools only understand pthread locks), it
 * is a pthread mutex followed by a fence.
 */
#if defined(__linux__) && !defined(CHAN_NO_FUTEX)
#define CHAN__FUTEX	1
typedef struct {
	_Atomic uint32_t	 word;
} chan__mutex;

void	chan__lock_slow(chan__mutex *);
void	chan__unlock_wake(chan__mutex *);

static inline void
chan__mutex_init(chan__mutex *m)
{
	atomic_init(&m->word, 0);
}

static inline void
chan__mutex_destroy(chan__mutex *m)
{
	(void)m;
}

static inline void
chan__lock(chan__mutex *m)
{
	uint32_t free_word = 0;

	if (!atomic_compare_exchange_strong_explicit(&m->word, &free_word, 1,
	    memory_order_acquire, memory_order_relaxed))
		chan__lock_slow(m);
}

static inline void
chan__unlock(chan__mutex *m)
{
	if (atomic_exchange_explicit(&m->word, 0, memory_order_seq_cst) == 2)
		chan__unlock_wake(m);
}

#else
typedef struct {
	pthread_mutex_t		 mu;
} chan__mutex;

static inline void
chan__mutex_init(chan__mutex *m)
{
	if (pthread_mutex_init(&m->mu, NULL) != 0)
		abort();
}

static inline void
chan__mutex_destroy(chan__mutex *m)
{
	pthread_mutex_destroy(&m->mu);
}

static inline void
chan__lock(chan__mutex *m)
{
	chan__plock(&m->mu);
}

static inline void
chan__unlock(chan__mutex *m)
{
	chan__punlock(&m->mu);
}
#endif

/* Unlocks, then a full fence; the futex lock's exchange is one on x86. */
static inline void
chan__unlock_fence(chan__mutex *m)
{
	chan__unlock(m);
#if !defined(CHAN__FUTEX) || (!defined(__x86_64__) && !defined(__i386__))
	atomic_thread_fence(memory_order_seq_cst);
#endif
}

/*
 * A waiter is one thread's means of blocking: its own mutex and condition
 * (CLOCK_MONOTONIC) and an atomic state.  Each thread has one, reused by
 * every call it makes (chan__self()); a thread waits in one call at a time.
 *
 *   WAITING  --CAS by the waiter, under mu-->             SLEEPING
 *   WAITING or SLEEPING --CAS by a completer-->           CLAIMED
 *   CLAIMED  --store (release) by that completer-->       DONE
 *   WAITING or SLEEPING --CAS by the waiter (timeout, cancel)--> ABORTED
 *
 * Only one CAS out of WAITING/SLEEPING wins, which is what lets channels with
 * different locks agree that exactly one case of a select completed.  index
 * and result belong to the completer between CLAIMED and DONE and to the
 * waiter after it reads DONE (acquire).  A completer that claimed from
 * WAITING only stores DONE and never touches the waiter again: the waiter is
 * spinning and may return at once.  One that claimed from SLEEPING stores
 * DONE and signals with mu held, so the wake-up cannot fall between the
 * waiter's check of the state and its cond wait.
 */
enum {
	CHAN__WAITING,
	CHAN__SLEEPING,
	CHAN__CLAIMED,
	CHAN__DONE,
	CHAN__ABORTED,
};

/* A result meaning "not completed: try again" (barging on a buffered ring). */
#define CHAN__RETRY	(-1)

struct chan__waiter;

/*
 * An entry is one (waiter, case) pair queued on one channel: a plain send or
 * receive queues the one in its thread's waiter, a select one per enabled
 * case, in the owner's stack or scratch.  next/prev and linked are
 * protected by the lock of the queue the entry is on (chan__queue_lock());
 * the owner may read linked without that lock, and while it reads true the
 * entry is still queued and must be unlinked under the lock.  A completer
 * claims the waiter while the entry is still linked (so the owner cannot
 * have returned), and touches the entry after unlinking it only if its
 * claim won.
 */
struct chan__entry {
	struct chan__entry	*next;
	struct chan__entry	*prev;
	struct chan__waiter	*w;
	chan_t			*ch;
	void			*elem;		/* SEND: source; RECV: target or NULL */
	int			 index;
	enum chan_op		 op;
	_Atomic bool		 linked;
};

/* Elements up to this size wait in the waiter itself (see transfer_once). */
#define CHAN__INLINE	16

struct chan__waiter {
	/*
	 * What a completer writes and the waiter then reads, on one line:
	 * the state, the outcome, and (for a plain send or receive of a
	 * small element) the element itself; the entry on the next.
	 */
	_Alignas(CHAN__LINE) _Atomic int state;
	int			 index;		/* the case completed */
	int			 result;	/* 0, EPIPE or CHAN__RETRY */
	_Alignas(16) unsigned char buf[CHAN__INLINE];
	_Alignas(CHAN__LINE) struct chan__entry ent; /* a plain op's */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cond;
	int			 sleep_cpu;	/* where it last slept; mu */

	/* Thread-private from here on. */
	bool			 ready;		/* mu and cond initialised */
	unsigned		 spin_misses;	/* recent spins that ended asleep */
	bool			 woke_sleeper;	/* since this thread last spun */
	bool			 woke_local;	/* one that slept on this CPU */
	bool			 counted;	/* among the blocked (chan__poll) */
	bool			 at_head;	/* queued first, unbuffered: spin() */
	uint64_t		 rng;
	void			*ents;		/* select scratch, grown rarely */
	size_t			 nents;		/* its size in bytes */
};

/*
 * Returns a random number below bound (> 0), from w's xorshift64*: the
 * high 32 bits of its output scaled by bound, a multiply where a division
 * (%) cost more than the rest of the generator.  Each value's chance is
 * within bound / 2^32 of 1 / bound.  Inline: a select calls it for every
 * case it tries.
 */
static inline uint32_t
chan__random(struct chan__waiter *w, uint32_t bound)
{
	uint64_t x = w->rng, r = (x * 0x2545f4914f6cdd1du) >> 32;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return (uint32_t)((r * bound) >> 32);
}

/*
 * A waiter queue, guarded by its lock (chan__queue_lock()).  head_w is
 * head->w while head is not NULL, kept on the queue's own line: a
 * completer can then claim the first waiter while the line of its entry
 * (which it needs only to unlink it and to move the element) is still on
 * its way, instead of fetching that line first to learn whom to claim.
 */
struct chan__queue {
	struct chan__entry	*head;
	struct chan__entry	*tail;
	struct chan__waiter	*head_w;
};

/*
 * A channel.  Fixed fields never change after chan_create; closed changes
 * once, from false to true, with both locks held.
 *
 * Buffered (cap > 0): the ring holds elements head, ..., tail - 1, in slots
 * head_slot, ... mod cap, lap the number of times each side wrapped.  The
 * counters are size_t, which on 32 bits wraps after 2^32 elements: the
 * ring works from their differences and from the slots and laps kept
 * beside them (check_chan's ring_counters_cross_2_to_the_32; see
 * chan__looks_ready for the one place that needs care).  send_mu protects
 * tail, tail_slot, tail_lap, head_cache and sendq; recv_mu protects head,
 * head_slot, head_lap, tail_cache and recvq.
 *
 * Each slot (stride bytes) starts with a sequence word: 2 lap + 1 once the
 * element of the senders' lap-th pass over the ring is in it.  A sender
 * stores it after the element (release), then, after the whole send, tail
 * (release); so a receiver finds its next element by reading the word of
 * its next slot, on the line it is about to read anyway, instead of tail,
 * which the sender rewrites on every send.  tail may therefore lag the
 * slots: a receiver may take the element at tail before tail says so, so
 * tail - head is a signed difference and may be briefly -1 as the
 * receivers see it.  head is exact, and a sender learns of room from head.
 *
 * Except on a ring of one slot (one_slot() in chan.c): there a sender must
 * learn of room before every send but its first, and head, on a line of
 * its own, was a second line to fetch on each.  So a receiver also stores
 * 2 (lap + 1) into the word once it has taken the element (release, before
 * head), and a sender finds the slot free when the word reads 2 lap, on
 * the line it fills anyway (a fresh ring's word reads 0: free for lap 0).
 * Ping-pong at capacity 1, twelve interleaved rounds: 870 -> 614 ns a
 * round trip.  With more slots one read of head finds room for several
 * sends, while the receivers' stores took the slots' lines from the
 * threads polling them: semaphore (capacity 2) 2.46 -> 1.89 M/s, eight
 * rounds.  Laps are compared only with the next, so their wrapping is
 * harmless.
 *
 * head_cache and tail_cache are each side's copy of the other's progress,
 * so a side reads the other's lines only when its copy says full or empty.
 * head_cache never passes the elements taken, though on a one_slot ring it
 * may pass head by one while the receiver has yet to store head.
 * CHAN_SLIDE moves head from the send side, with both locks held.
 *
 * head_hint is head as of the last time it crossed a multiple of
 * 2^hint_shift (hint_shift 0: no hint), stored by receivers under recv_mu,
 * on a line of its own.  A sender polling for room reads it instead of
 * head (chan__looks_ready): pollers reading head pulled its line away from
 * the receiver on every receive of a full ring, and now they look again
 * only once every few receives and then send a burst.  Only polls read it;
 * every decision under a lock reads head.
 *
 * Unbuffered (cap == 0): there is no ring; send_mu protects both queues and
 * recv_mu is unused.
 *
 * nsendw and nrecvw count the entries on sendq and recvq; they change only
 * under the queue's lock and are read without it after a full fence, which is
 * how a side learns, without taking the other side's lock, that someone
 * waits there (see chan.c for the argument).  send_retry and recv_retry say
 * that a sleeper of that side was woken to retry and has not yet run: it
 * will serve the channel when it leaves, so no one else wakes another.
 *
 * The fields are grouped by who writes them, one cache line each: a side's
 * lock and private copies, the index it publishes, and its waiter queue.
 */
struct chan {
	size_t			 elem_size;
	size_t			 cap;
	size_t			 stride;	/* bytes per slot */
	size_t			 ahead;		/* see prefetch_ahead() */
	unsigned		 hint_shift;	/* see head_hint */
	enum chan_policy	 policy;
	unsigned char		*ring;
	void			*alloc;		/* what free() takes */
	_Atomic bool		 closed;
	bool			 prefetchw;	/* chan__prefetch_write is safe */

	_Alignas(CHAN__LINE) chan__mutex send_mu;
	size_t			 tail_slot;
	size_t			 tail_lap;
	size_t			 head_cache;
	_Alignas(CHAN__LINE) _Atomic size_t tail;
	_Alignas(CHAN__LINE) struct chan__queue sendq;
	_Atomic size_t		 nsendw;
	_Atomic bool		 send_retry;

	_Alignas(CHAN__LINE) chan__mutex recv_mu;
	size_t			 head_slot;
	size_t			 head_lap;
	size_t			 tail_cache;
	_Alignas(CHAN__LINE) _Atomic size_t head;
	_Alignas(CHAN__LINE) _Atomic size_t head_hint;
	_Alignas(CHAN__LINE) struct chan__queue recvq;
	_Atomic size_t		 nrecvw;
	_Atomic bool		 recv_retry;
};

/* waiter.c */
void			 chan__self_init(struct chan__waiter *);
int			 chan__claim(struct chan__waiter *);
void			 chan__done_sleeping(struct chan__waiter *);
int			 chan__wait(struct chan__waiter *, const struct timespec *,
			    void (*)(void *), void *);
void			 chan__poll(bool (*)(void *), void *, bool);
void			 chan__uncount(void);
int			 chan__nblocked(void);
int			 chan__ncpu(void);
bool			 chan__deadline_passed(const struct timespec *);
void			*chan__scratch(struct chan__waiter *, size_t);

/*
 * The calling thread's waiter (waiter.c).  Inline: every select and every
 * blocking call asks for it, and the question is one thread-local address
 * and a test once the waiter is set up.
 */
extern _Thread_local struct chan__waiter chan__tls_waiter;

static inline struct chan__waiter *
chan__self(void)
{
	struct chan__waiter *w = &chan__tls_waiter;

	if (!w->ready)
		chan__self_init(w);
	return w;
}

/* True if ts is NULL (no deadline) or a valid absolute time. */
static inline bool
chan__timespec_valid(const struct timespec *ts)
{
	return ts == NULL || (ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000L);
}

/* chan.c, for select.c */
chan__mutex		*chan__queue_lock(chan_t *, enum chan_op);
void			 chan__link(chan_t *, struct chan__entry *);
void			 chan__unlink(chan_t *, struct chan__entry *);
void			 chan__unlink_all(struct chan__entry *, size_t);
void			 chan__lock_all(chan_t *);
void			 chan__unlock_all(chan_t *);
int			 chan__trysend(chan_t *, const void *);
int			 chan__tryrecv(chan_t *, void *);
int			 chan__send_locked(chan_t *, const void *,
			    struct chan__entry **);
int			 chan__recv_locked(chan_t *, void *,
			    struct chan__entry **);
void			 chan__wake(struct chan__entry *);
void			 chan__serve(chan_t *);
bool			 chan__looks_ready(chan_t *, enum chan_op);
void			 chan__retried(chan_t *, enum chan_op);

/* True when a send on ch with elem is acceptable. */
static inline bool
chan__elem_ok(const chan_t *ch, const void *elem)
{
	return elem != NULL || ch->elem_size == 0;
}

#endif /* CHAN_INTERNAL_H */
