/* Fuzzing the joblog reader (--resume): any file is read as a joblog or refused with a one-line
 * reason naming the line. Of a file that reads cleanly, the rows written again with
 * joblog_format_row read back the same; and a row appended the way --resume appends
 * (joblog_prepare in append mode, which cuts off a last line left short by a kill) reads back
 * after them.
 * A callback that returns non-zero stops the read with its value.
 *
 * The input: the file. It goes to a memfd, read through /proc/self/fd/N. */
#include "joblog.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "util.h"

/* The callback stops the read on a row with this Seq, returning FUZZ_JOBLOG_STOP_RC. */
#define FUZZ_JOBLOG_STOP_SEQ 77777
#define FUZZ_JOBLOG_STOP_RC  7

struct rows {
	struct joblog_row *row;
	size_t n, cap;
	bool stopped;
};

static int rows_add_cb(void *data, const struct joblog_row *row)
{
	struct rows *r = data;

	FUZZ_CHECK(!r->stopped, "a row after the callback stopped the read");
	FUZZ_CHECK(row->command == NULL && row->command_len == 0, "a command in a row read");
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->row = xrealloc(r->row, r->cap * sizeof(*r->row));
	}
	r->row[r->n++] = *row;
	if (row->seq == FUZZ_JOBLOG_STOP_SEQ) {
		r->stopped = true;
		return FUZZ_JOBLOG_STOP_RC;
	}
	return 0;
}

/* A double written with "%.3f" and read back. */
static bool near(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	if (isinf(a) || isinf(b))
		return a == b;
	return fabs(a - b) <= 0.0005 + fabs(a) * 1e-15;
}

static void check_same_row(const struct joblog_row *a, const struct joblog_row *b, size_t i)
{
	FUZZ_CHECK(
		a->seq == b->seq && a->send == b->send && a->receive == b->receive &&
			a->exitval == b->exitval && a->signal == b->signal &&
			near(a->start, b->start) && near(a->runtime, b->runtime),
		"row %zu: Seq %llu, Exitval %d, Signal %d, Starttime %.3f read back as Seq %llu, "
		"Exitval %d, Signal %d, Starttime %.3f",
		i, (unsigned long long)a->seq, a->exitval, a->signal, a->start,
		(unsigned long long)b->seq, b->exitval, b->signal, b->start);
}

/* Read the joblog at path; checks what joblog_read promises of its result and message. */
static int read_rows(const char *path, struct rows *r)
{
	char err[256];

	memset(err, 'x', sizeof(err));
	int rc = joblog_read(path, rows_add_cb, r, err, sizeof(err));
	if (rc == 0 || rc == FUZZ_JOBLOG_STOP_RC) {
		FUZZ_CHECK(err[0] == '\0', "an error message '%.*s' on success", (int)sizeof(err),
			   err);
		FUZZ_CHECK((rc == FUZZ_JOBLOG_STOP_RC) == r->stopped,
			   "joblog_read returned %d, the callback %s", rc,
			   r->stopped ? "stopped it" : "did not stop it");
		return rc;
	}
	FUZZ_CHECK(rc == -EINVAL, "joblog_read returned %d (%s)", rc, strerror(-rc));
	FUZZ_CHECK(fuzz_message_ok(err, sizeof(err)) && strstr(err, ": line "),
		   "error message '%.*s'", (int)sizeof(err), err);
	return rc;
}

static int memfd_path(const char *name, char *path, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0, "memfd_create: %s", strerror(errno));
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

/* Write rows to path as the batch does: prepared, the header when asked for, then the rows. */
static void write_rows(const char *path, bool append, const struct joblog_row *row, size_t n)
{
	int fd = open(path, O_CLOEXEC | (append ? O_RDWR | O_APPEND : O_WRONLY));
	FUZZ_CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	int header = joblog_prepare(fd, append);
	FUZZ_CHECK(header >= 0, "joblog_prepare %s: %s", path, strerror(-header));
	struct buf b = {0};
	if (header)
		joblog_format_header(&b);
	for (size_t i = 0; i < n; i++)
		joblog_format_row(&b, &row[i]);
	FUZZ_CHECK(write_all(fd, b.data, b.len) == 0, "write %s: %s", path, strerror(errno));
	close(fd);
	buf_free(&b);
}

/* The rows of a clean read written to a new joblog read back the same. */
static void check_rewrite(const struct rows *r)
{
	static int fd = -1;
	static char path[64];
	struct rows back = {0};

	if (fd < 0)
		fd = memfd_path("fuzz_joblog_out", path, sizeof(path));
	write_rows(path, false, r->row, r->n);

	FUZZ_CHECK(read_rows(path, &back) == 0, "the rewritten joblog does not read");
	FUZZ_CHECK(back.n == r->n, "%zu rows written, %zu read back", r->n, back.n);
	for (size_t i = 0; i < r->n; i++)
		check_same_row(&r->row[i], &back.row[i], i);
	free(back.row);
}

/* A row appended to the file at path, which read cleanly into r, reads back after r's rows. */
static void check_append(const char *path, const struct rows *r)
{
	static const char command[] = "sha256sum 'a\tb\nc\\d\re'"; /* every escape */
	const struct joblog_row extra = {
		.seq = 4242,
		.start = 1700000000.125,
		.runtime = 0.5,
		.receive = 65,
		.exitval = 3,
		.command = command,
		.command_len = sizeof(command) - 1,
	};
	struct rows back = {0};

	write_rows(path, true, &extra, 1);

	/* The command ends the last line, escaped onto it. */
	static const char escaped[] = "\tsha256sum 'a\\tb\\nc\\\\d\\re'\n";
	char tail[sizeof(escaped) - 1];
	FILE *f = fopen(path, "r");
	FUZZ_CHECK(f && fseek(f, -(long)sizeof(tail), SEEK_END) == 0 &&
			   fread(tail, 1, sizeof(tail), f) == sizeof(tail),
		   "the joblog's tail: %s", strerror(errno));
	fclose(f);
	FUZZ_CHECK(memcmp(tail, escaped, sizeof(tail)) == 0, "the last line ends <%.*s>",
		   (int)sizeof(tail), tail);

	FUZZ_CHECK(read_rows(path, &back) == 0, "the joblog does not read after an append");
	FUZZ_CHECK(back.n == r->n + 1, "%zu rows and one appended, %zu read back", r->n, back.n);
	for (size_t i = 0; i < r->n; i++)
		check_same_row(&r->row[i], &back.row[i], i);
	check_same_row(&extra, &back.row[r->n], r->n);
	free(back.row);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct rows r = {0};

	if (fd < 0)
		fd = memfd_path("fuzz_joblog", path, sizeof(path));
	FUZZ_CHECK(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0 &&
			   write_all(fd, data, size) == 0,
		   "memfd: %s", strerror(errno));

	int rc = read_rows(path, &r);
	size_t newlines = 0;
	for (const uint8_t *p = data; (p = memchr(p, '\n', size - (size_t)(p - data))); p++)
		newlines++;
	FUZZ_CHECK(r.n + (newlines > 0) <= newlines, "%zu rows from %zu lines", r.n, newlines);
	if (rc == 0) {
		check_rewrite(&r);
		check_append(path, &r);
	}
	free(r.row);
	return 0;
}
