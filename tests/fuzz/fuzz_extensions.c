/* ext_parse on its own: a hello's extensions block. */
#include "fuzz_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_reader r = wire_reader(data, size);
	struct hello_ext e;
	if (ext_parse(&r, &e) == 0) {
		if (wire_left(&r) != 0)
			abort();
		fuzz_ext_in(&e, data, size);
	}
	return 0;
}
