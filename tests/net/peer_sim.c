/*
 * peer_sim: a misbehaving spoke for the network tests, on libdtls's public API.
 *
 *   peer_sim HOST PORT (--psk-identity ID --psk HEX | --cert F --key F --ca F) [options]
 *
 *   --hold-finished FILE  send the client's last flight only up to its first record
 *                         under the new keys (the Finished); send the rest once FILE
 *                         exists (what a holder of an old key does to outlast a rotation)
 *   --ignore-close        once up, read nothing more (so never answer close_notify)
 *   --send SRC,DST,N,MS   once up, send N IPv4/UDP packets SRC -> DST port 9999, one
 *                         every MS milliseconds, payload "peer_sim K"
 *   --hello-pieces K      send each ClientHello as fragments of K body bytes in a hostile
 *                         order: the last, the first, the last again, then the others
 *                         each overlapping the one before by K/2 (no piece but the
 *                         first holds the start, and the first is too short for the cookie
 *                         when K is small)
 *   --lifetime SECONDS    give up after this long (default 30)
 *
 * Prints one line per event, flushed: HELD, RELEASED, ESTABLISHED, SENT K, ENDED ERR.
 * Exit status: 0 if the handshake completed, 1 if not, 2 on bad usage.
 *
 * The split of a flight reads record headers (13 bytes, length last): a test tool's
 * licence; the daemon never does this.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dtls/dtls.h>

#define REC_HDR 13

static struct {
	int fd;
	const char *hold_file;
	bool holding, held_done, up, ignore_close;
	size_t pieces;
	uint8_t held[DTLS_MAX_DATAGRAM];
	size_t held_len;
	int end_err;
	bool ended;
} g;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void usage(void)
{
	fprintf(stderr, "usage: peer_sim HOST PORT (--psk-identity ID --psk HEX | --cert F "
		"--key F --ca F) [--hold-finished FILE] [--ignore-close] [--send SRC,DST,N,MS] "
		"[--hello-pieces K] [--lifetime S]\n");
	exit(2);
}

/* The offset of the first record of d[0..n) under an epoch above 0, or n. */
static size_t first_encrypted(const uint8_t *d, size_t n)
{
	size_t off = 0;

	while (off + REC_HDR <= n) {
		size_t len = (size_t)d[off + 11] << 8 | d[off + 12];
		if (d[off + 3] | d[off + 4])
			return off;
		off += REC_HDR + len;
	}
	return n;
}

/* One fragment of the ClientHello record d (one record, one message): body bytes
 * [off, off + len). */
static void send_piece(const uint8_t *d, size_t body, size_t off, size_t len)
{
	uint8_t f[REC_HDR + 12 + 2048];

	if (off + len > body)
		len = body - off;
	memcpy(f, d, REC_HDR + 12);
	f[11] = (uint8_t)((12 + len) >> 8), f[12] = (uint8_t)(12 + len);
	f[REC_HDR + 6] = (uint8_t)(off >> 16), f[REC_HDR + 7] = (uint8_t)(off >> 8);
	f[REC_HDR + 8] = (uint8_t)off;
	f[REC_HDR + 9] = (uint8_t)(len >> 16), f[REC_HDR + 10] = (uint8_t)(len >> 8);
	f[REC_HDR + 11] = (uint8_t)len;
	memcpy(f + REC_HDR + 12, d + REC_HDR + 12 + off, len);
	if (send(g.fd, f, REC_HDR + 12 + len, 0) < 0)
		perror("peer_sim: send");
}

/* Whether d is one record holding one whole ClientHello (then sent in pieces). */
static bool send_hello_in_pieces(const uint8_t *d, size_t n)
{
	size_t k = g.pieces, body, m;

	if (!k || n < REC_HDR + 12 || d[0] != 22 || d[REC_HDR] != 1 || n > REC_HDR + 12 + 2048)
		return false;
	body = n - REC_HDR - 12;
	m = (body + k - 1) / k;
	if (m < 3)
		return false;
	send_piece(d, body, (m - 1) * k, k);
	send_piece(d, body, 0, k);
	send_piece(d, body, (m - 1) * k, k);
	for (size_t i = 1; i + 1 < m; i++)
		send_piece(d, body, i * k - k / 2, k + k / 2);
	printf("PIECES %zu\n", m + 1);
	return true;
}

