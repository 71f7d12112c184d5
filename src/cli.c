/* The command line: options and subcommands parsed into a struct config (the values checked in
 * cli_values.c, --help written by cli_usage.c).
 * Parsing only: nothing here opens files or starts processes; main() prints the errors. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "attach_dir.h"
#include "cluster_lua.h"
#include "redis_url.h"
#include "duration.h"
#include "job.h"
#include "sources.h"
#include "termseq.h"
#include "util.h"

#define CLI_RETRIES_MAX		 1000000ULL
#define CLI_MAX_ITEMS_MAX	 1000000000000ULL
#define CLI_JOIN_TIMEOUT_DEFAULT (10 * NS_PER_S)
#define CLI_LEASE_DEFAULT	 (10 * NS_PER_S)

#include "cli_internal.h"

/* The rows, as git's OPT_* macros. (clang-format would break each into a block.) */
/* clang-format off */
#define CLI_ARG(name, val, argh, help)	{name, required_argument, val, argh, help}
#define CLI_FLAG(name, val, help)	{name, no_argument, val, NULL, help}
#define CLI_FORM(form, help)		{NULL, no_argument, 0, form, help}
#define CLI_HEADING(heading)		{NULL, no_argument, 0, NULL, heading}
/* clang-format on */

/* The one table of options, in --help's order. */
const struct cli_option cli_options[] = {
	CLI_HEADING("What each worker runs:"),
	CLI_FORM("-- COMMAND [ARG...]", "COMMAND once per item, executed directly (no shell), in\n"
					"its own process group; its stdout is the item's output.\n"
					"In the arguments {} is the item, {.} without extension,\n"
					"{/} basename, {//} dirname, {/.} basename without\n"
					"extension, {#} sequence number, {%} slot number + 1;\n"
					"with none of them the item is the last argument.\n"
					"Not found: 127; not executable: 126."),
	/* Takes no argument: the COMMAND comes after "--", with the items. */
	{"persistent", no_argument, OPT_PERSISTENT, "-- COMMAND [ARG...]",
	 "COMMAND started once per worker: items go one per line\n"
	 "to its stdin, one answer line per item comes back, in\n"
	 "order; closing its stdin is the join"},
	CLI_ARG("plugin", OPT_PLUGIN, "FILE.so[:ARG]",
		"a C plugin (pooltop-plugin.h): init(ARG) once per\n"
		"worker, run per item, fini on a join"),
	CLI_ARG("builtin", OPT_BUILTIN, "NAME[:ARG]", "a built-in C function, see below"),

	CLI_HEADING("Options:"),
	CLI_ARG("jobs", 'j', "N",
		"run N workers (1 to 1024; default: the number of CPUs);\n"
		"N% of the CPUs, +N or -N: that many more or fewer;\n"
		"one per CPU start at once, the rest as items wait"),
	CLI_ARG("in-flight", OPT_IN_FLIGHT, "N",
		"items a --persistent program is given ahead of its\n"
		"answers (1 to 64; default 64, fewer for slow items)"),
	CLI_ARG("timeout", OPT_TIMEOUT, "DURATION",
		"stop an item that runs longer (as 10, 1.5s, 200ms, 2m),\n"
		"or past N% of the median item time (as 300%); it\n"
		"fails with the signal that ended it"),
	CLI_ARG("term-seq", OPT_TERM_SEQ, "SEQ",
		"how --timeout stops an item: signals and waits in ms\n"
		"(default TERM,200,TERM,100,TERM,50,KILL,25), sent to\n"
		"the job's process group, or to the worker for kinds\n"
		"that run inside it (it is then replaced)"),
	CLI_ARG("arg-file", 'a', "FILE", "read the items from FILE instead of standard input"),
	CLI_FORM("::: ITEM... :::: FILE...",
		 "input sources: ::: the words, :::: each FILE's lines\n"
		 "(- is standard input); several make their cross\n"
		 "product, the last varying fastest; {1}..{N} pick a\n"
		 "source's value (and {N.} {N/} {N//} {N/.}), {} is\n"
		 "all of them joined with a space"),
	CLI_FLAG("link", OPT_LINK,
		 "pair the input sources' values by position instead\n"
		 "of crossing them (a shorter source wraps around)"),
	CLI_ARG("colsep", OPT_COLSEP, "REGEX",
		"split each item into columns {1}..{N} where the POSIX\n"
		"extended REGEX matches (\\t is a tab); {} is the\n"
		"columns joined with a space"),
	CLI_FLAG("null", '0', "items are separated by NUL bytes, not newlines"),
	CLI_FLAG("keep-order", 'k', "print results in input order, not as they finish"),
	CLI_FLAG("dry-run", OPT_DRY_RUN,
		 "print the command line each item would run, quoted as\n"
		 "a shell reads it, and run nothing (-k: in input order)"),
	CLI_FLAG("tag", OPT_TAG,
		 "begin each line of an item's output with the item\n"
		 "and a tab (as GNU parallel's --tag)"),
	CLI_ARG("retries", OPT_RETRIES, "N",
		"run a failed item again up to N more times (default 0)"),
	CLI_ARG("halt", OPT_HALT, "WHEN,fail=N",
		"stop the batch when N items failed (fail=N%: that\n"
		"share of those finished; success=N: succeeded): WHEN\n"
		"soon starts nothing new, now terminates the running\n"
		"ones; exit status: the last failed item's (as GNU\n"
		"parallel's; never, 0, 1 and 2 are its old forms)"),
	CLI_ARG("delay", OPT_DELAY, "DURATION",
		"wait this long between two job starts (as 10, 1.5s,\n"
		"200ms, 2m), retries included; the first starts at once"),
	CLI_ARG("memfree", OPT_MEMFREE, "SIZE",
		"start no job while the available memory (MemAvailable)\n"
		"is below SIZE (as 512M, 1G: K M G T by 1024, k m g t by\n"
		"1000); running jobs are never killed for it"),
	CLI_ARG("max-items-per-worker", OPT_MAX_ITEMS, "N",
		"replace each worker after N items (default: never)"),
	CLI_ARG("joblog", OPT_JOBLOG, "FILE",
		"write GNU parallel's joblog, one row per finished item"),
	CLI_ARG("results", OPT_RESULTS, "FILE",
		"write one JSON object per finished item (JSON Lines)"),
	CLI_ARG("events", OPT_EVENTS, "FILE",
		"write every event of the run (workers started and\n"
		"exited, items failed...) as JSON Lines, flushed"),
	CLI_FLAG("resume", OPT_RESUME, "skip the items already in the --joblog FILE"),
	CLI_FLAG("resume-failed", OPT_RESUME_FAILED, "as --resume, but run the failed ones again"),
	CLI_ARG("join-timeout", OPT_JOIN_TIMEOUT, "DURATION",
		"how long a joined worker may take to finish its item\n"
		"before it is terminated, then killed (default 10s;\n"
		"as 10, 1.5s, 200ms, 2m)"),
	CLI_FLAG("headless", OPT_HEADLESS, "no dashboard, even on a terminal"),
	CLI_ARG("hang-after", OPT_HANG_AFTER, "DURATION",
		"show a worker HUNG when busy on one item this long\n"
		"(default: 10 times the median item time, at least 5s)"),
	CLI_ARG("refresh", OPT_REFRESH, "MS", "the dashboard's redraw period (default 250)"),
	CLI_FLAG("exit-when-done", OPT_EXIT_WHEN_DONE,
		 "close the dashboard when the batch ends (by default\n"
		 "its finished screen stays until q), for scripts"),
	CLI_ARG("name", OPT_NAME, "NAME",
		"the batch's name for pooltop ls, attach and status\n"
		"(letters, digits, . _ -; default: the command's name\n"
		"and pooltop's pid); a name in use is refused"),
	CLI_ARG("socket", OPT_SOCKET, "PATH",
		"serve the batch on this socket instead of\n"
		"${POOLTOP_TMPDIR:-/tmp}/pooltop-UID/NAME.sock"),
	CLI_FLAG("no-detach", OPT_NO_DETACH,
		 "run the dashboard and the batch in one process: d\n"
		 "cannot detach, a hang-up of the terminal ends the batch"),
	CLI_HEADING("Across machines (a batch in Redis; see pooltop submit, collect):"),
	CLI_ARG("redis", OPT_REDIS, "URL",
		"make this machine a host of the batch in Redis at URL\n"
		"(redis://[user:password@]host[:port][/db] or\n"
		"unix:///path; REDISCLI_AUTH: the password): its\n"
		"workers take the batch's items and record each result\n"
		"once; items given here are submitted first"),
	CLI_ARG("batch", OPT_BATCH, "NAME", "the batch's name in Redis (with --redis)"),
	CLI_ARG("host", OPT_HOST, "NAME",
		"this host's name in the batch (default: the machine's\n"
		"name and pooltop's pid); a live host's name is refused"),
	CLI_ARG("lease", OPT_LEASE, "DURATION",
		"how long an item stays with a host that stops renewing\n"
		"it (dead, stopped, cut off) before another host takes\n"
		"it (default 10s)"),
	CLI_FLAG("more", OPT_MORE,
		 "the items given to submit (or to a host) are not the\n"
		 "last: the batch's input stays open"),
	CLI_FLAG("quiet", 'q', "no progress or events on standard error"),
	CLI_FLAG("help", 'h', "print this help and exit"),
	CLI_FLAG("version", 'V', "print the version and exit"),
};

