/* dtlsgwctl status: the gateway as a whole. */
#include <inttypes.h>
#include <stdio.h>

#include "daemon/ctl/ctl.h"

/* "1.2 MiB in 3402 packets" from the totals members of one direction. */
static const char *traffic(const struct json_object *o, const char *bytes, const char *packets,
			   char *buf, size_t len)
{
	uint64_t b = 0, p = 0;
	char hb[FMT_MAX];
	bool hb_ok = jnum(o, bytes, &b), hp_ok = jnum(o, packets, &p);
	if (!hb_ok && !hp_ok)
		return "-";
	snprintf(buf, len, "%s in %" PRIu64 " packet%s", fmt_bytes(b, hb), p, p == 1 ? "" : "s");
	return buf;
}

static const char *number(const struct json_object *o, const char *key, char buf[static FMT_MAX])
{
	uint64_t n;
	if (!jnum(o, key, &n))
		return "-";
	snprintf(buf, FMT_MAX, "%" PRIu64, n);
	return buf;
}

int cmd_status(const struct ctl *ctl, int argc, char **argv)
{
	struct json_object *st;
	(void)argv;
	if (argc != 1)
		return ctl_usage("status");
	int rc = ctl_call(ctl, CONTROL_CMD_NAME_STATUS, NULL, &st);
	if (rc != EXIT_OK)
		return rc;
	if (ctl->json) {
		ctl_print_json(ctl, st);
		json_object_put(st);
		return EXIT_OK;
	}

	const struct json_object *totals = jobj(st, "totals");
	char b1[FMT_MAX], b2[FMT_MAX], b3[FMT_MAX], b4[FMT_MAX];
	char rx[128], tx[128], drops[512];
	uint64_t up;
	struct table t;

	table_init(&t, 2);
	kv_row(&t, "version", jstr(st, "version"));
	kv_row(&t, "uptime", jnum(st, "uptime_s", &up) ? fmt_duration(up, b1) : "-");
	kv_row(&t, "listen", jstr(st, "listen"));
	kv_row(&t, "tun", jstr(st, "tun"));
	kv_row(&t, "workers", number(st, "workers", b2));
	kv_row(&t, "peers", number(st, "peers", b3));
	kv_row(&t, "sessions", number(st, "sessions", b4));
	kv_row(&t, "received", traffic(totals, "rx_bytes", "rx_packets", rx, sizeof(rx)));
	kv_row(&t, "sent", traffic(totals, "tx_bytes", "tx_packets", tx, sizeof(tx)));
	kv_row(&t, "drops", fmt_drops(jobj(totals, "drops"), drops, sizeof(drops), NULL));
	table_print(&t, stdout);
	table_free(&t);
	json_object_put(st);
	return EXIT_OK;
}
