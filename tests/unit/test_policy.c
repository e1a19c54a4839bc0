/* policy/: prefixes, the LPM trie, endpoints, hex keys, source checks, PSK lookup. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"
#include "policy/policy.h"

static struct ip_prefix P(const char *s)
{
	struct ip_prefix p;
	int rc = prefix_parse(s, 0, &p);
	CU_ASSERT_FATAL(rc >= 0);
	return p;
}

static const uint8_t *A4(const char *s, uint8_t buf[16])
{
	CU_ASSERT_FATAL(inet_pton(AF_INET, s, buf) == 1);
	return buf;
}

static const uint8_t *A6(const char *s, uint8_t buf[16])
{
	CU_ASSERT_FATAL(inet_pton(AF_INET6, s, buf) == 1);
	return buf;
}

static void test_prefix_parse_valid(void)
{
	struct ip_prefix p;
	char buf[PREFIX_STRLEN];

	CU_ASSERT_EQUAL(prefix_parse("10.1.0.0/16", 0, &p), 0);
	CU_ASSERT_EQUAL(p.family, AF_INET);
	CU_ASSERT_EQUAL(p.len, 16);
	CU_ASSERT_STRING_EQUAL(prefix_format(&p, buf), "10.1.0.0/16");

	CU_ASSERT_EQUAL(prefix_parse("fd00::/64", 0, &p), 0);
	CU_ASSERT_EQUAL(p.family, AF_INET6);
	CU_ASSERT_EQUAL(p.len, 64);
	CU_ASSERT_STRING_EQUAL(prefix_format(&p, buf), "fd00::/64");

	CU_ASSERT_EQUAL(prefix_parse("0.0.0.0/0", 0, &p), 0);
	CU_ASSERT_EQUAL(p.len, 0);
	CU_ASSERT_EQUAL(prefix_parse("::/0", 0, &p), 0);
	CU_ASSERT_EQUAL(p.len, 0);

	/* A bare address is a host prefix. */
	CU_ASSERT_EQUAL(prefix_parse("192.0.2.7", 0, &p), 0);
	CU_ASSERT_EQUAL(p.len, 32);
	CU_ASSERT_EQUAL(prefix_parse("2001:db8::1", 0, &p), 0);
	CU_ASSERT_EQUAL(p.len, 128);
	CU_ASSERT_EQUAL(prefix_parse("::ffff:10.0.0.0/104", 0, &p), 0);
	CU_ASSERT_EQUAL(p.family, AF_INET6);

	/* Host bits: masked and flagged, or kept on request. */
	CU_ASSERT_EQUAL(prefix_parse("10.1.2.3/16", 0, &p), PREFIX_HOST_BITS_SET);
	CU_ASSERT_STRING_EQUAL(prefix_format(&p, buf), "10.1.0.0/16");
	CU_ASSERT_EQUAL(prefix_parse("10.1.2.3/23", 0, &p), PREFIX_HOST_BITS_SET);
	CU_ASSERT_STRING_EQUAL(prefix_format(&p, buf), "10.1.2.0/23");
	CU_ASSERT_EQUAL(prefix_parse("fd00::1:2/112", 0, &p), PREFIX_HOST_BITS_SET);
	CU_ASSERT_STRING_EQUAL(prefix_format(&p, buf), "fd00::1:0/112");
	CU_ASSERT_EQUAL(prefix_parse("10.0.0.1/24", PREFIX_KEEP_HOST_BITS, &p), PREFIX_HOST_BITS_SET);
	CU_ASSERT_STRING_EQUAL(prefix_format(&p, buf), "10.0.0.1/24");
	CU_ASSERT_EQUAL(prefix_parse("255.255.255.255/1", 0, &p), PREFIX_HOST_BITS_SET);
	CU_ASSERT_STRING_EQUAL(prefix_format(&p, buf), "128.0.0.0/1");
}

static void test_prefix_parse_invalid(void)
{
	static const char *bad[] = {
		"", "/", "/8", "10.0.0.0/", "10.0.0.0/33", "fd00::/129", "10.0.0.0/-1",
		"10.0.0.0/+8", "10.0.0.0/8/8", "10.0.0.0/ 8", " 10.0.0.0/8", "10.0.0.0/8 ",
		"10.0.0/8", "10.0.0.0.0/8", "010.0.0.0/8", "256.0.0.0/8", "0x0a.0.0.0/8",
		"10.0.0.0/0008", "fd00:::/64", "fd00::g/64", "[fd00::]/64", "fd00::/6a",
		"host.example/24", "10.0.0.0/1000000000000000000000",
		"1111:2222:3333:4444:5555:6666:7777:8888:9999/64",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/1",
	};
	struct ip_prefix p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = prefix_parse(bad[i], 0, &p);
		if (rc != -EINVAL)
			fprintf(stderr, "accepted bad prefix \"%s\"\n", bad[i]);
		CU_ASSERT_EQUAL(rc, -EINVAL);
	}
	CU_ASSERT_EQUAL(prefix_parse(NULL, 0, &p), -EINVAL);
	CU_ASSERT_EQUAL(prefix_make(AF_INET, "\0\0\0\0", 33, &p), -EINVAL);
	CU_ASSERT_EQUAL(prefix_make(AF_UNIX, "\0\0\0\0", 1, &p), -EINVAL);
}

