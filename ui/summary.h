/* The summary printed when a batch ends. */
#ifndef POOLTOP_SUMMARY_H
#define POOLTOP_SUMMARY_H

#include <stdio.h>

#include "view.h"

/* "pooltop: 97 done, 3 failed (2 with 1, 1 with -11 SIGSEGV) in 1.23 s (81 items/s)" */
void summary_print(FILE *f, const struct view *v);

#endif
