/* The attach protocol's codec: the view model's data to and from JSON objects, bytes as
 * strings or base64, and a stream cut into lines.
 *
 * DESIGN
 * The decoders read what a peer sent: a socket anyone with the permission may write to, or a
 * script. Nothing they are given may crash them or write past a field, so every value is
 * checked before it is stored: its JSON type, its range (an integer must fit its C type: no
 * negative count, no exit code past INT_MAX), its length (an array or bytes longer than
 * the fixed array they go to are refused, not cut: the encoder never sends such a thing, so it
 * is a broken or hostile peer), and the enum words. A decoder stops at the first bad field and
 * names it, with the path to it ("detail: \"recent\"[3]: \"seq\": expected an integer"), so
 * the peer's bug can be found from the one line the user sees. Every field is required (an
 * older peer's missing field would otherwise read as a silent zero); unknown keys are
 * ignored, so a newer peer may add some.
 * The reader keeps at most PROTO_READER_MAX bytes, and remembers how far it searched for a
 * '\n', so a long line fed in small reads is searched once (no quadratic rescan).
 */
#include "proto.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* --- enums --- */

/* The words by value, NULL for a value out of range: the parsers try 0, 1, 2... until then.
 * An int, not the enum: a value out of an enum's range is never held in one (clang's
 * -fsanitize=enum), and the switch on the enum still says when a value is missed. */
static const char *state_word(int v)
{
	switch ((enum view_state)v) {
	case VIEW_EMPTY:
		return "empty";
	case VIEW_STARTING:
		return "starting";
	case VIEW_IDLE:
		return "idle";
	case VIEW_BUSY:
		return "busy";
	case VIEW_STOPPING:
		return "stopping";
	case VIEW_EXITED:
		return "exited";
	case VIEW_BACKOFF:
		return "backoff";
	case VIEW_STOPPED:
		return "stopped";
	}
	return NULL;
}

static const char *cause_word(int v)
{
	switch ((enum view_cause)v) {
	case VIEW_CAUSE_NONE:
		return "none";
	case VIEW_CAUSE_USER:
		return "user";
	case VIEW_CAUSE_JOIN:
		return "join";
	case VIEW_CAUSE_JOIN_TIMEOUT:
		return "join_timeout";
	case VIEW_CAUSE_RECYCLE:
		return "recycle";
	case VIEW_CAUSE_END:
		return "end";
	case VIEW_CAUSE_RESTART:
		return "restart";
	case VIEW_CAUSE_SHUTDOWN:
		return "shutdown";
	case VIEW_CAUSE_TIMEOUT:
		return "timeout";
	}
	return NULL;
}

/* view_event_kind_name's words (as --events writes them), but NULL out of range. */
static const char *event_word(int v)
{
	switch ((enum view_event_kind)v) {
	case VIEW_EVENT_WORKER_STARTED:
	case VIEW_EVENT_WORKER_EXITED:
	case VIEW_EVENT_ITEM_FAILED:
	case VIEW_EVENT_ITEM_RETRIED:
	case VIEW_EVENT_NOTICE:
	case VIEW_EVENT_STOP:
		return view_event_kind_name((enum view_event_kind)v);
	}
	return NULL;
}

static const char *stop_word(int v)
{
	switch ((enum view_stop)v) {
	case VIEW_STOP_NONE:
		return "none";
	case VIEW_STOP_JOIN:
		return "join";
	case VIEW_STOP_DRAIN:
		return "drain";
	case VIEW_STOP_TERMINATE:
		return "terminate";
	case VIEW_STOP_KILL:
		return "kill";
	}
	return NULL;
}

static const char *command_word(int v)
{
	switch ((enum view_command)v) {
	case VIEW_TERMINATE:
		return "terminate";
	case VIEW_KILL:
		return "kill";
	case VIEW_JOIN:
		return "join";
	case VIEW_RESTART:
		return "restart";
	case VIEW_SIGNAL:
		return "signal";
	case VIEW_REQUEUE:
		return "requeue";
	}
	return NULL;
}

static const char *or_unknown(const char *w)
{
	return w ? w : "?";
}

const char *proto_state_word(enum view_state s)
{
	return or_unknown(state_word((int)s));
}

const char *proto_cause_word(enum view_cause c)
{
	return or_unknown(cause_word((int)c));
}

const char *proto_event_word(enum view_event_kind k)
{
	return or_unknown(event_word((int)k));
}

const char *proto_stop_word(enum view_stop s)
{
	return or_unknown(stop_word((int)s));
}

const char *proto_command_word(enum view_command c)
{
	return or_unknown(command_word((int)c));
}

/* The enums are numbered 0, 1, 2... without a gap: the value whose word is w. */
#define PARSE_WORD(fn, type)                                                                       \
	do {                                                                                       \
		const char *word_;                                                                 \
		for (int i_ = 0; (word_ = fn(i_)); i_++)                                           \
			if (w && !strcmp(w, word_)) {                                              \
				*out = (type)i_;                                                   \
				return 0;                                                          \
			}                                                                          \
		return -EINVAL;                                                                    \
	} while (0)

int proto_state_parse(const char *w, enum view_state *out)
{
	PARSE_WORD(state_word, enum view_state);
}

int proto_cause_parse(const char *w, enum view_cause *out)
{
	PARSE_WORD(cause_word, enum view_cause);
}

int proto_event_parse(const char *w, enum view_event_kind *out)
{
	PARSE_WORD(event_word, enum view_event_kind);
}