static void test_prefix_relations(void)
{
	struct ip_prefix a = P("10.0.0.0/8"), b = P("10.1.0.0/16"), c = P("11.0.0.0/8");
	struct ip_prefix d = P("fd00::/8"), z = P("0.0.0.0/0");
	uint8_t buf[16];

	CU_ASSERT_TRUE(prefix_contains(&a, &b));
	CU_ASSERT_FALSE(prefix_contains(&b, &a));
	CU_ASSERT_TRUE(prefix_overlaps(&b, &a));
	CU_ASSERT_FALSE(prefix_overlaps(&a, &c));
	CU_ASSERT_FALSE(prefix_overlaps(&a, &d));
	CU_ASSERT_TRUE(prefix_contains(&z, &c));
	CU_ASSERT_TRUE(prefix_contains(&a, &a));
	CU_ASSERT_TRUE(prefix_contains_addr(&a, AF_INET, A4("10.255.255.255", buf)));
	CU_ASSERT_FALSE(prefix_contains_addr(&a, AF_INET, A4("9.255.255.255", buf)));
	CU_ASSERT_FALSE(prefix_contains_addr(&a, AF_INET6, A6("a00::", buf)));
	CU_ASSERT_TRUE(prefix_cmp(&z, &a) < 0);
	CU_ASSERT_TRUE(prefix_cmp(&a, &b) < 0);
	CU_ASSERT_TRUE(prefix_cmp(&b, &c) < 0);
	CU_ASSERT_EQUAL(prefix_cmp(&b, &b), 0);
}

/* Values for the trie: distinct addresses. */
static char tag[16];
#define V(i) ((void *)&tag[i])

static void *look4(const struct lpm *t, const char *s)
{
	uint8_t buf[16];
	return lpm_lookup(t, AF_INET, A4(s, buf));
}

static void *look6(const struct lpm *t, const char *s)
{
	uint8_t buf[16];
	return lpm_lookup(t, AF_INET6, A6(s, buf));
}

static void test_lpm_overlapping(void)
{
	struct lpm t;
	struct ip_prefix p;

	lpm_init(&t);
	CU_ASSERT_PTR_NULL(look4(&t, "10.0.0.1"));
	CU_ASSERT_PTR_NULL(look6(&t, "::1"));

	/* Insert out of order so that splits, glue nodes and re-parenting happen. */
	p = P("10.1.2.3/32");
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(3)), 0);
	p = P("10.1.0.0/16");
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(2)), 0);
	p = P("0.0.0.0/0");
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(0)), 0);
	p = P("10.0.0.0/8");
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(1)), 0);
	p = P("10.128.0.0/9");
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(4)), 0);
	p = P("192.168.0.0/16");
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(5)), 0);
	p = P("10.1.0.0/16");
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(9)), -EEXIST);
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, NULL), -EINVAL);

	p = P("2001:db8:1::/48");
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(10)), 0);
	p = P("2001:db8:1:2::/64");
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(11)), 0);
	p = P("2001:db8:1:2::7/128");
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(12)), 0);
	p = P("2001:db8:1:3::/64");
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(13)), 0);
	CU_ASSERT_EQUAL(t.count, 10);

	CU_ASSERT_PTR_EQUAL(look4(&t, "10.1.2.3"), V(3));
	CU_ASSERT_PTR_EQUAL(look4(&t, "10.1.2.4"), V(2));
	CU_ASSERT_PTR_EQUAL(look4(&t, "10.1.255.255"), V(2));
	CU_ASSERT_PTR_EQUAL(look4(&t, "10.2.0.0"), V(1));
	CU_ASSERT_PTR_EQUAL(look4(&t, "10.127.255.255"), V(1));
	CU_ASSERT_PTR_EQUAL(look4(&t, "10.128.0.0"), V(4));
	CU_ASSERT_PTR_EQUAL(look4(&t, "10.255.255.255"), V(4));
	CU_ASSERT_PTR_EQUAL(look4(&t, "11.0.0.0"), V(0));
	CU_ASSERT_PTR_EQUAL(look4(&t, "9.255.255.255"), V(0));
	CU_ASSERT_PTR_EQUAL(look4(&t, "192.168.3.4"), V(5));
	CU_ASSERT_PTR_EQUAL(look4(&t, "255.255.255.255"), V(0));
	CU_ASSERT_PTR_EQUAL(look4(&t, "0.0.0.0"), V(0));

	CU_ASSERT_PTR_EQUAL(look6(&t, "2001:db8:1:2::7"), V(12));
	CU_ASSERT_PTR_EQUAL(look6(&t, "2001:db8:1:2::6"), V(11));
	CU_ASSERT_PTR_EQUAL(look6(&t, "2001:db8:1:2:ffff:ffff:ffff:ffff"), V(11));
	CU_ASSERT_PTR_EQUAL(look6(&t, "2001:db8:1:3::1"), V(13));
	CU_ASSERT_PTR_EQUAL(look6(&t, "2001:db8:1:4::1"), V(10));
	CU_ASSERT_PTR_EQUAL(look6(&t, "2001:db8:1:ffff::1"), V(10));
	CU_ASSERT_PTR_NULL(look6(&t, "2001:db8:2::1"));
	CU_ASSERT_PTR_NULL(look6(&t, "::"));
	/* The IPv4 /0 does not answer for IPv6, nor for an unknown family. */
	CU_ASSERT_PTR_NULL(look6(&t, "::ffff:10.1.2.3"));
	CU_ASSERT_PTR_NULL(lpm_lookup(&t, AF_UNIX, (const uint8_t *)"0123456789abcdef"));

	p = P("10.1.0.0/16");
	CU_ASSERT_PTR_EQUAL(lpm_get(&t, &p), V(2));
	p = P("10.1.0.0/17");
	CU_ASSERT_PTR_NULL(lpm_get(&t, &p));
	lpm_free(&t);
	CU_ASSERT_EQUAL(t.count, 0);
	CU_ASSERT_PTR_NULL(look4(&t, "10.1.2.3"));
}

