/* CPU, memory and state of the processes doing the work, from /proc: what tells a hung worker
 * spinning (R, 100 %) from one blocked (S or D, 0 %) or stopped (T).
 *
 * DESIGN. A row of the dashboard measures either a whole process group (the job of a command
 * or persistent worker: every process in it, summed) or one process (the worker itself, for
 * the built-in and plugin kinds, and for a command worker between two items). At -j 1024 that
 * is a thousand groups whose members are not known in advance, so a sample is one pass over
 * /proc: each process's /proc/PID/stat is read once (one open, read, close), and its pgrp field
 * is looked up in a hash of the watched groups (its pid, for a watched single process). Never a
 * scan per worker.
 *
 * CPU% is a rate over the interval between two passes: the per-process ticks (utime + stime)
 * of the last pass are kept in a hash by pid (with the start time, so a reused pid is a new
 * process). A process seen for the first time counts from its start when it began after the
 * last pass (a short command in the interval), else from now (it was there, but not watched: its
 * past is not this interval's). A process gone since the last pass counts nothing. The first
 * pass has no interval: CPU% 0.
 *
 * The group's state letter is its "most active" process's: R (running or runnable) > D
 * (uninterruptible, usually I/O) > T (stopped, or t: traced) > S (sleeping) > anything else
 * (I, W, P...) > Z (zombie) > X. One spinning process makes the group R; the group is S only when
 * none of it runs, waits on I/O or is stopped.
 *
 * Memory is bounded and allocated once, in procstat_scan_new: at most max_watch watched ids (and
 * as many skipped pids), max_procs processes remembered per pass (beyond that a process still
 * counts in RSS and the state, but its CPU is counted from its next pass only). Not thread-safe. */
#ifndef POOLTOP_PROCSTAT_H
#define POOLTOP_PROCSTAT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The fields of one /proc/PID/stat that pooltop uses. */
struct procstat_line {
	pid_t pid;
	pid_t pgrp;
	char state;	    /* 'R', 'S', 'D', 'T', 'Z'... */
	uint64_t ticks;	    /* utime + stime, clock ticks */
	uint64_t start;	    /* starttime: clock ticks after boot */
	uint64_t rss_pages; /* resident pages */
};

/* Parse the text of /proc/PID/stat into *l: 0, or -EINVAL (*l then unspecified). The comm
 * field may hold spaces and ')': the fields are read after the last ')'. */
int procstat_parse(const char *text, struct procstat_line *l);

/* How active a state letter is, for choosing a group's: higher is more active (see DESIGN);
 * 0 for '\0' (nothing seen). */
int procstat_state_rank(char state);

/* What a pass found for one watched id. */
struct procstat_figures {
	bool known;	    /* at least one process matched */
	unsigned nprocs;    /* processes matched */
	char state;	    /* the most active one's letter, '\0' when none */
	double cpu_percent; /* of one core, summed, over the last interval */
	uint64_t rss_bytes; /* summed */
};

struct procstat_scan;

/* A scanner for up to max_watch ids per pass (numbered 0..max_watch-1 by the caller: the
 * slot), remembering up to max_procs processes between passes. proc_dir is the /proc to read
 * (a test gives a directory of its own); copied. Aborts when out of memory. */
struct procstat_scan *procstat_scan_new(const char *proc_dir, unsigned max_watch,
					unsigned max_procs);
void procstat_scan_free(struct procstat_scan *s);

/* Before a pass: forget the ids watched by the last one. */
void procstat_scan_reset(struct procstat_scan *s);
/* Watch id for the next pass, its figures under number slot: the process group id (group
 * true: every process whose pgrp is id) or the single process id. 0, -EINVAL (slot out of
 * range, id <= 0), -EEXIST (id already watched: the first keeps it). */
int procstat_scan_watch(struct procstat_scan *s, pid_t id, bool group, unsigned slot);
/* Before a pass: pid need not be read, as it can be in no watched group and is no watched
 * process (a worker, whose own group is not its job's: reading the workers of a pool that
 * runs commands would double a pass's reads). 0, -EINVAL, -EEXIST (pid already watched). */
int procstat_scan_skip(struct procstat_scan *s, pid_t pid);
/* One pass over proc_dir; now_ns is CLOCK_BOOTTIME (the clock of the processes' starttime),
 * ticks_per_s sysconf(_SC_CLK_TCK) (tests give their own). 0, or -errno when proc_dir cannot
 * be read (the figures are then all unknown). */
int procstat_scan_pass(struct procstat_scan *s, uint64_t now_ns, long ticks_per_s);
/* The figures of slot from the last pass (all zero when it watched nothing there). Borrowed:
 * valid until the next pass. */
const struct procstat_figures *procstat_scan_figures(const struct procstat_scan *s, unsigned slot);

/* The MemAvailable line of /proc/meminfo's text, in bytes: 0, or -ENOENT when the text has no
 * such line (kernels before 3.14), -EINVAL when it is not "MemAvailable: N kB". */
int procstat_meminfo_available(const char *text, uint64_t *bytes);
/* The same, read from path (NULL: /proc/meminfo): 0, or a negative errno. */
int procstat_mem_available(const char *path, uint64_t *bytes);

#endif
