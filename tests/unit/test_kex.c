/*
 * ECDH: X25519 (RFC 7748 6.1 vector), secp256r1 and secp384r1 (RFC 5903 8.1 and 8.2
 * vectors), round trips between generated keys, and rejection of bad peer values.
 * The RFC vectors were also re-checked with python3 `cryptography` (OpenSSL) before use.
 */
#include <string.h>

#include "crypto/crypto.h"
#include "harness.h"

static void set_priv(struct kex_key *k, uint16_t group, const char *hex)
{
	memset(k, 0, sizeof(*k));
	k->group = group;
	k->priv_len = unit_unhex(k->priv, sizeof(k->priv), hex);
}

/* derive(k, peer) must give want (hex). */
static void check_derive(const struct kex_key *k, const char *peer_hex, const char *want_hex)
{
	uint8_t peer[KEX_MAX_PUB], want[KEX_MAX_SECRET], secret[KEX_MAX_SECRET];
	size_t peer_len = unit_unhex(peer, sizeof(peer), peer_hex);
	size_t want_len = unit_unhex(want, sizeof(want), want_hex);
	size_t secret_len = 0;

	CU_ASSERT_EQUAL_FATAL(kex_derive(k, peer, peer_len, secret, &secret_len), 0);
	CU_ASSERT_EQUAL_FATAL(secret_len, want_len);
	CU_ASSERT(memcmp(secret, want, want_len) == 0);
}

static void test_x25519_rfc7748(void)
{
	static const char a_priv[] = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
	static const char a_pub[] = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
	static const char b_priv[] = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
	static const char b_pub[] = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
	static const char shared[] = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
	static const char base[] = "0900000000000000000000000000000000000000000000000000000000000000";
	struct kex_key a, b;

	set_priv(&a, GROUP_X25519, a_priv);
	set_priv(&b, GROUP_X25519, b_priv);
	/* The public values are the scalar times the base point u = 9. */
	check_derive(&a, base, a_pub);
	check_derive(&b, base, b_pub);
	check_derive(&a, b_pub, shared);
	check_derive(&b, a_pub, shared);
	kex_wipe(&a);
	kex_wipe(&b);
}

#define P256_G \
	"046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296" \
	"4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"
#define P384_G \
	"04aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7" \
	"3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f"

static const struct {
	uint16_t group;
	const char *i, *gi, *r, *gr, *gir_x;
} nist_vecs[] = {
	{ GROUP_SECP256R1, /* RFC 5903 8.1 */
	  "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433",
	  "04DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180"
	  "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3",
	  "C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53",
	  "04D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63"
	  "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB",
	  "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE" },
	{ GROUP_SECP384R1, /* RFC 5903 8.2 */
	  "099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F160647B67414DCE655E35B538041E649EE3FAEF896783AB194",
	  "04667842D7D180AC2CDE6F74F37551F55755C7645C20EF73E31634FE72B4C55EE6DE3AC808ACB4BDB4C88732AEE95F41AA"
	  "9482ED1FC0EEB9CAFC4984625CCFC23F65032149E0E144ADA024181535A0F38EEB9FCFF3C2C947DAE69B4C634573A81C",
	  "41CB0779B4BDB85D47846725FBEC3C9430FAB46CC8DC5060855CC9BDA0AA2942E0308312916B8ED2960E4BD55A7448FC",
	  "04E558DBEF53EECDE3D3FCCFC1AEA08A89A987475D12FD950D83CFA41732BC509D0D1AC43A0336DEF96FDA41D0774A3571"
	  "DCFBEC7AACF3196472169E838430367F66EEBE3C6E70C416DD5F0C68759DD1FFF83FA40142209DFF5EAAD96DB9E6386C",
	  "11187331C279962D93D604243FD592CB9D0A926F422E47187521287E7156C5C4D603135569B9E9D09CF5D4A270F59746" },
};

