#!/bin/bash
# bad_input.sh: the table of doc/bad-input.md, row by row. Each bad input gets one point:
# its exact exit status (255 for a usage error or a failure to start), nothing on stdout,
# exactly one line on stderr, "pooltop: " and the exact message the table quotes, and nothing
# half-written: a joblog that was there is left byte for byte, a results file that was not
# there is not created. The terminal side (an error leaves the terminal as it was) is
# tests/bad_input_tty.sh.
# shellcheck disable=SC2016 # messages hold '...' quotes, not expansions.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 110

SO=${TESTS_BUILD_DIR:-$TESTS_DIR}/plugin_upper.so
NOSYM=${TESTS_BUILD_DIR:-$TESTS_DIR}/plugin_nosym.so

# The files a bad run must leave alone: a joblog from an earlier run (kept byte for byte) and
# a results file that does not exist yet (not created).
KEEP="$T/keep.joblog"
NEW="$T/new.results"
printf 'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n1\t:\t1.000\t     0.000\t0\t2\t0\t0\tsquare 1\n' >"$KEEP.orig"

mkdir "$T/dir"
: >"$T/empty"
printf '1\n2\n' >"$T/items"
: >"$T/noexec"
chmod 644 "$T/noexec"
printf 'not an ELF file\n' >"$T/notelf.so"

# bad DESC STATUS MESSAGE ARGS...: pooltop ARGS, stdin from $BAD_IN (default /dev/null), must
# exit with STATUS, write nothing on stdout and exactly one line on stderr: "pooltop: MESSAGE"
# (MESSAGE compared exactly; with BAD_RE=1 it is an extended regex matched against the line
# after "pooltop: "). BAD_CLOSE=stdin or stdout runs it with that stream closed (stdout then
# cannot be looked at). With BAD_FILES=1 the run also gets --joblog $KEEP --results $NEW, first
# on the command line, and must leave $KEEP as it was and $NEW absent.
bad() {
	local desc=$1 want=$2 msg=$3 rc out err nlines why="" files=()
	shift 3
	rm -f "$NEW"
	cp "$KEEP.orig" "$KEEP"
	[ "${BAD_FILES:-0}" = 1 ] && files=(--joblog "$KEEP" --results "$NEW")
	case ${BAD_CLOSE:-} in
	stdin) pt 20 "${files[@]}" "$@" <&- >"$T/out" 2>"$T/err" ;;
	stdout) pt 20 "${files[@]}" "$@" <"${BAD_IN:-/dev/null}" >&- 2>"$T/err" ;;
	*)
		(
			[ -n "${BAD_ULIMIT_V:-}" ] && ulimit -v "$BAD_ULIMIT_V"
			pt 20 "${files[@]}" "$@" <"${BAD_IN:-/dev/null}" >"$T/out" 2>"$T/err"
		)
		;;
	esac
	rc=$?
	[ "${BAD_CLOSE:-}" = stdout ] && : >"$T/out"
	out=$(cat "$T/out")
	err=$(cat "$T/err")
	nlines=$(wc -l <"$T/err")
	[ "$rc" = "$want" ] || why+="exit status $rc, not $want; "
	[ -z "$out" ] || why+="stdout not empty; "
	[ "$nlines" -eq 1 ] || why+="$nlines lines on stderr, not 1; "
	if [ "${BAD_RE:-0}" = 1 ]; then
		[[ $err =~ ^pooltop:\ ($msg)$ ]] || why+="stderr does not match /^pooltop: ($msg)$/; "
	else
		[ "$err" = "pooltop: $msg" ] || why+="stderr is not 'pooltop: $msg'; "
	fi
	if [ "${BAD_FILES:-0}" = 1 ]; then
		cmp -s "$KEEP" "$KEEP.orig" || why+="the existing --joblog was changed; "
		[ ! -e "$NEW" ] || why+="the --results file was created; "
	fi
	if [ -z "$why" ]; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "pooltop ${files[*]} $*"
		diag "$why"
		diag "stderr: $err"
		[ -z "$out" ] || diag "stdout: $(printf '%s' "$out" | head -5)"
	fi
}

HELP='(pooltop --help lists the options)'

