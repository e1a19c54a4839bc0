/* The public session API: records in, records out, timers, application data, close. */
#include <stdlib.h>
#include <string.h>

#include "handshake/engine.h"
#include "pki/pki.h"

_Static_assert(DTLS_HEADROOM == REC_HEADROOM, "public and record headroom differ");
_Static_assert(DTLS_TAILROOM == REC_TAILROOM, "public and record tailroom differ");

#define ALERT_WARNING 1
#define ALERT_FATAL 2

static struct dtls_session *session_new(struct dtls_config *cfg, const struct dtls_callbacks *cb, void *arg,
					bool client)
{
	if (!cfg || !cb || !cb->send)
		return NULL;
	struct dtls_session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	dtls_config_ref(cfg);
	s->cfg = cfg;
	s->cb = *cb;
	s->arg = arg;
	s->client = client;
	s->state = DTLS_STATE_HANDSHAKING;
	s->peer_alert = s->sent_alert = DTLS_ALERT_NONE;
	rec_layer_init(&s->rec);
	return s;
}

struct dtls_session *dtls_session_new_client(struct dtls_config *cfg, const struct dtls_callbacks *cb, void *arg)
{
	return session_new(cfg, cb, arg, true);
}

struct dtls_session *dtls_session_new_server(struct dtls_config *cfg, const struct dtls_callbacks *cb, void *arg,
					     const struct sockaddr *peer, socklen_t peer_len)
{
	if (peer_len > sizeof(struct sockaddr_storage))
		return NULL;
	struct dtls_session *s = session_new(cfg, cb, arg, false);
	if (!s)
		return NULL;
	if (peer && peer_len) {
		memcpy(&s->peer_addr, peer, peer_len);
		s->peer_addr_len = peer_len;
	}
	return s; /* the handshake state comes with the first ClientHello, and its clock */
}

void dtls_session_free(struct dtls_session *s)
{
	if (!s)
		return;
	hs_free(s);
	rec_layer_free(&s->rec);
	pki_peer_free(s->peer);
	dtls_config_unref(s->cfg);
	free(s->scratch);
	crypto_wipe(s, sizeof(*s));
	free(s);
}

void dtls_session_set_arg(struct dtls_session *s, void *arg) { s->arg = arg; }
void dtls_session_set_user(struct dtls_session *s, void *user) { s->user = user; }
void *dtls_session_user(const struct dtls_session *s) { return s->user; }

int dtls_session_start(struct dtls_session *s, uint64_t now_ms)
{
	ENSURE(s->client && !s->hs && s->handshakes == 0 && !s->error, DTLS_ERR_ARG);
	s->now_ms = now_ms;
	TRY(hs_begin(s));
	int rc = hs_client_start(s);
	return rc < 0 ? session_fail(s, rc) : rc;
}

static void handle_alert(struct dtls_session *s, const struct rec_header *h, const uint8_t *p, size_t n)
{
	/* Once established, only authenticated alerts count (an epoch-0 one is forgeable). */
	if (n != 2 || h->epoch < s->established_epoch) {
		s->stats.dropped_malformed++;
		return;
	}
	uint8_t level = p[0], desc = p[1];
	if (desc == DTLS_ALERT_CLOSE_NOTIFY) {
		/* RFC 5246 7.2.1: answer with our own close_notify, then the session is over. */
		if (s->state == DTLS_STATE_ESTABLISHED)
			session_send_alert(s, ALERT_WARNING, DTLS_ALERT_CLOSE_NOTIFY);
		s->peer_alert = desc;
		(void)session_fail(s, DTLS_ERR_CLOSED);
		return;
	}
	if (level == ALERT_FATAL) {
		s->peer_alert = desc;
		s->error = DTLS_ERR_PEER_ALERT;
		s->state = DTLS_STATE_FAILED;
		if (s->cb.ended)
			s->cb.ended(s->arg, DTLS_ERR_PEER_ALERT);
	}
	/* Warnings (no_renegotiation, user_canceled...) change nothing. */
}

static void count_drop(struct dtls_session *s, int rc)
{
	switch (rc) {
	case DTLS_ERR_BAD_RECORD_MAC: s->stats.dropped_mac++; break;
	case DTLS_ERR_REPLAY: s->stats.dropped_replay++; break;
	case DTLS_ERR_EPOCH: s->stats.dropped_epoch++; break;
	default: s->stats.dropped_malformed++; break;
	}
}

