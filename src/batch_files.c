/* The batch's files: stdout, the joblog, the results file and the events file. Opening and checking
 * them (a FIFO nobody reads, two of them the same file) before anything is written, and the buffers
 * they are written through. See the DESIGN comment in batch.c. */
#include "batch_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "joblog.h"
#include "results.h"

/* --- writing --- */

bool batch_file_writable(const struct batch_file *f)
{
	return f->out && !f->error;
}

void batch_file_append(struct batch_file *f, const char *p, size_t n)
{
	if (batch_file_writable(f))
		output_append(f->out, p, n);
}

bool batch_files_full(const struct batch *b)
{
	const struct batch_file *files[] = BATCH_FILES(b);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (files[i]->out && output_full(files[i]->out))
			return true;
	return false;
}

size_t batch_files_pending(const struct batch *b)
{
	const struct batch_file *files[] = BATCH_FILES(b);
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (files[i]->out)
			n += output_pending(files[i]->out);
	return n;
}

void batch_files_flush(struct batch *b)
{
	struct batch_file *files[] = BATCH_FILES(b);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (files[i]->out)
			output_flush(files[i]->out);
}

void batch_file_failed(struct batch_file *f, int err)
{
	struct batch *b = f->b;
	if (f->error)
		return;
	f->error = err;
	if (!b->write_error)
		b->write_error = err;
	batch_error(b, "%s %s: %s (further rows are not written)", f->what, f->path,
		    strerror(-err));
}

/* --- opening --- */

/* open(path, flags) for writing, creating the file when it is missing; *created says whether
 * this call made it. Returns the fd or -errno. */
static int file_open_try(const char *path, int flags, bool *created)
{
	int fd = -1;
	*created = false;
	/* Twice at most: a file made or removed by someone else in between is tried again
	 * once; a dangling symlink (ENOENT, then EEXIST) ends in a plain O_CREAT, which makes
	 * its target. */
	for (int i = 0; i < 2 && fd < 0; i++) {
		fd = open(path, flags);
		if (fd >= 0 || errno != ENOENT)
			break;
		fd = open(path, flags | O_CREAT | O_EXCL, 0666);
		if (fd >= 0)
			*created = true;
		else if (errno != EEXIST)
			break;
	}
	if (fd < 0 && (errno == ENOENT || errno == EEXIST))
		fd = open(path, flags | O_CREAT, 0666);
	return fd < 0 ? -errno : fd;
}

/* An output file (--joblog, --results) opened for writing, its contents not yet touched, so
 * that a start that fails later leaves it as it was (and removes it if *created). With append,
 * in append mode, and readable when allowed: joblog_prepare looks at the tail. Returns the fd
 * or -errno. */
static int file_open(const char *path, bool append, bool *created)
{
	/* Non-blocking, so that a FIFO nobody reads fails (ENXIO) instead of holding the open
	 * for ever; the writes are made non-blocking by output.c, on a description of its own. */
	int base = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	int fd;
	if (!append) {
		fd = file_open_try(path, base | O_WRONLY, created);
	} else {
		fd = file_open_try(path, base | O_RDWR | O_APPEND, created);
		if (fd == -EACCES)
			fd = file_open_try(path, base | O_WRONLY | O_APPEND, created);
	}
	if (fd >= 0) {
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	}
	return fd;
}

