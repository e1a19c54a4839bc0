/*
 * Configurations and oracles shared by the engine targets (server, client, client_deep,
 * reassembly, established) and the seed generator.
 *
 * The oracles are what no input may ever cause: a fuzzer cannot know the keys of a
 * handshake it takes part in blindly, so any "established" or "data" callback on such a
 * session is the engine accepting something it did not authenticate (abort()).
 */
#ifndef DTLS_FUZZ_ENGINE_H
#define DTLS_FUZZ_ENGINE_H

#include <stdio.h>
#include <stdlib.h>

#include <dtls/dtls.h>

#include "fuzz.h"
#include "handshake/engine.h"

#ifndef FUZZ_PKI_DIR
#error "FUZZ_PKI_DIR must name tests/fuzz/pki"
#endif

static inline uint64_t fuzz_wall_clock(void)
{
	return FUZZ_WALL_CLOCK;
}

#define FUZZ_CFG_PSK 1u      /* the fuzz PSK */
#define FUZZ_CFG_CERT 2u     /* the server-ec identity (server) / trust in the test CA (client) */
#define FUZZ_CFG_NOCOOKIE 4u /* server: no HelloVerifyRequest */
#define FUZZ_CFG_VERIFY 8u   /* server: ask for a client certificate; client: carry one */
#define FUZZ_CFG_SMALL 16u   /* 256-byte MTU, 2 KiB messages at most */

/* A config for a role; aborts if the set-up fails (a harness bug, not a finding). */
static inline struct dtls_config *fuzz_config(bool server, unsigned flags, const char *ciphers)
{
	struct dtls_config *cfg = dtls_config_new();
	char err[256];
	if (!cfg)
		abort();
	cfg->wall_clock = fuzz_wall_clock;
	if (ciphers && dtls_config_set_ciphers(cfg, ciphers) < 0)
		abort();
	if ((flags & FUZZ_CFG_PSK) &&
	    dtls_config_add_psk(cfg, (const uint8_t *)FUZZ_PSK_IDENTITY, strlen(FUZZ_PSK_IDENTITY), fuzz_psk,
				sizeof(fuzz_psk)) < 0)
		abort();
	if (flags & FUZZ_CFG_CERT) {
		int rc = 0;
		if (server)
			rc = dtls_config_add_local_cert(cfg, FUZZ_PKI_DIR "/server-ec-chain.pem",
							FUZZ_PKI_DIR "/server-ec.key", err, sizeof(err));
		else
			rc = dtls_config_add_trusted(cfg, FUZZ_PKI_DIR "/ca.der", err, sizeof(err));
		if (rc == 0 && server)
			rc = dtls_config_add_trusted(cfg, FUZZ_PKI_DIR "/ca.der", err, sizeof(err));
		if (rc == 0 && !server)
			rc = dtls_config_set_server_name(cfg, "gw.test");
		if (rc == 0 && !server && (flags & FUZZ_CFG_VERIFY))
			rc = dtls_config_add_local_cert(cfg, FUZZ_PKI_DIR "/client-chain.pem",
							FUZZ_PKI_DIR "/client.key", err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "fuzz: test PKI: %s (%s)\n", err, dtls_strerror(rc));
			abort();
		}
	}
	if (server) {
		dtls_config_set_cookies(cfg, !(flags & FUZZ_CFG_NOCOOKIE));
		if (flags & FUZZ_CFG_VERIFY)
			dtls_config_verify_client(cfg, true, false);
	}
	if ((flags & FUZZ_CFG_SMALL) &&
	    (dtls_config_set_mtu(cfg, 256) < 0 || dtls_config_set_max_message(cfg, 2048) < 0))
		abort();
	return cfg;
}

/* A datagram sink that reads every byte it is given (ASan checks the span). */
static inline void fuzz_touch(const uint8_t *p, size_t n)
{
	volatile uint8_t sink = 0;
	for (size_t i = 0; i < n; i++)
		sink ^= p[i];
	(void)sink;
}

#endif
