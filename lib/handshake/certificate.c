#include "handshake/message.h"

int parse_certificate(const uint8_t *body, size_t len, struct certificate_msg *c)
{
	struct wire_reader r = wire_reader(body, len);
	struct wire_reader list = wire_vec24(&r);
	TRY(wire_end(&r));
	c->n = 0;
	while (wire_left(&list) > 0) {
		struct wire_reader cert = wire_vec24(&list);
		TRY(wire_check(&list));
		ENSURE(wire_left(&cert) > 0, DTLS_ERR_DECODE);
		ENSURE(c->n < CERT_MAX_CHAIN, DTLS_ERR_BAD_CERTIFICATE);
		c->der_len[c->n] = wire_left(&cert);
		c->der[c->n] = wire_bytes(&cert, c->der_len[c->n]);
		c->n++;
	}
	return wire_end(&list);
}

void write_certificate(struct wire_writer *w, const struct certificate_msg *c)
{
	size_t list = wire_open_vec(w, 3);
	for (size_t i = 0; i < c->n; i++)
		wire_put_vec(w, 3, c->der[i], c->der_len[i]);
	wire_close_vec(w, list, 3);
}
