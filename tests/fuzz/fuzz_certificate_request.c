/* parse_certificate_request. */
#include "fuzz_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct certificate_request cr;
	if (parse_certificate_request(data, size, &cr) == 0)
		fuzz_span_in(&cr.sigalgs, data, size);
	return 0;
}
