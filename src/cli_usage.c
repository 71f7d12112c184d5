/* --help, made from the option table, and the table's options for the completion scripts. */
#include <stdio.h>
#include <string.h>

#include "cli_internal.h"
#include "job.h"
#include "util.h"

void cli_each_option(void (*fn)(void *data, const char *name, int short_name, const char *argh),
		     void *data)
{
	for (const struct cli_option *o = cli_options; o < (cli_options + cli_noptions); o++)
		if (o->name)
			fn(data, o->name, o->val < 256 ? o->val : 0,
			   o->has_arg == required_argument ? o->argh : NULL);
}

#define CLI_USAGE_WIDTH 79
#define CLI_USAGE_NAME	12
/* The column where an option's help starts: after "  ", the form, and two spaces at least. */
#define CLI_USAGE_HELP 26

/* One builtin: its name, then its summary wrapped to the width of the help text. */
static void cli_usage_builtin(FILE *f, const struct job_kind *k)
{
	const char *p = k->summary ? k->summary : "";
	int indent = 2 + CLI_USAGE_NAME + 2;
	int col = fprintf(f, "  %-*s  ", CLI_USAGE_NAME, k->name);

	while (*p) {
		size_t n = strcspn(p, " ");

		if (col > indent && col + 1 + (int)n > CLI_USAGE_WIDTH) {
			col = fprintf(f, "\n%*s", indent, "") - 1;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		col += fprintf(f, "%.*s", (int)n, p);
		p += n;
		p += strspn(p, " ");
	}
	fputc('\n', f);
}

/* A heading's options have a column for the short names when one of them has a short name. */
static bool cli_usage_shorts(const struct cli_option *heading)
{
	for (const struct cli_option *o = heading + 1;
	     o < (cli_options + cli_noptions) && (o->name || o->argh); o++)
		if (o->name && o->val < 256)
			return true;
	return false;
}

/* One row of the table: its form ("-j, --jobs N"), then its help, beside the form when the
 * form leaves room, else on the next line; the help's further lines under its first. */
static void cli_usage_option(FILE *f, const struct cli_option *o, bool shorts)
{
	int col;

	if (!o->name)
		col = fprintf(f, "  %s", o->argh);
	else if (o->val < 256)
		col = fprintf(f, "  -%c, --%s", o->val, o->name);
	else
		col = fprintf(f, "  %s--%s", shorts ? "    " : "", o->name);
	if (o->name && o->argh)
		col += fprintf(f, " %s", o->argh);
	if (col + 2 > CLI_USAGE_HELP) {
		fputc('\n', f);
		col = 0;
	}
	for (const char *line = o->help;;) {
		size_t n = strcspn(line, "\n");

		fprintf(f, "%*s%.*s\n", CLI_USAGE_HELP - col, "", (int)n, line);
		col = 0;
		if (line[n] == '\0')
			break;
		line += n + 1;
	}
}

void cli_usage(FILE *f)
{
	bool shorts = false;

	fputs("Usage: pooltop [OPTIONS] -- COMMAND [ARG...] [::: ITEM...]\n"
	      "       pooltop [OPTIONS] --persistent -- COMMAND [ARG...] [::: ITEM...]\n"
	      "       pooltop [OPTIONS] --plugin FILE.so[:ARG] [::: ITEM...]\n"
	      "       pooltop [OPTIONS] --builtin NAME[:ARG] [::: ITEM...]\n"
	      "       pooltop demo\n"
	      "       pooltop demo exitcodes\n"
	      "       pooltop completion bash|zsh\n"
	      "       pooltop ls [--json] [--wipe | --redis URL]\n"
	      "       pooltop attach [--read-only] [NAME|PID | --redis URL --batch NAME]\n"
	      "       pooltop status [--json] [NAME|PID]\n"
	      "       pooltop submit --redis URL --batch NAME [-a FILE | ::: ITEM...] [-0] "
	      "[--more]\n"
	      "       pooltop collect --redis URL --batch NAME [--joblog FILE] [--results FILE]\n"
	      "               [--wait]\n"
	      "       pooltop --redis URL --batch NAME [OPTIONS] KIND... (this machine a host)\n"
	      "\n"
	      "Runs every item through a pool of worker processes, which take items from a\n"
	      "shared-memory INPUT queue and put their results and counters on RESULT and STATS\n"
	      "queues, and shows the workers live: state, exit code, rate, CPU, current item.\n"
	      "Items come from standard input, one per line, from -a FILE, or after :::.\n"
	      "When there is no terminal (or with --headless) it runs headless: results on\n"
	      "standard output, progress and events on standard error.\n"
	      "'pooltop demo' shows the dashboard on a built-in batch; 'pooltop demo exitcodes'\n"
	      "on workers that end in every kind of exit code.\n"
	      "Every run serves its batch on ${POOLTOP_TMPDIR:-/tmp}/pooltop-UID/NAME.sock for\n"
	      "this user: 'pooltop ls' lists the batches (--wipe removes the dead ones),\n"
	      "'pooltop attach NAME' shows one on this terminal (d or q detaches; --read-only\n"
	      "acts on nothing), 'pooltop status NAME' prints its status (--json for scripts).\n"
	      "A dashboard run's batch runs in a process of its own: d detaches from it, and\n"
	      "so does a hang-up of the terminal (--no-detach: one process).\n"
	      "'pooltop submit' adds items to a batch in Redis (redis://HOST[:PORT][/DB] or\n"
	      "unix:///PATH; REDISCLI_AUTH: the password), once however often it runs;\n"
	      "'pooltop collect' writes its results and exits with its status;\n"
	      "'pooltop attach --redis URL --batch NAME' shows every host's workers, and\n"
	      "'pooltop ls --redis URL' lists the batches there.\n",
	      f);
	for (const struct cli_option *o = cli_options; o < (cli_options + cli_noptions); o++) {
		if (o->name || o->argh) {
			cli_usage_option(f, o, shorts);
			continue;
		}
		fprintf(f, "\n%s\n", o->help);
		shorts = cli_usage_shorts(o);
	}
	fputs("\n"
	      "Built-in workers (--builtin NAME[:ARG]; ARG is a non-negative integer):\n",
	      f);
	for (const struct job_kind *k = job_builtin_kinds; k->name; k++)
		cli_usage_builtin(f, k);
	fputs("\n"
	      "Exit codes of workers (as Python's Process.exitcode):\n"
	      "  0     success\n"
	      "  N>0   the worker exited with status N\n"
	      "  -N    the worker was killed by signal N (a shell shows 128+N)\n"
	      "\n"
	      "Exit status:\n"
	      "  0       all items succeeded\n"
	      "  1-100   the number of items that failed\n"
	      "  101     more than 100 items failed\n"
	      "  255     a usage error, or pooltop could not start\n"
	      "\n"
	      "See pooltop(1) for the files --joblog and --results write.\n",
	      f);
}
