/*
 * Multi-threaded delivery: every message arrives exactly once, and at each
 * receiver one sender's messages (on one channel) arrive in the order sent.
 *
 * Each message is a uint64_t naming its sender and sequence number.  Each
 * receiver logs what it got (with the channel it came from); once every
 * thread is joined, the main thread checks the logs against what each
 * sender's calls reported as sent.  Senders and receivers use plain, try,
 * timed, batch and select forms; channels are unbuffered, of capacity 1 and
 * of capacity 64; closes race with active and blocked threads; CHAN_DROP and
 * CHAN_SLIDE lose messages only as their policy says.
 *
 * Counts are modest so that the suite runs in seconds, and scaled down under
 * a sanitizer (see stresslib.h; CHAN_STRESS_SCALE=10 for a longer soak).
 * The suite prints its seed; STRESS_SEED=<seed> repeats its random
 * choices (not its threads' timing).
 */
#define _GNU_SOURCE
#include <check.h>

#include "stresslib.h"

#define MAXCHAN	4
#define MAXTHR	8
#define BATCH	16		/* largest batch a batch-mode thread moves */
#define TRIES	32		/* try calls before a try loop waits briefly */

/* How a thread sends or receives. */
enum mode {
	M_PLAIN,		/* chan_send / chan_recv on one channel */
	M_MIXED,		/* plain, try-retry or timed-retry, at random */
	M_BATCH,		/* chan_sendn / chan_recvn and their try/timed forms */
	M_SELECT,		/* select over every channel of the run */
};

/* One run: its channels and what its threads share. */
struct run {
	chan_t		*ch[MAXCHAN];
	int		 nchan;
	int		 nsend;
	int		 nrecv;
	enum mode	 smode;
	enum mode	 rmode;
	uint32_t	 per_sender;	/* messages each sender sends at most */
	bool		 track;		/* count receptions in received */
	atomic_ulong	 received;
	atomic_int	 relays_sending; /* relays with messages left to send */
};

/*
 * A sender: after it is joined, the sends of sequence numbers 0 .. sent - 1
 * returned 0 and no other of its messages was accepted; err says what ended
 * its loop (0: all sent; EPIPE: the channel was closed).
 */
struct sender {
	struct run	*r;
	unsigned	 id;
	pthread_t	 thr;
	uint64_t	 rng;
	atomic_int	 tid;
	uint32_t	 sent;
	int		 err;
};

/* A receiver: log[0 .. nlog - 1] is what it got, in order; err ended it. */
struct receiver {
	struct run	*r;
	unsigned	 id;
	pthread_t	 thr;
	uint64_t	 rng;
	atomic_int	 tid;
	uint64_t	*log;
	size_t		 nlog;
	size_t		 maxlog;
	int		 err;
};

static void
logmsg(struct receiver *rv, uint64_t m, unsigned chan)
{
	if (rv->nlog == rv->maxlog) {
		stress_fail("receiver %u got more messages than were sent", rv->id);
		return;
	}
	rv->log[rv->nlog++] = LOG_ENTRY(m, chan);
	if (rv->r->track)
		atomic_fetch_add_explicit(&rv->r->received, 1,
		    memory_order_relaxed);
}

/* A deadline between 50 us in the past (a try) and 200 us ahead. */
static struct timespec
short_deadline(uint64_t *rng)
{
	return stress_deadline((long long)(stress_rand(rng) % 250000) - 50000);
}

/*
 * Send *m on ch in a way chosen at random.  A try loop falls back to a short
 * timed wait after TRIES attempts, so that an unbuffered channel whose both
 * sides are trying cannot livelock.
 */
static int
send_mixed(chan_t *ch, const uint64_t *m, uint64_t *rng)
{
	struct timespec ts;
	int err, i;

	switch (stress_rand(rng) % 3) {
	case 0:
		return chan_send(ch, m);
	case 1:
		for (;;) {
			for (i = 0; i < TRIES; i++) {
				if ((err = chan_trysend(ch, m)) != EAGAIN)
					return err;
				sched_yield();
			}
			ts = stress_deadline(1000000);
			if ((err = chan_timedsend(ch, m, &ts)) != ETIMEDOUT)
				return err;
		}
	default:
		for (;;) {
			ts = short_deadline(rng);
			if ((err = chan_timedsend(ch, m, &ts)) != ETIMEDOUT)
				return err;
		}
	}
}

static int
recv_mixed(chan_t *ch, uint64_t *m, uint64_t *rng)
{
	struct timespec ts;
	int err, i;

	switch (stress_rand(rng) % 3) {
	case 0:
		return chan_recv(ch, m);
	case 1:
		for (;;) {
			for (i = 0; i < TRIES; i++) {
				if ((err = chan_tryrecv(ch, m)) != EAGAIN)
					return err;
				sched_yield();
			}
			ts = stress_deadline(1000000);
			if ((err = chan_timedrecv(ch, m, &ts)) != ETIMEDOUT)
				return err;
		}
	default:
		for (;;) {
			ts = short_deadline(rng);
			if ((err = chan_timedrecv(ch, m, &ts)) != ETIMEDOUT)
				return err;
		}
	}
}

static int
sendn_mixed(chan_t *ch, const uint64_t *m, size_t n, size_t *done,
    uint64_t *rng)
{
	struct timespec ts;
	int err, i;

	switch (stress_rand(rng) % 3) {
	case 0:
		return chan_sendn(ch, m, n, done);
	case 1:
		for (;;) {
			for (i = 0; i < TRIES; i++) {
				if ((err = chan_trysendn(ch, m, n, done)) != EAGAIN)
					return err;
				sched_yield();
			}
			ts = stress_deadline(1000000);
			if ((err = chan_timedsendn(ch, m, n, done, &ts)) !=
			    ETIMEDOUT)
				return err;
		}
	default:
		for (;;) {
			ts = short_deadline(rng);
			if ((err = chan_timedsendn(ch, m, n, done, &ts)) !=
			    ETIMEDOUT)
				return err;
		}
	}
}

static int
recvn_mixed(chan_t *ch, uint64_t *m, size_t n, size_t *done, uint64_t *rng)
{
	struct timespec ts;
	int err, i;

	switch (stress_rand(rng) % 3) {
	case 0:
		return chan_recvn(ch, m, n, done);
	case 1:
		for (;;) {
			for (i = 0; i < TRIES; i++) {
				if ((err = chan_tryrecvn(ch, m, n, done)) != EAGAIN)
					return err;
				sched_yield();
			}
			ts = stress_deadline(1000000);
			if ((err = chan_timedrecvn(ch, m, n, done, &ts)) !=
			    ETIMEDOUT)
				return err;
		}
	default:
		for (;;) {
			ts = short_deadline(rng);
			if ((err = chan_timedrecvn(ch, m, n, done, &ts)) !=
			    ETIMEDOUT)
				return err;
		}
	}
}

