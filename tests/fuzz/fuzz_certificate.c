/* parse_certificate: the certificate_list, not the X.509 inside (see fuzz_pki). */
#include "fuzz_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct certificate_msg c;
	if (parse_certificate(data, size, &c) != 0)
		return 0;
	if (c.n > CERT_MAX_CHAIN)
		abort();
	for (size_t i = 0; i < c.n; i++) {
		struct wire_reader r = wire_reader(c.der[i], c.der_len[i]);
		fuzz_span_in(&r, data, size);
	}
	return 0;
}
