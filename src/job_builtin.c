/* The built-in worker kinds: toy workloads, the SHA-512 seed workload, kinds that fail in each
 * way a worker can (exit, raise, abort, segfault, hang, spin), the five functions of PyMOTW's
 * multiprocessing exit-code example, and demo, which reads each item as an instruction.
 *
 * Everything here but job_builtin_parse runs inside a forked worker whose signals are at
 * SIG_DFL with an empty mask. A kind that ends the process uses _exit, never exit: atexit
 * handlers and LeakSanitizer belong to the parent. */
#include "job.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "sha512.h"

/* exit:N takes 0..BUILTIN_EXIT_MAX; the kernel keeps the low 8 bits (exit:300 gives 44). */
#define BUILTIN_EXIT_MAX 1000

/* Items quoted in messages are cut to this many bytes, followed by "...". */
#define BUILTIN_QUOTE_MAX 200

/* The printf arguments for "%.*s%s" quoting an item of len bytes, cut when long. */
#define BUILTIN_QUOTE(item, len)                                                                   \
	(int)MIN((len), (size_t)BUILTIN_QUOTE_MAX), (item), ((len) > BUILTIN_QUOTE_MAX ? "..." : "")

/* Parse the n bytes at p as a decimal integer: an optional '-' when negative_ok, then digits
 * and nothing else. Returns 0 and *v, -EINVAL when not an integer, -ERANGE when it is one but
 * does not fit a long long. */
static int builtin_parse_ll(const char *p, size_t n, bool negative_ok, long long *v)
{
	bool negative = negative_ok && n > 0 && p[0] == '-';
	size_t i = negative ? 1 : 0;
	unsigned long long limit = negative ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
	unsigned long long mag = 0;
	bool overflow = false;

	if (i == n)
		return -EINVAL;
	for (; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		unsigned d = (unsigned)(p[i] - '0');
		/* Keep reading after an overflow: "99999999999999999999x" is not an integer. */
		if (mag > (limit - d) / 10)
			overflow = true;
		else
			mag = mag * 10 + d;
	}
	if (overflow)
		return -ERANGE;
	if (!negative)
		*v = (long long)mag;
	else if (mag == limit)
		*v = LLONG_MIN;
	else
		*v = -(long long)mag;
	return 0;
}

/* Sleep ms milliseconds, resuming with the time left after a signal interrupts. */
static void builtin_sleep_ms(long long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		continue;
}

/* ---- the kinds ------------------------------------------------------------------------------ */

static int square_run(const struct job *job, struct job_ctx *ctx, const char *item, size_t len,
		      struct job_output *out)
{
	long long x, sq;
	int r = builtin_parse_ll(item, len, true, &x);

	(void)job;
	(void)ctx;
	if (r == -EINVAL) {
		complain("square: not an integer: '%.*s%s'", BUILTIN_QUOTE(item, len));
		return 1;
	}
	if (r == -ERANGE || __builtin_mul_overflow(x, x, &sq)) {
		complain("square: overflows: '%.*s%s'", BUILTIN_QUOTE(item, len));
		return 1;
	}
	/* By hand: printf's machinery was a fifth of a trivial item's cost. */
	char digits[24];
	char *d = digits + sizeof(digits);
	unsigned long long u = (unsigned long long)sq; /* a square is never negative */
	*--d = '\n';
	do
		*--d = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	job_output_write(out, d, (size_t)(digits + sizeof(digits) - d));
	return 0;
}

static int noop_run(const struct job *job, struct job_ctx *ctx, const char *item, size_t len,
		    struct job_output *out)
{
	(void)job;
	(void)ctx;
	(void)item;
	(void)len;
	(void)out;
	return 0;
}

static int echo_run(const struct job *job, struct job_ctx *ctx, const char *item, size_t len,
		    struct job_output *out)
{
	(void)job;
	(void)ctx;
	job_output_write(out, item, len);
	job_output_write(out, "\n", 1);
	return 0;
}

/* job->arg is the milliseconds, or -1 (the default) for "the item is the milliseconds". */
static int sleep_run(const struct job *job, struct job_ctx *ctx, const char *item, size_t len,
		     struct job_output *out)
{
	long long ms = job->arg;

	(void)ctx;
	(void)out;
	if (ms < 0 && builtin_parse_ll(item, len, false, &ms) < 0) {
		complain("sleep: not a number of milliseconds: '%.*s%s'", BUILTIN_QUOTE(item, len));
		return 1;
	}
	builtin_sleep_ms(ms);
	return 0;
}

