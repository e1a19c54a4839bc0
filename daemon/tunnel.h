/*
 * The TUN side, from the configuration: the device with one queue per worker, its
 * MTU (the path MTU minus the worst DTLS overhead of the configured suites), its
 * addresses, and a route for every allowed prefix of every peer.
 * Control thread only (tun/ is not thread-safe for configuration).
 */
#ifndef DTLSGW_DAEMON_TUNNEL_H
#define DTLSGW_DAEMON_TUNNEL_H

#include "daemon/config.h"
#include "policy/peer.h"

#define TUNNEL_MUST_CHECK __attribute__((warn_unused_result))

struct tun_dev;

/* The DTLS record header (13 bytes) plus the largest per-record expansion (explicit
 * IV or nonce, tag or MAC and padding) among the suites cfg allows (all suites of the
 * library when none are configured). */
unsigned tunnel_overhead(const struct gw_config *cfg);

/* Opens the device with n_queues non-blocking queues, sets its MTU (*mtu), adds the
 * addresses and brings it up. Logs and returns negative on failure (nothing left). */
int tunnel_open(const struct gw_config *cfg, unsigned n_queues, struct tun_dev **out,
		unsigned *mtu) TUNNEL_MUST_CHECK;

/* Routes each allowed prefix of p through the device. A route that exists already is
 * logged and left alone; returns the number of routes that could not be added. */
unsigned tunnel_add_routes(struct tun_dev *tun, const struct peer_policy *p);
/* One route (peer names it in log lines): 0, or negative (logged). An existing route
 * counts as added. */
int tunnel_add_route(struct tun_dev *tun, const char *peer,
		     const struct ip_prefix *a) TUNNEL_MUST_CHECK;
/* Removes a route that tunnel_add_route() added (others are left alone). */
void tunnel_del_route(struct tun_dev *tun, const char *peer, const struct ip_prefix *a);
/* Adds the addresses of new that old lacks and removes those old had and new lacks. */
void tunnel_update_addresses(struct tun_dev *tun, const struct gw_config *old,
			     const struct gw_config *new);

#endif
