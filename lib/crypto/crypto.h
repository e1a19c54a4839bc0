/*
 * The crypto provider: every cryptographic primitive libdtls uses, behind one header.
 * Symmetric crypto and hashes come from the GnuTLS crypto API, ECDH from nettle/hogweed,
 * random bytes from libsodium. Nothing here is written by hand but the TLS 1.2 PRF
 * construction (RFC 5246 5), which is HMAC from GnuTLS in a loop.
 *
 * Contexts own library handles: init them once, free them once. Secret material held
 * in a context is wiped by its free function.
 */
#ifndef DTLS_CRYPTO_H
#define DTLS_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/guard.h"

/* Initialises the libraries (libsodium, GnuTLS). Idempotent and thread-safe. */
MUST_CHECK int crypto_init(void);

/* Cryptographically secure random bytes (libsodium). Cannot fail once crypto_init succeeded. */
void crypto_random(void *buf, size_t n);

/* ---- hashes and HMAC ---------------------------------------------------- */

enum hash_alg { HASH_SHA1, HASH_SHA256, HASH_SHA384 };

#define HASH_MAX_LEN 48

size_t hash_len(enum hash_alg alg);

MUST_CHECK int hash_buf(enum hash_alg alg, const void *data, size_t len, uint8_t out[static HASH_MAX_LEN]);

MUST_CHECK int hmac_buf(enum hash_alg alg, const void *key, size_t key_len, const void *data, size_t len,
			uint8_t out[static HASH_MAX_LEN]);

/*
 * A running hash (the handshake transcript). hash_peek writes the digest of everything
 * fed so far and leaves the context running. A context is not safe for concurrent use.
 */
struct hash_ctx {
	void *h; /* gnutls_hash_hd_t */
	enum hash_alg alg;
};

MUST_CHECK int hash_init(struct hash_ctx *c, enum hash_alg alg);
MUST_CHECK int hash_update(struct hash_ctx *c, const void *data, size_t len);
MUST_CHECK int hash_peek(const struct hash_ctx *c, uint8_t out[static HASH_MAX_LEN]);
/* Safe on a context whose init failed or that was already freed. */
void hash_free(struct hash_ctx *c);

/*
 * A keyed HMAC context that can be used for many messages (the record MAC). Not safe for
 * concurrent use: callers serialise per context or keep one per thread.
 */
struct hmac_ctx {
	void *h; /* gnutls_hmac_hd_t */
	enum hash_alg alg;
};

MUST_CHECK int hmac_init(struct hmac_ctx *c, enum hash_alg alg, const void *key, size_t key_len);
/* Feeds data; hmac_final writes the MAC and resets the context for the next message. */
MUST_CHECK int hmac_update(struct hmac_ctx *c, const void *data, size_t len);
void hmac_final(struct hmac_ctx *c, uint8_t out[static HASH_MAX_LEN]);
/* Internal block size of the hash (64 for SHA-1/SHA-256, 128 for SHA-384). */
size_t hmac_block_len(enum hash_alg alg);
void hmac_free(struct hmac_ctx *c);

/* ---- the TLS 1.2 PRF (RFC 5246 5, RFC 7627) ----------------------------- */

/* out = P_hash(secret, label || seed1 || seed2), any output length. seed2 may be NULL. */
MUST_CHECK int prf_tls12(enum hash_alg alg, const uint8_t *secret, size_t secret_len, const char *label,
			 const uint8_t *seed1, size_t seed1_len, const uint8_t *seed2, size_t seed2_len,
			 uint8_t *out, size_t out_len);

/* master_secret = PRF(pms, "master secret", client_random + server_random)[0..47] */
MUST_CHECK int prf_master_secret(enum hash_alg alg, const uint8_t *pms, size_t pms_len,
				 const uint8_t client_random[static 32], const uint8_t server_random[static 32],
				 uint8_t master[static 48]);

/* RFC 7627: PRF(pms, "extended master secret", session_hash)[0..47] */
MUST_CHECK int prf_extended_master_secret(enum hash_alg alg, const uint8_t *pms, size_t pms_len,
					  const uint8_t *session_hash, size_t hash_len, uint8_t master[static 48]);

