/* The batch's input: items from -a FILE, stdin or ::: words, fed to the pool as it takes them,
 * and the --resume skip. See the DESIGN comment in batch.c. */
#include "batch_internal.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input.h"
#include "joblog.h"
#include "sources.h"

/* --- opening --- */

/* One :::: FILE of several, read whole. */
static int open_source_file(struct batch *b, const char *file, char *err, size_t errlen)
{
	bool is_stdin = strcmp(file, "-") == 0;
	int fd = is_stdin ? 0 : open(file, O_RDONLY | O_CLOEXEC);
	int r = fd < 0 ? -errno : sources_add_fd(b->sources, fd, b->cfg->null_sep ? '\0' : '\n');

	if (fd > 0)
		close(fd);
	if (r == -EFBIG)
		snprintf(err, errlen,
			 ":::: %s: the input sources hold more than %u MiB (they are read whole)",
			 file, SOURCES_MAX_BYTES >> 20);
	else if (r < 0)
		snprintf(err, errlen, ":::: %s: %s", is_stdin ? "- (standard input)" : file,
			 strerror(-r));
	return r;
}

/* Several sources: each read whole now, their combinations made one at a time as the pool
 * takes them. */
static int open_sources(struct batch *b, char *err, size_t errlen)
{
	const struct config *cfg = b->cfg;

	b->source = SOURCE_PRODUCT;
	b->sources = sources_new(cfg->link);
	for (size_t k = 0; k < cfg->nsources; k++) {
		const struct cli_source *src = &cfg->sources[k];
		if (!src->file) {
			sources_add_words(b->sources, src->items, src->nitems);
			continue;
		}
		int r = open_source_file(b, src->file, err, errlen);
		if (r < 0)
			return r;
	}
	if (sources_count(b->sources, &b->ncombos) < 0) {
		snprintf(err, errlen, "the input sources' cross product has more than %llu items",
			 (unsigned long long)UINT64_MAX);
		return -EOVERFLOW;
	}
	return 0;
}

int batch_input_open(struct batch *b, char *err, size_t errlen)
{
	b->in_fd = -1;
	b->source = SOURCE_WORDS;
	/* A command's template splits the values again; the other kinds get them joined. */
	b->combo_sep = b->job.cmd && !b->job.kind->submit ? '\0' : ' ';
	if (b->cfg->colsep) {
		char why[256];
		b->colsep = colsep_new(b->cfg->colsep, why, sizeof(why));
		if (!b->colsep) {
			snprintf(err, errlen, "--colsep: %s", why);
			return -EINVAL;
		}
	}
	if (b->run.feed) {
		/* The items were submitted to the feed's batch before (cluster_host.c). */
		b->source = SOURCE_FEED;
		return 0;
	}
	if (b->cfg->nsources > 1 && !b->run.items)
		return open_sources(b, err, errlen);
	if (b->run.items)
		return 0;
	if (b->cfg->arg_file) {
		b->in_fd = open(b->cfg->arg_file, O_RDONLY | O_CLOEXEC);
		if (b->in_fd < 0) {
			int e = errno;
			snprintf(err, errlen, "-a %s: %s", b->cfg->arg_file, strerror(e));
			return -e;
		}
		b->in_owned = true;
	} else {
		b->in_fd = 0;
		int fl = fcntl(0, F_GETFL);
		if (fl >= 0 && (fl & O_ACCMODE) == O_WRONLY) {
			snprintf(err, errlen,
				 "reading the items: standard input is closed "
				 "(give them with -a FILE or ::: ITEM...)");
			return -EBADF;
		}
	}
	struct stat st;
	if (fstat(b->in_fd, &st) < 0) {
		int e = errno;
		snprintf(err, errlen, "reading the items: %s", strerror(e));
		return -e;
	}
	/* read() of a directory fails only later, which would make it an empty batch. */
	if (S_ISDIR(st.st_mode)) {
		if (b->cfg->arg_file)
			snprintf(err, errlen, "-a %s: %s", b->cfg->arg_file, strerror(EISDIR));
		else
			snprintf(err, errlen, "standard input: %s", strerror(EISDIR));
		return -EISDIR;
	}
	b->source = S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) ? SOURCE_DIRECT : SOURCE_POLLED;
	return 0;
}

