/*
 * CBC records: MAC-then-encrypt as in TLS 1.2 (RFC 5246 6.2.3.2), with the DTLS
 * epoch||seq in the MAC (RFC 6347 4.1.2.1). No encrypt-then-MAC.
 *
 *   fragment = IV(16) || AES-CBC(IV, plaintext || MAC || padding)
 *   MAC      = HMAC(mac_key, epoch||seq || type || version || length || plaintext)
 *   padding  = p+1 bytes of value p, minimal, so that the whole is a multiple of 16
 *
 * Opening is the dangerous part (Vaudenay's padding oracle, Lucky Thirteen): after the
 * decryption the plaintext length, the padding and the MAC position are all secret, so
 * rec_open_cbc never branches on them and never indexes memory with them. It checks the
 * padding over the largest span it can have, computes the MAC, makes the number of hash
 * compression calls independent of the padding length, reads the received MAC with a
 * scan of every position it could be at, and decides once at the end.
 */
#include <string.h>

#include "common/ct.h"
#include "record/record_internal.h"
#include "wire/wire.h"

/* Largest padding: 255 padding bytes and the length byte (RFC 5246 6.2.3.2). */
#define PAD_SPAN 256

/* Public bytes fed to the HMAC as dummy blocks; large enough for every case (see below). */
static const uint8_t dummy_blocks[512];

int rec_seal_cbc_with_iv(struct rec_cipher *c, struct rec_header *h, uint8_t *payload, size_t len,
			 const uint8_t iv[static REC_CBC_BLOCK], uint8_t **rec, size_t *rec_len)
{
	const struct suite *s = c->suite;
	ENSURE(s && s->kind == CIPHER_KIND_CBC, DTLS_ERR_ARG);
	ENSURE(len <= REC_MAX_PLAINTEXT, DTLS_ERR_RECORD_OVERFLOW);
	ENSURE(h->seq <= REC_MAX_SEQ, DTLS_ERR_ARG);

	size_t mac_len = s->mac_len;
	size_t unpadded = len + mac_len + 1; /* payload, MAC, padding length byte */
	size_t pad = (REC_CBC_BLOCK - unpadded % REC_CBC_BLOCK) % REC_CBC_BLOCK;
	size_t enc_len = unpadded + pad;

	/*
	 * The pseudo-header goes in the headroom right before the payload (where the IV
	 * will be written next) so that the MAC input is one span.
	 */
	uint8_t mac[HASH_MAX_LEN];
	uint8_t *mac_in = payload - REC_MAC_HEADER_LEN;
	rec_pseudo_header(mac_in, h, (uint16_t)len);
	int rc = hmac_update(&c->mac, mac_in, REC_MAC_HEADER_LEN + len);
	hmac_final(&c->mac, mac); /* also resets the context after a failed update */
	if (rc < 0) {
		crypto_wipe(mac, sizeof(mac));
		return rc;
	}
	/* payload[len..enc_len) is the caller's tailroom: mac_len + pad + 1 <= REC_TAILROOM. */
	memcpy(payload + len, mac, mac_len);
	memset(payload + len + mac_len, (int)pad, pad + 1);
	crypto_wipe(mac, sizeof(mac));

	uint8_t *frag = payload - REC_CBC_BLOCK;
	memcpy(frag, iv, REC_CBC_BLOCK);
	TRY(cbc_encrypt(&c->cbc, iv, payload, enc_len));

	h->length = (uint16_t)(REC_CBC_BLOCK + enc_len);
	uint8_t *hdr = frag - REC_HEADER_LEN;
	rec_write_header(hdr, h);
	*rec = hdr;
	*rec_len = REC_HEADER_LEN + (size_t)h->length;
	return DTLS_OK;
}

/*
 * Number of compression-function calls of the inner hash of an HMAC over the 13-byte
 * pseudo-header and n bytes of data, not counting the key block (precomputed when the
 * key is set). The final block carries the 0x80 byte and the 8-byte (SHA-1, SHA-256)
 * or 16-byte (SHA-384) bit length. block_shift is log2 of the block size. Division by
 * shifting: n is secret and a divide instruction may take data-dependent time.
 */
