/* The curses dashboard on the libuv loop.
 *
 * Keys: a uv_poll_t on the terminal and getch() in nodelay mode until ERR (uv_tty_t would steal
 * the bytes from curses); libuv's poll makes the terminal non-blocking, which is put right at
 * once and at exit. Resizes: SIGWINCH -> TIOCGWINSZ -> resizeterm(). Redraws: at once after a
 * key, otherwise on the refresh timer. raw() mode: Ctrl-C is a key (first press joins all,
 * second terminates all), not a SIGINT to every worker. SIGTERM and SIGHUP to pooltop terminate
 * all workers and restore the terminal; a crash restores it from term.c's handler. */
#include "dashboard.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dash.h"
#include "serve.h"
#include "exitcode.h"
#include "summary.h"
#include "terminal.h"
#include "util.h"

struct dashboard {
	struct dash d;
	uv_loop_t loop;
	uv_poll_t tty_poll;
	uv_timer_t refresh;
	uv_signal_t sigwinch, sigterm, sighup, sigint, sigusr1, sigusr2;
	bool closing;
	bool terminal_open;
	struct attach_server *server; /* a batch run here: served for pooltop attach */
	bool remote;		      /* the view is another process's batch */
	pid_t engine;		      /* ...the engine this dashboard forked, or 0 */
	char what[1024];
	char where[96];
};

/* --- helpers for the views --- */

void dash_message(struct dash *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->message, sizeof(d->message), fmt, ap);
	va_end(ap);
	d->message_until_ns = now_ns() + 5 * NS_PER_S;
}

int dash_attr(const struct dash *d, enum dash_color c)
{
	static const int plain[] = {A_NORMAL,
#define X(name, fg, attr) attr,
				    DASH_COLORS(X)
#undef X
	};
	if (c == DASH_COLOR_NONE)
		return A_NORMAL;
	if (!d->color)
		return plain[c];
	int a = COLOR_PAIR(c);
	if (c == DASH_COLOR_HUNG || c == DASH_COLOR_SIGNAL || c == DASH_COLOR_TITLE)
		a |= A_BOLD;
	return a;
}

int dash_tone_attr(const struct dash *d, enum tone tone)
{
	switch (tone) {
	case TONE_PLAIN:
		return A_NORMAL;
	case TONE_OK:
		return dash_attr(d, DASH_COLOR_OK);
	case TONE_EXIT:
		return dash_attr(d, DASH_COLOR_EXIT);
	case TONE_SIGNAL:
		return dash_attr(d, DASH_COLOR_SIGNAL);
	case TONE_HUNG:
		return dash_attr(d, DASH_COLOR_HUNG);
	case TONE_BUSY:
		return dash_attr(d, DASH_COLOR_BUSY);
	case TONE_DIM:
		return dash_attr(d, DASH_COLOR_DIM);
	}
	return A_NORMAL;
}

int dash_put_clean(const char *s, size_t n, int width)
{
	int used = 0;
	for (size_t i = 0; i < n && used < width; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		if (c >= 0x20 && c < 0x7f) {
			addch(c);
			used++;
			continue;
		}
		/* Control bytes, and bytes past ASCII, are shown escaped: the terminal never
		 * receives an item's raw bytes. */
		int k = c == '\n'   ? snprintf(esc, sizeof(esc), "\\n")
			: c == '\t' ? snprintf(esc, sizeof(esc), "\\t")
				    : snprintf(esc, sizeof(esc), "\\x%02x", c);
		if (used + k > width)
			break;
		attron(A_DIM);
		addnstr(esc, k);
		attroff(A_DIM);
		used += k;
	}
	return used;
}

/* Count the items finished in each DASH_SPARK_S of the run, for the header's graphs. A period
 * with no snapshot (the loop was busy) counts with the next. */
static void spark_sample(struct dash *d)
{
	const struct view_totals *t = &d->totals;
	uint64_t bucket = t->elapsed_ns / (DASH_SPARK_S * NS_PER_S);
	while (d->spark_bucket < bucket) {
		d->spark_done[d->spark_pos] =
			(uint32_t)MIN(t->done - d->spark_base_done, UINT32_MAX);
		d->spark_failed[d->spark_pos] =
			(uint32_t)MIN(t->failed - d->spark_base_failed, UINT32_MAX);
		d->spark_pos = (d->spark_pos + 1) % DASH_SPARK;
		if (d->spark_n < DASH_SPARK)
			d->spark_n++;
		d->spark_base_done = t->done;
		d->spark_base_failed = t->failed;
		d->spark_bucket++;
	}
}

