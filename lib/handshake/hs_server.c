/* The server side of the handshake: flights 4 and 6 and the handlers of flights 3 and 5. */
#include <stdlib.h>
#include <string.h>

#include "common/ct.h"
#include "handshake/engine.h"
#include "handshake/table.h"
#include "pki/pki.h"

/* The length of the random key an unknown PSK identity gets (see psk_key). */
#define UNKNOWN_PSK_LEN 32

static bool have_psk(const struct dtls_config *cfg)
{
	return cfg->n_psks > 0 || cfg->psk_lookup;
}

/* The group for ECDHE: ours in preference order among the client's (RFC 8422 5.1: a
 * client that sends no supported_groups is taken to support secp256r1). */
static uint16_t choose_group(const struct hs *hs, bool listed)
{
	for (size_t i = 0; i < hs_groups_n; i++) {
		if (!listed && hs_groups[i] == GROUP_SECP256R1)
			return GROUP_SECP256R1;
		if (listed && hs_list_has(hs->peer_groups, hs->n_peer_groups, hs_groups[i]))
			return hs_groups[i];
	}
	return 0;
}

/*
 * Whether we can serve suite su to this client; for a certificate suite takes a
 * reference to the local certificate that fits (hs->local) and picks the scheme.
 */
static bool can_serve(struct dtls_session *s, const struct suite *su, uint16_t group, int *scheme)
{
	struct hs *hs = s->hs;
	struct dtls_config *cfg = s->cfg;
	if (suite_is_ecdhe(su) && !group)
		return false;
	if (suite_is_psk(su))
		return have_psk(cfg);

	bool ok = false;
	pthread_mutex_lock(&cfg->cert_lock);
	for (size_t i = 0; i < cfg->n_local && !ok; i++) {
		struct pki_identity *id = cfg->local[i].id;
		if (!pki_identity_can_kx(id, hs_pki_kx(su)))
			continue;
		if (su->kx != KX_RSA) {
			/* RFC 5246 7.4.1.4.1: no signature_algorithms means rsa/ecdsa with SHA-1,
			 * which we do not do; such a client gets no ECDHE certificate suite. */
			*scheme = pki_choose_scheme(id, hs->peer_sigalgs, hs->n_peer_sigalgs);
			if (*scheme < 0)
				continue;
		}
		pki_identity_unref(hs->local);
		hs->local = pki_identity_ref(id);
		ok = true;
	}
	pthread_mutex_unlock(&cfg->cert_lock);
	return ok;
}

static int check_client_reneg(struct dtls_session *s, const struct client_hello *ch)
{
	struct hs *hs = s->hs;
	bool scsv = client_hello_offers_suite(ch, 0x00ff);
	if (s->established_epoch == 0) {
		if (ch->ext.reneg)
			ENSURE(ch->ext.reneg_len == 0, DTLS_ERR_HANDSHAKE_FAILURE);
		hs->peer_reneg_ext = ch->ext.reneg || scsv;
		return DTLS_OK;
	}
	/* RFC 5746 3.7: a renegotiating client proves it saw its last Finished. */
	ENSURE(!scsv, DTLS_ERR_HANDSHAKE_FAILURE);
	ENSURE(ch->ext.reneg && ch->ext.reneg_len == 12 && ct_memeq(ch->ext.reneg_data, s->client_verify, 12),
	       DTLS_ERR_HANDSHAKE_FAILURE);
	hs->peer_reneg_ext = true;
	return DTLS_OK;
}

static int write_server_key_exchange(struct dtls_session *s, int scheme)
{
	struct hs *hs = s->hs;
	const struct suite *su = hs->suite;
	uint8_t body[2 + DTLS_MAX_PSK_IDENTITY + 4 + KEX_MAX_PUB + 4 + PKI_MAX_SIG_LEN];
	struct wire_writer w = wire_writer(body, sizeof(body));
	const char *hint = s->cfg->psk_hint;
	if (suite_is_psk(su))
		wire_put_vec(&w, 2, hint, strlen(hint));
	if (suite_is_ecdhe(su)) {
		size_t params = w.len;
		write_ecdh_params(&w, hs->kex.group, hs->kex.pub, hs->kex.pub_len);
		if (!suite_is_psk(su)) {
			size_t plen = w.len - params;
			uint8_t data[64 + 4 + KEX_MAX_PUB];
			uint8_t sig[PKI_MAX_SIG_LEN];
			size_t sig_len = sizeof(sig);
			ENSURE(!w.err && plen <= sizeof(data) - 64, DTLS_ERR_INTERNAL);
			memcpy(data, hs->client_random, 32);
			memcpy(data + 32, hs->server_random, 32);
			memcpy(data + 64, body + params, plen);
			TRY(pki_sign(hs->local, (uint16_t)scheme, data, 64 + plen, sig, &sig_len));
			write_digitally_signed(&w, (uint16_t)scheme, sig, sig_len);
		}
	}
	size_t len;
	TRY(wire_written(&w, &len));
	return flight_add(s, CT_HANDSHAKE, hs->epoch, HS_SERVER_KEY_EXCHANGE, body, len);
}

