/* The attach sockets' directory and names: plain POSIX sockets, no libuv (see attach_dir.h).
 *
 * DESIGN. Trust: the directory is ours alone (0700, our uid, not a symlink, checked after
 * mkdir as tmux does), so nobody else can put a socket or a symlink in it; the sockets are 0600
 * as well, and the engine checks each peer's uid (attach_peer). Staleness: a socket file outlives
 * its batch when the batch is killed; connect() tells the two apart (ECONNREFUSED: nobody
 * listens), and attach_listen replaces a stale one. Races: probe, unlink and bind are one step
 * under an exclusive flock of dir/.lock (attach_wipe's probe and unlink too), so two batches
 * started with one name cannot both unlink and bind, leaving one unreachable. flock() is
 * released by the kernel when its holder dies: a killed batch cannot wedge the others. */
#include "attach_dir.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) == ATTACH_PATH_MAX,
	      "ATTACH_PATH_MAX must be sun_path's size");

/* How long attach_listen and attach_list wait for a connect to complete. */
#define PROBE_MS 1000

/* The shortest socket name there is: "/x.sock" after the directory. */
#define SHORTEST_SOCK (sizeof("/x.sock") - 1)

int attach_dir(char *dir, size_t dirlen, char *err, size_t errlen)
{
	const char *tmp = getenv("POOLTOP_TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	if (tmp[0] != '/') {
		snprintf(err, errlen, "POOLTOP_TMPDIR=%s: not an absolute path", tmp);
		return -EINVAL;
	}
	/* "/tmp/" gives "/tmp/pooltop-UID", not "/tmp//pooltop-UID". */
	size_t tlen = strlen(tmp);
	while (tlen > 1 && tmp[tlen - 1] == '/')
		tlen--;
	uid_t uid = getuid();
	int n = snprintf(dir, dirlen, "%.*s/pooltop-%u", (int)tlen, tmp, (unsigned)uid);
	if (n < 0 || (size_t)n >= dirlen || (size_t)n + SHORTEST_SOCK > ATTACH_PATH_MAX - 1) {
		snprintf(err, errlen, "%.*s/pooltop-%u: the path is too long for a socket",
			 (int)tlen, tmp, (unsigned)uid);
		return -ENAMETOOLONG;
	}

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		snprintf(err, errlen, "%s: cannot create it: %s", dir, strerror(e));
		return -e;
	}
	/* Whether made now or found, check what is there: someone else may have made it first. */
	struct stat st;
	if (lstat(dir, &st) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(e));
		return -e;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(err, errlen, "%s: a symbolic link, not a directory: refusing it", dir);
		return -ENOTDIR;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory: refusing it", dir);
		return -ENOTDIR;
	}
	if (st.st_uid != uid) {
		snprintf(err, errlen, "%s: owned by uid %u, not %u: refusing it", dir,
			 (unsigned)st.st_uid, (unsigned)uid);
		return -EACCES;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s: mode %04o: group or others may enter: refusing it", dir,
			 (unsigned)(st.st_mode & 07777));
		return -EACCES;
	}
	return 0;
}