# --- options ----------------------------------------------------------------------------
BAD_FILES=1
bad "an unknown option" 255 "unknown option '--bogus' $HELP" --bogus --builtin square
bad "a misspelt option" 255 "unknown option '--jbos' $HELP" --jbos 4 --builtin square
bad "an unknown short option" 255 "unknown option '-x' $HELP" -x --builtin square
bad "an ambiguous abbreviation" 255 \
	"option '--re' is ambiguous: write more of its name $HELP" --re --builtin square
bad "an argument to an option that takes none" 255 "--headless takes no argument" \
	--headless=yes --builtin square
bad "-j without its argument" 255 "-j needs an argument" --builtin square -j
bad "--joblog without its argument" 255 "--joblog needs an argument" --builtin square --joblog

# --- numbers ----------------------------------------------------------------------------
bad "-j 0" 255 "-j: '0' is not a number from 1 to 1024" -j 0 --builtin square
bad "-j -1024" 255 "-j: '-1024' of $(nproc) CPU$([ "$(nproc)" = 1 ] || echo s) is under one worker" -j -1024 --builtin square
bad "-j 0%" 255 "-j: '0%' of $(nproc) CPU$([ "$(nproc)" = 1 ] || echo s) is under one worker" -j 0% --builtin square
bad "-j 1025 (past the maximum, 1024)" 255 "-j: '1025' is not a number from 1 to 1024" \
	-j 1025 --builtin square
bad "-j 4x" 255 "-j: '4x' is not a number of workers (N from 1 to 1024, N% of the CPUs, +N or -N)" -j 4x --builtin square
bad "-j ''" 255 "-j: '' is not a number of workers (N from 1 to 1024, N% of the CPUs, +N or -N)" -j '' --builtin square
bad "--jobs= (empty after =)" 255 "--jobs: '' is not a number of workers (N from 1 to 1024, N% of the CPUs, +N or -N)" \
	--jobs= --builtin square
bad "--halt soon,done=1 (a condition pooltop does not know)" 255 \
	"--halt: 'done' is not a condition pooltop knows (fail=N, fail=N%, success=N or success=N%)" \
	--halt soon,done=1 --builtin square
bad "--halt later,fail=1" 255 \
	"--halt: 'later,fail=1' is not WHEN,fail=N (WHEN: now or soon; fail=N, fail=N%, success=N, success=N%; or never, 0, 1, 2)" \
	--halt later,fail=1 --builtin square
bad "--dry-run with --joblog" 255 "--dry-run with --joblog: it would record items that never ran" \
	--dry-run --joblog "$T/dry.jl" -- echo
bad "--dry-run with a built-in" 255 \
	"--dry-run: only a command per item (-- COMMAND) has command lines to print" --dry-run --builtin square
bad "--retries -1" 255 "--retries: '-1' is not a number from 0 to 1000000" \
	--retries -1 --builtin square
bad "--retries past the maximum" 255 "--retries: '1000001' is not a number from 0 to 1000000" \
	--retries 1000001 --builtin square
bad "--retries larger than 64 bits" 255 \
	"--retries: '99999999999999999999' is not a number from 0 to 1000000" \
	--retries 99999999999999999999 --builtin square
bad "--max-items-per-worker 0" 255 \
	"--max-items-per-worker: '0' is not a number from 1 to 1000000000000" \
	--max-items-per-worker 0 --builtin square
bad "--refresh 5 (below 10 ms)" 255 "--refresh: '5' is not a number from 10 to 10000" \
	--refresh 5 --builtin square
bad "--in-flight 0" 255 "--in-flight: '0' is not a number from 1 to 64" \
	--in-flight 0 --persistent -- cat

# --- durations and the termination sequence ------------------------------------------------
DUR='(as 10, 1.5s, 200ms, 2m)'
bad "--timeout abc" 255 \
	"--timeout: 'abc' is not a duration $DUR or a percentage of the median item time (as 200%)" \
	--timeout abc --builtin square
bad "--timeout 0" 255 \
	"--timeout: '0' is not a duration $DUR or a percentage of the median item time (as 200%)" \
	--timeout 0 --builtin square
bad "--timeout 0.0001" 255 \
	"--timeout: '0.0001' is under a millisecond (the shortest is 1ms)" \
	--timeout 0.0001 --builtin square
