/* A plugin that talks on stderr: each item writes "noisy ITEM" there with fprintf, and the item
 * itself as its output. The tests use it to show that what a plugin writes on stderr during an
 * item is that item's stderr (--results). */
#include <stdio.h>

#include "pooltop-plugin.h"

int pooltop_plugin_run(void *state, const char *item, size_t len, struct pooltop_output *out)
{
	(void)state;
	fprintf(stderr, "noisy %.*s\n", (int)len, item);
	return out->write(out, item, len) == 0 && out->write(out, "\n", 1) == 0 ? 0 : 1;
}
