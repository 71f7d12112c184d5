#!/bin/bash
# storm_kinds.sh: the storm in every worker kind, with every kind of signal: a random worker
# is sent SIGKILL, SIGTERM or SIGSTOP (then SIGCONT) every few milliseconds, and in the
# builtin run every 100th item segfaults. Every item must end exactly once in --results with
# the right output (the segfaulting ones failed), no hang, no process left.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 40

ptname
SO=${TESTS_BUILD_DIR:-$TESTS_DIR}/plugin_upper.so
export KILLER_SIGS=KILL,TERM,STOP

diag "--- builtin demo: squares, every 100th item a segfault, --retries 5"
STORM_KIND=(--builtin demo)
STORM_MODE=demo STORM_RETRIES=5 storm "${STORM_BUILTIN_ITEMS:-8000}" 4 0.002 300 120

diag "--- a command per item: expr N * N"
STORM_KIND=(-- expr {} '*' {})
storm "${STORM_COMMAND_ITEMS:-800}" 4 0.005 300 120

diag "--- persistent: one sh squarer per worker"
STORM_KIND=(--persistent -- sh -c 'while read -r l; do echo $((l * l)); done')
storm "${STORM_PERSISTENT_ITEMS:-40000}" 3 0.005 300 120

diag "--- plugin: the example plugin (upper-cased digits are the digits)"
STORM_KIND=(--plugin "$SO")
STORM_MODE=echo storm "${STORM_PLUGIN_ITEMS:-300000}" 4 0.002 300 120
