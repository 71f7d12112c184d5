/* Tests for proto: every view_data struct through JSON and a line and back unchanged, the enum
 * words, bytes as strings or base64, decoders that refuse every malformed field by name (what
 * a broken or hostile peer could send), and the reader that cuts a stream into lines within
 * bounded memory. */
#include "proto.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

/* Not UTF-8 (0xff), with a NUL: must go as base64. */
static const char binary[] = {'b', 'i', 'n', '\0', (char)0xff, (char)0xfe, '\n', 'x'};
/* UTF-8, with a NUL and a newline: must stay a string. */
static const char utf8[] = "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x99\x82\n\0end";

/* o as a message on a line and parsed back: the whole path a peer's object takes. The extra
 * "type" key is one the decoders do not know, and ignore. */
static json_t *through_line(json_t *o)
{
	assert_non_null(o);
	assert_int_equal(json_object_set_new(o, "type", json_string("test")), 0);
	size_t n = 0;
	char *line = proto_line(o, &n);
	assert_non_null(line);
	assert_int_equal(n, strlen(line));
	assert_true(n > 0 && line[n - 1] == '\n');
	assert_null(memchr(line, '\n', n - 1));
	char err[256] = "";
	json_t *j = proto_parse(line, n - 1, err, sizeof(err));
	if (!j)
		fail_msg("%s: %s", err, line);
	free(line);
	return j;
}

/* The value of key in o is a JSON string (not under key"_b64"). */
static void assert_string_key(const json_t *o, const char *key)
{
	char key64[64];
	snprintf(key64, sizeof(key64), "%s_b64", key);
	assert_true(json_is_string(json_object_get(o, key)));
	assert_null(json_object_get(o, key64));
}

static void assert_b64_key(const json_t *o, const char *key)
{
	char key64[64];
	snprintf(key64, sizeof(key64), "%s_b64", key);
	assert_true(json_is_string(json_object_get(o, key64)));
	assert_null(json_object_get(o, key));
}

/* --- structs with every field set (none zero, so a field lost on the way shows) --- */

static void fill_totals(struct view_totals *t)
{
	memset(t, 0, sizeof(*t));
	t->size = 4000000000u;
	t->alive = 7;
	t->busy = 6;
	t->hung = 2;
	t->start_failing = 1;
	t->submitted = 1ull << 40;
	t->done = 123456789012ull;
	t->failed = 17;
	t->retried = 3;
	t->requeued = 4;
	t->running = 6;
	t->queued = 99;
	t->not_run = 5;
	t->duplicates = 1;
	t->stats_dropped = 8;
	t->repairs = 2;
	t->input_ended = true;
	t->closing = true;
	t->paused = true;
	t->finished = true;
	t->rate_now = 1234.5678901234567;
	t->rate_avg = 1.0 / 3.0;
	t->elapsed_ns = 3600 * NS_PER_S + 1;
	t->hang_after_ns = 30 * NS_PER_S;
	t->timeout_ns = 60 * NS_PER_S;
	t->median_runtime_ns = 12345678;
	t->mem_waiting = true;
	t->mem_available = 1ull << 33;
	t->memfree = 1ull << 30;
	t->output_blocked = true;
	t->output_pending = 65536;
	t->over = true;
}

static void fill_row(struct view_row *r)
{
	memset(r, 0, sizeof(*r));
	r->index = 1023;
	r->state = VIEW_STOPPED;
	r->hung = true;
	r->pid = 4194304;
	r->job_pid = 4194303;
	r->generation = 77;
	r->last_pid = 1234;
	r->has_exit = true;
	r->last_exit = -9;
	r->last_core = true;
	r->last_cause = VIEW_CAUSE_JOIN_TIMEOUT;
	r->fini_ran = true;
	r->restarts = 12;
	r->done = 1000;
	r->failed = 10;
	r->rate = 0.1;
	r->cur_seq = 5555;
	r->age_ns = 999999999;
	r->cur_len = 300;
	memcpy(r->cur_item, binary, sizeof(binary));
	r->cur_item_len = sizeof(binary);
	r->backoff_ns = 250 * NS_PER_MS;
	r->start_failing = true;
	r->start_err = -EAGAIN;
	strcpy(r->start_call, "fork");
	r->start_retries = 6;
	r->start_failing_ns = 630 * NS_PER_MS;
	r->proc_known = true;
	r->proc_job = true;
	r->job_procs = 3;
	r->proc_state = 'D';
	r->cpu_percent = 187.5;
	r->rss_bytes = 1ull << 35;
}

static void fill_event(struct view_event *e)
{
	memset(e, 0, sizeof(*e));
	e->id = 42;
	e->time_ns = 1700000000ull * NS_PER_S;
	e->kind = VIEW_EVENT_STOP;
	e->slot = 3;
	e->pid = 999;
	e->exitcode = 137;
	e->core = true;
	e->cause = VIEW_CAUSE_TIMEOUT;
	e->seq = 31;
	snprintf(e->text, sizeof(e->text),
		 "worker 3: item \"caf\xc3\xa9\" timed out \xe2\x86\x92 killed");
}

static void fill_history(struct view_history *h, uint64_t seq, const void *item, size_t n,
			 size_t whole)
{
	h->seq = seq;
	h->exitcode = (int)seq - 3;
	h->core = seq & 1;
	h->done = true;
	h->runtime_ns = seq * 1000003;
	h->pid = 100 + (int)seq;
	h->item_len = whole;
	memcpy(h->item, item, MIN(n, sizeof(h->item)));
}

static void fill_detail(struct view_detail *d, unsigned nrecent)
{
	char long_item[100];
	memset(d, 0, sizeof(*d));
	memset(long_item, 'L', sizeof(long_item));
	for (unsigned i = 0; i < nrecent; i++) {
		if (i % 3 == 0)
			fill_history(&d->recent[i], 100 - i, binary, sizeof(binary),
				     sizeof(binary));
		else if (i % 3 == 1)
			fill_history(&d->recent[i], 100 - i, utf8, sizeof(utf8), sizeof(utf8));
		else /* longer than the preview: its first 48 bytes */
			fill_history(&d->recent[i], 100 - i, long_item, sizeof(long_item), 5000);
	}
	d->nrecent = nrecent;
	d->out_seq = 100;
	for (size_t i = 0; i < sizeof(d->out); i++)
		d->out[i] = (char)(i * 7); /* every byte value: not UTF-8 */
	d->out_len = sizeof(d->out);
	memcpy(d->err, utf8, sizeof(utf8));
	d->err_len = sizeof(utf8);
}

static void fill_item(struct view_item *it)
{
	memset(it, 0, sizeof(*it));
	char preview[VIEW_ITEM_PREVIEW];
	memset(preview, 'p', sizeof(preview));
	memcpy(preview, utf8, sizeof(utf8));
	fill_history(&it->h, 9, preview, sizeof(preview), 500);
	it->start = 1700000000.123456;
	it->attempts = 3;
	it->timed_out = true;
	it->item_len = 500;
	memcpy(it->item, preview, sizeof(it->item));
	it->cmd_cut = true;
	memset(it->cmd, 'c', sizeof(it->cmd));
	const char cmd[] = "sh -c 'echo caf\xc3\xa9'";
	memcpy(it->cmd, cmd, strlen(cmd));
	it->cmd_len = sizeof(it->cmd);
	it->out_total = 1ull << 32;
	memcpy(it->out, binary, sizeof(binary));
	it->out_len = sizeof(binary);
	it->err_total = 70000;
	it->err_cut = true;
	memset(it->err, 'e', sizeof(it->err));
	it->err_len = sizeof(it->err);
}

