/*
 * The channel: ring, policies, send, receive, close.
 *
 * Lock order:
 *   1. channels in increasing address order (only a select's slow path
 *      holds several);
 *   2. within a channel, send_mu before recv_mu (close, CHAN_SLIDE's
 *      discard, a select's slow path);
 *   3. a waiter's mu, which no one holds while taking another lock.
 * Everything else holds one channel lock at a time, and wakes the other
 * side only after dropping its own.
 *
 * How the two sides of a buffered channel meet without sharing a lock.
 * A sender publishes an element (its slot's word, then tail, release),
 * drops send_mu with chan__unlock_fence (a full fence after the unlock; on
 * x86 the futex lock's own exchange is that fence), then reads nrecvw; a
 * receiver about to sleep links its entry (nrecvw++) under recv_mu, issues
 * a full fence, then looks at the ring again.  The two fences are ordered
 * one way or the other: if the receiver's comes first, the sender sees
 * nrecvw > 0 and serves it; if the sender's comes first, the receiver sees
 * the element and does not sleep.  Either way no element sits in the ring
 * beside a sleeping receiver.  The same argument, with head (on a one-slot
 * ring, the slot's word) and nsendw, covers a sender waiting for room.
 * Release/acquire alone would let both reads miss (the store-buffer
 * pattern), which no x86 test can show: keep both fences.
 *
 * Waking: an unbuffered channel hands the element straight between the two
 * threads' buffers.  A buffered one publishes into the ring first and then
 * serves waiters from the head of the ring (so FIFO and each sender's order
 * hold with no special case).  A waiter still spinning is handed its element
 * directly; a sleeping one is not committed to, since it needs tens of
 * microseconds to run: it is woken to retry (CHAN__RETRY) while the element
 * stays in the ring for whichever thread comes first (barging).  Each thread
 * woken to retry serves the channel again on its way out, whatever it did,
 * so a wake-up it did not use passes on to the next sleeper.
 */
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "internal.h"

/* What every operation reads of a channel (see struct chan) is one line. */
_Static_assert(offsetof(struct chan, prefetchw) < CHAN__LINE,
    "struct chan's fixed fields spill onto a second cache line");

/* The most receives between two refreshes of head_hint: 1 << this. */
#define HINT_SHIFT_MAX	4

/* Slot i's sequence word and element (see struct chan). */
static inline _Atomic size_t *
seq_of(const chan_t *ch, size_t i)
{
	return (_Atomic size_t *)(void *)(ch->ring + i * ch->stride);
}

static inline void *
slot(const chan_t *ch, size_t i)
{
	return ch->ring + i * ch->stride + sizeof(size_t);
}

/*
 * Copies one element; a NULL dst (a receive that discards) copies nothing.
 * The common sizes get a copy the compiler inlines.
 */
static inline void
copy_elem(const chan_t *ch, void *dst, const void *src)
{
	if (dst == NULL)
		return;
	switch (ch->elem_size) {
	case 0:
		break;
	case 4:
		memcpy(dst, src, 4);
		break;
	case 8:
		memcpy(dst, src, 8);
		break;
	case 16:
		memcpy(dst, src, 16);
		break;
	default:
		memcpy(dst, src, ch->elem_size);
		break;
	}
}

chan__mutex *
chan__queue_lock(chan_t *ch, enum chan_op op)
{
	return ch->cap > 0 && op == CHAN_RECV ? &ch->recv_mu : &ch->send_mu;
}

static struct chan__queue *
queue_of(chan_t *ch, enum chan_op op)
{
	return op == CHAN_SEND ? &ch->sendq : &ch->recvq;
}

static _Atomic size_t *
count_of(chan_t *ch, enum chan_op op)
{
	return op == CHAN_SEND ? &ch->nsendw : &ch->nrecvw;
}

/*
 * Adds d to a waiter count.  The count changes only under its queue's
 * lock, so a plain load and store do.  A locked read-modify-write (LOCK
 * XADD on x86) is a full barrier: with the lock held, it waited for every
 * store before it (the entry's, the queue's), whose lines were often
 * still on their way from the other CPU.  Capacity 0, medians of paired
 * ratios new/old over three sets of 10-16 interleaved rounds: ping-pong's
 * round trip 0.96, 0.90, 0.94; throughput select_both 1.19, 1.22, 1.08,
 * select_rx 1.04, 0.90, 1.03, spsc 1.09 and 1.06, mpmc 2->2 1.12 and
 * 1.00, 4->4 1.04 and 1.01.  (At capacity 1 and 2 a wait that queues is
 * rare: 1% of ping-pong's round trips at capacity 1.)
 */
static inline void
bump(_Atomic size_t *count, int d)
{
	atomic_store_explicit(count, atomic_load_explicit(count,
	    memory_order_relaxed) + (size_t)d, memory_order_relaxed);
}

/* Appends e to its queue on ch; the caller holds the queue's lock. */
void
chan__link(chan_t *ch, struct chan__entry *e)
{
	struct chan__queue *q = queue_of(ch, e->op);

	e->next = NULL;
	e->prev = q->tail;
	if (q->tail != NULL) {
		q->tail->next = e;
	} else {
		q->head = e;
		q->head_w = e->w;
	}
	q->tail = e;
	atomic_store_explicit(&e->linked, true, memory_order_relaxed);
	bump(count_of(ch, e->op), 1);
}

/*
 * Removes e from its queue on ch; the caller holds the queue's lock.  The
 * store of linked is the last touch: the owner may reuse e once it reads
 * false.
 */
void
chan__unlink(chan_t *ch, struct chan__entry *e)
{
	struct chan__queue *q = queue_of(ch, e->op);

	if (e->prev != NULL)
		e->prev->next = e->next;
	else if ((q->head = e->next) != NULL)
		q->head_w = e->next->w;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		q->tail = e->prev;
	bump(count_of(ch, e->op), -1);
	atomic_store_explicit(&e->linked, false, memory_order_release);
}

/*
 * Unlinks whichever of the n entries are still queued, each under its
 * queue's lock.  Called by their owner once it no longer waits.
 */
