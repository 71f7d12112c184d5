#!/bin/bash
# wide.sh: pools of 1024 workers. 20,000 trivial items at -j 1024, and a batch of slow items
# that needs all 1024 workers at once: every item ends exactly once in --results, done, the
# batch ends by itself (exit 0), the slow batch really had 1024 workers running, and nothing
# of the run is left afterwards. Correctness only: how fast is tests/bench.sh's business
# (section 7); the timeouts here are bounds, not measurements.
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

# --- slow items that keep 1024 workers busy ---------------------------------------------
# 2048 items of 2 s: items wait as long as fewer than 1024 workers run, so the pool grows to
# 1024 (it starts with a few and adds more as items wait for them; here that takes 2 to 4 s,
# well before the first 1024 items are done), and each slot runs about two.
N=2048
seq "$N" | ptu 180 --headless -q -j 1024 --builtin sleep:2000 --results "$T/r-sleep" \
	>"$T/out" 2>"$T/err" &
job=$!
main=
peak=0
# The most workers seen at once: polled until the batch ends (a bound, not a deadline).
while kill -0 "$job" 2>/dev/null; do
	[ -n "$main" ] || main=$(main_pid)
	if [ -n "$main" ]; then
		n=$(nchildren "$main")
		[ "${n:-0}" -gt "$peak" ] && peak=$n
	fi
	[ "$peak" -ge 1024 ] && break
	sleep 0.02
done
wait "$job"
rc=$?
is "$rc" 0 "$N slow items at -j 1024: exit 0"
is "$peak" 1024 "$N slow items at -j 1024: the pool grew to 1024 workers"
v=$(python3 - "$T/r-sleep" "$N" <<'EOF'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
seqs, workers, bad = [], set(), 0
with open(path) as f:
    for line in f:
        o = json.loads(line)
        seqs.append(o["seq"])
        workers.add(o["worker"])
        bad += o["status"] != "done" or o["exitcode"] != 0
print(f"{len(seqs)} {len(set(seqs))} {int(sorted(seqs) == list(range(1, n + 1)))} {bad} "
      f"{len(workers)} {max(workers) if workers else -1}")
EOF
)
read -r total distinct exact bad nworkers maxw <<<"$v"
is "$total $distinct $exact" "$N $N 1" "$N slow items: every seq 1..$N exactly once in --results"
is "$bad" 0 "$N slow items: every one done, exit code 0"
diag "the items ran on $nworkers slots, the highest $maxw"
is "$(cat "$T/err")" "" "$N slow items: nothing on stderr (-q)"
if wait_for no_procs_left 10; then
	ok "$N slow items: no process of the run left"
else
	not_ok "$N slow items: no process of the run left"
	diag "$(ps -o pid,ppid,stat,args -p "$(our_procs | paste -sd,)" 2>&1)"
fi
is "$(zombies_of_ours)" "" "$N slow items: no zombie left"

exit 0
