# tests/lib.sh: shared helpers for pooltop's integration scripts (sourced, bash).
#
# Each script is run by automake's TAP driver with POOLTOP=/abs/path/to/pooltop and
# TESTS_DIR=/abs/path/to/tests, or by hand:
#     POOLTOP=./pooltop TESTS_DIR=tests bash tests/headless.sh
#
# What it gives:
#   plan N                      print the TAP plan
#   ok DESC / not_ok DESC       a passing / failing point (numbered by a counter)
#   check DESC CMD...           a point that passes when CMD succeeds
#   is GOT EXPECTED DESC        a point comparing two strings (shows both on failure)
#   like TEXT REGEX DESC        a point matching TEXT against an extended REGEX (grep -E)
#   unlike TEXT REGEX DESC      the opposite
#   at_exit CMD                 run CMD (a string) at exit, before the temp dir is removed
#   diag TEXT...                a "# " diagnostic line per line of TEXT
#   wait_for CMD TIMEOUT_S      poll CMD (a string, eval'ed) every 20 ms until it succeeds;
#                               1 if TIMEOUT_S (scaled) passed first. Never a fixed sleep.
#   scaled S, scaled_ms MS      S seconds, MS milliseconds times POOLTOP_TEST_SCALE (below)
#   pt TIMEOUT_S ARGS...        run pooltop bounded by timeout (TERM, then KILL 5 s later;
#                               both scaled)
#   ptname                      make a uniquely named symlink to pooltop: $PT (path) and
#                               $PT_NAME (its name, the comm of pooltop and of its workers,
#                               so `pgrep -x "$PT_NAME"` finds exactly this test's processes)
#   ptu TIMEOUT_S ARGS...       as pt, through $PT
#   main_pid, our_procs, live_procs, zombies_of_ours, no_procs_left, no_live_procs,
#   children PID, nchildren PID process helpers (see below)
#   storm N JOBS INTERVAL_S TIMEOUT_S MAX_S   the kill storm (storm.sh, soak.sh)
#   T                           a private temp dir, removed on exit
#   sanitized                   true when $POOLTOP is built with ASan (memory figures void)
#   peak_rss FILE CMD...        run CMD; its peak RSS in KiB to FILE; CMD's exit status
#   json_* helpers (python3)    see below
#
# The time scale: POOLTOP_TEST_SCALE (default 1; a positive number, fractions allowed)
# multiplies every deadline a test waits up to, as libuv's UV_TEST_TIMEOUT_MULTIPLIER does
# (tests/scale.h is the same for the C tests; .ci/run raises it on a loaded machine):
#   - wait_for, pt, ptu and tmux_lib.sh's waits scale their TIMEOUT_S themselves: give them
#     the time on a quiet machine;
#   - a promise of speed checked by hand ("ends within 2 s") compares with scaled_ms 2000;
#   - an item whose duration races what the test looks at (it must still be running) lasts
#     scaled_ms N;
#   - a window in which something must never happen (paused: no item starts) scales too:
#     the same window of the program's time on a slower machine;
#   - a lower bound the program promises (an item of 300 ms takes at least 300 ms, a
#     --timeout does not fire early) is never scaled: a slow machine cannot break it.
# Points name the deadline at scale 1 ("within 2 s"); a script with failures says the scale.
# shellcheck disable=SC2016 # wait_for takes code in single quotes, evaluated later.
set -u

# --- the binary ----------------------------------------------------------------------
if [ -z "${POOLTOP:-}" ]; then
	echo "Bail out! POOLTOP is not set (POOLTOP=/path/to/pooltop bash $0)"
	exit 1
