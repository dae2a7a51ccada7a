/*
 * A differential fuzzer for libchan's single-threaded semantics.
 *
 * libFuzzer (make fuzz) or tests/fuzz/replay.c (make check) hands us bytes;
 * we decode them into calls on up to NSLOT channels and one broadcast, all
 * from this one thread, and compare every result with a reference model:
 * per channel, a ring of sequence numbers with the channel's capacity and
 * policy, and whether it is closed.  Checked after every call: the return
 * value, errno where the call sets it (and left alone where it does not:
 * calls on a channel or a broadcast), each element received (its bytes,
 * which a pattern of its sequence number fills, so an odd-sized copy that
 * is short, long or misplaced shows), the count of a batch call, which
 * select case completed (one of those the model finds ready; the only one
 * when only one is) and its err, that no other case and no part of a
 * buffer beyond what a call received was written, and chan_len and
 * chan_cap of every channel.
 *
 * Nothing may wait forever with no other thread: the try forms, the timed
 * forms with a deadline already past, and the plain forms (and the timed
 * ones with no deadline) only where the model says they complete at once;
 * elsewhere the decoder turns a plain call into its try form.  So a
 * library that waits where the model says it must not hangs the run, and
 * libFuzzer's -timeout (the replay's alarm) reports that.  What needs a
 * second thread (a rendezvous completing, a waiter woken, fairness) is
 * the stress drivers'.
 *
 * The input is a sequence of operations, each an opcode byte and its
 * argument bytes (those past the end of the input read as zeros):
 * create, destroy, send, receive, their batch forms, close, select, a pump
 * (many single sends, then many receives, to wrap a ring around), and the
 * broadcast's create, subscribe, unsubscribe, send, close and destroy.  The
 * argument bytes pick a channel slot, a form (plain, try, timed with a
 * deadline at the clock's origin or just past, timed with none, timed with
 * a tv_nsec out of range), and bad arguments now and then: NULL channels,
 * elements and counts, unknown policies and ops, sizes that overflow or
 * cannot be allocated.  CHAN_FUZZ_TRACE=1 prints every operation; a
 * mismatch prints the last TRACE_N of them and aborts.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chan.h"

#if defined(__GNUC__)
#define PRINTF_LIKE	__attribute__((format(printf, 1, 2)))
#else
#define PRINTF_LIKE
#endif

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void	note(const char *, ...) PRINTF_LIKE;
static _Noreturn void fail(const char *, ...) PRINTF_LIKE;

#define NSLOT		4	/* channels alive at once */
#define MAXCASES	72	/* past 64, a select allocates scratch */
#define BIGELEM		4096	/* larger elements are never copied here */
#define MEM_LIMIT	((size_t)16 << 20)	/* bytes a channel may take */
#define BATCH_BYTES	((size_t)64 << 10)	/* bytes a batch may take */
#define CANARY		0xa5	/* fills what no call may write */
#define WAITS		(-1)	/* the model's "this call would wait" */
#define COUNT_UNSET	12345	/* a batch's count no call has set */
#define ERRNO_MARK	4242	/* errno before a call that leaves it alone */
#define TRACE_N		24

/* A channel slot: the library's channel and the model of it. */
struct model {
	chan_t		*ch;		/* NULL: the slot is empty */
	size_t		 elem_size;
	size_t		 cap;
	enum chan_policy policy;
	bool		 closed;
	bool		 sub;		/* a current subscription of bc */
	uint32_t	*q;		/* cap sequence numbers, a ring */
	size_t		 head;
	size_t		 len;
};

/* The forms of a call that may wait, and what its deadline is. */
enum form {
	PLAIN,
	TRY,
	TIMED_ZERO,		/* { 0, 0 }: long past */
	TIMED_RECENT,		/* a microsecond ago */
	TIMED_NULL,		/* no deadline: the plain form */
	TIMED_BAD,		/* tv_nsec out of range: EINVAL */
	NFORMS
};

static const char *const form_name[NFORMS] = {
	"plain", "try", "timed(0)", "timed(recent)", "timed(NULL)", "timed(bad)"
};

struct input {
	const uint8_t	*p;
	size_t		 n;
};

static struct model	 slots[NSLOT];
static struct {
	chan_bcast_t	*b;		/* NULL: none */
	size_t		 elem_size;
	bool		 closed;
} bc;
static uint32_t		 next_seq;
static unsigned char	 dummy[64];	/* stands for elements never copied */
static char		 trace[TRACE_N][160];
static unsigned		 ntrace;
static int		 trace_print = -1;

/* The next input byte; past the end, zeros. */
static unsigned
byte(struct input *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

/* Records an operation for the report of a mismatch. */
static void
note(const char *fmt, ...)
{
	char *line = trace[ntrace++ % TRACE_N];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(trace[0]), fmt, ap);
	va_end(ap);
	if (trace_print)
		fprintf(stderr, "chan_fuzz: %s\n", line);
}

/* Reports a mismatch between the library and the model, and aborts. */
static _Noreturn void
fail(const char *fmt, ...)
{
	unsigned i = ntrace > TRACE_N ? ntrace - TRACE_N : 0;
	va_list ap;

	fprintf(stderr, "chan_fuzz: MISMATCH: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nchan_fuzz: after these operations (the last one "
	    "failed):\n");
	for (; i < ntrace; i++)
		fprintf(stderr, "  %u: %s\n", i, trace[i % TRACE_N]);
	abort();
}

