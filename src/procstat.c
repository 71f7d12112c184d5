/* CPU and memory of a process, from /proc. */
#include "procstat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n;
	do {
		n = read(fd, buf, len - 1);
	} while (n < 0 && errno == EINTR);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = '\0';
	return n;
}

int procstat_parse_stat(const char *text, uint64_t *ticks)
{
	/* "pid (comm) state ppid ..." where comm may hold spaces and ')': the fields start
	 * after the last ')'. utime and stime are fields 14 and 15. */
	const char *p = strrchr(text, ')');
	if (!p)
		return -EINVAL;
	p++;
	unsigned long long utime = 0, stime = 0;
	/* After ") ": state(3) ppid(4) pgrp(5) session(6) tty_nr(7) tpgid(8) flags(9) minflt(10)
	 * cminflt(11) majflt(12) cmajflt(13) utime(14) stime(15). */
	if (sscanf(p, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) !=
	    2)
		return -EINVAL;
	*ticks = utime + stime;
	return 0;
}

int procstat_sample(pid_t pid, struct procstat *st)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	ssize_t n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	uint64_t ticks;
	if (procstat_parse_stat(buf, &ticks) < 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	uint64_t rss = 0;
	if (read_small(path, buf, sizeof(buf)) > 0) {
		unsigned long long size, resident;
		if (sscanf(buf, "%llu %llu", &size, &resident) == 2)
			rss = resident * (uint64_t)sysconf(_SC_PAGESIZE);
	}
	uint64_t now = now_ns();
	if (st->pid == pid && st->sample_ns && now > st->sample_ns && ticks >= st->cpu_ticks) {
		double secs = (double)(now - st->sample_ns) / 1e9;
		double used = (double)(ticks - st->cpu_ticks) / (double)sysconf(_SC_CLK_TCK);
		st->cpu_percent = 100.0 * used / secs;
	} else {
		st->cpu_percent = 0;
	}
	st->pid = pid;
	st->cpu_ticks = ticks;
	st->sample_ns = now;
	st->rss_bytes = rss;
	return 0;
}
