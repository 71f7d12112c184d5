#!/bin/bash
# dashboard_misc.sh: help, detail view, terminal resizes, pause, + and -, T, items on stdin
# with keys from the terminal, an unknown TERM, `pooltop demo exitcodes`, and `pooltop demo`.
# shellcheck disable=SC2016 # wait_until and friends take code in single quotes.
# shellcheck source=tests/tmux_lib.sh
. "${TESTS_DIR:-$(dirname "$0")}/tmux_lib.sh"

plan 87

TABLE_HEAD='^ +# +PID STATE +EXIT +DONE +FAIL +RATE +S +CPU% +RSS +AGE'

# --- help, detail, resize, pause, + and -, T: one long batch ---------------------------------
# It must outlast the steps below: its items last longer on a slower machine (lib.sh: the time
# scale).
ms=$(scaled_ms 300)
tm_start main -j 3 --results r --builtin "sleep:$ms" ::: $(seq 300)
wait_until '[ "$(row_state 0)" = BUSY ]' 5 || diag "no BUSY row within 5 s"

tm_keys '?'
screen_like '^exit codes' 3 "? shows the help with its 'exit codes' legend"
like "$SCREEN" '128\+N' "the help explains 128+N (a shell's view of a signal)"
like "$SCREEN" 'AGE +how long the current item has run' "the help's legend says what AGE is"
like "$SCREEN" 'ITEM +N:item, N its number in the input' "...and the N: before an item"
tm_keys NPage
screen_like '^ *q F10 +quit' 3 "PgDn scrolls the help on to the rest of the keys"
tm_keys Escape
screen_like "$TABLE_HEAD" 3 "Esc leaves the help: the table is back"

p0=$(row_pid 0)
tm_keys Home Enter
screen_like 'recent items, newest first:' 3 "Enter shows the detail view with 'recent items'"
like "$SCREEN" "^worker 0 +pid $p0 " "the detail view is the selected worker's (worker 0 pid $p0)"
like "$SCREEN" '^last output' "the detail view shows the last output"
like "$SCREEN" '^stderr' "the detail view shows stderr"
tm_keys Escape
screen_like "$TABLE_HEAD" 3 "Esc leaves the detail view"

# Resizes: the pane follows the window (no client is attached: the size is manual).
tm resize-window -t "$TM_TARGET" -x 100 -y 30
wait_for '[ "$(tm display -p -t "$TM_TARGET" "#{pane_width}x#{pane_height}")" = 100x30 ]' 3 ||
	diag "the pane did not become 100x30"
