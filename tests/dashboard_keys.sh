#!/bin/bash
# dashboard_keys.sh: the dashboard in a real terminal (tmux), real keys, real processes:
# the PIDs on screen are the workers; t, k, j on a busy worker; tagging; a hung item killed.
# shellcheck disable=SC2016 # wait_until and friends take code in single quotes.
# shellcheck source=tests/tmux_lib.sh
. "${TESTS_DIR:-$(dirname "$0")}/tmux_lib.sh"

plan 51

# all_busy N: the first N slots' rows are BUSY.
all_busy() {
	local i
	for ((i = 0; i < $1; i++)); do
		[ "$(row_state "$i")" = BUSY ] || return 1
	done
}

# pid_gone P: P is no longer a live process (nor a live child of pooltop), while pooltop
# itself still runs (so that its end does not pass for the worker's).
pid_gone() { alive "$PID" && ! alive "$1" && ! kids "$PID" | grep -qx -- "$1"; }

# new_pid_in SLOT OLD: the slot's row shows a PID other than OLD, and it is a live worker.
new_pid_in() {
	local p
	p=$(row_pid "$1")
	[ -n "$p" ] && [ "$p" != "$2" ] && kids "$PID" | grep -qx -- "$p"
}

# check_result SEQ WANT DESC: "pid exitcode status attempts" of SEQ in $R/r.
check_result() {
	is "$(json_get "$R/r" "$1" pid exitcode status attempts)" "$2" "$3"
}

# The items that t, k and tags act on must still be running when the keys arrive, however slowly
# a loaded machine gets there: they wait on the test's gate (lib.sh), which it opens once it has
# looked, and the batch then ends at once. j lets its item end, so its items have durations.

# --- 1, 2: the PIDs on screen; t on a busy worker, --retries 0 ---------------------------
# The gate: with items of 2 s, the first dashboard of the test (it starts slowest) under ASan
# with two other tests beside it got its t as the worker moved on to item 3 (CI, once).
gate_hold
tm_start term0 -j 2 --retries 0 --results r --plugin "$GATE" ::: 1 2 3 4
wait_until 'all_busy 2' 5 || diag "not both BUSY within 5 s"
if wait_until 'pids_match' 3; then
	ok "the PIDs in the table are exactly pooltop's children ($(table_pids | paste -sd' '))"
else
	not_ok "the PIDs in the table are exactly pooltop's children"
	diag "table: $(table_pids | paste -sd' ')  children of $PID: $(kids "$PID" | paste -sd' ')"
	diag_screen
fi
is "$(table_pids | wc -l)" 2 "-j 2: two worker PIDs in the table"

p0=$(row_pid 0)
s0=$(row_seq 0)
diag "t on slot 0: pid $p0, item seq $s0"
tm_select 0
tm_keys t
if wait_for 'pid_gone "$p0"' 3; then
	ok "t: the terminated worker's PID $p0 is gone from the process table"
else
	not_ok "t: the terminated worker's PID $p0 is gone from the process table"
	diag "$(ps -o pid,ppid,stat,args -p "$p0" 2>&1)"
fi
screen_until '[ "$(row_exit 0)" = "-15 SIGTERM" ]' 3 "t: its row shows EXIT -15 SIGTERM"
screen_until 'new_pid_in 0 "$p0"' 3 "t: the slot runs a new worker PID, a live child of pooltop"
screen_like "worker 0 pid $p0 exited -15 \\(SIGTERM; a shell shows 143\\); item [0-9]+ .* failed; terminated by user" 3 \
	"t: the event log says 'exited -15 (SIGTERM; a shell shows 143); item N failed; terminated by user'"
# The same event line ends with the item's fate (shown at once with the rest of the line).
screen_like "worker 0 pid $p0 exited -15 .*; item $s0 '$s0' failed" 1 \
	"t, --retries 0: the event log says item $s0 '$s0' failed"
