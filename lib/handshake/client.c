/* The client side of the handshake: flights 1/3 and 5 and the handlers of flights 2, 4, 6. */
#include <stdlib.h>
#include <string.h>

#include "common/ct.h"
#include "handshake/engine.h"
#include "handshake/table.h"
#include "pki/pki.h"

#define MAX_BODY 4096

static bool suite_usable(const struct dtls_session *s, const struct suite *su)
{
	const struct dtls_config *cfg = s->cfg;
	if (suite_is_psk(su))
		return cfg->n_psks > 0;
	/* A certificate suite needs something to check the server's certificate with. */
	return cfg->trust != NULL || cfg->have_pin;
}

int hs_client_start(struct dtls_session *s)
{
	struct hs *hs = s->hs;
	struct dtls_config *cfg = s->cfg;
	uint16_t suites[CFG_MAX_SUITES];
	size_t n = 0;
	bool ecc = false, certs = false;
	for (size_t i = 0; i < cfg->n_suites; i++) {
		const struct suite *su = suite_by_id(cfg->suites[i]);
		if (!su || !suite_usable(s, su))
			continue;
		suites[n++] = su->id;
		ecc |= suite_is_ecdhe(su);
		certs |= suite_uses_cert(su);
	}
	ENSURE(n > 0, DTLS_ERR_HANDSHAKE_FAILURE);
	if (certs && !hs->trust) {
		pthread_mutex_lock(&cfg->cert_lock);
		if (cfg->trust)
			hs->trust = pki_trust_ref(cfg->trust);
		pthread_mutex_unlock(&cfg->cert_lock);
	}

	bool reneg = s->established_epoch > 0;
	struct client_hello_params p = {
		.random = hs->client_random,
		.cookie = hs->cookie,
		.cookie_len = hs->cookie_len,
		.suites = suites,
		.n_suites = n,
		.ecc = ecc,
		.groups = hs_groups,
		.n_groups = hs_groups_n,
		.sigalgs = hs_sigalgs,
		.n_sigalgs = certs ? hs_sigalgs_n : 0,
		.ems = true,
		.reneg = reneg ? s->client_verify : (const uint8_t *)"",
		.reneg_len = reneg ? 12 : 0,
		.server_name = cfg->server_name && !strchr(cfg->server_name, ':') &&
				       strspn(cfg->server_name, "0123456789.") != strlen(cfg->server_name)
				       ? cfg->server_name : NULL,
	};
	hs->offered_ecc = p.ecc;
	hs->offered_sni = p.server_name != NULL;
	uint8_t body[MAX_BODY];
	struct wire_writer w = wire_writer(body, sizeof(body));
	write_client_hello(&w, &p);
	size_t len;
	TRY(wire_written(&w, &len));

	flight_clear(&hs->out);
	TRY(flight_add(s, CT_HANDSHAKE, hs->epoch, HS_CLIENT_HELLO, body, len));
	hs_timer_start(s);
	return flight_send(s);
}

static enum row_when when_cert_suite(const struct dtls_session *s)
{
	return suite_uses_cert(s->hs->suite) ? ROW_REQUIRED : ROW_SKIP;
}

static enum row_when when_server_kx(const struct dtls_session *s)
{
	switch (s->hs->suite->kx) {
	case KX_PSK: return ROW_OPTIONAL; /* only to carry an identity hint */
	case KX_RSA: return ROW_SKIP;
	case KX_ECDHE_PSK:
	case KX_ECDHE_ECDSA:
	case KX_ECDHE_RSA: return ROW_REQUIRED;
	}
	return ROW_SKIP;
}

static enum row_when when_cert_request(const struct dtls_session *s)
{
	return suite_uses_cert(s->hs->suite) ? ROW_OPTIONAL : ROW_SKIP;
}

static int on_hello_verify_request(struct dtls_session *s, const uint8_t *body, size_t len)
{
	struct hs *hs = s->hs;
	struct hello_verify_request hvr;
	TRY(parse_hello_verify_request(body, len, &hvr));
	/* One more HelloVerifyRequest may come; at most a few, so a peer cannot loop us. */
	ENSURE(hs->send_seq < 4, DTLS_ERR_UNEXPECTED_MESSAGE);
	hs->cookie_len = wire_left(&hvr.cookie);
	ENSURE(hs->cookie_len > 0, DTLS_ERR_ILLEGAL_PARAMETER);
	wire_copy(&hvr.cookie, hs->cookie, hs->cookie_len);
	/* RFC 6347 4.2.6: the first ClientHello and the HelloVerifyRequest are not hashed. */
	transcript_reset(hs);
	hs->row = 0;
	return hs_client_start(s);
}

