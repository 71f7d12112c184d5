/* The keys that find a worker: h (the next HUNG one), sorting (< > F6 I), the search (/ F3) and
 * the filter (\ F4), with the sort menu's and the prompts' key tables. The table's order itself
 * is rows.c's. */
#include <stdio.h>
#include <string.h>

#include "dash.h"
#include "util.h"

#define KEY_ESC 27

/* h: the next HUNG worker after the selected one, round the table; the header's count of hung
 * workers says when there is one to find. */
int dash_key_next_hung(struct dash *d, int key)
{
	(void)key;
	unsigned n = d->norder, from = dash_selected_pos(d);
	for (unsigned k = 1; k <= n; k++) {
		unsigned p = (from + k) % n;
		if (d->rows[d->order[p]].hung) {
			d->selected = d->order[p];
			return DASH_REDRAW;
		}
	}
	dash_message(d,
		     d->totals.hung && d->arrange.filter[0]
			     ? "no HUNG worker among the rows shown: \\ then Esc clears the filter"
			     : "no worker is HUNG");
	return DASH_REDRAW;
}

/* --- sort, search, filter --- */

static void say_sort(struct dash *d)
{
	enum column c = d->arrange.sort;
	bool most = column_most_first(c) != d->arrange.invert;
	dash_message(d, "sorted by %s, %s (< > F6: another column, I: invert)", columns[c].title,
		     c == COL_NUM && !d->arrange.invert ? "in slot order"
		     : most				? "the most first"
							: "ascending");
}

/* < and >: the previous or next column to sort by (JOB only when there is one). */
int dash_key_sort_step(struct dash *d, int key)
{
	int c = (int)d->arrange.sort;
	do
		c = (c + (key == '<' ? NCOLUMNS - 1 : 1)) % NCOLUMNS;
	while (c == COL_JOB && !d->jobs);
	d->arrange.sort = (enum column)c;
	dash_arrange(d);
	say_sort(d);
	return DASH_REDRAW;
}

int dash_key_sort_invert(struct dash *d, int key)
{
	(void)key;
	d->arrange.invert = !d->arrange.invert;
	dash_arrange(d);
	say_sort(d);
	return DASH_REDRAW;
}

int dash_key_sort_menu(struct dash *d, int key)
{
	(void)key;
	d->menu_pos = (unsigned)d->arrange.sort;
	d->mode = DASH_MODE_SORT;
	return DASH_REDRAW;
}

static int key_sort_menu_move(struct dash *d, int key)
{
	unsigned p = d->menu_pos;
	if (key == KEY_UP)
		p = p ? p - 1 : NCOLUMNS - 1;
	else
		p = p + 1 < NCOLUMNS ? p + 1 : 0;
	d->menu_pos = p;
	return DASH_REDRAW;
}

static int key_sort_menu_choose(struct dash *d, int key)
{
	(void)key;
	d->arrange.sort = (enum column)d->menu_pos;
	d->mode = DASH_MODE_MAIN;
	dash_arrange(d);
	say_sort(d);
	return DASH_REDRAW;
}

/* Select the first row at or after position from whose item holds the text searched for. */
static bool search_from(struct dash *d, unsigned from)
{
	int p = rows_search(d->rows, d->order, d->norder, from, d->search);
	if (p < 0)
		return false;
	d->selected = d->order[p];
	return true;
}

int dash_key_search(struct dash *d, int key)
{
	/* F3 with a search made: the next match, as htop's. */
	if (key == KEY_F(3) && d->search[0]) {
		if (!search_from(d, dash_selected_pos(d) + 1))
			dash_message(d, "no ITEM holds \"%s\"", d->search);
		return DASH_REDRAW;
	}
	d->entry[0] = '\0';
	d->mode = DASH_MODE_SEARCH;
	return DASH_REDRAW;
}

int dash_key_filter(struct dash *d, int key)
{
	(void)key;
	snprintf(d->entry, sizeof(d->entry), "%s", d->arrange.filter);
	d->mode = DASH_MODE_FILTER;
	return DASH_REDRAW;
}

