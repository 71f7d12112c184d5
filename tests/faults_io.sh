#!/bin/bash
# faults_io.sh: headless runs under output and input faults. Output: stdout closed early (head
# -1) for a builtin and a command, a full disk for the joblog, the results and stdout, a slow
# reader of stdout (the loop goes on: timeouts fire; memory stays bounded; every byte arrives,
# in order), SIGTERM while a reader takes nothing. Input: a generator killed mid-stream, stdin or
# stdout closed, -a FILE deleted during the run, a line of 100 MB, NUL bytes without -0, input
# that cannot be read.
# shellcheck disable=SC2016 # wait_for takes code in single quotes.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 52

ptname

# jobs_of MARK: pids of the processes whose environment holds PT_MARK=MARK: the command jobs
# started as `env PT_MARK=MARK ...`, and what they started in turn.
jobs_of() {
	grep -lsa -- "PT_MARK=$1" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
	return 0
}

no_procs_point() {
	if wait_for no_live_procs 3; then
		ok "$1: no pooltop process or worker left"
	else
		not_ok "$1: no pooltop process or worker left"
		diag "$(ps -o pid,ppid,stat,args -p "$(our_procs | paste -sd,)" 2>&1)"
	fi
}

# ms_since T0: milliseconds since now_us was T0.
ms_since() { echo $((($(now_us) - $1) / 1000)); }

# --- stdout closed early: head -1 ------------------------------------------------------------
# A builtin over 10,000,000 items (minutes of output).
t0=$(now_us)
seq 10000000 | ptu 30 --headless --builtin echo -j 3 2>"$T/err" | head -1 >"$T/out"
st=("${PIPESTATUS[@]}")
ms=$(ms_since "$t0")
diag "head -1, builtin: pooltop's status ${st[1]}, $ms ms"
if [ "$ms" -lt "$(scaled_ms 2000)" ] && [ "${st[1]}" -ne 0 ] && [ "${st[1]}" -ne 124 ]; then
	ok "head -1, builtin: pooltop ends within 2 s, non-zero (${st[1]})"
else
	not_ok "head -1, builtin: pooltop ends within 2 s, non-zero (${st[1]})"
fi
# Outputs come in completion order: the first may be any worker's first item.
is "$(wc -l <"$T/out"):$(grep -cxE '[1-9][0-9]{0,7}' "$T/out")" "1:1" \
	"head -1, builtin: head got one line, an item's output"
is "$(grep -ciE 'closed|broken pipe|EPIPE' "$T/err")" 1 \
	"head -1, builtin: one line says stdout was closed, no more"
no_procs_point "head -1, builtin"

# A command: item 1 prints at once; the others run 30 s each and print nothing until then, so
# the reader's leaving must be seen without a write.
mark="pt-faults-io-$$"
t0=$(now_us)
ptu 60 --headless -j 2 -- env "PT_MARK=$mark" sh -c 'echo "$1"; [ "$1" -le 1 ] || sleep 30' _ {} \
	::: $(seq 100) 2>"$T/err" </dev/null | head -1 >"$T/out"
st=("${PIPESTATUS[@]}")
ms=$(ms_since "$t0")
diag "head -1, command: pooltop's status ${st[0]}, $ms ms"
if [ "$ms" -lt "$(scaled_ms 2000)" ] && [ "${st[0]}" -ne 0 ] && [ "${st[0]}" -ne 124 ]; then
	ok "head -1, command: pooltop ends within 2 s, non-zero (${st[0]})"
else
	not_ok "head -1, command: pooltop ends within 2 s, non-zero (${st[0]})"
	diag "$(tail -3 "$T/err")"
fi
is "$(cat "$T/out")" 1 "head -1, command: head got the first line"
is "$(grep -ciE 'closed|broken pipe|EPIPE' "$T/err")" 1 \
	"head -1, command: one line says stdout was closed, no more"
no_procs_point "head -1, command"
if wait_for '[ -z "$(jobs_of "$mark")" ]' 3; then
	ok "head -1, command: no command job left"
else
	not_ok "head -1, command: no command job left"
	diag "$(ps -o pid,ppid,pgid,args -p "$(jobs_of "$mark" | paste -sd,)" 2>&1)"
fi

# --- a full disk for the joblog, the results, stdout ---------------------------------------------
# The batch goes on: the other files and stdout get everything; the error is said once, with
# the file's name; the exit status is 255.
seq 1000 | ptu 30 --headless -j 2 --builtin square --joblog /dev/full --results "$T/r" \
	>"$T/out" 2>"$T/err"
