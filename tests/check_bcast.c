/*
 * Broadcast (chan_bcast_*): every message to every subscriber.
 *
 * Threads meet at barriers or on the channels themselves, never on sleeps.
 * A test that needs a send to be "blocked on a subscriber" first receives the
 * same message from a CHAN_SLIDE subscriber: a send delivers to DROP and
 * SLIDE subscribers before it waits on a CHAN_BLOCK one (see src/bcast.c),
 * so that message proves the send got as far as the CHAN_BLOCK subscriber.
 * A few tests then also watch that thread asleep in the kernel (/proc, as
 * op_wait_blocked in testutil.h does), which it can only be inside
 * chan_send on that subscriber, and some freeze it there (freeze()) to hold
 * open a window that is otherwise too short to reach.
 * Worker threads count failures instead of calling ck_assert (which must
 * run on the test's own thread); the test asserts after joining them.
 */
#define _GNU_SOURCE 1	/* syscall(2) for testutil.h */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

/* Per-case timeout: the tests take milliseconds; this only catches a hang. */
#define CASE_TIMEOUT	20

#include "testutil.h"

/* A thread doing one chan_bcast_send, so the test can wait beside it. */
struct sender {
	pthread_t	 thread;
	chan_bcast_t	*b;
	int		 val;
	int		 rc;
	atomic_int	 tid;		/* its kernel id, once known */
	atomic_int	 done;
};

static void *
sender_main(void *arg)
{
	struct sender *s = arg;

	atomic_store(&s->tid, (int)syscall(SYS_gettid));
	s->rc = chan_bcast_send(s->b, &s->val);
	atomic_store(&s->done, 1);
	return NULL;
}

static void
sender_start(struct sender *s, chan_bcast_t *b, int val)
{
	s->b = b;
	s->val = val;
	s->rc = -1;
	atomic_init(&s->tid, 0);
	atomic_init(&s->done, 0);
	ck_assert_int_eq(pthread_create(&s->thread, NULL, sender_main, s), 0);
}

static int
sender_join(struct sender *s)
{
	ck_assert_int_eq(pthread_join(s->thread, NULL), 0);
	return s->rc;
}

/* Receives one int from ch and checks it is want. */
static void
recv_expect(chan_t *ch, int want)
{
	int got = -1;

	ck_assert_int_eq(chan_recv(ch, &got), 0);
	ck_assert_int_eq(got, want);
}

static void
send_expect(chan_bcast_t *b, int val, int want_rc)
{
	ck_assert_int_eq(chan_bcast_send(b, &val), want_rc);
}

/*
 * A thread frozen inside a call.  freeze() sends it SIGUSR1, whose handler
 * blocks in read(2) on a pipe until thaw() writes to it: a thread asleep
 * in chan_send stays inside chan_send, whatever happens to its channel
 * meanwhile, which holds open the window between a close releasing a send
 * and that send giving its subscription back.  read and write are
 * async-signal-safe.
 */
static int freeze_pipe[2];
static atomic_int frozen;
static struct sigaction freeze_old;

static void
freeze_handler(int sig)
{
	int saved = errno;
	char c;

	(void)sig;
	atomic_store(&frozen, 1);
	while (read(freeze_pipe[0], &c, 1) == -1 && errno == EINTR)
		continue;
	errno = saved;
}

static void
freeze_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = freeze_handler;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(pipe(freeze_pipe), 0);
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, &freeze_old), 0);
}

static void
freeze_fini(void)
{
	ck_assert_int_eq(sigaction(SIGUSR1, &freeze_old, NULL), 0);
	close(freeze_pipe[0]);
	close(freeze_pipe[1]);
}

/* Freezes thread t, which must be asleep in the library. */
static void
freeze(pthread_t t)
{
	atomic_store(&frozen, 0);
	ck_assert_int_eq(pthread_kill(t, SIGUSR1), 0);
	while (!atomic_load(&frozen))
		sched_yield();
}

static void
thaw(void)
{
	ck_assert_int_eq(write(freeze_pipe[1], "", 1), 1);
}

/* A thread doing one chan_bcast_unsubscribe. */
struct unsub {
	pthread_t	 thread;
	chan_bcast_t	*b;
	chan_t		*sub;
	int		 rc;
	atomic_int	 tid;
	atomic_int	 done;
};

static void *
unsub_main(void *arg)
{
	struct unsub *u = arg;

	atomic_store(&u->tid, (int)syscall(SYS_gettid));
	u->rc = chan_bcast_unsubscribe(u->b, u->sub);
	atomic_store(&u->done, 1);
	return NULL;
}

static void
unsub_start(struct unsub *u, chan_bcast_t *b, chan_t *sub)
{
	u->b = b;
	u->sub = sub;
	u->rc = -1;
	atomic_init(&u->tid, 0);
	atomic_init(&u->done, 0);
	ck_assert_int_eq(pthread_create(&u->thread, NULL, unsub_main, u), 0);
}

static int
unsub_join(struct unsub *u)
{
	ck_assert_int_eq(pthread_join(u->thread, NULL), 0);
	return u->rc;
}

/* --- bad arguments ------------------------------------------------------ */

/* subscribe on a NULL broadcast fails with EINVAL. */
START_TEST(subscribe_null_broadcast_is_einval)
{
	errno = 0;
	ck_assert_ptr_null(chan_bcast_subscribe(NULL, 1, CHAN_BLOCK));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* subscribe checks capacity and policy as chan_create does, and adds nothing. */
START_TEST(subscribe_bad_policy_is_einval)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *ok;

	ck_assert_ptr_nonnull(b);
	errno = 0;
	ck_assert_ptr_null(chan_bcast_subscribe(b, 1, (enum chan_policy)42));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(chan_bcast_subscribe(b, 0, CHAN_DROP));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(chan_bcast_subscribe(b, 0, CHAN_SLIDE));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(chan_bcast_subscribe(b, SIZE_MAX, CHAN_BLOCK));
	ck_assert_int_eq(errno, EINVAL);
	/* The failed calls left no half-made subscriber for a send to meet. */
	ok = chan_bcast_subscribe(b, 1, CHAN_BLOCK);
	ck_assert_ptr_nonnull(ok);
	send_expect(b, 1, 0);
	recv_expect(ok, 1);
	chan_bcast_destroy(b);
	chan_destroy(ok);
}
END_TEST

/* send on a NULL broadcast fails with EINVAL. */
START_TEST(send_null_broadcast_is_einval)
{
	int v = 1;

	ck_assert_int_eq(chan_bcast_send(NULL, &v), EINVAL);
}
END_TEST

