/*
 * The control socket's commands (daemon/control/control.h) over the running gateway.
 *
 * Peers added or removed at run time (add-peer, remove-peer) are an overlay on the
 * configuration file: the [peer] sections added and the names removed. Every reload
 * (SIGHUP, `reload`, and each add/remove) reads the file, appends the added sections,
 * has the parser leave out the file's sections of the removed peers and applies the
 * result through gw_apply(), so the file's checks (overlapping prefixes, duplicate
 * identities) always run on the whole set that stays. The
 * overlay lasts as long as the process: the file is the place for permanent changes.
 * All of this runs on the control thread only.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "daemon/control/control.h"
#include "daemon/control_ops.h"
#include "daemon/gateway.h"
#include "tun/tun.h"

#define LOAD(x) ((uint64_t)atomic_load_explicit(&(x), memory_order_relaxed))

static uint64_t start_ms;

/* The run-time overlay (see the top of the file); control thread only. */
struct name_list {
	char **v;
	size_t n;
};

static struct {
	struct name_list names;    /* peers added at run time... */
	struct name_list sections; /* ...and their [peer NAME] sections, index for index */
	struct name_list removed;  /* peers of the file removed at run time */
} overlay;

static ssize_t list_find(const struct name_list *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return (ssize_t)i;
	return -1;
}

/* Takes ownership of s (also on failure). */
static int list_add(struct name_list *l, char *s)
{
	char **v = s ? realloc(l->v, (l->n + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(s);
		return -ENOMEM;
	}
	l->v = v;
	l->v[l->n++] = s;
	return 0;
}

/* Removes entry i and returns it (the caller frees it). */
static char *list_take(struct name_list *l, size_t i)
{
	char *s = l->v[i];
	memmove(l->v + i, l->v + i + 1, (l->n - i - 1) * sizeof(*l->v));
	l->n--;
	return s;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s)); /* added sections may hold a PSK */
		free(s);
	}
}

static const char *state_of(enum peer_state st)
{
	switch (st) {
	case PEER_WAITING:
	case PEER_CONNECTING:
		return "connecting";
	case PEER_HANDSHAKING:
		return "handshaking";
	case PEER_UP:
		return "up";
	case PEER_DEAD:
		return "dead";
	}
	return "connecting";
}

/* The unix time (s) of the monotonic instant mono_ms, or NULL for 0 (never); now is the
 * monotonic time of the request. The offset between the two clocks is taken once and
 * kept while the wall clock keeps pace with the monotonic one (within a second), so an
 * instant reads the same in every reply, status, peer and stats alike; a step of the
 * wall clock (settimeofday, NTP) takes a new offset. Control thread only. */
static struct json_object *unix_time(uint64_t mono_ms, uint64_t now)
{
	static int64_t offset_ms; /* wall clock minus monotonic clock */
	static bool have_offset;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t off = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - (int64_t)now;
	if (!have_offset || off - offset_ms > 1000 || offset_ms - off > 1000) {
		offset_ms = off;
		have_offset = true;
	}
	if (!mono_ms)
		return NULL;
	return json_object_new_int64(((int64_t)mono_ms + offset_ms) / 1000);
}

/* The members of a drops object, peer or totals, in this order. */
static const char *const drop_reasons[] = { "policy", "replay", "mac", "oversize", "no_session",
					    "tun" };
#define N_DROPS (sizeof(drop_reasons) / sizeof(drop_reasons[0]))
#define N_TOTALS (4 + N_DROPS) /* rx_bytes, tx_bytes, rx_packets, tx_packets, then the drops */

static struct json_object *drops_json(const uint64_t v[static N_DROPS])
{
	struct json_object *d = json_object_new_object();
	for (size_t i = 0; i < N_DROPS; i++)
		json_object_object_add(d, drop_reasons[i], json_object_new_uint64(v[i]));
	return d;
}

