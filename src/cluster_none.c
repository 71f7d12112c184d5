/* Built without hiredis: submit, collect and a host (--redis) say so in one line. */
#include <errno.h>
#include <stdio.h>

#include "cluster_cmd.h"
#include "cluster_host.h"
#include "view.h"

#define NONE                                                                                       \
	"--redis: this pooltop was built without hiredis (install libhiredis-dev, then "           \
	"./bootstrap)"

static int cluster_none(void)
{
	fputs("pooltop: " NONE "\n", stderr);
	return 255;
}

int cluster_submit_main(const struct config *cfg)
{
	(void)cfg;
	return cluster_none();
}

int cluster_collect_main(const struct config *cfg)
{
	(void)cfg;
	return cluster_none();
}

int cluster_ls_main(const struct config *cfg)
{
	(void)cfg;
	return cluster_none();
}

int cluster_host_new(uv_loop_t *loop, const struct config *cfg, const char *kind, unsigned jobs,
		     struct cluster_host **out, char *err, size_t errlen)
{
	(void)loop, (void)cfg, (void)kind, (void)jobs;
	*out = NULL;
	snprintf(err, errlen, "%s", NONE);
	return -ENOTSUP;
}

/* Never called: no host is ever made. */
struct batch_feed *cluster_host_feed(struct cluster_host *h)
{
	(void)h;
	return NULL;
}

void cluster_host_start(struct cluster_host *h, struct view *v,
			unsigned (*local_rows)(struct view *v, struct view_totals *t,
					       struct view_row *rows, unsigned max))
{
	(void)h, (void)v, (void)local_rows;
}

const char *cluster_host_name(const struct cluster_host *h)
{
	(void)h;
	return "";
}

unsigned cluster_host_rows(struct cluster_host *h, struct view_row *rows, unsigned max,
			   unsigned base)
{
	(void)h, (void)rows, (void)max, (void)base;
	return 0;
}

int cluster_host_command(struct cluster_host *h, unsigned row, uint64_t generation,
			 enum view_command cmd, int arg)
{
	(void)h, (void)row, (void)generation, (void)cmd, (void)arg;
	return -ESTALE;
}

void cluster_host_close(struct cluster_host *h, void (*closed)(void *data), void *data)
{
	(void)h;
	if (closed)
		closed(data);
}

void cluster_host_free(struct cluster_host *h)
{
	(void)h;
}

int view_cluster_new(uv_loop_t *loop, const char *url, const char *batch, bool read_only,
		     const struct view_hooks *hooks, struct view **out, char *err, size_t errlen)
{
	(void)loop, (void)url, (void)batch, (void)read_only, (void)hooks;
	*out = NULL;
	snprintf(err, errlen, "%s", NONE);
	return -ENOTSUP;
}
