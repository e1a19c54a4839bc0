#include "handshake/message.h"

enum { CERT_TYPE_RSA_SIGN = 1, CERT_TYPE_ECDSA_SIGN = 64 };

int parse_certificate_request(const uint8_t *body, size_t len, struct certificate_request *cr)
{
	struct wire_reader r = wire_reader(body, len);
	struct wire_reader types = wire_vec8(&r);
	cr->rsa_sign = cr->ecdsa_sign = false;
	while (wire_left(&types) > 0) {
		uint8_t t = wire_u8(&types);
		cr->rsa_sign |= t == CERT_TYPE_RSA_SIGN;
		cr->ecdsa_sign |= t == CERT_TYPE_ECDSA_SIGN;
	}
	cr->sigalgs = wire_vec16(&r);
	(void)wire_vec16(&r); /* certificate_authorities: we send our one chain regardless */
	TRY(wire_end(&r));
	ENSURE(wire_left(&cr->sigalgs) >= 2 && wire_left(&cr->sigalgs) % 2 == 0, DTLS_ERR_DECODE);
	return DTLS_OK;
}

void write_certificate_request(struct wire_writer *w, const uint16_t *sigalgs, size_t n)
{
	wire_put_u8(w, 2);
	wire_put_u8(w, CERT_TYPE_RSA_SIGN);
	wire_put_u8(w, CERT_TYPE_ECDSA_SIGN);
	size_t list = wire_open_vec(w, 2);
	for (size_t i = 0; i < n; i++)
		wire_put_u16(w, sigalgs[i]);
	wire_close_vec(w, list, 2);
	wire_put_u16(w, 0); /* no certificate_authorities list */
}
