/*
 * Applying a reloaded configuration (SIGHUP, the control socket's "reload", add-peer,
 * remove-peer: daemon/control_ops.c reads and validates it; if anything is wrong the
 * running configuration stays). A new generation is built: a peer whose policy
 * is unchanged keeps its gw_peer and so its session; a new peer is dialled or
 * awaited; a changed peer is a new gw_peer (the old one is disconnected and the new
 * one connects); a removed peer is disconnected with close_notify. Routes and tunnel
 * addresses follow the difference. Settings that need the sockets or the TUN device
 * rebuilt (listen, tun_name, workers, mtu) keep their running values until a restart.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/gateway.h"
#include "daemon/tunnel.h"

struct route {
	const struct ip_prefix *pfx;
	const char *peer;
};

static int route_cmp(const void *x, const void *y)
{
	const struct route *a = x, *b = y;

	return prefix_cmp(a->pfx, b->pfx);
}

/* Every allowed prefix of gen's peers, sorted. NULL with *n = 0 if there are none. */
static struct route *routes_of(const struct gw_gen *gen, size_t *n)
{
	size_t total = 0, k = 0;
	struct route *v;

	for (size_t i = 0; i < gen->n_peers; i++)
		total += gen->peers[i]->pol.n_allowed;
	*n = 0;
	if (!total || !(v = calloc(total, sizeof(*v))))
		return NULL;
	for (size_t i = 0; i < gen->n_peers; i++)
		for (size_t j = 0; j < gen->peers[i]->pol.n_allowed; j++)
			v[k++] = (struct route){ &gen->peers[i]->pol.allowed[j],
						 gen->peers[i]->pol.name };
	qsort(v, total, sizeof(*v), route_cmp);
	*n = total;
	return v;
}

static bool has_route(const struct route *v, size_t n, const struct ip_prefix *p)
{
	struct route key = { p, NULL };

	return n && bsearch(&key, v, n, sizeof(*v), route_cmp) != NULL;
}

/* Removes the routes only old has, then adds those only new has. */
static void update_routes(struct gateway *gw, const struct gw_gen *old, const struct gw_gen *new)
{
	size_t n_old, n_new;
	struct route *ro = routes_of(old, &n_old), *rn = routes_of(new, &n_new);

	for (size_t i = 0; i < n_old; i++)
		if (!has_route(rn, n_new, ro[i].pfx))
			tunnel_del_route(gw->tun, ro[i].peer, ro[i].pfx);
	for (size_t i = 0; i < n_new; i++)
		if (!has_route(ro, n_old, rn[i].pfx))
			GW_IGNORE(tunnel_add_route(gw->tun, rn[i].peer, rn[i].pfx));
	free(ro);
	free(rn);
}

static bool in_gen(const struct gw_gen *gen, const struct gw_peer *p)
{
	for (size_t i = 0; i < gen->n_peers; i++)
		if (gen->peers[i] == p)
			return true;
	return false;
}

static const struct gw_peer *by_name(const struct gw_gen *gen, const char *name)
{
	for (size_t i = 0; i < gen->n_peers; i++)
		if (!strcmp(gen->peers[i]->pol.name, name))
			return gen->peers[i];
	return NULL;
}

