/* The host of a batch across machines, inside: what its modules share (cluster_host.c: the
 * connection, the tick, the start and the end; cluster_items.c: the items held, fetched,
 * renewed, reclaimed and committed; cluster_host_view.c: the rows published, the other hosts'
 * rows, the requests taken, the heartbeat). Private to src/cluster_host*.c and
 * src/cluster_items.c. */
#ifndef POOLTOP_CLUSTER_HOST_INTERNAL_H
#define POOLTOP_CLUSTER_HOST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "batch.h"
#include "cli.h"
#include "cluster_host.h"
#include "cluster_lua.h"
#include "cluster_rows.h"
#include "redis_url.h"
#include "util.h"
#include "view.h"

#define TICK_MS		 20
#define HEARTBEAT_MS	 1000
#define LIVE_TTL_MS	 5000
#define VIEW_MS		 500
#define VIEW_TTL_MS	 3000
#define META_MS		 200
#define TRIM_MS		 2000
#define HOLD_MAX	 256
#define HOLD_AHEAD_MS	 200
#define COMMIT_MAX	 512  /* results to a commit request */
#define RENEW_MAX	 1000 /* ids to a renew request */
#define RECLAIM_MAX	 64
#define CLOSE_FLUSH_MS	 3000
#define RECONNECT_MAX_MS 1000
#define WATCHDOG_MIN_MS	 3000
#define CTL_MAX		 16

/* An item this host holds. */
struct held {
	uint64_t seq;
	char id[48];	     /* its stream entry */
	unsigned deliveries; /* with this one */
	bool used;
	bool queued;	 /* fetched, not given to the batch yet */
	bool lost;	 /* its lease was taken: its result is not recorded here */
	bool committing; /* its result is to be committed */
	char *item;	 /* while queued */
	size_t len;
};

/* A result to commit. */
struct commit {
	uint32_t idx; /* its held item */
	bool failed;
	char *record;
	size_t len;
};

struct commits {
	struct commit *v;
	size_t n, cap;
};

struct cluster_host {
	uv_loop_t *loop;
	const struct config *cfg;
	struct redis_url url;
	char urltext[300];
	char name[CLUSTER_NAME_MAX + 1];
	char k_meta[CLUSTER_KEY_MAX], k_items[CLUSTER_KEY_MAX], k_res[CLUSTER_KEY_MAX],
		k_live[CLUSTER_KEY_MAX], k_view[CLUSTER_KEY_MAX], k_ctl[CLUSTER_KEY_MAX];
	char epoch[48];
	char *kind;
	char desc[300]; /* the host's description (JSON) */
	uint64_t lease_ms;
	unsigned retries;
	unsigned jobs;
	char warning[200]; /* said at the start: Redis persists nothing */
	char notice[200];  /* said at the start: the batch's lease is not --lease */

	struct batch_feed feed;
	struct view *view;
	unsigned (*local_rows)(struct view *v, struct view_totals *t, struct view_row *rows,
			       unsigned max);
	struct view_row *rows;
	/* the other hosts' workers, for this host's dashboard */
	char **remote;
	size_t *remote_len;
	unsigned nremote;
	bool remote_asked;
	struct cluster_slot *rmap; /* what each remote row was, as last merged */
	unsigned nrmap;

	/* the connection */
	redisAsyncContext *ac;
	bool connected;	  /* AUTH and SELECT answered */
	bool renew_first; /* connected: renew and adopt before anything else */
	bool again;	  /* ...after the connection was lost */
	bool refused;	  /* AUTH or SELECT was refused: the tick connects again */
	unsigned outstanding;
	uint64_t waiting_since_ns; /* the oldest unanswered request, 0 when none */
	uint64_t reconnect_at_ns;
	unsigned backoff_ms;
	uint64_t down_since_ns;
	uv_timer_t tick;
	bool tick_open;

