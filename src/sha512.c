/* SHA-512 as FIPS 180-4 defines it: the functions of section 4.1.3, the constants of 4.2.3,
 * the padding of 5.1.2, the initial hash value of 5.3.5 and the computation of 6.4. Words are
 * big-endian in the message and in the digest, whatever the host's byte order: every load and
 * store goes through sha512_load_be64 and sha512_store_be64. */
#include "sha512.h"

#include <string.h>

/* 4.2.3: the first 64 bits of the fractional parts of the cube roots of the first 80 primes. */
static const uint64_t sha512_k[80] = {
	0x428a2f98d728ae22ULL, 0x7137449123ef65cdULL, 0xb5c0fbcfec4d3b2fULL, 0xe9b5dba58189dbbcULL,
	0x3956c25bf348b538ULL, 0x59f111f1b605d019ULL, 0x923f82a4af194f9bULL, 0xab1c5ed5da6d8118ULL,
	0xd807aa98a3030242ULL, 0x12835b0145706fbeULL, 0x243185be4ee4b28cULL, 0x550c7dc3d5ffb4e2ULL,
	0x72be5d74f27b896fULL, 0x80deb1fe3b1696b1ULL, 0x9bdc06a725c71235ULL, 0xc19bf174cf692694ULL,
	0xe49b69c19ef14ad2ULL, 0xefbe4786384f25e3ULL, 0x0fc19dc68b8cd5b5ULL, 0x240ca1cc77ac9c65ULL,
	0x2de92c6f592b0275ULL, 0x4a7484aa6ea6e483ULL, 0x5cb0a9dcbd41fbd4ULL, 0x76f988da831153b5ULL,
	0x983e5152ee66dfabULL, 0xa831c66d2db43210ULL, 0xb00327c898fb213fULL, 0xbf597fc7beef0ee4ULL,
	0xc6e00bf33da88fc2ULL, 0xd5a79147930aa725ULL, 0x06ca6351e003826fULL, 0x142929670a0e6e70ULL,
	0x27b70a8546d22ffcULL, 0x2e1b21385c26c926ULL, 0x4d2c6dfc5ac42aedULL, 0x53380d139d95b3dfULL,
	0x650a73548baf63deULL, 0x766a0abb3c77b2a8ULL, 0x81c2c92e47edaee6ULL, 0x92722c851482353bULL,
	0xa2bfe8a14cf10364ULL, 0xa81a664bbc423001ULL, 0xc24b8b70d0f89791ULL, 0xc76c51a30654be30ULL,
	0xd192e819d6ef5218ULL, 0xd69906245565a910ULL, 0xf40e35855771202aULL, 0x106aa07032bbd1b8ULL,
	0x19a4c116b8d2d0c8ULL, 0x1e376c085141ab53ULL, 0x2748774cdf8eeb99ULL, 0x34b0bcb5e19b48a8ULL,
	0x391c0cb3c5c95a63ULL, 0x4ed8aa4ae3418acbULL, 0x5b9cca4f7763e373ULL, 0x682e6ff3d6b2b8a3ULL,
	0x748f82ee5defb2fcULL, 0x78a5636f43172f60ULL, 0x84c87814a1f0ab72ULL, 0x8cc702081a6439ecULL,
	0x90befffa23631e28ULL, 0xa4506cebde82bde9ULL, 0xbef9a3f7b2c67915ULL, 0xc67178f2e372532bULL,
	0xca273eceea26619cULL, 0xd186b8c721c0c207ULL, 0xeada7dd6cde0eb1eULL, 0xf57d4f7fee6ed178ULL,
	0x06f067aa72176fbaULL, 0x0a637dc5a2c898a6ULL, 0x113f9804bef90daeULL, 0x1b710b35131c471bULL,
	0x28db77f523047d84ULL, 0x32caab7b40c72493ULL, 0x3c9ebe0a15c9bebcULL, 0x431d67c49c100d4cULL,
	0x4cc5d4becb3e42b6ULL, 0x597f299cfc657e2aULL, 0x5fcb6fab3ad6faecULL, 0x6c44198c4a475817ULL,
};

/* 5.3.5: the first 64 bits of the fractional parts of the square roots of the first 8 primes. */
static const uint64_t sha512_h0[8] = {
	0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
	0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

static inline uint64_t sha512_load_be64(const unsigned char *p)
{
	return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
	       (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
	       (uint64_t)p[6] << 8 | (uint64_t)p[7];
}

static inline void sha512_store_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (unsigned char)v;
		v >>= 8;
	}
}

/* n is always a constant in 1..63: neither shift is by 64, and compilers make this one rotate
 * instruction. */
