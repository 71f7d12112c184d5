/* The detached engine: see engine.h. */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "terminal.h"
#include "util.h"
#include "view.h"

struct engine {
	uv_loop_t loop;
	struct view *view;
	struct attach_server *server;
	uv_signal_t sigterm, sigint, sighup, sigusr1, sigusr2;
	uv_timer_t owner_wait;
	bool started, finished, closing;
	int status;
	int ready_fd; /* the first process waits on it: "\n", or an error line */
};

static void engine_ready(struct engine *e, const char *error)
{
	if (e->ready_fd < 0)
		return;
	char line[600];
	int n = snprintf(line, sizeof(line), "%s\n", error ? error : "");
	write_all(e->ready_fd, line, (size_t)MIN(n, (int)sizeof(line) - 1));
	close(e->ready_fd);
	e->ready_fd = -1;
}

static void handle_closed_cb(uv_handle_t *h)
{
	(void)h;
}

static void server_closed_cb(void *data)
{
	struct engine *e = data;
	uv_close((uv_handle_t *)&e->sigterm, handle_closed_cb);
	uv_close((uv_handle_t *)&e->sigint, handle_closed_cb);
	uv_close((uv_handle_t *)&e->sighup, handle_closed_cb);
	uv_close((uv_handle_t *)&e->sigusr1, handle_closed_cb);
	uv_close((uv_handle_t *)&e->sigusr2, handle_closed_cb);
	uv_close((uv_handle_t *)&e->owner_wait, handle_closed_cb);
}

static void view_closed_cb(void *data)
{
	struct engine *e = data;
	attach_server_close(e->server, server_closed_cb, e);
}

static void engine_close(struct engine *e)
{
	if (e->closing)
		return;
	e->closing = true;
	view_close(e->view, view_closed_cb, e);
}

static void engine_start(struct engine *e)
{
	if (e->started)
		return;
	e->started = true;
	uv_timer_stop(&e->owner_wait);
	char err[512];
	if (view_start(e->view, err, sizeof(err)) < 0) {
		struct view_event ev = {.kind = VIEW_EVENT_NOTICE, .slot = -1, .time_ns = now_ns()};
		snprintf(ev.text, sizeof(ev.text), "%.200s", err);
		attach_server_event(e->server, &ev);
		e->status = 255;
		e->finished = true;
		attach_server_finished(e->server, 255, true);
		engine_close(e);
	}
}

/* A viewer came or went: the batch starts with its owner there to see it, and once it is
 * over, the engine ends when its owner has left (the owner's finished screen stays browsable
 * until then). */
static void server_change_cb(void *data)
{
	struct engine *e = data;
	bool owner = attach_server_owner_present(e->server);
	if (owner && !e->started)
		engine_start(e);
	if (e->finished && !owner)
		engine_close(e);
}

static void owner_wait_cb(uv_timer_t *t)
{
	engine_start(t->data);
}

static void event_cb(void *data, const struct view_event *ev)
{
	struct engine *e = data;
	attach_server_event(e->server, ev);
}

static void finished_cb(void *data)
{
	struct engine *e = data;
	e->finished = true;
	e->status = view_exit_status(e->view);
	bool owner = attach_server_owner_present(e->server);
	/* The end is kept for pooltop status and ls: the owner removes it when it leaves by q,
	 * having shown it; a detach or a hang-up from the finished screen leaves it. */
	attach_server_finished(e->server, e->status, true);
	if (!owner)
		engine_close(e);
}

static void signal_cb(uv_signal_t *s, int sig)
{
	struct engine *e = s->data;
	if (e->finished) {
		/* It waits for its owner to leave the finished screen: no longer. */
		if (sig == SIGTERM || sig == SIGINT)
			engine_close(e);
		return;
	}
	switch (sig) {
	case SIGTERM:
		view_escalate(e->view, VIEW_STOP_TERMINATE, strsignal(sig));
		return;
	case SIGINT:
		view_escalate(e->view, VIEW_STOP_DRAIN, "interrupted");
		return;
	default:
		/* SIGHUP: it has no terminal; SIGUSR1, SIGUSR2: its viewers show the status. */
		return;
	}
}

/* Replace the standard streams that were the terminal: the engine outlives it. */
static bool engine_streams(const struct serve_paths *p)
{
	bool out = false;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (isatty(0) && null >= 0)
		dup2(null, 0);
	if (isatty(1)) {
		/* Not truncated yet: the name may be another batch's, whose file it is. */
		int fd = open(p->out, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			close(fd);
			out = true;
		} else if (null >= 0) {
			dup2(null, 1);
		}
	}
	if (isatty(2) && null >= 0)
		dup2(null, 2);
	if (null > 2)
		close(null);
	return out;
}

