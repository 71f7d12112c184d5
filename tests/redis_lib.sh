# tests/redis_lib.sh: a private redis-server for the tests of a batch across machines, sourced
# after tests/lib.sh. It listens only on a Unix socket in $T (mode 0700, no TCP port), keeps an
# append-only file in $T/redis (a restart reloads it), and is stopped at exit.
#
#   redis_start     start it (in the background) and wait until it answers PING
#   redis_stop      stop it (SIGTERM: it writes its file) and reap it
#   redis_kill      SIGKILL it (a crash: what the append-only file holds survives)
#   redis_restart   redis_stop (if running), then redis_start on the same directory
#   rcli ARGS...    redis-cli on its socket
#   REDIS_URL       unix://$T/redis.sock, exported
#   REDIS_EXTRA     more redis-server options for redis_start (as "--appendonly no")
#   REDIS_WRAP      a command to run it under (as "ip netns exec NS")
#
# Without redis-server the script fails (Bail out!), never skips: ./bootstrap installs it.

REDIS_SOCK=$T/redis.sock
REDIS_DIR=$T/redis
REDIS_URL=unix://$REDIS_SOCK
export REDIS_URL
REDIS_PID=
_redis_hooked=

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
	echo "Bail out! redis-server and redis-cli are needed (./bootstrap installs redis-server)"
	exit 1
fi

rcli() { redis-cli -s "$REDIS_SOCK" "$@"; }

redis_start() {
	mkdir -p "$REDIS_DIR"
	${REDIS_WRAP:-} redis-server --port 0 --unixsocket "$REDIS_SOCK" --unixsocketperm 700 --save '' \
		--appendonly yes --dir "$REDIS_DIR" --daemonize no ${REDIS_EXTRA:-} >>"$T/redis.log" 2>&1 &
	REDIS_PID=$!
	if [ -z "$_redis_hooked" ]; then
		at_exit redis_stop
		_redis_hooked=1
	fi
	if ! wait_for '[ "$(rcli ping 2>/dev/null)" = PONG ]' 10; then
		echo "Bail out! redis-server did not answer PING on $REDIS_SOCK within $(scaled 10) s:"
		sed 's/^/# /' "$T/redis.log" | tail -5
		exit 1
	fi
}

redis_stop() {
	[ -n "$REDIS_PID" ] || return 0
	kill -TERM "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
}

redis_kill() {
	[ -n "$REDIS_PID" ] || return 0
	kill -KILL "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
}

redis_restart() {
	redis_stop
	redis_start
}
