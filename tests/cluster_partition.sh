#!/bin/bash
# cluster_partition.sh: a real network partition, where the machine allows network namespaces
# (root, iproute2): Redis in a namespace of its own, one host in another, joined by a veth
# pair over TCP; the other host reaches Redis on its Unix socket. The link is cut past the
# lease: the other host takes the cut-off host's items, and when the link is back, the cut-off
# host's results are fenced and nothing is recorded twice (as with SIGSTOP in cluster.sh).
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

NR=ptr$$ NA=pta$$ VR=pvr$$ VA=pva$$
net=10.231.$((RANDOM % 250)).
cleanup_net() { ip netns del "$NA" 2>/dev/null; ip netns del "$NR" 2>/dev/null; }
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! ip netns add "$NR" 2>/dev/null; then
	echo "1..0 # SKIP no network namespaces here (root and iproute2 needed)"
	exit 0
fi
at_exit cleanup_net
ip netns add "$NA" &&
	ip link add "$VR" type veth peer name "$VA" &&
	ip link set "$VR" netns "$NR" && ip link set "$VA" netns "$NA" &&
	ip -n "$NR" addr add "${net}1/30" dev "$VR" && ip -n "$NR" link set "$VR" up &&
	ip -n "$NR" link set lo up &&
	ip -n "$NA" addr add "${net}2/30" dev "$VA" && ip -n "$NA" link set "$VA" up ||
	{ echo "1..0 # SKIP cannot make a veth pair between namespaces"; exit 0; }

. "$TESTS_DIR/redis_lib.sh"
plan 4
ptname
# Redis listens in its namespace only: on the veth's address there, and on its Unix socket.
REDIS_WRAP="ip netns exec $NR" REDIS_EXTRA="--port 6391 --bind ${net}1 --protected-mode no" \
	redis_start
TCP_URL=redis://${net}1:6391

pending_of() { rcli XPENDING "pooltop:{$1}:items" g - + 100000 "$2" | grep -c -- '-'; }
"$PT" submit --redis "$REDIS_URL" --batch part ::: $(seq 40) >/dev/null
ip netns exec "$NA" "$POOLTOP" --headless --redis "$TCP_URL" --batch part --host a -j 2 \
	--lease 1s --retries 1 --builtin sleep:400 >"$T/a.out" 2>"$T/a.err" &
pa=$!
at_exit "kill -KILL $pa 2>/dev/null"
wait_for "[ \$(pending_of part a) -gt 0 ]" 10 || diag "a holds nothing"
# The link cut: a's requests go nowhere.
ip -n "$NA" link set "$VA" down
"$PT" --headless --redis "$REDIS_URL" --batch part --host b -j 2 --lease 1s --retries 1 \
	--builtin sleep:400 >"$T/b.out" 2>"$T/b.err" &
pb=$!
at_exit "kill -KILL $pb 2>/dev/null"
check "past the lease, the other host takes the cut-off host's items" \
	wait_for "grep -q 'whose host stopped renewing' '$T/b.err'" 15
ip -n "$NA" link set "$VA" up
wait $pb
rb=$?
wait $pa
ra=$?
is "$ra $rb" "0 0" "both hosts end, exit status 0"
like "$(cat "$T/a.err")" "item [0-9]+: fenced: (b holds it now|another host recorded it), this result is not recorded" \
	"the cut-off host's results are fenced once the link is back"
"$PT" collect --redis "$REDIS_URL" --batch part --results "$T/part.json" >/dev/null
n=$(python3 -c 'import json,sys
seen = {}
for l in open(sys.argv[1]):
    s = json.loads(l)["seq"]; seen[s] = seen.get(s, 0) + 1
print(len(seen), sum(1 for c in seen.values() if c > 1))' "$T/part.json")
is "$n" "40 0" "a partition: every result recorded once"
