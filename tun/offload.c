/* TUN offloads in userspace: virtio-net headers, segmentation, checksums, coalescing. */
#include <netinet/in.h>
#include <string.h>

#include "tun/offload.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80
#define MERGED_MAX 65535 /* IP length of a merged packet */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void off_vnet_parse(const uint8_t raw[OFF_VNET_HDR_LEN], struct off_vnet *h)
{
	h->flags = raw[0];
	h->gso_type = raw[1];
	h->hdr_len = le16(raw + 2);
	h->gso_size = le16(raw + 4);
	h->csum_start = le16(raw + 6);
	h->csum_offset = le16(raw + 8);
}

void off_vnet_write(uint8_t raw[OFF_VNET_HDR_LEN], const struct off_vnet *h)
{
	raw[0] = h->flags;
	raw[1] = h->gso_type;
	put_le16(raw + 2, h->hdr_len);
	put_le16(raw + 4, h->gso_size);
	put_le16(raw + 6, h->csum_start);
	put_le16(raw + 8, h->csum_offset);
}

/* ---- checksums ---- */

uint64_t off_csum_add(const void *p, size_t n, uint64_t sum)
{
	const uint8_t *b = p;

	/* Host-order 32-bit halves of 64-bit words: no carries to track, and 64 KiB of
	 * them cannot overflow 64 bits. */
	while (n >= 32) {
		uint64_t v[4];
		memcpy(v, b, 32);
		sum += (v[0] & 0xffffffffu) + (v[0] >> 32) + (v[1] & 0xffffffffu) + (v[1] >> 32) +
		       (v[2] & 0xffffffffu) + (v[2] >> 32) + (v[3] & 0xffffffffu) + (v[3] >> 32);
		b += 32;
		n -= 32;
	}
	while (n >= 4) {
		uint32_t v;
		memcpy(&v, b, 4);
		sum += v;
		b += 4;
		n -= 4;
	}
	if (n >= 2) {
		uint16_t v;
		memcpy(&v, b, 2);
		sum += v;
		b += 2;
		n -= 2;
	}
	if (n) {
		/* The last odd byte, padded with a zero byte after it, in host order. */
		uint8_t pad[2] = { b[0], 0 };
		uint16_t v;
		memcpy(&v, pad, 2);
		sum += v;
	}
	return sum;
}

/* memcpy(dst, src, n) and off_csum_add(src, n, sum) in one pass. */
static uint64_t csum_copy(uint8_t *dst, const uint8_t *src, size_t n, uint64_t sum)
{
	while (n >= 32) {
		uint64_t v[4];
		memcpy(v, src, 32);
		memcpy(dst, v, 32);
		sum += (v[0] & 0xffffffffu) + (v[0] >> 32) + (v[1] & 0xffffffffu) + (v[1] >> 32) +
		       (v[2] & 0xffffffffu) + (v[2] >> 32) + (v[3] & 0xffffffffu) + (v[3] >> 32);
		src += 32;
		dst += 32;
		n -= 32;
	}
	memcpy(dst, src, n);
	return off_csum_add(src, n, sum);
}

