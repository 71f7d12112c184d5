/* The spool: outputs too large for the RESULT ring are files SEQ.ATTEMPT in a directory made at
 * pool_start, which the parent opens and unlinks as it takes each result, and removes at
 * pool_free. Part of the supervisor: see pool.c's DESIGN. */
#include "pool_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The run's spool directory, made in TMPDIR (or /tmp), private to us. Failing is not fatal:
 * outputs larger than the ring are then cut, and said so. */
void pool_spool_init(struct pool *p)
{
	const char *parent =
		p->cfg.spool_parent && *p->cfg.spool_parent ? p->cfg.spool_parent : "/tmp";
	struct buf b = {0};
	buf_printf(&b, "%s/pooltop-spool.XXXXXX", parent);
	if (!mkdtemp(b.data)) {
		pool_emit(p, VIEW_EVENT_NOTICE, NULL, 0,
			  "cannot make a spool directory in %s: %s (outputs over %u KiB are cut)",
			  parent, strerror(errno), JOB_OUTPUT_MEM >> 10);
		buf_free(&b);
		return;
	}
	p->spool_dirfd = open(b.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->spool_dirfd < 0) {
		rmdir(b.data);
		buf_free(&b);
		return;
	}
	p->spool_dir = b.data;
}

static void spool_name(char *name, size_t len, uint64_t seq, uint32_t attempt)
{
	snprintf(name, len, "%llu.%u", (unsigned long long)seq, attempt);
}

/* The spool file of a result marked SPOOLED: opened, unlinked (the fd keeps it), into *o. A
 * file that cannot be read is an output lost: the result says truncated. */
void pool_spool_take(struct pool *p, struct queue_result *res, struct pool_out *o)
{
	char name[48];
	spool_name(name, sizeof(name), res->ref.seq, res->ref.attempt);
	int fd = p->spool_dir ? openat(p->spool_dirfd, name, O_RDONLY | O_CLOEXEC) : -1;
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		res->flags |= QUEUE_RESULT_TRUNCATED;
		return;
	}
	unlinkat(p->spool_dirfd, name, 0);
	o->data = NULL;
	o->len = (uint64_t)st.st_size;
	o->spool_fd = fd;
}

/* What a worker that died left of an item's output. */
void pool_spool_forget(struct pool *p, uint64_t seq, uint32_t attempt)
{
	char name[48];
	if (!p->spool_dir)
		return;
	spool_name(name, sizeof(name), seq, attempt);
	unlinkat(p->spool_dirfd, name, 0);
}

/* The directory and whatever is left in it. */
void pool_spool_remove(struct pool *p)
{
	if (!p->spool_dir)
		return;
	DIR *d = fdopendir(p->spool_dirfd);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				unlinkat(p->spool_dirfd, e->d_name, 0);
		closedir(d); /* closes spool_dirfd */
	} else {
		close(p->spool_dirfd);
	}
	rmdir(p->spool_dir);
	free(p->spool_dir);
	p->spool_dir = NULL;
}
