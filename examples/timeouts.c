/*
 * timeouts: deadlines, a quit channel and a broadcast.
 *
 * Four patterns a long-running program needs, each in a few lines:
 *
 *  1. A timed receive: wait for something, but not forever
 *     (chan_timedrecv).
 *  2. chan_timedselect with a deadline: submit jobs and collect results,
 *     whichever is possible first, and give up if the whole batch takes too
 *     long.  Deadlines are absolute CLOCK_MONOTONIC times, so one deadline
 *     bounds every wait of the loop; a retry never restarts the clock.
 *  3. A quit channel: nobody ever sends on it; closing it makes its receive
 *     case ready in every worker at once, however many there are.
 *  4. A broadcast for configuration updates: each worker has its own
 *     subscription and gets every update.  CHAN_SLIDE with capacity 1
 *     suits configuration: a worker that falls behind only needs the newest.
 *
 *	timeouts
 *
 * Runs in about 20 ms (it waits out two 10 ms timeouts).  Exits 0 if
 * everything behaved, 1 otherwise.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chan.h"

#define NWORKERS	4
#define NJOBS		20

struct config {
	int	scale;		/* a worker's result is job * scale */
};

static chan_t *jobs;		/* int: job numbers, main to workers */
static chan_t *results;		/* int: results, workers to main */
static chan_t *acks;		/* int: a worker's id once it applied a config */
static chan_t *quit;		/* no data: closed to stop every worker */
static chan_bcast_t *config;	/* struct config: main to every worker */

struct worker {
	pthread_t	 thread;
	int		 id;
	chan_t		*updates;	/* this worker's subscription to config */
};

/* Reports what went wrong, with the error number if there is one; exits. */
static void
die(const char *what, int error)
{
	if (error != 0)
		fprintf(stderr, "timeouts: %s: %s\n", what, strerror(error));
	else
		fprintf(stderr, "timeouts: %s\n", what);
	exit(1);
}

/* deadline_after returns the CLOCK_MONOTONIC time ms milliseconds from now. */
static struct timespec
deadline_after(long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += ms % 1000 * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* A worker waits for whichever comes first: quit, a new config, or a job. */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct config cfg = { 1 }, update;
	chan_t *updates = w->updates;
	struct chan_case cases[3];
	int error, job, result;

	for (;;) {
		cases[0] = (struct chan_case){ .ch = quit, .op = CHAN_RECV };
		cases[1] = (struct chan_case){ .ch = updates, .op = CHAN_RECV,
		    .elem = &update };
		cases[2] = (struct chan_case){ .ch = jobs, .op = CHAN_RECV,
		    .elem = &job };
		switch (chan_select(cases, 3)) {
		case 0:
			/* Only a close makes this case ready (err is EPIPE). */
			return NULL;
		case 1:
			if (cases[1].err == EPIPE) {
				/* No more updates; a NULL case is disabled. */
				updates = NULL;
				break;
			}
			cfg = update;
			if ((error = chan_send(acks, &w->id)) != 0)
				die("chan_send acks", error);
			break;
		case 2:
			if (cases[2].err == EPIPE)
				return NULL;
			result = job * cfg.scale;
			if ((error = chan_send(results, &result)) != 0)
				die("chan_send results", error);
			break;
		default:
			die("chan_select", errno);
		}
	}
}

