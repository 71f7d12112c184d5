#!/bin/bash
# events.sh: --events FILE, headless: one JSON line per event of the run with the documented
# keys and kinds (worker_started, worker_exited, item_failed, item_retried, notice, stop),
# written as they happen (tail -f sees them), and a file that cannot be opened or written said
# as the joblog's are.
# shellcheck disable=SC2016 # wait_for takes code in single quotes.
# shellcheck source=tests/lib.sh
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 15

ptname

# events_check FILE: every line a JSON object with exactly the documented keys, in order, and
# a documented kind; prints what is wrong.
events_check() {
	python3 -c '
import json, sys
keys = ["time", "kind", "slot", "pid", "exitcode", "cause", "seq", "text"]
kinds = {"worker_started", "worker_exited", "item_failed", "item_retried", "notice", "stop"}
for n, line in enumerate(open(sys.argv[1]), 1):
    o = json.loads(line)
    if list(o) != keys:
        print("line %d: keys %s" % (n, list(o)))
    if o["kind"] not in kinds:
        print("line %d: kind %s" % (n, o["kind"]))
    if not isinstance(o["time"], float) or not isinstance(o["text"], str):
        print("line %d: time or text" % n)
' "$1" 2>&1
}

# ev_get FILE KIND KEY...: KEYs of the events of KIND, one event a line, space-separated.
ev_get() {
	python3 -c '
import json, sys
for o in map(json.loads, open(sys.argv[1])):
    if o["kind"] == sys.argv[2]:
        print(" ".join(json.dumps(o[k]) for k in sys.argv[3:]))
' "$@"
}

# --- a run with every kind of worker and item event ----------------------------------------
# item 2 fails (exit 1), is retried once and fails for good; item 3 crashes its worker
# (SIGSEGV) twice; item 4 ends its worker with 3 twice.
ptu 30 --headless -j 2 --retries 1 --events "$T/ev" --builtin demo ::: 1 fail segv exit:3 5 \
	</dev/null >"$T/out" 2>"$T/err"
is "$?" 3 "a run with --events: 3 items failed, exit 3"
is "$(events_check "$T/ev")" "" \
	"--events: every line one JSON object: time, kind, slot, pid, exitcode, cause, seq, text"
is "$(cut -d'"' -f6 "$T/ev" | sort -u | paste -sd' ')" \
	"item_failed item_retried worker_exited worker_started" "--events: the kinds of the run"
# One line per event: the events headless prints on stderr (all but workers starting and
# ending cleanly at the end) are the --events lines of those kinds, in the same order.
python3 -c '
import json, sys
for o in map(json.loads, open(sys.argv[1])):
    if o["kind"] == "worker_started":
        continue
    if o["kind"] == "worker_exited" and o["exitcode"] == 0 and o["cause"] == "end":
        continue
    print("pooltop: " + o["text"])
' "$T/ev" >"$T/ev.said"
grep -v -e '^pooltop: [0-9]* done, ' -e 'unknown instruction' "$T/err" >"$T/err.events"
check "--events: one line per event, the same events stderr says, in order" \
	cmp -s "$T/ev.said" "$T/err.events"
is "$(ev_get "$T/ev" item_failed seq exitcode slot | awk '{ print $1, $2 }')" "2 1" \
	"item_failed: item 2, with its own exit code 1"
is "$(ev_get "$T/ev" item_retried seq exitcode)" "2 1" "item_retried: item 2, exit code 1"
like "$(ev_get "$T/ev" worker_exited exitcode cause seq)" '^-11 "crash" 3$' \
	"worker_exited: the worker of item 3, -11, cause crash, seq 3"
like "$(ev_get "$T/ev" worker_exited exitcode cause seq)" '^3 "crash" 4$' \
	"worker_exited: the worker of item 4, exit 3, seq 4"
started=$(ev_get "$T/ev" worker_started pid | sort -n)
exited=$(ev_get "$T/ev" worker_exited pid | sort -n)
check "every worker's start and exit, once each (pids ${started//$'\n'/ })" \
	test -n "$started" -a "$started" = "$exited"

# --- flushed as they happen: tail -f sees a worker start while the batch runs ----------------
wait_binary
"$PT" --headless -q -j 1 --events "$T/ev-live" --builtin "sleep:$(scaled_ms 60000)" ::: 1 \
	</dev/null >/dev/null 2>&1 &
pid=$!
at_exit "kill -KILL $pid 2>/dev/null"
check "--events: a worker's start is in the file while the batch runs" \
	wait_for 'grep -q "\"kind\":\"worker_started\"" "$T/ev-live"' 5
kill -TERM "$pid"
wait "$pid"
like "$(cat "$T/ev-live")" '"kind":"stop".*"text":"Terminated: terminating all workers' \
	"--events: the stop (SIGTERM) is an event"

# --- files that cannot be opened or written ------------------------------------------------
# bad_events DESC WANT ARGS...: one stderr line WANT, exit 255, nothing on stdout, nothing run.
bad_events() {
	local desc=$1 want=$2
	shift 2
	pt 20 "$@" </dev/null >"$T/bo" 2>"$T/be"
	local rc=$?
	is "$rc|$(cat "$T/be")|$(cat "$T/bo")" "255|$want|" "$desc"
}
bad_events "--events in a missing directory: one line, exit 255, nothing run" \
	"pooltop: --events $T/nodir/e: No such file or directory" \
	--headless --events "$T/nodir/e" --builtin echo ::: 1
bad_events "--events a directory: one line, exit 255" \
	"pooltop: --events $T: Is a directory" --headless --events "$T" --builtin echo ::: 1
printf 'x\n' >"$T/same"
bad_events "--events the --results file: one line, exit 255" \
	"pooltop: --events $T/same: that is the --results file (give another file)" \
	--headless --results "$T/same" --events "$T/same" --builtin echo ::: 1
pt 20 --headless -q --events /dev/full --builtin square ::: 1 </dev/null >"$T/fo" 2>"$T/fe"
is "$?|$(cat "$T/fe")|$(cat "$T/fo")" \
	"255|pooltop: --events /dev/full: No space left on device (further rows are not written)|1" \
	"--events /dev/full: said as the joblog's write errors are, the batch done, exit 255"
