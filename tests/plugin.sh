#!/bin/bash
# plugin.sh: --plugin end to end with the example plugin (doc/examples/plugin_upper.c): its
# output, init once per worker, fini on a join and not on SIGTERM, and the errors: a missing
# file, a missing symbol, an init that fails. Also --timeout for kinds that run in the worker.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 15

ptname
SO=${TESTS_BUILD_DIR:-$TESTS_DIR}/plugin_upper.so
NOSYM=${TESTS_BUILD_DIR:-$TESTS_DIR}/plugin_nosym.so

out=$(printf 'abc\nHello, World\n' | ptu 20 --headless -q -j 2 -k --plugin "$SO")
rc=$?
is "$rc:$(printf '%s' "$out" | tr '\n' '|')" "0:ABC|HELLO, WORLD" "the example plugin upper-cases each item"

seq 1 500 | ptu 20 --headless -q -j 3 -k --plugin "$SO" --joblog "$T/jl" >"$T/k" 2>/dev/null
check "-k: the plugin's outputs in input order" cmp -s "$T/k" <(seq 1 500)

# --- init once per worker; fini at the end of the batch -----------------------------------
seq 1 300 | ptu 30 --headless -q -j 3 --plugin "$SO:$T/log1" >/dev/null 2>&1
rc=$?
is "$rc" 0 "300 items through 3 plugin workers: exit 0"
is "$(grep -c '^init ' "$T/log1")" 3 "init ran once per worker (3)"
is "$(awk '/^fini / { n += $7 } END { print NR - 3 ":" n }' "$T/log1")" "3:300" \
	"fini ran once per worker at the end, and the workers' counts add up to 300"

# --- fini on join, not on SIGTERM ----------------------------------------------------------
mkfifo "$T/fifo"
ptu 60 --headless -j 2 --plugin "$SO:$T/log2" <"$T/fifo" >/dev/null 2>"$T/err2" &
exec 7>"$T/fifo"
echo first >&7
wait_for '[ "$(cat "$T/log2" 2>/dev/null | grep -c "^init ")" -ge 2 ]' 10
victim=$(awk '/^init slot 0 / { print $5 }' "$T/log2")
kill -TERM "$victim"
# The slot is replaced: a third init.
check "a worker terminated with SIGTERM is replaced (a new init)" \
	wait_for '[ "$(cat "$T/log2" 2>/dev/null | grep -c "^init ")" -ge 3 ]' 10
echo second >&7
exec 7>&-
wait
is "$(grep -c "^fini slot [0-9]* pid $victim " "$T/log2")" 0 "the worker terminated with SIGTERM did not run fini (as Python)"
is "$(grep -c '^fini ' "$T/log2")" 2 "the two workers joined at the end ran fini"
like "$(cat "$T/err2")" "worker 0 pid $victim exited -15 \(SIGTERM; a shell shows 143\); .*fini did not run" \
	"the event log says the terminated worker's fini did not run"

# --- errors, before anything runs -----------------------------------------------------------
out=$(ptu 10 --headless --plugin "$T/nothere.so" ::: a </dev/null 2>&1)
rc=$?
is "$rc:$out" "255:pooltop: --plugin $T/nothere.so: No such file or directory" \
	"a missing plugin file: one line, exit 255"
out=$(ptu 10 --headless --plugin "$NOSYM" ::: a </dev/null 2>&1)
rc=$?
is "$rc:$out" "255:pooltop: --plugin $NOSYM: does not export pooltop_plugin_run (see pooltop-plugin.h)" \
	"a plugin lacking pooltop_plugin_run: one line, exit 255"
out=$(ptu 20 --headless --plugin "$SO:/nonexistent/dir/log" ::: a b </dev/null 2>&1)
rc=$?
is "$rc" 255 "a plugin whose init fails in every worker: exit 255"
like "$out" "^pooltop: worker [0-9]+ could not start: .*pooltop_plugin_init failed: No such file or directory$" \
	"...with the reason the plugin gave"

# --- --timeout for kinds that run inside the worker: the worker is stopped, and replaced -----
t0=$(now_us)
ptu 30 --headless -j 2 --timeout 0.5 --results "$T/rh" --builtin hang ::: 1 2 3 </dev/null >/dev/null 2>"$T/errh"
rc=$?
t1=$(now_us)
is "$rc:$(json_get "$T/rh" 1 exitcode timeout):$(json_get "$T/rh" 3 exitcode timeout)" "3:-15 true:-15 true" \
	"--timeout 0.5 --builtin hang: each item fails -15 (timeout); exit status 3"
check "...the three hung items took two rounds of 0.5 s, not forever" \
	test $(((t1 - t0) / 1000)) -lt "$(scaled_ms 3000)"
