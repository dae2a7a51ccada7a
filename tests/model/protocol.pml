/*
 * libchan's waiter hand-off protocol in Promela, for the SPIN model
 * checker (make model; tests/model/run.sh).  A scenario file (unbuf.pml,
 * ring.pml, select.pml, cancel*.pml, close*.pml, drop.pml, slide.pml) says
 * how many threads and channels there are, the channels' capacities and
 * policies and the calls each thread makes, then includes this file; SPIN
 * explores every interleaving of those calls.
 *
 * What is modelled is the shared state the C code touches and the order in
 * which it touches it: the channel locks (send_mu, recv_mu), the waiter
 * queues and their counts (nsendw, nrecvw: here the queue's length), the
 * ring (its element count and slots), the retry flags, the closed flag
 * (written with both locks held, read with either), and for each waiter
 * its state word, its mutex and condition variable, and its entries'
 * linked flags.  A Promela step makes at most one access to a variable that
 * another thread may touch at the same moment without holding a lock this
 * thread holds; around that access it also does what it does on its own
 * locals or under its locks.  Taking a lock is merged with the step after
 * it, dropping one with the step before (Lipton's reduction: no other
 * thread can tell, since taking a lock moves right past others' steps and
 * dropping one left).  Reads of the ring's count are merged with the put
 * or take they decide, since the other side only ever moves the count the
 * way that keeps the decision true.
 *
 * SPIN runs the steps on sequentially consistent memory.  That is what the
 * C code's two fences buy it (chan.c's top comment): a waiter links its
 * entry, fences, looks at the ring again; a publisher stores, fences
 * (chan__unlock_fence), reads the waiter count.  Here a fence is a no-op and
 * the model marks where each one is, with the load after it a step of its
 * own; MUT_LOOK_BEFORE_LINK is what a missing fence allows (a store
 * buffer lets the look pass the link).  The model checks the protocol's
 * logic given the fences, not the fences.
 *
 * The correspondence, step by step.  Lines, here and below, are those of
 * commit 12acc1a, which added this model (`git show 12acc1a:src/chan.c`):
 * later changes move them, as eceb6d0 moved chan.c's from 466 on by seven
 * lines, and the function names find the code today.  Whoever changes
 * what one of these functions does updates the model and this table:
 *
 *   model                    C
 *   lock, unlock, qlock      chan__lock / chan__unlock(_fence) internal.h
 *                            139-154, 187-195; chan__queue_lock chan.c 92-96
 *   CLAIM                    chan__claim waiter.c 236-251: one CAS out of
 *                            WAITING or SLEEPING
 *   claim_first              chan.c 198-221: claim the head's waiter (213),
 *                            then unlink the entry (214), until one wins
 *   COMPLETE                 complete chan.c 229-244 (after the copy_elem
 *                            at 619 / 639, or the move at 712)
 *   chan_wake                chan__wake chan.c 247-256, chan__done_sleeping
 *                            waiter.c 259-276: lock w->mu, DONE, signal,
 *                            unlock
 *   LINK, UNLINK             chan__link chan.c 130-146, chan__unlink 153-168
 *   unlink_one               chan__unlink_all chan.c 174-189, one entry
 *   RING_PUT, RING_TAKE      put_one and ring_put chan.c 421-476, take_one
 *                            and ring_take 436-494; the count stands for
 *                            has_room 332-350 and has_elem 353-366
 *   BUF_LOCKED               buf_send_locked chan.c 530-564 (CHAN_BLOCK,
 *                            one element: closed 536-537, then has_room
 *                            547-549), buf_recv_locked 572-606 (the ring,
 *                            then closed 598-600)
 *   FAST_LOCKED              fast_send's and fast_recv's attempt (808-
 *                            811, 828-830): CHAN__RETRY for a full ring
 *                            under CHAN_DROP or CHAN_SLIDE
 *   policy_send              chan__trysend's second attempt (849-855), as
 *                            chan_send's transfer_once makes it too (1250-
 *                            1253, 1025-1036, 1099-1110): buf_send_locked
 *                            under CHAN_DROP (547-551) or CHAN_SLIDE (538-
 *                            545) with slide() 509-519 taking recv_mu;
 *                            since 2abc0da slide_put (at 2abc0da, 520-531
 *                            and its call 550-558) discards and puts with
 *                            recv_mu held throughout
 *   RING_DISCARD             slide's ring_take(ch, NULL, 1) (515)
 *   unbuf_locked             unbuf_send_locked chan.c 609-622 (closed
 *                            615-616, before the claim: claim_first's
 *                            cf_skip), unbuf_recv_locked 629-642 (closed
 *                            636-637 once no sender is queued: cf_empty)
 *   serve_queue              chan.c 690-717: head and ready() (700), the
 *                            retry flag, then the head's state (701-704),
 *                            claim_first (705), a sleeper gets RETRY and
 *                            the flag is set (707-710), else move and
 *                            complete (712-714)
 *   chan_serve               chan__serve chan.c 739-764: fence and nrecvw
 *                            (749-750), the receive side (751-755), nsendw
 *                            (756), the send side (757-761), until nothing
 *                            moved (762), then chan__wake (763)
 *   serve_if                 published chan.c 773-779, consumed 785-791
 *                            (the count, then the retry flag), chan__serve
 *   fast_op                  fast_send chan.c 802-820, fast_recv 822-838;
 *                            chan__trysend / chan__tryrecv 840-876 on a ring
 *                            (policy_send after a CHAN__RETRY)
 *   unbuf_try                chan__trysend / chan__tryrecv, unbuffered
 *   thread: the calls        chan_send 1238-1254, chan_recv 1272-1286 (fast
 *                            path, which returns EPIPE too, then
 *                            transfer_once polling first),
 *                            chan_timedsend 1262-1270 / chan_timedrecv
 *                            1294-1302 (transfer 1117-1135, one element),
 *                            chan_trysend / chan_tryrecv
 *   transfer_once            chan.c 976-1111: lock and attempt (1025-1036),
 *                            the deadline (1037-1040), unlock and poll
 *                            once (1041-1047), WAITING and chan__link
 *                            (1059-1066), fence and look again, unlink if
 *                            ready (1069-1079), unlock (1080), chan__wait
 *                            (1081), unlink after a timeout (1082-1085),
 *                            done (1086-1095), retried (1096-1097), the exit
 *                            (1099-1110)
 *   first_pass               select.c 215-238 (an unbuffered case with no
 *                            partner queued on an open channel is passed
 *                            over: 230-231 and chan__looks_ready chan.c
 *                            903-907)
 *   pass_retry               select.c 103-109
 *   select_impl_passed ...   select_impl select.c 404-406, select_wait
 *                            246-352: poll then a first pass (276-284),
 *                            lock_channels (286, 166-181), the locked pass
 *                            (288-293), unlock, wake, serve (294-300), the
 *                            deadline (303-310), WAITING and an entry
 *                            per case (312-322), unlock (329), chan__wait
 *                            (331), chan__unlink_all (332), timeout (334),
 *                            done (336-340), retried, pass_retry and a
 *                            first pass (341-344), pass_retry (346-351)
 *   chan_wait                chan__wait waiter.c 604-627: spin() (611, 416-
 *                            445: it sees the claim, or gives up), lock mu
 *                            and WAITING -> SLEEPING (612-616),
 *                            sleep_locked (565-593: the state under mu,
 *                            the cond wait, on ETIMEDOUT SLEEPING ->
 *                            ABORTED or an untimed wait), unlock (621),
 *                            await_done (625, 291-304)
 *   wait_cancelled           waiter.c 544-559, then op_cancelled chan.c
 *                            879-891 or sel_cancelled select.c 112-125
 *   chan_close               chan.c 1205-1227: chan__lock_all and closed
 *                            (1213-1218), claim_first and complete with
 *                            EPIPE for each sender (1219-1220), rest from
 *                            has_elem (1221), the same for each receiver
 *                            with rest (1222-1223), chan__unlock_all and
 *                            chan__wake (1224-1225)
 *
 * The polls (chan__poll, waiter.c 482-499) only read hints and pause: any
 * outcome leads to the same next step, so a poll is the delay it is (the
 * other threads' steps in between).  spin() is a choice: it may see the
 * claim, or give up at any moment.  The deadline is a flag that a clock
 * process sets once at any moment, or never; a cancellation request
 * likewise (a canceller), acted on where the victim waits in
 * pthread_cond_wait (the testcancel calls at the start of each call act
 * before anything is queued or moved).
 *
 * What is checked:
 *   - complete() only on a waiter its completer claimed, through an entry
 *     of the waiter's current wait, once per wait (a select completes at
 *     most one case; a stale entry never completes a later call);
 *   - a wait that timed out was never completed (ncomp), and one that
 *     returned 0 was completed once;
 *   - every element received was sent and is received at most once, and
 *     never once it was discarded; at the end, every element whose send
 *     returned 0 was received exactly once, is still in its ring, or was
 *     discarded (dropped by CHAN_DROP, slid out by CHAN_SLIDE, never
 *     twice), and no other was: a send that returned EPIPE or timed out
 *     delivered nothing (each_element_once: a timed-out or cancelled
 *     waiter claimed at the same moment delivers exactly once or passes its
 *     wake-up on);
 *   - nothing enters a closed channel's ring (RING_PUT); EPIPE comes only
 *     from a closed channel, and a receive's only once its ring is empty:
 *     since nothing is put after the close, it is still empty when the
 *     receive returns (drained_before_epipe: a receive gets every element
 *     buffered before its EPIPE);
 *   - a receive's fast path never finds a CHAN_SLIDE ring one short, its
 *     oldest element discarded and the new one not yet in
 *     (one_short_never_seen: no such state of the channel exists; a try
 *     receive would fail EAGAIN on a channel that held an element before
 *     the send and after it).  This is the only check here of a ring state
 *     a caller sees: the model does not check linearizability;
 *   - at the end (no thread can move: the watcher's timeout), every thread
 *     has returned or sleeps in its condition wait, SLEEPING and not
 *     signalled, with an entry of that wait still queued (a sleeper whose
 *     entries all left their queues unclaimed would sleep for ever:
 *     returned_or_asleep); no entry is left linked for a waiter no longer
 *     waiting (no_stale_entry); no sleeper's case could complete: no
 *     waiter is queued on a closed channel (close wakes every one, and none
 *     queues after it), no receiver sleeps beside an element in its ring or
 *     a sleeping sender on its unbuffered channel, no sender beside room
 *     (no_lost_wakeup);
 *   - SPIN's own end-state check: a thread blocked anywhere but in its
 *     condition wait (a lock, await_done) is an invalid end state.
 *
 * Mutants, one at a time with -DMUT_<name> (make model-mutants checks that
 * SPIN rejects each on the scenario tests/model/run.sh names), each a bug
 * the C code could have:
 *   NO_SECOND_LOOK      transfer_once does not look at the ring after
 *                       linking its entry
 *   LOOK_BEFORE_LINK    it looks before linking (a missing fence)
 *   NO_PUBLISHED        a send on a ring never calls published()
 *   NO_BATON            one woken to retry leaves without chan__serve
 *   UNLINK_BEFORE_CLAIM claim_first unlinks the entry before the claim
 *   LOAD_STORE_CLAIM    the claim is a load and a store, not one CAS
 *   SIGNAL_UNLOCKED     chan__done_sleeping signals without w->mu
 *   TIMEOUT_WINS        a timed-out waiter whose CAS to ABORTED failed
 *                       (it was claimed) reports ETIMEDOUT all the same
 *   SELECT_NO_SERVE     a select's locked pass does not chan__serve
 *   SELECT_NO_UNLINK    a select leaves its other entries queued
 *   CANCEL_NO_PASS      a cancelled call woken to retry does not serve
 *   CANCEL_BLIND_ABORT  a cancelled waiter stores ABORTED even if claimed
 *   CLOSE_NO_WAKE_RECV  chan_close leaves the queued receivers asleep
 *   CLOSE_DROP_QUEUE    chan_close empties the receive queue without
 *                       claiming (or waking) the waiters
 *   CLOSE_MARK_LATE     chan_close claims and wakes the waiters, then
 *                       takes the locks again to mark the channel closed
 *   CLOSE_EPIPE_REST    chan_close gives the receivers EPIPE even when
 *                       the ring holds elements (no retry to drain it)
 *   EPIPE_BEFORE_DRAIN  a receive on a closed channel fails EPIPE before
 *                       it looks at the ring
 *   SEND_AFTER_CLOSE    a send does not check closed
 *   SLIDE_SPLIT         slide_put() drops recv_mu between its discard
 *                       and its put, as slide() did before 2abc0da
 *   SLIDE_NO_RECHECK    slide_put() discards on the word of the look made
 *                       without recv_mu, though a receiver made room since
 *   SLIDE_NO_PUBLISHED  a CHAN_SLIDE or CHAN_DROP send that found the ring
 *                       full at first (fast_send's CHAN__RETRY) does not
 *                       call published() after its second attempt
 */

