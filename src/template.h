/* A command line with GNU parallel's replacement strings, expanded once per item into an argv
 * for execvp: never through a shell, so an item reaches the command as one argument, byte for
 * byte.
 *
 *   {}    the item                  {.}   the item without its extension
 *   {/}   its basename              {//}  its dirname
 *   {/.}  its basename without extension
 *   {#}   the item's sequence number (1, 2, ... in input order)
 *   {%}   the worker's slot number plus one (GNU parallel counts slots from 1)
 *   {N}   the value of input source N (1, 2, ...), and its forms {N.} {N/} {N//} {N/.}
 *
 * A command with none of them gets the item appended as its last argument. Any other brace is
 * literal.
 *
 * With several input sources (template_set_values) an item holds one value per source,
 * separated by NUL bytes: {N} is value N (empty past the last), {} and its forms all the
 * values joined with a space (as GNU parallel's), and a command without replacement strings
 * gets each value as an argument of its own. With one source {1} is the item and {2}... are
 * empty. */
#ifndef POOLTOP_TEMPLATE_H
#define POOLTOP_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct template;

/* Parse the NULL-terminated argv (copied; argv[0] must exist). Never fails. */
struct template *template_new(char *const *argv);
void template_free(struct template *t);

/* Items are values separated by NUL bytes (several input sources, or --colsep's columns). */
void template_set_values(struct template *t, bool values);
bool template_values(const struct template *t);

/* True when some argument holds a replacement string. */
bool template_has_placeholders(const struct template *t);
/* The command word itself when it holds no replacement string (it can be checked before the
 * run), else NULL. Borrowed from t. */
const char *template_fixed_command(const struct template *t);

/* An expanded argv: the strings live in bytes, argv points into them. Reused from item to
 * item; template_args_free releases it. */
struct template_args {
	struct buf bytes;
	size_t *offs;
	char **argv; /* NULL-terminated */
	size_t argc, cap;
};

/* Expand t for one item into a (its previous contents are dropped). The item's bytes are
 * copied as they are; unless t takes values, an item holding a NUL byte would be cut there, so
 * the caller refuses such items first. */
void template_expand(const struct template *t, const char *item, size_t len, uint64_t seq,
		     unsigned slot, struct template_args *a);
void template_args_free(struct template_args *a);

/* Append argv as a shell would read it back: words separated by spaces, each quoted with
 * single quotes when it holds anything but [A-Za-z0-9_./:=@%+,-] (the joblog's Command); the
 * first also when sh or bash would read it as an assignment or a keyword (FOO=1, time). */
void template_quote_argv(struct buf *b, char *const *argv);

#endif
