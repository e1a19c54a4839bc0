/*
 * The DTLS 1.2 record layer (RFC 6347 4.1): record headers, per-epoch protection,
 * anti-replay, sealing and opening in place.
 *
 * In place: a payload to seal lies in a buffer with REC_HEADROOM writable bytes before
 * it and REC_TAILROOM after it; the record (header, explicit nonce, ciphertext, tag or
 * MAC and padding) is built around it without copying. A record to open is decrypted
 * inside its own fragment and the plaintext is returned as a span of it.
 *
 * Locking: a struct rec_layer belongs to one session and is used under that session's
 * lock; only rec_next_seq's counter is atomic so that a future lock-free seal stays
 * possible.
 */
#ifndef DTLS_RECORD_H
#define DTLS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/guard.h"
#include "crypto/crypto.h"
#include "crypto/suites.h"
#include "record/replay.h"
#include "wire/wire.h"

enum content_type {
	CT_CHANGE_CIPHER_SPEC = 20,
	CT_ALERT = 21,
	CT_HANDSHAKE = 22,
	CT_APPLICATION_DATA = 23,
};

#define DTLS_VERSION_1_0 0xfeff
#define DTLS_VERSION_1_2 0xfefd

#define REC_HEADER_LEN 13
#define REC_MAX_PLAINTEXT 16384                       /* 2^14, RFC 5246 6.2.1 */
#define REC_MAX_CIPHERTEXT (REC_MAX_PLAINTEXT + 2048) /* 2^14 + 2048, RFC 5246 6.2.3 */
#define REC_MAX_EXPLICIT_IV 16
#define REC_HEADROOM (REC_HEADER_LEN + REC_MAX_EXPLICIT_IV) /* 29 */
#define REC_TAILROOM (HASH_MAX_LEN + 16)                    /* MAC + a whole padding block */
#define REC_MAX_SEQ ((UINT64_C(1) << 48) - 1)

struct rec_header {
	uint8_t type;
	uint16_t version;
	uint16_t epoch;
	uint64_t seq; /* 48 bits */
	uint16_t length;
};

/*
 * Reads one record header and returns its fragment as a sub-cursor; a datagram holds
 * several records back to back. DTLS_ERR_DECODE if the header is truncated or the
 * fragment runs past the datagram; DTLS_ERR_RECORD_OVERFLOW if length exceeds
 * REC_MAX_CIPHERTEXT; DTLS_ERR_VERSION if the version is not 0xfeff/0xfefd.
 * The caller drops the rest of a datagram on any error (RFC 6347 4.1.2.7).
 */
MUST_CHECK int rec_parse_header(struct wire_reader *r, struct rec_header *h, struct wire_reader *fragment);

/* Writes a 13-byte header. */
void rec_write_header(uint8_t out[static REC_HEADER_LEN], const struct rec_header *h);

/* Protection of one direction of one epoch. suite == NULL is the null cipher of epoch 0. */
struct rec_cipher {
	const struct suite *suite;
	struct aead_ctx aead;
	struct cbc_ctx cbc;
	struct hmac_ctx mac;
	uint8_t fixed_iv[12];
};

/*
 * key: suite->key_len bytes; iv: suite->fixed_iv_len bytes (may be NULL if 0);
 * mac_key: suite->mac_len bytes (may be NULL for AEAD suites).
 */
MUST_CHECK int rec_cipher_init(struct rec_cipher *c, const struct suite *suite, const uint8_t *key,
			       const uint8_t *iv, const uint8_t *mac_key);
void rec_cipher_free(struct rec_cipher *c);

/*
 * Seals payload[0..len) in place as one record of h->type/version/epoch/seq (h->length
 * is set here). payload must have REC_HEADROOM bytes before it and REC_TAILROOM after
 * it. On success *rec points to the record's first byte (inside the headroom) and
 * *rec_len is its length. DTLS_ERR_RECORD_OVERFLOW if len > REC_MAX_PLAINTEXT.
 */
MUST_CHECK int rec_seal(struct rec_cipher *c, struct rec_header *h, uint8_t *payload, size_t len,
			uint8_t **rec, size_t *rec_len);

/*
 * Opens the record with header h whose fragment (h->length bytes) is at frag, in place.
 * On success *plain points inside frag. DTLS_ERR_BAD_RECORD_MAC for any authentication,
 * padding or length failure; the time taken does not depend on where a CBC record's
 * padding or MAC went wrong. DTLS_ERR_RECORD_OVERFLOW if an authentic record (or a
 * null-cipher one) holds more than REC_MAX_PLAINTEXT bytes. The fragment's bytes are
 * overwritten (in place), also when the record is refused.
 */
