/* The dashboard's keys: one table, read both by the dispatch and by the help screen. Each
 * handler returns DASH_REDRAW_* flags. A command on a worker names it with the generation the
 * screen showed, so a key never hits a process the user did not see. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dash.h"
#include "util.h"

#define CTRL_C	3
#define KEY_ESC 27

static unsigned dash_rows(const struct dash *d)
{
	return d->nrows;
}

static int key_move(struct dash *d, int key)
{
	unsigned n = dash_rows(d);
	if (!n)
		return DASH_REDRAW_NONE;
	unsigned page = d->table_rows ? d->table_rows : 10;
	unsigned s = d->selected;
	switch (key) {
	case KEY_UP:
		s = s ? s - 1 : 0;
		break;
	case KEY_DOWN:
		s = s + 1 < n ? s + 1 : s;
		break;
	case KEY_PPAGE:
		s = s > page ? s - page : 0;
		break;
	case KEY_NPAGE:
		s = MIN(n - 1, s + page);
		break;
	case KEY_HOME:
		s = 0;
		break;
	case KEY_END:
		s = n - 1;
		break;
	}
	d->selected = s;
	return DASH_REDRAW;
}

/* h: the next HUNG worker after the selected one, round the table; the header's count of hung
 * workers says when there is one to find. */
static int key_next_hung(struct dash *d, int key)
{
	(void)key;
	unsigned n = dash_rows(d);
	for (unsigned k = 1; k <= n; k++) {
		unsigned i = (d->selected + k) % n;
		if (d->rows[i].hung) {
			d->selected = i;
			return DASH_REDRAW;
		}
	}
	dash_message(d, "no worker is HUNG");
	return DASH_REDRAW;
}

static int key_mouse(struct dash *d, int key)
{
	(void)key;
	MEVENT ev;
	if (getmouse(&ev) != OK)
		return DASH_REDRAW_NONE;
	if (ev.bstate & BUTTON4_PRESSED)
		return key_move(d, KEY_UP);
	if (ev.bstate & BUTTON5_PRESSED)
		return key_move(d, KEY_DOWN);
	if (!(ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)))
		return DASH_REDRAW_NONE; /* a release, another button */
	int row = ev.y - d->table_y;
	if (d->mode == DASH_MODE_MAIN && row >= 0 && (unsigned)row < d->table_rows &&
	    d->top + (unsigned)row < dash_rows(d)) {
		d->selected = d->top + (unsigned)row;
		return DASH_REDRAW;
	}
	return DASH_REDRAW_NONE;
}

static const char *cmd_error(int r)
{
	switch (r) {
	case -ESTALE:
		return "its process was replaced since the screen was drawn: nothing done";
	case -ESRCH:
		return "it has no process";
	case -EPIPE:
		return "the pool is shutting down";
	default:
		return strerror(-r);
	}
}

/* Apply cmd to the tagged workers, or else to the selected one. */
static int act(struct dash *d, enum view_command cmd, const char *done)
{
	if (!d->nrows)
		return DASH_REDRAW_NONE;
	if (d->ntagged) {
		unsigned ok = 0, stale = 0;
		for (unsigned i = 0; i < d->nrows; i++) {
			if (!d->tagged[i])
				continue;
			int r = view_command(d->view, cmd, i, d->tagged[i], 0);
			if (r == 0)
				ok++;
			else
				stale++;
			d->tagged[i] = 0;
		}
		d->ntagged = 0;
		dash_message(d, "%s %u tagged worker%s%s", done, ok, ok == 1 ? "" : "s",
			     stale ? " (others were replaced or gone: left alone)" : "");
		return DASH_REDRAW;
	}
	unsigned slot = d->selected;
	const struct view_row *v = &d->rows[slot];
	/* The generation of the row as it was drawn: a process started since is left alone. */
	int r = view_command(d->view, cmd, slot, v->generation, 0);
	if (r < 0)
		dash_message(d, "worker %u: %s", slot, cmd_error(r));
	else
		dash_message(d, "worker %u pid %d: %s", slot, (int)v->pid, done);
	return DASH_REDRAW;
}

static int key_terminate(struct dash *d, int key)
{
	(void)key;
	return act(d, VIEW_TERMINATE, "SIGTERM sent");
}

static int key_kill(struct dash *d, int key)
{
	(void)key;
	return act(d, VIEW_KILL, "SIGKILL sent");
}

