/*
 * Ephemeral ECDH (RFC 8422, RFC 7748) on nettle/hogweed: X25519, secp256r1, secp384r1.
 *
 * Private scalars travel as big-endian bytes in struct kex_key. They reach nettle through
 * limbs on the stack (mpz_roinit_n), never through a heap mpz, and the copies nettle keeps
 * in its scalar and point structures are wiped before they are freed.
 */
#include <string.h>

#include <gmp.h>
#include <nettle/curve25519.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>

#include "crypto/crypto.h"

_Static_assert(GMP_NAIL_BITS == 0, "limb conversion assumes no nail bits");

#define NIST_MAX_LEN 48
#define NIST_MAX_LIMBS ((NIST_MAX_LEN + sizeof(mp_limb_t) - 1) / sizeof(mp_limb_t))

/* The nettle curve of a NIST group and its field size in bytes; NULL if not NIST. */
static const struct ecc_curve *nist_curve(uint16_t group, size_t *len)
{
	switch (group) {
	case GROUP_SECP256R1:
		*len = 32;
		return nettle_get_secp_256r1();
	case GROUP_SECP384R1:
		*len = 48;
		return nettle_get_secp_384r1();
	default:
		return NULL;
	}
}

bool kex_group_supported(uint16_t group)
{
	size_t len;

	return group == GROUP_X25519 || nist_curve(group, &len) != NULL;
}

static void wipe_limbs(mp_limb_t *p, size_t n)
{
	crypto_wipe(p, n * sizeof(*p));
}

/* Wipes what an mpz holds; the caller still clears it. */
static void mpz_wipe(mpz_t z)
{
	if (z->_mp_alloc > 0)
		wipe_limbs(z->_mp_d, (size_t)z->_mp_alloc);
}

/* out[0..len) = z, big-endian, left-padded with zeros; z < 2^(8 len). */
static void mpz_to_be(uint8_t *out, size_t len, const mpz_t z)
{
	size_t n = mpz_sgn(z) == 0 ? 0 : (mpz_sizeinbase(z, 2) + 7) / 8;

	memset(out, 0, len - n);
	if (n > 0)
		mpz_export(out + len - n, NULL, 1, 1, 1, 0, z);
}

/*
 * Loads the big-endian scalar b[0..len) into s. Returns 0 if it is not in [1, q-1].
 */
static int scalar_load(struct ecc_scalar *s, const uint8_t *b, size_t len)
{
	mp_limb_t limbs[NIST_MAX_LIMBS];
	mpz_t z;
	int ok;

	memset(limbs, 0, sizeof(limbs));
	for (size_t i = 0; i < len; i++)
		limbs[i / sizeof(mp_limb_t)] |= (mp_limb_t)b[len - 1 - i] << (8 * (i % sizeof(mp_limb_t)));
	mpz_roinit_n(z, limbs, (mp_size_t)((len + sizeof(mp_limb_t) - 1) / sizeof(mp_limb_t)));
	ok = ecc_scalar_set(s, z);
	wipe_limbs(limbs, NIST_MAX_LIMBS);
	return ok;
}

static void scalar_clear(struct ecc_scalar *s)
{
	wipe_limbs(s->p, (size_t)ecc_size(s->ecc));
	ecc_scalar_clear(s);
}

static void point_clear(struct ecc_point *p)
{
	wipe_limbs(p->p, 2 * (size_t)ecc_size(p->ecc));
	ecc_point_clear(p);
}

static MUST_CHECK int nist_generate(struct kex_key *k, const struct ecc_curve *curve, size_t len)
{
	struct ecc_scalar s;
	struct ecc_point pt;
	mpz_t x, y;

	ecc_scalar_init(&s, curve);
	/* Rejection sampling: for P-256 and P-384 a retry is needed with probability < 2^-32. */
	do
		crypto_random(k->priv, len);
	while (!scalar_load(&s, k->priv, len));
	ecc_point_init(&pt, curve);
	ecc_point_mul_g(&pt, &s);
	mpz_init(x);
	mpz_init(y);
	ecc_point_get(&pt, x, y);
	k->pub[0] = 0x04;
	mpz_to_be(k->pub + 1, len, x);
	mpz_to_be(k->pub + 1 + len, len, y);
	mpz_clear(x);
	mpz_clear(y);
	point_clear(&pt);
	scalar_clear(&s);
	k->priv_len = len;
	k->pub_len = 1 + 2 * len;
	return DTLS_OK;
}

