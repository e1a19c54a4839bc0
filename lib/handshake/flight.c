/*
 * Outgoing flights (RFC 6347 4.2.4): the messages of our last flight are kept whole so
 * that a retransmission fragments them again to the path MTU and seals every record
 * under a fresh sequence number. Records are packed into datagrams up to the MTU.
 */
#include <stdlib.h>
#include <string.h>

#include "handshake/engine.h"

void flight_clear(struct flight *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->msgs[i].msg);
	memset(f, 0, sizeof(*f));
}

int flight_add(struct dtls_session *s, uint8_t content_type, uint16_t epoch, uint8_t hs_type, const uint8_t *body,
	       size_t len)
{
	struct hs *hs = s->hs;
	struct flight *f = &hs->out;
	ENSURE(f->n < FLIGHT_MAX_MSGS, DTLS_ERR_INTERNAL);

	struct flight_msg *m = &f->msgs[f->n];
	if (content_type == CT_CHANGE_CIPHER_SPEC) {
		m->msg = malloc(1);
		ENSURE(m->msg, DTLS_ERR_NOMEM);
		m->msg[0] = 1;
		m->len = 1;
	} else {
		ENSURE(len <= HS_MAX_LENGTH, DTLS_ERR_INTERNAL);
		m->msg = malloc(HS_HEADER_LEN + len);
		ENSURE(m->msg, DTLS_ERR_NOMEM);
		struct hs_header h = { .type = hs_type, .length = (uint32_t)len, .seq = hs->send_seq,
				       .frag_off = 0, .frag_len = (uint32_t)len };
		hs_write_header(m->msg, &h);
		if (len)
			memcpy(m->msg + HS_HEADER_LEN, body, len);
		m->len = HS_HEADER_LEN + len;
		if (hs_type != HS_HELLO_REQUEST) {
			int rc = transcript_add(hs, hs_type, hs->send_seq, body, len);
			if (rc < 0) {
				free(m->msg);
				m->msg = NULL;
				return rc;
			}
		}
		hs->send_seq++;
	}
	m->content_type = content_type;
	m->epoch = epoch;
	f->n++;
	return DTLS_OK;
}

/* Bytes a record of `epoch` adds before and after its payload. */
static void epoch_overhead(const struct dtls_session *s, uint16_t epoch, size_t *front, size_t *back)
{
	*front = REC_HEADER_LEN;
	*back = 0;
	for (size_t i = 0; i < REC_WRITE_EPOCHS; i++) {
		const struct rec_write_epoch *we = &s->rec.write[i];
		if (!we->used || we->epoch != epoch || !we->cipher.suite)
			continue;
		const struct suite *su = we->cipher.suite;
		*front += su->record_iv_len;
		*back = su->kind == CIPHER_KIND_AEAD ? su->tag_len : (size_t)su->mac_len + 16;
	}
}

struct dgram {
	uint8_t *buf;  /* the session's scratch buffer */
	size_t len;    /* bytes of records so far */
	size_t mtu;
};

static void dgram_flush(struct dtls_session *s, struct dgram *d)
{
	if (d->len) {
		s->cb.send(s->arg, d->buf, d->len);
		d->len = 0;
	}
}

/* Appends one record holding `n` bytes of `hdr` (may be NULL) and `data`. */
static int dgram_record(struct dtls_session *s, struct dgram *d, uint8_t type, uint16_t epoch, const uint8_t *hdr,
			size_t hdr_len, const uint8_t *data, size_t n)
{
	size_t front, back;
	epoch_overhead(s, epoch, &front, &back);
	if (d->len + front + hdr_len + n + back > d->mtu)
		dgram_flush(s, d);
	uint8_t *payload = d->buf + d->len + front;
	if (hdr_len)
		memcpy(payload, hdr, hdr_len);
	if (n)
		memcpy(payload + hdr_len, data, n);
	uint8_t *rec;
	size_t rec_len;
	TRY(rec_layer_seal_epoch(&s->rec, epoch, type, payload, hdr_len + n, &rec, &rec_len));
	ENSURE(rec == d->buf + d->len, DTLS_ERR_INTERNAL);
	d->len += rec_len;
	s->stats.records_out++;
	return DTLS_OK;
}

/* Sends one handshake message, fragmented to fit the datagrams. */
static int send_message(struct dtls_session *s, struct dgram *d, const struct flight_msg *m)
{
	struct hs_header h;
	struct wire_reader r = wire_reader(m->msg, m->len);
	struct wire_reader body;
	TRY(hs_parse_header(&r, &h, &body));

	size_t front, back;
	epoch_overhead(s, m->epoch, &front, &back);
	size_t fixed = front + HS_HEADER_LEN + back;
	ENSURE(d->mtu > fixed + 16, DTLS_ERR_ARG);

	uint32_t off = 0;
	do {
		size_t room = d->mtu - d->len > fixed ? d->mtu - d->len - fixed : 0;
		uint32_t left = h.length - off;
		/* Start a new datagram rather than send a sliver of a message. */
		if (room < left && room < 64 && d->len) {
			dgram_flush(s, d);
			room = d->mtu - fixed;
		}
		uint32_t n = left < room ? left : (uint32_t)room;
		uint8_t hdr[HS_HEADER_LEN];
		struct hs_header fh = h;
		fh.frag_off = off;
		fh.frag_len = n;
		hs_write_header(hdr, &fh);
		TRY(dgram_record(s, d, CT_HANDSHAKE, m->epoch, hdr, HS_HEADER_LEN, m->msg + HS_HEADER_LEN + off, n));
		off += n;
	} while (off < h.length);
	return DTLS_OK;
}

int flight_send(struct dtls_session *s)
{
	struct flight *f = &s->hs->out;
	struct dgram d = { .buf = session_scratch(s), .len = 0, .mtu = s->cfg->mtu };
	ENSURE(d.buf, DTLS_ERR_NOMEM);
	for (size_t i = 0; i < f->n; i++) {
		const struct flight_msg *m = &f->msgs[i];
		if (m->content_type == CT_CHANGE_CIPHER_SPEC)
			TRY(dgram_record(s, &d, CT_CHANGE_CIPHER_SPEC, m->epoch, NULL, 0, m->msg, m->len));
		else
			TRY(send_message(s, &d, m));
	}
	dgram_flush(s, &d);
	s->hs->sent_ms = s->now_ms;
	return DTLS_OK;
}
