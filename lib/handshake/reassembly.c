/*
 * Reassembly of incoming handshake messages (RFC 6347 4.2.3): fragments in any order,
 * duplicated or overlapping, for the next HS_WINDOW messages; a fragment that disagrees
 * with the message's first one (type, length, epoch) is dropped.
 *
 * Memory follows the bytes received, not the lengths declared: a message keeps the parts
 * of each fragment that it did not have yet as pieces, sorted and disjoint (the first
 * bytes to arrive win), and gathers them into one piece when it is complete. Each piece
 * is charged with its header to two budgets (dtls_set_reassembly_limits): the session's,
 * the sum over its HS_WINDOW messages, and the process's, an atomic counter shared by
 * every session of every config. A fragment that would go over one is dropped and
 * counted; a message that cannot fit in the session's budget, or is longer than
 * max_message, ends the handshake.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "handshake/engine.h"

struct reasm_piece {
	struct reasm_piece *next;
	uint32_t off, len;
	uint8_t data[];
};

#define PIECE_COST(n) (sizeof(struct reasm_piece) + (size_t)(n))

static atomic_size_t limit_session;                                 /* 0: 2 x max_message */
static atomic_size_t limit_total = DTLS_REASSEMBLY_TOTAL_DEFAULT;  /* 0: none */
static atomic_size_t held_total;

void dtls_set_reassembly_limits(size_t per_session, size_t total)
{
	atomic_store(&limit_session, per_session);
	atomic_store(&limit_total, total);
}

size_t dtls_reassembly_bytes(void)
{
	return atomic_load(&held_total);
}

static size_t session_limit(const struct dtls_session *s)
{
	size_t l = atomic_load_explicit(&limit_session, memory_order_relaxed);
	return l ? l : 2 * s->cfg->max_message;
}

size_t reasm_held(const struct dtls_session *s)
{
	size_t n = 0;
	for (size_t i = 0; s->hs && i < HS_WINDOW; i++)
		n += s->hs->pending[i].held;
	return n;
}

/* Takes cost bytes from both budgets, or nothing (false). */
static bool reserve(const struct dtls_session *s, size_t cost)
{
	if (reasm_held(s) + cost > session_limit(s))
		return false;
	size_t limit = atomic_load_explicit(&limit_total, memory_order_relaxed);
	size_t before = atomic_fetch_add(&held_total, cost);
	if (limit && before + cost > limit) {
		atomic_fetch_sub(&held_total, cost);
		return false;
	}
	return true;
}

void reasm_release(struct reasm *m)
{
	for (struct reasm_piece *p = m->pieces, *next; p; p = next) {
		next = p->next;
		free(p);
	}
	atomic_fetch_sub(&held_total, m->held);
	memset(m, 0, sizeof(*m));
}

/* What storing [off, end) costs: a piece for every gap among the pieces held. */
static size_t gaps_cost(const struct reasm *m, uint32_t off, uint32_t end)
{
	size_t cost = 0;
	uint32_t at = off;
	for (const struct reasm_piece *p = m->pieces; p && at < end; p = p->next) {
		if (p->off + p->len <= at)
			continue;
		if (p->off > at)
			cost += PIECE_COST((p->off < end ? p->off : end) - at);
		at = p->off + p->len;
	}
	return at < end ? cost + PIECE_COST(end - at) : cost;
}

/*
 * Keeps the bytes of src (message bytes [off, off + n)) that m does not hold yet, or
 * none of them if that goes over a budget (counted). DTLS_ERR_NOMEM if malloc fails
 * (what was stored stays, charged).
 */
static int store(struct dtls_session *s, struct reasm *m, uint32_t off, const uint8_t *src, uint32_t n)
{
	uint32_t end = off + n, at = off;
	size_t cost = gaps_cost(m, off, end);
	if (cost == 0)
		return DTLS_OK; /* a duplicate */
	if (!reserve(s, cost)) {
		s->stats.dropped_reassembly++;
		return DTLS_OK;
	}
	struct reasm_piece **link = &m->pieces;
	while (at < end) {
		while (*link && (*link)->off + (*link)->len <= at)
			link = &(*link)->next;
		if (*link && (*link)->off <= at) {
			at = (*link)->off + (*link)->len; /* held already */
			continue;
		}
		uint32_t stop = *link && (*link)->off < end ? (*link)->off : end;
		struct reasm_piece *p = malloc(PIECE_COST(stop - at));
		if (!p) {
			atomic_fetch_sub(&held_total, cost);
			return DTLS_ERR_NOMEM;
		}
		p->off = at;
		p->len = stop - at;
		memcpy(p->data, src + (at - off), p->len);
		p->next = *link;
		*link = p;
		link = &p->next;
		m->have += p->len;
		m->held += PIECE_COST(p->len);
		cost -= PIECE_COST(p->len);
		at = stop;
	}
	atomic_fetch_sub(&held_total, cost); /* reserved, not used: none, the walk above is gaps_cost's */
	return DTLS_OK;
}

/* The complete message's pieces into one (no budget check: it never holds more). */
static int gather(struct reasm *m)
{
	static const uint8_t empty[1];
	if (m->len == 0) {
		m->body = empty;
		return DTLS_OK;
	}
	if (!m->pieces->next) {
		m->body = m->pieces->data;
		return DTLS_OK;
	}
	struct reasm_piece *whole = malloc(PIECE_COST(m->len));
	ENSURE(whole, DTLS_ERR_NOMEM);
	whole->next = NULL;
	whole->off = 0;
	whole->len = m->len;
	for (struct reasm_piece *p = m->pieces, *next; p; p = next) {
		next = p->next;
		memcpy(whole->data + p->off, p->data, p->len);
		free(p);
	}
	atomic_fetch_sub(&held_total, m->held - PIECE_COST(m->len));
	m->held = PIECE_COST(m->len);
	m->pieces = whole;
	m->body = whole->data;
	return DTLS_OK;
}

int reasm_add(struct dtls_session *s, uint16_t epoch, const struct hs_header *h, struct wire_reader *frag)
{
	struct hs *hs = s->hs;
	if (h->seq < hs->recv_seq || h->seq >= hs->recv_seq + HS_WINDOW)
		return 0;
	ENSURE(h->length <= s->cfg->max_message && PIECE_COST(h->length) <= session_limit(s),
	       DTLS_ERR_MESSAGE_TOO_LARGE);

	struct reasm *m = &hs->pending[h->seq % HS_WINDOW];
	if (!m->used)
		*m = (struct reasm){ .used = true, .type = h->type, .seq = h->seq, .epoch = epoch, .len = h->length };
	/* A fragment that disagrees with the first one seen is dropped, never merged. */
	if (m->seq != h->seq || m->type != h->type || m->len != h->length || m->epoch != epoch)
		return 0;

	const uint8_t *src = wire_bytes(frag, h->frag_len);
	if (!src)
		return 0;
	if (m->have < m->len) {
		TRY(store(s, m, h->frag_off, src, h->frag_len));
		if (m->have == m->len)
			TRY(gather(m));
	} else if (!m->body) {
		TRY(gather(m)); /* a zero-length message */
	}
	return (m->have == m->len && m->seq == hs->recv_seq) ? 1 : 0;
}

struct reasm *reasm_next(struct dtls_session *s)
{
	struct reasm *m = &s->hs->pending[s->hs->recv_seq % HS_WINDOW];
	if (m->used && m->seq == s->hs->recv_seq && m->body)
		return m;
	return NULL;
}
