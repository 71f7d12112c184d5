#!/bin/bash
# dashboard_pacing.sh: --delay and --memfree on the dashboard: the items held back count as
# queued, a join all (J) finishes them, still paced; the wait for memory is in the event log.
# shellcheck disable=SC2016 # wait_until and friends take code in single quotes.
# shellcheck source=tests/tmux_lib.sh
. "${TESTS_DIR:-$(dirname "$0")}/tmux_lib.sh"

plan 7

# --- --delay: held items are queued; J finishes them ------------------------------------------
# Eight instant items on a stdin kept open (the batch ends only when joined), 0.3 s apart.
TM_STDIN="seq 8; exec sleep $(scaled 60)" \
	tm_start delay -j 4 --delay 0.3 --results r -- true
screen_until '[ "$(header_num done)" = 1 ] && [ "$(header_num queued)" -ge 5 ]' 5 \
	"--delay: one item done, the ones held back counted as queued"
tm_keys J
wait_exit 15
is "$RC" 0 "--delay, J: pooltop exits 0 once the held items are finished"
is "$(grep -c '"status":"done"' "$R/r" 2>/dev/null)" 8 "--delay, J: every item read ran (8 done)"
tm_stop

# --- --memfree above what the machine has: the wait is in the event log ----------------------------
avail_kb=$(awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo)
tm_start mem -j 2 --memfree "$((2 * avail_kb))K" -- true ::: 1 2 3
screen_like 'memfree: waiting, [0-9.]+[KMGT] available < [0-9.]+[KMGT]' 5 \
	"--memfree twice MemAvailable: the event log says starts wait for memory"
screen_like '\[RUNNING\]  memfree: waiting, [0-9.]+[KMG] available < [0-9.]+[KMG]' 3 \
	"--memfree: the header says starts wait for memory"
screen_until '[ "$(header_num queued)" = 3 ] && [ "$(header_num done)" = 0 ]' 3 \
	"--memfree: the three items are queued, none done"
tm_keys T
wait_screen 'y T Enter|terminate all' 3
tm_keys y
wait_exit 10
is "$RC" 3 "--memfree, T y: terminated, exit status 3 (three items not run)"
