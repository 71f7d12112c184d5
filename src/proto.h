/* The attach protocol's messages: the view model's plain data (view_data.h) as JSON objects,
 * and lines of JSON (one object per line, '\n'-terminated, compact, UTF-8) on a stream.
 * See doc/protocol.md. Uses jansson (src/ may; ui/ never includes this).
 *
 * An object has a key per field of its struct, named as the field. Counts of arrays
 * (nrecent, ncodes, n) and the lengths of byte fields (cur_item_len, out_len, err_len,
 * cmd_len) are not keys: they are the lengths of the array or of the bytes. Whole lengths
 * (cur_len, item_len, out_total, err_total) are keys. uint64_t values above INT64_MAX (which
 * JSON integers in jansson cannot hold) are sent as INT64_MAX; doubles that are not finite as
 * 0. */
#ifndef POOLTOP_PROTO_H
#define POOLTOP_PROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "view.h" /* enum view_command, enum view_stop, and view_data.h */

#define PROTO_VERSION 1
/* A line longer than this (without its '\n') is refused: the connection is closed with an error. */
#define PROTO_MAX_LINE (4u << 20)

/* --- encoders: a new JSON object (reference owned by the caller), NULL only on ENOMEM --- */
json_t *proto_totals(const struct view_totals *t);
json_t *proto_row(const struct view_row *r);
json_t *proto_event(const struct view_event *e);
json_t *proto_detail(const struct view_detail *d);
json_t *proto_item(const struct view_item *it);
json_t *proto_summary(const struct view_summary *s);
json_t *proto_failed(const struct view_failed *f);

/* --- decoders: fill *out from j (every field the encoder writes; *out zeroed first).
 * 0, or -EPROTO with a one-line reason in err naming the object and field
 * ("row: \"state\": unknown value \"zzz\"", "totals: \"done\": expected an integer",
 * "detail: \"recent\"[3]: \"seq\": missing").
 * Unknown extra fields are ignored (a newer peer may add some). Integers must fit their field
 * (no negative for an unsigned one); a double may be sent as an integer. Arrays and bytes
 * longer than their field are refused, never cut, except the C strings (view_event.text,
 * view_row.start_call, view_summary.fatal), which are cut to fit and always NUL-terminated.
 * A preview without a length of its own (view_history.item, view_item.item,
 * view_failed_item.item) must hold exactly MIN(item_len, its size) bytes. --- */
int proto_totals_get(const json_t *j, struct view_totals *out, char *err, size_t errlen);
int proto_row_get(const json_t *j, struct view_row *out, char *err, size_t errlen);
int proto_event_get(const json_t *j, struct view_event *out, char *err, size_t errlen);
int proto_detail_get(const json_t *j, struct view_detail *out, char *err, size_t errlen);
int proto_item_get(const json_t *j, struct view_item *out, char *err, size_t errlen);
int proto_summary_get(const json_t *j, struct view_summary *out, char *err, size_t errlen);
int proto_failed_get(const json_t *j, struct view_failed *out, char *err, size_t errlen);

/* --- enums as stable lowercase words (the wire format; never the C numbers). A value out of
 * range gives "?", which no parse accepts; a parse gives 0, or -EINVAL for any other word.
 * state: "empty" "starting" "idle" "busy" "stopping" "exited" "backoff" "stopped"
 * cause: "none" "user" "join" "join_timeout" "recycle" "end" "restart" "shutdown" "timeout"
 * event: as view_event_kind_name: "worker_started" "worker_exited" "item_failed"
 *        "item_retried" "notice" "stop"
 * stop: "none" "join" "drain" "terminate" "kill"
 * command: "terminate" "kill" "join" "restart" "signal" "requeue" --- */
const char *proto_state_word(enum view_state s);
int proto_state_parse(const char *w, enum view_state *out);
const char *proto_cause_word(enum view_cause c);
int proto_cause_parse(const char *w, enum view_cause *out);
const char *proto_event_word(enum view_event_kind k);
int proto_event_parse(const char *w, enum view_event_kind *out);
const char *proto_stop_word(enum view_stop s);
int proto_stop_parse(const char *w, enum view_stop *out);
const char *proto_command_word(enum view_command c);
int proto_command_parse(const char *w, enum view_command *out);

/* --- bytes (an item, an output tail, stderr: any bytes, NULs included) ---
 * Valid UTF-8 goes as a JSON string under key (jansson keeps NULs as \u0000); anything else
 * goes as base64 (RFC 4648, padded) under key"_b64" (e.g. "out_b64"), so that every line stays
 * valid JSON for jq. proto_set_bytes: 0, -ENOMEM, or -EINVAL for a key over 59 bytes.
 * proto_get_bytes reads whichever is present: at most cap bytes into buf, *len the bytes
 * stored; -EPROTO (reason in err, naming the key) when neither key is there, both are, the
 * value is not a string or the base64 is malformed (not canonical: bad length, character,
 * padding or trailing bits); -EMSGSIZE when the value is longer than cap (buf then holds the
 * first cap bytes, *len is cap, and err says so). */
int proto_set_bytes(json_t *obj, const char *key, const void *data, size_t len);
int proto_get_bytes(const json_t *obj, const char *key, void *buf, size_t cap, size_t *len,
		    char *err, size_t errlen);

/* --- lines --- */
/* msg as one compact line ending in '\n' (malloc'd, *len without the NUL); msg's reference is
 * released (the call steals it; NULL gives NULL, so an encoder's result may be passed as it
 * is). NULL on ENOMEM. */
char *proto_line(json_t *msg, size_t *len);
/* One line (without its '\n') parsed: a JSON object with a string "type" (a message), or NULL
 * with a one-line reason in err ("not JSON: '[' or '{' expected near 'x' at column 1", "not an
 * object", "no \"type\"", "\"type\": expected a string"). Strings may hold \u0000; a key twice
 * in an object is refused (not JSON: duplicate object key). */
json_t *proto_parse(const char *line, size_t len, char *err, size_t errlen);

/* A stream cut into lines: feed it what was read, take the complete lines. Memory is bounded:
 * a line longer than PROTO_MAX_LINE makes proto_reader_next return -EMSGSIZE (the caller then
 * closes the connection), and the buffer never grows past PROTO_READER_MAX. A '\r' is part of
 * its line; an empty line is returned (len 0). */
#define PROTO_READER_MAX (2 * (size_t)PROTO_MAX_LINE)
struct proto_reader {
	char *buf;
	size_t len, cap, start; /* unread bytes are buf[start..len) */
	size_t scan;		/* buf[start..scan) holds no '\n': not searched again */
};
void proto_reader_init(struct proto_reader *r);
/* Room for at least want bytes at the end (fewer, never 0, once the buffer is at
 * PROTO_READER_MAX): returns where to read into, and *room its size (for uv_alloc_cb and
 * read(2)); then proto_reader_commit(r, n) with the bytes read (n <= *room). NULL on ENOMEM,
 * or when the buffer is full (of a line over the limit proto_reader_next refused). */
char *proto_reader_space(struct proto_reader *r, size_t want, size_t *room);
void proto_reader_commit(struct proto_reader *r, size_t n);
/* The next complete line: 1 and *line, *len (valid until the next call on r; no '\n'),
 * 0 when no complete line is buffered, -EMSGSIZE when the buffered line is over the limit
 * (again on every later call). */
int proto_reader_next(struct proto_reader *r, const char **line, size_t *len);
void proto_reader_free(struct proto_reader *r);

#endif
