/* Tests for our SHA-512: the FIPS 180-4 examples, messages on each side of the padding's
 * boundaries, and the streaming interface fed in every way against the one-shot. */
#include "sha512.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The expected digests of a message that is not one of FIPS 180-4's examples were computed by
 * Python's hashlib (backed by OpenSSL) over pattern_message's bytes. */
#define PATTERN_MAX 300

/* The message of n bytes 0, 1, 2, ..., 250, 0, 1, ...: every byte value but five, and no
 * period that divides a block. */
static void pattern_message(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i % 251);
}

/* The digest in lowercase hex, as sha512sum prints it; a static buffer, for one assert. */
static const char *hex(const unsigned char md[SHA512_DIGEST_LEN])
{
	static const char digits[] = "0123456789abcdef";
	static char s[2 * SHA512_DIGEST_LEN + 1];

	for (size_t i = 0; i < SHA512_DIGEST_LEN; i++) {
		s[2 * i] = digits[md[i] >> 4];
		s[2 * i + 1] = digits[md[i] & 0xf];
	}
	s[2 * SHA512_DIGEST_LEN] = '\0';
	return s;
}

static const char *oneshot_hex(const void *p, size_t n)
{
	unsigned char md[SHA512_DIGEST_LEN];

	sha512(p, n, md);
	return hex(md);
}

