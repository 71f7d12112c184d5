#!/bin/bash
# start_limits.sh: a job that cannot start for want of a resource — pipe() failing with EMFILE,
# fork failing with EAGAIN under ulimit -u — is retried by its worker and done once the limit
# allows: no item fails with 126 or 127 (nor is it put in the joblog as failed), and the event
# log says so once per run of failed tries. Limits are lowered on the running workers (prlimit)
# and put back, so that the test does not depend on how many processes the machine runs.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 19

ptname

# RLIMIT_NPROC binds no root process: as root, pooltop runs as nobody for the fork tests.
run_as=()
nproc_how="as this user"
if [ "$(id -u)" = 0 ]; then
	if command -v setpriv >/dev/null 2>&1 && id nobody >/dev/null 2>&1; then
		run_as=(setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups)
		nproc_how="as nobody (root is not bound by ulimit -u)"
		# nobody must reach the binary's symlink and write its files.
		chmod 711 "$T"
		mkdir -m 777 "$T/w"
		# ...and the binary itself: a build in a directory only root may enter cannot run so.
		if ! "${run_as[@]}" test -x "$POOLTOP"; then
			run_as=(none)
			nproc_how="not at all: nobody cannot reach $POOLTOP"
		fi
	else
		run_as=(none)
	fi
else
	mkdir "$T/w"
fi
diag "fork tests run $nproc_how"

# limit_of PID RESOURCE: its soft limit now (prlimit's name: nofile, nproc). With AS set, as
# the user pooltop runs as (root may lack CAP_SYS_RESOURCE for other users' processes).
limit_of() { ${AS:+"${run_as[@]}"} prlimit --pid "$1" "--$2" -o SOFT --noheadings | tr -d ' '; }
# set_limit PID RESOURCE SOFT: likewise.
set_limit() { ${AS:+"${run_as[@]}"} prlimit --pid "$1" "--$2=$3:" || diag "prlimit $1 --$2=$3: failed"; }

# fed NAME ARGS...: run pooltop (through run_as when FED_AS is set) in the background reading
# its items from the FIFO $T/NAME.in, held open on fd 7 (write items there; close fd 7 to end
# the input); stdout, stderr, exit status in $T/NAME.{out,err,rc}. Sets main and workers once
# both workers run.
fed() {
	local name=$1
	shift
	mkfifo "$T/$name.in"
	wait_binary
	(
		timeout -k "$(scaled 5)" "$(scaled 120)" ${FED_AS:+"${run_as[@]}"} "$PT" "$@" \
			<"$T/$name.in" \
			>"$T/$name.out" 2>"$T/$name.err"
		echo $? >"$T/$name.rc"
	) &
	exec 7>"$T/$name.in"
	main= workers=
	wait_for 'main=$(main_pid); [ -n "$main" ] && [ "$(nchildren "$main")" -ge 2 ]' 30
	workers=$(children "$main")
}

# ended NAME: close the input, wait (bounded) for pooltop's end; its exit status in rc.
ended() {
	exec 7>&-
	wait_for "[ -s '$T/$1.rc' ]" 120
	wait
	rc=$(cat "$T/$1.rc" 2>/dev/null)
}

# no_code_126_127 FILE: no --results row with exit code 126 or 127.
no_126_127() { ! grep -Eq '"exitcode":12[67][,}]' "$1"; }

# --- pipe() fails with EMFILE: the workers may open no more files ---------------------------
fed emfile --headless -j 2 --results "$T/emfile.r" -- sh -c 'echo "$1"' _
nofile=$(limit_of "${workers%%$'\n'*}" nofile)
for w in $workers; do set_limit "$w" nofile 3; done
seq 1 20 >&7
check "pipe() failing with EMFILE is said: 'cannot start the job: Too many open files (pipe): retrying'" \
	wait_for "grep -q 'cannot start the job: Too many open files (pipe): retrying' '$T/emfile.err'" 30
is "$(grep -c '"exitcode"' "$T/emfile.r")" 0 "...while the limit holds, no item ends (none fails with 126)"
for w in $workers; do set_limit "$w" nofile "$nofile"; done
ended emfile
is "$rc" 0 "...once the limit is lifted every item is done: exit status 0"
check_squares "$T/emfile.r" 20 "...every item 1..20 exactly once in --results, done, its own output" echo
n=$(grep -c 'cannot start the job' "$T/emfile.err")
check "...one event per run of failed tries, not per try ($n for 2 workers)" test "$n" -ge 1 -a "$n" -le 2
diag "$(grep 'cannot start' "$T/emfile.err" | head -2)"

# --- fork fails with EAGAIN: ulimit -u reached -----------------------------------------------
if [ "${run_as[0]:-}" = none ]; then
	for i in 1 2 3 4 5; do ok "fork failing with EAGAIN # SKIP root, and no setpriv to run as another user (or a binary nobody can run)"; done
