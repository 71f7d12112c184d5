/* The dashboard's terminal: /dev/tty opened for curses whatever stdin and stdout are, its state
 * saved first and restored on every way out — a normal end, a signal to pooltop, a crash. */
#ifndef POOLTOP_TERMINAL_H
#define POOLTOP_TERMINAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Open /dev/tty, check that TERM is known, save the terminal's modes and file flags and start
 * curses on it. Returns 0, or -errno with a one-line reason in why ("no terminal: /dev/tty: No
 * such device or address", "unknown terminal type 'foo'"). Only one terminal at a time. */
int terminal_open(char *why, size_t len);
/* The terminal's descriptor and stream (valid between terminal_open and terminal_close). */
int terminal_fd(void);
/* End curses and put back the saved modes and file flags (no O_NONBLOCK left). Idempotent. */
void terminal_close(void);
/* Clear O_NONBLOCK on the terminal again (libuv's poll sets it on the shared description). */
void terminal_fix_blocking(void);

/* In a child forked after terminal_open: let go of the terminal without touching it. */
void terminal_forget(void);

#endif
