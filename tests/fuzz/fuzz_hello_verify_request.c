/* parse_hello_verify_request, and write/parse agreeing on what parsed. */
#include "fuzz_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hello_verify_request hvr;
	if (parse_hello_verify_request(data, size, &hvr) != 0)
		return 0;
	fuzz_span_in(&hvr.cookie, data, size);
	size_t n = wire_left(&hvr.cookie);
	const uint8_t *cookie = wire_bytes(&hvr.cookie, n);
	uint8_t out[3 + 256];
	struct wire_writer w = wire_writer(out, sizeof(out));
	write_hello_verify_request(&w, cookie, n);
	size_t len;
	if (wire_written(&w, &len) != 0)
		abort();
	struct hello_verify_request again;
	if (parse_hello_verify_request(out, len, &again) != 0 || wire_left(&again.cookie) != n)
		abort();
	return 0;
}
