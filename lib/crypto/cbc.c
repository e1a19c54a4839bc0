/*
 * AES-CBC in place for the CBC-HMAC suites. Only the block cipher lives here: the MAC,
 * padding and their constant-time checks belong to the record layer.
 */
#include <gnutls/crypto.h>

#include "crypto/crypto.h"

#define CBC_BLOCK 16

int cbc_init(struct cbc_ctx *c, enum cipher_alg alg, const uint8_t *key, size_t key_len)
{
	static const uint8_t zero_iv[CBC_BLOCK];
	gnutls_cipher_algorithm_t id;
	size_t want;
	gnutls_cipher_hd_t h;
	gnutls_datum_t k = { (unsigned char *)key, (unsigned int)key_len };
	gnutls_datum_t iv = { (unsigned char *)zero_iv, sizeof(zero_iv) };

	c->h = NULL;
	switch (alg) {
	case CIPHER_AES_128_CBC:
		id = GNUTLS_CIPHER_AES_128_CBC;
		want = 16;
		break;
	case CIPHER_AES_256_CBC:
		id = GNUTLS_CIPHER_AES_256_CBC;
		want = 32;
		break;
	case CIPHER_AES_128_GCM:
	case CIPHER_AES_256_GCM:
	case CIPHER_AES_128_CCM:
	case CIPHER_AES_128_CCM_8:
	case CIPHER_CHACHA20_POLY1305:
	default:
		return DTLS_ERR_ARG;
	}
	ENSURE(key != NULL && key_len == want, DTLS_ERR_ARG);
	/* The IV given here is replaced by cbc_encrypt/cbc_decrypt for every record. */
	ENSURE(gnutls_cipher_init(&h, id, &k, &iv) == 0, DTLS_ERR_CRYPTO);
	c->h = h;
	return DTLS_OK;
}

int cbc_encrypt(struct cbc_ctx *c, const uint8_t iv[static 16], uint8_t *buf, size_t len)
{
	ENSURE(c->h != NULL && len % CBC_BLOCK == 0, DTLS_ERR_ARG);
	if (len == 0)
		return DTLS_OK;
	gnutls_cipher_set_iv(c->h, (void *)iv, CBC_BLOCK);
	ENSURE(gnutls_cipher_encrypt(c->h, buf, len) == 0, DTLS_ERR_CRYPTO);
	return DTLS_OK;
}

int cbc_decrypt(struct cbc_ctx *c, const uint8_t iv[static 16], uint8_t *buf, size_t len)
{
	ENSURE(c->h != NULL && len % CBC_BLOCK == 0, DTLS_ERR_ARG);
	if (len == 0)
		return DTLS_OK;
	gnutls_cipher_set_iv(c->h, (void *)iv, CBC_BLOCK);
	ENSURE(gnutls_cipher_decrypt(c->h, buf, len) == 0, DTLS_ERR_CRYPTO);
	return DTLS_OK;
}

void cbc_free(struct cbc_ctx *c)
{
	if (c->h != NULL)
		gnutls_cipher_deinit(c->h);
	c->h = NULL;
}
