#include <string.h>

#include "handshake/message.h"

int parse_server_key_exchange(const uint8_t *body, size_t len, bool has_hint, bool has_ecdh, bool has_sig,
			      struct server_key_exchange *ske)
{
	struct wire_reader r = wire_reader(body, len);
	memset(ske, 0, sizeof(*ske));
	if (has_hint)
		ske->hint = wire_vec16(&r);
	if (has_ecdh) {
		size_t start = wire_offset(&r);
		uint8_t curve_type = wire_u8(&r);
		ske->group = wire_u16(&r);
		ske->point = wire_vec8(&r);
		TRY(wire_check(&r));
		ENSURE(curve_type == EC_CURVE_NAMED, DTLS_ERR_HANDSHAKE_FAILURE);
		ENSURE(wire_left(&ske->point) > 0, DTLS_ERR_DECODE);
		ske->params = wire_reader(body + start, wire_offset(&r) - start);
	}
	if (has_sig) {
		ske->signed_ = true;
		TRY(parse_digitally_signed(&r, &ske->sig));
	}
	return wire_end(&r);
}

void write_ecdh_params(struct wire_writer *w, uint16_t group, const uint8_t *point, size_t point_len)
{
	wire_put_u8(w, EC_CURVE_NAMED);
	wire_put_u16(w, group);
	wire_put_vec(w, 1, point, point_len);
}