static void fill_summary(struct view_summary *s, size_t ncodes)
{
	memset(s, 0, sizeof(*s));
	s->done = 1000;
	s->failed = 20;
	s->not_run = 3;
	s->skipped = 4;
	s->too_long = 5;
	s->unwritten = 6;
	s->input_complete = true;
	s->terminated = true;
	s->halted = true;
	s->halt_status = 3;
	for (size_t i = 0; i < ncodes; i++) {
		s->codes[i].exitcode = (int)i - 1; /* -1: killed; 0 cannot be, but may be sent */
		s->codes[i].n = 100 - i;
	}
	s->ncodes = ncodes;
	s->other_codes = 7;
	s->elapsed = 12.25;
	s->rate = 81.63265306122449;
	s->output_closed = true;
	s->write_error = -EPIPE;
	s->read_error = -EIO;
	s->dropped_bytes = 4096;
	snprintf(s->fatal, sizeof(s->fatal), "worker 0 could not start: \xe2\x80\x9c%s\xe2\x80\x9d",
		 "No such file");
}

static void fill_failed(struct view_failed *f, unsigned n)
{
	memset(f, 0, sizeof(*f));
	for (unsigned i = 0; i < n; i++) {
		struct view_failed_item *it = &f->items[i];
		it->seq = 10 + i;
		it->exitcode = i % 2 ? 1 : -11;
		it->core = i % 2 == 0;
		if (i % 2) {
			it->item_len = sizeof(binary);
			memcpy(it->item, binary, sizeof(binary));
		} else {
			it->item_len = 1000;
			memset(it->item, 'f', sizeof(it->item));
		}
	}
	f->n = n;
	f->total = 100;
}

/* --- round trips --- */

static void test_totals_round_trip(void **state)
{
	(void)state;
	struct view_totals in, out;
	char err[256] = "";
	fill_totals(&in);
	json_t *j = through_line(proto_totals(&in));
	assert_true(json_is_real(json_object_get(j, "rate_now")));
	assert_true(json_is_integer(json_object_get(j, "done")));
	assert_true(json_is_true(json_object_get(j, "over")));
	assert_int_equal(proto_totals_get(j, &out, err, sizeof(err)), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	json_decref(j);
}

static void test_row_round_trip(void **state)
{
	(void)state;
	struct view_row in, out;
	char err[256] = "";
	fill_row(&in);
	json_t *j = through_line(proto_row(&in));
	assert_string_equal(json_string_value(json_object_get(j, "state")), "stopped");
	assert_string_equal(json_string_value(json_object_get(j, "last_cause")), "join_timeout");
	assert_b64_key(j, "cur_item");
	assert_null(json_object_get(j, "cur_item_len"));
	assert_string_equal(json_string_value(json_object_get(j, "start_call")), "fork");
	assert_string_equal(json_string_value(json_object_get(j, "proc_state")), "D");
	assert_int_equal(proto_row_get(j, &out, err, sizeof(err)), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	json_decref(j);

	/* An idle row: no item, no start error, no process state. */
	memset(&in, 0, sizeof(in));
	in.state = VIEW_IDLE;
	j = through_line(proto_row(&in));
	assert_string_equal(json_string_value(json_object_get(j, "cur_item")), "");
	assert_string_equal(json_string_value(json_object_get(j, "proc_state")), "");
	assert_int_equal(proto_row_get(j, &out, err, sizeof(err)), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	json_decref(j);
}

/* A row of a view across machines names its host; a row of one machine has no "host" key
 * (what a viewer of an older pooltop reads is unchanged), and reads as "". */
static void test_row_host(void **state)
{
	(void)state;
	struct view_row in, out;
	char err[256] = "";
	fill_row(&in);
	json_t *j = through_line(proto_row(&in));
	assert_null(json_object_get(j, "host"));
	assert_int_equal(proto_row_get(j, &out, err, sizeof(err)), 0);
	assert_string_equal(out.host, "");
	json_decref(j);

	strcpy(in.host, "h2.example-64");
	j = through_line(proto_row(&in));
	assert_string_equal(json_string_value(json_object_get(j, "host")), "h2.example-64");
	assert_int_equal(proto_row_get(j, &out, err, sizeof(err)), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	json_decref(j);

	/* The longest name fits; a host that is not text is refused. */
	memset(in.host, 'h', VIEW_HOST_MAX);
	in.host[VIEW_HOST_MAX] = '\0';
	j = through_line(proto_row(&in));
	assert_int_equal(proto_row_get(j, &out, err, sizeof(err)), 0);
	assert_string_equal(out.host, in.host);
	json_object_set_new(j, "host", json_integer(3));
	assert_int_not_equal(proto_row_get(j, &out, err, sizeof(err)), 0);
	json_decref(j);
}

static void test_event_round_trip(void **state)
{
	(void)state;
	struct view_event in, out;
	char err[256] = "";
	fill_event(&in);
	json_t *j = through_line(proto_event(&in));
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "stop");
	assert_string_equal(json_string_value(json_object_get(j, "cause")), "timeout");
	assert_string_equal(json_string_value(json_object_get(j, "text")), in.text);
	assert_int_equal(proto_event_get(j, &out, err, sizeof(err)), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	json_decref(j);

	/* slot -1: none. */
	in.slot = -1;
	j = through_line(proto_event(&in));
	assert_int_equal(proto_event_get(j, &out, err, sizeof(err)), 0);
	assert_int_equal(out.slot, -1);
	json_decref(j);
}

static void test_detail_round_trip(void **state)
{
	(void)state;
	static struct view_detail in, out;
	char err[256] = "";
	unsigned counts[] = {0, 3, VIEW_HISTORY};
	for (size_t k = 0; k < ARRAY_SIZE(counts); k++) {
		fill_detail(&in, counts[k]);
		json_t *j = through_line(proto_detail(&in));
		assert_int_equal(json_array_size(json_object_get(j, "recent")), counts[k]);
		assert_b64_key(j, "out");
		assert_string_key(j, "err");
		assert_int_equal(json_string_length(json_object_get(j, "err")), sizeof(utf8));
		if (counts[k] >= 3) {
			json_t *a = json_object_get(j, "recent");
			assert_b64_key(json_array_get(a, 0), "item");
			assert_string_key(json_array_get(a, 1), "item");
			assert_int_equal(
				json_string_length(json_object_get(json_array_get(a, 2), "item")),
				48);
		}
		assert_int_equal(proto_detail_get(j, &out, err, sizeof(err)), 0);
		assert_memory_equal(&in, &out, sizeof(in));
		json_decref(j);
	}
}

static void test_item_round_trip(void **state)
{
	(void)state;
	static struct view_item in, out;
	char err[256] = "";
	fill_item(&in);
	json_t *j = through_line(proto_item(&in));
	assert_true(json_is_object(json_object_get(j, "h")));
	assert_string_key(j, "item");
	assert_string_key(j, "cmd");
	assert_b64_key(j, "out");
	assert_string_key(j, "err");
	assert_int_equal(proto_item_get(j, &out, err, sizeof(err)), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	json_decref(j);
}

static void test_summary_round_trip(void **state)
{
	(void)state;
	struct view_summary in, out;
	char err[256] = "";
	size_t counts[] = {0, 3, 16};
	for (size_t k = 0; k < ARRAY_SIZE(counts); k++) {
		fill_summary(&in, counts[k]);
		json_t *j = through_line(proto_summary(&in));
		assert_int_equal(json_array_size(json_object_get(j, "codes")), counts[k]);
		assert_string_key(j, "fatal");
		assert_int_equal(proto_summary_get(j, &out, err, sizeof(err)), 0);
		assert_memory_equal(&in, &out, sizeof(in));
		json_decref(j);
	}
}

static void test_failed_round_trip(void **state)
{
	(void)state;
	struct view_failed in, out;
	char err[256] = "";
	unsigned counts[] = {0, 2, VIEW_FAILED_KEPT};
	for (size_t k = 0; k < ARRAY_SIZE(counts); k++) {
		fill_failed(&in, counts[k]);
		json_t *j = through_line(proto_failed(&in));
		assert_int_equal(json_array_size(json_object_get(j, "items")), counts[k]);
		assert_int_equal(proto_failed_get(j, &out, err, sizeof(err)), 0);
		assert_memory_equal(&in, &out, sizeof(in));
		json_decref(j);
	}
}

/* jansson's integers are signed: a uint64_t past INT64_MAX goes as INT64_MAX; a double that
 * JSON cannot hold as 0. */
static void test_encoders_clamp_what_json_cannot_hold(void **state)
{
	(void)state;
	struct view_totals in, out;
	char err[256] = "";
	fill_totals(&in);
	in.done = UINT64_MAX;
	in.rate_now = NAN;
	in.rate_avg = INFINITY;
	json_t *j = proto_totals(&in);
	assert_int_equal(proto_totals_get(j, &out, err, sizeof(err)), 0);
	assert_true(out.done == (uint64_t)INT64_MAX);
	assert_true(out.rate_now == 0 && out.rate_avg == 0);
	json_decref(j);
}

/* --- enum words --- */

static void test_state_words_both_ways(void **state)
{
	(void)state;
	const char *words[] = {"empty",	   "starting", "idle",	  "busy",
			       "stopping", "exited",   "backoff", "stopped"};
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		enum view_state v = VIEW_EMPTY;
		assert_string_equal(proto_state_word((enum view_state)i), words[i]);
		assert_int_equal(proto_state_parse(words[i], &v), 0);
		assert_int_equal(v, i);
	}
	assert_int_equal(VIEW_STOPPED + 1, ARRAY_SIZE(words));
	enum view_state v = VIEW_BUSY;
	assert_int_equal(proto_state_parse("BUSY", &v), -EINVAL);
	assert_int_equal(proto_state_parse("", &v), -EINVAL);
	assert_int_equal(proto_state_parse(NULL, &v), -EINVAL);
	assert_int_equal(v, VIEW_BUSY);
}

static void test_cause_words_both_ways(void **state)
{
	(void)state;
	const char *words[] = {"none", "user",	  "join",     "join_timeout", "recycle",
			       "end",  "restart", "shutdown", "timeout"};
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		enum view_cause v = VIEW_CAUSE_NONE;
		assert_string_equal(proto_cause_word((enum view_cause)i), words[i]);
		assert_int_equal(proto_cause_parse(words[i], &v), 0);
		assert_int_equal(v, i);
	}
	assert_int_equal(VIEW_CAUSE_TIMEOUT + 1, ARRAY_SIZE(words));
	enum view_cause v;
	/* Not view_cause_name's words: those are for people. */
	assert_int_equal(proto_cause_parse("crash", &v), -EINVAL);
	assert_int_equal(proto_cause_parse("join-timeout", &v), -EINVAL);
	assert_string_equal(proto_cause_word((enum view_cause)(VIEW_CAUSE_TIMEOUT + 1)), "?");
	assert_int_equal(proto_cause_parse("?", &v), -EINVAL);
}

static void test_event_words_both_ways(void **state)
{
	(void)state;
	const char *words[] = {"worker_started", "worker_exited", "item_failed",
			       "item_retried",	 "notice",	  "stop"};
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		enum view_event_kind v = VIEW_EVENT_WORKER_STARTED;
		assert_string_equal(proto_event_word((enum view_event_kind)i), words[i]);
		assert_string_equal(view_event_kind_name((enum view_event_kind)i), words[i]);
		assert_int_equal(proto_event_parse(words[i], &v), 0);
		assert_int_equal(v, i);
	}
	assert_int_equal(VIEW_EVENT_STOP + 1, ARRAY_SIZE(words));
	enum view_event_kind v;
	assert_int_equal(proto_event_parse("Notice", &v), -EINVAL);
	assert_string_equal(proto_event_word((enum view_event_kind)(VIEW_EVENT_STOP + 1)), "?");
}

static void test_stop_words_both_ways(void **state)
{
	(void)state;
	const char *words[] = {"none", "join", "drain", "terminate", "kill"};
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		enum view_stop v = VIEW_STOP_NONE;
		assert_string_equal(proto_stop_word((enum view_stop)i), words[i]);
		assert_int_equal(proto_stop_parse(words[i], &v), 0);
		assert_int_equal(v, i);
	}
	assert_int_equal(VIEW_STOP_KILL + 1, ARRAY_SIZE(words));
	enum view_stop v;
	assert_int_equal(proto_stop_parse("terminate all", &v), -EINVAL);
	assert_string_equal(proto_stop_word((enum view_stop)(VIEW_STOP_KILL + 1)), "?");
}

static void test_command_words_both_ways(void **state)
{
	(void)state;
	const char *words[] = {"terminate", "kill", "join", "restart", "signal", "requeue"};
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		enum view_command v = VIEW_TERMINATE;
		assert_string_equal(proto_command_word((enum view_command)i), words[i]);
		assert_int_equal(proto_command_parse(words[i], &v), 0);
		assert_int_equal(v, i);
	}
	assert_int_equal(VIEW_REQUEUE + 1, ARRAY_SIZE(words));
	enum view_command v;
	assert_int_equal(proto_command_parse("sigkill", &v), -EINVAL);
	assert_string_equal(proto_command_word((enum view_command)(VIEW_REQUEUE + 1)), "?");
}

