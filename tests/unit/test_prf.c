/*
 * The TLS 1.2 PRF (RFC 5246 5) and what is derived from it.
 *
 * The two P_hash vectors are the ones posted to the IETF TLS list
 * (https://www.ietf.org/mail-archive/web/tls/current/msg03416.html), secret/seed/label
 * "test label". The derivation vectors were computed independently of this code with the
 * Python standard library:
 *
 *   python3 -c '
 *   import hmac, hashlib
 *   def prf(h, s, l, seed, n):
 *       out = b""; a = l + seed
 *       while len(out) < n:
 *           a = hmac.new(s, a, h).digest(); out += hmac.new(s, a + l + seed, h).digest()
 *       return out[:n]
 *   pms = bytes(range(48)); cr = bytes(range(0x20, 0x40)); sr = bytes(range(0x40, 0x60))
 *   for h in (hashlib.sha256, hashlib.sha384):
 *       ms = prf(h, pms, b"master secret", cr + sr, 48); print(ms.hex())
 *       print(prf(h, pms, b"extended master secret", h(b"session hash input").digest(), 48).hex())
 *       print(prf(h, ms, b"key expansion", sr + cr, 72).hex())
 *       hh = h(b"handshake messages").digest()
 *       print(prf(h, ms, b"client finished", hh, 12).hex(), prf(h, ms, b"server finished", hh, 12).hex())'
 */
#include <string.h>

#include "crypto/crypto.h"
#include "harness.h"

static const char prf256_out[] =
	"e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
	"6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
	"4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
	"87347b66";

static const char prf384_out[] =
	"7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd"
	"e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd"
	"8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425"
	"9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6"
	"91c8f3a26854308d5eaa3be85e0990703d73e56f";

static void test_prf_sha256_vector(void)
{
	uint8_t secret[16], seed[16], out[100];

	unit_unhex(secret, sizeof(secret), "9bbe436ba940f017b17652849a71db35");
	unit_unhex(seed, sizeof(seed), "a0ba9f936cda311827a6f796ffd5198c");
	CU_ASSERT_EQUAL(prf_tls12(HASH_SHA256, secret, 16, "test label", seed, 16, NULL, 0, out, sizeof(out)), 0);
	unit_check_hex(out, sizeof(out), prf256_out);
}

static void test_prf_sha384_vector(void)
{
	uint8_t secret[16], seed[16], out[148];

	unit_unhex(secret, sizeof(secret), "b80b733d6ceefcdc71566ea48e5567df");
	unit_unhex(seed, sizeof(seed), "cd665cf6a8447dd6ff8b27555edb7465");
	CU_ASSERT_EQUAL(prf_tls12(HASH_SHA384, secret, 16, "test label", seed, 16, NULL, 0, out, sizeof(out)), 0);
	unit_check_hex(out, sizeof(out), prf384_out);
}

/* Any output length is a prefix of the longer output; the seed may come in two parts. */
static void test_prf_lengths_and_split_seed(void)
{
	uint8_t secret[16], seed[16], full[100], out[100];

	unit_unhex(secret, sizeof(secret), "9bbe436ba940f017b17652849a71db35");
	unit_unhex(seed, sizeof(seed), "a0ba9f936cda311827a6f796ffd5198c");
	unit_unhex(full, sizeof(full), prf256_out);
	for (size_t n = 0; n <= sizeof(out); n++) {
		memset(out, 0xee, sizeof(out));
		CU_ASSERT_EQUAL_FATAL(prf_tls12(HASH_SHA256, secret, 16, "test label", seed, 16, NULL, 0, out, n), 0);
		CU_ASSERT(memcmp(out, full, n) == 0);
		if (n < sizeof(out))
			CU_ASSERT_EQUAL(out[n], 0xee);
	}
	for (size_t cut = 0; cut <= 16; cut++) {
		memset(out, 0, sizeof(out));
		CU_ASSERT_EQUAL_FATAL(prf_tls12(HASH_SHA256, secret, 16, "test label", seed, cut, seed + cut, 16 - cut,
						out, sizeof(out)),
				      0);
		CU_ASSERT(memcmp(out, full, sizeof(out)) == 0);
	}
}

static void test_prf_rejects_sha1(void)
{
	uint8_t out[12];

	CU_ASSERT_EQUAL(prf_tls12(HASH_SHA1, (const uint8_t *)"k", 1, "l", NULL, 0, NULL, 0, out, sizeof(out)),
			DTLS_ERR_ARG);
}

