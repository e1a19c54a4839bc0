/* IP prefix parsing, formatting and comparison. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/prefix.h"

unsigned prefix_family_bits(int family)
{
	switch (family) {
	case AF_INET:
		return 32;
	case AF_INET6:
		return 128;
	default:
		return 0;
	}
}

void prefix_mask(struct ip_prefix *p)
{
	unsigned bits = prefix_family_bits(p->family);

	for (unsigned i = 0; i < sizeof(p->addr); i++) {
		unsigned lo = i * 8;
		if (lo >= bits || lo >= p->len)
			p->addr[i] = 0;
		else if (p->len < lo + 8)
			p->addr[i] &= (uint8_t)(0xffu << (lo + 8 - p->len));
	}
}

int prefix_make(int family, const void *addr, unsigned len, struct ip_prefix *out)
{
	unsigned bits = prefix_family_bits(family);

	if (!bits || len > bits || !addr)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)family;
	out->len = (uint8_t)len;
	memcpy(out->addr, addr, bits / 8);
	return 0;
}

/* Parse the decimal length after '/': 1 to 3 digits, at most max. */
static int parse_len(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t n = 0;

	for (; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9' || n == 3)
			return -EINVAL;
		v = v * 10 + (unsigned)(s[n] - '0');
	}
	if (n == 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int prefix_parse(const char *s, unsigned flags, struct ip_prefix *out)
{
	char text[INET6_ADDRSTRLEN];
	uint8_t addr[16] = { 0 };
	const char *slash;
	size_t alen;
	int family;
	unsigned len;

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(text))
		return -EINVAL;
	memcpy(text, s, alen);
	text[alen] = '\0';
	family = memchr(text, ':', alen) ? AF_INET6 : AF_INET;
	if (inet_pton(family, text, addr) != 1)
		return -EINVAL;
	len = prefix_family_bits(family);
	if (slash && parse_len(slash + 1, len, &len) < 0)
		return -EINVAL;

	struct ip_prefix p;
	if (prefix_make(family, addr, len, &p) < 0)
		return -EINVAL;
	struct ip_prefix masked = p;
	prefix_mask(&masked);
	int host_bits = memcmp(masked.addr, p.addr, sizeof(p.addr)) != 0;
	*out = (flags & PREFIX_KEEP_HOST_BITS) ? p : masked;
	return host_bits ? PREFIX_HOST_BITS_SET : 0;
}

/* Whether a and b agree on their first n bits. */
static bool equal_bits(const uint8_t *a, const uint8_t *b, unsigned n)
{
	unsigned whole = n / 8, rest = n % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xffu << (8 - rest));
	return ((a[whole] ^ b[whole]) & mask) == 0;
}

bool prefix_contains_addr(const struct ip_prefix *p, int family, const uint8_t *addr)
{
	return p->family == family && equal_bits(p->addr, addr, p->len);
}

bool prefix_contains(const struct ip_prefix *outer, const struct ip_prefix *inner)
{
	return outer->family == inner->family && inner->len >= outer->len &&
	       equal_bits(outer->addr, inner->addr, outer->len);
}

bool prefix_overlaps(const struct ip_prefix *a, const struct ip_prefix *b)
{
	return prefix_contains(a, b) || prefix_contains(b, a);
}

int prefix_cmp(const struct ip_prefix *a, const struct ip_prefix *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	int c = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (c)
		return c < 0 ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return 0;
}

char *prefix_format(const struct ip_prefix *p, char buf[static PREFIX_STRLEN])
{
	char text[INET6_ADDRSTRLEN];

	if (!inet_ntop(p->family, p->addr, text, sizeof(text)))
		snprintf(text, sizeof(text), "?");
	snprintf(buf, PREFIX_STRLEN, "%s/%u", text, (unsigned)p->len);
	return buf;
}