screen_like "items [0-9]+ done, 1 failed, 0 retried" 3 "t, --retries 0: the header counts 1 failed, 0 retried"
gate_open
wait_exit 15
is "$RC" 1 "t, --retries 0: the batch finishes by itself, exit status 1 (one failed item)"
check_result "$s0" "$p0 -15 failed 1" "t, --retries 0: --results has item $s0 (run by pid $p0) failed with exitcode -15"

# --- 2b: t with --retries 1: the item is requeued and ends done -----------------------------
gate_hold
tm_start term1 -j 2 --retries 1 --results r --plugin "$GATE" ::: 1 2 3 4
wait_until 'all_busy 2' 5 || diag "not both BUSY within 5 s"
p0=$(row_pid 0)
s0=$(row_seq 0)
tm_select 0
tm_keys t
screen_until '[ "$(row_exit 0)" = "-15 SIGTERM" ] && new_pid_in 0 "$p0"' 3 \
	"t, --retries 1: the row shows -15 SIGTERM and a new PID"
screen_like "worker 0 pid $p0 exited -15 .*terminated by user" 3 "t, --retries 1: the event log says terminated by user"
screen_like "worker 0 pid $p0 exited -15 .*; item $s0 '$s0' requeued 1/1" 1 \
	"t, --retries 1: the event log says item $s0 '$s0' requeued 1/1"
screen_like "items [0-9]+ done, 0 failed, 1 retried" 3 "t, --retries 1: the header counts 0 failed, 1 retried"
gate_open
wait_exit 15
is "$RC" 0 "t, --retries 1: the batch finishes, exit status 0"
is "$(json_get "$R/r" "$s0" exitcode status attempts)" "0 done 2" \
	"t, --retries 1: item $s0 was requeued and ends done on its 2nd attempt"

# --- 3: k on a busy worker ---------------------------------------------------------------------
gate_hold
tm_start kill -j 2 --retries 0 --results r --plugin "$GATE" ::: 1 2 3 4
wait_until 'all_busy 2' 5 || diag "not both BUSY within 5 s"
p1=$(row_pid 1)
s1=$(row_seq 1)
p0=$(row_pid 0)
diag "k on slot 1: pid $p1, item seq $s1"
tm_select 1
tm_keys k
if wait_for 'pid_gone "$p1"' 3; then
	ok "k: the killed worker's PID $p1 is gone from the process table"
else
	not_ok "k: the killed worker's PID $p1 is gone from the process table"
fi
screen_until '[ "$(row_exit 1)" = "-9 SIGKILL" ]' 3 "k: its row shows EXIT -9 SIGKILL"
screen_until 'new_pid_in 1 "$p1"' 3 "k: the slot runs a new worker PID, a live child of pooltop"
screen_until 'row_exit_past 1 && [ "$(row_exit 1)" = "-9 SIGKILL" ]' 3 \
	"k: with the new worker running, the -9 is marked as the previous process's ('was')"
is "$(row_pid 0) $(row_exit 0)" "$p0 -" "k: the other worker (slot 0) is untouched"
screen_like "worker 1 pid $p1 exited -9 \\(SIGKILL; a shell shows 137\\); item [0-9]+ .*; killed by user" 3 \
	"k: the event log says 'exited -9 (SIGKILL; a shell shows 137); item N ...; killed by user'"
gate_open
wait_exit 15
is "$RC" 1 "k: the batch finishes by itself, exit status 1"
check_result "$s1" "$p1 -9 failed 1" "k: --results has item $s1 (run by pid $p1) failed with exitcode -9"

# --- 4: j on a busy worker -------------------------------------------------------------------
# Eight items, each its sleep in ms: the batch must outlast the checks after the j (the other
# worker runs the six short ones after its long one).
tm_start join -j 2 --results r --builtin sleep ::: $(scaled_ms 1000) $(scaled_ms 1000) \
	$(for i in 1 2 3 4 5 6; do scaled_ms 500; done)
