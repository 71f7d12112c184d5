/* Fuzzing the option parser: any command line either parses into a configuration whose fields
 * are within their documented ranges, or fails with -EINVAL and one line of error, leaving the
 * configuration untouched. Parsing it again gives the same answer (getopt's state is reset).
 *
 * The input: the words after "pooltop", separated by NUL bytes (at most FUZZ_CLI_WORDS). */
#include "cli.h"

#include <errno.h>

#include "fuzz.h"
#include "job.h"
#include "termseq.h"
#include "util.h"

#define FUZZ_CLI_WORDS 64

/* The string option s: NULL, or non-empty. */
static bool cli_file_ok(const char *s)
{
	return !s || *s;
}

/* True when p is one of the words of argv (command words and items are argv's, not copies). */
static bool in_argv(char *const *argv, int argc, const char *p)
{
	for (int i = 0; i < argc; i++)
		if (argv[i] == p)
			return true;
	return false;
}

/* True when p is NULL or points into one of the words of argv (an option's argument: a word,
 * or the rest of one as in -aFILE or --joblog=FILE). */
static bool in_words(char *const *argv, int argc, const char *p)
{
	if (!p)
		return true;
	for (int i = 0; i < argc; i++)
		if (p >= argv[i] && p <= argv[i] + strlen(argv[i]))
			return true;
	return false;
}