static int check_reneg_info(struct dtls_session *s, const struct hello_ext *e)
{
	struct hs *hs = s->hs;
	if (s->established_epoch == 0) {
		if (e->reneg) {
			ENSURE(e->reneg_len == 0, DTLS_ERR_HANDSHAKE_FAILURE);
			hs->peer_reneg_ext = true;
		}
		return DTLS_OK;
	}
	/* Renegotiating: the server must prove it saw both Finished messages (RFC 5746 3.5). */
	uint8_t both[24];
	memcpy(both, s->client_verify, 12);
	memcpy(both + 12, s->server_verify, 12);
	ENSURE(e->reneg && e->reneg_len == 24 && ct_memeq(e->reneg_data, both, 24), DTLS_ERR_HANDSHAKE_FAILURE);
	hs->peer_reneg_ext = true;
	return DTLS_OK;
}

static int on_server_hello(struct dtls_session *s, const uint8_t *body, size_t len)
{
	struct hs *hs = s->hs;
	struct server_hello sh;
	TRY(parse_server_hello(body, len, &sh));
	ENSURE(sh.version == DTLS_VERSION_1_2, DTLS_ERR_VERSION);
	ENSURE(sh.compression == 0, DTLS_ERR_ILLEGAL_PARAMETER);
	const struct suite *su = suite_by_id(sh.suite);
	ENSURE(su && hs_list_has(s->cfg->suites, s->cfg->n_suites, sh.suite) && suite_usable(s, su),
	       DTLS_ERR_ILLEGAL_PARAMETER);
	/* A renegotiation keeps the suite's family: no switch between PSK and certificates. */
	if (s->suite)
		ENSURE(suite_is_psk(s->suite) == suite_is_psk(su), DTLS_ERR_HANDSHAKE_FAILURE);
	/* RFC 5246 7.4.1.4: a server may only answer extensions we sent. We always send
	 * renegotiation_info and extended_master_secret. */
	uint32_t offered = EXT_BIT_RENEGOTIATION_INFO | EXT_BIT_EXTENDED_MASTER_SECRET;
	if (hs->offered_ecc)
		offered |= EXT_BIT_EC_POINT_FORMATS;
	if (hs->offered_sni)
		offered |= EXT_BIT_SERVER_NAME;
	ENSURE(!sh.ext.unknown && !(sh.ext.seen & ~offered), DTLS_ERR_UNSUPPORTED_EXTENSION);
	TRY(check_reneg_info(s, &sh.ext));
	hs->ems = sh.ext.ems;
	ENSURE(hs->ems || !s->cfg->require_ems, DTLS_ERR_HANDSHAKE_FAILURE);
	hs->suite = su;
	memcpy(hs->server_random, sh.random, 32);
	return DTLS_OK;
}

static int on_server_certificate(struct dtls_session *s, const uint8_t *body, size_t len)
{
	bool empty;
	TRY(hs_verify_peer_chain(s, body, len, &empty));
	ENSURE(!empty, DTLS_ERR_BAD_CERTIFICATE);
	ENSURE(pki_peer_can_kx(s->hs->peer, hs_pki_kx(s->hs->suite)), DTLS_ERR_UNSUPPORTED_CERTIFICATE);
	return DTLS_OK;
}

static int on_server_key_exchange(struct dtls_session *s, const uint8_t *body, size_t len)
{
	struct hs *hs = s->hs;
	const struct suite *su = hs->suite;
	bool hint = suite_is_psk(su), ecdh = suite_is_ecdhe(su), sig = ecdh && !hint;
	struct server_key_exchange ske;
	TRY(parse_server_key_exchange(body, len, hint, ecdh, sig, &ske));
	if (!ecdh)
		return DTLS_OK; /* a PSK identity hint: we have one identity to offer anyway */

	ENSURE(kex_group_supported(ske.group) && hs_list_has(hs_groups, hs_groups_n, ske.group),
	       DTLS_ERR_ILLEGAL_PARAMETER);
	size_t n = wire_left(&ske.point);
	ENSURE(n <= sizeof(hs->server_point), DTLS_ERR_ILLEGAL_PARAMETER);
	wire_copy(&ske.point, hs->server_point, n);
	hs->server_point_len = n;
	hs->server_group = ske.group;
	hs->have_server_ecdh = true;
	if (!sig)
		return DTLS_OK;

	/* The signature covers client_random + server_random + ServerECDHParams. */
	ENSURE(hs_list_has(hs_sigalgs, hs_sigalgs_n, ske.sig.scheme), DTLS_ERR_ILLEGAL_PARAMETER);
	uint8_t data[64 + 4 + KEX_MAX_PUB];
	size_t plen = wire_left(&ske.params);
	ENSURE(plen <= sizeof(data) - 64, DTLS_ERR_ILLEGAL_PARAMETER);
	memcpy(data, hs->client_random, 32);
	memcpy(data + 32, hs->server_random, 32);
	wire_copy(&ske.params, data + 64, plen);
	size_t slen = wire_left(&ske.sig.sig);
	return pki_peer_verify(hs->peer, ske.sig.scheme, data, 64 + plen, wire_bytes(&ske.sig.sig, slen), slen);
}