const size_t cli_noptions = ARRAY_SIZE(cli_options);

#define CLI_OPTIONS_END (cli_options + ARRAY_SIZE(cli_options))

/* Room for getopt_long's tables made from cli_options (cli_getopt_tables). */
#define CLI_LONGOPTS  (ARRAY_SIZE(cli_options) + 1)
#define CLI_SHORTOPTS (2 + 2 * ARRAY_SIZE(cli_options) + 1)

/* getopt_long's tables from cli_options: the long options (ending with a zeroed row), and the
 * short ones. The leading '+' stops at the first word that is not an option (a subcommand,
 * ":::"); the ':' makes a missing argument return ':' instead of '?'. */
static void cli_getopt_tables(struct option longopts[CLI_LONGOPTS], char shortopts[CLI_SHORTOPTS])
{
	char *s = shortopts;

	*s++ = '+';
	*s++ = ':';
	for (const struct cli_option *o = cli_options; o < CLI_OPTIONS_END; o++) {
		if (!o->name)
			continue;
		*longopts++ = (struct option){o->name, o->has_arg, NULL, o->val};
		if (o->val < 256) {
			*s++ = (char)o->val;
			if (o->has_arg == required_argument)
				*s++ = ':';
		}
	}
	*longopts = (struct option){0};
	*s = '\0';
}

