/*
 * Close under a select: thread 0 selects twice between sending on an
 * unbuffered channel (0), which no one receives from, and receiving from a
 * ring of one slot (1), and may be cancelled at any moment while it waits;
 * thread 1 sends 1 on channel 1, then closes it; thread 2 closes channel
 * 0, then channel 1 too (one of the two closes of channel 1 returns
 * EPIPE).  Each select completes with EPIPE on a closed channel, or with
 * 1, which it must get before channel 1's EPIPE.
 */
#define NT	3
#define NCH	2
#define CAP0	0
#define CAP1	1
#define NV	3
#define CANCEL	0

#define SCRIPT \
	:: t == 0 && k == 0 -> kind = K_SELECT; \
		sc[0] = 0; sop[0] = SEND; sv[0] = 2; sc[1] = 1; sop[1] = RECV \
	:: t == 0 && k == 1 -> kind = K_SELECT; \
		sc[0] = 0; sop[0] = SEND; sv[0] = 3; sc[1] = 1; sop[1] = RECV \
	:: t == 1 && k == 0 -> kind = K_SEND; c = 1; v = 1 \
	:: t == 1 && k == 1 -> kind = K_CLOSE; c = 1 \
	:: t == 2 && k == 0 -> kind = K_CLOSE; c = 0 \
	:: t == 2 && k == 1 -> kind = K_CLOSE; c = 1

#include "protocol.pml"
