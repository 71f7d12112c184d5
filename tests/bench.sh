#!/bin/bash
# bench.sh: pooltop against its peers (Python multiprocessing, xargs -P, GNU parallel; RQ and
# Celery for a batch in Redis) on the same work on this machine, for `make bench` (minutes; not
# part of `make check`).
#
#     POOLTOP=./pooltop bash tests/bench.sh          # or: make bench
#     BENCH_ONLY=cluster make bench                  # section 9 alone (about 2 minutes)
#
# The contestants of a workload run alternately (A B C A B C ...), BENCH_RUNS times each, after
# one untimed check run each on a few items (it also warms the caches). A run's rate is its
# items over the wall time of the whole command, start-up included (bash's EPOCHREALTIME,
# microseconds); the table shows the median rate, the spread (max - min) / median, and the
# reference contestant's median over this row's ("ratio": how many times faster pooltop is).
# A contestant that fails is shown as "n/a (PROGRAM: first line of its stderr)" and the
# benchmark goes on: pooltop's command-per-item kinds may not exist in the binary yet.
#
# The figures also go to a file, one per line: workload TAB contestant TAB median TAB unit
# (units: items/s, KB, %, x, ms). Workload names carry their sizes, so a quick run never compares
# with a full one. When the file exists, the change against it is printed before it is replaced.
#
# Environment:
#   POOLTOP       the binary (required)
#   BENCH_RUNS    timed runs per contestant (default 5; 1 with BENCH_QUICK=1)
#   BENCH_QUICK=1 one run, smaller sizes: about half a minute
#   BENCH_OUT     the figures file (default ./bench-results.txt; ./bench-results-quick.txt
#                 with BENCH_QUICK=1, so that a quick run keeps the full run's file)
#   BENCH_ONLY=cluster  only section 9 (a batch in Redis against RQ and Celery); its figures go
#                 to ./bench-results-cluster.txt (-quick with BENCH_QUICK=1) unless BENCH_OUT
#   BENCH_NO_INSTALL=1  do not apt-get install GNU parallel, redis-server, python3-rq or
#                 python3-celery when they are missing
# shellcheck disable=SC2317 # The contestants' functions are called through C_FUNC.
set -u
export LC_ALL=C
# Our tmux servers are private, whether we run inside tmux or not.
unset TMUX TMUX_PANE

if [ -z "${POOLTOP:-}" ]; then
	echo "bench.sh: POOLTOP is not set (POOLTOP=/path/to/pooltop bash $0)" >&2
	exit 1
