#!/bin/sh
# An example persistent worker in plain sh: one item per line in, "LENGTH ITEM" out.
#   pooltop --persistent -- sh doc/examples/length.sh
# A persistent program must answer every line, in order, and must not hold its answers back:
# pooltop waits for each one. The shell's read and printf do not buffer; awk and Python do
# (use fflush() and print(..., flush=True); mawk also needs -W interactive to read line by
# line), and a program that buffers its answers hangs the worker until --timeout.
while IFS= read -r item; do
	printf '%d %s\n' "${#item}" "$item"
done
