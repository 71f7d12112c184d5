#!/bin/bash
# dashboard_exit.sh: every way out of the dashboard leaves a sane terminal (modes as before,
# no O_NONBLOCK, alternate screen left, cursor shown, no mouse reporting) and no worker:
# the batch ending, q + j, q + t, Ctrl-C twice, SIGTERM, SIGHUP, and pooltop crashing.
# shellcheck disable=SC2016 # wait_until and friends take code in single quotes.
# shellcheck source=tests/tmux_lib.sh
. "${TESTS_DIR:-$(dirname "$0")}/tmux_lib.sh"

plan 110

# no_worker_points NAME TIMEOUT_S: a point: no live process of this run is left.
no_worker_points() {
	if wait_for no_live_procs "$2"; then
		ok "$1: no pooltop process or worker left"
	else
		not_ok "$1: no pooltop process or worker left"
		diag "$(ps -o pid,ppid,stat,args -p "$(our_procs | paste -sd,)" 2>&1)"
	fi
}

# all_alive PID...: true when every PID is a live process.
all_alive() {
	local p
	for p; do alive "$p" || return 1; done
}

# The items of a batch that must still run when the test acts (a key, a signal) last longer on
# a slower machine (lib.sh: the time scale).

# --- (a) the batch ends by itself ----------------------------------------------------------
ms=$(scaled_ms 400)
tm_start end -j 2 --builtin "sleep:$ms" ::: 1 2 3 4
screen_like "^pooltop  --builtin sleep:$ms -j 2  \\[RUNNING\\]" 5 "end: the dashboard shows"
wait_exit 10
is "$RC" 0 "end: the batch ends by itself, exit status 0"
like "$(cat "$R/err")" '^pooltop: 4 done, 0 failed' "end: the summary on stderr (stdout is for results)"
terminal_points end
no_worker_points end 0

# --- (b) q while work remains: the dialog; Esc cancels; j joins all, then quits -------------
# The items come on a stdin kept open, so that the batch cannot end unless joined.
TM_STDIN="seq 4; exec sleep $(scaled 60)" \
	tm_start qj -j 2 --results r --builtin "sleep:$(scaled_ms 700)"
wait_screen 'BUSY' 5
tm_keys q
screen_like 'Work remains\. Quit how\?' 3 "q with work remaining asks 'Work remains. Quit how?'"
tm_keys Escape
if wait_screen_gone 'Quit how' 3 && alive "$PID"; then
	ok "q, Esc: the dialog goes, pooltop runs on"
else
	not_ok "q, Esc: the dialog goes, pooltop runs on"
	diag_screen
fi
tm_keys q
wait_screen 'Quit how' 3
tm_keys j
screen_like 'joining all workers, then quitting' 3 "q, j: 'joining all workers, then quitting'"
wait_exit 10
is "$RC" 0 "q, j: pooltop exits 0 once the items are finished"
is "$(grep -c '"status":"done"' "$R/r" 2>/dev/null)" 4 "q, j: every item read was finished (4 done)"
if [ -s "$R/feeder.pid" ] && alive "$(cat "$R/feeder.pid")"; then
	ok "q, j: pooltop quit while its stdin was still open"
else
	not_ok "q, j: pooltop quit while its stdin was still open"
fi
terminal_points "q, j"
no_worker_points "q, j" 0

# --- (c) q, then t: terminate all --------------------------------------------------------------
tm_start qt -j 2 --results r --builtin "sleep:$(scaled_ms 5000)" ::: 1 2 3 4
wait_until '[ "$(row_state 0)" = BUSY ] && [ "$(row_state 1)" = BUSY ]' 5
tm_keys q
wait_screen 'Quit how' 3
tm_keys t
wait_exit 3
if [ "$RC" != timeout ] && [ "$RC" -ne 0 ]; then
	ok "q, t: pooltop exits at once, with a non-zero status ($RC)"
else
	not_ok "q, t: pooltop exits at once, with a non-zero status ($RC)"
	diag_screen