/* The reason an output file could not be opened, in words. */
static const char *file_open_why(const char *path, int r)
{
	struct stat st;
	if (r == -ENXIO && stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
		return "a FIFO that nobody reads";
	return strerror(-r);
}

/* Whether fds a and c are the same file, pipe or socket (devices such as /dev/null or a
 * terminal may be shared). */
static bool same_file(int a, int c)
{
	struct stat sa, sc;
	return a >= 0 && c >= 0 && fstat(a, &sa) == 0 && fstat(c, &sc) == 0 &&
	       !S_ISCHR(sa.st_mode) && !S_ISBLK(sa.st_mode) && sa.st_dev == sc.st_dev &&
	       sa.st_ino == sc.st_ino;
}

/* The input, stdout, the joblog and the results must be four files: an output that is the
 * input would be truncated before it is read, two outputs would write over each other. */
static int files_check(const struct batch *b, int out_fd, int jl_fd, int res_fd, char *err,
		       size_t errlen)
{
	const struct config *c = b->cfg;
	int in_fd = b->in_fd;
	if (same_file(jl_fd, out_fd) || same_file(res_fd, out_fd)) {
		bool jl = same_file(jl_fd, out_fd);
		snprintf(err, errlen,
			 "%s %s: that is standard output, where the outputs go (give another file)",
			 jl ? "--joblog" : "--results", jl ? c->joblog : c->results);
		return -EINVAL;
	}
	if (same_file(jl_fd, in_fd) || same_file(res_fd, in_fd)) {
		bool jl = same_file(jl_fd, in_fd);
		snprintf(err, errlen, "%s %s: that is the file the items are read from",
			 jl ? "--joblog" : "--results", jl ? c->joblog : c->results);
		return -EINVAL;
	}
	if (same_file(jl_fd, res_fd)) {
		snprintf(err, errlen,
			 "--joblog %s and --results %s are the same file: give each its own",
			 c->joblog, c->results);
		return -EINVAL;
	}
	return 0;
}

/* --events FILE is none of the other files either. */
static int events_check(const struct batch *b, int out_fd, int jl_fd, int res_fd, int ev_fd,
			char *err, size_t errlen)
{
	const struct config *c = b->cfg;
	const char *other = same_file(ev_fd, out_fd)	 ? "standard output, where the outputs go"
			    : same_file(ev_fd, b->in_fd) ? "the file the items are read from"
			    : same_file(ev_fd, jl_fd)	 ? "the --joblog file"
			    : same_file(ev_fd, res_fd)	 ? "the --results file"
							 : NULL;
	if (!other)
		return 0;
	snprintf(err, errlen, "--events %s: that is %s (give another file)", c->events, other);
	return -EINVAL;
}

int batch_files_open(struct batch *b, int out_fd, int *jl_fd, bool *jl_created, int *res_fd,
		     bool *res_created, int *ev_fd, bool *ev_created, char *err, size_t errlen)
{
	const struct config *cfg = b->cfg;
	bool append = cfg->resume || cfg->resume_failed;
	int r;
	if (cfg->joblog) {
		*jl_fd = r = file_open(cfg->joblog, append, jl_created);
		if (r < 0) {
			snprintf(err, errlen, "--joblog %s: %s", cfg->joblog,
				 file_open_why(cfg->joblog, r));
			return r;
		}
	}
	if (cfg->results) {
		*res_fd = r = file_open(cfg->results, false, res_created);
		if (r < 0) {
			snprintf(err, errlen, "--results %s: %s", cfg->results,
				 file_open_why(cfg->results, r));
			return r;
		}
	}
	if (cfg->events) {
		*ev_fd = r = file_open(cfg->events, false, ev_created);
		if (r < 0) {
			snprintf(err, errlen, "--events %s: %s", cfg->events,
				 file_open_why(cfg->events, r));
			return r;
		}
	}
	r = files_check(b, out_fd, *jl_fd, *res_fd, err, errlen);
	return r < 0 ? r : events_check(b, out_fd, *jl_fd, *res_fd, *ev_fd, err, errlen);
}

void batch_files_abandon(const char *path, int fd, bool created)
{
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(path);
}

static void file_init(struct batch *b, struct batch_file *f, const char *what, const char *path)
{
	f->b = b;
	f->what = what;
	f->path = path;
}

void batch_files_init(struct batch *b)
{
	file_init(b, &b->stdout_f, "standard output", "standard output");
	file_init(b, &b->joblog_f, "--joblog", b->cfg->joblog);
	file_init(b, &b->results_f, "--results", b->cfg->results);
	file_init(b, &b->events_f, "--events", b->cfg->events);
}

/* Write f to fd (taken when own) from now on. */
static void file_attach(struct batch *b, struct batch_file *f, int fd, bool own)
{
	struct output_callbacks ocb = {
		.progress = batch_output_progress_cb,
		.failed = batch_output_failed_cb,
		.data = f,
	};
	f->out = output_new(b->loop, fd, own, &ocb);
	b->open_handles++;
}

int batch_files_prepare(struct batch *b, int *jl_fd, int *res_fd, int *ev_fd, char *err,
			size_t errlen)
{
	const struct config *cfg = b->cfg;
	bool append = cfg->resume || cfg->resume_failed;
	int header = 0, r;
	if (*jl_fd >= 0 && (header = joblog_prepare(*jl_fd, append)) < 0) {
		snprintf(err, errlen, "--joblog %s: %s", cfg->joblog, strerror(-header));
		return header;
	}
	if (*res_fd >= 0 && (r = results_prepare(*res_fd)) < 0) {
		snprintf(err, errlen, "--results %s: %s", cfg->results, strerror(-r));
		return r;
	}
	/* The events file is truncated as the results file is. */
	if (*ev_fd >= 0 && (r = results_prepare(*ev_fd)) < 0) {
		snprintf(err, errlen, "--events %s: %s", cfg->events, strerror(-r));
		return r;
	}
	if (*jl_fd >= 0) {
		file_attach(b, &b->joblog_f, *jl_fd, true);
		*jl_fd = -1;
		/* The header goes out with the first rows (or at the end), so a full disk shows
		 * up like any other failed write. */
		if (header) {
			joblog_format_header(&b->jl_text);
			output_append(b->joblog_f.out, b->jl_text.data, b->jl_text.len);
		}
	}
	if (*res_fd >= 0) {
		file_attach(b, &b->results_f, *res_fd, true);
		*res_fd = -1;
	}
	if (*ev_fd >= 0) {
		file_attach(b, &b->events_f, *ev_fd, true);
		*ev_fd = -1;
	}
	return 0;
}

/* --- the events file --- */

/* One event as a JSON object on one line: time (seconds since the epoch), kind
 * (view_event_kind_name), slot, pid, exitcode (worker_exited: the worker's; item_failed,
 * item_retried: the item's), cause (worker_exited: view_cause_name), seq, text; a value that
 * does not apply is null. */
static void events_format(struct buf *out, const struct view_event *ev, double wall)
{
	bool exited = ev->kind == VIEW_EVENT_WORKER_EXITED;
	bool coded =
		exited || ev->kind == VIEW_EVENT_ITEM_FAILED || ev->kind == VIEW_EVENT_ITEM_RETRIED;
	buf_printf(out, "{\"time\":%.6f,\"kind\":\"%s\",\"slot\":", wall,
		   view_event_kind_name(ev->kind));
	if (ev->slot >= 0)
		buf_printf(out, "%d", ev->slot);
	else
		buf_printf(out, "null");
	if (ev->pid > 0)
		buf_printf(out, ",\"pid\":%ld", (long)ev->pid);
	else
		buf_printf(out, ",\"pid\":null");
	if (coded)
		buf_printf(out, ",\"exitcode\":%d", ev->exitcode);
	else
		buf_printf(out, ",\"exitcode\":null");
	if (exited)
		buf_printf(out, ",\"cause\":\"%s\"", view_cause_name(ev->cause));
	else
		buf_printf(out, ",\"cause\":null");
	if (ev->seq)
		buf_printf(out, ",\"seq\":%llu", (unsigned long long)ev->seq);
	else
		buf_printf(out, ",\"seq\":null");
	buf_printf(out, ",\"text\":");
	json_escape(out, ev->text, strnlen(ev->text, sizeof(ev->text)));
	buf_printf(out, "}\n");
}

void batch_events_write(struct batch *b, const struct view_event *ev)
{
	if (!batch_file_writable(&b->events_f))
		return;
	/* The event's own time: it may be handed on a little after it happened. */
	uint64_t now = now_ns();
	double wall = wall_s() - (now > ev->time_ns ? (double)(now - ev->time_ns) / 1e9 : 0);
	buf_reset(&b->ev_text);
	events_format(&b->ev_text, ev, wall);
	batch_file_append(&b->events_f, b->ev_text.data, b->ev_text.len);
}

void batch_files_stdout(struct batch *b, int out_fd)
{
	file_attach(b, &b->stdout_f, out_fd, false);
}

/* --- the end --- */

static void file_closed_cb(void *data)
{
	batch_handle_gone(data);
}

void batch_files_close(struct batch *b)
{
	struct batch_file *files[] = BATCH_FILES(b);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (files[i]->out)
			output_close(files[i]->out, file_closed_cb, b);
}

void batch_files_free(struct batch *b)
{
	struct batch_file *files[] = BATCH_FILES(b);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		output_free(files[i]->out);
	buf_free(&b->ev_text);
}