void dash_snapshot(struct dash *d)
{
	d->nrows = view_snapshot(d->view, &d->totals, d->rows, DASH_MAX_SLOTS);
	spark_sample(d);
	if (d->nrows && d->selected >= d->nrows)
		d->selected = d->nrows - 1;
	dash_arrange(d);
}

void dash_arrange(struct dash *d)
{
	d->norder = rows_arrange(d->rows, d->nrows, &d->arrange, d->order);
	if (d->norder && dash_selected_pos(d) == d->norder)
		d->selected = d->order[0];
}

unsigned dash_selected_pos(const struct dash *d)
{
	for (unsigned p = 0; p < d->norder; p++)
		if (d->order[p] == d->selected)
			return p;
	return d->norder;
}

/* --- drawing --- */

/* The longest of texts (longest first) that fits in cols, centred on row y. */
static void draw_fitting(int y, int cols, const char *const *texts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int len = (int)strlen(texts[i]);
		if (len <= cols || i + 1 == n) {
			mvaddnstr(y, MAX(0, (cols - len) / 2), texts[i], cols);
			return;
		}
	}
}

/* Below 40x10 the layout does not fit: say so in what room there is, and how to leave. */
static void draw_too_small(int rows, int cols)
{
	char full[64], size[32];
	snprintf(full, sizeof(full), "terminal too small (%dx%d)", cols, rows);
	snprintf(size, sizeof(size), "%dx%d", cols, rows);
	const char *what[] = {full, "too small", size};
	const char *hint[] = {"need 40x10; q quits", "q quits", "q"};
	int y = rows > 2 ? rows / 2 - 1 : 0;
	draw_fitting(y, cols, what, ARRAY_SIZE(what));
	if (y + 1 < rows)
		draw_fitting(y + 1, cols, hint, ARRAY_SIZE(hint));
}

static void dash_draw(struct dash *d)
{
	int rows = LINES, cols = COLS;
	erase();
	if (cols < 40 || rows < 10) {
		draw_too_small(rows, cols);
	} else {
		dash_modes[d->mode].draw(d, 0, 0, rows, cols);
	}
	refresh();
}

/* --- the loop --- */

static void dashboard_close(struct dashboard *b);

static void dashboard_redraw(struct dashboard *b)
{
	if (!b->terminal_open)
		return;
	dash_snapshot(&b->d);
	dash_draw(&b->d);
}

static void dashboard_maybe_end(struct dashboard *b)
{
	struct dash *d = &b->d;
	if (d->finished && (d->quitting || !d->stay))
		dashboard_close(b);
}

static void tty_readable_cb(uv_poll_t *h, int status, int events)
{
	(void)events;
	struct dashboard *b = h->data;
	if (status < 0 || (events & UV_DISCONNECT)) {
		uv_poll_stop(h);
		if (b->remote) {
			/* The terminal went away: the batch runs on without this viewer. */
			b->d.detached = true;
			dashboard_close(b);
			return;
		}
		/* The terminal went away: stop the workers as for quit. */
		b->d.quitting = true;
		view_escalate(b->d.view, VIEW_STOP_TERMINATE, "the terminal went away");
		dashboard_maybe_end(b);
		return;
	}
	int flags = 0, key;
	/* A key may end the dashboard (the curses screen is then gone): read no further. */
	while (!b->closing && (key = getch()) != ERR)
		flags |= dash_key(&b->d, key);
	if (b->closing)
		return;
	if (b->d.detached) {
		dashboard_close(b);
		return;
	}
	if (flags & DASH_QUIT) {
		b->d.quitting = true;
		if (b->d.finished) {
			dashboard_close(b);
			return;
		}
	}
	dashboard_redraw(b);
	dashboard_maybe_end(b);
}

static void refresh_cb(uv_timer_t *t)
{
	struct dashboard *b = t->data;
	dashboard_redraw(b);
}

static void sigwinch_cb(uv_signal_t *s, int sig)
{
	(void)sig;
	struct dashboard *b = s->data;
	struct winsize ws;
	if (b->terminal_open && ioctl(terminal_fd(), TIOCGWINSZ, &ws) == 0 && ws.ws_row &&
	    ws.ws_col)
		resizeterm(ws.ws_row, ws.ws_col);
	dashboard_redraw(b);
}

