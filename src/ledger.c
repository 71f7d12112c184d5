/* The ledger: records of finished items waiting for their output. See the DESIGN comment in
 * ledger.h. */
#include "ledger.h"

#include <stdlib.h>
#include <string.h>

/* Text taken out is moved away once this much of it has gone. */
#define LEDGER_COMPACT_AT (64 * 1024)

void ledger_init(struct ledger *l)
{
	memset(l, 0, sizeof(*l));
}

void ledger_free(struct ledger *l)
{
	free(l->e);
	buf_free(&l->text);
	ledger_init(l);
}

static void ledger_grow(struct ledger *l)
{
	size_t cap = l->cap ? l->cap * 2 : 64;
	struct ledger_entry *e = xmalloc(cap * sizeof(*e));
	for (size_t i = 0; i < l->len; i++)
		e[i] = l->e[(l->head + i) % l->cap];
	free(l->e);
	l->e = e;
	l->cap = cap;
	l->head = 0;
}

void ledger_add(struct ledger *l, const struct ledger_entry *e, const char *joblog,
		const char *results)
{
	if (!l->len) {
		/* Empty: the text starts again (what ledger_take handed out is no longer needed).
		 */
		buf_reset(&l->text);
		l->text_head = 0;
	}
	if (l->len == l->cap)
		ledger_grow(l);
	l->e[(l->head + l->len) % l->cap] = *e;
	l->len++;
	if (e->joblog_len)
		buf_append(&l->text, joblog, e->joblog_len);
	if (e->results_len)
		buf_append(&l->text, results, e->results_len);
}

size_t ledger_len(const struct ledger *l)
{
	return l->len;
}

bool ledger_take(struct ledger *l, uint64_t written, struct ledger_entry *e, const char **joblog,
		 const char **results)
{
	if (!l->len || (written != UINT64_MAX && l->e[l->head].end > written))
		return false;
	*e = l->e[l->head];
	l->head = (l->head + 1) % l->cap;
	l->len--;
	*joblog = *results = NULL;
	size_t n = e->joblog_len + (size_t)e->results_len;
	if (!n)
		return true;
	if (l->text_head >= LEDGER_COMPACT_AT && l->text_head * 2 >= l->text.len) {
		/* What was taken before goes; what this call hands out stays valid. */
		memmove(l->text.data, l->text.data + l->text_head, l->text.len - l->text_head);
		l->text.len -= l->text_head;
		l->text_head = 0;
	}
	*joblog = l->text.data + l->text_head;
	*results = *joblog + e->joblog_len;
	l->text_head += n;
	return true;
}