rc=$?
is "$rc" 255 "--joblog /dev/full: exit status 255"
is "$(grep -c 'No space left on device' "$T/err")" 1 "--joblog /dev/full: the error is said once"
like "$(cat "$T/err")" '^pooltop: --joblog /dev/full: No space left on device' \
	"--joblog /dev/full: one line naming the file and the error"
is "$(wc -l <"$T/out"):$(json_count "$T/r")" "1000:1000" \
	"--joblog /dev/full: the batch goes on: stdout and --results get all 1000"

seq 1000 | ptu 30 --headless -j 2 --builtin square --results /dev/full --joblog "$T/jl" \
	>"$T/out" 2>"$T/err"
rc=$?
is "$rc" 255 "--results /dev/full: exit status 255"
is "$(grep -c 'No space left on device' "$T/err")" 1 "--results /dev/full: the error is said once"
like "$(cat "$T/err")" '^pooltop: --results /dev/full: No space left on device' \
	"--results /dev/full: one line naming the file and the error"
is "$(wc -l <"$T/out"):$(($(wc -l <"$T/jl") - 1))" "1000:1000" \
	"--results /dev/full: the batch goes on: stdout and --joblog get all 1000"

seq 1000 | ptu 30 --headless -q -j 2 --builtin square --joblog /dev/full >/dev/null 2>"$T/err"
rc=$?
is "$rc:$(grep -c '^pooltop: --joblog /dev/full: No space left on device' "$T/err")" "255:1" \
	"-q, --joblog /dev/full: the error is still said, once; exit 255"

seq 1000 | ptu 30 --headless -j 2 --builtin square --results "$T/r" >/dev/full 2>"$T/err"
rc=$?
is "$rc" 255 "stdout on /dev/full: exit status 255"
is "$(grep -c 'No space left on device' "$T/err")" 1 "stdout on /dev/full: the error is said once"
like "$(cat "$T/err")" '^pooltop: writing standard output: No space left on device' \
	"stdout on /dev/full: one line naming standard output and the error"
is "$(json_count "$T/r")" 1000 "stdout on /dev/full: the batch goes on: --results gets all 1000"

# --- a slow reader of stdout ---------------------------------------------------------------------
# One item that hangs, then 1,000,000 integers (--builtin demo squares them: 12 MB of output):
# the reader takes nothing until pooltop has stopped the hanging item at its --timeout. A loop
# blocked in a write never gets there; the reader gives up waiting after 15 s (scaled).
{
	echo hang
	seq 1000000
} >"$T/items"
seq 1000000 | awk '{ printf "%.0f\n", $1 * $1 }' >"$T/squares"
# shellcheck disable=SC2016 # the reader's code runs in its own shell
reader='e=$1; for i in $(seq "$2"); do grep -q "ran past --timeout" "$e" && { echo seen >"$e.reader"; break; }; sleep 0.02; done; [ -s "$e.reader" ] || echo "not seen" >"$e.reader"; cat'
t0=$(now_us)
# shellcheck disable=SC2094 # the reader watches pooltop's stderr: that is the point
peak_rss "$T/rss" timeout -k "$(scaled 5)" "$(scaled 60)" "$PT" --headless -j 2 --timeout 1s \
	--term-seq KILL,1 --builtin demo -a "$T/items" 2>"$T/err" |
	bash -c "$reader" _ "$T/err" $(($(scaled_ms 15000) / 20)) >"$T/out"
st=("${PIPESTATUS[@]}")
diag "slow reader: pooltop's status ${st[0]}, $(ms_since "$t0") ms, peak RSS $(tail -1 "$T/rss") KiB"
is "$(cat "$T/err.reader")" seen "slow reader: --timeout fires while stdout is blocked (the loop goes on)"
is "${st[0]}" 1 "slow reader: exit status 1 (the hanging item failed)"
# Not -k: outputs held behind the hanging item would be the reorder buffer's, not stdout's.
if sort -n "$T/out" | cmp -s - "$T/squares"; then
	ok "slow reader: every output arrived"
else
	not_ok "slow reader: every output arrived"
	diag "$(wc -c <"$T/out") bytes of $(wc -c <"$T/squares")"
fi

# 300,000 items of 200 bytes: 60 MB of output for a reader that takes nothing at first.
awk 'BEGIN { for (i = 1; i <= 300000; i++) printf "%06d%0194d\n", i, 0 }' >"$T/big"

