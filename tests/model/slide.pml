/*
 * CHAN_SLIDE on a ring of one slot: threads 0 and 2 send 1, 2 and 3,
 * never waiting (a send to a full ring slides the oldest element out);
 * thread 1 receives twice; thread 2 then tries to receive.  No element is
 * received twice or after it was slid out, no receiver sleeps beside an
 * element, and none finds the ring one short in the middle of a slide.
 * No close: it would wake a receiver that a lost wake-up left asleep.
 */
#define NT	3
#define NCH	1
#define CAP0	1
#define CAP1	1
#define POL0	P_SLIDE
#define NV	3

#define SCRIPT \
	:: t == 0 && k == 0 -> kind = K_SEND; c = 0; v = 1 \
	:: t == 0 && k == 1 -> kind = K_SEND; c = 0; v = 2 \
	:: t == 1 && k == 0 -> kind = K_RECV; c = 0 \
	:: t == 1 && k == 1 -> kind = K_RECV; c = 0 \
	:: t == 2 && k == 0 -> kind = K_SEND; c = 0; v = 3 \
	:: t == 2 && k == 1 -> kind = K_TRYRECV; c = 0

#include "protocol.pml"