/* Byte i of the element whose sequence number is seq. */
static unsigned char
pattern(uint32_t seq, size_t i)
{
	uint32_t x = seq * 0x9e3779b1u ^ (uint32_t)i * 0x85ebca77u;

	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	x ^= x >> 12;
	return (unsigned char)x;
}

static void
fill(unsigned char *p, size_t size, uint32_t seq)
{
	size_t i;

	for (i = 0; i < size; i++)
		p[i] = pattern(seq, i);
}

static bool
matches(const unsigned char *p, size_t size, uint32_t seq)
{
	size_t i;

	for (i = 0; i < size; i++)
		if (p[i] != pattern(seq, i))
			return false;
	return true;
}

/* Whether size bytes at p are all CANARY: nothing wrote there. */
static bool
untouched(const unsigned char *p, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++)
		if (p[i] != CANARY)
			return false;
	return true;
}

/*
 * A buffer of n elements of size bytes, exactly (so that ASan sees a copy
 * running past it), or dummy for elements this program never copies.
 */
static unsigned char *
buf_new(size_t size, size_t n)
{
	unsigned char *p;

	if (size > BIGELEM)
		return dummy;
	if ((p = malloc(size * n > 0 ? size * n : 1)) == NULL) {
		fprintf(stderr, "chan_fuzz: out of memory\n");
		abort();
	}
	return p;
}

static void
buf_free(unsigned char *p)
{
	if (p != dummy)
		free(p);
}

/* The model's ring. */
static void
m_push(struct model *m, uint32_t seq)
{
	m->q[(m->head + m->len++) % m->cap] = seq;
}

static uint32_t
m_pop(struct model *m)
{
	uint32_t seq = m->q[m->head];

	m->head = (m->head + 1) % m->cap;
	m->len--;
	return seq;
}

/* What a send of one element to m does now: 0, EPIPE or WAITS. */
static int
send_outcome(const struct model *m)
{
	if (m->closed)
		return EPIPE;
	if (m->cap == 0 || (m->policy == CHAN_BLOCK && m->len == m->cap))
		return WAITS;
	return 0;
}

/* What a receive from m does now: 0, EPIPE or WAITS. */
static int
recv_outcome(const struct model *m)
{
	if (m->len > 0)
		return 0;
	return m->closed ? EPIPE : WAITS;
}

/* A send of seq succeeded: stored, dropped, or stored sliding one out. */
static void
m_send(struct model *m, uint32_t seq)
{
	if (m->len < m->cap) {
		m_push(m, seq);
	} else if (m->policy == CHAN_SLIDE) {
		(void)m_pop(m);
		m_push(m, seq);
	}
}

/*
 * A receive took the element at p (NULL: discarded): it must be the
 * model's oldest.  If it is not, says which element it is, if any.
 */
static void
m_recv(struct model *m, const unsigned char *p, const char *what)
{
	uint32_t want = m_pop(m), seq;
	size_t i;

	if (p == NULL || m->elem_size == 0 || m->elem_size > BIGELEM ||
	    matches(p, m->elem_size, want))
		return;
	for (i = 0; i < m->len; i++)
		if (matches(p, m->elem_size, m->q[(m->head + i) % m->cap]))
			fail("%s: received #%u, %zu places behind the oldest, "
			    "#%u", what, m->q[(m->head + i) % m->cap], i + 1,
			    want);
	for (seq = 0; seq != next_seq; seq++)
		if (matches(p, m->elem_size, seq))
			fail("%s: received #%u, which the model does not hold "
			    "(dropped, slid out, received or never stored); "
			    "the oldest is #%u", what, seq, want);
	for (i = 0; p[i] == pattern(want, i); i++)
		continue;
	fail("%s: received an element (%zu bytes) whose byte %zu is %02x; "
	    "the oldest, #%u, has %02x there", what, m->elem_size, i, p[i],
	    want, pattern(want, i));
}

/* The deadline a form passes (none for PLAIN, TRY and TIMED_NULL). */
static const struct timespec *
deadline(enum form f, struct timespec *ts)
{
	switch (f) {
	case TIMED_ZERO:
		ts->tv_sec = 0;
		ts->tv_nsec = 0;
		return ts;
	case TIMED_RECENT:
		clock_gettime(CLOCK_MONOTONIC, ts);
		if ((ts->tv_nsec -= 1000) < 0) {
			ts->tv_sec--;
			ts->tv_nsec += 1000000000L;
		}
		return ts;
	case TIMED_BAD:
		ts->tv_sec = 0;
		ts->tv_nsec = next_seq % 2 ? -1 : 1000000000L;
		return ts;
	default:
		return NULL;
	}
}

/* A form that must not wait forever where the model says the call waits. */
static enum form
no_hang(enum form f, int outcome)
{
	return outcome == WAITS && (f == PLAIN || f == TIMED_NULL) ? TRY : f;
}

/*
 * The code a call in form f must return when the model's outcome is
 * outcome (WAITS: it would wait) and its arguments are good.
 */
static int
expected(enum form f, int outcome)
{
	if (outcome != WAITS)
		return outcome;
	switch (f) {
	case TRY:
		return EAGAIN;
	case TIMED_BAD:
		return EINVAL;
	default:
		return ETIMEDOUT;
	}
}

/*
 * Checks a call's code against the model's: true if the call took effect
 * as the model's outcome.  A deadline out of range is checked "at least
 * whenever the call would wait" (chan_send(3)), so with one, EINVAL is
 * also right for a call that would not have waited; it changes nothing.
 * The caller set errno to ERRNO_MARK before the call, which returns its
 * error and must leave errno alone (chan.h).
 */
