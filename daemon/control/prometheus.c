/*
 * status and peers results (docs/control-protocol.md) as the Prometheus text
 * exposition format 0.0.4: each metric family once, "# HELP" and "# TYPE"
 * first, then its samples. Label values are escaped (\\, \", \n).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "daemon/control/control.h"

static const char *const peer_states[] = { "connecting", "handshaking", "up", "dead",
					   "disconnected" };
#define N_PEER_STATES (sizeof(peer_states) / sizeof(peer_states[0]))

static void header(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void label_value(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '"')
			fputs("\\\"", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static const struct json_object *member(const struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static const char *string_member(const struct json_object *o, const char *key)
{
	const struct json_object *v = member(o, key);
	if (!v || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string((struct json_object *)v);
}

/* A number as sample text in buf, or NULL if v is not a number. */
static const char *number(const struct json_object *v, char buf[static 40])
{
	if (!v)
		return NULL;
	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);
		if (i == INT64_MAX)
			snprintf(buf, 40, "%" PRIu64, json_object_get_uint64(v));
		else
			snprintf(buf, 40, "%" PRId64, i);
		return buf;
	}
	if (json_object_is_type(v, json_type_double)) {
		snprintf(buf, 40, "%.17g", json_object_get_double(v));
		return buf;
	}
	if (json_object_is_type(v, json_type_boolean)) {
		snprintf(buf, 40, "%d", json_object_get_boolean(v) ? 1 : 0);
		return buf;
	}
	return NULL;
}

/* "name value" or, with a label, "name{label="value"} value". */
static void sample(FILE *out, const char *name, const char *label, const char *label_val,
		   const char *value)
{
	fputs(name, out);
	if (label) {
		fprintf(out, "{%s=\"", label);
		label_value(out, label_val);
		fputs("\"}", out);
	}
	fprintf(out, " %s\n", value);
}

static void scalar(FILE *out, const struct json_object *o, const char *key, const char *name,
		   const char *type, const char *help)
{
	char buf[40];
	const char *v = number(member(o, key), buf);
	if (!v)
		return;
	header(out, name, type, help);
	sample(out, name, NULL, NULL, v);
}

/* One sample per numeric member of a drops object, labelled reason="member". */
static void drops(FILE *out, const char *name, const char *peer, const struct json_object *d)
{
	char buf[40];

	if (!d || !json_object_is_type(d, json_type_object))
		return;
	json_object_object_foreach((struct json_object *)d, reason, val)
	{
		const char *v = number(val, buf);
		if (!v)
			continue;
		fputs(name, out);
		fputc('{', out);
		if (peer) {
			fputs("peer=\"", out);
			label_value(out, peer);
			fputs("\",", out);
		}
		fputs("reason=\"", out);
		label_value(out, reason);
		fprintf(out, "\"} %s\n", v);
	}
}

/* A counter family with one sample per member of object o (labelled reason), if any. */
static void by_reason(FILE *out, const struct json_object *o, const char *name, const char *help)
{
	if (!o || !json_object_is_type(o, json_type_object))
		return;
	header(out, name, "counter", help);
	drops(out, name, NULL, o);
}

/* The status result's numeric members, each a family of one sample: member key of the
 * status object, or of its member in. */
