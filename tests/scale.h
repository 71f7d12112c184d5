/* tests/scale.h: the time scale of the C tests, as tests/lib.sh's for the scripts.
 * POOLTOP_TEST_SCALE (default 1; a positive number, fractions allowed) multiplies every deadline
 * a test waits up to, as libuv's UV_TEST_TIMEOUT_MULTIPLIER does: raise it on a loaded machine
 * (.ci/run does). A lower bound the code promises (a sleep of 50 ms takes at least 50 ms) is
 * never scaled: a slow machine cannot break it. */
#ifndef POOLTOP_TESTS_SCALE_H
#define POOLTOP_TESTS_SCALE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The factor, read once. A value that is not a decimal number above 0 ends the test binary with
 * a TAP "Bail out!" (the scripts refuse the same values). */
static inline double test_scale(void)
{
	static double scale;
	if (scale > 0)
		return scale;
	const char *s = getenv("POOLTOP_TEST_SCALE");
	scale = 1;
	if (!s || !*s)
		return scale;
	bool digit = false, dot = false, ok = true;
	for (const char *p = s; *p && ok; p++) {
		if (*p >= '0' && *p <= '9')
			digit = true;
		else if (*p == '.' && !dot)
			dot = true;
		else
			ok = false;
	}
	double v = ok && digit ? strtod(s, NULL) : 0;
	if (!(v > 0)) {
		printf("Bail out! POOLTOP_TEST_SCALE='%s' is not a positive number (as 1, 2.5)\n",
		       s);
		fflush(stdout);
		exit(1);
	}
	scale = v;
	return scale;
}

/* Checked before main: a bad value stops the binary before any test runs. */
__attribute__((constructor)) static void test_scale_check(void)
{
	(void)test_scale();
}

/* A deadline of ns nanoseconds (ms milliseconds, s seconds), scaled. */
static inline uint64_t scaled_ns(uint64_t ns)
{
	return (uint64_t)((double)ns * test_scale());
}

static inline unsigned scaled_ms(unsigned ms)
{
	return (unsigned)((double)ms * test_scale() + 0.5);
}

static inline unsigned scaled_s(unsigned s)
{
	return (unsigned)((double)s * test_scale() + 0.5);
}

#endif
