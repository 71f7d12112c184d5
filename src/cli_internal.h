/* What the command line's files share (cli.c parses, cli_values.c checks values, cli_usage.c
 * writes --help): the option table and the error helper. Not for the rest of pooltop. */
#ifndef POOLTOP_CLI_INTERNAL_H
#define POOLTOP_CLI_INTERNAL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/* Options without a short form get values past any character. */
enum {
	OPT_BUILTIN = 256,
	OPT_RETRIES,
	OPT_MAX_ITEMS,
	OPT_JOBLOG,
	OPT_RESULTS,
	OPT_RESUME,
	OPT_RESUME_FAILED,
	OPT_JOIN_TIMEOUT,
	OPT_HEADLESS,
	OPT_HANG_AFTER,
	OPT_REFRESH,
	OPT_PERSISTENT,
	OPT_IN_FLIGHT,
	OPT_PLUGIN,
	OPT_TIMEOUT,
	OPT_TERM_SEQ,
	OPT_HALT,
	OPT_EXIT_WHEN_DONE,
	OPT_TAG,
	OPT_DRY_RUN,
	OPT_EVENTS,
	OPT_LINK,
	OPT_COLSEP,
	OPT_DELAY,
	OPT_MEMFREE,
	OPT_NAME,
	OPT_SOCKET,
	OPT_NO_DETACH,
	OPT_REDIS,
	OPT_BATCH,
	OPT_HOST,
	OPT_LEASE,
	OPT_MORE,
};

/* One row of the option table: an option with its help beside it (as git's parse-options), or,
 * without a name, a line of --help alone: a heading, or a form that is no option ("--
 * COMMAND"). getopt_long's tables and --help's lists of options are both made from it, and
 * error messages take the options' names from it. */
struct cli_option {
	const char *name; /* the long name, without "--"; NULL for a line of help alone */
	int has_arg;	  /* getopt_long's: no_argument or required_argument */
	int val;	  /* the short name (a character), or an OPT_ value past any */
	/* What --help shows after the name: the argument ("N"), or for --persistent the
	 * COMMAND that follows "--"; NULL for nothing. Without a name: the form shown. */
	const char *argh;
	/* The second column of --help, its lines separated by '\n' (wrapped by hand, as the
	 * author reads them); for a heading, the heading. */
	const char *help;
};

/* The one table of options, in --help's order (cli.c). */
extern const struct cli_option cli_options[];
extern const size_t cli_noptions;

/* err gets the message (control characters shown as '?'); returns -EINVAL. */
int cli_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* cli_values.c: each parses arg for the option name (as the user wrote it) or fails with a
 * one-line message in err. */
int cli_number(const char *name, const char *arg, uint64_t min, uint64_t max, uint64_t *out,
	       char *err, size_t errlen);
int cli_file(const char *name, const char *arg, const char **out, char *err, size_t errlen);
/* The CPUs -j counts from. */
long cli_ncpu(void);
int cli_jobs(const char *name, const char *arg, unsigned *jobs, char *err, size_t errlen);
int cli_halt(const char *name, const char *arg, struct cli_halt *h, char *err, size_t errlen);
int cli_timeout(const char *name, const char *arg, struct config *c, char *err, size_t errlen);

/* cli_attach.c: argv[0] is ls, attach or status; its options and its one argument. */
int cli_parse_attach(int argc, char **argv, struct config *c, char *err, size_t errlen);
/* cli_cluster.c: argv[0] is submit or collect; its options, and submit's ::: ITEM... */
int cli_parse_cluster(int argc, char **argv, struct config *c, char *err, size_t errlen);

#endif
