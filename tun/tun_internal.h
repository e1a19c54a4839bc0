/* Private to tun/: the device state shared by tun.c (queues) and tun_netlink.c. */
#ifndef DTLSGW_TUN_INTERNAL_H
#define DTLSGW_TUN_INTERNAL_H

#include <net/if.h>
#include <stdarg.h>
#include <stdint.h>

#include "tun/tun.h"

struct nl_sock;

/* An address or route that we added. */
struct tun_item {
	int family;
	unsigned len;
	uint8_t addr[16];
};

struct tun_list {
	struct tun_item *v;
	size_t n, cap;
};

struct tun_dev {
	char name[IFNAMSIZ];
	int ifindex;
	int *fds;
	unsigned n_fds;
	unsigned offloads;       /* TUN_OFF_* */
	struct nl_sock *nl;      /* connected NETLINK_ROUTE socket */
	int nl_errno;            /* errno of the kernel's last netlink error reply */
	struct tun_list addrs;   /* added by tun_add_address, oldest first */
	struct tun_list routes;  /* added by tun_add_route, oldest first */
};

/* Fill err (may be NULL) and return rc. */
int tun_fail(struct tun_error *err, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Open the netlink socket of dev; 0 or -errno. */
int tun_netlink_open(struct tun_dev *dev, struct tun_error *err) TUN_MUST_CHECK;

/* Close it and free the lists. */
void tun_netlink_close(struct tun_dev *dev);

#endif
