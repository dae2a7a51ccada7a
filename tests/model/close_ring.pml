/*
 * Close on a ring of one slot: thread 0 sends 1 then 2 (the second waits
 * for room, or finds the channel closed); thread 1 receives twice, and
 * must drain what the ring holds before it finds EPIPE, and may be
 * cancelled at any moment while it waits; thread 2 closes.
 */
#define NT	3
#define NCH	1
#define CAP0	1
#define CAP1	1
#define NV	2
#define CANCEL	1

#define SCRIPT \
	:: t == 0 && k == 0 -> kind = K_SEND; c = 0; v = 1 \
	:: t == 0 && k == 1 -> kind = K_SEND; c = 0; v = 2 \
	:: t == 1 && k == 0 -> kind = K_RECV; c = 0 \
	:: t == 1 && k == 1 -> kind = K_RECV; c = 0 \
	:: t == 2 && k == 0 -> kind = K_CLOSE; c = 0

#include "protocol.pml"
