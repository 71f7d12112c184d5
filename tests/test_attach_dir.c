/* Tests for the attach sockets' directory and names: the directory checks, names, listening,
 * probing, listing, resolving and wiping, in a private POOLTOP_TMPDIR. */
#include "attach_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "scale.h"
#include "util.h"

/* Per test: POOLTOP_TMPDIR (short: socket paths must fit 108 bytes), and our directory in it. */
struct fixture {
	char tmp[64];
	char dir[ATTACH_PATH_MAX];
	char err[512];
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/tad.XXXXXX");
	if (!mkdtemp(f->tmp)) {
		free(f);
		return -1;
	}
	setenv("POOLTOP_TMPDIR", f->tmp, 1);
	snprintf(f->dir, sizeof(f->dir), "%s/pooltop-%u", f->tmp, (unsigned)getuid());
	*state = f;
	return 0;
}

static int remove_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	nftw(f->tmp, remove_cb, 16, FTW_DEPTH | FTW_PHYS);
	unsetenv("POOLTOP_TMPDIR");
	free(f);
	return 0;
}

/* The fixture's directory, made by attach_dir. */
static struct fixture *made(void **state)
{
	struct fixture *f = *state;
	char dir[ATTACH_PATH_MAX];
	assert_int_equal(attach_dir(dir, sizeof(dir), f->err, sizeof(f->err)), 0);
	assert_string_equal(dir, f->dir);
	return f;
}

/* dir/NAME.sock into path. */
static void sock(const struct fixture *f, const char *name, char *path)
{
	char err[256];
	assert_int_equal(attach_sock_path(f->dir, name, path, ATTACH_PATH_MAX, err, sizeof(err)),
			 0);
}

