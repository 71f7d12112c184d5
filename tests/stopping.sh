#!/bin/bash
# stopping.sh: how a headless run stops. What the joblog calls done has its output, whatever
# stops the run (SIGTERM, Ctrl-C twice, a reader that stalls), and --resume runs the rest; a
# reader that took everything may leave; every stop ends, even against a worker that ignores
# SIGTERM; SIGUSR1, SIGUSR2 and a file-size limit do not kill pooltop.
# shellcheck disable=SC2016 # wait_for takes code in single quotes.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 59

ptname
STUBBORN=${TESTS_BUILD_DIR:-$TESTS_DIR}/plugin_stubborn.so

# ms_since T0_US: milliseconds since T0.
ms_since() { echo $((($(now_us) - $1) / 1000)); }

# rows FILE: the joblog's rows (not its header).
rows() { tail -n +2 "$1" | wc -l; }

# --- what the joblog calls done has its output ---------------------------------------------
# stop_then_resume NAME HOW: 200,000 SHA-512s (each item's output its own line) with a joblog,
# stopped mid-way (HOW: term, pipe, int or stalled), then --resume into a second file. Every
# item ends up in exactly one joblog row and one output line: a row without its output would
# not be run again, and show as a line missing.
seq 200000 >"$T/items"
N=200000
run_sha() { ptu 60 --headless -q -j 2 --builtin sha512:20 -a "$T/items" "$@"; }
stop_then_resume() {
	local name=$1 how=$2 d="$T/$1"
	mkdir -p "$d"
	case $how in
	stalled)
		# A reader that takes nothing for a while, then everything: pooltop gives up on
		# what it did not take when stopped.
		(run_sha --joblog "$d/J" 2>"$d/err1"; echo $? >"$d/rc1") |
			bash -c 'while [ ! -e "$1" ]; do sleep 0.02; done; cat >"$2"' _ "$d/go" "$d/out1" &
		;;
	pipe)
		(run_sha --joblog "$d/J" 2>"$d/err1"; echo $? >"$d/rc1") | cat >"$d/out1" &
		;;
	*)
		(run_sha --joblog "$d/J" >"$d/out1" 2>"$d/err1"; echo $? >"$d/rc1") &
		;;
	esac
	# Stopped once it has done a good part: rows in the joblog, or (a stalled reader holds
	# them back) items done by the status line.
	wait_for '[ -n "$(main_pid)" ] && { [ -s "$d/J" ] && [ "$(rows "$d/J")" -gt 2000 ] ||
		{ kill -USR1 "$(main_pid)" && grep -q "^pooltop: [0-9]\{4,\} done" "$d/err1"; }; }' 20
	case $how in
	int)
		kill -INT "$(main_pid)"
		;;
	*) kill -TERM "$(main_pid)" ;;
	esac
	wait_for '[ -s "$d/rc1" ]' 20
	touch "$d/go"
	wait
	# The items running when it stopped failed (-15): --resume-failed runs them again too.
	run_sha --joblog "$d/J" --resume-failed >"$d/out2" 2>"$d/err2"
	is "$(tail -n +2 "$d/J" | awk -F'\t' '$7 == 0 && $8 == 0' | cut -f1 | sort | uniq -c |
		awk '$1 == 1' | wc -l)" "$N" \
		"$name: stopped, then --resume-failed: every item in one joblog row that says done"
	is "$(cat "$d/out1" "$d/out2" | wc -l):$(cat "$d/out1" "$d/out2" | sort -u | wc -l)" "$N:$N" \
		"$name: ...and in one output line (no row without its output)"
	diag "$name: the first run recorded $(head -c 0 /dev/null)$(($(wc -l <"$d/out1"))) of $N"
	# A terminate before the input was read to its end: the batch did not succeed, even when
	# nothing that ran failed (a join all is the user's own end of the input: it may be 0).
	if [ "$how" != int ]; then
		check "$name: the stopped run's exit status is not 0 ($(cat "$d/rc1"))" \
			test "$(cat "$d/rc1")" != 0
	fi
}
stop_then_resume "SIGTERM, stdout a file" term
stop_then_resume "SIGTERM, stdout a pipe" pipe
stop_then_resume "Ctrl-C (join all), stdout a file" int
stop_then_resume "SIGTERM, a reader that stalls" stalled
# Every item read is done, the input is still open: a SIGTERM then fails nothing, and the
# batch still did not succeed.
mkfifo "$T/open.in"
(ptu 30 --headless -j 2 --builtin square <"$T/open.in" >"$T/open.out" 2>"$T/open.err"
	echo $? >"$T/open.rc") &
