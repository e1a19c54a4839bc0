/* parse_server_hello (and ext_parse through it). */
#include "fuzz_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct server_hello sh;
	if (parse_server_hello(data, size, &sh) == 0) {
		fuzz_span_in(&sh.session_id, data, size);
		fuzz_ext_in(&sh.ext, data, size);
	}
	return 0;
}