/* h = item; job->arg times: h = lowercase hex of SHA-512(h). Prints h. The kind keeps no state
 * between items: sha512() holds its context on the stack, and setting one up costs nothing. */
static int sha512_run(const struct job *job, struct job_ctx *ctx, const char *item, size_t len,
		      struct job_output *out)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[SHA512_DIGEST_LEN];
	char hex[2 * SHA512_DIGEST_LEN];
	const char *in = item;
	size_t inlen = len;

	(void)ctx;
	for (long long round = 0; round < job->arg; round++) {
		sha512(in, inlen, md);
		for (size_t i = 0; i < sizeof(md); i++) {
			hex[2 * i] = digits[md[i] >> 4];
			hex[2 * i + 1] = digits[md[i] & 0xf];
		}
		in = hex;
		inlen = sizeof(hex);
	}
	job_output_write(out, in, inlen);
	job_output_write(out, "\n", 1);
	return 0;
}

static int fail_run(const struct job *job, struct job_ctx *ctx, const char *item, size_t len,
		    struct job_output *out)
{
	(void)job;
	(void)ctx;
	(void)item;
	(void)len;
	(void)out;
	return 1;
}

static int exit_run(const struct job *job, struct job_ctx *ctx, const char *item, size_t len,
		    struct job_output *out)
{
	(void)ctx;
	(void)item;
	(void)len;
	(void)out;
	_exit((int)job->arg);
}

/* What an uncaught exception does to a Python worker: a message, then exit status 1. */
static int raises_run(const struct job *job, struct job_ctx *ctx, const char *item, size_t len,
		      struct job_output *out)
{
	(void)job;
	(void)out;
	complain("worker %d: raises: RuntimeError: There was an error! (item '%.*s%s')", ctx->slot,
		 BUILTIN_QUOTE(item, len));
	_exit(1);
}

static int abort_run(const struct job *job, struct job_ctx *ctx, const char *item, size_t len,
		     struct job_output *out)
{
	(void)job;
	(void)ctx;
	(void)item;
	(void)len;
	(void)out;
	abort();
}

/* A genuine fault: a store to a read-only page. A NULL store would be reported by UBSan, and a
 * store to a page without access by valgrind, before the kernel saw it: the item is meant to die
 * of SIGSEGV, not to be an error in pooltop. */
static int segv_run(const struct job *job, struct job_ctx *ctx, const char *item, size_t len,
		    struct job_output *out)
{
	void *page = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)job;
	(void)ctx;
	(void)item;
	(void)len;
	(void)out;
	if (page == MAP_FAILED)
		raise(SIGSEGV);
	*(volatile char *)page = 1;
	/* Reached only if a SIGSEGV handler returned, which a worker never installs. */
	return 1;
}

/* Block forever without using the CPU. */
static _Noreturn void builtin_hang(void)
{
	for (;;)
		pause();
}

/* Loop forever at full CPU; volatile, so that the loop is neither removed nor reduced to a
 * halt. */
static _Noreturn void builtin_spin(void)
{
	volatile unsigned long spins = 0;

	for (;;)
		spins++;
}

static int hang_run(const struct job *job, struct job_ctx *ctx, const char *item, size_t len,
		    struct job_output *out)
{
	(void)job;
	(void)ctx;
	(void)item;
	(void)len;
	(void)out;
	builtin_hang();
}

static int spin_run(const struct job *job, struct job_ctx *ctx, const char *item, size_t len,
		    struct job_output *out)
{
	(void)job;
	(void)ctx;
	(void)item;
	(void)len;
	(void)out;
	builtin_spin();
}

/* PyMOTW's exit_error: sys.exit(1). */
static int exit_error_run(const struct job *job, struct job_ctx *ctx, const char *item, size_t len,
			  struct job_output *out)
{
	(void)job;
	(void)ctx;
	(void)item;
	(void)len;
	(void)out;
	_exit(1);
}

/* PyMOTW's return_value: prints and returns 1; Python discards the return value. */
static int return_value_run(const struct job *job, struct job_ctx *ctx, const char *item,
			    size_t len, struct job_output *out)
{
	(void)job;
	(void)ctx;
	(void)item;
	(void)len;
	job_output_write(out, "1\n", 2);
	return 0;
}

/* PyMOTW's terminated: sleeps long enough for the parent to terminate it. */
static int terminated_run(const struct job *job, struct job_ctx *ctx, const char *item, size_t len,
			  struct job_output *out)
{
	(void)job;
	(void)ctx;
	(void)item;
	(void)len;
	(void)out;
	builtin_sleep_ms(3000);
	return 0;
}

/* ---- looking kinds up ----------------------------------------------------------------------- */