void
chan__unlink_all(struct chan__entry *ents, size_t n)
{
	chan__mutex *mu;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!atomic_load_explicit(&ents[i].linked, memory_order_acquire))
			continue;
		mu = chan__queue_lock(ents[i].ch, ents[i].op);
		chan__lock(mu);
		if (atomic_load_explicit(&ents[i].linked, memory_order_relaxed))
			chan__unlink(ents[i].ch, &ents[i]);
		chan__unlock(mu);
	}
}

/*
 * Takes the first entry on ch's op queue whose waiter it can claim, and
 * returns it, unlinked, with *was the state it was claimed from; entries of
 * waiters that stopped waiting are unlinked on the way.  The caller holds
 * the queue's lock.  The claim comes before the unlink: while the entry is
 * linked its owner cannot return, so its waiter is still there to claim.
 */
static struct chan__entry *
claim_first(chan_t *ch, enum chan_op op, int *was)
{
	struct chan__queue *q = queue_of(ch, op);
	struct chan__entry *e;
	int s;

	while ((e = q->head) != NULL) {
		/*
		 * The entry's line comes meanwhile: the claim does not wait.
		 * (On x86-64 this is a read prefetch, see
		 * chan__prefetch_write; PREFETCHW here and in transfer_once
		 * measured no better at capacity 0, six rounds in each order.)
		 */
		__builtin_prefetch(e, 1);
		s = chan__claim(q->head_w);
		chan__unlink(ch, e);
		if (s >= 0) {
			*was = s;
			return e;
		}
	}
	return NULL;
}

/*
 * Records the outcome of a claimed entry.  A spinning waiter gets DONE at
 * once and may return; a sleeping one is put on *wake, to be signalled by
 * chan__wake once the caller has dropped the channel's locks (it cannot
 * leave before DONE, so its entry stays valid until then).
 */
static void
complete(struct chan__entry *e, int was, int result, struct chan__entry **wake)
{
	struct chan__waiter *w = e->w;

	w->index = e->index;
	w->result = result;
	if (was == CHAN__WAITING) {
		CHAN__SENT(&w->state);
		atomic_store_explicit(&w->state, CHAN__DONE,
		    memory_order_release);
	} else {
		e->next = *wake;
		*wake = e;
	}
}

/* Signals every sleeper complete() listed; called with no lock held. */
void
chan__wake(struct chan__entry *list)
{
	struct chan__entry *next;

	for (; list != NULL; list = next) {
		next = list->next;
		chan__done_sleeping(list->w);
	}
}

void
chan__lock_all(chan_t *ch)
{
	chan__lock(&ch->send_mu);
	if (ch->cap > 0)
		chan__lock(&ch->recv_mu);
}

void
chan__unlock_all(chan_t *ch)
{
	if (ch->cap > 0)
		chan__unlock(&ch->recv_mu);
	chan__unlock(&ch->send_mu);
}

/*
 * The ring.  Senders hold send_mu, receivers recv_mu.  The receivers' next
 * slot holds an element when its word reads filled(their lap); on a
 * one_slot ring, the senders' next slot is free when its word reads
 * freed(their lap).  See struct chan.
 */
static inline size_t
filled(size_t lap)
{
	return 2 * lap + 1;
}

static inline size_t
freed(size_t lap)
{
	return 2 * lap;
}

/* A ring of one slot, whose receivers also free the slot in its word. */
static inline bool
one_slot(const chan_t *ch)
{
	return ch->cap == 1;
}

/*
 * tail as the senders know it, and head as the receivers do, from the
 * fields their lock guards: reading tail (head) itself would fetch its line
 * again, where the side then only has to store to it.
 */
static inline size_t
own_tail(const chan_t *ch)
{
	return ch->tail_lap * ch->cap + ch->tail_slot;
}

static inline size_t
own_head(const chan_t *ch)
{
	return ch->head_lap * ch->cap + ch->head_slot;
}

/*
 * Refreshes the senders' copy of head from head.  Never backwards: on a
 * one_slot ring the copy may have been raised from a slot's word, which a
 * receiver stores before it stores head.
 */
static inline void
refresh_head(chan_t *ch)
{
	size_t h = atomic_load_explicit(&ch->head, memory_order_acquire);

	CHAN__RECEIVED(&ch->head);
	if ((ptrdiff_t)(h - ch->head_cache) > 0)
		ch->head_cache = h;
}

/* True if the ring has a free slot; refreshes the senders' copy of head. */
static inline bool
has_room(chan_t *ch)
{
	size_t t = own_tail(ch);

	if (t - ch->head_cache < ch->cap)
		return true;
	if (one_slot(ch)) {
		/* Free: head is past t - cap, though perhaps no further. */
		if (atomic_load_explicit(seq_of(ch, ch->tail_slot),
		    memory_order_acquire) != freed(ch->tail_lap))
			return false;
		CHAN__RECEIVED(&ch->head);
		ch->head_cache = t - ch->cap + 1;
		return true;
	}
	refresh_head(ch);
	return t - ch->head_cache < ch->cap;
}

/* True if the ring holds an element; refreshes the receivers' copy of tail. */
static inline bool
has_elem(chan_t *ch)
{
	size_t h = own_head(ch);

	if ((ptrdiff_t)(ch->tail_cache - h) > 0)
		return true;
	if (atomic_load_explicit(seq_of(ch, ch->head_slot),
	    memory_order_acquire) != filled(ch->head_lap))
		return false;
	CHAN__RECEIVED(&ch->tail);
	ch->tail_cache = h + 1;			/* there, if tail lags */
	return true;
}

/*
 * A store into a slot whose line another CPU holds waits for the line, and
 * the unlock's fence waits for the store: on a busy ring every send stalled
 * there, for a line a receiver had read last.  So a sender asks for the
 * line of the slot ahead slots on (PREFETCH_LINES lines' worth), for
 * writing, some sends before it fills it, if head_cache says the receivers
 * have left that slot.  A ring of ahead slots or fewer has no such slot
 * (ahead is 0).  spsc at capacity 1024, three runs of five or six
 * interleaved rounds: 18.8 -> 39.3, 19.3 -> 47.9 and 19.2 -> 44.1 M/s;
 * mpmc 4->4 16.8 -> 36.2, 17.3 -> 43.4 and 16.3 -> 41.4.  One line ahead
 * gained less, three and four no more.  Receivers fetching their lines
 * ahead took them from the sender still filling them: spsc 47 -> 28 M/s.
 */
