/* Whole-file configuration checks, after the last line: defaults, required keys,
 * identities, conflicts between peers, and (--check) the certificate files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config_internal.h"
#include "daemon/config_verify.h"
#include "policy/conflict.h"
#include "policy/endpoint.h"
#include "policy/policy.h"

static const char *peer_label(const struct gw_config *cfg, size_t i, char buf[static 64])
{
	snprintf(buf, 64, "peer %s", cfg->peers[i].name);
	return buf;
}

static void gateway_defaults(struct parser *p)
{
	struct gw_config *cfg = p->cfg;
	const unsigned *line = p->gw_key_line;

	if (!line[GK_LISTEN] && endpoint_parse(CONFIG_DEFAULT_LISTEN, &cfg->listen,
					       &cfg->listen_len) < 0)
		p->oom = true; /* cannot happen: a constant */
	if (!line[GK_TUN_NAME])
		snprintf(cfg->tun_name, sizeof(cfg->tun_name), "%s", CONFIG_DEFAULT_TUN_NAME);
	if (!line[GK_MTU])
		cfg->mtu = CONFIG_DEFAULT_MTU;
	if (!line[GK_KEEPALIVE])
		cfg->keepalive = CONFIG_DEFAULT_KEEPALIVE;
	if (!line[GK_DEAD_AFTER])
		cfg->dead_after = 3 * cfg->keepalive;
	if (!line[GK_MAX_SESSIONS])
		cfg->max_sessions = CONFIG_DEFAULT_MAX_SESSIONS;
	if (!line[GK_MAX_HALFOPEN])
		cfg->max_halfopen = CONFIG_DEFAULT_MAX_HALFOPEN;
	if (!line[GK_MAX_HALFOPEN_ADDR])
		cfg->max_halfopen_per_address = CONFIG_DEFAULT_MAX_HALFOPEN_ADDR;
	if (!line[GK_HALFOPEN_TIMEOUT])
		cfg->halfopen_timeout = CONFIG_DEFAULT_HALFOPEN_TIMEOUT;
	if (!line[GK_LOG_LEVEL])
		cfg->log_level = GW_LOG_INFO;
	if (!cfg->control_socket && !(cfg->control_socket = strdup(CONFIG_DEFAULT_CONTROL_SOCKET)))
		p->oom = true;
}

static void check_gateway(struct parser *p)
{
	struct gw_config *cfg = p->cfg;
	const unsigned *line = p->gw_key_line;

	if (!p->gateway_line) {
		config_report(p, false, 0, "gateway", NULL, "section missing");
		return;
	}
	if (!line[GK_TUN_ADDRESS])
		config_report(p, false, p->gateway_line, "gateway", "tun_address",
			      "missing; the tunnel needs an address with prefix length");
	if (line[GK_DEAD_AFTER] && cfg->dead_after && cfg->keepalive &&
	    cfg->dead_after <= cfg->keepalive)
		config_report(p, false, line[GK_DEAD_AFTER], "gateway", "dead_after",
			      "must be longer than keepalive (%u s)", cfg->keepalive);
	if (line[GK_CERT] && !line[GK_KEY])
		config_report(p, false, line[GK_CERT], "gateway", "cert", "given without key");
	if (line[GK_KEY] && !line[GK_CERT])
		config_report(p, false, line[GK_KEY], "gateway", "key", "given without cert");
}

static void check_psk_peer(struct parser *p, size_t i, const char *label)
{
	struct peer_meta *m = &p->meta[i];
	const unsigned *line = m->key_line;
	unsigned key_line = line[PK_PSK] ? line[PK_PSK] : line[PK_PSK_FILE];
	const char *key_name = line[PK_PSK] ? "psk" : "psk_file";

	if (line[PK_PSK] && line[PK_PSK_FILE])
		config_report(p, false, line[PK_PSK_FILE], label, "psk_file",
			      "psk is given too (line %u); keep one", line[PK_PSK]);
	else if (!line[PK_PSK_IDENTITY])
		config_report(p, false, key_line, label, key_name, "needs psk_identity");
	else if (!key_line)
		config_report(p, false, line[PK_PSK_IDENTITY], label, "psk_identity",
			      "needs psk or psk_file");
	else if (m->identity_len && m->key_len &&
		 peer_set_psk(&p->cfg->peers[i], m->identity, m->identity_len, m->key,
			      m->key_len) < 0)
		p->oom = true; /* lengths were checked: cannot happen */
}

