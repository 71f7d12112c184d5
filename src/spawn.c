/* Jobs started from a worker: vfork + execvp in a new process group, retried while the system
 * lacks a resource, and the termination sequence.
 *
 * The child of vfork shares the worker's memory until it execs: it only makes system calls
 * (prctl, setpgid, dup2, sigaction, execvp, which builds its paths on the stack) and reports a
 * failed exec through c->err, which the worker reads once vfork returns. The child has its own
 * signal table (no CLONE_SIGHAND), so resetting SIGPIPE there leaves the worker's alone. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shm.h"
#include "util.h"

struct spawn_child {
	char *const *argv;
	char *const *envp;
	const int *fds;
	_Atomic int32_t *publish;
	pid_t worker;
	volatile int err;
};

static __attribute__((noinline)) _Noreturn void spawn_child_exec(struct spawn_child *c)
{
	/* Until it execs, the child is not a worker: say so in ps (and to whoever counts
	 * pooltop's processes by name). */
	prctl(PR_SET_NAME, "pooltop-spawn");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != c->worker) {
		c->err = ESRCH;
		_exit(127);
	}
	setpgid(0, 0);
	/* Published before the exec, not after vfork returns: a worker killed in between
	 * would leave a group nobody knows of. */
	if (c->publish)
		atomic_store(c->publish, getpid());
	for (int i = 0; i < 3; i++) {
		if (c->fds[i] < 0)
			continue;
		if (c->fds[i] == i)
			fcntl(i, F_SETFD, 0); /* dup2 onto itself would leave FD_CLOEXEC set */
		else
			dup2(c->fds[i], i);
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	execvpe(c->argv[0], c->argv, c->envp ? c->envp : environ);
	c->err = errno ? errno : ENOEXEC;
	_exit(127);
}

/* Start the child with fds as its stdin, stdout, stderr (see spawn_start): 0 and *pid, or the
 * negative errno of vfork or of the exec, saying in *call which (SHM_START_FORK, _EXEC). */
static int spawn_vfork(char *const *argv, char *const *envp, const int fds[3],
		       _Atomic int32_t *publish, pid_t *pid, unsigned *call)
{
	struct spawn_child c = {.argv = argv,
				.envp = envp,
				.fds = fds,
				.publish = publish,
				.worker = getpid(),
				.err = 0};
	pid_t child = vfork();
	if (child < 0) {
		*call = SHM_START_FORK;
		return -errno;
	}
	if (child == 0)
		spawn_child_exec(&c);
	if (c.err) {
		int err = c.err;
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			continue;
		if (publish)
			atomic_store(publish, 0);
		*call = SHM_START_EXEC;
		return -err;
	}
	*pid = child;
	return 0;
}

/* One try of spawn_start: the pipes, then the job. */
static int spawn_try(const struct spawn_req *req, int ends[3], pid_t *pid, unsigned *call)
{
	int fds[3], mine[3] = {-1, -1, -1}, theirs[3] = {-1, -1, -1};
	int err = 0;
	for (int i = 0; i < 3; i++) {
		fds[i] = req->how[i];
		if (req->how[i] != SPAWN_PIPE)
			continue;
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0) {
			err = -errno;
			*call = SHM_START_PIPE;
			goto close_pipes;
		}
		/* The job reads its stdin and writes the others. */
		theirs[i] = fds[i] = i == 0 ? p[0] : p[1];
		mine[i] = i == 0 ? p[1] : p[0];
	}
	err = spawn_vfork(req->argv, req->envp, fds, req->publish, pid, call);
close_pipes:
	for (int i = 0; i < 3; i++) {
		if (theirs[i] >= 0)
			close(theirs[i]);
		if (err && mine[i] >= 0)
			close(mine[i]);
		ends[i] = err ? -1 : mine[i];
	}
	return err;
}

bool spawn_error_temporary(int err)
{
	return err == -EAGAIN || err == -ENOMEM || err == -EMFILE || err == -ENFILE;
}

const char *spawn_call_name(unsigned call)
{
	switch ((enum shm_start_call)call) {
	case SHM_START_PIPE:
		return "pipe";
	case SHM_START_FORK:
		return "fork";
	case SHM_START_EXEC:
		return "exec";
	case SHM_START_NONE:
		break;
	}
	return "?";
}

