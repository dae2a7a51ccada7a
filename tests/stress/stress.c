/*
 * stress: exactly-once delivery under load, with no Check dependency.
 *
 * Every message carries its sender, a per-sender sequence number and a
 * check word.  Producers send 0, 1, 2, ... with a random mix of the plain,
 * try, timed, select and batch calls; consumers receive with a random mix
 * of the same.  Afterwards every message whose send returned 0 must have
 * been received exactly once (CHAN_BLOCK) or at most once (CHAN_DROP,
 * CHAN_SLIDE), no message whose send failed may have been received, and
 * each consumer must have seen each sender's messages in increasing order.
 * With one producer, a DROP or SLIDE channel must also have lost only what
 * its policy discards from a full ring (verify_lossy).
 *
 * The matrix: 1/2/4/16/64 producers x 1/2/4/16/64 consumers, capacity 0
 * (BLOCK only), 1, 64 and 4096 with BLOCK, DROP and SLIDE, three call
 * mixes, and closes racing the sends.  Then close storms: four threads
 * close one channel at once while others wait in it.  The quick pass (the default, run by
 * make check through tests/stress_quick.sh) samples the matrix for a few
 * seconds; STRESS_FULL=1 runs all of it, STRESS_MESSAGES messages offered in
 * all (default 1.5e8, of which the closes racing the sends refuse about a
 * third) within STRESS_SECONDS (default 480).
 *
 * Environment: STRESS_FULL, STRESS_SEED, STRESS_MESSAGES, STRESS_SECONDS,
 * STRESS_STALL (watchdog seconds), STRESS_VERBOSE (a line per
 * configuration), STRESS_ONLY (run just the configuration printed so, as in
 * "P=4 C=4 cap=1 DROP mix=all", or "close storm"; with the same STRESS_SEED,
 * STRESS_FULL and STRESS_MESSAGES it gets the seed and the message count it
 * had in the whole run, and a failing configuration prints the line that
 * repeats it).
 */
#include "stress.h"

#include <sched.h>

enum mix {
	MIX_PLAIN,		/* send / recv only */
	MIX_BATCH,		/* chan_sendn / chan_recvn, some plain */
	MIX_ALL,		/* plain, try, timed, select and batch */
	NMIX
};

static const char *const mix_name[] = { "plain", "batch", "all" };
static const char *const policy_name[] = { "BLOCK", "DROP", "SLIDE" };

struct config {
	unsigned		np, nc;
	size_t			cap;
	enum chan_policy	policy;
	enum mix		mix;
	int			close_race;
	unsigned long		quota;		/* messages per producer */
	double			seconds;	/* time budget */
};

struct run {
	struct config	 cfg;
	chan_t		*ch;
	chan_t		*never;		/* open, empty, unbuffered: never ready */
	chan_t		*full;		/* capacity 1, full: a send never ready */
	struct bitmap	 seen;		/* bit sender * quota + seq */
	atomic_int	 stop;		/* time is up: producers stop */
	atomic_int	 closed;	/* main is closing ch (close race) */
	atomic_ulong	 sent;		/* sends that returned 0, so far */
	atomic_ulong	 received;
	unsigned long	*accepted;	/* per producer, read after join */
	uint64_t	 seed;
	/*
	 * One producer on a DROP or SLIDE channel (see verify_lossy): how
	 * many messages the consumers have taken so far, counted after each
	 * receive returns, so never ahead; and per message, that count as
	 * the producer read it before the call that sent the message, or
	 * NOT_PUT for one a SLIDE batch left out (a later one of the same
	 * batch would have slid it out).
	 */
	atomic_ulong	 taken;
	unsigned long	*before;
};

#define NOT_PUT	(~0UL)

struct worker {
	struct run	*run;
	unsigned	 id;
	struct rng	 rng;
	int64_t		*last;		/* consumer: last seq seen per sender */
	unsigned long	 count;
};

#define BATCH_MAX	16
#define TRY_MAX		16

static unsigned long total_messages, total_sent, total_configs;
static int verbose, full;
/* What a failing configuration's repeat line names. */
static uint64_t base_seed;
static unsigned long messages;

/* After a failure: the command line that runs that configuration again. */
static void
repeat_line(const char *cfg)
{
	fprintf(stderr, "stress: to repeat: STRESS_SEED=%llu "
	    "STRESS_MESSAGES=%lu STRESS_ONLY='%s'%s\n",
	    (unsigned long long)base_seed, messages, cfg,
	    full ? " STRESS_FULL=1" : "");
}