#define PREFETCH_LINES	2

/*
 * Whether chan__prefetch_write is safe here: on x86, CPUID says, asked once
 * since CPUID can trap to a hypervisor.
 */
static bool
can_prefetch(void)
{
#if defined(__x86_64__) || defined(__i386__)
	static _Atomic int known;	/* 0: not asked yet, 1: no, 2: yes */
	int k = atomic_load_explicit(&known, memory_order_relaxed);
	unsigned a, b, c, d;

	if (k == 0) {
		k = (__get_cpuid(0x80000001, &a, &b, &c, &d) &&
		    (c & bit_PRFCHW)) ? 2 : 1;
		atomic_store_explicit(&known, k, memory_order_relaxed);
	}
	return k == 2;
#else
	return true;
#endif
}

static inline void
prefetch_ahead(chan_t *ch)
{
	size_t i;

	if (ch->ahead == 0 ||
	    own_tail(ch) + ch->ahead - ch->head_cache >= ch->cap)
		return;
	i = ch->tail_slot + ch->ahead;
	if (i >= ch->cap)
		i -= ch->cap;
	chan__prefetch_write(seq_of(ch, i));
}

/* Fills the senders' next slot; publishing tail is the caller's. */
static inline void
put_one(chan_t *ch, const void *elem)
{
	prefetch_ahead(ch);
	copy_elem(ch, slot(ch, ch->tail_slot), elem);
	CHAN__SENT(&ch->tail);
	atomic_store_explicit(seq_of(ch, ch->tail_slot), filled(ch->tail_lap),
	    memory_order_release);
	if (++ch->tail_slot == ch->cap) {
		ch->tail_slot = 0;
		ch->tail_lap++;
	}
}

/* Empties the receivers' next slot into elem (NULL: discards). */
static inline void
take_one(chan_t *ch, void *elem)
{
	copy_elem(ch, elem, slot(ch, ch->head_slot));
	if (one_slot(ch)) {
		CHAN__SENT(&ch->head);
		atomic_store_explicit(seq_of(ch, ch->head_slot),
		    freed(ch->head_lap + 1), memory_order_release);
	}
	if (++ch->head_slot == ch->cap) {
		ch->head_slot = 0;
		ch->head_lap++;
	}
}

/*
 * Receivers moved head from h to h + k: refreshes head_hint if that
 * crossed a multiple of 2^hint_shift.
 */
static inline void
hint_head(chan_t *ch, size_t h, size_t k)
{
	if (ch->hint_shift > 0 &&
	    (h >> ch->hint_shift) != ((h + k) >> ch->hint_shift))
		atomic_store_explicit(&ch->head_hint, h + k,
		    memory_order_relaxed);
}

/*
 * Appends k elements; the caller checked there is room for them.  elems
 * is NULL for a channel of elem_size 0, and stays NULL: even adding 0 to
 * a null pointer is undefined (clang's UBSan reports it).
 */
static inline void
ring_put(chan_t *ch, const void *elems, size_t k)
{
	size_t t = own_tail(ch);
	const unsigned char *p = elems;
	size_t i;

	for (i = 0; i < k; i++) {
		put_one(ch, p);
		if (p != NULL)
			p += ch->elem_size;
	}
	CHAN__SENT(&ch->tail);
	atomic_store_explicit(&ch->tail, t + k, memory_order_release);
}

/* Removes the k oldest elements into elems (NULL: discards them). */
static inline void
ring_take(chan_t *ch, void *elems, size_t k)
{
	size_t h = own_head(ch);
	unsigned char *p = elems;
	size_t i;

	for (i = 0; i < k; i++) {
		take_one(ch, p);
		if (p != NULL)
			p += ch->elem_size;
	}
	CHAN__SENT(&ch->head);
	atomic_store_explicit(&ch->head, h + k, memory_order_release);
	hint_head(ch, h, k);
}

/* Element k of elems; NULL stays NULL (a discarding receive). */
static void *
offset(const chan_t *ch, const void *elems, size_t k)
{
	return elems == NULL ? NULL :
	    (unsigned char *)(uintptr_t)elems + k * ch->elem_size;
}

/*
 * CHAN_SLIDE on a full ring: discards the oldest element and puts elem in
 * its place, as one step.  The caller holds send_mu, and recv_mu too if
 * have_recv; a receiver may have made room meanwhile, in which case
 * nothing is discarded.  recv_mu stays held until elem is in: between the
 * two a receiver would find the ring one short (empty, at capacity 1), a
 * state the channel never has, and a chan_tryrecv would fail with EAGAIN
 * on a channel that held an element before the send and after it.
 */
static void
slide_put(chan_t *ch, const void *elem, bool have_recv)
{
	if (!have_recv)
		chan__lock(&ch->recv_mu);
	if (own_tail(ch) - own_head(ch) >= ch->cap)
		ring_take(ch, NULL, 1);
	ch->head_cache = own_head(ch);
	ring_put(ch, elem, 1);
	if (!have_recv)
		chan__unlock(&ch->recv_mu);
}

/*
 * Sends up to n elements into the ring, with send_mu held (recv_mu too if
 * have_recv).  Returns 0 and *sent >= 1, EPIPE if closed, EAGAIN if the
 * ring is full.  CHAN_DROP and CHAN_SLIDE take all n (*sent = n) at once:
 * DROP puts what fits and discards the rest; SLIDE puts only the batch's
 * last cap elements, since each earlier one would be slid out by a later
 * one, and slides out the oldest buffered ones to make room for them.
 * Either way the work is bounded by cap, whatever n.
 */
