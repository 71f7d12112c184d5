/* The dashboard's keys: one table, read both by the dispatch and by the help screen. Each
 * handler returns DASH_REDRAW_* flags. A command on a worker names it with the generation the
 * screen showed, so a key never hits a process the user did not see. */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "dash.h"
#include "util.h"

#define CTRL_C	3
#define KEY_ESC 27

/* Up, Down, pages, Home, End: move the selection among the rows shown, in their order. */
int dash_key_move(struct dash *d, int key)
{
	unsigned n = d->norder;
	if (!n)
		return DASH_REDRAW_NONE;
	unsigned page = d->table_rows ? d->table_rows : 10;
	unsigned s = dash_selected_pos(d);
	if (s >= n)
		s = 0;
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
	d->selected = d->order[s];
	return DASH_REDRAW;
}

/* The selected worker when the table shows it: a key never acts on a row the user cannot see. */
bool dash_selection_shown(const struct dash *d)
{
	return dash_selected_pos(d) < d->norder;
}

static int key_mouse(struct dash *d, int key)
{
	(void)key;
	MEVENT ev;
	if (getmouse(&ev) != OK)
		return DASH_REDRAW_NONE;
	if (ev.bstate & BUTTON4_PRESSED)
		return dash_key_move(d, KEY_UP);
	if (ev.bstate & BUTTON5_PRESSED)
		return dash_key_move(d, KEY_DOWN);
	if (!(ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)))
		return DASH_REDRAW_NONE; /* a release, another button */
	int row = ev.y - d->table_y;
	if (d->mode == DASH_MODE_MAIN && row >= 0 && (unsigned)row < d->table_rows &&
	    d->top + (unsigned)row < d->norder) {
		d->selected = d->order[d->top + (unsigned)row];
		return DASH_REDRAW;
	}
	return DASH_REDRAW_NONE;
}

/* Apply cmd (with arg) to the tagged workers, or else to the selected one. */
int dash_act(struct dash *d, enum view_command cmd, int arg, const char *done)
{
	if (!d->nrows)
		return DASH_REDRAW_NONE;
	if (d->ntagged) {
		unsigned ok = 0, asked = 0, stale = 0;
		for (unsigned i = 0; i < d->nrows; i++) {
			if (!d->tagged[i])
				continue;
			int r = view_command(d->view, cmd, i, d->tagged[i], arg);
			if (r == 0)
				ok++;
			else if (r == -EINPROGRESS)
				asked++;
			else
				stale++;
			d->tagged[i] = 0;
		}
		d->ntagged = 0;
		char more[80] = "";
		if (asked)
			snprintf(more, sizeof(more), " (%u more asked, not answered yet)", asked);
		dash_message(d, "%s %u tagged worker%s%s%s", done, ok, ok == 1 ? "" : "s", more,
			     stale ? " (others were replaced or gone: left alone)" : "");
		return DASH_REDRAW;
	}
	if (!dash_selection_shown(d))
		return DASH_REDRAW_NONE;
	unsigned slot = d->selected;
	const struct view_row *v = &d->rows[slot];
	/* The generation of the row as it was drawn: a process started since is left alone. */
	int r = view_command(d->view, cmd, slot, v->generation, arg);
	if (r < 0)
		dash_message(d, "worker %u: %s", slot, view_error(r));
	else if (d->cluster)
		dash_message(d, "%s worker pid %d: asked of %s (its log says what it did): %s",
			     v->host, (int)v->pid, v->host, done);
	else
		dash_message(d, "worker %u pid %d: %s", slot, (int)v->pid, done);
	return DASH_REDRAW;
}

