/*
 * The cipher suites a configuration offers. The gateway's: its `ciphers`, else the
 * forward-secret AEAD suites libdtls recommends (ECDHE key exchange, no CBC, no CCM_8,
 * no RSA key transport). A peer's: its own `ciphers` (how a peer opts into the others,
 * TLS_RSA_WITH_AES_128_CBC_SHA or the plain PSK suites), else the gateway's. The server
 * offers all of them together and admits each peer only with a suite of its own list.
 */
#ifndef DTLSGW_DAEMON_SUITES_H
#define DTLSGW_DAEMON_SUITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtls/dtls.h>

#include "daemon/config.h"

#define GW_SUITES_MAX 64

struct gw_suites {
	uint16_t id[GW_SUITES_MAX]; /* in order of preference */
	size_t n;
};

void gw_suites_of_gateway(const struct gw_config *cfg, struct gw_suites *out);
void gw_suites_of_peer(const struct gw_config *cfg, const struct peer_policy *pol,
		       struct gw_suites *out);
/* The gateway's, then every peer's own that are not in it yet. */
void gw_suites_all(const struct gw_config *cfg, struct gw_suites *out);
bool gw_suites_has(const struct gw_suites *s, uint16_t id);
bool gw_suite_in(const uint16_t *ids, size_t n, uint16_t id);
/* Gives them to a session config; negative (logged) on failure. */
int gw_suites_apply(struct dtls_config *d, const struct gw_suites *s)
	__attribute__((warn_unused_result));
/* The most bytes a record of any of them adds to its payload, header included. */
unsigned gw_suites_overhead(const struct gw_suites *s);

#endif