static bool
check_code(const char *what, int got, int want, bool bad_deadline)
{
	if (errno != ERRNO_MARK)
		fail("%s returned %d and set errno to %d", what, got, errno);
	if (got == want)
		return true;
	if (bad_deadline && got == EINVAL)
		return false;
	fail("%s returned %d (%s), the model says %d (%s)", what, got,
	    strerror(got), want, strerror(want));
}

/*
 * Checks every live channel's chan_len and chan_cap against the model,
 * after each operation.
 */
static void
check_lens(void)
{
	struct model *m;
	size_t len, cap;
	int i;

	for (i = 0; i < NSLOT; i++) {
		if ((m = &slots[i])->ch == NULL)
			continue;
		len = chan_len(m->ch);
		cap = chan_cap(m->ch);
		if (len != m->len || cap != m->cap)
			fail("slot %d: chan_len %zu, chan_cap %zu; the model "
			    "has %zu of %zu", i, len, cap, m->len, m->cap);
	}
}

/* The elements and capacities chan_create is given. */
static const size_t elem_sizes[16] = {
	8, 8, 4, 0, 1, 3, 16, 17, 64, BIGELEM, 2, 7, 24,
	SIZE_MAX, SIZE_MAX / 2 + 1, SIZE_MAX / 8
};
static const size_t caps[16] = {
	0, 1, 2, 3, 4, 5, 8, 1, 16, 17, 64, 100, 1000, 2,
	SIZE_MAX, SIZE_MAX / 4
};

/* Decodes a policy, now and then one chan_create must refuse. */
static enum chan_policy
policy_of(unsigned b)
{
	static const int bad[8] = { 3, -1, INT_MAX, 42, 3, 4, -2, 1000 };

	switch (b & 7) {
	case 0: case 1:
		return CHAN_BLOCK;
	case 2: case 3:
		return CHAN_DROP;
	case 4: case 5:
		return CHAN_SLIDE;
	default:
		return (enum chan_policy)bad[(b >> 3) & 7];
	}
}

/*
 * What chan_create(elem_size, cap, policy) must do: 0 (a channel), EINVAL
 * or ENOMEM (chan_create(3)); WAITS stands for a request this program does
 * not make, neither small nor impossible, whose fate depends on the
 * machine (and which ASan and libFuzzer would report as too large).  A
 * slot takes elem_size rounded up to words, plus a word (chan_create(3));
 * more than PTRDIFF_MAX bytes cannot be allocated.
 */
static int
create_outcome(size_t elem_size, size_t cap, enum chan_policy policy)
{
	const size_t w = sizeof(size_t);
	size_t per;

	if ((policy != CHAN_BLOCK && policy != CHAN_DROP &&
	    policy != CHAN_SLIDE) || (policy != CHAN_BLOCK && cap == 0) ||
	    (cap != 0 && elem_size > SIZE_MAX / cap))
		return EINVAL;
	if (cap == 0)
		return 0;
	per = elem_size > SIZE_MAX - 2 * w ? SIZE_MAX :
	    w + (elem_size + w - 1) / w * w;
	if (per > (size_t)PTRDIFF_MAX / cap)
		return ENOMEM;
	return per > MEM_LIMIT / cap ? WAITS : 0;
}

/* Empties slot m: destroys its channel (unsubscribing it first). */
static void
slot_clear(struct model *m)
{
	int r;

	if (m->ch == NULL)
		return;
	if (m->sub && (r = chan_bcast_unsubscribe(bc.b, m->ch)) != 0)
		fail("chan_bcast_unsubscribe of a subscription returned %d", r);
	chan_destroy(m->ch);
	free(m->q);
	memset(m, 0, sizeof(*m));
}

/* Fills slot m with the channel ch made as the model says. */
static void
slot_set(struct model *m, chan_t *ch, size_t elem_size, size_t cap,
    enum chan_policy policy)
{
	m->ch = ch;
	m->elem_size = elem_size;
	m->cap = cap;
	m->policy = policy;
	m->closed = false;
	m->sub = false;
	m->head = m->len = 0;
	m->q = NULL;
	if (cap > 0 && (m->q = calloc(cap, sizeof(*m->q))) == NULL) {
		fprintf(stderr, "chan_fuzz: out of memory\n");
		abort();
	}
}

/*
 * Checks a constructor's result: ch, with errno, against the model's
 * outcome (which may allow two errors, want and also).  True if a channel
 * was made.
 */
static bool
check_made(const char *what, const void *ch, int want, int also)
{
	int e = errno;

	if (want == 0 && ch == NULL)
		fail("%s returned NULL with errno %d (%s); the model says it "
		    "succeeds", what, e, strerror(e));
	if (want != 0 && ch != NULL)
		fail("%s succeeded; the model says %s", what, strerror(want));
	if (ch == NULL && e != want && e != also)
		fail("%s set errno %d (%s); the model says %d (%s)", what, e,
		    strerror(e), want, strerror(want));
	return ch != NULL;
}

static void
op_create(struct input *in)
{
	unsigned a = byte(in), e = byte(in), c = byte(in);
	struct model *m = &slots[a % NSLOT];
	enum chan_policy policy = policy_of(a >> 2);
	size_t elem_size = elem_sizes[e % 16], cap = caps[c % 16];
	int want = create_outcome(elem_size, cap, policy);
	chan_t *ch;

	note("create slot %u: chan_create(%zu, %zu, %d)", a % NSLOT,
	    elem_size, cap, (int)policy);
	if (want == WAITS)
		return;
	slot_clear(m);
	errno = 0;
	ch = chan_create(elem_size, cap, policy);
	if (check_made("chan_create", ch, want, want))
		slot_set(m, ch, elem_size, cap, policy);
}

