/* The event log pane: the latest events, newest at the bottom. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dash.h"
#include "format.h"
#include "util.h"

void view_log_draw(struct dash *d, int y, int x, int h, int w)
{
	move(y, x);
	attron(A_BOLD);
	char title[64];
	snprintf(title, sizeof(title), "-- events (%u) ", d->log_n);
	addnstr(title, w);
	for (int cx = getcurx(stdscr); cx < x + w; cx++)
		addch('-');
	attroff(A_BOLD);
	int lines = h - 1;
	unsigned n = MIN(d->log_n, (unsigned)MAX(lines, 0));
	for (unsigned i = 0; i < n; i++) {
		unsigned idx = (d->log_pos + DASH_LOG_KEPT - n + i) % DASH_LOG_KEPT;
		const struct dash_log_line *l = &d->log[idx];
		time_t secs = (time_t)l->wall;
		struct tm tm;
		localtime_r(&secs, &tm);
		char stamp[16];
		strftime(stamp, sizeof(stamp), "%H:%M:%S ", &tm);
		move(y + 1 + (int)i, x);
		attron(dash_attr(d, DASH_COLOR_DIM));
		addnstr(stamp, w);
		attroff(dash_attr(d, DASH_COLOR_DIM));
		enum tone tone = l->kind == VIEW_EVENT_WORKER_EXITED ? exit_tone(l->exitcode)
				 : l->kind == VIEW_EVENT_ITEM_FAILED ? TONE_EXIT
								     : TONE_PLAIN;
		int attr = dash_tone_attr(d, tone);
		attron(attr);
		dash_put_clean(l->text, strlen(l->text), w - 9);
		attroff(attr);
	}
}