static void test_nist_rfc5903(void)
{
	for (size_t v = 0; v < ARRAY_LEN(nist_vecs); v++) {
		struct kex_key i, r;
		size_t len = nist_vecs[v].group == GROUP_SECP256R1 ? 32 : 48;
		const char *g = nist_vecs[v].group == GROUP_SECP256R1 ? P256_G : P384_G;
		char gi_x[2 * 48 + 1], gr_x[2 * 48 + 1];

		set_priv(&i, nist_vecs[v].group, nist_vecs[v].i);
		set_priv(&r, nist_vecs[v].group, nist_vecs[v].r);
		/* Times the generator: the x coordinate of the public value. */
		memcpy(gi_x, nist_vecs[v].gi + 2, 2 * len);
		gi_x[2 * len] = '\0';
		memcpy(gr_x, nist_vecs[v].gr + 2, 2 * len);
		gr_x[2 * len] = '\0';
		check_derive(&i, g, gi_x);
		check_derive(&r, g, gr_x);
		check_derive(&i, nist_vecs[v].gr, nist_vecs[v].gir_x);
		check_derive(&r, nist_vecs[v].gi, nist_vecs[v].gir_x);
		kex_wipe(&i);
		kex_wipe(&r);
	}
}

static const uint16_t groups[] = { GROUP_X25519, GROUP_SECP256R1, GROUP_SECP384R1 };

static void test_roundtrip(void)
{
	for (size_t g = 0; g < ARRAY_LEN(groups); g++) {
		for (int n = 0; n < 8; n++) {
			struct kex_key a, b;
			uint8_t sa[KEX_MAX_SECRET], sb[KEX_MAX_SECRET];
			size_t la = 0, lb = 0;
			size_t flen = groups[g] == GROUP_SECP384R1 ? 48 : 32;

			CU_ASSERT_EQUAL_FATAL(kex_generate(&a, groups[g]), 0);
			CU_ASSERT_EQUAL_FATAL(kex_generate(&b, groups[g]), 0);
			CU_ASSERT_EQUAL(a.group, groups[g]);
			CU_ASSERT_EQUAL(a.priv_len, flen);
			CU_ASSERT_EQUAL(a.pub_len, groups[g] == GROUP_X25519 ? 32 : 1 + 2 * flen);
			if (groups[g] != GROUP_X25519)
				CU_ASSERT_EQUAL(a.pub[0], 0x04);
			CU_ASSERT(memcmp(a.pub, b.pub, a.pub_len) != 0);
			CU_ASSERT_EQUAL_FATAL(kex_derive(&a, b.pub, b.pub_len, sa, &la), 0);
			CU_ASSERT_EQUAL_FATAL(kex_derive(&b, a.pub, a.pub_len, sb, &lb), 0);
			CU_ASSERT_EQUAL(la, flen);
			CU_ASSERT_EQUAL(lb, flen);
			CU_ASSERT(memcmp(sa, sb, flen) == 0);
			kex_wipe(&a);
			kex_wipe(&b);
		}
	}
}

/* The NIST shared secret keeps its leading zero bytes (RFC 8422 5.10). */
static void test_leading_zero(void)
{
	bool found = false;

	for (int n = 0; n < 8192 && !found; n++) {
		struct kex_key a, b;
		uint8_t sa[KEX_MAX_SECRET], sb[KEX_MAX_SECRET];
		size_t la = 0, lb = 0;

		CU_ASSERT_EQUAL_FATAL(kex_generate(&a, GROUP_SECP256R1), 0);
		CU_ASSERT_EQUAL_FATAL(kex_generate(&b, GROUP_SECP256R1), 0);
		CU_ASSERT_EQUAL_FATAL(kex_derive(&a, b.pub, b.pub_len, sa, &la), 0);
		if (sa[0] == 0) {
			found = true;
			CU_ASSERT_EQUAL(la, 32);
			CU_ASSERT_EQUAL_FATAL(kex_derive(&b, a.pub, a.pub_len, sb, &lb), 0);
			CU_ASSERT_EQUAL(lb, 32);
			CU_ASSERT(memcmp(sa, sb, 32) == 0);
		}
		kex_wipe(&a);
		kex_wipe(&b);
	}
	CU_ASSERT(found);
}

static void expect_illegal(const struct kex_key *k, const uint8_t *peer, size_t peer_len)
{
	uint8_t secret[KEX_MAX_SECRET];
	size_t secret_len = 99;

	CU_ASSERT_EQUAL(kex_derive(k, peer, peer_len, secret, &secret_len), DTLS_ERR_ILLEGAL_PARAMETER);
	CU_ASSERT_EQUAL(secret_len, 0);
}

