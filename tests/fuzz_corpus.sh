#!/bin/bash
# fuzz_corpus.sh: every file of the fuzz corpus (tests/fuzz/corpus/TARGET/, the seeds and the
# crashes found, as regression tests) through its harness built without libFuzzer
# (tests/fuzz/replay_TARGET): one TAP point per target, with the harness's output when it fails.
set -u
corpus=${TESTS_DIR:-$(dirname "$0")}/fuzz/corpus
bin=${TESTS_BUILD_DIR:-$(dirname "$0")}/fuzz
targets="input cli termseq joblog template"

echo "1..$(echo $targets | wc -w)"
n=0
for t in $targets; do
	n=$((n + 1))
	out=$("$bin/replay_$t" "$corpus/$t" 2>&1)
	rc=$?
	planned=$(printf '%s\n' "$out" | sed -n 's/^1\.\.//p')
	passed=$(printf '%s\n' "$out" | grep -c '^ok ')
	if [ "$rc" -eq 0 ] && [ -n "$planned" ] && [ "$passed" -eq "$planned" ]; then
		echo "ok $n - $t: $passed corpus files"
	else
		echo "not ok $n - $t: $passed of ${planned:-?} corpus files passed, exit status $rc"
		printf '%s\n' "$out" | grep -v '^ok ' | tail -n 40 | sed 's/^/# /'
	fi
done
