#!/bin/bash
# dashboard_attach.sh: pooltop attach, in a real terminal: a headless batch in the background,
# the attached dashboard shows its real PIDs, k through it kills that process and the batch
# goes on, a second (read-only) viewer sees the same kill and its own k is refused, d and q
# detach and leave the batch running; a dashboard run detached with d finishes its items, its
# outputs in a file and its exit status in pooltop status; a viewer stopped with SIGSTOP costs
# the batch nothing.
# shellcheck disable=SC2016 # wait_until and friends take code in single quotes.
. "${TESTS_DIR:-$(dirname "$0")}/tmux_lib.sh"

plan 40

ptname
# jf KEY: KEY of the JSON object on stdin's first line.
jf() { python3 -c 'import json,sys; v=json.loads(sys.stdin.readline()).get(sys.argv[1]); print("" if v is None else v)' "$1"; }
done_of() { "$PT" status --json "$1" | jf done; }

# A headless batch in the background.
"$PT" --headless -q --name web -j 2 --builtin "sleep:$(scaled_ms 300)" ::: $(seq 2000) \
	>"$T/web.out" 2>"$T/web.err" &
BG=$!
at_exit "kill -KILL $BG"
wait_for '[ -S "$POOLTOP_TMPDIR/pooltop-$(id -u)/web.sock" ]' 10

tm_start viewer attach web
screen_like 'attached: web' 5 "attach: the footer says which batch"
screen_until '[ -n "$(table_pids)" ] && [ "$(table_pids)" = "$(kids "$BG")" ]' 5 \
	"attach: the table shows the batch's real worker PIDs"
tm_select 0
p0=$(row_pid 0)
tm_keys k
check "k through the attached viewer kills that PID ($p0)" wait_for '! alive "$p0"' 5
screen_until '[ "$(row_exit 0)" = "-9 SIGKILL" ]' 5 "...and its row shows -9 SIGKILL"
d0=$(done_of web)
check "...and the batch goes on" wait_for '[ "$(done_of web)" -gt "$d0" ]' 10

# A second viewer, read-only, in a terminal of its own.
tmb() { tmux -L "pt-$$-b" -f /dev/null "$@"; }
at_exit "tmux -L pt-$$-b kill-server"
tmb new-session -d -x 120 -y 36 "TERM=xterm-256color $(printf '%q' "$PT") attach --read-only web; sleep 60"
screen_b() { tmb capture-pane -p; }
check "a second viewer (read-only) shows the same kill on the same row" \
	wait_for 'screen_b | grep -Eq "^>? +0 +[0-9]+ +[A-Z]+ +(was )?-9 SIGKILL"' 5
p1=$(row_pid 1)
tmb send-keys Down k
check "the read-only viewer's k is refused, and says so" \
	wait_for 'screen_b | grep -q "read-only: it acts on nothing"' 5
check "...and the worker ($p1) lives" alive "$p1"
like "$("$PT" ls)" "^web +$BG .* 2 +running" "ls counts both viewers"

tm_keys d
wait_exit 5
is "$RC" 0 "d detaches: the viewer leaves, exit 0"
like "$(cat "$R/err")" "^pooltop: detached from web \\(pid $BG\\): it runs on" "d: it says so"
check "...and the batch runs on" alive "$BG"

tm_start viewer2 attach web
screen_like 'attached: web' 5 "attach again"
tm_keys q
wait_exit 5
is "$RC" 0 "q in an attached viewer detaches too (stopping the batch is T)"
check "...and the batch runs on" alive "$BG"
tm_start viewer3 attach web
screen_like 'attached: web' 5 "attach once more"
tm_keys C-c
wait_exit 5
is "$RC" 0 "Ctrl-C in an attached viewer detaches (it does not drain someone's batch)"
is "$("$PT" status --json web | jf state)" running "...and the batch runs on, undrained"
tmb kill-server

# A batch that stops answering (SIGSTOP): the viewer's detail view does not freeze it.
tm_start viewer4 attach web
screen_like 'attached: web' 5 "attach, to a batch about to stop"
kill -STOP "$BG"
tm_keys Enter
tm_keys Escape d
check "a stopped batch: Enter, Esc, d still detach within 3 s" wait_exit 3
kill -CONT "$BG"

# Keys on a batch that does not answer for a while (stopped here; swamped by a storm under a
# sanitizer in CI): each is sent all the same, the footer says it was asked, and the batch does
# it when it reads it. A refusal that comes late is said in the log.
tm_start viewer5 attach web
screen_like '\(size 2\)' 5 "attach, to a batch of 2 workers about to stop"
kill -STOP "$BG"
tm_keys +
screen_like 'pool size 3: asked; the batch has not answered yet' 8 \
	"a stopped batch: + is asked, and the footer says it has not answered"
tm_keys +
screen_like 'pool size 4: asked' 8 "...a second + is asked too, from the size asked"
kill -CONT "$BG"
screen_like '\(size 4\)' 5 "...and the batch, going on, does both: size 4"
tm_keys - - -
screen_like '\(size 1\)' 5 "- - -: one worker left, items waiting"
p0=$(row_pid 0)
kill -STOP "$BG"
tm_select 0
tm_keys j
screen_like 'worker 0: asked; the batch has not answered yet' 8 "a stopped batch: j is asked"
kill -CONT "$BG"
screen_like 'join on worker 0, asked from this viewer: refused: it is the last worker' 5 \
	"...the batch refuses it when it reads it (its last worker), and the log says so"
