/*
 * Peers and sessions: the libdtls callbacks, the handshake admission (PSK lookup,
 * authorize), installing an established session as its peer's, reaping ended ones,
 * dialling, configuration generations, and the gateway's life cycle.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "daemon/gateway.h"
#include "daemon/holder.h"
#include "daemon/config_verify.h"
#include "daemon/suites.h"
#include "daemon/tunnel.h"
#include "daemon/udp.h"
#include "daemon/worker.h"
#include "tun/tun.h"

_Thread_local struct gw_thread *gw_tl;

/* Handshake retransmission: first wait, longest wait, give up after (ms). */
#define HS_TIMER_INITIAL 1000
#define HS_TIMER_MAX 8000
#define HS_TIMER_TOTAL 20000
/* Dial backoff: 1 s doubling up to 30 s, +-20% jitter. */
#define DIAL_BACKOFF_MIN 1000
#define DIAL_BACKOFF_MAX 30000
#define COOKIE_LIFETIME_MS 120000

static const char *const state_names[] = {
	[PEER_WAITING] = "waiting", [PEER_CONNECTING] = "connecting",
	[PEER_HANDSHAKING] = "handshaking", [PEER_UP] = "up", [PEER_DEAD] = "dead",
	[PEER_DISCONNECTED] = "disconnected",
};

const char *peer_state_name(enum peer_state st)
{
	return (unsigned)st < sizeof(state_names) / sizeof(state_names[0]) ? state_names[st] : "?";
}

static uint64_t tl_now(void)
{
	return gw_tl && gw_tl->now ? gw_tl->now : now_ms();
}

#define BUMP(ctr, n) atomic_fetch_add_explicit(&(ctr), (n), memory_order_relaxed)

/* A printable rendering of a PSK identity (sent in clear by anyone). */
static const char *identity_str(const uint8_t *id, size_t len, char *buf, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < cap; i++) {
		if (id[i] >= 0x20 && id[i] < 0x7f && id[i] != '"' && id[i] != '\\') {
			buf[o++] = (char)id[i];
		} else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[id[i] >> 4];
			buf[o++] = hex[id[i] & 15];
		}
	}
	buf[o] = '\0';
	return buf;
}

/* ---- quiescent-state reclamation ---- */

void gw_retire(struct gateway *gw, void (*fn)(void *arg), void *arg)
{
	struct gw_retired *r = malloc(sizeof(*r) + gw->n_workers * sizeof(uint64_t));

	if (!r) {
		/* Cannot wait without memory: leak rather than free under a worker. */
		log_warnx("out of memory retiring an old configuration; it is leaked");
		return;
	}
	r->fn = fn;
	r->arg = arg;
	for (unsigned i = 0; i < gw->n_workers; i++)
		r->snap[i] = worker_qs(gw->workers[i]);
	r->next = gw->retired;
	gw->retired = r;
}

static bool grace_over(const struct gateway *gw, const struct gw_retired *r)
{
	for (unsigned i = 0; i < gw->n_workers; i++) {
		/* Even: asleep (or not started) at retire time, so it cannot hold anything
		 * older; changed: it has been through a quiescent point since. */
		if ((r->snap[i] & 1) && worker_qs(gw->workers[i]) == r->snap[i])
			return false;
	}
	return true;
}

void gw_retire_poll(struct gateway *gw, bool force)
{
	struct gw_retired **pp = &gw->retired;

	while (*pp) {
		struct gw_retired *r = *pp;
		if (force || grace_over(gw, r)) {
			*pp = r->next;
			r->fn(r->arg);
			free(r);
		} else {
			pp = &r->next;
		}
	}
}

/* ---- peers ---- */

void gw_peer_ref(struct gw_peer *p)
{
	atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
}

/* Frees the packets of a ring taken out of its peer. */
static void staged_free(struct gw_staged *st)
{
	for (unsigned k = 0; k < st->n; k++)
		free(st->pkt[(st->head + k) % GW_STAGE_MAX]);
	st->n = 0;
}

/* p's ring, moved out (under p->lock). */
static struct gw_staged unstage(struct gw_peer *p)
{
	struct gw_staged st = p->staged;

	p->staged.n = p->staged.head = 0;
	return st;
}

bool gw_peer_stage(struct gw_peer *p, const uint8_t *pkt, size_t len)
{
	uint8_t *copy = len <= UINT16_MAX ? malloc(len) : NULL;
	struct gw_staged *st = &p->staged;
	bool staged = false;

	if (!copy)
		return false;
	memcpy(copy, pkt, len);
	pthread_mutex_lock(&p->lock);
	if (!p->cur && !atomic_load(&p->removed)) {
		if (st->n == GW_STAGE_MAX) {
			free(st->pkt[st->head]);
			st->head = (st->head + 1) % GW_STAGE_MAX;
			st->n--;
			BUMP(p->c.drop_no_session, 1);
		}
		unsigned i = (st->head + st->n++) % GW_STAGE_MAX;
		st->pkt[i] = copy;
		st->len[i] = (uint16_t)len;
		st->at[i] = tl_now();
		copy = NULL;
		staged = true;
	}
	pthread_mutex_unlock(&p->lock);
	free(copy);
	return staged;
}

/* The packets that waited for gs's peer, sent through gs, now up; then freed. */
static void send_staged(struct gw_session *gs, struct gw_peer *p, struct gw_staged *st)
{
	uint64_t now = tl_now();
	bool sent = false;

	if (!st->n)
		return;
	gw_session_lock(gs);
	for (unsigned k = 0; k < st->n; k++) {
		unsigned i = (st->head + k) % GW_STAGE_MAX;
		if (now - st->at[i] <= GW_STAGE_MAX_AGE_MS &&
		    dtls_session_send(gs->s, st->pkt[i], st->len[i]) == 0) {
			BUMP(p->c.tx_packets, 1);
			BUMP(p->c.tx_bytes, st->len[i]);
			sent = true;
		} else {
			BUMP(p->c.drop_no_session, 1);
		}
	}
	gw_session_unlock(gs);
	if (sent)
		atomic_store(&gs->last_tx_ms, now);
	staged_free(st);
}

