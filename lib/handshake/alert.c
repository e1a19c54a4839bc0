/* Alerts out, and the sticky fatal error (STYLE.md practice 5). */
#include <stdlib.h>

#include "handshake/engine.h"

uint8_t *session_scratch(struct dtls_session *s)
{
	if (!s->scratch)
		s->scratch = malloc(REC_HEADROOM + s->cfg->mtu + REC_TAILROOM);
	return s->scratch ? s->scratch + REC_HEADROOM : NULL;
}

void session_scratch_release(struct dtls_session *s)
{
	free(s->scratch);
	s->scratch = NULL;
}

void session_send_alert(struct dtls_session *s, uint8_t level, uint8_t desc)
{
	uint8_t *payload = session_scratch(s);
	if (!payload)
		return;
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
