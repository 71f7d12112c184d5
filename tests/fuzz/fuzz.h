/* What the fuzz harnesses share: libFuzzer's entry point, which replay.c also calls, and checks
 * that abort with a message, so a broken invariant stops libFuzzer (and fails `make check`)
 * as a crash does. */
#ifndef POOLTOP_FUZZ_H
#define POOLTOP_FUZZ_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Run one input through the code under test. Returns 0 (libFuzzer keeps the input) or -1
 * (libFuzzer does not add it to the corpus); an input that breaks an invariant aborts. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Print where and why, then abort: libFuzzer saves the input as a crash. */
static inline _Noreturn void fuzz_fail(const char *file, int line, const char *cond,
				       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static inline _Noreturn void fuzz_fail(const char *file, int line, const char *cond,
				       const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: invariant broken: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                         \
	} while (0)

/* An error message as the modules promise it: NUL-terminated within len, not empty, one line. */
static inline bool fuzz_message_ok(const char *err, size_t len)
{
	size_t n = strnlen(err, len);
	return n > 0 && n < len && memchr(err, '\n', n) == NULL;
}

#endif
