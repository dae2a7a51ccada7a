/*
 * pipeline: two ways to chain threads with channels.
 *
 * 1. The prime sieve: a generator sends 2, 3, 4, ... down an unbuffered
 *    channel; each prime found gets a thread of its own that filters its
 *    multiples out of the stream and passes the rest on.  The main thread
 *    reads the head of the chain; every number it reads is the next prime.
 *
 * 2. Fan-out, fan-in in order: a producer tags jobs with sequence numbers,
 *    several workers compute them in any order, and a collector puts the
 *    results back in input order.  A semaphore channel of WINDOW tokens
 *    bounds the jobs in flight, so the reorder buffer needs WINDOW slots.
 *
 *	pipeline [nprimes [nworkers]]
 *
 * Exits 0 if the primes and the ordered results are right, 1 otherwise.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"

#define MAXPRIMES	200
#define NJOBS		2000
#define WINDOW		64	/* jobs in flight, and reorder slots */

static void
die(const char *what, int error)
{
	fprintf(stderr, "pipeline: %s: %s\n", what, strerror(error));
	exit(1);
}

static chan_t *
make_chan(size_t elem_size, size_t capacity)
{
	chan_t *ch;

	if ((ch = chan_create(elem_size, capacity, CHAN_BLOCK)) == NULL)
		die("chan_create", errno);
	return ch;
}

static void
spawn(pthread_t *tid, void *(*fn)(void *), void *arg)
{
	int error;

	if ((error = pthread_create(tid, NULL, fn, arg)) != 0)
		die("pthread_create", error);
}

static void
join(pthread_t tid)
{
	int error;

	if ((error = pthread_join(tid, NULL)) != 0)
		die("pthread_join", error);
}

/* Part 1: the prime sieve. */

/*
 * Shutting the chain down: every channel is closed by its receiver.  A
 * sender blocked on a closed channel gets EPIPE, closes its own input and
 * returns, so one chan_close by the main thread unwinds the whole chain
 * back to the generator.
 */

static void *
generate(void *arg)
{
	chan_t *out = arg;
	int n;

	for (n = 2; n < 1000000; n++)	/* bounded, in case nobody closes */
		if (chan_send(out, &n) != 0)
			break;		/* EPIPE: the reader has gone */
	(void)chan_close(out);		/* ran out: downstream sees EPIPE */
	return NULL;
}

struct filter {
	chan_t	*in, *out;
	int	 prime;
};

static void *
filter(void *arg)
{
	struct filter *f = arg;
	int n;

	while (chan_recv(f->in, &n) == 0)
		if (n % f->prime != 0 && chan_send(f->out, &n) != 0)
			break;		/* EPIPE: downstream has gone */
	chan_close(f->in);		/* tell upstream to stop */
	return NULL;
}

static bool
is_prime(int n)
{
	int d;

	for (d = 2; d * d <= n; d++)
		if (n % d == 0)
			return false;
	return n >= 2;
}

static int
run_sieve(int nprimes)
{
	struct filter filters[MAXPRIMES];
	pthread_t gen, tids[MAXPRIMES];
	chan_t *chans[MAXPRIMES + 1];
	int error, expect, i, p, status = 0;

	/* chans[i] carries the numbers that survived the first i primes. */
	chans[0] = make_chan(sizeof(int), 0);
	spawn(&gen, generate, chans[0]);

	printf("sieve:");
	for (i = 0, expect = 2; i < nprimes; i++, expect++) {
		if ((error = chan_recv(chans[i], &p)) != 0)
			die("chan_recv", error);
		while (!is_prime(expect))
			expect++;
		if (p != expect) {
			fprintf(stderr, "\nsieve: prime %d is %d, not %d\n",
			    i + 1, p, expect);
			status = 1;
		}
		printf(" %d", p);

		/* p is prime: a new stage drops its multiples. */
		chans[i + 1] = make_chan(sizeof(int), 0);
		filters[i].in = chans[i];
		filters[i].out = chans[i + 1];
		filters[i].prime = p;
		spawn(&tids[i], filter, &filters[i]);
	}
	printf("\n");

	chan_close(chans[nprimes]);	/* unwinds the chain, see above */
	join(gen);
	for (i = 0; i < nprimes; i++)
		join(tids[i]);
	for (i = 0; i <= nprimes; i++)
		chan_destroy(chans[i]);
	printf("sieve: %d primes from %d threads, %s\n", nprimes,
	    nprimes + 1, status == 0 ? "checked" : "WRONG");
	return status;
}