static void test_x25519_rejects(void)
{
	/* RFC 7748 / cr.yp.to small-order u-coordinates: the result is all zeros. */
	static const char *small_order[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p, i.e. 0 */
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p + 1, i.e. 1 */
	};
	struct kex_key k;
	uint8_t peer[64];

	CU_ASSERT_EQUAL_FATAL(kex_generate(&k, GROUP_X25519), 0);
	for (size_t i = 0; i < ARRAY_LEN(small_order); i++) {
		unit_unhex(peer, sizeof(peer), small_order[i]);
		expect_illegal(&k, peer, 32);
	}
	memcpy(peer, k.pub, 32);
	expect_illegal(&k, peer, 31);
	expect_illegal(&k, peer, 33);
	expect_illegal(&k, peer, 0);
	expect_illegal(&k, NULL, 32);
	kex_wipe(&k);
}

static void test_nist_rejects(void)
{
	for (size_t g = 1; g < ARRAY_LEN(groups); g++) {
		struct kex_key k, peer_key;
		uint8_t peer[KEX_MAX_PUB + 1];
		size_t flen = groups[g] == GROUP_SECP384R1 ? 48 : 32;
		size_t plen = 1 + 2 * flen;

		CU_ASSERT_EQUAL_FATAL(kex_generate(&k, groups[g]), 0);
		CU_ASSERT_EQUAL_FATAL(kex_generate(&peer_key, groups[g]), 0);

		/* Lengths: short, long, compressed-size. */
		memcpy(peer, peer_key.pub, plen);
		expect_illegal(&k, peer, plen - 1);
		expect_illegal(&k, peer, plen + 1);
		expect_illegal(&k, peer, 1 + flen);
		expect_illegal(&k, peer, 0);

		/* Format byte: compressed, hybrid, zero. */
		static const uint8_t formats[] = { 0x00, 0x02, 0x03, 0x06, 0x07 };
		for (size_t f = 0; f < ARRAY_LEN(formats); f++) {
			memcpy(peer, peer_key.pub, plen);
			peer[0] = formats[f];
			expect_illegal(&k, peer, plen);
		}

		/* Off the curve: every single-bit change of Y, and of X. */
		size_t rejected = 0;
		for (size_t bit = 0; bit < 8 * 2 * flen; bit++) {
			uint8_t secret[KEX_MAX_SECRET];
			size_t secret_len;

			memcpy(peer, peer_key.pub, plen);
			peer[1 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
			if (kex_derive(&k, peer, plen, secret, &secret_len) == DTLS_ERR_ILLEGAL_PARAMETER)
				rejected++;
		}
		CU_ASSERT_EQUAL(rejected, 8 * 2 * flen);

		/* The point at "infinity" encoded as zeros, and coordinates >= p. */
		memset(peer, 0, plen);
		peer[0] = 0x04;
		expect_illegal(&k, peer, plen);
		memset(peer, 0xff, plen);
		peer[0] = 0x04;
		expect_illegal(&k, peer, plen);
		kex_wipe(&k);
		kex_wipe(&peer_key);
	}
}

static void test_groups_and_wipe(void)
{
	struct kex_key k;

	CU_ASSERT(kex_group_supported(GROUP_X25519));
	CU_ASSERT(kex_group_supported(GROUP_SECP256R1));
	CU_ASSERT(kex_group_supported(GROUP_SECP384R1));
	CU_ASSERT(!kex_group_supported(25)); /* secp521r1 */
	CU_ASSERT(!kex_group_supported(30)); /* x448 */
	CU_ASSERT(!kex_group_supported(0));
	CU_ASSERT_EQUAL(kex_generate(&k, 25), DTLS_ERR_UNSUPPORTED);

	CU_ASSERT_EQUAL_FATAL(kex_generate(&k, GROUP_SECP384R1), 0);
	kex_wipe(&k);
	static const struct kex_key zero;
	CU_ASSERT(memcmp(&k, &zero, sizeof(k)) == 0);
}

static CU_TestInfo tests[] = {
	{ "X25519 RFC 7748 6.1", test_x25519_rfc7748 },
	{ "P-256 and P-384 RFC 5903", test_nist_rfc5903 },
	{ "generated keys agree", test_roundtrip },
	{ "NIST secret keeps leading zeros", test_leading_zero },
	{ "X25519 rejects small order and bad lengths", test_x25519_rejects },
	{ "NIST rejects bad encodings and off-curve points", test_nist_rejects },
	{ "groups and wipe", test_groups_and_wipe },
	CU_TEST_INFO_NULL,
};

static int suite_init(void)
{
	return crypto_init() == 0 ? 0 : -1;
}

const struct unit_suite unit_suite = { "kex", suite_init, NULL, tests };
