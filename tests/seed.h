/*
 * The seed of a randomised test run, one scheme for the Check suites
 * (stresslib.h) and the stress drivers (stress/stress.h): STRESS_SEED
 * when it is set, so that a run printed with its seed can be repeated
 * (its random choices, not its threads' timing), and otherwise one drawn
 * from the time of day, the process id and the monotonic clock's
 * nanoseconds, so that runs started in the same second (two builds' make
 * check at once) differ; the time of day alone gave them the same seed.
 */
#ifndef SEED_H
#define SEED_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static inline unsigned long
stress_default_seed(void)
{
	struct timespec ts;
	uint64_t x;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	x = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32 ^
	    (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL;
	return (unsigned long)(x ^ x >> 32);
}

/* STRESS_SEED, or a new seed; exits 2 if STRESS_SEED is not a number. */
static inline unsigned long
stress_run_seed(void)
{
	const char *s = getenv("STRESS_SEED");
	char *end;
	unsigned long v;

	if (s == NULL || *s == '\0')
		return stress_default_seed();
	v = strtoul(s, &end, 0);
	if (*end != '\0') {
		fprintf(stderr, "STRESS_SEED: not a number: %s\n", s);
		exit(2);
	}
	return v;
}

#endif /* SEED_H */
