/* The addresses of an IPv4 or IPv6 packet, read from untrusted bytes. */
#ifndef DTLSGW_POLICY_IPPKT_H
#define DTLSGW_POLICY_IPPKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/defs.h"

struct ip_addrs {
	int family;         /* AF_INET or AF_INET6 */
	const uint8_t *src; /* 4 or 16 bytes inside the packet (borrowed) */
	const uint8_t *dst;
};

/*
 * Find the source and destination of the packet pkt[0..len): the version nibble
 * chooses the family; IPv4 needs len >= 20 and a header length of 20..len bytes,
 * IPv6 needs len >= 40. Returns 0 or -EINVAL. Nothing is copied: out points into pkt.
 */
int ip_packet_addrs(const uint8_t *pkt, size_t len, struct ip_addrs *out) POLICY_MUST_CHECK;
/* Whether addr (4 bytes for AF_INET, 16 for AF_INET6) is link-local: 169.254.0.0/16 or
 * fe80::/10. Such a source (an ICMPv6 redirect or neighbour discovery of the peer's own
 * link) is never meant for the tunnel. */
bool ip_addr_link_local(int family, const uint8_t *addr);

#endif
