/* The dashboard's terminal, and its restoration on every way out. */
#include "terminal.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
#include <termios.h>
#include <unistd.h>

/* The saved state: read by the crash handler, so plain statics. */
static int tty = -1;
static FILE *tty_fp;
static SCREEN *screen;
static struct termios saved_modes;
static int saved_flags = -1;
static volatile sig_atomic_t active;
/* Signals that would end pooltop with no handler of its own (the loop handles SIGTERM, SIGHUP,
 * SIGINT, SIGUSR1 and SIGUSR2; SIGXFSZ is ignored, so a write fails with EFBIG instead): the
 * terminal is put back before the process dies of it. The real-time signals too, below. */
static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE,	SIGILL,	 SIGABRT, SIGQUIT, SIGALRM,
			    SIGXCPU, SIGSYS, SIGVTALRM, SIGPROF, SIGTRAP, SIGPWR,  SIGSTKFLT};

/* Install handler for every fatal signal. */
static void fatal_handlers(void (*handler)(int))
{
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], handler);
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		signal(sig, handler);
}

/* Leave the alternate screen, show the cursor, stop mouse reports. */
static const char reset_seq[] = "\033[?1000l\033[?1006l\033[?1049l\033[?25h\033[0m\r\n";

static void term_restore_raw(bool crash)
{
	/* Only async-signal-safe calls: this also runs in a crash handler. */
	if (tty < 0)
		return;
	tcsetattr(tty, TCSANOW, &saved_modes);
	if (saved_flags >= 0)
		fcntl(tty, F_SETFL, saved_flags & ~O_NONBLOCK);
	if (crash) {
		/* curses did not get to say goodbye: leave its screen modes ourselves. */
		ssize_t r = write(tty, reset_seq, sizeof(reset_seq) - 1);
		(void)r;
	}
}

static void crash_handler(int sig)
{
	if (active) {
		active = 0;
		term_restore_raw(true);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

int terminal_open(char *why, size_t len)
{
	const char *name = getenv("TERM");
	if (!name || !*name) {
		snprintf(why, len, "TERM is not set");
		return -ENOTTY;
	}
	tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (tty < 0) {
		int e = errno;
		snprintf(why, len, "no terminal: /dev/tty: %s", strerror(e));
		return -e;
	}
	int err = 0;
	if (setupterm(name, tty, &err) != OK) {
		snprintf(why, len, "unknown terminal type '%s'", name);
		close(tty);
		tty = -1;
		return -ENOTTY;
	}
	del_curterm(cur_term);
	if (tcgetattr(tty, &saved_modes) < 0) {
		int e = errno;
		snprintf(why, len, "/dev/tty: %s", strerror(e));
		close(tty);
		tty = -1;
		return -e;
	}
	saved_flags = fcntl(tty, F_GETFL);
	/* The user's character set, for the header's graphs (UTF-8 blocks, or ASCII); only
	 * LC_CTYPE: numbers keep their C form on screen and in every file. */
	setlocale(LC_CTYPE, "");
	tty_fp = fdopen(tty, "r+");
	screen = tty_fp ? newterm(name, tty_fp, tty_fp) : NULL;
	if (!screen) {
		snprintf(why, len, "cannot start curses on terminal type '%s'", name);
		if (tty_fp)
			fclose(tty_fp);
		else
			close(tty);
		tty_fp = NULL;
		tty = -1;
		return -ENOTTY;
	}
	set_term(screen);
	active = 1;
	fatal_handlers(crash_handler);
	return 0;
}

int terminal_fd(void)
{
	return tty;
}

void terminal_fix_blocking(void)
{
	if (tty < 0)
		return;
	int fl = fcntl(tty, F_GETFL);
	if (fl >= 0 && (fl & O_NONBLOCK))
		fcntl(tty, F_SETFL, fl & ~O_NONBLOCK);
}

void terminal_close(void)
{
	if (tty < 0)
		return;
	active = 0;
	endwin();
	term_restore_raw(false);
	delscreen(screen);
	screen = NULL;
	fclose(tty_fp);
	tty_fp = NULL;
	tty = -1;
	fatal_handlers(SIG_DFL);
}

void terminal_forget(void)
{
	if (tty < 0)
		return;
	/* In a forked child: the terminal is the other process's. Nothing is written to it (the
	 * stdio buffer was flushed before the fork; curses drew nothing yet); the screen's memory
	 * is left as it is. */
	active = 0;
	fatal_handlers(SIG_DFL);
	fclose(tty_fp);
	tty_fp = NULL;
	screen = NULL;
	tty = -1;
}
