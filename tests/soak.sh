#!/bin/bash
# soak.sh: the long kill storm, for `make soak` (minutes): 1,000,000 items, 4 workers, a
# random worker SIGKILLed every ~200 microseconds for the whole run; the same checks as
# storm.sh. Prints TAP.
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

plan 10

ptname
storm 1000000 4 0.0002 1800 600

exit 0
