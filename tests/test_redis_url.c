/* Tests for the Redis URL parser: each form it takes, each refusal with the one thing named,
 * and no password in any message or display. */
#include "redis_url.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct redis_url u;
static char err[512];

static int parse(const char *url, const char *env)
{
	memset(&u, 0x55, sizeof(u));
	err[0] = '\0';
	return redis_url_parse(url, env, "--redis", &u, err, sizeof(err));
}

static const char *shown(void)
{
	static char s[512];
	redis_url_display(&u, s, sizeof(s));
	return s;
}

static void test_redis_url_host_alone_defaults_port_and_db(void **state)
{
	(void)state;
	assert_int_equal(parse("redis://localhost", NULL), 0);
	assert_string_equal(u.host, "localhost");
	assert_int_equal(u.port, 6379);
	assert_int_equal(u.db, 0);
	assert_string_equal(u.path, "");
	assert_string_equal(u.user, "");
	assert_string_equal(u.password, "");
	assert_string_equal(shown(), "redis://localhost:6379/0");
	assert_int_equal(parse("redis://h/", NULL), 0);
	assert_int_equal(u.db, 0);
}

static void test_redis_url_full_form(void **state)
{
	(void)state;
	assert_int_equal(parse("redis://alice:s3cret@db.example:6380/7", NULL), 0);
	assert_string_equal(u.host, "db.example");
	assert_int_equal(u.port, 6380);
	assert_int_equal(u.db, 7);
	assert_string_equal(u.user, "alice");
	assert_string_equal(u.password, "s3cret");
	assert_string_equal(shown(), "redis://alice@db.example:6380/7");
}

static void test_redis_url_password_alone(void **state)
{
	(void)state;
	assert_int_equal(parse("redis://:pw@h", NULL), 0);
	assert_string_equal(u.user, "");
	assert_string_equal(u.password, "pw");
	assert_string_equal(shown(), "redis://h:6379/0");
}

static void test_redis_url_percent_decoding(void **state)
{
	(void)state;
	assert_int_equal(parse("redis://a%40b:p%3Aw%2fx%25@h", NULL), 0);
	assert_string_equal(u.user, "a@b");
	assert_string_equal(u.password, "p:w/x%");
	/* An '@' unencoded in the password: the last one ends the user part. */
	assert_int_equal(parse("redis://:p@ss@h:1", NULL), 0);
	assert_string_equal(u.password, "p@ss");
	assert_string_equal(u.host, "h");
}

static void test_redis_url_bad_percent_refused(void **state)
{
	(void)state;
	assert_int_equal(parse("redis://:p%4@h", NULL), -EINVAL);
	assert_non_null(strstr(err, "password has a '%' not followed by two hex digits"));
	assert_int_equal(parse("redis://u%zz:p@h", NULL), -EINVAL);
	assert_non_null(strstr(err, "the user has a '%'"));
	assert_int_equal(parse("redis://:%00@h", NULL), -EINVAL);
	assert_non_null(strstr(err, "NUL"));
}

static void test_redis_url_ipv6(void **state)
{
	(void)state;
	assert_int_equal(parse("redis://[::1]:6380/2", NULL), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 6380);
	assert_int_equal(u.db, 2);
	assert_string_equal(shown(), "redis://[::1]:6380/2");
	assert_int_equal(parse("redis://[fe80::1]", NULL), 0);
	assert_int_equal(u.port, 6379);
	assert_int_equal(parse("redis://::1:6379", NULL), -EINVAL);
	assert_non_null(strstr(err, "an IPv6 address goes in brackets"));
	assert_int_equal(parse("redis://[::1", NULL), -EINVAL);
	assert_non_null(strstr(err, "no closing ']'"));
	assert_int_equal(parse("redis://[::1]6379", NULL), -EINVAL);
	assert_non_null(strstr(err, "unexpected '6379' after ']'"));
}

