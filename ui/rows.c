/* The worker table's order, filter and search. See rows.h. */
#include "rows.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool column_most_first(enum column c)
{
	switch (c) {
	case COL_DONE:
	case COL_FAIL:
	case COL_RATE:
	case COL_CPU:
	case COL_RSS:
	case COL_AGE:
	case COL_RST:
		return true;
	case COL_NUM:
	case COL_PID:
	case COL_STATE:
	case COL_PSTATE:
	case COL_EXIT:
	case COL_JOB:
	case NCOLUMNS:
		break;
	}
	return false;
}

/* The most alarming state first. */
static int state_rank(const struct view_row *r)
{
	if (r->hung)
		return 0;
	if (r->start_failing)
		return 1;
	switch (r->state) {
	case VIEW_BACKOFF:
		return 2;
	case VIEW_STOPPED:
	case VIEW_BUSY:
		return 3;
	case VIEW_STARTING:
		return 4;
	case VIEW_STOPPING:
		return 5;
	case VIEW_IDLE:
		return 6;
	case VIEW_EXITED:
		return 7;
	case VIEW_EMPTY:
		return 8;
	}
	return 9;
}

/* Killed by a signal first, then N>0, then 0, then no exit yet. */
static int exit_rank(const struct view_row *r)
{
	if (!r->has_exit)
		return 3;
	return r->last_exit < 0 ? 0 : r->last_exit > 0 ? 1 : 2;
}

#define CMP(x, y) ((x) < (y) ? -1 : (x) > (y) ? 1 : 0)

/* A pid of 0 (no process) sorts after every real one. */
static int cmp_pid(pid_t a, pid_t b)
{
	if (!a || !b)
		return CMP(!a, !b);
	return CMP(a, b);
}

int column_compare(enum column c, const struct view_row *a, const struct view_row *b)
{
	int r = 0;
	switch (c) {
	case COL_NUM:
	case NCOLUMNS:
		break;
	case COL_PID:
		r = cmp_pid(a->pid, b->pid);
		break;
	case COL_JOB:
		r = cmp_pid(a->job_pid, b->job_pid);
		break;
	case COL_STATE:
		r = CMP(state_rank(a), state_rank(b));
		break;
	case COL_PSTATE:
		/* The most active first, as the group's letter is chosen; unknown last. */
		r = CMP(b->proc_known ? view_proc_state_rank(b->proc_state) : -1,
			a->proc_known ? view_proc_state_rank(a->proc_state) : -1);
		break;
	case COL_EXIT:
		r = CMP(exit_rank(a), exit_rank(b));
		if (!r && a->has_exit)
			r = CMP(a->last_exit, b->last_exit);
		break;
	case COL_DONE:
		r = CMP(b->done, a->done);
		break;
	case COL_FAIL:
		r = CMP(b->failed, a->failed);
		break;
	case COL_RATE:
		r = CMP(b->rate, a->rate);
		break;
	case COL_CPU:
		r = CMP(b->proc_known ? b->cpu_percent : -1, a->proc_known ? a->cpu_percent : -1);
		break;
	case COL_RSS:
		r = CMP(b->proc_known ? b->rss_bytes : 0, a->proc_known ? a->rss_bytes : 0);
		break;
	case COL_AGE:
		/* Only a busy row has an age: the idle ones after every busy one. */
		r = CMP(!!b->cur_seq, !!a->cur_seq);
		if (!r)
			r = CMP(b->age_ns, a->age_ns);
		break;
	case COL_RST:
		r = CMP(b->restarts, a->restarts);
		break;
	}
	return r;
}

static bool contains_nocase(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	if (!k)
		return true;
	for (size_t i = 0; i + k <= n; i++)
		if (!strncasecmp(hay + i, needle, k))
			return true;
	return false;
}

bool row_matches(const struct view_row *r, const char *text)
{
	if (!text[0])
		return true;
	char state[32];
	columns[COL_STATE].format(r, state, sizeof(state));
	if (!strcasecmp(state, text))
		return true;
	return r->cur_seq && contains_nocase(r->cur_item, r->cur_item_len, text);
}

struct sort_ctx {
	const struct view_row *rows;
	enum column col;
	bool invert;
};

static int cmp_slots(const void *x, const void *y, void *arg)
{
	const struct sort_ctx *c = arg;
	unsigned i = *(const unsigned *)x, j = *(const unsigned *)y;
	int r = column_compare(c->col, &c->rows[i], &c->rows[j]);
	if (c->invert)
		r = -r;
	/* Ties in slot order, inverted with the rest only when sorting by slot. */
	return r ? r : c->col == COL_NUM && c->invert ? CMP(j, i) : CMP(i, j);
}

unsigned rows_arrange(const struct view_row *rows, unsigned n, const struct rows_arrangement *a,
		      unsigned *order)
{
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++)
		if (row_matches(&rows[i], a->filter))
			order[k++] = i;
	struct sort_ctx c = {rows, a->sort, a->invert};
	if (a->sort != COL_NUM || a->invert)
		qsort_r(order, k, sizeof(*order), cmp_slots, &c);
	return k;
}

int rows_search(const struct view_row *rows, const unsigned *order, unsigned norder, unsigned from,
		const char *text)
{
	if (!text[0])
		return -1;
	for (unsigned k = 0; k < norder; k++) {
		unsigned p = (from + k) % norder;
		const struct view_row *r = &rows[order[p]];
		if (r->cur_seq && contains_nocase(r->cur_item, r->cur_item_len, text))
			return (int)p;
	}
	return -1;
}