static int
buf_send_locked(chan_t *ch, const void *elems, size_t n, size_t *sent,
    bool have_recv)
{
	size_t room, t, i, k;

	if (atomic_load_explicit(&ch->closed, memory_order_relaxed))
		return EPIPE;
	if (ch->policy == CHAN_SLIDE) {
		for (i = n > ch->cap ? n - ch->cap : 0; i < n; i++) {
			if (has_room(ch))
				ring_put(ch, offset(ch, elems, i), 1);
			else
				slide_put(ch, offset(ch, elems, i), have_recv);
		}
		*sent = n;
		return 0;
	}
	if (!has_room(ch)) {
		if (ch->policy != CHAN_DROP)
			return EAGAIN;
		*sent = n;	/* all discarded */
		return 0;
	}
	t = own_tail(ch);
	room = ch->cap - (t - ch->head_cache);
	if (room < n && n > 1) {
		refresh_head(ch);
		room = ch->cap - (t - ch->head_cache);
	}
	k = n < room ? n : room;
	ring_put(ch, elems, k);
	/* CHAN_DROP counts the rest, which it discards, as sent. */
	*sent = ch->policy == CHAN_DROP ? n : k;
	return 0;
}

/*
 * Receives up to n elements from the ring, with recv_mu held.  Returns 0
 * and *got >= 1, EPIPE if closed and drained, EAGAIN if empty.  closed
 * cannot change while recv_mu is held, and every element sent before the
 * close is visible once it is seen.
 */
static int
buf_recv_locked(chan_t *ch, void *elems, size_t n, size_t *got)
{
	size_t h = own_head(ch);
	size_t avail, t;
	bool ready;

	if (n > ch->cap)
		n = ch->cap;	/* all a ring can give, and signed below */
	if (n == 1) {
		ready = has_elem(ch);
	} else {
		/*
		 * A batch goes by tail, not by the next slot's word: a
		 * sender's batch fills its slots one by one before it
		 * publishes tail, and taking them one by one meanwhile
		 * would fight the sender for their lines.
		 */
		if ((ptrdiff_t)(ch->tail_cache - h) < (ptrdiff_t)n) {
			t = atomic_load_explicit(&ch->tail, memory_order_acquire);
			CHAN__RECEIVED(&ch->tail);
			if ((ptrdiff_t)(t - ch->tail_cache) > 0) /* may lag */
				ch->tail_cache = t;
		}
		ready = (ptrdiff_t)(ch->tail_cache - h) > 0;
	}
	if (!ready) {
		return atomic_load_explicit(&ch->closed, memory_order_relaxed) ?
		    EPIPE : EAGAIN;
	}
	avail = ch->tail_cache - h;
	*got = n < avail ? n : avail;
	ring_take(ch, elems, *got);
	return 0;
}

/* Unbuffered send with send_mu held: hands elem to a waiting receiver. */
static int
unbuf_send_locked(chan_t *ch, const void *elem, struct chan__entry **wake)
{
	struct chan__entry *e;
	int was;

	if (atomic_load_explicit(&ch->closed, memory_order_relaxed))
		return EPIPE;
	if ((e = claim_first(ch, CHAN_RECV, &was)) == NULL)
		return EAGAIN;
	copy_elem(ch, e->elem, elem);
	complete(e, was, 0, wake);
	return 0;
}

/*
 * Unbuffered receive with send_mu held: takes a waiting sender's element.
 * No sender waits on a closed channel (close woke them all, and none queues
 * after it).
 */
static int
unbuf_recv_locked(chan_t *ch, void *elem, struct chan__entry **wake)
{
	struct chan__entry *e;
	int was;

	if ((e = claim_first(ch, CHAN_SEND, &was)) == NULL) {
		return atomic_load_explicit(&ch->closed, memory_order_relaxed) ?
		    EPIPE : EAGAIN;
	}
	copy_elem(ch, elem, e->elem);
	complete(e, was, 0, wake);
	return 0;
}

/*
 * An unbuffered send or receive of up to n elements with send_mu held: the
 * first to (from) the first waiting partner, the rest to partners already
 * waiting, in the same critical section.  Returns as unbuf_send_locked
 * does, with *moved set if it moved any.
 */
static int
unbuf_locked(chan_t *ch, enum chan_op op, void *elems, size_t n,
    size_t *moved, struct chan__entry **wake)
{
	size_t k = 0;
	int r;

	do {
		r = op == CHAN_SEND ?
		    unbuf_send_locked(ch, offset(ch, elems, k), wake) :
		    unbuf_recv_locked(ch, offset(ch, elems, k), wake);
	} while (r == 0 && ++k < n);
	if (k == 0)
		return r;
	*moved = k;
	return 0;
}

/* For a select's slow path, which holds every lock of ch. */
int
chan__send_locked(chan_t *ch, const void *elem, struct chan__entry **wake)
{
	size_t sent;

	if (ch->cap == 0)
		return unbuf_send_locked(ch, elem, wake);
	return buf_send_locked(ch, elem, 1, &sent, true);
}

int
chan__recv_locked(chan_t *ch, void *elem, struct chan__entry **wake)
{
	size_t got;

	if (ch->cap == 0)
		return unbuf_recv_locked(ch, elem, wake);
	return buf_recv_locked(ch, elem, 1, &got);
}

static _Atomic bool *
retry_of(chan_t *ch, enum chan_op op)
{
	return op == CHAN_SEND ? &ch->send_retry : &ch->recv_retry;
}

/*
 * Called by a thread woken to retry on ch's op side, as it runs again: from
 * now on its wake-up no longer stands for that side, and it serves ch
 * whenever it leaves (the baton), so clearing the flag loses nothing.
 */
void
chan__retried(chan_t *ch, enum chan_op op)
{
	atomic_store_explicit(retry_of(ch, op), false, memory_order_relaxed);
}

/*
 * Serves the op queue of ch from the ring, with that queue's lock held:
 * spinning waiters are completed at once (move(), which moves one element
 * for them), the first sleeper is woken to retry and ends the round.  No
 * sleeper is woken while an earlier one has not yet run: it will serve ch
 * when it leaves.  ready() says whether the ring can serve one more.
 * Returns whether elements moved.
 */