static const struct job_kind *builtin_find(const char *name, size_t namelen, bool demo_ok)
{
	for (const struct job_kind *k = job_builtin_kinds; k->name; k++) {
		if (strlen(k->name) != namelen || memcmp(k->name, name, namelen))
			continue;
		if (!demo_ok && !strcmp(k->name, "demo"))
			return NULL;
		return k;
	}
	return NULL;
}

/* The range of a kind's ":ARG" (JOB_ARG_OPTIONAL and JOB_ARG_REQUIRED kinds). */
static void builtin_arg_range(const struct job_kind *kind, long long *min, long long *max)
{
	*min = strcmp(kind->name, "sha512") ? 0 : 1;
	*max = strcmp(kind->name, "exit") ? LLONG_MAX : BUILTIN_EXIT_MAX;
}

/* Look up "NAME" or "NAME:ARG" (len bytes at spec, not NUL-terminated) among the kinds, demo
 * included only when demo_ok. Returns 0 with *kind and *arg; -ENOENT for an unknown name and
 * -EINVAL for a bad ARG, both with a reason in err. */
static int builtin_lookup(const char *spec, size_t len, bool demo_ok, const struct job_kind **kind,
			  long long *arg, char *err, size_t errlen)
{
	const char *colon = memchr(spec, ':', len);
	size_t namelen = colon ? (size_t)(colon - spec) : len;
	const struct job_kind *k = builtin_find(spec, namelen, demo_ok);
	long long v, min, max;

	if (!k) {
		snprintf(err, errlen, "unknown builtin '%.*s%s' (pooltop --help lists them)",
			 BUILTIN_QUOTE(spec, namelen));
		return -ENOENT;
	}
	if (!colon) {
		if (k->arg == JOB_ARG_REQUIRED) {
			snprintf(err, errlen, "builtin '%s' needs a number, as %s:N", k->name,
				 k->name);
			return -EINVAL;
		}
		*kind = k;
		*arg = k->arg_default;
		return 0;
	}

	const char *a = colon + 1;
	size_t alen = len - namelen - 1;
	if (k->arg == JOB_ARG_NONE) {
		snprintf(err, errlen, "builtin '%s' takes no argument", k->name);
		return -EINVAL;
	}
	int r = builtin_parse_ll(a, alen, false, &v);
	if (r == -EINVAL) {
		snprintf(err, errlen, "builtin '%s': '%.*s%s' is not a number", k->name,
			 BUILTIN_QUOTE(a, alen));
		return -EINVAL;
	}
	builtin_arg_range(k, &min, &max);
	if (r == -ERANGE || v < min || v > max) {
		if (max == LLONG_MAX)
			snprintf(err, errlen,
				 "builtin '%s': '%.*s%s' is out of range (at least %lld)", k->name,
				 BUILTIN_QUOTE(a, alen), min);
		else
			snprintf(err, errlen, "builtin '%s': '%.*s%s' is out of range (%lld..%lld)",
				 k->name, BUILTIN_QUOTE(a, alen), min, max);
		return -EINVAL;
	}
	*kind = k;
	*arg = v;
	return 0;
}

/* ---- demo ------------------------------------------------------------------------------------ */

/* One sub-job per entry of job_builtin_kinds, same index. A sub-job's spec is the demo's own
 * (its kind, and the ARG of the last instruction for it); it runs in the demo's worker, so its
 * context is the demo's but for its state, which is its own (what a kind may report back in a
 * context, timed_out and exit_status, no builtin sets). started: its init ran. */
struct demo_sub {
	struct job job;
	void *state;
	bool started;
};

struct demo_state {
	struct demo_sub *subs;
	size_t nsubs;
};

static int demo_init(const struct job *job, struct job_ctx *ctx)
{
	struct demo_state *st = xmalloc(sizeof(*st));

	(void)job;
	st->nsubs = 0;
	while (job_builtin_kinds[st->nsubs].name)
		st->nsubs++;
	st->subs = xcalloc(st->nsubs, sizeof(*st->subs));
	ctx->state = st;
	return 0;
}

/* The item is the instruction, and also the item the instructed kind runs on. */
static int demo_run(const struct job *job, struct job_ctx *ctx, const char *item, size_t len,
		    struct job_output *out)
{
	struct demo_state *st = ctx->state;
	const struct job_kind *kind;
	long long arg, x;
	char err[256];

