/*
 * The handshake dispatcher: reassembled messages in message_seq order are matched against
 * the role's table, retransmitted flights of the peer trigger ours, renegotiation starts a
 * new handshake inside the session, and the retransmission timer (RFC 6347 4.2.4) lives
 * here.
 */
#include <stdlib.h>
#include <string.h>

#include "common/ct.h"
#include "handshake/engine.h"
#include "handshake/table.h"
#include "pki/pki.h"

const uint16_t hs_sigalgs[] = {
	PKI_ECDSA_SHA256, PKI_ECDSA_SHA384, PKI_RSA_PSS_RSAE_SHA256, PKI_RSA_PSS_RSAE_SHA384,
	PKI_RSA_PKCS1_SHA256, PKI_RSA_PKCS1_SHA384,
};
const size_t hs_sigalgs_n = ARRAY_LEN(hs_sigalgs);
const uint16_t hs_groups[] = { GROUP_X25519, GROUP_SECP256R1, GROUP_SECP384R1 };
const size_t hs_groups_n = ARRAY_LEN(hs_groups);

void hs_copy_u16_list(struct wire_reader list, uint16_t *out, size_t cap, size_t *n)
{
	*n = 0;
	while (wire_left(&list) >= 2 && *n < cap)
		out[(*n)++] = wire_u16(&list);
}

bool hs_list_has(const uint16_t *list, size_t n, uint16_t v)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == v)
			return true;
	return false;
}

uint64_t hs_wall_clock(const struct dtls_session *s)
{
	return s->cfg->wall_clock ? s->cfg->wall_clock() : 0;
}

/* ---- life cycle ---------------------------------------------------------- */

int hs_begin(struct dtls_session *s)
{
	hs_free(s);
	struct hs *hs = calloc(1, sizeof(*hs));
	ENSURE(hs, DTLS_ERR_NOMEM);
	hs->epoch = s->rec.write_epoch;
	hs->started_ms = s->now_ms;
	/* A client's random is fixed for the whole handshake: the ClientHello that answers a
	 * HelloVerifyRequest repeats it (RFC 6347 4.2.1). */
	if (s->client)
		crypto_random(hs->client_random, sizeof(hs->client_random));
	hs->rto_ms = s->cfg->timer_initial_ms;
	s->hs = hs;
	return DTLS_OK;
}

void hs_free(struct dtls_session *s)
{
	struct hs *hs = s->hs;
	if (!hs)
		return;
	for (size_t i = 0; i < HS_WINDOW; i++)
		reasm_release(&hs->pending[i]);
	for (size_t i = 0; i < hs->n_early; i++)
		free(hs->early[i].data);
	flight_clear(&hs->out);
	free(hs->transcript);
	kex_wipe(&hs->kex);
	pki_identity_unref(hs->local);
	pki_trust_unref(hs->trust);
	pki_peer_free(hs->peer);
	free(hs->chain);
	crypto_wipe(hs, sizeof(*hs));
	free(hs);
	s->hs = NULL;
	session_scratch_release(s);
}

/* ---- timers --------------------------------------------------------------- */

void hs_timer_start(struct dtls_session *s)
{
	s->hs->rto_ms = s->cfg->timer_initial_ms;
	s->hs->timer_on = true;
}

void hs_timer_stop(struct dtls_session *s)
{
	s->hs->timer_on = false;
}

uint64_t hs_next_timeout(const struct dtls_session *s)
{
	const struct hs *hs = s->hs;
	if (!hs)
		return UINT64_MAX;
	if (hs->done)
		return hs->linger_until;
	if (!hs->timer_on)
		return hs->started_ms + s->cfg->timer_total_ms;
	return hs->sent_ms + hs->rto_ms;
}

int hs_timeout(struct dtls_session *s)
{
	struct hs *hs = s->hs;
	if (!hs || s->now_ms < hs_next_timeout(s))
		return DTLS_OK;
	if (hs->done) {
		hs_free(s);
		return DTLS_OK;
	}
	if (s->now_ms - hs->started_ms >= s->cfg->timer_total_ms)
		return session_fail(s, DTLS_ERR_HANDSHAKE_TIMEOUT);
	uint64_t rto = (uint64_t)hs->rto_ms * 2;
	hs->rto_ms = (uint32_t)(rto < s->cfg->timer_max_ms ? rto : s->cfg->timer_max_ms);
	s->stats.retransmits++;
	return flight_send(s);
}

