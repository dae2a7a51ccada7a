#!/bin/sh
# dlopen: libchan.so works when a program loads it with dlopen() (a plugin,
# a language binding) instead of linking it.  Every thread keeps its waiter
# in thread-local storage (chan__self), and a library loaded that way gets
# its thread-local block only on first use, in threads that existed before
# the load as well as in new ones.  A program that does not link libchan
# loads the build's libchan.so, blocks in it from the main thread (which
# existed before the load) and from four threads started after it, selects
# and times out, and checks every value arrived.  A plugin also gets
# unloaded: a thread that waited in libchan exits after the dlclose() (its
# waiter's cleanup must not run code that is gone), and the library is
# loaded and unloaded more times than a process has thread-specific keys.
# Run by make check with BUILD and CC set.  Sanitizer builds skip it: their
# instrumented library cannot be loaded into a plain program.
set -eu
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
CC=${CC:-cc}
case $BUILD in
*/asan|*/tsan|*/ubsan)
	echo "dlopen: skipped for BUILD=$BUILD (sanitizer build)"
	exit 0 ;;
esac
lib=$BUILD/libchan.so
[ -f "$lib" ] || { echo "dlopen: $lib is missing" >&2; exit 1; }

# A library built for the initial-exec TLS model is marked STATIC_TLS:
# dlopen() then fails once the few hundred bytes glibc keeps spare for
# such libraries are taken.  libchan's TLS goes through descriptors or
# __tls_get_addr and must never need that.
if command -v readelf >/dev/null 2>&1 &&
    readelf -d "$lib" | grep -q STATIC_TLS; then
	echo "dlopen: $lib needs static TLS (initial-exec model)" >&2
	exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

cat > "$work/prog.c" <<'EOF'
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "chan.h"

#define NTHREADS	4
#define PER_THREAD	1000
#define RELOADS		1100	/* more than PTHREAD_KEYS_MAX, 1024 */

static chan_t *(*p_create)(size_t, size_t, enum chan_policy);
static void (*p_destroy)(chan_t *);
static int (*p_recv)(chan_t *, void *);
static int (*p_select)(struct chan_case *, size_t);
static int (*p_timedselect)(struct chan_case *, size_t,
    const struct timespec *);
static chan_t *ch;
static sem_t waited, unloaded;

static void
die(const char *what)
{
	fprintf(stderr, "dlopen: %s\n", what);
	exit(1);
}

static void *
sym(void *h, const char *name)
{
	void *p = dlsym(h, name);

	if (p == NULL)
		die(dlerror());
	return p;
}

/* A thread started after the load: blocks in chan_recv. */
static void *
receiver(void *arg)
{
	uint64_t v, *sum = arg;
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		if (p_recv(ch, &v) != 0)
			die("chan_recv failed");
		*sum += v;
	}
	return NULL;
}

/* A deadline ms milliseconds from now. */
static struct timespec
after_ms(long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += ms * 1000 * 1000;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/*
 * Waits in libchan (a timed select that times out), then outlives the
 * dlclose(): its exit runs the cleanup of its waiter afterwards.
 */
static void *
lingerer(void *arg)
{
	struct chan_case c = { .ch = arg, .op = CHAN_RECV };
	struct timespec ts = after_ms(1);

	if (p_timedselect(&c, 1, &ts) != -1 || errno != ETIMEDOUT)
		die("the lingering thread's select did not time out");
	sem_post(&waited);
	while (sem_wait(&unloaded) != 0)
		continue;
	return NULL;
}

/* Loads libchan, selects once in it, unloads it. */
static void
reload(const char *path)
{
	chan_t *(*create)(size_t, size_t, enum chan_policy);
	void (*destroy)(chan_t *);
	int (*tryselect)(struct chan_case *, size_t);
	struct chan_case c = { .op = CHAN_RECV };
	void *h;

	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL)
		die(dlerror());
	*(void **)&create = sym(h, "chan_create");
	*(void **)&destroy = sym(h, "chan_destroy");
	*(void **)&tryselect = sym(h, "chan_tryselect");
	if ((c.ch = create(0, 1, CHAN_BLOCK)) == NULL)
		die("chan_create failed");
	if (tryselect(&c, 1) != -1 || errno != EAGAIN)
		die("chan_tryselect on an empty channel did not fail EAGAIN");
	destroy(c.ch);
	if (dlclose(h) != 0)
		die(dlerror());
}

int
main(int argc, char **argv)
{
	pthread_t t[NTHREADS], linger;
	uint64_t sums[NTHREADS] = { 0 }, total = 0, v, want;
	struct chan_case c;
	struct timespec ts;
	chan_t *empty;
	void *h;
	int i;

	if (argc != 2)
		die("usage: prog path/to/libchan.so");
	if ((h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL)) == NULL)
		die(dlerror());
	*(void **)&p_create = sym(h, "chan_create");
	*(void **)&p_destroy = sym(h, "chan_destroy");
	*(void **)&p_recv = sym(h, "chan_recv");
	*(void **)&p_select = sym(h, "chan_select");
	*(void **)&p_timedselect = sym(h, "chan_timedselect");

	if ((ch = p_create(sizeof(uint64_t), 0, CHAN_BLOCK)) == NULL)
		die("chan_create failed");
	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&t[i], NULL, receiver, &sums[i]) != 0)
			die("pthread_create failed");
	/* The main thread, older than the load, sends by select. */
	c = (struct chan_case){ .ch = ch, .op = CHAN_SEND, .elem = &v };
	for (v = 1; v <= NTHREADS * PER_THREAD; v++)
		if (p_select(&c, 1) != 0 || c.err != 0)
			die("chan_select failed");
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		total += sums[i];
	}
	want = (uint64_t)NTHREADS * PER_THREAD * (NTHREADS * PER_THREAD + 1) / 2;
	if (total != want)
		die("the values received do not add up");

	/* No receiver left: a timed select waits, then times out. */
	ts = after_ms(20);
	if (p_timedselect(&c, 1, &ts) != -1 || errno != ETIMEDOUT)
		die("chan_timedselect did not time out");
	p_destroy(ch);

	if (sem_init(&waited, 0, 0) != 0 || sem_init(&unloaded, 0, 0) != 0 ||
	    (empty = p_create(sizeof(uint64_t), 1, CHAN_BLOCK)) == NULL ||
	    pthread_create(&linger, NULL, lingerer, empty) != 0)
		die("could not start the lingering thread");
	while (sem_wait(&waited) != 0)
		continue;
	p_destroy(empty);
	if (dlclose(h) != 0)
		die(dlerror());
	sem_post(&unloaded);
	pthread_join(linger, NULL);

	for (i = 0; i < RELOADS; i++)
		reload(argv[1]);
	printf("dlopen: %d values through a dlopen'ed libchan.so; a thread "
	    "outlived dlclose; %d reloads\n", NTHREADS * PER_THREAD, RELOADS);
	return 0;
}
EOF

$CC -std=c11 -D_POSIX_C_SOURCE=200809L -pthread -Wall -Wextra -Iinclude \
    -o "$work/prog" "$work/prog.c" -ldl
out=$("$work/prog" "$lib") || { echo "$out" >&2; exit 1; }
echo "$out"
echo "dlopen: ok"