struct derive_vec {
	enum hash_alg alg;
	const char *master, *ems, *key_block, *client_fin, *server_fin;
};

static const struct derive_vec derive_vecs[] = {
	{ HASH_SHA256,
	  "cf8d72bb4fda026122dba8aaed446b085151157dbbd04d5be31ab43379174edfd454d4852e1a89a94d12aa004561baff",
	  "114e8f0b23f6410616586ef3eaeba4b5e00f53a56cf5ed65b9d47fcc27b7900267d7eafd4f2b99764221dca8044c531c",
	  "30ab55edcaaaa63c3fa0ae7993df890172447cdc3ade8f9e397320979ded0ab548035f8000b1085b1f7e055eeefa9c8a"
	  "d6388196621759edfae82d15782f57cbfa71f687b516abb0",
	  "62eb76a6195165d4d4bb1cd5", "c8835e10a29bb304d5284105" },
	{ HASH_SHA384,
	  "be4132c269fefab1f9aacea277ec5e9d1f40e0b434cc8cea7142062d992a0742714e8a5ccc2b6329a757892d958d1453",
	  "ab3d72fe52883f1c2b575a6922e2006f81ba0d2313198a0b8fd6f51ca9250bcf48f3d521dc2c035585656ccc5f2f7198",
	  "843835e72ec234ac35a8d0158d0f2f57f16cdafa6d4a9bc88871c9c9dc660434e6f5308c1472ac968692f4bf029da392"
	  "135c466270d1d1b17515d5dfdb042d9283931c5499ea720c",
	  "c286fe3439c2003c1510eed3", "c0e5e1201e86e872759a82b6" },
};

static void test_prf_derivations(void)
{
	uint8_t pms[48], cr[32], sr[32], master[48], out[72], hh[HASH_MAX_LEN];
	static const char session_input[] = "session hash input", hs_input[] = "handshake messages";

	for (size_t i = 0; i < 48; i++)
		pms[i] = (uint8_t)i;
	for (size_t i = 0; i < 32; i++) {
		cr[i] = (uint8_t)(0x20 + i);
		sr[i] = (uint8_t)(0x40 + i);
	}
	for (size_t v = 0; v < ARRAY_LEN(derive_vecs); v++) {
		const struct derive_vec *d = &derive_vecs[v];
		size_t hl = hash_len(d->alg);

		CU_ASSERT_EQUAL_FATAL(prf_master_secret(d->alg, pms, sizeof(pms), cr, sr, master), 0);
		unit_check_hex(master, 48, d->master);

		CU_ASSERT_EQUAL_FATAL(hash_buf(d->alg, session_input, strlen(session_input), hh), 0);
		CU_ASSERT_EQUAL_FATAL(prf_extended_master_secret(d->alg, pms, sizeof(pms), hh, hl, out), 0);
		unit_check_hex(out, 48, d->ems);

		CU_ASSERT_EQUAL_FATAL(prf_key_block(d->alg, master, cr, sr, out, 72), 0);
		unit_check_hex(out, 72, d->key_block);

		CU_ASSERT_EQUAL_FATAL(hash_buf(d->alg, hs_input, strlen(hs_input), hh), 0);
		CU_ASSERT_EQUAL_FATAL(prf_verify_data(d->alg, master, true, hh, hl, out), 0);
		unit_check_hex(out, 12, d->client_fin);
		CU_ASSERT_EQUAL_FATAL(prf_verify_data(d->alg, master, false, hh, hl, out), 0);
		unit_check_hex(out, 12, d->server_fin);
	}
}

static CU_TestInfo tests[] = {
	{ "P_SHA256 IETF vector", test_prf_sha256_vector },
	{ "P_SHA384 IETF vector", test_prf_sha384_vector },
	{ "output lengths, split seed", test_prf_lengths_and_split_seed },
	{ "SHA-1 is not a TLS 1.2 PRF hash", test_prf_rejects_sha1 },
	{ "master, EMS, key block, verify_data", test_prf_derivations },
	CU_TEST_INFO_NULL,
};

static int suite_init(void)
{
	return crypto_init() == 0 ? 0 : -1;
}

const struct unit_suite unit_suite = { "prf", suite_init, NULL, tests };
