/* The signal menu (F9 or s): which signal to send to the selected worker, or to the tagged
 * ones, drawn over the main screen; its keys are in keys.c. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "dash.h"
#include "util.h"

/* htop's order: the common ones first. The shortcut is the name's first letter where that is
 * free (q cancels, as in the other dialogs: QUIT is \, as Ctrl-\ in a terminal), the digit for
 * USR1 and USR2. */
const struct dash_signal dash_signals[] = {
	{SIGTERM, "TERM", 't', "terminate (as t)"},
	{SIGKILL, "KILL", 'k', "kill (as k)"},
	{SIGINT, "INT", 'i', "interrupt, as Ctrl-C in a terminal"},
	{SIGHUP, "HUP", 'h', "hang up (many daemons: reload)"},
	{SIGQUIT, "QUIT", '\\', "quit with a core dump, as Ctrl-\\"},
	{SIGUSR1, "USR1", '1', "user signal 1 (dd: print progress)"},
	{SIGUSR2, "USR2", '2', "user signal 2"},
	{SIGSTOP, "STOP", 's', "stop: the row shows STOPPED until CONT"},
	{SIGCONT, "CONT", 'c', "continue a stopped job"},
};
const size_t dash_nsignals = ARRAY_SIZE(dash_signals);

void view_signal_draw(struct dash *d, int y0, int x0, int rows, int cols)
{
	view_main_draw(d, y0, x0, rows, cols);
	char title[96];
	if (d->ntagged)
		snprintf(title, sizeof(title), "Send a signal to the %u tagged worker%s",
			 d->ntagged, d->ntagged == 1 ? "" : "s");
	else if (d->nrows && d->rows[d->selected].job_pid > 0)
		snprintf(title, sizeof(title), "Send a signal to worker %u's job (pid %d)",
			 d->selected, (int)d->rows[d->selected].job_pid);
	else if (d->nrows)
		snprintf(title, sizeof(title), "Send a signal to worker %u (pid %d)", d->selected,
			 (int)d->rows[d->selected].pid);
	else
		snprintf(title, sizeof(title), "Send a signal: no worker");
	static const char *const notes[] = {
		"to the job's process group; to the worker's when it",
		"runs no job (built-in, plugin, between two jobs)",
	};
	static const char *const foot[] = {
		"Up Down Enter: send   a key above: send at once",
		"Esc q: cancel",
	};
	int n = 1 + 1 + (int)ARRAY_SIZE(notes) + 1 + (int)dash_nsignals + 1 + (int)ARRAY_SIZE(foot);
	int w = MIN(62, cols), h = MIN(n + 2, rows);
	int y = y0 + MAX(0, (rows - h) / 2), x = x0 + MAX(0, (cols - w) / 2);
	attron(A_REVERSE);
	for (int i = 0; i < h; i++) {
		move(y + i, x);
		for (int k = 0; k < w; k++)
			addch(' ');
	}
	int row = y + 1, last = y + h - 1;
	mvaddnstr(row++, x + 2, title, w - 4);
	row++;
	for (size_t i = 0; i < ARRAY_SIZE(notes) && row < last; i++)
		mvaddnstr(row++, x + 2, notes[i], w - 4);
	row++;
	for (size_t i = 0; i < dash_nsignals && row < last; i++) {
		const struct dash_signal *s = &dash_signals[i];
		char line[96];
		snprintf(line, sizeof(line), "%c %c  %-4s %2d  %s", i == d->signal_pos ? '>' : ' ',
			 s->key, s->name, s->sig, s->what);
		/* The chosen line stands out of the box: drawn the other way round. */
		if (i == d->signal_pos)
			attroff(A_REVERSE);
		mvaddnstr(row++, x + 2, line, w - 4);
		if (i == d->signal_pos)
			attron(A_REVERSE);
	}
	row++;
	for (size_t i = 0; i < ARRAY_SIZE(foot) && row < last; i++)
		mvaddnstr(row++, x + 2, foot[i], w - 4);
	attroff(A_REVERSE);
}
