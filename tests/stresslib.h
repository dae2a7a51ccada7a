/*
 * Helpers shared by the multi-threaded Check suites (check_stress.c,
 * check_cancel.c): scaled message counts, deadlines, a small random number
 * generator seeded from one seed a run (printed; $STRESS_SEED repeats
 * it), a way to know that a thread sleeps inside a blocking call, and a
 * place where worker threads leave the first failure they saw, and a
 * teardown that checks no thread is left counted among the blocked.
 *
 * Worker threads never call ck_assert: in CK_FORK=no mode a failing
 * assertion longjmps, which is undefined from another thread.  They record
 * the failure with stress_fail() and the main thread asserts after joining.
 *
 * Include after defining _GNU_SOURCE (for gettid) and before <check.h> users
 * need anything from it; it includes what it uses.
 */
#ifndef STRESSLIB_H
#define STRESSLIB_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "chan.h"
#include "seed.h"
#include "internal.h"	/* chan__nblocked */

/* Sanitized builds run 5-15 times slower: they get fewer messages. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define STRESS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define STRESS_SANITIZED 1
#endif
#endif
#ifndef STRESS_SANITIZED
#define STRESS_SANITIZED 0
#endif

/* Every test case of these suites gets this timeout, in seconds. */
#define STRESS_TIMEOUT 60

/*
 * stress_scale returns n scaled for this build: divided by 4 under a
 * sanitizer, multiplied by $CHAN_STRESS_SCALE (a positive number, default 1)
 * so that a long soak can be run by hand.  Never less than 1.
 */
static inline unsigned long
stress_scale(unsigned long n)
{
	const char *s;
	double f = 1.0, v;

	if ((s = getenv("CHAN_STRESS_SCALE")) != NULL && (v = atof(s)) > 0)
		f = v;
	if (STRESS_SANITIZED)
		f /= 4;
	v = (double)n * f;
	return v < 1 ? 1 : (unsigned long)v;
}

/* First failure seen by any worker thread; the main thread asserts on it. */
static pthread_mutex_t stress_fail_mu = PTHREAD_MUTEX_INITIALIZER;
static char stress_fail_msg[256];
static atomic_int stress_failed;

static inline void
stress_fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&stress_fail_mu);
	if (!atomic_load(&stress_failed)) {
		va_start(ap, fmt);
		vsnprintf(stress_fail_msg, sizeof(stress_fail_msg), fmt, ap);
		va_end(ap);
		atomic_store(&stress_failed, 1);
	}
	pthread_mutex_unlock(&stress_fail_mu);
}

/* stress_reset clears the failure note; call it at the start of a test. */
static inline void
stress_reset(void)
{
	atomic_store(&stress_failed, 0);
	stress_fail_msg[0] = '\0';
}

/* xorshift64*: cheap, per thread, and reproducible from its seed. */
static inline uint64_t
stress_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/*
 * The seed of a run (seed.h: $STRESS_SEED, or a new one), chosen the first
 * time it is asked for.  A suite's main calls stress_announce_seed()
 * before it runs its tests (before Check forks them, so that every test
 * sees the same one), which prints it: STRESS_SEED=<seed> then repeats a
 * failing run's random choices, though not its threads' timing.
 */
static uint64_t stress_base;
static atomic_ulong stress_nseeds;

static inline uint64_t
stress_base_seed(void)
{
	/* Never 0, which says "not chosen yet": seeds are odd. */
	if (stress_base == 0)
		stress_base = (uint64_t)stress_run_seed() | 1;
	return stress_base;
}

static inline void
stress_announce_seed(const char *suite)
{
	unsigned long long seed = stress_base_seed();

	printf("%s: seed %llu (STRESS_SEED=%llu to repeat)\n", suite,
	    seed, seed);
	fflush(stdout);
}

/*
 * A generator's seed, a new one at each call: the run's seed, salt, and how
 * many seeds this process (or this forked test) has handed out before.
 */
static inline uint64_t
stress_seed(unsigned salt)
{
	uint64_t x = stress_base_seed() + 0x9E3779B97F4A7C15ULL *
	    ((uint64_t)salt + 1 + ((uint64_t)atomic_fetch_add(&stress_nseeds,
	    1) << 32));

	/* splitmix64's finaliser; never 0: xorshift would stay at 0. */
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return (x ^ (x >> 31)) | 1;
}

/* stress_deadline returns CLOCK_MONOTONIC now + ns (ns may be negative). */
static inline struct timespec
stress_deadline(long long ns)
{
	struct timespec ts;
	long long t;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t = (long long)ts.tv_nsec + ns % 1000000000LL;
	ts.tv_sec += (time_t)(ns / 1000000000LL);
	if (t >= 1000000000LL) {
		t -= 1000000000LL;
		ts.tv_sec++;
	} else if (t < 0) {
		t += 1000000000LL;
		ts.tv_sec--;
	}
	ts.tv_nsec = (long)t;
	return ts;
}

static inline bool
stress_past(const struct timespec *ts)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > ts->tv_sec ||
	    (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

static inline pid_t
stress_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/*
 * stress_thread_state returns the scheduler state letter of thread tid of
 * this process ('R' running, 'S' sleeping, ...) or 0 if /proc cannot tell.
 */
static inline char
stress_thread_state(pid_t tid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces or parentheses: skip to the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return 0;
	return p[2];
}

/*
 * stress_wait_asleep spins (yielding, never sleeping) until thread tid,
 * which has announced that it is entering a blocking call, sleeps in the
 * kernel, and returns true; false if that did not happen within 10 s
 * (stress_wait_asleep_for: within ns nanoseconds).  Since
 * the thread announced the call first, a sleeping state can only come from
 * inside the call: the thread is blocked there (or about to block on a lock
 * of the call, which serves these tests as well).  Without /proc it settles
 * for a bounded number of yields: the tests stay correct, only less sharp.
 */
static inline bool
stress_wait_asleep_for(pid_t tid, long long ns)
{
	struct timespec limit = stress_deadline(ns);
	unsigned long i;
	char st;

	for (i = 0;; i++) {
		st = stress_thread_state(tid);
		if (st == 0)
			break;
		/* Two looks in a row: a thread can pass through S briefly. */
		if (st == 'S' && stress_thread_state(tid) == 'S')
			return true;
		if ((i & 63) == 0 && stress_past(&limit))
			return false;
		sched_yield();
	}
	for (i = 0; i < 10000; i++)
		sched_yield();
	return true;
}

static inline bool
stress_wait_asleep(pid_t tid)
{
	return stress_wait_asleep_for(tid, 10LL * 1000000000LL);
}

/*
 * A message names its sender (bits 32-47) and that sender's sequence number
 * (bits 0-31); receivers log it with the index of the channel it came from
 * (bits 48-55), since order is promised per channel.
 */
#define MSG(sender, seq)	(((uint64_t)(sender) << 32) | (uint32_t)(seq))
#define MSG_SENDER(m)		((unsigned)(((m) >> 32) & 0xffff))
#define MSG_SEQ(m)		((uint32_t)(m))
#define LOG_ENTRY(m, chan)	((m) | ((uint64_t)(chan) << 48))
#define LOG_CHAN(e)		((unsigned)(((e) >> 48) & 0xff))

/*
 * A checked fixture's teardown, run after each test with its threads gone:
 * a plain call that polled counted itself among the blocked threads (which
 * decides whether polls yield), and every exit, cancellation included,
 * must have counted it out again.
 */
static inline void
stress_none_counted_blocked(void)
{
	ck_assert_int_eq(chan__nblocked(), 0);
}

#endif /* STRESSLIB_H */