int
main(int argc, char *argv[])
{
	struct worker workers[NWORKERS];
	struct config cfg = { 10 };
	struct chan_case cases[2];
	struct timespec deadline;
	int error, i, id, r, next, sent, got, sum;

	if (argc > 1) {
		fprintf(stderr, "usage: %s\n", argv[0]);
		return 2;
	}
	/*
	 * jobs and results are small on purpose: main both fills one and
	 * drains the other, which only a select (part 2) can do without
	 * deadlocking.
	 */
	if ((jobs = chan_create(sizeof(int), 4, CHAN_BLOCK)) == NULL ||
	    (results = chan_create(sizeof(int), 4, CHAN_BLOCK)) == NULL ||
	    (acks = chan_create(sizeof(int), NWORKERS, CHAN_BLOCK)) == NULL ||
	    (quit = chan_create(0, 0, CHAN_BLOCK)) == NULL ||
	    (config = chan_bcast_create(sizeof(struct config))) == NULL)
		die("create", errno);

	/* 1. A timed receive: no worker runs yet, so this gives up. */
	deadline = deadline_after(10);
	if ((error = chan_timedrecv(results, &r, &deadline)) != ETIMEDOUT)
		die("chan_timedrecv did not time out", error);	/* 0: got one */
	printf("timed receive: no result within 10 ms\n");

	/*
	 * 4. Subscribe, then publish two updates before any worker runs: as
	 * a worker that fell behind, each finds only the newest in its
	 * CHAN_SLIDE slot (CHAN_DROP would keep the stale first one, and
	 * CHAN_BLOCK would make the second send wait for the worker).
	 */
	for (i = 0; i < NWORKERS; i++) {
		workers[i].id = i;
		workers[i].updates = chan_bcast_subscribe(config, 1, CHAN_SLIDE);
		if (workers[i].updates == NULL)
			die("chan_bcast_subscribe", errno);
	}
	if ((error = chan_bcast_send(config, &(struct config){ 5 })) != 0 ||
	    (error = chan_bcast_send(config, &cfg)) != 0)
		die("chan_bcast_send", error);
	for (i = 0; i < NWORKERS; i++)
		if ((error = pthread_create(&workers[i].thread, NULL,
		    worker_main, &workers[i])) != 0)
			die("pthread_create", error);
	/* Each worker applies one update, the newest; wait 1 s at most. */
	deadline = deadline_after(1000);
	for (i = 0; i < NWORKERS; i++)
		if ((error = chan_timedrecv(acks, &id, &deadline)) != 0)
			die("waiting for the workers to apply the config", error);
	printf("config: %d workers use scale %d\n", NWORKERS, cfg.scale);

	/*
	 * 2. Submit jobs while collecting results, under one deadline for the
	 * whole batch.  Sending every job first could deadlock: workers
	 * blocked on a full results channel stop taking jobs.  Once every job
	 * is sent, the send case gets a NULL channel, which disables it.
	 */
	next = 1;
	sent = got = sum = 0;
	deadline = deadline_after(2000);
	while (got < NJOBS) {
		cases[0] = (struct chan_case){ .ch = sent < NJOBS ? jobs : NULL,
		    .op = CHAN_SEND, .elem = &next };
		cases[1] = (struct chan_case){ .ch = results, .op = CHAN_RECV,
		    .elem = &r };
		i = chan_timedselect(cases, 2, &deadline);
		if (i < 0)
			die("jobs not done within 2 s", errno);
		if (cases[i].err != 0)
			die("chan_timedselect case", cases[i].err);
		if (i == 0) {
			sent++;
			next++;
		} else {
			got++;
			sum += r;
		}
	}
	printf("results: %d jobs, sum %d\n", NJOBS, sum);

	/* The same select, now with nothing left to come: it times out. */
	cases[0] = (struct chan_case){ .ch = acks, .op = CHAN_RECV, .elem = &id };
	cases[1] = (struct chan_case){ .ch = results, .op = CHAN_RECV,
	    .elem = &r };
	deadline = deadline_after(10);
	if (chan_timedselect(cases, 2, &deadline) != -1)
		die("chan_timedselect did not time out", 0);
	if (errno != ETIMEDOUT)
		die("chan_timedselect", errno);
	printf("timed select: nothing more within 10 ms\n");

	/* 3. Stop every worker at once: a closed quit is ready for all. */
	if ((error = chan_close(quit)) != 0)
		die("chan_close quit", error);
	for (i = 0; i < NWORKERS; i++)
		if ((error = pthread_join(workers[i].thread, NULL)) != 0)
			die("pthread_join", error);
	printf("quit: %d workers stopped\n", NWORKERS);

	/*
	 * Tear down.  Unsubscribe returns once no broadcast send still
	 * delivers to the subscription; only then may it be destroyed.
	 */
	if ((error = chan_bcast_close(config)) != 0)
		die("chan_bcast_close", error);
	for (i = 0; i < NWORKERS; i++) {
		if ((error = chan_bcast_unsubscribe(config,
		    workers[i].updates)) != 0)
			die("chan_bcast_unsubscribe", error);
		chan_destroy(workers[i].updates);
	}
	chan_bcast_destroy(config);
	chan_destroy(jobs);
	chan_destroy(results);
	chan_destroy(acks);
	chan_destroy(quit);
	printf("timeouts: ok\n");
	return 0;
}