static void signal_cb(uv_signal_t *s, int sig)
{
	struct dashboard *b = s->data;
	switch (sig) {
	case SIGINT:
		dash_key(&b->d, 3); /* as Ctrl-C pressed */
		if (b->d.detached) {
			dashboard_close(b);
			return;
		}
		dashboard_redraw(b);
		return;
	case SIGUSR1:
	case SIGUSR2:
		/* A headless run's status line and progress toggle: the screen shows both. */
		dash_message(&b->d, "%s: the dashboard shows the status", strsignal(sig));
		dashboard_redraw(b);
		return;
	case SIGHUP:
	case SIGTERM:
		/* A viewer of a batch that runs in its own process: a hang-up detaches it, and so
		 * does SIGTERM unless it started the batch. */
		if (b->remote && (sig == SIGHUP || !b->d.owner)) {
			if (sig == SIGHUP)
				uv_poll_stop(&b->tty_poll);
			b->d.detached = true;
			dashboard_close(b);
			return;
		}
		/* fall through */
	default:
		/* SIGTERM, SIGHUP: stop everything (again: kill), restore the terminal, leave. */
		b->d.quitting = true;
		view_escalate(b->d.view, VIEW_STOP_TERMINATE, strsignal(sig));
		if (sig == SIGHUP && b->terminal_open) {
			/* The terminal may be gone: stop drawing on it. */
			uv_poll_stop(&b->tty_poll);
		}
		dashboard_maybe_end(b);
		return;
	}
}

static void event_cb(void *data, const struct view_event *ev)
{
	struct dashboard *b = data;
	struct dash *d = &b->d;
	attach_server_event(b->server, ev);
	if (ev->kind == VIEW_EVENT_WORKER_STARTED && ev->slot >= 0 && d->finished)
		return;
	struct dash_log_line *l = &d->log[d->log_pos];
	l->time_ns = ev->time_ns;
	l->wall = wall_s();
	l->kind = ev->kind;
	l->exitcode = ev->exitcode;
	snprintf(l->text, sizeof(l->text), "%s", ev->text);
	d->log_pos = (d->log_pos + 1) % DASH_LOG_KEPT;
	if (d->log_n < DASH_LOG_KEPT) {
		d->log_n++;
	} else {
		/* The oldest went: the full-screen log keeps showing the same events. */
		d->log_dropped++;
		if (d->log_top)
			d->log_top--;
	}
}

static void finished_cb(void *data)
{
	struct dashboard *b = data;
	b->d.finished = true;
	if (b->server)
		attach_server_finished(b->server, view_exit_status(b->d.view), false);
	if (b->remote) {
		struct view_summary sum;
		view_summary(b->d.view, &sum);
		if (sum.fatal[0])
			dash_message(&b->d, "%s", sum.fatal);
	}
	dashboard_redraw(b);
	dashboard_maybe_end(b);
}

static void handles_closed_cb(uv_handle_t *h)
{
	(void)h;
}

static void server_closed_cb(void *data)
{
	struct dashboard *b = data;
	uv_close((uv_handle_t *)&b->refresh, handles_closed_cb);
	uv_close((uv_handle_t *)&b->sigwinch, handles_closed_cb);
	uv_close((uv_handle_t *)&b->sigterm, handles_closed_cb);
	uv_close((uv_handle_t *)&b->sighup, handles_closed_cb);
	uv_close((uv_handle_t *)&b->sigint, handles_closed_cb);
	uv_close((uv_handle_t *)&b->sigusr1, handles_closed_cb);
	uv_close((uv_handle_t *)&b->sigusr2, handles_closed_cb);
	uv_close((uv_handle_t *)&b->tty_poll, handles_closed_cb);
}

static void view_closed_cb(void *data)
{
	struct dashboard *b = data;
	if (b->server)
		attach_server_close(b->server, server_closed_cb, b);
	else
		server_closed_cb(b);
}

static void dashboard_close(struct dashboard *b)
{
	if (b->closing)
		return;
	b->closing = true;
	uv_poll_stop(&b->tty_poll);
	uv_timer_stop(&b->refresh);
	if (b->terminal_open) {
		terminal_close();
		b->terminal_open = false;
	}
	view_close(b->d.view, view_closed_cb, b);
}

