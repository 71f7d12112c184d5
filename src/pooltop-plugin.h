/* pooltop plugin interface, version 1: a shared object whose functions pooltop calls in each
 * worker process, as `pooltop --plugin FILE.so[:ARG]`.
 *
 * Build one with:  cc -shared -fPIC $(pkg-config --cflags pooltop-plugin) -o my.so my.c
 *
 * Lifecycle, in each worker process (a fork of pooltop; one thread):
 *   pooltop_plugin_init   once, before the first item (optional)
 *   pooltop_plugin_run    once per item (required)
 *   pooltop_plugin_fini   once when the worker leaves gracefully: a join, the end of the batch,
 *                         --max-items-per-worker (optional). Not when the worker is terminated
 *                         (SIGTERM) or killed: as Python's multiprocessing, a terminated worker
 *                         runs no cleanup.
 * The shared object is loaded in each worker (and once in pooltop itself, only to check that
 * it loads and exports pooltop_plugin_run: do the work in init, not in constructors).
 *
 * A worker may be killed at any instruction (a user's key, --timeout, a kill storm): keep no
 * state that must survive it outside what fini flushes. Standard output belongs to pooltop (it
 * goes to the worker's standard error); write results with out->write. Standard error is kept
 * for the dashboard's detail view; what run prints with stdio (fprintf(stderr, ...), perror) is
 * also the item's own stderr, in --results and the detail view's item. */
#ifndef POOLTOP_PLUGIN_H
#define POOLTOP_PLUGIN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define POOLTOP_PLUGIN_VERSION 1

/* Where an item's output goes. */
struct pooltop_output {
	/* Append n bytes of data to the item's output, of any size (past 1 MiB it goes to a
	 * spool file). Returns 0, or -1 when the output could not be kept (the spool's disk is
	 * full): the rest is dropped and the item fails, its output cut there. */
	int (*write)(struct pooltop_output *out, const void *data, size_t n);
	void *opaque; /* pooltop's: do not touch */
};

/* Optional. arg: what followed ':' in --plugin FILE.so:ARG, or NULL when nothing did
 * (borrowed; valid until fini). slot: the worker's slot number, 0 to N-1. Set *state to
 * whatever run and fini need (it starts NULL). Return 0; anything else refuses to start: the
 * worker exits with status 1 after printing the reason (why, when set to a static string, or
 * the return value read as a negative errno), and pooltop stops with that reason if no worker
 * could start. */
int pooltop_plugin_init(const char *arg, unsigned slot, void **state, const char **why);

/* Required. item: len bytes, followed by a NUL that is not part of it (borrowed for the call).
 * Return the item's exit code: 0 success, 1 to 255 failure (the worker lives on). run may also
 * end the process (exit, abort, a crash): the item then takes the process's exit code, Python's
 * way (N, or -SIGNAL), and the worker is replaced without fini. */
int pooltop_plugin_run(void *state, const char *item, size_t len, struct pooltop_output *out);

/* Optional. Release what init made; state is init's. */
void pooltop_plugin_fini(void *state);

#ifdef __cplusplus
}
#endif

#endif
