/*
 * tun/offload: the Internet checksum against a plain RFC 1071 loop; TSO and USO
 * super-packets (IPv4 with options, IPv6) cut into segments with the right lengths,
 * sequence numbers, flags and checksums; those segments merged back into the
 * original super-packet; what must not be merged (flags, a gap in the sequence, a
 * bad checksum, another flow, a longer segment); partial checksums completed.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tun/offload.h"

/* RFC 1071, the slow way: big-endian 16-bit words. */
static uint16_t ref_sum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)be16(p) << 16 | be16(p + 2);
}

static void test_csum(void)
{
	uint8_t buf[2003];

	srand(7);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (size_t n = 0; n < sizeof(buf); n += 1 + n / 7) {
		uint16_t ours = off_csum_fold(off_csum_add(buf, n, 0)), ref = ref_sum(buf, n, 0);
		uint8_t b[2];
		memcpy(b, &ours, 2); /* host order in memory is the wire order */
		CU_ASSERT_EQUAL(be16(b), ref);
	}
	/* Summed in two even pieces: the same. */
	CU_ASSERT_EQUAL(off_csum_fold(off_csum_add(buf + 100, 901, off_csum_add(buf, 100, 0))),
			off_csum_fold(off_csum_add(buf, 1001, 0)));
}

/* An IPv4 (ihl 20 + opt_len) or IPv6 TCP packet with timestamps (header 32) and
 * `payload` bytes 0, 1, 2, ... into p; its length. The TCP checksum is left as the
 * kernel leaves it for TSO: the pseudo-header sum. */
static size_t make_tcp(uint8_t *p, bool v6, unsigned opt_len, size_t payload, uint8_t flags)
{
	unsigned ip_len = v6 ? 40 : 20 + opt_len, th = 32;
	size_t len = ip_len + th + payload;

	memset(p, 0, ip_len + th);
	if (!v6) {
		p[0] = (uint8_t)(0x40 | ip_len / 4);
		p[1] = 0x02; /* ECT(0) */
		p[2] = (uint8_t)(len >> 8), p[3] = (uint8_t)len;
		p[4] = 0x12, p[5] = 0x34;
		p[6] = 0x40; /* DF */
		p[8] = 64;
		p[9] = IPPROTO_TCP;
		memcpy(p + 12, "\x0a\x0a\x01\x01\x0a\x0a\x02\x01", 8);
		for (unsigned i = 20; i < ip_len; i++)
			p[i] = 1; /* NOP options */
	} else {
		p[0] = 0x60, p[1] = 0x01, p[2] = 0x23, p[3] = 0x45;
		p[4] = (uint8_t)((len - 40) >> 8), p[5] = (uint8_t)(len - 40);
		p[6] = IPPROTO_TCP;
		p[7] = 64;
		for (int i = 0; i < 16; i++)
			p[8 + i] = (uint8_t)(0xfd + i), p[24 + i] = (uint8_t)(0xfd + 2 * i);
	}
	uint8_t *t = p + ip_len;
	t[0] = 0x9c, t[1] = 0x40, t[2] = 0x14, t[3] = 0x51;      /* ports 40000 -> 5201 */
	t[4] = 0xff, t[5] = 0xff, t[6] = 0xf0, t[7] = 0x00;      /* seq near the wrap */
	t[8] = 1, t[9] = 2, t[10] = 3, t[11] = 4;                /* ack */
	t[12] = 0x80;                                            /* doff 8 */
	t[13] = flags;
	t[14] = 0x01, t[15] = 0xf5;                              /* window */
	t[20] = 1, t[21] = 1, t[22] = 8, t[23] = 10;             /* NOP NOP TS */
	for (int i = 24; i < 32; i++)
		t[i] = (uint8_t)i;
	for (size_t i = 0; i < payload; i++)
		t[th + i] = (uint8_t)(i * 7 + 3);
	uint16_t partial = off_csum_fold(off_csum_pseudo(p, v6, IPPROTO_TCP, len - ip_len));
	memcpy(t + 16, &partial, 2);
	if (!v6) {
		uint16_t c = (uint16_t)~off_csum_fold(off_csum_add(p, ip_len, 0));
		memcpy(p + 10, &c, 2);
	}
	return len;
}