	/* the items held */
	struct held *held;
	size_t nheld, held_cap;
	uint32_t *freelist;
	size_t nfree;
	uint32_t *table; /* seq -> idx + 1, open addressing; 0 empty */
	size_t table_cap;
	uint32_t *queue; /* held indices, FIFO */
	size_t q_head, q_len, q_cap;
	char *given; /* the item the batch was handed last, freed at the next */
	size_t live_items;
	uint64_t results; /* since rate_at_ns */
	uint64_t rate_at_ns;
	double rate; /* results a second */

	/* requests in flight */
	bool fetching, renewing, reclaiming, meta_asked, ctl_asked;
	struct commits pending, sending;
	uint64_t renew_at_ns, heartbeat_at_ns, view_at_ns, meta_at_ns, reclaim_not_before_ns;
	uint64_t reclaim_at_ns, trim_at_ns;
	bool commit_refused; /* the last commit got an error: said once, sent again later */
	uint64_t commit_retry_at_ns;

	/* the batch as Redis counts it */
	uint64_t total, done, failed;
	bool complete;
	bool ended; /* complete and every result recorded */
	uint64_t fenced, dups, poisoned;
	char fatal[200];

	bool closing, disconnecting;
	uint64_t close_deadline_ns;
	void (*closed)(void *data);
	void *closed_data;
};

/* --- requests (cluster_host.c) --- */

struct rq_args {
	const char **v;
	size_t *len;
	size_t n, cap;
	struct buf nums; /* numbers formatted, NUL-separated; v points into it (fixed below) */
	size_t *num_at;	 /* for each arg: offset into nums + 1, or 0 */
};

/* Send a; cb(h, reply, priv) gets its reply, or NULL when the connection went. Returns 0, or
 * -ENOTCONN. */
typedef void reply_fn(struct cluster_host *h, redisReply *r, void *priv);

void rq_add(struct rq_args *a, const char *s, size_t len);
void rq_str(struct rq_args *a, const char *s);
void rq_num(struct rq_args *a, uint64_t n);
void rq_free(struct rq_args *a);
/* EVAL script over nkeys keys (and the arguments added after). */
void rq_eval(struct rq_args *a, const char *script, int nkeys);
int rq_send(struct cluster_host *h, struct rq_args *a, reply_fn *fn, void *priv);
bool rq_is(const redisReply *r, int type);
/* An event (error: kept for the end too), and what stops the host (said, kept for its
 * summary, the batch terminated). */
void host_say(struct cluster_host *h, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void host_fail(struct cluster_host *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A request unanswered this long drops the connection; after a reconnect, nothing is reclaimed
 * for host_settle_ms. */
uint64_t host_watchdog_ms(const struct cluster_host *h);
uint64_t host_settle_ms(const struct cluster_host *h);

/* --- the items (cluster_items.c) --- */

long held_find(const struct cluster_host *h, uint64_t seq);
void held_drop(struct cluster_host *h, uint32_t idx);
/* The next item fetched and not given to the batch yet (those whose lease went are dropped),
 * or -1. */
long held_pop(struct cluster_host *h);
size_t hold_target(const struct cluster_host *h);
void host_update_rate(struct cluster_host *h, uint64_t now);
void host_fetch(struct cluster_host *h);
void host_reclaim(struct cluster_host *h, uint64_t now);
/* Renew everything held; first: after a connect (then adopt, then the rest may go on). */
void host_renew(struct cluster_host *h, bool first);
void host_commit_send(struct cluster_host *h);
void host_give_back(struct cluster_host *h);
void host_feed_result(void *data, const struct pool_result *r, const char *record,
		      size_t record_len, const char *command, size_t command_len);

/* --- the rows and requests (cluster_host_view.c) --- */

void host_publish_view(struct cluster_host *h);
void host_take_requests(struct cluster_host *h);
void host_ask_views(struct cluster_host *h);
void host_heartbeat(struct cluster_host *h);
void host_remote_free(struct cluster_host *h);

#endif