/*
 * Select over cases[0 .. n - 1] with chan_select, a tryselect loop or a
 * timedselect loop, at random; returns the index, or -1 (errno set) on an
 * error other than "not yet".
 */
static int
select_mixed(struct chan_case *cases, size_t n, uint64_t *rng)
{
	struct timespec ts;
	int i, k;

	switch (stress_rand(rng) % 3) {
	case 0:
		return chan_select(cases, n);
	case 1:
		for (;;) {
			for (k = 0; k < TRIES; k++) {
				if ((i = chan_tryselect(cases, n)) >= 0 ||
				    errno != EAGAIN)
					return i;
				sched_yield();
			}
			ts = stress_deadline(1000000);
			if ((i = chan_timedselect(cases, n, &ts)) >= 0 ||
			    errno != ETIMEDOUT)
				return i;
		}
	default:
		for (;;) {
			ts = short_deadline(rng);
			if ((i = chan_timedselect(cases, n, &ts)) >= 0 ||
			    errno != ETIMEDOUT)
				return i;
		}
	}
}

/* A disabled case, put at a random place in some selects: never chosen. */
static size_t
add_disabled_case(struct chan_case *cases, size_t n, uint64_t *rng)
{
	size_t at;

	if (stress_rand(rng) % 2 == 0)
		return n;
	at = stress_rand(rng) % (n + 1);
	cases[n] = cases[at];
	cases[at] = (struct chan_case){ .ch = NULL, .op = CHAN_RECV };
	return n + 1;
}

/*
 * select_send sends m on whichever channel of the run is ready; returns 0 or
 * EPIPE (some channel closed: the run is ending) and never sends m twice.
 */
static int
select_send(struct sender *s, uint64_t m)
{
	struct chan_case cases[MAXCHAN + 1];
	size_t n = 0;
	int c, i;

	for (c = 0; c < s->r->nchan; c++)
		cases[n++] = (struct chan_case){ s->r->ch[c], CHAN_SEND, &m, -1 };
	n = add_disabled_case(cases, n, &s->rng);
	if ((i = select_mixed(cases, n, &s->rng)) < 0) {
		stress_fail("sender %u: select: %s", s->id, strerror(errno));
		return errno;
	}
	if (cases[i].ch == NULL || cases[i].op != CHAN_SEND) {
		stress_fail("sender %u: select chose disabled case %d", s->id, i);
		return EINVAL;
	}
	return cases[i].err;
}

static void *
sender_main(void *arg)
{
	struct sender *s = arg;
	struct run *r = s->r;
	chan_t *ch = r->ch[s->id % r->nchan];
	uint64_t buf[BATCH];
	uint32_t seq = 0;
	size_t k, i, done;
	int err = 0;

	atomic_store(&s->tid, stress_gettid());
	while (seq < r->per_sender) {
		done = 1;
		buf[0] = MSG(s->id, seq);
		switch (r->smode) {
		case M_PLAIN:
			err = chan_send(ch, &buf[0]);
			break;
		case M_MIXED:
			err = send_mixed(ch, &buf[0], &s->rng);
			break;
		case M_BATCH:
			k = 1 + stress_rand(&s->rng) % BATCH;
			if (k > r->per_sender - seq)
				k = r->per_sender - seq;
			for (i = 0; i < k; i++)
				buf[i] = MSG(s->id, seq + i);
			done = 0;
			err = sendn_mixed(ch, buf, k, &done, &s->rng);
			if (err == 0 && (done < 1 || done > k)) {
				stress_fail("sendn of %zu sent %zu", k, done);
				err = EINVAL;
			}
			break;
		case M_SELECT:
			err = select_send(s, buf[0]);
			break;
		}
		if (err != 0)
			break;
		seq += (uint32_t)done;
	}
	if (err != 0 && err != EPIPE)
		stress_fail("sender %u: send: %s", s->id, strerror(err));
	s->sent = seq;
	s->err = err;
	return NULL;
}

/* Receive with a select over every channel until each one reports EPIPE. */
static void
select_receive_all(struct receiver *rv)
{
	struct run *r = rv->r;
	struct chan_case cases[MAXCHAN + 1];
	uint64_t bufs[MAXCHAN];
	bool open[MAXCHAN];
	size_t n;
	int c, i, nopen = r->nchan;

	for (c = 0; c < r->nchan; c++)
		open[c] = true;
	while (nopen > 0) {
		n = 0;
		for (c = 0; c < r->nchan; c++) {
			bufs[c] = UINT64_MAX;
			if (open[c])
				cases[n++] = (struct chan_case){ r->ch[c],
				    CHAN_RECV, &bufs[c], -1 };
		}
		n = add_disabled_case(cases, n, &rv->rng);
		if ((i = select_mixed(cases, n, &rv->rng)) < 0) {
			stress_fail("receiver %u: select: %s", rv->id,
			    strerror(errno));
			rv->err = errno;
			return;
		}
		if (cases[i].ch == NULL) {
			stress_fail("receiver %u: select chose disabled case",
			    rv->id);
			rv->err = EINVAL;
			return;
		}
		c = (int)((uint64_t *)cases[i].elem - bufs);
		if (cases[i].err == EPIPE) {
			open[c] = false;
			nopen--;
			continue;
		}
		if (cases[i].err != 0) {
			stress_fail("receiver %u: case err %d", rv->id,
			    cases[i].err);
			rv->err = cases[i].err;
			return;
		}
		/* Exactly one case completed: no other buffer was written. */
		for (size_t j = 0; j < (size_t)r->nchan; j++)
			if ((int)j != c && bufs[j] != UINT64_MAX)
				stress_fail("receiver %u: select wrote case %zu "
				    "besides case %d", rv->id, j, c);
		logmsg(rv, bufs[c], (unsigned)c);
	}
	rv->err = EPIPE;
}

