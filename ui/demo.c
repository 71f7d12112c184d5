/* The built-in demos: the dashboard's demo batch, and PyMOTW's exit-code example. */
#include <stdbool.h>

#include "demo.h"

#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "cli.h"
#include "job.h"
#include "run.h"
#include "util.h"
#include "view.h"

/* sha512 work mixed with items that exit with a code, raise, abort, segfault, fail and hang,
 * so that every state and every kind of exit code shows within seconds. */
static char *demo_list[] = {
	"sha512:100000",
	"sleep:1500",
	"exit:3",
	"sha512:100000",
	"raises",
	"sleep:2000",
	"hang",
	"sha512:100000",
	"abort",
	"12",
	"sleep:1000",
	"segv",
	"fail",
	"sha512:150000",
	"exit:300",
	"sleep:2500",
	"sha512:100000",
	"echo",
	"segv",
	"sleep:1200",
	"exit_ok",
	"return_value",
	"sha512:200000",
	"fail",
	"abort",
	"sleep:3000",
	"42",
	"sha512:100000",
	"exit:1",
	"sleep:1800",
	"sha512:120000",
	"raises",
	"sleep:2200",
	"7",
	"sha512:100000",
	"sleep:1500",
	"exit_error",
	"sha512:180000",
	"sleep:2600",
	"segv",
};

char **demo_items(bool dashboard, size_t *n)
{
	static char *headless[ARRAY_SIZE(demo_list)];
	if (dashboard) {
		*n = ARRAY_SIZE(demo_list);
		return demo_list;
	}
	/* Without a dashboard nobody can kill the hanging item. */
	size_t k = 0;
	for (size_t i = 0; i < ARRAY_SIZE(demo_list); i++)
		if (strcmp(demo_list[i], "hang") != 0)
			headless[k++] = demo_list[i];
	*n = k;
	return headless;
}

static const char *const exitcode_functions[] = {
	"exit_error", "exit_ok", "return_value", "raises", "terminated",
};
#define NFUNC ARRAY_SIZE(exitcode_functions)

struct exitcodes {
	uv_loop_t loop;
	struct view *view;
	uv_timer_t watch;
	int codes[NFUNC];
	bool have[NFUNC];
	bool terminated;
};

static void ec_item(void *data, uint64_t seq, int exitcode)
{
	struct exitcodes *e = data;
	if (seq >= 1 && seq <= NFUNC) {
		e->codes[seq - 1] = exitcode;
		e->have[seq - 1] = true;
	}
}

static void ec_closed(void *data)
{
	(void)data;
}

static void ec_finished(void *data)
{
	struct exitcodes *e = data;
	uv_close((uv_handle_t *)&e->watch, NULL);
	view_close(e->view, ec_closed, e);
}

/* As the example does: terminate the process running "terminated" once it has started. */
static void ec_watch(uv_timer_t *t)
{
	struct exitcodes *e = t->data;
	if (e->terminated)
		return;
	struct view_totals tot;
	struct view_row v[NFUNC];
	unsigned n = view_snapshot(e->view, &tot, v, NFUNC);
	for (unsigned i = 0; i < n; i++) {
		if (v[i].cur_seq == NFUNC && v[i].age_ns > 50 * NS_PER_MS) {
			view_command(e->view, VIEW_TERMINATE, v[i].index, v[i].generation, 0);
			e->terminated = true;
		}
	}
}

int demo_exitcodes(const struct config *cfg)
{
	struct exitcodes e;
	memset(&e, 0, sizeof(e));
	/* The example's own batch: its five functions, one worker each, nothing written. */
	struct config c = *cfg;
	c.arg_file = NULL;
	c.builtin = "demo";
	c.joblog = c.results = NULL;
	c.resume = c.resume_failed = false;
	struct run_settings run;
	run_settings_init(&run, &c);
	run.items = (char *const *)exitcode_functions;
	run.nitems = NFUNC;
	run.jobs = MAX(cfg->jobs, (unsigned)NFUNC);
	struct job job;
	char err[512];
	if (run_job_from_config(&c, &job, err, sizeof(err)) < 0) {
		fprintf(stderr, "pooltop: demo exitcodes: %s\n", err);
		return 255;
	}
	for (size_t i = 0; i < NFUNC; i++)
		printf("Starting process for %s\n", exitcode_functions[i]);
	fflush(stdout);
	uv_loop_init(&e.loop);
	struct view_hooks hooks = {.item = ec_item, .finished = ec_finished, .data = &e};
	if (view_local_new(&e.loop, &c, &run, &job, &hooks, 1, false, &e.view, err, sizeof(err)) <
		    0 ||
	    view_start(e.view, err, sizeof(err)) < 0) {
		fprintf(stderr, "pooltop: demo exitcodes: %s\n", err);
		if (e.view) {
			view_close(e.view, ec_closed, &e);
			uv_run(&e.loop, UV_RUN_DEFAULT);
			view_free(e.view);
		}
		uv_loop_close(&e.loop);
		job_release(&job);
		return 255;
	}
	uv_timer_init(&e.loop, &e.watch);
	e.watch.data = &e;
	uv_timer_start(&e.watch, ec_watch, 10, 10);
	uv_run(&e.loop, UV_RUN_DEFAULT);
	for (size_t i = 0; i < NFUNC; i++) {
		if (e.have[i])
			printf("%s.exitcode = %d\n", exitcode_functions[i], e.codes[i]);
		else
			printf("%s.exitcode = None\n", exitcode_functions[i]);
	}
	view_free(e.view);
	uv_loop_close(&e.loop);
	job_release(&job);
	return 0;
}
