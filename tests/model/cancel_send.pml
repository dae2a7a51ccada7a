/*
 * Cancellation of a send on an unbuffered channel: thread 0 sends 1 and
 * may be cancelled at any moment while it waits; thread 1 receives;
 * thread 2 sends 2.
 */
#define NT	3
#define NCH	1
#define CAP0	0
#define CAP1	0
#define NV	2
#define CANCEL	0

#define SCRIPT \
	:: t == 0 && k == 0 -> kind = K_SEND; c = 0; v = 1 \
	:: t == 1 && k == 0 -> kind = K_RECV; c = 0 \
	:: t == 2 && k == 0 -> kind = K_SEND; c = 0; v = 2

#include "protocol.pml"
