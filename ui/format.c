/* The front ends' words and numbers, without curses. See format.h. */
#include "format.h"

#include <stdio.h>
#include <string.h>

#include "exitcode.h"
#include "util.h"

void format_duration(char *buf, size_t len, uint64_t ns)
{
	double s = (double)ns / 1e9;
	if (s < 10)
		snprintf(buf, len, "%.1fs", s);
	else if (s < 3600)
		snprintf(buf, len, "%um%02us", (unsigned)(s / 60), (unsigned)s % 60);
	else
		snprintf(buf, len, "%uh%02um", (unsigned)(s / 3600), (unsigned)(s / 60) % 60);
}

void format_bytes(char *buf, size_t len, uint64_t b)
{
	if (b >= (1ULL << 30))
		snprintf(buf, len, "%.1fG", (double)b / (1ULL << 30));
	else if (b >= (1ULL << 20))
		snprintf(buf, len, "%.1fM", (double)b / (1ULL << 20));
	else
		snprintf(buf, len, "%lluK", (unsigned long long)(b >> 10));
}

void format_rate(char *buf, size_t len, double r)
{
	if (r >= 1e6)
		snprintf(buf, len, "%.1fM/s", r / 1e6);
	else if (r >= 1e4)
		snprintf(buf, len, "%.1fk/s", r / 1e3);
	else if (r >= 10)
		snprintf(buf, len, "%.0f/s", r);
	else
		snprintf(buf, len, "%.2f/s", r);
}

void format_eta(char *buf, size_t len, const struct view_totals *t)
{
	uint64_t finished = t->done + t->failed;
	uint64_t total = t->submitted;
	/* The average rate is the steadier; when nothing finishes now (all that is left hangs)
	 * there is no telling. */
	double rate = t->rate_avg;
	bool only_hung_left = t->queued == 0 && t->running > 0 && t->hung == t->running;
	if (t->input_ended && rate > 0 && total > finished && t->rate_now >= rate / 100 &&
	    !only_hung_left)
		format_duration(buf, len, (uint64_t)((double)(total - finished) / rate * 1e9));
	else if (t->input_ended && total == finished)
		snprintf(buf, len, "0s");
	else
		snprintf(buf, len, "?");
}

const char *format_run_state(const struct view_totals *t)
{
	if (t->over)
		return "FINISHED";
	if (t->finished)
		return "WRITING OUTPUT";
	if (t->closing)
		return t->paused ? "CLOSING, PAUSED" : "CLOSING";
	if (t->paused)
		return "PAUSED";
	return "RUNNING";
}

size_t format_spark(const uint32_t *vals, size_t n, bool utf8, char *buf, size_t len)
{
	static const char ascii[] = "._-~=+*#";
	uint32_t max = 0;
	for (size_t i = 0; i < n; i++)
		max = MAX(max, vals[i]);
	size_t at = 0, k = 0, mark = utf8 ? 3 : 1;
	for (; k < n && at + mark < len; k++) {
		/* 1..8, rounded up: a single item is seen. */
		unsigned level = vals[k] ? (unsigned)(((uint64_t)vals[k] * 8 + max - 1) / max) : 0;
		if (!level) {
			buf[at++] = ' ';
		} else if (utf8) {
			/* U+2580 + level, in UTF-8: E2 96 80+level. */
			buf[at++] = (char)0xe2;
			buf[at++] = (char)0x96;
			buf[at++] = (char)(0x80 + level);
		} else {
			buf[at++] = ascii[level - 1];
		}
	}
	if (len)
		buf[at] = '\0';
	return k;
}

const char *format_proc_state(char state)
{
	switch (state) {
	case 'R':
		return "running";
	case 'S':
		return "sleeping";
	case 'D':
		return "waiting on I/O";
	case 'T':
		return "stopped";
	case 't':
		return "traced";
	case 'Z':
		return "zombie";
	case 'X':
	case 'x':
		return "dead";
	case 'I':
		return "idle";
	case '\0':
		return "unknown";
	default:
		return "other";
	}
}

