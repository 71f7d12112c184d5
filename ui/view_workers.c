/* The worker table: one row per slot. Columns drop out right to left on a narrow screen; ITEM
 * takes what is left. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "dash.h"
#include "exitcode.h"
#include "util.h"

enum col {
	C_NUM,
	C_PID,
	C_STATE,
	C_EXIT,
	C_JOB,
	C_DONE,
	C_FAIL,
	C_RATE,
	C_CPU,
	C_RSS,
	C_AGE,
	C_RST,
	NCOL
};

static const struct {
	const char *title;
	int width;
	bool right;
} cols[NCOL] = {
	[C_NUM] = {"#", 4, true},	[C_PID] = {"PID", 8, true},
	[C_JOB] = {"JOB", 8, true},	[C_STATE] = {"STATE", 9, false},
	[C_EXIT] = {"EXIT", 15, false}, [C_DONE] = {"DONE", 7, true},
	[C_FAIL] = {"FAIL", 6, true},	[C_RATE] = {"RATE", 7, true},
	[C_CPU] = {"CPU%", 6, true},	[C_RSS] = {"RSS", 6, true},
	[C_AGE] = {"AGE", 7, true},	[C_RST] = {"RST", 4, true},
};

/* Columns shown at a width: the most useful first. */
static const enum col order[] = {C_NUM,	 C_PID, C_STATE, C_EXIT, C_JOB, C_DONE,
				 C_FAIL, C_AGE, C_CPU,	 C_RATE, C_RSS, C_RST};

/* JOB, the PID of the command a worker runs, only when the workers run commands. */
static void shown_columns(int w, bool jobs, bool show[NCOL])
{
	int used = 2 + 12; /* the marker, and at least 12 for ITEM */
	memset(show, 0, NCOL * sizeof(show[0]));
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		if (order[i] == C_JOB && !jobs)
			continue;
		int cw = cols[order[i]].width + 1;
		if (used + cw > w)
			break;
		show[order[i]] = true;
		used += cw;
	}
}

static void put_cell(const char *text, int width, bool right, int attr)
{
	char cell[64];
	snprintf(cell, sizeof(cell), right ? "%*.*s " : "%-*.*s ", width, width, text);
	attron(attr);
	addstr(cell);
	attroff(attr);
}

static void human_bytes(char *buf, size_t len, uint64_t b)
{
	if (b >= (1ULL << 30))
		snprintf(buf, len, "%.1fG", (double)b / (1ULL << 30));
	else if (b >= (1ULL << 20))
		snprintf(buf, len, "%.1fM", (double)b / (1ULL << 20));
	else
		snprintf(buf, len, "%lluK", (unsigned long long)(b >> 10));
}

