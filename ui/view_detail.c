/* A worker's detail: its state, the item it runs and for how long, its recent items with exit
 * codes and runtimes (one selected, to open: item_draw), its latest output and the tail of
 * its stderr. And one item opened from there: its command line, exit, times, output, stderr. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dash.h"
#include "format.h"
#include "exitcode.h"
#include "util.h"

/* Draw text's last lines that fit in rows, each cut to w, control bytes escaped. */
static int draw_tail(const char *text, size_t len, int y, int x, int rows, int w)
{
	if (rows <= 0)
		return 0;
	/* Find where the last `rows` lines start. */
	size_t start = len;
	int lines = 0;
	if (start && text[start - 1] == '\n')
		start--;
	while (start > 0 && lines < rows) {
		if (text[start - 1] == '\n' && ++lines == rows)
			break;
		start--;
	}
	int drawn = 0;
	while (start < len && drawn < rows) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t n = nl ? (size_t)(nl - (text + start)) : len - start;
		move(y + drawn, x);
		dash_put_clean(text + start, n, w);
		drawn++;
		start += n + 1;
	}
	return drawn;
}

/* Whose CPU, memory and state the row shows, and how many processes that is. */
static void proc_line(const struct view_row *v, char *line, size_t len)
{
	if (!v->proc_known) {
		snprintf(line, len, "processes: not measured yet");
		return;
	}
	char rss[16], who[64];
	format_bytes(rss, sizeof(rss), v->rss_bytes);
	if (v->proc_job)
		snprintf(who, sizeof(who), "job group %d, %u process%s", (int)v->job_pid,
			 v->job_procs, v->job_procs == 1 ? "" : "es");
	else
		snprintf(who, sizeof(who), "worker process %d", (int)v->pid);
	snprintf(line, len, "%s: %c (%s)  CPU %.0f%%  RSS %s", who,
		 v->proc_state ? v->proc_state : '?', format_proc_state(v->proc_state),
		 v->cpu_percent, rss);
}

/* The columns dash_put_clean gives byte c. */
static int clean_width(unsigned char c)
{
	if (c >= 0x20 && c < 0x7f)
		return 1;
	return c == '\n' || c == '\t' ? 2 : 4;
}

/* Draw s (n bytes, escaped) from the cursor, on the same row (y) and then from column x on up to
 * max_rows rows of w columns in all. Returns the bytes drawn. */
static size_t draw_wrapped(const char *s, size_t n, int y, int x, int w, int max_rows)
{
	int col = getcurx(stdscr), row = 0;
	size_t i = 0;
	for (; i < n; i++) {
		int k = clean_width((unsigned char)s[i]);
		if (col + k > x + w) {
			if (++row >= max_rows)
				break;
			move(y + row, x);
			col = x;
		}
		dash_put_clean(s + i, 1, k);
		col += k;
	}
	return i;
}

/* " (N bytes)" after a text cut short of its whole length. */
static void draw_whole_length(size_t shown, uint64_t whole, int x, int w)
{
	char line[48];
	if (whole <= shown)
		return;
	snprintf(line, sizeof(line), " ... (%llu bytes)", (unsigned long long)whole);
	addnstr(line, MAX(0, x + w - getcurx(stdscr)));
}

/* The item the worker runs now (as much as the snapshot has of it, on up to two rows) and how
 * long it has run. Returns the rows used. */
static int draw_current(struct dash *d, const struct view_row *v, int y, int x, int w)
{
	char line[128], t[32];
	if (!v->cur_seq) {
		mvaddnstr(y, x, "current item: none", w);
		return 1;
	}
	format_duration(t, sizeof(t), v->age_ns);
	snprintf(line, sizeof(line),
		 "current item %llu, running %s%s: ", (unsigned long long)v->cur_seq, t,
		 v->hung ? " (HUNG)" : "");
	attron(dash_attr(d, v->hung ? DASH_COLOR_HUNG : DASH_COLOR_BUSY));
	mvaddnstr(y, x, line, w);
	attroff(dash_attr(d, v->hung ? DASH_COLOR_HUNG : DASH_COLOR_BUSY));
	size_t n = MIN(v->cur_item_len, sizeof(v->cur_item));
	size_t drawn = draw_wrapped(v->cur_item, n, y, x, w, 2);
	draw_whole_length(drawn, v->cur_len, x, w);
	return getcury(stdscr) - y + 1;
}

/* Which of the recent items is selected: the one kept by its seq while it is listed, else the
 * same place in the list. The list as drawn is kept for the keys. */
static unsigned detail_select(struct dash *d, const struct view_detail *det)
{
	unsigned sel = det->nrecent ? MIN(d->detail_sel, det->nrecent - 1) : 0;
	for (unsigned i = 0; i < det->nrecent; i++) {
		d->detail_seqs[i] = det->recent[i].seq;
		if (d->detail_seq && det->recent[i].seq == d->detail_seq)
			sel = i;
	}
	d->detail_n = det->nrecent;
	d->detail_sel = sel;
	return sel;
}

