/* The built-in demos. */
#ifndef POOLTOP_DEMO_H
#define POOLTOP_DEMO_H

#include <stdbool.h>
#include <stddef.h>

struct config;

/* The demo batch for the dashboard (with a hanging item), or for headless runs (without). */
char **demo_items(bool dashboard, size_t *n);

/* pooltop demo exitcodes: the five functions of PyMOTW's exit-code example run in a pool, the
 * last terminated while it runs, and "NAME.exitcode = CODE" printed for each, in order, as the
 * example's output. cfg: the command line (-j). Returns the exit status (0). */
int demo_exitcodes(const struct config *cfg);

#endif
