/* SHA-1/SHA-256/SHA-384 and HMAC over the GnuTLS crypto API. */
#include <gnutls/crypto.h>

#include "crypto/crypto.h"

static gnutls_digest_algorithm_t digest_of(enum hash_alg alg)
{
	switch (alg) {
	case HASH_SHA1:
		return GNUTLS_DIG_SHA1;
	case HASH_SHA256:
		return GNUTLS_DIG_SHA256;
	case HASH_SHA384:
		return GNUTLS_DIG_SHA384;
	}
	return GNUTLS_DIG_UNKNOWN;
}

static gnutls_mac_algorithm_t mac_of(enum hash_alg alg)
{
	switch (alg) {
	case HASH_SHA1:
		return GNUTLS_MAC_SHA1;
	case HASH_SHA256:
		return GNUTLS_MAC_SHA256;
	case HASH_SHA384:
		return GNUTLS_MAC_SHA384;
	}
	return GNUTLS_MAC_UNKNOWN;
}

size_t hash_len(enum hash_alg alg)
{
	switch (alg) {
	case HASH_SHA1:
		return 20;
	case HASH_SHA256:
		return 32;
	case HASH_SHA384:
		return 48;
	}
	return 0;
}

size_t hmac_block_len(enum hash_alg alg)
{
	switch (alg) {
	case HASH_SHA1:
	case HASH_SHA256:
		return 64;
	case HASH_SHA384:
		return 128;
	}
	return 0;
}

/* GnuTLS wants a valid pointer even for an empty buffer. */
static const void *nonnull(const void *p)
{
	static const uint8_t empty[1];
	return p != NULL ? p : empty;
}

int hash_buf(enum hash_alg alg, const void *data, size_t len, uint8_t out[static HASH_MAX_LEN])
{
	ENSURE(hash_len(alg) != 0, DTLS_ERR_ARG);
	ENSURE(gnutls_hash_fast(digest_of(alg), nonnull(data), len, out) == 0, DTLS_ERR_CRYPTO);
	return DTLS_OK;
}

int hmac_buf(enum hash_alg alg, const void *key, size_t key_len, const void *data, size_t len,
	     uint8_t out[static HASH_MAX_LEN])
{
	ENSURE(hash_len(alg) != 0, DTLS_ERR_ARG);
	ENSURE(gnutls_hmac_fast(mac_of(alg), nonnull(key), key_len, nonnull(data), len, out) == 0,
	       DTLS_ERR_CRYPTO);
	return DTLS_OK;
}

int hmac_init(struct hmac_ctx *c, enum hash_alg alg, const void *key, size_t key_len)
{
	gnutls_hmac_hd_t h;

	c->h = NULL;
	ENSURE(hash_len(alg) != 0, DTLS_ERR_ARG);
	ENSURE(gnutls_hmac_init(&h, mac_of(alg), nonnull(key), key_len) == 0, DTLS_ERR_CRYPTO);
	c->h = h;
	c->alg = alg;
	return DTLS_OK;
}

int hmac_update(struct hmac_ctx *c, const void *data, size_t len)
{
	if (len == 0)
		return DTLS_OK;
	ENSURE(gnutls_hmac(c->h, data, len) == 0, DTLS_ERR_CRYPTO);
	return DTLS_OK;
}

void hmac_final(struct hmac_ctx *c, uint8_t out[static HASH_MAX_LEN])
{
	gnutls_hmac_output(c->h, out);
}

void hmac_free(struct hmac_ctx *c)
{
	if (c->h != NULL)
		gnutls_hmac_deinit(c->h, NULL);
	c->h = NULL;
}

int hash_init(struct hash_ctx *c, enum hash_alg alg)
{
	gnutls_hash_hd_t h;

	c->h = NULL;
	ENSURE(hash_len(alg) != 0, DTLS_ERR_ARG);
	ENSURE(gnutls_hash_init(&h, digest_of(alg)) == 0, DTLS_ERR_CRYPTO);
	c->h = h;
	c->alg = alg;
	return DTLS_OK;
}

int hash_update(struct hash_ctx *c, const void *data, size_t len)
{
	if (len == 0)
		return DTLS_OK;
	ENSURE(gnutls_hash(c->h, data, len) == 0, DTLS_ERR_CRYPTO);
	return DTLS_OK;
}

int hash_peek(const struct hash_ctx *c, uint8_t out[static HASH_MAX_LEN])
{
	gnutls_hash_hd_t copy = gnutls_hash_copy(c->h);

	ENSURE(copy != NULL, DTLS_ERR_CRYPTO);
	gnutls_hash_deinit(copy, out);
	return DTLS_OK;
}

void hash_free(struct hash_ctx *c)
{
	if (c->h != NULL)
		gnutls_hash_deinit(c->h, NULL);
	c->h = NULL;
}
