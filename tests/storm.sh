#!/bin/bash
# storm.sh: the kill storm through the binary: 100000 items, 4 workers, a random worker
# SIGKILLed every few hundred microseconds for the whole run. Every item must end exactly
# once in --results, done (killed items are retried), with the right output; no hang
# (bounded by timeout), nothing left behind.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 10

ptname
storm 100000 4 0.0003 120 30

exit 0
