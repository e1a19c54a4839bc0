/* The record layer (lib/record): headers, sealing and opening for every suite, CBC
 * padding and MAC failures, known answers, and the epochs of a session. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "record/record.h"
#include "record/record_internal.h"

#define BUF_LEN (REC_HEADROOM + REC_MAX_PLAINTEXT + REC_TAILROOM)

/* A packet buffer: headroom, payload, tailroom. */
struct pkt {
	uint8_t b[BUF_LEN];
};

static uint8_t *payload_of(struct pkt *p)
{
	return p->b + REC_HEADROOM;
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

/* Parses one record at the start of a datagram; *frag is its fragment, writable. */
static int parse_one(uint8_t *dgram, size_t len, struct rec_header *h, uint8_t **frag)
{
	struct wire_reader r = wire_reader(dgram, len);
	struct wire_reader f;
	*frag = NULL;
	int rc = rec_parse_header(&r, h, &f);
	if (rc < 0)
		return rc;
	*frag = dgram + (wire_offset(&r) - h->length);
	return DTLS_OK;
}

/* Keys for one suite, the same on both sides. */
struct keys {
	uint8_t key[32];
	uint8_t iv[12];
	uint8_t mac[HASH_MAX_LEN];
};

static void keys_random(struct keys *k)
{
	crypto_random(k, sizeof(*k));
}

static int cipher_init(struct rec_cipher *c, const struct suite *s, const struct keys *k)
{
	return rec_cipher_init(c, s, k->key, k->iv, k->mac);
}

static int init_suite(void)
{
	return crypto_init() < 0 ? -1 : 0;
}

/* Every row of the suite table, plus the null cipher at index suite_count. */
static const struct suite *suite_at(size_t i)
{
	return i < suite_count ? &suite_table[i] : NULL;
}

static const char *suite_name(const struct suite *s)
{
	return s ? s->name : "null";
}

static size_t expected_frag_len(const struct suite *s, size_t len)
{
	if (!s)
		return len;
	if (s->kind == CIPHER_KIND_AEAD)
		return s->record_iv_len + len + s->tag_len;
	return 16 + (len + s->mac_len + 1 + 15) / 16 * 16;
}

/* ---- headers ------------------------------------------------------------- */

static size_t put_header(uint8_t *out, uint8_t type, uint16_t version, uint16_t epoch, uint64_t seq,
			 uint16_t length)
{
	struct rec_header h = { type, version, epoch, seq, length };
	rec_write_header(out, &h);
	return REC_HEADER_LEN;
}

static void test_header_valid(void)
{
	static const uint8_t rec[] = { 0x16, 0xfe, 0xfd, 0x12, 0x34, 0x00, 0x00, 0xab, 0xcd, 0xef, 0x01,
				       0x00, 0x03, 0xaa, 0xbb, 0xcc };
	struct wire_reader r = wire_reader(rec, sizeof(rec));
	struct wire_reader f;
	struct rec_header h;
	CU_ASSERT_EQUAL_FATAL(rec_parse_header(&r, &h, &f), DTLS_OK);
	CU_ASSERT_EQUAL(h.type, CT_HANDSHAKE);
	CU_ASSERT_EQUAL(h.version, DTLS_VERSION_1_2);
	CU_ASSERT_EQUAL(h.epoch, 0x1234);
	CU_ASSERT_EQUAL(h.seq, UINT64_C(0xabcdef01));
	CU_ASSERT_EQUAL(h.length, 3);
	CU_ASSERT_EQUAL(wire_left(&f), 3);
	CU_ASSERT_EQUAL(wire_u8(&f), 0xaa);
	CU_ASSERT_EQUAL(wire_left(&r), 0);

	/* rec_write_header writes back the same bytes */
	uint8_t out[REC_HEADER_LEN];
	rec_write_header(out, &h);
	CU_ASSERT_EQUAL(memcmp(out, rec, REC_HEADER_LEN), 0);

	/* a 48-bit seq uses all six bytes; DTLS 1.0 version is accepted */
	uint8_t big[REC_HEADER_LEN];
	put_header(big, CT_ALERT, DTLS_VERSION_1_0, 0xffff, REC_MAX_SEQ, 0);
	r = wire_reader(big, sizeof(big));
	CU_ASSERT_EQUAL_FATAL(rec_parse_header(&r, &h, &f), DTLS_OK);
	CU_ASSERT_EQUAL(h.seq, REC_MAX_SEQ);
	CU_ASSERT_EQUAL(h.epoch, 0xffff);
	CU_ASSERT_EQUAL(h.version, DTLS_VERSION_1_0);
	CU_ASSERT_EQUAL(wire_left(&f), 0);
}

static void test_header_truncated(void)
{
	uint8_t rec[REC_HEADER_LEN + 4];
	put_header(rec, CT_APPLICATION_DATA, DTLS_VERSION_1_2, 1, 1, 4);
	struct wire_reader f;
	struct rec_header h;
	/* every cut of the header, and every cut of the fragment */
	for (size_t n = 0; n < sizeof(rec); n++) {
		struct wire_reader r = wire_reader(rec, n);
		CU_ASSERT_EQUAL(rec_parse_header(&r, &h, &f), DTLS_ERR_DECODE);
	}
	struct wire_reader r = wire_reader(rec, sizeof(rec));
	CU_ASSERT_EQUAL(rec_parse_header(&r, &h, &f), DTLS_OK);
}

static void test_header_oversized(void)
{
	static uint8_t rec[REC_HEADER_LEN + REC_MAX_CIPHERTEXT + 1];
	struct wire_reader f;
	struct rec_header h;
	put_header(rec, CT_APPLICATION_DATA, DTLS_VERSION_1_2, 1, 1, REC_MAX_CIPHERTEXT + 1);
	struct wire_reader r = wire_reader(rec, sizeof(rec));
	CU_ASSERT_EQUAL(rec_parse_header(&r, &h, &f), DTLS_ERR_RECORD_OVERFLOW);
	put_header(rec, CT_APPLICATION_DATA, DTLS_VERSION_1_2, 1, 1, 0xffff);
	r = wire_reader(rec, sizeof(rec));
	CU_ASSERT_EQUAL(rec_parse_header(&r, &h, &f), DTLS_ERR_RECORD_OVERFLOW);
	/* the largest allowed */
	put_header(rec, CT_APPLICATION_DATA, DTLS_VERSION_1_2, 1, 1, REC_MAX_CIPHERTEXT);
	r = wire_reader(rec, sizeof(rec));
	CU_ASSERT_EQUAL(rec_parse_header(&r, &h, &f), DTLS_OK);
	CU_ASSERT_EQUAL(wire_left(&f), REC_MAX_CIPHERTEXT);
	CU_ASSERT_EQUAL(wire_left(&r), 1);
}

static void test_header_bad_version(void)
{
	static const uint16_t bad[] = { 0xfefc, 0xfefe, 0xff00, 0x0303, 0x0301, 0x0000, 0xffff };
	uint8_t rec[REC_HEADER_LEN];
	struct wire_reader f;
	struct rec_header h;
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		put_header(rec, CT_HANDSHAKE, bad[i], 0, 0, 0);
		struct wire_reader r = wire_reader(rec, sizeof(rec));
		CU_ASSERT_EQUAL(rec_parse_header(&r, &h, &f), DTLS_ERR_VERSION);
	}
}

