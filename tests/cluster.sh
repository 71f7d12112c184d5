#!/bin/bash
# cluster.sh: one batch, several hosts, one Redis (its own, on a Unix socket in $T): every item's
# result recorded exactly once through 3 hosts; a host SIGKILLed mid-batch (its items reclaimed
# after the lease, delivered twice, recorded once); a host SIGSTOPped past its lease (its late
# results fenced); Redis killed and restarted (the append-only file reloads: nothing lost or
# doubled); a crashing item failed after --retries; a host with another command, a live host's
# name, a batch made again under a host: each refused or stopped with one line.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"
. "$TESTS_DIR/redis_lib.sh"

plan 40

ptname
redis_start

# once FILE N: "items dup missing" of the --results FILE of a batch of seqs 1..N.
once() {
	python3 - "$1" "$2" <<'PY'
import json, sys
n = int(sys.argv[2])
seen = {}
for line in open(sys.argv[1]):
    o = json.loads(line)
    seen[o["seq"]] = seen.get(o["seq"], 0) + 1
print(len(seen), sum(1 for c in seen.values() if c > 1),
      sum(1 for s in range(1, n + 1) if s not in seen))
PY
}
# field FILE KEY VALUE: how many records of FILE have KEY == VALUE (as JSON text).
count_where() {
	python3 - "$@" <<'PY'
import json, sys
f, k, v = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
print(sum(1 for line in open(f) if json.loads(line).get(k) == v))
PY
}
hosts_of() {
	python3 -c 'import json,sys; print(" ".join(sorted({json.loads(l)["host"] for l in open(sys.argv[1])})))' "$1"
}
# host BATCH NAME ARGS...: a host in the background; its pid in $HPID, stderr in $T/NAME.err.
host() {
	local batch=$1 name=$2
	shift 2
	"$PT" --headless --redis "$REDIS_URL" --batch "$batch" --host "$name" "$@" \
		>"$T/$name.out" 2>"$T/$name.err" &
	HPID=$!
	at_exit "kill -KILL $HPID 2>/dev/null"
}
pending_of() { # BATCH CONSUMER: the items the consumer holds
	rcli XPENDING "pooltop:{$1}:items" g - + 100000 "$2" | grep -c -- '-'
}

# --- 3 hosts x 2 workers over 20,000 items ---
N=20000
seq $N >"$T/items"
out=$("$PT" submit --redis "$REDIS_URL" --batch big -a "$T/items")
like "$out" "batch big: $N items \\($N added\\), input complete" "submit: the batch holds $N items"
host big h1 -j 2 --builtin square
p1=$HPID
host big h2 -j 2 --builtin square
p2=$HPID
host big h3 -j 2 --builtin square
p3=$HPID
wait $p1; r1=$?
wait $p2; r2=$?
wait $p3; r3=$?
is "$r1 $r2 $r3" "0 0 0" "the three hosts end when every item is recorded, exit status 0"
"$PT" collect --redis "$REDIS_URL" --batch big --results "$T/big.json" --joblog "$T/big.log"
is "$?" 0 "collect: exit status 0"
is "$(once "$T/big.json" $N)" "$N 0 0" "3 hosts x 2 workers: every result recorded exactly once"
is "$(hosts_of "$T/big.json")" "h1 h2 h3" "every host ran some of them"
is "$(count_where "$T/big.json" output '"'"$((N * N))"'\n"')" 1 "a result is the item's output"
if command -v parallel >/dev/null; then
	parallel --resume --joblog "$T/big.log" "echo {} >>$T/rerun" ::: $(seq $N) 2>/dev/null
	is "$(wc -l <"$T/rerun" 2>/dev/null || echo 0)" 0 \
		"collect's joblog: GNU parallel's --resume runs none of the items again"
else
	not_ok "GNU parallel is not installed (bootstrap installs it)"
fi