static void colors_init(struct dash *d)
{
	const char *nc = getenv("NO_COLOR");
	d->color = has_colors() && !(nc && *nc);
	if (!d->color)
		return;
	start_color();
	use_default_colors();
	static const short fg[] = {-1,
#define X(name, f, attr) f,
				   DASH_COLORS(X)
#undef X
	};
	for (short i = 1; i < DASH_NCOLORS; i++)
		init_pair(i, fg[i], -1);
}

void dashboard_abandon(void)
{
	terminal_close();
}

int dashboard_available(char *why, size_t len)
{
	int r = terminal_open(why, len);
	if (r == 0)
		return 0;
	return r;
}

/* --- outputs while the dashboard has the terminal --- */

/* A file for the outputs, unlinked at once: bounded by the disk, not by memory, and gone with
 * pooltop however it ends. -1 with *err set when none can be made. */
static int held_open(int *err)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/pooltop-out.XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		*err = errno;
		return -1;
	}
	unlink(path);
	return fd;
}

/* Once the terminal is restored: the outputs, in the order they were written. */
static void held_print(int fd, int err)
{
	if (fd < 0) {
		if (err)
			fprintf(stderr,
				"pooltop: the items' outputs were dropped: no file for them in "
				"$TMPDIR: %s\n",
				strerror(err));
		return;
	}
	off_t end = lseek(fd, 0, SEEK_END);
	if (end <= 0 || lseek(fd, 0, SEEK_SET) != 0)
		return;
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		int r = n > 0 ? write_all(1, buf, (size_t)n) : 0;
		if (r < 0) {
			fprintf(stderr, "pooltop: writing the outputs to stdout: %s\n",
				strerror(-r));
			return;
		}
	}
}

static void view_closed_nothing_cb(void *data)
{
	(void)data;
}

/* The curses modes and the loop's handles, for either source. */
static void dashboard_setup(struct dashboard *b)
{
	struct dash *d = &b->d;
	d->rows = xcalloc(DASH_MAX_SLOTS, sizeof(*d->rows));
	d->tagged = xcalloc(DASH_MAX_SLOTS, sizeof(*d->tagged));
	d->order = xcalloc(DASH_MAX_SLOTS, sizeof(*d->order));
	d->arrange.sort = COL_NUM;
	const char *codeset = nl_langinfo(CODESET);
	d->utf8 = codeset && !strcmp(codeset, "UTF-8");
	d->log = xcalloc(DASH_LOG_KEPT, sizeof(*d->log));
	b->terminal_open = true; /* dashboard_available() opened it */
	d->tty_fd = terminal_fd();

	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	/* Home and End as terminals send them whatever TERM says (tmux, rxvt, the console send
	 * ESC [1~ and ESC [4~ where xterm's entry says ESC OH): else a lone Esc, which goes back.
	 */
	define_key("\033[1~", KEY_HOME);
	define_key("\033[4~", KEY_END);
	define_key("\033[H", KEY_HOME);
	define_key("\033[F", KEY_END);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	/* Every button event, though only a left press and the wheel do something: ncurses reads
	 * on, blocking, past an event the mask filters out, so a release left out of the mask
	 * froze the loop after each click until the next key. No click resolution either (it
	 * waits for the release). */
	mousemask(ALL_MOUSE_EVENTS, NULL);
	mouseinterval(0);
	colors_init(d);
	uv_loop_init(&b->loop);
}

static void dashboard_handles(struct dashboard *b, unsigned refresh_ms)
{
	uv_poll_init(&b->loop, &b->tty_poll, b->d.tty_fd);
	terminal_fix_blocking();
	uv_timer_init(&b->loop, &b->refresh);
	uv_signal_init(&b->loop, &b->sigwinch);
	uv_signal_init(&b->loop, &b->sigterm);
	uv_signal_init(&b->loop, &b->sighup);
	uv_signal_init(&b->loop, &b->sigint);
	uv_signal_init(&b->loop, &b->sigusr1);
	uv_signal_init(&b->loop, &b->sigusr2);
	b->tty_poll.data = b->refresh.data = b->sigwinch.data = b;
	b->sigterm.data = b->sighup.data = b->sigint.data = b;
	b->sigusr1.data = b->sigusr2.data = b;
	uv_poll_start(&b->tty_poll, UV_READABLE | UV_DISCONNECT, tty_readable_cb);
	uv_timer_start(&b->refresh, refresh_cb, refresh_ms, refresh_ms);
	uv_signal_start(&b->sigwinch, sigwinch_cb, SIGWINCH);
	uv_signal_start(&b->sigterm, signal_cb, SIGTERM);
	uv_signal_start(&b->sighup, signal_cb, SIGHUP);
	uv_signal_start(&b->sigint, signal_cb, SIGINT);
	uv_signal_start(&b->sigusr1, signal_cb, SIGUSR1);
	uv_signal_start(&b->sigusr2, signal_cb, SIGUSR2);
}

