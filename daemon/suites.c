/* The cipher suites a configuration offers. See suites.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/suites.h"

static void add(struct gw_suites *s, uint16_t id)
{
	if (s->n < GW_SUITES_MAX && !gw_suites_has(s, id))
		s->id[s->n++] = id;
}

void gw_suites_of_gateway(const struct gw_config *cfg, struct gw_suites *out)
{
	uint16_t rec[GW_SUITES_MAX];
	size_t n;

	out->n = 0;
	if (!cfg->n_ciphers) {
		n = dtls_suites_recommended(rec, GW_SUITES_MAX);
		for (size_t i = 0; i < n && i < GW_SUITES_MAX; i++)
			add(out, rec[i]);
		return;
	}
	for (size_t i = 0; i < cfg->n_ciphers; i++) {
		int id = dtls_suite_id(cfg->ciphers[i]);
		if (id >= 0) /* the parser refused unknown names */
			add(out, (uint16_t)id);
	}
}

void gw_suites_of_peer(const struct gw_config *cfg, const struct peer_policy *pol,
		       struct gw_suites *out)
{
	if (!pol->n_suites) {
		gw_suites_of_gateway(cfg, out);
		return;
	}
	out->n = 0;
	for (size_t i = 0; i < pol->n_suites; i++)
		add(out, pol->suites[i]);
}

void gw_suites_all(const struct gw_config *cfg, struct gw_suites *out)
{
	gw_suites_of_gateway(cfg, out);
	for (size_t i = 0; i < cfg->n_peers; i++)
		for (size_t j = 0; j < cfg->peers[i].n_suites; j++)
			add(out, cfg->peers[i].suites[j]);
}

bool gw_suite_in(const uint16_t *ids, size_t n, uint16_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

bool gw_suites_has(const struct gw_suites *s, uint16_t id)
{
	return gw_suite_in(s->id, s->n, id);
}

int gw_suites_apply(struct dtls_config *d, const struct gw_suites *s)
{
	char list[GW_SUITES_MAX * 64] = "";
	size_t o = 0;
	int rc;

	for (size_t i = 0; i < s->n; i++) {
		const char *name = dtls_suite_name(s->id[i]);
		int w = snprintf(list + o, sizeof(list) - o, "%s%s", o ? "," : "", name ? name : "?");
		if (w < 0 || (size_t)w >= sizeof(list) - o)
			return -E2BIG;
		o += (size_t)w;
	}
	if ((rc = dtls_config_set_ciphers(d, list)) < 0) {
		log_warnx("ciphers %s: %s", list, dtls_strerror(rc));
		return -EINVAL;
	}
	return 0;
}

unsigned gw_suites_overhead(const struct gw_suites *s)
{
	unsigned worst = 0;

	for (size_t i = 0; i < s->n; i++) {
		int e = dtls_suite_overhead(s->id[i]);
		if (e > 0 && (unsigned)e > worst)
			worst = (unsigned)e;
	}
	return worst;
}
