/* The program: the command line, the subcommands, and the choice of front end. */
#include "app.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include "attach_cmd.h"
#include "cli.h"
#include "cluster_cmd.h"
#include "config.h"
#include "dashboard.h"
#include "demo.h"
#include "engine.h"
#include "headless.h"
#include "job.h"
#include "run.h"
#include "util.h"

/* A standard stream the caller closed (pooltop ... >&-) would be the number of the next file
 * opened, as the event loop's own, which libuv then refuses to close (an assertion). /dev/null
 * holds each closed one; returns a bit (1 << fd) per stream that was closed. */
static unsigned app_hold_std_fds(void)
{
	unsigned closed = 0;
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		closed |= 1u << fd;
		/* The lowest free number: fd, as the ones below it are open by now. */
		int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (n >= 0 && n != fd) {
			dup2(n, fd);
			close(n);
		}
	}
	return closed;
}

static bool app_items_on_stdin(const struct config *cfg)
{
	/* A host of a batch in Redis takes its items there (what it is given is submitted). */
	if (cfg->redis)
		return false;
	/* Several sources: only a ":::: -" reads it. */
	for (size_t k = 0; k < cfg->nsources; k++)
		if (cfg->sources[k].file && strcmp(cfg->sources[k].file, "-") == 0)
			return true;
	return !cfg->nsources && !cfg->items && !cfg->arg_file;
}

/* A run needs its standard output, and its standard input when the items come there. */
static int app_check_std_fds(const struct config *cfg, unsigned closed)
{
	if (closed & 1u << 1) {
		fputs("pooltop: standard output is closed: the items' outputs go there (give "
		      ">/dev/null to drop them)\n",
		      stderr);
		return -EBADF;
	}
	if (closed & 1u << 0 && app_items_on_stdin(cfg)) {
		fputs("pooltop: standard input is closed: give the items there, in -a FILE or "
		      "after :::\n",
		      stderr);
		return -EBADF;
	}
	return 0;
}

/* The dashboard when a terminal is available (also when the items come on stdin: it reads
 * the keys from /dev/tty); otherwise headless, saying so when a terminal was expected. */
static int app_run(const struct config *cfg, const char *what, bool demo)
{
	struct run_settings run;
	struct job job;
	char err[512];

	run_settings_init(&run, cfg);
	/* Enough workers to see several states at once. */
	if (demo && run.jobs < 4)
		run.jobs = 4;
	int r = run_job_from_config(cfg, &job, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "pooltop: %s\n", err);
		return 255;
	}
	int status;
	if (cfg->frontend == CLI_FRONTEND_AUTO && !demo && app_items_on_stdin(cfg) && isatty(0)) {
		/* The dashboard reads its keys there: it and the items would take each other's
		 * bytes. */
		fputs("pooltop: standard input is the terminal the dashboard uses: give the items "
		      "on a pipe, in -a FILE or after ::: (or type them with --headless)\n",
		      stderr);
		job_release(&job);
		return 255;
	}
	if (cfg->frontend == CLI_FRONTEND_AUTO) {
		char why[256];
		r = dashboard_available(why, sizeof(why));
		if (r == 0) {
			if (demo)
				run.items = demo_items(true, &run.nitems);
			run.capture_stderr = true;
			/* The dashboard runs only on a terminal, so someone is there to read
			 * its finished screen: it stays until q, unless a script asked. */
			if (cfg->no_detach) {
				status = dashboard_run(cfg, &run, &job, what, !cfg->exit_when_done);
				job_release(&job);
				return status;
			}
			/* The batch runs in a process of its own that outlives the terminal; this
			 * one is its first viewer (engine.h). */
			struct serve_paths paths;
			pid_t engine;
			r = engine_fork(cfg, &run, &job, what, &engine, &paths, err, sizeof(err));
			job_release(&job);
			if (r < 0) {
				dashboard_abandon();
				fprintf(stderr, "pooltop: %s\n", err);
				return 255;
			}
			return dashboard_attach(paths.path, VIEW_REMOTE_OWNER, engine, paths.done,
						!cfg->exit_when_done, cfg->refresh_ms);
		}
		/* No terminal at all is the ordinary headless case; a terminal that cannot
		 * be used deserves a word. */
		if (isatty(2) || r != -ENXIO)
			fprintf(stderr, "pooltop: %s: running headless\n", why);
	}
	if (demo)
		run.items = demo_items(false, &run.nitems);
	status = headless_run(cfg, &run, &job);
	job_release(&job);
	return status;
}

int app_main(int argc, char **argv)
{
	/* A closed stdout is an EPIPE to handle, not a signal to die of; a file past ulimit -f
	 * is an EFBIG, said like any other failed write. (Workers put both back to default.) */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	unsigned closed = app_hold_std_fds();

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
		return app_run(&cfg, "demo: --builtin demo", true);
	case CLI_DEMO_EXITCODES:
		return demo_exitcodes(&cfg);
	case CLI_LS:
	case CLI_ATTACH:
	case CLI_STATUS:
		return attach_cmd_main(&cfg);
	case CLI_SUBMIT:
		return cluster_submit_main(&cfg);
	case CLI_COLLECT:
		return cluster_collect_main(&cfg);
	case CLI_COMPLETION:
		if (cfg.completion_zsh)
			cli_completion_zsh(stdout);
		else
			cli_completion_bash(stdout);
		return 0;
	case CLI_RUN: {
		if (app_check_std_fds(&cfg, closed) < 0) {
			cli_config_free(&cfg);
			return 255;
		}
		struct buf what = {0};
		run_describe(&cfg, &what);
		buf_printf(&what, " -j %u", cfg.jobs);
		int status = app_run(&cfg, what.data, false);
		buf_free(&what);
		cli_config_free(&cfg);
		return status;
	}
	}
	return 255;
}
