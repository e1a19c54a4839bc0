/* dtlsgwctl reload: re-read the configuration, as SIGHUP, and say what it did. */
#include <stdio.h>
#include <string.h>

#include "daemon/ctl/ctl.h"

/* "reloaded: 1 added (s4), 1 changed (s2), 2 unchanged; s3 is in the file but was
 * removed at run time: not started" from the result of reload. */
static void print_summary(const struct json_object *result)
{
	static const char *const listed[] = { "added", "changed", "removed" };
	const struct json_object *kept = jarr(result, "unchanged"), *out = jarr(result, "not_started");
	char names[4096];
	size_t parts = 0, n;

	fputs("reloaded", stdout);
	for (size_t i = 0; i < sizeof(listed) / sizeof(listed[0]); i++) {
		const struct json_object *a = jarr(result, listed[i]);
		if ((n = a ? json_object_array_length(a) : 0))
			printf("%s %zu %s (%s)", parts++ ? "," : ":", n, listed[i],
			       fmt_list(a, names, sizeof(names)));
	}
	if ((n = kept ? json_object_array_length(kept) : 0))
		printf("%s %zu unchanged", parts++ ? "," : ":", n);
	else if (!parts && kept)
		fputs(": no peers", stdout);
	if ((n = out ? json_object_array_length(out) : 0))
		printf("; %s %s in the file but %s removed at run time: not started",
		       fmt_list(out, names, sizeof(names)), n == 1 ? "is" : "are",
		       n == 1 ? "was" : "were");
	putchar('\n');
}

int cmd_reload(const struct ctl *ctl, int argc, char **argv)
{
	struct json_object *result;
	(void)argv;
	if (argc != 1)
		return ctl_usage("reload");
	int rc = ctl_call(ctl, CONTROL_CMD_NAME_RELOAD, NULL, &result);
	if (rc != EXIT_OK)
		return rc;
	if (ctl->json)
		ctl_print_json(ctl, result);
	else
		print_summary(result);
	json_object_put(result);
	return EXIT_OK;
}
