/*
 * Check suite for a single channel: create/destroy/close, the send and
 * receive calls in their plain, try and timed forms, the buffer policies,
 * chan_len/chan_cap, the batch calls and the argument checks of API.md.
 * One behaviour per test; selects live in check_select.c.
 */
#define _GNU_SOURCE 1	/* syscall(2) for testutil.h; sched_getaffinity */

#include <limits.h>
#include <stdint.h>

#include "testutil.h"
#include "internal.h"	/* chan__looks_ready, for the hint tests */

#ifdef __GLIBC__
#include <malloc.h>	/* mallopt, mallinfo2 */
#endif

/* Under a sanitizer, a huge allocation must fail with NULL, as libc does. */
const char *__asan_default_options(void);
const char *__tsan_default_options(void);

const char *
__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

const char *
__tsan_default_options(void)
{
	return "allocator_may_return_null=1";
}

static const enum chan_policy policies[] = { CHAN_BLOCK, CHAN_DROP,
    CHAN_SLIDE };

/* ---------------------------------------------------------------- create */

/* A buffered channel reports the capacity it was given and starts empty. */
START_TEST(create_buffered_reports_cap_and_empty_len)
{
	chan_t *ch = new_chan(sizeof(int), 5, CHAN_BLOCK);

	ck_assert_uint_eq(chan_cap(ch), 5);
	ck_assert_uint_eq(chan_len(ch), 0);
	chan_destroy(ch);
}
END_TEST

/* Capacity 0 creates an unbuffered channel with cap 0, for every size. */
START_TEST(create_unbuffered_reports_cap_zero)
{
	chan_t *a = new_chan(sizeof(int), 0, CHAN_BLOCK);
	chan_t *b = new_chan(0, 0, CHAN_BLOCK);

	ck_assert_uint_eq(chan_cap(a), 0);
	ck_assert_uint_eq(chan_len(a), 0);
	ck_assert_uint_eq(chan_cap(b), 0);
	chan_destroy(a);
	chan_destroy(b);
}
END_TEST

/* DROP and SLIDE channels with room are created like BLOCK ones. */
START_TEST(create_drop_and_slide_with_capacity)
{
	chan_t *d = new_chan(sizeof(int), 1, CHAN_DROP);
	chan_t *s = new_chan(sizeof(int), 3, CHAN_SLIDE);

	ck_assert_uint_eq(chan_cap(d), 1);
	ck_assert_uint_eq(chan_cap(s), 3);
	chan_destroy(d);
	chan_destroy(s);
}
END_TEST