static void test_header_multiple(void)
{
	uint8_t dgram[3 * REC_HEADER_LEN + 5 + 0 + 2];
	size_t off = 0;
	off += put_header(dgram + off, CT_HANDSHAKE, DTLS_VERSION_1_2, 0, 7, 5);
	memset(dgram + off, 0x11, 5);
	off += 5;
	off += put_header(dgram + off, CT_CHANGE_CIPHER_SPEC, DTLS_VERSION_1_2, 0, 8, 0);
	off += put_header(dgram + off, CT_HANDSHAKE, DTLS_VERSION_1_2, 1, 0, 2);
	memset(dgram + off, 0x22, 2);
	off += 2;
	CU_ASSERT_EQUAL_FATAL(off, sizeof(dgram));

	static const struct {
		uint8_t type;
		uint16_t epoch;
		uint64_t seq;
		uint16_t len;
	} want[] = { { 22, 0, 7, 5 }, { 20, 0, 8, 0 }, { 22, 1, 0, 2 } };
	struct wire_reader r = wire_reader(dgram, sizeof(dgram));
	size_t n = 0;
	while (wire_left(&r) > 0 && n < 4) {
		struct wire_reader f;
		struct rec_header h;
		CU_ASSERT_EQUAL_FATAL(rec_parse_header(&r, &h, &f), DTLS_OK);
		CU_ASSERT_FATAL(n < ARRAY_LEN(want));
		CU_ASSERT_EQUAL(h.type, want[n].type);
		CU_ASSERT_EQUAL(h.epoch, want[n].epoch);
		CU_ASSERT_EQUAL(h.seq, want[n].seq);
		CU_ASSERT_EQUAL(wire_left(&f), want[n].len);
		n++;
	}
	CU_ASSERT_EQUAL(n, 3);

	/* the last record cut short: the first two parse, the third fails */
	r = wire_reader(dgram, sizeof(dgram) - 1);
	struct wire_reader f;
	struct rec_header h;
	CU_ASSERT_EQUAL(rec_parse_header(&r, &h, &f), DTLS_OK);
	CU_ASSERT_EQUAL(rec_parse_header(&r, &h, &f), DTLS_OK);
	CU_ASSERT_EQUAL(rec_parse_header(&r, &h, &f), DTLS_ERR_DECODE);
}

/* ---- seal and open, every suite ------------------------------------------ */

static struct pkt pkt_a, pkt_b;

/* Seals len pattern bytes in pkt_a under c as epoch/seq; returns the record. */
static int seal_pattern(struct rec_cipher *c, uint16_t epoch, uint64_t seq, size_t len, unsigned seed,
			uint8_t **rec, size_t *rec_len)
{
	struct rec_header h = { CT_APPLICATION_DATA, DTLS_VERSION_1_2, epoch, seq, 0 };
	fill(payload_of(&pkt_a), len, seed);
	return rec_seal(c, &h, payload_of(&pkt_a), len, rec, rec_len);
}

static void test_round_trip(void)
{
	static const size_t lens[] = { 0, 1, 15, 16, 17, 1400, REC_MAX_PLAINTEXT };
	static uint8_t want[REC_MAX_PLAINTEXT];
	for (size_t si = 0; si <= suite_count; si++) {
		const struct suite *s = suite_at(si);
		struct keys k;
		keys_random(&k);
		struct rec_cipher tx, rx;
		CU_ASSERT_EQUAL_FATAL(cipher_init(&tx, s, &k), DTLS_OK);
		CU_ASSERT_EQUAL_FATAL(cipher_init(&rx, s, &k), DTLS_OK);
		int failures = 0;
		for (size_t li = 0; li < ARRAY_LEN(lens); li++) {
			size_t len = lens[li];
			uint8_t *rec, *frag, *plain;
			size_t rec_len, plain_len;
			uint64_t seq = 0x123456789aULL + li;
			if (seal_pattern(&tx, 3, seq, len, (unsigned)li, &rec, &rec_len) < 0) {
				failures++;
				continue;
			}
			fill(want, len, (unsigned)li);
			struct rec_header h;
			bool ok = rec_len == REC_HEADER_LEN + expected_frag_len(s, len);
			ok = ok && rec_len <= REC_HEADROOM + len + REC_TAILROOM;
			ok = ok && parse_one(rec, rec_len, &h, &frag) == DTLS_OK;
			ok = ok && h.type == CT_APPLICATION_DATA && h.epoch == 3 && h.seq == seq;
			/* the payload does not appear in clear (len >= 16 makes a match by chance moot) */
			if (ok && s && len >= 16)
				ok = memmem(rec, rec_len, want, 16) == NULL;
			ok = ok && rec_open(&rx, &h, frag, &plain, &plain_len) == DTLS_OK;
			ok = ok && plain_len == len && memcmp(plain, want, len) == 0;
			if (!ok) {
				fprintf(stderr, "\n  %s: round trip of %zu bytes failed", suite_name(s), len);
				failures++;
			}
		}
		CU_ASSERT_EQUAL(failures, 0);
		/* one byte too many */
		uint8_t *rec;
		size_t rec_len;
		CU_ASSERT_EQUAL(seal_pattern(&tx, 3, 1, REC_MAX_PLAINTEXT + 1, 0, &rec, &rec_len),
				DTLS_ERR_RECORD_OVERFLOW);
		rec_cipher_free(&tx);
		rec_cipher_free(&rx);
	}
}

/* Two seals of the same payload never give the same record (seq, or CBC's random IV). */
static void test_seal_fresh(void)
{
	for (size_t si = 0; si < suite_count; si++) {
		const struct suite *s = suite_at(si);
		struct keys k;
		keys_random(&k);
		struct rec_cipher tx;
		CU_ASSERT_EQUAL_FATAL(cipher_init(&tx, s, &k), DTLS_OK);
		uint8_t *rec;
		size_t rec_len;
		uint8_t first[REC_HEADER_LEN + 200];
		CU_ASSERT_EQUAL_FATAL(seal_pattern(&tx, 1, 5, 100, 1, &rec, &rec_len), DTLS_OK);
		CU_ASSERT_FATAL(rec_len <= sizeof(first));
		memcpy(first, rec, rec_len);
		CU_ASSERT_EQUAL_FATAL(seal_pattern(&tx, 1, 5, 100, 1, &rec, &rec_len), DTLS_OK);
		if (s->kind == CIPHER_KIND_CBC)
			CU_ASSERT_NOT_EQUAL(memcmp(first + REC_HEADER_LEN, rec + REC_HEADER_LEN, 16), 0);
		CU_ASSERT_EQUAL_FATAL(seal_pattern(&tx, 1, 6, 100, 1, &rec, &rec_len), DTLS_OK);
		CU_ASSERT_NOT_EQUAL(memcmp(first + REC_HEADER_LEN, rec + REC_HEADER_LEN, rec_len - REC_HEADER_LEN), 0);
		rec_cipher_free(&tx);
	}
}

