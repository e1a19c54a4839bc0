/* IPv4/IPv6 header inspection: bounds first, then fixed offsets. */
#include <errno.h>
#include <sys/socket.h>

#include "policy/ippkt.h"

#define IPV4_MIN_HDR 20
#define IPV4_SRC_OFF 12
#define IPV4_DST_OFF 16
#define IPV6_HDR 40
#define IPV6_SRC_OFF 8
#define IPV6_DST_OFF 24

int ip_packet_addrs(const uint8_t *pkt, size_t len, struct ip_addrs *out)
{
	if (!pkt || len < 1)
		return -EINVAL;
	switch (pkt[0] >> 4) {
	case 4: {
		size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
		if (len < IPV4_MIN_HDR || ihl < IPV4_MIN_HDR || ihl > len)
			return -EINVAL;
		out->family = AF_INET;
		out->src = pkt + IPV4_SRC_OFF;
		out->dst = pkt + IPV4_DST_OFF;
		return 0;
	}
	case 6:
		if (len < IPV6_HDR)
			return -EINVAL;
		out->family = AF_INET6;
		out->src = pkt + IPV6_SRC_OFF;
		out->dst = pkt + IPV6_DST_OFF;
		return 0;
	default:
		return -EINVAL;
	}
}

bool ip_addr_link_local(int family, const uint8_t *addr)
{
	if (family == AF_INET)
		return addr[0] == 169 && addr[1] == 254;
	return family == AF_INET6 && addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80;
}