/*
 * Replaying a trail (spin -t) prints the model's events ("T1 claims T2
 * (was 1)"), with the states, ops and results as these numbers.
 */
#define WAITING		0
#define SLEEPING	1
#define CLAIMED		2
#define DONE		3
#define ABORTED		4
#define NONE		255

#define SEND		0
#define RECV		1

/* Results: 0, EAGAIN, ETIMEDOUT, CHAN__RETRY, EPIPE. */
#define R_OK		0
#define R_EAGAIN	1
#define R_ETIMEDOUT	2
#define R_RETRY		3	/* also fast_send's "full, not CHAN_BLOCK" */
#define R_CANCEL	4	/* the cond wait acted on a cancel */
#define R_EPIPE		5
#define R_SLIDE		6	/* policy_send: full, slide_put() comes next */

/* Policies (a scenario sets POL0, POL1; CHAN_BLOCK unless it does). */
#define P_BLOCK		0
#define P_DROP		1
#define P_SLIDE		2
#ifndef POL0
#define POL0		P_BLOCK
#endif
#ifndef POL1
#define POL1		P_BLOCK
#endif

/* What a script asks a thread to do (tests/model/*.pml). */
#define K_END		0
#define K_SEND		1	/* chan_send */
#define K_RECV		2	/* chan_recv */
#define K_TSEND		3	/* chan_timedsend */
#define K_TRECV		4	/* chan_timedrecv */
#define K_TRYSEND	5	/* chan_trysend */
#define K_TRYRECV	6	/* chan_tryrecv */
#define K_SELECT	7	/* chan_select over two cases */
#define K_TSELECT	8	/* chan_timedselect */
#define K_CLOSE		9	/* chan_close */

/* The thread a canceller may cancel (a scenario sets CANCEL), or none. */
#ifdef CANCEL
#define CANCEL_T	CANCEL
#else
#define CANCEL_T	NT
#endif

/* Entries: thread t's plain one (w->ent) is 3t, its select cases 3t+1, 3t+2. */
#define NE		(NT * 3)
#define QMAX		NT
#define OWNER(e)	((e) / 3)
#define EIDX(e)		(((e) % 3) == 0 -> 0 : ((e) % 3) - 1)
#define CAP(c)		((c) == 0 -> CAP0 : CAP1)
#define POL(c)		((c) == 0 -> POL0 : POL1)
#define QI(c, op)	((c) * 2 + (op))
#define ME		(t + 1)

/* The queue's lock (chan__queue_lock): recv_mu for a buffered receive. */
#define ON_RMU(c, op)	(CAP(c) > 0 && (op) == RECV)

/* Channels: locks (0 free, else the holder's t + 1), ring, queues. */
byte smu[NCH];
byte rmu[NCH];
byte cnt[NCH];			/* elements in the ring, tail - head */
byte slot[NCH * 2];		/* its elements, oldest first (cap <= 2) */
byte q[NCH * 2 * QMAX];		/* sendq, recvq: entries, head first */
byte qlen[NCH * 2];		/* nsendw, nrecvw */
bit retryf[NCH * 2];		/* send_retry, recv_retry */
bit closed[NCH];

/* Waiters, one per thread. */
byte wstate[NT];
byte windex[NT];
byte wresult[NT];
byte wmu[NT];
byte incond[NT];		/* 0: not in the cond wait, 1: in it, 2: signalled */

/* Entries. */
byte ech[NE];
bit eop[NE];
bit elinked[NE];
byte ebuf[NE];			/* a send's element, a receive's target */

/* Checks only (ghosts): no C counterpart. */
byte wgen[NT];			/* which wait of its thread */
byte egen[NE];			/* the wait an entry was linked for */
byte ncomp[NT];			/* completions of the current wait */
bit sent[NV + 1];		/* the sender saw 0 (or was claimed, cancelled) */
bit rcvd[NV + 1];		/* a receiver got it */
bit gone[NV + 1];		/* dropped, or slid out of its ring */
bit finished[NT];
bit expired;			/* the deadline passed */
bit cancel_req;			/* the victim has a cancel pending */
bit drained_before_epipe = 1;	/* for account's assertion, by name */
bit halfslid[NCH];		/* a slide's discard done, its put not yet */
bit one_short_never_seen = 1;	/* for fast_op's assertion, by name */

inline lock(lk_m)
{
	atomic { lk_m == 0 -> lk_m = ME }
}

inline unlock(ul_m)
{
	d_step { assert(ul_m == ME); ul_m = 0 }
}

#define QLOCK_GUARD(c, op) \
	((ON_RMU(c, op) && rmu[c] == 0) || (!ON_RMU(c, op) && smu[c] == 0))

#define QLOCK_TAKE(c, op) \
	if \
	:: ON_RMU(c, op) -> rmu[c] = ME \
	:: else -> smu[c] = ME \
	fi

#define QUNLOCK(c, op) \
	if \
	:: ON_RMU(c, op) -> assert(rmu[c] == ME); rmu[c] = 0 \
	:: else -> assert(smu[c] == ME); smu[c] = 0 \
	fi

inline qlock(ql_c, ql_op)
{
	atomic { QLOCK_GUARD(ql_c, ql_op) -> QLOCK_TAKE(ql_c, ql_op) }
}