/* Any single changed byte of a record, header included, makes it fail. */
static void test_tamper_every_byte(void)
{
	static const uint8_t flips[] = { 0x01, 0x80, 0xff };
	for (size_t si = 0; si < suite_count; si++) {
		const struct suite *s = suite_at(si);
		struct keys k;
		keys_random(&k);
		struct rec_cipher tx, rx;
		CU_ASSERT_EQUAL_FATAL(cipher_init(&tx, s, &k), DTLS_OK);
		CU_ASSERT_EQUAL_FATAL(cipher_init(&rx, s, &k), DTLS_OK);
		uint8_t *rec;
		size_t rec_len;
		CU_ASSERT_EQUAL_FATAL(seal_pattern(&tx, 1, 77, 100, 9, &rec, &rec_len), DTLS_OK);
		uint8_t orig[REC_HEADER_LEN + 200];
		CU_ASSERT_FATAL(rec_len <= sizeof(orig));
		memcpy(orig, rec, rec_len);

		int accepted = 0;
		for (size_t i = 0; i < rec_len; i++) {
			for (size_t fi = 0; fi < ARRAY_LEN(flips); fi++) {
				memcpy(pkt_b.b, orig, rec_len);
				pkt_b.b[i] ^= flips[fi];
				struct rec_header h;
				uint8_t *frag, *plain;
				size_t plain_len;
				if (parse_one(pkt_b.b, rec_len, &h, &frag) < 0)
					continue; /* version or length byte: the header itself is refused */
				int rc = rec_open(&rx, &h, frag, &plain, &plain_len);
				if (rc != DTLS_ERR_BAD_RECORD_MAC) {
					fprintf(stderr, "\n  %s: byte %zu ^ 0x%02x: %d", s->name, i, flips[fi], rc);
					accepted++;
				}
			}
		}
		CU_ASSERT_EQUAL(accepted, 0);
		/* and the untouched record still opens */
		memcpy(pkt_b.b, orig, rec_len);
		struct rec_header h;
		uint8_t *frag, *plain;
		size_t plain_len;
		CU_ASSERT_EQUAL(parse_one(pkt_b.b, rec_len, &h, &frag), DTLS_OK);
		CU_ASSERT_EQUAL(rec_open(&rx, &h, frag, &plain, &plain_len), DTLS_OK);
		rec_cipher_free(&tx);
		rec_cipher_free(&rx);
	}
}

/* A record presented under another epoch, or opened with other keys, fails. */
static void test_wrong_epoch_or_key(void)
{
	for (size_t si = 0; si < suite_count; si++) {
		const struct suite *s = suite_at(si);
		struct keys k, other;
		keys_random(&k);
		keys_random(&other);
		struct rec_cipher tx, rx, wrong;
		CU_ASSERT_EQUAL_FATAL(cipher_init(&tx, s, &k), DTLS_OK);
		CU_ASSERT_EQUAL_FATAL(cipher_init(&rx, s, &k), DTLS_OK);
		CU_ASSERT_EQUAL_FATAL(cipher_init(&wrong, s, &other), DTLS_OK);
		uint8_t *rec, *frag, *plain;
		size_t rec_len, plain_len;
		struct rec_header h;

		CU_ASSERT_EQUAL_FATAL(seal_pattern(&tx, 1, 3, 64, 2, &rec, &rec_len), DTLS_OK);
		memcpy(pkt_b.b, rec, rec_len);
		CU_ASSERT_EQUAL_FATAL(parse_one(pkt_b.b, rec_len, &h, &frag), DTLS_OK);
		h.epoch = 2;
		CU_ASSERT_EQUAL(rec_open(&rx, &h, frag, &plain, &plain_len), DTLS_ERR_BAD_RECORD_MAC);

		memcpy(pkt_b.b, rec, rec_len);
		CU_ASSERT_EQUAL_FATAL(parse_one(pkt_b.b, rec_len, &h, &frag), DTLS_OK);
		CU_ASSERT_EQUAL(rec_open(&wrong, &h, frag, &plain, &plain_len), DTLS_ERR_BAD_RECORD_MAC);

		/* fragments too short to hold the explicit nonce/IV and tag/MAC */
		for (uint16_t n = 0; n < expected_frag_len(s, 0); n++) {
			memcpy(pkt_b.b, rec, rec_len);
			CU_ASSERT_EQUAL_FATAL(parse_one(pkt_b.b, rec_len, &h, &frag), DTLS_OK);
			h.length = n;
			CU_ASSERT_EQUAL(rec_open(&rx, &h, frag, &plain, &plain_len), DTLS_ERR_BAD_RECORD_MAC);
		}
		rec_cipher_free(&tx);
		rec_cipher_free(&rx);
		rec_cipher_free(&wrong);
	}
}

/* ---- CBC: padding and MAC failures all look the same ----------------------- */

/*
 * Builds a CBC record by hand: payload || MAC || padding as given, encrypted under a
 * random IV with an independent cbc_ctx. mac_delta is XORed into the MAC's byte mac_at.
 */
static size_t build_cbc_at(const struct suite *s, const struct keys *k, const uint8_t *pay, size_t len,
			   const uint8_t *padding, size_t pad_total, uint8_t mac_delta, size_t mac_at, uint8_t *out)
{
	struct rec_header h = { CT_APPLICATION_DATA, DTLS_VERSION_1_2, 4, 1000, 0 };
	uint8_t mac_in[REC_MAC_HEADER_LEN + 512];
	uint8_t mac[HASH_MAX_LEN];
	CU_ASSERT_FATAL(len <= 512);
	rec_pseudo_header(mac_in, &h, (uint16_t)len);
	memcpy(mac_in + REC_MAC_HEADER_LEN, pay, len);
	CU_ASSERT_EQUAL_FATAL(hmac_buf(s->mac_hash, k->mac, s->mac_len, mac_in, REC_MAC_HEADER_LEN + len, mac),
			      DTLS_OK);
	mac[mac_at] ^= mac_delta;

	size_t enc = len + s->mac_len + pad_total;
	CU_ASSERT_FATAL(enc % 16 == 0);
	h.length = (uint16_t)(16 + enc);
	rec_write_header(out, &h);
	uint8_t *iv = out + REC_HEADER_LEN, *body = iv + 16;
	crypto_random(iv, 16);
	memcpy(body, pay, len);
	memcpy(body + len, mac, s->mac_len);
	memcpy(body + len + s->mac_len, padding, pad_total);
	struct cbc_ctx cbc;
	CU_ASSERT_EQUAL_FATAL(cbc_init(&cbc, s->cipher, k->key, s->key_len), DTLS_OK);
	CU_ASSERT_EQUAL_FATAL(cbc_encrypt(&cbc, iv, body, enc), DTLS_OK);
	cbc_free(&cbc);
	return REC_HEADER_LEN + 16 + enc;
}