static int send_server_flight(struct dtls_session *s, int scheme, bool point_formats)
{
	struct hs *hs = s->hs;
	const struct suite *su = hs->suite;
	uint8_t body[256];
	uint8_t reneg[24];
	bool reneg_ext = hs->peer_reneg_ext;
	size_t reneg_len = 0;
	if (s->established_epoch) {
		memcpy(reneg, s->client_verify, 12);
		memcpy(reneg + 12, s->server_verify, 12);
		reneg_len = 24;
	}
	struct server_hello_params p = {
		.random = hs->server_random,
		.suite = su->id,
		.ems = hs->ems,
		.reneg = reneg_ext ? reneg : NULL,
		.reneg_len = reneg_len,
		.point_formats = point_formats,
	};
	struct wire_writer w = wire_writer(body, sizeof(body));
	write_server_hello(&w, &p);
	size_t len;
	TRY(wire_written(&w, &len));

	flight_clear(&hs->out);
	TRY(flight_add(s, CT_HANDSHAKE, hs->epoch, HS_SERVER_HELLO, body, len));
	if (suite_uses_cert(su))
		TRY(hs_add_certificate(s, hs->local));
	if (suite_is_ecdhe(su) || (su->kx == KX_PSK && s->cfg->psk_hint[0]))
		TRY(write_server_key_exchange(s, scheme));
	if (suite_uses_cert(su) && s->cfg->verify_client) {
		/* No PSK suite may ask for a certificate (RFC 4279 2). */
		hs->cert_requested = true;
		struct wire_writer cw = wire_writer(body, sizeof(body));
		write_certificate_request(&cw, hs_sigalgs, hs_sigalgs_n);
		TRY(wire_written(&cw, &len));
		TRY(flight_add(s, CT_HANDSHAKE, hs->epoch, HS_CERTIFICATE_REQUEST, body, len));
	}
	TRY(flight_add(s, CT_HANDSHAKE, hs->epoch, HS_SERVER_HELLO_DONE, NULL, 0));
	hs_timer_start(s);
	return flight_send(s);
}

static int on_client_hello(struct dtls_session *s, const uint8_t *body, size_t len)
{
	struct hs *hs = s->hs;
	struct dtls_config *cfg = s->cfg;
	struct client_hello ch;
	TRY(parse_client_hello(body, len, false, &ch));
	/* DTLS versions are 0xfe.. and count down: 0xfefd (1.2) is below 0xfeff (1.0). A
	 * TLS version (3,3) is not DTLS at all. */
	ENSURE((ch.version >> 8) == 0xfe && ch.version <= DTLS_VERSION_1_2, DTLS_ERR_VERSION);
	bool null_compression = false;
	struct wire_reader comp = ch.compressions;
	while (wire_left(&comp) > 0)
		null_compression |= wire_u8(&comp) == 0;
	ENSURE(null_compression, DTLS_ERR_ILLEGAL_PARAMETER);
	TRY(check_client_reneg(s, &ch));
	hs->ems = ch.ext.ems;
	ENSURE(hs->ems || !cfg->require_ems, DTLS_ERR_HANDSHAKE_FAILURE);
	memcpy(hs->client_random, ch.random, 32);
	if (hs->epoch == 0)
		memcpy(s->hello_random, ch.random, 32);
	hs_copy_u16_list(ch.ext.sigalg_list, hs->peer_sigalgs, ARRAY_LEN(hs->peer_sigalgs), &hs->n_peer_sigalgs);
	hs_copy_u16_list(ch.ext.group_list, hs->peer_groups, ARRAY_LEN(hs->peer_groups), &hs->n_peer_groups);
	uint16_t group = choose_group(hs, ch.ext.groups);

	/* Our preference order; the first suite we can serve wins. */
	int scheme = -1;
	for (size_t i = 0; i < cfg->n_suites && !hs->suite; i++) {
		const struct suite *su = suite_by_id(cfg->suites[i]);
		if (!su || !client_hello_offers_suite(&ch, su->id))
			continue;
		if (s->suite && suite_is_psk(s->suite) != suite_is_psk(su))
			continue; /* a renegotiation keeps the family of the first handshake */
		if (can_serve(s, su, group, &scheme))
			hs->suite = su;
	}
	ENSURE(hs->suite, DTLS_ERR_HANDSHAKE_FAILURE);
	if (suite_uses_cert(hs->suite) && cfg->verify_client && cfg->trust)
		hs->trust = pki_trust_ref(cfg->trust);
	if (suite_is_ecdhe(hs->suite))
		TRY(kex_generate(&hs->kex, group));
	crypto_random(hs->server_random, 32);
	return send_server_flight(s, scheme, suite_is_ecdhe(hs->suite) && ch.ext.point_formats);
}

