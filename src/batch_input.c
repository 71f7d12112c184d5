/* The batch's input: items from -a FILE, stdin or ::: words, fed to the pool as it takes them,
 * and the --resume skip. See the DESIGN comment in batch.c. */
#include "batch_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input.h"
#include "joblog.h"

/* --- opening --- */

int batch_input_open(struct batch *b, char *err, size_t errlen)
{
	b->in_fd = -1;
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
	b->in_file = S_ISREG(st.st_mode) || S_ISBLK(st.st_mode);
	return 0;
}

static void in_poll_cb(uv_poll_t *h, int status, int events);
static void in_idle_cb(uv_idle_t *h);

void batch_input_init(struct batch *b)
{
	/* The splitter drops an item longer than the pool takes as it streams: a line of any
	 * length costs no more memory than the longest item that can run. */
	if (b->in_fd >= 0)
		b->in = input_new(b->in_fd, b->cfg->null_sep ? '\0' : '\n', pool_max_item(b->pool));
	uv_idle_init(b->loop, &b->in_idle);
	b->in_idle.data = b;
	b->open_handles++;
	if (b->in && !b->in_file) {
		int r = uv_poll_init(b->loop, &b->in_poll, b->in_fd);
		if (r == 0) {
			/* uv_poll_init made the file description non-blocking: that is shared
			 * with whoever else holds it (a terminal, a pipe's writer's shell). */
			int fl = fcntl(b->in_fd, F_GETFL);
			if (fl >= 0)
				fcntl(b->in_fd, F_SETFL, fl & ~O_NONBLOCK);
			b->in_poll.data = b;
			b->in_poll_init = true;
			b->open_handles++;
		} else {
			b->in_file = true; /* not pollable: read it directly */
		}
	}
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

/* --- feeding --- */

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

/* 1: an item; 0: none now (input_eof says whether ever); -E2BIG: too long (*seq, *len set). */
static int source_next(struct batch *b, const char **item, size_t *len, uint64_t *seq)
{
	if (b->run.items) {
		if (b->next_arg >= b->run.nitems) {
			b->input_eof = true;
			return 0;
		}
		*item = b->run.items[b->next_arg];
		*len = strlen(*item);
		*seq = ++b->next_arg;
		if (*len > pool_max_item(b->pool))
			return -E2BIG;
		return 1;
	}
	int r = input_next(b->in, item, len, seq);
	if (r == 0 && input_done(b->in))
		b->input_eof = true;
	return r;
}

static void in_wait_readable(struct batch *b)
{
	if (b->in_file) {
		uv_idle_start(&b->in_idle, in_idle_cb);
		return;
	}
	if (!b->in_polling && b->in_poll_init) {
		uv_poll_start(&b->in_poll, UV_READABLE | UV_DISCONNECT, in_poll_cb);
		b->in_polling = true;
	}
}

static void in_pause(struct batch *b)
{
	if (b->in_polling) {
		uv_poll_stop(&b->in_poll);
		b->in_polling = false;
	}
}

static void input_read_error(struct batch *b, ssize_t n)
{
	if (!b->read_error)
		b->read_error = (int)n;
	batch_error(b, "reading the items: %s; no more items are read", strerror((int)-n));
	b->input_eof = true;
}

void batch_input_feed(struct batch *b)
{
	if (b->feeding || b->finished)
		return;
	b->feeding = true;
	while (!b->input_eof && !b->input_stopped) {
		if (batch_files_full(b)) {
			/* A slow reader: take no more until it catches up (batch_output_settle). */
			b->out_throttled = true;
			in_pause(b);
			break;
		}
		if (!b->have_item) {
			const char *item;
			size_t len;
			uint64_t seq;
			int r = source_next(b, &item, &len, &seq);
			if (r == -E2BIG) {
				item_too_long(b, seq, len);
				continue;
			}
			if (r == 0) {
				if (b->input_eof)
					break;
				if (b->in_file) {
					ssize_t n = input_fill(b->in);
					if (n < 0)
						input_read_error(b, n);
					continue;
				}
				in_wait_readable(b);
				break;
			}
			if (skip_has(b, seq)) {
				b->skipped++;
				batch_output_skipped(b, seq);
				continue;
			}
			if (b->out_idle_closed) {
				/* Stdout's reader left when every output so far was written, and
				 * here comes more: it cannot go anywhere. */
				b->output_closed = true;
				batch_error(b, "standard output was closed: stopping the batch");
				batch_stop(b, VIEW_STOP_TERMINATE, NULL);
				break;
			}
			b->have_item = true;
			b->item = item;
			b->item_len = len;
			b->item_seq = seq;
		}
		int r = pool_submit(b->pool, b->item_seq, b->item, b->item_len);
		if (r == 0) {
			b->have_item = false;
		} else if (r == -EAGAIN) {
			in_pause(b);
			break;
		} else if (r == -E2BIG) {
			b->have_item = false;
			item_too_long(b, b->item_seq, b->item_len);
		} else {
			b->input_stopped = true; /* -EPIPE: the pool was closed */
			in_pause(b);
		}
	}
	if (b->input_eof || b->input_stopped) {
		in_pause(b);
		if (b->input_eof)
			pool_input_end(b->pool);
	}
	b->feeding = false;
}

static void in_poll_cb(uv_poll_t *h, int status, int events)
{
	(void)events;
	struct batch *b = h->data;
	if (status < 0) {
		input_read_error(b, status);
	} else {
		ssize_t n = input_fill(b->in);
		if (n < 0)
			input_read_error(b, n);
	}
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
	if (b->in_polling) {
		uv_poll_stop(&b->in_poll);
		b->in_polling = false;
	}
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
	if (b->in_poll_init)
		uv_close((uv_handle_t *)&b->in_poll, in_handle_closed_cb);
}

void batch_input_free(struct batch *b)
{
	input_free(b->in);
	if (b->in_owned && b->in_fd >= 0)
		close(b->in_fd);
	free(b->skip);
}
