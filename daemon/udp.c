/* UDP sockets and addresses. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/gateway.h"
#include "daemon/udp.h"

#define UDP_BUFFER_BYTES (4 << 20)

static void set_buffer(int fd, int force_opt, int opt)
{
	int v = UDP_BUFFER_BYTES;

	/* SO_*BUFFORCE passes the rmem_max/wmem_max limits, but only with CAP_NET_ADMIN. */
	if (setsockopt(fd, SOL_SOCKET, force_opt, &v, sizeof(v)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v));
}

/* A UDP socket for listen (IPV6_V6ONLY off), with SO_REUSEPORT if reuse; -errno. */
static int udp_socket(const struct sockaddr *listen, bool reuse)
{
	int fd = socket(listen->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int on = 1, off = 0, rc;

	if (fd < 0)
		return -errno;
	if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0)
		goto fail;
	if (listen->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0)
		goto fail;
	return fd;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

int udp_probe(const struct sockaddr *listen, socklen_t len)
{
	int fd = udp_socket(listen, false), rc = 0;

	if (fd < 0)
		return fd;
	if (bind(fd, listen, len) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int udp_open(const struct sockaddr *listen, socklen_t len)
{
	int fd = udp_socket(listen, true), rc;

	if (fd < 0)
		return fd;
	if (listen->sa_family == AF_INET6) {
		int pmtu = IPV6_PMTUDISC_DONT;
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof(pmtu));
	}
	{
		/* Our datagrams fit the configured path MTU; if the real path is smaller,
		 * let the kernel fragment rather than drop them. */
		int pmtu = IP_PMTUDISC_DONT;
		(void)setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
	}
	set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF);
	set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF);
	if (bind(fd, listen, len) < 0)
		goto fail;
	return fd;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

bool udp_gso_supported(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	/* Kernels without UDP GSO (before 4.18) do not know the option. */
	return getsockopt(fd, SOL_UDP, UDP_SEGMENT, &v, &len) == 0;
}

bool udp_enable_gro(int fd)
{
	int on = 1;

	return setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof(on)) == 0;
}

int udp_normalize(int family, const struct sockaddr *addr, socklen_t len,
		  struct sockaddr_storage *out, socklen_t *out_len)
{
	memset(out, 0, sizeof(*out));
	if (addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
		if (family == AF_INET) {
			memcpy(out, in, sizeof(*in));
			*out_len = sizeof(*in);
			return 0;
		}
		struct sockaddr_in6 *m = (struct sockaddr_in6 *)out;
		m->sin6_family = AF_INET6;
		m->sin6_port = in->sin_port;
		m->sin6_addr.s6_addr[10] = 0xff;
		m->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&m->sin6_addr.s6_addr[12], &in->sin_addr, 4);
		*out_len = sizeof(*m);
		return 0;
	}
	if (addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
		if (family != AF_INET6) {
			if (!IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
				return -EAFNOSUPPORT;
			struct sockaddr_in *v4 = (struct sockaddr_in *)out;
			v4->sin_family = AF_INET;
			v4->sin_port = in6->sin6_port;
			memcpy(&v4->sin_addr, &in6->sin6_addr.s6_addr[12], 4);
			*out_len = sizeof(*v4);
			return 0;
		}
		memcpy(out, in6, sizeof(*in6));
		*out_len = sizeof(*in6);
		return 0;
	}
	return -EAFNOSUPPORT;
}

const char *gw_addr_str(const struct sockaddr *sa, socklen_t len, char buf[static GW_ADDRSTRLEN])
{
	char a[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(buf, GW_ADDRSTRLEN, "%s:%u", a, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], a, sizeof(a));
			snprintf(buf, GW_ADDRSTRLEN, "%s:%u", a, ntohs(in6->sin6_port));
		} else {
			inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
			snprintf(buf, GW_ADDRSTRLEN, "[%s]:%u", a, ntohs(in6->sin6_port));
		}
	} else {
		snprintf(buf, GW_ADDRSTRLEN, "(address family %d)", sa->sa_family);
	}
	return buf;
}
