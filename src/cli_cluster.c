/* The command line of pooltop submit and pooltop collect: a batch across machines, named by
 * --redis URL and --batch NAME. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_internal.h"
#include "cluster_lua.h"
#include "redis_url.h"

bool cli_is_cluster_command(const char *word)
{
	return !strcmp(word, "submit") || !strcmp(word, "collect");
}

enum { C_REDIS = 1, C_BATCH, C_MORE, C_WAIT, C_JOBLOG, C_RESULTS, C_HELP };

static int cli_cluster_usage_fail(const char *cmd, const char *word, char *err, size_t errlen)
{
	return cli_fail(err, errlen,
			"%s: unknown option '%s' (submit --redis URL --batch NAME [-a FILE | ::: "
			"ITEM...] [-0] [--more], collect --redis URL --batch NAME [--joblog FILE] "
			"[--results FILE] [--wait])",
			cmd, word);
}

/* What follows submit's options: nothing (items on stdin or in -a FILE) or ::: ITEM... */
static int cli_cluster_items(int argc, char **argv, int next, struct config *c, char *err,
			     size_t errlen)
{
	const char *cmd = argv[0];
	if (next >= argc)
		return 0;
	if (c->mode == CLI_SUBMIT && strcmp(argv[next], ":::") == 0) {
		if (c->arg_file)
			return cli_fail(err, errlen,
					"submit: -a FILE and ::: both give the items; "
					"use one");
		c->items = argv + next + 1;
		c->nitems = (size_t)(argc - next - 1);
		return 0;
	}
	if (c->mode == CLI_SUBMIT)
		return cli_fail(err, errlen,
				"submit: unexpected '%s' (items go after :::, in -a FILE or on "
				"stdin)",
				argv[next]);
	return cli_fail(err, errlen, "%s: unexpected '%s'", cmd, argv[next]);
}

static const char *cli_cluster_name(const struct option *opts, int val)
{
	if (val == 'a')
		return "a";
	if (val == '0')
		return "0";
	while (opts->name && opts->val != val)
		opts++;
	return opts->name ? opts->name : "?";
}

int cli_parse_cluster(int argc, char **argv, struct config *c, char *err, size_t errlen)
{
	const char *cmd = argv[0];
	bool submit = !strcmp(cmd, "submit");
	c->mode = submit ? CLI_SUBMIT : CLI_COLLECT;
	static const struct option opts[] = {
		{"redis", required_argument, NULL, C_REDIS},
		{"batch", required_argument, NULL, C_BATCH},
		{"more", no_argument, NULL, C_MORE},
		{"wait", no_argument, NULL, C_WAIT},
		{"joblog", required_argument, NULL, C_JOBLOG},
		{"results", required_argument, NULL, C_RESULTS},
		{"arg-file", required_argument, NULL, 'a'},
		{"null", no_argument, NULL, '0'},
		{"help", no_argument, NULL, C_HELP},
		{NULL, 0, NULL, 0},
	};
	optind = 0; /* glibc starts over (cli_parse ran getopt already) */
	opterr = 0;
	int o;
	while ((o = getopt_long(argc, argv, "+:a:0h", opts, NULL)) != -1) {
		bool ok = true;
		const char *word = argv[optind - 1];
		switch (o) {
		case C_REDIS: {
			struct redis_url u;
			int rc = redis_url_parse(optarg, getenv("REDISCLI_AUTH"), "--redis", &u,
						 err, errlen);
			if (rc < 0)
				return rc;
			c->redis = optarg;
			break;
		}
		case C_BATCH:
			if (!*optarg)
				return cli_fail(err, errlen, "--batch: the name is empty");
			if (!cluster_name_ok(optarg))
				return cli_fail(
					err, errlen,
					"--batch: '%s' is not a batch name (letters, digits, "
					"'.', '_' and '-'; 1 to %d bytes)",
					optarg, CLUSTER_NAME_MAX);
			c->batch = optarg;
			break;
		case C_MORE:
			ok = submit;
			c->more = true;
			break;
		case C_WAIT:
			ok = !submit;
			c->wait = true;
			break;
		case C_JOBLOG:
			ok = !submit;
			c->joblog = optarg;
			break;
		case C_RESULTS:
			ok = !submit;
			c->results = optarg;
			break;
		case 'a':
			ok = submit;
			c->arg_file = optarg;
			break;
		case '0':
			ok = submit;
			c->null_sep = true;
			break;
		case 'h':
		case C_HELP:
			c->mode = CLI_HELP;
			return 0;
		case ':':
			return cli_fail(err, errlen, "%s: %s needs an argument", cmd, word);
		default:
			return cli_cluster_usage_fail(cmd, word, err, errlen);
		}
		if (!ok)
			return cli_fail(err, errlen, "%s: %s%s is not one of its options", cmd,
					o == 'a' || o == '0' ? "-" : "--",
					cli_cluster_name(opts, o));
	}
	int rc = cli_cluster_items(argc, argv, optind, c, err, errlen);
	if (rc < 0)
		return rc;
	if (!c->redis)
		return cli_fail(err, errlen,
				"%s needs --redis URL (redis://HOST[:PORT][/DB] or "
				"unix:///PATH)",
				cmd);
	if (!c->batch)
		return cli_fail(err, errlen, "%s needs --batch NAME", cmd);
	return 0;
}
