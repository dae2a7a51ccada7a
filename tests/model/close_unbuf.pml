/*
 * Close on an unbuffered channel: thread 0 sends 1 then 2; thread 1
 * receives with a deadline (which may pass at any moment, as the close
 * comes), then without one; thread 2 closes the channel, while either may
 * be queued, about to queue or handing off.
 */
#define NT	3
#define NCH	1
#define CAP0	0
#define CAP1	0
#define NV	2
#define TIMED

#define SCRIPT \
	:: t == 0 && k == 0 -> kind = K_SEND; c = 0; v = 1 \
	:: t == 0 && k == 1 -> kind = K_SEND; c = 0; v = 2 \
	:: t == 1 && k == 0 -> kind = K_TRECV; c = 0 \
	:: t == 1 && k == 1 -> kind = K_RECV; c = 0 \
	:: t == 2 && k == 0 -> kind = K_CLOSE; c = 0

#include "protocol.pml"