static int engine_main(const struct config *cfg, const struct run_settings *run,
		       const struct job *job, const char *what, const struct serve_paths *p,
		       int ready_fd)
{
	struct engine e;
	memset(&e, 0, sizeof(e));
	e.ready_fd = ready_fd;
	char err[512];
	bool out = engine_streams(p);
	uv_loop_init(&e.loop);
	struct view_hooks hooks = {.event = event_cb, .finished = finished_cb, .data = &e};
	int r = view_local_new(&e.loop, cfg, run, job, &hooks, 1, true, &e.view, err, sizeof(err));
	if (r < 0) {
		engine_ready(&e, err);
		return 255;
	}
	r = serve_start(&e.loop, e.view, p, what, job->cmd != NULL, out, true, &e.server, err,
			sizeof(err));
	if (r < 0) {
		engine_ready(&e, err);
		view_free(e.view);
		return 255;
	}
	/* The name is ours: so is the file of outputs. */
	if (out && ftruncate(1, 0) < 0) {
		snprintf(err, sizeof(err), "%s: %s", p->out, strerror(errno));
		engine_ready(&e, err);
		return 255;
	}
	attach_server_on_change(e.server, server_change_cb, &e);
	uv_signal_init(&e.loop, &e.sigterm);
	uv_signal_init(&e.loop, &e.sigint);
	uv_signal_init(&e.loop, &e.sighup);
	uv_signal_init(&e.loop, &e.sigusr1);
	uv_signal_init(&e.loop, &e.sigusr2);
	uv_timer_init(&e.loop, &e.owner_wait);
	e.sigterm.data = e.sigint.data = e.sighup.data = &e;
	e.sigusr1.data = e.sigusr2.data = e.owner_wait.data = &e;
	uv_signal_start(&e.sigterm, signal_cb, SIGTERM);
	uv_signal_start(&e.sigint, signal_cb, SIGINT);
	uv_signal_start(&e.sighup, signal_cb, SIGHUP);
	uv_signal_start(&e.sigusr1, signal_cb, SIGUSR1);
	uv_signal_start(&e.sigusr2, signal_cb, SIGUSR2);
	uv_timer_start(&e.owner_wait, owner_wait_cb, ENGINE_OWNER_WAIT_S * 1000, 0);
	engine_ready(&e, NULL);
	uv_run(&e.loop, UV_RUN_DEFAULT);
	view_free(e.view);
	attach_server_free(e.server);
	uv_loop_close(&e.loop);
	return e.status;
}

int engine_fork(const struct config *cfg, const struct run_settings *run, const struct job *job,
		const char *what, pid_t *pid, struct serve_paths *paths, char *err, size_t errlen)
{
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot start the batch: pipe: %s", strerror(errno));
		return -errno;
	}
	fflush(NULL);
	pid_t child = fork();
	if (child < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot start the batch: fork: %s", strerror(e));
		close(ready[0]);
		close(ready[1]);
		return -e;
	}
	if (child == 0) {
		close(ready[0]);
		/* Its own session: the terminal's hang-up and its signals are the viewer's. */
		setsid();
		terminal_forget();
		int r = serve_paths(cfg, getpid(), paths, err, errlen);
		if (r < 0) {
			write_all(ready[1], err, strlen(err));
			_exit(255);
		}
		int status = engine_main(cfg, run, job, what, paths, ready[1]);
		fflush(NULL);
		_exit(status);
	}
	close(ready[1]);
	/* Its answer: an empty line when it serves, else why it could not. */
	char line[600];
	size_t n = 0;
	ssize_t k;
	while (n < sizeof(line) - 1 && ((k = read(ready[0], line + n, sizeof(line) - 1 - n)) > 0 ||
					(k < 0 && errno == EINTR)))
		if (k > 0)
			n += (size_t)k;
	close(ready[0]);
	line[n] = '\0';
	if (n == 0 || line[0] != '\n') {
		line[strcspn(line, "\n")] = '\0';
		snprintf(err, errlen, "%s", n ? line : "the batch's process ended at its start");
		waitpid(child, NULL, 0);
		return -ECHILD;
	}
	*pid = child;
	/* The same paths as the engine's (its pid names the batch). */
	return serve_paths(cfg, child, paths, err, errlen);
}