int kex_generate(struct kex_key *k, uint16_t group)
{
	const struct ecc_curve *curve;
	size_t len;

	memset(k, 0, sizeof(*k));
	TRY(crypto_init());
	k->group = group;
	if (group == GROUP_X25519) {
		crypto_random(k->priv, CURVE25519_SIZE);
		curve25519_mul_g(k->pub, k->priv);
		k->priv_len = CURVE25519_SIZE;
		k->pub_len = CURVE25519_SIZE;
		return DTLS_OK;
	}
	curve = nist_curve(group, &len);
	ENSURE(curve != NULL, DTLS_ERR_UNSUPPORTED);
	return nist_generate(k, curve, len);
}

static MUST_CHECK int x25519_derive(const struct kex_key *k, const uint8_t *peer, size_t peer_len,
				   uint8_t secret[static KEX_MAX_SECRET], size_t *secret_len)
{
	uint8_t acc = 0;

	ENSURE(k->priv_len == CURVE25519_SIZE, DTLS_ERR_ARG);
	ENSURE(peer_len == CURVE25519_SIZE, DTLS_ERR_ILLEGAL_PARAMETER);
	curve25519_mul(secret, k->priv, peer);
	/* RFC 7748 6.1: an all-zero result means a small-order peer value. */
	for (size_t i = 0; i < CURVE25519_SIZE; i++)
		acc |= secret[i];
	if (acc == 0) {
		crypto_wipe(secret, KEX_MAX_SECRET);
		return DTLS_ERR_ILLEGAL_PARAMETER;
	}
	*secret_len = CURVE25519_SIZE;
	return DTLS_OK;
}

static MUST_CHECK int nist_derive(const struct kex_key *k, const struct ecc_curve *curve, size_t len,
				  const uint8_t *peer, size_t peer_len, uint8_t secret[static KEX_MAX_SECRET],
				  size_t *secret_len)
{
	struct ecc_point p, r;
	struct ecc_scalar s;
	mpz_t x, y;
	int rc = DTLS_ERR_ILLEGAL_PARAMETER;

	ENSURE(k->priv_len == len, DTLS_ERR_ARG);
	ENSURE(peer_len == 1 + 2 * len && peer[0] == 0x04, DTLS_ERR_ILLEGAL_PARAMETER);
	ecc_point_init(&p, curve);
	ecc_point_init(&r, curve);
	ecc_scalar_init(&s, curve);
	mpz_init(x);
	mpz_init(y);
	mpz_import(x, len, 1, 1, 1, 0, peer + 1);
	mpz_import(y, len, 1, 1, 1, 0, peer + 1 + len);
	/* ecc_point_set rejects coordinates >= p and points not on the curve. */
	if (!ecc_point_set(&p, x, y))
		goto out;
	if (!scalar_load(&s, k->priv, len)) {
		rc = DTLS_ERR_ARG;
		goto out;
	}
	ecc_point_mul(&r, &s, &p);
	ecc_point_get(&r, x, y);
	mpz_to_be(secret, len, x);
	*secret_len = len;
	rc = DTLS_OK;
out:
	mpz_wipe(x);
	mpz_wipe(y);
	mpz_clear(x);
	mpz_clear(y);
	scalar_clear(&s);
	point_clear(&r);
	ecc_point_clear(&p);
	return rc;
}

int kex_derive(const struct kex_key *k, const uint8_t *peer, size_t peer_len, uint8_t secret[static KEX_MAX_SECRET],
	       size_t *secret_len)
{
	const struct ecc_curve *curve;
	size_t len;

	*secret_len = 0;
	ENSURE(peer != NULL, DTLS_ERR_ILLEGAL_PARAMETER);
	if (k->group == GROUP_X25519)
		return x25519_derive(k, peer, peer_len, secret, secret_len);
	curve = nist_curve(k->group, &len);
	ENSURE(curve != NULL, DTLS_ERR_UNSUPPORTED);
	return nist_derive(k, curve, len, peer, peer_len, secret, secret_len);
}

void kex_wipe(struct kex_key *k)
{
	crypto_wipe(k, sizeof(*k));
}
