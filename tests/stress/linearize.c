/*
 * linearize: small concurrent histories on one or two buffered channels,
 * plain calls and selects, each checked for a linearization against a
 * sequential model of the channels.
 *
 * The other drivers count: every element received once, each sender's in
 * order.  A result can pass those counts and still fit no order of the
 * calls that real time allows: a tryrecv that says EAGAIN while the
 * channel, by every account of what happened before and during it, held
 * an element; a timedsend that timed out on a channel never full while it
 * ran; a receive that takes an element younger than one still buffered; a
 * tryselect that says EAGAIN while at every instant one of its cases was
 * ready.  This driver looks for those.
 *
 * A history: 2 to 4 threads, each making 3 to 8 random calls on one
 * channel (half the histories) or two, A and B (capacity 1 to 3 each;
 * CHAN_BLOCK, CHAN_DROP or CHAN_SLIDE, drawn evenly for one channel and
 * CHAN_BLOCK three times in five for two, since a DROP or SLIDE send case
 * is always ready): chan_trysend, chan_timedsend (deadlines 0 to 20 us
 * away, or already past), chan_send, the batch forms of all three (1 to 3
 * elements), the same six receives, chan_len, now and then chan_close,
 * each on either channel, and chan_tryselect, chan_timedselect and
 * chan_select of 1 to 3 cases (a send or a receive on either channel, one
 * case in eight disabled, so the same channel is often in two cases), with
 * random pauses between them.  The main thread closes one channel or both
 * at a random moment in some histories, and in every other one closes
 * each still open as soon as each thread still running is in a plain
 * call (a plain select too) and nothing has moved for a few yields: so the
 * plain calls always return.  Once the threads are done it drains what is
 * left with try calls, and those calls belong to the history too, so that
 * an element lost or invented shows.  Every element sent (a select's send
 * cases included, whether or not they complete) is unique in the history,
 * and a four-byte pattern of its id, so a torn or stale copy shows too.
 * Each call is stamped with a global counter read before and after it (one
 * atomic fetch-and-add each): a call that returned before another was
 * invoked must come first, with no clock skew to allow for.
 *
 * The checker (Wing and Gong's search, with Lowe's memoisation): a
 * depth-first search over configurations, each the model's state (each
 * channel's elements buffered, closed) and how far every thread has got
 * (its next call, and how far into that call), looking for an order of the
 * calls' steps that real time allows and in which each call's result is
 * what the model gives at its steps.  A configuration already explored is
 * not explored again, so the search is about linear in the history's
 * length for the histories here.
 *
 * What the model promises, and why (API.md, chan_send(3), chan_recv(3),
 * chan_select(3), chan_len(3)):
 *
 *  - A single call (send, receive, close) is one atomic step.  EAGAIN and
 *    ETIMEDOUT must be justified by a step where the channel was full
 *    (CHAN_BLOCK sends; the other policies never fail so) or empty and
 *    open (receives); EPIPE by a closed channel (for a receive, closed and
 *    empty).  A full CHAN_DROP channel discards the element sent; a full
 *    CHAN_SLIDE one discards its oldest element, in the same step.
 *
 *  - A select completes exactly one case, as one atomic step: the index it
 *    returns names a case that was ready at that step, its err is the
 *    case's (EPIPE: a send on a closed channel, or a receive on a closed
 *    and drained one), a receive case got the channel's oldest element,
 *    and no other receive case's buffer was written.  Which ready case it
 *    picks is not checked.  EAGAIN (chan_tryselect) and ETIMEDOUT
 *    (chan_timedselect) must be justified by one step at which no enabled
 *    case was ready, on every channel at once: select.c's header says only
 *    a poll with every channel locked can say so, since two probes of one
 *    case each can both miss while at every instant one case was ready.
 *    A CHAN_DROP or CHAN_SLIDE send case is always ready (a DROP one into
 *    a full channel discards its element).  What the runs here catch in
 *    practice is a select with a send and a receive case on one channel:
 *    a single call between its two probes can take the channel from full
 *    to empty.  Across two channels the probes' gap must hold two calls
 *    of other threads (one filling the first channel, one emptying the
 *    second): a select that fails after its unlocked pass, given receive
 *    cases only, passed 10 quick runs and a full one.
 *
 *  - A batch call "waits only until the first element can be sent, then
 *    sends as many more as the channel takes without waiting": chunk one
 *    moves min(n, room) elements (receives: min(n, buffered)), or, in a
 *    form that may wait, a single element (a waiter is handed one); if
 *    it was handed one of n > 1, a second chunk moves min(n - 1, room)
 *    more, later.  A batch that was not handed its first element moves
 *    what it moves in its one chunk, even a single element.  Under CHAN_DROP and CHAN_SLIDE the whole batch counts as
 *    sent.  A failed batch reports 0, and writes no element past its
 *    count.
 *
 *  - Strictly, each chunk is one atomic step too, and chan_len is the
 *    number buffered at one instant of its call.  The pages promise less:
 *    a batch is one critical section among the senders (or among the
 *    receivers), not towards the other side, and chan_len is a snapshot
 *    for statistics, "not decisions".  So a history with no strict
 *    linearization is searched again, relaxed: a chunk may be decided
 *    (how many it moves) at one step and carried out at later ones, each
 *    element sent at a step of its own, with no other call on the same
 *    side of that channel in between (a select's case counts as a call on
 *    its side, and its EAGAIN or ETIMEDOUT, which every lock of its
 *    channels decides, as one on both sides of each); and chan_len only
 *    within [0, cap].  A history that passes only relaxed is counted as
 *    a note (LIN_NOTES=1 prints the first of each kind), one that fails
 *    relaxed too is a violation.
 *    Notes seen here (up to a few in 1000 histories on a busy machine,
 *    none on an idle one): a CHAN_SLIDE batch
 *    reaches the receivers one element at a time (each slid in under
 *    recv_mu, but recv_mu dropped between them); a CHAN_DROP batch
 *    decides how many of its elements fit from the room it saw under
 *    send_mu, which a receiver may grow before they are in (so it
 *    discards one that, in every order, would have fitted); and chan_len,
 *    which reads head, then tail, with no lock, counts cap - 1 on a full
 *    CHAN_SLIDE channel while a send slides (head moved, tail not yet).
 *    A CHAN_BLOCK batch, too, reaches the receivers element by element
 *    (each slot published on its own): 30 of 400000 histories of one
 *    full run with SPIN busy beside it, none in runs on a quieter
 *    machine.
 *
 *  - Not checked: which of several waiters gets an element (the API
 *    promises no order), which of several ready cases a select picks
 *    (check_select counts that it is uniform), fairness and progress
 *    (cancel, select_soak), unbuffered channels (stress, select_soak),
 *    selects of more than three cases or over more than two channels, and
 *    cancellation.
 *
 * A violation prints the history, thread by thread with each call's
 * stamps, its seed and the line that repeats its plan: STRESS_SEED=<seed>
 * LIN_HISTORY=<i> runs history i's calls again and again (their timing is
 * the threads').  Quick by default (STRESS_HISTORIES 16000, at most
 * STRESS_SECONDS 2); STRESS_FULL=1 runs 400000 in at most 35 s.
 * Environment: STRESS_FULL, STRESS_SEED, STRESS_HISTORIES, STRESS_SECONDS,
 * LIN_HISTORY, LIN_REPEAT (how often LIN_HISTORY runs, 100000), LIN_NOTES,
 * STRESS_STALL.
 */
#include "stress.h"

#include <sched.h>
#include <stdbool.h>

#define MAXW	4		/* worker threads */
#define NTH	(MAXW + 1)	/* and the main thread, last */
#define NCH	2		/* channels in a history: A and B */
#define NOCH	NCH		/* a select's disabled case (ch NULL) */
#define MAXCAP	3
#define MAXN	3		/* elements in a batch, cases in a select */
#define MAXOPS	8		/* calls a worker makes */
#define MAXHOPS	(MAXOPS + MAXCAP + 3)	/* and the main thread's, drain too */