static void
op_destroy(struct input *in)
{
	unsigned a = byte(in);

	note("destroy slot %u", a % NSLOT);
	if (slots[a % NSLOT].ch == NULL)
		chan_destroy(NULL);	/* a no-op */
	slot_clear(&slots[a % NSLOT]);
}

static void
op_close(struct input *in)
{
	unsigned a = byte(in);
	struct model *m = &slots[a % NSLOT];
	int want = m->ch == NULL ? EINVAL : m->closed ? EPIPE : 0, r;

	note("chan_close slot %u", a % NSLOT);
	errno = ERRNO_MARK;
	r = chan_close(m->ch);
	if (check_code("chan_close", r, want, false) && want == 0)
		m->closed = true;
}

static int
call_send(enum form f, chan_t *ch, const void *elem,
    const struct timespec *ts)
{
	switch (f) {
	case PLAIN:
		return chan_send(ch, elem);
	case TRY:
		return chan_trysend(ch, elem);
	default:
		return chan_timedsend(ch, elem, ts);
	}
}

static int
call_recv(enum form f, chan_t *ch, void *elem, const struct timespec *ts)
{
	switch (f) {
	case PLAIN:
		return chan_recv(ch, elem);
	case TRY:
		return chan_tryrecv(ch, elem);
	default:
		return chan_timedrecv(ch, elem, ts);
	}
}

/* One send of a fresh element to slot m in form f; elem NULL if null. */
static void
send_one(struct model *m, enum form f, bool null, const char *what)
{
	uint32_t seq = next_seq++;
	unsigned char *p = NULL;
	struct timespec ts;
	int outcome, want, r;

	if (m->ch == NULL || (null && m->elem_size > 0))
		outcome = EINVAL;
	else
		outcome = send_outcome(m);
	f = no_hang(f, outcome);
	want = outcome == EINVAL ? EINVAL : expected(f, outcome);
	if (!null) {
		p = buf_new(m->elem_size, 1);
		if (p != dummy)
			fill(p, m->elem_size, seq);
	}
	errno = ERRNO_MARK;
	r = call_send(f, m->ch, p, deadline(f, &ts));
	if (check_code(what, r, want, f == TIMED_BAD) && r == 0)
		m_send(m, seq);
	buf_free(p);
}

/* One receive from slot m in form f, into a buffer or NULL (discard). */
static void
recv_one(struct model *m, enum form f, bool null, const char *what)
{
	unsigned char *p = NULL;
	struct timespec ts;
	int outcome, want, r;

	outcome = m->ch == NULL ? EINVAL : recv_outcome(m);
	f = no_hang(f, outcome);
	want = outcome == EINVAL ? EINVAL : expected(f, outcome);
	if (!null) {
		p = buf_new(m->elem_size, 1);
		if (p != dummy)
			memset(p, CANARY, m->elem_size);
	}
	errno = ERRNO_MARK;
	r = call_recv(f, m->ch, p, deadline(f, &ts));
	if (check_code(what, r, want, f == TIMED_BAD) && r == 0) {
		m_recv(m, p, what);
	} else if (p != NULL && p != dummy && !untouched(p, m->elem_size)) {
		fail("%s returned %d and wrote into the element", what, r);
	}
	buf_free(p);
}

/* The form in bits 2-4 of a (6 and 7: try). */
static enum form
form_of(unsigned a)
{
	unsigned f = (a >> 2) & 7;

	return f < NFORMS ? (enum form)f : TRY;
}

static void
op_send(struct input *in)
{
	unsigned a = byte(in);
	enum form f = form_of(a);
	bool null = (a >> 5) == 7;

	note("send slot %u %s%s (#%u)", a % NSLOT, form_name[f],
	    null ? " NULL" : "", next_seq);
	send_one(&slots[a % NSLOT], f, null, "send");
}

static void
op_recv(struct input *in)
{
	unsigned a = byte(in);
	enum form f = form_of(a);
	bool null = (a >> 5) >= 6;

	note("recv slot %u %s%s", a % NSLOT, form_name[f], null ? " NULL" : "");
	recv_one(&slots[a % NSLOT], f, null, "recv");
}

/*
 * Many single sends (trysend, or chan_send where it cannot wait), then
 * many single receives: a ring of a thousand wraps around in a few bytes.
 */
static void
op_pump(struct input *in)
{
	unsigned a = byte(in), ns = byte(in) * 4, nr = byte(in) * 4;
	struct model *m = &slots[a % NSLOT];
	enum form f = (a >> 2) & 1 ? PLAIN : TRY;
	unsigned i;

	if (m->elem_size > 64) {
		ns /= 16;
		nr /= 16;
	}
	note("pump slot %u: %u sends (%s), %u receives", a % NSLOT, ns,
	    form_name[f], nr);
	for (i = 0; i < ns; i++)
		send_one(m, f, false, "pump send");
	for (i = 0; i < nr; i++)
		recv_one(m, f, false, "pump recv");
}

static int
call_sendn(enum form f, chan_t *ch, const void *elems, size_t n,
    size_t *nsent, const struct timespec *ts)
{
	switch (f) {
	case PLAIN:
		return chan_sendn(ch, elems, n, nsent);
	case TRY:
		return chan_trysendn(ch, elems, n, nsent);
	default:
		return chan_timedsendn(ch, elems, n, nsent, ts);
	}
}

