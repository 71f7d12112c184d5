#!/bin/bash
# commands.sh: the command-per-item kind end to end: a real workload (sha256sum), items that
# would break a shell, replacement strings, 127/126, per-item stderr, the joblog's Command,
# --retries and --resume, --timeout with its termination sequence, no orphans, and GNU
# parallel reading a joblog pooltop wrote.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 39

ptname

# --- a real workload: sha256sum over generated files -------------------------------------
mkdir "$T/files"
for i in $(seq 1 60); do
	head -c $((i * 997)) /dev/urandom >"$T/files/f$i.bin"
done
(cd "$T/files" && sha256sum -- *.bin | sort) >"$T/want.sha"
(cd "$T/files" && ls -- *.bin | ptu 30 --headless -q -j 3 -- sha256sum {}) >"$T/got.sha" 2>"$T/err"
rc=$?
is "$rc" 0 "sha256sum {} over 60 files exits 0"
sort "$T/got.sha" -o "$T/got.sha"
check "pooltop -- sha256sum {} gives exactly what sha256sum gives file by file" \
	cmp -s "$T/got.sha" "$T/want.sha"

# --- hostile items reach the command byte for byte ---------------------------------------
printf '%s\0' "it's \"quoted\"" "\$(touch $T/pwned1)" "a; touch $T/pwned2" "-n" "--help" \
	"  lead and trail  " "back\\slash" "*" "\`touch $T/pwned3\`" "two
lines" >"$T/hostile"
printf '\377\376 not utf-8\0' >>"$T/hostile"
ptu 30 --headless -q -j 3 -k -0 -- printf '%s\0' {} <"$T/hostile" >"$T/hostile.out" 2>"$T/err"
rc=$?
is "$rc" 0 "hostile items: exit 0"
check "hostile items (quotes, \$(), ;, leading -, spaces, newlines, non-UTF-8) arrive byte for byte" \
	cmp -s "$T/hostile.out" "$T/hostile"
check "no item was run by a shell" test ! -e "$T/pwned1" -a ! -e "$T/pwned2" -a ! -e "$T/pwned3"

