/*
 * Putting together ClientHellos that arrive in fragments before their sender has a
 * session (RFC 6347 4.2.3), so that the cookie can be checked on the whole hello: a
 * hello cut into small pieces may have no fragment that holds all the fields the cookie
 * covers. The area is allocated once: a fixed number of entries of a fixed size, keyed
 * by the sender's address and port and the hello's message_seq; a new hello takes a
 * free entry or the oldest. No state outlives an entry, and an entry proves nothing: the
 * whole hello still has to pass the cookie check.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "cookie/cookie.h"
#include "handshake/engine.h"

#define PEER_KEY_MAX COOKIE_PEER_MAX

struct hello_entry {
	bool used;
	uint8_t peer[PEER_KEY_MAX];
	size_t peer_len;
	uint16_t msg_seq;
	uint16_t version;    /* of the record that brought the first fragment */
	uint32_t length;     /* of the whole message body */
	uint32_t have;       /* body bytes present */
	uint64_t rec_seq;    /* the highest record sequence number seen */
	uint64_t stamp;      /* insertion order, for eviction */
	uint8_t *body;       /* max_hello bytes */
	uint8_t *bitmap;     /* one bit per body byte */
};

struct dtls_hello_area {
	size_t n, max_hello;
	uint64_t clock;
	uint64_t evicted;
	struct hello_entry *e;
	uint8_t *mem;
};

struct dtls_hello_area *dtls_hello_area_new(size_t entries, size_t max_hello)
{
	if (!entries || entries > 65536 || max_hello < 64 || max_hello > 65536 - 64)
		return NULL;
	struct dtls_hello_area *a = calloc(1, sizeof(*a));
	size_t per = max_hello + (max_hello + 7) / 8;
	if (!a || !(a->e = calloc(entries, sizeof(*a->e))) || !(a->mem = calloc(entries, per))) {
		dtls_hello_area_free(a);
		return NULL;
	}
	a->n = entries;
	a->max_hello = max_hello;
	for (size_t i = 0; i < entries; i++) {
		a->e[i].body = a->mem + i * per;
		a->e[i].bitmap = a->e[i].body + max_hello;
	}
	return a;
}

void dtls_hello_area_free(struct dtls_hello_area *a)
{
	if (!a)
		return;
	free(a->e);
	free(a->mem);
	free(a);
}

uint64_t dtls_hello_area_evicted(const struct dtls_hello_area *a)
{
	return a->evicted;
}

/* The entry of (peer, seq), or a fresh one (free, else the oldest) for it. */
static struct hello_entry *entry_for(struct dtls_hello_area *a, const uint8_t *peer, size_t peer_len,
				     uint16_t seq)
{
	struct hello_entry *victim = NULL;

	for (size_t i = 0; i < a->n; i++) {
		struct hello_entry *e = &a->e[i];
		if (e->used && e->msg_seq == seq && e->peer_len == peer_len && !memcmp(e->peer, peer, peer_len))
			return e;
		if (!victim || (victim->used && (!e->used || e->stamp < victim->stamp)))
			victim = e;
	}
	if (victim->used)
		a->evicted++;
	victim->used = false;
	return victim;
}

/* Adds one ClientHello fragment; DTLS_OK when its message is whole. */
static int add_fragment(struct dtls_hello_area *a, const uint8_t *peer, size_t peer_len,
			const struct rec_header *rh, const struct hs_header *hh, struct wire_reader *frag,
			struct hello_entry **whole)
{
	ENSURE(hh->length <= a->max_hello, DTLS_ERR_MESSAGE_TOO_LARGE);
	const uint8_t *src = wire_bytes(frag, hh->frag_len);
	ENSURE(src != NULL, DTLS_ERR_DECODE);

	struct hello_entry *e = entry_for(a, peer, peer_len, hh->seq);
	if (!e->used) {
		e->used = true;
		memcpy(e->peer, peer, peer_len);
		e->peer_len = peer_len;
		e->msg_seq = hh->seq;
		e->version = rh->version;
		e->length = hh->length;
		e->have = 0;
		e->rec_seq = 0;
		e->stamp = ++a->clock;
		memset(e->bitmap, 0, (hh->length + 7) / 8);
	}
	/* A fragment that disagrees with the first one seen is dropped, never merged. */
	ENSURE(e->length == hh->length, DTLS_ERR_DECODE);
	if (rh->seq > e->rec_seq)
		e->rec_seq = rh->seq;
	for (uint32_t i = 0; i < hh->frag_len; i++) {
		uint32_t at = hh->frag_off + i;
		uint8_t bit = (uint8_t)(1u << (at % 8));
		if (e->bitmap[at / 8] & bit)
			continue;
		e->bitmap[at / 8] |= bit;
		e->body[at] = src[i];
		e->have++;
	}
	if (e->have < e->length)
		return DTLS_ERR_IN_PROGRESS;
	*whole = e;
	return DTLS_OK;
}