static void *
receiver_main(void *arg)
{
	struct receiver *rv = arg;
	struct run *r = rv->r;
	unsigned c = rv->id % (unsigned)r->nchan;
	chan_t *ch = r->ch[c];
	uint64_t buf[BATCH];
	size_t i, done;
	int err;

	atomic_store(&rv->tid, stress_gettid());
	if (r->rmode == M_SELECT) {
		select_receive_all(rv);
		return NULL;
	}
	for (;;) {
		done = 1;
		switch (r->rmode) {
		case M_PLAIN:
			err = chan_recv(ch, &buf[0]);
			break;
		case M_MIXED:
			err = recv_mixed(ch, &buf[0], &rv->rng);
			break;
		default:
			i = 1 + stress_rand(&rv->rng) % BATCH;
			done = 0;
			err = recvn_mixed(ch, buf, i, &done, &rv->rng);
			if (err == 0 && (done < 1 || done > i)) {
				stress_fail("recvn of %zu got %zu", i, done);
				err = EINVAL;
			}
			break;
		}
		if (err != 0)
			break;
		for (i = 0; i < done; i++)
			logmsg(rv, buf[i], c);
	}
	if (err != EPIPE)
		stress_fail("receiver %u: recv: %s", rv->id, strerror(err));
	rv->err = err;
	return NULL;
}

/* The threads of one run, allocated together. */
struct crew {
	struct run	 run;
	struct sender	 s[MAXTHR];
	struct receiver	 rv[MAXTHR];
};

static struct crew *
crew_new(int nsend, int nrecv, int nchan, size_t cap, enum chan_policy pol,
    enum mode sm, enum mode rm, uint32_t per_sender)
{
	struct crew *w;
	int i;

	ck_assert(nsend <= MAXTHR && nrecv <= MAXTHR && nchan <= MAXCHAN);
	stress_reset();
	ck_assert_ptr_nonnull(w = calloc(1, sizeof(*w)));
	w->run.nsend = nsend;
	w->run.nrecv = nrecv;
	w->run.nchan = nchan;
	w->run.smode = sm;
	w->run.rmode = rm;
	w->run.per_sender = per_sender;
	for (i = 0; i < nchan; i++)
		ck_assert_ptr_nonnull(w->run.ch[i] = chan_create(
		    sizeof(uint64_t), cap, pol));
	for (i = 0; i < nsend; i++) {
		w->s[i].r = &w->run;
		w->s[i].id = (unsigned)i;
		w->s[i].rng = stress_seed((unsigned)i);
	}
	for (i = 0; i < nrecv; i++) {
		w->rv[i].r = &w->run;
		w->rv[i].id = (unsigned)i;
		w->rv[i].rng = stress_seed(100 + (unsigned)i);
		/* Any one receiver may get every message. */
		w->rv[i].maxlog = (size_t)nsend * per_sender;
		ck_assert_ptr_nonnull(w->rv[i].log =
		    calloc(w->rv[i].maxlog + 1, sizeof(uint64_t)));
	}
	return w;
}

static void
crew_free(struct crew *w)
{
	int i;

	for (i = 0; i < w->run.nrecv; i++)
		free(w->rv[i].log);
	for (i = 0; i < w->run.nchan; i++)
		chan_destroy(w->run.ch[i]);
	free(w);
}

static void
start_receivers(struct crew *w)
{
	for (int i = 0; i < w->run.nrecv; i++)
		ck_assert_int_eq(pthread_create(&w->rv[i].thr, NULL,
		    receiver_main, &w->rv[i]), 0);
}

static void
start_senders(struct crew *w)
{
	for (int i = 0; i < w->run.nsend; i++)
		ck_assert_int_eq(pthread_create(&w->s[i].thr, NULL,
		    sender_main, &w->s[i]), 0);
}

static void
join_senders(struct crew *w)
{
	for (int i = 0; i < w->run.nsend; i++)
		ck_assert_int_eq(pthread_join(w->s[i].thr, NULL), 0);
}

static void
join_receivers(struct crew *w)
{
	for (int i = 0; i < w->run.nrecv; i++)
		ck_assert_int_eq(pthread_join(w->rv[i].thr, NULL), 0);
}

static void
close_all(struct crew *w)
{
	for (int i = 0; i < w->run.nchan; i++)
		ck_assert_int_eq(chan_close(w->run.ch[i]), 0);
}

/*
 * check_logs checks, once every thread is joined, that each message a
 * receiver logged was sent successfully (sequence number below its sender's
 * sent count), was received once only, and came after that sender's earlier
 * messages from the same channel at that receiver.  With exact, every
 * message sent was received.  Returns how many were received.
 */
static size_t
check_logs(struct crew *w, bool exact)
{
	struct run *r = &w->run;
	int64_t last[MAXCHAN][MAXTHR];
	uint8_t *seen;
	size_t total = 0, i;
	uint64_t e;
	unsigned s, c;
	uint32_t q;
	int k;

	ck_assert_msg(!atomic_load(&stress_failed), "worker: %s",
	    stress_fail_msg);
	ck_assert_ptr_nonnull(seen = calloc((size_t)r->nsend * r->per_sender +
	    1, 1));
	for (k = 0; k < r->nrecv; k++) {
		memset(last, 0xff, sizeof(last));	/* all -1 */
		for (i = 0; i < w->rv[k].nlog; i++) {
			e = w->rv[k].log[i];
			s = MSG_SENDER(e);
			q = MSG_SEQ(e);
			c = LOG_CHAN(e);
			ck_assert_msg(s < (unsigned)r->nsend &&
			    c < (unsigned)r->nchan, "receiver %d got garbage "
			    "%#llx", k, (unsigned long long)e);
			ck_assert_msg(q < w->s[s].sent, "receiver %d got %u:%u, "
			    "but sender %u had only %u sends return 0 (last "
			    "err %d)", k, s, q, s, w->s[s].sent, w->s[s].err);
			ck_assert_msg((int64_t)q > last[c][s], "receiver %d got "
			    "%u:%u after %u:%lld on channel %u", k, s, q, s,
			    (long long)last[c][s], c);
			last[c][s] = q;
			ck_assert_msg(++seen[(size_t)s * r->per_sender + q] == 1,
			    "message %u:%u received twice", s, q);
		}
		total += w->rv[k].nlog;
	}
	if (exact)
		for (s = 0; s < (unsigned)r->nsend; s++)
			for (q = 0; q < w->s[s].sent; q++)
				ck_assert_msg(seen[(size_t)s * r->per_sender +
				    q] == 1, "message %u:%u sent but never "
				    "received", s, q);
	free(seen);
	return total;
}

static uint32_t
sent_total(struct crew *w)
{
	uint32_t n = 0;

	for (int i = 0; i < w->run.nsend; i++)
		n += w->s[i].sent;
	return n;
}

/*
 * run_delivery sends total messages (split among the senders) through a
 * fresh set of channels, closes them once the senders are done, lets the
 * receivers drain them to EPIPE, and checks the logs.  Returns how many
 * messages were received.
 */