static void item_draw(struct dash *d, int y, int x, int h, int w);

void view_detail_draw(struct dash *d, int y, int x, int h, int w)
{
	if (!d->nrows) {
		mvaddnstr(y, x, "no worker", w);
		return;
	}
	if (d->item_open) {
		item_draw(d, y, x, h, w);
		return;
	}
	const struct view_row *v = &d->rows[d->selected];
	static struct view_detail det;
	view_detail(d->view, v->index, &det);
	char line[512], code[64] = "-";
	if (v->has_exit)
		exitcode_describe(v->last_exit, v->last_core, code, sizeof(code));
	move(y, x);
	attron(dash_attr(d, DASH_COLOR_TITLE));
	snprintf(line, sizeof(line), "worker %u", v->index);
	addnstr(line, w);
	attroff(dash_attr(d, DASH_COLOR_TITLE));
	char pid[48];
	if (v->pid > 0)
		snprintf(pid, sizeof(pid), "pid %d", (int)v->pid);
	else
		snprintf(pid, sizeof(pid), "no process (last pid %d)", (int)v->last_pid);
	/* A HUNG item spinning is a loop; sleeping, a wait: the first thing to know. */
	char state[48];
	const char *how = v->proc_known ? format_hung_how(v->proc_state) : NULL;
	if (v->hung && how)
		snprintf(state, sizeof(state), "HUNG, %s", how);
	else
		snprintf(state, sizeof(state), "%s", v->hung ? "HUNG" : view_state_name(v->state));
	snprintf(line, sizeof(line), "  %s  %s%s  restarts %u  done %llu  failed %llu  %.1f/s", pid,
		 state, v->fini_ran ? " (fini ran)" : "", v->restarts, (unsigned long long)v->done,
		 (unsigned long long)v->failed, v->rate);
	addnstr(line, MAX(0, w - getcurx(stdscr)));
	snprintf(line, sizeof(line), "last exit: %s%s%s", code, v->has_exit ? ", cause: " : "",
		 v->has_exit ? view_cause_name(v->last_cause) : "");
	mvaddnstr(y + 1, x, line, w);
	proc_line(v, line, sizeof(line));
	mvaddnstr(y + 2, x, line, w);
	int row = y + 3;
	row += draw_current(d, v, row, x, w);
	row++;
	int budget = h - (row - y) - 1;
	int recent_rows = MIN((int)det.nrecent, MAX(3, budget / 3));
	unsigned sel = detail_select(d, &det);
	int first = (int)sel >= recent_rows ? (int)sel - recent_rows + 1 : 0;
	mvaddnstr(row++, x, "recent items, newest first: Up/Down selects, Enter opens", w);
	attron(A_UNDERLINE);
	mvaddnstr(row++, x, "       SEQ  EXIT              TIME  ITEM", w);
	attroff(A_UNDERLINE);
	for (int i = first; i < first + recent_rows && row < y + h; i++) {
		const struct view_history *e = &det.recent[i];
		move(row, x);
		if ((unsigned)i == sel) {
			/* The selected row, marked across its width. */
			attron(A_REVERSE);
			hline(' ', w);
			attroff(A_REVERSE);
		}
		attr_t mark = (unsigned)i == sel ? A_REVERSE : A_NORMAL;
		attron(mark);
		char c[48], t[32];
		exitcode_format(e->exitcode, e->core, c, sizeof(c));
		format_duration(t, sizeof(t), e->runtime_ns);
		snprintf(line, sizeof(line), "%c%9llu  ", (unsigned)i == sel ? '>' : ' ',
			 (unsigned long long)e->seq);
		mvaddnstr(row, x, line, w);
		attron(dash_tone_attr(d, exit_tone(e->exitcode)));
		snprintf(line, sizeof(line), "%-16.16s", c);
		addnstr(line, MAX(0, w - getcurx(stdscr)));
		attroff(dash_tone_attr(d, exit_tone(e->exitcode)));
		snprintf(line, sizeof(line), "%6s  ", t);
		addnstr(line, MAX(0, w - getcurx(stdscr)));
		int left = w - getcurx(stdscr);
		if (left > 0)
			dash_put_clean(e->item, MIN(e->item_len, sizeof(e->item)), left);
		attroff(mark);
		row++;
	}
	row++;
	int rest = y + h - row - 1;
	int out_rows = MAX(1, rest / 2 - 1);
	snprintf(line, sizeof(line), "last output (item %llu):", (unsigned long long)det.out_seq);
	mvaddnstr(row++, x, det.out_seq ? line : "last output: none", w);
	row += draw_tail(det.out, det.out_len, row, x + 2, out_rows, w - 2);
	row++;
	if (row < y + h - 1) {
		mvaddnstr(row++, x, det.err_len ? "stderr (latest):" : "stderr: nothing", w);
		draw_tail(det.err, det.err_len, row, x + 2, y + h - 1 - row, w - 2);
	}
	mvaddnstr(
		y + h - 1, x,
		"Up/Down: select an item   Enter: open it   PgUp/PgDn: another worker   Esc: back",
		w);
}

