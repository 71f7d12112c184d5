#!/bin/bash
# python_worker.sh: doc/examples/pooltop_worker.py, the Python helper for persistent workers, run
# end to end through pooltop with doc/examples/seed_worker.py (the first seed's use case): every
# item answered once with its value, an item whose function raises fails with the exception on
# its stderr, init once per program and fini at its end, print() never among the answers, and an
# answer holding a newline refused. Skipped only when there is no python3.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

N_POINTS=14
plan $N_POINTS

if ! python3 -c pass 2>/dev/null; then
	for _ in $(seq 1 $N_POINTS); do
		ok "Python worker helper # SKIP python3 missing"
	done
	exit 0
fi

ptname
EX=${EXAMPLES_DIR:-$TESTS_DIR/../doc/examples}

# lifecycle FILE: from the seed worker's lines on pooltop's stderr, per program (pid): one
# "starting" first, one "stopping" last whose items= counts its "running" lines. Prints the
# number of programs and of items run, or what is wrong.
lifecycle() {
	python3 - "$1" <<'EOF'
import re, sys
progs, bad = {}, []
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.match(r"(starting|stopping|worker is running)( process)? \(worker, pid=(\d+)", line)
    if m:
        progs.setdefault(m.group(3), []).append((m.group(1), line))
items = 0
for pid, ev in progs.items():
    kinds = [k for k, _ in ev]
    run = kinds.count("worker is running")
    items += run
    m = re.search(r"items=(\d+)", ev[-1][1])
    if (kinds[0] != "starting" or kinds.count("starting") != 1 or kinds[-1] != "stopping"
            or kinds.count("stopping") != 1 or not m or int(m.group(1)) != run):
        bad.append(f"pid {pid}: {kinds.count('starting')} starting first={kinds[0]}, "
                   f"{run} running, {kinds.count('stopping')} stopping, last={ev[-1][1].strip()}")
print("; ".join(bad) if bad else f"{len(progs)} programs, {items} items")
EOF
}

# --- the seed's use case: 30 items on -j 3, one of them raises --------------------------------
items="$(seq 1 20) boom $(seq 21 29)"
# shellcheck disable=SC2086 # one argument per item
ptu 60 --headless -j 3 --in-flight 1 --results "$T/r1" --persistent -- \
	python3 "$EX/seed_worker.py" ::: $items >"$T/o1" 2>"$T/e1"
is "$?" 1 "seed worker, 30 items, one raising: pooltop exits 1 (one failed item)"
check "each number answered once, done, with its square; boom failed with exit code 1" \
	python3 - "$T/r1" <<'EOF'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rs:
    by.setdefault(r["item"], []).append(r)
ok = len(rs) == 30 and all(len(v) == 1 for v in by.values())
for n in range(1, 30):
    r = by.get(str(n), [{}])[0]
    ok = ok and r.get("status") == "done" and r.get("output") == f"{n * n}\n"
b = by.get("boom", [{}])[0]
ok = ok and b.get("status") == "failed" and b.get("exitcode") == 1
if not ok:
    print(rs, file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
is "$(sort -n "$T/o1" | tr '\n' ' ')" "$(for n in $(seq 1 29); do echo $((n * n)); done | sort -n | tr '\n' ' ')" \
	"stdout holds the 29 answers and nothing else (print() went to stderr)"
like "$(json_field "$T/r1" 21 stderr)" "ValueError: invalid literal for int\(\) with base 10: 'boom'" \
	"--results: the failed item's stderr holds the exception's message"
like "$(json_field "$T/r1" 21 stderr)" "Traceback .*|seed_worker.py" \
	"--results: and its traceback"
like "$(json_field "$T/r1" 5 stderr)" "worker is running \(worker, pid=[0-9]+ arg=5\)" \
	"--results: print() in the function is its item's stderr"
like "$(cat "$T/e1")" "ValueError: invalid literal for int\(\) with base 10: 'boom'" \
	"pooltop's stderr has the exception too"
like "$(lifecycle "$T/e1")" "^[0-9]+ programs, 30 items$" \
	"each program: init first and once, fini last and once after all its items (also the one that raised)"
diag "$(lifecycle "$T/e1")"

# --- no failure, the default --in-flight: init once per worker, fini at the end --------------
seq 1 300 | ptu 60 --headless -j 3 --results "$T/r2" --persistent -- \
	python3 "$EX/seed_worker.py" >"$T/o2" 2>"$T/e2"
is "$?" 0 "seed worker, 300 items, 64 in flight: exit 0"
check_squares "$T/r2" 300 "every item answered once with its square"
is "$(lifecycle "$T/e2")" "3 programs, 300 items" \
	"-j 3: three programs, each with one init and one fini after its items"
check "stdout: the 300 squares, no print() among them" \
	cmp -s <(sort -n "$T/o2") <(for n in $(seq 1 300); do echo $((n * n)); done)

# --- an answer holding a newline is refused: the item fails ----------------------------------
cat >"$T/nl.py" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from pooltop_worker import run
run(lambda item: "two\nlines" if item == "nl" else item.upper())
EOF
ptu 60 --headless -j 1 --in-flight 1 --results "$T/r3" --persistent -- \
	python3 "$T/nl.py" "$EX" ::: a nl b >"$T/o3" 2>"$T/e3"
st=$?
is "$st $(python3 -c '
import json, sys
rs = sorted((json.loads(l) for l in open(sys.argv[1])), key=lambda r: r["seq"])
print(" ".join("%s:%s:%s:%r" % (r["item"], r["status"], r["exitcode"], r["output"]) for r in rs))
' "$T/r3")" "1 a:done:0:'A\\n' nl:failed:1:'' b:done:0:'B\\n'" \
	"an answer holding a newline fails its item; the items around it are answered"
like "$(json_field "$T/r3" 2 stderr)" "the answer to item 'nl' holds a newline" \
	"and its stderr says why"
