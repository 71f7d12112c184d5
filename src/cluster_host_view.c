/* A host's rows and requests (cluster_host_internal.h): its workers published for the cluster
 * view, the other hosts' rows for its own dashboard, the requests aimed at its workers, and
 * its heartbeat. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cluster_host_internal.h"
#include "proto.h"

/* --- the cluster view: the rows published, requests taken --- */

void host_remote_free(struct cluster_host *h)
{
	for (unsigned i = 0; i < h->nremote; i++)
		free(h->remote[i]);
	free(h->remote);
	free(h->remote_len);
	h->remote = NULL;
	h->remote_len = NULL;
	h->nremote = 0;
}

static void views_reply(struct cluster_host *h, redisReply *r, void *priv)
{
	(void)priv;
	h->remote_asked = false;
	if (!rq_is(r, REDIS_REPLY_ARRAY))
		return;
	host_remote_free(h);
	h->remote = xcalloc(r->elements + 1, sizeof(*h->remote));
	h->remote_len = xcalloc(r->elements + 1, sizeof(*h->remote_len));
	for (size_t i = 0; i < r->elements; i++)
		if (rq_is(r->element[i], REDIS_REPLY_STRING)) {
			h->remote[h->nremote] = xmemdup(r->element[i]->str, r->element[i]->len);
			h->remote_len[h->nremote++] = r->element[i]->len;
		}
}

/* The other hosts' views, for this host's dashboard. */
void host_ask_views(struct cluster_host *h)
{
	if (h->remote_asked || !h->connected)
		return;
	char k_hosts[CLUSTER_KEY_MAX], prefix[CLUSTER_KEY_MAX];
	cluster_key(k_hosts, h->cfg->batch, "hosts");
	cluster_key(prefix, h->cfg->batch, "view:");
	struct rq_args a = {0};
	rq_eval(&a, cluster_lua_views, 1);
	rq_str(&a, k_hosts);
	rq_str(&a, h->name);
	rq_str(&a, prefix);
	if (rq_send(h, &a, views_reply, NULL) == 0)
		h->remote_asked = true;
	rq_free(&a);
}

unsigned cluster_host_rows(struct cluster_host *h, struct view_row *rows, unsigned max,
			   unsigned base)
{
	h->nrmap = 0;
	if (!h->nremote || !max)
		return 0;
	struct cluster_view_text *v = xcalloc(h->nremote, sizeof(*v));
	for (unsigned i = 0; i < h->nremote; i++)
		v[i] = (struct cluster_view_text){.text = h->remote[i], .len = h->remote_len[i]};
	if (!h->rmap)
		h->rmap = xcalloc(CLUSTER_ROWS_MAX, sizeof(*h->rmap));
	struct view_totals t;
	unsigned hosts = 0, bad = 0;
	unsigned n = cluster_rows_merge(v, h->nremote, rows, h->rmap, MIN(max, CLUSTER_ROWS_MAX),
					&t, &hosts, &bad);
	free(v);
	for (unsigned i = 0; i < n; i++)
		rows[i].index = base + i;
	h->nrmap = n;
	return n;
}

const char *cluster_host_name(const struct cluster_host *h)
{
	return h->name;
}

int cluster_host_command(struct cluster_host *h, unsigned row, uint64_t generation,
			 enum view_command cmd, int arg)
{
	if (row >= h->nrmap || h->rmap[row].generation != generation)
		return -ESTALE;
	if (!h->connected)
		return -ENOTCONN;
	const struct cluster_slot *s = &h->rmap[row];
	char by[CLUSTER_NAME_MAX + 16];
	snprintf(by, sizeof(by), "host %s", h->name);
	char *text = cluster_request(s, proto_command_word(cmd), arg, by);
	if (!text)
		return -ENOMEM;
	char key[CLUSTER_KEY_MAX], part[CLUSTER_KEY_MAX];
	snprintf(part, sizeof(part), "ctl:%s", s->host);
	cluster_key(key, h->cfg->batch, part);
	struct rq_args a = {0};
	rq_str(&a, "RPUSH");
	rq_str(&a, key);
	rq_str(&a, text);
	int rc = rq_send(h, &a, NULL, NULL);
	rq_free(&a);
	free(text);
	if (rc < 0)
		return rc;
	host_say(h, false,
		 "%s asked of %s, worker %u (pid %d, item %llu): the host says in its log",
		 proto_command_word(cmd), s->host, s->slot, (int)s->pid,
		 (unsigned long long)s->cur_seq);
	return 0;
}

