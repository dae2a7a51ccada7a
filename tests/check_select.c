/*
 * Check suite for chan_select, chan_tryselect and chan_timedselect: the
 * Select section of API.md, one behaviour per test.
 */
#define _DEFAULT_SOURCE 1	/* syscall(2), for testutil.h */

#include "testutil.h"

/* tryselect_errno runs chan_tryselect and returns errno if it failed. */
static int
tryselect_errno(struct chan_case *cases, size_t n, int *idx)
{
	errno = 0;
	*idx = chan_tryselect(cases, n);
	return *idx >= 0 ? 0 : errno;
}

/* ------------------------------------------------------------- arguments */

/* An unknown op fails the call with EINVAL though another case is ready. */
START_TEST(unknown_op_fails_einval_even_with_ready_case)
{
	chan_t *a = new_chan(sizeof(int), 1, CHAN_BLOCK);
	chan_t *b = new_chan(sizeof(int), 1, CHAN_BLOCK);
	struct timespec dl = deadline_in(60000);
	int got = -1, x = 3;
	struct chan_case cases[] = {
		CASE(a, CHAN_RECV, &got),
		CASE(b, (enum chan_op)0, &x),
	};

	put(a, 11);
	errno = 0;
	ck_assert_int_eq(chan_select(cases, 2), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(chan_tryselect(cases, 2), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(chan_timedselect(cases, 2, &dl), -1);
	ck_assert_int_eq(errno, EINVAL);
	cases[1].op = (enum chan_op)(CHAN_SEND | CHAN_RECV);
	errno = 0;
	ck_assert_int_eq(chan_select(cases, 2), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* Nothing happened: a still holds its element, b got nothing. */
	ck_assert_int_eq(got, -1);
	ck_assert_uint_eq(chan_len(a), 1);
	ck_assert_uint_eq(chan_len(b), 0);
	ck_assert_int_eq(take(a), 11);
	chan_destroy(a);
	chan_destroy(b);
}
END_TEST

/* A NULL send elem fails EINVAL though another case is ready. */
START_TEST(null_send_elem_fails_einval_even_with_ready_case)
{
	chan_t *a = new_chan(sizeof(int), 1, CHAN_BLOCK);
	chan_t *b = new_chan(sizeof(int), 1, CHAN_BLOCK);
	struct timespec past = deadline_past();
	int got = -1;
	struct chan_case cases[] = {
		CASE(a, CHAN_RECV, &got),
		CASE(b, CHAN_SEND, NULL),
	};

	put(a, 12);
	errno = 0;
	ck_assert_int_eq(chan_select(cases, 2), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(chan_tryselect(cases, 2), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(chan_timedselect(cases, 2, &past), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(got, -1);
	ck_assert_int_eq(take(a), 12);
	ck_assert_uint_eq(chan_len(b), 0);
	chan_destroy(a);
	chan_destroy(b);
}
END_TEST

/* A bad case after a ready send case fails EINVAL and sends nothing. */
START_TEST(bad_case_after_ready_send_sends_nothing)
{
	chan_t *a = new_chan(sizeof(int), 1, CHAN_BLOCK);
	chan_t *b = new_chan(sizeof(int), 1, CHAN_BLOCK);
	int x = 13, i;
	struct chan_case cases[] = {
		CASE(a, CHAN_SEND, &x),
		CASE(b, CHAN_SEND, NULL),
	};

	/* Repeat: a random poll order must never start with the good case. */
	for (i = 0; i < 100; i++) {
		errno = 0;
		ck_assert_int_eq(chan_tryselect(cases, 2), -1);
		ck_assert_int_eq(errno, EINVAL);
	}
	ck_assert_uint_eq(chan_len(a), 0);
	ck_assert_uint_eq(chan_len(b), 0);
	chan_destroy(a);
	chan_destroy(b);
}
END_TEST

/* A NULL send elem is fine on an elem_size 0 channel. */
START_TEST(null_send_elem_on_elem_size_zero_is_valid)
{
	chan_t *sig = new_chan(0, 1, CHAN_BLOCK);
	struct chan_case cases[] = { CASE(sig, CHAN_SEND, NULL) };

	ck_assert_int_eq(chan_tryselect(cases, 1), 0);
	ck_assert_int_eq(cases[0].err, 0);
	ck_assert_uint_eq(chan_len(sig), 1);
	chan_destroy(sig);
}
END_TEST

/* A timedselect deadline with tv_nsec outside [0, 1e9) fails EINVAL. */
START_TEST(timedselect_bad_deadline_fails_einval)
{
	chan_t *a = new_chan(sizeof(int), 1, CHAN_BLOCK);
	struct timespec bad = deadline_in(1000);
	int got = -1;
	struct chan_case cases[] = { CASE(a, CHAN_RECV, &got) };

	bad.tv_nsec = -1;
	errno = 0;
	ck_assert_int_eq(chan_timedselect(cases, 1, &bad), -1);
	ck_assert_int_eq(errno, EINVAL);
	bad.tv_nsec = NSEC_PER_SEC;
	errno = 0;
	ck_assert_int_eq(chan_timedselect(cases, 1, &bad), -1);
	ck_assert_int_eq(errno, EINVAL);
	chan_destroy(a);
}
END_TEST

/* ------------------------------------------------------ no enabled case */

/* chan_select with only disabled (NULL) cases fails at once with EDEADLK. */
START_TEST(select_without_enabled_case_fails_edeadlk)
{
	int x = 0;
	struct chan_case cases[] = {
		CASE(NULL, CHAN_RECV, &x),
		CASE(NULL, CHAN_SEND, &x),
	};

	errno = 0;
	ck_assert_int_eq(chan_select(cases, 2), -1);
	ck_assert_int_eq(errno, EDEADLK);
	errno = 0;
	ck_assert_int_eq(chan_select(cases, 0), -1);
	ck_assert_int_eq(errno, EDEADLK);
}
END_TEST

/* chan_tryselect with no enabled case fails with EAGAIN. */
START_TEST(tryselect_without_enabled_case_fails_eagain)
{
	int x = 0;
	struct chan_case cases[] = { CASE(NULL, CHAN_RECV, &x) };

	errno = 0;
	ck_assert_int_eq(chan_tryselect(cases, 1), -1);
	ck_assert_int_eq(errno, EAGAIN);
	errno = 0;
	ck_assert_int_eq(chan_tryselect(cases, 0), -1);
	ck_assert_int_eq(errno, EAGAIN);
}
END_TEST

/* chan_timedselect with no enabled case and a NULL deadline fails EDEADLK. */
START_TEST(timedselect_without_enabled_case_null_deadline_fails_edeadlk)
{
	int x = 0;
	struct chan_case cases[] = { CASE(NULL, CHAN_SEND, &x) };

	errno = 0;
	ck_assert_int_eq(chan_timedselect(cases, 1, NULL), -1);
	ck_assert_int_eq(errno, EDEADLK);
}
END_TEST

/* chan_timedselect with no enabled case sleeps to the deadline: ETIMEDOUT. */
START_TEST(timedselect_without_enabled_case_sleeps_until_deadline)
{
	int x = 0;
	struct chan_case cases[] = { CASE(NULL, CHAN_RECV, &x) };
	struct timespec dl = deadline_in(30), past = deadline_past();

	errno = 0;
	ck_assert_int_eq(chan_timedselect(cases, 1, &dl), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert(reached(&dl));
	dl = deadline_in(20);
	errno = 0;
	ck_assert_int_eq(chan_timedselect(cases, 0, &dl), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert(reached(&dl));
	errno = 0;
	ck_assert_int_eq(chan_timedselect(cases, 1, &past), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
}
END_TEST

/* ------------------------------------------------------------ basics */

/* A ready receive case completes: index returned, element stored, err 0. */
START_TEST(ready_recv_case_completes)
{
	chan_t *a = new_chan(sizeof(int), 2, CHAN_BLOCK);
	int got = -1;
	struct chan_case cases[] = { CASE(a, CHAN_RECV, &got) };

	put(a, 21);
	ck_assert_int_eq(chan_select(cases, 1), 0);
	ck_assert_int_eq(cases[0].err, 0);
	ck_assert_int_eq(got, 21);
	ck_assert_uint_eq(chan_len(a), 0);
	chan_destroy(a);
}
END_TEST

/* A ready send case completes: the element is copied in, err 0. */
START_TEST(ready_send_case_completes)
{
	chan_t *a = new_chan(sizeof(int), 2, CHAN_BLOCK);
	int x = 22;
	struct chan_case cases[] = { CASE(a, CHAN_SEND, &x) };

	ck_assert_int_eq(chan_select(cases, 1), 0);
	ck_assert_int_eq(cases[0].err, 0);
	x = 0;
	ck_assert_int_eq(take(a), 22);
	chan_destroy(a);
}
END_TEST

/* Two ready receive cases: exactly one element is taken, the other stays. */
START_TEST(exactly_one_recv_case_completes)
{
	chan_t *ch[2];
	int got[2], i, idx, round;
	struct chan_case cases[2];

	for (i = 0; i < 2; i++)
		ch[i] = new_chan(sizeof(int), 1, CHAN_BLOCK);
	for (round = 0; round < 50; round++) {
		for (i = 0; i < 2; i++) {
			put(ch[i], 100 + i);
			got[i] = -1;
			cases[i] = CASE(ch[i], CHAN_RECV, &got[i]);
		}
		idx = chan_select(cases, 2);
		ck_assert(idx == 0 || idx == 1);
		ck_assert_int_eq(got[idx], 100 + idx);
		ck_assert_int_eq(got[1 - idx], -1);
		ck_assert_uint_eq(chan_len(ch[idx]), 0);
		ck_assert_uint_eq(chan_len(ch[1 - idx]), 1);
		ck_assert_int_eq(take(ch[1 - idx]), 101 - idx);
	}
	for (i = 0; i < 2; i++)
		chan_destroy(ch[i]);
}
END_TEST

/* Two ready send cases: exactly one channel receives its element. */
START_TEST(exactly_one_send_case_completes)
{
	chan_t *ch[2];
	int x[2] = { 200, 201 }, i, idx, round;
	struct chan_case cases[2];

	for (i = 0; i < 2; i++)
		ch[i] = new_chan(sizeof(int), 1, CHAN_BLOCK);
	for (round = 0; round < 50; round++) {
		for (i = 0; i < 2; i++)
			cases[i] = CASE(ch[i], CHAN_SEND, &x[i]);
		idx = chan_tryselect(cases, 2);
		ck_assert(idx == 0 || idx == 1);
		ck_assert_int_eq(cases[idx].err, 0);
		ck_assert_uint_eq(chan_len(ch[1 - idx]), 0);
		ck_assert_int_eq(take(ch[idx]), 200 + idx);
	}
	for (i = 0; i < 2; i++)
		chan_destroy(ch[i]);
}
END_TEST

/* tryselect with nothing ready fails EAGAIN and changes nothing. */
START_TEST(tryselect_nothing_ready_fails_eagain)
{
	chan_t *empty = new_chan(sizeof(int), 1, CHAN_BLOCK);
	chan_t *full = new_chan(sizeof(int), 1, CHAN_BLOCK);
	chan_t *unbuf = new_chan(sizeof(int), 0, CHAN_BLOCK);
	int got = -1, x = 5, idx;
	struct chan_case cases[] = {
		CASE(empty, CHAN_RECV, &got),
		CASE(full, CHAN_SEND, &x),
		CASE(unbuf, CHAN_SEND, &x),
		CASE(unbuf, CHAN_RECV, &got),
	};

	put(full, 1);
	ck_assert_int_eq(tryselect_errno(cases, NELEMS(cases), &idx), EAGAIN);
	ck_assert_int_eq(idx, -1);
	ck_assert_int_eq(got, -1);
	ck_assert_uint_eq(chan_len(empty), 0);
	ck_assert_int_eq(take(full), 1);
	chan_destroy(empty);
	chan_destroy(full);
	chan_destroy(unbuf);
}
END_TEST

/* timedselect with nothing ready fails ETIMEDOUT, not before its deadline. */
START_TEST(timedselect_times_out)
{
	chan_t *a = new_chan(sizeof(int), 1, CHAN_BLOCK);
	chan_t *u = new_chan(sizeof(int), 0, CHAN_BLOCK);
	int got = -1, x = 1;
	struct chan_case cases[] = {
		CASE(a, CHAN_RECV, &got),
		CASE(u, CHAN_SEND, &x),
	};
	struct timespec dl = deadline_in(30);

	errno = 0;
	ck_assert_int_eq(chan_timedselect(cases, 2, &dl), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert(reached(&dl));
	ck_assert_int_eq(got, -1);
	ck_assert_int_eq(chan_tryrecv(u, &x), EAGAIN);
	chan_destroy(a);
	chan_destroy(u);
}
END_TEST

/* A past deadline makes timedselect a tryselect that reports ETIMEDOUT. */
START_TEST(timedselect_past_deadline_acts_as_try)
{
	chan_t *a = new_chan(sizeof(int), 1, CHAN_BLOCK);
	int got = -1;
	struct chan_case cases[] = { CASE(a, CHAN_RECV, &got) };
	struct timespec past = deadline_past(), origin = { 0, 0 };

	errno = 0;
	ck_assert_int_eq(chan_timedselect(cases, 1, &past), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	errno = 0;
	ck_assert_int_eq(chan_timedselect(cases, 1, &origin), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	put(a, 23);
	ck_assert_int_eq(chan_timedselect(cases, 1, &past), 0);
	ck_assert_int_eq(got, 23);
	chan_destroy(a);
}
END_TEST

/* A receive case on a closed, drained channel is ready with err EPIPE. */
START_TEST(recv_case_on_closed_drained_channel_is_ready_epipe)
{
	chan_t *closed = new_chan(sizeof(int), 1, CHAN_BLOCK);
	chan_t *empty = new_chan(sizeof(int), 1, CHAN_BLOCK);
	int got = -1, other = -1;
	struct chan_case cases[] = {
		CASE(empty, CHAN_RECV, &other),
		CASE(closed, CHAN_RECV, &got),
	};

	ck_assert_int_eq(chan_close(closed), 0);
	ck_assert_int_eq(chan_select(cases, 2), 1);
	ck_assert_int_eq(cases[1].err, EPIPE);
	ck_assert_int_eq(got, -1);
	ck_assert_int_eq(other, -1);
	ck_assert_int_eq(chan_tryselect(cases, 2), 1);
	ck_assert_int_eq(cases[1].err, EPIPE);
	chan_destroy(closed);
	chan_destroy(empty);
}
END_TEST

/* A receive case on a closed channel still gets what is buffered, err 0. */
START_TEST(recv_case_on_closed_channel_drains_first)
{
	chan_t *a = new_chan(sizeof(int), 2, CHAN_BLOCK);
	int got = -1;
	struct chan_case cases[] = { CASE(a, CHAN_RECV, &got) };

	put(a, 24);
	ck_assert_int_eq(chan_close(a), 0);
	ck_assert_int_eq(chan_select(cases, 1), 0);
	ck_assert_int_eq(cases[0].err, 0);
	ck_assert_int_eq(got, 24);
	got = -1;
	ck_assert_int_eq(chan_select(cases, 1), 0);
	ck_assert_int_eq(cases[0].err, EPIPE);
	ck_assert_int_eq(got, -1);
	chan_destroy(a);
}
END_TEST

/* A send case on a closed channel is ready with err EPIPE and sends nothing. */
START_TEST(send_case_on_closed_channel_is_ready_epipe)
{
	chan_t *closed = new_chan(sizeof(int), 2, CHAN_BLOCK);
	chan_t *full = new_chan(sizeof(int), 1, CHAN_BLOCK);
	chan_t *unbuf = new_chan(sizeof(int), 0, CHAN_BLOCK);
	int x = 25, y = 26;
	struct chan_case cases[] = {
		CASE(full, CHAN_SEND, &y),
		CASE(closed, CHAN_SEND, &x),
		CASE(unbuf, CHAN_SEND, &y),
	};

	put(full, 1);
	ck_assert_int_eq(chan_close(closed), 0);
	ck_assert_int_eq(chan_select(cases, 3), 1);
	ck_assert_int_eq(cases[1].err, EPIPE);
	ck_assert_uint_eq(chan_len(closed), 0);
	ck_assert_int_eq(chan_tryrecv(closed, NULL), EPIPE);
	ck_assert_int_eq(take(full), 1);
	chan_destroy(closed);
	chan_destroy(full);
	chan_destroy(unbuf);
}
END_TEST

/* A send case on a closed unbuffered channel is ready with EPIPE too. */
START_TEST(send_case_on_closed_unbuffered_channel_is_ready_epipe)
{
	chan_t *u = new_chan(sizeof(int), 0, CHAN_BLOCK);
	int x = 27;
	struct chan_case cases[] = { CASE(u, CHAN_SEND, &x) };

	ck_assert_int_eq(chan_close(u), 0);
	ck_assert_int_eq(chan_tryselect(cases, 1), 0);
	ck_assert_int_eq(cases[0].err, EPIPE);
	chan_destroy(u);
}
END_TEST

/* A case with a NULL channel is never chosen. */
START_TEST(null_channel_case_is_never_chosen)
{
	chan_t *a = new_chan(sizeof(int), 1, CHAN_BLOCK);
	int x = 1, got, i;
	struct chan_case cases[] = {
		CASE(NULL, CHAN_RECV, &got),
		CASE(a, CHAN_SEND, &x),
		CASE(NULL, CHAN_SEND, &x),
	};

	for (i = 0; i < 200; i++) {
		ck_assert_int_eq(chan_tryselect(cases, 3), 1);
		ck_assert_int_eq(take(a), 1);
	}
	chan_destroy(a);
}
END_TEST

/* A receive case with elem NULL takes and discards the element. */
START_TEST(recv_case_null_elem_discards)
{
	chan_t *a = new_chan(sizeof(int), 2, CHAN_BLOCK);
	struct chan_case cases[] = { CASE(a, CHAN_RECV, NULL) };

	put(a, 1);
	put(a, 2);
	ck_assert_int_eq(chan_select(cases, 1), 0);
	ck_assert_int_eq(cases[0].err, 0);
	ck_assert_int_eq(take(a), 2);
	chan_destroy(a);
}
END_TEST

/* An unbuffered receive case with elem NULL completes a waiting sender. */
START_TEST(unbuffered_recv_case_null_elem_discards)
{
	chan_t *u = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct chan_case cases[] = { CASE(u, CHAN_RECV, NULL) };
	struct op s = { .kind = OP_SEND, .ch = u, .val = 28 };
	int idx;

	op_start(&s);
	while (tryselect_errno(cases, 1, &idx) == EAGAIN)
		sched_yield();
	ck_assert_int_eq(idx, 0);
	ck_assert_int_eq(cases[0].err, 0);
	op_join(&s);
	ck_assert_int_eq(s.err, 0);
	chan_destroy(u);
}
END_TEST

/* ---------------------------------------------------- same channel */

/* One buffered channel in a send and a receive case: one completes alone. */
START_TEST(same_buffered_channel_for_send_and_recv)
{
	chan_t *a = new_chan(sizeof(int), 2, CHAN_BLOCK);
	int x = 31, got, idx, i, seen[2] = { 0, 0 };
	struct chan_case cases[2];

	for (i = 0; i < 200; i++) {
		put(a, 30);
		got = -1;
		cases[0] = CASE(a, CHAN_SEND, &x);
		cases[1] = CASE(a, CHAN_RECV, &got);
		idx = chan_tryselect(cases, 2);
		ck_assert(idx == 0 || idx == 1);
		seen[idx]++;
		if (idx == 0) {
			ck_assert_int_eq(got, -1);
			ck_assert_uint_eq(chan_len(a), 2);
			ck_assert_int_eq(take(a), 30);
			ck_assert_int_eq(take(a), 31);
		} else {
			ck_assert_int_eq(got, 30);
			ck_assert_uint_eq(chan_len(a), 0);
		}
	}
	/* Both are ready every time, so both must turn up in 200 tries. */
	ck_assert_int_gt(seen[0], 0);
	ck_assert_int_gt(seen[1], 0);
	chan_destroy(a);
}
END_TEST

/* One channel in two receive cases: one element taken, by one case only. */
START_TEST(same_channel_in_two_recv_cases)
{
	chan_t *a = new_chan(sizeof(int), 2, CHAN_BLOCK);
	int g[2] = { -1, -1 }, idx;
	struct chan_case cases[] = {
		CASE(a, CHAN_RECV, &g[0]),
		CASE(a, CHAN_RECV, &g[1]),
	};

	put(a, 32);
	put(a, 33);
	idx = chan_select(cases, 2);
	ck_assert(idx == 0 || idx == 1);
	ck_assert_int_eq(g[idx], 32);
	ck_assert_int_eq(g[1 - idx], -1);
	ck_assert_int_eq(take(a), 33);
	chan_destroy(a);
}
END_TEST

/* A lone select sending and receiving on one unbuffered channel never pairs. */
START_TEST(select_never_pairs_own_send_and_recv)
{
	chan_t *u = new_chan(sizeof(int), 0, CHAN_BLOCK);
	int x = 34, got = -1, idx;
	struct chan_case cases[] = {
		CASE(u, CHAN_SEND, &x),
		CASE(u, CHAN_RECV, &got),
	};
	struct timespec dl = deadline_in(30);

	ck_assert_int_eq(tryselect_errno(cases, 2, &idx), EAGAIN);
	errno = 0;
	ck_assert_int_eq(chan_timedselect(cases, 2, &dl), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_eq(got, -1);
	chan_destroy(u);
}
END_TEST

/* A select waiting to send and receive on one unbuffered channel: a receiver
 * from outside completes its send case. */
START_TEST(select_on_own_send_and_recv_pairs_with_outside_receiver)
{
	chan_t *u = new_chan(sizeof(int), 0, CHAN_BLOCK);
	int x = 35, got = -1, v = -1, err;
	struct chan_case cases[] = {
		CASE(u, CHAN_SEND, &x),
		CASE(u, CHAN_RECV, &got),
	};
	struct op s = { .kind = OP_SELECT, .cases = cases, .ncases = 2 };

	op_start(&s);
	while ((err = chan_tryrecv(u, &v)) == EAGAIN)
		sched_yield();
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(v, 35);
	op_join(&s);
	ck_assert_int_eq(s.err, 0);
	ck_assert_int_eq(got, -1);
	chan_destroy(u);
}
END_TEST

/* ... and a sender from outside completes its receive case. */
START_TEST(select_on_own_send_and_recv_pairs_with_outside_sender)
{
	chan_t *u = new_chan(sizeof(int), 0, CHAN_BLOCK);
	int x = 36, got = -1, v = 37, err;
	struct chan_case cases[] = {
		CASE(u, CHAN_SEND, &x),
		CASE(u, CHAN_RECV, &got),
	};
	struct op s = { .kind = OP_SELECT, .cases = cases, .ncases = 2 };

	op_start(&s);
	while ((err = chan_trysend(u, &v)) == EAGAIN)
		sched_yield();
	ck_assert_int_eq(err, 0);
	op_join(&s);
	ck_assert_int_eq(s.err, 1);
	ck_assert_int_eq(got, 37);
	chan_destroy(u);
}
END_TEST

/* Two selects, each sending and receiving on one unbuffered channel, pair. */
START_TEST(two_selects_on_same_unbuffered_channel_pair)
{
	chan_t *u = new_chan(sizeof(int), 0, CHAN_BLOCK);
	int x[2] = { 38, 39 }, got[2] = { -1, -1 }, i;
	struct chan_case c[2][2];
	struct op s[2];

	for (i = 0; i < 2; i++) {
		c[i][0] = CASE(u, CHAN_SEND, &x[i]);
		c[i][1] = CASE(u, CHAN_RECV, &got[i]);
		s[i] = (struct op){ .kind = OP_SELECT, .cases = c[i],
		    .ncases = 2 };
		op_start(&s[i]);
	}
	for (i = 0; i < 2; i++)
		op_join(&s[i]);
	/* One sent, the other received what it sent. */
	ck_assert(s[0].err + s[1].err == 1);
	i = s[0].err == 0 ? 0 : 1;
	ck_assert_int_eq(got[1 - i], x[i]);
	ck_assert_int_eq(got[i], -1);
	chan_destroy(u);
}
END_TEST

/* ---------------------------------------------------------- fairness */

/* Cases [never, never, ready, ready]: each ready one is chosen about half. */
START_TEST(choice_is_uniform_among_ready_cases_after_unready)
{
	enum { N = 20000 };
	chan_t *never[2], *ready[2];
	int x = 0, junk = -1, i, idx, count[4] = { 0, 0, 0, 0 };
	struct chan_case cases[4];

	for (i = 0; i < 2; i++) {
		never[i] = new_chan(sizeof(int), 1, CHAN_BLOCK);
		ready[i] = new_chan(sizeof(int), 1, CHAN_DROP);
	}
	cases[0] = CASE(never[0], CHAN_RECV, &junk);
	cases[1] = CASE(never[1], CHAN_RECV, &junk);
	cases[2] = CASE(ready[0], CHAN_SEND, &x);	/* DROP: always ready */
	cases[3] = CASE(ready[1], CHAN_SEND, &x);
	for (i = 0; i < N; i++) {
		idx = chan_tryselect(cases, 4);
		ck_assert(idx >= 0 && idx < 4);
		count[idx]++;
	}
	ck_assert_int_eq(count[0], 0);
	ck_assert_int_eq(count[1], 0);
	/* Expected N/2 each, sd ~71: 40..60 % is about 28 sd wide. */
	ck_assert_msg(count[2] >= N * 4 / 10 && count[2] <= N * 6 / 10,
	    "case 2 chosen %d, case 3 %d of %d", count[2], count[3], N);
	ck_assert_int_eq(count[2] + count[3], N);
	for (i = 0; i < 2; i++) {
		chan_destroy(never[i]);
		chan_destroy(ready[i]);
	}
}
END_TEST

/* Four ready buffered receive cases: each is chosen about a quarter. */
START_TEST(choice_is_uniform_among_four_ready_buffered)
{
	enum { N = 20000 };
	chan_t *ch[4];
	int got, i, idx, count[4] = { 0, 0, 0, 0 };
	struct chan_case cases[4];

	for (i = 0; i < 4; i++) {
		ch[i] = new_chan(sizeof(int), 1, CHAN_BLOCK);
		put(ch[i], i);
		cases[i] = CASE(ch[i], CHAN_RECV, &got);
	}
	for (i = 0; i < N; i++) {
		got = -1;
		idx = chan_tryselect(cases, 4);
		ck_assert(idx >= 0 && idx < 4);
		ck_assert_int_eq(got, idx);
		count[idx]++;
		put(ch[idx], idx);
	}
	/* Expected N/4 each, sd ~61: 20..30 % is about 16 sd wide. */
	for (i = 0; i < 4; i++)
		ck_assert_msg(count[i] >= N / 5 && count[i] <= N * 3 / 10,
		    "counts %d %d %d %d of %d", count[0], count[1], count[2],
		    count[3], N);
	for (i = 0; i < 4; i++)
		chan_destroy(ch[i]);
}
END_TEST

/*
 * 100 cases (more than a select keeps on its stack), 97 of them never
 * ready, on one channel; the last three ready in three ways: a receive on
 * a closed channel, a send on a DROP channel, a receive with an element
 * waiting.  Each of the three is chosen about a third of the time.
 */
START_TEST(choice_is_uniform_among_ready_cases_of_a_big_select)
{
	enum { N = 30000, NC = 100 };
	chan_t *never = new_chan(sizeof(int), 1, CHAN_BLOCK);
	chan_t *closed = new_chan(sizeof(int), 1, CHAN_BLOCK);
	chan_t *drop = new_chan(sizeof(int), 1, CHAN_DROP);
	chan_t *full = new_chan(sizeof(int), 1, CHAN_BLOCK);
	struct chan_case cases[NC];
	int x = 5, got, i, idx, count[3] = { 0, 0, 0 };

	chan_close(closed);
	put(full, 7);
	for (i = 0; i < NC - 3; i++)
		cases[i] = CASE(never, CHAN_RECV, &got);
	cases[NC - 3] = CASE(closed, CHAN_RECV, &got);
	cases[NC - 2] = CASE(drop, CHAN_SEND, &x);
	cases[NC - 1] = CASE(full, CHAN_RECV, &got);
	for (i = 0; i < N; i++) {
		idx = chan_tryselect(cases, NC);
		ck_assert_msg(idx >= NC - 3 && idx < NC, "chose case %d", idx);
		count[idx - (NC - 3)]++;
		if (idx == NC - 1)
			put(full, 7);
	}
	/* Expected N/3 each, sd ~82: 28..38 % is about 36 sd wide. */
	for (i = 0; i < 3; i++)
		ck_assert_msg(count[i] >= N * 28 / 100 &&
		    count[i] <= N * 38 / 100, "counts %d %d %d of %d",
		    count[0], count[1], count[2], N);
	chan_destroy(never);
	chan_destroy(closed);
	chan_destroy(drop);
	chan_destroy(full);
}
END_TEST

/* ---------------------------------------------------------- blocking */

/* A blocked select is woken by a send on the second of its channels. */
START_TEST(blocked_select_woken_by_send)
{
	chan_t *a = new_chan(sizeof(int), 1, CHAN_BLOCK);
	chan_t *b = new_chan(sizeof(int), 1, CHAN_BLOCK);
	int ga = -1, gb = -1;
	struct chan_case cases[] = {
		CASE(a, CHAN_RECV, &ga),
		CASE(b, CHAN_RECV, &gb),
	};
	struct op s = { .kind = OP_SELECT, .cases = cases, .ncases = 2 };

	op_start(&s);
	op_wait_blocked(&s);
	put(b, 41);
	op_join(&s);
	ck_assert_int_eq(s.err, 1);
	ck_assert_int_eq(cases[1].err, 0);
	ck_assert_int_eq(gb, 41);
	ck_assert_int_eq(ga, -1);
	chan_destroy(a);
	chan_destroy(b);
}
END_TEST

/* A blocked select is woken by an unbuffered send on one of its channels. */
START_TEST(blocked_select_woken_by_unbuffered_send)
{
	chan_t *a = new_chan(sizeof(int), 0, CHAN_BLOCK);
	chan_t *b = new_chan(sizeof(int), 0, CHAN_BLOCK);
	int ga = -1, gb = -1, v = 42;
	struct chan_case cases[] = {
		CASE(a, CHAN_RECV, &ga),
		CASE(b, CHAN_RECV, &gb),
	};
	struct op s = { .kind = OP_SELECT, .cases = cases, .ncases = 2 };

	op_start(&s);
	op_wait_blocked(&s);
	ck_assert_int_eq(chan_send(a, &v), 0);
	op_join(&s);
	ck_assert_int_eq(s.err, 0);
	ck_assert_int_eq(ga, 42);
	ck_assert_int_eq(gb, -1);
	ck_assert_int_eq(chan_tryrecv(b, &v), EAGAIN);
	chan_destroy(a);
	chan_destroy(b);
}
END_TEST

/* A select blocked on sends to full channels is woken by a receive. */
START_TEST(blocked_select_woken_by_recv)
{
	chan_t *a = new_chan(sizeof(int), 1, CHAN_BLOCK);
	chan_t *b = new_chan(sizeof(int), 1, CHAN_BLOCK);
	int xa = 43, xb = 44;
	struct chan_case cases[] = {
		CASE(a, CHAN_SEND, &xa),
		CASE(b, CHAN_SEND, &xb),
	};
	struct op s = { .kind = OP_SELECT, .cases = cases, .ncases = 2 };

	put(a, 1);
	put(b, 2);
	op_start(&s);
	op_wait_blocked(&s);
	ck_assert_int_eq(take(a), 1);
	op_join(&s);
	ck_assert_int_eq(s.err, 0);
	ck_assert_int_eq(cases[0].err, 0);
	ck_assert_int_eq(take(a), 43);
	ck_assert_uint_eq(chan_len(b), 1);
	ck_assert_int_eq(take(b), 2);
	chan_destroy(a);
	chan_destroy(b);
}
END_TEST

/* A select blocked on unbuffered sends is woken by a receive on one. */
START_TEST(blocked_select_woken_by_unbuffered_recv)
{
	chan_t *a = new_chan(sizeof(int), 0, CHAN_BLOCK);
	chan_t *b = new_chan(sizeof(int), 0, CHAN_BLOCK);
	int xa = 45, xb = 46, v = -1;
	struct chan_case cases[] = {
		CASE(a, CHAN_SEND, &xa),
		CASE(b, CHAN_SEND, &xb),
	};
	struct op s = { .kind = OP_SELECT, .cases = cases, .ncases = 2 };

	op_start(&s);
	op_wait_blocked(&s);
	ck_assert_int_eq(chan_recv(b, &v), 0);
	ck_assert_int_eq(v, 46);
	op_join(&s);
	ck_assert_int_eq(s.err, 1);
	ck_assert_int_eq(chan_tryrecv(a, &v), EAGAIN);
	chan_destroy(a);
	chan_destroy(b);
}
END_TEST

/* A select blocked on receives is woken by a close: err EPIPE on that case. */
START_TEST(blocked_select_woken_by_close_of_recv_channel)
{
	chan_t *a = new_chan(sizeof(int), 1, CHAN_BLOCK);
	chan_t *b = new_chan(sizeof(int), 0, CHAN_BLOCK);
	int ga = -1, gb = -1;
	struct chan_case cases[] = {
		CASE(a, CHAN_RECV, &ga),
		CASE(b, CHAN_RECV, &gb),
	};
	struct op s = { .kind = OP_SELECT, .cases = cases, .ncases = 2 };

	op_start(&s);
	op_wait_blocked(&s);
	ck_assert_int_eq(chan_close(b), 0);
	op_join(&s);
	ck_assert_int_eq(s.err, 1);
	ck_assert_int_eq(cases[1].err, EPIPE);
	ck_assert_int_eq(gb, -1);
	ck_assert_int_eq(ga, -1);
	chan_destroy(a);
	chan_destroy(b);
}
END_TEST

/* A select blocked on a send is woken by a close: EPIPE, nothing sent. */
START_TEST(blocked_select_woken_by_close_of_send_channel)
{
	chan_t *a = new_chan(sizeof(int), 1, CHAN_BLOCK);
	chan_t *r = new_chan(sizeof(int), 1, CHAN_BLOCK);
	int xa = 47, g = -1;
	struct chan_case cases[] = {
		CASE(r, CHAN_RECV, &g),
		CASE(a, CHAN_SEND, &xa),
	};
	struct op s = { .kind = OP_SELECT, .cases = cases, .ncases = 2 };

	put(a, 1);
	op_start(&s);
	op_wait_blocked(&s);
	ck_assert_int_eq(chan_close(a), 0);
	op_join(&s);
	ck_assert_int_eq(s.err, 1);
	ck_assert_int_eq(cases[1].err, EPIPE);
	ck_assert_int_eq(take(a), 1);
	ck_assert_int_eq(chan_tryrecv(a, NULL), EPIPE);
	chan_destroy(a);
	chan_destroy(r);
}
END_TEST

/* A timedselect with a far deadline is woken by a send before it. */
START_TEST(timedselect_woken_before_deadline)
{
	chan_t *a = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct timespec dl = deadline_in(60000);
	int g = -1, v = 48;
	struct chan_case cases[] = { CASE(a, CHAN_RECV, &g) };
	struct op s = { .kind = OP_TIMEDSELECT, .cases = cases, .ncases = 1,
	    .abstime = &dl };

	op_start(&s);
	op_wait_blocked(&s);
	ck_assert_int_eq(chan_send(a, &v), 0);
	op_join(&s);
	ck_assert_int_eq(s.err, 0);
	ck_assert_int_eq(g, 48);
	chan_destroy(a);
}
END_TEST

/* A select over an unbuffered and a buffered channel takes either kind. */
START_TEST(select_mixes_buffered_and_unbuffered)
{
	chan_t *u = new_chan(sizeof(int), 0, CHAN_BLOCK);
	chan_t *b = new_chan(sizeof(int), 4, CHAN_BLOCK);
	int gu = -1, gb = -1, v = 49;
	struct chan_case cases[] = {
		CASE(u, CHAN_RECV, &gu),
		CASE(b, CHAN_RECV, &gb),
	};
	struct op s = { .kind = OP_SELECT, .cases = cases, .ncases = 2 };

	/* First the unbuffered side completes it... */
	op_start(&s);
	op_wait_blocked(&s);
	ck_assert_int_eq(chan_send(u, &v), 0);
	op_join(&s);
	ck_assert_int_eq(s.err, 0);
	ck_assert_int_eq(gu, 49);
	/* ... then the buffered one. */
	gu = -1;
	op_start(&s);
	op_wait_blocked(&s);
	put(b, 50);
	op_join(&s);
	ck_assert_int_eq(s.err, 1);
	ck_assert_int_eq(gb, 50);
	ck_assert_int_eq(gu, -1);
	chan_destroy(u);
	chan_destroy(b);
}
END_TEST

/* Two senders blocked on two unbuffered channels: a select takes from one. */
START_TEST(select_takes_from_exactly_one_waiting_sender)
{
	chan_t *a = new_chan(sizeof(int), 0, CHAN_BLOCK);
	chan_t *b = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct op sa = { .kind = OP_SEND, .ch = a, .val = 51 };
	struct op sb = { .kind = OP_SEND, .ch = b, .val = 52 };
	int g[2] = { -1, -1 }, idx, v = -1;
	struct chan_case cases[] = {
		CASE(a, CHAN_RECV, &g[0]),
		CASE(b, CHAN_RECV, &g[1]),
	};
	struct op *other;

	op_start(&sa);
	op_start(&sb);
	op_wait_blocked(&sa);
	op_wait_blocked(&sb);
	while (tryselect_errno(cases, 2, &idx) == EAGAIN)
		sched_yield();
	ck_assert(idx == 0 || idx == 1);
	ck_assert_int_eq(g[idx], 51 + idx);
	ck_assert_int_eq(g[1 - idx], -1);
	/* The other sender was left waiting, its element undelivered. */
	other = idx == 0 ? &sb : &sa;
	ck_assert_int_eq(chan_recv(other->ch, &v), 0);
	ck_assert_int_eq(v, 52 - idx);
	op_join(&sa);
	op_join(&sb);
	ck_assert_int_eq(sa.err, 0);
	ck_assert_int_eq(sb.err, 0);
	chan_destroy(a);
	chan_destroy(b);
}
END_TEST

/*
 * Two waiters asleep on one side of a buffered channel a, queued in
 * turn: first a select (its case on a, and one on a channel nothing
 * happens to), then a plain call or another such select.  One batch call
 * from the main thread then makes two elements or two slots ready at
 * once.  The channel wakes only its first sleeper, the select, to retry
 * (no sleeper is woken while one woken earlier has yet to run); the
 * select takes one and must pass the wake-up on as it leaves, or the
 * second waiter sleeps beside the other for good, since nothing else
 * comes to wake it.  The cancellation tests and select_soak reach that
 * hand-on only by chance; here it is every round.
 */
static void
select_woken_to_retry_passes_it_on(enum chan_op op, bool second_selects)
{
	int round, i, v[2], got[2], g[2], idle_v = -1;
	struct chan_case cases[2][2];
	struct op w[2];
	chan_t *a, *idle;
	size_t n;

	for (round = 0; round < 5; round++) {
		a = new_chan(sizeof(int), 2, CHAN_BLOCK);
		idle = new_chan(sizeof(int), 1, CHAN_BLOCK);
		if (op == CHAN_SEND) {
			put(a, 1);	/* both full: the senders wait */
			put(a, 2);
			put(idle, 3);
		}
		for (i = 0; i < 2; i++) {
			g[i] = op == CHAN_SEND ? 10 + i : -1;
			cases[i][0] = CASE(a, op, &g[i]);
			cases[i][1] = CASE(idle, op, &idle_v);
			if (i == 0 || second_selects)
				w[i] = (struct op){ .kind = OP_SELECT,
				    .cases = cases[i], .ncases = 2 };
			else
				w[i] = (struct op){ .kind = op == CHAN_SEND ?
				    OP_SEND : OP_RECV, .ch = a, .val = g[i] };
			op_start(&w[i]);
			op_wait_blocked(&w[i]);	/* queued before the next */
		}
		if (op == CHAN_SEND) {
			ck_assert_int_eq(chan_recvn(a, got, 2, &n), 0);
			ck_assert_int_eq(got[0] * 10 + got[1], 12);
		} else {
			got[0] = 1;
			got[1] = 2;
			ck_assert_int_eq(chan_sendn(a, got, 2, &n), 0);
		}
		ck_assert_uint_eq(n, 2);
		for (i = 0; i < 2; i++) {
			op_join(&w[i]);
			ck_assert_int_eq(w[i].err, 0);
		}
		ck_assert_int_eq(cases[0][0].err, 0);
		if (op == CHAN_SEND) {
			/* Both elements went in, in either order. */
			v[0] = take(a);
			v[1] = take(a);
			ck_assert_int_eq(v[0] + v[1], 21);
			ck_assert_int_eq(take(idle), 3);
		} else {
			ck_assert_int_eq(g[0] + (second_selects ? g[1] :
			    w[1].val), 3);
			ck_assert_int_eq(idle_v, -1);
		}
		ck_assert_uint_eq(chan_len(a), 0);
		ck_assert_uint_eq(chan_len(idle), 0);
		chan_destroy(a);
		chan_destroy(idle);
	}
}

START_TEST(select_woken_to_receive_passes_the_wake_up_on)
{
	select_woken_to_retry_passes_it_on(CHAN_RECV, false);
	select_woken_to_retry_passes_it_on(CHAN_RECV, true);
}
END_TEST

START_TEST(select_woken_to_send_passes_the_wake_up_on)
{
	select_woken_to_retry_passes_it_on(CHAN_SEND, false);
	select_woken_to_retry_passes_it_on(CHAN_SEND, true);
}
END_TEST

struct pair_arg {
	chan_t	*ch;
	int	 val;
	int	 err;
};

static void *
pair_sender(void *p)
{
	struct pair_arg *a = p;

	a->err = chan_send(a->ch, &a->val);
	return NULL;
}

/* A blocked select raced by sends on both its channels completes only one. */
START_TEST(racing_sends_complete_exactly_one_case)
{
	chan_t *a = new_chan(sizeof(int), 0, CHAN_BLOCK);
	chan_t *b = new_chan(sizeof(int), 0, CHAN_BLOCK);
	int round, g[2], v, idx;
	struct chan_case cases[2];
	struct pair_arg pa, pb;
	struct op s;
	pthread_t ta, tb;

	for (round = 0; round < 100; round++) {
		g[0] = g[1] = -1;
		cases[0] = CASE(a, CHAN_RECV, &g[0]);
		cases[1] = CASE(b, CHAN_RECV, &g[1]);
		s = (struct op){ .kind = OP_SELECT, .cases = cases,
		    .ncases = 2 };
		pa = (struct pair_arg){ a, 1000 + round, -1 };
		pb = (struct pair_arg){ b, 2000 + round, -1 };
		op_start(&s);
		ck_assert_int_eq(pthread_create(&ta, NULL, pair_sender, &pa),
		    0);
		ck_assert_int_eq(pthread_create(&tb, NULL, pair_sender, &pb),
		    0);
		op_join(&s);
		idx = s.err;
		ck_assert(idx == 0 || idx == 1);
		ck_assert_int_eq(g[1 - idx], -1);
		ck_assert_int_eq(g[idx], idx == 0 ? pa.val : pb.val);
		/* The loser's element is still there for us, once. */
		ck_assert_int_eq(chan_recv(idx == 0 ? b : a, &v), 0);
		ck_assert_int_eq(v, idx == 0 ? pb.val : pa.val);
		ck_assert_int_eq(pthread_join(ta, NULL), 0);
		ck_assert_int_eq(pthread_join(tb, NULL), 0);
		ck_assert_int_eq(pa.err, 0);
		ck_assert_int_eq(pb.err, 0);
		ck_assert_int_eq(chan_tryrecv(a, &v), EAGAIN);
		ck_assert_int_eq(chan_tryrecv(b, &v), EAGAIN);
	}
	chan_destroy(a);
	chan_destroy(b);
}
END_TEST

/* tryselect with a send case succeeds once a receiver waits (unbuffered). */
START_TEST(tryselect_send_succeeds_with_waiting_receiver)
{
	chan_t *u = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct op r = { .kind = OP_RECV, .ch = u, .val = -1 };
	int x = 53, idx;
	struct chan_case cases[] = { CASE(u, CHAN_SEND, &x) };

	ck_assert_int_eq(tryselect_errno(cases, 1, &idx), EAGAIN);
	op_start(&r);
	while (tryselect_errno(cases, 1, &idx) == EAGAIN)
		sched_yield();
	ck_assert_int_eq(idx, 0);
	ck_assert_int_eq(cases[0].err, 0);
	op_join(&r);
	ck_assert_int_eq(r.err, 0);
	ck_assert_int_eq(r.val, 53);
	chan_destroy(u);
}
END_TEST

/* A tryselect send case pairs with a receive case of another blocked select. */
START_TEST(tryselect_pairs_with_blocked_select)
{
	chan_t *u = new_chan(sizeof(int), 0, CHAN_BLOCK);
	chan_t *other = new_chan(sizeof(int), 0, CHAN_BLOCK);
	int got = -1, junk = -1, x = 54, idx;
	struct chan_case theirs[] = {
		CASE(other, CHAN_RECV, &junk),
		CASE(u, CHAN_RECV, &got),
	};
	struct chan_case mine[] = { CASE(u, CHAN_SEND, &x) };
	struct op s = { .kind = OP_SELECT, .cases = theirs, .ncases = 2 };

	op_start(&s);
	while (tryselect_errno(mine, 1, &idx) == EAGAIN)
		sched_yield();
	ck_assert_int_eq(idx, 0);
	op_join(&s);
	ck_assert_int_eq(s.err, 1);
	ck_assert_int_eq(got, 54);
	ck_assert_int_eq(junk, -1);
	chan_destroy(u);
	chan_destroy(other);
}
END_TEST

/* ------------------------------------------------------------ locks */

/* Two lock channels, one held: select acquires whichever is free. */
START_TEST(select_acquires_the_free_lock)
{
	chan_t *l[2];
	int i, held;
	struct chan_case cases[2];

	for (i = 0; i < 2; i++) {
		l[i] = new_chan(0, 1, CHAN_BLOCK);
		ck_assert_int_eq(chan_send(l[i], NULL), 0);
		cases[i] = CASE(l[i], CHAN_RECV, NULL);
	}
	for (held = 0; held < 2; held++) {
		ck_assert_int_eq(chan_recv(l[held], NULL), 0);
		ck_assert_int_eq(chan_select(cases, 2), 1 - held);
		ck_assert_int_eq(tryselect_errno(cases, 2, &i), EAGAIN);
		ck_assert_int_eq(chan_send(l[0], NULL), 0);
		ck_assert_int_eq(chan_send(l[1], NULL), 0);
	}
	for (i = 0; i < 2; i++)
		chan_destroy(l[i]);
}
END_TEST

/* A select blocked on two held locks acquires the first one released. */
START_TEST(select_acquires_lock_when_released)
{
	chan_t *l[2];
	int i;
	struct chan_case cases[2];
	struct op s = { .kind = OP_SELECT, .cases = cases, .ncases = 2 };

	for (i = 0; i < 2; i++) {
		l[i] = new_chan(0, 1, CHAN_BLOCK);
		cases[i] = CASE(l[i], CHAN_RECV, NULL);
	}
	op_start(&s);
	op_wait_blocked(&s);
	ck_assert_int_eq(chan_send(l[1], NULL), 0);	/* release lock 1 */
	op_join(&s);
	ck_assert_int_eq(s.err, 1);
	ck_assert_uint_eq(chan_len(l[1]), 0);
	for (i = 0; i < 2; i++)
		chan_destroy(l[i]);
}
END_TEST

struct lock_arg {
	chan_t		**locks;
	atomic_int	*holders;	/* per lock */
	atomic_int	*violations;
	long		*counters;	/* per lock, guarded by that lock */
	int		 iters;
	int		 err;
};

static void *
lock_worker(void *p)
{
	struct lock_arg *a = p;
	struct chan_case cases[2];
	int i, idx;

	a->err = 0;
	for (i = 0; i < a->iters; i++) {
		cases[0] = CASE(a->locks[0], CHAN_RECV, NULL);
		cases[1] = CASE(a->locks[1], CHAN_RECV, NULL);
		if ((idx = chan_select(cases, 2)) < 0 ||
		    cases[idx].err != 0) {
			a->err = idx < 0 ? errno : cases[idx].err;
			break;
		}
		if (atomic_fetch_add(&a->holders[idx], 1) != 0)
			atomic_fetch_add(a->violations, 1);
		a->counters[idx]++;
		if (i % 16 == 0)
			sched_yield();
		atomic_fetch_sub(&a->holders[idx], 1);
		if ((a->err = chan_send(a->locks[idx], NULL)) != 0)
			break;
	}
	return NULL;
}

/* Threads taking either of two locks by select never share one. */
START_TEST(select_over_two_locks_excludes_per_lock)
{
	enum { T = 4, ITERS = 1500 };
	chan_t *l[2];
	atomic_int holders[2], violations;
	long counters[2] = { 0, 0 };
	struct lock_arg a[T];
	pthread_t t[T];
	int i;

	for (i = 0; i < 2; i++) {
		l[i] = new_chan(0, 1, CHAN_BLOCK);
		ck_assert_int_eq(chan_send(l[i], NULL), 0);
		atomic_init(&holders[i], 0);
	}
	atomic_init(&violations, 0);
	for (i = 0; i < T; i++) {
		a[i] = (struct lock_arg){ l, holders, &violations, counters,
		    ITERS, -1 };
		ck_assert_int_eq(pthread_create(&t[i], NULL, lock_worker,
		    &a[i]), 0);
	}
	for (i = 0; i < T; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	for (i = 0; i < T; i++)
		ck_assert_int_eq(a[i].err, 0);
	ck_assert_int_eq(atomic_load(&violations), 0);
	ck_assert_int_eq(counters[0] + counters[1], T * ITERS);
	for (i = 0; i < 2; i++) {
		ck_assert_uint_eq(chan_len(l[i]), 1);
		chan_destroy(l[i]);
	}
}
END_TEST

/* ------------------------------------------------------------------- main */

static Suite *
select_suite(void)
{
	Suite *s = suite_create("select");
	TCase *tc;

	tc = tcase_create("arguments");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, unknown_op_fails_einval_even_with_ready_case);
	tcase_add_test(tc, null_send_elem_fails_einval_even_with_ready_case);
	tcase_add_test(tc, bad_case_after_ready_send_sends_nothing);
	tcase_add_test(tc, null_send_elem_on_elem_size_zero_is_valid);
	tcase_add_test(tc, timedselect_bad_deadline_fails_einval);
	suite_add_tcase(s, tc);

	tc = tcase_create("no_enabled_case");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, select_without_enabled_case_fails_edeadlk);
	tcase_add_test(tc, tryselect_without_enabled_case_fails_eagain);
	tcase_add_test(tc,
	    timedselect_without_enabled_case_null_deadline_fails_edeadlk);
	tcase_add_test(tc,
	    timedselect_without_enabled_case_sleeps_until_deadline);
	suite_add_tcase(s, tc);

	tc = tcase_create("basics");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, ready_recv_case_completes);
	tcase_add_test(tc, ready_send_case_completes);
	tcase_add_test(tc, exactly_one_recv_case_completes);
	tcase_add_test(tc, exactly_one_send_case_completes);
	tcase_add_test(tc, tryselect_nothing_ready_fails_eagain);
	tcase_add_test(tc, timedselect_times_out);
	tcase_add_test(tc, timedselect_past_deadline_acts_as_try);
	tcase_add_test(tc, recv_case_on_closed_drained_channel_is_ready_epipe);
	tcase_add_test(tc, recv_case_on_closed_channel_drains_first);
	tcase_add_test(tc, send_case_on_closed_channel_is_ready_epipe);
	tcase_add_test(tc,
	    send_case_on_closed_unbuffered_channel_is_ready_epipe);
	tcase_add_test(tc, null_channel_case_is_never_chosen);
	tcase_add_test(tc, recv_case_null_elem_discards);
	tcase_add_test(tc, unbuffered_recv_case_null_elem_discards);
	suite_add_tcase(s, tc);

	tc = tcase_create("same_channel");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, same_buffered_channel_for_send_and_recv);
	tcase_add_test(tc, same_channel_in_two_recv_cases);
	tcase_add_test(tc, select_never_pairs_own_send_and_recv);
	tcase_add_test(tc,
	    select_on_own_send_and_recv_pairs_with_outside_receiver);
	tcase_add_test(tc,
	    select_on_own_send_and_recv_pairs_with_outside_sender);
	tcase_add_test(tc, two_selects_on_same_unbuffered_channel_pair);
	suite_add_tcase(s, tc);

	tc = tcase_create("fairness");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, choice_is_uniform_among_ready_cases_after_unready);
	tcase_add_test(tc, choice_is_uniform_among_four_ready_buffered);
	tcase_add_test(tc, choice_is_uniform_among_ready_cases_of_a_big_select);
	suite_add_tcase(s, tc);

	tc = tcase_create("blocking");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, blocked_select_woken_by_send);
	tcase_add_test(tc, blocked_select_woken_by_unbuffered_send);
	tcase_add_test(tc, blocked_select_woken_by_recv);
	tcase_add_test(tc, blocked_select_woken_by_unbuffered_recv);
	tcase_add_test(tc, blocked_select_woken_by_close_of_recv_channel);
	tcase_add_test(tc, blocked_select_woken_by_close_of_send_channel);
	tcase_add_test(tc, timedselect_woken_before_deadline);
	tcase_add_test(tc, select_mixes_buffered_and_unbuffered);
	tcase_add_test(tc, select_takes_from_exactly_one_waiting_sender);
	tcase_add_test(tc, racing_sends_complete_exactly_one_case);
	tcase_add_test(tc, select_woken_to_receive_passes_the_wake_up_on);
	tcase_add_test(tc, select_woken_to_send_passes_the_wake_up_on);
	tcase_add_test(tc, tryselect_send_succeeds_with_waiting_receiver);
	tcase_add_test(tc, tryselect_pairs_with_blocked_select);
	suite_add_tcase(s, tc);

	tc = tcase_create("locks");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, select_acquires_the_free_lock);
	tcase_add_test(tc, select_acquires_lock_when_released);
	tcase_add_test(tc, select_over_two_locks_excludes_per_lock);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(select_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