static size_t build_cbc(const struct suite *s, const struct keys *k, const uint8_t *pay, size_t len,
			const uint8_t *padding, size_t pad_total, uint8_t mac_delta, uint8_t *out)
{
	return build_cbc_at(s, k, pay, len, padding, pad_total, mac_delta, 0, out);
}

/* Encrypts n arbitrary bytes as a CBC record: no MAC, no padding unless body has them. */
static size_t build_cbc_raw(const struct suite *s, const struct keys *k, const uint8_t *body, size_t n,
			    uint8_t *out)
{
	struct rec_header h = { CT_APPLICATION_DATA, DTLS_VERSION_1_2, 4, 1000, (uint16_t)(16 + n) };
	rec_write_header(out, &h);
	uint8_t *iv = out + REC_HEADER_LEN;
	crypto_random(iv, 16);
	memcpy(iv + 16, body, n);
	struct cbc_ctx cbc;
	CU_ASSERT_EQUAL_FATAL(cbc_init(&cbc, s->cipher, k->key, s->key_len), DTLS_OK);
	CU_ASSERT_EQUAL_FATAL(cbc_encrypt(&cbc, iv, iv + 16, n), DTLS_OK);
	cbc_free(&cbc);
	return REC_HEADER_LEN + 16 + n;
}

static int open_built(struct rec_cipher *rx, uint8_t *rec, size_t rec_len, size_t *plain_len)
{
	struct rec_header h;
	uint8_t *frag, *plain;
	int rc = parse_one(rec, rec_len, &h, &frag);
	if (rc < 0)
		return rc;
	return rec_open(rx, &h, frag, &plain, plain_len);
}

static void test_cbc_padding(void)
{
	static uint8_t rec[REC_HEADER_LEN + 16 + 1024];
	uint8_t pay[64], padding[256];
	fill(pay, sizeof(pay), 5);
	int tested = 0;
	for (size_t si = 0; si < suite_count; si++) {
		const struct suite *s = suite_at(si);
		if (s->kind != CIPHER_KIND_CBC)
			continue;
		tested++;
		struct keys k;
		keys_random(&k);
		struct rec_cipher rx;
		CU_ASSERT_EQUAL_FATAL(cipher_init(&rx, s, &k), DTLS_OK);
		int wrong = 0;
		for (unsigned p = 0; p < 256; p++) {
			/* a payload length that makes payload || MAC || padding whole blocks */
			size_t len = (16 - (s->mac_len + p + 1) % 16) % 16 + 16;
			size_t total = p + 1;
			size_t plain_len = 0;

			/* well-formed, any padding length (not only minimal): accepted */
			memset(padding, (int)p, total);
			size_t n = build_cbc(s, &k, pay, len, padding, total, 0, rec);
			if (open_built(&rx, rec, n, &plain_len) != DTLS_OK || plain_len != len) {
				fprintf(stderr, "\n  %s: good padding %u refused", s->name, p);
				wrong++;
			}
			/* one padding byte wrong, at each place it can be */
			for (size_t at = 0; at < p; at++) {
				memset(padding, (int)p, total);
				padding[at] ^= (uint8_t)(1u << (at % 8));
				n = build_cbc(s, &k, pay, len, padding, total, 0, rec);
				wrong += open_built(&rx, rec, n, &plain_len) != DTLS_ERR_BAD_RECORD_MAC;
			}
			/* a good padding and a bad MAC */
			memset(padding, (int)p, total);
			n = build_cbc(s, &k, pay, len, padding, total, 0x40, rec);
			wrong += open_built(&rx, rec, n, &plain_len) != DTLS_ERR_BAD_RECORD_MAC;
			/* a good padding and one bad bit in any byte of the MAC */
			for (size_t at = 0; at < s->mac_len; at++) {
				n = build_cbc_at(s, &k, pay, len, padding, total, (uint8_t)(1u << (at % 8)), at, rec);
				wrong += open_built(&rx, rec, n, &plain_len) != DTLS_ERR_BAD_RECORD_MAC;
			}
			/* a bad padding and a bad MAC */
			if (p > 0) {
				padding[0] ^= 0x01;
				n = build_cbc(s, &k, pay, len, padding, total, 0x40, rec);
				wrong += open_built(&rx, rec, n, &plain_len) != DTLS_ERR_BAD_RECORD_MAC;
			}
		}
		/* every value of the length byte over a 16-byte padding: only 15 is right */
		for (unsigned p = 0; p < 256; p++) {
			/* 16 bytes of value p after the MAC: too short, too long, or MAC misplaced */
			size_t len = (16 - s->mac_len % 16) % 16;
			memset(padding, 0, sizeof(padding));
			memset(padding, (int)p, 16);
			size_t plain_len;
			size_t n = build_cbc(s, &k, pay, len, padding, 16, 0, rec);
			int rc = open_built(&rx, rec, n, &plain_len);
			int want = p == 15 ? DTLS_OK : DTLS_ERR_BAD_RECORD_MAC;
			if (rc != want) {
				fprintf(stderr, "\n  %s: padding byte %u over 16: %d", s->name, p, rc);
				wrong++;
			}
		}
		/*
		 * Records made of nothing but copies of their last byte p: for a short record
		 * every byte checked is "padding" but the claimed padding does not fit (p + 1
		 * + mac_len > length). Must fail cleanly, never compute a negative length.
		 */
		{
			size_t min_enc = (s->mac_len + 1 + 15) / 16 * 16;
			const size_t sizes[] = { min_enc, min_enc + 16, 240, 256, 272, 512 };
			uint8_t body[512];
			for (size_t zi = 0; zi < ARRAY_LEN(sizes); zi++) {
				for (unsigned p = 0; p < 256; p++) {
					size_t plain_len;
					memset(body, (int)p, sizes[zi]);
					size_t n = build_cbc_raw(s, &k, body, sizes[zi], rec);
					wrong += open_built(&rx, rec, n, &plain_len) != DTLS_ERR_BAD_RECORD_MAC;
				}
			}
		}
		/* fragment lengths that are not whole blocks, or too short */
		{
			memset(padding, 15, 16);
			size_t len = (16 - s->mac_len % 16) % 16;
			size_t n = build_cbc(s, &k, pay, len, padding, 16, 0, rec);
			size_t plain_len;
			for (size_t cut = 1; cut < 16; cut++) {
				struct rec_header h;
				uint8_t *frag, *plain;
				CU_ASSERT_EQUAL_FATAL(parse_one(rec, n, &h, &frag), DTLS_OK);
				h.length = (uint16_t)(h.length - cut);
				wrong += rec_open(&rx, &h, frag, &plain, &plain_len) != DTLS_ERR_BAD_RECORD_MAC;
			}
		}
		CU_ASSERT_EQUAL(wrong, 0);
		rec_cipher_free(&rx);
	}
	CU_ASSERT_NOT_EQUAL(tested, 0);
}

/* ---- known answers --------------------------------------------------------- */