static bool
serve_queue(chan_t *ch, enum chan_op op, bool (*ready)(chan_t *),
    void (*move)(chan_t *, struct chan__entry *), struct chan__entry **wake)
{
	struct chan__queue *q = queue_of(ch, op);
	_Atomic bool *retry = retry_of(ch, op);
	struct chan__entry *e;
	bool moved = false;
	int was;

	while ((e = q->head) != NULL && ready(ch)) {
		if (atomic_load_explicit(retry, memory_order_relaxed) &&
		    atomic_load_explicit(&e->w->state, memory_order_relaxed) ==
		    CHAN__SLEEPING)
			break;
		if ((e = claim_first(ch, op, &was)) == NULL)
			break;
		if (was == CHAN__SLEEPING) {
			atomic_store_explicit(retry, true, memory_order_relaxed);
			complete(e, was, CHAN__RETRY, wake);
			break;
		}
		move(ch, e);
		complete(e, was, 0, wake);
		moved = true;
	}
	return moved;
}

static void
move_to_receiver(chan_t *ch, struct chan__entry *e)
{
	ring_take(ch, e->elem, 1);
}

static void
move_from_sender(chan_t *ch, struct chan__entry *e)
{
	ring_put(ch, e->elem, 1);
}

/*
 * Matches a buffered channel's waiters with its ring, after the ring
 * changed or a thread woken to retry leaves.  Called with no lock held.  A
 * receiver served from the ring frees a slot for a waiting sender, and a
 * sender served into it publishes an element for a waiting receiver, so it
 * loops until neither side moved.  Each read of a waiter count follows a
 * full fence, as the file's comment explains.
 */
void
chan__serve(chan_t *ch)
{
	struct chan__entry *wake = NULL;
	bool moved;

	if (ch->cap == 0)
		return;
	do {
		moved = false;
		atomic_thread_fence(memory_order_seq_cst);
		if (atomic_load_explicit(&ch->nrecvw, memory_order_relaxed) > 0) {
			chan__lock(&ch->recv_mu);
			moved = serve_queue(ch, CHAN_RECV, has_elem,
			    move_to_receiver, &wake);
			chan__unlock_fence(&ch->recv_mu);
		}
		if (atomic_load_explicit(&ch->nsendw, memory_order_relaxed) > 0) {
			chan__lock(&ch->send_mu);
			moved |= serve_queue(ch, CHAN_SEND, has_room,
			    move_from_sender, &wake);
			chan__unlock(&ch->send_mu);
		}
	} while (moved);
	chan__wake(wake);
}

/*
 * After a buffered send published: serve receivers if any wait, unless one
 * woken to retry has yet to run (it serves when it leaves; it clears the
 * flag before its own fence, so if we read the flag set, its serve reads
 * our element).  The caller dropped send_mu with chan__unlock_fence: that
 * is the full fence the hand-shake at the top of the file needs.
 */
static inline void
published(chan_t *ch)
{
	if (atomic_load_explicit(&ch->nrecvw, memory_order_relaxed) > 0 &&
	    !atomic_load_explicit(&ch->recv_retry, memory_order_relaxed))
		chan__serve(ch);
}

/*
 * After a buffered receive freed slots: the same for waiting senders (the
 * caller dropped recv_mu with chan__unlock_fence).
 */
static inline void
consumed(chan_t *ch)
{
	if (atomic_load_explicit(&ch->nsendw, memory_order_relaxed) > 0 &&
	    !atomic_load_explicit(&ch->send_retry, memory_order_relaxed))
		chan__serve(ch);
}

/*
 * The common case on a buffered channel, one element, in a straight line
 * (ring_put and ring_take inline for k = 1).  The answer is exact (0, EPIPE, or
 * EAGAIN for a full or empty ring), since closed cannot change while
 * either lock is held, except for a send that finds the ring full under a
 * policy that discards instead: that returns CHAN__RETRY, for the general
 * path.  A select's first pass tries each case this way, so a case that is
 * not ready costs one lock and unlock, not two.
 */
static inline int
fast_send(chan_t *ch, const void *elem)
{
	int r = 0;

	chan__lock(&ch->send_mu);
	if (atomic_load_explicit(&ch->closed, memory_order_relaxed))
		r = EPIPE;
	else if (!has_room(ch))
		r = ch->policy == CHAN_BLOCK ? EAGAIN : CHAN__RETRY;
	if (r == 0) {
		ring_put(ch, elem, 1);
		chan__unlock_fence(&ch->send_mu);
		published(ch);
	} else {
		chan__unlock(&ch->send_mu);
	}
	return r;
}

static inline int
fast_recv(chan_t *ch, void *elem)
{
	int r;

	chan__lock(&ch->recv_mu);
	if (!has_elem(ch)) {
		r = atomic_load_explicit(&ch->closed, memory_order_relaxed) ?
		    EPIPE : EAGAIN;
		chan__unlock(&ch->recv_mu);
		return r;
	}
	ring_take(ch, elem, 1);
	chan__unlock_fence(&ch->recv_mu);
	consumed(ch);
	return 0;
}

int
chan__trysend(chan_t *ch, const void *elem)
{
	struct chan__entry *wake = NULL;
	size_t sent;
	int r;

	if (ch->cap > 0 && (r = fast_send(ch, elem)) != CHAN__RETRY)
		return r;
	chan__lock(&ch->send_mu);
	if (ch->cap > 0) {
		r = buf_send_locked(ch, elem, 1, &sent, false);
		chan__unlock_fence(&ch->send_mu);
		if (r == 0)
			published(ch);
		return r;
	}
	r = unbuf_send_locked(ch, elem, &wake);
	chan__unlock(&ch->send_mu);
	chan__wake(wake);
	return r;
}

int
chan__tryrecv(chan_t *ch, void *elem)
{
	struct chan__entry *wake = NULL;
	int r;

	if (ch->cap > 0)
		return fast_recv(ch, elem);
	chan__lock(&ch->send_mu);
	r = unbuf_recv_locked(ch, elem, &wake);
	chan__unlock(&ch->send_mu);
	chan__wake(wake);
	return r;
}

/* Cancelled while waiting in a send or receive: see chan__wait. */
static void
op_cancelled(void *arg)
{
	struct chan__entry *e = arg;

	chan__unlink_all(e, 1);
	chan__uncount();
	if (atomic_load_explicit(&e->w->state, memory_order_acquire) ==
	    CHAN__DONE && e->w->result == CHAN__RETRY) {
		chan__retried(e->ch, e->op);
		chan__serve(e->ch);
	}
}

