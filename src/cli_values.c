/* The values of the options that take more than a number: -j's forms, --halt's, --timeout's,
 * as GNU parallel writes them, each checked with a one-line error naming the option. */
#include <string.h>
#include <unistd.h>

#include "cli_internal.h"
#include "duration.h"
#include "util.h"

int cli_number(const char *name, const char *arg, uint64_t min, uint64_t max, uint64_t *out,
	       char *err, size_t errlen)
{
	if (parse_uint(arg, min, max, out) < 0)
		return cli_fail(err, errlen, "%s: '%s' is not a number from %llu to %llu", name,
				arg, (unsigned long long)min, (unsigned long long)max);
	return 0;
}

int cli_file(const char *name, const char *arg, const char **out, char *err, size_t errlen)
{
	if (*arg == '\0')
		return cli_fail(err, errlen, "%s: the file name is empty", name);
	*out = arg;
	return 0;
}

/* The CPUs -j counts from: those online, as the default pool size. */
long cli_ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n;
}

/* -j in GNU parallel's forms: N workers, N% of the CPUs (rounded down), +N or -N the CPUs and N
 * more or fewer. A result under one worker, or over the most, is an error that says what it
 * came to. */
int cli_jobs(const char *name, const char *arg, unsigned *jobs, char *err, size_t errlen)
{
	size_t n = strlen(arg);
	long ncpu = cli_ncpu();
	uint64_t v;
	long long want;
	char num[24];
	if (n > 1 && n - 1 < sizeof(num) && arg[n - 1] == '%') {
		memcpy(num, arg, n - 1);
		num[n - 1] = '\0';
		if (parse_uint(num, 0, 100000, &v) < 0)
			goto bad;
		want = (long long)(ncpu * (long long)v / 100);
	} else if (n > 1 && (arg[0] == '+' || arg[0] == '-')) {
		if (parse_uint(arg + 1, 0, 100000, &v) < 0)
			goto bad;
		want = arg[0] == '+' ? ncpu + (long long)v : ncpu - (long long)v;
	} else {
		if (parse_uint(arg, 0, UINT32_MAX, &v) < 0)
			goto bad;
		if (v < 1 || v > POOLTOP_MAX_WORKERS)
			return cli_fail(err, errlen, "%s: '%s' is not a number from 1 to %d", name,
					arg, POOLTOP_MAX_WORKERS);
		*jobs = (unsigned)v;
		return 0;
	}
	if (want < 1)
		return cli_fail(err, errlen, "%s: '%s' of %ld CPU%s is under one worker", name, arg,
				ncpu, ncpu == 1 ? "" : "s");
	if (want > POOLTOP_MAX_WORKERS)
		return cli_fail(err, errlen,
				"%s: '%s' of %ld CPU%s is %lld workers: the most is %d", name, arg,
				ncpu, ncpu == 1 ? "" : "s", want, POOLTOP_MAX_WORKERS);
	*jobs = (unsigned)want;
	return 0;
bad:
	return cli_fail(
		err, errlen,
		"%s: '%s' is not a number of workers (N from 1 to 1024, N%% of the CPUs, +N "
		"or -N)",
		name, arg);
}

/* --halt never|0, 1 (soon,fail=1), 2 (now,fail=1), or WHEN,fail|success=N|N% as GNU
 * parallel's. */
int cli_halt(const char *name, const char *arg, struct cli_halt *h, char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	if (!strcmp(arg, "never") || !strcmp(arg, "0"))
		return 0;
	if (!strcmp(arg, "1") || !strcmp(arg, "2")) {
		h->when = arg[0] == '1' ? CLI_HALT_SOON : CLI_HALT_NOW;
		h->n = 1;
		return 0;
	}
	const char *comma = strchr(arg, ',');
	size_t wl = comma ? (size_t)(comma - arg) : 0;
	if (wl == 4 && !strncmp(arg, "soon", 4))
		h->when = CLI_HALT_SOON;
	else if (wl == 3 && !strncmp(arg, "now", 3))
		h->when = CLI_HALT_NOW;
	else
		goto bad;
	const char *cond = comma + 1, *eq = strchr(cond, '=');
	if (!eq)
		goto bad;
	size_t cl = (size_t)(eq - cond);
	if (cl == 7 && !strncmp(cond, "success", 7))
		h->on_success = true;
	else if (!(cl == 4 && !strncmp(cond, "fail", 4)))
		return cli_fail(err, errlen,
				"%s: '%.*s' is not a condition pooltop knows (fail=N, fail=N%%, "
				"success=N or success=N%%)",
				name, (int)cl, cond);
	char num[24];
	size_t nl = strlen(eq + 1);
	if (nl == 0 || nl >= sizeof(num))
		goto bad;
	memcpy(num, eq + 1, nl + 1);
	if (num[nl - 1] == '%') {
		h->percent = true;
		num[nl - 1] = '\0';
	}
	uint64_t v;
	if (parse_uint(num, 1, h->percent ? 100 : UINT32_MAX, &v) < 0)
		goto bad;
	h->n = (unsigned)v;
	return 0;
bad:
	return cli_fail(err, errlen,
			"%s: '%s' is not WHEN,fail=N (WHEN: now or soon; fail=N, fail=N%%, "
			"success=N, success=N%%; or never, 0, 1, 2)",
			name, arg);
}

/* --timeout DURATION, or N% of the median item time (GNU parallel's two forms). */
int cli_timeout(const char *name, const char *arg, struct config *c, char *err, size_t errlen)
{
	size_t n = strlen(arg);
	if (n > 1 && arg[n - 1] == '%') {
		char num[24];
		uint64_t pct;
		if (n - 1 >= sizeof(num))
			goto bad;
		memcpy(num, arg, n - 1);
		num[n - 1] = '\0';
		if (parse_uint(num, 1, 1000000, &pct) < 0)
			goto bad;
		c->timeout_pct = (unsigned)pct;
		c->timeout_ns = 0;
		return 0;
	}
	if (duration_parse(arg, &c->timeout_ns) < 0 || c->timeout_ns == 0)
		goto bad;
	/* Shown to the millisecond ("ran past --timeout (0.250 s)"): what rounds to zero there
	 * is refused as 0 is. */
	if (c->timeout_ns < NS_PER_MS)
		return cli_fail(err, errlen,
				"%s: '%s' is under a millisecond (the shortest is 1ms)", name, arg);
	c->timeout_pct = 0;
	return 0;
bad:
	return cli_fail(err, errlen,
			"%s: '%s' is not a duration (as 10, 1.5s, 200ms, 2m) or a percentage of "
			"the median item time (as 200%%)",
			name, arg);
}