static int
call_recvn(enum form f, chan_t *ch, void *elems, size_t n, size_t *nrecvd,
    const struct timespec *ts)
{
	switch (f) {
	case PLAIN:
		return chan_recvn(ch, elems, n, nrecvd);
	case TRY:
		return chan_tryrecvn(ch, elems, n, nrecvd);
	default:
		return chan_timedrecvn(ch, elems, n, nrecvd, ts);
	}
}

/* The arguments of a batch call, decoded. */
struct batch {
	enum form	 f;
	size_t		 n;
	bool		 null_elems;
	bool		 null_count;
	bool		 huge;		/* n too large to hold */
};

/*
 * Decodes a batch: a's bits 0-1 the slot, 2-4 the form, 5-7 the bad
 * arguments; b the count.  A huge count is one no buffer holds: only an
 * element size of 0 (any count) or one whose bytes overflow (EINVAL).
 */
static struct batch
batch_of(const struct model *m, unsigned a, unsigned b)
{
	struct batch bt = { form_of(a), b & 31, false, false, false };

	if (b >= 224)
		bt.n = (b - 224) * 40;
	if (m->elem_size > 0 && m->elem_size <= BIGELEM &&
	    bt.n > BATCH_BYTES / m->elem_size)
		bt.n = BATCH_BYTES / m->elem_size;
	switch (a >> 5) {
	case 5:
		bt.null_elems = true;
		break;
	case 6:
		bt.null_count = true;
		break;
	case 7:
		/* No count of 1-byte elements overflows: no huge one. */
		if (m->elem_size == 1)
			break;
		bt.huge = true;
		bt.n = m->elem_size == 0 ? SIZE_MAX - b :
		    SIZE_MAX / m->elem_size + 1 + b;
		break;
	}
	return bt;
}

/* Whether a batch's arguments are bad, for ch with elem_size (EINVAL). */
static bool
batch_bad(const struct model *m, const struct batch *bt, bool send)
{
	return m->ch == NULL || bt->null_count ||
	    (send && bt->n > 0 && bt->null_elems && m->elem_size > 0) ||
	    (m->elem_size > 0 && bt->n > SIZE_MAX / m->elem_size);
}

/*
 * What a batch send of n does to m now, with the count it reports: 0 and
 * *k, EPIPE or WAITS.  Under CHAN_DROP and CHAN_SLIDE every element counts
 * as sent, those discarded too; CHAN_BLOCK sends what fits (chan_send(3)).
 */
static int
sendn_outcome(const struct model *m, size_t n, size_t *k)
{
	size_t room;

	*k = 0;
	if (n == 0)
		return 0;	/* whatever the state of the channel */
	if (m->closed)
		return EPIPE;
	if (m->cap == 0)
		return WAITS;	/* no receiver waits in a single thread */
	room = m->cap - m->len;
	if (m->policy != CHAN_BLOCK) {
		*k = n;
		return 0;
	}
	if (room == 0)
		return WAITS;
	*k = n < room ? n : room;
	return 0;
}

/*
 * A failed batch call's count: 0, as chan_send(3) and chan_recv(3) say,
 * but after EINVAL as it was, since such a call changes nothing.
 */
static void
check_failed_count(const char *what, int r, size_t got)
{
	if (got != 0 && !(r == EINVAL && got == COUNT_UNSET))
		fail("%s failed with %d and set the count to %zu", what, r,
		    got);
}

/* Applies a batch send of n elements, seq, seq + 1, ..., to the model. */
static void
m_sendn(struct model *m, uint32_t seq, size_t n)
{
	size_t i = 0;

	/*
	 * Under CHAN_SLIDE only the last cap can remain; otherwise only what
	 * fits goes in (CHAN_DROP discards the rest).  The count may be
	 * SIZE_MAX, with elements of size 0.
	 */
	if (m->policy == CHAN_SLIDE && n > m->cap)
		i = n - m->cap;
	else if (m->policy != CHAN_SLIDE && n > m->cap - m->len)
		n = m->cap - m->len;
	for (; i < n; i++)
		m_send(m, seq + (uint32_t)i);
}

static void
op_sendn(struct input *in)
{
	unsigned a = byte(in), b = byte(in);
	struct model *m = &slots[a % NSLOT];
	struct batch bt = batch_of(m, a, b);
	uint32_t seq = next_seq;
	size_t k = 0, got = COUNT_UNSET, i;
	unsigned char *p = NULL;
	struct timespec ts;
	int outcome, want, r;

	outcome = batch_bad(m, &bt, true) ? EINVAL : sendn_outcome(m, bt.n, &k);
	bt.f = no_hang(bt.f, outcome);
	want = outcome == EINVAL ? EINVAL : expected(bt.f, outcome);
	note("sendn slot %u %s n %zu%s%s (#%u...)", a % NSLOT, form_name[bt.f],
	    bt.n, bt.null_elems ? " elems NULL" : "",
	    bt.null_count ? " nsent NULL" : "", seq);
	if (bt.huge || bt.null_elems) {
		p = bt.null_elems ? NULL : dummy;
	} else {
		p = buf_new(m->elem_size, bt.n);
		for (i = 0; p != dummy && i < bt.n; i++)
			fill(p + i * m->elem_size, m->elem_size,
			    seq + (uint32_t)i);
	}
	if (!bt.huge)		/* no element of a huge batch is compared */
		next_seq += (uint32_t)bt.n;
	errno = ERRNO_MARK;
	r = call_sendn(bt.f, m->ch, p, bt.n, bt.null_count ? NULL : &got,
	    deadline(bt.f, &ts));
	if (check_code("sendn", r, want, bt.f == TIMED_BAD) && r == 0) {
		if (got != k)
			fail("sendn sent %zu of %zu; the model says %zu", got,
			    bt.n, k);
		m_sendn(m, seq, bt.n);
	} else if (!bt.null_count) {
		check_failed_count("sendn", r, got);
	}
	if (p != NULL)
		buf_free(p);
}