static size_t
run_delivery(int nsend, int nrecv, int nchan, size_t cap,
    enum chan_policy pol, enum mode sm, enum mode rm, unsigned long total)
{
	struct crew *w;
	uint32_t per;
	size_t got;
	int i;

	/*
	 * A hand-off through an unbuffered or one-slot channel often costs a
	 * sleep and a wake-up (tens of microseconds): fewer messages there.
	 */
	if (cap < 16)
		total /= 8;
	per = (uint32_t)(stress_scale(total) / (unsigned long)nsend);
	if (per == 0)
		per = 1;
	w = crew_new(nsend, nrecv, nchan, cap, pol, sm, rm, per);
	start_receivers(w);
	start_senders(w);
	join_senders(w);
	for (i = 0; i < nsend; i++) {
		ck_assert_int_eq(w->s[i].err, 0);
		ck_assert_uint_eq(w->s[i].sent, per);
	}
	close_all(w);
	join_receivers(w);
	for (i = 0; i < nrecv; i++)
		ck_assert_int_eq(w->rv[i].err, EPIPE);
	got = check_logs(w, pol == CHAN_BLOCK);
	if (pol == CHAN_BLOCK)
		ck_assert_uint_eq(got, (size_t)nsend * per);
	else {
		/*
		 * The first cap messages sent find room (DROP), and the last
		 * cap messages are never the oldest of a full buffer (SLIDE):
		 * either way at least cap of them are received.
		 */
		ck_assert_uint_le(got, (size_t)nsend * per);
		ck_assert_uint_ge(got, cap < (size_t)nsend * per ? cap :
		    (size_t)nsend * per);
	}
	crew_free(w);
	return got;
}

/* The thread counts and capacities every delivery mode is run with. */
static const struct shape {
	int	 nsend;
	int	 nrecv;
	size_t	 cap;
} shapes[] = {
	{ 1, 1, 0 }, { 1, 1, 1 }, { 1, 1, 64 },
	{ 1, 4, 0 }, { 1, 4, 1 }, { 1, 4, 64 },
	{ 4, 1, 0 }, { 4, 1, 1 }, { 4, 1, 64 },
	{ 4, 4, 0 }, { 4, 4, 1 }, { 4, 4, 64 },
	{ 8, 8, 0 }, { 8, 8, 1 }, { 8, 8, 64 },
};
#define NSHAPES	((int)(sizeof(shapes) / sizeof(shapes[0])))

#define DELIVERY_MSGS	6000

/* Plain chan_send/chan_recv deliver each message once, in per-sender order. */
START_TEST(plain_calls_deliver_each_message_once_in_order)
{
	const struct shape *sh = &shapes[_i];

	run_delivery(sh->nsend, sh->nrecv, 1, sh->cap, CHAN_BLOCK, M_PLAIN,
	    M_PLAIN, DELIVERY_MSGS);
}
END_TEST

/* Callers mixing plain, try-retry and timed-retry calls lose nothing. */
START_TEST(mixed_try_and_timed_calls_deliver_each_message_once_in_order)
{
	const struct shape *sh = &shapes[_i];

	run_delivery(sh->nsend, sh->nrecv, 1, sh->cap, CHAN_BLOCK, M_MIXED,
	    M_MIXED, DELIVERY_MSGS / 2);
}
END_TEST

/* chan_sendn/chan_recvn batches (all three forms) deliver in order. */
START_TEST(batch_calls_deliver_each_message_once_in_order)
{
	const struct shape *sh = &shapes[_i];

	run_delivery(sh->nsend, sh->nrecv, 1, sh->cap, CHAN_BLOCK, M_BATCH,
	    M_BATCH, DELIVERY_MSGS);
}
END_TEST

/* Batch senders and single-message receivers (and back) interoperate. */
START_TEST(batch_and_single_calls_interoperate)
{
	const struct shape *sh = &shapes[_i];

	run_delivery(sh->nsend, sh->nrecv, 1, sh->cap, CHAN_BLOCK, M_BATCH,
	    M_MIXED, DELIVERY_MSGS / 2);
	run_delivery(sh->nsend, sh->nrecv, 1, sh->cap, CHAN_BLOCK, M_MIXED,
	    M_BATCH, DELIVERY_MSGS / 2);
}
END_TEST

static const size_t caps[] = { 0, 1, 64 };
#define NCAPS	((int)(sizeof(caps) / sizeof(caps[0])))

#define SELECT_MSGS	8000

/* Receivers selecting over four channels get each message once, in order. */
START_TEST(select_receivers_over_four_channels_deliver_once_in_order)
{
	run_delivery(4, 4, 4, caps[_i], CHAN_BLOCK, M_PLAIN, M_SELECT,
	    SELECT_MSGS);
	run_delivery(1, 2, 4, caps[_i], CHAN_BLOCK, M_PLAIN, M_SELECT,
	    SELECT_MSGS / 4);
}
END_TEST

/* Senders selecting over four channels send each message exactly once. */
START_TEST(select_senders_over_four_channels_deliver_once_in_order)
{
	/* One plain receiver per channel, so no channel fills for good. */
	run_delivery(4, 4, 4, caps[_i], CHAN_BLOCK, M_SELECT, M_PLAIN,
	    SELECT_MSGS);
}
END_TEST

/* Selecting senders and selecting receivers over four channels. */
START_TEST(select_senders_and_select_receivers_deliver_once_in_order)
{
	run_delivery(4, 4, 4, caps[_i], CHAN_BLOCK, M_SELECT, M_SELECT,
	    SELECT_MSGS);
	run_delivery(8, 8, 2, caps[_i], CHAN_BLOCK, M_SELECT, M_SELECT,
	    SELECT_MSGS / 2);
}
END_TEST

/*
 * A relay is both a sender and a receiver: each of its selects offers its
 * next message on every channel and a receive on every channel.  The last
 * relay to finish sending closes the channels; every relay then drains.
 */
struct relay {
	struct sender	*s;
	struct receiver	*rv;
};

