#!/bin/bash
# dashboard_signals.sh: the signal menu (s, F9) and kill-and-requeue (K), in a real terminal
# with real processes: STOP shows STOPPED and really stops the job (ps: T), never HUNG; CONT
# resumes it and the item ends done; t, --timeout and terminate all end a stopped process with
# -15, not -9; K runs the item again, done once and not counted as an attempt; tagged workers
# all get the signal.
# shellcheck disable=SC2016 # wait_until and friends take code in single quotes.
# shellcheck source=tests/tmux_lib.sh
. "${TESTS_DIR:-$(dirname "$0")}/tmux_lib.sh"

plan 48

# job_col SLOT: the JOB column of the slot's row (after EXIT, while EXIT is "-").
job_col() { row "$1" | awk '{ sub(/^[> ][* ]/, ""); print $5 }'; }
# stopped PID: ps says the process is stopped (T).
stopped() { ps -o stat= -p "$1" 2>/dev/null | grep -q '^T'; }
# running PID: alive and not stopped.
running() { alive "$1" && ! stopped "$1"; }
# age_past SLOT S: the slot's AGE is at least S seconds (AGE is third from the end).
age_past() {
	# AGE as the dashboard writes it: "9.9s", "2m05s" (past 10 s), "1h02m".
	row "$1" | awk -v s="$2" '{ a = $(NF - 2)
		if (a ~ /^[0-9.]+s$/) { sub(/s$/, "", a); t = a + 0 }
		else if (a ~ /^[0-9]+m[0-9]+s$/) { split(a, p, /[ms]/); t = p[1] * 60 + p[2] }
		else if (a ~ /^[0-9]+h[0-9]+m$/) { split(a, p, /[hm]/); t = p[1] * 3600 + p[2] * 60 }
		else exit 1
		exit !(t >= s + 0) }'
}
all_busy() {
	local i
	for ((i = 0; i < $1; i++)); do
		[ "$(row_state "$i")" = BUSY ] || return 1
	done
}
# menu_open: the signal menu is drawn.
menu_open() { wait_screen "Send a signal to " 3; }

# --- 1: STOP from the menu (Down to it, Enter), CONT by its shortcut; never HUNG -----------------
# The job sleeps in steps of 0.1 s: a single sleep's end is a point in time, which a long stop
# would pass (it would end as soon as continued). It runs 2 s in all, less than --hang-after
# (3 s), however long the keys before the STOP take on a loaded machine: HUNG after the CONT
# could only come of the time stopped.
hang=$(scaled 3)
tm_start stop -j 1 --hang-after "${hang}s" --results r \
	-- sh -c 'n=$1; while [ "$n" -gt 0 ]; do sleep 0.1; n=$((n - 1)); done' _ {} ::: "$(scaled_ms 2000 | awk '{ print int($1 / 100) }')"
screen_until '[ "$(row_state 0)" = BUSY ] && job_col 0 | grep -qE "^[0-9]+$"' 5 \
	"a command job runs in slot 0"
j=$(job_col 0)
w=$(row_pid 0)
diag "worker $w, job $j"
tm_keys s
screen_like "Send a signal to worker 0's job \\(pid $j\\)" 3 "s opens the signal menu, naming the job"
screen_like "s  STOP 19  stop" 1 "the menu lists STOP with its number and its shortcut"
tm_keys Down Down Down Down Down Down Down
screen_like "> s  STOP 19" 3 "Down moves the choice to STOP"
tm_keys Enter
screen_until '[ "$(row_state 0)" = STOPPED ]' 3 "STOP: the row shows STOPPED"
check "STOP: ps shows the job stopped (T)" wait_for 'stopped "$j"' 3
check "STOP went to the job's group, not to the worker (still running)" running "$w"
screen_like "worker 0 pid $w: SIGSTOP \\(19\\) sent to its job $j" 3 \
	"the footer says SIGSTOP (19) was sent to worker 0's job $j"
# Stopped past --hang-after (and then some): still STOPPED, not HUNG, none counted hung.
if wait_until "age_past 0 $(scaled 3.5)" 10 && [ "$(row_state 0)" = STOPPED ] &&
	printf '%s\n' "$SCREEN" | grep -q ", 0 hung"; then
	ok "stopped past --hang-after: still STOPPED, not HUNG, the header counts 0 hung"