/* Main: a chan_len, then for each channel a close and a drain. */
_Static_assert(MAXHOPS >= 1 + NCH * (1 + MAXCAP + 1),
    "MAXHOPS too small for the main thread's calls");

enum kind { K_SEND, K_RECV, K_LEN, K_CLOSE, K_SEL };
enum form { F_TRY, F_TIMED, F_PLAIN };

/* Relaxations of the model (see the top of the file). */
#define R_SPLIT	1		/* chunks decided at one step, done at others */
#define R_LEN	2		/* chan_len within [0, cap] only */

#define SEL_BAD	100		/* a select returned no index of its cases */

/*
 * One call: its plan, then what it returned and its stamps.  A select's
 * cases are cch, cop and val (a send case's id; a receive case's, once the
 * select took it there) for i < n.
 */
struct op {
	uint8_t		 kind, form, batch, n;
	uint8_t		 ch;		/* a select's are in cch */
	uint8_t		 cch[MAXN];	/* a select's cases: channel or NOCH */
	uint8_t		 cop[MAXN];	/* and K_SEND or K_RECV */
	uint8_t		 val[MAXN];	/* ids sent, or received (0: garbled) */
	int8_t		 sel;		/* the case a select completed, or -1 */
	uint8_t		 cnt;		/* elements moved */
	uint8_t		 spill;		/* wrote past its count, or a case's */
	uint8_t		 pause;		/* before it: 0 none, 1 spin, 2 yield */
	uint16_t	 spin;
	int16_t		 dl_us;		/* timed: deadline, < 0 already past */
	int		 err;		/* a select's: its case's err, or errno */
	size_t		 len;		/* chan_len's answer, or the count */
	unsigned long	 inv, resp;
};

struct hist {
	unsigned long	 index;
	unsigned	 nw;		/* workers; the main thread is nw */
	unsigned	 nch;		/* channels */
	size_t		 cap[NCH];
	enum chan_policy policy[NCH];
	int		 early;		/* main closes after this many spins */
	unsigned	 early_ch;	/* which channel, or NCH both */
	unsigned	 nops[NTH];
	struct op	 ops[NTH][MAXHOPS];
	/* need[t][i][u]: calls of u that returned before ops[t][i] began */
	uint8_t		 need[NTH][MAXHOPS][NTH];
};

static const char *const policy_name[] = { "BLOCK", "DROP", "SLIDE" };

#define SAMPLE	(~0UL)		/* the index of self_test's histories */

static inline uint32_t
enc(uint8_t id)
{
	return id * 0x01010101u;
}

#define POISON	0xdeadbeefu

static inline uint8_t
dec(uint32_t x)
{
	return x == enc((uint8_t)x) ? (uint8_t)x : 0;
}

/* A form drawn as the calls' are: try, timed or plain. */
static uint8_t
draw_form(struct rng *r)
{
	uint32_t m = rng_below(r, 100);

	return m < 40 ? F_TRY : m < 75 ? F_TIMED : F_PLAIN;
}

/*
 * The cases of select o, ids from *id on: one in eight disabled, the
 * others a send or a receive on any of the history's channels; a plain
 * select gets an enabled first case, since with none it fails EDEADLK.
 */
static void
plan_select(struct rng *r, const struct hist *h, struct op *o, uint8_t *id)
{
	unsigned i;

	o->n = 1 + rng_below(r, MAXN);
	for (i = 0; i < o->n; i++) {
		o->cch[i] = rng_below(r, 8) == 0 ? NOCH :
		    (uint8_t)rng_below(r, h->nch);
		o->cop[i] = rng_below(r, 2) ? K_SEND : K_RECV;
		if (o->cop[i] == K_SEND)
			o->val[i] = (*id)++;
	}
	if (o->form == F_PLAIN && o->cch[0] == NOCH)
		o->cch[0] = (uint8_t)rng_below(r, h->nch);
}

/* The plan of history index under seed: the same plan every time. */
static void
plan(struct hist *h, uint64_t seed, unsigned long index)
{
	/* Percent of calls: sends, receives, selects, chan_len; 2 close. */
	static const unsigned mix[NCH][4] = {
		{ 38, 40, 10, 10 }, { 27, 29, 31, 11 }
	};
	/* Two channels: CHAN_BLOCK three times in five (see the top). */
	static const enum chan_policy two[] = { CHAN_BLOCK, CHAN_BLOCK,
	    CHAN_BLOCK, CHAN_DROP, CHAN_SLIDE };
	const unsigned *w;
	struct rng r;
	struct op *o;
	unsigned t, i, k, m, c;
	uint8_t id = 1;

	memset(h, 0, sizeof(*h));
	rng_seed(&r, seed ^ msg_check((uint32_t)index,
	    (uint32_t)((uint64_t)index >> 32)));
	h->index = index;
	/*
	 * Half the histories have two threads, as many as CPUs here, which
	 * overlap most: a CHAN_SLIDE bug failed 7 and 11 of 20 quick runs
	 * so, 2 and 5 of 20 with 2 to 4 threads drawn evenly (on a machine
	 * busy with other work: idle, it failed none of 10 either way, its
	 * window needing a thread held up inside it).
	 */
	h->nw = 2 + (rng_below(&r, 2) ? 0 : rng_below(&r, MAXW - 1));
	/*
	 * Half have one channel, on which the calls meet most often: a
	 * chan_tryrecv answering EAGAIN from a lock-free look failed 15 of
	 * 30 quick runs of 12000 one-channel histories, 7 of 30 of 12000
	 * histories half of them on two channels, 10 of 20 of 16000.
	 */
	h->nch = 1 + rng_below(&r, 2);
	for (c = 0; c < h->nch; c++) {
		h->cap[c] = 1 + rng_below(&r, MAXCAP);
		h->policy[c] = h->nch == 1 ?
		    (enum chan_policy)rng_below(&r, 3) : two[rng_below(&r, 5)];
	}
	h->early = rng_below(&r, 5) == 0 ? (int)rng_below(&r, 2000) : -1;
	h->early_ch = h->nch == 1 ? 0 : rng_below(&r, NCH + 1);
	w = mix[h->nch - 1];
	for (t = 0; t < h->nw; t++) {
		h->nops[t] = 3 + rng_below(&r, MAXOPS - 2);
		for (i = 0; i < h->nops[t]; i++) {
			o = &h->ops[t][i];
			m = rng_below(&r, 100);
			o->kind = m < w[0] ? K_SEND : m < w[0] + w[1] ? K_RECV :
			    m < w[0] + w[1] + w[2] ? K_SEL :
			    m < w[0] + w[1] + w[2] + w[3] ? K_LEN : K_CLOSE;
			o->form = draw_form(&r);
			o->ch = (uint8_t)rng_below(&r, h->nch);
			if (o->kind == K_SEL) {
				plan_select(&r, h, o, &id);
			} else {
				o->batch = rng_below(&r, 5) < 2;
				o->n = o->batch ? 1 + rng_below(&r, MAXN) : 1;
			}
			if (o->kind == K_SEND)
				for (k = 0; k < o->n; k++)
					o->val[k] = id++;
			o->dl_us = rng_below(&r, 5) == 0 ? -1 :
			    (int16_t)rng_below(&r, 21);
			m = rng_below(&r, 10);
			o->pause = m < 5 ? 0 : m < 8 ? 1 : 2;
			o->spin = (uint16_t)rng_below(&r, 300);
		}
	}
}

static atomic_ulong tick;

static inline unsigned long
stamp(void)
{
	return atomic_fetch_add(&tick, 1);
}

static void
relax(unsigned n)
{
	volatile unsigned i;

	for (i = 0; i < n; i++)
		;
}

