/*
 * The gateway configuration parser (daemon/config.c on inih): any text gives a config
 * or diagnostics, never a crash or a leak. Paths in the text resolve against a
 * directory that does not exist, so the parser opens nothing of ours.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_diags d;
	struct gw_config *cfg = NULL;
	config_diags_init(&d);
	int rc = config_parse_buffer("/nonexistent/dtlsgw-fuzz/dtlsgw.conf", (const char *)data, size, &cfg, &d);
	if ((rc == 0) != (cfg != NULL))
		abort();
	if (rc == 0 && d.n_errors)
		abort(); /* a config accepted with errors */
	if (rc == -EINVAL && d.n_errors == 0)
		abort(); /* refused without saying why */
	for (size_t i = 0; i < d.n; i++)
		if (!d.v[i].text)
			abort();
	static FILE *devnull;
	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	config_diags_print(&d, devnull);
	config_free(cfg);
	config_diags_free(&d);
	return 0;
}