else
	not_ok "stopped past --hang-after: still STOPPED, not HUNG, the header counts 0 hung"
	diag_screen
fi
tm_keys s
menu_open
tm_keys c
screen_until '[ "$(row_state 0)" != STOPPED ]' 3 "CONT (c in the menu): the row leaves STOPPED"
is "$(row_state 0)" BUSY "CONT: BUSY again, not HUNG (the time stopped is not running time)"
check "CONT: the job runs again (ps: not T)" wait_for 'running "$j"' 3
screen_like "SIGCONT \\(18\\) sent to its job $j" 3 "the footer says SIGCONT (18) was sent"
wait_exit 20
is "$RC" 0 "after CONT the item ends by itself: exit status 0"
is "$(json_get "$R/r" 1 exitcode status)" "0 done" "--results: the stopped and continued item is done"

# --- 2: t on a stopped built-in worker ends it with -15 ---------------------------------------
tm_start term -j 1 --retries 0 --results r --builtin "sleep:$(scaled_ms 20000)" ::: 1 2
screen_until '[ "$(row_state 0)" = BUSY ]' 5 "a built-in worker is busy"
w=$(row_pid 0)
tm_keys F9
menu_open
tm_keys s
screen_until '[ "$(row_state 0)" = STOPPED ]' 3 "F9 then s (STOP): the built-in worker shows STOPPED"
check "STOP: ps shows the worker itself stopped (it runs no job)" wait_for 'stopped "$w"' 3
screen_like "worker 0 pid $w: SIGSTOP \\(19\\) sent \\(to its process group\\)" 3 \
	"the footer says SIGSTOP was sent to the worker's group"
tm_keys t
screen_until '[ "$(row_exit 0)" = "-15 SIGTERM" ]' 5 "t on the STOPPED worker: it ends -15 SIGTERM"
tm_keys T y
wait_exit 10
is "$(json_get "$R/r" 1 exitcode status)" "-15 failed" "--results: its item failed with -15, not -9"

# --- 3: --timeout on a stopped job: the term-seq continues it, it ends -15 ----------------------
tm_start timeout -j 1 --timeout "$(scaled 2)" --results r -- sleep 60 ::: 1
screen_until '[ "$(row_state 0)" = BUSY ] && job_col 0 | grep -qE "^[0-9]+$"' 5 "a job runs"
j=$(job_col 0)
tm_keys s
menu_open
tm_keys s
screen_until '[ "$(row_state 0)" = STOPPED ]' 3 "STOP before --timeout: STOPPED"
check "the job is stopped (T)" wait_for 'stopped "$j"' 3
# TERM from the menu is sent as is: pending in the stopped job, which the footer says.
tm_keys s
menu_open
tm_keys t
screen_like "SIGTERM \\(15\\) sent to its job $j .*; it is stopped: it acts on it after CONT" 3 \
	"TERM from the menu to a stopped job: the footer says it acts on it after CONT"
if stopped "$j" && [ "$(row_state 0)" = STOPPED ]; then
	ok "the menu's TERM does not continue the job: still STOPPED, ps T"
else
	not_ok "the menu's TERM does not continue the job: still STOPPED, ps T"
	diag_screen
fi
wait_exit 20
is "$(json_get "$R/r" 1 exitcode status)" "-15 failed" \
	"--timeout on the stopped job: -15 (TERM, then CONT), not -9 after the term-seq"

# --- 4: K kills and requeues: the item runs again and ends done, counted once ------------------
# The job sleeps a minute the first time it runs an item, a moment the second time.
tm_start requeue -j 1 --retries 0 --results r --joblog jl \
	-- sh -c 'if [ -e "$1" ]; then echo "again $1"; exec sleep "$2"; fi; : >"$1"; exec sleep 60' \
	_ {} "$(scaled 1)" ::: k1
screen_until '[ "$(row_state 0)" = BUSY ] && job_col 0 | grep -qE "^[0-9]+$" && [ -e "$R/k1" ]' 5 \
	"the job runs the item the first time"