/* flock(), retrying EINTR. */
static int lock(int fd, int how)
{
	while (flock(fd, how) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

int attach_dir_hold(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = lock(fd, LOCK_SH);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static bool name_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

int attach_name_check(const char *name, char *err, size_t errlen)
{
	size_t len = strlen(name);
	bool ok = len >= 1 && len <= ATTACH_NAME_MAX;
	for (size_t i = 0; ok && i < len; i++)
		ok = name_byte((unsigned char)name[i]);
	if (!ok) {
		snprintf(err, errlen,
			 "--name \"%s\": use letters, digits, '.', '_' and '-' (at most %d)", name,
			 ATTACH_NAME_MAX);
		return -EINVAL;
	}
	/* They would make "..sock", a fine file name, but "pooltop attach .." reads as a path. */
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		snprintf(err, errlen, "--name \"%s\": not a name", name);
		return -EINVAL;
	}
	return 0;
}

void attach_default_name(const char *what, pid_t pid, char *name, size_t namelen)
{
	if (namelen == 0)
		return;
	char suffix[24];
	int slen = snprintf(suffix, sizeof(suffix), "-%ld", (long)pid);
	size_t room = MIN((size_t)ATTACH_NAME_MAX, namelen - 1);
	room = room > (size_t)slen ? room - (size_t)slen : 0;

	/* The first word's basename: [start, end). */
	const char *start = what ? what : "", *end;
	start += strspn(start, " \t");
	end = start + strcspn(start, " \t");
	for (const char *p = start; p < end; p++)
		if (*p == '/' && p + 1 < end)
			start = p + 1;
	if (end > start && end[-1] == '/')
		end--; /* "bin/" is "bin"; "/" is nothing */
	if (start == end) {
		start = "pooltop";
		end = start + strlen(start);
	}

	size_t n = MIN((size_t)(end - start), room);
	for (size_t i = 0; i < n; i++)
		name[i] = name_byte((unsigned char)start[i]) ? start[i] : '_';
	snprintf(name + n, namelen - n, "%s", suffix);
}

/* dir/NAME.suffix into path. */
static int file_path(const char *dir, const char *name, const char *suffix, char *path,
		     size_t pathlen, char *err, size_t errlen)
{
	int n = snprintf(path, pathlen, "%s/%s%s", dir, name, suffix);
	if (n < 0 || (size_t)n >= pathlen || n > ATTACH_PATH_MAX - 1) {
		snprintf(err, errlen,
			 "%s/%s%s: the path is too long for a socket (%d bytes, at most %d): "
			 "choose a "
			 "shorter --name or POOLTOP_TMPDIR",
			 dir, name, suffix, n, ATTACH_PATH_MAX - 1);
		return -ENAMETOOLONG;
	}
	return 0;
}

int attach_sock_path(const char *dir, const char *name, char *path, size_t pathlen, char *err,
		     size_t errlen)
{
	return file_path(dir, name, ".sock", path, pathlen, err, errlen);
}

int attach_done_path(const char *dir, const char *name, char *path, size_t pathlen, char *err,
		     size_t errlen)
{
	return file_path(dir, name, ".done", path, pathlen, err, errlen);
}

static int sock_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/* lstat: 0 for a socket, -ENOTSOCK for anything else (a symlink too), or -errno. */
static int is_socket(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return -errno;
	return S_ISSOCK(st.st_mode) ? 0 : -ENOTSOCK;
}

int attach_probe(const char *path, int timeout_ms)
{
	struct sockaddr_un sa;
	int r = sock_addr(path, &sa);
	if (r < 0)
		return r;
	/* connect() to a file that is not a socket says ECONNREFUSED: tell them apart first. */
	r = is_socket(path);
	if (r < 0)
		return r;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r == 0) {
		r = 1;
	} else if (errno == EAGAIN) {
		r = 1; /* Linux: the listener's backlog is full; it is there, but busy */
	} else if (errno == EINPROGRESS) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int soerr = 0;
		socklen_t len = sizeof(soerr);
		int pr;
		do
			pr = poll(&p, 1, timeout_ms);
		while (pr < 0 && errno == EINTR);
		if (pr <= 0)
			r = 1; /* no answer in time: busy, not gone */
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			r = -errno;
		else
			r = soerr == 0 ? 1 : soerr == ECONNREFUSED ? 0 : -soerr;
	} else {
		r = errno == ECONNREFUSED ? 0 : -errno;
	}
	close(fd);
	return r;
}

