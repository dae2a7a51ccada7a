/*
 * bench: libchan against a textbook mutex+condvar queue, Vyukov's bounded
 * MPMC queue, Concurrency Kit's ck_ring, and (for the token workloads)
 * sem_t and pthread_mutex_t, under real OS threads.
 *
 * For every workload and capacity, each eligible contender first sizes its
 * message count so one run lasts about the target time (-t), then the runs
 * are interleaved (A B C A B C ...) so that a slow phase of the machine
 * hits every contender alike; the report takes medians.  Every run checks
 * exactly-once delivery: each message is (producer, sequence), consumers
 * add up a hash of every message they get and check each producer's
 * sequence rises where the workload keeps order, and the totals must match
 * what was sent.  Any mismatch, failed call, lost message or hang (a
 * watchdog) exits non-zero; a spinning contender that runs out of time
 * (run_once) is reported, left out of the medians, and not checked (not
 * with -q: there it has until the watchdog, and every run is checked).
 *
 * Usage: bench [-q] [-F] [-r runs] [-t seconds] [-o results.csv]
 *              [-m meta.txt] [-w workload,...] [-c contender,...]
 *              [-C capacity,...]
 * Environment: BENCH_QUICK=1 is -q (tiny counts, one run, for make check),
 * RUNS sets -r, FULL=1 is -F (a denser thread sweep); BENCH_LOSE_ONE=1
 * makes the first producer skip its first message, so that make check
 * can see the driver catch a loss.
 */
#include <math.h>
#include <stdalign.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "c_ckring.h"
#include "c_libchan.h"
#include "c_sync.h"
#include "c_textbook.h"
#include "c_vyukov.h"

static const struct contender *const contenders[] = {
	&contender_libchan,
	&contender_libchan_batch,
	&contender_textbook,
	&contender_vyukov,
#ifndef BENCH_TSAN
	&contender_ckring,
#endif
	&contender_sem,
	&contender_mutex,
};
#define NCONTENDERS (sizeof(contenders) / sizeof(contenders[0]))

enum kind {
	K_SEQ,		/* one thread fills the queue, then drains it */
	K_FLOW,		/* P producers -> one queue -> C consumers */
	K_SELRX,	/* P producers, one queue each; 1 consumer selects */
	K_SELBOTH,	/* P senders select over 4 queues; C receivers too */
	K_PINGPONG,	/* two threads, two queues, one message in flight */
	K_TOKENS,	/* C threads share a pool of P tokens */
};

#define MAXCAPS		3
#define NSELECT		4	/* queues in the select workloads */
#define MAXTHREADS	64
#define BATCH		64	/* elements per batch call */
#define WORK_NS		200	/* work done while holding a token */

struct workload {
	const char	*name;
	enum kind	 kind;
	int		 producers;	/* K_TOKENS: the number of tokens */
	int		 consumers;	/* K_TOKENS: the number of threads */
	size_t		 caps[MAXCAPS];
	int		 ncaps;
	bool		 one_cpu;	/* K_PINGPONG: both threads on one CPU */
};

static const struct workload workloads[] = {
	{ "seq",	 K_SEQ,	     1,	 1, { 1, 1024 },    2, false },
	{ "spsc",	 K_FLOW,     1,	 1, { 0, 1, 1024 }, 3, false },
	{ "mpsc",	 K_FLOW,     4,	 1, { 0, 1, 1024 }, 3, false },
	{ "mpmc",	 K_FLOW,     2,	 2, { 0, 1, 1024 }, 3, false },
	{ "mpmc",	 K_FLOW,     4,	 4, { 0, 1, 1024 }, 3, false },
	{ "select_rx",	 K_SELRX,    4,	 1, { 0, 1, 1024 }, 3, false },
	{ "select_both", K_SELBOTH,  4,	 4, { 0, 1, 1024 }, 3, false },
	{ "pingpong",	 K_PINGPONG, 1,	 1, { 0, 1 },	    2, false },
	{ "pingpong_onecpu", K_PINGPONG, 1, 1, { 0, 1 },   2, true },
	{ "oversub",	 K_FLOW,    16, 16, { 1024 },	    1, false },
	{ "semaphore",	 K_TOKENS,   2,	 8, { 2 },	    1, false },
	{ "lock",	 K_TOKENS,   1,	 8, { 1 },	    1, false },
};
#define NWORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

/* The mpmc thread sweep: n producers and n consumers, capacity 1024. */
static const int sweep_quick[] = { 1, 2, 4, 8, 16 };
static const int sweep_full[] = { 1, 2, 3, 4, 6, 8, 12, 16 };

/* Options. */
static int	 opt_runs = 5;
static double	 opt_target = 0.12;	/* seconds per run */
static bool	 opt_quick;
static bool	 opt_full;
static const char *opt_csv;
static const char *opt_meta;
static const char *opt_workloads;
static const char *opt_contenders;
static const char *opt_caps;

static uint64_t	 work_iters;		/* busy-loop turns for WORK_NS */
static FILE	*csv;

/* What the watchdog prints if a run hangs. */
static char	 current_cell[256];
static unsigned	 watchdog_seconds = 300;
static double	 spin_limit = 3;	/* seconds; see run_once */
static int	 unfinished;		/* runs stopped by spin_limit */
static bool	 lose_one;		/* BENCH_LOSE_ONE=1: see producer */

