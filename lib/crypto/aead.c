/*
 * AEAD record protection in place: AES-128/256-GCM, AES-128-CCM, AES-128-CCM_8 and
 * ChaCha20-Poly1305, through gnutls_aead_cipher_encryptv2/decryptv2 with the tag kept
 * apart from the data, so the record layer seals and opens inside its packet buffer.
 */
#include <gnutls/crypto.h>

#include "crypto/crypto.h"

struct aead_alg {
	gnutls_cipher_algorithm_t id;
	size_t key_len;
	size_t tag_len;
};

static MUST_CHECK int aead_alg_of(enum cipher_alg alg, struct aead_alg *a)
{
	switch (alg) {
	case CIPHER_AES_128_GCM:
		*a = (struct aead_alg){ GNUTLS_CIPHER_AES_128_GCM, 16, 16 };
		return DTLS_OK;
	case CIPHER_AES_256_GCM:
		*a = (struct aead_alg){ GNUTLS_CIPHER_AES_256_GCM, 32, 16 };
		return DTLS_OK;
	case CIPHER_AES_128_CCM:
		*a = (struct aead_alg){ GNUTLS_CIPHER_AES_128_CCM, 16, 16 };
		return DTLS_OK;
	case CIPHER_AES_128_CCM_8:
		*a = (struct aead_alg){ GNUTLS_CIPHER_AES_128_CCM_8, 16, 8 };
		return DTLS_OK;
	case CIPHER_CHACHA20_POLY1305:
		*a = (struct aead_alg){ GNUTLS_CIPHER_CHACHA20_POLY1305, 32, 16 };
		return DTLS_OK;
	case CIPHER_AES_128_CBC:
	case CIPHER_AES_256_CBC:
		break;
	}
	return DTLS_ERR_ARG;
}

int aead_init(struct aead_ctx *c, enum cipher_alg alg, const uint8_t *key, size_t key_len)
{
	struct aead_alg a;
	gnutls_aead_cipher_hd_t h;
	gnutls_datum_t k = { (unsigned char *)key, (unsigned int)key_len };

	c->h = NULL;
	c->tag_len = 0;
	TRY(aead_alg_of(alg, &a));
	ENSURE(key != NULL && key_len == a.key_len, DTLS_ERR_ARG);
	ENSURE(gnutls_aead_cipher_init(&h, a.id, &k) == 0, DTLS_ERR_CRYPTO);
	c->h = h;
	c->tag_len = a.tag_len;
	return DTLS_OK;
}

int aead_seal(struct aead_ctx *c, const uint8_t *nonce, size_t nonce_len, const uint8_t *aad, size_t aad_len,
	      uint8_t *buf, size_t len, uint8_t *tag)
{
	giovec_t ad = { (void *)aad, aad_len };
	giovec_t data = { buf, len };
	size_t tag_len = c->tag_len;

	ENSURE(c->h != NULL && nonce != NULL && tag != NULL, DTLS_ERR_ARG);
	ENSURE(aad != NULL || aad_len == 0, DTLS_ERR_ARG);
	ENSURE(buf != NULL || len == 0, DTLS_ERR_ARG);
	ENSURE(gnutls_aead_cipher_encryptv2(c->h, nonce, nonce_len, &ad, aad_len > 0, &data, len > 0, tag,
					    &tag_len) == 0,
	       DTLS_ERR_CRYPTO);
	ENSURE(tag_len == c->tag_len, DTLS_ERR_CRYPTO);
	return DTLS_OK;
}

int aead_open(struct aead_ctx *c, const uint8_t *nonce, size_t nonce_len, const uint8_t *aad, size_t aad_len,
	      uint8_t *buf, size_t len, const uint8_t *tag)
{
	giovec_t ad = { (void *)aad, aad_len };
	giovec_t data = { buf, len };
	int rc;

	ENSURE(c->h != NULL && nonce != NULL && tag != NULL, DTLS_ERR_ARG);
	ENSURE(aad != NULL || aad_len == 0, DTLS_ERR_ARG);
	ENSURE(buf != NULL || len == 0, DTLS_ERR_ARG);
	rc = gnutls_aead_cipher_decryptv2(c->h, nonce, nonce_len, &ad, aad_len > 0, &data, len > 0, (void *)tag,
					  c->tag_len);
	if (rc == 0)
		return DTLS_OK;
	/* Never hand out plaintext that did not authenticate. */
	crypto_wipe(buf, len);
	return rc == GNUTLS_E_DECRYPTION_FAILED ? DTLS_ERR_BAD_RECORD_MAC : DTLS_ERR_CRYPTO;
}

void aead_free(struct aead_ctx *c)
{
	if (c->h != NULL)
		gnutls_aead_cipher_deinit(c->h);
	c->h = NULL;
}