/* The peer sent its previous flight again: ours was lost, send it again (4.2.4), but
 * not more than once per half initial timeout however many records of that flight come. */
static int peer_retransmitted(struct dtls_session *s)
{
	struct hs *hs = s->hs;
	if (!hs->out.n || s->now_ms - hs->peer_rexmit_ms < s->cfg->timer_initial_ms / 2)
		return DTLS_OK;
	hs->peer_rexmit_ms = s->now_ms;
	s->stats.retransmits++;
	return flight_send(s);
}

/* ---- dispatch -------------------------------------------------------------- */

static enum row_when row_when(const struct dtls_session *s, const struct hs_row *row)
{
	return row->when ? row->when(s) : ROW_REQUIRED;
}

static int dispatch(struct dtls_session *s, const struct reasm *m)
{
	const struct hs_row *rows = s->client ? client_rows : server_rows;
	size_t n = s->client ? client_rows_n : server_rows_n;
	struct hs *hs = s->hs;

	for (size_t i = (size_t)hs->row; i < n; i++) {
		const struct hs_row *row = &rows[i];
		enum row_when w = row_when(s, row);
		if (w == ROW_SKIP || (w == ROW_OPTIONAL && row->type != m->type))
			continue;
		if (row->type != m->type)
			break;
		/* Finished comes under the new epoch, everything else under the old one. */
		uint16_t want = (uint16_t)(m->type == HS_FINISHED ? hs->epoch + 1 : hs->epoch);
		ENSURE(m->epoch == want, DTLS_ERR_UNEXPECTED_MESSAGE);
		hs->row = (int)i + 1;
		if (row->hash == HASH_BEFORE)
			TRY(transcript_add(hs, m->type, m->seq, m->body, m->len));
		return row->handle(s, m->body, m->len);
	}
	return DTLS_ERR_UNEXPECTED_MESSAGE;
}

/* Whether the rate limit lets one more peer-initiated renegotiation start now: fewer
 * than reneg_max started in the last reneg_window_ms. */
static bool reneg_within_limit(const struct dtls_session *s)
{
	const struct dtls_config *cfg = s->cfg;
	size_t n = s->n_reneg_started;
	if (!cfg->reneg_window_ms || n < cfg->reneg_max)
		return true;
	return s->now_ms - s->reneg_started[n - cfg->reneg_max] >= cfg->reneg_window_ms;
}

static void reneg_note_start(struct dtls_session *s)
{
	if (s->n_reneg_started == DTLS_MAX_RENEGOTIATION_LIMIT) {
		memmove(s->reneg_started, s->reneg_started + 1, sizeof(s->reneg_started) - sizeof(s->reneg_started[0]));
		s->n_reneg_started--;
	}
	s->reneg_started[s->n_reneg_started++] = s->now_ms;
}

/*
 * Starts a renegotiation the peer asked for, or refuses it with a warning alert (RFC
 * 5246 7.2.2) and counts that; the session goes on either way. A message that comes in
 * fragments is refused once, on its first fragment.
 */
static int renegotiation(struct dtls_session *s, uint16_t epoch, const struct hs_header *h)
{
	if (epoch == 0 || epoch != s->established_epoch || s->state != DTLS_STATE_ESTABLISHED)
		return 0; /* a stale retransmission from the first handshake */
	if (!s->cfg->allow_reneg || !s->secure_reneg || !reneg_within_limit(s)) {
		if (h->frag_off == 0) {
			s->stats.renegotiations_refused++;
			session_send_alert(s, 1, DTLS_ALERT_NO_RENEGOTIATION);
		}
		return 0;
	}
	reneg_note_start(s);
	TRY(hs_begin(s));
	if (s->client) {
		/* HelloRequest is not part of the new handshake's transcript. */
		s->hs->recv_seq = (uint16_t)(h->seq + 1);
		memcpy(s->hs->cookie, s->hello_cookie, s->hello_cookie_len);
		s->hs->cookie_len = s->hello_cookie_len;
		TRY(hs_client_start(s));
		return 0;
	}
	s->hs->recv_seq = h->seq;
	s->hs->send_seq = h->seq;
	return 1;
}