static void touch(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, text, strlen(text)), 0);
	close(fd);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static void test_attach_dir_is_made_0700_and_found_again(void **state)
{
	struct fixture *f = *state;
	mode_t old = umask(0);
	made(state);
	umask(old);
	struct stat st;
	assert_int_equal(lstat(f->dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	made(state);
}

static void test_attach_dir_with_group_or_other_bits_is_refused(void **state)
{
	struct fixture *f = *state;
	char dir[ATTACH_PATH_MAX], want[600];
	assert_int_equal(mkdir(f->dir, 0700), 0);
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(attach_dir(dir, sizeof(dir), f->err, sizeof(f->err)), -EACCES);
	snprintf(want, sizeof(want), "%s: mode 0755: group or others may enter: refusing it",
		 f->dir);
	assert_string_equal(f->err, want);
	/* Group bits alone are enough. */
	assert_int_equal(chmod(f->dir, 0710), 0);
	assert_int_equal(attach_dir(dir, sizeof(dir), f->err, sizeof(f->err)), -EACCES);
}

static void test_attach_dir_symlink_is_refused_even_to_a_good_directory(void **state)
{
	struct fixture *f = *state;
	char real[128], dir[ATTACH_PATH_MAX];
	snprintf(real, sizeof(real), "%s/real", f->tmp);
	assert_int_equal(mkdir(real, 0700), 0);
	assert_int_equal(symlink(real, f->dir), 0);
	assert_int_equal(attach_dir(dir, sizeof(dir), f->err, sizeof(f->err)), -ENOTDIR);
	assert_non_null(strstr(f->err, "a symbolic link, not a directory: refusing it"));
	assert_non_null(strstr(f->err, f->dir));
}

static void test_attach_dir_owned_by_another_uid_is_refused(void **state)
{
	struct fixture *f = *state;
	char dir[ATTACH_PATH_MAX], want[600];
	if (getuid() != 0) {
		print_message("# not root: cannot give a directory away: not tested\n");
		return;
	}
	assert_int_equal(mkdir(f->dir, 0700), 0);
	assert_int_equal(chown(f->dir, 65534, 65534), 0);
	assert_int_equal(attach_dir(dir, sizeof(dir), f->err, sizeof(f->err)), -EACCES);
	snprintf(want, sizeof(want), "%s: owned by uid 65534, not 0: refusing it", f->dir);
	assert_string_equal(f->err, want);
}

static void test_attach_dir_too_long_or_relative_tmpdir_is_refused(void **state)
{
	struct fixture *f = *state;
	char tmp[160], dir[ATTACH_PATH_MAX];
	/* A directory of 101 bytes leaves no room for "/x.sock" in 107. */
	int len = 101 - snprintf(NULL, 0, "/pooltop-%u", (unsigned)getuid());
	snprintf(tmp, sizeof(tmp), "%s/%0*d", f->tmp, len - (int)strlen(f->tmp) - 1, 0);
	setenv("POOLTOP_TMPDIR", tmp, 1);
	assert_int_equal(attach_dir(dir, sizeof(dir), f->err, sizeof(f->err)), -ENAMETOOLONG);
	assert_non_null(strstr(f->err, tmp));
	assert_non_null(strstr(f->err, ": the path is too long for a socket"));
	/* One byte less fits, and is made. */
	tmp[strlen(tmp) - 1] = '\0';
	assert_int_equal(mkdir(tmp, 0700), 0);
	setenv("POOLTOP_TMPDIR", tmp, 1);
	assert_int_equal(attach_dir(dir, sizeof(dir), f->err, sizeof(f->err)), 0);

	setenv("POOLTOP_TMPDIR", "tmp", 1);
	assert_int_equal(attach_dir(dir, sizeof(dir), f->err, sizeof(f->err)), -EINVAL);
	assert_string_equal(f->err, "POOLTOP_TMPDIR=tmp: not an absolute path");
}

static void test_attach_dir_hold_keeps_a_shared_lock(void **state)
{
	struct fixture *f = made(state);
	int fd = attach_dir_hold(f->dir);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* What systemd-tmpfiles tries before it ages a directory. */
	int other = open(f->dir, O_RDONLY | O_DIRECTORY);
	assert_true(other >= 0);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	assert_int_equal(flock(other, LOCK_SH | LOCK_NB), 0); /* other batches share it */
	close(fd);
	flock(other, LOCK_UN);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0);
	close(other);
}

static void test_attach_name_check_takes_the_set_up_to_64(void **state)
{
	(void)state;
	char err[256], name[80];
	assert_int_equal(attach_name_check("a", err, sizeof(err)), 0);
	assert_int_equal(attach_name_check("Build-1.x_y", err, sizeof(err)), 0);
	memset(name, 'n', 64);
	name[64] = '\0';
	assert_int_equal(attach_name_check(name, err, sizeof(err)), 0);
	strcat(name, "n");
	assert_int_equal(attach_name_check(name, err, sizeof(err)), -EINVAL);
	assert_int_equal(attach_name_check("a/b", err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "--name \"a/b\": use letters, digits, '.', '_' and '-' (at most 64)");
	assert_int_equal(attach_name_check("a b", err, sizeof(err)), -EINVAL);
	assert_int_equal(attach_name_check("caf\xc3\xa9", err, sizeof(err)), -EINVAL);
	assert_int_equal(attach_name_check("", err, sizeof(err)), -EINVAL);
	assert_int_equal(attach_name_check(".", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--name \".\": not a name");
	assert_int_equal(attach_name_check("..", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--name \"..\": not a name");
	assert_int_equal(attach_name_check("...", err, sizeof(err)), 0);
}

static void test_attach_default_name_is_the_command_basename_and_pid(void **state)
{
	(void)state;
	char name[ATTACH_NAME_MAX + 1], err[256];
	attach_default_name("/usr/bin/python3", 42, name, sizeof(name));
	assert_string_equal(name, "python3-42");
	attach_default_name("sh -c 'x y'", 42, name, sizeof(name));
	assert_string_equal(name, "sh-42");
	attach_default_name("  ./run\x01 me", 7, name, sizeof(name));
	assert_string_equal(name, "run_-7");
	attach_default_name("caf\xc3\xa9:1", 7, name, sizeof(name));
	assert_string_equal(name, "caf___1-7");
	attach_default_name("/usr/bin/", 7, name, sizeof(name));
	assert_string_equal(name, "bin-7");
	attach_default_name(NULL, 7, name, sizeof(name));
	assert_string_equal(name, "pooltop-7");
	attach_default_name("", 7, name, sizeof(name));
	assert_string_equal(name, "pooltop-7");
	attach_default_name("/", 7, name, sizeof(name));
	assert_string_equal(name, "pooltop-7");

	/* A long basename is cut so that "-PID" still fits in 64. */
	char what[200];
	snprintf(what, sizeof(what), "/bin/%0100d", 0);
	attach_default_name(what, 4194304, name, sizeof(name));
	assert_int_equal(strlen(name), ATTACH_NAME_MAX);
	assert_string_equal(name + ATTACH_NAME_MAX - 8, "-4194304");
	assert_int_equal(strspn(name, "0"), ATTACH_NAME_MAX - 8);
	assert_int_equal(attach_name_check(name, err, sizeof(err)), 0);
	/* And to a smaller buffer. */
	char small[8];
	attach_default_name("python3", 42, small, sizeof(small));
	assert_string_equal(small, "pyth-42");
}

static void test_attach_sock_path_too_long_is_refused(void **state)
{
	(void)state;
	char path[ATTACH_PATH_MAX], err[512], dir[64], name[ATTACH_NAME_MAX + 1];
	assert_int_equal(
		attach_sock_path("/tmp/pooltop-0", "a", path, sizeof(path), err, sizeof(err)), 0);
	assert_string_equal(path, "/tmp/pooltop-0/a.sock");
	assert_int_equal(
		attach_done_path("/tmp/pooltop-0", "a", path, sizeof(path), err, sizeof(err)), 0);
	assert_string_equal(path, "/tmp/pooltop-0/a.done");
	/* 37 + 1 + 64 + 5 = 107 fits; one more does not. */
	snprintf(dir, sizeof(dir), "/%036d", 0);
	memset(name, 'n', 64);
	name[64] = '\0';
	assert_int_equal(attach_sock_path(dir, name, path, sizeof(path), err, sizeof(err)), 0);
	assert_int_equal(strlen(path), 107);
	strcat(dir, "0");
	assert_int_equal(attach_sock_path(dir, name, path, sizeof(path), err, sizeof(err)),
			 -ENAMETOOLONG);
	assert_non_null(strstr(err, dir));
	assert_non_null(strstr(err, ".sock: the path is too long for a socket (108 bytes, at most "
				    "107): choose a shorter --name or POOLTOP_TMPDIR"));
}

static void test_attach_listen_makes_a_0600_socket_and_refuses_a_live_name(void **state)
{
	struct fixture *f = made(state);
	char path[ATTACH_PATH_MAX];
	sock(f, "job", path);
	/* Even with a permissive umask, the socket is ours alone. */
	mode_t old = umask(0);
	int fd = attach_listen(path, f->err, sizeof(f->err));
	umask(old);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(umask(old), old); /* given back */

	assert_int_equal(attach_listen(path, f->err, sizeof(f->err)), -EADDRINUSE);
	assert_string_equal(f->err, "the name \"job\" is in use (its socket answers): choose "
				    "another with --name");
	assert_int_equal(attach_probe(path, 1000), 1);

	/* Its batch gone, the socket file stays behind, stale: the next batch replaces it. */
	close(fd);
	assert_true(exists(path));
	assert_int_equal(attach_probe(path, 1000), 0);
	fd = attach_listen(path, f->err, sizeof(f->err));
	assert_true(fd >= 0);
	assert_int_equal(attach_probe(path, 1000), 1);
	close(fd);
}

static void test_attach_listen_never_replaces_a_file_that_is_not_a_socket(void **state)
{
	struct fixture *f = made(state);
	char path[ATTACH_PATH_MAX], want[600], text[16] = {0};
	sock(f, "job", path);
	touch(path, "precious");
	assert_int_equal(attach_listen(path, f->err, sizeof(f->err)), -ENOTSOCK);
	snprintf(want, sizeof(want), "%s: not a socket: refusing to replace it", path);
	assert_string_equal(f->err, want);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, text, sizeof(text) - 1), 8);
	assert_string_equal(text, "precious");
	close(fd);
}

/* Does /proc/locks show pid waiting for a lock? */
static bool waits_for_lock(pid_t pid)
{
	FILE *fp = fopen("/proc/locks", "r");
	char line[256], want[32];
	bool found = false;
	if (!fp)
		return false;
	snprintf(want, sizeof(want), " %ld ", (long)pid);
	while (!found && fgets(line, sizeof(line), fp))
		found = strstr(line, "->") && strstr(line, want);
	fclose(fp);
	return found;
}

static void test_attach_listen_waits_for_the_directory_lock(void **state)
{
	struct fixture *f = made(state);
	char path[ATTACH_PATH_MAX], lockp[ATTACH_PATH_MAX + 8];
	sock(f, "job", path);
	snprintf(lockp, sizeof(lockp), "%s/.lock", f->dir);
	int lk = open(lockp, O_RDWR | O_CREAT, 0600);
	assert_true(lk >= 0);
	assert_int_equal(flock(lk, LOCK_EX), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];
		close(lk); /* the lock stays the parent's */
		_exit(attach_listen(path, err, sizeof(err)) >= 0 ? 0 : 1);
	}
	/* While another holds the lock (another batch between its probe and its bind), the
	 * child neither probes nor binds. */
	uint64_t end = now_ns() + scaled_ns(10 * NS_PER_S);
	while (!waits_for_lock(pid) && now_ns() < end)
		nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
	assert_true(waits_for_lock(pid));
	assert_false(exists(path));
	close(lk);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(exists(path));
}

static void test_attach_probe_tells_live_stale_missing_and_not_a_socket(void **state)
{
	struct fixture *f = made(state);
	char live[ATTACH_PATH_MAX], stale[ATTACH_PATH_MAX], none[ATTACH_PATH_MAX];
	char file[ATTACH_PATH_MAX], link[ATTACH_PATH_MAX];
	sock(f, "live", live);
	sock(f, "stale", stale);
	sock(f, "none", none);
	sock(f, "file", file);
	sock(f, "link", link);
	int fd = attach_listen(live, f->err, sizeof(f->err));
	assert_true(fd >= 0);
	int gone = attach_listen(stale, f->err, sizeof(f->err));
	assert_true(gone >= 0);
	close(gone);
	touch(file, "");
	assert_int_equal(symlink(live, link), 0);

	assert_int_equal(attach_probe(live, 1000), 1);
	assert_int_equal(attach_probe(stale, 1000), 0);
	assert_int_equal(attach_probe(none, 1000), -ENOENT);
	assert_int_equal(attach_probe(file, 1000), -ENOTSOCK);
	assert_int_equal(attach_probe(link, 1000), -ENOTSOCK);
	close(fd);
}

static void test_attach_peer_gives_uid_and_pid_and_allows_ours_and_root(void **state)
{
	(void)state;
	int sv[2];
	uid_t uid = 12345;
	pid_t pid = 0;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(attach_peer(sv[0], &uid, &pid), 0);
	assert_int_equal(uid, getuid());
	assert_int_equal(pid, getpid());
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(attach_peer(-1, &uid, &pid), -EBADF);

	assert_true(attach_peer_allowed(getuid()));
	assert_true(attach_peer_allowed(0));
	assert_int_equal(attach_peer_allowed(getuid() + 1), getuid() + 1 == 0);
	if (getuid() != 65534)
		assert_false(attach_peer_allowed(65534));
}

static void test_attach_connect_reaches_a_live_socket_and_explains_the_rest(void **state)
{
	struct fixture *f = made(state);
	char live[ATTACH_PATH_MAX], stale[ATTACH_PATH_MAX], file[ATTACH_PATH_MAX], want[600];
	sock(f, "live", live);
	sock(f, "stale", stale);
	sock(f, "file", file);
	int lfd = attach_listen(live, f->err, sizeof(f->err));
	assert_true(lfd >= 0);
	int gone = attach_listen(stale, f->err, sizeof(f->err));
	assert_true(gone >= 0);
	close(gone);
	touch(file, "");

	int fd = attach_connect(live, f->err, sizeof(f->err));
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
	int afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	uid_t uid;
	pid_t pid;
	assert_int_equal(attach_peer(afd, &uid, &pid), 0);
	assert_int_equal(pid, getpid());
	close(afd);
	close(fd);

	assert_int_equal(attach_connect(stale, f->err, sizeof(f->err)), -ECONNREFUSED);
	snprintf(want, sizeof(want),
		 "%s: Connection refused: the batch is gone (a dead socket: pooltop ls --wipe "
		 "removes it)",
		 stale);
	assert_string_equal(f->err, want);
	assert_int_equal(attach_connect(file, f->err, sizeof(f->err)), -ENOTSOCK);
	snprintf(want, sizeof(want), "%s: not a socket", file);
	assert_string_equal(f->err, want);
	sock(f, "none", file);
	assert_int_equal(attach_connect(file, f->err, sizeof(f->err)), -ENOENT);
	close(lfd);
}

/* In f->dir: a, b live (b with an old b.done), c dead, d.done alone, e dead with e.done, and
 * junk. The live listeners' fds into fds[2]. */
static void populate(struct fixture *f, int fds[2])
{
	char p[ATTACH_PATH_MAX + 16];
	int fd;
	sock(f, "c", p);
	fd = attach_listen(p, f->err, sizeof(f->err));
	assert_true(fd >= 0);
	close(fd);
	sock(f, "e", p);
	fd = attach_listen(p, f->err, sizeof(f->err));
	assert_true(fd >= 0);
	close(fd);
	sock(f, "b", p);
	fds[1] = attach_listen(p, f->err, sizeof(f->err));
	assert_true(fds[1] >= 0);
	sock(f, "a", p);
	fds[0] = attach_listen(p, f->err, sizeof(f->err));
	assert_true(fds[0] >= 0);
	snprintf(p, sizeof(p), "%s/d.done", f->dir);
	touch(p, "{}\n");
	snprintf(p, sizeof(p), "%s/e.done", f->dir);
	touch(p, "{}\n");
	snprintf(p, sizeof(p), "%s/b.done", f->dir);
	touch(p, "{}\n");
	/* Junk: other files, a .sock that is not a socket, a live socket with a bad name. */
	snprintf(p, sizeof(p), "%s/junk.txt", f->dir);
	touch(p, "");
	snprintf(p, sizeof(p), "%s/.sock", f->dir);
	touch(p, "");
	snprintf(p, sizeof(p), "%s/x.sock", f->dir);
	touch(p, "");
	snprintf(p, sizeof(p), "%s/sub.done", f->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/bad name.sock", f->dir);
	fd = attach_listen(p, f->err, sizeof(f->err));
	assert_true(fd >= 0);
	close(fd);
}

static void test_attach_list_gives_states_sorted_by_name(void **state)
{
	struct fixture *f = made(state);
	int fds[2];
	populate(f, fds);
	struct attach_entry *v = NULL;
	int n = attach_list(f->dir, &v, f->err, sizeof(f->err));
	assert_int_equal(n, 5);
	const char *names = "abcde";
	const enum attach_entry_state states[] = {ATTACH_LIVE, ATTACH_LIVE, ATTACH_DEAD,
						  ATTACH_FINISHED, ATTACH_FINISHED};
	const char *suffix[] = {".sock", ".sock", ".sock", ".done", ".done"};
	for (int i = 0; i < n; i++) {
		char want[ATTACH_PATH_MAX + 16];
		assert_int_equal(v[i].name[0], names[i]);
		assert_int_equal(v[i].name[1], '\0');
		assert_int_equal(v[i].state, states[i]);
		snprintf(want, sizeof(want), "%s/%c%s", f->dir, names[i], suffix[i]);
		assert_string_equal(v[i].path, want);
	}
	free(v);
	close(fds[0]);
	close(fds[1]);

	char missing[ATTACH_PATH_MAX + 8];
	snprintf(missing, sizeof(missing), "%s/nope", f->tmp);
	assert_int_equal(attach_list(missing, &v, f->err, sizeof(f->err)), -ENOENT);
	assert_non_null(strstr(f->err, missing));
}

static void test_attach_list_of_an_empty_directory_is_empty(void **state)
{
	struct fixture *f = made(state);
	struct attach_entry *v = (void *)1;
	assert_int_equal(attach_list(f->dir, &v, f->err, sizeof(f->err)), 0);
	assert_null(v);
}

/* Entries as attach_list gives them: "name:L|D|F" each. */
static int entries(struct attach_entry *v, const char *const *spec, int n)
{
	for (int i = 0; i < n; i++) {
		const char *colon = strchr(spec[i], ':');
		memset(&v[i], 0, sizeof(v[i]));
		memcpy(v[i].name, spec[i], (size_t)(colon - spec[i]));
		v[i].state = colon[1] == 'L'   ? ATTACH_LIVE
			     : colon[1] == 'D' ? ATTACH_DEAD
					       : ATTACH_FINISHED;
	}
	return n;
}

static void test_attach_resolve_takes_none_exact_prefix_or_pid(void **state)
{
	(void)state;
	struct attach_entry v[8];
	char err[512];
	const char *one[] = {"abc:D", "build:L", "python3-42:F"};
	int n = entries(v, one, 3);
	assert_int_equal(attach_resolve(v, n, NULL, err, sizeof(err)), 1);
	assert_int_equal(attach_resolve(v, n, "", err, sizeof(err)), 1);
	assert_int_equal(attach_resolve(v, 1, NULL, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "no batch is running (pooltop ls lists them)");
	assert_int_equal(attach_resolve(v, 0, NULL, err, sizeof(err)), -ENOENT);

	const char *many[] = {"ab:L", "abc:L", "abd:D", "python3-42:L", "sh-42:F", "sh-7:L"};
	n = entries(v, many, 6);
	assert_int_equal(attach_resolve(v, n, NULL, err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "4 batches run: name one (pooltop ls lists them)");
	/* Exact beats prefix. */
	assert_int_equal(attach_resolve(v, n, "ab", err, sizeof(err)), 0);
	assert_int_equal(attach_resolve(v, n, "abd", err, sizeof(err)), 2);
	assert_int_equal(attach_resolve(v, n, "py", err, sizeof(err)), 3);
	assert_int_equal(attach_resolve(v, n, "sh-", err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "\"sh-\" matches 2 batches: sh-42, sh-7");
	assert_int_equal(attach_resolve(v, 3, "a", err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "\"a\" matches 3 batches: ab, abc, abd");
	/* A PID names the batch "name-PID"; two of them are ambiguous too. */
	assert_int_equal(attach_resolve(v, n, "7", err, sizeof(err)), 5);
	assert_int_equal(attach_resolve(v, n, "42", err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "\"42\" matches 2 batches: python3-42, sh-42");
	assert_int_equal(attach_resolve(v, n, "2", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "no batch named \"2\" (pooltop ls lists them)");
	assert_int_equal(attach_resolve(v, n, "zz", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "no batch named \"zz\" (pooltop ls lists them)");
}

static void test_attach_wipe_removes_dead_and_finished_and_keeps_live(void **state)
{
	struct fixture *f = made(state);
	int fds[2];
	populate(f, fds);
	struct attach_entry *v = NULL;
	int n = attach_list(f->dir, &v, f->err, sizeof(f->err));
	assert_int_equal(n, 5);
	assert_int_equal(attach_wipe(f->dir, v, n), 3); /* c, d, e */
	free(v);
	const char *kept[] = {"a.sock", "b.sock", "b.done", "junk.txt", "x.sock", "bad name.sock"};
	const char *gone[] = {"c.sock", "d.done", "e.sock", "e.done"};
	char p[ATTACH_PATH_MAX + 16];
	for (size_t i = 0; i < ARRAY_SIZE(kept); i++) {
		snprintf(p, sizeof(p), "%s/%s", f->dir, kept[i]);
		assert_true(exists(p));
	}
	for (size_t i = 0; i < ARRAY_SIZE(gone); i++) {
		snprintf(p, sizeof(p), "%s/%s", f->dir, gone[i]);
		assert_false(exists(p));
	}
	n = attach_list(f->dir, &v, f->err, sizeof(f->err));
	assert_int_equal(n, 2);
	free(v);
	close(fds[0]);
	close(fds[1]);
}

static void test_attach_wipe_keeps_a_name_taken_again_since_the_listing(void **state)
{
	struct fixture *f = made(state);
	char path[ATTACH_PATH_MAX];
	sock(f, "job", path);
	int fd = attach_listen(path, f->err, sizeof(f->err));
	assert_true(fd >= 0);
	close(fd);
	struct attach_entry *v = NULL;
	assert_int_equal(attach_list(f->dir, &v, f->err, sizeof(f->err)), 1);
	assert_int_equal(v[0].state, ATTACH_DEAD);
	fd = attach_listen(path, f->err, sizeof(f->err));
	assert_true(fd >= 0);
	assert_int_equal(attach_wipe(f->dir, v, 1), 0);
	assert_int_equal(attach_probe(path, 1000), 1);
	free(v);
	close(fd);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_attach_dir_is_made_0700_and_found_again),
		T(test_attach_dir_with_group_or_other_bits_is_refused),
		T(test_attach_dir_symlink_is_refused_even_to_a_good_directory),
		T(test_attach_dir_owned_by_another_uid_is_refused),
		T(test_attach_dir_too_long_or_relative_tmpdir_is_refused),
		T(test_attach_dir_hold_keeps_a_shared_lock),
		T(test_attach_name_check_takes_the_set_up_to_64),
		T(test_attach_default_name_is_the_command_basename_and_pid),
		T(test_attach_sock_path_too_long_is_refused),
		T(test_attach_listen_makes_a_0600_socket_and_refuses_a_live_name),
		T(test_attach_listen_never_replaces_a_file_that_is_not_a_socket),
		T(test_attach_listen_waits_for_the_directory_lock),
		T(test_attach_probe_tells_live_stale_missing_and_not_a_socket),
		T(test_attach_peer_gives_uid_and_pid_and_allows_ours_and_root),
		T(test_attach_connect_reaches_a_live_socket_and_explains_the_rest),
		T(test_attach_list_gives_states_sorted_by_name),
		T(test_attach_list_of_an_empty_directory_is_empty),
		T(test_attach_resolve_takes_none_exact_prefix_or_pid),
		T(test_attach_wipe_removes_dead_and_finished_and_keeps_live),
		T(test_attach_wipe_keeps_a_name_taken_again_since_the_listing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