w=$(row_pid 0)
tm_keys K
screen_like "worker 0 pid $w: SIGKILL sent, its item requeued \\(not counted as an attempt\\)" 3 \
	"K: the footer says SIGKILL sent and the item requeued"
screen_like "worker 0 pid $w exited -9 .*; item 1 'k1' requeued \\(not counted as an attempt\\)" 5 \
	"K: the event log says the item was requeued, not counted as an attempt"
wait_exit 20
is "$RC" 0 "K: the batch finishes with exit status 0 (no failure)"
is "$(json_get "$R/r" 1 exitcode status attempts) $(json_count "$R/r")" "0 done 1 1" \
	"--results: one line for the item, done, exit code 0, 1 attempt"
is "$(awk -F'\t' 'NR > 1 { print $1, $7 }' "$R/jl" | paste -sd,)" "1 0" \
	"--joblog: one row for the item, Exitval 0"
like "$(cat "$R/err")" "1 done, 0 failed" "the summary says 1 done, 0 failed"
like "$(cat "$R/out")" "again k1" "the item's output is the second run's"

# --- 5: tagged workers all get the signal; Esc cancels; terminate all ends them -15 -------------
tm_start tag -j 3 --retries 0 --results r --builtin "sleep:$(scaled_ms 20000)" ::: 1 2 3
wait_until 'all_busy 3' 5 || diag "not all three BUSY within 5 s"
p0=$(row_pid 0)
p1=$(row_pid 1)
p2=$(row_pid 2)
diag "tagged: $p0 $p1; untagged: $p2"
# The help lists the new keys, and scrolls to the signal menu's own.
tm_keys '?'
screen_like '^ +s F9 +send a signal \(TERM KILL INT HUP QUIT USR1 USR2 STOP CONT\)' 3 \
	"? lists s F9: the signal menu"
like "$SCREEN" '  K +kill and requeue: SIGKILL' "? lists K: kill and requeue"
like "$SCREEN" 'scroll \([0-9]+-[0-9]+ of [0-9]+\)' "the help says it scrolls, and where it is"
tm_keys NPage NPage
screen_like '^in the signal menu:' 3 "PgDn scrolls the help down to the signal menu's keys"
like "$SCREEN" 't k i h \\ 1 2 s c +send TERM KILL INT HUP QUIT USR1 USR2 STOP CONT at once' \
	"the help lists the menu's shortcuts"
tm_keys Escape
wait_screen_gone '^in the signal menu:' 3 || diag "Esc did not leave the help"
tm_select 0
tm_keys Space Space
screen_until 'row 0 | grep -q "^.\*" && row 1 | grep -q "^.\*" && ! row 2 | grep -q "^.\*"' 3 \
	"Space twice: rows 0 and 1 are tagged"
tm_keys s
screen_like "Send a signal to the 2 tagged workers" 3 "the menu says it acts on the 2 tagged workers"
tm_keys Escape
if wait_screen_gone "Send a signal to " 3 && ! stopped "$p0" && ! stopped "$p1"; then
	ok "Esc closes the menu and sends nothing"
else
	not_ok "Esc closes the menu and sends nothing"
	diag_screen
fi
tm_keys s
menu_open
tm_keys s
screen_until '[ "$(row_state 0)" = STOPPED ] && [ "$(row_state 1)" = STOPPED ] && [ "$(row_state 2)" = BUSY ]' 3 \
	"STOP to the tagged: rows 0 and 1 STOPPED, row 2 still BUSY"
check "ps: both tagged workers are stopped (T), the third is not" \
	wait_for 'stopped "$p0" && stopped "$p1" && running "$p2"' 3
screen_like "SIGSTOP \\(19\\) sent to 2 tagged workers" 3 "the footer says SIGSTOP was sent to 2 tagged workers"
tm_keys T y
wait_exit 10
is "$RC" 3 "terminate all: exit status 3 (three failed items)"
is "$(for i in 1 2 3; do json_get "$R/r" "$i" exitcode; done | paste -sd' ')" "-15 -15 -15" \
	"terminate all (--term-seq): the items of the stopped workers too end -15, not -9"
tm_stop