/* --- bytes --- */

/* data through proto_set_bytes and proto_get_bytes (and a line): the same bytes; under the
 * plain key when b64 is false. */
static void assert_bytes_round_trip(const void *data, size_t n, bool b64)
{
	json_t *o = json_object();
	assert_int_equal(proto_set_bytes(o, "v", data, n), 0);
	if (b64)
		assert_b64_key(o, "v");
	else
		assert_string_key(o, "v");
	o = through_line(o);
	char buf[64], err[128] = "";
	size_t len = 999;
	assert_int_equal(proto_get_bytes(o, "v", buf, sizeof(buf), &len, err, sizeof(err)), 0);
	assert_int_equal(len, n);
	assert_memory_equal(buf, data, n);
	json_decref(o);
}

static void test_bytes_utf8_as_string_else_base64(void **state)
{
	(void)state;
	assert_bytes_round_trip("", 0, false);
	assert_bytes_round_trip(utf8, sizeof(utf8), false);
	assert_bytes_round_trip("\0", 1, false); /* a NUL is UTF-8: \u0000 */
	assert_bytes_round_trip(binary, sizeof(binary), true);
	assert_bytes_round_trip("\xff", 1, true);
	assert_bytes_round_trip("\xff\xfe", 2, true);
	assert_bytes_round_trip("\xc0\x80", 2, true);	      /* an overlong NUL */
	assert_bytes_round_trip("\xed\xa0\x80", 3, true);     /* a surrogate */
	assert_bytes_round_trip("ab\xe2\x82", 4, true);	      /* a character cut short */
	assert_bytes_round_trip("\xf4\x90\x80\x80", 4, true); /* past U+10FFFF */

	/* Exactly what base64 says (RFC 4648's padding). */
	json_t *o = json_object();
	assert_int_equal(proto_set_bytes(o, "out", "\xff\x00", 2), 0);
	assert_string_equal(json_string_value(json_object_get(o, "out_b64")), "/wA=");
	/* Set again as text: the base64 key goes. */
	assert_int_equal(proto_set_bytes(o, "out", "ok", 2), 0);
	assert_string_key(o, "out");
	assert_int_equal(proto_set_bytes(o, "out", "\xff", 1), 0);
	assert_b64_key(o, "out");
	json_decref(o);
}

static void test_get_bytes_longer_than_cap_is_emsgsize_with_first_bytes(void **state)
{
	(void)state;
	char buf[4] = "", err[128] = "";
	size_t len = 0;
	json_t *o = json_pack("{s:s, s:s}", "s", "abcdef", "b_b64", "YWJjZGVm");
	assert_int_equal(proto_get_bytes(o, "s", buf, 3, &len, err, sizeof(err)), -EMSGSIZE);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "abc", 3);
	assert_string_equal(err, "\"s\": longer than 3 bytes");
	memset(buf, 0, sizeof(buf));
	assert_int_equal(proto_get_bytes(o, "b", buf, 3, &len, err, sizeof(err)), -EMSGSIZE);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "abc", 3);
	/* Exactly cap fits. */
	char six[6];
	assert_int_equal(proto_get_bytes(o, "b", six, 6, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 6);
	json_decref(o);
}

