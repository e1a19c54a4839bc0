/*
 * tun/: a real multi-queue TUN device, configured through netlink, in a network
 * namespace of its own. Each test forks a child that unshares its network (and
 * mount, for a matching /sys) namespace, does the work and reports by exit code;
 * the namespace dies with the child. Needs root; skipped otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "tun/tun.h"

/* In the child: a failed check prints where and exits with the line number. */
#define CHECK(cond)                                                                     \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "\n    %s:%d: check failed: %s\n", __FILE__,       \
				__LINE__, #cond);                                       \
			_exit(__LINE__ % 250 + 1);                                      \
		}                                                                       \
	} while (0)

#define CHECK_RC(expr, want)                                                            \
	do {                                                                            \
		int rc_ = (expr);                                                       \
		if (rc_ != (want)) {                                                    \
			fprintf(stderr, "\n    %s:%d: %s = %d (%s), want %d; %s\n",        \
				__FILE__, __LINE__, #expr, rc_, strerror(-rc_), (want),  \
				err.msg);                                               \
			_exit(__LINE__ % 250 + 1);                                      \
		}                                                                       \
	} while (0)

static bool skip_unless_root(void)
{
	if (geteuid() == 0)
		return false;
	printf("(skipped: needs root for network namespaces and TUN devices) ");
	CU_PASS("skipped: not root");
	return true;
}

/* Run body in a child inside fresh network and mount namespaces. */
static void in_netns(void (*body)(void))
{
	pid_t pid;
	int status = 0;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
			fprintf(stderr, "unshare: %s\n", strerror(errno));
			_exit(251);
		}
		/* /sys shows the namespace of whoever mounted it: mount our own. */
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("sysfs", "/sys", "sysfs", 0, NULL) < 0) {
			fprintf(stderr, "mount sysfs: %s\n", strerror(errno));
			_exit(252);
		}
		body();
		exit(0); /* not _exit: let LeakSanitizer look at the child too */
	}
	CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
	CU_ASSERT_TRUE(WIFEXITED(status));
	CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
}

static long read_sys_long(const char *name, const char *file)
{
	char path[128], buf[32] = "";
	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", name, file);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strtol(buf, NULL, 0);
}

static bool sys_exists(const char *name, const char *file)
{
	char path[128];
	struct stat st;
	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", name, file);
	return stat(path, &st) == 0;
}