struct family {
	const char *in, *key, *name, *type, *help;
};
static const struct family status_families[] = {
	{ NULL, "uptime_s", "dtlsgw_uptime_seconds", "gauge", "Seconds since the gateway started." },
	{ NULL, "workers", "dtlsgw_workers", "gauge", "Worker threads." },
	{ NULL, "peers", "dtlsgw_peers", "gauge", "Configured peers." },
	{ NULL, "sessions", "dtlsgw_sessions", "gauge", "DTLS sessions." },
	{ "totals", "rx_bytes", "dtlsgw_rx_bytes_total", "counter",
	  "Bytes of inner packets received from all peers." },
	{ "totals", "tx_bytes", "dtlsgw_tx_bytes_total", "counter",
	  "Bytes of inner packets sent to all peers." },
	{ "totals", "rx_packets", "dtlsgw_rx_packets_total", "counter",
	  "Inner packets received from all peers." },
	{ "totals", "tx_packets", "dtlsgw_tx_packets_total", "counter",
	  "Inner packets sent to all peers." },
	{ NULL, "halfopen", "dtlsgw_halfopen_handshakes", "gauge",
	  "Server handshakes past the cookie exchange, not yet authenticated." },
	{ NULL, "hello_fragments", "dtlsgw_hello_fragments_total", "counter",
	  "ClientHello fragments from senders without a session, held to be put together." },
	{ NULL, "hello_fragments_evicted", "dtlsgw_hello_fragments_evicted_total", "counter",
	  "Partial ClientHellos dropped for newer ones (the area is full)." },
	{ NULL, "reassembly_bytes", "dtlsgw_reassembly_bytes", "gauge",
	  "Bytes held by handshake messages being reassembled (all sessions)." },
	{ NULL, "reassembly_dropped", "dtlsgw_reassembly_dropped_total", "counter",
	  "Handshake fragments dropped over the reassembly budgets (ended sessions)." },
	{ NULL, "cookie_exchanges", "dtlsgw_cookie_exchanges_total", "counter",
	  "HelloVerifyRequests sent (cookie exchanges with senders without a session)." },
	{ NULL, "tun_read_errors", "dtlsgw_tun_read_errors_total", "counter",
	  "Reads from the TUN device that failed." },
	{ NULL, "icmp_errors", "dtlsgw_icmp_errors_total", "counter",
	  "ICMP errors (port unreachable, no route...) for datagrams the gateway sent." },
	{ "offload", "tun_super_in", "dtlsgw_offload_tun_super_in_total", "counter",
	  "Super-packets (many segments in one) read from TUN." },
	{ "offload", "tun_merged_out", "dtlsgw_offload_tun_merged_out_total", "counter",
	  "Merged writes of many received packets to TUN." },
	{ "offload", "udp_gso_sends", "dtlsgw_offload_udp_gso_sends_total", "counter",
	  "UDP sends of many datagrams at once (segmentation offload)." },
	{ "offload", "udp_gro_recvs", "dtlsgw_offload_udp_gro_recvs_total", "counter",
	  "UDP receives of many datagrams at once (receive coalescing)." },
	{ "offload", "tun_super_dropped", "dtlsgw_offload_tun_super_dropped_total", "counter",
	  "Super-packets from TUN dropped (not understood, or segments above the MTU)." },
};

int control_prometheus_status(FILE *out, const struct json_object *status)
{

	header(out, "dtlsgw_info", "gauge", "Version and addresses of the gateway (always 1).");
	fputs("dtlsgw_info{version=\"", out);
	const char *s = string_member(status, "version");
	label_value(out, s ? s : "");
	fputs("\",listen=\"", out);
	s = string_member(status, "listen");
	label_value(out, s ? s : "");
	fputs("\",tun=\"", out);
	s = string_member(status, "tun");
	label_value(out, s ? s : "");
	fputs("\"} 1\n", out);

	for (size_t i = 0; i < sizeof(status_families) / sizeof(status_families[0]); i++) {
		const struct family *f = &status_families[i];
		scalar(out, f->in ? member(status, f->in) : status, f->key, f->name, f->type,
		       f->help);
	}
	by_reason(out, member(member(status, "totals"), "drops"), "dtlsgw_drops_total",
		  "Packets dropped, by reason.");
	by_reason(out, member(status, "handshakes_refused"), "dtlsgw_handshakes_refused_total",
		  "Handshakes refused or dropped before they authenticated, by reason.");
	return ferror(out) ? -EIO : 0;
}

