/*
 * halfopen_flood: a bounded flood of half-open DTLS handshakes from spoofed IPv4
 * addresses and ports, for tests/net/halfopen.sh.
 *
 *   halfopen_flood --iface IF --dst IP:PORT --src-net A.B.C.D --addrs N --count C
 *                  [--rate R] [--pin-reassembly] [--linger S]
 *
 * Run as root in a test namespace whose interface IF leads to the server, the server
 * routing the source net back through IF: its answers are read here from a packet
 * socket (nothing owns those addresses). Handshake i (0..C-1) comes from address
 * src-net + 1 + i % N and port 1024 + i / N. Each sends a ClientHello, answers the
 * HelloVerifyRequest with the ClientHello carrying its cookie (the server then keeps a
 * session for it), and goes no further: a half-open handshake. With --pin-reassembly it
 * also sends the first 64 bytes of four handshake messages that each claim 32 KiB, what
 * a server that reserves the declared length pays dearly for.
 *
 * With --partial, each sender instead sends the first 30 bytes of a ClientHello that
 * claims 300 (too few to hold the fields a cookie covers) and nothing more: what fills
 * an area that puts fragmented hellos together.
 *
 * At the end (all sent, then --linger seconds, default 1), "KEY value" lines:
 * SENT_HELLO, HVR (cookies received), SENT_COOKIE, SERVER_HELLO (sessions the server
 * made: their ServerHello came back), ALERTS, SECONDS.
 * Exit 0 if it ran, 2 on bad usage.
 *
 * A test tool: it builds and reads DTLS bytes by offset; the daemon never does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int raw_fd, pkt_fd;
static struct sockaddr_in dst;
static uint32_t src_base;
static long n_addrs = 1, count, rate = 10000;
static bool pin, partial;
static unsigned long sent_hello, hvr, sent_cookie, server_hello, alerts;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static void put24(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 16), put16(p + 1, v); }

/* The random of handshake (addr, port): the same in both ClientHellos, so the cookie
 * (which covers it) fits. */
static void hello_random(uint32_t addr, uint16_t port, uint8_t out[32])
{
	uint64_t x = ((uint64_t)addr << 16 | port) * 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < 32; i++) {
		x ^= x >> 29, x *= 0xbf58476d1ce4e5b9ull, x ^= x >> 32;
		out[i] = (uint8_t)x;
	}
}

/* Sends the UDP payload d[0..n) from addr:port (network order) to the server. */
static void send_from(uint32_t addr, uint16_t port, const uint8_t *d, size_t n)
{
	uint8_t pkt[2048];

	if (n + 28 > sizeof(pkt))
		return;
	memset(pkt, 0, 28);
	pkt[0] = 0x45;
	put16(pkt + 2, (unsigned)(n + 28));
	pkt[8] = 64;
	pkt[9] = IPPROTO_UDP;
	memcpy(pkt + 12, &addr, 4);
	memcpy(pkt + 16, &dst.sin_addr, 4);
	memcpy(pkt + 20, &port, 2);
	memcpy(pkt + 22, &dst.sin_port, 2);
	put16(pkt + 24, (unsigned)(n + 8));
	memcpy(pkt + 28, d, n);
	/* IP checksum and UDP checksum 0 (none): the kernel fills in the former. */
	for (int tries = 0; tries < 100; tries++) {
		if (sendto(raw_fd, pkt, n + 28, 0, (struct sockaddr *)&dst, sizeof(dst)) >= 0)
			return;
		if (errno != ENOBUFS && errno != EAGAIN)
			return;
		usleep(200);
	}
}

