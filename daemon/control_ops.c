/*
 * The control socket's commands (daemon/control/control.h) over the running gateway.
 *
 * Peers added or removed at run time (add-peer, remove-peer) are an overlay on the
 * configuration file: the [peer] sections added and the names removed. Every reload
 * (SIGHUP, `reload`, and each add/remove) reads the file and checks it alone as a start
 * would, then appends the added sections, has the parser leave out the file's sections
 * of the removed peers and applies the result through gw_apply(), so the file's checks
 * (overlapping prefixes, duplicate identities) always run on the whole set that stays. The
 * overlay lasts as long as the process: the file is the place for permanent changes.
 * All of this runs on the control thread only.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
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
	case PEER_DISCONNECTED:
		return "disconnected";
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
					    "tun", "link_local" };
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
	uint64_t last_hs, last_rx = 0, err_ms, next_dial = 0;
	unsigned attempts;
	char last_err[sizeof(p->last_error)];
	const char *suite = NULL;
	char ident[PEER_PSK_IDENTITY_MAX + 1] = "";

	pthread_mutex_lock(&p->lock);
	state = p->state;
	last_hs = p->last_handshake_ms;
	err_ms = p->last_error_ms;
	memcpy(last_err, p->last_error, sizeof(last_err));
	attempts = p->attempts;
	if (state == PEER_CONNECTING)
		next_dial = p->next_dial_ms ? p->next_dial_ms : now;
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
				 LOAD(p->c.drop_no_session), LOAD(p->c.drop_tun),
				 LOAD(p->c.drop_link_local) };
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
	json_object_object_add(o, "last_error", last_err[0] ? json_object_new_string(last_err) : NULL);
	json_object_object_add(o, "last_error_at", unix_time(err_ms, now));
	json_object_object_add(o, "next_dial", unix_time(next_dial, now));
	json_object_object_add(o, "failed_dials", json_object_new_uint64(attempts));
	if (totals)
		for (size_t i = 0; i < N_TOTALS; i++)
			totals[i] += v[i];
	return o;
}

/* The gateway's counters (struct gw_stats) in the status reply: in which object (the
 * reply, totals.drops, handshakes_refused, offload), under which name. */
enum { IN_STATUS, IN_DROPS, IN_REFUSED, IN_OFFLOAD };
#define GW_COUNTER(in, name, field) { in, name, offsetof(struct gw_stats, field) }
static const struct {
	int in;
	const char *name;
	size_t off;
} gw_counters[] = {
	GW_COUNTER(IN_DROPS, "unknown_sender", unknown_dropped),
	GW_COUNTER(IN_DROPS, "removed_peer", removed_dropped),
	GW_COUNTER(IN_DROPS, "no_route", no_route),
	GW_COUNTER(IN_DROPS, "send_failed", tx_dropped),
	GW_COUNTER(IN_REFUSED, "max_sessions", sessions_refused),
	GW_COUNTER(IN_REFUSED, "halfopen_per_address", halfopen_refused),
	GW_COUNTER(IN_REFUSED, "halfopen_evicted", halfopen_evicted),
	GW_COUNTER(IN_REFUSED, "halfopen_timeout", halfopen_expired),
	GW_COUNTER(IN_REFUSED, "key_changed", hs_rekeyed_refused),
	GW_COUNTER(IN_STATUS, "hello_fragments", hello_fragments),
	GW_COUNTER(IN_STATUS, "reassembly_dropped", reasm_dropped),
	GW_COUNTER(IN_STATUS, "cookie_exchanges", hvr_sent),
	GW_COUNTER(IN_STATUS, "tun_read_errors", tun_read_errors),
	GW_COUNTER(IN_STATUS, "icmp_errors", icmp_errors),
	GW_COUNTER(IN_OFFLOAD, "tun_super_in", tun_super_in),
	GW_COUNTER(IN_OFFLOAD, "tun_merged_out", tun_merged_out),
	GW_COUNTER(IN_OFFLOAD, "udp_gso_sends", udp_gso_sends),
	GW_COUNTER(IN_OFFLOAD, "udp_gro_recvs", udp_gro_recvs),
	GW_COUNTER(IN_OFFLOAD, "tun_super_dropped", tun_super_dropped),
};

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
	struct json_object *d = drops_json(t + 4), *r = json_object_new_object();
	struct json_object *off = json_object_new_object(), *in[] = { o, d, r, off };
	for (size_t k = 0; k < sizeof(gw_counters) / sizeof(gw_counters[0]); k++) {
		const atomic_uint_fast64_t *c =
			(const atomic_uint_fast64_t *)((const char *)&gw->st + gw_counters[k].off);
		json_object_object_add(in[gw_counters[k].in], gw_counters[k].name,
				       json_object_new_uint64(LOAD(*c)));
	}
	json_object_object_add(tt, "drops", d);
	json_object_object_add(o, "totals", tt);
	json_object_object_add(o, "handshakes_refused", r);
	json_object_object_add(o, "offload", off);
	json_object_object_add(o, "halfopen", json_object_new_uint64(ho_count(&gw->ho)));
	json_object_object_add(o, "hello_fragments_evicted",
			       json_object_new_uint64(gw_hellos_evicted(gw)));
	json_object_object_add(o, "reassembly_bytes", json_object_new_uint64(dtls_reassembly_bytes()));
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
		/* A responder waits for the peer now: not dead, but disconnected (an
		 * initiator is dialling again already). */
		pthread_mutex_lock(&p->lock);
		if (p->state == PEER_DEAD && !p->cur)
			p->state = PEER_DISCONNECTED;
		pthread_mutex_unlock(&p->lock);
	}
	return 0;
}