/* What one pass of getopt_long over a stretch of argv found besides the options. */
struct cli_scan {
	int next;	/* index of the first word that is not an option */
	bool dashdash;	/* a "--" ended the options */
	bool stop;	/* --help or --version: parse nothing more */
	bool arg_file;	/* -a was given (even as "-a -", which leaves cfg->arg_file NULL) */
	bool in_flight; /* --in-flight was given */
};

int cli_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		/* The words quoted may hold anything: keep the message one line, and the
		 * terminal's state ours, by showing control characters as '?'. */
		for (char *p = err; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	return -EINVAL;
}

static const struct cli_option *cli_option_find(int val)
{
	for (const struct cli_option *o = cli_options; o < CLI_OPTIONS_END; o++)
		if (o->name && o->val == val)
			return o;
	return NULL;
}

/* The option's name as the user wrote it: "-j" for -j4, "--jobs" for --jobs=4 or an accepted
 * abbreviation such as --jo. buf needs room for "--" and the longest name. */
static const char *cli_option_name(int val, bool as_long, char *buf, size_t len)
{
	const struct cli_option *o = cli_option_find(val);

	if (o && (as_long || val >= 256))
		snprintf(buf, len, "--%s", o->name);
	else
		snprintf(buf, len, "-%c", val);
	return buf;
}

/* A rejected long option: getopt_long leaves only the word, so look at it again to say
 * whether the name is unknown, ambiguous, or given an argument it does not take. */
static int cli_fail_long(const char *word, char *err, size_t errlen)
{
	const char *name = word + 2;
	size_t n = strcspn(name, "=");
	const struct cli_option *match = NULL;
	int matches = 0;

	for (const struct cli_option *o = cli_options; o < CLI_OPTIONS_END && n > 0; o++) {
		if (!o->name || strncmp(o->name, name, n) != 0)
			continue;
		matches++;
		if (!match || o->name[n] == '\0')
			match = o;
	}
	if (name[n] == '=' && match && (matches == 1 || match->name[n] == '\0'))
		return cli_fail(err, errlen, "--%s takes no argument", match->name);
	if (matches > 1)
		return cli_fail(err, errlen,
				"option '--%.*s' is ambiguous: write more of its name (pooltop "
				"--help lists the options)",
				(int)n, name);
	return cli_fail(err, errlen, "unknown option '--%.*s' (pooltop --help lists the options)",
			(int)n, name);
}