static void
op_recvn(struct input *in)
{
	unsigned a = byte(in), b = byte(in);
	struct model *m = &slots[a % NSLOT];
	struct batch bt = batch_of(m, a, b);
	size_t k = 0, got = COUNT_UNSET, i, es = m->elem_size;
	unsigned char *p = NULL;
	struct timespec ts;
	int outcome, want, r;

	if (batch_bad(m, &bt, false)) {
		outcome = EINVAL;
	} else if (bt.n == 0) {
		outcome = 0;
	} else if ((outcome = recv_outcome(m)) == 0) {
		k = bt.n < m->len ? bt.n : m->len;
	}
	bt.f = no_hang(bt.f, outcome);
	want = outcome == EINVAL ? EINVAL : expected(bt.f, outcome);
	note("recvn slot %u %s n %zu%s%s", a % NSLOT, form_name[bt.f], bt.n,
	    bt.null_elems ? " elems NULL" : "",
	    bt.null_count ? " nrecvd NULL" : "");
	if (bt.huge) {
		p = bt.null_elems ? NULL : dummy;
	} else if (!bt.null_elems) {
		p = buf_new(es, bt.n);
		if (p != dummy)
			memset(p, CANARY, es * bt.n);
	}
	errno = ERRNO_MARK;
	r = call_recvn(bt.f, m->ch, p, bt.n, bt.null_count ? NULL : &got,
	    deadline(bt.f, &ts));
	if (check_code("recvn", r, want, bt.f == TIMED_BAD) && r == 0) {
		if (got != k)
			fail("recvn received %zu of %zu; the model says %zu",
			    got, bt.n, k);
		for (i = 0; i < k; i++)
			m_recv(m, p == NULL || p == dummy ? NULL : p + i * es,
			    "recvn");
	} else {
		k = 0;
		if (!bt.null_count)
			check_failed_count("recvn", r, got);
	}
	if (p != NULL && p != dummy && !untouched(p + k * es, (bt.n - k) * es))
		fail("recvn received %zu elements and wrote past them", k);
	if (p != NULL)
		buf_free(p);
}

/* A select's cases and what the model knows of each. */
static struct {
	struct chan_case cases[MAXCASES];
	struct model	*m[MAXCASES];	/* NULL: disabled */
	uint32_t	 seq[MAXCASES];	/* a send case's element */
	bool		 bad[MAXCASES];	/* enabled, but refused: EINVAL */
} sel;

#define ERR_UNSET	(-77)	/* a case's err no call has set */

/*
 * Decodes case i from byte c: bits 0-1 the slot, 2 the op, 3-7 a mode: a
 * case on that slot (disabled if the slot is empty), a disabled one (now
 * and then with a bad op and no element), a NULL element, an unknown op.
 */
static void
case_of(size_t i, unsigned c)
{
	struct chan_case *cs = &sel.cases[i];
	struct model *m = &slots[c % NSLOT];
	unsigned mode = c >> 3;

	cs->op = (c >> 2) & 1 ? CHAN_RECV : CHAN_SEND;
	cs->ch = m->ch;
	cs->err = ERR_UNSET;
	sel.m[i] = m->ch == NULL ? NULL : m;
	sel.seq[i] = next_seq++;
	sel.bad[i] = false;
	if (mode >= 20 && mode < 26) {
		cs->ch = NULL;
		sel.m[i] = NULL;
		if (mode >= 24)
			cs->op = (enum chan_op)(mode == 24 ? 0 : 77);
	}
	cs->elem = buf_new(m->elem_size, 1);
	if (cs->elem != dummy && cs->op == CHAN_SEND)
		fill(cs->elem, m->elem_size, sel.seq[i]);
	else if (cs->elem != dummy)
		memset(cs->elem, CANARY, m->elem_size);
	if (mode == 26 || mode == 27 || mode == 25) {
		buf_free(cs->elem);
		cs->elem = NULL;
	}
	if (mode == 28 || mode == 29)
		cs->op = (enum chan_op)(mode == 28 ? 0 : 3);
	if (cs->ch != NULL)
		sel.bad[i] = (cs->op != CHAN_SEND && cs->op != CHAN_RECV) ||
		    (cs->op == CHAN_SEND && cs->elem == NULL &&
		    m->elem_size > 0);
}

static void
cases_free(size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (sel.cases[i].elem != NULL)
			buf_free(sel.cases[i].elem);
}

static int
call_select(enum form f, struct chan_case *cases, size_t n,
    const struct timespec *ts)
{
	switch (f) {
	case PLAIN:
		return chan_select(cases, n);
	case TRY:
		return chan_tryselect(cases, n);
	default:
		return chan_timedselect(cases, n, ts);
	}
}

/*
 * What case i of the select does now: its err (0 or EPIPE) if it is
 * ready, else WAITS.  Unbuffered, a case is ready only on a closed
 * channel: no partner waits, and a select never pairs its own cases.
 */
static int
case_outcome(size_t i)
{
	if (sel.m[i] == NULL)
		return WAITS;
	return sel.cases[i].op == CHAN_SEND ? send_outcome(sel.m[i]) :
	    recv_outcome(sel.m[i]);
}