static void test_redis_url_unix(void **state)
{
	(void)state;
	assert_int_equal(parse("unix:///run/redis/redis.sock", NULL), 0);
	assert_string_equal(u.path, "/run/redis/redis.sock");
	assert_string_equal(u.host, "");
	assert_int_equal(u.db, 0);
	assert_string_equal(shown(), "unix:///run/redis/redis.sock");
	assert_int_equal(parse("unix:///tmp/r.sock?db=3", NULL), 0);
	assert_string_equal(u.path, "/tmp/r.sock");
	assert_int_equal(u.db, 3);
	assert_string_equal(shown(), "unix:///tmp/r.sock?db=3");
	assert_int_equal(parse("unix://:pw@/tmp/r.sock", NULL), 0);
	assert_string_equal(u.password, "pw");
	assert_string_equal(u.path, "/tmp/r.sock");
}

static void test_redis_url_unix_path_limits(void **state)
{
	(void)state;
	char url[300] = "unix://";
	/* sun_path holds 108 bytes with the NUL: 107 fit, 108 do not. */
	memset(url + 7, 'a', 107);
	url[7] = '/';
	url[7 + 107] = '\0';
	assert_int_equal(parse(url, NULL), 0);
	assert_int_equal(strlen(u.path), 107);
	url[7 + 107] = 'a';
	url[7 + 108] = '\0';
	assert_int_equal(parse(url, NULL), -EINVAL);
	assert_non_null(strstr(err, "the socket's path is longer than 107 bytes"));
	assert_int_equal(parse("unix://", NULL), -EINVAL);
	assert_non_null(strstr(err, "must be absolute"));
	assert_int_equal(parse("unix:///", NULL), -EINVAL);
	assert_non_null(strstr(err, "the socket's path is empty"));
	assert_int_equal(parse("unix://r.sock", NULL), -EINVAL);
	assert_non_null(strstr(err, "must be absolute"));
}

static void test_redis_url_scheme_refused(void **state)
{
	(void)state;
	assert_int_equal(parse("http://h:6379", NULL), -EINVAL);
	assert_string_equal(err, "--redis: 'http://h:6379': the scheme 'http' is not redis:// or "
				 "unix://");
	assert_int_equal(parse("rediss://h", NULL), -EINVAL);
	assert_non_null(strstr(err, "the scheme 'rediss'"));
	assert_int_equal(parse("localhost", NULL), -EINVAL);
	assert_non_null(strstr(err, "not a Redis URL"));
	assert_int_equal(parse("", NULL), -EINVAL);
}

static void test_redis_url_empty_host_refused(void **state)
{
	(void)state;
	assert_int_equal(parse("redis://", NULL), -EINVAL);
	assert_string_equal(err, "--redis: 'redis://': the host is empty");
	assert_int_equal(parse("redis://:6379/0", NULL), -EINVAL);
	assert_non_null(strstr(err, "the host is empty"));
	assert_int_equal(parse("redis://:pw@/1", NULL), -EINVAL);
	assert_non_null(strstr(err, "the host is empty"));
	assert_int_equal(parse("redis://[]:1", NULL), -EINVAL);
	assert_non_null(strstr(err, "the host is empty"));
}

static void test_redis_url_port_range(void **state)
{
	(void)state;
	assert_int_equal(parse("redis://h:1", NULL), 0);
	assert_int_equal(u.port, 1);
	assert_int_equal(parse("redis://h:65535", NULL), 0);
	assert_int_equal(u.port, 65535);
	const char *bad[] = {"redis://h:0",	     "redis://h:65536", "redis://h:x",
			     "redis://h:",	     "redis://h:-1",	"redis://h:+80",
			     "redis://h:99999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(parse(bad[i], NULL), -EINVAL);
		assert_non_null(strstr(err, "is not a number from 1 to 65535"));
	}
	parse("redis://h:x", NULL);
	assert_string_equal(err, "--redis: 'redis://h:x': the port 'x' is not a number from 1 to "
				 "65535");
}

static void test_redis_url_db_range(void **state)
{
	(void)state;
	assert_int_equal(parse("redis://h/2147483647", NULL), 0);
	assert_int_equal(u.db, 2147483647);
	const char *bad[] = {"redis://h/2147483648", "redis://h/x",    "redis://h/-1",
			     "unix:///s?db=",	     "unix:///s?db=a", "redis://h/1x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(parse(bad[i], NULL), -EINVAL);
		assert_non_null(strstr(err, "is not a number from 0 to 2147483647"));
	}
}

