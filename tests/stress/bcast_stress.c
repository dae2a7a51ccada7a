/*
 * bcast_stress: broadcast under load, with subscribers joining and leaving.
 *
 * Publishers send tagged messages (publisher, sequence) with
 * chan_bcast_send.  Four subscribers stay for the whole run, one of each
 * kind: CHAN_BLOCK unbuffered, CHAN_BLOCK buffered, CHAN_DROP and
 * CHAN_SLIDE.  Churning threads meanwhile subscribe (random capacity and
 * policy), receive a little, unsubscribe, drain and destroy, over and over.
 * Sometimes the broadcast is closed while the publishers are still sending.
 *
 * Afterwards: each CHAN_BLOCK subscriber of the whole run received every
 * message whose chan_bcast_send returned 0, exactly once; every subscriber
 * received only messages that were sent (or were being sent when the close
 * came), never one twice, and each publisher's messages in increasing
 * order.  Senders take turns, so the subscribers of the whole run saw one
 * order: the two CHAN_BLOCK ones the same messages in the same order (one
 * of them perhaps one more, from the send a close cut short), the DROP and
 * SLIDE ones a subsequence of it.
 *
 * Quick by default; STRESS_FULL=1 sends many more.  Environment:
 * STRESS_FULL, STRESS_SEED, STRESS_MESSAGES (per configuration).
 */
#include "stress.h"

#include <sched.h>

#define MAXPUB		4
#define NFIXED		4
#define MAXCHURN	3

struct bconf {
	unsigned	npub, nchurn;
	int		close_race;
	unsigned long	quota;		/* messages per publisher */
};

struct brun {
	struct bconf	 cfg;
	chan_bcast_t	*b;
	atomic_int	 stop;		/* churners stop */
	atomic_int	 closing;	/* main is closing b */
	atomic_ulong	 sent;
	unsigned long	 accepted[MAXPUB];	/* read after join */
	uint64_t	 seed;
};

/*
 * What one subscriber saw: per publisher, the last seq, and a bitmap; a
 * subscriber of the whole run also logs every message (publisher << 32 |
 * seq) in the order it came.
 */
struct seen {
	struct brun	*run;
	const char	*who;
	int64_t		 last[MAXPUB];
	struct bitmap	 bits;
	unsigned long	 count;
	uint64_t	*log;
	size_t		 nlog, maxlog;
};

static unsigned long total_sent, total_recv, total_subs;
static const char *const kind_name[NFIXED] = {
	"BLOCK cap 0", "BLOCK cap 16", "DROP cap 4", "SLIDE cap 4"
};

static void
seen_init(struct seen *s, struct brun *r, const char *who)
{
	int i;

	memset(s, 0, sizeof(*s));
	s->run = r;
	s->who = who;
	for (i = 0; i < MAXPUB; i++)
		s->last[i] = -1;
	bitmap_init(&s->bits, (size_t)MAXPUB * r->cfg.quota);
}

static void
seen_got(struct seen *s, const struct msg *m)
{
	struct brun *r = s->run;

	if (!msg_valid(m) || m->sender >= r->cfg.npub ||
	    m->seq >= r->cfg.quota) {
		violation("bcast: %s: garbage message", s->who);
		return;
	}
	if (bitmap_tas(&s->bits, (size_t)m->sender * r->cfg.quota + m->seq))
		violation("bcast: %s: publisher %u seq %u twice", s->who,
		    m->sender, m->seq);
	if ((int64_t)m->seq <= s->last[m->sender])
		violation("bcast: %s: publisher %u seq %u after %lld", s->who,
		    m->sender, m->seq, (long long)s->last[m->sender]);
	else
		s->last[m->sender] = m->seq;
	if (s->log != NULL && s->nlog < s->maxlog)
		s->log[s->nlog++] = (uint64_t)m->sender << 32 | m->seq;
	s->count++;
	progress();
}

struct pub {
	struct brun	*run;
	unsigned	 id;
};

static void *
publisher(void *arg)
{
	struct pub *p = arg;
	struct brun *r = p->run;
	unsigned long seq;
	struct msg m;
	int err;

	for (seq = 0; seq < r->cfg.quota; seq++) {
		m = msg_make(p->id, (uint32_t)seq);
		if ((err = chan_bcast_send(r->b, &m)) != 0) {
			if (err != EPIPE || !atomic_load(&r->closing))
				violation("bcast: chan_bcast_send: %s",
				    strerror(err));
			break;
		}
		atomic_fetch_add(&r->sent, 1);
		progress();
	}
	r->accepted[p->id] = seq;
	return NULL;
}

struct fixed {
	struct seen	 seen;
	chan_t		*ch;
};

