#!/bin/bash
# attach.sh: every run serves its batch on a socket: pooltop ls and status find it, the
# protocol answers a client of the same uid (hello, snapshot, commands on a worker as seen,
# read-only refused, stale refused), and refuses the rest with one line (another uid, a wrong
# version, garbage) while the batch goes on; a thousand connections, a client that never reads,
# a killed batch's dead socket, a removed socket.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 46

ptname
client() { "$PYTHON3" "$TESTS_DIR/attach_client.py" "$@"; }
PYTHON3=${PYTHON3:-python3}
# jf KEY: KEY of the JSON object on stdin's first line.
jf() { "$PYTHON3" -c 'import json,sys; v=json.loads(sys.stdin.readline()).get(sys.argv[1]); print("" if v is None else v)' "$1"; }
DIR=$T/pooltop-$(id -u)
SOCK=$DIR/bg.sock

# A headless batch in the background: 2 workers on items of 150 ms, plenty of them.
"$PT" --headless -q --name bg -j 2 --builtin sleep:150 --results "$T/bg.json" \
	::: $(seq 400) >"$T/bg.out" 2>"$T/bg.err" &
BG=$!
at_exit "kill -KILL $BG"
check "a headless batch serves its socket at \$POOLTOP_TMPDIR/pooltop-UID/NAME.sock" \
	wait_for '[ -S "$SOCK" ]' 10
is "$(stat -c %a "$DIR") $(stat -c %a "$SOCK")" "700 600" "the directory is 0700, the socket 0600"

out=$("$PT" ls)
like "$out" "^bg +$BG +[0-9:]+ +[0-9]+/0/400 +2/2 +[0-9]+/s +0 +running" \
	"ls: name, pid, started, done/failed/total, workers, rate, viewers, state"
json=$("$PT" ls --json)
is "$(echo "$json" | jf name)/$(echo "$json" | jf pid)/$(echo "$json" | jf total)" \
	"bg/$BG/400" "ls --json: one object per batch, for scripts"
st=$("$PT" status bg)
like "$st" "^pid: +$BG" "status NAME: the batch's pid"
like "$st" "^state: +running" "status NAME: its state"
like "$st" "^items: +[0-9]+ done, 0 failed" "status NAME: its items"
like "$("$PT" status)" "^name: +bg" "status with one batch running: that one"
like "$("$PT" status b)" "^name: +bg" "status PREFIX: the batch whose name it begins"
is "$("$PT" status --json bg | jf state)" running "status --json"

# Names.
err=$("$PT" --headless --name bg --builtin noop ::: 1 2>&1 >/dev/null)
rc=$?
like "$rc: $err" '^255: pooltop: the name "bg" is in use' "a name in use is refused, in one line"
err=$("$PT" --headless --name 'a/b' --builtin noop ::: 1 2>&1 >/dev/null)
like "$?: $err" "^255: pooltop: --name \"a/b\": use letters, digits" "a name with a / is refused"
err=$("$PT" status nosuch 2>&1)
like "$?: $err" '^255: pooltop: no batch named "nosuch"' "status of no such batch: one line, 255"
err=$("$PT" attach nosuch 2>&1 </dev/null)
like "$?: $err" '^255: pooltop: no batch named "nosuch"' "attach to no such batch: one line, 255"

# The protocol.
h=$(client "$SOCK" hello)
like "$(echo "$h" | head -1)" '"type": "hello".*"name": "bg"' "hello: the batch names itself"
like "$(echo "$h" | tail -1)" '"type": "snapshot"' "then a snapshot"
like "$(client "$SOCK" hello 2)" '"type": "error".*protocol version 2 is not spoken here' \
	"a wrong protocol version: one error line"
like "$(client "$SOCK" raw 'hello there')" '"type": *"error".*not JSON' "garbage: one error line, then closed"
like "$(client "$SOCK" raw '{"type":"command"}')" 'the first message must be' \
	"a command before the hello: refused"
big=$(head -c 70000 /dev/zero | tr '\0' x)
like "$(client "$SOCK" raw "$big")" 'a message over 65536 bytes' "a message over the limit closes the connection with an error"

# Commands on a worker as seen.
pid0=$(client "$SOCK" pid 0)
r=$(client "$SOCK" command kill 0 ro)
like "$r" '"result": -1,.*read-only' "a read-only viewer's command is refused"
check "...and the worker lives" kill -0 "$pid0"
r=$(client "$SOCK" command kill 0)
like "$r" '"result": 0' "a command on a worker: acknowledged"
check "...its process is killed" wait_for '! kill -0 "$pid0" 2>/dev/null' 5
done_before=$("$PT" status --json bg | jf done)
check "...and the batch goes on" wait_for '[ "$("$PT" status --json bg | jf done)" -gt "$done_before" ]' 10

# Another uid.
if id nobody >/dev/null 2>&1 && command -v runuser >/dev/null && [ "$(id -u)" = 0 ]; then
	r=$(runuser -u nobody -- "$PYTHON3" "$TESTS_DIR/attach_client.py" "$SOCK" hello 2>&1)
	like "$r" 'Permission denied' "another uid cannot reach the socket (the directory is 0700)"
	# With the directory open, the socket's peer check: one error line.
	chmod 0711 "$T" "$DIR"
	chmod 0666 "$SOCK"
	r=$(runuser -u nobody -- "$PYTHON3" "$TESTS_DIR/attach_client.py" "$SOCK" hello 2>&1)
	like "$r" "uid $(id -u nobody) may not attach to a batch of uid $(id -u)" \
		"another uid that reaches the socket: refused by SO_PEERCRED, one line"
	chmod 0700 "$T" "$DIR"
	chmod 0600 "$SOCK"
	err=$("$PT" ls 2>&1 >/dev/null)
	is "$err" "" "the directory put back: ls still works"