/* The case the select completed, idx, checked and applied to the model. */
static void
select_done(size_t n, int idx, enum form f)
{
	struct chan_case *cs = &sel.cases[idx];
	int err = case_outcome((size_t)idx);
	size_t i;

	if (err == WAITS)
		fail("%s select completed case %d, which the model finds %s",
		    form_name[f], idx, sel.m[idx] == NULL ? "disabled" :
		    "not ready");
	if (cs->err != err)
		fail("select: case %d has err %d; the model says %d", idx,
		    cs->err, err);
	for (i = 0; i < n; i++) {
		if ((int)i != idx && sel.cases[i].err != ERR_UNSET)
			fail("select completed case %d and set the err of case "
			    "%zu to %d", idx, i, sel.cases[i].err);
		if ((int)i != idx && sel.cases[i].op == CHAN_RECV &&
		    sel.cases[i].elem != NULL && sel.cases[i].elem != dummy &&
		    sel.m[i] != NULL && !untouched(sel.cases[i].elem,
		    sel.m[i]->elem_size))
			fail("select completed case %d and wrote into the "
			    "element of case %zu", idx, i);
	}
	if (err != 0)
		return;
	if (cs->op == CHAN_SEND)
		m_send(sel.m[idx], sel.seq[idx]);
	else
		m_recv(sel.m[idx], cs->elem == dummy ? NULL : cs->elem,
		    "select");
}

/*
 * Decodes a select: a's form (bits 2-4); b's count of cases (b % 9; 240
 * to 247 a NULL array of 1 to 8; 248 and up, 64 to 71 cases, more than a
 * select handles without its scratch); then one byte per case, for the
 * first 8, the rest repeating them.
 */
static void
op_select(struct input *in)
{
	unsigned a = byte(in), b = byte(in), cb[8];
	enum form f = form_of(a);
	size_t n, nd, i, nready = 0, enabled = 0;
	bool null_cases = false, bad = false;
	struct timespec ts;
	int r, e, want;

	if (b >= 248) {
		n = 64 + (b - 248);
		nd = 8;
	} else if (b >= 240) {
		n = nd = b - 239;
		null_cases = true;
	} else {
		n = nd = b % 9;
	}
	for (i = 0; i < nd; i++)
		cb[i] = byte(in);
	for (i = 0; i < n; i++) {
		case_of(i, cb[i % nd]);
		if (sel.cases[i].ch != NULL)
			enabled++;
		bad |= sel.bad[i];
		if (!sel.bad[i] && case_outcome(i) != WAITS)
			nready++;
	}
	if (null_cases || bad) {
		want = EINVAL;
	} else if (f == TIMED_BAD && (nready == 0 || enabled == 0)) {
		want = EINVAL;		/* it would wait */
	} else if (enabled == 0) {
		want = f == TRY ? EAGAIN : f == PLAIN || f == TIMED_NULL ?
		    EDEADLK : ETIMEDOUT;
	} else if (nready == 0) {
		f = no_hang(f, WAITS);
		want = expected(f, WAITS);
	} else {
		want = 0;		/* the index of a ready case */
	}
	note("select %s, %zu cases%s, %zu enabled, %zu ready", form_name[f],
	    n, null_cases ? " (NULL array)" : "", enabled, nready);
	errno = 0;
	r = call_select(f, null_cases ? NULL : sel.cases, n, deadline(f, &ts));
	e = errno;
	if (r >= 0) {
		if (want != 0 || (size_t)r >= n)
			fail("%s select returned %d; the model says %s",
			    form_name[f], r, want == 0 ?
			    "one of the ready cases" : strerror(want));
		select_done(n, r, f);
	} else if (want == 0) {
		/* A bad deadline may fail even with a case ready. */
		if (f != TIMED_BAD || e != EINVAL)
			fail("%s select failed with errno %d (%s); the model "
			    "finds %zu cases ready", form_name[f], e,
			    strerror(e), nready);
	} else if (e != want) {
		fail("%s select failed with errno %d (%s); the model says %d "
		    "(%s)", form_name[f], e, strerror(e), want, strerror(want));
	}
	for (i = 0; r < 0 && i < n; i++)
		if (sel.cases[i].err != ERR_UNSET)
			fail("select failed and set case %zu's err", i);
	cases_free(n);
}

/* The broadcast's subscriptions that a send must deliver to. */
static bool
bcast_would_wait(void)
{
	int i;

	for (i = 0; i < NSLOT; i++)
		if (slots[i].sub && send_outcome(&slots[i]) == WAITS)
			return true;
	return false;
}

/* The broadcast goes; its current subscriptions are closed (destroy). */
static void
bcast_clear(void)
{
	int i;

	if (bc.b == NULL)
		return;
	chan_bcast_destroy(bc.b);
	for (i = 0; i < NSLOT; i++) {
		if (slots[i].sub)
			slots[i].closed = true;
		slots[i].sub = false;
	}
	bc.b = NULL;
}

static void
op_bcast_create(struct input *in)
{
	size_t elem_size = elem_sizes[byte(in) % 16];

	note("chan_bcast_create(%zu)", elem_size);
	bcast_clear();
	errno = 0;
	if ((bc.b = chan_bcast_create(elem_size)) == NULL)
		fail("chan_bcast_create(%zu) failed: %s", elem_size,
		    strerror(errno));
	bc.elem_size = elem_size;
	bc.closed = false;
}