# laid_out W H: the pane is WxH and pooltop drew for that size: header, table head, the 3
# worker rows, the header's counts not cut ("input complete" ends a line) and the key hints
# on the last line.
laid_out() {
	[ "$(tm display -p -t "$TM_TARGET" "#{pane_width}x#{pane_height}")" = "$1x$2" ] &&
		printf '%s\n' "$SCREEN" | grep -Eq "^pooltop  --builtin sleep:$ms -j 3  \[RUNNING\]" &&
		printf '%s\n' "$SCREEN" | grep -Eq "^workers 3 alive" &&
		printf '%s\n' "$SCREEN" | grep -Eq "input complete$" &&
		printf '%s\n' "$SCREEN" | grep -Eq "$TABLE_HEAD" &&
		[ "$(table_pids | wc -l)" -eq 3 ] &&
		[ "$(printf '%s\n' "$SCREEN" | wc -l)" -eq "$2" ] &&
		printf '%s\n' "$SCREEN" | tail -1 | grep -Eq '^t:term k:kill'
}
if wait_until 'laid_out 100 30' 3; then
	ok "resized to 100x30: header, table and key hints are laid out for 100x30"
else
	not_ok "resized to 100x30: header, table and key hints are laid out for 100x30"
	diag "pane: $(tm display -p -t "$TM_TARGET" "#{pane_width}x#{pane_height}")"
	diag_screen
fi
tm resize-window -t "$TM_TARGET" -x 30 -y 8
screen_like 'terminal too small' 3 "resized to 30x8: 'terminal too small'"
check "pooltop survives a tiny terminal" alive "$PID"
tm resize-window -t "$TM_TARGET" -x 120 -y 36
if wait_until 'laid_out 120 36 && printf "%s\n" "$SCREEN" | grep -Eq "$TABLE_HEAD +RST ITEM" &&
	! printf "%s\n" "$SCREEN" | grep -q "too small"' 3; then
	ok "back to 120x36: the full table is redrawn"
else
	not_ok "back to 120x36: the full table is redrawn"
	diag_screen
fi

# Pause: no new item starts; items in hand finish.
tm_keys p
screen_like '\[PAUSED\]' 3 "p: the header says PAUSED"
if wait_screen ' 0 running' 3; then
	ok "p: the items in hand finish (0 running)"
else
	not_ok "p: the items in hand finish (0 running)"
	diag_screen
fi
d=$(header_num "done")
# Nothing may start for a while: a wait that should time out (1.5 s = 5 item times; scaled, as
# the items are).
if wait_until '[ "$(header_num "done")" != "$d" ] || [ "$(header_num running)" != 0 ]' 1.5; then
	not_ok "paused: no item starts (done stays $d, 0 running)"
	diag_screen
else
	ok "paused: no item starts (done stays $d, 0 running)"
fi
tm_keys p
screen_like '\[RUNNING\]' 3 "p again: RUNNING"
screen_until '[ "$(header_num "done")" -gt "$d" ]' 3 "p again: items are done again"

# + and -: the pool size and the live worker processes.
tm_keys +
screen_until '[ "$(header_size)" = 4 ]' 3 "+: the header says size 4"
screen_until '[ "$(kids "$PID" | wc -l)" -eq 4 ] && pids_match' 3 \
	"+: 4 worker processes, the same PIDs as the table's"
tm_keys -
screen_until '[ "$(header_size)" = 3 ]' 3 "-: the header says size 3"
screen_until '[ "$(kids "$PID" | wc -l)" -eq 3 ] && pids_match' 3 \
	"-: 3 worker processes, the same PIDs as the table's"
tm_keys -
screen_until '[ "$(header_size)" = 2 ]' 3 "- again: the header says size 2"
screen_until '[ "$(kids "$PID" | wc -l)" -eq 2 ] && pids_match' 3 \
	"- again: 2 worker processes, the same PIDs as the table's"
# Two presses that arrive in one read (a paste, key repeat, tmux send-keys) count twice.
tm_keys + +
screen_until '[ "$(header_size)" = 4 ] && [ "$(kids "$PID" | wc -l)" -eq 4 ]' 3 \
	"+ + in one burst: size 4 and 4 worker processes"

# T asks first, as q does; Esc cancels and nothing is stopped.
tm_keys T
screen_like 'Terminate all workers\?' 3 "T: asks before terminating all"
tm_keys Escape
screen_until '! printf "%s\n" "$SCREEN" | grep -q "Terminate all workers" &&
	[ "$(kids "$PID" | wc -l)" -eq 4 ]' 3 "T, Esc: cancelled, the 4 workers still run"
# Keys htop users try: F1 is help, F10 quits (asking), an unbound key is said.
tm_keys F1 NPage
screen_like '^ *\? F1 +this help' 3 "F1: the help"
tm_keys F1
tm_keys F10
screen_like 'Work remains\. Quit how\?' 3 "F10: asks how to quit, as q"
tm_keys Escape
tm_keys F5
screen_like 'KEY_F\(5\): no such key here; \? or F1 lists the keys' 3 "an unbound key is said, not ignored"
# T, then y: terminate all; the batch is over.
tm_keys T y
wait_exit 5
if [ "$RC" != timeout ] && [ "$RC" -ne 0 ]; then
	ok "T: terminates all, pooltop exits, non-zero ($RC)"
else
	not_ok "T: terminates all, pooltop exits, non-zero ($RC)"
	diag_screen
fi
like "$(cat "$R/err")" '-15 SIGTERM' "T: the summary counts the items failed with -15 SIGTERM"
if wait_for no_live_procs 3; then ok "T: no worker left"; else not_ok "T: no worker left"; fi

# --- items on stdin, keys from the terminal ---------------------------------------------------
# The items read must still be running when J is seen on the screen (scaled, as above).
TM_STDIN="seq 1 10; exec sleep $(scaled 60)" tm_start stdin -j 2 --results r --builtin "sleep:$ms"
screen_like "^pooltop  --builtin sleep:$ms -j 2  \\[RUNNING\\]" 5 \
	"items on stdin: the dashboard shows"
screen_like 'input reading' 3 "items on stdin: the header says input reading (stdin still open)"
tm_keys J
screen_like 'joining all' 3 "J: 'joining all' (keys are read from the terminal)"
wait_exit 10
is "$RC" 0 "J: pooltop finishes what it read and exits 0"
is "$(json_seqs "$R/r" 2>/dev/null)" "1 2 3 4 5 6 7 8 9 10" "J: the 10 items read are all in --results"
like "$(cat "$R/err")" '^pooltop: 10 done, 0 failed' "J: the summary on stderr (stdout is for results)"
terminal_points "items on stdin"

# --- several ::: sources with the terminal on stdin: not read, the values shown joined ----------
# Each job waits on the test's gate (lib.sh; flock(1) runs it under a shared lock) until the
# test has looked at the running items.
gate_hold
tm_start sources -j 2 -- flock -s "$T/gate" sh -c 'echo "$1-$2"' _ ::: a b ::: x y
screen_like ' 1:a x *$' 5 "several sources: the dashboard runs them, ITEM shows the values joined"
gate_open
wait_exit 30
is "$RC" 0 "several sources on a terminal: exit status 0"
is "$(sort "$R/out" | grep -Ev '^pooltop:' | paste -sd' ')" "a-x a-y b-x b-y" \
	"several sources on a terminal: every combination ran"
tm_stop

# --- an unknown TERM: headless, said in one line -------------------------------------------------
# demo items: an integer prints its square; sleep:400 keeps it running a moment.
TM_TERM=nosuchterm tm_start term -j 2 --builtin demo ::: 1 2 3 sleep:400
wait_until 'printf "%s\n" "$SCREEN" | grep -q "RUNNING" || [ -s "$R/status" ]' 10
unlike "$SCREEN" 'RUNNING' "TERM=nosuchterm: no dashboard on the terminal while it runs"
wait_exit 10
is "$RC" 0 "TERM=nosuchterm: exit status 0"
is "$(head -1 "$R/err")" "pooltop: unknown terminal type 'nosuchterm': running headless" \
	"TERM=nosuchterm: the notice is the first line on stderr"
is "$(grep -c 'nosuchterm' "$R/err")" 1 "TERM=nosuchterm: said once"
is "$(sort -n "$R/out" | grep -Ev '^pooltop:' | paste -sd' ')" "1 4 9" "TERM=nosuchterm: the results on stdout"

# --- colours: on by default, none with NO_COLOR; the states stay readable as words ---------------
# fg_colours: how many foreground colour sequences the screen holds (tmux renders them as SGR).
fg_colours() { tm capture-pane -e -p -t "$TM_TARGET" | grep -cE $'\e\\[([0-9]+;)*(3[0-7]|38;5;[0-9]+)m'; }
tm_start colour -j 1 --builtin "sleep:$(scaled_ms 3000)" ::: 1 2
screen_until '[ -n "$(row_of_state BUSY)" ]' 5 "colour: a BUSY row"
n=$(fg_colours)
if [ "$n" -gt 0 ]; then ok "colour: the screen has colours ($n lines)"; else not_ok "colour: the screen has colours"; fi
tm_stop
export NO_COLOR=1
tm_start nocolour -j 1 --builtin "sleep:$(scaled_ms 3000)" ::: 1 2
screen_until '[ -n "$(row_of_state BUSY)" ]' 5 "NO_COLOR: the state is still shown as a word (BUSY)"
is "$(fg_colours)" 0 "NO_COLOR: no colour on the screen"
tm_stop
unset NO_COLOR

# --- outputs with stdout on the terminal: kept, and printed once the dashboard has closed ------
gate_hold
TM_STDOUT_TTY=1 tm_start ttyout -j 2 -- flock -s "$T/gate" sh -c 'echo "item-$1"' _ ::: 1 2 3 4
screen_like 'out: shown on exit' 5 "stdout a terminal: the footer says the outputs are shown on exit"
tm resize-window -t "$TM_TARGET" -x 60 -y 30
screen_like '\?:help q:quit' 5 "at 60 columns the footer keeps ?:help and q:quit"
gate_open
wait_exit 30
is "$RC" 0 "stdout a terminal: the batch ends, exit status 0"
SCREEN=$(screen)
is "$(printf '%s\n' "$SCREEN" | grep -cxE 'item-[1-4]')" 4 \
	"stdout a terminal: every item's output is on the terminal after the dashboard closed"
tm_stop

# --- pooltop demo exitcodes (no tmux needed) ---------------------------------------------------
out=$(pt 30 demo exitcodes </dev/null 2>"$T/ec.err")
rc=$?
is "$rc" 0 "demo exitcodes: exit status 0"
is "$(printf '%s\n' "$out" | grep -E '\.exitcode = ')" "exit_error.exitcode = 1
exit_ok.exitcode = 0
return_value.exitcode = 0
raises.exitcode = 1
terminated.exitcode = -15" "demo exitcodes: the five NAME.exitcode lines, in order"

# --- pooltop demo: every state and kind of exit code within 30 s -------------------------------
TM_STAY=1 tm_start demo demo
t0=$(now_us)
# left: what is left of the 30 s, unscaled (the waits scale it).
left() {
	awk -v t0="$t0" -v now="$(now_us)" -v s="$POOLTOP_TEST_SCALE" \
		'BEGIN { l = 30 - (now - t0) / 1e6 / s; printf "%.2f", (l > 0 ? l : 0) }'
}
screen_until '[ -n "$(row_of_state BUSY)" ]' "$(left)" "demo: a BUSY row"
screen_like 'exited [1-9][0-9]*[;:] ' "$(left)" "demo: an event with a positive exit code"
screen_like 'exited -[0-9]+ \(SIG[A-Z]+; a shell shows 1[0-9][0-9]\)' "$(left)" \
	"demo: an event with a negative exit code, its signal and the shell's 128+N"
screen_until '[ -n "$(row_of_state HUNG)" ]' "$(left)" "demo: a HUNG row"
diag "demo: all seen within $((($(now_us) - t0) / 1000)) ms"
tm_keys q
screen_like 'Work remains\. Quit how\?' 3 "demo, q: asks how to quit"
tm_keys t
wait_exit 5
if [ "$RC" != timeout ]; then ok "demo, q, t: pooltop exits ($RC)"; else not_ok "demo, q, t: pooltop exits"; fi
tm_stop

# --- the header's graphs: items done and failed per 2 s, UTF-8 blocks or ASCII -----------------
items=()
for i in $(seq 400); do if [ $((i % 3)) = 0 ]; then items+=(fail); else items+=("sleep:$(scaled_ms 40)"); fi; done
LC_ALL=C tm_start graphs -j 2 --builtin demo ::: "${items[@]}"
screen_like '^done \| *[._~=+*#-]+\| max [0-9.]+/s +failed \| *[._~=+*#-]+\| max' 10 \
	"C locale: the header graphs items done and failed in ASCII marks, with the peak rates"
tm_stop
LC_ALL=C.UTF-8 tm_start graphs8 -j 2 --builtin demo ::: "${items[@]}"
screen_like '^done \| *[▁▂▃▄▅▆▇█]+\| max [0-9.]+/s +failed \| *[▁▂▃▄▅▆▇█]+\| max' 10 \
	"UTF-8 locale: the graphs are drawn with block marks"
tm_stop

# --- l: the event log, full screen: every event of the run, scrolled, whole lines -----------------
# 25 items failing once, then again (--retries 1), make some 60 events, more than the 36 rows;
# a segfault's event is longer than the 120 columns.
fails=()
for _ in $(seq 25); do fails+=(fail); done
TM_STAY=1 tm_start log -j 2 --retries 1 --builtin demo ::: segv "${fails[@]}"
wait_screen '\[FINISHED\]' 20
tm_keys l
screen_like '^pooltop events: all [0-9]+ of the run' 3 "log: l opens the event log, full screen"
nev=$(printf '%s\n' "$SCREEN" | sed -En 's/^pooltop events: all ([0-9]+) of the run.*/\1/p')
check "log: the run has more events ($nev) than the screen has rows" test "${nev:-0}" -gt 36
like "$SCREEN" "^[0-9]+-$nev of $nev " "log: it opens at the end, the latest event last"
at_end=$SCREEN
tm_keys Home
screen_like "^1-[0-9]+ of $nev " 3 "log: Home scrolls to the first event"
first=$(printf '%s\n' "$SCREEN" | sed -n 2p)
like "$first" '^[0-9]{2}:[0-9]{2}:[0-9]{2} worker [01] pid [0-9]+ started' \
	"log: the first event of the run first, with its wall-clock time"
if [ -n "$first" ] && ! printf '%s\n' "$at_end" | grep -qxF -- "$first"; then
	ok "log: the first event was off the screen at the end"
else
	not_ok "log: the first event was off the screen at the end"
fi
# The segfault's event is among the first; under load the other worker may fail many items
# before it is seen: page down to it.
for _ in 1 2 3; do
	printf '%s\n' "$SCREEN" | grep -q "item 1 'segv' requeued" && break
	range=$(printf '%s\n' "$SCREEN" | grep -Eo -m1 "^[0-9]+-[0-9]+ of $nev ")
	tm_keys NPage
	wait_screen_gone "^$range" 3 || break
done
after=$(printf '%s\n' "$SCREEN" | grep -A1 "item 1 'segv' requeued" | sed -n 2p)
like "$after" '^ {9}[^ ].*fini did not run *$' \
	"log: an event longer than the width is shown whole, wrapped under its text"
tm_keys PgDn
screen_like "^[2-9][0-9]*-[0-9]+ of $nev " 3 "log: PgDn scrolls down a page"
top=$(printf '%s\n' "$SCREEN" | sed -En "s/^([0-9]+)-[0-9]+ of $nev .*/\\1/p")
tm_keys Up
screen_like "^$((${top:-2} - 1))-[0-9]+ of $nev " 3 "log: Up scrolls back one event"
tm_keys End
screen_like "^[0-9]+-$nev of $nev " 3 "log: End goes back to the latest"
tm_keys Escape
screen_like '\[FINISHED\]' 3 "log: Esc goes back to the workers"
tm_keys q
wait_exit 3
is "$RC" 26 "log: q then leaves, 26 items failed"
tm_stop

# --- the log keeps the last 10000 events, and says how many earlier ones it dropped -------------
seq 10100 >"$T/many"
TM_STAY=1 tm_start logdrop -j 2 --builtin fail -a "$T/many"
wait_screen '\[FINISHED\]' 60
tm_keys l
screen_like '^pooltop events: 10000 kept, [0-9]+ earlier dropped \(the last 10000 are kept\)' 3 \
	"log, 10100 items failed: 10000 events kept, the earlier ones counted as dropped"
tm_keys Home
screen_like "^1-[0-9]+ of 10000 " 3 "log, 10100 items failed: Home goes to the first event kept"
like "$(printf '%s\n' "$SCREEN" | sed -n 2p)" "^[0-9:]{8} item [0-9]+ '[0-9]+' failed" \
	"log, 10100 items failed: the first event kept is a later item's, not the first worker's start"
tm_keys q
screen_like '\[FINISHED\]' 3 "log, 10100 items failed: q goes back to the workers"
tm_keys q
wait_exit 3
is "$RC" 101 "log, 10100 items failed: q again leaves, exit 101"
tm_stop
