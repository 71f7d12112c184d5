#!/bin/bash
# cluster_cmd.sh: pooltop submit and pooltop collect against a private redis-server: submit
# counts and adds each item once however often it runs, --more keeps the input open, a closed
# batch refuses new items; errors are one line; collect writes the recorded results in seq
# order (JSON Lines as recorded, a joblog GNU parallel's --resume accepts, the host's name in
# its Host column), exits with the batch's status, and refuses or waits for an unfinished one.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"
. "$TESTS_DIR/redis_lib.sh"

plan 39

redis_start
U=$REDIS_URL

# run ARGS...: pooltop, bounded; stdout in $out, stderr in $err, status in $rc.
run() {
	pt 20 "$@" >"$T/out" 2>"$T/err"
	rc=$?
	out=$(cat "$T/out")
	err=$(cat "$T/err")
}

# one_error DESC REGEX: the last run failed with 255, nothing on stdout, one stderr line
# "pooltop: ..." matching REGEX.
one_error() {
	local why=
	[ "$rc" -eq 255 ] || why+="exit status $rc, not 255; "
	[ -z "$out" ] || why+="stdout not empty; "
	[ "$(wc -l <"$T/err")" -eq 1 ] || why+="not one line on stderr; "
	printf '%s\n' "$err" | grep -Eq -- "^pooltop: .*($2)" || why+="message does not match /$2/; "
	if [ -z "$why" ]; then
		ok "$1"
	else
		not_ok "$1"
		diag "$why"
		diag "stderr: $err"
	fi
}