void batch_input_init(struct batch *b)
{
	/* The splitter drops an item longer than the pool takes as it streams: a line of any
	 * length costs no more memory than the longest item that can run. */
	if (b->in_fd >= 0)
		b->in = input_new(b->in_fd, b->cfg->null_sep ? '\0' : '\n', pool_max_item(b->pool));
	uv_idle_init(b->loop, &b->in_idle);
	b->in_idle.data = b;
	b->open_handles++;
	if (b->source != SOURCE_POLLED)
		return;
	if (uv_poll_init(b->loop, &b->in_poll, b->in_fd) != 0) {
		b->source = SOURCE_DIRECT; /* not pollable: read it directly */
		return;
	}
	/* uv_poll_init made the file description non-blocking: that is shared with whoever else
	 * holds it (a terminal, a pipe's writer's shell). */
	int fl = fcntl(b->in_fd, F_GETFL);
	if (fl >= 0)
		fcntl(b->in_fd, F_SETFL, fl & ~O_NONBLOCK);
	b->in_poll.data = b;
	b->open_handles++;
}

/* --- --resume --- */

static bool skip_has(const struct batch *b, uint64_t seq)
{
	uint64_t w = seq / 64;
	return w < b->skip_words && (b->skip[w] >> (seq % 64) & 1);
}

static void skip_add(struct batch *b, uint64_t seq)
{
	uint64_t w = seq / 64;
	if (w >= b->skip_words) {
		size_t n = MAX(w + 1, b->skip_words * 2);
		b->skip = xrealloc(b->skip, n * sizeof(*b->skip));
		memset(b->skip + b->skip_words, 0, (n - b->skip_words) * sizeof(*b->skip));
		b->skip_words = n;
	}
	b->skip[w] |= 1ULL << (seq % 64);
}

static int resume_row_cb(void *data, const struct joblog_row *row)
{
	struct batch *b = data;
	if (b->cfg->resume_failed && (row->exitval != 0 || row->signal != 0))
		return 0; /* a failure: run it again */
	skip_add(b, row->seq);
	return 0;
}

int batch_input_resume(struct batch *b, char *err, size_t errlen)
{
	const struct config *cfg = b->cfg;
	if (!cfg->resume && !cfg->resume_failed)
		return 0;
	char why[512];
	int r = joblog_read(cfg->joblog, resume_row_cb, b, why, sizeof(why));
	if (r == -ENOENT)
		return 0; /* nothing to resume: a first run */
	if (r == -EINVAL)
		snprintf(err, errlen, "--joblog %s", why); /* why names the file and line */
	else if (r < 0)
		snprintf(err, errlen, "--joblog %s: %s", cfg->joblog, strerror(-r));
	return r;
}

/* --- the state machine --- */

#define TO(s) (1u << (s))

/* The edges allowed, from each state: see the DESIGN comment in batch.c. */
static const unsigned input_edges[] = {
	[INPUT_READING] = TO(INPUT_POOL_FULL) | TO(INPUT_OUTPUT_FULL) | TO(INPUT_ENDED) |
			  TO(INPUT_FAILED) | TO(INPUT_STOPPED),
	[INPUT_POOL_FULL] = TO(INPUT_READING) | TO(INPUT_STOPPED),
	[INPUT_OUTPUT_FULL] = TO(INPUT_READING) | TO(INPUT_STOPPED),
	[INPUT_ENDED] = 0,
	[INPUT_FAILED] = 0,
	[INPUT_STOPPED] = 0,
};

/* Every change of the input's state. Outside INPUT_READING the fd is not watched; at the end of
 * the input (or a read error) the pool is told that no more items come. */
static void input_set(struct batch *b, enum batch_input_state to)
{
	assert(input_edges[b->in_state] & TO(to));
	b->in_state = to;
	if (to != INPUT_READING && b->source == SOURCE_POLLED &&
	    uv_is_active((uv_handle_t *)&b->in_poll))
		uv_poll_stop(&b->in_poll);
	if (to == INPUT_ENDED || to == INPUT_FAILED)
		pool_input_end(b->pool);
}