fi
case $POOLTOP in
/*) ;;
*) POOLTOP="$(cd "$(dirname "$POOLTOP")" && pwd)/$(basename "$POOLTOP")" ;;
esac
if [ ! -x "$POOLTOP" ]; then
	echo "bench.sh: $POOLTOP: not an executable" >&2
	exit 1
fi
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)

# --- sizes -----------------------------------------------------------------------------------
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	RUNS=${BENCH_RUNS:-1}
	N_SQUARE=100000    # workload 1: square
	N_SLOW=10000       # workload 1: the Python variants that move one item per message
	N_CMD=200          # workload 2: a command per item
	N_LINES=100000     # workload 3: persistent workers
	N_RT=2000          # workload 3: one line in flight per worker
	N_STREAM=1000000   # workload 5: pooltop's peak RSS over a stream ...
	N_STREAM0=100000   # ... and over a short one
	CPU_WINDOW=3       # workload 6: seconds of the dashboard's CPU measured
	DASH_ITEMS=256     # workload 6: 64 workers x 4 rounds of 2 s
	N_WIDE=20000       # workload 7: trivial items through pools of 4 to 1024
	N_WIDE_SLOW=2048   # workload 7: slow items that keep 1024 workers busy
	N_CLUSTER=50000    # workload 9: trivial items through Redis, 2 hosts x 2 workers ...
	CL_RUNS=1          # ... timed so many times (the median)
	N_RQ=200           # workload 9: RQ's jobs (rq worker: a fork per job) ...
	N_RQ_SIMPLE=1000   # ... and with its SimpleWorker (none)
	N_CELERY=1000      # workload 9: Celery's tasks
	OUT_NAME=bench-results-quick.txt
else
	QUICK=0
	RUNS=${BENCH_RUNS:-5}
	N_SQUARE=1000000
	N_SLOW=100000
	N_CMD=2000
	N_LINES=1000000
	N_RT=20000
	N_STREAM=10000000
	N_STREAM0=100000
	CPU_WINDOW=10
	DASH_ITEMS=512 # 16 s of work, the window ends at 12 s
	N_WIDE=20000
	N_WIDE_SLOW=2048
	N_CLUSTER=200000
	CL_RUNS=3
	N_RQ=500
	N_RQ_SIMPLE=5000
	N_CELERY=5000
	OUT_NAME=bench-results.txt
fi
case $RUNS in
'' | *[!0-9]* | 0)
	echo "bench.sh: BENCH_RUNS must be a positive integer (got '$RUNS')" >&2
	exit 1
	;;
esac
ONLY=${BENCH_ONLY:-}
case $ONLY in
'') ;;
cluster) OUT_NAME=${OUT_NAME%.txt}-cluster.txt OUT_NAME=${OUT_NAME/results-quick-cluster/results-cluster-quick} ;;
*)
	echo "bench.sh: BENCH_ONLY must be empty or cluster (got '$ONLY')" >&2
	exit 1
	;;
esac
SHA_ROUNDS=200000
SHA_ITEMS=16
RESULTS=${BENCH_OUT:-$PWD/$OUT_NAME}

# --- clean-up --------------------------------------------------------------------------------
T=$(mktemp -d "${TMPDIR:-/tmp}/pooltop-bench.XXXXXX") || exit 1
# The batches' sockets (pooltop ls, attach): the benchmark's own.
export POOLTOP_TMPDIR=$T
TM_SOCK="bench-$$"
BG_PIDS=() # processes started in the background and not yet waited for
REDIS_PID= # section 9's redis-server

tmux_kill() {
	tmux -L "$TM_SOCK" -f /dev/null kill-server >/dev/null 2>&1
	rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$TM_SOCK"
	return 0
}

cleanup() {
	local p
	for p in "${BG_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	[ -z "$REDIS_PID" ] || { kill -TERM "$REDIS_PID" && wait "$REDIS_PID"; } 2>/dev/null
	command -v tmux >/dev/null 2>&1 && tmux_kill
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- helpers ---------------------------------------------------------------------------------
# now_us VAR: the wall clock in microseconds, into VAR (no fork).
if [ -n "${EPOCHREALTIME:-}" ]; then
	now_us() { printf -v "$1" %s "${EPOCHREALTIME//[!0-9]/}"; }
else
	now_us() { printf -v "$1" %s "$(date +%s%6N)"; }
fi

have() { command -v "$1" >/dev/null 2>&1; }

# wait_file FILE TIMEOUT_S: poll every 20 ms until FILE is not empty; 1 on timeout.
wait_file() {
	local f=$1 end now
	now_us end
	end=$((end + $2 * 1000000))
	while [ ! -s "$f" ]; do
		now_us now
		[ "$now" -ge "$end" ] && return 1
		sleep 0.02
	done
	return 0
}

# wait_lines FILE N TIMEOUT_S: poll every 20 ms until FILE has N lines; 1 on timeout.
wait_lines() {
	local end now
	now_us end
	end=$((end + $3 * 1000000))
	while [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -lt "$2" ]; do
		now_us now
		[ "$now" -ge "$end" ] && return 1
		sleep 0.02
	done
	return 0
}

# input N: the path of a file holding 1..N, one per line (made once).
input() {
	[ -s "$T/items.$1" ] || seq 1 "$1" >"$T/items.$1"
	printf '%s\n' "$T/items.$1"
}

# sz N: a size for a name: 1e6 for 1000000, N when it is not a power of ten above 1000.
sz() {
	if [[ $1 =~ ^10000+$ ]]; then echo "1e$((${#1} - 1))"; else echo "$1"; fi
}

# The formatting of figures, shared by every awk below.
AWKLIB='
function commas(n,   s, r) {
	s = sprintf("%.0f", n); r = ""
	while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
	return s r
}
function fmt(x, unit) {
	if (unit == "items/s") {
		if (x >= 1e6) return sprintf("%.2fM/s", x / 1e6)
		if (x >= 100) return commas(x) "/s"
		return sprintf("%.1f/s", x)
	}
	if (unit == "KB") return commas(x) " KB"
	if (unit == "%") return sprintf("%.2f%%", x)
	if (unit == "x") return sprintf("%.2fx", x)
	if (unit == "ms") return commas(x) " ms"
	return x " " unit
}'

# commas N: 1234567 -> 1,234,567.
commas() { awk -v n="$1" "$AWKLIB"' BEGIN { print commas(n) }'; }

# fmt VALUE UNIT: a figure for people.
fmt() { awk -v x="$1" -v u="$2" "$AWKLIB"' BEGIN { print fmt(x, u) }'; }

# verdict VALUE OP TARGET: PASS or MISS (OP is >= or <=).
verdict() {
	awk -v x="$1" -v op="$2" -v t="$3" \
		'BEGIN { ok = (op == ">=") ? (x >= t) : (x <= t); print ok ? "PASS" : "MISS" }'
}

# fig WORKLOAD CONTESTANT VALUE UNIT: one line of the figures file.
fig() { printf '%s\t%s\t%s\t%s\n' "$@" >>"$T/figures"; }

first_line() { head -n 1 "$1" 2>/dev/null | cut -c 1-160; }

# --- tools -----------------------------------------------------------------------------------
# python3 resolved to its interpreter: a shim (pyenv's is a shell script) would add its own
# start-up to every Python run.
HAVE_PYTHON=0
PYTHON=
if have python3; then
	PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
	[ -x "$PYTHON" ] && HAVE_PYTHON=1
fi
HAVE_TMUX=0
have tmux && HAVE_TMUX=1

# GNU parallel, installed here when missing (apt, non-interactive, through sudo when not root).
# apt_install LOG PKG...: apt-get install the packages (non-interactive, through sudo when not
# root, apt-get update first if the install fails), its output to LOG; 1 when it cannot.
apt_install() {
	local log=$1 sudo=
	shift
	[ "${BENCH_NO_INSTALL:-0}" = 1 ] && return 1
	have apt-get || return 1
	if [ "$(id -u)" != 0 ]; then
		have sudo || return 1
		sudo="sudo -n"
	fi
	{ $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" ||
		{ $sudo apt-get update -qq &&
			$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; }; } \
		>"$log" 2>&1
}

ensure_parallel() {
	have parallel && return 0
	[ "${BENCH_NO_INSTALL:-0}" = 1 ] && return 1
	echo "bench: GNU parallel is missing: apt-get install -y parallel"
	apt_install "$T/apt.log" parallel
	have parallel
}
HAVE_PARALLEL=0
if ensure_parallel; then
	HAVE_PARALLEL=1
else
	echo "bench: GNU parallel is not installed and could not be: its runs are skipped"
	[ -s "$T/apt.log" ] && sed 's/^/    apt: /' "$T/apt.log" | tail -n 3
fi
[ "$HAVE_PYTHON" = 1 ] || echo "bench: python3 is not installed: the Python peers are skipped"
[ "$HAVE_TMUX" = 1 ] || echo "bench: tmux is not installed: the dashboard's runs are skipped"

# --- the Python peers --------------------------------------------------------------------------
cat >"$T/peers.py" <<'EOF'
"""Python multiprocessing doing pooltop's work, for tests/bench.sh: peers.py MODE ARGS.

Every mode uses the fork start method, as pooltop forks its workers, and writes its results
to stdout one per line, as pooltop does."""
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import time

ctx = mp.get_context("fork")


def square(item):
    return int(item) ** 2


def identity(line):
    return line


def read_items(path):
    with open(path) as f:
        return f.read().splitlines()


def write(results):
    w = sys.stdout.write
    for r in results:
        w(f"{r}\n")


def manual_worker(inq, outq):
    # The second seed's dequeue_work, ended by a poison pill (the seed polls empty() on
    # Manager queues instead).
    get, put = inq.get, outq.put
    while True:
        item = get()
        if item is None:
            return
        put(square(item))


def manual(items, n=2):
    inq, outq = ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=manual_worker, args=(inq, outq), daemon=True) for _ in range(n)]
    for p in procs:
        p.start()
    for item in items:
        inq.put(item)
    for _ in procs:
        inq.put(None)
    write(outq.get() for _ in range(len(items)))
    for p in procs:
        p.join()
    return max(p.exitcode for p in procs)


def roundtrip_worker(lines):
    # One line in flight: write it to cat, read it back, next.
    cat = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    fd, readline = cat.stdin.fileno(), cat.stdout.readline
    out = []
    for line in lines:
        os.write(fd, line)
        out.append(readline())
    cat.stdin.close()
    cat.wait()
    sys.stdout.buffer.write(b"".join(out))
    sys.stdout.flush()


def main():
    mode = sys.argv[1]
    if mode == "maxrss":  # maxrss CMD...: run CMD, print the peak RSS (KB) of its tree
        rc = subprocess.call(sys.argv[2:])
        print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
        return rc
    if mode == "sleep":  # sleep N SECONDS: Pool(N), each worker sleeping
        n, secs = int(sys.argv[2]), float(sys.argv[3])
        with ctx.Pool(n) as pool:
            pool.map(time.sleep, [secs] * n, chunksize=1)
        return 0
    if mode == "roundtrip":  # roundtrip FILE TIMEFILE: 2 processes, each its own cat, half
        # the lines; TIMEFILE gets the microseconds taken, the interpreter's start-up left out
        start = time.monotonic()
        with open(sys.argv[2], "rb") as f:
            lines = f.read().splitlines(keepends=True)
        procs = [ctx.Process(target=roundtrip_worker, args=(lines[k::2],)) for k in range(2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        with open(sys.argv[3], "w") as f:
            print(round((time.monotonic() - start) * 1e6), file=f)
        return max(p.exitcode for p in procs)
    items = read_items(sys.argv[2])
    if mode == "manual":
        return manual(items)
    with ctx.Pool(2) as pool:
        if mode == "map":
            write(pool.map(square, items))
        elif mode == "map1":
            write(pool.map(square, items, chunksize=1))
        elif mode == "imap1":
            write(pool.imap_unordered(square, items, chunksize=1))
        elif mode == "identity":
            write(pool.imap(identity, items, chunksize=1000))
        else:
            print(f"peers.py: unknown mode {mode}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
EOF

py() { "$PYTHON" "$T/peers.py" "$@"; }

# --- the terminal: a private tmux server ----------------------------------------------------
cat >"$T/pane.sh" <<'EOF'
# pane.sh DIR OUT CMD...: run CMD on the pane's terminal, its stdout to OUT. DIR gets pid (CMD's
# pid), err (its stderr), times ("START END", microseconds, read here) and, last, status.
d=$1 out=$2
shift 2
export TERM=xterm-256color
t0=${EPOCHREALTIME//[!0-9]/}
/bin/sh -c 'echo $$ >"$0"; exec "$@"' "$d/pid" "$@" >"$out" 2>"$d/err"
rc=$?
t1=${EPOCHREALTIME//[!0-9]/}
echo "$t0 $t1" >"$d/times"
echo "$rc" >"$d/status"
EOF

# tmux_start DIR OUT CMD...: CMD in a fresh private tmux server, 160x50 (see pane.sh).
tmux_start() {
	local d=$1 a cmd
	tmux_kill
	rm -rf "$d"
	mkdir -p "$d"
	cmd="bash $(printf %q "$T/pane.sh")"
	for a in "$@"; do cmd+=" $(printf %q "$a")"; done
	tmux -L "$TM_SOCK" -f /dev/null new-session -d -x 160 -y 50 "$cmd"
}

# dashboard_run CMD...: a contestant: CMD on a real terminal, stdout to $OUT, timed inside the
# pane (ELAPSED); its stderr copied to ours; returns its exit status.
dashboard_run() {
	local d="$T/pane" t0 t1
	if ! tmux_start "$d" "$OUT" "$@"; then
		echo "tmux new-session failed" >&2
		return 1
	fi
	if ! wait_file "$d/status" 600; then
		tmux_kill
		echo "the run did not end within 600 s" >&2
		return 1
	fi
	tmux_kill
	# The summary the dashboard leaves on stderr when it closes is not an error.
	grep -v '^pooltop: [0-9]* done, ' "$d/err" >&2
	read -r t0 t1 <"$d/times"
	ELAPSED=$((t1 - t0))
	return "$(cat "$d/status")"
}

# --- contestants and their rounds ------------------------------------------------------------
# group_begin WORKLOAD TITLE [CHECK_N]: a new table; WORKLOAD is its name in the figures file;
# the check runs take CHECK_N items (default 100).
# contestant KEY LABEL PROG N EXPECT FUNC [OP TARGET]
#   KEY: the figures file's name; LABEL: the table's; PROG: the program that must exist and
#   that n/a names; N: items per timed run; EXPECT: "lines" when a check run on CHECK_N items
#   must print CHECK_N lines (not counting lines that start with "pooltop: "), "-" when its
#   output is not checked; FUNC: a function running it on $IN with its stdout to $OUT (it may
#   set ELAPSED, in microseconds, when it times itself).
#   OP TARGET: the target beside the figure: "rate" and items/s (the row's median must be at
#   least that), "ratio" and x (the first row's median over this row's, at least that), or
#   "ratio_max" and x (the same ratio, at most that: how many times slower than the first).
# The first contestant is the reference of the ratio column.
group_begin() {
	GROUP=$1
	GROUP_TITLE=$2
	CHECK_N=${3:-100}
	C_KEY=() C_LABEL=() C_PROG=() C_N=() C_EXPECT=() C_FUNC=() C_OP=() C_TARGET=()
	C_FAIL=() C_TIMES=()
	GROUP_NOTES=()
}

contestant() {
	local i=${#C_KEY[@]}
	C_KEY[i]=$1 C_LABEL[i]=$2 C_PROG[i]=$3 C_N[i]=$4 C_EXPECT[i]=$5 C_FUNC[i]=$6
	C_OP[i]=${7:-} C_TARGET[i]=${8:-}
	C_FAIL[i]='' C_TIMES[i]=''
	case $3 in
	python3) [ "$HAVE_PYTHON" = 1 ] || C_FAIL[i]="skipped: python3 is not installed" ;;
	parallel) [ "$HAVE_PARALLEL" = 1 ] || C_FAIL[i]="skipped: GNU parallel is not installed" ;;
	*) have "$3" || C_FAIL[i]="skipped: $3 is not installed" ;;
	esac
	case $6 in
	*dash*) [ "$HAVE_TMUX" = 1 ] || C_FAIL[i]="skipped: tmux is not installed" ;;
	esac
}

note() { GROUP_NOTES+=("$*"); }

# c_run I IN OUT: one run of contestant I. Sets ELAPSED (microseconds); on a failure (a
# non-zero status, or anything on pooltop's stderr) returns 1 with FAIL set.
c_run() {
	local i=$1 t0 t1 rc first prog
	IN=$2 OUT=$3 ELAPSED=''
	now_us t0
	"${C_FUNC[i]}" </dev/null 2>"$T/err"
	rc=$?
	now_us t1
	[ -n "$ELAPSED" ] || ELAPSED=$((t1 - t0))
	[ "$ELAPSED" -gt 0 ] || ELAPSED=1
	first=$(first_line "$T/err")
	if [ "$rc" -ne 0 ] || { [ "${C_PROG[i]}" = "$POOLTOP" ] && [ -n "$first" ]; }; then
		prog=$(basename "${C_PROG[i]}")
		first=${first#"$prog": }
		[ -n "$first" ] || first="exit status $rc"
		FAIL="$prog: $first"
		return 1
	fi
	return 0
}

# c_check I: the untimed check run on CHECK_N items.
c_check() {
	local i=$1 got
	c_run "$i" "$(input "$CHECK_N")" "$T/check.out" || return 1
	if [ "${C_EXPECT[i]}" = lines ]; then
		# Lines of pooltop's own on stdout would not be results.
		got=$(grep -vc '^pooltop: ' "$T/check.out")
		if [ "$got" -ne "$CHECK_N" ]; then
			FAIL="$(basename "${C_PROG[i]}"): printed $got lines for $CHECK_N items"
			return 1
		fi
	fi
	return 0
}

# stats N TIMES: "median min max" of the rates N / time, TIMES in microseconds.
stats() {
	awk -v n="$1" -v ts="$2" 'BEGIN {
		k = split(ts, t, " ")
		for (i = 1; i <= k; i++) r[i] = n * 1e6 / t[i]
		for (i = 2; i <= k; i++) {
			v = r[i]
			for (j = i - 1; j >= 1 && r[j] > v; j--) r[j + 1] = r[j]
			r[j + 1] = v
		}
		m = (k % 2) ? r[(k + 1) / 2] : (r[k / 2] + r[k / 2 + 1]) / 2
		printf "%.3f %.3f %.3f\n", m, r[1], r[k]
	}'
}

# group_run: the check runs, RUNS alternating rounds, the table, the figures.
group_run() {
	local i r
	echo
	echo "$GROUP_TITLE"
	for i in "${!C_KEY[@]}"; do
		[ -z "${C_FAIL[i]}" ] || continue
		input "${C_N[i]}" >/dev/null
		c_check "$i" || C_FAIL[i]=$FAIL
	done
	for ((r = 1; r <= RUNS; r++)); do
		for i in "${!C_KEY[@]}"; do
			[ -z "${C_FAIL[i]}" ] || continue
			if c_run "$i" "$T/items.${C_N[i]}" /dev/null; then
				C_TIMES[i]+=" $ELAPSED"
			else
				C_FAIL[i]="$FAIL (run $r)"
			fi
		done
	done
	group_report
}

group_report() {
	local i med lo hi spread ratio target ref_med='' line
	printf '  %-46s %10s %10s %7s %8s  %s\n' contestant items median spread ratio target
	for i in "${!C_KEY[@]}"; do
		case ${C_OP[i]} in
		rate) target=">=$(fmt "${C_TARGET[i]}" items/s)" ;;
		ratio) target=">=$(fmt "${C_TARGET[i]}" x)" ;;
		ratio_max) target="<=$(fmt "${C_TARGET[i]}" x)" ;;
		*) target= ;;
		esac
		if [ -n "${C_FAIL[i]}" ]; then
			printf '  %-46s %10s %10s  (%s)%s\n' "${C_LABEL[i]}" "$(commas "${C_N[i]}")" n/a \
				"${C_FAIL[i]}" "${target:+; target $target n/a}"
			continue
		fi
		read -r med lo hi <<<"$(stats "${C_N[i]}" "${C_TIMES[i]}")"
		[ "$i" -eq 0 ] && ref_med=$med
		spread=-
		[ "$RUNS" -eq 1 ] ||
			spread=$(awk -v m="$med" -v a="$lo" -v b="$hi" 'BEGIN { printf "%.0f%%", (b - a) / m * 100 }')
		ratio=-
		if [ "$i" -gt 0 ] && [ -n "$ref_med" ]; then
			ratio=$(awk -v a="$ref_med" -v b="$med" 'BEGIN { printf "%.3f", a / b }')
		fi
		case ${C_OP[i]} in
		rate) target+=" $(verdict "$med" ">=" "${C_TARGET[i]}")" ;;
		ratio | ratio_max)
			if [ "$ratio" = - ]; then
				target+=" n/a (${C_KEY[0]} not measured)"
			elif [ "${C_OP[i]}" = ratio ]; then
				target+=" $(verdict "$ratio" ">=" "${C_TARGET[i]}")"
			else
				target+=" $(verdict "$ratio" "<=" "${C_TARGET[i]}")"
			fi
			;;
		esac
		fig "$GROUP" "${C_KEY[i]}" "$(printf '%.1f' "$med")" items/s
		if [ "$ratio" != - ]; then
			fig "$GROUP" "${C_KEY[0]}/${C_KEY[i]}" "$ratio" x
			ratio=$(fmt "$ratio" x)
		fi
		printf '  %-46s %10s %10s %7s %8s  %s\n' "${C_LABEL[i]}" "$(commas "${C_N[i]}")" \
			"$(fmt "$med" items/s)" "$spread" "$ratio" "$target"
	done
	for line in "${GROUP_NOTES[@]}"; do printf '  %s\n' "$line"; done
	return 0
}

# --- the header ------------------------------------------------------------------------------
version_of() {
	local v
	v=$("$@" 2>&1 | head -n 1)
	printf '%s\n' "${v:-unknown}"
}

echo "pooltop benchmark, $(date '+%Y-%m-%d %H:%M:%S'): $RUNS timed run(s) per contestant," \
	"alternating$([ "$QUICK" = 1 ] && echo ', BENCH_QUICK (smaller sizes)')"
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
echo "cpu:      ${cpu:-unknown}, $(nproc) cores online ($(grep -c ^processor /proc/cpuinfo) present)"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "memory:   $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)," \
	"load average $LOAD0"
echo "kernel:   $(uname -srmo)"
src=$(git -C "$SRC_DIR" describe --always --dirty 2>/dev/null)
echo "pooltop:  $(version_of "$POOLTOP" --version) ($POOLTOP${src:+, source $src})"
[ "$HAVE_PYTHON" = 1 ] && echo "python3:  $(version_of "$PYTHON" --version) ($PYTHON)"
[ "$HAVE_PARALLEL" = 1 ] && echo "parallel: $(version_of parallel --version)"
echo "xargs:    $(version_of xargs --version)"
[ "$HAVE_TMUX" = 1 ] && echo "tmux:     $(version_of tmux -V)"
echo "Rates are items over the wall time of the whole command, start-up included; median of"
echo "the runs; spread = (max - min) / median; ratio = the first row's median / this row's."

# --- 9. across machines: one batch in Redis, and its peers ---------------------------------------
# A private redis-server on a Unix socket in $T/redis (nothing listens on a network address), no
# persistence; flushed between the contestants, stopped at the end (and by cleanup).
CL_DIR=$T/redis
CL_SOCK=$CL_DIR/r.sock
CL_URL=unix://$CL_SOCK
CL_PY=/usr/bin/python3 # the peers are Debian's packages: the system's interpreter

cl_cli() { redis-cli -s "$CL_SOCK" "$@"; }

# cl_redis_start: 1 with FAIL set when it does not answer PING within 10 s.
cl_redis_start() {
	mkdir -p "$CL_DIR"
	redis-server --port 0 --unixsocket "$CL_SOCK" --unixsocketperm 700 --save '' \
		--appendonly no --dir "$CL_DIR" --daemonize no >"$CL_DIR/log" 2>&1 &
	REDIS_PID=$!
	local i=0
	until [ "$(cl_cli ping 2>/dev/null)" = PONG ]; do
		i=$((i + 1))
		if [ "$i" -gt 500 ] || ! kill -0 "$REDIS_PID" 2>/dev/null; then
			FAIL="redis-server did not answer on $CL_SOCK: $(tail -n 1 "$CL_DIR/log")"
			return 1
		fi
		sleep 0.02
	done
}

# cl_kill PID: SIGKILL PID and its children (a celery worker's pool), wait for PID.
cl_kill() {
	local p kids=()
	mapfile -t kids < <(pgrep -P "$1")
	kill -KILL "$1" 2>/dev/null
	for p in "${kids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait "$1" 2>/dev/null
	BG_PIDS=()
}

cl_redis_stop() {
	[ -n "$REDIS_PID" ] || return 0
	kill -TERM "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
}

# cl_err FILE: the first line of a host's stderr that is not the warning every host gives here
# (this Redis persists nothing, on purpose).
cl_err() { grep -v 'persists nothing' "$1" 2>/dev/null | head -n 1 | cut -c 1-160; }

# cl_pooltop: one run of 2 hosts x 2 workers over N_CLUSTER items -> CL_RATE; 1 with FAIL set.
CL_RUN=0
cl_pooltop() {
	local b=b$((CL_RUN += 1)) t0 t1 p1 p2 r1 r2 out ndone
	out=$("$POOLTOP" submit --redis "$CL_URL" --batch "$b" -a "$(input "$N_CLUSTER")" 2>"$T/err")
	if [ "$out" != "batch $b: $N_CLUSTER items ($N_CLUSTER added), input complete" ]; then
		FAIL="pooltop submit: ${out:-$(cl_err "$T/err")}"
		return 1
	fi
	now_us t0
	"$POOLTOP" --headless -q --redis "$CL_URL" --batch "$b" --host h1 -j 2 --builtin noop \
		</dev/null >/dev/null 2>"$T/h1.err" &
	p1=$!
	"$POOLTOP" --headless -q --redis "$CL_URL" --batch "$b" --host h2 -j 2 --builtin noop \
		</dev/null >/dev/null 2>"$T/h2.err" &
	p2=$!
	BG_PIDS=("$p1" "$p2")
	wait "$p1"
	r1=$?
	wait "$p2"
	r2=$?
	now_us t1
	BG_PIDS=()
	ndone=$(cl_cli hget "pooltop:{$b}:meta" "done")
	if [ "$r1 $r2" != "0 0" ] || [ "$ndone" != "$N_CLUSTER" ]; then
		FAIL="pooltop: exit status $r1 and $r2, $ndone items done: $(cl_err "$T/h1.err")$(cl_err "$T/h2.err")"
		return 1
	fi
	CL_RATE=$(awk -v n="$N_CLUSTER" -v t=$((t1 - t0)) 'BEGIN { printf "%.1f", n * 1e6 / t }')
}

# The peers' code: a trivial function returning its argument, and their drivers.
cl_peer_files() {
	cat >"$CL_DIR/cbtasks.py" <<'PY'
"""RQ's job for tests/bench.sh: returns its argument."""


def echo(x):
    return x
PY
	cat >"$CL_DIR/cbcelery.py" <<'PY'
"""Celery's task for tests/bench.sh: returns its argument. Broker and backend: the bench's
Redis, on its Unix socket (CB_SOCK)."""
import os

from celery import Celery

url = "redis+socket://" + os.environ["CB_SOCK"]
app = Celery("cbcelery", broker=url, backend=url)


@app.task
def echo(x):
    return x
PY
	cat >"$CL_DIR/cbdrive.py" <<'PY'
"""cbdrive.py MODE SOCK N: rq-enqueue (N jobs on queue "cb"), rq-check (prints how many
finished with the right result, and how many failed), celery (waits for 2 workers, sends N
tasks with delay, waits for every result; prints the microseconds from the first send to the
last result and how many results were right)."""
import sys
import time

mode, sock, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode.startswith("rq"):
    from redis import Redis
    from rq import Queue

    import cbtasks

    q = Queue("cb", connection=Redis(unix_socket_path=sock))
    if mode == "rq-enqueue":
        for i in range(n):
            q.enqueue(cbtasks.echo, i, result_ttl=3600)
    else:
        ids = q.finished_job_registry.get_job_ids()
        jobs = q.job_class.fetch_many(ids, connection=q.connection)
        print(sum(1 for j in jobs if j is not None and j.result == int(j.args[0])),
              q.failed_job_registry.count)
    sys.exit(0)

from celery.result import ResultSet

from cbcelery import app, echo

end = time.monotonic() + 60
while len(app.control.ping(timeout=0.5) or []) < 2:
    if time.monotonic() > end:
        sys.exit("celery: the 2 workers did not answer a ping within 60 s")
t0 = time.monotonic()
rs = ResultSet([echo.delay(i) for i in range(n)])
got = rs.get(timeout=300)
t1 = time.monotonic()
print(round((t1 - t0) * 1e6), sum(1 for i, r in enumerate(got) if r == i))
PY
}

# cl_rq N [WORKER-CLASS]: N jobs enqueued (not timed), then 4 `rq worker --burst` (2 "hosts" x
# 2) timed from their start until all have exited (a burst worker exits when the queue is
# empty) -> RQ_RATE.
cl_rq() {
	local n=$1 t0 t1 k pids=() rc=0 got
	cl_cli flushall >/dev/null
	if ! (cd "$CL_DIR" && "$CL_PY" cbdrive.py rq-enqueue "$CL_SOCK" "$n") 2>"$T/err"; then
		FAIL="rq: enqueue: $(tail -n 1 "$T/err")"
		return 1
	fi
	now_us t0
	for k in 1 2 3 4; do
		"$CL_PY" -m rq.cli worker --burst --quiet ${2:+-w "$2"} --url "$CL_URL" --path "$CL_DIR" cb \
			</dev/null >/dev/null 2>"$T/rq$k.err" &
		pids+=($!)
	done
	BG_PIDS=("${pids[@]}")
	for k in "${pids[@]}"; do wait "$k" || rc=$?; done
	now_us t1
	BG_PIDS=()
	got=$(cd "$CL_DIR" && "$CL_PY" cbdrive.py rq-check "$CL_SOCK" "$n" 2>"$T/err")
	if [ "$rc" -ne 0 ] || [ "$got" != "$n 0" ]; then
		FAIL="rq: status $rc, finished right and failed: ${got:-$(tail -n 1 "$T/err")}"
		[ -s "$T/rq1.err" ] && FAIL+=": $(tail -n 1 "$T/rq1.err")"
		return 1
	fi
	RQ_RATE=$(awk -v n="$n" -v t=$((t1 - t0)) 'BEGIN { printf "%.1f", n * 1e6 / t }')
}

# cl_celery: 2 celery workers -c 2 (prefork) on the same Redis, started and ready first (not
# timed); N_CELERY tasks sent with delay and every result waited for, timed -> CELERY_RATE.
cl_celery() {
	local k pids=() out us right rc
	cl_cli flushall >/dev/null
	for k in 1 2; do
		(cd "$CL_DIR" && CB_SOCK=$CL_SOCK exec "$CL_PY" -m celery -A cbcelery worker -c 2 -P prefork \
			-n "w$k@%h" --loglevel=WARNING </dev/null >/dev/null 2>"$T/celery$k.err") &
		pids+=($!)
	done
	BG_PIDS=("${pids[@]}")
	out=$(cd "$CL_DIR" && CB_SOCK=$CL_SOCK "$CL_PY" cbdrive.py celery "$CL_SOCK" "$N_CELERY" \
		2>"$T/err")
	rc=$?
	# A warm shutdown, then whatever is left of the pools.
	for k in "${pids[@]}"; do kill -TERM "$k" 2>/dev/null; done
	for k in "${pids[@]}"; do
		for ((i = 0; i < 250; i++)); do
			kill -0 "$k" 2>/dev/null || break
			sleep 0.02
		done
		cl_kill "$k"
	done
	read -r us right <<<"$out"
	if [ "$rc" -ne 0 ] || [ "${right:-}" != "$N_CELERY" ]; then
		FAIL="celery: status $rc, right results ${right:-?}: $(tail -n 1 "$T/err")"
		[ -s "$T/celery1.err" ] && FAIL+=": $(tail -n 1 "$T/celery1.err")"
		return 1
	fi
	CELERY_RATE=$(awk -v n="$N_CELERY" -v t="$us" 'BEGIN { printf "%.1f", n * 1e6 / t }')
}

# cl_reclaim: host a (-j 2 --lease 2s --retries 1, sleep:50) alone on 200 items (it holds them
# all: a host holds up to 256) until 20 results are recorded (half a second: its renewals, every
# lease/3, are at any phase), SIGKILL, host b started at once with the same options. The signal is b's own
# record: the earliest "start" (wall clock, this machine's) among the results recorded by b with
# deliveries 2 (the items a held), minus the time of the SIGKILL -> RECLAIM_MS.
cl_reclaim() {
	local pa pb t_kill i rb first
	cl_cli flushall >/dev/null
	"$POOLTOP" submit --redis "$CL_URL" --batch rc -a "$(input 200)" >/dev/null 2>"$T/err" || {
		FAIL="pooltop submit: $(cl_err "$T/err")"
		return 1
	}
	"$POOLTOP" --headless -q --redis "$CL_URL" --batch rc --host a -j 2 --lease 2s \
		--retries 1 --builtin sleep:50 </dev/null >/dev/null 2>"$T/a.err" &
	pa=$!
	BG_PIDS=("$pa")
	i=0
	until [ "$(cl_cli hlen "pooltop:{rc}:res" 2>/dev/null)" -ge 20 ] 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -gt 1000 ] || ! kill -0 "$pa" 2>/dev/null; then
			cl_kill "$pa"
			FAIL="host a recorded no result within 20 s: $(cl_err "$T/a.err")"
			return 1
		fi
		sleep 0.02
	done
	kill -KILL "$pa"
	now_us t_kill
	wait "$pa" 2>/dev/null
	"$POOLTOP" --headless -q --redis "$CL_URL" --batch rc --host b -j 2 --lease 2s \
		--retries 1 --builtin sleep:50 </dev/null >/dev/null 2>"$T/b.err" &
	pb=$!
	BG_PIDS=("$pb")
	wait "$pb"
	rb=$?
	BG_PIDS=()
	"$POOLTOP" collect --redis "$CL_URL" --batch rc --results "$T/rc.json" >/dev/null 2>"$T/err"
	if [ "$rb" -ne 0 ] || [ "$(wc -l <"$T/rc.json")" -ne 200 ]; then
		FAIL="host b: exit status $rb, $(wc -l <"$T/rc.json") results of 200: $(cl_err "$T/b.err")"
		return 1
	fi
	first=$(grep '"host":"b"' "$T/rc.json" | grep '"deliveries":2[,}]' |
		sed -n 's/.*"start":\([0-9.]*\).*/\1/p' | sort -n | head -n 1)
	if [ -z "$first" ]; then
		FAIL="no item of host a was recorded by host b with deliveries 2"
		return 1
	fi
	RECLAIM_MS=$(awk -v s="$first" -v k="$t_kill" 'BEGIN { printf "%.0f", (s * 1e6 - k) / 1e3 }')
}