fi
case $POOLTOP in
/*) ;;
*) POOLTOP="$(cd "$(dirname "$POOLTOP")" && pwd)/$(basename "$POOLTOP")" ;;
esac
export POOLTOP
: "${TESTS_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
export TESTS_DIR
# A number of this run for the sleeps that tests find by name: runs of the suite in other
# trees at the same time must not see each other's.
L=$((3000000 + $$))

# --- the time scale ------------------------------------------------------------------------
: "${POOLTOP_TEST_SCALE:=1}"
if ! [[ $POOLTOP_TEST_SCALE =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)$ ]] ||
	! awk -v s="$POOLTOP_TEST_SCALE" 'BEGIN { exit !(s > 0) }'; then
	echo "Bail out! POOLTOP_TEST_SCALE='$POOLTOP_TEST_SCALE' is not a positive number (as 1, 2.5)"
	exit 1
fi
export POOLTOP_TEST_SCALE

# scaled S: S seconds times the scale, as a decimal number (for timeout, pooltop's options,
# python); S itself at scale 1.
scaled() {
	if [ "$POOLTOP_TEST_SCALE" = 1 ]; then
		echo "$1"
		return
	fi
	awk -v t="$1" -v s="$POOLTOP_TEST_SCALE" 'BEGIN {
		v = sprintf("%.6f", t * s); sub(/0+$/, "", v); sub(/\.$/, "", v); print v }'
}

# scaled_ms MS: MS milliseconds times the scale, a whole number of milliseconds.
scaled_ms() {
	if [ "$POOLTOP_TEST_SCALE" = 1 ]; then
		echo "$1"
		return
	fi
	awk -v t="$1" -v s="$POOLTOP_TEST_SCALE" 'BEGIN { printf "%d\n", t * s + 0.5 }'
}

# --- TAP -----------------------------------------------------------------------------
_tap_n=0
_tap_failed=0
_tap_planned=

plan() {
	_tap_planned=$1
	echo "1..$1"
}

diag() {
	local line
	while IFS= read -r line; do
		printf '# %s\n' "$line"
	done <<<"$*"
}

ok() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $*"
}

not_ok() {
	_tap_n=$((_tap_n + 1))
	_tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $*"
}

# check DESC CMD...: passes when CMD exits 0.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# is GOT EXPECTED DESC
is() {
	if [ "$1" = "$2" ]; then
		ok "$3"
	else
		not_ok "$3"
		diag "   got: '$(printf '%s' "$1" | head -c 2000)'"
		diag "  want: '$(printf '%s' "$2" | head -c 2000)'"
	fi
}

# like TEXT REGEX DESC (extended regex, matched against any line of TEXT)
like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok "$3"
	else
		not_ok "$3"
		diag "   got: '$(printf '%s' "$1" | head -c 2000)'"
		diag "  want: /$2/"
	fi
}

# unlike TEXT REGEX DESC
unlike() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		not_ok "$3"
		diag "   got: '$(printf '%s' "$1" | head -c 2000)'"
		diag "  must not match: /$2/"
	else
		ok "$3"
	fi
}

_tap_end() {
	if [ -n "$_tap_planned" ] && [ "$_tap_n" -ne "$_tap_planned" ]; then
		diag "planned $_tap_planned points, ran $_tap_n"
	fi
	if [ "$_tap_failed" -gt 0 ]; then
		diag "$_tap_failed of $_tap_n points failed (POOLTOP_TEST_SCALE=$POOLTOP_TEST_SCALE)"
	fi
}

# --- temp dir, clean-up ----------------------------------------------------------------
T=$(mktemp -d "${TMPDIR:-/tmp}/pooltop-test.XXXXXX") || {
	echo "Bail out! cannot make a temp dir"
	exit 1
}
# The batches' sockets (pooltop ls, attach): this test's own, not the user's.
export POOLTOP_TMPDIR=$T
# python3 as the interpreter itself, first in PATH: a version manager's shim (pyenv's, on these
# machines) starts some 40 processes at each call, and the tests call python3 hundreds of times.
_py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
if [ -n "$_py" ] && [ -x "$_py" ] && mkdir "$T/bin" && ln -s "$_py" "$T/bin/python3"; then
	PATH=$T/bin:$PATH
fi
unset _py
_cleanup_hooks=()
# at_exit CMD: run CMD (a string) at exit, before the temp dir goes.
at_exit() { _cleanup_hooks+=("$1"); }
_cleanup() {
	local h
	for h in "${_cleanup_hooks[@]+"${_cleanup_hooks[@]}"}"; do
		eval "$h" >/dev/null 2>&1 || true
	done
	# Any process of ours still running under the unique name: kill it (by pid).
	if [ -n "${PT_NAME:-}" ]; then
		local p
		for p in $(pgrep -x "$PT_NAME" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null || true
		done
	fi
	rm -rf "$T"
}
trap '_tap_end; _cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- waiting -----------------------------------------------------------------------------
# wait_for CMD TIMEOUT_S: poll CMD (poll_nap) until it succeeds (0) or TIMEOUT_S (scaled)
# passes (1).
wait_for() {
	local cmd=$1 limit nap_ms=10
	limit=$(deadline_us "$2")
	while :; do
		if eval "$cmd"; then return 0; fi
		past_us "$limit" && return 1
		poll_nap
	done
}

# poll_nap: the pause between two looks of a wait, from the caller's local nap_ms (start it at
# 10): 10 ms, then doubling up to 50 ms. A wait sees a change at once, and a long one looks 20
# times a second at most: each look starts processes (a process start costs ~5 ms of CPU on
# these machines), and the CPU is the tested program's.
poll_nap() {
	sleep "0.0$nap_ms"
	nap_ms=$((nap_ms * 2 > 50 ? 50 : nap_ms * 2))
}

# past_us T: now_us is T or later (no fork).
past_us() {
	local t=${EPOCHREALTIME/[.,]/}
	((10#$t >= $1))
}

# now_us: the time in microseconds (no fork).
now_us() {
	local t=${EPOCHREALTIME/[.,]/}
	echo "$((10#$t))"
}

# deadline_us TIMEOUT_S: now_us when TIMEOUT_S (scaled) will have passed.
deadline_us() {
	local us
	us=$(awk -v t="$1" -v s="$POOLTOP_TEST_SCALE" 'BEGIN { printf "%d", t * s * 1e6 }')
	echo $(($(now_us) + us))
}

# The binary may be rebuilt by someone else at any moment: wait (bounded) until it exists.
wait_binary() {
	wait_for '[ -x "$POOLTOP" ]' 60 || {
		diag "$POOLTOP did not appear within $(scaled 60) s"
		return 1
	}
}

# sanitized: true when $POOLTOP is built with AddressSanitizer: its memory figures then mean
# nothing (shadow memory, the quarantine of freed blocks).
sanitized() { grep -aq __asan_init "$POOLTOP" 2>/dev/null; }

# peak_rss FILE CMD...: run CMD and write its peak resident set in KiB (the largest of it and of
# the descendants it waited for) to FILE. Exit status: CMD's (128+N for signal N). python3 rather
# than /usr/bin/time, which bootstrap does not install.
peak_rss() {
	python3 -c '
import os, resource, signal, sys
pid = os.fork()
if pid == 0:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, st = os.waitpid(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st))
' "$@"
}

# --- running pooltop ---------------------------------------------------------------------
# pt TIMEOUT_S ARGS...: run pooltop, bounded (TIMEOUT_S scaled). Exit status as pooltop's, 124
# on a timeout.
pt() {
	local t
	t=$(scaled "$1")
	shift
	wait_binary
	timeout -k "$(scaled 5)" "$t" "$POOLTOP" "$@"
}

# ptname: make the unique symlink $PT (named $PT_NAME, <= 15 chars so it is the comm).
ptname() {
	PT_NAME="pt$$x$RANDOM"
	PT_NAME=${PT_NAME:0:15}
	PT="$T/$PT_NAME"
	ln -sf "$POOLTOP" "$PT"
}

# ptu TIMEOUT_S ARGS...: as pt, through the unique symlink.
ptu() {
	local t
	t=$(scaled "$1")
	shift
	wait_binary
	timeout -k "$(scaled 5)" "$t" "$PT" "$@"
}

# our_procs: the pids of processes running under the unique name (pooltop and workers).
our_procs() { pgrep -x "$PT_NAME" 2>/dev/null; }
# no_procs_left: true when no process of ours remains.
no_procs_left() { ! pgrep -x "$PT_NAME" >/dev/null 2>&1; }

# main_pid: the pid of pooltop itself (the process under the unique name whose parent is
# not), empty when none.
main_pid() {
	local p pp
	for p in $(pgrep -x "$PT_NAME" 2>/dev/null); do
		pp=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null) || continue
		[ "$(cat "/proc/$pp/comm" 2>/dev/null)" = "$PT_NAME" ] || {
			echo "$p"
			return 0
		}
	done
	return 0
}

# live_procs: as our_procs, without zombies (a dead process its parent has not reaped yet;
# once its parent is gone, PID 1 reaps it, which in some containers takes seconds).
live_procs() {
	local p
	for p in $(pgrep -x "$PT_NAME" 2>/dev/null); do
		[ "$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)" = Z ] || echo "$p"
	done
	return 0
}
# no_live_procs: true when no live (non-zombie) process of ours remains.
no_live_procs() { [ -z "$(live_procs)" ]; }

# children PID: the pids of PID's children (one per line).
children() { pgrep -P "$1" 2>/dev/null; }
# nchildren PID: how many children PID has.
nchildren() { pgrep -c -P "$1" 2>/dev/null || true; }

# zombies_of_ours: pids of zombie processes under the unique name.
zombies_of_ours() {
	local p st
	for p in $(pgrep -x "$PT_NAME" 2>/dev/null); do
		st=$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)
		[ "$st" = Z ] && echo "$p"
	done
	return 0
}

# check_squares FILE N DESC: a point: json_check_squares FILE N, its verdict as diagnostics.
check_squares() {
	local v
	if v=$(json_check_squares "$1" "$2" "${4:-square}" 2>&1); then
		ok "$3"
		diag "$(printf '%s\n' "$v" | head -1)"
	else
		not_ok "$3"
		diag "$v"
	fi
}

# --- a gate: items that run until the test lets them end -------------------------------------
# `--plugin "$GATE"` runs each item as tests/plugin_gate.c does: it waits for a shared lock on
# $T/gate. gate_hold takes that lock exclusively (fd 5), so every item started blocks until
# gate_open: a test acts on running items however slowly the machine gets there, then the batch
# ends at once instead of after a duration chosen to outlast the test's keys.
GATE="${TESTS_BUILD_DIR:-$TESTS_DIR}/plugin_gate.so:$T/gate"
gate_hold() {
	: >"$T/gate"
	exec 5<"$T/gate"
	flock -x 5
}
gate_open() {
	flock -u 5
	exec 5<&-
}

# --- JSON (--results files, one object per line) ----------------------------------------
# json_field FILE SEQ KEY: the value of KEY in the object whose seq is SEQ (JSON text for
# strings is printed raw; booleans as true/false). Empty when absent.
json_field() {
	python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
path, seq, key = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path, encoding="utf-8", errors="surrogateescape") as f:
    for line in f:
        if not line.strip():
            continue
        o = json.loads(line)
        if o.get("seq") == seq:
            v = o.get(key)
            if isinstance(v, bool):
                print("true" if v else "false")
            elif v is not None:
                print(v, end="" if isinstance(v, str) else "\n")
            break
EOF
}

# json_get FILE SEQ KEY...: the values of KEYs in the object whose seq is SEQ, on one line,
# separated by spaces ("-" for a missing key or object). One python3 run for all keys.
json_get() {
	python3 - "$@" <<'EOF'
import json, sys
path, seq, keys = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
o = {}
try:
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                if d.get("seq") == seq:
                    o = d
                    break
except OSError:
    pass
def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)
print(" ".join(fmt(o.get(k)) for k in keys))
EOF
}

# json_count FILE: number of objects in FILE.
json_count() {
	python3 - "$1" <<'EOF'
import json, sys
n = 0
with open(sys.argv[1], encoding="utf-8", errors="surrogateescape") as f:
    for line in f:
        if line.strip():
            json.loads(line)
            n += 1
print(n)
EOF
}

# json_seqs FILE: the seqs in FILE, sorted, space-separated.
json_seqs() {
	python3 - "$1" <<'EOF'
import json, sys
s = []
with open(sys.argv[1], encoding="utf-8", errors="surrogateescape") as f:
    for line in f:
        if line.strip():
            s.append(json.loads(line)["seq"])
print(" ".join(str(x) for x in sorted(s)))
EOF
}

# json_valid FILE: every line is a JSON object with the documented keys.
json_valid() {
	python3 - "$1" <<'EOF'
import json, sys
keys = {"seq", "item", "worker", "pid", "exitcode", "signal", "status", "attempts",
        "start", "runtime", "output"}
bad = 0
with open(sys.argv[1], encoding="utf-8", errors="surrogateescape") as f:
    for i, line in enumerate(f, 1):
        try:
            o = json.loads(line)
        except ValueError as e:
            print(f"line {i}: not JSON: {e}", file=sys.stderr)
            bad += 1
            continue
        missing = keys - set(o)
        if missing:
            print(f"line {i}: missing {sorted(missing)}", file=sys.stderr)
            bad += 1
        elif o["status"] not in ("done", "failed"):
            print(f"line {i}: status {o['status']!r}", file=sys.stderr)
            bad += 1
sys.exit(1 if bad else 0)
EOF
}

# json_check_squares FILE N: every seq 1..N exactly once, status done, output seq^2.
# Prints a one-line verdict (and details on stderr); exit 0 when all good.
json_check_squares() {
	python3 - "$1" "$2" "${3:-square}" <<'EOF'
import json, sys
path, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
# square: item N gives N*N. echo: item N gives N. demo: as square, but every 100th item is
# "segv", which must fail (with -11, or -9/-15 when the storm hit its last attempt).
def want_item(s):
    return "segv" if mode == "demo" and s % 100 == 0 else str(s)
count = bytearray(n + 1)  # times each seq was seen (saturating at 255)
extra, wrong_out, not_done, bad_item, bad_lines, total = [], [], [], [], 0, 0
with open(path, encoding="utf-8", errors="surrogateescape") as f:
    for line in f:
        try:
            o = json.loads(line)
        except ValueError:
            bad_lines += 1
            continue
        total += 1
        s = o.get("seq")
        if not (isinstance(s, int) and 1 <= s <= n):
            extra.append(s)
            continue
        if count[s] < 255:
            count[s] += 1
        if o.get("item") != want_item(s):
            bad_item.append(s)
        if want_item(s) == "segv":
            if o.get("status") != "failed" or o.get("exitcode") not in (-11, -9, -15):
                wrong_out.append((s, o.get("status"), o.get("exitcode")))
        elif o.get("status") != "done":
            not_done.append((s, o.get("status"), o.get("exitcode"), o.get("attempts")))
        elif o.get("output") != (f"{s}\n" if mode == "echo" else f"{s * s}\n"):
            wrong_out.append((s, o.get("output")))
missing = [s for s in range(1, n + 1) if count[s] == 0]
dups = [s for s in range(1, n + 1) if count[s] > 1]
ok = not (missing or dups or extra or wrong_out or not_done or bad_item or bad_lines)
print(f"{total} results, {len(missing)} missing, {len(dups)} duplicated, "
      f"{len(extra)} unknown seqs, {len(not_done)} not done, {len(wrong_out)} wrong outputs, "
      f"{len(bad_item)} wrong items, {bad_lines} unparsable lines")
for name, lst in (("missing", missing), ("duplicated", dups), ("unknown", extra),
                  ("not done", not_done), ("wrong output", wrong_out), ("wrong item", bad_item)):
    if lst:
        print(f"{name}: {lst[:10]}", file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
}

# --- the kill storm (storm.sh, soak.sh) ---------------------------------------------------
# killer NAME INTERVAL_S OUTFILE READYFILE: writes READYFILE, waits (up to 30 s, scaled) for
# pooltop to start under the unique NAME (the process named NAME whose parent is not), then SIGKILLs
# a random live child of it every INTERVAL_S seconds until it is gone; writes "kills tries
# seconds" to OUTFILE. A child is signalled through a pidfd after checking that it is still
# pooltop's child, alive and a worker (the leader of its own process group), so a recycled pid
# is never hit, a zombie is not counted, and a sanitizer's helper task is left alone.
killer() {
	python3 - "$@" "$(scaled 30)" <<'EOF'
import os, random, signal, sys, time
name, interval, out, ready = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
start_s = float(sys.argv[5])  # how long to wait for pooltop to start
# KILLER_SIGS: the signals to pick from, as KILL,TERM,STOP; a STOPped worker is sent CONT
# 2 to 10 ms later.
sigs = [getattr(signal, "SIG" + x) for x in os.environ.get("KILLER_SIGS", "KILL").split(",")]
stopped = {}  # pid -> when to continue it

def stat(p):
    with open(f"/proc/{p}/stat") as f:
        s = f.read()
    r = s.rindex(")")
    fields = s[r + 2:].split()
    return s[s.index("(") + 1:r], fields[0], int(fields[1])  # comm, state, ppid

def comm(p):
    try:
        with open(f"/proc/{p}/comm") as f:
            return f.read().rstrip("\n")
    except OSError:
        return None

def find_main():
    for d in os.listdir("/proc"):
        if d.isdigit() and comm(d) == name:
            try:
                _, st, pp = stat(d)
            except (OSError, ValueError):
                continue
            if comm(pp) != name and st not in "ZX":
                return int(d)
    return None

with open(ready, "w") as f:
    f.write("ready\n")
pid = None
deadline = time.monotonic() + start_s
while pid is None and time.monotonic() < deadline:
    pid = find_main()
    if pid is None:
        time.sleep(0.0005)
if pid is None:
    with open(out, "w") as f:
        f.write("0 0 0 pooltop-not-found\n")
    sys.exit(0)

# KILLER_ENGINE=1: pooltop is a dashboard that forks its batch's engine (a child in a session of
# its own): the workers to kill are the engine's.
if os.environ.get("KILLER_ENGINE") == "1":
    engine = None
    while engine is None and time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                for c in f.read().split():
                    with open(f"/proc/{c}/stat") as g:
                        fields = g.read().rsplit(")", 1)[1].split()
                    if int(fields[3]) == int(c) and comm(c) == name:
                        engine = int(c)
        except (OSError, ValueError):
            pass
        if engine is None:
            time.sleep(0.0005)
    if engine is not None:
        pid = engine

children_file = f"/proc/{pid}/task/{pid}/children"
have_children_file = os.path.exists(children_file)

def children():
    if have_children_file:
        with open(children_file) as f:
            return [int(x) for x in f.read().split()]
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if stat(int(d))[2] == pid:
                    kids.append(int(d))
            except (OSError, ValueError):
                pass
    return kids

kills = tries = 0
killed = set()
t0 = time.monotonic()
while True:
    try:
        c0, state, _ = stat(pid)
        if c0 != name or state in "ZX":
            break
        kids = children()
    except (OSError, ValueError):
        break
    # A worker already killed may take a moment to become a zombie: do not count it twice.
    kids = [k for k in kids if k not in killed]
    if kids:
        c = random.choice(kids)
        tries += 1
        try:
            fd = os.pidfd_open(c)
        except OSError:
            fd = -1
        if fd >= 0:
            try:
                _, st, pp = stat(c)
                # Workers lead their own process group; any other child of pooltop (under
                # ASan, LeakSanitizer's tracer at exit) is not a worker and is left alone.
                if pp == pid and st not in "ZX" and os.getpgid(c) == c and c not in stopped:
                    sig = random.choice(sigs)
                    signal.pidfd_send_signal(fd, sig)
                    kills += 1
                    if sig == signal.SIGSTOP:
                        stopped[c] = time.monotonic() + random.uniform(0.002, 0.010)
                    else:
                        killed.add(c)
                    if len(killed) > 4096:
                        killed.clear()
            except OSError:
                pass
            finally:
                os.close(fd)
    now = time.monotonic()
    for c, when in list(stopped.items()):
        if now >= when:
            try:
                os.kill(c, signal.SIGCONT)
            except OSError:
                pass
            del stopped[c]
    time.sleep(interval)
for c in stopped:
    try:
        os.kill(c, signal.SIGCONT)
    except OSError:
        pass
with open(out, "w") as f:
    f.write(f"{kills} {tries} {time.monotonic() - t0:.2f}\n")
EOF
}

# storm N JOBS INTERVAL_S TIMEOUT_S MAX_S: the kill storm through the binary, as 10 TAP points:
# seq N through --builtin square -j JOBS --retries 1000000 --results, while a random worker
# is SIGKILLed every INTERVAL_S from before the first worker starts to the end; pooltop
# bounded by TIMEOUT_S, and run at a lower priority (nice) so that the killer keeps its pace
# on a small machine; the batch should end within MAX_S. TIMEOUT_S and MAX_S are scaled.
# Needs ptname first.
# Knobs: STORM_KIND (an array: what runs, default --builtin square), STORM_MODE (square, echo:
# the output is the item, demo: every 100th item is "segv" and must fail), STORM_RETRIES,
# KILLER_SIGS (KILL,TERM,STOP...: the signals picked at random; STOP is followed by CONT).
storm() {
	local n=$1 jobs=$2 interval=$3 max_s=$5 tmo max_ms rc t0 t1 kpid kills tries el ndied z live
	tmo=$(scaled "$4")
	# A sanitized build runs items several times slower: a fifth of them still makes a storm
	# of thousands of kills, and the suite's time under ASan stays reasonable.
	if sanitized; then
		n=$(((n + 4) / 5))
		diag "sanitized build: $n items"
	fi
	# A sanitized build takes milliseconds to start a worker: killed more often than that, no
	# worker ever reaches an item (10,000 items: 91 items/s with a kill every 0.6 ms, 32,000/s
	# every 3 ms). A kill every 1.5 ms at the least keeps it a storm (hundreds a second).
	if sanitized && awk -v i="$interval" 'BEGIN { exit !(i < 0.0015) }'; then
		interval=0.0015
		diag "sanitized build: a kill every $interval s (before the time scale)"
	fi
	max_ms=$(scaled_ms $((max_s * 1000)))
	rm -f "$T/storm.results" "$T/storm.kills" "$T/storm.ready"
	# A kill every INTERVAL of the program's time: on a slower machine (or a sanitized build)
	# a worker's start takes longer, so the interval scales with the deadlines.
	killer "$PT_NAME" "$(scaled "$interval")" "$T/storm.kills" "$T/storm.ready" &
	kpid=$!
	at_exit "kill -KILL \$(pgrep -P $kpid) $kpid"
	wait_for '[ -s "$T/storm.ready" ]' 30 || diag "the killer did not start"
	wait_binary
	t0=$(now_us)
	local mode=${STORM_MODE:-square}
	local -a kind=(--builtin square)
	[ -n "${STORM_KIND+set}" ] && kind=("${STORM_KIND[@]}")
	if [ "$mode" = demo ]; then
		seq "$n" | awk '{ print ($1 % 100 == 0) ? "segv" : $1 }'
	else
		seq "$n"
	fi | nice -n "${STORM_NICE:-10}" timeout -k "$(scaled 5)" "$tmo" "$PT" --headless -j "$jobs" \
		--retries "${STORM_RETRIES:-1000000}" --results "$T/storm.results" "${kind[@]}" \
		>"$T/storm.out" 2>"$T/storm.err"
	rc=$?
	t1=$(now_us)
	# Right after pooltop exits: nothing of it may remain (its workers reaped, none alive).
	live=$(live_procs | tr '\n' ' ')
	z=$(zombies_of_ours | tr '\n' ' ')
	# The killer stops by itself once pooltop is gone; bounded anyway.
	wait_for '! kill -0 "$kpid" 2>/dev/null' 35 || kill -KILL "$kpid" 2>/dev/null
	wait "$kpid" 2>/dev/null
	read -r kills tries el _ <"$T/storm.kills" 2>/dev/null || kills=0
	ndied=$(grep -Ec 'exited -(9|15)' "$T/storm.err")
	diag "$n items, -j $jobs, a kill every ${interval} s: $(((t1 - t0) / 1000)) ms," \
		"${kills:-0} SIGKILLs sent (${tries:-0} tries) in ${el:-0} s, $ndied 'exited -9' events," \
		"exit status $rc"
	diag "summary: $(grep -a ' done, ' "$T/storm.err" | tail -1)"

	local nsegv=0
	[ "$mode" = demo ] && nsegv=$((n / 100))
	is "$rc" "$(((nsegv > 100) ? 101 : nsegv))" \
		"storm: pooltop exits $nsegv (every item done but the $nsegv segv ones; 124 is a timeout)"
	if [ $((t1 - t0)) -le $((max_ms * 1000)) ]; then
		ok "storm: the batch ends within $max_s s ($(((t1 - t0) / 1000)) ms)"
	else
		not_ok "storm: the batch ends within $max_s s ($(((t1 - t0) / 1000)) ms)"
		diag "the limit at POOLTOP_TEST_SCALE=$POOLTOP_TEST_SCALE: $max_ms ms"
		diag "$(grep -c 'keeps dying' "$T/storm.err") crash-loop back-offs, the longest:" \
			"$(grep -ao 'next start in [0-9.]* s' "$T/storm.err" | sort -k4 -n | tail -1)"
	fi
	check_squares "$T/storm.results" "$n" "storm: every seq 1..$n exactly once in --results, done, output right ($mode)" "$mode"
	if cmp -s <(sort -n "$T/storm.out") <(seq "$n" | awk -v m="$mode" '
		m == "demo" && $1 % 100 == 0 { next }
		{ if (m == "echo") print $1; else printf "%.0f\n", $1 * $1 }' | sort -n); then
		ok "storm: stdout holds exactly the outputs of the items done"
	else
		not_ok "storm: stdout holds exactly the outputs of the items done"
		diag "$(wc -l <"$T/storm.out") lines on stdout"
	fi
	if [ "${kills:-0}" -gt 10 ]; then
		ok "storm: workers were killed during the run (${kills} SIGKILLs sent)"
	else
		not_ok "storm: workers were killed during the run (${kills:-0} SIGKILLs sent)"
	fi
	if [ "$ndied" -gt 10 ]; then
		ok "storm: stderr reports the killed workers ($ndied 'exited -9/-15')"
	else
		not_ok "storm: stderr reports the killed workers ($ndied 'exited -9/-15')"
		diag "$(tail -5 "$T/storm.err")"
	fi
	is "$(grep -c '"status":"failed"' "$T/storm.results")" "$nsegv" \
		"storm: no item failed but the $nsegv segv ones (the others were retried)"
	is "$live" "" "storm: no pooltop or worker process alive after pooltop exits"
	is "$z" "" "storm: no zombie left after pooltop exits"
	if wait_for no_procs_left 5; then
		ok "storm: no process of the run left at all"
	else
		not_ok "storm: no process of the run left at all"
		diag "$(ps -o pid,ppid,stat,args -p "$(our_procs | paste -sd,)" 2>&1)"
	fi
}
