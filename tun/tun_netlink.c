/*
 * TUN device configuration over rtnetlink with libnl-route-3: link MTU and state,
 * addresses, routes; and the record of what we added, so that exactly that is
 * removed again.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tun/tun_internal.h"

/* libnl's error codes (NLE_*) as errno values. */
static int nl_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_SUCCESS:
		return 0;
	case NLE_INTR:
		return -EINTR;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_MSGSIZE:
		return -EMSGSIZE;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_PERM:
		return -EPERM;
	case NLE_NODEV:
		return -ENODEV;
	default:
		return -EIO;
	}
}

/*
 * libnl turns the kernel's errno into its own coarser codes (ENETDOWN becomes
 * "Unspecific failure"), so keep the kernel's errno from the error reply. Returning
 * NL_STOP gives the call the usual libnl error.
 */
static int on_error_reply(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct tun_dev *dev = arg;

	(void)nla;
	dev->nl_errno = e->error < 0 ? -e->error : e->error;
	return NL_STOP;
}

/* Start an operation: forget the last kernel errno. */
static void nl_begin(struct tun_dev *dev)
{
	dev->nl_errno = 0;
}

/* The failure of an operation that returned the NLE code rc: fill err with
 * "what: reason" and return the negative errno. */
static int nl_fail(struct tun_dev *dev, struct tun_error *err, int rc, const char *what)
{
	if (dev->nl_errno)
		return tun_fail(err, -dev->nl_errno, "%s: %s", what, strerror(dev->nl_errno));
	return tun_fail(err, nl_errno(rc), "%s: %s", what, nl_geterror(rc));
}

int tun_netlink_open(struct tun_dev *dev, struct tun_error *err)
{
	int rc;

	if (!(dev->nl = nl_socket_alloc()))
		return tun_fail(err, -ENOMEM, "netlink socket: out of memory");
	rc = nl_socket_modify_err_cb(dev->nl, NL_CB_CUSTOM, on_error_reply, dev);
	if (rc >= 0)
		rc = nl_connect(dev->nl, NETLINK_ROUTE);
	if (rc < 0) {
		nl_socket_free(dev->nl);
		dev->nl = NULL;
		return tun_fail(err, nl_errno(rc), "netlink socket: %s", nl_geterror(rc));
	}
	return 0;
}

void tun_netlink_close(struct tun_dev *dev)
{
	if (dev->nl)
		nl_socket_free(dev->nl); /* also closes it */
	dev->nl = NULL;
	free(dev->addrs.v);
	free(dev->routes.v);
	memset(&dev->addrs, 0, sizeof(dev->addrs));
	memset(&dev->routes, 0, sizeof(dev->routes));
}

/* ---- the link ---- */

/* Apply the attributes of change to the device's link. what names it for err. */
static int link_change(struct tun_dev *dev, struct rtnl_link *change, const char *what,
		       struct tun_error *err)
{
	struct rtnl_link *link = NULL;
	char msg[96];
	int rc;

	nl_begin(dev);
	rc = rtnl_link_get_kernel(dev->nl, dev->ifindex, NULL, &link);
	if (rc >= 0)
		rc = rtnl_link_change(dev->nl, link, change, 0);
	if (link)
		rtnl_link_put(link);
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "%s on %s", what, dev->name);
		return nl_fail(dev, err, rc, msg);
	}
	return 0;
}

int tun_set_mtu(struct tun_dev *dev, unsigned mtu, struct tun_error *err)
{
	struct rtnl_link *change = rtnl_link_alloc();
	char what[32];
	int rc;

	snprintf(what, sizeof(what), "set MTU %u", mtu);
	if (!change)
		return tun_fail(err, -ENOMEM, "%s on %s: out of memory", what, dev->name);
	if (mtu < 68 || mtu > 65535) {
		rtnl_link_put(change);
		return tun_fail(err, -EINVAL, "%s on %s: out of range (68-65535)", what, dev->name);
	}
	rtnl_link_set_mtu(change, mtu);
	rc = link_change(dev, change, what, err);
	rtnl_link_put(change);
	return rc;
}

int tun_set_up(struct tun_dev *dev, bool up, struct tun_error *err)
{
	struct rtnl_link *change = rtnl_link_alloc();
	int rc;

	if (!change)
		return tun_fail(err, -ENOMEM, "set link state on %s: out of memory", dev->name);
	if (up)
		rtnl_link_set_flags(change, IFF_UP);
	else
		rtnl_link_unset_flags(change, IFF_UP);
	rc = link_change(dev, change, up ? "set link up" : "set link down", err);
	rtnl_link_put(change);
	return rc;
}