/* A ClientHello record (message_seq 0 without a cookie, 1 with one) into out. */
static size_t client_hello(uint8_t *out, uint32_t addr, uint16_t port, const uint8_t *cookie,
			   size_t cookie_len)
{
	static const uint16_t suites[] = { 0xd001, 0x00a8, 0xccac, 0xc02b, 0xc02f };
	uint8_t *b = out + 25;
	size_t o = 0;

	put16(b + o, 0xfefd), o += 2;
	hello_random(addr, port, b + o), o += 32;
	b[o++] = 0; /* session id */
	b[o++] = (uint8_t)cookie_len;
	memcpy(b + o, cookie, cookie_len), o += cookie_len;
	put16(b + o, sizeof(suites)), o += 2;
	for (size_t i = 0; i < sizeof(suites) / 2; i++)
		put16(b + o, suites[i]), o += 2;
	b[o++] = 1, b[o++] = 0; /* compression: null */
	/* extensions: supported_groups (x25519, secp256r1), ec_point_formats,
	 * signature_algorithms (ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256) */
	static const uint8_t ext[] = { 0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17,
				       0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,
				       0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x03, 0x08, 0x04,
				       0x04, 0x01 };
	put16(b + o, sizeof(ext)), o += 2;
	memcpy(b + o, ext, sizeof(ext)), o += sizeof(ext);

	out[0] = 22, put16(out + 1, 0xfefd), put16(out + 3, 0);
	memset(out + 5, 0, 6);
	out[10] = cookie_len ? 1 : 0;
	put16(out + 11, (unsigned)(12 + o));
	out[13] = 1, put24(out + 14, (unsigned)o), put16(out + 17, cookie_len ? 1 : 0);
	put24(out + 19, 0), put24(out + 22, (unsigned)o);
	return 25 + o;
}

/* Four records, each the first 64 bytes of a handshake message claiming 32 KiB. */
static size_t pinning_fragments(uint8_t *out)
{
	size_t o = 0;

	for (unsigned k = 0; k < 4; k++) {
		uint8_t *r = out + o;
		r[0] = 22, put16(r + 1, 0xfefd), put16(r + 3, 0);
		memset(r + 5, 0, 6);
		r[10] = (uint8_t)(2 + k);
		put16(r + 11, 12 + 64);
		r[13] = k == 0 ? 11 : 16; /* certificate, client_key_exchange */
		put24(r + 14, 32768), put16(r + 17, 2 + k), put24(r + 19, 0), put24(r + 22, 64);
		memset(r + 25, 0xab, 64);
		o += 25 + 64;
	}
	return o;
}

/* One frame from the packet socket: the server's answer to one of ours? */
static void on_frame(const uint8_t *f, size_t n)
{
	uint8_t out[512];

	if (n < 14 + 20 + 8 + 13 || f[12] != 0x08 || f[13] != 0x00)
		return;
	const uint8_t *ip = f + 14;
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	if (ip[9] != IPPROTO_UDP || memcmp(ip + 12, &dst.sin_addr, 4) || n < 14 + ihl + 8 + 13)
		return;
	const uint8_t *udp = ip + ihl, *d = udp + 8;
	size_t dn = n - 14 - ihl - 8;
	if (memcmp(udp, &dst.sin_port, 2))
		return;
	uint32_t addr;
	uint16_t port;
	memcpy(&addr, ip + 16, 4);
	memcpy(&port, udp + 2, 2);
	if (d[0] == 21) {
		alerts++;
		return;
	}
	if (d[0] != 22 || dn < 13 + 12)
		return;
	if (d[13] == 3 && dn >= 13 + 12 + 3 && !partial) { /* hello_verify_request */
		size_t clen = d[13 + 12 + 2];
		if (dn < 13 + 12 + 3 + clen || clen > 255)
			return;
		hvr++;
		size_t len = client_hello(out, addr, port, d + 13 + 12 + 3, clen);
		send_from(addr, port, out, len);
		sent_cookie++;
		if (pin) {
			static uint8_t frags[4 * 89];
			size_t fl = pinning_fragments(frags);
			send_from(addr, port, frags, fl);
		}
	} else if (d[13] == 2) { /* server_hello */
		server_hello++;
	}
}