/* send with a NULL element (elem_size > 0) fails with EINVAL, delivers nothing. */
START_TEST(send_null_elem_is_einval)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *sub = chan_bcast_subscribe(b, 1, CHAN_BLOCK);

	ck_assert_ptr_nonnull(sub);
	ck_assert_int_eq(chan_bcast_send(b, NULL), EINVAL);
	ck_assert_int_eq(chan_tryrecv(sub, NULL), EAGAIN);
	chan_bcast_destroy(b);
	chan_destroy(sub);
}
END_TEST

/* A zero-size broadcast carries pure signals: send(NULL) reaches everyone. */
START_TEST(zero_size_broadcast_sends_signals)
{
	chan_bcast_t *b = chan_bcast_create(0);
	chan_t *s1, *s2;

	ck_assert_ptr_nonnull(b);
	s1 = chan_bcast_subscribe(b, 2, CHAN_BLOCK);
	s2 = chan_bcast_subscribe(b, 2, CHAN_SLIDE);
	ck_assert_ptr_nonnull(s1);
	ck_assert_ptr_nonnull(s2);
	ck_assert_int_eq(chan_bcast_send(b, NULL), 0);
	ck_assert_int_eq(chan_recv(s1, NULL), 0);
	ck_assert_int_eq(chan_recv(s2, NULL), 0);
	chan_bcast_destroy(b);
	chan_destroy(s1);
	chan_destroy(s2);
}
END_TEST

/* unsubscribe with a NULL broadcast or channel fails with EINVAL. */
START_TEST(unsubscribe_null_is_einval)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *sub = chan_bcast_subscribe(b, 1, CHAN_BLOCK);

	ck_assert_ptr_nonnull(sub);
	ck_assert_int_eq(chan_bcast_unsubscribe(NULL, sub), EINVAL);
	ck_assert_int_eq(chan_bcast_unsubscribe(b, NULL), EINVAL);
	/* sub is still subscribed and open. */
	send_expect(b, 5, 0);
	recv_expect(sub, 5);
	chan_bcast_destroy(b);
	chan_destroy(sub);
}
END_TEST

/* unsubscribe of a channel that is not a subscription of b: EINVAL, untouched. */
START_TEST(unsubscribe_foreign_channel_is_einval)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_bcast_t *other = chan_bcast_create(sizeof(int));
	chan_t *plain = chan_create(sizeof(int), 1, CHAN_BLOCK);
	chan_t *theirs = chan_bcast_subscribe(other, 1, CHAN_BLOCK);
	int v = 3;

	ck_assert_ptr_nonnull(plain);
	ck_assert_ptr_nonnull(theirs);
	ck_assert_int_eq(chan_bcast_unsubscribe(b, plain), EINVAL);
	ck_assert_int_eq(chan_bcast_unsubscribe(b, theirs), EINVAL);
	/* Neither channel was closed by the failed calls. */
	ck_assert_int_eq(chan_trysend(plain, &v), 0);
	send_expect(other, 4, 0);
	recv_expect(theirs, 4);
	chan_bcast_destroy(b);
	chan_bcast_destroy(other);
	chan_destroy(plain);
	chan_destroy(theirs);
}
END_TEST

/* A second unsubscribe of the same channel fails with EINVAL. */
START_TEST(unsubscribe_twice_is_einval)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *sub = chan_bcast_subscribe(b, 1, CHAN_BLOCK);

	ck_assert_ptr_nonnull(sub);
	ck_assert_int_eq(chan_bcast_unsubscribe(b, sub), 0);
	ck_assert_int_eq(chan_bcast_unsubscribe(b, sub), EINVAL);
	chan_destroy(sub);
	chan_bcast_destroy(b);
}
END_TEST

/* close of NULL fails with EINVAL; destroy of NULL does nothing. */
START_TEST(close_null_is_einval_destroy_null_is_noop)
{
	ck_assert_int_eq(chan_bcast_close(NULL), EINVAL);
	chan_bcast_destroy(NULL);
}
END_TEST

/* --- delivery ------------------------------------------------------------ */

/* Every subscriber, whatever its policy, gets every message, in order. */
START_TEST(send_reaches_every_subscriber_in_order)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *subs[3];
	int i, v;

	ck_assert_ptr_nonnull(b);
	subs[0] = chan_bcast_subscribe(b, 4, CHAN_BLOCK);
	subs[1] = chan_bcast_subscribe(b, 4, CHAN_DROP);
	subs[2] = chan_bcast_subscribe(b, 4, CHAN_SLIDE);
	for (i = 0; i < 3; i++)
		ck_assert_ptr_nonnull(subs[i]);
	for (v = 1; v <= 3; v++)
		send_expect(b, v, 0);
	for (i = 0; i < 3; i++) {
		for (v = 1; v <= 3; v++)
			recv_expect(subs[i], v);
		ck_assert_int_eq(chan_tryrecv(subs[i], NULL), EAGAIN);
	}
	chan_bcast_destroy(b);
	for (i = 0; i < 3; i++)
		chan_destroy(subs[i]);
}
END_TEST

/* A send with no subscriber at all succeeds. */
START_TEST(send_without_subscribers_succeeds)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));

	ck_assert_ptr_nonnull(b);
	send_expect(b, 1, 0);
	chan_bcast_destroy(b);
}
END_TEST

/* A subscriber gets the messages sent after it subscribed, not before. */
START_TEST(subscriber_gets_only_later_messages)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *sub;

	ck_assert_ptr_nonnull(b);
	send_expect(b, 1, 0);
	sub = chan_bcast_subscribe(b, 4, CHAN_BLOCK);
	ck_assert_ptr_nonnull(sub);
	send_expect(b, 2, 0);
	recv_expect(sub, 2);
	ck_assert_int_eq(chan_tryrecv(sub, NULL), EAGAIN);
	chan_bcast_destroy(b);
	chan_destroy(sub);
}
END_TEST

/* A subscription is an ordinary channel: cap, len and select work on it. */
START_TEST(subscription_is_an_ordinary_channel)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *idle = chan_create(sizeof(int), 1, CHAN_BLOCK);
	chan_t *sub = chan_bcast_subscribe(b, 3, CHAN_BLOCK);
	struct chan_case cases[2];
	int got = 0;

	ck_assert_ptr_nonnull(idle);
	ck_assert_ptr_nonnull(sub);
	ck_assert_uint_eq(chan_cap(sub), 3);
	send_expect(b, 9, 0);
	ck_assert_uint_eq(chan_len(sub), 1);
	cases[0] = (struct chan_case){ .ch = idle, .op = CHAN_RECV };
	cases[1] = (struct chan_case){ .ch = sub, .op = CHAN_RECV, .elem = &got };
	ck_assert_int_eq(chan_select(cases, 2), 1);
	ck_assert_int_eq(cases[1].err, 0);
	ck_assert_int_eq(got, 9);
	chan_bcast_destroy(b);
	chan_destroy(sub);
	chan_destroy(idle);
}
END_TEST