/* ---- what we added ---- */

static unsigned family_bits(int family)
{
	return family == AF_INET ? 32 : family == AF_INET6 ? 128 : 0;
}

/* Fill *it from the arguments; mask clears the host bits (for routes). */
static int make_item(int family, const void *addr, unsigned len, bool mask, struct tun_item *it)
{
	unsigned bits = family_bits(family);

	if (!bits || !addr || len > bits)
		return -EINVAL;
	memset(it, 0, sizeof(*it));
	it->family = family;
	it->len = len;
	memcpy(it->addr, addr, bits / 8);
	if (mask) {
		for (unsigned i = 0; i < bits / 8; i++) {
			unsigned lo = i * 8;
			if (lo >= len)
				it->addr[i] = 0;
			else if (len < lo + 8)
				it->addr[i] &= (uint8_t)(0xffu << (lo + 8 - len));
		}
	}
	return 0;
}

static const char *item_str(const struct tun_item *it, char buf[static INET6_ADDRSTRLEN + 4])
{
	char text[INET6_ADDRSTRLEN] = "?";

	inet_ntop(it->family, it->addr, text, sizeof(text));
	snprintf(buf, INET6_ADDRSTRLEN + 4, "%s/%u", text, it->len);
	return buf;
}

static bool item_eq(const struct tun_item *a, const struct tun_item *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->addr, b->addr, 16);
}

/* Index of it in list, or -1. */
static long list_find(const struct tun_list *list, const struct tun_item *it)
{
	for (size_t i = 0; i < list->n; i++)
		if (item_eq(&list->v[i], it))
			return (long)i;
	return -1;
}

/* Make room for one more item before talking to the kernel, so that recording
 * what was added can never fail after the fact. */
static int list_reserve(struct tun_list *list)
{
	if (list->n < list->cap)
		return 0;
	size_t cap = list->cap ? list->cap * 2 : 8;
	struct tun_item *v = reallocarray(list->v, cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	list->v = v;
	list->cap = cap;
	return 0;
}

static void list_remove(struct tun_list *list, size_t i)
{
	memmove(&list->v[i], &list->v[i + 1], (list->n - i - 1) * sizeof(list->v[0]));
	list->n--;
}

static struct nl_addr *item_nladdr(const struct tun_item *it)
{
	struct nl_addr *a = nl_addr_build(it->family, it->addr, family_bits(it->family) / 8);

	if (a)
		nl_addr_set_prefixlen(a, (int)it->len);
	return a;
}

/* ---- addresses ---- */

/* Add (add = true) or delete an address in the kernel. Returns 0 or an NLE code. */
static int addr_op(struct tun_dev *dev, const struct tun_item *it, bool add)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = item_nladdr(it);
	int rc = -NLE_NOMEM;

	if (a && local) {
		rtnl_addr_set_ifindex(a, dev->ifindex);
		rtnl_addr_set_family(a, it->family);
		rc = rtnl_addr_set_local(a, local);
		rtnl_addr_set_prefixlen(a, (int)it->len);
		if (it->family == AF_INET6)
			rtnl_addr_set_flags(a, IFA_F_NODAD);
		if (rc >= 0)
			rc = add ? rtnl_addr_add(dev->nl, a, NLM_F_EXCL) : rtnl_addr_delete(dev->nl, a, 0);
	}
	if (local)
		nl_addr_put(local);
	if (a)
		rtnl_addr_put(a);
	return rc;
}

int tun_add_address(struct tun_dev *dev, int family, const void *addr, unsigned prefix_len,
		    struct tun_error *err)
{
	struct tun_item it;
	char buf[INET6_ADDRSTRLEN + 4], msg[96];
	int rc;

	if (make_item(family, addr, prefix_len, false, &it) < 0)
		return tun_fail(err, -EINVAL, "add address on %s: not an IPv4 or IPv6 address "
				"with a prefix length", dev->name);
	if (list_reserve(&dev->addrs) < 0)
		return tun_fail(err, -ENOMEM, "add address on %s: out of memory", dev->name);
	nl_begin(dev);
	rc = addr_op(dev, &it, true);
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "add address %s on %s", item_str(&it, buf), dev->name);
		return nl_fail(dev, err, rc, msg);
	}
	dev->addrs.v[dev->addrs.n++] = it;
	return 0;
}

int tun_del_address(struct tun_dev *dev, int family, const void *addr, unsigned prefix_len,
		    struct tun_error *err)
{
	struct tun_item it;
	char buf[INET6_ADDRSTRLEN + 4], msg[96];
	long i;
	int rc;