static const char *
cfg_str(const struct config *c)
{
	static char buf[160];

	snprintf(buf, sizeof(buf), "P=%u C=%u cap=%zu %s mix=%s%s",
	    c->np, c->nc, c->cap, policy_name[c->policy], mix_name[c->mix],
	    c->close_race ? " close-race" : "");
	return buf;
}

/* Is err an acceptable failure of a send (other than success)? */
static int
send_error_ok(struct run *r, int err, int may_wait)
{
	if (err == EPIPE)
		return r->cfg.close_race && atomic_load(&r->closed);
	/* DROP and SLIDE never wait, so they never say EAGAIN or ETIMEDOUT. */
	if (err == EAGAIN || err == ETIMEDOUT)
		return may_wait && r->cfg.policy == CHAN_BLOCK;
	return 0;
}

/* A deadline for a timed call: sometimes already past, mostly soon. */
static struct timespec
random_deadline(struct rng *g)
{
	struct timespec ts;

	if (rng_below(g, 8) == 0) {
		ts.tv_sec = 0;		/* long past */
		ts.tv_nsec = rng_below(g, 1000000000);
		return ts;
	}
	return deadline_us(rng_below(g, 300));
}

/*
 * Send m with a randomly chosen call.  Returns 1 if it was sent, 0 if the
 * channel was closed (the producer stops); retries on EAGAIN/ETIMEDOUT.
 */
static int
send_one(struct worker *w, struct msg m)
{
	struct run *r = w->run;
	struct timespec ts;
	struct chan_case cs[4];
	struct msg copy = m, junk;
	int err, i, tries, kind;

	kind = r->cfg.mix == MIX_ALL ? (int)rng_below(&w->rng, 4) : 0;
	for (tries = 0;; tries++) {
		/* Bound the retries so that try-only pairs cannot livelock. */
		if (tries >= TRY_MAX)
			kind = 0;
		switch (kind) {
		case 0:
			err = chan_send(r->ch, &m);
			if (err != 0 && !send_error_ok(r, err, 0))
				violation("%s: chan_send: %s", cfg_str(&r->cfg),
				    strerror(err));
			return err == 0;
		case 1:
			err = chan_trysend(r->ch, &m);
			break;
		case 2:
			ts = random_deadline(&w->rng);
			err = chan_timedsend(r->ch, &m, &ts);
			break;
		default:
			/*
			 * Two send cases carry the same message: if a select
			 * ever completed both, the consumer sees a duplicate.
			 */
			cs[0] = (struct chan_case){ r->ch, CHAN_SEND, &m, -1 };
			cs[1] = (struct chan_case){ r->never, CHAN_RECV, &junk, -1 };
			cs[2] = (struct chan_case){ NULL, CHAN_RECV, &junk, -1 };
			cs[3] = (struct chan_case){ r->ch, CHAN_SEND, &copy, -1 };
			switch (rng_below(&w->rng, 3)) {
			case 0:
				i = chan_select(cs, 4);
				break;
			case 1:
				i = chan_tryselect(cs, 4);
				break;
			default:
				ts = random_deadline(&w->rng);
				i = chan_timedselect(cs, 4, &ts);
				break;
			}
			if (i == 0 || i == 3) {
				err = cs[i].err;
				if (err == 0)
					return 1;
				if (err != EPIPE || !send_error_ok(r, err, 1))
					violation("%s: select send case err %d",
					    cfg_str(&r->cfg), err);
				return 0;
			}
			if (i >= 0) {
				violation("%s: select completed case %d",
				    cfg_str(&r->cfg), i);
				return 0;
			}
			err = errno;
			if (err != EAGAIN && err != ETIMEDOUT)
				violation("%s: select: %s", cfg_str(&r->cfg),
				    strerror(err));
			if (r->cfg.policy != CHAN_BLOCK)
				violation("%s: select on a %s channel: %s",
				    cfg_str(&r->cfg),
				    policy_name[r->cfg.policy], strerror(err));
			continue;
		}
		if (err == 0)
			return 1;
		if (!send_error_ok(r, err, 1))
			violation("%s: send kind %d: %s", cfg_str(&r->cfg),
			    kind, strerror(err));
		if (err == EPIPE || !send_error_ok(r, err, 1))
			return 0;
		if (kind == 1 && (tries & 3) == 3)
			sched_yield();
	}
}