# cl_num RATE: 12,345 (n/a when empty).
cl_num() { if [ -n "$1" ]; then fmt "$1" items/s | sed 's,/s$,,'; else echo n/a; fi; }

# cl_ratio NAME RATE TARGET: "PT_RATE / RATE x (target >=TARGETx) PASS", its figure recorded;
# n/a when either is missing.
cl_ratio() {
	local x
	if [ -z "$PT_RATE" ] || [ -z "$2" ]; then
		echo "n/a (target >=${3}x) n/a"
		return
	fi
	x=$(awk -v a="$PT_RATE" -v b="$2" 'BEGIN { printf "%.2f", a / b }')
	fig cluster-ratios "pooltop/$1" "$x" x
	echo "$(fmt "$x" x) (target >=${3}x) $(verdict "$x" ">=" "$3")"
}

bench_cluster() {
	local have_peers=1 miss=() p rq_v=- celery_v=- pt=() r
	echo
	echo "9. Across machines: one batch in a private Redis (Unix socket, no persistence), 2 hosts x 2"
	echo "   workers on this machine; RQ and Celery on the same Redis as the peers"
	if ! have redis-server || ! have redis-cli; then
		echo "bench: redis-server is missing: apt-get install -y redis-server"
		apt_install "$T/apt.log" redis-server
	fi
	if ! have redis-server || ! have redis-cli; then
		echo "  n/a (redis-server is not installed and could not be)"
		return 0
	fi
	for p in python3-rq python3-celery; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			miss+=("$p")
	done
	if [ "${#miss[@]}" -gt 0 ]; then
		echo "bench: ${miss[*]} missing: apt-get install -y ${miss[*]}"
		apt_install "$T/apt.log" "${miss[@]}"
	fi
	# Run as modules of that interpreter: Debian's python3-celery has no celery command.
	if ! [ -x "$CL_PY" ] || ! "$CL_PY" -c 'import rq.cli, celery' 2>/dev/null; then
		have_peers=0
		echo "bench: python3-rq and python3-celery are not installed and could not be: RQ and" \
			"Celery are skipped"
		[ -s "$T/apt.log" ] && sed 's/^/    apt: /' "$T/apt.log" | tail -n 3
	else
		rq_v=$("$CL_PY" -c 'import rq; print(rq.__version__)' 2>/dev/null)
		celery_v=$("$CL_PY" -c 'import celery; print(celery.__version__)' 2>/dev/null)
	fi
	cl_redis_start || {
		echo "  n/a ($FAIL)"
		return 0
	}
	echo "   redis-server $(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p'), RQ $rq_v," \
		"Celery $celery_v"
	cl_peer_files

	local lbl
	lbl="pooltop, $(commas "$N_CLUSTER") items (noop), 2 hosts x -j 2"
	for ((r = 1; r <= CL_RUNS; r++)); do
		cl_pooltop || break
		pt+=("$CL_RATE")
		cl_cli flushall >/dev/null
	done
	PT_RATE=
	if [ "${#pt[@]}" -gt 0 ]; then
		PT_RATE=$(printf '%s\n' "${pt[@]}" | sort -g | awk '{ v[NR] = $1 } END {
			printf "%.1f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
		fig "cluster-noop_$(sz "$N_CLUSTER")" pooltop-2x2 "$PT_RATE" items/s
		printf '  %-56s %10s   (median of %d: %s)   target >=%s %s\n' "$lbl" \
			"$(fmt "$PT_RATE" items/s)" "${#pt[@]}" \
			"$(for r in "${pt[@]}"; do printf '%s ' "$(fmt "$r" items/s)"; done | sed 's/ $//')" \
			"$(fmt 50000 items/s)" "$(verdict "$PT_RATE" ">=" 50000)"
	else
		printf '  %-56s n/a (%s)\n' "$lbl" "$FAIL"
	fi

	local rqd='' rqs='' cel=''
	if [ "$have_peers" = 1 ]; then
		lbl="RQ, $(commas "$N_RQ") jobs, 4 x rq worker --burst"
		if cl_rq "$N_RQ"; then
			rqd=$RQ_RATE
			fig "cluster-rq_$(sz "$N_RQ")" rq-4-workers "$rqd" items/s
			printf '  %-56s %10s\n' "$lbl" "$(fmt "$rqd" items/s)"
		else
			printf '  %-56s n/a (%s)\n' "$lbl" "$FAIL"
		fi
		lbl="RQ, $(commas "$N_RQ_SIMPLE") jobs, the same, -w rq.worker.SimpleWorker"
		if cl_rq "$N_RQ_SIMPLE" rq.worker.SimpleWorker; then
			rqs=$RQ_RATE
			fig "cluster-rq-simpleworker_$(sz "$N_RQ_SIMPLE")" rq-4-workers "$rqs" items/s
			printf '  %-56s %10s\n' "$lbl" "$(fmt "$rqs" items/s)"
		else
			printf '  %-56s n/a (%s)\n' "$lbl" "$FAIL"
		fi
		lbl="Celery, $(commas "$N_CELERY") tasks, 2 x celery worker -c 2"
		if cl_celery; then
			cel=$CELERY_RATE
			fig "cluster-celery_$(sz "$N_CELERY")" celery-2x2 "$cel" items/s
			printf '  %-56s %10s\n' "$lbl" "$(fmt "$cel" items/s)"
		else
			printf '  %-56s n/a (%s)\n' "$lbl" "$FAIL"
		fi
	fi
	echo "  pooltop $(cl_num "$PT_RATE") items/s, RQ $(cl_num "$rqd") jobs/s (SimpleWorker" \
		"$(cl_num "$rqs")), Celery $(cl_num "$cel") jobs/s:"
	echo "    pooltop/RQ = $(cl_ratio rq "$rqd" 10), pooltop/Celery = $(cl_ratio celery "$cel" 3)"
	echo "    (pooltop/RQ with SimpleWorker = $(cl_ratio rq-simpleworker "$rqs" 10))"
	echo "  Rates: pooltop from the hosts' start to both exiting (submit not counted); RQ from the"
	echo "  workers' start to all exiting (enqueue not counted); Celery from the first send to the"
	echo "  last result (workers started and answering a ping before; sending counted)."

	lbl="reclaim: SIGKILL of host a (--lease 2s) to b running its item"
	if cl_reclaim; then
		fig cluster-reclaim-lease-2s pooltop "$RECLAIM_MS" ms
		printf '  %-56s %10s   target <=%s %s\n' "$lbl" "$(fmt "$RECLAIM_MS" ms)" \
			"$(fmt 3000 ms)" "$(verdict "$RECLAIM_MS" "<=" 3000)"
	else
		printf '  %-56s n/a (%s)\n' "$lbl" "$FAIL"
	fi
	cl_redis_stop
}

# --- the figures, and the change against the last run -------------------------------------
bench_end() {
	echo
	# Anything else running skews every figure above: say how busy the machine was.
	echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (at the start: $LOAD0)."
	if [ -s "$RESULTS" ]; then
		echo "Change against the previous run ($RESULTS, $(date -r "$RESULTS" '+%Y-%m-%d %H:%M')):"
		awk -F '\t' "$AWKLIB"'
			NR == FNR { old[$1 FS $2] = $3; next }
			($1 FS $2) in old && old[$1 FS $2] + 0 != 0 {
				o = old[$1 FS $2]; n++
				printf "  %-26s %-54s %12s -> %-12s %+6.1f%%\n", $1, $2, fmt(o, $4), fmt($3, $4),
					($3 - o) / o * 100
			}
			END { if (!n) print "  no figure in common" }' "$RESULTS" "$T/figures"
	else
		echo "No previous run in $RESULTS to compare with."
	fi
	if cp "$T/figures" "$RESULTS.tmp.$$" && mv "$RESULTS.tmp.$$" "$RESULTS"; then
		echo "Figures written to $RESULTS ($(wc -l <"$RESULTS") lines)."
	else
		echo "bench: cannot write $RESULTS" >&2
		exit 1
	fi
	exit 0
}

if [ "$ONLY" = cluster ]; then
	bench_cluster
	bench_end
fi

# --- 1. trivial items ------------------------------------------------------------------------
pt_square() { "$POOLTOP" --headless -q -j 2 --builtin square -a "$IN" >"$OUT"; }
pt_square_dash() { dashboard_run "$POOLTOP" --exit-when-done -j 2 --builtin square -a "$IN"; }
py_map() { py map "$IN" >"$OUT"; }
py_map1() { py map1 "$IN" >"$OUT"; }
py_imap1() { py imap1 "$IN" >"$OUT"; }
py_manual() { py manual "$IN" >"$OUT"; }

group_begin "square_$(sz "$N_SQUARE")" \
	"1. Trivial items: square over $(commas "$N_SQUARE") integers, 2 workers"
contestant pooltop-headless "pooltop --builtin square --headless" "$POOLTOP" "$N_SQUARE" lines \
	pt_square rate 5000000
contestant pooltop-dashboard "pooltop --builtin square, dashboard (tmux)" "$POOLTOP" \
	"$N_SQUARE" lines pt_square_dash
contestant python-map "python Pool(2).map" python3 "$N_SQUARE" lines py_map
contestant "python-map-chunksize1-$(sz "$N_SLOW")" "python Pool(2).map chunksize=1" python3 \
	"$N_SLOW" lines py_map1
contestant "python-imap_unordered-chunksize1-$(sz "$N_SLOW")" \
	"python Pool(2).imap_unordered chunksize=1" python3 "$N_SLOW" lines py_imap1
contestant "python-manual-queue-$(sz "$N_SLOW")" "python Queue+2 Process+poison pill (seed 2)" \
	python3 "$N_SLOW" lines py_manual
note "The chunksize=1 and Queue rows move one item per message and run on $(commas "$N_SLOW") items; their rates compare."
note "The dashboard run is timed inside its tmux pane (time stamps before and after pooltop)."
group_run

# --- 2. a command per item -------------------------------------------------------------------
# Each starts from no joblog (GNU parallel truncates its own; pooltop's may append).
# shellcheck disable=SC2016 # $1 is for the sh that runs per item.
{
	pt_true() {
		rm -f "$T/pooltop.joblog"
		"$POOLTOP" --headless -q -j 2 --joblog "$T/pooltop.joblog" -- true <"$IN" >"$OUT"
	}
	xargs_true() { xargs -P 2 -n 1 true <"$IN" >"$OUT"; }
	par_true() {
		rm -f "$T/parallel.joblog"
		parallel --will-cite -j 2 --joblog "$T/parallel.joblog" true <"$IN" >"$OUT"
	}
	pt_echo() {
		rm -f "$T/pooltop.joblog"
		"$POOLTOP" --headless -q -j 2 --joblog "$T/pooltop.joblog" -- sh -c 'echo $1' _ \
			<"$IN" >"$OUT"
	}
	xargs_echo() { xargs -P 2 -n 1 sh -c 'echo $1' _ <"$IN" >"$OUT"; }
	par_echo() {
		rm -f "$T/parallel.joblog"
		parallel --will-cite -j 2 --joblog "$T/parallel.joblog" -q sh -c 'echo $1' _ \
			<"$IN" >"$OUT"
	}
}
# (--will-cite: no citation notice; it changes nothing measured.)

group_begin "true_$(sz "$N_CMD")" "2a. A command per item: true over $(commas "$N_CMD") items, 2 at a time"
contestant pooltop "pooltop -- true (--joblog)" "$POOLTOP" "$N_CMD" - pt_true
contestant xargs "xargs -P 2 -n 1 true" xargs "$N_CMD" - xargs_true ratio 1.2
contestant parallel "parallel -j 2 true (--joblog)" parallel "$N_CMD" - par_true ratio 4
group_run

group_begin "sh-echo_$(sz "$N_CMD")" \
	"2b. A command per item: sh -c 'echo \$1' _ over $(commas "$N_CMD") items, 2 at a time"
contestant pooltop "pooltop -- sh -c ... (--joblog)" "$POOLTOP" "$N_CMD" lines pt_echo
contestant xargs "xargs -P 2 -n 1 sh -c ..." xargs "$N_CMD" lines xargs_echo ratio 1.2
contestant parallel "parallel -j 2 -q sh -c ... (--joblog)" parallel "$N_CMD" lines par_echo \
	ratio 4
group_run

# --- 3. persistent line workers --------------------------------------------------------------
pt_persistent() { "$POOLTOP" --headless -q -j 2 --persistent -- cat <"$IN" >"$OUT"; }
py_identity() { py identity "$IN" >"$OUT"; }
pt_inflight() { "$POOLTOP" --headless -q -j 2 --persistent --in-flight 1 -- cat <"$IN" >"$OUT"; }
# The bare pipe is a ceiling, not a tool: timed inside, without the interpreter's start-up.
py_roundtrip() {
	local rc
	py roundtrip "$IN" "$T/roundtrip.us" >"$OUT"
	rc=$?
	ELAPSED=$(cat "$T/roundtrip.us")
	return "$rc"
}

group_begin "persistent-cat_$(sz "$N_LINES")" \
	"3a. Persistent line workers: $(commas "$N_LINES") lines through 2 cat"
contestant pooltop "pooltop --persistent -- cat" "$POOLTOP" "$N_LINES" lines pt_persistent \
	rate 1000000
contestant python-imap-identity "python Pool(2).imap(identity) chunksize=1000" python3 \
	"$N_LINES" lines py_identity
group_run

group_begin "in-flight-1_$(sz "$N_RT")" \
	"3b. One line in flight per worker: $(commas "$N_RT") lines, 2 workers"
contestant pooltop "pooltop --persistent --in-flight 1 -- cat" "$POOLTOP" "$N_RT" lines \
	pt_inflight
contestant bare-pipe "bare pipe round trips (2 python + 2 cat)" python3 "$N_RT" lines \
	py_roundtrip ratio 0.8
note "The bare pipe: 2 processes, each writing a line to its own cat and reading it back;"
note "timed inside Python (time.monotonic), without the interpreter's start-up."
note "The target is on pooltop's rate over the bare pipe's: the ratio of the bare pipe's row."
group_run

# --- 4. the seed's workload ------------------------------------------------------------------
pt_sha_j1() { "$POOLTOP" --headless -q -j 1 --builtin "sha512:$SHA_ROUNDS" -a "$IN" >"$OUT"; }
pt_sha_j2() { "$POOLTOP" --headless -q -j 2 --builtin "sha512:$SHA_ROUNDS" -a "$IN" >"$OUT"; }

group_begin "sha512-${SHA_ROUNDS}x$SHA_ITEMS" \
	"4. The seed's workload: sha512:$SHA_ROUNDS over $SHA_ITEMS items, 2 workers against 1" 2
contestant pooltop-j2 "pooltop -j 2 --builtin sha512:$SHA_ROUNDS" "$POOLTOP" "$SHA_ITEMS" lines \
	pt_sha_j2
contestant pooltop-j1 "pooltop -j 1 --builtin sha512:$SHA_ROUNDS" "$POOLTOP" "$SHA_ITEMS" lines \
	pt_sha_j1 ratio 1.9
note "The ratio of the -j 1 row is the speed-up of 2 workers over 1."
group_run

# --- 5. memory -------------------------------------------------------------------------------
echo
echo "5. Memory: a pool of 4 workers, each sleeping in its item (Pss and Rss from smaps_rollup)"

# wait_children PID COUNT TIMEOUT_S: until PID has at least COUNT children; 1 on timeout or
# when PID is gone.
wait_children() {
	local end now
	now_us end
	end=$((end + $3 * 1000000))
	while [ "$(pgrep -P "$1" | wc -l)" -lt "$2" ]; do
		kill -0 "$1" 2>/dev/null || return 1
		now_us now
		[ "$now" -ge "$end" ] && return 1
		sleep 0.02
	done
	return 0
}

# mem_of PID: MEM_PSS, MEM_RSS (KB) summed over PID and its children; MEM_N processes.
mem_of() {
	local p k v kids=()
	mapfile -t kids < <(pgrep -P "$1")
	MEM_PSS=0 MEM_RSS=0 MEM_N=0
	for p in "$1" "${kids[@]}"; do
		[ -r "/proc/$p/smaps_rollup" ] || continue
		while read -r k v _; do
			case $k in
			Rss:) MEM_RSS=$((MEM_RSS + v)) ;;
			Pss:) MEM_PSS=$((MEM_PSS + v)) ;;
			esac
		done <"/proc/$p/smaps_rollup"
		MEM_N=$((MEM_N + 1))
	done
}

