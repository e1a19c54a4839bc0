#include <string.h>

#include "handshake/message.h"

int parse_client_key_exchange(const uint8_t *body, size_t len, bool has_identity, bool has_ecdh, bool has_rsa,
			      struct client_key_exchange *cke)
{
	struct wire_reader r = wire_reader(body, len);
	memset(cke, 0, sizeof(*cke));
	if (has_identity)
		cke->identity = wire_vec16(&r);
	if (has_ecdh) {
		cke->point = wire_vec8(&r);
		ENSURE(wire_ok(&r) && wire_left(&cke->point) > 0, DTLS_ERR_DECODE);
	}
	if (has_rsa) {
		cke->rsa = wire_vec16(&r);
		ENSURE(wire_ok(&r) && wire_left(&cke->rsa) > 0, DTLS_ERR_DECODE);
	}
	return wire_end(&r);
}
