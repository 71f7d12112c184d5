/* The plugin kind: a shared object exporting pooltop-plugin.h's functions, loaded in each
 * worker. The parent loads it once first, only to say at once what is wrong with it. */
#include "job.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pooltop-plugin.h"

typedef int (*plugin_init_fn)(const char *arg, unsigned slot, void **state, const char **why);
typedef int (*plugin_run_fn)(void *state, const char *item, size_t len, struct pooltop_output *out);
typedef void (*plugin_fini_fn)(void *state);

struct plugin_state {
	void *dl;
	plugin_run_fn run;
	plugin_fini_fn fini;
	void *state;
	struct buf item; /* the item, NUL-terminated */
};

struct plugin_output {
	struct pooltop_output pub;
	struct job_output *out;
};

static int plugin_write(struct pooltop_output *o, const void *data, size_t n)
{
	struct plugin_output *po = (struct plugin_output *)o;
	job_output_write(po->out, data, n);
	return po->out->err ? -1 : 0;
}

static int plugin_init(const struct job *job, struct job_ctx *ctx)
{
	struct plugin_state *st = xcalloc(1, sizeof(*st));
	st->dl = dlopen(job->plugin, RTLD_NOW | RTLD_LOCAL);
	if (!st->dl) {
		snprintf(ctx->why, ctx->why_len, "%s", dlerror());
		free(st);
		return -EINVAL;
	}
	st->run = (plugin_run_fn)dlsym(st->dl, "pooltop_plugin_run");
	st->fini = (plugin_fini_fn)dlsym(st->dl, "pooltop_plugin_fini");
	plugin_init_fn init = (plugin_init_fn)dlsym(st->dl, "pooltop_plugin_init");
	if (!st->run) {
		snprintf(ctx->why, ctx->why_len, "%s: does not export pooltop_plugin_run",
			 job->plugin);
		dlclose(st->dl);
		free(st);
		return -EINVAL;
	}
	if (init) {
		const char *why = NULL;
		int r = init(job->plugin_arg, (unsigned)ctx->slot, &st->state, &why);
		if (r != 0) {
			snprintf(ctx->why, ctx->why_len, "%s: pooltop_plugin_init failed: %s",
				 job->plugin,
				 why	 ? why
				 : r < 0 ? strerror(-r)
					 : "refused");
			free(st);
			/* Not dlclose: the plugin may have left threads or handlers behind. */
			return r < 0 ? r : -EINVAL;
		}
	}
	ctx->state = st;
	return 0;
}

static int plugin_run(const struct job *job, struct job_ctx *ctx, const char *item, size_t len,
		      struct job_output *out)
{
	struct plugin_state *st = ctx->state;
	(void)job;
	struct plugin_output po = {.pub = {.write = plugin_write}, .out = out};
	buf_reset(&st->item);
	buf_append(&st->item, item, len);
	buf_putc(&st->item, '\0');
	int code = st->run(st->state, st->item.data, len, &po.pub);
	/* An exit code is 0..255 (as the process's would be). */
	return code < 0 || code > 255 ? 255 : code;
}

static void plugin_fini(const struct job *job, struct job_ctx *ctx)
{
	struct plugin_state *st = ctx->state;
	(void)job;
	if (st->fini)
		st->fini(st->state);
	buf_free(&st->item);
	free(st);
	ctx->state = NULL;
}

static const struct job_kind plugin_kind = {
	.name = "plugin",
	.summary = "a C plugin's run per item",
	.init = plugin_init,
	.run = plugin_run,
	.fini = plugin_fini,
};

int job_plugin_new(const char *spec, struct job *job, char *err, size_t errlen)
{
	const char *colon = strstr(spec, ".so:");
	size_t n = colon ? (size_t)(colon + 3 - spec) : strlen(spec);
	struct buf path = {0};
	struct stat st;

	/* dlopen reads a name without '/' as a library to search for: a file given on the
	 * command line is a path. */
	if (!memchr(spec, '/', n))
		buf_printf(&path, "./");
	buf_append(&path, spec, n);
	if (stat(path.data, &st) < 0) {
		snprintf(err, errlen, "--plugin %s: %s", path.data, strerror(errno));
		buf_free(&path);
		return -ENOENT;
	}
	void *dl = dlopen(path.data, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		snprintf(err, errlen, "--plugin: %s", dlerror());
		buf_free(&path);
		return -EINVAL;
	}
	bool has_run = dlsym(dl, "pooltop_plugin_run") != NULL;
	dlclose(dl);
	if (!has_run) {
		snprintf(err, errlen,
			 "--plugin %s: does not export pooltop_plugin_run (see pooltop-plugin.h)",
			 path.data);
		buf_free(&path);
		return -EINVAL;
	}
	memset(job, 0, sizeof(*job));
	job->kind = &plugin_kind;
	job->plugin = path.data; /* owned: job_release frees it */
	job->plugin_arg = colon ? colon + 4 : NULL;
	return 0;
}