key() { echo "pooltop:{$1}:$2"; }
# items_of BATCH: "seq item" of each entry of the batch's stream, in order, separated by '|'.
items_of() {
	rcli eval "local o = {}
		for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
			o[#o + 1] = e[2][2] .. ' ' .. e[2][4]
		end
		return table.concat(o, '|')" 1 "$(key "$1" items)"
}

# --- submit -----------------------------------------------------------------------------
run submit --redis "$U" --batch m --more ::: a b c
is "$rc/$out/$err" "0/batch m: 3 items (3 added)/" "submit --more ::: a b c: 3 items, 3 added"
is "$(rcli xlen "$(key m items)")" 3 "the items are in the batch's stream"
is "$(rcli hget "$(key m meta)" complete)" 0 "--more: the input is not complete"

run submit --redis "$U" --batch m --more ::: a b c
is "$rc/$out" "0/batch m: 3 items (0 added)" "the same submit again adds nothing: still 3"
is "$(rcli xlen "$(key m items)")" 3 "nothing added to the stream twice"

run submit --redis "$U" --batch m ::: d e
is "$rc/$out" "0/batch m: 5 items (2 added), input complete" \
	"another submit adds after the first, and closes the input"
is "$(items_of m)" "1 a|2 b|3 c|4 d|5 e" \
	"each item has its seq: the first submission 1-3, the next 4-5"
is "$(rcli hget "$(key m meta)" complete)" 1 "the input is complete"

run submit --redis "$U" --batch m ::: d e
is "$rc/$out" "0/batch m: 5 items (0 added), input complete" \
	"a submit run again after it closed the batch (a crash before its answer) adds nothing"

run submit --redis "$U" --batch m ::: f
one_error "a new submission to a complete batch is refused" \
	"submit: batch m is complete: its input was closed"
is "$(rcli hget "$(key m meta)" total)" 5 "... and adds nothing"

printf 'x\ny\n\nz' | pt 20 submit --redis "$U" --batch s >"$T/out" 2>&1
is "$(cat "$T/out")" "batch s: 4 items (4 added), input complete" \
	"items on stdin, one a line (an empty line is an item, the last needs no newline)"
printf 'p\0q r\nq\0' >"$T/items0"
run submit --redis "$U" --batch z -0 -a "$T/items0"
is "$out" "batch z: 2 items (2 added), input complete" "-0 -a FILE: items separated by NUL"
is "$(items_of z)" "1 p|2 q r
q" "... each item whole, newline and all"
run submit --redis "$U" --batch e </dev/null
is "$rc/$out" "0/batch e: 0 items (0 added), input complete" \
	"no items: a batch with its input complete and nothing to run"

# --- errors: one line, exit 255 -----------------------------------------------------------
run submit --redis "redis://h:0" --batch b ::: a
one_error "a bad URL: one line naming the port" "--redis: 'redis://h:0': the port '0'"
run submit --redis "redis://u:hunter2@h:x" --batch b ::: a
unlike "$err" hunter2 "no message shows the URL's password"
run submit --redis "$U" --batch 'a b' ::: a
one_error "a bad batch name: one line" "--batch: 'a b' is not a batch name"
run collect --redis "$U" --batch ''
one_error "an empty batch name: one line" "--batch: the name is empty"
run submit --redis "unix://$T/nothere.sock" --batch b ::: a
one_error "a socket that does not exist: cannot connect, one line" \
	"submit: unix://$T/nothere.sock: cannot connect: No such file or directory"
run collect --redis "$U" --batch nob
one_error "collect of a batch that does not exist" "collect: no batch nob at $U"
run collect --redis "$U" --batch m --joblog "$T/m.joblog"
one_error "collect of an unfinished batch: exit 255 and says so" \
	"collect: batch m is not finished \(0 of 5 items recorded\)"
is "$(cat "$T/m.joblog")" \
	"$(printf 'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand')" \
	"... and writes what is recorded (nothing yet: the joblog's header)"

# --- collect: results recorded by hosts, written here with redis-cli ------------------------
run submit --redis "$U" --batch r ::: i1 i2 i3 i4
# record SEQ HOST EXITCODE: the result a host commits for item iSEQ (exit code 0: done).
record() {
	local seq=$1 host=$2 code=$3 status=done sig=0 field=done
	[ "$code" -eq 0 ] || { status=failed; field=failed; }
	[ "$code" -ge 0 ] || sig=$((-code))
	rcli hset "$(key r res)" "$seq" "{\"seq\": $seq, \"item\": \"i$seq\", \"worker\": 0, \"pid\": $((1000 + seq)), \"exitcode\": $code, \"signal\": $sig, \"core\": false, \"status\": \"$status\", \"attempts\": 1, \"start\": 1700000000.$seq, \"runtime\": 0.25, \"output\": \"out$seq\\n\", \"stderr\": \"\", \"host\": \"$host\", \"deliveries\": 1, \"command\": \"touch \$M/i$seq\"}" >/dev/null
	rcli hincrby "$(key r meta)" "$field" 1 >/dev/null
}
# Recorded out of order: collect sorts by seq.
record 3 hB 0
record 1 hA 0
record 4 hA 9

run collect --redis "$U" --batch r --results "$T/r.json"
one_error "3 of 4 recorded: not finished" "batch r is not finished \(3 of 4 items recorded\)"

pt 20 collect --redis "$U" --batch r --wait --results "$T/w.json" --joblog "$T/w.joblog" \
	>"$T/wout" 2>"$T/werr" &
W=$!
at_exit "kill -KILL $W"
# A window in which it must not end (wait_for scales it).
if wait_for "! kill -0 $W 2>/dev/null" 0.6; then
	not_ok "collect --wait is still waiting while an item has no result"
	diag "it ended: $(cat "$T/werr")"
else
	ok "collect --wait is still waiting while an item has no result"
fi
record 2 hB -9
wait $W
wrc=$?
is "$wrc" 2 "collect --wait ends once every item is recorded, with the batch's status: 2 failed"
is "$(cat "$T/werr")" "" "... and nothing on stderr"

run collect --redis "$U" --batch r --results "$T/r.json" --joblog "$T/r.joblog"
is "$rc/$err" "2/" "collect of a finished batch: its status (2 failed: GNU parallel's count)"
is "$(json_valid "$T/r.json" && echo valid)" valid "--results: every line valid JSON"
is "$(python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["seq"]) for l in open(sys.argv[1])))' "$T/r.json")" \
	"1 2 3 4" "--results: in seq order"
is "$(sed -n 1p "$T/r.json")" "$(rcli hget "$(key r res)" 1)" "--results: each record as recorded"
is "$(cut -f1,2,7,8,9 "$T/r.joblog" | tail -n +2 | paste -sd' ')" \
	"$(printf '1\thA\t0\t0\ttouch $M/i1 2\thB\t0\t9\ttouch $M/i2 3\thB\t0\t0\ttouch $M/i3 4\thA\t9\t0\ttouch $M/i4')" \
	"--joblog: seq order, Host the host's name, Exitval and Signal from the exit code, Command"
cmp -s "$T/r.json" "$T/w.json" && cmp -s "$T/r.joblog" "$T/w.joblog"
is "$?" 0 "collect --wait wrote the same files"

# GNU parallel's --resume runs none of the recorded items (each would leave its marker).
M=$T/marks
mkdir -p "$M"
export M
timeout "$(scaled 60)" parallel --resume --joblog "$T/r.joblog" 'touch $M/{}' ::: i1 i2 i3 i4 i5 \
	>"$T/par.out" 2>&1
is "$?/$(ls "$M" | paste -sd' ')" "0/i5" \
	"parallel --resume --joblog (collect's) runs only the item not recorded"

# --- pooltop ls --redis: every batch, its counts, its input, its live hosts ---
run submit --redis "$U" --batch lsb --more ::: 5 "$(scaled_ms 60000)"
"$POOLTOP" --headless -q --redis "$U" --batch lsb --host lsA -j 1 --builtin sleep \
	>"$T/lsA.out" 2>"$T/lsA.err" &
LSA=$!
at_exit "kill -KILL $LSA 2>/dev/null"
wait_for '[ "$(rcli hget "$(key lsb meta)" done)" = 1 ] && [ "$(rcli exists "$(key lsb live:lsA)")" = 1 ]' 10
run ls --redis "$U"
is "$rc/$(printf '%s\n' "$out" | head -1 | awk '{ print $1, $2, $3 }')" "0/NAME DONE/FAILED/TOTAL INPUT" \
	"ls --redis: a title line"
like "$(printf '%s\n' "$out" | grep '^lsb ')" '^lsb +1/0/2 +open +1: lsA$' \
	"ls --redis: the batch, done/failed/total, its input open, its live host"
like "$(printf '%s\n' "$out" | grep '^r ')" '^r +[0-9]+/[0-9]+/[0-9]+ +complete +0$' \
	"ls --redis: a finished batch: input complete, no host live"
run ls --redis "$U" --json
like "$(printf '%s\n' "$out" | grep '"name":"lsb"')" \
	'"done":1,"failed":0,"total":2,"complete":false,"live":1,"hosts":\["lsA"\]' \
	"ls --redis --json: the same, one object a line"
kill -KILL $LSA
wait $LSA 2>/dev/null
run ls --redis "unix://$T/nowhere.sock"
one_error "ls --redis: an unreachable Redis is one line" "nowhere.sock"
