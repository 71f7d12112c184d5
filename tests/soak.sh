#!/bin/bash
# soak.sh: the long storms, for `make soak` (minutes). 1,000,000 items through 4 builtin
# workers, a random worker SIGKILLed every ~200 microseconds; then the same million with
# SIGKILL, SIGTERM and SIGSTOP/SIGCONT mixed and every 100th item segfaulting; then 10,000
# commands, 100,000 persistent lines and 1,000,000 plugin items under the mixed storm. The
# same checks as storm.sh and storm_kinds.sh. Prints TAP.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 50

ptname
SO=${TESTS_BUILD_DIR:-$TESTS_DIR}/plugin_upper.so

storm 1000000 4 0.0002 1800 600

export KILLER_SIGS=KILL,TERM,STOP
STORM_KIND=(--builtin demo)
STORM_MODE=demo STORM_RETRIES=20 storm 1000000 4 0.0005 1800 900
STORM_KIND=(-- expr {} '*' {})
storm 10000 4 0.005 1800 600
STORM_KIND=(--persistent -- sh -c 'while read -r l; do echo $((l * l)); done')
storm 100000 3 0.005 1800 600
STORM_KIND=(--plugin "$SO")
STORM_MODE=echo storm 1000000 4 0.001 1800 600

exit 0
