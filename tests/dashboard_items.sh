#!/bin/bash
# dashboard_items.sh: the detail view shows the item a worker runs and for how long; its recent
# items are a list (Up/Down, Enter opens one) and an item opened shows its command line, exit
# code, times, output and its own stderr; PgUp/PgDn go to another worker.
# shellcheck disable=SC2016 # the command's $1 is its own.
. "${TESTS_DIR:-$(dirname "$0")}/tmux_lib.sh"

plan 20

L=$(scaled 60)
SCRIPT='case $1 in slow*) sleep '"$L"';; esac; echo "out-$1"; echo "errmark-$1" >&2; exit 3'

# One worker: items a and b end with 3, then slowitem runs until the end.
tm_start items -j 1 --results "$T/r" -- sh -c "$SCRIPT" _ ::: a b slowitem-0123456789 ||
	exit 1
screen_until '[ "$(row_seq 0)" = 3 ]' 10 "the worker is on its third item"
tm_keys Enter
screen_like '^current item 3, running [0-9.]+s: slowitem-0123456789$' 5 \
	"detail: the current item, its whole text, and how long it has run"
t1=$(printf '%s\n' "$SCREEN" | sed -nE 's/^current item 3, running ([0-9.]+)s.*/\1/p')
screen_until 'printf "%s\n" "$SCREEN" | grep -E "^current item 3, running [0-9]" |
	grep -vq "running ${t1}s"' 5 "detail: the run time goes on (${t1}s, then more)"
like "$SCREEN" '^> +2  3 ' "detail: the newest recent item (2, exit 3) is selected"
like "$SCREEN" 'PgUp/PgDn: another worker' "detail: its footer says how to change worker"

tm_keys Down
screen_like '^> +1  3 ' 3 "Down selects the older item"
tm_keys Enter
screen_like '^worker 0: item 1$' 3 "Enter opens the selected item"
like "$SCREEN" "^command: sh -c 'case \\\$1 in slow" "the item: its command line, as it ran"
like "$SCREEN" "_ a\$" "the item: its command line ends with the item itself"
like "$SCREEN" '^exit: 3 \(' "the item: its exit code"
like "$SCREEN" '^started [0-9-]+ [0-9:.]+ +ran [0-9.]+s +worker pid [0-9]+' "the item: start time, run time, worker pid"
if printf '%s\n' "$SCREEN" | grep -q '^  errmark-a$' && printf '%s\n' "$SCREEN" | grep -q '^  out-a$' &&
	! printf '%s\n' "$SCREEN" | grep -q 'errmark-b'; then
	ok "the item: its output and its own stderr, not another item's"
else
	not_ok "the item: its output and its own stderr, not another item's"
	diag_screen
fi
tm_keys Up
screen_like '^  errmark-b$' 3 "Up: the newer item, with its own stderr"
tm_keys Escape
screen_like '^current item 3' 3 "Esc: back to the worker's detail"
tm_keys Escape
tm_keys T y
wait_exit 10

# Two workers: PgDn and PgUp go from one worker's detail to the other's; ? says so.
tm_start workers -j 2 --builtin "sleep:$(scaled_ms 60000)" ::: first second || exit 1
screen_until '[ "$(row_seq 0)" != "" ] && [ "$(row_seq 1)" != "" ] && [ "$(row_seq 0)" != - ] && [ "$(row_seq 1)" != - ]' 10 \
	"both workers are busy"
tm_select 0
tm_keys Enter
screen_like '^worker 0 ' 3 "Enter: worker 0's detail"
tm_keys NPage
screen_like '^worker 1 .*BUSY' 3 "PgDn: worker 1's detail"
tm_keys PPage
screen_like '^worker 0 ' 3 "PgUp: worker 0's detail again"
tm_keys Escape '?'
# The detail's keys are past the first page of the help.
for _ in 1 2 3; do
	wait_screen '^  PgUp PgDn +the previous / next worker' 1 && break
	tm_keys NPage
done
screen_like '^  PgUp PgDn +the previous / next worker' 3 "help: PgUp/PgDn change worker in the detail"
like "$SCREEN" '^  Up Down Enter +select a recent item, open it' "help: Up/Down/Enter select and open an item"
tm_keys Escape T y
wait_exit 10
