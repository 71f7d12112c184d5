/* --results FILE: one JSON object per finished item (JSON Lines). Every line is valid JSON whatever
 * bytes an item or its output holds: valid UTF-8 is copied, each byte of an invalid sequence
 * becomes \u00XX. */
#include "results.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The length of the valid UTF-8 sequence at s (at most n bytes), or 0 if it is not one:
 * overlong forms, surrogates and code points past U+10FFFF are invalid (RFC 3629). */
static size_t utf8_valid_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* past U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

void json_escape(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	buf_reserve(b, n + 2);
	buf_putc(b, '"');
	size_t run = 0; /* start of the bytes that need no escape, copied in one go */
	size_t i = 0;
	while (i < n) {
		unsigned char c = u[i];
		size_t len = 1;
		const char *esc = NULL;
		char uesc[6];
		if (c >= 0x80) {
			len = utf8_valid_len(u + i, n - i);
			if (len) {
				i += len;
				continue;
			}
			len = 1;
		} else if (c >= 0x20 && c != 0x7f && c != '"' && c != '\\') {
			i++;
			continue;
		}
		switch (c) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\f':
			esc = "\\f";
			break;
		default:
			/* Another control character, DEL, or a byte of invalid UTF-8. */
			uesc[0] = '\\';
			uesc[1] = 'u';
			uesc[2] = '0';
			uesc[3] = '0';
			uesc[4] = hex[c >> 4];
			uesc[5] = hex[c & 0xf];
			break;
		}
		buf_append(b, s + run, i - run);
		if (esc)
			buf_append(b, esc, 2);
		else
			buf_append(b, uesc, sizeof(uesc));
		i += len;
		run = i;
	}
	buf_append(b, s + run, n - run);
	buf_putc(b, '"');
}

/* A JSON number with 6 decimals; JSON has no NaN or infinity, so those become null. */
static void json_seconds(struct buf *b, double v)
{
	if (isfinite(v))
		buf_printf(b, "%.6f", v);
	else
		buf_append(b, "null", 4);
}

void results_format(struct buf *b, const struct results_record *r)
{
	long long signal = r->exitcode < 0 ? -(long long)r->exitcode : 0;
	buf_printf(b, "{\"seq\":%llu,\"item\":", (unsigned long long)r->seq);
	json_escape(b, r->item ? r->item : "", r->item ? r->item_len : 0);
	if (r->ncolumns) {
		buf_append(b, ",\"columns\":[", 12);
		for (size_t k = 0; k < r->ncolumns; k++) {
			if (k)
				buf_putc(b, ',');
			json_escape(b, r->columns[k], r->column_lens[k]);
		}
		buf_putc(b, ']');
	}
	buf_printf(b, ",\"worker\":%d,\"pid\":%ld,\"exitcode\":%d,\"signal\":%lld,\"core\":%s",
		   r->worker, (long)r->pid, r->exitcode, signal, r->core ? "true" : "false");
	buf_printf(b, ",\"status\":\"%s\",\"attempts\":%u,\"start\":", r->done ? "done" : "failed",
		   r->attempts);
	json_seconds(b, r->start);
	buf_append(b, ",\"runtime\":", 11);
	json_seconds(b, r->runtime);
	buf_append(b, ",\"output\":", 10);
	json_escape(b, r->output ? r->output : "", r->output ? r->output_len : 0);
	if (r->output_total > r->output_len)
		buf_printf(b, ",\"output_cut\":true,\"output_bytes\":%llu",
			   (unsigned long long)r->output_total);
	buf_append(b, ",\"stderr\":", 10);
	json_escape(b, r->err ? r->err : "", r->err ? r->err_len : 0);
	if (r->err_cut)
		buf_append(b, ",\"stderr_cut\":true", 18);
	if (r->timed_out)
		buf_append(b, ",\"timeout\":true", 15);
	if (r->error) {
		buf_append(b, ",\"error\":", 9);
		json_escape(b, r->error, strlen(r->error));
	}
	buf_append(b, "}\n", 2);
}

void results_format_unwritten(struct buf *b, const char *line, size_t len)
{
	static const char tail[] = "}\n";
	static const char key[] = ",\"stdout_written\":false}\n";
	/* Every line results_format writes ends with the object's closing brace. */
	if (len < 2 || memcmp(line + len - 2, tail, 2) != 0) {
		buf_append(b, line, len);
		return;
	}
	buf_append(b, line, len - 2);
	buf_append(b, key, sizeof(key) - 1);
}

int results_prepare(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || (S_ISREG(st.st_mode) && st.st_size > 0 && ftruncate(fd, 0) < 0))
		return -errno;
	return 0;
}