fi
like "$(cat "$R/err")" '^pooltop: 0 done, 2 failed \(2 with -15 SIGTERM\)' \
	"q, t: the summary says the 2 running items failed with -15 SIGTERM"
terminal_points "q, t"
no_worker_points "q, t" 0

# --- (d) Ctrl-C twice ------------------------------------------------------------------------------
tm_start ctrlc -j 2 --results r --builtin "sleep:$(scaled_ms 5000)" ::: 1 2 3 4
wait_until '[ "$(row_state 0)" = BUSY ] && [ "$(row_state 1)" = BUSY ]' 5
tm_keys C-c
screen_like 'Ctrl-C: draining' 3 "Ctrl-C once: 'draining'"
if wait_screen '\[CLOSING\]' 2 && alive "$PID"; then
	ok "Ctrl-C once: the header says CLOSING and pooltop runs on (items in hand finish)"
else
	not_ok "Ctrl-C once: the header says CLOSING and pooltop runs on (items in hand finish)"
	diag_screen
fi
tm_keys C-c
wait_exit 3
if [ "$RC" != timeout ] && [ "$RC" -ne 0 ]; then
	ok "Ctrl-C twice: pooltop terminates the workers and exits at once, non-zero ($RC)"
else
	not_ok "Ctrl-C twice: pooltop terminates the workers and exits at once, non-zero ($RC)"
	diag_screen
fi
like "$(cat "$R/err")" '-15 SIGTERM' "Ctrl-C twice: the summary counts items failed with -15 SIGTERM"
terminal_points "Ctrl-C twice"
no_worker_points "Ctrl-C twice" 0

# --- (e, f) SIGTERM and SIGHUP to pooltop -------------------------------------------------------
# SIGHUP with --no-detach: the batch ends with the terminal (one process).
for sig in TERM HUP; do
	if [ "$sig" = HUP ]; then nd=--no-detach; else nd=; fi
	tm_start "sig$sig" $nd -j 2 --builtin "sleep:$(scaled_ms 5000)" ::: 1 2 3 4
	wait_until '[ "$(row_state 0)" = BUSY ] && [ "$(row_state 1)" = BUSY ]' 5
	kill -"$sig" "$PID"
	wait_exit 5
	if [ "$RC" != timeout ] && [ "$RC" -ne 0 ]; then
		ok "SIG$sig$nd: pooltop exits at once, non-zero ($RC)"
	else
		not_ok "SIG$sig$nd: pooltop exits at once, non-zero ($RC)"
		diag_screen
	fi
	like "$(cat "$R/err")" '^pooltop: 0 done, 2 failed' "SIG$sig$nd: the summary on stderr (stdout is for results)"
	terminal_points "SIG$sig$nd"
	no_worker_points "SIG$sig$nd" 0
done

# SIGHUP to a dashboard that can detach: it detaches, the batch runs on in its engine.
tm_start sighup -j 2 --builtin "sleep:$(scaled_ms 5000)" ::: 1 2 3 4
wait_until '[ "$(row_state 0)" = BUSY ] && [ "$(row_state 1)" = BUSY ]' 5
engine=$(engine_pid)
workers=$(kids "$PID" | paste -sd' ')
kill -HUP "$PID"
wait_exit 5
is "$RC" 0 "SIGHUP: the dashboard detaches, exit 0"
like "$(cat "$R/err")" '^pooltop: detached from .* it runs on; pooltop attach ' "SIGHUP: it says how to come back"
terminal_points SIGHUP
# shellcheck disable=SC2086 # the pids, one word each
check "SIGHUP: the batch runs on: its engine $engine and workers $workers alive" \
	all_alive "$engine" $workers
kill -TERM "$engine"
no_worker_points "SIGHUP, then SIGTERM to its engine" 5

# --- (h) T against workers that ignore SIGTERM: --term-seq ends in SIGKILL ----------------------
STUBBORN=${TESTS_BUILD_DIR:-$TESTS_DIR}/plugin_stubborn.so
tm_start stubborn -j 2 --plugin "$STUBBORN" ::: stuck stuck
wait_until '[ "$(row_state 0)" = BUSY ] && [ "$(row_state 1)" = BUSY ]' 5
tm_keys T y
wait_exit 5
if [ "$RC" != timeout ] && [ "$RC" -ne 0 ]; then
	ok "T, workers ignore SIGTERM: pooltop ends, non-zero ($RC)"
