/* Opening the multi-queue TUN device: one /dev/net/tun fd per queue. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tun/offload.h"
#include "tun/tun_internal.h"

#define TUN_PATH "/dev/net/tun"

/* Newer than some of the headers we build against (Linux 6.2). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

int tun_fail(struct tun_error *err, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return rc;
}

/*
 * Open one queue of the device called name (empty: let the kernel choose) and
 * write the device's name to out_name. Every queue is opened here and only here,
 * so the flags (IFF_VNET_HDR and offloads, one day) have one place to live.
 * Returns the fd or -errno.
 */
static int open_queue(const char *name, unsigned flags, bool vnet, char out_name[IFNAMSIZ],
		      struct tun_error *err)
{
	struct ifreq ifr;
	int fd, e;

	fd = open(TUN_PATH, O_RDWR | O_CLOEXEC | ((flags & TUN_OPEN_NONBLOCK) ? O_NONBLOCK : 0));
	if (fd < 0) {
		e = errno;
		return tun_fail(err, -e, "open %s: %s%s", TUN_PATH, strerror(e),
				e == ENOENT ? " (is the tun module loaded?)"
				: e == EACCES || e == EPERM ? " (needs CAP_NET_ADMIN)" : "");
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE | (vnet ? IFF_VNET_HDR : 0);
	memcpy(ifr.ifr_name, name, strlen(name)); /* checked: < IFNAMSIZ */
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		close(fd);
		return tun_fail(err, -e, "create TUN device %s: %s%s", *name ? name : "(any)",
				strerror(e),
				e == EPERM ? " (needs CAP_NET_ADMIN)"
				: e == EINVAL || e == EBUSY
					? " (a device of that name exists and is not a multi-queue "
					  "TUN device without packet info)"
					: "");
	}
	if (vnet) {
		int sz = OFF_VNET_HDR_LEN;
		if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) {
			e = errno;
			close(fd);
			return tun_fail(err, -e, "TUN device %s: virtio-net header size: %s",
					ifr.ifr_name, strerror(e));
		}
	}
	memcpy(out_name, ifr.ifr_name, IFNAMSIZ);
	out_name[IFNAMSIZ - 1] = '\0';
	return fd;
}

/* Offers the device the largest set of offloads it takes; the TUN_OFF_* bits. */
static unsigned set_offloads(int fd)
{
	static const struct {
		unsigned tun_f, bits;
	} sets[] = {
		{ TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6,
		  TUN_OFF_CSUM | TUN_OFF_TSO | TUN_OFF_USO },
		{ TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6, TUN_OFF_CSUM | TUN_OFF_TSO },
		{ TUN_F_CSUM, TUN_OFF_CSUM },
	};

	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)sets[i].tun_f) == 0)
			return sets[i].bits;
	return 0;
}

int tun_open(const char *name, unsigned n_queues, unsigned flags, struct tun_dev **out,
	     struct tun_error *err)
{
	struct tun_dev *dev;
	int rc;

	*out = NULL;
	if (!name)
		name = "";
	if (strlen(name) >= IFNAMSIZ)
		return tun_fail(err, -EINVAL, "TUN device name %.*s...: longer than %d bytes", 16,
				name, IFNAMSIZ - 1);
	if (n_queues < 1 || n_queues > TUN_MAX_QUEUES)
		return tun_fail(err, -EINVAL, "TUN device %s: %u queues; 1 to %d allowed", name,
				n_queues, TUN_MAX_QUEUES);
	if (!(dev = calloc(1, sizeof(*dev))) || !(dev->fds = calloc(n_queues, sizeof(int)))) {
		free(dev);
		return tun_fail(err, -ENOMEM, "TUN device %s: out of memory", name);
	}
	/* The first queue creates the device and learns its name; the rest attach. An
	 * existing device without virtio-net headers refuses a queue with them: then
	 * without. */
	bool vnet = flags & TUN_OPEN_OFFLOAD;
	for (; dev->n_fds < n_queues; dev->n_fds++) {
		rc = open_queue(dev->n_fds ? dev->name : name, flags, vnet, dev->name, err);
		if (rc == -EINVAL && vnet && !dev->n_fds) {
			vnet = false;
			rc = open_queue(name, flags, false, dev->name, err);
		}
		if (rc < 0)
			goto fail;
		dev->fds[dev->n_fds] = rc;
	}
	if (vnet)
		dev->offloads = TUN_OFF_VNET | set_offloads(dev->fds[0]);
	dev->ifindex = (int)if_nametoindex(dev->name);
	if (!dev->ifindex) {
		int e = errno;
		rc = tun_fail(err, -e, "TUN device %s: no interface index: %s", dev->name,
			      strerror(e));
		goto fail;
	}
	rc = tun_netlink_open(dev, err);
	if (rc < 0)
		goto fail;
	*out = dev;
	return 0;
fail:
	tun_teardown(dev, NULL);
	return rc;
}

const char *tun_name(const struct tun_dev *dev)
{
	return dev->name;
}

int tun_ifindex(const struct tun_dev *dev)
{
	return dev->ifindex;
}

unsigned tun_offloads(const struct tun_dev *dev)
{
	return dev->offloads;
}

unsigned tun_queue_count(const struct tun_dev *dev)
{
	return dev->n_fds;
}

int tun_queue_fd(const struct tun_dev *dev, unsigned i)
{
	return i < dev->n_fds ? dev->fds[i] : -1;
}

void tun_teardown(struct tun_dev *dev, struct tun_error *err)
{
	if (!dev)
		return;
	if (dev->nl) {
		/* On failure err says what; the rest goes with the device anyway. */
		int rc = tun_unconfigure(dev, err);
		(void)rc;
	}
	tun_netlink_close(dev);
	for (unsigned i = 0; i < dev->n_fds; i++)
		close(dev->fds[i]);
	free(dev->fds);
	free(dev);
}
