/*
 * Replays inputs of the fuzzer (chan_fuzz.c) without libFuzzer, so that
 * make check runs its corpus with any compiler and under every build
 * (sanitizers, m32, arm64):
 *
 *	replay [-r count] [-s seed] [file | directory ...]
 *
 * Each file is one input; a directory's files are each replayed.  -r also
 * runs count inputs of random bytes from seed (1 unless given): no
 * coverage guides them, but each is a new sequence of calls.  A mismatch
 * aborts in chan_fuzz.c after printing what went wrong, and so does an
 * input still running after INPUT_SECONDS; the handler below first names
 * the input, so that `replay FILE` (with CHAN_FUZZ_TRACE=1 to see every
 * call) repeats it.
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define MAXINPUT	(1 << 20)	/* larger files are not our inputs */
#define RANDOM_MAX	1024		/* bytes in a random input, at most */
#define INPUT_SECONDS	60		/* an input takes milliseconds */

static char	current[512];		/* the input being replayed */
static uint8_t	data[MAXINPUT];
static size_t	ninputs, nbytes;

/* On abort: which input it was, then the default action. */
static void
on_abort(int sig)
{
	static const char pre[] = "replay: the failing input: ";

	(void)!write(2, pre, sizeof(pre) - 1);
	(void)!write(2, current, strlen(current));
	(void)!write(2, "\n", 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * An input that runs this long is waiting where the model said a call
 * completes at once (libFuzzer's -timeout, for make check): it aborts.
 */
static void
on_alarm(int sig)
{
	static const char msg[] = "replay: an input ran for a minute: a call "
	    "waits where the model says it completes at once\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	abort();
}

static void
replay(size_t size)
{
	alarm(INPUT_SECONDS);
	LLVMFuzzerTestOneInput(data, size);
	alarm(0);
	ninputs++;
	nbytes += size;
}

static int
replay_file(const char *path)
{
	FILE *fp;
	size_t size;

	if ((fp = fopen(path, "rb")) == NULL) {
		perror(path);
		return 1;
	}
	size = fread(data, 1, sizeof(data), fp);
	if (ferror(fp) || !feof(fp)) {
		fprintf(stderr, "replay: %s: %s\n", path, ferror(fp) ?
		    "read error" : "too large for an input");
		fclose(fp);
		return 1;
	}
	fclose(fp);
	snprintf(current, sizeof(current), "%s", path);
	replay(size);
	return 0;
}

static int
replay_path(const char *path)
{
	char sub[sizeof(current)];
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int status = 0;

	if (stat(path, &st) != 0) {
		perror(path);
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	if ((dir = opendir(path)) == NULL) {
		perror(path);
		return 1;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		status |= replay_file(sub);
	}
	closedir(dir);
	return status;
}

/* xorshift64*: the random inputs' bytes. */
static uint64_t
next(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dULL;
}

static void
replay_random(unsigned long count, unsigned long seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
	unsigned long k;
	size_t size, i;

	for (k = 0; k < count; k++) {
		size = (size_t)(next(&x) >> 32) % RANDOM_MAX + 1;
		for (i = 0; i < size; i++)
			data[i] = (uint8_t)(next(&x) >> 56);
		snprintf(current, sizeof(current), "random input %lu of "
		    "seed %lu (replay -r %lu -s %lu)", k, seed, k + 1, seed);
		replay(size);
	}
}

int
main(int argc, char **argv)
{
	unsigned long count = 0, seed = 1;
	int c, status = 0;

	while ((c = getopt(argc, argv, "r:s:")) != -1) {
		switch (c) {
		case 'r':
			count = strtoul(optarg, NULL, 10);
			break;
		case 's':
			seed = strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: replay [-r count] [-s seed] "
			    "[file | directory ...]\n");
			return 2;
		}
	}
	signal(SIGABRT, on_abort);
	signal(SIGALRM, on_alarm);
	for (; optind < argc; optind++)
		status |= replay_path(argv[optind]);
	replay_random(count, seed);
	printf("replay: %zu inputs (%zu bytes) matched the model%s\n", ninputs,
	    nbytes, status ? ", but some paths could not be read" : "");
	return status;
}
