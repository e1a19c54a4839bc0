/*
 * Certificate and key loading through lib/pki (GnuTLS underneath): the glue must turn
 * any bytes into a clean error, never a crash or a leak.
 *
 * Input: mode(1) chunk*, chunks as in fuzz.h.
 *   mode % 3 == 0  pki_identity_load_mem(chunk 1 = certificates, chunk 2 = key)
 *   mode % 3 == 1  pki_peer_from_der(chunk 1) and every accessor of the peer
 *   mode % 3 == 2  pki_verify_chain(chunks 1..8 as the peer's chain) against a store
 *                  holding the test CA, with and without a host name; bit 7 of mode:
 *                  the peer is a client
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dtls/dtls.h>

#include "fuzz.h"
#include "handshake/message.h"
#include "pki/pki.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pki_trust *trust;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	char err[256];
	if (dtls_init() < 0 || !(trust = pki_trust_new()))
		abort();
	if (pki_trust_add_file(trust, FUZZ_PKI_DIR "/ca.der", err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_pki: %s\n", err);
		abort();
	}
	return 0;
}

static void use_peer(struct pki_peer *p)
{
	char cn[256];
	uint8_t pin[PKI_PIN_LEN];
	size_t n;
	const uint8_t *der = pki_peer_cert_der(p, &n);
	volatile uint8_t sink = 0;
	for (size_t i = 0; i < n; i++)
		sink ^= der[i];
	(void)sink;
	(void)pki_peer_key_type(p);
	(void)pki_peer_can_kx(p, PKI_KX_RSA);
	(void)pki_peer_can_kx(p, PKI_KX_ECDHE_ECDSA);
	if (pki_peer_subject_cn(p, cn, sizeof(cn)) == 0 && !memchr(cn, 0, sizeof(cn)))
		abort();
	(void)pki_peer_has_name(p, "gw.test");
	(void)pki_peer_has_name(p, "127.0.0.1");
	if (pki_peer_spki_sha256(p, pin) < 0)
		abort();
	uint8_t sig[72] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01 };
	(void)pki_peer_verify(p, PKI_ECDSA_SHA256, (const uint8_t *)"x", 1, sig, 8);
	(void)pki_peer_verify(p, PKI_RSA_PSS_RSAE_SHA256, (const uint8_t *)"x", 1, sig, sizeof(sig));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	data++, size--;
	const uint8_t *der[CERT_MAX_CHAIN];
	size_t der_len[CERT_MAX_CHAIN], n = 0;
	uint8_t meta;
	while (n < CERT_MAX_CHAIN && fuzz_chunk(&data, &size, &meta, &der[n], &der_len[n]))
		n++;
	char err[256];

	switch (mode % 3) {
	case 0: {
		if (n < 2)
			return 0;
		struct pki_identity *id = NULL;
		if (pki_identity_load_mem(&id, der[0], der_len[0], der[1], der_len[1], FUZZ_WALL_CLOCK, err,
					  sizeof(err)) == 0) {
			size_t len;
			for (size_t i = 0; i < pki_identity_cert_count(id); i++)
				if (!pki_identity_cert_der(id, i, &len))
					abort();
			uint16_t schemes[] = { PKI_ECDSA_SHA256, PKI_RSA_PSS_RSAE_SHA256, PKI_RSA_PKCS1_SHA256 };
			int sc = pki_choose_scheme(id, schemes, 3);
			if (sc >= 0) {
				uint8_t sig[PKI_MAX_SIG_LEN];
				size_t sig_len = sizeof(sig);
				if (pki_sign(id, (uint16_t)sc, (const uint8_t *)"data", 4, sig, &sig_len) < 0)
					abort();
			}
			pki_identity_unref(id);
		}
		break;
	}
	case 1: {
		if (n < 1)
			return 0;
		struct pki_peer *p = NULL;
		if (pki_peer_from_der(der[0], der_len[0], &p) == 0) {
			use_peer(p);
			pki_peer_free(p);
		}
		break;
	}
	case 2: {
		if (n < 1)
			return 0;
		struct pki_peer *p = NULL;
		bool server = !(mode & 0x80);
		for (int named = 0; named < 2; named++) {
			if (pki_verify_chain(trust, der, der_len, n, named ? "gw.test" : NULL, server, FUZZ_WALL_CLOCK,
					     &p, err, sizeof(err)) == 0) {
				use_peer(p);
				pki_peer_free(p);
				p = NULL;
			}
		}
		break;
	}
	}
	return 0;
}
