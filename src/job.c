/* What a job owns; an item's output as kinds write it. */
#include "job.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "template.h"

void job_release(struct job *job)
{
	template_free(job->cmd);
	job->cmd = NULL;
	free(job->plugin);
	job->plugin = NULL;
}

/* --- an item's output --- */

/* Bytes gathered before a write to the spool file. */
#define JOB_SPOOL_WRITE (64u * 1024u)

void job_output_reset(struct job_output *o, int spool_dirfd, uint64_t seq, uint32_t attempt)
{
	buf_reset(&o->mem);
	o->fd = -1;
	o->len = 0;
	o->err = 0;
	o->last = '\n';
	o->spool_dirfd = spool_dirfd;
	o->seq = seq;
	o->attempt = attempt;
	o->line_start = true;
}

/* Write what waits in mem to the spool file; the first failure cuts the output there. */
static void job_output_flush(struct job_output *o)
{
	if (o->fd >= 0 && o->mem.len && !o->err) {
		int r = write_all(o->fd, o->mem.data, o->mem.len);
		if (r < 0)
			o->err = r;
	}
	buf_reset(&o->mem);
}

void job_output_spill(struct job_output *o, const void *p, size_t n)
{
	if (o->err || !n)
		return; /* cut: what comes after the failure is dropped */
	if (o->fd < 0) {
		char name[48];
		snprintf(name, sizeof(name), "%llu.%u", (unsigned long long)o->seq, o->attempt);
		o->fd = o->spool_dirfd < 0 ? -1
					   : openat(o->spool_dirfd, name,
						    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (o->fd < 0) {
			/* Nowhere to spill: the output is cut at what memory holds. */
			o->err = o->spool_dirfd < 0 ? -ENOENT : -errno;
			return;
		}
	}
	buf_append(&o->mem, p, n);
	o->len += n;
	o->last = ((const char *)p)[n - 1];
	if (o->mem.len >= JOB_SPOOL_WRITE)
		job_output_flush(o);
}

void job_output_write_tagged(struct job_output *o, const void *p, size_t n)
{
	const char *s = p, *end = s + n;
	while (s < end) {
		if (o->line_start) {
			job_output_put(o, o->tag, o->tag_len);
			o->line_start = false;
		}
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *stop = nl ? nl + 1 : end;
		job_output_put(o, s, (size_t)(stop - s));
		o->line_start = nl != NULL;
		s = stop;
	}
}

bool job_output_finish(struct job_output *o)
{
	/* A cut output ends with a newline, so that the next item's is not glued on. */
	bool unended = o->err && o->last != '\n';
	o->last = '\n';
	if (o->fd < 0) {
		if (unended)
			buf_putc(&o->mem, '\n');
		return false;
	}
	job_output_flush(o);
	if (unended)
		(void)write_all(o->fd, "\n", 1); /* as far as the disk lets it */
	close(o->fd);
	o->fd = -1;
	return true;
}

void job_output_free(struct job_output *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	buf_free(&o->mem);
}

/* --- an item's stderr --- */

void job_stderr_write(struct job_stderr *e, const void *p, size_t n)
{
	if (!e)
		return;
	size_t keep = e->mem.len < JOB_STDERR_MAX ? MIN(n, JOB_STDERR_MAX - e->mem.len) : 0;
	buf_append(&e->mem, p, keep);
	e->cut += n - keep;
}

void job_stderr_finish(struct job_stderr *e)
{
	if (!e || !e->cut)
		return;
	if (e->mem.len && e->mem.data[e->mem.len - 1] != '\n')
		buf_putc(&e->mem, '\n');
	buf_printf(&e->mem, "[... %llu bytes cut]\n", (unsigned long long)e->cut);
}

void job_stderr_reset(struct job_stderr *e)
{
	buf_reset(&e->mem);
	e->cut = 0;
}
