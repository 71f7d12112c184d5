/* SHA-512 (FIPS 180-4, section 6.4): a streaming digest and a one-shot, in portable C, for the
 * sha512 builtin. Our own, so that pooltop and every worker do without libcrypto's memory. */
#ifndef POOLTOP_SHA512_H
#define POOLTOP_SHA512_H

#include <stddef.h>
#include <stdint.h>

#define SHA512_DIGEST_LEN 64
#define SHA512_BLOCK_LEN  128

/* The digest's state. Not opaque, so that it can live on the stack; its fields are the
 * module's own. It holds no resource: there is nothing to release, and it may be copied (to
 * hash several messages sharing a prefix) or abandoned at any point. */
struct sha512_ctx {
	uint64_t h[8];			     /* the intermediate hash value H */
	uint64_t len;			     /* bytes hashed so far, modulo 2^64 */
	unsigned char buf[SHA512_BLOCK_LEN]; /* the partial block: len % 128 bytes */
};

/* Start a new message in ctx. */
void sha512_init(struct sha512_ctx *ctx);
/* Append the n bytes at p (borrowed for the call; p may be NULL when n is 0). */
void sha512_update(struct sha512_ctx *ctx, const void *p, size_t n);
/* Write the message's digest to out. ctx is then spent: sha512_init starts it again. */
void sha512_final(struct sha512_ctx *ctx, unsigned char out[SHA512_DIGEST_LEN]);

/* The digest of the n bytes at p, in one call. */
void sha512(const void *p, size_t n, unsigned char out[SHA512_DIGEST_LEN]);

#endif
