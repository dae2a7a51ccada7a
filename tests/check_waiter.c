/*
 * The waiter, white-box: how CHAN_SPIN_NS is read, and a timed wait whose
 * deadline passes just as a partner completes it.
 *
 * chan(7) says a value of CHAN_SPIN_NS that is not a decimal number leaves
 * the default spin, one above a second counts as a second, and 0 turns the
 * spin off; what the spin then does shows only in timings, so this checks
 * the reading.
 *
 * A timed call completes exactly once or not at all: a waiter whose cond
 * wait times out after a completer claimed it (the claim needs no lock of
 * the waiter's, so it can fall between the deadline and the waiter's own
 * compare-and-swap to ABORTED) has had its operation done, and must wait
 * for DONE and report it, not ETIMEDOUT.  The other suites meet that
 * window only when a short deadline happens to fall on a partner's claim.
 * Here the waiter's pthread_cond_timedwait goes through timedwaiting()
 * below, which once armed starts the partner, returns once the partner
 * has claimed the waiter (it then waits for the waiter's mutex, which the
 * waiter holds, to publish DONE), and reports ETIMEDOUT.
 *
 * A thread cancelled in its cond wait after a completer claimed it has had
 * its operation done too, and its cleanup must wait for DONE before the
 * thread goes on unwinding: until then the completer still writes into its
 * waiter, and a buffered channel's wake-up to retry, which the cleanup
 * passes on, is not yet there to see.  Here pthread_cond_wait goes through
 * waiting(), which once armed starts the partner and acts on a cancel once
 * the partner has claimed the waiter; the partner's lock of that waiter's
 * mutex goes through locking(), which holds it back until the cleanup
 * waits for DONE, or has ended without waiting.
 *
 * This program compiles src/waiter.c itself, for its static
 * spin_setting() and its cond wait; its functions replace libchan.a's
 * waiter.o, as check_chan_window's copy of chan.c replaces chan.o.
 */
/* As waiter.c defines it, before any header: syscall(2) for testutil.h. */
#define _GNU_SOURCE

#include <pthread.h>		/* declared under their own names first */

static int	locking(pthread_mutex_t *);
static int	waiting(pthread_cond_t *, pthread_mutex_t *);
static int	timedwaiting(pthread_cond_t *, pthread_mutex_t *,
		    const struct timespec *);

#define pthread_mutex_lock	locking		/* internal.h's chan__plock */
#include "internal.h"
#define pthread_cond_wait	waiting
#define pthread_cond_timedwait	timedwaiting
#include "waiter.c"
#undef pthread_cond_timedwait
#undef pthread_cond_wait
#undef pthread_mutex_lock

#include "testutil.h"
#include "window.h"

static const struct {
	const char	*env;		/* NULL: unset */
	unsigned long	 want;
} spins[] = {
	{ NULL, SPIN_NS_DEFAULT },
	{ "", SPIN_NS_DEFAULT },
	{ "0", 0 },
	{ "00", 0 },
	{ "2500", 2500 },
	{ "0100", 100 },
	{ "999999999", 999999999 },
	{ "1000000000", SPIN_NS_MAX },
	{ "1000000001", SPIN_NS_MAX },
	{ "18446744073709551616", SPIN_NS_MAX },	/* 2^64 */
	{ "99999999999999999999999999999", SPIN_NS_MAX },
	{ "12us", SPIN_NS_DEFAULT },
	{ "0x10", SPIN_NS_DEFAULT },
	{ "1e6", SPIN_NS_DEFAULT },
	{ "-5", SPIN_NS_DEFAULT },
	{ "+5", SPIN_NS_DEFAULT },
	{ " 5", SPIN_NS_DEFAULT },
	{ "5 ", SPIN_NS_DEFAULT },
};