/* key_block = PRF(master, "key expansion", server_random + client_random) */
MUST_CHECK int prf_key_block(enum hash_alg alg, const uint8_t master[static 48],
			     const uint8_t client_random[static 32], const uint8_t server_random[static 32],
			     uint8_t *out, size_t out_len);

/* verify_data = PRF(master, "client finished" | "server finished", handshake_hash)[0..11] */
MUST_CHECK int prf_verify_data(enum hash_alg alg, const uint8_t master[static 48], bool client,
			       const uint8_t *handshake_hash, size_t hash_len, uint8_t out[static 12]);

/* ---- AEAD and CBC ------------------------------------------------------- */

enum cipher_alg {
	CIPHER_AES_128_GCM,
	CIPHER_AES_256_GCM,
	CIPHER_AES_128_CCM,
	CIPHER_AES_128_CCM_8,
	CIPHER_CHACHA20_POLY1305,
	CIPHER_AES_128_CBC,
	CIPHER_AES_256_CBC,
};

/*
 * Keyed cipher contexts. Seal/open and encrypt/decrypt change the state of the library
 * handle (nonce/IV, counters), so one context must not be used by two threads at once:
 * serialise per context, or key one context per thread. The *_free functions (here and
 * hmac_free) are safe after a failed *_init and when called twice.
 */
struct aead_ctx {
	void *h; /* gnutls_aead_cipher_hd_t */
	size_t tag_len;
};

MUST_CHECK int aead_init(struct aead_ctx *c, enum cipher_alg alg, const uint8_t *key, size_t key_len);
/* Encrypts buf in place and writes the tag to tag[0..tag_len). */
MUST_CHECK int aead_seal(struct aead_ctx *c, const uint8_t *nonce, size_t nonce_len, const uint8_t *aad,
			 size_t aad_len, uint8_t *buf, size_t len, uint8_t *tag);
/* Decrypts buf in place; DTLS_ERR_BAD_RECORD_MAC if the tag does not verify. */
MUST_CHECK int aead_open(struct aead_ctx *c, const uint8_t *nonce, size_t nonce_len, const uint8_t *aad,
			 size_t aad_len, uint8_t *buf, size_t len, const uint8_t *tag);
void aead_free(struct aead_ctx *c);

struct cbc_ctx {
	void *h; /* gnutls_cipher_hd_t */
};

MUST_CHECK int cbc_init(struct cbc_ctx *c, enum cipher_alg alg, const uint8_t *key, size_t key_len);
/* In place; len is a multiple of 16. */
MUST_CHECK int cbc_encrypt(struct cbc_ctx *c, const uint8_t iv[static 16], uint8_t *buf, size_t len);
MUST_CHECK int cbc_decrypt(struct cbc_ctx *c, const uint8_t iv[static 16], uint8_t *buf, size_t len);
void cbc_free(struct cbc_ctx *c);

/* ---- ECDH (nettle) ------------------------------------------------------ */

/* TLS NamedGroup code points (RFC 8422). */
enum group {
	GROUP_SECP256R1 = 23,
	GROUP_SECP384R1 = 24,
	GROUP_X25519 = 29,
};

#define KEX_MAX_PUB 97 /* uncompressed P-384 point */
#define KEX_MAX_SECRET 48

struct kex_key {
	uint16_t group;
	uint8_t priv[48];
	size_t priv_len;
	uint8_t pub[KEX_MAX_PUB]; /* X25519: 32 bytes; NIST: 0x04 || X || Y */
	size_t pub_len;
};

bool kex_group_supported(uint16_t group);
/* Generates an ephemeral key pair for group. */
MUST_CHECK int kex_generate(struct kex_key *k, uint16_t group);
/*
 * Computes the shared secret with the peer's public value (X25519: 32 bytes; NIST: the
 * x coordinate). Rejects a malformed point, one not on the curve, and an all-zero X25519
 * result with DTLS_ERR_ILLEGAL_PARAMETER.
 */
MUST_CHECK int kex_derive(const struct kex_key *k, const uint8_t *peer, size_t peer_len,
			  uint8_t secret[static KEX_MAX_SECRET], size_t *secret_len);
void kex_wipe(struct kex_key *k);

/* Wipes secrets in a way the compiler keeps. */
void crypto_wipe(void *p, size_t n);

#endif