int proto_stop_parse(const char *w, enum view_stop *out)
{
	PARSE_WORD(stop_word, enum view_stop);
}

int proto_command_parse(const char *w, enum view_command *out)
{
	PARSE_WORD(command_word, enum view_command);
}

/* --- base64 (RFC 4648, padded) --- */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* n bytes as base64 in a new string (n is at most a line's worth: no overflow). */
static char *b64_encode(const unsigned char *p, size_t n, size_t *outlen)
{
	size_t len = (n + 2) / 3 * 4;
	char *s = malloc(len + 1);
	if (!s)
		return NULL;
	char *d = s;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		*d++ = b64_alphabet[v >> 18];
		*d++ = b64_alphabet[(v >> 12) & 63];
		*d++ = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
		*d++ = i + 2 < n ? b64_alphabet[v & 63] : '=';
	}
	*d = '\0';
	*outlen = len;
	return s;
}

/* The whole of s checked, and its first cap bytes decoded into buf (*len of them). 0,
 * -EMSGSIZE (more than cap bytes) or -EPROTO: a length not a multiple of 4, a character out of
 * the alphabet, '=' anywhere but the last one or two places, or bits set past the last byte
 * (so that a value has one encoding). */
static int b64_decode(const char *s, size_t n, unsigned char *buf, size_t cap, size_t *len)
{
	if (n % 4)
		return -EPROTO;
	size_t pad = 0;
	if (n && s[n - 1] == '=')
		pad = n >= 2 && s[n - 2] == '=' ? 2 : 1;
	size_t total = n / 4 * 3 - pad, at = 0;
	for (size_t i = 0; i < n; i += 4) {
		bool last = i + 4 == n;
		uint32_t v = 0;
		for (size_t j = 0; j < 4; j++) {
			int x = last && j >= 4 - pad ? 0 : b64_value((unsigned char)s[i + j]);
			if (x < 0)
				return -EPROTO;
			v = v << 6 | (uint32_t)x;
		}
		size_t bytes = last ? 3 - pad : 3;
		if (last && (v & ((1u << (8 * (3 - bytes))) - 1)))
			return -EPROTO;
		for (size_t k = 0; k < bytes; k++, at++)
			if (at < cap)
				buf[at] = (unsigned char)(v >> (16 - 8 * k));
	}
	*len = MIN(total, cap);
	return total > cap ? -EMSGSIZE : 0;
}

/* --- bytes --- */

#define KEY_MAX 59 /* and "_b64" and the NUL: 64 */

int proto_set_bytes(json_t *obj, const char *key, const void *data, size_t len)
{
	char key64[KEY_MAX + 5];
	if (strlen(key) > KEY_MAX)
		return -EINVAL;
	snprintf(key64, sizeof(key64), "%s_b64", key);
	/* json_stringn refuses what is not UTF-8 (NULs are UTF-8); on ENOMEM too, when base64
	 * is as good an answer if there is memory for it. */
	json_t *v = json_stringn(len ? data : "", len);
	const char *at = key;
	if (!v) {
		size_t n;
		char *s = b64_encode(data, len, &n);
		if (!s)
			return -ENOMEM;
		v = json_stringn_nocheck(s, n);
		free(s);
		at = key64;
	}
	if (json_object_set_new(obj, at, v))
		return -ENOMEM;
	json_object_del(obj, at == key ? key64 : key);
	return 0;
}

/* A value from a peer, quoted in a message: its first bytes, control characters as '?'. */
static void quote(char *q, size_t size, const char *s)
{
	size_t n = 0;
	for (; s[n] && n + 1 < size && n < 32; n++)
		q[n] = (unsigned char)s[n] < 0x20 || s[n] == 0x7f ? '?' : s[n];
	q[n] = '\0';
}

static int bytes_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int bytes_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

int proto_get_bytes(const json_t *obj, const char *key, void *buf, size_t cap, size_t *len,
		    char *err, size_t errlen)
{
	char key64[KEY_MAX + 5];
	if (strlen(key) > KEY_MAX)
		return bytes_fail(err, errlen, -EPROTO, "\"%.*s...\": key too long", 16, key);
	snprintf(key64, sizeof(key64), "%s_b64", key);
	const json_t *s = json_object_get(obj, key), *s64 = json_object_get(obj, key64);
	if (s && s64)
		return bytes_fail(err, errlen, -EPROTO, "\"%s\" and \"%s\" both present", key,
				  key64);
	if (!s && !s64)
		return bytes_fail(err, errlen, -EPROTO, "\"%s\": missing", key);
	const char *at = s ? key : key64;
	const json_t *v = s ? s : s64;
	if (!json_is_string(v))
		return bytes_fail(err, errlen, -EPROTO, "\"%s\": expected a string", at);
	const char *p = json_string_value(v);
	size_t n = json_string_length(v);
	int rc = 0;
	if (s) {
		*len = MIN(n, cap);
		if (*len)
			memcpy(buf, p, *len);
		rc = n > cap ? -EMSGSIZE : 0;
	} else {
		rc = b64_decode(p, n, buf, cap, len);
		if (rc == -EPROTO)
			return bytes_fail(err, errlen, rc, "\"%s\": bad base64", at);
	}
	if (rc == -EMSGSIZE)
		return bytes_fail(err, errlen, rc, "\"%s\": longer than %zu bytes", at, cap);
	return 0;
}

