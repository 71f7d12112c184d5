#!/bin/bash
# dashboard_faults.sh: the dashboard under output and terminal faults: stdout closed early
# (| head -1, a builtin and a command), a slow reader of stdout (the dashboard keeps redrawing
# and taking keys; memory stays bounded; every byte arrives, in order), q while only output
# is left, items full of terminal escapes and invalid UTF-8, resize storms, a 10x3 terminal,
# and the terminal closed under pooltop.
# shellcheck disable=SC2016 # wait_until and friends take code in single quotes.
# shellcheck source=tests/tmux_lib.sh
. "${TESTS_DIR:-$(dirname "$0")}/tmux_lib.sh"

plan 65

TABLE_HEAD='^ +# +PID STATE +EXIT +DONE +FAIL +RATE +S +CPU% +RSS +AGE'
# A reader of pooltop's stdout that takes nothing until the file go exists.
SLOW_READER='while [ ! -e go ]; do sleep 0.05; done; exec cat >out'

no_worker_points() {
	if wait_for no_live_procs "$2"; then
		ok "$1: no pooltop process or worker left"
	else
		not_ok "$1: no pooltop process or worker left"
		diag "$(ps -o pid,ppid,stat,args -p "$(our_procs | paste -sd,)" 2>&1)"
	fi
}