bool batch_input_live(const struct batch *b)
{
	switch (b->in_state) {
	case INPUT_READING:
	case INPUT_POOL_FULL:
	case INPUT_OUTPUT_FULL:
		return true;
	case INPUT_ENDED:
	case INPUT_FAILED:
	case INPUT_STOPPED:
		return false;
	}
	return false;
}

/* --- reading --- */

static void item_too_long(struct batch *b, uint64_t seq, size_t len)
{
	char err[128];
	snprintf(err, sizeof(err), "item of %zu bytes is longer than the limit of %zu bytes", len,
		 pool_max_item(b->pool));
	batch_notice(b, "input line %llu: %s: not run", (unsigned long long)seq, err);
	b->too_long++;
	struct pool_result r = {
		.seq = seq,
		.item = "",
		.slot = -1,
		.spool_fd = -1,
		.exitcode = 1,
		.start = wall_s(),
	};
	batch_output_record(b, &r, err);
}

static void input_read_error(struct batch *b, ssize_t n)
{
	if (!b->read_error)
		b->read_error = (int)n;
	batch_error(b, "reading the items: %s; no more items are read", strerror((int)-n));
	input_set(b, INPUT_FAILED);
}

/* 1: an item; 0: none buffered now; -ENODATA: the input has ended; -E2BIG: too long (*seq,
 * *len set). */
static int source_next(struct batch *b, const char **item, size_t *len, uint64_t *seq)
{
	if (b->source == SOURCE_PRODUCT) {
		if (b->next_combo >= b->ncombos)
			return -ENODATA;
		sources_record(b->sources, b->next_combo, b->combo_sep, &b->combo);
		*seq = ++b->next_combo;
		*item = b->combo.data ? b->combo.data : "";
		*len = b->combo.len;
		if (*len > pool_max_item(b->pool))
			return -E2BIG;
		return 1;
	}
	if (b->source == SOURCE_WORDS) {
		if (b->next_arg >= b->run.nitems)
			return -ENODATA;
		*item = b->run.items[b->next_arg];
		*len = strlen(*item);
		*seq = ++b->next_arg;
		if (*len > pool_max_item(b->pool))
			return -E2BIG;
		return 1;
	}
	if (b->source == SOURCE_FEED) {
		int r = b->run.feed->next(b->run.feed->data, item, len, seq);
		if (r == 1 && *len > pool_max_item(b->pool))
			return -E2BIG;
		return r;
	}
	int r = input_next(b->in, item, len, seq);
	if (r == 0 && input_done(b->in))
		return -ENODATA;
	return r;
}

/* --colsep: a command gets the item's columns, separated by NUL bytes (its template splits them
 * again); the other kinds get the item as it is. */
static int source_next_split(struct batch *b, const char **item, size_t *len, uint64_t *seq)
{
	int r = source_next(b, item, len, seq);
	if (r != 1 || !b->colsep || b->combo_sep != '\0')
		return r;
	colsep_split(b->colsep, *item, *len, '\0', &b->combo);
	*item = b->combo.data ? b->combo.data : "";
	*len = b->combo.len;
	return 1;
}

static void in_poll_cb(uv_poll_t *h, int status, int events)
{
	(void)events;
	struct batch *b = h->data;
	ssize_t n = status < 0 ? status : input_fill(b->in);
	if (n < 0)
		input_read_error(b, n);
	batch_input_feed(b);
}

/* What read_one did. */
enum read_result {
	READ_HELD,  /* an item is held for the pool */
	READ_AGAIN, /* one was passed over (skipped, too long) or read in: read on */
	READ_WAIT,  /* none now: the state says why, or the fd is waited on */
};