static enum row_when when_cert_requested(const struct dtls_session *s)
{
	return s->hs->cert_requested ? ROW_REQUIRED : ROW_SKIP;
}

static enum row_when when_peer_cert(const struct dtls_session *s)
{
	return s->hs->peer_sent_cert ? ROW_REQUIRED : ROW_SKIP;
}

static int on_client_certificate(struct dtls_session *s, const uint8_t *body, size_t len)
{
	struct hs *hs = s->hs;
	bool empty;
	if (!hs->trust && !s->cfg->have_pin) {
		/* Nothing to verify a client certificate with: refuse rather than accept blindly. */
		return DTLS_ERR_HANDSHAKE_FAILURE;
	}
	TRY(hs_verify_peer_chain(s, body, len, &empty));
	/* RFC 5246 7.4.6: a server that requires a certificate ends with handshake_failure. */
	ENSURE(!empty || !s->cfg->require_client_cert, DTLS_ERR_HANDSHAKE_FAILURE);
	hs->peer_sent_cert = !empty;
	return DTLS_OK;
}

/* The configured key of identity id into hs->psk; whether there was one. */
static bool find_psk(struct dtls_session *s, const uint8_t *id, size_t id_len)
{
	struct hs *hs = s->hs;
	struct dtls_config *cfg = s->cfg;
	for (size_t i = 0; i < cfg->n_psks; i++) {
		const struct psk_entry *e = &cfg->psks[i];
		if (e->identity_len == id_len && memcmp(e->identity, id, id_len) == 0) {
			memcpy(hs->psk, e->key, e->key_len);
			hs->psk_len = e->key_len;
			return true;
		}
	}
	if (cfg->psk_lookup) {
		int n = cfg->psk_lookup(cfg->psk_lookup_arg, s->arg, id, id_len, hs->psk);
		if (n > 0 && n <= DTLS_MAX_PSK_LEN) {
			hs->psk_len = (size_t)n;
			return true;
		}
	}
	return false;
}

/*
 * The key of the client's PSK identity. An unknown identity goes on with a random key
 * (unless the config reveals identities): the client's Finished then fails exactly as
 * with a wrong key, bad_record_mac after the same messages, so a scanner cannot tell
 * which identities exist. The identity stays in hs for dtls_session_psk_identity().
 */
static int psk_key(struct dtls_session *s, const uint8_t *id, size_t id_len)
{
	struct hs *hs = s->hs;
	if (id_len > 0 && id_len <= DTLS_MAX_PSK_IDENTITY) {
		memcpy(hs->psk_identity, id, id_len);
		hs->psk_identity_len = id_len;
		if (find_psk(s, id, id_len))
			return DTLS_OK;
	}
	ENSURE(!s->cfg->reveal_psk_identities, DTLS_ERR_UNKNOWN_PSK_IDENTITY);
	crypto_random(hs->psk, UNKNOWN_PSK_LEN);
	hs->psk_len = UNKNOWN_PSK_LEN;
	return DTLS_OK;
}

/*
 * RSA key transport, server side (RFC 5246 7.4.7.1): whatever goes wrong with the
 * decryption or the version bytes, continue with a random premaster, without a branch
 * that depends on which it was. The Finished check then fails like any wrong key.
 */