# --- replacement strings, the appended item ---------------------------------------------
out=$(ptu 10 --headless -q -j 1 -k -- echo {#} {%} {} {.} {/} {//} {/.} ::: dir/sub/f.tar.gz </dev/null)
is "$out" "1 1 dir/sub/f.tar.gz dir/sub/f.tar f.tar.gz dir/sub f.tar" \
	"{#} {%} {} {.} {/} {//} {/.} as GNU parallel"
out=$(ptu 10 --headless -q -j 1 -k -- echo x ::: "a b" c </dev/null | tr '\n' '|')
is "$out" "x a b|x c|" "without a replacement string the item is the last argument"

# --- exit codes: the job's, 127 and 126 for that item only -------------------------------
printf 'echo hi\n' >"$T/noexec"
chmod -x "$T/noexec"
printf '%s\n' /nonexistent/cmd "$T/noexec" true false |
	ptu 20 --headless -j 2 --results "$T/r127" -- {} >/dev/null 2>"$T/err127"
rc=$?
is "$rc" 3 "127, 126 and false fail their items only: exit status 3"
is "$(json_get "$T/r127" 1 exitcode) $(json_get "$T/r127" 2 exitcode) $(json_get "$T/r127" 3 exitcode) $(json_get "$T/r127" 4 exitcode)" \
	"127 126 0 1" "exit codes: not found 127, not executable 126, true 0, false 1"
like "$(cat "$T/err127")" "/nonexistent/cmd: command not found" "the item's stderr names the missing command"

ptu 20 --headless -j 2 --results "$T/rsig" -- sh -c 'kill -SEGV $$' ::: 1 </dev/null >/dev/null 2>&1
is "$(json_get "$T/rsig" 1 exitcode)" "-11" "a job killed by a signal gives -SIGNAL, as Python"

out=$(ptu 10 --headless -- nosuchcmd-xyz ::: 1 </dev/null 2>&1)
rc=$?
is "$rc:$out" "255:pooltop: nosuchcmd-xyz: command not found" \
	"a COMMAND not in PATH is a one-line error before the run, exit 255"
out=$(ptu 10 --headless -- "$T/noexec" ::: 1 </dev/null 2>&1)
rc=$?
is "$rc:$out" "255:pooltop: $T/noexec: not executable (Permission denied)" \
	"a COMMAND that cannot be executed is a one-line error, exit 255"

# --- stderr is per item: never interleaved with another item's ---------------------------
seq 1 40 | ptu 30 --headless -q -j 4 -- sh -c 'echo "$1-a" >&2; sleep 0.02; echo "$1-b" >&2' _ \
	>/dev/null 2>"$T/inter"
check "each item's stderr lines stay together (40 items, 4 workers)" awk '
	/-a$/ { if (open != "") exit 1; open = $0; sub(/-a$/, "", open); next }
	/-b$/ { b = $0; sub(/-b$/, "", b); if (b != open) exit 1; open = ""; n++ }
	END { exit !(n == 40 && open == "") }' "$T/inter"

# --- the joblog's Command column ----------------------------------------------------------
ptu 10 --headless -q -j 1 --joblog "$T/jl" -- echo {} ::: "a b" </dev/null >/dev/null
is "$(awk -F'\t' 'NR == 2 { print $9 }' "$T/jl")" "echo 'a b'" \
	"the joblog's Command is the command line run, quoted as a shell reads it"

# --- --retries and --resume in the command kind -------------------------------------------
# Each item fails on its first run and succeeds on the second.
seq 1 10 | ptu 30 --headless -q -j 2 --retries 1 --results "$T/rretry" -- \
	sh -c '[ -e "$0" ] && exit 0; : >"$0"; exit 1' "$T/flag{}" >/dev/null 2>&1
rc=$?
is "$rc:$(json_count "$T/rretry"):$(json_get "$T/rretry" 7 status attempts)" "0:10:done 2" \
	"--retries: an item failing once is run again and done"

seq 1 5 | ptu 20 --headless -q -j 2 --joblog "$T/jres" -- echo {} >/dev/null
seq 1 8 | ptu 20 --headless -q -j 2 --joblog "$T/jres" --resume -- echo {} >"$T/resumed"
is "$(sort -n "$T/resumed" | tr '\n' ' ')" "6 7 8 " "--resume runs only the items missing from the joblog"

# --- --timeout: the termination sequence on the job's process group -----------------------
t0=$(now_us)
ptu 30 --headless -j 4 --timeout 1 --joblog "$T/jto" --results "$T/rto" -- sleep ::: 101 102 103 0.1 \
	</dev/null >/dev/null 2>"$T/eto"
rc=$?
t1=$(now_us)
is "$rc" 3 "--timeout 1 on three sleep 100s: the batch finishes, exit status counts 3"
check "the batch ended within the deadline (1 s + the 375 ms sequence, + slack)" \
	test $(((t1 - t0) / 1000)) -lt "$(scaled_ms 2500)"
is "$(json_get "$T/rto" 1 exitcode timeout) $(json_get "$T/rto" 4 exitcode timeout)" "-15 true 0 -" \
	"a timed-out item fails with -15 and \"timeout\": true; a quick one is done"
check "each timed-out item was stopped within 1.5 s" python3 - "$T/rto" "$(scaled 1.5)" <<'PY'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if all(r["runtime"] < float(sys.argv[2]) for r in rs) else 1)
PY
is "$(awk -F'\t' '$9 == "sleep 101" { print $7, $8 }' "$T/jto")" "-1 15" \
	"the joblog marks a timeout as GNU parallel: Exitval -1, Signal 15"
like "$(cat "$T/eto")" "item 1 '101' failed with -15 SIGTERM \(timeout\)" "the event log says timeout"

# A job that ignores SIGTERM is ended by the sequence's KILL, its whole group with it.
t0=$(now_us)
ptu 30 --headless -j 1 --timeout 0.5 --results "$T/rkill" -- sh -c "trap '' TERM; sleep ${L}4; :" ::: 1 \
	</dev/null >/dev/null 2>&1
t1=$(now_us)
is "$(json_get "$T/rkill" 1 exitcode timeout)" "-9 true" "a job ignoring SIGTERM is killed by the sequence's KILL (-9)"
check "...after 0.5 s + 200 + 100 + 50 ms, well before its sleep ends" \
	test $(((t1 - t0) / 1000)) -lt "$(scaled_ms 2000)"
check "...and no process of its group is left (its sleep too)" wait_for '! pgrep -f "^sleep ${L}4\$" >/dev/null' 5

# A custom --term-seq.
ptu 30 --headless -j 1 --timeout 0.3 --term-seq INT,100,KILL,25 --results "$T/rint" -- sleep 105 ::: 1 \
	</dev/null >/dev/null 2>&1
is "$(json_get "$T/rint" 1 exitcode timeout)" "-2 true" "--term-seq INT,100,KILL,25 sends SIGINT first"

# --timeout N%: past N percent of the median item time.
{ for i in $(seq 1 12); do echo 0.02; done; echo 106; } |
	ptu 30 --headless -j 1 --timeout 1000% --results "$T/rpct" -- sleep >/dev/null 2>&1
is "$(json_get "$T/rpct" 13 exitcode timeout)" "-15 true" "--timeout 1000%: an item 5000 times the median is stopped"
check "...long before it would have ended" python3 - "$T/rpct" "$(scaled 3)" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["seq"] == 13][0]
sys.exit(0 if r["runtime"] < float(sys.argv[2]) else 1)
PY