/* proto_get_bytes on {"v_b64": b64} is -EPROTO, "bad base64". */
static void assert_bad_base64(const char *b64)
{
	char buf[16], err[128] = "";
	size_t len;
	json_t *o = json_pack("{s:s}", "v_b64", b64);
	assert_int_equal(proto_get_bytes(o, "v", buf, sizeof(buf), &len, err, sizeof(err)),
			 -EPROTO);
	assert_string_equal(err, "\"v_b64\": bad base64");
	json_decref(o);
}

static void test_get_bytes_refuses_malformed_base64(void **state)
{
	(void)state;
	assert_bad_base64("!!!!");
	assert_bad_base64("YWJ");    /* not a multiple of 4 */
	assert_bad_base64("YW Jj");  /* a space */
	assert_bad_base64("YWJj\n"); /* a newline */
	assert_bad_base64("A===");   /* three '=' */
	assert_bad_base64("====");
	assert_bad_base64("YQ=A");     /* '=' then data */
	assert_bad_base64("YQ==YWJj"); /* '=' before the end */
	assert_bad_base64("YR==");     /* bits set past the last byte */
	assert_bad_base64("YWJ-");     /* base64url's alphabet */
	/* The valid ones, for contrast. */
	char buf[16], err[128];
	size_t len;
	json_t *o = json_pack("{s:s}", "v_b64", "YQ==");
	assert_int_equal(proto_get_bytes(o, "v", buf, sizeof(buf), &len, err, sizeof(err)), 0);
	assert_int_equal(len, 1);
	assert_int_equal(buf[0], 'a');
	json_decref(o);
}

static void test_get_bytes_needs_one_string_key(void **state)
{
	(void)state;
	char buf[16], err[128] = "";
	size_t len;
	json_t *o = json_pack("{s:s, s:s}", "v", "a", "v_b64", "YQ==");
	assert_int_equal(proto_get_bytes(o, "v", buf, sizeof(buf), &len, err, sizeof(err)),
			 -EPROTO);
	assert_string_equal(err, "\"v\" and \"v_b64\" both present");
	assert_int_equal(proto_get_bytes(o, "w", buf, sizeof(buf), &len, err, sizeof(err)),
			 -EPROTO);
	assert_string_equal(err, "\"w\": missing");
	json_decref(o);
	o = json_pack("{s:i, s:[]}", "v", 1, "w_b64");
	assert_int_equal(proto_get_bytes(o, "v", buf, sizeof(buf), &len, err, sizeof(err)),
			 -EPROTO);
	assert_string_equal(err, "\"v\": expected a string");
	assert_int_equal(proto_get_bytes(o, "w", buf, sizeof(buf), &len, err, sizeof(err)),
			 -EPROTO);
	assert_string_equal(err, "\"w_b64\": expected a string");
	/* No room for a message: still refused. */
	assert_int_equal(proto_get_bytes(o, "v", buf, sizeof(buf), &len, NULL, 0), -EPROTO);
	json_decref(o);
	char key[80];
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	o = json_object();
	assert_int_equal(proto_set_bytes(o, key, "a", 1), -EINVAL);
	json_decref(o);
}

/* --- malformed objects: every field is required and type-checked, by name --- */

/* A filled struct encoded, and its decoder (into a scratch struct). */
struct codec {
	const char *name;
	json_t *(*make)(void);
	int (*get)(const json_t *j, char *err, size_t errlen);
	/* The object checked key by key inside what make gives (NULL: the whole), and the prefix
	 * of the messages about its keys. */
	const char *inner;
	size_t index;
	const char *where;
};

static json_t *make_totals(void)
{
	struct view_totals t;
	fill_totals(&t);
	return proto_totals(&t);
}

static json_t *make_row(void)
{
	struct view_row r;
	fill_row(&r);
	return proto_row(&r);
}

static json_t *make_event(void)
{
	struct view_event e;
	fill_event(&e);
	return proto_event(&e);
}

static json_t *make_detail(void)
{
	static struct view_detail d;
	fill_detail(&d, 3);
	return proto_detail(&d);
}

static json_t *make_item(void)
{
	static struct view_item it;
	fill_item(&it);
	return proto_item(&it);
}

static json_t *make_summary(void)
{
	struct view_summary s;
	fill_summary(&s, 3);
	return proto_summary(&s);
}

static json_t *make_failed(void)
{
	struct view_failed f;
	fill_failed(&f, 2);
	return proto_failed(&f);
}

#define GETTER(name, type)                                                                         \
	static int get_##name(const json_t *j, char *err, size_t errlen)                           \
	{                                                                                          \
		type *out = xmalloc(sizeof(*out));                                                 \
		int rc = proto_##name##_get(j, out, err, errlen);                                  \
		free(out);                                                                         \
		return rc;                                                                         \
	}
GETTER(totals, struct view_totals)
GETTER(row, struct view_row)
GETTER(event, struct view_event)
GETTER(detail, struct view_detail)
GETTER(item, struct view_item)
GETTER(summary, struct view_summary)
GETTER(failed, struct view_failed)

static const struct codec codecs[] = {
	{"totals", make_totals, get_totals, NULL, 0, "totals"},
	{"row", make_row, get_row, NULL, 0, "row"},
	{"event", make_event, get_event, NULL, 0, "event"},
	{"detail", make_detail, get_detail, NULL, 0, "detail"},
	{"detail", make_detail, get_detail, "recent", 2, "detail: \"recent\"[2]"},
	{"item", make_item, get_item, NULL, 0, "item"},
	{"item", make_item, get_item, "h", 0, "item: \"h\""},
	{"summary", make_summary, get_summary, NULL, 0, "summary"},
	{"summary", make_summary, get_summary, "codes", 1, "summary: \"codes\"[1]"},
	{"failed", make_failed, get_failed, NULL, 0, "failed"},
	{"failed", make_failed, get_failed, "items", 1, "failed: \"items\"[1]"},
};

/* The object of c's keys in j (a copy of what c->make gave). */
static json_t *inner(const struct codec *c, json_t *j)
{
	if (!c->inner)
		return j;
	json_t *v = json_object_get(j, c->inner);
	return json_is_array(v) ? json_array_get(v, c->index) : v;
}

/* err says what is wrong with key (its "_b64" form or not) in c's object. */
static void assert_names_key(const struct codec *c, const char *err, const char *key)
{
	char want[160];
	size_t n = strlen(key);
	if (n > 4 && !strcmp(key + n - 4, "_b64"))
		n -= 4;
	snprintf(want, sizeof(want), "%s: \"%.*s", c->where, (int)n, key);
	if (strncmp(err, want, strlen(want)))
		fail_msg("expected \"%s...\", got \"%s\"", want, err);
}

static void test_every_field_is_required(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(codecs); i++) {
		const struct codec *c = &codecs[i];
		json_t *j = c->make();
		char err[256] = "";
		assert_int_equal(c->get(j, err, sizeof(err)), 0);
		const char *key;
		json_t *v;
		size_t keys = 0;
		json_object_foreach(inner(c, j), key, v)
		{
			json_t *copy = json_deep_copy(j);
			assert_int_equal(json_object_del(inner(c, copy), key), 0);
			err[0] = '\0';
			assert_int_equal(c->get(copy, err, sizeof(err)), -EPROTO);
			assert_names_key(c, err, key);
			assert_non_null(strstr(err, "missing"));
			json_decref(copy);
			keys++;
		}
		assert_true(keys >= 2);
		json_decref(j);
	}
}