/* Part 2: fan-out to workers, fan-in in input order. */

struct job {
	int	seq;		/* position in the input */
	long	value;
};

struct result {
	int	seq;
	long	steps;
};

static chan_t *jobs, *results, *window;
static atomic_int workers_left;

/* The work: Collatz steps, which vary a lot from one value to the next. */
static long
collatz(long n)
{
	long steps = 0;

	while (n != 1) {
		n = n % 2 == 0 ? n / 2 : 3 * n + 1;
		steps++;
	}
	return steps;
}

static long
job_value(int seq)
{
	return 1 + (long)seq * 7919 % 100000;
}

static void *
produce(void *arg)
{
	struct job j;
	int error, seq;

	(void)arg;
	for (seq = 0; seq < NJOBS; seq++) {
		/* Wait for a free slot in the collector's reorder buffer. */
		if ((error = chan_recv(window, NULL)) != 0)
			die("chan_recv window", error);
		j.seq = seq;
		j.value = job_value(seq);
		if ((error = chan_send(jobs, &j)) != 0)
			die("chan_send jobs", error);
	}
	chan_close(jobs);		/* workers drain it, then stop */
	return NULL;
}

static void *
work(void *arg)
{
	struct job j;
	struct result r;
	int error;

	(void)arg;
	while (chan_recv(jobs, &j) == 0) {
		r.seq = j.seq;
		r.steps = collatz(j.value);
		if ((error = chan_send(results, &r)) != 0)
			die("chan_send results", error);
	}
	/* The last worker out closes results: then nothing more can come. */
	if (atomic_fetch_sub(&workers_left, 1) == 1)
		chan_close(results);
	return NULL;
}

static int
run_fan(int nworkers)
{
	struct result r, slot[WINDOW];
	pthread_t prod, tids[64];
	bool filled[WINDOW] = { false };
	int error, i, early = 0, next = 0, status = 0;

	jobs = make_chan(sizeof(struct job), 16);
	results = make_chan(sizeof(struct result), 16);
	window = make_chan(0, WINDOW);
	for (i = 0; i < WINDOW; i++)
		if ((error = chan_send(window, NULL)) != 0)
			die("chan_send window", error);

	atomic_store(&workers_left, nworkers);
	spawn(&prod, produce, NULL);
	for (i = 0; i < nworkers; i++)
		spawn(&tids[i], work, NULL);

	/*
	 * Collect.  At most WINDOW jobs are between the producer and here,
	 * all with seq in [next, next + WINDOW), so slot seq % WINDOW is free.
	 */
	while (chan_recv(results, &r) == 0) {
		if (r.seq < next || r.seq >= next + WINDOW ||
		    filled[r.seq % WINDOW])
			die("collector", EPROTO);
		if (r.seq != next)
			early++;
		slot[r.seq % WINDOW] = r;
		filled[r.seq % WINDOW] = true;
		/* Emit every result that is now next in line. */
		while (filled[next % WINDOW]) {
			filled[next % WINDOW] = false;
			if (slot[next % WINDOW].steps !=
			    collatz(job_value(next))) {
				fprintf(stderr, "fan: result %d wrong\n",
				    next);
				status = 1;
			}
			next++;
			if ((error = chan_send(window, NULL)) != 0)
				die("chan_send window", error);
		}
	}

	join(prod);
	for (i = 0; i < nworkers; i++)
		join(tids[i]);
	if (next != NJOBS) {
		fprintf(stderr, "fan: %d results of %d\n", next, NJOBS);
		status = 1;
	}
	chan_destroy(jobs);
	chan_destroy(results);
	chan_destroy(window);
	printf("fan: %d workers, %d results in input order (%d arrived "
	    "early and waited), %s\n", nworkers, next, early,
	    status == 0 ? "checked" : "WRONG");
	return status;
}

int
main(int argc, char *argv[])
{
	int nprimes = 50, nworkers = 4;

	if (argc > 1)
		nprimes = atoi(argv[1]);
	if (argc > 2)
		nworkers = atoi(argv[2]);
	if (argc > 3 || nprimes < 1 || nprimes > MAXPRIMES || nworkers < 1 ||
	    nworkers > 64) {
		fprintf(stderr, "usage: pipeline [nprimes [nworkers]] "
		    "(nprimes 1 to %d, nworkers 1 to 64)\n", MAXPRIMES);
		return 2;
	}
	if (run_sieve(nprimes) != 0 || run_fan(nworkers) != 0)
		return 1;
	printf("pipeline: ok\n");
	return 0;
}
