/*
 * Close against the retry baton: threads 0 and 1 receive on a ring of one
 * slot, thread 1 with a deadline (which may pass at any moment); thread 2
 * sends 1, whose publication wakes one sleeper to retry, then closes,
 * which gives any receiver still queued a retry (the ring holds 1) or
 * EPIPE.  One receiver gets 1, the other EPIPE or its timeout.
 */
#define NT	3
#define NCH	1
#define CAP0	1
#define CAP1	1
#define NV	1
#define TIMED

#define SCRIPT \
	:: t == 0 && k == 0 -> kind = K_RECV; c = 0 \
	:: t == 1 && k == 0 -> kind = K_TRECV; c = 0 \
	:: t == 2 && k == 0 -> kind = K_SEND; c = 0; v = 1 \
	:: t == 2 && k == 1 -> kind = K_CLOSE; c = 0

#include "protocol.pml"
