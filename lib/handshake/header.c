#include "handshake/message.h"

const char *hs_type_name(int type)
{
	switch (type) {
	case HS_HELLO_REQUEST: return "HelloRequest";
	case HS_CLIENT_HELLO: return "ClientHello";
	case HS_SERVER_HELLO: return "ServerHello";
	case HS_HELLO_VERIFY_REQUEST: return "HelloVerifyRequest";
	case HS_CERTIFICATE: return "Certificate";
	case HS_SERVER_KEY_EXCHANGE: return "ServerKeyExchange";
	case HS_CERTIFICATE_REQUEST: return "CertificateRequest";
	case HS_SERVER_HELLO_DONE: return "ServerHelloDone";
	case HS_CERTIFICATE_VERIFY: return "CertificateVerify";
	case HS_CLIENT_KEY_EXCHANGE: return "ClientKeyExchange";
	case HS_FINISHED: return "Finished";
	case HS_CHANGE_CIPHER_SPEC: return "ChangeCipherSpec";
	default: return "unknown";
	}
}

int hs_parse_header(struct wire_reader *r, struct hs_header *h, struct wire_reader *frag)
{
	h->type = wire_u8(r);
	h->length = wire_u24(r);
	h->seq = wire_u16(r);
	h->frag_off = wire_u24(r);
	h->frag_len = wire_u24(r);
	*frag = wire_sub(r, h->frag_len);
	TRY(wire_check(r));
	ENSURE(h->frag_off <= h->length && h->frag_len <= h->length - h->frag_off, DTLS_ERR_DECODE);
	return DTLS_OK;
}

void hs_write_header(uint8_t out[static HS_HEADER_LEN], const struct hs_header *h)
{
	struct wire_writer w = wire_writer(out, HS_HEADER_LEN);
	wire_put_u8(&w, h->type);
	wire_put_u24(&w, h->length);
	wire_put_u16(&w, h->seq);
	wire_put_u24(&w, h->frag_off);
	wire_put_u24(&w, h->frag_len);
}

int parse_empty(const uint8_t *body, size_t len)
{
	(void)body;
	return len == 0 ? DTLS_OK : DTLS_ERR_DECODE;
}

int parse_finished(const uint8_t *body, size_t len, const uint8_t **verify_data)
{
	ENSURE(len == FINISHED_LEN, DTLS_ERR_DECODE);
	*verify_data = body;
	return DTLS_OK;
}