static void dashboard_free(struct dashboard *b)
{
	struct dash *d = &b->d;
	uv_loop_close(&b->loop);
	terminal_close();
	free(d->rows);
	free(d->tagged);
	free(d->order);
	free(d->log);
	free(b);
}

/* Once the terminal is restored: the errors (they were in the event log, gone with the
 * screen), the outputs held, the summary and the failed items, on stderr (stdout may be the
 * results, redirected to a file). */
static void dashboard_report(struct dashboard *b, int held_fd, int held_err)
{
	const char *errors[VIEW_MAX_ERRORS];
	unsigned nerrors = view_errors(b->d.view, errors);
	for (unsigned i = 0; i < nerrors; i++)
		fprintf(stderr, "pooltop: %s\n", errors[i]);
	held_print(held_fd, held_err);
	summary_print(stderr, b->d.view);
	summary_print_failed(stderr, b->d.view);
}

int dashboard_run(const struct config *cfg, const struct run_settings *run, const struct job *job,
		  const char *what, bool stay)
{
	struct dashboard *b = xcalloc(1, sizeof(*b));
	struct dash *d = &b->d;
	d->what = what;
	d->jobs = job->cmd != NULL;
	d->stay = stay;
	dashboard_setup(b);

	char err[512] = "";
	int status = 255;
	struct view_hooks hooks = {.event = event_cb, .finished = finished_cb, .data = b};
	/* The outputs go to stdout when it is not the terminal. On the terminal the dashboard
	 * owns the screen: they are kept in an unlinked file and printed once it is restored. */
	int out_fd = 1, held_fd = -1, held_err = 0;
	if (isatty(1)) {
		held_fd = held_open(&held_err);
		out_fd = held_fd;
	}
	d->out_where = !isatty(1)     ? "out: stdout"
		       : held_fd >= 0 ? "out: shown on exit"
				      : "out: dropped";
	struct serve_paths paths;
	int r = view_local_new(&b->loop, cfg, run, job, &hooks, out_fd, out_fd >= 0, &d->view, err,
			       sizeof(err));
	if (r == 0 && (r = serve_paths(cfg, getpid(), &paths, err, sizeof(err))) == 0)
		r = serve_start(&b->loop, d->view, &paths, what, d->jobs, false, false, &b->server,
				err, sizeof(err));
	if (r < 0) {
		terminal_close();
		fprintf(stderr, "pooltop: %s\n", err);
		if (d->view) {
			/* The batch's handles are open already: closed before the loop is. */
			view_close(d->view, view_closed_nothing_cb, NULL);
			uv_run(&b->loop, UV_RUN_DEFAULT);
			view_free(d->view);
		}
		goto out;
	}
	snprintf(d->name, sizeof(d->name), "%s", paths.name);
	dashboard_handles(b, cfg->refresh_ms ? cfg->refresh_ms : 250);

	if (view_start(d->view, err, sizeof(err)) < 0) {
		dashboard_close(b);
		uv_run(&b->loop, UV_RUN_DEFAULT);
		fprintf(stderr, "pooltop: %s\n", err);
		goto out_view;
	}
	dashboard_redraw(b);
	uv_run(&b->loop, UV_RUN_DEFAULT);
	terminal_close();
	dashboard_report(b, held_fd, held_err);
	status = view_exit_status(d->view);
out_view:
	view_free(d->view);
	attach_server_free(b->server);
out:
	if (held_fd >= 0)
		close(held_fd);
	dashboard_free(b);
	return status;
}

/* The outputs the engine wrote to a file while the terminal was the dashboard's: printed,
 * then the file is removed. */
static void owner_outputs(const char *path)
{
	if (!*path)
		return;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	held_print(fd, 0);
	close(fd);
	unlink(path);
}

