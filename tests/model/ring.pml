/*
 * A ring of one slot: thread 0 sends 1; thread 1 receives twice; thread 2
 * receives with a deadline (which may pass at any moment), then sends 3,
 * its waiter now on the other side of the ring.
 */
#define NT	3
#define NCH	1
#define CAP0	1
#define CAP1	1
#define NV	3
#define TIMED

#define SCRIPT \
	:: t == 0 && k == 0 -> kind = K_SEND; c = 0; v = 1 \
	:: t == 1 && k == 0 -> kind = K_RECV; c = 0 \
	:: t == 1 && k == 1 -> kind = K_RECV; c = 0 \
	:: t == 2 && k == 0 -> kind = K_TRECV; c = 0 \
	:: t == 2 && k == 1 -> kind = K_SEND; c = 0; v = 3

#include "protocol.pml"