/*
 * Whether a send (op) or receive on ch could go ahead, read without its
 * locks: a hint for polling, never a verdict.  Unbuffered, it means a
 * partner is queued.
 */
bool
chan__looks_ready(chan_t *ch, enum chan_op op)
{
	size_t h, t;

	if (atomic_load_explicit(&ch->closed, memory_order_relaxed))
		return true;
	if (ch->cap == 0) {
		return atomic_load_explicit(op == CHAN_SEND ? &ch->nrecvw :
		    &ch->nsendw, memory_order_relaxed) > 0;
	}
	if (op == CHAN_SEND && one_slot(ch)) {
		/*
		 * The slot's word, as has_room reads it, not head: a receiver
		 * stores both, and a poller reading the word keeps a line its
		 * own send will fill anyway (select_rx at capacity 1, ten
		 * interleaved rounds: 1.32 -> 1.80 M/s; mpsc 1.14 -> 1.46).
		 */
		t = atomic_load_explicit(&ch->tail, memory_order_relaxed);
		return atomic_load_explicit(seq_of(ch, 0),
		    memory_order_relaxed) == freed(t);
	}
	if (op == CHAN_SEND) {
		/* head_hint <= head: it may miss room, never invent it. */
		h = atomic_load_explicit(ch->hint_shift > 0 ? &ch->head_hint :
		    &ch->head, memory_order_relaxed);
		t = atomic_load_explicit(&ch->tail, memory_order_relaxed);
		return (ptrdiff_t)(t - h) < (ptrdiff_t)ch->cap;
	}
	h = atomic_load_explicit(&ch->head, memory_order_relaxed);
#if SIZE_MAX < UINT64_MAX
	/*
	 * h % cap and h / cap are the receivers' slot and lap only until
	 * head first wraps, after 2^32 elements (minutes): poll tail.
	 */
	return (ptrdiff_t)(atomic_load_explicit(&ch->tail,
	    memory_order_relaxed) - h) > 0;
#else
	/*
	 * A receiver polls the word of its next slot, not tail: it then
	 * reads the line the sender writes anyway, instead of pulling tail
	 * away from the sender on every send.
	 */
	return atomic_load_explicit(seq_of(ch, h % ch->cap),
	    memory_order_relaxed) == filled(h / ch->cap);
#endif
}

struct poll_arg {
	chan_t		*ch;
	enum chan_op	 op;
	bool		 batch;
};

static bool
poll_ready(void *arg)
{
	struct poll_arg *a = arg;
	chan_t *ch = a->ch;

	if (a->op == CHAN_RECV && a->batch &&
	    !atomic_load_explicit(&ch->closed, memory_order_relaxed)) {
		/* A batch goes by tail (see buf_recv_locked). */
		return (ptrdiff_t)(atomic_load_explicit(&ch->tail,
		    memory_order_relaxed) - atomic_load_explicit(&ch->head,
		    memory_order_relaxed)) > 0;
	}
	return chan__looks_ready(ch, a->op);
}

/*
 * One send or receive (op) of up to n elements, the plain, try and timed
 * forms in one: try never waits, abstime (NULL: none) bounds the wait.  It
 * moves as many elements as the ring (unbuffered: the partners waiting)
 * allows at once, in one critical section.  When it must wait, a partner
 * hands it one element, and then it moves what else goes without waiting,
 * in a second.  *moved gets the count.  poll_first says the
 * caller's fast path has just found the ring full or empty under the lock:
 * the first look is then the poll, not a second lock.
 */
