/*
 * The stateless HelloVerifyRequest exchange (RFC 6347 4.2.1) for a server with no state
 * for the sender yet. Nothing is allocated: the answer is written into the caller's
 * buffer, and it is never longer than the datagram that asked for it, so the server
 * cannot be used to amplify traffic.
 */
#include <stdlib.h>
#include <string.h>

#include "cookie/cookie.h"
#include "handshake/engine.h"

struct dtls_cookie_jar {
	struct cookie_keys keys;
};

struct dtls_cookie_jar *dtls_cookie_jar_new(uint64_t now_ms, uint64_t lifetime_ms)
{
	if (crypto_init() < 0)
		return NULL;
	struct dtls_cookie_jar *jar = calloc(1, sizeof(*jar));
	if (jar && cookie_keys_init(&jar->keys, now_ms, lifetime_ms ? lifetime_ms : 300000) < 0) {
		free(jar);
		jar = NULL;
	}
	return jar;
}

void dtls_cookie_jar_free(struct dtls_cookie_jar *jar)
{
	if (!jar)
		return;
	cookie_keys_wipe(&jar->keys);
	free(jar);
}

void dtls_cookie_rotate(struct dtls_cookie_jar *jar, uint64_t now_ms)
{
	cookie_keys_maybe_rotate(&jar->keys, now_ms);
}

bool dtls_session_is_new_hello(const struct dtls_session *s, const uint8_t *dgram, size_t len)
{
	struct wire_reader r = wire_reader(dgram, len);
	struct rec_header rh;
	struct wire_reader frag;
	if (rec_parse_header(&r, &rh, &frag) < 0 || rh.type != CT_HANDSHAKE || rh.epoch != 0)
		return false;
	struct hs_header hh;
	struct wire_reader body;
	if (hs_parse_header(&frag, &hh, &body) < 0 || hh.type != HS_CLIENT_HELLO || hh.frag_off != 0)
		return false;
	(void)wire_u16(&body);
	const uint8_t *random = wire_bytes(&body, HELLO_RANDOM_LEN);
	return random && memcmp(random, s->hello_random, HELLO_RANDOM_LEN) != 0;
}

int dtls_cookie_check(const struct dtls_cookie_jar *jar, const struct sockaddr *from, socklen_t from_len,
		      const uint8_t *dgram, size_t len, uint8_t *hvr, size_t hvr_cap, size_t *hvr_len)
{
	/* Only the first record of the datagram is looked at. */
	struct wire_reader r = wire_reader(dgram, len);
	struct rec_header rh;
	struct wire_reader frag;
	TRY(rec_parse_header(&r, &rh, &frag));
	ENSURE(rh.type == CT_HANDSHAKE && rh.epoch == 0, DTLS_ERR_UNEXPECTED_MESSAGE);
	struct hs_header hh;
	struct wire_reader body;
	TRY(hs_parse_header(&frag, &hh, &body));
	/* A later fragment of a ClientHello cannot be checked without state: drop it. */
	ENSURE(hh.type == HS_CLIENT_HELLO && hh.frag_off == 0, DTLS_ERR_UNEXPECTED_MESSAGE);

	struct client_hello ch;
	size_t blen = wire_left(&body);
	const uint8_t *b = wire_bytes(&body, blen);
	TRY(parse_client_hello(b, blen, true, &ch));

	/*
	 * The cookie binds the address and port, the version, the client's random and its
	 * session id: all in the first fragment even of a ClientHello fragmented to a small
	 * MTU. The random makes it one hello's cookie; the address is what it proves.
	 */
	uint8_t peer[COOKIE_PEER_MAX];
	size_t peer_len;
	TRY(cookie_peer_bytes(from, from_len, peer, &peer_len));
	const uint8_t *params = b;
	size_t plen = ch.cookie_off;

	size_t clen = wire_left(&ch.cookie);
	if (clen && cookie_verify(&jar->keys, peer, peer_len, params, plen, wire_bytes(&ch.cookie, clen), clen))
		return DTLS_OK;

	uint8_t cookie[COOKIE_LEN];
	TRY(cookie_make(&jar->keys, peer, peer_len, params, plen, cookie));
	size_t need = REC_HEADER_LEN + HS_HEADER_LEN + 3 + COOKIE_LEN;
	ENSURE(need <= len && need <= hvr_cap, DTLS_ERR_BUFFER);

	struct wire_writer w = wire_writer(hvr + REC_HEADER_LEN + HS_HEADER_LEN, hvr_cap - REC_HEADER_LEN - HS_HEADER_LEN);
	write_hello_verify_request(&w, cookie, COOKIE_LEN);
	size_t body_len;
	TRY(wire_written(&w, &body_len));
	struct hs_header h = { .type = HS_HELLO_VERIFY_REQUEST, .length = (uint32_t)body_len, .seq = hh.seq,
			       .frag_off = 0, .frag_len = (uint32_t)body_len };
	hs_write_header(hvr + REC_HEADER_LEN, &h);
	/* RFC 6347 4.2.1: the record repeats the ClientHello's sequence number. */
	struct rec_header out = { .type = CT_HANDSHAKE, .version = DTLS_VERSION_1_0, .epoch = 0, .seq = rh.seq,
				  .length = (uint16_t)(HS_HEADER_LEN + body_len) };
	rec_write_header(hvr, &out);
	*hvr_len = REC_HEADER_LEN + HS_HEADER_LEN + body_len;
	return DTLS_ERR_COOKIE;
}
