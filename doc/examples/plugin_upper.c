/* An example pooltop plugin: each item upper-cased. With an ARG, init opens that file once per
 * worker and appends a line for each phase (init, every item, fini), the way a real plugin
 * opens a database or a connection once and flushes it at the end:
 *
 *   cc -shared -fPIC $(pkg-config --cflags pooltop-plugin) -o plugin_upper.so plugin_upper.c
 *   seq 5 | pooltop --headless --plugin ./plugin_upper.so:/tmp/upper.log
 *
 * An ARG that cannot be opened makes init fail, and pooltop stop with the reason. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pooltop-plugin.h"

struct upper {
	FILE *log; /* NULL without an ARG */
	unsigned slot;
	unsigned long items;
};

int pooltop_plugin_init(const char *arg, unsigned slot, void **state, const char **why)
{
	struct upper *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->slot = slot;
	if (arg && *arg) {
		u->log = fopen(arg, "a");
		if (!u->log) {
			int err = errno;
			free(u);
			*why = strerror(err);
			return -err;
		}
		/* Line-buffered: a worker killed mid-batch leaves whole lines behind. */
		setvbuf(u->log, NULL, _IOLBF, 0);
		fprintf(u->log, "init slot %u pid %d\n", slot, (int)getpid());
	}
	*state = u;
	return 0;
}

int pooltop_plugin_run(void *state, const char *item, size_t len, struct pooltop_output *out)
{
	struct upper *u = state;
	char buf[256];
	size_t done = 0;

	while (done < len) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = (char)toupper((unsigned char)item[done + i]);
		if (out->write(out, buf, n) < 0)
			return 1;
		done += n;
	}
	out->write(out, "\n", 1);
	u->items++;
	return 0;
}

void pooltop_plugin_fini(void *state)
{
	struct upper *u = state;
	if (u->log) {
		fprintf(u->log, "fini slot %u pid %d items %lu\n", u->slot, (int)getpid(),
			u->items);
		fclose(u->log);
	}
	free(u);
}