/* The whole of the file f into m, ending with a newline (one is added after a last
 * line without); *lines gets its number of lines. */
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
	if (last != '\n') {
		++*lines;
		fputc('\n', m);
	}
	explicit_bzero(chunk, sizeof(chunk));
	return ferror(f) || ferror(m) ? -1 : 0;
}

#define CHANGE_MAX (sizeof("add-peer ") + PEER_NAME_MAX)

/* The configuration file, then the overlay's added sections, as one text. */
struct text {
	char *buf;
	size_t len, file_len;          /* all of it; the file's own bytes (buf[0..file_len)) */
	unsigned file_lines;
	struct config_origin *origins; /* the lines of each added section, index for index */
	char (*changes)[CHANGE_MAX];   /* and its origins[i].what, "add-peer NAME" */
};

static void text_free(struct text *t)
{
	if (t->buf)
		explicit_bzero(t->buf, t->len); /* may hold PSKs */
	free(t->buf);
	free(t->origins);
	free(t->changes);
}

/* The file at path, then the overlay's added sections, into t (freed with text_free()). */
static int text_read(const char *path, struct text *t, char *err, size_t errlen)
{
	size_t n = overlay.sections.n;
	const char *why = "out of memory";
	int rc = -1;

	memset(t, 0, sizeof(*t));
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	FILE *m = open_memstream(&t->buf, &t->len);
	t->origins = calloc(n + 1, sizeof(*t->origins));
	t->changes = calloc(n + 1, sizeof(*t->changes));
	if (m && t->origins && t->changes) {
		if (copy_file(f, m, &t->file_lines) < 0)
			why = "read error";
		else if (fflush(m) == 0)
			rc = 0;
	}
	fclose(f);
	t->file_len = t->len;
	/* control_settings_ini() ends every line of a section with a newline. */
	for (size_t i = 0, line = t->file_lines; rc == 0 && i < n; i++) {
		const char *s = overlay.sections.v[i];
		snprintf(t->changes[i], CHANGE_MAX, "add-peer %s", overlay.names.v[i]);
		t->origins[i].what = t->changes[i];
		t->origins[i].first = (unsigned)line + 1;
		for (; *s; s++)
			line += *s == '\n';
		t->origins[i].last = (unsigned)line;
		fputs(overlay.sections.v[i], m);
	}
	if (m && fclose(m) != 0)
		rc = -1;
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		text_free(t);
	}
	return rc;
}

/* Parses the file alone (ov NULL) or with the overlay, and logs what the parser says;
 * on an error its first one (and how many more) goes to err. */
static int parse_logged(const struct gateway *gw, const char *what, const struct text *t,
			const struct config_overlay *ov, struct gw_config **out, char *err,
			size_t errlen)
{
	struct config_diags diags;
	config_diags_init(&diags);
	int rc = ov ? config_parse_overlay(gw->config_path, t->buf, t->len, ov, out, &diags)
		    : config_parse_buffer(gw->config_path, t->buf, t->file_len, out, &diags);
	for (size_t i = 0; i < diags.n; i++)
		log_warnx("%s: %s", what, diags.v[i].text);
	if (rc < 0) {
		const char *first = NULL;
		for (size_t i = 0; i < diags.n && !first; i++)
			if (!diags.v[i].warning)
				first = diags.v[i].text;
		if (!first)
			snprintf(err, errlen, "%s: %s", gw->config_path, strerror(-rc));
		else if (diags.n_errors > 1)
			snprintf(err, errlen, "%s (and %zu more errors: see the daemon's log)", first,
				 diags.n_errors - 1);
		else
			snprintf(err, errlen, "%s", first);
		log_warnx("%s: %s is not valid; the running configuration stays", what,
			  gw->config_path);
	}
	config_diags_free(&diags);
	return rc;
}

/* The members of a reload's result, arrays of peer names by enum gw_peer_change. */
static const char *const change_names[] = {
	[GW_PEER_ADDED] = "added",
	[GW_PEER_CHANGED] = "changed",
	[GW_PEER_REMOVED] = "removed",
	[GW_PEER_UNCHANGED] = "unchanged",
};
#define NOT_STARTED "not_started" /* peers of the file removed at run time */

