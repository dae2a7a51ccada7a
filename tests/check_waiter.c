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
 * This program compiles src/waiter.c itself, for its static
 * spin_setting() and its cond wait; its functions replace libchan.a's
 * waiter.o, as check_chan_window's copy of chan.c replaces chan.o.
 */
/* As waiter.c defines it, before any header: syscall(2) for testutil.h. */
#define _GNU_SOURCE

#include "internal.h"

static int	timedwaiting(pthread_cond_t *, pthread_mutex_t *,
		    const struct timespec *);

#define pthread_cond_timedwait	timedwaiting
#include "waiter.c"
#undef pthread_cond_timedwait

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
 * Row _i: a timed call that sleeps, and whose cond wait times out just
 * after a partner claimed it, completes: 0, with the partner's element
 * received or its own delivered, and nothing left over.
 */
START_TEST(timed_wait_claimed_at_its_deadline_completes)
{
	enum timed_call call = (enum timed_call)_i;
	size_t cap = call >= RING_TIMEDRECV ? 1 : 0;
	struct late_claim lc = { .ch = new_chan(sizeof(int), cap,
	    CHAN_BLOCK), .send = call == UNBUF_TIMEDSEND ||
	    call == RING_TIMEDSEND };
	struct timespec dl = deadline_in(60000);
	struct chan_case c[1];
	int v = lc.send ? CALL_VAL : -1, r;

	if (call == RING_TIMEDSEND)
		put(lc.ch, OLD);		/* full */
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
	ck_assert_msg(lc.state == CHAN__CLAIMED, "%s: the partner returned "
	    "%d and left the waiter in state %d", timed_name[call],
	    lc.partner.op.err, lc.state);
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
	ck_assert_uint_eq(chan_len(lc.ch), 0);
	ck_assert_uint_eq(atomic_load(&lc.ch->nsendw) +
	    atomic_load(&lc.ch->nrecvw), 0);
	ck_assert(!atomic_load(&lc.ch->send_retry) &&
	    !atomic_load(&lc.ch->recv_retry));
	chan_destroy(lc.ch);
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
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