/* One record's plaintext, authenticated. */
static int handle_plaintext(struct dtls_session *s, const struct rec_header *h, uint8_t *p, size_t n)
{
	switch (h->type) {
	case CT_HANDSHAKE:
		return hs_handle_record(s, h->epoch, p, n);
	case CT_CHANGE_CIPHER_SPEC:
		return hs_handle_ccs(s, h->epoch, p, n);
	case CT_ALERT:
		handle_alert(s, h, p, n);
		return DTLS_OK;
	case CT_APPLICATION_DATA:
		/* Only under keys of a completed handshake: not epoch 0, not the epoch of a
		 * renegotiation still running; the previous epoch during its grace period. */
		if (h->epoch == 0 || h->epoch > s->established_epoch ||
		    (s->state != DTLS_STATE_ESTABLISHED && s->state != DTLS_STATE_CLOSING)) {
			if (h->epoch == 0 || !hs_keep_early(s, h->epoch, p, n))
				s->stats.dropped_epoch++;
			return DTLS_OK;
		}
		/* Data under the new keys proves the peer has our last flight. */
		if (s->hs && s->hs->done)
			hs_free(s);
		if (s->cb.data)
			s->cb.data(s->arg, p, n);
		return DTLS_OK;
	default:
		s->stats.dropped_malformed++;
		return DTLS_OK;
	}
}

int dtls_session_handle(struct dtls_session *s, uint8_t *dgram, size_t len, uint64_t now_ms)
{
	if (s->error)
		return s->error;
	s->now_ms = now_ms;
	struct wire_reader r = wire_reader(dgram, len);
	while (wire_left(&r) > 0 && !s->error) {
		struct rec_header h;
		struct wire_reader frag;
		if (rec_parse_header(&r, &h, &frag) < 0) {
			s->stats.dropped_malformed++; /* the rest of the datagram goes too (4.1.2.7) */
			break;
		}
		uint8_t *plain;
		size_t n;
		int rc = rec_layer_open(&s->rec, &h, dgram + (wire_offset(&r) - h.length), &plain, &n);
		if (rc < 0) {
			count_drop(s, rc);
			if (rc == DTLS_ERR_BAD_RECORD_MAC)
				TRY(hs_bad_record(s, h.epoch));
			continue;
		}
		s->stats.records_in++;
		if (h.epoch)
			s->heard_ms = now_ms;
		if (!s->client && h.epoch == 0 && s->handshakes == 0)
			rec_layer_skip_seq(&s->rec, 0, h.seq);
		rc = handle_plaintext(s, &h, plain, n);
		if (rc < 0)
			return session_fail(s, rc);
	}
	return s->error == DTLS_ERR_CLOSED ? DTLS_OK : s->error;
}

uint64_t dtls_session_next_timeout(const struct dtls_session *s)
{
	if (s->error)
		return UINT64_MAX;
	uint64_t t = hs_next_timeout(s);
	if (s->state == DTLS_STATE_CLOSING && s->close_deadline < t)
		t = s->close_deadline;
	if (s->retire_at && s->retire_at < t)
		t = s->retire_at;
	return t;
}

int dtls_session_timeout(struct dtls_session *s, uint64_t now_ms)
{
	if (s->error)
		return s->error == DTLS_ERR_CLOSED ? DTLS_OK : s->error;
	s->now_ms = now_ms;
	if (s->retire_at && now_ms >= s->retire_at) {
		rec_read_retire_below(&s->rec, s->established_epoch);
		s->retire_at = 0;
	}
	if (s->state == DTLS_STATE_CLOSING && now_ms >= s->close_deadline)
		return session_fail(s, DTLS_ERR_CLOSE_FAIL);
	int rc = hs_timeout(s);
	return rc < 0 ? session_fail(s, rc) : DTLS_OK;
}

size_t dtls_session_max_payload(const struct dtls_session *s)
{
	size_t over = REC_HEADER_LEN + (s->suite ? suite_record_overhead(s->suite) : 0);
	size_t room = s->cfg->mtu > over ? s->cfg->mtu - over : 0;
	return room < REC_MAX_PLAINTEXT ? room : REC_MAX_PLAINTEXT;
}

int dtls_session_seal(struct dtls_session *s, uint8_t *payload, size_t len, uint8_t **rec, size_t *rec_len)
{
	ENSURE(!s->error, s->error);
	ENSURE(s->established_epoch && s->state == DTLS_STATE_ESTABLISHED, DTLS_ERR_NOT_ESTABLISHED);
	ENSURE(len <= dtls_session_max_payload(s), DTLS_ERR_RECORD_OVERFLOW);
	TRY(rec_layer_seal(&s->rec, CT_APPLICATION_DATA, payload, len, rec, rec_len));
	s->stats.records_out++;
	return DTLS_OK;
}