/* Per-peer numeric families: one member of each peer object. */
static const struct family peer_families[] = {
	{ NULL, "rx_bytes", "dtlsgw_peer_rx_bytes_total", "counter",
	  "Bytes of inner packets received from the peer." },
	{ NULL, "tx_bytes", "dtlsgw_peer_tx_bytes_total", "counter",
	  "Bytes of inner packets sent to the peer." },
	{ NULL, "rx_packets", "dtlsgw_peer_rx_packets_total", "counter",
	  "Inner packets received from the peer." },
	{ NULL, "tx_packets", "dtlsgw_peer_tx_packets_total", "counter",
	  "Inner packets sent to the peer." },
	{ NULL, "keepalives_rx", "dtlsgw_peer_keepalives_rx_total", "counter",
	  "Keepalives received from the peer." },
	{ NULL, "last_handshake", "dtlsgw_peer_last_handshake_seconds", "gauge",
	  "Unix time of the last completed handshake." },
	{ NULL, "last_rx", "dtlsgw_peer_last_rx_seconds", "gauge",
	  "Unix time of the last packet received from the peer." },
	{ NULL, "handshakes", "dtlsgw_peer_handshakes_total", "counter",
	  "Handshakes completed with the peer." },
	{ NULL, "handshake_failures", "dtlsgw_peer_handshake_failures_total", "counter",
	  "Handshakes towards the peer that failed." },
	{ NULL, "auth_failures", "dtlsgw_peer_auth_failures_total", "counter",
	  "Handshakes that named the peer's PSK identity but failed to authenticate." },
	{ NULL, "renegotiations_refused", "dtlsgw_peer_renegotiations_refused_total", "counter",
	  "Renegotiations the peer started beyond the limit, refused." },
	{ NULL, "last_error_at", "dtlsgw_peer_last_error_seconds", "gauge",
	  "Unix time of the peer's last failed handshake or session error." },
	{ NULL, "next_dial", "dtlsgw_peer_next_dial_seconds", "gauge",
	  "Unix time of the next dial of an initiator waiting out its backoff." },
	{ NULL, "failed_dials", "dtlsgw_peer_failed_dials", "gauge",
	  "Failed dials since the last handshake that succeeded." },
};

int control_prometheus_peers(FILE *out, const struct json_object *peers)
{
	char buf[40];

	if (!peers || !json_object_is_type(peers, json_type_array))
		return ferror(out) ? -EIO : 0;
	size_t n = json_object_array_length(peers);

	header(out, "dtlsgw_peer_up", "gauge", "1 if the peer's session is up, else 0.");
	for (size_t i = 0; i < n; i++) {
		const struct json_object *p = json_object_array_get_idx(peers, i);
		const char *name = string_member(p, "name");
		const char *state = string_member(p, "state");
		if (name)
			sample(out, "dtlsgw_peer_up", "peer", name,
			       state && strcmp(state, "up") == 0 ? "1" : "0");
	}

	header(out, "dtlsgw_peer_state", "gauge",
	       "1 for the peer's state (connecting, handshaking, up, dead, disconnected), 0 for "
	       "the others.");
	for (size_t i = 0; i < n; i++) {
		const struct json_object *p = json_object_array_get_idx(peers, i);
		const char *name = string_member(p, "name");
		const char *state = string_member(p, "state");
		if (!name)
			continue;
		for (size_t s = 0; s < N_PEER_STATES; s++) {
			fputs("dtlsgw_peer_state{peer=\"", out);
			label_value(out, name);
			fprintf(out, "\",state=\"%s\"} %d\n", peer_states[s],
				state && strcmp(state, peer_states[s]) == 0);
		}
	}

	for (size_t f = 0; f < sizeof(peer_families) / sizeof(peer_families[0]); f++) {
		header(out, peer_families[f].name, peer_families[f].type, peer_families[f].help);
		for (size_t i = 0; i < n; i++) {
			const struct json_object *p = json_object_array_get_idx(peers, i);
			const char *name = string_member(p, "name");
			const char *v = number(member(p, peer_families[f].key), buf);
			if (name && v)
				sample(out, peer_families[f].name, "peer", name, v);
		}
	}

	header(out, "dtlsgw_peer_drops_total", "counter",
	       "Packets from or to the peer dropped, by reason.");
	for (size_t i = 0; i < n; i++) {
		const struct json_object *p = json_object_array_get_idx(peers, i);
		const char *name = string_member(p, "name");
		if (name)
			drops(out, "dtlsgw_peer_drops_total", name, member(p, "drops"));
	}
	return ferror(out) ? -EIO : 0;
}

int control_prometheus_render(const struct json_object *status, const struct json_object *peers,
			      char **text)
{
	char *buf = NULL;
	size_t size = 0;
	int rc = 0;

	*text = NULL;
	FILE *f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	if (status)
		rc = control_prometheus_status(f, status);
	if (rc == 0 && peers)
		rc = control_prometheus_peers(f, peers);
	if (fclose(f) != 0 && rc == 0)
		rc = -ENOMEM;
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*text = buf;
	return 0;
}