/* Whether getifaddrs() shows addr/len on the interface. */
static bool has_address(const char *ifname, int family, const char *addr, unsigned len)
{
	struct ifaddrs *list, *i;
	uint8_t want[16], got[16], mask[16];
	bool found = false;

	if (inet_pton(family, addr, want) != 1 || getifaddrs(&list) < 0)
		return false;
	for (i = list; i && !found; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != family || strcmp(i->ifa_name, ifname))
			continue;
		size_t n = family == AF_INET ? 4 : 16;
		const void *a = family == AF_INET ? (void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
						  : (void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		const void *m = family == AF_INET ? (void *)&((struct sockaddr_in *)i->ifa_netmask)->sin_addr
						  : (void *)&((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr;
		memcpy(got, a, n);
		memcpy(mask, m, n);
		unsigned bits = 0;
		for (size_t k = 0; k < n; k++)
			bits += (unsigned)__builtin_popcount(mask[k]);
		found = !memcmp(got, want, n) && bits == len;
	}
	freeifaddrs(list);
	return found;
}

/* Whether /proc/net/route (IPv4) has dst/len via ifname. */
static bool has_route4(const char *ifname, const char *dst, unsigned len)
{
	char line[256], dev[IFNAMSIZ + 1];
	unsigned d, gw, flags, refcnt, use, metric, mask;
	struct in_addr want;
	bool found = false;
	FILE *f = fopen("/proc/net/route", "r");

	if (!f || inet_pton(AF_INET, dst, &want) != 1)
		return false;
	uint32_t wmask = len ? htonl(~0u << (32 - len)) : 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%16s %x %x %x %u %u %u %x", dev, &d, &gw, &flags, &refcnt, &use,
			   &metric, &mask) == 8 &&
		    !strcmp(dev, ifname) && d == want.s_addr && mask == wmask)
			found = true;
	fclose(f);
	return found;
}

/* Whether /proc/net/ipv6_route has dst/len via ifname. */
static bool has_route6(const char *ifname, const char *dst, unsigned len)
{
	char line[512], hex[33], want_hex[33], dev[IFNAMSIZ + 1];
	unsigned plen;
	uint8_t want[16];
	bool found = false;
	FILE *f = fopen("/proc/net/ipv6_route", "r");

	if (!f || inet_pton(AF_INET6, dst, want) != 1)
		return false;
	for (int i = 0; i < 16; i++)
		snprintf(want_hex + 2 * i, 3, "%02x", want[i]);
	while (fgets(line, sizeof(line), f)) {
		/* dst plen src plen nexthop metric refcnt use flags dev */
		if (sscanf(line, "%32s %x %*s %*s %*s %*s %*s %*s %*s %16s", hex, &plen, dev) == 3 &&
		    !strcmp(dev, ifname) && !strcmp(hex, want_hex) && plen == len)
			found = true;
	}
	fclose(f);
	return found;
}

static void addr4(const char *s, struct in_addr *a)
{
	CHECK(inet_pton(AF_INET, s, a) == 1);
}

static void addr6(const char *s, struct in6_addr *a)
{
	CHECK(inet_pton(AF_INET6, s, a) == 1);
}

static void body_configure(void)
{
	struct tun_error err = { "" };
	struct tun_dev *dev = NULL;
	struct in_addr a4;
	struct in6_addr a6;
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	CHECK(s >= 0);
	CHECK_RC(tun_open("dtlsgwt0", 2, TUN_OPEN_NONBLOCK, &dev, &err), 0);
	CHECK(!strcmp(tun_name(dev), "dtlsgwt0"));
	CHECK(tun_ifindex(dev) == (int)if_nametoindex("dtlsgwt0"));
	CHECK(tun_queue_count(dev) == 2);
	CHECK(tun_queue_fd(dev, 2) == -1);

	/* Two queues, each a multi-queue TUN without packet info, non-blocking. */
	for (unsigned i = 0; i < 2; i++) {
		int fd = tun_queue_fd(dev, i);
		CHECK(fd >= 0);
		CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
		CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		memset(&ifr, 0, sizeof(ifr));
		CHECK(ioctl(fd, TUNGETIFF, &ifr) == 0);
		CHECK(!strcmp(ifr.ifr_name, "dtlsgwt0"));
		CHECK((ifr.ifr_flags & (IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE)) ==
		      (IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE));
	}
	CHECK(sys_exists("dtlsgwt0", "queues/rx-1"));
	CHECK(sys_exists("dtlsgwt0", "queues/tx-1"));
	CHECK(!sys_exists("dtlsgwt0", "queues/rx-2"));

	/* MTU, read back through sysfs and ioctl. */
	CHECK_RC(tun_set_mtu(dev, 1360, &err), 0);
	CHECK(read_sys_long("dtlsgwt0", "mtu") == 1360);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "dtlsgwt0");
	CHECK(ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu == 1360);
	CHECK_RC(tun_set_mtu(dev, 20, &err), -EINVAL);

	/* Addresses. */
	addr4("10.77.0.1", &a4);
	CHECK_RC(tun_add_address(dev, AF_INET, &a4, 24, &err), 0);
	addr6("fd77::1", &a6);
	CHECK_RC(tun_add_address(dev, AF_INET6, &a6, 64, &err), 0);
	CHECK(has_address("dtlsgwt0", AF_INET, "10.77.0.1", 24));
	CHECK(has_address("dtlsgwt0", AF_INET6, "fd77::1", 64));
	CHECK_RC(tun_add_address(dev, AF_INET, &a4, 24, &err), -EEXIST);
	CHECK(strstr(err.msg, "add address 10.77.0.1/24 on dtlsgwt0: ") == err.msg);
	CHECK_RC(tun_add_address(dev, AF_INET, &a4, 33, &err), -EINVAL);
	CHECK_RC(tun_add_address(dev, AF_UNIX, &a4, 8, &err), -EINVAL);

	/* Routes need the link up. */
	CHECK_RC(tun_set_up(dev, true, &err), 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "dtlsgwt0");
	CHECK(ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP));

	addr4("10.78.9.9", &a4); /* host bits are dropped */
	CHECK_RC(tun_add_route(dev, AF_INET, &a4, 16, &err), 0);
	addr6("fd78::", &a6);
	CHECK_RC(tun_add_route(dev, AF_INET6, &a6, 48, &err), 0);
	addr6("fd79::", &a6);
	CHECK_RC(tun_add_route(dev, AF_INET6, &a6, 64, &err), 0);
	CHECK(has_route4("dtlsgwt0", "10.78.0.0", 16));
	CHECK(has_route6("dtlsgwt0", "fd78::", 48));
	CHECK(has_route6("dtlsgwt0", "fd79::", 64));
	CHECK_RC(tun_add_route(dev, AF_INET, &a4, 16, &err), -EEXIST);
	CHECK(!strcmp(err.msg, "add route 10.78.0.0/16 on dtlsgwt0: File exists"));

	/* Delete one route; only ours can be deleted. */
	CHECK_RC(tun_del_route(dev, AF_INET6, &a6, 64, &err), 0);
	CHECK(!has_route6("dtlsgwt0", "fd79::", 64));
	CHECK_RC(tun_del_route(dev, AF_INET6, &a6, 64, &err), -ENOENT);
	addr4("10.77.0.0", &a4); /* the kernel's connected route is not ours */
	CHECK_RC(tun_del_route(dev, AF_INET, &a4, 24, &err), -ENOENT);
	CHECK(has_route4("dtlsgwt0", "10.77.0.0", 24));

	/* A packet routed into the device comes out of one queue, raw IPv4. */
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	addr4("10.78.1.2", &to.sin_addr);
	CHECK(sendto(s, "hello", 5, 0, (struct sockaddr *)&to, sizeof(to)) == 5);
	struct pollfd pfd[2] = { { tun_queue_fd(dev, 0), POLLIN, 0 }, { tun_queue_fd(dev, 1), POLLIN, 0 } };
	uint8_t pkt[2048];
	bool got = false;
	for (int tries = 0; tries < 20 && !got && poll(pfd, 2, 100) >= 0; tries++) {
		for (int q = 0; q < 2 && !got; q++) {
			ssize_t n = read(pfd[q].fd, pkt, sizeof(pkt));
			/* Skip IPv6 chatter (router solicitations, MLD). */
			if (n >= 20 + 8 + 5 && (pkt[0] >> 4) == 4 && pkt[9] == 17)
				got = !memcmp(pkt + 16, &to.sin_addr, 4) && !memcmp(pkt + 28, "hello", 5);
		}
	}
	CHECK(got);

	/* Someone else's address and route on our device survive unconfigure. (The
	 * kernel itself flushes a device's IPv4 routes with its last IPv4 address,
	 * hence the foreign address.) */
	bool have_ip = system("ip addr add 10.81.0.1/32 dev dtlsgwt0 2>/dev/null && "
			      "ip route add 10.80.0.0/16 dev dtlsgwt0 2>/dev/null") == 0;
	if (!have_ip)
		fprintf(stderr, "(no ip(8): foreign route check skipped) ");

	CHECK_RC(tun_unconfigure(dev, &err), 0);
	CHECK(!has_route4("dtlsgwt0", "10.78.0.0", 16));
	CHECK(!has_route6("dtlsgwt0", "fd78::", 48));
	CHECK(!has_address("dtlsgwt0", AF_INET, "10.77.0.1", 24));
	CHECK(!has_address("dtlsgwt0", AF_INET6, "fd77::1", 64));
	CHECK(!have_ip || has_route4("dtlsgwt0", "10.80.0.0", 16));
	CHECK(!have_ip || has_address("dtlsgwt0", AF_INET, "10.81.0.1", 32));
	CHECK(if_nametoindex("dtlsgwt0") != 0);
	CHECK_RC(tun_unconfigure(dev, &err), 0); /* nothing left to do */

	tun_teardown(dev, &err);
	CHECK(if_nametoindex("dtlsgwt0") == 0);
	close(s);
}

