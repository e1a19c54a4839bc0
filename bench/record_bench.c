/*
 * record_bench: seal+open throughput of 1400-byte records through the record layer
 * (rec_layer_seal / rec_parse_header / rec_layer_open, replay window included), next to
 * the same cryptographic work done directly through GnuTLS, in the same run:
 *   AEAD: gnutls_aead_cipher_encryptv2 + decryptv2, 13-byte AAD, tag apart;
 *   CBC:  gnutls_hmac over header||payload, gnutls_cipher AES-CBC encrypt, then decrypt
 *         and HMAC again (a plain, not constant-time, check).
 * MB/s counts payload bytes of one seal plus one open. The two sides run in alternating
 * slices of a tenth of the time each, so that load from elsewhere on the machine hits
 * both alike and the ratio stays meaningful. Prints numbers, asserts nothing.
 *
 *   record_bench [seconds per measurement, default 2] [only suites whose name contains this]
 */
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "record/record.h"

#define PAYLOAD 1400
#define BATCH 256

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#define SLICES 10

static double seconds = 2.0;
static double slice; /* one alternating measurement: seconds / SLICES */

static uint8_t buf[REC_HEADROOM + PAYLOAD + REC_TAILROOM];

static void die(const char *what, int rc)
{
	fprintf(stderr, "record_bench: %s failed (%d)\n", what, rc);
	exit(1);
}

/* ---- through the record layer -------------------------------------------- */

static double bench_layer(const struct suite *s)
{
	uint8_t key[32], iv[12], mac[HASH_MAX_LEN];
	crypto_random(key, sizeof(key));
	crypto_random(iv, sizeof(iv));
	crypto_random(mac, sizeof(mac));
	struct rec_layer tx, rx;
	rec_layer_init(&tx);
	rec_layer_init(&rx);
	int rc = rec_write_install(&tx, 1, s, key, iv, mac);
	if (rc == 0)
		rc = rec_read_install(&rx, 1, s, key, iv, mac);
	if (rc < 0)
		die("install", rc);

	uint8_t *payload = buf + REC_HEADROOM;
	memset(payload, 0x5a, PAYLOAD);
	unsigned long n = 0;
	double t0 = now(), t;
	do {
		for (int i = 0; i < BATCH; i++) {
			uint8_t *rec, *plain;
			size_t rec_len, plain_len;
			rc = rec_layer_seal(&tx, CT_APPLICATION_DATA, payload, PAYLOAD, &rec, &rec_len);
			if (rc < 0)
				die("seal", rc);
			struct wire_reader r = wire_reader(rec, rec_len), f;
			struct rec_header h;
			rc = rec_parse_header(&r, &h, &f);
			if (rc < 0)
				die("parse", rc);
			/* the fragment's writable address: the datagram's own, at the cursor's offset */
			rc = rec_layer_open(&rx, &h, rec + (wire_offset(&r) - h.length), &plain, &plain_len);
			if (rc < 0 || plain != payload || plain_len != PAYLOAD)
				die("open", rc);
		}
		n += BATCH;
		t = now() - t0;
	} while (t < slice);
	rec_layer_free(&tx);
	rec_layer_free(&rx);
	return (double)n * PAYLOAD / t / 1e6;
}

/* ---- straight through GnuTLS ----------------------------------------------- */

static gnutls_cipher_algorithm_t gnutls_cipher_of(enum cipher_alg c)
{
	switch (c) {
	case CIPHER_AES_128_GCM: return GNUTLS_CIPHER_AES_128_GCM;
	case CIPHER_AES_256_GCM: return GNUTLS_CIPHER_AES_256_GCM;
	case CIPHER_AES_128_CCM: return GNUTLS_CIPHER_AES_128_CCM;
	case CIPHER_AES_128_CCM_8: return GNUTLS_CIPHER_AES_128_CCM_8;
	case CIPHER_CHACHA20_POLY1305: return GNUTLS_CIPHER_CHACHA20_POLY1305;
	case CIPHER_AES_128_CBC: return GNUTLS_CIPHER_AES_128_CBC;
	case CIPHER_AES_256_CBC: return GNUTLS_CIPHER_AES_256_CBC;
	}
	return GNUTLS_CIPHER_UNKNOWN;
}

static gnutls_mac_algorithm_t gnutls_mac_of(enum hash_alg h)
{
	switch (h) {
	case HASH_SHA1: return GNUTLS_MAC_SHA1;
	case HASH_SHA256: return GNUTLS_MAC_SHA256;
	case HASH_SHA384: return GNUTLS_MAC_SHA384;
	}
	return GNUTLS_MAC_UNKNOWN;
}