exec 7>"$T/open.in"
seq 10 >&7
wait_for '[ "$(wc -l <"$T/open.out")" = 10 ] && [ -n "$(main_pid)" ]' 10
kill -TERM "$(main_pid)"
wait_for '[ -s "$T/open.rc" ]' 10
exec 7>&-
is "$(cat "$T/open.rc")" 255 "SIGTERM with the input still open, nothing failed: exit status 255"
like "$(cat "$T/SIGTERM, a reader that stalls/err1")" \
	'^pooltop: [0-9]+ finished items are not in the joblog: their output was not written \(--resume runs them\)' \
	"a reader that stalls: stderr says how many items are left out of the joblog"
like "$(cat "$T/SIGTERM, stdout a file/err1")" '^pooltop: Terminated: terminating all workers' \
	"SIGTERM: said once why the batch stops"
is "$(grep -c 'terminating all workers' "$T/SIGTERM, stdout a file/err1")" 1 \
	"SIGTERM: the terminate message is said once"
unlike "$(cat "$T/SIGTERM, stdout a file/err1")" 'not written' \
	"SIGTERM, stdout a file: nothing is said lost (a file takes everything)"

# --- a reader that takes everything and leaves -------------------------------------------------
bad=
for i in 1 2 3 4 5 6 7 8; do
	ptu 20 --headless -j 2 --builtin square ::: 1 2 3 2>"$T/head.err" | head -n 3 >/dev/null
	st=${PIPESTATUS[0]}
	[ "$st" = 0 ] && ! grep -q closed "$T/head.err" || bad="$bad run $i: $st $(cat "$T/head.err");"
done
is "$bad" "" "| head -n N (N = every item): exit 0, nothing said, 8 runs in 8"
mkdir "$T/store"
ptu 30 --headless -j 2 --persistent -- python3 "$TESTS_DIR/../doc/examples/store.py" "$T/store" \
	::: $(seq 20) 2>"$T/store.err" | head -n 20 >/dev/null
st=${PIPESTATUS[0]}
is "$st:$(cat "$T/store"/*.txt | grep -c '^committed')" "0:2" \
	"| head -n N, persistent: both programs commit at their fini, exit 0"
ptu 20 --headless -j 2 -- sh -c 'sleep 0.1; echo "$1"' _ ::: 1 2 3 4 5 6 2>"$T/head2.err" |
	head -n 1 >/dev/null
st=${PIPESTATUS[0]}
is "$((st != 0)):$(grep -c '^pooltop: standard output was closed' "$T/head2.err")" "1:1" \
	"| head -n 1 of 6 items: outputs would be lost, so it stops, non-zero, with one line"