static void check_config(const struct config *c, char **argv, int argc)
{
	char why[256];

	FUZZ_CHECK(c->mode >= CLI_RUN && c->mode <= CLI_DEMO_EXITCODES, "mode %d", (int)c->mode);
	FUZZ_CHECK(c->frontend == CLI_FRONTEND_AUTO || c->frontend == CLI_FRONTEND_HEADLESS,
		   "frontend %d", (int)c->frontend);
	FUZZ_CHECK(c->jobs >= 1 && c->jobs <= POOLTOP_MAX_WORKERS, "jobs %u", c->jobs);
	FUZZ_CHECK(c->in_flight >= 1 && c->in_flight <= CLI_IN_FLIGHT_MAX, "in_flight %u",
		   c->in_flight);
	FUZZ_CHECK(c->retries <= 1000000, "retries %u", c->retries);
	FUZZ_CHECK(c->max_items_per_worker <= 1000000000000ULL, "max_items_per_worker %llu",
		   (unsigned long long)c->max_items_per_worker);
	FUZZ_CHECK(c->refresh_ms == 0 || (c->refresh_ms >= 10 && c->refresh_ms <= 10000),
		   "refresh_ms %u", c->refresh_ms);
	FUZZ_CHECK(!(c->timeout_ns && c->timeout_pct), "both a timeout and a percentage");
	FUZZ_CHECK(c->timeout_pct <= 1000000, "timeout_pct %u", c->timeout_pct);
	FUZZ_CHECK(cli_file_ok(c->arg_file) && cli_file_ok(c->joblog) && cli_file_ok(c->results),
		   "an empty file name");
	FUZZ_CHECK(!c->plugin || (c->plugin[0] && c->plugin[0] != ':'), "plugin '%s'", c->plugin);
	FUZZ_CHECK(in_words(argv, argc, c->builtin) && in_words(argv, argc, c->plugin) &&
			   in_words(argv, argc, c->term_seq) && in_words(argv, argc, c->arg_file) &&
			   in_words(argv, argc, c->joblog) && in_words(argv, argc, c->results),
		   "an option's argument that is not in argv");
	if (c->term_seq) {
		struct termseq ts;
		FUZZ_CHECK(termseq_parse(c->term_seq, &ts, why, sizeof(why)) == 0,
			   "term_seq '%s' accepted, then refused: %s", c->term_seq, why);
	}
	if (c->builtin) {
		struct job job;
		FUZZ_CHECK(job_builtin_parse(c->builtin, &job, why, sizeof(why)) == 0,
			   "builtin '%s' accepted, then refused: %s", c->builtin, why);
	}
	/* --help and --version stop where they stand: what came before them is checked, what
	 * follows is not, and nothing is required. */
	if (c->mode == CLI_HELP || c->mode == CLI_VERSION) {
		FUZZ_CHECK(!c->command && !c->items, "a command or items with --help or --version");
		return;
	}
	FUZZ_CHECK(!c->resume || c->joblog, "--resume without --joblog");
	FUZZ_CHECK(!c->resume_failed || c->joblog, "--resume-failed without --joblog");

	if (c->mode == CLI_DEMO || c->mode == CLI_DEMO_EXITCODES) {
		FUZZ_CHECK(!c->builtin && !c->plugin && !c->persistent && !c->command &&
				   !c->items && !c->arg_file,
			   "demo with something to run or items");
		return;
	}
	int kinds = (c->builtin != NULL) + (c->plugin != NULL) + (c->command != NULL);
	FUZZ_CHECK(kinds == 1, "%d kinds of worker", kinds);
	FUZZ_CHECK(!c->persistent || c->command, "--persistent without a command");
	FUZZ_CHECK(c->persistent || c->in_flight == CLI_IN_FLIGHT_DEFAULT,
		   "--in-flight without --persistent");
	if (c->command) {
		FUZZ_CHECK(c->ncommand >= 1 && c->command[c->ncommand] == NULL,
			   "command of %zu words not NULL-terminated", c->ncommand);
		FUZZ_CHECK(c->command[0][0] != '\0', "an empty command word");
		for (size_t i = 0; i < c->ncommand; i++)
			FUZZ_CHECK(in_argv(argv, argc, c->command[i]) &&
					   strcmp(c->command[i], ":::") != 0,
				   "command word %zu '%s'", i, c->command[i]);
	} else {
		FUZZ_CHECK(c->ncommand == 0, "ncommand %zu without a command", c->ncommand);
	}
	if (c->items) {
		FUZZ_CHECK(c->nitems >= 1 && c->items + c->nitems == argv + argc &&
				   strcmp(c->items[-1], ":::") == 0,
			   "%zu items that are not the words after the last :::", c->nitems);
		FUZZ_CHECK(!c->arg_file, "both -a and :::");
	} else {
		FUZZ_CHECK(c->nitems == 0, "nitems %zu without items", c->nitems);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[FUZZ_CLI_WORDS + 2];
	char *copy = xmalloc(size + 1);
	int argc = 0;

	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[argc++] = "pooltop";
	for (char *p = copy; size > 0 && argc <= FUZZ_CLI_WORDS; p += strlen(p) + 1) {
		argv[argc++] = p;
		if (p + strlen(p) == copy + size)
			break; /* the last word: its NUL is the one added to the copy */
	}
	argv[argc] = NULL;

	/* A configuration of 0xa5 bytes must come back as it went in when the parse fails. */
	struct config cfg, untouched;
	char err[256], err2[256];
	memset(&cfg, 0xa5, sizeof(cfg));
	memcpy(&untouched, &cfg, sizeof(cfg));
	memset(err, 0, sizeof(err));

	int rc = cli_parse(argc, argv, &cfg, err, sizeof(err));
	if (rc == 0) {
		check_config(&cfg, argv, argc);
		cli_config_free(&cfg);
	} else {
		FUZZ_CHECK(rc == -EINVAL, "cli_parse returned %d", rc);
		FUZZ_CHECK(fuzz_message_ok(err, sizeof(err)), "error message '%s'", err);
		FUZZ_CHECK(memcmp(&cfg, &untouched, sizeof(cfg)) == 0,
			   "the configuration written by a failed parse");
	}

	struct config again;
	memset(err2, 0, sizeof(err2));
	int rc2 = cli_parse(argc, argv, &again, err2, sizeof(err2));
	FUZZ_CHECK(rc2 == rc, "a second parse returned %d, the first %d", rc2, rc);
	if (rc2 == 0)
		cli_config_free(&again);
	else
		FUZZ_CHECK(strcmp(err, err2) == 0, "a second parse said '%s', the first '%s'", err2,
			   err);
	free(copy);
	return 0;
}