# SIGTERM while the reader takes nothing: pooltop does not wait for it. 5,000 items of 200 bytes:
# all done, 1 MB of output waiting.
head -5000 "$T/big" >"$T/some"
rm -f "$T/go"
(
	ptu 30 --headless -j 2 --builtin echo --results "$T/r" -a "$T/some" 2>"$T/err"
	echo $? >"$T/rc"
) | bash -c 'while [ ! -e "$1" ]; do sleep 0.02; done; cat >/dev/null' _ "$T/go" &
# The results wait for the outputs, which wait for the reader: pooltop's status line (SIGUSR1)
# says when every item is done.
if wait_for '[ -n "$(main_pid)" ] && kill -USR1 "$(main_pid)" && grep -q "^pooltop: 5000 done" "$T/err"' 10; then
	t0=$(now_us)
	kill -TERM "$(main_pid)"
	wait_for '[ -s "$T/rc" ]' 5
	ms=$(ms_since "$t0")
	if [ -s "$T/rc" ] && [ "$ms" -lt "$(scaled_ms 2000)" ]; then
		ok "SIGTERM, reader stuck: pooltop exits within 2 s ($ms ms)"
	else
		not_ok "SIGTERM, reader stuck: pooltop exits within 2 s ($ms ms)"
	fi
else
	not_ok "SIGTERM, reader stuck: pooltop exits within 2 s (the items did not all finish)"
fi
touch "$T/go"
wait
is "$(cat "$T/rc" 2>/dev/null)" 255 "SIGTERM, reader stuck: exit 255 (all items done, output lost)"
like "$(cat "$T/err")" '^pooltop: standard output: [0-9]+ bytes not written' \
	"SIGTERM, reader stuck: stderr says how many bytes were not written"

# --- input: a generator killed mid-stream -----------------------------------------------------------
# pooltop sees the end of its input: the items read are run; the shell's status shows the kill.
(
	seq 1000
	kill -9 $BASHPID
) | ptu 30 --headless -j 2 --builtin square --results "$T/r" >/dev/null 2>"$T/err"
st=("${PIPESTATUS[@]}")
is "${st[0]}:${st[1]}" "137:0" "generator killed: its status 137 (SIGKILL); pooltop's 0"
is "$(json_count "$T/r")" 1000 "generator killed: the 1000 items it wrote were all run"
# Killed mid-line: the cut last line is an item like any last line without a newline.
(
	printf '1\n2\n3'
	kill -9 $BASHPID
) | ptu 30 --headless -j 2 --builtin echo -k >"$T/out" 2>"$T/err"
rc=$?
is "$rc:$(paste -sd' ' "$T/out")" "0:1 2 3" "generator killed mid-line: the cut line '3' is run too"

# --- stdin and stdout closed ------------------------------------------------------------------------
ptu 10 --headless -j 2 --builtin square --joblog "$T/jc" <&- >"$T/out" 2>"$T/err"
rc=$?
is "$rc" 255 "stdin closed: exit 255 (no crash)"
is "$(cat "$T/err")" "pooltop: standard input is closed: give the items there, in -a FILE or after :::" \
	"stdin closed: one line says so"
ptu 10 --headless -j 2 --builtin square -k ::: 1 2 3 <&- >"$T/out" 2>"$T/err"
rc=$?
is "$rc:$(paste -sd' ' "$T/out")" "0:1 4 9" "stdin closed, ::: items: they run (exit 0)"
seq 5 | ptu 10 --headless -j 2 --builtin square --joblog "$T/jo" >&- 2>"$T/err"
rc=$?
is "$rc" 255 "stdout closed: exit 255 (no crash)"
is "$(grep -c '^pooltop: standard output is closed' "$T/err")" 1 "stdout closed: said once"
check "stdout closed: refused before anything ran (no joblog made)" test ! -e "$T/jo"

# --- -a FILE deleted during the run -----------------------------------------------------------------
# The output is held up (a slow reader) so that pooltop is mid-file when the file goes; the 60 MB
# of output waiting meanwhile must not cost 60 MB of memory.
cp "$T/big" "$T/afile"
rm -f "$T/go"
peak_rss "$T/rss" timeout -k "$(scaled 5)" "$(scaled 60)" "$PT" --headless -j 2 --builtin echo -k \
	-a "$T/afile" 2>"$T/err" |
	bash -c 'while [ ! -e "$1" ]; do sleep 0.02; done; cat' _ "$T/go" >"$T/out" &
