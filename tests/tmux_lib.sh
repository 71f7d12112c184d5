# tests/tmux_lib.sh: helpers for the dashboard's tmux-driven tests (sourced, bash).
#
# Sources lib.sh (TAP points, $T, wait_for, ptname, json_*), then:
#   no tmux on the machine: prints "1..0 # SKIP tmux not installed" and exits 0.
#
#   tm_start NAME ARGS...   run "$PT ARGS..." in a fresh tmux server (private socket
#                           pt-$$-N, -f /dev/null, 120x36, TERM=xterm-256color set in the
#                           pane command). Its files go to the run dir $R=$T/NAME:
#                             pid      pooltop's pid (written just before exec)
#                             out err  its stdout and stderr
#                             before after                 `stty -g` before and after it
#                             nonblock.before nonblock     O_NONBLOCK on the pane's tty (0/1)
#                             status   its exit status (written last: the run is over;
#                                      the pane then stays, idle, until tm_stop)
#                           Sets PID (pooltop's pid). Environment knobs, per call:
#                             TM_TERM  the TERM in the pane (default xterm-256color)
#                             TM_STDIN a command (bash -c) whose output is pooltop's
#                                      stdin, e.g. 'seq 20' or 'seq 4; exec sleep 60' (input
#                                      kept open); its pid in $R/feeder.pid, killed by tm_stop
#                             TM_STDOUT_TTY=1: stdout is the pane's terminal, as typed;
#                             TM_STDOUT a command (bash -c, run in $R) that pooltop's stdout
#                                      is piped into instead of the file out, e.g.
#                                      'head -1 >out'; status is still pooltop's
#                             TM_STAY=1: the finished screen stays until q (pooltop's
#                                      default); otherwise --exit-when-done is given first,
#                                      so that a run ends by itself as a script's does
#                           The pane's shell outlives a hangup (the pane or the server
#                           killed): it then still writes status, and leaves.
#                           Returns 1 (with diagnostics) if pooltop did not start.
#   tm ARGS...              tmux on the current private socket
#   tm_keys KEY...          send-keys to the pane (tmux key names: Up, Enter, Space, C-c)
#   tm_stop                 kill the current tmux server (also done at exit), and SIGTERM the
#                           engine of a dashboard still running there (else it runs on,
#                           detached)
#   screen                  print the pane's text now
#   Every TIMEOUT_S below is scaled by POOLTOP_TEST_SCALE (lib.sh): give the time on a quiet
#   machine.
#   wait_screen REGEX TIMEOUT_S
#                           poll the pane every 20 ms until a line matches the extended
#                           REGEX; 1 on timeout. $SCREEN holds the last capture either way.
#   wait_screen_gone REGEX TIMEOUT_S    until no line matches
#   wait_until CMD TIMEOUT_S            as wait_for, but captures $SCREEN before each try
#   screen_like REGEX TIMEOUT_S DESC    a TAP point: wait_screen, the screen in diagnostics
#   screen_until CMD TIMEOUT_S DESC     a TAP point: wait_until, the screen in diagnostics
#   wait_exit TIMEOUT_S     wait until the run's status file exists; sets RC (its content,
#                           or "timeout")
#   Table rows, from $SCREEN (the main view):
#     row SLOT              the slot's line
#     row_pid SLOT, row_state SLOT, row_exit SLOT ("-15 SIGTERM", "0", "-"), row_seq SLOT
#     row_of_state STATE    the slot number of the first row in STATE
#     selected_slot         the slot of the row marked '>'
#     table_pids            the PIDs of the rows whose state is not EXITED, sorted
#     header_num WORD       the number before WORD in the header ("done", "alive", ...);
#                           header_size: the N of "(size N)"
#   tm_select SLOT          move the selection to SLOT (Home, then Down), wait for the '>'
#   Processes:
#     kids PID              PID's live (non-zombie) children, sorted, one per line (those of
#                           the engine a dashboard forked for its batch, in its place)
#     engine_pid            the process running the dashboard $PID's batch
#     alive PID             true when PID is a live (non-zombie) process
#     pids_match            true when table_pids (fresh capture) equals kids $PID
#   pane_modes              "alt=A cursor=C mouse=M" of the pane, from tmux's own state:
#                           alternate screen on, cursor visible, mouse reporting on (0/1)
#   terminal_points NAME    after wait_exit: 3 TAP points: stty -g before = after, no
#                           O_NONBLOCK on the tty, pane modes "alt=0 cursor=1 mouse=0"
#   Diagnostics: diag_screen (the last capture), diag_run (status, err tail)
# shellcheck disable=SC2016 # wait_for/wait_until take code in single quotes.
# shellcheck disable=SC2034 # SCREEN, PID, RC, R are for the sourcing script.

