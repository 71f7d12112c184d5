#!/bin/bash
# killed_resume.sh: pooltop SIGKILLed at random moments while it runs commands: no worker,
# job or job's child survives it (the jobs' own children included), and --resume with the
# joblog finishes the batch with every item in the joblog exactly once across the runs.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 10

ptname
N=1500
seq "$N" >"$T/items"

# The job: a shell whose own child sleeps, so that a job's child can outlive a careless kill.
job() {
	ptu 120 --headless -q -j 3 --joblog "$T/jl" "$@" -a "$T/items" -- \
		sh -c 'sleep 0.0$(($1 % 3)); echo "$1"; : "$2"' _ {} "$L" >>"$T/out" 2>>"$T/err"
}
# Our pooltop and workers, and this run's jobs (their command lines end with $L).
leftovers() { our_procs; pgrep -f "^sh -c .* $L\$"; }

# A job whose own child would live on (the sleep under sh): it must die with pooltop.
ptu 60 --headless -j 2 -- sh -c "sleep ${L}2; :" ::: 1 2 </dev/null >/dev/null 2>&1 &
sub=$!
wait_for '[ "$(pgrep -f "^sleep ${L}2\$" | wc -l)" = 2 ]' 10
kill -KILL "$(pgrep -P "$(pgrep -P "$sub" -x timeout)")"
wait
check "pooltop SIGKILLed: the children of its jobs die too (no sleep left)" \
	wait_for '! pgrep -f "^sleep ${L}2\$" >/dev/null' 3

kills=0 survivors=
for round in 1 2 3 4; do
	if [ "$round" = 1 ]; then job & else job --resume & fi
	sub=$!
	# This round's pooltop: the child of its timeout (a worker of an earlier round that is
	# still a zombie would look like a pooltop too).
	main=
	wait_for 'main=$(pgrep -P "$(pgrep -P "$sub" -x timeout)" 2>/dev/null); [ -n "$main" ]' 10
	# A random moment: 100 to 700 ms into the run.
	sleep "0.$((RANDOM % 6 + 1))"
	[ -n "$main" ] && kill -KILL "$main" && kills=$((kills + 1))
	diag "round $round: pooltop ${main:-not found}, $(($(wc -l <"$T/jl") - 1)) rows"
	wait
	# Dead processes reparented to PID 1 stay zombies until it reaps them: count the live.
	if ! wait_for '[ -z "$(leftovers | while read -r p; do [ "$(awk "{ print \$3 }" /proc/$p/stat 2>/dev/null)" = Z ] || echo "$p"; done)" ]' 3; then
		survivors+=" round$round:$(leftovers | tr '\n' ',')"
	fi
done
is "$kills" 4 "pooltop was SIGKILLed 4 times mid-batch"
is "$survivors" "" "after each kill, no worker, job or job's child is left alive"
rows=$(($(wc -l <"$T/jl") - 1))
check "the runs cut short left some of the batch undone ($rows of $N rows)" test "$rows" -lt "$N"

job --resume
rc=$?
is "$rc" 0 "--resume after the kills finishes the batch (exit 0)"
check "the joblog has one header line" test "$(grep -c '^Seq' "$T/jl")" = 1
is "$(awk -F'\t' 'NR > 1 { print $1 }' "$T/jl" | sort -n | uniq -d | head -3 | tr '\n' ' ')" "" \
	"no item twice in the joblog across the runs"
is "$(awk -F'\t' 'NR > 1 { print $1 }' "$T/jl" | sort -n | uniq | wc -l)" "$N" \
	"every item 1..$N in the joblog across the runs"
check "every row of the joblog is whole (9 fields)" awk -F'\t' 'NF != 9 { exit 1 }' "$T/jl"
check "every item's output was printed at least once" \
	cmp -s <(sort -n "$T/out" | uniq) <(seq "$N")
