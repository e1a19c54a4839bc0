/* Alerts out, and the sticky fatal error (STYLE.md practice 5). */
#include "handshake/engine.h"

void session_send_alert(struct dtls_session *s, uint8_t level, uint8_t desc)
{
	uint8_t *payload = s->scratch + REC_HEADROOM;
	payload[0] = level;
	payload[1] = desc;
	uint8_t *rec;
	size_t len;
	if (rec_layer_seal(&s->rec, CT_ALERT, payload, 2, &rec, &len) == 0) {
		s->stats.records_out++;
		s->cb.send(s->arg, rec, len);
	}
}

int session_fail(struct dtls_session *s, int err)
{
	if (s->error)
		return s->error;
	s->error = err;
	enum dtls_alert a = dtls_err_alert(err);
	if (a != DTLS_ALERT_NONE) {
		s->sent_alert = a;
		session_send_alert(s, 2, (uint8_t)a);
	}
	s->state = err == DTLS_ERR_CLOSED ? DTLS_STATE_CLOSED : DTLS_STATE_FAILED;
	if (s->cb.ended)
		s->cb.ended(s->arg, err);
	return err;
}