static inline uint64_t sha512_rotr(uint64_t x, unsigned n)
{
	return (x >> n) | (x << (64 - n));
}

/* 4.1.3's functions. Ch is written with one operation fewer than in the standard, to the same
 * truth table: it picks y where x is 1 and z where it is 0. Maj is in SHA512_ROUND. */
static inline uint64_t sha512_ch(uint64_t x, uint64_t y, uint64_t z)
{
	return z ^ (x & (y ^ z));
}

/* The big sigmas as nested rotations, each on the result of the one before:
 * ROTR^28(x ^ ROTR^6(x ^ ROTR^5(x))) = ROTR^28(x) ^ ROTR^34(x) ^ ROTR^39(x), and likewise for
 * Sigma1. Same result; it spares the copies of x that three rotations of x need where a
 * rotate overwrites its operand (x86-64 without BMI2): measured a few per cent faster. */
static inline uint64_t sha512_bsig0(uint64_t x)
{
	return sha512_rotr(sha512_rotr(sha512_rotr(x, 5) ^ x, 6) ^ x, 28);
}

static inline uint64_t sha512_bsig1(uint64_t x)
{
	return sha512_rotr(sha512_rotr(sha512_rotr(x, 23) ^ x, 4) ^ x, 14);
}

static inline uint64_t sha512_ssig0(uint64_t x)
{
	return sha512_rotr(x, 1) ^ sha512_rotr(x, 8) ^ (x >> 7);
}

static inline uint64_t sha512_ssig1(uint64_t x)
{
	return sha512_rotr(x, 19) ^ sha512_rotr(x, 61) ^ (x >> 6);
}

/* The message schedule W (6.4.2 step 1) is kept as its last sixteen words: w[j] holds W[t] for
 * the t of the current sixteen rounds with t % 16 == j. The first sixteen words are the block's;
 * each later one overwrites in place W[t - 16], the oldest of the four words it is made of. */
#define SHA512_W_FIRST(j) (w[j] = sha512_load_be64(p + 8 * (j)))
#define SHA512_W_NEXT(j)                                                                           \
	(w[j] +=                                                                                   \
	 sha512_ssig1(w[((j) + 14) % 16]) + w[((j) + 9) % 16] + sha512_ssig0(w[((j) + 1) % 16]))

/* Round t of 6.4.2 step 3, with wt its message word W[t]. The standard shifts the eight working
 * variables down one place per round (h = g, g = f, ..., a = T1 + T2); here nothing moves: the
 * round updates d and h in place, and the next round is written with every name rotated one
 * place, so that after eight rounds the names are back where they started. T1 adds the terms
 * that do not depend on e first: they are ready before e is.
 *
 * Maj(a, b, c) is b ^ ((a ^ b) & (b ^ c)): where a and b agree, b; elsewhere c, the tie
 * breaker. This round's a ^ b is the next round's b ^ c, since its b and c are this round's a
 * and b: bc carries it over, one XOR fewer per round. */
#define SHA512_ROUND(a, b, c, d, e, f, g, h, t, wt)                                                \
	do {                                                                                       \
		uint64_t t1 = (h) + sha512_k[t] + (wt) + sha512_ch(e, f, g) + sha512_bsig1(e);     \
		uint64_t ab = (a) ^ (b);                                                           \
		(d) += t1;                                                                         \
		(h) = t1 + sha512_bsig0(a) + ((b) ^ (ab & bc));                                    \
		bc = ab;                                                                           \
	} while (0)

/* Rounds t .. t + 15, their message words from W (SHA512_W_FIRST or SHA512_W_NEXT). The
 * schedule is computed round by round, next to the round that uses it, rather than in a pass
 * of its own: measured a quarter faster so (GCC 12, -O2, x86-64). */