/* A fixed-seed xorshift64, so that a failing split can be replayed. */
static uint64_t next_random(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void test_sha512_empty_message_matches_fips_180_4(void **state)
{
	(void)state;
	assert_string_equal(oneshot_hex(NULL, 0),
			    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
			    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
}

static void test_sha512_abc_matches_fips_180_4(void **state)
{
	(void)state;
	assert_string_equal(oneshot_hex("abc", 3),
			    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
			    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

/* 896 bits: 112 bytes leave no room for the length, so the padding takes a second block. */
static void test_sha512_two_block_message_matches_fips_180_4(void **state)
{
	static const char msg[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
				  "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

	(void)state;
	assert_int_equal(strlen(msg), 112);
	assert_string_equal(oneshot_hex(msg, strlen(msg)),
			    "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
			    "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909");
}

static void test_sha512_million_a_matches_fips_180_4_one_shot_and_streamed(void **state)
{
	static const char want[] =
		"e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
		"de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b";
	const size_t n = 1000000;
	char *a = malloc(n);
	struct sha512_ctx ctx;
	unsigned char md[SHA512_DIGEST_LEN];

	(void)state;
	assert_non_null(a);
	memset(a, 'a', n);
	assert_string_equal(oneshot_hex(a, n), want);

	/* 1000 pieces of 1000 bytes: a length that is no multiple of the block. */
	sha512_init(&ctx);
	for (size_t off = 0; off < n; off += 1000)
		sha512_update(&ctx, a + off, 1000);
	sha512_final(&ctx, md);
	assert_string_equal(hex(md), want);
	free(a);
}

/* Each length where the padding changes shape: the last with the length in the same block
 * (111), the first without (112), one block exactly (128), and the same again a block on. */
static void test_sha512_lengths_at_the_padding_boundaries_match_hashlib(void **state)
{
	static const struct {
		size_t n;
		const char *md;
	} cases[] = {
		{111, "a1a111449b198d9b1f538bad7f3fc1022b3a5b1a5e90a0bc860de8512746cbc3"
		      "1599e6c834de3a3235327af0b51ff57bf7acf1974a73014d9c3953812edc7c8d"},
		{112, "c5fbd731d19d2ae1180f001be72c2c1aaba1d7b094b3748880e24593b8e117a7"
		      "50e11c1bd867cc2f96dace8c8b74abd2d5c4f236be444e77d30d1916174070b9"},
		{113, "61b2e77db697dfe5571fff3ed06bd60c41e1e7b7c08a80de01cb16526d9a9a52"
		      "d690dfbe792278a60f6e2b4c57a97c729773f26e258d2393890c985d645f6715"},
		{127, "eab89674feaa34e27aebeeff3c0a4d70070bb872d5e9f186cf1dbbdee517b6e3"
		      "5724d629ff025a5b07185e911ada7e3c8acf830aa0e4f71777bd2d44f504f7f0"},
		{128, "1dffd5e3adb71d45d2245939665521ae001a317a03720a45732ba1900ca3b835"
		      "1fc5c9b4ca513eba6f80bc7b1d1fdad4abd13491cb824d61b08d8c0e1561b3f7"},
		{129, "1d9da57fbbdab09afb3506ab2d223d06109d65c1c8ad197f50138f714bc4c3f2"
		      "fe5787922639c680acad1c651f955990425954ce2cba0c5cc83f2667d878eb0f"},
		{239, "cb4c7fd522756d5781ad3a4f590a1d862906b960e7720136cb3fb36b563caa1e"
		      "a5689134291fa79c80ccc2b4092b41df32ebdcb36dbe79db483440228c1622a8"},
		{240, "6c48466c9f6c07e4ab762c696b7eeb35cfe236fca73683e5fab873ac3489b4d2"
		      "eb3d7afcce7e8165dbbf37aded3b5b0c889c0b7e0f1790a8330d8677429d91a5"},
	};
	unsigned char msg[PATTERN_MAX];

	(void)state;
	pattern_message(msg, sizeof(msg));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(oneshot_hex(msg, cases[i].n), cases[i].md);
}

/* The digests of every length 0..300, concatenated, hashed once more: one value checks them
 * all. */
static void test_sha512_every_length_to_300_matches_hashlib(void **state)
{
	unsigned char msg[PATTERN_MAX];
	unsigned char all[(PATTERN_MAX + 1) * SHA512_DIGEST_LEN];

	(void)state;
	pattern_message(msg, sizeof(msg));
	for (size_t n = 0; n <= PATTERN_MAX; n++)
		sha512(msg, n, all + n * SHA512_DIGEST_LEN);
	assert_string_equal(oneshot_hex(all, sizeof(all)),
			    "da20b3b598f77f25e2e2d1941e345bfe16543f32378fbc8447fbb64f038964ce"
			    "a0808c9d450e5e83ac095f5656c102b2ff15a8e0501c7553a7afe1e0256b5e09");
}

static void test_sha512_streamed_whole_bytewise_or_split_equals_the_one_shot(void **state)
{
	unsigned char msg[PATTERN_MAX];
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	(void)state;
	pattern_message(msg, sizeof(msg));
	for (size_t n = 0; n <= PATTERN_MAX; n++) {
		unsigned char want[SHA512_DIGEST_LEN], md[SHA512_DIGEST_LEN];
		struct sha512_ctx ctx;

		sha512(msg, n, want);

		sha512_init(&ctx);
		sha512_update(&ctx, msg, n);
		sha512_final(&ctx, md);
		assert_memory_equal(md, want, sizeof(md));

		sha512_init(&ctx);
		for (size_t i = 0; i < n; i++)
			sha512_update(&ctx, msg + i, 1);
		sha512_final(&ctx, md);
		assert_memory_equal(md, want, sizeof(md));

		/* Random pieces of 0 to 200 bytes: empty updates, pieces that fill the partial
		 * block exactly, and pieces that cross one or two block boundaries. */
		for (int round = 0; round < 8; round++) {
			sha512_init(&ctx);
			for (size_t off = 0; off < n;) {
				size_t k = (size_t)(next_random(&seed) % 201);
				k = k < n - off ? k : n - off;
				sha512_update(&ctx, msg + off, k);
				off += k;
			}
			sha512_final(&ctx, md);
			assert_memory_equal(md, want, sizeof(md));
		}
	}
}

static void test_sha512_init_starts_a_context_over(void **state)
{
	unsigned char md[SHA512_DIGEST_LEN];
	struct sha512_ctx ctx;

	(void)state;
	sha512_init(&ctx);
	sha512_update(&ctx, "something else", 14);
	sha512_final(&ctx, md);
	sha512_init(&ctx);
	sha512_update(&ctx, "ab", 2);
	sha512_update(&ctx, NULL, 0);
	sha512_update(&ctx, "c", 1);
	sha512_final(&ctx, md);
	assert_string_equal(hex(md), oneshot_hex("abc", 3));
}

static void test_sha512_writes_exactly_64_bytes(void **state)
{
	unsigned char out[SHA512_DIGEST_LEN + 8];

	(void)state;
	memset(out, 0x5a, sizeof(out));
	sha512("abc", 3, out);
	for (size_t i = SHA512_DIGEST_LEN; i < sizeof(out); i++)
		assert_int_equal(out[i], 0x5a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha512_empty_message_matches_fips_180_4),
		cmocka_unit_test(test_sha512_abc_matches_fips_180_4),
		cmocka_unit_test(test_sha512_two_block_message_matches_fips_180_4),
		cmocka_unit_test(test_sha512_million_a_matches_fips_180_4_one_shot_and_streamed),
		cmocka_unit_test(test_sha512_lengths_at_the_padding_boundaries_match_hashlib),
		cmocka_unit_test(test_sha512_every_length_to_300_matches_hashlib),
		cmocka_unit_test(test_sha512_streamed_whole_bytewise_or_split_equals_the_one_shot),
		cmocka_unit_test(test_sha512_init_starts_a_context_over),
		cmocka_unit_test(test_sha512_writes_exactly_64_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
