/* dtlsgwctl peer NAME: everything about one peer. */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "daemon/ctl/ctl.h"

/* Unix time t as "2026-11-29 14:03:12" in local time ("" if it cannot be). */
static const char *local_date(uint64_t t, char date[static 32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	date[0] = '\0';
	if (localtime_r(&tt, &tm))
		strftime(date, 32, "%Y-%m-%d %H:%M:%S", &tm);
	return date;
}

/* "3 min ago (2026-11-29 14:03:12)" in local time, or "never". */
static const char *when(const struct json_object *p, const char *key, uint64_t now, char *buf,
			size_t len)
{
	char ago[FMT_MAX];
	uint64_t t;
	fmt_ago(p, key, now, ago);
	if (!jnum(p, key, &t) || t == 0) {
		snprintf(buf, len, "%s", ago);
		return buf;
	}
	char date[32];
	snprintf(buf, len, "%s (%s)", ago, local_date(t, date));
	return buf;
}

/* "in 3 s (2026-11-29 14:03:12)", "now", or "-" without a next dial. */
static const char *next_dial(const struct json_object *p, uint64_t now, char *buf, size_t len)
{
	uint64_t t;
	char in[FMT_MAX];
	if (!jnum(p, "next_dial", &t) || t == 0)
		return "-";
	if (t <= now) {
		snprintf(buf, len, "now");
		return buf;
	}
	char date[32];
	snprintf(buf, len, "in %s (%s)", fmt_duration(t - now, in), local_date(t, date));
	return buf;
}

/* "12 ok, 3 failed" (and the dials that failed since the last success). */
static const char *handshakes(const struct json_object *p, char *buf, size_t len)
{
	uint64_t ok, failed, dials;
	if (!jnum(p, "handshakes", &ok))
		return "-";
	if (!jnum(p, "handshake_failures", &failed))
		failed = 0;
	int w = snprintf(buf, len, "%" PRIu64 " ok, %" PRIu64 " failed", ok, failed);
	if (w > 0 && (size_t)w < len && jnum(p, "failed_dials", &dials) && dials)
		snprintf(buf + w, len - (size_t)w, " (%" PRIu64 " in a row)", dials);
	return buf;
}

/* "handshake failed: ... (2 min ago)", or "-". */
static const char *last_error(const struct json_object *p, uint64_t now, char *buf, size_t len)
{
	const char *e = jstr(p, "last_error");
	char ago[FMT_MAX];
	if (!e)
		return "-";
	snprintf(buf, len, "%s (%s)", e, fmt_ago(p, "last_error_at", now, ago));
	return buf;
}

static const char *traffic(const struct json_object *p, const char *bytes, const char *packets,
			   char *buf, size_t len)
{
	uint64_t b = 0, n = 0;
	char hb[FMT_MAX];
	if (!jnum(p, bytes, &b) && !jnum(p, packets, &n))
		return "-";
	jnum(p, packets, &n);
	snprintf(buf, len, "%s in %" PRIu64 " packet%s", fmt_bytes(b, hb), n, n == 1 ? "" : "s");
	return buf;
}

void print_peer(const struct json_object *p)
{
	uint64_t now = (uint64_t)time(NULL);
	char hs[128], lrx[128], rx[128], tx[128], drops[512], ips[4096], nd[128], hsn[96], err[512];
	struct table t;

	table_init(&t, 2);
	kv_row(&t, "peer", jstr(p, "name"));
	kv_row(&t, "state", jstr(p, "state"));
	kv_row(&t, "endpoint", jstr(p, "endpoint"));
	kv_row(&t, "suite", jstr(p, "suite"));
	kv_row(&t, "identity", jstr(p, "identity"));
	kv_row(&t, "allowed ips", fmt_list(jarr(p, "allowed_ips"), ips, sizeof(ips)));
	kv_row(&t, "last handshake", when(p, "last_handshake", now, hs, sizeof(hs)));
	kv_row(&t, "last received", when(p, "last_rx", now, lrx, sizeof(lrx)));
	kv_row(&t, "handshakes", handshakes(p, hsn, sizeof(hsn)));
	kv_row(&t, "last error", last_error(p, now, err, sizeof(err)));
	kv_row(&t, "next dial", next_dial(p, now, nd, sizeof(nd)));
	kv_row(&t, "received", traffic(p, "rx_bytes", "rx_packets", rx, sizeof(rx)));
	kv_row(&t, "sent", traffic(p, "tx_bytes", "tx_packets", tx, sizeof(tx)));
	kv_row(&t, "drops", fmt_drops(jobj(p, "drops"), drops, sizeof(drops), NULL));
	table_print(&t, stdout);
	table_free(&t);
}

int cmd_peer(const struct ctl *ctl, int argc, char **argv)
{
	struct json_object *peer;
	if (argc != 2)
		return ctl_usage("peer NAME");
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, CONTROL_ARG_NAME, json_object_new_string(argv[1]));
	int rc = ctl_call(ctl, CONTROL_CMD_NAME_PEER, args, &peer);
	if (rc != EXIT_OK)
		return rc;
	if (ctl->json)
		ctl_print_json(ctl, peer);
	else
		print_peer(peer);
	json_object_put(peer);
	return EXIT_OK;
}
