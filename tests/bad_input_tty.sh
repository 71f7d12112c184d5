#!/bin/bash
# bad_input_tty.sh: bad input on a real terminal (tmux). An error at start-up, before the
# dashboard or after it has taken the terminal, prints its one line and leaves the terminal as
# it was: the same stty modes, no O_NONBLOCK, the alternate screen left, the cursor visible.
# shellcheck source=tests/tmux_lib.sh
. "${TESTS_DIR:-$(dirname "$0")}/tmux_lib.sh"

plan 33

mkdir "$T/dir"
printf 'Seq\tExitval\n1\t0\n' >"$T/foreign.joblog"

# start_error NAME STATUS MESSAGE ARGS...: pooltop ARGS in tmux ends by itself with STATUS,
# nothing on stdout and exactly "pooltop: MESSAGE" on stderr (a point), and the terminal is
# restored (3 points).
start_error() {
	local name=$1 want=$2 msg=$3 why="" err
	shift 3
	if ! tm_start "$name" "$@"; then
		not_ok "$name: pooltop starts"
		terminal_points "$name"
		return
	fi
	wait_exit 10
	err=$(cat "$R/err" 2>/dev/null)
	[ "$RC" = "$want" ] || why+="exit status $RC, not $want; "
	[ ! -s "$R/out" ] || why+="stdout not empty; "
	[ "$err" = "pooltop: $msg" ] || why+="stderr is not the one line 'pooltop: $msg'; "
	if [ -z "$why" ]; then
		ok "$name: exit $want, one line: $msg"
	else
		not_ok "$name: exit $want, one line: $msg"
		diag "pooltop $*"
		diag "$why"
		diag "stderr: $err"
		wait_screen . 0
		diag_screen
	fi
	terminal_points "$name"
	tm_stop
}

# Found by the option parser, before the terminal is touched.
start_error option 255 "unknown option '--bogus' (pooltop --help lists the options)" \
	--bogus --builtin square ::: 1
start_error command 255 "$T/nothere: command not found" -- "$T/nothere" ::: 1
# Found once the dashboard has opened the terminal: it must put it back.
start_error joblog 255 \
	"--joblog $T/foreign.joblog: line 1: not a joblog (expected GNU parallel's header)" \
	--joblog "$T/foreign.joblog" --resume --builtin square ::: 1
start_error results 255 "--results $T/nodir/r: No such file or directory" \
	--results "$T/nodir/r" --builtin square ::: 1
start_error argfile 255 "-a $T/dir: Is a directory" --builtin square -a "$T/dir"
start_error same 255 "--joblog $T/twice.log and --results $T/twice.log are the same file: give each its own" \
	--joblog "$T/twice.log" --results "$T/twice.log" --builtin square ::: 1
# No items given and standard input is the terminal: the dashboard would fight the item
# reader for the keys.
start_error stdin 255 "standard input is the terminal the dashboard uses: give the items on a pipe, in -a FILE or after ::: (or type them with --headless)" \
	--builtin square

# A full disk found while the dashboard runs: exit 255; its reason was in the event log, and
# is said again on stderr after the dashboard closes.
tm_start full --builtin square --results /dev/full ::: 1
wait_exit 10
if [ "$RC" = 255 ] && grep -q '^pooltop: --results /dev/full: No space left on device' "$R/err"; then
	ok "--results /dev/full on the dashboard: exit 255, the reason on stderr after it closes"
else
	not_ok "--results /dev/full on the dashboard: exit 255, the reason on stderr after it closes"
	diag "status $RC, stderr: $(cat "$R/err")"
fi
tm_stop

# An unknown TERM is no error: one line says so, and the run goes on headless.
TM_TERM=no-such-term-4711 tm_start term --builtin square ::: 3
wait_exit 10
is "$RC:$(cat "$R/out"):$(head -1 "$R/err")" \
	"0:9:pooltop: unknown terminal type 'no-such-term-4711': running headless" \
	"an unknown TERM: one line says so, the batch runs headless (exit 0)"
terminal_points term

exit 0