/* Send seq .. seq + n - 1 in one batch call; returns how many went. */
static unsigned long
send_batch(struct worker *w, uint32_t seq, unsigned long n)
{
	struct run *r = w->run;
	struct msg m[BATCH_MAX];
	struct timespec ts;
	size_t i, done = 0;
	int err, kind = (int)rng_below(&w->rng, 3), tries;

	for (i = 0; i < n; i++)
		m[i] = msg_make(w->id, seq + (uint32_t)i);
	for (tries = 0;; tries++) {
		if (tries >= TRY_MAX)
			kind = 0;
		done = 0;
		switch (kind) {
		case 0:
			err = chan_sendn(r->ch, m, n, &done);
			break;
		case 1:
			err = chan_trysendn(r->ch, m, n, &done);
			break;
		default:
			ts = random_deadline(&w->rng);
			err = chan_timedsendn(r->ch, m, n, &done, &ts);
			break;
		}
		if (err == 0) {
			if (done < 1 || done > n) {
				violation("%s: chan_sendn(n=%lu) sent %zu",
				    cfg_str(&r->cfg), n, done);
				return 0;
			}
			return done;
		}
		if (!send_error_ok(r, err, kind != 0))
			violation("%s: sendn kind %d: %s", cfg_str(&r->cfg),
			    kind, strerror(err));
		if (err == EPIPE || !send_error_ok(r, err, kind != 0))
			return 0;
	}
}

static void *
producer(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->run;
	unsigned long seq = 0, n, quota = r->cfg.quota, taken = 0, i;

	while (seq < quota && !atomic_load_explicit(&r->stop,
	    memory_order_relaxed)) {
		if (r->before != NULL)
			taken = atomic_load(&r->taken);
		if (r->cfg.mix != MIX_PLAIN && rng_below(&w->rng, 2) == 0) {
			n = 1 + rng_below(&w->rng, BATCH_MAX);
			if (n > quota - seq)
				n = quota - seq;
			n = send_batch(w, (uint32_t)seq, n);
			if (n == 0)
				break;
		} else {
			if (!send_one(w, msg_make(w->id, (uint32_t)seq)))
				break;
			n = 1;
		}
		if (r->before != NULL)
			for (i = 0; i < n; i++)
				r->before[seq + i] = r->cfg.policy ==
				    CHAN_SLIDE && i + r->cfg.cap < n ? NOT_PUT :
				    taken;
		seq += n;
		atomic_fetch_add_explicit(&r->sent, n, memory_order_relaxed);
		progress();
		/*
		 * DROP and SLIDE senders never wait: let the consumers run
		 * now and then, or on two CPUs they see almost nothing.
		 */
		if (r->cfg.policy != CHAN_BLOCK && (seq & 7) < n)
			sched_yield();
	}
	r->accepted[w->id] = seq;
	return NULL;
}

/* A consumer got m: check it is well-formed, new, and in sender order. */
static void
got(struct worker *w, const struct msg *m)
{
	struct run *r = w->run;

	if (!msg_valid(m) || m->sender >= r->cfg.np ||
	    m->seq >= r->cfg.quota) {
		violation("%s: garbage message sender %u seq %u check %llx",
		    cfg_str(&r->cfg), m->sender, m->seq,
		    (unsigned long long)m->check);
		return;
	}
	if (bitmap_tas(&r->seen, (size_t)m->sender * r->cfg.quota + m->seq))
		violation("%s: duplicate: sender %u seq %u", cfg_str(&r->cfg),
		    m->sender, m->seq);
	if ((int64_t)m->seq <= w->last[m->sender])
		violation("%s: order: consumer %u got sender %u seq %u after "
		    "%lld", cfg_str(&r->cfg), w->id, m->sender, m->seq,
		    (long long)w->last[m->sender]);
	else
		w->last[m->sender] = m->seq;
	w->count++;
	if (r->before != NULL)
		atomic_fetch_add(&r->taken, 1);
}

static const struct msg sentinel = { 0xdeadbeef, 0xdeadbeef, 0 };

/*
 * Receive once with a randomly chosen call.  Returns the number of
 * messages received, 0 to retry, or -1 once the channel is closed and
 * drained.
 */