	if (make_item(family, addr, prefix_len, false, &it) < 0 ||
	    (i = list_find(&dev->addrs, &it)) < 0)
		return tun_fail(err, -ENOENT, "delete address on %s: not one we added", dev->name);
	nl_begin(dev);
	rc = addr_op(dev, &it, false);
	if (rc < 0 && nl_errno(rc) != -EADDRNOTAVAIL && nl_errno(rc) != -ENOENT) {
		snprintf(msg, sizeof(msg), "delete address %s on %s", item_str(&it, buf), dev->name);
		return nl_fail(dev, err, rc, msg);
	}
	list_remove(&dev->addrs, (size_t)i);
	return 0;
}

/* ---- routes ---- */

/* Add or delete the route it via the device in the main table. Returns 0 or an
 * NLE code. */
static int route_op(struct tun_dev *dev, const struct tun_item *it, bool add)
{
	struct rtnl_route *r = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = item_nladdr(it);
	int rc = -NLE_NOMEM;

	if (r && nh && dst) {
		rtnl_route_set_table(r, RT_TABLE_MAIN);
		rtnl_route_set_protocol(r, RTPROT_STATIC);
		rtnl_route_set_scope(r, it->family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE);
		rc = rtnl_route_set_family(r, (uint8_t)it->family);
		if (rc >= 0)
			rc = rtnl_route_set_type(r, RTN_UNICAST);
		if (rc >= 0)
			rc = rtnl_route_set_dst(r, dst);
		rtnl_route_nh_set_ifindex(nh, dev->ifindex);
		rtnl_route_add_nexthop(r, nh); /* r owns nh now */
		nh = NULL;
		if (rc >= 0)
			rc = add ? rtnl_route_add(dev->nl, r, NLM_F_EXCL) : rtnl_route_delete(dev->nl, r, 0);
	}
	if (dst)
		nl_addr_put(dst);
	if (nh)
		rtnl_route_nh_free(nh);
	if (r)
		rtnl_route_put(r);
	return rc;
}

int tun_add_route(struct tun_dev *dev, int family, const void *dst, unsigned prefix_len,
		  struct tun_error *err)
{
	struct tun_item it;
	char buf[INET6_ADDRSTRLEN + 4], msg[96];
	int rc;

	if (make_item(family, dst, prefix_len, true, &it) < 0)
		return tun_fail(err, -EINVAL, "add route on %s: not an IPv4 or IPv6 prefix",
				dev->name);
	if (list_reserve(&dev->routes) < 0)
		return tun_fail(err, -ENOMEM, "add route on %s: out of memory", dev->name);
	nl_begin(dev);
	rc = route_op(dev, &it, true);
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "add route %s on %s", item_str(&it, buf), dev->name);
		return nl_fail(dev, err, rc, msg);
	}
	dev->routes.v[dev->routes.n++] = it;
	return 0;
}

int tun_del_route(struct tun_dev *dev, int family, const void *dst, unsigned prefix_len,
		  struct tun_error *err)
{
	struct tun_item it;
	char buf[INET6_ADDRSTRLEN + 4], msg[96];
	long i;
	int rc;

	if (make_item(family, dst, prefix_len, true, &it) < 0 ||
	    (i = list_find(&dev->routes, &it)) < 0)
		return tun_fail(err, -ENOENT, "delete route on %s: not one we added", dev->name);
	nl_begin(dev);
	rc = route_op(dev, &it, false);
	if (rc < 0 && nl_errno(rc) != -ENOENT && dev->nl_errno != ESRCH) {
		snprintf(msg, sizeof(msg), "delete route %s on %s", item_str(&it, buf), dev->name);
		return nl_fail(dev, err, rc, msg);
	}
	list_remove(&dev->routes, (size_t)i);
	return 0;
}

int tun_unconfigure(struct tun_dev *dev, struct tun_error *err)
{
	int first = 0;

	/* Newest first; a failure keeps the item on the list, so a later call can
	 * try again. */
	for (size_t i = dev->routes.n; i-- > 0;) {
		struct tun_item it = dev->routes.v[i];
		int rc = tun_del_route(dev, it.family, it.addr, it.len, first ? NULL : err);
		if (rc < 0 && !first)
			first = rc;
	}
	for (size_t i = dev->addrs.n; i-- > 0;) {
		struct tun_item it = dev->addrs.v[i];
		int rc = tun_del_address(dev, it.family, it.addr, it.len, first ? NULL : err);
		if (rc < 0 && !first)
			first = rc;
	}
	return first;
}
