/* Several input sources: their cross product or their link, one combination at a time. */
#include "sources.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct source {
	struct buf bytes; /* the values, each followed by a NUL */
	size_t *offs;	  /* value j starts at offs[j]; offs[n] is the end */
	size_t n, cap;
};

struct sources {
	bool link;
	struct source *v;
	size_t n;
	size_t read_bytes; /* read from fds, for SOURCES_MAX_BYTES */
};

struct sources *sources_new(bool link)
{
	struct sources *s = xcalloc(1, sizeof(*s));
	s->link = link;
	return s;
}

void sources_free(struct sources *s)
{
	if (!s)
		return;
	for (size_t k = 0; k < s->n; k++) {
		buf_free(&s->v[k].bytes);
		free(s->v[k].offs);
	}
	free(s->v);
	free(s);
}

static struct source *source_new(struct sources *s)
{
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	struct source *src = &s->v[s->n++];
	memset(src, 0, sizeof(*src));
	src->offs = xcalloc(1, sizeof(*src->offs));
	src->cap = 0;
	return src;
}

static void source_push(struct source *src, const char *p, size_t len)
{
	if (src->n + 1 >= src->cap + 1) {
		src->cap = src->cap ? 2 * src->cap : 16;
		src->offs = xrealloc(src->offs, (src->cap + 1) * sizeof(*src->offs));
	}
	buf_append(&src->bytes, p, len);
	buf_putc(&src->bytes, '\0');
	src->offs[++src->n] = src->bytes.len;
}

void sources_add_words(struct sources *s, char *const *words, size_t n)
{
	struct source *src = source_new(s);
	for (size_t j = 0; j < n; j++)
		source_push(src, words[j], strlen(words[j]));
}

int sources_add_fd(struct sources *s, int fd, char sep)
{
	struct buf all = {0};
	char chunk[65536];
	ssize_t n;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			buf_free(&all);
			return -e;
		}
		if (n == 0)
			break;
		if (s->read_bytes + (size_t)n > SOURCES_MAX_BYTES) {
			buf_free(&all);
			return -EFBIG;
		}
		s->read_bytes += (size_t)n;
		buf_append(&all, chunk, (size_t)n);
	}
	struct source *src = source_new(s);
	for (size_t at = 0; at < all.len;) {
		const char *p = all.data + at;
		const char *e = memchr(p, sep, all.len - at);
		size_t len = e ? (size_t)(e - p) : all.len - at;
		source_push(src, p, len);
		at += len + 1;
	}
	buf_free(&all);
	return 0;
}

size_t sources_n(const struct sources *s)
{
	return s->n;
}

int sources_count(const struct sources *s, uint64_t *count)
{
	uint64_t c = s->n ? (s->link ? 0 : 1) : 0;

	for (size_t k = 0; k < s->n; k++) {
		uint64_t len = s->v[k].n;
		if (len == 0) {
			*count = 0;
			return 0;
		}
		if (s->link)
			c = MAX(c, len);
		else if (c > UINT64_MAX / len)
			return -EOVERFLOW;
		else
			c *= len;
	}
	*count = c;
	return 0;
}

/* Which value of source k combination i takes. */
static size_t sources_index(const struct sources *s, uint64_t i, size_t k)
{
	if (s->link)
		return (size_t)(i % s->v[k].n);
	/* Mixed radix, the last source the lowest digit. */
	for (size_t j = s->n - 1; j > k; j--)
		i /= s->v[j].n;
	return (size_t)(i % s->v[k].n);
}

const char *sources_value(const struct sources *s, uint64_t i, size_t k, size_t *len)
{
	const struct source *src = &s->v[k];
	size_t j = sources_index(s, i, k);
	*len = src->offs[j + 1] - src->offs[j] - 1;
	return src->bytes.data + src->offs[j];
}

void sources_record(const struct sources *s, uint64_t i, char sep, struct buf *b)
{
	buf_reset(b);
	for (size_t k = 0; k < s->n; k++) {
		size_t len;
		const char *v = sources_value(s, i, k, &len);
		if (k > 0)
			buf_putc(b, sep);
		buf_append(b, v, len);
	}
}

/* --- --colsep --- */

struct colsep {
	regex_t re;
	struct buf line; /* the line, NUL-terminated for regexec */
};

struct colsep *colsep_new(const char *regex, char *err, size_t errlen)
{
	struct colsep *c = xcalloc(1, sizeof(*c));
	struct buf pat = {0};

	/* Perl's \t, which parallel's users write; a POSIX ERE reads it as 't'. */
	for (const char *p = regex; *p; p++) {
		if (p[0] == '\\' && p[1] == 't') {
			buf_putc(&pat, '\t');
			p++;
		} else if (p[0] == '\\' && p[1]) {
			buf_append(&pat, p, 2);
			p++;
		} else {
			buf_putc(&pat, *p);
		}
	}
	buf_putc(&pat, '\0');
	int r = regcomp(&c->re, pat.data, REG_EXTENDED);
	buf_free(&pat);
	if (r != 0) {
		char why[160];
		regerror(r, &c->re, why, sizeof(why));
		snprintf(err, errlen, "'%s' is not a valid regular expression: %s", regex, why);
		free(c);
		return NULL;
	}
	return c;
}

void colsep_free(struct colsep *c)
{
	if (!c)
		return;
	regfree(&c->re);
	buf_free(&c->line);
	free(c);
}

void colsep_split(struct colsep *c, const char *line, size_t len, char sep, struct buf *b)
{
	size_t p = 0;
	regmatch_t m;

	buf_reset(&c->line);
	buf_append(&c->line, line, len);
	buf_putc(&c->line, '\0');
	buf_reset(b);
	for (bool first = true;; first = false) {
		const char *s = c->line.data + p;
		size_t n;
		bool last = p >= len || regexec(&c->re, s, 1, &m, p > 0 ? REG_NOTBOL : 0) != 0;
		if (!first)
			buf_putc(b, sep);
		if (last) {
			n = len - p;
		} else {
			/* A match of nothing splits after one byte at least, so it moves on. */
			n = (size_t)m.rm_so;
			if (m.rm_eo == m.rm_so)
				n = MIN(MAX(n, (size_t)1), len - p);
		}
		buf_append(b, s, n);
		if (last)
			break;
		p += m.rm_eo > m.rm_so ? (size_t)m.rm_eo : n;
	}
}