/* The text typed at a prompt, acted on as it is typed: the search moves to the first match,
 * the filter narrows the table. */
static void entry_changed(struct dash *d)
{
	if (d->mode == DASH_MODE_SEARCH) {
		snprintf(d->search, sizeof(d->search), "%s", d->entry);
		search_from(d, dash_selected_pos(d));
	} else {
		snprintf(d->arrange.filter, sizeof(d->arrange.filter), "%s", d->entry);
		dash_arrange(d);
	}
}

int dash_key_prompt_type(struct dash *d, int key)
{
	size_t n = strlen(d->entry);
	if (key == KEY_BACKSPACE || key == 127 || key == 8) {
		if (!n)
			return DASH_REDRAW_NONE;
		d->entry[n - 1] = '\0';
	} else if (key >= 0x20 && key < 0x7f && n + 1 < sizeof(d->entry)) {
		d->entry[n] = (char)key;
		d->entry[n + 1] = '\0';
	} else {
		return DASH_REDRAW_NONE;
	}
	entry_changed(d);
	return DASH_REDRAW;
}

static int key_search_next(struct dash *d, int key)
{
	(void)key;
	if (d->search[0] && !search_from(d, dash_selected_pos(d) + 1))
		return DASH_REDRAW_NONE;
	return DASH_REDRAW;
}

/* Enter: the search ends where it is; the filter stays. */
static int key_prompt_done(struct dash *d, int key)
{
	(void)key;
	if (d->mode == DASH_MODE_FILTER && d->arrange.filter[0])
		dash_message(d, "filter \"%s\": %u of %u workers shown (\\ then Esc clears it)",
			     d->arrange.filter, d->norder, d->nrows);
	d->mode = DASH_MODE_MAIN;
	return DASH_REDRAW;
}

/* Esc: the search ends where it is; the filter is cleared. */
static int key_prompt_cancel(struct dash *d, int key)
{
	if (d->mode == DASH_MODE_FILTER) {
		d->arrange.filter[0] = '\0';
		dash_arrange(d);
	}
	return key_prompt_done(d, key);
}

const struct dash_binding dash_sort_keys[] = {
	{KEY_UP, "Up Down", "choose a column", key_sort_menu_move},
	{KEY_DOWN, NULL, NULL, key_sort_menu_move},
	{'\r', "Enter", "sort by it", key_sort_menu_choose},
	{'\n', NULL, NULL, key_sort_menu_choose},
	{KEY_ENTER, NULL, NULL, key_sort_menu_choose},
	{'I', "I", "invert the order", dash_key_sort_invert},
	{KEY_ESC, "Esc q F6", "cancel", dash_key_back},
	{'q', NULL, NULL, dash_key_back},
	{KEY_F(6), NULL, NULL, dash_key_back},
	{0, NULL, NULL, NULL},
};

const struct dash_binding dash_search_keys[] = {
	{KEY_F(3), "F3", "the next match", key_search_next},
	{'\r', "Enter Esc", "done: the selection stays on the match", key_prompt_done},
	{'\n', NULL, NULL, key_prompt_done},
	{KEY_ENTER, NULL, NULL, key_prompt_done},
	{KEY_ESC, NULL, NULL, key_prompt_done},
	{KEY_UP, NULL, NULL, dash_key_move},
	{KEY_DOWN, NULL, NULL, dash_key_move},
	{0, NULL, NULL, NULL},
};

const struct dash_binding dash_filter_keys[] = {
	{'\r', "Enter", "keep the filter", key_prompt_done},
	{'\n', NULL, NULL, key_prompt_done},
	{KEY_ENTER, NULL, NULL, key_prompt_done},
	{KEY_ESC, "Esc", "clear the filter", key_prompt_cancel},
	{KEY_UP, NULL, NULL, dash_key_move},
	{KEY_DOWN, NULL, NULL, dash_key_move},
	{0, NULL, NULL, NULL},
};