static void *
relay_main(void *arg)
{
	struct relay *y = arg;
	struct run *r = y->s->r;
	struct chan_case cases[2 * MAXCHAN + 1];
	uint64_t m, bufs[MAXCHAN];
	bool open[MAXCHAN];
	uint32_t seq = 0;
	size_t n, j;
	int c, i, nopen = r->nchan;

	for (c = 0; c < r->nchan; c++)
		open[c] = true;
	while (nopen > 0) {
		n = 0;
		m = MSG(y->s->id, seq);
		if (seq < r->per_sender)
			for (c = 0; c < r->nchan; c++)
				cases[n++] = (struct chan_case){ r->ch[c],
				    CHAN_SEND, &m, -1 };
		for (c = 0; c < r->nchan; c++) {
			bufs[c] = UINT64_MAX;
			if (open[c])
				cases[n++] = (struct chan_case){ r->ch[c],
				    CHAN_RECV, &bufs[c], -1 };
		}
		n = add_disabled_case(cases, n, &y->s->rng);
		if ((i = select_mixed(cases, n, &y->s->rng)) < 0) {
			stress_fail("relay %u: select: %s", y->s->id,
			    strerror(errno));
			break;
		}
		if (cases[i].ch == NULL) {
			stress_fail("relay %u: chose a disabled case", y->s->id);
			break;
		}
		if (cases[i].op == CHAN_SEND) {
			/* No channel closes while a relay still sends. */
			if (cases[i].err != 0) {
				stress_fail("relay %u: send err %d", y->s->id,
				    cases[i].err);
				break;
			}
			for (j = 0; j < (size_t)r->nchan; j++)
				if (bufs[j] != UINT64_MAX)
					stress_fail("relay %u: a send case "
					    "completed and a receive too",
					    y->s->id);
			y->s->sent = ++seq;
			if (seq == r->per_sender &&
			    atomic_fetch_sub(&r->relays_sending, 1) == 1)
				for (c = 0; c < r->nchan; c++)
					chan_close(r->ch[c]);
			continue;
		}
		c = (int)((uint64_t *)cases[i].elem - bufs);
		if (cases[i].err == EPIPE) {
			open[c] = false;
			nopen--;
			continue;
		}
		if (cases[i].err != 0) {
			stress_fail("relay %u: recv err %d", y->s->id,
			    cases[i].err);
			break;
		}
		/* A select never pairs its own send with its own receive. */
		if (seq < r->per_sender && bufs[c] == m)
			stress_fail("relay %u received the message it was "
			    "offering in the same select", y->s->id);
		logmsg(y->rv, bufs[c], (unsigned)c);
	}
	return NULL;
}

/* Selects that both send and receive on the same channels lose nothing. */
START_TEST(selects_sending_and_receiving_on_same_channels_deliver_once)
{
	size_t cap = caps[_i % NCAPS];
	int nchan = _i < NCAPS ? 4 : 1;	/* four channels, then just one */
	struct relay y[4];
	pthread_t thr[4];
	struct crew *w;
	uint32_t per = (uint32_t)stress_scale(SELECT_MSGS / 4 /
	    (cap < 16 ? 8 : 1));
	int i, n = 4;

	w = crew_new(n, n, nchan, cap, CHAN_BLOCK, M_SELECT, M_SELECT, per);
	atomic_store(&w->run.relays_sending, n);
	for (i = 0; i < n; i++) {
		y[i].s = &w->s[i];
		y[i].rv = &w->rv[i];
		ck_assert_int_eq(pthread_create(&thr[i], NULL, relay_main,
		    &y[i]), 0);
	}
	for (i = 0; i < n; i++)
		ck_assert_int_eq(pthread_join(thr[i], NULL), 0);
	for (i = 0; i < n; i++)
		ck_assert_uint_eq(w->s[i].sent, per);
	ck_assert_uint_eq(check_logs(w, true), (size_t)n * per);
	crew_free(w);
}
END_TEST

/*
 * Racing closes: senders send until EPIPE, receivers receive until EPIPE,
 * and the main thread closes the channels once a quarter of the messages
 * went through.  Every send that returned 0 is received exactly once and no
 * send that returned EPIPE is ever received (check_logs: sequence numbers
 * below sent only).
 */
static const struct close_case {
	enum mode	 sm;
	enum mode	 rm;
	int		 nchan;
	size_t		 cap;
} close_cases[] = {
	{ M_PLAIN, M_PLAIN, 1, 0 }, { M_PLAIN, M_PLAIN, 1, 1 },
	{ M_PLAIN, M_PLAIN, 1, 64 },
	{ M_MIXED, M_MIXED, 1, 0 }, { M_MIXED, M_MIXED, 1, 1 },
	{ M_MIXED, M_MIXED, 1, 64 },
	{ M_BATCH, M_BATCH, 1, 0 }, { M_BATCH, M_BATCH, 1, 1 },
	{ M_BATCH, M_BATCH, 1, 64 },
	{ M_SELECT, M_SELECT, 2, 0 }, { M_SELECT, M_SELECT, 2, 1 },
	{ M_SELECT, M_SELECT, 2, 64 },
};
#define NCLOSE	((int)(sizeof(close_cases) / sizeof(close_cases[0])))

/*
 * One racing close: nsend senders of per messages each and nrecv
 * receivers; the main thread closes once trigger messages went through.
 */
static void
close_round(const struct close_case *cc, int nsend, int nrecv, uint32_t per,
    unsigned long trigger)
{
	struct crew *w;
	int i;

	w = crew_new(nsend, nrecv, cc->nchan, cc->cap, CHAN_BLOCK, cc->sm,
	    cc->rm, per);
	w->run.track = true;
	start_receivers(w);
	start_senders(w);
	/* Bounded spin: the threads make progress or the test times out. */
	while (atomic_load(&w->run.received) < trigger &&
	    !atomic_load(&stress_failed))
		sched_yield();
	close_all(w);
	join_senders(w);
	join_receivers(w);
	for (i = 0; i < nsend; i++)
		ck_assert_msg(w->s[i].err == EPIPE || (w->s[i].err == 0 &&
		    w->s[i].sent == per), "sender %d: err %d", i,
		    w->s[i].err);
	for (i = 0; i < nrecv; i++)
		ck_assert_int_eq(w->rv[i].err, EPIPE);
	ck_assert_uint_eq(check_logs(w, true), sent_total(w));
	crew_free(w);
}

START_TEST(close_racing_active_threads_loses_and_invents_nothing)
{
	const struct close_case *cc = &close_cases[_i];
	uint32_t per = (uint32_t)stress_scale(cc->cap < 16 ? 250 : 2000);
	int round;

	/* A quarter, an eighth, a twelfth of the messages go through first. */
	for (round = 0; round < 3; round++)
		close_round(cc, 4, 4, per, per / (unsigned long)(1 + round));
}
END_TEST

/*
 * Many short rounds of one sender feeding four receivers, which mostly
 * wait, closed after a random few messages: closes land at many points of
 * the publish-then-wake cycle (one is a receiver asleep beside an element
 * just published and not yet served), and each must lose nothing.
 */
