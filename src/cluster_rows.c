/* The cluster view's rows merged from the hosts' published views (cluster_rows.h). */
#include "cluster_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cluster_lua.h"
#include "proto.h"
#include "util.h"

#define CMP(a, b) (((a) > (b)) - ((a) < (b)))

struct parsed {
	json_t *o;
	const char *host;
};

static int by_host(const void *x, const void *y)
{
	const struct parsed *a = x, *b = y;
	return strcmp(a->host, b->host);
}

static int by_slot(const void *x, const void *y)
{
	const struct view_row *a = x, *b = y;
	return CMP(a->index, b->index);
}

static void totals_add(struct view_totals *t, const struct view_totals *h)
{
	t->size += h->size;
	t->alive += h->alive;
	t->busy += h->busy;
	t->hung += h->hung;
	t->start_failing += h->start_failing;
	t->submitted += h->submitted;
	t->done += h->done;
	t->failed += h->failed;
	t->retried += h->retried;
	t->requeued += h->requeued;
	t->running += h->running;
	t->queued += h->queued;
	t->not_run += h->not_run;
	t->duplicates += h->duplicates;
	t->stats_dropped += h->stats_dropped;
	t->repairs += h->repairs;
	t->rate_now += h->rate_now;
	t->rate_avg += h->rate_avg;
	t->paused |= h->paused;
	t->mem_waiting |= h->mem_waiting;
	t->output_blocked |= h->output_blocked;
	t->output_pending += h->output_pending;
	t->elapsed_ns = MAX(t->elapsed_ns, h->elapsed_ns);
	t->hang_after_ns = MAX(t->hang_after_ns, h->hang_after_ns);
	t->timeout_ns = MAX(t->timeout_ns, h->timeout_ns);
	t->median_runtime_ns = MAX(t->median_runtime_ns, h->median_runtime_ns);
}

/* One host's rows into rows[0..max), in slot order. Returns how many. */
static unsigned host_rows(const struct parsed *p, struct view_row *rows, unsigned max)
{
	json_t *jr = json_object_get(p->o, "rows");
	unsigned k = 0;
	size_t i;
	json_t *row;
	char err[160];
	json_array_foreach(jr, i, row)
	{
		if (k >= max)
			break;
		if (proto_row_get(row, &rows[k], err, sizeof(err)) == 0)
			k++;
	}
	qsort(rows, k, sizeof(*rows), by_slot);
	return k;
}

unsigned cluster_rows_merge(const struct cluster_view_text *views, unsigned n,
			    struct view_row *rows, struct cluster_slot *map, unsigned max,
			    struct view_totals *t, unsigned *hosts, unsigned *bad)
{
	struct parsed *p = xcalloc(n ? n : 1, sizeof(*p));
	unsigned np = 0;
	*bad = 0;
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < n; i++) {
		if (!views[i].text)
			continue;
		json_t *o = json_loadb(views[i].text, views[i].len, 0, NULL);
		const char *host = json_string_value(json_object_get(o, "host"));
		if (!o || !host || !cluster_name_ok(host) ||
		    !json_is_array(json_object_get(o, "rows"))) {
			json_decref(o);
			(*bad)++;
			continue;
		}
		p[np++] = (struct parsed){o, host};
	}
	qsort(p, np, sizeof(*p), by_host);
	unsigned k = 0;
	for (unsigned i = 0; i < np; i++) {
		struct view_totals ht;
		char err[160];
		if (proto_totals_get(json_object_get(p[i].o, "totals"), &ht, err, sizeof(err)) == 0)
			totals_add(t, &ht);
		unsigned m = host_rows(&p[i], rows + k, max - k);
		for (unsigned j = k; j < k + m; j++) {
			struct cluster_slot *s = &map[j];
			snprintf(s->host, sizeof(s->host), "%s", p[i].host);
			s->slot = rows[j].index;
			s->generation = rows[j].generation;
			s->pid = rows[j].pid;
			s->cur_seq = rows[j].cur_seq;
			snprintf(rows[j].host, sizeof(rows[j].host), "%s", p[i].host);
			rows[j].index = j;
		}
		k += m;
		json_decref(p[i].o);
	}
	free(p);
	*hosts = np;
	return k;
}

char *cluster_request(const struct cluster_slot *s, const char *cmd, int arg, const char *by)
{
	json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:i, s:s}", "cmd", cmd, "slot",
			      (json_int_t)s->slot, "gen", (json_int_t)s->generation, "seq",
			      (json_int_t)s->cur_seq, "arg", arg, "by", by);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}