/* One option with its argument (NULL when it takes none) into *c. */
static int cli_option_apply(int val, const char *name, const char *arg, struct config *c,
			    struct cli_scan *s, char *err, size_t errlen)
{
	char why[256];
	struct job job;
	uint64_t v;
	int rc;

	switch (val) {
	case 'j':
		return cli_jobs(name, arg, &c->jobs, err, errlen);
	case OPT_BUILTIN:
		if (job_builtin_parse(arg, &job, why, sizeof(why)) < 0)
			return cli_fail(err, errlen, "%s: %s", name, why);
		c->builtin = arg;
		return 0;
	case OPT_PERSISTENT:
		c->persistent = true;
		return 0;
	case OPT_IN_FLIGHT:
		rc = cli_number(name, arg, 1, CLI_IN_FLIGHT_MAX, &v, err, errlen);
		if (rc < 0)
			return rc;
		c->in_flight = (unsigned)v;
		s->in_flight = true;
		return 0;
	case OPT_PLUGIN:
		if (*arg == '\0' || *arg == ':')
			return cli_fail(err, errlen, "%s: the file name is empty", name);
		c->plugin = arg;
		return 0;
	case OPT_TIMEOUT:
		return cli_timeout(name, arg, c, err, errlen);
	case OPT_TERM_SEQ: {
		struct termseq ts;
		if (termseq_parse(arg, &ts, why, sizeof(why)) < 0)
			return cli_fail(err, errlen, "%s: %s", name, why);
		c->term_seq = arg;
		return 0;
	}
	case 'a':
		/* GNU parallel makes each -a an input source: pooltop says so rather than keep
		 * the last. */
		if (s->arg_file)
			return cli_fail(
				err, errlen,
				"%s given twice: several input files are given as :::: FILE "
				"FILE...",
				name);
		s->arg_file = true;
		/* GNU parallel's convention: "-a -" is standard input. */
		if (strcmp(arg, "-") == 0) {
			c->arg_file = NULL;
			return 0;
		}
		return cli_file(name, arg, &c->arg_file, err, errlen);
	case '0':
		c->null_sep = true;
		return 0;
	case OPT_LINK:
		c->link = true;
		return 0;
	case OPT_COLSEP: {
		struct colsep *cs = colsep_new(arg, why, sizeof(why));
		if (!cs)
			return cli_fail(err, errlen, "%s: %s", name, why);
		colsep_free(cs);
		c->colsep = arg;
		return 0;
	}
	case 'k':
		c->keep_order = true;
		return 0;
	case OPT_TAG:
		c->tag = true;
		return 0;
	case OPT_DRY_RUN:
		c->dry_run = true;
		return 0;
	case OPT_HALT:
		c->halt_arg = arg;
		return cli_halt(name, arg, &c->halt, err, errlen);
	case OPT_RETRIES:
		rc = cli_number(name, arg, 0, CLI_RETRIES_MAX, &v, err, errlen);
		if (rc < 0)
			return rc;
		c->retries = (unsigned)v;
		return 0;
	case OPT_MAX_ITEMS:
		/* 0 is the unlimited default inside; on the command line it would read as
		 * "no items at all", so it is refused. */
		return cli_number(name, arg, 1, CLI_MAX_ITEMS_MAX, &c->max_items_per_worker, err,
				  errlen);
	case OPT_JOBLOG:
		return cli_file(name, arg, &c->joblog, err, errlen);
	case OPT_RESULTS:
		return cli_file(name, arg, &c->results, err, errlen);
	case OPT_RESUME:
		c->resume = true;
		return 0;
	case OPT_RESUME_FAILED:
		c->resume_failed = true;
		return 0;
	case OPT_JOIN_TIMEOUT:
		if (duration_parse(arg, &c->join_timeout_ns) < 0)
			return cli_fail(err, errlen,
					"%s: '%s' is not a duration (as 10, 1.5s, 200ms, 2m)", name,
					arg);
		return 0;
	case OPT_DELAY:
		if (duration_parse(arg, &c->delay_ns) < 0)
			return cli_fail(err, errlen,
					"%s: '%s' is not a duration (as 10, 1.5s, 200ms, 2m)", name,
					arg);
		return 0;
	case OPT_MEMFREE:
		if (size_parse(arg, &c->memfree_bytes) < 0 || c->memfree_bytes == 0)
			return cli_fail(err, errlen,
					"%s: '%s' is not a size above 0 (as 512M, 1G, 1.5g)", name,
					arg);
		return 0;
	case OPT_HEADLESS:
		c->frontend = CLI_FRONTEND_HEADLESS;
		return 0;
	case OPT_EXIT_WHEN_DONE:
		c->exit_when_done = true;
		return 0;
	case OPT_NAME:
		if (attach_name_check(arg, err, errlen) < 0)
			return -EINVAL;
		c->name = arg;
		return 0;
	case OPT_SOCKET:
		if (!*arg)
			return cli_fail(err, errlen, "%s: an empty path", name);
		c->socket = arg;
		return 0;
	case OPT_NO_DETACH:
		c->no_detach = true;
		return 0;
	case OPT_REDIS: {
		struct redis_url u;
		if (redis_url_parse(arg, getenv("REDISCLI_AUTH"), "--redis", &u, err, errlen) < 0)
			return -EINVAL;
		c->redis = arg;
		return 0;
	}
	case OPT_BATCH:
	case OPT_HOST:
		if (!cluster_name_ok(arg))
			return cli_fail(err, errlen,
					"%s: '%s' is not a name (letters, digits, . _ -; at most "
					"%d bytes)",
					name, arg, CLUSTER_NAME_MAX);
		*(val == OPT_BATCH ? &c->batch : &c->host) = arg;
		return 0;
	case OPT_LEASE:
		if (duration_parse(arg, &c->lease_ns) < 0 || c->lease_ns < 100 * NS_PER_MS)
			return cli_fail(err, errlen,
					"%s: '%s' is not a duration of 100ms or more (as 10, 1.5s, "
					"2m)",
					name, arg);
		return 0;
	case OPT_MORE:
		c->more = true;
		return 0;
	case OPT_EVENTS:
		return cli_file(name, arg, &c->events, err, errlen);
	case OPT_HANG_AFTER:
		if (duration_parse(arg, &c->hang_after_ns) < 0 || c->hang_after_ns == 0)
			return cli_fail(err, errlen,
					"%s: '%s' is not a duration (as 10, 1.5s, 200ms, 2m)", name,
					arg);
		return 0;
	case OPT_REFRESH: {
		uint64_t ms;
		if (parse_uint(arg, 10, 10000, &ms) < 0)
			return cli_fail(err, errlen, "%s: '%s' is not a number from 10 to 10000",
					name, arg);
		c->refresh_ms = (unsigned)ms;
		return 0;
	}
	case 'q':
		c->quiet = true;
		return 0;
	case 'h':
		c->mode = CLI_HELP;
		s->stop = true;
		return 0;
	case 'V':
		c->mode = CLI_VERSION;
		s->stop = true;
		return 0;
	}
	/* Only values from cli_options reach here. */
	return cli_fail(err, errlen, "%s: not handled", name);
}