static int
recv_some(struct worker *w, int *tries)
{
	struct run *r = w->run;
	struct msg m[BATCH_MAX], a, b;
	struct chan_case cs[4];
	struct msg fill = msg_make(0, 0);
	struct timespec ts;
	size_t n, got_n;
	int err, i, kind;

	if (r->cfg.mix == MIX_PLAIN)
		kind = 0;
	else if (r->cfg.mix == MIX_BATCH)
		kind = rng_below(&w->rng, 2) ? 0 : 4;
	else
		kind = (int)rng_below(&w->rng, 5);
	if (*tries >= TRY_MAX)
		kind = 0;
	switch (kind) {
	case 0:
		err = chan_recv(r->ch, &m[0]);
		goto single;
	case 1:
		err = chan_tryrecv(r->ch, &m[0]);
		goto single;
	case 2:
		ts = random_deadline(&w->rng);
		err = chan_timedrecv(r->ch, &m[0], &ts);
		goto single;
	case 3:
		/*
		 * Two receive cases on the channel: the one not chosen must
		 * keep its sentinel, or the select completed two cases.
		 */
		a = b = sentinel;
		cs[0] = (struct chan_case){ r->ch, CHAN_RECV, &a, -1 };
		cs[1] = (struct chan_case){ r->full, CHAN_SEND, &fill, -1 };
		cs[2] = (struct chan_case){ r->ch, CHAN_RECV, &b, -1 };
		cs[3] = (struct chan_case){ NULL, CHAN_SEND, &fill, -1 };
		switch (rng_below(&w->rng, 3)) {
		case 0:
			i = chan_select(cs, 4);
			break;
		case 1:
			i = chan_tryselect(cs, 4);
			break;
		default:
			ts = random_deadline(&w->rng);
			i = chan_timedselect(cs, 4, &ts);
			break;
		}
		if (i < 0) {
			err = errno;
			if (err != EAGAIN && err != ETIMEDOUT)
				violation("%s: recv select: %s",
				    cfg_str(&r->cfg), strerror(err));
			if (memcmp(&a, &sentinel, sizeof(a)) != 0 ||
			    memcmp(&b, &sentinel, sizeof(b)) != 0)
				violation("%s: failed select (%s) stored a "
				    "message", cfg_str(&r->cfg), strerror(err));
			++*tries;
			return 0;
		}
		if (i != 0 && i != 2) {
			violation("%s: recv select completed case %d",
			    cfg_str(&r->cfg), i);
			return -1;
		}
		if (memcmp(i == 0 ? &b : &a, &sentinel, sizeof(a)) != 0)
			violation("%s: select completed both receive cases",
			    cfg_str(&r->cfg));
		if (cs[i].err == EPIPE)
			return -1;
		if (cs[i].err != 0) {
			violation("%s: recv select case err %d",
			    cfg_str(&r->cfg), cs[i].err);
			return -1;
		}
		got(w, i == 0 ? &a : &b);
		return 1;
	default:
		n = 1 + rng_below(&w->rng, BATCH_MAX);
		got_n = 0;
		switch (rng_below(&w->rng, 3)) {
		case 0:
			err = chan_recvn(r->ch, m, n, &got_n);
			break;
		case 1:
			err = chan_tryrecvn(r->ch, m, n, &got_n);
			break;
		default:
			ts = random_deadline(&w->rng);
			err = chan_timedrecvn(r->ch, m, n, &got_n, &ts);
			break;
		}
		if (err == 0) {
			if (got_n < 1 || got_n > n) {
				violation("%s: chan_recvn(n=%zu) got %zu",
				    cfg_str(&r->cfg), n, got_n);
				return -1;
			}
			for (i = 0; (size_t)i < got_n; i++)
				got(w, &m[i]);
			return (int)got_n;
		}
		goto failed;
	}
single:
	if (err == 0) {
		got(w, &m[0]);
		return 1;
	}
failed:
	if (err == EPIPE)
		return -1;
	if (err != EAGAIN && err != ETIMEDOUT) {
		violation("%s: recv kind %d: %s", cfg_str(&r->cfg), kind,
		    strerror(err));
		return -1;
	}
	if (kind == 0)
		violation("%s: chan_recv: %s", cfg_str(&r->cfg), strerror(err));
	++*tries;
	if ((*tries & 3) == 3)
		sched_yield();
	return 0;
}

