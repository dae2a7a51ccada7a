#include <chan.h>
#include <pthread.h>
#include <stdio.h>

static void *
producer(void *ch)
{
	for (int i = 1; i <= 10; i++)
		chan_send(ch, &i);	/* waits while all 4 slots are full */
	chan_close(ch);			/* no more: receivers drain, then EPIPE */
	return NULL;
}

int
main(void)
{
	chan_t *ch = chan_create(sizeof(int), 4, CHAN_BLOCK);
	pthread_t t;
	int v, sum = 0;

	if (ch == NULL)
		return 1;
	if (pthread_create(&t, NULL, producer, ch) != 0) {
		chan_destroy(ch);
		return 1;
	}
	while (chan_recv(ch, &v) == 0)	/* 0 until closed and drained */
		sum += v;
	pthread_join(t, NULL);
	chan_destroy(ch);
	printf("sum = %d\n", sum);	/* sum = 55 */
	return sum != 55;
}
