/*
 * Shared helpers for the stress drivers in tests/stress/.  These programs
 * use no Check and nothing glibc-only, so they also build against musl.
 *
 * Each driver runs a short "quick" pass by default (a few seconds, also
 * under ThreadSanitizer) and a long one when STRESS_FULL=1 is set.  Every
 * violation is printed with enough context to reproduce it, and the driver
 * exits non-zero at the end; a watchdog aborts a run that stops making
 * progress (a lost wake-up or a deadlock) instead of letting CI hang, and
 * a crash prints the phase (seed and configuration) it happened in.
 */
#ifndef STRESS_H
#define STRESS_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
#include "../seed.h"

/* A message: who sent it, its sequence number, and a check word over both. */
struct msg {
	uint32_t	sender;
	uint32_t	seq;
	uint64_t	check;
};

static inline uint64_t
msg_check(uint32_t sender, uint32_t seq)
{
	uint64_t x = ((uint64_t)sender << 32 | seq) ^ 0x9e3779b97f4a7c15ULL;

	/* splitmix64 finaliser: a torn or stale copy fails it. */
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline struct msg
msg_make(uint32_t sender, uint32_t seq)
{
	struct msg m = { sender, seq, msg_check(sender, seq) };

	return m;
}

static inline int
msg_valid(const struct msg *m)
{
	return m->check == msg_check(m->sender, m->seq);
}

/*
 * What the driver is doing (set_phase, below): its seed and configuration,
 * printed by the watchdog and before the first violation in each phase.
 */
static char stress_phase[256];
static unsigned long stress_phase_gen, stress_phase_told = ~0UL;
static pthread_mutex_t stress_phase_mu = PTHREAD_MUTEX_INITIALIZER;

/*
 * Violations are counted, printed (the first few hundred) and fail the run.
 * A thread is not cancelled halfway through one (stdio's writes are
 * cancellation points): it would leave stress_phase_mu locked, and every
 * later violation, set_phase and even the watchdog would wait for it.
 */
static atomic_ulong stress_violations;

static void
violation(const char *fmt, ...)
{
	va_list ap;
	int old;

	if (atomic_fetch_add(&stress_violations, 1) >= 200)
		return;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	pthread_mutex_lock(&stress_phase_mu);
	flockfile(stderr);
	if (stress_phase_told != stress_phase_gen && stress_phase[0] != '\0') {
		fprintf(stderr, "VIOLATION in %s:\n", stress_phase);
		stress_phase_told = stress_phase_gen;
	}
	fputs("VIOLATION: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	pthread_mutex_unlock(&stress_phase_mu);
	pthread_setcancelstate(old, NULL);
}

static int
stress_full(void)
{
	const char *s = getenv("STRESS_FULL");

	return s != NULL && *s != '\0' && strcmp(s, "0") != 0;
}

/* An unsigned number from the environment, or dflt. */
static unsigned long
env_ulong(const char *name, unsigned long dflt)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (s == NULL || *s == '\0')
		return dflt;
	v = strtoul(s, &end, 0);
	if (*end != '\0') {
		fprintf(stderr, "%s: not a number: %s\n", name, s);
		exit(2);
	}
	return v;
}

/* xorshift64*: a cheap per-thread generator; never shared between threads. */
struct rng {
	uint64_t	s;
};

static inline void
rng_seed(struct rng *r, uint64_t seed)
{
	r->s = msg_check((uint32_t)(seed >> 32), (uint32_t)seed) | 1;
}

static inline uint64_t
rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 2685821657736338717ULL;
}

/* A number in [0, n); n > 0. */
static inline uint32_t
rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

static inline double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The CLOCK_MONOTONIC time usec microseconds from now. */
static inline struct timespec
deadline_us(long usec)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += usec / 1000000;
	ts.tv_nsec += (usec % 1000000) * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

