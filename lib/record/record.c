/*
 * The record layer: headers, the null cipher and AEAD records, the epochs of a session.
 * CBC records are in cbc.c.
 *
 * Pointer arithmetic on packet bytes is allowed here and only here (rec_seal works in
 * the caller's headroom and tailroom); every offset is checked against a length first.
 */
#include <stdatomic.h>
#include <string.h>

#include "common/ct.h"
#include "record/record_internal.h"

#define AEAD_NONCE_LEN 12

/* ---- headers ------------------------------------------------------------- */

int rec_parse_header(struct wire_reader *r, struct rec_header *h, struct wire_reader *fragment)
{
	h->type = wire_u8(r);
	h->version = wire_u16(r);
	h->epoch = wire_u16(r);
	h->seq = wire_u48(r);
	h->length = wire_u16(r);
	TRY(wire_check(r));
	ENSURE(h->version == DTLS_VERSION_1_2 || h->version == DTLS_VERSION_1_0, DTLS_ERR_VERSION);
	ENSURE(h->length <= REC_MAX_CIPHERTEXT, DTLS_ERR_RECORD_OVERFLOW);
	*fragment = wire_sub(r, h->length);
	return wire_check(r);
}

void rec_write_header(uint8_t out[static REC_HEADER_LEN], const struct rec_header *h)
{
	out[0] = h->type;
	wire_store_u16(out + 1, h->version);
	wire_store_u16(out + 3, h->epoch);
	wire_store_u48(out + 5, h->seq);
	wire_store_u16(out + 11, h->length);
}

void rec_pseudo_header(uint8_t out[static REC_MAC_HEADER_LEN], const struct rec_header *h, uint16_t length)
{
	wire_store_u16(out, h->epoch);
	wire_store_u48(out + 2, h->seq);
	out[8] = h->type;
	wire_store_u16(out + 9, h->version);
	wire_store_u16(out + 11, length);
}

/* ---- per-epoch protection ------------------------------------------------- */

/* Whether the table row describes a record protection this file knows how to apply. */
static bool suite_shape_ok(const struct suite *s)
{
	switch (s->kind) {
	case CIPHER_KIND_AEAD:
		return s->fixed_iv_len + s->record_iv_len == AEAD_NONCE_LEN &&
		       (s->record_iv_len == 0 || s->record_iv_len == 8) && s->tag_len > 0 &&
		       s->tag_len <= REC_TAILROOM && s->mac_len == 0;
	case CIPHER_KIND_CBC:
		return s->fixed_iv_len == 0 && s->record_iv_len == REC_CBC_BLOCK && s->mac_len > 0 &&
		       s->mac_len <= HASH_MAX_LEN && s->mac_len == hash_len(s->mac_hash) &&
		       s->mac_len + REC_CBC_BLOCK <= REC_TAILROOM;
	}
	return false;
}

int rec_cipher_init(struct rec_cipher *c, const struct suite *suite, const uint8_t *key, const uint8_t *iv,
		    const uint8_t *mac_key)
{
	memset(c, 0, sizeof(*c));
	if (!suite)
		return DTLS_OK; /* the null cipher */
	ENSURE(suite_shape_ok(suite), DTLS_ERR_ARG);
	ENSURE(key && (iv || suite->fixed_iv_len == 0), DTLS_ERR_ARG);

	int rc = DTLS_OK;
	switch (suite->kind) {
	case CIPHER_KIND_AEAD:
		TRY_GOTO(rc, aead_init(&c->aead, suite->cipher, key, suite->key_len), fail);
		if (c->aead.tag_len != suite->tag_len) {
			rc = DTLS_ERR_INTERNAL;
			goto fail;
		}
		memcpy(c->fixed_iv, iv, suite->fixed_iv_len);
		break;
	case CIPHER_KIND_CBC:
		ENSURE(mac_key, DTLS_ERR_ARG);
		TRY_GOTO(rc, cbc_init(&c->cbc, suite->cipher, key, suite->key_len), fail);
		TRY_GOTO(rc, hmac_init(&c->mac, suite->mac_hash, mac_key, suite->mac_len), fail);
		break;
	}
	c->suite = suite;
	return DTLS_OK;

fail:
	c->suite = suite; /* so that free knows what to release */
	rec_cipher_free(c);
	return rc;
}