START_TEST(close_in_short_transfers_to_waiting_receivers_loses_nothing)
{
	static const struct close_case cc[] = {
		{ M_PLAIN, M_PLAIN, 1, 1 }, { M_PLAIN, M_PLAIN, 1, 4 },
		{ M_PLAIN, M_SELECT, 1, 4 }, { M_BATCH, M_MIXED, 1, 4 },
	};
	unsigned long round, rounds = stress_scale(50);
	uint64_t rng = stress_seed((unsigned)_i);

	for (round = 0; round < rounds; round++)
		close_round(&cc[_i], 1, 4, 64, 1 + stress_rand(&rng) % 48);
}
END_TEST

/*
 * Wait until every sender (or receiver) of w sleeps in its blocking call.
 * A retrying thread (a mode other than M_PLAIN: try and timed calls in a
 * loop, deadlines at most 200 us away) may never be seen asleep while the
 * CPUs are busy: each wait yields a whole time slice to the busy process
 * before it would sleep, and its deadline passes first (beside two busy
 * loops, 8 runs of 18 failed here).  Such a thread is blocked all the same,
 * retrying: it gets a second to be seen asleep, then the test goes on.
 */
static void
wait_all_asleep(atomic_int *tids[], int n, bool retrying)
{
	pid_t tid;

	for (int i = 0; i < n; i++) {
		while ((tid = atomic_load(tids[i])) == 0)
			sched_yield();
		if (retrying)
			(void)stress_wait_asleep_for(tid, 1000000000LL);
		else
			ck_assert_msg(stress_wait_asleep(tid),
			    "thread %d never blocked", i);
	}
}

static const struct blocked_case {
	enum mode	 m;
	int		 nchan;
	size_t		 cap;
} blocked_cases[] = {
	{ M_PLAIN, 1, 0 }, { M_PLAIN, 1, 1 }, { M_PLAIN, 1, 4 },
	{ M_MIXED, 1, 0 }, { M_MIXED, 1, 4 },
	{ M_BATCH, 1, 0 }, { M_BATCH, 1, 4 },
	{ M_SELECT, 2, 0 }, { M_SELECT, 2, 1 }, { M_SELECT, 2, 4 },
};
#define NBLOCKED ((int)(sizeof(blocked_cases) / sizeof(blocked_cases[0])))

/*
 * Close wakes senders blocked on a full (or unbuffered) channel with EPIPE;
 * what they had buffered before is then received exactly once.
 */
START_TEST(close_wakes_blocked_senders_and_keeps_buffered_messages)
{
	const struct blocked_case *bc = &blocked_cases[_i];
	atomic_int *tids[4];
	struct crew *w;
	uint64_t m;
	size_t got = 0;
	int i, c, err;

	w = crew_new(4, 1, bc->nchan, bc->cap, CHAN_BLOCK, bc->m, M_PLAIN,
	    1000);
	start_senders(w);
	for (i = 0; i < 4; i++)
		tids[i] = &w->s[i].tid;
	/* Every message that fits is in; each sender then blocks for good. */
	for (;;) {
		size_t len = 0;

		for (c = 0; c < bc->nchan; c++)
			len += chan_len(w->run.ch[c]);
		if (len == bc->cap * (size_t)bc->nchan)
			break;
		sched_yield();
	}
	wait_all_asleep(tids, 4, bc->m != M_PLAIN);
	close_all(w);
	join_senders(w);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(w->s[i].err, EPIPE);
	ck_assert_uint_eq(sent_total(w), bc->cap * (size_t)bc->nchan);
	/* Drain by hand into receiver 0's log. */
	for (c = 0; c < bc->nchan; c++) {
		while ((err = chan_recv(w->run.ch[c], &m)) == 0) {
			w->rv[0].log[w->rv[0].nlog++] = LOG_ENTRY(m,
			    (unsigned)c);
			got++;
		}
		ck_assert_int_eq(err, EPIPE);
	}
	ck_assert_uint_eq(check_logs(w, true), got);
	crew_free(w);
}
END_TEST

/* Close wakes every receiver blocked on an empty channel with EPIPE. */
START_TEST(close_wakes_blocked_receivers_with_epipe)
{
	const struct blocked_case *bc = &blocked_cases[_i];
	atomic_int *tids[4];
	struct crew *w;
	int i;

	w = crew_new(1, 4, bc->nchan, bc->cap, CHAN_BLOCK, M_PLAIN, bc->m, 1);
	start_receivers(w);
	for (i = 0; i < 4; i++)
		tids[i] = &w->rv[i].tid;
	wait_all_asleep(tids, 4, bc->m != M_PLAIN);
	/* Close one channel at a time: selects go back to waiting on the rest. */
	close_all(w);
	join_receivers(w);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(w->rv[i].err, EPIPE);
		ck_assert_uint_eq(w->rv[i].nlog, 0);
	}
	w->s[0].sent = 0;
	check_logs(w, true);
	crew_free(w);
}
END_TEST

/* A receiver that takes one message, in the form its mode says, and ends. */
struct oneshot {
	chan_t		*ch;
	enum mode	 m;
	pthread_t	 thr;
	atomic_int	 tid;
	int		 err;
	uint64_t	 got;
};

static void *
oneshot_main(void *arg)
{
	struct oneshot *o = arg;
	struct chan_case cases[2];
	struct timespec ts = stress_deadline(30LL * 1000000000LL);
	int i;

	atomic_store(&o->tid, stress_gettid());
	switch (o->m) {
	case M_SELECT:
		cases[0] = (struct chan_case){ NULL, CHAN_SEND, NULL, -1 };
		cases[1] = (struct chan_case){ o->ch, CHAN_RECV, &o->got, -1 };
		i = chan_select(cases, 2);
		o->err = i == 1 ? cases[1].err : i < 0 ? errno : EINVAL;
		break;
	case M_MIXED:
		o->err = chan_timedrecv(o->ch, &o->got, &ts);
		break;
	default:
		o->err = chan_recv(o->ch, &o->got);
		break;
	}
	return NULL;
}

/*
 * Three receivers sleep on an empty buffered channel; the main thread sends
 * three messages (one batch, or three sends) and closes at once, before the
 * receivers can run.  Nothing buffered is lost: each receiver takes one,
 * none gets EPIPE while a message is left for it.
 */