void gw_peer_put(struct gw_peer *p)
{
	if (!p || atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
		return;
	staged_free(&p->staged);
	dtls_config_unref(p->dcfg);
	dtls_config_unref(atomic_load(&p->vcfg));
	peer_policy_clear(&p->pol);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

struct gw_session *gw_peer_session(struct gw_peer *p)
{
	struct gw_session *gs;

	pthread_mutex_lock(&p->lock);
	gs = p->cur;
	if (gs)
		gw_session_ref(gs);
	pthread_mutex_unlock(&p->lock);
	return gs;
}

static uint64_t backoff_ms(unsigned attempts)
{
	uint64_t d = DIAL_BACKOFF_MIN;
	uint32_t r;

	for (unsigned i = 0; i < attempts && d < DIAL_BACKOFF_MAX; i++)
		d *= 2;
	if (d > DIAL_BACKOFF_MAX)
		d = DIAL_BACKOFF_MAX;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)now_ms();
	return d * (80 + r % 41) / 100; /* +-20% */
}

/* Joins the settings every session config shares, with the suites given. */
static int config_common(struct dtls_config *d, const struct gw_config *cfg,
			 const struct gw_suites *suites)
{
	int rc;

	if ((rc = gw_suites_apply(d, suites)) < 0)
		return rc;
	if ((rc = dtls_config_set_mtu(d, cfg->mtu)) < 0 ||
	    (rc = dtls_config_set_timers(d, HS_TIMER_INITIAL, HS_TIMER_MAX, HS_TIMER_TOTAL)) < 0) {
		log_warnx("mtu %u: %s", cfg->mtu, dtls_strerror(rc));
		return -EINVAL;
	}
	return 0;
}

static int add_trusted(struct dtls_config *d, const char *file, const char *who)
{
	char msg[300] = "";

	if (gw_add_trusted(d, file, msg, sizeof(msg)) < 0) {
		log_warnx("%s: ca: %s", who, msg);
		return -EINVAL;
	}
	return 0;
}

/* The gateway's certificate and key, loaded as --check loads them (config_verify.c). */
static int add_local_cert(struct dtls_config *d, const struct gw_config *cfg)
{
	char msg[300] = "";
	enum gw_cert_part part;

	if (gw_add_local_cert(d, cfg->cert, cfg->key, msg, sizeof(msg), &part) < 0) {
		log_warnx("gateway %s: %s", part == GW_CERT_PART_KEY ? "key" : "cert", msg);
		return -EINVAL;
	}
	return 0;
}

static void config_unref_cb(void *arg)
{
	dtls_config_unref(arg);
}

/* p->vcfg for its CAs now (NULL for PSK and pin-only peers); the old one is retired. */
static int set_verify_config(struct gw_peer *p, const struct gw_config *cfg)
{
	const struct peer_policy *pol = &p->pol;
	char *const *files = pol->cert.ca_files;
	size_t nf = pol->cert.n_ca_files;
	struct dtls_config *v = NULL, *old;
	char who[64];

	if (!nf && cfg->ca) {
		files = &cfg->ca;
		nf = 1;
	}
	if (pol->auth == PEER_AUTH_CERT && nf) {
		snprintf(who, sizeof(who), "peer %s", pol->name);
		if (!(v = dtls_config_new()))
			return -ENOMEM;
		for (size_t i = 0; i < nf; i++)
			if (add_trusted(v, files[i], who) < 0) {
				dtls_config_unref(v);
				return -EINVAL;
			}
	}
	old = atomic_exchange(&p->vcfg, v);
	if (old)
		gw_retire(p->gw, config_unref_cb, old);
	return 0;
}

int gw_peer_configure(struct gw_peer *p, const struct gw_config *cfg)
{
	const struct peer_policy *pol = &p->pol;
	struct dtls_config *d = NULL;
	struct gw_suites suites;
	char who[64];
	int rc = 0;

	/* dead_after is the gateway's (default 3 x keepalive; 0: never). A peer whose own
	 * keepalive is as long or longer gets 3 of its intervals instead. */
	p->keepalive_ms = (uint64_t)pol->keepalive * 1000;
	p->dead_after_ms = (uint64_t)cfg->dead_after * 1000;
	if (cfg->dead_after && pol->keepalive && cfg->dead_after <= pol->keepalive)
		p->dead_after_ms = 3 * (uint64_t)pol->keepalive * 1000;
	if ((rc = set_verify_config(p, cfg)) < 0)
		return rc;
	if (!pol->has_endpoint)
		goto done; /* a responder: sessions come from the shared server config */
	if (!(d = dtls_config_new()))
		return -ENOMEM;
	snprintf(who, sizeof(who), "peer %s", pol->name);
	gw_suites_of_peer(cfg, pol, &suites);
	if ((rc = config_common(d, cfg, &suites)) < 0)
		goto fail;
	if (pol->auth == PEER_AUTH_PSK) {
		rc = dtls_config_add_psk(d, pol->psk.identity, pol->psk.identity_len, pol->psk.key,
					 pol->psk.key_len);
		if (rc < 0) {
			log_warnx("%s: PSK: %s", who, dtls_strerror(rc));
			rc = -EINVAL;
			goto fail;
		}
	} else {
		if (!cfg->cert || !cfg->key) {
			log_warnx("%s: a certificate peer needs the gateway's cert and key", who);
			rc = -EINVAL;
			goto fail;
		}
		if ((rc = add_local_cert(d, cfg)) < 0)
			goto fail;
		for (size_t i = 0; i < pol->cert.n_ca_files; i++)
			if ((rc = add_trusted(d, pol->cert.ca_files[i], who)) < 0)
				goto fail;
		if (!pol->cert.n_ca_files && cfg->ca && (rc = add_trusted(d, cfg->ca, who)) < 0)
			goto fail;
		if (pol->cert.has_pin && (rc = dtls_config_pin_sha256(d, pol->cert.pin_sha256)) < 0) {
			rc = -EINVAL;
			goto fail;
		}
	}
done:
	dtls_config_unref(p->dcfg);
	p->dcfg = d;
	return 0;
fail:
	dtls_config_unref(d);
	return rc;
}

static struct gw_peer *peer_new(struct gateway *gw, const struct peer_policy *pol,
				const struct gw_config *cfg)
{
	/* Its counters are cache-line aligned: so is the peer. */
	size_t size = (sizeof(struct gw_peer) + 63) & ~(size_t)63;
	struct gw_peer *p = aligned_alloc(64, size);

	if (!p)
		return NULL;
	memset(p, 0, size);
	atomic_init(&p->refs, 1);
	p->gw = gw;
	pthread_mutex_init(&p->lock, NULL);
	if (peer_policy_copy(&p->pol, pol) < 0 || gw_peer_configure(p, cfg) < 0) {
		gw_peer_put(p);
		return NULL;
	}
	p->state = pol->has_endpoint ? PEER_CONNECTING : PEER_WAITING;
	return p;
}

bool gw_policy_equal(const struct peer_policy *a, const struct peer_policy *b)
{
	if (strcmp(a->name, b->name) || a->auth != b->auth || a->n_allowed != b->n_allowed ||
	    a->has_endpoint != b->has_endpoint || a->keepalive != b->keepalive ||
	    a->n_suites != b->n_suites || memcmp(a->suites, b->suites, a->n_suites * sizeof(a->suites[0])))
		return false;
	if (a->has_endpoint && (a->endpoint_len != b->endpoint_len ||
				memcmp(&a->endpoint, &b->endpoint, a->endpoint_len)))
		return false;
	for (size_t i = 0; i < a->n_allowed; i++)
		if (prefix_cmp(&a->allowed[i], &b->allowed[i]))
			return false;
	if (a->auth == PEER_AUTH_PSK)
		return a->psk.identity_len == b->psk.identity_len &&
		       !memcmp(a->psk.identity, b->psk.identity, a->psk.identity_len) &&
		       a->psk.key_len == b->psk.key_len &&
		       !memcmp(a->psk.key, b->psk.key, a->psk.key_len);
	if (a->auth == PEER_AUTH_CERT) {
		const struct peer_cert *x = &a->cert, *y = &b->cert;
		if (x->n_ca_files != y->n_ca_files || x->has_pin != y->has_pin ||
		    (x->has_pin && memcmp(x->pin_sha256, y->pin_sha256, PEER_PIN_LEN)) ||
		    !!x->cn != !!y->cn || (x->cn && strcmp(x->cn, y->cn)) || !!x->san != !!y->san ||
		    (x->san && strcmp(x->san, y->san)))
			return false;
		for (size_t i = 0; i < x->n_ca_files; i++)
			if (strcmp(x->ca_files[i], y->ca_files[i]))
				return false;
	}
	return true;
}

/* Whether the authenticated certificate of s satisfies every constraint of p. */
static bool cert_matches(const struct peer_policy *p, const struct dtls_session *s)
{
	uint8_t pin[PEER_PIN_LEN];

	if (p->auth != PEER_AUTH_CERT || (!p->cert.cn && !p->cert.san && !p->cert.has_pin))
		return false;
	if (p->cert.cn && !dtls_session_peer_has_cn(s, p->cert.cn))
		return false;
	if (p->cert.san && !dtls_session_peer_has_san(s, p->cert.san))
		return false;
	if (p->cert.has_pin &&
	    (!dtls_session_peer_pin(s, pin) || memcmp(pin, p->cert.pin_sha256, PEER_PIN_LEN)))
		return false;
	return true;
}

/* Appends "KEY \"NAME\" WHAT" to out[0..cap) at *off, after ", " unless out ends in a
 * blank there (the first of a list); nothing if out is NULL. */
static void explain(char *out, size_t cap, size_t *off, const char *key, const char *name,
		    const char *what)
{
	if (!out || *off >= cap)
		return;
	int w = snprintf(out + *off, cap - *off, "%s%s%s%s%s %s", *off && out[*off - 1] != ' ' ?
			 ", " : "", key, name ? " \"" : "", name ? name : "", name ? "\"" : "", what);
	*off += w > 0 ? (size_t)w : 0;
}

/* How many of cert peer p's constraints (cert_cn, cert_san, cert_pin_sha256) the peer
 * certificate of s meets; with out, each one said in words ("cert_cn \"x\" is not its
 * CN"), appended at *off. */
static unsigned cert_explain(const struct peer_policy *p, const struct dtls_session *s,
			     const uint8_t pin[static PEER_PIN_LEN], bool have_pin, char *out,
			     size_t cap, size_t *off)
{
	unsigned met = 0;
	bool ok;

	if (p->cert.cn) {
		met += ok = dtls_session_peer_has_cn(s, p->cert.cn);
		explain(out, cap, off, "cert_cn", p->cert.cn, ok ? "matches" :
			dtls_session_peer_has_name(s, p->cert.cn) ?
			"is one of its names but not its CN" : "is not its CN");
	}
	if (p->cert.san) {
		met += ok = dtls_session_peer_has_san(s, p->cert.san);
		explain(out, cap, off, "cert_san", p->cert.san, ok ? "matches" :
			dtls_session_peer_has_name(s, p->cert.san) ?
			"is one of its names but not a DNS or IP SAN" : "is none of its SANs");
	}
	if (p->cert.has_pin) {
		met += ok = have_pin && memcmp(pin, p->cert.pin_sha256, PEER_PIN_LEN) == 0;
		explain(out, cap, off, "cert_pin_sha256", NULL, ok ? "matches" : "is another key");
	}
	return met;
}

/* Why the peer certificate of s matches none of gen's peers, for the log: its key pin
 * and the nearest certificate peer (the one whose constraints it meets most, the first
 * of equals), constraint by constraint. */
static const char *cert_no_match(const struct gw_gen *gen, const struct dtls_session *s,
				 char *buf, size_t cap)
{
	uint8_t pin[PEER_PIN_LEN];
	bool have_pin = dtls_session_peer_pin(s, pin);
	const struct peer_policy *best = NULL;
	unsigned best_met = 0;
	size_t off = 0;

	for (size_t i = 0; i < gen->n_peers; i++) {
		const struct peer_policy *p = &gen->peers[i]->pol;
		if (p->auth != PEER_AUTH_CERT || atomic_load(&gen->peers[i]->removed))
			continue;
		unsigned met = cert_explain(p, s, pin, have_pin, NULL, 0, NULL);
		if (!best || met > best_met) {
			best = p;
			best_met = met;
		}
	}
	off = dtls_session_peer_names(s, buf, cap); /* what it says it is */
	if (have_pin && off + 1 < cap) {
		int w = snprintf(buf + off, cap - off, "%sits key has cert_pin_sha256 ",
				 off ? "; " : "");
		off += w > 0 ? (size_t)w : 0;
		for (size_t i = 0; i < PEER_PIN_LEN && off + 2 < cap; i++)
			off += (size_t)snprintf(buf + off, cap - off, "%02x", pin[i]);
	}
	if (off < cap) {
		if (!best) {
			snprintf(buf + off, cap - off, "%sno peer is identified by certificate",
				 off ? "; " : "");
		} else {
			int w = snprintf(buf + off, cap - off, "%snearest peer %s: ", off ? "; " : "",
					 best->name);
			off += w > 0 ? (size_t)w : 0;
			if (off < cap)
				cert_explain(best, s, pin, have_pin, buf, cap, &off);
		}
	}
	return buf;
}

/* ---- sessions: the libdtls callbacks (called under the session lock) ---- */

static void cb_send(void *arg, const uint8_t *d, size_t n)
{
	struct gw_session *gs = arg;
	struct gateway *gw = gs->gw;
	int fd = gw_tl ? gw_tl->udp_fd : gw->ctl.udp_fd;

	if (udp_send(fd, d, n, (const struct sockaddr *)&gs->addr, gs->addr_len) < 0) {
		char a[GW_ADDRSTRLEN];
		int e = errno;
		log_ratelimited(&gw->rl_send, GW_LOG_WARNING, "send to %s: %s",
				gw_addr_str((const struct sockaddr *)&gs->addr, gs->addr_len, a),
				strerror(e));
	}
}

static void cb_data(void *arg, const uint8_t *d, size_t n)
{
	struct gw_session *gs = arg;
	struct gw_peer *p = atomic_load_explicit(&gs->peer, memory_order_relaxed);

	if (!p)
		return; /* cannot happen: data comes after authorize */
	if (atomic_load_explicit(&p->removed, memory_order_relaxed)) {
		/* Removed or replaced by a reload or remove-peer: its session lingers only
		 * for the close_notify, and nothing it sends may reach TUN meanwhile. */
		BUMP(gs->gw->st.removed_dropped, 1);
		return;
	}
	if (n == 0) {
		BUMP(p->c.keepalives_rx, 1);
		return;
	}
	if (!policy_source_allowed(&p->pol, d, n)) {
		struct ip_addrs ia;
		char src[INET6_ADDRSTRLEN] = "(not an IP packet)";
		bool ok = ip_packet_addrs(d, n, &ia) == 0;
		if (ok)
			inet_ntop(ia.family, ia.src, src, sizeof(src));
		if (ok && ip_addr_link_local(ia.family, ia.src)) {
			/* The peer's own link talking (ICMPv6 redirects from a hub): expected,
			 * harmless, not worth a warning. */
			BUMP(p->c.drop_link_local, 1);
			log_ratelimited(&p->rl_link_local, GW_LOG_DEBUG,
					"peer %s: link-local drop: source %s", p->pol.name, src);
			return;
		}
		BUMP(p->c.drop_policy, 1);
		log_ratelimited(&p->rl_policy, GW_LOG_WARNING,
				"peer %s: policy drop: source %s outside allowed prefixes",
				p->pol.name, src);
		return;
	}
	BUMP(p->c.rx_packets, 1);
	BUMP(p->c.rx_bytes, n);
	if (!gw_tl || gw_tl->tun_fd < 0 || !gw_tl->w)
		return;
	worker_tun_write(gw_tl->w, p, d, n);
}

static void cb_established(void *arg)
{
	struct gw_session *gs = arg;
	struct gw_peer *p = atomic_load(&gs->peer);
	const char *suite = dtls_suite_name(dtls_session_suite(gs->s));
	char a[GW_ADDRSTRLEN];

	gw_addr_str((const struct sockaddr *)&gs->addr, gs->addr_len, a);
	if (dtls_session_handshakes(gs->s) > 1)
		log_info("peer %s: renegotiated (%s) with %s", p ? p->pol.name : "?",
			 suite ? suite : "?", a);
	else
		log_info("peer %s: handshake done (%s) %s %s", p ? p->pol.name : "?",
			 suite ? suite : "?", gs->client ? "with" : "from", a);
	if (dtls_session_max_payload(gs->s) < gs->gw->tun_mtu)
		log_warnx("peer %s: %s carries at most %zu bytes per record, less than the "
			  "tunnel MTU %u: larger packets will be dropped", p ? p->pol.name : "?",
			  suite ? suite : "?", dtls_session_max_payload(gs->s), gs->gw->tun_mtu);
	atomic_fetch_or(&gs->events, GW_EV_ESTABLISHED);
}

static void cb_ended(void *arg, int err)
{
	struct gw_session *gs = arg;

	gs->end_err = err;
	atomic_fetch_or(&gs->events, GW_EV_ENDED);
}

/* Whether the PSK handshake of gs was keyed with p's key, p still configured (under
 * gs's lock). A gw_peer's policy, its key included, never changes (a reload that changes
 * the key makes a new gw_peer and removes the old), so the same peer is the same key. */
static bool keyed_as(const struct gw_session *gs, const struct gw_peer *p)
{
	return atomic_load(&gs->hs_peer) == p && !atomic_load(&p->removed);
}

/* Whether peer p may use suite: its own ciphers, else the gateway's of gen. */
static bool suite_allowed(const struct gw_gen *gen, const struct gw_peer *p, uint16_t suite)
{
	return p->pol.n_suites ? gw_suite_in(p->pol.suites, p->pol.n_suites, suite)
			       : gw_suites_has(&gen->suites, suite);
}

static int cb_authorize(void *arg, struct dtls_session *s)
{
	struct gw_session *gs = arg;
	struct gateway *gw = gs->gw;
	struct gw_peer *p = atomic_load(&gs->peer), *found = NULL;
	const struct gw_gen *gen;
	const uint8_t *id;
	size_t idlen;
	char a[GW_ADDRSTRLEN], q[300], why[1024];

	gw_addr_str((const struct sockaddr *)&gs->addr, gs->addr_len, a);
	if (gs->client) {
		/* We dialled p: a PSK proves itself; a certificate must be p's. */
		if (p->pol.auth == PEER_AUTH_CERT && !cert_matches(&p->pol, s)) {
			log_warnx("peer %s: certificate from %s does not match its cert_cn, "
				  "cert_san or cert_pin_sha256", p->pol.name, a);
			return DTLS_ERR_ACCESS_DENIED;
		}
		return 0;
	}
	gen = atomic_load(&gw->gen);
	id = dtls_session_psk_identity(s, &idlen);
	if (id) {
		const struct peer_policy *pol = policy_find_psk(gen->set, id, idlen);
		found = pol ? gw_gen_peer(gen, pol) : NULL;
	} else {
		for (size_t i = 0; i < gen->n_peers && !found; i++)
			if (cert_matches(&gen->peers[i]->pol, s))
				found = gen->peers[i];
	}
	if (!found || atomic_load(&found->removed)) {
		if (id)
			log_ratelimited(&gw->rl_hs_fail, GW_LOG_WARNING,
					"refused handshake from %s: PSK identity \"%s\" is no "
					"configured peer", a, identity_str(id, idlen, q, sizeof(q)));
		else
			log_ratelimited(&gw->rl_hs_fail, GW_LOG_WARNING,
					"refused handshake from %s: certificate matches no "
					"configured peer (%s)", a,
					cert_no_match(gen, s, why, sizeof(why)));
		return DTLS_ERR_ACCESS_DENIED;
	}
	/* The server offers every peer's suites: this one must be in this peer's list. */
	uint16_t suite = dtls_session_suite(s);
	if (!suite_allowed(gen, found, suite)) {
		const char *sn = dtls_suite_name(suite);
		log_ratelimited(&found->rl_auth, GW_LOG_WARNING,
				"refused handshake from %s as peer %s: suite %s is not in its "
				"ciphers", a, found->pol.name, sn ? sn : "?");
		return DTLS_ERR_ACCESS_DENIED;
	}
	if (id && !keyed_as(gs, found)) {
		/* Keyed under a key that a reload has replaced since, or as another peer:
		 * whoever holds an old key must not get in by holding back its Finished. */
		BUMP(gw->st.hs_rekeyed_refused, 1);
		log_ratelimited(&found->rl_auth, GW_LOG_WARNING,
				"refused handshake from %s as peer %s: it was keyed with a PSK "
				"that a reload has replaced or removed since", a, found->pol.name);
		return DTLS_ERR_ACCESS_DENIED;
	}
	/* The server trusts the CAs of all its peers: the chain must come from this one's. */
	struct dtls_config *v = id ? NULL : atomic_load(&found->vcfg);
	int rc = v ? dtls_session_peer_verify(s, v) : 0;
	if (rc < 0) {
		log_ratelimited(&gw->rl_hs_fail, GW_LOG_WARNING,
				"refused handshake from %s: certificate matches peer %s but does "
				"not verify against its ca (%s)", a, found->pol.name, dtls_strerror(rc));
		return DTLS_ERR_ACCESS_DENIED;
	}
	if (p) {
		/* A renegotiation must not change who the peer is. */
		if (p != found) {
			log_warnx("peer %s: renegotiation from %s as peer %s refused", p->pol.name, a,
				  found->pol.name);
			return DTLS_ERR_ACCESS_DENIED;
		}
		return 0;
	}
	gw_peer_ref(found);
	atomic_store(&gs->peer, found);
	ho_leave(&gw->ho, gs); /* authenticated: no longer half-open */
	return 0;
}

static const struct dtls_callbacks session_callbacks = {
	.send = cb_send,
	.data = cb_data,
	.established = cb_established,
	.ended = cb_ended,
	.authorize = cb_authorize,
};

/*
 * Server side: the key of a PSK identity, from the current generation. The session
 * being fed (the caller holds its lock) is bound to that peer and key: authorize admits
 * nothing else, whatever a reload changes before the client's Finished comes.
 */
static int cb_psk_lookup(void *arg, void *session_arg, const uint8_t *identity,
			 size_t identity_len, uint8_t key[DTLS_MAX_PSK_LEN])
{
	struct gateway *gw = arg;
	struct gw_session *gs = session_arg;
	const struct gw_gen *gen = atomic_load(&gw->gen);
	const struct peer_policy *pol = policy_find_psk(gen->set, identity, identity_len);
	struct gw_peer *p = pol ? gw_gen_peer(gen, pol) : NULL, *old;
	char a[GW_ADDRSTRLEN] = "?", q[300];

	if (!gs || gs->client)
		return -1; /* cannot happen: lookups come from the server sessions of gw */
	if (!p || atomic_load(&p->removed) || pol->psk.key_len > DTLS_MAX_PSK_LEN) {
		gw_addr_str((const struct sockaddr *)&gs->addr, gs->addr_len, a);
		log_ratelimited(&gw->rl_psk, GW_LOG_WARNING, "unknown PSK identity \"%s\" from %s",
				identity_str(identity, identity_len, q, sizeof(q)), a);
		return -1;
	}
	gw_peer_ref(p);
	old = atomic_exchange(&gs->hs_peer, p);
	gw_peer_put(old);
	memcpy(key, pol->psk.key, pol->psk.key_len);
	return (int)pol->psk.key_len;
}

/* ---- sessions ---- */

static void session_release(struct smap_node *n)
{
	struct gw_session *gs = gw_session_of(n);

	gw_session_put(atomic_load(&gs->prev)); /* normally taken by install or reap */
	dtls_session_free(gs->s);
	gw_peer_put(atomic_load(&gs->peer));
	gw_peer_put(atomic_load(&gs->hs_peer));
	pthread_mutex_destroy(&gs->lock);
	free(gs);
}

static struct gw_session *session_alloc(struct gateway *gw, const struct sockaddr *addr,
					socklen_t len, bool client)
{
	struct gw_session *gs = calloc(1, sizeof(*gs));

	if (!gs)
		return NULL;
	if (len > sizeof(gs->addr) || smap_node_init(&gs->node, addr, len, session_release) < 0) {
		free(gs);
		return NULL;
	}
	gs->gw = gw;
	memcpy(&gs->addr, addr, len);
	gs->addr_len = len;
	gs->client = client;
	gs->created_ms = tl_now();
	pthread_mutex_init(&gs->lock, NULL);
	atomic_init(&gs->next_due, UINT64_MAX);
	atomic_init(&gs->state, DTLS_STATE_HANDSHAKING);
	return gs;
}

void gw_session_lock(struct gw_session *gs)
{
	pthread_mutex_lock(&gs->lock);
}

void gw_session_unlock(struct gw_session *gs)
{
	uint64_t due = dtls_session_next_timeout(gs->s);
	int state = (int)dtls_session_state(gs->s);

	/* Stored only when they change: unlocks come once per batch on every worker. */
	if (atomic_load_explicit(&gs->next_due, memory_order_relaxed) != due)
		atomic_store_explicit(&gs->next_due, due, memory_order_relaxed);
	if (atomic_load_explicit(&gs->state, memory_order_relaxed) != state)
		atomic_store_explicit(&gs->state, state, memory_order_relaxed);
	pthread_mutex_unlock(&gs->lock);
}

static bool is_peer_cur(struct gw_session *gs)
{
	struct gw_peer *p = atomic_load(&gs->peer);
	bool is_cur = false;

	if (p) {
		pthread_mutex_lock(&p->lock);
		is_cur = p->cur == gs;
		pthread_mutex_unlock(&p->lock);
	}
	return is_cur;
}

/* gs->prev, taken out of gs: the caller owns the reference. */
static struct gw_session *take_prev(struct gw_session *gs)
{
	struct gw_session *prev;

	if (!atomic_load(&gs->prev))
		return NULL;
	pthread_mutex_lock(&gs->lock);
	prev = atomic_exchange(&gs->prev, NULL);
	pthread_mutex_unlock(&gs->lock);
	return prev;
}

/*
 * A session that lost its place in the map to a new handshake from its address (old:
 * the map's reference, which this takes). Returns the working session the new one must
 * stand in for, with a reference: old itself if it is its peer's current session (it
 * keeps carrying our packets and, through gw_session_route, the peer's, until the new
 * one is up or gone), or the one old stood in for; any other session is dropped now.
 */
static struct gw_session *superseded(struct gw_session *old)
{
	struct gw_session *prev;

	if (is_peer_cur(old))
		return old;
	prev = take_prev(old);
	gw_session_reap(old, GW_LOG_DEBUG, "superseded by a new handshake");
	gw_session_put(old);
	return prev;
}

/* The handshake gs stood in for prev's address failed: prev, still its peer's working
 * session, gets the address back (unless another session has taken it meanwhile). */
static void restore_prev(struct gw_session *gs, struct gw_session *prev)
{
	struct gateway *gw = gs->gw;

	if (atomic_load(&prev->reaped) || !is_peer_cur(prev) ||
	    smap_insert(gw->map, &prev->node) < 0)
		return;
	/* Reaped between the check and the insert: its reap found nothing to unlink. */
	if (atomic_load(&prev->reaped))
		(void)smap_remove(gw->map, &prev->node);
	else
		log_debug("the working session has its address back");
}

struct gw_session *gw_session_route(struct gw_session *gs, const uint8_t *d, size_t n)
{
	struct gw_session *prev;

	/* Application data, or an alert under an epoch above 0: the working session's. */
	if (!atomic_load_explicit(&gs->prev, memory_order_relaxed) || n < 13 ||
	    !(d[0] == 23 || (d[0] == 21 && (d[3] | d[4]))))
		return gs;
	pthread_mutex_lock(&gs->lock);
	prev = atomic_load(&gs->prev);
	if (prev && !atomic_load(&prev->reaped))
		gw_session_ref(prev);
	else
		prev = NULL;
	pthread_mutex_unlock(&gs->lock);
	if (!prev)
		return gs;
	gw_session_put(gs);
	return prev;
}

/* Whether the new server session gs fits the half-open budget (refusals and
 * evictions counted and logged). */
static bool halfopen_admit(struct gateway *gw, struct gw_session *gs)
{
	struct gw_session *evicted;
	char a[GW_ADDRSTRLEN];
	int rc = ho_admit(&gw->ho, gs, &evicted);

	gw_addr_str((const struct sockaddr *)&gs->addr, gs->addr_len, a);
	if (rc == -EAGAIN) {
		BUMP(gw->st.halfopen_refused, 1);
		log_ratelimited(&gw->rl_halfopen, GW_LOG_WARNING,
				"refused a handshake from %s: its address has %u handshakes "
				"in progress (max_halfopen_per_address)", a,
				atomic_load(&gw->ho.max_per_addr));
		return false;
	}
	if (rc < 0) {
		log_ratelimited(&gw->rl_limit, GW_LOG_WARNING, "no memory for a session from %s", a);
		return false;
	}
	if (evicted) {
		BUMP(gw->st.halfopen_evicted, 1);
		log_ratelimited(&gw->rl_halfopen, GW_LOG_WARNING,
				"%u handshakes in progress (max_halfopen): the oldest is dropped "
				"for the one from %s", atomic_load(&gw->ho.max), a);
		gw_session_reap(evicted, GW_LOG_DEBUG, "handshake dropped for a newer one");
		gw_session_put(evicted);
	}
	return true;
}

struct gw_session *gw_session_accept(struct gateway *gw, const struct gw_gen *gen,
				     const struct sockaddr *from, socklen_t from_len,
				     const uint8_t *hello, size_t len, bool replace)
{
	struct gw_session *gs = session_alloc(gw, from, from_len, false);
	struct smap_node *old = NULL;
	char a[GW_ADDRSTRLEN];

	if (gs)
		gs->s = dtls_session_new_server(gen->server_cfg, &session_callbacks, gs, from, from_len);
	if (!gs || !gs->s) {
		log_ratelimited(&gw->rl_limit, GW_LOG_WARNING, "no memory for a session from %s",
				gw_addr_str(from, from_len, a));
		if (gs)
			gw_session_put(gs);
		return NULL;
	}
	(void)dtls_hello_classify(hello, len, gs->hello_random);
	if (!halfopen_admit(gw, gs)) {
		gw_session_put(gs);
		return NULL;
	}
	if ((replace ? smap_replace(gw->map, &gs->node, &old) : smap_insert(gw->map, &gs->node)) < 0) {
		ho_leave(&gw->ho, gs);
		gw_session_put(gs); /* someone was quicker: theirs stands */
		return NULL;
	}
	if (old) {
		struct gw_session *prev = superseded(gw_session_of(old));
		if (prev) {
			pthread_mutex_lock(&gs->lock);
			atomic_store(&gs->prev, prev);
			pthread_mutex_unlock(&gs->lock);
		}
	}
	log_debug("handshake from %s: session created", gw_addr_str(from, from_len, a));
	return gs;
}

void gw_session_close(struct gw_session *gs)
{
	atomic_store(&gs->closed_by_us, true);
	gw_session_lock(gs);
	GW_IGNORE(dtls_session_close(gs->s, tl_now())); /* a failure ends it: reaped below */
	gw_session_unlock(gs);
	gw_session_after(gs);
}

/* gs completed a handshake: make it the session of its peer. */
static void install(struct gw_session *gs)
{
	struct gw_peer *p = atomic_load(&gs->peer);
	struct gateway *gw = gs->gw;
	struct gw_session *old = NULL, *abandoned = NULL;
	struct gw_staged staged;

	/* Up: the session it stood in for is its peer's old one (dropped below). */
	gw_session_put(take_prev(gs));
	if (!p) {
		gw_session_reap(gs, GW_LOG_WARNING, "established without an identity; dropped");
		return;
	}
	pthread_mutex_lock(&p->lock);
	if (atomic_load(&p->removed) || atomic_load(&gw->stopping) ||
	    atomic_load(&gs->reaped)) {
		pthread_mutex_unlock(&p->lock);
		gw_session_close(gs);
		return;
	}
	if (p->cur == gs) { /* a renegotiation */
		pthread_mutex_unlock(&p->lock);
		return;
	}
	old = p->cur;
	gw_session_ref(gs);
	p->cur = gs;
	if (p->dialing && p->dialing != gs)
		abandoned = p->dialing; /* the peer dialled us first: ours is not needed */
	else if (p->dialing == gs)
		gw_session_put(gs);
	p->dialing = NULL;
	p->state = PEER_UP;
	p->last_handshake_ms = tl_now();
	p->attempts = 0;
	/* The dialling side's first record (its first packet, else an empty one at the next
	 * tick) tells the other side that its last flight arrived; the other side has
	 * nothing to say until its keepalive interval is over. */
	if (!gs->client)
		atomic_store(&gs->last_tx_ms, p->last_handshake_ms);
	memcpy(&p->endpoint, &gs->addr, gs->addr_len);
	p->endpoint_len = gs->addr_len;
	BUMP(p->c.handshakes, 1);
	staged = unstage(p);
	pthread_mutex_unlock(&p->lock);

	send_staged(gs, p, &staged);

	if (old) {
		/* A session still in the map gets a close_notify; one that lost its address
		 * to this one (the peer restarted) has nobody left to tell. */
		if (smap_linked(gw->map, &old->node))
			gw_session_close(old);
		else
			gw_session_reap(old, GW_LOG_DEBUG, "replaced by the new session");
		gw_session_put(old);
	}
	if (abandoned) {
		gw_session_close(abandoned);
		gw_session_put(abandoned);
	}
}

void gw_reneg_account(struct gw_peer *p, struct gw_session *gs,
		      const struct dtls_session_stats *st)
{
	uint64_t seen = atomic_exchange(&gs->reneg_seen, st->renegotiations_refused);

	if (st->renegotiations_refused <= seen)
		return;
	BUMP(p->c.reneg_refused, st->renegotiations_refused - seen);
	log_ratelimited(&p->rl_auth, GW_LOG_WARNING,
			"peer %s: refused %llu renegotiations beyond %u a minute", p->pol.name,
			(unsigned long long)(st->renegotiations_refused - seen),
			DTLS_DEFAULT_RENEGOTIATION_MAX);
}

/* gs is gone: if it was its peer's, the peer goes back to waiting or dialling. */
static void detach(struct gw_peer *p, struct gw_session *gs, bool redial_now,
		   const struct dtls_session_stats *st)
{
	struct gateway *gw = gs->gw;
	bool was_cur, was_dial;
	uint64_t now = tl_now();

	pthread_mutex_lock(&p->lock);
	was_cur = p->cur == gs;
	was_dial = p->dialing == gs;
	if (was_cur)
		p->cur = NULL;
	if (was_dial)
		p->dialing = NULL;
	if ((was_cur || was_dial) && !p->cur && !p->dialing) {
		if (p->pol.has_endpoint && !atomic_load(&p->removed) && !atomic_load(&gw->stopping)) {
			p->state = PEER_CONNECTING;
			if (was_cur && redial_now)
				p->next_dial_ms = now;
			else
				p->next_dial_ms = now + backoff_ms(p->attempts++);
		} else {
			p->state = was_cur && redial_now ? PEER_DEAD : PEER_WAITING;
		}
	}
	if (was_dial)
		BUMP(p->c.handshake_failures, 1);
	if (st) {
		BUMP(p->c.drop_mac, st->dropped_mac);
		BUMP(p->c.drop_replay, st->dropped_replay);
	}
	pthread_mutex_unlock(&p->lock);
	if (st)
		gw_reneg_account(p, gs, st);
	if (was_cur)
		gw_session_put(gs);
	if (was_dial)
		gw_session_put(gs);
}

/* Keeps msg as p's last error (dtlsgwctl peer shows it). */
static void note_error(struct gw_peer *p, const char *msg)
{
	size_t n = strnlen(msg, sizeof(p->last_error) - 1); /* a longer one is cut */

	pthread_mutex_lock(&p->lock);
	memcpy(p->last_error, msg, n);
	p->last_error[n] = '\0';
	p->last_error_ms = tl_now();
	pthread_mutex_unlock(&p->lock);
}

/* One log line saying why a session ended (and, for an error, p's last error). p: its
 * peer; named: for a handshake that failed before authorize, the peer whose PSK identity
 * it named (anyone can). */
static void log_end(struct gw_session *gs, struct gw_peer *p, struct gw_peer *named, int err,
		    int peer_alert, int sent_alert, unsigned handshakes, const char *identity)
{
	struct gateway *gw = gs->gw;
	char a[GW_ADDRSTRLEN], why[200], who[200];
	const char *what = handshakes ? "session ended" : "handshake failed";

	gw_addr_str((const struct sockaddr *)&gs->addr, gs->addr_len, a);
	if (err == DTLS_ERR_CLOSED || err == 0) {
		if (!handshakes)
			log_debug("peer %s: handshake with %s abandoned", p ? p->pol.name : "?", a);
		else if (peer_alert == DTLS_ALERT_CLOSE_NOTIFY && !atomic_load(&gs->closed_by_us))
			log_info("peer %s: closed by the peer (close_notify from %s)",
				 p ? p->pol.name : "?", a);
		else
			log_info("peer %s: closed (session with %s)", p ? p->pol.name : "?", a);
		return;
	}
	if (err == DTLS_ERR_CLOSE_FAIL) {
		log_info("peer %s: closed (no close_notify came back from %s)",
			 p ? p->pol.name : "?", a);
		return;
	}
	if (err == DTLS_ERR_PEER_ALERT)
		snprintf(why, sizeof(why), "peer sent alert %s", dtls_alert_name(peer_alert));
	else if (sent_alert != DTLS_ALERT_NONE)
		snprintf(why, sizeof(why), "%s (sent alert %s)", dtls_strerror(err),
			 dtls_alert_name(sent_alert));
	else
		snprintf(why, sizeof(why), "%s", dtls_strerror(err));
	/* A MAC failure in the first handshake of a PSK peer is what a key mismatch looks
	 * like from either side. */
	bool mac = err == DTLS_ERR_BAD_RECORD_MAC || err == DTLS_ERR_DECRYPT_ERROR ||
		   (err == DTLS_ERR_PEER_ALERT && (peer_alert == DTLS_ALERT_BAD_RECORD_MAC ||
						   peer_alert == DTLS_ALERT_DECRYPT_ERROR));
	const char *hint = !handshakes && mac ? " (do both sides have the same PSK?)" : "";
	if (p) {
		char msg[sizeof(why) + 64]; /* note_error keeps what fits its last_error */
		snprintf(msg, sizeof(msg), "%s: %s%s", what, why,
			 p->pol.auth == PEER_AUTH_PSK ? hint : "");
		log_warnx("peer %s: %s", p->pol.name, msg);
		note_error(p, msg);
		return;
	}
	if (named) {
		/* Its identity is sent in clear: counted apart from its traffic, rate-limited. */
		BUMP(named->c.auth_failures, 1);
		log_ratelimited(&named->rl_auth, GW_LOG_WARNING,
				"peer %s: handshake failed: %s, from %s before it authenticated%s",
				named->pol.name, why, a, hint);
		return;
	}
	if (identity)
		snprintf(who, sizeof(who), "%s, PSK identity \"%s\"", a, identity);
	else
		snprintf(who, sizeof(who), "%s", a);
	log_ratelimited(&gw->rl_hs_fail, GW_LOG_WARNING, "handshake from %s failed: %s", who, why);
}

void gw_session_reap(struct gw_session *gs, enum gw_log_level level, const char *reason)
{
	struct gateway *gw = gs->gw;
	struct gw_peer *p = atomic_load(&gs->peer);
	struct dtls_session_stats st;
	int err, peer_alert, sent_alert;
	unsigned handshakes;
	char idbuf[300], *identity = NULL;
	uint8_t idraw[DTLS_MAX_PSK_IDENTITY];
	const uint8_t *id;
	size_t idlen = 0;

	if (atomic_exchange(&gs->reaped, true))
		return;
	ho_leave(&gw->ho, gs);
	(void)smap_remove(gw->map, &gs->node);
	struct gw_session *prev = take_prev(gs);
	if (prev) {
		restore_prev(gs, prev);
		gw_session_put(prev);
	}
	gw_session_lock(gs);
	err = gs->end_err ? gs->end_err : dtls_session_error(gs->s);
	peer_alert = dtls_session_peer_alert(gs->s);
	sent_alert = dtls_session_sent_alert(gs->s);
	handshakes = dtls_session_handshakes(gs->s);
	dtls_session_stats(gs->s, &st);
	BUMP(gw->st.reasm_dropped, st.dropped_reassembly);
	if (!p && (id = dtls_session_psk_identity(gs->s, &idlen)) && idlen <= sizeof(idraw)) {
		memcpy(idraw, id, idlen);
		identity = (char *)identity_str(idraw, idlen, idbuf, sizeof(idbuf));
	}
	gw_session_unlock(gs);

	/* A handshake that failed before authorize (a wrong key, or anyone naming the
	 * identity): the peer its PSK lookup found is named, not made its peer. */
	struct gw_peer *named = p ? NULL : atomic_load(&gs->hs_peer);
	if (reason && (p || named)) {
		log_msg(level, "peer %s: %s", p ? p->pol.name : named->pol.name, reason);
		if (p && level <= GW_LOG_WARNING)
			note_error(p, reason);
	} else if (reason) {
		char a[GW_ADDRSTRLEN];
		log_msg(level, "handshake from %s: %s",
			gw_addr_str((const struct sockaddr *)&gs->addr, gs->addr_len, a), reason);
	} else
		log_end(gs, p, named, err, peer_alert, sent_alert, handshakes, identity);
	if (p)
		detach(p, gs, reason != NULL, &st);
}

void gw_udp_error(struct gateway *gw, const struct udp_error *e)
{
	char why[UDP_ERRSTRLEN], a[GW_ADDRSTRLEN], reason[UDP_ERRSTRLEN + GW_ADDRSTRLEN + 40];
	bool dialing = false;

	BUMP(gw->st.icmp_errors, 1);
	udp_error_str(e, why);
	gw_addr_str((const struct sockaddr *)&e->dst, e->dst_len, a);
	struct smap_node *n = udp_error_unreachable(e) ?
		smap_get(gw->map, (const struct sockaddr *)&e->dst, e->dst_len) : NULL;
	struct gw_session *gs = n ? gw_session_of(n) : NULL;
	struct gw_peer *p = gs && gs->client ? atomic_load(&gs->peer) : NULL;
	if (p) {
		pthread_mutex_lock(&p->lock);
		dialing = p->dialing == gs;
		pthread_mutex_unlock(&p->lock);
	}
	if (dialing) {
		/* Nobody will answer this handshake: end it now, not at its timeout, and
		 * dial again after the backoff, as after any failed handshake. */
		snprintf(reason, sizeof(reason), "handshake failed: %s (dialling %s)", why, a);
		gw_session_reap(gs, GW_LOG_WARNING, reason);
	} else {
		log_ratelimited(&gw->rl_icmp, GW_LOG_DEBUG, "%s for a datagram to %s", why, a);
	}
	gw_session_put(gs);
}

void gw_session_after(struct gw_session *gs)
{
	unsigned ev = atomic_exchange(&gs->events, 0);

	if (!ev)
		return;
	if (ev & GW_EV_ESTABLISHED)
		install(gs);
	if (ev & GW_EV_ENDED)
		gw_session_reap(gs, GW_LOG_INFO, NULL);
}

void gw_peer_dial(struct gw_peer *p, uint64_t now)
{
	struct gateway *gw = p->gw;
	struct sockaddr_storage to;
	socklen_t to_len;
	struct gw_session *gs;
	char a[GW_ADDRSTRLEN];
	int rc;

	if (!p->dcfg || udp_normalize(gw->udp_family, (const struct sockaddr *)&p->pol.endpoint,
				      p->pol.endpoint_len, &to, &to_len) < 0) {
		pthread_mutex_lock(&p->lock);
		p->next_dial_ms = now + DIAL_BACKOFF_MAX;
		pthread_mutex_unlock(&p->lock);
		log_warnx("peer %s: cannot dial %s from a socket on this address family",
			  p->pol.name,
			  gw_addr_str((const struct sockaddr *)&p->pol.endpoint, p->pol.endpoint_len, a));
		return;
	}
	gw_addr_str((const struct sockaddr *)&to, to_len, a);
	gs = session_alloc(gw, (const struct sockaddr *)&to, to_len, true);
	if (gs)
		gs->s = dtls_session_new_client(p->dcfg, &session_callbacks, gs);
	if (!gs || !gs->s) {
		log_warnx("peer %s: no memory to dial %s", p->pol.name, a);
		gw_session_put(gs);
		pthread_mutex_lock(&p->lock);
		p->next_dial_ms = now + backoff_ms(p->attempts++);
		pthread_mutex_unlock(&p->lock);
		return;
	}
	gw_peer_ref(p);
	atomic_store(&gs->peer, p);
	if (smap_insert(gw->map, &gs->node) < 0) {
		/* The address has a session already (the peer is dialling us): let it be. */
		log_debug("peer %s: %s has a session already; dialling later", p->pol.name, a);
		gw_session_put(gs);
		pthread_mutex_lock(&p->lock);
		p->next_dial_ms = now + DIAL_BACKOFF_MIN;
		pthread_mutex_unlock(&p->lock);
		return;
	}
	pthread_mutex_lock(&p->lock);
	gw_session_ref(gs);
	p->dialing = gs;
	p->state = PEER_HANDSHAKING;
	pthread_mutex_unlock(&p->lock);
	log_info("peer %s: dialling %s", p->pol.name, a);
	gw_session_lock(gs);
	rc = dtls_session_start(gs->s, now);
	gw_session_unlock(gs);
	if (rc < 0 && !(atomic_load(&gs->events) & GW_EV_ENDED)) {
		gs->end_err = rc;
		atomic_fetch_or(&gs->events, GW_EV_ENDED);
	}
	gw_session_after(gs);
	gw_session_put(gs);
}

void gw_peer_disconnect(struct gw_peer *p)
{
	struct gw_session *cur, *dialing;
	struct gw_staged staged;

	atomic_store(&p->removed, true);
	pthread_mutex_lock(&p->lock);
	cur = p->cur;
	dialing = p->dialing;
	p->cur = p->dialing = NULL;
	p->state = PEER_WAITING;
	staged = unstage(p);
	pthread_mutex_unlock(&p->lock);
	staged_free(&staged);
	if (cur) {
		gw_session_close(cur);
		gw_session_put(cur);
	}
	if (dialing) {
		gw_session_close(dialing);
		gw_session_put(dialing);
	}
}

struct session_list {
	struct gw_session **v;
	size_t n, cap;
	bool (*want)(const struct gw_session *gs); /* NULL: every one */
};

/* Under a shard lock (no other lock may be taken): gs, with a reference, if wanted. */
static void collect(struct smap_node *node, void *arg)
{
	struct session_list *c = arg;
	struct gw_session *gs = gw_session_of(node);

	if (c->n < c->cap && (!c->want || c->want(gs))) {
		smap_ref(node);
		c->v[c->n++] = gs;
	}
}

/* The sessions of the map that want() takes (all for NULL), each with a reference, in
 * *out (the caller puts them and frees the array); how many. 0 without memory. */
static size_t sessions_where(struct gateway *gw, bool (*want)(const struct gw_session *gs),
			     struct gw_session ***out)
{
	struct session_list c = { NULL, 0, smap_count(gw->map) + 64, want };

	if ((c.v = calloc(c.cap, sizeof(*c.v))))
		smap_foreach(gw->map, collect, &c);
	*out = c.v;
	return c.n;
}

/* A server handshake not yet authorized whose PSK lookup found a peer removed since. */
static bool keyed_as_removed(const struct gw_session *gs)
{
	struct gw_peer *hp = atomic_load(&gs->hs_peer);

	return !gs->client && !atomic_load(&gs->peer) && hp && atomic_load(&hp->removed);
}

void gw_end_stale_handshakes(struct gateway *gw)
{
	struct gw_session **v;
	size_t n = sessions_where(gw, keyed_as_removed, &v); /* none: authorize refuses them */

	for (size_t i = 0; i < n; i++) {
		BUMP(gw->st.hs_rekeyed_refused, 1);
		gw_session_reap(v[i], GW_LOG_WARNING,
				"handshake ended: it was keyed with a PSK this reload replaced or "
				"removed");
		gw_session_put(v[i]);
	}
	free(v);
}

/* ---- generations ---- */

struct gw_peer *gw_gen_peer(const struct gw_gen *gen, const struct peer_policy *pol)
{
	const struct peer_policy *base = policy_set_peer(gen->set, 0);
	uintptr_t off;

	if (!base || !pol)
		return NULL;
	/* policy_set_peer(i) is the i-th of the set's own array: try the index first. */
	off = (uintptr_t)pol - (uintptr_t)base;
	if (off % sizeof(*pol) == 0 && off / sizeof(*pol) < gen->n_peers &&
	    policy_set_peer(gen->set, off / sizeof(*pol)) == pol)
		return gen->peers[off / sizeof(*pol)];
	for (size_t i = 0; i < gen->n_peers; i++)
		if (policy_set_peer(gen->set, i) == pol)
			return gen->peers[i];
	return NULL;
}

static bool has_string(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

/* The config for sessions of peers that dial us: PSKs by lookup, and for certificate
 * peers the gateway's certificate and the union of their CAs. */
static struct dtls_config *server_config_new(struct gateway *gw, const struct gw_config *cfg)
{
	struct dtls_config *d = dtls_config_new();
	struct gw_suites all;
	char **cas = NULL;
	size_t n_cas = 0, n_cert = 0, n_pin_only = 0;
	const uint8_t *pin = NULL;

	if (!d)
		return NULL;
	gw_suites_all(cfg, &all);
	if (config_common(d, cfg, &all) < 0)
		goto fail;
	dtls_config_set_psk_lookup(d, cb_psk_lookup, gw);
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct peer_policy *pol = &cfg->peers[i];
		if (pol->auth != PEER_AUTH_CERT)
			continue;
		n_cert++;
		char **files = pol->cert.ca_files;
		size_t nf = pol->cert.n_ca_files;
		if (!nf && cfg->ca) {
			files = &((struct gw_config *)cfg)->ca;
			nf = 1;
		}
		if (!nf && pol->cert.has_pin) {
			n_pin_only++;
			pin = pol->cert.pin_sha256;
		}
		for (size_t j = 0; j < nf; j++) {
			if (has_string(cas, n_cas, files[j]))
				continue;
			char **v = realloc(cas, (n_cas + 1) * sizeof(*v));
			if (!v)
				goto fail;
			cas = v;
			cas[n_cas++] = files[j];
		}
	}
	if (n_cert && cfg->cert && cfg->key) {
		if (add_local_cert(d, cfg) < 0)
			goto fail;
		for (size_t j = 0; j < n_cas; j++)
			if (add_trusted(d, cas[j], "gateway") < 0)
				goto fail;
		if (!n_cas && n_pin_only == 1)
			GW_IGNORE(dtls_config_pin_sha256(d, pin)); /* the one peer, without a CA */
		else if (n_pin_only)
			log_warnx("%zu certificate peers have a pin but no CA: peers that dial us "
				  "are verified against a CA, so give them a ca", n_pin_only);
		dtls_config_verify_client(d, true, true);
	}
	free(cas);
	return d;
fail:
	free(cas);
	dtls_config_unref(d);
	return NULL;
}

void gw_gen_free(struct gw_gen *gen)
{
	if (!gen)
		return;
	for (size_t i = 0; i < gen->n_peers; i++)
		gw_peer_put(gen->peers[i]);
	free(gen->peers);
	policy_set_free(gen->set);
	dtls_config_unref(gen->server_cfg);
	free(gen);
}

static void gen_free_cb(void *arg)
{
	gw_gen_free(arg);
}

int gw_gen_new(struct gateway *gw, const struct gw_config *cfg, const struct gw_gen *old,
	       struct gw_gen **out)
{
	struct gw_gen *gen = calloc(1, sizeof(*gen));
	char err[256] = "";
	int rc;

	if (!gen)
		return -ENOMEM;
	if ((rc = policy_set_build(cfg->peers, cfg->n_peers, &gen->set, err, sizeof(err))) < 0) {
		log_warnx("peers: %s", err[0] ? err : strerror(-rc));
		goto fail;
	}
	gw_suites_of_gateway(cfg, &gen->suites);
	if (!(gen->server_cfg = server_config_new(gw, cfg))) {
		rc = -EINVAL;
		goto fail;
	}
	gen->n_peers = policy_set_count(gen->set);
	if (!(gen->peers = calloc(gen->n_peers ? gen->n_peers : 1, sizeof(*gen->peers)))) {
		rc = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < gen->n_peers; i++) {
		const struct peer_policy *pol = policy_set_peer(gen->set, i);
		struct gw_peer *p = NULL;
		for (size_t j = 0; old && j < old->n_peers && !p; j++)
			if (!atomic_load(&old->peers[j]->removed) &&
			    gw_policy_equal(&old->peers[j]->pol, pol))
				p = old->peers[j];
		if (p) {
			if ((rc = gw_peer_configure(p, cfg)) < 0)
				log_warnx("peer %s: keeping its previous settings", p->pol.name);
			gw_peer_ref(p);
		} else if (!(p = peer_new(gw, pol, cfg))) {
			log_warnx("peer %s: cannot set it up", pol->name);
			rc = -EINVAL;
			goto fail;
		}
		gen->peers[i] = p;
	}
	*out = gen;
	return 0;
fail:
	gw_gen_free(gen);
	return rc < 0 ? rc : -EINVAL;
}

void gw_gen_publish(struct gateway *gw, struct gw_gen *gen)
{
	struct gw_gen *old = atomic_exchange(&gw->gen, gen);

	if (old)
		gw_retire(gw, gen_free_cb, old);
}

/* ---- the gateway ---- */

/*
 * Refuses what another process holds already: the listen port (SO_REUSEPORT would let us
 * bind it and take part of its datagrams) and the TUN device (we would join its queues).
 * A persistent TUN device that nobody holds is taken as it is.
 */
static int refuse_taken(const struct gw_config *cfg)
{
	const struct sockaddr *listen = (const struct sockaddr *)&cfg->listen;
	char a[GW_ADDRSTRLEN], who[64];
	pid_t pid;
	int rc = udp_probe(listen, cfg->listen_len);

	if (rc == -EADDRINUSE) {
		pid = holder_of_udp_port(listen, cfg->listen_len);
		log_warnx("listen %s: already served by %s", gw_addr_str(listen, cfg->listen_len, a),
			  pid ? holder_describe(pid, who, sizeof(who)) : "another process");
		return rc;
	}
	if (!strchr(cfg->tun_name, '%') && if_nametoindex(cfg->tun_name) &&
	    (pid = holder_of_tun(cfg->tun_name))) {
		log_warnx("tun %s: already in use by %s; give this instance another tun_name",
			  cfg->tun_name, holder_describe(pid, who, sizeof(who)));
		return -EBUSY;
	}
	return 0;
}

int gateway_new(struct gw_config *cfg, const char *config_path, struct gateway **out)
{
	struct gateway *gw = calloc(1, sizeof(*gw));
	struct gw_gen *gen = NULL;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char a[GW_ADDRSTRLEN];
	int rc = -ENOMEM;

	if (!gw) {
		config_free(cfg);
		return -ENOMEM;
	}
	gw->cfg = cfg;
	pthread_rwlock_init(&gw->jar_lock, NULL);
	atomic_init(&gw->max_sessions, cfg->max_sessions);
	gw->udp_family = cfg->listen.ss_family;
	gw->n_workers = cfg->workers ? cfg->workers : (ncpu > 0 ? (unsigned)ncpu : 1);
	if (gw->n_workers > TUN_MAX_QUEUES)
		gw->n_workers = TUN_MAX_QUEUES;
	gw->ctl = (struct gw_thread){ .gw = gw, .udp_fd = -1, .tun_fd = -1 };
	gw_tl = &gw->ctl;
	if (!(gw->config_path = strdup(config_path)) || !(gw->workers = calloc(gw->n_workers, sizeof(*gw->workers))))
		goto fail;
	if ((rc = smap_new(&gw->map)) < 0 || (rc = ho_init(&gw->ho)) < 0)
		goto fail;
	pthread_mutex_init(&gw->hello_lock, NULL);
	if (!(gw->hellos = dtls_hello_area_new(GW_HELLO_ENTRIES, GW_HELLO_MAX))) {
		rc = -ENOMEM;
		goto fail;
	}
	ho_set_limits(&gw->ho, cfg->max_halfopen, cfg->max_halfopen_per_address,
		      cfg->halfopen_timeout);
	if (!(gw->jar = dtls_cookie_jar_new(now_ms(), COOKIE_LIFETIME_MS))) {
		rc = -ENOMEM;
		goto fail;
	}
	gw->last_rotate_ms = now_ms();
	if ((rc = refuse_taken(cfg)) < 0 ||
	    (rc = tunnel_open(cfg, gw->n_workers, &gw->tun, &gw->tun_mtu)) < 0)
		goto fail;
	if ((rc = gw_gen_new(gw, cfg, NULL, &gen)) < 0)
		goto fail;
	gw_gen_publish(gw, gen);
	for (size_t i = 0; i < gen->n_peers; i++)
		(void)tunnel_add_routes(gw->tun, &gen->peers[i]->pol);
	for (unsigned i = 0; i < gw->n_workers; i++) {
		int fd = udp_open((const struct sockaddr *)&cfg->listen, cfg->listen_len);
		if (fd < 0) {
			rc = fd;
			log_warnx("listen %s: %s",
				  gw_addr_str((const struct sockaddr *)&cfg->listen, cfg->listen_len, a),
				  strerror(-fd));
			goto fail;
		}
		if ((rc = worker_new(gw, i, fd, tun_queue_fd(gw->tun, i), &gw->workers[i])) < 0) {
			close(fd);
			log_warnx("worker %u: %s", i, strerror(-rc));
			goto fail;
		}
	}
	gw->ctl.udp_fd = worker_udp_fd(gw->workers[0]);
	log_info("listening on %s with %u worker%s, %zu peer%s",
		 gw_addr_str((const struct sockaddr *)&cfg->listen, cfg->listen_len, a), gw->n_workers,
		 gw->n_workers == 1 ? "" : "s", gen->n_peers, gen->n_peers == 1 ? "" : "s");
	*out = gw;
	return 0;
fail:
	gateway_free(gw);
	return rc;
}

int gateway_start(struct gateway *gw)
{
	for (unsigned i = 0; i < gw->n_workers; i++) {
		int rc = worker_start(gw->workers[i]);
		if (rc < 0) {
			log_warnx("worker %u: cannot start: %s", i, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

void gateway_close_all(struct gateway *gw)
{
	struct gw_session **v;
	size_t n;

	atomic_store(&gw->stopping, true);
	n = sessions_where(gw, NULL, &v);
	for (size_t i = 0; i < n; i++) {
		gw_session_close(v[i]);
		gw_session_put(v[i]);
	}
	free(v);
}

void gateway_free(struct gateway *gw)
{
	struct gw_gen *gen;
	struct tun_error err = { "" };

	if (!gw)
		return;
	atomic_store(&gw->stopping, true);
	for (unsigned i = 0; gw->workers && i < gw->n_workers; i++)
		worker_stop(gw->workers[i]);
	gen = atomic_load(&gw->gen);
	for (size_t i = 0; gen && i < gen->n_peers; i++) {
		struct gw_peer *p = gen->peers[i];
		pthread_mutex_lock(&p->lock);
		struct gw_session *cur = p->cur, *dialing = p->dialing;
		p->cur = p->dialing = NULL;
		pthread_mutex_unlock(&p->lock);
		gw_session_put(cur);
		gw_session_put(dialing);
	}
	if (gw->ho.addrs)
		ho_free(&gw->ho);
	smap_free(gw->map);
	gw_retire_poll(gw, true);
	gw_gen_free(gen);
	if (gw->tun) {
		tun_teardown(gw->tun, &err);
		if (err.msg[0])
			log_warnx("tun: %s", err.msg);
	}
	for (unsigned i = 0; gw->workers && i < gw->n_workers; i++)
		worker_free(gw->workers[i]);
	free(gw->workers);
	dtls_cookie_jar_free(gw->jar);
	pthread_rwlock_destroy(&gw->jar_lock);
	dtls_hello_area_free(gw->hellos);
	pthread_mutex_destroy(&gw->hello_lock);
	config_free(gw->cfg);
	free(gw->config_path);
	if (gw_tl == &gw->ctl)
		gw_tl = NULL;
	free(gw);
}

uint64_t gw_hellos_evicted(struct gateway *gw)
{
	uint64_t n;

	pthread_mutex_lock(&gw->hello_lock);
	n = dtls_hello_area_evicted(gw->hellos);
	pthread_mutex_unlock(&gw->hello_lock);
	return n;
}

#define LOAD(x) ((unsigned long long)atomic_load_explicit(&(x), memory_order_relaxed))

void gateway_dump_stats(struct gateway *gw)
{
	const struct gw_gen *gen = atomic_load(&gw->gen);
	uint64_t now = now_ms();

	log_notice("stats: %zu sessions, %llu cookie exchanges, %llu datagrams from unknown "
		   "senders dropped, %llu handshakes refused (max_sessions), %llu packets without "
		   "route, %llu sends dropped",
		   smap_count(gw->map), LOAD(gw->st.hvr_sent), LOAD(gw->st.unknown_dropped),
		   LOAD(gw->st.sessions_refused), LOAD(gw->st.no_route), LOAD(gw->st.tx_dropped));
	log_notice("handshake stats: %zu half-open, %llu refused (max_halfopen_per_address), "
		   "%llu dropped for newer ones (max_halfopen), %llu dropped at halfopen_timeout, "
		   "%llu ended by a key change, %llu hello fragments held, %llu evicted, %llu "
		   "records of removed peers dropped",
		   ho_count(&gw->ho), LOAD(gw->st.halfopen_refused), LOAD(gw->st.halfopen_evicted),
		   LOAD(gw->st.halfopen_expired), LOAD(gw->st.hs_rekeyed_refused),
		   LOAD(gw->st.hello_fragments), (unsigned long long)gw_hellos_evicted(gw),
		   LOAD(gw->st.removed_dropped));
	if (gw->cfg->offload)
		log_notice("offload stats: %llu super-packets read from tun, %llu merged writes "
			   "to it, %llu GSO sends, %llu GRO receives, %llu super-packets dropped",
			   LOAD(gw->st.tun_super_in), LOAD(gw->st.tun_merged_out),
			   LOAD(gw->st.udp_gso_sends), LOAD(gw->st.udp_gro_recvs),
			   LOAD(gw->st.tun_super_dropped));
	for (size_t i = 0; i < gen->n_peers; i++) {
		struct gw_peer *p = gen->peers[i];
		struct dtls_session_stats st = { 0 };
		char a[GW_ADDRSTRLEN] = "-", hs[32] = "never";
		enum peer_state state;
		struct gw_session *cur;

		pthread_mutex_lock(&p->lock);
		state = p->state;
		if (p->endpoint_len && p->cur)
			gw_addr_str((const struct sockaddr *)&p->endpoint, p->endpoint_len, a);
		if (p->last_handshake_ms)
			snprintf(hs, sizeof(hs), "%llu s ago",
				 (unsigned long long)(now - p->last_handshake_ms) / 1000);
		cur = p->cur;
		if (cur)
			gw_session_ref(cur);
		pthread_mutex_unlock(&p->lock);
		char rx[32] = "-";
		if (cur) {
			uint64_t last = atomic_load(&cur->last_rx_ms);
			gw_session_lock(cur);
			dtls_session_stats(cur->s, &st);
			gw_session_unlock(cur);
			gw_session_put(cur);
			if (last && last <= now)
				snprintf(rx, sizeof(rx), "%.1f s ago", (double)(now - last) / 1000);
		}
		log_notice("peer %s: %s, endpoint %s, last handshake %s, last received %s, "
			   "rx %llu packets %llu bytes, "
			   "tx %llu packets %llu bytes, keepalives in %llu, drops: policy %llu "
			   "oversize %llu no-session %llu tun %llu link-local %llu mac %llu replay %llu, "
			   "handshakes %llu failed %llu auth-failures %llu renegotiations-refused %llu",
			   p->pol.name, peer_state_name(state), a, hs, rx, LOAD(p->c.rx_packets),
			   LOAD(p->c.rx_bytes), LOAD(p->c.tx_packets), LOAD(p->c.tx_bytes),
			   LOAD(p->c.keepalives_rx), LOAD(p->c.drop_policy), LOAD(p->c.drop_oversize),
			   LOAD(p->c.drop_no_session), LOAD(p->c.drop_tun), LOAD(p->c.drop_link_local),
			   LOAD(p->c.drop_mac) + (unsigned long long)st.dropped_mac,
			   LOAD(p->c.drop_replay) + (unsigned long long)st.dropped_replay,
			   LOAD(p->c.handshakes), LOAD(p->c.handshake_failures),
			   LOAD(p->c.auth_failures), LOAD(p->c.reneg_refused));
	}
}