/*
 * Records computed outside this project, with OpenSSL (not GnuTLS, the provider
 * under test):
 *   payload  "dtlsgw record layer known answer!!!!!" (37 bytes), type 23, version
 *            fefd, epoch 2, seq 0x010203040506
 *   key      00 01 02 ... (key_len bytes); fixed IV a0 a1 ... (4 or 12 bytes);
 *   MAC key  40 41 ... (mac_len bytes); CBC explicit IV f0 f1 ... ff
 * AEAD (python3-cryptography): AESGCM / AESCCM(tag_length=8) / ChaCha20Poly1305 with
 * nonce = a0a1a2a3 || 0002010203040506 (ChaCha20: a0..ab XOR 00000000 0002010203040506),
 * aad = 0002010203040506 17 fefd 0025.
 * CBC (openssl CLI):
 *   mac = openssl dgst -sha256 -mac HMAC -macopt hexkey:4041..5f -binary
 *           < (0002010203040506 17 fefd 0025 || payload)
 *   ct  = openssl enc -aes-128-cbc -K 000102..0f -iv f0f1..ff -nopad
 *           < (payload || mac || minimal padding)
 */
/* gcm128: 74 bytes */
static const uint8_t kat_gcm128[] = {
	0x17, 0xfe, 0xfd, 0x00, 0x02, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x00, 0x3d, 0x00, 0x02, 0x01,
	0x02, 0x03, 0x04, 0x05, 0x06, 0x25, 0x2e, 0x07, 0xf9, 0xc3, 0x32, 0x84, 0x1a, 0x94, 0xa3, 0xa8,
	0x3b, 0x24, 0x84, 0x0c, 0x7a, 0x43, 0x82, 0x26, 0x2b, 0xde, 0x74, 0x56, 0x35, 0x32, 0x29, 0x64,
	0xac, 0x8c, 0xdf, 0xed, 0xba, 0x47, 0x41, 0x5e, 0xe6, 0x44, 0x85, 0x9b, 0x91, 0x6f, 0x9b, 0xbb,
	0xf0, 0x33, 0x56, 0xd3, 0x4c, 0x90, 0x66, 0x06, 0x0d, 0x8c,
};
/* gcm256: 74 bytes */
static const uint8_t kat_gcm256[] = {
	0x17, 0xfe, 0xfd, 0x00, 0x02, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x00, 0x3d, 0x00, 0x02, 0x01,
	0x02, 0x03, 0x04, 0x05, 0x06, 0x73, 0x79, 0xdc, 0x5a, 0xdb, 0x37, 0x83, 0x7d, 0x9a, 0xf9, 0x4a,
	0x1b, 0xf1, 0x1e, 0x72, 0x81, 0xed, 0x4c, 0x02, 0x44, 0xfe, 0x67, 0x02, 0x27, 0x81, 0x93, 0x95,
	0x1f, 0x20, 0xfa, 0xde, 0x8e, 0x8a, 0x9e, 0x2d, 0x9f, 0x24, 0xee, 0x69, 0x2e, 0x8c, 0xad, 0x59,
	0xed, 0x9e, 0x52, 0xe9, 0x49, 0xff, 0xb0, 0x84, 0xa1, 0xfe,
};
/* ccm8: 66 bytes */
static const uint8_t kat_ccm8[] = {
	0x17, 0xfe, 0xfd, 0x00, 0x02, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x00, 0x35, 0x00, 0x02, 0x01,
	0x02, 0x03, 0x04, 0x05, 0x06, 0xfc, 0xd9, 0x3a, 0x75, 0xc1, 0x00, 0xa4, 0xe1, 0x4b, 0xc0, 0xdb,
	0xaf, 0x41, 0xb5, 0x55, 0xd9, 0x99, 0x0e, 0x29, 0x27, 0x4a, 0x1c, 0x87, 0xb3, 0x66, 0xa3, 0xe8,
	0x27, 0x21, 0xb5, 0x10, 0x2b, 0x3a, 0xed, 0x76, 0x5d, 0x02, 0xab, 0x5d, 0x52, 0x8a, 0x64, 0x26,
	0x86, 0x54,
};
/* chacha: 66 bytes */
static const uint8_t kat_chacha[] = {
	0x17, 0xfe, 0xfd, 0x00, 0x02, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x00, 0x35, 0xc3, 0xd9, 0xf0,
	0x78, 0x06, 0x75, 0x69, 0x1d, 0x7e, 0xa2, 0x41, 0x16, 0x97, 0xe6, 0xec, 0xe9, 0x02, 0xf5, 0x18,
	0x5c, 0x7d, 0x0a, 0x8d, 0x7f, 0xfa, 0x71, 0x60, 0x89, 0xf2, 0xbe, 0x12, 0x77, 0xb9, 0x44, 0x35,
	0xd4, 0x0f, 0x5e, 0x56, 0xaa, 0xc1, 0xbd, 0x85, 0x95, 0x12, 0xfb, 0x55, 0xf0, 0xc8, 0xec, 0xbe,
	0x27, 0x47,
};
/* cbc_sha256: 109 bytes */
static const uint8_t kat_cbc_sha256[] = {
	0x17, 0xfe, 0xfd, 0x00, 0x02, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x00, 0x60, 0xf0, 0xf1, 0xf2,
	0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0x57, 0xe0, 0xb9,
	0x8f, 0xef, 0xa8, 0x7f, 0x8a, 0xef, 0x4f, 0x84, 0xdd, 0xd2, 0xf3, 0x5a, 0x1e, 0xc9, 0x8d, 0x67,
	0x83, 0x04, 0xf2, 0xf0, 0xd0, 0xb3, 0x61, 0xc7, 0x88, 0x45, 0xa3, 0x68, 0xda, 0x69, 0x3e, 0xd6,
	0x01, 0xe9, 0x01, 0x14, 0xee, 0x08, 0x45, 0x70, 0x56, 0xb2, 0x10, 0xa6, 0x94, 0x14, 0xc5, 0x25,
	0xc6, 0xa2, 0x78, 0xcb, 0xae, 0xd2, 0xfa, 0x20, 0xc5, 0xde, 0x36, 0x92, 0xdb, 0xdd, 0xf9, 0xe2,
	0xe3, 0x0f, 0x71, 0x9d, 0x7a, 0x29, 0x3a, 0xbd, 0x92, 0x5b, 0xd3, 0x0a, 0x28,
};
/* cbc_sha1: 93 bytes */
static const uint8_t kat_cbc_sha1[] = {
	0x17, 0xfe, 0xfd, 0x00, 0x02, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x00, 0x50, 0xf0, 0xf1, 0xf2,
	0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0x57, 0xe0, 0xb9,
	0x8f, 0xef, 0xa8, 0x7f, 0x8a, 0xef, 0x4f, 0x84, 0xdd, 0xd2, 0xf3, 0x5a, 0x1e, 0xc9, 0x8d, 0x67,
	0x83, 0x04, 0xf2, 0xf0, 0xd0, 0xb3, 0x61, 0xc7, 0x88, 0x45, 0xa3, 0x68, 0xda, 0xe6, 0x59, 0x84,
	0xec, 0x79, 0x82, 0xfc, 0x6a, 0x8b, 0x2b, 0x6c, 0x79, 0xb4, 0xe1, 0x3d, 0x2d, 0x69, 0x2f, 0xbf,
	0xbd, 0x8f, 0x6b, 0x70, 0x56, 0x59, 0x9c, 0x0e, 0xd4, 0xab, 0x88, 0x21, 0x3e,
};

