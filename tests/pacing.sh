#!/bin/bash
# pacing.sh: --delay D starts jobs at least D apart; --memfree SIZE starts none while the
# available memory is below SIZE (and says so), a SIGTERM then ends the run with the items
# held back not run; a small SIZE runs as usual.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 13

ptname

# --- --delay ------------------------------------------------------------------------------
# Six instant items on four workers: without the delay they would start together. The delay is
# a lower bound pooltop promises: not scaled (a slow machine only makes the gaps longer).
ptu 30 --headless -q -j 4 --delay 0.2 --results "$T/delay.json" -- true ::: 1 2 3 4 5 6 \
	2>"$T/delay.err"
is "$?" 0 "--delay 0.2: the batch succeeds"
is "$(json_count "$T/delay.json")" 6 "--delay 0.2: six results"
gaps=$(python3 - "$T/delay.json" <<'PY'
import json, sys
s = sorted(json.loads(l)["start"] for l in open(sys.argv[1]) if l.strip())
print(" ".join("%.3f" % (b - a) for a, b in zip(s, s[1:])))
PY
)
like "$gaps" '^[0-9.]+( [0-9.]+){4}$' "--delay 0.2: five gaps between six starts"
short=$(echo "$gaps" | tr ' ' '\n' | awk '$1 < 0.19' | wc -l)
is "$short" 0 "--delay 0.2: every start at least 0.2 s after the one before ($gaps)"

# A retry is paced too, and goes before the items held back (as a retry goes before new items
# unpaced): item 1 fails once, and its second run starts before item 2's (one worker).
d=$(scaled 0.3)
ptu 30 --headless -q -j 1 --delay "$d" --retries 1 --results "$T/retry.json" \
	-- sh -c 'if [ "$1" = 1 ] && mkdir "$2" 2>/dev/null; then exit 1; fi' _ {} "$T/failed-once" \
	::: 1 2 3 4 5 2>"$T/retry.err"
is "$?" 0 "--delay with --retries: the batch succeeds"
order=$(python3 - "$T/retry.json" <<'PY'
import json, sys
r = sorted((json.loads(l) for l in open(sys.argv[1]) if l.strip()), key=lambda o: o["start"])
print(" ".join("%d/%d" % (o["seq"], o["attempts"]) for o in r))
PY
)
is "$order" "1/2 2/1 3/1 4/1 5/1" "--delay: the retried item runs again before the items held back"

# --- --memfree above what the machine has ----------------------------------------------------
avail_kb=$(awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo)
(ptu 30 --headless -j 2 --memfree "$((2 * avail_kb))K" --results "$T/mem.json" \
	-- true ::: 1 2 3 >/dev/null 2>"$T/mem.err"
	echo $? >"$T/mem.rc") &
wait_for 'grep -q "memfree: waiting, .* available < " "$T/mem.err"' 10
like "$(cat "$T/mem.err")" 'memfree: waiting, [0-9.]+[KMGT] available < [0-9.]+[KMGT]' \
	"--memfree twice MemAvailable: says it waits, with both figures"
kill -USR1 "$(main_pid)"
wait_for 'grep -q "^pooltop: 0 done, .* 3 queued .*| memfree: waiting" "$T/mem.err"' 10
like "$(cat "$T/mem.err")" '^pooltop: 0 done, 0 failed, 0 running, 3 queued .*\| memfree: waiting, [0-9.]+[KMG] available < [0-9.]+[KMG]$' \
	"--memfree: SIGUSR1's status line says the three queued items wait for memory"
# A window in which nothing may start: scaled.
sleep "$(scaled 0.5)"
is "$(if [ -s "$T/mem.json" ]; then json_count "$T/mem.json"; else echo 0; fi)" 0 "--memfree twice MemAvailable: no item starts"
kill -TERM "$(main_pid)"
wait_for '[ -s "$T/mem.rc" ]' 10
wait
like "$(cat "$T/mem.err")" '^pooltop: 0 done, 0 failed, 3 not run' \
	"--memfree: SIGTERM ends it; the three held items are not run"
is "$(cat "$T/mem.rc")" 3 "--memfree: exit status 3 (three items not run)"

# --- --memfree below what the machine has ------------------------------------------------------
ptu 30 --headless -q -j 2 --memfree 1M --results "$T/small.json" -- true ::: 1 2 3 4 5 \
	>/dev/null 2>"$T/small.err"
is "$?" 0 "--memfree 1M: the batch succeeds"
is "$(json_count "$T/small.json")" 5 "--memfree 1M: every item runs"