/* An unsubscribed channel drains what it had, then EPIPE; others go on. */
START_TEST(unsubscribed_channel_drains_then_epipe)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *gone = chan_bcast_subscribe(b, 4, CHAN_BLOCK);
	chan_t *stay = chan_bcast_subscribe(b, 4, CHAN_BLOCK);

	ck_assert_ptr_nonnull(gone);
	ck_assert_ptr_nonnull(stay);
	send_expect(b, 1, 0);
	ck_assert_int_eq(chan_bcast_unsubscribe(b, gone), 0);
	send_expect(b, 2, 0);
	recv_expect(gone, 1);
	ck_assert_int_eq(chan_recv(gone, NULL), EPIPE);
	recv_expect(stay, 1);
	recv_expect(stay, 2);
	chan_destroy(gone);
	chan_bcast_destroy(b);
	chan_destroy(stay);
}
END_TEST

/* --- policies ------------------------------------------------------------ */

/* Full CHAN_DROP and CHAN_SLIDE subscribers never make the send wait. */
START_TEST(full_drop_and_slide_subscribers_never_block)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *drop = chan_bcast_subscribe(b, 1, CHAN_DROP);
	chan_t *slide = chan_bcast_subscribe(b, 1, CHAN_SLIDE);

	ck_assert_ptr_nonnull(drop);
	ck_assert_ptr_nonnull(slide);
	send_expect(b, 1, 0);
	send_expect(b, 2, 0);		/* would hang here if it waited */
	send_expect(b, 3, 0);
	recv_expect(drop, 1);		/* DROP kept the oldest */
	recv_expect(slide, 3);		/* SLIDE kept the newest */
	ck_assert_int_eq(chan_tryrecv(drop, NULL), EAGAIN);
	ck_assert_int_eq(chan_tryrecv(slide, NULL), EAGAIN);
	chan_bcast_destroy(b);
	chan_destroy(drop);
	chan_destroy(slide);
}
END_TEST

/* A full CHAN_BLOCK subscriber holds the send back; DROP/SLIDE ones still get it. */
START_TEST(slow_block_subscriber_holds_back_only_the_sender)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	/* SLIDE ones subscribed before and after block: list order is moot. */
	chan_t *older = chan_bcast_subscribe(b, 1, CHAN_SLIDE);
	chan_t *block = chan_bcast_subscribe(b, 1, CHAN_BLOCK);
	chan_t *drop = chan_bcast_subscribe(b, 1, CHAN_DROP);
	chan_t *newer = chan_bcast_subscribe(b, 1, CHAN_SLIDE);
	struct sender s;

	ck_assert_ptr_nonnull(older);
	ck_assert_ptr_nonnull(block);
	ck_assert_ptr_nonnull(drop);
	ck_assert_ptr_nonnull(newer);
	send_expect(b, 1, 0);		/* every subscriber is now full */
	recv_expect(older, 1);		/* so that their next one is 2 */
	recv_expect(newer, 1);
	sender_start(&s, b, 2);
	/* Both get 2 while block is still full and not drained. */
	recv_expect(older, 2);
	recv_expect(newer, 2);
	/* So the send cannot have returned: block has no room for 2 yet. */
	ck_assert_int_eq(atomic_load(&s.done), 0);
	recv_expect(block, 1);
	recv_expect(block, 2);		/* the waiting send delivers, not drops */
	ck_assert_int_eq(sender_join(&s), 0);
	recv_expect(drop, 1);		/* full drop lost 2 and did not wait */
	ck_assert_int_eq(chan_tryrecv(drop, NULL), EAGAIN);
	chan_bcast_destroy(b);
	chan_destroy(older);
	chan_destroy(block);
	chan_destroy(drop);
	chan_destroy(newer);
}
END_TEST

/* A capacity-0 subscriber: the send returns once that subscriber took it. */
START_TEST(capacity_zero_subscriber_waits_for_receiver)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *rv = chan_bcast_subscribe(b, 0, CHAN_BLOCK);
	chan_t *slide = chan_bcast_subscribe(b, 1, CHAN_SLIDE);
	struct sender s;

	ck_assert_ptr_nonnull(rv);
	ck_assert_ptr_nonnull(slide);
	ck_assert_uint_eq(chan_cap(rv), 0);
	sender_start(&s, b, 7);
	recv_expect(slide, 7);		/* the send reached rv's turn */
	ck_assert_int_eq(atomic_load(&s.done), 0);	/* nobody took it yet */
	recv_expect(rv, 7);
	ck_assert_int_eq(sender_join(&s), 0);
	chan_bcast_destroy(b);
	chan_destroy(rv);
	chan_destroy(slide);
}
END_TEST

/* --- close --------------------------------------------------------------- */

/* close closes every subscription: each drains what it has, then EPIPE. */
START_TEST(close_closes_every_subscription_after_drain)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *s1 = chan_bcast_subscribe(b, 2, CHAN_BLOCK);
	chan_t *s2 = chan_bcast_subscribe(b, 2, CHAN_SLIDE);

	ck_assert_ptr_nonnull(s1);
	ck_assert_ptr_nonnull(s2);
	send_expect(b, 1, 0);
	ck_assert_int_eq(chan_bcast_close(b), 0);
	recv_expect(s1, 1);
	recv_expect(s2, 1);
	ck_assert_int_eq(chan_recv(s1, NULL), EPIPE);
	ck_assert_int_eq(chan_recv(s2, NULL), EPIPE);
	chan_bcast_destroy(b);
	chan_destroy(s1);
	chan_destroy(s2);
}
END_TEST

/* A second close returns EPIPE. */
START_TEST(close_twice_is_epipe)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));

	ck_assert_int_eq(chan_bcast_close(b), 0);
	ck_assert_int_eq(chan_bcast_close(b), EPIPE);
	chan_bcast_destroy(b);
}
END_TEST

