/* CPU, memory and state of the processes doing the work, from /proc. See procstat.h's
 * DESIGN. */
#include "procstat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int procstat_parse(const char *text, struct procstat_line *l)
{
	/* "pid (comm) state ppid pgrp ..." where comm may hold spaces and ')': the fields
	 * after it start after the last ')'. */
	char *end;
	long pid = strtol(text, &end, 10);
	if (end == text || pid <= 0)
		return -EINVAL;
	const char *p = strrchr(text, ')');
	if (!p)
		return -EINVAL;
	char state;
	int pgrp;
	unsigned long long utime, stime, start;
	long long rss;
	/* After ") ": state(3) ppid(4) pgrp(5) session(6) tty_nr(7) tpgid(8) flags(9) minflt(10)
	 * cminflt(11) majflt(12) cmajflt(13) utime(14) stime(15) cutime(16) cstime(17)
	 * priority(18) nice(19) num_threads(20) itrealvalue(21) starttime(22) vsize(23)
	 * rss(24). */
	if (sscanf(p + 1,
		   " %c %*d %d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d"
		   " %llu %*u %lld",
		   &state, &pgrp, &utime, &stime, &start, &rss) != 6)
		return -EINVAL;
	l->pid = (pid_t)pid;
	l->pgrp = (pid_t)pgrp;
	l->state = state;
	l->ticks = utime + stime;
	l->start = start;
	l->rss_pages = rss > 0 ? (uint64_t)rss : 0;
	return 0;
}

int procstat_state_rank(char state)
{
	switch (state) {
	case 'R':
		return 7;
	case 'D':
		return 6;
	case 'T':
	case 't':
		return 5;
	case 'S':
		return 4;
	case 'Z':
		return 2;
	case 'X':
	case 'x':
		return 1;
	case '\0':
		return 0;
	default: /* I (idle kernel thread), W, P, K...: sleeping of sorts */
		return 3;
	}
}

/* A watched id, or a pid to skip. id 0: a free entry. */
struct watch {
	pid_t id;
	bool group;
	bool skip;
	unsigned slot;
};

/* A process remembered from a pass. pid 0: a free entry. */
struct seen {
	pid_t pid;
	uint64_t start;
	uint64_t ticks;
};

struct procstat_scan {
	char *proc_dir;
	long page_size;
	unsigned max_watch, max_procs;
	/* Open addressing, linear probing; capacities are powers of two at least twice the
	 * entries held, so a probe ends at a free entry. */
	struct watch *watch;
	unsigned watch_mask, nwatch;
	struct seen *last, *cur; /* the last pass's processes, and this pass's */
	unsigned seen_mask, ncur;
	struct procstat_figures *figs; /* per slot */
	uint64_t *ticks;	       /* per slot: this pass's CPU ticks */
	uint64_t last_ns;	       /* when the last pass began, 0 before the first */
};

static unsigned pow2_at_least(unsigned n)
{
	unsigned p = 16;
	while (p < n)
		p <<= 1;
	return p;
}

static unsigned hash_pid(pid_t pid, unsigned mask)
{
	return ((uint32_t)pid * 2654435761u) & mask;
}

struct procstat_scan *procstat_scan_new(const char *proc_dir, unsigned max_watch,
					unsigned max_procs)
{
	struct procstat_scan *s = xcalloc(1, sizeof(*s));
	s->proc_dir = xstrdup(proc_dir);
	s->page_size = sysconf(_SC_PAGESIZE);
	s->max_watch = max_watch;
	s->max_procs = max_procs;
	/* max_watch ids to watch and as many to skip. */
	s->watch_mask = pow2_at_least(4 * max_watch) - 1;
	s->watch = xcalloc(s->watch_mask + 1, sizeof(*s->watch));
	s->seen_mask = pow2_at_least(2 * max_procs) - 1;
	s->last = xcalloc(s->seen_mask + 1, sizeof(*s->last));
	s->cur = xcalloc(s->seen_mask + 1, sizeof(*s->cur));
	s->figs = xcalloc(max_watch, sizeof(*s->figs));
	s->ticks = xcalloc(max_watch, sizeof(*s->ticks));
	return s;
}

void procstat_scan_free(struct procstat_scan *s)
{
	if (!s)
		return;
	free(s->proc_dir);
	free(s->watch);
	free(s->last);
	free(s->cur);
	free(s->figs);
	free(s->ticks);
	free(s);
}

void procstat_scan_reset(struct procstat_scan *s)
{
	memset(s->watch, 0, (s->watch_mask + 1) * sizeof(*s->watch));
	s->nwatch = 0;
}

static int watch_add(struct procstat_scan *s, const struct watch *w)
{
	if (s->nwatch >= 2 * s->max_watch)
		return -EINVAL;
	unsigned i = hash_pid(w->id, s->watch_mask);
	while (s->watch[i].id) {
		if (s->watch[i].id == w->id)
			return -EEXIST;
		i = (i + 1) & s->watch_mask;
	}
	s->watch[i] = *w;
	s->nwatch++;
	return 0;
}

int procstat_scan_watch(struct procstat_scan *s, pid_t id, bool group, unsigned slot)
{
	if (id <= 0 || slot >= s->max_watch)
		return -EINVAL;
	return watch_add(s, &(struct watch){.id = id, .group = group, .slot = slot});
}

int procstat_scan_skip(struct procstat_scan *s, pid_t pid)
{
	if (pid <= 0)
		return -EINVAL;
	return watch_add(s, &(struct watch){.id = pid, .skip = true});
}