# afile_pos: how far pooltop has read the file (its fd's offset), empty until it has it open.
# shellcheck disable=SC2317 # called through wait_for
afile_pos() {
	local p fd
	p=$(main_pid)
	[ -n "$p" ] || return 0
	for fd in /proc/"$p"/fd/*; do
		if [ "$(readlink "$fd")" = "$T/afile" ]; then
			awk '/^pos:/ { print $2 }' "/proc/$p/fdinfo/${fd##*/}"
			return 0
		fi
	done
}
size=$(wc -c <"$T/afile")
p1= # set by the wait below
if wait_for 'p1=$(afile_pos); [ -n "$p1" ] && [ "$p1" -lt "$size" ]' 10; then
	ok "-a FILE: pooltop is mid-file when it is deleted (at $p1 of $size bytes)"
else
	not_ok "-a FILE: pooltop is mid-file when it is deleted"
fi
rm -f "$T/afile"
touch "$T/go"
wait
if cmp -s "$T/out" "$T/big"; then
	ok "-a FILE deleted during the run: every item is still read and run, in order"
else
	not_ok "-a FILE deleted during the run: every item is still read and run, in order"
	diag "$(wc -c <"$T/out") bytes of $(wc -c <"$T/big"); $(tail -2 "$T/err")"
fi
rss=$(tail -1 "$T/rss")
if sanitized; then
	ok "slow reader: memory stays bounded # SKIP memory figures mean nothing under ASan"
elif [ "$rss" -lt 40960 ] 2>/dev/null; then
	ok "slow reader: memory stays bounded (peak RSS $rss KiB < 40 MiB for 60 MB of output)"
else
	not_ok "slow reader: memory stays bounded (peak RSS $rss KiB < 40 MiB for 60 MB of output)"
fi

# --- a line of 100 MB ---------------------------------------------------------------------------------
python3 -c 'import sys
sys.stdout.write("a\n")
for _ in range(100):
    sys.stdout.write("x" * 1000000)
sys.stdout.write("\nb\n")' |
	peak_rss "$T/rss" timeout -k "$(scaled 5)" "$(scaled 60)" "$PT" --headless -j 2 --builtin echo -k \
		--results "$T/r" \
		>"$T/out" 2>"$T/err"
st=("${PIPESTATUS[@]}")
rss=$(tail -1 "$T/rss")
diag "100 MB line: peak RSS $rss KiB"
is "${st[1]}" 1 "100 MB line: exit status 1 (one item failed)"
is "$(grep -c 'input line 2: item of 100000000 bytes is longer than the limit' "$T/err")" 1 \
	"100 MB line: one line says input line 2 is too long"
is "$(paste -sd' ' "$T/out"):$(json_field "$T/r" 2 status)" "a b:failed" \
	"100 MB line: the batch goes on (a and b run), the line fails in --results"
if sanitized; then
	ok "100 MB line: memory stays bounded # SKIP memory figures mean nothing under ASan"
elif [ "$rss" -lt 51200 ] 2>/dev/null; then
	ok "100 MB line: memory stays bounded (peak RSS $rss KiB < 50 MiB)"
else
	not_ok "100 MB line: memory stays bounded (peak RSS $rss KiB < 50 MiB)"
fi

# --- NUL bytes inside a line, without -0: part of the item ---------------------------------------------
printf 'a\0b\nc\n' | ptu 10 --headless -j 1 --builtin echo -k --results "$T/r" >"$T/out" 2>"$T/err"
rc=$?
is "$rc:$(od -An -c "$T/out" | tr -s ' ')" "0: a \\0 b \\n c \\n" \
	"NUL in a line, builtin: the item holds the NUL byte, whole"
is "$(json_get "$T/r" 1 status)" "done" "NUL in a line, builtin: done in --results"
printf 'a\0b\nc\n' | ptu 10 --headless -j 1 -k --results "$T/r" -- echo >"$T/out" 2>"$T/err"
rc=$?
is "$rc:$(cat "$T/out")" "1:c" "NUL in a line, command: that item fails (exit 1), the next runs"
like "$(cat "$T/err")" '^pooltop: item 1 holds a NUL byte, which a command.s argument cannot carry' \
	"NUL in a line, command: a message says why"
is "$(json_get "$T/r" 1 status exitcode)" "failed 1" "NUL in a line, command: failed with 1 in --results"

# --- input that cannot be read ------------------------------------------------------------------------
ptu 10 --headless -j 1 --builtin echo -a "$T" </dev/null >"$T/out" 2>"$T/err"
rc=$?
is "$rc" 255 "-a DIRECTORY: exit status 255"
like "$(cat "$T/err")" '^pooltop: -a .*: Is a directory$' "-a DIRECTORY: one line says why"

no_procs_point "the end"
exit 0
