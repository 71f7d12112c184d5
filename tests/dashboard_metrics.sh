#!/bin/bash
# dashboard_metrics.sh: CPU%, RSS and the state letter (S) of a command or persistent worker are
# its job's process group's, as ps sees them: a spinning job is R with a high CPU%, a sleeping
# one S near 0 (and both HUNG say which), a persistent program's RSS is its own (not the idle
# worker's); the detail view says whose figures they are. A built-in's stay the worker's.
# shellcheck disable=SC2016 # wait_until and friends take code in single quotes.
. "${TESTS_DIR:-$(dirname "$0")}/tmux_lib.sh"

plan 12

ptname

# A spinner gets less than a core on a loaded machine: the floor is scaled down with the
# deadlines. An idle process is under 5 % anywhere.
SPIN_MIN=$(awk -v s="$POOLTOP_TEST_SCALE" 'BEGIN { m = 30 / s; printf "%d", m < 10 ? 10 : m }')

# item_row ITEM: the table row whose ITEM cell is "SEQ:ITEM" (from $SCREEN).
item_row() { printf '%s\n' "$SCREEN" | grep -E -m1 -- "^[> ][* ] +[0-9]+ .* [0-9]+:$1\$"; }
# item_slot ITEM: its slot number.
item_slot() { item_row "$1" | awk '{ sub(/^[> ][* ]/, ""); print $1 }'; }
# cell TITLE ITEM: the cell of column TITLE (right-aligned, or S) in ITEM's row, found under
# the title's last character in the table's header (cells may be blank: no field counting).
cell() {
	local hdr line
	hdr=$(printf '%s\n' "$SCREEN" | grep -E -m1 -- '^ +# +PID +STATE ')
	line=$(item_row "$2")
	awk -v h="$hdr " -v t=" $1 " -v line="$line" 'BEGIN {
		i = index(h, t); if (!i || line == "") exit
		e = i + length(t) - 2
		s = e; while (s > 0 && substr(line, s, 1) != " ") s--
		print substr(line, s + 1, e - s) }'
}
# job_of ITEM: the JOB cell of ITEM's row (the job's process group).
job_of() { cell JOB "$1"; }
# ps_group PGID: "PCPU STATES" of the group's processes by ps: pcpu summed, the stat letters.
ps_group() {
	ps -e -o pgid=,pcpu=,stat= | awk -v g="$1" '$1 == g { c += $2; s = s substr($3, 1, 1) }
		END { printf "%.0f %s\n", c, s }'
}
# kb SIZE: a size as the dashboard prints it ("512K", "41.2M", "1.0G") in KB.
kb() {
	awk -v s="$1" 'BEGIN { u = substr(s, length(s)); n = substr(s, 1, length(s) - 1)
		m = u == "G" ? 1048576 : u == "M" ? 1024 : 1; printf "%d", n * m }'
}

# --- a spinning job and a sleeping one (a shell and two sleeps), both HUNG ----------------------
# item_state ITEM: the STATE cell of ITEM's row.
item_state() { item_row "$1" | awk '{ sub(/^[> ][* ]/, ""); print $3 }'; }
spin_ok() {
	[ "$(item_state spin)" = HUNG ] && [ "$(cell S spin)" = R ] &&
		[ "$(cell CPU% spin)" -ge "$SPIN_MIN" ] 2>/dev/null
}
nap_ok() {
	[ "$(item_state nap)" = HUNG ] && [ "$(cell S nap)" = S ] &&
		[ "$(cell CPU% nap)" -lt 5 ] 2>/dev/null
}
tm_start spin -j 2 --hang-after 1 -- sh -c \
	'if [ "$1" = spin ]; then while :; do :; done; else sleep "$2" & sleep "$2"; wait; fi' \
	_ {} "${L}1" \
	::: spin nap
screen_until spin_ok 15 "a spinning job: its row is HUNG, S is R and CPU% >= $SPIN_MIN"
spin_pg=$(job_of spin)
[ -n "$spin_pg" ] && at_exit "kill -KILL -- -$spin_pg 2>/dev/null"
screen_until nap_ok 10 "a sleeping job: its row is HUNG, S is S and CPU% < 5"
nap_pg=$(job_of nap)
[ -n "$nap_pg" ] && at_exit "kill -KILL -- -$nap_pg 2>/dev/null"