START_TEST(close_right_after_sends_lets_sleeping_receivers_drain)
{
	static const enum mode modes[] = { M_PLAIN, M_SELECT, M_MIXED };
	enum mode m = modes[_i % 3];
	bool batch = _i >= 3;
	unsigned long round, rounds = stress_scale(10);
	struct oneshot o[3];
	atomic_int *tids[3];
	uint64_t v[3] = { 1, 2, 3 }, seen;
	size_t n;
	chan_t *ch;
	int k;

	for (round = 0; round < rounds; round++) {
		ck_assert_ptr_nonnull(ch = chan_create(sizeof(uint64_t), 4,
		    CHAN_BLOCK));
		for (k = 0; k < 3; k++) {
			o[k] = (struct oneshot){ .ch = ch, .m = m };
			tids[k] = &o[k].tid;
			ck_assert_int_eq(pthread_create(&o[k].thr, NULL,
			    oneshot_main, &o[k]), 0);
		}
		wait_all_asleep(tids, 3, false);
		if (batch) {
			ck_assert_int_eq(chan_sendn(ch, v, 3, &n), 0);
			ck_assert_uint_eq(n, 3);
		} else
			for (k = 0; k < 3; k++)
				ck_assert_int_eq(chan_trysend(ch, &v[k]), 0);
		ck_assert_int_eq(chan_close(ch), 0);
		seen = 0;
		for (k = 0; k < 3; k++) {
			ck_assert_int_eq(pthread_join(o[k].thr, NULL), 0);
			ck_assert_msg(o[k].err == 0, "receiver %d: %s with "
			    "messages buffered", k, strerror(o[k].err));
			ck_assert(o[k].got >= 1 && o[k].got <= 3);
			ck_assert_msg(!(seen & (1u << o[k].got)), "%llu twice",
			    (unsigned long long)o[k].got);
			seen |= 1u << o[k].got;
		}
		ck_assert_int_eq(chan_tryrecv(ch, &v[0]), EPIPE);
		chan_destroy(ch);
	}
}
END_TEST

/*
 * CHAN_DROP and CHAN_SLIDE under concurrency: what arrives is a subsequence
 * of each sender's messages in order, received at most once, no more than
 * was sent and at least cap of them (run_delivery checks all that).
 */
static const struct lossy_case {
	enum chan_policy pol;
	int		 nsend;
	int		 nrecv;
	size_t		 cap;
	enum mode	 sm;
	enum mode	 rm;
} lossy_cases[] = {
	{ CHAN_DROP, 1, 1, 1, M_PLAIN, M_PLAIN },
	{ CHAN_DROP, 4, 4, 1, M_PLAIN, M_PLAIN },
	{ CHAN_DROP, 4, 4, 64, M_MIXED, M_BATCH },
	{ CHAN_DROP, 8, 2, 64, M_BATCH, M_SELECT },
	{ CHAN_DROP, 4, 4, 1, M_SELECT, M_MIXED },
	{ CHAN_SLIDE, 1, 1, 1, M_PLAIN, M_PLAIN },
	{ CHAN_SLIDE, 4, 4, 1, M_PLAIN, M_PLAIN },
	{ CHAN_SLIDE, 4, 4, 64, M_MIXED, M_BATCH },
	{ CHAN_SLIDE, 8, 2, 64, M_BATCH, M_SELECT },
	{ CHAN_SLIDE, 4, 4, 1, M_SELECT, M_MIXED },
};
#define NLOSSY	((int)(sizeof(lossy_cases) / sizeof(lossy_cases[0])))

START_TEST(drop_and_slide_deliver_an_ordered_subsequence)
{
	const struct lossy_case *lc = &lossy_cases[_i];

	run_delivery(lc->nsend, lc->nrecv, 1, lc->cap, lc->pol, lc->sm, lc->rm,
	    DELIVERY_MSGS);
}
END_TEST

/*
 * Concurrent senders and no receiver: a CHAN_SLIDE buffer then holds, of
 * each sender, a run of its newest messages (the oldest go first), and a
 * CHAN_DROP buffer a run of its oldest ones (the newest are refused); full
 * either way.
 */
START_TEST(lossy_buffer_keeps_per_sender_runs_without_receivers)
{
	enum chan_policy pol = _i < 3 ? CHAN_SLIDE : CHAN_DROP;
	static const size_t lcaps[] = { 1, 7, 64 };
	size_t cap = lcaps[_i % 3];
	uint32_t per = (uint32_t)stress_scale(4000), lo[MAXTHR], hi[MAXTHR];
	bool any[MAXTHR] = { false };
	struct crew *w;
	uint64_t m;
	size_t n = 0;
	unsigned s;
	int err;

	w = crew_new(4, 1, 1, cap, pol, M_MIXED, M_PLAIN, per);
	start_senders(w);
	join_senders(w);
	ck_assert_uint_eq(sent_total(w), 4 * per);
	ck_assert_uint_eq(chan_len(w->run.ch[0]), cap);
	close_all(w);
	while ((err = chan_recv(w->run.ch[0], &m)) == 0) {
		s = MSG_SENDER(m);
		ck_assert_uint_lt(s, 4);
		if (any[s])
			ck_assert_msg(MSG_SEQ(m) == hi[s] + 1, "sender %u: %u "
			    "after %u: not a run", s, MSG_SEQ(m), hi[s]);
		else
			lo[s] = MSG_SEQ(m);
		any[s] = true;
		hi[s] = MSG_SEQ(m);
		n++;
	}
	ck_assert_int_eq(err, EPIPE);
	ck_assert_uint_eq(n, cap);
	for (s = 0; s < 4; s++) {
		if (!any[s])
			continue;
		if (pol == CHAN_SLIDE)
			ck_assert_msg(hi[s] == per - 1, "SLIDE lost sender "
			    "%u's newest message but kept %u", s, hi[s]);
		else
			ck_assert_msg(lo[s] == 0, "DROP refused sender %u's "
			    "message 0 but kept %u", s, lo[s]);
	}
	crew_free(w);
}
END_TEST

/*
 * A semaphore: a channel of capacity 2 holding two tokens.  Eight threads
 * take a token (by any receive form), hold it, and give it back.  No more
 * than two ever hold one, no token is ever held twice, giving back always
 * finds room, and the two tokens are there at the end.
 */
struct sem {
	chan_t		*ch;
	size_t		 esize;
	bool		 mixed;
	unsigned	 iters;
	atomic_int	 holders;
	atomic_int	 max;
	atomic_int	 held[2];
};

struct sem_thread {
	struct sem	*sem;
	pthread_t	 thr;
	uint64_t	 rng;
};

static int
sem_take(struct sem_thread *t, uint64_t *tok)
{
	chan_t *ch = t->sem->ch;
	void *p = t->sem->esize ? tok : NULL;
	struct chan_case cases[2];
	size_t done;
	int i, err;

	if (!t->sem->mixed)
		return chan_recv(ch, p);
	switch (stress_rand(&t->rng) % 4) {
	case 0:
		return recv_mixed(ch, p, &t->rng);
	case 1:
		err = recvn_mixed(ch, p, 1, &done, &t->rng);
		if (err == 0 && done != 1)
			stress_fail("recvn of 1 got %zu", done);
		return err;
	default:
		cases[0] = (struct chan_case){ ch, CHAN_RECV, p, -1 };
		cases[1] = (struct chan_case){ NULL, CHAN_RECV, NULL, -1 };
		if ((i = select_mixed(cases, 2, &t->rng)) != 0) {
			stress_fail("select: %d (%s)", i, strerror(errno));
			return EINVAL;
		}
		return cases[0].err;
	}
}

