/*
 * The TLS 1.2 PRF (RFC 5246 5) and the derivations built on it: master secret, extended
 * master secret (RFC 7627), key block and Finished verify_data.
 *
 *   P_hash(secret, seed) = HMAC(secret, A(1) || seed) || HMAC(secret, A(2) || seed) || ...
 *   A(0) = seed, A(i) = HMAC(secret, A(i-1)), seed = label || seed1 || seed2
 *
 * One keyed HMAC context serves every step; the seed parts are fed separately, so nothing
 * is concatenated or allocated here.
 */
#include <string.h>

#include "crypto/crypto.h"

static MUST_CHECK int feed_seed(struct hmac_ctx *h, const char *label, const uint8_t *seed1, size_t seed1_len,
				const uint8_t *seed2, size_t seed2_len)
{
	TRY(hmac_update(h, label, strlen(label)));
	TRY(hmac_update(h, seed1, seed1_len));
	if (seed2 != NULL)
		TRY(hmac_update(h, seed2, seed2_len));
	return DTLS_OK;
}

static MUST_CHECK int p_hash(struct hmac_ctx *h, size_t md_len, const char *label, const uint8_t *seed1,
			     size_t seed1_len, const uint8_t *seed2, size_t seed2_len, uint8_t *out,
			     size_t out_len)
{
	uint8_t a[HASH_MAX_LEN], block[HASH_MAX_LEN];
	int rc;

	/* A(1) = HMAC(secret, seed) */
	TRY_GOTO(rc, feed_seed(h, label, seed1, seed1_len, seed2, seed2_len), out);
	hmac_final(h, a);
	while (out_len > 0) {
		size_t n = out_len < md_len ? out_len : md_len;

		TRY_GOTO(rc, hmac_update(h, a, md_len), out);
		TRY_GOTO(rc, feed_seed(h, label, seed1, seed1_len, seed2, seed2_len), out);
		hmac_final(h, block);
		memcpy(out, block, n);
		out += n;
		out_len -= n;
		if (out_len > 0) {
			TRY_GOTO(rc, hmac_update(h, a, md_len), out);
			hmac_final(h, a);
		}
	}
	rc = DTLS_OK;
out:
	crypto_wipe(a, sizeof(a));
	crypto_wipe(block, sizeof(block));
	return rc;
}

int prf_tls12(enum hash_alg alg, const uint8_t *secret, size_t secret_len, const char *label,
	      const uint8_t *seed1, size_t seed1_len, const uint8_t *seed2, size_t seed2_len, uint8_t *out,
	      size_t out_len)
{
	struct hmac_ctx h;
	int rc;

	ENSURE(alg == HASH_SHA256 || alg == HASH_SHA384, DTLS_ERR_ARG);
	ENSURE(label != NULL && (seed1 != NULL || seed1_len == 0), DTLS_ERR_ARG);
	ENSURE(out != NULL || out_len == 0, DTLS_ERR_ARG);
	TRY(hmac_init(&h, alg, secret, secret_len));
	rc = p_hash(&h, hash_len(alg), label, seed1, seed1_len, seed2, seed2_len, out, out_len);
	hmac_free(&h);
	if (rc < 0)
		crypto_wipe(out, out_len);
	return rc;
}

int prf_master_secret(enum hash_alg alg, const uint8_t *pms, size_t pms_len,
		      const uint8_t client_random[static 32], const uint8_t server_random[static 32],
		      uint8_t master[static 48])
{
	return prf_tls12(alg, pms, pms_len, "master secret", client_random, 32, server_random, 32, master, 48);
}

int prf_extended_master_secret(enum hash_alg alg, const uint8_t *pms, size_t pms_len, const uint8_t *session_hash,
			       size_t session_hash_len, uint8_t master[static 48])
{
	return prf_tls12(alg, pms, pms_len, "extended master secret", session_hash, session_hash_len, NULL, 0, master, 48);
}

int prf_key_block(enum hash_alg alg, const uint8_t master[static 48], const uint8_t client_random[static 32],
		  const uint8_t server_random[static 32], uint8_t *out, size_t out_len)
{
	return prf_tls12(alg, master, 48, "key expansion", server_random, 32, client_random, 32, out, out_len);
}

int prf_verify_data(enum hash_alg alg, const uint8_t master[static 48], bool client, const uint8_t *handshake_hash,
		    size_t handshake_hash_len, uint8_t out[static 12])
{
	return prf_tls12(alg, master, 48, client ? "client finished" : "server finished", handshake_hash,
			 handshake_hash_len,
			 NULL, 0, out, 12);
}