/* Sleep for usec microseconds: used only to vary timing, never to sync. */
static inline void
pause_us(long usec)
{
	struct timespec ts = { usec / 1000000, (usec % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* calloc, or exit 2 (the drivers' "could not run") with a message. */
static inline void *
stress_calloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL) {
		perror("calloc");
		exit(2);
	}
	return p;
}

/* A bitmap with atomic test-and-set, one bit per (sender, seq). */
struct bitmap {
	atomic_uint_least64_t	*w;
	size_t			 nbits;
};

static inline void
bitmap_init(struct bitmap *b, size_t nbits)
{
	b->nbits = nbits;
	b->w = stress_calloc(nbits / 64 + 1, sizeof(*b->w));
}

static inline void
bitmap_free(struct bitmap *b)
{
	free(b->w);
	b->w = NULL;
}

/* Set bit i and return whether it was already set. */
static inline int
bitmap_tas(struct bitmap *b, size_t i)
{
	uint64_t bit = (uint64_t)1 << (i % 64);

	return (atomic_fetch_or(&b->w[i / 64], bit) & bit) != 0;
}

static inline int
bitmap_get(struct bitmap *b, size_t i)
{
	return (atomic_load(&b->w[i / 64]) >> (i % 64)) & 1;
}

/*
 * The watchdog: each driver bumps stress_progress as it completes work, and
 * names what it is doing in stress_phase.  If nothing moves for
 * STRESS_STALL seconds the watchdog prints the phase and aborts: a lost
 * wake-up shows up as a stall, not as a CI job killed at its time limit.
 */
static atomic_ulong stress_progress;

static void
set_phase(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&stress_phase_mu);
	va_start(ap, fmt);
	vsnprintf(stress_phase, sizeof(stress_phase), fmt, ap);
	va_end(ap);
	stress_phase_gen++;
	pthread_mutex_unlock(&stress_phase_mu);
	atomic_fetch_add(&stress_progress, 1);
}

static inline void
progress(void)
{
	atomic_fetch_add_explicit(&stress_progress, 1, memory_order_relaxed);
}

static void *
watchdog_main(void *arg)
{
	unsigned long stall = *(unsigned long *)arg, last = ~0UL, now;
	unsigned long still = 0;

	for (;;) {
		pause_us(1000000);
		now = atomic_load(&stress_progress);
		if (now != last) {
			last = now;
			still = 0;
			continue;
		}
		if (++still < stall)
			continue;
		pthread_mutex_lock(&stress_phase_mu);
		fprintf(stderr, "VIOLATION: no progress for %lu s in: %s\n",
		    stall, stress_phase);
		pthread_mutex_unlock(&stress_phase_mu);
		fflush(stderr);
		abort();
	}
	return NULL;
}

/*
 * A crash (a stale waiter's entry, memory handed out twice) says where it
 * happened: the phase, written with write(2), since nothing else is safe in
 * a signal handler, and read without its lock, since the process is dying
 * anyway.  Then the handler that was there before (the default, or a
 * sanitizer's) takes the signal when the faulting instruction runs again.
 */
static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE };
static struct sigaction fatal_old[sizeof(fatal_signals) /
    sizeof(fatal_signals[0])];

static void
fatal_handler(int sig)
{
	static const char head[] = "VIOLATION: fatal signal in: ";
	size_t i;

	(void)!write(2, head, sizeof(head) - 1);
	(void)!write(2, stress_phase, strnlen(stress_phase,
	    sizeof(stress_phase)));
	(void)!write(2, "\n", 1);
	for (i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		if (fatal_signals[i] == sig)
			sigaction(sig, &fatal_old[i], NULL);
}

/* STRESS_STALL: the seconds without progress after which the watchdog aborts. */
static inline unsigned long
stress_stall(void)
{
	return env_ulong("STRESS_STALL", 60);
}

/*
 * The seconds a driver's own liveness check lets a waiter sleep beside
 * what could complete it, with nothing moving, before it reports a lost
 * wake-up: a quarter of the watchdog's, so that the report, which names
 * the stranded waiters, comes before the watchdog's abort.
 */
static inline unsigned long
stress_strand_s(void)
{
	return stress_stall() / 4 + 1;
}

static void
watchdog_start(void)
{
	static unsigned long stall;
	struct sigaction sa;
	pthread_t t;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fatal_handler;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		sigaction(fatal_signals[i], &sa, &fatal_old[i]);
	stall = stress_stall();
	if (pthread_create(&t, NULL, watchdog_main, &stall) != 0) {
		perror("pthread_create");
		exit(2);
	}
	pthread_detach(t);
}

static void
spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int error;

	if ((error = pthread_create(t, NULL, fn, arg)) != 0) {
		fprintf(stderr, "pthread_create: %s\n", strerror(error));
		exit(2);
	}
}

static void
join(pthread_t t)
{
	int error;

	if ((error = pthread_join(t, NULL)) != 0) {
		fprintf(stderr, "pthread_join: %s\n", strerror(error));
		exit(2);
	}
}

static int
stress_exit(const char *prog)
{
	unsigned long v = atomic_load(&stress_violations);

	if (v != 0) {
		fprintf(stderr, "%s: FAILED: %lu violation(s)\n", prog, v);
		return 1;
	}
	printf("%s: ok\n", prog);
	return 0;
}

#endif /* STRESS_H */
