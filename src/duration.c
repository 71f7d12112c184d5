/* Durations and counts given on the command line, parsed strictly and exactly: no floating
 * point, no locale, no leading blanks or signs. */
#include "duration.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "util.h"

/* The longest duration accepted: 100 years of 365.25 days. */
#define DURATION_MAX_NS (36525ULL * 86400ULL * NS_PER_S)

static bool duration_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The nanoseconds in one unit of suffix, or 0 for an unknown suffix. */
static uint64_t duration_unit_ns(const char *suffix)
{
	static const struct {
		const char *suffix;
		uint64_t ns;
	} units[] = {
		{"", NS_PER_S},	      {"ms", NS_PER_MS},      {"s", NS_PER_S},
		{"m", 60 * NS_PER_S}, {"h", 3600 * NS_PER_S}, {"d", 86400 * NS_PER_S},
	};

	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (!strcmp(suffix, units[i].suffix))
			return units[i].ns;
	}
	return 0;
}

int duration_parse(const char *s, uint64_t *ns)
{
	const char *p = s;
	uint64_t whole = 0;

	/* DIGITS [ "." DIGITS ] SUFFIX: at least one digit on each side of a point. */
	if (!duration_is_digit(*p))
		return -EINVAL;
	for (; duration_is_digit(*p); p++) {
		/* Anything past DURATION_MAX_NS seconds is out of range whatever the unit. */
		if (whole > DURATION_MAX_NS / 10)
			return -EINVAL;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	const char *frac = NULL;
	size_t nfrac = 0;
	if (*p == '.') {
		frac = ++p;
		while (duration_is_digit(*p))
			p++;
		nfrac = (size_t)(p - frac);
		if (nfrac == 0)
			return -EINVAL;
	}

	uint64_t unit = duration_unit_ns(p);
	if (unit == 0)
		return -EINVAL;
	if (whole > DURATION_MAX_NS / unit)
		return -EINVAL;

	/* The fraction in nanoseconds, from its last digit to its first: each step adds a digit's
	 * worth of units and divides by ten, so the sum never exceeds ten units and the result is
	 * exact to the nanosecond (truncated below). */
	uint64_t part = 0;
	for (size_t i = nfrac; i-- > 0;)
		part = (part + (uint64_t)(frac[i] - '0') * unit) / 10;

	uint64_t total = whole * unit + part;
	if (total > DURATION_MAX_NS)
		return -EINVAL;
	*ns = total;
	return 0;
}

int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	bool overflow = false;

	if (!duration_is_digit(*s))
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (!duration_is_digit(*p))
			return -EINVAL;
		unsigned d = (unsigned)(*p - '0');
		/* Keep reading after an overflow: "99999999999999999999x" is not a number at all.
		 */
		if (v > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			v = v * 10 + d;
	}
	if (overflow || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* The bytes in one unit of suffix, or 0 for an unknown suffix: GNU parallel's unit prefixes,
 * capitals by 1024, small letters by 1000. */
static uint64_t size_unit(const char *suffix)
{
	static const struct {
		const char *suffix;
		uint64_t bytes;
	} units[] = {
		{"", 1},
		{"K", 1ULL << 10},
		{"M", 1ULL << 20},
		{"G", 1ULL << 30},
		{"T", 1ULL << 40},
		{"k", 1000ULL},
		{"m", 1000ULL * 1000},
		{"g", 1000ULL * 1000 * 1000},
		{"t", 1000ULL * 1000 * 1000 * 1000},
	};

	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (!strcmp(suffix, units[i].suffix))
			return units[i].bytes;
	}
	return 0;
}

int size_parse(const char *s, uint64_t *bytes)
{
	const char *p = s;
	uint64_t whole = 0;

	if (!duration_is_digit(*p))
		return -EINVAL;
	for (; duration_is_digit(*p); p++) {
		if (whole > SIZE_PARSE_MAX / 10)
			return -EINVAL;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	const char *frac = NULL;
	size_t nfrac = 0;
	if (*p == '.') {
		frac = ++p;
		while (duration_is_digit(*p))
			p++;
		nfrac = (size_t)(p - frac);
		if (nfrac == 0)
			return -EINVAL;
	}
	uint64_t unit = size_unit(p);
	if (unit == 0 || whole > SIZE_PARSE_MAX / unit)
		return -EINVAL;
	/* As duration_parse: exact, truncated below a byte. */
	uint64_t part = 0;
	for (size_t i = nfrac; i-- > 0;)
		part = (part + (uint64_t)(frac[i] - '0') * unit) / 10;
	uint64_t total = whole * unit + part;
	if (total > SIZE_PARSE_MAX)
		return -EINVAL;
	*bytes = total;
	return 0;
}