static int act(struct dash *d, enum view_command cmd, const char *done)
{
	return dash_act(d, cmd, 0, done);
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

/* K: kill, and run the item again as if it had never started (k fails it). */
static int key_kill_requeue(struct dash *d, int key)
{
	(void)key;
	if (!d->nrows)
		return DASH_REDRAW_NONE;
	const char *done = "SIGKILL sent, its item requeued (not counted as an attempt)";
	if (d->ntagged)
		done = "SIGKILL sent, their items requeued (not counted as attempts):";
	else if (!d->rows[d->selected].cur_seq)
		done = "SIGKILL sent (it ran no item: nothing to requeue)";
	return act(d, VIEW_REQUEUE, done);
}

/* F9 or s: the signal menu. */
static int key_signal_menu(struct dash *d, int key)
{
	(void)key;
	if (!d->nrows)
		return DASH_REDRAW_NONE;
	d->mode = DASH_MODE_SIGNAL;
	return DASH_REDRAW;
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

static int key_drain(struct dash *d, int key)
{
	(void)key;
	view_stop(d->view, VIEW_STOP_DRAIN, "D");
	dash_message(d, "draining: no new item starts; the running ones finish (those never "
			"started are not run: --resume runs them)");
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
	if (!dash_selection_shown(d))
		return DASH_REDRAW_NONE;
	int r = view_command(d->view, VIEW_RESTART, d->selected, d->rows[d->selected].generation,
			     0);
	if (r < 0)
		dash_message(d, "worker %u: %s", d->selected, view_error(r));
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
	if (r < 0 && r != -EINPROGRESS) {
		dash_message(d, "resize to %u: %s", n, view_error(r));
	} else {
		/* Several keys may come in one read: the next one starts from here. */
		d->totals.size = n;
		if (r < 0)
			dash_message(d, "pool size %u: %s", n, view_error(r));
		else
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
	if (!dash_selection_shown(d))
		return DASH_REDRAW_NONE;
	unsigned s = d->selected;
	if (d->tagged[s]) {
		d->tagged[s] = 0;
		d->ntagged--;
	} else if (d->rows[s].pid > 0) {
		d->tagged[s] = d->rows[s].generation;
		d->ntagged++;
	}
	return dash_key_move(d, KEY_DOWN);
}

static int key_detail(struct dash *d, int key)
{
	(void)key;
	d->mode = DASH_MODE_DETAIL;
	d->detail_sel = 0;
	d->detail_seq = 0;
	d->item_open = false;
	return DASH_REDRAW;
}

/* In the detail: PgUp / PgDn, the previous / next worker, its newest item selected. */
static int key_detail_worker(struct dash *d, int key)
{
	d->detail_sel = 0;
	d->detail_seq = 0;
	d->item_open = false;
	return dash_key_move(d, key == KEY_PPAGE ? KEY_UP : KEY_DOWN);
}

/* Up / Down in the detail's list of recent items (as drawn), or, with an item open, the newer
 * / older item. */
static int key_detail_item_move(struct dash *d, int key)
{
	if (!d->detail_n)
		return DASH_REDRAW_NONE;
	unsigned s = MIN(d->detail_sel, d->detail_n - 1);
	if (key == KEY_UP)
		s = s ? s - 1 : 0;
	else
		s = s + 1 < d->detail_n ? s + 1 : s;
	d->detail_sel = s;
	d->detail_seq = d->detail_seqs[s];
	if (d->item_open)
		d->item_seq = d->detail_seq;
	return DASH_REDRAW;
}

/* Enter in the detail: open the selected item; with one open, back to the list. */
static int key_open_item(struct dash *d, int key)
{
	(void)key;
	if (d->item_open) {
		d->item_open = false;
		return DASH_REDRAW;
	}
	if (!d->nrows || !d->detail_n)
		return DASH_REDRAW_NONE;
	unsigned s = MIN(d->detail_sel, d->detail_n - 1);
	d->item_slot = d->rows[d->selected].index;
	d->item_seq = d->detail_seqs[s];
	d->detail_seq = d->item_seq;
	d->item_open = true;
	return DASH_REDRAW;
}

/* Esc in the detail: the item open is closed, else back to the workers. */
static int key_detail_back(struct dash *d, int key)
{
	(void)key;
	if (d->item_open)
		d->item_open = false;
	else
		d->mode = DASH_MODE_MAIN;
	return DASH_REDRAW;
}

static int key_help(struct dash *d, int key)
{
	(void)key;
	d->help_top = 0;
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

static int key_detach(struct dash *d, int key)
{
	(void)key;
	if (!d->can_detach) {
		dash_message(d, "d: this dashboard runs the batch itself (--no-detach): q quits");
		return DASH_REDRAW;
	}
	d->detached = true;
	return DASH_QUIT;
}

static int key_quit(struct dash *d, int key)
{
	(void)key;
	if (d->finished)
		return DASH_QUIT;
	/* A viewer of someone's batch leaves it running: stopping it is T. */
	if (d->can_detach && !d->owner)
		return key_detach(d, key);
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
	/* A viewer of a batch it did not start leaves it running: stopping it is T. */
	if (d->can_detach && !d->owner)
		return key_detach(d, key);
	d->quitting = true;
	d->mode = DASH_MODE_MAIN;
	switch (view_escalate(d->view, VIEW_STOP_DRAIN, "Ctrl-C")) {
	case VIEW_STOP_NONE:
	case VIEW_STOP_JOIN:
	case VIEW_STOP_DRAIN:
		dash_message(d, "Ctrl-C: draining: no new item starts, the running ones finish, "
				"then quit (Ctrl-C again: terminate all)");
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
	{KEY_UP, "Up Down PgUp PgDn Home End", "select a worker (mouse: click, wheel)",
	 dash_key_move},
	{KEY_DOWN, NULL, NULL, dash_key_move},
	{KEY_PPAGE, NULL, NULL, dash_key_move},
	{KEY_NPAGE, NULL, NULL, dash_key_move},
	{KEY_HOME, NULL, NULL, dash_key_move},
	{KEY_END, NULL, NULL, dash_key_move},
	{KEY_MOUSE, NULL, NULL, key_mouse},
	{'h', "h", "select the next HUNG worker", dash_key_next_hung},
	{'/', "/ F3", "search ITEM (F3: the next match)", dash_key_search},
	{KEY_F(3), NULL, NULL, dash_key_search},
	{'\\', "\\ F4", "filter the rows: a state (hung, busy...) or item text", dash_key_filter},
	{KEY_F(4), NULL, NULL, dash_key_filter},
	{'<', "< > F6", "sort by the previous / next column; F6: choose", dash_key_sort_step},
	{'>', NULL, NULL, dash_key_sort_step},
	{KEY_F(6), NULL, NULL, dash_key_sort_menu},
	{'I', "I", "invert the sort order", dash_key_sort_invert},
	{'t', "t", "terminate: SIGTERM (Process.terminate(); exits -15, no fini)", key_terminate},
	{'k', "k", "kill: SIGKILL (Process.kill(); exits -9); the item fails (--retries)",
	 key_kill},
	{'K', "K", "kill and requeue: SIGKILL; the item runs again, not counted as an attempt",
	 key_kill_requeue},
	{'s', "s F9", "send a signal (TERM KILL INT HUP QUIT USR1 USR2 STOP CONT)",
	 key_signal_menu},
	{KEY_F(9), NULL, NULL, key_signal_menu},
	{'j', "j", "join: finish the item, run fini, exit 0, not respawned", key_join},
	{'J', "J", "join all: read no more input, finish what was read, quit", key_join_all},
	{'D', "D", "drain: start nothing new, finish the running items, quit (as Ctrl-C)",
	 key_drain},
	{'T', "T", "terminate all, asking first (Pool.terminate(); --term-seq); again: kill",
	 key_terminate_all},
	{'r', "r", "restart the worker (or start one in an exited slot)", key_restart},
	{'+', "+ -", "grow / shrink the pool", key_resize},
	{'-', NULL, NULL, key_resize},
	{'p', "p", "pause / resume dispatch", key_pause},
	{' ', "Space", "tag a worker: t, k, K, j, s then act on all tagged", key_tag},
	{'\r', "Enter", "detail: current and recent items (open one), output, stderr", key_detail},
	{'\n', NULL, NULL, key_detail},
	{KEY_ENTER, NULL, NULL, key_detail},
	{'l', "l", "the event log, full screen: every event, whole", key_log},
	{'?', "? F1", "this help", key_help},
	{KEY_F(1), NULL, NULL, key_help},
	{'d', "d", "detach: leave the batch running (pooltop attach NAME comes back)", key_detach},
	{'q', "q F10", "quit (asks when work remains); attached: detach", key_quit},
	{KEY_F(10), NULL, NULL, key_quit},
	{0, NULL, NULL, NULL},
};

/* Back to the workers. */
int dash_key_back(struct dash *d, int key)
{
	(void)key;
	d->mode = DASH_MODE_MAIN;
	return DASH_REDRAW;
}

static int key_help_scroll(struct dash *d, int key)
{
	unsigned page = LINES > 4 ? (unsigned)LINES - 3 : 1, t = d->help_top;
	switch (key) {
	case KEY_UP:
		t = t ? t - 1 : 0;
		break;
	case KEY_DOWN:
		t++;
		break;
	case KEY_PPAGE:
		t = t > page ? t - page : 0;
		break;
	case KEY_NPAGE:
		t += page;
		break;
	case KEY_HOME:
		t = 0;
		break;
	case KEY_END:
		t = 10000; /* the draw keeps the last page in view */
		break;
	}
	d->help_top = t;
	return DASH_REDRAW;
}

static const struct dash_binding help_keys[] = {
	{KEY_UP, "Up Down PgUp PgDn Home End", "scroll", key_help_scroll},
	{KEY_DOWN, NULL, NULL, key_help_scroll},
	{KEY_PPAGE, NULL, NULL, key_help_scroll},
	{KEY_NPAGE, NULL, NULL, key_help_scroll},
	{KEY_HOME, NULL, NULL, key_help_scroll},
	{KEY_END, NULL, NULL, key_help_scroll},
	{KEY_ESC, "Esc ? F1 q Enter Left", "back to the workers", dash_key_back},
	{'?', NULL, NULL, dash_key_back},
	{KEY_F(1), NULL, NULL, dash_key_back},
	{'q', NULL, NULL, dash_key_back},
	{'\r', NULL, NULL, dash_key_back},
	{'\n', NULL, NULL, dash_key_back},
	{KEY_ENTER, NULL, NULL, dash_key_back},
	{KEY_LEFT, NULL, NULL, dash_key_back},
	{0, NULL, NULL, NULL},
};

static const struct dash_binding detail_keys[] = {
	{KEY_UP, "Up Down Enter",
	 "select a recent item, open it (command, exit, times, output, stderr; Up Down there: "
	 "newer / older)",
	 key_detail_item_move},
	{KEY_DOWN, NULL, NULL, key_detail_item_move},
	{'\r', NULL, NULL, key_open_item},
	{'\n', NULL, NULL, key_open_item},
	{KEY_ENTER, NULL, NULL, key_open_item},
	{KEY_PPAGE, "PgUp PgDn", "the previous / next worker", key_detail_worker},
	{KEY_NPAGE, NULL, NULL, key_detail_worker},
	{KEY_ESC, "Esc q Left", "back (from an item to the list, from the list to the workers)",
	 key_detail_back},
	{'q', NULL, NULL, key_detail_back},
	{KEY_LEFT, NULL, NULL, key_detail_back},
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
	{KEY_ESC, "Esc l q Left", "back to the workers", dash_key_back},
	{'l', NULL, NULL, dash_key_back},
	{'q', NULL, NULL, dash_key_back},
	{KEY_LEFT, NULL, NULL, dash_key_back},
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

static int key_quit_drain(struct dash *d, int key)
{
	(void)key;
	view_stop(d->view, VIEW_STOP_DRAIN, "q");
	d->quitting = true;
	d->mode = DASH_MODE_MAIN;
	dash_message(d, "draining: the running items finish, then quitting");
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
	{'d', "d", "drain: finish the running items only, then quit", key_quit_drain},
	{'D', NULL, NULL, key_quit_drain},
	{'t', "t", "terminate all now (--term-seq), then quit", key_quit_terminate},
	{'T', NULL, NULL, key_quit_terminate},
	{KEY_ESC, "Esc n c q", "cancel", dash_key_back},
	{'n', NULL, NULL, dash_key_back},
	{'c', NULL, NULL, dash_key_back},
	{'q', NULL, NULL, dash_key_back},
	{0, NULL, NULL, NULL},
};

static const struct dash_binding terminate_keys[] = {
	{'y', "y T Enter", "terminate all workers", key_terminate_all_yes},
	{'T', NULL, NULL, key_terminate_all_yes},
	{'\r', NULL, NULL, key_terminate_all_yes},
	{'\n', NULL, NULL, key_terminate_all_yes},
	{KEY_ENTER, NULL, NULL, key_terminate_all_yes},
	{KEY_ESC, "Esc n q", "cancel", dash_key_back},
	{'n', NULL, NULL, dash_key_back},
	{'q', NULL, NULL, dash_key_back},
	{0, NULL, NULL, NULL},
};

/* Keys that work in every mode. */
static const struct dash_binding global_keys[] = {
	{CTRL_C, "Ctrl-C", "drain; again: terminate all; a third time: kill all (attached: detach)",
	 key_ctrl_c},
	{0, NULL, NULL, NULL},
};

const struct dash_mode_def dash_modes[] = {
	[DASH_MODE_MAIN] = {"the workers", view_main_draw, main_keys},
	[DASH_MODE_HELP] = {"help", view_help_draw, help_keys},
	[DASH_MODE_DETAIL] = {"a worker's detail", view_detail_draw, detail_keys},
	[DASH_MODE_CONFIRM_QUIT] = {"the quit dialog", view_quit_draw, quit_keys},
	[DASH_MODE_CONFIRM_TERMINATE] = {"the terminate-all dialog", view_terminate_draw,
					 terminate_keys},
	[DASH_MODE_SORT] = {"the sort menu", view_sort_draw, dash_sort_keys},
	[DASH_MODE_SEARCH] = {"the search prompt", view_prompt_draw, dash_search_keys,
			      dash_key_prompt_type},
	[DASH_MODE_FILTER] = {"the filter prompt", view_prompt_draw, dash_filter_keys,
			      dash_key_prompt_type},
	[DASH_MODE_SIGNAL] = {"the signal menu", view_signal_draw, dash_signal_keys},
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

/* The keys that act on the batch: a read-only viewer's are refused here (and by the batch). */
static bool acts(int key)
{
	return key == KEY_F(9) || (key < 128 && strchr("tkKsjJDTr+-p", key));
}

int dash_key(struct dash *d, int key)
{
	if (key == KEY_RESIZE)
		return DASH_REDRAW;
	if (d->read_only && key > 0 && d->mode == DASH_MODE_MAIN && acts(key)) {
		const char *name = keyname(key);
		dash_message(d, "%s: this viewer is read-only: it acts on nothing",
			     name ? name : "key");
		return DASH_REDRAW;
	}
	if (d->cluster && d->mode == DASH_MODE_MAIN &&
	    (key == '\n' || key == '\r' || key == KEY_ENTER)) {
		dash_message(d, "a worker's detail is not on a cluster view: its host's own "
				"dashboard (pooltop attach there) shows it");
		return DASH_REDRAW;
	}
	if (d->cluster && key > 0 && key < 128 && d->mode == DASH_MODE_MAIN &&
	    strchr("JDT+-p", key)) {
		const char *name = keyname(key);
		dash_message(d,
			     "%s: not on a cluster view: it acts on one host's run (on that host); "
			     "here, keys act on one worker",
			     name ? name : "key");
		return DASH_REDRAW;
	}
	bool found = false;
	int r = dash_dispatch(global_keys, d, key, &found);
	if (found)
		return r;
	r = dash_dispatch(dash_modes[d->mode].keys, d, key, &found);
	if (!found && dash_modes[d->mode].other)
		return dash_modes[d->mode].other(d, key);
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