# stop_tree PID: SIGKILL PID, then the children it had (Python's would outlive it; pooltop's
# die with it anyway); wait for PID.
stop_tree() {
	local p kids=()
	mapfile -t kids < <(pgrep -P "$1")
	kill -KILL "$1" 2>/dev/null
	for p in "${kids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait "$1" 2>/dev/null
	BG_PIDS=()
}

# mem_measure LABEL CMD...: start CMD, wait for its 4 workers, let them settle, measure.
mem_measure() {
	local label=$1 pid
	shift
	MEM_PSS='' MEM_RSS=''
	"$@" >/dev/null 2>"$T/err" </dev/null &
	pid=$!
	BG_PIDS=("$pid")
	if ! wait_children "$pid" 4 20; then
		printf '  %-40s n/a (%s)\n' "$label" "$(first_line "$T/err" || true)"
		stop_tree "$pid"
		MEM_PSS=
		return 1
	fi
	sleep 1
	mem_of "$pid"
	stop_tree "$pid"
	printf '  %-40s Pss %10s   Rss %10s   (%d processes)\n' "$label" \
		"$(fmt "$MEM_PSS" KB)" "$(fmt "$MEM_RSS" KB)" "$MEM_N"
}

pt_pss='' pt_rss=''
if mem_measure "pooltop -j 4 --builtin sleep:60000" \
	"$POOLTOP" --headless -q -j 4 --builtin sleep:60000 ::: 1 2 3 4; then
	pt_pss=$MEM_PSS pt_rss=$MEM_RSS
	fig memory-4-workers pooltop-pss "$pt_pss" KB
	fig memory-4-workers pooltop-rss "$pt_rss" KB