else
	FED_AS=1 fed eagain --headless -j 2 --joblog "$T/w/eagain.jl" --results "$T/w/eagain.r" -- echo
	AS=1
	nproc=$(limit_of "${workers%%$'\n'*}" nproc)
	# The workers' user already runs pooltop and them: not one more process.
	for w in $workers; do set_limit "$w" nproc 1; done
	seq 1 20 >&7
	check "fork failing with EAGAIN is said: 'cannot start the job: Resource temporarily unavailable (fork): retrying'" \
		wait_for "grep -q 'cannot start the job: Resource temporarily unavailable (fork): retrying' '$T/eagain.err'" 30
	for w in $workers; do set_limit "$w" nproc "$nproc"; done
	AS=
	ended eagain
	is "$rc" 0 "...once the limit is lifted every item is done: exit status 0"
	check_squares "$T/w/eagain.r" 20 "...every item 1..20 exactly once in --results, done" echo
	is "$(awk -F'\t' 'NR > 1 && $7 != 0' "$T/w/eagain.jl" | wc -l) $(($(wc -l <"$T/w/eagain.jl") - 1))" "0 20" \
		"...the joblog has all 20, none failed"
	check "...no item failed with 126 or 127" no_126_127 "$T/w/eagain.r"
fi

# --- the report's case: a whole batch under a tight ulimit -u ---------------------------------
# pooltop and its 2 workers fit under the limit, and one job at a time: the workers take turns.
# (With 2 workers the limit binds the jobs only, whatever the order of the forks: at most one
# job runs before the second worker is forked. With 3, two jobs may start before the third
# worker's fork, which would then fail instead.)
if [ "${#run_as[@]}" -eq 0 ] || [ "${run_as[0]}" = none ]; then
	for i in 1 2 3 4 5 6 7 8 9; do
		ok "a batch under ulimit -u # SKIP needs a user of its own to count its processes (root, setpriv, a binary nobody can run)"
	done
else
	uid=$(id -u nobody)
	# RLIMIT_NPROC counts threads. Relative to what the user runs now, once the processes of
	# the test above are gone (a slow exit, under a sanitizer, would otherwise be counted).
	wait_for no_procs_left 10 || diag "processes of the test above still run: $(our_procs)"
	base=$(ps -L -u "$uid" --no-headers 2>/dev/null | wc -l)
	lim=$((base + 1 + 2 + 1))
	diag "nobody runs $base threads: ulimit -u $lim"
	wait_binary
	t0=$(now_us)
	seq 1 40 | timeout -k "$(scaled 5)" "$(scaled 120)" "${run_as[@]}" \
		bash -c 'ulimit -S -u "$1" && shift && exec "$@"' _ "$lim" \
		"$PT" --headless -j 2 --joblog "$T/w/ulimit.jl" --results "$T/w/ulimit.r" -- sh -c 'echo "$1"' _ \
		>"$T/ulimit.out" 2>"$T/ulimit.err"
	rc=$?
	t1=$(now_us)
	diag "40 items under ulimit -u $lim, -j 2: $(((t1 - t0) / 1000)) ms, $(grep -c 'cannot start' "$T/ulimit.err") 'cannot start' events"
	is "$rc" 0 "ulimit -u: room for one job at a time: all 40 items done, exit status 0"
	[ "$rc" = 0 ] || diag "$(tail -5 "$T/ulimit.err")"
	check_squares "$T/w/ulimit.r" 40 "...every item 1..40 exactly once in --results, done" echo
	check "...no item failed with 126 or 127" no_126_127 "$T/w/ulimit.r"
	like "$(cat "$T/ulimit.err")" "cannot start the job: Resource temporarily unavailable \(fork\)" \
		"...the workers kept waiting were said"
	check "...the joblog has every item, each exit 0" \
		test "$(awk -F'\t' 'NR > 1 && $7 == 0' "$T/w/ulimit.jl" | wc -l)" = 40
	seq 1 40 | ptu 60 --headless --joblog "$T/w/ulimit.jl" --resume -- echo >"$T/resumed" 2>/dev/null
	is "$(wc -l <"$T/resumed")" 0 "...and --resume finds nothing left to run"

	# Persistent programs: room for one; the other worker waits for its program to start. Each
	# answer takes 20 ms (in one process: a sleep would need a process of its own), so the first
	# program cannot answer all 30 before the second worker wants an item.
	seq 1 30 | timeout -k "$(scaled 5)" "$(scaled 120)" "${run_as[@]}" \
		bash -c 'ulimit -S -u "$1" && shift && exec "$@"' _ "$lim" \
		"$PT" --headless -j 2 --persistent --results "$T/w/pers.r" -- python3 -c '
import sys, time
for line in sys.stdin:
    time.sleep(0.02)
    print(line, end="", flush=True)' \
		>"$T/pers.out" 2>"$T/pers.err"
	rc=$?
	is "$rc" 0 "ulimit -u, persistent: room for one program: all 30 items done, exit status 0"
	[ "$rc" = 0 ] || diag "$(tail -5 "$T/pers.err")"
	check_squares "$T/w/pers.r" 30 "...every item 1..30 exactly once in --results, done" echo
	like "$(cat "$T/pers.err")" "cannot start the program: Resource temporarily unavailable \(fork\)" \
		"...the program kept waiting was said"
fi
