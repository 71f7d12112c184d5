#!/bin/bash
# outputs.sh: outputs of any size, in every kind: whole, in order, never glued to the next item's,
# with memory bounded (past 1 MiB an output goes to a spool file, streamed to stdout); --results
# holds the first MiB and says how long it was; with nowhere to spool, the item fails with one
# line and its cut output ends with a newline; the spool directory goes with the run.
# shellcheck disable=SC2016 # the commands' $1 is theirs.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 20

ptname
SO=${TESTS_BUILD_DIR:-$TESTS_DIR}/plugin_upper.so
export TMPDIR="$T/tmp"
mkdir -p "$TMPDIR"

# lens FILE: each line's length and its last word, one line each.
lens() { awk '{ print length($0), $NF }' "$1" | tr '\n' '|'; }

# --- a command per item: 3 MB, 100 B, 5 MB -------------------------------------------------
ptu 60 --headless -k -j 2 --results "$T/r1" -- sh -c 'head -c "$1" /dev/zero | tr "\0" x; echo " END$1"' \
	_ ::: 3000000 100 5000000 >"$T/o1" 2>"$T/e1"
is "$?:$(lens "$T/o1")" "0:3000011 END3000000|107 END100|5000011 END5000000|" \
	"command: 3 MB, 100 B and 5 MB outputs whole, in order, each ending its own line"
is "$(json_get "$T/r1" 1 output_cut output_bytes status):$(json_get "$T/r1" 2 output_cut)" \
	"true 3000012 done:-" "--results: a spooled output is cut there at 1 MiB and says its length"
is "$(tail -n +1 "$T/r1" | python3 -c '
import json, sys
print(",".join(str(len(json.loads(l)["output"])) for l in sys.stdin))')" "1048576,108,1048576" \
	"--results: the record holds the first MiB of a spooled output, the rest whole"
# Without -k: completion order, but still whole lines.
ptu 60 --headless -j 3 -- sh -c 'head -c "$1" /dev/zero | tr "\0" y; echo " END$1"' \
	_ ::: 4000000 10 2500000 7 >"$T/o2" 2>/dev/null
is "$(awk '{ print length($0) - length($NF) - 1, substr($NF, 4) }' "$T/o2" |
	awk '$1 == $2' | wc -l)" 4 "command, no -k: every output whole on its own line"

# --- a persistent program answering lines of several MB ------------------------------------
cat >"$T/gen.py" <<'EOF'
import sys
for line in sys.stdin:
    n = int(line)
    sys.stdout.write("z" * n + " END%d\n" % n)
    sys.stdout.flush()
EOF
ptu 60 --headless -k -j 2 --persistent -- python3 "$T/gen.py" ::: 3000000 10 5000000 20 \
	>"$T/o3" 2>"$T/e3"
is "$?:$(lens "$T/o3")" "0:3000011 END3000000|16 END10|5000011 END5000000|26 END20|" \
	"persistent: answers of 3 MB and 5 MB whole, the next answers on their own lines"

# --- a builtin and a plugin with items near the item limit ----------------------------------
python3 -c 'print("q" * 2000000)' >"$T/item2m"
ptu 30 --headless --builtin echo -a "$T/item2m" >"$T/o4" 2>/dev/null
is "$?:$(wc -c <"$T/o4")" "0:2000001" "builtin echo: a 2 MB output whole"
ptu 30 --headless --plugin "$SO" -a "$T/item2m" >"$T/o5" 2>/dev/null
is "$?:$(wc -c <"$T/o5"):$(head -c 3 "$T/o5")" "0:2000001:QQQ" "plugin: a 2 MB output whole"

# --- memory stays bounded ---------------------------------------------------------------------
if sanitized; then
	ok "a 300 MB output in bounded memory # SKIP under AddressSanitizer"
else
	peak_rss "$T/rss" "$PT" --headless -- sh -c 'head -c 300000000 /dev/zero' ::: 1 \
		>"$T/o6" 2>/dev/null
	rss=$(tail -1 "$T/rss")
	if [ "$(wc -c <"$T/o6")" = 300000000 ] && [ "$rss" -lt 30720 ]; then
		ok "a 300 MB output: all of it, pooltop and its worker under 30 MB RSS ($rss KiB)"
	else
		not_ok "a 300 MB output: all of it, pooltop and its worker under 30 MB RSS ($rss KiB)"
		diag "$(wc -c <"$T/o6") bytes"
	fi
fi
if sanitized; then
	ok "a persistent answer of 100 MB in bounded memory # SKIP under AddressSanitizer"
else
	cat >"$T/long.py" <<'EOF'