static int handle_fragment(struct dtls_session *s, uint16_t epoch, const struct hs_header *h, struct wire_reader *frag)
{
	bool starts = s->client ? h->type == HS_HELLO_REQUEST : h->type == HS_CLIENT_HELLO;
	bool idle = !s->hs || (s->hs->done && epoch == s->established_epoch);
	if (!s->hs && !s->client && s->handshakes == 0) {
		/* A new server session: its first message starts the handshake (and the
		 * handshake's clock: the session may have been created before `now` was known);
		 * the table refuses anything but a ClientHello. */
		if (epoch != 0)
			return DTLS_OK;
		TRY(hs_begin(s));
	} else if (idle && starts) {
		int rc = renegotiation(s, epoch, h);
		if (rc <= 0)
			return rc;
	} else if (!s->hs) {
		return DTLS_OK; /* a stale retransmission: nothing left to answer it with */
	}
	struct hs *hs = s->hs;
	if (s->client && h->type == HS_HELLO_REQUEST)
		return DTLS_OK; /* ignored during a handshake (RFC 5246 7.4.1.1) */
	if (!s->client && hs->row == 0 && hs->recv_seq == 0 && hs->send_seq == 0 && h->type == HS_CLIENT_HELLO) {
		/* The first ClientHello fixes where both sides' numbering is (after a stateless
		 * cookie exchange it is 1: RFC 6347 4.2.2). */
		hs->recv_seq = hs->send_seq = h->seq;
	}
	if (h->seq < hs->recv_seq)
		return peer_retransmitted(s);
	if (hs->done)
		return DTLS_OK;

	int rc = reasm_add(s, epoch, h, frag);
	if (rc <= 0)
		return rc;
	struct reasm *m;
	while ((m = reasm_next(s)) != NULL) {
		rc = dispatch(s, m);
		if (s->hs != hs)
			return rc; /* finished and freed (with m), or restarted */
		reasm_release(m);
		if (rc < 0)
			return rc;
		hs->recv_seq++;
		if (hs->done)
			break;
	}
	return DTLS_OK;
}

int hs_handle_record(struct dtls_session *s, uint16_t epoch, const uint8_t *p, size_t n)
{
	/* Once a session is established, handshake messages come under its keys: anything
	 * older is a stale retransmission or forged, and must not disturb the session. */
	if (epoch < s->established_epoch) {
		s->stats.dropped_epoch++;
		return DTLS_OK;
	}
	struct wire_reader r = wire_reader(p, n);
	while (wire_left(&r) > 0) {
		struct hs_header h;
		struct wire_reader frag;
		if (hs_parse_header(&r, &h, &frag) < 0) {
			s->stats.dropped_malformed++;
			return DTLS_OK;
		}
		TRY(handle_fragment(s, epoch, &h, &frag));
	}
	return DTLS_OK;
}

int hs_handle_ccs(struct dtls_session *s, uint16_t epoch, const uint8_t *p, size_t n)
{
	/* The CCS carries no authority here: read keys of the next epoch are installed when
	 * derived and the Finished must come under them. A CCS is checked and noted only. */
	(void)epoch;
	if (n != 1 || p[0] != 1)
		s->stats.dropped_malformed++;
	return DTLS_OK;
}

int hs_bad_record(struct dtls_session *s, uint16_t epoch)
{
	struct hs *hs = s->hs;
	/* Our keys for the peer's Finished do not open it: with PSK that is a wrong key.
	 * RFC 6347 4.1.2.7 allows ending with bad_record_mac; garbage elsewhere is dropped.
	 * Only in a first handshake: inside an established session a forged record must not
	 * be able to end it. */
	const struct hs_row *rows = s->client ? client_rows : server_rows;
	size_t n = s->client ? client_rows_n : server_rows_n;
	if (!hs || hs->done || s->established_epoch || epoch != hs->epoch + 1 || hs->row <= 0)
		return DTLS_OK;
	size_t i = (size_t)hs->row;
	while (i < n && row_when(s, &rows[i]) == ROW_SKIP)
		i++;
	if (i >= n)
		return DTLS_OK;
	int next = rows[i].type;
	if (next != HS_CHANGE_CIPHER_SPEC && next != HS_FINISHED)
		return DTLS_OK;
	return session_fail(s, DTLS_ERR_BAD_RECORD_MAC);
}

/* ---- shared steps --------------------------------------------------------- */