else
	ok "another uid: not root here (runuser needs it): the 0700 directory is checked above"
	ok "another uid: SO_PEERCRED (root needed to act as nobody)"
	ok "another uid: (skipped)"
fi

# Connections in numbers, and a client that never reads: the batch is unaffected.
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$BG/status"; }
client "$SOCK" cycles 100 >/dev/null
rss0=$(rss)
is "$(client "$SOCK" cycles 1000)" done "1000 attach/detach cycles"
rss1=$(rss)
if sanitized; then
	ok "the engine's RSS across 1000 cycles: $rss0 -> $rss1 KiB (ASan: not compared)"
else
	check "the engine's RSS stays flat across 1000 cycles ($rss0 -> $rss1 KiB, +2 MiB at most)" \
		test "$rss1" -le $((rss0 + 2048))
fi
is "$(client "$SOCK" connections 300)" done "300 connections open at once, then closed"
client "$SOCK" noread "$(scaled 3)" >/dev/null &
NOREAD=$!
at_exit "kill $NOREAD"
d1=$("$PT" status --json bg | jf done)
check "with a client that never reads, the batch goes on" \
	wait_for '[ "$("$PT" status --json bg | jf done)" -gt $((d1 + 4)) ]' 10
kill "$NOREAD" 2>/dev/null

# The socket removed (a cleaner of /tmp): made again.
rm -f "$SOCK"
check "a socket removed under the batch is made again within 2 s" wait_for '[ -S "$SOCK" ]' 2
like "$("$PT" status bg)" "^pid: +$BG" "...and answers"

# A batch killed: a dead socket, reported; its name can be had again.
kill -KILL "$BG"
wait "$BG" 2>/dev/null
like "$("$PT" ls)" '^bg +- +- +- .*dead' "a SIGKILLed batch: ls shows its socket dead"
err=$("$PT" attach bg 2>&1 </dev/null)
like "$?: $err" '^255: pooltop: bg: a dead batch' "attach to a dead batch: one line"
"$PT" --headless -q --name bg --builtin noop ::: 1 2 3 >/dev/null 2>"$T/again.err"
is "$?: $(cat "$T/again.err")" "0: " "a new batch of the same name replaces the dead socket"
"$PT" --headless -q --name dead2 --builtin sleep:5000 ::: 1 >/dev/null 2>&1 &
D2=$!
wait_for '[ -S "$DIR/dead2.sock" ]' 10
kill -KILL "$D2"
wait "$D2" 2>/dev/null
"$PT" ls --wipe >/dev/null 2>"$T/wipe.err"
check "ls --wipe removes the dead sockets" test ! -e "$DIR/dead2.sock"

# at_end NAME J MS N: a headless batch NAME of N items (sleep MS, scaled) on J workers, and a
# slow reader attached to it that reads nothing until the results are all in, then to the end:
# the types of its last two messages (tests/attach_client.py tail).
at_end() {
	"$PT" --headless -q --name "$1" -j "$2" --builtin "sleep:$(scaled_ms "$3")" \
		--results "$T/$1.json" ::: $(seq "$4") >/dev/null 2>&1 &
	local pid=$!
	wait_for "[ -S '$DIR/$1.sock' ]" 10
	client "$DIR/$1.sock" tail "$T/$1.json" "$4"
	wait "$pid"
}
# A slow reader attached as the batch ends still gets the end, whole.
like "$(at_end ends 64 500 128)" '^(delta|snapshot) finished whole$' \
	"a slow reader attached at the end gets every line whole, the last one \"finished\""
# One that fell behind (past the 2 MiB bound: 8,000 items change about 4 MB of rows) gets the
# whole last state before "finished", not the stale rows it stopped at.
is "$(at_end behind 256 100 8000)" "snapshot finished whole" \
	"a reader behind at the end: the whole last state, then \"finished\""

# A batch that does not answer (stopped) is not called dead.
"$PT" --headless -q --name stuck --builtin sleep:5000 ::: 1 >/dev/null 2>&1 &
S=$!
at_exit "kill -KILL $S"
wait_for '[ -S "$DIR/stuck.sock" ]' 10
kill -STOP "$S"
err=$("$PT" status stuck 2>&1)
like "$?: $err" '^1: pooltop: stuck: not answering: no answer within' "a stopped batch: status says it does not answer, exit 1"
like "$("$PT" ls)" '^stuck .*not answering' "...and ls too"
kill -CONT "$S"
kill -TERM "$S"

# A long POOLTOP_TMPDIR: the default name is cut to fit the socket's path.
# The socket's directory 92 bytes long: 9 left for a name (107 in all with "/" and ".sock").
long=$T/$(printf 'x%.0s' $(seq $((82 - ${#T} - 1))))
mkdir -p "$long"
POOLTOP_TMPDIR=$long "$PT" --headless --builtin sleep:1000 ::: 1 >/dev/null 2>"$T/long.err" &
L=$!
check "a long POOLTOP_TMPDIR: the batch is served under a shorter name" \
	wait_for '[ -n "$(ls "$long/pooltop-$(id -u)/" 2>/dev/null | grep "^sle.*-$L\.sock$")" ]' 10
wait "$L"
unlike "$(cat "$T/long.err")" "not served" "...and nothing is said of it"

# A path that is not a socket.
echo data >"$T/file"
err=$("$PT" --headless --socket "$T/file" --builtin noop ::: 1 2>&1 >/dev/null)
like "$?: $err" "^255: pooltop: .*file: not a socket" "--socket on a file: refused in one line"
is "$(cat "$T/file")" data "...and the file is untouched"