# --- a worker killed from outside: its job's group goes with it ---------------------------
ptu 60 --headless -q -j 1 -- sh -c "sleep ${L}7; :" ::: 1 2 </dev/null >/dev/null 2>&1 &
wait_for 'pgrep -f "^sleep ${L}7\$" >/dev/null' 10
main=$(main_pid)
worker=$(children "$main" | head -1)
kill -KILL "$worker" 2>/dev/null
check "SIGKILL of a worker running a command: no process of the job's group is left" \
	wait_for '[ "$(pgrep -f "^sleep ${L}7\$" | wc -l)" -le 1 ]' 5
# The second item still runs in the replacement worker; end the run.
kill -TERM "$main" 2>/dev/null
wait
check "...and when pooltop ends, nothing of the jobs survives" wait_for '! pgrep -f "^sleep ${L}7\$" >/dev/null' 5

# --- a job that leaves a process behind in its group: killed when its item ends ------------
# (Killed here by pid at exit if it survives, so that a failing run leaves nothing behind.)
at_exit 'for p in $(pgrep -f "^sleep ${L}81\$"); do kill -KILL "$p"; done'
out=$(ptu 20 --headless -j 1 -- sh -c "sleep ${L}81 & echo bg" ::: 1 </dev/null 2>"$T/ebg")
rc=$?
is "$rc:$out" "0:bg" "a job that leaves 'sleep &' running ends normally, its item done"
check "...and its sleep does not outlive the item (nor pooltop)" \
	wait_for '! pgrep -f "^sleep ${L}81\$" >/dev/null' 5
# What is left dies at once, not at the end of the batch: the next items run beside nothing.
# Item 1 counts its sleep once it has started (polling up to 2 s); item 2 counts what is left of
# it, polling up to 0.2 s for the kill to land (both scaled).
# shellcheck disable=SC2016 # the item's code is its own shell's
bg_item='[ "$1" = 1 ] && { sleep "$2" & }
tries=$4
[ "$1" = 1 ] && tries=$3
i=0
while :; do
	n=$(pgrep -c -f "^sleep $2\$")
	if [ "$1" = 1 ]; then [ "$n" -ge 1 ] && break; else [ "$n" = 0 ] && break; fi
	i=$((i + 1))
	[ $i -lt "$tries" ] || break
	sleep 0.02
done
echo "$n"'
ptu 30 --headless -j 1 -k -- sh -c "$bg_item" _ {} "${L}82" "$(($(scaled_ms 2000) / 20))" \
	"$(($(scaled_ms 200) / 20))" ::: 1 2 \
	</dev/null >"$T/obg" 2>/dev/null
