/* The command kind: COMMAND run once per item, executed directly (never through a shell) with
 * the item in its arguments (template.h).
 *
 * The job runs in its own process group with the worker's /dev/null as stdin; its stdout is the
 * item's output and its stderr is kept apart and written to the worker's stderr in one write
 * when the item ends, so that two items' messages never interleave. The worker waits on a pidfd
 * and the two pipes at once: the item ends when the job exits, and what the job left running in
 * its process group (`sleep 100 &`) is then killed, so no job outlives its item; a process that
 * left the group (setsid, setpgid) is not followed. Past --timeout the job's group is sent the
 * termination sequence.
 *
 * A start that fails for want of a resource (fork's EAGAIN under ulimit -u, pipe's EMFILE) is
 * retried (spawn_start): only a command that cannot be found or executed fails its item, with
 * 127 or 126. */
#include "job.h"
#include "job_env.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitcode.h"
#include "spawn.h"
#include "template.h"

/* Bytes of one item's stderr kept; more is read and dropped, and said so. */
#define COMMAND_STDERR_MAX (64u << 10)

struct command_state {
	struct template_args args;
	struct job_env env;
	struct buf err;
	struct buf line; /* --dry-run: the command line */
	char buf[65536];
};

static int command_init(const struct job *job, struct job_ctx *ctx)
{
	(void)job;
	struct command_state *st = xcalloc(1, sizeof(*st));
	job_env_init(&st->env, (unsigned)ctx->slot, true);
	ctx->state = st;
	return 0;
}

static void command_fini(const struct job *job, struct job_ctx *ctx)
{
	struct command_state *st = ctx->state;
	(void)job;
	template_args_free(&st->args);
	job_env_free(&st->env);
	buf_free(&st->err);
	buf_free(&st->line);
	free(st);
	ctx->state = NULL;
}

/* Read what the job's stdout (out_fd, into out: any size) or stderr (into st->err, up to
 * COMMAND_STDERR_MAX, *dropped when more came; and kept as the item's, in kept) has. Returns
 * false at the end of the pipe. */
static bool command_drain(struct command_state *st, int fd, struct job_output *out, bool *dropped,
			  struct job_stderr *kept)
{
	ssize_t n = read(fd, st->buf, sizeof(st->buf));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0)
		return false;
	if (out) {
		job_output_write(out, st->buf, (size_t)n);
		return true;
	}
	job_stderr_write(kept, st->buf, (size_t)n);
	struct buf *b = &st->err;
	size_t keep = b->len < COMMAND_STDERR_MAX ? MIN((size_t)n, COMMAND_STDERR_MAX - b->len) : 0;
	buf_append(b, st->buf, keep);
	if (keep < (size_t)n)
		*dropped = true;
	return true;
}

/* A line of pooltop's in the item's stderr (err), and in what is kept of it when keep is set. */
static void command_complain(struct buf *err, struct job_stderr *keep, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void command_complain(struct buf *err, struct job_stderr *keep, const char *fmt, ...)
{
	va_list ap;
	size_t from = err->len;
	buf_printf(err, "pooltop: ");
	va_start(ap, fmt);
	buf_vprintf(err, fmt, ap);
	va_end(ap);
	buf_putc(err, '\n');
	job_stderr_write(keep, err->data + from, err->len - from);
}

/* Whether the job pid has exited (waiting for it when wait): if so, what it left running in its
 * process group is killed, then it is reaped, its wait status in *status. The group is killed
 * before the reap: until then the job's pid, which names the group, cannot be reused, so the
 * signal reaches nobody else. */
static bool command_ended(pid_t pid, bool wait, int *status)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	int r;
	while ((r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT | (wait ? 0 : WNOHANG))) < 0 &&
	       errno == EINTR)
		continue;
	if (r < 0 || si.si_pid != pid)
		return false;
	kill(-pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		continue;
	return true;
}

/* Wait for the job pid, reading its stdout into out and its stderr into st->err, and stop it
 * with the termination sequence past the timeout. Returns its wait status. */
