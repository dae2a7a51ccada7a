/*
 * Cancellation of a select: thread 0 selects to receive from an
 * unbuffered channel (0) or a ring of one slot (1) and may be cancelled at
 * any moment while it waits; thread 1 sends 1 on channel 0, then tries to
 * receive on it; thread 2 sends 2 on channel 1, then 3 on channel 0.
 */
#define NT	3
#define NCH	2
#define CAP0	0
#define CAP1	1
#define NV	3
#define CANCEL	0

#define SCRIPT \
	:: t == 0 && k == 0 -> kind = K_SELECT; \
		sc[0] = 0; sop[0] = RECV; sc[1] = 1; sop[1] = RECV \
	:: t == 1 && k == 0 -> kind = K_SEND; c = 0; v = 1 \
	:: t == 1 && k == 1 -> kind = K_TRYRECV; c = 0 \
	:: t == 2 && k == 0 -> kind = K_SEND; c = 1; v = 2 \
	:: t == 2 && k == 1 -> kind = K_SEND; c = 0; v = 3

#include "protocol.pml"
