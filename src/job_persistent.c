/* The persistent kind: COMMAND started once per worker (its init), fed one item per line on its
 * stdin, answering one line per item on its stdout, in order; closing its stdin is the join
 * (its fini), and the worker then leaves with the program's own exit code.
 *
 * DESIGN
 *
 * Several items are written ahead of their answers (job->in_flight): the answers come back in
 * the order the items went in, so the n-th line read belongs to the n-th item still pending.
 * Both pipes are non-blocking and every wait polls both, so a program that answers while it
 * still has input to read never deadlocks against the worker.
 *
 * When the program ends (or closes its stdout) with items pending, the items it held fail with
 * its exit code (0 would read as success with no answer, so such items fail with 1 and a line
 * on stderr says why); a partial last line is not an answer. The next item starts a new
 * program. An item past --timeout (counted from when it became the oldest pending) stops the
 * program with the termination sequence: that item fails with the signal, marked timed out,
 * and the other pending items fail with it. An item holding a newline cannot be one line: it
 * fails with 1 without reaching the program.
 *
 * The contract is one line per item, and answers are matched by count, so a program that
 * writes more or fewer lines shifts answers onto other items. What can be seen is said (a
 * notice the parent relays to the event log, naming the program) and never shifted: output
 * that arrived while nothing was in flight (read before the next item goes over) is dropped;
 * lines left at the program's exit are counted and dropped. What cannot be told from a slow
 * or multi-line answer while items are in flight is not detected (doc/workers.md, the man page).
 * A program found ended while nothing was in flight is reaped and the next item goes to a new
 * one.
 *
 * The program is started with spawn_start, which retries a start that fails for want of a
 * resource. When it has exited (reaped or not yet), what it left in its process group is
 * killed before it is reaped, so that its pid cannot name anyone else's group. */
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
#include "shm.h"
#include "spawn.h"
#include "template.h"

#define PERSISTENT_IN_FLIGHT_MAX 64 /* QUEUE_BATCH_MAX: a worker holds no more */
/* How long a program that closed its stdout has to exit before it is killed. */
#define PERSISTENT_EXIT_WAIT_MS 1000

struct pending {
	uint64_t seq;
	uint64_t submit_ns;
	bool decided; /* code is its result: no line will come for it */
	bool timed_out;
	int code;
};

struct persistent_state {
	pid_t pid; /* 0 when no program runs */
	int in_fd, out_fd, pidfd;
	int err_fd; /* its stderr: read as it comes, passed on to the worker's and kept as the
		       item's (-1 once it ended) */
	struct pending q[PERSISTENT_IN_FLIGHT_MAX];
	unsigned head, n;
	struct buf rbuf; /* read from the program, not yet handed out */
	size_t rpos;
	size_t rscan;	 /* rbuf holds no newline in [rpos, rscan): where the next search starts */
	struct buf wbuf; /* items not yet written to the program */
	size_t wpos;
	bool eof;
	uint64_t last_answer_ns;
	/* The one-line-per-item contract, per program: lines taken as answers, and whether
	 * lines that answered nothing were said. */
	uint64_t answered;
	bool extra_said;
	char prog[48]; /* its name (argv[0]), for messages */
	char tmp[65536];
};