at_exit 'for p in $(pgrep -f "^sleep ${L}82\$"); do kill -KILL "$p"; done'
is "$(tr '\n' ' ' <"$T/obg")" "1 0 " "...killed when its own item ends: the next item of the worker sees it gone"

# --- GNU parallel accepts a joblog pooltop wrote ------------------------------------------
if command -v parallel >/dev/null 2>&1; then
	seq 1 10 | ptu 20 --headless -q -j 2 --joblog "$T/jpar" -- echo >/dev/null
	# Cut short: the header and the rows of items 1 to 5.
	awk -F'\t' 'NR == 1 || $1 <= 5' "$T/jpar" >"$T/jcut"
	out=$(parallel --will-cite --resume --joblog "$T/jcut" echo ::: $(seq 1 10) 2>&1 | sort -n | tr '\n' ' ')
	is "$out" "6 7 8 9 10 " "parallel --resume --joblog on pooltop's joblog reruns only the missing items"
else
	ok "# SKIP GNU parallel is not installed"
fi

# --- the job's environment: GNU parallel's PARALLEL_SEQ and PARALLEL_JOBSLOT, pooltop's own -------
# Each line: item, PARALLEL_SEQ, POOLTOP_SEQ, PARALLEL_JOBSLOT, POOLTOP_SLOT, worker pid, the job's
# parent. An inherited PARALLEL_SEQ is replaced.
PARALLEL_SEQ=99 ptu 10 --headless -q -j 2 -- sh -c \
	'echo "$1 $PARALLEL_SEQ $POOLTOP_SEQ $PARALLEL_JOBSLOT $POOLTOP_SLOT $POOLTOP_WORKER_PID $PPID"' \
	sh ::: a b c d e f >"$T/env.out"
env_check=$(awk '{ want = index("abcdef", $1)
	if ($2 != want || $3 != want) print "seq of " $1 ": " $2 "/" $3
	if ($4 < 1 || $4 > 2 || $5 != $4 - 1) print "slot of " $1 ": " $4 "/" $5
	if ($6 != $7) print "worker pid of " $1 ": " $6 " parent " $7 }
	END { if (NR != 6) print NR " lines" }' "$T/env.out")
is "$env_check" "" "commands get PARALLEL_SEQ = POOLTOP_SEQ = the item's number, PARALLEL_JOBSLOT = POOLTOP_SLOT + 1, POOLTOP_WORKER_PID"
PARALLEL_SEQ=99 ptu 10 --headless -q -j 2 --persistent -- sh -c \
	'while read -r l; do echo "$l ${PARALLEL_SEQ-unset} ${POOLTOP_SEQ-unset} $PARALLEL_JOBSLOT $POOLTOP_SLOT $POOLTOP_WORKER_PID $PPID"; done' \
	::: a b c d >"$T/penv.out"
penv_check=$(awk '{ if ($2 != "unset" || $3 != "unset") print "seq of " $1 ": " $2 "/" $3
	if ($4 < 1 || $4 > 2 || $5 != $4 - 1) print "slot of " $1 ": " $4 "/" $5
	if ($6 != $7) print "worker pid of " $1 ": " $6 " parent " $7 }
	END { if (NR != 4) print NR " lines" }' "$T/penv.out")
is "$penv_check" "" "a persistent program gets the slot and worker variables, no sequence number"

# --- --dry-run: the command lines, quoted as a shell reads them; nothing runs --------------------
ptu 10 --dry-run -k -- touch "$T/dry-{}" "a b" ::: x 'y z' >"$T/dry.out" 2>"$T/dry.err"
rc=$?
is "$rc:$(cat "$T/dry.out")" "0:touch $T/dry-x 'a b'
touch '$T/dry-y z' 'a b'" "--dry-run -k: one quoted command line per item, in input order, exit 0"
is "$(ls "$T" | grep -c '^dry-')$(cat "$T/dry.err")" "0" "--dry-run: nothing ran (no file touched), nothing on stderr"