bad "--timeout 5%%" 255 \
	"--timeout: '5%%' is not a duration $DUR or a percentage of the median item time (as 200%)" \
	--timeout 5%% --builtin square
bad "--delay abc" 255 "--delay: 'abc' is not a duration $DUR" --delay abc --builtin square
bad "--memfree 0" 255 "--memfree: '0' is not a size above 0 (as 512M, 1G, 1.5g)" \
	--memfree 0 --builtin square
bad "--memfree 1X" 255 "--memfree: '1X' is not a size above 0 (as 512M, 1G, 1.5g)" \
	--memfree 1X --builtin square
bad "--hang-after 1x" 255 "--hang-after: '1x' is not a duration $DUR" \
	--hang-after 1x --builtin square
bad "--join-timeout abc" 255 "--join-timeout: 'abc' is not a duration $DUR" \
	--join-timeout abc --builtin square
bad "--term-seq TERM (no wait after the signal)" 255 \
	"--term-seq: 'TERM': the last signal needs a wait after it (as KILL,25)" \
	--term-seq TERM --builtin square
bad "--term-seq FOO,10 (not a signal)" 255 "--term-seq: 'FOO,10': 'FOO' is not a signal" \
	--term-seq FOO,10 --builtin square
bad "--term-seq KILL,70000 (wait too long)" 255 \
	"--term-seq: 'KILL,70000': '70000' is not a wait in milliseconds from 0 to 60000" \
	--term-seq KILL,70000 --builtin square

# --- what to run ---------------------------------------------------------------------------
bad "nothing to run" 255 \
	"nothing to run: give -- COMMAND, --builtin NAME or --plugin FILE.so (pooltop --help)"
bad "an unknown builtin" 255 "--builtin: unknown builtin 'nosuch' (pooltop --help lists them)" \
	--builtin nosuch
bad "--builtin sleep:x" 255 "--builtin: builtin 'sleep': 'x' is not a number" --builtin sleep:x
bad "--builtin exit (its number missing)" 255 "--builtin: builtin 'exit' needs a number, as exit:N" \
	--builtin exit
bad "--builtin echo:3 (echo takes no argument)" 255 "--builtin: builtin 'echo' takes no argument" \
	--builtin echo:3
bad "--builtin exit:1001" 255 "--builtin: builtin 'exit': '1001' is out of range (0..1000)" \
	--builtin exit:1001
bad "--builtin and --plugin" 255 "--builtin and --plugin both say what to run; use one" \
	--builtin square --plugin "$SO"
bad "--builtin and a COMMAND" 255 "--builtin and a COMMAND both say what to run; use one" \
	--builtin square -- cat
bad "--plugin and a COMMAND" 255 "--plugin and a COMMAND both say what to run; use one" \
	--plugin "$SO" -- cat
bad "-- without a COMMAND" 255 "'--' needs a COMMAND after it" --builtin square --
bad "an empty COMMAND" 255 "the COMMAND after '--' is empty" -- '' ::: 1
bad "a COMMAND that does not exist" 255 "$T/nothere: command not found" -- "$T/nothere" ::: 1
bad "a COMMAND not on PATH" 255 "no-such-command-4711: command not found" \
	-- no-such-command-4711 ::: 1
bad "a COMMAND that is not executable" 255 "$T/noexec: not executable (Permission denied)" \
	-- "$T/noexec" ::: 1
bad "a COMMAND that is a directory" 255 "$T/dir: not executable (Permission denied)" \
	-- "$T/dir" ::: 1
bad "--persistent without a COMMAND" 255 \
	"--persistent needs a COMMAND: pooltop --persistent -- COMMAND [ARG...]" \
	--persistent --builtin square
bad "--in-flight without --persistent" 255 "--in-flight is for --persistent programs" \
	--in-flight 4 -- cat
bad "--plugin of a missing file" 255 "--plugin $T/nothere.so: No such file or directory" \
	--plugin "$T/nothere.so" ::: 1
bad "--plugin lacking pooltop_plugin_run" 255 \
	"--plugin $NOSYM: does not export pooltop_plugin_run (see pooltop-plugin.h)" \
	--plugin "$NOSYM" ::: 1
