/* CPU and memory of a process, from /proc: what tells a hung worker spinning (100 %) from one
 * blocked (0 %). */
#ifndef POOLTOP_PROCSTAT_H
#define POOLTOP_PROCSTAT_H

#include <stdint.h>
#include <sys/types.h>

struct procstat {
	pid_t pid;
	uint64_t cpu_ticks; /* utime + stime, in clock ticks */
	uint64_t sample_ns; /* CLOCK_MONOTONIC when read */
	uint64_t rss_bytes;
	double cpu_percent; /* of one core, between the last two samples; 0 at first */
};

/* Read pid's counters into *st, computing cpu_percent against the previous sample when st
 * holds one of the same pid. 0, or -errno (-ENOENT once the process is gone). */
int procstat_sample(pid_t pid, struct procstat *st);

/* Parse the text of /proc/PID/stat: the utime+stime ticks. 0 or -EINVAL. (Split out so the
 * parsing of a comm with spaces and parentheses is testable.) */
int procstat_parse_stat(const char *text, uint64_t *ticks);

#endif
