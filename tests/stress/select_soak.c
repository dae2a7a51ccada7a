/*
 * select_soak: many threads each select over a random subset of 16
 * channels, for send and for receive, for a while; then every element must
 * have moved exactly once and no select may have completed two cases.
 *
 * A select has 2 to 8 channel cases, or now and then up to 100 (more than
 * fit on a select's stack), plus the stop case and sometimes a disabled
 * one.  Every send case carries a fresh ticket (thread, counter).  A thread
 * records a ticket as sent only when its select returned that case with
 * err 0, and a receive as received only from the case returned; every other
 * receive buffer must still hold its sentinel.  At the end (leftovers
 * drained from the buffered channels) the sent and received sets must be
 * equal: a ticket received but never reported sent means a select
 * completed a case it did not return, a ticket sent but never received is
 * a lost element.  Every select also waits on a "stop" channel, closed at
 * the end of each epoch: a receive case on a closed channel is ready (err
 * EPIPE), which is how the threads go on to the next epoch's, or leave
 * after the last.  Half way through, four of the 16 channels are closed:
 * their cases complete with EPIPE from then on, and nothing sent to them
 * may be lost or invented.
 *
 * At the end of each epoch the threads stop starting selects on the 16
 * channels, and those that wait there must wait for nothing that is
 * ready (see quiesce): a select that missed its wake-up would be woken by
 * the next operation on its channel, or by the close of stop, and would
 * go unnoticed.
 *
 * Quick by default; STRESS_FULL=1 runs longer.
 * Environment: STRESS_FULL, STRESS_SEED, STRESS_SECONDS, STRESS_SELECTS,
 * STRESS_THREADS, STRESS_EPOCHS, STRESS_STALL (the watchdog's seconds; a
 * select asleep beside a ready case for a quarter of them, with nothing
 * moving, missed its wake-up).
 */
#include "stress.h"

#define NCH		16
#define MAXCASES	102

static chan_t *chans[NCH];
static struct bitmap sent_bits, recv_bits;
static unsigned long tickets_per_thread;
static unsigned nthreads;
static atomic_ulong selects_done, moved, timeouts;
static const uint64_t sentinel = ~(uint64_t)0;

/* The last NCLOSE channels are closed half way through. */
#define NCLOSE		4
static atomic_int closed[NCH];
static atomic_ulong epipes;

/*
 * The current epoch's stop channel, stops[epoch]: closing it ends every
 * select waiting on it, and the threads go on with the next one, or leave
 * after the last (finished).  While draining, a thread's selects wait on
 * the stop channel alone.
 */
static chan_t **stops;
static _Atomic(chan_t *) stop;
static atomic_int draining, finished;
static unsigned long strand_s;

/*
 * Threads id >= active wait on the stop channel alone, as if draining:
 * every other epoch only a quarter of them run.  Many threads (more than
 * CPUs) leave selects asleep on most channels, where a lost wake-up
 * strands one more often, and a few show others more often: a select that
 * does not pass on a wake-up it did not use failed 6 to 8 of 10 quick
 * runs with 32 threads and 2 or 3 with 8, a locked pass that does not
 * wake the partner it completed 6 of 10 with 32 and 10 of 10 with 8.
 */
static atomic_uint active;

static int
is_closed(chan_t *ch)
{
	int i;

	for (i = 0; i < NCH; i++)
		if (chans[i] == ch)
			return atomic_load(&closed[i]);
	return 0;
}

/*
 * A thread.  In state WAITING (in a select without deadline), bit i of
 * recv_mask (send_mask) says that a case of that select receives from
 * (sends to) chans[i], and its stop case is on stop_ch.
 */
enum { RUNNING, WAITING, TIMED, LEFT };

struct worker {
	unsigned		 id;
	struct rng		 rng;
	unsigned long		 next_ticket;
	atomic_int		 state;
	atomic_uint		 recv_mask, send_mask;
	_Atomic(chan_t *)	 stop_ch;
};

