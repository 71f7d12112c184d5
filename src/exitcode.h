/* Exit codes with Python's Process.exitcode semantics: 0 success, N>0 the process exited
 * with status N, -N the process was killed by signal N (a shell shows 128+N). Pure functions:
 * no libuv, no curses. */
#ifndef POOLTOP_EXITCODE_H
#define POOLTOP_EXITCODE_H

#include <stdbool.h>
#include <stddef.h>

/* A wait status (from waitpid) to Python's exit code. *core, when not NULL, is set to
 * whether a core was dumped. A stopped/continued status (not an ending) returns 0 with
 * *core false; callers only pass statuses of processes that ended. */
int exitcode_from_status(int wstatus, bool *core);

/* The signal's name without a number, "SIGTERM"; for a signal with no common name,
 * "SIGRTMIN+3" or "SIG99". Never NULL; returns a static or thread-unsafe static buffer. */
const char *exitcode_signal_name(int sig);

/* Parse a signal given as "TERM", "SIGTERM", "term" or "15". Returns the number, or -1. */
int exitcode_signal_parse(const char *s);

/* What a POSIX shell shows in $? for this exit code: N for N>=0 (masked to 0..255), 128+N for -N.
 */
int exitcode_shell(int code);

/* The words for the UI, written into buf (always NUL-terminated, truncated to len):
 *   0                      "0"
 *   3                      "3"
 *   -15                    "-15 SIGTERM"
 *   -11 with core          "-11 SIGSEGV (core dumped)"
 * Returns the length that was (or would have been) written, as snprintf. */
int exitcode_format(int code, bool core, char *buf, size_t len);

/* The long form for an event log line:
 *   "exited 0 (success)", "exited 3", "exited -15 (SIGTERM; a shell shows 143)",
 *   "exited -11 (SIGSEGV, core dumped; a shell shows 139)". */
int exitcode_describe(int code, bool core, char *buf, size_t len);

#endif
