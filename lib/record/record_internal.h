/*
 * Private to lib/record (and its unit tests): the pieces record.c and cbc.c share.
 */
#ifndef DTLS_RECORD_INTERNAL_H
#define DTLS_RECORD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "record/record.h"

#define REC_CBC_BLOCK 16
#define REC_MAC_HEADER_LEN 13 /* epoch(2) seq(6) type(1) version(2) length(2) */

/*
 * The 13 bytes that precede the payload in the AEAD additional data and in the CBC MAC:
 * epoch || seq || type || version || length (RFC 5246 6.2.3.1 and 6.2.3.3, with the
 * DTLS epoch||seq as seq_num, RFC 6347 4.1.2.1). length is the plaintext length.
 */
void rec_pseudo_header(uint8_t out[static REC_MAC_HEADER_LEN], const struct rec_header *h, uint16_t length);

/*
 * Seals a CBC record (MAC-then-encrypt) with the given explicit IV instead of a random
 * one. Only rec_seal (with a fresh random IV) and the known-answer tests call it: an IV
 * that repeats or is predictable breaks CBC. Same contract as rec_seal otherwise.
 */
MUST_CHECK int rec_seal_cbc_with_iv(struct rec_cipher *c, struct rec_header *h, uint8_t *payload, size_t len,
				    const uint8_t iv[static REC_CBC_BLOCK], uint8_t **rec, size_t *rec_len);

/* Opens a CBC record in constant time (see cbc.c). Contract of rec_open. */
MUST_CHECK int rec_open_cbc(struct rec_cipher *c, const struct rec_header *h, uint8_t *frag, uint8_t **plain,
			    size_t *plain_len);

#endif
