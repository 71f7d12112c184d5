/* The pool's event list and the words it uses: what happened to which worker and item, kept
 * for the front ends (the last POOL_EVENTS_KEPT) and handed to the event callback. */
#include "pool_internal.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void pool_vemit(struct pool *p, enum view_event_kind kind, const struct pool_slot *s,
		       uint64_t seq, const int *code, bool core, const char *fmt, va_list ap)
	__attribute__((format(printf, 7, 0)));

/* The event, with the item's code when code is not NULL. */
static void pool_vemit(struct pool *p, enum view_event_kind kind, const struct pool_slot *s,
		       uint64_t seq, const int *code, bool core, const char *fmt, va_list ap)
{
	struct view_event *ev = &p->events[p->last_event_id % POOL_EVENTS_KEPT];
	memset(ev, 0, sizeof(*ev));
	ev->id = ++p->last_event_id;
	ev->time_ns = now_ns();
	ev->kind = kind;
	ev->slot = s ? (int)slot_no(p, s) : -1;
	ev->seq = seq;
	if (s) {
		ev->pid = kind == VIEW_EVENT_WORKER_EXITED ? s->reap_pid : s->pid;
		ev->exitcode = s->last_exit;
		ev->core = s->last_core;
		ev->cause = s->last_cause;
	}
	if (code) {
		ev->exitcode = *code;
		ev->core = core;
	}
	vsnprintf(ev->text, sizeof(ev->text), fmt, ap);
	if (p->cb.event)
		p->cb.event(p->cb.data, ev);
}

void pool_emit(struct pool *p, enum view_event_kind kind, const struct pool_slot *s, uint64_t seq,
	       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pool_vemit(p, kind, s, seq, NULL, false, fmt, ap);
	va_end(ap);
}

void pool_emit_item(struct pool *p, enum view_event_kind kind, const struct pool_slot *s,
		    uint64_t seq, int code, bool core, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pool_vemit(p, kind, s, seq, &code, core, fmt, ap);
	va_end(ap);
}

size_t pool_events(const struct pool *p, uint64_t after, struct view_event *out, size_t max)
{
	uint64_t first =
		p->last_event_id > POOL_EVENTS_KEPT ? p->last_event_id - POOL_EVENTS_KEPT : 0;
	if (after < first)
		after = first;
	size_t n = 0;
	for (uint64_t id = after + 1; id <= p->last_event_id && n < max; id++)
		out[n++] = p->events[(id - 1) % POOL_EVENTS_KEPT];
	return n;
}

void pool_describe_item(struct buf *b, uint64_t seq, const char *data, size_t len)
{
	enum { PREVIEW = 40 };
	buf_printf(b, "item %llu '", (unsigned long long)seq);
	/* A NUL separates the values of several sources: a space, as {} joins them. */
	for (size_t i = 0; i < len && i < PREVIEW; i++) {
		unsigned char c = (unsigned char)data[i];
		if (c == '\\' || c == '\'')
			buf_printf(b, "\\%c", c);
		else if (c == '\0')
			buf_putc(b, ' ');
		else if (c < 0x20 || c == 0x7f)
			buf_printf(b, "\\x%02x", c);
		else
			buf_putc(b, (char)c);
	}
	buf_printf(b, "%s'", len > PREVIEW ? "..." : "");
}

const char *pool_cause_words(const struct pool_slot *s)
{
	switch (s->last_cause) {
	case VIEW_CAUSE_NONE:
		if (s->last_exit < 0)
			return "crashed (a signal pooltop did not send)";
		return "exited by itself";
	case VIEW_CAUSE_USER:
		return s->stop_signal == SIGKILL ? "killed by user" : "terminated by user";
	case VIEW_CAUSE_JOIN:
		return "joined by user";
	case VIEW_CAUSE_JOIN_TIMEOUT:
		return "join timed out";
	case VIEW_CAUSE_RECYCLE:
		return "recycled after --max-items-per-worker";
	case VIEW_CAUSE_END:
		return "joined at the end of the batch";
	case VIEW_CAUSE_RESTART:
		return "restarted by user";
	case VIEW_CAUSE_SHUTDOWN:
		return s->stop_signal == SIGKILL ? "killed (kill all)"
						 : "terminated (terminate all)";
	case VIEW_CAUSE_TIMEOUT:
		return "stopped: its item ran past --timeout";
	}
	return "?";
}