static const struct watch *watch_find(const struct procstat_scan *s, pid_t id)
{
	for (unsigned i = hash_pid(id, s->watch_mask); s->watch[i].id; i = (i + 1) & s->watch_mask)
		if (s->watch[i].id == id)
			return &s->watch[i];
	return NULL;
}

/* The watch a process counts in: its group's, or its own as a single process. */
static const struct watch *watch_of(const struct procstat_scan *s, const struct procstat_line *l)
{
	const struct watch *w = watch_find(s, l->pgrp);
	if (w && w->group)
		return w;
	w = watch_find(s, l->pid);
	return w && !w->group && !w->skip ? w : NULL;
}

static const struct seen *seen_find(const struct seen *t, unsigned mask, pid_t pid)
{
	for (unsigned i = hash_pid(pid, mask); t[i].pid; i = (i + 1) & mask)
		if (t[i].pid == pid)
			return &t[i];
	return NULL;
}

static void seen_add(struct procstat_scan *s, const struct procstat_line *l)
{
	/* Full: the process is measured, but its CPU counts from its next pass only. */
	if (s->ncur >= s->max_procs)
		return;
	unsigned i = hash_pid(l->pid, s->seen_mask);
	while (s->cur[i].pid) {
		if (s->cur[i].pid == l->pid)
			return;
		i = (i + 1) & s->seen_mask;
	}
	s->cur[i] = (struct seen){.pid = l->pid, .start = l->start, .ticks = l->ticks};
	s->ncur++;
}

/* The CPU ticks l used since the last pass (see DESIGN). */
static uint64_t ticks_since_last(const struct procstat_scan *s, const struct procstat_line *l,
				 long ticks_per_s)
{
	const struct seen *was = seen_find(s->last, s->seen_mask, l->pid);
	if (was && was->start == l->start)
		return l->ticks >= was->ticks ? l->ticks - was->ticks : 0;
	if (!s->last_ns)
		return 0;
	uint64_t last_tick = s->last_ns / (NS_PER_S / (uint64_t)ticks_per_s);
	return l->start >= last_tick ? l->ticks : 0;
}

/* Read and count one process of proc_dir (its name there). */
static void scan_one(struct procstat_scan *s, int dirfd, const char *name, long ticks_per_s)
{
	char path[64], buf[1024];
	const struct watch *skip = watch_find(s, (pid_t)atoi(name));
	if (skip && skip->skip)
		return;
	snprintf(path, sizeof(path), "%s/stat", name);
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* gone since readdir */
	ssize_t n;
	do {
		n = read(fd, buf, sizeof(buf) - 1);
	} while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	struct procstat_line l;
	if (procstat_parse(buf, &l) < 0)
		return;
	const struct watch *w = watch_of(s, &l);
	if (!w)
		return;
	struct procstat_figures *f = &s->figs[w->slot];
	f->known = true;
	f->nprocs++;
	f->rss_bytes += l.rss_pages * (uint64_t)s->page_size;
	if (procstat_state_rank(l.state) > procstat_state_rank(f->state))
		f->state = l.state;
	s->ticks[w->slot] += ticks_since_last(s, &l, ticks_per_s);
	seen_add(s, &l);
}

int procstat_scan_pass(struct procstat_scan *s, uint64_t now_ns, long ticks_per_s)
{
	memset(s->figs, 0, s->max_watch * sizeof(*s->figs));
	memset(s->ticks, 0, s->max_watch * sizeof(*s->ticks));
	memset(s->cur, 0, (s->seen_mask + 1) * sizeof(*s->cur));
	s->ncur = 0;
	int dirfd = open(s->proc_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	DIR *dir = fdopendir(dirfd);
	if (!dir) {
		int e = errno;
		close(dirfd);
		return -e;
	}
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue; /* not a process: "self", "sys", "." ... */
		scan_one(s, dirfd, de->d_name, ticks_per_s);
	}
	closedir(dir);
	double secs = s->last_ns && now_ns > s->last_ns ? (double)(now_ns - s->last_ns) / 1e9 : 0;
	for (unsigned i = 0; i < s->max_watch; i++)
		if (s->figs[i].known && secs > 0)
			s->figs[i].cpu_percent =
				100.0 * (double)s->ticks[i] / (double)ticks_per_s / secs;
	struct seen *t = s->last;
	s->last = s->cur;
	s->cur = t;
	s->last_ns = now_ns;
	return 0;
}

const struct procstat_figures *procstat_scan_figures(const struct procstat_scan *s, unsigned slot)
{
	static const struct procstat_figures none;
	return slot < s->max_watch ? &s->figs[slot] : &none;
}

int procstat_meminfo_available(const char *text, uint64_t *bytes)
{
	static const char key[] = "MemAvailable:";
	const char *line = text;
	while (line && strncmp(line, key, sizeof(key) - 1) != 0) {
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	if (!line)
		return -ENOENT;
	const char *p = line + sizeof(key) - 1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	uint64_t kb = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (kb > (UINT64_MAX >> 10) / 10)
			return -EINVAL;
		kb = kb * 10 + (uint64_t)(*p - '0');
	}
	if (strncmp(p, " kB", 3) != 0)
		return -EINVAL;
	*bytes = kb << 10;
	return 0;
}

int procstat_mem_available(const char *path, uint64_t *bytes)
{
	/* MemAvailable is on the third line: the first 4 KiB hold it. */
	char buf[4096];
	int fd = open(path ? path : "/proc/meminfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	int err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	buf[n] = '\0';
	return procstat_meminfo_available(buf, bytes);
}