static void check_cert_peer(struct parser *p, size_t i, const char *label)
{
	const unsigned *line = p->meta[i].key_line;
	unsigned name_line = line[PK_CERT_CN] ? line[PK_CERT_CN] : line[PK_CERT_SAN];

	p->cfg->peers[i].auth = PEER_AUTH_CERT;
	if (!line[PK_CERT_CN] && !line[PK_CERT_SAN] && !line[PK_CERT_PIN])
		config_report(p, false, line[PK_CA], label, "ca",
			      "would accept any certificate from it; add cert_cn, cert_san "
			      "or cert_pin_sha256");
	else if (!line[PK_CERT_PIN] && !line[PK_CA] && !p->gw_key_line[GK_CA])
		config_report(p, false, name_line, label,
			      line[PK_CERT_CN] ? "cert_cn" : "cert_san",
			      "needs a ca here or in [gateway], or a cert_pin_sha256");
	if (line[PK_CERT_SAN] && p->cfg->peers[i].cert.san &&
	    !policy_cert_san_valid(p->cfg->peers[i].cert.san))
		config_report(p, false, line[PK_CERT_SAN], label, "cert_san",
			      "is neither a DNS name nor an IP address (e-mail and URI SANs are "
			      "not compared)");
}

static void check_peers(struct parser *p)
{
	struct gw_config *cfg = p->cfg;
	bool cert_reported = false;
	char label[64];

	for (size_t i = 0; i < cfg->n_peers; i++) {
		struct peer_meta *m = &p->meta[i];
		const unsigned *line = m->key_line;
		bool psk = line[PK_PSK_IDENTITY] || line[PK_PSK] || line[PK_PSK_FILE];
		bool cert = line[PK_CERT_CN] || line[PK_CERT_SAN] || line[PK_CERT_PIN] ||
			    line[PK_CA];

		peer_label(cfg, i, label);
		if (psk && cert) {
			config_report(p, false, m->section_line, label, NULL,
				      "has both a PSK and a certificate identity; keep one");
		} else if (!psk && !cert) {
			config_report(p, false, m->section_line, label, NULL,
				      "no identity; set psk_identity with psk or psk_file, or "
				      "cert_cn, cert_san or cert_pin_sha256");
		} else if (psk) {
			check_psk_peer(p, i, label);
		} else {
			check_cert_peer(p, i, label);
			if (!cert_reported && (!cfg->cert || !cfg->key) &&
			    !p->gw_key_line[GK_CERT] && !p->gw_key_line[GK_KEY]) {
				config_report(p, false, m->section_line, label, NULL,
					      "a certificate identity needs the gateway's own "
					      "cert and key in [gateway]");
				cert_reported = true;
			}
		}
		if (!line[PK_ALLOWED_IPS])
			config_report(p, false, m->section_line, label, NULL,
				      "no allowed_ips; a peer needs at least one prefix");
		if (!line[PK_KEEPALIVE])
			cfg->peers[i].keepalive = cfg->keepalive;
	}
}

static void on_conflict(void *arg, const struct policy_conflict *c)
{
	struct parser *p = arg;
	const struct gw_config *cfg = p->cfg;
	const struct peer_meta *ma = &p->meta[c->a], *mb = &p->meta[c->b];
	char label[64], pa[PREFIX_STRLEN], pb[PREFIX_STRLEN];

	peer_label(cfg, c->b, label);
	switch (c->kind) {
	case POLICY_CONFLICT_NAME:
		config_report(p, false, mb->section_line, label, NULL,
			      "peer name given twice (first at line %u)", ma->section_line);
		break;
	case POLICY_CONFLICT_PSK_IDENTITY:
		config_report(p, false, mb->key_line[PK_PSK_IDENTITY], label, "psk_identity",
			      "same identity as peer %s (line %u)", cfg->peers[c->a].name,
			      ma->key_line[PK_PSK_IDENTITY]);
		break;
	case POLICY_CONFLICT_PREFIX:
		config_report(p, false, mb->prefix_line[c->prefix_b], label, "allowed_ips",
			      "%s overlaps %s of peer %s (line %u)",
			      prefix_format(&cfg->peers[c->b].allowed[c->prefix_b], pb),
			      prefix_format(&cfg->peers[c->a].allowed[c->prefix_a], pa),
			      cfg->peers[c->a].name, ma->prefix_line[c->prefix_a]);
		break;
	}
}

/* Two certificate peers that one certificate could match (the first would win). */
static void on_ambiguous(void *arg, size_t a, size_t b)
{
	struct parser *p = arg;
	char label[64];

	peer_label(p->cfg, b, label);
	config_report(p, false, p->meta[b].section_line, label, NULL,
		      "a certificate could match both this peer and peer %s (line %u); give "
		      "them different cert_cn or different cert_pin_sha256",
		      p->cfg->peers[a].name, p->meta[a].section_line);
}

void config_check(struct parser *p)
{
	gateway_defaults(p);
	check_gateway(p);
	check_peers(p);
	if (policy_find_conflicts(p->cfg->peers, p->cfg->n_peers, on_conflict, p) < 0)
		p->oom = true;
	policy_find_cert_ambiguities(p->cfg->peers, p->cfg->n_peers, on_ambiguous, p);
	config_verify(p);
}