import sys
for line in sys.stdin:
    n, chunk = int(line), "z" * 65536
    while n > 0:
        sys.stdout.write(chunk[:min(n, 65536)])
        n -= 65536
    sys.stdout.write(" END\n")
    sys.stdout.flush()
EOF
	peak_rss "$T/rss2" "$PT" --headless --persistent -- python3 "$T/long.py" ::: 100000000 \
		>"$T/o6b" 2>/dev/null
	rss=$(tail -1 "$T/rss2")
	if [ "$(wc -c <"$T/o6b")" = 100000005 ] && [ "$rss" -lt 30720 ]; then
		ok "a persistent answer of 100 MB: all of it, under 30 MB RSS ($rss KiB)"
	else
		not_ok "a persistent answer of 100 MB: all of it, under 30 MB RSS ($rss KiB)"
		diag "$(wc -c <"$T/o6b") bytes"
	fi
fi
# A slow reader of a big spooled output: everything arrives, in order.
ptu 60 --headless -j 2 -k -- sh -c 'head -c "$1" /dev/zero | tr "\0" w; echo " END$1"' \
	_ ::: 3000000 5 2000000 2>/dev/null | (sleep 1; cat) >"$T/o7"
is "$(lens "$T/o7")" "3000011 END3000000|10 END5|2000011 END2000000|" \
	"a slow reader: spooled outputs arrive whole and in order"

# --- the spool directory -------------------------------------------------------------------------
is "$(find "$TMPDIR" -mindepth 1 | wc -l)" 0 "the spool directory is gone after the runs"
# A worker killed while it spools: its partial file goes with it.
(ptu 60 --headless -j 1 --retries 0 -- sh -c 'head -c 3000000 /dev/zero; exec sleep 60' _ ::: 1 \
	>/dev/null 2>"$T/e8"; echo $? >"$T/rc8") &
wait_for '[ -n "$(find "$TMPDIR" -name 1.1 -size +2000k)" ]' 20
kill -KILL "$(pgrep -P "$(main_pid)")"
wait_for '[ -s "$T/rc8" ]' 20
wait
is "$(cat "$T/rc8"):$(find "$TMPDIR" -mindepth 1 | wc -l)" "1:0" \
	"a worker killed mid-spool: the item fails, nothing is left in the spool"

# --- nowhere to spool: the item fails, its output is cut and ends with a newline ------------------
TMPDIR=$T/none ptu 30 --headless -k -- sh -c 'head -c "$1" /dev/zero | tr "\0" x; echo " END$1"' \
	_ ::: 3000000 10 >"$T/o9" 2>"$T/e9"
rc=$?
is "$rc" 1 "no spool directory: the large output's item fails (exit 1), the other is done"
like "$(cat "$T/e9")" "^pooltop: worker [0-9]+: item 1: output cut at [0-9]+ bytes: no spool directory" \
	"no spool directory: one line says the output was cut and why"
like "$(cat "$T/e9")" "^pooltop: cannot make a spool directory in $T/none" \
	"no spool directory: said once at the start"
is "$(awk '{ if (length($0) > 900000) print "cut"; else print }' "$T/o9" | tr '\n' '|')" \
	"cut|xxxxxxxxxx END10|" \
	"no spool directory: the cut output ends with a newline, the next one on its own line"

# --- --tag: each line of an item's output begins with the item and a tab (GNU parallel's) -------
ptu 10 --headless -q -j 2 -k --tag -- sh -c 'echo "one $1"; printf "two\nthree\n"' sh ::: a 'b c' >"$T/tag.out"
is "$(cat "$T/tag.out")" "$(printf 'a\tone a\na\ttwo\na\tthree\nb c\tone b c\nb c\ttwo\nb c\tthree')" \
	"--tag: every line of each item's output after the item and a tab"
ptu 10 --headless -q -j 2 -k --tag --builtin square ::: 3 4 >"$T/tag2.out"
is "$(cat "$T/tag2.out")" "$(printf '3\t9\n4\t16')" "--tag with a built-in"
# Several input sources: the values joined by a space, as GNU parallel's --tag.
ptu 10 --headless -q -j 2 -k --tag -- echo {1}-{2} ::: a b ::: x y >"$T/tag4.out"
is "$(cat "$T/tag4.out")" "$(printf 'a x\ta-x\na y\ta-y\nb x\tb-x\nb y\tb-y')" \
	"--tag with two input sources: the values joined by a space, then a tab"
# A big output (spilled to the spool): every line tagged.
ptu 10 --headless -q -j 1 --tag -- sh -c 'seq 300000' sh ::: x >"$T/tag3.out"
is "$(grep -c $'^x\t' "$T/tag3.out"):$(wc -l <"$T/tag3.out")" "300000:300000" \
	"--tag: all 300,000 lines of a spooled output are tagged"

exit 0