static const uint8_t kat_payload[] = "dtlsgw record layer known answer!!!!!";

static const struct kat {
	enum cipher_alg cipher;
	enum cipher_kind kind;
	enum hash_alg mac_hash;
	const uint8_t *rec;
	size_t rec_len;
} kats[] = {
	{ CIPHER_AES_128_GCM, CIPHER_KIND_AEAD, HASH_SHA256, kat_gcm128, sizeof(kat_gcm128) },
	{ CIPHER_AES_256_GCM, CIPHER_KIND_AEAD, HASH_SHA256, kat_gcm256, sizeof(kat_gcm256) },
	{ CIPHER_AES_128_CCM_8, CIPHER_KIND_AEAD, HASH_SHA256, kat_ccm8, sizeof(kat_ccm8) },
	{ CIPHER_CHACHA20_POLY1305, CIPHER_KIND_AEAD, HASH_SHA256, kat_chacha, sizeof(kat_chacha) },
	{ CIPHER_AES_128_CBC, CIPHER_KIND_CBC, HASH_SHA256, kat_cbc_sha256, sizeof(kat_cbc_sha256) },
	{ CIPHER_AES_128_CBC, CIPHER_KIND_CBC, HASH_SHA1, kat_cbc_sha1, sizeof(kat_cbc_sha1) },
};

static const struct suite *kat_suite(const struct kat *t)
{
	for (size_t i = 0; i < suite_count; i++) {
		const struct suite *s = &suite_table[i];
		if (s->cipher == t->cipher && s->kind == t->kind &&
		    (s->kind == CIPHER_KIND_AEAD || s->mac_hash == t->mac_hash))
			return s;
	}
	return NULL;
}

static void test_known_answers(void)
{
	struct keys k;
	for (size_t i = 0; i < sizeof(k.key); i++)
		k.key[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(k.iv); i++)
		k.iv[i] = (uint8_t)(0xa0 + i);
	for (size_t i = 0; i < sizeof(k.mac); i++)
		k.mac[i] = (uint8_t)(0x40 + i);
	uint8_t cbc_iv[16];
	for (size_t i = 0; i < sizeof(cbc_iv); i++)
		cbc_iv[i] = (uint8_t)(0xf0 + i);
	const size_t len = sizeof(kat_payload) - 1;

	int checked = 0;
	for (size_t ti = 0; ti < ARRAY_LEN(kats); ti++) {
		const struct kat *t = &kats[ti];
		const struct suite *s = kat_suite(t);
		if (!s) {
			fprintf(stderr, "\n  no suite for known answer %zu, skipped", ti);
			continue;
		}
		checked++;
		struct rec_cipher tx, rx;
		CU_ASSERT_EQUAL_FATAL(cipher_init(&tx, s, &k), DTLS_OK);
		CU_ASSERT_EQUAL_FATAL(cipher_init(&rx, s, &k), DTLS_OK);
		struct rec_header h = { CT_APPLICATION_DATA, DTLS_VERSION_1_2, 2, UINT64_C(0x010203040506), 0 };
		memcpy(payload_of(&pkt_a), kat_payload, len);
		uint8_t *rec;
		size_t rec_len;
		int rc = s->kind == CIPHER_KIND_CBC
				 ? rec_seal_cbc_with_iv(&tx, &h, payload_of(&pkt_a), len, cbc_iv, &rec, &rec_len)
				 : rec_seal(&tx, &h, payload_of(&pkt_a), len, &rec, &rec_len);
		CU_ASSERT_EQUAL(rc, DTLS_OK);
		CU_ASSERT_EQUAL(rec_len, t->rec_len);
		if (rc == DTLS_OK && rec_len == t->rec_len && memcmp(rec, t->rec, rec_len) != 0) {
			fprintf(stderr, "\n  %s: sealed record differs from the known answer", s->name);
			CU_FAIL("known answer");
		}

		/* and the known record opens to the payload */
		memcpy(pkt_b.b, t->rec, t->rec_len);
		uint8_t *frag, *plain;
		size_t plain_len;
		CU_ASSERT_EQUAL_FATAL(parse_one(pkt_b.b, t->rec_len, &h, &frag), DTLS_OK);
		rc = rec_open(&rx, &h, frag, &plain, &plain_len);
		CU_ASSERT_EQUAL(rc, DTLS_OK);
		CU_ASSERT_TRUE(rc == DTLS_OK && plain_len == len && memcmp(plain, kat_payload, len) == 0);
		rec_cipher_free(&tx);
		rec_cipher_free(&rx);
	}
	CU_ASSERT_NOT_EQUAL(checked, 0);
}

/* ---- the epochs of a session ---------------------------------------------- */

static const struct suite *first_suite(enum cipher_kind kind)
{
	for (size_t i = 0; i < suite_count; i++)
		if (suite_table[i].kind == kind)
			return &suite_table[i];
	return NULL;
}

/* Seals len pattern bytes through a layer; returns the record (in pkt_a). */
static int layer_seal(struct rec_layer *l, int epoch, size_t len, uint8_t **rec, size_t *rec_len)
{
	fill(payload_of(&pkt_a), len, (unsigned)len);
	if (epoch < 0)
		return rec_layer_seal(l, CT_APPLICATION_DATA, payload_of(&pkt_a), len, rec, rec_len);
	return rec_layer_seal_epoch(l, (uint16_t)epoch, CT_APPLICATION_DATA, payload_of(&pkt_a), len, rec,
				    rec_len);
}

/* Copies a record to pkt_b and opens it through a layer. */
static int layer_open(struct rec_layer *l, const uint8_t *rec, size_t rec_len, struct rec_header *h)
{
	uint8_t *frag, *plain;
	size_t plain_len;
	memcpy(pkt_b.b, rec, rec_len);
	int rc = parse_one(pkt_b.b, rec_len, h, &frag);
	if (rc < 0)
		return rc;
	rc = rec_layer_open(l, h, frag, &plain, &plain_len);
	if (rc == DTLS_OK) {
		uint8_t want[64];
		fill(want, plain_len < sizeof(want) ? plain_len : sizeof(want), (unsigned)plain_len);
		CU_ASSERT_EQUAL(memcmp(plain, want, plain_len < sizeof(want) ? plain_len : sizeof(want)), 0);
	}
	return rc;
}

