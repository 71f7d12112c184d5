/* The front ends' words and numbers, without curses: durations, sizes, rates and the ETA as
 * the dashboard and the headless progress line show them, and the worker table's columns — each
 * with its formatter, and which of them fit a width. Tested in tests/test_format.c. */
#ifndef POOLTOP_FORMAT_H
#define POOLTOP_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "view_data.h"

/* "0.5s", "9.9s", "2m05s", "1h02m". */
void format_duration(char *buf, size_t len, uint64_t ns);
/* "512K", "1.5M", "2.0G". */
void format_bytes(char *buf, size_t len, uint64_t bytes);
/* "0.50/s", "12/s", "15.0k/s", "1.2M/s". */
void format_rate(char *buf, size_t len, double per_s);
/* The time the batch still needs at its average rate: "?" when it cannot be told (input still
 * coming, nothing finishing now, only hung items left), "0s" when all is done. */
void format_eta(char *buf, size_t len, const struct view_totals *t);
/* The batch's state in a word for the header: RUNNING, PAUSED, CLOSING, CLOSING, PAUSED,
 * WRITING OUTPUT (the pool is done, a reader is not), FINISHED. */
const char *format_run_state(const struct view_totals *t);

/* The words for a process state letter (procstat.h), for the detail view: "running",
 * "sleeping", "waiting on I/O", "stopped"...; "unknown" for '\0'. */
const char *format_proc_state(char state);
/* What a HUNG item does, from its state letter: "spinning" (R), "sleeping" (S and other
 * sleeps), "blocked" (D), "stopped" (T, t), "a zombie" (Z, X); NULL for '\0' (not known). */
const char *format_hung_how(char state);

/* How a cell is shown; each front end maps tones to its colours. */
enum tone {
	TONE_PLAIN,
	TONE_OK,     /* exit 0 */
	TONE_EXIT,   /* exit N>0, failures, waiting */
	TONE_SIGNAL, /* killed by a signal */
	TONE_HUNG,
	TONE_BUSY,
	TONE_DIM,
};

/* The worker table's columns, in the order they are drawn; ITEM takes what is left. */
enum column {
	COL_NUM,
	COL_PID,
	COL_STATE,
	COL_EXIT,
	COL_JOB,
	COL_DONE,
	COL_FAIL,
	COL_RATE,
	COL_PSTATE, /* "S": the process state letter, as htop's */
	COL_CPU,
	COL_RSS,
	COL_AGE,
	COL_RST,
	NCOLUMNS
};

struct column_def {
	const char *title;
	int width;
	bool right;
	/* The cell of row r: its text into buf, and its tone. */
	enum tone (*format)(const struct view_row *r, char *buf, size_t len);
};

extern const struct column_def columns[NCOLUMNS];

/* Which columns fit w cells (with the row's two marks and 12 for ITEM), the most useful first;
 * JOB only when jobs (the workers run commands). */
void columns_fit(int w, bool jobs, bool show[NCOLUMNS]);

/* A sparkline of vals[0..n) (oldest first) into buf: one mark per value, its height scaled to
 * the largest value, blank for 0, never blank for a value above 0. utf8: the eight blocks
 * U+2581..U+2588 (3 bytes each); else ASCII "._-~=+*#". buf gets at most len - 1 bytes, whole
 * marks only. Returns the marks written. */
size_t format_spark(const uint32_t *vals, size_t n, bool utf8, char *buf, size_t len);

/* The tone of an exit code: 0, N>0, -SIGNAL. */
enum tone exit_tone(int code);

#endif
