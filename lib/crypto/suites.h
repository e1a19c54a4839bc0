/*
 * The ciphersuite table: the "generic cryptographic API" of the reference product. Each
 * row names the methods of one suite; the handshake and the record layer read nothing
 * else. A configuration chooses an ordered subset of these rows.
 */
#ifndef DTLS_SUITES_H
#define DTLS_SUITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

enum kx_alg {
	KX_PSK,          /* RFC 4279 plain PSK */
	KX_ECDHE_PSK,    /* RFC 5489 */
	KX_RSA,          /* RSA key transport */
	KX_ECDHE_ECDSA,  /* RFC 8422 */
	KX_ECDHE_RSA,
};

enum cipher_kind { CIPHER_KIND_AEAD, CIPHER_KIND_CBC };

struct suite {
	uint16_t id;             /* IANA code point */
	const char *name;        /* IANA name, "TLS_PSK_WITH_AES_128_GCM_SHA256" */
	enum kx_alg kx;
	enum cipher_kind kind;
	enum cipher_alg cipher;
	uint8_t key_len;         /* encryption key */
	uint8_t fixed_iv_len;    /* implicit IV from the key block: 4 GCM/CCM, 12 ChaCha20, 0 CBC */
	uint8_t record_iv_len;   /* explicit per-record nonce/IV: 8 GCM/CCM, 0 ChaCha20, 16 CBC */
	uint8_t tag_len;         /* AEAD tag: 16, or 8 for CCM_8; 0 for CBC */
	uint8_t mac_len;         /* CBC HMAC output: 20 SHA-1, 32 SHA-256; 0 for AEAD */
	enum hash_alg mac_hash;  /* CBC only */
	enum hash_alg prf_hash;  /* PRF and Finished hash */
};

extern const struct suite suite_table[];
extern const size_t suite_count;

const struct suite *suite_by_id(uint16_t id);
/* By IANA name, or by the OpenSSL-style short name ("PSK-AES128-GCM-SHA256"); case-insensitive. */
const struct suite *suite_by_name(const char *name);

static inline bool suite_is_psk(const struct suite *s)
{
	return s->kx == KX_PSK || s->kx == KX_ECDHE_PSK;
}

static inline bool suite_is_ecdhe(const struct suite *s)
{
	return s->kx == KX_ECDHE_PSK || s->kx == KX_ECDHE_ECDSA || s->kx == KX_ECDHE_RSA;
}

static inline bool suite_uses_cert(const struct suite *s)
{
	return s->kx == KX_RSA || s->kx == KX_ECDHE_ECDSA || s->kx == KX_ECDHE_RSA;
}

/* What a default policy should offer: forward secret, and an AEAD with a full 16-byte
 * tag (no CBC-HMAC, no CCM_8, no RSA key transport). */
bool suite_is_recommended(const struct suite *s);

/* The OpenSSL-style short name ("PSK-AES128-GCM-SHA256") of a table row; never NULL. */
const char *suite_short_name(const struct suite *s);

/* Largest expansion of a record's payload under this suite: explicit IV + tag, or IV + MAC + padding. */
size_t suite_record_overhead(const struct suite *s);

#endif