wait_until 'all_busy 2' 5 || diag "not both BUSY within 5 s"
p0=$(row_pid 0)
s0=$(row_seq 0)
diag "j on slot 0: pid $p0, item seq $s0"
tm_select 0
tm_keys j
screen_until '[ "$(row_state 0)" = EXITED ]' 5 "j: the row ends EXITED"
is "$(row_exit 0)" 0 "j: its EXIT is 0"
screen_like "worker 0 pid $p0 exited 0.*; joined by user; fini ran" 3 \
	"j: the event log says 'joined by user; fini ran'"
if wait_for 'pid_gone "$p0"' 3 && [ "$(kids "$PID")" = "$(row_pid 1)" ]; then
	ok "j: the worker is gone and not replaced (pooltop's only child is slot 1's)"
else
	not_ok "j: the worker is gone and not replaced (pooltop's only child is slot 1's)"
	diag "children: $(kids "$PID" | paste -sd' ')  slot 1: $(row_pid 1)"
	diag_screen
fi
rp=$(row_pid 0)
if [ "$rp" = - ] || [ "$rp" = "$p0" ]; then
	ok "j: the EXITED row shows no new PID ('$rp')"
else
	not_ok "j: the EXITED row shows no new PID ('$rp')"
	diag_screen
fi
tm_select 0
tm_keys Enter
screen_like "worker 0 +no process \\(last pid [0-9]+\\) +EXITED \\(fini ran\\)" 3 "j: the detail view says EXITED (fini ran) and the last pid"
tm_keys Escape
wait_exit 15
is "$RC" 0 "j: the batch still finishes, exit status 0"
check_result "$s0" "$p0 0 done 1" "j: the joined worker's item $s0 ends done (by pid $p0)"
is "$(json_seqs "$R/r") / $(grep -c '"status":"done"' "$R/r")" "1 2 3 4 5 6 7 8 / 8" "j: every item done"

# --- 5: Space tags two workers, then t acts on both ------------------------------------------
gate_hold
tm_start tag -j 3 --retries 0 --results r --plugin "$GATE" ::: 1 2 3 4 5 6
wait_until 'all_busy 3' 5 || diag "not all three BUSY within 5 s"
p0=$(row_pid 0)
p1=$(row_pid 1)
p2=$(row_pid 2)
tm_select 0
tm_keys Space Space
screen_until 'row 0 | grep -q "^.\*" && row 1 | grep -q "^.\*" && ! row 2 | grep -q "^.\*"' 3 \
	"Space twice: rows 0 and 1 are tagged '*', row 2 is not"
tm_keys t
screen_until '[ "$(row_exit 0)" = "-15 SIGTERM" ] && [ "$(row_exit 1)" = "-15 SIGTERM" ]' 3 \
	"tagged + t: both tagged rows show -15 SIGTERM"
if wait_for 'pid_gone "$p0" && pid_gone "$p1"' 3; then
	ok "tagged + t: both tagged PIDs ($p0 $p1) are gone"
else
	not_ok "tagged + t: both tagged PIDs ($p0 $p1) are gone"
fi
is "$(row_pid 2) $(row_exit 2) $(alive "$p2" && echo alive)" "$p2 - alive" "tagged + t: the untagged worker (slot 2) is untouched"
screen_like "SIGTERM sent 2 tagged workers" 3 "tagged + t: the footer says 'SIGTERM sent 2 tagged workers'"
gate_open
wait_exit 15
is "$RC" 2 "tagged + t: the batch finishes, exit status 2 (two failed items)"

# --- 6: a hang item shows HUNG; killing it lets the batch finish --------------------------------
# 'hang' first: the worker that takes it is the first to take items at all.
tm_start hang -j 2 --retries 0 --results r --hang-after 1s --builtin demo \
	::: hang sleep:300 sleep:300 sleep:300 sleep:300
screen_until '[ -n "$(row_of_state HUNG)" ]' 6 "--hang-after 1s: the worker on 'hang' shows HUNG"
screen_like "workers 2 alive, [0-9]+ busy, 1 hung" 2 "the header counts 1 hung"
# The issue: "a HUNG worker ... the batch goes on": the other worker runs every other item.
screen_like "items 4 done, 0 failed, 0 retried, 1 running, 0 queued" 3 \
	"while one item hangs, the other worker runs the 4 other items (the batch goes on)"
