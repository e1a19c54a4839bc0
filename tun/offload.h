/*
 * TUN offloads in userspace: the virtio-net header that a TUN queue opened with
 * IFF_VNET_HDR puts before every packet, segmentation of the TCP (TSO) and UDP (USO)
 * super-packets the kernel hands us once TUNSETOFFLOAD allowed them, completion of
 * checksums the kernel left partial (TUN_F_CSUM), and the reverse: coalescing
 * consecutive TCP segments of one flow into one super-packet for a single write
 * (what GRO does in a NIC driver).
 *
 * Pure functions on packet bytes: no I/O, no allocation, no locks. Untrusted input
 * (a packet from the kernel, a decrypted packet from a peer) is bounds-checked here;
 * a function that cannot make sense of a packet says so and leaves it alone.
 *
 * Checksums are the Internet checksum (RFC 1071), computed in host byte order on
 * 32-bit words and stored back in memory order (the sum is byte-order independent).
 */
#ifndef DTLSGW_TUN_OFFLOAD_H
#define DTLSGW_TUN_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OFF_VNET_HDR_LEN 10 /* struct virtio_net_hdr, without num_buffers */

/* virtio_net_hdr.flags / gso_type (linux/virtio_net.h) */
#define OFF_F_NEEDS_CSUM 1
#define OFF_F_DATA_VALID 2
#define OFF_GSO_NONE 0
#define OFF_GSO_TCPV4 1
#define OFF_GSO_TCPV6 4
#define OFF_GSO_UDP_L4 5
#define OFF_GSO_ECN 0x80

/* The header in host byte order (the wire form is little-endian). */
struct off_vnet {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset;
};

void off_vnet_parse(const uint8_t raw[OFF_VNET_HDR_LEN], struct off_vnet *h);
void off_vnet_write(uint8_t raw[OFF_VNET_HDR_LEN], const struct off_vnet *h);

/* ---- checksums ---- */

/* The unfolded one's-complement sum of p[0..n) added to sum. */
uint64_t off_csum_add(const void *p, size_t n, uint64_t sum);
/* Folded to 16 bits (not inverted): what goes into a partial checksum field. */
uint16_t off_csum_fold(uint64_t sum);
/* The pseudo-header sum of an IPv4 (v6 false) or IPv6 packet ip for protocol proto and
 * an L4 length of l4_len. */
uint64_t off_csum_pseudo(const uint8_t *ip, bool v6, uint8_t proto, size_t l4_len);

/* ---- from the TUN device: super-packets and partial checksums ---- */

/*
 * Completes a checksum the kernel left partial (h->flags has OFF_F_NEEDS_CSUM): the
 * field at csum_start + csum_offset holds the pseudo-header sum; the sum from
 * csum_start to the end goes in, inverted. 0, or -1 if the offsets do not fit len.
 */
int off_csum_finish(const struct off_vnet *h, uint8_t *pkt, size_t len);

/* A super-packet read from TUN, parsed. */
struct off_super {
	uint8_t proto;        /* IPPROTO_TCP or IPPROTO_UDP */
	bool v6;
	uint16_t ip_len;      /* L4 header offset */
	uint16_t hdr_len;     /* IP + L4 header */
	uint16_t seg_size;    /* payload bytes per segment (the last may be shorter) */
	size_t payload;       /* payload bytes in all */
	size_t n_segs;
};

/*
 * Parses a packet whose header h has a gso_type other than NONE. Only what the kernel
 * hands a TUN device with TSO/USO is accepted: IPv4 (options allowed) or IPv6 without
 * extension headers, TCP or UDP matching gso_type, a gso_size of at least 1. 0, or -1
 * (drop it).
 */
int off_super_parse(const struct off_vnet *h, const uint8_t *pkt, size_t len,
		    struct off_super *s);
/* The size of segment i (headers included). */
size_t off_super_seg_len(const struct off_super *s, size_t i);
/*
 * Writes segment i (< s->n_segs) of pkt to out (room for off_super_seg_len(s, i)
 * bytes): the headers with lengths, IPv4 identification (+i) and header checksum, TCP
 * sequence number and flags (CWR on the first only, FIN and PSH on the last only),
 * then the payload; the L4 checksum complete. Returns the segment's length.
 */
size_t off_super_segment(const struct off_super *s, const uint8_t *pkt, size_t i, uint8_t *out);

/* ---- towards the TUN device: coalescing TCP segments and UDP datagrams ---- */

/* What off_pkt_parse found. */
enum off_kind {
	OFF_OTHER,  /* not a flow we merge: independent of every flow */
	OFF_ALONE,  /* TCP or UDP of a flow, but not to be merged (flags, no payload, IP
		     * options, a bad checksum) */
	OFF_MERGE,  /* may start or extend a merged packet */
};

struct off_pkt {
	uint8_t *pkt;
	size_t len;
	uint16_t ip_len, hdr_len; /* L4 offset; IP + L4 header */
	uint32_t seq;             /* TCP */
	uint8_t flags;            /* TCP */
	uint8_t proto;            /* IPPROTO_TCP or IPPROTO_UDP (kind != OFF_OTHER) */
	bool v6;
	uint8_t kind;             /* enum off_kind */
};

/* Classifies pkt (an IP packet about to be written to TUN): TCP always, UDP only if
 * udp (the device takes UDP super-packets: TUN_OFF_USO). For OFF_MERGE the IPv4
 * header checksum and the L4 checksum have been verified (a UDP datagram over IPv4
 * without one is taken as it is). */
enum off_kind off_pkt_parse(uint8_t *pkt, size_t len, bool udp, struct off_pkt *t);
/* Whether a and b (both not OFF_OTHER) belong to the same flow (direction included). */
bool off_same_flow(const struct off_pkt *a, const struct off_pkt *b);
/*
 * Whether next (OFF_MERGE, same flow) may be appended to the merged packet that starts
 * with first and holds `payload` bytes of payload so far (first's included): equal
 * IP headers but for lengths, IPv4 id and checksum; for TCP equal headers but for
 * window and PSH, and consecutive sequence numbers; a payload no larger than first's;
 * the result within 64 KiB. (The caller stops after a shorter one.)
 */
bool off_can_append(const struct off_pkt *first, size_t payload, const struct off_pkt *next);
/*
 * Turns first's headers into those of the merged packet of `payload` payload bytes
 * whose last segment is last: IP length (and IPv4 header checksum); for TCP the window
 * of the last segment and PSH if the last had it; for UDP the length; the partial L4
 * checksum (pseudo-header); and writes the virtio-net header that asks the kernel to
 * take it as TSO/USO with segments of first's size. save (at least first->hdr_len
 * bytes) receives first's headers as they were, for off_merge_undo.
 */
void off_merge_finish(struct off_pkt *first, size_t payload, const struct off_pkt *last,
		      uint8_t vnet[OFF_VNET_HDR_LEN], uint8_t *save);
/* Puts first's saved headers back (the kernel refused the merged packet). */
void off_merge_undo(struct off_pkt *first, const uint8_t *save);

#endif