/* The history's channels, while it runs. */
static chan_t *cur_ch[NCH];

/* Whether o sends element i: a send, or a select's send case. */
static bool
sends(const struct op *o, unsigned i)
{
	if (i >= o->n)
		return false;
	return o->kind == K_SEND || (o->kind == K_SEL && o->cop[i] == K_SEND);
}

/*
 * A select's results, from its return r and errno err: the case, its err
 * (or errno), the element its receive case took, and whether it wrote
 * into another receive case's buffer.
 */
static void
sel_result(struct op *o, const struct chan_case *cs, const uint32_t *buf,
    int r, int err)
{
	unsigned i;

	if (r < -1 || r >= (int)o->n) {
		o->sel = SEL_BAD;
		return;
	}
	o->sel = (int8_t)r;
	o->err = r >= 0 ? cs[r].err : err;
	o->cnt = r >= 0 && o->err == 0;
	for (i = 0; i < o->n; i++) {
		if (o->cop[i] != K_RECV)
			continue;
		if ((int)i == r && o->err == 0)
			o->val[i] = dec(buf[i]);
		else if (buf[i] != POISON)
			o->spill = 1;
	}
}

/* Makes the call o plans and records its results and stamps. */
static void
run_op(struct op *o)
{
	chan_t *ch = cur_ch[o->ch];
	struct chan_case cs[MAXN];
	uint32_t buf[MAXN];
	struct timespec dl;
	size_t k = 99, i;
	int r = -1, serr = 0;

	for (i = 0; i < MAXN; i++)
		buf[i] = sends(o, (unsigned)i) ? enc(o->val[i]) : POISON;
	for (i = 0; o->kind == K_SEL && i < o->n; i++) {
		cs[i].ch = o->cch[i] == NOCH ? NULL : cur_ch[o->cch[i]];
		cs[i].op = o->cop[i] == K_SEND ? CHAN_SEND : CHAN_RECV;
		cs[i].elem = &buf[i];
		cs[i].err = -1;		/* the select sets its case's */
	}
	/* A deadline already past: the clock's origin. */
	if (o->dl_us < 0)
		dl.tv_sec = dl.tv_nsec = 0;
	else
		dl = deadline_us(o->dl_us);
	o->inv = stamp();
	switch (o->kind * 8 + o->batch * 4 + o->form) {
	case K_SEND * 8 + F_TRY:
		o->err = chan_trysend(ch, buf);
		break;
	case K_SEND * 8 + F_TIMED:
		o->err = chan_timedsend(ch, buf, &dl);
		break;
	case K_SEND * 8 + F_PLAIN:
		o->err = chan_send(ch, buf);
		break;
	case K_SEND * 8 + 4 + F_TRY:
		o->err = chan_trysendn(ch, buf, o->n, &k);
		break;
	case K_SEND * 8 + 4 + F_TIMED:
		o->err = chan_timedsendn(ch, buf, o->n, &k, &dl);
		break;
	case K_SEND * 8 + 4 + F_PLAIN:
		o->err = chan_sendn(ch, buf, o->n, &k);
		break;
	case K_RECV * 8 + F_TRY:
		o->err = chan_tryrecv(ch, buf);
		break;
	case K_RECV * 8 + F_TIMED:
		o->err = chan_timedrecv(ch, buf, &dl);
		break;
	case K_RECV * 8 + F_PLAIN:
		o->err = chan_recv(ch, buf);
		break;
	case K_RECV * 8 + 4 + F_TRY:
		o->err = chan_tryrecvn(ch, buf, o->n, &k);
		break;
	case K_RECV * 8 + 4 + F_TIMED:
		o->err = chan_timedrecvn(ch, buf, o->n, &k, &dl);
		break;
	case K_RECV * 8 + 4 + F_PLAIN:
		o->err = chan_recvn(ch, buf, o->n, &k);
		break;
	case K_SEL * 8 + F_TRY:
		r = chan_tryselect(cs, o->n);
		serr = errno;
		break;
	case K_SEL * 8 + F_TIMED:
		r = chan_timedselect(cs, o->n, &dl);
		serr = errno;
		break;
	case K_SEL * 8 + F_PLAIN:
		r = chan_select(cs, o->n);
		serr = errno;
		break;
	default:
		if (o->kind == K_LEN)
			o->len = chan_len(ch);
		else
			o->err = chan_close(ch);
		break;
	}
	o->resp = stamp();
	if (o->kind == K_SEL) {
		sel_result(o, cs, buf, r, serr);
		return;
	}
	if (o->kind != K_SEND && o->kind != K_RECV)
		return;
	if (!o->batch)
		k = o->err == 0 ? 1 : 0;
	o->len = k;
	o->cnt = k > MAXN ? MAXN + 1 : (uint8_t)k;
	if (o->kind != K_RECV)
		return;
	for (i = 0; i < MAXN; i++) {
		if (i < o->cnt)
			o->val[i] = dec(buf[i]);
		else if (buf[i] != POISON)
			o->spill = 1;
	}
}

/*
 * The checker.  A configuration: the model's state and each thread's
 * progress.  ph: 0 the call not begun; 1 (3) its first (second) chunk
 * decided, relaxed, until done reaches quota; 2 its first chunk moved one
 * element of n > 1 and its second is still to come.  sown (rown): the
 * thread + 1 that holds the channel's send (receive) side in a relaxed
 * chunk.
 */
struct mch {
	uint8_t	q[MAXCAP], qlen, closed, sown, rown;
};

struct cfg {
	struct mch	c[NCH];
	uint8_t		pc[NTH], ph[NTH], quota[NTH], done[NTH];
};

struct checker {
	const struct hist *h;
	int		 relax;
	struct cfg	*tab;		/* the configurations explored */
	uint32_t	*gen;
	uint32_t	 cur;
	size_t		 size, used;
	unsigned long	 nodes;
};

static uint64_t
cfg_hash(const struct cfg *c)
{
	const unsigned char *p = (const unsigned char *)c;
	uint64_t x = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < sizeof(*c); i++)
		x = (x ^ p[i]) * 0x100000001b3ULL;
	return x ^ x >> 29;
}

static void
memo_reset(struct checker *k, size_t size)
{
	if (size != k->size) {
		free(k->tab);
		free(k->gen);
		k->tab = stress_calloc(size, sizeof(*k->tab));
		k->gen = stress_calloc(size, sizeof(*k->gen));
		k->size = size;
		k->cur = 0;
	}
	if (++k->cur == 0) {
		memset(k->gen, 0, size * sizeof(*k->gen));
		k->cur = 1;
	}
	k->used = 0;
}

/* Adds c to the explored set; false if it was there already. */
static bool
memo_add(struct checker *k, const struct cfg *c)
{
	size_t i;

	if (2 * (k->used + 1) > k->size) {
		/* Grow: rehash what is there into a table twice as large. */
		struct checker n = { 0 };

		memo_reset(&n, 2 * k->size);
		for (i = 0; i < k->size; i++)
			if (k->gen[i] == k->cur)
				memo_add(&n, &k->tab[i]);
		free(k->tab);
		free(k->gen);
		k->tab = n.tab;
		k->gen = n.gen;
		k->size = n.size;
		k->cur = n.cur;
		k->used = n.used;
	}
	for (i = cfg_hash(c) & (k->size - 1); k->gen[i] == k->cur;
	    i = (i + 1) & (k->size - 1))
		if (memcmp(&k->tab[i], c, sizeof(*c)) == 0)
			return false;
	k->gen[i] = k->cur;
	k->tab[i] = *c;
	k->used++;
	return true;
}

static void
push(struct mch *m, uint8_t v)
{
	m->q[m->qlen++] = v;
}

static uint8_t
pop(struct mch *m)
{
	uint8_t v = m->q[0];

	m->q[0] = m->q[1];
	m->q[1] = m->q[2];
	m->q[2] = 0;
	m->qlen--;
	return v;
}

