/* The summary printed when a batch ends. */
#ifndef POOLTOP_SUMMARY_H
#define POOLTOP_SUMMARY_H

#include <stdio.h>

#include "view.h"

/* "pooltop: 97 done, 3 failed (2 with 1, 1 with -11 SIGSEGV) in 1.23 s (81 items/s)" */
void summary_print(FILE *f, const struct view *v);
/* The items that failed, one a line with the exit code and the item (control bytes escaped, cut
 * to SUMMARY_ITEM_COLS), the first VIEW_FAILED_KEPT, then "... and N more"; nothing when none
 * failed:
 *   pooltop: 25 items failed:
 *   pooltop:   item 3, exit 1: a.txt
 *   pooltop:   ... and 5 more (the first 20 are listed) */
void summary_print_failed(FILE *f, const struct view *v);

#define SUMMARY_ITEM_COLS 100

/* An item's first kept bytes (of len) on one line of at most SUMMARY_ITEM_COLS columns, as the
 * failed list shows them. */
void summary_put_item(FILE *f, const char *item, size_t kept, size_t len);

#endif
