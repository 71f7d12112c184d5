/* The worker table's arrangement: sorting by each kind of column, the filter by state or item
 * text, and the search for an item. */
#include "rows.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

static void set_item(struct view_row *r, uint64_t seq, const char *item)
{
	r->cur_seq = seq;
	r->cur_len = r->cur_item_len = strlen(item);
	memcpy(r->cur_item, item, r->cur_item_len);
}

/* Five workers: idle, busy 3 s, HUNG for 90 s, exited -9, busy 20 s. */
static void five(struct view_row r[5])
{
	memset(r, 0, 5 * sizeof(*r));
	for (unsigned i = 0; i < 5; i++) {
		r[i].index = i;
		r[i].pid = (pid_t)(500 - 10 * i);
		r[i].state = VIEW_BUSY;
	}
	r[0].state = VIEW_IDLE;
	r[0].done = 7;
	set_item(&r[1], 11, "photos/a.jpg");
	r[1].age_ns = 3 * NS_PER_S;
	set_item(&r[2], 12, "photos/B.JPG");
	r[2].age_ns = 90 * NS_PER_S;
	r[2].hung = true;
	r[3].state = VIEW_EXITED;
	r[3].pid = 0;
	r[3].has_exit = true;
	r[3].last_exit = -9;
	set_item(&r[4], 14, "video/c.mp4");
	r[4].age_ns = 20 * NS_PER_S;
	r[4].done = 2;
}

static unsigned arrange(const struct view_row *r, enum column c, bool invert, const char *filter,
			unsigned *order)
{
	struct rows_arrangement a = {.sort = c, .invert = invert};
	snprintf(a.filter, sizeof(a.filter), "%s", filter);
	return rows_arrange(r, 5, &a, order);
}

static void test_rows_sort_by_age_puts_the_oldest_busy_first(void **state)
{
	(void)state;
	struct view_row r[5];
	five(r);
	unsigned o[5];
	assert_int_equal(arrange(r, COL_AGE, false, "", o), 5);
	/* The busy ones by age, then the others in slot order. */
	assert_int_equal(o[0], 2);
	assert_int_equal(o[1], 4);
	assert_int_equal(o[2], 1);
	assert_int_equal(o[3], 0);
	assert_int_equal(o[4], 3);
	/* I: the youngest first, the idle ones on top. */
	arrange(r, COL_AGE, true, "", o);
	assert_int_equal(o[0], 0);
	assert_int_equal(o[2], 1);
	assert_int_equal(o[4], 2);
}

static void test_rows_sort_each_column_its_own_way(void **state)
{
	(void)state;
	struct view_row r[5];
	five(r);
	unsigned o[5];
	/* Slot order, and inverted. */
	arrange(r, COL_NUM, false, "", o);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(o[i], i);
	arrange(r, COL_NUM, true, "", o);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(o[i], 4 - i);
	/* PID ascending, the slot with no process last. */
	arrange(r, COL_PID, false, "", o);
	assert_int_equal(o[0], 4);
	assert_int_equal(o[3], 0);
	assert_int_equal(o[4], 3);
	/* STATE: the hung first, then busy, idle, exited. */
	arrange(r, COL_STATE, false, "", o);
	assert_int_equal(o[0], 2);
	assert_int_equal(o[1], 1);
	assert_int_equal(o[2], 4);
	assert_int_equal(o[3], 0);
	assert_int_equal(o[4], 3);
	/* EXIT: killed by a signal first. */
	arrange(r, COL_EXIT, false, "", o);
	assert_int_equal(o[0], 3);
	/* DONE: the most first. */
	arrange(r, COL_DONE, false, "", o);
	assert_int_equal(o[0], 0);
	assert_int_equal(o[1], 4);
	/* S: the most active first (R, then D, then S), unmeasured last. */
	r[0].proc_known = r[1].proc_known = r[2].proc_known = true;
	r[0].proc_state = 'S';
	r[1].proc_state = 'R';
	r[2].proc_state = 'D';
	arrange(r, COL_PSTATE, false, "", o);
	assert_int_equal(o[0], 1);
	assert_int_equal(o[1], 2);
	assert_int_equal(o[2], 0);
	assert_int_equal(o[3], 3);
	assert_int_equal(o[4], 4);
	assert_true(column_most_first(COL_CPU));
	assert_false(column_most_first(COL_PID));
}

static void test_rows_filter_by_state_or_item_text(void **state)
{
	(void)state;
	struct view_row r[5];
	five(r);
	unsigned o[5];
	assert_int_equal(arrange(r, COL_NUM, false, "hung", o), 1);
	assert_int_equal(o[0], 2);
	/* "busy" is the BUSY rows (HUNG ones show HUNG). */
	assert_int_equal(arrange(r, COL_NUM, false, "BUSY", o), 2);
	assert_int_equal(o[0], 1);
	assert_int_equal(o[1], 4);
	/* Item text, case ignored. */
	assert_int_equal(arrange(r, COL_NUM, false, "jpg", o), 2);
	assert_int_equal(arrange(r, COL_NUM, false, "photos/b", o), 1);
	assert_int_equal(o[0], 2);
	assert_int_equal(arrange(r, COL_NUM, false, "nothing", o), 0);
	/* Filtered and sorted. */
	assert_int_equal(arrange(r, COL_AGE, false, "photos", o), 2);
	assert_int_equal(o[0], 2);
	assert_int_equal(o[1], 1);
}

static void test_rows_search_goes_round_from_the_position(void **state)
{
	(void)state;
	struct view_row r[5];
	five(r);
	unsigned o[5];
	arrange(r, COL_NUM, false, "", o);
	assert_int_equal(rows_search(r, o, 5, 0, "JPG"), 1);
	assert_int_equal(rows_search(r, o, 5, 2, "jpg"), 2);
	assert_int_equal(rows_search(r, o, 5, 3, "jpg"), 1);
	assert_int_equal(rows_search(r, o, 5, 0, "mp4"), 4);
	assert_int_equal(rows_search(r, o, 5, 0, "zip"), -1);
	assert_int_equal(rows_search(r, o, 5, 0, ""), -1);
	/* An idle row's stale preview is not searched. */
	set_item(&r[0], 0, "photos/old.jpg");
	assert_int_equal(rows_search(r, o, 5, 0, "old"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_sort_by_age_puts_the_oldest_busy_first),
		cmocka_unit_test(test_rows_sort_each_column_its_own_way),
		cmocka_unit_test(test_rows_filter_by_state_or_item_text),
		cmocka_unit_test(test_rows_search_goes_round_from_the_position),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
