/* The shared segment: header, layout, slots, and that it is really shared across fork. */
#include "shm.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static void test_shm_create_writes_magic_version_and_layout(void **state)
{
	(void)state;
	struct shm s;
	assert_int_equal(shm_create(8, 1u << 16, 1u << 16, &s), 0);
	assert_int_equal(s.hdr->magic, SHM_MAGIC);
	assert_int_equal(s.hdr->version, SHM_VERSION);
	assert_int_equal(s.hdr->nslots, 8);
	assert_int_equal(s.hdr->slot_size, sizeof(struct shm_slot));
	assert_int_equal(s.hdr->size, s.size);
	assert_int_equal(shm_check(s.base, s.size), 0);
	assert_true((char *)shm_slot(&s, 7) + sizeof(struct shm_slot) <= (char *)s.q);
	assert_int_equal(s.q->nclients, 8);
	shm_destroy(&s);
	assert_null(s.base);
	shm_destroy(&s); /* a zeroed struct is a no-op */
}

static void test_shm_check_rejects_foreign_or_newer_segments(void **state)
{
	(void)state;
	struct shm s;
	assert_int_equal(shm_create(2, 1u << 16, 1u << 16, &s), 0);
	s.hdr->version = SHM_VERSION + 1;
	assert_int_equal(shm_check(s.base, s.size), -EINVAL);
	s.hdr->version = SHM_VERSION;
	s.hdr->magic = 42;
	assert_int_equal(shm_check(s.base, s.size), -EINVAL);
	s.hdr->magic = SHM_MAGIC;
	assert_int_equal(shm_check(s.base, 16), -EINVAL);
	shm_destroy(&s);
}

static void test_shm_create_rejects_bad_sizes(void **state)
{
	(void)state;
	struct shm s;
	assert_int_equal(shm_create(0, 1u << 16, 1u << 16, &s), -EINVAL);
	assert_int_equal(shm_create(2, 3000, 1u << 16, &s), -EINVAL);
}

static void test_shm_slot_written_by_a_child_is_seen_by_the_parent(void **state)
{
	(void)state;
	struct shm s;
	assert_int_equal(shm_create(4, 1u << 16, 1u << 16, &s), 0);
	pid_t pid = fork();
	if (pid == 0) {
		atomic_store(&shm_slot(&s, 3)->items_run, 1234);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	assert_int_equal(atomic_load(&shm_slot(&s, 3)->items_run), 1234);
	assert_int_equal(atomic_load(&shm_slot(&s, 2)->items_run), 0);
	shm_destroy(&s);
}

static void test_shm_notes_are_read_in_order_once_each(void **state)
{
	(void)state;
	struct shm_notes n;
	memset(&n, 0, sizeof(n));
	char buf[SHM_NOTE_TEXT];
	uint32_t seen = 0, lost = 0;
	assert_int_equal(shm_note_read(&n, &seen, buf, sizeof(buf), &lost), 0);
	shm_note_post(&n, "first %d", 1);
	shm_note_post(&n, "second");
	assert_int_equal(shm_note_read(&n, &seen, buf, sizeof(buf), &lost), 1);
	assert_string_equal(buf, "first 1");
	assert_int_equal(shm_note_read(&n, &seen, buf, sizeof(buf), &lost), 1);
	assert_string_equal(buf, "second");
	assert_int_equal(shm_note_read(&n, &seen, buf, sizeof(buf), &lost), 0);
	assert_int_equal(seen, 2);
	assert_int_equal(lost, 0);
}

static void test_shm_notes_overwritten_before_read_are_counted_lost(void **state)
{
	(void)state;
	struct shm_notes n;
	memset(&n, 0, sizeof(n));
	char buf[SHM_NOTE_TEXT];
	uint32_t seen = 0, lost = 0;
	for (int i = 0; i < SHM_NOTES + 3; i++)
		shm_note_post(&n, "note %d", i);
	/* The last SHM_NOTES are there, oldest first. */
	for (int i = 3; i < SHM_NOTES + 3; i++) {
		char want[32];
		snprintf(want, sizeof(want), "note %d", i);
		assert_int_equal(shm_note_read(&n, &seen, buf, sizeof(buf), &lost), 1);
		assert_string_equal(buf, want);
	}
	assert_int_equal(lost, 3);
	assert_int_equal(shm_note_read(&n, &seen, buf, sizeof(buf), &lost), 0);
}

static void test_shm_note_cut_to_its_room_and_to_the_readers_buffer(void **state)
{
	(void)state;
	struct shm_notes n;
	memset(&n, 0, sizeof(n));
	char longer[SHM_NOTE_TEXT * 2];
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	shm_note_post(&n, "%s", longer);
	shm_note_post(&n, "0123456789");
	char buf[SHM_NOTE_TEXT], small[5];
	uint32_t seen = 0, lost = 0;
	assert_int_equal(shm_note_read(&n, &seen, buf, sizeof(buf), &lost), 1);
	assert_int_equal(strlen(buf), SHM_NOTE_TEXT - 1);
	assert_int_equal(shm_note_read(&n, &seen, small, sizeof(small), &lost), 1);
	assert_string_equal(small, "0123");
}

/* A note half written when its worker died is never read: the count says it was not posted. */
static void test_shm_note_cut_short_by_a_kill_is_not_read(void **state)
{
	(void)state;
	struct shm s;
	assert_int_equal(shm_create(1, 1u << 16, 1u << 16, &s), 0);
	struct shm_notes *n = &shm_slot(&s, 0)->notes;
	pid_t pid = fork();
	if (pid == 0) {
		shm_note_post(n, "whole");
		/* As if killed inside the next post: the entry marked, the count not bumped. */
		atomic_store(&n->seq[1], 2 * 1 + 1);
		memcpy(n->text[1], "half", 5);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	char buf[SHM_NOTE_TEXT];
	uint32_t seen = 0, lost = 0;
	assert_int_equal(shm_note_read(n, &seen, buf, sizeof(buf), &lost), 1);
	assert_string_equal(buf, "whole");
	assert_int_equal(shm_note_read(n, &seen, buf, sizeof(buf), &lost), 0);
	assert_int_equal(lost, 0);
	shm_destroy(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shm_create_writes_magic_version_and_layout),
		cmocka_unit_test(test_shm_check_rejects_foreign_or_newer_segments),
		cmocka_unit_test(test_shm_create_rejects_bad_sizes),
		cmocka_unit_test(test_shm_slot_written_by_a_child_is_seen_by_the_parent),
		cmocka_unit_test(test_shm_notes_are_read_in_order_once_each),
		cmocka_unit_test(test_shm_notes_overwritten_before_read_are_counted_lost),
		cmocka_unit_test(test_shm_note_cut_to_its_room_and_to_the_readers_buffer),
		cmocka_unit_test(test_shm_note_cut_short_by_a_kill_is_not_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
