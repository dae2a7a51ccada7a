/*
 * The waiter's setting, white-box: how CHAN_SPIN_NS is read.  chan(7)
 * says a value that is not a decimal number leaves the default spin, one
 * above a second counts as a second, and 0 turns the spin off; what the
 * spin then does shows only in timings, so this checks the reading.
 *
 * This program compiles src/waiter.c itself, for its static
 * spin_setting(); its functions replace libchan.a's waiter.o, as
 * check_chan_window's copy of chan.c replaces chan.o.
 */
#include "waiter.c"

#include "testutil.h"

static const struct {
	const char	*env;		/* NULL: unset */
	unsigned long	 want;
} spins[] = {
	{ NULL, SPIN_NS_DEFAULT },
	{ "", SPIN_NS_DEFAULT },
	{ "0", 0 },
	{ "00", 0 },
	{ "2500", 2500 },
	{ "0100", 100 },
	{ "999999999", 999999999 },
	{ "1000000000", SPIN_NS_MAX },
	{ "1000000001", SPIN_NS_MAX },
	{ "18446744073709551616", SPIN_NS_MAX },	/* 2^64 */
	{ "99999999999999999999999999999", SPIN_NS_MAX },
	{ "12us", SPIN_NS_DEFAULT },
	{ "0x10", SPIN_NS_DEFAULT },
	{ "1e6", SPIN_NS_DEFAULT },
	{ "-5", SPIN_NS_DEFAULT },
	{ "+5", SPIN_NS_DEFAULT },
	{ " 5", SPIN_NS_DEFAULT },
	{ "5 ", SPIN_NS_DEFAULT },
};

/* Row _i: CHAN_SPIN_NS set so, the spin is that many nanoseconds. */
START_TEST(spin_setting_reads_decimal_nanoseconds)
{
	unsigned long got;

	if (spins[_i].env == NULL)
		ck_assert_int_eq(unsetenv("CHAN_SPIN_NS"), 0);
	else
		ck_assert_int_eq(setenv("CHAN_SPIN_NS", spins[_i].env, 1), 0);
	got = spin_setting();
	ck_assert_msg(got == spins[_i].want, "CHAN_SPIN_NS %s%s%s: %lu ns, "
	    "want %lu", spins[_i].env == NULL ? "unset" : "\"",
	    spins[_i].env == NULL ? "" : spins[_i].env,
	    spins[_i].env == NULL ? "" : "\"", got, spins[_i].want);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("waiter");
	TCase *tc = tcase_create("spin_setting");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, CASE_TIMEOUT);
	tcase_add_loop_test(tc, spin_setting_reads_decimal_nanoseconds, 0,
	    (int)NELEMS(spins));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