static void test_layer_epochs(void)
{
	const struct suite *s = first_suite(CIPHER_KIND_AEAD);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	struct keys k1, k2;
	keys_random(&k1);
	keys_random(&k2);
	struct rec_layer a, b;
	rec_layer_init(&a);
	rec_layer_init(&b);
	uint8_t *rec;
	size_t rec_len;
	struct rec_header h;
	uint8_t old[128];
	size_t old_len;

	/* epoch 0: the null cipher, sequence numbers from 0 */
	CU_ASSERT_EQUAL(rec_layer_overhead(&a), REC_HEADER_LEN);
	for (uint64_t i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL_FATAL(layer_seal(&a, -1, 20, &rec, &rec_len), DTLS_OK);
		CU_ASSERT_EQUAL(rec_len, REC_HEADER_LEN + 20);
		CU_ASSERT_EQUAL(layer_open(&b, rec, rec_len, &h), DTLS_OK);
		CU_ASSERT_EQUAL(h.epoch, 0);
		CU_ASSERT_EQUAL(h.seq, i);
		CU_ASSERT_EQUAL(h.version, DTLS_VERSION_1_2);
	}
	/* keep an epoch-0 record not yet delivered */
	CU_ASSERT_EQUAL_FATAL(layer_seal(&a, -1, 20, &rec, &rec_len), DTLS_OK);
	memcpy(old, rec, rec_len);
	old_len = rec_len;

	/* b installs epoch 1 read keys before a switches: epoch 0 still opens */
	CU_ASSERT_EQUAL(rec_read_install(&b, 1, s, k1.key, k1.iv, NULL), DTLS_OK);
	CU_ASSERT_EQUAL(rec_read_install(&b, 1, s, k1.key, k1.iv, NULL), DTLS_ERR_ARG);
	CU_ASSERT_EQUAL(rec_write_install(&a, 1, s, k1.key, k1.iv, NULL), DTLS_OK);
	CU_ASSERT_EQUAL(rec_write_install(&a, 1, s, k1.key, k1.iv, NULL), DTLS_ERR_ARG);
	CU_ASSERT_EQUAL(rec_write_install(&a, 0, NULL, NULL, NULL, NULL), DTLS_ERR_ARG);
	CU_ASSERT_EQUAL(rec_layer_overhead(&a), REC_HEADER_LEN + s->record_iv_len + s->tag_len);

	/* the current epoch is 1, numbered from 0 */
	for (uint64_t i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL_FATAL(layer_seal(&a, -1, 30, &rec, &rec_len), DTLS_OK);
		CU_ASSERT_EQUAL(layer_open(&b, rec, rec_len, &h), DTLS_OK);
		CU_ASSERT_EQUAL(h.epoch, 1);
		CU_ASSERT_EQUAL(h.seq, i);
	}
	/* the previous write epoch stays sealable, its numbers go on */
	CU_ASSERT_EQUAL_FATAL(layer_seal(&a, 0, 20, &rec, &rec_len), DTLS_OK);
	CU_ASSERT_EQUAL(layer_open(&b, rec, rec_len, &h), DTLS_OK);
	CU_ASSERT_EQUAL(h.epoch, 0);
	CU_ASSERT_EQUAL(h.seq, 4);
	CU_ASSERT_EQUAL(layer_seal(&a, 7, 20, &rec, &rec_len), DTLS_ERR_EPOCH);

	/* the late epoch-0 record still opens during the grace period ... */
	CU_ASSERT_EQUAL(layer_open(&b, old, old_len, &h), DTLS_OK);
	CU_ASSERT_EQUAL(h.seq, 3);
	/* ... but not twice */
	CU_ASSERT_EQUAL(layer_open(&b, old, old_len, &h), DTLS_ERR_REPLAY);
	/* after the grace period epoch 0 is gone */
	rec_read_retire_below(&b, 1);
	CU_ASSERT_EQUAL(layer_open(&b, old, old_len, &h), DTLS_ERR_EPOCH);
	CU_ASSERT_EQUAL_FATAL(layer_seal(&a, -1, 30, &rec, &rec_len), DTLS_OK);
	CU_ASSERT_EQUAL(layer_open(&b, rec, rec_len, &h), DTLS_OK);

	/* a second install (renegotiation): epoch 1 becomes the previous one, 0 is dropped */
	CU_ASSERT_EQUAL(rec_read_install(&b, 2, s, k2.key, k2.iv, NULL), DTLS_OK);
	CU_ASSERT_EQUAL(rec_write_install(&a, 2, s, k2.key, k2.iv, NULL), DTLS_OK);
	CU_ASSERT_EQUAL(layer_seal(&a, 0, 20, &rec, &rec_len), DTLS_ERR_EPOCH);
	CU_ASSERT_EQUAL_FATAL(layer_seal(&a, 1, 20, &rec, &rec_len), DTLS_OK);
	CU_ASSERT_EQUAL(layer_open(&b, rec, rec_len, &h), DTLS_OK);
	CU_ASSERT_EQUAL(h.epoch, 1);
	CU_ASSERT_EQUAL(h.seq, 3);
	CU_ASSERT_EQUAL_FATAL(layer_seal(&a, -1, 20, &rec, &rec_len), DTLS_OK);
	CU_ASSERT_EQUAL(layer_open(&b, rec, rec_len, &h), DTLS_OK);
	CU_ASSERT_EQUAL(h.epoch, 2);
	CU_ASSERT_EQUAL(h.seq, 0);

	/* an epoch b has no keys for */
	CU_ASSERT_EQUAL(rec_write_install(&a, 3, s, k1.key, k1.iv, NULL), DTLS_OK);
	CU_ASSERT_EQUAL_FATAL(layer_seal(&a, -1, 20, &rec, &rec_len), DTLS_OK);
	CU_ASSERT_EQUAL(layer_open(&b, rec, rec_len, &h), DTLS_ERR_EPOCH);

	rec_layer_free(&a);
	rec_layer_free(&b);
}

/* With every read slot used, an install retires the lowest epoch. */
static void test_layer_read_slots(void)
{
	const struct suite *s = first_suite(CIPHER_KIND_AEAD);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	struct keys k[REC_READ_EPOCHS + 1];
	struct rec_layer a, b;
	rec_layer_init(&b);
	uint8_t *rec;
	size_t rec_len;
	struct rec_header h;
	static uint8_t recs[REC_READ_EPOCHS + 1][128];
	size_t lens[REC_READ_EPOCHS + 1];

	/* a sends one record in each epoch 0..REC_READ_EPOCHS */
	rec_layer_init(&a);
	for (uint16_t e = 0; e <= REC_READ_EPOCHS; e++) {
		keys_random(&k[e]);
		if (e > 0)
			CU_ASSERT_EQUAL_FATAL(rec_write_install(&a, e, s, k[e].key, k[e].iv, NULL), DTLS_OK);
		CU_ASSERT_EQUAL_FATAL(layer_seal(&a, -1, 10, &rec, &rec_len), DTLS_OK);
		memcpy(recs[e], rec, rec_len);
		lens[e] = rec_len;
	}
	for (uint16_t e = 1; e <= REC_READ_EPOCHS; e++)
		CU_ASSERT_EQUAL(rec_read_install(&b, e, s, k[e].key, k[e].iv, NULL), DTLS_OK);
	/* epoch 0 made room for the last one */
	CU_ASSERT_EQUAL(layer_open(&b, recs[0], lens[0], &h), DTLS_ERR_EPOCH);
	for (uint16_t e = 1; e <= REC_READ_EPOCHS; e++)
		CU_ASSERT_EQUAL(layer_open(&b, recs[e], lens[e], &h), DTLS_OK);
	rec_layer_free(&a);
	rec_layer_free(&b);
}

