/*
 * The crypto provider: hashes, HMAC, AEAD, AES-CBC, random, and the suites table.
 *
 * Sources of the known answers (none computed with this code):
 *  - SHA-1/256/384 of "abc" and "": FIPS 180-2 examples.
 *  - HMAC: RFC 4231 test cases 2 and 6 (SHA-256, SHA-384), RFC 2202 test cases 2 and 7 (SHA-1).
 *  - AES-128-GCM / AES-256-GCM: McGrew & Viega, "The Galois/Counter Mode of Operation",
 *    test cases 4 and 16 (the NIST GCM submission).
 *  - AES-128-CCM_8: NIST SP 800-38C, appendix C, example 3 (12-byte nonce, 8-byte tag).
 *  - AES-128-CCM (16-byte tag, 12-byte nonce as in TLS): python3 `cryptography` (OpenSSL):
 *      python3 -c 'from cryptography.hazmat.primitives.ciphers.aead import AESCCM;
 *        print(AESCCM(bytes(range(0x40,0x50)), tag_length=16).encrypt(bytes(range(0x10,0x1c)),
 *              bytes(range(0x20,0x45)), bytes(range(13))).hex())'
 *  - ChaCha20-Poly1305: RFC 8439 2.8.2.
 *  - AES-CBC: NIST SP 800-38A F.2.1 / F.2.5 inputs, outputs from
 *      printf '<plaintext hex>' | xxd -r -p | openssl enc -aes-128-cbc \
 *        -K 2b7e151628aed2a6abf7158809cf4f3c -iv 000102030405060708090a0b0c0d0e0f -nopad | xxd -p
 *    (and -aes-256-cbc with -K 603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4).
 */
#include <string.h>

#include <dtls/dtls.h>

#include "crypto/crypto.h"
#include "crypto/suites.h"
#include "harness.h"

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* ---- hashes and HMAC ---------------------------------------------------- */

