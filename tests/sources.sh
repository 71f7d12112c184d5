#!/bin/bash
# sources.sh: several input sources as GNU parallel's: repeated ::: and :::: (a file, - for
# standard input) cross, {1}..{N} and their path forms, --link, --colsep, the joblog's Command,
# --results' item and columns, --resume, and the one-line errors for the forms not supported.
# The expected lines are what GNU parallel 20221122 runs; where parallel is installed the same
# runs are also compared with it directly (else those points are skipped).
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 39

# run ARGS...: pooltop headless, in input order, its stdout (stderr to $T/err).
run() { pt 20 --headless -q -k -j 2 "$@" 2>"$T/err"; }
# commands JOBLOG: its Command column in Seq order.
commands() { tail -n +2 "$1" | sort -n -k1,1 | cut -f9; }

printf 'f1\nf2\n' >"$T/f"
printf 'a,b\nc,d,e\n' >"$T/csv"
printf 'a\tb c\nd\te\n' >"$T/tsv"

# --- the cross product ------------------------------------------------------------------
out=$(run --joblog "$T/jl1" -- echo {1}-{2} ::: a b ::: x y </dev/null)
is "$out" "$(printf 'a-x\na-y\nb-x\nb-y')" "::: a b ::: x y, echo {1}-{2}: the last source varies fastest"
is "$(commands "$T/jl1")" "$(printf 'echo a-x\necho a-y\necho b-x\necho b-y')" \
	"...and the joblog's Command is what ran"
out=$(run --joblog "$T/jl2" -- echo ::: a b ::: x y </dev/null)
is "$out" "$(printf 'a x\na y\nb x\nb y')" "plain echo: each value appended"
is "$(commands "$T/jl2")" "$(printf 'echo a x\necho a y\necho b x\necho b y')" \
	"...as arguments of their own in the joblog's Command"
out=$(run -- printf '<%s>' ::: 'a b' ::: '' </dev/null)
is "$out" "<a b><>" "each value is one argument, byte for byte, an empty one too"
out=$(run -- echo {} ::: a b ::: x </dev/null)
is "$out" "$(printf 'a x\nb x')" "{} is the values joined with a space"

# --- :::: FILE and :::: - ----------------------------------------------------------------
out=$(run -- echo {} :::: "$T/f" </dev/null)
is "$out" "$(printf 'f1\nf2')" ":::: FILE: its lines"
out=$(printf 's1\ns2\n' | run -- echo {} :::: -)
is "$out" "$(printf 's1\ns2')" ":::: -: standard input"
out=$(printf 's1\ns2\n' | run -- echo {1} {2} {3} :::: "$T/f" - ::: z)
is "$out" "$(printf 'f1 s1 z\nf1 s2 z\nf2 s1 z\nf2 s2 z')" ":::: FILE - ::: z mixed, crossed in order"
out=$(run -- echo {1}{2} ::: a ::: b <&-)
is "$out" "ab" "several ::: sources do not need standard input"
pt 10 --headless -- echo {1}{2} ::: a :::: - <&- >"$T/out" 2>"$T/err"
is "$?:$(cat "$T/err")" "255:pooltop: standard input is closed: give the items there, in -a FILE or after :::" \
	"...but :::: - does"
out=$(run --builtin echo ::: a b ::: x </dev/null)
is "$out" "$(printf 'a x\nb x')" "a built-in gets the values joined with a space"

