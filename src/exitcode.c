/* Exit codes with Python's Process.exitcode semantics, and the words the UI and the event log
 * use for them. Pure functions of their arguments (the signal-name buffer aside). */
#include "exitcode.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "util.h"

/* The highest signal number the kernel can deliver on Linux (_NSIG - 1). */
#define EXITCODE_SIG_MAX 64

/* The standard (non-realtime) signals, indexed by number. Numbers missing here that are below
 * SIGRTMIN (32 and 33, kept by glibc for its threads) print as "SIG32". */
static const char *const exitcode_signal_names[] = {
	[SIGHUP] = "SIGHUP",	   [SIGINT] = "SIGINT",	  [SIGQUIT] = "SIGQUIT",
	[SIGILL] = "SIGILL",	   [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
	[SIGBUS] = "SIGBUS",	   [SIGFPE] = "SIGFPE",	  [SIGKILL] = "SIGKILL",
	[SIGUSR1] = "SIGUSR1",	   [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
	[SIGPIPE] = "SIGPIPE",	   [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
#ifdef SIGSTKFLT
	[SIGSTKFLT] = "SIGSTKFLT",
#endif
	[SIGCHLD] = "SIGCHLD",	   [SIGCONT] = "SIGCONT", [SIGSTOP] = "SIGSTOP",
	[SIGTSTP] = "SIGTSTP",	   [SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU",
	[SIGURG] = "SIGURG",	   [SIGXCPU] = "SIGXCPU", [SIGXFSZ] = "SIGXFSZ",
	[SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH",
	[SIGIO] = "SIGIO",
#ifdef SIGPWR
	[SIGPWR] = "SIGPWR",
#endif
	[SIGSYS] = "SIGSYS",
};

int exitcode_from_status(int wstatus, bool *core)
{
	int code = 0;
	bool dumped = false;

	if (WIFEXITED(wstatus)) {
		code = WEXITSTATUS(wstatus);
	} else if (WIFSIGNALED(wstatus)) {
		code = -WTERMSIG(wstatus);
		dumped = WCOREDUMP(wstatus);
	}
	if (core)
		*core = dumped;
	return code;
}

const char *exitcode_signal_name(int sig)
{
	/* Thread-local so that two threads naming odd signals do not overwrite each other. */
	static _Thread_local char name[32];

	if (sig > 0 && (size_t)sig < ARRAY_SIZE(exitcode_signal_names) &&
	    exitcode_signal_names[sig])
		return exitcode_signal_names[sig];
	if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
		/* The names kill -l prints: the lower half counts up from SIGRTMIN, the upper half
		 * down from SIGRTMAX. */
		int up = sig - SIGRTMIN;
		int down = SIGRTMAX - sig;
		if (up == 0)
			return "SIGRTMIN";
		if (down == 0)
			return "SIGRTMAX";
		if (up <= (SIGRTMAX - SIGRTMIN) / 2)
			snprintf(name, sizeof(name), "SIGRTMIN+%d", up);
		else
			snprintf(name, sizeof(name), "SIGRTMAX-%d", down);
		return name;
	}
	snprintf(name, sizeof(name), "SIG%d", sig);
	return name;
}

int exitcode_signal_parse(const char *s)
{
	if (!s || !*s)
		return -1;
	if (isdigit((unsigned char)s[0])) {
		int n = 0;
		for (const char *p = s; *p; p++) {
			if (!isdigit((unsigned char)*p))
				return -1;
			n = n * 10 + (*p - '0');
			if (n > EXITCODE_SIG_MAX)
				return -1;
		}
		return n >= 1 ? n : -1;
	}
	/* Match against the printed names, so that every name exitcode_signal_name gives
	 * ("SIGRTMIN+3" too) parses back. */
	for (int sig = 1; sig <= EXITCODE_SIG_MAX; sig++) {
		const char *name = exitcode_signal_name(sig);
		if (!strcasecmp(s, name) || !strcasecmp(s, name + 3))
			return sig;
	}
	return -1;
}

/* The signal number in a negative exit code; unsigned arithmetic so that INT_MIN cannot
 * overflow. */
static int exitcode_signal_of(int code)
{
	return (int)(0u - (unsigned)code);
}

int exitcode_shell(int code)
{
	if (code >= 0)
		return code & 0xff;
	return 128 + (exitcode_signal_of(code) & 0x7f);
}

int exitcode_format(int code, bool core, char *buf, size_t len)
{
	if (code >= 0)
		return snprintf(buf, len, "%d", code);
	return snprintf(buf, len, "%d %s%s", code, exitcode_signal_name(exitcode_signal_of(code)),
			core ? " (core dumped)" : "");
}

int exitcode_describe(int code, bool core, char *buf, size_t len)
{
	if (code == 0)
		return snprintf(buf, len, "exited 0 (success)");
	if (code > 0)
		return snprintf(buf, len, "exited %d", code);
	return snprintf(buf, len, "exited %d (%s%s; a shell shows %d)", code,
			exitcode_signal_name(exitcode_signal_of(code)), core ? ", core dumped" : "",
			exitcode_shell(code));
}