static void test_lpm_remove(void)
{
	struct lpm t;
	struct ip_prefix p;
	void *v = NULL;

	lpm_init(&t);
	const char *pfx[] = { "0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.3/32",
			      "10.2.0.0/16", "::/0", "fd00::/48", "fd00:0:0:1::/64",
			      "fd00::1/128" };
	for (size_t i = 0; i < 9; i++) {
		p = P(pfx[i]);
		CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(i)), 0);
	}

	/* Removing a middle node keeps what lies under and above it. */
	p = P("10.1.0.0/16");
	CU_ASSERT_EQUAL(lpm_remove(&t, &p, &v), 0);
	CU_ASSERT_PTR_EQUAL(v, V(2));
	CU_ASSERT_EQUAL(lpm_remove(&t, &p, &v), -ENOENT);
	CU_ASSERT_PTR_EQUAL(look4(&t, "10.1.2.3"), V(3));
	CU_ASSERT_PTR_EQUAL(look4(&t, "10.1.2.4"), V(1));
	CU_ASSERT_PTR_EQUAL(look4(&t, "10.2.0.1"), V(4));

	/* A prefix that exists only as glue, or not at all, is not there. */
	p = P("10.0.0.0/14");
	CU_ASSERT_EQUAL(lpm_remove(&t, &p, NULL), -ENOENT);
	p = P("10.1.2.3/31");
	CU_ASSERT_EQUAL(lpm_remove(&t, &p, NULL), -ENOENT);
	p = P("172.16.0.0/12");
	CU_ASSERT_EQUAL(lpm_remove(&t, &p, NULL), -ENOENT);

	/* Leaves, then the root. */
	p = P("10.1.2.3/32");
	CU_ASSERT_EQUAL(lpm_remove(&t, &p, NULL), 0);
	CU_ASSERT_PTR_EQUAL(look4(&t, "10.1.2.3"), V(1));
	p = P("0.0.0.0/0");
	CU_ASSERT_EQUAL(lpm_remove(&t, &p, NULL), 0);
	CU_ASSERT_PTR_NULL(look4(&t, "11.0.0.1"));
	CU_ASSERT_PTR_EQUAL(look4(&t, "10.200.0.1"), V(1));
	p = P("10.0.0.0/8");
	CU_ASSERT_EQUAL(lpm_remove(&t, &p, NULL), 0);
	CU_ASSERT_PTR_NULL(look4(&t, "10.200.0.1"));
	CU_ASSERT_PTR_EQUAL(look4(&t, "10.2.3.4"), V(4));
	p = P("10.2.0.0/16");
	CU_ASSERT_EQUAL(lpm_remove(&t, &p, NULL), 0);
	CU_ASSERT_PTR_NULL(t.root4);

	p = P("fd00::/48");
	CU_ASSERT_EQUAL(lpm_remove(&t, &p, NULL), 0);
	CU_ASSERT_PTR_EQUAL(look6(&t, "fd00::1"), V(8));
	CU_ASSERT_PTR_EQUAL(look6(&t, "fd00::2"), V(5));
	CU_ASSERT_PTR_EQUAL(look6(&t, "fd00:0:0:1::2"), V(7));
	CU_ASSERT_EQUAL(t.count, 3);

	/* Re-inserting after removal works. */
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(6)), 0);
	CU_ASSERT_PTR_EQUAL(look6(&t, "fd00::2"), V(6));
	lpm_free(&t);
}

/* Edge bits: prefixes that differ only in their last bit, byte boundaries, /31, /127. */
static void test_lpm_edge_bits(void)
{
	struct lpm t;
	struct ip_prefix p;
	uint8_t a[16];

	lpm_init(&t);
	p = P("10.0.0.0/31");
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(0)), 0);
	p = P("10.0.0.2/31");
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(1)), 0);
	p = P("10.0.0.1/32");
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(2)), 0);
	p = P("128.0.0.0/1");
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(3)), 0);
	p = P("10.0.1.0/24");
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(4)), 0);
	p = P("10.0.0.0/23");
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(5)), 0);
	CU_ASSERT_PTR_EQUAL(look4(&t, "10.0.0.0"), V(0));
	CU_ASSERT_PTR_EQUAL(look4(&t, "10.0.0.1"), V(2));
	CU_ASSERT_PTR_EQUAL(look4(&t, "10.0.0.2"), V(1));
	CU_ASSERT_PTR_EQUAL(look4(&t, "10.0.0.3"), V(1));
	CU_ASSERT_PTR_EQUAL(look4(&t, "10.0.0.4"), V(5));
	CU_ASSERT_PTR_EQUAL(look4(&t, "10.0.1.4"), V(4));
	CU_ASSERT_PTR_NULL(look4(&t, "10.0.2.0"));
	CU_ASSERT_PTR_EQUAL(look4(&t, "128.0.0.0"), V(3));
	CU_ASSERT_PTR_NULL(look4(&t, "127.255.255.255"));

	p = P("fd00::/127");
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(6)), 0);
	p = P("fd00::1/128");
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(7)), 0);
	p = P("fd00::8000:0:0:0/65");
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(8)), 0);
	CU_ASSERT_PTR_EQUAL(look6(&t, "fd00::"), V(6));
	CU_ASSERT_PTR_EQUAL(look6(&t, "fd00::1"), V(7));
	CU_ASSERT_PTR_NULL(look6(&t, "fd00::2"));
	CU_ASSERT_PTR_EQUAL(look6(&t, "fd00::8000:0:0:1"), V(8));
	CU_ASSERT_PTR_NULL(look6(&t, "fd00::7fff:ffff:ffff:ffff"));

	/* A masked host part never matters for insertion. */
	CU_ASSERT_EQUAL(prefix_make(AF_INET, A4("172.16.9.9", a), 12, &p), 0);
	CU_ASSERT_EQUAL(lpm_insert(&t, &p, V(9)), 0);
	CU_ASSERT_PTR_EQUAL(look4(&t, "172.31.0.1"), V(9));
	CU_ASSERT_EQUAL(lpm_remove(&t, &p, NULL), 0);
	lpm_free(&t);
}