inline qunlock(qu_c, qu_op)
{
	d_step { QUNLOCK(qu_c, qu_op) }
}

/* chan__link: append e; with the lock of its queue held. */
#define LINK(c, op, e) \
	q[QI(c, op) * QMAX + qlen[QI(c, op)]] = e; \
	qlen[QI(c, op)]++; \
	elinked[e] = 1; \
	printf("T%d links case %d on ch%d %d\n", t, EIDX(e), c, op)

/* chan__unlink: e leaves its queue; with the lock held; inside a d_step. */
#define UNLINK(e) \
	assert(elinked[e]); \
	ui = 0; \
	do \
	:: q[QI(ech[e], eop[e]) * QMAX + ui] == e -> break \
	:: else -> ui++; assert(ui < qlen[QI(ech[e], eop[e])]) \
	od; \
	do \
	:: ui + 1 < qlen[QI(ech[e], eop[e])] -> \
		q[QI(ech[e], eop[e]) * QMAX + ui] = \
		    q[QI(ech[e], eop[e]) * QMAX + ui + 1]; \
		ui++ \
	:: else -> break \
	od; \
	q[QI(ech[e], eop[e]) * QMAX + ui] = 0; \
	qlen[QI(ech[e], eop[e])]--; \
	elinked[e] = 0; \
	printf("T%d unlinks T%d case %d\n", t, OWNER(e), EIDX(e)); \
	ui = 0

/*
 * The ring, oldest element in slot[2c].  Nothing enters a closed
 * channel's ring (every send after the close fails EPIPE).
 */
#define RING_PUT(c, val) \
	assert(cnt[c] < CAP(c)); assert(!closed[c]); \
	slot[(c) * 2 + cnt[c]] = val; cnt[c]++; \
	printf("T%d puts %d in ch%d\n", t, val, c)

#define RING_TAKE(c, to) \
	assert(cnt[c] > 0); to = slot[(c) * 2]; \
	slot[(c) * 2] = slot[(c) * 2 + 1]; slot[(c) * 2 + 1] = 0; cnt[c]--; \
	printf("T%d takes %d from ch%d\n", t, to, c)

/* CHAN_SLIDE's discard of the oldest element (ring_take(ch, NULL, 1)). */
#define RING_DISCARD(c) \
	assert(cnt[c] > 0); \
	assert(!rcvd[slot[(c) * 2]] && !gone[slot[(c) * 2]]); \
	gone[slot[(c) * 2]] = 1; \
	printf("T%d slides %d out of ch%d\n", t, slot[(c) * 2], c); \
	slot[(c) * 2] = slot[(c) * 2 + 1]; slot[(c) * 2 + 1] = 0; cnt[c]--

/*
 * chan__claim: one compare-and-swap out of WAITING or SLEEPING; was gets
 * the state it was claimed from, or NONE.
 */
#define CLAIM(w, was) \
	atomic { \
		if \
		:: wstate[w] == WAITING || wstate[w] == SLEEPING -> \
			was = wstate[w]; wstate[w] = CLAIMED; \
			printf("T%d claims T%d (was %d)\n", t, w, was) \
		:: else -> was = NONE; \
			printf("T%d fails to claim T%d (%d)\n", t, w, wstate[w]) \
		fi \
	}

/*
 * claim_first: with the queue's lock held, claims the first entry's waiter,
 * then unlinks the entry, until a claim succeeds or the queue is empty.
 * cf_skip, read under the same lock, says not to look at the queue at all
 * (an unbuffered send on a closed channel fails before it claims);
 * cf_res gets cf_empty, in the same step, when no entry is left to claim.
 */
inline claim_first(cf_c, cf_op, cf_e, cf_was, cf_skip, cf_res, cf_empty)
{
	do
	::
#if defined(MUT_UNLINK_BEFORE_CLAIM)
		/* Mutant: the entry leaves the queue before its waiter is claimed. */
		d_step {
			cf_e = NONE;
			cf_was = NONE;
			if
			:: qlen[QI(cf_c, cf_op)] > 0 && !(cf_skip) ->
				cf_e = q[QI(cf_c, cf_op) * QMAX];
				UNLINK(cf_e)
			:: else -> cf_res = cf_empty
			fi
		}
		if
		:: cf_e == NONE -> break
		:: else
		fi;
		CLAIM(OWNER(cf_e), cf_was);
		if
		:: cf_was != NONE -> break
		:: else
		fi
#else
		atomic {
			cf_e = NONE;
			cf_was = NONE;
			if
			:: qlen[QI(cf_c, cf_op)] > 0 && !(cf_skip) ->
				cf_e = q[QI(cf_c, cf_op) * QMAX];
#if defined(MUT_LOAD_STORE_CLAIM)
				/* Mutant: a load here, a plain store below. */
				if
				:: wstate[OWNER(cf_e)] <= SLEEPING ->
					cf_was = wstate[OWNER(cf_e)]
				:: else
				fi
#else
				CLAIM(OWNER(cf_e), cf_was)
#endif
			:: else -> cf_res = cf_empty
			fi
		}
		if
		:: cf_e == NONE -> break
		:: else
		fi;
#if defined(MUT_LOAD_STORE_CLAIM)
		if
		:: cf_was != NONE ->
			wstate[OWNER(cf_e)] = CLAIMED;
			printf("T%d claims T%d (was %d)\n", t, OWNER(cf_e), cf_was)
		:: else
		fi;
#endif
		d_step { UNLINK(cf_e) }
		if
		:: cf_was != NONE -> break
		:: else
		fi
#endif
	od
}

/*
 * complete: the claimed entry e's outcome, with its element already moved.
 * A waiter claimed from WAITING (spinning) gets DONE at once; a sleeper
 * goes on the wake list (a bit per waiter), for chan_wake.
 */
#define COMPLETE(e, was, res, wake) \
	assert(wstate[OWNER(e)] == CLAIMED); \
	assert(egen[e] == wgen[OWNER(e)]); \
	assert(ncomp[OWNER(e)] == 0); \
	ncomp[OWNER(e)] = 1; \
	windex[OWNER(e)] = EIDX(e); \
	wresult[OWNER(e)] = res; \
	if \
	:: was == WAITING -> wstate[OWNER(e)] = DONE \
	:: else -> wake = wake | (1 << OWNER(e)) \
	fi; \
	printf("T%d completes T%d case %d: %d\n", t, OWNER(e), EIDX(e), res)

/*
 * chan__wake: chan__done_sleeping for each waiter on the list: under its
 * mu, DONE and the signal (which wakes it only if it is in its cond wait).
 */
