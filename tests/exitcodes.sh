#!/bin/bash
# shellcheck disable=SC2016,SC2034 # wait_for evaluates single-quoted code that sets variables
# exitcodes.sh: the exit-code table end to end through the binary, as Python's
# multiprocessing reports them: exit 0 -> 0, exit 3 -> 3, exit(300) -> 44, abort -> -6,
# segfault -> -11, SIGTERM -> -15, SIGKILL -> -9; and PyMOTW's functions by name.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 20

ptname

# one BUILTIN ITEM: run one item, print "exitcode signal status pooltop-exit-status".
one() {
	rm -f "$T/r"
	ptu 20 --headless --builtin "$1" -j 1 --results "$T/r" ::: "$2" </dev/null >"$T/out" 2>"$T/err"
	local rc=$?
	echo "$(json_get "$T/r" 1 exitcode signal status) $rc"
}

# table BUILTIN ITEM EXPECTED DESC
table() {
	local got
	got=$(one "$1" "$2")
	is "$got" "$3" "$4"
	[ "$got" = "$3" ] || diag "$(cat "$T/err")"
}

# exitcode signal status exit-status
table demo exit:0 "0 0 done 0" "demo exit:0 -> 0, done, pooltop exits 0"
table demo exit:3 "3 0 failed 1" "demo exit:3 -> 3, failed, pooltop exits 1"
table demo exit:300 "44 0 failed 1" "demo exit:300 -> 44 (the kernel keeps 8 bits)"
table demo abort "-6 6 failed 1" "demo abort -> -6 (SIGABRT)"
table demo segv "-11 11 failed 1" "demo segv -> -11 (SIGSEGV)"
table demo raises "1 0 failed 1" "demo raises -> 1 (an uncaught exception)"
table demo fail "1 0 failed 1" "demo fail -> 1"
table demo 12 "0 0 done 0" "demo 12 -> 0 (squared)"
is "$(json_field "$T/r" 1 output | od -An -c | tr -s ' ')" " 1 4 4 \\n" "demo 12 outputs 144 and a newline"

# PyMOTW's exit-code example, by name.
table exit_error x "1 0 failed 1" "exit_error -> 1"
table exit_ok x "0 0 done 0" "exit_ok -> 0"
table return_value x "0 0 done 0" "return_value -> 0 (the value is discarded)"
table raises x "1 0 failed 1" "raises -> 1"

# shellcheck disable=SC2317 # called from wait_for's eval
# sleeping PID: the process sleeps in nanosleep (the item's sleep, not waiting for work).
sleeping() {
	local w
	w=$(cat "/proc/$1/wchan" 2>/dev/null)
	case $w in *nanosleep*) return 0 ;; esac
	# wchan hidden: the syscall number (x86_64: 35, 230; generic: 101, 115).
	case $(cut -d' ' -f1 "/proc/$1/syscall" 2>/dev/null) in 35 | 230 | 101 | 115) return 0 ;; esac
	return 1
}

# killed BUILTIN SIG: run one item of BUILTIN on one worker, send SIG to that worker while it
# runs the item; print "exitcode signal status pooltop-exit-status".
killed() {
	local builtin=$1 sig=$2 tpid ppid wpid rc
	rm -f "$T/r"
	ptu 30 --headless --builtin "$builtin" -j 1 --results "$T/r" ::: a </dev/null >"$T/out" 2>"$T/err" &
	tpid=$!
	# The worker is pooltop's child, busy on the item once it sleeps in nanosleep.
	if ! wait_for 'ppid=$(main_pid); [ -n "$ppid" ]' 10; then
		diag "pooltop did not start"
	elif ! wait_for 'wpid=$(children "$ppid" | head -1); [ -n "$wpid" ] && sleeping "$wpid"' 10; then
		diag "no worker busy on the item within 10 s"
	else
		kill -s "$sig" "$wpid"
	fi
	wait "$tpid"
	rc=$?
	echo "$(json_get "$T/r" 1 exitcode signal status) $rc"
}

got=$(killed sleep:100000 TERM)
is "$got" "-15 15 failed 1" "a worker SIGTERMed mid-item -> -15, the item failed, pooltop exits 1"
like "$(cat "$T/err")" "exited -15" "the SIGTERM shows as 'exited -15' on stderr"

got=$(killed sleep:100000 KILL)
is "$got" "-9 9 failed 1" "a worker SIGKILLed mid-item -> -9, the item failed, pooltop exits 1"
like "$(cat "$T/err")" "exited -9" "the SIGKILL shows as 'exited -9' on stderr"

# PyMOTW's terminated: a function that sleeps, terminated by its parent -> -15.
got=$(killed terminated TERM)
is "$got" "-15 15 failed 1" "terminated, SIGTERMed while it sleeps -> -15"

if wait_for no_procs_left 5; then
	ok "no pooltop or worker process left"
else
	not_ok "no pooltop or worker process left"
	diag "$(ps -o pid,ppid,stat,args -p "$(our_procs | paste -sd,)" 2>&1)"
fi
is "$(zombies_of_ours)" "" "no zombie left"

exit 0
