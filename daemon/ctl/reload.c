/* dtlsgwctl reload: re-read the configuration, as SIGHUP. */
#include <stdio.h>

#include "daemon/ctl/ctl.h"

int cmd_reload(const struct ctl *ctl, int argc, char **argv)
{
	struct json_object *result;
	(void)argv;
	if (argc != 1)
		return ctl_usage("reload");
	int rc = ctl_call(ctl, CONTROL_CMD_NAME_RELOAD, NULL, &result);
	if (rc != EXIT_OK)
		return rc;
	if (ctl->json) {
		ctl_print_json(ctl, result);
	} else {
		static const char *const lists[] = { "added", "removed", "changed" };
		puts("reloaded");
		for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
			const struct json_object *a = jarr(result, lists[i]);
			char buf[4096];
			if (a && json_object_array_length(a) > 0)
				printf("%s: %s\n", lists[i], fmt_list(a, buf, sizeof(buf)));
		}
	}
	json_object_put(result);
	return EXIT_OK;
}
