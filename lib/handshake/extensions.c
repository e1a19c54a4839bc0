#include <string.h>

#include "handshake/message.h"

/* Bit for an extension we understand, to refuse duplicates (RFC 5246 7.4.1.4). */
static int seen_bit(uint16_t type)
{
	switch (type) {
	case EXT_SERVER_NAME: return 0;
	case EXT_SUPPORTED_GROUPS: return 1;
	case EXT_EC_POINT_FORMATS: return 2;
	case EXT_SIGNATURE_ALGORITHMS: return 3;
	case EXT_ENCRYPT_THEN_MAC: return 4;
	case EXT_EXTENDED_MASTER_SECRET: return 5;
	case EXT_SESSION_TICKET: return 6;
	case EXT_RENEGOTIATION_INFO: return 7;
	default: return -1;
	}
}

static int parse_server_name(struct wire_reader *r, struct hello_ext *e)
{
	struct wire_reader list = wire_vec16(r);
	while (wire_left(&list) > 0) {
		uint8_t type = wire_u8(&list);
		struct wire_reader name = wire_vec16(&list);
		TRY(wire_check(&list));
		size_t n = wire_left(&name);
		if (type != 0 || e->server_name[0])
			continue;
		ENSURE(n > 0 && n <= HELLO_MAX_SERVER_NAME, DTLS_ERR_DECODE);
		const uint8_t *p = wire_bytes(&name, n);
		ENSURE(!memchr(p, 0, n), DTLS_ERR_DECODE);
		memcpy(e->server_name, p, n);
		e->server_name[n] = 0;
	}
	return wire_end(&list);
}

static int parse_one(uint16_t type, struct wire_reader *data, struct hello_ext *e)
{
	switch (type) {
	case EXT_SERVER_NAME:
		/* A ServerHello carries it empty. */
		if (wire_left(data) == 0)
			return DTLS_OK;
		TRY(parse_server_name(data, e));
		break;
	case EXT_SUPPORTED_GROUPS:
		e->groups = true;
		e->group_list = wire_vec16(data);
		ENSURE(wire_left(&e->group_list) % 2 == 0, DTLS_ERR_DECODE);
		break;
	case EXT_EC_POINT_FORMATS: {
		struct wire_reader list = wire_vec8(data);
		e->point_formats = true;
		while (wire_left(&list) > 0)
			if (wire_u8(&list) == 0)
				e->uncompressed_point = true;
		break;
	}
	case EXT_SIGNATURE_ALGORITHMS:
		e->sigalgs = true;
		e->sigalg_list = wire_vec16(data);
		ENSURE(wire_left(&e->sigalg_list) % 2 == 0, DTLS_ERR_DECODE);
		break;
	case EXT_EXTENDED_MASTER_SECRET:
		e->ems = true;
		break;
	case EXT_RENEGOTIATION_INFO: {
		struct wire_reader v = wire_vec8(data);
		size_t n = wire_left(&v);
		ENSURE(n <= HELLO_MAX_RENEG, DTLS_ERR_HANDSHAKE_FAILURE);
		e->reneg = true;
		e->reneg_len = (uint8_t)n;
		wire_copy(&v, e->reneg_data, n);
		break;
	}
	default:
		/* encrypt_then_mac and session_ticket are known and declined by not echoing them. */
		wire_skip(data, wire_left(data));
		break;
	}
	return wire_end(data);
}

int ext_parse(struct wire_reader *r, struct hello_ext *e)
{
	memset(e, 0, sizeof(*e));
	if (wire_left(r) == 0)
		return wire_check(r);
	struct wire_reader list = wire_vec16(r);
	uint32_t seen = 0;
	while (wire_left(&list) > 0) {
		uint16_t type = wire_u16(&list);
		struct wire_reader data = wire_vec16(&list);
		TRY(wire_check(&list));
		int bit = seen_bit(type);
		if (bit >= 0) {
			ENSURE(!(seen & (1u << bit)), DTLS_ERR_DECODE);
			seen |= 1u << bit;
		} else {
			e->unknown = true;
		}
		TRY(parse_one(type, &data, e));
	}
	TRY(wire_end(&list));
	e->seen = seen;
	return wire_end(r);
}
