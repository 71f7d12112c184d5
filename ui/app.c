/* The program: the command line, the subcommands, and the choice of front end. */
#include "app.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "headless.h"
#include "job.h"
#include "util.h"

/* The built-in demo batch: sha512 work mixed with items that exit with a code, raise, abort,
 * segfault and fail, so that every kind of ending shows up in a few seconds. */
static char *demo_items[] = {
	"sha512:20000", "7",	     "sha512:20000", "exit:3",	     "sleep:300",
	"sha512:20000", "raises",    "12",	     "abort",	     "sha512:20000",
	"fail",		"sleep:500", "segv",	     "sha512:20000", "exit:300",
	"echo",		"sleep:200", "sha512:20000", "exit_ok",	     "return_value",
	"sha512:40000", "fail",	     "42",	     "sleep:400",
};

static int app_run(const struct config *cfg, const char *spec)
{
	struct job job;
	char err[256];
	if (job_builtin_parse(spec, &job, err, sizeof(err)) < 0) {
		fprintf(stderr, "pooltop: --builtin: %s\n", err);
		return 255;
	}
	/* The dashboard comes with its own issue; until then every run is headless. */
	return headless_run(cfg, &job);
}

int app_main(int argc, char **argv)
{
	/* A closed stdout is an EPIPE to handle, not a signal to die of. */
	signal(SIGPIPE, SIG_IGN);

	struct config cfg;
	char err[512];
	if (cli_parse(argc, argv, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "pooltop: %s\n", err);
		return 255;
	}
	switch (cfg.mode) {
	case CLI_HELP:
		cli_usage(stdout);
		return 0;
	case CLI_VERSION:
		printf("pooltop %s\n", PACKAGE_VERSION);
		return 0;
	case CLI_DEMO:
		cfg.items = demo_items;
		cfg.nitems = ARRAY_SIZE(demo_items);
		return app_run(&cfg, "demo");
	case CLI_DEMO_EXITCODES:
		fprintf(stderr, "pooltop: demo exitcodes: not available in this version\n");
		return 255;
	case CLI_RUN:
		return app_run(&cfg, cfg.builtin);
	}
	return 255;
}