static struct json_object *peer_json(struct gw_peer *p, uint64_t now, uint64_t totals[N_TOTALS])
{
	struct json_object *o = json_object_new_object();
	struct dtls_session_stats st = { 0 };
	char a[GW_ADDRSTRLEN];
	struct gw_session *cur;
	enum peer_state state;
	uint64_t last_hs, last_rx = 0;
	const char *suite = NULL;
	char ident[PEER_PSK_IDENTITY_MAX + 1] = "";

	pthread_mutex_lock(&p->lock);
	state = p->state;
	last_hs = p->last_handshake_ms;
	struct json_object *ep = NULL;
	if (p->endpoint_len && p->cur)
		ep = json_object_new_string(
			gw_addr_str((const struct sockaddr *)&p->endpoint, p->endpoint_len, a));
	else if (p->pol.has_endpoint)
		ep = json_object_new_string(gw_addr_str(
			(const struct sockaddr *)&p->pol.endpoint, p->pol.endpoint_len, a));
	cur = p->cur;
	if (cur)
		gw_session_ref(cur);
	pthread_mutex_unlock(&p->lock);
	if (cur) {
		gw_session_lock(cur);
		dtls_session_stats(cur->s, &st);
		suite = dtls_suite_name(dtls_session_suite(cur->s));
		gw_session_unlock(cur);
		last_rx = atomic_load(&cur->last_rx_ms);
		gw_session_put(cur);
	}
	if (p->pol.auth == PEER_AUTH_PSK) {
		memcpy(ident, p->pol.psk.identity, p->pol.psk.identity_len);
		ident[p->pol.psk.identity_len] = '\0';
	} else if (p->pol.cert.cn) {
		snprintf(ident, sizeof(ident), "%s", p->pol.cert.cn);
	}
	json_object_object_add(o, "name", json_object_new_string(p->pol.name));
	json_object_object_add(o, "state", json_object_new_string(state_of(state)));
	json_object_object_add(o, "endpoint", ep);
	json_object_object_add(o, "suite", suite ? json_object_new_string(suite) : NULL);
	json_object_object_add(o, "identity", ident[0] ? json_object_new_string(ident) : NULL);
	struct json_object *ips = json_object_new_array();
	for (size_t i = 0; i < p->pol.n_allowed; i++) {
		char b[PREFIX_STRLEN];
		json_object_array_add(ips, json_object_new_string(prefix_format(&p->pol.allowed[i], b)));
	}
	json_object_object_add(o, "allowed_ips", ips);
	json_object_object_add(o, "last_handshake", unix_time(last_hs, now));
	json_object_object_add(o, "last_rx", unix_time(last_rx, now));
	uint64_t v[N_TOTALS] = { LOAD(p->c.rx_bytes), LOAD(p->c.tx_bytes), LOAD(p->c.rx_packets),
				 LOAD(p->c.tx_packets), LOAD(p->c.drop_policy),
				 LOAD(p->c.drop_replay) + st.dropped_replay,
				 LOAD(p->c.drop_mac) + st.dropped_mac, LOAD(p->c.drop_oversize),
				 LOAD(p->c.drop_no_session), LOAD(p->c.drop_tun) };
	json_object_object_add(o, "rx_bytes", json_object_new_uint64(v[0]));
	json_object_object_add(o, "tx_bytes", json_object_new_uint64(v[1]));
	json_object_object_add(o, "rx_packets", json_object_new_uint64(v[2]));
	json_object_object_add(o, "tx_packets", json_object_new_uint64(v[3]));
	json_object_object_add(o, "keepalives_rx", json_object_new_uint64(LOAD(p->c.keepalives_rx)));
	json_object_object_add(o, "drops", drops_json(v + 4));
	json_object_object_add(o, "handshakes", json_object_new_uint64(LOAD(p->c.handshakes)));
	json_object_object_add(o, "handshake_failures",
			       json_object_new_uint64(LOAD(p->c.handshake_failures)));
	json_object_object_add(o, "auth_failures", json_object_new_uint64(LOAD(p->c.auth_failures)));
	json_object_object_add(o, "renegotiations_refused",
			       json_object_new_uint64(LOAD(p->c.reneg_refused)));
	if (totals)
		for (size_t i = 0; i < N_TOTALS; i++)
			totals[i] += v[i];
	return o;
}