/* --- encoders --- */

/* An object being built: a failed step marks it, and enc_end then gives NULL. */
struct enc {
	json_t *o;
	bool bad;
};

static void put(struct enc *e, const char *key, json_t *v)
{
	/* json_object_set_new refuses a NULL value (after a failed json_integer...). */
	if (!e->o || json_object_set_new(e->o, key, v))
		e->bad = true;
}

static struct enc enc_begin(void)
{
	struct enc e = {.o = json_object()};
	e.bad = !e.o;
	return e;
}

static json_t *enc_end(struct enc *e)
{
	if (e->bad) {
		json_decref(e->o);
		return NULL;
	}
	return e->o;
}

static void put_u64(struct enc *e, const char *key, uint64_t v)
{
	put(e, key, json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v));
}

static void put_int(struct enc *e, const char *key, long long v)
{
	put(e, key, json_integer(v));
}

static void put_bool(struct enc *e, const char *key, bool v)
{
	put(e, key, json_boolean(v));
}

static void put_double(struct enc *e, const char *key, double v)
{
	put(e, key, json_real(isfinite(v) ? v : 0));
}

static void put_string(struct enc *e, const char *key, const char *s)
{
	put(e, key, json_string(s));
}

static void put_bytes(struct enc *e, const char *key, const void *p, size_t n)
{
	if (!e->o || proto_set_bytes(e->o, key, p, n))
		e->bad = true;
}

/* A NUL-terminated C string in a char array (bytes, should it not be UTF-8). */
static void put_text(struct enc *e, const char *key, const char *s, size_t size)
{
	put_bytes(e, key, s, strnlen(s, size));
}

json_t *proto_totals(const struct view_totals *t)
{
	struct enc e = enc_begin();
	put_int(&e, "size", t->size);
	put_int(&e, "alive", t->alive);
	put_int(&e, "busy", t->busy);
	put_int(&e, "hung", t->hung);
	put_int(&e, "start_failing", t->start_failing);
	put_u64(&e, "submitted", t->submitted);
	put_u64(&e, "done", t->done);
	put_u64(&e, "failed", t->failed);
	put_u64(&e, "retried", t->retried);
	put_u64(&e, "requeued", t->requeued);
	put_u64(&e, "running", t->running);
	put_u64(&e, "queued", t->queued);
	put_u64(&e, "not_run", t->not_run);
	put_u64(&e, "duplicates", t->duplicates);
	put_u64(&e, "stats_dropped", t->stats_dropped);
	put_u64(&e, "repairs", t->repairs);
	put_bool(&e, "input_ended", t->input_ended);
	put_bool(&e, "closing", t->closing);
	put_bool(&e, "paused", t->paused);
	put_bool(&e, "finished", t->finished);
	put_double(&e, "rate_now", t->rate_now);
	put_double(&e, "rate_avg", t->rate_avg);
	put_u64(&e, "elapsed_ns", t->elapsed_ns);
	put_u64(&e, "hang_after_ns", t->hang_after_ns);
	put_u64(&e, "timeout_ns", t->timeout_ns);
	put_u64(&e, "median_runtime_ns", t->median_runtime_ns);
	put_bool(&e, "mem_waiting", t->mem_waiting);
	put_u64(&e, "mem_available", t->mem_available);
	put_u64(&e, "memfree", t->memfree);
	put_bool(&e, "output_blocked", t->output_blocked);
	put_u64(&e, "output_pending", t->output_pending);
	put_bool(&e, "over", t->over);
	return enc_end(&e);
}

json_t *proto_row(const struct view_row *r)
{
	struct enc e = enc_begin();
	put_int(&e, "index", r->index);
	put_string(&e, "state", proto_state_word(r->state));
	put_bool(&e, "hung", r->hung);
	put_int(&e, "pid", r->pid);
	put_int(&e, "job_pid", r->job_pid);
	put_u64(&e, "generation", r->generation);
	put_int(&e, "last_pid", r->last_pid);
	put_bool(&e, "has_exit", r->has_exit);
	put_int(&e, "last_exit", r->last_exit);
	put_bool(&e, "last_core", r->last_core);
	put_string(&e, "last_cause", proto_cause_word(r->last_cause));
	put_bool(&e, "fini_ran", r->fini_ran);
	put_int(&e, "restarts", r->restarts);
	put_u64(&e, "done", r->done);
	put_u64(&e, "failed", r->failed);
	put_double(&e, "rate", r->rate);
	put_u64(&e, "cur_seq", r->cur_seq);
	put_u64(&e, "age_ns", r->age_ns);
	put_u64(&e, "cur_len", r->cur_len);
	put_bytes(&e, "cur_item", r->cur_item, MIN(r->cur_item_len, sizeof(r->cur_item)));
	put_u64(&e, "backoff_ns", r->backoff_ns);
	put_bool(&e, "start_failing", r->start_failing);
	put_int(&e, "start_err", r->start_err);
	put_text(&e, "start_call", r->start_call, sizeof(r->start_call));
	put_int(&e, "start_retries", r->start_retries);
	put_u64(&e, "start_failing_ns", r->start_failing_ns);
	put_bool(&e, "proc_known", r->proc_known);
	put_bool(&e, "proc_job", r->proc_job);
	put_int(&e, "job_procs", r->job_procs);
	put_bytes(&e, "proc_state", &r->proc_state, r->proc_state ? 1 : 0);
	put_double(&e, "cpu_percent", r->cpu_percent);
	put_u64(&e, "rss_bytes", r->rss_bytes);
	/* Only in a view across machines: the protocol of one machine is unchanged. */
	if (r->host[0])
		put_text(&e, "host", r->host, sizeof(r->host));
	return enc_end(&e);
}