static bool l4_csum_ok(const uint8_t *p, size_t len, bool v6, unsigned ip_len, uint8_t proto)
{
	return off_csum_fold(off_csum_pseudo(p, v6, proto, len - ip_len) +
			     off_csum_add(p + ip_len, len - ip_len, 0)) == 0xffff;
}

static void tso_round_trip(bool v6, unsigned opt_len, size_t payload, uint16_t mss)
{
	static uint8_t super[70000], orig[70000], segs[64][2000];
	size_t len = make_tcp(super, v6, opt_len, payload, 0x18 /* ACK PSH */ | 0x01 /* FIN */);
	unsigned ip_len = v6 ? 40 : 20 + opt_len;
	struct off_vnet h = { .flags = OFF_F_NEEDS_CSUM, .gso_type = v6 ? OFF_GSO_TCPV6 : OFF_GSO_TCPV4,
			      .hdr_len = (uint16_t)(ip_len + 32), .gso_size = mss,
			      .csum_start = (uint16_t)ip_len, .csum_offset = 16 };
	struct off_super s;
	struct off_pkt t[64];
	size_t seg_len[64];

	memcpy(orig, super, len);
	CU_ASSERT_EQUAL_FATAL(off_super_parse(&h, super, len, &s), 0);
	CU_ASSERT_EQUAL(s.hdr_len, ip_len + 32);
	CU_ASSERT_EQUAL(s.n_segs, (payload + mss - 1) / mss);
	CU_ASSERT_FATAL(s.n_segs <= 64);
	for (size_t i = 0; i < s.n_segs; i++) {
		uint8_t *g = segs[i], *th = g + ip_len;
		seg_len[i] = off_super_segment(&s, super, i, g);
		CU_ASSERT_EQUAL(seg_len[i], off_super_seg_len(&s, i));
		CU_ASSERT_EQUAL(seg_len[i], ip_len + 32 + (i + 1 < s.n_segs ? mss : payload - i * mss));
		if (!v6) {
			CU_ASSERT_EQUAL(be16(g + 2), seg_len[i]);
			CU_ASSERT_EQUAL(be16(g + 4), 0x1234 + i);
			CU_ASSERT_EQUAL(off_csum_fold(off_csum_add(g, ip_len, 0)), 0xffff);
		} else {
			CU_ASSERT_EQUAL(be16(g + 4), seg_len[i] - 40);
		}
		CU_ASSERT_EQUAL(be32(th + 4), 0xfffff000u + (uint32_t)(i * mss));
		CU_ASSERT_EQUAL(th[13], i + 1 < s.n_segs ? 0x10 : 0x19);
		CU_ASSERT(l4_csum_ok(g, seg_len[i], v6, ip_len, IPPROTO_TCP));
		CU_ASSERT(!memcmp(g + ip_len + 32, orig + ip_len + 32 + i * mss, seg_len[i] - ip_len - 32));
	}
	CU_ASSERT(!memcmp(super, orig, len)); /* the source is left alone */

	/* Merge them back (IPv4 with options and FIN segments are not merged). */
	bool mergeable = v6 || !opt_len;
	for (size_t i = 0; i < s.n_segs; i++) {
		enum off_kind k = off_pkt_parse(segs[i], seg_len[i], true, &t[i]);
		CU_ASSERT_EQUAL(k, mergeable && i + 1 < s.n_segs ? OFF_MERGE : OFF_ALONE);
	}
	if (!mergeable || s.n_segs < 3)
		return;
	/* Segments 0 .. n-2 (the last has FIN): one packet. */
	size_t pay = t[0].len - t[0].hdr_len;
	for (size_t i = 1; i + 1 < s.n_segs; i++) {
		CU_ASSERT(off_same_flow(&t[0], &t[i]));
		CU_ASSERT_FATAL(off_can_append(&t[0], pay, &t[i]));
		CU_ASSERT(!off_can_append(&t[0], pay + 1, &t[i])); /* a gap */
		pay += t[i].len - t[i].hdr_len;
	}
	uint8_t vnet[OFF_VNET_HDR_LEN], save[128], before[128];
	struct off_vnet vh;
	memcpy(before, segs[0], t[0].hdr_len);
	off_merge_finish(&t[0], pay, &t[s.n_segs - 2], vnet, save);
	CU_ASSERT(!memcmp(save, before, t[0].hdr_len));
	off_vnet_parse(vnet, &vh);
	CU_ASSERT_EQUAL(vh.flags, OFF_F_NEEDS_CSUM);
	CU_ASSERT_EQUAL(vh.gso_type, v6 ? OFF_GSO_TCPV6 : OFF_GSO_TCPV4);
	CU_ASSERT_EQUAL(vh.gso_size, mss);
	CU_ASSERT_EQUAL(vh.hdr_len, ip_len + 32);
	CU_ASSERT_EQUAL(vh.csum_start, ip_len);
	CU_ASSERT_EQUAL(vh.csum_offset, 16);
	/* Headers plus the payloads in order = the super-packet cut before its last segment. */
	static uint8_t merged[70000];
	size_t o = seg_len[0];
	memcpy(merged, segs[0], o);
	for (size_t i = 1; i + 1 < s.n_segs; i++) {
		memcpy(merged + o, segs[i] + ip_len + 32, seg_len[i] - ip_len - 32);
		o += seg_len[i] - ip_len - 32;
	}
	size_t want = make_tcp(orig, v6, opt_len, pay, 0x18);
	CU_ASSERT_EQUAL_FATAL(o, want);
	if (!v6) { /* the id is the first segment's, as the original's */
		CU_ASSERT(!memcmp(merged, orig, 10) && !memcmp(merged + 12, orig + 12, 8));
	} else {
		CU_ASSERT(!memcmp(merged, orig, 40));
	}
	/* TCP header (the partial checksum included) and payload equal; PSH came from the
	 * original flags? No: the merged segments had ACK only. */
	orig[ip_len + 13] = 0x10;
	uint16_t partial = off_csum_fold(off_csum_pseudo(orig, v6, IPPROTO_TCP, want - ip_len));
	memcpy(orig + ip_len + 16, &partial, 2);
	CU_ASSERT(!memcmp(merged + ip_len, orig + ip_len, want - ip_len));
}