const char *format_hung_how(char state)
{
	switch (state) {
	case 'R':
		return "spinning";
	case 'D':
		return "blocked";
	case 'T':
	case 't':
		return "stopped";
	case 'Z':
	case 'X':
	case 'x':
		return "a zombie";
	case '\0':
		return NULL;
	default:
		return "sleeping";
	}
}

enum tone exit_tone(int code)
{
	return code == 0 ? TONE_OK : code > 0 ? TONE_EXIT : TONE_SIGNAL;
}

/* --- the columns --- */

static enum tone col_num(const struct view_row *r, char *buf, size_t len)
{
	snprintf(buf, len, "%u", r->index);
	return TONE_PLAIN;
}

static enum tone col_pid(const struct view_row *r, char *buf, size_t len)
{
	if (r->pid > 0)
		snprintf(buf, len, "%d", (int)r->pid);
	else
		snprintf(buf, len, "-");
	return TONE_PLAIN;
}

static enum tone col_job(const struct view_row *r, char *buf, size_t len)
{
	if (r->job_pid > 0)
		snprintf(buf, len, "%d", (int)r->job_pid);
	else
		snprintf(buf, len, "-");
	return TONE_PLAIN;
}

static enum tone col_state(const struct view_row *r, char *buf, size_t len)
{
	/* A job that cannot start (fork, pipe: EAGAIN, EMFILE...) is retried: the row says so
	 * rather than IDLE or BUSY. */
	if (r->start_failing) {
		snprintf(buf, len, "NOSTART");
		return TONE_EXIT;
	}
	if (r->hung) {
		snprintf(buf, len, "HUNG");
		return TONE_HUNG;
	}
	snprintf(buf, len, "%s", view_state_name(r->state));
	switch (r->state) {
	case VIEW_BUSY:
		return TONE_BUSY;
	case VIEW_EXITED:
	case VIEW_EMPTY:
		return TONE_DIM;
	case VIEW_BACKOFF:
	case VIEW_STOPPED:
		return TONE_EXIT;
	case VIEW_STARTING:
	case VIEW_IDLE:
	case VIEW_STOPPING:
		return TONE_PLAIN;
	}
	return TONE_PLAIN;
}

static enum tone col_exit(const struct view_row *r, char *buf, size_t len)
{
	if (!r->has_exit) {
		snprintf(buf, len, "-");
		return TONE_PLAIN;
	}
	/* While a process runs in the slot, its last exit is the previous process's: labelled
	 * and dimmed, so that "HUNG  -11 SIGSEGV" cannot read as the hung worker's crash. */
	switch (r->state) {
	case VIEW_STARTING:
	case VIEW_IDLE:
	case VIEW_BUSY:
	case VIEW_STOPPING:
	case VIEW_STOPPED: {
		char code[64];
		exitcode_format(r->last_exit, false, code, sizeof(code));
		snprintf(buf, len, "was %s", code);
		return TONE_DIM;
	}
	case VIEW_EMPTY:
	case VIEW_EXITED:
	case VIEW_BACKOFF:
		break;
	}
	/* "(core dumped)" does not fit: the mark is "core". */
	exitcode_format(r->last_exit, false, buf, len);
	if (r->last_core)
		strncat(buf, " core", len - strlen(buf) - 1);
	return exit_tone(r->last_exit);
}

static enum tone col_done(const struct view_row *r, char *buf, size_t len)
{
	snprintf(buf, len, "%llu", (unsigned long long)r->done);
	return TONE_PLAIN;
}

static enum tone col_fail(const struct view_row *r, char *buf, size_t len)
{
	snprintf(buf, len, "%llu", (unsigned long long)r->failed);
	return r->failed ? TONE_EXIT : TONE_PLAIN;
}