/* a: the slot and the policy; c: the capacity. */
static void
op_bcast_subscribe(struct input *in)
{
	unsigned a = byte(in), c = byte(in);
	struct model *m = &slots[a % NSLOT];
	enum chan_policy policy = policy_of(a >> 2);
	size_t cap = caps[c % 16];
	int want = EINVAL, also = EINVAL;
	chan_t *ch;

	if (bc.b != NULL) {
		want = create_outcome(bc.elem_size, cap, policy);
		/* Both EINVAL and EPIPE apply: the page gives no order. */
		if (bc.closed && want != WAITS) {
			also = want == 0 ? EPIPE : want;
			want = EPIPE;
		}
	}
	note("subscribe slot %u: chan_bcast_subscribe(%s, %zu, %d)",
	    a % NSLOT, bc.b == NULL ? "NULL" : "b", cap, (int)policy);
	if (want == WAITS)
		return;
	slot_clear(m);
	errno = 0;
	ch = chan_bcast_subscribe(bc.b, cap, policy);
	if (check_made("chan_bcast_subscribe", ch, want, also)) {
		slot_set(m, ch, bc.elem_size, cap, policy);
		m->sub = true;
	}
}

/* a: the slot, and a NULL broadcast or subscription now and then. */
static void
op_bcast_unsubscribe(struct input *in)
{
	unsigned a = byte(in), v = (a >> 2) & 7;
	struct model *m = &slots[a % NSLOT];
	chan_bcast_t *b = v == 6 ? NULL : bc.b;
	chan_t *ch = v == 7 ? NULL : m->ch;
	int want = b == NULL || ch == NULL || !m->sub ? EINVAL : 0, r;

	note("chan_bcast_unsubscribe(%s, %s slot %u)", b == NULL ? "NULL" :
	    "b", ch == NULL ? "NULL" : m->sub ? "subscription" : "channel",
	    a % NSLOT);
	errno = ERRNO_MARK;
	r = chan_bcast_unsubscribe(b, ch);
	if (check_code("chan_bcast_unsubscribe", r, want, false) && want == 0) {
		m->sub = false;
		m->closed = true;
	}
}

/* a: a NULL broadcast or message now and then. */
static void
op_bcast_send(struct input *in)
{
	unsigned a = byte(in) & 7;
	uint32_t seq = next_seq++;
	chan_bcast_t *b = a == 6 ? NULL : bc.b;
	bool null = a == 7;
	size_t es = bc.b != NULL ? bc.elem_size : 0;
	unsigned char *p = NULL;
	int want, i, r;

	if (b == NULL || (null && es > 0))
		want = EINVAL;
	else if (bc.closed)
		want = EPIPE;
	else if (bcast_would_wait())
		want = WAITS;
	else
		want = 0;
	note("chan_bcast_send(%s, %s) #%u%s", b == NULL ? "NULL" : "b",
	    null ? "NULL" : "elem", seq, want == WAITS ? ": would wait" : "");
	if (want == WAITS)
		return;
	if (!null) {
		p = buf_new(es, 1);
		if (p != dummy)
			fill(p, es, seq);
	}
	errno = ERRNO_MARK;
	r = chan_bcast_send(b, p);
	if (check_code("chan_bcast_send", r, want, false) && want == 0) {
		for (i = 0; i < NSLOT; i++)
			if (slots[i].sub && !slots[i].closed)
				m_send(&slots[i], seq);
	}
	if (p != NULL)
		buf_free(p);
}

static void
op_bcast_close(struct input *in)
{
	bool null = (byte(in) & 7) == 7;
	chan_bcast_t *b = null ? NULL : bc.b;
	int want = b == NULL ? EINVAL : bc.closed ? EPIPE : 0;
	int i, r;

	note("chan_bcast_close(%s)", b == NULL ? "NULL" : "b");
	errno = ERRNO_MARK;
	r = chan_bcast_close(b);
	if (check_code("chan_bcast_close", r, want, false) && want == 0) {
		bc.closed = true;
		for (i = 0; i < NSLOT; i++)
			if (slots[i].sub)
				slots[i].closed = true;
	}
}

static void
op_bcast_destroy(struct input *in)
{
	(void)in;
	note("chan_bcast_destroy(%s)", bc.b == NULL ? "NULL" : "b");
	if (bc.b == NULL)
		chan_bcast_destroy(NULL);	/* a no-op */
	bcast_clear();
}

/* Opcodes: the common calls appear twice. */
static void (*const ops[16])(struct input *) = {
	op_create, op_destroy, op_send, op_recv, op_send, op_recv,
	op_sendn, op_recvn, op_close, op_select, op_select, op_pump,
	op_bcast_create, op_bcast_subscribe, op_bcast_send,
	NULL,		/* 15: the rarer broadcast calls */
};

static void
run(struct input *in)
{
	unsigned op;

	while (in->n > 0) {
		op = byte(in);
		if (op % 16 != 15)
			ops[op % 16](in);
		else if ((op >> 4) % 3 == 0)
			op_bcast_unsubscribe(in);
		else if ((op >> 4) % 3 == 1)
			op_bcast_close(in);
		else
			op_bcast_destroy(in);
		check_lens();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	const char *s;
	int i;

	if (trace_print < 0)
		trace_print = (s = getenv("CHAN_FUZZ_TRACE")) != NULL &&
		    *s != '\0' && *s != '0';
	next_seq = 0;
	ntrace = 0;
	if (chan_len(NULL) != 0 || chan_cap(NULL) != 0)
		fail("chan_len(NULL) or chan_cap(NULL) is not 0");
	run(&in);
	bcast_clear();
	for (i = 0; i < NSLOT; i++)
		slot_clear(&slots[i]);
	return 0;
}