/* After close, send fails with EPIPE and subscribe with NULL+EPIPE. */
START_TEST(send_and_subscribe_after_close_are_epipe)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *sub = chan_bcast_subscribe(b, 2, CHAN_BLOCK);

	ck_assert_ptr_nonnull(sub);
	ck_assert_int_eq(chan_bcast_close(b), 0);
	send_expect(b, 1, EPIPE);
	ck_assert_int_eq(chan_recv(sub, NULL), EPIPE);	/* nothing stored */
	errno = 0;
	ck_assert_ptr_null(chan_bcast_subscribe(b, 1, CHAN_BLOCK));
	ck_assert_int_eq(errno, EPIPE);
	chan_bcast_destroy(b);
	chan_destroy(sub);
}
END_TEST

/* close wakes a send waiting on a full subscriber: EPIPE, reached ones keep it. */
START_TEST(close_wakes_send_blocked_on_subscriber)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *block = chan_bcast_subscribe(b, 1, CHAN_BLOCK);
	chan_t *slide = chan_bcast_subscribe(b, 4, CHAN_SLIDE);
	struct sender s;

	ck_assert_ptr_nonnull(block);
	ck_assert_ptr_nonnull(slide);
	send_expect(b, 1, 0);
	recv_expect(slide, 1);
	sender_start(&s, b, 2);
	recv_expect(slide, 2);		/* reached slide, now waits on block */
	ck_assert_int_eq(chan_bcast_close(b), 0);
	ck_assert_int_eq(sender_join(&s), EPIPE);
	recv_expect(block, 1);		/* 2 never reached block */
	ck_assert_int_eq(chan_recv(block, NULL), EPIPE);
	ck_assert_int_eq(chan_recv(slide, NULL), EPIPE);
	chan_bcast_destroy(b);
	chan_destroy(block);
	chan_destroy(slide);
}
END_TEST

/* close fails every send still waiting, the blocked one and those queued behind it. */
START_TEST(close_fails_every_waiting_send)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *block = chan_bcast_subscribe(b, 1, CHAN_BLOCK);
	chan_t *slide = chan_bcast_subscribe(b, 4, CHAN_SLIDE);
	struct sender s[3];
	int i, got;

	ck_assert_ptr_nonnull(block);
	ck_assert_ptr_nonnull(slide);
	send_expect(b, 0, 0);		/* block is full from here on */
	recv_expect(slide, 0);
	for (i = 0; i < 3; i++)
		sender_start(&s[i], b, i + 1);
	/* One of them reached block and waits there; the others wait their turn. */
	ck_assert_int_eq(chan_recv(slide, &got), 0);
	ck_assert(got >= 1 && got <= 3);
	ck_assert_int_eq(chan_bcast_close(b), 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(sender_join(&s[i]), EPIPE);
	recv_expect(block, 0);
	ck_assert_int_eq(chan_recv(block, NULL), EPIPE);
	chan_bcast_destroy(b);
	chan_destroy(block);
	chan_destroy(slide);
}
END_TEST

/*
 * close fails every send waiting for its turn at once, even while the send
 * holding the turn has not yet come back from chan_send: they need not wait
 * for the turn to learn that the broadcast is closed.  That send is held
 * inside chan_send by freezing its thread (see freeze()); the waiting ones
 * are started one by one, each asleep before the next starts, so that all
 * of them wait on the turn when close comes.
 */
START_TEST(close_fails_sends_waiting_for_turn_at_once)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *block = chan_bcast_subscribe(b, 1, CHAN_BLOCK);
	chan_t *slide = chan_bcast_subscribe(b, 4, CHAN_SLIDE);
	struct sender s[3];
	int i;

	ck_assert_ptr_nonnull(block);
	ck_assert_ptr_nonnull(slide);
	freeze_init();
	send_expect(b, 0, 0);		/* block is full from here on */
	recv_expect(slide, 0);
	sender_start(&s[0], b, 1);
	recv_expect(slide, 1);		/* s[0] has the turn, waits on block */
	if (!thread_wait_asleep(&s[0].tid, &s[0].done)) {
		/* No /proc: cannot tell it waits inside chan_send. */
		ck_assert_int_eq(chan_bcast_close(b), 0);
		ck_assert_int_eq(sender_join(&s[0]), EPIPE);
		goto out;
	}
	freeze(s[0].thread);
	for (i = 1; i < 3; i++) {
		sender_start(&s[i], b, i + 1);
		ck_assert(thread_wait_asleep(&s[i].tid, &s[i].done));
		ck_assert_int_eq(atomic_load(&s[i].done), 0);
	}
	ck_assert_int_eq(chan_bcast_close(b), 0);
	/* A send that still waited for the turn would hang here. */
	for (i = 1; i < 3; i++)
		ck_assert_int_eq(sender_join(&s[i]), EPIPE);
	ck_assert_int_eq(atomic_load(&s[0].done), 0);
	thaw();
	ck_assert_int_eq(sender_join(&s[0]), EPIPE);
out:
	recv_expect(block, 0);
	ck_assert_int_eq(chan_recv(block, NULL), EPIPE);
	ck_assert_int_eq(chan_recv(slide, NULL), EPIPE);
	freeze_fini();
	chan_bcast_destroy(b);
	chan_destroy(block);
	chan_destroy(slide);
}
END_TEST

/* destroy closes the subscriptions still subscribed but frees none of them. */
START_TEST(destroy_closes_but_keeps_remaining_subscriptions)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *sub = chan_bcast_subscribe(b, 2, CHAN_BLOCK);

	ck_assert_ptr_nonnull(sub);
	send_expect(b, 1, 0);
	chan_bcast_destroy(b);
	recv_expect(sub, 1);		/* sub still works, drains, then EPIPE */
	ck_assert_int_eq(chan_recv(sub, NULL), EPIPE);
	chan_destroy(sub);
}
END_TEST

/* --- unsubscribe --------------------------------------------------------- */

/* unsubscribe releases a send blocked on that subscriber; the send succeeds. */
START_TEST(unsubscribe_releases_send_blocked_on_it)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *block = chan_bcast_subscribe(b, 1, CHAN_BLOCK);
	chan_t *slide = chan_bcast_subscribe(b, 4, CHAN_SLIDE);
	struct sender s;

	ck_assert_ptr_nonnull(block);
	ck_assert_ptr_nonnull(slide);
	send_expect(b, 1, 0);
	recv_expect(slide, 1);
	sender_start(&s, b, 2);
	recv_expect(slide, 2);		/* now waits on block */
	ck_assert_int_eq(chan_bcast_unsubscribe(b, block), 0);
	/* The subscriber left; that is no error of the broadcast. */
	ck_assert_int_eq(sender_join(&s), 0);
	recv_expect(block, 1);
	ck_assert_int_eq(chan_recv(block, NULL), EPIPE);
	chan_destroy(block);
	/* The broadcast goes on without it. */
	send_expect(b, 3, 0);
	recv_expect(slide, 3);
	chan_bcast_destroy(b);
	chan_destroy(slide);
}
END_TEST

