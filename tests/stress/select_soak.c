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
 * the end: a receive case on a closed channel is ready (err EPIPE), which
 * is how the threads leave.  Half way through, four of the 16 channels
 * are closed: their cases complete with EPIPE from then on, and nothing
 * sent to them may be lost or invented.
 *
 * Quick by default; STRESS_FULL=1 runs longer with more threads.
 * Environment: STRESS_FULL, STRESS_SEED, STRESS_SECONDS, STRESS_SELECTS,
 * STRESS_THREADS.
 */
#include "stress.h"

#define NCH		16
#define MAXCASES	102

static chan_t *chans[NCH];
static chan_t *stop;
static struct bitmap sent_bits, recv_bits;
static unsigned long tickets_per_thread;
static unsigned nthreads;
static atomic_ulong selects_done, moved, timeouts;
static const uint64_t sentinel = ~(uint64_t)0;

/* The last NCLOSE channels are closed half way through. */
#define NCLOSE		4
static atomic_int closed[NCH];
static atomic_ulong epipes;

static int
is_closed(chan_t *ch)
{
	int i;

	for (i = 0; i < NCH; i++)
		if (chans[i] == ch)
			return atomic_load(&closed[i]);
	return 0;
}

struct worker {
	unsigned	 id;
	struct rng	 rng;
	unsigned long	 next_ticket;
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
	int i, n, k, nsend, nrecv, stop_at, form;

	for (;;) {
		/* Between 2 and 8 channel cases, at least one of each op. */
		n = 2 + (int)rng_below(&w->rng, 7);
		/* Now and then more cases than a select keeps on its stack. */
		if (rng_below(&w->rng, 64) == 0)
			n = 65 + (int)rng_below(&w->rng, MAXCASES - 66);
		nsend = nrecv = 0;
		stop_at = (int)rng_below(&w->rng, (uint32_t)n + 1);
		for (i = 0, k = 0; k < n + 1; k++) {
			if (k == stop_at) {
				buf[k] = sentinel;
				cs[k] = (struct chan_case){ stop, CHAN_RECV,
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
			cs[k].ch = chans[rng_below(&w->rng, NCH)];
			cs[k].err = -1;
			cs[k].elem = &buf[k];
			if (send) {
				buf[k] = (uint64_t)w->id << 40 |
				    w->next_ticket++;
				cs[k].op = CHAN_SEND;
				nsend++;
			} else {
				buf[k] = sentinel;
				cs[k].op = CHAN_RECV;
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

		form = (int)rng_below(&w->rng, 3);
		if (form == 0)
			i = chan_select(cs, (size_t)n);
		else if (form == 1)
			i = chan_tryselect(cs, (size_t)n);
		else {
			ts = deadline_us(rng_below(&w->rng, 500));
			i = chan_timedselect(cs, (size_t)n, &ts);
		}
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
		} else if (cs[i].ch == stop) {
			if (cs[i].err != EPIPE)
				violation("select_soak: stop case err %d",
				    cs[i].err);
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
	return NULL;
}

int
main(void)
{
	int full = stress_full();
	unsigned long want, i, t;
	unsigned long leftover = 0, lost = 0, phantom = 0;
	double seconds, start, end;
	struct worker *w;
	pthread_t *th;
	uint64_t seed, x;
	int err;

	seed = env_ulong("STRESS_SEED", stress_default_seed());
	nthreads = (unsigned)env_ulong("STRESS_THREADS", full ? 32 : 8);
	want = env_ulong("STRESS_SELECTS", full ? 100000000UL : 200000UL);
	seconds = (double)env_ulong("STRESS_SECONDS", full ? 120 : 2);
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
	if ((stop = chan_create(sizeof(uint64_t), 0, CHAN_BLOCK)) == NULL) {
		perror("chan_create");
		return 2;
	}
	w = stress_calloc(nthreads, sizeof(*w));
	th = stress_calloc(nthreads, sizeof(*th));
	start = now_sec();
	end = start + seconds;
	for (i = 0; i < nthreads; i++) {
		w[i].id = (unsigned)i;
		rng_seed(&w[i].rng, seed * 7919 + i);
		spawn(&th[i], worker_main, &w[i]);
	}
	/* Pace the watching of the count and the clock; no sync here. */
	while (atomic_load(&selects_done) < want / 2 &&
	    now_sec() < start + seconds / 2)
		pause_us(2000);
	/*
	 * Close a few channels under the selects' feet: from now on their
	 * cases are always ready, with EPIPE (sends send nothing), and what
	 * they hold can still be received.
	 */
	for (i = NCH - NCLOSE; i < NCH; i++) {
		atomic_store(&closed[i], 1);
		if ((err = chan_close(chans[i])) != 0)
			violation("select_soak: chan_close: %s", strerror(err));
	}
	while (atomic_load(&selects_done) < want && now_sec() < end)
		pause_us(2000);
	if ((err = chan_close(stop)) != 0)
		violation("select_soak: chan_close(stop): %s", strerror(err));
	for (i = 0; i < nthreads; i++)
		join(th[i]);

	/* Leftovers in the buffered channels were sent and never received. */
	for (i = 0; i < NCH; i++) {
		while ((err = chan_tryrecv(chans[i], &x)) == 0) {
			got_ticket(x, "drain");
			leftover++;
		}
		if (err != (i >= NCH - NCLOSE ? EPIPE : EAGAIN))
			violation("select_soak: drain: %s", strerror(err));
		if (chan_len(chans[i]) != 0)
			violation("select_soak: chan_len %zu after drain",
			    chan_len(chans[i]));
		/*
		 * Every thread has returned, so no waiter may remain: an
		 * unbuffered channel has no partner for a try call.
		 */
		if (chan_cap(chans[i]) == 0 && i < NCH - NCLOSE) {
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
	    "completed a case with EPIPE), %lu elements moved (%lu drained at "
	    "the end) in %.1f s\n", atomic_load(&selects_done),
	    atomic_load(&timeouts), atomic_load(&epipes), atomic_load(&moved),
	    leftover, now_sec() - start);
	for (i = 0; i < NCH; i++)
		chan_destroy(chans[i]);
	chan_destroy(stop);
	bitmap_free(&sent_bits);
	bitmap_free(&recv_bits);
	free(w);
	free(th);
	return stress_exit("select_soak");
}