void rec_cipher_free(struct rec_cipher *c)
{
	if (c->suite) {
		if (c->aead.h)
			aead_free(&c->aead);
		if (c->cbc.h)
			cbc_free(&c->cbc);
		if (c->mac.h)
			hmac_free(&c->mac);
	}
	crypto_wipe(c, sizeof(*c));
}

/* The 12-byte AEAD nonce of a record (RFC 5288 3, RFC 6655 3, RFC 7905 2). */
static void aead_nonce(uint8_t nonce[static AEAD_NONCE_LEN], const struct rec_cipher *c,
		       const uint8_t *explicit_nonce)
{
	const struct suite *s = c->suite;
	if (s->record_iv_len == 8) {
		/* GCM, CCM: salt(4) || nonce_explicit(8) */
		memcpy(nonce, c->fixed_iv, 4);
		memcpy(nonce + 4, explicit_nonce, 8);
	} else {
		/* ChaCha20-Poly1305: iv(12) XOR (0(4) || epoch(2) || seq(6)) */
		memcpy(nonce, c->fixed_iv, AEAD_NONCE_LEN);
		for (size_t i = 0; i < 8; i++)
			nonce[4 + i] ^= explicit_nonce[i];
	}
}

static int seal_null(struct rec_header *h, uint8_t *payload, size_t len, uint8_t **rec, size_t *rec_len)
{
	h->length = (uint16_t)len;
	uint8_t *hdr = payload - REC_HEADER_LEN;
	rec_write_header(hdr, h);
	*rec = hdr;
	*rec_len = REC_HEADER_LEN + len;
	return DTLS_OK;
}

static int seal_aead(struct rec_cipher *c, struct rec_header *h, uint8_t *payload, size_t len, uint8_t **rec,
		     size_t *rec_len)
{
	const struct suite *s = c->suite;
	uint8_t seq_bytes[8];
	uint8_t nonce[AEAD_NONCE_LEN];
	uint8_t aad[REC_MAC_HEADER_LEN];

	wire_store_u16(seq_bytes, h->epoch);
	wire_store_u48(seq_bytes + 2, h->seq);
	aead_nonce(nonce, c, seq_bytes);
	rec_pseudo_header(aad, h, (uint16_t)len);

	/* fragment = nonce_explicit (the record's own epoch||seq, never repeated) || ct || tag */
	uint8_t *frag = payload - s->record_iv_len;
	memcpy(frag, seq_bytes, s->record_iv_len);
	int rc = aead_seal(&c->aead, nonce, sizeof(nonce), aad, sizeof(aad), payload, len, payload + len);
	crypto_wipe(nonce, sizeof(nonce));
	TRY(rc);

	h->length = (uint16_t)(s->record_iv_len + len + s->tag_len);
	uint8_t *hdr = frag - REC_HEADER_LEN;
	rec_write_header(hdr, h);
	*rec = hdr;
	*rec_len = REC_HEADER_LEN + (size_t)h->length;
	return DTLS_OK;
}

/*
 * Explicit CBC IVs: fresh crypto_random bytes, fetched in batches. crypto_random is a
 * getrandom() system call per call, which on the test VM cost a third of the CBC
 * record's time; one call per 32 records does not. Each IV is used once and wiped from
 * the pool when taken. The pool is per thread, so no lock. (A process that forks must
 * not seal in both parent and child without a fresh pool; dtlsgw does not fork after
 * it starts sealing.)
 */
#define IV_POOL 512

static _Thread_local uint8_t iv_pool[IV_POOL];
static _Thread_local size_t iv_pool_left;