/* unsubscribe releases a send waiting for a capacity-0 subscriber to take it. */
START_TEST(unsubscribe_releases_send_on_capacity_zero_subscriber)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *rv = chan_bcast_subscribe(b, 0, CHAN_BLOCK);
	chan_t *slide = chan_bcast_subscribe(b, 4, CHAN_SLIDE);
	struct sender s;

	ck_assert_ptr_nonnull(rv);
	ck_assert_ptr_nonnull(slide);
	sender_start(&s, b, 1);
	recv_expect(slide, 1);
	ck_assert_int_eq(chan_bcast_unsubscribe(b, rv), 0);
	ck_assert_int_eq(sender_join(&s), 0);
	ck_assert_int_eq(chan_recv(rv, NULL), EPIPE);	/* never delivered */
	chan_destroy(rv);
	chan_bcast_destroy(b);
	chan_destroy(slide);
}
END_TEST

/* unsubscribe still works after close, so the caller can tidy up. */
START_TEST(unsubscribe_after_close_succeeds)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *sub = chan_bcast_subscribe(b, 1, CHAN_BLOCK);

	ck_assert_ptr_nonnull(sub);
	ck_assert_int_eq(chan_bcast_close(b), 0);
	ck_assert_int_eq(chan_bcast_unsubscribe(b, sub), 0);
	ck_assert_int_eq(chan_bcast_unsubscribe(b, sub), EINVAL);
	chan_destroy(sub);
	chan_bcast_destroy(b);
}
END_TEST

/*
 * The arrangement of the unsubscribe tests below: a send of 1 has reached
 * slide and block (capacity 1, now full), and a send of 2, past slide, waits
 * inside chan_send on block.  True once that send is seen asleep there and
 * frozen (freeze()); false without /proc, which cannot tell where it is.
 */
static bool
send_frozen_in_block(chan_bcast_t *b, chan_t *slide, struct sender *s)
{
	send_expect(b, 1, 0);
	recv_expect(slide, 1);
	sender_start(s, b, 2);
	recv_expect(slide, 2);		/* on its way to block, which is full */
	if (!thread_wait_asleep(&s->tid, &s->done))
		return false;
	ck_assert_int_eq(atomic_load(&s->done), 0);
	freeze(s->thread);		/* inside chan_send on block */
	return true;
}

/*
 * The end of those tests: block, no longer subscribed, holds 1 alone (2
 * and 3 never reached it) and is closed; everything is freed.
 */
static void
frozen_fini(chan_bcast_t *b, chan_t *slide, chan_t *block)
{
	recv_expect(block, 1);
	ck_assert_int_eq(chan_recv(block, NULL), EPIPE);
	chan_destroy(block);
	freeze_fini();
	chan_bcast_destroy(b);
	chan_destroy(slide);
}

/*
 * unsubscribe returns only once the send delivering to sub has left
 * chan_send on it, and meanwhile the broadcast serves other calls: a
 * second unsubscribe of sub fails at once (sub is no longer subscribed),
 * and a subscription made meanwhile is linked in front of sub and stays
 * linked when sub is unlinked.  The send is held inside chan_send, after
 * the close released it, by freezing its thread (see freeze()).
 */
START_TEST(unsubscribe_waits_for_send_inside_chan_send)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *slide = chan_bcast_subscribe(b, 4, CHAN_SLIDE);
	chan_t *block = chan_bcast_subscribe(b, 1, CHAN_BLOCK);	/* first */
	chan_t *late;
	struct sender s;
	struct unsub u;
	int v = 0;

	ck_assert_ptr_nonnull(slide);
	ck_assert_ptr_nonnull(block);
	freeze_init();
	if (!send_frozen_in_block(b, slide, &s)) {
		ck_assert_int_eq(chan_bcast_unsubscribe(b, block), 0);
		ck_assert_int_eq(sender_join(&s), 0);
		goto out;
	}
	unsub_start(&u, b, block);
	/* Once block is closed, u has marked it unsubscribed. */
	while (chan_trysend(block, &v) != EPIPE)
		sched_yield();
	(void)thread_wait_asleep(&u.tid, &u.done);
	ck_assert_msg(!atomic_load(&u.done), "unsubscribe returned while a "
	    "send was still inside chan_send on the subscription");
	/* block is no longer subscribed: a second unsubscribe fails at once. */
	ck_assert_int_eq(chan_bcast_unsubscribe(b, block), EINVAL);
	/* Subscribing meanwhile links late in front of block. */
	late = chan_bcast_subscribe(b, 4, CHAN_BLOCK);
	ck_assert_ptr_nonnull(late);
	thaw();
	ck_assert_int_eq(unsub_join(&u), 0);
	ck_assert_int_eq(sender_join(&s), 0);	/* block left: no error */
	/* late and slide are still subscribed, block is not. */
	send_expect(b, 3, 0);
	ck_assert_int_eq(take(late), 3);
	ck_assert_int_eq(take(slide), 3);
	ck_assert_int_eq(chan_bcast_unsubscribe(b, late), 0);
	chan_destroy(late);
out:
	frozen_fini(b, slide, block);
}
END_TEST

/*
 * A subscription unsubscribed while a send waits on another one is
 * unlinked and freed at once (no send is inside chan_send on it); the
 * send, when it goes on, neither delivers to it nor touches its record.
 */
START_TEST(unsubscribe_other_subscriber_while_send_waits)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *other = chan_bcast_subscribe(b, 4, CHAN_BLOCK);
	chan_t *block = chan_bcast_subscribe(b, 1, CHAN_BLOCK);	/* first */
	struct sender s;

	ck_assert_ptr_nonnull(other);
	ck_assert_ptr_nonnull(block);
	send_expect(b, 1, 0);
	recv_expect(other, 1);
	sender_start(&s, b, 2);
	/* It can only wait on block, which is full; other has room. */
	(void)thread_wait_asleep(&s.tid, &s.done);
	ck_assert_int_eq(chan_bcast_unsubscribe(b, other), 0);
	ck_assert_int_eq(chan_recv(other, NULL), EPIPE);
	chan_destroy(other);
	recv_expect(block, 1);
	recv_expect(block, 2);
	ck_assert_int_eq(sender_join(&s), 0);
	send_expect(b, 3, 0);
	ck_assert_int_eq(take(block), 3);
	chan_bcast_destroy(b);
	chan_destroy(block);
}
END_TEST

