/*
 * The handshake transcript: every message of the handshake in its unfragmented DTLS form
 * (RFC 6347 4.2.6: the 12-byte header with fragment_offset 0 and fragment_length equal to
 * length), kept whole because TLS 1.2 signatures (CertificateVerify) sign the messages
 * themselves and the suite's PRF hash is only known after ServerHello.
 */
#include <stdlib.h>
#include <string.h>

#include "handshake/engine.h"

#define TRANSCRIPT_MAX (1u << 20)

int transcript_add(struct hs *hs, uint8_t type, uint16_t seq, const uint8_t *body, size_t len)
{
	size_t need = hs->transcript_len + HS_HEADER_LEN + len;
	ENSURE(need <= TRANSCRIPT_MAX, DTLS_ERR_MESSAGE_TOO_LARGE);
	if (need > hs->transcript_cap) {
		size_t cap = hs->transcript_cap ? hs->transcript_cap : 2048;
		while (cap < need)
			cap *= 2;
		uint8_t *p = realloc(hs->transcript, cap);
		ENSURE(p, DTLS_ERR_NOMEM);
		hs->transcript = p;
		hs->transcript_cap = cap;
	}
	struct hs_header h = { .type = type, .length = (uint32_t)len, .seq = seq, .frag_off = 0,
			       .frag_len = (uint32_t)len };
	hs_write_header(hs->transcript + hs->transcript_len, &h);
	if (len)
		memcpy(hs->transcript + hs->transcript_len + HS_HEADER_LEN, body, len);
	hs->transcript_len = need;
	return DTLS_OK;
}

int transcript_hash(const struct hs *hs, enum hash_alg alg, uint8_t out[static HASH_MAX_LEN])
{
	return hash_buf(alg, hs->transcript, hs->transcript_len, out);
}

void transcript_reset(struct hs *hs)
{
	hs->transcript_len = 0;
}