static int key_join(struct dash *d, int key)
{
	(void)key;
	return act(d, VIEW_JOIN, "joining (finishes its item, runs fini, exits 0)");
}

static int key_join_all(struct dash *d, int key)
{
	(void)key;
	view_stop(d->view, VIEW_STOP_JOIN, "J");
	dash_message(d, "joining all: no more input; items in hand are finished");
	return DASH_REDRAW;
}

static int key_terminate_all_yes(struct dash *d, int key)
{
	(void)key;
	d->mode = DASH_MODE_MAIN;
	if (view_escalate(d->view, VIEW_STOP_TERMINATE, "T") == VIEW_STOP_KILL)
		dash_message(d, "killing all workers (SIGKILL)");
	else
		dash_message(d, "terminating all workers (--term-seq: SIGTERM, then SIGKILL)");
	return DASH_REDRAW;
}

/* T asks first, as q does; once the batch is terminating, T kills at once. */
static int key_terminate_all(struct dash *d, int key)
{
	if (view_stopping(d->view) >= VIEW_STOP_TERMINATE)
		return key_terminate_all_yes(d, key);
	d->mode = DASH_MODE_CONFIRM_TERMINATE;
	return DASH_REDRAW;
}

static int key_restart(struct dash *d, int key)
{
	(void)key;
	if (!d->nrows)
		return DASH_REDRAW_NONE;
	int r = view_command(d->view, VIEW_RESTART, d->selected, d->rows[d->selected].generation,
			     0);
	if (r < 0)
		dash_message(d, "worker %u: %s", d->selected, cmd_error(r));
	else
		dash_message(d, "worker %u: restarting", d->selected);
	return DASH_REDRAW;
}

static int key_resize(struct dash *d, int key)
{
	unsigned size = d->totals.size;
	unsigned n = key == '+' ? size + 1 : size > 1 ? size - 1 : 1;
	if (n == size) {
		dash_message(d, "the pool has one worker: use j or T to stop it");
		return DASH_REDRAW;
	}
	int r = view_resize(d->view, n);
	if (r < 0) {
		dash_message(d, "resize to %u: %s", n, cmd_error(r));
	} else {
		/* Several keys may come in one read: the next one starts from here. */
		d->totals.size = n;
		dash_message(d, "pool size %u", n);
	}
	return DASH_REDRAW;
}

static int key_pause(struct dash *d, int key)
{
	(void)key;
	bool paused = !d->totals.paused;
	view_pause(d->view, paused);
	d->totals.paused = paused;
	dash_message(d, paused ? "paused: workers start no new item (p resumes)" : "resumed");
	return DASH_REDRAW;
}

static int key_tag(struct dash *d, int key)
{
	(void)key;
	if (!d->nrows)
		return DASH_REDRAW_NONE;
	unsigned s = d->selected;
	if (d->tagged[s]) {
		d->tagged[s] = 0;
		d->ntagged--;
	} else if (d->rows[s].pid > 0) {
		d->tagged[s] = d->rows[s].generation;
		d->ntagged++;
	}
	return key_move(d, KEY_DOWN);
}

static int key_detail(struct dash *d, int key)
{
	(void)key;
	d->mode = DASH_MODE_DETAIL;
	return DASH_REDRAW;
}

static int key_help(struct dash *d, int key)
{
	(void)key;
	d->mode = DASH_MODE_HELP;
	return DASH_REDRAW;
}

static int key_log(struct dash *d, int key)
{
	(void)key;
	d->mode = DASH_MODE_LOG;
	d->log_follow = true;
	return DASH_REDRAW;
}

static int key_log_scroll(struct dash *d, int key)
{
	view_log_scroll(d, key);
	return DASH_REDRAW;
}

static int key_quit(struct dash *d, int key)
{
	(void)key;
	if (d->finished)
		return DASH_QUIT;
	if (d->totals.finished) {
		/* Only output for a slow reader is left: q does not wait for it. */
		d->quitting = true;
		view_stop(d->view, VIEW_STOP_KILL, "q");
		return DASH_REDRAW | DASH_QUIT;
	}
	d->mode = DASH_MODE_CONFIRM_QUIT;
	return DASH_REDRAW;
}