static int op_status(void *arg, struct json_object **result, char *err, size_t errlen)
{
	struct gateway *gw = arg;
	const struct gw_gen *gen = atomic_load(&gw->gen);
	uint64_t now = now_ms(), t[N_TOTALS] = { 0 };
	char a[GW_ADDRSTRLEN];
	(void)err, (void)errlen;

	for (size_t i = 0; i < gen->n_peers; i++)
		json_object_put(peer_json(gen->peers[i], now, t));
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "version", json_object_new_string(DTLSGW_VERSION));
	json_object_object_add(o, "uptime_s", json_object_new_uint64((now - start_ms) / 1000));
	json_object_object_add(o, "listen", json_object_new_string(gw_addr_str(
		(const struct sockaddr *)&gw->cfg->listen, gw->cfg->listen_len, a)));
	json_object_object_add(o, "tun", json_object_new_string(tun_name(gw->tun)));
	json_object_object_add(o, "workers", json_object_new_int((int)gw->n_workers));
	json_object_object_add(o, "peers", json_object_new_uint64(gen->n_peers));
	json_object_object_add(o, "sessions", json_object_new_uint64(smap_count(gw->map)));
	struct json_object *tt = json_object_new_object();
	json_object_object_add(tt, "rx_bytes", json_object_new_uint64(t[0]));
	json_object_object_add(tt, "tx_bytes", json_object_new_uint64(t[1]));
	json_object_object_add(tt, "rx_packets", json_object_new_uint64(t[2]));
	json_object_object_add(tt, "tx_packets", json_object_new_uint64(t[3]));
	struct json_object *d = drops_json(t + 4);
	json_object_object_add(d, "unknown_sender", json_object_new_uint64(LOAD(gw->st.unknown_dropped)));
	json_object_object_add(d, "removed_peer", json_object_new_uint64(LOAD(gw->st.removed_dropped)));
	json_object_object_add(d, "no_route", json_object_new_uint64(LOAD(gw->st.no_route)));
	json_object_object_add(d, "send_failed", json_object_new_uint64(LOAD(gw->st.tx_dropped)));
	json_object_object_add(tt, "drops", d);
	json_object_object_add(o, "totals", tt);
	json_object_object_add(o, "halfopen", json_object_new_uint64(ho_count(&gw->ho)));
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "max_sessions", json_object_new_uint64(LOAD(gw->st.sessions_refused)));
	json_object_object_add(r, "halfopen_per_address",
			       json_object_new_uint64(LOAD(gw->st.halfopen_refused)));
	json_object_object_add(r, "halfopen_evicted", json_object_new_uint64(LOAD(gw->st.halfopen_evicted)));
	json_object_object_add(r, "halfopen_timeout", json_object_new_uint64(LOAD(gw->st.halfopen_expired)));
	json_object_object_add(r, "key_changed", json_object_new_uint64(LOAD(gw->st.hs_rekeyed_refused)));
	json_object_object_add(o, "handshakes_refused", r);
	pthread_mutex_lock(&gw->hello_lock);
	uint64_t evicted = dtls_hello_area_evicted(gw->hellos);
	pthread_mutex_unlock(&gw->hello_lock);
	json_object_object_add(o, "hello_fragments", json_object_new_uint64(LOAD(gw->st.hello_fragments)));
	json_object_object_add(o, "hello_fragments_evicted", json_object_new_uint64(evicted));
	json_object_object_add(o, "reassembly_bytes", json_object_new_uint64(dtls_reassembly_bytes()));
	json_object_object_add(o, "reassembly_dropped", json_object_new_uint64(LOAD(gw->st.reasm_dropped)));
	json_object_object_add(o, "cookie_exchanges", json_object_new_uint64(LOAD(gw->st.hvr_sent)));
	json_object_object_add(o, "tun_read_errors", json_object_new_uint64(LOAD(gw->st.tun_read_errors)));
	struct json_object *off = json_object_new_object();
	json_object_object_add(off, "tun_super_in", json_object_new_uint64(LOAD(gw->st.tun_super_in)));
	json_object_object_add(off, "tun_merged_out",
			       json_object_new_uint64(LOAD(gw->st.tun_merged_out)));
	json_object_object_add(off, "udp_gso_sends", json_object_new_uint64(LOAD(gw->st.udp_gso_sends)));
	json_object_object_add(off, "udp_gro_recvs", json_object_new_uint64(LOAD(gw->st.udp_gro_recvs)));
	json_object_object_add(off, "tun_super_dropped",
			       json_object_new_uint64(LOAD(gw->st.tun_super_dropped)));
	json_object_object_add(o, "offload", off);
	*result = o;
	return 0;
}