static void cbc_fresh_iv(uint8_t iv[static REC_CBC_BLOCK])
{
	if (iv_pool_left < REC_CBC_BLOCK) {
		crypto_random(iv_pool, sizeof(iv_pool));
		iv_pool_left = sizeof(iv_pool);
	}
	iv_pool_left -= REC_CBC_BLOCK;
	memcpy(iv, iv_pool + iv_pool_left, REC_CBC_BLOCK);
	crypto_wipe(iv_pool + iv_pool_left, REC_CBC_BLOCK);
}

int rec_seal(struct rec_cipher *c, struct rec_header *h, uint8_t *payload, size_t len, uint8_t **rec,
	     size_t *rec_len)
{
	ENSURE(len <= REC_MAX_PLAINTEXT, DTLS_ERR_RECORD_OVERFLOW);
	ENSURE(h->seq <= REC_MAX_SEQ, DTLS_ERR_ARG);
	const struct suite *s = c->suite;
	if (!s)
		return seal_null(h, payload, len, rec, rec_len);
	switch (s->kind) {
	case CIPHER_KIND_AEAD:
		return seal_aead(c, h, payload, len, rec, rec_len);
	case CIPHER_KIND_CBC: {
		uint8_t iv[REC_CBC_BLOCK];
		cbc_fresh_iv(iv);
		return rec_seal_cbc_with_iv(c, h, payload, len, iv, rec, rec_len);
	}
	}
	return DTLS_ERR_INTERNAL;
}

static int open_aead(struct rec_cipher *c, const struct rec_header *h, uint8_t *frag, uint8_t **plain,
		     size_t *plain_len)
{
	const struct suite *s = c->suite;
	size_t frag_len = h->length;
	ENSURE(frag_len >= (size_t)s->record_iv_len + s->tag_len, DTLS_ERR_BAD_RECORD_MAC);
	size_t len = frag_len - s->record_iv_len - s->tag_len;

	uint8_t seq_bytes[8];
	uint8_t nonce[AEAD_NONCE_LEN];
	uint8_t aad[REC_MAC_HEADER_LEN];
	if (s->record_iv_len == 8) {
		memcpy(seq_bytes, frag, 8); /* the sender's nonce_explicit, RFC 5288 3 */
	} else {
		wire_store_u16(seq_bytes, h->epoch);
		wire_store_u48(seq_bytes + 2, h->seq);
	}
	aead_nonce(nonce, c, seq_bytes);
	rec_pseudo_header(aad, h, (uint16_t)len);

	uint8_t *buf = frag + s->record_iv_len;
	int rc = aead_open(&c->aead, nonce, sizeof(nonce), aad, sizeof(aad), buf, len, buf + len);
	crypto_wipe(nonce, sizeof(nonce));
	if (rc < 0) {
		crypto_wipe(buf, len);
		return rc == DTLS_ERR_CRYPTO ? rc : DTLS_ERR_BAD_RECORD_MAC;
	}
	ENSURE(len <= REC_MAX_PLAINTEXT, DTLS_ERR_RECORD_OVERFLOW);
	*plain = buf;
	*plain_len = len;
	return DTLS_OK;
}

int rec_open(struct rec_cipher *c, const struct rec_header *h, uint8_t *frag, uint8_t **plain, size_t *plain_len)
{
	const struct suite *s = c->suite;
	if (!s) {
		ENSURE(h->length <= REC_MAX_PLAINTEXT, DTLS_ERR_RECORD_OVERFLOW);
		*plain = frag;
		*plain_len = h->length;
		return DTLS_OK;
	}
	switch (s->kind) {
	case CIPHER_KIND_AEAD:
		return open_aead(c, h, frag, plain, plain_len);
	case CIPHER_KIND_CBC:
		return rec_open_cbc(c, h, frag, plain, plain_len);
	}
	return DTLS_ERR_INTERNAL;
}

/* ---- the epochs of a session ---------------------------------------------- */