static void test_redis_url_trailing_junk_refused(void **state)
{
	(void)state;
	assert_int_equal(parse("redis://h:1/2/3", NULL), -EINVAL);
	assert_non_null(strstr(err, "unexpected '/3' after the db"));
	assert_int_equal(parse("redis://h?x=1", NULL), -EINVAL);
	assert_non_null(strstr(err, "unexpected '?x=1' after the host"));
	assert_int_equal(parse("redis://h/2#f", NULL), -EINVAL);
	assert_non_null(strstr(err, "unexpected '#f' after the db"));
	assert_int_equal(parse("unix:///s?timeout=1", NULL), -EINVAL);
	assert_non_null(strstr(err, "unexpected '?timeout=1' after the path"));
}

static void test_redis_url_env_auth_is_the_password_when_none(void **state)
{
	(void)state;
	assert_int_equal(parse("redis://h", "fromenv"), 0);
	assert_string_equal(u.password, "fromenv");
	assert_int_equal(parse("redis://:inurl@h", "fromenv"), 0);
	assert_string_equal(u.password, "inurl");
	assert_int_equal(parse("redis://bob@h", "fromenv"), 0);
	assert_string_equal(u.user, "bob");
	assert_string_equal(u.password, "fromenv");
	assert_int_equal(parse("unix:///s", ""), 0);
	assert_string_equal(u.password, "");
	/* A user needs a password: AUTH takes none without. */
	assert_int_equal(parse("redis://bob@h", NULL), -EINVAL);
	assert_non_null(strstr(err, "the user 'bob' has no password"));
}

static void test_redis_url_messages_never_show_the_password(void **state)
{
	(void)state;
	assert_int_equal(parse("redis://u:hunter2@h:0", NULL), -EINVAL);
	assert_null(strstr(err, "hunter2"));
	assert_string_equal(err,
			    "--redis: 'redis://u:***@h:0': the port '0' is not a number from 1 "
			    "to 65535");
	assert_int_equal(parse("redis://:hunter2@@h/x", NULL), -EINVAL);
	assert_null(strstr(err, "hunter2"));
	assert_int_equal(parse("unix://:hunter2@/s?x", NULL), -EINVAL);
	assert_null(strstr(err, "hunter2"));
	assert_int_equal(parse("redis://:hunter2@h/3", NULL), 0);
	assert_null(strstr(shown(), "hunter2"));
}

static void test_redis_url_failure_leaves_result_untouched(void **state)
{
	(void)state;
	struct redis_url before;
	memset(&u, 0x55, sizeof(u));
	before = u;
	assert_int_equal(redis_url_parse("redis://h:0", NULL, "--redis", &u, err, sizeof(err)),
			 -EINVAL);
	assert_memory_equal(&u, &before, sizeof(u));
}

static void test_redis_url_control_characters_shown_as_question_marks(void **state)
{
	(void)state;
	assert_int_equal(parse("redis://h:\x1b[2J", NULL), -EINVAL);
	assert_null(strchr(err, '\x1b'));
	assert_null(strchr(err, '\n'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redis_url_host_alone_defaults_port_and_db),
		cmocka_unit_test(test_redis_url_full_form),
		cmocka_unit_test(test_redis_url_password_alone),
		cmocka_unit_test(test_redis_url_percent_decoding),
		cmocka_unit_test(test_redis_url_bad_percent_refused),
		cmocka_unit_test(test_redis_url_ipv6),
		cmocka_unit_test(test_redis_url_unix),
		cmocka_unit_test(test_redis_url_unix_path_limits),
		cmocka_unit_test(test_redis_url_scheme_refused),
		cmocka_unit_test(test_redis_url_empty_host_refused),
		cmocka_unit_test(test_redis_url_port_range),
		cmocka_unit_test(test_redis_url_db_range),
		cmocka_unit_test(test_redis_url_trailing_junk_refused),
		cmocka_unit_test(test_redis_url_env_auth_is_the_password_when_none),
		cmocka_unit_test(test_redis_url_messages_never_show_the_password),
		cmocka_unit_test(test_redis_url_failure_leaves_result_untouched),
		cmocka_unit_test(test_redis_url_control_characters_shown_as_question_marks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