fi
if [ "$HAVE_PYTHON" = 1 ]; then
	if mem_measure "python Pool(4) of time.sleep(60)" "$PYTHON" "$T/peers.py" sleep 4 60; then
		fig memory-4-workers python-pss "$MEM_PSS" KB
		fig memory-4-workers python-rss "$MEM_RSS" KB
		if [ -n "$pt_pss" ]; then
			echo "  python / pooltop: Pss $(awk -v a="$MEM_PSS" -v b="$pt_pss" 'BEGIN { printf "%.1fx", a / b }')," \
				"Rss $(awk -v a="$MEM_RSS" -v b="$pt_rss" 'BEGIN { printf "%.1fx", a / b }')"
		fi
	fi
else
	printf '  %-40s n/a (skipped: python3 is not installed)\n' "python Pool(4)"
fi
if [ -n "$pt_pss" ]; then
	echo "  pooltop + 4 workers: Pss $(fmt "$pt_pss" KB), target <=2,048 KB" \
		"$(verdict "$pt_pss" "<=" 2048); Rss $(fmt "$pt_rss" KB), target <=8,192 KB" \
		"$(verdict "$pt_rss" "<=" 8192)"
else
	echo "  pooltop + 4 workers: n/a, targets Pss <=2,048 KB, Rss <=8,192 KB: n/a"
