#!/bin/bash
# persistent.sh: --persistent end to end: answers matched to items with several in flight, a
# program dying mid-batch (nothing lost under --retries), the join and the program's own exit
# code, --timeout, items that cannot be one line, and the examples in doc/examples.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 30

ptname
EX=${EXAMPLES_DIR:-$TESTS_DIR/../doc/examples}

# --- answers belong to their items, with several in flight --------------------------------
awk 'BEGIN { for (i = 1; i <= 3000; i++) printf "item %d %s\n", i, substr("abcdefghij", 1, i % 10) }' \
	>"$T/items"
ptu 60 --headless --persistent -q -j 2 --in-flight 8 --results "$T/r1" -- sh "$EX/length.sh" <"$T/items" \
	>"$T/out1" 2>"$T/err1"
rc=$?
is "$rc" 0 "length.sh over 3000 items, 8 in flight: exit 0"
check "every result is the answer to its own item (LENGTH ITEM)" python3 - "$T/r1" <<'PY'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
ok = len(rs) == 3000 and len({r["seq"] for r in rs}) == 3000
ok = ok and all(r["output"] == "%d %s\n" % (len(r["item"]), r["item"]) for r in rs)
sys.exit(0 if ok else 1)
PY
is "$(wc -l <"$T/out1")" 3000 "one answer line per item on stdout"

seq 1 20000 | ptu 60 --headless --persistent -q -j 2 -- cat >"$T/cat" 2>/dev/null
check "--persistent -- cat: 20000 lines in, the same 20000 out" cmp -s <(sort -n "$T/cat") <(seq 1 20000)

seq 1 2000 | ptu 60 --headless --persistent -q -j 2 -k --joblog "$T/jl" -- cat >"$T/catk" 2>/dev/null
check "-k: the answers in input order" cmp -s "$T/catk" <(seq 1 2000)
is "$(awk -F'\t' '$1 == 7 { print $9 }' "$T/jl")" "cat 7" "the joblog's Command: the program, then the item"

# --- the program dies mid-batch: nothing lost under --retries ------------------------------
# Each program answers 7 lines, then exits 3 holding what it was given.
seq 1 500 | ptu 60 --headless --persistent -j 2 --in-flight 4 --retries 1000 --results "$T/r2" -- \
	sh -c 'n=0; while IFS= read -r l; do n=$((n + 1)); [ $n -gt 7 ] && exit 3; echo "$l"; done' \
	>/dev/null 2>"$T/err2"
rc=$?
is "$rc" 0 "a program exiting 3 after 7 answers, --retries 1000: exit 0"
check "every item done exactly once, its answer its own" python3 - "$T/r2" <<'PY'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
ok = sorted(r["seq"] for r in rs) == list(range(1, 501))
ok = ok and all(r["status"] == "done" and r["output"] == r["item"] + "\n" for r in rs)
sys.exit(0 if ok else 1)
PY
like "$(cat "$T/err2")" "failed with 3 on worker [01]; retry" "the items it held failed with its exit code 3, and were retried"

# Without retries, they fail with it.
seq 1 20 | ptu 30 --headless --persistent -j 1 --in-flight 4 --results "$T/r3" -- \
	sh -c 'n=0; while IFS= read -r l; do n=$((n + 1)); [ $n -gt 7 ] && exit 3; echo "$l"; done' \
	>/dev/null 2>&1
rc=$?
is "$(json_get "$T/r3" 8 exitcode status)" "3 failed" "without --retries the item held fails with the program's code"
check "...and the batch goes on with a new program (items after it are done)" \
	test "$(json_get "$T/r3" 12 status)" = done

# Killed from outside: the program's group gets SIGKILL while it holds items.
seq 1 200 | ptu 60 --headless --persistent -j 1 --in-flight 4 --retries 5 --results "$T/r4" -- \
	sh -c ": $L; while IFS= read -r l; do sleep 0.01; echo \"\$l\"; done" >/dev/null 2>"$T/err4" &
wait_for 'pgrep -f "^sh -c : $L; while" >/dev/null' 10
# Mid-batch: some items answered (their results written), the rest to come.
wait_for '[ -s "$T/r4" ] && [ "$(wc -l <"$T/r4")" -ge 10 ]' 10
pkill -KILL -f "^sh -c : $L; while"
wait
check "a program SIGKILLed mid-batch loses nothing under --retries (200 done once)" python3 - "$T/r4" <<'PY'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if sorted(r["seq"] for r in rs) == list(range(1, 201)) and all(r["status"] == "done" for r in rs) else 1)
PY
like "$(cat "$T/err4")" "failed with -9 SIGKILL on worker 0; retry" "...its held items failed with -9 and were retried"

# --- the join: stdin closed, the program's own exit code ------------------------------------
ptu 20 --headless --persistent -j 1 -- sh -c 'while IFS= read -r l; do echo "$l"; done; exit 7' ::: a b c \
	</dev/null >/dev/null 2>"$T/err5"
rc=$?
is "$rc" 0 "a program exiting 7 at the end of its input: the items are done (exit 0)"
like "$(cat "$T/err5")" "worker 0 pid [0-9]+ exited 7; joined at the end of the batch; fini ran" \
	"the join shows the program's own exit code"

# --- --timeout stops the program; an item with a newline is refused ------------------------
ptu 30 --headless --persistent -j 1 --in-flight 1 --timeout 0.5 --results "$T/r6" -- \
	sh -c 'while IFS= read -r l; do [ "$l" = hang ] && sleep 1008; echo "$l"; done' ::: a hang b \
	</dev/null >/dev/null 2>&1
