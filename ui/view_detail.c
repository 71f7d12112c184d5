/* A worker's detail: its state, its recent items with exit codes and runtimes, its latest
 * output and the tail of its stderr. */
#include <stdio.h>
#include <string.h>

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

void view_detail_draw(struct dash *d, int y, int x, int h, int w)
{
	if (!d->nrows) {
		mvaddnstr(y, x, "no worker", w);
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
	int row = y + 4;
	int budget = h - 5;
	int recent_rows = MIN((int)det.nrecent, MAX(3, budget / 3));
	mvaddnstr(row++, x, "recent items, newest first:", w);
	attron(A_UNDERLINE);
	mvaddnstr(row++, x, "       SEQ  EXIT              TIME  ITEM", w);
	attroff(A_UNDERLINE);
	for (int i = 0; i < recent_rows && row < y + h; i++) {
		const struct view_history *e = &det.recent[i];
		char c[48], t[32];
		exitcode_format(e->exitcode, e->core, c, sizeof(c));
		format_duration(t, sizeof(t), e->runtime_ns);
		snprintf(line, sizeof(line), "%10llu  ", (unsigned long long)e->seq);
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
	mvaddnstr(y + h - 1, x, "Up/Down: another worker   Esc/Enter: back", w);
}
