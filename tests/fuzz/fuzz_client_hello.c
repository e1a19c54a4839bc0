/* parse_client_hello (and ext_parse through it), whole and prefix-only (through the
 * cookie) as the stateless cookie check reads it. */
#include "fuzz_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct client_hello ch;
	if (parse_client_hello(data, size, true, &ch) == 0) {
		if (!(ch.cookie_off <= ch.cookie_end && ch.cookie_end <= size))
			abort();
		fuzz_span_in(&ch.session_id, data, size);
		fuzz_span_in(&ch.cookie, data, size);
	}
	if (parse_client_hello(data, size, false, &ch) == 0) {
		if (!(ch.cookie_off <= ch.cookie_end && ch.cookie_end <= ch.params_end && ch.params_end <= size))
			abort();
		/* A whole hello that parses has a prefix that parses. */
		struct client_hello pre;
		if (parse_client_hello(data, size, true, &pre) != 0)
			abort();
		fuzz_span_in(&ch.session_id, data, size);
		fuzz_span_in(&ch.cookie, data, size);
		fuzz_span_in(&ch.suites, data, size);
		fuzz_span_in(&ch.compressions, data, size);
		fuzz_ext_in(&ch.ext, data, size);
		(void)client_hello_offers_suite(&ch, 0x00A8);
		(void)client_hello_offers_suite(&ch, 0x00ff);
	}
	return 0;
}
