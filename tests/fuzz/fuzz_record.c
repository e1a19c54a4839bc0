/*
 * The record layer: every record of a datagram through rec_parse_header and
 * rec_layer_open, with fixed keys installed for epoch 1 (epoch 0 is the null cipher).
 *
 * Input: suite(1) datagram. suite picks the epoch-1 protection: AES-GCM, AES-CBC with
 * HMAC-SHA256 or HMAC-SHA1, CCM_8, ChaCha20-Poly1305. Then, as a check of the
 * in-place code, the datagram bytes are sealed as one record and must open to the same.
 */
#include <stdlib.h>
#include <string.h>

#include <dtls/dtls.h>

#include "crypto/suites.h"
#include "fuzz.h"
#include "record/record.h"

static const uint16_t suites[] = { 0x00A8, 0x00AE, 0x002F, 0xC0A8, 0xCCAC };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	if (dtls_init() < 0)
		abort();
	return 0;
}

static uint8_t buf[DTLS_MAX_DATAGRAM];
static uint8_t seal_buf[REC_HEADROOM + REC_MAX_PLAINTEXT + REC_TAILROOM];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size - 1 > sizeof(buf))
		return 0;
	const struct suite *su = suite_by_id(suites[data[0] % (sizeof(suites) / sizeof(suites[0]))]);
	if (!su)
		abort();
	data++, size--;

	struct rec_layer l;
	rec_layer_init(&l);
	if (rec_read_install(&l, 1, su, fuzz_key, fuzz_iv, fuzz_mac_key) < 0 ||
	    rec_write_install(&l, 1, su, fuzz_key, fuzz_iv, fuzz_mac_key) < 0)
		abort();

	memcpy(buf, data, size);
	struct wire_reader r = wire_reader(buf, size);
	while (wire_left(&r) > 0) {
		struct rec_header h;
		struct wire_reader frag;
		if (rec_parse_header(&r, &h, &frag) < 0)
			break;
		if (h.length != wire_left(&frag) || h.length > REC_MAX_CIPHERTEXT)
			abort();
		uint8_t *start = buf + (wire_offset(&r) - h.length);
		uint8_t *plain;
		size_t n;
		if (rec_layer_open(&l, &h, start, &plain, &n) == 0) {
			/* The plaintext lies inside the record's own fragment. */
			if (plain < start || n > h.length || plain + n > start + h.length || n > REC_MAX_PLAINTEXT)
				abort();
		}
	}

	rec_layer_free(&l);

	/* Seal what came in as one record and open it again (fresh replay window). */
	rec_layer_init(&l);
	if (rec_read_install(&l, 1, su, fuzz_key, fuzz_iv, fuzz_mac_key) < 0 ||
	    rec_write_install(&l, 1, su, fuzz_key, fuzz_iv, fuzz_mac_key) < 0)
		abort();
	size_t len = size < REC_MAX_PLAINTEXT ? size : REC_MAX_PLAINTEXT;
	uint8_t *payload = seal_buf + REC_HEADROOM;
	memcpy(payload, data, len);
	uint8_t *rec;
	size_t rec_len;
	if (rec_layer_seal(&l, CT_APPLICATION_DATA, payload, len, &rec, &rec_len) < 0)
		abort();
	struct wire_reader rr = wire_reader(rec, rec_len);
	struct rec_header h;
	struct wire_reader frag;
	if (rec_parse_header(&rr, &h, &frag) < 0 || wire_left(&rr) != 0 || h.epoch != 1)
		abort();
	uint8_t *plain;
	size_t n;
	if (rec_layer_open(&l, &h, rec + REC_HEADER_LEN, &plain, &n) < 0 || n != len ||
	    memcmp(plain, data, len) != 0)
		abort();
	rec_layer_free(&l);
	return 0;
}