/* Row _i: CHAN_SPIN_NS set so, the spin is that many nanoseconds. */
START_TEST(spin_setting_reads_decimal_nanoseconds)
{
	unsigned long got;

	if (spins[_i].env == NULL)
		ck_assert_int_eq(unsetenv("CHAN_SPIN_NS"), 0);
	else
		ck_assert_int_eq(setenv("CHAN_SPIN_NS", spins[_i].env, 1), 0);
	got = spin_setting();
	ck_assert_msg(got == spins[_i].want, "CHAN_SPIN_NS %s%s%s: %lu ns, "
	    "want %lu", spins[_i].env == NULL ? "unset" : "\"",
	    spins[_i].env == NULL ? "" : spins[_i].env,
	    spins[_i].env == NULL ? "" : "\"", got, spins[_i].want);
}
END_TEST

/*
 * Armed: the calling thread's next timed cond wait runs
 * claim_then_time_out(timeout_arg) and reports ETIMEDOUT without waiting.
 * Thread-local: a partner's waits are its own.
 */
static _Thread_local void (*claim_then_time_out)(void *);
static _Thread_local void *timeout_arg;

static int
timedwaiting(pthread_cond_t *cond, pthread_mutex_t *mu,
    const struct timespec *abstime)
{
	void (*f)(void *) = claim_then_time_out;

	if (f == NULL)
		return pthread_cond_timedwait(cond, mu, abstime);
	claim_then_time_out = NULL;
	f(timeout_arg);
	return ETIMEDOUT;
}

#define CALL_VAL	300	/* what the call under test sends */

enum timed_call {
	UNBUF_TIMEDRECV,
	UNBUF_TIMEDSEND,
	UNBUF_TIMEDSELECT,
	RING_TIMEDRECV,		/* woken to retry, then takes the element */
	RING_TIMEDSEND,		/* woken to retry, then sends into the room */
};

static const char *const timed_name[] = {
	"chan_timedrecv (capacity 0)", "chan_timedsend (capacity 0)",
	"chan_timedselect of a receive (capacity 0)",
	"chan_timedrecv (capacity 1)", "chan_timedsend (capacity 1)",
};

struct late_claim {
	chan_t		*ch;
	bool		 send;		/* the call under test sends */
	struct partner	 partner;
	int		 state;		/* the waiter's, as the hook saw it */
	int		 left;		/* cancelled: once its cleanup had run */
};

/*
 * Runs in the call under test's cond wait, with its waiter's mutex held:
 * starts the partner and returns once the partner has claimed the waiter
 * (a receiving partner empties the full ring, a sending one fills the
 * empty ring or hands its element over).
 */
static void
partner_claims(void *arg)
{
	struct late_claim *lc = arg;
	struct chan__waiter *w = &chan__tls_waiter;

	if (lc->send)
		partner_start(&lc->partner, OP_RECV, lc->ch, -1);
	else
		partner_start(&lc->partner, OP_SEND, lc->ch, PARTNER_VAL);
	while ((lc->state = atomic_load(&w->state)) == CHAN__SLEEPING &&
	    !atomic_load(&lc->partner.op.returned))
		sched_yield();
}

/*
 * A new channel of capacity cap for a late claim: full (OLD) if the call
 * under test sends into a ring.
 */
static void
late_claim_init(struct late_claim *lc, size_t cap, bool send)
{
	memset(lc, 0, sizeof(*lc));
	lc->ch = new_chan(sizeof(int), cap, CHAN_BLOCK);
	lc->send = send;
	lc->state = lc->left = -1;
	if (send && cap > 0)
		put(lc->ch, OLD);		/* full */
}

/* The partner claimed the waiter of the call called name. */
static void
assert_claimed(const struct late_claim *lc, const char *name)
{
	ck_assert_msg(lc->state == CHAN__CLAIMED, "%s: the partner returned "
	    "%d and left the waiter in state %d", name, lc->partner.op.err,
	    lc->state);
}

/*
 * Once the call called name and its partner are done: nothing is left
 * buffered or queued, and no wake-up to retry is still pending.  Frees
 * the channel.
 */