/* --- cancellation -------------------------------------------------------- */

static void *
cancelled_sender_main(void *arg)
{
	struct sender *s = arg;

	atomic_store(&s->tid, (int)syscall(SYS_gettid));
	s->rc = chan_bcast_send(s->b, &s->val);
	return NULL;		/* not reached: cancelled while waiting */
}

/* A send cancelled while blocked gives back its turn and its subscriber. */
START_TEST(cancelled_send_leaves_broadcast_usable)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *block = chan_bcast_subscribe(b, 1, CHAN_BLOCK);
	chan_t *slide = chan_bcast_subscribe(b, 4, CHAN_SLIDE);
	struct sender s = { .b = b, .val = 2, .rc = -1 };
	void *res;

	ck_assert_ptr_nonnull(block);
	ck_assert_ptr_nonnull(slide);
	send_expect(b, 1, 0);
	recv_expect(slide, 1);
	ck_assert_int_eq(pthread_create(&s.thread, NULL, cancelled_sender_main,
	    &s), 0);
	recv_expect(slide, 2);		/* now waits on block */
	ck_assert_int_eq(pthread_cancel(s.thread), 0);
	ck_assert_int_eq(pthread_join(s.thread, &res), 0);
	ck_assert_ptr_eq(res, PTHREAD_CANCELED);
	/* The turn came back: the next send is not stuck behind a dead one. */
	recv_expect(block, 1);
	send_expect(b, 3, 0);
	recv_expect(block, 3);		/* 2 was never delivered */
	/* block's in-flight count came back: unsubscribe does not hang. */
	ck_assert_int_eq(chan_bcast_unsubscribe(b, block), 0);
	chan_destroy(block);
	chan_bcast_destroy(b);
	chan_destroy(slide);
}
END_TEST

/*
 * A send cancelled while it waits for its turn gives back the broadcast's
 * lock: the send holding the turn then finishes, and later sends work.
 */
START_TEST(send_cancelled_waiting_for_turn_leaves_broadcast_usable)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *block = chan_bcast_subscribe(b, 1, CHAN_BLOCK);
	chan_t *slide = chan_bcast_subscribe(b, 4, CHAN_SLIDE);
	struct sender s1, s2 = { .b = b, .val = 2, .rc = -1 };
	void *res;

	ck_assert_ptr_nonnull(block);
	ck_assert_ptr_nonnull(slide);
	send_expect(b, 0, 0);
	recv_expect(slide, 0);
	sender_start(&s1, b, 1);
	recv_expect(slide, 1);		/* s1 holds the turn, waits on block */
	ck_assert_int_eq(pthread_create(&s2.thread, NULL, cancelled_sender_main,
	    &s2), 0);
	/* s2 can only wait for the turn; this makes it wait already. */
	(void)thread_wait_asleep(&s2.tid, NULL);
	ck_assert_int_eq(pthread_cancel(s2.thread), 0);
	ck_assert_int_eq(pthread_join(s2.thread, &res), 0);
	ck_assert_ptr_eq(res, PTHREAD_CANCELED);
	/* s1 delivers once block has room, and returns. */
	recv_expect(block, 0);
	recv_expect(block, 1);
	ck_assert_int_eq(sender_join(&s1), 0);
	send_expect(b, 3, 0);
	ck_assert_int_eq(take(block), 3);	/* 2 was never delivered */
	ck_assert_int_eq(take(slide), 3);
	ck_assert_int_eq(chan_bcast_unsubscribe(b, block), 0);
	chan_destroy(block);
	chan_bcast_destroy(b);
	chan_destroy(slide);
}
END_TEST

/*
 * A thread that makes a cancel pending on itself, then unsubscribes; its
 * cleanup handler notes whether it was cancelled instead.
 */
struct pending_unsub {
	struct unsub	 u;
	atomic_int	 cancelled;
};

static void
note_cancelled(void *arg)
{
	atomic_store((atomic_int *)arg, 1);
}

static void *
unsub_with_cancel_pending(void *arg)
{
	struct pending_unsub *p = arg;

	atomic_store(&p->u.tid, (int)syscall(SYS_gettid));
	pthread_cleanup_push(note_cancelled, &p->cancelled);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_cancel(pthread_self());
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	p->u.rc = chan_bcast_unsubscribe(p->u.b, p->u.sub);
	atomic_store(&p->u.done, 1);
	pthread_cleanup_pop(0);
	return NULL;
}

/*
 * unsubscribe is no cancellation point, so that its caller always knows
 * whether the subscription may be destroyed: a cancel pending when it is
 * called stays pending, even while it waits for a send to leave chan_send
 * on the subscription (the send frozen there, see freeze()).
 */
START_TEST(unsubscribe_ignores_pending_cancel)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	chan_t *slide = chan_bcast_subscribe(b, 4, CHAN_SLIDE);
	chan_t *block = chan_bcast_subscribe(b, 1, CHAN_BLOCK);
	struct pending_unsub p;
	struct sender s;
	bool inside;
	void *res;
	int v = 0;

	ck_assert_ptr_nonnull(slide);
	ck_assert_ptr_nonnull(block);
	freeze_init();
	/* Without /proc, unsubscribe may find the send gone already. */
	inside = send_frozen_in_block(b, slide, &s);
	memset(&p, 0, sizeof(p));
	p.u.b = b;
	p.u.sub = block;
	p.u.rc = -1;
	ck_assert_int_eq(pthread_create(&p.u.thread, NULL,
	    unsub_with_cancel_pending, &p), 0);
	/* Once block is closed, unsubscribe waits for the send to leave. */
	while (chan_trysend(block, &v) != EPIPE && !atomic_load(&p.cancelled))
		sched_yield();
	if (inside) {
		(void)thread_wait_asleep(&p.u.tid, &p.u.done);
		thaw();
	}
	ck_assert_int_eq(pthread_join(p.u.thread, &res), 0);
	ck_assert_msg(res != PTHREAD_CANCELED && !atomic_load(&p.cancelled),
	    "chan_bcast_unsubscribe acted on a pending cancel%s",
	    inside ? " (a send was inside chan_send on the subscription)" : "");
	ck_assert_int_eq(p.u.rc, 0);
	ck_assert_int_eq(sender_join(&s), 0);	/* block left: no error */
	frozen_fini(b, slide, block);
}
END_TEST

/* --- concurrency --------------------------------------------------------- */

