/*
 * Reassembly of incoming handshake messages (RFC 6347 4.2.3): fragments in any order,
 * duplicated or overlapping, for the next HS_WINDOW messages. Memory is bounded by
 * HS_WINDOW x the configured maximum message size; a longer message is refused.
 */
#include <stdlib.h>
#include <string.h>

#include "handshake/engine.h"

void reasm_release(struct reasm *m)
{
	free(m->body);
	free(m->bitmap);
	memset(m, 0, sizeof(*m));
}

static int reasm_open(struct reasm *m, uint16_t epoch, const struct hs_header *h)
{
	m->body = malloc(h->length ? h->length : 1);
	m->bitmap = calloc(1, h->length / 8 + 1);
	if (!m->body || !m->bitmap) {
		reasm_release(m);
		return DTLS_ERR_NOMEM;
	}
	m->used = true;
	m->type = h->type;
	m->seq = h->seq;
	m->epoch = epoch;
	m->len = h->length;
	m->have = 0;
	return DTLS_OK;
}

int reasm_add(struct dtls_session *s, uint16_t epoch, const struct hs_header *h, struct wire_reader *frag)
{
	struct hs *hs = s->hs;
	if (h->seq < hs->recv_seq || h->seq >= hs->recv_seq + HS_WINDOW)
		return 0;
	ENSURE(h->length <= s->cfg->max_message, DTLS_ERR_MESSAGE_TOO_LARGE);

	struct reasm *m = &hs->pending[h->seq % HS_WINDOW];
	if (!m->used)
		TRY(reasm_open(m, epoch, h));
	/* A fragment that disagrees with the first one seen is dropped, never merged. */
	if (m->seq != h->seq || m->type != h->type || m->len != h->length || m->epoch != epoch)
		return 0;

	const uint8_t *src = wire_bytes(frag, h->frag_len);
	if (!src)
		return 0;
	for (uint32_t i = 0; i < h->frag_len; i++) {
		uint32_t at = h->frag_off + i;
		uint8_t bit = (uint8_t)(1u << (at % 8));
		if (m->bitmap[at / 8] & bit)
			continue;
		m->bitmap[at / 8] |= bit;
		m->body[at] = src[i];
		m->have++;
	}
	return (m->have == m->len && m->seq == hs->recv_seq) ? 1 : 0;
}

struct reasm *reasm_next(struct dtls_session *s)
{
	struct reasm *m = &s->hs->pending[s->hs->recv_seq % HS_WINDOW];
	if (m->used && m->seq == s->hs->recv_seq && m->have == m->len)
		return m;
	return NULL;
}
