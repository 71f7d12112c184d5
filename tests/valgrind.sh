#!/bin/sh
# tests/valgrind.sh: run one cmocka test binary under valgrind's memcheck; its TAP passes
# through unchanged, so automake's TAP driver reads it as under `make check`.
#
#     tests/valgrind.sh tests/test_queue [ARG...]       (make check-valgrind runs each one)
#
# Every process is checked, not just the test's own: the forked ones run pooltop's worker code
# and the queue's consumers (a fork stays under valgrind; an exec'd program, a command item's
# job, does not: --trace-children=no). Each process logs to its own file; one with an error
# (memcheck marks each between VALGRIND-ERROR markers: invalid reads and writes, uninitialised
# values, definitely lost blocks) makes this script exit 99 after printing its log on stderr,
# which the TAP driver keeps in the test's .vg.log and reports as an ERROR. Otherwise the exit
# status is the test's. Without valgrind the binary is skipped (a TAP plan of 1..0).
#
# VALGRIND (default valgrind) is the command; VALGRIND_SUPP the suppressions (default
# valgrind.supp beside this script); VALGRIND_FLAGS more options. A binary still running after
# VALGRIND_TIMEOUT seconds (default 150 times POOLTOP_TEST_SCALE, at least 150: the slowest, the
# pool's tests, take about a minute at scale 2 and wait on items of scaled durations) is killed
# with everything it started, and fails with 124: a hang under valgrind must not hold up CI for
# its whole budget.
set -u
here=$(dirname "$0")
VALGRIND=${VALGRIND:-valgrind}
VALGRIND_SUPP=${VALGRIND_SUPP:-$here/valgrind.supp}

[ $# -ge 1 ] || { echo "usage: $0 TEST-BINARY [ARG...]" >&2; exit 2; }
if ! command -v "$VALGRIND" >/dev/null 2>&1; then
	echo "1..0 # SKIP $VALGRIND is not installed"
	exit 0
fi

# Under memcheck a process runs 10 to 50 times slower, and one that dies of a signal does its
# leak check first: every deadline gets ten times the scale, and the tests know (POOLTOP_VALGRIND)
# to leave out what measures the machine rather than memory (pools of 1024 workers).
limit=$(awk -v s="${POOLTOP_TEST_SCALE:-1}" 'BEGIN { t = int(150 * s); print (t < 150 ? 150 : t) }')
POOLTOP_TEST_SCALE=$(awk -v s="${POOLTOP_TEST_SCALE:-1}" 'BEGIN { print s * 10 }')
export POOLTOP_TEST_SCALE POOLTOP_VALGRIND=1

logs=$(mktemp -d "${TMPDIR:-/tmp}/pooltop-valgrind.XXXXXX") || exit 2
trap 'rm -rf "$logs"' EXIT

# timeout puts the run in a process group of its own, which a Ctrl-C at the terminal does not
# reach: a signal to this script is passed on through timeout, which signals the whole group.
# The run is in the background only to be waited for; it keeps this script's stdin (fd 3).
exec 3<&0
# shellcheck disable=SC2086 # VALGRIND_FLAGS is a list of options.
timeout -k 10 "${VALGRIND_TIMEOUT:-$limit}" "$VALGRIND" --tool=memcheck -q \
	--error-exitcode=99 --error-markers=VALGRIND-ERROR-BEGIN,VALGRIND-ERROR-END \
	--leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
	--track-fds=no --trace-children=no --child-silent-after-fork=no --num-callers=30 \
	--suppressions="$VALGRIND_SUPP" --log-file="$logs/pid.%p" ${VALGRIND_FLAGS:-} "$@" \
	<&3 3<&- &
run=$!
exec 3<&-
stopped=0
trap 'stopped=130; kill -TERM "$run" 2>/dev/null' INT
trap 'stopped=143; kill -TERM "$run" 2>/dev/null' TERM
wait "$run"
status=$?
while kill -0 "$run" 2>/dev/null; do # wait returns early when a signal is trapped
	wait "$run"
	status=$?
done
[ "$stopped" -eq 0 ] || exit "$stopped"

bad=$(grep -l VALGRIND-ERROR-BEGIN "$logs"/pid.* 2>/dev/null)
nproc=$(find "$logs" -name 'pid.*' | wc -l)
nbad=$(printf '%s' "$bad" | grep -c .)
echo "# valgrind: processes checked: $nproc, with errors: $nbad" >&2
if [ -n "$bad" ]; then
	for f in $bad; do
		echo "# valgrind: errors in process ${f##*/pid.}:" >&2
		cat "$f" >&2
	done
	[ "$status" -ne 0 ] || status=99
elif [ "$status" -ne 0 ]; then
	# No memcheck error, but the run failed: show what valgrind itself said (a process it
	# saw die of a signal, an instruction it does not know...).
	for f in "$logs"/pid.*; do
		[ -s "$f" ] || continue
		echo "# valgrind: process ${f##*/pid.}:" >&2
		cat "$f" >&2
	done
fi
exit "$status"
