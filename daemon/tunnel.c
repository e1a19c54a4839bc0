/* The TUN device configured from dtlsgw.conf. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/suites.h"
#include "daemon/tunnel.h"
#include "tun/tun.h"

unsigned tunnel_overhead(const struct gw_config *cfg)
{
	struct gw_suites all;

	gw_suites_all(cfg, &all);
	return gw_suites_overhead(&all);
}

static int add_addresses(struct tun_dev *tun, const struct gw_config *cfg, bool *has_v6)
{
	struct tun_error err;
	char buf[PREFIX_STRLEN];

	for (size_t i = 0; i < cfg->n_tun_addrs; i++) {
		const struct ip_prefix *a = &cfg->tun_addrs[i];
		int rc = tun_add_address(tun, a->family, a->addr, a->len, &err);
		if (rc < 0 && rc != -EEXIST) {
			log_warnx("tun: address %s: %s", prefix_format(a, buf), err.msg);
			return rc;
		}
		*has_v6 |= a->family == AF_INET6;
	}
	return 0;
}

int tunnel_open(const struct gw_config *cfg, unsigned n_queues, struct tun_dev **out, unsigned *mtu)
{
	struct tun_error err;
	struct tun_dev *tun = NULL;
	unsigned over = tunnel_overhead(cfg), m;
	bool has_v6 = false;
	int rc;

	if (cfg->mtu <= over + 68) {
		log_warnx("mtu %u leaves no room for packets after %u bytes of DTLS overhead",
			  cfg->mtu, over);
		return -EINVAL;
	}
	m = cfg->mtu - over;
	if ((rc = tun_open(cfg->tun_name, n_queues,
			   TUN_OPEN_NONBLOCK | (cfg->offload ? TUN_OPEN_OFFLOAD : 0), &tun, &err)) < 0) {
		log_warnx("tun: %s", err.msg);
		return rc;
	}
	if (cfg->offload) {
		unsigned o = tun_offloads(tun);
		if (!(o & TUN_OFF_VNET))
			log_warnx("tun %s: offload: the device takes no virtio-net header; "
				  "packets are read and written one by one", tun_name(tun));
		else
			log_info("tun %s: offloads: checksum %s, TCP segmentation %s, UDP "
				 "segmentation %s", tun_name(tun), o & TUN_OFF_CSUM ? "on" : "off",
				 o & TUN_OFF_TSO ? "on" : "off", o & TUN_OFF_USO ? "on" : "off");
	}
	if ((rc = tun_set_mtu(tun, m, &err)) < 0) {
		log_warnx("tun: %s", err.msg);
		goto fail;
	}
	if ((rc = tun_set_up(tun, true, &err)) < 0) {
		log_warnx("tun: %s", err.msg);
		goto fail;
	}
	if ((rc = add_addresses(tun, cfg, &has_v6)) < 0)
		goto fail;
	if (has_v6 && m < 1280)
		log_warnx("tun: MTU %u is below IPv6's minimum of 1280: the kernel disables IPv6 "
			  "on %s; raise mtu to at least %u", m, tun_name(tun), 1280 + over);
	log_info("tun %s: %u queue%s, MTU %u (path MTU %u minus %u bytes of DTLS overhead)",
		 tun_name(tun), n_queues, n_queues == 1 ? "" : "s", m, cfg->mtu, over);
	*out = tun;
	*mtu = m;
	return 0;
fail:
	tun_teardown(tun, NULL);
	return rc;
}

int tunnel_add_route(struct tun_dev *tun, const char *peer, const struct ip_prefix *a)
{
	struct tun_error err;
	char buf[PREFIX_STRLEN];
	int rc = tun_add_route(tun, a->family, a->addr, a->len, &err);

	if (rc == -EEXIST) {
		log_info("peer %s: route %s exists already; left as it is", peer,
			 prefix_format(a, buf));
		return 0;
	}
	if (rc < 0)
		log_warnx("peer %s: %s", peer, err.msg);
	return rc;
}

void tunnel_del_route(struct tun_dev *tun, const char *peer, const struct ip_prefix *a)
{
	struct tun_error err;
	int rc = tun_del_route(tun, a->family, a->addr, a->len, &err);

	if (rc < 0 && rc != -ENOENT)
		log_warnx("peer %s: %s", peer, err.msg);
}

unsigned tunnel_add_routes(struct tun_dev *tun, const struct peer_policy *p)
{
	unsigned failed = 0;

	for (size_t i = 0; i < p->n_allowed; i++)
		failed += tunnel_add_route(tun, p->name, &p->allowed[i]) < 0;
	return failed;
}

static bool has_addr(const struct gw_config *cfg, const struct ip_prefix *a)
{
	for (size_t i = 0; i < cfg->n_tun_addrs; i++)
		if (cfg->tun_addrs[i].family == a->family && cfg->tun_addrs[i].len == a->len &&
		    !memcmp(cfg->tun_addrs[i].addr, a->addr, sizeof(a->addr)))
			return true;
	return false;
}

void tunnel_update_addresses(struct tun_dev *tun, const struct gw_config *old,
			     const struct gw_config *new)
{
	struct tun_error err;
	char buf[PREFIX_STRLEN];

	for (size_t i = 0; i < old->n_tun_addrs; i++) {
		const struct ip_prefix *a = &old->tun_addrs[i];
		if (!has_addr(new, a) && tun_del_address(tun, a->family, a->addr, a->len, &err) < 0)
			log_warnx("tun: remove address %s: %s", prefix_format(a, buf), err.msg);
	}
	for (size_t i = 0; i < new->n_tun_addrs; i++) {
		const struct ip_prefix *a = &new->tun_addrs[i];
		if (has_addr(old, a))
			continue;
		if (tun_add_address(tun, a->family, a->addr, a->len, &err) < 0)
			log_warnx("tun: add address %s: %s", prefix_format(a, buf), err.msg);
		else
			log_info("tun: address %s added", prefix_format(a, buf));
	}
}