/* A policy outside the enum fails with EINVAL. */
START_TEST(create_unknown_policy_fails_einval)
{
	errno = 0;
	ck_assert_ptr_null(chan_create(sizeof(int), 4, (enum chan_policy)3));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(chan_create(sizeof(int), 4, (enum chan_policy)-1));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* CHAN_DROP needs a buffer to drop from: capacity 0 fails with EINVAL. */
START_TEST(create_drop_with_capacity_zero_fails_einval)
{
	errno = 0;
	ck_assert_ptr_null(chan_create(sizeof(int), 0, CHAN_DROP));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* CHAN_SLIDE needs a buffer to slide: capacity 0 fails with EINVAL. */
START_TEST(create_slide_with_capacity_zero_fails_einval)
{
	errno = 0;
	ck_assert_ptr_null(chan_create(sizeof(int), 0, CHAN_SLIDE));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* elem_size * capacity overflowing size_t fails with EINVAL, not ENOMEM. */
START_TEST(create_overflowing_size_fails_einval)
{
	errno = 0;
	ck_assert_ptr_null(chan_create(16, SIZE_MAX / 8, CHAN_BLOCK));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(chan_create(SIZE_MAX / 2 + 1, 2, CHAN_SLIDE));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(chan_create(SIZE_MAX, SIZE_MAX, CHAN_DROP));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* A request that fits size_t but no memory fails with ENOMEM. */
START_TEST(create_huge_not_overflowing_fails_enomem)
{
	errno = 0;
	ck_assert_ptr_null(chan_create(1, SIZE_MAX / 4, CHAN_BLOCK));
	ck_assert_int_eq(errno, ENOMEM);
	errno = 0;
	/* Over PTRDIFF_MAX, which no malloc grants, even with 32 bits. */
	ck_assert_ptr_null(chan_create(SIZE_MAX / 4, 3, CHAN_BLOCK));
	ck_assert_int_eq(errno, ENOMEM);
}
END_TEST

/* chan_destroy(NULL) does nothing. */
START_TEST(destroy_null_is_noop)
{
	chan_destroy(NULL);
}
END_TEST

/* Destroying a channel that still buffers elements frees it (ASan: leaks). */
START_TEST(destroy_with_buffered_elements)
{
	chan_t *ch = new_chan(sizeof(int), 4, CHAN_BLOCK);

	put(ch, 1);
	put(ch, 2);
	chan_destroy(ch);
}
END_TEST

/* chan_len and chan_cap of NULL are 0, as chan.h says. */
START_TEST(len_and_cap_of_null_are_zero)
{
	ck_assert_uint_eq(chan_len(NULL), 0);
	ck_assert_uint_eq(chan_cap(NULL), 0);
}
END_TEST

/* ------------------------------------------------------------- arguments */

/* Every send and receive form fails with EINVAL on a NULL channel. */
START_TEST(null_channel_fails_einval_everywhere)
{
	struct timespec dl = deadline_in(1000);
	int v[2] = { 1, 2 };
	size_t cnt;

	ck_assert_int_eq(chan_send(NULL, v), EINVAL);
	ck_assert_int_eq(chan_trysend(NULL, v), EINVAL);
	ck_assert_int_eq(chan_timedsend(NULL, v, &dl), EINVAL);
	ck_assert_int_eq(chan_timedsend(NULL, v, NULL), EINVAL);
	ck_assert_int_eq(chan_recv(NULL, v), EINVAL);
	ck_assert_int_eq(chan_tryrecv(NULL, v), EINVAL);
	ck_assert_int_eq(chan_timedrecv(NULL, v, &dl), EINVAL);
	ck_assert_int_eq(chan_timedrecv(NULL, v, NULL), EINVAL);
	ck_assert_int_eq(chan_sendn(NULL, v, 2, &cnt), EINVAL);
	ck_assert_int_eq(chan_trysendn(NULL, v, 2, &cnt), EINVAL);
	ck_assert_int_eq(chan_timedsendn(NULL, v, 2, &cnt, &dl), EINVAL);
	ck_assert_int_eq(chan_recvn(NULL, v, 2, &cnt), EINVAL);
	ck_assert_int_eq(chan_tryrecvn(NULL, v, 2, &cnt), EINVAL);
	ck_assert_int_eq(chan_timedrecvn(NULL, v, 2, &cnt, &dl), EINVAL);
}
END_TEST

/* A send of a NULL element where elem_size > 0 fails EINVAL, stores nothing. */
START_TEST(send_null_elem_fails_einval_and_stores_nothing)
{
	struct timespec dl = deadline_in(1000);
	chan_t *ch = new_chan(sizeof(int), 4, CHAN_BLOCK);
	size_t cnt = 99;

	ck_assert_int_eq(chan_send(ch, NULL), EINVAL);
	ck_assert_int_eq(chan_trysend(ch, NULL), EINVAL);
	ck_assert_int_eq(chan_timedsend(ch, NULL, &dl), EINVAL);
	ck_assert_int_eq(chan_sendn(ch, NULL, 2, &cnt), EINVAL);
	ck_assert_int_eq(chan_trysendn(ch, NULL, 2, &cnt), EINVAL);
	ck_assert_int_eq(chan_timedsendn(ch, NULL, 2, &cnt, &dl), EINVAL);
	ck_assert_uint_eq(chan_len(ch), 0);
	ck_assert_int_eq(chan_tryrecv(ch, NULL), EAGAIN);
	chan_destroy(ch);
}
END_TEST

/* A NULL element fails EINVAL on DROP and SLIDE channels too (full or not). */
START_TEST(send_null_elem_fails_einval_on_drop_and_slide)
{
	chan_t *d = new_chan(sizeof(int), 1, CHAN_DROP);
	chan_t *s = new_chan(sizeof(int), 1, CHAN_SLIDE);

	ck_assert_int_eq(chan_send(d, NULL), EINVAL);
	ck_assert_int_eq(chan_send(s, NULL), EINVAL);
	put(d, 5);
	put(s, 6);
	ck_assert_int_eq(chan_send(d, NULL), EINVAL);
	ck_assert_int_eq(chan_send(s, NULL), EINVAL);
	ck_assert_int_eq(take(d), 5);
	ck_assert_int_eq(take(s), 6);
	chan_destroy(d);
	chan_destroy(s);
}
END_TEST

/* A NULL element is checked before closing is: EINVAL, not EPIPE. */
START_TEST(send_null_elem_on_closed_channel_fails_einval)
{
	chan_t *ch = new_chan(sizeof(int), 4, CHAN_BLOCK);

	ck_assert_int_eq(chan_close(ch), 0);
	ck_assert_int_eq(chan_send(ch, NULL), EINVAL);
	ck_assert_int_eq(chan_trysend(ch, NULL), EINVAL);
	chan_destroy(ch);
}
END_TEST

/* A NULL element on an unbuffered channel leaves a receiver waiting. */
START_TEST(send_null_elem_leaves_waiting_receiver_waiting)
{
	chan_t *ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct op r = { .kind = OP_RECV, .ch = ch, .val = -1 };
	int v = 42;

	op_start(&r);
	op_wait_blocked(&r);
	ck_assert_int_eq(chan_trysend(ch, NULL), EINVAL);
	ck_assert_int_eq(chan_send(ch, NULL), EINVAL);
	ck_assert_int_eq(atomic_load(&r.returned), 0);
	ck_assert_int_eq(chan_send(ch, &v), 0);
	op_join(&r);
	ck_assert_int_eq(r.err, 0);
	ck_assert_int_eq(r.val, 42);
	chan_destroy(ch);
}
END_TEST

/* A deadline with tv_nsec < 0 fails EINVAL when the call would wait. */
START_TEST(timed_calls_with_negative_nsec_fail_einval)
{
	chan_t *full = new_chan(sizeof(int), 1, CHAN_BLOCK);
	chan_t *empty = new_chan(sizeof(int), 1, CHAN_BLOCK);
	struct timespec bad = deadline_in(1000);
	int v = 7;
	size_t cnt;

	bad.tv_nsec = -1;
	put(full, 1);
	ck_assert_int_eq(chan_timedsend(full, &v, &bad), EINVAL);
	ck_assert_int_eq(chan_timedsendn(full, &v, 1, &cnt, &bad), EINVAL);
	ck_assert_int_eq(chan_timedrecv(empty, &v, &bad), EINVAL);
	ck_assert_int_eq(chan_timedrecvn(empty, &v, 1, &cnt, &bad), EINVAL);
	/* Nothing changed: the full one still holds its element only. */
	ck_assert_uint_eq(chan_len(full), 1);
	ck_assert_int_eq(take(full), 1);
	ck_assert_uint_eq(chan_len(empty), 0);
	chan_destroy(full);
	chan_destroy(empty);
}
END_TEST

/* A deadline with tv_nsec >= 1e9 fails EINVAL when the call would wait. */
START_TEST(timed_calls_with_nsec_too_large_fail_einval)
{
	chan_t *full = new_chan(sizeof(int), 1, CHAN_BLOCK);
	chan_t *empty = new_chan(sizeof(int), 1, CHAN_BLOCK);
	chan_t *unbuf = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct timespec bad = deadline_in(1000);
	int v = 7;
	size_t cnt;

	bad.tv_nsec = NSEC_PER_SEC;
	put(full, 1);
	ck_assert_int_eq(chan_timedsend(full, &v, &bad), EINVAL);
	ck_assert_int_eq(chan_timedsendn(full, &v, 1, &cnt, &bad), EINVAL);
	ck_assert_int_eq(chan_timedrecv(empty, &v, &bad), EINVAL);
	ck_assert_int_eq(chan_timedrecvn(empty, &v, 1, &cnt, &bad), EINVAL);
	ck_assert_int_eq(chan_timedsend(unbuf, &v, &bad), EINVAL);
	ck_assert_int_eq(chan_timedrecv(unbuf, &v, &bad), EINVAL);
	ck_assert_uint_eq(chan_len(full), 1);
	ck_assert_int_eq(take(full), 1);
	chan_destroy(full);
	chan_destroy(empty);
	chan_destroy(unbuf);
}
END_TEST

/* Channel calls return their error and leave errno alone, as pthreads do. */
START_TEST(channel_calls_leave_errno_alone)
{
	chan_t *ch = new_chan(sizeof(int), 1, CHAN_BLOCK);
	struct timespec past = deadline_past();
	int v = 1;
	size_t cnt;

	errno = 12345;
	ck_assert_int_eq(chan_tryrecv(ch, &v), EAGAIN);
	ck_assert_int_eq(chan_timedrecv(ch, &v, &past), ETIMEDOUT);
	ck_assert_int_eq(chan_send(ch, NULL), EINVAL);
	ck_assert_int_eq(chan_send(NULL, &v), EINVAL);
	ck_assert_int_eq(chan_trysend(ch, &v), 0);
	ck_assert_int_eq(chan_trysendn(ch, &v, 1, &cnt), EAGAIN);
	ck_assert_int_eq(chan_close(ch), 0);
	ck_assert_int_eq(chan_close(ch), EPIPE);
	ck_assert_int_eq(chan_close(NULL), EINVAL);
	ck_assert_int_eq(chan_send(ch, &v), EPIPE);
	ck_assert_int_eq(errno, 12345);
	chan_destroy(ch);
}
END_TEST

/* ------------------------------------------------------------ send, recv */

/* An element is copied by value: changing the source later changes nothing. */
START_TEST(send_copies_element_by_value)
{
	struct rec { int a; double b; char c[5]; } in = { 1, 2.5, "abcd" }, out;
	chan_t *ch = new_chan(sizeof(struct rec), 2, CHAN_BLOCK);

	ck_assert_int_eq(chan_send(ch, &in), 0);
	in.a = 99;
	memcpy(in.c, "zzzz", 5);
	memset(&out, 0, sizeof(out));
	ck_assert_int_eq(chan_recv(ch, &out), 0);
	ck_assert_int_eq(out.a, 1);
	ck_assert(out.b == 2.5);
	ck_assert_str_eq(out.c, "abcd");
	chan_destroy(ch);
}
END_TEST

/* Receives return the oldest element first, across the ring's wrap-around. */
START_TEST(recv_is_fifo_across_wraparound)
{
	chan_t *ch = new_chan(sizeof(int), 3, CHAN_BLOCK);
	int next_in = 0, next_out = 0, round;

	for (round = 0; round < 10; round++) {
		while (chan_len(ch) < 3)
			put(ch, next_in++);
		ck_assert_int_eq(take(ch), next_out++);
		ck_assert_int_eq(take(ch), next_out++);
	}
	while (chan_len(ch) > 0)
		ck_assert_int_eq(take(ch), next_out++);
	ck_assert_int_eq(next_out, next_in);
	chan_destroy(ch);
}
END_TEST

/* chan_len counts what is buffered after each send and receive. */
START_TEST(len_tracks_sends_and_recvs)
{
	chan_t *ch = new_chan(sizeof(int), 4, CHAN_BLOCK);

	put(ch, 1);
	ck_assert_uint_eq(chan_len(ch), 1);
	put(ch, 2);
	put(ch, 3);
	ck_assert_uint_eq(chan_len(ch), 3);
	(void)take(ch);
	ck_assert_uint_eq(chan_len(ch), 2);
	put(ch, 4);
	put(ch, 5);
	ck_assert_uint_eq(chan_len(ch), 4);
	ck_assert_uint_eq(chan_cap(ch), 4);
	chan_destroy(ch);
}
END_TEST

/* trysend on a full CHAN_BLOCK channel fails EAGAIN and stores nothing. */
START_TEST(trysend_on_full_channel_fails_eagain)
{
	chan_t *ch = new_chan(sizeof(int), 2, CHAN_BLOCK);
	int v = 3;

	put(ch, 1);
	put(ch, 2);
	ck_assert_int_eq(chan_trysend(ch, &v), EAGAIN);
	ck_assert_uint_eq(chan_len(ch), 2);
	ck_assert_int_eq(take(ch), 1);
	ck_assert_int_eq(take(ch), 2);
	ck_assert_int_eq(chan_tryrecv(ch, &v), EAGAIN);
	chan_destroy(ch);
}
END_TEST

/* tryrecv on an empty channel fails EAGAIN and leaves elem alone. */
START_TEST(tryrecv_on_empty_channel_fails_eagain)
{
	chan_t *ch = new_chan(sizeof(int), 2, CHAN_BLOCK);
	int v = 77;

	ck_assert_int_eq(chan_tryrecv(ch, &v), EAGAIN);
	ck_assert_int_eq(v, 77);
	chan_destroy(ch);
}
END_TEST

/*
 * timedsend on a full channel fails ETIMEDOUT, not before its deadline,
 * and leaves errno alone (calls on a channel never set it).
 */
START_TEST(timedsend_on_full_channel_times_out)
{
	chan_t *ch = new_chan(sizeof(int), 1, CHAN_BLOCK);
	struct timespec dl;
	int v = 2;

	put(ch, 1);
	dl = deadline_in(20);
	errno = OP_ERRNO_MARK;
	ck_assert_int_eq(chan_timedsend(ch, &v, &dl), ETIMEDOUT);
	ck_assert_int_eq(errno, OP_ERRNO_MARK);
	ck_assert(reached(&dl));
	ck_assert_uint_eq(chan_len(ch), 1);
	ck_assert_int_eq(take(ch), 1);
	chan_destroy(ch);
}
END_TEST

/* A timedrecv on an empty channel times out, as below. */
static void
timedrecv_times_out(void)
{
	chan_t *ch = new_chan(sizeof(int), 1, CHAN_BLOCK);
	struct timespec dl = deadline_in(20);
	int v = 5;

	errno = OP_ERRNO_MARK;
	ck_assert_int_eq(chan_timedrecv(ch, &v, &dl), ETIMEDOUT);
	ck_assert_int_eq(errno, OP_ERRNO_MARK);
	ck_assert(reached(&dl));
	ck_assert_int_eq(v, 5);
	chan_destroy(ch);
}

/* The same for timedrecv on an empty channel. */
START_TEST(timedrecv_on_empty_channel_times_out)
{
	timedrecv_times_out();
}
END_TEST

/*
 * The same under contention: threads that find a side's lock held sleep
 * on it, and the futex wait that finds the lock changed hands meanwhile
 * fails with EAGAIN inside the library; errno must not show it.
 */
#define ERRNO_THREADS	4
#define ERRNO_ROUNDS	50000

static void *
errno_hammer(void *p)
{
	chan_t *ch = p;
	int i, v = 1, changed = 0;

	for (i = 0; i < ERRNO_ROUNDS; i++) {
		errno = OP_ERRNO_MARK;
		(void)chan_trysend(ch, &v);
		(void)chan_tryrecv(ch, &v);
		changed += errno != OP_ERRNO_MARK;
	}
	return (void *)(intptr_t)changed;
}

START_TEST(contended_ops_leave_errno_alone)
{
	chan_t *ch = new_chan(sizeof(int), 4, CHAN_BLOCK);
	pthread_t t[ERRNO_THREADS];
	void *changed;
	int i, total = 0;

	for (i = 0; i < ERRNO_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, errno_hammer, ch),
		    0);
	for (i = 0; i < ERRNO_THREADS; i++) {
		ck_assert_int_eq(pthread_join(t[i], &changed), 0);
		total += (int)(intptr_t)changed;
	}
	ck_assert_msg(total == 0, "errno changed by %d calls", total);
	chan_destroy(ch);
}
END_TEST

/*
 * CHAN_SPIN_NS is read once, by the first wait in the process (chan(7)).
 * One too large for an unsigned long must neither overflow into a spin of
 * hours (the test then times out; capped, the wait spins a second) nor
 * leave strtoul's ERANGE in errno.  Only the first wait of a process reads
 * it, so this checks something only when Check runs the test in a process
 * of its own, as make check does.
 */
START_TEST(huge_spin_setting_is_harmless)
{
	ck_assert_int_eq(setenv("CHAN_SPIN_NS",
	    "99999999999999999999999999999", 1), 0);
	timedrecv_times_out();
}
END_TEST

/*
 * A program that has taken every thread-specific key before its first
 * wait still gets working waits (the library's key only frees a thread's
 * waiter at its exit).  Like the test above, it checks something only as
 * the first wait of its process.
 */
START_TEST(waits_work_without_a_thread_key)
{
	static pthread_key_t keys[4096];
	chan_t *ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct timespec dl = deadline_in(5);
	struct op r = { .kind = OP_RECV, .ch = ch, .val = -1 };
	size_t n = 0, i;
	int v = 7;

	while (n < 4096 && pthread_key_create(&keys[n], NULL) == 0)
		n++;
	ck_assert_uint_lt(n, 4096);	/* they did run out */
	ck_assert_int_eq(chan_timedrecv(ch, &v, &dl), ETIMEDOUT);
	op_start(&r);
	ck_assert_int_eq(chan_send(ch, &v), 0);
	op_join(&r);
	ck_assert_int_eq(r.err, 0);
	ck_assert_int_eq(r.val, 7);
	for (i = 0; i < n; i++)
		pthread_key_delete(keys[i]);
	chan_destroy(ch);
}
END_TEST

#ifdef __GLIBC__
struct first_wait {
	chan_t			*ch;
	size_t			 allocated;	/* by its first wait */
	int			 err;
};

static void *
first_wait_main(void *arg)
{
	struct first_wait *f = arg;
	struct timespec dl = deadline_in(2);
	size_t before;
	int v;

	before = mallinfo2().uordblks;
	f->err = chan_timedrecv(f->ch, &v, &dl);
	f->allocated = mallinfo2().uordblks - before;
	return NULL;
}

/*
 * A thread's first wait allocates nothing, not even inside the C library:
 * glibc's pthread_setspecific allocates for a key past the first 32, and a
 * program that uses a few libraries easily has that many.  One malloc
 * arena, so that mallinfo2 sees what the waiting thread allocates.  Like
 * the test above, it checks something only as the first wait of its
 * process (and the library's first key).
 */
START_TEST(first_wait_allocates_nothing_with_many_thread_keys)
{
	static pthread_key_t keys[40];
	struct first_wait f = { .err = -1 };
	pthread_t t;
	size_t i;

	(void)mallopt(M_ARENA_MAX, 1);	/* sanitizers may not do it */
	for (i = 0; i < 40; i++)
		ck_assert_int_eq(pthread_key_create(&keys[i], NULL), 0);
	f.ch = new_chan(sizeof(int), 1, CHAN_BLOCK);
	ck_assert_int_eq(pthread_create(&t, NULL, first_wait_main, &f), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(f.err, ETIMEDOUT);
	ck_assert_msg(f.allocated == 0, "the first wait allocated %zu bytes",
	    f.allocated);
	for (i = 0; i < 40; i++)
		pthread_key_delete(keys[i]);
	chan_destroy(f.ch);
}
END_TEST
#endif

/* A past deadline makes timedsend a trysend that reports ETIMEDOUT. */
START_TEST(timedsend_past_deadline_acts_as_try)
{
	chan_t *ch = new_chan(sizeof(int), 1, CHAN_BLOCK);
	struct timespec past = deadline_past(), origin = { 0, 0 };
	int v = 8;

	ck_assert_int_eq(chan_timedsend(ch, &v, &past), 0);
	ck_assert_int_eq(chan_timedsend(ch, &v, &past), ETIMEDOUT);
	ck_assert_int_eq(chan_timedsend(ch, &v, &origin), ETIMEDOUT);
	ck_assert_uint_eq(chan_len(ch), 1);
	ck_assert_int_eq(take(ch), 8);
	chan_destroy(ch);
}
END_TEST

/* A past deadline makes timedrecv a tryrecv that reports ETIMEDOUT. */
START_TEST(timedrecv_past_deadline_acts_as_try)
{
	chan_t *ch = new_chan(sizeof(int), 1, CHAN_BLOCK);
	struct timespec past = deadline_past(), origin = { 0, 0 };
	int v = 0;

	ck_assert_int_eq(chan_timedrecv(ch, &v, &past), ETIMEDOUT);
	ck_assert_int_eq(chan_timedrecv(ch, &v, &origin), ETIMEDOUT);
	put(ch, 4);
	ck_assert_int_eq(chan_timedrecv(ch, &v, &past), 0);
	ck_assert_int_eq(v, 4);
	chan_destroy(ch);
}
END_TEST

/* A NULL deadline waits without limit: timedrecv gets a later send. */
START_TEST(timedrecv_null_deadline_waits_for_send)
{
	chan_t *ch = new_chan(sizeof(int), 1, CHAN_BLOCK);
	struct op r = { .kind = OP_TIMEDRECV, .ch = ch, .abstime = NULL };

	op_start(&r);
	op_wait_blocked(&r);
	put(ch, 31);
	op_join(&r);
	ck_assert_int_eq(r.err, 0);
	ck_assert_int_eq(r.val, 31);
	chan_destroy(ch);
}
END_TEST

/* Deadlines are CLOCK_MONOTONIC instants: one 30 ms ahead is not yet past. */
START_TEST(timed_deadline_is_on_clock_monotonic)
{
	chan_t *ch = new_chan(sizeof(int), 1, CHAN_BLOCK);
	struct timespec dl = deadline_in(30);
	int v;

	/*
	 * Read on CLOCK_REALTIME (decades past the boot-time origin of
	 * CLOCK_MONOTONIC), this deadline would be long past and the call
	 * would return at once: reached() below would then fail.
	 */
	ck_assert_int_eq(chan_timedrecv(ch, &v, &dl), ETIMEDOUT);
	ck_assert(reached(&dl));
	chan_destroy(ch);
}
END_TEST

/* A NULL deadline waits without limit: timedsend gets later room. */
START_TEST(timedsend_null_deadline_waits_for_room)
{
	chan_t *ch = new_chan(sizeof(int), 1, CHAN_BLOCK);
	struct op s = { .kind = OP_TIMEDSEND, .ch = ch, .val = 2,
	    .abstime = NULL };

	put(ch, 1);
	op_start(&s);
	op_wait_blocked(&s);
	ck_assert_int_eq(take(ch), 1);
	op_join(&s);
	ck_assert_int_eq(s.err, 0);
	ck_assert_int_eq(take(ch), 2);
	chan_destroy(ch);
}
END_TEST

/* A timedsend blocked on a full channel completes when room appears in time. */
START_TEST(timedsend_completes_when_room_appears)
{
	chan_t *ch = new_chan(sizeof(int), 1, CHAN_BLOCK);
	struct timespec dl = deadline_in(60000);
	struct op s = { .kind = OP_TIMEDSEND, .ch = ch, .val = 2,
	    .abstime = &dl };

	put(ch, 1);
	op_start(&s);
	op_wait_blocked(&s);
	ck_assert_int_eq(take(ch), 1);
	op_join(&s);
	ck_assert_int_eq(s.err, 0);
	ck_assert_int_eq(take(ch), 2);
	chan_destroy(ch);
}
END_TEST

/* A receive with elem NULL takes and discards the oldest element. */
START_TEST(recv_null_elem_discards)
{
	chan_t *ch = new_chan(sizeof(int), 4, CHAN_BLOCK);
	struct timespec dl = deadline_in(1000);

	put(ch, 1);
	put(ch, 2);
	put(ch, 3);
	put(ch, 4);
	ck_assert_int_eq(chan_recv(ch, NULL), 0);
	ck_assert_int_eq(chan_tryrecv(ch, NULL), 0);
	ck_assert_int_eq(chan_timedrecv(ch, NULL, &dl), 0);
	ck_assert_uint_eq(chan_len(ch), 1);
	ck_assert_int_eq(take(ch), 4);
	chan_destroy(ch);
}
END_TEST

/* An unbuffered receive with elem NULL still completes the rendezvous. */
START_TEST(unbuffered_recv_null_elem_discards)
{
	chan_t *ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct op s = { .kind = OP_SEND, .ch = ch, .val = 9 };

	op_start(&s);
	op_wait_blocked(&s);
	ck_assert_int_eq(chan_recv(ch, NULL), 0);
	op_join(&s);
	ck_assert_int_eq(s.err, 0);
	chan_destroy(ch);
}
END_TEST

/* An elem_size 0 channel carries signals: elem may be NULL, len counts them. */
START_TEST(elem_size_zero_buffered_counts_signals)
{
	chan_t *ch = new_chan(0, 3, CHAN_BLOCK);
	char dummy = 'x';

	ck_assert_int_eq(chan_send(ch, NULL), 0);
	ck_assert_int_eq(chan_trysend(ch, NULL), 0);
	ck_assert_int_eq(chan_send(ch, &dummy), 0);
	ck_assert_int_eq(chan_trysend(ch, NULL), EAGAIN);
	ck_assert_uint_eq(chan_len(ch), 3);
	ck_assert_int_eq(chan_recv(ch, NULL), 0);
	ck_assert_int_eq(chan_tryrecv(ch, &dummy), 0);
	ck_assert_int_eq(dummy, 'x');
	ck_assert_int_eq(chan_tryrecv(ch, NULL), 0);
	ck_assert_int_eq(chan_tryrecv(ch, NULL), EAGAIN);
	chan_destroy(ch);
}
END_TEST

/*
 * Batches of signals (elem_size 0, elems NULL) under each policy: BLOCK
 * sends what fits, DROP and SLIDE count all as sent; the receive takes
 * what is buffered.  Under clang's UBSan this once failed: the ring stepped
 * the NULL array by 0 bytes per element, undefined for a null pointer.
 */
START_TEST(elem_size_zero_batches_of_null_elements)
{
	static const enum chan_policy pol[] = { CHAN_BLOCK, CHAN_DROP,
	    CHAN_SLIDE };
	chan_t *ch;
	size_t i, n;

	for (i = 0; i < sizeof(pol) / sizeof(pol[0]); i++) {
		ch = new_chan(0, 3, pol[i]);
		ck_assert_int_eq(chan_sendn(ch, NULL, 2, &n), 0);
		ck_assert_uint_eq(n, 2);
		ck_assert_int_eq(chan_trysendn(ch, NULL, 4, &n), 0);
		ck_assert_uint_eq(n, pol[i] == CHAN_BLOCK ? 1 : 4);
		ck_assert_uint_eq(chan_len(ch), 3);
		ck_assert_int_eq(chan_recvn(ch, NULL, 5, &n), 0);
		ck_assert_uint_eq(n, 3);
		ck_assert_uint_eq(chan_len(ch), 0);
		chan_destroy(ch);
	}
}
END_TEST

/* An unbuffered elem_size 0 channel is a rendezvous with NULL elements. */
START_TEST(elem_size_zero_unbuffered_rendezvous)
{
	chan_t *ch = new_chan(0, 0, CHAN_BLOCK);
	struct op s = { .kind = OP_SEND, .ch = ch };
	struct op r = { .kind = OP_RECV, .ch = ch };

	ck_assert_int_eq(chan_trysend(ch, NULL), EAGAIN);
	op_start(&s);
	while (chan_tryrecv(ch, NULL) == EAGAIN)
		sched_yield();
	op_join(&s);
	ck_assert_int_eq(s.err, 0);
	op_start(&r);
	while (chan_trysend(ch, NULL) == EAGAIN)
		sched_yield();
	op_join(&r);
	ck_assert_int_eq(r.err, 0);
	chan_destroy(ch);
}
END_TEST

/* A send blocked on a full channel completes once a receive makes room. */
START_TEST(blocked_send_completes_when_room_appears)
{
	chan_t *ch = new_chan(sizeof(int), 2, CHAN_BLOCK);
	struct op s = { .kind = OP_SEND, .ch = ch, .val = 3 };

	put(ch, 1);
	put(ch, 2);
	op_start(&s);
	op_wait_blocked(&s);
	ck_assert_int_eq(atomic_load(&s.returned), 0);
	ck_assert_int_eq(take(ch), 1);
	op_join(&s);
	ck_assert_int_eq(s.err, 0);
	ck_assert_int_eq(take(ch), 2);
	ck_assert_int_eq(take(ch), 3);
	chan_destroy(ch);
}
END_TEST

/*
 * A receive blocked on an empty channel completes with the next send, and
 * the sleep and wake-up leave errno alone (calls on a channel never set it).
 */
START_TEST(blocked_recv_completes_on_send)
{
	chan_t *ch = new_chan(sizeof(int), 2, CHAN_BLOCK);
	struct op r = { .kind = OP_RECV, .ch = ch, .val = -1 };

	op_start(&r);
	op_wait_blocked(&r);
	ck_assert_int_eq(atomic_load(&r.returned), 0);
	put(ch, 12);
	op_join(&r);
	ck_assert_int_eq(r.err, 0);
	ck_assert_int_eq(r.val, 12);
	ck_assert_int_eq(r.op_errno, OP_ERRNO_MARK);
	ck_assert_uint_eq(chan_len(ch), 0);
	chan_destroy(ch);
}
END_TEST

/*
 * One batch of two elements for two receivers asleep on a buffered
 * channel: the receiver woken to retry takes one element and must pass
 * the wake-up on as it leaves, or the other sleeps beside the second
 * element for good, since no later send comes to wake it (a copy without
 * that hand-on hung here in 20 rounds of 20).
 */
START_TEST(batch_to_two_sleeping_receivers_wakes_both)
{
	int vals[2] = { 1, 2 }, round, i;
	struct op r[2];
	size_t n;

	for (round = 0; round < 20; round++) {
		chan_t *ch = new_chan(sizeof(int), 4, CHAN_BLOCK);

		for (i = 0; i < 2; i++) {
			r[i] = (struct op){ .kind = OP_RECV, .ch = ch,
			    .val = -1 };
			op_start(&r[i]);
		}
		for (i = 0; i < 2; i++)
			op_wait_blocked(&r[i]);
		ck_assert_int_eq(chan_sendn(ch, vals, 2, &n), 0);
		ck_assert_uint_eq(n, 2);
		for (i = 0; i < 2; i++) {
			op_join(&r[i]);
			ck_assert_int_eq(r[i].err, 0);
		}
		ck_assert_int_eq(r[0].val + r[1].val, 3);
		chan_destroy(ch);
	}
}
END_TEST

struct order_arg {
	chan_t	*ch;
	int	 id;
	int	 n;
	int	 err;
};

static void *
order_sender(void *p)
{
	struct order_arg *a = p;
	int i, v;

	a->err = 0;
	for (i = 0; i < a->n && a->err == 0; i++) {
		v = a->id << 20 | i;
		a->err = chan_send(a->ch, &v);
	}
	return NULL;
}

/* Two senders through a small buffer: each one's elements arrive in order. */
START_TEST(each_senders_elements_arrive_in_order)
{
	enum { N = 3000 };
	chan_t *ch = new_chan(sizeof(int), 4, CHAN_BLOCK);
	struct order_arg a[2] = { { ch, 1, N, -1 }, { ch, 2, N, -1 } };
	pthread_t t[2];
	int next[3] = { 0, 0, 0 }, i, v;

	for (i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, order_sender,
		    &a[i]), 0);
	for (i = 0; i < 2 * N; i++) {
		ck_assert_int_eq(chan_recv(ch, &v), 0);
		ck_assert(v >> 20 == 1 || v >> 20 == 2);
		ck_assert_int_eq(v & 0xfffff, next[v >> 20]);
		next[v >> 20]++;
	}
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_int_eq(a[i].err, 0);
	}
	ck_assert_int_eq(chan_tryrecv(ch, &v), EAGAIN);
	chan_destroy(ch);
}
END_TEST

/* Per-sender order holds through an unbuffered channel too. */
START_TEST(each_senders_elements_arrive_in_order_unbuffered)
{
	enum { N = 1000 };
	chan_t *ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct order_arg a[2] = { { ch, 1, N, -1 }, { ch, 2, N, -1 } };
	pthread_t t[2];
	int next[3] = { 0, 0, 0 }, i, v;

	for (i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, order_sender,
		    &a[i]), 0);
	for (i = 0; i < 2 * N; i++) {
		ck_assert_int_eq(chan_recv(ch, &v), 0);
		ck_assert(v >> 20 == 1 || v >> 20 == 2);
		ck_assert_int_eq(v & 0xfffff, next[v >> 20]);
		next[v >> 20]++;
	}
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_int_eq(a[i].err, 0);
	}
	chan_destroy(ch);
}
END_TEST