int dtls_session_send(struct dtls_session *s, const uint8_t *data, size_t len)
{
	ENSURE(len <= dtls_session_max_payload(s), DTLS_ERR_RECORD_OVERFLOW);
	uint8_t *payload = session_scratch(s);
	ENSURE(payload, DTLS_ERR_NOMEM);
	if (len)
		memcpy(payload, data, len);
	uint8_t *rec;
	size_t rec_len;
	TRY(dtls_session_seal(s, payload, len, &rec, &rec_len));
	s->cb.send(s->arg, rec, rec_len);
	return DTLS_OK;
}

int dtls_session_close(struct dtls_session *s, uint64_t now_ms)
{
	if (s->error)
		return s->error == DTLS_ERR_CLOSED ? DTLS_OK : s->error;
	s->now_ms = now_ms;
	if (s->state == DTLS_STATE_CLOSING)
		return DTLS_OK;
	session_send_alert(s, ALERT_WARNING, DTLS_ALERT_CLOSE_NOTIFY);
	if (s->state != DTLS_STATE_ESTABLISHED) {
		(void)session_fail(s, DTLS_ERR_CLOSED);
		return DTLS_OK;
	}
	s->state = DTLS_STATE_CLOSING;
	s->close_deadline = now_ms + 3 * (uint64_t)s->cfg->timer_initial_ms;
	return DTLS_OK;
}

enum dtls_state dtls_session_state(const struct dtls_session *s) { return s->state; }
int dtls_session_error(const struct dtls_session *s) { return s->error; }
int dtls_session_peer_alert(const struct dtls_session *s) { return s->peer_alert; }
int dtls_session_sent_alert(const struct dtls_session *s) { return s->sent_alert; }
bool dtls_session_is_client(const struct dtls_session *s) { return s->client; }
unsigned dtls_session_handshakes(const struct dtls_session *s) { return s->handshakes; }
uint64_t dtls_session_last_heard(const struct dtls_session *s) { return s->heard_ms; }
bool dtls_session_last_flight_pending(const struct dtls_session *s) { return s->hs && s->hs->done; }

uint16_t dtls_session_suite(const struct dtls_session *s)
{
	if (s->suite)
		return s->suite->id;
	return s->hs && s->hs->suite ? s->hs->suite->id : 0;
}

/*
 * The handshake whose identity the getters below report: the one running, from its
 * first message to its Finished (a renegotiation too, and in its authorize callback),
 * or one that failed (the session is over then anyway). NULL when none is running:
 * the getters then report what the last completed handshake established.
 */
static const struct hs *running_hs(const struct dtls_session *s)
{
	return s->hs && !s->hs->done ? s->hs : NULL;
}

/* The peer's certificate for every identity getter: the running handshake's (NULL
 * until its Certificate message, or if the peer sent none), else the last completed one's. */
static const struct pki_peer *current_peer(const struct dtls_session *s)
{
	const struct hs *hs = running_hs(s);
	return hs ? hs->peer : s->peer;
}

const uint8_t *dtls_session_psk_identity(const struct dtls_session *s, size_t *len)
{
	const struct hs *hs = running_hs(s);
	*len = hs ? hs->psk_identity_len : s->psk_identity_len;
	if (!*len)
		return NULL;
	return hs ? hs->psk_identity : s->psk_identity;
}

bool dtls_session_peer_pin(const struct dtls_session *s, uint8_t pin[32])
{
	const struct pki_peer *p = current_peer(s);
	return p && pki_peer_spki_sha256(p, pin) == 0;
}

bool dtls_session_peer_has_name(const struct dtls_session *s, const char *name)
{
	const struct pki_peer *p = current_peer(s);
	return p && pki_peer_has_name(p, name);
}

bool dtls_session_peer_has_cn(const struct dtls_session *s, const char *name)
{
	const struct pki_peer *p = current_peer(s);
	return p && pki_peer_has_cn(p, name);
}

size_t dtls_session_peer_names(const struct dtls_session *s, char *buf, size_t cap)
{
	const struct pki_peer *p = current_peer(s);

	if (!p) {
		if (cap)
			buf[0] = '\0';
		return 0;
	}
	return pki_peer_names(p, buf, cap);
}

bool dtls_session_peer_has_san(const struct dtls_session *s, const char *name)
{
	const struct pki_peer *p = current_peer(s);
	return p && pki_peer_has_san(p, name);
}

void dtls_session_stats(const struct dtls_session *s, struct dtls_session_stats *out)
{
	*out = s->stats;
}