static void
finish(struct cfg *c, int t)
{
	c->pc[t]++;
	c->ph[t] = c->quota[t] = c->done[t] = 0;
}

/*
 * A chunk of o is done: its side is free again; a batch handed the first
 * of its n > 1 elements goes on to its second chunk, any other call ends
 * and must have moved what it reported.  False if it did not.
 */
static bool
chunk_end(const struct hist *h, struct cfg *c, int t, const struct op *o,
    bool handed)
{
	if (o->kind == K_SEND) {
		c->c[o->ch].sown = 0;
		if (h->policy[o->ch] != CHAN_BLOCK)
			c->done[t] = o->n;	/* the rest discarded */
	} else {
		c->c[o->ch].rown = 0;
	}
	/* Only a first chunk of a batch of n > 1 is ever handed. */
	if (handed) {
		c->ph[t] = 2;
		c->quota[t] = 0;
		return true;
	}
	if (c->done[t] != o->cnt)
		return false;
	finish(c, t);
	return true;
}

/*
 * One element v of a send into channel ch (state m), the caller having
 * counted the room: under CHAN_SLIDE a full ring's oldest goes, as one
 * step with the put.  False if it cannot be now.
 */
static bool
put(const struct hist *h, unsigned ch, struct mch *m, uint8_t v)
{
	if (h->policy[ch] == CHAN_SLIDE && m->qlen == h->cap[ch]) {
		if (m->rown != 0)
			return false;	/* the discard takes recv_mu */
		pop(m);
	}
	push(m, v);
	return true;
}

/* A chunk of thread t's call starts: its first (1) or its second (3). */
static void
chunk_start(struct cfg *c, int t)
{
	c->ph[t] = c->ph[t] == 2 ? 3 : 1;
}

/*
 * Starts a chunk of q elements of thread t's send o, at this step: at once
 * (strict, or a single element), or, relaxed, decided now and sent one by
 * one by later steps while t holds the send side.  handed: the single
 * element a waiting batch was handed.
 */
static int
send_chunk(const struct checker *k, const struct cfg *s, int t,
    const struct op *o, unsigned q, bool handed, struct cfg *out)
{
	const struct hist *h = k->h;

	*out = *s;
	if (q == 0 || (o->n > 1 && !handed && (k->relax & R_SPLIT))) {
		if (q == 0)
			return chunk_end(h, out, t, o, false);
		out->c[o->ch].sown = (uint8_t)(t + 1);
		out->quota[t] = (uint8_t)(out->done[t] + q);
		chunk_start(out, t);
		return 1;
	}
	while (q-- > 0)
		if (!put(h, o->ch, &out->c[o->ch], o->val[out->done[t]++]))
			return 0;
	chunk_start(out, t);
	return chunk_end(h, out, t, o, handed);
}

static int
send_step(const struct checker *k, const struct cfg *s, int t,
    const struct op *o, struct cfg *out)
{
	const struct hist *h = k->h;
	const struct mch *ms = &s->c[o->ch];
	unsigned room = (unsigned)(h->cap[o->ch] - ms->qlen), m, n = 0;
	struct cfg c;
	int ok;

	if (ms->sown != 0 && ms->sown != t + 1)
		return 0;
	if (s->ph[t] == 0 && o->err != 0) {
		if (o->cnt != 0)
			return 0;
		if (o->err == EPIPE)
			ok = ms->closed;
		else if ((o->err == EAGAIN && o->form == F_TRY) ||
		    (o->err == ETIMEDOUT && o->form == F_TIMED))
			ok = !ms->closed && h->policy[o->ch] == CHAN_BLOCK &&
			    room == 0;
		else
			ok = 0;
		if (!ok)
			return 0;
		*out = *s;
		finish(out, t);
		return 1;
	}
	if (o->err != 0 || o->cnt == 0 || o->cnt > o->n)
		return 0;
	if (s->ph[t] == 1 || s->ph[t] == 3) {
		/* Relaxed: the chunk's next element. */
		*out = *s;
		if (!put(h, o->ch, &out->c[o->ch], o->val[out->done[t]++]))
			return 0;
		if (out->done[t] < out->quota[t])
			return 1;
		return chunk_end(h, out, t, o, false);
	}
	if (s->ph[t] == 2) {
		/* The second chunk: as many as fit now, none if closed. */
		m = (unsigned)(o->n - s->done[t]);
		if (ms->closed)
			m = 0;
		else if (m > room)
			m = room;
		if (s->done[t] + m != o->cnt)
			return 0;
		return send_chunk(k, s, t, o, m, false, out);
	}
	if (ms->closed)
		return 0;
	switch (h->policy[o->ch]) {
	case CHAN_BLOCK:
		if (room == 0)
			return 0;
		m = o->n < room ? o->n : room;
		if (m <= o->cnt)
			n += send_chunk(k, s, t, o, m, false, &out[n]);
		/* A waiting form may be handed its first element alone. */
		if (o->n > 1 && o->form != F_TRY)
			n += send_chunk(k, s, t, o, 1, true, &out[n]);
		return n;
	case CHAN_DROP:
		m = o->n < room ? o->n : room;
		return send_chunk(k, s, t, o, m, false, out);
	default:
		/* SLIDE: the batch's last cap elements, the others slid out. */
		c = *s;
		c.done[t] = (uint8_t)(o->n > h->cap[o->ch] ?
		    o->n - h->cap[o->ch] : 0);
		return send_chunk(k, &c, t, o, o->n - c.done[t], false, out);
	}
}

static int
recv_chunk(const struct checker *k, const struct cfg *s, int t,
    const struct op *o, unsigned q, bool handed, struct cfg *out)
{
	unsigned i;

	if (s->done[t] + q > o->cnt)
		return 0;
	for (i = 0; i < q; i++)
		if (s->c[o->ch].q[i] != o->val[s->done[t] + i])
			return 0;
	*out = *s;
	if (o->n > 1 && !handed && (k->relax & R_SPLIT)) {
		/* Decided now, taken at a later step, recv_mu held. */
		out->c[o->ch].rown = (uint8_t)(t + 1);
		out->quota[t] = (uint8_t)(out->done[t] + q);
		chunk_start(out, t);
		return 1;
	}
	for (i = 0; i < q; i++) {
		pop(&out->c[o->ch]);
		out->done[t]++;
	}
	chunk_start(out, t);
	return chunk_end(k->h, out, t, o, handed);
}

static int
recv_step(const struct checker *k, const struct cfg *s, int t,
    const struct op *o, struct cfg *out)
{
	const struct mch *ms = &s->c[o->ch];
	unsigned m, n = 0, i;
	int ok;

	if (ms->rown != 0 && ms->rown != t + 1)
		return 0;
	if (o->spill)
		return 0;
	if (s->ph[t] == 0 && o->err != 0) {
		if (o->cnt != 0)
			return 0;
		if (o->err == EPIPE)
			ok = ms->closed && ms->qlen == 0;
		else if ((o->err == EAGAIN && o->form == F_TRY) ||
		    (o->err == ETIMEDOUT && o->form == F_TIMED))
			ok = !ms->closed && ms->qlen == 0;
		else
			ok = 0;
		if (!ok)
			return 0;
		*out = *s;
		finish(out, t);
		return 1;
	}
	if (o->err != 0 || o->cnt == 0 || o->cnt > o->n)
		return 0;
	if (s->ph[t] == 1 || s->ph[t] == 3) {
		/* Relaxed: take the chunk decided before. */
		*out = *s;
		for (i = out->done[t]; i < out->quota[t]; i++)
			if (pop(&out->c[o->ch]) != o->val[i])
				return 0;
		out->done[t] = out->quota[t];
		return chunk_end(k->h, out, t, o, false);
	}
	m = o->n - s->done[t] < ms->qlen ? o->n - s->done[t] : ms->qlen;
	if (s->ph[t] == 2) {
		if (s->done[t] + m != o->cnt)
			return 0;
		if (m == 0) {
			*out = *s;
			finish(out, t);
			return 1;
		}
		return recv_chunk(k, s, t, o, m, false, out);
	}
	if (m == 0)
		return 0;
	n += recv_chunk(k, s, t, o, m, false, &out[n]);
	if (o->n > 1 && o->form != F_TRY)
		n += recv_chunk(k, s, t, o, 1, true, &out[n]);
	return n;
}