static void draw_row(struct dash *d, unsigned i, int y, int x, int w, const bool show[NCOL])
{
	const struct pool_slot_view *v = &d->views[i];
	bool sel = i == d->selected;
	move(y, x);
	if (sel)
		attron(A_REVERSE);
	addch(sel ? '>' : ' ');
	addch(d->tagged[i] ? '*' : ' ');
	char t[64];
	for (int c = 0; c < NCOL; c++) {
		if (!show[c])
			continue;
		int attr = 0;
		t[0] = '\0';
		switch ((enum col)c) {
		case C_NUM:
			snprintf(t, sizeof(t), "%u", v->index);
			break;
		case C_PID:
			if (v->pid > 0)
				snprintf(t, sizeof(t), "%d", (int)v->pid);
			else
				snprintf(t, sizeof(t), "-");
			break;
		case C_JOB:
			if (v->job_pid > 0)
				snprintf(t, sizeof(t), "%d", (int)v->job_pid);
			else
				snprintf(t, sizeof(t), "-");
			break;
		case C_STATE:
			/* A job that cannot start (fork, pipe: EAGAIN, EMFILE...) is retried: the
			 * row says so rather than IDLE. */
			snprintf(t, sizeof(t), "%s",
				 v->hung	    ? "HUNG"
				 : v->start_failing ? "NOSTART"
						    : pool_slot_state_name(v->state));
			attr = v->hung			    ? dash_attr(d, DASH_COLOR_HUNG)
			       : v->start_failing	    ? dash_attr(d, DASH_COLOR_EXIT)
			       : v->state == POOL_SLOT_BUSY ? dash_attr(d, DASH_COLOR_BUSY)
			       : v->state == POOL_SLOT_EXITED || v->state == POOL_SLOT_EMPTY
				       ? dash_attr(d, DASH_COLOR_DIM)
			       : v->state == POOL_SLOT_BACKOFF ? dash_attr(d, DASH_COLOR_EXIT)
							       : 0;
			break;
		case C_EXIT:
			if (v->has_exit) {
				/* "(core dumped)" does not fit: the mark is "core". */
				exitcode_format(v->last_exit, false, t, sizeof(t));
				if (v->last_core)
					strncat(t, " core", sizeof(t) - strlen(t) - 1);
				attr = dash_attr(d, dash_exit_color(v->last_exit));
			} else {
				snprintf(t, sizeof(t), "-");
			}
			break;
		case C_DONE:
			snprintf(t, sizeof(t), "%llu", (unsigned long long)v->done);
			break;
		case C_FAIL:
			snprintf(t, sizeof(t), "%llu", (unsigned long long)v->failed);
			if (v->failed)
				attr = dash_attr(d, DASH_COLOR_EXIT);
			break;
		case C_RATE:
			snprintf(t, sizeof(t), v->rate >= 100 ? "%.0f" : "%.1f", v->rate);
			break;
		case C_CPU:
			if (v->pid > 0 && d->procs[i].pid == v->pid)
				snprintf(t, sizeof(t), "%.0f", d->procs[i].cpu_percent);
			break;
		case C_RSS:
			if (v->pid > 0 && d->procs[i].pid == v->pid)
				human_bytes(t, sizeof(t), d->procs[i].rss_bytes);
			break;
		case C_AGE:
			if (v->cur_seq)
				dash_format_duration(t, sizeof(t), v->age_ns);
			if (v->hung)
				attr = dash_attr(d, DASH_COLOR_HUNG);
			break;
		case C_RST:
			snprintf(t, sizeof(t), "%u", v->restarts);
			break;
		case NCOL:
			break;
		}
		put_cell(t, cols[c].width, cols[c].right, sel ? 0 : attr);
	}
	int cx = getcurx(stdscr);
	int left = w - (cx - x);
	if (left > 0 && v->start_failing) {
		/* Why its job does not start says more than the item it waits with; the
		 * event log has it in words. */
		char b[96];
		const char *name = strerrorname_np(-v->start_err);
		int n = snprintf(b, sizeof(b), "%s(%s) try %u", name ? name : "?", v->start_call,
				 v->start_retries);
		addnstr(b, left);
		left -= n;
	} else if (left > 0 && v->cur_seq) {
		char seq[32];
		int n = snprintf(seq, sizeof(seq), "%llu:", (unsigned long long)v->cur_seq);
		addnstr(seq, left);
		left -= n;
		if (left > 0) {
			int used = dash_put_clean(v->cur_item, v->cur_item_len, left);
			if (v->cur_len > v->cur_item_len && used < left)
				addnstr("...", left - used);
		}
	} else if (left > 0 && v->state == POOL_SLOT_BACKOFF) {
		char b[64];
		snprintf(b, sizeof(b), "(restart in %.1fs)", (double)v->backoff_ns / 1e9);
		addnstr(b, left);
	}
	/* Fill the rest of a selected row so the bar is whole. */
	if (sel)
		for (int cx2 = getcurx(stdscr); cx2 < x + w; cx2++)
			addch(' ');
	if (sel)
		attroff(A_REVERSE);
}

void view_workers_draw(struct dash *d, int y, int x, int h, int w)
{
	bool show[NCOL];
	shown_columns(w, d->jobs, show);
	move(y, x);
	attron(A_BOLD | A_UNDERLINE);
	addstr("  ");
	for (int c = 0; c < NCOL; c++)
		if (show[c])
			put_cell(cols[c].title, cols[c].width, cols[c].right, 0);
	for (int cx = getcurx(stdscr), i = 0; cx < x + w; cx++, i++)
		addch(i < 4 ? "ITEM"[i] : ' ');
	attroff(A_BOLD | A_UNDERLINE);

	unsigned rows = h > 1 ? (unsigned)(h - 1) : 0;
	d->table_rows = rows;
	d->table_y = y + 1;
	/* Keep the selection in view. */
	if (d->selected < d->top)
		d->top = d->selected;
	if (rows && d->selected >= d->top + rows)
		d->top = d->selected - rows + 1;
	if (d->top + rows > d->nviews)
		d->top = d->nviews > rows ? d->nviews - rows : 0;
	for (unsigned r = 0; r < rows && d->top + r < d->nviews; r++)
		draw_row(d, d->top + r, y + 1 + (int)r, x, w, show);
}