json_t *proto_event(const struct view_event *ev)
{
	struct enc e = enc_begin();
	put_u64(&e, "id", ev->id);
	put_u64(&e, "time_ns", ev->time_ns);
	put_string(&e, "kind", proto_event_word(ev->kind));
	put_int(&e, "slot", ev->slot);
	put_int(&e, "pid", ev->pid);
	put_int(&e, "exitcode", ev->exitcode);
	put_bool(&e, "core", ev->core);
	put_string(&e, "cause", proto_cause_word(ev->cause));
	put_u64(&e, "seq", ev->seq);
	put_text(&e, "text", ev->text, sizeof(ev->text));
	return enc_end(&e);
}

static json_t *history(const struct view_history *h)
{
	struct enc e = enc_begin();
	put_u64(&e, "seq", h->seq);
	put_int(&e, "exitcode", h->exitcode);
	put_bool(&e, "core", h->core);
	put_bool(&e, "done", h->done);
	put_u64(&e, "runtime_ns", h->runtime_ns);
	put_int(&e, "pid", h->pid);
	put_u64(&e, "item_len", h->item_len);
	put_bytes(&e, "item", h->item, MIN(h->item_len, sizeof(h->item)));
	return enc_end(&e);
}

/* A new array of n objects made by fn from the elements of base (size bytes each). */
static json_t *array_of(const void *base, size_t n, size_t size, json_t *(*fn)(const void *))
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, fn((const char *)base + i * size))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *history_any(const void *p)
{
	return history(p);
}

json_t *proto_detail(const struct view_detail *d)
{
	struct enc e = enc_begin();
	put(&e, "recent",
	    array_of(d->recent, MIN(d->nrecent, (unsigned)VIEW_HISTORY), sizeof(d->recent[0]),
		     history_any));
	put_u64(&e, "out_seq", d->out_seq);
	put_bytes(&e, "out", d->out, MIN(d->out_len, sizeof(d->out)));
	put_bytes(&e, "err", d->err, MIN(d->err_len, sizeof(d->err)));
	return enc_end(&e);
}

json_t *proto_item(const struct view_item *it)
{
	struct enc e = enc_begin();
	put(&e, "h", history(&it->h));
	put_double(&e, "start", it->start);
	put_int(&e, "attempts", it->attempts);
	put_bool(&e, "timed_out", it->timed_out);
	put_u64(&e, "item_len", it->item_len);
	put_bytes(&e, "item", it->item, MIN(it->item_len, sizeof(it->item)));
	put_bool(&e, "cmd_cut", it->cmd_cut);
	put_bytes(&e, "cmd", it->cmd, MIN(it->cmd_len, sizeof(it->cmd)));
	put_u64(&e, "out_total", it->out_total);
	put_bytes(&e, "out", it->out, MIN(it->out_len, sizeof(it->out)));
	put_u64(&e, "err_total", it->err_total);
	put_bool(&e, "err_cut", it->err_cut);
	put_bytes(&e, "err", it->err, MIN(it->err_len, sizeof(it->err)));
	return enc_end(&e);
}

static json_t *code_count(const void *p)
{
	const struct view_code_count *c = p;
	struct enc e = enc_begin();
	put_int(&e, "exitcode", c->exitcode);
	put_u64(&e, "n", c->n);
	return enc_end(&e);
}

json_t *proto_summary(const struct view_summary *s)
{
	struct enc e = enc_begin();
	put_u64(&e, "done", s->done);
	put_u64(&e, "failed", s->failed);
	put_u64(&e, "not_run", s->not_run);
	put_u64(&e, "skipped", s->skipped);
	put_u64(&e, "too_long", s->too_long);
	put_u64(&e, "unwritten", s->unwritten);
	put_bool(&e, "input_complete", s->input_complete);
	put_bool(&e, "terminated", s->terminated);
	put_bool(&e, "halted", s->halted);
	put_int(&e, "halt_status", s->halt_status);
	put(&e, "codes",
	    array_of(s->codes, MIN(s->ncodes, ARRAY_SIZE(s->codes)), sizeof(s->codes[0]),
		     code_count));
	put_u64(&e, "other_codes", s->other_codes);
	put_double(&e, "elapsed", s->elapsed);
	put_double(&e, "rate", s->rate);
	put_bool(&e, "output_closed", s->output_closed);
	put_int(&e, "write_error", s->write_error);
	put_int(&e, "read_error", s->read_error);
	put_u64(&e, "dropped_bytes", s->dropped_bytes);
	put_text(&e, "fatal", s->fatal, sizeof(s->fatal));
	return enc_end(&e);
}

static json_t *failed_item(const void *p)
{
	const struct view_failed_item *it = p;
	struct enc e = enc_begin();
	put_u64(&e, "seq", it->seq);
	put_int(&e, "exitcode", it->exitcode);
	put_bool(&e, "core", it->core);
	put_u64(&e, "item_len", it->item_len);
	put_bytes(&e, "item", it->item, MIN(it->item_len, sizeof(it->item)));
	return enc_end(&e);
}

