/* --term-seq: parsing the termination sequence. */
#include "termseq.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"
#include "exitcode.h"
#include "util.h"

#define TERMSEQ_MS_MAX 60000

int termseq_parse(const char *s, struct termseq *out, char *err, size_t errlen)
{
	struct termseq t = {0};
	char word[32];
	const char *p = s;
	size_t k = 0;

	for (;; k++) {
		size_t n = strcspn(p, ",");
		if (n == 0 || n >= sizeof(word)) {
			snprintf(err, errlen, "'%s': %s", s,
				 n == 0 ? "an empty element (write SIGNAL,MS,SIGNAL,MS...)"
					: "an element is too long");
			return -EINVAL;
		}
		memcpy(word, p, n);
		word[n] = '\0';
		if (k % 2 == 0) {
			int sig = exitcode_signal_parse(word);
			if (sig <= 0) {
				snprintf(err, errlen, "'%s': '%s' is not a signal", s, word);
				return -EINVAL;
			}
			if (t.n == TERMSEQ_MAX) {
				snprintf(err, errlen, "'%s': more than %d signals", s, TERMSEQ_MAX);
				return -EINVAL;
			}
			t.sig[t.n] = sig;
		} else {
			uint64_t ms;
			if (parse_uint(word, 0, TERMSEQ_MS_MAX, &ms) < 0) {
				snprintf(err, errlen,
					 "'%s': '%s' is not a wait in milliseconds from 0 to %d", s,
					 word, TERMSEQ_MS_MAX);
				return -EINVAL;
			}
			t.ms[t.n++] = (uint32_t)ms;
		}
		p += n;
		if (*p == '\0')
			break;
		p++;
	}
	if (k % 2 == 0) {
		snprintf(err, errlen, "'%s': the last signal needs a wait after it (as KILL,25)",
			 s);
		return -EINVAL;
	}
	*out = t;
	return 0;
}

uint64_t termseq_total_ns(const struct termseq *t)
{
	uint64_t ms = 0;
	for (unsigned i = 0; i < t->n; i++)
		ms += t->ms[i];
	return ms * NS_PER_MS;
}