/* Options from argv[1] on (argv[0] is skipped, as getopt does), up to the first word that is
 * not an option. Called once per stretch of options: before a subcommand and after it. */
static int cli_scan_options(int argc, char **argv, struct config *c, struct cli_scan *s, char *err,
			    size_t errlen)
{
	struct option longopts[CLI_LONGOPTS];
	char shortopts[CLI_SHORTOPTS];
	const char *last_arg = NULL;
	char name[40];
	int longindex, opt, rc;

	cli_getopt_tables(longopts, shortopts);
	/* optind = 0 makes glibc start over, so cli_parse can run many times in one process. */
	optind = 0;
	opterr = 0;
	for (;;) {
		longindex = -1;
		opt = getopt_long(argc, argv, shortopts, longopts, &longindex);
		if (opt == -1)
			break;
		if (opt == '?') {
			if (optopt == 0 || cli_option_find(optopt) != NULL)
				return cli_fail_long(argv[optind - 1], err, errlen);
			return cli_fail(err, errlen,
					"unknown option '-%c' (pooltop --help lists the options)",
					optopt);
		}
		if (opt == ':') {
			/* The option word was the last one consumed. */
			bool as_long = strncmp(argv[optind - 1], "--", 2) == 0;
			cli_option_name(optopt, as_long, name, sizeof(name));
			return cli_fail(err, errlen, "%s needs an argument", name);
		}
		cli_option_name(opt, longindex >= 0, name, sizeof(name));
		rc = cli_option_apply(opt, name, optarg, c, s, err, errlen);
		if (rc < 0)
			return rc;
		if (s->stop)
			return 0;
		last_arg = optarg;
	}
	s->next = optind;
	/* getopt_long swallows a "--" that ends the options; a "--" that was an option's
	 * argument (-a --) is not one. */
	s->dashdash =
		optind > 1 && strcmp(argv[optind - 1], "--") == 0 && argv[optind - 1] != last_arg;
	return 0;
}

