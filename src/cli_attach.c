/* The command line of pooltop ls, attach and status: the batches this user runs, one of them
 * by name, prefix or pid. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_internal.h"
#include "cluster_lua.h"
#include "redis_url.h"

bool cli_is_attach_command(const char *word)
{
	return !strcmp(word, "ls") || !strcmp(word, "attach") || !strcmp(word, "status");
}

enum { A_JSON = 1, A_WIPE, A_READ_ONLY, A_SOCKET, A_EXIT_WHEN_DONE, A_REDIS, A_BATCH, A_HELP };

int cli_parse_attach(int argc, char **argv, struct config *c, char *err, size_t errlen)
{
	const char *cmd = argv[0];
	bool ls = !strcmp(cmd, "ls"), attach = !strcmp(cmd, "attach");
	c->mode = ls ? CLI_LS : attach ? CLI_ATTACH : CLI_STATUS;
	static const struct option opts[] = {
		{"json", no_argument, NULL, A_JSON},
		{"wipe", no_argument, NULL, A_WIPE},
		{"read-only", no_argument, NULL, A_READ_ONLY},
		{"socket", required_argument, NULL, A_SOCKET},
		{"exit-when-done", no_argument, NULL, A_EXIT_WHEN_DONE},
		{"redis", required_argument, NULL, A_REDIS},
		{"batch", required_argument, NULL, A_BATCH},
		{"help", no_argument, NULL, A_HELP},
		{NULL, 0, NULL, 0},
	};
	optind = 0; /* glibc starts over (cli_parse ran getopt already) */
	opterr = 0;
	int o;
	int at = 1; /* the word of the option getopt_long takes next (not its argument) */
	while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		bool ok = true;
		const char *word = argv[at];
		at = optind;
		switch (o) {
		case A_JSON:
			ok = !attach;
			c->json = true;
			break;
		case A_WIPE:
			ok = ls;
			c->wipe = true;
			break;
		case A_READ_ONLY:
			ok = attach;
			c->read_only = true;
			break;
		case A_EXIT_WHEN_DONE:
			ok = attach;
			c->exit_when_done = true;
			break;
		case A_REDIS: {
			struct redis_url u;
			ok = ls || attach;
			if (ok && redis_url_parse(optarg, getenv("REDISCLI_AUTH"), "--redis", &u,
						  err, errlen) < 0)
				return -EINVAL;
			c->redis = optarg;
			break;
		}
		case A_BATCH:
			ok = attach;
			if (ok && !cluster_name_ok(optarg))
				return cli_fail(err, errlen,
						"--batch: '%s' is not a batch name (letters, "
						"digits, '.', '_' and '-'; 1 to %d bytes)",
						optarg, CLUSTER_NAME_MAX);
			c->batch = optarg;
			break;
		case A_SOCKET:
			ok = !ls && optarg && *optarg;
			c->socket = optarg;
			break;
		case 'h':
		case A_HELP:
			c->mode = CLI_HELP;
			return 0;
		default:
			return cli_fail(
				err, errlen,
				"%s: unknown option '%s' (ls [--json] [--wipe] [--redis URL], "
				"attach [--read-only] [NAME|PID | --redis URL --batch NAME], "
				"status [--json] [NAME|PID])",
				cmd, argv[optind - 1]);
		}
		if (!ok)
			return cli_fail(err, errlen, "%s: %.*s is not one of its options", cmd,
					(int)strcspn(word, "="), word);
	}
	if (optind < argc) {
		if (ls)
			return cli_fail(err, errlen, "ls: unexpected '%s' (it lists every batch)",
					argv[optind]);
		if (c->socket)
			return cli_fail(err, errlen, "%s: give a NAME or --socket PATH, not both",
					cmd);
		c->target = argv[optind++];
	}
	if (optind < argc)
		return cli_fail(err, errlen, "%s: unexpected '%s' after '%s'", cmd, argv[optind],
				argv[optind - 1]);
	/* A batch across machines is named by its Redis and its name, not by a socket. */
	if (attach && (c->redis || c->batch)) {
		if (!c->redis || !c->batch)
			return cli_fail(err, errlen,
					"attach: --redis URL and --batch NAME go together");
		if (c->target || c->socket || c->exit_when_done)
			return cli_fail(err, errlen,
					"attach: --redis --batch names the batch: no NAME, "
					"--socket or --exit-when-done with them");
	}
	if (ls && c->redis && c->wipe)
		return cli_fail(err, errlen,
				"ls: --wipe is for the batches of this machine, "
				"not --redis");
	return 0;
}