/* Keeps the running values of what only a restart can change, and says so. */
static void keep_restart_settings(const struct gw_config *run, struct gw_config *cfg)
{
	if (run->listen_len != cfg->listen_len || memcmp(&run->listen, &cfg->listen, run->listen_len)) {
		log_warnx("reload: listen changed; restart dtlsgwd to apply it");
		cfg->listen = run->listen;
		cfg->listen_len = run->listen_len;
	}
	if (strcmp(run->tun_name, cfg->tun_name)) {
		log_warnx("reload: tun_name changed; restart dtlsgwd to apply it");
		memcpy(cfg->tun_name, run->tun_name, sizeof(cfg->tun_name));
	}
	if (run->workers != cfg->workers) {
		log_warnx("reload: workers changed; restart dtlsgwd to apply it");
		cfg->workers = run->workers;
	}
	if (run->mtu != cfg->mtu) {
		log_warnx("reload: mtu changed; restart dtlsgwd to apply it");
		cfg->mtu = run->mtu;
	}
	if (tunnel_overhead(cfg) > tunnel_overhead(run)) {
		/* Records of the new suites would not fit the running tunnel MTU. */
		log_warnx("reload: the new ciphers need more room per record than the tunnel MTU "
			  "leaves; keeping the running ciphers until a restart");
		char **v = NULL;
		size_t n = run->n_ciphers;
		if (n && !(v = calloc(n, sizeof(*v))))
			return;
		for (size_t i = 0; i < n; i++)
			if (!(v[i] = strdup(run->ciphers[i]))) {
				while (i)
					free(v[--i]);
				free(v);
				return;
			}
		for (size_t i = 0; i < cfg->n_ciphers; i++)
			free(cfg->ciphers[i]);
		free(cfg->ciphers);
		cfg->ciphers = v;
		cfg->n_ciphers = n;
	}
}

/* What happened to new's peer p: kept, replaced or new. */
static enum gw_peer_change change_of(const struct gw_gen *old, const struct gw_peer *p)
{
	if (in_gen(old, p))
		return GW_PEER_UNCHANGED;
	return by_name(old, p->pol.name) ? GW_PEER_CHANGED : GW_PEER_ADDED;
}

int gw_apply(struct gateway *gw, struct gw_config *cfg, const char *what, gw_applied_fn *fn,
	     void *arg)
{
	struct gw_gen *old = atomic_load(&gw->gen), *gen = NULL;
	unsigned n[4] = { 0 }; /* by enum gw_peer_change */
	int rc;

	keep_restart_settings(gw->cfg, cfg);
	if ((rc = gw_gen_new(gw, cfg, old, &gen)) < 0) {
		log_warnx("%s: cannot apply; the running configuration stays", what);
		config_free(cfg);
		return rc;
	}
	tunnel_update_addresses(gw->tun, gw->cfg, cfg);
	update_routes(gw, old, gen);
	log_set_level(cfg->log_level);
	atomic_store_explicit(&gw->max_sessions, cfg->max_sessions, memory_order_relaxed);
	ho_set_limits(&gw->ho, cfg->max_halfopen, cfg->max_halfopen_per_address,
		      cfg->halfopen_timeout);

	for (size_t i = 0; i < gen->n_peers; i++) {
		const struct gw_peer *p = gen->peers[i];
		enum gw_peer_change c = change_of(old, p);
		n[c]++;
		if (c == GW_PEER_CHANGED)
			log_info("peer %s: changed; reconnecting", p->pol.name);
		else if (c == GW_PEER_ADDED)
			log_info("peer %s: added", p->pol.name);
		if (fn)
			fn(arg, p->pol.name, c);
	}
	/* Peers going away refuse their handshakes from now on, even one that a worker
	 * authorizes against the old generation while this one is published. */
	for (size_t i = 0; i < old->n_peers; i++)
		if (!in_gen(gen, old->peers[i]))
			atomic_store(&old->peers[i]->removed, true);
	gw_gen_publish(gw, gen);
	for (size_t i = 0; i < old->n_peers; i++) {
		struct gw_peer *p = old->peers[i];
		if (in_gen(gen, p))
			continue;
		if (!by_name(gen, p->pol.name)) {
			n[GW_PEER_REMOVED]++;
			log_info("peer %s: removed; disconnecting", p->pol.name);
			if (fn)
				fn(arg, p->pol.name, GW_PEER_REMOVED);
		}
		gw_peer_disconnect(p);
	}
	gw_end_stale_handshakes(gw);
	config_free(gw->cfg);
	gw->cfg = cfg;
	log_info("reloaded %s: %zu peer%s (%u added, %u changed, %u removed, %u unchanged)", what,
		 gen->n_peers, gen->n_peers == 1 ? "" : "s", n[GW_PEER_ADDED], n[GW_PEER_CHANGED],
		 n[GW_PEER_REMOVED], n[GW_PEER_UNCHANGED]);
	return 0;
}
