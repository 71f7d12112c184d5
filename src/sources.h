/* Several input sources, as GNU parallel's repeated ::: and ::::: their cross product (the
 * last source varies fastest: ::: a b ::: x y gives a x, a y, b x, b y) or, with --link, their
 * values paired by position (a shorter source wraps around, as parallel's --link).
 *
 * Each source's values are held in memory (words, or a file or standard input read whole);
 * the combinations are never made all at once: combination i (0-based, its sequence number
 * minus one) is computed from i, so a product of any size costs only its sources. */
#ifndef POOLTOP_SOURCES_H
#define POOLTOP_SOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* The most bytes all sources read from files and standard input may hold together. */
#define SOURCES_MAX_BYTES (1024u * 1024u * 1024u)

struct sources;

struct sources *sources_new(bool link);
void sources_free(struct sources *s);

/* A source of n words (copied). */
void sources_add_words(struct sources *s, char *const *words, size_t n);
/* A source read whole from fd, its values separated by sep (a last value without one counts;
 * an empty input has none). 0, or a negative errno (-EFBIG past SOURCES_MAX_BYTES). */
int sources_add_fd(struct sources *s, int fd, char sep);

size_t sources_n(const struct sources *s);
/* The number of combinations: the product of the sources' lengths, or with link the longest
 * (0 when a source is empty). -EOVERFLOW when the product passes 2^64 - 1. */
int sources_count(const struct sources *s, uint64_t *count);
/* Value k (0-based source) of combination i, borrowed from s. */
const char *sources_value(const struct sources *s, uint64_t i, size_t k, size_t *len);
/* Combination i as one record into b (reset first): its values joined by sep. */
void sources_record(const struct sources *s, uint64_t i, char sep, struct buf *b);

#endif

/* --colsep REGEX: each line split into columns where the POSIX extended regex matches ("\t" in
 * it is a tab, as in parallel's Perl regexes). Empty columns are kept, at the end too, as
 * parallel 20221122 keeps them ("a,," has three columns). */
struct colsep;

/* NULL with a one-line reason in err when the regex does not compile. */
struct colsep *colsep_new(const char *regex, char *err, size_t errlen);
void colsep_free(struct colsep *c);
/* The columns of line[0..len) joined by sep into b (reset first). */
void colsep_split(struct colsep *c, const char *line, size_t len, char sep, struct buf *b);
