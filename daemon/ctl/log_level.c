/* dtlsgwctl log-level LEVEL: error, warning, notice, info or debug. */
#include <stdio.h>

#include "daemon/ctl/ctl.h"

int cmd_log_level(const struct ctl *ctl, int argc, char **argv)
{
	struct json_object *result;
	if (argc != 2)
		return ctl_usage("log-level error|warning|notice|info|debug");
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, CONTROL_ARG_LEVEL, json_object_new_string(argv[1]));
	int rc = ctl_call(ctl, CONTROL_CMD_NAME_LOG_LEVEL, args, &result);
	if (rc != EXIT_OK)
		return rc;
	if (ctl->json) {
		ctl_print_json(ctl, result);
	} else {
		const char *level = jstr(result, "level"), *prev = jstr(result, "previous");
		if (prev)
			printf("log level: %s (was %s)\n", level ? level : argv[1], prev);
		else
			printf("log level: %s\n", level ? level : argv[1]);
	}
	json_object_put(result);
	return EXIT_OK;
}