static int on_certificate_request(struct dtls_session *s, const uint8_t *body, size_t len)
{
	struct hs *hs = s->hs;
	struct certificate_request cr;
	TRY(parse_certificate_request(body, len, &cr));
	hs->cert_requested = true;
	hs_copy_u16_list(cr.sigalgs, hs->peer_sigalgs, ARRAY_LEN(hs->peer_sigalgs), &hs->n_peer_sigalgs);
	return DTLS_OK;
}

/* Picks our certificate for the server's request: the first whose key can sign a scheme
 * the server accepts. None is fine: we then send an empty Certificate (RFC 5246 7.4.6). */
static int choose_client_cert(struct dtls_session *s, int *scheme)
{
	struct hs *hs = s->hs;
	struct dtls_config *cfg = s->cfg;
	*scheme = -1;
	pthread_mutex_lock(&cfg->cert_lock);
	for (size_t i = 0; i < cfg->n_local && !hs->local; i++) {
		int sc = pki_choose_scheme(cfg->local[i].id, hs->peer_sigalgs, hs->n_peer_sigalgs);
		if (sc >= 0) {
			hs->local = pki_identity_ref(cfg->local[i].id);
			*scheme = sc;
		}
	}
	pthread_mutex_unlock(&cfg->cert_lock);
	return DTLS_OK;
}

/* pms for PSK (RFC 4279 2) and ECDHE_PSK (RFC 5489 2): other_secret and the PSK, each
 * with a 16-bit length; plain PSK's other_secret is that many zero bytes. */
int hs_psk_premaster(const uint8_t *other, size_t other_len, const uint8_t *psk, size_t psk_len, uint8_t *out,
		     size_t cap, size_t *len)
{
	struct wire_writer w = wire_writer(out, cap);
	wire_put_u16(&w, (uint16_t)other_len);
	uint8_t *z = wire_reserve(&w, other_len);
	if (z) {
		if (other)
			memcpy(z, other, other_len);
		else
			memset(z, 0, other_len);
	}
	wire_put_vec(&w, 2, psk, psk_len);
	return wire_written(&w, len);
}

/* Writes the ClientKeyExchange body and the premaster secret. */
static int client_key_exchange(struct dtls_session *s, uint8_t *body, size_t cap, size_t *blen, uint8_t *pms,
			       size_t *pms_len)
{
	struct hs *hs = s->hs;
	const struct suite *su = hs->suite;
	struct wire_writer w = wire_writer(body, cap);
	uint8_t z[KEX_MAX_SECRET];
	size_t zlen = 0;

	if (suite_is_psk(su)) {
		const struct psk_entry *e = &s->cfg->psks[0];
		memcpy(hs->psk, e->key, e->key_len);
		hs->psk_len = e->key_len;
		memcpy(hs->psk_identity, e->identity, e->identity_len);
		hs->psk_identity_len = e->identity_len;
		wire_put_vec(&w, 2, e->identity, e->identity_len);
	}
	if (suite_is_ecdhe(su)) {
		ENSURE(hs->have_server_ecdh, DTLS_ERR_UNEXPECTED_MESSAGE);
		TRY(kex_generate(&hs->kex, hs->server_group));
		TRY(kex_derive(&hs->kex, hs->server_point, hs->server_point_len, z, &zlen));
		wire_put_vec(&w, 1, hs->kex.pub, hs->kex.pub_len);
	}
	int rc = DTLS_OK;
	switch (su->kx) {
	case KX_PSK:
		rc = hs_psk_premaster(NULL, hs->psk_len, hs->psk, hs->psk_len, pms, 256, pms_len);
		break;
	case KX_ECDHE_PSK:
		rc = hs_psk_premaster(z, zlen, hs->psk, hs->psk_len, pms, 256, pms_len);
		break;
	case KX_ECDHE_ECDSA:
	case KX_ECDHE_RSA:
		memcpy(pms, z, zlen);
		*pms_len = zlen;
		break;
	case KX_RSA: {
		/* RFC 5246 7.4.7.1: client_version (as offered) and 46 random bytes. */
		wire_store_u16(pms, DTLS_VERSION_1_2);
		crypto_random(pms + 2, 46);
		*pms_len = 48;
		uint8_t enc[PKI_MAX_SIG_LEN];
		size_t enc_len = sizeof(enc);
		rc = pki_peer_rsa_encrypt(hs->peer, pms, enc, &enc_len);
		if (rc == 0)
			wire_put_vec(&w, 2, enc, enc_len);
		break;
	}
	}
	crypto_wipe(z, sizeof(z));
	TRY(rc);
	return wire_written(&w, blen);
}