static void test_tso(void)
{
	tso_round_trip(false, 0, 20000, 1383);
	tso_round_trip(false, 0, 1383 * 5, 1383);   /* all segments full */
	tso_round_trip(false, 12, 9000, 1000);      /* IPv4 options: segmented, not merged */
	tso_round_trip(true, 0, 30001, 1363);
	tso_round_trip(false, 0, 100, 1383);        /* a single segment */
}

static void test_uso(void)
{
	static uint8_t p[9000];
	size_t payload = 4000, len = 40 + 8 + payload;
	struct off_vnet h = { .flags = OFF_F_NEEDS_CSUM, .gso_type = OFF_GSO_UDP_L4, .hdr_len = 48,
			      .gso_size = 1400, .csum_start = 40, .csum_offset = 6 };
	struct off_super s;

	memset(p, 0, 48);
	p[0] = 0x60;
	p[4] = (uint8_t)((len - 40) >> 8), p[5] = (uint8_t)(len - 40);
	p[6] = IPPROTO_UDP;
	p[7] = 64;
	p[23] = 1, p[39] = 2;
	p[40] = 0x13, p[41] = 0x88, p[42] = 0x13, p[43] = 0x89;
	for (size_t i = 0; i < payload; i++)
		p[48 + i] = (uint8_t)i;
	CU_ASSERT_EQUAL_FATAL(off_super_parse(&h, p, len, &s), 0);
	CU_ASSERT_EQUAL(s.n_segs, 3);
	static uint8_t segs[3][2000];
	struct off_pkt t[3];
	for (size_t i = 0; i < 3; i++) {
		uint8_t *g = segs[i];
		size_t n = off_super_segment(&s, p, i, g);
		CU_ASSERT_EQUAL(off_pkt_parse(g, n, false, &t[i]), OFF_OTHER);
		CU_ASSERT_EQUAL(off_pkt_parse(g, n, true, &t[i]), OFF_MERGE);
		CU_ASSERT_EQUAL(n, 48 + (i < 2 ? 1400 : 1200));
		CU_ASSERT_EQUAL(be16(g + 4), n - 40);
		CU_ASSERT_EQUAL(be16(g + 44), n - 40);
		CU_ASSERT(l4_csum_ok(g, n, true, 40, IPPROTO_UDP));
		CU_ASSERT(!memcmp(g + 48, p + 48 + i * 1400, n - 48));
	}
	/* Merged back: one USO super-packet of 1400-byte segments. */
	CU_ASSERT(off_same_flow(&t[0], &t[1]) && off_same_flow(&t[0], &t[2]));
	CU_ASSERT(off_can_append(&t[0], 1400, &t[1]));
	CU_ASSERT(off_can_append(&t[0], 2800, &t[2]));
	uint8_t vnet[OFF_VNET_HDR_LEN], save[128];
	struct off_vnet vh;
	off_merge_finish(&t[0], 4000, &t[2], vnet, save);
	off_vnet_parse(vnet, &vh);
	CU_ASSERT_EQUAL(vh.gso_type, OFF_GSO_UDP_L4);
	CU_ASSERT_EQUAL(vh.gso_size, 1400);
	CU_ASSERT_EQUAL(vh.hdr_len, 48);
	CU_ASSERT_EQUAL(vh.csum_start, 40);
	CU_ASSERT_EQUAL(vh.csum_offset, 6);
	CU_ASSERT_EQUAL(be16(segs[0] + 4), 4008);  /* IPv6 payload length */
	CU_ASSERT_EQUAL(be16(segs[0] + 44), 4008); /* UDP length */
	off_merge_undo(&t[0], save);
	CU_ASSERT_EQUAL(be16(segs[0] + 44), 1408);
	CU_ASSERT(l4_csum_ok(segs[0], 1448, true, 40, IPPROTO_UDP));
	/* A gso_type that does not match the packet, and a truncated header, are refused. */
	h.gso_type = OFF_GSO_TCPV6;
	CU_ASSERT_EQUAL(off_super_parse(&h, p, len, &s), -1);
	h.gso_type = OFF_GSO_UDP_L4;
	CU_ASSERT_EQUAL(off_super_parse(&h, p, 44, &s), -1);
	h.gso_size = 0;
	CU_ASSERT_EQUAL(off_super_parse(&h, p, len, &s), -1);
}