/*
 * Whether a select's case op (K_SEND or K_RECV) on channel ch, whose state
 * is m, is ready, and if so with which err: a closed channel fails a send,
 * and a receive once drained; DROP and SLIDE sends never wait.
 */
static bool
case_ready(const struct hist *h, unsigned ch, const struct mch *m,
    unsigned op, int *err)
{
	*err = 0;
	if (op == K_RECV && m->qlen > 0)
		return true;
	if (m->closed) {
		*err = EPIPE;
		return true;
	}
	if (op == K_RECV)
		return false;
	return h->policy[ch] != CHAN_BLOCK || m->qlen < h->cap[ch];
}

/*
 * A select failing EAGAIN or ETIMEDOUT: no enabled case ready, with every
 * side of its channels free (the select holds all their locks to say so).
 */
static bool
none_ready(const struct hist *h, const struct cfg *s, const struct op *o)
{
	const struct mch *m;
	unsigned i;
	int err;

	for (i = 0; i < o->n; i++) {
		if (o->cch[i] == NOCH)
			continue;
		m = &s->c[o->cch[i]];
		if (m->sown != 0 || m->rown != 0 ||
		    case_ready(h, o->cch[i], m, o->cop[i], &err))
			return false;
	}
	return true;
}

/*
 * A select as one step: the case it names completes, with the err the
 * model gives, or its failure is justified by none_ready.  A case holds
 * its side of its channel for the step, as a single call does.
 */
static int
sel_step(const struct checker *k, const struct cfg *s, int t,
    const struct op *o, struct cfg *out)
{
	const struct hist *h = k->h;
	const struct mch *ms;
	unsigned i, ch;
	int err;

	if (o->spill || o->sel == SEL_BAD)
		return 0;
	if (o->sel < 0) {
		if (o->err != (o->form == F_TRY ? EAGAIN :
		    o->form == F_TIMED ? ETIMEDOUT : -1) ||
		    !none_ready(h, s, o))
			return 0;
		*out = *s;
		finish(out, t);
		return 1;
	}
	i = (unsigned)o->sel;
	if ((ch = o->cch[i]) == NOCH)
		return 0;
	ms = &s->c[ch];
	if ((o->cop[i] == K_SEND ? ms->sown : ms->rown) != 0 ||
	    !case_ready(h, ch, ms, o->cop[i], &err) || err != o->err)
		return 0;
	*out = *s;
	if (err == 0 && o->cop[i] == K_RECV) {
		if (pop(&out->c[ch]) != o->val[i])
			return 0;
	} else if (err == 0 && (h->policy[ch] != CHAN_DROP ||
	    ms->qlen < h->cap[ch])) {
		if (!put(h, ch, &out->c[ch], o->val[i]))
			return 0;
	}
	finish(out, t);
	return 1;
}

/* The configurations one step of thread t leads to from s, in out. */
static int
step(const struct checker *k, const struct cfg *s, int t, struct cfg *out)
{
	const struct hist *h = k->h;
	const struct mch *ms;
	const struct op *o;
	unsigned u;

	if (s->pc[t] == h->nops[t])
		return 0;
	o = &h->ops[t][s->pc[t]];
	if (s->ph[t] == 0)
		for (u = 0; u <= h->nw; u++)
			if (s->pc[u] < h->need[t][s->pc[t]][u])
				return 0;
	ms = &s->c[o->ch];
	switch (o->kind) {
	case K_SEND:
		return send_step(k, s, t, o, out);
	case K_RECV:
		return recv_step(k, s, t, o, out);
	case K_SEL:
		return sel_step(k, s, t, o, out);
	case K_LEN:
		if (k->relax & R_LEN ? o->len > h->cap[o->ch] :
		    o->len != ms->qlen)
			return 0;
		*out = *s;
		finish(out, t);
		return 1;
	default:
		if (ms->sown != 0 || ms->rown != 0 ||
		    o->err != (ms->closed ? EPIPE : 0))
			return 0;
		*out = *s;
		out->c[o->ch].closed = 1;
		finish(out, t);
		return 1;
	}
}
#define MAXNODES	2000000UL

/* 1: a linearization from s; 0: none; -1: the search gave up. */
static int
search(struct checker *k, const struct cfg *s)
{
	const struct hist *h = k->h;
	struct cfg next[4];
	unsigned t;
	int i, n, r;

	for (t = 0; t <= h->nw && s->pc[t] == h->nops[t]; t++)
		;
	if (t > h->nw)
		return 1;
	if (!memo_add(k, s))
		return 0;
	if (++k->nodes > MAXNODES)
		return -1;
	for (t = 0; t <= h->nw; t++) {
		n = step(k, s, (int)t, next);
		for (i = 0; i < n; i++)
			if ((r = search(k, &next[i])) != 0)
				return r;
	}
	return 0;
}

static int
linearizable(struct checker *k, const struct hist *h, int relax)
{
	struct cfg c;

	memset(&c, 0, sizeof(c));
	k->h = h;
	k->relax = relax;
	k->nodes = 0;
	memo_reset(k, k->size == 0 ? 4096 : k->size);
	return search(k, &c);
}

/* For each call, how many calls of each thread returned before it began. */
static void
order(struct hist *h)
{
	unsigned t, i, u, j;

	for (t = 0; t <= h->nw; t++)
		for (i = 0; i < h->nops[t]; i++)
			for (u = 0; u <= h->nw; u++) {
				for (j = 0; j < h->nops[u] &&
				    h->ops[u][j].resp < h->ops[t][i].inv; j++)
					;
				h->need[t][i][u] = (uint8_t)(u == t ? i : j);
			}
}

static const char *
err_name(int err)
{
	switch (err) {
	case 0:
		return "0";
	case EAGAIN:
		return "EAGAIN";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case EPIPE:
		return "EPIPE";
	case EINVAL:
		return "EINVAL";
	case EDEADLK:
		return "EDEADLK";
	default:
		return "?";
	}
}

static void
print_select(FILE *f, const struct op *o)
{
	unsigned i;

	fputs(" [", f);
	for (i = 0; i < o->n; i++) {
		fputs(i ? " | " : "", f);
		if (o->cch[i] == NOCH) {
			fputs("off", f);
			continue;
		}
		fprintf(f, "%s %c", o->cop[i] == K_SEND ? "send" : "recv",
		    'A' + o->cch[i]);
		if (o->cop[i] == K_SEND)
			fprintf(f, " #%u", o->val[i]);
	}
	fputc(']', f);
	if (o->sel == SEL_BAD) {
		fputs(" -> NOT ONE OF ITS CASES", f);
		return;
	}
	fprintf(f, " -> %d, %s", o->sel, err_name(o->err));
	if (o->sel >= 0 && o->cop[o->sel] == K_RECV && o->err == 0)
		fprintf(f, " {#%u}", o->val[o->sel]);
}