if ! command -v tmux >/dev/null 2>&1; then
	echo "1..0 # SKIP tmux not installed"
	exit 0
fi

# shellcheck source=tests/lib.sh
. "${TESTS_DIR:-$(dirname "${BASH_SOURCE[0]}")}/lib.sh"

# lib.sh's EXIT trap (which kills our tmux servers) must also run when the output pipe or
# the terminal goes away.
trap 'trap "" PIPE; exit 141' PIPE
trap 'exit 129' HUP

# Run from inside tmux or not: our servers are private either way.
unset TMUX TMUX_PANE
PYTHON3=$(command -v python3 || true)
BASH_BIN=$(command -v bash)
ptname
export PT

_tm_n=0
TM_SOCK=
TM_TARGET=pt
SCREEN=
R=
PID=
RC=

tm() { tmux -L "$TM_SOCK" -f /dev/null "$@"; }

# _feeder_kill DIR: kill the run's stdin feeder, if it is still in the pane's session (so
# that a recycled pid is never hit).
_feeder_kill() {
	local fp sid
	[ -s "$1/feeder.pid" ] || return 0
	fp=$(cat "$1/feeder.pid")
	sid=$(awk '{ print $6 }' "/proc/$fp/stat" 2>/dev/null)
	if [ -n "$sid" ] && [ "$sid" = "$(cat "$1/pane.sid" 2>/dev/null)" ]; then
		kill -KILL "$fp" 2>/dev/null
	fi
	return 0
}

# _tm_kill SOCK: kill that private server and remove its socket file (tmux leaves it).
_tm_kill() {
	tmux -L "$1" -f /dev/null kill-server >/dev/null 2>&1
	rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$1"
}

tm_stop() {
	local e=
	# A dashboard still running has an engine that would outlive its terminal (detached):
	# the test is done with the run, so is the engine.
	if [ -n "$PID" ] && alive "$PID"; then
		e=$(engine_pid)
		[ "$e" = "$PID" ] && e=
	fi
	[ -n "$R" ] && _feeder_kill "$R"
	[ -n "$TM_SOCK" ] && _tm_kill "$TM_SOCK"
	[ -n "$e" ] && kill -TERM "$e" 2>/dev/null
	return 0
}

tm_keys() { tm send-keys -t "$TM_TARGET" "$@"; }

