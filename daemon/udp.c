/* UDP sockets and addresses. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
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
	{
		/* ICMP errors for the datagrams we send (port unreachable, no route) to the
		 * error queue: an unconnected socket hears of them only so (udp_error_take). */
		int on = 1;
		(void)setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
		if (listen->sa_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof(on));
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

int udp_error_take(int fd, struct udp_error *e)
{
	uint8_t payload[64];
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in6))];
	} ctrl;
	struct iovec iov = { .iov_base = payload, .iov_len = sizeof(payload) };
	struct msghdr m = {
		.msg_name = &e->dst, .msg_namelen = sizeof(e->dst), .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctrl.b, .msg_controllen = sizeof(ctrl.b),
	};

	memset(e, 0, sizeof(*e));
	if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	e->dst_len = m.msg_namelen;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (!((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
		      (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) ||
		    c->cmsg_len < CMSG_LEN(sizeof(struct sock_extended_err)))
			continue;
		struct sock_extended_err ee;
		memcpy(&ee, CMSG_DATA(c), sizeof(ee));
		e->err = (int)ee.ee_errno;
		e->origin = ee.ee_origin;
		e->type = ee.ee_type;
		e->code = ee.ee_code;
		size_t room = c->cmsg_len - CMSG_LEN(sizeof(ee));
		const struct sockaddr *off = (const struct sockaddr *)(CMSG_DATA(c) + sizeof(ee));
		size_t want = off->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
			      off->sa_family == AF_INET ? sizeof(struct sockaddr_in) : 0;
		if (room >= sizeof(sa_family_t) && want && want <= room) {
			memcpy(&e->from, off, want);
			e->from_len = (socklen_t)want;
		}
	}
	return 1;
}

bool udp_error_unreachable(const struct udp_error *e)
{
	if (e->origin == SO_EE_ORIGIN_ICMP)
		return e->type == ICMP_DEST_UNREACH && e->code != ICMP_FRAG_NEEDED;
	if (e->origin == SO_EE_ORIGIN_ICMP6)
		return e->type == ICMP6_DST_UNREACH;
	return false;
}

/* The words for an ICMP or ICMPv6 type and code, or NULL. */
static const char *icmp_words(const struct udp_error *e)
{
	if (e->origin == SO_EE_ORIGIN_ICMP && e->type == ICMP_DEST_UNREACH) {
		switch (e->code) {
		case ICMP_NET_UNREACH: return "network unreachable";
		case ICMP_HOST_UNREACH: return "host unreachable";
		case ICMP_PROT_UNREACH: return "protocol unreachable";
		case ICMP_PORT_UNREACH: return "port unreachable";
		case ICMP_FRAG_NEEDED: return "fragmentation needed";
		case ICMP_NET_ANO:
		case ICMP_HOST_ANO:
		case ICMP_PKT_FILTERED: return "administratively prohibited";
		default: return "destination unreachable";
		}
	}
	if (e->origin == SO_EE_ORIGIN_ICMP && e->type == ICMP_TIME_EXCEEDED)
		return "time exceeded";
	if (e->origin == SO_EE_ORIGIN_ICMP6 && e->type == ICMP6_DST_UNREACH) {
		switch (e->code) {
		case ICMP6_DST_UNREACH_NOROUTE: return "no route";
		case ICMP6_DST_UNREACH_ADMIN: return "administratively prohibited";
		case ICMP6_DST_UNREACH_ADDR: return "address unreachable";
		case ICMP6_DST_UNREACH_NOPORT: return "port unreachable";
		default: return "destination unreachable";
		}
	}
	if (e->origin == SO_EE_ORIGIN_ICMP6 && e->type == ICMP6_PACKET_TOO_BIG)
		return "packet too big";
	if (e->origin == SO_EE_ORIGIN_ICMP6 && e->type == ICMP6_TIME_EXCEEDED)
		return "time exceeded";
	return NULL;
}

const char *udp_error_str(const struct udp_error *e, char buf[static UDP_ERRSTRLEN])
{
	char a[INET6_ADDRSTRLEN] = "";
	const struct sockaddr *f = (const struct sockaddr *)&e->from;
	const char *w = icmp_words(e);

	if (e->from_len && f->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)f)->sin_addr, a, sizeof(a));
	} else if (e->from_len && f->sa_family == AF_INET6) {
		const struct in6_addr *in6 = &((const struct sockaddr_in6 *)f)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(in6))
			inet_ntop(AF_INET, &in6->s6_addr[12], a, sizeof(a));
		else
			inet_ntop(AF_INET6, in6, a, sizeof(a));
	}
	const char *kind = e->origin == SO_EE_ORIGIN_ICMP6 ? "ICMPv6" : "ICMP";
	if (w)
		snprintf(buf, UDP_ERRSTRLEN, "%s %s%s%s", kind, w, a[0] ? " from " : "", a);
	else if (e->origin == SO_EE_ORIGIN_ICMP || e->origin == SO_EE_ORIGIN_ICMP6)
		snprintf(buf, UDP_ERRSTRLEN, "%s type %u code %u%s%s", kind, e->type, e->code,
			 a[0] ? " from " : "", a);
	else
		snprintf(buf, UDP_ERRSTRLEN, "%s", strerror(e->err));
	return buf;
}

bool udp_errno_from_icmp(int err)
{
	return err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH ||
	       err == EACCES || err == EPROTO;
}

int udp_send(int fd, const void *d, size_t n, const struct sockaddr *to, socklen_t to_len)
{
	if (sendto(fd, d, n, MSG_DONTWAIT, to, to_len) >= 0)
		return 0;
	if (!udp_errno_from_icmp(errno))
		return -1;
	return sendto(fd, d, n, MSG_DONTWAIT, to, to_len) >= 0 ? 0 : -1;
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
