#!/bin/bash
# wide.sh: pools of 1024 workers. 20,000 trivial items at -j 1024, and a batch whose first
# 1024 items wait on a lock the test holds until 1024 workers run them: every item ends exactly
# once in --results, done, the batch ends by itself (exit 0), the pool really reached 1024
# workers, and nothing of the run is left afterwards. Correctness only: how fast is
# tests/bench.sh's business (section 7); the timeouts here are bounds, not measurements.
# shellcheck disable=SC2016 # wait_for takes code in single quotes, evaluated later.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 11

ptname

# --- 20,000 trivial items at -j 1024 ---------------------------------------------------
seq 20000 | ptu 120 --headless -q -j 1024 --builtin square --results "$T/r-square" \
	>"$T/out" 2>"$T/err"
is "$?" 0 "20,000 squares at -j 1024: exit 0"
check_squares "$T/r-square" 20000 "20,000 squares at -j 1024: every seq once in --results, done, output seq^2"
is "$(wc -l <"$T/out")" 20000 "20,000 squares at -j 1024: 20,000 lines on stdout"
if wait_for no_procs_left 10; then
	ok "20,000 squares at -j 1024: no process of the run left"
else
	not_ok "20,000 squares at -j 1024: no process of the run left"
	diag "$(ps -o pid,ppid,stat,args -p "$(our_procs | paste -sd,)" 2>&1)"
fi

# --- items that keep 1024 workers busy at once --------------------------------------------
# Each item waits for a shared lock on a file the test holds locked until pooltop has 1024
# workers (tests/plugin_gate.c): the first 1024 items block, so the pool must grow to 1024 (it
# starts with a few and adds more as items wait for them; how fast depends on the machine, hence
# a lock, not a duration). Then the lock is released and every item ends.
N=1040
gate_hold
seq "$N" | ptu 300 --headless -q -j 1024 --results "$T/r-gate" --plugin "$GATE" \
	>"$T/out" 2>"$T/err" 5<&- &
job=$!
main=
if wait_for 'main=$(main_pid); [ -n "$main" ] && [ "$(nchildren "$main")" -ge 1024 ]' 240; then
	ok "$N items held on a lock at -j 1024: the pool grew to 1024 workers"
else
	not_ok "$N items held on a lock at -j 1024: the pool grew to 1024 workers"
	diag "pooltop pid '${main}': $(nchildren "${main:-0}") workers"
fi
gate_open
wait "$job"
is "$?" 0 "$N items at -j 1024: exit 0 once the lock is released"
check_squares "$T/r-gate" "$N" "$N items: every seq 1..$N once in --results, done, output the item" echo
v=$(python3 - "$T/r-gate" <<'EOF'
import json, sys
workers = {json.loads(line)["worker"] for line in open(sys.argv[1])}
print(len(workers), max(workers) if workers else -1)
EOF
)
read -r nworkers maxw <<<"$v"
is "$nworkers $maxw" "1024 1023" "$N items: they ran on the 1024 slots 0..1023"
is "$(cat "$T/err")" "" "$N items: nothing on stderr (-q)"
if wait_for no_procs_left 10; then
	ok "$N items: no process of the run left"
else
	not_ok "$N items: no process of the run left"
	diag "$(ps -o pid,ppid,stat,args -p "$(our_procs | paste -sd,)" 2>&1)"
fi
is "$(zombies_of_ours)" "" "$N items: no zombie left"

exit 0