static void *
consumer(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->run;
	int n, tries = 0;

	while ((n = recv_some(w, &tries)) >= 0) {
		if (n > 0) {
			tries = 0;
			progress();
		}
	}
	atomic_fetch_add(&r->received, w->count);
	return NULL;
}

/*
 * One producer on a DROP or SLIDE channel, a messages accepted: was each
 * message lost to a full ring?  The ring holds the messages stored (put in
 * the ring) and not yet taken, and whatever is stored is taken in the end
 * (DROP) or taken unless a later one slides it out (SLIDE); taken, read
 * before a call, is at most what had left the ring when the call ran.
 *
 * DROP discards a message only while the ring is full: the messages
 * stored before it, less those taken, are cap.  So the number stored
 * before it (all received) less before[] must be at least cap.
 *
 * SLIDE discards the oldest only while the ring is full: with one
 * producer the ring then holds the cap messages stored last, so the
 * message slid out is the one stored cap places before the one going in,
 * and everything stored before it has left the ring.  So a message lost
 * has cap messages stored after it (the last cap stored always arrive),
 * and the call that stored the cap-th of them read a count no higher than
 * the number received of those stored before the lost one.
 */
static void
verify_lossy(struct run *r, unsigned long a)
{
	const struct config *c = &r->cfg;
	unsigned long seq, stored = 0, *put, *rb, nput = 0, i, j;

	if (c->policy == CHAN_DROP) {
		for (seq = 0; seq < a; seq++) {
			if (bitmap_get(&r->seen, seq)) {
				stored++;
				continue;
			}
			if (stored - r->before[seq] < c->cap)
				violation("%s: DROP discarded seq %lu with room: "
				    "%lu stored before it, %lu taken before its "
				    "send", cfg_str(c), seq, stored,
				    r->before[seq]);
		}
		return;
	}
	/* put[i]: the i-th message stored; rb[i]: how many before it arrived. */
	put = stress_calloc(a + 1, sizeof(*put));
	rb = stress_calloc(a + 1, sizeof(*rb));
	for (seq = 0; seq < a; seq++)
		if (r->before[seq] != NOT_PUT) {
			put[nput] = seq;
			rb[nput++] = stored;
			stored += bitmap_get(&r->seen, seq);
		}
	for (i = 0; i < nput; i++) {
		if (bitmap_get(&r->seen, put[i]))
			continue;
		j = i + c->cap;
		if (j >= nput)
			violation("%s: SLIDE lost seq %lu, one of the last %zu "
			    "it stored", cfg_str(c), put[i], c->cap);
		else if (r->before[put[j]] > rb[i])
			violation("%s: SLIDE lost seq %lu before the ring was "
			    "full: %lu taken before seq %lu was sent, but only "
			    "%lu stored before seq %lu arrived", cfg_str(c),
			    put[i], r->before[put[j]], put[j], rb[i], put[i]);
	}
	free(put);
	free(rb);
}

/* After every thread has finished: compare what was sent with what came. */
static void
verify(struct run *r)
{
	const struct config *c = &r->cfg;
	unsigned long accepted = 0, present = 0;
	unsigned s, seq;
	int found_end = 0, found_start = 0;

	for (s = 0; s < c->np; s++) {
		unsigned long a = r->accepted[s];

		accepted += a;
		for (seq = 0; seq < c->quota; seq++) {
			int bit = bitmap_get(&r->seen,
			    (size_t)s * c->quota + seq);

			present += bit;
			if (seq >= a && bit)
				violation("%s: sender %u seq %u received but "
				    "its send failed (accepted %lu)",
				    cfg_str(c), s, seq, a);
			else if (seq < a && !bit && c->policy == CHAN_BLOCK)
				violation("%s: lost: sender %u seq %u "
				    "(accepted %lu)", cfg_str(c), s, seq, a);
		}
		if (a > 0 && bitmap_get(&r->seen, (size_t)s * c->quota + a - 1))
			found_end = 1;
		if (a > 0 && bitmap_get(&r->seen, (size_t)s * c->quota))
			found_start = 1;
	}
	if (present != atomic_load(&r->received))
		violation("%s: %lu distinct messages but %lu receipts",
		    cfg_str(c), present, atomic_load(&r->received));
	if (present > accepted)
		violation("%s: received %lu > sent %lu", cfg_str(c), present,
		    accepted);
	/*
	 * SLIDE discards the oldest, so the last message stored is never
	 * discarded; DROP discards the newest, so the first one stored (into
	 * an empty channel) never is.
	 */
	if (accepted > 0 && c->policy == CHAN_SLIDE && !found_end)
		violation("%s: no sender's last message arrived", cfg_str(c));
	if (accepted > 0 && c->policy == CHAN_DROP && !found_start)
		violation("%s: no sender's first message arrived", cfg_str(c));
	if (r->before != NULL)
		verify_lossy(r, accepted);
	if (chan_len(r->ch) != 0)
		violation("%s: chan_len %zu after draining", cfg_str(c),
		    chan_len(r->ch));
	if (chan_cap(r->ch) != c->cap)
		violation("%s: chan_cap %zu", cfg_str(c), chan_cap(r->ch));
	total_messages += present;
	total_sent += accepted;
}