static void test_every_field_of_the_wrong_type_is_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(codecs); i++) {
		const struct codec *c = &codecs[i];
		json_t *j = c->make();
		const char *key;
		json_t *v;
		json_object_foreach(inner(c, j), key, v)
		{
			/* No field takes null; none but the arrays takes an array. */
			json_t *wrong[] = {json_null(),
					   json_is_array(v) ? json_object() : json_array(),
					   json_is_string(v) ? json_true() : json_string("1")};
			for (size_t w = 0; w < ARRAY_SIZE(wrong); w++) {
				json_t *copy = json_deep_copy(j);
				char err[256] = "";
				json_object_set(inner(c, copy), key, wrong[w]);
				assert_int_equal(c->get(copy, err, sizeof(err)), -EPROTO);
				assert_names_key(c, err, key);
				assert_non_null(strstr(err, "expected"));
				json_decref(copy);
				json_decref(wrong[w]);
			}
		}
		json_decref(j);
	}
}

static void test_unknown_fields_are_ignored(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(codecs); i++) {
		const struct codec *c = &codecs[i];
		json_t *j = c->make();
		char err[256] = "";
		json_object_set_new(inner(c, j), "zz_from_a_newer_peer",
				    json_pack("[i,s]", 1, "x"));
		json_object_set_new(inner(c, j), "cur_item_len", json_integer(-1));
		assert_int_equal(c->get(j, err, sizeof(err)), 0);
		json_decref(j);
	}
}

static void test_decoders_refuse_what_is_not_an_object(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(codecs); i++) {
		const struct codec *c = &codecs[i];
		char err[256] = "", want[64];
		json_t *a = json_array();
		snprintf(want, sizeof(want), "%s: expected an object", c->name);
		assert_int_equal(c->get(a, err, sizeof(err)), -EPROTO);
		assert_string_equal(err, want);
		assert_int_equal(c->get(NULL, err, sizeof(err)), -EPROTO);
		assert_string_equal(err, want);
		/* No room for a message: still refused. */
		assert_int_equal(c->get(a, NULL, 0), -EPROTO);
		json_decref(a);
	}
}