static void
print_op(FILE *f, const struct hist *h, const struct op *o)
{
	static const char *const form[] = { "try", "timed", "" };
	unsigned i;

	fprintf(f, "[%5lu %5lu] ", o->inv - h->ops[h->nw][0].inv + 0,
	    o->resp - h->ops[h->nw][0].inv + 0);
	if (h->nch > 1 && o->kind != K_SEL)
		fprintf(f, "%c: ", 'A' + o->ch);
	switch (o->kind) {
	case K_LEN:
		fprintf(f, "len -> %zu\n", o->len);
		return;
	case K_CLOSE:
		fprintf(f, "close -> %s\n", err_name(o->err));
		return;
	}
	fprintf(f, "%s%s%s", form[o->form], o->kind == K_SEND ? "send" :
	    o->kind == K_RECV ? "recv" : "select", o->batch ? "n" : "");
	if (o->form == F_TIMED)
		fprintf(f, "(%dus)", o->dl_us);
	if (o->kind == K_SEL) {
		print_select(f, o);
	} else if (o->kind == K_SEND) {
		fputs(" {", f);
		for (i = 0; i < o->n; i++)
			fprintf(f, "%s#%u", i ? " " : "", o->val[i]);
		fputc('}', f);
	} else if (o->batch) {
		fprintf(f, " n=%u", o->n);
	}
	if (o->kind != K_SEL)
		fprintf(f, " -> %s", err_name(o->err));
	if (o->batch)
		fprintf(f, ", %zu", o->len);
	if (o->kind == K_RECV && o->err == 0) {
		fputs(" {", f);
		for (i = 0; i < o->cnt && i < MAXN; i++)
			fprintf(f, "%s#%u", i ? " " : "", o->val[i]);
		fputc('}', f);
	}
	if (o->spill)
		fputs(o->kind == K_SEL ? " WROTE INTO ANOTHER CASE'S BUFFER" :
		    " WROTE PAST ITS COUNT", f);
	fputc('\n', f);
}

static uint64_t seed;
static int notes;		/* LIN_NOTES */

static void
print_hist(FILE *f, const struct hist *h)
{
	unsigned t, i, c;

	fprintf(f, "history %lu: ", h->index);
	for (c = 0; c < h->nch; c++) {
		if (h->nch > 1)
			fprintf(f, "%s%c ", c ? ", " : "", 'A' + c);
		fprintf(f, "capacity %zu, CHAN_%s", h->cap[c],
		    policy_name[h->policy[c]]);
	}
	fprintf(f, "; %u threads (main last); stamps [invoked returned]\n",
	    h->nw);
	for (t = 0; t <= h->nw; t++) {
		fprintf(f, "  thread %u%s:\n", t, t == h->nw ? " (main)" : "");
		for (i = 0; i < h->nops[t]; i++) {
			fputs("    ", f);
			print_op(f, h, &h->ops[t][i]);
		}
	}
	if (h->index != SAMPLE)
		fprintf(f, "  repeat its plan: STRESS_SEED=%llu "
		    "LIN_HISTORY=%lu\n", (unsigned long long)seed, h->index);
}

/* The workers: each makes its calls of the history, then waits for the next. */
static struct hist cur;
static pthread_barrier_t start_bar, end_bar;
static atomic_int arrived, quit;
static atomic_int in_plain[MAXW], finished[MAXW];
static atomic_ulong calls_done;

static void *
worker_main(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg, i;
	struct op *o;

	for (;;) {
		pthread_barrier_wait(&start_bar);
		if (atomic_load(&quit))
			return NULL;
		if (id < cur.nw) {
			/* Start together: the calls overlap only so. */
			atomic_fetch_add(&arrived, 1);
			while (atomic_load(&arrived) < (int)cur.nw)
				sched_yield();
			for (i = 0; i < cur.nops[id]; i++) {
				o = &cur.ops[id][i];
				if (o->pause == 1)
					relax(o->spin);
				else if (o->pause == 2)
					sched_yield();
				atomic_store(&in_plain[id], o->form == F_PLAIN &&
				    (o->kind == K_SEND || o->kind == K_RECV ||
				    o->kind == K_SEL));
				run_op(o);
				atomic_store(&in_plain[id], 0);
				atomic_fetch_add(&calls_done, 1);
			}
			atomic_store(&finished[id], 1);
		}
		pthread_barrier_wait(&end_bar);
	}
}

static bool
all_finished(void)
{
	unsigned t;

	for (t = 0; t < cur.nw; t++)
		if (!atomic_load(&finished[t]))
			return false;
	return true;
}

/*
 * Whether every worker still running is in a plain call, with nothing
 * moving over a few yields: the calls may be waiting for good, and only a
 * close ends them.  (If they were about to return, closing is still a
 * history like any other.)
 */
static bool
stuck(void)
{
	unsigned long before = atomic_load(&calls_done);
	unsigned t;
	int round;

	for (round = 0; round < 4; round++) {
		for (t = 0; t < cur.nw; t++)
			if (!atomic_load(&finished[t]) &&
			    !atomic_load(&in_plain[t]))
				return false;
		sched_yield();
	}
	return atomic_load(&calls_done) == before;
}

/* Main makes a call of kind on channel ch, planned here. */
static struct op *
main_op(unsigned kind, unsigned ch)
{
	struct op *o = &cur.ops[cur.nw][cur.nops[cur.nw]++];

	o->kind = (uint8_t)kind;
	o->ch = (uint8_t)ch;
	return o;
}

/*
 * Closes the channels which (a channel, or NCH every one) names that are
 * still open.  A select blocked on channels of which one is closed has a
 * ready case: closing each in turn releases every plain call.
 */
static void
close_chans(bool *closed, unsigned which)
{
	unsigned c;

	for (c = 0; c < cur.nch; c++) {
		if (closed[c] || (which != NCH && which != c))
			continue;
		run_op(main_op(K_CLOSE, c));
		closed[c] = true;
	}
}

static bool
any_open(const bool *closed)
{
	unsigned c;

	for (c = 0; c < cur.nch; c++)
		if (!closed[c])
			return true;
	return false;
}

/* Runs the history planned in cur, main's part included; 0, or exits 2. */
static void
run_hist(void)
{
	bool closed[NCH] = { false };
	struct op *o;
	unsigned t, c;
	int i;

	for (c = 0; c < cur.nch; c++) {
		cur_ch[c] = chan_create(sizeof(uint32_t), cur.cap[c],
		    cur.policy[c]);
		if (cur_ch[c] == NULL) {
			perror("chan_create");
			exit(2);
		}
	}
	/* Main's first call stamps the history's origin (print_op). */
	cur.nops[cur.nw] = 0;
	memset(cur.ops[cur.nw], 0, sizeof(cur.ops[0]));
	run_op(main_op(K_LEN, 0));
	for (t = 0; t < MAXW; t++) {
		atomic_store(&finished[t], 0);
		atomic_store(&in_plain[t], 0);
	}
	atomic_store(&arrived, 0);
	pthread_barrier_wait(&start_bar);
	if (cur.early >= 0) {
		relax((unsigned)cur.early);
		close_chans(closed, cur.early_ch);
	}
	while (!all_finished()) {
		if (any_open(closed) && stuck())
			close_chans(closed, NCH);
		sched_yield();
	}
	pthread_barrier_wait(&end_bar);
	/* The drain: what is left, until the channel says empty. */
	for (c = 0; c < cur.nch; c++) {
		for (i = 0; i <= (int)cur.cap[c]; i++) {
			o = main_op(K_RECV, c);
			o->form = F_TRY;
			o->batch = i % 2;
			o->n = o->batch ? (uint8_t)cur.cap[c] : 1;
			run_op(o);
			if (o->err != 0)
				break;
		}
		chan_destroy(cur_ch[c]);
		cur_ch[c] = NULL;
	}
	progress();
}