/* The exclusive lock of the directory dir[0, dlen): dir/.lock (made 0600). fd or -errno. */
static int dir_lock(const char *dir, size_t dlen)
{
	char lp[ATTACH_PATH_MAX + 16];
	if (dlen > ATTACH_PATH_MAX)
		return -ENAMETOOLONG;
	snprintf(lp, sizeof(lp), "%.*s/.lock", (int)dlen, dir);
	int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	int r = lock(fd, LOCK_EX);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* Unlink a stale socket and bind a new one at path, under the lock. fd or -errno with err. */
static int bind_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	int r = sock_addr(path, &sa);
	if (r < 0) {
		snprintf(err, errlen, "%s: the path is too long for a socket", path);
		return r;
	}
	r = attach_probe(path, PROBE_MS);
	if (r == 1) {
		/* path is dir/NAME.sock: the user chose NAME. */
		const char *base = strrchr(path, '/');
		base = base ? base + 1 : path;
		size_t blen = strlen(base);
		if (blen > 5 && strcmp(base + blen - 5, ".sock") == 0)
			blen -= 5;
		snprintf(err, errlen,
			 "the name \"%.*s\" is in use (its socket answers): choose another with "
			 "--name",
			 (int)blen, base);
		return -EADDRINUSE;
	}
	if (r == -ENOTSOCK) {
		snprintf(err, errlen, "%s: not a socket: refusing to replace it", path);
		return r;
	}
	if (r == 0 && unlink(path) < 0 && errno != ENOENT) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot remove the dead socket: %s", path, strerror(-r));
		return r;
	}
	if (r < 0 && r != -ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: socket: %s", path, strerror(-r));
		return r;
	}
	/* Never, not even for a moment, a socket others could connect to. */
	mode_t old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	umask(old);
	if (r < 0) {
		snprintf(err, errlen, "%s: bind: %s", path, strerror(e));
		goto close_fd;
	}
	/* fchmod() does nothing on a socket: the path it is. */
	if (chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		unlink(path);
		goto close_fd;
	}
	return fd;

close_fd:
	close(fd);
	return -e;
}

int attach_listen(const char *path, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	int lk = slash ? dir_lock(path, (size_t)(slash - path)) : dir_lock(".", 1);
	if (lk < 0) {
		snprintf(err, errlen, "%s: cannot lock its directory: %s", path, strerror(-lk));
		return lk;
	}
	int fd = bind_socket(path, err, errlen);
	close(lk);
	return fd;
}

int attach_peer(int fd, uid_t *uid, pid_t *pid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	*uid = cred.uid;
	*pid = cred.pid;
	return 0;
}

bool attach_peer_allowed(uid_t peer)
{
	return peer == getuid() || peer == 0;
}

int attach_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	int r = sock_addr(path, &sa);
	if (r < 0) {
		snprintf(err, errlen, "%s: the path is too long for a socket", path);
		return r;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: socket: %s", path, strerror(-r));
		return r;
	}
	while ((r = connect(fd, (struct sockaddr *)&sa, sizeof(sa))) < 0 && errno == EINTR)
		;
	if (r == 0)
		return fd;
	r = -errno;
	close(fd);
	/* A file that is not a socket refuses too: say which it is. */
	if (r == -ECONNREFUSED && is_socket(path) == -ENOTSOCK)
		r = -ENOTSOCK;
	if (r == -ECONNREFUSED)
		snprintf(err, errlen,
			 "%s: %s: the batch is gone (a dead socket: pooltop ls --wipe removes it)",
			 path, strerror(-r));
	else if (r == -ENOTSOCK)
		snprintf(err, errlen, "%s: not a socket", path);
	else
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
	return r;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct attach_entry *)a)->name,
		      ((const struct attach_entry *)b)->name);
}

/* The entry named name[0, len), added if missing. */
static struct attach_entry *entry_get(struct attach_entry **v, int *n, const char *name, size_t len)
{
	for (int i = 0; i < *n; i++)
		if (strlen((*v)[i].name) == len && memcmp((*v)[i].name, name, len) == 0)
			return &(*v)[i];
	*v = xrealloc(*v, (size_t)(*n + 1) * sizeof(**v));
	struct attach_entry *e = &(*v)[(*n)++];
	memset(e, 0, sizeof(*e));
	memcpy(e->name, name, len);
	e->state = ATTACH_DEAD;
	return e;
}

int attach_list(const char *dir, struct attach_entry **out, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(e));
		return -e;
	}
	struct attach_entry *v = NULL;
	int n = 0;
	struct dirent *de;
	char why[256];
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len <= 5)
			continue;
		bool sock = strcmp(de->d_name + len - 5, ".sock") == 0;
		bool done = strcmp(de->d_name + len - 5, ".done") == 0;
		char name[ATTACH_NAME_MAX + 1], path[ATTACH_PATH_MAX];
		if ((!sock && !done) || len - 5 > ATTACH_NAME_MAX)
			continue;
		memcpy(name, de->d_name, len - 5);
		name[len - 5] = '\0';
		if (attach_name_check(name, why, sizeof(why)) < 0 ||
		    file_path(dir, name, sock ? ".sock" : ".done", path, sizeof(path), why,
			      sizeof(why)) < 0)
			continue;
		if (done) {
			struct stat st;
			if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
				continue;
			struct attach_entry *e = entry_get(&v, &n, name, len - 5);
			if (e->state != ATTACH_LIVE) {
				e->state = ATTACH_FINISHED;
				memcpy(e->path, path, sizeof(path));
			}
			continue;
		}
		int r = attach_probe(path, PROBE_MS);
		if (r < 0)
			continue; /* gone since readdir, not a socket, or not ours to try */
		struct attach_entry *e = entry_get(&v, &n, name, len - 5);
		if (r == 1 || e->state != ATTACH_FINISHED) {
			e->state = r == 1 ? ATTACH_LIVE : ATTACH_DEAD;
			memcpy(e->path, path, sizeof(path));
		}
	}
	closedir(d);
	if (n > 1)
		qsort(v, (size_t)n, sizeof(*v), entry_cmp);
	*out = v;
	return n;
}

