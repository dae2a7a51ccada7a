/*
 * The per-thread waiter: how a thread blocks in any libchan call, spinning
 * first when that can pay, then sleeping on its own condition variable.
 * See struct chan__waiter in internal.h for the states.
 *
 * Lock order: any channel lock before a waiter's mu.  A thread holding a
 * waiter's mu takes no other lock (the cancellation handler drops it first).
 */
#define _GNU_SOURCE	/* sched_getaffinity(), sched_getcpu() */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* How long a waiter spins before it sleeps, unless CHAN_SPIN_NS says. */
#define SPIN_NS_DEFAULT	10000UL
/*
 * The longest spin CHAN_SPIN_NS may ask for: a second.  A spin does not
 * watch the caller's deadline, so this also bounds how late a timed call
 * can return when asked to spin that long (CI's helgrind run asks for
 * 200 ms, so that waiters see their completion while spinning).
 */
#define SPIN_NS_MAX	1000000000UL
/* How long a thread polls a ring before it queues as a waiter. */
#define POLL_NS		1000UL
/*
 * How long a poll or a spin runs before it counts itself among the
 * spinners and the blocked (see chan__poll).
 */
#ifndef QUICK_NS
#define QUICK_NS	500UL
#endif
/* Then it yields its CPU up to this many times (yield_until). */
#ifndef POLL_YIELDS
#define POLL_YIELDS	4
#endif
/* A thread that has just woken a sleeper spins this many times longer. */
#define SPIN_WOKE_FACTOR 5
/* A spin that ended asleep halves the next one, down to this fraction. */
#define SPIN_MIN_SHIFT	4

static pthread_once_t	 init_once = PTHREAD_ONCE_INIT;
static pthread_key_t	 waiter_key;
static bool		 have_key;	/* waiter_key was created */
static unsigned long	 spin_iters;	/* pause loops in one spin; 0: never */
static unsigned long	 poll_iters;	/* pause loops in one poll; 0: never */
static unsigned long	 quick_iters;	/* pause loops before counting in */
static int		 ncpu;
static _Atomic int	 blocked;	/* threads counted in, see chan__poll */
static _Atomic int	 spinners;	/* threads spinning in chan__wait now */
static pthread_condattr_t cond_attr;	/* CLOCK_MONOTONIC */

_Thread_local struct chan__waiter chan__tls_waiter;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The CPU the calling thread runs on, or -1 where that is not known. */
static int
this_cpu(void)
{
#ifdef __linux__
	return sched_getcpu();
#else
	return -1;
#endif
}

/*
 * The CPUs this process may run on: its affinity mask where there is one
 * (taskset, cpusets, containers), else the CPUs online.  Linux keeps a mask
 * per thread, and a program that pins each worker to a CPU of its own
 * should still spin, so this counts the wider of the main thread's and the
 * caller's.
 */
static int
usable_cpus(void)
{
	long n;
#ifdef __linux__
	cpu_set_t set;
	int k = 0;

	if (sched_getaffinity(getpid(), sizeof(set), &set) == 0)
		k = CPU_COUNT(&set);
	if (sched_getaffinity(0, sizeof(set), &set) == 0 &&
	    CPU_COUNT(&set) > k)
		k = CPU_COUNT(&set);
	if (k > 0)
		return k;
#endif
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

/* Runs at exit for every thread that got select scratch: frees its waiter. */
static void
waiter_exit(void *arg)
{
	struct chan__waiter *w = arg;

	free(w->ents);
	w->ents = NULL;
	w->nents = 0;
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mu);
	w->ready = false;
}

/*
 * CHAN_SPIN_NS, if it is a decimal number; capped at SPIN_NS_MAX (larger
 * values, even those no unsigned long holds, mean the longest spin).
 */
static unsigned long
spin_setting(void)
{
	const char *env = getenv("CHAN_SPIN_NS");
	uint64_t ns = 0;	/* 10 * SPIN_NS_MAX + 9 overflows 32 bits */

	if (env == NULL || *env == '\0' || strspn(env, "0123456789") !=
	    strlen(env))
		return SPIN_NS_DEFAULT;
	for (; *env != '\0' && ns <= SPIN_NS_MAX; env++)
		ns = ns * 10 + (uint64_t)(*env - '0');
	return ns < SPIN_NS_MAX ? (unsigned long)ns : SPIN_NS_MAX;
}

