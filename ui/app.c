/* The program: the command line, the subcommands, and the choice of front end. */
#include "app.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "dashboard.h"
#include "demo.h"
#include "headless.h"
#include "job.h"
#include "util.h"

/* The dashboard when a terminal is available (also when the items come on stdin: it reads
 * the keys from /dev/tty); otherwise headless, saying so when a terminal was expected. */
static int app_run(struct config *cfg, const char *what, bool demo)
{
	struct job job;
	char err[512];
	int r = job_from_config(cfg, &job, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "pooltop: %s\n", err);
		return 255;
	}
	int status;
	if (cfg->frontend == CLI_FRONTEND_AUTO) {
		char why[256];
		r = dashboard_available(why, sizeof(why));
		if (r == 0) {
			if (demo)
				cfg->items = demo_items(true, &cfg->nitems);
			cfg->capture_stderr = true;
			status = dashboard_run(cfg, &job, what, demo);
			job_release(&job);
			return status;
		}
		/* No terminal at all is the ordinary headless case; a terminal that cannot
		 * be used deserves a word. */
		if (isatty(2) || r != -ENXIO)
			fprintf(stderr, "pooltop: %s: running headless\n", why);
	}
	if (demo)
		cfg->items = demo_items(false, &cfg->nitems);
	status = headless_run(cfg, &job);
	job_release(&job);
	return status;
}

/* A standard descriptor closed by the caller (pooltop <&-, >&-) would be the next one opened:
 * results written into the joblog, libuv's own descriptors on 0-2 (which it refuses, aborting).
 * Each closed one is held by /dev/null opened the other way round, so that it stays as unusable
 * as it was: reading a closed stdin, or writing a closed stdout, fails with EBADF. */
static void hold_closed_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int n = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
		if (n >= 0 && n != fd) {
			dup2(n, fd);
			close(n);
		}
	}
}

int app_main(int argc, char **argv)
{
	hold_closed_std_fds();
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
		/* Enough workers to see several states at once. */
		if (cfg.jobs < 4)
			cfg.jobs = 4;
		cfg.builtin = "demo";
		return app_run(&cfg, "demo: --builtin demo", true);
	case CLI_DEMO_EXITCODES:
		return demo_exitcodes(cfg.jobs);
	case CLI_RUN: {
		struct buf what = {0};
		struct job none = {0};
		job_describe(&none, &cfg, &what);
		buf_printf(&what, " -j %u", cfg.jobs);
		int status = app_run(&cfg, what.data, false);
		buf_free(&what);
		cli_config_free(&cfg);
		return status;
	}
	}
	return 255;
}