/* argv[0] is "completion": the shell's name, and nothing else. */
static int cli_parse_completion(int argc, char **argv, struct config *c, char *err, size_t errlen)
{
	if (argc < 2)
		return cli_fail(err, errlen, "completion: which shell? (pooltop completion bash)");
	if (strcmp(argv[1], "bash") != 0 && strcmp(argv[1], "zsh") != 0)
		return cli_fail(err, errlen, "completion: '%s': bash or zsh", argv[1]);
	c->completion_zsh = argv[1][0] == 'z';
	if (argc > 2)
		return cli_fail(err, errlen, "completion: unexpected '%s' after the shell",
				argv[2]);
	c->mode = CLI_COMPLETION;
	return 0;
}

/* argv[0] is "demo"; an optional demo name, then options. */
static int cli_parse_demo(int argc, char **argv, struct config *c, struct cli_scan *s, char *err,
			  size_t errlen)
{
	int rc;

	c->mode = CLI_DEMO;
	/* ":::" is not a demo's name but items, refused below with the other arguments. */
	if (argc > 1 && argv[1][0] != '-' && strcmp(argv[1], ":::") != 0) {
		if (strcmp(argv[1], "exitcodes") != 0)
			return cli_fail(err, errlen,
					"demo: unknown demo '%s' (try: pooltop demo, pooltop demo "
					"exitcodes)",
					argv[1]);
		c->mode = CLI_DEMO_EXITCODES;
		argc--;
		argv++;
	}
	rc = cli_scan_options(argc, argv, c, s, err, errlen);
	if (rc < 0 || s->stop)
		return rc;
	if (s->dashdash)
		return cli_fail(err, errlen,
				"demo: unexpected argument '--' (the demo runs its own "
				"workers on its own items)");
	if (s->next < argc)
		return cli_fail(err, errlen,
				"demo: unexpected argument '%s' (the demo runs its own workers on "
				"its own items)",
				argv[s->next]);
	if (c->builtin || c->plugin || c->persistent)
		return cli_fail(err, errlen,
				"%s cannot be used with demo (the demo runs its own workers)",
				c->builtin  ? "--builtin"
				: c->plugin ? "--plugin"
					    : "--persistent");
	if (s->arg_file)
		return cli_fail(err, errlen,
				"-a cannot be used with demo (the demo makes its own items)");
	return 0;
}

/* Which input-source separator w is: 3 for ":::", 4 for "::::", -1 for the forms pooltop does
 * not take (":::+", "::::+"), 0 for none. */
static int cli_separator(const char *w)
{
	if (strcmp(w, ":::") == 0)
		return 3;
	if (strcmp(w, "::::") == 0)
		return 4;
	if (strcmp(w, ":::+") == 0 || strcmp(w, "::::+") == 0)
		return -1;
	return 0;
}

static void cli_source_add(struct config *c, const char *file, char **items, size_t nitems)
{
	c->sources = xrealloc(c->sources, (c->nsources + 1) * sizeof(*c->sources));
	c->sources[c->nsources++] = (struct cli_source){file, items, nitems};
}

/* The input sources: argv[0] is ":::" or "::::" (or a form refused). One ::: source is the
 * items, one :::: FILE is -a FILE; more are kept in c->sources. */