uint16_t off_csum_fold(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

uint64_t off_csum_pseudo(const uint8_t *ip, bool v6, uint8_t proto, size_t l4_len)
{
	uint8_t tail[8] = { 0 };

	if (!v6) {
		tail[1] = proto;
		put16(tail + 2, (uint16_t)l4_len);
		return off_csum_add(tail, 4, off_csum_add(ip + 12, 8, 0));
	}
	put32(tail, (uint32_t)l4_len);
	tail[7] = proto;
	return off_csum_add(tail, 8, off_csum_add(ip + 8, 32, 0));
}

/* The checksum to store: inverted, and 0 sent as 0xffff (the same number in one's
 * complement; for UDP a 0 would mean "no checksum"). */
static void store_csum(uint8_t *field, uint64_t sum)
{
	uint16_t c = (uint16_t)~off_csum_fold(sum);

	if (!c)
		c = 0xffff;
	memcpy(field, &c, 2);
}

static bool csum_ok(uint64_t sum)
{
	return off_csum_fold(sum) == 0xffff;
}

/* ---- from the TUN device ---- */

int off_csum_finish(const struct off_vnet *h, uint8_t *pkt, size_t len)
{
	size_t start = h->csum_start, at = start + h->csum_offset;

	if (start >= len || at + 2 > len)
		return -1;
	store_csum(pkt + at, off_csum_add(pkt + start, len - start, 0));
	return 0;
}

int off_super_parse(const struct off_vnet *h, const uint8_t *pkt, size_t len,
		    struct off_super *s)
{
	uint8_t gso = h->gso_type & (uint8_t)~OFF_GSO_ECN;
	unsigned v;

	memset(s, 0, sizeof(*s));
	if (len < 20 || h->gso_size == 0)
		return -1;
	v = pkt[0] >> 4;
	if (v == 4) {
		unsigned ihl = (pkt[0] & 15u) * 4;
		if (ihl < 20 || len < ihl || get16(pkt + 2) != len || (get16(pkt + 6) & 0x3fff))
			return -1;
		s->ip_len = (uint16_t)ihl;
		s->proto = pkt[9];
	} else if (v == 6) {
		if (len < 40 || (size_t)get16(pkt + 4) + 40 != len)
			return -1;
		s->ip_len = 40;
		s->proto = pkt[6];
		s->v6 = true;
	} else {
		return -1;
	}
	switch (gso) {
	case OFF_GSO_TCPV4:
		if (s->v6 || s->proto != IPPROTO_TCP)
			return -1;
		break;
	case OFF_GSO_TCPV6:
		if (!s->v6 || s->proto != IPPROTO_TCP)
			return -1;
		break;
	case OFF_GSO_UDP_L4:
		if (s->proto != IPPROTO_UDP)
			return -1;
		break;
	default:
		return -1;
	}
	if (s->proto == IPPROTO_TCP) {
		unsigned doff;
		if (len < (size_t)s->ip_len + 20)
			return -1;
		doff = (pkt[s->ip_len + 12] >> 4) * 4u;
		if (doff < 20 || (size_t)s->ip_len + doff > len)
			return -1;
		s->hdr_len = (uint16_t)(s->ip_len + doff);
	} else {
		if (len < (size_t)s->ip_len + 8)
			return -1;
		s->hdr_len = (uint16_t)(s->ip_len + 8);
	}
	s->seg_size = h->gso_size;
	s->payload = len - s->hdr_len;
	s->n_segs = s->payload ? (s->payload + s->seg_size - 1) / s->seg_size : 1;
	return 0;
}

size_t off_super_seg_len(const struct off_super *s, size_t i)
{
	size_t off = i * s->seg_size, left = s->payload > off ? s->payload - off : 0;

	return s->hdr_len + (left < s->seg_size ? left : s->seg_size);
}

size_t off_super_segment(const struct off_super *s, const uint8_t *pkt, size_t i, uint8_t *out)
{
	size_t off = i * s->seg_size, seg_len = off_super_seg_len(s, i);
	size_t l4_len = seg_len - s->ip_len;
	uint8_t *l4 = out + s->ip_len;

	/* The payload is copied and summed in one pass; the L4 header is summed once it is
	 * final (its length is even, so the two sums add up). */
	memcpy(out, pkt, s->hdr_len);
	uint64_t psum = csum_copy(out + s->hdr_len, pkt + s->hdr_len + off, seg_len - s->hdr_len, 0);
	if (!s->v6) {
		put16(out + 2, (uint16_t)seg_len);
		put16(out + 4, (uint16_t)(get16(pkt + 4) + i));
		memset(out + 10, 0, 2);
		store_csum(out + 10, off_csum_add(out, s->ip_len, 0));
	} else {
		put16(out + 4, (uint16_t)(seg_len - 40));
	}
	if (s->proto == IPPROTO_TCP) {
		uint8_t flags = l4[13];
		put32(l4 + 4, get32(pkt + s->ip_len + 4) + (uint32_t)off);
		if (i > 0)
			flags &= (uint8_t)~TCP_CWR;
		if (i + 1 < s->n_segs)
			flags &= (uint8_t)~(TCP_FIN | TCP_PSH);
		l4[13] = flags;
		memset(l4 + 16, 0, 2);
		store_csum(l4 + 16, off_csum_pseudo(out, s->v6, IPPROTO_TCP, l4_len) +
					    off_csum_add(l4, s->hdr_len - s->ip_len, psum));
	} else {
		put16(l4 + 4, (uint16_t)l4_len);
		memset(l4 + 6, 0, 2);
		store_csum(l4 + 6, off_csum_pseudo(out, s->v6, IPPROTO_UDP, l4_len) +
					   off_csum_add(l4, s->hdr_len - s->ip_len, psum));
	}
	return seg_len;
}

/* ---- towards the TUN device ---- */

enum off_kind off_pkt_parse(uint8_t *pkt, size_t len, bool udp, struct off_pkt *t)
{
	size_t l4_len;

	memset(t, 0, sizeof(*t));
	t->pkt = pkt;
	t->len = len;
	t->kind = OFF_OTHER;
	if (len < 20)
		return OFF_OTHER;
	if (pkt[0] >> 4 == 4) {
		unsigned ihl = (pkt[0] & 15u) * 4;
		if (ihl < 20 || len < ihl || get16(pkt + 2) != len || (get16(pkt + 6) & 0x3fff))
			return OFF_OTHER;
		t->ip_len = (uint16_t)ihl;
		t->proto = pkt[9];
	} else if (pkt[0] >> 4 == 6) {
		if (len < 40 || (size_t)get16(pkt + 4) + 40 != len)
			return OFF_OTHER;
		t->ip_len = 40;
		t->proto = pkt[6];
		t->v6 = true;
	} else {
		return OFF_OTHER;
	}
	l4_len = len - t->ip_len;
	if (t->proto == IPPROTO_TCP) {
		unsigned doff;
		if (l4_len < 20)
			return OFF_OTHER;
		doff = (pkt[t->ip_len + 12] >> 4) * 4u;
		if (doff < 20 || doff > l4_len)
			return OFF_OTHER;
		t->hdr_len = (uint16_t)(t->ip_len + doff);
		t->seq = get32(pkt + t->ip_len + 4);
		t->flags = pkt[t->ip_len + 13];
		t->kind = OFF_ALONE;
		if (!(t->flags & TCP_ACK) || (t->flags & (uint8_t)~(TCP_ACK | TCP_PSH)))
			return OFF_ALONE;
	} else if (t->proto == IPPROTO_UDP && udp) {
		if (l4_len < 8 || get16(pkt + t->ip_len + 4) != l4_len)
			return OFF_OTHER;
		t->hdr_len = (uint16_t)(t->ip_len + 8);
		t->kind = OFF_ALONE;
	} else {
		return OFF_OTHER;
	}
	if ((!t->v6 && t->ip_len != 20) || len == t->hdr_len)
		return OFF_ALONE;
	if (!t->v6 && !csum_ok(off_csum_add(pkt, 20, 0)))
		return OFF_ALONE;
	/* A UDP checksum of 0 over IPv4 is "none": nothing to check. */
	if (!(t->proto == IPPROTO_UDP && !t->v6 && !get16(pkt + 26)) &&
	    !csum_ok(off_csum_pseudo(pkt, t->v6, t->proto, l4_len) +
		     off_csum_add(pkt + t->ip_len, l4_len, 0)))
		return OFF_ALONE;
	t->kind = OFF_MERGE;
	return OFF_MERGE;
}

bool off_same_flow(const struct off_pkt *a, const struct off_pkt *b)
{
	if (a->v6 != b->v6 || a->proto != b->proto ||
	    memcmp(a->pkt + a->ip_len, b->pkt + b->ip_len, 4))
		return false;
	return a->v6 ? !memcmp(a->pkt + 8, b->pkt + 8, 32) : !memcmp(a->pkt + 12, b->pkt + 12, 8);
}

bool off_can_append(const struct off_pkt *first, size_t payload, const struct off_pkt *next)
{
	const uint8_t *a = first->pkt, *b = next->pkt;
	size_t seg = first->len - first->hdr_len, nseg = next->len - next->hdr_len;

	if (next->kind != OFF_MERGE || first->kind != OFF_MERGE || next->proto != first->proto ||
	    next->hdr_len != first->hdr_len || nseg > seg ||
	    first->hdr_len + payload + nseg > MERGED_MAX)
		return false;
	if (!first->v6) {
		/* TOS, fragment flags, TTL */
		if (a[1] != b[1] || a[6] != b[6] || a[7] != b[7] || a[8] != b[8])
			return false;
	} else if (memcmp(a, b, 4) || a[7] != b[7]) { /* class, flow label, hop limit */
		return false;
	}
	if (first->proto == IPPROTO_UDP)
		return true;
	if (next->seq != first->seq + (uint32_t)payload)
		return false;
	a += first->ip_len;
	b += next->ip_len;
	/* the ack number; the flags but PSH; the options */
	return !memcmp(a + 8, b + 8, 4) && (a[13] & (uint8_t)~TCP_PSH) == (b[13] & (uint8_t)~TCP_PSH) &&
	       !memcmp(a + 20, b + 20, first->hdr_len - first->ip_len - 20u);
}

void off_merge_finish(struct off_pkt *first, size_t payload, const struct off_pkt *last,
		      uint8_t vnet[OFF_VNET_HDR_LEN], uint8_t *save)
{
	uint8_t *pkt = first->pkt, *l4 = pkt + first->ip_len;
	size_t total = first->hdr_len + payload, l4_len = total - first->ip_len;
	bool tcp = first->proto == IPPROTO_TCP;
	uint16_t partial;
	struct off_vnet h = {
		.flags = OFF_F_NEEDS_CSUM,
		.gso_type = !tcp ? OFF_GSO_UDP_L4 : first->v6 ? OFF_GSO_TCPV6 : OFF_GSO_TCPV4,
		.hdr_len = first->hdr_len,
		.gso_size = (uint16_t)(first->len - first->hdr_len),
		.csum_start = first->ip_len,
		.csum_offset = tcp ? 16 : 6,
	};

	memcpy(save, pkt, first->hdr_len);
	if (!first->v6) {
		put16(pkt + 2, (uint16_t)total);
		memset(pkt + 10, 0, 2);
		store_csum(pkt + 10, off_csum_add(pkt, 20, 0));
	} else {
		put16(pkt + 4, (uint16_t)(total - 40));
	}
	if (tcp) {
		memcpy(l4 + 14, last->pkt + last->ip_len + 14, 2);
		l4[13] |= last->flags & TCP_PSH;
	} else {
		put16(l4 + 4, (uint16_t)l4_len);
	}
	partial = off_csum_fold(off_csum_pseudo(pkt, first->v6, first->proto, l4_len));
	memcpy(l4 + h.csum_offset, &partial, 2);
	off_vnet_write(vnet, &h);
}

void off_merge_undo(struct off_pkt *first, const uint8_t *save)
{
	memcpy(first->pkt, save, first->hdr_len);
}
