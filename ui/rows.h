/* The worker table's rows as the user arranges them, without curses: sorted by a column,
 * filtered by a text, searched. The table shows slots in this order; the selection stays on a
 * slot (a worker), not on a line, as htop's stays on a process. Tested in tests/test_rows.c. */
#ifndef POOLTOP_ROWS_H
#define POOLTOP_ROWS_H

#include <stdbool.h>

#include "format.h"
#include "view_data.h"

#define ROWS_TEXT_MAX 64

/* How the user arranges the table. */
struct rows_arrangement {
	enum column sort;	    /* COL_NUM: slot order */
	bool invert;		    /* the column's order reversed */
	char filter[ROWS_TEXT_MAX]; /* "" shows every row */
};

/* Whether column c sorts the most first (CPU%, AGE, DONE...: the telling rows at the top) rather
 * than ascending (#, PID, JOB; STATE and EXIT the alarming first). */
bool column_most_first(enum column c);
/* a before b (< 0), after (> 0), or 0, by column c in its own order (not inverted). */
int column_compare(enum column c, const struct view_row *a, const struct view_row *b);

/* Row r matches text when its STATE cell is text ("hung", "busy": case does not matter) or its
 * item contains text (case does not matter either). An empty text matches every row. */
bool row_matches(const struct view_row *r, const char *text);

/* The slots of rows[0..n) that the filter keeps, sorted, into order; ties keep slot order.
 * Returns how many. */
unsigned rows_arrange(const struct view_row *rows, unsigned n, const struct rows_arrangement *a,
		      unsigned *order);

/* The first position at or after from (round the table) whose row's item contains text, or -1. */
int rows_search(const struct view_row *rows, const unsigned *order, unsigned norder, unsigned from,
		const char *text);

#endif