# --- the path forms ---------------------------------------------------------------------
out=$(run -- echo {2/} {1.} {1/.} {2//} ::: d/a.txt ::: /x/y.z </dev/null)
is "$out" "y.z d/a a /x" "{2/} {1.} {1/.} {2//}"

# --- --link ------------------------------------------------------------------------------
out=$(run --link -- echo {1}{2} ::: a b c ::: x y z </dev/null)
is "$out" "$(printf 'ax\nby\ncz')" "--link pairs sources of equal lengths"
out=$(run --link -- echo {1}{2} ::: a b c d e ::: x y </dev/null)
is "$out" "$(printf 'ax\nby\ncx\ndy\nex')" "--link: a shorter source wraps around"

# --- --colsep ----------------------------------------------------------------------------
out=$(run --colsep ',' -- echo {2} {1} <"$T/csv")
is "$out" "$(printf 'b a\nd c')" "--colsep ',' with {2} {1}"
out=$(run --colsep '\t' -- echo {2} {1} <"$T/tsv")
is "$out" "$(printf 'b c a\ne d')" "--colsep '\\t' with {2} {1}"
out=$(printf 'a,,b,,\n' | run --colsep ',' -- printf '[%s]')
is "$out" "[a][][b][][]" "--colsep keeps empty columns, at the end too"
out=$(run --colsep ',' --joblog "$T/jl3" -- echo :::: "$T/csv" </dev/null)
is "$out" "$(printf 'a b\nc d e')" "--colsep without {N}: each column an argument"
is "$(commands "$T/jl3")" "$(printf 'echo a b\necho c d e')" "...in the joblog's Command too"

# --- --results ---------------------------------------------------------------------------
run --results "$T/res" -- echo {1}-{2} ::: a b ::: 'x y' z </dev/null >/dev/null
res=$(cat "$T/res")
like "$res" '"seq":1,"item":"a x y","columns":\["a","x y"\],' "--results: item is the values joined, columns each value"
like "$res" '"seq":4,"item":"b z","columns":\["b","z"\],' "...for every combination"
run --results "$T/res2" --colsep ',' -- echo {1} <"$T/csv" >/dev/null
like "$(cat "$T/res2")" '"seq":2,"item":"c d e","columns":\["c","d","e"\],' "--results with --colsep"

# --- --resume -----------------------------------------------------------------------------
run --joblog "$T/jl4" -- echo {1}-{2} ::: a b ::: x y </dev/null >/dev/null
# A partial run: only the rows of seq 1 and 2 made it.
awk -F'\t' 'NR == 1 || $1 == 1 || $1 == 2' "$T/jl4" >"$T/jl4.cut" && mv "$T/jl4.cut" "$T/jl4"
out=$(run --joblog "$T/jl4" --resume -- echo {1}-{2} ::: a b ::: x y </dev/null)
is "$out" "$(printf 'b-x\nb-y')" "--resume runs only the combinations not in the joblog"
is "$(commands "$T/jl4")" "$(printf 'echo a-x\necho a-y\necho b-x\necho b-y')" "...by seq"

# --- memory: the combinations are made one at a time ------------------------------------------
# 2000 x 2000 = 4 million items: materialised, their pointers alone would be 32 MB.
if sanitized; then
	ok "a product of 4 million items in bounded memory # SKIP AddressSanitizer build"
else
	peak_rss "$T/rss" "$POOLTOP" --headless -q -j 2 --builtin echo ::: $(seq 2000) ::: $(seq 2000) \
		</dev/null >"$T/big" 2>"$T/err"
	rc=$?
	n=$(wc -l <"$T/big")
	rss=$(cat "$T/rss")
	if [ "$rc" = 0 ] && [ "$n" = 4000000 ] && [ "$rss" -lt 40000 ]; then
		ok "a product of 4 million items runs in bounded memory (${rss} KiB)"
	else
		not_ok "a product of 4 million items runs in bounded memory"
		diag "rc $rc, $n lines, peak RSS $rss KiB (limit 40000)"
	fi
fi

# --- what is not supported: one line, exit 255 -------------------------------------------
refused() { # DESC WANT ARGS...
	local desc=$1 want=$2
	shift 2
	pt 10 "$@" </dev/null >"$T/out" 2>"$T/err"
	local rc=$?
	if [ "$rc" = 255 ] && [ "$(cat "$T/err")" = "$want" ] && [ ! -s "$T/out" ]; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "rc $rc, stderr: $(cat "$T/err")"
	fi
}
refused ":::+ is refused" "pooltop: ':::+' is not supported (to pair input sources use --link)" \
	-- echo ::: a :::+ b
refused "::::+ is refused" "pooltop: '::::+' is not supported (to pair input sources use --link)" \
	-- echo ::: a ::::+ "$T/f"
refused "--header is refused" "pooltop: unknown option '--header' (pooltop --help lists the options)" \
	--header : -- echo ::: a
pt 10 --colsep 'a(' -- echo ::: a </dev/null >"$T/out" 2>"$T/err"
rc=$?
is "$rc:$(wc -l <"$T/err")" "255:1" "a bad --colsep regex: exit 255, one line"
like "$(cat "$T/err")" "^pooltop: --colsep: 'a\(' is not a valid regular expression: " "...naming it"
refused ":::: without a file" "pooltop: '::::' needs at least one file" -- echo ::: a ::::
refused "a :::: file that is missing" "pooltop: :::: $T/nope: No such file or directory" \
	-- echo ::: a :::: "$T/nope"

# --- GNU parallel itself, where installed ------------------------------------------------
if command -v parallel >/dev/null 2>&1; then
	par() { parallel --will-cite -k -j 2 "$@" 2>/dev/null; }
	is "$(run -- echo {1}-{2} ::: a b ::: x y </dev/null)" \
		"$(par echo {1}-{2} ::: a b ::: x y </dev/null)" "as parallel: ::: ::: {1}-{2}"
	is "$(printf 's1\ns2\n' | run -- echo {2/} {1.} {3} :::: "$T/f" - ::: d/z.q)" \
		"$(printf 's1\ns2\n' | par echo {2/} {1.} {3} :::: "$T/f" - ::: d/z.q)" \
		"as parallel: :::: FILE - ::: with path forms"
	is "$(run --link -- echo {1}{2} ::: a b c d e ::: x y </dev/null)" \
		"$(par --link echo {1}{2} ::: a b c d e ::: x y </dev/null)" "as parallel: --link, unequal"
	is "$(run --colsep ',' -- echo {2} {1} <"$T/csv")" \
		"$(par --colsep ',' echo {2} {1} <"$T/csv")" "as parallel: --colsep"
	is "$(printf 'a,,b,,\n,x\n\n' | run --colsep ',' -- printf '[%s]')" \
		"$(printf 'a,,b,,\n,x\n\n' | par --colsep ',' printf '[%s]')" "as parallel: --colsep's empty columns"
	is "$(run -- printf '<%s>' ::: 'a b' '' ::: x '')" \
		"$(par printf '"<%s>"' ::: 'a b' '' ::: x '')" "as parallel: empty values, each an argument"
else
	for what in "::: ::: {1}-{2}" ":::: FILE - ::: with path forms" "--link, unequal" "--colsep" \
		"--colsep's empty columns" "empty values, each an argument"; do
		ok "as parallel: $what # SKIP GNU parallel is not installed"
	done
fi
