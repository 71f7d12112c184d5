#!/bin/bash
# dashboard_storm.sh: the dashboard through a storm (SIGKILL, SIGTERM, SIGSTOP/SIGCONT on
# random workers) while the user grows and shrinks the pool, pauses and resumes it, joins
# and restarts a slot: every item exactly once in --results, and the counts pooltop reports
# at the end equal the results file's.
. "${TESTS_DIR:-$(dirname "$0")}/tmux_lib.sh"

plan 9

ptname
N=60000
# Items of 0 ms, every fourth of 1 ms (--builtin sleep reads the ms from the item): the batch
# lasts a few seconds, long enough for the keys below, on a machine where 60,000 empty items
# take under two. A sanitized build runs them several times slower: a quarter of them checks
# the same there.
if sanitized; then
	N=15000
	diag "sanitized build: $N items"
fi
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) print (i % 4 ? 0 : 1) }' >"$T/items"

export KILLER_SIGS=KILL,TERM,STOP KILLER_ENGINE=1
killer "$PT_NAME" 0.003 "$T/kills" "$T/ready" &
kpid=$!
at_exit "kill -KILL \$(pgrep -P $kpid) $kpid 2>/dev/null"
wait_for '[ -s "$T/ready" ]' 30 || diag "the killer did not start"

tm_start storm -j 3 --retries 1000000 --results r -a "$T/items" --builtin sleep
screen_like '^pooltop  --builtin sleep -j 3  \[RUNNING\]' 5 "the dashboard runs through the storm"
# The user at work while the workers are being killed.
tm_keys + +
screen_like '\(size 5\)' 5 "+ + during the storm: the pool grows to 5"
tm_keys p
screen_like '\[PAUSED\]' 5 "p during the storm: paused"
tm_keys p -
screen_like '\(size 4\) \| ' 5 "p - : resumed, and shrunk to 4"
tm_select 0
tm_keys j
# The join done (or the batch over), r starts the slot again.
wait_until '[ "$(row_state 0)" = EXITED ] || [ -s "$R/status" ]' 5 ||
	{ diag "slot 0 not EXITED after j: $(row 0)"; diag_screen; }
tm_keys r
tm_keys +
wait_exit 120 || {
	SCREEN=$(screen)
	diag_screen
	diag "processes of the run: $(pgrep -a -x "$PT_NAME" | head -12)"
	diag "their states: $(for p in $(pgrep -x "$PT_NAME"); do cut -d' ' -f3 /proc/$p/stat; done | sort | uniq -c | tr '\n' ' ')"
}
is "$RC" 0 "the batch ends, exit status 0 (every item done)"
wait_for '! kill -0 "$kpid" 2>/dev/null' 35 || kill -KILL "$kpid" 2>/dev/null
read -r kills _ <"$T/kills" 2>/dev/null || kills=0
check "workers were signalled during the run ($kills signals)" test "${kills:-0}" -gt 10

v=$(python3 - "$R/r" "$N" <<'PY'
import json, sys
n = int(sys.argv[2])
seen = {}
for line in open(sys.argv[1]):
    o = json.loads(line)
    seen[o["seq"]] = seen.get(o["seq"], 0) + 1
dups = sum(1 for c in seen.values() if c > 1)
print(len(seen), dups, sum(1 for s in range(1, n + 1) if s not in seen))
PY
)
is "$v" "$N 0 0" "every item exactly once in --results (items, duplicated, missing)"
done_res=$(grep -c '"status":"done"' "$R/r")
failed_res=$(grep -c '"status":"failed"' "$R/r")
summary=$(grep -a ' done, ' "$R/err" | tail -1)
like "$summary" "^pooltop: $done_res done, $failed_res failed" \
	"the reported counts equal the results file's ($done_res done, $failed_res failed)"
check "no process of the run is left" wait_for no_procs_left 5