/* Sleep ns, through signals the worker handles (none stops it: a signal that ends the worker
 * ends the wait with it). */
static void spawn_sleep(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / NS_PER_S), .tv_nsec = (long)(ns % NS_PER_S)};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		continue;
}

int spawn_start(const struct spawn_req *req, int ends[3], pid_t *pid)
{
	struct shm_start *rep = req->report;
	uint64_t wait_ns = SPAWN_RETRY_FIRST_NS;
	bool failing = false;
	for (;;) {
		unsigned call = SHM_START_NONE;
		int err = spawn_try(req, ends, pid, &call);
		if (err == 0 || !spawn_error_temporary(err)) {
			if (failing && rep)
				atomic_store(&rep->failing, 0);
			return err;
		}
		if (rep) {
			if (!failing) {
				atomic_store(&rep->retries, 0);
				atomic_store(&rep->since_ns, now_ns());
			}
			atomic_store(&rep->err, -err);
			atomic_store(&rep->call, call);
			atomic_fetch_add(&rep->retries, 1);
			if (!failing) {
				/* Last: the parent reads the episode's fields once it sees it. */
				atomic_store(&rep->failing, 1);
				atomic_fetch_add(&rep->episodes, 1);
			}
		}
		if (!failing && req->waiting)
			req->waiting(req->waiting_data);
		failing = true;
		/* Between two tries the item has not started: a worker stopped now has not run
		 * it. Cleared before the next try, which may start it. */
		if (rep)
			atomic_store(&rep->waiting_seq, req->seq);
		spawn_sleep(wait_ns);
		if (rep)
			atomic_store(&rep->waiting_seq, 0);
		wait_ns = MIN(wait_ns * 2, SPAWN_RETRY_MAX_NS);
	}
}

int spawn_failure_code(int err)
{
	return err == -ENOENT || err == -ENOTDIR || err == -ENAMETOOLONG || err == -ELOOP ? 127
											  : 126;
}

static int spawn_check_file(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -ENOENT;
	if (S_ISDIR(st.st_mode) || access(path, X_OK) < 0)
		return -EACCES;
	return 0;
}

int spawn_check_command(const char *name)
{
	if (*name == '\0')
		return -ENOENT;
	if (strchr(name, '/'))
		return spawn_check_file(name);
	const char *path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin";
	int found = -ENOENT;
	struct buf b = {0};
	for (const char *p = path;; p++) {
		size_t n = strcspn(p, ":");
		buf_reset(&b);
		if (n == 0)
			buf_putc(&b, '.'); /* an empty PATH element is the current directory */
		else
			buf_append(&b, p, n);
		buf_putc(&b, '/');
		buf_append(&b, name, strlen(name));
		int r = spawn_check_file(b.data);
		if (r == 0) {
			found = 0;
			break;
		}
		if (r == -EACCES)
			found = -EACCES; /* execvp goes on looking, and reports EACCES at the end */
		p += n;
		if (*p == '\0')
			break;
	}
	buf_free(&b);
	return found;
}

int spawn_stop_next(struct spawn_stop *s, uint64_t now)
{
	int sig = SIGKILL;
	uint64_t wait_ms = 25;
	if (s->stage < s->seq->n) {
		sig = s->seq->sig[s->stage];
		wait_ms = s->seq->ms[s->stage];
	}
	s->stage++;
	if (!s->first_sig)
		s->first_sig = sig;
	s->next_ns = now + MAX(wait_ms, 1) * NS_PER_MS;
	return sig;
}

void spawn_stop_step(struct spawn_stop *s, pid_t pgid, uint64_t now)
{
	int sig = spawn_stop_next(s, now);
	kill(-pgid, sig);
	if (sig != SIGKILL && sig != SIGCONT)
		kill(-pgid, SIGCONT); /* a stopped job acts on it only once continued */
}

int spawn_stop_poll(struct spawn_stop *s, pid_t pgid, uint64_t start, uint64_t timeout_ns)
{
	if (!timeout_ns && !s->stage)
		return -1;
	uint64_t now = now_ns();
	uint64_t due = s->stage ? s->next_ns : start + timeout_ns;
	if (now >= due) {
		spawn_stop_step(s, pgid, now);
		due = s->next_ns;
	}
	return (int)MIN((due - now + NS_PER_MS - 1) / NS_PER_MS, 1000);
}
