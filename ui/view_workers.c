/* The worker table: one row per slot, its cells from the column table (format.h). Columns drop
 * out by usefulness on a narrow screen; ITEM takes what is left. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "dash.h"
#include "format.h"
#include "util.h"

static void put_cell(const char *text, int width, bool right, int attr)
{
	char cell[64];
	snprintf(cell, sizeof(cell), right ? "%*.*s " : "%-*.*s ", width, width, text);
	attron(attr);
	addstr(cell);
	attroff(attr);
}

/* The HOST column's width: 0 when no row has a host (a batch on one machine), else the
 * longest name, at least the title's, at most HOST_MAX_WIDTH. */
#define HOST_MAX_WIDTH 16

static int host_width(const struct dash *d)
{
	int hw = 0;
	for (unsigned i = 0; i < d->nrows; i++)
		hw = MAX(hw, (int)strlen(d->rows[i].host));
	return hw ? MIN(MAX(hw, 4), HOST_MAX_WIDTH) : 0;
}

static void draw_row(struct dash *d, unsigned i, int y, int x, int w, const bool show[NCOLUMNS],
		     int hw)
{
	const struct view_row *v = &d->rows[i];
	bool sel = i == d->selected;
	move(y, x);
	if (sel)
		attron(A_REVERSE);
	addch(sel ? '>' : ' ');
	addch(d->tagged[i] ? '*' : ' ');
	if (hw)
		put_cell(v->host, hw, false, sel ? 0 : dash_attr(d, DASH_COLOR_DIM));
	char t[64];
	for (int c = 0; c < NCOLUMNS; c++) {
		if (!show[c])
			continue;
		enum tone tone = columns[c].format(v, t, sizeof(t));
		put_cell(t, columns[c].width, columns[c].right, sel ? 0 : dash_tone_attr(d, tone));
	}
	int cx = getcurx(stdscr);
	int left = w - (cx - x);
	if (left > 0 && v->start_failing) {
		/* Why its job does not start says more than the item it waits with; the
		 * event log has it in words. */
		char b[96];
		const char *name = strerrorname_np(-v->start_err);
		snprintf(b, sizeof(b), "%s(%s) try %u", name ? name : "?", v->start_call,
			 v->start_retries);
		addnstr(b, left);
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
	} else if (left > 0 && v->state == VIEW_BACKOFF) {
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

/* What the table's order and filter are, for the title row: "sorted by AGE  filter hung: 2 of
 * 48", or "" in slot order with every row. */
void dash_arrangement_text(const struct dash *d, char *buf, size_t len)
{
	const struct rows_arrangement *a = &d->arrange;
	buf[0] = '\0';
	size_t n = 0;
	if (a->sort != COL_NUM || a->invert)
		n = (size_t)snprintf(buf, len, "sorted by %s%s", columns[a->sort].title,
				     a->invert ? " (inverted)" : "");
	if (a->filter[0] && n < len)
		snprintf(buf + n, len - n, "%sfilter \"%s\": %u of %u", n ? "  " : "", a->filter,
			 d->norder, d->nrows);
}

void view_workers_draw(struct dash *d, int y, int x, int h, int w)
{
	bool show[NCOLUMNS];
	/* A view across machines: which host each worker runs on, first. */
	int hw = host_width(d);
	columns_fit(hw ? w - hw - 1 : w, d->jobs, show);
	move(y, x);
	attron(A_BOLD | A_UNDERLINE);
	addstr("  ");
	if (hw)
		put_cell("HOST", hw, false, 0);
	for (int c = 0; c < NCOLUMNS; c++) {
		if (!show[c])
			continue;
		/* The sort column's title in reverse, as htop marks it. */
		bool sorted = (enum column)c == d->arrange.sort &&
			      (d->arrange.sort != COL_NUM || d->arrange.invert);
		put_cell(columns[c].title, columns[c].width, columns[c].right,
			 sorted ? A_REVERSE : 0);
	}
	/* When the header has no line for it. */
	char how[160] = "";
	if (!d->header_says_order)
		dash_arrangement_text(d, how, sizeof(how));
	int cx0 = getcurx(stdscr), room = x + w - cx0;
	int hl = (int)strlen(how);
	for (int cx = cx0, i = 0; cx < x + w; cx++, i++) {
		/* ITEM at the left of its column, the order and filter at the right. */
		int from_end = x + w - cx;
		if (hl && room >= hl + 6 && from_end <= hl)
			addch((unsigned char)how[hl - from_end]);
		else
			addch(i < 4 ? "ITEM"[i] : ' ');
	}
	attroff(A_BOLD | A_UNDERLINE);

	unsigned rows = h > 1 ? (unsigned)(h - 1) : 0;
	d->table_rows = rows;
	d->table_y = y + 1;
	/* Keep the selection in view. */
	unsigned sel = dash_selected_pos(d);
	if (sel < d->norder) {
		if (sel < d->top)
			d->top = sel;
		if (rows && sel >= d->top + rows)
			d->top = sel - rows + 1;
	}
	if (d->top + rows > d->norder)
		d->top = d->norder > rows ? d->norder - rows : 0;
	for (unsigned r = 0; r < rows && d->top + r < d->norder; r++)
		draw_row(d, d->order[d->top + r], y + 1 + (int)r, x, w, show, hw);
	if (!d->norder && d->nrows && rows) {
		char b[128];
		snprintf(b, sizeof(b), "  no worker matches the filter \"%s\" (\\ Esc clears it)",
			 d->arrange.filter);
		attron(dash_attr(d, DASH_COLOR_DIM));
		mvaddnstr(y + 1, x, b, w);
		attroff(dash_attr(d, DASH_COLOR_DIM));
	}
}