# --- a host SIGKILLed mid-batch: its items go to the other after the lease ---
"$PT" submit --redis "$REDIS_URL" --batch kill ::: $(seq 600) >/dev/null
host kill k1 -j 2 --lease 1s --retries 1 --builtin sleep:20
pk1=$HPID
wait_for "[ \$(pending_of kill k1) -gt 0 ]" 10 || diag "k1 holds nothing"
kill -KILL $pk1
held=$(pending_of kill k1)
host kill k2 -j 2 --lease 1s --retries 1 --builtin sleep:20
pk2=$HPID
wait $pk2
is "$?" 0 "the batch ends on the other host after k1's SIGKILL, exit status 0"
"$PT" collect --redis "$REDIS_URL" --batch kill --results "$T/kill.json" >/dev/null
is "$(once "$T/kill.json" 600)" "600 0 0" "SIGKILL of a host: every result recorded once"
twice=$(count_where "$T/kill.json" deliveries 2)
check "the items k1 held when killed ($held) were delivered twice ($twice)" \
	test "$held" -gt 0 -a "$twice" -ge "$held"
like "$(cat "$T/k2.err")" "took [0-9]+ items? whose host stopped renewing" \
	"k2 says it took k1's items"

# --- --retries is the delivery count: with 0, the items of a dead host are poison ---
"$PT" submit --redis "$REDIS_URL" --batch deliv ::: $(seq 300) >/dev/null
host deliv d1 -j 2 --lease 1s --builtin sleep:20
pd1=$HPID
wait_for "[ \$(pending_of deliv d1) -gt 0 ]" 10 || diag "d1 holds nothing"
kill -KILL $pd1
held=$(pending_of deliv d1)
host deliv d2 -j 2 --lease 1s --builtin sleep:20
wait $HPID
rc=$?
"$PT" collect --redis "$REDIS_URL" --batch deliv --results "$T/deliv.json" >/dev/null
poison=$(count_where "$T/deliv.json" error '"poison: delivered 2 times"')
is "$poison $rc" "$held $((held > 100 ? 101 : held))" \
	"--retries 0: the items of a killed host are recorded failed (poison), not run again"
is "$(once "$T/deliv.json" 300)" "300 0 0" "...and every item has one result"

# --- a host SIGSTOPped past its lease: its late results are fenced ---
"$PT" submit --redis "$REDIS_URL" --batch stop ::: $(seq 40) >/dev/null
host stop s1 -j 2 --lease 1s --retries 1 --builtin sleep:400
ps1=$HPID
wait_for "[ \$(pending_of stop s1) -gt 0 ]" 10 || diag "s1 holds nothing"
# Stopped while its workers run their items: they finish, s1 cannot commit.
kill -STOP $ps1
host stop s2 -j 2 --lease 1s --retries 1 --builtin sleep:400
ps2=$HPID
wait_for "grep -q 'whose host stopped renewing' '$T/s2.err'" 15 || diag "s2 took nothing"
kill -CONT $ps1
wait $ps2
rc2=$?
wait $ps1
rc1=$?
is "$rc1 $rc2" "0 0" "both hosts end, exit status 0"
like "$(cat "$T/s1.err")" "item [0-9]+: fenced: (s2 holds it now|another host recorded it), this result is not recorded" \
	"the stopped host's late results are fenced"
"$PT" collect --redis "$REDIS_URL" --batch stop --results "$T/stop.json" >/dev/null
is "$(once "$T/stop.json" 40)" "40 0 0" "SIGSTOP past the lease: nothing recorded twice"

# --- a host terminated (SIGTERM) gives back what it holds: the others take it at once ---
"$PT" submit --redis "$REDIS_URL" --batch term ::: $(seq 200) >/dev/null
host term t1 -j 2 --lease 60s --builtin sleep:20
pt1=$HPID
wait_for "[ \$(pending_of term t1) -gt 0 ]" 10 || diag "t1 holds nothing"
kill -TERM $pt1
wait $pt1
t0=$(date +%s)
host term t2 -j 2 --lease 60s --builtin sleep:20
wait $HPID
rc=$?
el=$(($(date +%s) - t0))
"$PT" collect --redis "$REDIS_URL" --batch term --results "$T/term.json" >/dev/null
is "$rc $(once "$T/term.json" 200) $(count_where "$T/term.json" status '"failed"')" \
	"0 200 0 0 0" \
	"a host terminated: another runs its items, none failed (not even as poison: --retries 0)"
check "...at once, not after the lease of 60 s (${el} s)" test "$el" -lt 50

