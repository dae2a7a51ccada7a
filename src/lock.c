/*
 * Linux futexes (see internal.h): the channel lock's slow paths, and the
 * two calls a sleeping waiter makes (waiter.c).
 *
 * The lock is a futex word, 0 free, 1 held, 2 held and perhaps with
 * sleepers.  A locker that finds the lock held first spins briefly, since
 * a channel's critical sections are a few dozen instructions and the
 * holder is most likely running.  Then it marks the word 2 and sleeps
 * while it stays 2.  Whoever unlocks a 2 wakes one sleeper, which takes
 * the lock by storing 2 again: it cannot know whether others still sleep,
 * so it keeps the next unlock waking.  A word that reads 0 is free to
 * anyone (barging), as with a default pthread mutex.
 *
 * The kernel compares the word with the value the sleeper expects and
 * sleeps as one step, so a wake-up cannot slip between the sleeper's look
 * and its sleep.
 */
#define _GNU_SOURCE		/* syscall() */
#include "internal.h"

#ifdef CHAN__FUTEX
#include <sys/syscall.h>
#include <unistd.h>

/* The values of <linux/futex.h>, which musl's headers do not carry. */
#define FUTEX_WAIT_PRIVATE	128	/* FUTEX_WAIT | FUTEX_PRIVATE_FLAG */
#define FUTEX_WAKE_PRIVATE	129	/* FUTEX_WAKE | FUTEX_PRIVATE_FLAG */
#define FUTEX_WAIT_BITSET_PRIVATE 137	/* absolute CLOCK_MONOTONIC time */
#define FUTEX_BITSET_ANY	(-1)

/* Pause loops a locker spins before it sleeps: about 1-2 us. */
#define LOCK_SPIN	64

/*
 * Sleeps while *word reads val, until woken or until abstime (NULL: no
 * deadline; else CLOCK_MONOTONIC) passes: 0, or the futex's error
 * (EAGAIN: *word did not read val; EINTR; ETIMEDOUT).  A return says
 * nothing about *word: the caller looks again.
 */
int
chan__futex_wait(void *word, uint32_t val, const struct timespec *abstime)
{
	long r;

	if (abstime == NULL) {
		r = syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL,
		    NULL, 0);
	} else {
#ifdef SYS_futex_time64
		/* A 32-bit system whose time_t has 64 bits. */
		long nr = sizeof(time_t) > sizeof(long) ? SYS_futex_time64 :
		    SYS_futex;
#else
		long nr = SYS_futex;
#endif
		r = syscall(nr, word, FUTEX_WAIT_BITSET_PRIVATE, val, abstime,
		    NULL, FUTEX_BITSET_ANY);
	}
	return r == 0 ? 0 : errno;
}

/*
 * Wakes one thread sleeping on word.  The word's memory may be gone by
 * now (a waiter that saw DONE may have returned and its thread exited):
 * a private futex is known to the kernel by address only, so the call
 * then wakes no one, or at worst wakes a sleeper that looks again.
 */
void
chan__futex_wake(void *word)
{
	(void)syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

void
chan__lock_slow(chan__mutex *m)
{
	uint32_t w;
	int i;

	for (i = 0; i < LOCK_SPIN; i++) {
		w = atomic_load_explicit(&m->word, memory_order_relaxed);
		if (w == 2)
			break;		/* others sleep already: queue behind */
		if (w == 0 && atomic_compare_exchange_weak_explicit(&m->word,
		    &w, 1, memory_order_acquire, memory_order_relaxed))
			return;
		chan__cpu_relax();
	}
	/* EAGAIN (no longer 2), EINTR: both mean look again. */
	while (atomic_exchange_explicit(&m->word, 2, memory_order_acquire) != 0)
		(void)chan__futex_wait(&m->word, 2, NULL);
}
#endif