int dtls_hello_area_add(struct dtls_hello_area *a, const struct sockaddr *from, socklen_t from_len,
			const uint8_t *dgram, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t peer[PEER_KEY_MAX];
	size_t peer_len;
	TRY(cookie_peer_bytes(from, from_len, peer, &peer_len));

	/* Every record of the datagram that is a ClientHello fragment of epoch 0. */
	struct wire_reader r = wire_reader(dgram, len);
	struct hello_entry *whole = NULL;
	int rc = DTLS_ERR_UNEXPECTED_MESSAGE;
	while (wire_left(&r) && !whole) {
		struct rec_header rh;
		struct wire_reader frag, body;
		struct hs_header hh;
		if (rec_parse_header(&r, &rh, &frag) < 0)
			break;
		if (rh.type != CT_HANDSHAKE || rh.epoch != 0)
			continue;
		while (wire_left(&frag) && !whole) {
			if (hs_parse_header(&frag, &hh, &body) < 0)
				break;
			if (hh.type != HS_CLIENT_HELLO)
				continue;
			rc = add_fragment(a, peer, peer_len, &rh, &hh, &body, &whole);
		}
	}
	if (!whole)
		return rc;

	/* One record, one unfragmented message: what the client would have sent whole. */
	size_t n = REC_HEADER_LEN + HS_HEADER_LEN + whole->length;
	whole->used = false;
	ENSURE(n <= cap && HS_HEADER_LEN + whole->length <= UINT16_MAX, DTLS_ERR_BUFFER);
	struct rec_header oh = { .type = CT_HANDSHAKE, .version = whole->version, .epoch = 0,
				 .seq = whole->rec_seq, .length = (uint16_t)(HS_HEADER_LEN + whole->length) };
	struct hs_header hh = { .type = HS_CLIENT_HELLO, .length = whole->length, .seq = whole->msg_seq,
				.frag_off = 0, .frag_len = whole->length };
	rec_write_header(out, &oh);
	hs_write_header(out + REC_HEADER_LEN, &hh);
	memcpy(out + REC_HEADER_LEN + HS_HEADER_LEN, whole->body, whole->length);
	*out_len = n;
	return DTLS_OK;
}

void dtls_hello_area_forget(struct dtls_hello_area *a, const struct sockaddr *from, socklen_t from_len,
			    const uint8_t *dgram, size_t len)
{
	uint8_t peer[PEER_KEY_MAX];
	size_t peer_len;
	struct wire_reader r = wire_reader(dgram, len), frag, body;
	struct rec_header rh;
	struct hs_header hh;

	if (cookie_peer_bytes(from, from_len, peer, &peer_len) < 0 || rec_parse_header(&r, &rh, &frag) < 0 ||
	    hs_parse_header(&frag, &hh, &body) < 0)
		return;
	for (size_t i = 0; i < a->n; i++) {
		struct hello_entry *e = &a->e[i];
		if (e->used && e->msg_seq == hh.seq && e->peer_len == peer_len && !memcmp(e->peer, peer, peer_len))
			e->used = false;
	}
}

enum dtls_hello_kind dtls_hello_classify(const uint8_t *dgram, size_t len, uint8_t random[32])
{
	struct wire_reader r = wire_reader(dgram, len);
	struct rec_header rh;
	struct wire_reader frag, body;
	struct hs_header hh;

	if (rec_parse_header(&r, &rh, &frag) < 0 || rh.type != CT_HANDSHAKE || rh.epoch != 0 ||
	    hs_parse_header(&frag, &hh, &body) < 0 || hh.type != HS_CLIENT_HELLO)
		return DTLS_HELLO_NONE;
	if (hh.frag_off != 0)
		return DTLS_HELLO_LATER_FRAGMENT;
	(void)wire_u16(&body); /* client_version */
	const uint8_t *rnd = wire_bytes(&body, HELLO_RANDOM_LEN);
	if (random) {
		if (rnd)
			memcpy(random, rnd, HELLO_RANDOM_LEN);
		else
			memset(random, 0, HELLO_RANDOM_LEN);
	}
	return hh.frag_len == hh.length ? DTLS_HELLO_WHOLE : DTLS_HELLO_FIRST_FRAGMENT;
}
