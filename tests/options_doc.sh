#!/bin/bash
# options_doc.sh: every option is documented where it is looked up, and nothing else is.
# --help's lists are made from the option table in src/cli.c, so they are the table: every
# option there, by its long name and by its short one when it has one, must be in README.md's
# option table (its first column) and have an entry in pooltop(1)'s OPTIONS (a .TP tag); and
# neither may document an option the table does not have.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 5

README=$TESTS_DIR/../README.md
MAN=$TESTS_DIR/../doc/pooltop.1

# The option words of some text, one a line, sorted: "--name", and "-X" for a short option.
# "--" alone (before a COMMAND) and ":::" are not options.
option_words() {
	grep -oE -- '--[a-z][a-z0-9-]*|-[[:alnum:]]\b' | sort -u
}

# The options of the table: the rows of --help between its first heading and the built-in
# workers ("  -j, --jobs N", "      --in-flight N", "  --plugin FILE.so[:ARG]").
"$POOLTOP" --help >"$T/help"
sed -n '/^What each worker runs:$/,/^Built-in workers/p' "$T/help" |
	grep -E -- '^  (-[[:alnum:]], )? *--[a-z]' |
	sed -E 's/^ *((-[[:alnum:]], )? *--[a-z][a-z0-9-]*).*/\1/' | option_words >"$T/table"
n=$(wc -l <"$T/table")
known=$(grep -cxE -- '-j|--jobs|--version' "$T/table")
check "--help lists the option table ($n names, -j, --jobs and --version among them)" \
	test "$n" -ge 20 -a "$known" -eq 3

# README.md: the first column of the table under "| option | meaning |".
awk '/^\| option \| meaning \|$/ { on = 1; next } on && !/^\|/ { exit } on { print }' "$README" |
	cut -d'|' -f2 | option_words >"$T/readme"
# pooltop(1): the tags of the entries of OPTIONS, their roff undone.
sed -n '/^\.SH OPTIONS$/,/^\.SH /p' "$MAN" | awk 'tag { print } { tag = ($0 == ".TP") }' |
	sed -E 's/\\-/-/g; s/\\f[BIRP]//g; s/^\.[A-Z]+ //; s/"//g' | option_words >"$T/man"

# same WHERE FILE: a point for each way the table and FILE can disagree.
same() {
	local where=$1 file=$2
	is "$(comm -23 "$T/table" "$file" | paste -sd' ')" "" \
		"$where documents every option of the table"
	is "$(comm -13 "$T/table" "$file" | paste -sd' ')" "" \
		"$where documents no option the table does not have"
}
same "README.md's option table" "$T/readme"
same "pooltop(1)'s OPTIONS" "$T/man"