static void
got_ticket(uint64_t t, const char *how)
{
	uint64_t thread = t >> 40, n = t & (((uint64_t)1 << 40) - 1);

	if (thread >= nthreads || n >= tickets_per_thread) {
		violation("select_soak: garbage ticket %llx (%s)",
		    (unsigned long long)t, how);
		return;
	}
	if (bitmap_tas(&recv_bits, thread * tickets_per_thread + n))
		violation("select_soak: ticket %llu/%llu received twice (%s)",
		    (unsigned long long)thread, (unsigned long long)n, how);
	atomic_fetch_add_explicit(&moved, 1, memory_order_relaxed);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct chan_case cs[MAXCASES];
	uint64_t buf[MAXCASES];
	struct timespec ts;
	chan_t *st;
	unsigned rm, sm, c;
	int i, n, k, nsend, nrecv, stop_at, form, drain;

	for (;;) {
		st = atomic_load(&stop);
		drain = atomic_load(&draining) || w->id >= atomic_load(&active);
		rm = sm = 0;
		/* Between 2 and 8 channel cases, at least one of each op. */
		n = 2 + (int)rng_below(&w->rng, 7);
		/* Now and then more cases than a select keeps on its stack. */
		if (rng_below(&w->rng, 64) == 0)
			n = 65 + (int)rng_below(&w->rng, MAXCASES - 66);
		/* Draining, the stop case alone (and maybe a disabled one). */
		if (drain)
			n = 0;
		nsend = nrecv = 0;
		stop_at = (int)rng_below(&w->rng, (uint32_t)n + 1);
		for (i = 0, k = 0; k < n + 1; k++) {
			if (k == stop_at) {
				buf[k] = sentinel;
				cs[k] = (struct chan_case){ st, CHAN_RECV,
				    &buf[k], -1 };
				continue;
			}
			int send;

			if (i == n - 1 && nsend == 0)
				send = 1;
			else if (i == n - 1 && nrecv == 0)
				send = 0;
			else
				send = (int)rng_below(&w->rng, 2);
			if (send && w->next_ticket >= tickets_per_thread)
				send = 0;
			i++;
			c = rng_below(&w->rng, NCH);
			cs[k].ch = chans[c];
			cs[k].err = -1;
			cs[k].elem = &buf[k];
			if (send) {
				buf[k] = (uint64_t)w->id << 40 |
				    w->next_ticket++;
				cs[k].op = CHAN_SEND;
				sm |= 1u << c;
				nsend++;
			} else {
				buf[k] = sentinel;
				cs[k].op = CHAN_RECV;
				rm |= 1u << c;
				nrecv++;
			}
		}
		/* Now and then a disabled case, which must never be chosen. */
		if (rng_below(&w->rng, 4) == 0) {
			cs[n + 1] = (struct chan_case){ NULL, CHAN_RECV,
			    &buf[n + 1], -1 };
			buf[n + 1] = sentinel;
			n++;
		}
		n++;

		form = drain ? 0 : (int)rng_below(&w->rng, 3);
		if (form == 0) {
			atomic_store(&w->recv_mask, rm);
			atomic_store(&w->send_mask, sm);
			atomic_store(&w->stop_ch, st);
			atomic_store(&w->state, WAITING);
			i = chan_select(cs, (size_t)n);
		} else if (form == 1)
			i = chan_tryselect(cs, (size_t)n);
		else {
			ts = deadline_us(rng_below(&w->rng, 500));
			atomic_store(&w->state, TIMED);
			i = chan_timedselect(cs, (size_t)n, &ts);
		}
		atomic_store(&w->state, RUNNING);
		if (i < 0) {
			int err = errno;

			if (!((form == 1 && err == EAGAIN) ||
			    (form == 2 && err == ETIMEDOUT)))
				violation("select_soak: select form %d: %s",
				    form, strerror(err));
			atomic_fetch_add_explicit(&timeouts, 1,
			    memory_order_relaxed);
		} else if (i >= n || cs[i].ch == NULL) {
			violation("select_soak: returned case %d of %d", i, n);
			break;
		} else if (cs[i].ch == st) {
			if (cs[i].err != EPIPE)
				violation("select_soak: stop case err %d",
				    cs[i].err);
			if (atomic_load(&finished))
				break;
		} else if (cs[i].err == EPIPE && is_closed(cs[i].ch)) {
			/* Nothing moved: a receive stored nothing, checked below. */
			atomic_fetch_add_explicit(&epipes, 1,
			    memory_order_relaxed);
		} else if (cs[i].err != 0) {
			violation("select_soak: case err %d", cs[i].err);
		} else if (cs[i].op == CHAN_SEND) {
			uint64_t t = buf[i];

			bitmap_tas(&sent_bits, (t >> 40) * tickets_per_thread +
			    (t & (((uint64_t)1 << 40) - 1)));
		} else {
			got_ticket(buf[i], "select");
		}
		/* Every receive buffer but the chosen one is untouched. */
		for (k = 0; k < n; k++)
			if (k != i && cs[k].op == CHAN_RECV &&
			    buf[k] != sentinel)
				violation("select_soak: select returned %d but "
				    "case %d also received %llx", i, k,
				    (unsigned long long)buf[k]);
		atomic_fetch_add_explicit(&selects_done, 1,
		    memory_order_relaxed);
		progress();
	}
	atomic_store(&w->state, LEFT);
	return NULL;
}