MUST_CHECK int rec_open(struct rec_cipher *c, const struct rec_header *h, uint8_t *frag,
			uint8_t **plain, size_t *plain_len);

/* ---- the epochs of one session ------------------------------------------ */

#define REC_READ_EPOCHS 3  /* previous (grace period), current, next (installed before CCS) */
#define REC_WRITE_EPOCHS 2 /* previous (a flight being retransmitted), current */

struct rec_read_epoch {
	bool used;
	uint16_t epoch;
	struct rec_cipher cipher;
	struct replay_window replay;
};

struct rec_write_epoch {
	bool used;
	uint16_t epoch;
	struct rec_cipher cipher;
	_Alignas(64) _Atomic uint64_t next_seq;
};

struct rec_layer {
	uint16_t version; /* written in every record header: 0xfefd */
	struct rec_read_epoch read[REC_READ_EPOCHS];
	struct rec_write_epoch write[REC_WRITE_EPOCHS];
	uint16_t write_epoch; /* the epoch rec_layer_seal uses when asked for the current one */
};

/* Both directions start in epoch 0 with the null cipher. */
void rec_layer_init(struct rec_layer *l);
void rec_layer_free(struct rec_layer *l);

/*
 * Installs read keys for `epoch` (usually current + 1). From then on records of that
 * epoch are opened. If all read slots are used, the lowest epoch is retired first.
 * DTLS_ERR_ARG if `epoch` already has read keys (a second install would reset its
 * replay window): install once per epoch, e.g. not again on a retransmitted CCS.
 */
MUST_CHECK int rec_read_install(struct rec_layer *l, uint16_t epoch, const struct suite *suite,
				const uint8_t *key, const uint8_t *iv, const uint8_t *mac_key);
/* Forgets the read keys of every epoch below `epoch` (the end of a grace period). */
void rec_read_retire_below(struct rec_layer *l, uint16_t epoch);

/*
 * Installs write keys for `epoch` and makes it the current write epoch; the previous one
 * stays usable by rec_layer_seal_epoch (a retransmitted flight) until the next install.
 * DTLS_ERR_ARG unless `epoch` is above the current write epoch (epochs only go up, so
 * no (epoch, seq) is ever sealed twice).
 */
MUST_CHECK int rec_write_install(struct rec_layer *l, uint16_t epoch, const struct suite *suite,
				 const uint8_t *key, const uint8_t *iv, const uint8_t *mac_key);

/*
 * Opens one parsed record in place: finds its epoch's keys (DTLS_ERR_EPOCH if none),
 * checks the replay window before decrypting (DTLS_ERR_REPLAY), opens
 * (DTLS_ERR_BAD_RECORD_MAC) and only then marks the sequence number as seen.
 * All of these are silent drops for the caller, never fatal.
 */
MUST_CHECK int rec_layer_open(struct rec_layer *l, const struct rec_header *h, uint8_t *frag,
			      uint8_t **plain, size_t *plain_len);

/*
 * Seals in place (see rec_seal) under the current write epoch with its next sequence
 * number, or under a given write epoch (DTLS_ERR_EPOCH if it is not installed).
 * DTLS_ERR_INTERNAL when the 48-bit sequence space is exhausted.
 */
MUST_CHECK int rec_layer_seal(struct rec_layer *l, uint8_t type, uint8_t *payload, size_t len,
			      uint8_t **rec, size_t *rec_len);
MUST_CHECK int rec_layer_seal_epoch(struct rec_layer *l, uint16_t epoch, uint8_t type, uint8_t *payload,
				    size_t len, uint8_t **rec, size_t *rec_len);

/*
 * Makes the next sequence number of write epoch `epoch` at least seq. A server that
 * answered statelessly with a HelloVerifyRequest starts its first flight at the second
 * ClientHello's sequence number (RFC 6347 4.2.1), so the client's replay window, which
 * saw the HelloVerifyRequest, does not drop it.
 */
void rec_layer_skip_seq(struct rec_layer *l, uint16_t epoch, uint64_t seq);

/* Largest payload expansion (header included) of the current write epoch. */
size_t rec_layer_overhead(const struct rec_layer *l);

#endif
