/* A test plugin (tests/wide.sh): each item waits for a shared lock on the file ARG, so that a test
 * holding that file's lock exclusively holds every item until it lets go. The item is its own
 * output, with a newline. Built alone, as a plugin is: it asks for flock and O_CLOEXEC itself. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "pooltop-plugin.h"

int pooltop_plugin_init(const char *arg, unsigned slot, void **state, const char **why)
{
	(void)slot;
	int *fd = malloc(sizeof(*fd));
	if (!fd)
		return -ENOMEM;
	*fd = open(arg ? arg : "", O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		int err = errno;
		free(fd);
		*why = "cannot open the lock file";
		return -err;
	}
	*state = fd;
	return 0;
}

int pooltop_plugin_run(void *state, const char *item, size_t len, struct pooltop_output *out)
{
	int fd = *(int *)state;
	while (flock(fd, LOCK_SH) < 0)
		if (errno != EINTR)
			return 1;
	flock(fd, LOCK_UN);
	out->write(out, item, len);
	out->write(out, "\n", 1);
	return 0;
}

void pooltop_plugin_fini(void *state)
{
	int *fd = state;
	close(*fd);
	free(fd);
}