static int op_peers(void *arg, struct json_object **result, char *err, size_t errlen)
{
	struct gateway *gw = arg;
	const struct gw_gen *gen = atomic_load(&gw->gen);
	uint64_t now = now_ms();
	(void)err, (void)errlen;
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < gen->n_peers; i++)
		json_object_array_add(a, peer_json(gen->peers[i], now, NULL));
	*result = a;
	return 0;
}

static struct gw_peer *find(struct gateway *gw, const char *name)
{
	const struct gw_gen *gen = atomic_load(&gw->gen);
	for (size_t i = 0; i < gen->n_peers; i++)
		if (strcmp(gen->peers[i]->pol.name, name) == 0)
			return gen->peers[i];
	return NULL;
}

static int op_disconnect(void *arg, const char *name, struct json_object **result, char *err,
			 size_t errlen)
{
	struct gateway *gw = arg;
	(void)result;
	struct gw_peer *p = find(gw, name);
	if (!p) {
		snprintf(err, errlen, "peer %s: no such peer", name);
		return -1;
	}
	struct gw_session *cur = gw_peer_session(p);
	if (cur) {
		gw_session_close(cur);
		gw_session_reap(cur, GW_LOG_INFO, "disconnected by dtlsgwctl");
		gw_session_put(cur);
	}
	return 0;
}

/* The whole of the file f into m; *lines gets its number of lines. */
static int copy_file(FILE *f, FILE *m, unsigned *lines)
{
	char chunk[4096];
	size_t n;
	char last = '\n';
	*lines = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		for (size_t i = 0; i < n; i++)
			*lines += chunk[i] == '\n';
		last = chunk[n - 1];
		if (fwrite(chunk, 1, n, m) != n)
			break;
	}
	if (last != '\n')
		++*lines;
	explicit_bzero(chunk, sizeof(chunk));
	return ferror(f) || ferror(m) ? -1 : 0;
}

/* The configuration file with the overlay, parsed and applied: the file as it is,
 * then the added sections; the parser leaves out the file's sections of removed peers
 * (config_parse_buffer_without(), by the name it reads, so whatever it trims before a
 * header cannot hide one from it), and its checks run on the peers that stay. */
