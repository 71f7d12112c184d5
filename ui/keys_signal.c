/* The signal menu's keys (F9, s): Up, Down and Enter, or a signal's shortcut, send it to the
 * tagged workers or the selected one (dash_act): to the job's process group while a job runs.
 * The menu's rows are view_signal.c's. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "dash.h"
#include "util.h"

#define KEY_ESC 27

static int key_signal_move(struct dash *d, int key)
{
	unsigned n = (unsigned)dash_nsignals;
	if (key == KEY_UP)
		d->signal_pos = (d->signal_pos + n - 1) % n;
	else
		d->signal_pos = (d->signal_pos + 1) % n;
	return DASH_REDRAW;
}

/* Send dash_signals[i] to the tagged workers or the selected one, and say to whom. */
static int signal_send(struct dash *d, unsigned i)
{
	const struct dash_signal *s = &dash_signals[i];
	d->mode = DASH_MODE_MAIN;
	d->signal_pos = i;
	char done[160];
	const struct view_row *v = d->nrows ? &d->rows[d->selected] : NULL;
	if (d->ntagged)
		snprintf(done, sizeof(done), "SIG%s (%d) sent to", s->name, s->sig);
	else if (v && v->job_pid > 0)
		snprintf(done, sizeof(done), "SIG%s (%d) sent to its job %d (the job's group)",
			 s->name, s->sig, (int)v->job_pid);
	else
		snprintf(done, sizeof(done), "SIG%s (%d) sent (to its process group)", s->name,
			 s->sig);
	/* The menu sends what was chosen, as is: a stopped process acts on it only once
	 * continued (t and T continue it themselves). */
	if (!d->ntagged && v && v->state == VIEW_STOPPED && s->sig != SIGKILL &&
	    s->sig != SIGCONT && s->sig != SIGSTOP)
		strncat(done, "; it is stopped: it acts on it after CONT",
			sizeof(done) - strlen(done) - 1);
	return dash_act(d, VIEW_SIGNAL, s->sig, done);
}

static int key_signal_enter(struct dash *d, int key)
{
	(void)key;
	return signal_send(d, d->signal_pos);
}

static int key_signal_shortcut(struct dash *d, int key)
{
	for (unsigned i = 0; i < dash_nsignals; i++)
		if (dash_signals[i].key == key)
			return signal_send(d, i);
	return DASH_REDRAW_NONE;
}

const struct dash_binding dash_signal_keys[] = {
	{KEY_UP, "Up Down", "choose a signal", key_signal_move},
	{KEY_DOWN, NULL, NULL, key_signal_move},
	{'\r', "Enter", "send it to the selected worker's job (or to the tagged ones)",
	 key_signal_enter},
	{'\n', NULL, NULL, key_signal_enter},
	{KEY_ENTER, NULL, NULL, key_signal_enter},
	{'t', "t k i h \\ 1 2 s c", "send TERM KILL INT HUP QUIT USR1 USR2 STOP CONT at once",
	 key_signal_shortcut},
	{'k', NULL, NULL, key_signal_shortcut},
	{'i', NULL, NULL, key_signal_shortcut},
	{'h', NULL, NULL, key_signal_shortcut},
	{'\\', NULL, NULL, key_signal_shortcut},
	{'1', NULL, NULL, key_signal_shortcut},
	{'2', NULL, NULL, key_signal_shortcut},
	{'s', NULL, NULL, key_signal_shortcut},
	{'c', NULL, NULL, key_signal_shortcut},
	{KEY_ESC, "Esc q F9", "cancel", dash_key_back},
	{'q', NULL, NULL, dash_key_back},
	{KEY_F(9), NULL, NULL, dash_key_back},
	{0, NULL, NULL, NULL},
};