# tm_start NAME ARGS...
tm_start() {
	local name=$1 args a stdin stdout
	shift
	tm_stop
	_tm_n=$((_tm_n + 1))
	TM_SOCK="pt-$$-$_tm_n"
	at_exit "_tm_kill $TM_SOCK"
	R="$T/$name"
	rm -rf "$R"
	mkdir -p "$R"
	PID=
	RC=
	SCREEN=
	wait_binary || return 1
	args=
	[ -n "${TM_STAY:-}" ] || args=" --exit-when-done"
	for a in "$@"; do args+=" $(printf '%q' "$a")"; done
	# Items on stdin: from a process substitution, which the shell does not wait for, so
	# that a feeder kept open (TM_STDIN='seq 4; exec sleep 60') does not delay the status.
	stdin=
	if [ -n "${TM_STDIN:-}" ]; then
		stdin="< <(echo \$BASHPID >feeder.pid; exec $(printf '%q' "$BASH_BIN") -c $(printf '%q' "$TM_STDIN"))"
		at_exit "_feeder_kill '$R'"
	fi
	# The pane: TERM set here, the terminal's modes and O_NONBLOCK recorded around the run,
	# pooltop's pid written by the shell that then becomes pooltop, the status file last.
	stdout=">out"
	[ -n "${TM_STDOUT:-}" ] && stdout="| $(printf '%q' "$BASH_BIN") -c $(printf '%q' "$TM_STDOUT")"
	[ -n "${TM_STDOUT_TTY:-}" ] && stdout= # stdout the pane's terminal, as typed
	cat >"$R/pane.sh" <<EOF
cd $(printf '%q' "$R") || exit 1
awk '{ print \$6 }' /proc/\$\$/stat >pane.sid
export TERM=$(printf '%q' "${TM_TERM:-xterm-256color}")
nonblock() { $(printf '%q' "$PYTHON3") -c 'import fcntl,os; print(1 if fcntl.fcntl(0, fcntl.F_GETFL) & os.O_NONBLOCK else 0)'; }
stty -g >before
nonblock >nonblock.before
# A hangup (the terminal closed under pooltop) must not take this shell before the status.
trap 'hup=1' HUP
/bin/sh -c 'echo \$\$ >pid; exec "\$0" "\$@"' $(printf '%q' "$PT")$args 2>err $stdin $stdout
rc=\${PIPESTATUS[0]}
stty -g >after
nonblock >nonblock
echo \$rc >status
# Keep the pane alive: tmux's modes of a dead pane are not reliable (it may hide the cursor).
# Bounded, so that a server leaked by a killed test ends by itself.
[ -n "\${hup:-}" ] && exit 0
exec sleep 600
EOF
	tm new-session -d -s "$TM_TARGET" -x 120 -y 36 "$BASH_BIN $(printf '%q' "$R/pane.sh")" || {
		diag "tmux new-session failed"
		return 1
	}
	if ! wait_for '[ -s "$R/pid" ]' 10; then
		diag "$name: pooltop did not start within $(scaled 10) s"
		return 1
	fi
	PID=$(cat "$R/pid")
	return 0
}

screen() { tm capture-pane -p -t "$TM_TARGET" 2>/dev/null; }

wait_screen() {
	local re=$1 limit nap_ms=10
	limit=$(deadline_us "$2")
	while :; do
		SCREEN=$(screen)
		if grep -Eq -- "$re" <<<"$SCREEN"; then return 0; fi
		past_us "$limit" && return 1
		poll_nap
	done
}

wait_screen_gone() {
	local re=$1 limit nap_ms=10
	limit=$(deadline_us "$2")
	while :; do
		SCREEN=$(screen)
		if ! grep -Eq -- "$re" <<<"$SCREEN"; then return 0; fi
		past_us "$limit" && return 1
		poll_nap
	done
}

# wait_until CMD TIMEOUT_S: poll CMD (eval'ed) with a fresh $SCREEN before each try.
wait_until() {
	local cmd=$1 limit nap_ms=10
	limit=$(deadline_us "$2")
	while :; do
		SCREEN=$(screen)
		if eval "$cmd"; then return 0; fi
		past_us "$limit" && return 1
		poll_nap
	done
}

diag_screen() { diag "screen:"$'\n'"$SCREEN"; }

diag_run() {
	diag "status: $(cat "$R/status" 2>/dev/null || echo none)"
	diag "stderr (tail): $(tail -5 "$R/err" 2>/dev/null)"
}

screen_like() {
	if wait_screen "$1" "$2"; then
		ok "$3"
	else
		not_ok "$3"
		diag "  want a line matching /$1/ within $(scaled "$2") s"
		diag_screen
	fi
}

# screen_until CMD TIMEOUT_S DESC: a TAP point: wait_until, the screen in diagnostics.
screen_until() {
	if wait_until "$1" "$2"; then
		ok "$3"
	else
		not_ok "$3"
		diag "  still false after $(scaled "$2") s: $1"
		diag_screen
	fi
}

wait_exit() {
	if wait_for '[ -s "$R/status" ]' "$1"; then
		RC=$(cat "$R/status")
		return 0
	fi
	RC=timeout
	return 1
}

pane_modes() {
	tm display-message -p -t "$TM_TARGET" 'alt=#{alternate_on} cursor=#{cursor_flag} mouse=#{mouse_any_flag}' 2>/dev/null
}