is "$(json_get "$T/r6" 2 exitcode timeout) $(json_get "$T/r6" 3 status)" "-15 true done" \
	"--timeout: the item stuck in the program fails -15 (timeout); the next one is done"

printf 'ok1\0two\nlines\0ok2\0' | ptu 20 --headless --persistent -j 1 -0 --results "$T/r7" -- cat >/dev/null 2>"$T/err7"
is "$(json_get "$T/r7" 2 exitcode) $(json_get "$T/r7" 3 status)" "1 done" \
	"an item holding a newline fails with 1 (a persistent program reads lines); others go on"

# --- a program that breaks the one-line-per-item contract: said, never shifted silently -----
# Two lines for item b, in one write, with one item in flight: the second line comes while no
# item waits for an answer. It is dropped and said; c gets its own answer.
ptu 30 --headless --persistent -j 1 --in-flight 1 --results "$T/r9" -- python3 -c '
import sys
for l in sys.stdin:
    sys.stdout.write(l + ("extra\n" if l == "b\n" else ""))
    sys.stdout.flush()' ::: a b c d </dev/null >/dev/null 2>"$T/err9"
is "$(json_get "$T/r9" 3 output | tr -d '\n') $(json_get "$T/r9" 4 output | tr -d '\n')" "c d" \
	"a line written while no item was in flight is not taken as the next item's answer"
like "$(cat "$T/err9")" "^pooltop: worker 0: the persistent program 'python3' \(pid [0-9]+\) wrote 1 line while no item was waiting for an answer: dropped" \
	"...it is dropped and said, in one line naming the worker and the program"

# A line more than its items, written at its exit: said, with the count.
ptu 30 --headless --persistent -j 1 -- python3 -c '
import sys
for l in sys.stdin:
    print(l, end="", flush=True)
print("bye")' ::: a b c </dev/null >"$T/out10" 2>"$T/err10"
rc=$?
is "$rc:$(tr '\n' ' ' <"$T/out10")" "0:a b c " "a program that writes a line at its exit: its items are done with their answers"
like "$(cat "$T/err10")" "^pooltop: worker 0: the persistent program 'python3' \(pid [0-9]+\) ended with 1 line more than the 3 items it answered: dropped" \
	"...the line left at its exit is said, not dropped silently"

# A program that ends between items (here after each answer): the next item goes to a new one,
# never to the program that is gone. The items come one by one from a FIFO.
mkfifo "$T/in11"
ptu 30 --headless --persistent -j 1 --in-flight 1 --results "$T/r11" -- sh -c ": $L; IFS= read -r l && echo \"\$l\"" \
	<"$T/in11" >"$T/out11" 2>"$T/err11" &
exec 7>"$T/in11"
echo a >&7
wait_for 'grep -qx a "$T/out11"' 20
# Its program has answered and gone (a zombie until its worker reaps it at the next item).
wait_for '! pgrep -f "^sh -c : $L; IFS" >/dev/null || [ "$(ps -o stat= -p "$(pgrep -f "^sh -c : $L; IFS")" | cut -c1)" = Z ]' 20
echo b >&7
exec 7>&-
wait
is "$(json_get "$T/r11" 2 status exitcode output | tr -d '\n')" "done 0 b" \
	"a program that ended between items: the next item goes to a new program, and is done"
like "$(cat "$T/err11")" "worker 0: the persistent program 'sh' \(pid [0-9]+\) exited 0 \(success\) between items: started again" \
	"...its end is said"

# --- what a program leaves running in its process group dies with it ----------------------
at_exit 'for p in $(pgrep -f "^sleep ${L}9[0-9]\$"); do kill -KILL "$p"; done'
out=$(ptu 30 --headless --persistent -j 1 -k -- sh -c "sleep ${L}91 >/dev/null & exec cat" ::: a b </dev/null 2>/dev/null)
is "$out" "a
b" "a program that leaves 'sleep &' behind: its items are done"
check "...its sleep does not outlive it" wait_for '! pgrep -f "^sleep ${L}91\$" >/dev/null' 5
# The same, the sleep holding the program's stdout: the join ends when the program exits.
t0=$(now_us)
ptu 30 --headless --persistent -j 1 --join-timeout 5 -- sh -c "sleep ${L}92 & exec cat" ::: a b \
	</dev/null >/dev/null 2>"$T/err12"
rc=$?
t1=$(now_us)
is "$rc" 0 "...also when the sleep holds the program's stdout: exit 0"
unlike "$(cat "$T/err12")" "did not finish joining" "...the join ends when the program exits, not at --join-timeout"
check "...and its sleep does not outlive it" wait_for '! pgrep -f "^sleep ${L}92\$" >/dev/null' 5
diag "the run took $(((t1 - t0) / 1000)) ms (--join-timeout 5)"

# --- the Python example: a resource opened once per worker, closed by the join --------------
mkdir "$T/store"
seq 1 300 | ptu 60 --headless --persistent -q -j 2 -- python3 "$EX/store.py" "$T/store" >"$T/out8" 2>"$T/err8"
rc=$?
is "$rc" 0 "store.py over 300 items, 2 workers: exit 0"
check "each worker's file holds its items and the 'committed' line its fini wrote" python3 - "$T/store" <<'PY'
import os, sys
d = sys.argv[1]
items, commits = [], 0
for name in os.listdir(d):
    lines = open(os.path.join(d, name)).read().splitlines()
    assert lines[-1] == "committed %d" % (len(lines) - 1), lines[-1]
    commits += 1
    items += lines[:-1]
sys.exit(0 if sorted(map(int, items)) == list(range(1, 301)) and commits == 2 else 1)
PY