enum { NSENDERS = 2, CHURN_MSGS = 1500, CHURN_THREADS = 3 };

struct churn {
	chan_bcast_t		*b;
	pthread_barrier_t	 start;
	atomic_int		 errors;
	atomic_int		 rounds;	/* subscriptions made and ended */
};

/*
 * Receives one message (sender id * CHURN_MSGS + seq) and checks that a
 * CHAN_BLOCK subscription sees an unbroken run from each sender: seq is the
 * one after the previous one from that sender.  Returns false at EPIPE.
 */
static bool
recv_next(struct churn *c, chan_t *sub, int prev[NSENDERS])
{
	int v, rc, id, seq;

	if ((rc = chan_recv(sub, &v)) != 0) {
		if (rc != EPIPE)
			atomic_fetch_add(&c->errors, 1);
		return false;
	}
	id = v / CHURN_MSGS;
	seq = v % CHURN_MSGS;
	if (id < 0 || id >= NSENDERS ||
	    (prev[id] >= 0 && seq != prev[id] + 1))
		atomic_fetch_add(&c->errors, 1);
	else
		prev[id] = seq;
	return true;
}

/* Subscribes, reads a few, unsubscribes, drains, destroys; again until closed. */
static void *
churn_main(void *arg)
{
	struct churn *c = arg;
	unsigned seed = (unsigned)(uintptr_t)&seed;
	bool first = true;
	chan_t *sub;
	int i, n, prev[NSENDERS];

	while ((sub = chan_bcast_subscribe(c->b, 2, CHAN_BLOCK)) != NULL) {
		if (first) {
			/* The senders start once every churner is subscribed. */
			pthread_barrier_wait(&c->start);
			first = false;
		}
		for (i = 0; i < NSENDERS; i++)
			prev[i] = -1;
		n = (int)(rand_r(&seed) % 40);
		for (i = 0; i < n; i++)
			if (!recv_next(c, sub, prev))
				break;
		/*
		 * A send may be blocked on sub right now (it is full and we
		 * stopped reading): unsubscribe must release it.
		 */
		if (chan_bcast_unsubscribe(c->b, sub) != 0)
			atomic_fetch_add(&c->errors, 1);
		while (recv_next(c, sub, prev))
			continue;
		/* A send still inside chan_send on sub would touch freed memory. */
		chan_destroy(sub);
		atomic_fetch_add(&c->rounds, 1);
	}
	if (errno != EPIPE || first)
		atomic_fetch_add(&c->errors, 1);
	return NULL;
}

struct churn_sender {
	struct churn	*c;
	int		 id;
};

static void *
churn_sender_main(void *arg)
{
	struct churn_sender *cs = arg;
	int seq, v;

	pthread_barrier_wait(&cs->c->start);
	for (seq = 0; seq < CHURN_MSGS; seq++) {
		v = cs->id * CHURN_MSGS + seq;
		if (chan_bcast_send(cs->c->b, &v) != 0)
			atomic_fetch_add(&cs->c->errors, 1);
	}
	return NULL;
}

/* Subscribers join and leave while sends run: nothing lost, no hang, no race. */
START_TEST(subscribers_join_and_leave_while_sends_run)
{
	struct churn c;
	struct churn_sender cs[NSENDERS];
	pthread_t churners[CHURN_THREADS], senders[NSENDERS];
	chan_t *steady;
	int i, prev[NSENDERS], count = 0;

	c.b = chan_bcast_create(sizeof(int));
	ck_assert_ptr_nonnull(c.b);
	atomic_init(&c.errors, 0);
	atomic_init(&c.rounds, 0);
	ck_assert_int_eq(pthread_barrier_init(&c.start, NULL,
	    CHURN_THREADS + NSENDERS), 0);
	/* A steady subscriber, there from the start, must see everything. */
	steady = chan_bcast_subscribe(c.b, 4, CHAN_BLOCK);
	ck_assert_ptr_nonnull(steady);
	for (i = 0; i < CHURN_THREADS; i++)
		ck_assert_int_eq(pthread_create(&churners[i], NULL, churn_main,
		    &c), 0);
	for (i = 0; i < NSENDERS; i++) {
		cs[i] = (struct churn_sender){ &c, i };
		ck_assert_int_eq(pthread_create(&senders[i], NULL,
		    churn_sender_main, &cs[i]), 0);
	}
	for (i = 0; i < NSENDERS; i++)
		prev[i] = -1;
	while (count < NSENDERS * CHURN_MSGS && recv_next(&c, steady, prev))
		count++;
	for (i = 0; i < NSENDERS; i++)
		ck_assert_int_eq(pthread_join(senders[i], NULL), 0);
	ck_assert_int_eq(chan_bcast_close(c.b), 0);
	for (i = 0; i < CHURN_THREADS; i++)
		ck_assert_int_eq(pthread_join(churners[i], NULL), 0);
	ck_assert_int_eq(count, NSENDERS * CHURN_MSGS);
	for (i = 0; i < NSENDERS; i++)
		ck_assert_int_eq(prev[i], CHURN_MSGS - 1);
	ck_assert_int_eq(chan_recv(steady, NULL), EPIPE);
	ck_assert_int_eq(atomic_load(&c.errors), 0);
	ck_assert_int_ge(atomic_load(&c.rounds), CHURN_THREADS);
	ck_assert_int_eq(pthread_barrier_destroy(&c.start), 0);
	chan_bcast_destroy(c.b);
	chan_destroy(steady);
}
END_TEST

enum { ORDER_SENDERS = 3, ORDER_SUBS = 3, ORDER_MSGS = 400 };

struct order_sender {
	pthread_t		 thread;
	chan_bcast_t		*b;
	pthread_barrier_t	*start;
	int			 id;
	int			 errors;
};

static void *
order_sender_main(void *arg)
{
	struct order_sender *s = arg;
	int i, v;

	pthread_barrier_wait(s->start);
	for (i = 0; i < ORDER_MSGS; i++) {
		v = s->id * ORDER_MSGS + i;
		if (chan_bcast_send(s->b, &v) != 0)
			s->errors++;
	}
	return NULL;
}

struct order_recv {
	pthread_t	 thread;
	chan_t		*sub;
	int		 got[ORDER_SENDERS * ORDER_MSGS];
	int		 n;
};

static void *
order_recv_main(void *arg)
{
	struct order_recv *r = arg;
	int v;

	while (chan_recv(r->sub, &v) == 0)
		if (r->n < ORDER_SENDERS * ORDER_MSGS)
			r->got[r->n++] = v;
	return NULL;
}

