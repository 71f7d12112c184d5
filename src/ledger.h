/* The ledger: finished items whose records — the joblog row, the --results line, the counts —
 * wait until their output has been handed to standard output.
 *
 * DESIGN
 * The rule it serves: an item is recorded as done only once its output is written. A joblog
 * row written before the output would, if pooltop were stopped or its reader left in between,
 * say "done" for an output nobody got, and --resume would never run the item again. So each
 * finished item is entered with the position in the output stream where its output ends; once
 * the output has written past that position the entry is committed (its row and line written,
 * its count taken). An entry whose output will never be written (the reader stalled and was
 * given up, or left, or a write failed) is taken out unwritten: its item is in no file, and
 * --resume runs it again.
 * Entries are a FIFO: outputs are appended in the order the entries are made, so their end
 * positions never decrease. Memory: an entry per item whose output waits, which the batch
 * bounds by not submitting while the output is full. */
#ifndef POOLTOP_LEDGER_H
#define POOLTOP_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct ledger_entry {
	uint64_t end; /* the output position its output ends at */
	uint64_t seq;
	int exitcode;
	bool done;
	uint32_t joblog_len;  /* bytes of its joblog row in the ledger's text, 0 when none */
	uint32_t results_len; /* bytes of its --results line, following the row */
};

struct ledger {
	struct ledger_entry *e; /* a ring of cap entries, len of them from head */
	size_t head, len, cap;
	struct buf text; /* the entries' rows and lines, in order, from text_head */
	size_t text_head;
};

/* An empty ledger; zeroed memory is one too. */
void ledger_init(struct ledger *l);
void ledger_free(struct ledger *l);

/* Enter e, with its joblog row and results line (e->joblog_len and e->results_len bytes, copied;
 * either may be NULL when its length is 0). e->end must not be below the last entry's. */
void ledger_add(struct ledger *l, const struct ledger_entry *e, const char *joblog,
		const char *results);
size_t ledger_len(const struct ledger *l);

/* Take out the oldest entry if its output ends at or before written (any, when written is
 * UINT64_MAX): returns true and *e, with *joblog and *results pointing at its text (borrowed
 * until the next call on l), or false when there is none. */
bool ledger_take(struct ledger *l, uint64_t written, struct ledger_entry *e, const char **joblog,
		 const char **results);

#endif