static void
run_config(const struct config *cfg, uint64_t seed)
{
	struct run r;
	struct worker *w;
	pthread_t *t;
	struct msg fill = msg_make(0, 0);
	unsigned i, nt = cfg->np + cfg->nc;
	unsigned long close_at = 0;
	double end, start = now_sec(), t_loop, t_prod, t_cons;
	unsigned long violations = atomic_load(&stress_violations);
	struct rng g;
	int err;

	memset(&r, 0, sizeof(r));
	r.cfg = *cfg;
	r.seed = seed;
	set_phase("stress seed %llu: %s", (unsigned long long)seed,
	    cfg_str(cfg));
	if ((r.ch = chan_create(sizeof(struct msg), cfg->cap, cfg->policy)) ==
	    NULL || (r.never = chan_create(sizeof(struct msg), 0,
	    CHAN_BLOCK)) == NULL || (r.full = chan_create(sizeof(struct msg),
	    1, CHAN_BLOCK)) == NULL) {
		violation("%s: chan_create: %s", cfg_str(cfg), strerror(errno));
		exit(1);
	}
	if ((err = chan_send(r.full, &fill)) != 0)
		violation("filling a channel: %s", strerror(err));
	bitmap_init(&r.seen, (size_t)cfg->np * cfg->quota);
	r.accepted = stress_calloc(cfg->np, sizeof(*r.accepted));
	if (cfg->np == 1 && cfg->policy != CHAN_BLOCK)
		r.before = stress_calloc(cfg->quota, sizeof(*r.before));
	w = stress_calloc(nt, sizeof(*w));
	t = stress_calloc(nt, sizeof(*t));
	rng_seed(&g, seed);
	for (i = 0; i < nt; i++) {
		w[i].run = &r;
		w[i].id = i < cfg->np ? i : i - cfg->np;
		rng_seed(&w[i].rng, seed * 1000003 + i);
		if (i >= cfg->np) {
			w[i].last = stress_calloc(cfg->np, sizeof(*w[i].last));
			memset(w[i].last, 0xff, cfg->np * sizeof(*w[i].last));
		}
	}
	/* Consumers first, so an unbuffered channel has takers early. */
	for (i = cfg->np; i < nt; i++)
		spawn(&t[i], consumer, &w[i]);
	for (i = 0; i < cfg->np; i++)
		spawn(&t[i], producer, &w[i]);

	if (cfg->close_race)
		close_at = 1 + rng_below(&g,
		    (uint32_t)(cfg->np * cfg->quota * 3 / 4 + 1));
	end = now_sec() + cfg->seconds;
	/*
	 * The main thread only watches the clock (and, in a close race, the
	 * number sent so far, to close at a random point mid-stream); the
	 * sleeps here pace that watching and synchronise nothing.
	 */
	for (;;) {
		unsigned long sent = atomic_load(&r.sent);

		if (sent >= (unsigned long)cfg->np * cfg->quota)
			break;
		if (cfg->close_race && sent >= close_at)
			break;
		if (now_sec() >= end) {
			atomic_store(&r.stop, 1);
			break;
		}
		pause_us(cfg->close_race ? 50 : 1000);
	}
	if (cfg->close_race) {
		atomic_store(&r.closed, 1);
		if ((err = chan_close(r.ch)) != 0)
			violation("%s: chan_close: %s", cfg_str(cfg),
			    strerror(err));
	}
	t_loop = now_sec();
	for (i = 0; i < cfg->np; i++)
		join(t[i]);
	t_prod = now_sec();
	if (!cfg->close_race && (err = chan_close(r.ch)) != 0)
		violation("%s: chan_close: %s", cfg_str(cfg), strerror(err));
	for (i = cfg->np; i < nt; i++)
		join(t[i]);
	t_cons = now_sec();
	if ((err = chan_close(r.ch)) != EPIPE)
		violation("%s: second chan_close: %s", cfg_str(cfg),
		    strerror(err));
	verify(&r);
	total_configs++;
	if (atomic_load(&stress_violations) != violations)
		repeat_line(cfg_str(cfg));
	if (verbose)
		printf("  %-48s %9lu msgs %7.3f s (budget %.3f; run %.3f, "
		    "producers %.3f, consumers %.3f)\n", cfg_str(cfg),
		    (unsigned long)atomic_load(&r.received), now_sec() - start,
		    cfg->seconds, t_loop - start, t_prod - t_loop,
		    t_cons - t_prod);

	for (i = 0; i < nt; i++)
		free(w[i].last);
	free(w);
	free(t);
	free(r.accepted);
	free(r.before);
	bitmap_free(&r.seen);
	chan_destroy(r.ch);
	chan_destroy(r.never);
	chan_destroy(r.full);
}