static bool all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* Does entry name match what: as a PID ("-PID" ends it) or as a prefix? */
static bool matches(const char *name, const char *what, bool pid)
{
	size_t nl = strlen(name), wl = strlen(what);
	if (pid)
		return nl > wl + 1 && name[nl - wl - 1] == '-' && strcmp(name + nl - wl, what) == 0;
	return strncmp(name, what, wl) == 0;
}

/* The one entry matching what, or -EEXIST/-ENOENT (ENOENT without a message). */
static int match_one(const struct attach_entry *v, int n, const char *what, bool pid, char *err,
		     size_t errlen)
{
	int found = -ENOENT, count = 0;
	for (int i = 0; i < n; i++)
		if (matches(v[i].name, what, pid))
			found = i, count++;
	if (count <= 1)
		return found;
	struct buf b = {0};
	buf_printf(&b, "\"%s\" matches %d batches:", what, count);
	for (int i = 0, k = 0; i < n; i++)
		if (matches(v[i].name, what, pid))
			buf_printf(&b, "%s %s", k++ ? "," : "", v[i].name);
	snprintf(err, errlen, "%s", b.data);
	buf_free(&b);
	return -EEXIST;
}

int attach_resolve(const struct attach_entry *entries, int n, const char *what, char *err,
		   size_t errlen)
{
	if (!what || !*what) {
		int found = -1, live = 0;
		for (int i = 0; i < n; i++)
			if (entries[i].state == ATTACH_LIVE)
				found = i, live++;
		if (live == 1)
			return found;
		if (live == 0) {
			snprintf(err, errlen, "no batch is running (pooltop ls lists them)");
			return -ENOENT;
		}
		snprintf(err, errlen, "%d batches run: name one (pooltop ls lists them)", live);
		return -EEXIST;
	}
	for (int i = 0; i < n; i++)
		if (strcmp(entries[i].name, what) == 0)
			return i;
	int r = -ENOENT;
	if (all_digits(what))
		r = match_one(entries, n, what, true, err, errlen);
	if (r == -ENOENT)
		r = match_one(entries, n, what, false, err, errlen);
	if (r == -ENOENT)
		snprintf(err, errlen, "no batch named \"%s\" (pooltop ls lists them)", what);
	return r;
}

/* Unlink the socket at path if it is still a dead one: 1 when it was removed. */
static int unlink_dead(const char *path)
{
	return attach_probe(path, PROBE_MS) == 0 && unlink(path) == 0;
}

int attach_wipe(const char *dir, const struct attach_entry *entries, int n)
{
	char path[ATTACH_PATH_MAX], why[256];
	int removed = 0;
	int lk = dir_lock(dir, strlen(dir));
	if (lk < 0)
		return 0;
	for (int i = 0; i < n; i++) {
		const struct attach_entry *e = &entries[i];
		switch (e->state) {
		case ATTACH_LIVE:
			break;
		case ATTACH_DEAD:
			removed += unlink_dead(e->path);
			break;
		case ATTACH_FINISHED:
			/* Unless a batch of that name started since: then it is not finished. */
			if (attach_sock_path(dir, e->name, path, sizeof(path), why, sizeof(why)) <
				    0 ||
			    attach_probe(path, PROBE_MS) == 1)
				break;
			(void)unlink_dead(path);
			removed += unlink(e->path) == 0;
			break;
		}
	}
	close(lk);
	return removed;
}
