/* parse_server_key_exchange with every combination of hint, ECDH params and signature
 * (the first byte picks it: bit 0 hint, bit 1 ECDH, bit 2 signature). */
#include "fuzz_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool hint = data[0] & 1, ecdh = data[0] & 2, sig = data[0] & 4;
	data++, size--;
	struct server_key_exchange ske;
	if (parse_server_key_exchange(data, size, hint, ecdh, sig, &ske) != 0)
		return 0;
	fuzz_span_in(&ske.hint, data, size);
	fuzz_span_in(&ske.point, data, size);
	fuzz_span_in(&ske.params, data, size);
	if (ecdh && wire_left(&ske.point) == 0)
		abort();
	if (sig)
		fuzz_span_in(&ske.sig.sig, data, size);
	return 0;
}