static void add_name(struct json_object *summary, const char *member, const char *name)
{
	struct json_object *a;
	if (json_object_object_get_ex(summary, member, &a))
		json_object_array_add(a, json_object_new_string(name));
}

static void note_change(void *arg, const char *name, enum gw_peer_change change)
{
	add_name(arg, change_names[change], name);
}

static struct json_object *summary_new(void)
{
	struct json_object *o = json_object_new_object();
	for (size_t i = 0; i < sizeof(change_names) / sizeof(change_names[0]); i++)
		json_object_object_add(o, change_names[i], json_object_new_array());
	json_object_object_add(o, NOT_STARTED, json_object_new_array());
	return o;
}

static bool has_peer(const struct gw_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_peers; i++)
		if (!strcmp(cfg->peers[i].name, name))
			return true;
	return false;
}

/* The configuration file with the overlay, checked and applied. First the file alone,
 * exactly as a start checks it: below, the parser leaves out the file's sections of
 * removed peers, but a reload must not take a file that a restart would refuse. Then
 * the file and the added sections, without the file's sections of removed peers
 * (config_parse_overlay(), by the name it reads, so whatever it trims before a header
 * cannot hide one from it); its checks run on the peers that stay, and its diagnostics
 * about an added section cite the add-peer, not a line past the end of the file.
 * *summary (if not NULL) gets what was done: the result of "reload". */
static int apply(struct gateway *gw, const char *what, struct json_object **summary, char *err,
		 size_t errlen)
{
	struct gw_config *file = NULL, *cfg = NULL;
	struct text t;
	if (text_read(gw->config_path, &t, err, errlen) < 0) {
		log_warnx("%s: %s; the running configuration stays", what, err);
		return -1;
	}
	int rc = parse_logged(gw, what, &t, NULL, &file, err, errlen);
	if (rc == 0 && (overlay.sections.n || overlay.removed.n)) {
		const struct config_overlay ov = {
			.head_lines = t.file_lines,
			.drop = (const char *const *)overlay.removed.v,
			.n_drop = overlay.removed.n,
			.origins = t.origins,
			.n_origins = overlay.sections.n,
		};
		rc = parse_logged(gw, what, &t, &ov, &cfg, err, errlen);
	} else if (rc == 0) {
		cfg = file;
		file = NULL;
	}
	text_free(&t);
	if (rc < 0) {
		config_free(file);
		return -1;
	}
	struct json_object *s = summary_new();
	for (size_t i = 0; file && i < file->n_peers; i++) {
		const char *name = file->peers[i].name;
		if (list_find(&overlay.removed, name) >= 0 && !has_peer(cfg, name)) {
			add_name(s, NOT_STARTED, name);
			log_info("%s: peer %s is in the file but was removed at run time: not started",
				 what, name);
		}
	}
	config_free(file);
	if (gw_apply(gw, cfg, gw->config_path, note_change, s) < 0) {
		snprintf(err, errlen, "%s: cannot apply; the running configuration stays", what);
		json_object_put(s);
		return -1;
	}
	json_object_object_add(s, "peers",
			       json_object_new_uint64(atomic_load(&gw->gen)->n_peers));
	if (summary)
		*summary = s;
	else
		json_object_put(s);
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
	if (apply(gw, "add-peer", NULL, err, errlen) < 0) {
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
	char *added_name = NULL, *added_section = NULL;
	(void)result;
	if (!find(gw, name)) {
		snprintf(err, errlen, "peer %s: no such peer", name);
		return -1;
	}
	ssize_t i = list_find(&overlay.names, name);
	if (i >= 0) {
		/* Added at run time: forget its section. */
		added_name = list_take(&overlay.names, (size_t)i);
		added_section = list_take(&overlay.sections, (size_t)i);
	}
	/* And drop it from the file, if it is there (harmless when it is not). */
	bool listed = list_find(&overlay.removed, name) >= 0;
	int rc = listed ? 0 : list_add(&overlay.removed, strdup(name));
	if (rc < 0)
		snprintf(err, errlen, "out of memory");
	else if ((rc = apply(gw, "remove-peer", NULL, err, errlen)) < 0 && !listed)
		free(list_take(&overlay.removed, overlay.removed.n - 1));
	if (rc == 0 || !added_name) {
		free(added_name);
		free_secret(added_section);
		return rc;
	}
	/* Not removed: the peer keeps its section (at the end, names and sections alike). */
	if (list_add(&overlay.names, added_name) < 0)
		free_secret(added_section);
	else if (list_add(&overlay.sections, added_section) < 0)
		free(list_take(&overlay.names, overlay.names.n - 1));
	return -1;
}

static int op_reload(void *arg, struct json_object **result, char *err, size_t errlen)
{
	return apply(arg, "reload", result, err, errlen);
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
