/* The dashboard's state, shared by its loop (dashboard.c), its key table (keys.c) and its
 * views (view_*.c). The views draw on stdscr inside a rectangle; they read the pool only
 * through the snapshot kept here. */
#ifndef POOLTOP_DASH_H
#define POOLTOP_DASH_H

#include <curses.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "format.h"
#include "view.h"

/* Colours: one X-macro table. NAME, foreground, attribute when there is no colour. */
#define DASH_COLORS(X)                                                                             \
	X(COLOR_OK, COLOR_GREEN, A_NORMAL)                                                         \
	X(COLOR_EXIT, COLOR_YELLOW, A_BOLD)                                                        \
	X(COLOR_SIGNAL, COLOR_RED, A_BOLD)                                                         \
	X(COLOR_HUNG, COLOR_RED, A_REVERSE)                                                        \
	X(COLOR_BUSY, COLOR_CYAN, A_NORMAL)                                                        \
	X(COLOR_DIM, COLOR_BLUE, A_DIM)                                                            \
	X(COLOR_TITLE, COLOR_CYAN, A_BOLD)

enum dash_color {
	DASH_COLOR_NONE = 0,
#define X(name, fg, attr) DASH_##name,
	DASH_COLORS(X)
#undef X
		DASH_NCOLORS
};

/* What a key asks to be drawn again. */
enum {
	DASH_REDRAW_NONE = 0,
	DASH_REDRAW = 1,
	DASH_QUIT = 2,
};

enum dash_mode {
	DASH_MODE_MAIN,
	DASH_MODE_HELP,
	DASH_MODE_DETAIL,
	DASH_MODE_CONFIRM_QUIT,
	DASH_MODE_CONFIRM_TERMINATE,
	DASH_MODE_LOG, /* the event log, full screen */
};

/* The events kept for the log (about 2.6 MB when full): the last DASH_LOG_KEPT of the run. */
#define DASH_LOG_KEPT  10000
#define DASH_MAX_SLOTS POOLTOP_MAX_WORKERS

struct dash_log_line {
	uint64_t time_ns; /* CLOCK_MONOTONIC */
	double wall;	  /* seconds since the epoch */
	enum view_event_kind kind;
	int exitcode;
	char text[240];
};

struct dash {
	const char *what; /* what runs: "--builtin demo" */
	bool jobs;	  /* the workers run commands: a JOB column for their PIDs */
	struct view *view;
	int tty_fd;
	bool color;

	/* The snapshot the screen shows: commands name workers by the generations in it. */
	struct view_totals totals;
	struct view_row *rows; /* DASH_MAX_SLOTS */
	unsigned nrows;

	/* The user's view. */
	enum dash_mode mode;
	unsigned selected;
	unsigned top;	     /* first row shown in the table */
	unsigned table_rows; /* rows the table had at the last draw */
	int table_y;	     /* where the table's first row was drawn */
	uint64_t *tagged;    /* generation tagged per slot, 0 when not */
	unsigned ntagged;
	char message[200]; /* a transient line under the table */
	uint64_t message_until_ns;
	bool quitting; /* exit once the batch is over */
	bool finished;
	bool stay;	       /* keep the screen after the batch ends, until q */
	const char *out_where; /* where the items' outputs go, for the footer ("out: stdout") */

	struct dash_log_line *log; /* a ring of DASH_LOG_KEPT */
	unsigned log_pos, log_n;
	uint64_t log_dropped; /* earlier events the ring no longer holds */
	/* The full-screen log: the first event shown (0: the oldest kept), unless it follows the
	 * latest (End); its rows of events and columns of text at the last draw. */
	unsigned log_top;
	bool log_follow;
	int log_rows, log_cols;
};

/* dashboard.c */
void dash_message(struct dash *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dash_snapshot(struct dash *d);
int dash_attr(const struct dash *d, enum dash_color c);
/* The attribute a tone (format.h) is drawn with. */
int dash_tone_attr(const struct dash *d, enum tone tone);
/* Write s (n bytes) at the cursor in at most width columns, control bytes shown escaped so that
 * an item can never send raw bytes to the terminal. Returns the columns used. */
int dash_put_clean(const char *s, size_t n, int width);

/* keys.c: handle one key; returns DASH_REDRAW_* flags. */
int dash_key(struct dash *d, int key);

/* A key and what it does; help lists the entries with a `keys` text. Tables end with fn NULL. */
struct dash_binding {
	int key;
	const char *keys; /* for the help screen, or NULL */
	const char *what;
	int (*fn)(struct dash *d, int key);
};

/* A mode of the dashboard: what it draws (over the whole screen) and the keys it takes. */
struct dash_mode_def {
	const char *name; /* for the help screen: "the workers" */
	void (*draw)(struct dash *d, int y, int x, int h, int w);
	const struct dash_binding *keys;
};
/* Indexed by enum dash_mode; and the keys every mode takes (Ctrl-C). */
extern const struct dash_mode_def dash_modes[];
extern const size_t dash_nmodes;
extern const struct dash_binding *const dash_global_keys;

/* The views: each draws inside the rectangle (y, x, h, w). */
void view_header_draw(struct dash *d, int y, int x, int h, int w);
void view_workers_draw(struct dash *d, int y, int x, int h, int w);
void view_log_draw(struct dash *d, int y, int x, int h, int w);
/* The event log over the whole screen: every event kept, whole (wrapped), scrolled by
 * view_log_scroll (Up Down PgUp PgDn Home End). */
void view_log_full_draw(struct dash *d, int y, int x, int h, int w);
void view_log_scroll(struct dash *d, int key);
void view_detail_draw(struct dash *d, int y, int x, int h, int w);
void view_help_draw(struct dash *d, int y, int x, int h, int w);
void view_main_draw(struct dash *d, int y, int x, int h, int w);
void view_quit_draw(struct dash *d, int y, int x, int h, int w);
void view_terminate_draw(struct dash *d, int y, int x, int h, int w);

#endif