static void test_finish(void)
{
	static uint8_t p[3000];
	size_t len = make_tcp(p, false, 0, 1000, 0x10);
	struct off_vnet h = { .flags = OFF_F_NEEDS_CSUM, .csum_start = 20, .csum_offset = 16 };
	struct off_pkt t;

	CU_ASSERT_EQUAL(off_pkt_parse(p, len, true, &t), OFF_ALONE); /* partial: not valid yet */
	CU_ASSERT_EQUAL(off_csum_finish(&h, p, len), 0);
	CU_ASSERT(l4_csum_ok(p, len, false, 20, IPPROTO_TCP));
	CU_ASSERT_EQUAL(off_pkt_parse(p, len, true, &t), OFF_MERGE);
	h.csum_start = (uint16_t)len;
	CU_ASSERT_EQUAL(off_csum_finish(&h, p, len), -1);
	h.csum_start = 20;
	h.csum_offset = (uint16_t)(len - 21);
	CU_ASSERT_EQUAL(off_csum_finish(&h, p, len), -1);
}

/* Recomputes the TCP checksum of an IPv4 packet (header 20) after an edit. */
static void refix(uint8_t *p, size_t len)
{
	struct off_vnet h = { .flags = OFF_F_NEEDS_CSUM, .csum_start = 20, .csum_offset = 16 };
	uint16_t partial = off_csum_fold(off_csum_pseudo(p, false, IPPROTO_TCP, len - 20));

	memcpy(p + 36, &partial, 2);
	CU_ASSERT_EQUAL(off_csum_finish(&h, p, len), 0);
}