static uint32_t hash_blocks(uint32_t n, uint32_t block_shift)
{
	uint32_t block = UINT32_C(1) << block_shift;
	uint32_t trailer = 1 + (block == 128 ? 16 : 8);
	return (REC_MAC_HEADER_LEN + n + trailer + block - 1) >> block_shift;
}

int rec_open_cbc(struct rec_cipher *c, const struct rec_header *h, uint8_t *frag, uint8_t **plain,
		 size_t *plain_len)
{
	const struct suite *s = c->suite;
	ENSURE(s && s->kind == CIPHER_KIND_CBC, DTLS_ERR_ARG);
	const uint32_t mac_len = s->mac_len;
	const size_t frag_len = h->length;

	/*
	 * Public checks, early exit allowed: a whole number of blocks after the IV, and room
	 * for at least the MAC and the padding length byte.
	 */
	size_t min_enc = (mac_len + 1 + REC_CBC_BLOCK - 1) / REC_CBC_BLOCK * REC_CBC_BLOCK;
	ENSURE(frag_len >= REC_CBC_BLOCK + min_enc, DTLS_ERR_BAD_RECORD_MAC);
	ENSURE(frag_len % REC_CBC_BLOCK == 0, DTLS_ERR_BAD_RECORD_MAC);

	uint8_t *buf = frag + REC_CBC_BLOCK;
	const uint32_t n = (uint32_t)(frag_len - REC_CBC_BLOCK); /* <= REC_MAX_CIPHERTEXT */
	TRY(cbc_decrypt(&c->cbc, frag, buf, n));

	/* ---- from here on, no branch and no memory index depends on buf ---- */

	/* The padding length byte, and the plaintext length if the padding were minimal. */
	const uint32_t pad = buf[n - 1];
	const uint32_t max_plain = n - mac_len - 1; /* public, >= 0 by the checks above */

	/* The padding must fit: pad + 1 + mac_len <= n. */
	uint32_t good = ~ct_lt_u32(max_plain, pad);

	/*
	 * Every padding byte must equal pad. Look at the last PAD_SPAN bytes (or all of
	 * them): the loop length is public, the mask decides which bytes count.
	 */
	uint32_t span = n < PAD_SPAN ? n : PAD_SPAN;
	for (uint32_t i = 0; i < span; i++) {
		uint32_t in_pad = ~ct_lt_u32(pad, i); /* i <= pad */
		good &= ~in_pad | ct_eq_u32(buf[n - 1 - i], pad);
	}

	/* With bad padding, authenticate as if the padding were minimal (RFC 5246 6.2.3.2). */
	const uint32_t len = ct_select_u32(good, max_plain - pad, max_plain);

	/*
	 * The MAC over the plaintext. hmac_update on len bytes runs a number of hash
	 * compression calls that grows with len, so an attacker timing us could tell long
	 * padding from short padding (Lucky Thirteen, AlFardan and Paterson 2013). The
	 * classic countermeasure, as in GnuTLS: after the real MAC, feed the (now reset)
	 * HMAC context as many dummy whole blocks as the real MAC was short of the count
	 * for the minimal padding, then finish it into a discarded buffer. The real MAC
	 * costs hash_blocks(len) compressions, the dummy one (blocks(max) - blocks(len) + 1)
	 * plus its own fixed finalisation, so the sum depends on public lengths only.
	 * It does not hide the sub-block work (copying len bytes into the hash buffer);
	 * that residue is small and the same one GnuTLS and OpenSSL 1.0.1 accepted.
	 *
	 * One dummy block more than the difference is fed every time, so the dummy
	 * update is never empty (the provider skips empty updates: a branch on len).
	 * dummy_blocks is large enough: len >= max_plain - 255, so the difference is at
	 * most ceil(255 / block) + 1 blocks, plus one: 6 * 64 or 4 * 128 bytes.
	 */
	size_t block = hmac_block_len(s->mac_hash);
	uint32_t block_shift = block == 128 ? 7 : 6;
	uint32_t extra = (hash_blocks(max_plain, block_shift) - hash_blocks(len, block_shift) + 1) << block_shift;
	_Static_assert(sizeof(dummy_blocks) >= 6 * 64 && sizeof(dummy_blocks) >= 4 * 128, "dummy span");

	uint8_t mac[HASH_MAX_LEN];
	uint8_t discard[HASH_MAX_LEN];
	uint8_t rotated[HASH_MAX_LEN] = { 0 };
	uint8_t received[HASH_MAX_LEN] = { 0 };

	/*
	 * The IV is spent: write the pseudo-header into its last 13 bytes, right before the
	 * plaintext, so that the MAC input is one span and one call whatever len is.
	 */
	uint8_t *mac_in = buf - REC_MAC_HEADER_LEN;
	rec_pseudo_header(mac_in, h, (uint16_t)len);
	int rc = hmac_update(&c->mac, mac_in, REC_MAC_HEADER_LEN + len);
	hmac_final(&c->mac, mac);
	if (rc >= 0)
		rc = hmac_update(&c->mac, dummy_blocks, extra);
	hmac_final(&c->mac, discard);
	if (rc < 0)
		goto out; /* a library failure, independent of the record's secrets */

	/*
	 * The received MAC sits at buf[len..len + mac_len) with len secret. Scan every byte
	 * it could occupy: from max_plain - 255 (longest padding) to n - 2 (shortest). Byte
	 * i goes to rotated[(i - scan_start) mod mac_len], a public index; the MAC comes out
	 * rotated by (len - scan_start) mod mac_len, undone below with masks.
	 */
	uint32_t scan_start = max_plain > PAD_SPAN - 1 ? max_plain - (PAD_SPAN - 1) : 0;
	uint32_t mac_end = len + mac_len;
	uint32_t in_mac = 0, rot = 0, j = 0;
	for (uint32_t i = scan_start; i < n - 1; i++) {
		uint32_t started = ct_eq_u32(i, len);
		in_mac = (in_mac | started) & ct_lt_u32(i, mac_end);
		rot |= j & started;
		rotated[j] |= (uint8_t)(buf[i] & in_mac);
		j = j + 1 == mac_len ? 0 : j + 1; /* public: depends on i only */
	}
	/*
	 * Rotate left by rot (secret, < mac_len) as a barrel shifter: for each bit b of rot,
	 * rotate by 2^b (mod mac_len, a public amount) and keep the result under a mask.
	 */
	for (uint32_t b = 1, step = 0; b < mac_len; b <<= 1, step++) {
		uint32_t take = 0u - ((rot >> step) & 1u);
		uint32_t by = b % mac_len;
		for (uint32_t k = 0; k < mac_len; k++) {
			uint32_t from = k + by < mac_len ? k + by : k + by - mac_len; /* public */
			received[k] = ct_select_u8(take, rotated[from], rotated[k]);
		}
		memcpy(rotated, received, mac_len);
	}
	memcpy(received, rotated, mac_len);

	good &= (uint32_t)0 - (uint32_t)ct_memeq(received, mac, mac_len);
	rc = good ? DTLS_OK : DTLS_ERR_BAD_RECORD_MAC; /* the one branch on the outcome */

out:
	crypto_wipe(mac, sizeof(mac));
	crypto_wipe(discard, sizeof(discard));
	crypto_wipe(rotated, sizeof(rotated));
	crypto_wipe(received, sizeof(received));
	if (rc < 0) {
		crypto_wipe(buf, n); /* leave no plaintext of a rejected record behind */
		return rc;
	}
	ENSURE(len <= REC_MAX_PLAINTEXT, DTLS_ERR_RECORD_OVERFLOW);
	*plain = buf;
	*plain_len = len;
	return DTLS_OK;
}
