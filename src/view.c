/* The view model's interface: each call goes to the implementation behind the view; the stop
 * policy and the exit status, which are the same for every implementation, are here. See the
 * DESIGN comment in view.h. */
#include "view.h"

#include <string.h>

int view_start(struct view *v, char *err, size_t errlen)
{
	return v->ops->start(v, err, errlen);
}

unsigned view_snapshot(struct view *v, struct view_totals *t, struct view_row *rows, unsigned max)
{
	return v->ops->snapshot(v, t, rows, max);
}

int view_detail(struct view *v, unsigned slot, struct view_detail *d)
{
	return v->ops->detail(v, slot, d);
}

int view_item(struct view *v, unsigned slot, uint64_t seq, struct view_item *it)
{
	return v->ops->item ? v->ops->item(v, slot, seq, it) : -ENOENT;
}

int view_command(struct view *v, enum view_command cmd, unsigned slot, uint64_t generation, int arg)
{
	return v->ops->command(v, cmd, slot, generation, arg);
}

int view_resize(struct view *v, unsigned n)
{
	return v->ops->resize(v, n);
}

void view_pause(struct view *v, bool paused)
{
	v->ops->pause(v, paused);
}

void view_stop(struct view *v, enum view_stop how, const char *why)
{
	v->ops->stop(v, how, why);
}

enum view_stop view_escalate(struct view *v, enum view_stop first, const char *why)
{
	enum view_stop now = v->ops->stopping(v);
	enum view_stop next = now == VIEW_STOP_NONE ? first : now + 1;
	if (next < first)
		next = first;
	if (next > VIEW_STOP_KILL)
		next = VIEW_STOP_KILL;
	v->ops->stop(v, next, why);
	return v->ops->stopping(v);
}

enum view_stop view_stopping(const struct view *v)
{
	return v->ops->stopping(v);
}

void view_summary(const struct view *v, struct view_summary *s)
{
	v->ops->summary(v, s);
}

unsigned view_errors(const struct view *v, const char *lines[VIEW_MAX_ERRORS])
{
	return v->ops->errors(v, lines);
}

void view_failed(const struct view *v, struct view_failed *f)
{
	v->ops->failed(v, f);
}

int view_exit_status(const struct view *v)
{
	struct view_summary s;
	v->ops->summary(v, &s);
	uint64_t bad = s.failed + s.not_run;
	/* Something the batch was given did not run and cannot be counted: output lost, items
	 * never read when a terminate stopped the batch (a join all is the user's own end of the
	 * input: what was read is the batch). */
	bool lost = s.write_error || s.read_error || s.output_closed || s.dropped_bytes ||
		    s.unwritten || (s.terminated && !s.input_complete);
	if ((bad == 0 && lost) || s.fatal[0])
		return 255;
	/* --halt: GNU parallel's, the failed item's status (0 for success=). */
	if (s.halted && !s.write_error)
		return s.halt_status;
	return bad == 0 ? 0 : bad > 100 ? 101 : (int)bad;
}

void view_close(struct view *v, void (*closed)(void *data), void *data)
{
	v->ops->close(v, closed, data);
}

void view_free(struct view *v)
{
	if (v)
		v->ops->free(v);
}

const char *view_error(int err)
{
	switch (err) {
	case -ESTALE:
		return "its process was replaced since the screen was drawn: nothing done";
	case -ESRCH:
		return "it has no process";
	case -EPIPE:
		return "the pool is shutting down";
	case -EPERM:
		return "this viewer is read-only (pooltop attach without --read-only acts)";
	case -ENOTCONN:
		return "the connection to the batch is gone";
	case -ETIMEDOUT:
		return "the batch did not answer";
	case -EINPROGRESS:
		return "asked; the batch has not answered yet (its refusal would be in the log)";
	case -ENOTSUP:
		return "not on a cluster view";
	case -EBUSY:
		return "it is the last worker and items wait for it: J joins all, D drains, T "
		       "terminates";
	default:
		return strerror(-err);
	}
}