static void cb_send(void *arg, const uint8_t *d, size_t n)
{
	(void)arg;
	if (send_hello_in_pieces(d, n))
		return;
	if (g.hold_file && !g.held_done) {
		size_t cut = first_encrypted(d, n);
		if (cut < n) {
			/* The flight with the Finished: its head now, the rest when told. */
			if (cut && send(g.fd, d, cut, 0) < 0)
				perror("peer_sim: send");
			memcpy(g.held, d + cut, n - cut);
			g.held_len = n - cut;
			g.holding = g.held_done = true;
			printf("HELD\n");
			return;
		}
	}
	if (g.holding)
		return; /* retransmissions wait with the held part */
	if (send(g.fd, d, n, 0) < 0)
		perror("peer_sim: send");
}

static void cb_data(void *arg, const uint8_t *d, size_t n)
{
	(void)arg;
	(void)d;
	(void)n;
}

static void cb_established(void *arg)
{
	(void)arg;
	g.up = true;
	printf("ESTABLISHED\n");
}

static void cb_ended(void *arg, int err)
{
	(void)arg;
	g.ended = true;
	g.end_err = err;
	printf("ENDED %s\n", dtls_strerror(err));
}

static uint16_t ip_sum(const uint8_t *h, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)h[i] << 8 | h[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* An IPv4/UDP packet src -> dst:9999 with payload text (UDP checksum 0: none). */
static size_t udp_packet(uint8_t *p, struct in_addr src, struct in_addr dst, const char *text)
{
	size_t plen = strlen(text), len = 20 + 8 + plen;
	uint16_t sum;

	memset(p, 0, 28);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = 17;
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	sum = ip_sum(p, 20);
	p[10] = (uint8_t)(sum >> 8);
	p[11] = (uint8_t)sum;
	p[20] = 0x30, p[21] = 0x39;           /* source port 12345 */
	p[22] = 9999 >> 8, p[23] = 9999 & 0xff;
	p[24] = (uint8_t)((8 + plen) >> 8);
	p[25] = (uint8_t)(8 + plen);
	memcpy(p + 28, text, plen);
	return len;
}

static int hex_key(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex);

	if (n % 2 || n / 2 > cap || !n)
		return -1;
	for (size_t i = 0; i < n / 2; i++)
		if (sscanf(hex + 2 * i, "%2hhx", &out[i]) != 1)
			return -1;
	return (int)(n / 2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "psk-identity", 1, 0, 'i' }, { "psk", 1, 0, 'k' },   { "cert", 1, 0, 'c' },
		{ "key", 1, 0, 'K' },          { "ca", 1, 0, 'a' },    { "hold-finished", 1, 0, 'h' },
		{ "ignore-close", 0, 0, 'I' }, { "send", 1, 0, 's' },  { "lifetime", 1, 0, 'l' },
		{ "hello-pieces", 1, 0, 'P' },
		{ 0, 0, 0, 0 },
	};
	const char *id = NULL, *psk = NULL, *cert = NULL, *key = NULL, *ca = NULL, *sendspec = NULL;
	long lifetime = 30, n_send = 0, every_ms = 100, sent = 0;
	struct in_addr src = { 0 }, dst = { 0 };
	char err[256] = "";
	int o;

	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'i': id = optarg; break;
		case 'k': psk = optarg; break;
		case 'c': cert = optarg; break;
		case 'K': key = optarg; break;
		case 'a': ca = optarg; break;
		case 'h': g.hold_file = optarg; break;
		case 'I': g.ignore_close = true; break;
		case 's': sendspec = optarg; break;
		case 'l': lifetime = strtol(optarg, NULL, 10); break;
		case 'P': g.pieces = (size_t)strtoul(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (argc - optind != 2 || (!id != !psk) || (!id && (!cert || !key || !ca)))
		usage();
	if (sendspec) {
		char s[64], d[64];
		if (sscanf(sendspec, "%63[^,],%63[^,],%ld,%ld", s, d, &n_send, &every_ms) != 4 ||
		    inet_pton(AF_INET, s, &src) != 1 || inet_pton(AF_INET, d, &dst) != 1)
			usage();
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (dtls_init() < 0)
		return 2;

	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai;
	if (getaddrinfo(argv[optind], argv[optind + 1], &hints, &ai)) {
		fprintf(stderr, "peer_sim: cannot resolve %s\n", argv[optind]);
		return 2;
	}
	g.fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (g.fd < 0 || connect(g.fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		perror("peer_sim: socket");
		return 2;
	}
	freeaddrinfo(ai);

	struct dtls_config *cfg = dtls_config_new();
	if (!cfg || dtls_config_set_timers(cfg, 1000, 8000, (uint32_t)lifetime * 1000) < 0)
		return 2;
	if (id) {
		uint8_t k[DTLS_MAX_PSK_LEN];
		int kl = hex_key(psk, k, sizeof(k));
		if (kl < 0 || dtls_config_add_psk(cfg, (const uint8_t *)id, strlen(id), k, (size_t)kl) < 0)
			usage();
	} else if (dtls_config_add_local_cert(cfg, cert, key, err, sizeof(err)) < 0 ||
		   dtls_config_add_trusted(cfg, ca, err, sizeof(err)) < 0) {
		fprintf(stderr, "peer_sim: %s\n", err);
		return 2;
	}

	static const struct dtls_callbacks cb = { .send = cb_send, .data = cb_data,
						  .established = cb_established, .ended = cb_ended };
	struct dtls_session *s = dtls_session_new_client(cfg, &cb, NULL);
	uint64_t end = now_ms() + (uint64_t)lifetime * 1000, next_send = 0;
	static uint8_t buf[DTLS_MAX_DATAGRAM];

	if (!s || dtls_session_start(s, now_ms()) < 0)
		return 1;
	while (!g.ended && now_ms() < end) {
		uint64_t now = now_ms(), due = dtls_session_next_timeout(s);
		int wait = 50;
		struct pollfd p = { g.fd, POLLIN, 0 };

		if (due != UINT64_MAX && due > now && due - now < (uint64_t)wait)
			wait = (int)(due - now);
		if (due <= now)
			wait = 0;
		if (poll(&p, 1, wait) > 0 && (p.revents & POLLIN)) {
			ssize_t n = recv(g.fd, buf, sizeof(buf), 0);
			if (n > 0 && !(g.up && g.ignore_close))
				(void)!dtls_session_handle(s, buf, (size_t)n, now_ms());
		}
		now = now_ms();
		if (!g.ended && dtls_session_next_timeout(s) <= now)
			(void)!dtls_session_timeout(s, now);
		if (g.holding && access(g.hold_file, F_OK) == 0) {
			g.holding = false;
			if (send(g.fd, g.held, g.held_len, 0) < 0)
				perror("peer_sim: send");
			printf("RELEASED\n");
		}
		if (g.up && !g.ended && sent < n_send && now >= next_send) {
			char text[32];
			uint8_t *pkt = buf + DTLS_HEADROOM, *rec;
			size_t rec_len;
			snprintf(text, sizeof(text), "peer_sim %ld", sent + 1);
			size_t len = udp_packet(pkt, src, dst, text);
			if (dtls_session_seal(s, pkt, len, &rec, &rec_len) == 0 &&
			    send(g.fd, rec, rec_len, 0) >= 0)
				printf("SENT %ld\n", ++sent);
			next_send = now + (uint64_t)every_ms;
		}
	}
	bool up = g.up;
	dtls_session_free(s);
	dtls_config_unref(cfg);
	close(g.fd);
	return up ? 0 : 1;
}