void host_publish_view(struct cluster_host *h)
{
	if (!h->view || !h->connected)
		return;
	struct view_totals t;
	unsigned n = h->local_rows(h->view, &t, h->rows, POOLTOP_MAX_WORKERS);
	json_t *rows = json_array();
	for (unsigned i = 0; i < n; i++)
		json_array_append_new(rows, proto_row(&h->rows[i]));
	json_t *o =
		json_pack("{s:s, s:I, s:f, s:o, s:o}", "host", h->name, "pid", (json_int_t)getpid(),
			  "at", wall_s(), "totals", proto_totals(&t), "rows", rows);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return;
	struct rq_args a = {0};
	rq_str(&a, "SET");
	rq_str(&a, h->k_view);
	rq_str(&a, text);
	rq_str(&a, "PX");
	rq_num(&a, VIEW_TTL_MS);
	rq_send(h, &a, NULL, NULL);
	rq_free(&a);
	free(text);
}

/* A request from a viewer: {"cmd":"kill","slot":N,"gen":G,"seq":S,"arg":A,"by":"..."}. It is
 * done only if the worker still runs the item the viewer saw (seq 0: none). */
static void do_request(struct cluster_host *h, const char *text, size_t len)
{
	json_error_t je;
	json_t *o = json_loadb(text, len, 0, &je);
	const char *cmd = NULL, *by = "a viewer";
	json_int_t slot = -1, gen = 0, seq = 0, arg = 0;
	enum view_command vc;
	if (!o ||
	    json_unpack(o, "{s:s, s:I, s:I, s:I, s?I, s?s}", "cmd", &cmd, "slot", &slot, "gen",
			&gen, "seq", &seq, "arg", &arg, "by", &by) < 0 ||
	    proto_command_parse(cmd, &vc) < 0 || slot < 0 || !h->view) {
		host_say(h, true, "a request that is not one: ignored");
		json_decref(o);
		return;
	}
	struct view_totals t;
	unsigned n = h->local_rows(h->view, &t, h->rows, POOLTOP_MAX_WORKERS);
	const struct view_row *row = NULL;
	for (unsigned i = 0; i < n; i++)
		if (h->rows[i].index == (unsigned)slot)
			row = &h->rows[i];
	if (!row || row->generation != (uint64_t)gen || row->cur_seq != (uint64_t)seq) {
		host_say(h, true,
			 "%s from %s on worker %lld: not done, it no longer runs item %lld", cmd,
			 by, (long long)slot, (long long)seq);
		json_decref(o);
		return;
	}
	int rc = view_command(h->view, vc, (unsigned)slot, (uint64_t)gen, (int)arg);
	if (rc < 0)
		host_say(h, true, "%s from %s on worker %lld: %s", cmd, by, (long long)slot,
			 strerror(-rc));
	else
		host_say(h, false, "%s from %s on worker %lld (pid %d, item %lld)", cmd, by,
			 (long long)slot, (int)row->pid, (long long)seq);
	json_decref(o);
}

static void ctl_reply(struct cluster_host *h, redisReply *r, void *priv)
{
	(void)priv;
	h->ctl_asked = false;
	if (!rq_is(r, REDIS_REPLY_ARRAY))
		return;
	for (size_t i = 0; i < r->elements; i++)
		if (rq_is(r->element[i], REDIS_REPLY_STRING))
			do_request(h, r->element[i]->str, r->element[i]->len);
}

void host_take_requests(struct cluster_host *h)
{
	if (h->ctl_asked || !h->connected)
		return;
	struct rq_args a = {0};
	rq_str(&a, "LPOP");
	rq_str(&a, h->k_ctl);
	rq_num(&a, CTL_MAX);
	if (rq_send(h, &a, ctl_reply, NULL) == 0)
		h->ctl_asked = true;
	rq_free(&a);
}

static void heartbeat_reply(struct cluster_host *h, redisReply *r, void *priv)
{
	(void)priv;
	if (rq_is(r, REDIS_REPLY_INTEGER) && r->integer == 0)
		host_fail(h,
			  "--host: another process joined batch %s as %s while this one did not "
			  "answer: stopping",
			  h->cfg->batch, h->name);
}

/* The heartbeat, unless another process took the name while this one was stopped (its
 * heartbeat expired): then both would be one consumer, and fencing between them gone. */
void host_heartbeat(struct cluster_host *h)
{
	struct rq_args a = {0};
	rq_eval(&a, cluster_lua_heartbeat, 1);
	rq_str(&a, h->k_live);
	rq_str(&a, h->desc);
	rq_num(&a, LIVE_TTL_MS);
	rq_send(h, &a, heartbeat_reply, NULL);
	rq_free(&a);
}
