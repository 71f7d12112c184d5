/* Small helpers shared by the engine and the front ends: allocation that aborts on out of
 * memory, a growable byte buffer, clocks. */
#ifndef POOLTOP_UTIL_H
#define POOLTOP_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* <sys/param.h> (pulled in by uv.h) defines the same. */
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif

/* The documented limits: -j at most this many workers; items of at most this many bytes. */
#define POOLTOP_MAX_WORKERS 1024
#define POOLTOP_MAX_ITEM    (1024 * 1024)

#define NS_PER_MS 1000000ULL
#define NS_PER_S  1000000000ULL

/* Out of memory aborts with a message: these never return NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
void *xmemdup(const void *p, size_t n);

/* A growable byte buffer. The buffer owns data; buf_free() releases it and leaves an empty
 * buffer that may be reused. data is always NUL-terminated past len when cap > 0. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};

void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t now_ns(void);
/* CLOCK_REALTIME in seconds, with fractions. */
double wall_s(void);

/* Write all of p to fd, retrying EINTR and short writes. 0 or -errno. */
int write_all(int fd, const void *p, size_t n);

/* Write "pooltop: MESSAGE\n" to stderr in one write, so that the lines of processes sharing a
 * pipe (workers) do not interleave. For code in a worker: a failing stderr is not reported. */
void complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* When set, complain() also hands each line it writes (n bytes, with its newline) here: a worker
 * keeps what it says during an item as that item's stderr. */
extern void (*complain_copy)(const char *line, size_t n);

#endif
