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
#include "rows.h"
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
	DASH_MODE_SORT,	  /* the sort menu (F6) */
	DASH_MODE_SEARCH, /* typing an item to find (/ F3) */
	DASH_MODE_FILTER, /* typing the rows to keep (\ F4) */
	DASH_MODE_SIGNAL,
	DASH_MODE_LOG, /* the event log, full screen */
};

/* The events kept for the log (about 2.6 MB when full): the last DASH_LOG_KEPT of the run. */
#define DASH_LOG_KEPT 10000

/* The header's graphs: items finished (and failed) per DASH_SPARK_S seconds, the last
 * DASH_SPARK of them (four minutes). */
#define DASH_SPARK     120
#define DASH_SPARK_S   2
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

	/* The user's view. The table shows the slots in order[0..norder): sorted and filtered
	 * (rows.h). The selection is a slot: it follows its worker when the order changes. */
	enum dash_mode mode;
	unsigned *order; /* DASH_MAX_SLOTS */
	unsigned norder;
	struct rows_arrangement arrange;
	char search[ROWS_TEXT_MAX]; /* the last text searched for (F3 finds it again) */
	char entry[ROWS_TEXT_MAX];  /* the text being typed at the search or filter prompt */
	unsigned menu_pos;	    /* the sort menu's highlighted column */
	unsigned help_top;	    /* the help's first line shown */
	bool header_says_order;	    /* the header has a line for the order and filter */
	unsigned selected;
	unsigned top;	     /* first position shown in the table */
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
	/* The batch runs in another process (pooltop attach, or the engine this dashboard
	 * started): d detaches from it; q too unless this dashboard is its owner. */
	bool can_detach;
	bool owner;
	bool read_only; /* acts on nothing */
	bool cluster;	/* a batch across machines: keys act on one worker, not the batch */
	bool detached;	/* d pressed (or the terminal went away): leave, the batch runs on */
	char name[72];	/* the batch's, for pooltop attach NAME */

	/* The graphs' history: a ring, oldest at spark_pos once full. */
	uint32_t spark_done[DASH_SPARK], spark_failed[DASH_SPARK];
	unsigned spark_pos, spark_n;
	uint64_t spark_bucket;			     /* the period being counted */
	uint64_t spark_base_done, spark_base_failed; /* the counts when it began */
	bool utf8;				     /* the terminal takes UTF-8: block graphs */

	struct dash_log_line *log; /* a ring of DASH_LOG_KEPT */
	unsigned log_pos, log_n;

	unsigned signal_pos; /* the line chosen in the signal menu (dash_signals) */

	/* The detail's list of recent items as last drawn (newest first), the one selected in
	 * it, kept by its seq while newer items push it down; and the item opened from it (the
	 * detail then shows that item). */
	uint64_t detail_seqs[VIEW_HISTORY];
	unsigned detail_n;
	unsigned detail_sel;
	uint64_t detail_seq; /* 0: the newest */
	bool item_open;
	unsigned item_slot;
	uint64_t item_seq;

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
/* Sort and filter the rows again (after a snapshot, or a change of order or filter). A selected
 * worker the filter hides gives way to the first row shown. */
void dash_arrange(struct dash *d);
/* The selected worker's position in the table, or norder when none is shown. */
unsigned dash_selected_pos(const struct dash *d);
int dash_attr(const struct dash *d, enum dash_color c);
/* The attribute a tone (format.h) is drawn with. */
int dash_tone_attr(const struct dash *d, enum tone tone);
/* Write s (n bytes) at the cursor in at most width columns, control bytes shown escaped so that
 * an item can never send raw bytes to the terminal. Returns the columns used. */
int dash_put_clean(const char *s, size_t n, int width);

/* keys.c: handle one key; returns DASH_REDRAW_* flags. */
int dash_key(struct dash *d, int key);
/* Keys shared by the tables: move the selection among the rows shown; back to the workers. */
int dash_key_move(struct dash *d, int key);
int dash_key_back(struct dash *d, int key);
/* The selected worker is shown in the table (the filter may hide it): keys act only then. */
bool dash_selection_shown(const struct dash *d);

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
	/* A key that is in none of the tables (the text typed at a prompt), or NULL. */
	int (*other)(struct dash *d, int key);
};
/* Apply cmd (with arg: a signal) to the tagged workers, or else to the selected one as drawn;
 * the footer says done, or why nothing was done. */
int dash_act(struct dash *d, enum view_command cmd, int arg, const char *done);
/* keys_signal.c: the signal menu's keys. */
extern const struct dash_binding dash_signal_keys[];

/* keys_find.c: h, sorting, the search and the filter; the sort menu's and prompts' tables. */
int dash_key_next_hung(struct dash *d, int key);
int dash_key_search(struct dash *d, int key);
int dash_key_filter(struct dash *d, int key);
int dash_key_sort_step(struct dash *d, int key);
int dash_key_sort_invert(struct dash *d, int key);
int dash_key_sort_menu(struct dash *d, int key);
int dash_key_prompt_type(struct dash *d, int key);
extern const struct dash_binding dash_sort_keys[], dash_search_keys[], dash_filter_keys[];

/* Indexed by enum dash_mode; and the keys every mode takes (Ctrl-C). */
extern const struct dash_mode_def dash_modes[];
extern const size_t dash_nmodes;
extern const struct dash_binding *const dash_global_keys;

/* The views: each draws inside the rectangle (y, x, h, w). */
/* The table's order and filter in words, "" in slot order with every row shown. */
void dash_arrangement_text(const struct dash *d, char *buf, size_t len);
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
/* A dialog of n lines over the main screen, centred; the line at highlight (or none: -1) in
 * normal video. */
void dash_dialog_draw(struct dash *d, int y, int x, int rows, int cols, const char *const *lines,
		      int n, int highlight);
void view_sort_draw(struct dash *d, int y, int x, int h, int w);
void view_prompt_draw(struct dash *d, int y, int x, int h, int w);
void view_signal_draw(struct dash *d, int y, int x, int h, int w);

/* view_signal.c: the signal menu's lines, in order; each has a key that sends it at once. */
struct dash_signal {
	int sig;
	const char *name; /* "TERM" */
	int key;	  /* its shortcut in the menu */
	const char *what; /* "terminate" */
};
extern const struct dash_signal dash_signals[];
extern const size_t dash_nsignals;

#endif