/*
 * Histories whose answers are known, checked before the run, so that a
 * checker that accepts too much (or too little) fails at once.
 *
 * slide_gap has no linearization even relaxed (the CHAN_SLIDE bug fixed
 * in 2abc0da: a tryrecv found empty a channel of capacity 1 that no order
 * of the calls empties); drop_stale only a relaxed one (a CHAN_DROP batch
 * decided that two of its three elements fit while the channel still held
 * #1, which a receiver then took, and its chunk 2 found the channel empty
 * before the two were in).
 *
 * sel_gap has none: a tryselect of a receive on A and one on B says
 * EAGAIN, but A held #1 until B held #2, so at every instant of the
 * select one case was ready (what two unlocked probes may see, select.c
 * says).  sel_gap_ok is the same with #1 taken before #2 is sent: the
 * select must fall between the two, and may.  sel_self has none either:
 * a send and a receive case on one open channel of capacity 1 are never
 * both not ready.  sel_closed has one: receive cases drain a closed
 * channel before they fail EPIPE, a send case on a closed channel is
 * ready with EPIPE, a CHAN_DROP send case on a full channel is ready (its
 * element discarded), and a disabled case is never chosen.  Each is
 * checked strict and relaxed.
 */
struct sample_op {
	uint8_t		 t, kind, form, batch, n, val[MAXN], cnt;
	int		 err;
	unsigned	 inv, resp;
	uint8_t		 ch, cch[MAXN], cop[MAXN];
	int8_t		 sel;
};

/*
 * A sample's calls, in designated initialisers (lists in parentheses): a
 * plain call on channel ch; a select of n cases (channels, ops, and the
 * ids sent or received), its answer sel and err.
 */
#define L(...)	{ __VA_ARGS__ }
#define CALL(t_, k_, f_, b_, n_, v_, c_, e_, i_, r_, ch_)		\
	{ .t = t_, .kind = k_, .form = f_, .batch = b_, .n = n_,	\
	  .val = L v_, .cnt = c_, .err = e_, .inv = i_, .resp = r_,	\
	  .ch = ch_ }
#define SELECT(t_, f_, n_, cch_, cop_, v_, s_, e_, i_, r_)		\
	{ .t = t_, .kind = K_SEL, .form = f_, .n = n_, .cch = L cch_,	\
	  .cop = L cop_, .val = L v_, .sel = s_, .err = e_, .inv = i_,	\
	  .resp = r_ }
#define S	K_SEND
#define R	K_RECV

static const struct sample_op slide_gap[] = {
	CALL(2, K_LEN, 0, 0, 0, (0), 0, 0, 0, 1, 0),
	CALL(0, K_SEND, F_TRY, 0, 1, (1), 1, 0, 2, 3, 0),
	CALL(0, K_SEND, F_TIMED, 1, 2, (2, 3), 2, 0, 4, 7, 0),
	CALL(1, K_RECV, F_TRY, 0, 1, (0), 0, EAGAIN, 5, 6, 0),
	CALL(2, K_RECV, F_TRY, 0, 1, (3), 1, 0, 8, 9, 0),
	CALL(2, K_RECV, F_TRY, 0, 1, (0), 0, EAGAIN, 10, 11, 0),
};

static const struct sample_op drop_stale[] = {
	CALL(2, K_LEN, 0, 0, 0, (0), 0, 0, 0, 1, 0),
	CALL(0, K_SEND, F_TIMED, 0, 1, (1), 1, 0, 3, 4, 0),
	CALL(0, K_SEND, F_TRY, 1, 3, (2, 3, 4), 3, 0, 5, 7, 0),
	CALL(1, K_RECV, F_PLAIN, 1, 3, (1), 1, 0, 2, 6, 0),
	CALL(2, K_RECV, F_TRY, 1, 3, (2, 3), 2, 0, 8, 9, 0),
	CALL(2, K_RECV, F_TRY, 0, 1, (0), 0, EAGAIN, 10, 11, 0),
};

static const struct sample_op sel_gap[] = {
	CALL(2, K_LEN, 0, 0, 0, (0), 0, 0, 0, 1, 0),
	CALL(0, K_SEND, F_TRY, 0, 1, (1), 1, 0, 2, 3, 0),
	SELECT(1, F_TRY, 2, (0, 1), (R, R), (0), -1, EAGAIN, 4, 9),
	CALL(0, K_SEND, F_TRY, 0, 1, (2), 1, 0, 5, 6, 1),
	CALL(0, K_RECV, F_TRY, 0, 1, (1), 1, 0, 7, 8, 0),
	CALL(2, K_RECV, F_TRY, 0, 1, (2), 1, 0, 10, 11, 1),
	CALL(2, K_RECV, F_TRY, 0, 1, (0), 0, EAGAIN, 12, 13, 0),
	CALL(2, K_RECV, F_TRY, 0, 1, (0), 0, EAGAIN, 14, 15, 1),
};

static const struct sample_op sel_gap_ok[] = {
	CALL(2, K_LEN, 0, 0, 0, (0), 0, 0, 0, 1, 0),
	CALL(0, K_SEND, F_TRY, 0, 1, (1), 1, 0, 2, 3, 0),
	SELECT(1, F_TRY, 2, (0, 1), (R, R), (0), -1, EAGAIN, 4, 11),
	CALL(0, K_RECV, F_TRY, 0, 1, (1), 1, 0, 5, 6, 0),
	CALL(0, K_SEND, F_TRY, 0, 1, (2), 1, 0, 7, 8, 1),
	CALL(2, K_RECV, F_TRY, 0, 1, (2), 1, 0, 12, 13, 1),
	CALL(2, K_RECV, F_TRY, 0, 1, (0), 0, EAGAIN, 14, 15, 0),
	CALL(2, K_RECV, F_TRY, 0, 1, (0), 0, EAGAIN, 16, 17, 1),
};

static const struct sample_op sel_self[] = {
	CALL(2, K_LEN, 0, 0, 0, (0), 0, 0, 0, 1, 0),
	SELECT(0, F_TRY, 2, (0, 0), (S, R), (1), -1, EAGAIN, 2, 3),
	CALL(2, K_RECV, F_TRY, 0, 1, (0), 0, EAGAIN, 4, 5, 0),
};

static const struct sample_op sel_closed[] = {
	CALL(2, K_LEN, 0, 0, 0, (0), 0, 0, 0, 1, 0),
	CALL(0, K_SEND, F_TRY, 0, 1, (1), 1, 0, 2, 3, 0),
	CALL(0, K_CLOSE, 0, 0, 0, (0), 0, 0, 4, 5, 0),
	SELECT(1, F_TRY, 3, (1, 0, NOCH), (R, R, R), (0, 1), 1, 0, 6, 7),
	SELECT(1, F_TRY, 2, (0, 0), (S, R), (2), 1, EPIPE, 8, 9),
	SELECT(1, F_TIMED, 2, (1, 1), (S, S), (3, 4), 0, 0, 10, 11),
	CALL(1, K_SEND, F_TRY, 0, 1, (5), 1, 0, 12, 13, 1),
	SELECT(0, F_TRY, 1, (1), (S), (6), 0, 0, 14, 15),
	SELECT(0, F_PLAIN, 2, (1, 1), (R, R), (0, 3), 1, 0, 16, 17),
	CALL(2, K_RECV, F_TRY, 0, 1, (0), 0, EPIPE, 18, 19, 0),
	CALL(2, K_RECV, F_TRY, 0, 1, (5), 1, 0, 20, 21, 1),
	CALL(2, K_RECV, F_TRY, 0, 1, (0), 0, EAGAIN, 22, 23, 1),
};

#undef L
#undef CALL
#undef SELECT
#undef S
#undef R

#define NOPS(a)	(sizeof(a) / sizeof((a)[0]))