static int cli_items(int argc, char **argv, struct config *c, const struct cli_scan *s, char *err,
		     size_t errlen)
{
	for (int i = 0; i < argc;) {
		int sep = cli_separator(argv[i]);
		int j = i + 1;
		if (sep < 0)
			return cli_fail(err, errlen,
					"'%s' is not supported (to pair input sources use --link)",
					argv[i]);
		while (j < argc && cli_separator(argv[j]) == 0)
			j++;
		if (j == i + 1)
			return cli_fail(err, errlen, "'%s' needs at least one %s", argv[i],
					sep == 3 ? "item" : "file");
		if (sep == 3) {
			cli_source_add(c, NULL, argv + i + 1, (size_t)(j - i - 1));
		} else {
			for (int k = i + 1; k < j; k++) {
				if (argv[k][0] == '\0')
					return cli_fail(err, errlen,
							"'::::': the file name is empty");
				cli_source_add(c, argv[k], NULL, 0);
			}
		}
		i = j;
	}
	if (s->arg_file)
		return cli_fail(err, errlen, "-a and %s both give the items; use one",
				c->sources[0].file ? "::::" : ":::");
	if (c->nsources == 1) {
		struct cli_source one = c->sources[0];
		free(c->sources);
		c->sources = NULL;
		c->nsources = 0;
		if (one.file) {
			/* "-" is standard input, as -a -. */
			c->arg_file = strcmp(one.file, "-") == 0 ? NULL : one.file;
		} else {
			c->items = one.items;
			c->nitems = one.nitems;
		}
		return 0;
	}
	for (size_t k = 0, stdin_seen = 0; k < c->nsources; k++)
		if (c->sources[k].file && strcmp(c->sources[k].file, "-") == 0 && stdin_seen++)
			return cli_fail(err, errlen, "':::: -' can read standard input only once");
	return 0;
}

/* argv[0..argc) are the words after the options of a run: after "--", COMMAND [ARG...] and
 * perhaps ::: and items; else nothing, or ::: and items. */
static int cli_parse_run(int argc, char **argv, struct config *c, const struct cli_scan *s,
			 char *err, size_t errlen)
{
	int ncmd = 0;
	if (s->dashdash) {
		while (ncmd < argc && cli_separator(argv[ncmd]) == 0)
			ncmd++;
		if (ncmd == 0)
			return cli_fail(err, errlen, "'--' needs a COMMAND after it");
		if (argv[0][0] == '\0')
			return cli_fail(err, errlen, "the COMMAND after '--' is empty");
	} else if (argc > 0 && cli_separator(argv[0]) == 0) {
		return cli_fail(err, errlen,
				"unexpected argument '%s' (items go on stdin, in -a FILE, or after "
				"::: or ::::; a COMMAND goes after --)",
				argv[0]);
	}
	if (ncmd < argc) {
		int rc = cli_items(argc - ncmd, argv + ncmd, c, s, err, errlen);
		if (rc < 0)
			return rc;
	}
	int kinds = (c->builtin != NULL) + (c->plugin != NULL) + (ncmd > 0);
	if (kinds > 1)
		return cli_fail(err, errlen, "%s",
				c->builtin && c->plugin ? "--builtin and --plugin both say what to "
							  "run; use one"
				: c->builtin
					? "--builtin and a COMMAND both say what to run; use one"
					: "--plugin and a COMMAND both say what to run; use one");
	if (c->persistent && ncmd == 0)
		return cli_fail(err, errlen,
				"--persistent needs a COMMAND: pooltop --persistent "
				"-- COMMAND [ARG...]");
	if (s->in_flight && !c->persistent)
		return cli_fail(err, errlen, "--in-flight is for --persistent programs");
	if (kinds == 0)
		return cli_fail(
			err, errlen,
			"nothing to run: give -- COMMAND, --builtin NAME or --plugin FILE.so "
			"(pooltop --help)");
	if (ncmd > 0) {
		c->command = xcalloc((size_t)ncmd + 1, sizeof(*c->command));
		memcpy(c->command, argv, (size_t)ncmd * sizeof(*c->command));
		c->ncommand = (size_t)ncmd;
	}
	return 0;
}

static void cli_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = CLI_RUN;
	c->frontend = CLI_FRONTEND_AUTO;
	c->jobs = (unsigned)MIN(cli_ncpu(), POOLTOP_MAX_WORKERS);
	c->join_timeout_ns = CLI_JOIN_TIMEOUT_DEFAULT;
	c->in_flight = CLI_IN_FLIGHT_DEFAULT;
	c->lease_ns = CLI_LEASE_DEFAULT;
}