/* -------------------------------------------------------------- unbuffered */

/* trysend on an unbuffered channel with no receiver fails EAGAIN. */
START_TEST(unbuffered_trysend_without_receiver_fails_eagain)
{
	chan_t *ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	int v = 1;

	ck_assert_int_eq(chan_trysend(ch, &v), EAGAIN);
	ck_assert_int_eq(chan_tryrecv(ch, &v), EAGAIN);
	chan_destroy(ch);
}
END_TEST

/* tryrecv on an unbuffered channel with no sender fails EAGAIN. */
START_TEST(unbuffered_tryrecv_without_sender_fails_eagain)
{
	chan_t *ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	int v = 6;

	ck_assert_int_eq(chan_tryrecv(ch, &v), EAGAIN);
	ck_assert_int_eq(v, 6);
	chan_destroy(ch);
}
END_TEST

/* timedsend with no receiver times out and leaves nothing to receive. */
START_TEST(unbuffered_timedsend_without_receiver_times_out)
{
	chan_t *ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct timespec dl = deadline_in(20);
	int v = 1;

	ck_assert_int_eq(chan_timedsend(ch, &v, &dl), ETIMEDOUT);
	ck_assert(reached(&dl));
	ck_assert_int_eq(chan_tryrecv(ch, &v), EAGAIN);
	chan_destroy(ch);
}
END_TEST

