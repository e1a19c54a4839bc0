/* dtlsgwctl peers: one line per peer. */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "daemon/ctl/ctl.h"

int cmd_peers(const struct ctl *ctl, int argc, char **argv)
{
	struct json_object *peers;
	(void)argv;
	if (argc != 1)
		return ctl_usage("peers");
	int rc = ctl_call(ctl, CONTROL_CMD_NAME_PEERS, NULL, &peers);
	if (rc != EXIT_OK)
		return rc;
	if (ctl->json) {
		ctl_print_json(ctl, peers);
		json_object_put(peers);
		return EXIT_OK;
	}
	if (!json_object_is_type(peers, json_type_array)) {
		fprintf(stderr, "dtlsgwctl: peers: the daemon's result is not a list\n");
		json_object_put(peers);
		return EXIT_CONN;
	}
	size_t n = json_object_array_length(peers);
	if (n == 0) {
		puts("no peers");
		json_object_put(peers);
		return EXIT_OK;
	}

	static const char *const header[] = { "NAME", "STATE",   "ENDPOINT", "HANDSHAKE",
					      "LAST RX", "RX", "TX",       "DROPS" };
	struct table t;
	uint64_t now = (uint64_t)time(NULL);

	table_init(&t, 8);
	t.header = true;
	t.right[5] = t.right[6] = t.right[7] = true;
	table_add(&t, header);
	for (size_t i = 0; i < n; i++) {
		const struct json_object *p = json_object_array_get_idx(peers, i);
		char hs[FMT_MAX], lrx[FMT_MAX], rx[FMT_MAX], tx[FMT_MAX], drops[32], list[256];
		uint64_t v, sum;
		fmt_drops(jobj(p, "drops"), list, sizeof(list), &sum);
		snprintf(drops, sizeof(drops), "%" PRIu64, sum);
		const char *row[8] = {
			jstr(p, "name"),
			jstr(p, "state"),
			jstr(p, "endpoint"),
			fmt_ago(p, "last_handshake", now, hs),
			fmt_ago(p, "last_rx", now, lrx),
			jnum(p, "rx_bytes", &v) ? fmt_bytes(v, rx) : "-",
			jnum(p, "tx_bytes", &v) ? fmt_bytes(v, tx) : "-",
			drops,
		};
		table_add(&t, row);
	}
	table_print(&t, stdout);
	table_free(&t);
	json_object_put(peers);
	return EXIT_OK;
}