/* c's object with key set to v (stolen) is refused with the message want. */
static void assert_refused(const struct codec *c, const char *key, json_t *v, const char *want)
{
	json_t *j = c->make();
	char err[256] = "";
	json_object_set_new(inner(c, j), key, v);
	assert_int_equal(c->get(j, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, want);
	json_decref(j);
}

static void assert_accepted(const struct codec *c, const char *key, json_t *v)
{
	json_t *j = c->make();
	char err[256] = "";
	json_object_set_new(inner(c, j), key, v);
	if (c->get(j, err, sizeof(err)))
		fail_msg("%s", err);
	json_decref(j);
}

static void test_integers_must_fit_their_field(void **state)
{
	(void)state;
	const struct codec *totals = &codecs[0], *row = &codecs[1], *event = &codecs[2];
	const struct codec *detail = &codecs[3], *recent = &codecs[4];
	assert_refused(totals, "done", json_integer(-1), "totals: \"done\": -1 out of range");
	assert_refused(totals, "size", json_integer(-1), "totals: \"size\": -1 out of range");
	assert_refused(totals, "size", json_integer(4294967296ll),
		       "totals: \"size\": 4294967296 out of range");
	assert_accepted(totals, "size", json_integer(4294967295ll));
	assert_accepted(totals, "done", json_integer(INT64_MAX));
	assert_refused(totals, "done", json_real(1.5), "totals: \"done\": expected an integer");
	assert_refused(totals, "done", json_real(2.0), "totals: \"done\": expected an integer");
	assert_refused(totals, "done", json_string("2"), "totals: \"done\": expected an integer");
	assert_refused(totals, "over", json_integer(1), "totals: \"over\": expected true or false");
	assert_refused(totals, "rate_now", json_string("1"),
		       "totals: \"rate_now\": expected a number");
	assert_accepted(totals, "rate_now", json_integer(2)); /* 2 for 2.0 */
	assert_refused(row, "last_exit", json_integer(2147483648ll),
		       "row: \"last_exit\": 2147483648 out of range");
	assert_accepted(row, "last_exit", json_integer(INT_MIN));
	assert_refused(row, "pid", json_integer(-2147483649ll),
		       "row: \"pid\": -2147483649 out of range");
	assert_refused(row, "cur_len", json_integer(-1), "row: \"cur_len\": -1 out of range");
	assert_refused(event, "seq", json_integer(INT64_MIN),
		       "event: \"seq\": -9223372036854775808 out of range");
	assert_accepted(event, "slot", json_integer(-1));
	assert_refused(detail, "out_seq", json_integer(-5), "detail: \"out_seq\": -5 out of range");
	assert_refused(recent, "item_len", json_integer(-1),
		       "detail: \"recent\"[2]: \"item_len\": -1 out of range");
}

static void test_unknown_enum_words_are_refused(void **state)
{
	(void)state;
	const struct codec *row = &codecs[1], *event = &codecs[2];
	assert_refused(row, "state", json_string("zzz"), "row: \"state\": unknown value \"zzz\"");
	assert_refused(row, "state", json_string("BUSY"), "row: \"state\": unknown value \"BUSY\"");
	assert_refused(row, "state", json_integer(VIEW_BUSY), "row: \"state\": expected a string");
	assert_refused(row, "last_cause", json_string("crash"),
		       "row: \"last_cause\": unknown value \"crash\"");
	assert_refused(event, "kind", json_string("worker started"),
		       "event: \"kind\": unknown value \"worker started\"");
	/* A peer's word is quoted cut short, and without control characters. */
	assert_refused(event, "cause",
		       json_string("\x1b[2J0123456789012345678901234567890123456789"),
		       "event: \"cause\": unknown value \"?[2J0123456789012345678901234567\"");
	assert_refused(event, "cause", json_stringn("a\0b", 3),
		       "event: \"cause\": unknown value \"a\"");
}

static void test_arrays_longer_than_their_field_are_refused(void **state)
{
	(void)state;
	const struct codec *detail = &codecs[3], *summary = &codecs[7], *failed = &codecs[9];
	json_t *a = json_array();
	for (int i = 0; i < 100000; i++)
		json_array_append(a, json_null());
	assert_refused(detail, "recent", json_incref(a),
		       "detail: \"recent\": 100000 elements, at most 16");
	assert_refused(summary, "codes", json_incref(a),
		       "summary: \"codes\": 100000 elements, at most 16");
	assert_refused(failed, "items", json_incref(a),
		       "failed: \"items\": 100000 elements, at most 20");
	json_decref(a);

	/* One more than fits, of valid elements. */
	json_t *j = make_detail();
	json_t *recent = json_object_get(j, "recent");
	while (json_array_size(recent) <= VIEW_HISTORY)
		json_array_append(recent, json_array_get(recent, 0));
	char err[256] = "";
	assert_int_equal(get_detail(j, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "detail: \"recent\": 17 elements, at most 16");
	json_array_remove(recent, 0);
	assert_int_equal(get_detail(j, err, sizeof(err)), 0);
	json_decref(j);

	j = make_summary();
	json_t *codes = json_object_get(j, "codes");
	while (json_array_size(codes) <= 16)
		json_array_append(codes, json_array_get(codes, 0));
	assert_int_equal(get_summary(j, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "summary: \"codes\": 17 elements, at most 16");
	json_decref(j);

	j = make_failed();
	json_t *items = json_object_get(j, "items");
	while (json_array_size(items) <= VIEW_FAILED_KEPT)
		json_array_append(items, json_array_get(items, 0));
	assert_int_equal(get_failed(j, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "failed: \"items\": 21 elements, at most 20");
	json_decref(j);

	j = make_detail();
	json_array_set_new(json_object_get(j, "recent"), 1, json_string("x"));
	assert_int_equal(get_detail(j, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "detail: \"recent\"[1]: expected an object");
	json_decref(j);
}

/* n bytes of c as a string. */
static json_t *string_of(char c, size_t n)
{
	char *s = xmalloc(n);
	memset(s, c, n);
	json_t *v = json_stringn(s, n);
	free(s);
	return v;
}

static void test_bytes_longer_than_their_field_are_refused(void **state)
{
	(void)state;
	const struct codec *row = &codecs[1], *detail = &codecs[3], *item = &codecs[5];
	assert_refused(row, "cur_item_b64", string_of('A', 152),
		       "row: \"cur_item_b64\": longer than 112 bytes");
	/* Both keys now: the text one fills the fixture, the base64 one is added. */
	json_t *j = make_row();
	char err[256] = "";
	json_object_del(j, "cur_item_b64");
	json_object_set_new(j, "cur_item", string_of('x', 113));
	assert_int_equal(get_row(j, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "row: \"cur_item\": longer than 112 bytes");
	json_object_set_new(j, "cur_item", string_of('x', 112));
	assert_int_equal(get_row(j, err, sizeof(err)), 0);
	json_object_set_new(j, "cur_item_b64", json_string("eA=="));
	assert_int_equal(get_row(j, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "row: \"cur_item\" and \"cur_item_b64\" both present");
	json_decref(j);

	assert_refused(row, "proc_state", json_string("RS"),
		       "row: \"proc_state\": longer than 1 bytes");
	assert_refused(detail, "out_b64", json_string("!!!!"), "detail: \"out_b64\": bad base64");
	assert_refused(detail, "err", string_of('e', VIEW_TAIL + 1),
		       "detail: \"err\": longer than 2048 bytes");
	assert_refused(item, "cmd", string_of('c', VIEW_ITEM_CMD + 1),
		       "item: \"cmd\": longer than 512 bytes");
	/* A preview must be the item's first MIN(item_len, its size) bytes. */
	j = make_failed();
	json_t *first = json_array_get(json_object_get(j, "items"), 0);
	json_object_set_new(first, "item", json_string("short"));
	assert_int_equal(get_failed(j, err, sizeof(err)), -EPROTO);
	assert_string_equal(
		err, "failed: \"items\"[0]: \"item\": 5 bytes for an item of 1000 (expected 120)");
	json_decref(j);
	assert_refused(item, "item_len", json_integer(3),
		       "item: \"item\": 112 bytes for an item of 3 (expected 3)");
}

static void test_c_strings_are_cut_to_fit_and_terminated(void **state)
{
	(void)state;
	struct view_event e;
	struct view_row r;
	struct view_summary s;
	char err[256] = "";
	json_t *j = make_event();
	json_object_set_new(j, "text", string_of('t', 1000));
	assert_int_equal(proto_event_get(j, &e, err, sizeof(err)), 0);
	assert_int_equal(strlen(e.text), sizeof(e.text) - 1);
	json_decref(j);

	j = make_row();
	json_object_set_new(j, "start_call", json_string("forkforkfork"));
	assert_int_equal(proto_row_get(j, &r, err, sizeof(err)), 0);
	assert_string_equal(r.start_call, "forkfor");
	json_decref(j);

	j = make_summary();
	json_object_del(j, "fatal");
	json_object_set_new(j, "fatal_b64", json_string("/w=="));
	assert_int_equal(proto_summary_get(j, &s, err, sizeof(err)), 0);
	assert_string_equal(s.fatal, "\xff");
	json_decref(j);

	/* Not UTF-8 in a C string: base64 on the way, the same bytes back. */
	fill_event(&e);
	strcpy(e.text, "item \xff\xfe failed");
	j = proto_event(&e);
	assert_b64_key(j, "text");
	struct view_event back;
	assert_int_equal(proto_event_get(j, &back, err, sizeof(err)), 0);
	assert_string_equal(back.text, e.text);
	json_decref(j);
}

/* --- mangled objects: refused or taken, never a crash, never past a field --- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* xorshift64*: the same sequence on every run. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

/* A value a peer could send in place of any other. */
static json_t *odd_value(void)
{
	switch (rnd() % 16) {
	case 0:
		return json_integer(-1);
	case 1:
		return json_integer(INT64_MAX);
	case 2:
		return json_integer(INT64_MIN);
	case 3:
		return json_integer((json_int_t)(rnd() % 5000));
	case 4:
		return json_real(-1.5);
	case 5:
		return json_string("");
	case 6:
		return json_string("zzz");
	case 7:
		return string_of('x', rnd() % 4000);
	case 8:
		return json_string("/w=="); /* base64 under a plain key, or valid under _b64 */
	case 9:
		return json_string("A===");
	case 10:
		return json_array();
	case 11: {
		json_t *a = json_array();
		for (uint64_t i = rnd() % 40; i > 0; i--)
			json_array_append_new(a, json_object());
		return a;
	}
	case 12:
		return json_object();
	case 13:
		return json_null();
	case 14:
		return json_true();
	default:
		return json_stringn("\0\xff", 2 - rnd() % 2);
	}
}

/* Some object inside j (j itself, or one in an array or object under it). */
static json_t *some_object(json_t *j)
{
	for (;;) {
		if (!json_is_object(j) || json_object_size(j) == 0 || rnd() % 3 == 0)
			return j;
		const char *key;
		json_t *v, *pick = NULL;
		size_t i = 0, want = rnd() % json_object_size(j);
		json_object_foreach(j, key, v) if (i++ == want) pick = v;
		if (json_is_array(pick) && json_array_size(pick))
			pick = json_array_get(pick, rnd() % json_array_size(pick));
		if (!json_is_object(pick))
			return j;
		j = pick;
	}
}

/* One change to j: a key's value replaced, a key gone, a key added (a base64 twin). */
static void mangle(json_t *j)
{
	json_t *o = some_object(j);
	size_t n = json_object_size(o);
	const char *key, *pick = "x";
	json_t *v;
	size_t i = 0, want = n ? rnd() % n : 0;
	json_object_foreach(o, key, v) if (i++ == want) pick = key;
	char name[80];
	snprintf(name, sizeof(name), "%s", pick);
	switch (rnd() % 4) {
	case 0:
		json_object_del(o, name);
		break;
	case 1: {
		char twin[90];
		snprintf(twin, sizeof(twin), "%s_b64", name);
		json_object_set_new(o, twin, odd_value());
		break;
	}
	default:
		json_object_set_new(o, name, odd_value());
	}
}

static void test_decoders_survive_mangled_objects(void **state)
{
	(void)state;
	struct view_detail *detail = xmalloc(sizeof(*detail));
	struct view_item *item = xmalloc(sizeof(*item));
	struct view_summary summary;
	struct view_failed failed;
	struct view_row row;
	struct view_totals totals;
	struct view_event event;
	size_t taken = 0, refused = 0;
	for (int round = 0; round < 3000; round++) {
		const struct codec *c = &codecs[rnd() % ARRAY_SIZE(codecs)];
		json_t *j = c->make();
		for (uint64_t k = 1 + rnd() % 3; k > 0; k--)
			mangle(j);
		/* Every decoder on it, not only its own: a peer may mislabel a message. */
		char err[256];
		int rcs[] = {
			proto_totals_get(j, &totals, err, sizeof(err)),
			proto_row_get(j, &row, err, sizeof(err)),
			proto_event_get(j, &event, err, sizeof(err)),
			proto_detail_get(j, detail, err, sizeof(err)),
			proto_item_get(j, item, err, sizeof(err)),
			proto_summary_get(j, &summary, err, sizeof(err)),
			proto_failed_get(j, &failed, err, sizeof(err)),
		};
		for (size_t i = 0; i < ARRAY_SIZE(rcs); i++) {
			assert_true(rcs[i] == 0 || rcs[i] == -EPROTO);
			if (rcs[i])
				refused++;
			else
				taken++;
		}
		/* What was taken stays within its arrays. */
		if (!rcs[1])
			assert_true(row.cur_item_len <= sizeof(row.cur_item));
		if (!rcs[3])
			assert_true(detail->nrecent <= VIEW_HISTORY &&
				    detail->out_len <= VIEW_TAIL && detail->err_len <= VIEW_TAIL);
		if (!rcs[4])
			assert_true(item->cmd_len <= VIEW_ITEM_CMD &&
				    item->out_len <= VIEW_ITEM_TAIL &&
				    item->err_len <= VIEW_ITEM_TAIL);
		if (!rcs[5])
			assert_true(summary.ncodes <= ARRAY_SIZE(summary.codes));
		if (!rcs[6])
			assert_true(failed.n <= VIEW_FAILED_KEPT);
		json_decref(j);
	}
	/* Both outcomes were exercised. */
	print_message("# %zu decoded, %zu refused\n", taken, refused);
	assert_true(taken > 100 && refused > 100);
	free(detail);
	free(item);
}

/* Every decoder on j: refused or taken. */
static void decode_all(const json_t *j)
{
	static struct view_detail detail;
	static struct view_item item;
	struct view_totals totals;
	struct view_row row;
	struct view_event event;
	struct view_summary summary;
	struct view_failed failed;
	char err[256];
	int rcs[] = {
		proto_totals_get(j, &totals, err, sizeof(err)),
		proto_row_get(j, &row, err, sizeof(err)),
		proto_event_get(j, &event, err, sizeof(err)),
		proto_detail_get(j, &detail, err, sizeof(err)),
		proto_item_get(j, &item, err, sizeof(err)),
		proto_summary_get(j, &summary, err, sizeof(err)),
		proto_failed_get(j, &failed, err, sizeof(err)),
	};
	for (size_t i = 0; i < ARRAY_SIZE(rcs); i++)
		assert_true(rcs[i] == 0 || rcs[i] == -EPROTO);
}

/* Lines with bytes changed, cut or added: parsed or refused on one line, never a crash. */
static void test_parse_survives_mangled_lines(void **state)
{
	(void)state;
	size_t parsed = 0, refused = 0;
	for (int round = 0; round < 3000; round++) {
		const struct codec *c = &codecs[rnd() % ARRAY_SIZE(codecs)];
		json_t *j = c->make();
		json_object_set_new(j, "type", json_string(c->name));
		size_t n;
		char *line = proto_line(j, &n);
		n--; /* the '\n' */
		for (uint64_t k = 1 + rnd() % 4; k > 0; k--) {
			size_t at = rnd() % n;
			switch (rnd() % 4) {
			case 0: /* cut */
				n = at;
				break;
			case 1: /* a structural character */
				line[at] = "{}[]\",:0-e\\"[rnd() % 11];
				break;
			default:
				line[at] = (char)rnd();
			}
			if (!n)
				break;
		}
		char err[256] = "";
		json_t *back = proto_parse(line, n, err, sizeof(err));
		if (back) {
			parsed++;
			decode_all(back);
			json_decref(back);
		} else {
			refused++;
			assert_true(err[0] != '\0');
			for (const char *p = err; *p; p++)
				assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
		}
		free(line);
	}
	print_message("# %zu parsed, %zu refused\n", parsed, refused);
	assert_true(parsed > 10 && refused > 100);
}

/* --- lines --- */

static void test_line_is_one_compact_line(void **state)
{
	(void)state;
	size_t n = 0;
	char *line = proto_line(json_pack("{s:s, s:s#}", "type", "x", "text", "a\nb\r\0c", 6), &n);
	assert_non_null(line);
	assert_string_equal(line, "{\"type\":\"x\",\"text\":\"a\\nb\\r\\u0000c\"}\n");
	assert_int_equal(n, strlen(line));
	free(line);
	assert_null(proto_line(NULL, &n));
}

/* proto_parse refuses line, saying why (starting with want), on one line. */
static void assert_parse_refused(const char *line, size_t len, const char *want)
{
	char err[256] = "";
	assert_null(proto_parse(line, len, err, sizeof(err)));
	if (strncmp(err, want, strlen(want)))
		fail_msg("expected \"%s...\", got \"%s\"", want, err);
	for (const char *p = err; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
	assert_null(proto_parse(line, len, NULL, 0));
}

#define REFUSED(lit, want) assert_parse_refused(lit, sizeof(lit) - 1, want)

static void test_parse_refuses_what_is_not_a_message(void **state)
{
	(void)state;
	REFUSED("x", "not JSON: '[' or '{' expected near 'x' at column 1");
	REFUSED("", "not JSON: ");
	REFUSED("1", "not JSON: ");
	REFUSED("\"type\"", "not JSON: ");
	REFUSED("{\"type\":\"a\"", "not JSON: ");
	REFUSED("{\"type\":\"a\"} {}", "not JSON: ");
	REFUSED("{\"type\":\"a\",\"type\":\"b\"}", "not JSON: duplicate");
	REFUSED("{\"type\":\"\xff\"}", "not JSON: ");
	REFUSED("{\"type\":\"a\0\"}", "not JSON: ");
	REFUSED("{\"type\":\x01\r}", "not JSON: ");
	REFUSED("{\"n\":99999999999999999999,\"type\":\"a\"}", "not JSON: ");
	REFUSED("[1]", "not an object");
	REFUSED("[]", "not an object");
	REFUSED("{}", "no \"type\"");
	REFUSED("{\"Type\":\"a\"}", "no \"type\"");
	REFUSED("{\"type\":1}", "\"type\": expected a string");
	REFUSED("{\"type\":null}", "\"type\": expected a string");

	/* Nested a million deep: refused, not a stack overflow. */
	size_t deep = 1000000;
	char *s = xmalloc(deep);
	memset(s, '[', deep);
	assert_parse_refused(s, deep, "not JSON: ");
	memset(s, '{', 1);
	for (size_t i = 1; i + 5 < deep; i += 5)
		memcpy(s + i, "\"a\":{", 5);
	assert_parse_refused(s, deep, "not JSON: ");
	free(s);
}

static void test_parse_takes_an_object_with_a_type(void **state)
{
	(void)state;
	const char line[] = "{\"v\":1,\"type\":\"hello\",\"s\":\"a\\u0000b\"}";
	char err[256] = "";
	json_t *j = proto_parse(line, sizeof(line) - 1, err, sizeof(err));
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "hello");
	assert_int_equal(json_string_length(json_object_get(j, "s")), 3);
	json_decref(j);
	/* The length given, not a NUL, ends the line. */
	j = proto_parse("{\"type\":\"a\"}garbage", 12, err, sizeof(err));
	assert_non_null(j);
	json_decref(j);
}

/* --- the reader --- */

/* s fed to r (in as many reads as it takes). */
static void feed(struct proto_reader *r, const char *s, size_t n)
{
	while (n) {
		size_t room = 0;
		char *p = proto_reader_space(r, 16, &room);
		assert_non_null(p);
		assert_true(room >= 1);
		size_t k = MIN(n, room);
		memcpy(p, s, k);
		proto_reader_commit(r, k);
		s += k;
		n -= k;
	}
}

/* A string literal fed, without its NUL. */
#define FEED(r, lit) feed(r, lit, sizeof(lit) - 1)

static void assert_next_line(struct proto_reader *r, const char *want, size_t want_len)
{
	const char *line = NULL;
	size_t len = 999;
	assert_int_equal(proto_reader_next(r, &line, &len), 1);
	assert_int_equal(len, want_len);
	assert_memory_equal(line, want, want_len);
}

static void assert_no_line(struct proto_reader *r)
{
	const char *line;
	size_t len;
	assert_int_equal(proto_reader_next(r, &line, &len), 0);
}

static void test_reader_joins_lines_split_across_reads(void **state)
{
	(void)state;
	struct proto_reader r;
	proto_reader_init(&r);
	assert_no_line(&r);
	FEED(&r, "{\"type\"");
	assert_no_line(&r);
	FEED(&r, ":\"a\"}\n{");
	assert_next_line(&r, "{\"type\":\"a\"}", 12);
	assert_no_line(&r);
	FEED(&r, "}");
	assert_no_line(&r);
	FEED(&r, "\n");
	assert_next_line(&r, "{}", 2);
	assert_no_line(&r);
	proto_reader_free(&r);
	proto_reader_free(&r); /* freed again: harmless */
}

static void test_reader_gives_every_line_of_one_read(void **state)
{
	(void)state;
	struct proto_reader r;
	proto_reader_init(&r);
	/* Empty lines come as lines of length 0; a '\r' is part of its line. */
	FEED(&r, "a\nbb\n\nccc\r\n\r\nrest");
	assert_next_line(&r, "a", 1);
	assert_next_line(&r, "bb", 2);
	assert_next_line(&r, "", 0);
	assert_next_line(&r, "ccc\r", 4);
	assert_next_line(&r, "\r", 1);
	assert_no_line(&r);
	assert_no_line(&r);
	FEED(&r, "\n");
	assert_next_line(&r, "rest", 4);
	assert_no_line(&r);
	proto_reader_free(&r);
}

static void test_reader_memory_stays_small_for_short_lines(void **state)
{
	(void)state;
	struct proto_reader r;
	char line[101];
	memset(line, 'l', 100);
	line[100] = '\n';
	proto_reader_init(&r);
	for (int i = 0; i < 100000; i++) {
		feed(&r, line, sizeof(line));
		/* Every other read, the lines are taken: some stay buffered over a read. */
		if (i % 2)
			for (int k = 0; k < 2; k++)
				assert_next_line(&r, line, 100);
	}
	assert_no_line(&r);
	assert_true(r.cap <= 4096);
	proto_reader_free(&r);
}

/* Read as a loop would: up to 64 KiB at a time (fewer when given less room), n bytes of c,
 * taking the lines after each read; stops at the first error, which it returns (or 0), with
 * the bytes it fed in *fed. */
static int read_like_a_loop(struct proto_reader *r, char c, size_t n, size_t *fed, size_t *lines)
{
	*fed = 0;
	while (*fed < n) {
		size_t room = 0;
		char *p = proto_reader_space(r, 65536, &room);
		if (!p)
			return -ENOBUFS;
		size_t k = MIN(MIN(room, (size_t)65536), n - *fed);
		memset(p, c, k);
		if (*fed + k == n && c != '\n')
			p[k - 1] = '\n';
		proto_reader_commit(r, k);
		*fed += k;
		const char *line;
		size_t len;
		int rc;
		while ((rc = proto_reader_next(r, &line, &len)) == 1)
			(*lines)++;
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void test_reader_takes_a_line_of_the_limit(void **state)
{
	(void)state;
	struct proto_reader r;
	size_t fed, lines = 0;
	proto_reader_init(&r);
	/* PROTO_MAX_LINE bytes and the '\n'. */
	assert_int_equal(read_like_a_loop(&r, 'x', PROTO_MAX_LINE + 1, &fed, &lines), 0);
	assert_int_equal(lines, 1);
	assert_true(r.cap <= PROTO_READER_MAX);
	/* And the next one. */
	assert_int_equal(read_like_a_loop(&r, 'y', 11, &fed, &lines), 0);
	assert_int_equal(lines, 2);
	proto_reader_free(&r);
}

static void test_reader_refuses_a_line_over_the_limit_in_bounded_memory(void **state)
{
	(void)state;
	struct proto_reader r;
	size_t fed, lines = 0;
	const char *line;
	size_t len;

	/* No '\n' ever: refused as soon as more than the limit is buffered. */
	proto_reader_init(&r);
	assert_int_equal(read_like_a_loop(&r, 'x', 3 * (size_t)PROTO_MAX_LINE, &fed, &lines),
			 -EMSGSIZE);
	assert_int_equal(lines, 0);
	assert_true(fed > PROTO_MAX_LINE && fed <= PROTO_MAX_LINE + 65536);
	assert_true(r.cap <= PROTO_READER_MAX);
	assert_int_equal(proto_reader_next(&r, &line, &len), -EMSGSIZE);
	/* A caller that reads on regardless is stopped when the buffer is full. */
	size_t more = 0, room;
	char *p;
	while ((p = proto_reader_space(&r, 65536, &room))) {
		assert_true(room > 0);
		memset(p, 'x', room);
		proto_reader_commit(&r, room);
		more += room;
		assert_true(more <= PROTO_READER_MAX);
	}
	assert_true(r.cap <= PROTO_READER_MAX);
	assert_int_equal(proto_reader_next(&r, &line, &len), -EMSGSIZE);
	proto_reader_free(&r);

	/* A line of the limit, then its last byte and its '\n' in one read: complete, refused. */
	proto_reader_init(&r);
	FEED(&r, "ok\n");
	char *big = xmalloc(PROTO_MAX_LINE);
	memset(big, 'b', PROTO_MAX_LINE);
	feed(&r, big, PROTO_MAX_LINE);
	free(big);
	assert_next_line(&r, "ok", 2);
	assert_no_line(&r);
	FEED(&r, "b\nnext\n");
	assert_int_equal(proto_reader_next(&r, &line, &len), -EMSGSIZE);
	assert_int_equal(proto_reader_next(&r, &line, &len), -EMSGSIZE);
	assert_true(r.cap <= PROTO_READER_MAX);
	proto_reader_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_totals_round_trip),
		cmocka_unit_test(test_row_round_trip),
		cmocka_unit_test(test_row_host),
		cmocka_unit_test(test_event_round_trip),
		cmocka_unit_test(test_detail_round_trip),
		cmocka_unit_test(test_item_round_trip),
		cmocka_unit_test(test_summary_round_trip),
		cmocka_unit_test(test_failed_round_trip),
		cmocka_unit_test(test_encoders_clamp_what_json_cannot_hold),
		cmocka_unit_test(test_state_words_both_ways),
		cmocka_unit_test(test_cause_words_both_ways),
		cmocka_unit_test(test_event_words_both_ways),
		cmocka_unit_test(test_stop_words_both_ways),
		cmocka_unit_test(test_command_words_both_ways),
		cmocka_unit_test(test_bytes_utf8_as_string_else_base64),
		cmocka_unit_test(test_get_bytes_longer_than_cap_is_emsgsize_with_first_bytes),
		cmocka_unit_test(test_get_bytes_refuses_malformed_base64),
		cmocka_unit_test(test_get_bytes_needs_one_string_key),
		cmocka_unit_test(test_every_field_is_required),
		cmocka_unit_test(test_every_field_of_the_wrong_type_is_refused),
		cmocka_unit_test(test_unknown_fields_are_ignored),
		cmocka_unit_test(test_decoders_refuse_what_is_not_an_object),
		cmocka_unit_test(test_integers_must_fit_their_field),
		cmocka_unit_test(test_unknown_enum_words_are_refused),
		cmocka_unit_test(test_arrays_longer_than_their_field_are_refused),
		cmocka_unit_test(test_bytes_longer_than_their_field_are_refused),
		cmocka_unit_test(test_c_strings_are_cut_to_fit_and_terminated),
		cmocka_unit_test(test_decoders_survive_mangled_objects),
		cmocka_unit_test(test_parse_survives_mangled_lines),
		cmocka_unit_test(test_line_is_one_compact_line),
		cmocka_unit_test(test_parse_refuses_what_is_not_a_message),
		cmocka_unit_test(test_parse_takes_an_object_with_a_type),
		cmocka_unit_test(test_reader_joins_lines_split_across_reads),
		cmocka_unit_test(test_reader_gives_every_line_of_one_read),
		cmocka_unit_test(test_reader_memory_stays_small_for_short_lines),
		cmocka_unit_test(test_reader_takes_a_line_of_the_limit),
		cmocka_unit_test(test_reader_refuses_a_line_over_the_limit_in_bounded_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
