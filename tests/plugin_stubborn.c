/* A plugin that will not stop: on the item "stuck" it ignores SIGTERM and waits for ever, as a
 * worker wedged in a library that blocks signals would. Any other item succeeds at once. The
 * tests use it to show that every way of stopping a batch ends (--term-seq ends in SIGKILL). */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "pooltop-plugin.h"

int pooltop_plugin_run(void *state, const char *item, size_t len, struct pooltop_output *out)
{
	(void)state;
	(void)out;
	if (len == 5 && memcmp(item, "stuck", 5) == 0) {
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		for (;;)
			pause();
	}
	return 0;
}
