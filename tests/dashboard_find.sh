#!/bin/bash
# dashboard_find.sh: finding a worker among many, in a real terminal (tmux) with real keys:
# sorting by a column (< > F6, I), searching ITEM (/ F3), filtering rows by state or text (\ F4).
# shellcheck disable=SC2016 # wait_until and friends take code in single quotes.
# shellcheck source=tests/tmux_lib.sh
. "${TESTS_DIR:-$(dirname "$0")}/tmux_lib.sh"

plan 18

# table_slots: the slots of the table's rows, top to bottom.
table_slots() {
	printf '%s\n' "$SCREEN" | grep -E -- "^[> ][* ] +[0-9]+ +([0-9]+|-) +($_STATES)( |\$)" |
		awk '{ sub(/^[> ][* ]/, ""); print $1 }'
}
first_slot() { table_slots | head -1; }
last_slot() { table_slots | tail -1; }
nrows() { table_slots | wc -l; }
# selected_item: the item of the selected row (its ITEM cell without "SEQ:").
selected_item() {
	printf '%s\n' "$SCREEN" | grep -E -m1 -- "^>[* ] +[0-9]+ +[0-9]+ +($_STATES)" |
		awk '{ print $NF }' | sed 's/^[0-9]*://'
}
all_busy() {
	local i
	for ((i = 0; i < $1; i++)); do
		[ "$(row_state "$i")" = BUSY ] || return 1
	done
}

# --- sort: by AGE the oldest busy worker first, I inverts, F6 chooses -------------------------
# Slot 0's first process is terminated: its new process takes the next item, the youngest.
tm_start age -j 3 --retries 0 --builtin sleep ::: 600000 600000 600000 600000 600000
wait_until 'all_busy 3' 5 || diag "not all BUSY within 5 s"
p0=$(row_pid 0)
tm_keys t
wait_until 'p=$(row_pid 0); [ "$(row_state 0)" = BUSY ] && [ -n "$p" ] && [ "$p" != "$p0" ]' 5 ||
	diag "slot 0 did not take a new item"
tm_keys '<' '<'
screen_like 'sorted by AGE' 3 "< <: the header says the table is sorted by AGE"
screen_until '[ "$(last_slot)" = 0 ] && [ "$(first_slot)" != 0 ]' 3 \
	"sorted by AGE: the youngest item (slot 0's) last, the oldest first"
tm_keys I
screen_like 'sorted by AGE \(inverted\)' 3 "I: the header says inverted"
screen_until '[ "$(first_slot)" = 0 ]' 3 "I: the youngest first"
tm_keys I F6
screen_like 'Sort by \(Enter: choose' 3 "F6 opens the sort menu"
# AGE is the menu's current line; PID is ten lines up.
for _ in 1 2 3 4 5 6 7 8 9 10; do tm_keys Up; done
tm_keys Enter
screen_like 'sorted by PID' 3 "F6, Up to PID, Enter: sorted by PID"
screen_until '[ "$(last_slot)" = 0 ]' 3 "by PID: slot 0's process, the newest, last"
tm_stop

# --- search: / types an item's text, the selection goes to it; F3 the next match -------------
# 30 workers in 36 rows: some off the screen. Two items hold "0001".
items=()
for i in $(seq 30); do
	case $i in 17) items+=(610001) ;; 26) items+=(620001) ;; *) items+=(600000) ;; esac
done
tm_start search -j 30 --builtin sleep ::: "${items[@]}"
screen_like "workers 30 alive, 30 busy" 15 "-j 30: all busy"
tm_keys / 0 0 0 1
screen_like 'Search ITEM: 0001_' 3 "/ opens the search prompt with what is typed"
screen_until 'case $(selected_item) in 610001 | 620001) true ;; *) false ;; esac' 3 \
	"the selection is on a row whose item holds 0001"
first=$(selected_item)
tm_keys F3
screen_until 's=$(selected_item); [ -n "$s" ] && [ "$s" != "$first" ] &&
	case $s in 610001 | 620001) true ;; *) false ;; esac' 3 "F3: the next match"
tm_keys Enter
wait_screen_gone 'Search ITEM' 3
tm_keys F3
screen_until '[ "$(selected_item)" = "$first" ]' 3 "F3 after the prompt: the next match, round the table"

# --- filter: \ keeps the rows whose item holds the text; Esc clears it -------------------------
tm_keys '\' 0 0 0 1 Enter
screen_like 'filter "0001": 2 of 30' 3 "\\ 0001 Enter: the header says 2 of 30 shown"
screen_until '[ "$(nrows)" = 2 ]' 3 "the table has the two rows"
tm_keys '\' Escape
screen_until '[ "$(nrows)" -gt 20 ]' 3 "\\ then Esc: every row again"
tm_stop

# --- filter by state: hung, among 48 -----------------------------------------------------------
items=()
for i in $(seq 60); do if [ "$i" = 47 ]; then items+=(hang); else items+=("sleep:$(scaled_ms 200)"); fi; done
tm_start state -j 48 --hang-after 1s --builtin demo ::: "${items[@]}"
screen_like "workers [0-9]+ alive, [0-9]+ busy, 1 hung" 15 "-j 48: one hung"
screen_until '[ "$(nrows)" -gt 20 ]' 3 "the table shows many rows"
tm_keys F4 h u n g Enter
screen_until '[ "$(nrows)" = 1 ] && [ -n "$(row_of_state HUNG)" ]' 3 \
	"F4 hung Enter: the one HUNG row alone"
tm_stop