/*
 * Measures the pause hint once, so that a spin lasts about the same time
 * on any CPU (a pause costs 3 cycles on some x86 parts and 140 on others).
 * One CPU: never spin, the thread waited for cannot run meanwhile (spin()
 * and chan__poll() yield instead).
 */
static void
global_init(void)
{
	unsigned long spin_ns = spin_setting();
	uint64_t t0, dt;
	int i, saved = errno;	/* calls on a channel never set it */

	/*
	 * A program may have taken every key (PTHREAD_KEYS_MAX): waiters then
	 * work all the same, but a thread's exit no longer frees its scratch.
	 */
	have_key = pthread_key_create(&waiter_key, waiter_exit) == 0;
	if (pthread_condattr_init(&cond_attr) != 0 ||
	    pthread_condattr_setclock(&cond_attr, CLOCK_MONOTONIC) != 0)
		abort();
	ncpu = usable_cpus();
	t0 = now_ns();
	for (i = 0; i < 4096; i++)
		chan__cpu_relax();
	dt = now_ns() - t0;
	if (dt == 0)
		dt = 1;
	spin_iters = ncpu > 1 ? (unsigned long)((uint64_t)spin_ns * 4096 / dt) :
	    0;
	poll_iters = ncpu > 1 ? (unsigned long)(POLL_NS * 4096 / dt) : 0;
	quick_iters = ncpu > 1 ? (unsigned long)(QUICK_NS * 4096 / dt) : 0;
	errno = saved;
	CHAN__SENT(&init_once);
}

/* Runs global_init once; helgrind does not see pthread_once order it. */
static void
init(void)
{
	pthread_once(&init_once, global_init);
	CHAN__RECEIVED(&init_once);
}

/* Sets up w, the calling thread's waiter, on its first use (chan__self). */
void
chan__self_init(struct chan__waiter *w)
{
	init();
	if (pthread_mutex_init(&w->mu, NULL) != 0 ||
	    pthread_cond_init(&w->cond, &cond_attr) != 0)
		abort();
	/*
	 * Every access to the state is atomic: completers' CAS and store,
	 * the owner's loads while it spins (see CHAN__ATOMIC).
	 */
	CHAN__ATOMIC(&w->state);
	w->rng = (uint64_t)(uintptr_t)w ^ now_ns() ^ 0x9e3779b97f4a7c15u;
	if (w->rng == 0)
		w->rng = 1;
	w->ready = true;
}

/*
 * Returns a scratch area of at least size bytes owned by w's thread, or NULL
 * (ENOMEM).  It grows rarely: a thread's first select allocates it and
 * later ones reuse it (sel_scratch asks for enough for 64 cases).
 *
 * The first one also registers w for waiter_exit, which frees it at the
 * thread's exit.  Only then: pthread_setspecific may itself allocate (glibc
 * does for a key past the first 32), and API.md lets a thread allocate
 * once, in its first select wait, not in every first wait.  A thread that
 * never has scratch leaves its mutex and condition variable undestroyed,
 * which holds no resource on glibc or musl.
 */
void *
chan__scratch(struct chan__waiter *w, size_t size)
{
	void *p;

	if (size <= w->nents)
		return w->ents;
	if ((p = malloc(size)) == NULL)
		return NULL;
	if (w->ents == NULL && have_key &&
	    pthread_setspecific(waiter_key, w) != 0) {
		free(p);
		return NULL;
	}
	free(w->ents);
	w->ents = p;
	w->nents = size;
	return p;
}

/*
 * Tries to take w out of WAITING or SLEEPING for a completer.  Returns the
 * state it was claimed from, or -1 if w is no longer waiting (completed by
 * another channel, timed out, cancelled).
 */
int
chan__claim(struct chan__waiter *w)
{
	int s = CHAN__WAITING;

	/*
	 * No load first: a spinning waiter keeps the line shared, and a
	 * load then a CAS would fetch it twice, once to read and once to own.
	 */
	do {
		if (atomic_compare_exchange_weak_explicit(&w->state, &s,
		    CHAN__CLAIMED, memory_order_acq_rel, memory_order_relaxed))
			return s;
	} while (s == CHAN__WAITING || s == CHAN__SLEEPING);
	return -1;
}

/*
 * Publishes DONE to a waiter claimed from SLEEPING and wakes it.  The
 * signal is sent with w->mu held: the waiter checks the state under mu
 * before each cond wait, so it either sees DONE or is already waiting.
 * Signal, not broadcast: only the owner ever waits on w->cond.
 */