/* "started 13:05:01.250" for a time in seconds since the epoch. */
static void format_start(char *buf, size_t len, double t)
{
	time_t secs = (time_t)t;
	struct tm tm;
	char hms[32];
	if (!localtime_r(&secs, &tm) || !strftime(hms, sizeof(hms), "%Y-%m-%d %H:%M:%S", &tm)) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, "%s.%03d", hms, (int)((t - (double)secs) * 1000));
}

static void item_draw(struct dash *d, int y, int x, int h, int w)
{
	static struct view_detail det;
	static struct view_item it;
	char line[256], t[32], code[48], words[96], start[48];
	/* The worker's list again, for Up/Down to go on from this item. */
	if (view_detail(d->view, d->item_slot, &det) == 0) {
		d->detail_seq = d->item_seq;
		detail_select(d, &det);
	}
	move(y, x);
	attron(dash_attr(d, DASH_COLOR_TITLE));
	snprintf(line, sizeof(line), "worker %u: item %llu", d->item_slot,
		 (unsigned long long)d->item_seq);
	addnstr(line, w);
	attroff(dash_attr(d, DASH_COLOR_TITLE));
	snprintf(line, sizeof(line), "Up/Down: newer / older item   Esc/Enter: back to worker %u",
		 d->item_slot);
	mvaddnstr(y + h - 1, x, line, w);
	if (view_item(d->view, d->item_slot, d->item_seq, &it) < 0) {
		snprintf(line, sizeof(line),
			 "item %llu is no longer among the worker's last %d items",
			 (unsigned long long)d->item_seq, VIEW_HISTORY);
		mvaddnstr(y + 2, x, line, w);
		return;
	}
	int row = y + 2;
	mvaddnstr(row, x, "item: ", w);
	size_t drawn = draw_wrapped(it.item, MIN(it.item_len, sizeof(it.item)), row, x, w, 2);
	draw_whole_length(drawn, it.item_len, x, w);
	row = getcury(stdscr) + 1;
	if (it.cmd_len) {
		mvaddnstr(row, x, "command: ", w);
		drawn = draw_wrapped(it.cmd, it.cmd_len, row, x, w, 3);
		if (it.cmd_cut || drawn < it.cmd_len)
			addnstr(" ...", MAX(0, x + w - getcurx(stdscr)));
		row = getcury(stdscr) + 1;
	}
	exitcode_format(it.h.exitcode, it.h.core, code, sizeof(code));
	exitcode_describe(it.h.exitcode, it.h.core, words, sizeof(words));
	mvaddnstr(row, x, "exit: ", w);
	attron(dash_tone_attr(d, exit_tone(it.h.exitcode)));
	addnstr(code, MAX(0, x + w - getcurx(stdscr)));
	attroff(dash_tone_attr(d, exit_tone(it.h.exitcode)));
	snprintf(line, sizeof(line), " (%s)%s%s", words,
		 it.timed_out ? ", stopped by --timeout" : "", it.h.done ? "" : ", failed");
	addnstr(line, MAX(0, x + w - getcurx(stdscr)));
	row++;
	format_duration(t, sizeof(t), it.h.runtime_ns);
	format_start(start, sizeof(start), it.start);
	snprintf(line, sizeof(line), "started %s   ran %s   worker pid %d   attempt %u", start, t,
		 (int)it.h.pid, it.attempts);
	mvaddnstr(row++, x, line, w);
	row++;
	int rest = y + h - 1 - row;
	int out_rows = MAX(1, rest / 2 - 1);
	if (it.out_total)
		snprintf(line, sizeof(line),
			 "output (%llu bytes%s):", (unsigned long long)it.out_total,
			 it.out_total > it.out_len ? ", the last shown" : "");
	mvaddnstr(row++, x, it.out_total ? line : "output: none", w);
	row += draw_tail(it.out, it.out_len, row, x + 2, out_rows, w - 2);
	row++;
	if (row >= y + h - 1)
		return;
	if (it.err_total)
		snprintf(line, sizeof(line),
			 "stderr (%llu bytes%s%s):", (unsigned long long)it.err_total,
			 it.err_cut ? " kept, more was cut" : "",
			 it.err_total > it.err_len ? ", the last shown" : "");
	mvaddnstr(row++, x, it.err_total ? line : "stderr: none", w);
	draw_tail(it.err, it.err_len, row, x + 2, y + h - 1 - row, w - 2);
}