/*
 * A close storm: several threads close one channel at the same moment
 * while others wait in it.  Exactly one close returns 0 and the rest
 * EPIPE; every waiter wakes with EPIPE (a receiver after draining what was
 * buffered), and nothing buffered is lost.
 */
struct storm {
	chan_t			*ch;
	pthread_barrier_t	*go;
	int			 role;		/* 0 close, 1 send, 2 recv */
	int			 err;
	unsigned long		 n;		/* received */
};

static void *
storm_main(void *arg)
{
	struct storm *s = arg;
	struct msg m = msg_make(0, 0);
	int err;

	pthread_barrier_wait(s->go);
	if (s->role == 0)
		s->err = chan_close(s->ch);
	else if (s->role == 1) {
		while ((err = chan_send(s->ch, &m)) == 0)
			;
		s->err = err;
	} else {
		while ((err = chan_recv(s->ch, &m)) == 0)
			s->n++;
		s->err = err;
	}
	return NULL;
}

static void
close_storm(unsigned long rounds, uint64_t seed)
{
	enum { NCLOSE = 4, NSEND = 2, NRECV = 2, NT = NCLOSE + NSEND + NRECV };
	struct storm st[NT];
	pthread_t t[NT];
	pthread_barrier_t go;
	struct msg m = msg_make(0, 0);
	unsigned long r, wins, violations = atomic_load(&stress_violations);
	size_t cap;
	int i, err;

	set_phase("close storm seed %llu", (unsigned long long)seed);
	for (r = 0; r < rounds; r++) {
		cap = r % 3 == 0 ? 0 : r % 3 == 1 ? 1 : 8;
		st[0].ch = chan_create(sizeof(struct msg), cap, CHAN_BLOCK);
		if (st[0].ch == NULL) {
			perror("chan_create");
			exit(2);
		}
		/* Something buffered that the receivers must still drain. */
		if (cap > 0 && (err = chan_trysend(st[0].ch, &m)) != 0)
			violation("close storm: trysend: %s", strerror(err));
		pthread_barrier_init(&go, NULL, NT);
		for (i = 0; i < NT; i++) {
			st[i].ch = st[0].ch;
			st[i].go = &go;
			st[i].role = i < NCLOSE ? 0 : i < NCLOSE + NSEND ? 1 : 2;
			st[i].n = 0;
			spawn(&t[i], storm_main, &st[i]);
		}
		wins = 0;
		for (i = 0; i < NT; i++) {
			join(t[i]);
			if (st[i].role == 0 && st[i].err == 0)
				wins++;
			else if (st[i].err != EPIPE)
				violation("close storm: role %d: %s", st[i].role,
				    strerror(st[i].err));
		}
		if (wins != 1)
			violation("close storm: %lu closes returned 0", wins);
		if ((err = chan_tryrecv(st[0].ch, &m)) != EPIPE)
			violation("close storm: left over: %s", strerror(err));
		pthread_barrier_destroy(&go);
		chan_destroy(st[0].ch);
		progress();
	}
	if (atomic_load(&stress_violations) != violations)
		repeat_line("close storm");
}

static const unsigned counts[] = { 1, 2, 4, 16, 64 };
static const size_t caps[] = { 0, 1, 64, 4096 };