terminal_points() {
	local name=$1 b a
	b=$(cat "$R/before" 2>/dev/null)
	a=$(cat "$R/after" 2>/dev/null)
	if [ -n "$b" ] && [ "$b" = "$a" ]; then
		ok "$name: the terminal's modes are restored (stty -g before = after)"
	else
		not_ok "$name: the terminal's modes are restored (stty -g before = after)"
		diag "before: $b"
		diag " after: $a"
		diag "$(stty -a -F "$(tm display -p -t "$TM_TARGET" '#{pane_tty}')" 2>&1 | head -4)"
	fi
	is "$(cat "$R/nonblock.before" 2>/dev/null)/$(cat "$R/nonblock" 2>/dev/null)" 0/0 \
		"$name: no O_NONBLOCK left on the terminal (before/after)"
	# The pane script writes nothing after the status file: the modes are final.
	is "$(pane_modes)" "alt=0 cursor=1 mouse=0" \
		"$name: alternate screen left, cursor visible, mouse reporting off"
}

# --- the worker table ------------------------------------------------------------------
_STATES='STARTING|IDLE|BUSY|HUNG|STOPPING|STOPPED|EXITED|BACKOFF'

row() {
	printf '%s\n' "$SCREEN" | grep -E -m1 -- "^[> ][* ] +$1 +([0-9]+|-) +($_STATES)( |\$)"
}
row_pid() { row "$1" | awk '{ sub(/^[> ][* ]/, ""); print $2 }'; }
row_state() { row "$1" | awk '{ sub(/^[> ][* ]/, ""); print $3 }'; }
# row_exit SLOT: the EXIT column, without the "was " that marks a previous process's exit.
row_exit() {
	row "$1" | awk '{ sub(/^[> ][* ]/, ""); i = ($4 == "was") ? 5 : 4; e = $i
		if ($(i + 1) ~ /^SIG/) e = e " " $(i + 1); print e }'
}
# row_exit_past SLOT: true when the EXIT column is marked as a previous process's.
row_exit_past() { row "$1" | awk '{ sub(/^[> ][* ]/, ""); exit !($4 == "was") }'; }
# row_seq SLOT: the SEQ of "SEQ:item" in the ITEM column (the last field).
row_seq() { row "$1" | awk '{ print $NF }' | sed -n 's/^\([0-9][0-9]*\):.*/\1/p'; }

row_of_state() {
	printf '%s\n' "$SCREEN" | grep -E -- "^[> ][* ] +[0-9]+ +([0-9]+|-) +$1( |\$)" |
		awk '{ sub(/^[> ][* ]/, ""); print $1; exit }'
}

selected_slot() {
	printf '%s\n' "$SCREEN" | grep -E -m1 -- "^>[* ] +[0-9]+ +([0-9]+|-) +($_STATES)" |
		awk '{ sub(/^>[* ]/, ""); print $1 }'
}

table_pids() {
	printf '%s\n' "$SCREEN" | grep -E -- "^[> ][* ] +[0-9]+ +[0-9]+ +($_STATES)( |\$)" |
		awk '{ sub(/^[> ][* ]/, ""); if ($3 != "EXITED") print $2 }' | sort -n
}

header_num() {
	printf '%s\n' "$SCREEN" | grep -Eo -m1 -- "[0-9]+ $1" | awk '{ print $1 }'
}
header_size() { printf '%s\n' "$SCREEN" | grep -Eo -m1 -- '\(size [0-9]+\)' | tr -dc 0-9; }

tm_select() {
	local i
	tm_keys Home
	for ((i = 0; i < $1; i++)); do tm_keys Down; done
	wait_until '[ "$(selected_slot)" = '"$1"' ]' 3
}

# --- processes -------------------------------------------------------------------------
alive() {
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

kids() {
	local p
	for p in $(pgrep -P "$1" 2>/dev/null); do
		alive "$p" || continue
		# The engine a dashboard forked (its own session): its workers are the
		# dashboard's as the user sees them.
		if [ "$(awk '{ print $6 }' "/proc/$p/stat" 2>/dev/null)" = "$p" ]; then
			kids "$p"
		else
			echo "$p"
		fi
	done | sort -n
}

# engine_pid: the process that runs the batch of the dashboard $PID: the engine it forked
# (the child in a session of its own), or $PID itself with --no-detach.
engine_pid() {
	local p
	for p in $(pgrep -P "$PID" 2>/dev/null); do
		if [ "$(awk '{ print $6 }' "/proc/$p/stat" 2>/dev/null)" = "$p" ]; then
			echo "$p"
			return 0
		fi
	done
	echo "$PID"
}

pids_match() {
	local a
	a=$(table_pids)
	[ -n "$a" ] && [ "$a" = "$(kids "$PID")" ]
}
