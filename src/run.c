/* A run: the job the command line asks for, its words, and the settings beside the config. */
#include "run.h"

#include <errno.h>
#include <stdio.h>

#include "template.h"
#include "termseq.h"

void run_settings_init(struct run_settings *s, const struct config *c)
{
	*s = (struct run_settings){.jobs = c->jobs, .items = c->items, .nitems = c->nitems};
}

int run_job_from_config(const struct config *c, struct job *job, char *err, size_t errlen)
{
	char why[256];
	int r;

	if (c->command && c->persistent)
		r = job_persistent_new(c->command, c->in_flight, job, err, errlen);
	else if (c->command) {
		r = job_command_new(c->command, job, err, errlen);
		if (r == 0)
			job->dry_run = c->dry_run;
		/* Several sources, or --colsep: an item is their values separated by NUL bytes. */
		if (r == 0 && (c->nsources > 1 || c->colsep))
			template_set_values(job->cmd, true);
	} else if (c->plugin)
		r = job_plugin_new(c->plugin, job, err, errlen);
	else if (c->builtin || c->mode == CLI_DEMO) {
		r = job_builtin_parse(c->builtin ? c->builtin : "demo", job, why, sizeof(why));
		if (r < 0)
			snprintf(err, errlen, "--builtin: %s", why);
	} else {
		snprintf(err, errlen, "nothing to run");
		r = -EINVAL;
	}
	if (r < 0)
		return r;
	/* Both were checked by the option parser. */
	if (termseq_parse(c->term_seq ? c->term_seq : TERMSEQ_DEFAULT, &job->termseq, why,
			  sizeof(why)) < 0) {
		snprintf(err, errlen, "--term-seq: %s", why);
		job_release(job);
		return -EINVAL;
	}
	return 0;
}

void run_describe(const struct config *c, struct buf *b)
{
	if (c->command) {
		if (c->persistent)
			buf_printf(b, "--persistent ");
		template_quote_argv(b, c->command);
	} else if (c->plugin) {
		buf_printf(b, "--plugin %s", c->plugin);
	} else {
		buf_printf(b, "--builtin %s", c->builtin);
	}
}
