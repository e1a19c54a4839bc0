/*
 * The TUN device: a layer-3 interface without packet information (IFF_TUN |
 * IFF_NO_PI) with one queue per worker (IFF_MULTI_QUEUE), configured through
 * rtnetlink (libnl-route-3): MTU, link state, addresses and routes.
 *
 * Ownership: struct tun_dev owns its queue fds and its netlink socket. The
 * addresses and routes it adds are remembered, and tun_unconfigure() /
 * tun_teardown() remove exactly those, nothing that someone else configured.
 *
 * Concurrency: the configuration functions are for one thread (the main thread);
 * they are not thread-safe. Each queue fd may be read and written by its own
 * worker concurrently with everything else; tun_teardown() closes them, so stop
 * the workers first.
 *
 * Namespaces: the netlink socket is opened by tun_open(), in the caller's network
 * namespace at that moment, which is the namespace the device is created in.
 *
 * Errors: functions that can fail return 0 or a negative errno, and fill err
 * (when not NULL) with a message such as
 * "add route 10.2.0.0/16 on dtlsgw0: Object exists".
 */
#ifndef DTLSGW_TUN_TUN_H
#define DTLSGW_TUN_TUN_H

#include <stdbool.h>
#include <stddef.h>

#define TUN_MUST_CHECK __attribute__((warn_unused_result))

#define TUN_MAX_QUEUES 256 /* the kernel's limit per device */

/* tun_open flags */
#define TUN_OPEN_NONBLOCK 0x1u /* queue fds are O_NONBLOCK (for epoll workers) */
#define TUN_OPEN_OFFLOAD 0x2u  /* try IFF_VNET_HDR and TUNSETOFFLOAD: see tun_offloads() */

/* tun_offloads() bits: what TUN_OPEN_OFFLOAD obtained from the kernel. */
#define TUN_OFF_VNET 0x1u /* every packet read or written starts with a virtio-net
			   * header of OFF_VNET_HDR_LEN bytes (tun/offload.h) */
#define TUN_OFF_CSUM 0x2u /* reads may carry a partial checksum (NEEDS_CSUM) */
#define TUN_OFF_TSO 0x4u  /* reads may be TCP super-packets (IPv4 and IPv6) */
#define TUN_OFF_USO 0x8u  /* reads may be UDP super-packets */

struct tun_error {
	char msg[256];
};

struct tun_dev;

/*
 * Create (or attach to) the TUN device name with n_queues queues
 * (1..TUN_MAX_QUEUES). name NULL or "" lets the kernel choose ("tun%d"); a name
 * with "%d" is a pattern for the kernel to fill. An existing device of that name
 * must be a multi-queue TUN device without packet info, or this fails.
 * A device that tun_open() created disappears when its last queue is closed.
 */
int tun_open(const char *name, unsigned n_queues, unsigned flags, struct tun_dev **out,
	     struct tun_error *err) TUN_MUST_CHECK;

/*
 * With TUN_OPEN_OFFLOAD, each queue is opened with IFF_VNET_HDR (falling back to none
 * if an existing device of that name was made without it) and the device is offered
 * checksum, TSO and USO offloads, then the first two, then checksum only, until the
 * kernel takes one set. Returns the TUN_OFF_* bits in force (0 without the flag).
 * Without TUN_OFF_VNET the queues carry bare IP packets, as without the flag.
 */
unsigned tun_offloads(const struct tun_dev *dev);

/* The interface name the kernel gave. Valid until tun_teardown(). */
const char *tun_name(const struct tun_dev *dev);
int tun_ifindex(const struct tun_dev *dev);
unsigned tun_queue_count(const struct tun_dev *dev);

/* The fd of queue i (< tun_queue_count), owned by dev; -1 if i is out of range. */
int tun_queue_fd(const struct tun_dev *dev, unsigned i);

/* Set the link MTU (68..65535 for IPv4; IPv6 needs at least 1280). */
int tun_set_mtu(struct tun_dev *dev, unsigned mtu, struct tun_error *err) TUN_MUST_CHECK;

/* Bring the link up or down. Routes can only be added while it is up. */
int tun_set_up(struct tun_dev *dev, bool up, struct tun_error *err) TUN_MUST_CHECK;

/*
 * Add an address (family AF_INET or AF_INET6; addr is a struct in_addr or
 * in6_addr in network order) with its prefix length, like "10.0.0.1/24" (the
 * kernel also adds the connected route). IPv6 addresses skip duplicate address
 * detection. -EEXIST if the device already has it.
 */
int tun_add_address(struct tun_dev *dev, int family, const void *addr, unsigned prefix_len,
		    struct tun_error *err) TUN_MUST_CHECK;

/* Remove an address that tun_add_address() added; -ENOENT for any other. */
int tun_del_address(struct tun_dev *dev, int family, const void *addr, unsigned prefix_len,
		    struct tun_error *err) TUN_MUST_CHECK;

/*
 * Route the prefix dst/prefix_len through the device (main table, static, no
 * gateway). Host bits of dst are ignored. -EEXIST if that route exists already
 * (ours or not: we never replace someone else's route).
 */
int tun_add_route(struct tun_dev *dev, int family, const void *dst, unsigned prefix_len,
		  struct tun_error *err) TUN_MUST_CHECK;

/* Remove a route that tun_add_route() added; -ENOENT for any other. */
int tun_del_route(struct tun_dev *dev, int family, const void *dst, unsigned prefix_len,
		  struct tun_error *err) TUN_MUST_CHECK;

/*
 * Remove every route and then every address that this dev added, newest first,
 * and forget them. Keeps going after a failure; returns the first error (and its
 * message). Things already gone (the kernel drops routes with their address or
 * link) count as removed.
 */
int tun_unconfigure(struct tun_dev *dev, struct tun_error *err) TUN_MUST_CHECK;

/* tun_unconfigure() (errors go to err if not NULL), close the queues and the
 * netlink socket, free dev. NULL is fine. */
void tun_teardown(struct tun_dev *dev, struct tun_error *err);

#endif