enum row_when hs_when_optional(const struct dtls_session *s)
{
	(void)s;
	return ROW_OPTIONAL;
}

int hs_on_ccs(struct dtls_session *s, const uint8_t *body, size_t len)
{
	(void)s, (void)body, (void)len;
	return DTLS_OK;
}

int hs_pki_kx(const struct suite *su)
{
	return su->kx == KX_RSA ? PKI_KX_RSA : su->kx == KX_ECDHE_RSA ? PKI_KX_ECDHE_RSA : PKI_KX_ECDHE_ECDSA;
}

int hs_add_certificate(struct dtls_session *s, const struct pki_identity *id)
{
	struct certificate_msg c = { 0 };
	size_t n = id ? pki_identity_cert_count(id) : 0;
	size_t total = 3;
	for (size_t i = 0; i < n && c.n < CERT_MAX_CHAIN; i++) {
		c.der[c.n] = pki_identity_cert_der(id, i, &c.der_len[c.n]);
		total += 3 + c.der_len[c.n++];
	}
	uint8_t *body = malloc(total);
	ENSURE(body, DTLS_ERR_NOMEM);
	struct wire_writer w = wire_writer(body, total);
	write_certificate(&w, &c);
	size_t len;
	int rc = wire_written(&w, &len);
	if (rc == 0)
		rc = flight_add(s, CT_HANDSHAKE, s->hs->epoch, HS_CERTIFICATE, body, len);
	free(body);
	return rc;
}

int hs_send_finished(struct dtls_session *s)
{
	struct hs *hs = s->hs;
	uint8_t *mine = s->client ? hs->verify_data_client : hs->verify_data_server;
	TRY(keys_finished(s, s->client, mine));
	return flight_add(s, CT_HANDSHAKE, (uint16_t)(hs->epoch + 1), HS_FINISHED, mine, FINISHED_LEN);
}

int hs_check_finished(struct dtls_session *s, const uint8_t *body, size_t len)
{
	struct hs *hs = s->hs;
	const uint8_t *got;
	TRY(parse_finished(body, len, &got));
	uint8_t *theirs = s->client ? hs->verify_data_server : hs->verify_data_client;
	TRY(keys_finished(s, !s->client, theirs));
	ENSURE(ct_memeq(got, theirs, FINISHED_LEN), DTLS_ERR_DECRYPT_ERROR);
	return transcript_add(hs, HS_FINISHED, hs->recv_seq, body, len);
}

int hs_authorize(struct dtls_session *s)
{
	struct hs *hs = s->hs;
	int rc = s->cb.authorize ? s->cb.authorize(s->arg, s) : 0;
	/* The chain was kept for dtls_session_peer_verify() in the callback only. */
	free(hs->chain);
	hs->chain = NULL;
	hs->chain_n = 0;
	return rc < 0 ? DTLS_ERR_ACCESS_DENIED : DTLS_OK;
}

int dtls_session_peer_verify(struct dtls_session *s, struct dtls_config *cfg)
{
	struct hs *hs = s->hs;
	ENSURE(hs && hs->chain_n && cfg, DTLS_ERR_ARG);
	pthread_mutex_lock(&cfg->cert_lock);
	struct pki_trust *t = cfg->trust ? pki_trust_ref(cfg->trust) : NULL;
	pthread_mutex_unlock(&cfg->cert_lock);
	ENSURE(t, DTLS_ERR_ARG);

	const uint8_t *der[CERT_MAX_CHAIN];
	size_t off = 0;
	for (size_t i = 0; i < hs->chain_n; i++) {
		der[i] = hs->chain + off;
		off += hs->chain_len[i];
	}
	struct pki_peer *p = NULL;
	char err[256];
	const char *name = s->client ? s->cfg->server_name : NULL;
	int rc = pki_verify_chain(t, der, hs->chain_len, hs->chain_n, name, s->client, hs_wall_clock(s),
				  &p, err, sizeof(err));
	pki_peer_free(p);
	pki_trust_unref(t);
	return rc;
}