BAD_RE=1 bad "--plugin of a file that is not a shared object" 255 \
	"--plugin: $T/notelf\\.so: .+" --plugin "$T/notelf.so" ::: 1
bad "--plugin ''" 255 "--plugin: the file name is empty" --plugin '' ::: 1

# --- where the items come from ----------------------------------------------------------------
bad "::: with no items" 255 "':::' needs at least one item" --builtin square :::
bad "-a and ::: together" 255 "-a and ::: both give the items; use one" \
	--builtin square -a "$T/items" ::: 1
bad "a stray word" 255 \
	"unexpected argument 'stray' (items go on stdin, in -a FILE, or after ::: or ::::; a COMMAND goes after --)" \
	--builtin square stray
bad "-a ''" 255 "-a: the file name is empty" --builtin square -a ''
bad ":::+" 255 "':::+' is not supported (to pair input sources use --link)" \
	--builtin square ::: 1 :::+ 2
bad "::::+" 255 "'::::+' is not supported (to pair input sources use --link)" \
	--builtin square ::: 1 ::::+ "$T/items"
bad ":::: with no file" 255 "'::::' needs at least one file" --builtin square ::: 1 ::::
bad ":::: - twice" 255 "':::: -' can read standard input only once" --builtin square :::: - -
bad "a :::: file missing" 255 ":::: $T/missing: No such file or directory" \
	--builtin square ::: 1 :::: "$T/missing"
BAD_RE=1 bad "--colsep of a bad regex" 255 "--colsep: 'a\\(' is not a valid regular expression: .+" \
	--colsep 'a(' --builtin square ::: 1
bad "--colsep with several sources" 255 \
	"--colsep with several input sources is not supported (give one ::: or :::: source)" \
	--colsep , --builtin square ::: 1 ::: 2
bad "-a twice" 255 "-a given twice: several input files are given as :::: FILE FILE..." \
	--builtin square -a "$T/items" -a "$T/items"
bad "--header" 255 "unknown option '--header' (pooltop --help lists the options)" \
	--header : --builtin square ::: 1

# --- the files ------------------------------------------------------------------------------
BAD_FILES=0
bad "--resume without --joblog" 255 "--resume needs --joblog FILE" --resume --builtin square
bad "--resume-failed without --joblog" 255 "--resume-failed needs --joblog FILE" \
	--resume-failed --builtin square
# A later --joblog or --results wins over the one bad() puts first: the one that stays must
# still be left alone.
BAD_FILES=1
bad "-a of a missing file (an existing joblog kept, no results file made)" 255 \
	"-a $T/nothere: No such file or directory" --headless --builtin square -a "$T/nothere"
bad "-a of a directory" 255 "-a $T/dir: Is a directory" --headless --builtin square -a "$T/dir"
BAD_IN=$T/dir bad "a directory on stdin" 255 "standard input: Is a directory" \
	--headless --builtin square
bad "--joblog in a directory that does not exist" 255 \
	"--joblog $T/nodir/j: No such file or directory" \
	--headless --joblog "$T/nodir/j" --builtin square ::: 1
bad "--joblog a directory" 255 "--joblog $T/dir: Is a directory" \
	--headless --joblog "$T/dir" --builtin square ::: 1
bad "--results in a directory that does not exist (an existing joblog kept)" 255 \
	"--results $T/nodir/r: No such file or directory" \
	--headless --results "$T/nodir/r" --builtin square ::: 1
bad "--results a directory" 255 "--results $T/dir: Is a directory" \
	--headless --results "$T/dir" --builtin square ::: 1
bad "--events in a directory that does not exist (an existing joblog kept)" 255 \
	"--events $T/nodir/e: No such file or directory" \
	--headless --events "$T/nodir/e" --builtin square ::: 1
bad "--events a directory" 255 "--events $T/dir: Is a directory" \
	--headless --events "$T/dir" --builtin square ::: 1
bad "--results under a file" 255 "--results $T/items/r: Not a directory" \
	--headless --results "$T/items/r" --builtin square ::: 1