/*
 * Whether every thread waits in a select without deadline (or has left
 * after a violation); if not, what says who does not.
 */
static int
all_waiting(struct worker *w, char *what, size_t size)
{
	unsigned t;
	int st;

	for (t = 0; t < nthreads; t++)
		if ((st = atomic_load(&w[t].state)) != WAITING && st != LEFT) {
			snprintf(what, size, "thread %u is %s", t, st == TIMED ?
			    "still in a select with a deadline of 500 us at "
			    "most" : "between selects");
			return 0;
		}
	return 1;
}

/*
 * Whether a blocked thread has a case that could complete: a receive from
 * a channel that holds an element, a send to one with room, either on a
 * closed channel (an earlier epoch's stop channel too), or, unbuffered, a
 * send and a receive of two blocked threads.  what gets the first found.
 */
static int
find_ready(struct worker *w, char *what, size_t size)
{
	unsigned i, t, u, bit, rm, sm;
	size_t len, cap;
	int cl;

	for (t = 0; t < nthreads; t++)
		if (atomic_load(&w[t].state) == WAITING &&
		    atomic_load(&w[t].stop_ch) != atomic_load(&stop)) {
			snprintf(what, size, "thread %u waits on the stop "
			    "channel of an earlier epoch, closed", t);
			return 1;
		}
	for (i = 0; i < NCH; i++) {
		bit = 1u << i;
		len = chan_len(chans[i]);
		cap = chan_cap(chans[i]);
		cl = atomic_load(&closed[i]);
		for (t = 0; t < nthreads; t++) {
			if (atomic_load(&w[t].state) != WAITING)
				continue;
			rm = atomic_load(&w[t].recv_mask);
			sm = atomic_load(&w[t].send_mask);
			if (((rm & bit) && (cl || len > 0)) || ((sm & bit) &&
			    (cl || (cap > 0 && len < cap)))) {
				snprintf(what, size, "thread %u waits to %s "
				    "channel %u (capacity %zu, %zu held%s)", t,
				    (rm & bit) ? "receive from" : "send to", i,
				    cap, len, cl ? ", closed" : "");
				return 1;
			}
			for (u = 0; cap == 0 && (sm & bit) && u < nthreads;
			    u++)
				if (u != t &&
				    atomic_load(&w[u].state) == WAITING &&
				    (atomic_load(&w[u].recv_mask) & bit)) {
					snprintf(what, size, "threads %u and %u "
					    "wait to send to and receive from "
					    "unbuffered channel %u", t, u, i);
					return 1;
				}
		}
	}
	return 0;
}

/*
 * Ends an epoch.  Draining, each thread finishes the select it is in and
 * then waits on the stop channel alone, so the channels fall quiet, with
 * some selects still waiting on them.  None of these may have a case that
 * could complete: one asleep beside an element or room it could take
 * missed its wake-up.  In the run the next operation on that channel
 * wakes it, and at the end the close of stop, so this is where a lost
 * wake-up shows.  It is reported when no select has returned for strand_s
 * seconds (a select just woken may not have run yet, a timed one may just
 * be timing out): a liveness failure, not a speed limit.  Returns -1 then
 * (each later epoch would cost as much), else 0.
 */