static int command_wait(const struct job *job, struct job_ctx *ctx, pid_t pid, int out_fd,
			int err_fd, uint64_t start, struct job_output *out)
{
	struct command_state *st = ctx->state;
	int pidfd = (int)pidfd_open(pid, 0);
	struct pollfd pf[3] = {
		{.fd = out_fd, .events = POLLIN},
		{.fd = err_fd, .events = POLLIN},
		{.fd = pidfd, .events = POLLIN},
	};
	struct spawn_stop stop = {.seq = &job->termseq};
	bool dropped_err = false, exited = false;
	int status = 0;

	while (!exited) {
		uint64_t timeout = ctx->timeout_ns ? atomic_load(ctx->timeout_ns) : 0;
		int wait_ms = spawn_stop_poll(&stop, pid, start, timeout);
		ctx->timed_out = stop.stage > 0;
		if (pidfd < 0)
			wait_ms = wait_ms < 0 ? 100 : MIN(wait_ms, 100);
		int r = poll(pf, 3, wait_ms);
		if (r < 0 && errno != EINTR)
			break;
		if (pf[0].revents && !command_drain(st, out_fd, out, NULL, NULL))
			pf[0].fd = -1;
		if (pf[1].revents && !command_drain(st, err_fd, NULL, &dropped_err, ctx->item_err))
			pf[1].fd = -1;
		if (ctx->stderr_private && st->err.len) {
			/* Nobody else writes there: the dashboard shows it as it comes. */
			(void)write_all(STDERR_FILENO, st->err.data, st->err.len);
			buf_reset(&st->err);
		}
		/* Without a pidfd, the ends of both pipes or a poll of waitid say it ended. */
		if (pf[2].revents || pidfd < 0 || (pf[0].fd < 0 && pf[1].fd < 0))
			exited = command_ended(pid, pf[2].revents != 0, &status);
	}
	/* It is gone: what it wrote is in the pipes, and what it left running was killed. */
	for (int i = 0; i < 2; i++) {
		int fd = i == 0 ? out_fd : err_fd;
		if (pf[i].fd < 0)
			continue;
		fcntl(fd, F_SETFL, O_NONBLOCK);
		while (command_drain(st, fd, i == 0 ? out : NULL, &dropped_err,
				     i == 0 ? NULL : ctx->item_err)) {
			struct pollfd one = {.fd = fd, .events = POLLIN};
			if (poll(&one, 1, 0) <= 0)
				break;
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	if (dropped_err)
		command_complain(&st->err, NULL, "item %llu: stderr cut at %u KiB",
				 (unsigned long long)ctx->seq, COMMAND_STDERR_MAX >> 10);
	return status;
}

static int command_run(const struct job *job, struct job_ctx *ctx, const char *item, size_t len,
		       struct job_output *out)
{
	struct command_state *st = ctx->state;
	int code;

	buf_reset(&st->err);
	ctx->timed_out = false;
	if (!template_values(job->cmd) && memchr(item, '\0', len)) {
		command_complain(&st->err, ctx->item_err,
				 "item %llu holds a NUL byte, which a command's argument cannot "
				 "carry (separate items with NUL: -0)",
				 (unsigned long long)ctx->seq);
		code = 1;
		goto report;
	}
	template_expand(job->cmd, item, len, ctx->seq, (unsigned)ctx->slot, &st->args);
	if (job->dry_run) {
		buf_reset(&st->line);
		template_quote_argv(&st->line, st->args.argv);
		buf_putc(&st->line, '\n');
		job_output_write(out, st->line.data, st->line.len);
		code = 0;
		goto report;
	}
	job_env_seq(&st->env, ctx->seq);

	struct spawn_req req = {
		.argv = st->args.argv,
		.envp = st->env.envp,
		.how = {-1, SPAWN_PIPE, SPAWN_PIPE},
		.publish = ctx->child_pid,
		.report = ctx->start_report,
		.seq = ctx->seq,
		.waiting = ctx->waiting,
		.waiting_data = ctx->waiting_data,
	};
	int ends[3];
	pid_t pid;
	int r = spawn_start(&req, ends, &pid);
	if (r < 0) {
		code = spawn_failure_code(r);
		command_complain(&st->err, ctx->item_err, "%s: %s", st->args.argv[0],
				 code == 127 && r == -ENOENT ? "command not found" : strerror(-r));
		goto report;
	}
	/* --timeout counts from here: waiting to start is not running. */
	uint64_t start = now_ns();
	if (ctx->child_pid)
		atomic_store(ctx->child_pid, pid);
	int status = command_wait(job, ctx, pid, ends[1], ends[2], start, out);
	if (ctx->child_pid)
		atomic_store(ctx->child_pid, 0);
	code = exitcode_from_status(status, NULL);
	close(ends[1]);
	close(ends[2]);

report:
	if (st->err.len)
		(void)write_all(STDERR_FILENO, st->err.data, st->err.len);
	return code;
}

static const struct job_kind command_kind = {
	.name = "command",
	.summary = "COMMAND once per item",
	.init = command_init,
	.run = command_run,
	.fini = command_fini,
	.own_timeout = true,
};

static int job_check_command(const struct template *t, char *err, size_t errlen)
{
	const char *name = template_fixed_command(t);
	if (!name)
		return 0;
	int r = spawn_check_command(name);
	if (r == -ENOENT)
		snprintf(err, errlen, "%s: command not found", name);
	else if (r == -EACCES)
		snprintf(err, errlen, "%s: not executable (Permission denied)", name);
	return r;
}

int job_command_new(char *const *argv, struct job *job, char *err, size_t errlen)
{
	struct template *t = template_new(argv);
	int r = job_check_command(t, err, errlen);
	if (r < 0) {
		template_free(t);
		return r;
	}
	memset(job, 0, sizeof(*job));
	job->kind = &command_kind;
	job->cmd = t;
	return 0;
}