static void *
sem_main(void *arg)
{
	struct sem_thread *t = arg;
	struct sem *sem = t->sem;
	uint64_t tok = 0;
	int err, h, m, zero;
	unsigned i, k;

	for (i = 0; i < sem->iters; i++) {
		if ((err = sem_take(t, &tok)) != 0) {
			stress_fail("take: %s", strerror(err));
			return NULL;
		}
		h = atomic_fetch_add(&sem->holders, 1) + 1;
		while (h > (m = atomic_load(&sem->max)) &&
		    !atomic_compare_exchange_weak(&sem->max, &m, h))
			;
		if (sem->esize) {
			zero = 0;
			if (tok > 1 || !atomic_compare_exchange_strong(
			    &sem->held[tok], &zero, 1)) {
				stress_fail("token %llu taken twice",
				    (unsigned long long)tok);
				return NULL;
			}
		}
		for (k = stress_rand(&t->rng) % 64; k > 0; k--)
			atomic_signal_fence(memory_order_seq_cst);
		if (sem->esize)
			atomic_store(&sem->held[tok], 0);
		atomic_fetch_sub(&sem->holders, 1);
		/* A holder's token has a free slot waiting for it. */
		if (i % 2 == 0)
			err = chan_trysend(sem->ch, sem->esize ? &tok : NULL);
		else
			err = chan_send(sem->ch, sem->esize ? &tok : NULL);
		if (err != 0) {
			stress_fail("give back: %s", strerror(err));
			return NULL;
		}
	}
	return NULL;
}

START_TEST(two_token_channel_never_admits_more_than_two)
{
	struct sem sem = { .esize = (_i & 1) ? sizeof(uint64_t) : 0,
	    .mixed = (_i & 2) != 0 };
	struct sem_thread t[8];
	uint64_t tok;
	int i;

	stress_reset();
	sem.iters = (unsigned)stress_scale(2000);
	ck_assert_ptr_nonnull(sem.ch = chan_create(sem.esize, 2, CHAN_BLOCK));
	for (tok = 0; tok < 2; tok++)
		ck_assert_int_eq(chan_trysend(sem.ch, &tok), 0);
	for (i = 0; i < 8; i++) {
		t[i].sem = &sem;
		t[i].rng = stress_seed((unsigned)i);
		ck_assert_int_eq(pthread_create(&t[i].thr, NULL, sem_main,
		    &t[i]), 0);
	}
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(pthread_join(t[i].thr, NULL), 0);
	ck_assert_msg(!atomic_load(&stress_failed), "worker: %s",
	    stress_fail_msg);
	ck_assert_int_le(atomic_load(&sem.max), 2);
	ck_assert_int_ge(atomic_load(&sem.max), 1);
	ck_assert_uint_eq(chan_len(sem.ch), 2);
	ck_assert_int_eq(chan_trysend(sem.ch, &tok), EAGAIN);
	chan_destroy(sem.ch);
}
END_TEST

static Suite *
stress_suite(void)
{
	Suite *s = suite_create("stress");
	TCase *tc;

	tc = tcase_create("delivery");
	tcase_set_timeout(tc, STRESS_TIMEOUT);
	tcase_add_checked_fixture(tc, NULL, stress_none_counted_blocked);
	tcase_add_loop_test(tc, plain_calls_deliver_each_message_once_in_order,
	    0, NSHAPES);
	tcase_add_loop_test(tc,
	    mixed_try_and_timed_calls_deliver_each_message_once_in_order, 0,
	    NSHAPES);
	tcase_add_loop_test(tc, batch_calls_deliver_each_message_once_in_order,
	    0, NSHAPES);
	tcase_add_loop_test(tc, batch_and_single_calls_interoperate, 0,
	    NSHAPES);
	suite_add_tcase(s, tc);

	tc = tcase_create("select");
	tcase_set_timeout(tc, STRESS_TIMEOUT);
	tcase_add_checked_fixture(tc, NULL, stress_none_counted_blocked);
	tcase_add_loop_test(tc,
	    select_receivers_over_four_channels_deliver_once_in_order, 0,
	    NCAPS);
	tcase_add_loop_test(tc,
	    select_senders_over_four_channels_deliver_once_in_order, 0, NCAPS);
	tcase_add_loop_test(tc,
	    select_senders_and_select_receivers_deliver_once_in_order, 0,
	    NCAPS);
	tcase_add_loop_test(tc,
	    selects_sending_and_receiving_on_same_channels_deliver_once, 0,
	    2 * NCAPS);
	suite_add_tcase(s, tc);

	tc = tcase_create("close");
	tcase_set_timeout(tc, STRESS_TIMEOUT);
	tcase_add_checked_fixture(tc, NULL, stress_none_counted_blocked);
	tcase_add_loop_test(tc,
	    close_racing_active_threads_loses_and_invents_nothing, 0, NCLOSE);
	tcase_add_loop_test(tc,
	    close_in_short_transfers_to_waiting_receivers_loses_nothing, 0, 4);
	tcase_add_loop_test(tc,
	    close_wakes_blocked_senders_and_keeps_buffered_messages, 0,
	    NBLOCKED);
	tcase_add_loop_test(tc, close_wakes_blocked_receivers_with_epipe, 0,
	    NBLOCKED);
	tcase_add_loop_test(tc,
	    close_right_after_sends_lets_sleeping_receivers_drain, 0, 6);
	suite_add_tcase(s, tc);

	tc = tcase_create("lossy");
	tcase_set_timeout(tc, STRESS_TIMEOUT);
	tcase_add_loop_test(tc, drop_and_slide_deliver_an_ordered_subsequence,
	    0, NLOSSY);
	tcase_add_loop_test(tc,
	    lossy_buffer_keeps_per_sender_runs_without_receivers, 0, 6);
	suite_add_tcase(s, tc);

	tc = tcase_create("semaphore");
	tcase_set_timeout(tc, STRESS_TIMEOUT);
	tcase_add_loop_test(tc, two_token_channel_never_admits_more_than_two,
	    0, 4);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(stress_suite());
	int failed;

	stress_announce_seed("check_stress");
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
