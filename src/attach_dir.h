/* Where the attach sockets live, and their names: ${POOLTOP_TMPDIR:-/tmp}/pooltop-UID/NAME.sock.
 * See ../shared/DESIGN.md "Attach" (the tmux model). No libuv here: plain sockets, so that
 * `pooltop ls` and the engine share it (the engine uv_pipe_open()s what attach_listen returns).
 * Errors come back as -errno with one line in err, which the caller prefixes with "pooltop: ". */
#ifndef POOLTOP_ATTACH_DIR_H
#define POOLTOP_ATTACH_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* sun_path is 108 bytes; a name is [A-Za-z0-9._-]{1,64}, not "." or "..". */
#define ATTACH_NAME_MAX 64
#define ATTACH_PATH_MAX 108

/* The directory for this uid into dir (dirlen bytes), made 0700 if missing (only the last
 * component: POOLTOP_TMPDIR, or /tmp when unset or empty, must exist and be absolute). Then
 * lstat: refused unless it is a directory (not a symlink) owned by getuid() with no group or
 * other bits (tmux's check). 0, or -errno with one line in err:
 *   -EACCES "/tmp/pooltop-1000: owned by uid 0, not 1000: refusing it",
 *   -EACCES "/tmp/pooltop-1000: mode 0755: group or others may enter: refusing it",
 *   -ENOTDIR "/tmp/pooltop-1000: a symbolic link, not a directory: refusing it",
 *   -ENAMETOOLONG "/x/pooltop-1000: the path is too long for a socket" (no NAME.sock fits),
 *   -EINVAL "POOLTOP_TMPDIR=x: not an absolute path". */
int attach_dir(char *dir, size_t dirlen, char *err, size_t errlen);
/* Open dir and flock() it (LOCK_SH) for as long as the fd stays open: systemd-tmpfiles does not
 * age a directory locked so. The engine holds it while it runs. Returns the fd (O_CLOEXEC) or
 * -errno. */
int attach_dir_hold(const char *dir);

/* 0 when name is valid, else -EINVAL with err: "--name \"a/b\": use letters, digits, '.', '_'
 * and '-' (at most 64)" ("--name \"..\": not a name" for "." and ".."). */
int attach_name_check(const char *name, char *err, size_t errlen);
/* The default name into name (namelen bytes, ATTACH_NAME_MAX + 1 is enough): the basename of
 * the first word of what (the command: "/usr/bin/python3" -> "python3", "sh -c 'x'" -> "sh";
 * NULL, "" or no basename -> "pooltop"), every byte outside the set replaced by '_', cut so
 * that "-PID" fits, then "-PID". The result passes attach_name_check. */
void attach_default_name(const char *what, pid_t pid, char *name, size_t namelen);
/* dir/NAME.sock into path; -ENAMETOOLONG with err "PATH: the path is too long for a socket
 * (N bytes, at most 107): choose a shorter --name or POOLTOP_TMPDIR" when it does not fit
 * sun_path (or pathlen). */
int attach_sock_path(const char *dir, const char *name, char *path, size_t pathlen, char *err,
		     size_t errlen);
/* dir/NAME.done, the file a finished batch leaves (JSON, the engine's business), likewise. */
int attach_done_path(const char *dir, const char *name, char *path, size_t pathlen, char *err,
		     size_t errlen);

/* Is anyone listening at path? A non-blocking connect(2), given timeout_ms to complete. 1:
 * live (a connection was made, and closed again at once; a full backlog or a timeout counts as
 * live but busy), 0: stale (ECONNREFUSED: the socket file of a dead batch), -ENOENT: no such
 * file, -ENOTSOCK: the path exists and is not a socket (a symlink is not one), else -errno.
 * A live listener sees one connection that ends at once: it must take that in its stride. */
int attach_probe(const char *path, int timeout_ms);

/* Bind a listening socket (backlog 64) at path, dir/NAME.sock. Under an exclusive flock of
 * dir/.lock, so that two batches starting with one name cannot both take it: probe first; live
 * -> -EADDRINUSE "the name \"NAME\" is in use (its socket answers): choose another with
 * --name"; stale -> unlink and bind; a path that exists and is not a socket -> -ENOTSOCK "PATH:
 * not a socket: refusing to replace it". Bound under umask 0177, so the socket is 0600 from the
 * start, and chmod()ed to 0600 as well. Returns the fd (SOCK_NONBLOCK | SOCK_CLOEXEC), or
 * -errno with err. Changes the process's umask for the moment of bind(): call it with no other
 * thread creating files. */
int attach_listen(const char *path, char *err, size_t errlen);

/* A connection's peer by SO_PEERCRED: 0 and *uid, *pid, or -errno. */
int attach_peer(int fd, uid_t *uid, pid_t *pid);
/* May that uid attach? Same uid as ours, or root. */
bool attach_peer_allowed(uid_t peer);

/* Connect to the socket at path (a blocking connect; the fd is CLOEXEC and blocking: the caller
 * sets non-blocking). fd, or -errno with err: -ECONNREFUSED "PATH: Connection refused: the batch
 * is gone (a dead socket: pooltop ls --wipe removes it)", -ENOTSOCK "PATH: not a socket", else
 * "PATH: strerror". For -ENOENT the caller has the better message: "no batch named \"x\"". */
int attach_connect(const char *path, char *err, size_t errlen);

/* The batches of this uid: every NAME.sock and NAME.done in dir whose NAME is valid, one entry
 * per name, sorted by name (strcmp). A socket that answers attach_probe is LIVE; else a NAME.done
 * file beside it (or alone) makes it FINISHED; else (a socket that refuses) DEAD. Other files,
 * NAME.sock that are not sockets and NAME.done that are not regular files are ignored. Returns the
 * count, *out malloc'd (NULL when 0; free with free()), or -errno with err "DIR: strerror". */
enum attach_entry_state { ATTACH_LIVE, ATTACH_DEAD, ATTACH_FINISHED };
struct attach_entry {
	char name[ATTACH_NAME_MAX + 1];
	char path[ATTACH_PATH_MAX]; /* the socket's (for FINISHED, the .done file's) */
	enum attach_entry_state state;
};
int attach_list(const char *dir, struct attach_entry **out, char *err, size_t errlen);
/* Resolve what the user typed for attach/status among entries (sorted, as attach_list gives):
 *   NULL or "": the only live batch; -ENOENT "no batch is running (pooltop ls lists them)",
 *     -EEXIST "2 batches run: name one (pooltop ls lists them)";
 *   an exact name;
 *   all digits: a PID, the name ending in "-PID" (default names);
 *   a unique prefix of a name; -EEXIST "\"ab\" matches 2 batches: abc, abd" when it is not
 *   (for a PID likewise);
 *   -ENOENT "no batch named \"x\" (pooltop ls lists them)" when nothing matches.
 * Returns the index into entries. */
int attach_resolve(const struct attach_entry *entries, int n, const char *what, char *err,
		   size_t errlen);
/* Remove the dead sockets, and the .done files (with any dead NAME.sock beside them) of finished
 * batches, from dir, under dir/.lock as attach_listen, each socket probed again first: a batch
 * that took the name since the listing keeps it. Returns the count of entries removed. */
int attach_wipe(const char *dir, const struct attach_entry *entries, int n);

#endif
