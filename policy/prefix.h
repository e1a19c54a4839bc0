/*
 * IP prefixes (IPv4 and IPv6): the unit of allowed inner addresses, routes and
 * tunnel addresses. Plain values, no ownership.
 */
#ifndef DTLSGW_POLICY_PREFIX_H
#define DTLSGW_POLICY_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "policy/defs.h"

struct ip_prefix {
	uint8_t family;   /* AF_INET or AF_INET6 */
	uint8_t len;      /* prefix length in bits: 0..32 or 0..128 */
	uint8_t addr[16]; /* network byte order; IPv4 uses addr[0..3], the rest is zero */
};

/* Room for the text of any prefix, with its NUL: "ffff:...:ffff/128". */
#define PREFIX_STRLEN (INET6_ADDRSTRLEN + 4)

/* prefix_parse flags */
#define PREFIX_KEEP_HOST_BITS 0x1u /* an interface address ("10.0.0.1/24"): do not mask */

/* prefix_parse result when bits beyond the prefix length were set. */
#define PREFIX_HOST_BITS_SET 1

/*
 * Parse "10.1.0.0/16", "fd00::/64" or a bare address (a host prefix, /32 or /128).
 * Only numeric addresses (inet_pton(3) syntax) and a decimal length. Unless
 * PREFIX_KEEP_HOST_BITS is given, bits beyond the length are cleared.
 * Returns 0, PREFIX_HOST_BITS_SET if host bits were set (the caller may warn), or
 * -EINVAL if s is not a prefix.
 */
int prefix_parse(const char *s, unsigned flags, struct ip_prefix *out) POLICY_MUST_CHECK;

/* Build a prefix from an address of family and a length; -EINVAL if out of range.
 * Host bits are kept: call prefix_mask() for a network prefix. */
int prefix_make(int family, const void *addr, unsigned len,
		struct ip_prefix *out) POLICY_MUST_CHECK;

/* Clear the bits beyond p->len. */
void prefix_mask(struct ip_prefix *p);

/* Address bits of a family: 32, 128, or 0 for anything else. */
unsigned prefix_family_bits(int family);

/* Whether addr (prefix_family_bits(family)/8 bytes) lies inside p. */
bool prefix_contains_addr(const struct ip_prefix *p, int family, const uint8_t *addr);

/* Whether inner lies inside outer (same family, inner->len >= outer->len, and equal
 * over outer's bits). A prefix contains itself. */
bool prefix_contains(const struct ip_prefix *outer, const struct ip_prefix *inner);

/* Whether a and b share any address: one contains the other. */
bool prefix_overlaps(const struct ip_prefix *a, const struct ip_prefix *b);

/* A total order: family, then address bytes, then length. Containing prefixes
 * of masked inputs sort before the prefixes they contain. */
int prefix_cmp(const struct ip_prefix *a, const struct ip_prefix *b);

/* Write "addr/len" into buf and return buf. */
char *prefix_format(const struct ip_prefix *p, char buf[static PREFIX_STRLEN]);

#endif