hs=$(row_of_state HUNG)
hp=$(row_pid "${hs:-0}")
hq=$(row_seq "${hs:-0}")
diag "HUNG: slot $hs pid $hp item seq $hq"
wait_exit 0.5
is "$RC" timeout "the batch does not finish while the item hangs"
tm_select "${hs:-0}"
tm_keys k
wait_exit 10
is "$RC" 1 "k on the HUNG worker: the batch finishes, exit status 1 (one failed item)"
is "$(json_get "$R/r" "${hq:-1}" item exitcode status)" "hang -9 failed" "the hang item is failed with exitcode -9"
if wait_for no_live_procs 5; then
	ok "no pooltop process or worker left"
else
	not_ok "no pooltop process or worker left"
	diag "$(ps -o pid,ppid,stat,args -p "$(our_procs | paste -sd,)" 2>&1)"
fi
tm_stop

# --- h: the next HUNG worker, among 48 (most of them off the screen) ---------------------------------
items=()
for i in $(seq 60); do if [ "$i" = 47 ]; then items+=(hang); else items+=("sleep:$(scaled_ms 200)"); fi; done
tm_start find -j 48 --hang-after 1s --builtin demo ::: "${items[@]}"
screen_like "workers [0-9]+ alive, [0-9]+ busy, 1 hung \\(h: find\\)" 15 \
	"-j 48: the header counts 1 hung and says h finds it"
tm_keys h
screen_until 'printf "%s\n" "$SCREEN" | grep -Eq "^>[* ] +[0-9]+ +[0-9]+ +HUNG "' 3 \
	"h: the selected row is the HUNG worker, scrolled into view"
tm_stop

# --- the mouse: a click is a press and a release ~100 ms later, as two reads -----------------
# mouse_report BUTTON X Y [m]: an SGR mouse report, as xterm-256color's kmous (ESC [ <) says a
# terminal sends: ESC [ < BUTTON ; column ; line, both 1-based, then M for a press or m for its
# release (BUTTON 0 the left one, 2 the right one).
mouse_report() { printf '\033[<%d;%d;%d%s' "$1" $(($2 + 1)) $(($3 + 1)) "${4:-M}"; }
# elapsed_ds: the header's elapsed time in tenths of a second.
elapsed_ds() {
	local t
	t=$(printf '%s\n' "$SCREEN" | grep -Eo -m1 'elapsed [0-9]+\.[0-9]s' | tr -dc 0-9)
	echo $((10#${t:-0})) # "0.8s" is 8, not an octal 08
}
tm_start mouse -j 2 --builtin "sleep:$(scaled_ms 60000)" ::: 1 2
wait_until 'all_busy 2' 5 || diag "not both BUSY within 5 s"
line=$(printf '%s\n' "$SCREEN" | grep -n -E -m1 "^[> ][* ] +1 +[0-9]+ " | cut -d: -f1)
tm_keys -l "$(mouse_report 0 10 $((line - 1)))"
sleep 0.1 # not a wait for a condition: a real mouse's release comes ~100 ms after its press
tm_keys -l "$(mouse_report 0 10 $((line - 1)) m)"
screen_until '[ "$(selected_slot)" = 1 ]' 3 "mouse: a click on row 1 selects it"
e0=$(elapsed_ds)
diag "mouse: clicked on line $line; the clock then at $e0 tenths of a second"
screen_until '[ "$(elapsed_ds)" -ge $((e0 + 10)) ]' 5 \
	"mouse: after the click the loop goes on (the clock moves a second on)"
tm_keys -l "$(mouse_report 2 10 $((line - 1)))" # the right button: not used, not a freeze
tm_keys -l "$(mouse_report 2 10 $((line - 1)) m)"
e0=$(elapsed_ds)
screen_until '[ "$(elapsed_ds)" -ge $((e0 + 10)) ]' 5 \
	"mouse: a right click does not freeze it either"
tm_stop