/*
 * Roughly how many thousand messages a second a configuration moves on two
 * CPUs (measured with STRESS_VERBOSE=1): each configuration gets an equal
 * share of the time, and messages in proportion to its speed, so that the
 * full run reaches its message count in its time.
 */
static double
weight(const struct config *c)
{
	if (c->cap == 0)
		return 50;
	if (c->cap == 1)
		return c->policy == CHAN_BLOCK ? 35 : 20;
	if (c->policy != CHAN_BLOCK)
		return 100;
	return c->cap == 64 ? 330 : 1100;
}

int
main(void)
{
	struct config *cfgs, c;
	size_t ncfg = 0, nrun = 0, i, pi, ci, ki, mi;
	unsigned pol;
	uint64_t seed;
	double total_w = 0, seconds, start, left;
	const char *only = getenv("STRESS_ONLY");

	full = stress_full();
	seed = base_seed = stress_run_seed();
	messages = env_ulong("STRESS_MESSAGES", full ? 150000000UL : 300000UL);
	seconds = (double)env_ulong("STRESS_SECONDS", full ? 480 : 3);
	printf("stress: seed %llu (STRESS_SEED=%llu to repeat), %s\n",
	    (unsigned long long)seed, (unsigned long long)seed,
	    full ? "full" : "quick");
	fflush(stdout);
	verbose = env_ulong("STRESS_VERBOSE", 0) != 0;
	watchdog_start();

	cfgs = stress_calloc(5 * 5 * 10 * NMIX * 2, sizeof(*cfgs));
	for (pi = 0; pi < 5; pi++)
	for (ci = 0; ci < 5; ci++)
	for (ki = 0; ki < 4; ki++)
	for (pol = CHAN_BLOCK; pol <= CHAN_SLIDE; pol++)
	for (mi = 0; mi < NMIX; mi++) {
		if (caps[ki] == 0 && pol != CHAN_BLOCK)
			continue;
		memset(&c, 0, sizeof(c));
		c.np = counts[pi];
		c.nc = counts[ci];
		c.cap = caps[ki];
		c.policy = (enum chan_policy)pol;
		c.mix = (enum mix)mi;
		/*
		 * The quick pass keeps the diagonal and both extremes of
		 * the thread counts, and rotates the mix through them.
		 */
		if (!full && !(pi == ci || (pi == 0 && ci == 4) ||
		    (pi == 4 && ci == 0)))
			continue;
		if (!full && (size_t)(pi + ki + pol) % NMIX != mi)
			continue;
		/* 64 threads a side are dear under TSan: a third of them. */
		if (!full && (pi == 4 || ci == 4) &&
		    (pi + ci + ki + pol) % 3 != 0)
			continue;
		cfgs[ncfg++] = c;
		if (full || (pi + ci + ki) % 2 == 0) {
			c.close_race = 1;
			cfgs[ncfg++] = c;
		}
	}
	/*
	 * STRESS_ONLY picks from the whole list, so that a configuration
	 * keeps its seed (seed + its place) and its share of the messages.
	 */
	for (i = 0; i < ncfg; i++) {
		total_w += weight(&cfgs[i]);
		if (only == NULL || strcmp(cfg_str(&cfgs[i]), only) == 0)
			nrun++;
	}
	if (only != NULL && nrun == 0 && strcmp(only, "close storm") != 0) {
		fprintf(stderr, "STRESS_ONLY: no configuration '%s' in the %s "
		    "run\n", only, full ? "full" : "quick");
		return 2;
	}
	start = now_sec();
	for (i = 0; i < ncfg; i++) {
		if (only != NULL && strcmp(cfg_str(&cfgs[i]), only) != 0)
			continue;
		cfgs[i].quota = (unsigned long)(messages * weight(&cfgs[i]) /
		    total_w / cfgs[i].np) + 1;
		/* Time saved by fast configurations goes to later ones. */
		left = seconds - (now_sec() - start);
		cfgs[i].seconds = left > 0 ? left / (double)nrun : 0;
		nrun--;
		run_config(&cfgs[i], seed + i);
	}
	if (only == NULL || strcmp(only, "close storm") == 0)
		close_storm(full ? 20000 : 300, seed);
	printf("stress: %lu configurations, %lu messages sent, %lu received "
	    "(DROP/SLIDE discard some) in %.1f s\n", total_configs, total_sent,
	    total_messages, now_sec() - start);
	free(cfgs);
	return stress_exit("stress");
}