/* Replay through rec_layer_open; a forged record does not move the window. */
static void test_layer_replay(void)
{
	const struct suite *s = first_suite(CIPHER_KIND_CBC);
	if (!s)
		s = first_suite(CIPHER_KIND_AEAD);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	struct keys k;
	keys_random(&k);
	struct rec_layer a, b;
	rec_layer_init(&a);
	rec_layer_init(&b);
	CU_ASSERT_EQUAL_FATAL(rec_write_install(&a, 1, s, k.key, k.iv, k.mac), DTLS_OK);
	CU_ASSERT_EQUAL_FATAL(rec_read_install(&b, 1, s, k.key, k.iv, k.mac), DTLS_OK);

	static uint8_t recs[1200][128];
	size_t lens[1200];
	for (size_t i = 0; i < ARRAY_LEN(recs); i++) {
		uint8_t *rec;
		size_t rec_len;
		CU_ASSERT_EQUAL_FATAL(layer_seal(&a, -1, 40, &rec, &rec_len), DTLS_OK);
		CU_ASSERT_FATAL(rec_len <= sizeof(recs[i]));
		memcpy(recs[i], rec, rec_len);
		lens[i] = rec_len;
	}
	struct rec_header h;
	/* a forged record 10: same header, garbage inside; refused, window unchanged */
	uint8_t forged[128];
	memcpy(forged, recs[10], lens[10]);
	forged[lens[10] - 1] ^= 0x55;
	CU_ASSERT_EQUAL(layer_open(&b, forged, lens[10], &h), DTLS_ERR_BAD_RECORD_MAC);
	/* a forged far-ahead record: refused, window unchanged */
	memcpy(forged, recs[5], lens[5]);
	forged[5] = 0x7f; /* seq high byte: far ahead */
	CU_ASSERT_EQUAL(layer_open(&b, forged, lens[5], &h), DTLS_ERR_BAD_RECORD_MAC);

	CU_ASSERT_EQUAL(layer_open(&b, recs[10], lens[10], &h), DTLS_OK);
	CU_ASSERT_EQUAL(layer_open(&b, recs[10], lens[10], &h), DTLS_ERR_REPLAY);
	CU_ASSERT_EQUAL(layer_open(&b, recs[5], lens[5], &h), DTLS_OK);
	CU_ASSERT_EQUAL(layer_open(&b, recs[1100], lens[1100], &h), DTLS_OK);
	/* 1100 - 5 >= 1024: record 5 was seen but is now too old anyway; 100 is in the window */
	CU_ASSERT_EQUAL(layer_open(&b, recs[5], lens[5], &h), DTLS_ERR_REPLAY);
	CU_ASSERT_EQUAL(layer_open(&b, recs[70], lens[70], &h), DTLS_ERR_REPLAY); /* 1100 - 70 > 1023 */
	CU_ASSERT_EQUAL(layer_open(&b, recs[100], lens[100], &h), DTLS_OK);
	CU_ASSERT_EQUAL(layer_open(&b, recs[100], lens[100], &h), DTLS_ERR_REPLAY);
	CU_ASSERT_EQUAL(layer_open(&b, recs[1100], lens[1100], &h), DTLS_ERR_REPLAY);
	rec_layer_free(&a);
	rec_layer_free(&b);
}

/* The 48-bit sequence space: 2^48-1 is the last number sealed, then every seal is refused. */
static void test_layer_seq_exhausted(void)
{
	const struct suite *s = first_suite(CIPHER_KIND_AEAD);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	struct keys k;
	keys_random(&k);
	struct rec_layer a, b;
	rec_layer_init(&a);
	rec_layer_init(&b);
	CU_ASSERT_EQUAL_FATAL(rec_write_install(&a, 1, s, k.key, k.iv, NULL), DTLS_OK);
	CU_ASSERT_EQUAL_FATAL(rec_read_install(&b, 1, s, k.key, k.iv, NULL), DTLS_OK);
	for (size_t i = 0; i < REC_WRITE_EPOCHS; i++)
		if (a.write[i].used && a.write[i].epoch == 1)
			atomic_store(&a.write[i].next_seq, REC_MAX_SEQ - 1);
	uint8_t *rec;
	size_t rec_len;
	struct rec_header h;
	CU_ASSERT_EQUAL_FATAL(layer_seal(&a, -1, 10, &rec, &rec_len), DTLS_OK);
	CU_ASSERT_EQUAL(layer_open(&b, rec, rec_len, &h), DTLS_OK);
	CU_ASSERT_EQUAL(h.seq, REC_MAX_SEQ - 1);
	CU_ASSERT_EQUAL_FATAL(layer_seal(&a, -1, 10, &rec, &rec_len), DTLS_OK);
	CU_ASSERT_EQUAL(layer_open(&b, rec, rec_len, &h), DTLS_OK);
	CU_ASSERT_EQUAL(h.seq, REC_MAX_SEQ);
	CU_ASSERT_EQUAL(layer_seal(&a, -1, 10, &rec, &rec_len), DTLS_ERR_INTERNAL);
	CU_ASSERT_EQUAL(layer_seal(&a, -1, 10, &rec, &rec_len), DTLS_ERR_INTERNAL);
	/* the previous epoch is unaffected */
	CU_ASSERT_EQUAL(layer_seal(&a, 0, 10, &rec, &rec_len), DTLS_OK);
	rec_layer_free(&a);
	rec_layer_free(&b);
}

static CU_TestInfo tests[] = {
	{ "header: valid", test_header_valid },
	{ "header: truncated", test_header_truncated },
	{ "header: oversized", test_header_oversized },
	{ "header: bad version", test_header_bad_version },
	{ "header: several records in a datagram", test_header_multiple },
	{ "every suite: seal and open, 0..16384 bytes", test_round_trip },
	{ "every suite: no two records alike", test_seal_fresh },
	{ "every suite: any changed byte is refused", test_tamper_every_byte },
	{ "every suite: wrong epoch, wrong key, short fragment", test_wrong_epoch_or_key },
	{ "CBC: bad padding and bad MAC, one error", test_cbc_padding },
	{ "known answers (OpenSSL-computed records)", test_known_answers },
	{ "layer: epochs, grace period, retransmission epoch", test_layer_epochs },
	{ "layer: read slots retire the lowest epoch", test_layer_read_slots },
	{ "layer: replay window through rec_layer_open", test_layer_replay },
	{ "layer: sequence space exhausted", test_layer_seq_exhausted },
	CU_TEST_INFO_NULL,
};

const struct unit_suite unit_suite = { "record", init_suite, NULL, tests };