static void *
fixed_main(void *arg)
{
	struct fixed *f = arg;
	struct msg m[8];
	size_t n, i;
	int err;

	for (;;) {
		if ((f->seen.count & 1) == 0) {
			if ((err = chan_recv(f->ch, &m[0])) != 0)
				break;
			seen_got(&f->seen, &m[0]);
			continue;
		}
		if ((err = chan_recvn(f->ch, m, 8, &n)) != 0)
			break;
		for (i = 0; i < n; i++)
			seen_got(&f->seen, &m[i]);
	}
	if (err != EPIPE)
		violation("bcast: %s: recv: %s", f->seen.who, strerror(err));
	return NULL;
}

struct churn {
	struct brun	*run;
	unsigned	 id;
	unsigned long	 subs;
};

static void *
churn_main(void *arg)
{
	struct churn *c = arg;
	struct brun *r = c->run;
	struct rng g;
	struct seen s;
	struct msg m;
	struct timespec ts;
	chan_t *ch;
	unsigned k, want;
	int err;
	static const size_t caps[] = { 0, 1, 8 };
	enum chan_policy pol;
	size_t cap;

	rng_seed(&g, r->seed * 31 + c->id);
	while (!atomic_load(&r->stop)) {
		cap = caps[rng_below(&g, 3)];
		pol = cap == 0 ? CHAN_BLOCK : (enum chan_policy)rng_below(&g, 3);
		if ((ch = chan_bcast_subscribe(r->b, cap, pol)) == NULL) {
			if (errno != EPIPE || !atomic_load(&r->closing))
				violation("bcast: subscribe: %s",
				    strerror(errno));
			break;
		}
		c->subs++;
		seen_init(&s, r, "churning subscriber");
		want = rng_below(&g, 64);
		for (k = 0; k < want; k++) {
			ts = deadline_us(200);
			err = chan_timedrecv(ch, &m, &ts);
			if (err == 0)
				seen_got(&s, &m);
			else if (err != ETIMEDOUT)
				break;
		}
		err = chan_bcast_unsubscribe(r->b, ch);
		/* After a close, b no longer lists it: EINVAL is right then. */
		if (err != 0 && !(err == EINVAL && atomic_load(&r->closing)))
			violation("bcast: unsubscribe: %s", strerror(err));
		/* Unsubscribed means closed: drain to EPIPE. */
		while ((err = chan_recv(ch, &m)) == 0)
			seen_got(&s, &m);
		if (err != EPIPE)
			violation("bcast: drain after unsubscribe: %s",
			    strerror(err));
		chan_destroy(ch);
		bitmap_free(&s.bits);
	}
	return NULL;
}

/*
 * The subscribers of the whole run saw the one order the turns made: the
 * two CHAN_BLOCK logs agree, the longer having at most one more message
 * at its end (the send a close cut short between them), and each DROP or
 * SLIDE log is a subsequence of the longer, but for perhaps its last
 * message (a close cut that send short before its CHAN_BLOCK pass).
 */
static void
verify_order(struct brun *r, struct fixed *f)
{
	struct seen *ref = &f[0].seen, *s = &f[1].seen;
	size_t i, j;
	unsigned k;

	if (s->nlog > ref->nlog) {
		ref = &f[1].seen;
		s = &f[0].seen;
	}
	if (ref->nlog - s->nlog > (r->cfg.close_race ? 1 : 0))
		violation("bcast: %s got %zu messages, %s %zu", ref->who,
		    ref->nlog, s->who, s->nlog);
	for (i = 0; i < s->nlog; i++)
		if (s->log[i] != ref->log[i]) {
			violation("bcast: message %zu: %s got publisher %u seq "
			    "%u, %s publisher %u seq %u", i, ref->who,
			    (unsigned)(ref->log[i] >> 32), (uint32_t)ref->log[i],
			    s->who, (unsigned)(s->log[i] >> 32),
			    (uint32_t)s->log[i]);
			break;
		}
	for (k = 2; k < NFIXED; k++) {
		s = &f[k].seen;
		for (i = 0, j = 0; i < s->nlog; i++, j++) {
			while (j < ref->nlog && ref->log[j] != s->log[i])
				j++;
			if (j < ref->nlog ||
			    (r->cfg.close_race && i + 1 == s->nlog))
				continue;
			violation("bcast: %s got publisher %u seq %u (its "
			    "message %zu) out of the order %s saw", s->who,
			    (unsigned)(s->log[i] >> 32), (uint32_t)s->log[i],
			    i, ref->who);
			break;
		}
	}
}

static void
verify(struct brun *r, struct fixed *f)
{
	unsigned i, p;
	unsigned long seq;

	for (i = 0; i < NFIXED; i++) {
		struct seen *s = &f[i].seen;

		for (p = 0; p < r->cfg.npub; p++)
			for (seq = 0; seq < r->cfg.quota; seq++) {
				int bit = bitmap_get(&s->bits,
				    (size_t)p * r->cfg.quota + seq);

				/* accepted[p] itself may have been in flight. */
				if (bit && seq > r->accepted[p])
					violation("bcast: %s got publisher %u "
					    "seq %lu, never sent", s->who, p,
					    seq);
				if (!bit && seq < r->accepted[p] && i < 2)
					violation("bcast: %s lost publisher %u "
					    "seq %lu", s->who, p, seq);
			}
		total_recv += s->count;
	}
	verify_order(r, f);
}

