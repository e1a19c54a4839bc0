/* parse_certificate_verify (a digitally-signed struct). */
#include "fuzz_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct digitally_signed ds;
	if (parse_certificate_verify(data, size, &ds) == 0)
		fuzz_span_in(&ds.sig, data, size);
	return 0;
}
