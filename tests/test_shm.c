/* The shared segment: header, layout, slots, and that it is really shared across fork. */
#include "shm.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shm_create_writes_magic_version_and_layout),
		cmocka_unit_test(test_shm_check_rejects_foreign_or_newer_segments),
		cmocka_unit_test(test_shm_create_rejects_bad_sizes),
		cmocka_unit_test(test_shm_slot_written_by_a_child_is_seen_by_the_parent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