static void
run_bconf(const struct bconf *cfg, uint64_t seed)
{
	struct brun r;
	struct fixed f[NFIXED];
	struct pub p[MAXPUB];
	struct churn c[MAXCHURN];
	pthread_t tf[NFIXED], tp[MAXPUB], tc[MAXCHURN];
	static const size_t fcap[NFIXED] = { 0, 16, 4, 4 };
	static const enum chan_policy fpol[NFIXED] = {
		CHAN_BLOCK, CHAN_BLOCK, CHAN_DROP, CHAN_SLIDE
	};
	struct rng g;
	unsigned i;
	unsigned long close_at;
	int err;

	memset(&r, 0, sizeof(r));
	r.cfg = *cfg;
	r.seed = seed;
	rng_seed(&g, seed);
	set_phase("bcast seed %llu: %u publishers, %u churners%s",
	    (unsigned long long)seed, cfg->npub, cfg->nchurn,
	    cfg->close_race ? ", close race" : "");
	if ((r.b = chan_bcast_create(sizeof(struct msg))) == NULL) {
		perror("chan_bcast_create");
		exit(2);
	}
	for (i = 0; i < NFIXED; i++) {
		seen_init(&f[i].seen, &r, kind_name[i]);
		f[i].seen.maxlog = (size_t)MAXPUB * cfg->quota;
		f[i].seen.log = stress_calloc(f[i].seen.maxlog,
		    sizeof(*f[i].seen.log));
		f[i].ch = chan_bcast_subscribe(r.b, fcap[i], fpol[i]);
		if (f[i].ch == NULL) {
			perror("chan_bcast_subscribe");
			exit(2);
		}
		spawn(&tf[i], fixed_main, &f[i]);
	}
	for (i = 0; i < cfg->nchurn; i++) {
		c[i] = (struct churn){ &r, i, 0 };
		spawn(&tc[i], churn_main, &c[i]);
	}
	for (i = 0; i < cfg->npub; i++) {
		p[i] = (struct pub){ &r, i };
		spawn(&tp[i], publisher, &p[i]);
	}
	if (cfg->close_race) {
		/* Pace the watching of the count; this synchronises nothing. */
		close_at = rng_below(&g, (uint32_t)(cfg->npub * cfg->quota));
		while (atomic_load(&r.sent) < close_at)
			pause_us(100);
		atomic_store(&r.closing, 1);
		if ((err = chan_bcast_close(r.b)) != 0)
			violation("bcast: close: %s", strerror(err));
	}
	for (i = 0; i < cfg->npub; i++)
		join(tp[i]);
	atomic_store(&r.stop, 1);
	for (i = 0; i < cfg->nchurn; i++) {
		join(tc[i]);
		total_subs += c[i].subs;
	}
	if (!cfg->close_race) {
		atomic_store(&r.closing, 1);
		if ((err = chan_bcast_close(r.b)) != 0)
			violation("bcast: close: %s", strerror(err));
	}
	for (i = 0; i < NFIXED; i++)
		join(tf[i]);
	verify(&r, f);
	for (i = 0; i < cfg->npub; i++)
		total_sent += r.accepted[i];
	for (i = 0; i < NFIXED; i++) {
		/* Closed by chan_bcast_close, so no longer subscribed. */
		chan_destroy(f[i].ch);
		bitmap_free(&f[i].seen.bits);
		free(f[i].seen.log);
	}
	chan_bcast_destroy(r.b);
}

int
main(void)
{
	int full = stress_full();
	unsigned long quota, round, rounds;
	uint64_t seed;
	struct bconf c;
	double start = now_sec();
	static const unsigned npubs[] = { 1, 2, 4 };
	unsigned pi, nc, cr, n = 0;

	seed = stress_run_seed();
	quota = env_ulong("STRESS_MESSAGES", full ? 20000 : 1000);
	rounds = full ? 2 : 1;
	printf("bcast_stress: seed %llu, %s\n", (unsigned long long)seed,
	    full ? "full" : "quick");
	fflush(stdout);
	watchdog_start();
	for (round = 0; round < rounds; round++)
		for (pi = 0; pi < 3; pi++)
			for (nc = 0; nc <= MAXCHURN; nc += MAXCHURN)
				for (cr = 0; cr < 2; cr++) {
					c.npub = npubs[pi];
					c.nchurn = nc;
					c.close_race = (int)cr;
					c.quota = quota / c.npub + 1;
					run_bconf(&c, seed + n++);
				}
	printf("bcast_stress: %u configurations, %lu broadcasts sent, %lu "
	    "received by the long-lived subscribers, %lu short-lived "
	    "subscriptions, %.1f s\n", n, total_sent, total_recv, total_subs,
	    now_sec() - start);
	return stress_exit("bcast_stress");
}
