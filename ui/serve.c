/* Where a run serves its batch, and the server started on a front end's loop. */
#include "serve.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attach_dir.h"

/* What the default name is made of: the command, the built-in's or the plugin's name. */
static void name_basis(const struct config *cfg, char *buf, size_t len)
{
	const char *b = cfg->command		? cfg->command[0]
			: cfg->builtin		? cfg->builtin
			: cfg->plugin		? cfg->plugin
			: cfg->mode == CLI_DEMO ? "demo"
						: "pooltop";
	snprintf(buf, len, "%s", b);
	/* squares:1000 -> squares; lib.so:ARG -> lib.so */
	if (!cfg->command)
		buf[strcspn(buf, ":")] = '\0';
}

int serve_paths(const struct config *cfg, pid_t pid, struct serve_paths *p, char *err,
		size_t errlen)
{
	memset(p, 0, sizeof(*p));
	if (cfg->socket) {
		if (strlen(cfg->socket) >= ATTACH_PATH_MAX) {
			snprintf(err, errlen,
				 "--socket %s: longer than a socket's path may be (%d)",
				 cfg->socket, ATTACH_PATH_MAX - 1);
			return -ENAMETOOLONG;
		}
		snprintf(p->path, sizeof(p->path), "%s", cfg->socket);
		const char *base = strrchr(cfg->socket, '/');
		base = base ? base + 1 : cfg->socket;
		size_t n = strcspn(base, ".");
		if (cfg->name)
			snprintf(p->name, sizeof(p->name), "%s", cfg->name);
		else
			snprintf(p->name, sizeof(p->name), "%.*s", (int)MIN(n, ATTACH_NAME_MAX),
				 base);
		snprintf(p->out, sizeof(p->out), "%s.out", cfg->socket);
		snprintf(p->done, sizeof(p->done), "%s.done", cfg->socket);
		return 0;
	}
	char dir[ATTACH_PATH_MAX];
	int r = attach_dir(dir, sizeof(dir), err, errlen);
	if (r < 0)
		return r;
	if (cfg->name) {
		snprintf(p->name, sizeof(p->name), "%s", cfg->name);
	} else {
		char basis[256];
		name_basis(cfg, basis, sizeof(basis));
		/* Short enough for the socket's path under a long directory (108 bytes in all):
		 * the command's name is cut, the pid kept. */
		size_t dirlen = strlen(dir), fit = sizeof(p->name);
		char suffix[24];
		size_t slen = (size_t)snprintf(suffix, sizeof(suffix), "-%ld", (long)pid);
		if (dirlen + 1 + sizeof(p->name) - 1 + 5 >= ATTACH_PATH_MAX &&
		    ATTACH_PATH_MAX > dirlen + 6 + slen + 2)
			fit = ATTACH_PATH_MAX - dirlen - 6; /* NUL included: the name's room */
		attach_default_name(basis, pid, p->name, MIN(fit, sizeof(p->name)));
	}
	r = attach_sock_path(dir, p->name, p->path, sizeof(p->path), err, errlen);
	if (r < 0)
		return r;
	snprintf(p->out, sizeof(p->out), "%s/%s.out", dir, p->name);
	snprintf(p->done, sizeof(p->done), "%s/%s.done", dir, p->name);
	return 0;
}

int serve_start(uv_loop_t *loop, struct view *v, const struct serve_paths *p, const char *what,
		bool jobs, bool out, bool done, struct attach_server **server, char *err,
		size_t errlen)
{
	/* The directory held (a shared flock) while the batch serves: systemd-tmpfiles does not
	 * age a directory locked so. */
	char dir[sizeof(p->path)];
	snprintf(dir, sizeof(dir), "%s", p->path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	int dir_fd = slash ? attach_dir_hold(*dir ? dir : "/") : -1;
	struct attach_server_config c = {
		.path = p->path,
		.name = p->name,
		.what = what,
		.jobs = jobs,
		.out = out ? p->out : NULL,
		.done = done ? p->done : NULL,
		.dir_fd = dir_fd < 0 ? -1 : dir_fd,
	};
	char why[512];
	int r = attach_server_new(loop, v, &c, server, why, sizeof(why));
	if (r == -EADDRINUSE)
		snprintf(err, errlen,
			 "the name \"%s\" is in use (%s answers): choose another with "
			 "--name",
			 p->name, p->path);
	else if (r < 0)
		snprintf(err, errlen, "%s", why);
	if (r < 0 && dir_fd >= 0)
		close(dir_fd);
	if (r == 0) {
		/* The name is this batch's now: an earlier batch's record of it is not. */
		char tmp[sizeof(p->done) + 8];
		snprintf(tmp, sizeof(tmp), "%s.tmp", p->done);
		unlink(p->done);
		unlink(tmp);
	}
	return r;
}
