#include "handshake/message.h"
#include "record/record.h"

int parse_hello_verify_request(const uint8_t *body, size_t len, struct hello_verify_request *hvr)
{
	struct wire_reader r = wire_reader(body, len);
	hvr->version = wire_u16(&r);
	hvr->cookie = wire_vec8(&r);
	TRY(wire_end(&r));
	ENSURE(hvr->version == DTLS_VERSION_1_0 || hvr->version == DTLS_VERSION_1_2, DTLS_ERR_VERSION);
	return DTLS_OK;
}

void write_hello_verify_request(struct wire_writer *w, const uint8_t *cookie, size_t cookie_len)
{
	/* RFC 6347 4.2.1: DTLS 1.0 here whatever version will be negotiated. */
	wire_put_u16(w, DTLS_VERSION_1_0);
	wire_put_vec(w, 1, cookie, cookie_len);
}