static int
transfer_once(chan_t *ch, enum chan_op op, void *elems, size_t n,
    size_t *moved, const struct timespec *abstime, bool try, bool poll_first)
{
	chan__mutex *mu = chan__queue_lock(ch, op);
	struct chan__entry *wake = NULL;
	struct chan__waiter *w;
	struct chan__entry *e;
	struct poll_arg pa = { ch, op, n > 1 };
	bool woken = false, polled = false, in_w = false;
	size_t k;
	int r;

	/*
	 * A blocking call acts on a pending cancel here, before it moves
	 * anything, and not only when it sleeps: a thread whose partners keep
	 * answering its polls and spins (on one CPU, its yields) may never
	 * sleep.  No lock is held and nothing is queued yet.
	 */
	if (!try)
		pthread_testcancel();
	*moved = 1;
	if (poll_first) {
		chan__poll(poll_ready, &pa, true);
		polled = true;
	}
	if (ch->cap == 0) {
		/*
		 * Fetch at once, while the lock's line comes, the lines the
		 * critical section needs next: the partners' queue, and for
		 * queueing, our own queue, our entry and our state.  A
		 * completer wrote the last two when it took us off a queue,
		 * and our next queueing waited for each in turn, with the lock
		 * held, while the partner that would complete us spun on it.
		 * Ping-pong at capacity 0, medians of paired ratios of round
		 * trips to the partners' queue alone: 0.72 (20 interleaved
		 * rounds), 0.82 and 0.80 (16 each); 0.79 and 0.83 without our
		 * own queue.  Throughput at capacity 0, same 16 rounds: spsc
		 * 1.27, mpsc 1.08, mpmc 2->2 1.19, 4->4 0.99, select_rx 1.13.
		 */
		__builtin_prefetch(queue_of(ch, op == CHAN_SEND ? CHAN_RECV :
		    CHAN_SEND), 1);
		if (!try && ch->prefetchw) {
			w = chan__self();
			chan__prefetch_write(queue_of(ch, op));
			chan__prefetch_write(&w->ent);
			chan__prefetch_write(&w->state);
		}
	}
	for (;;) {
		chan__lock(mu);
		if (ch->cap == 0) {
			r = unbuf_locked(ch, op, elems, n, moved, &wake);
		} else if (op == CHAN_SEND) {
			r = buf_send_locked(ch, elems, n, moved, false);
		} else {
			r = buf_recv_locked(ch, elems, n, moved);
		}
		if (r != EAGAIN)
			break;
		if (try || chan__deadline_passed(abstime)) {
			r = try ? EAGAIN : ETIMEDOUT;
			break;
		}
		if (ch->cap > 0 && !polled) {
			/* Once, with our lock dropped for the others. */
			chan__unlock(mu);
			chan__poll(poll_ready, &pa, true);
			polled = true;
			continue;
		}
		/*
		 * Queue the entry in our waiter.  A small element waits there
		 * too, beside the state: a completer then moves it, claims us
		 * and reports on lines it has to fetch anyway, instead of
		 * reaching into our stack for each.
		 */
		w = chan__self();
		e = &w->ent;
		in_w = elems != NULL && ch->elem_size <= CHAN__INLINE;
		if (in_w && op == CHAN_SEND)
			memcpy(w->buf, elems, ch->elem_size);
		atomic_store_explicit(&w->state, CHAN__WAITING,
		    memory_order_relaxed);
		e->w = w;
		e->ch = ch;
		e->elem = in_w ? w->buf : elems;
		e->index = 0;
		e->op = op;
		chan__link(ch, e);
		/* Unbuffered, with none queued ahead, it may yield: spin(). */
		w->at_head = ch->cap == 0 && e->prev == NULL;
		if (ch->cap > 0) {
			/* Our half of the fence argument at the top. */
			atomic_thread_fence(memory_order_seq_cst);
			r = op == CHAN_SEND ?
			    buf_send_locked(ch, elems, n, moved, false) :
			    buf_recv_locked(ch, elems, n, moved);
			if (r != EAGAIN) {
				chan__unlink(ch, e);
				break;
			}
		}
		chan__unlock(mu);
		r = chan__wait(w, abstime, op_cancelled, e);
		if (r == ETIMEDOUT)
			chan__unlink_all(e, 1);
		else
			r = w->result;
		if (r != CHAN__RETRY) {
			/* Done: a completer moved our element and served on. */
			if (r == 0 && in_w && op == CHAN_RECV)
				memcpy(elems, w->buf, ch->elem_size);
			*moved = 1;
			chan__uncount();
			if (woken)
				chan__serve(ch);
			/* A batch: the rest that goes without waiting. */
			if (r == 0 && n > 1 && transfer_once(ch, op,
			    offset(ch, elems, 1), n - 1, &k, NULL, true,
			    false) == 0)
				*moved += k;
			return r;
		}
		chan__retried(ch, op);
		woken = true;
	}
	chan__unlock_fence(mu);		/* for published() and consumed() */
	chan__uncount();
	chan__wake(wake);
	if (ch->cap > 0) {
		if (woken)
			chan__serve(ch);	/* pass the wake-up on */
		else if (r == 0 && op == CHAN_SEND)
			published(ch);
		else if (r == 0)
			consumed(ch);
	}
	return r;
}

/* transfer_once for the public calls: *moved is 0 unless it succeeds. */
static int
transfer(chan_t *ch, enum chan_op op, void *elems, size_t n, size_t *moved,
    const struct timespec *abstime, bool try)
{
	size_t k;
	int r;

	*moved = 0;
	if (n == 0)
		return 0;
	if ((r = transfer_once(ch, op, elems, n, &k, abstime, try, false)) == 0)
		*moved = k;
	return r;
}

/* The public functions: check every argument, then act. */