static int key_ctrl_c(struct dash *d, int key)
{
	(void)key;
	d->quitting = true;
	d->mode = DASH_MODE_MAIN;
	switch (view_escalate(d->view, VIEW_STOP_JOIN, "Ctrl-C")) {
	case VIEW_STOP_NONE:
	case VIEW_STOP_JOIN:
		dash_message(d, "Ctrl-C: joining all workers, then quitting (Ctrl-C again: "
				"terminate all)");
		break;
	case VIEW_STOP_TERMINATE:
		dash_message(d, "Ctrl-C: terminating all workers (again: kill all)");
		break;
	case VIEW_STOP_KILL:
		dash_message(d, "Ctrl-C: killing all workers");
		break;
	}
	return DASH_REDRAW | (d->finished ? DASH_QUIT : 0);
}

static const struct dash_binding main_keys[] = {
	{KEY_UP, "Up Down PgUp PgDn Home End", "select a worker (mouse: click, wheel)", key_move},
	{KEY_DOWN, NULL, NULL, key_move},
	{KEY_PPAGE, NULL, NULL, key_move},
	{KEY_NPAGE, NULL, NULL, key_move},
	{KEY_HOME, NULL, NULL, key_move},
	{KEY_END, NULL, NULL, key_move},
	{KEY_MOUSE, NULL, NULL, key_mouse},
	{'h', "h", "select the next HUNG worker", key_next_hung},
	{'t', "t", "terminate: SIGTERM (Process.terminate(); exits -15, no fini)", key_terminate},
	{'k', "k", "kill: SIGKILL (Process.kill(); exits -9)", key_kill},
	{'j', "j", "join: finish the item, run fini, exit 0, not respawned", key_join},
	{'J', "J", "join all: read no more input, finish what was read, quit", key_join_all},
	{'T', "T", "terminate all, asking first (Pool.terminate(); --term-seq); again: kill",
	 key_terminate_all},
	{'r', "r", "restart the worker (or start one in an exited slot)", key_restart},
	{'+', "+ -", "grow / shrink the pool", key_resize},
	{'-', NULL, NULL, key_resize},
	{'p', "p", "pause / resume dispatch", key_pause},
	{' ', "Space", "tag a worker: t, k, j then act on all tagged", key_tag},
	{'\r', "Enter", "detail: recent items, last output, stderr", key_detail},
	{'\n', NULL, NULL, key_detail},
	{KEY_ENTER, NULL, NULL, key_detail},
	{'l', "l", "the event log, full screen: every event, whole", key_log},
	{'?', "? F1", "this help", key_help},
	{KEY_F(1), NULL, NULL, key_help},
	{'q', "q F10", "quit (asks when work remains)", key_quit},
	{KEY_F(10), NULL, NULL, key_quit},
	{0, NULL, NULL, NULL},
};

/* Back to the workers. */
static int key_back(struct dash *d, int key)
{
	(void)key;
	d->mode = DASH_MODE_MAIN;
	return DASH_REDRAW;
}

static const struct dash_binding help_keys[] = {
	{KEY_ESC, "Esc ? F1 q Enter Left", "back to the workers", key_back},
	{'?', NULL, NULL, key_back},
	{KEY_F(1), NULL, NULL, key_back},
	{'q', NULL, NULL, key_back},
	{'\r', NULL, NULL, key_back},
	{'\n', NULL, NULL, key_back},
	{KEY_ENTER, NULL, NULL, key_back},
	{KEY_LEFT, NULL, NULL, key_back},
	{0, NULL, NULL, NULL},
};

static const struct dash_binding detail_keys[] = {
	{KEY_UP, "Up Down", "the previous / next worker", key_move},
	{KEY_DOWN, NULL, NULL, key_move},
	{KEY_ESC, "Esc q Enter Left", "back to the workers", key_back},
	{'q', NULL, NULL, key_back},
	{'\r', NULL, NULL, key_back},
	{'\n', NULL, NULL, key_back},
	{KEY_ENTER, NULL, NULL, key_back},
	{KEY_LEFT, NULL, NULL, key_back},
	{0, NULL, NULL, NULL},
};

static const struct dash_binding log_keys[] = {
	{KEY_UP, "Up Down PgUp PgDn Home End", "scroll (at the end: follow the latest)",
	 key_log_scroll},
	{KEY_DOWN, NULL, NULL, key_log_scroll},
	{KEY_PPAGE, NULL, NULL, key_log_scroll},
	{KEY_NPAGE, NULL, NULL, key_log_scroll},
	{KEY_HOME, NULL, NULL, key_log_scroll},
	{KEY_END, NULL, NULL, key_log_scroll},
	{KEY_ESC, "Esc l q Left", "back to the workers", key_back},
	{'l', NULL, NULL, key_back},
	{'q', NULL, NULL, key_back},
	{KEY_LEFT, NULL, NULL, key_back},
	{0, NULL, NULL, NULL},
};