int hs_verify_peer_chain(struct dtls_session *s, const uint8_t *body, size_t len, bool *empty)
{
	struct hs *hs = s->hs;
	struct certificate_msg c;
	TRY(parse_certificate(body, len, &c));
	*empty = c.n == 0;
	if (c.n == 0)
		return DTLS_OK;

	struct dtls_config *cfg = s->cfg;
	char err[256];
	if (hs->trust) {
		const char *name = s->client ? cfg->server_name : NULL;
		TRY(pki_verify_chain(hs->trust, c.der, c.der_len, c.n, name, s->client, hs_wall_clock(s), &hs->peer,
				     err, sizeof(err)));
	} else {
		/* Without a trust store only a pin can vouch for the peer. */
		ENSURE(cfg->have_pin, DTLS_ERR_UNKNOWN_CA);
		TRY(pki_peer_from_der(c.der[0], c.der_len[0], &hs->peer));
	}
	size_t total = 0;
	for (size_t i = 0; i < c.n; i++)
		total += c.der_len[i];
	free(hs->chain);
	hs->chain_n = 0;
	ENSURE(hs->chain = malloc(total), DTLS_ERR_NOMEM);
	total = 0;
	for (size_t i = 0; i < c.n; i++) {
		memcpy(hs->chain + total, c.der[i], c.der_len[i]);
		hs->chain_len[i] = c.der_len[i];
		total += c.der_len[i];
	}
	hs->chain_n = c.n;
	uint8_t pin[PKI_PIN_LEN];
	TRY(pki_peer_spki_sha256(hs->peer, pin));
	if (cfg->have_pin)
		ENSURE(ct_memeq(pin, cfg->pin, PKI_PIN_LEN), DTLS_ERR_BAD_CERTIFICATE);
	return DTLS_OK;
}

int hs_complete(struct dtls_session *s)
{
	struct hs *hs = s->hs;
	s->suite = hs->suite;
	if (s->client && hs->cookie_len <= sizeof(s->hello_cookie)) {
		memcpy(s->hello_cookie, hs->cookie, hs->cookie_len);
		s->hello_cookie_len = (uint8_t)hs->cookie_len;
	}
	s->established_epoch = (uint16_t)(hs->epoch + 1);
	s->handshakes++;
	s->secure_reneg = hs->peer_reneg_ext;
	memcpy(s->client_verify, hs->verify_data_client, 12);
	memcpy(s->server_verify, hs->verify_data_server, 12);
	memcpy(s->psk_identity, hs->psk_identity, hs->psk_identity_len);
	s->psk_identity_len = hs->psk_identity_len;
	/* The identity is this handshake's, also when it has none (a renegotiation in which
	 * the client sent no certificate leaves none of the previous one behind). */
	pki_peer_free(s->peer);
	s->peer = hs->peer;
	hs->peer = NULL;
	s->state = DTLS_STATE_ESTABLISHED;
	s->retire_at = s->now_ms + 2 * (uint64_t)s->cfg->timer_initial_ms;

	/* What is left: the last flight, kept to answer the peer's retransmissions. */
	hs->done = true;
	hs->timer_on = false;
	hs->linger_until = s->now_ms + s->cfg->timer_total_ms;
	crypto_wipe(hs->master, sizeof(hs->master));
	crypto_wipe(hs->psk, sizeof(hs->psk));
	kex_wipe(&hs->kex);
	free(hs->transcript);
	hs->transcript = NULL;
	hs->transcript_len = hs->transcript_cap = 0;
	for (size_t i = 0; i < HS_WINDOW; i++)
		reasm_release(&hs->pending[i]);
	if (s->cb.established)
		s->cb.established(s->arg);
	for (size_t i = 0; i < hs->n_early; i++) {
		if (s->cb.data && s->hs == hs)
			s->cb.data(s->arg, hs->early[i].data, hs->early[i].len);
		free(hs->early[i].data);
	}
	hs->n_early = 0;
	if (s->client && s->hs == hs)
		hs_free(s); /* the server does not answer its Finished: nothing to linger for */
	return DTLS_OK;
}

bool hs_keep_early(struct dtls_session *s, uint16_t epoch, const uint8_t *p, size_t n)
{
	struct hs *hs = s->hs;
	if (!hs || hs->done || epoch != hs->epoch + 1 || hs->n_early == HS_EARLY_RECORDS)
		return false;
	uint8_t *copy = malloc(n ? n : 1);
	if (!copy)
		return false;
	if (n)
		memcpy(copy, p, n);
	hs->early[hs->n_early].data = copy;
	hs->early[hs->n_early].len = n;
	hs->n_early++;
	return true;
}
