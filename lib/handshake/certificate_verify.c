#include "handshake/message.h"

int parse_digitally_signed(struct wire_reader *r, struct digitally_signed *ds)
{
	ds->scheme = wire_u16(r);
	ds->sig = wire_vec16(r);
	TRY(wire_check(r));
	ENSURE(wire_left(&ds->sig) > 0, DTLS_ERR_DECODE);
	return DTLS_OK;
}

int parse_certificate_verify(const uint8_t *body, size_t len, struct digitally_signed *ds)
{
	struct wire_reader r = wire_reader(body, len);
	TRY(parse_digitally_signed(&r, ds));
	return wire_end(&r);
}

void write_digitally_signed(struct wire_writer *w, uint16_t scheme, const uint8_t *sig, size_t sig_len)
{
	wire_put_u16(w, scheme);
	wire_put_vec(w, 2, sig, sig_len);
}
