#!/bin/bash
# dashboard_jobs.sh: the dashboard running a command per item: the JOB column shows each
# worker's job PID, t and k on a worker end its job's whole process group (no orphan), and
# the detail view shows the job's stderr.
. "${TESTS_DIR:-$(dirname "$0")}/tmux_lib.sh"

plan 15

ptname

# sleep_pids: the pids of this run's jobs' sleeps, sorted.
sleep_pids() { pgrep -f "^sleep ${L}1\$" | sort -n; }
# job_col SLOT: the JOB column of the slot's row (after EXIT).
job_col() { row "$1" | awk '{ sub(/^[> ][* ]/, ""); print $5 }'; }

tm_start jobs -j 2 -- sh -c 'echo "stderr of item $1" >&2; sleep "$2"; :' _ {} "${L}1" ::: 1 2 3 4
screen_like '^ +# +PID +STATE +EXIT +JOB ' 5 "a command run shows a JOB column after EXIT"
wait_until '[ "$(sleep_pids | wc -l)" = 2 ] && [ -n "$(job_col 0 | grep -E "^[0-9]+$")" ] && [ -n "$(job_col 1 | grep -E "^[0-9]+$")" ]' 5 ||
	diag "the jobs did not start within 5 s"
j0=$(job_col 0)
j1=$(job_col 1)
# A job's PID is the shell's; its group holds the shell and its sleep.
if [ -n "$j0" ] && [ "$(ps -o pgid= -p "$j0" | tr -d ' ')" = "$j0" ] && [ "$(ps -o ppid= -p "$j0" | tr -d ' ')" = "$(row_pid 0)" ]; then
	ok "JOB shows the job's PID: a child of the worker, leading its own process group"
else
	not_ok "JOB shows the job's PID: a child of the worker, leading its own process group"
	diag "JOB $j0; worker $(row_pid 0); ps: $(ps -o pid,ppid,pgid,args -p "$j0" 2>&1)"
	diag_screen
fi
before=$(sleep_pids)
s0=$(pgrep -g "$j0" -f "^sleep ${L}1\$")

tm_select 0
tm_keys t
check "t on a worker running a command: its job's group is gone (the sleep $s0 too)" \
	wait_for '! kill -0 "$s0" 2>/dev/null && ! pgrep -g "$j0" >/dev/null' 5
screen_until '[ "$(row_exit 0)" = "-15 SIGTERM" ]' 5 "t: the row shows -15 SIGTERM"

s1=$(pgrep -g "$j1" -f "^sleep ${L}1\$")
tm_select 1
tm_keys k
check "k on a worker running a command: its job's group is gone (the sleep $s1 too)" \
	wait_for '! kill -0 "$s1" 2>/dev/null && ! pgrep -g "$j1" >/dev/null' 5
check "no sleep of the first two jobs is left anywhere" \
	wait_for '[ -z "$(sleep_pids | grep -Fx -f <(echo "$before"))" ]' 5

tm_select 0
tm_keys Enter
screen_like 'stderr of item [0-9]' 5 "the detail view shows the job's stderr"
tm_keys Escape
tm_keys T y
wait_exit 10
check "after T, no job of the run is left" wait_for '[ -z "$(sleep_pids)" ]' 5

# --- a job that cannot start: the row says NOSTART and why, the header counts it ------------------
# The workers may open no more files (prlimit on the running worker): pipe() fails with EMFILE,
# and the worker retries until the limit is lifted. The items come through a FIFO, once the
# limit is set.
mkfifo "$T/nostart.in"
TM_STDIN="exec cat $T/nostart.in" tm_start nostart -j 1 -- sh -c 'echo "$1"' _
exec 7>"$T/nostart.in"
wait_until '[ -n "$(row_pid 0)" ] && [ "$(row_state 0)" = IDLE ]' 10
w=$(row_pid 0)
nofile=$(prlimit --pid "$w" --nofile -o SOFT --noheadings | tr -d ' ')
prlimit --pid "$w" --nofile=3:
seq 3 >&7
screen_like 'NOSTART .* EMFILE\(pipe\) try [0-9]+' 10 \
	"a worker whose job cannot start: STATE NOSTART, and why (EMFILE in pipe), with its tries"
like "$SCREEN" 'workers 1 alive, [0-9]+ busy, 0 hung, 1 cannot start jobs' \
	"...and the header counts it"
prlimit --pid "$w" --nofile="$nofile":
screen_until '! printf "%s\n" "$SCREEN" | grep -q NOSTART' 10 "...until the limit is lifted"
exec 7>&-
wait_exit 10

# --- a persistent program slow to start: STARTING until it answers, not HUNG ---------------------
# Its start-up, past the 5 s HUNG threshold of a batch with no item done yet, is not its first
# item hanging. The threshold is the program's, in real seconds: the test looks 6 s after it saw
# STARTING (the worker started before that). The program's start-up ends only when the test
# opens its gate (lib.sh: flock(1) starts cat once the lock is free), after that look: a loaded
# machine's late look cannot find it done.
gate_hold
tm_start slowstart -j 1 --persistent -- flock -s "$T/gate" cat ::: a b
screen_until '[ "$(row_state 0)" = STARTING ]' 5 "a persistent program not answering yet: STARTING"
# Past the threshold, still STARTING, and the header counts no hung worker.
t0=$(now_us)
wait_until '[ $(($(now_us) - t0)) -gt 6000000 ] || [ "$(row_state 0)" != STARTING ]' 10
is "$(row_state 0)" STARTING "...still STARTING past the 5 s HUNG threshold"
like "$SCREEN" 'workers 1 alive, [0-9]+ busy, 0 hung' "...and not counted hung"
gate_open
wait_exit 20
is "$RC" 0 "...then it answers: the batch ends, exit status 0"

