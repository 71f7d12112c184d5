/* Fuzzing --term-seq's parser: a string either parses into 1 to TERMSEQ_MAX signals, each
 * with a wait of at most 60 s, which print back (as numbers or names) and parse again to the
 * same sequence; or it fails with -EINVAL and a message, leaving the output untouched.
 *
 * The input: the string (up to its first NUL byte). */
#include "termseq.h"

#include <errno.h>

#include "exitcode.h"
#include "fuzz.h"
#include "util.h"

/* Print t back, its signals as numbers or as names, and parse that: the same sequence. */
static void check_reparse(const char *s, const struct termseq *t, bool names)
{
	struct termseq again;
	struct buf b = {0};
	char err[256];

	for (unsigned i = 0; i < t->n; i++) {
		if (names)
			buf_printf(&b, "%s%s,%u", i ? "," : "", exitcode_signal_name(t->sig[i]),
				   (unsigned)t->ms[i]);
		else
			buf_printf(&b, "%s%d,%u", i ? "," : "", t->sig[i], (unsigned)t->ms[i]);
	}
	FUZZ_CHECK(termseq_parse(b.data, &again, err, sizeof(err)) == 0,
		   "'%s' parsed, '%s' not: %s", s, b.data, err);
	FUZZ_CHECK(again.n == t->n && memcmp(again.sig, t->sig, t->n * sizeof(*t->sig)) == 0 &&
			   memcmp(again.ms, t->ms, t->n * sizeof(*t->ms)) == 0,
		   "'%s' and '%s' parse differently", s, b.data);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';

	struct termseq t, untouched;
	char err[256];
	memset(&t, 0xa5, sizeof(t));
	memcpy(&untouched, &t, sizeof(t));
	memset(err, 0, sizeof(err));

	int rc = termseq_parse(s, &t, err, sizeof(err));
	if (rc < 0) {
		FUZZ_CHECK(rc == -EINVAL, "termseq_parse returned %d", rc);
		/* The message quotes the input, so it is one line when the input is. */
		FUZZ_CHECK(strnlen(err, sizeof(err)) > 0 && strnlen(err, sizeof(err)) < sizeof(err),
			   "error message '%.*s'", (int)sizeof(err), err);
		FUZZ_CHECK(strchr(s, '\n') || fuzz_message_ok(err, sizeof(err)),
			   "error message '%s'", err);
		FUZZ_CHECK(memcmp(&t, &untouched, sizeof(t)) == 0,
			   "the sequence written by a failed parse");
		free(s);
		return 0;
	}
	FUZZ_CHECK(rc == 0, "termseq_parse returned %d", rc);
	FUZZ_CHECK(t.n >= 1 && t.n <= TERMSEQ_MAX, "%u signals", t.n);

	uint64_t ms = 0;
	for (unsigned i = 0; i < t.n; i++) {
		FUZZ_CHECK(t.sig[i] >= 1 && t.sig[i] <= 64, "signal %d", t.sig[i]);
		FUZZ_CHECK(t.ms[i] <= 60000, "a wait of %u ms", (unsigned)t.ms[i]);
		ms += t.ms[i];
	}
	FUZZ_CHECK(termseq_total_ns(&t) == ms * NS_PER_MS, "total %llu ns for %llu ms",
		   (unsigned long long)termseq_total_ns(&t), (unsigned long long)ms);
	check_reparse(s, &t, false);
	check_reparse(s, &t, true);
	free(s);
	return 0;
}