inline chan_wake(cw_wake)
{
	do
	:: cw_wake == 0 -> break
	:: else ->
		d_step {
			wk = 0;
			do
			:: (cw_wake & (1 << wk)) != 0 -> break
			:: else -> wk++
			od
		}
#ifndef MUT_SIGNAL_UNLOCKED
		atomic {
			wmu[wk] == 0 -> wmu[wk] = ME;
#else
		/* Mutant: DONE and the signal without the waiter's mu. */
		atomic {
#endif
			assert(wstate[wk] == CLAIMED);
			wstate[wk] = DONE;
			printf("T%d wakes T%d\n", t, wk);
			if
			:: incond[wk] == 1 -> incond[wk] = 2
			:: else
			fi;
#ifndef MUT_SIGNAL_UNLOCKED
			wmu[wk] = 0
#else
			skip
#endif
		}
		cw_wake = cw_wake & ~(1 << wk);
		wk = 0
	od
}

/*
 * The attempt with the queue's lock (both, for a select) held, for a
 * buffered channel: buf_send_locked / buf_recv_locked, one element, as one
 * step (the count only moves the other way meanwhile, which cannot change
 * a "there is room" or "there is an element" already read; closed cannot
 * change while either lock is held).  A send checks closed first; a
 * receive takes what is buffered, and finds EPIPE only on an empty ring.
 * A send to a full ring: EAGAIN under CHAN_BLOCK.  Under CHAN_DROP and
 * CHAN_SLIDE this is never reached: fast_op hands such a send to
 * policy_send, and a select's first pass completes a case that sends on
 * such a channel (0 or EPIPE), so its locked pass never meets one.
 */
#ifdef MUT_EPIPE_BEFORE_DRAIN
/* Mutant: a receive on a closed channel fails before it looks at the ring. */
#define RECV_TAKES(c)	(cnt[c] > 0 && !closed[c])
#define RECV_EPIPE(c)	(closed[c])
#else
#define RECV_TAKES(c)	(cnt[c] > 0)
#define RECV_EPIPE(c)	(cnt[c] == 0 && closed[c])
#endif

#ifdef MUT_SEND_AFTER_CLOSE
/* Mutant: a send does not look at closed (it is stored, or handed over). */
#define SEND_CLOSED(c)	0
#else
#define SEND_CLOSED(c)	closed[c]
#endif

#define DROP(c, v) \
	assert(!gone[v]); gone[v] = 1; \
	printf("T%d drops %d (ch%d full)\n", t, v, c)

#define BUF_LOCKED(op, c, v, got, r) \
	if \
	:: (op) == SEND && SEND_CLOSED(c) -> r = R_EPIPE \
	:: (op) == SEND && !SEND_CLOSED(c) && cnt[c] < CAP(c) -> \
		RING_PUT(c, v); r = R_OK \
	:: (op) == SEND && !SEND_CLOSED(c) && cnt[c] == CAP(c) -> \
		assert(POL(c) == P_BLOCK); r = R_EAGAIN \
	:: (op) == RECV && RECV_TAKES(c) -> RING_TAKE(c, got); r = R_OK \
	:: (op) == RECV && RECV_EPIPE(c) -> r = R_EPIPE \
	:: else -> r = R_EAGAIN \
	fi

/*
 * fast_send / fast_recv's attempt: the same, except that a send to a full
 * ring under CHAN_DROP or CHAN_SLIDE gives up (CHAN__RETRY) for the
 * general path, policy_send.
 */
#define FAST_LOCKED(op, c, v, got, r) \
	if \
	:: (op) == SEND && SEND_CLOSED(c) -> r = R_EPIPE \
	:: (op) == SEND && !SEND_CLOSED(c) && cnt[c] < CAP(c) -> \
		RING_PUT(c, v); r = R_OK \
	:: (op) == SEND && !SEND_CLOSED(c) && cnt[c] == CAP(c) -> \
		r = (POL(c) == P_BLOCK -> R_EAGAIN : R_RETRY) \
	:: (op) == RECV && RECV_TAKES(c) -> RING_TAKE(c, got); r = R_OK \
	:: (op) == RECV && RECV_EPIPE(c) -> r = R_EPIPE \
	:: else -> r = R_EAGAIN \
	fi

inline buf_locked(bl_op, bl_c, bl_v, bl_got, bl_r)
{
	d_step { BUF_LOCKED(bl_op, bl_c, bl_v, bl_got, bl_r) }
}

/*
 * unbuf_send_locked / unbuf_recv_locked, with send_mu held: a send checks
 * closed first, a receive once no sender is queued (close woke them all).
 */
inline unbuf_locked(ub_op, ub_c, ub_v, ub_got, ub_r, ub_wake)
{
	claim_first(ub_c, 1 - ub_op, ce, cwas,
	    ub_op == SEND && SEND_CLOSED(ub_c),
	    ub_r, (closed[ub_c] -> R_EPIPE : R_EAGAIN));
	if
	:: ce == NONE
	:: else ->
		d_step {
			if
			:: ub_op == SEND -> ebuf[ce] = ub_v
			:: else -> ub_got = ebuf[ce]
			fi;
			COMPLETE(ce, cwas, R_OK, ub_wake);
			ub_r = R_OK;
			ce = 0;
			cwas = 0
		}
	fi
}

inline locked_attempt(la_op, la_c, la_v, la_got, la_r, la_wake)
{
	if
	:: CAP(la_c) > 0 -> buf_locked(la_op, la_c, la_v, la_got, la_r)
	:: else -> unbuf_locked(la_op, la_c, la_v, la_got, la_r, la_wake)
	fi
}

/*
 * serve_queue: takes the op queue's lock (sq_mu) and hands elements (RECV)
 * or room (SEND) to the queue's waiters: a spinning one is completed at
 * once, the first sleeper is woken to retry and ends the round; then drops
 * the lock.
 */
inline serve_queue(sq_c, sq_op, sq_mu)
{
	do
	:: atomic {
		/* the queue's lock (taken on the first turn), then */
		(sq_mu == 0 || sq_mu == ME) -> sq_mu = ME;
		/* head != NULL && ready(ch) */
		sgo = qlen[QI(sq_c, sq_op)] > 0 &&
		    ((sq_op == RECV && cnt[sq_c] > 0) ||
		    (sq_op == SEND && cnt[sq_c] < CAP(sq_c)));
		if
		:: !sgo -> sq_mu = 0	/* and unlocked, if nothing to do */
		:: else
		fi
	   }
		if
		:: !sgo -> break
		:: else
		fi;
		/* retry && head's waiter SLEEPING: one woken to retry will serve */
		if
		:: retryf[QI(sq_c, sq_op)] ->
			if
			:: wstate[OWNER(q[QI(sq_c, sq_op) * QMAX])] == SLEEPING -> break
			:: else
			fi
		:: else
		fi;
		claim_first(sq_c, sq_op, se, swas, 0, se, NONE);
		if
		:: se == NONE -> break
		:: swas == SLEEPING ->
			d_step {
				retryf[QI(sq_c, sq_op)] = 1;
				COMPLETE(se, swas, R_RETRY, swake)
			}
			break
		:: else ->
			/* move_to_receiver / move_from_sender */
			d_step {
				if
				:: sq_op == RECV -> RING_TAKE(sq_c, ebuf[se])
				:: else -> RING_PUT(sq_c, ebuf[se])
				fi
			}
			d_step {
				COMPLETE(se, swas, R_OK, swake);
				smoved = 1
			}
		fi
	od;
	atomic {
		if
		:: sq_mu == ME -> sq_mu = 0
		:: else
		fi;
		sgo = 0;
		se = 0;
		swas = 0
	}
}

/* chan__serve: matches a buffered channel's waiters with its ring. */
inline chan_serve(cs_ch)
{
	sch = cs_ch;
	printf("T%d serves ch%d\n", t, sch);
	if
	:: CAP(sch) == 0
	:: else ->
		do
		:: smoved = 0;
			/* atomic_thread_fence; then nrecvw */
			if
			:: qlen[QI(sch, RECV)] > 0 ->
				/* lock, serve_queue, unlock_fence */
				serve_queue(sch, RECV, rmu[sch])
			:: else
			fi;
			/* nsendw */
			if
			:: qlen[QI(sch, SEND)] > 0 ->
				serve_queue(sch, SEND, smu[sch])
			:: else
			fi;
			if
			:: smoved
			:: else -> break
			fi
		od;
		smoved = 0;
		chan_wake(swake)
	fi;
	sch = 0
}

/*
 * What a call does once it dropped its lock: published() after a buffered
 * send (nrecvw, then recv_retry; serve if someone waits and no one woken
 * to retry has yet to run), consumed() after a buffered receive (the same
 * for senders), or chan__serve itself.
 */
#define SRV_NONE	0
#define SRV_ALWAYS	1
#define SRV_PUBLISHED	2
#define SRV_CONSUMED	3
#define SRV_SIDE(k)	((k) == SRV_PUBLISHED -> RECV : SEND)

inline serve_if(si_kind, si_c)
{
	sk = si_kind;
	if
	:: sk == SRV_PUBLISHED || sk == SRV_CONSUMED ->
		/* the waiter count, after the unlock's fence */
		atomic {
			if
			:: qlen[QI(si_c, SRV_SIDE(sk))] > 0
			:: else -> sk = SRV_NONE
			fi
		}
		/* the retry flag */
		if
		:: sk != SRV_NONE ->
			atomic {
				if
				:: !retryf[QI(si_c, SRV_SIDE(sk))] -> sk = SRV_ALWAYS
				:: else -> sk = SRV_NONE
				fi
			}
		:: else
		fi
	:: else
	fi;
	if
	:: sk == SRV_ALWAYS -> chan_serve(si_c)
	:: else
	fi;
	sk = 0
}

/*
 * fast_send / fast_recv (chan_send, chan_recv and chan_trysend,
 * chan_tryrecv on a ring; a select's first pass): lock, one element,
 * unlock (with its fence), as one step; then published() or consumed().
 */
#ifdef MUT_NO_PUBLISHED
#define AFTER_SEND	SRV_NONE	/* Mutant: a send that never serves. */
#else
#define AFTER_SEND	SRV_PUBLISHED
#endif

/*
 * The general path of a send under CHAN_DROP or CHAN_SLIDE, where
 * fast_send found the ring full (CHAN__RETRY): chan_send's transfer_once
 * and chan__trysend both lock send_mu, call buf_send_locked, which never
 * says EAGAIN under these policies, and unlock with the fence.  A full
 * ring under CHAN_SLIDE: slide_put() takes recv_mu, looks again (a
 * receiver may have made room meanwhile), discards the oldest and puts,
 * then drops recv_mu; dropping send_mu after it joins that step.
 */
inline policy_send(ps_c, ps_v, ps_r)
{
	atomic {
		smu[ps_c] == 0 -> smu[ps_c] = ME;
		if
		:: SEND_CLOSED(ps_c) -> ps_r = R_EPIPE
		:: !SEND_CLOSED(ps_c) && cnt[ps_c] < CAP(ps_c) ->
			RING_PUT(ps_c, ps_v); ps_r = R_OK
		:: !SEND_CLOSED(ps_c) && cnt[ps_c] == CAP(ps_c) &&
		    POL(ps_c) == P_DROP ->
			DROP(ps_c, ps_v); ps_r = R_OK
		:: else -> assert(POL(ps_c) == P_SLIDE); ps_r = R_SLIDE
		fi;
		if
		:: ps_r != R_SLIDE -> smu[ps_c] = 0	/* chan__unlock_fence */
		:: else
		fi
	}
	if
	:: ps_r == R_SLIDE ->
		/*
		 * slide_put(): lock recv_mu, look again, discard, put, unlock;
		 * then chan__unlock_fence(send_mu)
		 */
		atomic {
			rmu[ps_c] == 0 -> rmu[ps_c] = ME;
#ifndef MUT_SLIDE_NO_RECHECK
			if
			:: cnt[ps_c] == CAP(ps_c) -> RING_DISCARD(ps_c)
			:: else
			fi;
#else
			/* Mutant: it trusts the look made without recv_mu. */
			RING_DISCARD(ps_c);
#endif
#ifndef MUT_SLIDE_SPLIT
			RING_PUT(ps_c, ps_v);
			rmu[ps_c] = 0;
#else
			/*
			 * Mutant (slide() before 2abc0da): recv_mu is dropped
			 * between the discard and the put, the ring one short.
			 */
			halfslid[ps_c] = 1;
			rmu[ps_c] = 0
		}
		d_step {
			halfslid[ps_c] = 0;
			RING_PUT(ps_c, ps_v);
#endif
			ps_r = R_OK;
			assert(smu[ps_c] == ME);
			smu[ps_c] = 0
		}
	:: else
	fi
}

#ifdef MUT_SLIDE_NO_PUBLISHED
/* Mutant: the general path of a CHAN_SLIDE or CHAN_DROP send never serves. */
#define AFTER_POLICY	SRV_NONE
#else
#define AFTER_POLICY	AFTER_SEND
#endif

/*
 * fast_op's receive finds no element only on a ring that holds none: not
 * on one that a slide holds one short, between its discard and its put,
 * a state the channel never has (one_short_never_seen).
 */
inline fast_op(fo_op, fo_c, fo_v, fo_got, fo_r)
{
	atomic {
		QLOCK_GUARD(fo_c, fo_op) -> QLOCK_TAKE(fo_c, fo_op);
		FAST_LOCKED(fo_op, fo_c, fo_v, fo_got, fo_r);
		one_short_never_seen = !(fo_op == RECV && fo_r == R_EAGAIN &&
		    halfslid[fo_c]);
		assert(one_short_never_seen);
		QUNLOCK(fo_c, fo_op);
		sk0 = (fo_r != R_OK -> SRV_NONE :
		    (fo_op == SEND -> AFTER_SEND : SRV_CONSUMED))
	}
	if
	:: fo_r == R_RETRY ->
		policy_send(fo_c, fo_v, fo_r);
		sk0 = (fo_r != R_OK -> SRV_NONE : AFTER_POLICY)
	:: else
	fi;
	serve_if(sk0, fo_c);
	sk0 = 0
}

/* chan__trysend / chan__tryrecv on an unbuffered channel. */
inline unbuf_try(ut_op, ut_c, ut_v, ut_got, ut_r)
{
	lock(smu[ut_c]);
	unbuf_locked(ut_op, ut_c, ut_v, ut_got, ut_r, wake);
	unlock(smu[ut_c]);
	chan_wake(wake)
}

/* chan__unlink_all for one entry: the owner, no longer waiting. */
inline unlink_one(uo_x)
{
	if
	:: elinked[uo_x] ->
		/* lock, linked again, unlink, unlock: one step */
		atomic {
			QLOCK_GUARD(ech[uo_x], eop[uo_x]) ->
			QLOCK_TAKE(ech[uo_x], eop[uo_x]);
			if
			:: elinked[uo_x] -> UNLINK(uo_x)
			:: else
			fi;
			QUNLOCK(ech[uo_x], eop[uo_x])
		}
	:: else
	fi
}

/* Locks every distinct channel of the select's cases in index order. */
#define LOCK_CHANNELS \
	smu[lo] == 0 && (CAP(lo) == 0 || rmu[lo] == 0) && \
	    (hi == lo || (smu[hi] == 0 && (CAP(hi) == 0 || rmu[hi] == 0))) -> \
	smu[lo] = ME; \
	if \
	:: CAP(lo) > 0 -> rmu[lo] = ME \
	:: else \
	fi; \
	if \
	:: hi != lo -> \
		smu[hi] = ME; \
		if \
		:: CAP(hi) > 0 -> rmu[hi] = ME \
		:: else \
		fi \
	:: else \
	fi

#define UNLOCK_CHANNELS \
	if \
	:: CAP(lo) > 0 -> assert(rmu[lo] == ME); rmu[lo] = 0 \
	:: else \
	fi; \
	assert(smu[lo] == ME); smu[lo] = 0; \
	if \
	:: hi != lo -> \
		if \
		:: CAP(hi) > 0 -> assert(rmu[hi] == ME); rmu[hi] = 0 \
		:: else \
		fi; \
		assert(smu[hi] == ME); smu[hi] = 0 \
	:: else \
	fi

/*
 * lock_channels: every distinct channel of the cases in index order (taken
 * one after the other in the C code; as one step here, since taking a lock
 * moves right).
 */
inline lock_channels()
{
	d_step {
		lo = (sc[0] < sc[1] -> sc[0] : sc[1]);
		hi = (sc[0] < sc[1] -> sc[1] : sc[0])
	}
	atomic { LOCK_CHANNELS }
}

inline unlock_channels()
{
	d_step { UNLOCK_CHANNELS }
}

/*
 * What a thread's call on channel ac_c did, for the data checks.  A
 * receive gets an element at most once, and never one that was discarded.
 * EPIPE comes only from a closed channel, and a receive's only from a
 * drained one: since nothing enters a closed channel's ring, it must still
 * be empty when the receive returns (drained_before_epipe).
 */
inline account(ac_op, ac_c, ac_val, ac_gotv, ac_res)
{
	d_step {
		if
		:: ac_res == R_OK && ac_op == SEND ->
			assert(!sent[ac_val]); sent[ac_val] = 1
		:: ac_res == R_OK && ac_op == RECV ->
			assert(ac_gotv >= 1 && ac_gotv <= NV);
			assert(!rcvd[ac_gotv] && !gone[ac_gotv]);
			rcvd[ac_gotv] = 1
		:: ac_res == R_EPIPE ->
			assert(closed[ac_c]);
			drained_before_epipe =
			    (ac_op == SEND || cnt[ac_c] == 0);
			assert(drained_before_epipe)
		:: else
		fi
	}
}

/* The scenario's SCRIPT: what thread t's k-th call is. */
inline script()
{
	if
	SCRIPT
	:: else
	fi
}

/*
 * A thread: the calls of its script, one after the other.  Its body holds
 * each C function the calls share once, reached by goto and left by a
 * goto back to the caller (fp_ret, pr_ret, wret say where): Promela's
 * inlines are copied where they are used, and one copy of chan__wait,
 * first_pass and pass_retry keeps the model small.
 */
proctype thread(byte t)
{
	byte k, kind, op, c, v, got, r, rc, wake, e, i;
	bit timed, stimed, try, polled, woken, fin, spun, ok, isel;
	byte ce, cwas, se, swas, sch, swake, wk, ui, sk, sk0;
	bit sgo, smoved;
	byte wret, fp_ret, pr_ret, pr_next;
	/* a select's cases and state */
	byte sc[2], sv[2], pick, o0, o1, fk, fi_, lo, hi, retry_ch;
	bit sop[2], may_poll;

	do
	:: atomic {
		kind = K_END;
		script();
		timed = kind == K_TSEND || kind == K_TRECV || kind == K_TSELECT;
		try = kind == K_TRYSEND || kind == K_TRYRECV;
		isel = kind == K_SELECT || kind == K_TSELECT;
		op = (kind == K_SEND || kind == K_TSEND || kind == K_TRYSEND ->
		    SEND : RECV);
		e = t * 3;
		r = R_EAGAIN;
		pick = NONE;
		retry_ch = NONE;
		if
		:: kind == K_END
		:: kind == K_CLOSE ->
			printf("T%d call %d: close ch%d\n", t, kind, c)
		:: isel ->
			printf("T%d call %d: select ch%d op %d, ch%d op %d\n",
			    t, kind, sc[0], sop[0], sc[1], sop[1])
		:: else -> printf("T%d call %d: ch%d v%d\n", t, kind, c, v)
		fi
	   }
		if
		:: kind == K_END -> break
		:: else
		fi;
		if
		:: kind == K_CLOSE -> goto chan_close
		:: isel ->
			/* select_impl: the first pass, then select_wait */
			fp_ret = 1;
			goto first_pass
		:: kind != K_CLOSE && !isel && CAP(c) > 0 && (try || !timed ||
		    (op == SEND && POL(c) != P_BLOCK)) ->
			/*
			 * chan_send, chan_recv: fast_send / fast_recv, then
			 * transfer_once polling first if the ring was full
			 * (empty); chan_trysend and chan_tryrecv: fast_send /
			 * fast_recv alone.  A timed send under CHAN_DROP or
			 * CHAN_SLIDE goes straight to transfer_once, whose
			 * first attempt is policy_send's: the fast path's
			 * extra lock only adds interleavings.
			 */
			fast_op(op, c, v, got, r);
			if
			:: r == R_EAGAIN && !try ->
				polled = 1;
				goto transfer_once
			:: else
			fi
		:: kind != K_CLOSE && !isel && CAP(c) == 0 && try ->
			unbuf_try(op, c, v, got, r)
		:: else ->
			/* unbuffered, or timed: transfer, then transfer_once */
			polled = 0;
			goto transfer_once
		fi;
	/*
	 * A call returned: progress.  Every other cycle would be a livelock
	 * (make model-progress looks for one).
	 */
progress_call:
op_done:
		printf("T%d returns %d (case %d, got %d)\n", t, r, pick, got);
		if
		:: kind == K_CLOSE
		:: isel && pick != NONE ->
			account(sop[pick], sc[pick], sv[pick], got, r)
		:: isel && pick == NONE
		:: else -> account(op, c, v, got, r)
		fi;
		d_step {
			k++;
			kind = 0; op = 0; c = 0; v = 0; got = 0; r = 0; e = 0;
			timed = 0; try = 0; polled = 0; woken = 0; fin = 0;
			isel = 0; wret = 0; fp_ret = 0; pr_ret = 0; pr_next = 0;
			sc[0] = 0; sc[1] = 0; sv[0] = 0; sv[1] = 0; sop[0] = 0;
			sop[1] = 0; pick = 0; lo = 0; hi = 0; retry_ch = 0;
			may_poll = 0
		}
	od;
	goto thread_exit;

	/*
	 * transfer_once (polled: the caller's poll_first).  Leaves with the
	 * queue's lock (mu) held on a break, dropped if fin.
	 */
transfer_once:
	woken = 0;
	fin = 0;
	wake = 0;
	do
	:: if
		:: CAP(c) > 0 ->
			/* chan__lock(mu), buf_send_locked / buf_recv_locked */
			atomic {
				QLOCK_GUARD(c, op) -> QLOCK_TAKE(c, op);
				BUF_LOCKED(op, c, v, got, r)
			}
		:: else ->
			qlock(c, op);
			unbuf_locked(op, c, v, got, r, wake)
		fi;
		if
		:: r != R_EAGAIN -> break
		:: else
		fi;
		if
		:: timed && expired -> r = R_ETIMEDOUT; break
		:: else
		fi;
		if
		:: CAP(c) > 0 && !polled ->
			/* unlock, chan__poll once, lock again */
			qunlock(c, op);
			polled = 1
		:: else ->
#ifdef MUT_LOOK_BEFORE_LINK
			/*
			 * Mutant: the look comes before the link, as a store
			 * buffer lets it without the fence (the entry's count
			 * reaches the other CPUs after the waiter read the ring).
			 */
			if
			:: CAP(c) > 0 ->
				buf_locked(op, c, v, got, r);
				if
				:: r != R_EAGAIN -> break
				:: else
				fi
			:: else
			fi;
#endif
			/* WAITING, and chan__link(ch, e) */
			d_step {
				wstate[t] = WAITING;
				wgen[t]++;
				ncomp[t] = 0;
				ech[e] = c;
				eop[e] = op;
				egen[e] = wgen[t];
				ebuf[e] = (op == SEND -> v : 0);
				LINK(c, op, e);
				if
				:: CAP(c) == 0 -> QUNLOCK(c, op)	/* chan__unlock */
				:: else
				fi
			}
			if
			:: CAP(c) > 0 ->
#if !defined(MUT_NO_SECOND_LOOK) && !defined(MUT_LOOK_BEFORE_LINK)
				/*
				 * atomic_thread_fence, then the look again; unlock
				 * if there is still nothing, else unlink and leave
				 */
				d_step {
					BUF_LOCKED(op, c, v, got, r);
					if
					:: r == R_EAGAIN -> QUNLOCK(c, op)
					:: else -> UNLINK(e)
					fi
				}
				if
				:: r != R_EAGAIN -> break
				:: else
				fi
#else
				/* Mutant (MUT_NO_SECOND_LOOK): no look after the link. */
				qunlock(c, op)
#endif
			:: else
			fi;
			wret = 1;
			goto chan_wait;
transfer_waited:
			if
			:: r == R_ETIMEDOUT -> unlink_one(e)
			:: else -> r = wresult[t]
			fi;
			if
			:: r != R_RETRY ->
				if
				:: r == R_OK && op == RECV -> got = ebuf[e]
				:: else
				fi;
				fin = 1;
				break
			:: else
			fi;
			retryf[QI(c, op)] = 0;	/* chan__retried */
			woken = 1
		fi
	od;
	if
	:: !fin ->
		qunlock(c, op);		/* chan__unlock_fence */
		chan_wake(wake)
	:: else
	fi;
	/* serve (pass the wake-up on), or published(), or consumed() */
	atomic {
		sk0 = (woken -> SRV_ALWAYS :
		    ((fin || CAP(c) == 0 || r != R_OK) -> SRV_NONE :
		    (op == SEND -> AFTER_SEND : SRV_CONSUMED)));
#ifdef MUT_NO_BATON
		/* Mutant: one woken to retry leaves without serving. */
		if
		:: woken && !fin -> sk0 = SRV_NONE
		:: else
		fi
#endif
	}
	serve_if(sk0, c);
	sk0 = 0;
	goto op_done;

	/*
	 * chan_close: both locks (chan__lock_all), then closed, unless it was
	 * already; every queued sender claimed and completed with EPIPE; every
	 * queued receiver with EPIPE, or with CHAN__RETRY if the ring holds an
	 * element (it drains the ring before it finds EPIPE); unlock, then
	 * chan__wake.  The claims are claim_first's, each a step of its own,
	 * so a waiter's own CAS (a timeout, a cancellation) can race each one.
	 */
chan_close:
	atomic {
		smu[c] == 0 && (CAP(c) == 0 || rmu[c] == 0) ->
		smu[c] = ME;
		if
		:: CAP(c) > 0 -> rmu[c] = ME
		:: else
		fi;
		if
		:: closed[c] -> r = R_EPIPE
		:: else ->
			r = R_OK;
#ifndef MUT_CLOSE_MARK_LATE
			closed[c] = 1;
#endif
			printf("T%d closes ch%d\n", t, c)
		fi
	}
	if
	:: r == R_OK ->
		do
		:: claim_first(c, SEND, ce, cwas, 0, ce, NONE);
			if
			:: ce == NONE -> break
			:: else ->
				d_step {
					COMPLETE(ce, cwas, R_EPIPE, wake);
					ce = 0;
					cwas = 0
				}
			fi
		od;
		/* rest: has_elem, with both locks held */
		atomic {
			ce = 0;
			rc = ((CAP(c) > 0 && cnt[c] > 0) -> R_RETRY : R_EPIPE);
#ifdef MUT_CLOSE_EPIPE_REST
			/* Mutant: EPIPE for them, whatever is buffered. */
			rc = R_EPIPE
#endif
		}
#if defined(MUT_CLOSE_DROP_QUEUE)
		/* Mutant: the receivers' entries unlinked, nobody claimed. */
		do
		:: d_step {
			qlen[QI(c, RECV)] > 0 ->
			ce = q[QI(c, RECV) * QMAX];
			UNLINK(ce);
			ce = 0
		   }
		:: else -> break
		od;
#elif !defined(MUT_CLOSE_NO_WAKE_RECV)
		do
		:: claim_first(c, RECV, ce, cwas, 0, ce, NONE);
			if
			:: ce == NONE -> break
			:: else ->
				d_step {
					COMPLETE(ce, cwas, rc, wake);
					ce = 0;
					cwas = 0
				}
			fi
		od;
#else
		/* Mutant: the queued receivers are left asleep. */
#endif
		atomic { ce = 0; rc = 0 }
	:: else
	fi;
	/* chan__unlock_all */
	atomic {
		if
		:: CAP(c) > 0 -> assert(rmu[c] == ME); rmu[c] = 0
		:: else
		fi;
		assert(smu[c] == ME);
		smu[c] = 0
	}
	chan_wake(wake);
#ifdef MUT_CLOSE_MARK_LATE
	/*
	 * Mutant: the waiters woken first, the channel marked closed after,
	 * with the locks taken again.
	 */
	atomic {
		smu[c] == 0 && (CAP(c) == 0 || rmu[c] == 0) ->
		closed[c] = 1;
		printf("T%d marks ch%d closed\n", t, c)
	}
#endif
	goto op_done;

	/*
	 * first_pass (select.c): each case on its own channel, in a random
	 * order; pick is the case that completed, or NONE.
	 */
first_pass:
	pick = NONE;
	if
	:: o0 = 0; o1 = 1
	:: o0 = 1; o1 = 0
	fi;
	fk = 0;
	do
	:: fk == 2 -> break
	:: else ->
		fi_ = (fk == 0 -> o0 : o1);
		if
		:: CAP(sc[fi_]) == 0 && qlen[QI(sc[fi_], 1 - sop[fi_])] == 0 &&
		    !closed[sc[fi_]] ->
			/* !chan__looks_ready: not closed, no partner queued */
			r = R_EAGAIN
		:: CAP(sc[fi_]) > 0 ->
			fast_op(sop[fi_], sc[fi_], sv[fi_], got, r)
		:: else ->
			unbuf_try(sop[fi_], sc[fi_], sv[fi_], got, r)
		fi;
		if
		:: r != R_EAGAIN -> pick = fi_; break
		:: else
		fi;
		fk++
	od;
	atomic { fk = 0; fi_ = 0; o0 = 0; o1 = 0 }
	if
	:: fp_ret == 1 -> goto select_impl_passed
	:: fp_ret == 2 -> goto select_polled
	:: else -> goto select_retried
	fi;

	/* pass_retry (select.c): serves a retry wake-up's channel, if unused. */
pass_retry:
	if
	:: retry_ch != NONE && retry_ch != pr_next -> chan_serve(retry_ch)
	:: else
	fi;
	retry_ch = pr_next;
	if
	:: pr_ret == 1 -> goto pass_retry_1
	:: pr_ret == 2 -> goto pass_retry_2
	:: pr_ret == 3 -> goto pass_retry_3
	:: else -> goto pass_retry_4
	fi;

select_impl_passed:
	if
	:: pick != NONE -> goto op_done
	:: else
	fi;
	/* select_wait */
	polled = 0;
	may_poll = sop[0] == RECV || CAP(sc[0]) > 0 || sop[1] == RECV ||
	    CAP(sc[1]) > 0;
	do
	:: if
		:: !polled && may_poll && !(timed && expired) ->
			/* chan__poll, then a first pass */
			polled = 1;
			fp_ret = 2;
			goto first_pass;
select_polled:
			if
			:: pick != NONE -> break
			:: else
			fi
		:: else ->
			lock_channels();
			/* the locked pass, in a random order */
			d_step {
				wake = 0;
				if
				:: o0 = 0; o1 = 1
				:: o0 = 1; o1 = 0
				fi;
				fk = 0;
				r = R_EAGAIN
			}
			do
			:: fk == 2 || r != R_EAGAIN -> break
			:: else ->
				pick = (fk == 0 -> o0 : o1);
				locked_attempt(sop[pick], sc[pick], sv[pick],
				    got, r, wake);
				fk++
			od;
			atomic { fk = 0; o0 = 0; o1 = 0 }
			if
			:: r != R_EAGAIN ->
				unlock_channels();
				chan_wake(wake);
#ifndef MUT_SELECT_NO_SERVE
				chan_serve(sc[pick]);	/* the ring changed */
#endif
				break
			:: else
			fi;
			if
			:: timed && expired ->
				unlock_channels();
				r = R_ETIMEDOUT;
				pick = NONE;
				break
			:: else
			fi;
			/* WAITING, an entry per case, unlock_channels */
			d_step {
				wstate[t] = WAITING;
				wgen[t]++;
				ncomp[t] = 0;
				i = 0;
				do
				:: i == 2 -> break
				:: else ->
					ech[e + 1 + i] = sc[i];
					eop[e + 1 + i] = sop[i];
					egen[e + 1 + i] = wgen[t];
					ebuf[e + 1 + i] =
					    (sop[i] == SEND -> sv[i] : 0);
					LINK(sc[i], sop[i], e + 1 + i);
					i++
				od;
				i = 0;
				UNLOCK_CHANNELS
			}
			wret = 2;
			goto chan_wait;
select_waited:
#ifndef MUT_SELECT_NO_UNLINK
			/* chan__unlink_all */
			unlink_one(e + 1);
			unlink_one(e + 2);
#endif
			if
			:: r == R_ETIMEDOUT -> pick = NONE; break
			:: else
			fi;
			pick = windex[t];
			if
			:: wresult[t] != R_RETRY ->
				r = wresult[t];
				if
				:: r == R_OK && sop[pick] == RECV ->
					got = ebuf[e + 1 + pick]
				:: else
				fi;
				break
			:: else
			fi;
			retryf[QI(sc[pick], sop[pick])] = 0;	/* retried */
			pr_next = sc[pick];
			pr_ret = 1;
			goto pass_retry;
pass_retry_1:
			fp_ret = 3;
			goto first_pass;
select_retried:
			if
			:: pick != NONE -> break
			:: else
			fi
		fi
	od;
	pr_next = NONE;
	pr_ret = 2;
	goto pass_retry;
pass_retry_2:
	goto op_done;

	/*
	 * chan__wait: r = 0 (the state is DONE) or R_ETIMEDOUT (the state is
	 * ABORTED), then back to transfer_waited or select_waited.
	 */
chan_wait:
	atomic {
		r = R_OK;
		stimed = timed;		/* the sleep's own abstime */
		/* spin(): it sees the claim, or gives up */
		if
		:: wstate[t] >= CLAIMED -> spun = 1
		:: true -> spun = 0
		fi
	}
	if
	:: !spun ->
		/* lock mu, then WAITING -> SLEEPING, or unlock if claimed */
		atomic {
			wmu[t] == 0 -> wmu[t] = ME;
			if
			:: wstate[t] == WAITING -> wstate[t] = SLEEPING; ok = 1
			:: else -> ok = 0; wmu[t] = 0
			fi
		}
		if
		:: ok ->
			/* sleep_locked */
			do
			:: atomic {
				/* mu held, or taken again after the cond wait */
				(wmu[t] == 0 || wmu[t] == ME) -> wmu[t] = ME;
				ok = wstate[t] != DONE;
#ifndef MUT_SIGNAL_UNLOCKED
				/* pthread_cond_(timed)wait: drops mu and waits */
				if
				:: ok ->
					incond[t] = 1; wmu[t] = 0;
					printf("T%d sleeps\n", t)
				:: else
				fi
#endif
			   }
				if
				:: !ok -> break
				:: else
				fi;
#ifdef MUT_SIGNAL_UNLOCKED
				/*
				 * The wait apart from the look: a completer that
				 * signals without mu can fall in between.
				 */
				d_step {
					incond[t] = 1; wmu[t] = 0;
					printf("T%d sleeps\n", t)
				}
#endif
end_sleep:
				if
				:: d_step {
					incond[t] == 2 -> incond[t] = 0; rc = R_OK;
					printf("T%d woken\n", t)
				   }
				:: d_step {
					incond[t] != 0 && stimed && expired ->
					incond[t] = 0; rc = R_ETIMEDOUT;
					printf("T%d: cond wait times out\n", t)
				   }
				:: d_step {
					incond[t] != 0 && cancel_req &&
					t == CANCEL_T ->
					incond[t] = 0; rc = R_CANCEL;
					printf("T%d: cancelled in its cond wait\n", t)
				   }
				fi;
				if
				:: rc == R_ETIMEDOUT ->
					/* mu again, then SLEEPING -> ABORTED */
					atomic {
						wmu[t] == 0 -> wmu[t] = ME;
						if
						:: wstate[t] == SLEEPING ->
							wstate[t] = ABORTED;
							r = R_ETIMEDOUT;
							printf("T%d aborts\n", t)
						:: else -> stimed = 0	/* abstime = NULL */
						fi
					}
#ifdef MUT_TIMEOUT_WINS
					/* Mutant: claimed, it reports the timeout anyway. */
					r = R_ETIMEDOUT;
#endif
					if
					:: r == R_ETIMEDOUT -> break
					:: else
					fi
				:: rc == R_CANCEL -> goto wait_cancelled
				:: else
				fi
			od;
			unlock(wmu[t])
		:: else
		fi;
		rc = 0
	:: else
	fi;
	if
	:: r == R_ETIMEDOUT ->
		d_step { assert(ncomp[t] == 0); spun = 0; ok = 0; stimed = 0 }
	:: else ->
		/* await_done */
		d_step {
			wstate[t] == DONE -> assert(ncomp[t] == 1);
			spun = 0; ok = 0; stimed = 0
		}
	fi;
	if
	:: wret == 1 -> goto transfer_waited
	:: else -> goto select_waited
	fi;

	/*
	 * wait_cancelled, with mu taken again: abort, or wait (untimed,
	 * cancellation disabled) for the completer's DONE; then the call's
	 * handler, and the thread is gone.
	 */
wait_cancelled:
	skip;
	atomic {
		wmu[t] == 0 -> wmu[t] = ME;
		if
		:: wstate[t] == SLEEPING -> wstate[t] = ABORTED; ok = 0
#ifdef MUT_CANCEL_BLIND_ABORT
		/* Mutant: a store of ABORTED, claimed or not; no wait for DONE. */
		:: else -> wstate[t] = ABORTED; ok = 0
#else
		:: else -> ok = 1
#endif
		fi
	}
	do
	:: ok ->
		atomic {
			(wmu[t] == 0 || wmu[t] == ME) -> wmu[t] = ME;
			if
			:: wstate[t] == DONE -> ok = 0
			:: else -> incond[t] = 1; wmu[t] = 0
			fi
		}
		if
		:: ok -> d_step { incond[t] == 2 -> incond[t] = 0 }
		:: else
		fi
	:: else -> break
	od;
	unlock(wmu[t]);
	if
	:: wret == 1 ->
		/* op_cancelled */
		unlink_one(e);
		if
		:: wstate[t] == DONE && wresult[t] == R_RETRY ->
			retryf[QI(c, op)] = 0;
#ifndef MUT_CANCEL_NO_PASS
			chan_serve(c)
#else
			skip	/* Mutant: the retry wake-up dies with the thread. */
#endif
		:: wstate[t] == DONE && wresult[t] == R_OK ->
			/* it happened: a receive's element dies with the thread */
			if
			:: op == RECV -> got = ebuf[e]
			:: else
			fi;
			account(op, c, v, got, R_OK)
		:: else
		fi
	:: else ->
		/* sel_cancelled */
		unlink_one(e + 1);
		unlink_one(e + 2);
		pick = windex[t];
		if
		:: wstate[t] == DONE && wresult[t] == R_RETRY ->
			retryf[QI(sc[pick], sop[pick])] = 0;
#ifndef MUT_CANCEL_NO_PASS
			pr_next = sc[pick];
#else
			pr_next = NONE;	/* Mutant: nor does a select pass it on. */
#endif
			pr_ret = 3;
			goto pass_retry;
pass_retry_3:
			skip
		:: wstate[t] == DONE && wresult[t] == R_OK ->
			if
			:: sop[pick] == RECV -> got = ebuf[e + 1 + pick]
			:: else
			fi;
			account(sop[pick], sc[pick], sv[pick], got, R_OK)
		:: else
		fi;
		pr_next = NONE;
		pr_ret = 4;
		goto pass_retry;
pass_retry_4:
		skip
	fi;

thread_exit:
	finished[t] = 1
}

/*
 * At the end (no thread can move), whatever each thread is doing: every
 * thread returned or sleeps on a case that cannot complete, and what moved
 * adds up.  Each check has a name, which pan prints if it fails.
 */
/* Thread w's entry x (0: its plain one) is queued for its current wait. */
#define QUEUED(w, x) \
	(elinked[(w) * 3 + (x)] && egen[(w) * 3 + (x)] == wgen[w])

active proctype watcher()
{
	byte i, j, ow, c, inring;
	bit returned_or_asleep = 1, no_stale_entry = 1, no_lost_wakeup = 1;
	bit each_element_once = 1;

	timeout ->
	d_step {
		i = 0;
		do
		:: i == NT -> break
		:: else ->
			/*
			 * returned, or in its cond wait, SLEEPING, unsignalled,
			 * with an entry of this wait still queued (only a
			 * claimer unlinks a sleeper's entry, once it claimed
			 * it: no one could ever wake a sleeper with none)
			 */
			if
			:: !finished[i] && !(incond[i] == 1 &&
			    wstate[i] == SLEEPING) -> returned_or_asleep = 0
			:: !finished[i] && !QUEUED(i, 0) && !QUEUED(i, 1) &&
			    !QUEUED(i, 2) -> returned_or_asleep = 0
			:: else
			fi;
			i++
		od;
		i = 0;
		do
		:: i == NE -> break
		:: !elinked[i] -> i++
		:: else ->
			ow = OWNER(i);
			c = ech[i];
			/* its waiter still waits, in the wait it was linked for */
			if
			:: finished[ow] || wstate[ow] != SLEEPING ||
			    egen[i] != wgen[ow] -> no_stale_entry = 0
			:: else
			fi;
			/*
			 * its case cannot complete: its channel is open (close
			 * wakes every waiter, and none queues after it), its
			 * ring is empty (full)
			 */
			if
			:: closed[c] -> no_lost_wakeup = 0
			:: CAP(c) > 0 && ((eop[i] == RECV && cnt[c] > 0) ||
			    (eop[i] == SEND && cnt[c] < CAP(c))) ->
				no_lost_wakeup = 0
			:: else
			fi;
			/* or no other waiter is queued for the other side */
			j = 0;
			do
			:: j == NE -> break
			:: else ->
				if
				:: CAP(c) == 0 && elinked[j] && ech[j] == c &&
				    eop[j] != eop[i] && OWNER(j) != ow ->
					no_lost_wakeup = 0
				:: else
				fi;
				j++
			od;
			i++
		od;
		/*
		 * each element sent arrived once, waits in its ring, or was
		 * discarded (CHAN_DROP, CHAN_SLIDE); none other did
		 */
		i = 1;
		do
		:: i > NV -> break
		:: else ->
			inring = 0;
			j = 0;
			do
			:: j == NCH * 2 -> break
			:: else ->
				if
				:: slot[j] == i && j % 2 < cnt[j / 2] -> inring++
				:: else
				fi;
				j++
			od;
			if
			:: rcvd[i] + inring + gone[i] != sent[i] ->
				each_element_once = 0
			:: else
			fi;
			i++
		od
	}
	assert(returned_or_asleep);
	assert(no_stale_entry);
	assert(no_lost_wakeup);
	assert(each_element_once)
}

#ifdef TIMED
/* The deadline passes at some moment, or never. */
active proctype clock()
{
	if
	:: expired = 1
	:: skip
	fi
}
#endif

#ifdef CANCEL
/* A cancel request reaches the victim at some moment, or never. */
active proctype canceller()
{
	if
	:: cancel_req = 1
	:: skip
	fi
}
#endif

init
{
	byte n;

	atomic {
		n = 0;
		do
		:: n == NT -> break
		:: else -> run thread(n); n++
		od
	}
}

/*
 * What is not modelled, and so not checked here:
 *   - weak memory: the model is sequentially consistent, so it says nothing
 *     about whether the fences and the acquire/release pairs are where they
 *     must be (chan.c's top comment argues that; check_chan_window's
 *     waiter_fences_between_link_and_second_look tests the waiter's half);
 *   - the locks' insides: the futex lock (lock.c) and pthread mutexes are a
 *     word taken when free, with no fairness; pthread_cond_wait drops mu and
 *     waits in one step, and never wakes spuriously (sleep_locked looks at
 *     the state under mu after each wake-up, so spurious ones would only
 *     add turns);
 *   - allocation and thread setup: the select scratch (ENOMEM),
 *     chan__self's set-up, the waiter's destruction at thread exit;
 *   - batches (n > 1, and transfer's loop after the first element; CHAN_DROP
 *     putting what fits of a batch, CHAN_SLIDE putting its last cap
 *     elements); the broadcast (bcast.c) and its close; chan_len;
 *   - a DROP or SLIDE send in a select's locked pass (slide_put() with both
 *     locks held): the first pass always completes such a case, with 0 or
 *     EPIPE, so the locked pass never meets one (BUF_LOCKED asserts it,
 *     though no scenario has a select send on such a channel); a
 *     timed send under these policies is modelled as the untimed one,
 *     whose extra fast path only adds interleavings;
 *   - closed's memory order, as the rest's (it is written with both locks
 *     held and read under one, but for chan__looks_ready's relaxed load,
 *     which the first pass makes here as it reads the waiter counts);
 *   - the ring's indices, laps, sequence words and cached copies
 *     (head_cache, tail_cache, head_hint), and their 32-bit wrap: a count
 *     and the slots stand for them; capacities above 2 (the scenarios use
 *     0 and 1);
 *   - the spin and poll heuristics (lengths, yields, the spinner and
 *     blocked counts, at_head): only their outcome, a choice;
 *   - time: a deadline is one flag, which passes once for every timed call
 *     of a scenario; cancellation only in the cond wait, and only for one
 *     thread;
 *   - chan_tryselect; a select of more than two cases or with disabled
 *     cases; the uniformity of its random order (every order is explored);
 *   - the scenarios are small (three threads, two channels, a few calls
 *     each): an interleaving that needs more threads or calls is not
 *     explored by make model.  serve_queue's refusal to wake a second
 *     sleeper while one woken to retry has yet to run (chan.c 701-704)
 *     needs three receivers, and none of its scenarios reaches it.  When
 *     this model was written, larger scenarios were checked once, with no
 *     error: two senders and two receivers (one timed) on a one-slot ring
 *     (66 million states, 200 s here), a two-slot ring (27 million), three
 *     receivers and two elements on a one-slot ring (35 million; it reaches
 *     that refusal), a select sending on either channel, two selects each
 *     sending and receiving on one unbuffered channel, and two selects
 *     competing for both channels.  When close, CHAN_DROP and CHAN_SLIDE
 *     came in, these were checked once, with no error: a two-slot ring
 *     with three sends, two receives, a timed receive and a close (76
 *     million states, 193 s); an unbuffered channel with a send, a timed
 *     send, two receives and a close (1.4 million); a cancellable receiver
 *     against a send and a close (0.5 million); a cancellable select and a
 *     second select against the closes of both channels (1.4 million); two
 *     selects, one timed, against sends on both channels and their closes
 *     (5.4 million); a select over an unbuffered channel and a CHAN_SLIDE
 *     ring with three sliding sends (7.3 million); CHAN_SLIDE on a two-slot
 *     ring with timed calls (6.5 million); CHAN_DROP with four threads, a
 *     close and a try receive (30 million).  Three receivers (one timed)
 *     against two sends and a close on a one-slot ring, and two senders
 *     against two receivers, one of which then closes, do not fit in 8 GB
 *     exhaustively (135 million states and more): bitstate searches, which
 *     may miss states, found no error in 263 million states (the first, to
 *     its end, hash factor 33) and 930 million (the second, stopped after
 *     32 minutes).
 */