#define SHA512_ROUNDS_16(t, W)                                                                     \
	do {                                                                                       \
		SHA512_ROUND(a, b, c, d, e, f, g, h, (t) + 0, W(0));                               \
		SHA512_ROUND(h, a, b, c, d, e, f, g, (t) + 1, W(1));                               \
		SHA512_ROUND(g, h, a, b, c, d, e, f, (t) + 2, W(2));                               \
		SHA512_ROUND(f, g, h, a, b, c, d, e, (t) + 3, W(3));                               \
		SHA512_ROUND(e, f, g, h, a, b, c, d, (t) + 4, W(4));                               \
		SHA512_ROUND(d, e, f, g, h, a, b, c, (t) + 5, W(5));                               \
		SHA512_ROUND(c, d, e, f, g, h, a, b, (t) + 6, W(6));                               \
		SHA512_ROUND(b, c, d, e, f, g, h, a, (t) + 7, W(7));                               \
		SHA512_ROUND(a, b, c, d, e, f, g, h, (t) + 8, W(8));                               \
		SHA512_ROUND(h, a, b, c, d, e, f, g, (t) + 9, W(9));                               \
		SHA512_ROUND(g, h, a, b, c, d, e, f, (t) + 10, W(10));                             \
		SHA512_ROUND(f, g, h, a, b, c, d, e, (t) + 11, W(11));                             \
		SHA512_ROUND(e, f, g, h, a, b, c, d, (t) + 12, W(12));                             \
		SHA512_ROUND(d, e, f, g, h, a, b, c, (t) + 13, W(13));                             \
		SHA512_ROUND(c, d, e, f, g, h, a, b, (t) + 14, W(14));                             \
		SHA512_ROUND(b, c, d, e, f, g, h, a, (t) + 15, W(15));                             \
	} while (0)

/* Hash the nblocks 128-byte blocks at p into hv (6.4.2). */
static void sha512_blocks(uint64_t hv[8], const unsigned char *p, size_t nblocks)
{
	uint64_t w[16];

	for (; nblocks > 0; nblocks--, p += SHA512_BLOCK_LEN) {
		uint64_t a = hv[0], b = hv[1], c = hv[2], d = hv[3];
		uint64_t e = hv[4], f = hv[5], g = hv[6], h = hv[7];
		uint64_t bc = b ^ c; /* see SHA512_ROUND */

		SHA512_ROUNDS_16(0, SHA512_W_FIRST);
		for (int t = 16; t < 80; t += 16)
			SHA512_ROUNDS_16(t, SHA512_W_NEXT);
		hv[0] += a;
		hv[1] += b;
		hv[2] += c;
		hv[3] += d;
		hv[4] += e;
		hv[5] += f;
		hv[6] += g;
		hv[7] += h;
	}
}

void sha512_init(struct sha512_ctx *ctx)
{
	memcpy(ctx->h, sha512_h0, sizeof(ctx->h));
	ctx->len = 0;
}

void sha512_update(struct sha512_ctx *ctx, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t used = ctx->len % SHA512_BLOCK_LEN;

	if (n == 0)
		return;
	ctx->len += n;
	if (used > 0) {
		size_t room = SHA512_BLOCK_LEN - used;
		if (n < room) {
			memcpy(ctx->buf + used, p, n);
			return;
		}
		memcpy(ctx->buf + used, p, room);
		sha512_blocks(ctx->h, ctx->buf, 1);
		p += room;
		n -= room;
	}
	/* Whole blocks straight from the caller's bytes, without a copy. */
	if (n >= SHA512_BLOCK_LEN) {
		size_t whole = n / SHA512_BLOCK_LEN;
		sha512_blocks(ctx->h, p, whole);
		p += whole * SHA512_BLOCK_LEN;
		n -= whole * SHA512_BLOCK_LEN;
	}
	if (n > 0)
		memcpy(ctx->buf, p, n);
}

void sha512_final(struct sha512_ctx *ctx, unsigned char out[SHA512_DIGEST_LEN])
{
	size_t used = ctx->len % SHA512_BLOCK_LEN;

	/* 5.1.2: a 1 bit, zeros, and the message's length in bits as a 128-bit big-endian
	 * number filling the last 16 bytes of a block; a second block when the first has no room
	 * left for the length. A length in bytes below 2^64 is 67 bits at most. */
	ctx->buf[used++] = 0x80;
	if (used > SHA512_BLOCK_LEN - 16) {
		memset(ctx->buf + used, 0, SHA512_BLOCK_LEN - used);
		sha512_blocks(ctx->h, ctx->buf, 1);
		used = 0;
	}
	memset(ctx->buf + used, 0, SHA512_BLOCK_LEN - 16 - used);
	sha512_store_be64(ctx->buf + SHA512_BLOCK_LEN - 16, ctx->len >> 61);
	sha512_store_be64(ctx->buf + SHA512_BLOCK_LEN - 8, ctx->len << 3);
	sha512_blocks(ctx->h, ctx->buf, 1);

	for (int i = 0; i < 8; i++)
		sha512_store_be64(out + 8 * i, ctx->h[i]);
}

void sha512(const void *p, size_t n, unsigned char out[SHA512_DIGEST_LEN])
{
	struct sha512_ctx ctx;

	sha512_init(&ctx);
	sha512_update(&ctx, p, n);
	sha512_final(&ctx, out);
}