else
	not_ok "T, workers ignore SIGTERM: pooltop ends, non-zero ($RC)"
	diag_screen
fi
like "$(cat "$R/err")" '^pooltop: 0 done, 2 failed \(2 with -9 SIGKILL\)' \
	"T, workers ignore SIGTERM: both items failed with -9 SIGKILL (the end of --term-seq)"
terminal_points "T, workers ignore SIGTERM"
no_worker_points "T, workers ignore SIGTERM" 3

# --- (i) signals pooltop has no use for: SIGUSR1 goes by, SIGALRM kills it cleanly -------------
gate_hold
tm_start usr1 -j 2 --plugin "$GATE" ::: 1 2 3 4
wait_until '[ "$(row_state 0)" = BUSY ]' 5
kill -USR1 "$PID"
screen_like 'User defined signal 1: the dashboard shows the status' 3 \
	"SIGUSR1: the footer says so, and the dashboard goes on"
gate_open
wait_exit 10
is "$RC" 0 "SIGUSR1: the batch ends normally, exit 0"
tm_start alrm -j 2 --builtin "sleep:$(scaled_ms 5000)" ::: 1 2 3 4
wait_until '[ "$(row_state 0)" = BUSY ] && [ "$(row_state 1)" = BUSY ]' 5
engine=$(engine_pid)
kill -ALRM "$PID"
wait_exit 5
is "$RC" 142 "SIGALRM: pooltop dies of the signal (the shell sees 142 = 128+14)"
terminal_points SIGALRM
# The batch's engine is another process: a viewer's crash is not the batch's.
check "SIGALRM: the batch runs on in its engine ($engine)" alive "$engine"
kill -TERM "$engine"
no_worker_points SIGALRM 3

# --- (j) without --exit-when-done the finished screen stays, browsable, until q ------------------
TM_STAY=1 tm_start stay -j 2 --builtin demo ::: 1 fail 3 4
screen_like '\[FINISHED\]' 10 "stay: the header says FINISHED once the batch is over"
# Still there: its other views open (without the stay, pooltop has left by now).
tm_keys Enter
screen_like '^recent items, newest first:' 3 "stay: Enter opens a worker's detail after the end"
tm_keys Escape '?'
screen_like '^pooltop help$' 3 "stay: ? opens the help after the end"
tm_keys Escape
screen_like '\[FINISHED\]' 3 "stay: Esc goes back to the finished workers"
if [ ! -e "$R/status" ] && alive "$PID"; then
	ok "stay: pooltop has not left by itself"
else
	not_ok "stay: pooltop has not left by itself"
	diag_run
fi
tm_keys q
wait_exit 3
is "$RC" 1 "stay: q leaves at once, without asking, with the status of the batch (1 failed)"
like "$(cat "$R/err")" '^pooltop: 3 done, 1 failed' "stay: the summary on stderr after q"
like "$(cat "$R/err")" '^pooltop:   item 2, exit 1: fail$' \
	"stay: the failed item on stderr after q, with its exit code"
terminal_points stay
no_worker_points stay 2

# Ctrl-C, SIGTERM and SIGHUP on the finished screen leave at once, the terminal restored.
for how in C-c TERM HUP; do
	TM_STAY=1 tm_start "stay$how" -j 2 --builtin square ::: 1 2 3
	wait_screen '\[FINISHED\]' 10
	if [ "$how" = C-c ]; then tm_keys C-c; else kill -"$how" "$PID"; fi
	wait_exit 3
	is "$RC" 0 "stay, $how on the finished screen: pooltop leaves at once, exit 0"
	terminal_points "stay, $how"
done

# The terminal going away (the tmux server killed) on the finished screen: pooltop leaves.
TM_STAY=1 tm_start staygone -j 2 --builtin square ::: 1 2 3
wait_screen '\[FINISHED\]' 10
tm kill-server
wait_exit 3
is "$RC" 0 "stay, the terminal gone on the finished screen: pooltop leaves at once, exit 0"
no_worker_points "stay, the terminal gone" 2