static int apply(struct gateway *gw, const char *what, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t size = 0;
	unsigned file_lines = 0;
	FILE *m = open_memstream(&buf, &size);
	FILE *f = fopen(gw->config_path, "re");
	if (!f || !m) {
		snprintf(err, errlen, "%s: %s", gw->config_path, strerror(errno));
		if (f)
			fclose(f);
		if (m)
			fclose(m);
		free(buf);
		return -1;
	}
	int rc = copy_file(f, m, &file_lines);
	fclose(f);
	for (size_t i = 0; i < overlay.sections.n; i++)
		fprintf(m, "\n%s", overlay.sections.v[i]);
	if (fclose(m) != 0 || rc < 0) {
		snprintf(err, errlen, "%s: %s", gw->config_path,
			 rc < 0 ? "read error" : "out of memory");
		if (buf)
			explicit_bzero(buf, size);
		free(buf);
		return -1;
	}

	struct config_diags diags;
	struct gw_config *cfg = NULL;
	config_diags_init(&diags);
	rc = config_parse_buffer_without(gw->config_path, buf, size, file_lines,
					 (const char *const *)overlay.removed.v, overlay.removed.n,
					 &cfg, &diags);
	explicit_bzero(buf, size);
	free(buf);
	for (size_t i = 0; i < diags.n; i++)
		log_warnx("%s: %s", what, diags.v[i].text);
	if (rc < 0) {
		snprintf(err, errlen, "%s", diags.n ? diags.v[0].text : "invalid configuration");
		log_warnx("%s: %s is not valid; the running configuration stays", what, gw->config_path);
		config_diags_free(&diags);
		return -1;
	}
	config_diags_free(&diags);
	if (gw_apply(gw, cfg, what) < 0) {
		snprintf(err, errlen, "%s: cannot apply; the running configuration stays", what);
		return -1;
	}
	return 0;
}

static int op_add_peer(void *arg, const char *name, const struct control_kv *kv, size_t n_kv,
		       struct json_object **result, char *err, size_t errlen)
{
	struct gateway *gw = arg;
	char *ini;
	if (find(gw, name)) {
		snprintf(err, errlen, "peer %s: exists", name);
		return -1;
	}
	if (control_settings_ini(name, kv, n_kv, &ini) < 0 || list_add(&overlay.sections, ini) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (list_add(&overlay.names, strdup(name)) < 0) {
		free_secret(list_take(&overlay.sections, overlay.sections.n - 1));
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* A peer of the file removed earlier may come back: its section in the file stays
	 * dropped and the new one takes its place. */
	if (apply(gw, "add-peer", err, errlen) < 0) {
		free(list_take(&overlay.names, overlay.names.n - 1));
		free_secret(list_take(&overlay.sections, overlay.sections.n - 1));
		return -1;
	}
	struct gw_peer *p = find(gw, name);
	if (p)
		*result = peer_json(p, now_ms(), NULL);
	return 0;
}

static int op_remove_peer(void *arg, const char *name, struct json_object **result, char *err,
			  size_t errlen)
{
	struct gateway *gw = arg;
	(void)result;
	if (!find(gw, name)) {
		snprintf(err, errlen, "peer %s: no such peer", name);
		return -1;
	}
	ssize_t i = list_find(&overlay.names, name);
	if (i >= 0) {
		/* Added at run time: forget its section. */
		free(list_take(&overlay.names, (size_t)i));
		free_secret(list_take(&overlay.sections, (size_t)i));
	}
	/* And drop it from the file, if it is there (harmless when it is not). */
	if (list_find(&overlay.removed, name) < 0 && list_add(&overlay.removed, strdup(name)) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return apply(gw, "remove-peer", err, errlen);
}

static int op_reload(void *arg, struct json_object **result, char *err, size_t errlen)
{
	(void)result;
	return apply(arg, "reload", err, errlen);
}

static int op_log_level(void *arg, enum gw_log_level level, struct json_object **result,
			char *err, size_t errlen)
{
	(void)arg, (void)err, (void)errlen;
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "level", json_object_new_string(control_log_level_name(level)));
	json_object_object_add(r, "previous",
			       json_object_new_string(control_log_level_name(log_get_level())));
	log_set_level(level);
	*result = r;
	return 0;
}

static void op_log(void *arg, enum gw_log_level level, const char *msg)
{
	(void)arg;
	log_msg(level, "%s", msg);
}

const struct control_ops gw_control_ops = {
	.status = op_status,
	.peers = op_peers,
	.add_peer = op_add_peer,
	.remove_peer = op_remove_peer,
	.disconnect = op_disconnect,
	.reload = op_reload,
	.log_level = op_log_level,
	.log = op_log,
};

void gw_control_started(void)
{
	start_ms = now_ms();
}
