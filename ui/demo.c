/* The built-in demos: the dashboard's demo batch, and PyMOTW's exit-code example. */
#include <stdbool.h>

#include "demo.h"

#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "exitcode.h"
#include "job.h"
#include "pool.h"
#include "util.h"

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
	struct pool *pool;
	uv_timer_t watch;
	int codes[NFUNC];
	bool have[NFUNC];
	bool terminated;
};

static void ec_result(void *data, const struct pool_result *r)
{
	struct exitcodes *e = data;
	if (r->seq >= 1 && r->seq <= NFUNC) {
		e->codes[r->seq - 1] = r->exitcode;
		e->have[r->seq - 1] = true;
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
	pool_close(e->pool, ec_closed, e);
}

/* As the example does: terminate the process running "terminated" once it has started. */
static void ec_watch(uv_timer_t *t)
{
	struct exitcodes *e = t->data;
	if (e->terminated)
		return;
	struct pool_totals tot;
	struct pool_slot_view v[NFUNC];
	unsigned n = pool_snapshot(e->pool, &tot, v, NFUNC);
	for (unsigned i = 0; i < n; i++) {
		if (v[i].cur_seq == NFUNC && v[i].age_ns > 50 * NS_PER_MS) {
			pool_slot_terminate(e->pool, v[i].index, v[i].generation);
			e->terminated = true;
		}
	}
}

int demo_exitcodes(unsigned workers)
{
	struct exitcodes e;
	memset(&e, 0, sizeof(e));
	struct pool_config cfg = {
		.workers = MAX(workers, (unsigned)NFUNC),
		.join_timeout_ns = 10 * NS_PER_S,
		.worker_stderr_fd = -1,
	};
	char err[128];
	if (job_builtin_parse("demo", &cfg.job, err, sizeof(err)) < 0) {
		fprintf(stderr, "pooltop: demo exitcodes: %s\n", err);
		return 255;
	}
	struct pool_callbacks cb = {.result = ec_result, .finished = ec_finished, .data = &e};
	uv_loop_init(&e.loop);
	int r;
	e.pool = pool_new(&e.loop, &cfg, &cb, &r);
	if (!e.pool || pool_start(e.pool) != 0) {
		fprintf(stderr, "pooltop: demo exitcodes: cannot start the workers\n");
		return 255;
	}
	for (size_t i = 0; i < NFUNC; i++) {
		printf("Starting process for %s\n", exitcode_functions[i]);
		pool_submit(e.pool, i + 1, exitcode_functions[i], strlen(exitcode_functions[i]));
	}
	fflush(stdout);
	pool_input_end(e.pool);
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
	pool_free(e.pool);
	uv_loop_close(&e.loop);
	return 0;
}