static void test_no_merge(void)
{
	static uint8_t a[2000], b[2000], c[2000];
	struct off_pkt ta, tb, tc;
	size_t la = make_tcp(a, false, 0, 1000, 0x10), lb, lc;
	struct off_vnet h = { .flags = OFF_F_NEEDS_CSUM, .csum_start = 20, .csum_offset = 16 };

	CU_ASSERT_EQUAL(off_csum_finish(&h, a, la), 0);
	CU_ASSERT_EQUAL(off_pkt_parse(a, la, true, &ta), OFF_MERGE);
	/* b: the next 1000 bytes of the same flow */
	lb = make_tcp(b, false, 0, 1000, 0x10);
	b[20 + 6] = 0xf3, b[20 + 7] = 0xe8; /* seq + 1000 */
	CU_ASSERT_EQUAL(off_csum_finish(&h, b, lb), 0);
	CU_ASSERT_EQUAL(off_pkt_parse(b, lb, true, &tb), OFF_MERGE);
	CU_ASSERT(off_same_flow(&ta, &tb));
	CU_ASSERT(off_can_append(&ta, 1000, &tb));
	/* a longer segment after a shorter one */
	lc = make_tcp(c, false, 0, 1001, 0x10);
	c[20 + 6] = 0xf3, c[20 + 7] = 0xe8;
	CU_ASSERT_EQUAL(off_csum_finish(&h, c, lc), 0);
	CU_ASSERT_EQUAL(off_pkt_parse(c, lc, true, &tc), OFF_MERGE);
	CU_ASSERT(!off_can_append(&ta, 1000, &tc));
	/* another ack number */
	memcpy(c, b, lb);
	c[20 + 11] ^= 1;
	refix(c, lb);
	CU_ASSERT_EQUAL(off_pkt_parse(c, lb, true, &tc), OFF_MERGE);
	CU_ASSERT(!off_can_append(&ta, 1000, &tc));
	/* another TTL */
	memcpy(c, b, lb);
	c[8] = 63;
	c[10] = c[11] = 0;
	uint16_t ck = (uint16_t)~off_csum_fold(off_csum_add(c, 20, 0));
	memcpy(c + 10, &ck, 2);
	CU_ASSERT_EQUAL(off_pkt_parse(c, lb, true, &tc), OFF_MERGE);
	CU_ASSERT(!off_can_append(&ta, 1000, &tc));
	/* another port: another flow */
	memcpy(c, b, lb);
	c[20 + 1] ^= 1;
	refix(c, lb);
	CU_ASSERT_EQUAL(off_pkt_parse(c, lb, true, &tc), OFF_MERGE);
	CU_ASSERT(!off_same_flow(&ta, &tc));
	/* a corrupt payload byte: left to the kernel to drop */
	memcpy(c, b, lb);
	c[100] ^= 0x40;
	CU_ASSERT_EQUAL(off_pkt_parse(c, lb, true, &tc), OFF_ALONE);
	CU_ASSERT(off_same_flow(&ta, &tc));
	/* SYN, RST, no payload, UDP, garbage */
	memcpy(c, b, lb);
	c[20 + 13] = 0x12;
	CU_ASSERT_EQUAL(off_pkt_parse(c, lb, true, &tc), OFF_ALONE);
	c[20 + 13] = 0x14;
	CU_ASSERT_EQUAL(off_pkt_parse(c, lb, true, &tc), OFF_ALONE);
	lc = make_tcp(c, false, 0, 0, 0x10);
	CU_ASSERT_EQUAL(off_pkt_parse(c, lc, true, &tc), OFF_ALONE);
	c[9] = IPPROTO_UDP;
	CU_ASSERT_EQUAL(off_pkt_parse(c, lc, false, &tc), OFF_OTHER);
	CU_ASSERT_EQUAL(off_pkt_parse(c, 19, true, &tc), OFF_OTHER);
	c[0] = 0x45;
	c[2] = 0xff; /* total length beyond the packet */
	CU_ASSERT_EQUAL(off_pkt_parse(c, lc, true, &tc), OFF_OTHER);
}

static CU_TestInfo tests[] = {
	{ "checksum against RFC 1071", test_csum },
	{ "TSO segments and merged back", test_tso },
	{ "USO segments", test_uso },
	{ "partial checksum completed", test_finish },
	{ "what is not merged", test_no_merge },
	CU_TEST_INFO_NULL,
};

const struct unit_suite unit_suite = { "offload", NULL, NULL, tests };