# Files that would block: a FIFO nobody reads, a joblog to read back that is not a file.
mkfifo "$T/fifo"
bad "--joblog a FIFO nobody reads" 255 "--joblog $T/fifo: a FIFO that nobody reads" \
	--headless --joblog "$T/fifo" --builtin square ::: 1
bad "--results a FIFO nobody reads" 255 "--results $T/fifo: a FIFO that nobody reads" \
	--headless --results "$T/fifo" --builtin square ::: 1
bad "--resume with --joblog a FIFO" 255 \
	"--joblog $T/fifo: not a regular file (--resume reads the joblog back)" \
	--headless --joblog "$T/fifo" --resume --builtin square ::: 1
# Too little memory to start (ulimit -v): one line, no file touched. (Not under ASan, whose
# shadow memory needs far more address space than any limit that lets pooltop start.)
if ! sanitized; then
	BAD_ULIMIT_V=12000 bad "ulimit -v too tight to start" 255 \
		"cannot set up the pool: Cannot allocate memory" \
		--headless --builtin square ::: 1
else
	ok "ulimit -v too tight to start # SKIP under AddressSanitizer"
fi
printf 'Seq\tExitval\n1\t0\n' >"$T/foreign.joblog"
{
	head -2 "$KEEP.orig"
	echo 'garbage in the middle'
	tail -1 "$KEEP.orig"
} >"$T/corrupt.joblog"
cp "$T/foreign.joblog" "$T/foreign.joblog.orig"
cp "$T/corrupt.joblog" "$T/corrupt.joblog.orig"
bad "--resume with a joblog that is not one (another header)" 255 \
	"--joblog $T/foreign.joblog: line 1: not a joblog (expected GNU parallel's header)" \
	--headless --joblog "$T/foreign.joblog" --resume --builtin square ::: 1
bad "--resume-failed with a joblog with garbage in the middle" 255 \
	"--joblog $T/corrupt.joblog: line 3: malformed joblog row" \
	--headless --joblog "$T/corrupt.joblog" --resume-failed --builtin square ::: 1
# shellcheck disable=SC2317 # called through check.
kept() { cmp -s "$T/foreign.joblog" "$T/foreign.joblog.orig" && cmp -s "$T/corrupt.joblog" "$T/corrupt.joblog.orig"; }
check "...and both joblogs are left as they were" kept
bad "--joblog the file given to -a" 255 "--joblog $T/items: that is the file the items are read from" \
	--headless --joblog "$T/items" --builtin square -a "$T/items"
BAD_IN=$T/items bad "--results the file on stdin" 255 \
	"--results $T/items: that is the file the items are read from" \
	--headless --results "$T/items" --builtin square
BAD_FILES=0
bad "--joblog standard output (a file)" 255 \
	"--joblog /dev/stdout: that is standard output, where the outputs go (give another file)" \
	--headless --joblog /dev/stdout --builtin square ::: 1
bad "--joblog and --results the same file" 255 \
	"--joblog $T/same and --results $T/same are the same file: give each its own" \
	--headless --joblog "$T/same" --results "$T/same" --builtin square ::: 1
is "$(cat "$T/items")|$([ -e "$T/same" ] && echo made || echo absent)" "$(printf '1\n2\n')|absent" \
	"...the items are left as they were, and no file is made for --joblog and --results"
pt 20 --headless --joblog "$T/fresh.joblog" --results "$T/nodir/r" --builtin square ::: 1 \
	</dev/null >/dev/null 2>&1
is "$?:$([ -e "$T/fresh.joblog" ] && echo made || echo absent)" "255:absent" \
	"a new --joblog is not left behind when --results cannot be opened"

# --- a full disk: found while the batch runs, which goes on; reported once, exit 255 -----------
# full_disk DESC STDOUT ERR_LINES ARGS...: pooltop ARGS exits 255, its stdout (unless it is
# /dev/full itself) is STDOUT, its stderr exactly ERR_LINES ('|' between lines).
full_disk() {
	local desc=$1 want_out=$2 want_err=$3 rc out err
	shift 3
	if [ ! -w /dev/full ]; then
		ok "$desc # SKIP no /dev/full"
		return
	fi
	pt 20 "$@" </dev/null >"$T/out" 2>"$T/err"
	rc=$?
	out=$(tr '\n' '|' <"$T/out")
	err=$(tr '\n' '|' <"$T/err" | sed -E 's/in [0-9.]+ s \([0-9]+ items\/s\)/in S/g')
	is "$rc:$out:$err" "255:$want_out:$want_err" "$desc"
}
full_disk "--results /dev/full, -q: the one line, exit 255" "1|" \
	"pooltop: --results /dev/full: No space left on device (further rows are not written)|" \
	--headless -q --results /dev/full --builtin square ::: 1