void rec_layer_init(struct rec_layer *l)
{
	memset(l, 0, sizeof(*l));
	l->version = DTLS_VERSION_1_2;
	for (size_t i = 0; i < REC_WRITE_EPOCHS; i++)
		atomic_init(&l->write[i].next_seq, 0);
	l->read[0].used = true;
	l->read[0].epoch = 0;
	replay_init(&l->read[0].replay);
	l->write[0].used = true;
	l->write[0].epoch = 0;
	l->write_epoch = 0;
	/* rec_cipher of both: the zeroed struct is the null cipher */
}

static void read_slot_clear(struct rec_read_epoch *e)
{
	if (e->used)
		rec_cipher_free(&e->cipher);
	memset(e, 0, sizeof(*e));
}

static void write_slot_clear(struct rec_write_epoch *e)
{
	if (e->used)
		rec_cipher_free(&e->cipher);
	e->used = false;
	e->epoch = 0;
	atomic_store(&e->next_seq, 0);
}

void rec_layer_free(struct rec_layer *l)
{
	for (size_t i = 0; i < REC_READ_EPOCHS; i++)
		read_slot_clear(&l->read[i]);
	for (size_t i = 0; i < REC_WRITE_EPOCHS; i++)
		write_slot_clear(&l->write[i]);
}

static struct rec_read_epoch *read_slot(struct rec_layer *l, uint16_t epoch)
{
	for (size_t i = 0; i < REC_READ_EPOCHS; i++)
		if (l->read[i].used && l->read[i].epoch == epoch)
			return &l->read[i];
	return NULL;
}

static struct rec_write_epoch *write_slot(struct rec_layer *l, uint16_t epoch)
{
	for (size_t i = 0; i < REC_WRITE_EPOCHS; i++)
		if (l->write[i].used && l->write[i].epoch == epoch)
			return &l->write[i];
	return NULL;
}

int rec_read_install(struct rec_layer *l, uint16_t epoch, const struct suite *suite, const uint8_t *key,
		     const uint8_t *iv, const uint8_t *mac_key)
{
	/* Reinstalling would reset the replay window of an epoch already received. */
	ENSURE(!read_slot(l, epoch), DTLS_ERR_ARG);

	struct rec_read_epoch *slot = NULL;
	for (size_t i = 0; i < REC_READ_EPOCHS && !slot; i++)
		if (!l->read[i].used)
			slot = &l->read[i];
	if (!slot) {
		slot = &l->read[0];
		for (size_t i = 1; i < REC_READ_EPOCHS; i++)
			if (l->read[i].epoch < slot->epoch)
				slot = &l->read[i];
	}

	struct rec_cipher c;
	TRY(rec_cipher_init(&c, suite, key, iv, mac_key));
	read_slot_clear(slot);
	slot->cipher = c;
	crypto_wipe(&c, sizeof(c));
	slot->epoch = epoch;
	replay_init(&slot->replay);
	slot->used = true;
	return DTLS_OK;
}

void rec_read_retire_below(struct rec_layer *l, uint16_t epoch)
{
	for (size_t i = 0; i < REC_READ_EPOCHS; i++)
		if (l->read[i].used && l->read[i].epoch < epoch)
			read_slot_clear(&l->read[i]);
}

int rec_write_install(struct rec_layer *l, uint16_t epoch, const struct suite *suite, const uint8_t *key,
		      const uint8_t *iv, const uint8_t *mac_key)
{
	/* Epochs only go up: an epoch's sequence numbers must never start over. */
	ENSURE(epoch > l->write_epoch, DTLS_ERR_ARG);

	struct rec_write_epoch *cur = write_slot(l, l->write_epoch);
	struct rec_write_epoch *slot = NULL;
	for (size_t i = 0; i < REC_WRITE_EPOCHS && !slot; i++)
		if (&l->write[i] != cur)
			slot = &l->write[i];
	if (!slot)
		return DTLS_ERR_INTERNAL;

	struct rec_cipher c;
	TRY(rec_cipher_init(&c, suite, key, iv, mac_key));
	write_slot_clear(slot); /* the epoch before the current one, if any */
	slot->cipher = c;
	crypto_wipe(&c, sizeof(c));
	slot->epoch = epoch;
	atomic_store(&slot->next_seq, 0);
	slot->used = true;
	l->write_epoch = epoch;
	return DTLS_OK;
}