# --- every stop ends: a worker that ignores SIGTERM ---------------------------------------------
# ignoring_term PID: true when PID ignores SIGTERM (bit 15 of SigIgn).
ignoring_term() {
	local m
	m=$(awk '/^SigIgn:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$m" ] && (((16#$m >> 14) & 1))
}
# both_stuck: pooltop's two workers both ignore SIGTERM (are on their stuck item).
both_stuck() {
	local m p n=0
	m=$(main_pid)
	[ -n "$m" ] || return 1
	for p in $(pgrep -P "$m"); do
		ignoring_term "$p" || return 1
		n=$((n + 1))
	done
	[ "$n" = 2 ]
}
# stubborn NAME SIGNALS ARGS...: two workers stuck in a plugin that ignores SIGTERM; each of
# SIGNALS (SIG/TEXT, separated by spaces) is sent to pooltop once the previous one's TEXT is on
# stderr. It must end within 5 s (scaled) of the first, with nothing left behind.
stubborn() {
	local name=$1 sigs=$2 t0 ms step sig text
	shift 2
	(ptu 60 --headless -j 2 "$@" --plugin "$STUBBORN" ::: stuck stuck a b c \
		>/dev/null 2>"$T/stub.err"; echo $? >"$T/stub.rc") &
	wait_for 'both_stuck' 10
	t0=$(now_us)
	for step in $sigs; do
		sig=${step%%/*}
		text=${step#*/}
		kill -"$sig" "$(main_pid)" 2>/dev/null
		wait_for 'grep -q -- "${text//_/ }" "$T/stub.err"' 5
	done
	wait_for '[ -s "$T/stub.rc" ]' 10
	ms=$(ms_since "$t0")
	wait
	if [ -s "$T/stub.rc" ] && [ "$ms" -lt "$(scaled_ms 5000)" ]; then
		ok "$name: pooltop ends ($ms ms, status $(cat "$T/stub.rc"))"
	else
		not_ok "$name: pooltop ends ($ms ms, status $(cat "$T/stub.rc" 2>/dev/null))"
		diag "$(cat "$T/stub.err")"
	fi
	check "$name: no worker left" wait_for no_live_procs 5
	rm -f "$T/stub.rc"
}
stubborn "SIGTERM, workers ignore SIGTERM (--term-seq ends in KILL)" TERM/terminating
like "$(cat "$T/stub.err")" "exited -9 \(SIGKILL" "SIGTERM, workers ignore it: they end with -9"
stubborn "SIGTERM twice, a long --term-seq: the second kills at once" \
	"TERM/terminating_all TERM/killing_all" --term-seq TERM,60000
like "$(cat "$T/stub.err")" "^pooltop: Terminated: killing all workers" \
	"SIGTERM twice: the second says it kills all"
stubborn "Ctrl-C twice: drain, then terminate (the stuck items end with --term-seq)" \
	"INT/draining INT/terminating_all" --join-timeout 1
stubborn "Ctrl-C three times, a long --term-seq: the third kills" \
	"INT/draining INT/terminating_all INT/killing_all" --term-seq TERM,60000 --join-timeout 60
like "$(cat "$T/stub.err")" "^pooltop: interrupted: killing all workers" \
	"Ctrl-C three times: the third says it kills all"

# --- Ctrl-C once: a drain ------------------------------------------------------------------------
# Nothing new starts; the two running items finish, past --join-timeout (they are not stopped);
# the three never started are not run, not in the joblog, and --resume runs them.
d=$(scaled 2)
(ptu 60 --headless -j 2 --join-timeout 1 --joblog "$T/drain.jl" -- sleep ::: "$d" "$d" "$d" "$d" "$d" \
	>/dev/null 2>"$T/drain.err"; echo $? >"$T/drain.rc") &
# jobs_running: how many jobs pooltop's workers run (their children), counted under pooltop
# only: other tests' sleeps do not count.
jobs_running() {
	local m w n=0
	m=$(main_pid)
	[ -n "$m" ] || return 1
	for w in $(pgrep -P "$m"); do n=$((n + $(nchildren "$w"))); done
	echo "$n"
}
wait_for '[ "$(jobs_running)" = 2 ]' 10
kill -INT "$(main_pid)"
wait_for '[ -s "$T/drain.rc" ]' "$((2 * ${d%.*} + 10))"
wait
is "$(cat "$T/drain.rc")" 3 "Ctrl-C once: a drain; exit status 3 (three items not run)"
like "$(cat "$T/drain.err")" '^pooltop: interrupted: draining: no new item starts' \
	"Ctrl-C once: says it drains"
like "$(cat "$T/drain.err")" '^pooltop: 2 done, 0 failed, 3 not run' \
	"Ctrl-C once: the two running items finished done past --join-timeout; three not run"
is "$(awk -F'\t' 'NR > 1 && $7 == 0' "$T/drain.jl" | wc -l)" 2 "the joblog has the two finished items only"
ptu 60 --headless -j 2 --resume --joblog "$T/drain.jl" -- sleep ::: 0 0 0 0 0 >/dev/null 2>"$T/drain2.err"
like "$(cat "$T/drain2.err")" '^pooltop: 3 done, 0 failed, 2 skipped \(--resume\)' \
	"--resume after a drain runs the three items never started"

# --- --halt: GNU parallel's ------------------------------------------------------------------------
# Item 2 exits 7 (after 0.3 s); the others take 1 s (scaled), or HALT_LONG s where the halt lets
# every item run: on -j 2, items 1 and 3 run when it fails.
halt_run() {
	local name=$1 l=${HALT_LONG:-$(scaled 1)}
	shift
	ptu 60 --headless -j 2 --joblog "$T/halt.jl" "$@" -- sh -c 'sleep "$2"; exit $(($1 == 2 ? 7 : 0))' \
		sh {#} {} ::: "$l" "$(scaled 0.3)" "$l" "$l" "$l" "$l" >/dev/null 2>"$T/$name.err"
	echo "$? $(awk -F'\t' 'NR > 1 { n++ } END { print n + 0 }' "$T/halt.jl")"
}
# The worker that ran item 2 may take item 3 before pooltop sees the failure: 1 or 2 done.
r=$(halt_run soon --halt soon,fail=1)
is "${r%% *}" 7 "--halt soon,fail=1: exit status 7 (the failed item's)"
like "$(cat "$T/soon.err")" '^pooltop: [12] done, 1 failed \(1 with 7\), [34] not run' \
	"--halt soon,fail=1: the running items finish done, nothing new starts (not run)"
r=$(halt_run now --halt now,fail=1)
is "${r%% *}" 7 "--halt now,fail=1: exit status 7"
like "$(cat "$T/now.err")" '^pooltop: 0 done, [23] failed \(.*with -15 SIGTERM' \
	"--halt now,fail=1: the running items are terminated"
r=$(halt_run legacy --halt 2)
is "${r%% *}" 7 "--halt 2 is now,fail=1"
r=$(halt_run success --halt now,success=2)
is "${r%% *}" 0 "--halt now,success=2: exit status 0 after two successes"
is "$(HALT_LONG=0.1 halt_run pct --halt soon,fail=50%)" "1 6" \
	"--halt soon,fail=50%: 1 of 6 failed is under half: all run, exit 1"
is "$(HALT_LONG=0.1 halt_run never --halt never)" "1 6" "--halt never: all run, exit 1"

# --- signals that used to kill pooltop --------------------------------------------------------------
# The batch must still run when the signals come: its items last longer on a slower machine.
(ptu 30 --headless -j 2 --builtin "sleep:$(scaled_ms 300)" ::: $(seq 24) >"$T/usr.out" 2>"$T/usr.err"
	echo $? >"$T/usr.rc") &
# Its handlers are in place once its workers run (a SIGUSR1 before would end it, as any program).
wait_for '[ -n "$(main_pid)" ] && [ "$(nchildren "$(main_pid)")" = 2 ]' 10
kill -USR1 "$(main_pid)"
wait_for 'grep -q "^pooltop: [0-9]* done, [0-9]* failed, [0-9]* running" "$T/usr.err"' 5
kill -USR2 "$(main_pid)"
wait_for 'grep -q $'"'"'\r'"'"' "$T/usr.err"' 5
wait_for '[ -s "$T/usr.rc" ]' 30
wait
is "$(cat "$T/usr.rc"):$(grep -c 'pooltop: 24 done, 0 failed in' "$T/usr.err")" "0:1" \
	"SIGUSR1 and SIGUSR2: the batch goes on to its end (exit 0, 24 done)"
like "$(cat "$T/usr.err")" '^pooltop: [0-9]+ done, [0-9]+ failed, [0-9]+ running, [0-9]+ queued' \
	"SIGUSR1: a status line on stderr"
like "$(cat "$T/usr.err")" '^pooltop:   worker [01] pid [0-9]+: item [0-9]+ for [0-9.]+s: [0-9]+$' \
	"SIGUSR1: then the busy workers, each with its item and how long it has run"
like "$(tr '\r' '\n' <"$T/usr.err")" '^.\[Kpooltop: [0-9]+ done' \
	"SIGUSR2: the progress line turned on (stderr is not a terminal)"
like "$(tr '\r' '\n' <"$T/usr.err")" '^.\[Kpooltop: [0-9]+ done, .* \| [0-9]+% ETA ([0-9.]+s|[0-9]+m[0-9]+s)$' \
	"the progress line has the percentage done and the ETA"

# SIGHUP with no terminal (setsid: none, as under nohup, systemd or CI): said and ignored; the
# batch goes on, and SIGTERM still stops it.
(setsid -w timeout -k 5 "$(scaled 30)" "$PT" --headless -j 2 --builtin "sleep:$(scaled_ms 3000)" \
	::: 1 2 3 4 >/dev/null 2>"$T/hup.err"
	echo $? >"$T/hup.rc") &
wait_for '[ -n "$(main_pid)" ] && [ "$(nchildren "$(main_pid)")" = 2 ]' 10
kill -HUP "$(main_pid)"
wait_for 'grep -q "SIGHUP ignored" "$T/hup.err"' 5
hp=$(main_pid)
check "SIGHUP with no terminal: pooltop runs on" kill -0 "${hp:-0}"
kill -TERM "${hp:-0}" 2>/dev/null
wait_for '[ -s "$T/hup.rc" ]' 10
wait
like "$(cat "$T/hup.err")" '^pooltop: SIGHUP ignored: no terminal to hang up' \
	"SIGHUP with no terminal: said and ignored"
like "$(cat "$T/hup.err")" '^pooltop: Terminated: terminating all workers' \
	"...and SIGTERM then stops the batch"

# A file-size limit: the write fails with EFBIG, said in one line; nothing is killed.
(
	ulimit -f 4
	seq 5000 | ptu 30 --headless -j 2 --builtin square >"$T/fsz.out" 2>"$T/fsz.err"
	echo $? >"$T/fsz.rc"
)
is "$(cat "$T/fsz.rc")" 255 "ulimit -f: exit 255 (all done, output lost), not killed by SIGXFSZ"
like "$(cat "$T/fsz.err")" '^pooltop: writing standard output: File too large' \
	"ulimit -f: one line names standard output and the error"
like "$(cat "$T/fsz.err")" '^pooltop: 5000 done, 0 failed' "ulimit -f: the summary is printed"

# --- files that block --------------------------------------------------------------------------------
mkfifo "$T/fifo"
out=$(ptu 10 --headless --joblog "$T/fifo" --builtin square ::: 1 2>&1)
is "$?:$out" "255:pooltop: --joblog $T/fifo: a FIFO that nobody reads" \
	"--joblog on a FIFO nobody reads: one line, exit 255, no wait"
out=$(ptu 10 --headless --joblog "$T/fifo" --resume --builtin square ::: 1 2>&1)
is "$?:$out" "255:pooltop: --joblog $T/fifo: not a regular file (--resume reads the joblog back)" \
	"--resume with the joblog a FIFO: one line, exit 255, no wait"
out=$(ptu 10 --headless --joblog /dev/stdout --resume --builtin square ::: 1 2>&1 | cat)
like "$out" "^pooltop: --joblog /dev/stdout: not a regular file" \
	"--joblog /dev/stdout --resume into a pipe: refused, never read"
ptu 10 --headless --joblog /dev/stdout --builtin square ::: 1 >"$T/same" 2>"$T/same.err"
is "$?:$(cat "$T/same.err")" \
	"255:pooltop: --joblog /dev/stdout: that is standard output, where the outputs go (give another file)" \
	"--joblog /dev/stdout with stdout a file: refused (they would write over each other)"
# A FIFO with a reader that takes its time: the joblog goes through without blocking the loop.
(cat "$T/fifo" >"$T/fifo.out") &
ptu 20 --headless -q -j 2 --joblog "$T/fifo" --builtin square ::: $(seq 100) >/dev/null
is "$?:$(($(wc -l <"$T/fifo.out") - 1))" "0:100" "--joblog on a FIFO someone reads: every row"
wait

exit 0
