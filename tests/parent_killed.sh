#!/bin/bash
# shellcheck disable=SC2016,SC2012 # wait_for evaluates single-quoted code; /dev/shm names are plain
# parent_killed.sh: pooltop itself SIGKILLed mid-batch: no worker survives it (they die with
# PR_SET_PDEATHSIG) and nothing is left in /dev/shm.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 6

ptname

ls -A /dev/shm 2>/dev/null | sort >"$T/shm.before"

seq 1000 | ptu 60 --headless --builtin sleep:200 -j 4 --joblog "$T/jl" >"$T/out" 2>"$T/err" &
job=$!

main=
if wait_for 'main=$(main_pid); [ -n "$main" ] && [ "$(nchildren "$main")" -eq 4 ]' 10; then
	ok "pooltop started 4 workers"
else
	not_ok "pooltop started 4 workers"
	diag "pooltop pid '${main}', children: $(children "${main:-0}" | tr '\n' ' ')"
fi
workers=$(children "${main:-0}" | tr '\n' ' ')
diag "pooltop pid $main, workers $workers"

# Let it get busy: some items done (joblog rows, flushed per row) before the kill.
if wait_for '[ "$(wc -l <"$T/jl" 2>/dev/null || echo 0)" -gt 4 ]' 10; then
	ok "the batch is running (joblog rows coming)"
else
	not_ok "the batch is running (joblog rows coming)"
fi

if [ -n "$main" ] && kill -KILL "$main" 2>/dev/null; then
	ok "pooltop SIGKILLed mid-batch"
else
	not_ok "pooltop SIGKILLed mid-batch"
fi
t0=$(now_us)

# Dead workers reparented to PID 1 stay zombies until it reaps them (seconds in some
# containers): a zombie has died, so it counts as gone.
if wait_for no_live_procs 2; then
	ok "within 2 s no pooltop or worker process remains alive"
	diag "all dead after $((($(now_us) - t0) / 1000)) ms"
else
	not_ok "within 2 s no pooltop or worker process remains alive"
	diag "$(ps -o pid,ppid,stat,wchan:20,args -p "$(our_procs | paste -sd,)" 2>&1)"
fi
z=$(zombies_of_ours | tr '\n' ' ')
[ -z "$z" ] || diag "zombies not reaped yet by PID 1 (pooltop is gone): $z"

# Alive: its /proc entry still readable, under our name, and neither a zombie (Z) nor dying (X).
# (A zombie reaped between two reads leaves nothing to read: gone, not alive.)
left=
for w in $workers; do
	st=$(awk '{ print $3 }' "/proc/$w/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ] &&
		[ "$(cat "/proc/$w/comm" 2>/dev/null)" = "$PT_NAME" ] && left+=" $w"
done
is "$left" "" "every worker is dead"

ls -A /dev/shm 2>/dev/null | sort >"$T/shm.after"
is "$(comm -13 "$T/shm.before" "$T/shm.after" | tr '\n' ' ')" "" "no new entry in /dev/shm"

# On a failure, do not wait for the batch: end what is left of it (by pid).
for p in $(live_procs); do kill -KILL "$p" 2>/dev/null; done
wait "$job" 2>/dev/null

exit 0
