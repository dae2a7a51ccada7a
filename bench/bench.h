/*
 * Common pieces of the benchmark driver: the contender interface every
 * queue implements, fatal-error helpers, and the waiting policy the
 * lock-free contenders use when their queue is full or empty.
 *
 * Everything here is static: the contenders are headers included into the
 * one driver, bench.c, so each call is as cheap as the contender allows and
 * no contender gets an inlining advantage another lacks (all are called
 * through the same function pointers).
 */
#ifndef BENCH_H
#define BENCH_H

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where a thread sanitizer instruments us, ck_ring (inline asm atomics
 * that TSan cannot see) would be reported as racing: leave it out. */
#if defined(__SANITIZE_THREAD__)
#define BENCH_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BENCH_TSAN 1
#endif
#endif

#define CACHELINE 64

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* die reports a failure the benchmark cannot continue from and exits 1. */
static void
die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "bench: FATAL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* CHECK_RC dies unless a pthread-style call (0 or an errno number) gave 0. */
#define CHECK_RC(call) do {						\
	int check_rc_ = (call);						\
	if (check_rc_ != 0)						\
		die("%s:%d: %s: %s", __FILE__, __LINE__, #call,		\
		    strerror(check_rc_));				\
} while (0)

/* CHECK_ERRNO dies unless a -1/errno style call returned 0. */
#define CHECK_ERRNO(call) do {						\
	if ((call) != 0)						\
		die("%s:%d: %s: %s", __FILE__, __LINE__, #call,		\
		    strerror(errno));					\
} while (0)

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/*
 * The lock-free contenders have no way to sleep: when the queue is full
 * (or empty) they spin with the pause hint for a while, then give the CPU
 * away with sched_yield on every further attempt, which is how such queues
 * are used in practice when threads may outnumber CPUs.
 */
#define SPIN_BEFORE_YIELD 256

static inline void
backoff(unsigned *spins)
{
	if (*spins < SPIN_BEFORE_YIELD) {
		cpu_relax();
		(*spins)++;
	} else
		sched_yield();
}

/* What a contender can do besides the plain blocking send and receive. */
enum {
	C_RENDEZVOUS	= 1 << 0,	/* capacity 0 is a rendezvous */
	C_TOKENONLY	= 1 << 1,	/* a lock or semaphore: no payload */
	C_SPINS		= 1 << 2,	/* waits by spinning: may not finish */
};

/*
 * struct contender is the small vtable every queue implements.  Messages
 * are uint64_t values.  send and recv block (however the contender waits);
 * trysend and tryrecv never wait and return false where they would.
 * sendn and recvn (NULL where the contender has no batch form) move up to
 * n values and return how many, at least 1.  select_send and select_recv
 * (NULL where the contender has none: the driver then polls the try forms)
 * complete one operation among n queues and return its index.
 */
struct contender {
	const char	*name;
	unsigned	 flags;
	void		*(*create)(size_t cap);
	void		 (*destroy)(void *q);
	size_t		 (*capacity)(void *q);	/* what it really holds */
	void		 (*send)(void *q, uint64_t v);
	uint64_t	 (*recv)(void *q);
	bool		 (*trysend)(void *q, uint64_t v);
	bool		 (*tryrecv)(void *q, uint64_t *v);
	size_t		 (*sendn)(void *q, const uint64_t *v, size_t n);
	size_t		 (*recvn)(void *q, uint64_t *v, size_t n);
	int		 (*select_send)(void **qs, int n, uint64_t v);
	int		 (*select_recv)(void **qs, int n, uint64_t *v);
};

/* xmalloc_aligned returns zeroed memory aligned to a cache line, or dies. */
static void *
xmalloc_aligned(size_t size)
{
	void *p;
	size_t rounded = (size + CACHELINE - 1) / CACHELINE * CACHELINE;

	if ((p = aligned_alloc(CACHELINE, rounded)) == NULL)
		die("aligned_alloc(%zu): %s", rounded, strerror(errno));
	memset(p, 0, rounded);
	return p;
}

#endif /* BENCH_H */