/* A host of a batch across machines: --redis with --batch, its record kept in Redis. */
static int cli_check_host(const struct config *c, char *err, size_t errlen)
{
	if (!c->redis) {
		const char *o = c->batch  ? "--batch"
				: c->host ? "--host"
				: c->more ? "--more"
					  : NULL;
		if (o)
			return cli_fail(err, errlen, "%s needs --redis URL", o);
		return 0;
	}
	if (!c->batch)
		return cli_fail(err, errlen, "--redis needs --batch NAME");
	if (c->joblog || c->results || c->resume || c->resume_failed)
		return cli_fail(err, errlen,
				"%s with --redis: the batch's record is in Redis (pooltop collect "
				"writes its joblog and results)",
				c->joblog    ? "--joblog"
				: c->results ? "--results"
					     : "--resume");
	if (c->nsources > 1)
		return cli_fail(err, errlen,
				"several input sources with --redis are not supported (pooltop "
				"submit takes one list of items)");
	if (c->dry_run || c->keep_order || c->halt.when != CLI_HALT_NEVER)
		return cli_fail(err, errlen, "%s with --redis is not supported",
				c->dry_run	? "--dry-run"
				: c->keep_order ? "-k"
						: "--halt");
	return 0;
}

/* Checks that need every option seen, whatever the mode. */
static int cli_check(const struct config *c, char *err, size_t errlen)
{
	if (c->resume && !c->joblog)
		return cli_fail(err, errlen, "--resume needs --joblog FILE");
	if (c->dry_run) {
		if (!c->command || c->persistent)
			return cli_fail(
				err, errlen,
				"--dry-run: only a command per item (-- COMMAND) has command "
				"lines to print");
		if (c->joblog || c->results || c->events)
			return cli_fail(err, errlen,
					"--dry-run with %s: it would record items that never ran",
					c->joblog    ? "--joblog"
					: c->results ? "--results"
						     : "--events");
	}
	if (c->resume_failed && !c->joblog)
		return cli_fail(err, errlen, "--resume-failed needs --joblog FILE");
	if (c->mode == CLI_RUN) {
		int r = cli_check_host(c, err, errlen);
		if (r < 0)
			return r;
	}
	if (c->colsep && c->nsources > 1)
		return cli_fail(err, errlen,
				"--colsep with several input sources is not supported (give one "
				"::: or :::: source)");
	return 0;
}

int cli_parse(int argc, char **argv, struct config *cfg, char *err, size_t errlen)
{
	struct cli_scan s = {0};
	struct config c;
	int rc;

	/* Parse into a copy: *cfg is written only on success. --help and --version end the
	 * parse where they stand, so whatever follows them is not checked. */
	cli_defaults(&c);
	rc = cli_scan_options(argc, argv, &c, &s, err, errlen);
	if (rc == 0 && !s.stop) {
		if (!s.dashdash && s.next < argc && strcmp(argv[s.next], "demo") == 0)
			rc = cli_parse_demo(argc - s.next, argv + s.next, &c, &s, err, errlen);
		else if (!s.dashdash && s.next < argc && cli_is_attach_command(argv[s.next]))
			/* pooltop --exit-when-done attach NAME: the options before it are
			 * taken, those of a run ignored. */
			rc = cli_parse_attach(argc - s.next, argv + s.next, &c, err, errlen);
		else if (!s.dashdash && s.next < argc && cli_is_cluster_command(argv[s.next]))
			rc = cli_parse_cluster(argc - s.next, argv + s.next, &c, err, errlen);
		else if (!s.dashdash && s.next < argc && strcmp(argv[s.next], "completion") == 0)
			rc = cli_parse_completion(argc - s.next, argv + s.next, &c, err, errlen);
		else
			rc = cli_parse_run(argc - s.next, argv + s.next, &c, &s, err, errlen);
	}
	if (rc == 0 && !s.stop && c.mode != CLI_LS && c.mode != CLI_ATTACH &&
	    c.mode != CLI_STATUS && c.mode != CLI_SUBMIT && c.mode != CLI_COLLECT)
		rc = cli_check(&c, err, errlen);
	if (rc == 0 && c.dry_run) {
		/* Only the command lines, on stdout. */
		c.frontend = CLI_FRONTEND_HEADLESS;
		c.quiet = true;
	}
	if (rc < 0) {
		cli_config_free(&c);
		return rc;
	}
	*cfg = c;
	return 0;
}

void cli_config_free(struct config *cfg)
{
	free(cfg->sources);
	cfg->sources = NULL;
	cfg->nsources = 0;
	free(cfg->command);
	cfg->command = NULL;
	cfg->ncommand = 0;
}
