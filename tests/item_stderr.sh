#!/bin/bash
# item_stderr.sh: each item's stderr is kept and goes to --results as "stderr": a command's job's,
# a persistent program's between taking the item and answering it, what a builtin says, what a
# plugin prints on stderr; never another item's, even with workers side by side; cut past 64 KiB
# with a line that says how much ("stderr_cut": true); and it still reaches pooltop's stderr as
# before.
# shellcheck disable=SC2016 # the commands' $1 is theirs.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 11

ptname

# stderrs FILE: "ITEM=STDERR" per object, sorted by seq, newlines shown as '/'.
stderrs() {
	python3 - "$1" <<'EOF'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for o in sorted(objs, key=lambda o: o["seq"]):
    print("%s=%s" % (o["item"], o.get("stderr", "<none>").replace("\n", "/")), end=" ")
EOF
}

# --- a command per item, two workers, items overlapping -------------------------------------
ptu 60 --headless -j 2 --results "$T/r1" -- sh -c \
	'echo "mark-$1-a" >&2; sleep 0.05; echo "mark-$1-b" >&2; echo "out$1"' _ ::: 1 2 3 4 5 6 \
	>"$T/o1" 2>"$T/e1"
is "$?:$(stderrs "$T/r1")" \
	"0:1=mark-1-a/mark-1-b/ 2=mark-2-a/mark-2-b/ 3=mark-3-a/mark-3-b/ 4=mark-4-a/mark-4-b/ 5=mark-5-a/mark-5-b/ 6=mark-6-a/mark-6-b/ " \
	"command -j 2: each object's stderr holds exactly its own item's lines"
is "$(grep -c '^mark-' "$T/e1")" 12 "headless: the jobs' stderr still reaches pooltop's stderr"
ptu 60 --headless -j 2 -- sh -c 'echo "alone-$1" >&2' _ ::: 1 2 >/dev/null 2>"$T/e1b"
is "$(grep -c '^alone-' "$T/e1b")" 2 "headless without --results: the same"

# --- past the bound: the first 64 KiB and a line ---------------------------------------------
ptu 60 --headless -j 1 --results "$T/r2" -- sh -c \
	'if [ "$1" = big ]; then head -c 100000 /dev/zero | tr "\0" e >&2; else echo small >&2; fi' \
	_ ::: big small >/dev/null 2>/dev/null
is "$(python3 - "$T/r2" <<'EOF'
import json, sys
o = {d["item"]: d for d in map(json.loads, open(sys.argv[1]))}
b, s = o["big"], o["small"]
e = b["stderr"]
print(len(e), len(e) - len(e.lstrip("e")), repr(e[-23:]), b.get("stderr_cut"),
      repr(s["stderr"]), s.get("stderr_cut"))
EOF
)" "65559 65536 '\\n[... 34464 bytes cut]\\n' True 'small\\n' None" \
	"stderr over 64 KiB: its first 64 KiB, a line saying how much was cut, stderr_cut; the next item whole"

# --- a persistent program --------------------------------------------------------------------
cat >"$T/prog.sh" <<'EOF'
#!/bin/sh
echo "starting" >&2
while read -r x; do
	echo "perr-$x-a" >&2
	echo "perr-$x-b" >&2
	echo "pout-$x"
done
EOF
chmod +x "$T/prog.sh"
ptu 60 --headless -j 2 --in-flight 1 --results "$T/r3" --persistent -- "$T/prog.sh" \
	::: 1 2 3 4 5 6 >"$T/o3" 2>"$T/e3"
st=$?
is "$st:$(stderrs "$T/r3" | sed 's/starting\///g')" \
	"0:1=perr-1-a/perr-1-b/ 2=perr-2-a/perr-2-b/ 3=perr-3-a/perr-3-b/ 4=perr-4-a/perr-4-b/ 5=perr-5-a/perr-5-b/ 6=perr-6-a/perr-6-b/ " \
	"persistent -j 2: each item's stderr is what the program wrote before answering it"
is "$(grep -c '^perr-' "$T/e3"):$(grep -c '^starting' "$T/e3")" "12:2" \
	"persistent: the program's stderr still reaches pooltop's stderr"
is "$(tr '\n' ' ' <"$T/o3" | wc -w)" 6 "persistent: the answers are untouched"

# --- a builtin: what it says about the item ------------------------------------------------
ptu 60 --headless -j 2 --results "$T/r4" --builtin square ::: 3 x 4 >/dev/null 2>"$T/e4"
is "$(stderrs "$T/r4")" "3= x=pooltop: square: not an integer: 'x'/ 4= " \
	"builtin: its complaint is the item's stderr, the other items have none"
like "$(cat "$T/e4")" "square: not an integer: 'x'" "builtin: and it reaches pooltop's stderr"

# --- a plugin: what it prints on stderr during the item -------------------------------------
ptu 60 --headless -j 2 --results "$T/r5" --plugin "${TESTS_BUILD_DIR:-$TESTS_DIR}/plugin_noisy.so" \
	::: p1 p2 p3 p4 p5 p6 >"$T/o5" 2>"$T/e5"
is "$?:$(stderrs "$T/r5")" \
	"0:p1=noisy p1/ p2=noisy p2/ p3=noisy p3/ p4=noisy p4/ p5=noisy p5/ p6=noisy p6/ " \
	"plugin -j 2: each item's stderr is what the plugin printed there for it"
is "$(grep -c '^noisy p' "$T/e5")" 6 "plugin: and it reaches pooltop's stderr"