static void
late_claim_fini(struct late_claim *lc, const char *name)
{
	ck_assert_uint_eq(chan_len(lc->ch), 0);
	ck_assert_uint_eq(atomic_load(&lc->ch->nsendw) +
	    atomic_load(&lc->ch->nrecvw), 0);
	ck_assert_msg(!atomic_load(&lc->ch->send_retry) &&
	    !atomic_load(&lc->ch->recv_retry), "%s left a wake-up to retry "
	    "pending: it was not passed on", name);
	chan_destroy(lc->ch);
}

/*
 * Row _i: a timed call that sleeps, and whose cond wait times out just
 * after a partner claimed it, completes: 0, with the partner's element
 * received or its own delivered, and nothing left over.
 */
START_TEST(timed_wait_claimed_at_its_deadline_completes)
{
	enum timed_call call = (enum timed_call)_i;
	size_t cap = call >= RING_TIMEDRECV ? 1 : 0;
	struct late_claim lc;
	struct timespec dl = deadline_in(60000);
	struct chan_case c[1];
	int v, r;

	late_claim_init(&lc, cap, call == UNBUF_TIMEDSEND ||
	    call == RING_TIMEDSEND);
	v = lc.send ? CALL_VAL : -1;
	c[0] = CASE(lc.ch, CHAN_RECV, &v);
	timeout_arg = &lc;
	claim_then_time_out = partner_claims;
	switch (call) {
	case UNBUF_TIMEDSEND:
	case RING_TIMEDSEND:
		r = chan_timedsend(lc.ch, &v, &dl);
		break;
	case UNBUF_TIMEDSELECT:
		r = chan_timedselect(c, 1, &dl) == 0 ? c[0].err : errno;
		break;
	default:
		r = chan_timedrecv(lc.ch, &v, &dl);
		break;
	}
	ck_assert_msg(claim_then_time_out == NULL, "%s returned %d without "
	    "sleeping in a timed cond wait", timed_name[call], r);
	partner_join(&lc.partner);
	assert_claimed(&lc, timed_name[call]);
	ck_assert_int_eq(lc.partner.op.err, 0);
	ck_assert_msg(r == 0, "%s returned %d (%s) though the partner had "
	    "claimed it as its cond wait timed out", timed_name[call], r,
	    strerror(r));
	if (lc.send) {
		ck_assert_int_eq(lc.partner.op.val, cap == 0 ? CALL_VAL : OLD);
		if (cap > 0)
			ck_assert_int_eq(take(lc.ch), CALL_VAL);
	} else {
		ck_assert_int_eq(v, PARTNER_VAL);
	}
	late_claim_fini(&lc, timed_name[call]);
}
END_TEST

/*
 * The cancel test's hooks.  Armed by the thread under test: its next
 * untimed cond wait runs claim_then_cancel(cancel_arg), which does not
 * return; its cond waits after that are its cleanup's (in_cleanup).  A
 * thread other than held_owner that locks held_mu waits until mu_free.
 */
static _Thread_local void (*claim_then_cancel)(void *);
static _Thread_local void *cancel_arg;
static _Thread_local bool in_cleanup;
static _Atomic(pthread_mutex_t *) held_mu;
static pthread_t held_owner;
static atomic_bool mu_free;

static int
waiting(pthread_cond_t *cond, pthread_mutex_t *mu)
{
	void (*f)(void *) = claim_then_cancel;

	if (f != NULL) {
		claim_then_cancel = NULL;
		in_cleanup = true;
		f(cancel_arg);
	}
	if (in_cleanup)
		atomic_store(&mu_free, true);	/* it waits for DONE */
	return pthread_cond_wait(cond, mu);
}

static int
locking(pthread_mutex_t *mu)
{
	if (mu == atomic_load(&held_mu) &&
	    !pthread_equal(pthread_self(), held_owner)) {
		while (!atomic_load(&mu_free))
			sched_yield();
	}
	return pthread_mutex_lock(mu);
}

enum cancelled_call {
	UNBUF_RECV,
	UNBUF_SEND,
	RING_RECV,		/* woken to retry */
	RING_SEND,		/* woken to retry */
};

