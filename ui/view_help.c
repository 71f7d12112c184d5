/* The help screen: every mode's keys (from the key tables) and the exit-code legend. */
#include <stdio.h>

#include "dash.h"
#include "util.h"

void view_help_draw(struct dash *d, int y, int x, int h, int w)
{
	int row = y;
	attron(dash_attr(d, DASH_COLOR_TITLE));
	mvaddnstr(row++, x, "pooltop help: keys", w);
	attroff(dash_attr(d, DASH_COLOR_TITLE));
	char line[256];
	/* Every mode's keys, from the key tables themselves; not the dialogs', which show their
	 * keys themselves (and would push the exit-code legend off a 36-row screen). */
	for (size_t m = 0; m <= dash_nmodes && row < y + h; m++) {
		if (m == DASH_MODE_CONFIRM_QUIT || m == DASH_MODE_CONFIRM_TERMINATE)
			continue;
		const struct dash_binding *b =
			m < dash_nmodes ? dash_modes[m].keys : dash_global_keys;
		if (m > 0) {
			snprintf(line, sizeof(line),
				 "in %s:", m < dash_nmodes ? dash_modes[m].name : "every mode");
			mvaddnstr(row++, x, line, w);
		}
		for (; b->fn && row < y + h; b++) {
			if (!b->keys)
				continue;
			snprintf(line, sizeof(line), "  %-28s %s", b->keys, b->what);
			mvaddnstr(row++, x, line, w);
		}
	}
	row++;
	static const struct {
		const char *code, *what;
		enum dash_color color;
	} legend[] = {
		{"0", "success", DASH_COLOR_OK},
		{"N>0", "the process exited with status N (exit(300) shows 44)", DASH_COLOR_EXIT},
		{"-N",
		 "killed by signal N: -15 SIGTERM, -9 SIGKILL, -11 SIGSEGV; a shell shows 128+N",
		 DASH_COLOR_SIGNAL},
	};
	if (row < y + h) {
		attron(dash_attr(d, DASH_COLOR_TITLE));
		mvaddnstr(row++, x, "exit codes (Python's Process.exitcode)", w);
		attroff(dash_attr(d, DASH_COLOR_TITLE));
	}
	for (size_t i = 0; i < ARRAY_SIZE(legend) && row < y + h; i++) {
		move(row++, x);
		addstr("  ");
		attron(dash_attr(d, legend[i].color));
		snprintf(line, sizeof(line), "%-5s", legend[i].code);
		addnstr(line, w - 2);
		attroff(dash_attr(d, legend[i].color));
		addnstr(legend[i].what, MAX(0, w - 8));
	}
	if (row + 1 < y + h) {
		snprintf(
			line, sizeof(line),
			"HUNG: busy on one item longer than %.1fs (--hang-after, or 10x the median "
			"item time, at least 5s)",
			(double)d->totals.hang_after_ns / 1e9);
		mvaddnstr(++row, x, line, w);
	}
	mvaddnstr(y + h - 1, x, "Esc or ?: back", w);
}