fi

# peak_rss N: pooltop's peak RSS (KB; the largest of pooltop and its workers, as wait4 reports
# it) over a stream of N items through --builtin noop -> PEAK, and the stream's rate -> RATE.
peak_rss() {
	local n=$1 t0 t1 rc
	PEAK='' RATE=''
	now_us t0
	if [ -x /usr/bin/time ]; then
		seq 1 "$n" | /usr/bin/time -o "$T/rss" -f %M \
			"$POOLTOP" --headless -q -j 2 --builtin noop >/dev/null 2>"$T/err"
		rc=$?
	elif [ "$HAVE_PYTHON" = 1 ]; then
		seq 1 "$n" | py maxrss \
			"$POOLTOP" --headless -q -j 2 --builtin noop >/dev/null 2>"$T/rss"
		rc=$?
	else
		echo "neither /usr/bin/time nor python3" >"$T/err"
		rc=1
	fi
	now_us t1
	if [ "$rc" -ne 0 ]; then
		FAIL="pooltop: $(first_line "$T/err" | sed 's/^pooltop: //')"
		return 1
	fi
	PEAK=$(tail -n 1 "$T/rss")
	RATE=$(awk -v n="$n" -v t=$((t1 - t0)) 'BEGIN { printf "%.0f", n * 1e6 / t }')
}

