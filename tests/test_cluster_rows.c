/* The cluster view's merge: several hosts' published views (as cluster_host.c writes them) into
 * one table grouped by host, the map that aims a command at a merged row, the totals summed,
 * and the request a command becomes. */
#include "cluster_rows.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "proto.h"
#include "util.h"

/* A host's view: its name, its rows (slot, pid, generation, item seq), in the order given. */
static char *host_view(const char *host, unsigned n, const unsigned *slots, unsigned alive,
		       uint64_t done, double rate)
{
	struct view_totals t = {0};
	t.size = n;
	t.alive = alive;
	t.busy = n;
	t.done = done;
	t.rate_now = rate;
	t.elapsed_ns = done * NS_PER_S;
	json_t *rows = json_array();
	for (unsigned i = 0; i < n; i++) {
		struct view_row r = {0};
		r.index = slots[i];
		r.state = VIEW_BUSY;
		r.pid = (pid_t)(1000 * (host[1] - '0') + slots[i]);
		r.generation = 10 + slots[i];
		r.cur_seq = 100 * (uint64_t)(host[1] - '0') + slots[i];
		json_array_append_new(rows, proto_row(&r));
	}
	json_t *o = json_pack("{s:s, s:i, s:f, s:o, s:o}", "host", host, "pid", 7, "at", 1.0,
			      "totals", proto_totals(&t), "rows", rows);
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

static void test_rows_grouped_by_host_then_slot(void **state)
{
	(void)state;
	unsigned s2[] = {1, 0}, s1[] = {2, 0, 1};
	/* As HKEYS gives them: in no order; h3's view expired. */
	char *v2 = host_view("h2", 2, s2, 2, 30, 1.5), *v1 = host_view("h1", 3, s1, 3, 12, 2.0);
	struct cluster_view_text views[] = {
		{v2, strlen(v2)},
		{NULL, 0},
		{v1, strlen(v1)},
	};
	struct view_row rows[8];
	struct cluster_slot map[8];
	struct view_totals t;
	unsigned hosts, bad;
	unsigned n = cluster_rows_merge(views, 3, rows, map, 8, &t, &hosts, &bad);
	assert_int_equal(n, 5);
	assert_int_equal(hosts, 2);
	assert_int_equal(bad, 0);
	const char *want_host[] = {"h1", "h1", "h1", "h2", "h2"};
	unsigned want_slot[] = {0, 1, 2, 0, 1};
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(rows[i].index, i);
		assert_string_equal(rows[i].host, want_host[i]);
		assert_string_equal(map[i].host, want_host[i]);
		assert_int_equal(map[i].slot, want_slot[i]);
		unsigned h = (unsigned)(want_host[i][1] - '0');
		assert_int_equal(map[i].pid, 1000 * h + want_slot[i]);
		assert_int_equal(rows[i].pid, map[i].pid);
		assert_int_equal(map[i].generation, 10 + want_slot[i]);
		assert_int_equal(map[i].cur_seq, 100 * h + want_slot[i]);
	}
	assert_int_equal(t.size, 5);
	assert_int_equal(t.alive, 5);
	assert_int_equal(t.done, 42);
	assert_true(t.rate_now > 3.49 && t.rate_now < 3.51);
	assert_int_equal(t.elapsed_ns, 30 * NS_PER_S);
	free(v1);
	free(v2);
}

static void test_what_is_not_a_view_is_skipped(void **state)
{
	(void)state;
	unsigned s[] = {0};
	char *v = host_view("h1", 1, s, 1, 1, 0);
	const char *junk[] = {"not json", "{\"rows\":[]}", "{\"host\":\"a b\",\"rows\":[]}",
			      "{\"host\":\"h9\",\"rows\":3}"};
	struct cluster_view_text views[5];
	for (unsigned i = 0; i < 4; i++)
		views[i] = (struct cluster_view_text){junk[i], strlen(junk[i])};
	views[4] = (struct cluster_view_text){v, strlen(v)};
	struct view_row rows[4];
	struct cluster_slot map[4];
	struct view_totals t;
	unsigned hosts, bad;
	assert_int_equal(cluster_rows_merge(views, 5, rows, map, 4, &t, &hosts, &bad), 1);
	assert_int_equal(hosts, 1);
	assert_int_equal(bad, 4);
	assert_string_equal(rows[0].host, "h1");
	free(v);
}

static void test_rows_stop_at_max(void **state)
{
	(void)state;
	unsigned s[] = {0, 1, 2};
	char *a = host_view("h1", 3, s, 3, 0, 0), *b = host_view("h2", 3, s, 3, 0, 0);
	struct cluster_view_text views[] = {{b, strlen(b)}, {a, strlen(a)}};
	struct view_row rows[4];
	struct cluster_slot map[4];
	struct view_totals t;
	unsigned hosts, bad;
	assert_int_equal(cluster_rows_merge(views, 2, rows, map, 4, &t, &hosts, &bad), 4);
	assert_string_equal(map[3].host, "h2");
	assert_int_equal(map[3].slot, 0);
	free(a);
	free(b);
}

/* What cluster_host.c's do_request reads: cmd, slot, gen, seq, arg, by. */
static void test_request_is_what_a_host_reads(void **state)
{
	(void)state;
	struct cluster_slot s = {
		.host = "h2", .slot = 3, .generation = 17, .pid = 99, .cur_seq = 12345};
	char *text = cluster_request(&s, "kill", 0, "viewer on x");
	json_t *o = json_loads(text, 0, NULL);
	assert_non_null(o);
	const char *cmd, *by;
	json_int_t slot, gen, seq, arg;
	assert_int_equal(json_unpack(o, "{s:s, s:I, s:I, s:I, s:I, s:s}", "cmd", &cmd, "slot",
				     &slot, "gen", &gen, "seq", &seq, "arg", &arg, "by", &by),
			 0);
	assert_string_equal(cmd, "kill");
	assert_int_equal(slot, 3);
	assert_int_equal(gen, 17);
	assert_int_equal(seq, 12345);
	assert_int_equal(arg, 0);
	assert_string_equal(by, "viewer on x");
	assert_null(strchr(text, '\n'));
	json_decref(o);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_grouped_by_host_then_slot),
		cmocka_unit_test(test_what_is_not_a_view_is_skipped),
		cmocka_unit_test(test_rows_stop_at_max),
		cmocka_unit_test(test_request_is_what_a_host_reads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