static int
quiesce(struct worker *w)
{
	char what[160];
	unsigned long last = ~0UL, now;
	double since = 0;
	int ready;

	atomic_store(&draining, 1);
	for (;;) {
		now = atomic_load(&selects_done);
		if (now != last) {
			last = now;
			since = now_sec();
		}
		ready = !all_waiting(w, what, sizeof(what)) ||
		    find_ready(w, what, sizeof(what));
		if (atomic_load(&selects_done) != now)
			continue;	/* moved while we looked */
		if (!ready)
			break;
		if (now_sec() - since >= (double)strand_s) {
			violation("select_soak: no select returned for %lu s, "
			    "but %s: a lost wake-up", strand_s, what);
			ready = -1;
			break;
		}
		pause_us(20);
	}
	atomic_store(&draining, 0);
	return ready;
}

/*
 * Waits until count selects returned or the clock reads t, or until every
 * thread waits in a select none of whose cases can complete: the threads'
 * random choices can make such a deadlock, which only stop's close ends.
 */
static void
pace(struct worker *w, unsigned long count, double t)
{
	char what[160];
	unsigned long last = ~0UL, now;

	while ((now = atomic_load(&selects_done)) < count && now_sec() < t) {
		if (now == last && all_waiting(w, what, sizeof(what)) &&
		    !find_ready(w, what, sizeof(what)) &&
		    atomic_load(&selects_done) == now)
			return;
		last = now;
		pause_us(2000);
	}
}

/*
 * Closes the last NCLOSE channels under the selects' feet, half way: from
 * then on their cases are always ready, with EPIPE (sends send nothing),
 * and what they hold can still be received.
 */
static void
close_some(void)
{
	int i, err;

	for (i = NCH - NCLOSE; i < NCH; i++) {
		atomic_store(&closed[i], 1);
		if ((err = chan_close(chans[i])) != 0)
			violation("select_soak: chan_close: %s", strerror(err));
	}
}

/* Starts epoch e: its stop channel, then the close of the last one. */
static void
next_epoch(unsigned long e)
{
	chan_t *old = atomic_load(&stop);
	int err;

	if ((stops[e] = chan_create(sizeof(uint64_t), 0, CHAN_BLOCK)) ==
	    NULL) {
		perror("chan_create");
		exit(2);
	}
	atomic_store(&stop, stops[e]);
	if (old != NULL && (err = chan_close(old)) != 0)
		violation("select_soak: chan_close(stop): %s", strerror(err));
}