PEAKS=()
for n in "$N_STREAM0" "$N_STREAM"; do
	label="pooltop peak RSS, $(commas "$n") items (noop)"
	if peak_rss "$n"; then
		printf '  %-40s %10s   (%s)\n' "$label" "$(fmt "$PEAK" KB)" "$(fmt "$RATE" items/s)"
		fig peak-rss "pooltop-noop-$(sz "$n")" "$PEAK" KB
		PEAKS+=("$PEAK")
	else
		printf '  %-40s n/a (%s)\n' "$label" "$FAIL"
	fi
done
if [ "${#PEAKS[@]}" -eq 2 ]; then
	echo "  peak RSS at $(commas "$N_STREAM") items / at $(commas "$N_STREAM0"):" \
		"$(awk -v a="${PEAKS[1]}" -v b="${PEAKS[0]}" 'BEGIN { printf "%.2fx", a / b }')" \
		"(bounded memory: about 1x)"
fi

# --- 6. the dashboard's own CPU --------------------------------------------------------------
echo
echo "6. The dashboard's own CPU: pooltop -j 64 --builtin sleep:2000 in tmux, utime+stime of"
echo "   the pooltop processes (the dashboard and the engine it forks) over ${CPU_WINDOW} s from 2 s"
echo "   after its start"

# ticks1 PID: utime + stime of PID (clock ticks), fields 14 and 15 of /proc/PID/stat.
ticks1() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2086 # split the fields on purpose.
	set -- $s
	echo $((${12} + ${13}))
}

# ticks PID: as ticks1, with the engine a dashboard forks for its batch (its child in a
# session of its own): the dashboard's cost is both processes'.
ticks() {
	local t c e
	t=$(ticks1 "$1") || return 1
	for c in $(pgrep -P "$1" 2>/dev/null); do
		[ "$(awk '{ print $6 }' "/proc/$c/stat" 2>/dev/null)" = "$c" ] || continue
		e=$(ticks1 "$c") && t=$((t + e))
	done
	echo "$t"
}

# tmux_pooltop DIR ARGS...: pooltop ARGS on a terminal (tmux), its pid in PID; 1 with FAIL set.
tmux_pooltop() {
	local d=$1
	shift
	if ! tmux_start "$d" /dev/null "$POOLTOP" "$@"; then
		FAIL="tmux new-session failed"
		return 1
	fi
	if ! wait_file "$d/pid" 10; then
		tmux_kill
		FAIL="pooltop did not start within 10 s"
		return 1
	fi
	PID=$(cat "$d/pid")
}

# cpu_window DIR: pooltop's (PID's) own CPU over CPU_WINDOW s, as % of one core, in PCT, and the
# screen at its end in SCREEN; then pooltop is stopped. 1 with FAIL set if it ended before.
cpu_window() {
	local d=$1 a b ta tb hz
	hz=$(getconf CLK_TCK)
	a=$(ticks "$PID")
	now_us ta
	sleep "$CPU_WINDOW"
	b=$(ticks "$PID")
	now_us tb
	SCREEN=$(tmux -L "$TM_SOCK" -f /dev/null capture-pane -p 2>/dev/null)
	if [ -s "$d/status" ] || [ -z "$a" ] || [ -z "$b" ]; then
		wait_file "$d/status" 2
		tmux_kill
		FAIL="pooltop: $(first_line "$d/err" | sed 's/^pooltop: //')"
		[ "$FAIL" != "pooltop: " ] ||
			FAIL="pooltop ended (status $(cat "$d/status" 2>/dev/null)) before the measurement did"
		return 1
	fi
	kill -TERM "$PID" 2>/dev/null
	wait_file "$d/status" 30
	tmux_kill
	PCT=$(awk -v d=$((b - a)) -v hz="$hz" -v t=$((tb - ta)) \
		'BEGIN { printf "%.3f", d / hz / (t / 1e6) * 100 }')
}

# dash_cpu: DASH_PCT, or 1 with FAIL set.
dash_cpu() {
	local d="$T/cpu" start now
	tmux_pooltop "$d" -j 64 --builtin sleep:2000 -a "$(input "$DASH_ITEMS")" || return 1
	now_us start
	now=$start
	while [ $((now - start)) -lt 2000000 ]; do
		sleep 0.05
		now_us now
	done
	cpu_window "$d" || return 1
	if ! printf '%s\n' "$SCREEN" | grep -Eq 'BUSY|IDLE'; then
		FAIL="no dashboard on the terminal: $(first_line "$d/err")"
		return 1
	fi
	DASH_PCT=$PCT
}

if [ "$HAVE_TMUX" != 1 ]; then
	echo "  n/a (skipped: tmux is not installed)"
elif dash_cpu; then
	echo "  pooltop's own CPU: $(fmt "$DASH_PCT" %) of one core, target <=2% $(verdict "$DASH_PCT" "<=" 2)"
	fig dashboard-cpu-64-workers pooltop "$DASH_PCT" %
else
	echo "  n/a ($FAIL)"
fi

echo
echo "6b. The dashboard's own CPU with 1024 job groups measured: pooltop -j 1024 -- sleep in tmux,"
echo "   utime+stime of the pooltop processes over ${CPU_WINDOW} s once all 1024 jobs run (the"
echo "   dashboard; the engine: supervisor, its pass over /proc each second, the socket's updates)"

# dash_cpu_wide: DASH_WIDE_PCT, or 1 with FAIL set.
dash_cpu_wide() {
	local d="$T/cpuw" end now
	# Twice the pool of items, each a sleep of 90 s: the window sees no job end or start.
	yes 90 | head -n 2048 >"$T/items.sleep90"
	tmux_pooltop "$d" -j 1024 -a "$T/items.sleep90" -- sleep || return 1
	# The pool grows to 1024 workers, each forking its sleep (the costly part, not measured).
	now_us end
	end=$((end + 120000000))
	until tmux -L "$TM_SOCK" -f /dev/null capture-pane -p 2>/dev/null | grep -q ' 1024 busy'; do
		now_us now
		if [ "$now" -ge "$end" ] || [ -s "$d/status" ]; then
			kill -TERM "$PID" 2>/dev/null
			wait_file "$d/status" 10
			tmux_kill
			FAIL="the pool did not run 1024 jobs within 120 s: $(first_line "$d/err")"
			return 1
		fi
		sleep 0.2
	done
	sleep 2 # the last forks settle, a pass over /proc has seen every group
	cpu_window "$d" || return 1
	if ! printf '%s\n' "$SCREEN" | grep -q ' 1024 busy'; then
		FAIL="pooltop stopped running its 1024 jobs during the measurement"
		return 1
	fi
	DASH_WIDE_PCT=$PCT
}

if [ "$HAVE_TMUX" != 1 ]; then
	echo "  n/a (skipped: tmux is not installed)"
elif dash_cpu_wide; then
	echo "  pooltop's own CPU: $(fmt "$DASH_WIDE_PCT" %) of one core, target <5% $(verdict "$DASH_WIDE_PCT" "<=" 5)"
	fig dashboard-cpu-1024-jobs pooltop "$DASH_WIDE_PCT" %
else
	echo "  n/a ($FAIL)"
fi

# --- 7. wide pools -----------------------------------------------------------------------------
# The same trivial items through pools of 4 to 1024 workers: a wide pool must not collapse (it
# runs them on the few workers they need), and its start and stop stay short.
pt_wide() { "$POOLTOP" --headless -q -j "$1" --builtin square <"$IN" >"$OUT"; }
pt_wide4() { pt_wide 4; }
pt_wide256() { pt_wide 256; }
pt_wide512() { pt_wide 512; }
pt_wide1024() { pt_wide 1024; }

group_begin "wide-square_$(sz "$N_WIDE")" \
	"7a. A wide pool on trivial items: square over $(commas "$N_WIDE") integers, -j 4 to -j 1024"
contestant pooltop-j4 "pooltop -j 4 --builtin square" "$POOLTOP" "$N_WIDE" lines pt_wide4
contestant pooltop-j256 "pooltop -j 256 --builtin square" "$POOLTOP" "$N_WIDE" lines pt_wide256
contestant pooltop-j512 "pooltop -j 512 --builtin square" "$POOLTOP" "$N_WIDE" lines pt_wide512
contestant pooltop-j1024 "pooltop -j 1024 --builtin square" "$POOLTOP" "$N_WIDE" lines \
	pt_wide1024 ratio_max 2
note "Items on stdin, as in: seq $N_WIDE | pooltop --headless -q -j N --builtin square."
note "ratio: the -j 4 row's rate over this row's, how many times slower the wider pool is;"
note "the target: -j 1024 within 2x of -j 4 on the same machine."
group_run

echo
echo "7b. Start and stop of a pool of 1,024 workers (median of $RUNS; a run's time is wall time)"

# median_ms US...: the median of times given in microseconds, in milliseconds.
median_ms() {
	printf '%s\n' "$@" | sort -n | awk '{ t[NR] = $1 } END {
		m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
		printf "%.0f\n", m / 1000 }'
}

# wide_row LABEL WORKLOAD TARGET_MS US...: a row of 7b and its figure.
wide_row() {
	local label=$1 workload=$2 target=$3 med
	shift 3
	if [ "$#" -eq 0 ]; then
		printf '  %-56s n/a (%s)\n' "$label" "$FAIL"
		return
	fi
	med=$(median_ms "$@")
	fig "$workload" pooltop "$med" ms
	printf '  %-56s %10s%s\n' "$label" "$(fmt "$med" ms)" \
		"${target:+   target <=$(fmt "$target" ms) $(verdict "$med" "<=" "$target")}"
}

