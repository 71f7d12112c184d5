/* The summary printed when a batch ends: items done and failed, failures grouped by exit code,
 * elapsed time, throughput. */
#include "summary.h"

#include "exitcode.h"

void summary_print(FILE *f, const struct view *v)
{
	struct view_summary s;
	view_summary(v, &s);
	if (s.fatal[0])
		fprintf(f, "pooltop: %s\n", s.fatal);
	fprintf(f, "pooltop: %llu done, %llu failed", (unsigned long long)s.done,
		(unsigned long long)s.failed);
	if (s.ncodes) {
		fputs(" (", f);
		for (size_t i = 0; i < s.ncodes; i++) {
			char code[64];
			exitcode_format(s.codes[i].exitcode, false, code, sizeof(code));
			fprintf(f, "%s%llu with %s", i ? ", " : "",
				(unsigned long long)s.codes[i].n, code);
		}
		if (s.other_codes)
			fprintf(f, ", %llu other", (unsigned long long)s.other_codes);
		fputc(')', f);
	}
	if (s.not_run)
		fprintf(f, ", %llu not run", (unsigned long long)s.not_run);
	if (s.skipped)
		fprintf(f, ", %llu skipped (--resume)", (unsigned long long)s.skipped);
	fprintf(f, " in %.2f s (%.0f items/s)%s\n", s.elapsed, s.rate,
		s.input_complete ? "" : "; input not read to its end");
}