static int on_server_hello_done(struct dtls_session *s, const uint8_t *body, size_t len)
{
	struct hs *hs = s->hs;
	TRY(parse_empty(body, len));
	TRY(hs_authorize(s));
	flight_clear(&hs->out);

	int scheme = -1;
	if (hs->cert_requested) {
		TRY(choose_client_cert(s, &scheme));
		TRY(hs_add_certificate(s, hs->local));
	}

	uint8_t cke[PKI_MAX_SIG_LEN + DTLS_MAX_PSK_IDENTITY + KEX_MAX_PUB + 8];
	uint8_t pms[256];
	size_t cke_len, pms_len = 0;
	int rc = client_key_exchange(s, cke, sizeof(cke), &cke_len, pms, &pms_len);
	if (rc == 0)
		rc = flight_add(s, CT_HANDSHAKE, hs->epoch, HS_CLIENT_KEY_EXCHANGE, cke, cke_len);
	if (rc == 0)
		rc = keys_master_secret(s, pms, pms_len);
	crypto_wipe(pms, sizeof(pms));
	TRY(rc);

	if (hs->local && scheme >= 0) {
		/* CertificateVerify signs every handshake message so far (RFC 5246 7.4.8). */
		uint8_t sig[PKI_MAX_SIG_LEN], cv[PKI_MAX_SIG_LEN + 4];
		size_t sig_len = sizeof(sig), cv_len;
		TRY(pki_sign(hs->local, (uint16_t)scheme, hs->transcript, hs->transcript_len, sig, &sig_len));
		struct wire_writer w = wire_writer(cv, sizeof(cv));
		write_digitally_signed(&w, (uint16_t)scheme, sig, sig_len);
		TRY(wire_written(&w, &cv_len));
		TRY(flight_add(s, CT_HANDSHAKE, hs->epoch, HS_CERTIFICATE_VERIFY, cv, cv_len));
	}

	TRY(flight_add(s, CT_CHANGE_CIPHER_SPEC, hs->epoch, 0, NULL, 0));
	TRY(keys_install(s, true));
	TRY(keys_install(s, false));
	TRY(hs_send_finished(s));
	hs_timer_start(s);
	return flight_send(s);
}

static int on_server_finished(struct dtls_session *s, const uint8_t *body, size_t len)
{
	TRY(hs_check_finished(s, body, len));
	return hs_complete(s);
}

const struct hs_row client_rows[] = {
	{ HS_HELLO_VERIFY_REQUEST, hs_when_optional, on_hello_verify_request, HASH_NEVER },
	{ HS_SERVER_HELLO, NULL, on_server_hello, HASH_BEFORE },
	{ HS_CERTIFICATE, when_cert_suite, on_server_certificate, HASH_BEFORE },
	{ HS_SERVER_KEY_EXCHANGE, when_server_kx, on_server_key_exchange, HASH_BEFORE },
	{ HS_CERTIFICATE_REQUEST, when_cert_request, on_certificate_request, HASH_BEFORE },
	{ HS_SERVER_HELLO_DONE, NULL, on_server_hello_done, HASH_BEFORE },
	{ HS_CHANGE_CIPHER_SPEC, hs_when_optional, hs_on_ccs, HASH_NEVER },
	{ HS_FINISHED, NULL, on_server_finished, HASH_BY_HANDLER },
};
const size_t client_rows_n = ARRAY_LEN(client_rows);