read -r pcpu pst < <(ps_group "$spin_pg")
if [ -n "$spin_pg" ] && [ "${pcpu:-0}" -ge "$SPIN_MIN" ] && [[ $pst == *R* ]]; then
	ok "ps agrees on the spinning job's group $spin_pg: $pcpu % CPU, state $pst"
else
	not_ok "ps agrees on the spinning job's group $spin_pg: $pcpu % CPU, state $pst"
	diag_screen
fi
read -r pcpu pst < <(ps_group "$nap_pg")
if [ -n "$nap_pg" ] && [ "${pcpu:-9}" -lt 5 ] && [ "$pst" = SSS ]; then
	ok "ps agrees on the sleeping job's group $nap_pg: $pcpu % CPU, state $pst"
else
	not_ok "ps agrees on the sleeping job's group $nap_pg: $pcpu % CPU, state $pst"
	diag_screen
fi

# select_item ITEM: select ITEM's row with Up and Down from the selected one. (Not tm_select:
# the Home that tmux sends, ESC [ 1 ~, is not xterm's, and selects nothing.)
select_item() {
	local slot cur k
	slot=$(item_slot "$1")
	cur=$(selected_slot)
	k=Down
	[ "$slot" -lt "$cur" ] && k=Up
	while [ "$cur" != "$slot" ]; do
		tm_keys "$k"
		[ "$k" = Down ] && cur=$((cur + 1)) || cur=$((cur - 1))
	done
	wait_until '[ "$(selected_slot)" = '"$slot"' ]' 3 || diag "could not select slot $slot"
}
select_item spin
tm_keys Enter
screen_like "HUNG, spinning" 5 "the detail view: the HUNG item is spinning"
screen_like "job group $spin_pg, 1 process: R \(running\)  CPU [0-9]+%" 5 \
	"the detail view: the figures are the job group's, with its process count"
tm_keys Left # back, without an escape sequence
wait_screen '^ +# +PID +STATE ' 5
select_item nap
tm_keys Enter
screen_like "HUNG, sleeping" 5 "the detail view: the HUNG item is sleeping"
screen_like "job group $nap_pg, 3 processes: S \(sleeping\)" 5 \
	"the detail view: a group of a shell and two sleeps is 3 processes"
tm_stop

# --- a persistent program holding 30 MB ----------------------------------------------------------
if [ -z "$PYTHON3" ]; then
	ok "# SKIP python3 is not installed"
	ok "# SKIP python3 is not installed"
else
	# It answers each line, but holds "hold" (the row stays BUSY on it, the program alive).
	TM_STDIN='printf "a\nb\nhold\n"; exec sleep 600' tm_start persist -j 1 --persistent -- \
		"$PYTHON3" -c '
import sys, time
ballast = b"x" * (30 << 20)
for line in sys.stdin:
    if line.strip() == "hold":
        time.sleep(600)
    sys.stdout.write(line)
    sys.stdout.flush()
' "${L}2"
	wait_screen '[0-9]+:hold$' 15
	pg=$(job_of hold)
	[ -n "$pg" ] && at_exit "kill -KILL -- -$pg 2>/dev/null"
	# rss_close: the RSS on screen within 20 % of ps's sum over the job's group.
	rss_close() {
		local shown want
		shown=$(kb "$(cell RSS hold)")
		want=$(ps -e -o pgid=,rss= | awk -v g="$pg" '$1 == g { s += $2 } END { print s + 0 }')
		RSS_DIAG="screen ${shown} KB, ps ${want} KB"
		[ "$want" -gt 30000 ] && [ "$shown" -ge $((want * 8 / 10)) ] &&
			[ "$shown" -le $((want * 12 / 10)) ]
	}
	screen_until rss_close 10 "a persistent program's RSS is its group's, within 20 % of ps's sum"
	diag "$RSS_DIAG"
	tm_keys Enter
	screen_like "job group $pg, 1 process: S \(sleeping\)" 5 \
		"the detail view: a persistent program's figures are its group's"
	tm_stop
fi

# --- a built-in: the worker's own figures ----------------------------------------------------------
tm_start builtin -j 1 --builtin sleep:600000 ::: snooze
screen_until '[ "$(cell S snooze)" = S ] && [ -n "$(cell RSS snooze)" ]' 10 \
	"a built-in worker: S and RSS are shown, the worker's"
tm_keys Enter
screen_like "worker process $(row_pid 0): S \(sleeping\)" 5 \
	"the detail view: a built-in's figures are the worker process's"
tm_stop