/* Concurrent senders: every subscriber sees their messages in the same order. */
START_TEST(concurrent_senders_reach_all_subscribers_in_same_order)
{
	chan_bcast_t *b = chan_bcast_create(sizeof(int));
	pthread_barrier_t start;
	struct order_sender s[ORDER_SENDERS];
	static struct order_recv r[ORDER_SUBS];
	int i, j, next[ORDER_SENDERS] = { 0 };

	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(pthread_barrier_init(&start, NULL, ORDER_SENDERS), 0);
	for (i = 0; i < ORDER_SUBS; i++) {
		/* Small buffers: senders block often and interleave a lot. */
		r[i].sub = chan_bcast_subscribe(b, 2, CHAN_BLOCK);
		ck_assert_ptr_nonnull(r[i].sub);
		r[i].n = 0;
		ck_assert_int_eq(pthread_create(&r[i].thread, NULL,
		    order_recv_main, &r[i]), 0);
	}
	for (i = 0; i < ORDER_SENDERS; i++) {
		s[i] = (struct order_sender){ .b = b, .start = &start, .id = i };
		ck_assert_int_eq(pthread_create(&s[i].thread, NULL,
		    order_sender_main, &s[i]), 0);
	}
	for (i = 0; i < ORDER_SENDERS; i++) {
		ck_assert_int_eq(pthread_join(s[i].thread, NULL), 0);
		ck_assert_int_eq(s[i].errors, 0);
	}
	ck_assert_int_eq(chan_bcast_close(b), 0);
	for (i = 0; i < ORDER_SUBS; i++)
		ck_assert_int_eq(pthread_join(r[i].thread, NULL), 0);
	for (i = 0; i < ORDER_SUBS; i++) {
		ck_assert_int_eq(r[i].n, ORDER_SENDERS * ORDER_MSGS);
		for (j = 0; j < r[i].n; j++)
			ck_assert_msg(r[i].got[j] == r[0].got[j],
			    "subscriber %d message %d: %d, subscriber 0: %d",
			    i, j, r[i].got[j], r[0].got[j]);
	}
	/* And each sender's messages arrive in the order it sent them. */
	for (j = 0; j < r[0].n; j++) {
		i = r[0].got[j] / ORDER_MSGS;
		ck_assert_int_eq(r[0].got[j] % ORDER_MSGS, next[i]++);
	}
	ck_assert_int_eq(pthread_barrier_destroy(&start), 0);
	chan_bcast_destroy(b);
	for (i = 0; i < ORDER_SUBS; i++)
		chan_destroy(r[i].sub);
}
END_TEST

/*
 * A thread that makes a cancel pending on itself, then sends: the send
 * must act on it (a cancellation point, as chan_send), even where it need
 * not wait: no subscriber, a subscriber with room, a closed broadcast.
 */
static void *
send_with_cancel_pending(void *arg)
{
	int v = 1;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_cancel(pthread_self());
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	return (void *)(intptr_t)chan_bcast_send(arg, &v);
}

START_TEST(send_acts_on_pending_cancel)
{
	chan_bcast_t *b;
	chan_t *sub = NULL;
	pthread_t t;
	void *ret;

	ck_assert_ptr_nonnull(b = chan_bcast_create(sizeof(int)));
	if (_i >= 1)
		ck_assert_ptr_nonnull(sub = chan_bcast_subscribe(b, 4,
		    CHAN_BLOCK));
	if (_i == 2)
		ck_assert_int_eq(chan_bcast_close(b), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, send_with_cancel_pending,
	    b), 0);
	ck_assert_int_eq(pthread_join(t, &ret), 0);
	ck_assert_msg(ret == PTHREAD_CANCELED, "case %d: the send returned "
	    "%d", _i, (int)(intptr_t)ret);
	if (sub != NULL)
		ck_assert_uint_eq(chan_len(sub), 0);	/* nothing delivered */
	chan_bcast_destroy(b);
	if (sub != NULL)
		chan_destroy(sub);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("bcast");
	SRunner *sr;
	int failed;

	ADD(s, subscribe_null_broadcast_is_einval);
	ADD(s, subscribe_bad_policy_is_einval);
	ADD(s, send_null_broadcast_is_einval);
	ADD(s, send_null_elem_is_einval);
	ADD(s, zero_size_broadcast_sends_signals);
	ADD(s, unsubscribe_null_is_einval);
	ADD(s, unsubscribe_foreign_channel_is_einval);
	ADD(s, unsubscribe_twice_is_einval);
	ADD(s, close_null_is_einval_destroy_null_is_noop);
	ADD(s, send_reaches_every_subscriber_in_order);
	ADD(s, send_without_subscribers_succeeds);
	ADD(s, subscriber_gets_only_later_messages);
	ADD(s, subscription_is_an_ordinary_channel);
	ADD(s, unsubscribed_channel_drains_then_epipe);
	ADD(s, full_drop_and_slide_subscribers_never_block);
	ADD(s, slow_block_subscriber_holds_back_only_the_sender);
	ADD(s, capacity_zero_subscriber_waits_for_receiver);
	ADD(s, close_closes_every_subscription_after_drain);
	ADD(s, close_twice_is_epipe);
	ADD(s, send_and_subscribe_after_close_are_epipe);
	ADD(s, close_wakes_send_blocked_on_subscriber);
	ADD(s, close_fails_every_waiting_send);
	ADD(s, close_fails_sends_waiting_for_turn_at_once);
	ADD(s, destroy_closes_but_keeps_remaining_subscriptions);
	ADD(s, unsubscribe_releases_send_blocked_on_it);
	ADD(s, unsubscribe_releases_send_on_capacity_zero_subscriber);
	ADD(s, unsubscribe_after_close_succeeds);
	ADD(s, unsubscribe_waits_for_send_inside_chan_send);
	ADD(s, unsubscribe_other_subscriber_while_send_waits);
	ADD(s, cancelled_send_leaves_broadcast_usable);
	ADD(s, send_cancelled_waiting_for_turn_leaves_broadcast_usable);
	ADD(s, unsubscribe_ignores_pending_cancel);
	{
		TCase *tc = tcase_create("send_acts_on_pending_cancel");

		tcase_set_timeout(tc, CASE_TIMEOUT);
		tcase_add_loop_test(tc, send_acts_on_pending_cancel, 0, 3);
		suite_add_tcase(s, tc);
	}
	ADD(s, subscribers_join_and_leave_while_sends_run);
	ADD(s, concurrent_senders_reach_all_subscribers_in_same_order);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