static void test_configure(void)
{
	if (!skip_unless_root())
		in_netns(body_configure);
}

/* tun_teardown() alone removes routes and addresses and the device. */
static void body_teardown(void)
{
	struct tun_error err = { "" };
	struct tun_dev *dev = NULL;
	struct in_addr a4;
	struct in6_addr a6;

	CHECK_RC(tun_open("dtlsgwt1", 3, 0, &dev, &err), 0);
	CHECK(tun_queue_count(dev) == 3);
	CHECK(!(fcntl(tun_queue_fd(dev, 0), F_GETFL) & O_NONBLOCK));
	addr4("10.1.1.1", &a4);
	CHECK_RC(tun_add_address(dev, AF_INET, &a4, 32, &err), 0);
	addr6("fd01::1", &a6);
	CHECK_RC(tun_add_address(dev, AF_INET6, &a6, 128, &err), 0);
	CHECK_RC(tun_set_up(dev, true, &err), 0);
	addr4("0.0.0.0", &a4);
	CHECK_RC(tun_add_route(dev, AF_INET, &a4, 1, &err), 0);
	addr6("::", &a6);
	CHECK_RC(tun_add_route(dev, AF_INET6, &a6, 0, &err), 0);
	CHECK(has_route4("dtlsgwt1", "0.0.0.0", 1));
	CHECK(has_route6("dtlsgwt1", "::", 0));
	/* Deleting an address of ours drops it from the record. */
	addr4("10.1.1.1", &a4);
	CHECK_RC(tun_del_address(dev, AF_INET, &a4, 32, &err), 0);
	CHECK(!has_address("dtlsgwt1", AF_INET, "10.1.1.1", 32));
	CHECK_RC(tun_del_address(dev, AF_INET, &a4, 32, &err), -ENOENT);
	/* Down, then the kernel drops the IPv4 route itself: still a clean unconfigure. */
	CHECK_RC(tun_set_up(dev, false, &err), 0);
	tun_teardown(dev, &err);
	for (int i = 0; i < 50 && if_nametoindex("dtlsgwt1"); i++)
		usleep(10000);
	CHECK(if_nametoindex("dtlsgwt1") == 0);
	tun_teardown(NULL, NULL);
}

