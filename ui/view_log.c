/* The event log: a pane of the latest events under the table, newest at the bottom, each cut
 * at the width; and the full-screen log (l), every event kept, whole, wrapped at word
 * boundaries, scrolled with the keys. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dash.h"
#include "format.h"
#include "util.h"

/* "HH:MM:SS ": the wall-clock time before each event. */
#define STAMP_COLS 9

/* The i-th event kept, 0 the oldest. */
static const struct dash_log_line *log_line(const struct dash *d, unsigned i)
{
	return &d->log[(d->log_pos + DASH_LOG_KEPT - d->log_n + i) % DASH_LOG_KEPT];
}

static void draw_stamp(const struct dash *d, const struct dash_log_line *l, int w)
{
	time_t secs = (time_t)l->wall;
	struct tm tm;
	localtime_r(&secs, &tm);
	char stamp[16];
	strftime(stamp, sizeof(stamp), "%H:%M:%S ", &tm);
	attron(dash_attr(d, DASH_COLOR_DIM));
	addnstr(stamp, w);
	attroff(dash_attr(d, DASH_COLOR_DIM));
}

static int line_attr(const struct dash *d, const struct dash_log_line *l)
{
	enum tone tone = l->kind == VIEW_EVENT_WORKER_EXITED ? exit_tone(l->exitcode)
			 : l->kind == VIEW_EVENT_ITEM_FAILED ? TONE_EXIT
							     : TONE_PLAIN;
	return dash_tone_attr(d, tone);
}

void view_log_draw(struct dash *d, int y, int x, int h, int w)
{
	move(y, x);
	attron(A_BOLD);
	char title[64];
	snprintf(title, sizeof(title), "-- events (%u; l: all) ", d->log_n);
	addnstr(title, w);
	for (int cx = getcurx(stdscr); cx < x + w; cx++)
		addch('-');
	attroff(A_BOLD);
	int lines = h - 1;
	unsigned n = MIN(d->log_n, (unsigned)MAX(lines, 0));
	for (unsigned i = 0; i < n; i++) {
		const struct dash_log_line *l = log_line(d, d->log_n - n + i);
		move(y + 1 + (int)i, x);
		draw_stamp(d, l, w);
		int attr = line_attr(d, l);
		attron(attr);
		dash_put_clean(l->text, strlen(l->text), w - STAMP_COLS);
		attroff(attr);
	}
}

/* --- the full-screen log --- */

/* Room for an event's text as drawn: each byte at most 4 columns (\xNN). */
#define CLEAN_MAX (sizeof(((struct dash_log_line *)0)->text) * 4 + 1)

/* s as dash_put_clean draws it (control bytes and bytes past ASCII as \n, \t, \xNN), into out;
 * returns its length, one column a byte. */
static size_t log_clean(const char *s, char *out)
{
	size_t n = 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c < 0x7f)
			out[n++] = (char)c;
		else if (c == '\n' || c == '\t')
			n += (size_t)sprintf(out + n, "\\%c", c == '\n' ? 'n' : 't');
		else
			n += (size_t)sprintf(out + n, "\\x%02x", c);
	}
	out[n] = '\0';
	return n;
}

/* The row of s (n columns) that starts at at, wrapped at w columns: its length in *len, and
 * where the next row starts. A row ends at its last space when that is past half the width. */
static size_t wrap_row(const char *s, size_t n, size_t at, size_t w, size_t *len)
{
	if (n - at <= w) {
		*len = n - at;
		return n;
	}
	for (size_t i = w; i > w / 2; i--) {
		if (s[at + i] == ' ') {
			*len = i;
			return at + i + 1;
		}
	}
	*len = w;
	return at + w;
}

/* The rows event i takes at the text width of the last draw. */
static unsigned log_height(const struct dash *d, unsigned i)
{
	char text[CLEAN_MAX];
	size_t n = log_clean(log_line(d, i)->text, text);
	size_t w = (size_t)MAX(d->log_cols, 1);
	unsigned rows = 0;
	size_t at = 0, len;
	do {
		at = wrap_row(text, n, at, w, &len);
		rows++;
	} while (at < n);
	return rows;
}

/* The first event shown when the latest is at the bottom. */
static unsigned log_last_top(const struct dash *d)
{
	unsigned top = d->log_n;
	int used = 0;
	while (top > 0) {
		int rows = (int)log_height(d, top - 1);
		if (used + rows > d->log_rows && used > 0)
			break;
		used += rows;
		top--;
	}
	return top;
}

void view_log_scroll(struct dash *d, int key)
{
	unsigned last = log_last_top(d), top = d->log_follow ? last : d->log_top;
	int used = 0;
	switch (key) {
	case KEY_UP:
		top = top ? top - 1 : 0;
		break;
	case KEY_DOWN:
		top = top < last ? top + 1 : last;
		break;
	case KEY_PPAGE:
		/* Back by the events that fill a screen above the first one shown. */
		for (unsigned moved = 0; top > 0; moved++) {
			used += (int)log_height(d, top - 1);
			if (used > d->log_rows && moved)
				break;
			top--;
		}
		break;
	case KEY_NPAGE:
		/* The first event not wholly shown comes to the top. */
		for (unsigned moved = 0; top < last; moved++) {
			used += (int)log_height(d, top);
			if (used > d->log_rows && moved)
				break;
			top++;
		}
		break;
	case KEY_HOME:
		top = 0;
		break;
	case KEY_END:
		top = last;
		break;
	}
	d->log_top = MIN(top, last);
	/* At the bottom, the newest events come into view as they happen. */
	d->log_follow = d->log_top >= last;
}

void view_log_full_draw(struct dash *d, int y, int x, int h, int w)
{
	d->log_rows = MAX(h - 2, 1);
	d->log_cols = MAX(w - STAMP_COLS, 1);
	if (d->log_follow || d->log_top >= d->log_n)
		d->log_top = log_last_top(d);
	char line[160];
	move(y, x);
	attron(dash_attr(d, DASH_COLOR_TITLE));
	if (d->log_dropped)
		snprintf(line, sizeof(line),
			 "pooltop events: %u kept, %llu earlier dropped (the last %u are kept)",
			 d->log_n, (unsigned long long)d->log_dropped, DASH_LOG_KEPT);
	else
		snprintf(line, sizeof(line), "pooltop events: all %u of the run", d->log_n);
	addnstr(line, w);
	attroff(dash_attr(d, DASH_COLOR_TITLE));
	int row = y + 1, end = y + 1 + d->log_rows;
	unsigned i = d->log_top;
	char text[CLEAN_MAX];
	for (; i < d->log_n && row < end; i++) {
		const struct dash_log_line *l = log_line(d, i);
		size_t n = log_clean(l->text, text), at = 0, len;
		int attr = line_attr(d, l);
		move(row, x);
		draw_stamp(d, l, w);
		do {
			size_t start = at;
			at = wrap_row(text, n, at, (size_t)d->log_cols, &len);
			move(row++, x + STAMP_COLS);
			attron(attr);
			addnstr(text + start, (int)len);
			attroff(attr);
		} while (at < n && row < end);
	}
	move(y + h - 1, x);
	attron(dash_attr(d, DASH_COLOR_DIM));
	snprintf(line, sizeof(line),
		 "%u-%u of %u  Up Down PgUp PgDn Home End: scroll  l Esc q: back",
		 d->log_n ? d->log_top + 1 : 0, i, d->log_n);
	addnstr(line, w - 1);
	attroff(dash_attr(d, DASH_COLOR_DIM));
}
