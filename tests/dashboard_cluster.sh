#!/bin/bash
# dashboard_cluster.sh: pooltop attach --redis URL --batch NAME, in a real terminal: two
# headless hosts of one batch in the background; the cluster view shows both hosts' rows (a
# HOST column) with their workers' real PIDs; k on a worker of h2 is sent to h2, which kills
# it (its stderr says so), and the batch goes on: both hosts end with exit status 0 (the killed
# item retried) and collect finds every item once; keys that act on a whole batch and a
# worker's detail are refused; q leaves; a read-only view acts on nothing; a batch that is not
# there is one line.
# shellcheck disable=SC2016 # wait_until and friends take code in single quotes.
. "${TESTS_DIR:-$(dirname "$0")}/tmux_lib.sh"
. "$TESTS_DIR/redis_lib.sh"

plan 18

ptname
redis_start

# The items are how long each sleeps: the first two long (a worker of h2 is certainly still on
# its item when k reaches h2), the rest short. h2 starts first and takes them all (a host holds
# up to 256); h1 joins once h2 runs items 1 and 2.
N=40
{
	scaled_ms 4000
	scaled_ms 4000
	for _ in $(seq 3 $N); do scaled_ms 50; done
} >"$T/items"
"$PT" submit --redis "$REDIS_URL" --batch cv -a "$T/items" >/dev/null
host() {
	local name=$1
	"$PT" --headless --redis "$REDIS_URL" --batch cv --host "$name" -j 2 --builtin sleep \
		--retries 1 >"$T/$name.out" 2>"$T/$name.err" &
	HPID=$!
	at_exit "kill -KILL $HPID 2>/dev/null"
}
host h2
H2=$HPID
wait_for '[ "$(rcli GET "pooltop:{cv}:view:h2" | grep -Eo "\"cur_seq\":[12]," | wc -l)" = 2 ]' 10 ||
	diag "h2 did not start items 1 and 2: $(cat "$T/h2.err")"
host h1
H1=$HPID

# host_row HOST N: the line of the Nth (0-based) row of HOST in $SCREEN.
host_row() {
	printf '%s\n' "$SCREEN" | grep -E -- "^[> ][* ]$1 " | sed -n "$(($2 + 1))p"
}
# The PIDs of HOST's rows on the screen, sorted.
screen_pids() {
	printf '%s\n' "$SCREEN" | grep -E -- "^[> ][* ]$1 " |
		awk '{ sub(/^[> ][* ]/, ""); if ($3 ~ /^[0-9]+$/) print $3 }' | sort -n
}
live_kids() { kids "$1"; }

TM_STAY=1 tm_start cview attach --redis "$REDIS_URL" --batch cv
screen_like 'HOST' 10 "the workers table has a HOST column"
screen_until '[ -n "$(screen_pids h1)" ] && [ "$(screen_pids h1)" = "$(live_kids "$H1")" ]' 10 \
	"h1's rows show its workers' real PIDs"
screen_until '[ -n "$(screen_pids h2)" ] && [ "$(screen_pids h2)" = "$(live_kids "$H2")" ]' 10 \
	"h2's rows show its workers' real PIDs"

# Rows are grouped by host: h1's two, then h2's two; select h2's first (the 3rd row).
tm_keys Home Down Down
screen_until 'host_row h2 0 | grep -Eq "^>.* [12]:[0-9]+ *$"' 5 \
	"the selection is on h2's first worker, busy on item 1 or 2"
victim=$(host_row h2 0 | awk '{ sub(/^[> ][* ]/, ""); print $3 }')
tm_keys k
check "k on h2's worker: its process $victim is gone" wait_for '! alive '"$victim" 10
check "h2 says it killed it, busy on an item, at a viewer's request" \
	wait_for 'grep -Eq "kill from a viewer on .* on worker .* \(pid '"$victim"', item [12]\)" "$T/h2.err"' 10
check "h2 runs on meanwhile" alive "$H2"
diag "$(grep -- "$victim" "$T/h2.err")"

tm_keys T
screen_like 'T: not on a cluster view' 5 "T (terminate all) is refused: it acts on one host's run"
tm_keys Enter
screen_like "a worker's detail is not on a cluster view" 5 "Enter (a worker's detail) is refused"

wait "$H1"
r1=$?
wait "$H2"
r2=$?
is "$r1 $r2" "0 0" "both hosts end with exit status 0 (the killed item was retried)"
"$PT" collect --redis "$REDIS_URL" --batch cv --results "$T/cv.json" >/dev/null
is "$?" 0 "collect: exit status 0"
is "$(python3 -c 'import json,sys; s=[json.loads(l)["seq"] for l in open(sys.argv[1])]; print(len(s), len(set(s)))' "$T/cv.json")" \
	"$N $N" "every item recorded once"
screen_like "the batch cv is over: $N done, 0 failed" 10 "the cluster view says the batch is over"
tm_keys q
wait_exit 10
is "$RC" 0 "q leaves the finished view, exit status 0"

# A read-only cluster view acts on nothing.
TM_STAY=1 tm_start ro attach --read-only --redis "$REDIS_URL" --batch cv
screen_like 'cluster view read-only: cv' 10 "--read-only: the footer says so"
tm_keys k
screen_like 'k: this viewer is read-only' 5 "--read-only: k is refused"
tm_keys q
wait_exit 10
is "$RC" 0 "q leaves the read-only view"

# No such batch: one line, exit 255.
TM_STAY=1 tm_start nob attach --redis "$REDIS_URL" --batch nope
wait_exit 10
is "$RC/$(cat "$R/err")" "255/pooltop: no batch 'nope' in $REDIS_URL (pooltop ls --redis $REDIS_URL lists them)" \
	"attach --redis to a batch that is not there: one line, exit 255"