static int persistent_start(const struct job *job, struct job_ctx *ctx, struct persistent_state *st)
{
	struct template_args args = {0};
	template_expand(job->cmd, "", 0, 0, (unsigned)ctx->slot, &args);
	/* No item is part of the command line: drop the appended empty argument. */
	if (!template_has_placeholders(job->cmd))
		args.argv[--args.argc] = NULL;
	struct job_env env;
	job_env_init(&env, (unsigned)ctx->slot, false);
	struct spawn_req req = {
		.argv = args.argv,
		.envp = env.envp,
		.how = {SPAWN_PIPE, SPAWN_PIPE, SPAWN_PIPE},
		.publish = ctx->child_pid,
		.report = ctx->start_report,
		.seq = ctx->seq,
		.waiting = ctx->waiting,
		.waiting_data = ctx->waiting_data,
	};
	int ends[3];
	pid_t pid;
	int r = spawn_start(&req, ends, &pid);
	job_env_free(&env);
	if (r < 0) {
		if (ctx->why)
			snprintf(ctx->why, ctx->why_len, "%s: %s", args.argv[0],
				 r == -ENOENT ? "command not found" : strerror(-r));
		template_args_free(&args);
		return r;
	}
	snprintf(st->prog, sizeof(st->prog), "%s", args.argv[0]);
	template_args_free(&args);
	fcntl(ends[0], F_SETFL, O_NONBLOCK);
	fcntl(ends[1], F_SETFL, O_NONBLOCK);
	fcntl(ends[2], F_SETFL, O_NONBLOCK);
	st->err_fd = ends[2];
	st->pid = pid;
	st->in_fd = ends[0];
	st->out_fd = ends[1];
	st->pidfd = (int)pidfd_open(pid, 0);
	st->eof = false;
	buf_reset(&st->rbuf);
	st->rpos = 0;
	st->rscan = 0;
	st->answered = 0;
	st->extra_said = false;
	if (ctx->child_pid)
		atomic_store(ctx->child_pid, pid);
	return 0;
}

/* Say something about the program, in one line for the event log (the parent relays it, with
 * the worker's number). */
