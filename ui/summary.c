/* The summary printed when a batch ends: items done and failed, failures grouped by exit code,
 * elapsed time, throughput. */
#include "summary.h"

#include <string.h>

#include "exitcode.h"
#include "util.h"

/* The item's bytes on one line of at most SUMMARY_ITEM_COLS columns: control bytes (C0, DEL,
 * and C1 as UTF-8) escaped as \xNN, so that no item can move the cursor or change the
 * terminal; "..." when cut. */
void summary_put_item(FILE *f, const char *item, size_t kept, size_t len)
{
	const unsigned char *s = (const unsigned char *)item;
	int cols = 0;
	size_t i = 0;
	for (; i < kept && cols < SUMMARY_ITEM_COLS; i++) {
		unsigned char c = s[i];
		if (c < 0x20 || c == 0x7f) {
			cols += fprintf(f, "\\x%02x", c);
		} else if (c == 0xc2 && i + 1 < kept && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f) {
			cols += fprintf(f, "\\xc2\\x%02x", s[++i]);
		} else {
			fputc(c, f);
			/* A UTF-8 continuation byte takes no column of its own. */
			if ((c & 0xc0) != 0x80)
				cols++;
		}
	}
	if (i < len)
		fputs("...", f);
}

static void print_item(FILE *f, const struct view_failed_item *it)
{
	summary_put_item(f, it->item, MIN(it->item_len, sizeof(it->item)), it->item_len);
}

void summary_print_failed(FILE *f, const struct view *v)
{
	struct view_failed fl;
	view_failed(v, &fl);
	if (!fl.total)
		return;
	fprintf(f, "pooltop: %llu item%s failed:\n", (unsigned long long)fl.total,
		fl.total == 1 ? "" : "s");
	for (unsigned i = 0; i < fl.n; i++) {
		char code[64];
		exitcode_format(fl.items[i].exitcode, fl.items[i].core, code, sizeof(code));
		fprintf(f, "pooltop:   item %llu, exit %s: ", (unsigned long long)fl.items[i].seq,
			code);
		print_item(f, &fl.items[i]);
		fputc('\n', f);
	}
	if (fl.total > fl.n)
		fprintf(f, "pooltop:   ... and %llu more (the first %u are listed)\n",
			(unsigned long long)(fl.total - fl.n), fl.n);
}

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