int rec_layer_open(struct rec_layer *l, const struct rec_header *h, uint8_t *frag, uint8_t **plain,
		   size_t *plain_len)
{
	struct rec_read_epoch *e = read_slot(l, h->epoch);
	ENSURE(e, DTLS_ERR_EPOCH);
	ENSURE(h->seq <= REC_MAX_SEQ, DTLS_ERR_REPLAY);
	ENSURE(replay_check(&e->replay, h->seq), DTLS_ERR_REPLAY);
	TRY(rec_open(&e->cipher, h, frag, plain, plain_len));
	replay_update(&e->replay, h->seq);
	return DTLS_OK;
}

static int seal_in(struct rec_layer *l, struct rec_write_epoch *e, uint8_t type, uint8_t *payload, size_t len,
		   uint8_t **rec, size_t *rec_len)
{
	ENSURE(len <= REC_MAX_PLAINTEXT, DTLS_ERR_RECORD_OVERFLOW);
	/*
	 * Claim a sequence number. The counter only grows, so no number is handed out
	 * twice, even to concurrent sealers; past REC_MAX_SEQ it keeps growing harmlessly
	 * (2^64 is out of reach) and every seal is refused.
	 */
	uint64_t seq = atomic_fetch_add_explicit(&e->next_seq, 1, memory_order_relaxed);
	ENSURE(seq <= REC_MAX_SEQ, DTLS_ERR_INTERNAL);
	struct rec_header h = {
		.type = type,
		.version = l->version,
		.epoch = e->epoch,
		.seq = seq,
	};
	return rec_seal(&e->cipher, &h, payload, len, rec, rec_len);
}

int rec_layer_seal(struct rec_layer *l, uint8_t type, uint8_t *payload, size_t len, uint8_t **rec,
		   size_t *rec_len)
{
	struct rec_write_epoch *e = write_slot(l, l->write_epoch);
	ENSURE(e, DTLS_ERR_EPOCH);
	return seal_in(l, e, type, payload, len, rec, rec_len);
}

int rec_layer_seal_epoch(struct rec_layer *l, uint16_t epoch, uint8_t type, uint8_t *payload, size_t len,
			 uint8_t **rec, size_t *rec_len)
{
	struct rec_write_epoch *e = write_slot(l, epoch);
	ENSURE(e, DTLS_ERR_EPOCH);
	return seal_in(l, e, type, payload, len, rec, rec_len);
}

size_t rec_layer_overhead(const struct rec_layer *l)
{
	const struct rec_write_epoch *e = NULL;
	for (size_t i = 0; i < REC_WRITE_EPOCHS; i++)
		if (l->write[i].used && l->write[i].epoch == l->write_epoch)
			e = &l->write[i];
	const struct suite *s = e ? e->cipher.suite : NULL;
	if (!s)
		return REC_HEADER_LEN;
	switch (s->kind) {
	case CIPHER_KIND_AEAD:
		return REC_HEADER_LEN + s->record_iv_len + s->tag_len;
	case CIPHER_KIND_CBC:
		return REC_HEADER_LEN + s->record_iv_len + s->mac_len + REC_CBC_BLOCK; /* padding: 1..16 */
	}
	return REC_HEADER_LEN;
}

void rec_layer_skip_seq(struct rec_layer *l, uint16_t epoch, uint64_t seq)
{
	struct rec_write_epoch *e = write_slot(l, epoch);
	if (!e)
		return;
	uint64_t cur = atomic_load(&e->next_seq);
	while (cur < seq && !atomic_compare_exchange_weak(&e->next_seq, &cur, seq))
		;
}