static void persistent_say(const struct job_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void persistent_say(const struct job_ctx *ctx, const char *fmt, ...)
{
	char text[SHM_NOTE_TEXT];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (ctx->notes)
		shm_note_post(ctx->notes, "%s", text);
	else
		complain("worker %d: %s", ctx->slot, text);
}

/* Drop what rbuf holds past what was handed out; returns the newlines in it. *open is set to
 * whether what was dropped ends inside a line (left as it was when nothing was). */
static uint64_t persistent_drop(struct persistent_state *st, bool *open)
{
	uint64_t lines = 0;
	const char *s = st->rbuf.data + st->rpos;
	size_t n = st->rbuf.len - st->rpos;
	for (size_t i = 0; i < n; i++)
		lines += s[i] == '\n';
	if (n)
		*open = s[n - 1] != '\n';
	buf_reset(&st->rbuf);
	st->rpos = 0;
	st->rscan = 0;
	return lines;
}

/* Read what the program wrote on stderr (a few rounds at most: a program that writes without
 * end does not hold the worker here), pass it on to the worker's stderr, where it went before it
 * had a pipe of its own, and keep it as the current item's. Its end closes the pipe. */
static void persistent_read_err(const struct job_ctx *ctx, struct persistent_state *st)
{
	for (int rounds = 0; rounds < 16 && st->err_fd >= 0; rounds++) {
		ssize_t r = read(st->err_fd, st->tmp, sizeof(st->tmp));
		if (r > 0) {
			(void)write_all(STDERR_FILENO, st->tmp, (size_t)r);
			job_stderr_write(ctx->item_err, st->tmp, (size_t)r);
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		close(st->err_fd);
		st->err_fd = -1;
	}
}

/* The program is gone or going: reap it and close its pipes. Returns its exit code. */
static int persistent_reap(const struct job_ctx *ctx, struct persistent_state *st, bool kill_it)
{
	int status = 0;
	if (!kill_it && st->pidfd >= 0) {
		/* It closed its stdout, or stopped reading: give it a moment to exit. */
		struct pollfd pf = {.fd = st->pidfd, .events = POLLIN};
		kill_it = poll(&pf, 1, PERSISTENT_EXIT_WAIT_MS) == 0;
	}
	if (kill_it)
		kill(-st->pid, SIGKILL);
	/* Exited (or dying of SIGKILL), not reaped yet: until it is, its pid names its group and
	 * nobody else's, so what it left running there is killed without risk. */
	siginfo_t si;
	while (waitid(P_PID, (id_t)st->pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		continue;
	kill(-st->pid, SIGKILL);
	while (waitpid(st->pid, &status, 0) < 0 && errno == EINTR)
		continue;
	/* What it wrote on stderr before it ended is in the pipe. */
	while (st->err_fd >= 0) {
		struct pollfd pf = {.fd = st->err_fd, .events = POLLIN};
		if (poll(&pf, 1, 0) <= 0)
			break;
		persistent_read_err(ctx, st);
	}
	if (st->err_fd >= 0)
		close(st->err_fd);
	st->err_fd = -1;
	if (st->in_fd >= 0)
		close(st->in_fd);
	buf_reset(&st->wbuf);
	st->wpos = 0;
	close(st->out_fd);
	if (st->pidfd >= 0)
		close(st->pidfd);
	st->in_fd = st->out_fd = st->pidfd = -1;
	st->pid = 0;
	if (ctx->child_pid)
		atomic_store(ctx->child_pid, 0);
	return exitcode_from_status(status, NULL);
}

/* The program ended with code: every pending item without an answer takes it. */
static void persistent_died(const struct job_ctx *ctx, struct persistent_state *st, int code)
{
	unsigned held = 0;
	for (unsigned i = 0; i < st->n; i++)
		if (!st->q[(st->head + i) % PERSISTENT_IN_FLIGHT_MAX].decided)
			held++;
	if (held && code == 0) {
		persistent_say(ctx,
			       "the persistent program '%s' exited 0 without answering %u item%s: "
			       "%s",
			       st->prog, held, held == 1 ? "" : "s",
			       held == 1 ? "it fails" : "they fail");
		code = 1;
	}
	for (unsigned i = 0; i < st->n; i++) {
		struct pending *p = &st->q[(st->head + i) % PERSISTENT_IN_FLIGHT_MAX];
		if (!p->decided) {
			p->decided = true;
			p->code = code;
		}
	}
}

/* Read what the program wrote (up to about JOB_OUTPUT_MEM not handed out: a long answer is
 * handed out as it comes). Returns false at the end of its stdout. */
static bool persistent_read(struct persistent_state *st)
{
	while (st->rbuf.len - st->rpos < JOB_OUTPUT_MEM) {
		ssize_t r = read(st->out_fd, st->tmp, sizeof(st->tmp));
		if (r > 0) {
			if (st->rpos > 0 && st->rpos == st->rbuf.len) {
				buf_reset(&st->rbuf);
				st->rpos = 0;
				st->rscan = 0;
			}
			buf_append(&st->rbuf, st->tmp, (size_t)r);
			continue;
		}
		if (r == 0)
			return false;
		return errno == EAGAIN || errno == EINTR;
	}
	return true;
}

static int persistent_init(const struct job *job, struct job_ctx *ctx)
{
	struct persistent_state *st = xcalloc(1, sizeof(*st));
	st->in_fd = st->out_fd = st->pidfd = st->err_fd = -1;
	ctx->state = st;
	/* Writing to a program that died must be an error to handle, not a signal that ends
	 * the worker. The program itself gets SIGPIPE back at its default. */
	signal(SIGPIPE, SIG_IGN);
	int r = persistent_start(job, ctx, st);
	if (r < 0) {
		free(st);
		ctx->state = NULL;
	}
	return r;
}

/* Nothing is in flight: whatever the program wrote since its last answer answers no item. Read
 * it now, before the next item goes over, so that it is not taken as that item's answer. A
 * program found ended (its stdout closed) is reaped: the item goes to a new one. */
static void persistent_check_idle(const struct job_ctx *ctx, struct persistent_state *st)
{
	if (!persistent_read(st))
		st->eof = true;
	persistent_read_err(ctx, st); /* for the next item: between items counts for it */
	if (st->rpos != st->rbuf.len) {
		bool open = false;
		uint64_t lines = persistent_drop(st, &open);
		lines += open; /* a line without its newline (a prompt) is one too */
		if (!st->extra_said)
			persistent_say(
				ctx,
				"the persistent program '%s' (pid %d) wrote %llu line%s while "
				"no item was waiting for an answer: dropped (one line per item)",
				st->prog, (int)st->pid, (unsigned long long)lines,
				lines == 1 ? "" : "s");
		st->extra_said = true;
	}
	if (st->eof) {
		pid_t pid = st->pid;
		char how[96];
		exitcode_describe(persistent_reap(ctx, st, false), false, how, sizeof(how));
		persistent_say(
			ctx, "the persistent program '%s' (pid %d) %s between items: started again",
			st->prog, (int)pid, how);
	}
}

static int persistent_submit(const struct job *job, struct job_ctx *ctx, const char *item,
			     size_t len)
{
	struct persistent_state *st = ctx->state;
	if (st->n == PERSISTENT_IN_FLIGHT_MAX)
		return -ENOBUFS; /* the worker keeps to in_flight: cannot happen */
	/* Also when its end was seen already: a program that exits right after its answer is
	 * often seen ending while that answer is collected. */
	if (st->n == 0 && st->pid)
		persistent_check_idle(ctx, st);
	struct pending *p = &st->q[(st->head + st->n++) % PERSISTENT_IN_FLIGHT_MAX];
	*p = (struct pending){.seq = ctx->seq};
	if (memchr(item, '\n', len)) {
		complain(
			"worker %d: item %llu holds a newline: a persistent program reads one item "
			"per line",
			ctx->slot, (unsigned long long)ctx->seq);
		p->decided = true;
		p->code = 1;
		return -EINVAL;
	}
	if (st->pid == 0) {
		int r = persistent_start(job, ctx, st);
		if (r < 0) {
			complain("worker %d: %s", ctx->slot, ctx->why ? ctx->why : "cannot start");
			p->decided = true;
			p->code = spawn_failure_code(r);
			return r;
		}
	}
	/* --timeout counts from here: waiting for the program to start is not running. */
	p->submit_ns = now_ns();
	/* Written when collect waits: one write for a whole run of items. */
	buf_append(&st->wbuf, item, len);
	buf_putc(&st->wbuf, '\n');
	return 0;
}

/* Write what the program can take of wbuf without blocking. */
static void persistent_flush(struct persistent_state *st)
{
	while (st->wpos < st->wbuf.len && st->in_fd >= 0) {
		ssize_t w = write(st->in_fd, st->wbuf.data + st->wpos, st->wbuf.len - st->wpos);
		if (w > 0) {
			st->wpos += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		/* It stopped reading: it is ending. Its answers so far still count. */
		close(st->in_fd);
		st->in_fd = -1;
	}
	if (st->wpos == st->wbuf.len || st->in_fd < 0) {
		buf_reset(&st->wbuf);
		st->wpos = 0;
	}
}

/* The next complete line in rbuf, appended to out with its newline. Of a line longer than
 * JOB_OUTPUT_MEM the part read so far is handed on already (and false returned), so that an
 * answer of any length costs bounded memory. */
static bool persistent_line(struct persistent_state *st, struct job_output *out)
{
	const char *s = st->rbuf.data + st->rpos;
	size_t avail = st->rbuf.len - st->rpos;
	size_t from = MAX(st->rscan, st->rpos);
	const char *nl = st->rbuf.len > from
				 ? memchr(st->rbuf.data + from, '\n', st->rbuf.len - from)
				 : NULL;
	if (!nl) {
		st->rscan = st->rbuf.len;
		if (avail >= JOB_OUTPUT_MEM) {
			job_output_write(out, s, avail);
			st->rpos += avail;
		}
		return false;
	}
	size_t n = (size_t)(nl - s) + 1;
	job_output_write(out, s, n);
	st->rpos += n;
	st->rscan = st->rpos;
	return true;
}

static int persistent_collect(const struct job *job, struct job_ctx *ctx, struct job_output *out)
{
	struct persistent_state *st = ctx->state;
	struct spawn_stop stop = {.seq = &job->termseq};
	if (st->n == 0)
		return 1;
	struct pending *p = &st->q[st->head];
	uint64_t start = MAX(p->submit_ns, st->last_answer_ns);

	while (!p->decided) {
		if (persistent_line(st, out)) {
			/* What it wrote on stderr before its answer is in the pipe. */
			persistent_read_err(ctx, st);
			p->decided = true;
			p->code = 0;
			st->answered++;
			break;
		}
		if (st->eof || st->pid == 0) {
			/* No more answers: a partial line is not one. */
			persistent_died(ctx, st, st->pid ? persistent_reap(ctx, st, false) : 1);
			break;
		}
		uint64_t timeout = ctx->timeout_ns ? atomic_load(ctx->timeout_ns) : 0;
		int wait_ms = spawn_stop_poll(&stop, st->pid, start, timeout);
		if (stop.stage)
			p->timed_out = true;
		persistent_flush(st);
		bool writing = st->wpos < st->wbuf.len;
		struct pollfd pf[4] = {{.fd = st->out_fd, .events = POLLIN},
				       {.fd = st->pidfd, .events = POLLIN},
				       {.fd = writing ? st->in_fd : -1, .events = POLLOUT},
				       {.fd = st->err_fd, .events = POLLIN}};
		int r = poll(pf, 4, wait_ms);
		if (r < 0 && errno != EINTR)
			st->eof = true;
		if (pf[3].revents)
			persistent_read_err(ctx, st);
		if (pf[0].revents && !persistent_read(st))
			st->eof = true;
		if (pf[1].revents) {
			/* It exited: what it wrote is in the pipe already. */
			persistent_read(st);
			st->eof = true;
		}
	}
	if (stop.stage && st->pid) {
		/* Stopped for the timeout: whatever it still wrote is dropped with it. */
		persistent_died(ctx, st, persistent_reap(ctx, st, true));
	}
	ctx->timed_out = p->timed_out;
	int code = p->code;
	st->head = (st->head + 1) % PERSISTENT_IN_FLIGHT_MAX;
	st->n--;
	st->last_answer_ns = now_ns();
	return code;
}

static void persistent_fini(const struct job *job, struct job_ctx *ctx)
{
	struct persistent_state *st = ctx->state;
	(void)job;
	if (!st)
		return;
	if (st->pid) {
		/* Its stdin closed is the join: it finishes and exits by itself. */
		while (st->in_fd >= 0 && st->wpos < st->wbuf.len) {
			struct pollfd pf = {.fd = st->in_fd, .events = POLLOUT};
			poll(&pf, 1, 100);
			persistent_flush(st);
		}
		if (st->in_fd >= 0)
			close(st->in_fd);
		st->in_fd = -1;
		/* Every item was answered: whatever it still writes answers none. It is read (so
		 * that the program never blocks on a full pipe), counted and dropped, until the end
		 * of its stdout or its exit (a process it left running may hold the pipe open). */
		uint64_t left = 0;
		bool exited = false, open = false;
		while (!st->eof && !exited) {
			struct pollfd pf[3] = {{.fd = st->out_fd, .events = POLLIN},
					       {.fd = st->pidfd, .events = POLLIN},
					       {.fd = st->err_fd, .events = POLLIN}};
			if (poll(pf, 3, -1) < 0 && errno != EINTR)
				break;
			exited = pf[1].revents != 0;
			if (pf[2].revents)
				persistent_read_err(ctx, st);
			if (!persistent_read(st))
				st->eof = true;
			left += persistent_drop(st, &open);
		}
		left += persistent_drop(st, &open);
		left += open;
		pid_t pid = st->pid;
		ctx->exit_status = persistent_reap(ctx, st, false);
		if (left)
			persistent_say(
				ctx,
				"the persistent program '%s' (pid %d) ended with %llu line%s "
				"more than the %llu items it answered: dropped; answers may have "
				"gone to the wrong items (one line per item)",
				st->prog, (int)pid, (unsigned long long)left, left == 1 ? "" : "s",
				(unsigned long long)st->answered);
	}
	buf_free(&st->rbuf);
	buf_free(&st->wbuf);
	free(st);
	ctx->state = NULL;
}

static const struct job_kind persistent_kind = {
	.name = "persistent",
	.summary = "COMMAND started once per worker, one line per item",
	.init = persistent_init,
	.submit = persistent_submit,
	.collect = persistent_collect,
	.fini = persistent_fini,
	.own_timeout = true,
};

int job_persistent_new(char *const *argv, unsigned in_flight, struct job *job, char *err,
		       size_t errlen)
{
	int r = job_command_new(argv, job, err, errlen);
	if (r < 0)
		return r;
	job->kind = &persistent_kind;
	job->in_flight = MAX(1u, MIN(in_flight, (unsigned)PERSISTENT_IN_FLIGHT_MAX));
	return 0;
}