static void drain(int timeout_ms)
{
	static uint8_t f[65536];
	struct pollfd p = { pkt_fd, POLLIN, 0 };

	while (poll(&p, 1, timeout_ms) > 0) {
		ssize_t n = recv(pkt_fd, f, sizeof(f), MSG_DONTWAIT);
		if (n <= 0)
			break;
		on_frame(f, (size_t)n);
		timeout_ms = 0;
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "iface", 1, 0, 'i' }, { "dst", 1, 0, 'd' },   { "src-net", 1, 0, 's' },
		{ "addrs", 1, 0, 'a' }, { "count", 1, 0, 'c' }, { "rate", 1, 0, 'r' },
		{ "pin-reassembly", 0, 0, 'p' }, { "linger", 1, 0, 'l' }, { "partial", 0, 0, 'P' },
		{ 0, 0, 0, 0 },
	};
	const char *iface = NULL, *dsts = NULL, *srcs = NULL;
	double linger = 1;
	int o;

	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'i': iface = optarg; break;
		case 'd': dsts = optarg; break;
		case 's': srcs = optarg; break;
		case 'a': n_addrs = strtol(optarg, NULL, 10); break;
		case 'c': count = strtol(optarg, NULL, 10); break;
		case 'r': rate = strtol(optarg, NULL, 10); break;
		case 'p': pin = true; break;
		case 'P': partial = true; break;
		case 'l': linger = strtod(optarg, NULL); break;
		default: return 2;
		}
	}
	char host[64];
	unsigned port;
	struct in_addr base;
	if (!iface || !dsts || !srcs || sscanf(dsts, "%63[^:]:%u", host, &port) != 2 ||
	    inet_pton(AF_INET, host, &dst.sin_addr) != 1 || inet_pton(AF_INET, srcs, &base) != 1 ||
	    n_addrs < 1 || n_addrs > 65000 || count < 1 || count > 1000000 || rate < 1 ||
	    count / n_addrs > 64000) {
		fprintf(stderr, "usage: halfopen_flood --iface IF --dst IP:PORT --src-net A.B.C.D "
			"--addrs N --count C [--rate R] [--pin-reassembly] [--linger S]\n");
		return 2;
	}
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)port);
	src_base = ntohl(base.s_addr);

	raw_fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	pkt_fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
				  .sll_ifindex = (int)if_nametoindex(iface) };
	int big = 32 << 20;
	if (raw_fd < 0 || pkt_fd < 0 || !ll.sll_ifindex ||
	    bind(pkt_fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
		perror("halfopen_flood: sockets");
		return 2;
	}
	setsockopt(pkt_fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));

	uint64_t t0 = now_us();
	uint8_t out[512];
	for (long i = 0; i < count; i++) {
		uint32_t a = htonl(src_base + 1 + (uint32_t)(i % n_addrs));
		uint16_t p = htons((uint16_t)(1024 + i / n_addrs));
		size_t len = client_hello(out, a, p, NULL, 0);
		if (partial) {
			/* the first 30 body bytes of a hello that claims 300 */
			put16(out + 11, 12 + 30);
			put24(out + 14, 300);
			put24(out + 22, 30);
			len = 25 + 30;
		}
		send_from(a, p, out, len);
		sent_hello++;
		/* pace: hello i goes out at t0 + i / rate */
		uint64_t due = t0 + (uint64_t)i * 1000000 / (uint64_t)rate;
		drain(0);
		while (now_us() + 1000 <= due)
			drain(1);
	}
	uint64_t end = now_us() + (uint64_t)(linger * 1e6);
	while (now_us() < end)
		drain(50);
	printf("SENT_HELLO %lu\nHVR %lu\nSENT_COOKIE %lu\nSERVER_HELLO %lu\nALERTS %lu\nSECONDS %.2f\n",
	       sent_hello, hvr, sent_cookie, server_hello, alerts, (double)(now_us() - t0) / 1e6);
	return 0;
}