void
chan__done_sleeping(struct chan__waiter *w)
{
	int cpu = this_cpu();
	bool local;

	chan__plock(&w->mu);
	local = cpu >= 0 && cpu == w->sleep_cpu;
	CHAN__SENT(&w->state);
	atomic_store_explicit(&w->state, CHAN__DONE, memory_order_release);
	if (pthread_cond_signal(&w->cond) != 0)
		abort();
	chan__punlock(&w->mu);
	/* See spin(). */
	chan__tls_waiter.woke_sleeper = true;
	if (local)
		chan__tls_waiter.woke_local = true;
}

bool
chan__deadline_passed(const struct timespec *ts)
{
	struct timespec now;

	if (ts == NULL)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > ts->tv_sec ||
	    (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

/* Waits for a claimed waiter's completer to publish DONE: a few stores away. */
static void
await_done(struct chan__waiter *w)
{
	unsigned i = 0;

	while (atomic_load_explicit(&w->state, memory_order_acquire) !=
	    CHAN__DONE) {
		if (++i % 128 == 0)
			sched_yield();	/* the completer was preempted */
		else
			chan__cpu_relax();
	}
	CHAN__RECEIVED(&w->state);
}

/*
 * Counts the calling thread among the blocked, once per call (chan__uncount
 * counts it out), and returns how many are counted now.
 */
static int
count_in(void)
{
	if (!chan__tls_waiter.counted) {
		chan__tls_waiter.counted = true;
		atomic_fetch_add_explicit(&blocked, 1, memory_order_relaxed);
	}
	return atomic_load_explicit(&blocked, memory_order_relaxed);
}

/*
 * Pauses until done(arg) or n pause loops have passed.  From quick_iters
 * on the thread counts itself among the spinners, and stops at once if as
 * many threads spin already as there are CPUs (*refused).  True if
 * done(arg).  The rule for both spin() and chan__poll().
 */
static bool
pause_until(bool (*done)(void *), void *arg, unsigned long n, bool *refused)
{
	unsigned long i;
	bool counted = false, ok = false;

	*refused = false;
	for (i = 0; i < n; i++) {
		if (i == quick_iters) {
			counted = true;
			if ((*refused = atomic_fetch_add_explicit(&spinners, 1,
			    memory_order_relaxed) >= ncpu))
				break;
		}
		if ((ok = done(arg)))
			break;
		chan__cpu_relax();
	}
	if (counted)
		atomic_fetch_sub_explicit(&spinners, 1, memory_order_relaxed);
	return ok;
}

/*
 * Yields the CPU up to n times, looking at done(arg) after each;
 * true once it holds.  For a thread whose partner may need this very CPU.
 */
static bool
yield_until(bool (*done)(void *), void *arg, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		sched_yield();
		if (done(arg))
			return true;
	}
	return false;
}

static bool
claimed(void *arg)
{
	struct chan__waiter *w = arg;

	return atomic_load_explicit(&w->state, memory_order_relaxed) >=
	    CHAN__CLAIMED;
}

/*
 * Spins on w's state while that can pay: only with a CPU to spare for the
 * thread being waited for.  A thread that has just woken a sleeper spins
 * longer: its partner needs 25-60 us to run again, and if it gives up first
 * the pair falls into waking each other for every message.  Not if that
 * sleeper last slept on this very CPU, though: the two then most likely
 * share it, and the partner cannot run before the spin ends.  (A pair with
 * both threads pinned to one CPU spent 50 us spinning a half trip, 106-112
 * us a round trip, where sleeping costs about 13; unpinned, sched_getcpu()
 * showed runs where every wake-up went to a thread that had slept on the
 * waker's CPU.)  A spin that ended asleep halves the thread's next one,
 * down to a sixteenth; one that was answered restores the full length.
 * (Stopping altogether after misses was a trap: a thread that no longer
 * spins makes its partner's spins miss too, and a ping-pong pair settled
 * into sleeping on every message, 15-30 us a round trip.)
 *
 * Then, if the spin missed, a plain send or receive first in an
 * unbuffered channel's queue (at_head: the one its partner's next
 * operation completes) yields its CPU once and looks again before it
 * sleeps, while more of the process's threads are blocked than there are
 * CPUs, as chan__poll does.  The CPU goes to a thread that can use it,
 * often one whose own operation has just been completed, and a partner
 * that completes us meanwhile is spared a futex wake-up on its critical
 * path.  Four producers sending on four unbuffered channels to one
 * consumer's select otherwise fell into sleeping on every message, and
 * the consumer spent its time waking them: a spin that misses makes the
 * consumer slower, and the next spins miss more.  A waiter behind others
 * in its queue sleeps at once, as before: its partner's next operation
 * completes another.  Letting every waiter yield trades one workload for
 * another: mpsc at capacity 0 (four producers queued on one channel)
 * gained 2.4-2.6x, mpmc 4->4 at capacity 0 lost 11-29% in three sets of
 * four; letting the first two yield fell between the two.  An answered yield
 * still counts as a missed spin for the next spin's length: when it
 * restored the full spin instead, every waiter yielding cost mpmc 4->4
 * at capacity 0 9-61%.  Measured with bench/ (20 runs of each, ABBA, M
 * messages/s, before -> after): select_rx at capacity 0, 0.63 -> 1.58;
 * spsc, mpsc, mpmc and select_both at capacity 0 and ping-pong within the
 * noise.  (Counted in a patched copy: 5-11% of the producers' spins had
 * missed, 0.1-0.2% after, with one yield per 1,100-1,700 spins.)  True if the
 * waiter was completed during the spin or the yield.
 */
static bool
spin(struct chan__waiter *w)
{
	unsigned long n;
	bool done, refused;

	if (ncpu == 1) {
		/*
		 * Whoever completes us needs this CPU: hand it over and look
		 * again, a few times, before paying for a sleep and a wake-up
		 * (pinned to one CPU, ping-pong at capacity 0 went from about
		 * 100 to 6 us a round trip; Vyukov's queue took 17).
		 */
		return yield_until(claimed, w, POLL_YIELDS);
	}
	if (spin_iters == 0)
		return false;
	n = spin_iters >> w->spin_misses;
	if (w->woke_sleeper && !w->woke_local)
		n = spin_iters * SPIN_WOKE_FACTOR;
	w->woke_sleeper = w->woke_local = false;
	done = pause_until(claimed, w, n, &refused);
	if (done)
		w->spin_misses = 0;
	else if (w->spin_misses < SPIN_MIN_SHIFT)
		w->spin_misses++;
	if (!done && w->at_head && count_in() > ncpu)
		done = yield_until(claimed, w, 1);
	return done;
}

/*
 * Polls ready(arg) for about POLL_NS before the caller queues as a waiter:
 * queueing is what two locks make dear (whoever publishes next must cross
 * to our side's lock), and a partner that is running usually answers
 * within a microsecond.  Only with a CPU to spare, like spin().
 *
 * A poll or spin counts itself among the spinners (and a failed poll among
 * the blocked) only once it has run QUICK_NS: the counts are process-wide
 * lines, and a partner that answers at once (a ping-pong) should cost no
 * write to them.  Counting in at the start cost every wait four atomic
 * operations on two lines that both partners write: ping-pong at capacity
 * 1, ten interleaved rounds, 1300 -> 1000 ns a round trip (median; the
 * ratio to Vyukov's 2.35x -> 1.75x, worst 3.26x -> 2.41x); mpmc 4->4 at
 * capacity 0 0.81 -> 1.41 M/s (five rounds), the rest within the noise.
 *
 * Then, if may_yield, a few sched_yield()s, each followed by a look: when
 * threads outnumber CPUs, the thread that would free a slot or publish an
 * element may be waiting for this very CPU, and a yield hands it over at
 * the cost of a system call, where queueing and sleeping would cost it a
 * futex wake-up on its own critical path.  Only while more of the
 * process's threads are blocked in sends and receives than there are
 * CPUs, though: where another process keeps the CPUs busy, a yield hands
 * it a whole time slice (milliseconds; check_cancel's racing cases, two
 * threads, ran 50 times slower beside two busy loops when every poll
 * yielded, and a backoff keyed to slow yields also stopped the yields that
 * pay).  The yields come after the thread gave back its place among the
 * spinners: a thread holding that place while yielding kept others from
 * polling, and they slept.  Measured with bench/ (five interleaved
 * rounds, M messages/s, before -> after):
 * mpmc 4->4 at capacity 1 0.09 -> 0.98, mpmc 2->2 at capacity 1 0.22 ->
 * 1.13, select_rx at capacity 1 0.42 -> 1.38; at capacity 1024 the same
 * within the noise.  A select does not yield: a consumer selecting over
 * four producers' channels gave its CPU to them and fell from 0.52 to
 * 0.13-0.23 M/s at capacity 1.
 */
void
chan__poll(bool (*ready)(void *), void *arg, bool may_yield)
{
	bool refused;
	int n;

	init();
	if (pause_until(ready, arg, poll_iters, &refused) || !may_yield)
		return;
	/*
	 * Only while more of our threads block than there are CPUs; on one
	 * CPU always, since whoever we wait for needs this one.
	 */
	n = count_in();
	if (refused || (ncpu > 1 && n <= ncpu))
		return;
	(void)yield_until(ready, arg, POLL_YIELDS);
}

/* For white-box tests: how many threads are counted among the blocked. */
int
chan__nblocked(void)
{
	return atomic_load_explicit(&blocked, memory_order_relaxed);
}

/* For white-box tests: how many CPUs the waits reckon with (usable_cpus). */
int
chan__ncpu(void)
{
	init();
	return ncpu;
}

/*
 * Counts the calling thread out of the blocked, if a poll counted it in:
 * called by a plain send or receive that polled, as it leaves.
 */
void
chan__uncount(void)
{
	if (chan__tls_waiter.counted) {
		chan__tls_waiter.counted = false;
		atomic_fetch_sub_explicit(&blocked, 1, memory_order_relaxed);
	}
}

struct sleep_ctx {
	struct chan__waiter	*w;
	const struct timespec	*abstime;
	bool			 timed_out;
	void			(*fn)(void *);
	void			*arg;
};

/*
 * Runs when the thread is cancelled in its cond wait, with w->mu held.
 * Either the waiter aborts (no completer has it, none can get it now), or a
 * completer already claimed it: then the operation happened, and we wait
 * for its DONE so that the completer is finished with our memory.  Then the
 * caller's handler unlinks what is still queued.
 */
static void
wait_cancelled(void *arg)
{
	struct sleep_ctx *c = arg;
	struct chan__waiter *w = c->w;
	int s = CHAN__SLEEPING, old;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	if (!atomic_compare_exchange_strong(&w->state, &s, CHAN__ABORTED)) {
		while (atomic_load_explicit(&w->state, memory_order_acquire) !=
		    CHAN__DONE)
			pthread_cond_wait(&w->cond, &w->mu);
	}
	chan__punlock(&w->mu);
	c->fn(c->arg);
}

/*
 * The cond-wait loop, with w->mu held and w SLEEPING: until DONE, or until
 * the deadline passes while no completer has claimed w (then ABORTED).
 */
static void
sleep_locked(struct sleep_ctx *c)
{
	struct chan__waiter *w = c->w;
	int s, rc;

	while (atomic_load_explicit(&w->state, memory_order_acquire) !=
	    CHAN__DONE) {
		if (c->abstime == NULL)
			rc = pthread_cond_wait(&w->cond, &w->mu);
		else
			rc = pthread_cond_timedwait(&w->cond, &w->mu, c->abstime);
		if (rc == ETIMEDOUT) {
			s = CHAN__SLEEPING;
			if (atomic_compare_exchange_strong(&w->state, &s,
			    CHAN__ABORTED)) {
				c->timed_out = true;
				return;
			}
			/*
			 * Claimed: the operation happened after all.  Wait,
			 * untimed, for its DONE and report it.
			 */
			c->abstime = NULL;
		} else if (rc != 0) {
			abort();
		}
	}
}

/*
 * Blocks the calling thread, the owner of w, until a completer publishes
 * DONE (returns 0; w->index and w->result say what happened) or abstime
 * passes first (returns ETIMEDOUT; the state is ABORTED and no completer
 * will touch w).  The caller set w->state to WAITING before queueing its
 * entries, and unlinks whatever is still queued afterwards.  The cond wait
 * is a cancellation point: on_cancel(arg) then runs after the waiter has
 * aborted or seen DONE, and must unlink the entries.
 */
int
chan__wait(struct chan__waiter *w, const struct timespec *abstime,
    void (*on_cancel)(void *), void *arg)
{
	struct sleep_ctx c = { w, abstime, false, on_cancel, arg };
	int s = CHAN__WAITING;

	if (!spin(w)) {
		chan__plock(&w->mu);
		w->sleep_cpu = this_cpu();
		/* Fails only if a completer claimed w first. */
		if (atomic_compare_exchange_strong(&w->state, &s,
		    CHAN__SLEEPING)) {
			pthread_cleanup_push(wait_cancelled, &c);
			sleep_locked(&c);
			pthread_cleanup_pop(0);
		}
		chan__punlock(&w->mu);
		if (c.timed_out)
			return ETIMEDOUT;
	}
	await_done(w);
	return 0;
}
