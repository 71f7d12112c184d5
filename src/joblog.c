/* GNU parallel's joblog: written one flushed row per finished item, read back for --resume.
 * A kill of pooltop in the middle of a write leaves at most one cut-short last line, which the
 * reader ignores and joblog_prepare cuts off before appending. */
#include "joblog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define JOBLOG_HEADER "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"
#define JOBLOG_FIELDS 9

/* With append on a regular file whose last line was cut short (no '\n': a kill in the middle
 * of a write), drop that fragment so the next row starts on a line of its own. Returns the
 * size the file keeps, or -errno. A file we may not read is kept as it is. */
static off_t joblog_cut_partial(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return 0;
	off_t end = st.st_size;
	char chunk[4096];
	while (end > 0) {
		size_t n = (size_t)MIN(end, (off_t)sizeof(chunk));
		ssize_t r = pread(fd, chunk, n, end - (off_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EBADF)
			return st.st_size;
		if (r < 0)
			return -errno;
		if ((size_t)r != n)
			return -EIO;
		const char *nl = memrchr(chunk, '\n', n);
		if (nl) {
			end -= (off_t)n - (nl - chunk) - 1;
			break;
		}
		end -= (off_t)n;
	}
	if (end != st.st_size && ftruncate(fd, end) < 0)
		return -errno;
	return end;
}

int joblog_prepare(int fd, bool append)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (append) {
		off_t size = joblog_cut_partial(fd);
		if (size < 0)
			return (int)size;
		return size == 0;
	}
	if (S_ISREG(st.st_mode) && st.st_size > 0 && ftruncate(fd, 0) < 0)
		return -errno;
	return 1;
}

void joblog_format_header(struct buf *b)
{
	buf_append(b, JOBLOG_HEADER, sizeof(JOBLOG_HEADER) - 1);
}

/* Append s escaped so that it stays on one line and within one field. */
static void joblog_escape(struct buf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '\\':
			buf_append(b, "\\\\", 2);
			break;
		case '\t':
			buf_append(b, "\\t", 2);
			break;
		case '\n':
			buf_append(b, "\\n", 2);
			break;
		case '\r':
			buf_append(b, "\\r", 2);
			break;
		default:
			buf_putc(b, s[i]);
			break;
		}
	}
}

void joblog_format_row(struct buf *b, const struct joblog_row *row)
{
	buf_printf(b, "%llu\t", (unsigned long long)row->seq);
	if (row->host)
		joblog_escape(b, row->host, strlen(row->host));
	else
		buf_putc(b, ':');
	buf_printf(b, "\t%.3f\t%10.3f\t%llu\t%llu\t%d\t%d\t", row->start, row->runtime,
		   (unsigned long long)row->send, (unsigned long long)row->receive, row->exitval,
		   row->signal);
	joblog_escape(b, row->command ? row->command : "", row->command ? row->command_len : 0);
	buf_putc(b, '\n');
}

/* Parse an unsigned decimal field. */
static bool joblog_parse_u64(const char *s, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* Parse a signed decimal int field. */
static bool joblog_parse_int(const char *s, int *out)
{
	if (!*s || *s == ' ' || *s == '+')
		return false;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < INT_MIN || v > INT_MAX)
		return false;
	*out = (int)v;
	return true;
}

/* Parse a floating field; GNU parallel pads JobRuntime with leading spaces ("%10.3f"). */
static bool joblog_parse_double(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || *end)
		return false;
	*out = v;
	return true;
}

/* Split line (its '\n' removed) into a row. The command is the rest of the line after the
 * eighth tab, so a GNU parallel command holding raw tabs still reads as one field. */
static bool joblog_parse_row(char *line, struct joblog_row *row)
{
	char *field[JOBLOG_FIELDS];
	char *p = line;
	for (int i = 0; i < JOBLOG_FIELDS - 1; i++) {
		field[i] = p;
		p = strchr(p, '\t');
		if (!p)
			return false;
		*p++ = '\0';
	}
	field[JOBLOG_FIELDS - 1] = p;

	*row = (struct joblog_row){0};
	return joblog_parse_u64(field[0], &row->seq) && field[1][0] != '\0' &&
	       joblog_parse_double(field[2], &row->start) &&
	       joblog_parse_double(field[3], &row->runtime) &&
	       joblog_parse_u64(field[4], &row->send) &&
	       joblog_parse_u64(field[5], &row->receive) &&
	       joblog_parse_int(field[6], &row->exitval) &&
	       joblog_parse_int(field[7], &row->signal);
}

int joblog_read(const char *path, int (*cb)(void *data, const struct joblog_row *row), void *data,
		char *err, size_t errlen)
{
	char dummy[1];
	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';

	/* Non-blocking, so that a FIFO with no writer cannot hold the open; only a regular file
	 * is read: a pipe, a FIFO or a terminal would be read until someone else writes to it,
	 * and /dev/stdout may be pooltop's own output. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int rc = -errno;
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "%s: not a regular file (--resume reads the joblog back)",
			 path);
		return -EINVAL;
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		int rc = -errno;
		close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}

	char *line = NULL;
	size_t cap = 0;
	unsigned long long lineno = 0;
	int rc = 0;
	for (;;) {
		errno = 0;
		ssize_t n = getline(&line, &cap, f);
		if (n < 0) {
			if (ferror(f)) {
				rc = errno ? -errno : -EIO;
				snprintf(err, errlen, "%s: %s", path, strerror(-rc));
			}
			break;
		}
		lineno++;
		bool complete = line[n - 1] == '\n';
		if (lineno == 1) {
			/* A header cut short by a kill is an empty joblog; anything else is not
			 * one. */
			bool ok = complete ? strcmp(line, JOBLOG_HEADER) == 0
					   : strncmp(line, JOBLOG_HEADER, (size_t)n) == 0 &&
						     memchr(line, '\0', (size_t)n) == NULL;
			if (!ok) {
				rc = -EINVAL;
				snprintf(
					err, errlen,
					"%s: line 1: not a joblog (expected GNU parallel's header)",
					path);
				break;
			}
			continue;
		}
		if (!complete)
			break; /* the last row, cut short by a kill */
		line[n - 1] = '\0';
		struct joblog_row row;
		if ((size_t)n - 1 != strlen(line) || !joblog_parse_row(line, &row)) {
			rc = -EINVAL;
			snprintf(err, errlen, "%s: line %llu: malformed joblog row", path, lineno);
			break;
		}
		rc = cb(data, &row);
		if (rc != 0)
			break;
	}
	free(line);
	fclose(f);
	return rc;
}