static void rsa_premaster(struct dtls_session *s, const uint8_t *enc, size_t len, uint8_t pms[static 48])
{
	uint8_t random[48], got[48];
	crypto_random(random, sizeof(random));
	wire_store_u16(random, DTLS_VERSION_1_2);
	memcpy(got, random, sizeof(got));
	int rc = pki_rsa_decrypt_premaster(s->hs->local, enc, len, got);
	uint32_t ok = ct_eq_u32((uint32_t)rc, 0);
	ok &= ct_eq_u32(got[0], DTLS_VERSION_1_2 >> 8) & ct_eq_u32(got[1], DTLS_VERSION_1_2 & 0xff);
	memcpy(pms, random, 48);
	ct_copy_if(ok, pms, got, 48);
	crypto_wipe(random, sizeof(random));
	crypto_wipe(got, sizeof(got));
}

static int on_client_key_exchange(struct dtls_session *s, const uint8_t *body, size_t len)
{
	struct hs *hs = s->hs;
	const struct suite *su = hs->suite;
	struct client_key_exchange cke;
	TRY(parse_client_key_exchange(body, len, suite_is_psk(su), suite_is_ecdhe(su), su->kx == KX_RSA, &cke));
	if (suite_is_psk(su)) {
		size_t n = wire_left(&cke.identity);
		TRY(psk_key(s, wire_bytes(&cke.identity, n), n));
	}
	uint8_t z[KEX_MAX_SECRET], pms[256];
	size_t zlen = 0, pms_len = 0;
	int rc = DTLS_OK;
	if (suite_is_ecdhe(su)) {
		size_t n = wire_left(&cke.point);
		rc = kex_derive(&hs->kex, wire_bytes(&cke.point, n), n, z, &zlen);
	}
	if (rc == 0) {
		switch (su->kx) {
		case KX_PSK:
			rc = hs_psk_premaster(NULL, hs->psk_len, hs->psk, hs->psk_len, pms, sizeof(pms), &pms_len);
			break;
		case KX_ECDHE_PSK:
			rc = hs_psk_premaster(z, zlen, hs->psk, hs->psk_len, pms, sizeof(pms), &pms_len);
			break;
		case KX_ECDHE_ECDSA:
		case KX_ECDHE_RSA:
			memcpy(pms, z, zlen);
			pms_len = zlen;
			break;
		case KX_RSA: {
			size_t n = wire_left(&cke.rsa);
			rsa_premaster(s, wire_bytes(&cke.rsa, n), n, pms);
			pms_len = 48;
			break;
		}
		}
	}
	if (rc == 0)
		rc = keys_master_secret(s, pms, pms_len);
	crypto_wipe(z, sizeof(z));
	crypto_wipe(pms, sizeof(pms));
	TRY(rc);
	return keys_install(s, true);
}

static int on_certificate_verify(struct dtls_session *s, const uint8_t *body, size_t len)
{
	struct hs *hs = s->hs;
	struct digitally_signed ds;
	TRY(parse_certificate_verify(body, len, &ds));
	ENSURE(hs_list_has(hs_sigalgs, hs_sigalgs_n, ds.scheme), DTLS_ERR_ILLEGAL_PARAMETER);
	size_t n = wire_left(&ds.sig);
	TRY(pki_peer_verify(hs->peer, ds.scheme, hs->transcript, hs->transcript_len, wire_bytes(&ds.sig, n), n));
	return transcript_add(hs, HS_CERTIFICATE_VERIFY, hs->recv_seq, body, len);
}

static int on_client_finished(struct dtls_session *s, const uint8_t *body, size_t len)
{
	struct hs *hs = s->hs;
	TRY(hs_check_finished(s, body, len));
	TRY(hs_authorize(s));
	flight_clear(&hs->out);
	TRY(flight_add(s, CT_CHANGE_CIPHER_SPEC, hs->epoch, 0, NULL, 0));
	TRY(keys_install(s, false));
	TRY(hs_send_finished(s));
	TRY(flight_send(s));
	return hs_complete(s);
}

const struct hs_row server_rows[] = {
	{ HS_CLIENT_HELLO, NULL, on_client_hello, HASH_BEFORE },
	{ HS_CERTIFICATE, when_cert_requested, on_client_certificate, HASH_BEFORE },
	{ HS_CLIENT_KEY_EXCHANGE, NULL, on_client_key_exchange, HASH_BEFORE },
	{ HS_CERTIFICATE_VERIFY, when_peer_cert, on_certificate_verify, HASH_BY_HANDLER },
	{ HS_CHANGE_CIPHER_SPEC, hs_when_optional, hs_on_ccs, HASH_NEVER },
	{ HS_FINISHED, NULL, on_client_finished, HASH_BY_HANDLER },
};
const size_t server_rows_n = ARRAY_LEN(server_rows);