static double bench_raw_aead(const struct suite *s)
{
	uint8_t key[32], nonce[12], aad[13], tag[16];
	crypto_random(key, sizeof(key));
	crypto_random(nonce, sizeof(nonce));
	crypto_random(aad, sizeof(aad));
	gnutls_datum_t k = { key, s->key_len };
	gnutls_aead_cipher_hd_t h;
	int rc = gnutls_aead_cipher_init(&h, gnutls_cipher_of(s->cipher), &k);
	if (rc < 0)
		die("gnutls_aead_cipher_init", rc);

	uint8_t *data = buf + REC_HEADROOM;
	memset(data, 0x5a, PAYLOAD);
	giovec_t ad = { aad, sizeof(aad) }, io = { data, PAYLOAD };
	unsigned long n = 0;
	double t0 = now(), t;
	do {
		for (int i = 0; i < BATCH; i++) {
			size_t tag_len = s->tag_len;
			nonce[11]++;
			rc = gnutls_aead_cipher_encryptv2(h, nonce, 12, &ad, 1, &io, 1, tag, &tag_len);
			if (rc < 0)
				die("gnutls_aead_cipher_encryptv2", rc);
			rc = gnutls_aead_cipher_decryptv2(h, nonce, 12, &ad, 1, &io, 1, tag, tag_len);
			if (rc < 0)
				die("gnutls_aead_cipher_decryptv2", rc);
		}
		n += BATCH;
		t = now() - t0;
	} while (t < slice);
	gnutls_aead_cipher_deinit(h);
	return (double)n * PAYLOAD / t / 1e6;
}

static double bench_raw_cbc(const struct suite *s)
{
	uint8_t key[32], mac_key[HASH_MAX_LEN], iv[16], hdr[13], mac[HASH_MAX_LEN], mac2[HASH_MAX_LEN];
	crypto_random(key, sizeof(key));
	crypto_random(mac_key, sizeof(mac_key));
	crypto_random(iv, sizeof(iv));
	crypto_random(hdr, sizeof(hdr));
	gnutls_datum_t k = { key, s->key_len };
	gnutls_cipher_hd_t c;
	gnutls_hmac_hd_t m;
	int rc = gnutls_cipher_init(&c, gnutls_cipher_of(s->cipher), &k, &(gnutls_datum_t){ iv, 16 });
	if (rc < 0)
		die("gnutls_cipher_init", rc);
	rc = gnutls_hmac_init(&m, gnutls_mac_of(s->mac_hash), mac_key, s->mac_len);
	if (rc < 0)
		die("gnutls_hmac_init", rc);

	size_t enc = (PAYLOAD + s->mac_len + 1 + 15) / 16 * 16;
	uint8_t *data = buf + REC_HEADROOM;
	memset(data, 0x5a, PAYLOAD);
	unsigned long n = 0;
	double t0 = now(), t;
	do {
		for (int i = 0; i < BATCH; i++) {
			hdr[7]++;
			rc = gnutls_hmac(m, hdr, sizeof(hdr));
			rc |= gnutls_hmac(m, data, PAYLOAD);
			gnutls_hmac_output(m, mac);
			memcpy(data + PAYLOAD, mac, s->mac_len);
			memset(data + PAYLOAD + s->mac_len, (int)(enc - PAYLOAD - s->mac_len - 1),
			       enc - PAYLOAD - s->mac_len);
			iv[0]++;
			gnutls_cipher_set_iv(c, iv, 16);
			rc |= gnutls_cipher_encrypt2(c, data, enc, data, enc);
			gnutls_cipher_set_iv(c, iv, 16);
			rc |= gnutls_cipher_decrypt2(c, data, enc, data, enc);
			rc |= gnutls_hmac(m, hdr, sizeof(hdr));
			rc |= gnutls_hmac(m, data, PAYLOAD);
			gnutls_hmac_output(m, mac2);
			if (rc < 0 || memcmp(mac, mac2, s->mac_len) != 0)
				die("raw CBC round trip", rc);
		}
		n += BATCH;
		t = now() - t0;
	} while (t < slice);
	gnutls_cipher_deinit(c);
	gnutls_hmac_deinit(m, NULL);
	return (double)n * PAYLOAD / t / 1e6;
}

static const struct suite *find(enum cipher_kind kind, enum cipher_alg cipher, enum hash_alg mac)
{
	for (size_t i = 0; i < suite_count; i++) {
		const struct suite *s = &suite_table[i];
		if (s->kind == kind && s->cipher == cipher && (kind == CIPHER_KIND_AEAD || s->mac_hash == mac))
			return s;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		seconds = atof(argv[1]);
	if (seconds <= 0)
		seconds = 2.0;
	slice = seconds / SLICES;
	int rc = crypto_init();
	if (rc < 0)
		die("crypto_init", rc);

	const struct suite *suites[] = {
		find(CIPHER_KIND_AEAD, CIPHER_AES_128_GCM, HASH_SHA256),
		find(CIPHER_KIND_CBC, CIPHER_AES_128_CBC, HASH_SHA256),
		find(CIPHER_KIND_AEAD, CIPHER_CHACHA20_POLY1305, HASH_SHA256),
	};
	printf("record_bench: %d-byte records, one seal + one open each, %.1f s per side\n", PAYLOAD,
	       seconds);
	printf("%-44s %12s %12s %7s\n", "suite", "dtlsgw MB/s", "GnuTLS MB/s", "ratio");
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		const struct suite *s = suites[i];
		if (!s || (argc > 2 && !strstr(s->name, argv[2])))
			continue;
		double ours = 0, raw = 0;
		for (int k = 0; k < SLICES; k++) {
			ours += bench_layer(s) / SLICES;
			raw += (s->kind == CIPHER_KIND_AEAD ? bench_raw_aead(s) : bench_raw_cbc(s)) / SLICES;
		}
		printf("%-44s %12.0f %12.0f %7.2f\n", s->name, ours, raw, ours / raw);
		fflush(stdout);
	}
	return 0;
}