/* Random prefixes checked against a linear scan. */
static void test_lpm_random(void)
{
	enum { N = 400 };
	static struct ip_prefix v[N];
	static char vals[N];
	struct lpm t;
	unsigned seed = 12345;
	size_t inserted = 0;

	lpm_init(&t);
	for (size_t i = 0; i < N; i++) {
		uint8_t a[16] = { 0 };
		int fam = (i % 3) ? AF_INET : AF_INET6;
		for (int k = 0; k < 16; k++)
			a[k] = (uint8_t)(rand_r(&seed) & (k < 2 ? 0x03 : 0xff));
		unsigned len = (unsigned)rand_r(&seed) % (prefix_family_bits(fam) + 1);
		CU_ASSERT_EQUAL_FATAL(prefix_make(fam, a, len, &v[i]), 0);
		prefix_mask(&v[i]);
		int rc = lpm_insert(&t, &v[i], &vals[i]);
		CU_ASSERT(rc == 0 || rc == -EEXIST);
		if (rc == -EEXIST)
			v[i].family = 0; /* a duplicate: skip below */
		else
			inserted++;
	}
	CU_ASSERT_EQUAL(t.count, inserted);
	/* Remove every third prefix. */
	for (size_t i = 0; i < N; i += 3) {
		if (!v[i].family)
			continue;
		CU_ASSERT_EQUAL(lpm_remove(&t, &v[i], NULL), 0);
		v[i].family = 0;
	}
	for (int q = 0; q < 4000; q++) {
		uint8_t a[16];
		int fam = (q % 2) ? AF_INET : AF_INET6;
		for (int k = 0; k < 16; k++)
			a[k] = (uint8_t)(rand_r(&seed) & (k < 2 ? 0x03 : 0xff));
		void *want = NULL;
		int best = -1;
		for (size_t i = 0; i < N; i++)
			if (v[i].family && prefix_contains_addr(&v[i], fam, a) && (int)v[i].len > best) {
				best = v[i].len;
				want = &vals[i];
			}
		CU_ASSERT_PTR_EQUAL(lpm_lookup(&t, fam, a), want);
	}
	lpm_free(&t);
}

static void test_endpoint(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[ENDPOINT_STRLEN];

	CU_ASSERT_EQUAL(endpoint_parse("192.0.2.1:4433", &ss, &len), 0);
	CU_ASSERT_EQUAL(ss.ss_family, AF_INET);
	CU_ASSERT_EQUAL(len, sizeof(struct sockaddr_in));
	CU_ASSERT_EQUAL(ntohs(((struct sockaddr_in *)&ss)->sin_port), 4433);
	CU_ASSERT_STRING_EQUAL(endpoint_format(&ss, buf), "192.0.2.1:4433");
	CU_ASSERT_EQUAL(endpoint_parse("[2001:db8::1]:65535", &ss, &len), 0);
	CU_ASSERT_EQUAL(ss.ss_family, AF_INET6);
	CU_ASSERT_EQUAL(len, sizeof(struct sockaddr_in6));
	CU_ASSERT_STRING_EQUAL(endpoint_format(&ss, buf), "[2001:db8::1]:65535");
	CU_ASSERT_EQUAL(endpoint_parse("[::]:1", &ss, &len), 0);

	static const char *bad[] = {
		"", ":", "192.0.2.1", "192.0.2.1:", "192.0.2.1:0", "192.0.2.1:65536",
		"192.0.2.1:443a", "192.0.2.1:-1", "192.0.2.1:+1", "2001:db8::1:4433",
		"[2001:db8::1]", "[2001:db8::1]4433", "[2001:db8::1:4433", "[192.0.2.1]:1",
		"[fe80::1%eth0]:1", "gw.example.net:4433", "[]:1", "192.0.2.1:000001",
		"192.0.2.1:1 ", " 192.0.2.1:1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = endpoint_parse(bad[i], &ss, &len);
		if (rc != -EINVAL)
			fprintf(stderr, "accepted bad endpoint \"%s\"\n", bad[i]);
		CU_ASSERT_EQUAL(rc, -EINVAL);
	}
}

