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

/* A unit a number may be followed by, and how many of the smallest it is. */
struct unit {
	const char *suffix;
	uint64_t value;
};

/* DIGITS [ "." DIGITS ] SUFFIX, at least one digit on each side of a point, SUFFIX one of units:
 * the value in the smallest unit, at most max. Exact: the fraction is summed from its last digit
 * to its first, each step adding a digit's worth of units and dividing by ten, so the sum never
 * exceeds ten units (truncated below the smallest). */
static int unit_parse(const char *s, const struct unit *units, size_t nunits, uint64_t max,
		      uint64_t *out)
{
	const char *p = s;
	uint64_t whole = 0;

	if (!duration_is_digit(*p))
		return -EINVAL;
	for (; duration_is_digit(*p); p++) {
		/* Anything past max in the smallest unit is out of range whatever the unit. */
		if (whole > max / 10)
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
	uint64_t unit = 0;
	for (size_t i = 0; i < nunits && !unit; i++)
		if (!strcmp(p, units[i].suffix))
			unit = units[i].value;
	if (unit == 0 || whole > max / unit)
		return -EINVAL;
	uint64_t part = 0;
	for (size_t i = nfrac; i-- > 0;)
		part = (part + (uint64_t)(frac[i] - '0') * unit) / 10;
	uint64_t total = whole * unit + part;
	if (total > max)
		return -EINVAL;
	*out = total;
	return 0;
}

int duration_parse(const char *s, uint64_t *ns)
{
	static const struct unit units[] = {
		{"", NS_PER_S},	      {"ms", NS_PER_MS},      {"s", NS_PER_S},
		{"m", 60 * NS_PER_S}, {"h", 3600 * NS_PER_S}, {"d", 86400 * NS_PER_S},
	};
	return unit_parse(s, units, ARRAY_SIZE(units), DURATION_MAX_NS, ns);
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

int size_parse(const char *s, uint64_t *bytes)
{
	/* GNU parallel's unit prefixes: capitals by 1024, small letters by 1000. */
	static const struct unit units[] = {
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
	return unit_parse(s, units, ARRAY_SIZE(units), SIZE_PARSE_MAX, bytes);
}