/*
 * Message encoding: producer p (from 1) in the high bits, its sequence
 * number in the low 40, so a consumer can check both.
 */
#define SEQ_BITS	40
#define SEQ_MASK	((UINT64_C(1) << SEQ_BITS) - 1)

static inline uint64_t
encode(int p, uint64_t s)
{
	return ((uint64_t)(p + 1) << SEQ_BITS) | s;
}

/* mix is SplitMix64's finalizer: a checksum term per message. */
static inline uint64_t
mix(uint64_t z)
{
	z += UINT64_C(0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* One consumer's tally, on its own lines. */
struct tally {
	alignas(CACHELINE) uint64_t sum;
	uint64_t	count;
	uint64_t	bad;		/* messages out of range or order */
	uint64_t	first_bad;	/* the first such message */
	int64_t		last[MAXTHREADS];
};

struct run {
	const struct workload *w;
	const struct contender *c;
	void		*q[NSELECT];
	int		 nq;
	int		 P, C;
	uint64_t	 n;		/* messages, round trips or acquisitions */
	size_t		 fill;		/* K_SEQ: elements per fill */
	bool		 batch;		/* use sendn/recvn */
	bool		 ordered;	/* per-producer order must hold */
	pthread_barrier_t start;
	int		 cpu;		/* one_cpu: the CPU both threads use */
	_Atomic double	 t0;		/* the clock as the first thread starts */
	alignas(CACHELINE) atomic_uint_fast64_t remaining; /* batch claims */
	alignas(CACHELINE) atomic_int holders;	/* K_TOKENS */
	atomic_int	 overbooked;
	struct tally	*tally;		/* one per consumer (or thread) */
};

/*
 * What a run's child lets its parent see while it runs: the tallies, and
 * how many producers have sent all their messages.  Mapped shared before
 * the runs fork, so that a parent that stops a run can tell a loss (every
 * producer done, the consumers short and getting nothing more) from a
 * contender that is only slow (see run_once).
 */
struct progress {
	alignas(CACHELINE) atomic_int producers_done;
	struct tally	 tally[MAXTHREADS];
};

static struct progress *progress;

struct targ {
	struct run	*r;
	int		 id;
};

static void
barrier_wait(pthread_barrier_t *b)
{
	int rc = pthread_barrier_wait(b);

	if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD)
		die("pthread_barrier_wait: %s", strerror(rc));
}

static double
now(void)
{
	struct timespec ts;

	CHECK_ERRNO(clock_gettime(CLOCK_MONOTONIC, &ts));
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * Every thread of a run waits here for the rest; the first one through
 * starts the clock, so that the timed interval does not hold the main
 * thread's waking them all (milliseconds for 32 threads on two CPUs).
 */
static void
start_line(struct run *r)
{
	double t, first = 0;

	barrier_wait(&r->start);
	t = now();
	while ((first == 0 || t < first) &&
	    !atomic_compare_exchange_weak(&r->t0, &first, t))
		continue;
}

/* count records one received message in t. */
static inline void
count(struct run *r, struct tally *t, uint64_t v)
{
	uint64_t p = (v >> SEQ_BITS) - 1, s = v & SEQ_MASK;

	t->sum += mix(v);
	t->count++;
	if (p >= (uint64_t)r->P || (r->ordered && (int64_t)s <= t->last[p])) {
		if (t->bad++ == 0)
			t->first_bad = v;
		return;
	}
	t->last[p] = (int64_t)s;
}

/* poll_send and poll_recv are select for contenders that have none. */
static int
poll_send(const struct contender *c, void **qs, int n, uint64_t v,
    unsigned *next)
{
	unsigned spins = 0;
	int i, j;

	for (;;) {
		for (i = 0; i < n; i++) {
			j = (int)((*next + (unsigned)i) % (unsigned)n);
			if (c->trysend(qs[j], v)) {
				*next = (unsigned)j + 1;
				return j;
			}
		}
		backoff(&spins);
	}
}

static int
poll_recv(const struct contender *c, void **qs, int n, uint64_t *v,
    unsigned *next)
{
	unsigned spins = 0;
	int i, j;

	for (;;) {
		for (i = 0; i < n; i++) {
			j = (int)((*next + (unsigned)i) % (unsigned)n);
			if (c->tryrecv(qs[j], v)) {
				*next = (unsigned)j + 1;
				return j;
			}
		}
		backoff(&spins);
	}
}

static void *
producer(void *arg)
{
	struct targ *a = arg;
	struct run *r = a->r;
	const struct contender *c = r->c;
	uint64_t per = r->n / (uint64_t)r->P, s, buf[BATCH];
	unsigned next = (unsigned)a->id;
	size_t k, i;

	start_line(r);
	if (r->batch) {
		for (s = 0; s < per; s += k) {
			k = per - s < BATCH ? (size_t)(per - s) : BATCH;
			for (i = 0; i < k; i++)
				buf[i] = encode(a->id, s + i);
			k = c->sendn(r->q[0], buf, k);
		}
		atomic_fetch_add(&progress->producers_done, 1);
		return NULL;
	}
	for (s = 0; s < per; s++) {
		uint64_t v = encode(a->id, s);

		if (lose_one && a->id == 0 && s == 0)
			continue;	/* a lost message, for make check */
		switch (r->w->kind) {
		case K_SELRX:
			c->send(r->q[a->id], v);
			break;
		case K_SELBOTH:
			if (c->select_send != NULL)
				c->select_send(r->q, r->nq, v);
			else
				poll_send(c, r->q, r->nq, v, &next);
			break;
		default:
			c->send(r->q[0], v);
			break;
		}
	}
	atomic_fetch_add(&progress->producers_done, 1);
	return NULL;
}

/* claim takes up to BATCH of the messages no batch consumer has claimed. */
static uint64_t
claim(struct run *r)
{
	uint_fast64_t cur, k;

	cur = atomic_load_explicit(&r->remaining, memory_order_relaxed);
	do {
		if (cur == 0)
			return 0;
		k = cur < BATCH ? cur : BATCH;
	} while (!atomic_compare_exchange_weak_explicit(&r->remaining, &cur,
	    cur - k, memory_order_relaxed, memory_order_relaxed));
	return k;
}

static void *
consumer(void *arg)
{
	struct targ *a = arg;
	struct run *r = a->r;
	const struct contender *c = r->c;
	struct tally *t = &r->tally[a->id];
	uint64_t per = r->n / (uint64_t)r->C, i, v, want, buf[BATCH];
	unsigned next = (unsigned)a->id;
	size_t k, j;

	start_line(r);
	if (r->batch) {
		/*
		 * Batch consumers share one total: a fixed quota each would
		 * let one consumer's batch take what another still waits for.
		 */
		while ((want = claim(r)) > 0) {
			while (want > 0) {
				k = c->recvn(r->q[0], buf, (size_t)want);
				for (j = 0; j < k; j++)
					count(r, t, buf[j]);
				want -= k;
			}
		}
		return NULL;
	}
	for (i = 0; i < per; i++) {
		switch (r->w->kind) {
		case K_SELRX:
		case K_SELBOTH:
			if (c->select_recv != NULL)
				c->select_recv(r->q, r->nq, &v);
			else
				poll_recv(c, r->q, r->nq, &v, &next);
			break;
		default:
			v = c->recv(r->q[0]);
			break;
		}
		count(r, t, v);
	}
	return NULL;
}

/* seq_thread fills the queue and drains it, again and again. */
static void *
seq_thread(void *arg)
{
	struct targ *a = arg;
	struct run *r = a->r;
	const struct contender *c = r->c;
	struct tally *t = &r->tally[0];
	uint64_t s, j, v, buf[BATCH];
	size_t k, i;

	start_line(r);
	for (s = 0; s < r->n; s += r->fill) {
		if (r->batch) {
			for (j = 0; j < r->fill; j += k) {
				k = r->fill - j < BATCH ? r->fill - j : BATCH;
				for (i = 0; i < k; i++)
					buf[i] = encode(0, s + j + i);
				k = c->sendn(r->q[0], buf, k);
			}
			for (j = 0; j < r->fill; j += k) {
				k = r->fill - j < BATCH ? r->fill - j : BATCH;
				k = c->recvn(r->q[0], buf, k);
				for (i = 0; i < k; i++)
					count(r, t, buf[i]);
			}
			continue;
		}
		for (j = 0; j < r->fill; j++)
			c->send(r->q[0], encode(0, s + j));
		for (j = 0; j < r->fill; j++) {
			v = c->recv(r->q[0]);
			count(r, t, v);
		}
	}
	return NULL;
}

/*
 * pingpong_onecpu: each thread moves itself onto r->cpu, the way the
 * scheduler sometimes stacks a pair on one CPU of several.  The process
 * may still use every CPU, so the contenders cannot tell from its mask.
 */
static void
share_cpu(const struct run *r)
{
	cpu_set_t set;

	if (!r->w->one_cpu)
		return;
	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	CHECK_RC(pthread_setaffinity_np(pthread_self(), sizeof(set), &set));
}

/* ping sends i and waits for it to come back; pong echoes. */
static void *
ping(void *arg)
{
	struct targ *a = arg;
	struct run *r = a->r;
	const struct contender *c = r->c;
	struct tally *t = &r->tally[0];
	uint64_t i, v;

	share_cpu(r);
	start_line(r);
	for (i = 0; i < r->n; i++) {
		c->send(r->q[0], encode(0, i));
		v = c->recv(r->q[1]);
		if (v != encode(0, i) && t->bad++ == 0)
			t->first_bad = v;
		count(r, t, v);
	}
	return NULL;
}

static void *
pong(void *arg)
{
	struct targ *a = arg;
	struct run *r = a->r;
	const struct contender *c = r->c;
	uint64_t i, v;

	share_cpu(r);
	start_line(r);
	for (i = 0; i < r->n; i++) {
		v = c->recv(r->q[0]);
		c->send(r->q[1], v);
	}
	return NULL;
}

static void
busy(uint64_t iters)
{
	uint64_t i;

	for (i = 0; i < iters; i++)
		__asm__ __volatile__("" ::: "memory");
}

/*
 * token_thread takes a token, checks that no more threads hold one than
 * there are tokens, works ~WORK_NS, and gives the token back.
 */
static void *
token_thread(void *arg)
{
	struct targ *a = arg;
	struct run *r = a->r;
	const struct contender *c = r->c;
	struct tally *t = &r->tally[a->id];
	uint64_t per = r->n / (uint64_t)r->C, i, v;
	int held;

	start_line(r);
	for (i = 0; i < per; i++) {
		v = c->recv(r->q[0]);
		held = atomic_fetch_add_explicit(&r->holders, 1,
		    memory_order_relaxed) + 1;
		if (held > r->P)
			atomic_store_explicit(&r->overbooked, held,
			    memory_order_relaxed);
		if (!(c->flags & C_TOKENONLY) &&
		    (v < 1 || v > (uint64_t)r->P) && t->bad++ == 0)
			t->first_bad = v;
		busy(work_iters);
		atomic_fetch_sub_explicit(&r->holders, 1, memory_order_relaxed);
		c->send(r->q[0], v);
		t->count++;
	}
	return NULL;
}

static double
cpu_now(void)
{
	struct rusage ru;

	CHECK_ERRNO(getrusage(RUSAGE_SELF, &ru));
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static void
on_alarm(int sig)
{
	static const char msg[] = "bench: FATAL: watchdog: run hung: ";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	(void)!write(2, current_cell, strlen(current_cell));
	(void)!write(2, "\n", 1);
	_exit(1);
}

struct sample {
	double		secs;
	double		cpu;
	uint64_t	msgs;	/* messages moved (2 per round trip) */
};

static int
nthreads_of(const struct workload *w)
{
	switch (w->kind) {
	case K_SEQ:
		return 1;
	case K_PINGPONG:
		return 2;
	case K_TOKENS:
		return w->consumers;
	default:
		return w->producers + w->consumers;
	}
}

/*
 * run_child runs w at capacity cap on c with n units of work, and checks;
 * it runs in a child process of its own (see run_once).
 */
static void
run_child(const struct workload *w, size_t cap, const struct contender *c,
    uint64_t n, struct sample *out)
{
	struct run r;
	struct targ args[MAXTHREADS];
	pthread_t tids[MAXTHREADS];
	int nt = nthreads_of(w), i, ntally;
	uint64_t sum = 0, cnt = 0, bad = 0, first_bad = 0, expect = 0, v, s;
	double t0, t1, c0, c1;

	if (nt > MAXTHREADS)
		die("%s: %d threads", w->name, nt);
	alarm(watchdog_seconds);
	memset(&r, 0, sizeof(r));
	r.w = w;
	r.c = c;
	r.P = w->producers;
	r.C = w->consumers;
	r.n = n;
	r.batch = c->sendn != NULL;
	r.ordered = w->kind != K_SELBOTH;
	if (w->one_cpu) {
		cpu_set_t set;

		if (sched_getaffinity(0, sizeof(set), &set) != 0)
			die("sched_getaffinity: %s", strerror(errno));
		for (r.cpu = 0; !CPU_ISSET(r.cpu, &set); r.cpu++)
			continue;
	}
	r.nq = w->kind == K_SELRX || w->kind == K_SELBOTH ? NSELECT :
	    w->kind == K_PINGPONG ? 2 : 1;
	for (i = 0; i < r.nq; i++)
		r.q[i] = c->create(cap);
	atomic_init(&r.t0, 0);
	atomic_init(&r.remaining, n);
	atomic_init(&r.holders, 0);
	atomic_init(&r.overbooked, 0);
	ntally = w->kind == K_TOKENS ? w->consumers : w->kind == K_FLOW ||
	    w->kind == K_SELRX || w->kind == K_SELBOTH ? w->consumers : 1;
	memset(progress, 0, sizeof(*progress));
	r.tally = progress->tally;
	for (i = 0; i < ntally; i++)
		memset(r.tally[i].last, 0xff, sizeof(r.tally[i].last));
	if (w->kind == K_SEQ) {
		r.fill = c->capacity(r.q[0]);
		if (r.fill > cap)
			r.fill = cap;
		if (r.fill == 0 || n % r.fill != 0)
			die("seq: n %llu is no multiple of fill %zu",
			    (unsigned long long)n, r.fill);
	}
	if (w->kind == K_TOKENS) {
		r.P = w->producers;	/* tokens */
		for (v = 1; v <= (uint64_t)r.P; v++)
			c->send(r.q[0], v);
	}
	CHECK_RC(pthread_barrier_init(&r.start, NULL, (unsigned)nt + 1));
	for (i = 0; i < nt; i++) {
		void *(*fn)(void *);

		args[i].r = &r;
		switch (w->kind) {
		case K_SEQ:
			fn = seq_thread;
			args[i].id = 0;
			break;
		case K_PINGPONG:
			fn = i == 0 ? ping : pong;
			args[i].id = 0;
			break;
		case K_TOKENS:
			fn = token_thread;
			args[i].id = i;
			break;
		default:
			fn = i < r.P ? producer : consumer;
			args[i].id = i < r.P ? i : i - r.P;
			break;
		}
		CHECK_RC(pthread_create(&tids[i], NULL, fn, &args[i]));
	}
	/*
	 * The CPU time starts before the threads are woken (about 1.2 ms for
	 * 32 threads, against the 240 ms two CPUs give a run of 0.12 s); the
	 * clock, as the first of them starts (start_line).
	 */
	c0 = cpu_now();
	barrier_wait(&r.start);
	for (i = 0; i < nt; i++)
		CHECK_RC(pthread_join(tids[i], NULL));
	t1 = now();
	c1 = cpu_now();
	t0 = atomic_load(&r.t0);
	CHECK_RC(pthread_barrier_destroy(&r.start));

	/* Verify: every message exactly once, nothing left behind. */
	for (i = 0; i < ntally; i++) {
		sum += r.tally[i].sum;
		cnt += r.tally[i].count;
		if (r.tally[i].bad > 0 && bad++ == 0)
			first_bad = r.tally[i].first_bad;
	}
	if (bad > 0)
		die("%s: a message out of range or order: %#llx (producer "
		    "thread %lld, seq %llu)", current_cell,
		    (unsigned long long)first_bad,
		    (long long)(first_bad >> SEQ_BITS) - 1,
		    (unsigned long long)(first_bad & SEQ_MASK));
	if (cnt != n)
		die("%s: %llu received, %llu sent", current_cell,
		    (unsigned long long)cnt, (unsigned long long)n);
	if (w->kind == K_TOKENS) {
		uint64_t seen = 0, idsum = 0;

		if (atomic_load(&r.overbooked) != 0)
			die("%s: %d threads held one of %d tokens at once",
			    current_cell, atomic_load(&r.overbooked), r.P);
		while (c->tryrecv(r.q[0], &v)) {
			seen++;
			idsum += v;
			if (seen > (uint64_t)r.P)
				break;
		}
		if (seen != (uint64_t)r.P || (!(c->flags & C_TOKENONLY) &&
		    idsum != (uint64_t)r.P * (uint64_t)(r.P + 1) / 2))
			die("%s: %llu tokens came back of %d",
			    current_cell, (unsigned long long)seen, r.P);
		for (v = 1; v <= (uint64_t)r.P; v++)
			c->send(r.q[0], v);	/* so the mutex is unlocked */
	} else {
		int nprod = w->kind == K_SEQ || w->kind == K_PINGPONG ? 1 :
		    r.P;
		uint64_t per = w->kind == K_SEQ || w->kind == K_PINGPONG ? n :
		    n / (uint64_t)r.P;

		for (i = 0; i < nprod; i++)
			for (s = 0; s < per; s++)
				expect += mix(encode(i, s));
		if (sum != expect)
			die("%s: checksum mismatch: got %016llx, want %016llx",
			    current_cell, (unsigned long long)sum,
			    (unsigned long long)expect);
		for (i = 0; i < r.nq; i++)
			if (c->tryrecv(r.q[i], &v))
				die("%s: queue %d not empty after the run",
				    current_cell, i);
	}
	for (i = 0; i < r.nq; i++)
		c->destroy(r.q[i]);
	alarm(0);
	out->secs = t1 - t0;
	out->cpu = c1 - c0;
	out->msgs = w->kind == K_PINGPONG ? 2 * n : n;
}

enum { RUN_OK, RUN_TIMEOUT };

/* What the consumers of the running child have received so far. */
static uint64_t
received(void)
{
	uint64_t got = 0;
	int i;

	for (i = 0; i < MAXTHREADS; i++)
		got += __atomic_load_n(&progress->tally[i].count,
		    __ATOMIC_RELAXED);
	return got;
}

static void
stop_child(pid_t pid)
{
	int status;

	if (kill(pid, SIGKILL) != 0)
		die("kill: %s", strerror(errno));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
}

/*
 * run_once runs one run in a child process, so that a contender that
 * cannot finish (ck_ring's producers wait for each other in ticket order,
 * spinning without yielding; with more producers than CPUs one preempted
 * producer can stall the rest for a scheduler slice per message) can be
 * stopped and reported instead of stopping the benchmark, and so that
 * getrusage sees that run's threads alone.  A contender that spins gets
 * spin_limit seconds and then counts as not finished (RUN_TIMEOUT: left
 * out of the medians); one that blocks must finish before the watchdog,
 * or the benchmark fails.  Either way, once a second, where producers and
 * consumers are apart: if every producer had sent all it had to a second
 * ago and the consumers have received nothing since, short of n, messages
 * were lost, and the benchmark fails at once (a stalled contender has
 * producers still sending).
 */
static int
run_once(const struct workload *w, size_t cap, const struct contender *c,
    uint64_t n, struct sample *out)
{
	struct pollfd pfd;
	double limit = c->flags & C_SPINS ? spin_limit : watchdog_seconds;
	bool flow = w->kind == K_FLOW || w->kind == K_SELRX ||
	    w->kind == K_SELBOTH;
	uint64_t got = 0, got_before;
	ssize_t nread;
	pid_t pid;
	int fds[2], rc, status, done = 0, done_before, waited_ms = 0, step;

	if (pipe(fds) != 0)
		die("pipe: %s", strerror(errno));
	if (fflush(NULL) != 0)
		die("fflush: %s", strerror(errno));
	if ((pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		struct sample s;

		(void)close(fds[0]);
		run_child(w, cap, c, n, &s);
		if (write(fds[1], &s, sizeof(s)) != (ssize_t)sizeof(s))
			die("write to the parent: %s", strerror(errno));
		_exit(0);
	}
	(void)close(fds[1]);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	for (;;) {
		step = (int)(limit * 1000) - waited_ms;
		if (step > 1000)
			step = 1000;
		if ((rc = poll(&pfd, 1, step)) < 0) {
			if (errno != EINTR)
				die("poll: %s", strerror(errno));
			continue;
		}
		if (rc > 0)
			break;
		waited_ms += step;
		got_before = got;
		done_before = done;
		got = received();
		done = atomic_load(&progress->producers_done);
		if (flow && done_before == w->producers && got == got_before &&
		    got < n) {
			stop_child(pid);
			die("%s: lost %llu of %llu messages: every producer "
			    "had sent all of its own, and the consumers "
			    "received nothing more in a second", current_cell,
			    (unsigned long long)(n - got),
			    (unsigned long long)n);
		}
		if (waited_ms < (int)(limit * 1000))
			continue;
		stop_child(pid);
		if (!(c->flags & C_SPINS))
			die("%s: hung for %.0f s (%llu of %llu messages "
			    "received)", current_cell, limit,
			    (unsigned long long)got, (unsigned long long)n);
		(void)close(fds[0]);
		printf("  (%s did not finish in %.0f s: left out of the "
		    "medians; %llu of %llu received", current_cell, limit,
		    (unsigned long long)got, (unsigned long long)n);
		if (flow)
			printf(", %d of %d producers done", done, w->producers);
		printf(")\n");
		unfinished++;
		return RUN_TIMEOUT;
	}
	nread = read(fds[0], out, sizeof(*out));
	(void)close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    nread != (ssize_t)sizeof(*out))
		die("%s: the run failed (status %#x)", current_cell, status);
	return RUN_OK;
}

static bool
in_list(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p = list;

	if (list == NULL)
		return true;
	while ((p = strstr(p, name)) != NULL) {
		if ((p == list || p[-1] == ',') &&
		    (p[len] == '\0' || p[len] == ','))
			return true;
		p += len;
	}
	return false;
}

static bool
eligible(const struct workload *w, size_t cap, const struct contender *c)
{
	bool batch = c->sendn != NULL;

	char capname[32];

	snprintf(capname, sizeof(capname), "%zu", cap);
	if (!in_list(opt_contenders, c->name) || !in_list(opt_caps, capname))
		return false;
	if (cap == 0 && !(c->flags & C_RENDEZVOUS))
		return false;
	if (c->flags & C_TOKENONLY)
		return w->kind == K_TOKENS &&
		    (c != &contender_mutex || w->producers == 1);
	if (batch)
		return w->kind == K_SEQ || w->kind == K_FLOW;
	return true;
}

static uint64_t
granule(const struct workload *w, size_t fill)
{
	uint64_t a, b, t;

	switch (w->kind) {
	case K_SEQ:
		return fill;
	case K_PINGPONG:
		return 1;
	case K_TOKENS:
		return (uint64_t)w->consumers;
	default:
		a = (uint64_t)w->producers;
		b = (uint64_t)w->consumers;
		while (b != 0) {
			t = a % b;
			a = b;
			b = t;
		}
		return (uint64_t)w->producers * (uint64_t)w->consumers / a;
	}
}

static uint64_t
round_to(double x, uint64_t g)
{
	uint64_t n = (uint64_t)(x / (double)g + 0.5) * g;

	return n < g ? g : n;
}

/*
 * size_run finds the message count that makes one run of c last about
 * opt_target seconds, from runs of its own (each in a fresh process, as
 * every run is: nothing is warmed up for the timed runs).
 */
static uint64_t
size_run(const struct workload *w, size_t cap, const struct contender *c,
    uint64_t g)
{
	struct sample s;
	uint64_t n = round_to(w->kind == K_PINGPONG || w->kind == K_TOKENS ?
	    64 : 256, g);
	double grow;

	if (opt_quick)
		return round_to(w->kind == K_PINGPONG ? 50 : 256, g);
	for (;;) {
		if (run_once(w, cap, c, n, &s) != RUN_OK)
			return 0;
		if (s.secs >= opt_target / 4)
			break;
		grow = s.secs > 0 ? opt_target / s.secs : 16;
		if (grow > 16)
			grow = 16;
		n = round_to((double)n * grow, g);
	}
	return round_to((double)n * opt_target / s.secs, g);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
csv_row(const struct workload *w, size_t cap, const struct contender *c,
    int run, const char *status, uint64_t n, const struct sample *s)
{
	double secs = s != NULL ? s->secs : 0, cpu = s != NULL ? s->cpu : 0;
	uint64_t msgs = s != NULL ? s->msgs : n;

	if (fprintf(csv, "%s,%zu,%s,%d,%d,%d,%d,%s,%llu,%.6f,%.6f,%.1f,%.2f,"
	    "%.1f\n", w->name, cap, c->name, w->producers, w->consumers,
	    nthreads_of(w), run, status, (unsigned long long)msgs, secs, cpu,
	    s != NULL ? (double)msgs / secs : 0.0,
	    s != NULL ? cpu * 1e9 / (double)msgs : 0.0,
	    s != NULL && w->kind == K_PINGPONG ?
	    secs * 1e9 / (double)(msgs / 2) : 0.0) < 0)
		die("writing the CSV: %s", strerror(errno));
}

/*
 * run_cell runs every eligible contender on w at each of the ncaps
 * capacities, all interleaved (ping-pong runs its capacities 0 and 1 as
 * one cell: libchan at capacity 0 is held against the lock-free queues at
 * capacity 1, and those must come from the same minutes of the machine).
 * A contender that did not finish a run (RUN_TIMEOUT) is not run again in
 * this cell: its remaining runs are recorded as skipped, and the medians
 * are over the runs that finished.
 */
static void
run_cell(const struct workload *w, const size_t *caps, int ncaps)
{
	const struct contender *cs[NCONTENDERS * MAXCAPS];
	size_t ecap[NCONTENDERS * MAXCAPS], cap;
	uint64_t ns[NCONTENDERS * MAXCAPS];
	bool dnf[NCONTENDERS * MAXCAPS];
	double *mps, *cpu;
	int nc = 0, i, j, k, ncpu;
	struct sample s;

	for (j = 0; j < ncaps; j++) {
		for (i = 0; i < (int)NCONTENDERS; i++) {
			if (eligible(w, caps[j], contenders[i])) {
				ecap[nc] = caps[j];
				cs[nc++] = contenders[i];
			}
		}
	}
	if (nc == 0)
		return;
	mps = calloc((size_t)(nc * opt_runs), sizeof(double));
	cpu = calloc((size_t)(nc * opt_runs), sizeof(double));
	if (mps == NULL || cpu == NULL)
		die("calloc: %s", strerror(errno));
	for (i = 0; i < nc; i++) {
		void *q;
		size_t fill;

		cap = ecap[i];
		q = cs[i]->create(cap);
		fill = cs[i]->capacity(q);
		cs[i]->destroy(q);
		if (fill > cap)
			fill = cap;
		snprintf(current_cell, sizeof(current_cell),
		    "%s %dx%d cap %zu %s (sizing)", w->name, w->producers,
		    w->consumers, cap, cs[i]->name);
		ns[i] = size_run(w, cap, cs[i], granule(w, fill));
		dnf[i] = ns[i] == 0;
	}
	for (k = 0; k < opt_runs; k++) {
		for (i = 0; i < nc; i++) {
			cap = ecap[i];
			snprintf(current_cell, sizeof(current_cell),
			    "%s %dx%d cap %zu %s run %d", w->name,
			    w->producers, w->consumers, cap, cs[i]->name, k);
			if (dnf[i]) {
				csv_row(w, cap, cs[i], k, "skipped", ns[i],
				    NULL);
				continue;
			}
			if (run_once(w, cap, cs[i], ns[i], &s) != RUN_OK) {
				dnf[i] = true;
				csv_row(w, cap, cs[i], k, "timeout", ns[i],
				    NULL);
				continue;
			}
			csv_row(w, cap, cs[i], k, "ok", ns[i], &s);
			mps[i * opt_runs + k] = (double)s.msgs / s.secs;
			cpu[i * opt_runs + k] = s.cpu * 1e9 / (double)s.msgs;
		}
	}
	if (fflush(csv) != 0)
		die("writing the CSV: %s", strerror(errno));
	for (i = 0; i < nc; i++) {
		double m, cn;

		cap = ecap[i];
		/* Medians over the runs that finished. */
		for (k = ncpu = 0; k < opt_runs; k++)
			if (mps[i * opt_runs + k] > 0) {
				mps[i * opt_runs + ncpu] = mps[i * opt_runs + k];
				cpu[i * opt_runs + ncpu++] =
				    cpu[i * opt_runs + k];
			}
		m = ncpu > 0 ? median(&mps[i * opt_runs], ncpu) : 0;
		cn = ncpu > 0 ? median(&cpu[i * opt_runs], ncpu) : 0;
		if (m == 0)
			printf("%-12s %2dx%-2d cap %4zu  %-14s did not finish\n",
			    w->name, w->producers, w->consumers, cap,
			    cs[i]->name);
		else if (w->kind == K_PINGPONG)
			printf("%-12s %2dx%-2d cap %4zu  %-14s %8.0f ns/round "
			    "trip  %7.1f cpu ns/msg\n", w->name, w->producers,
			    w->consumers, cap, cs[i]->name, 2e9 / m, cn);
		else
			printf("%-12s %2dx%-2d cap %4zu  %-14s %8.2f M/s  "
			    "%7.1f cpu ns/msg\n", w->name, w->producers,
			    w->consumers, cap, cs[i]->name, m / 1e6, cn);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		die("writing the output: %s", strerror(errno));
	free(mps);
	free(cpu);
}

/* calibrate_work sets work_iters so busy(work_iters) takes ~WORK_NS. */
static void
calibrate_work(void)
{
	uint64_t iters = 1000000;
	double t;

	for (;;) {
		t = now();
		busy(iters);
		t = now() - t;
		if (t > 0.02 || opt_quick)
			break;
		iters *= 4;
	}
	work_iters = (uint64_t)((double)iters * WORK_NS * 1e-9 / t);
	if (work_iters == 0)
		work_iters = 1;
}

static void
write_meta(void)
{
	FILE *f;

	if (opt_meta == NULL)
		return;
	if ((f = fopen(opt_meta, "w")) == NULL)
		die("%s: %s", opt_meta, strerror(errno));
#ifdef __clang__
	fprintf(f, "compiler: clang %s\n", __clang_version__);
#elif defined(__GNUC__)
	fprintf(f, "compiler: gcc %s\n", __VERSION__);
#endif
	fprintf(f, "runs: %d\n", opt_runs);
	fprintf(f, "target_seconds: %.3f\n", opt_target);
	fprintf(f, "batch: %d\n", BATCH);
	fprintf(f, "work_ns: %d\n", WORK_NS);
	fprintf(f, "work_iters: %llu\n", (unsigned long long)work_iters);
	fprintf(f, "spin_before_yield: %d\n", SPIN_BEFORE_YIELD);
	fprintf(f, "spin_limit_seconds: %.0f\n", spin_limit);
	if (ferror(f) || fclose(f) != 0)
		die("%s: %s", opt_meta, strerror(errno));
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	const char *e;
	const int *sweep;
	int ch, nsweep, i, j;

	if ((e = getenv("RUNS")) != NULL && *e != '\0')
		opt_runs = atoi(e);
	if ((e = getenv("BENCH_QUICK")) != NULL && strcmp(e, "1") == 0)
		opt_quick = true;
	if ((e = getenv("BENCH_LOSE_ONE")) != NULL && strcmp(e, "1") == 0)
		lose_one = true;
	if ((e = getenv("FULL")) != NULL && strcmp(e, "1") == 0)
		opt_full = true;
	while ((ch = getopt(argc, argv, "qFr:t:o:m:w:c:C:")) != -1) {
		switch (ch) {
		case 'q': opt_quick = true; break;
		case 'F': opt_full = true; break;
		case 'r': opt_runs = atoi(optarg); break;
		case 't': opt_target = atof(optarg); break;
		case 'o': opt_csv = optarg; break;
		case 'm': opt_meta = optarg; break;
		case 'w': opt_workloads = optarg; break;
		case 'c': opt_contenders = optarg; break;
		case 'C': opt_caps = optarg; break;
		default:
			fprintf(stderr, "usage: bench [-qF] [-r runs] "
			    "[-t seconds] [-o csv] [-m meta] [-w workloads] "
			    "[-c contenders] [-C capacities]\n");
			return 2;
		}
	}
	/*
	 * A quick run is make check's test of the driver and its checks: its
	 * counts are tiny, so a spinning contender gets until the watchdog,
	 * like any other, and every run is checked.  With spin_limit, a
	 * machine busy enough (other jobs beside make check, or qemu-user
	 * running an aarch64 build) stopped ck_ring's 256 messages at 8x8
	 * and 16x16 in 3 s, and bench_quick.sh failed.
	 */
	if (opt_quick) {
		opt_runs = 1;
		spin_limit = watchdog_seconds;
	}
	if (opt_runs < 1 || opt_target <= 0)
		die("bad -r or -t");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	CHECK_ERRNO(sigaction(SIGALRM, &sa, NULL));
	if (opt_csv == NULL)
		csv = fopen("/dev/null", "w");
	else
		csv = fopen(opt_csv, "w");
	if (csv == NULL)
		die("%s: %s", opt_csv ? opt_csv : "/dev/null", strerror(errno));
	if (fprintf(csv, "workload,cap,contender,producers,consumers,threads,"
	    "run,status,messages,seconds,cpu_seconds,msgs_per_s,"
	    "cpu_ns_per_msg,"
	    "rtt_ns\n") < 0)
		die("writing the CSV: %s", strerror(errno));
	progress = mmap(NULL, sizeof(*progress), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (progress == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	calibrate_work();
	write_meta();
	printf("bench: %d run(s) per contender, ~%.2f s each%s; %s\n",
	    opt_runs, opt_target, opt_quick ? " (quick: tiny counts)" : "",
#ifdef BENCH_TSAN
	    "ck_ring left out under TSan (its atomics are inline asm)"
#else
	    "all contenders"
#endif
	    );
	for (i = 0; i < (int)NWORKLOADS; i++) {
		if (!in_list(opt_workloads, workloads[i].name))
			continue;
		if (workloads[i].kind == K_PINGPONG) {
			run_cell(&workloads[i], workloads[i].caps,
			    workloads[i].ncaps);
			continue;
		}
		for (j = 0; j < workloads[i].ncaps; j++)
			run_cell(&workloads[i], &workloads[i].caps[j], 1);
	}
	if (in_list(opt_workloads, "sweep")) {
		sweep = opt_full ? sweep_full : sweep_quick;
		nsweep = opt_full ? (int)(sizeof(sweep_full) / sizeof(int)) :
		    (int)(sizeof(sweep_quick) / sizeof(int));
		for (i = 0; i < nsweep; i++) {
			struct workload w = { "sweep", K_FLOW, sweep[i],
			    sweep[i], { 1024 }, 1, false };

			run_cell(&w, w.caps, 1);
		}
	}
	if (fclose(csv) != 0)
		die("closing the CSV: %s", strerror(errno));
	if (unfinished > 0)
		printf("bench: %d run(s) did not finish and were not checked; "
		    "every other run delivered every message exactly once\n",
		    unfinished);
	else
		printf("bench: every run delivered every message exactly "
		    "once\n");
	return 0;
}