static void test_teardown(void)
{
	if (!skip_unless_root())
		in_netns(body_teardown);
}

static void body_names_and_errors(void)
{
	struct tun_error err = { "" };
	struct tun_dev *dev = NULL, *dev2 = NULL;
	struct in_addr a4;

	/* Kernel-chosen names: default and pattern. */
	CHECK_RC(tun_open(NULL, 1, 0, &dev, &err), 0);
	CHECK(!strncmp(tun_name(dev), "tun", 3));
	CHECK_RC(tun_open("gw%d", 2, 0, &dev2, &err), 0);
	CHECK(!strcmp(tun_name(dev2), "gw0"));
	tun_teardown(dev2, NULL);
	tun_teardown(dev, NULL);

	/* Bad arguments. */
	CHECK_RC(tun_open("0123456789abcdef", 1, 0, &dev, &err), -EINVAL);
	CHECK(strstr(err.msg, "longer than 15 bytes") != NULL);
	CHECK(dev == NULL);
	CHECK_RC(tun_open("x", 0, 0, &dev, &err), -EINVAL);
	CHECK_RC(tun_open("x", TUN_MAX_QUEUES + 1, 0, &dev, &err), -EINVAL);
	CHECK(!strcmp(err.msg, "TUN device x: 257 queues; 1 to 256 allowed"));

	/* An existing device that is not a TUN device. */
	int rc = tun_open("lo", 1, 0, &dev, &err);
	CHECK(rc < 0);
	CHECK(strstr(err.msg, "create TUN device lo: ") == err.msg);
	CHECK(strstr(err.msg, "is not a multi-queue TUN device") != NULL);

	/* A route on a link that is down. */
	CHECK_RC(tun_open("dtlsgwt2", 1, 0, &dev, &err), 0);
	addr4("10.5.0.0", &a4);
	CHECK_RC(tun_add_route(dev, AF_INET, &a4, 16, &err), -ENETDOWN);
	CHECK(!strcmp(err.msg, "add route 10.5.0.0/16 on dtlsgwt2: Network is down"));
	CHECK_RC(tun_set_up(dev, true, &err), 0);
	CHECK_RC(tun_add_route(dev, AF_INET, &a4, 16, &err), 0);
	tun_teardown(dev, NULL);
}

static void test_names_and_errors(void)
{
	if (!skip_unless_root())
		in_netns(body_names_and_errors);
}

static CU_TestInfo tests[] = {
	{ "two queues, MTU, addresses, routes, unconfigure", test_configure },
	{ "teardown alone cleans up", test_teardown },
	{ "names and errors", test_names_and_errors },
	CU_TEST_INFO_NULL,
};

const struct unit_suite unit_suite = { "tun", NULL, NULL, tests };
