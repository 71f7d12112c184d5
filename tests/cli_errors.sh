#!/bin/bash
# cli_errors.sh: every usage error exits 255 with exactly one line on stderr, starting
# "pooltop: " and naming what is wrong, and nothing on stdout; --help and --version work.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 25

echo 7 >"$T/items"

# usage_error DESC REGEX ARGS...: pooltop ARGS must fail as a usage error whose one stderr
# line matches REGEX (after the "pooltop: " prefix).
usage_error() {
	local desc=$1 re=$2 rc out err nlines why=
	shift 2
	pt 10 "$@" </dev/null >"$T/out" 2>"$T/err"
	rc=$?
	out=$(cat "$T/out")
	err=$(cat "$T/err")
	nlines=$(wc -l <"$T/err")
	[ "$rc" -eq 255 ] || why+="exit status $rc, not 255; "
	[ -z "$out" ] || why+="stdout not empty; "
	[ "$nlines" -eq 1 ] || why+="$nlines lines on stderr, not 1; "
	case $err in "pooltop: "*) ;; *) why+="stderr does not start with 'pooltop: '; " ;; esac
	printf '%s\n' "$err" | grep -Eq -- "^pooltop:.*($re)" || why+="message does not match /$re/; "
	if [ -z "$why" ]; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "pooltop $*"
		diag "$why"
		diag "stderr: $err"
		[ -z "$out" ] || diag "stdout: $out"
	fi
}

usage_error "unknown option" "--bogus" --bogus --builtin square
usage_error "-j 0" "(^| )-j( |:)|--jobs" -j 0 --builtin square
usage_error "-j -4096 (fewer than no CPUs)" "(^| )-j( |:)|--jobs" -j -4096 --builtin square
usage_error "-j 1025" "(^| )-j( |:)|--jobs" -j 1025 --builtin square
usage_error "-j abc" "(^| )-j( |:)|--jobs" -j abc --builtin square
usage_error "-j without its argument" "(^| )-j( |:)|--jobs" --builtin square -j
usage_error "--retries x" "--retries" --retries x --builtin square
usage_error "--builtin nosuch" "--builtin.*nosuch|nosuch.*--builtin" --builtin nosuch
usage_error "--builtin exit without its argument" "--builtin.*exit" --builtin exit
usage_error "--builtin echo:3 (echo takes no argument)" "--builtin.*echo" --builtin echo:3
usage_error "no --builtin" "--builtin" ::: 1
usage_error "--resume without --joblog" "--resume.*--joblog" --builtin square --resume
usage_error "--join-timeout abc" "--join-timeout" --builtin square --join-timeout abc
usage_error "-a /nonexistent names the file" "/nonexistent" --builtin square -a /nonexistent
usage_error "-a FILE and ::: together" "-a.*:::|:::.*-a" --builtin square -a "$T/items" ::: x
usage_error "a stray word" "stray" --builtin square stray
usage_error "-- COMMAND (not supported yet)" "COMMAND|command" --builtin square -- cmd
usage_error "submit without --redis" "submit needs --redis" submit --batch b ::: x
usage_error "collect without --batch" "collect needs --batch" collect --redis redis://h
usage_error "submit --redis with a bad URL" "--redis: 'redis://h:0': the port" \
	submit --redis redis://h:0 --batch b ::: x
usage_error "collect --batch with a bad name" "--batch: 'a/b' is not a batch name" \
	collect --redis redis://h --batch a/b

# --help: exit 0, on stdout, names every builtin.
pt 10 --help </dev/null >"$T/out" 2>"$T/err"
rc=$?
is "$rc" 0 "--help exits 0"
missing=
for b in square noop echo sleep sha512 exit raises abort segv hang spin fail demo \
	exit_error exit_ok return_value terminated; do
	grep -Eq "(^|[^a-z_])$b([^a-z_]|$)" "$T/out" || missing+=" $b"
done
is "$missing" "" "--help names every builtin"

# --version: "pooltop X.Y..." on stdout, exit 0.
pt 10 --version </dev/null >"$T/out" 2>"$T/err"
rc=$?
is "$rc" 0 "--version exits 0"
like "$(cat "$T/out")" '^pooltop [0-9]+\.[0-9]+' "--version prints 'pooltop' and a version"

exit 0
