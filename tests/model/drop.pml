/*
 * CHAN_DROP on a ring of one slot: thread 0 sends 1 then 2, never
 * waiting (one is dropped if the ring is full); thread 1 receives twice;
 * thread 2 closes the channel, so that a receive left with nothing
 * returns EPIPE.
 */
#define NT	3
#define NCH	1
#define CAP0	1
#define CAP1	1
#define POL0	P_DROP
#define NV	2

#define SCRIPT \
	:: t == 0 && k == 0 -> kind = K_SEND; c = 0; v = 1 \
	:: t == 0 && k == 1 -> kind = K_SEND; c = 0; v = 2 \
	:: t == 1 && k == 0 -> kind = K_RECV; c = 0 \
	:: t == 1 && k == 1 -> kind = K_RECV; c = 0 \
	:: t == 2 && k == 0 -> kind = K_CLOSE; c = 0

#include "protocol.pml"