# --- Redis killed and restarted mid-batch (append-only file on) ---
"$PT" submit --redis "$REDIS_URL" --batch restart ::: $(seq 3000) >/dev/null
host restart r1 -j 2 --lease 2s --builtin sleep:1
pr1=$HPID
host restart r2 -j 2 --lease 2s --builtin sleep:1
pr2=$HPID
wait_for "[ \$(rcli HGET 'pooltop:{restart}:meta' done) -gt 300 ]" 20 ||
	diag "the batch did not start"
redis_kill
redis_restart
wait $pr1
r1=$?
wait $pr2
r2=$?
is "$r1 $r2" "0 0" "Redis killed and restarted: the hosts reconnect and end, exit status 0"
like "$(cat "$T/r1.err" "$T/r2.err")" "Redis: connected again after" "a host says it connected again"
"$PT" collect --redis "$REDIS_URL" --batch restart --results "$T/restart.json" >/dev/null
is "$(once "$T/restart.json" 3000)" "3000 0 0" "Redis restarted: nothing lost or doubled"

# --- Redis stopped past the watchdog: a fetch it answers late is taken back, not poison ---
"$PT" submit --redis "$REDIS_URL" --batch stall ::: $(seq 2000) >/dev/null
host stall st1 -j 2 --lease 2s --builtin sleep:2
pst=$HPID
wait_for "[ \$(rcli HGET 'pooltop:{stall}:meta' done) -gt 200 ]" 20 || diag "stall did not start"
kill -STOP "$REDIS_PID"
wait_for "grep -q 'Redis: no answer' '$T/st1.err'" 20 || diag "st1 never saw Redis stop"
kill -CONT "$REDIS_PID"
wait $pst
rc=$?
"$PT" collect --redis "$REDIS_URL" --batch stall --results "$T/stall.json" >/dev/null
is "$rc $(once "$T/stall.json" 2000) $(count_where "$T/stall.json" status '"failed"')" \
	"0 2000 0 0 0" "Redis stopped past the watchdog: nothing lost, doubled or made poison"

# --- a crashing item fails after --retries ---
"$PT" submit --redis "$REDIS_URL" --batch poison ::: 1 2 segv 4 >/dev/null
host poison p1 -j 2 --retries 2 --builtin demo
wait $HPID
is "$?" 1 "a crashing item: the host's exit status counts it failed (1)"
"$PT" collect --redis "$REDIS_URL" --batch poison --results "$T/poison.json" >/dev/null
is "$?" 1 "collect: the batch's exit status, 1"
python3 - "$T/poison.json" >"$T/poison.v" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o["item"] == "segv":
        print(o["status"], o["exitcode"], o["attempts"])
PY
is "$(cat "$T/poison.v")" "failed -11 3" "the crashing item: failed, -11 (SIGSEGV), after 3 attempts"

# --- refusals ---
"$PT" submit --redis "$REDIS_URL" --batch kind --more ::: $(seq 100) >/dev/null
host kind c1 -j 1 --builtin sleep:50
pc1=$HPID
wait_for "[ \$(pending_of kind c1) -gt 0 ]" 10
err=$("$PT" --headless --redis "$REDIS_URL" --batch kind --builtin square 2>&1)
like "$?: $err" "^255: pooltop: --redis: batch kind runs '--builtin sleep:50', not '--builtin square'$" \
	"a host with another worker kind is refused, in one line"
err=$("$PT" --headless --redis "$REDIS_URL" --batch kind --host c1 --builtin sleep:50 2>&1)
like "$?: $err" "^255: pooltop: --host: c1 is a live host of batch kind already \(if it is gone, the name is free in [0-9.]+ s\)$" \
	"a live host's name is refused, in one line"
err=$("$PT" --headless --redis "$REDIS_URL" --batch nosuch --builtin square 2>&1)
like "$?: $err" "^255: pooltop: --redis: no batch nosuch at " "a batch that does not exist: one line"
# The batch made again under c1: c1 stops, in one line.
rcli DEL "pooltop:{kind}:meta" >/dev/null
"$PT" submit --redis "$REDIS_URL" --batch kind ::: a b >/dev/null
wait $pc1
is "$?" 255 "a batch made again under a host: the host stops, exit status 255"
like "$(cat "$T/c1.err")" "batch kind (was made again|is gone)" "...and says why"

