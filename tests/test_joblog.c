/* Tests for the joblog: GNU parallel's format written, read back, and its failure modes. */
#include "joblog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"

#define HEADER "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"

/* Per test: a private directory and the joblog's path in it. */
struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_joblog.XXXXXX");
	if (!mkdtemp(fx->dir)) {
		free(fx);
		return -1;
	}
	snprintf(fx->path, sizeof(fx->path), "%s/joblog", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	DIR *d = opendir(fx->dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			char p[512];
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", fx->dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* The whole file as a NUL-terminated string; the caller frees it. */
static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	struct buf b = {0};
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	buf_append(&b, "", 0);
	return b.data;
}

/* Rows seen by the read callback. */
struct rows {
	struct joblog_row row[8];
	size_t n;
	int stop_after; /* return 99 after this many rows, 0 for never */
};

static int collect_cb(void *data, const struct joblog_row *row)
{
	struct rows *rows = data;
	assert_true(rows->n < ARRAY_SIZE(rows->row));
	rows->row[rows->n++] = *row;
	if (rows->stop_after && rows->n == (size_t)rows->stop_after)
		return 99;
	return 0;
}

/* A joblog written the way the batch writes one, without its loop: the file opened, prepared,
 * the header when joblog_prepare asks for it, then the rows, in one write at the close. */
struct jl {
	int fd;
	struct buf text;
};

static int jl_open(const char *path, bool append, struct jl **out)
{
	int fd = open(path, O_CREAT | O_CLOEXEC | (append ? O_RDWR | O_APPEND : O_WRONLY), 0666);
	if (fd < 0)
		return -errno;
	int header = joblog_prepare(fd, append);
	if (header < 0) {
		close(fd);
		return header;
	}
	struct jl *jl = xcalloc(1, sizeof(*jl));
	jl->fd = fd;
	if (header)
		joblog_format_header(&jl->text);
	*out = jl;
	return 0;
}

static void jl_write(struct jl *jl, const struct joblog_row *row)
{
	joblog_format_row(&jl->text, row);
}

static int jl_close(struct jl *jl)
{
	int r = write_all(jl->fd, jl->text.data, jl->text.len);
	close(jl->fd);
	buf_free(&jl->text);
	free(jl);
	return r;
}

static struct joblog_row make_row(uint64_t seq, const char *command)
{
	return (struct joblog_row){
		.seq = seq,
		.start = 1700000000.25 + (double)seq,
		.runtime = 0.5 * (double)seq,
		.send = 0,
		.receive = 10 * seq,
		.exitval = (int)seq,
		.signal = seq == 3 ? 9 : 0,
		.command = command,
		.command_len = strlen(command),
	};
}

static void test_joblog_write_then_read_returns_rows(void **state)
{
	struct fixture *fx = *state;
	struct jl *jl;
	assert_int_equal(jl_open(fx->path, false, &jl), 0);
	for (uint64_t seq = 1; seq <= 3; seq++) {
		struct joblog_row row = make_row(seq, "echo hi");
		jl_write(jl, &row);
	}
	assert_int_equal(jl_close(jl), 0);

	struct rows rows = {0};
	char err[256];
	assert_int_equal(joblog_read(fx->path, collect_cb, &rows, err, sizeof(err)), 0);
	assert_int_equal(rows.n, 3);
	for (size_t i = 0; i < 3; i++) {
		struct joblog_row want = make_row(i + 1, "");
		assert_int_equal(rows.row[i].seq, want.seq);
		assert_true(rows.row[i].start == want.start);
		assert_true(rows.row[i].runtime == want.runtime);
		assert_int_equal(rows.row[i].receive, want.receive);
		assert_int_equal(rows.row[i].exitval, want.exitval);
		assert_int_equal(rows.row[i].signal, want.signal);
		assert_null(rows.row[i].command);
	}
}

static void test_joblog_write_formats_row_as_gnu_parallel(void **state)
{
	struct fixture *fx = *state;
	struct jl *jl;
	assert_int_equal(jl_open(fx->path, false, &jl), 0);
	struct joblog_row row = make_row(3, "echo x");
	jl_write(jl, &row);
	assert_int_equal(jl_close(jl), 0);

	char *text = read_text(fx->path);
	assert_string_equal(text, HEADER "3\t:\t1700000003.250\t     1.500\t0\t30\t3\t9\techo x\n");
	free(text);
}

static void test_joblog_row_host_column_is_the_given_host(void **state)
{
	(void)state;
	struct buf b = {0};
	struct joblog_row row = make_row(3, "echo x");
	row.host = "h1:42\tx";
	joblog_format_row(&b, &row);
	assert_string_equal(b.data,
			    "3\th1:42\\tx\t1700000003.250\t     1.500\t0\t30\t3\t9\techo x\n");
	buf_free(&b);
}

static void test_joblog_write_escapes_command_to_one_line(void **state)
{
	struct fixture *fx = *state;
	struct jl *jl;
	assert_int_equal(jl_open(fx->path, false, &jl), 0);
	struct joblog_row row = make_row(1, "a\tb\nc\\d\re");
	jl_write(jl, &row);
	assert_int_equal(jl_close(jl), 0);

	char *text = read_text(fx->path);
	assert_string_equal(text, HEADER
			    "1\t:\t1700000001.250\t     0.500\t0\t10\t1\t0\ta\\tb\\nc\\\\d\\re\n");
	free(text);

	struct rows rows = {0};
	assert_int_equal(joblog_read(fx->path, collect_cb, &rows, NULL, 0), 0);
	assert_int_equal(rows.n, 1);
}

static void test_joblog_read_rejects_file_without_header(void **state)
{
	struct fixture *fx = *state;
	write_file(fx->path, "seq host\n1\t:\t1\t1\t0\t0\t0\t0\tx\n");
	struct rows rows = {0};
	char err[256];
	assert_int_equal(joblog_read(fx->path, collect_cb, &rows, err, sizeof(err)), -EINVAL);
	char want[256];
	snprintf(want, sizeof(want), "%s: line 1: not a joblog (expected GNU parallel's header)",
		 fx->path);
	assert_string_equal(err, want);
	assert_int_equal(rows.n, 0);
}

static void test_joblog_read_rejects_malformed_row(void **state)
{
	struct fixture *fx = *state;
	static const char *bad[] = {
		"2\t:\t1.0\t1.0\t0\t0\t0\t0\n",		     /* 8 fields */
		"x\t:\t1.0\t1.0\t0\t0\t0\t0\tcmd\n",	     /* Seq not numeric */
		"2\t:\tnow\t1.0\t0\t0\t0\t0\tcmd\n",	     /* Starttime not a number */
		"2\t:\t1.0\t1.0\t0\t0\t0x\t0\tcmd\n",	     /* Exitval not numeric */
		"2\t:\t1.0\t1.0\t0\t0\t0\t\tcmd\n",	     /* Signal empty */
		"\n",					     /* an empty line */
		"-2\t:\t1.0\t1.0\t0\t0\t0\t0\tcmd\n",	     /* a negative Seq */
		"2\t:\t1.0\t1.0\t0\t0\t0\t99999999999\tc\n", /* Signal out of range */
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct buf text = {0};
		buf_printf(&text,
			   "%s1\t:\t1.0\t1.0\t0\t0\t0\t0\tcmd\n%s3\t:\t1\t1\t0\t0\t0\t0\tc\n",
			   HEADER, bad[i]);
		write_file(fx->path, text.data);
		buf_free(&text);

		struct rows rows = {0};
		char err[256];
		assert_int_equal(joblog_read(fx->path, collect_cb, &rows, err, sizeof(err)),
				 -EINVAL);
		char want[256];
		snprintf(want, sizeof(want), "%s: line 3: malformed joblog row", fx->path);
		assert_string_equal(err, want);
		assert_int_equal(rows.n, 1);
	}
}

static void test_joblog_read_ignores_cut_short_last_line(void **state)
{
	struct fixture *fx = *state;
	write_file(fx->path, HEADER "1\t:\t1.0\t1.0\t0\t0\t0\t0\tcmd\n2\t:\t1.0\t1.");
	struct rows rows = {0};
	assert_int_equal(joblog_read(fx->path, collect_cb, &rows, NULL, 0), 0);
	assert_int_equal(rows.n, 1);
	assert_int_equal(rows.row[0].seq, 1);
}

static void test_joblog_read_empty_or_cut_header_has_no_rows(void **state)
{
	struct fixture *fx = *state;
	struct rows rows = {0};
	write_file(fx->path, "");
	assert_int_equal(joblog_read(fx->path, collect_cb, &rows, NULL, 0), 0);
	write_file(fx->path, "Seq\tHost\tStart");
	assert_int_equal(joblog_read(fx->path, collect_cb, &rows, NULL, 0), 0);
	write_file(fx->path, "hello");
	assert_int_equal(joblog_read(fx->path, collect_cb, &rows, NULL, 0), -EINVAL);
	assert_int_equal(rows.n, 0);
}

static void test_joblog_read_missing_file_is_enoent(void **state)
{
	struct fixture *fx = *state;
	struct rows rows = {0};
	char err[256];
	assert_int_equal(joblog_read(fx->path, collect_cb, &rows, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, fx->path));
}

static void test_joblog_read_stops_when_callback_returns_nonzero(void **state)
{
	struct fixture *fx = *state;
	write_file(fx->path, HEADER "1\t:\t1\t1\t0\t0\t0\t0\ta\n2\t:\t1\t1\t0\t0\t0\t0\tb\n"
				    "3\t:\t1\t1\t0\t0\t0\t0\tc\n");
	struct rows rows = {.stop_after = 2};
	assert_int_equal(joblog_read(fx->path, collect_cb, &rows, NULL, 0), 99);
	assert_int_equal(rows.n, 2);
}

static void test_joblog_prepare_changes_the_file_only_when_called(void **state)
{
	struct fixture *fx = *state;
	write_file(fx->path, "an earlier joblog\n");
	int fd = open(fx->path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	char *text = read_text(fx->path);
	assert_string_equal(text, "an earlier joblog\n");
	free(text);

	assert_int_equal(joblog_prepare(fd, false), 1);
	close(fd);
	text = read_text(fx->path);
	assert_string_equal(text, "");
	free(text);
}

static void test_joblog_read_refuses_what_is_not_a_regular_file(void **state)
{
	struct fixture *fx = *state;
	/* A FIFO nobody writes to: reading it would wait for ever. */
	assert_int_equal(mkfifo(fx->path, 0600), 0);
	struct rows rows = {0};
	char err[256];
	assert_int_equal(joblog_read(fx->path, collect_cb, &rows, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(rows.n, 0);
}

static void test_joblog_open_append_does_not_repeat_header(void **state)
{
	struct fixture *fx = *state;
	struct jl *jl;
	struct joblog_row row = make_row(1, "a");
	assert_int_equal(jl_open(fx->path, false, &jl), 0);
	jl_write(jl, &row);
	assert_int_equal(jl_close(jl), 0);
	row = make_row(2, "b");
	assert_int_equal(jl_open(fx->path, true, &jl), 0);
	jl_write(jl, &row);
	assert_int_equal(jl_close(jl), 0);

	char *text = read_text(fx->path);
	assert_string_equal(text, HEADER "1\t:\t1700000001.250\t     0.500\t0\t10\t1\t0\ta\n"
					 "2\t:\t1700000002.250\t     1.000\t0\t20\t2\t0\tb\n");
	free(text);
}

static void test_joblog_open_append_on_missing_or_empty_file_writes_header(void **state)
{
	struct fixture *fx = *state;
	struct jl *jl;
	assert_int_equal(jl_open(fx->path, true, &jl), 0);
	assert_int_equal(jl_close(jl), 0);
	char *text = read_text(fx->path);
	assert_string_equal(text, HEADER);
	free(text);

	write_file(fx->path, "");
	assert_int_equal(jl_open(fx->path, true, &jl), 0);
	assert_int_equal(jl_close(jl), 0);
	text = read_text(fx->path);
	assert_string_equal(text, HEADER);
	free(text);
}

static void test_joblog_open_append_cuts_partial_last_line(void **state)
{
	struct fixture *fx = *state;
	write_file(fx->path, HEADER "1\t:\t1.0\t1.0\t0\t0\t0\t0\ta\n2\t:\t1.0\t1.");
	struct jl *jl;
	struct joblog_row row = make_row(2, "b");
	assert_int_equal(jl_open(fx->path, true, &jl), 0);
	jl_write(jl, &row);
	assert_int_equal(jl_close(jl), 0);

	char *text = read_text(fx->path);
	assert_string_equal(text, HEADER "1\t:\t1.0\t1.0\t0\t0\t0\t0\ta\n"
					 "2\t:\t1700000002.250\t     1.000\t0\t20\t2\t0\tb\n");
	free(text);

	/* A cut-short header alone is cut away and written again. */
	write_file(fx->path, "Seq\tHo");
	assert_int_equal(jl_open(fx->path, true, &jl), 0);
	assert_int_equal(jl_close(jl), 0);
	text = read_text(fx->path);
	assert_string_equal(text, HEADER);
	free(text);
}

static void test_joblog_read_accepts_gnu_parallel_joblog(void **state)
{
	struct fixture *fx = *state;
	if (system("command -v parallel >/dev/null 2>&1") != 0) {
		print_message("GNU parallel is not installed: skipped\n");
		return;
	}
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "parallel --will-cite --joblog '%s' echo ::: a b </dev/null >/dev/null 2>&1",
		 fx->path);
	assert_int_equal(system(cmd), 0);

	struct rows rows = {0};
	char err[256];
	int rc = joblog_read(fx->path, collect_cb, &rows, err, sizeof(err));
	if (rc != 0)
		print_message("%s\n", err);
	assert_int_equal(rc, 0);
	assert_int_equal(rows.n, 2);
	bool seen[3] = {false};
	for (size_t i = 0; i < rows.n; i++) {
		assert_true(rows.row[i].seq == 1 || rows.row[i].seq == 2);
		seen[rows.row[i].seq] = true;
		assert_int_equal(rows.row[i].exitval, 0);
		assert_int_equal(rows.row[i].signal, 0);
		assert_true(rows.row[i].start > 1e9);
	}
	assert_true(seen[1] && seen[2]);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_joblog_write_then_read_returns_rows),
		T(test_joblog_write_formats_row_as_gnu_parallel),
		T(test_joblog_write_escapes_command_to_one_line),
		T(test_joblog_row_host_column_is_the_given_host),
		T(test_joblog_read_rejects_file_without_header),
		T(test_joblog_read_rejects_malformed_row),
		T(test_joblog_read_ignores_cut_short_last_line),
		T(test_joblog_read_empty_or_cut_header_has_no_rows),
		T(test_joblog_read_missing_file_is_enoent),
		T(test_joblog_read_stops_when_callback_returns_nonzero),
		T(test_joblog_prepare_changes_the_file_only_when_called),
		T(test_joblog_read_refuses_what_is_not_a_regular_file),
		T(test_joblog_open_append_does_not_repeat_header),
		T(test_joblog_open_append_on_missing_or_empty_file_writes_header),
		T(test_joblog_open_append_cuts_partial_last_line),
		T(test_joblog_read_accepts_gnu_parallel_joblog),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