check "...and that worker ($p0) lives" alive "$p0"
tm_keys d
wait_exit 5

# A viewer stopped with SIGSTOP: the batch does not wait for it. The same batch (4 workers,
# items of 60 ms: 6 s) alone and with a stopped viewer (and a client that never reads): the
# time it takes is the same, give or take the noise.
kill -KILL "$BG"
wait "$BG" 2>/dev/null
"$PT" ls --wipe >/dev/null 2>&1
elapsed() { sed -n 's/.* in \([0-9.]*\) s .*/\1/p' "$1" | tail -1; }
"$PT" --headless --name alone -j 4 --builtin sleep:60 ::: $(seq 400) >/dev/null 2>"$T/alone.err"
"$PT" --headless --name watched -j 4 --builtin sleep:60 ::: $(seq 400) >/dev/null 2>"$T/watched.err" &
W=$!
wait_for '[ -S "$POOLTOP_TMPDIR/pooltop-$(id -u)/watched.sock" ]' 10
tm_start stopped attach watched
wait_screen 'attached: watched' 5
kill -STOP "$PID"
python3 "$TESTS_DIR/attach_client.py" "$POOLTOP_TMPDIR/pooltop-$(id -u)/watched.sock" noread 30 >/dev/null &
NR=$!
at_exit "kill -KILL $NR"
wait "$W"
kill -CONT "$PID"
a=$(elapsed "$T/alone.err")
w=$(elapsed "$T/watched.err")
check "a viewer stopped with SIGSTOP costs the batch no throughput ($a s alone, $w s watched)" \
	python3 -c "import sys; sys.exit(0 if float('$w') < float('$a') * 1.25 + 0.3 else 1)"
kill "$NR" 2>/dev/null
tm_stop

# A dashboard run detached with d: its items finish, its outputs go to a file, its exit status
# is in pooltop status.
# Its items wait on the test's gate (lib.sh) until d and a second run of the name are done: the
# batch is still running then, however loaded the machine.
gate_hold
TM_STDOUT_TTY=1 tm_start own --name own -j 2 -- flock -s "$T/gate" sh -c 'echo "out $1"; [ "$1" != 5 ]' _ ::: $(seq 12)
screen_like '^pooltop  flock -s' 5 "a dashboard run"
tm_keys d
wait_exit 5
is "$RC" 0 "d on the dashboard that started the batch: it detaches, exit 0"
like "$(cat "$R/err")" "^pooltop: its outputs go to $POOLTOP_TMPDIR/pooltop-$(id -u)/own.out" \
	"d: the outputs that went to the terminal go to a file, said"
# Another dashboard run asking for the name: refused, and the running batch's file untouched.
TM_STDOUT_TTY=1 tm_start own2 --name own -- echo x ::: 1
wait_exit 5
like "$RC: $(cat "$R/err")" '^255: pooltop: the name "own" is in use' "the same name again: refused"
gate_open
check "the detached batch finishes, and pooltop status says its exit status (1: item 5 failed)" \
	wait_for '"$PT" status own 2>/dev/null | grep -q "^state: *finished at .*, exit status 1"' 15
is "$(grep -c '^out ' "$POOLTOP_TMPDIR/pooltop-$(id -u)/own.out")/$(tr -d '\0' <"$POOLTOP_TMPDIR/pooltop-$(id -u)/own.out" | wc -c)" \
	"12/$(wc -c <"$POOLTOP_TMPDIR/pooltop-$(id -u)/own.out")" \
	"...and its file has every item's output (no other run's refusal cut it)"
"$PT" --headless -q --name own --builtin noop ::: 1
err=$("$PT" status own 2>&1)
like "$?: $err" '^255: pooltop: no batch named "own"' "a new batch of the name: the old one's record goes"

# The finished screen: q after seeing the end keeps no record; a hang-up there keeps it.
# SIGTERM to the engine waiting for its owner ends it.
TM_STAY=1 tm_start seen --name seen --builtin square ::: 1 2
wait_screen '\[FINISHED\]' 10
# A viewer that attaches to it: "finished" is the last thing it is sent (its engine lives on).
is "$(python3 "$TESTS_DIR/attach_client.py" "$POOLTOP_TMPDIR/pooltop-$(id -u)/seen.sock" end 1)" \
	"finished, then nothing" "a viewer of a finished batch: nothing comes after \"finished\""
tm_keys q
wait_exit 5
err=$("$PT" status seen 2>&1)
like "$?: $err" '^255: pooltop: no batch named "seen"' "q on the finished screen: the end was seen, no record kept"
TM_STAY=1 tm_start hup --name hup --builtin square ::: 1 2
wait_screen '\[FINISHED\]' 10
engine=$(engine_pid)
tm kill-server
wait_exit 5
check "the terminal gone on the finished screen: the record is kept for status" \
	wait_for '"$PT" status hup 2>/dev/null | grep -q "^state: *finished at .*, exit status 0"' 5
TM_STAY=1 tm_start term --name term --builtin square ::: 1 2
wait_screen '\[FINISHED\]' 10
engine=$(engine_pid)
kill -TERM "$engine"
check "SIGTERM to an engine waiting on its finished screen's owner: it ends" wait_for '! alive "$engine"' 5
tm_keys q
wait_exit 5
