/* dtlsgwctl remove-peer NAME: remove the peer; its session ends with close_notify. */
#include <stdio.h>

#include "daemon/ctl/ctl.h"

int cmd_remove_peer(const struct ctl *ctl, int argc, char **argv)
{
	struct json_object *result;
	if (argc != 2)
		return ctl_usage("remove-peer NAME");
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, CONTROL_ARG_NAME, json_object_new_string(argv[1]));
	int rc = ctl_call(ctl, CONTROL_CMD_NAME_REMOVE_PEER, args, &result);
	if (rc != EXIT_OK)
		return rc;
	if (ctl->json)
		ctl_print_json(ctl, result);
	else
		printf("removed peer %s\n", argv[1]);
	json_object_put(result);
	return EXIT_OK;
}