int
main(void)
{
	int full = stress_full();
	unsigned long want, i, t, e, nepochs, ndone;
	unsigned long leftover = 0, lost = 0, phantom = 0;
	double seconds, start;
	struct worker *w;
	pthread_t *th;
	uint64_t seed, x;
	int err;

	seed = stress_run_seed();
	nthreads = (unsigned)env_ulong("STRESS_THREADS", 32);
	want = env_ulong("STRESS_SELECTS", full ? 100000000UL : 200000UL);
	seconds = (double)env_ulong("STRESS_SECONDS", full ? 120 : 2);
	nepochs = env_ulong("STRESS_EPOCHS", full ? 2400 : 64);
	if (nepochs < 1)
		nepochs = 1;
	strand_s = stress_strand_s();
	printf("select_soak: seed %llu, %u threads, %s\n",
	    (unsigned long long)seed, nthreads, full ? "full" : "quick");
	fflush(stdout);
	watchdog_start();
	set_phase("select_soak seed %llu", (unsigned long long)seed);

	/* About 6 tickets per select, at most 2^24 per thread. */
	tickets_per_thread = want * 8 / nthreads + 64;
	if (tickets_per_thread > (1UL << 24))
		tickets_per_thread = 1UL << 24;
	bitmap_init(&sent_bits, (size_t)nthreads * tickets_per_thread);
	bitmap_init(&recv_bits, (size_t)nthreads * tickets_per_thread);
	for (i = 0; i < NCH; i++) {
		static const size_t caps[] = { 0, 0, 1, 4, 64, 0, 1, 2 };

		chans[i] = chan_create(sizeof(uint64_t), caps[i % 8],
		    CHAN_BLOCK);
		if (chans[i] == NULL) {
			perror("chan_create");
			return 2;
		}
	}
	stops = stress_calloc(nepochs, sizeof(*stops));
	atomic_store(&active, nthreads);
	next_epoch(0);
	w = stress_calloc(nthreads, sizeof(*w));
	th = stress_calloc(nthreads, sizeof(*th));
	start = now_sec();
	for (i = 0; i < nthreads; i++) {
		w[i].id = (unsigned)i;
		rng_seed(&w[i].rng, seed * 7919 + i);
		spawn(&th[i], worker_main, &w[i]);
	}
	for (e = 0; e < nepochs; e++) {
		if (e == nepochs / 2) {
			pace(w, want / 2, start + seconds / 2);
			close_some();
		}
		pace(w, want * (e + 1) / nepochs,
		    start + seconds * (double)(e + 1) / nepochs);
		if (quiesce(w) != 0)
			break;
		if (e + 1 < nepochs) {
			atomic_store(&active, (e + 1) % 2 ?
			    (nthreads + 3) / 4 : nthreads);
			next_epoch(e + 1);
		}
	}
	ndone = e < nepochs ? e + 1 : nepochs;
	atomic_store(&finished, 1);
	if ((err = chan_close(atomic_load(&stop))) != 0)
		violation("select_soak: chan_close(stop): %s", strerror(err));
	for (i = 0; i < nthreads; i++)
		join(th[i]);

	/* Leftovers in the buffered channels were sent and never received. */
	for (i = 0; i < NCH; i++) {
		while ((err = chan_tryrecv(chans[i], &x)) == 0) {
			got_ticket(x, "drain");
			leftover++;
		}
		if (err != (atomic_load(&closed[i]) ? EPIPE : EAGAIN))
			violation("select_soak: drain: %s", strerror(err));
		if (chan_len(chans[i]) != 0)
			violation("select_soak: chan_len %zu after drain",
			    chan_len(chans[i]));
		/*
		 * Every thread has returned, so no waiter may remain: an
		 * unbuffered channel has no partner for a try call.
		 */
		if (chan_cap(chans[i]) == 0 && !atomic_load(&closed[i])) {
			x = 0;
			if ((err = chan_trysend(chans[i], &x)) != EAGAIN)
				violation("select_soak: stale receiver on "
				    "channel %lu: trysend %s", i,
				    strerror(err));
			if ((err = chan_tryrecv(chans[i], &x)) != EAGAIN)
				violation("select_soak: stale sender on "
				    "channel %lu: tryrecv %s", i,
				    strerror(err));
		}
	}
	for (t = 0; t < nthreads; t++)
		for (i = 0; i < w[t].next_ticket; i++) {
			size_t b = t * tickets_per_thread + i;
			int s = bitmap_get(&sent_bits, b);
			int r = bitmap_get(&recv_bits, b);

			if (s && !r && lost++ < 20)
				violation("select_soak: ticket %lu/%lu sent, "
				    "never received", t, i);
			if (!s && r && phantom++ < 20)
				violation("select_soak: ticket %lu/%lu "
				    "received, but no select returned its "
				    "send case", t, i);
		}
	printf("select_soak: %lu selects (%lu timed out or would block, %lu "
	    "completed a case with EPIPE) in %lu epochs, %lu elements moved "
	    "(%lu drained at the end) in %.1f s\n",
	    atomic_load(&selects_done), atomic_load(&timeouts),
	    atomic_load(&epipes), ndone, atomic_load(&moved), leftover,
	    now_sec() - start);
	for (i = 0; i < NCH; i++)
		chan_destroy(chans[i]);
	for (e = 0; e < ndone; e++)
		chan_destroy(stops[e]);
	free(stops);
	bitmap_free(&sent_bits);
	bitmap_free(&recv_bits);
	free(w);
	free(th);
	return stress_exit("select_soak");
}