full_disk "--results /dev/full: the line, then the summary" "1|" \
	"pooltop: --results /dev/full: No space left on device (further rows are not written)|pooltop: 1 done, 0 failed in S|" \
	--headless --results /dev/full --builtin square ::: 1
full_disk "--joblog /dev/full, -q: the one line, exit 255" "1|" \
	"pooltop: --joblog /dev/full: No space left on device (further rows are not written)|" \
	--headless -q --joblog /dev/full --builtin square ::: 1
if [ -w /dev/full ]; then
	pt 20 --headless -q --builtin square ::: 1 </dev/null >/dev/full 2>"$T/err"
	is "$?:$(cat "$T/err")" "255:pooltop: writing standard output: No space left on device (further output is not written)" \
		"standard output on a full disk, -q: the one line, exit 255"
else
	ok "standard output on a full disk # SKIP no /dev/full"
fi

# --- the standard streams ----------------------------------------------------------------------
BAD_FILES=1
BAD_CLOSE=stdout bad "standard output closed (>&-)" 255 \
	"standard output is closed: the items' outputs go there (give >/dev/null to drop them)" \
	--headless --builtin square ::: 1
BAD_CLOSE=stdin bad "standard input closed (<&-) when the items come there" 255 \
	"standard input is closed: give the items there, in -a FILE or after :::" \
	--headless --builtin square
BAD_FILES=0
pt 20 --headless -q --builtin square ::: 3 <&- >"$T/out" 2>"$T/err"
is "$?:$(cat "$T/out"):$(cat "$T/err")" "0:9:" "standard input closed with the items after ::: is no error"

# --- the demo --------------------------------------------------------------------------------
BAD_FILES=0
bad "demo foo" 255 "demo: unknown demo 'foo' (try: pooltop demo, pooltop demo exitcodes)" demo foo
bad "demo with --builtin" 255 "--builtin cannot be used with demo (the demo runs its own workers)" \
	demo --builtin square
bad "demo with items after :::" 255 \
	"demo: unexpected argument ':::' (the demo runs its own workers on its own items)" \
	demo ::: 1
bad "demo with -a" 255 "-a cannot be used with demo (the demo makes its own items)" \
	demo -a "$T/items"

# --- not errors: an empty input is an empty batch ------------------------------------------------
BAD_RE=1 bad "an empty input on stdin: exit 0, the summary says 0 done" 0 \
	'0 done, 0 failed in [0-9.]+ s \(0 items/s\)' --headless --builtin square
BAD_RE=1 bad "an empty input file: exit 0, 0 done" 0 \
	'0 done, 0 failed in [0-9.]+ s \(0 items/s\)' --headless --builtin square -a "$T/empty"
cp "$T/empty" "$T/empty.joblog"
pt 20 --headless -q --builtin square --joblog "$T/empty.joblog" --resume ::: 3 </dev/null \
	>"$T/out" 2>"$T/err"
rc=$?
is "$rc:$(cat "$T/out"):$(wc -l <"$T/err"):$(cut -f1,9 "$T/empty.joblog" | tr '\t\n' ' |')" \
	"0:9:0:Seq Command|1 square 3|" \
	"--resume with an empty joblog: a first run (exit 0, the header and the row written)"

pt 20 --headless -q --builtin square --joblog "$T/first.joblog" --resume ::: 4 </dev/null \
	>"$T/out" 2>"$T/err"
rc=$?
is "$rc:$(cat "$T/out"):$(wc -l <"$T/err"):$(cut -f1,9 "$T/first.joblog" | tr '\t\n' ' |')" \
	"0:16:0:Seq Command|1 square 4|" \
	"--resume with a joblog that does not exist yet: a first run"

exit 0