/* trysend succeeds once a receiver waits in chan_recv, and hands it over. */
START_TEST(unbuffered_trysend_succeeds_with_receiver_in_recv)
{
	chan_t *ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct op r = { .kind = OP_RECV, .ch = ch, .val = -1 };
	int v = 55, err;

	op_start(&r);
	while ((err = chan_trysend(ch, &v)) == EAGAIN)
		sched_yield();
	ck_assert_int_eq(err, 0);
	op_join(&r);
	ck_assert_int_eq(r.err, 0);
	ck_assert_int_eq(r.val, 55);
	chan_destroy(ch);
}
END_TEST

/* trysend succeeds once a receiver waits in a select's receive case. */
START_TEST(unbuffered_trysend_succeeds_with_receiver_in_select)
{
	chan_t *ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	chan_t *other = new_chan(sizeof(int), 0, CHAN_BLOCK);
	int got = -1, junk = -1, v = 56, err;
	struct chan_case cases[] = {
		CASE(other, CHAN_RECV, &junk),
		CASE(ch, CHAN_RECV, &got),
	};
	struct op r = { .kind = OP_SELECT, .cases = cases, .ncases = 2 };

	op_start(&r);
	while ((err = chan_trysend(ch, &v)) == EAGAIN)
		sched_yield();
	ck_assert_int_eq(err, 0);
	op_join(&r);
	ck_assert_int_eq(r.err, 1);
	ck_assert_int_eq(cases[1].err, 0);
	ck_assert_int_eq(got, 56);
	ck_assert_int_eq(junk, -1);
	chan_destroy(ch);
	chan_destroy(other);
}
END_TEST

/* tryrecv succeeds once a sender waits in chan_send, and takes its element. */
START_TEST(unbuffered_tryrecv_succeeds_with_sender_in_send)
{
	chan_t *ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct op s = { .kind = OP_SEND, .ch = ch, .val = 57 };
	int v = -1, err;

	op_start(&s);
	while ((err = chan_tryrecv(ch, &v)) == EAGAIN)
		sched_yield();
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(v, 57);
	op_join(&s);
	ck_assert_int_eq(s.err, 0);
	chan_destroy(ch);
}
END_TEST

/* tryrecv succeeds once a sender waits in a select's send case. */
START_TEST(unbuffered_tryrecv_succeeds_with_sender_in_select)
{
	chan_t *ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	chan_t *other = new_chan(sizeof(int), 0, CHAN_BLOCK);
	int out = 58, junk = 0, v = -1, err;
	struct chan_case cases[] = {
		CASE(ch, CHAN_SEND, &out),
		CASE(other, CHAN_RECV, &junk),
	};
	struct op s = { .kind = OP_SELECT, .cases = cases, .ncases = 2 };

	op_start(&s);
	while ((err = chan_tryrecv(ch, &v)) == EAGAIN)
		sched_yield();
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(v, 58);
	op_join(&s);
	ck_assert_int_eq(s.err, 0);
	ck_assert_int_eq(cases[0].err, 0);
	chan_destroy(ch);
	chan_destroy(other);
}
END_TEST

/* An unbuffered send has not returned while no receiver has taken it. */
START_TEST(unbuffered_send_returns_only_after_receiver_took_it)
{
	chan_t *ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct op s = { .kind = OP_SEND, .ch = ch, .val = 59 };
	int v = -1;

	op_start(&s);
	op_wait_blocked(&s);
	ck_assert_msg(atomic_load(&s.returned) == 0,
	    "unbuffered send returned with no receiver (err %d)", s.err);
	ck_assert_uint_eq(chan_len(ch), 0);
	ck_assert_int_eq(chan_recv(ch, &v), 0);
	ck_assert_int_eq(v, 59);
	op_join(&s);
	ck_assert_int_eq(s.err, 0);
	chan_destroy(ch);
}
END_TEST

/* A past-deadline timedsend is a trysend: it meets a waiting receiver. */
START_TEST(unbuffered_timedsend_past_deadline_meets_waiting_receiver)
{
	chan_t *ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct op r = { .kind = OP_RECV, .ch = ch, .val = -1 };
	struct timespec past = deadline_past();
	int v = 61, err;

	ck_assert_int_eq(chan_timedsend(ch, &v, &past), ETIMEDOUT);
	op_start(&r);
	while ((err = chan_timedsend(ch, &v, &past)) == ETIMEDOUT)
		sched_yield();
	ck_assert_int_eq(err, 0);
	op_join(&r);
	ck_assert_int_eq(r.err, 0);
	ck_assert_int_eq(r.val, 61);
	chan_destroy(ch);
}
END_TEST

/* A past-deadline timedrecv is a tryrecv: it meets a waiting sender. */
START_TEST(unbuffered_timedrecv_past_deadline_meets_waiting_sender)
{
	chan_t *ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct op s = { .kind = OP_SEND, .ch = ch, .val = 62 };
	struct timespec past = deadline_past();
	int v = -1, err;

	ck_assert_int_eq(chan_timedrecv(ch, &v, &past), ETIMEDOUT);
	op_start(&s);
	while ((err = chan_timedrecv(ch, &v, &past)) == ETIMEDOUT)
		sched_yield();
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(v, 62);
	op_join(&s);
	ck_assert_int_eq(s.err, 0);
	chan_destroy(ch);
}
END_TEST

/* ---------------------------------------------------------------- policies */