# --- a second process under a stopped host's name: the first stops when it comes back ---
"$PT" submit --redis "$REDIS_URL" --batch same ::: $(seq 60) >/dev/null
host same n1 -j 1 --builtin sleep:100
pn1=$HPID
wait_for "[ \$(pending_of same n1) -gt 0 ]" 10
kill -STOP $pn1
wait_for "[ \$(rcli EXISTS 'pooltop:{same}:live:n1') = 0 ]" 20
"$PT" --headless --redis "$REDIS_URL" --batch same --host n1 --builtin sleep:100 \
	>"$T/n1b.out" 2>"$T/n1b.err" &
pn2=$!
at_exit "kill -KILL $pn2 2>/dev/null"
wait_for "[ \$(rcli EXISTS 'pooltop:{same}:live:n1') = 1 ]" 10
kill -CONT $pn1
wait $pn1
rc1=$?
wait $pn2
is "$rc1 $(grep -c 'another process joined batch same as n1 while this one did not answer: stopping' "$T/n1.err")" \
	"255 2" "a host whose name another process took while it was stopped stops (said, and in its summary)"

# --- the batch's lease is its first host's ---
err=$("$PT" --headless --redis "$REDIS_URL" --batch kill --host late --lease 5s --builtin sleep:20 2>&1 >/dev/null)
like "$err" "batch kill has a lease of 1000 ms and --retries 1 \(its first host's\): this host uses them" \
	"a host with another --lease uses the batch's, and says so"

# --- close refused while a submission's items are not all added ---
"$PT" submit --redis "$REDIS_URL" --batch open --more ::: a b >/dev/null
rcli HINCRBY 'pooltop:{open}:meta' next 5 >/dev/null # a submit that reserved 5 and died
err=$("$PT" submit --redis "$REDIS_URL" --batch open ::: c 2>&1)
like "$?: $err" "^255: pooltop: submit: batch open: 5 items reserved by another submit are not added yet" \
	"the input is not closed while another submission's items are missing"

# --- an item with a NUL byte: recorded, and a row of collect's joblog ---
printf 'a\0b\nc\n' >"$T/nul"
"$PT" submit --redis "$REDIS_URL" --batch nul -a "$T/nul" >/dev/null
"$PT" --headless -q --redis "$REDIS_URL" --batch nul --host nh --builtin echo >/dev/null 2>&1
"$PT" collect --redis "$REDIS_URL" --batch nul --joblog "$T/nul.log" >/dev/null 2>&1
is "$?: $(tail -n +2 "$T/nul.log" | cut -f1,2 | paste -sd' ')" "0: 1	nh 2	nh" \
	"an item with a NUL byte: in collect's joblog with the others, exit status 0"

# --- a Redis that persists nothing: a warning at the start ---
redis_stop
REDIS_EXTRA="--appendonly no" redis_start
"$PT" submit --redis "$REDIS_URL" --batch warn ::: 1 >/dev/null
err=$("$PT" --headless --redis "$REDIS_URL" --batch warn --builtin square 2>&1 >/dev/null)
like "$err" "Redis persists nothing" "Redis with no persistence: the host warns"
is "$(echo "$err" | grep -c 'persists nothing')" 1 "...once"

# --- bad input ---
err=$("$PT" --headless --redis "redis://x:y" --batch b --builtin square 2>&1)
like "$?: $err" "^255: pooltop: --redis: " "a bad URL: one line, 255"
err=$("$PT" --headless --redis "unix://$T/nosuch.sock" --batch b --builtin square 2>&1)
like "$?: $err" "^255: pooltop: .*nosuch.sock" "no Redis there: one line naming it, 255"
err=$("$PT" --headless --redis "$REDIS_URL" --batch b --joblog j --builtin square 2>&1)
like "$?: $err" "^255: pooltop: --joblog with --redis: the batch's record is in Redis" \
	"--joblog with --redis: one line pointing at collect"
err=$("$PT" --headless --batch b --builtin square 2>&1)
like "$?: $err" "^255: pooltop: --batch needs --redis URL" "--batch without --redis: one line"
