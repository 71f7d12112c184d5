/* Finding a worker: the sort menu (F6) and the search and filter prompts (/ and \) over the main
 * screen. */
#include <stdio.h>
#include <string.h>

#include "dash.h"
#include "util.h"

void view_sort_draw(struct dash *d, int y, int x, int rows, int cols)
{
	char text[NCOLUMNS + 3][64];
	const char *lines[NCOLUMNS + 3];
	int n = 0;
	snprintf(text[n], sizeof(text[n]), "Sort by (Enter: choose, I: invert, Esc: cancel)");
	lines[n] = text[n];
	n++;
	lines[n++] = "";
	for (int c = 0; c < NCOLUMNS; c++) {
		bool now = (enum column)c == d->arrange.sort;
		snprintf(text[n], sizeof(text[n]), "%c %-6s %s", now ? '*' : ' ', columns[c].title,
			 column_most_first((enum column)c) ? "the most first" : "ascending");
		lines[n] = text[n];
		n++;
	}
	dash_dialog_draw(d, y, x, rows, cols, lines, n, (int)d->menu_pos + 2);
}

void view_prompt_draw(struct dash *d, int y, int x, int rows, int cols)
{
	view_main_draw(d, y, x, rows, cols);
	char line[256];
	if (d->mode == DASH_MODE_SEARCH) {
		bool found = !d->entry[0] || rows_search(d->rows, d->order, d->norder,
							 dash_selected_pos(d), d->entry) >= 0;
		snprintf(line, sizeof(line), "Search ITEM: %s_%s  (F3: next, Enter Esc: done)",
			 d->entry, found ? "" : "  not found");
	} else {
		snprintf(line, sizeof(line),
			 "Filter, a state or item text: %s_  (%u of %u shown; Enter: keep, Esc: "
			 "clear)",
			 d->entry, d->norder, d->nrows);
	}
	move(y + rows - 1, x);
	clrtoeol();
	attron(A_BOLD);
	addnstr(line, cols - 1);
	attroff(A_BOLD);
}