static void test_hex(void)
{
	uint8_t out[8];

	CU_ASSERT_EQUAL(hex_decode("00ff7Fa0", out, sizeof(out)), 4);
	CU_ASSERT_EQUAL(memcmp(out, "\x00\xff\x7f\xa0", 4), 0);
	CU_ASSERT_EQUAL(hex_decode("0123456789abcdef", out, sizeof(out)), 8);
	CU_ASSERT_EQUAL(hex_decode("0123456789abcdef00", out, sizeof(out)), -E2BIG);
	CU_ASSERT_EQUAL(hex_decode("", out, sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(hex_decode("abc", out, sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(hex_decode("0g", out, sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(hex_decode("0x00", out, sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(hex_decode("00 11", out, sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(hex_decode("aa:bb", out, sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(hex_decode("G0", out, sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(hex_decode("`0", out, sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(hex_decode("/0", out, sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(hex_decode(":0", out, sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(hex_decode("@0", out, sizeof(out)), -EINVAL);
}

/* A minimal IPv4 or IPv6 header with the given addresses. */
static size_t make_v4(uint8_t *pkt, const char *src, const char *dst)
{
	memset(pkt, 0, 28);
	pkt[0] = 0x45;
	pkt[3] = 28;
	pkt[9] = 17;
	CU_ASSERT_FATAL(inet_pton(AF_INET, src, pkt + 12) == 1);
	CU_ASSERT_FATAL(inet_pton(AF_INET, dst, pkt + 16) == 1);
	return 28;
}

static size_t make_v6(uint8_t *pkt, const char *src, const char *dst)
{
	memset(pkt, 0, 48);
	pkt[0] = 0x60;
	pkt[5] = 8;
	pkt[6] = 17;
	pkt[7] = 64;
	CU_ASSERT_FATAL(inet_pton(AF_INET6, src, pkt + 8) == 1);
	CU_ASSERT_FATAL(inet_pton(AF_INET6, dst, pkt + 24) == 1);
	return 48;
}

static void make_peer(struct peer_policy *p, const char *name, const char *identity,
		      const char *const *prefixes)
{
	static const uint8_t key[16] = "0123456789abcdef";

	peer_policy_init(p);
	CU_ASSERT_EQUAL_FATAL(peer_set_name(p, name), 0);
	CU_ASSERT_EQUAL_FATAL(peer_set_psk(p, identity, strlen(identity), key, sizeof(key)), 0);
	for (; *prefixes; prefixes++) {
		struct ip_prefix pfx = P(*prefixes);
		CU_ASSERT_EQUAL_FATAL(peer_add_allowed(p, &pfx), 0);
	}
}

static void test_source_allowed(void)
{
	struct peer_policy peer;
	uint8_t pkt[64];
	size_t n;

	make_peer(&peer, "a", "id-a", (const char *const[]){ "10.1.0.0/16", "fd00:1::/48", NULL });

	n = make_v4(pkt, "10.1.2.3", "10.9.9.9");
	CU_ASSERT_TRUE(policy_source_allowed(&peer, pkt, n));
	CU_ASSERT_TRUE(policy_source_allowed(&peer, pkt, 20));
	CU_ASSERT_FALSE(policy_source_allowed(&peer, pkt, 19));
	CU_ASSERT_FALSE(policy_source_allowed(&peer, pkt, 0));
	CU_ASSERT_FALSE(policy_source_allowed(&peer, NULL, 0));
	CU_ASSERT_FALSE(policy_source_allowed(NULL, pkt, n));
	pkt[0] = 0x44; /* IHL below 5 */
	CU_ASSERT_FALSE(policy_source_allowed(&peer, pkt, n));
	pkt[0] = 0x48; /* IHL 32 bytes, longer than the packet */
	CU_ASSERT_FALSE(policy_source_allowed(&peer, pkt, n));
	pkt[0] = 0x47; /* IHL 28 bytes, fits */
	CU_ASSERT_TRUE(policy_source_allowed(&peer, pkt, n));
	pkt[0] = 0x55; /* version 5 */
	CU_ASSERT_FALSE(policy_source_allowed(&peer, pkt, n));

	n = make_v4(pkt, "10.2.0.1", "10.1.2.3"); /* the destination does not count */
	CU_ASSERT_FALSE(policy_source_allowed(&peer, pkt, n));

	n = make_v6(pkt, "fd00:1::5", "fd00:9::1");
	CU_ASSERT_TRUE(policy_source_allowed(&peer, pkt, n));
	CU_ASSERT_TRUE(policy_source_allowed(&peer, pkt, 40));
	CU_ASSERT_FALSE(policy_source_allowed(&peer, pkt, 39));
	CU_ASSERT_FALSE(policy_source_allowed(&peer, pkt, 1));
	n = make_v6(pkt, "fd00:2::5", "fd00:1::1");
	CU_ASSERT_FALSE(policy_source_allowed(&peer, pkt, n));
	/* An IPv4-mapped IPv6 source is IPv6, not the IPv4 prefix. */
	n = make_v6(pkt, "::ffff:10.1.2.3", "fd00:1::1");
	CU_ASSERT_FALSE(policy_source_allowed(&peer, pkt, n));
	peer_policy_clear(&peer);
}

static struct policy_set *build_set(struct peer_policy *peers, size_t n)
{
	struct policy_set *set = NULL;
	char err[128] = "";
	int rc = policy_set_build(peers, n, &set, err, sizeof(err));

	if (rc)
		fprintf(stderr, "policy_set_build: %d %s\n", rc, err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	return set;
}

static void test_psk_lookup_and_route(void)
{
	struct peer_policy peers[4];
	struct policy_set *set;
	uint8_t pkt[64], a[16];

	make_peer(&peers[0], "alpha", "site-a", (const char *const[]){ "10.1.0.0/16", NULL });
	make_peer(&peers[1], "beta", "site-b", (const char *const[]){ "10.2.0.0/16", "fd00:2::/48", NULL });
	make_peer(&peers[2], "gamma", "site-bb", (const char *const[]){ "10.3.0.0/16", NULL });
	/* A certificate peer: no PSK identity to find. */
	peer_policy_init(&peers[3]);
	CU_ASSERT_EQUAL(peer_set_name(&peers[3], "delta"), 0);
	peers[3].auth = PEER_AUTH_CERT;
	CU_ASSERT_EQUAL(peer_set_cert_cn(&peers[3], "site-b"), 0);
	CU_ASSERT_EQUAL(peer_add_ca_file(&peers[3], "/etc/dtlsgw/ca.pem"), 0);

	set = build_set(peers, 4);
	/* The set holds copies: the caller's peers may go. */
	for (size_t i = 0; i < 4; i++)
		peer_policy_clear(&peers[i]);

	CU_ASSERT_EQUAL(policy_set_count(set), 4);
	CU_ASSERT_STRING_EQUAL(policy_set_peer(set, 1)->name, "beta");
	CU_ASSERT_PTR_NULL(policy_set_peer(set, 4));
	CU_ASSERT_PTR_EQUAL(policy_find_name(set, "gamma"), policy_set_peer(set, 2));
	CU_ASSERT_PTR_EQUAL(policy_find_name(set, "delta"), policy_set_peer(set, 3));
	CU_ASSERT_PTR_NULL(policy_find_name(set, "epsilon"));
	CU_ASSERT_STRING_EQUAL(policy_set_peer(set, 3)->cert.ca_files[0], "/etc/dtlsgw/ca.pem");

	CU_ASSERT_PTR_EQUAL(policy_find_psk(set, (const uint8_t *)"site-a", 6), policy_set_peer(set, 0));
	CU_ASSERT_PTR_EQUAL(policy_find_psk(set, (const uint8_t *)"site-b", 6), policy_set_peer(set, 1));
	CU_ASSERT_PTR_EQUAL(policy_find_psk(set, (const uint8_t *)"site-bb", 7), policy_set_peer(set, 2));
	/* Exact match only: prefixes, extensions, NUL padding and case all miss. */
	CU_ASSERT_PTR_NULL(policy_find_psk(set, (const uint8_t *)"site-", 5));
	CU_ASSERT_PTR_NULL(policy_find_psk(set, (const uint8_t *)"site-bbb", 8));
	CU_ASSERT_PTR_NULL(policy_find_psk(set, (const uint8_t *)"site-a\0", 7));
	CU_ASSERT_PTR_NULL(policy_find_psk(set, (const uint8_t *)"SITE-A", 6));
	CU_ASSERT_PTR_NULL(policy_find_psk(set, (const uint8_t *)"", 0));
	CU_ASSERT_PTR_NULL(policy_find_psk(set, NULL, 3));
	CU_ASSERT_PTR_NULL(policy_find_psk(set, (const uint8_t *)"site-b", 200));

	CU_ASSERT_PTR_EQUAL(policy_route(set, AF_INET, A4("10.2.3.4", a)), policy_set_peer(set, 1));
	CU_ASSERT_PTR_EQUAL(policy_route(set, AF_INET6, A6("fd00:2::1", a)), policy_set_peer(set, 1));
	CU_ASSERT_PTR_NULL(policy_route(set, AF_INET, A4("10.4.0.1", a)));
	size_t n = make_v4(pkt, "10.1.0.1", "10.3.7.7");
	CU_ASSERT_PTR_EQUAL(policy_route_packet(set, pkt, n), policy_set_peer(set, 2));
	CU_ASSERT_TRUE(policy_source_allowed(policy_set_peer(set, 0), pkt, n));
	CU_ASSERT_PTR_NULL(policy_route_packet(set, pkt, 10));
	policy_set_free(set);
	policy_set_free(NULL);
}

struct seen {
	struct policy_conflict c[8];
	int n;
};

static void collect(void *arg, const struct policy_conflict *c)
{
	struct seen *s = arg;
	if (s->n < 8)
		s->c[s->n] = *c;
	s->n++;
}

static void test_conflicts(void)
{
	struct peer_policy peers[4];
	struct policy_set *set = NULL;
	struct seen s = { .n = 0 };
	char err[160];

	make_peer(&peers[0], "a", "id-a", (const char *const[]){ "10.0.0.0/8", "fd00::/16", NULL });
	make_peer(&peers[1], "b", "id-b", (const char *const[]){ "192.168.0.0/16", "10.1.0.0/16", NULL });
	make_peer(&peers[2], "a", "id-b", (const char *const[]){ "fd00:1::/48", NULL });
	make_peer(&peers[3], "d", "id-d", (const char *const[]){ "172.16.0.0/12", "172.16.0.0/12", NULL });

	CU_ASSERT_EQUAL(policy_find_conflicts(peers, 4, collect, &s), 4);
	CU_ASSERT_EQUAL(s.c[0].kind, POLICY_CONFLICT_NAME);
	CU_ASSERT_EQUAL(s.c[0].a, 0);
	CU_ASSERT_EQUAL(s.c[0].b, 2);
	CU_ASSERT_EQUAL(s.c[1].kind, POLICY_CONFLICT_PSK_IDENTITY);
	CU_ASSERT_EQUAL(s.c[1].a, 1);
	CU_ASSERT_EQUAL(s.c[1].b, 2);
	/* 10.0.0.0/8 of a contains 10.1.0.0/16 of b. */
	CU_ASSERT_EQUAL(s.c[2].kind, POLICY_CONFLICT_PREFIX);
	CU_ASSERT_EQUAL(s.c[2].a, 0);
	CU_ASSERT_EQUAL(s.c[2].prefix_a, 0);
	CU_ASSERT_EQUAL(s.c[2].b, 1);
	CU_ASSERT_EQUAL(s.c[2].prefix_b, 1);
	CU_ASSERT_EQUAL(s.c[3].kind, POLICY_CONFLICT_PREFIX);
	CU_ASSERT_EQUAL(s.c[3].a, 0);
	CU_ASSERT_EQUAL(s.c[3].b, 2);

	CU_ASSERT_EQUAL(policy_set_build(peers, 4, &set, err, sizeof(err)), -EEXIST);
	CU_ASSERT_STRING_EQUAL(err, "two peers are called a");
	CU_ASSERT_PTR_NULL(set);
	CU_ASSERT_EQUAL(policy_set_build(peers, 2, &set, err, sizeof(err)), -EEXIST);
	CU_ASSERT_STRING_EQUAL(err, "allowed prefix 10.1.0.0/16 of peer b overlaps 10.0.0.0/8 of peer a");
	/* The same prefix twice in one peer is no conflict. */
	CU_ASSERT_EQUAL(policy_find_conflicts(&peers[3], 1, NULL, NULL), 0);
	set = build_set(&peers[3], 1);
	policy_set_free(set);
	/* A peer without an identity is refused. */
	peers[3].auth = PEER_AUTH_NONE;
	CU_ASSERT_EQUAL(policy_set_build(&peers[3], 1, &set, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "peer d has no identity");
	/* No peers is an empty set. */
	set = build_set(NULL, 0);
	CU_ASSERT_PTR_NULL(policy_find_psk(set, (const uint8_t *)"x", 1));
	CU_ASSERT_PTR_NULL(policy_route(set, AF_INET, (const uint8_t *)"\0\0\0\0"));
	policy_set_free(set);
	for (size_t i = 0; i < 4; i++)
		peer_policy_clear(&peers[i]);
}

static void test_peer_limits(void)
{
	struct peer_policy p, copy;
	uint8_t key[PEER_PSK_KEY_MAX + 1] = { 0 };
	char id[PEER_PSK_IDENTITY_MAX + 1];
	struct ip_prefix bad = { .family = AF_INET, .len = 33 };

	memset(id, 'x', sizeof(id));
	peer_policy_init(&p);
	CU_ASSERT_EQUAL(peer_set_psk(&p, id, PEER_PSK_IDENTITY_MAX, key, PEER_PSK_KEY_MAX), 0);
	CU_ASSERT_EQUAL(peer_set_psk(&p, id, PEER_PSK_IDENTITY_MAX + 1, key, 16), -E2BIG);
	CU_ASSERT_EQUAL(peer_set_psk(&p, id, 4, key, PEER_PSK_KEY_MAX + 1), -E2BIG);
	CU_ASSERT_EQUAL(peer_set_psk(&p, id, 0, key, 16), -EINVAL);
	CU_ASSERT_EQUAL(peer_add_allowed(&p, &bad), -EINVAL);
	CU_ASSERT_FALSE(peer_name_valid(""));
	CU_ASSERT_FALSE(peer_name_valid("a b"));
	CU_ASSERT_FALSE(peer_name_valid("a]"));
	CU_ASSERT_FALSE(peer_name_valid("abcdefghijklmnopqrstuvwxyz0123456"));
	CU_ASSERT_TRUE(peer_name_valid("abcdefghijklmnopqrstuvwxyz012345"));
	CU_ASSERT_TRUE(peer_name_valid("site-b.eu_1"));
	CU_ASSERT_EQUAL(peer_set_name(&p, "bad name"), -EINVAL);

	/* A deep copy survives the original. */
	CU_ASSERT_EQUAL(peer_set_name(&p, "p"), 0);
	CU_ASSERT_EQUAL(peer_set_cert_san(&p, "gw.example.net"), 0);
	CU_ASSERT_EQUAL(peer_set_cert_san(&p, "gw2.example.net"), 0);
	CU_ASSERT_EQUAL(peer_add_ca_file(&p, "ca1.pem"), 0);
	CU_ASSERT_EQUAL(peer_add_ca_file(&p, "ca2.pem"), 0);
	struct ip_prefix pfx = P("10.9.0.0/16");
	CU_ASSERT_EQUAL(peer_add_allowed(&p, &pfx), 0);
	CU_ASSERT_EQUAL(peer_policy_copy(&copy, &p), 0);
	peer_policy_clear(&p);
	CU_ASSERT_STRING_EQUAL(copy.name, "p");
	CU_ASSERT_STRING_EQUAL(copy.cert.san, "gw2.example.net");
	CU_ASSERT_EQUAL(copy.cert.n_ca_files, 2);
	CU_ASSERT_STRING_EQUAL(copy.cert.ca_files[1], "ca2.pem");
	CU_ASSERT_EQUAL(copy.n_allowed, 1);
	CU_ASSERT_EQUAL(copy.psk.key_len, PEER_PSK_KEY_MAX);
	peer_policy_clear(&copy);
	CU_ASSERT_EQUAL(copy.n_allowed, 0);
	CU_ASSERT_PTR_NULL(copy.allowed);
}

/* A certificate peer: cn, san may be NULL, pin 0 for none (else a pin of that byte). */
static void make_cert_peer(struct peer_policy *p, const char *name, const char *cn, const char *san,
			   uint8_t pin, const char *prefix)
{
	struct ip_prefix pfx = P(prefix);

	peer_policy_init(p);
	CU_ASSERT_EQUAL_FATAL(peer_set_name(p, name), 0);
	p->auth = PEER_AUTH_CERT;
	CU_ASSERT_EQUAL_FATAL(peer_set_cert_cn(p, cn), 0);
	CU_ASSERT_EQUAL_FATAL(peer_set_cert_san(p, san), 0);
	if (pin) {
		p->cert.has_pin = true;
		memset(p->cert.pin_sha256, pin, PEER_PIN_LEN);
	}
	CU_ASSERT_EQUAL_FATAL(peer_add_allowed(p, &pfx), 0);
}

static bool ambiguous(const char *cn_a, const char *san_a, uint8_t pin_a, const char *cn_b, const char *san_b,
		      uint8_t pin_b)
{
	struct peer_policy a, b;

	make_cert_peer(&a, "a", cn_a, san_a, pin_a, "10.1.0.0/16");
	make_cert_peer(&b, "b", cn_b, san_b, pin_b, "10.2.0.0/16");
	bool ab = policy_cert_ambiguous(&a, &b), ba = policy_cert_ambiguous(&b, &a);
	CU_ASSERT_EQUAL(ab, ba);
	peer_policy_clear(&a);
	peer_policy_clear(&b);
	return ab;
}

struct pairs {
	size_t a[8], b[8];
	size_t n;
};

static void collect_pair(void *arg, size_t a, size_t b)
{
	struct pairs *s = arg;
	if (s->n < 8) {
		s->a[s->n] = a;
		s->b[s->n] = b;
	}
	s->n++;
}

/* Two certificate peers one certificate could satisfy are refused: only different
 * cert_cn or different pins tell peers apart. */
static void test_cert_ambiguity(void)
{
	/* ambiguous */
	CU_ASSERT_TRUE(ambiguous("gw-a", NULL, 0, "gw-a", NULL, 0));
	CU_ASSERT_TRUE(ambiguous("GW-A.example", NULL, 0, "gw-a.EXAMPLE", NULL, 0));
	CU_ASSERT_TRUE(ambiguous(NULL, "a.example", 0, NULL, "a.example", 0));
	CU_ASSERT_TRUE(ambiguous(NULL, "a.example", 0, NULL, "b.example", 0)); /* one cert, two SANs */
	CU_ASSERT_TRUE(ambiguous("a.example", NULL, 0, NULL, "a.example", 0)); /* CN and SAN */
	CU_ASSERT_TRUE(ambiguous("a.example", NULL, 0, NULL, "b.example", 0));
	CU_ASSERT_TRUE(ambiguous(NULL, NULL, 1, NULL, NULL, 1));
	CU_ASSERT_TRUE(ambiguous(NULL, NULL, 1, "gw-b", NULL, 0)); /* a pin only against a name */
	CU_ASSERT_TRUE(ambiguous("gw-a", NULL, 1, "gw-a", "x.example", 0));
	/* told apart */
	CU_ASSERT_FALSE(ambiguous("gw-a", NULL, 1, NULL, NULL, 2));
	CU_ASSERT_FALSE(ambiguous("gw-a", NULL, 0, "gw-b", NULL, 0));
	CU_ASSERT_FALSE(ambiguous("gw-a", "same.example", 0, "gw-b", "same.example", 0));
	CU_ASSERT_FALSE(ambiguous(NULL, NULL, 1, NULL, NULL, 2));
	CU_ASSERT_FALSE(ambiguous("gw-a", NULL, 1, "gw-a", NULL, 2));
	CU_ASSERT_FALSE(ambiguous(NULL, "same.example", 1, NULL, "same.example", 2));

	/* different CAs do not tell peers apart; a PSK peer and a peer without any
	 * constraint (it matches nothing) are ambiguous with no one */
	struct peer_policy peers[6];
	make_cert_peer(&peers[0], "a", "gw-a", NULL, 0, "10.1.0.0/16");
	CU_ASSERT_EQUAL(peer_add_ca_file(&peers[0], "/etc/dtlsgw/ca-a.pem"), 0);
	make_cert_peer(&peers[1], "b", "gw-b", NULL, 0, "10.2.0.0/16");
	make_cert_peer(&peers[2], "c", "gw-a", NULL, 0, "10.3.0.0/16");
	CU_ASSERT_EQUAL(peer_add_ca_file(&peers[2], "/etc/dtlsgw/ca-c.pem"), 0);
	make_peer(&peers[3], "d", "gw-a", (const char *const[]){ "10.4.0.0/16", NULL });
	make_cert_peer(&peers[4], "e", NULL, NULL, 0, "10.5.0.0/16");
	make_cert_peer(&peers[5], "f", NULL, NULL, 7, "10.6.0.0/16");
	CU_ASSERT_FALSE(policy_cert_ambiguous(&peers[0], &peers[3]));
	CU_ASSERT_FALSE(policy_cert_ambiguous(&peers[0], &peers[4]));

	struct pairs s = { .n = 0 };
	CU_ASSERT_EQUAL(policy_find_cert_ambiguities(peers, 6, collect_pair, &s), 2);
	CU_ASSERT_EQUAL(s.n, 2);
	CU_ASSERT(s.a[0] == 0 && s.b[0] == 2); /* the same CN, another CA */
	CU_ASSERT(s.a[1] == 0 && s.b[1] == 5); /* a pin only: also a's certificate */

	struct policy_set *set = NULL;
	char err[160];
	CU_ASSERT_EQUAL(policy_set_build(peers, 6, &set, err, sizeof(err)), -EEXIST);
	CU_ASSERT_STRING_EQUAL(err, "peers a and c can match the same certificate; give them different "
				    "cert_cn or different cert_pin_sha256");
	CU_ASSERT_PTR_NULL(set);
	CU_ASSERT_EQUAL(policy_set_build(&peers[1], 5, &set, err, sizeof(err)), -EEXIST);
	CU_ASSERT_STRING_EQUAL(err, "peers b and f can match the same certificate; give them different "
				    "cert_cn or different cert_pin_sha256");
	set = build_set(peers, 2);
	policy_set_free(set);
	set = build_set(&peers[1], 4);
	policy_set_free(set);
	for (size_t i = 0; i < 6; i++)
		peer_policy_clear(&peers[i]);
}

/* cert_san is compared with DNS and IP SANs only: anything else is refused at load. */
static void test_cert_san_kinds(void)
{
	static const char *const good[] = { "gw.example.net", "GW-1.example", "_srv.example", "*.example",
					     "192.0.2.1", "2001:db8::1", "::1" };
	static const char *const bad[] = { "", "ops@gw.example", "https://gw.example/x", "urn:x:y", "a b",
					   "gw.example\n", "10.0.0.1/8" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CU_ASSERT_TRUE(policy_cert_san_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_FALSE(policy_cert_san_valid(bad[i]));

	struct peer_policy p;
	struct policy_set *set = NULL;
	char err[160];
	make_cert_peer(&p, "mail", NULL, "ops@gw.example", 0, "10.1.0.0/16");
	CU_ASSERT_EQUAL(policy_set_build(&p, 1, &set, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "peer mail: cert_san is neither a DNS name nor an IP address");
	CU_ASSERT_PTR_NULL(set);
	peer_policy_clear(&p);
}

static CU_TestInfo tests[] = {
	{ "prefix parse: valid", test_prefix_parse_valid },
	{ "prefix parse: invalid", test_prefix_parse_invalid },
	{ "prefix relations", test_prefix_relations },
	{ "lpm: overlapping prefixes", test_lpm_overlapping },
	{ "lpm: removal", test_lpm_remove },
	{ "lpm: edge bits", test_lpm_edge_bits },
	{ "lpm: random against linear scan", test_lpm_random },
	{ "endpoint parse", test_endpoint },
	{ "hex decode", test_hex },
	{ "source address check", test_source_allowed },
	{ "psk lookup and routing", test_psk_lookup_and_route },
	{ "conflicts", test_conflicts },
	{ "peer limits and copy", test_peer_limits },
	{ "certificate peers one certificate could match", test_cert_ambiguity },
	{ "cert_san: DNS names and IP addresses only", test_cert_san_kinds },
	CU_TEST_INFO_NULL,
};

const struct unit_suite unit_suite = { "policy", NULL, NULL, tests };