# A batch of one item at -j 1024, end to end: the pool's start, the item, its end.
one_times=()
FAIL=
for ((r = 1; r <= RUNS; r++)); do
	now_us t0
	out=$("$POOLTOP" --headless -q -j 1024 --builtin square ::: 7 </dev/null 2>"$T/err")
	rc=$?
	now_us t1
	if [ "$rc" -ne 0 ] || [ "$out" != 49 ]; then
		FAIL="pooltop: exit status $rc, output '$out': $(first_line "$T/err")"
		one_times=()
		break
	fi
	one_times+=($((t1 - t0)))
done
wide_row "a 1-item batch at -j 1024, end to end" wide-1-item-j1024 1000 "${one_times[@]}"

# SIGTERM to a pool of 1024 workers, each busy on a slow item, until pooltop has exited (it
# terminates and reaps them all first). The time the pool took to grow to 1024 is shown too.
grow_times=() term_times=()
FAIL=
seq 1 "$N_WIDE_SLOW" >"$T/items.wide-slow"
for ((r = 1; r <= RUNS; r++)); do
	now_us t0
	"$POOLTOP" --headless -q -j 1024 --builtin sleep:60000 -a "$T/items.wide-slow" \
		</dev/null >/dev/null 2>"$T/err" &
	pid=$!
	BG_PIDS=("$pid")
	if ! wait_children "$pid" 1024 120; then
		FAIL="pooltop did not reach 1024 workers within 120 s: $(first_line "$T/err")"
		stop_tree "$pid"
		grow_times=() term_times=()
		break
	fi
	now_us t1
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	now_us t2
	BG_PIDS=()
	grow_times+=($((t1 - t0)))
	term_times+=($((t2 - t1)))
done
wide_row "1024 workers busy on sleep:60000: SIGTERM to exit" wide-sigterm-j1024 1000 \
	"${term_times[@]}"
wide_row "  (the pool grew to 1024 workers in)" wide-grow-j1024 "" "${grow_times[@]}"

# run_ns PID...: the CPU time (ns) the processes have run, from /proc/PID/schedstat (exact;
# utime and stime miss the short runs of idle workers).
run_ns() {
	local p
	for p in "$@"; do cat "/proc/$p/schedstat" 2>/dev/null; done |
		awk '{ t += $1 } END { printf "%.0f\n", t }'
}

# The CPU of a pool of 1024 idle workers: 2048 items of 1 s (the pool grows to 1024), then
# input stays open with nothing on it; pooltop and its workers measured over IDLE_S seconds.
IDLE_S=10
mkfifo "$T/idle.fifo"
"$POOLTOP" --headless -q -j 1024 --builtin sleep:1000 --results "$T/idle.results" \
	<"$T/idle.fifo" >/dev/null 2>"$T/err" &
pid=$!
BG_PIDS=("$pid")
exec 3>"$T/idle.fifo"
seq 1 2048 >&3
idle_pct=
if wait_children "$pid" 1024 120 && wait_lines "$T/idle.results" 2048 120; then
	mapfile -t kids < <(pgrep -P "$pid")
	a=$(run_ns "$pid" "${kids[@]}")
	now_us t0
	sleep "$IDLE_S"
	b=$(run_ns "$pid" "${kids[@]}")
	now_us t1
	idle_pct=$(awk -v d=$((b - a)) -v t=$((t1 - t0)) 'BEGIN { printf "%.2f", d / 1e3 / t * 100 }')
fi
exec 3>&-
stop_tree "$pid"
if [ -n "$idle_pct" ]; then
	fig wide-idle-j1024 pooltop "$idle_pct" %
	printf '  %-56s %10s of one core\n' "1024 idle workers: CPU of pooltop and its workers" \
		"$(fmt "$idle_pct" %)"
else
	printf '  %-56s n/a (%s)\n' "1024 idle workers: CPU of pooltop and its workers" \
		"the pool did not get to 1024 idle workers: $(first_line "$T/err")"
fi

# --- 8. attach -----------------------------------------------------------------------------------
echo
echo "8. Attach: a headless batch served on its socket, viewed with pooltop attach in tmux"

# frame_ms CMD...: in the terminal already open (a pane of the tmux server $TM_SOCK), from
# running CMD in it (respawn-pane) to the first frame showing the batch's 1024 workers, in ms,
# in FRAME_MS.
frame_ms() {
	local t0 t1 cmd="TERM=xterm-256color POOLTOP_TMPDIR=$(printf %q "$T")" a
	for a in "$@"; do cmd+=" $(printf %q "$a")"; done
	now_us t0
	tmux -L "$TM_SOCK" -f /dev/null respawn-pane -k -t "$TM_PANE" "$cmd" || return 1
	until tmux -L "$TM_SOCK" -f /dev/null capture-pane -p -t "$TM_PANE" 2>/dev/null |
		grep -q 'workers 1024 alive'; do
		now_us t1
		[ $((t1 - t0)) -lt 10000000 ] || return 1
	done
	now_us t1
	FRAME_MS=$(((t1 - t0) / 1000))
}

# attach_bench: ATTACH_FRAME (the median of 5), ATTACH_CPU0 and ATTACH_CPU3 (the engine's CPU
# with no viewer and with three), or 1 with FAIL set.
attach_bench() {
	local bg a b ta tb hz i ms=() v
	hz=$(getconf CLK_TCK)
	"$POOLTOP" --headless -q --name wide -j 1024 --builtin sleep:600000 -a "$(input 2048)" \
		>/dev/null 2>"$T/wide.err" &
	bg=$!
	i=0
	until "$POOLTOP" status wide 2>/dev/null | grep -q '^workers: *1024 alive of 1024, 1024 busy'; do
		i=$((i + 1))
		if [ "$i" -gt 1200 ] || ! kill -0 "$bg" 2>/dev/null; then
			kill -KILL "$bg" 2>/dev/null
			FAIL="the batch did not run 1024 workers within 120 s: $(first_line "$T/wide.err")"
			return 1
		fi
		sleep 0.1
	done
	# One terminal for all the runs: its own start is not attach's. What it costs to show a
	# line at all (a shell's printf) is measured the same way, for comparison.
	tmux_kill
	tmux -L "$TM_SOCK" -f /dev/null new-session -d -x 160 -y 50 "sleep 1000"
	TM_PANE=$(tmux -L "$TM_SOCK" -f /dev/null list-panes -F '#{pane_id}' | head -1)
	local base=()
	for i in 1 2 3 4 5; do
		if ! frame_ms "$POOLTOP" attach wide; then
			tmux_kill
			kill -KILL "$bg" 2>/dev/null
			FAIL="no frame with the 1024 workers within 10 s"
			return 1
		fi
		ms+=("$FRAME_MS")
		frame_ms sh -c 'echo "workers 1024 alive"; exec sleep 100' || return 1
		base+=("$FRAME_MS")
	done
	tmux_kill
	kill -TERM "$bg" 2>/dev/null
	wait "$bg" 2>/dev/null
	ATTACH_FRAME=$(printf '%s\n' "${ms[@]}" | sort -n | sed -n 3p)
	ATTACH_FRAMES=${ms[*]}
	ATTACH_BASE=$(printf '%s\n' "${base[@]}" | sort -n | sed -n 3p)

	"$POOLTOP" --headless -q --name busy -j 64 --builtin sleep:2000 -a "$(input 2048)" \
		>/dev/null 2>"$T/busy.err" &
	bg=$!
	i=0
	until [ -S "$T/pooltop-$(id -u)/busy.sock" ]; do
		i=$((i + 1))
		if [ "$i" -gt 500 ]; then
			kill -KILL "$bg" 2>/dev/null
			FAIL="the batch did not serve its socket: $(first_line "$T/busy.err")"
			return 1
		fi
		sleep 0.02
	done
	sleep 2
	for v in 0 3; do
		if [ "$v" = 3 ]; then
			for i in 1 2 3; do
				tmux -L "$TM_SOCK-v$i" -f /dev/null new-session -d -x 160 -y 50 \
					"TERM=xterm-256color POOLTOP_TMPDIR=$T $POOLTOP attach busy"
			done
			sleep 2
		fi
		a=$(ticks1 "$bg")
		now_us ta
		sleep "$CPU_WINDOW"
		b=$(ticks1 "$bg")
		now_us tb
		[ -n "$a" ] && [ -n "$b" ] || {
			FAIL="the batch ended before the measurement did"
			return 1
		}
		printf -v "ATTACH_CPU$v" '%s' "$(awk -v d=$((b - a)) -v hz="$hz" -v t=$((tb - ta)) \
			'BEGIN { printf "%.3f", d / hz / (t / 1e6) * 100 }')"
	done
	VIEWERS=$("$POOLTOP" status busy | sed -n 's/^viewers: *//p')
	for i in 1 2 3; do tmux -L "$TM_SOCK-v$i" -f /dev/null kill-server >/dev/null 2>&1; done
	kill -TERM "$bg" 2>/dev/null
	wait "$bg" 2>/dev/null
	return 0
}

if [ "$HAVE_TMUX" != 1 ]; then
	echo "  n/a (skipped: tmux is not installed)"
elif attach_bench; then
	echo "  pooltop attach to its first full frame, 1024 workers: $ATTACH_FRAME ms (median of 5:"
	echo "    $ATTACH_FRAMES; a shell's echo in the same terminal: $ATTACH_BASE ms), target <=200 ms"
	echo "    $(verdict "$ATTACH_FRAME" "<=" 200)"
	fig attach-first-frame-1024 pooltop "$ATTACH_FRAME" ms
	echo "  the engine's CPU, 64 busy workers: $(fmt "$ATTACH_CPU0" %) with no viewer, $(fmt "$ATTACH_CPU3" %) with"
	echo "    $VIEWERS viewers attached, target <=3% $(verdict "$ATTACH_CPU3" "<=" 3)"
	fig attach-engine-cpu-3-viewers pooltop "$ATTACH_CPU3" %
else
	echo "  n/a ($FAIL)"
fi

bench_cluster
bench_end
