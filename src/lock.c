/*
 * The channel lock's slow paths on Linux (see internal.h): a futex word,
 * 0 free, 1 held, 2 held and perhaps with sleepers.
 *
 * A locker that finds the lock held first spins briefly, since a channel's
 * critical sections are a few dozen instructions and the holder is most
 * likely running.  Then it marks the word 2 and sleeps while it stays 2.
 * Whoever unlocks a 2 wakes one sleeper, which takes the lock by storing 2
 * again: it cannot know whether others still sleep, so it keeps the next
 * unlock waking.  A word that reads 0 is free to anyone (barging), as with
 * a default pthread mutex.
 *
 * The kernel compares the word with 2 and sleeps as one step, so a wake-up
 * cannot slip between the locker's look and its sleep.
 *
 * Both paths leave errno as they found it: the calls on a channel never
 * set it (chan(7)), and a futex wait that finds the word changed fails
 * with EAGAIN, which is no error of the caller's.
 */
#define _GNU_SOURCE		/* syscall() */
#include "internal.h"

#ifdef CHAN__FUTEX
#include <sys/syscall.h>
#include <unistd.h>

/* The values of <linux/futex.h>, which musl's headers do not carry. */
#define FUTEX_WAIT_PRIVATE	128	/* FUTEX_WAIT | FUTEX_PRIVATE_FLAG */
#define FUTEX_WAKE_PRIVATE	129	/* FUTEX_WAKE | FUTEX_PRIVATE_FLAG */

/* Pause loops a locker spins before it sleeps: about 1-2 us. */
#define LOCK_SPIN	64

void
chan__lock_slow(chan__mutex *m)
{
	uint32_t w;
	int i, saved = errno;

	for (i = 0; i < LOCK_SPIN; i++) {
		w = atomic_load_explicit(&m->word, memory_order_relaxed);
		if (w == 2)
			break;		/* others sleep already: queue behind */
		if (w == 0 && atomic_compare_exchange_weak_explicit(&m->word,
		    &w, 1, memory_order_acquire, memory_order_relaxed))
			return;
		chan__cpu_relax();
	}
	while (atomic_exchange_explicit(&m->word, 2, memory_order_acquire) != 0) {
		/* EAGAIN (no longer 2), EINTR: both mean look again. */
		(void)syscall(SYS_futex, (void *)&m->word, FUTEX_WAIT_PRIVATE,
		    2, NULL, NULL, 0);
	}
	errno = saved;
}

void
chan__unlock_wake(chan__mutex *m)
{
	int saved = errno;

	(void)syscall(SYS_futex, (void *)&m->word, FUTEX_WAKE_PRIVATE, 1,
	    NULL, NULL, 0);
	errno = saved;
}
#endif
