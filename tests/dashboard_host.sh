#!/bin/bash
# dashboard_host.sh: the dashboard of a host of a batch in Redis shows every host's workers:
# its own (HOST its name), then the other hosts' with their real PIDs; k on another host's
# worker is a request on that host's control list, and that host kills it (it still runs the
# item drawn); the batch goes on and every item is recorded once.
# shellcheck disable=SC2016 # wait_until and friends take code in single quotes.
. "${TESTS_DIR:-$(dirname "$0")}/tmux_lib.sh"
. "$TESTS_DIR/redis_lib.sh"

plan 6

ptname
redis_start

# The first two items are long (h2's workers are certainly still on them when k reaches h2);
# h2 starts first and holds them.
N=30
{
	scaled_ms 4000
	scaled_ms 4000
	for _ in $(seq 3 $N); do scaled_ms 50; done
} >"$T/items"
"$PT" submit --redis "$REDIS_URL" --batch hv -a "$T/items" >/dev/null
"$PT" --headless --redis "$REDIS_URL" --batch hv --host h2 -j 2 --builtin sleep --retries 1 \
	>"$T/h2.out" 2>"$T/h2.err" &
H2=$!
at_exit "kill -KILL $H2 2>/dev/null"
wait_for '[ "$(rcli GET "pooltop:{hv}:view:h2" | grep -Eo "\"cur_seq\":[12]," | wc -l)" = 2 ]' 10 ||
	diag "h2 did not start items 1 and 2: $(cat "$T/h2.err")"

host_row() { printf '%s\n' "$SCREEN" | grep -E -- "^[> ][* ]$1 " | sed -n "$(($2 + 1))p"; }
screen_pids() {
	printf '%s\n' "$SCREEN" | grep -E -- "^[> ][* ]$1 " |
		awk '{ sub(/^[> ][* ]/, ""); if ($3 ~ /^[0-9]+$/) print $3 }' | sort -n
}

tm_start host --redis "$REDIS_URL" --batch hv --host h1 -j 2 --builtin sleep --retries 1
screen_until '[ -n "$(screen_pids h1)" ] && [ -n "$(screen_pids h2)" ]' 10 \
	"a host's dashboard shows its own workers and the other host's (a HOST column)"
screen_until '[ "$(screen_pids h2)" = "$(kids "$H2")" ]' 10 \
	"the other host's rows show its workers' real PIDs"
# Its own rows first (h1's two), then h2's: select h2's first.
tm_keys Home Down Down
screen_until 'host_row h2 0 | grep -Eq "^>.* [12]:[0-9]+ *$"' 5 \
	"the selection is on h2's first worker, busy on item 1 or 2"
victim=$(host_row h2 0 | awk '{ sub(/^[> ][* ]/, ""); print $3 }')
tm_keys k
check "k on the other host's worker: its process $victim is gone" wait_for '! alive '"$victim" 10
check "h2 says it killed it at host h1's request" \
	wait_for 'grep -Eq "kill from host h1 on worker .* \(pid '"$victim"', item [12]\)" "$T/h2.err"' 10
diag "h2: $(grep -i kill "$T/h2.err")"
wait_exit 60
wait "$H2"
r2=$?
"$PT" collect --redis "$REDIS_URL" --batch hv --results "$T/hv.json" >/dev/null
is "$RC $r2 $(python3 -c 'import json,sys; s=[json.loads(l)["seq"] for l in open(sys.argv[1])]; print(len(s), len(set(s)))' "$T/hv.json")" \
	"0 0 $N $N" "both hosts end, exit status 0 (the killed item retried), every item recorded once"