static enum tone col_rate(const struct view_row *r, char *buf, size_t len)
{
	snprintf(buf, len, r->rate >= 100 ? "%.0f" : "%.1f", r->rate);
	return TONE_PLAIN;
}

static enum tone col_pstate(const struct view_row *r, char *buf, size_t len)
{
	if (!r->proc_known || !r->proc_state) {
		buf[0] = '\0';
		return TONE_PLAIN;
	}
	snprintf(buf, len, "%c", r->proc_state);
	/* On a HUNG row the letter is the answer to "spinning or sleeping?". */
	if (r->hung)
		return TONE_HUNG;
	switch (r->proc_state) {
	case 'R':
		return TONE_BUSY;
	case 'D':
		return TONE_EXIT;
	case 'T':
	case 't':
		return TONE_SIGNAL;
	case 'Z':
		return TONE_DIM;
	default:
		return TONE_PLAIN;
	}
}

static enum tone col_cpu(const struct view_row *r, char *buf, size_t len)
{
	if (r->proc_known)
		snprintf(buf, len, "%.0f", r->cpu_percent);
	else
		buf[0] = '\0';
	return TONE_PLAIN;
}

static enum tone col_rss(const struct view_row *r, char *buf, size_t len)
{
	if (r->proc_known)
		format_bytes(buf, len, r->rss_bytes);
	else
		buf[0] = '\0';
	return TONE_PLAIN;
}

static enum tone col_age(const struct view_row *r, char *buf, size_t len)
{
	buf[0] = '\0';
	if (r->cur_seq)
		format_duration(buf, len, r->age_ns);
	return r->hung ? TONE_HUNG : TONE_PLAIN;
}

static enum tone col_rst(const struct view_row *r, char *buf, size_t len)
{
	snprintf(buf, len, "%u", r->restarts);
	return TONE_PLAIN;
}

const struct column_def columns[NCOLUMNS] = {
	[COL_NUM] = {"#", 4, true, col_num},	      [COL_PID] = {"PID", 7, true, col_pid},
	[COL_STATE] = {"STATE", 8, false, col_state}, [COL_EXIT] = {"EXIT", 16, false, col_exit},
	[COL_JOB] = {"JOB", 7, true, col_job},	      [COL_DONE] = {"DONE", 7, true, col_done},
	[COL_FAIL] = {"FAIL", 6, true, col_fail},     [COL_RATE] = {"RATE", 7, true, col_rate},
	[COL_PSTATE] = {"S", 1, false, col_pstate},   [COL_CPU] = {"CPU%", 6, true, col_cpu},
	[COL_RSS] = {"RSS", 6, true, col_rss},	      [COL_AGE] = {"AGE", 7, true, col_age},
	[COL_RST] = {"RST", 4, true, col_rst},
};

/* The columns by usefulness: the first that fit are shown. S comes right after STATE: two
 * cells that tell a HUNG item spinning from one sleeping. (Those two cells came from PID and
 * JOB, 7 wide as the largest pid_max, 4194304, and STATE, 8 as its longest word: 80 columns
 * still show FAIL, 100 RSS, 120 everything with ITEM as wide as before.) */
static const enum column by_use[] = {COL_NUM,  COL_PID,	 COL_STATE, COL_PSTATE, COL_EXIT,
				     COL_JOB,  COL_DONE, COL_FAIL,  COL_AGE,	COL_CPU,
				     COL_RATE, COL_RSS,	 COL_RST};

void columns_fit(int w, bool jobs, bool show[NCOLUMNS])
{
	int used = 2 + 12; /* the marks, and at least 12 for ITEM */
	memset(show, 0, NCOLUMNS * sizeof(show[0]));
	for (size_t i = 0; i < ARRAY_SIZE(by_use); i++) {
		if (by_use[i] == COL_JOB && !jobs)
			continue;
		int cw = columns[by_use[i]].width + 1;
		if (used + cw > w)
			break;
		show[by_use[i]] = true;
		used += cw;
	}
}