	(void)job;
	if (builtin_parse_ll(item, len, true, &x) != -EINVAL) {
		/* A bare integer, even one too big: square says what is wrong with it. */
		kind = builtin_find("square", strlen("square"), false);
		arg = kind->arg_default;
	} else {
		int r = builtin_lookup(item, len, false, &kind, &arg, err, sizeof(err));
		if (r == -ENOENT) {
			complain("demo: unknown instruction '%.*s%s'", BUILTIN_QUOTE(item, len));
			return 2;
		}
		if (r < 0) {
			complain("demo: instruction '%.*s%s': %s", BUILTIN_QUOTE(item, len), err);
			return 2;
		}
	}

	struct demo_sub *sub = &st->subs[kind - job_builtin_kinds];
	struct job_ctx sub_ctx = *ctx;
	sub->job.kind = kind;
	sub->job.arg = arg;
	sub_ctx.state = sub->state;
	if (!sub->started) {
		if (kind->init) {
			int r = kind->init(&sub->job, &sub_ctx);
			if (r < 0) {
				complain("worker %d: demo: cannot start %s: %s", ctx->slot,
					 kind->name, strerror(-r));
				return 1;
			}
		}
		sub->started = true;
	}
	int code = kind->run(&sub->job, &sub_ctx, item, len, out);
	sub->state = sub_ctx.state;
	return code;
}

static void demo_fini(const struct job *job, struct job_ctx *ctx)
{
	struct demo_state *st = ctx->state;

	(void)job;
	for (size_t i = 0; i < st->nsubs; i++) {
		struct demo_sub *sub = &st->subs[i];
		struct job_ctx sub_ctx = *ctx;
		sub_ctx.state = sub->state;
		if (sub->started && sub->job.kind->fini)
			sub->job.kind->fini(&sub->job, &sub_ctx);
	}
	free(st->subs);
	free(st);
	ctx->state = NULL;
}

/* ---- the table --------------------------------------------------------------------------------
 */

const struct job_kind job_builtin_kinds[] = {
	{.name = "square",
	 .summary = "print the square of each item, an integer",
	 .run = square_run},
	{.name = "echo", .summary = "print each item", .run = echo_run},
	{.name = "noop", .summary = "do nothing and succeed", .run = noop_run},
	{.name = "sleep",
	 .summary = "sleep:MS sleeps MS milliseconds per item; plain sleep reads MS from the item",
	 .arg = JOB_ARG_OPTIONAL,
	 .arg_default = -1,
	 .run = sleep_run},
	{.name = "sha512",
	 .summary = "sha512:ROUNDS prints the item hashed ROUNDS times (default 1), in hex",
	 .arg = JOB_ARG_OPTIONAL,
	 .arg_default = 1,
	 .run = sha512_run},
	{.name = "fail",
	 .summary = "fail each item with exit code 1; the worker lives on",
	 .run = fail_run},
	{.name = "exit",
	 .summary = "exit:N ends the worker with status N (0..1000; the kernel keeps 8 bits)",
	 .arg = JOB_ARG_REQUIRED,
	 .run = exit_run},
	{.name = "raises",
	 .summary = "die like an uncaught Python exception: a message on stderr, exit 1",
	 .run = raises_run},
	{.name = "abort", .summary = "end the worker with abort(), SIGABRT", .run = abort_run},
	{.name = "segv",
	 .summary = "end the worker with a segmentation fault, SIGSEGV",
	 .run = segv_run},
	{.name = "hang", .summary = "block forever at 0% CPU", .run = hang_run},
	{.name = "spin", .summary = "loop forever at 100% CPU", .run = spin_run},
	{.name = "exit_error",
	 .summary = "PyMOTW's exit_error: exit with status 1",
	 .run = exit_error_run},
	{.name = "exit_ok", .summary = "PyMOTW's exit_ok: succeed without output", .run = noop_run},
	{.name = "return_value",
	 .summary = "PyMOTW's return_value: print 1 and succeed (the value is discarded)",
	 .run = return_value_run},
	{.name = "terminated",
	 .summary = "PyMOTW's terminated: sleep 3 s, then succeed",
	 .run = terminated_run},
	{.name = "demo",
	 .summary = "each item is an instruction: NAME[:ARG] of another builtin, or an integer",
	 .init = demo_init,
	 .run = demo_run,
	 .fini = demo_fini},
	{.name = NULL},
};

int job_builtin_parse(const char *spec, struct job *job, char *err, size_t errlen)
{
	const struct job_kind *kind;
	long long arg;
	int r = builtin_lookup(spec, strlen(spec), true, &kind, &arg, err, errlen);

	if (r < 0)
		return -EINVAL;
	memset(job, 0, sizeof(*job));
	job->kind = kind;
	job->arg = arg;
	return 0;
}