/* Read the next item into b->held. */
static enum read_result read_one(struct batch *b)
{
	const char *item;
	size_t len;
	uint64_t seq;
	int r = source_next_split(b, &item, &len, &seq);
	if (r == -E2BIG) {
		item_too_long(b, seq, len);
		return READ_AGAIN;
	}
	if (r == -ENODATA) {
		input_set(b, INPUT_ENDED);
		return READ_WAIT;
	}
	if (r == 0 && b->source == SOURCE_FEED)
		return READ_WAIT; /* batch_feed_wake feeds again */
	if (r == 0 && b->source == SOURCE_DIRECT) {
		ssize_t n = input_fill(b->in);
		if (n < 0)
			input_read_error(b, n);
		return READ_AGAIN;
	}
	if (r == 0) {
		if (!uv_is_active((uv_handle_t *)&b->in_poll))
			uv_poll_start(&b->in_poll, UV_READABLE | UV_DISCONNECT, in_poll_cb);
		return READ_WAIT;
	}
	if (skip_has(b, seq)) {
		b->skipped++;
		batch_output_skipped(b, seq);
		return READ_AGAIN;
	}
	if (b->out_state == OUTPUT_CLOSED_IDLE) {
		/* Stdout's reader left when every output so far was written, and here comes
		 * more: it cannot go anywhere. */
		batch_output_stdout_lost(b);
		return READ_WAIT;
	}
	b->held = (struct batch_held){.item = item, .len = len, .seq = seq};
	return READ_HELD;
}

/* Hand the held item to the pool. Returns whether to go on. */
static bool submit_held(struct batch *b)
{
	int r = pool_submit(b->pool, b->held.seq, b->held.item, b->held.len);
	if (r == -EAGAIN) {
		input_set(b, INPUT_POOL_FULL);
		return false;
	}
	if (r < 0 && r != -E2BIG) {
		input_set(b, INPUT_STOPPED); /* -EPIPE: the pool was closed */
		return false;
	}
	struct batch_held h = b->held;
	b->held.seq = 0;
	if (r == -E2BIG)
		item_too_long(b, h.seq, h.len);
	return true;
}

/* One item into the pool, unless the outputs are full. Returns whether to go on. */
static bool feed_one(struct batch *b)
{
	if (batch_files_full(b)) {
		/* A slow reader: take no more until it catches up (batch_input_output_drained). */
		input_set(b, INPUT_OUTPUT_FULL);
		return false;
	}
	if (!b->held.seq) {
		enum read_result r = read_one(b);
		if (r != READ_HELD)
			return r == READ_AGAIN;
	}
	return submit_held(b);
}

void batch_input_feed(struct batch *b)
{
	if (b->feeding || !batch_input_live(b))
		return;
	b->feeding = true;
	if (b->in_state != INPUT_READING)
		input_set(b, INPUT_READING);
	/* A call from inside (a hook, a stop) may end the input: the state is looked at again. */
	while (b->in_state == INPUT_READING && feed_one(b))
		continue;
	b->feeding = false;
}

void batch_input_output_drained(struct batch *b)
{
	if (b->in_state == INPUT_OUTPUT_FULL && !batch_files_full(b))
		batch_input_feed(b);
}

static void in_idle_cb(uv_idle_t *h)
{
	uv_idle_stop(h);
	batch_input_feed(h->data);
}

void batch_input_start(struct batch *b)
{
	uv_idle_start(&b->in_idle, in_idle_cb);
}

void batch_input_stop(struct batch *b)
{
	if (batch_input_live(b))
		input_set(b, INPUT_STOPPED);
	uv_idle_stop(&b->in_idle);
}

/* --- the end --- */

static void in_handle_closed_cb(uv_handle_t *h)
{
	batch_handle_gone(h->data);
}

void batch_input_close(struct batch *b)
{
	uv_close((uv_handle_t *)&b->in_idle, in_handle_closed_cb);
	if (b->source == SOURCE_POLLED)
		uv_close((uv_handle_t *)&b->in_poll, in_handle_closed_cb);
}

void batch_input_free(struct batch *b)
{
	sources_free(b->sources);
	colsep_free(b->colsep);
	buf_free(&b->combo);
	input_free(b->in);
	if (b->in_owned && b->in_fd >= 0)
		close(b->in_fd);
	free(b->skip);
}