# jobs_of MARK: pids of the command jobs whose command line holds MARK (pooltop and its workers,
# whose command lines hold it too, left out).
jobs_of() {
	local p
	for p in $(pgrep -f -- "$1" 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$PT_NAME" ] || echo "$p"
	done
	return 0
}
# jobs_gone MARK PGID...: no job with MARK is left, nor any process in the jobs' groups (a job's
# own children: the sleep of sh -c '...; sleep 30').
jobs_gone() {
	local mark=$1 g
	shift
	[ -z "$(jobs_of "$mark")" ] || return 1
	for g in "$@"; do
		[ -z "$(pgrep -g "$g" 2>/dev/null)" ] || return 1
	done
	return 0
}

# elapsed: the header's "elapsed X" (from $SCREEN).
elapsed() { printf '%s\n' "$SCREEN" | grep -Eo -m1 'elapsed [0-9hms.]+' | awk '{ print $2 }'; }

# rss_kib PID: the resident set of PID in KiB.
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# --- (a) stdout closed early: head -1 --------------------------------------------------------
# closed_early NAME MARK ARGS...: pooltop's stdout into head -1; it must end within 2 s (scaled)
# of head leaving, with no worker or job left, the terminal restored, and one line about it at
# most.
closed_early() {
	local name=$1 mark=$2 t0 ms groups=
	shift 2
	TM_STDOUT='head -1 >out' tm_start "$name" "$@"
	wait_for '[ -s "$R/out" ]' 10 || diag "$name: head got no line within 10 s"
	t0=$(now_us)
	[ -n "$mark" ] && groups=$(jobs_of "$mark" | paste -sd" ")
	wait_for '! alive "$PID"' 5
	ms=$((($(now_us) - t0) / 1000))
	wait_exit 5
	diag "$name: pooltop's status $RC, $ms ms after head had its line"
	if [ "$RC" != timeout ] && [ "$ms" -lt "$(scaled_ms 2000)" ] && [ "$RC" -ne 0 ]; then
		ok "$name: pooltop ends within 2 s of head -1 leaving, non-zero ($RC)"
	else
		not_ok "$name: pooltop ends within 2 s of head -1 leaving, non-zero ($RC)"
		diag_screen
		diag_run
	fi
	is "$(wc -l <"$R/out")" 1 "$name: head got its line"
	is "$(grep -ciE 'closed|broken pipe|EPIPE' "$R/err")" 1 \
		"$name: one line says stdout was closed, no more"
	like "$(cat "$R/err")" '^pooltop: standard output was closed' \
		"$name: it says standard output was closed"
	no_worker_points "$name" 3
	# shellcheck disable=SC2086 # groups: a list of pids
	if [ -z "$mark" ] || wait_for "jobs_gone $mark $groups" 3; then
		ok "$name: no command job left (groups: $groups)"
	else
		not_ok "$name: no command job left"
		diag "$(ps -o pid,pgid,stat,args -g "$(echo $groups | tr ' ' ,)" 2>&1)"
	fi
	terminal_points "$name"
}

# A builtin over a batch that would take minutes: 2,000,000 SHA-512s of 2000 rounds.
seq 2000000 >"$T/many"
closed_early "head -1, builtin" "" -j 2 --builtin sha512:2000 -a "$T/many"
# A command kind: item 1 prints at once, the others take 30 s each (and print nothing
# until then): head's leaving must be seen without waiting for a next write.
mark="pt-faults-$$-job"
closed_early "head -1, command" "$mark" -j 2 -- sh -c 'echo "$1"; [ "$1" -le 1 ] || sleep 30' \
	"$mark" {} ::: $(seq 100)

# --- (b) a slow reader of stdout --------------------------------------------------------------
# 300,000 items of 200 bytes: 60 MB of output that the reader does not take at first.
awk 'BEGIN { for (i = 1; i <= 300000; i++) printf "%06d%0194d\n", i, 0 }' >"$T/big"
TM_STDOUT=$SLOW_READER tm_start slow -j 2 --builtin echo -k -a "$T/big"
screen_like 'stdout blocked: [0-9.]+[KM] waiting' 10 \
	"slow reader: the header says stdout is blocked, with what waits"
e1=$(elapsed)
screen_until '[ -n "$(elapsed)" ] && [ "$(elapsed)" != "$e1" ]' 3 \
	"slow reader: the dashboard keeps redrawing (elapsed $e1 advances)"
tm_keys '?'
screen_like '^exit codes' 3 "slow reader: ? opens the help while stdout is blocked"
tm_keys Escape
screen_like "$TABLE_HEAD" 3 "slow reader: Esc goes back to the table"
like "$SCREEN" 'input reading' "slow reader: no more input is read meanwhile (input reading)"
rss=$(rss_kib "$PID")
diag "slow reader: pooltop's RSS ${rss:-?} KiB with 60 MB of output not taken"
if sanitized; then
	ok "slow reader: memory stays bounded # SKIP memory figures mean nothing under ASan"
elif [ -n "$rss" ] && [ "$rss" -lt 40960 ]; then
	ok "slow reader: memory stays bounded (RSS ${rss} KiB < 40 MiB)"
else
	not_ok "slow reader: memory stays bounded (RSS ${rss:-?} KiB < 40 MiB)"
fi
touch "$R/go"
wait_exit 60
is "$RC" 0 "slow reader: once it reads, the batch ends, exit 0"
if cmp -s "$R/out" "$T/big"; then
	ok "slow reader: every output arrived, in input order (-k)"
else
	not_ok "slow reader: every output arrived, in input order (-k)"
	diag "$(wc -c <"$R/out") bytes of $(wc -c <"$T/big")"
fi
terminal_points "slow reader"

# --- (c) q while only output for a slow reader is left ----------------------------------------
# 5,000 items of 200 bytes: all run, 1 MB of output waits (less than the bound: not blocked).
head -5000 "$T/big" >"$T/some"
TM_STDOUT=$SLOW_READER tm_start qdrop -j 2 --builtin echo -a "$T/some"
screen_like '\[WRITING OUTPUT\]' 10 "only output left: the header says WRITING OUTPUT"
like "$SCREEN" 'q:drop it and quit' "only output left: the footer says q drops it and quits"
tm_keys q
if wait_for '! alive "$PID"' 3; then
	ok "only output left: q quits at once"
else
	not_ok "only output left: q quits at once"
	diag_screen
fi
touch "$R/go"
wait_exit 10
is "$RC" 255 "only output left: exit 255 (every item was done, but output was lost)"
like "$(cat "$R/err")" '^pooltop: standard output: [0-9]+ bytes not written' \
	"only output left: stderr says how many bytes were not written"
terminal_points "q, output left"

# --- (d) items (and arguments) full of terminal escapes and invalid UTF-8 ---------------------
printf 'A\033[2JB\n\033]0;pwned\007C\n\377\376D\n' >"$T/nasty"
# The three items must all be seen running: they last longer on a slower machine (lib.sh: the
# time scale).
s5=$(scaled 5)
tm_start escapes -j 3 -a "$T/nasty" -- sh -c "sleep $s5" $'arg\e[2J' {}
tm resize-window -t "$TM_TARGET" -x 200 -y 36 # room for the ITEM column beside JOB
screen_until '[ "$(row_state 0)" = BUSY ] && [ "$(row_state 1)" = BUSY ] && [ "$(row_state 2)" = BUSY ]' 5 \
	"escapes: three BUSY rows"
like "$SCREEN" "^pooltop  sh -c 'sleep ${s5//./\\.}' 'arg\\\\x1b\\[2J' '\\{\\}' -j 3  \\[RUNNING\\]" \
	"escapes: the header is intact, an argument's ESC shown escaped"
like "$SCREEN" '^ +# +PID STATE +EXIT +JOB +DONE +FAIL' "escapes: the table's head is intact"
like "$SCREEN" 'A\\x1b\[2JB' "escapes: ESC [ 2 J is shown escaped (\\x1b[2J)"
like "$SCREEN" '\\x1b\]0;pwned\\x07C' "escapes: ESC ] 0 ; title BEL is shown escaped"
like "$SCREEN" '\\xff\\xfeD' "escapes: invalid UTF-8 is shown escaped (\\xff\\xfe)"
unlike "$(tm display -p -t "$TM_TARGET" '#{pane_title}')" pwned \
	"escapes: the pane's title was not set by an item"
tm_stop

# --- (e) a resize storm -------------------------------------------------------------------------
# The batch must outlast the steps below (scaled, as above).
ms=$(scaled_ms 300)
tm_start storm -j 3 --builtin "sleep:$ms" ::: $(seq 300)
wait_until '[ "$(row_state 0)" = BUSY ]' 5 || diag "no BUSY row within 5 s"
for i in $(seq 40); do
	tm resize-window -t "$TM_TARGET" -x $((20 + (i * 37) % 140)) -y $((3 + (i * 13) % 50))
done
for i in $(seq 100); do kill -WINCH "$PID" 2>/dev/null; done
tm resize-window -t "$TM_TARGET" -x 100 -y 30
check "resize storm: pooltop survives 40 resizes and 100 SIGWINCHes" alive "$PID"
laid_out() {
	[ "$(tm display -p -t "$TM_TARGET" "#{pane_width}x#{pane_height}")" = "$1x$2" ] &&
		printf '%s\n' "$SCREEN" | grep -Eq "^pooltop  --builtin sleep:$ms -j 3  \[RUNNING\]" &&
		printf '%s\n' "$SCREEN" | grep -Eq "$TABLE_HEAD" &&
		[ "$(table_pids | wc -l)" -eq 3 ] &&
		[ "$(printf '%s\n' "$SCREEN" | wc -l)" -eq "$2" ] &&
		printf '%s\n' "$SCREEN" | tail -1 | grep -Eq '^t:term k:kill'
}
screen_until 'laid_out 100 30' 3 "resize storm: the layout follows the final size (100x30)"
tm_keys '?'
screen_like '^pooltop help' 3 "resize storm: keys still work (? opens the help)"
tm_keys Escape
screen_like "$TABLE_HEAD" 3 "resize storm: Esc goes back"

# --- (f) shrunk to 10x3, and back ---------------------------------------------------------------
tm resize-window -t "$TM_TARGET" -x 10 -y 3
screen_like '^ *too small *$' 3 "10x3: 'too small' fits in the 10 columns"
like "$SCREEN" '^ *q quits *$' "10x3: and says how to leave (q quits)"
tm resize-window -t "$TM_TARGET" -x 2 -y 1
wait_for '[ "$(tm display -p -t "$TM_TARGET" "#{pane_width}x#{pane_height}")" = 2x1 ]' 3
check "2x1: pooltop survives" wait_for 'alive "$PID" && [ "$(screen)" != "" ]' 3
tm resize-window -t "$TM_TARGET" -x 120 -y 36
screen_until 'laid_out 120 36' 3 "back to 120x36: the full layout"
tm_keys T y
wait_exit 5
no_worker_points "resize storm" 3

# --- (g) the terminal closed under pooltop ----------------------------------------------------------
# A dashboard that can detach: the terminal gone, it detaches and the batch runs on in its
# engine (SIGTERM to the engine then stops it). With --no-detach: the batch is terminated as for
# quit.
for how in kill-pane kill-server kill-pane--no-detach; do
	mark="pt-faults-$$-$how"
	nd=
	[ "$how" = kill-pane--no-detach ] && nd=--no-detach
	tm_start "$how" $nd -j 2 -- sh -c 'sleep 60; :' "$mark" {} ::: 1 2 3 4
	wait_until '[ "$(row_state 0)" = BUSY ] && [ "$(row_state 1)" = BUSY ]' 5
	wait_for '[ "$(jobs_of "$mark" | wc -l)" -ge 2 ]' 3
	groups=$(jobs_of "$mark" | paste -sd" ")
	engine=$(engine_pid)
	if [ "$how" = kill-server ]; then tm kill-server; else tm kill-pane -t "$TM_TARGET"; fi
	wait_exit 5
	if [ -n "$nd" ]; then
		if [ "$RC" != timeout ] && [ "$RC" -ne 0 ]; then
			ok "$how: pooltop exits at once, non-zero ($RC)"
		else
			not_ok "$how: pooltop exits at once, non-zero ($RC)"
			diag_run
		fi
		like "$(cat "$R/err")" '^pooltop: 0 done, 2 failed \(2 with -15 SIGTERM\), 2 not run' \
			"$how: the workers were terminated as for quit (2 failed with -15, 2 not run)"
	else
		is "$RC" 0 "$how: the dashboard detaches at once, exit 0"
		# shellcheck disable=SC2086 # groups: a list of pids
		check "$how: the batch runs on: its engine ($engine) and jobs ($groups)" \
			eval 'alive "$engine" && ! jobs_gone "$mark" $groups'
		kill -TERM "$engine"
	fi
	no_worker_points "$how" 3
	# shellcheck disable=SC2086 # groups: a list of pids
	if wait_for "jobs_gone $mark $groups" 3; then
		ok "$how: no command job left (groups: $groups)"
	else
		not_ok "$how: no command job left"
		diag "$(ps -o pid,pgid,stat,args -g "$(echo $groups | tr ' ' ,)" 2>&1)"
	fi
done
tm_stop