chan_t *
chan_create(size_t elem_size, size_t capacity, enum chan_policy policy)
{
	const size_t word = sizeof(size_t), room = sizeof(chan_t) + CHAN__LINE;
	chan_t *ch;
	void *p;
	size_t stride;

	if ((policy != CHAN_BLOCK && policy != CHAN_DROP &&
	    policy != CHAN_SLIDE) || (policy != CHAN_BLOCK && capacity == 0) ||
	    (elem_size != 0 && capacity > SIZE_MAX / elem_size)) {
		errno = EINVAL;
		return NULL;
	}
	/* A slot: its sequence word, then the element, rounded up to words. */
	stride = elem_size > SIZE_MAX - 2 * word ? SIZE_MAX :
	    word + (elem_size + word - 1) / word * word;
	/*
	 * One allocation, the ring right behind the header, aligned by hand:
	 * calloc, since a new ring's words must read zero (never filled),
	 * and a large ring's fresh pages are zero without being touched.
	 */
	if (capacity > ((size_t)PTRDIFF_MAX - room) / stride ||
	    (p = calloc(1, room + stride * capacity)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	ch = (chan_t *)(((uintptr_t)p + CHAN__LINE - 1) &
	    ~(uintptr_t)(CHAN__LINE - 1));
	ch->alloc = p;
	ch->elem_size = elem_size;
	ch->cap = capacity;
	ch->stride = stride;
	/* A hint every cap / 8 receives, at most every 16; none below 16. */
	while (ch->hint_shift < HINT_SHIFT_MAX &&
	    capacity >> (ch->hint_shift + 4) != 0)
		ch->hint_shift++;
	ch->ahead = ((size_t)PREFETCH_LINES * CHAN__LINE - 1) / stride + 1;
	ch->prefetchw = can_prefetch();
	if (ch->ahead >= capacity || !ch->prefetchw)
		ch->ahead = 0;
	ch->policy = policy;
	ch->ring = (unsigned char *)(ch + 1);
	chan__mutex_init(&ch->send_mu);
	chan__mutex_init(&ch->recv_mu);
	CHAN__ATOMIC(&ch->nsendw);	/* see bump() */
	CHAN__ATOMIC(&ch->nrecvw);
	/* Written under both locks, read by polls under neither. */
	CHAN__ATOMIC(&ch->closed);
	return ch;
}

void
chan_destroy(chan_t *ch)
{
	if (ch == NULL)
		return;
	chan__mutex_destroy(&ch->send_mu);
	chan__mutex_destroy(&ch->recv_mu);
	free(ch->alloc);
}

/*
 * Closes ch with both locks held, so that no send completes after it and
 * no waiter queues after it.  Senders learn EPIPE at once.  Receivers get
 * EPIPE if nothing is buffered, else a retry, which drains the ring before
 * it finds EPIPE: nothing buffered is lost.
 */
int
chan_close(chan_t *ch)
{
	struct chan__entry *wake = NULL, *e;
	int was, rest;

	if (ch == NULL)
		return EINVAL;
	chan__lock_all(ch);
	if (atomic_load_explicit(&ch->closed, memory_order_relaxed)) {
		chan__unlock_all(ch);
		return EPIPE;
	}
	atomic_store_explicit(&ch->closed, true, memory_order_release);
	while ((e = claim_first(ch, CHAN_SEND, &was)) != NULL)
		complete(e, was, EPIPE, &wake);
	rest = ch->cap > 0 && has_elem(ch) ? CHAN__RETRY : EPIPE;
	while ((e = claim_first(ch, CHAN_RECV, &was)) != NULL)
		complete(e, was, rest, &wake);
	chan__unlock_all(ch);
	chan__wake(wake);
	return 0;
}

static int
check_send(chan_t *ch, const void *elem, const struct timespec *abstime)
{
	if (ch == NULL || !chan__elem_ok(ch, elem) ||
	    !chan__timespec_valid(abstime))
		return EINVAL;
	return 0;
}

int
chan_send(chan_t *ch, const void *elem)
{
	size_t k;
	int r;

	if (check_send(ch, elem, NULL) != 0)
		return EINVAL;
	if (ch->cap == 0)
		return transfer(ch, CHAN_SEND, (void *)(uintptr_t)elem, 1, &k,
		    NULL, false);
	pthread_testcancel();	/* a cancellation point, even with room */
	if ((r = fast_send(ch, elem)) == 0 || r == EPIPE)
		return r;
	return transfer_once(ch, CHAN_SEND, (void *)(uintptr_t)elem, 1, &k,
	    NULL, false, r == EAGAIN);
}

int
chan_trysend(chan_t *ch, const void *elem)
{
	return check_send(ch, elem, NULL) ? EINVAL : chan__trysend(ch, elem);
}

int
chan_timedsend(chan_t *ch, const void *elem, const struct timespec *abstime)
{
	size_t k;

	return check_send(ch, elem, abstime) ? EINVAL :
	    transfer(ch, CHAN_SEND, (void *)(uintptr_t)elem, 1, &k, abstime,
	    false);
}

int
chan_recv(chan_t *ch, void *elem)
{
	size_t k;
	int r;

	if (ch == NULL)
		return EINVAL;
	if (ch->cap == 0)
		return transfer(ch, CHAN_RECV, elem, 1, &k, NULL, false);
	pthread_testcancel();	/* a cancellation point, even with an element */
	if ((r = fast_recv(ch, elem)) != EAGAIN)
		return r;
	return transfer_once(ch, CHAN_RECV, elem, 1, &k, NULL, false, true);
}

int
chan_tryrecv(chan_t *ch, void *elem)
{
	return ch == NULL ? EINVAL : chan__tryrecv(ch, elem);
}

int
chan_timedrecv(chan_t *ch, void *elem, const struct timespec *abstime)
{
	size_t k;

	if (ch == NULL || !chan__timespec_valid(abstime))
		return EINVAL;
	return transfer(ch, CHAN_RECV, elem, 1, &k, abstime, false);
}

static int
check_batch(chan_t *ch, const void *elems, size_t n, size_t *count,
    const struct timespec *abstime, bool send)
{
	if (ch == NULL || count == NULL || !chan__timespec_valid(abstime) ||
	    (send && n > 0 && !chan__elem_ok(ch, elems)) ||
	    (ch->elem_size != 0 && n > SIZE_MAX / ch->elem_size))
		return EINVAL;
	return 0;
}

int
chan_sendn(chan_t *ch, const void *elems, size_t n, size_t *nsent)
{
	return check_batch(ch, elems, n, nsent, NULL, true) ? EINVAL :
	    transfer(ch, CHAN_SEND, (void *)(uintptr_t)elems, n, nsent, NULL,
	    false);
}

int
chan_trysendn(chan_t *ch, const void *elems, size_t n, size_t *nsent)
{
	return check_batch(ch, elems, n, nsent, NULL, true) ? EINVAL :
	    transfer(ch, CHAN_SEND, (void *)(uintptr_t)elems, n, nsent, NULL,
	    true);
}

int
chan_timedsendn(chan_t *ch, const void *elems, size_t n, size_t *nsent,
    const struct timespec *abstime)
{
	return check_batch(ch, elems, n, nsent, abstime, true) ? EINVAL :
	    transfer(ch, CHAN_SEND, (void *)(uintptr_t)elems, n, nsent,
	    abstime, false);
}

int
chan_recvn(chan_t *ch, void *elems, size_t n, size_t *nrecvd)
{
	return check_batch(ch, elems, n, nrecvd, NULL, false) ? EINVAL :
	    transfer(ch, CHAN_RECV, elems, n, nrecvd, NULL, false);
}

int
chan_tryrecvn(chan_t *ch, void *elems, size_t n, size_t *nrecvd)
{
	return check_batch(ch, elems, n, nrecvd, NULL, false) ? EINVAL :
	    transfer(ch, CHAN_RECV, elems, n, nrecvd, NULL, true);
}

int
chan_timedrecvn(chan_t *ch, void *elems, size_t n, size_t *nrecvd,
    const struct timespec *abstime)
{
	return check_batch(ch, elems, n, nrecvd, abstime, false) ? EINVAL :
	    transfer(ch, CHAN_RECV, elems, n, nrecvd, abstime, false);
}

size_t
chan_len(chan_t *ch)
{
	size_t h, t;

	if (ch == NULL || ch->cap == 0)
		return 0;
	h = atomic_load_explicit(&ch->head, memory_order_acquire);
	t = atomic_load_explicit(&ch->tail, memory_order_acquire);
	/*
	 * head read first: over cap only if head moved on (or, on a one_slot
	 * ring, the sender refilled the slot before the receiver stored
	 * head), under 0 only while tail lags the slots behind it.
	 */
	if ((ptrdiff_t)(t - h) < 0)
		return 0;
	return t - h > ch->cap ? ch->cap : t - h;
}

size_t
chan_cap(chan_t *ch)
{
	return ch == NULL ? 0 : ch->cap;
}