static const char *const cancelled_name[] = {
	"chan_recv (capacity 0)", "chan_send (capacity 0)",
	"chan_recv (capacity 1)", "chan_send (capacity 1)",
};

/*
 * Runs in the call under test's cond wait, with its waiter's mutex held:
 * starts the partner, and once the partner has claimed the waiter (it
 * then waits for that mutex to publish DONE), acts on a cancel.
 */
static void
partner_claims_then_cancel(void *arg)
{
	partner_claims(arg);
	pthread_cancel(pthread_self());
	pthread_testcancel();
}

/* The last cleanup handler of the thread under test, after the library's. */
static void
cleanup_ran(void *arg)
{
	struct late_claim *lc = arg;

	lc->left = atomic_load(&chan__tls_waiter.state);
	atomic_store(&mu_free, true);
}

static void *
cancelled_main(void *arg)
{
	struct late_claim *lc = arg;
	int v = CALL_VAL;

	held_owner = pthread_self();
	atomic_store(&held_mu, &chan__self()->mu);
	cancel_arg = lc;
	claim_then_cancel = partner_claims_then_cancel;
	pthread_cleanup_push(cleanup_ran, lc);
	if (lc->send)
		(void)chan_send(lc->ch, &v);
	else
		(void)chan_recv(lc->ch, &v);
	pthread_cleanup_pop(0);
	return NULL;
}

/*
 * Row _i: a call cancelled in its cond wait just after a partner claimed
 * it finishes its cleanup only once DONE is published, and passes on a
 * wake-up to retry; the partner's operation took place.
 */
START_TEST(cancel_claimed_in_cond_wait_waits_for_done)
{
	enum cancelled_call call = (enum cancelled_call)_i;
	size_t cap = call >= RING_RECV ? 1 : 0;
	struct late_claim lc;
	pthread_t t;
	void *ret;

	late_claim_init(&lc, cap, call == UNBUF_SEND || call == RING_SEND);
	atomic_store(&mu_free, false);
	ck_assert_int_eq(pthread_create(&t, NULL, cancelled_main, &lc), 0);
	while (!atomic_load(&mu_free))
		sched_yield();
	partner_join(&lc.partner);
	ck_assert_int_eq(pthread_join(t, &ret), 0);
	atomic_store(&held_mu, NULL);
	ck_assert_msg(ret == PTHREAD_CANCELED, "%s returned instead of "
	    "being cancelled", cancelled_name[call]);
	assert_claimed(&lc, cancelled_name[call]);
	ck_assert_msg(lc.left == CHAN__DONE, "%s, cancelled after a partner "
	    "claimed it, ended its cleanup in state %d, before DONE: the "
	    "partner then wrote into the waiter of a thread gone on",
	    cancelled_name[call], lc.left);
	ck_assert_int_eq(lc.partner.op.err, 0);
	if (lc.send)
		ck_assert_int_eq(lc.partner.op.val, cap == 0 ? CALL_VAL : OLD);
	else if (cap > 0)
		ck_assert_int_eq(take(lc.ch), PARTNER_VAL);
	late_claim_fini(&lc, cancelled_name[call]);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("waiter");
	TCase *tc = tcase_create("spin_setting");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, CASE_TIMEOUT);
	tcase_add_loop_test(tc, spin_setting_reads_decimal_nanoseconds, 0,
	    (int)NELEMS(spins));
	suite_add_tcase(s, tc);
	tc = tcase_create("timeout");
	tcase_set_timeout(tc, CASE_TIMEOUT);
	tcase_add_loop_test(tc, timed_wait_claimed_at_its_deadline_completes,
	    0, (int)NELEMS(timed_name));
	suite_add_tcase(s, tc);
	tc = tcase_create("cancel");
	tcase_set_timeout(tc, CASE_TIMEOUT);
	tcase_add_loop_test(tc, cancel_claimed_in_cond_wait_waits_for_done,
	    0, (int)NELEMS(cancelled_name));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