static const struct sample {
	const char		*name;
	unsigned		 nch;
	size_t			 cap[NCH];
	enum chan_policy	 policy[NCH];
	const struct sample_op	*ops;
	size_t			 nops;
	int			 strict, relaxed;	/* the answers */
} samples[] = {
	{ "slide_gap", 1, { 1 }, { CHAN_SLIDE }, slide_gap,
	    NOPS(slide_gap), 0, 0 },
	{ "drop_stale", 1, { 3 }, { CHAN_DROP }, drop_stale,
	    NOPS(drop_stale), 0, 1 },
	{ "sel_gap", 2, { 1, 1 }, { CHAN_BLOCK, CHAN_BLOCK }, sel_gap,
	    NOPS(sel_gap), 0, 0 },
	{ "sel_gap_ok", 2, { 1, 1 }, { CHAN_BLOCK, CHAN_BLOCK }, sel_gap_ok,
	    NOPS(sel_gap_ok), 1, 1 },
	{ "sel_self", 1, { 1 }, { CHAN_BLOCK }, sel_self,
	    NOPS(sel_self), 0, 0 },
	{ "sel_closed", 2, { 1, 2 }, { CHAN_BLOCK, CHAN_DROP }, sel_closed,
	    NOPS(sel_closed), 1, 1 },
};

static void
sample(struct hist *h, const struct sample *sm)
{
	const struct sample_op *so;
	struct op *o;
	size_t i;

	memset(h, 0, sizeof(*h));
	h->index = SAMPLE;
	h->nw = 2;
	h->nch = sm->nch;
	memcpy(h->cap, sm->cap, sizeof(h->cap));
	memcpy(h->policy, sm->policy, sizeof(h->policy));
	for (i = 0; i < sm->nops; i++) {
		so = &sm->ops[i];
		o = &h->ops[so->t][h->nops[so->t]++];
		o->kind = so->kind;
		o->form = so->form;
		o->batch = so->batch;
		o->n = so->n;
		o->ch = so->ch;
		memcpy(o->val, so->val, sizeof(o->val));
		memcpy(o->cch, so->cch, sizeof(o->cch));
		memcpy(o->cop, so->cop, sizeof(o->cop));
		o->sel = so->sel;
		o->cnt = so->cnt;
		o->len = so->cnt;
		o->err = so->err;
		o->inv = so->inv;
		o->resp = so->resp;
	}
	order(h);
}

static void
self_test(struct checker *k)
{
	static struct hist h;
	int strict, relaxed;
	size_t i;

	for (i = 0; i < NOPS(samples); i++) {
		sample(&h, &samples[i]);
		strict = linearizable(k, &h, 0);
		relaxed = linearizable(k, &h, R_SPLIT | R_LEN);
		if (strict == samples[i].strict &&
		    relaxed == samples[i].relaxed)
			continue;
		violation("linearize: self-test: %s: strict %d (%d expected), "
		    "relaxed %d (%d expected) for:", samples[i].name, strict,
		    samples[i].strict, relaxed, samples[i].relaxed);
		print_hist(stderr, &h);
	}
}

/* Relaxed counts by policy (one channel) or two channels: column. */
#define COL_TWO	3

struct tally {
	unsigned long	 hists, overlap, two, sels, selfail;
	unsigned long	 relaxed[4][4], gaveup;
	bool		 told[4];
};

/* Whether two calls of different threads ran at the same time. */
static bool
overlapped(const struct hist *h)
{
	unsigned t, u, i, j;

	for (t = 0; t <= h->nw; t++)
		for (u = t + 1; u <= h->nw; u++)
			for (i = 0; i < h->nops[t]; i++)
				for (j = 0; j < h->nops[u]; j++)
					if (h->ops[t][i].inv < h->ops[u][j].resp &&
					    h->ops[u][j].inv < h->ops[t][i].resp)
						return true;
	return false;
}

static void
count_selects(const struct hist *h, struct tally *ty)
{
	unsigned t, i;

	for (t = 0; t < h->nw; t++)
		for (i = 0; i < h->nops[t]; i++) {
			if (h->ops[t][i].kind != K_SEL)
				continue;
			ty->sels++;
			ty->selfail += h->ops[t][i].sel < 0;
		}
}

/* Checks the history in cur: strict, then relaxed (see the top). */
static void
check_hist(struct checker *k, struct tally *ty)
{
	static const char *const what[] = { "", "batch chunks split",
	    "chan_len not a snapshot", "batch chunks split and chan_len" };
	int r, relax;

	order(&cur);
	ty->hists++;
	ty->overlap += overlapped(&cur);
	ty->two += cur.nch > 1;
	count_selects(&cur, ty);
	if ((r = linearizable(k, &cur, 0)) == 1)
		return;
	for (relax = 1; r != 1 && relax <= 3; relax++)
		r = linearizable(k, &cur, relax);
	relax--;
	if (r == 1) {
		ty->relaxed[relax][cur.nch > 1 ? COL_TWO : cur.policy[0]]++;
		if (notes && !ty->told[relax]) {
			ty->told[relax] = true;
			flockfile(stderr);
			fprintf(stderr, "linearize: note: history %lu "
			    "linearizable only relaxed (%s), as the pages "
			    "allow:\n", cur.index, what[relax]);
			print_hist(stderr, &cur);
			funlockfile(stderr);
		}
		return;
	}
	if (r < 0) {
		ty->gaveup++;
		return;
	}
	violation("linearize: seed %llu: history %lu has no linearization, "
	    "even relaxed:", (unsigned long long)seed, cur.index);
	flockfile(stderr);
	print_hist(stderr, &cur);
	funlockfile(stderr);
}

int
main(void)
{
	int full = stress_full();
	unsigned long want, only, repeat, i;
	struct checker k = { 0 };
	struct tally ty = { 0 };
	pthread_t th[MAXW];
	double seconds, start;
	const char *s;
	unsigned t, r;

	seed = stress_run_seed();
	want = env_ulong("STRESS_HISTORIES", full ? 400000 : 16000);
	seconds = (double)env_ulong("STRESS_SECONDS", full ? 35 : 2);
	s = getenv("LIN_HISTORY");
	only = env_ulong("LIN_HISTORY", 0);
	repeat = env_ulong("LIN_REPEAT", 100000);
	notes = env_ulong("LIN_NOTES", 0) != 0;
	printf("linearize: seed %llu, %s\n", (unsigned long long)seed,
	    s != NULL && *s != '\0' ? "one plan repeated" :
	    full ? "full" : "quick");
	fflush(stdout);
	watchdog_start();
	set_phase("linearize seed %llu", (unsigned long long)seed);
	if (pthread_barrier_init(&start_bar, NULL, MAXW + 1) != 0 ||
	    pthread_barrier_init(&end_bar, NULL, MAXW + 1) != 0) {
		perror("pthread_barrier_init");
		return 2;
	}
	self_test(&k);
	for (t = 0; t < MAXW; t++)
		spawn(&th[t], worker_main, (void *)(uintptr_t)t);
	start = now_sec();
	for (i = 0; ; i++) {
		if (s != NULL && *s != '\0') {
			if (i == repeat)
				break;
			plan(&cur, seed, only);
		} else {
			if (i == want || (i % 64 == 0 && i > 0 &&
			    now_sec() - start > seconds))
				break;
			plan(&cur, seed, i);
		}
		run_hist();
		check_hist(&k, &ty);
		if (atomic_load(&stress_violations) != 0)
			break;
	}
	atomic_store(&quit, 1);
	pthread_barrier_wait(&start_bar);
	for (t = 0; t < MAXW; t++)
		join(th[t]);
	printf("linearize: %lu histories (%lu with calls at the same time, "
	    "%lu on two channels; %lu selects, %lu of them failing EAGAIN or "
	    "ETIMEDOUT) in %.1f s; linearizable only relaxed (BLOCK/DROP/"
	    "SLIDE/two channels):", ty.hists, ty.overlap, ty.two, ty.sels,
	    ty.selfail, now_sec() - start);
	for (r = 1; r <= 3; r++)
		printf("%s %lu/%lu/%lu/%lu", r == 1 ? " chunks split" :
		    r == 2 ? ", chan_len" : ", both", ty.relaxed[r][0],
		    ty.relaxed[r][1], ty.relaxed[r][2], ty.relaxed[r][COL_TWO]);
	printf("; search gave up on %lu\n", ty.gaveup);
	free(k.tab);
	free(k.gen);
	return stress_exit("linearize");
}