static void test_hash_kat(void)
{
	uint8_t out[HASH_MAX_LEN];

	CU_ASSERT_EQUAL(hash_len(HASH_SHA1), 20);
	CU_ASSERT_EQUAL(hash_len(HASH_SHA256), 32);
	CU_ASSERT_EQUAL(hash_len(HASH_SHA384), 48);
	CU_ASSERT_EQUAL(hmac_block_len(HASH_SHA1), 64);
	CU_ASSERT_EQUAL(hmac_block_len(HASH_SHA256), 64);
	CU_ASSERT_EQUAL(hmac_block_len(HASH_SHA384), 128);

	CU_ASSERT_EQUAL_FATAL(hash_buf(HASH_SHA1, "abc", 3, out), 0);
	unit_check_hex(out, 20, "a9993e364706816aba3e25717850c26c9cd0d89d");
	CU_ASSERT_EQUAL_FATAL(hash_buf(HASH_SHA256, "abc", 3, out), 0);
	unit_check_hex(out, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CU_ASSERT_EQUAL_FATAL(hash_buf(HASH_SHA384, "abc", 3, out), 0);
	unit_check_hex(out, 48,
		  "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
		  "8086072ba1e7cc2358baeca134c825a7");
	CU_ASSERT_EQUAL_FATAL(hash_buf(HASH_SHA256, NULL, 0, out), 0);
	unit_check_hex(out, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* A running hash: peek gives the digest of the prefix and the context keeps going. */
static void test_hash_ctx(void)
{
	static const char msg[] = "the quick brown fox jumps over the lazy dog";
	uint8_t want[HASH_MAX_LEN], got[HASH_MAX_LEN];
	enum hash_alg algs[] = { HASH_SHA256, HASH_SHA384 };

	for (size_t a = 0; a < ARRAY_LEN(algs); a++) {
		struct hash_ctx h;
		size_t hl = hash_len(algs[a]);

		CU_ASSERT_EQUAL_FATAL(hash_init(&h, algs[a]), 0);
		for (size_t i = 0; i < sizeof(msg) - 1; i++) {
			CU_ASSERT_EQUAL_FATAL(hash_update(&h, msg + i, 1), 0);
			CU_ASSERT_EQUAL_FATAL(hash_peek(&h, got), 0);
			CU_ASSERT_EQUAL_FATAL(hash_buf(algs[a], msg, i + 1, want), 0);
			CU_ASSERT(memcmp(got, want, hl) == 0);
		}
		hash_free(&h);
		hash_free(&h);
	}
}

struct hmac_vec {
	enum hash_alg alg;
	const char *key;  /* hex */
	const char *data; /* text */
	const char *mac;  /* hex */
};

#define KEY_AA_80 \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define KEY_AA_131 KEY_AA_80 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct hmac_vec hmac_vecs[] = {
	/* RFC 2202 test case 2 and 7 */
	{ HASH_SHA1, "4a656665", "what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
	{ HASH_SHA1, KEY_AA_80, "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
	  "e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
	/* RFC 4231 test cases 2 and 6 */
	{ HASH_SHA256, "4a656665", "what do ya want for nothing?",
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ HASH_SHA256, KEY_AA_131, "Test Using Larger Than Block-Size Key - Hash Key First",
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ HASH_SHA384, "4a656665", "what do ya want for nothing?",
	  "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649" },
	{ HASH_SHA384, KEY_AA_131, "Test Using Larger Than Block-Size Key - Hash Key First",
	  "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952" },
};

static void test_hmac_kat(void)
{
	for (size_t v = 0; v < ARRAY_LEN(hmac_vecs); v++) {
		const struct hmac_vec *t = &hmac_vecs[v];
		uint8_t key[256], out[HASH_MAX_LEN];
		size_t key_len = unit_unhex(key, sizeof(key), t->key);
		size_t data_len = strlen(t->data);
		struct hmac_ctx h;

		CU_ASSERT_EQUAL_FATAL(hmac_buf(t->alg, key, key_len, t->data, data_len, out), 0);
		unit_check_hex(out, hash_len(t->alg), t->mac);

		/* The context: byte by byte, then again after hmac_final reset it. */
		CU_ASSERT_EQUAL_FATAL(hmac_init(&h, t->alg, key, key_len), 0);
		for (int round = 0; round < 2; round++) {
			memset(out, 0, sizeof(out));
			for (size_t i = 0; i < data_len; i++)
				CU_ASSERT_EQUAL_FATAL(hmac_update(&h, t->data + i, 1), 0);
			hmac_final(&h, out);
			unit_check_hex(out, hash_len(t->alg), t->mac);
		}
		hmac_free(&h);
		hmac_free(&h);
	}
}

/* ---- AEAD --------------------------------------------------------------- */

struct aead_vec {
	const char *what;
	enum cipher_alg alg;
	const char *key, *nonce, *aad, *pt, *ct, *tag;
};

#define GCM_PT \
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e24" \
	"49a6b525b16aedf5aa0de657ba637b39"
#define CHACHA_PT \
	"4c616469657320616e642047656e746c656d656e206f662074686520636c617373206f66202739393a204966" \
	"204920636f756c64206f6666657220796f75206f6e6c79206f6e652074697020666f72207468652066757475" \
	"72652c2073756e73637265656e20776f756c642062652069742e"

static const struct aead_vec aead_vecs[] = {
	{ "AES-128-GCM (GCM spec test case 4)", CIPHER_AES_128_GCM, "feffe9928665731c6d6a8f9467308308",
	  "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2", GCM_PT,
	  "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5a"
	  "ac84aa051ba30b396a0aac973d58e091",
	  "5bc94fbc3221a5db94fae95ae7121a47" },
	{ "AES-256-GCM (GCM spec test case 16)", CIPHER_AES_256_GCM,
	  "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
	  "feedfacedeadbeeffeedfacedeadbeefabaddad2", GCM_PT,
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b10"
	  "56828838c5f61e6393ba7a0abcc9f662",
	  "76fc6ece0f4e1768cddf8853bb2d551b" },
	{ "AES-128-CCM_8 (SP 800-38C example 3)", CIPHER_AES_128_CCM_8, "404142434445464748494a4b4c4d4e4f",
	  "101112131415161718191a1b", "000102030405060708090a0b0c0d0e0f10111213",
	  "202122232425262728292a2b2c2d2e2f3031323334353637", "e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5",
	  "484392fbc1b09951" },
	{ "AES-128-CCM (python cryptography)", CIPHER_AES_128_CCM, "404142434445464748494a4b4c4d4e4f",
	  "101112131415161718191a1b", "000102030405060708090a0b0c",
	  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f4041424344",
	  "e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5541bd1d416fa0ce3ec37af206e",
	  "b79e569d79164f9f8aad7cfd72784374" },
	{ "ChaCha20-Poly1305 (RFC 8439 2.8.2)", CIPHER_CHACHA20_POLY1305,
	  "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", "070000004041424344454647",
	  "50515253c0c1c2c3c4c5c6c7", CHACHA_PT,
	  "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92"
	  "728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b"
	  "4831d7bc3ff4def08e4b7a9de576d26586cec64b6116",
	  "1ae10b594f09e26a7e902ecbd0600691" },
};

struct aead_case {
	uint8_t key[32], nonce[12], aad[32], pt[128], ct[128], tag[16];
	size_t key_len, nonce_len, aad_len, len, tag_len;
};

static void load_aead(struct aead_case *c, const struct aead_vec *v)
{
	c->key_len = unit_unhex(c->key, sizeof(c->key), v->key);
	c->nonce_len = unit_unhex(c->nonce, sizeof(c->nonce), v->nonce);
	c->aad_len = unit_unhex(c->aad, sizeof(c->aad), v->aad);
	c->len = unit_unhex(c->pt, sizeof(c->pt), v->pt);
	CU_ASSERT_EQUAL_FATAL(unit_unhex(c->ct, sizeof(c->ct), v->ct), c->len);
	c->tag_len = unit_unhex(c->tag, sizeof(c->tag), v->tag);
}

static void test_aead_kat(void)
{
	for (size_t v = 0; v < ARRAY_LEN(aead_vecs); v++) {
		struct aead_case c;
		struct aead_ctx a;
		uint8_t buf[128], tag[16];

		load_aead(&c, &aead_vecs[v]);
		CU_ASSERT_EQUAL_FATAL(aead_init(&a, aead_vecs[v].alg, c.key, c.key_len), 0);
		CU_ASSERT_EQUAL(a.tag_len, c.tag_len);

		memcpy(buf, c.pt, c.len);
		memset(tag, 0, sizeof(tag));
		CU_ASSERT_EQUAL(aead_seal(&a, c.nonce, c.nonce_len, c.aad, c.aad_len, buf, c.len, tag), 0);
		CU_ASSERT(memcmp(buf, c.ct, c.len) == 0);
		CU_ASSERT(memcmp(tag, c.tag, c.tag_len) == 0);

		CU_ASSERT_EQUAL(aead_open(&a, c.nonce, c.nonce_len, c.aad, c.aad_len, buf, c.len, tag), 0);
		CU_ASSERT(memcmp(buf, c.pt, c.len) == 0);
		aead_free(&a);
		aead_free(&a);
	}
}

/* Flipping any single bit of ciphertext, tag or AAD is rejected, and no plaintext leaks. */
static void test_aead_tamper(void)
{
	for (size_t v = 0; v < ARRAY_LEN(aead_vecs); v++) {
		struct aead_case c;
		struct aead_ctx a;
		uint8_t buf[128], tag[16], aad[32];
		size_t rejected = 0, tried = 0;

		load_aead(&c, &aead_vecs[v]);
		CU_ASSERT_EQUAL_FATAL(aead_init(&a, aead_vecs[v].alg, c.key, c.key_len), 0);
		size_t total = c.len + c.tag_len + c.aad_len;
		for (size_t bit = 0; bit < 8 * total; bit++) {
			size_t byte = bit / 8;
			uint8_t mask = (uint8_t)(1u << (bit % 8));

			memcpy(buf, c.ct, c.len);
			memcpy(tag, c.tag, c.tag_len);
			memcpy(aad, c.aad, c.aad_len);
			if (byte < c.len)
				buf[byte] ^= mask;
			else if (byte < c.len + c.tag_len)
				tag[byte - c.len] ^= mask;
			else
				aad[byte - c.len - c.tag_len] ^= mask;
			tried++;
			if (aead_open(&a, c.nonce, c.nonce_len, aad, c.aad_len, buf, c.len, tag) ==
				    DTLS_ERR_BAD_RECORD_MAC &&
			    all_zero(buf, c.len))
				rejected++;
		}
		CU_ASSERT_EQUAL(rejected, tried);
		/* A wrong nonce too. */
		memcpy(buf, c.ct, c.len);
		c.nonce[c.nonce_len - 1] ^= 1;
		CU_ASSERT_EQUAL(aead_open(&a, c.nonce, c.nonce_len, c.aad, c.aad_len, buf, c.len, c.tag),
				DTLS_ERR_BAD_RECORD_MAC);
		aead_free(&a);
	}
}

/* Every suite's AEAD round-trips empty and odd-length records with the TLS nonce size. */
static void test_aead_roundtrip_lengths(void)
{
	enum cipher_alg algs[] = { CIPHER_AES_128_GCM, CIPHER_AES_256_GCM, CIPHER_AES_128_CCM,
				   CIPHER_AES_128_CCM_8, CIPHER_CHACHA20_POLY1305 };
	size_t key_lens[] = { 16, 32, 16, 16, 32 };
	uint8_t key[32], nonce[12], aad[13], pt[1500], buf[1500], tag[16];

	crypto_random(key, sizeof(key));
	crypto_random(nonce, sizeof(nonce));
	crypto_random(aad, sizeof(aad));
	crypto_random(pt, sizeof(pt));
	for (size_t i = 0; i < ARRAY_LEN(algs); i++) {
		struct aead_ctx a;
		size_t lens[] = { 0, 1, 15, 16, 17, 255, 1400, 1500 };

		CU_ASSERT_EQUAL_FATAL(aead_init(&a, algs[i], key, key_lens[i]), 0);
		for (size_t l = 0; l < ARRAY_LEN(lens); l++) {
			memcpy(buf, pt, lens[l]);
			CU_ASSERT_EQUAL_FATAL(aead_seal(&a, nonce, 12, aad, sizeof(aad), buf, lens[l], tag), 0);
			CU_ASSERT(lens[l] < 16 || memcmp(buf, pt, lens[l]) != 0);
			CU_ASSERT_EQUAL_FATAL(aead_open(&a, nonce, 12, aad, sizeof(aad), buf, lens[l], tag), 0);
			CU_ASSERT(memcmp(buf, pt, lens[l]) == 0);
			/* An empty record still authenticates its header. */
			tag[0] ^= 0x80;
			CU_ASSERT_EQUAL(aead_open(&a, nonce, 12, aad, sizeof(aad), buf, lens[l], tag),
					DTLS_ERR_BAD_RECORD_MAC);
		}
		aead_free(&a);
	}
}

static void test_aead_bad_args(void)
{
	struct aead_ctx a;
	uint8_t key[32] = { 0 };

	CU_ASSERT_EQUAL(aead_init(&a, CIPHER_AES_128_GCM, key, 32), DTLS_ERR_ARG);
	CU_ASSERT_PTR_NULL(a.h);
	CU_ASSERT_EQUAL(aead_init(&a, CIPHER_AES_256_GCM, key, 16), DTLS_ERR_ARG);
	CU_ASSERT_EQUAL(aead_init(&a, CIPHER_CHACHA20_POLY1305, key, 16), DTLS_ERR_ARG);
	CU_ASSERT_EQUAL(aead_init(&a, CIPHER_AES_128_CBC, key, 16), DTLS_ERR_ARG);
	aead_free(&a);
}

/* ---- AES-CBC ------------------------------------------------------------ */

#define SP800_38A_PT \
	"6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc119" \
	"1a0a52eff69f2445df4f9b17ad2b417be66c3710"

static const struct {
	enum cipher_alg alg;
	const char *key, *ct;
} cbc_vecs[] = {
	{ CIPHER_AES_128_CBC, "2b7e151628aed2a6abf7158809cf4f3c",
	  "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e"
	  "222295163ff1caa1681fac09120eca307586e1a7" },
	{ CIPHER_AES_256_CBC, "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
	  "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d39f23369a9d9bacfa530e263"
	  "04231461b2eb05e2c39be9fcda6c19078c6a9d1b" },
};

static void test_cbc_kat(void)
{
	uint8_t iv[16], pt[64], ct[64], buf[64], key[32];

	unit_unhex(iv, sizeof(iv), "000102030405060708090a0b0c0d0e0f");
	unit_unhex(pt, sizeof(pt), SP800_38A_PT);
	for (size_t v = 0; v < ARRAY_LEN(cbc_vecs); v++) {
		struct cbc_ctx c;
		size_t key_len = unit_unhex(key, sizeof(key), cbc_vecs[v].key);

		unit_unhex(ct, sizeof(ct), cbc_vecs[v].ct);
		CU_ASSERT_EQUAL_FATAL(cbc_init(&c, cbc_vecs[v].alg, key, key_len), 0);
		/* Twice on one context: each call starts from the IV it is given. */
		for (int round = 0; round < 2; round++) {
			memcpy(buf, pt, sizeof(buf));
			CU_ASSERT_EQUAL(cbc_encrypt(&c, iv, buf, sizeof(buf)), 0);
			CU_ASSERT(memcmp(buf, ct, sizeof(ct)) == 0);
			CU_ASSERT_EQUAL(cbc_decrypt(&c, iv, buf, sizeof(buf)), 0);
			CU_ASSERT(memcmp(buf, pt, sizeof(pt)) == 0);
		}
		/* Decrypting from the second block on with block 1 as the IV (CBC chaining). */
		memcpy(buf, ct + 16, 48);
		CU_ASSERT_EQUAL(cbc_decrypt(&c, ct, buf, 48), 0);
		CU_ASSERT(memcmp(buf, pt + 16, 48) == 0);
		CU_ASSERT_EQUAL(cbc_encrypt(&c, iv, buf, 15), DTLS_ERR_ARG);
		CU_ASSERT_EQUAL(cbc_decrypt(&c, iv, buf, 17), DTLS_ERR_ARG);
		cbc_free(&c);
		cbc_free(&c);
	}
}

static void test_cbc_bad_args(void)
{
	struct cbc_ctx c;
	uint8_t key[32] = { 0 };

	CU_ASSERT_EQUAL(cbc_init(&c, CIPHER_AES_128_CBC, key, 32), DTLS_ERR_ARG);
	CU_ASSERT_EQUAL(cbc_init(&c, CIPHER_AES_256_CBC, key, 16), DTLS_ERR_ARG);
	CU_ASSERT_EQUAL(cbc_init(&c, CIPHER_AES_128_GCM, key, 16), DTLS_ERR_ARG);
	cbc_free(&c);
}

/* ---- random and wipe ---------------------------------------------------- */

static void test_random_and_wipe(void)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 };

	crypto_random(a, sizeof(a));
	crypto_random(b, sizeof(b));
	CU_ASSERT(!all_zero(a, sizeof(a)));
	CU_ASSERT(memcmp(a, b, sizeof(a)) != 0);
	crypto_random(NULL, 0);
	crypto_wipe(a, sizeof(a));
	CU_ASSERT(all_zero(a, sizeof(a)));
	CU_ASSERT_EQUAL(crypto_init(), 0);
}

/* ---- the suites table --------------------------------------------------- */

static const struct {
	uint16_t id;
	const char *name, *short_name;
} suite_names[] = {
	{ 0xD001, "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256", "ECDHE-PSK-AES128-GCM-SHA256" },
	{ 0xD002, "TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384", "ECDHE-PSK-AES256-GCM-SHA384" },
	{ 0x00A8, "TLS_PSK_WITH_AES_128_GCM_SHA256", "PSK-AES128-GCM-SHA256" },
	{ 0x00A9, "TLS_PSK_WITH_AES_256_GCM_SHA384", "PSK-AES256-GCM-SHA384" },
	{ 0xC0A8, "TLS_PSK_WITH_AES_128_CCM_8", "PSK-AES128-CCM8" },
	{ 0x00AE, "TLS_PSK_WITH_AES_128_CBC_SHA256", "PSK-AES128-CBC-SHA256" },
	{ 0xC037, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256", "ECDHE-PSK-AES128-CBC-SHA256" },
	{ 0xCCAC, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-PSK-CHACHA20-POLY1305" },
	{ 0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA" },
	{ 0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256" },
	{ 0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384" },
	{ 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256" },
	{ 0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305" },
	{ 0xC0AE, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", "ECDHE-ECDSA-AES128-CCM8" },
};

static void lower(char *dst, const char *src)
{
	size_t i = 0;

	for (; src[i] != '\0'; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] - 'A' + 'a') : src[i];
	dst[i] = '\0';
}

static void test_suite_lookup(void)
{
	char buf[64];

	CU_ASSERT_EQUAL(suite_count, ARRAY_LEN(suite_names));
	for (size_t i = 0; i < ARRAY_LEN(suite_names); i++) {
		const struct suite *s = suite_by_id(suite_names[i].id);

		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		CU_ASSERT_STRING_EQUAL(s->name, suite_names[i].name);
		CU_ASSERT_STRING_EQUAL(suite_short_name(s), suite_names[i].short_name);
		CU_ASSERT_PTR_EQUAL(suite_by_name(suite_names[i].name), s);
		CU_ASSERT_PTR_EQUAL(suite_by_name(suite_names[i].short_name), s);
		lower(buf, suite_names[i].name);
		CU_ASSERT_PTR_EQUAL(suite_by_name(buf), s);
		lower(buf, suite_names[i].short_name);
		CU_ASSERT_PTR_EQUAL(suite_by_name(buf), s);
	}
	CU_ASSERT_PTR_NULL(suite_by_id(0x0000));
	CU_ASSERT_PTR_NULL(suite_by_id(0xC0A4));
	CU_ASSERT_PTR_NULL(suite_by_name("TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256")); /* 0xD005: not here */
	CU_ASSERT_PTR_NULL(suite_by_name("PSK-AES128-GCM"));
	CU_ASSERT_PTR_NULL(suite_by_name(""));
	CU_ASSERT_PTR_NULL(suite_by_name(NULL));
	for (size_t i = 0; i < suite_count; i++)
		for (size_t j = i + 1; j < suite_count; j++)
			CU_ASSERT(suite_table[i].id != suite_table[j].id);
}

/* The public predicates and the recommended list: forward-secret AEAD suites with full
 * tags, in table order, and the RFC 8442 suites ahead of plain PSK in the default order. */
static void test_suite_policy(void)
{
	static const uint16_t want[] = { 0xD001, 0xD002, 0xC02B, 0xC02F, 0xC02C, 0xCCAC, 0xCCA9 };
	uint16_t ids[32];
	size_t n = dtls_suites_recommended(ids, ARRAY_LEN(ids));
	CU_ASSERT_EQUAL_FATAL(n, ARRAY_LEN(want));
	CU_ASSERT(memcmp(ids, want, sizeof(want)) == 0);
	CU_ASSERT_EQUAL(dtls_suites_recommended(NULL, 0), n);
	uint16_t two[2] = { 0, 0 };
	CU_ASSERT_EQUAL(dtls_suites_recommended(two, 2), n);
	CU_ASSERT(two[0] == 0xD001 && two[1] == 0xD002);
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT(dtls_suite_is_forward_secret(ids[i]));
		CU_ASSERT(dtls_suite_is_aead(ids[i]));
	}
	CU_ASSERT(dtls_suite_is_aead(0x00A8) && !dtls_suite_is_forward_secret(0x00A8));
	CU_ASSERT(dtls_suite_is_aead(0xC0AE) && dtls_suite_is_forward_secret(0xC0AE)); /* CCM_8: not recommended */
	CU_ASSERT(!dtls_suite_is_aead(0xC037) && dtls_suite_is_forward_secret(0xC037));
	CU_ASSERT(!dtls_suite_is_aead(0x002F) && !dtls_suite_is_forward_secret(0x002F));
	CU_ASSERT(!dtls_suite_is_aead(0x1234) && !dtls_suite_is_forward_secret(0x1234));
	CU_ASSERT_EQUAL(dtls_suite_id("ECDHE-PSK-AES256-GCM-SHA384"), 0xD002);
	CU_ASSERT_EQUAL(dtls_suite_overhead(0xD001), 13 + 8 + 16);

	size_t at_ecdhe_psk = suite_count, at_psk = suite_count;
	for (size_t i = 0; i < suite_count; i++) {
		if (suite_table[i].id == 0xD001)
			at_ecdhe_psk = i;
		if (suite_table[i].id == 0x00A8)
			at_psk = i;
	}
	CU_ASSERT(at_ecdhe_psk < at_psk);
}

static void test_suite_fields(void)
{
	bool seen_non_gcm = false;

	for (size_t i = 0; i < suite_count; i++) {
		const struct suite *s = &suite_table[i];
		bool gcm = s->cipher == CIPHER_AES_128_GCM || s->cipher == CIPHER_AES_256_GCM;
		bool sha384 = strstr(s->name, "SHA384") != NULL;

		/* AES-GCM rows come first: they are the default preference. */
		if (!gcm)
			seen_non_gcm = true;
		CU_ASSERT(!(gcm && seen_non_gcm));

		CU_ASSERT_EQUAL(s->prf_hash, sha384 ? HASH_SHA384 : HASH_SHA256);
		switch (s->cipher) {
		case CIPHER_AES_128_GCM:
		case CIPHER_AES_256_GCM:
		case CIPHER_AES_128_CCM:
		case CIPHER_AES_128_CCM_8:
			CU_ASSERT_EQUAL(s->kind, CIPHER_KIND_AEAD);
			CU_ASSERT_EQUAL(s->key_len, s->cipher == CIPHER_AES_256_GCM ? 32 : 16);
			CU_ASSERT_EQUAL(s->fixed_iv_len, 4);
			CU_ASSERT_EQUAL(s->record_iv_len, 8);
			CU_ASSERT_EQUAL(s->tag_len, s->cipher == CIPHER_AES_128_CCM_8 ? 8 : 16);
			CU_ASSERT_EQUAL(s->mac_len, 0);
			CU_ASSERT_EQUAL(suite_record_overhead(s), 8u + s->tag_len);
			break;
		case CIPHER_CHACHA20_POLY1305:
			CU_ASSERT_EQUAL(s->kind, CIPHER_KIND_AEAD);
			CU_ASSERT_EQUAL(s->key_len, 32);
			CU_ASSERT_EQUAL(s->fixed_iv_len, 12);
			CU_ASSERT_EQUAL(s->record_iv_len, 0);
			CU_ASSERT_EQUAL(s->tag_len, 16);
			CU_ASSERT_EQUAL(s->mac_len, 0);
			CU_ASSERT_EQUAL(suite_record_overhead(s), 16);
			break;
		case CIPHER_AES_128_CBC:
		case CIPHER_AES_256_CBC:
			CU_ASSERT_EQUAL(s->kind, CIPHER_KIND_CBC);
			CU_ASSERT_EQUAL(s->key_len, s->cipher == CIPHER_AES_256_CBC ? 32 : 16);
			CU_ASSERT_EQUAL(s->fixed_iv_len, 0);
			CU_ASSERT_EQUAL(s->record_iv_len, 16);
			CU_ASSERT_EQUAL(s->tag_len, 0);
			CU_ASSERT_EQUAL(s->mac_len, hash_len(s->mac_hash));
			CU_ASSERT_EQUAL(s->mac_hash, s->id == 0x002F ? HASH_SHA1 : HASH_SHA256);
			CU_ASSERT_EQUAL(suite_record_overhead(s), 16u + s->mac_len + 16u);
			break;
		}
	}
	CU_ASSERT_EQUAL(suite_by_id(0x00A8)->kx, KX_PSK);
	CU_ASSERT_EQUAL(suite_by_id(0xC037)->kx, KX_ECDHE_PSK);
	CU_ASSERT_EQUAL(suite_by_id(0xCCAC)->kx, KX_ECDHE_PSK);
	CU_ASSERT_EQUAL(suite_by_id(0x002F)->kx, KX_RSA);
	CU_ASSERT_EQUAL(suite_by_id(0xC02F)->kx, KX_ECDHE_RSA);
	CU_ASSERT_EQUAL(suite_by_id(0xC0AE)->kx, KX_ECDHE_ECDSA);
	CU_ASSERT(suite_is_psk(suite_by_id(0xC0A8)) && !suite_is_ecdhe(suite_by_id(0xC0A8)));
	CU_ASSERT(suite_is_psk(suite_by_id(0xCCAC)) && suite_is_ecdhe(suite_by_id(0xCCAC)));
	CU_ASSERT(suite_uses_cert(suite_by_id(0x002F)) && !suite_is_ecdhe(suite_by_id(0x002F)));
	CU_ASSERT(suite_uses_cert(suite_by_id(0xCCA9)) && suite_is_ecdhe(suite_by_id(0xCCA9)));
	CU_ASSERT_EQUAL(suite_record_overhead(suite_by_id(0x002F)), 16 + 20 + 16);
	CU_ASSERT_EQUAL(suite_record_overhead(suite_by_id(0x00AE)), 16 + 32 + 16);
	CU_ASSERT_EQUAL(suite_record_overhead(suite_by_id(0xC0A8)), 8 + 8);
}

static CU_TestInfo tests[] = {
	{ "SHA-1/256/384 known answers", test_hash_kat },
	{ "running hash and peek", test_hash_ctx },
	{ "HMAC known answers, reusable context", test_hmac_kat },
	{ "AEAD known answers", test_aead_kat },
	{ "AEAD rejects every flipped bit", test_aead_tamper },
	{ "AEAD record lengths round trip", test_aead_roundtrip_lengths },
	{ "AEAD bad arguments", test_aead_bad_args },
	{ "AES-CBC known answers", test_cbc_kat },
	{ "AES-CBC bad arguments", test_cbc_bad_args },
	{ "random and wipe", test_random_and_wipe },
	{ "suites: ids and names", test_suite_lookup },
	{ "suites: field values", test_suite_fields },
	{ "suites: forward secrecy, AEAD, the recommended list", test_suite_policy },
	CU_TEST_INFO_NULL,
};

static int suite_init(void)
{
	return crypto_init() == 0 ? 0 : -1;
}

const struct unit_suite unit_suite = { "crypto", suite_init, NULL, tests };