static int key_quit_join(struct dash *d, int key)
{
	(void)key;
	view_stop(d->view, VIEW_STOP_JOIN, "q");
	d->quitting = true;
	d->mode = DASH_MODE_MAIN;
	dash_message(d, "joining all workers, then quitting");
	return DASH_REDRAW | (d->finished ? DASH_QUIT : 0);
}

static int key_quit_terminate(struct dash *d, int key)
{
	(void)key;
	view_escalate(d->view, VIEW_STOP_TERMINATE, "q");
	d->quitting = true;
	d->mode = DASH_MODE_MAIN;
	dash_message(d, "terminating all workers, then quitting");
	return DASH_REDRAW | (d->finished ? DASH_QUIT : 0);
}

static const struct dash_binding quit_keys[] = {
	{'j', "j", "join all: finish the items in hand, then quit", key_quit_join},
	{'J', NULL, NULL, key_quit_join},
	{'t', "t", "terminate all now (--term-seq), then quit", key_quit_terminate},
	{'T', NULL, NULL, key_quit_terminate},
	{KEY_ESC, "Esc n c q", "cancel", key_back},
	{'n', NULL, NULL, key_back},
	{'c', NULL, NULL, key_back},
	{'q', NULL, NULL, key_back},
	{0, NULL, NULL, NULL},
};

static const struct dash_binding terminate_keys[] = {
	{'y', "y T Enter", "terminate all workers", key_terminate_all_yes},
	{'T', NULL, NULL, key_terminate_all_yes},
	{'\r', NULL, NULL, key_terminate_all_yes},
	{'\n', NULL, NULL, key_terminate_all_yes},
	{KEY_ENTER, NULL, NULL, key_terminate_all_yes},
	{KEY_ESC, "Esc n q", "cancel", key_back},
	{'n', NULL, NULL, key_back},
	{'q', NULL, NULL, key_back},
	{0, NULL, NULL, NULL},
};

/* Keys that work in every mode. */
static const struct dash_binding global_keys[] = {
	{CTRL_C, "Ctrl-C", "join all; again: terminate all; a third time: kill all", key_ctrl_c},
	{0, NULL, NULL, NULL},
};

const struct dash_mode_def dash_modes[] = {
	[DASH_MODE_MAIN] = {"the workers", view_main_draw, main_keys},
	[DASH_MODE_HELP] = {"help", view_help_draw, help_keys},
	[DASH_MODE_DETAIL] = {"a worker's detail", view_detail_draw, detail_keys},
	[DASH_MODE_CONFIRM_QUIT] = {"the quit dialog", view_quit_draw, quit_keys},
	[DASH_MODE_CONFIRM_TERMINATE] = {"the terminate-all dialog", view_terminate_draw,
					 terminate_keys},
	[DASH_MODE_LOG] = {"the event log", view_log_full_draw, log_keys},
};
const size_t dash_nmodes = ARRAY_SIZE(dash_modes);
const struct dash_binding *const dash_global_keys = global_keys;

static int dash_dispatch(const struct dash_binding *b, struct dash *d, int key, bool *found)
{
	for (; b->fn; b++) {
		if (b->key == key) {
			*found = true;
			return b->fn(d, key);
		}
	}
	return DASH_REDRAW_NONE;
}

int dash_key(struct dash *d, int key)
{
	if (key == KEY_RESIZE)
		return DASH_REDRAW;
	bool found = false;
	int r = dash_dispatch(global_keys, d, key, &found);
	if (found)
		return r;
	r = dash_dispatch(dash_modes[d->mode].keys, d, key, &found);
	/* Said, not ignored: a user of htop tries F-keys, letters and / first. (Not punctuation
	 * or digits: the pieces of an escape sequence split by a slow read are those.) */
	bool sayable = (key >= KEY_F(1) && key <= KEY_F(24)) || (key < 128 && isalpha(key)) ||
		       key == '/' || key == '\\';
	if (!found && d->mode == DASH_MODE_MAIN && sayable) {
		const char *name = keyname(key);
		dash_message(d, "%s: no such key here; ? or F1 lists the keys",
			     name ? name : "key");
		return DASH_REDRAW;
	}
	return r;
}