int dashboard_attach(const char *path, unsigned flags, pid_t engine, const char *record, bool stay,
		     unsigned refresh_ms)
{
	struct dashboard *b = xcalloc(1, sizeof(*b));
	struct dash *d = &b->d;
	d->stay = stay;
	dashboard_setup(b);
	struct view_hooks hooks = {.event = event_cb, .finished = finished_cb, .data = b};
	struct view_remote_info info;
	char err[512];
	int status = 255;
	int r = view_remote_new(&b->loop, path, flags, &hooks, &d->view, &info, err, sizeof(err));
	if (r < 0) {
		terminal_close();
		fprintf(stderr, "pooltop: %s\n", err);
		uv_run(&b->loop, UV_RUN_DEFAULT);
		dashboard_free(b);
		return 255;
	}
	b->remote = true;
	b->engine = engine;
	d->owner = flags & VIEW_REMOTE_OWNER;
	d->read_only = flags & VIEW_REMOTE_READ_ONLY;
	d->can_detach = true;
	snprintf(d->name, sizeof(d->name), "%s", info.name);
	snprintf(b->what, sizeof(b->what), "%s", info.what);
	d->what = b->what;
	d->jobs = info.jobs;
	if (d->owner)
		d->out_where = info.out[0] ? "out: shown on exit" : "out: stdout";
	else
		snprintf(b->where, sizeof(b->where), "attached%s: %s",
			 d->read_only ? " read-only" : "", info.name);
	if (!d->owner)
		d->out_where = b->where;
	dashboard_handles(b, refresh_ms ? refresh_ms : 250);
	dashboard_redraw(b);
	uv_run(&b->loop, UV_RUN_DEFAULT);
	terminal_close();
	if (d->detached && d->finished) {
		fprintf(stderr, "pooltop: left %s, finished: pooltop status %s keeps its end\n",
			info.name, info.name);
		if (d->owner && info.out[0])
			fprintf(stderr, "pooltop: its outputs are in %s\n", info.out);
		status = 0;
	} else if (d->detached) {
		fprintf(stderr,
			"pooltop: detached from %s (pid %d): it runs on; pooltop attach %s\n",
			info.name, (int)info.pid, info.name);
		if (d->owner && info.out[0])
			fprintf(stderr, "pooltop: its outputs go to %s\n", info.out);
		status = 0;
	} else {
		if (d->owner)
			owner_outputs(info.out);
		/* Its end was seen here: no record of it is kept for pooltop status. */
		if (record && d->finished)
			unlink(record);
		dashboard_report(b, -1, 0);
		status = view_exit_status(d->view);
	}
	view_free(d->view);
	/* The owner returns when its engine has ended, as a one-process run would. */
	if (engine > 0 && !d->detached) {
		int ws;
		while (waitpid(engine, &ws, 0) < 0 && errno == EINTR)
			;
	}
	dashboard_free(b);
	return status;
}

int dashboard_cluster(const char *url, const char *batch, bool read_only, bool stay,
		      unsigned refresh_ms)
{
	struct dashboard *b = xcalloc(1, sizeof(*b));
	struct dash *d = &b->d;
	d->stay = stay;
	dashboard_setup(b);
	struct view_hooks hooks = {.event = event_cb, .finished = finished_cb, .data = b};
	char err[512];
	int status = 255;
	int r = view_cluster_new(&b->loop, url, batch, read_only, &hooks, &d->view, err,
				 sizeof(err));
	if (r < 0) {
		terminal_close();
		fprintf(stderr, "pooltop: %s\n", err);
		uv_run(&b->loop, UV_RUN_DEFAULT);
		dashboard_free(b);
		return 255;
	}
	b->remote = true;
	d->cluster = true;
	d->read_only = read_only;
	d->can_detach = true;
	snprintf(d->name, sizeof(d->name), "%s", batch);
	snprintf(b->what, sizeof(b->what), "the batch %s across machines", batch);
	d->what = b->what;
	snprintf(b->where, sizeof(b->where), "cluster view%s: %s", read_only ? " read-only" : "",
		 batch);
	d->out_where = b->where;
	dashboard_handles(b, refresh_ms ? refresh_ms : 250);
	dashboard_redraw(b);
	uv_run(&b->loop, UV_RUN_DEFAULT);
	terminal_close();
	struct view_summary s;
	view_summary(d->view, &s);
	if (d->finished) {
		fprintf(stderr, "pooltop: the batch %s is over: %llu done, %llu failed\n", batch,
			(unsigned long long)s.done, (unsigned long long)s.failed);
		status = view_exit_status(d->view);
	} else {
		fprintf(stderr, "pooltop: left the batch %s: its hosts run on\n", batch);
		status = 0;
	}
	view_free(d->view);
	dashboard_free(b);
	return status;
}