json_t *proto_failed(const struct view_failed *f)
{
	struct enc e = enc_begin();
	put(&e, "items",
	    array_of(f->items, MIN(f->n, (unsigned)VIEW_FAILED_KEPT), sizeof(f->items[0]),
		     failed_item));
	put_u64(&e, "total", f->total);
	return enc_end(&e);
}

/* --- decoders --- */

/* An object being read: where it is, for the messages ("detail: \"recent\"[3]"), and the
 * first error. Every get_ does nothing once there is one, so a decoder is a plain list of
 * fields, and stops at the first bad one. */
struct dec {
	const json_t *o;
	char where[96];
	char *err;
	size_t errlen;
	int rc;
};

static void dec_fail(struct dec *d, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "where: \"key\": what" (no key: "where: what"), and -EPROTO. */
static void dec_fail(struct dec *d, const char *key, const char *fmt, ...)
{
	d->rc = -EPROTO;
	if (!d->errlen)
		return;
	int n = key ? snprintf(d->err, d->errlen, "%s: \"%s\": ", d->where, key)
		    : snprintf(d->err, d->errlen, "%s: ", d->where);
	if (n >= 0 && (size_t)n < d->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(d->err + n, d->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
}

static void dec_begin(struct dec *d, const json_t *j, char *err, size_t errlen, const char *fmt,
		      ...) __attribute__((format(printf, 5, 6)));

/* The decoder of the object j, at the place named by fmt (cut to fit: the messages stay one
 * line). */
static void dec_begin(struct dec *d, const json_t *j, char *err, size_t errlen, const char *fmt,
		      ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->where, sizeof(d->where), fmt, ap);
	va_end(ap);
	d->o = j;
	d->err = err;
	d->errlen = errlen;
	d->rc = 0;
	if (!json_is_object(j))
		dec_fail(d, NULL, "expected an object");
}

/* The value of key, or NULL (and the error) when there is none or there was an error. */
static const json_t *field(struct dec *d, const char *key)
{
	if (d->rc)
		return NULL;
	const json_t *v = json_object_get(d->o, key);
	if (!v)
		dec_fail(d, key, "missing");
	return v;
}

/* An integer in [lo, hi]; 0 when there is none. */
static json_int_t get_integer(struct dec *d, const char *key, json_int_t lo, json_int_t hi)
{
	const json_t *v = field(d, key);
	if (!v)
		return 0;
	if (!json_is_integer(v)) {
		dec_fail(d, key, "expected an integer");
		return 0;
	}
	json_int_t x = json_integer_value(v);
	if (x < lo || x > hi) {
		dec_fail(d, key, "%" JSON_INTEGER_FORMAT " out of range", x);
		return 0;
	}
	return x;
}

static void get_u64(struct dec *d, const char *key, uint64_t *out)
{
	*out = (uint64_t)get_integer(d, key, 0, LLONG_MAX);
}

static void get_size(struct dec *d, const char *key, size_t *out)
{
	*out = (size_t)get_integer(d, key, 0,
				   (json_int_t)MIN((uint64_t)SIZE_MAX, (uint64_t)LLONG_MAX));
}

static void get_unsigned(struct dec *d, const char *key, unsigned *out)
{
	*out = (unsigned)get_integer(d, key, 0, UINT_MAX);
}

/* An int, or a pid_t (an int on every system pooltop runs on). */
static void get_int(struct dec *d, const char *key, int *out)
{
	*out = (int)get_integer(d, key, INT_MIN, INT_MAX);
}

static void get_bool(struct dec *d, const char *key, bool *out)
{
	const json_t *v = field(d, key);
	if (v && !json_is_boolean(v))
		dec_fail(d, key, "expected true or false");
	*out = v && json_is_true(v);
}

/* A real, or an integer (a script may well write 2 for 2.0). */
static void get_double(struct dec *d, const char *key, double *out)
{
	const json_t *v = field(d, key);
	if (v && !json_is_number(v))
		dec_fail(d, key, "expected a number");
	*out = v && !d->rc ? json_number_value(v) : 0;
}

/* A word, parsed by parse (one of the proto_*_parse, into an int): the enums are ints. */
static int get_word(struct dec *d, const char *key, int (*parse)(const char *, int *))
{
	const json_t *v = field(d, key);
	int x = 0;
	if (!v)
		return 0;
	if (!json_is_string(v)) {
		dec_fail(d, key, "expected a string");
	} else if (parse(json_string_value(v), &x)) {
		char q[40];
		quote(q, sizeof(q), json_string_value(v));
		dec_fail(d, key, "unknown value \"%s\"", q);
	}
	return x;
}

#define WORD_PARSER(name, type, parse)                                                             \
	static int name(const char *w, int *out)                                                   \
	{                                                                                          \
		type v;                                                                            \
		int rc = parse(w, &v);                                                             \
		if (!rc)                                                                           \
			*out = (int)v;                                                             \
		return rc;                                                                         \
	}
WORD_PARSER(parse_state, enum view_state, proto_state_parse)
WORD_PARSER(parse_cause, enum view_cause, proto_cause_parse)
WORD_PARSER(parse_event, enum view_event_kind, proto_event_parse)

static void get_state(struct dec *d, const char *key, enum view_state *out)
{
	*out = (enum view_state)get_word(d, key, parse_state);
}

static void get_cause(struct dec *d, const char *key, enum view_cause *out)
{
	*out = (enum view_cause)get_word(d, key, parse_cause);
}

static void get_event_kind(struct dec *d, const char *key, enum view_event_kind *out)
{
	*out = (enum view_event_kind)get_word(d, key, parse_event);
}

/* Bytes into buf (cap bytes; *len of them): more is refused. */
static void get_bytes(struct dec *d, const char *key, void *buf, size_t cap, size_t *len)
{
	char why[160];
	*len = 0;
	if (!d->rc && proto_get_bytes(d->o, key, buf, cap, len, why, sizeof(why))) {
		*len = 0;
		dec_fail(d, NULL, "%s", why);
	}
}

/* A C string into a char array of size bytes: cut to fit, always NUL-terminated. */
static void get_text(struct dec *d, const char *key, char *buf, size_t size)
{
	char why[160];
	size_t len = 0;
	int rc = d->rc ? 0 : proto_get_bytes(d->o, key, buf, size - 1, &len, why, sizeof(why));
	if (rc && rc != -EMSGSIZE) {
		len = 0;
		dec_fail(d, NULL, "%s", why);
	}
	buf[len] = '\0';
}

/* A preview of the first bytes of an item whose whole length is whole: exactly
 * MIN(whole, cap) bytes, the struct having no length of its own for them. */
static void get_preview(struct dec *d, const char *key, void *buf, size_t cap, size_t whole)
{
	size_t len;
	get_bytes(d, key, buf, cap, &len);
	if (!d->rc && len != MIN(whole, cap))
		dec_fail(d, key, "%zu bytes for an item of %zu (expected %zu)", len, whole,
			 MIN(whole, cap));
}

/* The number of elements of the array key, at most max (0 on an error). */
static size_t get_array(struct dec *d, const char *key, size_t max)
{
	const json_t *a = field(d, key);
	if (!a)
		return 0;
	if (!json_is_array(a)) {
		dec_fail(d, key, "expected an array");
		return 0;
	}
	size_t n = json_array_size(a);
	if (n > max) {
		dec_fail(d, key, "%zu elements, at most %zu", n, max);
		return 0;
	}
	return n;
}

/* The decoder of element i of the array key of d. */
static void dec_element(struct dec *sub, const struct dec *d, const char *key, size_t i)
{
	dec_begin(sub, json_array_get(json_object_get(d->o, key), i), d->err, d->errlen,
		  "%s: \"%s\"[%zu]", d->where, key, i);
}

int proto_totals_get(const json_t *j, struct view_totals *t, char *err, size_t errlen)
{
	struct dec d;
	memset(t, 0, sizeof(*t));
	dec_begin(&d, j, err, errlen, "totals");
	get_unsigned(&d, "size", &t->size);
	get_unsigned(&d, "alive", &t->alive);
	get_unsigned(&d, "busy", &t->busy);
	get_unsigned(&d, "hung", &t->hung);
	get_unsigned(&d, "start_failing", &t->start_failing);
	get_u64(&d, "submitted", &t->submitted);
	get_u64(&d, "done", &t->done);
	get_u64(&d, "failed", &t->failed);
	get_u64(&d, "retried", &t->retried);
	get_u64(&d, "requeued", &t->requeued);
	get_u64(&d, "running", &t->running);
	get_u64(&d, "queued", &t->queued);
	get_u64(&d, "not_run", &t->not_run);
	get_u64(&d, "duplicates", &t->duplicates);
	get_u64(&d, "stats_dropped", &t->stats_dropped);
	get_u64(&d, "repairs", &t->repairs);
	get_bool(&d, "input_ended", &t->input_ended);
	get_bool(&d, "closing", &t->closing);
	get_bool(&d, "paused", &t->paused);
	get_bool(&d, "finished", &t->finished);
	get_double(&d, "rate_now", &t->rate_now);
	get_double(&d, "rate_avg", &t->rate_avg);
	get_u64(&d, "elapsed_ns", &t->elapsed_ns);
	get_u64(&d, "hang_after_ns", &t->hang_after_ns);
	get_u64(&d, "timeout_ns", &t->timeout_ns);
	get_u64(&d, "median_runtime_ns", &t->median_runtime_ns);
	get_bool(&d, "mem_waiting", &t->mem_waiting);
	get_u64(&d, "mem_available", &t->mem_available);
	get_u64(&d, "memfree", &t->memfree);
	get_bool(&d, "output_blocked", &t->output_blocked);
	get_u64(&d, "output_pending", &t->output_pending);
	get_bool(&d, "over", &t->over);
	return d.rc;
}

int proto_row_get(const json_t *j, struct view_row *r, char *err, size_t errlen)
{
	struct dec d;
	size_t one; /* proc_state: one letter, or none */
	memset(r, 0, sizeof(*r));
	dec_begin(&d, j, err, errlen, "row");
	get_unsigned(&d, "index", &r->index);
	get_state(&d, "state", &r->state);
	get_bool(&d, "hung", &r->hung);
	get_int(&d, "pid", &r->pid);
	get_int(&d, "job_pid", &r->job_pid);
	get_u64(&d, "generation", &r->generation);
	get_int(&d, "last_pid", &r->last_pid);
	get_bool(&d, "has_exit", &r->has_exit);
	get_int(&d, "last_exit", &r->last_exit);
	get_bool(&d, "last_core", &r->last_core);
	get_cause(&d, "last_cause", &r->last_cause);
	get_bool(&d, "fini_ran", &r->fini_ran);
	get_unsigned(&d, "restarts", &r->restarts);
	get_u64(&d, "done", &r->done);
	get_u64(&d, "failed", &r->failed);
	get_double(&d, "rate", &r->rate);
	get_u64(&d, "cur_seq", &r->cur_seq);
	get_u64(&d, "age_ns", &r->age_ns);
	get_size(&d, "cur_len", &r->cur_len);
	get_bytes(&d, "cur_item", r->cur_item, sizeof(r->cur_item), &r->cur_item_len);
	get_u64(&d, "backoff_ns", &r->backoff_ns);
	get_bool(&d, "start_failing", &r->start_failing);
	get_int(&d, "start_err", &r->start_err);
	get_text(&d, "start_call", r->start_call, sizeof(r->start_call));
	get_unsigned(&d, "start_retries", &r->start_retries);
	get_u64(&d, "start_failing_ns", &r->start_failing_ns);
	get_bool(&d, "proc_known", &r->proc_known);
	get_bool(&d, "proc_job", &r->proc_job);
	get_unsigned(&d, "job_procs", &r->job_procs);
	get_bytes(&d, "proc_state", &r->proc_state, 1, &one);
	get_double(&d, "cpu_percent", &r->cpu_percent);
	get_u64(&d, "rss_bytes", &r->rss_bytes);
	if (json_object_get(j, "host"))
		get_text(&d, "host", r->host, sizeof(r->host));
	return d.rc;
}

int proto_event_get(const json_t *j, struct view_event *e, char *err, size_t errlen)
{
	struct dec d;
	memset(e, 0, sizeof(*e));
	dec_begin(&d, j, err, errlen, "event");
	get_u64(&d, "id", &e->id);
	get_u64(&d, "time_ns", &e->time_ns);
	get_event_kind(&d, "kind", &e->kind);
	get_int(&d, "slot", &e->slot);
	get_int(&d, "pid", &e->pid);
	get_int(&d, "exitcode", &e->exitcode);
	get_bool(&d, "core", &e->core);
	get_cause(&d, "cause", &e->cause);
	get_u64(&d, "seq", &e->seq);
	get_text(&d, "text", e->text, sizeof(e->text));
	return d.rc;
}

static void history_get(struct dec *d, struct view_history *h)
{
	get_u64(d, "seq", &h->seq);
	get_int(d, "exitcode", &h->exitcode);
	get_bool(d, "core", &h->core);
	get_bool(d, "done", &h->done);
	get_u64(d, "runtime_ns", &h->runtime_ns);
	get_int(d, "pid", &h->pid);
	get_size(d, "item_len", &h->item_len);
	get_preview(d, "item", h->item, sizeof(h->item), h->item_len);
}

int proto_detail_get(const json_t *j, struct view_detail *out, char *err, size_t errlen)
{
	struct dec d;
	memset(out, 0, sizeof(*out));
	dec_begin(&d, j, err, errlen, "detail");
	size_t n = get_array(&d, "recent", ARRAY_SIZE(out->recent));
	for (size_t i = 0; i < n && !d.rc; i++) {
		struct dec sub;
		dec_element(&sub, &d, "recent", i);
		history_get(&sub, &out->recent[i]);
		d.rc = sub.rc;
	}
	out->nrecent = (unsigned)n;
	get_u64(&d, "out_seq", &out->out_seq);
	get_bytes(&d, "out", out->out, sizeof(out->out), &out->out_len);
	get_bytes(&d, "err", out->err, sizeof(out->err), &out->err_len);
	return d.rc;
}

int proto_item_get(const json_t *j, struct view_item *it, char *err, size_t errlen)
{
	struct dec d;
	memset(it, 0, sizeof(*it));
	dec_begin(&d, j, err, errlen, "item");
	const json_t *h = field(&d, "h");
	if (h) {
		struct dec sub;
		dec_begin(&sub, h, err, errlen, "%s: \"h\"", d.where);
		history_get(&sub, &it->h);
		d.rc = sub.rc;
	}
	get_double(&d, "start", &it->start);
	get_unsigned(&d, "attempts", &it->attempts);
	get_bool(&d, "timed_out", &it->timed_out);
	get_size(&d, "item_len", &it->item_len);
	get_preview(&d, "item", it->item, sizeof(it->item), it->item_len);
	get_bool(&d, "cmd_cut", &it->cmd_cut);
	get_bytes(&d, "cmd", it->cmd, sizeof(it->cmd), &it->cmd_len);
	get_u64(&d, "out_total", &it->out_total);
	get_bytes(&d, "out", it->out, sizeof(it->out), &it->out_len);
	get_u64(&d, "err_total", &it->err_total);
	get_bool(&d, "err_cut", &it->err_cut);
	get_bytes(&d, "err", it->err, sizeof(it->err), &it->err_len);
	return d.rc;
}

int proto_summary_get(const json_t *j, struct view_summary *s, char *err, size_t errlen)
{
	struct dec d;
	memset(s, 0, sizeof(*s));
	dec_begin(&d, j, err, errlen, "summary");
	get_u64(&d, "done", &s->done);
	get_u64(&d, "failed", &s->failed);
	get_u64(&d, "not_run", &s->not_run);
	get_u64(&d, "skipped", &s->skipped);
	get_u64(&d, "too_long", &s->too_long);
	get_u64(&d, "unwritten", &s->unwritten);
	get_bool(&d, "input_complete", &s->input_complete);
	get_bool(&d, "terminated", &s->terminated);
	get_bool(&d, "halted", &s->halted);
	get_int(&d, "halt_status", &s->halt_status);
	size_t n = get_array(&d, "codes", ARRAY_SIZE(s->codes));
	for (size_t i = 0; i < n && !d.rc; i++) {
		struct dec sub;
		dec_element(&sub, &d, "codes", i);
		get_int(&sub, "exitcode", &s->codes[i].exitcode);
		get_u64(&sub, "n", &s->codes[i].n);
		d.rc = sub.rc;
	}
	s->ncodes = n;
	get_u64(&d, "other_codes", &s->other_codes);
	get_double(&d, "elapsed", &s->elapsed);
	get_double(&d, "rate", &s->rate);
	get_bool(&d, "output_closed", &s->output_closed);
	get_int(&d, "write_error", &s->write_error);
	get_int(&d, "read_error", &s->read_error);
	get_u64(&d, "dropped_bytes", &s->dropped_bytes);
	get_text(&d, "fatal", s->fatal, sizeof(s->fatal));
	return d.rc;
}

int proto_failed_get(const json_t *j, struct view_failed *f, char *err, size_t errlen)
{
	struct dec d;
	memset(f, 0, sizeof(*f));
	dec_begin(&d, j, err, errlen, "failed");
	size_t n = get_array(&d, "items", ARRAY_SIZE(f->items));
	for (size_t i = 0; i < n && !d.rc; i++) {
		struct view_failed_item *it = &f->items[i];
		struct dec sub;
		dec_element(&sub, &d, "items", i);
		get_u64(&sub, "seq", &it->seq);
		get_int(&sub, "exitcode", &it->exitcode);
		get_bool(&sub, "core", &it->core);
		get_size(&sub, "item_len", &it->item_len);
		get_preview(&sub, "item", it->item, sizeof(it->item), it->item_len);
		d.rc = sub.rc;
	}
	f->n = (unsigned)n;
	get_u64(&d, "total", &f->total);
	return d.rc;
}

/* --- lines --- */

char *proto_line(json_t *msg, size_t *len)
{
	if (!msg)
		return NULL;
	/* Compact: no newline inside (one in a string is escaped as \n). */
	size_t flags = JSON_COMPACT, n = json_dumpb(msg, NULL, 0, flags);
	char *s = n ? malloc(n + 2) : NULL;
	if (s && json_dumpb(msg, s, n, flags) == n) {
		s[n] = '\n';
		s[n + 1] = '\0';
		*len = n + 1;
	} else {
		free(s);
		s = NULL;
	}
	json_decref(msg);
	return s;
}

/* A message with its control characters as '?': jansson quotes the text near an error. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

json_t *proto_parse(const char *line, size_t len, char *err, size_t errlen)
{
	json_error_t e;
	json_t *j = json_loadb(line, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &e);
	const char *why = NULL;
	if (!j) {
		if (errlen) {
			snprintf(err, errlen, "not JSON: %s at column %d", e.text, e.column);
			one_line(err);
		}
		return NULL;
	}
	const json_t *type = json_object_get(j, "type");
	if (!json_is_object(j))
		why = "not an object";
	else if (!type)
		why = "no \"type\"";
	else if (!json_is_string(type))
		why = "\"type\": expected a string";
	if (why) {
		if (errlen)
			snprintf(err, errlen, "%s", why);
		json_decref(j);
		return NULL;
	}
	return j;
}

/* --- the reader --- */

void proto_reader_init(struct proto_reader *r)
{
	memset(r, 0, sizeof(*r));
}

void proto_reader_free(struct proto_reader *r)
{
	free(r->buf);
	proto_reader_init(r);
}

char *proto_reader_space(struct proto_reader *r, size_t want, size_t *room)
{
	if (!want)
		want = 1;
	/* What was read is moved to the front, before any growth. */
	if (r->start && r->cap - r->len < want) {
		memmove(r->buf, r->buf + r->start, r->len - r->start);
		r->len -= r->start;
		r->scan -= r->start;
		r->start = 0;
	}
	if (r->cap - r->len < want && r->cap < PROTO_READER_MAX) {
		size_t cap = MAX(MAX(r->cap * 2, r->len + want), (size_t)4096);
		cap = MIN(cap, PROTO_READER_MAX);
		char *buf = realloc(r->buf, cap);
		if (!buf)
			return NULL;
		r->buf = buf;
		r->cap = cap;
	}
	if (r->cap == r->len)
		return NULL;
	*room = r->cap - r->len;
	return r->buf + r->len;
}

void proto_reader_commit(struct proto_reader *r, size_t n)
{
	r->len += MIN(n, r->cap - r->len);
}

int proto_reader_next(struct proto_reader *r, const char **line, size_t *len)
{
	if (r->start == r->len) {
		/* All taken: the next read goes to the front, no move needed. */
		r->start = r->len = r->scan = 0;
		return 0;
	}
	const char *nl = memchr(r->buf + r->scan, '\n', r->len - r->scan);
	if (!nl) {
		r->scan = r->len;
		return r->len - r->start > PROTO_MAX_LINE ? -EMSGSIZE : 0;
	}
	size_t n = (size_t)(nl - (r->buf + r->start));
	if (n > PROTO_MAX_LINE) {
		r->scan = (size_t)(nl - r->buf); /* found again next time: -EMSGSIZE again */
		return -EMSGSIZE;
	}
	*line = r->buf + r->start;
	*len = n;
	r->start = r->scan = (size_t)(nl - r->buf) + 1;
	return 1;
}