/* Seed example: BLOCK cap 2, sends 1 2, a third would wait; drain 1 2 EPIPE. */
START_TEST(block_seed_example)
{
	chan_t *ch = new_chan(sizeof(int), 2, CHAN_BLOCK);
	int v = 3;

	ck_assert_int_eq(chan_send(ch, &(int){ 1 }), 0);
	ck_assert_int_eq(chan_send(ch, &(int){ 2 }), 0);
	ck_assert_int_eq(chan_trysend(ch, &v), EAGAIN);
	ck_assert_int_eq(chan_close(ch), 0);
	ck_assert_int_eq(chan_recv(ch, &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(chan_recv(ch, &v), 0);
	ck_assert_int_eq(v, 2);
	ck_assert_int_eq(chan_recv(ch, &v), EPIPE);
	chan_destroy(ch);
}
END_TEST

/* Seed example: DROP cap 2, send 1 2 3 (all 0), close, drain 1 2 EPIPE. */
START_TEST(drop_seed_example)
{
	chan_t *ch = new_chan(sizeof(int), 2, CHAN_DROP);
	int i, v;

	for (i = 1; i <= 3; i++)
		ck_assert_int_eq(chan_send(ch, &i), 0);
	ck_assert_int_eq(chan_close(ch), 0);
	ck_assert_int_eq(chan_recv(ch, &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(chan_recv(ch, &v), 0);
	ck_assert_int_eq(v, 2);
	ck_assert_int_eq(chan_recv(ch, &v), EPIPE);
	chan_destroy(ch);
}
END_TEST

/* Seed example: SLIDE cap 2, send 1 2 3 (all 0), close, drain 2 3 EPIPE. */
START_TEST(slide_seed_example)
{
	chan_t *ch = new_chan(sizeof(int), 2, CHAN_SLIDE);
	int i, v;

	for (i = 1; i <= 3; i++)
		ck_assert_int_eq(chan_send(ch, &i), 0);
	ck_assert_int_eq(chan_close(ch), 0);
	ck_assert_int_eq(chan_recv(ch, &v), 0);
	ck_assert_int_eq(v, 2);
	ck_assert_int_eq(chan_recv(ch, &v), 0);
	ck_assert_int_eq(v, 3);
	ck_assert_int_eq(chan_recv(ch, &v), EPIPE);
	chan_destroy(ch);
}
END_TEST

/* DROP never waits: sends of every form on a full one return 0. */
START_TEST(drop_full_never_waits_and_returns_zero)
{
	chan_t *ch = new_chan(sizeof(int), 1, CHAN_DROP);
	struct timespec past = deadline_past();
	int v;

	put(ch, 1);
	v = 2;
	ck_assert_int_eq(chan_trysend(ch, &v), 0);
	v = 3;
	ck_assert_int_eq(chan_timedsend(ch, &v, &past), 0);
	v = 4;
	ck_assert_int_eq(chan_send(ch, &v), 0);
	ck_assert_uint_eq(chan_len(ch), 1);
	ck_assert_int_eq(take(ch), 1);
	ck_assert_int_eq(chan_tryrecv(ch, &v), EAGAIN);
	chan_destroy(ch);
}
END_TEST

/* SLIDE never waits: sends of every form on a full one return 0. */
START_TEST(slide_full_never_waits_and_returns_zero)
{
	chan_t *ch = new_chan(sizeof(int), 1, CHAN_SLIDE);
	struct timespec past = deadline_past();
	int v;

	put(ch, 1);
	v = 2;
	ck_assert_int_eq(chan_trysend(ch, &v), 0);
	v = 3;
	ck_assert_int_eq(chan_timedsend(ch, &v, &past), 0);
	v = 4;
	ck_assert_int_eq(chan_send(ch, &v), 0);
	ck_assert_uint_eq(chan_len(ch), 1);
	ck_assert_int_eq(take(ch), 4);
	ck_assert_int_eq(chan_tryrecv(ch, &v), EAGAIN);
	chan_destroy(ch);
}
END_TEST

/* SLIDE keeps the newest cap elements in order across many wrap-arounds. */
START_TEST(slide_keeps_newest_in_order)
{
	chan_t *ch = new_chan(sizeof(int), 3, CHAN_SLIDE);
	int i;

	for (i = 0; i < 100; i++) {
		put(ch, i);
		if (i % 7 == 6)		/* move head too, not only tail */
			ck_assert_int_eq(take(ch), i - 2);
	}
	ck_assert_uint_eq(chan_len(ch), 3);
	ck_assert_int_eq(take(ch), 97);
	ck_assert_int_eq(take(ch), 98);
	ck_assert_int_eq(take(ch), 99);
	chan_destroy(ch);
}
END_TEST

/* DROP keeps the oldest: after the buffer fills, later sends vanish. */
START_TEST(drop_keeps_oldest_until_room)
{
	chan_t *ch = new_chan(sizeof(int), 3, CHAN_DROP);
	int i;

	for (i = 0; i < 10; i++)
		put(ch, i);
	ck_assert_int_eq(take(ch), 0);
	put(ch, 10);
	put(ch, 11);
	ck_assert_int_eq(take(ch), 1);
	ck_assert_int_eq(take(ch), 2);
	ck_assert_int_eq(take(ch), 10);
	ck_assert_uint_eq(chan_len(ch), 0);
	chan_destroy(ch);
}
END_TEST

/* A receiver blocked on an empty SLIDE channel is woken by a send. */
START_TEST(slide_send_wakes_blocked_receiver)
{
	chan_t *ch = new_chan(sizeof(int), 2, CHAN_SLIDE);
	struct op r = { .kind = OP_RECV, .ch = ch, .val = -1 };

	op_start(&r);
	op_wait_blocked(&r);
	put(ch, 21);
	op_join(&r);
	ck_assert_int_eq(r.err, 0);
	ck_assert_int_eq(r.val, 21);
	chan_destroy(ch);
}
END_TEST

/* ------------------------------------------------------------------ close */

/* The first close returns 0, the second EPIPE. */
START_TEST(close_twice_fails_epipe)
{
	chan_t *ch = new_chan(sizeof(int), 1, CHAN_BLOCK);

	ck_assert_int_eq(chan_close(ch), 0);
	ck_assert_int_eq(chan_close(ch), EPIPE);
	ck_assert_int_eq(chan_close(ch), EPIPE);
	chan_destroy(ch);
}
END_TEST

struct closer {
	chan_t			*ch;
	pthread_barrier_t	*bar;
	int			 err;
};

static void *
closer_main(void *arg)
{
	struct closer *c = arg;

	pthread_barrier_wait(c->bar);
	c->err = chan_close(c->ch);
	return NULL;
}

/* Threads closing one channel at once: exactly one gets 0, the rest EPIPE. */
START_TEST(racing_closes_succeed_exactly_once)
{
	enum { NCLOSERS = 6, ROUNDS = 100 };
	static const size_t caps[] = { 0, 1, 2 };
	struct closer c[NCLOSERS];
	pthread_t t[NCLOSERS];
	pthread_barrier_t bar;
	int round, i, zeros;

	ck_assert_int_eq(pthread_barrier_init(&bar, NULL, NCLOSERS), 0);
	for (round = 0; round < ROUNDS; round++) {
		chan_t *ch = new_chan(sizeof(int), caps[round % 3], CHAN_BLOCK);

		for (i = 0; i < NCLOSERS; i++) {
			c[i] = (struct closer){ ch, &bar, -1 };
			ck_assert_int_eq(pthread_create(&t[i], NULL,
			    closer_main, &c[i]), 0);
		}
		for (i = 0, zeros = 0; i < NCLOSERS; i++) {
			ck_assert_int_eq(pthread_join(t[i], NULL), 0);
			if (c[i].err == 0)
				zeros++;
			else
				ck_assert_int_eq(c[i].err, EPIPE);
		}
		ck_assert_int_eq(zeros, 1);
		chan_destroy(ch);
	}
	pthread_barrier_destroy(&bar);
}
END_TEST

/* chan_close(NULL) fails with EINVAL. */
START_TEST(close_null_fails_einval)
{
	ck_assert_int_eq(chan_close(NULL), EINVAL);
}
END_TEST

/* After close, every send form and policy fails EPIPE, storing nothing. */
START_TEST(send_after_close_fails_epipe_and_stores_nothing)
{
	struct timespec future = deadline_in(1000), past = deadline_past();
	int v[2] = { 1, 2 }, r;
	size_t i, cnt;
	chan_t *ch;

	for (i = 0; i < NELEMS(policies); i++) {
		ch = new_chan(sizeof(int), 2, policies[i]);
		ck_assert_int_eq(chan_close(ch), 0);
		ck_assert_int_eq(chan_send(ch, v), EPIPE);
		ck_assert_int_eq(chan_trysend(ch, v), EPIPE);
		ck_assert_int_eq(chan_timedsend(ch, v, &future), EPIPE);
		ck_assert_int_eq(chan_timedsend(ch, v, &past), EPIPE);
		ck_assert_int_eq(chan_timedsend(ch, v, NULL), EPIPE);
		ck_assert_int_eq(chan_sendn(ch, v, 2, &cnt), EPIPE);
		ck_assert_int_eq(chan_trysendn(ch, v, 2, &cnt), EPIPE);
		ck_assert_int_eq(chan_timedsendn(ch, v, 2, &cnt, &past), EPIPE);
		ck_assert_uint_eq(chan_len(ch), 0);
		ck_assert_int_eq(chan_tryrecv(ch, &r), EPIPE);
		chan_destroy(ch);
	}
}
END_TEST

/* Sends after close fail EPIPE on full and on unbuffered channels too. */
START_TEST(send_after_close_fails_epipe_when_full_or_unbuffered)
{
	chan_t *ch;
	size_t i;
	int v = 5;

	for (i = 0; i < NELEMS(policies); i++) {
		ch = new_chan(sizeof(int), 1, policies[i]);
		put(ch, 1);
		ck_assert_int_eq(chan_close(ch), 0);
		ck_assert_int_eq(chan_send(ch, &v), EPIPE);
		ck_assert_int_eq(chan_trysend(ch, &v), EPIPE);
		ck_assert_int_eq(take(ch), 1);
		ck_assert_int_eq(chan_tryrecv(ch, &v), EPIPE);
		chan_destroy(ch);
	}
	ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	ck_assert_int_eq(chan_close(ch), 0);
	ck_assert_int_eq(chan_send(ch, &v), EPIPE);
	ck_assert_int_eq(chan_trysend(ch, &v), EPIPE);
	ck_assert_int_eq(chan_recv(ch, &v), EPIPE);
	chan_destroy(ch);
}
END_TEST

/* After close, receives still drain the buffer in order, then get EPIPE. */
START_TEST(recv_after_close_drains_then_epipe)
{
	chan_t *ch = new_chan(sizeof(int), 4, CHAN_BLOCK);
	struct timespec future = deadline_in(60000);
	int v = -1;

	put(ch, 1);
	put(ch, 2);
	put(ch, 3);
	ck_assert_int_eq(chan_close(ch), 0);
	ck_assert_uint_eq(chan_len(ch), 3);
	ck_assert_int_eq(chan_recv(ch, &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(chan_tryrecv(ch, &v), 0);
	ck_assert_int_eq(v, 2);
	ck_assert_int_eq(chan_timedrecv(ch, &v, &future), 0);
	ck_assert_int_eq(v, 3);
	v = -1;
	ck_assert_int_eq(chan_recv(ch, &v), EPIPE);
	ck_assert_int_eq(v, -1);
	ck_assert_int_eq(chan_recv(ch, &v), EPIPE);
	chan_destroy(ch);
}
END_TEST

/* On a closed drained channel try and timed receives say EPIPE, not EAGAIN. */
START_TEST(try_and_timed_recv_on_closed_drained_fail_epipe)
{
	chan_t *ch = new_chan(sizeof(int), 1, CHAN_BLOCK);
	struct timespec future = deadline_in(60000), past = deadline_past();
	int v;
	size_t cnt;

	ck_assert_int_eq(chan_close(ch), 0);
	ck_assert_int_eq(chan_tryrecv(ch, &v), EPIPE);
	ck_assert_int_eq(chan_timedrecv(ch, &v, &future), EPIPE);
	ck_assert_int_eq(chan_timedrecv(ch, &v, &past), EPIPE);
	ck_assert_int_eq(chan_timedrecv(ch, &v, NULL), EPIPE);
	ck_assert_int_eq(chan_recvn(ch, &v, 1, &cnt), EPIPE);
	ck_assert_int_eq(chan_tryrecvn(ch, &v, 1, &cnt), EPIPE);
	ck_assert_int_eq(chan_timedrecvn(ch, &v, 1, &cnt, &past), EPIPE);
	chan_destroy(ch);
}
END_TEST

/* Close wakes a sender blocked on a full channel: EPIPE, element not stored. */
START_TEST(close_wakes_blocked_sender_with_epipe)
{
	chan_t *ch = new_chan(sizeof(int), 2, CHAN_BLOCK);
	struct op s = { .kind = OP_SEND, .ch = ch, .val = 3 };

	put(ch, 1);
	put(ch, 2);
	op_start(&s);
	op_wait_blocked(&s);
	ck_assert_int_eq(chan_close(ch), 0);
	op_join(&s);
	ck_assert_int_eq(s.err, EPIPE);
	/* Nothing buffered is lost, and the blocked element never arrives. */
	ck_assert_int_eq(take(ch), 1);
	ck_assert_int_eq(take(ch), 2);
	ck_assert_int_eq(chan_tryrecv(ch, NULL), EPIPE);
	chan_destroy(ch);
}
END_TEST

/* Close wakes a sender blocked unbuffered: EPIPE, element not delivered. */
START_TEST(close_wakes_blocked_unbuffered_sender_with_epipe)
{
	chan_t *ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct op s = { .kind = OP_SEND, .ch = ch, .val = 3 };
	int v = -1;

	op_start(&s);
	op_wait_blocked(&s);
	ck_assert_int_eq(chan_close(ch), 0);
	op_join(&s);
	ck_assert_int_eq(s.err, EPIPE);
	ck_assert_int_eq(chan_tryrecv(ch, &v), EPIPE);
	ck_assert_int_eq(v, -1);
	chan_destroy(ch);
}
END_TEST

/* Close wakes a timed sender long before its deadline: EPIPE, not ETIMEDOUT. */
START_TEST(close_wakes_timed_sender_with_epipe)
{
	chan_t *ch = new_chan(sizeof(int), 1, CHAN_BLOCK);
	struct timespec dl = deadline_in(60000);
	struct op s = { .kind = OP_TIMEDSEND, .ch = ch, .val = 3,
	    .abstime = &dl };

	put(ch, 1);
	op_start(&s);
	op_wait_blocked(&s);
	ck_assert_int_eq(chan_close(ch), 0);
	op_join(&s);
	ck_assert_int_eq(s.err, EPIPE);
	ck_assert_int_eq(take(ch), 1);
	chan_destroy(ch);
}
END_TEST

/* Close wakes a receiver blocked on an empty buffered channel with EPIPE. */
START_TEST(close_wakes_blocked_receiver_with_epipe)
{
	chan_t *ch = new_chan(sizeof(int), 2, CHAN_BLOCK);
	struct op r = { .kind = OP_RECV, .ch = ch, .val = -1 };

	op_start(&r);
	op_wait_blocked(&r);
	ck_assert_int_eq(chan_close(ch), 0);
	op_join(&r);
	ck_assert_int_eq(r.err, EPIPE);
	ck_assert_int_eq(r.val, -1);
	chan_destroy(ch);
}
END_TEST

/* Close wakes a receiver blocked on an unbuffered channel with EPIPE. */
START_TEST(close_wakes_blocked_unbuffered_receiver_with_epipe)
{
	chan_t *ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct timespec dl = deadline_in(60000);
	struct op r = { .kind = OP_TIMEDRECV, .ch = ch, .val = -1,
	    .abstime = &dl };

	op_start(&r);
	op_wait_blocked(&r);
	ck_assert_int_eq(chan_close(ch), 0);
	op_join(&r);
	ck_assert_int_eq(r.err, EPIPE);
	ck_assert_int_eq(r.val, -1);
	chan_destroy(ch);
}
END_TEST

/* Close wakes every waiter at once: three receivers all get EPIPE. */
START_TEST(close_wakes_every_waiting_receiver)
{
	chan_t *ch = new_chan(sizeof(int), 1, CHAN_BLOCK);
	struct op r[3];
	size_t i;

	for (i = 0; i < NELEMS(r); i++) {
		r[i] = (struct op){ .kind = OP_RECV, .ch = ch, .val = -1 };
		op_start(&r[i]);
	}
	for (i = 0; i < NELEMS(r); i++)
		op_wait_blocked(&r[i]);
	ck_assert_int_eq(chan_close(ch), 0);
	for (i = 0; i < NELEMS(r); i++) {
		op_join(&r[i]);
		ck_assert_int_eq(r[i].err, EPIPE);
	}
	chan_destroy(ch);
}
END_TEST

/* Close wakes every waiting sender at once: three senders all get EPIPE. */
START_TEST(close_wakes_every_waiting_sender)
{
	chan_t *ch = new_chan(sizeof(int), 1, CHAN_BLOCK);
	struct op s[3];
	size_t i;

	put(ch, 100);
	for (i = 0; i < NELEMS(s); i++) {
		s[i] = (struct op){ .kind = OP_SEND, .ch = ch, .val = (int)i };
		op_start(&s[i]);
	}
	for (i = 0; i < NELEMS(s); i++)
		op_wait_blocked(&s[i]);
	ck_assert_int_eq(chan_close(ch), 0);
	for (i = 0; i < NELEMS(s); i++) {
		op_join(&s[i]);
		ck_assert_int_eq(s[i].err, EPIPE);
	}
	ck_assert_int_eq(take(ch), 100);
	ck_assert_int_eq(chan_tryrecv(ch, NULL), EPIPE);
	chan_destroy(ch);
}
END_TEST

struct drain_arg {
	chan_t	*ch;
	long	 sum;
	int	 count;
	int	 err;
};

static void *
drainer(void *p)
{
	struct drain_arg *a = p;
	int v;

	while ((a->err = chan_recv(a->ch, &v)) == 0) {
		a->sum += v;
		a->count++;
	}
	return NULL;
}

/* Receivers draining a closed channel together get every element once. */
START_TEST(concurrent_drain_after_close_loses_nothing)
{
	enum { N = 1000 };
	chan_t *ch = new_chan(sizeof(int), N, CHAN_BLOCK);
	struct drain_arg a[3];
	pthread_t t[3];
	long sum = 0;
	int i, count = 0;

	for (i = 1; i <= N; i++)
		put(ch, i);
	ck_assert_int_eq(chan_close(ch), 0);
	for (i = 0; i < 3; i++) {
		a[i] = (struct drain_arg){ ch, 0, 0, -1 };
		ck_assert_int_eq(pthread_create(&t[i], NULL, drainer, &a[i]),
		    0);
	}
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_int_eq(a[i].err, EPIPE);
		sum += a[i].sum;
		count += a[i].count;
	}
	ck_assert_int_eq(count, N);
	ck_assert_int_eq(sum, (long)N * (N + 1) / 2);
	chan_destroy(ch);
}
END_TEST

struct churn_arg {
	chan_t		*ch;
	atomic_int	*stop;
	int		 err;
};

static void *
churn_sender(void *p)
{
	struct churn_arg *a = p;
	int v = 0;

	a->err = 0;
	while (!atomic_load(a->stop) && a->err == 0)
		a->err = chan_send(a->ch, &v);
	return NULL;
}

static void *
churn_receiver(void *p)
{
	struct churn_arg *a = p;

	a->err = 0;
	while (!atomic_load(a->stop) && a->err == 0)
		a->err = chan_recv(a->ch, NULL);
	return NULL;
}

struct batch_feed {
	chan_t	*ch, *ack;
	int	 rounds;
};

/* Sends a batch of LEN_BATCH, waits for the receiver's ack, again. */
#define LEN_BATCH	512
static void *
batch_feeder(void *arg)
{
	static int vals[LEN_BATCH];
	struct batch_feed *f = arg;
	size_t n, k;
	int r;

	for (r = 0; r < f->rounds; r++) {
		for (k = 0; k < LEN_BATCH; k += n)
			if (chan_sendn(f->ch, vals + k, LEN_BATCH - k, &n) != 0)
				return NULL;
		if (chan_recv(f->ack, NULL) != 0)
			return NULL;
	}
	return NULL;
}

/*
 * While a batch goes in, the receiver's own chan_len after each of its
 * receives never exceeds what is left of the batch: tail may lag the
 * slots a batch already filled, and a length read then must not wrap to a
 * full channel (without its guard, about a million such reads here).
 */
START_TEST(len_never_exceeds_what_a_batch_left)
{
	struct batch_feed f = { new_chan(sizeof(int), 1024, CHAN_BLOCK),
	    new_chan(0, 1, CHAN_BLOCK), 1000 };
	size_t len, bad = 0, worst = 0;
	pthread_t t;
	int r, i, v, err = 0;

	ck_assert_int_eq(pthread_create(&t, NULL, batch_feeder, &f), 0);
	/* No ck_assert in the loop: each one writes to Check's pipe. */
	for (r = 0; r < f.rounds && err == 0; r++) {
		for (i = 0; i < LEN_BATCH && err == 0; i++) {
			err = chan_recv(f.ch, &v);
			len = chan_len(f.ch);
			if (len > (size_t)(LEN_BATCH - 1 - i)) {
				bad++;
				worst = len;
			}
		}
		if (err == 0)
			err = chan_send(f.ack, NULL);
	}
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_msg(bad == 0, "%zu lengths above what was left, one %zu",
	    bad, worst);
	chan_destroy(f.ch);
	chan_destroy(f.ack);
}
END_TEST

/* chan_len is a snapshot in [0, cap] even while others send and receive. */
START_TEST(len_stays_within_cap_under_concurrency)
{
	size_t i, j, len;
	chan_t *ch;
	atomic_int stop;
	struct churn_arg s, r;
	pthread_t ts, tr;

	for (i = 0; i < NELEMS(policies); i++) {
		ch = new_chan(sizeof(int), 3, policies[i]);
		atomic_init(&stop, 0);
		s = (struct churn_arg){ ch, &stop, -1 };
		r = (struct churn_arg){ ch, &stop, -1 };
		ck_assert_int_eq(pthread_create(&ts, NULL, churn_sender, &s),
		    0);
		ck_assert_int_eq(pthread_create(&tr, NULL, churn_receiver, &r),
		    0);
		for (j = 0; j < 20000; j++) {
			len = chan_len(ch);
			ck_assert_uint_le(len, 3);
		}
		atomic_store(&stop, 1);
		ck_assert_int_eq(chan_close(ch), 0);	/* frees both */
		ck_assert_int_eq(pthread_join(ts, NULL), 0);
		ck_assert_int_eq(pthread_join(tr, NULL), 0);
		ck_assert(s.err == 0 || s.err == EPIPE);
		ck_assert(r.err == 0 || r.err == EPIPE);
		chan_destroy(ch);
	}
}
END_TEST

/* ------------------------------------------------------- lock, semaphore */

struct sem_arg {
	chan_t		*ch;
	int		 iters;
	atomic_int	*holders;
	atomic_int	*max_holders;
	long		*counter;	/* protected by the token when cap 1 */
	int		 err;
};

static void *
sem_worker(void *p)
{
	struct sem_arg *a = p;
	int i, h, m;

	a->err = 0;
	for (i = 0; i < a->iters; i++) {
		if ((a->err = chan_recv(a->ch, NULL)) != 0)
			break;
		h = atomic_fetch_add(a->holders, 1) + 1;
		m = atomic_load(a->max_holders);
		while (h > m && !atomic_compare_exchange_weak(a->max_holders,
		    &m, h))
			;
		if (a->counter != NULL)
			(*a->counter)++;
		if (i % 16 == 0)
			sched_yield();	/* hold the token across a switch */
		atomic_fetch_sub(a->holders, 1);
		if ((a->err = chan_send(a->ch, NULL)) != 0)
			break;
	}
	return NULL;
}

static void
run_sem(size_t ntokens, size_t nthreads, int iters, long *counter,
    int *max_seen)
{
	chan_t *ch = new_chan(0, ntokens, CHAN_BLOCK);
	struct sem_arg a[8];
	pthread_t t[8];
	atomic_int holders, max_holders;
	size_t i;

	ck_assert_uint_le(nthreads, NELEMS(t));
	atomic_init(&holders, 0);
	atomic_init(&max_holders, 0);
	for (i = 0; i < ntokens; i++)
		ck_assert_int_eq(chan_send(ch, NULL), 0);
	for (i = 0; i < nthreads; i++) {
		a[i] = (struct sem_arg){ ch, iters, &holders, &max_holders,
		    counter, -1 };
		ck_assert_int_eq(pthread_create(&t[i], NULL, sem_worker, &a[i]),
		    0);
	}
	for (i = 0; i < nthreads; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	for (i = 0; i < nthreads; i++)
		ck_assert_int_eq(a[i].err, 0);
	ck_assert_uint_eq(chan_len(ch), ntokens);
	*max_seen = atomic_load(&max_holders);
	chan_destroy(ch);
}

/* A capacity-1 channel holding one token is a mutex: one holder at a time. */
START_TEST(token_channel_of_one_is_a_lock)
{
	long counter = 0;
	int max_seen;

	run_sem(1, 4, 2000, &counter, &max_seen);
	ck_assert_int_eq(max_seen, 1);
	ck_assert_int_eq(counter, 4 * 2000);
}
END_TEST

/* A capacity-N channel holding N tokens is a semaphore: at most N holders. */
START_TEST(token_channel_of_n_is_a_semaphore)
{
	int max_seen;

	run_sem(3, 8, 1000, NULL, &max_seen);
	ck_assert_int_ge(max_seen, 1);
	ck_assert_int_le(max_seen, 3);
}
END_TEST

/* ------------------------------------------------------------------ batch */

/* sendn with room sends all n in order; recvn receives them in order. */
START_TEST(sendn_and_recvn_move_all_in_order)
{
	chan_t *ch = new_chan(sizeof(int), 8, CHAN_BLOCK);
	int in[5] = { 1, 2, 3, 4, 5 }, out[8] = { 0 };
	size_t cnt = 0;

	ck_assert_int_eq(chan_sendn(ch, in, 5, &cnt), 0);
	ck_assert_uint_eq(cnt, 5);
	ck_assert_uint_eq(chan_len(ch), 5);
	ck_assert_int_eq(chan_recvn(ch, out, 8, &cnt), 0);
	ck_assert_uint_eq(cnt, 5);
	ck_assert_mem_eq(out, in, sizeof(in));
	ck_assert_int_eq(out[5], 0);
	ck_assert_uint_eq(chan_len(ch), 0);
	chan_destroy(ch);
}
END_TEST

/* sendn into little room sends what fits (a partial success, like write). */
START_TEST(sendn_partial_when_room_is_short)
{
	chan_t *ch = new_chan(sizeof(int), 4, CHAN_BLOCK);
	int in[5] = { 10, 11, 12, 13, 14 };
	size_t cnt = 0;

	put(ch, 1);
	put(ch, 2);
	ck_assert_int_eq(chan_sendn(ch, in, 5, &cnt), 0);
	ck_assert_uint_eq(cnt, 2);
	ck_assert_int_eq(chan_trysendn(ch, in, 5, &cnt), EAGAIN);
	ck_assert_int_eq(take(ch), 1);
	ck_assert_int_eq(take(ch), 2);
	ck_assert_int_eq(take(ch), 10);
	ck_assert_int_eq(take(ch), 11);
	ck_assert_uint_eq(chan_len(ch), 0);
	chan_destroy(ch);
}
END_TEST

/* recvn with fewer buffered than asked returns what there is, in order. */
START_TEST(recvn_partial_when_few_buffered)
{
	chan_t *ch = new_chan(sizeof(int), 4, CHAN_BLOCK);
	int out[6] = { -1, -1, -1, -1, -1, -1 };
	size_t cnt = 0;

	put(ch, 7);
	put(ch, 8);
	put(ch, 9);
	ck_assert_int_eq(chan_recvn(ch, out, 2, &cnt), 0);
	ck_assert_uint_eq(cnt, 2);
	ck_assert_int_eq(out[0], 7);
	ck_assert_int_eq(out[1], 8);
	ck_assert_int_eq(out[2], -1);
	ck_assert_int_eq(chan_tryrecvn(ch, out, 6, &cnt), 0);
	ck_assert_uint_eq(cnt, 1);
	ck_assert_int_eq(out[0], 9);
	ck_assert_int_eq(out[1], 8);
	chan_destroy(ch);
}
END_TEST

/* recvn with elems NULL discards the elements it counts. */
START_TEST(recvn_null_elems_discards)
{
	chan_t *ch = new_chan(sizeof(int), 4, CHAN_BLOCK);
	size_t cnt = 0;

	put(ch, 1);
	put(ch, 2);
	put(ch, 3);
	ck_assert_int_eq(chan_recvn(ch, NULL, 2, &cnt), 0);
	ck_assert_uint_eq(cnt, 2);
	ck_assert_int_eq(take(ch), 3);
	chan_destroy(ch);
}
END_TEST

/* sendn and recvn with n 0 succeed and count 0. */
START_TEST(sendn_and_recvn_of_zero_count_zero)
{
	chan_t *ch = new_chan(sizeof(int), 2, CHAN_BLOCK);
	int v[1] = { 1 };
	size_t cnt = 9;

	ck_assert_int_eq(chan_trysendn(ch, v, 0, &cnt), 0);
	ck_assert_uint_eq(cnt, 0);
	cnt = 9;
	put(ch, 5);
	ck_assert_int_eq(chan_tryrecvn(ch, v, 0, &cnt), 0);
	ck_assert_uint_eq(cnt, 0);
	ck_assert_uint_eq(chan_len(ch), 1);
	chan_destroy(ch);
}
END_TEST

/* trysendn on a full channel and tryrecvn on an empty one fail EAGAIN. */
START_TEST(trysendn_full_and_tryrecvn_empty_fail_eagain)
{
	chan_t *ch = new_chan(sizeof(int), 1, CHAN_BLOCK);
	int v[2] = { 1, 2 };
	size_t cnt;

	ck_assert_int_eq(chan_tryrecvn(ch, v, 2, &cnt), EAGAIN);
	put(ch, 3);
	ck_assert_int_eq(chan_trysendn(ch, v, 2, &cnt), EAGAIN);
	ck_assert_uint_eq(chan_len(ch), 1);
	ck_assert_int_eq(take(ch), 3);
	chan_destroy(ch);
}
END_TEST

/* timedsendn and timedrecvn time out; a past deadline acts as try. */
START_TEST(timedsendn_and_timedrecvn_time_out)
{
	chan_t *ch = new_chan(sizeof(int), 1, CHAN_BLOCK);
	struct timespec dl = deadline_in(20), past = deadline_past();
	int v[2] = { 1, 2 };
	size_t cnt;

	ck_assert_int_eq(chan_timedrecvn(ch, v, 2, &cnt, &dl), ETIMEDOUT);
	ck_assert(reached(&dl));
	ck_assert_int_eq(chan_timedrecvn(ch, v, 2, &cnt, &past), ETIMEDOUT);
	ck_assert_int_eq(chan_timedsendn(ch, v, 2, &cnt, &past), 0);
	ck_assert_uint_eq(cnt, 1);
	dl = deadline_in(20);
	ck_assert_int_eq(chan_timedsendn(ch, v, 2, &cnt, &dl), ETIMEDOUT);
	ck_assert(reached(&dl));
	ck_assert_int_eq(chan_timedsendn(ch, v, 2, &cnt, &past), ETIMEDOUT);
	ck_assert_int_eq(take(ch), 1);
	chan_destroy(ch);
}
END_TEST

/* sendn blocked on a full channel waits only for the first slot. */
START_TEST(sendn_waits_only_for_first)
{
	int vals[3] = { 20, 21, 22 };
	chan_t *ch = new_chan(sizeof(int), 2, CHAN_BLOCK);
	struct op s = { .kind = OP_SENDN, .ch = ch, .vals = vals, .n = 3 };

	put(ch, 1);
	put(ch, 2);
	op_start(&s);
	op_wait_blocked(&s);
	ck_assert_int_eq(take(ch), 1);
	op_join(&s);
	ck_assert_int_eq(s.err, 0);
	ck_assert_uint_eq(s.count, 1);
	ck_assert_int_eq(take(ch), 2);
	ck_assert_int_eq(take(ch), 20);
	chan_destroy(ch);
}
END_TEST

/* recvn blocked on an empty channel returns as soon as there is one. */
START_TEST(recvn_waits_only_for_first)
{
	int vals[4] = { -1, -1, -1, -1 };
	chan_t *ch = new_chan(sizeof(int), 4, CHAN_BLOCK);
	struct op r = { .kind = OP_RECVN, .ch = ch, .vals = vals, .n = 4 };

	op_start(&r);
	op_wait_blocked(&r);
	put(ch, 30);
	op_join(&r);
	ck_assert_int_eq(r.err, 0);
	ck_assert_uint_eq(r.count, 1);
	ck_assert_int_eq(vals[0], 30);
	ck_assert_int_eq(vals[1], -1);
	chan_destroy(ch);
}
END_TEST

/* recvn on a closed channel drains what is buffered, then EPIPE. */
START_TEST(recvn_after_close_drains_then_epipe)
{
	chan_t *ch = new_chan(sizeof(int), 4, CHAN_BLOCK);
	int out[4];
	size_t cnt = 0;

	put(ch, 1);
	put(ch, 2);
	ck_assert_int_eq(chan_close(ch), 0);
	ck_assert_int_eq(chan_recvn(ch, out, 4, &cnt), 0);
	ck_assert_uint_eq(cnt, 2);
	ck_assert_int_eq(out[0], 1);
	ck_assert_int_eq(out[1], 2);
	ck_assert_int_eq(chan_recvn(ch, out, 4, &cnt), EPIPE);
	chan_destroy(ch);
}
END_TEST

/* Close wakes a sendn blocked on a full channel with EPIPE, storing nothing. */
START_TEST(close_wakes_blocked_sendn_with_epipe)
{
	int vals[2] = { 5, 6 };
	chan_t *ch = new_chan(sizeof(int), 1, CHAN_BLOCK);
	struct op s = { .kind = OP_SENDN, .ch = ch, .vals = vals, .n = 2 };

	put(ch, 1);
	op_start(&s);
	op_wait_blocked(&s);
	ck_assert_int_eq(chan_close(ch), 0);
	op_join(&s);
	ck_assert_int_eq(s.err, EPIPE);
	ck_assert_int_eq(take(ch), 1);
	ck_assert_int_eq(chan_tryrecv(ch, NULL), EPIPE);
	chan_destroy(ch);
}
END_TEST

/* Close wakes a recvn blocked on an empty channel with EPIPE. */
START_TEST(close_wakes_blocked_recvn_with_epipe)
{
	int vals[2] = { -1, -1 };
	chan_t *ch = new_chan(sizeof(int), 2, CHAN_BLOCK);
	struct op r = { .kind = OP_RECVN, .ch = ch, .vals = vals, .n = 2 };

	op_start(&r);
	op_wait_blocked(&r);
	ck_assert_int_eq(chan_close(ch), 0);
	op_join(&r);
	ck_assert_int_eq(r.err, EPIPE);
	ck_assert_int_eq(vals[0], -1);
	chan_destroy(ch);
}
END_TEST

/* Unbuffered: trysendn hands the first element to the one waiting receiver. */
START_TEST(unbuffered_trysendn_hands_one_to_waiting_receiver)
{
	int vals[3] = { 40, 41, 42 }, v = -1, err;
	chan_t *ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct op r = { .kind = OP_RECV, .ch = ch, .val = -1 };
	size_t cnt = 0;

	ck_assert_int_eq(chan_trysendn(ch, vals, 3, &cnt), EAGAIN);
	op_start(&r);
	while ((err = chan_trysendn(ch, vals, 3, &cnt)) == EAGAIN)
		sched_yield();
	ck_assert_int_eq(err, 0);
	ck_assert_uint_eq(cnt, 1);
	op_join(&r);
	ck_assert_int_eq(r.err, 0);
	ck_assert_int_eq(r.val, 40);
	ck_assert_int_eq(chan_tryrecv(ch, &v), EAGAIN);
	chan_destroy(ch);
}
END_TEST

/*
 * Unbuffered: a batch hands its first element to a waiting receiver and
 * the rest to the receivers already waiting, one each, and no more, in
 * each of its three forms.  Without /proc nothing says both receivers
 * are queued yet, and the test only lets them go.
 */
START_TEST(unbuffered_sendn_serves_every_waiting_receiver)
{
	int vals[3] = { 50, 51, 52 }, form, i, err;
	chan_t *ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct timespec dl = deadline_in(60000);
	struct op r[2];
	bool queued;
	size_t cnt;

	for (form = 0; form < 3; form++) {
		queued = true;
		for (i = 0; i < 2; i++) {
			r[i] = (struct op){ .kind = OP_RECV, .ch = ch,
			    .val = -1 };
			op_start(&r[i]);
			queued &= thread_wait_asleep(&r[i].tid, &r[i].returned);
		}
		if (!queued) {
			ck_assert_int_eq(chan_sendn(ch, vals, 1, &cnt), 0);
			ck_assert_int_eq(chan_sendn(ch, vals, 1, &cnt), 0);
		} else {
			cnt = 0;
			err = form == 0 ? chan_sendn(ch, vals, 3, &cnt) :
			    form == 1 ? chan_trysendn(ch, vals, 3, &cnt) :
			    chan_timedsendn(ch, vals, 3, &cnt, &dl);
			ck_assert_int_eq(err, 0);
			ck_assert_msg(cnt == 2, "form %d: a batch of 3 for two "
			    "waiting receivers sent %zu", form, cnt);
		}
		for (i = 0; i < 2; i++) {
			op_join(&r[i]);
			ck_assert_int_eq(r[i].err, 0);
		}
		if (queued)
			ck_assert_int_eq(r[0].val + r[1].val, 50 + 51);
		ck_assert_int_eq(chan_trysend(ch, &vals[2]), EAGAIN);
	}
	chan_destroy(ch);
}
END_TEST

/* Unbuffered: tryrecvn takes the one waiting sender's element. */
START_TEST(unbuffered_tryrecvn_takes_from_waiting_sender)
{
	int vals[3] = { -1, -1, -1 }, err;
	chan_t *ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct op s = { .kind = OP_SEND, .ch = ch, .val = 43 };
	size_t cnt = 0;

	ck_assert_int_eq(chan_tryrecvn(ch, vals, 3, &cnt), EAGAIN);
	op_start(&s);
	while ((err = chan_tryrecvn(ch, vals, 3, &cnt)) == EAGAIN)
		sched_yield();
	ck_assert_int_eq(err, 0);
	ck_assert_uint_eq(cnt, 1);
	ck_assert_int_eq(vals[0], 43);
	ck_assert_int_eq(vals[1], -1);
	op_join(&s);
	ck_assert_int_eq(s.err, 0);
	chan_destroy(ch);
}
END_TEST

/* Unbuffered: a blocked sendn completes with a later receiver, sending one. */
START_TEST(unbuffered_sendn_completes_with_receiver)
{
	int vals[2] = { 44, 45 }, v = -1;
	chan_t *ch = new_chan(sizeof(int), 0, CHAN_BLOCK);
	struct op s = { .kind = OP_SENDN, .ch = ch, .vals = vals, .n = 2 };

	op_start(&s);
	op_wait_blocked(&s);
	ck_assert_int_eq(chan_recv(ch, &v), 0);
	ck_assert_int_eq(v, 44);
	op_join(&s);
	ck_assert_int_eq(s.err, 0);
	ck_assert_uint_eq(s.count, 1);
	chan_destroy(ch);
}
END_TEST

/* sendn on DROP/SLIDE never waits; what stays obeys the policy per element. */
START_TEST(sendn_on_drop_and_slide_obeys_policy)
{
	int in[5] = { 1, 2, 3, 4, 5 };
	chan_t *d = new_chan(sizeof(int), 2, CHAN_DROP);
	chan_t *s = new_chan(sizeof(int), 2, CHAN_SLIDE);
	size_t cnt = 0;

	ck_assert_int_eq(chan_trysendn(d, in, 5, &cnt), 0);
	ck_assert_uint_ge(cnt, 2);
	ck_assert_uint_le(cnt, 5);
	ck_assert_int_eq(take(d), 1);
	ck_assert_int_eq(take(d), 2);
	ck_assert_uint_eq(chan_len(d), 0);
	ck_assert_int_eq(chan_trysendn(s, in, 5, &cnt), 0);
	ck_assert_uint_ge(cnt, 2);
	ck_assert_uint_le(cnt, 5);
	/* However many it took, the newest two of those remain. */
	ck_assert_int_eq(take(s), in[cnt - 2]);
	ck_assert_int_eq(take(s), in[cnt - 1]);
	ck_assert_uint_eq(chan_len(s), 0);
	chan_destroy(d);
	chan_destroy(s);
}
END_TEST

/*
 * SLIDE keeps the newest cap of what was buffered and the batch, in order,
 * also when the batch alone is longer than the ring.
 */
START_TEST(slide_batch_longer_than_ring_keeps_the_newest)
{
	static const size_t lens[2] = { 5, 10 };
	int in[10] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	chan_t *s = new_chan(sizeof(int), 4, CHAN_SLIDE);
	size_t cnt = 0, i, j;

	for (j = 0; j < 2; j++) {
		put(s, 100);
		put(s, 101);
		ck_assert_int_eq(chan_sendn(s, in, lens[j], &cnt), 0);
		ck_assert_uint_eq(cnt, lens[j]);
		for (i = lens[j] - 4; i < lens[j]; i++)
			ck_assert_int_eq(take(s), in[i]);
		ck_assert_uint_eq(chan_len(s), 0);
	}
	chan_destroy(s);
}
END_TEST

/*
 * A count no ring can hold (SIZE_MAX: "all there is", valid for elements
 * of size 0 or a NULL target, which discards) moves what the ring allows
 * and returns: receives take everything buffered, closed or not, and a
 * DROP or SLIDE send, which never waits, fills the ring and is done.
 */
START_TEST(batch_of_huge_count_moves_what_the_ring_allows)
{
	chan_t *sig = new_chan(0, 8, CHAN_BLOCK);
	chan_t *bytes = new_chan(1, 8, CHAN_BLOCK);
	chan_t *d = new_chan(0, 4, CHAN_DROP), *s = new_chan(0, 4, CHAN_SLIDE);
	unsigned char c = 'x';
	size_t k = 0;
	int i;

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(chan_trysend(sig, NULL), 0);
		ck_assert_int_eq(chan_trysend(bytes, &c), 0);
	}
	ck_assert_int_eq(chan_tryrecvn(sig, NULL, SIZE_MAX, &k), 0);
	ck_assert_uint_eq(k, 3);
	ck_assert_int_eq(chan_tryrecvn(bytes, NULL, SIZE_MAX, &k), 0);
	ck_assert_uint_eq(k, 3);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(chan_trysend(sig, NULL), 0);
	chan_close(sig);
	ck_assert_int_eq(chan_recvn(sig, NULL, SIZE_MAX, &k), 0);
	ck_assert_uint_eq(k, 3);
	ck_assert_int_eq(chan_recvn(sig, NULL, SIZE_MAX, &k), EPIPE);

	ck_assert_int_eq(chan_trysendn(d, NULL, SIZE_MAX, &k), 0);
	ck_assert_uint_eq(k, SIZE_MAX);
	ck_assert_uint_eq(chan_len(d), 4);
	ck_assert_int_eq(chan_sendn(s, NULL, SIZE_MAX, &k), 0);
	ck_assert_uint_eq(k, SIZE_MAX);
	ck_assert_uint_eq(chan_len(s), 4);
	chan_destroy(sig);
	chan_destroy(bytes);
	chan_destroy(d);
	chan_destroy(s);
}
END_TEST

/* ------------------------------------------------------------------ cpus */

/*
 * The waits reckon with the CPUs the process may use, not those online:
 * pinned to one (taskset -c 0, as .ci/run.d/60-one-cpu.sh runs this), a
 * waiting thread must not spin for a partner that cannot run meanwhile.
 * This thread is the main one here, so its mask is the process's.
 */
START_TEST(counts_the_cpus_its_affinity_mask_allows)
{
	cpu_set_t set;

	ck_assert_int_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	ck_assert_int_eq(chan__ncpu(), CPU_COUNT(&set));
}
END_TEST

/* ----------------------------------------------------------------- hints */

/*
 * Receives between two refreshes of what a sender polling for room reads
 * (head_hint, see struct chan): cap / 8, between 1 and 16.
 */
static size_t
hint_every(size_t cap)
{
	size_t k = cap / 8;

	return k < 1 ? 1 : k > 16 ? 16 : k;
}

/*
 * The hint a polling sender reads never shows room in a full ring, and
 * shows it once hint_every(cap) elements have been received since the
 * ring was last full, one by one or in a batch, at any point of the ring.
 */
START_TEST(polling_sender_sees_room_within_a_few_receives)
{
	static const size_t caps[] = { 1, 7, 16, 40, 64, 1024, 3000 };
	size_t cap = caps[_i], k = hint_every(cap), got, i, round;
	uint64_t buf[16], v = 0;
	chan_t *ch = new_chan(sizeof(uint64_t), cap, CHAN_BLOCK);

	for (round = 0; round < 5; round++) {
		while (chan_trysend(ch, &v) == 0)
			v++;
		ck_assert_uint_eq(chan_len(ch), cap);
		ck_assert(!chan__looks_ready(ch, CHAN_SEND));
		if (round % 2 == 0) {
			for (i = 1; i <= k; i++) {
				ck_assert_int_eq(chan_recv(ch, buf), 0);
				if (i == k)
					ck_assert(chan__looks_ready(ch,
					    CHAN_SEND));
			}
		} else {
			ck_assert_int_eq(chan_recvn(ch, buf, k, &got), 0);
			ck_assert_uint_eq(got, k);
			ck_assert(chan__looks_ready(ch, CHAN_SEND));
		}
		/* Shift where the ring is full by a few slots next round. */
		for (i = 0; i < round + 1 && chan_len(ch) > 0; i++)
			ck_assert_int_eq(chan_recv(ch, buf), 0);
	}
	chan_destroy(ch);
}
END_TEST

/*
 * White-box: sets an empty ring's counters as if n elements had passed
 * (struct chan: each slot's word says the lap that last filled it).
 */
static void
seek_ring(chan_t *ch, uint64_t n)
{
	uint64_t cap = ch->cap, lap = n / cap, s = n % cap, l;
	_Atomic size_t *word;
	size_t i;

	atomic_store(&ch->head, n);
	atomic_store(&ch->tail, n);
	atomic_store(&ch->head_hint, n);
	ch->head_cache = ch->tail_cache = n;
	ch->head_lap = ch->tail_lap = lap;
	ch->head_slot = ch->tail_slot = s;
	for (i = 0; i < cap; i++) {
		word = (_Atomic size_t *)(void *)(ch->ring + i * ch->stride);
		l = i < s ? lap : lap - 1;
		atomic_store(word, cap == 1 ? (size_t)(2 * lap) :
		    (size_t)(2 * l + 1));
	}
}

/*
 * 2^32 elements are minutes of traffic where size_t has 32 bits: a ring
 * whose counters cross it keeps its order and length, and a polling
 * receiver still sees an element (chan__looks_ready), at any capacity.
 */
START_TEST(ring_counters_cross_2_to_the_32)
{
	static const size_t caps[] = { 1, 2, 3, 7, 16, 1000, 1024 };
	size_t cap = caps[_i], len = 0, k, j, want;
	uint32_t in = 0, out = 0, buf[64];
	unsigned rng = 12345;
	chan_t *ch = new_chan(sizeof(uint32_t), cap, CHAN_BLOCK);
	int step;

	seek_ring(ch, (UINT64_C(1) << 32) - 3 * cap - 5);
	for (step = 0; step < 4000; step++) {
		ck_assert_uint_eq(chan_len(ch), len);
		ck_assert_msg(chan__looks_ready(ch, CHAN_RECV) == (len > 0),
		    "step %d: %zu buffered, looks_ready(RECV) %d", step, len,
		    (int)chan__looks_ready(ch, CHAN_RECV));
		rng = rng * 1103515245u + 12345u;
		want = 1 + (rng >> 8) % (cap < 64 ? cap : 64);
		if ((rng >> 16) % 2 == 0) {
			for (k = 0; k < want; k++)
				buf[k] = in + (uint32_t)k;
			if (chan_trysendn(ch, buf, want, &k) == 0) {
				in += (uint32_t)k;
				len += k;
			} else {
				ck_assert_uint_eq(len, cap);
			}
		} else if (chan_tryrecvn(ch, buf, want, &k) == 0) {
			for (j = 0; j < k; j++)
				ck_assert_uint_eq(buf[j], out + j);
			out += (uint32_t)k;
			len -= k;
		} else {
			ck_assert_uint_eq(len, 0);
		}
	}
	ck_assert_uint_gt((uint64_t)in + (UINT64_C(1) << 32) - 3 * cap - 5,
	    UINT64_C(1) << 32);		/* it did cross */
	chan_destroy(ch);
}
END_TEST

/* ------------------------------------------------------------------- main */

static Suite *
chan_suite(void)
{
	Suite *s = suite_create("chan");
	TCase *tc;

	tc = tcase_create("create");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, create_buffered_reports_cap_and_empty_len);
	tcase_add_test(tc, create_unbuffered_reports_cap_zero);
	tcase_add_test(tc, create_drop_and_slide_with_capacity);
	tcase_add_test(tc, create_unknown_policy_fails_einval);
	tcase_add_test(tc, create_drop_with_capacity_zero_fails_einval);
	tcase_add_test(tc, create_slide_with_capacity_zero_fails_einval);
	tcase_add_test(tc, create_overflowing_size_fails_einval);
	tcase_add_test(tc, create_huge_not_overflowing_fails_enomem);
	tcase_add_test(tc, destroy_null_is_noop);
	tcase_add_test(tc, destroy_with_buffered_elements);
	tcase_add_test(tc, len_and_cap_of_null_are_zero);
	suite_add_tcase(s, tc);

	tc = tcase_create("arguments");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, null_channel_fails_einval_everywhere);
	tcase_add_test(tc, send_null_elem_fails_einval_and_stores_nothing);
	tcase_add_test(tc, send_null_elem_fails_einval_on_drop_and_slide);
	tcase_add_test(tc, send_null_elem_on_closed_channel_fails_einval);
	tcase_add_test(tc, send_null_elem_leaves_waiting_receiver_waiting);
	tcase_add_test(tc, timed_calls_with_negative_nsec_fail_einval);
	tcase_add_test(tc, timed_calls_with_nsec_too_large_fail_einval);
	tcase_add_test(tc, channel_calls_leave_errno_alone);
	suite_add_tcase(s, tc);

	tc = tcase_create("cpus");
	tcase_add_test(tc, counts_the_cpus_its_affinity_mask_allows);
	suite_add_tcase(s, tc);

	tc = tcase_create("hints");
	tcase_add_loop_test(tc, polling_sender_sees_room_within_a_few_receives,
	    0, 7);
	tcase_add_loop_test(tc, ring_counters_cross_2_to_the_32, 0, 7);
	suite_add_tcase(s, tc);

	tc = tcase_create("sendrecv");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, send_copies_element_by_value);
	tcase_add_test(tc, recv_is_fifo_across_wraparound);
	tcase_add_test(tc, len_tracks_sends_and_recvs);
	tcase_add_test(tc, len_stays_within_cap_under_concurrency);
	tcase_add_test(tc, len_never_exceeds_what_a_batch_left);
	tcase_add_test(tc, trysend_on_full_channel_fails_eagain);
	tcase_add_test(tc, tryrecv_on_empty_channel_fails_eagain);
	tcase_add_test(tc, timedsend_on_full_channel_times_out);
	tcase_add_test(tc, timedrecv_on_empty_channel_times_out);
	tcase_add_test(tc, contended_ops_leave_errno_alone);
	tcase_add_test(tc, huge_spin_setting_is_harmless);
	tcase_add_test(tc, waits_work_without_a_thread_key);
#ifdef __GLIBC__
	tcase_add_test(tc, first_wait_allocates_nothing_with_many_thread_keys);
#endif
	tcase_add_test(tc, timedsend_past_deadline_acts_as_try);
	tcase_add_test(tc, timedrecv_past_deadline_acts_as_try);
	tcase_add_test(tc, timedrecv_null_deadline_waits_for_send);
	tcase_add_test(tc, timed_deadline_is_on_clock_monotonic);
	tcase_add_test(tc, timedsend_null_deadline_waits_for_room);
	tcase_add_test(tc, timedsend_completes_when_room_appears);
	tcase_add_test(tc, recv_null_elem_discards);
	tcase_add_test(tc, unbuffered_recv_null_elem_discards);
	tcase_add_test(tc, elem_size_zero_buffered_counts_signals);
	tcase_add_test(tc, elem_size_zero_batches_of_null_elements);
	tcase_add_test(tc, elem_size_zero_unbuffered_rendezvous);
	tcase_add_test(tc, blocked_send_completes_when_room_appears);
	tcase_add_test(tc, blocked_recv_completes_on_send);
	tcase_add_test(tc, batch_to_two_sleeping_receivers_wakes_both);
	tcase_add_test(tc, each_senders_elements_arrive_in_order);
	tcase_add_test(tc, each_senders_elements_arrive_in_order_unbuffered);
	suite_add_tcase(s, tc);

	tc = tcase_create("unbuffered");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, unbuffered_trysend_without_receiver_fails_eagain);
	tcase_add_test(tc, unbuffered_tryrecv_without_sender_fails_eagain);
	tcase_add_test(tc, unbuffered_timedsend_without_receiver_times_out);
	tcase_add_test(tc, unbuffered_trysend_succeeds_with_receiver_in_recv);
	tcase_add_test(tc, unbuffered_trysend_succeeds_with_receiver_in_select);
	tcase_add_test(tc, unbuffered_tryrecv_succeeds_with_sender_in_send);
	tcase_add_test(tc, unbuffered_tryrecv_succeeds_with_sender_in_select);
	tcase_add_test(tc, unbuffered_send_returns_only_after_receiver_took_it);
	tcase_add_test(tc,
	    unbuffered_timedsend_past_deadline_meets_waiting_receiver);
	tcase_add_test(tc,
	    unbuffered_timedrecv_past_deadline_meets_waiting_sender);
	suite_add_tcase(s, tc);

	tc = tcase_create("policies");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, block_seed_example);
	tcase_add_test(tc, drop_seed_example);
	tcase_add_test(tc, slide_seed_example);
	tcase_add_test(tc, drop_full_never_waits_and_returns_zero);
	tcase_add_test(tc, slide_full_never_waits_and_returns_zero);
	tcase_add_test(tc, slide_keeps_newest_in_order);
	tcase_add_test(tc, drop_keeps_oldest_until_room);
	tcase_add_test(tc, slide_send_wakes_blocked_receiver);
	suite_add_tcase(s, tc);

	tc = tcase_create("close");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, close_twice_fails_epipe);
	tcase_add_test(tc, racing_closes_succeed_exactly_once);
	tcase_add_test(tc, close_null_fails_einval);
	tcase_add_test(tc, send_after_close_fails_epipe_and_stores_nothing);
	tcase_add_test(tc,
	    send_after_close_fails_epipe_when_full_or_unbuffered);
	tcase_add_test(tc, recv_after_close_drains_then_epipe);
	tcase_add_test(tc, try_and_timed_recv_on_closed_drained_fail_epipe);
	tcase_add_test(tc, close_wakes_blocked_sender_with_epipe);
	tcase_add_test(tc, close_wakes_blocked_unbuffered_sender_with_epipe);
	tcase_add_test(tc, close_wakes_timed_sender_with_epipe);
	tcase_add_test(tc, close_wakes_blocked_receiver_with_epipe);
	tcase_add_test(tc, close_wakes_blocked_unbuffered_receiver_with_epipe);
	tcase_add_test(tc, close_wakes_every_waiting_receiver);
	tcase_add_test(tc, close_wakes_every_waiting_sender);
	tcase_add_test(tc, concurrent_drain_after_close_loses_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("tokens");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, token_channel_of_one_is_a_lock);
	tcase_add_test(tc, token_channel_of_n_is_a_semaphore);
	suite_add_tcase(s, tc);

	tc = tcase_create("batch");
	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, sendn_and_recvn_move_all_in_order);
	tcase_add_test(tc, sendn_partial_when_room_is_short);
	tcase_add_test(tc, recvn_partial_when_few_buffered);
	tcase_add_test(tc, recvn_null_elems_discards);
	tcase_add_test(tc, sendn_and_recvn_of_zero_count_zero);
	tcase_add_test(tc, trysendn_full_and_tryrecvn_empty_fail_eagain);
	tcase_add_test(tc, timedsendn_and_timedrecvn_time_out);
	tcase_add_test(tc, sendn_waits_only_for_first);
	tcase_add_test(tc, recvn_waits_only_for_first);
	tcase_add_test(tc, recvn_after_close_drains_then_epipe);
	tcase_add_test(tc, close_wakes_blocked_sendn_with_epipe);
	tcase_add_test(tc, close_wakes_blocked_recvn_with_epipe);
	tcase_add_test(tc, unbuffered_trysendn_hands_one_to_waiting_receiver);
	tcase_add_test(tc, unbuffered_sendn_serves_every_waiting_receiver);
	tcase_add_test(tc, unbuffered_tryrecvn_takes_from_waiting_sender);
	tcase_add_test(tc, unbuffered_sendn_completes_with_receiver);
	tcase_add_test(tc, sendn_on_drop_and_slide_obeys_policy);
	tcase_add_test(tc, slide_batch_longer_than_ring_keeps_the_newest);
	tcase_add_test(tc, batch_of_huge_count_moves_what_the_ring_allows);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(chan_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