# --- (k) on leaving, the failed items on stderr: the first 20, then how many more -----------------
for i in $(seq 25); do printf 'bad\033[2J%s\n' "$i"; done >"$T/failing"
tm_start failed -j 2 --builtin fail --events "$T/failing.ev" -a "$T/failing"
wait_exit 10
is "$RC" 25 "failed: 25 items failed, exit 25"
is "$(grep -c '"kind":"item_failed"' "$T/failing.ev")" 25 \
	"failed: --events on the dashboard has the 25 item_failed events"
err=$(cat "$R/err")
like "$err" '^pooltop: 25 items failed:$' "failed: stderr says how many items failed"
is "$(printf '%s\n' "$err" | grep -cE '^pooltop:   item [0-9]+, exit 1: bad\\x1b\[2J[0-9]+$')" 20 \
	"failed: 20 of them listed, one a line, with exit code and item, the escape shown as \\x1b"
like "$err" '^pooltop:   \.\.\. and 5 more \(the first 20 are listed\)$' "failed: ... and 5 more"
check "failed: no raw escape byte on stderr" eval '! grep -q "$(printf "\033")" "$R/err"'
terminal_points failed

# --- (g) pooltop crashing: SIGSEGV -------------------------------------------------------------
tm_start segv -j 2 --builtin "sleep:$(scaled_ms 5000)" ::: 1 2 3 4
wait_until '[ "$(row_state 0)" = BUSY ] && [ "$(row_state 1)" = BUSY ]' 5
workers=$(kids "$PID" | paste -sd' ')
engine=$(engine_pid)
kill -SEGV "$PID"
wait_exit 5
is "$RC" 139 "SIGSEGV: pooltop dies of the signal (the shell sees 139 = 128+11)"
terminal_points SIGSEGV
check "SIGSEGV: the batch runs on in its engine ($engine)" alive "$engine"
# The engine crashing: the workers die with their parent (PR_SET_PDEATHSIG).
kill -SEGV "$engine"
no_worker_points "SIGSEGV of the engine too (workers $workers)" 3
tm_stop

# --- D: a drain on the dashboard; - shrinks after the item -------------------------------------
# -j 2, --join-timeout 1, items held on the test's gate (lib.sh): D lets the two running items
# finish done, past the join timeout; the three never started are not run (the exit status
# counts them). past_join: the gate opens 1.5 real seconds after the key was seen at work (the
# join timeout is the program's, in real seconds, from the key's arrival before that).
past_join() {
	local t0
	t0=$(now_us)
	wait_until '[ $(($(now_us) - t0)) -gt 1500000 ]' 5
	gate_open
}
gate_hold
tm_start drain -j 2 --join-timeout 1 -- flock -s "$T/gate" true ::: 1 2 3 4 5
wait_until '[ "$(row_state 0)" = BUSY ] && [ "$(row_state 1)" = BUSY ]' 5 || diag "not both BUSY"
tm_keys D
screen_like 'draining: no new item starts' 3 "D: the footer says it drains"
past_join
wait_exit 10
is "$RC" 3 "D: exit status 3 (three items not run)"
like "$(cat "$R/err")" '^pooltop: 2 done, 0 failed, 3 not run' \
	"D: the two running items finished done past --join-timeout, three not run"
tm_stop
# - on a pool of 2: the highest worker leaves after its item, however long it runs.
gate_hold
tm_start shrink -j 2 --join-timeout 1 -- flock -s "$T/gate" true ::: 1 2
wait_until '[ "$(row_state 0)" = BUSY ] && [ "$(row_state 1)" = BUSY ]' 5 || diag "not both BUSY"
tm_keys -
screen_until '[ "$(header_size)" = 1 ]' 3 "-: the header says size 1"
past_join
wait_exit 10
is "$RC" 0 "-: the shrunk worker's item ran past --join-timeout and was done: exit 0"
tm_stop
