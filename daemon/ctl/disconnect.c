/* dtlsgwctl disconnect NAME: end the peer's session; an initiator dials again. */
#include <stdio.h>

#include "daemon/ctl/ctl.h"

int cmd_disconnect(const struct ctl *ctl, int argc, char **argv)
{
	struct json_object *result;
	if (argc != 2)
		return ctl_usage("disconnect NAME");
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, CONTROL_ARG_NAME, json_object_new_string(argv[1]));
	int rc = ctl_call(ctl, CONTROL_CMD_NAME_DISCONNECT, args, &result);
	if (rc != EXIT_OK)
		return rc;
	if (ctl->json)
		ctl_print_json(ctl, result);
	else
		printf("disconnected peer %s\n", argv[1]);
	json_object_put(result);
	return EXIT_OK;
}
