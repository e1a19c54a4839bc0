/* parse_client_key_exchange with every combination of identity, ECDH point and RSA
 * (the first byte picks it: bit 0 identity, bit 1 ECDH, bit 2 RSA). */
#include "fuzz_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool id = data[0] & 1, ecdh = data[0] & 2, rsa = data[0] & 4;
	data++, size--;
	struct client_key_exchange cke;
	if (parse_client_key_exchange(data, size, id, ecdh, rsa, &cke) != 0)
		return 0;
	fuzz_span_in(&cke.identity, data, size);
	fuzz_span_in(&cke.point, data, size);
	fuzz_span_in(&cke.rsa, data, size);
	return 0;
}
