/* dtlsgwctl stats [--prometheus]: counters and gauges in the Prometheus text
 * exposition format, for a node exporter textfile collector or a scrape adaptor. */
#include <stdio.h>
#include <string.h>

#include "daemon/ctl/ctl.h"

int cmd_stats(const struct ctl *ctl, int argc, char **argv)
{
	struct json_object *result;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--prometheus") != 0)
			return ctl_usage("stats [--prometheus]");
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, CONTROL_ARG_FORMAT,
			       json_object_new_string(CONTROL_STATS_FORMAT_PROMETHEUS));
	int rc = ctl_call(ctl, CONTROL_CMD_NAME_STATS, args, &result);
	if (rc != EXIT_OK)
		return rc;
	if (ctl->json) {
		ctl_print_json(ctl, result);
	} else {
		const char *text = jstr(result, "text");
		if (!text) {
			fprintf(stderr, "dtlsgwctl: stats: no text in the daemon's result\n");
			json_object_put(result);
			return EXIT_CONN;
		}
		fputs(text, stdout);
		if (text[0] && text[strlen(text) - 1] != '\n')
			putchar('\n');
	}
	json_object_put(result);
	return EXIT_OK;
}
